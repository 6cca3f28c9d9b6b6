//! LSP latency benchmark: drives a language server over stdio the way an
//! editor does and prints p50/p95 latencies and the server's peak RSS.
//!
//! cargo run --release --example lsp_bench -- FILE [--edits N] [--in-shipment | --in-licence] [--server "CMD ARGS..."]
//!
//! Scenario: open FILE and wait for its diagnostics; N one-character
//! incremental edits, each waited for (publishDiagnostics of that version);
//! N/10 full-text changes, each waited for; hover, completion and code-action
//! requests at a product; then N more one-character edits, each followed by
//! the requests an editor repeats after every edit (`documentSymbol`, then
//! `inlayHint` and `codeLens` for a screenful of lines around the edit),
//! each timed from request to response, and the document pull, full
//! (`textDocument/diagnostic`) and as a delta (`catalogue/diagnostic`). Default server:
//! target/release/catalogue-lsp serve.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// How long the client side spends validating each publishDiagnostics (ms).
static PARSE_US: std::sync::Mutex<Vec<f64>> = std::sync::Mutex::new(Vec::new());

struct Lsp {
    stdin: std::process::ChildStdin,
    rx: Receiver<Value>,
    id: i64,
}

impl Lsp {
    fn send(&mut self, mut v: Value) {
        if v.get("params").is_some_and(Value::is_null) {
            if let Some(o) = v.as_object_mut() {
                o.remove("params");
            }
        }
        let b = serde_json::to_vec(&v).unwrap_or_default();
        let _ = write!(self.stdin, "Content-Length: {}\r\n\r\n", b.len());
        let _ = self.stdin.write_all(&b);
        let _ = self.stdin.flush();
    }
    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.id += 1;
        let id = self.id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let m = self.next();
            if m.get("id") == Some(&json!(id)) && m.get("method").is_none() {
                return m;
            }
            self.answer(&m);
        }
    }
    fn next(&mut self) -> Value {
        self.rx
            .recv_timeout(Duration::from_secs(120))
            .expect("server went silent")
    }
    fn answer(&mut self, m: &Value) {
        if m.get("method").is_some() && m.get("id").is_some() {
            let id = m["id"].clone();
            self.send(json!({"jsonrpc": "2.0", "id": id, "result": null}));
        }
    }
    /// Waits for diagnostics of `uri` with `version` (or without a version);
    /// returns how many there were and the message's size.
    fn wait_diags(&mut self, uri: &str, version: i64) -> (u64, u64) {
        loop {
            let m = self.next();
            if m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri {
                let v = &m["params"]["version"];
                if v.is_null() || v == &json!(version) {
                    let n = |k: &str| m["params"][k].as_u64().unwrap_or(0);
                    return (n("count"), n("bytes"));
                }
            }
            self.answer(&m);
        }
    }
}

/// A publishDiagnostics notification, validated but not built as a tree
/// (the diagnostics are counted): what any client must at least do.
fn lean_publish(body: &[u8]) -> Option<Value> {
    #[derive(serde::Deserialize)]
    struct Msg {
        method: String,
        params: Params,
    }
    #[derive(serde::Deserialize)]
    struct Params {
        uri: String,
        version: Option<i64>,
        diagnostics: Vec<serde::de::IgnoredAny>,
    }
    let m: Msg = serde_json::from_slice(body).ok()?;
    (m.method == "textDocument/publishDiagnostics").then(|| {
        json!({"method": m.method, "params": {"uri": m.params.uri, "version": m.params.version,
            "count": m.params.diagnostics.len(), "bytes": body.len()}})
    })
}

/// Symbols in a documentSymbol answer, children included.
fn count_symbols(v: &Value) -> usize {
    v.as_array().map_or(0, |a| {
        a.iter().map(|s| 1 + count_symbols(&s["children"])).sum()
    })
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn peak_rss_kb(pid: u32) -> Option<u64> {
    status_kb(pid, "VmHWM:")
}

/// A memory figure of /proc/PID/status, in KiB.
fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Starts the server and a thread reading its messages.
fn start(server: &str) -> (std::process::Child, Lsp) {
    let mut parts = server.split_whitespace();
    let mut child = Command::new(parts.next().unwrap_or("catalogue-lsp"))
        .args(parts)
        .env(
            "CATALOGUE_LSP_LOG",
            std::env::var("CATALOGUE_LSP_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(
            std::fs::File::create(std::env::temp_dir().join("lsp_bench_server.log"))
                .map(Stdio::from)
                .unwrap_or_else(|_| Stdio::null()),
        )
        .spawn()
        .expect("start server");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        let mut buf = Vec::new();
        loop {
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let t = line.trim_end();
                if t.is_empty() {
                    break;
                }
                if let Some(v) = t.strip_prefix("Content-Length: ") {
                    len = v.parse().unwrap_or(0);
                }
            }
            // One buffer for every message, as an editor's reader keeps one.
            buf.resize(len, 0);
            if r.read_exact(&mut buf).is_err() {
                return;
            }
            let t = Instant::now();
            let lean = lean_publish(&buf);
            if lean.is_some() {
                PARSE_US
                    .lock()
                    .map(|mut v| v.push(t.elapsed().as_micros() as f64 / 1e3))
                    .ok();
            }
            if let Some(v) = lean.or_else(|| serde_json::from_slice(&buf).ok()) {
                let _ = tx.send(v);
            }
        }
    });
    let lsp = Lsp {
        stdin: child.stdin.take().expect("stdin"),
        rx,
        id: 0,
    };
    (child, lsp)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let file = args
        .first()
        .expect(
            "usage: lsp_bench FILE [--edits N] [--in-shipment | --in-licence] [--server CMD] | lsp_bench --workspace DIR [--copy]",
        )
        .clone();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let edits: usize = flag("--edits").and_then(|s| s.parse().ok()).unwrap_or(100);
    let server = flag("--server").unwrap_or_else(|| "target/release/catalogue-lsp serve".into());
    if let Some(dir) = flag("--workspace") {
        workspace_bench(&server, &dir, edits, args.iter().any(|a| a == "--copy"));
        return;
    }
    let (mut child, mut lsp) = start(&server);
    let pid = child.id();
    let path = std::fs::canonicalize(&file).expect("file");
    let dir = path.parent().expect("dir").to_path_buf();
    let uri = format!("file://{}", path.display());
    let text = std::fs::read_to_string(&path).expect("read");
    let root = format!("file://{}", dir.display());
    let init = lsp.request("initialize", json!({"processId": null, "rootUri": root, "workspaceFolders": [{"uri": root, "name": "bench"}], "capabilities": {"general": {"positionEncodings": ["utf-16"]}, "textDocument": {"publishDiagnostics": {"versionSupport": true}}}}));
    lsp.notify("initialized", json!({}));
    // A server that asks for whole texts (`TextDocumentSyncKind.Full`) gets them, as editors do.
    let sync = &init["result"]["capabilities"]["textDocumentSync"];
    let full_sync = sync.as_u64().or_else(|| sync["change"].as_u64()) == Some(1);
    if full_sync {
        println!("sync: the server asks for the whole text on every change");
    }

    let t = Instant::now();
    lsp.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "toml", "version": 1, "text": text}}),
    );
    let (count, bytes) = lsp.wait_diags(&uri, 1);
    let open_ms = t.elapsed().as_secs_f64() * 1e3;
    let open_rss = (status_kb(pid, "VmRSS:"), peak_rss_kb(pid));

    // One-character edits inside the name of a product in the middle of the
    // file (`--in-shipment`: in the quantity of a shipment there, after `quantity = `).
    // In a CSV catalogue: the second cell of the middle row (its `name`).
    let csv = path.to_string_lossy().ends_with(".csv");
    let in_shipment = args.iter().any(|a| a == "--in-shipment");
    // `--in-licence`: in a product's licence reference (after `licence = "`),
    // so that each edit makes it unknown or known again: diagnostics change.
    let in_licence = args.iter().any(|a| a == "--in-licence");
    let lines: Vec<&str> = text.lines().collect();
    let target = lines
        .iter()
        .enumerate()
        .skip(lines.len() / 2)
        .find(|(i, l)| {
            if csv {
                true
            } else if in_shipment {
                l.starts_with("quantity = ")
                    && lines[..*i]
                        .iter()
                        .rev()
                        .take(4)
                        .any(|l| *l == "[[shipment]]")
            } else if in_licence {
                l.starts_with("licence = \"")
            } else {
                l.starts_with("name = \"")
            }
        })
        .map(|(i, _)| i)
        .unwrap_or(0);
    // `name = "` and `quantity = ` are both followed by the edited column.
    let column = if csv {
        lines
            .get(target)
            .and_then(|l| l.find(','))
            .map_or(0, |c| c + 1)
    } else if in_shipment || in_licence {
        11
    } else {
        8
    };
    let mut version = 1;
    let mut change = Vec::new();
    for i in 0..edits {
        version += 1;
        let (range, txt) = if i % 2 == 0 {
            (
                json!({"start": {"line": target, "character": column}, "end": {"line": target, "character": column}}),
                if in_shipment { "7" } else { "x" },
            )
        } else {
            (
                json!({"start": {"line": target, "character": column}, "end": {"line": target, "character": column + 1}}),
                "",
            )
        };
        let t = Instant::now();
        let content = if full_sync {
            // The same edit, sent whole: `x` typed after `name = "` (8 bytes), or removed again.
            let at = text
                .split_inclusive('\n')
                .take(target)
                .map(str::len)
                .sum::<usize>()
                + column;
            let whole = if i % 2 == 0 {
                format!(
                    "{}{}{}",
                    &text[..at],
                    if in_shipment { "7" } else { "x" },
                    &text[at..]
                )
            } else {
                text.clone()
            };
            json!({"text": whole})
        } else {
            json!({"range": range, "text": txt})
        };
        lsp.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [content]}),
        );
        lsp.wait_diags(&uri, version);
        change.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let edits_rss = status_kb(pid, "VmHWM:");
    let mut full = Vec::new();
    for _ in 0..(edits / 10).max(1) {
        version += 1;
        let t = Instant::now();
        lsp.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}));
        lsp.wait_diags(&uri, version);
        full.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let full_rss = status_kb(pid, "VmHWM:");
    let mut req = |method: &str, params: Value| {
        let mut v = Vec::new();
        for _ in 0..edits.max(20) {
            let t = Instant::now();
            lsp.request(method, params.clone());
            v.push(t.elapsed().as_secs_f64() * 1e3);
        }
        v
    };
    let pos = json!({"line": target - 1, "character": 2});
    let mut hover = req(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": pos}),
    );
    let mut completion = req(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": {"line": target + 1, "character": 0}}),
    );
    let mut actions = req(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": {"start": pos, "end": pos}, "context": {"diagnostics": []}}),
    );
    // What an editor asks again after every edit: the outline (breadcrumbs,
    // sticky scroll), then inlay hints and code lenses for the visible lines.
    let (mut symbols, mut hints, mut lenses) = (Vec::new(), Vec::new(), Vec::new());
    // And the document pull, full (`textDocument/diagnostic`) and as a
    // delta from the last one (`catalogue/diagnostic`, the VS Code extension's).
    let (mut pulls, mut deltas, mut pull_bytes, mut delta_bytes) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut last_id = Value::Null;
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    let (mut symbol_bytes, mut symbol_count, mut hint_count, mut lens_count) = (0, 0, 0, 0);
    let screen = json!({"start": {"line": target.saturating_sub(30), "character": 0}, "end": {"line": target + 30, "character": 0}});
    for i in 0..edits {
        version += 1;
        let at = if i % 2 == 0 { column + 1 } else { column };
        let range = json!({"start": {"line": target, "character": column}, "end": {"line": target, "character": at}});
        let typed = lines[target].get(column..column + 1).unwrap_or("x");
        let txt = if i % 2 == 0 { "" } else { typed };
        if full_sync {
            break;
        }
        lsp.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"range": range, "text": txt}]}),
        );
        lsp.wait_diags(&uri, version);
        let t = Instant::now();
        let r = lsp.request(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": uri}}),
        );
        symbols.push(t.elapsed().as_secs_f64() * 1e3);
        symbol_bytes = serde_json::to_vec(&r["result"]).map_or(0, |b| b.len());
        symbol_count = count_symbols(&r["result"]);
        let t = Instant::now();
        let r = lsp.request(
            "textDocument/inlayHint",
            json!({"textDocument": {"uri": uri}, "range": screen}),
        );
        hints.push(t.elapsed().as_secs_f64() * 1e3);
        hint_count = r["result"].as_array().map_or(0, Vec::len);
        let t = Instant::now();
        let r = lsp.request(
            "textDocument/codeLens",
            json!({"textDocument": {"uri": uri}}),
        );
        lenses.push(t.elapsed().as_secs_f64() * 1e3);
        lens_count = r["result"].as_array().map_or(0, Vec::len);
        let t = Instant::now();
        let r = lsp.request(
            "textDocument/diagnostic",
            json!({"textDocument": {"uri": uri}}),
        );
        pulls.push(t.elapsed().as_secs_f64() * 1e3);
        pull_bytes.push(serde_json::to_vec(&r["result"]).map_or(0.0, |b| b.len() as f64));
        let t = Instant::now();
        let r = lsp.request(
            "catalogue/diagnostic",
            json!({"textDocument": {"uri": uri}, "previousResultId": last_id}),
        );
        deltas.push(t.elapsed().as_secs_f64() * 1e3);
        delta_bytes.push(serde_json::to_vec(&r["result"]).map_or(0.0, |b| b.len() as f64));
        last_id = r["result"]["resultId"].clone();
        *kinds
            .entry(r["result"]["kind"].as_str().unwrap_or("?").to_string())
            .or_default() += 1;
    }
    let rss = peak_rss_kb(pid);
    let _ = lsp.request("shutdown", Value::Null);
    lsp.notify("exit", Value::Null);
    let _ = child.wait();

    println!("server: {server}");
    println!(
        "file: {} ({} bytes, {} lines)",
        file,
        text.len(),
        lines.len()
    );
    println!(
        "diagnostics: {count} ({:.1} MB per publication)",
        bytes as f64 / 1e6
    );
    println!("open → diagnostics: {open_ms:.1} ms");
    if let (Some(now), Some(peak)) = open_rss {
        println!(
            "  RSS after open: {:.1} MB (peak so far {:.1} MB)",
            now as f64 / 1024.0,
            peak as f64 / 1024.0
        );
    }
    println!(
        "one-char didChange → publishDiagnostics ({} edits): p50 {:.2} ms, p95 {:.2} ms",
        change.len(),
        pct(&mut change, 0.5),
        pct(&mut change, 0.95)
    );
    println!(
        "full-text didChange → publishDiagnostics ({}): p50 {:.1} ms, p95 {:.1} ms",
        full.len(),
        pct(&mut full, 0.5),
        pct(&mut full, 0.95)
    );
    println!(
        "hover: p50 {:.2} ms, p95 {:.2} ms",
        pct(&mut hover, 0.5),
        pct(&mut hover, 0.95)
    );
    println!(
        "completion: p50 {:.2} ms, p95 {:.2} ms",
        pct(&mut completion, 0.5),
        pct(&mut completion, 0.95)
    );
    println!(
        "codeAction: p50 {:.2} ms, p95 {:.2} ms",
        pct(&mut actions, 0.5),
        pct(&mut actions, 0.95)
    );
    println!(
        "after an edit, documentSymbol ({symbol_count} symbols, {:.2} MB): p50 {:.2} ms, p95 {:.2} ms",
        symbol_bytes as f64 / 1e6,
        pct(&mut symbols, 0.5),
        pct(&mut symbols, 0.95)
    );
    println!(
        "after an edit, inlayHint for 60 lines ({hint_count} hints): p50 {:.2} ms, p95 {:.2} ms",
        pct(&mut hints, 0.5),
        pct(&mut hints, 0.95)
    );
    println!(
        "after an edit, codeLens ({lens_count} lenses): p50 {:.2} ms, p95 {:.2} ms",
        pct(&mut lenses, 0.5),
        pct(&mut lenses, 0.95)
    );
    if !pulls.is_empty() {
        println!(
            "after an edit, textDocument/diagnostic (full, median {:.0} KB): p50 {:.2} ms, p95 {:.2} ms",
            pct(&mut pull_bytes, 0.5) / 1e3,
            pct(&mut pulls, 0.5),
            pct(&mut pulls, 0.95)
        );
        println!(
            "after an edit, catalogue/diagnostic (delta from the last, median {:.1} KB; answers {kinds:?}): p50 {:.2} ms, p95 {:.2} ms",
            pct(&mut delta_bytes, 0.5) / 1e3,
            pct(&mut deltas, 0.5),
            pct(&mut deltas, 0.95)
        );
    }
    if let Ok(mut v) = PARSE_US.lock() {
        println!(
            "  of which the client reading one publishDiagnostics: p50 {:.2} ms",
            pct(&mut v, 0.5)
        );
    }
    if let (Some(a), Some(b)) = (edits_rss, full_rss) {
        println!(
            "  peak RSS after the one-char edits {:.1} MB, after the full-text changes {:.1} MB",
            a as f64 / 1024.0,
            b as f64 / 1024.0
        );
    }
    match rss {
        Some(kb) => println!("peak RSS: {:.1} MB", kb as f64 / 1024.0),
        None => println!("peak RSS: unavailable"),
    }
}

impl Lsp {
    /// Waits for a publication of each `(uri, version)` (a null version
    /// matches too); returns when each came, in ms after `t0`.
    fn wait_each(&mut self, want: &[(&str, i64)], t0: Instant) -> Vec<f64> {
        let mut when = vec![f64::NAN; want.len()];
        while when.iter().any(|w| w.is_nan()) {
            let m = self.next();
            if m["method"] == "textDocument/publishDiagnostics" {
                let v = &m["params"]["version"];
                for (k, (uri, version)) in want.iter().enumerate() {
                    if when[k].is_nan()
                        && m["params"]["uri"] == *uri
                        && (v.is_null() || v == &json!(version))
                    {
                        when[k] = t0.elapsed().as_secs_f64() * 1e3;
                    }
                }
            }
            self.answer(&m);
        }
        when
    }

    /// Waits for the server's log line saying the workspace is indexed.
    fn wait_indexed(&mut self) {
        loop {
            let m = self.next();
            if m["method"] == "window/logMessage"
                && m["params"]["message"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("workspace indexed"))
            {
                return;
            }
            self.answer(&m);
        }
    }
}

/// The incremental change that puts `text` at `line:character` over `len` characters.
fn ranged(line: usize, character: usize, len: usize, text: &str) -> Value {
    json!({"range": {"start": {"line": line, "character": character}, "end": {"line": line, "character": character + len}}, "text": text})
}

/// Multi-file mode (`--workspace DIR`, from `gen_workspace`): the server
/// indexes DIR; `part00` is opened with a file that refers to one of its
/// magnets; then one-character edits in a product's name, then typing in
/// the SKU of that magnet (the referring file's diagnostics change too);
/// with `--copy` (a workspace holding a copy of `part01`), edits in `part01`,
/// every product of which is a `duplicate-sku`.
fn workspace_bench(server: &str, dir: &str, edits: usize, copy: bool) {
    let dir = std::fs::canonicalize(dir).expect("workspace folder");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("generated file");
    let uri_of = |name: &str| format!("file://{}", dir.join(name).display());
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("list")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".catalogue.toml"))
        .collect();
    names.sort();
    let (mut child, mut lsp) = start(server);
    let pid = child.id();
    let root = format!("file://{}", dir.display());
    let t = Instant::now();
    lsp.request("initialize", json!({"processId": null, "rootUri": root, "workspaceFolders": [{"uri": root, "name": "bench"}], "capabilities": {"general": {"positionEncodings": ["utf-16"]}, "textDocument": {"publishDiagnostics": {"versionSupport": true}}}}));
    lsp.notify("initialized", json!({}));
    lsp.wait_indexed();
    let index_ms = t.elapsed().as_secs_f64() * 1e3;
    let rss_indexed = status_kb(pid, "VmRSS:");

    let edited = if copy {
        "part01.catalogue.toml"
    } else {
        "part00.catalogue.toml"
    };
    let text = read(edited);
    let prefix = &edited[..6];
    let tag = format!("P{}-", &prefix[4..6]);
    // A magnet of the edited file that another file's rotor is built on.
    let (referrer, sku) = names
        .iter()
        .filter(|n| n.as_str() != edited && n.starts_with("part"))
        .find_map(|n| {
            let t = read(n);
            let at = t.find(&format!("components = [\"{tag}"))?;
            let sku = t[at + 15..].split('"').next()?.to_string();
            Some((n.clone(), sku))
        })
        .expect("a file referring to the edited one");
    let (uri, ref_uri) = (uri_of(edited), uri_of(&referrer));
    let t = Instant::now();
    lsp.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "toml", "version": 1, "text": text}}),
    );
    let (count, bytes) = lsp.wait_diags(&uri, 1);
    let open_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    lsp.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": ref_uri, "languageId": "toml", "version": 1, "text": read(&referrer)}}),
    );
    lsp.wait_diags(&ref_uri, 1);
    let open2_ms = t.elapsed().as_secs_f64() * 1e3;

    let lines: Vec<&str> = text.lines().collect();
    let name_line = lines
        .iter()
        .enumerate()
        .skip(lines.len() / 2)
        .find(|(_, l)| l.starts_with("name = \""))
        .map(|(i, _)| i)
        .unwrap_or(0);
    let sku_line = lines
        .iter()
        .position(|l| *l == format!("sku = \"{sku}\""))
        .expect("the magnet's line");
    let mut version = 1;
    let mut plain = Vec::new();
    for i in 0..edits {
        version += 1;
        let change = if i % 2 == 0 {
            ranged(name_line, 8, 0, "x")
        } else {
            ranged(name_line, 8, 1, "")
        };
        let t = Instant::now();
        lsp.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}),
        );
        plain.push(lsp.wait_each(&[(&uri, version)], t)[0]);
    }
    // Typing at the end of the SKU (inside its quotes) and deleting again:
    // each edit renames a product another file refers to.
    let end = 7 + sku.len();
    let (mut typed, mut referred) = (Vec::new(), Vec::new());
    for i in 0..edits {
        version += 1;
        let change = if i % 2 == 0 {
            ranged(sku_line, end, 0, "x")
        } else {
            ranged(sku_line, end, 1, "")
        };
        let t = Instant::now();
        lsp.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}),
        );
        let w = lsp.wait_each(&[(&uri, version), (&ref_uri, 1)], t);
        typed.push(w[0]);
        referred.push(w[1]);
    }
    let rss = peak_rss_kb(pid);
    let _ = lsp.request("shutdown", Value::Null);
    lsp.notify("exit", Value::Null);
    let _ = child.wait();

    println!("server: {server}");
    println!(
        "workspace: {} ({} catalogue files){}",
        dir.display(),
        names.len(),
        if copy { ", with a copy of part01" } else { "" }
    );
    println!("initialized → workspace indexed: {index_ms:.0} ms");
    if let Some(kb) = rss_indexed {
        println!("  RSS once indexed: {:.1} MB", kb as f64 / 1024.0);
    }
    println!(
        "open {edited} → first diagnostics: {open_ms:.1} ms ({count} diagnostics, {:.2} MB)",
        bytes as f64 / 1e6
    );
    println!("open {referrer} (refers to {sku}) → first diagnostics: {open2_ms:.1} ms");
    println!(
        "one-char didChange in a name → publishDiagnostics ({} edits): p50 {:.2} ms, p95 {:.2} ms",
        plain.len(),
        pct(&mut plain, 0.5),
        pct(&mut plain, 0.95)
    );
    println!(
        "typing in {sku}, which {referrer} refers to ({} edits): edited file p50 {:.2} ms, p95 {:.2} ms; referring file p50 {:.2} ms, p95 {:.2} ms",
        typed.len(),
        pct(&mut typed, 0.5),
        pct(&mut typed, 0.95),
        pct(&mut referred, 0.5),
        pct(&mut referred, 0.95)
    );
    match rss {
        Some(kb) => println!("peak RSS: {:.1} MB", kb as f64 / 1024.0),
        None => println!("peak RSS: unavailable"),
    }
}
