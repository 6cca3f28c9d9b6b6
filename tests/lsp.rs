//! Protocol tests: the real binary over stdio JSON-RPC, as an editor drives it.

mod common;
use catalogue_lsp::text::{Encoding, LineIndex};
use common::lsp::{Client, codes, url};
use serde_json::{Value, json};
use std::path::Path;

const LICENCES: &str = r#"[[licence]]
id = "GL-1"
type = "general"
issued = 2026-01-01
expires = 2028-12-31
items = ["1C905"]
end_users = ["Example Motors GmbH"]
destinations = ["DE"]
"#;

const MAGNETS: &str = r#"[catalogue]
as_of = 2026-06-01

[[product]]
sku = "MAG-1"
form = "magnet"
composition = { Nd = 27.5, Dy = 2.5, Fe = 69, B = 1 }
destination = "DE"
end_user = "Example Motors GmbH"

[[product]]
sku = "ROTOR-1"
form = "rotor-assembly"
components = ["MAG-1"]
mounting = "embedded"
"#;

/// The magnets catalogue with MAG-1 using licence GL-1.
fn with_licence() -> String {
    MAGNETS.replace(
        "end_user = \"Example Motors GmbH\"\n",
        "end_user = \"Example Motors GmbH\"\nlicence = \"GL-1\"\n",
    )
}

fn workspace() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("licences.catalogue.toml"), LICENCES).unwrap();
    std::fs::write(dir.path().join("magnets.catalogue.toml"), MAGNETS).unwrap();
    let lic = url(&dir.path().join("licences.catalogue.toml"));
    let mag = url(&dir.path().join("magnets.catalogue.toml"));
    (dir, lic, mag)
}

fn start(root: &Path, enc: &[&str]) -> Client {
    let mut c = Client::spawn();
    let r = c.initialize(root, enc, json!({}));
    assert!(r["result"]["capabilities"].is_object(), "{r}");
    if root.join("licences.catalogue.toml").exists() {
        wait_indexed(&mut c);
    }
    c
}

/// Waits until the background index holds the licence register (so results are deterministic).
fn wait_indexed(c: &mut Client) {
    let deadline = std::time::Instant::now() + common::lsp::TIMEOUT;
    while std::time::Instant::now() < deadline {
        let r = c.request("workspace/symbol", json!({"query": "GL-1"}));
        if r["result"].as_array().is_some_and(|a| !a.is_empty()) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("workspace was not indexed");
}

fn pos(line: u32, character: u32) -> Value {
    json!({"line": line, "character": character})
}

fn find<'a>(diags: &'a [Value], code: &str) -> &'a Value {
    diags
        .iter()
        .find(|d| d["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {diags:#?}"))
}

/// Applies LSP text edits (in `enc`) to a text, last first.
fn apply_edits(text: &str, edits: &[Value], enc: Encoding) -> String {
    let lines = LineIndex::new(text);
    let mut spans: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|e| {
            let r = &e["range"];
            let off = |p: &Value| {
                lines.offset(
                    text,
                    p["line"].as_u64().unwrap() as u32,
                    p["character"].as_u64().unwrap() as u32,
                    enc,
                )
            };
            (
                off(&r["start"]),
                off(&r["end"]),
                e["newText"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    spans.sort_by_key(|s| std::cmp::Reverse(s.0));
    let mut t = text.to_string();
    for (a, b, n) in spans {
        t.replace_range(a..b, &n);
    }
    t
}

/// Requests the code actions for a diagnostic and applies the preferred one to `text`.
fn apply_preferred_fix(c: &mut Client, uri: &str, diag: &Value, text: &str) -> String {
    let r = c.request("textDocument/codeAction", json!({"textDocument": {"uri": uri}, "range": diag["range"], "context": {"diagnostics": [diag]}}));
    let actions = r["result"].as_array().cloned().unwrap_or_default();
    let a = actions
        .iter()
        .find(|a| a["isPreferred"] == true)
        .unwrap_or_else(|| panic!("no preferred fix for {diag}: {r}"));
    apply_edits(
        text,
        a["edit"]["changes"][uri].as_array().unwrap(),
        Encoding::Utf16,
    )
}

#[test]
fn diagnostics_after_open_and_incremental_edits() {
    let (dir, lic, mag) = workspace();
    let mut c = start(dir.path(), &["utf-16"]);
    c.open(&mag, MAGNETS, 1);
    let d = c.diagnostics(&mag, Some(1));
    let ml = find(&d, "missing-licence");
    assert_eq!(ml["range"]["start"], pos(3, 0));
    assert_eq!(ml["range"]["end"], pos(3, 11));
    assert_eq!(ml["severity"], 1);
    assert!(
        ml["codeDescription"]["href"]
            .as_str()
            .unwrap()
            .starts_with("http")
    );
    // The verdict marks are off by default (contract §11): the verdict is an inlay hint and a code lens.
    assert!(!codes(&d).contains(&"excluded".to_string()), "{d:#?}");
    assert!(!codes(&d).contains(&"controlled".to_string()), "{d:#?}");
    // Insert the licence line after `end_user` (line 8), incrementally.
    c.change(&mag, 2, json!([{"range": {"start": pos(8, 32), "end": pos(8, 32)}, "text": "\nlicence = \"GL-1\""}]));
    let d = c.diagnostics(&mag, Some(2));
    assert!(
        !codes(&d).contains(&"missing-licence".to_string()),
        "{d:#?}"
    );
    assert!(d.is_empty(), "nothing needs action: {d:#?}");
    // The licence file lives on disk only: it was indexed at start-up.
    let _ = lic;
    assert_eq!(c.shutdown_and_exit(), Some(0));
}

#[test]
fn hover_explains_verdict_licence_and_elements() {
    let (dir, _lic, mag) = workspace();
    let mut c = start(dir.path(), &["utf-16"]);
    c.open(&mag, MAGNETS, 1);
    c.diagnostics(&mag, Some(1));
    let h = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": mag}, "position": pos(3, 3)}),
    );
    let text = h["result"]["contents"]["value"].as_str().unwrap();
    assert!(
        text.contains("1C905.a.4") && text.contains("controlled"),
        "{text}"
    );
    assert!(text.contains("mofcom.gov.cn"), "{text}");
    let h = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": mag}, "position": pos(6, 28)}),
    );
    let text = h["result"]["contents"]["value"].as_str().unwrap();
    assert!(
        text.contains("dysprosium") && text.contains("listed element"),
        "{text}"
    );
    let h = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": mag}, "position": pos(12, 3)}),
    );
    let text = h["result"]["contents"]["value"].as_str().unwrap();
    assert!(
        text.contains("excluded") && text.contains("FAQ V, answer 1"),
        "{text}"
    );
    let h = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": mag}, "position": pos(5, 10)}),
    );
    assert!(
        h["result"]["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("permanent magnet")
    );
}

#[test]
fn quick_fixes_apply_and_recheck() {
    let (dir, _lic, mag) = workspace();
    let mut c = start(dir.path(), &["utf-16"]);
    c.open(&mag, MAGNETS, 1);
    let d = c.diagnostics(&mag, Some(1));
    let ml = find(&d, "missing-licence").clone();
    let r = c.request("textDocument/codeAction", json!({"textDocument": {"uri": mag}, "range": ml["range"], "context": {"diagnostics": [ml]}}));
    let actions = r["result"].as_array().unwrap();
    let first = &actions[0];
    assert_eq!(first["title"], "Use licence GL-1");
    assert!(actions.iter().any(|a| {
        a["title"]
            .as_str()
            .unwrap()
            .starts_with("Add a licence stub")
    }));
    let edits = first["edit"]["changes"][&mag].as_array().unwrap();
    let fixed = apply_edits(MAGNETS, edits, Encoding::Utf16);
    assert!(
        fixed.contains("end_user = \"Example Motors GmbH\"\nlicence = \"GL-1\"\n"),
        "{fixed}"
    );
    c.change(&mag, 2, json!([{"text": fixed}]));
    let d = c.diagnostics(&mag, Some(2));
    assert!(
        !codes(&d).contains(&"missing-licence".to_string()),
        "{d:#?}"
    );

    // unknown-licence, declared-code-mismatch and invalid-value quick fixes.
    let broken = fixed
        .replace("licence = \"GL-1\"", "licence = \"GL-2\"")
        .replace("mounting = \"embedded\"", "mounting = \"embeded\"")
        .replace(
            "form = \"magnet\"",
            "form = \"magnet\"\ncontrol_code = \"1C904.a.4\"",
        );
    c.change(&mag, 3, json!([{"text": broken}]));
    let d = c.diagnostics(&mag, Some(3));
    let mut text = broken.clone();
    for code in ["unknown-licence", "invalid-value"] {
        text = apply_preferred_fix(&mut c, &mag, find(&d, code), &text);
    }
    assert!(
        text.contains("licence = \"GL-1\"") && text.contains("mounting = \"embedded\""),
        "{text}"
    );
    c.change(&mag, 4, json!([{"text": text}]));
    let d = c.diagnostics(&mag, Some(4));
    let diag = find(&d, "declared-code-mismatch").clone();
    let r = c.request("textDocument/codeAction", json!({"textDocument": {"uri": mag}, "range": diag["range"], "context": {"diagnostics": [diag]}}));
    let a = &r["result"][0];
    let text = apply_edits(
        &text,
        a["edit"]["changes"][&mag].as_array().unwrap(),
        Encoding::Utf16,
    );
    assert!(text.contains("control_code = \"1C905.a.4\""), "{text}");
    c.change(&mag, 5, json!([{"text": text}]));
    let d = c.diagnostics(&mag, Some(5));
    assert!(d.iter().all(|x| x["severity"] != 1), "{d:#?}");
}

#[test]
fn licence_stub_quick_fix_goes_to_the_register() {
    let (dir, lic, mag) = workspace();
    let mut c = start(dir.path(), &["utf-16"]);
    let text = MAGNETS.replace("destination = \"DE\"", "destination = \"FR\"");
    c.open(&mag, &text, 1);
    let d = c.diagnostics(&mag, Some(1));
    let ml = find(&d, "missing-licence").clone();
    let r = c.request("textDocument/codeAction", json!({"textDocument": {"uri": mag}, "range": ml["range"], "context": {"diagnostics": [ml]}}));
    // Besides the shipment skeleton every product offers.
    let actions: Vec<&Value> = r["result"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            !a["title"]
                .as_str()
                .unwrap()
                .starts_with("Add a [[shipment]]")
        })
        .collect();
    assert_eq!(actions.len(), 1, "no licence fits FR: {actions:#?}");
    let changes = &actions[0]["edit"]["changes"];
    let stub = apply_edits(LICENCES, changes[&lic].as_array().unwrap(), Encoding::Utf16);
    assert!(
        stub.contains("id = \"IL-NEW-MAG-1\"")
            && stub.contains("items = [\"1C905.a.4\"]")
            && stub.contains("destinations = [\"FR\"]"),
        "{stub}"
    );
}

#[test]
fn completion_offers_keys_values_and_ids() {
    let (dir, _lic, mag) = workspace();
    let mut c = start(dir.path(), &["utf-16"]);
    let text = format!(
        "{MAGNETS}\n[[product]]\nsku = \"NEW\"\nform = \"\"\nlicence = \"\"\ncomposition = {{ D\n\n"
    );
    c.open(&mag, &text, 1);
    c.diagnostics(&mag, Some(1));
    let labels = |r: &Value| {
        r["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["label"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let base = MAGNETS.lines().count() as u32 + 1;
    let r = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": mag}, "position": pos(base + 2, 8)}),
    );
    assert!(labels(&r).contains(&"magnet".to_string()));
    let r = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": mag}, "position": pos(base + 3, 11)}),
    );
    assert!(labels(&r).contains(&"GL-1".to_string()), "{r}");
    let r = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": mag}, "position": pos(base + 4, 16)}),
    );
    assert!(labels(&r).contains(&"Dy".to_string()));
    let r = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": mag}, "position": pos(base + 5, 0)}),
    );
    let l = labels(&r);
    assert!(
        l.contains(&"destination".to_string()) && !l.contains(&"sku".to_string()),
        "{l:?}"
    );
}

#[test]
fn navigation_across_two_files() {
    let (dir, lic, mag) = workspace();
    let mut c = start(dir.path(), &["utf-16"]);
    let text = with_licence();
    c.open(&mag, &text, 1);
    c.diagnostics(&mag, Some(1));
    // Definition of the licence reference (line 9) is in the other file.
    let r = c.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": mag}, "position": pos(9, 13)}),
    );
    assert_eq!(r["result"]["uri"], lic);
    assert_eq!(r["result"]["range"]["start"], pos(1, 5));
    // Component reference → product header.
    let r = c.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": mag}, "position": pos(14, 16)}),
    );
    assert_eq!(r["result"]["range"]["start"]["line"], 4);
    let r = c.request("textDocument/references", json!({"textDocument": {"uri": lic}, "position": pos(1, 7), "context": {"includeDeclaration": true}}));
    assert_eq!(r["result"].as_array().unwrap().len(), 2, "{r}");
    let r = c.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": mag}, "position": pos(9, 13), "newName": "GL-9"}),
    );
    let ch = &r["result"]["changes"];
    assert_eq!(ch[&lic][0]["newText"], "\"GL-9\"");
    assert_eq!(ch[&mag][0]["newText"], "\"GL-9\"");
    let r = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": mag}}),
    );
    let syms = r["result"].as_array().unwrap();
    assert!(
        syms.iter()
            .any(|s| s["name"] == "MAG-1" && s["detail"] == "controlled"),
        "{syms:#?}"
    );
    let r = c.request("workspace/symbol", json!({"query": "gl-"}));
    assert_eq!(r["result"][0]["name"], "GL-1");
    let r = c.request(
        "textDocument/inlayHint",
        json!({"textDocument": {"uri": mag}, "range": {"start": pos(0, 0), "end": pos(99, 0)}}),
    );
    let labels: Vec<&str> = r["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "controlled 1C905.a.4 · licence GL-1",
            "excluded: rotor-stator-assembly"
        ]
    );
}

const WIDE: &str = "# 目录 𝄞\r\n[[product]]\r\nsku = \"𝄞-1\"\r\nform = \"magnet\"\r\ncomposition = { Nd = 28, Dy = 3, Fe = 68, B = 1 }\r\nname = \"𝄞𝄞\" ; control_code = \"1C904.a.4\"\r\n";

#[test]
fn utf8_and_utf16_sessions_on_crlf_with_non_bmp_text() {
    for (enc, expect_col) in [("utf-8", 18u32), ("utf-16", 14u32)] {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Client::spawn();
        let r = c.initialize(dir.path(), &[enc], json!({}));
        assert_eq!(r["result"]["capabilities"]["positionEncoding"], enc);
        let uri = url(&dir.path().join("w.catalogue.toml"));
        // A file with a syntax error after non-BMP characters on a CRLF line.
        c.open(&uri, WIDE, 1);
        let d = c.diagnostics(&uri, Some(1));
        let s = find(&d, "syntax-error");
        assert_eq!(s["range"]["start"]["line"], 5, "{enc}: {s}");
        assert_eq!(s["range"]["start"]["character"], expect_col, "{enc}: {s}");
        // Replace the `;` by a newline using this encoding's column.
        c.change(&uri, 2, json!([{"range": {"start": pos(5, expect_col), "end": pos(5, expect_col + 2)}, "text": "\r\n"}]));
        let d = c.diagnostics(&uri, Some(2));
        let m = find(&d, "declared-code-mismatch");
        assert_eq!(m["range"]["start"], pos(6, 15), "{enc}");
        assert_eq!(c.shutdown_and_exit(), Some(0));
    }
}

#[test]
fn odd_client_behaviour_is_survived() {
    let (dir, _lic, mag) = workspace();
    let mut c = start(dir.path(), &["utf-16"]);
    // Changes to a document never opened, out-of-range positions, versions going backwards.
    c.change(
        "file:///nowhere/x.catalogue.toml",
        2,
        json!([{"text": "x"}]),
    );
    c.open(&mag, MAGNETS, 5);
    c.diagnostics(&mag, Some(5));
    c.change(
        &mag,
        6,
        json!([{"range": {"start": pos(900, 900), "end": pos(901, 0)}, "text": "\n# tail"}]),
    );
    c.diagnostics(&mag, Some(6));
    c.change(&mag, 3, json!([{"text": ""}]));
    c.change(
        &mag,
        7,
        json!([{"range": {"start": pos(0, 999), "end": pos(0, 1000)}, "text": "#"}]),
    );
    let d = c.diagnostics(&mag, Some(7));
    assert!(
        codes(&d).contains(&"missing-licence".to_string()),
        "the old version was ignored: {d:#?}"
    );
    let h = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": mag}, "position": pos(4000, 4000)}),
    );
    assert!(h.get("error").is_none());
    let h = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": "file:///not/open.toml"}, "position": pos(0, 0)}),
    );
    assert_eq!(h["result"], Value::Null);
    let r = c.request("catalogue/unknownMethod", json!({}));
    assert!(r.get("error").is_some());
    // Malformed TOML and invalid values everywhere: still serving.
    c.change(
        &mag,
        8,
        json!([{"text": "[[product\nsku = = \n\u{0}\u{feff}[[licence]]\nid = 3\n"}]),
    );
    let d = c.diagnostics(&mag, Some(8));
    assert!(codes(&d).contains(&"syntax-error".to_string()));
    assert_eq!(c.shutdown_and_exit(), Some(0));
}

#[test]
fn configuration_changes_recheck_without_restart() {
    let (dir, _lic, mag) = workspace();
    let mut c = Client::spawn();
    c.initialize(dir.path(), &["utf-16"], json!({"asOf": "2025-01-01"}));
    wait_indexed(&mut c);
    c.open(
        &mag,
        &MAGNETS.replace("[catalogue]\nas_of = 2026-06-01\n", ""),
        1,
    );
    let d = c.diagnostics(&mag, Some(1));
    assert!(
        codes(&d).contains(&"upcoming-control".to_string()),
        "{d:#?}"
    );
    c.notify("workspace/didChangeConfiguration", json!({"settings": {"catalogueLsp": {"asOf": "2026-06-01", "severity": {"missing-licence": "warning", "excluded": "hint"}}}}));
    let d = c.diagnostics_until(&mag, |d| {
        d.iter()
            .any(|x| x["code"] == "missing-licence" && x["severity"] == 2)
    });
    let ml = find(&d, "missing-licence");
    assert_eq!(ml["severity"], 2);
    // Named in `severity`, a mark that is off by default is on again; the other stays off.
    assert_eq!(find(&d, "excluded")["severity"], 4);
    assert!(!codes(&d).contains(&"controlled".to_string()), "{d:#?}");
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"rules": "/nonexistent/pack.toml"}}),
    );
    let d = c.diagnostics_until(&mag, |d| codes(d).contains(&"rule-pack-error".to_string()));
    assert!(
        find(&d, "rule-pack-error")["message"]
            .as_str()
            .unwrap()
            .contains("/nonexistent/pack.toml")
    );
}

#[test]
fn pull_diagnostics_when_the_client_supports_them() {
    let (dir, _lic, mag) = workspace();
    let mut c = Client::spawn();
    let r = c.request(
        "initialize",
        json!({"processId": null, "rootUri": url(dir.path()), "capabilities": {"textDocument": {"diagnostic": {"dynamicRegistration": false}}}}),
    );
    assert_eq!(
        r["result"]["capabilities"]["diagnosticProvider"]["identifier"],
        "catalogue-lsp"
    );
    c.notify("initialized", json!({}));
    c.open(&mag, MAGNETS, 1);
    let r = c.request(
        "textDocument/diagnostic",
        json!({"textDocument": {"uri": mag}}),
    );
    assert_eq!(r["result"]["kind"], "full");
    assert!(
        codes(r["result"]["items"].as_array().unwrap()).contains(&"missing-licence".to_string())
    );
}

#[test]
fn random_edits_end_in_the_state_of_a_fresh_open() {
    let (dir, _lic, mag) = workspace();
    let mut c = start(dir.path(), &["utf-16"]);
    let mut text = MAGNETS.to_string();
    c.open(&mag, &text, 1);
    let mut seed = 7u64;
    let mut rnd = |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % n.max(1)
    };
    let pieces = [
        "\"",
        "[",
        "]",
        "\n",
        "Dy",
        " = ",
        "𝄞",
        "é",
        "\r\n",
        "form = \"motor\"\n",
        "[[product]]\nsku = \"R\"\n",
        "",
        "#",
    ];
    for v in 2..502 {
        let lines = LineIndex::new(&text);
        let a = rnd(text.len() + 1);
        let b = (a + rnd(8)).min(text.len());
        // LSP cannot address the point between CR and LF: step back over it.
        let fix = |o: usize| {
            let o = catalogue_lsp::text::floor_char_boundary(&text, o);
            if o > 0 && text.as_bytes()[o - 1] == b'\r' && text.as_bytes().get(o) == Some(&b'\n') {
                o - 1
            } else {
                o
            }
        };
        let (a, b) = (fix(a), fix(b));
        let (l1, c1) = lines.position(&text, a, Encoding::Utf16);
        let (l2, c2) = lines.position(&text, b, Encoding::Utf16);
        let ins = pieces[rnd(pieces.len())];
        c.change(
            &mag,
            v,
            json!([{"range": {"start": pos(l1, c1), "end": pos(l2, c2)}, "text": ins}]),
        );
        text.replace_range(a..b, ins);
    }
    let edited = c.diagnostics(&mag, Some(501));
    let fresh = url(&dir.path().join("fresh.catalogue.toml"));
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": mag}}),
    );
    c.open(&fresh, &text, 1);
    let reopened = c.diagnostics(&fresh, Some(1));
    let strip = |d: &[Value]| {
        d.iter()
            .map(|x| (x["code"].clone(), x["range"].clone(), x["message"].clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&edited), strip(&reopened));
}

#[test]
fn exit_after_shutdown_even_with_stdin_open_and_when_stdin_closes() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = start(dir.path(), &["utf-16"]);
    // Ends (by itself: stdin stays open) with 0.
    assert_eq!(c.shutdown_and_exit(), Some(0));
    let mut c = start(dir.path(), &["utf-16"]);
    c.close_stdin();
    assert!(
        c.wait_exit(common::lsp::TIMEOUT).is_some(),
        "server did not exit when stdin closed"
    );
}

#[test]
fn editing_a_licence_rechecks_the_files_that_use_it() {
    let (dir, lic, mag) = workspace();
    let mut c = start(dir.path(), &["utf-16"]);
    let text = with_licence();
    c.open(&mag, &text, 1);
    assert!(!codes(&c.diagnostics(&mag, Some(1))).contains(&"licence-expired".to_string()));
    c.open(&lic, LICENCES, 1);
    c.diagnostics(&lic, Some(1));
    // Shorten the licence: it now expires before the evaluation date.
    c.change(
        &lic,
        2,
        json!([{"range": {"start": pos(4, 10), "end": pos(4, 20)}, "text": "2026-03-31"}]),
    );
    c.diagnostics(&lic, Some(2));
    let d = c.diagnostics_until(&mag, |d| codes(d).contains(&"licence-expired".to_string()));
    let rel = &find(&d, "licence-expired")["relatedInformation"][0]["location"];
    assert_eq!(rel["uri"], lic);
}

#[test]
fn editing_the_rule_pack_file_rechecks_without_restart() {
    let (dir, _lic, mag) = workspace();
    let pack_path = dir.path().join("pack.toml");
    std::fs::write(&pack_path, catalogue_lsp::rules::EMBEDDED).unwrap();
    let mut c = Client::spawn();
    c.initialize(
        dir.path(),
        &["utf-16"],
        json!({"rules": pack_path.display().to_string()}),
    );
    wait_indexed(&mut c);
    c.open(&mag, MAGNETS, 1);
    assert!(codes(&c.diagnostics(&mag, Some(1))).contains(&"missing-licence".to_string()));
    // Remove Dy-NdFeB from the pack; the editor reports the file change.
    let edited = catalogue_lsp::rules::EMBEDDED.replace(
        "elements = [\"Dy\", \"Fe\"], any_of",
        "elements = [\"Dy\", \"Fe\", \"Ho\"], any_of",
    );
    std::fs::write(&pack_path, edited).unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": url(&pack_path), "type": 2}]}),
    );
    c.diagnostics_until(&mag, |d| !codes(d).contains(&"missing-licence".to_string()));
}

#[test]
fn exits_when_the_parent_process_dies() {
    let dir = tempfile::tempdir().unwrap();
    let mut parent = std::process::Command::new("sleep")
        .arg("1")
        .spawn()
        .unwrap();
    let mut c = Client::spawn();
    let r = c.request(
        "initialize",
        json!({"processId": parent.id(), "rootUri": url(dir.path()), "capabilities": {}}),
    );
    assert!(r["result"].is_object());
    c.notify("initialized", json!({}));
    let _ = parent.wait();
    assert!(
        c.wait_exit(common::lsp::TIMEOUT).is_some(),
        "server outlived its parent"
    );
}

#[test]
fn unknown_field_and_unknown_component_fixes() {
    let (dir, _lic, mag) = workspace();
    let mut c = start(dir.path(), &["utf-16"]);
    let text = MAGNETS
        .replace(
            "end_user = \"Example Motors GmbH\"\n",
            "end_user = \"Example Motors GmbH\"\nlicnce = \"GL-1\"\n",
        )
        .replace("components = [\"MAG-1\"]", "components = [\"MAG-I\"]");
    c.open(&mag, &text, 1);
    let d = c.diagnostics(&mag, Some(1));
    let mut fixed = text.clone();
    for code in ["unknown-field", "unknown-component"] {
        fixed = apply_preferred_fix(&mut c, &mag, find(&d, code), &fixed);
    }
    assert!(
        fixed.contains("\nlicence = \"GL-1\"\n") && fixed.contains("components = [\"MAG-1\"]"),
        "{fixed}"
    );
    c.change(&mag, 2, json!([{"text": fixed}]));
    let d = c.diagnostics(&mag, Some(2));
    assert!(
        d.iter().all(|x| x["severity"] != 1 && x["severity"] != 2),
        "{d:#?}"
    );
}

/// A document opened with the text the index read from disk takes over that
/// parse; with any other text it is parsed from the editor's text.
#[test]
fn an_opened_document_takes_the_index_parse_only_for_the_same_text() {
    let (dir, _lic, mag) = workspace();
    let mut c = start(dir.path(), &["utf-16"]);
    c.open(&mag, MAGNETS, 1);
    let same = c.diagnostics(&mag, Some(1));
    assert!(codes(&same).contains(&"missing-licence".to_string()));
    // Positions come from the adopted line index: line 3 is MAG-1's `sku`.
    assert_eq!(find(&same, "missing-licence")["range"]["start"], pos(3, 0));
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": mag}}),
    );
    c.open(&mag, &with_licence(), 1);
    let other = c.diagnostics(&mag, Some(1));
    assert!(
        !codes(&other).contains(&"missing-licence".to_string()),
        "{other:#?}"
    );
    assert_eq!(c.shutdown_and_exit(), Some(0));
}

/// A catalogue that names its own rule pack is explained with that pack in
/// hovers, not with the settings' one.
#[test]
fn hover_names_the_pack_the_file_was_judged_by() {
    let (dir, _lic, mag) = workspace();
    let pack = catalogue_lsp::rules::EMBEDDED.replacen(
        "id = \"cn-rare-earth-dual-use\"",
        "id = \"company-review-pack\"",
        1,
    );
    std::fs::write(dir.path().join("company.toml"), pack).unwrap();
    let text = MAGNETS.replace(
        "as_of = 2026-06-01\n",
        "as_of = 2026-06-01\nrules = \"company.toml\"\n",
    );
    let mut c = start(dir.path(), &["utf-16"]);
    c.open(&mag, &text, 1);
    c.diagnostics(&mag, Some(1));
    let h = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": mag}, "position": pos(4, 3)}),
    );
    let hover = h["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default();
    assert!(hover.contains("`company-review-pack`"), "{hover}");
    assert_eq!(c.shutdown_and_exit(), Some(0));
}

/// A catalogue judged by its own `[catalogue].rules` pack gets completion and
/// hovers from that pack, not from the default one (a file beside it that
/// names no pack keeps the embedded pack's).
#[test]
fn completion_and_hover_use_the_files_own_pack() {
    let dir = tempfile::tempdir().unwrap();
    let embedded = catalogue_lsp::rules::EMBEDDED;
    let own = embedded
        .replacen(
            "id = \"cn-rare-earth-dual-use\"",
            "id = \"test-own-pack\"",
            1,
        )
        .replacen("version = \"", "version = \"9.9.9-", 1)
        .replacen(
            "title = \"Samarium metal\"",
            "title = \"Samarium metal (own pack)\"",
            1,
        );
    assert_ne!(own, embedded, "the test pack differs from the embedded one");
    std::fs::write(dir.path().join("own.toml"), &own).unwrap();
    let body = "\n[[product]]\nsku = \"SM-1\"\nform = \"metal\"\ncomposition = { Sm = 100 }\ncontrol_code = \"\"\ndestination = \"DE\"\n";
    let a_text = format!("[catalogue]\nas_of = 2026-06-01\nrules = \"own.toml\"\n{body}");
    let b_text = format!("[catalogue]\nas_of = 2026-06-01\n{body}");
    std::fs::write(dir.path().join("a.catalogue.toml"), &a_text).unwrap();
    std::fs::write(dir.path().join("b.catalogue.toml"), &b_text).unwrap();
    let a = url(&dir.path().join("a.catalogue.toml"));
    let b = url(&dir.path().join("b.catalogue.toml"));
    let mut c = start(dir.path(), &["utf-16"]);
    c.open(&a, &a_text, 1);
    let d = c.diagnostics(&a, Some(1));
    assert!(
        !codes(&d).contains(&"rule-pack-error".to_string()),
        "{d:#?}"
    );
    c.open(&b, &b_text, 1);
    c.diagnostics(&b, Some(1));
    // The detail of 1C902.a.1 when completing `control_code = "`.
    let detail = |c: &mut Client, uri: &str, line: u32| {
        let r = c.request(
            "textDocument/completion",
            json!({"textDocument": {"uri": uri}, "position": pos(line, 16)}),
        );
        r["result"]
            .as_array()
            .unwrap_or_else(|| panic!("{r}"))
            .iter()
            .find(|i| i["label"] == "1C902.a.1")
            .unwrap_or_else(|| panic!("1C902.a.1 offered: {r}"))["detail"]
            .clone()
    };
    assert_eq!(detail(&mut c, &a, 8), "Samarium metal (own pack)");
    assert_eq!(detail(&mut c, &b, 7), "Samarium metal");
    // The product hover names the pack that judged it.
    let hover = |c: &mut Client, uri: &str, line: u32| {
        let r = c.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": pos(line, 2)}),
        );
        r["result"]["contents"]["value"]
            .as_str()
            .unwrap_or_else(|| panic!("{r}"))
            .to_string()
    };
    let h = hover(&mut c, &a, 4);
    assert!(h.contains("rule pack `test-own-pack` 9.9.9-"), "{h}");
    let h = hover(&mut c, &b, 3);
    assert!(h.contains("rule pack `cn-rare-earth-dual-use`"), "{h}");
}

/// The lines of each `[[product]]` header in MAGNETS.
const MAG_HEADER: u32 = 3;
const ROTOR_HEADER: u32 = 10;

fn inlay_labels(c: &mut Client, uri: &str, from: u32, to: u32) -> Vec<String> {
    let r = c.request(
        "textDocument/inlayHint",
        json!({"textDocument": {"uri": uri}, "range": {"start": pos(from, 0), "end": pos(to, 0)}}),
    );
    r["result"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .map(|h| h["label"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_verdict_is_a_code_lens_above_its_header() {
    let (dir, _lic, mag) = workspace();
    let mut c = Client::spawn();
    let r = c.initialize(dir.path(), &["utf-16"], json!({}));
    assert_eq!(
        r["result"]["capabilities"]["codeLensProvider"]["resolveProvider"], false,
        "{r}"
    );
    wait_indexed(&mut c);
    c.open(&mag, MAGNETS, 1);
    c.diagnostics(&mag, Some(1));
    let r = c.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": mag}}),
    );
    let lenses: Vec<(u64, &str)> = r["result"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .map(|l| {
            (
                l["range"]["start"]["line"].as_u64().unwrap(),
                l["command"]["title"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lenses,
        [
            (u64::from(MAG_HEADER), "controlled 1C905.a.4 · no licence"),
            (u64::from(ROTOR_HEADER), "excluded: rotor-stator-assembly")
        ]
    );
    // The lens follows an edit: with the licence, it names it.
    c.change(&mag, 2, json!([{"range": {"start": pos(8, 32), "end": pos(8, 32)}, "text": "\nlicence = \"GL-1\""}]));
    c.diagnostics(&mag, Some(2));
    let r = c.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": mag}}),
    );
    assert_eq!(
        r["result"][0]["command"]["title"],
        "controlled 1C905.a.4 · licence GL-1"
    );
    assert_eq!(r["result"][1]["range"]["start"]["line"], ROTOR_HEADER + 1);
    assert_eq!(c.shutdown_and_exit(), Some(0));
}

#[test]
fn inlay_hints_cover_only_the_requested_lines() {
    let (dir, _lic, mag) = workspace();
    let mut c = start(dir.path(), &["utf-16"]);
    c.open(&mag, MAGNETS, 1);
    c.diagnostics(&mag, Some(1));
    assert_eq!(
        inlay_labels(&mut c, &mag, 0, 99),
        [
            "controlled 1C905.a.4 · no licence",
            "excluded: rotor-stator-assembly"
        ]
    );
    assert_eq!(
        inlay_labels(&mut c, &mag, 0, MAG_HEADER + 1),
        ["controlled 1C905.a.4 · no licence"]
    );
    assert_eq!(
        inlay_labels(&mut c, &mag, ROTOR_HEADER, ROTOR_HEADER + 1),
        ["excluded: rotor-stator-assembly"]
    );
    // Lines inside a product's body, with no header: nothing.
    assert!(inlay_labels(&mut c, &mag, MAG_HEADER + 1, ROTOR_HEADER - 1).is_empty());
    assert_eq!(c.shutdown_and_exit(), Some(0));
}

#[test]
fn verdict_marks_are_off_by_default_and_on_through_severity() {
    let (dir, _lic, mag) = workspace();
    let mut c = start(dir.path(), &["utf-16"]);
    c.open(&mag, MAGNETS, 1);
    let d = c.diagnostics(&mag, Some(1));
    assert!(codes(&d).contains(&"missing-licence".to_string()), "{d:#?}");
    assert!(!codes(&d).contains(&"controlled".to_string()), "{d:#?}");
    assert!(!codes(&d).contains(&"excluded".to_string()), "{d:#?}");
    c.shutdown_and_exit();

    let mut c = Client::spawn();
    c.initialize(
        dir.path(),
        &["utf-16"],
        json!({"severity": {"controlled": "information", "excluded": "hint"}}),
    );
    wait_indexed(&mut c);
    c.open(&mag, MAGNETS, 1);
    let d = c.diagnostics(&mag, Some(1));
    assert_eq!(find(&d, "controlled")["severity"], 3);
    assert_eq!(find(&d, "controlled")["range"]["start"], pos(MAG_HEADER, 0));
    let ex = find(&d, "excluded");
    assert_eq!(ex["severity"], 4);
    assert!(
        ex["message"]
            .as_str()
            .unwrap()
            .contains("rotor-stator-assembly")
    );
    assert_eq!(c.shutdown_and_exit(), Some(0));
}

/// A catalogue of `n` magnets under one general licence, each a table of
/// eight lines; every 50th (from the 26th) carries no licence, so it gets a
/// `missing-licence` error: 2 % of the products need action.
fn magnets(n: usize) -> String {
    let mut s = String::from(
        "[catalogue]\nas_of = 2026-06-01\n\n[[licence]]\nid = \"GL-1\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2027-01-01\nitems = [\"1C905\"]\n\n",
    );
    for i in 0..n {
        let licence = if i % 50 == 25 {
            ""
        } else {
            "licence = \"GL-1\"\n"
        };
        s.push_str(&format!(
            "[[product]]\nsku = \"MAG-{i:06}\"\nform = \"magnet\"\ncomposition = {{ Nd = 27.5, Dy = 2.5, Fe = 69, B = 1 }}\ndestination = \"DE\"\nend_user = \"Example Motors GmbH\"\n{licence}\n"
        ));
    }
    s
}

/// The outline of `n` magnets as the server answers it, and its size in bytes.
fn outline(n: usize) -> (Vec<Value>, usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut c = start(dir.path(), &["utf-16"]);
    let uri = url(&dir.path().join("m.catalogue.toml"));
    c.open(&uri, &magnets(n), 1);
    c.diagnostics(&uri, Some(1));
    let r = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    let syms = r["result"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .clone();
    let bytes = serde_json::to_vec(&r["result"]).unwrap().len();
    assert_eq!(c.shutdown_and_exit(), Some(0));
    (syms, bytes)
}

/// Issue 16: up to 1 000 products the outline lists each product; above,
/// products come in groups of 100 whose children are the products that need
/// action, so the outline grows by far less than a symbol per product.
#[test]
fn the_outline_groups_large_catalogues_and_keeps_the_products_needing_action() {
    // Below the threshold: the catalogue table, the licence and each product.
    let mut per_symbol = Vec::new();
    for n in [100, 1000] {
        let (syms, bytes) = outline(n);
        assert_eq!(
            syms.len(),
            n + 2,
            "the catalogue, the licence, each product"
        );
        assert_eq!(syms[2]["name"], "MAG-000000");
        assert_eq!(syms[2]["detail"], "controlled");
        assert!(syms.iter().all(|s| s.get("children").is_none()));
        per_symbol.push(bytes / syms.len());
    }
    // A product's symbol is its SKU, one word of verdict and its two ranges
    // (~190 bytes of JSON by themselves), whatever the size of the file but
    // for the digits of its line numbers.
    assert!(
        per_symbol.iter().all(|&b| b <= 228),
        "bytes per symbol: {per_symbol:?}"
    );
    // Above it: groups of 100, with the products that need action as children.
    let mut sizes = Vec::new();
    for n in [2000, 8000] {
        let (syms, bytes) = outline(n);
        assert_eq!(syms[0]["name"], "catalogue");
        assert_eq!(syms[1]["name"], "GL-1", "licences stay top-level");
        let groups = &syms[2..];
        assert_eq!(groups.len(), n / 100);
        let g = &groups[0];
        assert_eq!(g["name"], "MAG-000000 \u{2026} MAG-000099");
        assert_eq!(g["detail"], "100 products \u{b7} 2 need action");
        let children: Vec<&Value> = g["children"].as_array().unwrap().iter().collect();
        let names: Vec<&str> = children
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["MAG-000025", "MAG-000075"],
            "the products with an error"
        );
        assert_eq!(children[0]["detail"], "controlled");
        // The group covers its products: from the first header to the last table.
        assert!(
            g["range"]["start"]["line"].as_u64() <= children[0]["range"]["start"]["line"].as_u64()
        );
        assert!(g["range"]["end"]["line"].as_u64() >= children[1]["range"]["end"]["line"].as_u64());
        assert!(
            groups[1]["range"]["start"]["line"].as_u64() >= g["range"]["end"]["line"].as_u64(),
            "consecutive groups"
        );
        let all = groups
            .iter()
            .map(|g| g["children"].as_array().map_or(0, Vec::len))
            .sum::<usize>();
        assert_eq!(all, n / 50, "every product with an error, and no other");
        sizes.push(bytes);
    }
    // 6 000 more products cost far less than 6 000 symbols: 2 % of them as
    // children and a group per 100.
    let grown = (sizes[1] - sizes[0]) / 6000;
    assert!(
        grown * 4 < per_symbol[0],
        "bytes per added product {grown}, per symbol {per_symbol:?}, sizes {sizes:?}"
    );
}

/// Issue 16: a pulled diagnostic is never answered from a half-built index
/// (the licence register on disk, not open, would read as unknown), and
/// `workspace/diagnostic/refresh` goes only to clients that declared
/// `refreshSupport`.
#[test]
fn pull_diagnostics_wait_for_the_index_and_refresh_needs_refresh_support() {
    let (dir, _lic, mag) = workspace();
    // Enough files that indexing takes a while after `initialized`.
    for i in 0..400 {
        std::fs::write(
            dir.path().join(format!("filler{i:03}.catalogue.toml")),
            format!("[[product]]\nsku = \"F{i}\"\nform = \"motor\"\n"),
        )
        .unwrap();
    }
    for refresh in [false, true] {
        // The index is slowed down: an answer from it half-built would miss the licence.
        let mut c = Client::spawn_logged(&[("CATALOGUE_LSP_INDEX_DELAY_MS", "300")]);
        let mut caps = json!({"textDocument": {"diagnostic": {"dynamicRegistration": false}}});
        if refresh {
            caps["workspace"] = json!({"diagnostics": {"refreshSupport": true}});
        }
        c.request(
            "initialize",
            json!({"processId": null, "rootUri": url(dir.path()), "capabilities": caps}),
        );
        c.notify("initialized", json!({}));
        let text = with_licence();
        c.open(&mag, &text, 1);
        let r = c.request(
            "textDocument/diagnostic",
            json!({"textDocument": {"uri": mag}}),
        );
        let got = codes(r["result"]["items"].as_array().unwrap());
        // GL-1 is defined in the licence register, which only the index reads.
        assert!(!got.contains(&"unknown-licence".to_string()), "{got:?}");
        assert!(!got.contains(&"missing-licence".to_string()), "{got:?}");
        // Two more round trips: a refresh queued when the index was built
        // has reached the client by then.
        c.request("workspace/symbol", json!({"query": "GL-1"}));
        c.request("workspace/symbol", json!({"query": "F1"}));
        let refreshed = c
            .backlog
            .iter()
            .any(|m| m["method"] == "workspace/diagnostic/refresh");
        if refresh {
            // Results changed for the open document when the index came in.
            let _ = c.server_request("workspace/diagnostic/refresh");
        } else {
            assert!(
                !refreshed,
                "refresh sent to a client without refreshSupport"
            );
        }
        assert_eq!(c.shutdown_and_exit(), Some(0));
    }
}

/// v2 §4a: a licence with a limit in the register, used by a product and a
/// shipment of another file.
const LIMITED: &str = "[[licence]]\nid = \"GL-1\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2028-12-31\nquantity = 100\nunit = \"kg\"\n";
const SHIPPED: &str = "[catalogue]\nas_of = 2026-06-01\n\n[[product]]\nsku = \"MAG-1\"\nform = \"magnet\"\ncomposition = { Nd = 27.5, Dy = 2.5, Fe = 69, B = 1 }\ndestination = \"DE\"\nlicence = \"GL-1\"\nship_date = 2026-02-01\nquantity = 50\nunit = \"kg\"\n\n[[shipment]]\nsku = \"MAG-1\"\nship_date = 2026-03-01\nquantity = 40000\nunit = \"g\"\n";

fn shipped_workspace() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("licences.catalogue.toml"), LIMITED).unwrap();
    std::fs::write(dir.path().join("shipped.catalogue.toml"), SHIPPED).unwrap();
    let lic = url(&dir.path().join("licences.catalogue.toml"));
    let shipped = url(&dir.path().join("shipped.catalogue.toml"));
    (dir, lic, shipped)
}

fn lens_titles(c: &mut Client, uri: &str) -> Vec<String> {
    let r = c.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    r["result"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .map(|l| l["command"]["title"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_licences_hover_and_code_lens_show_its_use() {
    let (dir, lic, shipped) = shipped_workspace();
    let mut c = start(dir.path(), &["utf-16"]);
    c.open(&lic, LIMITED, 1);
    c.diagnostics(&lic, Some(1));
    // 50 kg on 2026-02-01, then 40 000 g on 2026-03-01: 90 of 100 kg.
    assert_eq!(
        lens_titles(&mut c, &lic),
        ["90 of 100 kg used (90 %), 10 kg left · 2 exports · expires 2028-12-31"]
    );
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": lic}, "position": pos(0, 3)}),
    );
    let md = r["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"));
    for want in [
        "90 of 100 kg used (90 %), 10 kg left",
        "- 2026-02-01 `MAG-1` (product, shipped.catalogue.toml:4): 50 kg → 50 %",
        "- 2026-03-01 `MAG-1` (shipment, shipped.catalogue.toml:14): 40000 g → 90 %",
        "Valid through 2028-12-31",
    ] {
        assert!(md.contains(want), "{want:?} not in:\n{md}");
    }
    // The product's lens names its licence and what is left; an edit of the
    // shipment moves both.
    c.open(&shipped, SHIPPED, 1);
    let diags = c.diagnostics(&shipped, Some(1));
    assert!(
        codes(&diags).contains(&"licence-nearly-used".to_string()),
        "{diags:?}"
    );
    let titles = lens_titles(&mut c, &shipped);
    assert!(
        titles[0].ends_with(" · licence GL-1 · GL-1: 10 kg left"),
        "{titles:?}"
    );
    c.change(
        &shipped,
        2,
        json!([{"range": {"start": pos(16, 11), "end": pos(16, 16)}, "text": "60000"}]),
    );
    let diags = c.diagnostics(&shipped, Some(2));
    assert!(
        codes(&diags).contains(&"licence-quantity-exceeded".to_string()),
        "{diags:?}"
    );
    assert!(lens_titles(&mut c, &shipped)[0].ends_with("GL-1: 0 kg left"));
    assert_eq!(
        lens_titles(&mut c, &lic),
        ["110 of 100 kg used (110 %), 0 kg left · 2 exports · expires 2028-12-31"]
    );
    assert_eq!(c.shutdown_and_exit(), Some(0));
}

/// A change in one file moves another open file's lenses and inlay hints
/// (the licence register's use when a shipment grows): the server asks a
/// client that declared `refreshSupport` to ask again, and sends nothing to
/// one that did not.
#[test]
fn a_change_in_another_file_refreshes_lenses_and_inlay_hints_where_supported() {
    let (dir, lic, shipped) = shipped_workspace();
    for supported in [true, false] {
        let mut c = Client::spawn();
        let root = url(dir.path());
        let mut caps = json!({"textDocument": {"publishDiagnostics": {}}});
        if supported {
            caps["workspace"] = json!({
                "codeLens": {"refreshSupport": true},
                "inlayHint": {"refreshSupport": true}
            });
        }
        c.request(
            "initialize",
            json!({"processId": null, "rootUri": root, "capabilities": caps}),
        );
        c.notify("initialized", json!({}));
        wait_indexed(&mut c);
        c.open(&lic, LIMITED, 1);
        c.diagnostics(&lic, Some(1));
        c.open(&shipped, SHIPPED, 1);
        c.diagnostics(&shipped, Some(1));
        // Opening a file as it is on disk moves nothing elsewhere.
        c.request("workspace/symbol", json!({"query": "GL-1"}));
        c.request("workspace/symbol", json!({"query": "MAG-1"}));
        let refreshes = |c: &Client| {
            c.backlog
                .iter()
                .filter(|m| {
                    m["method"] == "workspace/codeLens/refresh"
                        || m["method"] == "workspace/inlayHint/refresh"
                })
                .count()
        };
        assert_eq!(refreshes(&c), 0, "{:?}", c.backlog);
        // An edit of the shipment moves the register's use: 90 → 110 kg.
        c.change(
            &shipped,
            2,
            json!([{"range": {"start": pos(16, 11), "end": pos(16, 16)}, "text": "60000"}]),
        );
        c.diagnostics(&shipped, Some(2));
        if supported {
            let _ = c.server_request("workspace/codeLens/refresh");
            let _ = c.server_request("workspace/inlayHint/refresh");
            // And the lens asked for again says what changed.
            assert_eq!(
                lens_titles(&mut c, &lic),
                ["110 of 100 kg used (110 %), 0 kg left · 2 exports · expires 2028-12-31"]
            );
        } else {
            // Two round trips: a refresh queued with the edit has arrived by then.
            c.request("workspace/symbol", json!({"query": "GL-1"}));
            c.request("workspace/symbol", json!({"query": "MAG-1"}));
            assert_eq!(refreshes(&c), 0, "{:?}", c.backlog);
        }
        assert_eq!(c.shutdown_and_exit(), Some(0));
    }
}

#[test]
fn a_product_offers_a_shipment_skeleton_that_invents_nothing() {
    let (dir, _lic, shipped) = shipped_workspace();
    let mut c = start(dir.path(), &["utf-16"]);
    c.open(&shipped, SHIPPED, 1);
    c.diagnostics(&shipped, Some(1));
    let r = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": shipped}, "range": {"start": pos(5, 3), "end": pos(5, 3)}, "context": {"diagnostics": []}}),
    );
    let a = r["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == "Add a [[shipment]] of MAG-1")
        .unwrap_or_else(|| panic!("{r}"))
        .clone();
    let text = apply_edits(
        SHIPPED,
        a["edit"]["changes"][&shipped].as_array().unwrap(),
        Encoding::Utf16,
    );
    // After the product's table, before the shipment that followed it.
    let at = text
        .find("[[shipment]]\nsku = \"MAG-1\"\n# TO FILL IN")
        .unwrap();
    assert!(
        at > text.find("unit = \"kg\"").unwrap()
            && at < text.find("ship_date = 2026-03-01").unwrap(),
        "{text}"
    );
    c.change(&shipped, 2, json!([{"text": text}]));
    let diags = c.diagnostics(&shipped, Some(2));
    // Nothing invented: the date is missing until the user writes it.
    let missing = find(&diags, "missing-field");
    assert!(
        missing["message"].as_str().unwrap().contains("`ship_date`"),
        "{missing}"
    );
    assert_eq!(c.shutdown_and_exit(), Some(0));
}

#[test]
fn completion_offers_shipment_keys_units_and_skus() {
    let (dir, _lic, shipped) = shipped_workspace();
    let mut c = start(dir.path(), &["utf-16"]);
    let text = format!("{SHIPPED}\n[[shipment]]\nsku = \"\"\nunit = \"\"\n\n");
    c.open(&shipped, &text, 1);
    c.diagnostics(&shipped, Some(1));
    let labels = |r: &Value| {
        r["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["label"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let base = SHIPPED.lines().count() as u32 + 1;
    let at = |c: &mut Client, line: u32, ch: u32| {
        labels(&c.request(
            "textDocument/completion",
            json!({"textDocument": {"uri": shipped}, "position": pos(line, ch)}),
        ))
    };
    assert!(at(&mut c, base + 1, 7).contains(&"MAG-1".to_string()));
    let units = at(&mut c, base + 2, 8);
    assert_eq!(units, ["kg", "g", "t", "pcs"]);
    let keys = at(&mut c, base + 3, 0);
    for k in [
        "ship_date",
        "quantity",
        "value",
        "currency",
        "contract",
        "euc",
    ] {
        assert!(keys.contains(&k.to_string()), "{k}: {keys:?}");
    }
    assert!(
        !keys.contains(&"sku".to_string()) && !keys.contains(&"form".to_string()),
        "{keys:?}"
    );
    // Headers offer the shipment table; a product offers the new fields.
    let headers = at(&mut c, base, 1);
    assert!(headers.contains(&"[[shipment]]".to_string()), "{headers:?}");
    assert_eq!(c.shutdown_and_exit(), Some(0));
}

/// A catalogue of rotors in another file, built on MAGNETS' MAG-1.
const MOTORS: &str = r#"[catalogue]
as_of = 2026-06-01

[[product]]
sku = "ROTOR-9"
form = "rotor-assembly"
components = ["MAG-1"]
mounting = "loose"
destination = "DE"
end_user = "Example Motors GmbH"
"#;

/// A catalogue that names nothing of the others.
const OXIDES: &str = r#"[catalogue]
as_of = 2026-06-01

[[product]]
sku = "OX-1"
form = "oxide"
composition = { Dy2O3 = 99 }
"#;

/// `workspace/diagnostic` items by URI: (kind, result id, diagnostic codes).
fn workspace_items(r: &Value) -> std::collections::BTreeMap<String, (String, String, Vec<String>)> {
    r["result"]["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .map(|i| {
            (
                i["uri"].as_str().unwrap().to_string(),
                (
                    i["kind"].as_str().unwrap().to_string(),
                    i["resultId"].as_str().unwrap().to_string(),
                    i["items"].as_array().map(|a| codes(a)).unwrap_or_default(),
                ),
            )
        })
        .collect()
}

/// The previous result ids a client sends back.
fn previous_ids(
    items: &std::collections::BTreeMap<String, (String, String, Vec<String>)>,
) -> Value {
    Value::Array(
        items
            .iter()
            .map(|(uri, (_, id, _))| json!({"uri": uri, "value": id}))
            .collect(),
    )
}

/// Issue 16: `workspace/diagnostic` reports every catalogue file of the
/// workspace, opened or not, with a result id; a second pull with those ids
/// answers `unchanged`; an edit changes exactly the files it affects (the
/// edited one and the file whose rotor is built on the edited magnet); and
/// `textDocument/diagnostic` honours `previousResultId`.
#[test]
fn workspace_diagnostics_cover_unopened_files_and_answer_unchanged() {
    let (dir, lic, mag) = workspace();
    std::fs::write(dir.path().join("motors.catalogue.toml"), MOTORS).unwrap();
    std::fs::write(dir.path().join("oxides.catalogue.toml"), OXIDES).unwrap();
    let mot = url(&dir.path().join("motors.catalogue.toml"));
    let oxi = url(&dir.path().join("oxides.catalogue.toml"));
    let mut c = Client::spawn();
    let r = c.request(
        "initialize",
        json!({"processId": null, "rootUri": url(dir.path()), "capabilities": {"textDocument": {"diagnostic": {"dynamicRegistration": false}}}}),
    );
    assert_eq!(
        r["result"]["capabilities"]["diagnosticProvider"]["workspaceDiagnostics"],
        true
    );
    c.notify("initialized", json!({}));
    let pull = |c: &mut Client, previous: Value| {
        let r = c.request(
            "workspace/diagnostic",
            json!({"previousResultIds": previous}),
        );
        workspace_items(&r)
    };
    // Nothing open: every file is reported, in full, with a result id.
    let first = pull(&mut c, json!([]));
    assert_eq!(
        first.keys().cloned().collect::<Vec<_>>(),
        {
            let mut all = vec![lic.clone(), mag.clone(), mot.clone(), oxi.clone()];
            all.sort();
            all
        },
        "{first:#?}"
    );
    assert!(
        first
            .values()
            .all(|(kind, id, _)| kind == "full" && !id.is_empty())
    );
    assert!(
        first[&mot].2.contains(&"missing-licence".to_string()),
        "{first:#?}"
    );
    assert!(
        first[&oxi].2.contains(&"missing-licence".to_string()),
        "{first:#?}"
    );
    // The same ids back: nothing changed.
    let second = pull(&mut c, previous_ids(&first));
    assert!(
        second.values().all(|(kind, _, _)| kind == "unchanged"),
        "{second:#?}"
    );
    assert_eq!(previous_ids(&first), previous_ids(&second));
    // Opening a file with the text on disk changes no diagnostic.
    c.open(&mag, MAGNETS, 1);
    let opened = pull(&mut c, previous_ids(&first));
    assert!(
        opened.values().all(|(kind, _, _)| kind == "unchanged"),
        "{opened:#?}"
    );
    // MAG-1 loses its dysprosium: it and the rotor built on it in the other
    // file are no longer controlled; the licence register and the oxides are untouched.
    let line = MAGNETS
        .lines()
        .position(|l| l.starts_with("composition"))
        .unwrap();
    let from = MAGNETS
        .lines()
        .nth(line)
        .unwrap()
        .find("Dy = 2.5, ")
        .unwrap();
    c.change(
        &mag,
        2,
        json!([{"range": {"start": pos(line as u32, from as u32), "end": pos(line as u32, (from + 10) as u32)}, "text": ""}]),
    );
    let edited = pull(&mut c, previous_ids(&first));
    let kinds: std::collections::BTreeMap<&str, &str> = edited
        .iter()
        .map(|(u, (k, _, _))| (u.as_str(), k.as_str()))
        .collect();
    assert_eq!(kinds[mag.as_str()], "full", "{edited:#?}");
    assert_eq!(kinds[mot.as_str()], "full", "{edited:#?}");
    assert_eq!(kinds[lic.as_str()], "unchanged", "{edited:#?}");
    assert_eq!(kinds[oxi.as_str()], "unchanged", "{edited:#?}");
    assert!(
        !edited[&mot].2.contains(&"missing-licence".to_string()),
        "{edited:#?}"
    );
    assert!(
        !edited[&mag].2.contains(&"missing-licence".to_string()),
        "{edited:#?}"
    );
    // textDocument/diagnostic: unchanged for the current id, full for an old one.
    let doc = |c: &mut Client, uri: &str, previous: &str| {
        c.request(
            "textDocument/diagnostic",
            json!({"textDocument": {"uri": uri}, "previousResultId": previous}),
        )
    };
    let r = doc(&mut c, &mot, &edited[&mot].1);
    assert_eq!(r["result"]["kind"], "unchanged", "{r}");
    assert_eq!(r["result"]["resultId"], edited[&mot].1.as_str());
    let r = doc(&mut c, &mot, &first[&mot].1);
    assert_eq!(r["result"]["kind"], "full", "{r}");
    assert_eq!(r["result"]["resultId"], edited[&mot].1.as_str());
    assert_eq!(c.shutdown_and_exit(), Some(0));
}

/// Issue 16: pushed diagnostics never come from a half-built index either:
/// a document opened while the index is being built is published once it
/// is built (the licence it names lives in a file only the index reads).
#[test]
fn pushed_diagnostics_wait_for_the_index() {
    let (dir, _lic, mag) = workspace();
    let mut c = Client::spawn_logged(&[("CATALOGUE_LSP_INDEX_DELAY_MS", "300")]);
    c.request(
        "initialize",
        json!({"processId": null, "rootUri": url(dir.path()), "capabilities": {}}),
    );
    c.notify("initialized", json!({}));
    c.open(&mag, &with_licence(), 1);
    let first = codes(&c.diagnostics(&mag, Some(1)));
    assert!(!first.contains(&"unknown-licence".to_string()), "{first:?}");
    assert!(!first.contains(&"missing-licence".to_string()), "{first:?}");
    assert_eq!(c.shutdown_and_exit(), Some(0));
}

/// A CSV catalogue (docs/format.md §10) in the editor: diagnostics on its
/// cells, a hover on a row, quick fixes rendered as cell edits.
#[test]
fn csv_catalogue_cells_hover_and_quick_fixes() {
    let (dir, _lic, _mag) = workspace();
    let csv = url(&dir.path().join("parts.catalogue.csv"));
    let mut c = start(dir.path(), &["utf-16"]);
    let row = "MAG-C,magnet,Nd=27.5; Dy=2.5; Fe=69; B=1,DE,Example Motors GmbH,";
    let text = format!(
        "sku,form,composition,destination,end_user,licence,incoterm\r\n{row}GL-2,FCA\r\nMAG-D,magnet,\"Nd=27.5; Dy=2.5; Fe=69; B=1\",DE,Example Motors GmbH,,\r\n"
    );
    c.open(&csv, &text, 1);
    let d = c.diagnostics(&csv, Some(1));
    // The unknown licence points at its cell; the unknown column at the header cell.
    let ul = find(&d, "unknown-licence").clone();
    let col = row.len() as u32;
    assert_eq!(
        ul["range"],
        json!({"start": pos(1, col), "end": pos(1, col + 4)}),
        "{ul}"
    );
    let uf = find(&d, "unknown-field");
    assert_eq!(
        uf["range"],
        json!({"start": pos(0, 50), "end": pos(0, 58)}),
        "{uf}"
    );

    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": csv}, "position": pos(1, 2)}),
    );
    let md = r["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default();
    assert!(md.contains("controlled") && md.contains("1C905"), "{r}");

    // "Did you mean GL-1": the cell's text replaced, no TOML quotes.
    let r = c.request("textDocument/codeAction", json!({"textDocument": {"uri": csv}, "range": ul["range"], "context": {"diagnostics": [ul]}}));
    let fix = r["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"].as_str().unwrap().contains("GL-1"))
        .unwrap_or_else(|| panic!("{r}"));
    let edits = fix["edit"]["changes"][&csv].as_array().unwrap();
    let text = apply_edits(&text, edits, Encoding::Utf16);
    assert!(text.contains(&format!("{row}GL-1,FCA\r\n")), "{text}");

    // A missing licence: the empty `licence` cell of MAG-D is set.
    c.change(&csv, 2, json!([{"text": text}]));
    let d = c.diagnostics(&csv, Some(2));
    assert!(
        !codes(&d).contains(&"unknown-licence".to_string()),
        "{d:#?}"
    );
    let ml = find(&d, "missing-licence").clone();
    let r = c.request("textDocument/codeAction", json!({"textDocument": {"uri": csv}, "range": ml["range"], "context": {"diagnostics": [ml]}}));
    let first = &r["result"][0];
    assert_eq!(first["title"], "Use licence GL-1", "{r}");
    let edits = first["edit"]["changes"][&csv].as_array().unwrap();
    let text = apply_edits(&text, edits, Encoding::Utf16);
    assert!(text.ends_with("Example Motors GmbH,GL-1,\r\n"), "{text}");
    c.change(&csv, 3, json!([{"text": text}]));
    let d = c.diagnostics(&csv, Some(3));
    let left = codes(&d);
    assert!(
        !left.contains(&"missing-licence".to_string())
            && !left.contains(&"syntax-error".to_string()),
        "{d:#?}"
    );

    // Renaming a SKU writes a cell's text, not a TOML string.
    let r = c.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": csv}, "position": pos(1, 2), "newName": "MAG-X"}),
    );
    let edits = r["result"]["changes"][&csv]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"));
    assert_eq!(edits[0]["newText"], "MAG-X", "{r}");

    // An edit that breaks a row: a clear diagnostic on the cells past the header's.
    c.change(
        &csv,
        4,
        json!([{"range": {"start": pos(1, 2), "end": pos(1, 2)}, "text": ","}]),
    );
    let d = c.diagnostics(&csv, Some(4));
    let se = find(&d, "syntax-error");
    assert!(
        se["message"]
            .as_str()
            .unwrap()
            .contains("8 cells and the header 7"),
        "{se}"
    );
}

const SCREENED: &str = "[catalogue]\nas_of = 2026-06-01\n\n[[product]]\nsku = \"A\"\nform = \"magnet\"\ncomposition = { SrFe12O19 = 100 }\nend_user = \"Zephir Dynamo Works\"\nimporter = \"Zephyr Dynamo Works Ltd.\"\n";

/// A workspace with the fictional party list and a catalogue naming a
/// close party (end user) and a listed one (importer).
fn screened_workspace() -> (tempfile::TempDir, String, std::path::PathBuf, Client) {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("parties.toml");
    std::fs::write(&list, include_str!("parties/fictional.parties.toml")).unwrap();
    let cat = url(&dir.path().join("screened.catalogue.toml"));
    let mut c = Client::spawn();
    c.initialize(
        dir.path(),
        &["utf-16"],
        json!({"parties": list.display().to_string()}),
    );
    c.open(&cat, SCREENED, 1);
    (dir, cat, list, c)
}

/// Hover on a party name: the screening result, the list entry and its source.
#[test]
fn hover_on_a_party_name_shows_the_screening_and_the_entry() {
    let (_dir, uri, _list, mut c) = screened_workspace();
    let d = c.diagnostics(&uri, Some(1));
    assert!(
        codes(&d).contains(&"possible-listed-party".to_string()),
        "{d:#?}"
    );
    assert!(codes(&d).contains(&"listed-party".to_string()), "{d:#?}");
    let hover = |c: &mut Client, line: u32| {
        let r = c.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": pos(line, 15)}),
        );
        r["result"]["contents"]["value"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let h = hover(&mut c, 7);
    assert!(h.contains("**end user** `Zephir Dynamo Works`"), "{h}");
    assert!(
        h.contains("**possible match**") && h.contains("spelling similarity"),
        "{h}"
    );
    assert!(h.contains("`test-ecl-zephyr-dynamo`"), "{h}");
    assert!(h.contains("(https://example.invalid/fictional/1)"), "{h}");
    let h = hover(&mut c, 8);
    assert!(
        h.contains("**importer**") && h.contains("**listed**"),
        "{h}"
    );
    assert!(h.contains("prohibited"), "{h}");
}

/// The quick fix of `possible-listed-party` appends a `[[screening]]` record
/// with party and entry; reason, by and on are left to fill, so the warning
/// stays (and the record is incomplete) until the user fills them.
#[test]
fn screening_quick_fix_appends_a_record_to_fill() {
    let (_dir, uri, _list, mut c) = screened_workspace();
    let d = c.diagnostics(&uri, Some(1));
    let diag = find(&d, "possible-listed-party").clone();
    let r = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": diag["range"], "context": {"diagnostics": [diag]}}),
    );
    let actions = r["result"].as_array().cloned().unwrap_or_default();
    let a = actions
        .iter()
        .find(|a| {
            a["title"]
                .as_str()
                .is_some_and(|t| t.starts_with("Record a reviewed non-match"))
        })
        .unwrap_or_else(|| panic!("no screening fix: {r}"));
    let text = apply_edits(
        SCREENED,
        a["edit"]["changes"][&uri].as_array().unwrap(),
        Encoding::Utf16,
    );
    assert!(text.starts_with(SCREENED), "appended: {text}");
    assert!(
        text.contains("[[screening]]\nparty = \"Zephir Dynamo Works\"\nentry = \"test-ecl-zephyr-dynamo\"\n# TO FILL"),
        "{text}"
    );
    assert!(!text.contains("\nreason ="), "nothing invented: {text}");
    c.change(&uri, 2, json!([{"text": text}]));
    let d = c.diagnostics(&uri, Some(2));
    assert!(
        codes(&d).contains(&"possible-listed-party".to_string()),
        "not silenced yet: {d:#?}"
    );
    assert!(
        codes(&d).contains(&"missing-field".to_string()),
        "record incomplete: {d:#?}"
    );
    // The reviewer fills the record: the warning goes, the listed importer stays.
    let filled = text
        .replace(
            "# reason = \"why this party is not the listed entity\"",
            "reason = \"another firm\"",
        )
        .replace("# by = \"who reviewed it\"", "by = \"R. Viewer\"")
        .replace("# on = YYYY-MM-DD", "on = 2026-05-01");
    c.change(&uri, 3, json!([{"text": filled}]));
    let d = c.diagnostics(&uri, Some(3));
    assert!(
        !codes(&d).contains(&"possible-listed-party".to_string()),
        "{d:#?}"
    );
    assert!(!codes(&d).contains(&"missing-field".to_string()), "{d:#?}");
    assert!(codes(&d).contains(&"listed-party".to_string()), "{d:#?}");
}

/// The party list file is watched like a rule pack: an edit to it rechecks.
#[test]
fn editing_the_party_list_rechecks_without_restart() {
    let (_dir, uri, list, mut c) = screened_workspace();
    assert!(codes(&c.diagnostics(&uri, Some(1))).contains(&"listed-party".to_string()));
    let edited = include_str!("parties/fictional.parties.toml")
        .replace(
            "name = \"Zephyr Dynamo Works Ltd.\"",
            "name = \"Zephyr Turbine Works Ltd.\"",
        )
        .replace("aliases = [\"Zephyr Dynamo\"]", "aliases = []");
    std::fs::write(&list, edited).unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": url(&list), "type": 2}]}),
    );
    c.diagnostics_until(&uri, |d| !codes(d).contains(&"listed-party".to_string()));
}

/// Renaming a SKU named in a CSV list cell rewrites the cell whole: a name
/// that needs quotes keeps the cell one cell, and a name with the list's
/// separator is refused with the reason (it would become two names).
#[test]
fn renaming_in_a_csv_list_cell_keeps_the_cell_whole() {
    let dir = tempfile::tempdir().unwrap();
    let csv = url(&dir.path().join("parts.catalogue.csv"));
    let mut c = start(dir.path(), &["utf-16"]);
    let text = "sku,form,composition,components\nMAG-1,magnet,Nd=30; Fe=69; B=1,\nROT-1,rotor-assembly,,MAG-1; MAG-1\n";
    c.open(&csv, text, 1);
    let d = c.diagnostics(&csv, Some(1));
    assert!(
        !codes(&d).contains(&"unknown-component".to_string()),
        "{d:#?}"
    );
    let refused = c.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": csv}, "position": pos(1, 2), "newName": "MAG;2"}),
    );
    let msg = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("`;`"), "{refused}");
    let r = c.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": csv}, "position": pos(1, 2), "newName": "MAG,2"}),
    );
    let edits = r["result"]["changes"][&csv]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"));
    assert_eq!(edits.len(), 2, "the SKU cell and the list cell, once: {r}");
    let text = apply_edits(text, edits, Encoding::Utf16);
    assert_eq!(
        text,
        "sku,form,composition,components\n\"MAG,2\",magnet,Nd=30; Fe=69; B=1,\nROT-1,rotor-assembly,,\"MAG,2; MAG,2\"\n"
    );
    c.change(&csv, 2, json!([{"text": text}]));
    let d = c.diagnostics(&csv, Some(2));
    let left = codes(&d);
    assert!(
        !left.contains(&"unknown-component".to_string())
            && !left.contains(&"syntax-error".to_string()),
        "{d:#?}"
    );
    assert_eq!(c.shutdown_and_exit(), Some(0));
}

/// A save reported by the file watcher (VS Code repeats the entry) of an
/// open document changes nothing: the buffer is what is judged, so no
/// analysis runs and nothing is published again before the next edit.
#[test]
fn a_watched_save_of_an_open_document_is_not_analysed_again() {
    let (dir, _lic, mag) = workspace();
    let mut c = start(dir.path(), &["utf-16"]);
    c.open(&mag, MAGNETS, 1);
    c.diagnostics(&mag, Some(1));
    let change = json!({"uri": mag, "type": 2});
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [change, change, change]}),
    );
    c.change(&mag, 2, json!([{"text": MAGNETS}]));
    let next = c.notification("textDocument/publishDiagnostics", |p| p["uri"] == mag);
    assert_eq!(next["params"]["version"], 2, "{next}");
    assert_eq!(c.shutdown_and_exit(), Some(0));
}

/// Issue 16: every editor decodes every publication on every keystroke, so
/// a diagnostic's message says what is wrong and what to do, and no more;
/// why (what a licence application needs, which exports need a licence) and
/// the full source are in the hover on the diagnostic's range. The size of a
/// message does not grow with the explanation the pack gives, and the hover
/// loses nothing `check` says.
#[test]
fn published_messages_are_short_and_the_hover_on_them_explains() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("[catalogue]\nas_of = 2026-06-01\n");
    for i in 0..30 {
        text.push_str(&format!(
            "\n[[product]]\nsku = \"MAG-{i}\"\nform = \"magnet\"\ncomposition = {{ Nd = 27.5, Dy = 2.5, Fe = 69, B = 1 }}\ndestination = \"DE\"\nend_user = \"Example Motors GmbH\"\n"
        ));
    }
    text.push_str("\n[[shipment]]\nsku = \"MAG-0\"\nship_date = 2026-03-17\n");
    let path = dir.path().join("gen.catalogue.toml");
    std::fs::write(&path, &text).unwrap();
    let uri = url(&path);
    let mut c = start(dir.path(), &["utf-16"]);
    c.open(&uri, &text, 1);
    let d = c.diagnostics(&uri, Some(1));
    let of = |code: &str| -> Vec<&Value> { d.iter().filter(|x| x["code"] == code).collect() };
    // 30 products and one shipment, each a missing licence and missing evidence.
    assert_eq!(of("missing-licence").len(), 31, "{d:#?}");
    assert_eq!(of("missing-end-use-evidence").len(), 31, "{d:#?}");
    for x in &d {
        let m = x["message"].as_str().unwrap();
        // Before: 540 bytes for the evidence, 350 for the licence.
        assert!(m.len() <= 300, "{} bytes: {m}", m.len());
        assert!(
            !m.contains("no-transfer") && !m.contains("whether trade"),
            "{m}"
        );
        // Errors and warnings keep their legal basis, shortly.
        assert!(
            m.ends_with("\nSource: Regulations on Export Control of Dual-Use Items, Art. 2"),
            "{m}"
        );
        assert!(m.contains("Set "), "says what to do: {m}");
        assert!(
            x["codeDescription"]["href"]
                .as_str()
                .is_some_and(|h| h.contains("csrcare.com")),
            "{x}"
        );
    }
    // The whole publication: under 480 bytes a diagnostic here (~450; it
    // was ~730, the explanations and full citations in every message).
    let bytes = serde_json::to_vec(&d).unwrap().len();
    assert!(bytes <= 480 * d.len(), "{bytes} bytes for {}", d.len());
    // The hover on each diagnostic's range, a product's or the shipment's,
    // gives what the message leaves out: why, and the full source.
    for x in of("missing-end-use-evidence") {
        let h = c.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": x["range"]["start"]}),
        );
        let md = h["result"]["contents"]["value"].as_str().unwrap_or("");
        for needed in [
            "`missing-end-use-evidence`: a licence application to MOFCOM needs the contract",
            "no-transfer undertaking; MOFCOM decides within 45 working days",
            "`missing-licence`: every export of a controlled item, whether trade, gift",
            "(State Council Decree 792), Art. 2](http://www.csrcare.com/",
        ] {
            assert!(md.contains(needed), "{needed}: {md}");
        }
    }
    assert_eq!(c.shutdown_and_exit(), Some(0));
}

/// `catalogue/codeLens` at `n` magnets for lines `from..=to`: the lenses
/// (line, title), the answer's size in bytes, and the size of the whole
/// file's `textDocument/codeLens`.
fn ranged_lenses(n: usize, from: u32, to: u32) -> (Vec<(u64, String)>, usize, usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::spawn();
    let r = c.initialize(dir.path(), &["utf-16"], json!({}));
    assert_eq!(
        r["result"]["capabilities"]["experimental"]["catalogueCodeLensRange"], true,
        "{r}"
    );
    let uri = url(&dir.path().join("m.catalogue.toml"));
    c.open(&uri, &magnets(n), 1);
    c.diagnostics(&uri, Some(1));
    let r = c.request(
        "catalogue/codeLens",
        json!({"textDocument": {"uri": uri}, "range": {"start": pos(from, 0), "end": pos(to, 0)}}),
    );
    let lenses = r["result"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .map(|l| {
            (
                l["range"]["start"]["line"].as_u64().unwrap(),
                l["command"]["title"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let bytes = serde_json::to_vec(&r["result"]).unwrap().len();
    let all = c.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(
        all["result"].as_array().map(Vec::len),
        Some(n + 1),
        "a lens per product and the licence's"
    );
    let all_bytes = serde_json::to_vec(&all["result"]).unwrap().len();
    assert_eq!(c.shutdown_and_exit(), Some(0));
    (lenses, bytes, all_bytes)
}

/// Issue 16: the VS Code extension asks for the lenses around the view
/// (`catalogue/codeLens`, a range): the answer holds only the tables whose
/// header lies in the range, and its size grows with the range, not with
/// the file (`textDocument/codeLens` has no range: a lens per product).
#[test]
fn ranged_code_lenses_answer_only_the_range_and_grow_with_it_not_the_file() {
    // Product i's header is on line 10 + 8 i, less one for each unlicensed
    // product before it (every 50th from the 26th): lines 400..=479 hold products 49..=58.
    let (small, small_bytes, small_all) = ranged_lenses(200, 400, 479);
    let (large, large_bytes, large_all) = ranged_lenses(2000, 400, 479);
    let want: Vec<(u64, String)> = (49..=58)
        .map(|i| (9 + 8 * i, "controlled 1C905.a.4 · licence GL-1".to_string()))
        .collect();
    assert_eq!(small, want);
    assert_eq!(large, want);
    assert_eq!(small_bytes, large_bytes);
    assert!(
        large_all > 9 * small_all,
        "the whole file's lenses grow with it: {small_all} -> {large_all} bytes"
    );
    // The licence's lens is in the first lines; product 75 (no licence, line 609) says so.
    let (first, _, _) = ranged_lenses(200, 0, 20);
    assert_eq!(
        first.iter().map(|l| l.0).collect::<Vec<_>>(),
        [3, 10, 18],
        "{first:?}"
    );
    // A range past the end of the file: the last products' lenses, no error.
    let (last, _, _) = ranged_lenses(200, 1590, 99_999);
    assert_eq!(
        last.iter().map(|l| l.0).collect::<Vec<_>>(),
        [1590, 1598],
        "{last:?}"
    );
    let (unlicensed, _, _) = ranged_lenses(200, 609, 609);
    assert_eq!(
        unlicensed,
        [(609, "controlled 1C905.a.4 · no licence".to_string())]
    );
}

/// `catalogue/diagnostic` (the VS Code extension's document pull): the
/// server advertises it to pull clients; before the index is built it waits
/// for it (the licence lives in a register only the index reads); after an
/// edit that changes one product's diagnostics it answers a delta from the
/// last report it answered, which applied to that report's items gives
/// exactly the items `textDocument/diagnostic` answers; the current id gets
/// `unchanged`.
#[test]
fn a_delta_pull_answers_what_an_edit_changed_once_the_index_is_built() {
    let (dir, _lic, _mag) = workspace();
    for i in 0..400 {
        std::fs::write(
            dir.path().join(format!("filler{i:03}.catalogue.toml")),
            format!("[[product]]\nsku = \"F{i}\"\nform = \"motor\"\n"),
        )
        .unwrap();
    }
    let uri = url(&dir.path().join("many.catalogue.toml"));
    let magnet = |i: usize, dy: &str| {
        format!(
            "[[product]]\nsku = \"M{i}\"\nform = \"magnet\"\ncomposition = {{ Nd = 28, {dy}Fe = 68, B = 1 }}\n\n"
        )
    };
    let text: String = std::iter::once(
        "[catalogue]\nas_of = 2026-06-01\n\n[[product]]\nsku = \"L\"\nform = \"magnet\"\ncomposition = { Nd = 28, Dy = 3, Fe = 68, B = 1 }\ndestination = \"DE\"\nend_user = \"Example Motors GmbH\"\nlicence = \"GL-1\"\n\n".to_string(),
    )
    .chain((0..30).map(|i| magnet(i, "Dy = 3, ")))
    .collect();
    let mut c = Client::spawn_logged(&[("CATALOGUE_LSP_INDEX_DELAY_MS", "300")]);
    let r = c.request(
        "initialize",
        json!({"processId": null, "rootUri": url(dir.path()), "capabilities": {"textDocument": {"diagnostic": {"dynamicRegistration": false}}}}),
    );
    assert_eq!(
        r["result"]["capabilities"]["experimental"]["catalogueDiagnosticDelta"], true,
        "{r}"
    );
    c.notify("initialized", json!({}));
    c.open(&uri, &text, 1);
    let first = c.delta_pull(&uri, None);
    assert_eq!(first["kind"], "full", "{first}");
    let base = first["items"].as_array().unwrap().clone();
    // One missing-licence per magnet without a licence; none for L (GL-1 is known).
    assert_eq!(codes(&base), vec!["missing-licence"; 30], "{first}");
    let id = first["resultId"].as_str().unwrap().to_string();
    // M12 loses its dysprosium: its missing-licence goes, nothing else changes.
    let line = text.lines().position(|l| l == "sku = \"M12\"").unwrap() as u32 + 2;
    let from = "composition = { Nd = 28, ".len() as u32;
    c.change(
        &uri,
        2,
        json!([{"range": {"start": pos(line, from), "end": pos(line, from + 8)}, "text": ""}]),
    );
    let delta = c.delta_pull(&uri, Some(&id));
    assert_eq!(delta["kind"], "delta", "{delta}");
    assert_eq!(delta["previousResultId"], id.as_str());
    let (head, tail) = (
        delta["head"].as_u64().unwrap() as usize,
        delta["tail"].as_u64().unwrap() as usize,
    );
    assert_eq!((head, tail), (12, 17), "{delta}");
    let applied = common::lsp::apply_delta(&base, &delta).unwrap();
    let full = c.request(
        "textDocument/diagnostic",
        json!({"textDocument": {"uri": uri}}),
    )["result"]
        .clone();
    assert_eq!(&applied, full["items"].as_array().unwrap());
    assert_eq!(delta["resultId"], full["resultId"]);
    let now = delta["resultId"].as_str().unwrap();
    assert_eq!(
        c.delta_pull(&uri, Some(now)),
        json!({"kind": "unchanged", "resultId": now})
    );
    assert_eq!(c.shutdown_and_exit(), Some(0));
}
