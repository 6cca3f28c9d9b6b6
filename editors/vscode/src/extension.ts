// VS Code client for catalogue-lsp: starts `catalogue-lsp serve` for catalogue
// files, mirrors settings to the server, and adds commands and a status item.
import * as vscode from 'vscode';
import * as fs from 'fs';
import * as path from 'path';
import { execFile } from 'child_process';
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  DocumentSelector,
  FileChangeType,
  CodeLensRequest,
  CodeLens,
  DocumentDiagnosticRequest,
  RequestType,
  WorkspaceDiagnosticRequest,
  State,
  vsdiag,
} from 'vscode-languageclient/node';
import { SlicedDiagnostics } from './slices';
import { DELTA_PULL, LspDeltaPullReport, pullDocument, pullWorkspace } from './pull';

const SECTION = 'catalogueLsp';
let client: LanguageClient | undefined;
/**
 * The diagnostics of the documents pulled while open in a tab, in slices of
 * lines (src/slices.ts), set only where they changed. Once a document is
 * there (held) the client's own collection is kept empty for it: the
 * extension sends the document and the workspace pulls itself, with the
 * result ids of what the slices hold, sets the slices from a document's
 * reports (workspace reports only while no tab shows it) and gives the
 * client empty or "unchanged" reports for it (src/pull.ts). Cleared when the
 * server stops (restart, crash, not found), as the client's collection is.
 */
let sliced: SlicedDiagnostics | undefined;

/** The documents open in tabs, as vscode-languageclient counts them (its pulls count only for those). */
function tabUris(): Set<string> {
  const uris = new Set<string>();
  for (const group of vscode.window.tabGroups.all) {
    for (const tab of group.tabs) {
      const input = tab.input;
      const uri =
        input instanceof vscode.TabInputText || input instanceof vscode.TabInputCustom
          ? input.uri
          : input instanceof vscode.TabInputTextDiff
            ? input.modified
            : undefined;
      if (uri) {
        uris.add(uri.toString());
      }
    }
  }
  return uris;
}
let output: vscode.OutputChannel;
let status: vscode.StatusBarItem;

/** The server binary: the setting, else the bundled one, else `catalogue-lsp` on PATH. */
export function findServer(context: vscode.ExtensionContext): string | undefined {
  const configured = vscode.workspace.getConfiguration(SECTION).get<string>('server.path', '').trim();
  if (configured) {
    return isExecutable(configured) ? configured : undefined;
  }
  const exe = process.platform === 'win32' ? 'catalogue-lsp.exe' : 'catalogue-lsp';
  const bundled = context.asAbsolutePath(path.join('bin', exe));
  if (isExecutable(bundled)) {
    return bundled;
  }
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    const candidate = path.join(dir, exe);
    if (dir && isExecutable(candidate)) {
      return candidate;
    }
  }
  return undefined;
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function settings(): Record<string, unknown> {
  const c = vscode.workspace.getConfiguration(SECTION);
  return { asOf: c.get('asOf', ''), rules: c.get('rules', ''), parties: c.get('parties', ''), severity: c.get('severity', {}) };
}

function selector(): DocumentSelector {
  const extra = vscode.workspace.getConfiguration(SECTION).get<string[]>('files', []);
  const patterns = ['**/*.catalogue.toml', '**/catalogue.toml', '**/*.catalogue.csv', '**/*.licences.csv', '**/*.shipments.csv', ...extra];
  return patterns.map((pattern) => ({ scheme: 'file', pattern }));
}

/**
 * Code lenses near the view. LSP's codeLens request has no range: the server
 * would send a lens per product after every edit (10 000 lenses, 1.5 MB at
 * 10 000 products) for VS Code to parse and lay out while ~50 are in view.
 * The server answers `catalogue/codeLens` with a range (it says so in its
 * experimental capabilities); the extension asks it for the lines within
 * LENS_MARGIN_SCREENS screens of the visible ones and asks again when the
 * view nears the edge. A server without it gets the plain request, and above
 * LENS_WINDOW lenses VS Code is given only those near the view.
 */
const LENS_WINDOW = 2000;
const LENS_MARGIN_SCREENS = 3;
/** Per document (URI): the lines whose lenses VS Code was last given, or undefined if it was given all. */
const lensWindows = new Map<string, { start: number; end: number } | undefined>();

/** The lines around what the editors of `document` show (LENS_MARGIN_SCREENS screens each way). */
function lensWindow(document: vscode.TextDocument): { start: number; end: number } {
  const ranges = vscode.window.visibleTextEditors.filter((e) => e.document === document).flatMap((e) => [...e.visibleRanges]);
  if (ranges.length === 0) {
    return { start: 0, end: 300 };
  }
  const first = Math.min(...ranges.map((r) => r.start.line));
  const last = Math.max(...ranges.map((r) => r.end.line));
  const margin = Math.max(100, (last - first + 1) * LENS_MARGIN_SCREENS);
  return { start: Math.max(0, first - margin), end: last + margin };
}

/** Scrolled near the edge of the lenses given: ask VS Code to ask for them again (it does so after a short debounce). */
function onVisibleRanges(e: vscode.TextEditorVisibleRangesChangeEvent): void {
  const near = lensWindows.get(e.textEditor.document.uri.toString());
  if (!near || !client) {
    return;
  }
  const ranges = e.visibleRanges;
  if (ranges.length === 0) {
    return;
  }
  const first = ranges[0].start.line;
  const last = ranges[ranges.length - 1].end.line;
  const screen = last - first + 1;
  if ((near.start > 0 && first - screen < near.start) || last + screen > near.end) {
    lensWindows.delete(e.textEditor.document.uri.toString());
    client.getFeature(CodeLensRequest.method).getProvider(e.textEditor.document)?.onDidChangeCodeLensEmitter.fire();
  }
}

/**
 * Only when the benchmark's probe runs (scripts/bench.sh sets
 * CATALOGUE_BENCH_CONFIG): when the client sent each didChange and started,
 * finished and handed over each diagnostic pull (epoch ms), returned by
 * activate() for the probe to put in the benchmark's timeline.
 */
type BenchMark = { what: string; t: number; version: number };
const benchMarks: BenchMark[] | undefined = process.env.CATALOGUE_BENCH_CONFIG ? [] : undefined;
function mark(what: string, version: number): void {
  if (benchMarks && benchMarks.length < 100000) {
    benchMarks.push({ what, t: performance.timeOrigin + performance.now(), version });
  }
}

/** Per document (URI): the outline of the version last asked for (see provideDocumentSymbols). */
const OUTLINE_SHARE_MS = 2000;
const outlines = new Map<string, { version: number; at: number; answer: Promise<vscode.SymbolInformation[] | vscode.DocumentSymbol[] | null | undefined> }>();

/** Forgets the slices (with the client's collection, when the server stops). */
function clearSlices(): void {
  sliced?.dispose();
  sliced = undefined;
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  clearSlices();
  const server = findServer(context);
  if (!server) {
    const configured = vscode.workspace.getConfiguration(SECTION).get<string>('server.path', '');
    const why = configured
      ? `catalogueLsp.server.path is set to "${configured}", which is not an executable file.`
      : 'No catalogue-lsp binary is bundled with this extension and none is on PATH.';
    const choice = await vscode.window.showErrorMessage(
      `Catalogue LSP cannot start: ${why} Install it with \`cargo install --path .\` in the catalogue-lsp repository, or set catalogueLsp.server.path.`,
      'Open Settings',
    );
    if (choice === 'Open Settings') {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'catalogueLsp.server.path');
    }
    status.text = '$(error) catalogue-lsp: not found';
    status.show();
    return;
  }
  const serverOptions: ServerOptions = { command: server, args: ['serve'], options: { env: { ...process.env, CATALOGUE_LSP_LOG: 'info' } } };
  const clientOptions: LanguageClientOptions = {
    documentSelector: selector(),
    outputChannel: output,
    initializationOptions: settings(),
    synchronize: { configurationSection: SECTION },
    middleware: {
      // The pull, with the report converted here in one synchronous pass
      // (src/diagnostics.ts: vscode-languageclient 9 converts it in slices,
      // yielding to whatever else the extension host has queued after an
      // edit, and parses a Uri per code link).
      //
      // vscode-languageclient 9 turns a diagnostic pull it cancelled (a newer
      // edit, a refresh) into an empty report and clears the file's problems
      // until the next pull answers: on a busy window the Problems count and
      // the squiggles flash away on most edits (scripts/bench.sh counts it).
      // Report the cancellation instead: the client keeps the diagnostics it
      // shows and pulls again.
      provideDiagnostics: async (document, previousResultId, token, next) => {
        const version = document instanceof vscode.Uri ? -1 : document.version;
        mark('pull', version);
        const report = await pullDiagnostics(document, previousResultId, token, next);
        if (token.isCancellationRequested) {
          throw new vscode.CancellationError();
        }
        mark('converted', version);
        if (benchMarks) {
          // After the client has set the diagnostics (in this same task).
          setImmediate(() => mark('set', version));
        }
        return report;
      },
      // The workspace pull, sent here (src/pull.ts): reports of documents
      // the slices hold go to the slices, the others, converted here, to the
      // client's reporter. (`next` of vscode-languageclient 9.0.1 takes no
      // reporter: it hands every report to the client's collection.)
      provideWorkspaceDiagnostics: (resultIds, token, resultReporter, next) => {
        const c = client;
        if (!c || !c.isRunning()) {
          return next(resultIds, token, resultReporter);
        }
        const provider = c.initializeResult?.capabilities.diagnosticProvider;
        return pullWorkspace(
          {
            identifier: provider && 'identifier' in provider ? provider.identifier : undefined,
            asProtocolUri: (u) => c.code2ProtocolConverter.asUri(u),
            asCodeUri: (u) => c.protocol2CodeConverter.asUri(u),
            tabs: tabUris,
            sliced: () => sliced,
            onPartialResult: (t, handler) => c.onProgress(WorkspaceDiagnosticRequest.partialResult, t, handler),
            send: (params, t) => c.sendRequest(WorkspaceDiagnosticRequest.type, params, t),
            failed: (error, t) => c.handleFailedRequest(WorkspaceDiagnosticRequest.type, t, error, { items: [] }),
          },
          resultIds,
          token,
          resultReporter,
        );
      },
      ...(benchMarks
        ? {
            didChange: (event: vscode.TextDocumentChangeEvent, next: (event: vscode.TextDocumentChangeEvent) => Promise<void>) => {
              mark('didChange', event.document.version);
              return next(event);
            },
          }
        : {}),
      // VS Code asks for the outline of each version twice (breadcrumbs and
      // sticky scroll: 2 × 0.2 MB to parse at 10 000 products): one request
      // per version, shared for OUTLINE_SHARE_MS (the outline can change
      // without an edit, when another file does), not cancelled when one of
      // the askers cancels.
      provideDocumentSymbols: (document, token, next) => {
        const key = document.uri.toString();
        const kept = outlines.get(key);
        if (kept && kept.version === document.version && Date.now() - kept.at < OUTLINE_SHARE_MS) {
          return kept.answer;
        }
        const answer = Promise.resolve(next(document, new vscode.CancellationTokenSource().token));
        outlines.set(key, { version: document.version, at: Date.now(), answer });
        answer.catch(() => outlines.get(key)?.answer === answer && outlines.delete(key));
        return answer;
      },
      // Code lenses near what is visible (see LENS_WINDOW).
      provideCodeLenses: async (document, token) => {
        const c = client;
        if (!c) {
          return null;
        }
        const key = document.uri.toString();
        // A failure or a cancellation is handled as the client itself would (logged, no lenses).
        const failed = (error: unknown) => c.handleFailedRequest(CodeLensRequest.type, token, error, null);
        if (c.initializeResult?.capabilities.experimental?.catalogueCodeLensRange === true) {
          const near = lensWindow(document);
          const range = { start: { line: near.start, character: 0 }, end: { line: near.end, character: 0 } };
          const lenses = await c
            .sendRequest<CodeLens[] | null>('catalogue/codeLens', { textDocument: { uri: c.code2ProtocolConverter.asUri(document.uri) }, range }, token)
            .catch(failed);
          if (token.isCancellationRequested || !lenses) {
            return null;
          }
          lensWindows.set(key, near);
          return c.protocol2CodeConverter.asCodeLenses(lenses, token);
        }
        const all = await c.sendRequest(CodeLensRequest.type, c.code2ProtocolConverter.asCodeLensParams(document), token).catch(failed);
        if (token.isCancellationRequested || !all) {
          return null;
        }
        const near = all.length > LENS_WINDOW ? lensWindow(document) : undefined;
        lensWindows.set(key, near);
        const kept = near ? all.filter((l) => l.range.start.line >= near.start && l.range.start.line <= near.end) : all;
        return c.protocol2CodeConverter.asCodeLenses(kept, token);
      },
      workspace: {
        // Saving writes the open file, and the watcher reports it changed. The
        // server uses the editor's text while a file is open and reads the disk
        // again when it closes, so that event only makes it parse and check the
        // whole file again: ~0.6 s of CPU per save at 10 000 products, which
        // with VS Code for the Web's default auto save (1 s after typing) made
        // problems seconds late (scripts/bench.sh). Created and deleted files,
        // and files not open, still go through.
        didChangeWatchedFile: (event, next) => {
          const uri = vscode.Uri.parse(event.uri).toString();
          if (event.type === FileChangeType.Changed && vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri)) {
            return Promise.resolve();
          }
          return next(event);
        },
      },
    },
  };
  outlines.clear();
  sliced = new SlicedDiagnostics('catalogueLsp');
  const c = new LanguageClient('catalogueLsp', 'Catalogue LSP', serverOptions, clientOptions);
  client = c;
  // Stopped (stop, a crash before the client restarts it, or given up): the
  // client has disposed of its collection; the slices go too, and the next
  // pulls fill them again.
  c.onDidChangeState((e) => {
    if (e.newState === State.Stopped && client === c && sliced) {
      sliced.dispose();
    }
  });
  await c.start();
  output.appendLine(`catalogue-lsp started: ${server}`);
  await updateStatus(server);
}

const DeltaPullRequest = new RequestType<unknown, LspDeltaPullReport | null, void>(DELTA_PULL);

/**
 * A document pull as vscode-languageclient makes it (`textDocument/diagnostic`,
 * or `catalogue/diagnostic` with deltas when the server advertises it and the
 * slices hold the document: src/pull.ts), converted with src/diagnostics.ts.
 */
async function pullDiagnostics(
  document: vscode.TextDocument | vscode.Uri,
  previousResultId: string | undefined,
  token: vscode.CancellationToken,
  next: (document: vscode.TextDocument | vscode.Uri, previousResultId: string | undefined, token: vscode.CancellationToken) => vscode.ProviderResult<vsdiag.DocumentDiagnosticReport>,
): Promise<vsdiag.DocumentDiagnosticReport | null | undefined> {
  const c = client;
  if (!c || !c.isRunning()) {
    return next(document, previousResultId, token);
  }
  const empty: vsdiag.DocumentDiagnosticReport = { kind: vsdiag.DocumentDiagnosticReportKind.full, items: [] };
  const provider = c.initializeResult?.capabilities.diagnosticProvider;
  return pullDocument(
    {
      identifier: provider && 'identifier' in provider ? provider.identifier : undefined,
      deltas: c.initializeResult?.capabilities.experimental?.catalogueDiagnosticDelta === true,
      asProtocolUri: (u) => c.code2ProtocolConverter.asUri(u),
      tabs: tabUris,
      sliced: () => sliced,
      send: (method, params, t) =>
        method === DELTA_PULL ? c.sendRequest(DeltaPullRequest, params, t) : c.sendRequest(DocumentDiagnosticRequest.type, params, t),
      failed: (error, t, method) => c.handleFailedRequest(method === DELTA_PULL ? DeltaPullRequest : DocumentDiagnosticRequest.type, t, error, empty),
    },
    document instanceof vscode.Uri ? document : document.uri,
    previousResultId,
    token,
  );
}

/** Status item: the rule pack id/version and the evaluation date. */
async function updateStatus(server: string): Promise<void> {
  const s = settings();
  const args = ['rules', '--format', 'json'];
  const rules = String(s.rules || '');
  if (rules) {
    const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    args.push('--rules', path.isAbsolute(rules) || !root ? rules : path.join(root, rules));
  }
  execFile(server, args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => {
    const asOf = String(s.asOf || '') || 'catalogue as_of / today';
    if (err) {
      status.text = '$(warning) catalogue-lsp: rule pack error';
      status.tooltip = String(err.message);
    } else {
      try {
        const pack = JSON.parse(stdout).rule_pack;
        status.text = `$(law) ${pack.id} ${pack.version} · as of ${asOf}`;
        status.tooltip = `Rule pack ${pack.id} ${pack.version}, reviewed through ${pack.reviewed_through}\nsha256 ${pack.sha256}`;
      } catch {
        status.text = '$(law) catalogue-lsp';
      }
    }
    status.command = 'catalogueLsp.showOutput';
    status.show();
  });
}

async function restart(context: vscode.ExtensionContext): Promise<void> {
  if (client) {
    await client.stop();
    client = undefined;
  }
  clearSlices();
  await start(context);
}

type Sym = { name: string; detail?: string; range: { start: { line: number } }; children?: Sym[] };

/** Writes the verdict of each product of the current file to the output channel (above 1 000 products: each group of the outline and the products that need action). */
async function showClassification(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || !client) {
    vscode.window.showInformationMessage('Open a catalogue file first.');
    return;
  }
  const symbols = (await client.sendRequest('textDocument/documentSymbol', {
    textDocument: { uri: editor.document.uri.toString() },
  })) as Sym[] | null;
  output.appendLine(`Classification of ${vscode.workspace.asRelativePath(editor.document.uri)}:`);
  // Above 1 000 products the outline groups them; a group's children are those that need action.
  const write = (list: Sym[], indent: string): void => {
    for (const s of list) {
      output.appendLine(`${indent}line ${s.range.start.line + 1}: ${s.name} — ${s.detail || ''}`);
      write(s.children || [], indent + '  ');
    }
  };
  write(symbols || [], '  ');
  output.show(true);
}

export async function activate(context: vscode.ExtensionContext): Promise<{ benchMarks: BenchMark[] } | undefined> {
  output = vscode.window.createOutputChannel('Catalogue LSP');
  status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
  context.subscriptions.push(
    output,
    status,
    vscode.commands.registerCommand('catalogueLsp.restartServer', () => restart(context)),
    vscode.commands.registerCommand('catalogueLsp.showOutput', () => output.show(true)),
    vscode.commands.registerCommand('catalogueLsp.showClassification', showClassification),
    vscode.window.onDidChangeTextEditorVisibleRanges(onVisibleRanges),
    vscode.workspace.onDidCloseTextDocument((d) => {
      lensWindows.delete(d.uri.toString());
      outlines.delete(d.uri.toString());
    }),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (e.affectsConfiguration(`${SECTION}.server.path`) || e.affectsConfiguration(`${SECTION}.files`)) {
        await restart(context);
      } else if (e.affectsConfiguration(SECTION)) {
        const server = findServer(context);
        if (server) {
          await updateStatus(server);
        }
      }
    }),
  );
  await start(context);
  return benchMarks ? { benchMarks } : undefined;
}

export async function deactivate(): Promise<void> {
  if (client) {
    await client.stop();
  }
  clearSlices();
}
