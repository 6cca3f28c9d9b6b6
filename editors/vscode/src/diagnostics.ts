// Pulled diagnostics converted to VS Code's in one synchronous pass.
//
// vscode-languageclient 9 converts a pulled report asynchronously: it yields
// to the event loop every ~15 ms (setImmediate), so whatever else the
// extension host has queued after an edit (VS Code's built-ins scanning the
// 70 000-line document) runs in between, and it parses a fresh Uri for every
// diagnostic's code link and related location, though a catalogue's 1 570
// diagnostics name ~10 distinct links and one file. This does the same
// conversion (the same ProtocolDiagnostic class, so `data` and the code link
// go back to the server unchanged in code action requests) without yielding,
// with one Uri per distinct string.
import * as vscode from 'vscode';
import { ProtocolDiagnostic } from 'vscode-languageclient/lib/common/protocolDiagnostic';
import type { Diagnostic as LspDiagnostic, Range as LspRange } from 'vscode-languageclient/node';

/** Uris parsed once per distinct string (Uri objects are immutable, so sharing them is safe). */
const URI_CACHE_LIMIT = 4096;
const uris = new Map<string, vscode.Uri>();

export function cachedUri(value: string): vscode.Uri {
  let uri = uris.get(value);
  if (uri === undefined) {
    if (uris.size >= URI_CACHE_LIMIT) {
      uris.clear();
    }
    uri = vscode.Uri.parse(value);
    uris.set(value, uri);
  }
  return uri;
}

function range(r: LspRange): vscode.Range {
  return new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
}

/** LSP severities 1–4 (absent or unknown: an error, as the client does). */
const SEVERITY = [vscode.DiagnosticSeverity.Error, vscode.DiagnosticSeverity.Warning, vscode.DiagnosticSeverity.Information, vscode.DiagnosticSeverity.Hint];

function severity(value: number | undefined): vscode.DiagnosticSeverity {
  return value !== undefined && value >= 1 && value <= 4 ? SEVERITY[value - 1] : vscode.DiagnosticSeverity.Error;
}

/** One LSP diagnostic as vscode-languageclient's protocol2CodeConverter.asDiagnostic makes it. */
export function asDiagnostic(d: LspDiagnostic): vscode.Diagnostic {
  const result = new ProtocolDiagnostic(range(d.range), d.message, severity(d.severity), d.data);
  if (typeof d.code === 'string' || typeof d.code === 'number') {
    const href = d.codeDescription?.href;
    result.code = typeof href === 'string' ? { value: d.code, target: cachedUri(href) } : d.code;
  }
  if (d.source) {
    result.source = d.source;
  }
  if (d.relatedInformation) {
    result.relatedInformation = d.relatedInformation.map(
      (info) => new vscode.DiagnosticRelatedInformation(new vscode.Location(cachedUri(info.location.uri), range(info.location.range)), info.message),
    );
  }
  if (Array.isArray(d.tags)) {
    const tags = d.tags.flatMap((t) => (t === 1 ? [vscode.DiagnosticTag.Unnecessary] : t === 2 ? [vscode.DiagnosticTag.Deprecated] : []));
    if (tags.length > 0) {
      result.tags = tags;
    }
  }
  return result;
}

export function asDiagnostics(items: LspDiagnostic[]): vscode.Diagnostic[] {
  const result = new Array<vscode.Diagnostic>(items.length);
  for (let i = 0; i < items.length; i++) {
    result[i] = asDiagnostic(items[i]);
  }
  return result;
}
