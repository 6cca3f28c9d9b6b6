//! Completion: table headers and the keys a table does not have yet (a CSV
//! header's missing columns), and the values a field may take: the file's
//! pack's words, the format's enumerations, the workspace's SKUs and licence
//! ids, countries, elements and control codes.

use super::table_at;
use crate::catalogue::{self, Integrate, Mounting, TableKind};
use crate::chem::Element;
use crate::server::proto;
use crate::server::state::State;
use tower_lsp::lsp_types::*;

/// Completion items at a position.
pub fn completion(st: &State, uri: &Url, pos: Position) -> Vec<CompletionItem> {
    let Some(f) = st.file(uri) else { return vec![] };
    let offset = proto::offset(&f, pos, st.encoding);
    if let catalogue::Format::Csv(csv) = f.format {
        // A cell: its column's values; a header cell: the columns not there yet.
        let Some((key, in_value)) = f.format.key_at(f.text, f.catalogue, offset) else {
            return vec![];
        };
        if !in_value {
            let present = table_at(f.catalogue, offset)
                .map(|t| f.format.present_keys(f.text, f.catalogue, t))
                .unwrap_or_default();
            return csv
                .keys()
                .iter()
                .filter(|k| !present.iter().any(|p| p == *k))
                .map(|k| completion_item(k, "column", CompletionItemKind::FIELD))
                .collect();
        }
        return value_items(st, uri, csv.table(), &key, key == "composition");
    }
    let line_start = f.lines.line_start(f.lines.line_of(offset));
    let before = &f.text[line_start..offset];
    let kind = table_at(f.catalogue, offset)
        .map(|t| t.kind)
        .unwrap_or(TableKind::Root);
    let item = completion_item;
    if before.trim_start().starts_with('[') || kind == TableKind::Root && !before.contains('=') {
        return ["[[product]]", "[[licence]]", "[[shipment]]", "[catalogue]"]
            .iter()
            .map(|h| item(h, "table", CompletionItemKind::MODULE))
            .collect();
    }
    let Some(eq) = before.find('=') else {
        // Keys of the current table not yet present.
        let (keys, present): (&[&str], Vec<String>) = match kind {
            TableKind::Product => (
                catalogue::PRODUCT_KEYS,
                table_at(f.catalogue, offset)
                    .map(|t| f.format.present_keys(f.text, f.catalogue, t))
                    .unwrap_or_default(),
            ),
            TableKind::Licence => (catalogue::LICENCE_KEYS, vec![]),
            TableKind::Catalogue => (catalogue::CATALOGUE_KEYS, vec![]),
            TableKind::Shipment => (
                catalogue::SHIPMENT_KEYS,
                table_at(f.catalogue, offset)
                    .map(|t| catalogue::parse::table_keys(f.text, t.span, "shipment"))
                    .unwrap_or_default(),
            ),
            _ => (&[], vec![]),
        };
        return keys
            .iter()
            .filter(|k| !present.iter().any(|p| p == *k))
            .map(|k| item(k, "key", CompletionItemKind::FIELD))
            .collect();
    };
    let key = before[..eq].trim();
    let value = &before[eq + 1..];
    let in_inline_key =
        value.contains('{') && !value.rsplit(['{', ',']).next().unwrap_or("").contains('=');
    value_items(st, uri, kind, key, in_inline_key)
}

use proto::completion_item;

/// The values a field of a table may take (`in_inline_key`: the cursor is on
/// a composition key, where elements are offered).
fn value_items(
    st: &State,
    uri: &Url,
    kind: TableKind,
    key: &str,
    in_inline_key: bool,
) -> Vec<CompletionItem> {
    let item = completion_item;
    let values = |names: Vec<&'static str>,
                  describe: &dyn Fn(&str) -> &'static str|
     -> Vec<CompletionItem> {
        names
            .into_iter()
            .map(|n| item(n, describe(n), CompletionItemKind::ENUM_MEMBER))
            .collect()
    };
    // The pack's words with what they mean.
    let words = |ws: Vec<(&str, &str)>| -> Vec<CompletionItem> {
        ws.into_iter()
            .map(|(n, d)| item(n, d, CompletionItemKind::ENUM_MEMBER))
            .collect()
    };
    // The file's own pack: the one its verdicts come from.
    let pack = st.pack_of(uri);
    match (kind, key) {
        (TableKind::Product, "form") => words(
            pack.vocab
                .forms
                .iter()
                .map(|d| (d.id.as_str(), d.description.as_str()))
                .collect(),
        ),
        (TableKind::Product, "mounting") => values(Mounting::names(), &|n| {
            Mounting::parse(n).map(Mounting::describe).unwrap_or("")
        }),
        (TableKind::Product, "integrates") => values(Integrate::names(), &|n| {
            Integrate::parse(n).map(Integrate::describe).unwrap_or("")
        }),
        (TableKind::Product | TableKind::Licence | TableKind::Shipment, "unit") => {
            values(catalogue::Unit::names(), &|n| {
                catalogue::Unit::parse(n)
                    .map(catalogue::Unit::describe)
                    .unwrap_or("")
            })
        }
        (TableKind::Product | TableKind::Shipment, "transfer") => words(
            pack.vocab
                .transfers
                .iter()
                .map(|d| (d.id.as_str(), d.description.as_str()))
                .collect(),
        ),
        (TableKind::Product | TableKind::Licence | TableKind::Shipment, "purpose" | "purposes") => {
            words(
                pack.vocab
                    .purposes
                    .iter()
                    .map(|d| (d.id.as_str(), d.description.as_str()))
                    .collect(),
            )
        }
        (TableKind::Licence, "type") => words(
            pack.licence_rules
                .iter()
                .map(|r| (r.kind.as_str(), r.title.as_str()))
                .collect(),
        ),
        (TableKind::Product | TableKind::Catalogue, "moulded" | "calcined") => vec![
            item("true", "", CompletionItemKind::VALUE),
            item("false", "", CompletionItemKind::VALUE),
        ],
        (TableKind::Product | TableKind::Shipment, "licence") => st
            .files()
            .iter()
            .flat_map(|v| v.catalogue.licences.iter())
            .filter_map(|l| {
                Some(item(
                    l.id_str()?,
                    l.kind.as_ref().map(|k| k.value.as_str()).unwrap_or(""),
                    CompletionItemKind::REFERENCE,
                ))
            })
            .collect(),
        (TableKind::Product, "components") | (TableKind::Shipment, "sku") => st
            .files()
            .iter()
            .flat_map(|v| v.catalogue.products.iter())
            .filter_map(|p| {
                Some(item(
                    p.sku_str()?,
                    p.form.as_ref().map(|x| x.value.as_str()).unwrap_or(""),
                    CompletionItemKind::REFERENCE,
                ))
            })
            .collect(),
        (
            TableKind::Product | TableKind::Licence | TableKind::Shipment,
            "destination" | "destinations",
        ) => catalogue::countries::all()
            .map(|c| item(c, "ISO 3166-1", CompletionItemKind::CONSTANT))
            .collect(),
        (TableKind::Product, "composition") if in_inline_key => crate::chem::ELEMENTS
            .iter()
            .enumerate()
            .map(|(i, (sym, name, _))| {
                let listed = pack
                    .items
                    .iter()
                    .any(|it| it.elements.contains(&Element(i as u8)));
                item(
                    sym,
                    &format!("{name}{}", if listed { " — listed element" } else { "" }),
                    CompletionItemKind::CONSTANT,
                )
            })
            .collect(),
        (TableKind::Product, "control_code") | (TableKind::Licence, "items") => pack
            .items
            .iter()
            .map(|i| (i.code.clone(), i.title.clone()))
            .collect::<std::collections::BTreeMap<_, _>>()
            .into_iter()
            .map(|(c, t)| item(&c, &t, CompletionItemKind::CONSTANT))
            .collect(),
        _ => vec![],
    }
}
