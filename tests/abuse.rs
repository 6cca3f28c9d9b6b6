//! Protocol abuse: the server keeps serving whatever the client sends.

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

#[test]
fn requests_before_initialize_are_refused_then_initialize_works() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::spawn();
    let r = c.request("textDocument/hover", json!({"textDocument": {"uri": "file:///x.catalogue.toml"}, "position": {"line": 0, "character": 0}}));
    assert!(r.get("error").is_some(), "{r}");
    init(&mut c, dir.path());
    assert_eq!(c.shutdown_and_exit(), Some(0));
}

#[test]
fn malformed_json_and_headers_do_not_stop_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::spawn();
    init(&mut c, dir.path());
    c.send_raw(b"Content-Length: 12\r\n\r\n{not json!!}");
    c.send_raw(b"Content-Length: 2\r\n\r\n[]");
    c.send_raw(b"Content-Length: 27\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":true}");
    let uri = url(&dir.path().join("a.catalogue.toml"));
    c.open(&uri, DOC, 1);
    assert!(codes(&c.diagnostics(&uri, Some(1))).contains(&"missing-licence".to_string()));
    let r = c.request("workspace/symbol", json!({"query": "A"}));
    assert_eq!(r["result"][0]["name"], "A");
}

#[test]
fn cancel_request_is_harmless() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::spawn();
    init(&mut c, dir.path());
    let uri = url(&dir.path().join("a.catalogue.toml"));
    c.open(&uri, DOC, 1);
    let id = c.send_request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 1}}),
    );
    c.notify("$/cancelRequest", json!({"id": id}));
    let r = c.response(id);
    assert!(
        r.get("result").is_some() || r["error"]["code"] == -32800,
        "{r}"
    );
    let r = c.request("workspace/symbol", json!({"query": ""}));
    assert!(r["result"].is_array());
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
    let t = std::time::Instant::now();
    let r = c.request("workspace/symbol", json!({"query": "A"}));
    assert_eq!(r["result"][0]["name"], "A", "still answering");
    let last = c.diagnostics(&uri, Some(10_001));
    assert!(codes(&last).contains(&"missing-licence".to_string()));
    assert!(t.elapsed() < std::time::Duration::from_secs(60));
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
    let uri = url(&dir.path().join("a.catalogue.toml"));
    c.open(&uri, DOC, 1);
    assert!(codes(&c.diagnostics(&uri, Some(1))).contains(&"missing-licence".to_string()));
    c.change(&uri, 2, json!([{"text": DOC.replace("oxide", "motor")}]));
    assert!(codes(&c.diagnostics(&uri, Some(2))).contains(&"excluded".to_string()));
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
    let r: Value = c.request("workspace/symbol", json!({"query": "A"}));
    assert_eq!(r["result"][0]["name"], "A");
}
