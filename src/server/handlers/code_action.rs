//! Code actions (quick fixes) for the diagnostics of a range: a
//! diagnostic's mechanical replacements, a licence that covers a product
//! missing one (or a licence stub in the licence register), a `[[screening]]`
//! record (from `server::screening`), and a shipment of the product under the
//! cursor. Every edit is rendered by the file's format
//! (`catalogue::format::Format::render`), never written here.

use super::{product_at, result_for};
use crate::catalogue::csv::CsvKind;
use crate::catalogue::{self, LicenceType, Product, TableKind};
use crate::diagnostic::Code;
use crate::engine::licence;
use crate::server::proto;
use crate::server::state::{FileView, State};
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
                let current = f.text.get(d.span.start()..d.span.end()).unwrap_or_default();
                for (i, r) in d
                    .fix
                    .replacements
                    .iter()
                    .take(if d.code == Code::InvalidValue { 12 } else { 3 })
                    .enumerate()
                {
                    // A string is written as the format writes one (in CSV
                    // the whole cell, so a list cell stays well-formed).
                    let edit = if d.fix.quote {
                        match f.format.replace_string(f.text, f.catalogue, d.span, r) {
                            Ok(e) => e,
                            Err(_) => continue,
                        }
                    } else {
                        crate::catalogue::format::TextEdit {
                            span: d.span,
                            text: f.format.replacement(r, false),
                        }
                    };
                    if edit.span == d.span && edit.text == current {
                        continue;
                    }
                    let title = format!("Replace with {}", f.format.replacement(r, d.fix.quote));
                    out.push(action(
                        title,
                        ld,
                        uri,
                        proto::text_edits(&f, vec![edit], st.encoding),
                        i == 0,
                    ));
                }
            }
            _ => {}
        }
    }
    if let Some((_, p)) = product_at(f.catalogue, start) {
        out.extend(shipment_skeleton(st, &f, p));
    }
    out
}

/// What a new shipment leaves to fill in, said where the format has
/// comments (TOML).
const SHIPMENT_TO_FILL: [&str; 4] = [
    "TO FILL IN: ship_date = YYYY-MM-DD (required: the shipment is reported as missing it until then),",
    "and its amount: quantity with unit (\"kg\", \"g\", \"t\" or \"pcs\"), value with currency (e.g. \"CNY\").",
    "Not given: destination, end_user, importer, licence, end_use, contract, euc, transfer and",
    "purpose are the product's; write any that differ for this shipment.",
];

/// Adds a shipment of the product (v2 §4a): the SKU filled in, nothing
/// invented; `ship_date` stays missing (reported until it is written).
/// Where it goes is the format's to say: after the product's table when its
/// file holds shipments (TOML, with comments saying what to fill in); for a
/// product of a CSV catalogue, a row of a `*.shipments.csv` in the same
/// folder (the one with most shipments). None when no such file exists: a
/// product CSV cannot hold a shipment, and a shipments file is not invented.
fn shipment_skeleton(st: &State, f: &FileView, p: &Product) -> Option<CodeActionOrCommand> {
    use catalogue::format::{Edit, Value};
    let sku = p.sku_str()?;
    let fields = vec![("sku".to_string(), Value::Str(sku.to_string()))];
    let (target, edit) = if f.format.holds(TableKind::Shipment) {
        let to_fill = SHIPMENT_TO_FILL.iter().map(|l| l.to_string()).collect();
        let edit = Edit::InsertAfter {
            item: Some(p.span),
            kind: TableKind::Shipment,
            fields,
            to_fill,
        };
        (f.uri.clone(), edit)
    } else {
        let folder = f.uri.join(".").ok();
        let target = st
            .files()
            .into_iter()
            .filter(|v| v.format == catalogue::Format::Csv(CsvKind::Shipments))
            .filter(|v| folder.is_some() && v.uri.join(".").ok() == folder)
            .max_by_key(|v| {
                (
                    v.catalogue.shipments.len(),
                    std::cmp::Reverse(v.uri.clone()),
                )
            })?
            .uri
            .clone();
        let edit = Edit::Insert {
            kind: TableKind::Shipment,
            fields,
        };
        (target, edit)
    };
    let t = st.file(&target)?;
    let edits = proto::text_edits(&t, t.format.render(t.text, t.catalogue, &edit), st.encoding);
    if edits.is_empty() {
        return None;
    }
    let title = if target == *f.uri {
        format!("Add a [[shipment]] of {sku}")
    } else {
        let name = target
            .path_segments()
            .and_then(|mut s| s.next_back())
            .unwrap_or("the shipments file");
        format!("Add a shipment of {sku} to {name}")
    };
    Some(proto::quick_fix(
        title,
        None,
        HashMap::from([(target, edits)]),
        false,
    ))
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
        .filter(|l| !l.broken && l.invalid.is_empty())
        .filter_map(|l| {
            let k = &l.kind.as_ref()?.value;
            licence::problems(
                &pack,
                l,
                p,
                r.as_of,
                &r.classification.codes,
                r.verdict(),
                Some(pack.licence_rule(k)?),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Code;
    use crate::server::document::Document;

    /// The state with these files open (format by name), analysed.
    fn open(files: &[(&str, &str)]) -> (State, Vec<Url>) {
        let mut st = State::default();
        let uris: Vec<Url> = files
            .iter()
            .map(|(n, _)| Url::parse(&format!("file:///{n}")).unwrap())
            .collect();
        for ((name, text), uri) in files.iter().zip(&uris) {
            let format = catalogue::Format::of_file_name(name);
            st.docs.insert(
                uri.clone(),
                Document::with_format(text.to_string(), 1, format),
            );
        }
        st.analyse(&uris, None);
        (st, uris)
    }

    /// The shipment quick fixes offered on line `line` of `uri`: (title, file edited, its edits).
    fn shipment_fixes(st: &State, uri: &Url, line: u32) -> Vec<(String, Url, Vec<TextEdit>)> {
        let at = Range::new(Position::new(line, 0), Position::new(line, 0));
        code_actions(st, uri, at)
            .into_iter()
            .filter_map(|a| match a {
                CodeActionOrCommand::CodeAction(a) if a.title.contains("shipment") => {
                    let (file, edits) = a.edit?.changes?.into_iter().next()?;
                    Some((a.title, file, edits))
                }
                _ => None,
            })
            .collect()
    }

    /// The screening record of a possible listed party is written by the
    /// file's format: a `[[screening]]` table at the end of a TOML file, and
    /// no fix in a CSV file, which cannot hold one (it was TOML text before).
    #[test]
    fn a_screening_record_only_where_the_format_holds_one() {
        let list = include_str!("../../../tests/parties/fictional.parties.toml");
        let fixes = |name: &str, text: &str, line: u32| {
            let mut st = State::default();
            st.parties = std::sync::Arc::new(crate::parties::PartyList::parse(list, "t").unwrap());
            let uri = Url::parse(&format!("file:///w/{name}")).unwrap();
            let format = catalogue::Format::of_file_name(name);
            st.docs
                .insert(uri.clone(), Document::with_format(text.into(), 1, format));
            st.analyse(std::slice::from_ref(&uri), None);
            let found = st.analyses[&uri]
                .diagnostics()
                .any(|(_, d)| d.code == Code::PossibleListedParty);
            let at = Range::new(Position::new(line, 0), Position::new(line, 200));
            let titles: Vec<String> = code_actions(&st, &uri, at)
                .into_iter()
                .filter_map(|a| match a {
                    CodeActionOrCommand::CodeAction(a) if a.title.starts_with("Record") => {
                        Some(a.title)
                    }
                    _ => None,
                })
                .collect();
            (found, titles)
        };
        let toml =
            "[[product]]\nsku = \"A\"\nform = \"magnet\"\nend_user = \"Zephir Dynamo Works\"\n";
        let (found, titles) = fixes("a.catalogue.toml", toml, 3);
        assert!(found, "the TOML case has the diagnostic");
        assert_eq!(titles.len(), 1, "{titles:?}");
        let csv = "sku,form,end_user\nA,magnet,Zephir Dynamo Works\n";
        let (found, titles) = fixes("a.catalogue.csv", csv, 1);
        assert!(found, "the CSV case has the diagnostic");
        assert_eq!(titles, Vec::<String>::new());
    }

    /// In TOML the shipment goes after the product's table, written by the
    /// format with comments on what to fill in (the text it always had).
    #[test]
    fn a_toml_product_gets_a_shipment_table_after_it() {
        let text = "[[product]]\nsku = \"A\"\nform = \"magnet\"\n\n[[product]]\nsku = \"B\"\n";
        let (st, uris) = open(&[("w/a.catalogue.toml", text)]);
        let fixes = shipment_fixes(&st, &uris[0], 1);
        let [(title, file, edits)] = fixes.as_slice() else {
            panic!("one shipment fix: {fixes:?}");
        };
        assert_eq!(title, "Add a [[shipment]] of A");
        assert_eq!(file, &uris[0]);
        assert_eq!(edits.len(), 1);
        assert_eq!(
            edits[0].range,
            Range::new(Position::new(4, 0), Position::new(4, 0))
        );
        assert_eq!(
            edits[0].new_text,
            "[[shipment]]\nsku = \"A\"\n# TO FILL IN: ship_date = YYYY-MM-DD (required: the shipment is reported as missing it until then),\n# and its amount: quantity with unit (\"kg\", \"g\", \"t\" or \"pcs\"), value with currency (e.g. \"CNY\").\n# Not given: destination, end_user, importer, licence, end_use, contract, euc, transfer and\n# purpose are the product's; write any that differ for this shipment.\n\n"
        );
    }

    /// A product CSV holds no shipment: the fix writes a row of the
    /// `*.shipments.csv` in the same folder, and is not offered when there
    /// is none there (a shipments file elsewhere is not this catalogue's).
    #[test]
    fn a_csv_product_gets_a_row_of_the_shipments_csv_beside_it_or_nothing() {
        let products = "sku,form,composition\nA,magnet,Nd=30; Fe=70\n";
        let shipped = "sku,ship_date,quantity,unit\nA,2026-02-01,5,kg\n";
        let (st, uris) = open(&[
            ("w/a.catalogue.csv", products),
            ("w/s.shipments.csv", shipped),
            ("other/t.shipments.csv", shipped),
        ]);
        let fixes = shipment_fixes(&st, &uris[0], 1);
        let [(title, file, edits)] = fixes.as_slice() else {
            panic!("one shipment fix: {fixes:?}");
        };
        assert_eq!(title, "Add a shipment of A to s.shipments.csv");
        assert_eq!(file, &uris[1]);
        assert_eq!(edits.len(), 1);
        assert_eq!(
            edits[0].range,
            Range::new(Position::new(2, 0), Position::new(2, 0))
        );
        assert_eq!(edits[0].new_text, "A,,,\n");

        let (st, uris) = open(&[
            ("w/a.catalogue.csv", products),
            ("other/t.shipments.csv", shipped),
        ]);
        assert_eq!(shipment_fixes(&st, &uris[0], 1), vec![]);
    }
}
