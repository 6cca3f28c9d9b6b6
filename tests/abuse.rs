//! Protocol abuse: the server keeps serving whatever the client sends.
//! Raw frames over the real binary's stdio; every wait is on an event (a
//! reply, a notification, a log line, the process ending).

mod common;
use common::lsp::{Client, codes, url};
use serde_json::{Value, json};

fn init(c: &mut Client, dir: &std::path::Path) {
    let r = c.request(
        "initialize",
        json!({"processId": null, "rootUri": url(dir), "capabilities": {}}),
    );
    assert!(r["result"]["capabilities"].is_object(), "{r}");
    c.notify("initialized", json!({}));
}

const DOC: &str = "[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 100 }\n";

/// A client with `DOC` open and analysed.
fn ready(dir: &std::path::Path) -> Client {
    let mut c = Client::spawn();
    init(&mut c, dir);
    let uri = url(&dir.join("a.catalogue.toml"));
    c.open(&uri, DOC, 1);
    assert!(codes(&c.diagnostics(&uri, Some(1))).contains(&"missing-licence".to_string()));
    c
}

/// The server still answers a well-formed request, correctly.
fn still_serving(c: &mut Client) {
    let r = c.request("workspace/symbol", json!({"query": "A"}));
    assert_eq!(r["result"][0]["name"], "A", "{r}");
}

/// A `workspace/symbol` request body with this id.
fn symbol_request(id: i64) -> Vec<u8> {
    serde_json::to_vec(
        &json!({"jsonrpc": "2.0", "id": id, "method": "workspace/symbol", "params": {"query": "A"}}),
    )
    .unwrap()
}

fn with_length(len: &str, body: &[u8]) -> Vec<u8> {
    let mut v = format!("Content-Length: {len}\r\n\r\n").into_bytes();
    v.extend_from_slice(body);
    v
}

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

fn assert_error(r: &Value, id: i64, code: i64) {
    assert_eq!(r["id"], id, "{r}");
    assert_eq!(r["error"]["code"], code, "{r}");
    assert!(r.get("result").is_none(), "{r}");
}

#[test]
fn requests_before_initialize_are_refused_then_initialize_works() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::spawn();
    let r = c.request("textDocument/hover", json!({"textDocument": {"uri": "file:///x.catalogue.toml"}, "position": {"line": 0, "character": 0}}));
    assert_eq!(r["error"]["code"], -32002, "{r}");
    init(&mut c, dir.path());
    assert_eq!(c.shutdown_and_exit(), Some(0));
}

#[test]
fn malformed_json_and_headers_do_not_stop_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = ready(dir.path());
    c.send_raw(b"Content-Length: 12\r\n\r\n{not json!!}");
    c.send_raw(b"Content-Length: 2\r\n\r\n[]");
    c.send_raw(b"Content-Length: 27\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":true}");
    c.send_raw(b"\x00\xff garbage \r\n\r\n");
    still_serving(&mut c);
}

#[test]
fn a_header_without_content_length_followed_by_a_body_loses_only_that_message() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = ready(dir.path());
    let mut bad = b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n".to_vec();
    bad.extend(symbol_request(900));
    c.send_raw(&bad);
    still_serving(&mut c);
    c.send_raw(b"X-Nothing: 1\r\n\r\n");
    still_serving(&mut c);
    // A Content-Type written before Content-Length is a well-formed header.
    let body = symbol_request(901);
    let mut good = format!(
        "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    good.extend(body);
    c.send_raw(&good);
    assert_eq!(c.response(901)["result"][0]["name"], "A");
}

#[test]
fn a_non_numeric_or_negative_length_loses_only_that_message() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = ready(dir.path());
    for (i, len) in ["abc", "-5", "+5", "5x", "", "99999999999999999999999"]
        .iter()
        .enumerate()
    {
        c.send_raw(&with_length(len, &symbol_request(910 + i as i64)));
        still_serving(&mut c);
    }
}

#[test]
fn a_length_a_few_bytes_short_or_long_loses_only_that_message_and_answers_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = ready(dir.path());
    for (i, delta) in [-5i64, -1, 1, 5, 30].into_iter().enumerate() {
        let id = 920 + i as i64;
        let body = symbol_request(id);
        let len = (body.len() as i64 + delta).to_string();
        c.send_raw(&with_length(&len, &body));
        // The next request is answered (for a long length, its bytes complete
        // the damaged frame, which is then found to hold its header)...
        still_serving(&mut c);
        // ...and the damaged request, whose id can be read, gets an error, not silence.
        assert_error(&c.response(id), id, -32700);
    }
}

#[test]
fn deep_nesting_in_a_notification_or_a_reply_never_stops_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = ready(dir.path());
    for body in [
        // 127 levels in an unknown member: tower-lsp could not decode it and stopped.
        format!(
            r#"{{"jsonrpc":"2.0","method":"$/x","unknown":{}}}"#,
            nested(127)
        ),
        format!(
            r#"{{"jsonrpc":"2.0","method":"$/x","params":{}}}"#,
            nested(127)
        ),
        format!(r#"{{"jsonrpc":"2.0","id":77,"result":{}}}"#, nested(127)),
        format!(
            r#"{{"jsonrpc":"2.0","id":78,"error":{{"code":1,"message":"m","data":{}}}}}"#,
            nested(127)
        ),
        format!(
            r#"{{"jsonrpc":"2.0","method":"$/x","params":{}}}"#,
            nested(100_000)
        ),
    ] {
        c.send_raw(&with_length(&body.len().to_string(), body.as_bytes()));
        still_serving(&mut c);
    }
    assert_eq!(c.shutdown_and_exit(), Some(0));
}

#[test]
fn a_too_deep_request_is_answered_with_an_error_carrying_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = ready(dir.path());
    for (id, body) in [
        (
            930,
            format!(
                r#"{{"jsonrpc":"2.0","id":930,"method":"workspace/symbol","params":{{"query":"A"}},"x":{}}}"#,
                nested(127)
            ),
        ),
        (
            931,
            format!(
                r#"{{"jsonrpc":"2.0","method":"workspace/symbol","params":{},"id":931}}"#,
                nested(100_000)
            ),
        ),
    ] {
        c.send_raw(&with_length(&body.len().to_string(), body.as_bytes()));
        let r = c.response(id);
        assert_error(&r, id, -32600);
        assert!(
            r["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("127 levels"),
            "{r}"
        );
    }
    // One level less passes, and is answered as usual.
    let ok = format!(
        r#"{{"jsonrpc":"2.0","id":932,"method":"workspace/symbol","params":{{"query":"A"}},"x":{}}}"#,
        nested(126)
    );
    c.send_raw(&with_length(&ok.len().to_string(), ok.as_bytes()));
    assert_eq!(c.response(932)["result"][0]["name"], "A");
}

#[test]
fn a_late_reply_to_register_capability_is_dropped_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    // The server gives up on its requests after 1 ms (5 s by default); the
    // test answers only after the server logged that it gave up.
    let mut c = Client::spawn_logged(&[("CATALOGUE_LSP_CLIENT_TIMEOUT_MS", "1")]);
    c.answer_requests = false;
    c.initialize(dir.path(), &["utf-16"], json!({}));
    let reg = c.server_request("client/registerCapability");
    assert_eq!(
        reg["params"]["registrations"][0]["method"],
        "workspace/didChangeWatchedFiles"
    );
    let line = c.wait_log("no reply from the client in time");
    assert!(line.contains("client/registerCapability"), "{line}");
    let id = reg["id"].clone();
    // The late reply, twice, then replies to requests never sent.
    for reply in [
        json!({"jsonrpc": "2.0", "id": id, "result": null}),
        json!({"jsonrpc": "2.0", "id": id, "result": null}),
        json!({"jsonrpc": "2.0", "id": 123_456, "result": null}),
        json!({"jsonrpc": "2.0", "id": id.to_string(), "result": null}),
        json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "no"}}),
    ] {
        c.send(&reply);
    }
    let uri = url(&dir.path().join("a.catalogue.toml"));
    c.open(&uri, DOC, 1);
    assert!(codes(&c.diagnostics(&uri, Some(1))).contains(&"missing-licence".to_string()));
    still_serving(&mut c);
    c.wait_log("dropped a reply to no request waiting");
    assert_eq!(c.shutdown_and_exit(), Some(0));
}

#[test]
fn register_capability_is_sent_only_to_clients_that_declare_dynamic_registration() {
    let dir = tempfile::tempdir().unwrap();
    for (watched, expected) in [
        (json!({"dynamicRegistration": true}), true),
        (json!({"dynamicRegistration": false}), false),
        (json!({}), false),
        (Value::Null, false),
    ] {
        let mut c = Client::spawn();
        let mut caps = json!({"workspace": {}});
        if !watched.is_null() {
            caps["workspace"]["didChangeWatchedFiles"] = watched.clone();
        }
        let r = c.request(
            "initialize",
            json!({"processId": null, "rootUri": url(dir.path()), "capabilities": caps}),
        );
        assert!(r["result"].is_object(), "{r}");
        c.notify("initialized", json!({}));
        // The registration is sent while `initialized` is handled, so before
        // the answer to a request sent after it.
        c.request("workspace/symbol", json!({"query": ""}));
        let sent = c
            .backlog
            .iter()
            .any(|m| m["method"] == "client/registerCapability");
        assert_eq!(sent, expected, "{watched}");
        assert_eq!(c.shutdown_and_exit(), Some(0));
    }
}

#[test]
fn shutdown_with_null_params_is_accepted_and_exit_then_ends_with_0() {
    let dir = tempfile::tempdir().unwrap();
    for params in [json!(null), json!({})] {
        let mut c = ready(dir.path());
        c.send(&json!({"jsonrpc": "2.0", "id": 940, "method": "shutdown", "params": params}));
        let r = c.response(940);
        assert_eq!(r["result"], Value::Null, "{r}");
        assert!(r.get("error").is_none(), "{r}");
        // Shut down: requests are refused now.
        let r = c.request("workspace/symbol", json!({"query": "A"}));
        assert_eq!(r["error"]["code"], -32600, "{r}");
        c.send(&json!({"jsonrpc": "2.0", "method": "exit", "params": null}));
        assert_eq!(c.wait_exit(common::lsp::TIMEOUT), Some(0));
    }
}

#[test]
fn exit_sent_right_behind_shutdown_ends_with_0() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = ready(dir.path());
    // Without waiting for the answer to shutdown (some clients do this).
    c.send(&json!({"jsonrpc": "2.0", "id": 950, "method": "shutdown", "params": null}));
    c.send(&json!({"jsonrpc": "2.0", "method": "exit"}));
    assert_eq!(c.wait_exit(common::lsp::TIMEOUT), Some(0));
}

#[test]
fn a_refused_shutdown_does_not_count_exit_then_ends_with_1() {
    let mut c = Client::spawn();
    // Before initialize, shutdown is refused: the server is not shut down.
    let r = c.request("shutdown", Value::Null);
    assert_eq!(r["error"]["code"], -32002, "{r}");
    c.notify("exit", Value::Null);
    assert_eq!(c.wait_exit(common::lsp::TIMEOUT), Some(1));
}

#[test]
fn cancelling_a_request_is_harmless_and_it_is_answered_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::spawn();
    let r = c.request(
        "initialize",
        json!({"processId": null, "rootUri": url(dir.path()), "capabilities": {}}),
    );
    assert!(r["result"]["capabilities"].is_object(), "{r}");
    let uri = url(&dir.path().join("a.catalogue.toml"));
    c.open(&uri, DOC, 1);
    // Before `initialized` the workspace index has not started, and a pulled
    // diagnostic waits for it: these requests are in flight until cancelled,
    // so each is answered once, with RequestCancelled.
    let pull = json!({"textDocument": {"uri": uri}});
    let ids: Vec<i64> = (0..50)
        .map(|_| {
            let id = c.send_request("textDocument/diagnostic", pull.clone());
            c.notify("$/cancelRequest", json!({"id": id}));
            id
        })
        .collect();
    for id in &ids {
        assert_error(&c.response(*id), *id, -32800);
    }
    // Not cancelled, the same request is answered in full once the index is built.
    c.notify("initialized", json!({}));
    let r = c.request("textDocument/diagnostic", pull);
    let items = r["result"]["items"].as_array().cloned().unwrap_or_default();
    assert!(
        codes(&items).contains(&"missing-licence".to_string()),
        "{r}"
    );
    // Already answered, and never sent: cancelling is a no-op (no reply to a notification).
    c.notify("$/cancelRequest", json!({"id": ids[0]}));
    c.notify("$/cancelRequest", json!({"id": 999_999}));
    still_serving(&mut c);
    let extra: Vec<&Value> = c
        .backlog
        .iter()
        .filter(|m| m.get("method").is_none())
        .collect();
    assert!(extra.is_empty(), "answers nobody asked for: {extra:?}");
}

#[test]
fn a_burst_of_ten_thousand_changes_ends_in_the_right_state() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::spawn();
    init(&mut c, dir.path());
    let uri = url(&dir.path().join("a.catalogue.toml"));
    c.open(&uri, DOC, 1);
    for v in 2..=10_001 {
        // Type and delete a character at the end of the name line, over and over.
        let text = if v % 2 == 0 { "x" } else { "" };
        let range = if v % 2 == 0 {
            json!({"start": {"line": 1, "character": 9}, "end": {"line": 1, "character": 9}})
        } else {
            json!({"start": {"line": 1, "character": 9}, "end": {"line": 1, "character": 10}})
        };
        c.change(&uri, v, json!([{"range": range, "text": text}]));
    }
    still_serving(&mut c);
    // The publication for the last version, of the text as it started.
    let last = c.diagnostics(&uri, Some(10_001));
    assert!(codes(&last).contains(&"missing-licence".to_string()));
    let r = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(r["result"][0]["name"], "A", "{r}");
}

#[test]
fn a_client_that_never_answers_server_requests_still_gets_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::spawn();
    c.answer_requests = false;
    let r = c.request(
        "initialize",
        json!({"processId": null, "rootUri": url(dir.path()), "capabilities": {"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}}}),
    );
    assert!(r["result"].is_object());
    c.notify("initialized", json!({}));
    c.server_request("client/registerCapability");
    let uri = url(&dir.path().join("a.catalogue.toml"));
    c.open(&uri, DOC, 1);
    assert!(codes(&c.diagnostics(&uri, Some(1))).contains(&"missing-licence".to_string()));
    // A motor on a date Ann. 18's exclusions decide it (FAQ IV); after
    // 2026-11-10 a motor of unknown contents is indeterminate (Ann. 57).
    let motor = format!(
        "[catalogue]\nas_of = 2026-06-01\n{}",
        DOC.replace("oxide", "motor")
    );
    c.change(&uri, 2, json!([{"text": motor}]));
    c.diagnostics(&uri, Some(2));
    let r = c.request(
        "textDocument/inlayHint",
        json!({"textDocument": {"uri": uri}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 99, "character": 0}}}),
    );
    assert!(
        r["result"][0]["label"]
            .as_str()
            .is_some_and(|l| l.starts_with("excluded")),
        "{r}"
    );
}

#[test]
fn a_fifty_megabyte_message_is_handled() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::spawn();
    init(&mut c, dir.path());
    let uri = url(&dir.path().join("big.catalogue.toml"));
    let mut text = String::from(DOC);
    text.push_str("# ");
    text.push_str(&"x".repeat(50 * 1024 * 1024));
    text.push('\n');
    c.open(&uri, &text, 1);
    let d = c.diagnostics(&uri, Some(1));
    assert!(
        codes(&d).contains(&"missing-licence".to_string()),
        "{:?}",
        codes(&d)
    );
    still_serving(&mut c);
}
