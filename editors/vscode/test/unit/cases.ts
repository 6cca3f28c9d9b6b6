// Unit tests of src/diagnostics.ts and src/slices.ts (npm run unit): the
// conversion of pulled LSP diagnostics, and the slices an edit sets again,
// counted (not timed) as the file grows.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { asDiagnostic, asDiagnostics } from '../../src/diagnostics';
import { SlicedDiagnostics, SLICE_LINES, sameDiagnostic } from '../../src/slices';
import type { Diagnostic as LspDiagnostic } from 'vscode-languageclient/node';

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

test('after replace (a workspace report), the next update sets every slice again; release clears them', () => {
  const uri = stub.Uri.parse('file:///w/c.catalogue.toml');
  const sliced = new SlicedDiagnostics('replace');
  sliced.update(uri, catalogue(1000));
  let from = mark();
  sliced.replace(uri, asDiagnostics(catalogue(300))); // 2 100 lines: 2 slices set, 2 deleted
  assert.deepStrictEqual(callsSince(from).map((c) => c[1]), ['set', 'set', 'delete', 'delete']);
  from = mark();
  sliced.update(uri, catalogue(300));
  assert.strictEqual(callsSince(from).length, 2);
  from = mark();
  sliced.release(uri);
  assert.deepStrictEqual(callsSince(from).map((c) => c[1]), ['delete', 'delete']);
  assert.ok(!sliced.holds(uri));
  sliced.dispose();
});

if (failed > 0) {
  console.log(`unit: ${failed} failed`);
  process.exit(1);
}
console.log('unit: all passed');
