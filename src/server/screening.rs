//! Party screening in the editor (contract §4b): the hover on a party name
//! (what the screening found, the list entry and its source) and the quick
//! fix that records a reviewed non-match as a `[[screening]]` table.

use super::proto;
use super::state::{FileView, State};
use crate::catalogue::{Field, TableKind};
use crate::diagnostic::Diagnostic;
use crate::parties::{Match, normalise};
use crate::text::Span;
use jiff::civil::Date;
use std::collections::HashMap;
use std::fmt::Write;
use tower_lsp::lsp_types::*;

fn inside(span: Span, offset: usize) -> bool {
    span.start() <= offset && offset <= span.end()
}

/// The party name under `offset` in table `t` of the file, with its role and
/// its evaluation date.
fn party_at<'a>(
    st: &State,
    uri: &Url,
    f: &'a FileView,
    kind: TableKind,
    index: usize,
    offset: usize,
) -> Option<(&'static str, &'a Field<String>, Date)> {
    let cat = f.catalogue;
    let analysis = st.analyses.get(uri);
    match kind {
        TableKind::Product => {
            let p = cat.products.get(index)?;
            let date = analysis
                .and_then(|a| a.product(index))
                .map(|r| r.as_of)
                .unwrap_or_else(|| st.options().today);
            [
                ("end user", &p.end_user),
                ("importer", &p.export_facts().importer),
            ]
            .into_iter()
            .find_map(|(what, x)| {
                x.as_ref()
                    .filter(|x| inside(x.span, offset))
                    .map(|x| (what, x, date))
            })
        }
        TableKind::Licence => {
            let l = cat.licences.get(index)?;
            let u = l
                .end_users
                .as_ref()?
                .value
                .iter()
                .find(|u| inside(u.span, offset))?;
            // The date licence end users are screened on (see `Workspace::file_diagnostics`).
            let date = analysis
                .and_then(|a| {
                    (0..cat.products.len())
                        .filter_map(|i| a.product(i))
                        .map(|r| r.as_of)
                        .max()
                })
                .or_else(|| {
                    cat.catalogue
                        .as_ref()
                        .and_then(|c| c.as_of.as_ref())
                        .map(|d| d.value)
                })
                .unwrap_or_else(|| st.options().today);
            Some(("licence end user", u, date))
        }
        _ => None,
    }
}

/// Hover text for a party name under `offset`, if there is one.
pub fn party_hover(
    st: &State,
    uri: &Url,
    f: &FileView,
    kind: TableKind,
    index: usize,
    offset: usize,
) -> Option<(Span, String)> {
    let (what, name, date) = party_at(st, uri, f, kind, index, offset)?;
    let list = &st.parties;
    let mut md = String::new();
    let _ = writeln!(
        md,
        "**{what}** `{}` — screened on {date} against party list {} {} (reviewed through {})\n",
        name.value, list.id, list.version, list.reviewed_through
    );
    let findings = list.screen(&name.value, date);
    if findings.is_empty() {
        let _ = writeln!(
            md,
            "No match among the {} entries in force on {date}. The list is not complete: {}",
            list.in_force(date).count(),
            list.note.trim()
        );
    }
    let key = normalise(&name.value).key;
    for fd in &findings {
        let p = &list.parties[fd.party];
        let verdict = match fd.how {
            Match::Listed => "**listed**".to_string(),
            Match::Possible { .. } => {
                format!("**possible match** with \"{}\": {}", fd.matched, fd.why())
            }
        };
        let _ = writeln!(md, "- {verdict}\n");
        let _ = writeln!(
            md,
            "  `{}` {} — {}; added {}{}; [{}]({}) (confidence {})\n",
            p.id,
            p.display(),
            p.list.title(),
            p.added,
            p.removed
                .map(|r| format!(", removed {r}"))
                .unwrap_or_default(),
            p.source.instrument,
            p.source.url,
            p.confidence
        );
        let _ = writeln!(md, "  Consequence: {}\n", p.consequence());
        if matches!(fd.how, Match::Possible { .. }) {
            let review = f.catalogue.screenings.iter().find(|s| {
                s.entry.as_ref().is_some_and(|e| e.value == p.id)
                    && s.party
                        .as_ref()
                        .is_some_and(|x| normalise(&x.value).key == key)
            });
            match review {
                Some(s) if s.complete() => {
                    let _ = writeln!(
                        md,
                        "  Reviewed non-match: {} (by {}, on {}): the warning is silenced.\n",
                        s.reason.as_ref().map_or("", |r| r.value.as_str()),
                        s.by.as_ref().map_or("", |r| r.value.as_str()),
                        s.on.as_ref()
                            .map(|d| d.value.to_string())
                            .unwrap_or_default(),
                    );
                }
                Some(_) => {
                    let _ = writeln!(
                        md,
                        "  A `[[screening]]` record names this pair but is incomplete: fill reason, by and on.\n"
                    );
                }
                None => {}
            }
        }
    }
    Some((name.span, md))
}

/// The quick fix of `possible-listed-party`: append a screening record
/// naming the party and the entry, written by the file's format (a
/// `[[screening]]` table in TOML; none in CSV, which holds no such record);
/// reason, by and on are left for the user, marked, so the record silences
/// nothing until they are filled.
pub fn screening_action(
    st: &State,
    uri: &Url,
    f: &FileView,
    d: &Diagnostic,
    ld: &LspDiagnostic,
) -> Option<CodeActionOrCommand> {
    let [party, entry] = d.fix.replacements.as_slice() else {
        return None;
    };
    // Written by the file's format; a format without screening records (CSV) gets no fix.
    use crate::catalogue::format::{Edit, Value};
    let record = Edit::InsertAfter {
        item: None,
        kind: TableKind::Screening,
        fields: vec![
            ("party".into(), Value::Str(party.clone())),
            ("entry".into(), Value::Str(entry.clone())),
        ],
        to_fill: [
            "TO FILL: this review record counts only once reason, by and on are written by the reviewer:",
            "reason = \"why this party is not the listed entity\"",
            "by = \"who reviewed it\"",
            "on = YYYY-MM-DD",
        ]
        .map(String::from)
        .to_vec(),
    };
    let edits = proto::text_edits(
        f,
        f.format.render(f.text, f.catalogue, &record),
        st.encoding,
    );
    if edits.is_empty() {
        return None;
    }
    Some(proto::quick_fix(
        format!(
            "Record a reviewed non-match of \"{party}\" with `{entry}` ([[screening]], to fill)"
        ),
        Some(ld),
        HashMap::from([(uri.clone(), edits)]),
        false,
    ))
}

/// The LSP diagnostic type, named apart from the engine's.
pub type LspDiagnostic = tower_lsp::lsp_types::Diagnostic;
