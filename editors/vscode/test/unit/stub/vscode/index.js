// A stand-in for the `vscode` module, enough for src/diagnostics.ts and
// src/slices.ts under plain node (test/unit/run.js): value classes, and
// diagnostic collections that record what was set.
'use strict';
class Position {
  constructor(line, character) {
    this.line = line;
    this.character = character;
  }
}
class Range {
  constructor(sl, sc, el, ec) {
    this.start = new Position(sl, sc);
    this.end = new Position(el, ec);
  }
}
class Uri {
  constructor(s) {
    this.s = s;
  }
  static parse(s) {
    Uri.parsed++;
    return new Uri(s);
  }
  toString() {
    return this.s;
  }
}
Uri.parsed = 0;
class Location {
  constructor(uri, range) {
    this.uri = uri;
    this.range = range;
  }
}
class Diagnostic {
  constructor(range, message, severity) {
    this.range = range;
    this.message = message;
    this.severity = severity ?? 0;
  }
}
class DiagnosticRelatedInformation {
  constructor(location, message) {
    this.location = location;
    this.message = message;
  }
}
const DiagnosticSeverity = { Error: 0, Warning: 1, Information: 2, Hint: 3 };
const DiagnosticTag = { Unnecessary: 1, Deprecated: 2 };
/** Every collection made, with the calls made on it: [op, uri, count]. */
const collections = [];
const languages = {
  createDiagnosticCollection(name) {
    const entries = new Map();
    const c = {
      name,
      calls: [],
      entries,
      set(uri, list) {
        c.calls.push(['set', uri.toString(), list.length]);
        entries.set(uri.toString(), list);
      },
      delete(uri) {
        c.calls.push(['delete', uri.toString(), 0]);
        entries.delete(uri.toString());
      },
      dispose() {
        c.disposed = true;
        entries.clear();
      },
    };
    collections.push(c);
    return c;
  },
};
module.exports = { Position, Range, Uri, Location, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, DiagnosticTag, languages, collections };
