// Who shows a pulled report: the extension's slices (src/slices.ts) or
// vscode-languageclient's own diagnostic collection.
//
// A document is taken over by the slices ("held") the first time its
// document pull answers while a tab shows it; from then on its diagnostics
// are set in the slices only, from document pulls and from workspace
// reports alike, and the client's collection is kept empty for it: it is
// emptied when the document is taken over and whenever a pull brings new
// diagnostics for it (a `full` report with no items), and told "unchanged"
// otherwise. The server is asked relative to the result id of what the
// slices hold, not the client's (the server's result id is a hash of the
// items: a file closed unsaved comes back to an id the client may have seen).
//
// The workspace pull is sent here (`pullWorkspace`), not by the client:
// vscode-languageclient 9.0.1's `next` for provideWorkspaceDiagnostics takes
// (resultIds, token) and hands every report to the client's own reporter,
// so a middleware cannot filter them.
//
// The document pull is sent here too (`pullDocument`). When the server
// advertises `experimental.catalogueDiagnosticDelta` and the slices hold the
// document, it is `catalogue/diagnostic`, which may answer with what changed
// since the report the slices hold ("delta": the items between a kept head
// and a kept tail of that report's items); the delta is applied to the items
// the slices hold (`applyDelta`) and routed as the full report it makes. A
// delta whose base is not what the slices hold is dropped and the document
// pulled again in full: a partial or guessed list is never shown.
import * as vscode from 'vscode';
import type {
  CancellationToken,
  Diagnostic as LspDiagnostic,
  DocumentDiagnosticReport as LspDocumentReport,
  PreviousResultId as LspPreviousResultId,
  WorkspaceDiagnosticReport as LspWorkspaceReport,
  WorkspaceDiagnosticReportPartialResult as LspWorkspacePartial,
  WorkspaceDocumentDiagnosticReport as LspWorkspaceDocumentReport,
  vsdiag,
} from 'vscode-languageclient/node';
import { asDiagnostics } from './diagnostics';
import type { SlicedDiagnostics } from './slices';

// (vsdiag's enum values, without loading vscode-languageclient here.)
const FULL = 'full' as vsdiag.DocumentDiagnosticReportKind.full;
const UNCHANGED = 'unChanged' as vsdiag.DocumentDiagnosticReportKind.unChanged;

/** The standard document pull and the server's document pull with deltas. */
export const DOCUMENT_PULL = 'textDocument/diagnostic';
export const DELTA_PULL = 'catalogue/diagnostic';

/**
 * A `catalogue/diagnostic` answer of kind "delta": report `resultId`'s items
 * are those of report `previousResultId` (the base) with all but the first
 * `head` and the last `tail` replaced by `items`.
 */
export interface LspDeltaReport {
  kind: 'delta';
  resultId: string;
  previousResultId: string;
  head: number;
  tail: number;
  items: LspDiagnostic[];
}

/** An answer to `catalogue/diagnostic`: as `textDocument/diagnostic`'s, or a delta. */
export type LspDeltaPullReport = LspDocumentReport | LspDeltaReport;

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0;
}

/**
 * The items of the report a delta stands for, from the base the client holds
 * (`base`, the items of report `baseResultId` in the server's order):
 * base[0 .. head] ++ items ++ base[length - tail ..]. Undefined when the
 * delta does not apply to that base: nothing held, another result id, head
 * or tail not a count, or head + tail more than the base has.
 */
export function applyDelta(base: readonly LspDiagnostic[] | undefined, baseResultId: string | undefined, delta: LspDeltaReport): LspDiagnostic[] | undefined {
  const { head, tail, items } = delta;
  if (base === undefined || baseResultId === undefined || baseResultId !== delta.previousResultId || typeof delta.resultId !== 'string') {
    return undefined;
  }
  if (!isCount(head) || !isCount(tail) || head + tail > base.length || !Array.isArray(items)) {
    return undefined;
  }
  return base.slice(0, head).concat(items, base.slice(base.length - tail));
}

/**
 * A `catalogue/diagnostic` answer for `uri` as the report to route: a full
 * one as it is, a delta applied to what the slices hold now (a full report
 * of the items it makes), "unchanged" when it is what they hold. Undefined
 * when it does not apply (the document must be pulled again in full).
 */
export function deltaAsReport(sliced: SlicedDiagnostics | undefined, uri: vscode.Uri, answer: LspDeltaPullReport): LspDocumentReport | undefined {
  if (answer.kind === 'full') {
    return answer;
  }
  const held = sliced?.holds(uri) ? sliced : undefined;
  if (answer.kind === 'unchanged') {
    return held !== undefined && held.resultId(uri) === answer.resultId ? answer : undefined;
  }
  if (answer.kind === 'delta') {
    const items = applyDelta(held?.items(uri), held?.resultId(uri), answer);
    return items === undefined ? undefined : { kind: 'full', resultId: answer.resultId, items };
  }
  return undefined;
}

/** What `pullDocument` needs of the client (a LanguageClient, or a fake in the unit tests). */
export interface DocumentPuller {
  identifier: string | undefined;
  /** Whether the server advertised `experimental.catalogueDiagnosticDelta`. */
  deltas: boolean;
  asProtocolUri(uri: vscode.Uri): string;
  tabs(): Set<string>;
  sliced(): SlicedDiagnostics | undefined;
  send(
    method: typeof DOCUMENT_PULL | typeof DELTA_PULL,
    params: { identifier?: string; textDocument: { uri: string }; previousResultId?: string },
    token: CancellationToken,
  ): Promise<LspDeltaPullReport | null | undefined>;
  /** A failed request (`method`) as the client handles it: a default value, or throws. */
  failed(error: unknown, token: CancellationToken, method: typeof DOCUMENT_PULL | typeof DELTA_PULL): vsdiag.DocumentDiagnosticReport;
}

/**
 * A document pull for `uri` as the client would make it (`clientPrevious`:
 * the previous result id it gives), its answer routed (`routeDocumentReport`).
 * With deltas advertised and the document held: `catalogue/diagnostic`
 * relative to what the slices hold, and, when its answer does not apply to
 * them, `textDocument/diagnostic` with no previous result id. Cancelled (or
 * no answer): an empty report, which the caller does not hand over.
 */
export async function pullDocument(
  c: DocumentPuller,
  uri: vscode.Uri,
  clientPrevious: string | undefined,
  token: CancellationToken,
): Promise<vsdiag.DocumentDiagnosticReport> {
  const empty: vsdiag.DocumentDiagnosticReport = { kind: FULL, items: [] };
  const textDocument = { uri: c.asProtocolUri(uri) };
  const identifier = c.identifier;
  const sliced = c.sliced();
  const deltas = c.deltas && sliced !== undefined && sliced.holds(uri);
  let result: LspDocumentReport | undefined;
  let method: typeof DOCUMENT_PULL | typeof DELTA_PULL = DELTA_PULL;
  try {
    if (deltas) {
      const answer = await c.send(DELTA_PULL, { identifier, textDocument, previousResultId: sliced.resultId(uri) }, token);
      if (answer === undefined || answer === null || token.isCancellationRequested) {
        return empty;
      }
      result = deltaAsReport(c.sliced(), uri, answer);
    }
    if (result === undefined) {
      method = DOCUMENT_PULL;
      const previousResultId = deltas ? undefined : documentPreviousId(sliced, uri, clientPrevious);
      const answer = await c.send(DOCUMENT_PULL, { identifier, textDocument, previousResultId }, token);
      if (answer === undefined || answer === null || token.isCancellationRequested) {
        return empty;
      }
      if (answer.kind === 'delta') {
        throw new Error(`${DOCUMENT_PULL} answered with a delta`);
      }
      result = answer;
    }
  } catch (error) {
    return c.failed(error, token, method);
  }
  // (The client drops the answer for a document no tab shows: so do the
  // slices, unless they hold it already.)
  return routeDocumentReport(c.sliced(), uri, clientPrevious, result, c.tabs().has(uri.toString()));
}

/**
 * The previous result id to send with a document pull: the slices' for a
 * document they hold, else the client's.
 */
export function documentPreviousId(sliced: SlicedDiagnostics | undefined, uri: vscode.Uri, clientPrevious: string | undefined): string | undefined {
  return sliced?.holds(uri) ? sliced.resultId(uri) : clientPrevious;
}

/**
 * A document pull's answer (`result`, asked with `documentPreviousId`) as
 * the client is given it. A full report goes to the slices when a tab shows
 * the document (`shown`) or they hold it already (the last pull the client
 * makes when its tab closes); the client then gets an empty report, or
 * "unchanged" when it already had one since the tab opened (it sends no
 * previous id after a tab was closed and opened again).
 */
export function routeDocumentReport(
  sliced: SlicedDiagnostics | undefined,
  uri: vscode.Uri,
  clientPrevious: string | undefined,
  result: LspDocumentReport,
  shown: boolean,
): vsdiag.DocumentDiagnosticReport {
  const held = sliced?.holds(uri) ?? false;
  if (!sliced || !(held || shown)) {
    return result.kind === 'full'
      ? { kind: FULL, resultId: result.resultId, items: asDiagnostics(result.items) }
      : { kind: UNCHANGED, resultId: result.resultId };
  }
  if (result.kind === 'full') {
    sliced.update(uri, result.items, result.resultId);
  }
  // The client's collection is empty for a held document once it has had a
  // report for it from this tab: "unchanged" spares it setting it again.
  const resultId = result.resultId;
  return held && shown && clientPrevious !== undefined && resultId !== undefined ? { kind: UNCHANGED, resultId } : { kind: FULL, resultId, items: [] };
}

/** The previous result ids to send with a workspace pull: the client's, and the slices' for the documents they hold. */
export function workspacePreviousIds(
  sliced: SlicedDiagnostics | undefined,
  resultIds: vsdiag.PreviousResultId[],
  asUri: (uri: vscode.Uri) => string,
): LspPreviousResultId[] {
  const ids: LspPreviousResultId[] = [];
  for (const r of resultIds) {
    if (!sliced?.holds(r.uri)) {
      ids.push({ uri: asUri(r.uri), value: r.value });
    }
  }
  for (const d of sliced?.documents() ?? []) {
    if (d.resultId !== undefined) {
      ids.push({ uri: asUri(d.uri), value: d.resultId });
    }
  }
  return ids;
}

/**
 * Workspace reports as the client is given them: those of documents the
 * slices hold go to the slices while no tab shows the document (else its
 * document pulls set them), and the client gets an empty report for a full
 * one; the others are converted for the client.
 */
export function routeWorkspaceReports(
  sliced: SlicedDiagnostics | undefined,
  reports: LspWorkspaceDocumentReport[],
  tabs: () => Set<string>,
  asUri: (uri: string) => vscode.Uri,
): vsdiag.WorkspaceDocumentDiagnosticReport[] {
  let shown: Set<string> | undefined;
  return reports.map((r): vsdiag.WorkspaceDocumentDiagnosticReport => {
    const uri = asUri(r.uri);
    const version = r.version ?? null;
    if (sliced?.holds(uri)) {
      if (r.kind !== 'full') {
        return { kind: UNCHANGED, uri, version, resultId: r.resultId };
      }
      shown = shown ?? tabs();
      if (!shown.has(uri.toString())) {
        sliced.update(uri, r.items, r.resultId);
      }
      return { kind: FULL, uri, version, resultId: r.resultId, items: [] };
    }
    return r.kind === 'full'
      ? { kind: FULL, uri, version, resultId: r.resultId, items: asDiagnostics(r.items as LspDiagnostic[]) }
      : { kind: UNCHANGED, uri, version, resultId: r.resultId };
  });
}

/** What `pullWorkspace` needs of the client (a LanguageClient, or a fake in the unit tests). */
export interface WorkspacePuller {
  identifier: string | undefined;
  asProtocolUri(uri: vscode.Uri): string;
  asCodeUri(uri: string): vscode.Uri;
  tabs(): Set<string>;
  sliced(): SlicedDiagnostics | undefined;
  /** Calls `handler` with each partial result sent for `token` until disposed. */
  onPartialResult(token: string, handler: (partial: LspWorkspacePartial | null | undefined) => void): { dispose(): void };
  send(params: { identifier?: string; previousResultIds: LspPreviousResultId[]; partialResultToken: string }, token: CancellationToken): Promise<LspWorkspaceReport>;
  /** A failed request as the client handles it: a default value, or throws. */
  failed(error: unknown, token: CancellationToken): vsdiag.WorkspaceDiagnosticReport;
}

let partialTokens = 0;

/**
 * A `workspace/diagnostic` pull, its reports routed (`routeWorkspaceReports`)
 * and handed to `resultReporter`, the partial ones as they come and the
 * final one last. vscode-languageclient 9.0.1 ignores what its
 * provideWorkspaceDiagnostics returns (its own implementation reports the
 * final result too and returns an empty one): so does this.
 */
export async function pullWorkspace(
  c: WorkspacePuller,
  resultIds: vsdiag.PreviousResultId[],
  token: CancellationToken,
  resultReporter: vsdiag.ResultReporter,
): Promise<vsdiag.WorkspaceDiagnosticReport> {
  const route = (reports: LspWorkspaceDocumentReport[]) => routeWorkspaceReports(c.sliced(), reports, () => c.tabs(), (u) => c.asCodeUri(u));
  const partialResultToken = `catalogue-workspace-${++partialTokens}`;
  const partials = c.onPartialResult(partialResultToken, (partial) => {
    if (partial === undefined || partial === null) {
      resultReporter(null);
    } else if (!token.isCancellationRequested) {
      resultReporter({ items: route(partial.items) });
    }
  });
  try {
    const previousResultIds = workspacePreviousIds(c.sliced(), resultIds, (u) => c.asProtocolUri(u));
    const result = await c.send({ identifier: c.identifier, previousResultIds, partialResultToken }, token);
    if (!token.isCancellationRequested && result) {
      resultReporter({ items: route(result.items) });
    }
    return { items: [] };
  } catch (error) {
    return c.failed(error, token);
  } finally {
    partials.dispose();
  }
}
