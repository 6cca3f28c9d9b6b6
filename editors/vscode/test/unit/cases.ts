// Unit tests of src/diagnostics.ts, src/slices.ts and src/pull.ts (npm run
// unit): the conversion of pulled LSP diagnostics, the slices an edit sets
// again, counted (not timed) as the file grows, and which reports go to the
// slices and which to vscode-languageclient, and the deltas of
// `catalogue/diagnostic` applied to the items the slices hold.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { asDiagnostic, asDiagnostics } from '../../src/diagnostics';
import { SlicedDiagnostics, SLICE_LINES, sameDiagnostic } from '../../src/slices';
import {
  applyDelta,
  deltaAsReport,
  documentPreviousId,
  DocumentPuller,
  LspDeltaPullReport,
  LspDeltaReport,
  pullDocument,
  pullWorkspace,
  routeDocumentReport,
  routeWorkspaceReports,
  workspacePreviousIds,
  WorkspacePuller,
} from '../../src/pull';
import type { Diagnostic as LspDiagnostic, WorkspaceDocumentDiagnosticReport as LspWorkspaceDocumentReport, vsdiag } from 'vscode-languageclient/node';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const stub = vscode as any;
let failed = 0;
function test(name: string, f: () => void): void {
  try {
    f();
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}\n     ${(e as Error).stack}`);
  }
}

const pending: Promise<void>[] = [];
function asyncTest(name: string, f: () => Promise<void>): void {
  pending.push(
    f().then(
      () => console.log(`ok   ${name}`),
      (e) => {
        failed++;
        console.log(`FAIL ${name}\n     ${(e as Error).stack}`);
      },
    ),
  );
}

const LINK = 'http://www.csrcare.com/Law/LawShowEn?id=233583';
function lsp(line: number, code: string, message = `m${line}`): LspDiagnostic {
  return {
    range: { start: { line, character: 0 }, end: { line, character: 11 } },
    severity: 1,
    code,
    codeDescription: { href: LINK },
    source: 'catalogue-lsp',
    message,
  };
}

/** A catalogue's diagnostics: two per product, a product every 7 lines. */
function catalogue(products: number): LspDiagnostic[] {
  const items: LspDiagnostic[] = [];
  for (let p = 0; p < products; p++) {
    items.push(lsp(p * 7, 'missing-licence'), lsp(p * 7, 'missing-end-use-evidence'));
  }
  return items;
}

/** The set and delete calls made on all collections since `from` (an index per collection). */
function callsSince(from: number[]): string[][] {
  return stub.collections.flatMap((c: { name: string; calls: string[][] }, i: number) => c.calls.slice(from[i] ?? 0).map((x) => [c.name, ...x]));
}
const mark = (): number[] => stub.collections.map((c: { calls: unknown[] }) => c.calls.length);

test('asDiagnostic keeps severity, code with its link, source, data, related location and tags', () => {
  const d = asDiagnostic({
    ...lsp(3, 'unnecessary-licence'),
    severity: 4,
    data: { fix: 1 },
    tags: [1],
    relatedInformation: [{ location: { uri: 'file:///w/a.catalogue.toml', range: { start: { line: 1, character: 2 }, end: { line: 1, character: 5 } } }, message: 'licence `GL-1`' }],
  });
  assert.strictEqual(d.severity, vscode.DiagnosticSeverity.Hint);
  assert.deepStrictEqual([(d.code as { value: string }).value, String((d.code as { target: vscode.Uri }).target)], ['unnecessary-licence', LINK]);
  assert.strictEqual(d.source, 'catalogue-lsp');
  assert.deepStrictEqual((d as unknown as { data: unknown }).data, { fix: 1 });
  assert.deepStrictEqual(d.tags, [vscode.DiagnosticTag.Unnecessary]);
  assert.strictEqual(d.relatedInformation?.[0].location.uri.toString(), 'file:///w/a.catalogue.toml');
  assert.strictEqual(d.relatedInformation?.[0].location.range.start.character, 2);
  assert.strictEqual(asDiagnostic({ ...lsp(0, 'x'), severity: undefined }).severity, vscode.DiagnosticSeverity.Error);
});

test('a link is parsed once however many diagnostics carry it', () => {
  const before = stub.Uri.parsed;
  const ds = asDiagnostics(catalogue(500));
  assert.strictEqual(ds.length, 1000);
  assert.ok(stub.Uri.parsed - before <= 1, `${stub.Uri.parsed - before} links parsed`);
  assert.strictEqual((ds[0].code as { target: unknown }).target, (ds[999].code as { target: unknown }).target);
});

test('sameDiagnostic compares structure, not identity', () => {
  assert.ok(sameDiagnostic(lsp(1, 'a'), lsp(1, 'a')));
  assert.ok(!sameDiagnostic(lsp(1, 'a'), lsp(2, 'a')));
  assert.ok(!sameDiagnostic(lsp(1, 'a'), lsp(1, 'b')));
  assert.ok(!sameDiagnostic(lsp(1, 'a'), { ...lsp(1, 'a'), tags: [1] }));
  assert.ok(!sameDiagnostic({ ...lsp(1, 'a'), tags: [1] }, { ...lsp(1, 'a'), tags: [2] }));
  assert.ok(!sameDiagnostic({ ...lsp(1, 'a'), data: { fix: [1] } }, { ...lsp(1, 'a'), data: { fix: [2] } }));
  assert.ok(!sameDiagnostic({ ...lsp(1, 'a'), codeDescription: { href: 'https://a' } }, lsp(1, 'a')));
  assert.ok(!sameDiagnostic({ ...lsp(1, 'a'), range: { start: { line: 1, character: 1 }, end: { line: 1, character: 11 } } }, lsp(1, 'a')));
  assert.ok(sameDiagnostic({ ...lsp(1, 'a'), data: { fix: [1] }, tags: [1] }, { ...lsp(1, 'a'), data: { fix: [1] }, tags: [1] }));
});

test('an edit in one product sets one slice, at 1 000 and at 10 000 products', () => {
  const uri = stub.Uri.parse('file:///w/gen.catalogue.toml');
  const setsPerEdit: number[] = [];
  for (const products of [1000, 10000]) {
    const sliced = new SlicedDiagnostics(`t${products}`);
    const items = catalogue(products);
    let from = mark();
    sliced.update(uri, items);
    const slices = Math.ceil((products * 7) / SLICE_LINES);
    assert.strictEqual(callsSince(from).length, slices, 'the first update sets every slice');
    // The same items again: nothing set.
    from = mark();
    sliced.update(uri, catalogue(products));
    assert.strictEqual(callsSince(from).length, 0);
    // One product's message changes (a character typed in it).
    const edited = catalogue(products);
    const p = Math.floor(products / 2);
    edited[2 * p] = lsp(p * 7, 'unknown-licence', 'edited');
    from = mark();
    sliced.update(uri, edited);
    const calls = callsSince(from);
    setsPerEdit.push(calls.length);
    assert.deepStrictEqual(calls[0].slice(0, 2), [`t${products}#${Math.floor((p * 7) / SLICE_LINES)}`, 'set']);
    sliced.dispose();
  }
  assert.deepStrictEqual(setsPerEdit, [1, 1]);
});

test('a slice that loses its diagnostics is deleted; a line inserted sets the slices after it', () => {
  const uri = stub.Uri.parse('file:///w/b.catalogue.toml');
  const sliced = new SlicedDiagnostics('moves');
  sliced.update(uri, catalogue(1000)); // 7 000 lines: 4 slices
  let from = mark();
  sliced.update(uri, catalogue(1000).filter((d) => d.range.start.line >= SLICE_LINES));
  assert.deepStrictEqual(callsSince(from).map((c) => [c[0], c[1]]), [['moves#0', 'delete']]);
  // Every diagnostic one line down (a line inserted at the top).
  const moved = catalogue(1000).map((d) => ({ ...d, range: { start: { ...d.range.start, line: d.range.start.line + 1 }, end: { ...d.range.end, line: d.range.end.line + 1 } } }));
  from = mark();
  sliced.update(uri, moved);
  assert.strictEqual(callsSince(from).length, 4);
  sliced.dispose();
});

test('dispose (the server stopped) clears every slice; the slices can be set again', () => {
  const uri = stub.Uri.parse('file:///w/c.catalogue.toml');
  const sliced = new SlicedDiagnostics('stopped');
  sliced.update(uri, catalogue(1000), 'r1');
  assert.strictEqual(inSlices('stopped', uri), 2000);
  sliced.dispose();
  assert.strictEqual(inSlices('stopped', uri), 0);
  assert.ok(!sliced.holds(uri));
  assert.strictEqual(sliced.resultId(uri), undefined);
  sliced.update(uri, catalogue(10), 'r2');
  assert.strictEqual(inSlices('stopped', uri), 20);
  sliced.dispose();
});

/** The diagnostics of `uri` in the live collections named `name#…`. */
function inSlices(name: string, uri: vscode.Uri): number {
  return stub.collections
    .filter((c: { name: string; disposed?: boolean }) => c.name.startsWith(`${name}#`) && !c.disposed)
    .reduce((n: number, c: { entries: Map<string, unknown[]> }) => n + (c.entries.get(uri.toString())?.length ?? 0), 0);
}

/** A workspace report of one file as the server sends it. */
function wsReport(uri: string, resultId: string, items?: LspDiagnostic[]): LspWorkspaceDocumentReport {
  return items ? { kind: 'full', uri, version: null, resultId, items } : { kind: 'unchanged', uri, version: null, resultId };
}

test('document pulls: a shown document goes to the slices, the client gets an empty report, then "unchanged"; after its tab closes and opens again, an empty one again', () => {
  const uri = stub.Uri.parse('file:///w/d.catalogue.toml');
  const sliced = new SlicedDiagnostics('doc');
  // Not shown, not held: converted for the client.
  let r = routeDocumentReport(sliced, uri, undefined, { kind: 'full', resultId: 'r0', items: catalogue(2) }, false);
  assert.deepStrictEqual([r.kind, (r as { items: unknown[] }).items.length], ['full', 4]);
  assert.ok(!sliced.holds(uri));
  // First pull while a tab shows it: taken over.
  assert.strictEqual(documentPreviousId(sliced, uri, undefined), undefined);
  r = routeDocumentReport(sliced, uri, undefined, { kind: 'full', resultId: 'r1', items: catalogue(3) }, true);
  assert.deepStrictEqual(r, { kind: 'full', resultId: 'r1', items: [] });
  assert.strictEqual(inSlices('doc', uri), 6);
  // The next pulls: asked relative to the slices, "unchanged" to the client.
  assert.strictEqual(documentPreviousId(sliced, uri, 'client-id'), 'r1');
  r = routeDocumentReport(sliced, uri, 'r1', { kind: 'full', resultId: 'r2', items: catalogue(4) }, true);
  assert.deepStrictEqual(r, { kind: 'unChanged', resultId: 'r2' });
  assert.strictEqual(inSlices('doc', uri), 8);
  // The client's last pull as the tab closes: to the slices (the client drops its answer).
  r = routeDocumentReport(sliced, uri, 'r2', { kind: 'full', resultId: 'r3', items: catalogue(1) }, false);
  assert.deepStrictEqual(r, { kind: 'full', resultId: 'r3', items: [] });
  assert.deepStrictEqual([inSlices('doc', uri), sliced.resultId(uri)], [2, 'r3']);
  // Opened again (the client sends no previous id): an empty report, whatever the server says.
  r = routeDocumentReport(sliced, uri, undefined, { kind: 'unchanged', resultId: 'r3' }, true);
  assert.deepStrictEqual(r, { kind: 'full', resultId: 'r3', items: [] });
  assert.strictEqual(inSlices('doc', uri), 2);
  sliced.dispose();
});

test('workspace reports: a held document no tab shows gets its new diagnostics in the slices and none in the client; others go to the client', () => {
  const held = stub.Uri.parse('file:///w/held.catalogue.toml');
  const open = stub.Uri.parse('file:///w/open.catalogue.toml');
  const sliced = new SlicedDiagnostics('ws');
  sliced.update(held, [lsp(1, 'missing-licence')], 'h1');
  sliced.update(open, [lsp(1, 'missing-licence')], 'o1');
  const ids = workspacePreviousIds(sliced, [{ uri: held, value: 'client-h' }, { uri: stub.Uri.parse('file:///w/other.catalogue.toml'), value: 'x1' }], String);
  assert.deepStrictEqual(
    ids.sort((a, b) => a.uri.localeCompare(b.uri)),
    [
      { uri: 'file:///w/held.catalogue.toml', value: 'h1' },
      { uri: 'file:///w/open.catalogue.toml', value: 'o1' },
      { uri: 'file:///w/other.catalogue.toml', value: 'x1' },
    ],
  );
  const warning: LspDiagnostic = { ...lsp(1, 'missing-licence'), severity: 2 };
  const routed = routeWorkspaceReports(
    sliced,
    [
      wsReport(held.toString(), 'h2', [warning]),
      wsReport(open.toString(), 'o2', []),
      wsReport('file:///w/other.catalogue.toml', 'x2', [lsp(3, 'unknown-licence')]),
      wsReport('file:///w/same.catalogue.toml', 's1'),
    ],
    () => new Set([open.toString()]),
    stub.Uri.parse,
  );
  assert.deepStrictEqual(
    routed.map((r) => [r.kind, 'items' in r ? r.items.length : -1]),
    [
      ['full', 0],
      ['full', 0],
      ['full', 1],
      ['unChanged', -1],
    ],
  );
  // The held document's slices now hold the warning, the open one's are left to its document pulls.
  const heldNow = stub.collections.find((c: { name: string }) => c.name === 'ws#0').entries.get(held.toString());
  assert.deepStrictEqual([heldNow.length, heldNow[0].severity, sliced.resultId(held)], [1, vscode.DiagnosticSeverity.Warning, 'h2']);
  assert.deepStrictEqual([inSlices('ws', open), sliced.resultId(open)], [1, 'o1']);
  sliced.dispose();
});

/** A fake client for pullWorkspace: answers with `answer` after sending `partial` as a partial result. */
function fakeClient(sliced: SlicedDiagnostics, answer: LspWorkspaceDocumentReport[], partial?: LspWorkspaceDocumentReport[], error?: unknown) {
  const sent: unknown[] = [];
  let disposed = 0;
  const c: WorkspacePuller = {
    identifier: undefined,
    asProtocolUri: String,
    asCodeUri: stub.Uri.parse,
    tabs: () => new Set(),
    sliced: () => sliced,
    onPartialResult: (token, handler) => {
      handlers.set(token, handler);
      return { dispose: () => void (disposed++, handlers.delete(token)) };
    },
    send: async (params) => {
      sent.push(params);
      if (partial) {
        handlers.get(params.partialResultToken)?.({ items: partial });
      }
      if (error) {
        throw error;
      }
      return { items: answer };
    },
    failed: () => ({ items: [] }),
  };
  const handlers = new Map<string, (p: { items: LspWorkspaceDocumentReport[] } | null | undefined) => void>();
  return { c, sent, disposed: () => disposed };
}

const notCancelled = { isCancellationRequested: false, onCancellationRequested: () => ({ dispose() {} }) };

asyncTest('pullWorkspace hands the routed partial and final reports to the middleware\'s reporter, never a held document\'s items', async () => {
  const held = stub.Uri.parse('file:///w/held.catalogue.toml');
  const sliced = new SlicedDiagnostics('pull');
  sliced.update(held, [lsp(1, 'missing-licence')], 'h1');
  const { c, sent, disposed } = fakeClient(
    sliced,
    [wsReport('file:///w/other.catalogue.toml', 'x1', [lsp(3, 'unknown-licence'), lsp(4, 'unknown-licence')])],
    [wsReport(held.toString(), 'h2', [lsp(1, 'missing-licence', 'now a warning'), lsp(9, 'missing-licence')])],
  );
  const chunks: (vsdiag.WorkspaceDiagnosticReportPartialResult | null)[] = [];
  const result = await pullWorkspace(c, [{ uri: held, value: 'client-h' }], notCancelled, (chunk) => chunks.push(chunk));
  assert.deepStrictEqual(result, { items: [] });
  assert.deepStrictEqual((sent[0] as { previousResultIds: unknown }).previousResultIds, [{ uri: held.toString(), value: 'h1' }]);
  assert.deepStrictEqual(
    chunks.map((ch) => ch?.items.map((r) => [r.uri.toString(), r.kind, 'items' in r ? r.items.length : -1])),
    [[[held.toString(), 'full', 0]], [['file:///w/other.catalogue.toml', 'full', 2]]],
  );
  assert.deepStrictEqual([inSlices('pull', held), sliced.resultId(held)], [2, 'h2']);
  assert.strictEqual(disposed(), 1, 'the partial-result handler is disposed');
  // A failed request: nothing reported, the client's default answer.
  const failing = fakeClient(sliced, [], undefined, new Error('gone'));
  const none: unknown[] = [];
  assert.deepStrictEqual(await pullWorkspace(failing.c, [], notCancelled, (chunk) => none.push(chunk)), { items: [] });
  assert.deepStrictEqual([none.length, failing.disposed()], [0, 1]);
  sliced.dispose();
});

/** A delta of `base` (report `from`) to report `to`: all but `head` and `tail` items replaced by `items`. */
function delta(from: string, to: string, head: number, tail: number, items: LspDiagnostic[]): LspDeltaReport {
  return { kind: 'delta', resultId: to, previousResultId: from, head, tail, items };
}
/** The messages of a list of items, to compare lists at a glance. */
const messages = (items: readonly LspDiagnostic[] | undefined): string[] | undefined => items?.map((d) => d.message);

test('the slices keep the items given to update, in their order', () => {
  const uri = stub.Uri.parse('file:///w/flat.catalogue.toml');
  const sliced = new SlicedDiagnostics('flat');
  assert.strictEqual(sliced.items(uri), undefined);
  // Out of line order (as a server may send them), across slices.
  const items = [lsp(5000, 'a'), lsp(3, 'b'), lsp(2500, 'c'), lsp(3, 'd')];
  sliced.update(uri, items, 'r1');
  assert.deepStrictEqual(messages(sliced.items(uri)), ['m5000', 'm3', 'm2500', 'm3']);
  assert.deepStrictEqual(sliced.items(uri), items);
  sliced.update(uri, [], 'r2');
  assert.deepStrictEqual(sliced.items(uri), []);
  sliced.dispose();
  assert.strictEqual(sliced.items(uri), undefined);
});

test('applyDelta: the head and the tail of the base kept around the items, wherever the change is', () => {
  const base = [0, 1, 2, 3, 4, 5].map((l) => lsp(l, 'x'));
  const x = [lsp(100, 'y'), lsp(101, 'y')];
  // At the head: the first two replaced.
  assert.deepStrictEqual(messages(applyDelta(base, 'r1', delta('r1', 'r2', 0, 4, x))), ['m100', 'm101', 'm2', 'm3', 'm4', 'm5']);
  // In the middle: one replaced by two.
  assert.deepStrictEqual(messages(applyDelta(base, 'r1', delta('r1', 'r2', 2, 3, x))), ['m0', 'm1', 'm100', 'm101', 'm3', 'm4', 'm5']);
  // At the tail: the last three replaced.
  assert.deepStrictEqual(messages(applyDelta(base, 'r1', delta('r1', 'r2', 3, 0, x))), ['m0', 'm1', 'm2', 'm100', 'm101']);
  // head + tail == base length: a pure insertion, and a pure removal.
  assert.deepStrictEqual(messages(applyDelta(base, 'r1', delta('r1', 'r2', 4, 2, x))), ['m0', 'm1', 'm2', 'm3', 'm100', 'm101', 'm4', 'm5']);
  assert.deepStrictEqual(messages(applyDelta(base, 'r1', delta('r1', 'r2', 6, 0, x))), ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm100', 'm101']);
  assert.deepStrictEqual(messages(applyDelta(base, 'r1', delta('r1', 'r2', 0, 6, x))), ['m100', 'm101', 'm0', 'm1', 'm2', 'm3', 'm4', 'm5']);
  assert.deepStrictEqual(messages(applyDelta(base, 'r1', delta('r1', 'r2', 6, 0, []))), ['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
  // Empty items: a removal.
  assert.deepStrictEqual(messages(applyDelta(base, 'r1', delta('r1', 'r2', 1, 2, []))), ['m0', 'm4', 'm5']);
  assert.deepStrictEqual(applyDelta(base, 'r1', delta('r1', 'r2', 0, 0, [])), []);
  // Everything replaced; an empty base.
  assert.deepStrictEqual(messages(applyDelta(base, 'r1', delta('r1', 'r2', 0, 0, x))), ['m100', 'm101']);
  assert.deepStrictEqual(messages(applyDelta([], 'r1', delta('r1', 'r2', 0, 0, x))), ['m100', 'm101']);
  // The base is not changed.
  assert.deepStrictEqual(messages(base), ['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
});

test('applyDelta: undefined when the delta is not of the base held', () => {
  const base = [0, 1, 2].map((l) => lsp(l, 'x'));
  const x = [lsp(100, 'y')];
  // Another previous result id, none held, nothing held.
  assert.strictEqual(applyDelta(base, 'r1', delta('r0', 'r2', 1, 1, x)), undefined);
  assert.strictEqual(applyDelta(base, undefined, delta('r1', 'r2', 1, 1, x)), undefined);
  assert.strictEqual(applyDelta(undefined, 'r1', delta('r1', 'r2', 1, 1, x)), undefined);
  // head + tail more than the base has.
  assert.strictEqual(applyDelta(base, 'r1', delta('r1', 'r2', 2, 2, x)), undefined);
  assert.strictEqual(applyDelta(base, 'r1', delta('r1', 'r2', 4, 0, [])), undefined);
  assert.strictEqual(applyDelta(base, 'r1', delta('r1', 'r2', 0, 4, [])), undefined);
  // head or tail not a count.
  for (const [h, t] of [
    [-1, 0],
    [0, -1],
    [0.5, 1],
    [1, 1.5],
    [NaN, 0],
    [Infinity, 0],
  ]) {
    assert.strictEqual(applyDelta(base, 'r1', delta('r1', 'r2', h, t, x)), undefined, `head ${h}, tail ${t}`);
  }
  assert.strictEqual(applyDelta(base, 'r1', { ...delta('r1', 'r2', 1, 1, x), head: '1' as unknown as number }), undefined);
  assert.strictEqual(applyDelta(base, 'r1', { ...delta('r1', 'r2', 1, 1, x), items: undefined as unknown as LspDiagnostic[] }), undefined);
  // The bounds themselves apply.
  assert.deepStrictEqual(messages(applyDelta(base, 'r1', delta('r1', 'r2', 2, 1, []))), ['m0', 'm1', 'm2']);
});

test('a delta that applies sets the same slices as the equivalent full report', () => {
  const uri = stub.Uri.parse('file:///w/delta.catalogue.toml');
  const products = 1000; // 7 000 lines: 4 slices
  const edited = catalogue(products);
  const p = 600; // line 4 200: slice 2
  edited.splice(2 * p, 2, lsp(p * 7, 'unknown-licence', 'edited'));
  // Through a full report.
  const full = new SlicedDiagnostics('viaFull');
  full.update(uri, catalogue(products), 'r1');
  let from = mark();
  routeDocumentReport(full, uri, 'r1', { kind: 'full', resultId: 'r2', items: edited }, true);
  const fullCalls = callsSince(from).map(([name, ...rest]) => [name.replace('viaFull', ''), ...rest]);
  const fullSet = full.lastSet;
  // Through a delta of the same edit.
  const sliced = new SlicedDiagnostics('viaDelta');
  sliced.update(uri, catalogue(products), 'r1');
  const report = deltaAsReport(sliced, uri, delta('r1', 'r2', 2 * p, edited.length - 2 * p - 1, [edited[2 * p]]));
  assert.ok(report !== undefined && report.kind === 'full');
  from = mark();
  routeDocumentReport(sliced, uri, 'r1', report, true);
  const deltaCalls = callsSince(from).map(([name, ...rest]) => [name.replace('viaDelta', ''), ...rest]);
  assert.deepStrictEqual([sliced.lastSet, deltaCalls], [fullSet, fullCalls]);
  assert.deepStrictEqual([fullSet, fullCalls], [1, [['#2', 'set', uri.toString(), 571]]]);
  assert.deepStrictEqual([sliced.items(uri), sliced.resultId(uri)], [edited, 'r2']);
  full.dispose();
  sliced.dispose();
});

test('deltaAsReport: a full answer as it is, "unchanged" only for what is held, a delta only on its base', () => {
  const uri = stub.Uri.parse('file:///w/route.catalogue.toml');
  const sliced = new SlicedDiagnostics('route');
  const fullAnswer: LspDeltaPullReport = { kind: 'full', resultId: 'r9', items: [lsp(1, 'x')] };
  // Not held: only a full answer is of use.
  assert.strictEqual(deltaAsReport(sliced, uri, fullAnswer), fullAnswer);
  assert.strictEqual(deltaAsReport(sliced, uri, delta('r1', 'r2', 0, 0, [])), undefined);
  assert.strictEqual(deltaAsReport(undefined, uri, delta('r1', 'r2', 0, 0, [])), undefined);
  assert.strictEqual(deltaAsReport(sliced, uri, { kind: 'unchanged', resultId: 'r1' }), undefined);
  sliced.update(uri, [lsp(1, 'a'), lsp(2, 'b')], 'r1');
  assert.deepStrictEqual(deltaAsReport(sliced, uri, { kind: 'unchanged', resultId: 'r1' }), { kind: 'unchanged', resultId: 'r1' });
  assert.strictEqual(deltaAsReport(sliced, uri, { kind: 'unchanged', resultId: 'r0' }), undefined);
  assert.deepStrictEqual(deltaAsReport(sliced, uri, delta('r1', 'r2', 1, 0, [lsp(3, 'c')])), { kind: 'full', resultId: 'r2', items: [lsp(1, 'a'), lsp(3, 'c')] });
  assert.strictEqual(deltaAsReport(sliced, uri, delta('r0', 'r2', 1, 0, [lsp(3, 'c')])), undefined);
  assert.strictEqual(deltaAsReport(sliced, uri, delta('r1', 'r2', 2, 1, [])), undefined);
  assert.strictEqual(deltaAsReport(sliced, uri, { kind: 'other', resultId: 'r2' } as unknown as LspDeltaPullReport), undefined);
  sliced.dispose();
});

/** A fake client for pullDocument: answers each request with the next of `answers` (a function of the request). */
function fakeDocumentClient(sliced: SlicedDiagnostics, deltas: boolean, answers: ((method: string, params: { previousResultId?: string }) => LspDeltaPullReport | null)[], shown = true) {
  const sent: [string, string | undefined][] = [];
  const failures: string[] = [];
  const c: DocumentPuller = {
    identifier: 'catalogue',
    deltas,
    asProtocolUri: String,
    tabs: () => new Set(shown ? ['file:///w/pull.catalogue.toml'] : []),
    sliced: () => sliced,
    send: async (method, params) => {
      sent.push([method, params.previousResultId]);
      const answer = answers.shift();
      if (!answer) {
        throw new Error('no answer');
      }
      return answer(method, params);
    },
    failed: (error, _token, method) => {
      failures.push(`${method}: ${(error as Error).message}`);
      return { kind: 'full' as vsdiag.DocumentDiagnosticReportKind.full, items: [] };
    },
  };
  return { c, sent, failures };
}

asyncTest('pullDocument: catalogue/diagnostic only with the capability and the document held; a delta applied; one not of the base pulled again in full', async () => {
  const uri = stub.Uri.parse('file:///w/pull.catalogue.toml');
  const sliced = new SlicedDiagnostics('pullDoc');
  const full = (resultId: string, items: LspDiagnostic[]) => (): LspDeltaPullReport => ({ kind: 'full', resultId, items });
  // Not held: the standard pull with the client's previous id, capability or not.
  let f = fakeDocumentClient(sliced, true, [full('r1', [lsp(1, 'a'), lsp(2, 'b'), lsp(3, 'c')])]);
  let r = await pullDocument(f.c, uri, 'client-id', notCancelled);
  assert.deepStrictEqual(f.sent, [['textDocument/diagnostic', 'client-id']]);
  assert.deepStrictEqual([r.kind, sliced.resultId(uri), messages(sliced.items(uri))], ['full', 'r1', ['m1', 'm2', 'm3']]);
  // Held, no capability: the standard pull relative to the slices.
  f = fakeDocumentClient(sliced, false, [() => ({ kind: 'unchanged', resultId: 'r1' })]);
  r = await pullDocument(f.c, uri, 'r1', notCancelled);
  assert.deepStrictEqual([f.sent, r], [[['textDocument/diagnostic', 'r1']], { kind: 'unChanged', resultId: 'r1' }]);
  // Held, with the capability: catalogue/diagnostic relative to the slices, its delta applied.
  f = fakeDocumentClient(sliced, true, [() => delta('r1', 'r2', 1, 1, [lsp(2, 'b', 'edited')])]);
  r = await pullDocument(f.c, uri, 'r1', notCancelled);
  assert.deepStrictEqual(f.sent, [['catalogue/diagnostic', 'r1']]);
  assert.deepStrictEqual([r, sliced.resultId(uri), messages(sliced.items(uri))], [{ kind: 'unChanged', resultId: 'r2' }, 'r2', ['m1', 'edited', 'm3']]);
  assert.deepStrictEqual(inSlices('pullDoc', uri), 3);
  // "unchanged" and a full answer.
  f = fakeDocumentClient(sliced, true, [() => ({ kind: 'unchanged', resultId: 'r2' }), full('r3', [lsp(4, 'd')])]);
  await pullDocument(f.c, uri, 'r2', notCancelled);
  await pullDocument(f.c, uri, 'r2', notCancelled);
  assert.deepStrictEqual(f.sent, [
    ['catalogue/diagnostic', 'r2'],
    ['catalogue/diagnostic', 'r2'],
  ]);
  assert.deepStrictEqual([sliced.resultId(uri), messages(sliced.items(uri))], ['r3', ['m4']]);
  // A delta of another base, and one too long for it: pulled again in full, with no previous id; nothing partial set.
  for (const bad of [delta('r1', 'r4', 0, 0, [lsp(9, 'z')]), delta('r3', 'r4', 1, 1, [lsp(9, 'z')])]) {
    const before = sliced.items(uri);
    const seen: (readonly LspDiagnostic[] | undefined)[] = [];
    f = fakeDocumentClient(sliced, true, [
      () => bad,
      () => {
        seen.push(sliced.items(uri));
        return { kind: 'full', resultId: 'r5', items: [lsp(5, 'e'), lsp(6, 'f')] };
      },
    ]);
    r = await pullDocument(f.c, uri, 'r3', notCancelled);
    assert.deepStrictEqual(f.sent, [
      ['catalogue/diagnostic', 'r3'],
      ['textDocument/diagnostic', undefined],
    ]);
    assert.strictEqual(seen[0], before, 'the slices are left as they were until the full answer');
    assert.deepStrictEqual([r.kind, sliced.resultId(uri), messages(sliced.items(uri))], ['unChanged', 'r5', ['m5', 'm6']]);
    sliced.update(uri, [lsp(4, 'd')], 'r3');
  }
  // Cancelled while the delta was on its way: nothing set, no second pull.
  const source = { isCancellationRequested: false, onCancellationRequested: () => ({ dispose() {} }) };
  f = fakeDocumentClient(sliced, true, [
    () => {
      source.isCancellationRequested = true;
      return delta('r3', 'r6', 0, 0, []);
    },
  ]);
  r = await pullDocument(f.c, uri, 'r3', source);
  assert.deepStrictEqual([f.sent.length, r, sliced.resultId(uri), messages(sliced.items(uri))], [1, { kind: 'full', items: [] }, 'r3', ['m4']]);
  // A failed request: the client's handling, nothing set.
  f = fakeDocumentClient(sliced, true, []);
  r = await pullDocument(f.c, uri, 'r3', notCancelled);
  assert.deepStrictEqual([f.failures, sliced.resultId(uri)], [['catalogue/diagnostic: no answer'], 'r3']);
  sliced.dispose();
});

Promise.all(pending).then(() => {
  if (failed > 0) {
    console.log(`unit: ${failed} failed`);
    process.exit(1);
  }
  console.log('unit: all passed');
});
