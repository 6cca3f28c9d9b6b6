// Editor-level benchmark driver (run by scripts/bench.sh): real VS Code
// (code-server) in headless Chromium, the project's extension, and the probe
// extension (probe/extension.js) that opens the catalogue, edits it and times
// the diagnostics in the extension host. This script
//   - loads the workbench (retried), with an observer on the status bar's
//     problem count recording when each new count is in the DOM and the next
//     animation frame after it (the count is painted in that frame);
//   - waits for the probe's result file (a file appearing, not a fixed sleep);
//   - matches each edit to the first problem count after it that equals the
//     probe's count of errors after that edit (edit → problems shown);
//   - counts the messages the server received per edit from a copy of its
//     standard input (STDIN_LOG, written by the wrapper bench.sh installs)
//     and the bytes of its answers by kind from a copy of its standard output
//     (STDOUT_LOG);
//   - prints one summary line and writes everything to OUT (JSON).
// KEYS=1 (bench.sh's BENCH_KEYS=1), keystroke mode: the edits are real key
// presses (page.keyboard.press → CDP Input.dispatchKeyEvent, a user's
// keyboard's way in) typed into the editor where the probe selected the
// character to replace; each edit's t0 is this driver's clock just before
// the press (epoch ms, performance.timeOrigin + performance.now(), as the
// page's and the probe's times), so edit → problems shown is keystroke →
// problems shown. The page's clock is compared with this one around the
// edits (clockOffsetMs in the JSON: page minus driver).
// Env: PORT, FOLDER, CONFIG, PROBE_OUT, OUT, CHROMIUM, FILE, EDITS, WARMUP,
// PAUSE_MS, PRODUCTS, STDIN_LOG and STDOUT_LOG (optional), ARTIFACTS (optional).
'use strict';
const { chromium } = require('playwright-core');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { summariseProfile } = require('./probe/profile');

const env = (name, fallback) => {
  const v = process.env[name];
  if (v === undefined || v === '') {
    if (fallback === undefined) throw new Error(`${name} is not set`);
    return fallback;
  }
  return v;
};
const port = env('PORT');
const folder = env('FOLDER');
const configPath = env('CONFIG');
const probeOut = env('PROBE_OUT');
const out = env('OUT');
const file = env('FILE');
const edits = Number(env('EDITS', '30'));
const warmup = Number(env('WARMUP', '6'));
const pauseMs = Number(env('PAUSE_MS', '1000'));
const stdinLog = process.env.STDIN_LOG || '';
const stdoutLog = process.env.STDOUT_LOG || '';
const timesLog = process.env.TIMES_LOG || '';
const artifacts = process.env.ARTIFACTS || '';
const attempts = 3;
const profile = process.env.BENCH_PROFILE === '1';
const keys = process.env.KEYS === '1';
const nowMs = () => performance.timeOrigin + performance.now();

function percentile(values, p) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  return v[Math.min(v.length - 1, Math.ceil((p / 100) * v.length) - 1)];
}
const r1 = (x) => (x === null || x === undefined ? null : Math.round(x * 10) / 10);
function stats(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x));
  return { n: v.length, p50: r1(percentile(v, 50)), p95: r1(percentile(v, 95)), min: r1(Math.min(...v)), max: r1(Math.max(...v)) };
}

// In the page before any workbench script: record each new text of the
// status bar's problem count (`status.problems`), with its time.
function observeProblems() {
  const nowMs = () => performance.timeOrigin + performance.now();
  window.__problems = [];
  // Keystroke mode: when the page saw each key (capture phase, first of all listeners).
  window.__keydowns = [];
  window.addEventListener('keydown', () => window.__keydowns.push(nowMs()), true);
  let last = null;
  const record = () => {
    const el = document.getElementById('status.problems');
    if (!el) return;
    const text = (el.getAttribute('aria-label') || '') + ' | ' + el.textContent;
    if (text === last) return;
    last = text;
    const entry = { t: nowMs(), text, frame: null };
    window.__problems.push(entry);
    requestAnimationFrame(() => {
      entry.frame = nowMs();
    });
  };
  const attach = () => {
    const bar = document.getElementById('workbench.parts.statusbar');
    if (!bar) {
      setTimeout(attach, 50);
      return;
    }
    new MutationObserver(record).observe(bar, { subtree: true, childList: true, characterData: true, attributes: true });
    record();
  };
  attach();
  // Messages of ≥ 1 KB reaching the window over its WebSockets (from the
  // extension host), with the time the page handled them: the diagnostics'
  // markers (VS Code's `$changeMany`, its name near the start of the
  // message) among them. A message of more than 256 KB comes in parts of
  // 256 KB and a last, shorter one (kept whatever its size).
  window.__wsMessages = [];
  let afterPart = false; // the message before was a 256 KB part of a longer one
  const Native = window.WebSocket;
  // The window's model changes sent to the extension host (VS Code's
  // `$acceptModelChanged`): when the window applied an edit, where a
  // keystroke starts.
  window.__modelChanges = [];
  window.WebSocket = class extends Native {
    send(data) {
      try {
        const bytes = data instanceof ArrayBuffer ? new Uint8Array(data, 0, Math.min(200, data.byteLength)) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, Math.min(200, data.byteLength)) : null;
        if (bytes && String.fromCharCode(...bytes).includes('$acceptModelChanged')) window.__modelChanges.push(nowMs());
      } catch {
        // not ours to break
      }
      return super.send(data);
    }
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) => {
        const t = nowMs();
        const d = e.data;
        const bytes = typeof d === 'string' ? d.length : d.byteLength ?? d.size ?? 0;
        const part = afterPart;
        afterPart = bytes === 262144;
        if (bytes < 1000 && !part) return;
        const entry = { t, bytes, markers: null };
        window.__wsMessages.push(entry);
        const tag = (head) => (entry.markers = String.fromCharCode(...new Uint8Array(head)).includes('$changeMany'));
        // (VS Code's socket gets Blobs and reads them in order; this reads a copy of the head.)
        if (d instanceof ArrayBuffer) tag(d.slice(0, 300));
        else if (d instanceof Blob) d.slice(0, 300).arrayBuffer().then(tag, () => {});
      });
    }
  };
}

// The numbers of the problem count: [errors, warnings, …] (none: "No Problems").
const numbers = (text) => {
  const n = (text.split(' | ')[1] || text).match(/\d+/g)?.map(Number) || [];
  return n.length ? n : [0];
};

// The messages of a copy of one direction of the stream, in order: each with
// its body's size in bytes.
function readMessages(log) {
  const buf = fs.readFileSync(log);
  const messages = [];
  let at = 0;
  while (at < buf.length) {
    const head = buf.indexOf('\r\n\r\n', at);
    if (head < 0) break;
    const m = /Content-Length:\s*(\d+)/i.exec(buf.toString('latin1', at, head));
    if (!m) break;
    const bytes = Number(m[1]);
    if (head + 4 + bytes > buf.length) break; // cut off when the copy was taken
    const body = buf.toString('utf8', head + 4, head + 4 + bytes);
    const start = at;
    at = head + 4 + bytes;
    let msg = null;
    try {
      msg = JSON.parse(body);
    } catch {
      // counted as unreadable
    }
    messages.push({ msg, bytes, start, end: at });
  }
  return messages;
}
// The chunks the relay (relay.js) passed on: per direction ('i' to the
// server, 'o' from it) their times and the offsets they end at; and the time
// of the chunk holding a given byte of that direction's stream.
function readChunks(log) {
  const chunks = { i: [], o: [] };
  for (const line of fs.readFileSync(log, 'utf8').split('\n')) {
    const [dir, t, end] = line.split(' ');
    if (chunks[dir]) chunks[dir].push({ t: Number(t), end: Number(end) });
  }
  return chunks;
}
function timeOfByte(chunks, offset) {
  let lo = 0;
  let hi = chunks.length - 1;
  if (hi < 0 || chunks[hi].end <= offset) return null;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (chunks[mid].end > offset) hi = mid;
    else lo = mid + 1;
  }
  return chunks[lo].t;
}

const median = (values) => r1(percentile(values, 50));

/**
 * BENCH_PROFILE=1: what the window's main thread ran from the markers'
 * first part to the problem count in the DOM, summed over the measured
 * edits by the function at the top of each sample (self) and, for the
 * workbench's own frames, the outermost named caller under the event loop.
 */
function windowDuringMarkers(prof, offsetMs, perEdit, rows) {
  const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children || []) parent.set(c, n.id);
  const name = (n) => `${n.callFrame.functionName || '(anonymous)'} ${(n.callFrame.url || '').split('/').pop()}:${n.callFrame.lineNumber + 1}`;
  const windows = perEdit
    .map((p, i) => (p.markersInWindow === null || p.problemsInDom === null ? null : [rows[i].t0 + p.markersInWindow, rows[i].t0 + p.problemsInDom]))
    .filter(Boolean);
  const self = new Map();
  const stack = new Map();
  let ms = 0;
  let t = prof.startTime;
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i] || 0;
    const at = t / 1000 + offsetMs;
    if (!windows.some(([a, b]) => at >= a && at <= b)) continue;
    const dt = (prof.timeDeltas[i + 1] ?? 0) / 1000;
    ms += dt;
    const leaf = nodes.get(prof.samples[i]);
    if (!leaf) continue;
    self.set(name(leaf), (self.get(name(leaf)) || 0) + dt);
    // The chain of named frames, outermost first, shortened to four.
    const chain = [];
    for (let id = leaf.id; id !== undefined; id = parent.get(id)) {
      const n = nodes.get(id);
      if (n.callFrame.functionName && n.callFrame.functionName !== '(root)') chain.unshift(n.callFrame.functionName);
    }
    const key = chain.slice(0, 4).join(' > ') || name(leaf);
    stack.set(key, (stack.get(key) || 0) + dt);
  }
  const top = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => [k, Math.round((v / Math.max(1, windows.length)) * 10) / 10]);
  return { edits: windows.length, msPerEdit: Math.round((ms / Math.max(1, windows.length)) * 10) / 10, selfMsPerEdit: top(self, 25), stackMsPerEdit: top(stack, 25) };
}

/**
 * One edit's way to the problem count, as times after the probe's edit call
 * (t0), and the median of each over the measured edits: the points come from
 * the probe (extension host), the extension's marks (client), the relay
 * (server's input and output) and the page (window). A point not seen for an
 * edit (e.g. a pull cancelled and made again) is left out of that edit.
 */
function timeline(rows, probe, input, output, chunks, wsMessages, modelChanges, keydowns) {
  const marks = probe.clientMarks || [];
  const firstMark = (what, version, from) => marks.find((m) => m.what === what && m.version === version && m.t >= from)?.t ?? null;
  const inTimed = input && chunks ? input.map((m) => ({ ...m, t: timeOfByte(chunks.i, m.end - 1) })) : [];
  const answers = new Map();
  // Diagnostics pushed (a client without pull support), by document version.
  const pushed = new Map();
  if (output && chunks) {
    for (const m of output) {
      const times = () => ({ first: timeOfByte(chunks.o, m.start), last: timeOfByte(chunks.o, m.end - 1), bytes: m.bytes });
      if (m.msg && m.msg.method === undefined && m.msg.id !== undefined) {
        answers.set(JSON.stringify(m.msg.id), times());
      } else if (m.msg?.method === 'textDocument/publishDiagnostics' && typeof m.msg.params?.version === 'number' && !pushed.has(m.msg.params.version)) {
        pushed.set(m.msg.params.version, times());
      }
    }
  }
  const points = rows.map((r, i) => {
    const t0 = r.t0;
    const next = rows[i + 1]?.t0 ?? Infinity;
    const at = (t) => (t === null || t === undefined || !(t >= t0) || t >= next ? null : t - t0);
    const change = inTimed.find((m) => m.t >= t0 && m.t < next && m.msg?.method === 'textDocument/didChange' && m.msg.params?.textDocument?.version === r.version);
    const pull = change ? inTimed.find((m) => m.t >= change.t && m.t < next && (m.msg?.method === 'textDocument/diagnostic' || m.msg?.method === 'catalogue/diagnostic')) : null;
    const answer = pull ? answers.get(JSON.stringify(pull.msg.id)) : pushed.get(r.version) ?? null;
    const converted = firstMark('converted', r.version, t0);
    // (The extension may set the diagnostics before its 'converted' mark: from the answer on.)
    const from = answer?.last ?? converted;
    const head = from === null ? -1 : wsMessages.findIndex((w) => w.markers === true && w.t >= from && w.t < next);
    const markers = head < 0 ? null : wsMessages[head];
    // A message of more than 256 KB comes in parts of exactly 256 KB and a last, shorter one.
    let tail = head;
    while (tail >= 0 && wsMessages[tail].bytes === 262144 && tail + 1 < wsMessages.length) tail++;
    const markersEnd = tail < 0 ? null : wsMessages[tail];
    return {
      ...(keys ? { keyInPage: at(keydowns.find((t) => t >= t0 && t < next)) } : {}),
      appliedInWindow: at(modelChanges.find((t) => t >= t0 && t < next)),
      applied: r.appliedMs,
      documentChangedInExtensionHost: at(r.tChanged),
      didChangeSent: at(firstMark('didChange', r.version, t0)),
      pullSent: at(firstMark('pull', r.version, t0)),
      didChangeAtServer: at(change?.t),
      pullAtServer: at(pull?.t),
      answerStarted: at(answer?.first),
      answerSent: at(answer?.last),
      converted: at(converted),
      setInExtensionHost: at(firstMark('set', r.version, t0)),
      markersInWindow: at(markers?.t),
      markersReceivedInWindow: at(markersEnd?.t),
      problemsInDom: r.problemsDomMs,
      problemsShown: r.problemsShownMs,
      onDidChangeDiagnostics: r.diagnosticsMs,
    };
  });
  const names = Object.keys(points[0] || {});
  const at = {};
  for (const k of names) at[k] = median(points.map((p) => p[k]));
  // Each step's own duration (the median of its per-edit differences).
  const path = names.filter((k) => !['onDidChangeDiagnostics', 'applied', 'didChangeAtServer'].includes(k));
  const segments = {};
  let prev = null;
  for (const k of path) {
    segments[prev ? `${prev} → ${k}` : `edit → ${k}`] = median(points.map((p) => (p[k] === null ? null : prev ? (p[prev] === null ? null : p[k] - p[prev]) : p[k])));
    prev = k;
  }
  return { medianMsAfterEdit: at, medianSegmentsMs: segments, perEdit: points };
}

const kind = (msg) => (msg === null ? '(unreadable)' : msg.method ? msg.method : msg.id !== undefined ? '(response)' : '(other)');

// Per edit (the k-th didChange and what follows it up to the next one): the
// requests the server received and, if its output was copied too, the bytes
// of its answers to them by method and the bytes of what it sent on its own.
function perEditTraffic(input, output, measuredFrom) {
  const perEdit = [];
  const editOfRequest = new Map(); // request id → [edit index, method]
  for (const { msg } of input) {
    const m = kind(msg);
    if (m === 'textDocument/didChange') perEdit.push({});
    else if (perEdit.length > 0) perEdit[perEdit.length - 1][m] = (perEdit[perEdit.length - 1][m] || 0) + 1;
    if (msg && msg.method && msg.id !== undefined) editOfRequest.set(JSON.stringify(msg.id), [perEdit.length - 1, msg.method]);
  }
  const measuredEdits = Math.max(0, perEdit.length - measuredFrom);
  const sum = {};
  for (const e of perEdit.slice(measuredFrom)) for (const [m, n] of Object.entries(e)) sum[m] = (sum[m] || 0) + n;
  const mean = {};
  for (const [m, n] of Object.entries(sum).sort((a, b) => b[1] - a[1])) mean[m] = Math.round((n / Math.max(1, measuredEdits)) * 100) / 100;
  let answers = null;
  if (output) {
    // Answers by the method of their request (only those to requests made
    // during measured edits); messages the server sent on its own, by method
    // (counted for the whole session: they carry no edit index).
    const byMethod = {};
    const own = {};
    for (const { msg, bytes } of output) {
      if (msg && msg.method === undefined && msg.id !== undefined) {
        const at = editOfRequest.get(JSON.stringify(msg.id));
        if (!at || at[0] < measuredFrom) continue;
        const m = msg.error ? `${at[1]} (error)` : at[1];
        const b = (byMethod[m] = byMethod[m] || { answers: 0, bytes: 0, maxBytes: 0 });
        b.answers += 1;
        b.bytes += bytes;
        b.maxBytes = Math.max(b.maxBytes, bytes);
      } else {
        const m = kind(msg);
        const b = (own[m] = own[m] || { messages: 0, bytes: 0 });
        b.messages += 1;
        b.bytes += bytes;
      }
    }
    answers = {};
    for (const [m, b] of Object.entries(byMethod).sort((x, y) => y[1].bytes - x[1].bytes)) {
      answers[m] = {
        perEdit: Math.round((b.answers / Math.max(1, measuredEdits)) * 100) / 100,
        meanBytes: Math.round(b.bytes / b.answers),
        maxBytes: b.maxBytes,
        bytesPerEdit: Math.round(b.bytes / Math.max(1, measuredEdits)),
      };
    }
    answers['(sent by the server, whole session)'] = own;
  }
  return { didChanges: perEdit.length, meanPerEdit: mean, answers };
}

// BENCH_PROFILE=1: a CPU profile of the workbench page (the window
// renderer's main thread) from the file's first problem count to the end of
// the edits, written to ARTIFACTS/vscode-bench-renderer.cpuprofile (open it in
// Chromium's DevTools), summarised by self and total time per function. The
// profiler slows the page down: for attribution, not for the figures.
async function startProfile(page) {
  const cdp = await page.context().newCDPSession(page);
  await page.waitForFunction(() => (window.__problems || []).some((p) => /\d/.test(p.text)), null, { timeout: 300000, polling: 200 });
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
  await cdp.send('Profiler.start');
  return cdp;
}

async function stopProfile(cdp) {
  const { profile: prof } = await cdp.send('Profiler.stop');
  // The profile's times are the monotonic clock's (µs), as node's hrtime
  // on Linux: its offset to epoch milliseconds places the samples on the
  // timeline (see windowDuringMarkers).
  const epochMinusMonotonicMs = performance.timeOrigin + performance.now() - Number(process.hrtime.bigint()) / 1e6;
  if (artifacts) fs.writeFileSync(path.join(artifacts, 'vscode-bench-renderer.cpuprofile'), JSON.stringify(prof));
  return { ...summariseProfile(prof), epochMinusMonotonicMs, raw: prof };
}

async function waitForFile(p, timeoutMs, alive) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (fs.existsSync(p)) return true;
    if (!alive()) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

// Keystroke mode: wait for the probe's result like waitForFile, and meanwhile
// type each key the probe asks for (OUT.key: { i, ch }) into the page,
// recording for edit i the driver's time just before the press (t0), when
// the press's CDP calls returned, and whether the editor had the focus.
async function serveKeys(page, result, timeoutMs, alive, pressed) {
  const request = `${result}.key`;
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (fs.existsSync(result)) return true;
    if (!alive()) return false;
    let ask = null;
    try {
      ask = JSON.parse(fs.readFileSync(request, 'utf8'));
    } catch {
      // none yet (the probe writes it whole: a rename)
    }
    if (ask && !pressed.has(ask.i)) {
      // (Before t0: the editor's hidden text area must have the focus.)
      const focused = await page.evaluate(() => !!document.activeElement?.closest('.monaco-editor'));
      if (!focused) throw new Error(`keystroke mode: the editor does not have the focus before edit ${ask.i + 1} (active element: ${await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120))})`);
      const t0 = nowMs();
      await page.keyboard.press(ask.ch);
      pressed.set(ask.i, { ch: ask.ch, t0, returned: nowMs(), focused });
      continue;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return false;
}

// The page's clock minus this driver's (ms), from the round trip with the
// shortest time (its half the uncertainty).
async function pageClockOffset(page) {
  let best = null;
  for (let k = 0; k < 20; k++) {
    const a = nowMs();
    const p = await page.evaluate(() => performance.timeOrigin + performance.now());
    const b = nowMs();
    if (!best || b - a < best.rtt) best = { rtt: b - a, offset: p - (a + b) / 2 };
  }
  return r1(best.offset);
}

(async () => {
  const browser = await chromium.launch({
    executablePath: env('CHROMIUM'),
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
  });
  const browserPid = process.pid; // Chromium runs as a child of this process
  const config = { keys, file, out: probeOut, edits, warmup, pauseMs, timeoutMs: 120000, browserPid, profile, profileOut: profile && artifacts ? path.join(artifacts, 'vscode-bench-extension-host.cpuprofile') : '' };
  let probe = null;
  let problems = [];
  let wsMessages = [];
  let modelChanges = [];
  let keydowns = [];
  let pressed = new Map();
  let clockOffsetMs = null;
  const failures = [];
  for (let attempt = 1; attempt <= attempts && !probe; attempt++) {
    fs.rmSync(probeOut, { force: true });
    fs.rmSync(`${probeOut}.key`, { force: true });
    pressed = new Map();
    fs.writeFileSync(configPath, JSON.stringify(config));
    const page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
    await page.addInitScript(observeProblems);
    let closed = false;
    page.on('close', () => (closed = true));
    page.on('crash', () => (closed = true));
    try {
      await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}`, { timeout: 90000 });
      await page.waitForSelector('.monaco-workbench', { timeout: 90000 });
      const profiling = profile ? startProfile(page) : null;
      // Open, warm-up and edits, each bounded by the probe's own timeouts.
      const budget = 300000 + (warmup + edits) * (pauseMs + 120000);
      const alive = () => !closed;
      if (!(await (keys ? serveKeys(page, probeOut, budget, alive, pressed) : waitForFile(probeOut, budget, alive)))) {
        throw new Error(fs.existsSync(configPath) ? 'the probe extension never started (is it installed? was CATALOGUE_BENCH_CONFIG passed to the extension host?)' : 'the probe started but wrote no result');
      }
      const result = JSON.parse(fs.readFileSync(probeOut, 'utf8'));
      if (profiling) result.rendererProfile = await stopProfile(await profiling);
      if (result.error) throw new Error(`probe: ${result.error}`);
      problems = await page.evaluate(() => window.__problems);
      wsMessages = await page.evaluate(() => window.__wsMessages || []);
      modelChanges = await page.evaluate(() => window.__modelChanges || []);
      keydowns = await page.evaluate(() => window.__keydowns || []);
      if (keys) clockOffsetMs = await pageClockOffset(page);
      // After the probe scrolled: code lenses drawn among the lines now in view.
      if (result.scrolledTo) {
        const t = Date.now();
        const count = await page
          .waitForFunction(
            (line) => {
              const inView = (e) => {
                const r = e.getBoundingClientRect();
                return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight;
              };
              const numbers = [...document.querySelectorAll('.line-numbers')].filter(inView).map((e) => Number(e.textContent));
              // (sticky scroll shows the enclosing line's number above: not a test)
              if (!numbers.some((n) => n >= line && n < line + 5)) return false;
              const lenses = [...document.querySelectorAll('.codelens-decoration')].filter((e) => inView(e) && e.textContent.trim());
              return lenses.length || false;
            },
            result.scrolledTo,
            { timeout: 20000 },
          )
          .then((h) => h.jsonValue())
          .catch(() => 0);
        result.lensesAfterScroll = { line: result.scrolledTo, lenses: count, ms: count ? Date.now() - t : null };
      }
      if (artifacts) await page.screenshot({ path: path.join(artifacts, 'vscode-bench.png') }).catch(() => {});
      probe = result;
    } catch (e) {
      failures.push(`attempt ${attempt}: ${e.message || e}`);
      console.error(`note: attempt ${attempt} failed: ${e.message || e}`);
      if (artifacts) await page.screenshot({ path: path.join(artifacts, `vscode-bench-failure-${attempt}.png`) }).catch(() => {});
    }
    await page.close().catch(() => {});
  }
  await browser.close();
  if (!probe) {
    console.error(`vscode bench: failed after ${attempts} attempts:\n  ${failures.join('\n  ')}`);
    process.exit(1);
  }

  // Keystroke mode: each edit starts at its key press (the driver's clock).
  if (keys) {
    for (const [i, e] of probe.edits.entries()) {
      const k = pressed.get(i);
      if (!k) throw new Error(`keystroke mode: no key press recorded for edit ${i + 1}`);
      Object.assign(e, {
        t0: k.t0,
        key: k.ch,
        appliedMs: k.returned - k.t0,
        changedMs: e.tChanged - k.t0,
        diagnosticsMs: e.tDiagnostics - k.t0,
        focusedBefore: k.focused,
      });
    }
  }
  // Match each edit to the problem count it produced in the browser.
  const rows = probe.edits.map((e, i) => {
    const next = probe.edits[i + 1]?.t0 ?? Infinity;
    const shown = problems.find((p) => p.t > e.t0 && p.t < next && numbers(p.text)[0] === e.errorsAfter);
    return {
      ...e,
      problemsDomMs: shown ? shown.t - e.t0 : null,
      problemsShownMs: shown && shown.frame ? shown.frame - e.t0 : null,
      probeToProblemsMs: shown && shown.frame ? shown.frame - (e.t0 + e.diagnosticsMs) : null,
    };
  });
  const measured = rows.filter((r) => !r.warmup);
  const unmatched = measured.filter((r) => r.problemsShownMs === null).length;
  let requests = null;
  let input = null;
  let output = null;
  if (stdinLog && fs.existsSync(stdinLog)) {
    input = readMessages(stdinLog);
    output = stdoutLog && fs.existsSync(stdoutLog) ? readMessages(stdoutLog) : null;
    requests = perEditTraffic(input, output, warmup);
  }
  const chunks = timesLog && fs.existsSync(timesLog) ? readChunks(timesLog) : null;
  const path_ = timeline(measured, probe, input, output, chunks, wsMessages, modelChanges, keydowns);
  if (probe.rendererProfile?.raw) {
    probe.rendererProfile.duringMarkers = windowDuringMarkers(probe.rendererProfile.raw, probe.rendererProfile.epochMinusMonotonicMs, path_.perEdit, measured);
    delete probe.rendererProfile.raw;
  }
  const summary = {
    // 'keys': each edit a key press typed into the window (edit → … is
    // keystroke → …; editApplied is the press's CDP calls returning);
    // 'probe': each edit made by the probe in the extension host.
    mode: keys ? 'keys' : 'probe',
    clockOffsetMs,
    products: Number(process.env.PRODUCTS || 0) || null,
    runs: measured.length,
    warmup,
    pauseMs,
    editToProblemsShown: stats(measured.map((r) => r.problemsShownMs)),
    editToProblemsInDom: stats(measured.map((r) => r.problemsDomMs)),
    editToDiagnosticsEvent: stats(measured.map((r) => r.diagnosticsMs)),
    editApplied: stats(measured.map((r) => r.appliedMs)),
    editToDocumentChanged: stats(measured.map((r) => r.changedMs)),
    probeToProblemsShown: stats(measured.map((r) => r.probeToProblemsMs)),
    // Where an edit's time goes (medians; see timeline()). VS Code fires
    // onDidChangeDiagnostics in the extension host 50 ms after the
    // diagnostics are set (its DebounceEmitter): not on the way to the window.
    timeline: { medianMsAfterEdit: path_.medianMsAfterEdit, medianSegmentsMs: path_.medianSegmentsMs },
    // The probe edits from the extension host: the edit goes to the window and
    // back before the server hears of it. A keystroke is applied in the window
    // first: this is edit → problems shown without the first leg.
    appliedInWindowToProblemsShown: stats(path_.perEdit.map((p) => (p.appliedInWindow === null || p.problemsShown === null ? null : p.problemsShown - p.appliedInWindow))),
    unmatched,
    diagnosticsEmptiedDuringEdits: probe.emptiedDuringEdits,
    cpuMsPerEdit: probe.cpuMsPerEdit ?? null,
    cpuMsPerIdleSecond: probe.cpuMsPerIdleSecond ?? null,
    open: probe.open,
    lensesAfterScroll: probe.lensesAfterScroll ?? null,
    rendererProfile: probe.rendererProfile ?? null,
    extensionHostProfile: probe.extensionHostProfile ?? null,
    requests,
    load: os.loadavg().map((x) => Math.round(x * 100) / 100),
    cpus: os.cpus().length,
  };
  fs.writeFileSync(out, JSON.stringify({ summary, edited: probe.edited, notes: probe.notes, failures, edits: rows, timelinePerEdit: path_.perEdit, problems, windowMessages: wsMessages }, null, 1));
  const s = summary;
  const f = (x) => (x === null ? '–' : x.toFixed(1));
  console.log(
    `vscode bench: ${s.products ?? '?'} products, ${s.runs} edits (after ${warmup} warm-up): ` +
      (keys ? `keystroke mode (real key presses; page clock − driver clock ${f(clockOffsetMs)} ms): keystroke` : 'edit') +
      ` → problems shown p50 ${f(s.editToProblemsShown.p50)} ms, p95 ${f(s.editToProblemsShown.p95)} ms; ` +
      `from the edit applied in the window p50 ${f(s.appliedInWindowToProblemsShown.p50)} ms, p95 ${f(s.appliedInWindowToProblemsShown.p95)} ms; ` +
      `edit → onDidChangeDiagnostics p50 ${f(s.editToDiagnosticsEvent.p50)} / p95 ${f(s.editToDiagnosticsEvent.p95)} ms; ` +
      `open → first diagnostics ${f(s.open.openToFirstDiagnosticsMs)} ms; ` +
      `timeline (median ms after the edit): ${Object.entries(s.timeline.medianMsAfterEdit)
        .map(([k, v]) => `${k} ${v === null ? '–' : v}`)
        .join(', ')}; ` +
      (s.cpuMsPerEdit ? `CPU ms per edit: ${Object.entries(s.cpuMsPerEdit).map(([k, v]) => `${k} ${v}`).join(', ')}; ` : '') +
      (unmatched ? `${unmatched} edits without a problem count seen; ` : '') +
      (s.lensesAfterScroll ? `code lenses in view after scrolling to line ${s.lensesAfterScroll.line}: ${s.lensesAfterScroll.lenses}; ` : '') +
      (s.diagnosticsEmptiedDuringEdits ? `problems emptied ${s.diagnosticsEmptiedDuringEdits} times; ` : '') +
      (s.requests ? `requests per edit: ${Object.entries(s.requests.meanPerEdit).map(([k, v]) => `${k} ${v}`).join(', ')}; ` : '') +
      (s.requests?.answers
        ? `answers (mean bytes): ${Object.entries(s.requests.answers)
            .filter(([, v]) => v.meanBytes !== undefined)
            .map(([k, v]) => `${k} ${v.meanBytes}`)
            .join(', ')}; `
        : '') +
      `load ${s.load.join(' ')} on ${s.cpus} CPUs; JSON: ${out}`,
  );
})().catch((e) => {
  console.error(`vscode bench: ${e.stack || e}`);
  process.exit(1);
});
