//! Pull diagnostics with result ids (`textDocument/diagnostic` and
//! `workspace/diagnostic`): every catalogue file of the workspace, opened or
//! not, is reported; a file whose diagnostics did not change since the
//! result id the client sent answers `unchanged`.
//!
//! A result id is a hash of exactly what a full report would carry (the
//! publication's bytes, spliced from the previous one as for a push), so a
//! file re-analysed by an edit elsewhere whose diagnostics came out the same
//! is still `unchanged`, and one whose lines moved is not.
//!
//! Files that are not open are analysed when a workspace pull first asks for
//! them; from then on the edits that affect them update them in place like
//! open documents (`State::affected` keeps every analysed file), and changes
//! that invalidate everything (settings, a file changed on disk, a closed
//! document) drop them, to be analysed again at the next pull.

use super::state::State;
use super::wire;
use std::hash::Hasher;
use tower_lsp::lsp_types::*;

/// The result id of `uri`'s current diagnostics (analysing it first if it
/// has no analysis yet), or None for a file the server does not know.
pub fn result_id(st: &mut State, uri: &Url) -> Option<String> {
    st.file(uri)?;
    if !st.analyses.contains_key(uri) {
        st.analyse(std::slice::from_ref(uri), None);
    }
    let pack_error = st
        .pack_error_diagnostic()
        .map(|d| wire::Template::new(d, &[(0, None), (0, None)], 0));
    let a = st.analyses.get_mut(uri)?;
    let (items, range) = a.wire_items(pack_error.as_ref());
    let mut h = rustc_hash::FxHasher::default();
    h.write(items.get(range).unwrap_or_default());
    Some(format!("{:016x}", h.finish()))
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
    let State { analyses, docs, .. } = st;
    analyses.retain(|u, _| docs.contains_key(u));
}

/// The report for one document: `unchanged` when `previous` is its result id.
pub fn document_report(
    st: &mut State,
    uri: &Url,
    previous: Option<&str>,
) -> DocumentDiagnosticReport {
    let id = result_id(st, uri);
    if let (Some(id), Some(prev)) = (&id, previous) {
        if id == prev {
            return DocumentDiagnosticReport::Unchanged(RelatedUnchangedDocumentDiagnosticReport {
                related_documents: None,
                unchanged_document_diagnostic_report: UnchangedDocumentDiagnosticReport {
                    result_id: id.clone(),
                },
            });
        }
    }
    DocumentDiagnosticReport::Full(RelatedFullDocumentDiagnosticReport {
        related_documents: None,
        full_document_diagnostic_report: FullDocumentDiagnosticReport {
            result_id: id,
            items: st.lsp_diagnostics(uri),
        },
    })
}

/// The workspace report: every catalogue file, in URI order, `unchanged`
/// where the client's result id is still current.
pub fn workspace_report(
    st: &mut State,
    previous: &[PreviousResultId],
) -> WorkspaceDiagnosticReport {
    analyse_all(st);
    let known: std::collections::HashMap<&Url, &str> = previous
        .iter()
        .map(|p| (&p.uri, p.value.as_str()))
        .collect();
    let uris: Vec<Url> = st.files().iter().map(|f| f.uri.clone()).collect();
    let mut items = Vec::with_capacity(uris.len());
    for uri in uris {
        let Some(id) = result_id(st, &uri) else {
            continue;
        };
        let version = st.docs.get(&uri).map(|d| i64::from(d.version));
        if known.get(&uri) == Some(&id.as_str()) {
            items.push(WorkspaceDocumentDiagnosticReport::Unchanged(
                WorkspaceUnchangedDocumentDiagnosticReport {
                    uri,
                    version,
                    unchanged_document_diagnostic_report: UnchangedDocumentDiagnosticReport {
                        result_id: id,
                    },
                },
            ));
        } else {
            let diagnostics = st.lsp_diagnostics(&uri);
            items.push(WorkspaceDocumentDiagnosticReport::Full(
                WorkspaceFullDocumentDiagnosticReport {
                    uri,
                    version,
                    full_document_diagnostic_report: FullDocumentDiagnosticReport {
                        result_id: Some(id),
                        items: diagnostics,
                    },
                },
            ));
        }
    }
    WorkspaceDiagnosticReport { items }
}
