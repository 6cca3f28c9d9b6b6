// The diagnostics of open documents in slices of lines, each slice its own
// DiagnosticCollection, set only when its diagnostics changed.
//
// VS Code sends every marker of a collection's file to the window each time
// the collection is set (~440 bytes each: 0.5 MB per pull at 10 000
// products), and the window reads and revives all of them before the problem
// count changes. An edit changes the diagnostics of the product it is in;
// those of the other slices are the same as before (when no line moved), so
// only the edited slice is sent again.
import * as vscode from 'vscode';
import type { Diagnostic as LspDiagnostic } from 'vscode-languageclient/node';
import { asDiagnostic } from './diagnostics';

/** Lines per slice. */
export const SLICE_LINES = 2000;

/** Structural equality of two values parsed from JSON. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) {
    return true;
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return false;
  }
  if (Array.isArray(a) !== Array.isArray(b)) {
    return false;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) {
    return false;
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  return ka.every((k) => sameJson(ra[k], rb[k]));
}

function samePosition(a: { line: number; character: number } | undefined, b: { line: number; character: number } | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.line === b.line && a.character === b.character);
}

/**
 * Equality of two LSP diagnostics as parsed from JSON: the fields one by
 * one (a generic walk took ~12 ms for 888 diagnostics, this well under 1),
 * then the others (related locations, tags, data) generically when present.
 */
export function sameDiagnostic(a: LspDiagnostic, b: LspDiagnostic): boolean {
  if (
    a.message !== b.message ||
    a.code !== b.code ||
    a.severity !== b.severity ||
    a.source !== b.source ||
    !samePosition(a.range?.start, b.range?.start) ||
    !samePosition(a.range?.end, b.range?.end) ||
    a.codeDescription?.href !== b.codeDescription?.href
  ) {
    return false;
  }
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) {
    return false;
  }
  const ra = a as unknown as Record<string, unknown>;
  const rb = b as unknown as Record<string, unknown>;
  for (const k of ka) {
    if (!DIRECT.has(k) && !sameJson(ra[k], rb[k])) {
      return false;
    }
  }
  return true;
}
const DIRECT = new Set(['message', 'code', 'severity', 'source', 'range', 'codeDescription']);

/** (The items a `catalogue/diagnostic` delta keeps are the very objects held: those compare at once.) */
function sameList(a: LspDiagnostic[], b: LspDiagnostic[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i] || sameDiagnostic(x, b[i]));
}

/** The slices of the documents this client holds, per document (URI string). */
export class SlicedDiagnostics {
  private readonly collections: vscode.DiagnosticCollection[] = [];
  /**
   * Per document (URI string): its Uri, the LSP items as last given to
   * `update` (in the server's order: the base a `catalogue/diagnostic` delta
   * applies to) and those of each slice, and the result id of the report
   * they came from.
   */
  private readonly held = new Map<string, { uri: vscode.Uri; items: readonly LspDiagnostic[]; slices: LspDiagnostic[][]; resultId: string | undefined }>();
  /** How many slices were set by the last update (for tests and the benchmark). */
  lastSet = 0;

  constructor(private readonly name: string) {}

  private collection(i: number): vscode.DiagnosticCollection {
    while (this.collections.length <= i) {
      this.collections.push(vscode.languages.createDiagnosticCollection(`${this.name}#${this.collections.length}`));
    }
    return this.collections[i];
  }

  /** Whether the slices hold `uri`'s diagnostics (then vscode-languageclient's collection is kept empty for it). */
  holds(uri: vscode.Uri): boolean {
    return this.held.has(uri.toString());
  }

  /** The result id of the report the slices of `uri` were last set from. */
  resultId(uri: vscode.Uri): string | undefined {
    return this.held.get(uri.toString())?.resultId;
  }

  /** The LSP items of `uri` as last given to `update`, in the same order (undefined when not held). */
  items(uri: vscode.Uri): readonly LspDiagnostic[] | undefined {
    return this.held.get(uri.toString())?.items;
  }

  /** The documents held, with the result id of what each holds. */
  documents(): { uri: vscode.Uri; resultId: string | undefined }[] {
    return [...this.held.values()].map(({ uri, resultId }) => ({ uri, resultId }));
  }

  /** Sets the slices of `uri` whose items differ from those set before; `resultId` is the report's. */
  update(uri: vscode.Uri, items: readonly LspDiagnostic[], resultId?: string): void {
    const slices: LspDiagnostic[][] = [];
    for (const d of items) {
      const i = Math.max(0, Math.floor((d.range?.start?.line ?? 0) / SLICE_LINES));
      while (slices.length <= i) {
        slices.push([]);
      }
      slices[i].push(d);
    }
    const key = uri.toString();
    const before = this.held.get(key)?.slices ?? [];
    this.lastSet = 0;
    for (let i = 0; i < Math.max(slices.length, before.length); i++) {
      const now = slices[i] ?? [];
      const was = before[i] ?? [];
      if (i < before.length ? sameList(now, was) : now.length === 0) {
        continue;
      }
      if (now.length === 0) {
        this.collection(i).delete(uri);
      } else {
        this.collection(i).set(uri, now.map(asDiagnostic));
      }
      this.lastSet++;
    }
    this.held.set(key, { uri, items, slices, resultId });
  }

  /** Clears every slice and forgets every document (the server stopped); the slices can be set again. */
  dispose(): void {
    for (const c of this.collections) {
      c.dispose();
    }
    this.collections.length = 0;
    this.held.clear();
  }
}
