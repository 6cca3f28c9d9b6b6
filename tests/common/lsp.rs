//! A minimal LSP client that drives the real binary over stdio with
//! Content-Length framing, as an editor does.
#![allow(dead_code)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

pub struct Client {
    pub child: Child,
    stdin: Option<ChildStdin>,
    rx: Receiver<Value>,
    /// The server's log lines (stderr), when spawned with [`Client::spawn_logged`].
    log: Option<Receiver<String>>,
    next_id: i64,
    /// Notifications and server requests seen while waiting.
    pub backlog: Vec<Value>,
    /// Answer server-to-client requests (a client that never answers sets false).
    pub answer_requests: bool,
}

/// Only so that a broken server cannot hang CI: tests wait on events (a
/// reply, a notification, a log line, the process ending), never on a
/// budget; a slow machine only makes them slower.
pub const TIMEOUT: Duration = Duration::from_secs(600);

impl Client {
    pub fn spawn() -> Client {
        Client::start(&[], false)
    }

    /// Spawns with extra environment variables, reading the server's log (level `warn`).
    pub fn spawn_logged(env: &[(&str, &str)]) -> Client {
        Client::start(env, true)
    }

    fn start(env: &[(&str, &str)], logged: bool) -> Client {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_catalogue-lsp"));
        cmd.arg("serve")
            .env("CATALOGUE_LSP_LOG", "warn")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(if logged {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        let mut child = cmd.spawn().expect("spawn server");
        let log = child.stderr.take().map(|stderr| {
            let (tx, rx) = channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { return };
                    if tx.send(line).is_err() {
                        return;
                    }
                }
            });
            rx
        });
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut len = None;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("Content-Length: ") {
                        len = v.parse::<usize>().ok();
                    }
                }
                let Some(n) = len else { return };
                let mut buf = vec![0; n];
                if r.read_exact(&mut buf).is_err() {
                    return;
                }
                if let Ok(v) = serde_json::from_slice::<Value>(&buf) {
                    if tx.send(v).is_err() {
                        return;
                    }
                }
            }
        });
        let stdin = child.stdin.take();
        Client {
            child,
            stdin,
            rx,
            log,
            next_id: 1,
            backlog: Vec::new(),
            answer_requests: true,
        }
    }

    /// Sends a request without waiting; returns its id.
    pub fn send_request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    /// Waits for the response to request `id`.
    pub fn response(&mut self, id: i64) -> Value {
        let is_it = |m: &Value| m.get("id") == Some(&json!(id)) && m.get("method").is_none();
        if let Some(i) = self.backlog.iter().position(is_it) {
            return self.backlog.remove(i);
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let m = self
                .recv(deadline)
                .unwrap_or_else(|| panic!("no response to request {id}"));
            if m.get("id") == Some(&json!(id)) && m.get("method").is_none() {
                return m;
            }
            self.handle(m);
        }
    }

    /// Waits until the server logs a line containing `text`; returns the line.
    pub fn wait_log(&mut self, text: &str) -> String {
        let log = self.log.as_ref().expect("spawned with spawn_logged");
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match log.recv_timeout(left) {
                Ok(line) if line.contains(text) => return line,
                Ok(_) => {}
                Err(_) => panic!("the server never logged {text:?}"),
            }
        }
    }

    /// Waits for the next server-to-client request with this method (answered
    /// if `answer_requests`); returns it.
    pub fn server_request(&mut self, method: &str) -> Value {
        let is_it = |m: &Value| m["method"] == method && m.get("id").is_some();
        if let Some(i) = self.backlog.iter().position(is_it) {
            return self.backlog.remove(i);
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let m = self
                .recv(deadline)
                .unwrap_or_else(|| panic!("the server never sent {method}"));
            let found = is_it(&m);
            self.handle(m.clone());
            if found {
                self.backlog.pop();
                return m;
            }
        }
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        if let Some(s) = self.stdin.as_mut() {
            let _ = s.write_all(bytes);
            let _ = s.flush();
        }
    }

    pub fn send(&mut self, v: &Value) {
        let body = serde_json::to_vec(v).unwrap();
        let mut msg = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        msg.extend(body);
        self.send_raw(&msg);
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        let mut msg = json!({"jsonrpc": "2.0", "method": method});
        if !params.is_null() {
            msg["params"] = params;
        }
        self.send(&msg);
    }

    /// Sends a request and waits for its response, answering server requests on the way.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = json!({"jsonrpc": "2.0", "id": id, "method": method});
        if !params.is_null() {
            msg["params"] = params;
        }
        self.send(&msg);
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let m = self
                .recv(deadline)
                .unwrap_or_else(|| panic!("no response to {method}"));
            if m.get("id") == Some(&json!(id)) && m.get("method").is_none() {
                return m;
            }
            self.handle(m);
        }
    }

    fn recv(&mut self, deadline: Instant) -> Option<Value> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.rx.recv_timeout(left) {
            Ok(v) => Some(v),
            Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => None,
        }
    }

    fn handle(&mut self, m: Value) {
        // Answer server-to-client requests (registerCapability...).
        if self.answer_requests && m.get("method").is_some() && m.get("id").is_some() {
            let id = m["id"].clone();
            self.send(&json!({"jsonrpc": "2.0", "id": id, "result": null}));
        }
        self.backlog.push(m);
    }

    /// `catalogue/diagnostic` for `uri` relative to `previous`: the answer's result.
    pub fn delta_pull(&mut self, uri: &str, previous: Option<&str>) -> Value {
        self.request(
            "catalogue/diagnostic",
            json!({"textDocument": {"uri": uri}, "previousResultId": previous}),
        )["result"]
            .clone()
    }

    pub fn initialize(
        &mut self,
        root: &std::path::Path,
        encodings: &[&str],
        options: Value,
    ) -> Value {
        let root_uri = url(root);
        let r = self.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": root_uri,
                "workspaceFolders": [{"uri": root_uri, "name": "ws"}],
                "capabilities": {
                    "general": {"positionEncodings": encodings},
                    "textDocument": {"publishDiagnostics": {"relatedInformation": true}},
                    "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}
                },
                "initializationOptions": options
            }),
        );
        self.notify("initialized", json!({}));
        r
    }

    /// Waits for publishDiagnostics for `uri` with exactly this version (None: any).
    pub fn diagnostics(&mut self, uri: &str, version: Option<i64>) -> Vec<Value> {
        let deadline = Instant::now() + TIMEOUT;
        // Look in the backlog first, newest first.
        if let Some(i) = self
            .backlog
            .iter()
            .rposition(|m| is_diag_for(m, uri, version))
        {
            let m = self.backlog.remove(i);
            self.backlog.retain(|m| !is_diag_for(m, uri, None));
            return m["params"]["diagnostics"]
                .as_array()
                .cloned()
                .unwrap_or_default();
        }
        loop {
            let m = self
                .recv(deadline)
                .unwrap_or_else(|| panic!("no diagnostics for {uri} version {version:?}"));
            if is_diag_for(&m, uri, version) {
                return m["params"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
            }
            self.handle(m);
        }
    }

    /// Waits for a publication for `uri` that satisfies `pred` (earlier ones are skipped).
    pub fn diagnostics_until(&mut self, uri: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            assert!(
                Instant::now() < deadline,
                "no matching diagnostics for {uri}"
            );
            let d = self.diagnostics(uri, None);
            if pred(&d) {
                return d;
            }
        }
    }

    /// Waits for a notification `method` whose params satisfy `pred`
    /// (the backlog first); others are kept in the backlog.
    pub fn notification(&mut self, method: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self
            .backlog
            .iter()
            .position(|m| m["method"] == method && pred(&m["params"]))
        {
            return self.backlog.remove(i);
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let m = self
                .recv(deadline)
                .unwrap_or_else(|| panic!("no {method} notification as expected"));
            if m["method"] == method && m.get("id").is_none() && pred(&m["params"]) {
                return m;
            }
            self.handle(m);
        }
    }

    pub fn open(&mut self, uri: &str, text: &str, version: i64) {
        self.notify("textDocument/didOpen", json!({"textDocument": {"uri": uri, "languageId": "toml", "version": version, "text": text}}));
    }

    pub fn change(&mut self, uri: &str, version: i64, changes: Value) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": changes}),
        );
    }

    pub fn shutdown_and_exit(&mut self) -> Option<i32> {
        let r = self.request("shutdown", Value::Null);
        assert!(r.get("error").is_none(), "{r}");
        self.notify("exit", Value::Null);
        self.wait_exit(TIMEOUT)
    }

    /// Waits for the server process to end; its exit code, or None if it is still running.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status.code().unwrap_or(-1));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn is_diag_for(m: &Value, uri: &str, version: Option<i64>) -> bool {
    m["method"] == "textDocument/publishDiagnostics"
        && m["params"]["uri"] == uri
        && version.is_none_or(|v| m["params"]["version"] == json!(v))
}

/// The items a `catalogue/diagnostic` answer of kind `delta` stands for,
/// from the items of its base: the base's first `head`, then `items`, then
/// the base's last `tail`; None when `head + tail` is more than the base has.
pub fn apply_delta(base: &[Value], delta: &Value) -> Option<Vec<Value>> {
    let head = usize::try_from(delta["head"].as_u64()?).ok()?;
    let tail = usize::try_from(delta["tail"].as_u64()?).ok()?;
    if head + tail > base.len() {
        return None;
    }
    let mut out = base[..head].to_vec();
    out.extend(delta["items"].as_array()?.iter().cloned());
    out.extend_from_slice(&base[base.len() - tail..]);
    Some(out)
}

pub fn url(p: &std::path::Path) -> String {
    format!("file://{}", p.display())
}

pub fn codes(diags: &[Value]) -> Vec<String> {
    diags
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("").to_string())
        .collect()
}
