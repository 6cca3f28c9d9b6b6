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
}
