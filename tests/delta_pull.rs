//! `catalogue/diagnostic` under random use: edits (some changing
//! diagnostics), settings changes, closes and reopens, disk changes,
//! workspace pulls and answers the client drops; a client that applies each
//! answer as README.md (Language server) says always holds exactly what
//! `textDocument/diagnostic` answers. `DELTA_FUZZ_SEEDS=N` runs more seeds.

mod common;
use common::lsp::{Client, apply_delta, url};
use serde_json::{Value, json};
use std::collections::HashMap;

const LICENCES: &str = r#"[[licence]]
id = "GL-1"
type = "general"
issued = 2026-01-01
expires = 2028-12-31
items = ["1C905"]
end_users = ["Example Motors GmbH"]
destinations = ["DE"]
"#;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn catalogue(n: usize, rng: &mut Rng) -> String {
    let mut t = String::from("[catalogue]\nas_of = 2026-06-01\n\n");
    for i in 0..n {
        let dy = if rng.below(3) == 0 { "" } else { "Dy = 3, " };
        let lic = match rng.below(4) {
            0 => "licence = \"GL-1\"\n",
            1 => "licence = \"NOPE\"\n",
            _ => "",
        };
        let sku = if rng.below(10) == 0 { 0 } else { i };
        t.push_str(&format!(
            "[[product]]\nsku = \"M{sku}\"\nform = \"magnet\"\ncomposition = {{ Nd = 28, {dy}Fe = 68, B = 1 }}\ndestination = \"DE\"\nend_user = \"Example Motors GmbH\"\n{lic}\n"
        ));
    }
    t
}

fn position(text: &str, at: usize) -> Value {
    let before = &text[..at];
    let line = before.matches('\n').count();
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1);
    json!({"line": line, "character": col})
}

fn items(v: &Value) -> Vec<Value> {
    v["items"].as_array().cloned().unwrap_or_default()
}

#[test]
fn a_client_applying_deltas_holds_the_full_report() {
    let seeds: u64 = std::env::var("DELTA_FUZZ_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    for seed in 1..=seeds {
        run(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    }
}

fn run(seed: u64) {
    let mut rng = Rng(seed | 1);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("licences.catalogue.toml"), LICENCES).unwrap();
    let other = dir.path().join("other.catalogue.toml");
    std::fs::write(&other, catalogue(5, &mut rng)).unwrap();
    let path = dir.path().join("many.catalogue.toml");
    let uri = url(&path);
    let mut text = catalogue(30, &mut rng);
    std::fs::write(&path, &text).unwrap();
    let mut c = Client::spawn_logged(&[("CATALOGUE_LSP_INDEX_DELAY_MS", "200")]);
    let r = c.request(
        "initialize",
        json!({"processId": null, "rootUri": url(dir.path()), "capabilities": {"textDocument": {"diagnostic": {"dynamicRegistration": false}}, "workspace": {"diagnostics": {"refreshSupport": false}}}}),
    );
    assert_eq!(
        r["result"]["capabilities"]["experimental"]["catalogueDiagnosticDelta"],
        true
    );
    c.notify("initialized", json!({}));
    let mut version = 1;
    c.open(&uri, &text, version);
    let early: Vec<i64> = (0..3)
        .map(|_| {
            c.send_request(
                "catalogue/diagnostic",
                json!({"textDocument": {"uri": uri}}),
            )
        })
        .collect();
    for id in early {
        let r = c.response(id);
        assert_eq!(r["result"]["kind"], "full", "{r}");
    }
    let mut open = true;
    // What the client holds: (result id, items).
    let mut held: Option<(String, Vec<Value>)> = None;
    // Every report seen: id -> items (a content hash: one list per id).
    let mut seen: HashMap<String, Vec<Value>> = HashMap::new();
    let (mut deltas, mut fulls, mut unchanged) = (0, 0, 0);
    let mut last_answered: Option<String> = None;
    let mut odd = 0;
    let alphabet: &[u8] = b"\"\\{}[],=\n aZ09.#'-";
    let mut last_op = 99;
    for step in 0..400 {
        let op = rng.below(14);
        match op {
            12 | 13 if open => {
                // A meaningful edit: toggle a product's dysprosium or licence.
                let needles = [
                    "Dy = 3, ",
                    "licence = \"GL-1\"\n",
                    "licence = \"NOPE\"\n",
                    "destination = \"DE\"\n",
                ];
                let needle = needles[rng.below(needles.len())];
                let hits: Vec<usize> = text.match_indices(needle).map(|(i, _)| i).collect();
                if hits.is_empty() {
                    continue;
                }
                let at = hits[rng.below(hits.len())];
                version += 1;
                let (start, end, new) = if rng.below(3) == 0 {
                    (at, at, needle.to_string())
                } else {
                    (at, at + needle.len(), String::new())
                };
                let change = json!([{"range": {"start": position(&text, start), "end": position(&text, end)}, "text": new}]);
                text.replace_range(start..end, &new);
                c.change(&uri, version, change);
            }
            0..=2 if open => {
                // A random edit: insert a char or delete a short range.
                version += 1;
                let at = rng.below(text.len() + 1);
                let (start, end, new) = if rng.below(2) == 0 || text.is_empty() {
                    let ch = alphabet[rng.below(alphabet.len())] as char;
                    (at, at, ch.to_string())
                } else {
                    let end = (at + 1 + rng.below(20)).min(text.len());
                    (at.min(end), end, String::new())
                };
                let change = json!([{"range": {"start": position(&text, start), "end": position(&text, end)}, "text": new}]);
                text.replace_range(start..end, &new);
                c.change(&uri, version, change);
            }
            4 => {
                let sev = ["error", "warning", "hint", "off"][rng.below(4)];
                let settings = if rng.below(5) == 0 {
                    json!({"catalogueLsp": {"severity": 7}})
                } else {
                    json!({"catalogueLsp": {"severity": {"missing-licence": sev}}})
                };
                c.notify(
                    "workspace/didChangeConfiguration",
                    json!({"settings": settings}),
                );
            }
            5 if open && rng.below(2) == 0 => {
                // Two pulls in flight with an edit between, answers applied in either order.
                let prev = held.as_ref().map(|h| h.0.clone());
                let a = c.send_request(
                    "catalogue/diagnostic",
                    json!({"textDocument": {"uri": uri}, "previousResultId": prev}),
                );
                let hits: Vec<usize> = text.match_indices("Dy = 3, ").map(|(i, _)| i).collect();
                if let Some(&at) = hits.get(rng.below(hits.len().max(1))) {
                    version += 1;
                    let change = json!([{"range": {"start": position(&text, at), "end": position(&text, at + 8)}, "text": ""}]);
                    text.replace_range(at..at + 8, "");
                    c.change(&uri, version, change);
                }
                let b = c.send_request(
                    "catalogue/diagnostic",
                    json!({"textDocument": {"uri": uri}, "previousResultId": prev}),
                );
                let mut answers = vec![
                    c.response(a)["result"].clone(),
                    c.response(b)["result"].clone(),
                ];
                if rng.below(2) == 0 {
                    answers.reverse();
                }
                for res in answers {
                    match res["kind"].as_str() {
                        Some("full") => {
                            held = res["resultId"]
                                .as_str()
                                .map(|id| (id.to_string(), items(&res)))
                        }
                        Some("unchanged") => {}
                        Some("delta") => {
                            let applied = held
                                .as_ref()
                                .filter(|(id, _)| {
                                    Some(id.as_str()) == res["previousResultId"].as_str()
                                })
                                .and_then(|(_, base)| apply_delta(base, &res));
                            match applied {
                                Some(out) => {
                                    held =
                                        Some((res["resultId"].as_str().unwrap().to_string(), out));
                                }
                                None => {
                                    let r = c.request(
                                        "textDocument/diagnostic",
                                        json!({"textDocument": {"uri": uri}}),
                                    );
                                    held = r["result"]["resultId"]
                                        .as_str()
                                        .map(|id| (id.to_string(), items(&r["result"])));
                                }
                            }
                        }
                        k => panic!("{k:?}"),
                    }
                }
                let full = c.request(
                    "textDocument/diagnostic",
                    json!({"textDocument": {"uri": uri}}),
                )["result"]
                    .clone();
                // Held is either current, or an older list the next pull corrects: check it is one the server gave.
                if let Some((id, got)) = &held {
                    if Some(id.as_str()) == full["resultId"].as_str() {
                        assert_eq!(got, &items(&full), "pipelined: seed {seed} step {step}");
                    } else if let Some(old) = seen.get(id) {
                        assert_eq!(got, old, "pipelined stale: seed {seed} step {step}");
                    }
                }
            }
            5 => {
                let r = c.request("workspace/diagnostic", json!({"previousResultIds": []}));
                assert!(r["result"].is_object(), "{r}");
            }
            6 => {
                // Close and reopen (the analysis forgotten and redone), or a disk change.
                if rng.below(2) == 0 && open {
                    c.notify(
                        "textDocument/didClose",
                        json!({"textDocument": {"uri": uri}}),
                    );
                    open = false;
                } else if !open {
                    version += 1;
                    c.open(&uri, &text, version);
                    open = true;
                } else {
                    std::fs::write(&other, catalogue(5, &mut rng)).unwrap();
                    c.notify(
                        "workspace/didChangeWatchedFiles",
                        json!({"changes": [{"uri": url(&other), "type": 2}]}),
                    );
                }
            }
            7 => {
                // An answer the client discards (cancelled after the server answered).
                let prev = held.as_ref().map(|h| h.0.clone());
                let res = c.delta_pull(&uri, prev.as_deref());
                if res["kind"] != "unchanged" {
                    last_answered = res["resultId"].as_str().map(str::to_string);
                }
            }
            8 => {
                // A standard pull the client applies (held from it).
                let r = c.request(
                    "textDocument/diagnostic",
                    json!({"textDocument": {"uri": uri}}),
                );
                let res = &r["result"];
                if let Some(id) = res["resultId"].as_str() {
                    held = Some((id.to_string(), items(res)));
                }
            }
            _ => {
                // The extension's pull, applied as the spec says.
                let prev = held.as_ref().map(|h| h.0.clone());
                // Sometimes a stale id from history.
                let prev = if rng.below(6) == 0 && !seen.is_empty() {
                    let k: Vec<&String> = seen.keys().collect();
                    Some(k[rng.below(k.len())].clone())
                } else {
                    prev
                };
                let res = c.delta_pull(&uri, prev.as_deref());
                let was = last_answered.clone();
                if res["kind"] != "unchanged" {
                    last_answered = res["resultId"].as_str().map(str::to_string);
                }
                let base_for_prev = prev.as_ref().and_then(|p| seen.get(p).cloned());
                match res["kind"].as_str() {
                    Some("full") => {
                        fulls += 1;
                        if prev.is_some() && prev == was {
                            odd += 1;
                            let old = seen
                                .get(prev.as_deref().unwrap())
                                .cloned()
                                .unwrap_or_default();
                            let new = items(&res);
                            let h = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
                            let t = old[h..]
                                .iter()
                                .rev()
                                .zip(new[h..].iter().rev())
                                .take_while(|(a, b)| a == b)
                                .count();
                            let changed: usize = new[h..new.len() - t]
                                .iter()
                                .map(|v| v.to_string().len() + 1)
                                .sum();
                            let total: usize = new.iter().map(|v| v.to_string().len() + 1).sum();
                            if changed * 2 < total {
                                eprintln!(
                                    "SMALL delta answered full: step {step} {} -> {} items, head {h} tail {t}, {changed}/{total} bytes, open {open}, last op {last_op}",
                                    old.len(),
                                    new.len()
                                );
                            }
                        }
                        held = res["resultId"]
                            .as_str()
                            .map(|id| (id.to_string(), items(&res)));
                    }
                    Some("unchanged") => {
                        unchanged += 1;
                        assert_eq!(res["resultId"].as_str(), prev.as_deref(), "{res}");
                        held = prev.clone().map(|p| (p.clone(), seen[&p].clone()));
                    }
                    Some("delta") => {
                        deltas += 1;
                        assert_eq!(res["previousResultId"].as_str(), prev.as_deref());
                        let base = base_for_prev.expect("a delta from an id never seen");
                        let out = apply_delta(&base, &res);
                        assert!(out.is_some(), "step {step}: {res}");
                        held = Some((res["resultId"].as_str().unwrap().to_string(), out.unwrap()));
                    }
                    other => panic!("step {step}: kind {other:?}: {res}"),
                }
                let full = c.request(
                    "textDocument/diagnostic",
                    json!({"textDocument": {"uri": uri}}),
                )["result"]
                    .clone();
                let want = items(&full);
                match &held {
                    Some((id, got)) => {
                        assert_eq!(
                            Some(id.as_str()),
                            full["resultId"].as_str(),
                            "seed {seed} step {step}"
                        );
                        assert_eq!(got, &want, "seed {seed} step {step}: {res}");
                    }
                    None => assert!(want.is_empty(), "seed {seed} step {step}"),
                }
            }
        }
        if !matches!(op, 7..=11) {
            last_op = op;
        }
        // Record every id -> items the server would give now (one list per id).
        let full = c.request(
            "textDocument/diagnostic",
            json!({"textDocument": {"uri": uri}}),
        )["result"]
            .clone();
        if let Some(id) = full["resultId"].as_str() {
            let it = items(&full);
            if let Some(old) = seen.get(id) {
                assert_eq!(old, &it, "one id, two lists: {id}");
            }
            seen.insert(id.to_string(), it);
        }
    }
    eprintln!("seed {seed}: {odd} odd, {deltas} deltas, {fulls} full, {unchanged} unchanged");
    assert_eq!(c.shutdown_and_exit(), Some(0));
}

/// A report the client got from `workspace/diagnostic`, confirmed by an
/// `unchanged` document pull, is a base: the next keystroke's
/// `catalogue/diagnostic` is a delta from it, not the full report.
#[test]
fn a_report_from_a_workspace_pull_is_a_base_once_confirmed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("licences.catalogue.toml"), LICENCES).unwrap();
    let path = dir.path().join("many.catalogue.toml");
    let uri = url(&path);
    let mut rng = Rng(7);
    let text = catalogue(30, &mut rng);
    std::fs::write(&path, &text).unwrap();
    let mut c = Client::spawn();
    c.request(
        "initialize",
        json!({"processId": null, "rootUri": url(dir.path()), "capabilities": {"textDocument": {"diagnostic": {"dynamicRegistration": false}}}}),
    );
    c.notify("initialized", json!({}));
    c.open(&uri, &text, 1);
    let first = c.delta_pull(&uri, None);
    let r1 = first["resultId"].as_str().unwrap().to_string();
    // Edit 1: a Dy removed (one product's diagnostics change).
    let hits: Vec<usize> = text.match_indices("Dy = 3, ").map(|(i, _)| i).collect();
    let edit = |c: &mut Client, text: &str, at: usize, v: i64| {
        c.change(&uri, v, json!([{"range": {"start": position(text, at), "end": position(text, at + 8)}, "text": ""}]));
    };
    edit(&mut c, &text, hits[10], 2);
    let mut t2 = text.clone();
    t2.replace_range(hits[10]..hits[10] + 8, "");
    // The workspace pull gets there first: the client now holds R2 from it.
    let w = c.request(
        "workspace/diagnostic",
        json!({"previousResultIds": [{"uri": uri, "value": r1}]}),
    );
    let mine = w["result"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["uri"] == uri.as_str())
        .unwrap()
        .clone();
    assert_eq!(mine["kind"], "full");
    let r2 = mine["resultId"].as_str().unwrap().to_string();
    // The document pull the edit triggered: unchanged (R2 is current).
    assert_eq!(c.delta_pull(&uri, Some(&r2))["kind"], "unchanged");
    // Edit 2: another Dy removed; the document pull from R2.
    let at = t2.match_indices("Dy = 3, ").nth(3).unwrap().0;
    edit(&mut c, &t2, at, 3);
    let third = c.delta_pull(&uri, Some(&r2));
    assert_eq!(
        third["kind"],
        "delta",
        "answered {} with {} items",
        third["kind"],
        third["items"].as_array().map_or(0, Vec::len)
    );
}
