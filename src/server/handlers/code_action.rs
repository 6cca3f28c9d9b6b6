//! Code actions (quick fixes) for the diagnostics of a range: a
//! diagnostic's mechanical replacements, a licence that covers a product
//! missing one (or a licence stub in the licence register), a `[[screening]]`
//! record (from `server::screening`), and a shipment of the product under the
//! cursor. Every edit is rendered by the file's format
//! (`catalogue::format::Format::render`), never written here.

use super::{product_at, result_for};
use crate::catalogue::{self, LicenceType, Product, TableKind};
use crate::diagnostic::Code;
use crate::engine::licence;
use crate::server::proto;
use crate::server::state::{FileView, State};
use crate::text::Span;
use std::collections::HashMap;
use tower_lsp::lsp_types::*;

/// Quick fixes for the diagnostics of a range.
pub fn code_actions(st: &State, uri: &Url, range: Range) -> Vec<CodeActionOrCommand> {
    let Some(f) = st.file(uri) else { return vec![] };
    let Some(res) = st.analyses.get(uri) else {
        return vec![];
    };
    let start = proto::offset(&f, range.start, st.encoding);
    let end = proto::offset(&f, range.end, st.encoding);
    let mut out = Vec::new();
    for (moved, d) in res.diagnostics() {
        let at = (
            d.span.start().saturating_add_signed(moved),
            d.span.end().saturating_add_signed(moved),
        );
        if at.1 < start || at.0 > end {
            continue;
        }
        let d = &*crate::server::state::placed(moved, d);
        let Some(ld) = st.lsp_diagnostic(&f, d) else {
            continue;
        };
        let ld = &ld;
        match d.code {
            Code::MissingLicence => {
                if let Some((idx, p)) = product_at(f.catalogue, d.span.start()) {
                    missing_licence_actions(st, &f, idx, p, ld, &mut out);
                }
            }
            Code::PossibleListedParty => {
                out.extend(crate::server::screening::screening_action(
                    st, uri, &f, d, ld,
                ));
            }
            _ if !d.fix.replacements.is_empty() => {
                let current = &f.text[d.span.start()..d.span.end()];
                for (i, r) in d
                    .fix
                    .replacements
                    .iter()
                    .take(if d.code == Code::InvalidValue { 12 } else { 3 })
                    .enumerate()
                {
                    let new_text = f.format.replacement(r, d.fix.quote);
                    if new_text == current {
                        continue;
                    }
                    out.push(action(
                        format!("Replace with {new_text}"),
                        ld,
                        uri,
                        vec![proto::text_edit(ld.range, new_text)],
                        i == 0,
                    ));
                }
            }
            _ => {}
        }
    }
    if let Some((_, p)) = product_at(f.catalogue, start) {
        out.extend(shipment_skeleton(st, &f, uri, p));
    }
    out
}

/// Adds a `[[shipment]]` of the product after its table (v2 §4a): the SKU
/// filled in, nothing invented. `ship_date` stays missing (reported until
/// it is written) and comments say what to fill in.
fn shipment_skeleton(
    st: &State,
    f: &FileView,
    uri: &Url,
    p: &Product,
) -> Option<CodeActionOrCommand> {
    // Shipments are tables of a TOML catalogue (a CSV file holds one kind).
    if !matches!(f.format, catalogue::Format::Toml) {
        return None;
    }
    let sku = p.sku_str()?;
    let at = p.span.end();
    let before = &f.text[p.span.start()..at];
    let lead = if before.ends_with("\n\n") || before.ends_with("\r\n\r\n") {
        ""
    } else if before.ends_with('\n') {
        "\n"
    } else {
        "\n\n"
    };
    let new_text = format!(
        "{lead}[[shipment]]\nsku = {}\n# TO FILL IN: ship_date = YYYY-MM-DD (required: the shipment is reported as missing it until then),\n# and its amount: quantity with unit (\"kg\", \"g\", \"t\" or \"pcs\"), value with currency (e.g. \"CNY\").\n# Not given: destination, end_user, importer, licence, end_use, contract, euc, transfer and\n# purpose are the product's; write any that differ for this shipment.\n\n",
        quote(sku)
    );
    let range = proto::file_range(f, Span::new(at, at), st.encoding);
    Some(proto::quick_fix(
        format!("Add a [[shipment]] of {sku}"),
        None,
        HashMap::from([(uri.clone(), vec![proto::text_edit(range, new_text)])]),
        false,
    ))
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

fn action(
    title: String,
    d: &Diagnostic,
    uri: &Url,
    edits: Vec<TextEdit>,
    preferred: bool,
) -> CodeActionOrCommand {
    proto::quick_fix(
        title,
        Some(d),
        HashMap::from([(uri.clone(), edits)]),
        preferred,
    )
}

fn missing_licence_actions(
    st: &State,
    f: &FileView,
    idx: usize,
    p: &Product,
    d: &Diagnostic,
    out: &mut Vec<CodeActionOrCommand>,
) {
    let Some(r) = result_for(st, f.uri, idx) else {
        return;
    };
    let pack = st.pack_of(f.uri);
    // The edits are the file format's: a `licence = ...` line in TOML, a cell in CSV.
    let use_licence = |id: &str| {
        let edit = catalogue::format::Edit::Set {
            item: p.span,
            key: "licence".into(),
            value: catalogue::format::Value::Str(id.to_string()),
        };
        proto::text_edits(f, f.format.render(f.text, f.catalogue, &edit), st.encoding)
    };
    let mut fits: Vec<(&catalogue::Licence, &LicenceType)> = st
        .files()
        .into_iter()
        .flat_map(|v| v.catalogue.licences.iter())
        .filter(|l| !l.broken)
        .filter_map(|l| {
            let k = &l.kind.as_ref()?.value;
            licence::problems(
                &pack,
                l,
                p,
                r.as_of,
                &r.classification.codes,
                r.verdict(),
                pack.licence_rule(k)?,
            )
            .is_empty()
            .then_some((l, k))
        })
        .collect();
    // Best first: the most specific licence (named items and end users), then the longest remaining validity.
    fits.sort_by_key(|(l, _)| {
        (
            l.items.is_none(),
            l.end_users.is_none(),
            std::cmp::Reverse(l.expires.as_ref().map(|e| e.value)),
        )
    });
    for (i, (l, _)) in fits.iter().enumerate() {
        let id = l.id_str().unwrap_or_default();
        let edits = use_licence(id);
        if edits.is_empty() {
            continue;
        }
        out.push(action(format!("Use licence {id}"), d, f.uri, edits, i == 0));
    }
    // A stub licence in the licence register (the file with most licences
    // among those whose format holds licences), and the reference to it.
    let register = st
        .files()
        .into_iter()
        .filter(|v| v.format.holds(TableKind::Licence))
        .max_by_key(|v| (v.catalogue.licences.len(), v.uri == f.uri))
        .map(|v| v.uri.clone());
    let Some(reg) = register.as_ref().and_then(|r| st.file(r)) else {
        return;
    };
    let register = reg.uri.clone();
    let new_id = format!("IL-NEW-{}", p.sku_str().unwrap_or("PRODUCT"));
    // The pack's licence type for one end user (else its first), as long as it may run.
    let stub_rule = pack
        .licence_rules
        .iter()
        .find(|r| r.single_end_user())
        .or(pack.licence_rules.first());
    let stub_type = stub_rule.map_or("individual", |r| r.kind.as_str());
    let years = stub_rule.and_then(|r| r.max_validity_years).unwrap_or(1);
    let expires = r
        .as_of
        .checked_add(jiff::Span::new().years(years))
        .ok()
        .and_then(|d| d.yesterday().ok())
        .unwrap_or(r.as_of);
    use catalogue::format::Value;
    let mut fields = vec![
        ("id".to_string(), Value::Str(new_id.clone())),
        ("type".to_string(), Value::Str(stub_type.to_string())),
        ("issued".to_string(), Value::Date(r.as_of)),
        ("expires".to_string(), Value::Date(expires)),
        (
            "items".to_string(),
            Value::Strs(
                r.classification
                    .codes
                    .iter()
                    .map(|c| c.to_string())
                    .collect(),
            ),
        ),
    ];
    if let Some(u) = &p.end_user {
        fields.push(("end_users".into(), Value::Strs(vec![u.value.clone()])));
    }
    if let Some(dst) = &p.destination {
        fields.push(("destinations".into(), Value::Strs(vec![dst.value.clone()])));
    }
    let stub = catalogue::format::Edit::Insert {
        kind: TableKind::Licence,
        fields,
    };
    let stub = proto::text_edits(
        &reg,
        reg.format.render(reg.text, reg.catalogue, &stub),
        st.encoding,
    );
    let reference = use_licence(&new_id);
    if stub.is_empty() || reference.is_empty() {
        return;
    }
    let mut changes: HashMap<Url, Vec<TextEdit>> = HashMap::new();
    changes.entry(register.clone()).or_default().extend(stub);
    changes.entry(f.uri.clone()).or_default().extend(reference);
    out.push(proto::quick_fix(
        format!(
            "Add a licence stub {new_id} to {} and use it",
            register
                .path_segments()
                .and_then(|mut s| s.next_back())
                .unwrap_or("the licence register")
        ),
        Some(d),
        changes,
        fits.is_empty(),
    ));
}
