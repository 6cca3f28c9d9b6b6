// Benchmark probe, installed only by scripts/bench.sh (driver: ../bench.js).
// Runs in the extension host, so every time here is the extension host's and
// none is disturbed by browser input latency. With CATALOGUE_BENCH_CONFIG
// naming a JSON file { file, out, edits, warmup, pauseMs, timeoutMs } it
//   1. opens `file` and times open → first diagnostics of that document;
//   2. makes warmup + edits one-character edits itself (TextEditor.edit on the
//      visible editor), each turning a licence reference into an unknown one or
//      back, so an `unknown-licence` error appears or disappears, and times
//      edit → onDidChangeDiagnostics showing that error's new state;
//      With `keys` (BENCH_KEYS=1) it does not edit: before each edit it
//      selects the character to replace, focuses the editor and writes
//      `out`.key ({ i, ch }); the driver types `ch` with real key presses
//      (Playwright → CDP input events) and times from there; the probe waits
//      for the document to change, checks its text (no completion or
//      auto-closing changed what was typed) and times the diagnostics;
//   3. writes what it measured to `out` (or { error } if something failed);
//      with `profile`, a CPU profile of this thread over the measured edits.
// Times are epoch milliseconds with sub-millisecond precision
// (performance.timeOrigin + performance.now()), comparable with the browser's.
'use strict';
const vscode = require('vscode');
const fs = require('fs');
const { summariseProfile } = require('./profile');

const now = () => performance.timeOrigin + performance.now();
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function activate() {
  const configPath = process.env.CATALOGUE_BENCH_CONFIG;
  if (!configPath) return;
  // Take the configuration so that a second window (a retry) cannot run it twice.
  const taken = `${configPath}.taken.${process.pid}`;
  let config;
  try {
    fs.renameSync(configPath, taken);
    config = JSON.parse(fs.readFileSync(taken, 'utf8'));
  } catch {
    return;
  }
  run(config).then(
    (result) => write(config.out, result),
    (e) => write(config.out, { error: String((e && e.stack) || e) }),
  );
}

// CPU time (ms) of the processes taking part, from /proc: this extension host,
// the server, the rest of code-server's tree, and the browser's renderer and
// other processes (under config.browserPid, the driver). Load stretches
// wall-clock times; the CPU each side spends per edit it does not.
function cpuSnapshot(browserPid) {
  const procs = new Map();
  let tick = 100;
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const argv = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      procs.set(Number(name), { ppid: Number(f[1]), cpu: ((Number(f[11]) + Number(f[12])) * 1000) / tick, argv });
    } catch {
      // gone meanwhile
    }
  }
  const inTree = (pid, root) => {
    for (let p = pid, n = 0; p > 1 && n < 64; p = procs.get(p)?.ppid ?? 0, n++) if (p === root) return true;
    return false;
  };
  const sums = { extensionHost: 0, server: 0, codeServerOther: 0, browserRenderer: 0, browserOther: 0 };
  for (const [pid, p] of procs) {
    if (pid === process.pid) sums.extensionHost += p.cpu;
    else if (inTree(pid, process.ppid)) {
      if ((p.argv[0] || '').endsWith('catalogue-lsp')) sums.server += p.cpu;
      else sums.codeServerOther += p.cpu;
    } else if (browserPid && pid !== browserPid && inTree(pid, browserPid)) {
      if (p.argv.join(' ').includes('--type=renderer')) sums.browserRenderer += p.cpu;
      else sums.browserOther += p.cpu;
    }
  }
  return sums;
}

// With config.profile: a CPU profile of this extension host's thread over
// the measured edits (node's inspector, in process), written to
// config.profileOut and summarised by self and total time per function.
async function startProfile() {
  const session = new (require('inspector').Session)();
  session.connect();
  const post = (method, params) => new Promise((resolve, reject) => session.post(method, params || {}, (e, r) => (e ? reject(e) : resolve(r))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 500 });
  await post('Profiler.start');
  return { session, post };
}

async function stopProfile({ session, post }, out) {
  const { profile: prof } = await post('Profiler.stop');
  session.disconnect();
  if (out) fs.writeFileSync(out, JSON.stringify(prof));
  return summariseProfile(prof);
}

function write(out, value) {
  fs.writeFileSync(`${out}.tmp`, JSON.stringify(value, null, 1));
  fs.renameSync(`${out}.tmp`, out);
}

function codeOf(d) {
  return typeof d.code === 'object' && d.code !== null ? String(d.code.value) : String(d.code);
}

/** Errors of the document: with it alone in the workspace, what the status bar counts. */
function errorsOf(uri) {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.severity === vscode.DiagnosticSeverity.Error).length;
}

async function run(config) {
  const uri = vscode.Uri.file(config.file);
  const key = uri.toString();
  const timeoutMs = config.timeoutMs || 120000;
  const result = { hostStart: performance.timeOrigin, activated: now(), pid: process.pid, notes: [] };

  // Every onDidChangeDiagnostics naming the document, handed to whoever waits.
  // Times the document's diagnostics were emptied (a flash of "No Problems").
  let waiters = [];
  let emptied = 0;
  vscode.languages.onDidChangeDiagnostics((e) => {
    const t = now();
    if (!e.uris.some((u) => u.toString() === key)) return;
    const diagnostics = vscode.languages.getDiagnostics(uri);
    if (diagnostics.length === 0) emptied++;
    for (const w of waiters.slice()) w(t, diagnostics);
  });
  function waitDiagnostics(what, accept) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters = waiters.filter((w) => w !== waiter);
        reject(new Error(`no diagnostics ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (t, diagnostics) => {
        if (!accept(diagnostics)) return;
        clearTimeout(timer);
        waiters = waiters.filter((w) => w !== waiter);
        resolve(t);
      };
      waiters.push(waiter);
    });
  }
  let lastChange = 0;
  let changeWaiters = [];
  vscode.workspace.onDidChangeTextDocument((e) => {
    if (e.document.uri.toString() === key && e.contentChanges.length > 0) {
      lastChange = now();
      for (const w of changeWaiters.splice(0)) w(lastChange);
    }
  });
  // The next change of the document (keystroke mode: the driver's key press).
  function waitChange(what) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        changeWaiters = changeWaiters.filter((w) => w !== waiter);
        reject(new Error(`the document did not change ${what} within ${timeoutMs} ms (was the key press typed into the editor?)`));
      }, timeoutMs);
      const waiter = (t) => {
        clearTimeout(timer);
        resolve(t);
      };
      changeWaiters.push(waiter);
    });
  }

  // Start-up: from the extension host's start to the first diagnostics of the
  // document (activation, server start, workspace index, workspace pull).
  const startup = waitDiagnostics('at start-up', (d) => d.length > 0);
  startup.catch(() => {});

  // 1. Open → first diagnostics, once the catalogue extension is active (its
  // server initialized), as when a user opens the file in a running window.
  const extension = vscode.extensions.getExtension('catalogue-lsp.catalogue-lsp');
  if (!extension) throw new Error('the catalogue-lsp extension is not installed');
  // The extension's own marks (didChange sent, pull started, converted, set):
  // it returns them when CATALOGUE_BENCH_CONFIG is set.
  const api = await extension.activate();
  result.extensionActive = now() - performance.timeOrigin;
  const before = vscode.languages.getDiagnostics(uri).length;
  const tOpen = now();
  // Already there (a workspace pull delivered them): time the open's own pull.
  const first = waitDiagnostics('after open', (d) => d.length > 0);
  first.catch(() => {});
  let doc;
  for (let attempt = 1; ; attempt++) {
    try {
      doc = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(doc, { preview: false });
      break;
    } catch (e) {
      result.notes.push(`open attempt ${attempt} failed: ${e}`);
      if (attempt === 3) throw e;
      await delay(1000);
    }
  }
  const tShown = now();
  const tFirst = await first;
  const tStartup = await startup;
  result.open = {
    diagnosticsBeforeOpen: before,
    openToShownMs: tShown - tOpen,
    openToFirstDiagnosticsMs: tFirst - tOpen,
    hostStartToFirstDiagnosticsMs: tStartup - performance.timeOrigin,
    firstDiagnostics: vscode.languages.getDiagnostics(uri).length,
  };

  // 2. The licence reference to toggle: the first one from the middle of the file on.
  const lines = doc.getText().split('\n');
  let line = -1;
  for (let i = Math.floor(lines.length / 2); i < lines.length && line < 0; i++) {
    if (/^licence = "[^"]+"\s*$/.test(lines[i])) line = i;
  }
  if (line < 0) throw new Error('no `licence = "…"` line in the second half of the file');
  const col = lines[line].lastIndexOf('"') - 1;
  const original = lines[line][col];
  const range = new vscode.Range(line, col, line, col + 1);
  const hasError = (d) =>
    d.some((x) => x.range.start.line === line && x.severity === vscode.DiagnosticSeverity.Error && codeOf(x) === 'unknown-licence');
  if (hasError(vscode.languages.getDiagnostics(uri))) throw new Error(`line ${line + 1} has an unknown-licence error before any edit`);
  result.edited = { line: line + 1, text: lines[line] };

  // Let the start-up requests (outline, code lenses, hints, workspace pull) finish.
  await delay(config.settleMs || 2000);
  // The CPU a second without edits costs (cursor blink, timers, late start-up work).
  const idleFrom = cpuSnapshot(config.browserPid);
  const idleStart = now();
  await delay(3000);
  const idleTo = cpuSnapshot(config.browserPid);
  const idleSeconds = (now() - idleStart) / 1000;
  result.cpuMsPerIdleSecond = {};
  for (const k of Object.keys(idleTo)) result.cpuMsPerIdleSecond[k] = Math.round((idleTo[k] - idleFrom[k]) / idleSeconds);
  result.baseErrors = errorsOf(uri);
  emptied = 0;
  result.edits = [];
  let profiler = null;
  let cpuBefore = null;
  let cpuStart = 0;
  const total = (config.warmup || 0) + config.edits;
  for (let i = 0; i < total; i++) {
    const wantError = i % 2 === 0;
    const ch = wantError ? 'X' : original;
    if (i === (config.warmup || 0)) {
      if (config.profile) profiler = await startProfile();
      cpuBefore = cpuSnapshot(config.browserPid);
      cpuStart = now();
    }
    const editor = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === key);
    const seen = waitDiagnostics(`after edit ${i + 1}`, (d) => d.length > 0 && hasError(d) === wantError);
    seen.catch(() => {});
    lastChange = 0;
    if (config.keys) {
      // Keystroke mode: the driver types; t0 is its (filled in by the driver).
      if (!editor) throw new Error('keystroke mode: no visible editor for the document');
      const changed = waitChange(`after edit ${i + 1}`);
      changed.catch(() => {});
      editor.selection = new vscode.Selection(line, col, line, col + 1);
      editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
      await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
      const tReady = now();
      write(`${config.out}.key`, { i, ch, tReady });
      const tChanged = await changed;
      const text = editor.document.lineAt(line).text;
      const expected = lines[line].slice(0, col) + ch + lines[line].slice(col + 1);
      if (text !== expected) throw new Error(`edit ${i + 1}: line ${line + 1} reads ${JSON.stringify(text)} after the key press, not ${JSON.stringify(expected)}`);
      const version = editor.document.version;
      const tDiagnostics = await seen;
      // Nothing typed after it either (a suggestion accepted, a quote closed).
      if (editor.document.version !== version) throw new Error(`edit ${i + 1}: the document changed again after the key press (now ${JSON.stringify(editor.document.lineAt(line).text)})`);
      result.edits.push({
        warmup: i < (config.warmup || 0),
        wantError,
        version,
        tReady,
        t0: null,
        tChanged,
        tDiagnostics,
        errorsAfter: result.baseErrors + (wantError ? 1 : 0),
      });
      await delay(config.pauseMs || 500);
      continue;
    }
    const t0 = now();
    let applied;
    if (editor) {
      applied = await editor.edit((b) => b.replace(range, ch), { undoStopBefore: false, undoStopAfter: false });
    } else {
      const edit = new vscode.WorkspaceEdit();
      edit.replace(uri, range, ch);
      applied = await vscode.workspace.applyEdit(edit);
      if (i === 0) result.notes.push('no visible editor for the document: edits made with workspace.applyEdit');
    }
    const tApplied = now();
    if (!applied) throw new Error(`edit ${i + 1} was not applied`);
    const version = editor ? editor.document.version : null;
    const tDiagnostics = await seen;
    result.edits.push({
      warmup: i < (config.warmup || 0),
      wantError,
      version,
      t0,
      tChanged: lastChange || null,
      tDiagnostics,
      appliedMs: tApplied - t0,
      changedMs: lastChange ? lastChange - t0 : null,
      diagnosticsMs: tDiagnostics - t0,
      errorsAfter: result.baseErrors + (wantError ? 1 : 0),
    });
    await delay(config.pauseMs || 500);
  }
  const cpuAfter = cpuSnapshot(config.browserPid);
  if (profiler) result.extensionHostProfile = await stopProfile(profiler, config.profileOut);
  if (cpuBefore) {
    // Per edit, its pause included (cpuMsPerIdleSecond says what a second
    // without edits costs, but the window may not be idle yet then).
    result.cpuMeasuredSeconds = Math.round((now() - cpuStart) / 100) / 10;
    result.cpuMsPerEdit = {};
    for (const k of Object.keys(cpuAfter)) result.cpuMsPerEdit[k] = Math.round((cpuAfter[k] - cpuBefore[k]) / config.edits);
  }
  // Leave the file as it was.
  if (hasError(vscode.languages.getDiagnostics(uri))) {
    const edit = new vscode.WorkspaceEdit();
    edit.replace(uri, range, original);
    await vscode.workspace.applyEdit(edit);
  }
  // Scroll three quarters down, where the extension asked for no code
  // lenses (it asks for those near the visible lines): the driver checks
  // that lenses appear there.
  const shown = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === key);
  if (shown) {
    const line = Math.floor(shown.document.lineCount * 0.75);
    shown.revealRange(new vscode.Range(line, 0, line, 0), vscode.TextEditorRevealType.AtTop);
    result.scrolledTo = line + 1;
  }
  result.clientMarks = (api && api.benchMarks) || null;
  result.emptiedDuringEdits = emptied;
  result.finished = now();
  return result;
}

function deactivate() {}

module.exports = { activate, deactivate };
