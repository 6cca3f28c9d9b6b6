//! The protocol's edge: frames in from stdin and out to stdout, between the
//! client and tower-lsp.
//!
//! tower-lsp 0.20 stops serving at the first body it cannot decode, and
//! panics ("receiver already dropped") on a reply to a server request whose
//! waiter has gone. So nothing reaches it unchecked:
//!
//! - [`framing::Framer`](super::framing) cuts stdin into frames and gets back
//!   in step after any malformed one.
//! - Each body is decoded here exactly as tower-lsp decodes it (the same
//!   types, the same `serde_json` limits); only requests and notifications
//!   that decode are passed on, with `"params": null` dropped (JSON-RPC allows
//!   structured params or none) and any params of `shutdown` and `exit`
//!   (which take none).
//! - A request that cannot be decoded is answered here with a JSON-RPC error
//!   carrying its id when the id can be read (`-32600` for a body that is
//!   JSON but not a request, `-32700` for a damaged one); a notification or
//!   a body without a readable id is logged and dropped.
//! - Replies from the client never reach tower-lsp: the server's own requests
//!   to the client go through [`Outbox`], which owns the table of requests
//!   waiting for a reply. A reply nobody waits for (late, unknown,
//!   duplicate, of the wrong shape) is logged and dropped. tower-lsp's
//!   `Client` must therefore not be used for requests (its notifications are
//!   fine).
//!
//! End of input ends the stream, and so the server.

use super::framing::{Event, Framer};
use super::wire::{Frame, frame};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::sync::oneshot;
use tower_lsp::jsonrpc::{Error, ErrorCode, Id, Request, Response};

pub use super::framing::MAX_MESSAGE_BYTES;

/// serde_json's nesting limit, which tower-lsp's decoder meets first (its
/// message type is an untagged enum: the whole body is buffered, and counted).
const MAX_DEPTH: usize = 127;

/// What tower-lsp decodes each body into (its own type is private).
#[derive(Deserialize)]
#[serde(untagged)]
enum Message {
    Response(Response),
    Request(Request),
}

/// A client's answer to a server request: its result or its error.
pub type Reply = std::result::Result<Value, Error>;

/// What to do with one body from the client.
#[derive(Debug)]
pub enum Incoming {
    /// A request or notification for tower-lsp, framed.
    Request(Vec<u8>),
    /// A reply to a server request.
    Reply(Id, Reply),
    /// Not passed on; `answer` is the error frame for the client, if the
    /// body was a request whose id could be read.
    Refused {
        reason: &'static str,
        answer: Option<Vec<u8>>,
    },
}

/// Decodes one well-framed JSON body as tower-lsp would, and says what to do with it.
pub fn classify(body: &[u8]) -> Incoming {
    let decoded = std::str::from_utf8(body)
        .ok()
        .and_then(|s| serde_json::from_str::<Message>(s).ok());
    match decoded {
        Some(Message::Request(req)) if !req.method().is_empty() => {
            Incoming::Request(match normalise(req) {
                Some(changed) => frame(&changed),
                None => frame(body),
            })
        }
        Some(Message::Response(res)) => {
            let (id, reply) = res.into_parts();
            Incoming::Reply(id, reply)
        }
        _ => {
            let head = read_head(body);
            if !head.method {
                return Incoming::Refused {
                    reason: if head.id.is_some() {
                        "a reply that is not a JSON-RPC response"
                    } else {
                        "neither a JSON-RPC request nor a response"
                    },
                    answer: None,
                };
            }
            let (reason, message) = if max_depth(body) > MAX_DEPTH {
                (
                    "a request nested too deeply",
                    "invalid request: nested more than 127 levels deep",
                )
            } else {
                (
                    "a request that is not JSON-RPC 2.0",
                    "invalid request: not a JSON-RPC 2.0 request",
                )
            };
            Incoming::Refused {
                reason,
                answer: head
                    .id
                    .map(|id| error_frame(id, ErrorCode::InvalidRequest, message)),
            }
        }
    }
}

/// LSP 3.17 names the workspace's diagnostic capabilities
/// `workspace.diagnostics` (with `refreshSupport`); lsp-types 0.94 (under
/// tower-lsp 0.20) reads `workspace.diagnostic`, so a client's
/// `refreshSupport` would go unseen. The spec's name is copied to the one the
/// library reads.
fn spec_diagnostics_capability(req: Request) -> Option<Vec<u8>> {
    let d = req
        .params()?
        .pointer("/capabilities/workspace/diagnostics")?
        .clone();
    if req
        .params()?
        .pointer("/capabilities/workspace/diagnostic")
        .is_some()
    {
        return None;
    }
    let (method, id, params) = req.into_parts();
    let mut params = params?;
    params
        .pointer_mut("/capabilities/workspace")?
        .as_object_mut()?
        .insert("diagnostic".into(), d);
    let mut b = Request::build(method).params(params);
    if let Some(id) = id {
        b = b.id(id);
    }
    serde_json::to_vec(&b.finish()).ok()
}

/// The error frame answering a damaged body (cut short or run long by a wrong
/// Content-Length, or not JSON), when it was a request whose id can be read.
pub fn answer_damaged(body: &[u8]) -> Option<Vec<u8>> {
    let head = read_head(body);
    head.method.then_some(())?;
    let id = head.id?;
    Some(error_frame(
        id,
        ErrorCode::ParseError,
        "parse error: the message was damaged (its Content-Length or its JSON) and was dropped",
    ))
}

/// The request as tower-lsp should see it, if it must change: `"params":
/// null` dropped (JSON-RPC allows structured params or none), and any params
/// of the methods that take none.
fn normalise(req: Request) -> Option<Vec<u8>> {
    if req.method() == "initialize" {
        return spec_diagnostics_capability(req);
    }
    let takes_none = matches!(req.method(), "shutdown" | "exit");
    match req.params() {
        Some(Value::Null) => {}
        Some(_) if takes_none => {}
        _ => return None,
    }
    let (method, id, _) = req.into_parts();
    let mut b = Request::build(method);
    if let Some(id) = id {
        b = b.id(id);
    }
    serde_json::to_vec(&b.finish()).ok()
}

fn error_frame(id: Id, code: ErrorCode, message: &'static str) -> Vec<u8> {
    let res = Response::from_error(
        id,
        Error {
            code,
            message: message.into(),
            data: None,
        },
    );
    let body = serde_json::to_vec(&res).unwrap_or_default();
    frame(&body)
}

/// What the top level of a body says, read leniently (it may be cut short).
#[derive(Debug, Default, PartialEq)]
struct Head {
    /// A number or string `id` (not null).
    id: Option<Id>,
    /// There is a string `method`.
    method: bool,
}

/// Reads `id` and `method` from the top-level object of `b`, as far as it
/// goes: any nesting, no recursion, stops at the first thing that is not JSON.
fn read_head(b: &[u8]) -> Head {
    let mut head = Head::default();
    let mut i = skip_blank(b, 0);
    if b.get(i) != Some(&b'{') {
        return head;
    }
    i += 1;
    loop {
        i = skip_blank(b, i);
        if b.get(i) != Some(&b'"') {
            return head;
        }
        let Some(key_end) = string_end(b, i) else {
            return head;
        };
        let key = &b[i + 1..key_end - 1];
        i = skip_blank(b, key_end);
        if b.get(i) != Some(&b':') {
            return head;
        }
        i = skip_blank(b, i + 1);
        let is_string = b.get(i) == Some(&b'"');
        let end = value_end(b, i);
        match key {
            b"method" => head.method = is_string,
            b"id" => {
                head.id = end
                    .and_then(|e| serde_json::from_slice::<Id>(&b[i..e]).ok())
                    .filter(|id| *id != Id::Null);
            }
            _ => {}
        }
        let Some(end) = end else {
            return head;
        };
        i = skip_blank(b, end);
        if b.get(i) != Some(&b',') {
            return head;
        }
        i += 1;
    }
}

fn skip_blank(b: &[u8], mut i: usize) -> usize {
    while b
        .get(i)
        .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
    {
        i += 1;
    }
    i
}

/// The index after the string starting at `b[i] == '"'`.
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        j += memchr::memchr2(b'"', b'\\', b.get(j..)?)?;
        if b[j] == b'\\' {
            j += 2;
        } else {
            return Some(j + 1);
        }
    }
}

/// The index after the value starting at `b[i]`, or `None` if it is cut
/// short (a scalar running to the end counts as cut short).
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => string_end(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match b.get(j)? {
                    b'"' => {
                        j = string_end(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let len = b[i..]
                .iter()
                .position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n'))?;
            Some(i + len)
        }
    }
}

/// The deepest nesting of arrays and objects in `b` (strings skipped).
fn max_depth(b: &[u8]) -> usize {
    let (mut depth, mut max, mut i) = (0usize, 0usize, 0usize);
    while i < b.len() {
        match b[i] {
            b'"' => {
                i = string_end(b, i).unwrap_or(b.len());
                continue;
            }
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    max
}

/// The server's requests to the client, and the table of those waiting for
/// a reply. A request waits at most `timeout`; a reply after that, or to an
/// id never sent, finds no entry and is dropped.
pub struct Outbox {
    next: AtomicI64,
    waiting: Mutex<HashMap<i64, oneshot::Sender<Reply>>>,
    out: UnboundedSender<Frame>,
    timeout: Duration,
}

/// A request sent, waiting for its reply (the entry goes when this is dropped).
pub struct Waiting {
    outbox: Arc<Outbox>,
    id: i64,
    method: String,
    rx: Option<oneshot::Receiver<Reply>>,
}

impl Outbox {
    pub fn new(out: UnboundedSender<Frame>, timeout: Duration) -> Outbox {
        Outbox {
            next: AtomicI64::new(1),
            waiting: Mutex::default(),
            out,
            timeout,
        }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<i64, oneshot::Sender<Reply>>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends a request now (its frame is queued for stdout before this returns).
    pub fn send(self: &Arc<Self>, method: &str, params: Option<Value>) -> Waiting {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.table().insert(id, tx);
        let mut msg = json!({"jsonrpc": "2.0", "id": id, "method": method});
        if let Some(p) = params {
            msg["params"] = p;
        }
        let body = serde_json::to_vec(&msg).unwrap_or_default();
        let _ = self.out.send(Frame::whole(frame(&body)));
        Waiting {
            outbox: self.clone(),
            id,
            method: method.to_string(),
            rx: Some(rx),
        }
    }

    /// Sends a notification (no reply is expected).
    pub fn notify(&self, method: &str, params: Value) {
        let msg = json!({"jsonrpc": "2.0", "method": method, "params": params});
        let body = serde_json::to_vec(&msg).unwrap_or_default();
        let _ = self.out.send(Frame::whole(frame(&body)));
    }

    /// Sends a request and waits for its reply: `None` when none came in time.
    pub async fn request(self: &Arc<Self>, method: &str, params: Option<Value>) -> Option<Reply> {
        self.send(method, params).reply().await
    }

    /// Hands a client's reply to the request waiting for it; false when no
    /// request is (a late, duplicate or unknown reply), and the reply is dropped.
    pub fn deliver(&self, id: &Id, reply: Reply) -> bool {
        let Id::Number(n) = id else {
            return false;
        };
        let Some(tx) = self.table().remove(n) else {
            return false;
        };
        // The waiter may have just given up: then the reply is dropped too.
        tx.send(reply).is_ok()
    }

    /// Requests still waiting.
    pub fn waiting(&self) -> usize {
        self.table().len()
    }
}

impl Waiting {
    /// The reply, or `None` when none came within the outbox's timeout.
    pub async fn reply(mut self) -> Option<Reply> {
        let rx = self.rx.take()?;
        let got = tokio::time::timeout(self.outbox.timeout, rx).await;
        match got {
            Ok(Ok(reply)) => Some(reply),
            _ => {
                // Gone from the table before the message is logged: a reply
                // read after this line is dropped.
                self.outbox.table().remove(&self.id);
                tracing::warn!(
                    id = self.id,
                    method = self.method,
                    "no reply from the client in time; a later one will be dropped"
                );
                None
            }
        }
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.outbox.table().remove(&self.id);
    }
}

/// Reads frames from `input` (stdin) until it ends: requests go to
/// `server` (tower-lsp), replies to `outbox`, error answers to `answers` (stdout).
pub async fn forward(
    mut input: impl AsyncRead + Unpin,
    mut server: impl AsyncWrite + Unpin,
    answers: UnboundedSender<Frame>,
    outbox: &Outbox,
) {
    let mut framer = Framer::new();
    let mut chunk = vec![0; 1 << 18];
    loop {
        let n = input.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            framer.finish();
        } else {
            framer.push(&chunk[..n]);
        }
        while let Some(event) = framer.next_event() {
            let body = match event {
                Event::Message(body) => body,
                Event::Malformed { reason, body } => {
                    tracing::warn!(reason, "dropped a malformed frame");
                    if let Some(answer) = body.as_deref().and_then(answer_damaged) {
                        let _ = answers.send(Frame::whole(answer));
                    }
                    continue;
                }
                Event::TooLarge(len) => {
                    tracing::warn!(
                        bytes = len,
                        "dropped a message larger than {} MiB",
                        MAX_MESSAGE_BYTES >> 20
                    );
                    continue;
                }
                Event::Skipped(bytes) => {
                    tracing::warn!(bytes, "skipped bytes that are not a frame");
                    continue;
                }
            };
            match classify(&body) {
                Incoming::Request(framed) => {
                    if server.write_all(&framed).await.is_err() || server.flush().await.is_err() {
                        return;
                    }
                }
                Incoming::Reply(id, reply) => {
                    if !outbox.deliver(&id, reply) {
                        tracing::warn!(%id, "dropped a reply to no request waiting (late, duplicate or unknown)");
                    }
                }
                Incoming::Refused { reason, answer } => {
                    tracing::warn!(reason, bytes = body.len(), "refused a message");
                    if let Some(answer) = answer {
                        let _ = answers.send(Frame::whole(answer));
                    }
                }
            }
        }
        if n == 0 {
            return;
        }
    }
}

/// Sends each whole frame tower-lsp writes to `output`, so that they can be
/// interleaved with pre-serialised ones without splitting either.
pub async fn read_frames(mut input: impl AsyncRead + Unpin, output: UnboundedSender<Frame>) {
    let mut framer = Framer::new();
    let mut chunk = vec![0; 1 << 16];
    loop {
        let n = input.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return;
        }
        framer.push(&chunk[..n]);
        while let Some(event) = framer.next_event() {
            if let Event::Message(body) = event {
                if output.send(Frame::whole(frame(&body))).is_err() {
                    return;
                }
            }
        }
    }
}

/// Asks for a 1 MiB pipe on stdout (Linux; the default is 64 KiB): a 3 MB
/// publication then crosses in a few writes instead of fifty hand-offs
/// between us and the editor. Anything else (a file, a socket, a refusal)
/// keeps what it has.
pub fn widen_stdout_pipe() {
    #[cfg(target_os = "linux")]
    // SAFETY: fcntl on fd 1 with F_SETPIPE_SZ only changes the pipe's
    // capacity; it fails harmlessly (EBADF, EINVAL, EPERM) on anything else.
    unsafe {
        libc::fcntl(1, libc::F_SETPIPE_SZ, 1 << 20);
    }
}

/// Writes frames to `output` (stdout) in the order they come, on a thread
/// of its own: a large frame goes straight from its buffer to the pipe,
/// without the copy and hand-off of tokio's stdout.
pub fn write_frames(
    mut frames: UnboundedReceiver<Frame>,
    mut output: impl std::io::Write + Send + 'static,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("stdout".into())
        .spawn(move || {
            while let Some(f) = frames.blocking_recv() {
                let written = f.parts().iter().try_for_each(|p| output.write_all(p));
                if written.and_then(|_| output.flush()).is_err() {
                    return;
                }
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> String {
        format!("{}{}", "[".repeat(depth), "]".repeat(depth))
    }

    fn body_of(framed: &[u8]) -> Value {
        let at = framed
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(0, |p| p + 4);
        serde_json::from_slice(&framed[at..]).unwrap_or(Value::Null)
    }

    #[test]
    fn requests_and_notifications_pass_unchanged() {
        for b in [
            &br#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#[..],
            br#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#,
            br#"{"jsonrpc":"2.0","id":"x","method":"hover","params":{"a":[1]}}"#,
        ] {
            let Incoming::Request(f) = classify(b) else {
                panic!("{}", String::from_utf8_lossy(b));
            };
            assert_eq!(f, frame(b));
        }
    }

    #[test]
    fn null_params_are_dropped_and_shutdown_takes_none() {
        for (b, want) in [
            (
                &br#"{"jsonrpc":"2.0","id":1,"method":"shutdown","params":null}"#[..],
                json!({"jsonrpc":"2.0","id":1,"method":"shutdown"}),
            ),
            (
                br#"{"jsonrpc":"2.0","id":2,"method":"shutdown","params":{}}"#,
                json!({"jsonrpc":"2.0","id":2,"method":"shutdown"}),
            ),
            (
                br#"{"jsonrpc":"2.0","method":"exit","params":null}"#,
                json!({"jsonrpc":"2.0","method":"exit"}),
            ),
            (
                br#"{"jsonrpc":"2.0","id":3,"method":"hover","params":null}"#,
                json!({"jsonrpc":"2.0","id":3,"method":"hover"}),
            ),
        ] {
            let Incoming::Request(f) = classify(b) else {
                panic!("{}", String::from_utf8_lossy(b));
            };
            assert_eq!(body_of(&f), want);
        }
    }

    #[test]
    fn too_deep_requests_are_answered_with_their_id() {
        // 126 levels inside the message's own object pass; 127 do not (tower-lsp would stop).
        let ok = format!(
            r#"{{"jsonrpc":"2.0","id":4,"method":"x","params":{{"u":{}}}}}"#,
            nested(125)
        );
        assert!(matches!(classify(ok.as_bytes()), Incoming::Request(_)));
        for (body, id) in [
            (
                format!(
                    r#"{{"jsonrpc":"2.0","id":5,"method":"x","unknown":{}}}"#,
                    nested(127)
                ),
                json!(5),
            ),
            (
                format!(
                    r#"{{"jsonrpc":"2.0","method":"x","params":{},"id":"s"}}"#,
                    nested(5000)
                ),
                json!("s"),
            ),
        ] {
            let Incoming::Refused {
                answer: Some(a), ..
            } = classify(body.as_bytes())
            else {
                panic!("not answered");
            };
            let a = body_of(&a);
            assert_eq!(a["id"], id);
            assert_eq!(a["error"]["code"], -32600);
        }
    }

    #[test]
    fn too_deep_notifications_and_replies_are_dropped_silently() {
        for body in [
            format!(
                r#"{{"jsonrpc":"2.0","method":"x","unknown":{}}}"#,
                nested(127)
            ),
            format!(r#"{{"jsonrpc":"2.0","id":1,"result":{}}}"#, nested(127)),
            format!(
                r#"{{"jsonrpc":"2.0","id":1,"result":null,"x":{}}}"#,
                nested(200)
            ),
        ] {
            assert!(
                matches!(
                    classify(body.as_bytes()),
                    Incoming::Refused { answer: None, .. }
                ),
                "{body:.60}"
            );
        }
    }

    #[test]
    fn invalid_requests_are_answered_when_their_id_can_be_read() {
        let cases: [(&[u8], Option<Value>); 7] = [
            (br#"{"jsonrpc":"1.0","id":6,"method":"x"}"#, Some(json!(6))),
            (br#"{"jsonrpc":"2.0","id":7,"method":""}"#, Some(json!(7))),
            (br#"{"jsonrpc":"2.0","id":[1],"method":"x"}"#, None),
            (br#"{"jsonrpc":"2.0","id":1.5,"method":"x"}"#, None),
            (br#"{"jsonrpc":"2.0","id":null,"method":1}"#, None),
            (br#"[]"#, None),
            (br#"{"jsonrpc":"2.0","id":true}"#, None),
        ];
        for (b, want) in cases {
            match classify(b) {
                Incoming::Refused { answer, .. } => {
                    assert_eq!(answer.map(|a| body_of(&a)["id"].clone()), want)
                }
                other => panic!("{other:?} for {}", String::from_utf8_lossy(b)),
            }
        }
    }

    #[test]
    fn replies_are_recognised() {
        let Incoming::Reply(id, Ok(v)) = classify(br#"{"jsonrpc":"2.0","id":3,"result":null}"#)
        else {
            panic!()
        };
        assert_eq!((id, v), (Id::Number(3), Value::Null));
        let Incoming::Reply(_, Err(e)) =
            classify(br#"{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"no"}}"#)
        else {
            panic!()
        };
        assert_eq!(e.code, ErrorCode::MethodNotFound);
        // No method and no result: not a request, never answered.
        assert!(matches!(
            classify(br#"{"jsonrpc":"2.0","id":3}"#),
            Incoming::Refused { answer: None, .. }
        ));
    }

    #[test]
    fn damaged_requests_are_answered_when_their_id_can_be_read() {
        let id_of = |b: &[u8]| answer_damaged(b).map(|a| body_of(&a)["id"].clone());
        assert_eq!(
            id_of(br#"{"jsonrpc":"2.0","id":8,"method":"hover","params":{"te"#),
            Some(json!(8))
        );
        assert_eq!(
            id_of(br#"{"jsonrpc":"2.0","method":"hover","id":"a\"b"}Conte"#),
            Some(json!("a\"b"))
        );
        // The id may be cut short: 12 of 123.
        assert_eq!(id_of(br#"{"jsonrpc":"2.0","method":"x","id":12"#), None);
        // A reply (no method) is never answered.
        assert_eq!(id_of(br#"{"jsonrpc":"2.0","id":9,"result":{"#), None);
        assert_eq!(id_of(b"{not json!!}"), None);
        assert_eq!(id_of(b""), None);
    }

    #[test]
    fn head_reading_survives_anything() {
        for b in [
            &b"{"[..],
            b"{\"",
            b"{\"id\"",
            b"{\"id\":",
            b"{\"id\":\"\\",
            b"{\"a\":[[[\"]\"",
            b"\xff\xfe",
            b"{\"a\":}}}}]]]]",
        ] {
            assert_eq!(read_head(b).id, None);
        }
        assert_eq!(max_depth(br#"["[[[", {"a": [1]}]"#), 3);
    }

    #[tokio::test]
    async fn late_duplicate_and_unknown_replies_are_dropped() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let outbox = Arc::new(Outbox::new(tx, Duration::from_millis(1)));
        // No reply in time: the request gives up, and its entry goes.
        assert!(
            outbox
                .request("client/registerCapability", None)
                .await
                .is_none()
        );
        assert_eq!(outbox.waiting(), 0);
        let sent = rx.try_recv().map(|f| body_of(&f.parts().concat()));
        assert_eq!(sent.ok().map(|v| v["id"].clone()), Some(json!(1)));
        assert!(!outbox.deliver(&Id::Number(1), Ok(Value::Null)), "late");
        assert!(!outbox.deliver(&Id::Number(99), Ok(Value::Null)), "unknown");
        assert!(!outbox.deliver(&Id::String("2".into()), Ok(Value::Null)));
        // An answered request takes its reply, once.
        let outbox = Arc::new(Outbox::new(outbox.out.clone(), Duration::from_secs(600)));
        let waiting = outbox.send("workspace/diagnostic/refresh", None);
        assert!(outbox.deliver(&Id::Number(1), Ok(json!(7))));
        assert!(!outbox.deliver(&Id::Number(1), Ok(json!(8))), "duplicate");
        assert_eq!(waiting.reply().await.and_then(|r| r.ok()), Some(json!(7)));
        // A waiter dropped before its reply leaves nothing behind.
        drop(outbox.send("x", None));
        assert_eq!(outbox.waiting(), 0);
        assert!(!outbox.deliver(&Id::Number(2), Ok(Value::Null)));
    }

    #[tokio::test]
    async fn forward_passes_requests_answers_bad_ones_and_resynchronises() {
        let good = br#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#;
        let bad_request = br#"{"jsonrpc":"2.0","id":41,"method":"hover","params":{"x":1}}"#;
        let mut input = Vec::new();
        // A length 5 bytes short: a damaged request, answered, then back in step.
        input.extend(format!("Content-Length: {}\r\n\r\n", bad_request.len() - 5).as_bytes());
        input.extend_from_slice(bad_request);
        input.extend(b"Content-Length: 2\r\n\r\n[]");
        input.extend(
            format!(
                "Content-Length: abc\r\n\r\n{}",
                String::from_utf8_lossy(good)
            )
            .as_bytes(),
        );
        input.extend_from_slice(&frame(good));
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let outbox = Outbox::new(tx.clone(), Duration::from_secs(1));
        let mut out = Vec::new();
        forward(&input[..], &mut out, tx, &outbox).await;
        assert_eq!(out, frame(good));
        let answer = rx.try_recv().map(|f| body_of(&f.parts().concat()));
        assert_eq!(answer.ok().map(|v| v["id"].clone()), Some(json!(41)));
        assert!(rx.try_recv().is_err());
    }
}
