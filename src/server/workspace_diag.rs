//! Pull diagnostics with result ids (`textDocument/diagnostic` and
//! `workspace/diagnostic`): every catalogue file of the workspace, opened or
//! not, is reported; a file whose diagnostics did not change since the
//! result id the client sent answers `unchanged`.
//!
//! A report is written as JSON from the file's publication
//! (`server::publication`: the items a push would carry, spliced from the
//! previous ones) and its result id, a hash of exactly those items; so a
//! file re-analysed by an edit elsewhere whose diagnostics came out the same
//! is still `unchanged`, and one whose lines moved is not. The typed reports
//! tower-lsp answers with are read from that JSON: no report is built twice.
//! (Neovim pulls after every edit: for the ~1 600 diagnostics of a
//! 10 000-product file, typed diagnostics converted through
//! `serde_json::Value` by tower-lsp cost several times the analysis, so
//! `textDocument/diagnostic` is answered with the bytes directly.)
//!
//! Files that are not open are analysed when a workspace pull first asks for
//! them; from then on the edits that affect them update them in place like
//! open documents (`State::affected` keeps every analysed file), and changes
//! that invalidate everything (settings, a file changed on disk, a closed
//! document) drop them, to be analysed again at the next pull.

use super::state::State;
use super::wire::string;
use std::ops::Range;
use tower_lsp::lsp_types::*;

/// The result id of `uri`'s current diagnostics (analysing it first if it
/// has no analysis yet), or None for a file the server does not know.
pub fn result_id(st: &mut State, uri: &Url) -> Option<String> {
    st.file(uri)?;
    if !st.analyses.contains_key(uri) {
        st.analyse(std::slice::from_ref(uri), None);
    }
    st.result_id(uri)
}

/// Analyses every catalogue file of the workspace that has no analysis yet,
/// in one pass (one workspace, one index of names).
pub fn analyse_all(st: &mut State) {
    let missing: Vec<Url> = st
        .files()
        .iter()
        .filter(|f| !st.analyses.contains_key(f.uri))
        .map(|f| f.uri.clone())
        .collect();
    if !missing.is_empty() {
        st.analyse(&missing, None);
    }
}

/// Forgets the analyses of files that are not open: they are analysed again
/// when a pull next asks for them (after a change that makes them stale).
pub fn forget_unopened(st: &mut State) {
    st.forget_unopened();
}

/// A report `catalogue/diagnostic` answered (or found the client holds):
/// its result id, its items (the bytes between the array's brackets) and
/// where each item lies in them. The server keeps the last [`BASES`] per
/// open document: the client may have dropped the last answer (a pull it
/// cancelled after the server answered) and still hold the one before.
pub struct Sent {
    id: String,
    items: Vec<u8>,
    spans: Vec<Range<usize>>,
}

/// How many reports per document a delta can be taken from.
pub const BASES: usize = 2;

/// Where each item of a JSON array's contents (`items`: objects separated
/// by commas, no brackets) lies: a scan of the JSON's nesting that skips
/// strings, so braces and commas inside messages do not count.
pub fn item_spans(items: &[u8]) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let (mut depth, mut start, mut i) = (0usize, 0usize, 0usize);
    while i < items.len() {
        match items[i] {
            b'"' => {
                // To the closing quote: the next quote not escaped.
                let mut j = i + 1;
                loop {
                    match memchr::memchr2(b'"', b'\\', &items[j.min(items.len())..]) {
                        Some(k) if items[j + k] == b'\\' => j += k + 2,
                        Some(k) => {
                            i = j + k;
                            break;
                        }
                        None => return spans,
                    }
                }
            }
            b'{' | b'[' => {
                if depth == 0 {
                    start = i;
                }
                depth += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    spans.push(start..i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    spans
}

/// The answer to `catalogue/diagnostic` (a document pull the VS Code
/// extension makes for the documents it shows): `unchanged` when `previous`
/// is the current result id; a `delta` when `previous` is the result id of
/// the last report this request answered for the document and only some of
/// its items changed: the new items are the old ones' first `head`, then
/// `items`, then their last `tail`; else the full report. A keystroke
/// changes one product's diagnostics: the answer is a few hundred bytes
/// where the full report of a 10 000-product file is ~0.5 MB, which the
/// client would read and parse again.
pub fn delta_report_json(st: &mut State, uri: &Url, previous: Option<&str>) -> Vec<u8> {
    let Some(id) = result_id(st, uri) else {
        st.sent.remove(uri);
        return br#"{"kind":"full","items":[]}"#.to_vec();
    };
    let (body, range) = st.publication(uri).unwrap_or_default();
    let items = body.get(range).unwrap_or_default();
    let mut out = Vec::with_capacity(64);
    let kept = st.sent.get(uri).map(Vec::as_slice).unwrap_or_default();
    let known = kept.iter().any(|s| s.id == id);
    if previous == Some(id.as_str()) {
        out.extend_from_slice(br#"{"kind":"unchanged","resultId":"#);
        string(&mut out, &id);
        out.push(b'}');
        // The client holds these items (however it got them): a base.
        if !known {
            keep(st, uri, &id, items, None);
        }
        return out;
    }
    let spans = item_spans(items);
    let base = kept.iter().find(|s| previous == Some(s.id.as_str()));
    match base.and_then(|b| delta(b, items, &spans)) {
        Some((head, tail, changed)) => {
            out.extend_from_slice(br#"{"kind":"delta","resultId":"#);
            string(&mut out, &id);
            out.extend_from_slice(br#","previousResultId":"#);
            string(&mut out, previous.unwrap_or_default());
            out.extend_from_slice(br#","head":"#);
            out.extend_from_slice(itoa::Buffer::new().format(head).as_bytes());
            out.extend_from_slice(br#","tail":"#);
            out.extend_from_slice(itoa::Buffer::new().format(tail).as_bytes());
            out.extend_from_slice(br#","items":["#);
            out.extend_from_slice(changed);
            out.extend_from_slice(b"]}");
        }
        None => {
            out.reserve(items.len() + 64);
            out.extend_from_slice(br#"{"kind":"full","resultId":"#);
            string(&mut out, &id);
            out.extend_from_slice(br#","items":["#);
            out.extend_from_slice(items);
            out.extend_from_slice(b"]}");
        }
    }
    if !known {
        keep(st, uri, &id, items, Some(spans));
    }
    out
}

/// Keeps `items` (result id `id`) as a base of `uri`'s next delta, if it
/// is open (a pull of a file not open is answered, not remembered), in
/// place of the oldest when there are [`BASES`] already; `spans` are its
/// items' when known.
fn keep(st: &mut State, uri: &Url, id: &str, items: &[u8], spans: Option<Vec<Range<usize>>>) {
    if !st.docs.contains_key(uri) {
        return;
    }
    let kept = st.sent.entry(uri.clone()).or_default();
    let mut reused = match kept.len() >= BASES {
        true => kept.remove(0).items,
        false => Vec::new(),
    };
    reused.clear();
    reused.extend_from_slice(items);
    kept.push(Sent {
        id: id.to_string(),
        spans: spans.unwrap_or_else(|| item_spans(&reused)),
        items: reused,
    });
}

/// The delta from `base` to `items` (whose items lie at `spans`): how many
/// items at the head and at the tail are the same, and the bytes of those
/// between; None when that is not less than half of `items` (the full
/// report is then as cheap).
fn delta<'a>(
    base: &Sent,
    items: &'a [u8],
    spans: &[Range<usize>],
) -> Option<(usize, usize, &'a [u8])> {
    let old = |i: usize| base.items.get(base.spans[i].clone());
    let new = |i: usize| items.get(spans[i].clone());
    let (n, m) = (base.spans.len(), spans.len());
    let head = (0..n.min(m)).take_while(|&i| old(i) == new(i)).count();
    let tail = (0..n.min(m) - head)
        .take_while(|&k| old(n - 1 - k) == new(m - 1 - k))
        .count();
    let changed = match head < m - tail {
        true => items.get(spans[head].start..spans[m - tail - 1].end)?,
        false => &[][..],
    };
    (changed.len() * 2 < items.len()).then_some((head, tail, changed))
}

/// The JSON of one file's report (without the braces around it): `kind`,
/// `resultId` and, unless `unchanged`, its `items`, after `fields` (the
/// workspace report's `uri` and `version`).
fn write_report(
    st: &mut State,
    uri: &Url,
    previous: Option<&str>,
    fields: &[u8],
    out: &mut Vec<u8>,
) {
    let Some(id) = result_id(st, uri) else {
        out.extend_from_slice(br#""kind":"full","#);
        out.extend_from_slice(fields);
        out.extend_from_slice(br#""items":[]"#);
        return;
    };
    let unchanged = previous == Some(id.as_str());
    out.extend_from_slice(match unchanged {
        true => br#""kind":"unchanged","#,
        false => br#""kind":"full","#,
    });
    out.extend_from_slice(fields);
    out.extend_from_slice(br#""resultId":"#);
    string(out, &id);
    if unchanged {
        return;
    }
    let items = st.publication(uri);
    let items = items
        .as_ref()
        .and_then(|(b, r)| b.get(r.clone()))
        .unwrap_or_default();
    out.reserve(items.len() + 16);
    out.extend_from_slice(br#","items":["#);
    out.extend_from_slice(items);
    out.push(b']');
}

/// The answer to a pulled `textDocument/diagnostic` as JSON: `unchanged`
/// when `previous` is its result id, else the full report with the items
/// of the file's publication.
pub fn document_report_json(st: &mut State, uri: &Url, previous: Option<&str>) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.push(b'{');
    write_report(st, uri, previous, b"", &mut out);
    out.push(b'}');
    out
}

/// [`document_report_json`] as tower-lsp's type.
pub fn document_report(
    st: &mut State,
    uri: &Url,
    previous: Option<&str>,
) -> DocumentDiagnosticReport {
    serde_json::from_slice(&document_report_json(st, uri, previous)).unwrap_or_else(|e| {
        tracing::error!(%uri, "a pull report did not read back: {e}");
        DocumentDiagnosticReport::Full(RelatedFullDocumentDiagnosticReport::default())
    })
}

/// The workspace report as JSON: every catalogue file, in URI order,
/// `unchanged` where the client's result id is still current.
pub fn workspace_report_json(st: &mut State, previous: &[PreviousResultId]) -> Vec<u8> {
    analyse_all(st);
    let known: std::collections::HashMap<&Url, &str> = previous
        .iter()
        .map(|p| (&p.uri, p.value.as_str()))
        .collect();
    let uris: Vec<Url> = st.files().iter().map(|f| f.uri.clone()).collect();
    let mut out = br#"{"items":["#.to_vec();
    for (k, uri) in uris.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        let mut fields = br#""uri":"#.to_vec();
        string(&mut fields, uri.as_str());
        fields.extend_from_slice(br#","version":"#);
        match st.docs.get(uri) {
            Some(d) => fields.extend_from_slice(itoa::Buffer::new().format(d.version).as_bytes()),
            None => fields.extend_from_slice(b"null"),
        }
        fields.push(b',');
        out.push(b'{');
        write_report(st, uri, known.get(uri).copied(), &fields, &mut out);
        out.push(b'}');
    }
    // A file the client has a report of that is no longer in the workspace
    // (deleted, renamed, moved out): an empty report, or the client keeps
    // listing its last problems (a file missing from a report is left as it was).
    let listed: std::collections::HashSet<&Url> = uris.iter().collect();
    let gone = previous.iter().filter(|p| !listed.contains(&p.uri));
    for (k, p) in (uris.len()..).zip(gone) {
        if k > 0 {
            out.push(b',');
        }
        out.extend_from_slice(br#"{"uri":"#);
        string(&mut out, p.uri.as_str());
        out.extend_from_slice(br#","version":null,"kind":"full","items":[]}"#);
    }
    out.extend_from_slice(b"]}");
    out
}

/// [`workspace_report_json`] as tower-lsp's type.
pub fn workspace_report(
    st: &mut State,
    previous: &[PreviousResultId],
) -> WorkspaceDiagnosticReport {
    serde_json::from_slice(&workspace_report_json(st, previous)).unwrap_or_else(|e| {
        tracing::error!("a workspace pull report did not read back: {e}");
        WorkspaceDiagnosticReport::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::document::Document;

    const TEXT: &str = "[catalogue]\nas_of = 2026-06-01\n\n[[licence]]\nid = \"GL-1\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2027-01-01\nitems = [\"1C905\"]\n\n[[product]]\nsku = \"A\\u00e9\"\nform = \"magnet\"\ncomposition = { Nd = 28, Dy = 3, Fe = 68, B = 1 }\nlicence = \"GL-1\"\n\n[[product]]\nform = \"oxide\"\ncomposition = { La2O3 = 99 }\n\n[[product]]\nsku = \"R\"\nform = \"rotor-assembly\"\ncomponents = [\"A\\u00e9\"]\nmounting = \"embedded\"\n";

    /// The report for one document, as the protocol's types would give it
    /// from the state's LSP diagnostics (the oracle of the written one).
    fn typed(st: &mut State, uri: &Url, prev: Option<&str>) -> serde_json::Value {
        let id = result_id(st, uri);
        let report = match (&id, prev) {
            (Some(id), Some(p)) if id == p => {
                DocumentDiagnosticReport::Unchanged(RelatedUnchangedDocumentDiagnosticReport {
                    related_documents: None,
                    unchanged_document_diagnostic_report: UnchangedDocumentDiagnosticReport {
                        result_id: id.clone(),
                    },
                })
            }
            _ => DocumentDiagnosticReport::Full(RelatedFullDocumentDiagnosticReport {
                related_documents: None,
                full_document_diagnostic_report: FullDocumentDiagnosticReport {
                    result_id: id,
                    items: st.lsp_diagnostics(uri),
                },
            }),
        };
        serde_json::to_value(report).unwrap()
    }

    /// A pulled report written from the publication's bytes is the report
    /// the protocol's types give from the LSP form of each diagnostic: full,
    /// unchanged for the current result id, with a settings error first,
    /// and for a file the server does not know; read back as tower-lsp's
    /// type it is the same again.
    #[test]
    fn the_written_pull_report_equals_the_typed_one() {
        let uri = Url::parse("file:///w/a.catalogue.toml").unwrap();
        let written = |st: &mut State, uri: &Url, prev: Option<&str>| {
            let v: serde_json::Value =
                serde_json::from_slice(&document_report_json(st, uri, prev)).unwrap();
            let read = serde_json::to_value(document_report(st, uri, prev)).unwrap();
            assert_eq!(v, read, "read back");
            v
        };
        let mut counts = Vec::new();
        for settings in [None, Some(serde_json::json!({"asOf": "soon"}))] {
            let mut st = State::default();
            if let Some(s) = settings {
                st.set_settings(crate::server::state::Settings::from_json(&s).unwrap());
            }
            st.docs.insert(uri.clone(), Document::new(TEXT.into(), 1));
            st.analyse(std::slice::from_ref(&uri), None);
            let full = written(&mut st, &uri, None);
            assert_eq!(full, typed(&mut st, &uri, None));
            assert_eq!(full["kind"], "full");
            counts.push(full["items"].as_array().unwrap().len());
            let id = full["resultId"].as_str().unwrap().to_string();
            let same = written(&mut st, &uri, Some(&id));
            assert_eq!(
                same,
                serde_json::json!({"kind": "unchanged", "resultId": id})
            );
            assert_eq!(same, typed(&mut st, &uri, Some(&id)));
            assert_eq!(written(&mut st, &uri, Some("old")), full);
        }
        // The product without a SKU; then the settings error first.
        assert_eq!(counts, [1, 2]);
        let other = Url::parse("file:///w/other.catalogue.toml").unwrap();
        let mut st = State::default();
        assert_eq!(written(&mut st, &other, None), typed(&mut st, &other, None));
    }

    /// The workspace report names every file with its version (null for a
    /// file not open), full with the file's diagnostics or unchanged for a
    /// current result id, and reads back as tower-lsp's type unchanged; a
    /// file the client has a report of that is gone gets an empty one.
    #[test]
    fn the_workspace_report_lists_every_file_full_or_unchanged() {
        let a = Url::parse("file:///w/a.catalogue.toml").unwrap();
        let b = Url::parse("file:///w/b.catalogue.toml").unwrap();
        let mut st = State::default();
        st.docs.insert(a.clone(), Document::new(TEXT.into(), 3));
        let text = TEXT.replace("GL-1", "GL-2");
        let disk = crate::server::document::DiskFile {
            names: crate::server::document::next_names(),
            lines: crate::text::LineIndex::new(&text),
            catalogue: crate::catalogue::parse(&text),
            format: crate::catalogue::Format::Toml,
            text,
        };
        st.disk.insert(b.clone(), disk);
        let v: serde_json::Value =
            serde_json::from_slice(&workspace_report_json(&mut st, &[])).unwrap();
        let items = v["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["uri"], a.as_str());
        assert_eq!(items[0]["version"], 3);
        assert_eq!(items[1]["uri"], b.as_str());
        assert_eq!(items[1]["version"], serde_json::Value::Null);
        for (item, uri) in items.iter().zip([&a, &b]) {
            assert_eq!(item["kind"], "full");
            assert_eq!(
                item["items"],
                serde_json::to_value(st.lsp_diagnostics(uri)).unwrap()
            );
        }
        let prev = [PreviousResultId {
            uri: a.clone(),
            value: items[0]["resultId"].as_str().unwrap().to_string(),
        }];
        let again: serde_json::Value =
            serde_json::from_slice(&workspace_report_json(&mut st, &prev)).unwrap();
        assert_eq!(again["items"][0]["kind"], "unchanged");
        assert!(again["items"][0].get("items").is_none());
        assert_eq!(again["items"][1], items[1]);
        let typed = serde_json::to_value(workspace_report(&mut st, &prev)).unwrap();
        assert_eq!(typed, again);
        // b deleted: the client, which has a report of it, gets an empty one
        // (without it, it would keep listing b's last problems).
        st.disk.remove(&b);
        let prev = [
            prev[0].clone(),
            PreviousResultId {
                uri: b.clone(),
                value: items[1]["resultId"].as_str().unwrap().to_string(),
            },
        ];
        let gone: serde_json::Value =
            serde_json::from_slice(&workspace_report_json(&mut st, &prev)).unwrap();
        let gone_items = gone["items"].as_array().unwrap();
        assert_eq!(gone_items.len(), 2, "{gone}");
        assert_eq!(gone_items[1]["uri"], b.as_str());
        assert_eq!(gone_items[1]["kind"], "full");
        assert_eq!(gone_items[1]["items"], serde_json::json!([]));
        let typed = serde_json::to_value(workspace_report(&mut st, &prev)).unwrap();
        assert_eq!(typed, gone);
    }
    /// Each item of an array's contents is found whole, whatever its
    /// strings hold (braces, brackets, commas, escaped quotes, a backslash
    /// at a string's end) and however deep it nests.
    #[test]
    fn item_spans_finds_each_item_whole() {
        let items = [
            serde_json::json!({"message": "a } { , ] [ \" \\", "n": [1, {"x": "\\"}]}),
            serde_json::json!({}),
            serde_json::json!({"related": [{"location": {"range": {"start": 1}}}], "m": "\\"}),
        ];
        let text: Vec<String> = items.iter().map(|v| v.to_string()).collect();
        let joined = text.join(",");
        let spans = item_spans(joined.as_bytes());
        let found: Vec<&str> = spans.iter().map(|r| &joined[r.clone()]).collect();
        assert_eq!(found, text);
        assert!(item_spans(b"").is_empty());
    }

    proptest::proptest! {
        /// Any array of objects with any strings: the spans are the items.
        #[test]
        fn item_spans_of_any_objects(strings in proptest::collection::vec(".*", 0..12)) {
            let items: Vec<String> = strings
                .iter()
                .map(|s| serde_json::json!({"m": s, "r": [s, {"k": s}]}).to_string())
                .collect();
            let joined = items.join(",");
            let spans = item_spans(joined.as_bytes());
            let found: Vec<&str> = spans.iter().map(|r| &joined[r.clone()]).collect();
            proptest::prop_assert_eq!(found, items);
        }
    }

    /// A catalogue of `n` magnets without licences (one `missing-licence`
    /// each); `unlicensed` false for magnet `k` takes its dysprosium out.
    fn magnets(n: usize, without_dy: Option<usize>) -> String {
        let mut t = String::from("[catalogue]\nas_of = 2026-06-01\n\n");
        for i in 0..n {
            let dy = if without_dy == Some(i) {
                ""
            } else {
                "Dy = 3, "
            };
            t.push_str(&format!(
                "[[product]]\nsku = \"M{i}\"\nform = \"magnet\"\ncomposition = {{ Nd = 28, {dy}Fe = 68, B = 1 }}\n\n"
            ));
        }
        t
    }

    /// `uri`'s text replaced by `text`, analysed again; its delta bases
    /// kept, as an open document's edit keeps them (`forget` drops them).
    fn edit(st: &mut State, uri: &Url, text: String, version: i32) {
        let kept = st.sent.remove(uri);
        st.forget(uri);
        st.docs.insert(uri.clone(), Document::new(text, version));
        st.analyse(std::slice::from_ref(uri), None);
        st.sent.extend(kept.map(|k| (uri.clone(), k)));
    }

    /// The items a delta answer stands for, from the base's items.
    fn applied(base: &[serde_json::Value], delta: &serde_json::Value) -> Vec<serde_json::Value> {
        let head = delta["head"].as_u64().unwrap() as usize;
        let tail = delta["tail"].as_u64().unwrap() as usize;
        let mut out = base[..head].to_vec();
        out.extend(delta["items"].as_array().unwrap().iter().cloned());
        out.extend(base[base.len() - tail..].iter().cloned());
        out
    }

    /// `catalogue/diagnostic`: full first; after an edit that changes one
    /// product's diagnostics, a delta from the last report answered that
    /// applies to exactly the full report (items removed, then added back);
    /// unchanged for the current id; full for an id it did not answer last,
    /// for a change that moves most items, and once the document is closed.
    #[test]
    fn a_delta_report_is_the_full_one_from_the_last() {
        let uri = Url::parse("file:///w/m.catalogue.toml").unwrap();
        let mut st = State::default();
        let json = |b: Vec<u8>| serde_json::from_slice::<serde_json::Value>(&b).unwrap();
        edit(&mut st, &uri, magnets(20, None), 1);
        let first = json(delta_report_json(&mut st, &uri, None));
        assert_eq!(first["kind"], "full");
        let base = first["items"].as_array().unwrap().clone();
        assert_eq!(base.len(), 20, "{first}");
        let id1 = first["resultId"].as_str().unwrap().to_string();
        edit(&mut st, &uri, magnets(20, Some(7)), 2);
        let removed = json(delta_report_json(&mut st, &uri, Some(&id1)));
        assert_eq!(removed["kind"], "delta", "{removed}");
        assert_eq!(removed["previousResultId"], id1.as_str());
        assert_eq!(
            (removed["head"].clone(), removed["tail"].clone()),
            (7.into(), 12.into())
        );
        let full = json(document_report_json(&mut st, &uri, None));
        assert_eq!(removed["resultId"], full["resultId"]);
        let now = applied(&base, &removed);
        assert_eq!(now, full["items"].as_array().unwrap().clone());
        let id2 = removed["resultId"].as_str().unwrap().to_string();
        assert_eq!(
            json(delta_report_json(&mut st, &uri, Some(&id2))),
            serde_json::json!({"kind": "unchanged", "resultId": id2})
        );
        // Back again: one item added between the same head and tail.
        edit(&mut st, &uri, magnets(20, None), 3);
        let added = json(delta_report_json(&mut st, &uri, Some(&id2)));
        assert_eq!(added["kind"], "delta", "{added}");
        assert_eq!(added["items"].as_array().unwrap().len(), 1);
        assert_eq!(applied(&now, &added), base);
        let id3 = added["resultId"].as_str().unwrap().to_string();
        // The same items as the first report: the same id.
        assert_eq!(id3, id1);
        // An id other than the last answered one: full.
        let other = json(delta_report_json(&mut st, &uri, Some("00000000deadbeef")));
        assert_eq!(other["kind"], "full");
        assert_eq!(other["items"].as_array().unwrap().clone(), base);
        // Every item moved (a line inserted at the top): full.
        edit(&mut st, &uri, format!("\n{}", magnets(20, None)), 4);
        assert_eq!(
            json(delta_report_json(&mut st, &uri, Some(&id3)))["kind"],
            "full"
        );
        // Closed: the base is forgotten, and the next answer is full.
        let id4 = result_id(&mut st, &uri).unwrap();
        assert!(st.sent.contains_key(&uri));
        st.forget(&uri);
        assert!(st.sent.is_empty());
        st.analyse(std::slice::from_ref(&uri), None);
        let edited = magnets(20, Some(3));
        st.docs.insert(uri.clone(), Document::new(edited, 5));
        st.analyse(std::slice::from_ref(&uri), None);
        assert_eq!(
            json(delta_report_json(&mut st, &uri, Some(&id4)))["kind"],
            "full"
        );
        let unknown = Url::parse("file:///w/none.catalogue.toml").unwrap();
        assert_eq!(
            json(delta_report_json(&mut st, &unknown, Some("x"))),
            serde_json::json!({"kind": "full", "items": []})
        );
    }
    proptest::proptest! {
        /// Any base and new list (a small alphabet: equal items side by
        /// side, so a tail overlapping the head would show): the delta
        /// applied to the base is the new list.
        #[test]
        fn a_delta_applies_to_any_lists(
            old in proptest::collection::vec(0u8..4, 0..12),
            new in proptest::collection::vec(0u8..4, 0..12),
        ) {
            let render = |v: &[u8]| {
                v.iter()
                    .map(|k| format!("{{\"m\":\"{k}\\\\\",\"d\":{{\"a\":[1,{{}}]}}}}"))
                    .collect::<Vec<_>>()
            };
            let (o, n) = (render(&old), render(&new));
            let (ob, nb) = (o.join(","), n.join(","));
            let base = Sent {
                id: "x".into(),
                spans: item_spans(ob.as_bytes()),
                items: ob.into_bytes(),
            };
            let spans = item_spans(nb.as_bytes());
            proptest::prop_assert_eq!(spans.len(), n.len());
            if let Some((h, t, changed)) = delta(&base, nb.as_bytes(), &spans) {
                proptest::prop_assert!(h + t <= o.len());
                let mid = std::str::from_utf8(changed).unwrap();
                let mut got: Vec<String> = o[..h].to_vec();
                if !mid.is_empty() {
                    let v: Vec<serde_json::Value> =
                        serde_json::from_str(&format!("[{mid}]")).unwrap();
                    got.extend(v.iter().map(|x| x.to_string()));
                }
                got.extend(o[o.len() - t..].iter().cloned());
                proptest::prop_assert_eq!(got, n);
            }
        }
    }

    /// The bases kept: the last two answered (a client that dropped the
    /// last answer still gets a delta from the one before); the items a
    /// client shows it holds by an `unchanged` pull (got from a workspace
    /// pull, say); none for a file that is not open, and none left for
    /// files no longer open.
    #[test]
    fn the_bases_are_the_last_two_answers_of_open_documents() {
        let uri = Url::parse("file:///w/m.catalogue.toml").unwrap();
        let mut st = State::default();
        let json = |b: Vec<u8>| serde_json::from_slice::<serde_json::Value>(&b).unwrap();
        edit(&mut st, &uri, magnets(20, None), 1);
        let r1 = json(delta_report_json(&mut st, &uri, None));
        let id1 = r1["resultId"].as_str().unwrap().to_string();
        edit(&mut st, &uri, magnets(20, Some(4)), 2);
        let r2 = json(delta_report_json(&mut st, &uri, Some(&id1)));
        assert_eq!(r2["kind"], "delta");
        // The client dropped r2 (cancelled): it still holds r1.
        edit(&mut st, &uri, magnets(20, Some(9)), 3);
        let r3 = json(delta_report_json(&mut st, &uri, Some(&id1)));
        assert_eq!(r3["kind"], "delta", "{r3}");
        assert_eq!(st.sent[&uri].len(), BASES);
        // Three answers on, r1 is no longer a base.
        edit(&mut st, &uri, magnets(20, Some(11)), 4);
        let r4 = json(delta_report_json(
            &mut st,
            &uri,
            Some(r3["resultId"].as_str().unwrap()),
        ));
        assert_eq!(r4["kind"], "delta");
        edit(&mut st, &uri, magnets(20, Some(12)), 5);
        assert_eq!(
            json(delta_report_json(&mut st, &uri, Some(&id1)))["kind"],
            "full"
        );
        // Items the client got elsewhere: `unchanged` makes them a base.
        edit(&mut st, &uri, magnets(20, Some(13)), 6);
        let elsewhere = json(document_report_json(&mut st, &uri, None));
        let id = elsewhere["resultId"].as_str().unwrap().to_string();
        let same = json(delta_report_json(&mut st, &uri, Some(&id)));
        assert_eq!(same["kind"], "unchanged");
        edit(&mut st, &uri, magnets(20, Some(14)), 7);
        assert_eq!(
            json(delta_report_json(&mut st, &uri, Some(&id)))["kind"],
            "delta"
        );
        // Not open: answered, not kept; and forget_unopened drops the rest.
        let other = Url::parse("file:///w/other.catalogue.toml").unwrap();
        st.docs
            .insert(other.clone(), Document::new(magnets(5, None), 1));
        st.analyse(std::slice::from_ref(&other), None);
        let _ = delta_report_json(&mut st, &other, None);
        assert!(st.sent.contains_key(&other));
        st.docs.remove(&other);
        st.forget_unopened();
        assert!(!st.sent.contains_key(&other));
        assert!(st.sent.contains_key(&uri));
    }
}
