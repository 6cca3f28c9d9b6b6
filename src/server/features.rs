//! Read-only language features over the server state: hover, code actions,
//! completion, navigation (definition, references, rename, symbols), and
//! each product's verdict as an inlay hint and a code lens (contract §11). Each is a pure function of the state and the request.

use super::state::{FileView, State, lsp_range};
use crate::catalogue::{
    self, Catalogue, Field, Integrate, LicenceType, Mounting, Product, TableKind,
};
use crate::chem::Element;
use crate::diagnostic::Code;
use crate::engine::{ProductResult, Verdict, licence};
use crate::rules::RulePack;
use crate::text::Span;
use std::collections::HashMap;
use std::fmt::Write;
use tower_lsp::lsp_types::*;

/// The table (item) containing a byte offset, whatever the format.
fn table_at(cat: &Catalogue, offset: usize) -> Option<&catalogue::TableRef> {
    catalogue::format::table_at(cat, offset)
}

/// A format's text edits as LSP edits of one file.
fn lsp_edits(st: &State, f: &FileView, edits: Vec<catalogue::format::TextEdit>) -> Vec<TextEdit> {
    edits
        .into_iter()
        .map(|e| TextEdit {
            range: lsp_range(f.text, f.lines, e.span, st.encoding),
            new_text: e.text,
        })
        .collect()
}

fn product_at(cat: &Catalogue, offset: usize) -> Option<(usize, &Product)> {
    let t = table_at(cat, offset).filter(|t| t.kind == TableKind::Product)?;
    cat.products.get(t.index).map(|p| (t.index, &**p))
}

fn inside(span: Span, offset: usize) -> bool {
    span.start() <= offset && offset <= span.end()
}

fn result_for<'a>(st: &'a State, uri: &Url, index: usize) -> Option<&'a ProductResult> {
    st.analyses.get(uri)?.product(index)
}

fn link(url: &str, text: &str) -> String {
    format!("[{text}]({url})")
}

fn verdict_line(r: &ProductResult) -> String {
    let c = &r.classification;
    match c.verdict {
        Verdict::Controlled => format!(
            "**controlled** — {}",
            c.codes
                .iter()
                .enumerate()
                .map(|(n, code)| format!("`{code}` {}", c.titles.get(n).map_or("", |t| &**t)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Verdict::Excluded => format!(
            "**excluded** — `{}`{}",
            c.exclusion.clone().unwrap_or_default(),
            if c.codes.is_empty() {
                String::new()
            } else {
                format!(" (takes {} out of control)", c.codes.join(", "))
            }
        ),
        Verdict::NotControlled => "**not controlled**".into(),
        Verdict::Indeterminate => format!("**indeterminate** — missing {}", c.missing.join(", ")),
    }
}

pub fn hover(st: &State, uri: &Url, pos: Position) -> Option<Hover> {
    let f = st.file(uri)?;
    let offset = f.lines.offset(f.text, pos.line, pos.character, st.encoding);
    let cat = f.catalogue;
    let t = table_at(cat, offset)?;
    let mut md = String::new();
    let range;
    if let Some((span, text)) = super::screening::party_hover(st, uri, &f, t.kind, t.index, offset)
    {
        return Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: text,
            }),
            range: Some(lsp_range(f.text, f.lines, span, st.encoding)),
        });
    }
    match t.kind {
        TableKind::Product => {
            let p = cat.products.get(t.index)?;
            if let Some(l) = p.licence.as_ref().filter(|l| inside(l.span, offset)) {
                range = Some(l.span);
                licence_hover(st, uri, t.index, p, &l.value, &mut md);
            } else if let Some(e) = p
                .composition
                .as_ref()
                .and_then(|c| c.entries.iter().find(|e| inside(e.key_span, offset)))
            {
                range = Some(e.key_span);
                let _ = writeln!(
                    md,
                    "**{}** — {}",
                    e.key,
                    e.shares
                        .iter()
                        .map(|(el, s)| format!(
                            "{} ({}, {:.1} % of it)",
                            el.name(),
                            el.symbol(),
                            s * 100.0
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                let pack = st.pack_of(uri);
                for (el, _) in &e.shares {
                    let items: Vec<String> = pack
                        .items
                        .iter()
                        .filter(|i| i.elements.contains(el))
                        .map(|i| i.code.clone())
                        .collect::<std::collections::BTreeSet<_>>()
                        .into_iter()
                        .collect();
                    if !items.is_empty() {
                        let _ = writeln!(
                            md,
                            "\n{} is a listed element: {}",
                            el.symbol(),
                            items.join(", ")
                        );
                    }
                }
            } else if let Some((span, text)) = enum_value_at(&st.pack_of(uri), p, offset) {
                range = Some(span);
                md.push_str(&text);
            } else {
                range = Some(p.header);
                product_hover(st, uri, t.index, p, &mut md);
            }
        }
        TableKind::Licence => {
            let l = cat.licences.get(t.index)?;
            range = Some(l.header);
            licence_summary(&st.pack_of(uri), l, &mut md);
            md.push_str(&licence_use(st, l));
        }
        _ => return None,
    }
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: md,
        }),
        range: range.map(|s| lsp_range(f.text, f.lines, s, st.encoding)),
    })
}

fn enum_value_at(pack: &RulePack, p: &Product, offset: usize) -> Option<(Span, String)> {
    // The pack's words: what the pack says they mean, or that it does not know them.
    let word = |f: &Option<Field<catalogue::Name>>, describe: &dyn Fn(&str) -> Option<String>| {
        let f = f.as_ref().filter(|f| inside(f.span, offset))?;
        let desc =
            describe(&f.value).unwrap_or_else(|| format!("not a word of rule pack {}", pack.id));
        Some((f.span, format!("`{}`: {desc}", f.value)))
    };
    let v = &pack.vocab;
    fn one<T: Copy>(
        f: &Option<Field<T>>,
        offset: usize,
        d: impl Fn(T) -> (&'static str, &'static str),
    ) -> Option<(Span, String)> {
        let f = f.as_ref().filter(|f| inside(f.span, offset))?;
        let (name, desc) = d(f.value);
        Some((f.span, format!("`{name}`: {desc}")))
    }
    word(&p.form, &|n| v.form(n).map(|d| d.description.clone()))
        .or_else(|| {
            one(&p.mounting, offset, |v: Mounting| {
                (v.as_str(), v.describe())
            })
        })
        .or_else(|| word(&p.transfer, &|n| v.transfer(n).map(|d| d.description.clone())))
        .or_else(|| word(&p.purpose, &|n| v.purpose(n).map(|d| d.description.clone())))
        .or_else(|| {
            let list = p.integrates.as_ref()?;
            let f = list.value.iter().find(|f| inside(f.span, offset))?;
            Some((
                f.span,
                match Integrate::parse(&f.value) {
                    Some(i) => format!("`{}`: {}", f.value, i.describe()),
                    None => format!(
                        "`{}`: an integrated part not among the known names (the FAQ's list is open: it still counts)",
                        f.value
                    ),
                },
            ))
        })
}

fn product_hover(st: &State, uri: &Url, index: usize, p: &Product, md: &mut String) {
    let _ = writeln!(
        md,
        "### {}{}",
        p.sku_str().unwrap_or("(no sku)"),
        p.name
            .as_ref()
            .map(|n| format!(" — {}", n.value))
            .unwrap_or_default()
    );
    let Some(r) = result_for(st, uri, index) else {
        return;
    };
    let pack = st.pack_of(uri);
    let _ = writeln!(
        md,
        "{}\n\nEvaluated as of **{}** with rule pack `{}` {}.\n",
        verdict_line(r),
        r.as_of,
        pack.id,
        pack.version
    );
    let c = &r.classification;
    if let Some(other) = &c.other_reading {
        for a in &c.assumptions {
            if let Some(text) = pack.assumption_text(a.instrument, a.status) {
                let _ = writeln!(
                    md,
                    "**Unconfirmed status** — {text}. Under the other reading: **{}**{}.\n",
                    other.verdict.as_str(),
                    if other.codes.is_empty() {
                        String::new()
                    } else {
                        format!(" {}", other.codes.join(", "))
                    }
                );
            }
        }
    }
    let explained = st.explained(uri, index);
    for step in explained.iter().flat_map(|c| &c.trace) {
        match &step.source {
            Some(s) => {
                let _ = writeln!(md, "- {} — {}", step.text, link(&s.url, &s.cite()));
            }
            None => {
                let _ = writeln!(md, "- {}", step.text);
            }
        }
    }
}

fn licence_summary(pack: &RulePack, l: &catalogue::Licence, md: &mut String) {
    let id = l.id_str().unwrap_or("?");
    let kind = l.kind.as_ref().map(|k| &k.value);
    let _ = writeln!(
        md,
        "### Licence {id}\n{}",
        match kind {
            None => "type not given".to_string(),
            Some(k) => pack.licence_rule(k).map_or_else(
                || format!("`{k}`: not a licence type of rule pack {}", pack.id),
                |r| r.title.clone()
            ),
        }
    );
    if let (Some(i), Some(e)) = (&l.issued, &l.expires) {
        let _ = writeln!(md, "\nValid {} to {} (inclusive).", i.value, e.value);
    }
    let list = |f: &Option<Field<Vec<Field<String>>>>| {
        f.as_ref()
            .map(|v| {
                v.value
                    .iter()
                    .map(|x| x.value.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_else(|| "not limited".into())
    };
    let _ = writeln!(
        md,
        "\n- items: {}\n- end users: {}\n- destinations: {}",
        list(&l.items),
        list(&l.end_users),
        list(&l.destinations)
    );
    if let Some(r) = kind.and_then(|k| pack.licence_rule(k)) {
        let s = pack.source(r.instrument, &r.article);
        let _ = writeln!(md, "\n{} — {}", r.explanation, link(&s.url, &s.cite()));
    }
}

fn licence_hover(st: &State, uri: &Url, index: usize, p: &Product, id: &str, md: &mut String) {
    let files = st.files();
    let Some(l) = files
        .iter()
        .flat_map(|f| f.catalogue.licences.iter())
        .find(|l| l.id_str() == Some(id))
    else {
        let _ = writeln!(md, "Licence `{id}` is not defined in the workspace.");
        return;
    };
    let pack = st.pack_of(uri);
    licence_summary(&pack, l, md);
    md.push_str(&licence_use(st, l));
    if let (Some(r), Some(rule)) = (
        result_for(st, uri, index),
        l.kind.as_ref().and_then(|k| pack.licence_rule(&k.value)),
    ) {
        let problems = licence::problems(
            &pack,
            l,
            p,
            r.as_of,
            &r.classification.codes,
            r.verdict(),
            rule,
        );
        if problems.is_empty() {
            let _ = writeln!(md, "\n✔ Covers this export on {}.", r.as_of);
        } else {
            let _ = writeln!(md, "\n✘ Does not cover this export on {}:", r.as_of);
            for (_, m) in problems {
                let _ = writeln!(md, "- {m}");
            }
        }
    }
}

/// A licence's use by the workspace's exports (v2 §4a), for its hover.
fn licence_use(st: &State, l: &catalogue::Licence) -> String {
    let Some(ledger) = st.ledger.as_deref() else {
        return String::new();
    };
    let files = st.files();
    crate::engine::exports::licence_markdown(l, ledger, |e| {
        let Some(f) = files.get(e.file) else {
            return String::new();
        };
        let (what, header) = match e.source {
            crate::engine::exports::Source::Product(i) => {
                ("product", f.catalogue.products.get(i).map(|p| p.header))
            }
            crate::engine::exports::Source::Shipment(i) => {
                ("shipment", f.catalogue.shipments.get(i).map(|x| x.header))
            }
        };
        let sku = files
            .get(e.product.0)
            .and_then(|pf| pf.catalogue.products.get(e.product.1))
            .and_then(|p| p.sku_str())
            .unwrap_or("?");
        let line = header.map_or(0, |h| f.lines.line_of(h.start()) + 1);
        let name = f
            .uri
            .path_segments()
            .and_then(|mut s| s.next_back())
            .unwrap_or("");
        format!("`{sku}` ({what}, {name}:{line})")
    })
}

/// Quick fixes for the diagnostics of a range.
pub fn code_actions(st: &State, uri: &Url, range: Range) -> Vec<CodeActionOrCommand> {
    let Some(f) = st.file(uri) else { return vec![] };
    let Some(res) = st.analyses.get(uri) else {
        return vec![];
    };
    let start = f
        .lines
        .offset(f.text, range.start.line, range.start.character, st.encoding);
    let end = f
        .lines
        .offset(f.text, range.end.line, range.end.character, st.encoding);
    let mut out = Vec::new();
    for (moved, d) in res.diagnostics() {
        let at = (
            d.span.start().saturating_add_signed(moved),
            d.span.end().saturating_add_signed(moved),
        );
        if at.1 < start || at.0 > end {
            continue;
        }
        let d = &*super::state::placed(moved, d);
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
                out.extend(super::screening::screening_action(st, uri, &f, d, ld));
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
                        vec![TextEdit {
                            range: ld.range,
                            new_text,
                        }],
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
    let range = lsp_range(f.text, f.lines, Span::new(at, at), st.encoding);
    Some(CodeActionOrCommand::CodeAction(CodeAction {
        title: format!("Add a [[shipment]] of {sku}"),
        kind: Some(CodeActionKind::QUICKFIX),
        edit: Some(WorkspaceEdit {
            changes: Some(HashMap::from([(
                uri.clone(),
                vec![TextEdit { range, new_text }],
            )])),
            ..Default::default()
        }),
        ..Default::default()
    }))
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
    CodeActionOrCommand::CodeAction(CodeAction {
        title,
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![d.clone()]),
        edit: Some(WorkspaceEdit {
            changes: Some(HashMap::from([(uri.clone(), edits)])),
            ..Default::default()
        }),
        is_preferred: preferred.then_some(true),
        ..Default::default()
    })
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
        lsp_edits(st, f, f.format.render(f.text, f.catalogue, &edit))
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
    let stub = lsp_edits(st, &reg, reg.format.render(reg.text, reg.catalogue, &stub));
    let reference = use_licence(&new_id);
    if stub.is_empty() || reference.is_empty() {
        return;
    }
    let mut changes: HashMap<Url, Vec<TextEdit>> = HashMap::new();
    changes.entry(register.clone()).or_default().extend(stub);
    changes.entry(f.uri.clone()).or_default().extend(reference);
    out.push(CodeActionOrCommand::CodeAction(CodeAction {
        title: format!(
            "Add a licence stub {new_id} to {} and use it",
            register
                .path_segments()
                .and_then(|mut s| s.next_back())
                .unwrap_or("the licence register")
        ),
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![d.clone()]),
        edit: Some(WorkspaceEdit {
            changes: Some(changes),
            ..Default::default()
        }),
        is_preferred: fits.is_empty().then_some(true),
        ..Default::default()
    }));
}

/// Completion items at a position.
pub fn completion(st: &State, uri: &Url, pos: Position) -> Vec<CompletionItem> {
    let Some(f) = st.file(uri) else { return vec![] };
    let offset = f.lines.offset(f.text, pos.line, pos.character, st.encoding);
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

fn completion_item(label: &str, detail: &str, k: CompletionItemKind) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        detail: (!detail.is_empty()).then(|| detail.to_string()),
        kind: Some(k),
        ..Default::default()
    }
}

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

/// A reference under the cursor: a licence id or a SKU, with the span of the string.
pub enum Target {
    Licence(String),
    Sku(String),
}

/// The licence id or SKU at an LSP position of a file.
pub fn target_at_position(st: &State, uri: &Url, pos: Position) -> Option<Target> {
    let f = st.file(uri)?;
    target_at(
        f.catalogue,
        f.lines.offset(f.text, pos.line, pos.character, st.encoding),
    )
}

pub fn target_at(cat: &Catalogue, offset: usize) -> Option<Target> {
    let t = table_at(cat, offset)?;
    match t.kind {
        TableKind::Product => {
            let p = cat.products.get(t.index)?;
            if let Some(l) = p.licence.as_ref().filter(|l| inside(l.span, offset)) {
                return Some(Target::Licence(l.value.clone()));
            }
            if let Some(c) = p
                .components
                .as_ref()
                .and_then(|c| c.value.iter().find(|s| inside(s.span, offset)))
            {
                return Some(Target::Sku(c.value.clone()));
            }
            p.sku
                .as_ref()
                .filter(|s| inside(s.span, offset))
                .map(|s| Target::Sku(s.value.clone()))
        }
        TableKind::Licence => cat
            .licences
            .get(t.index)?
            .id
            .as_ref()
            .filter(|s| inside(s.span, offset))
            .map(|s| Target::Licence(s.value.clone())),
        _ => None,
    }
}

/// Every occurrence of a target: (uri, span of the quoted string, is_definition).
pub fn occurrences(st: &State, target: &Target) -> Vec<(Url, Span, bool)> {
    let mut out = Vec::new();
    for f in st.files() {
        for p in &f.catalogue.products {
            match target {
                Target::Licence(id) => {
                    if let Some(l) = p.licence.as_ref().filter(|l| &l.value == id) {
                        out.push((f.uri.clone(), l.span, false));
                    }
                }
                Target::Sku(sku) => {
                    if let Some(s) = p.sku.as_ref().filter(|s| &s.value == sku) {
                        out.push((f.uri.clone(), s.span, true));
                    }
                    for c in p
                        .components
                        .iter()
                        .flat_map(|c| c.value.iter())
                        .filter(|c| &c.value == sku)
                    {
                        out.push((f.uri.clone(), c.span, false));
                    }
                }
            }
        }
        if let Target::Licence(id) = target {
            for l in &f.catalogue.licences {
                if let Some(s) = l.id.as_ref().filter(|s| &s.value == id) {
                    out.push((f.uri.clone(), s.span, true));
                }
            }
        }
    }
    out
}

pub fn location(st: &State, uri: &Url, span: Span) -> Option<Location> {
    let f = st.file(uri)?;
    Some(Location {
        uri: uri.clone(),
        range: lsp_range(f.text, f.lines, span, st.encoding),
    })
}

/// Renames a licence id or SKU everywhere; the new name must be a plain string.
pub fn rename(st: &State, target: &Target, new_name: &str) -> WorkspaceEdit {
    let mut changes: HashMap<Url, Vec<TextEdit>> = HashMap::new();
    for (uri, span, _) in occurrences(st, target) {
        if let Some(loc) = location(st, &uri, span) {
            // Written as the file's format writes a string (quoted in TOML, a cell in CSV).
            let format = st.file(&uri).map(|f| f.format).unwrap_or_default();
            changes.entry(uri).or_default().push(TextEdit {
                range: loc.range,
                new_text: format.replacement(new_name, true),
            });
        }
    }
    WorkspaceEdit {
        changes: Some(changes),
        ..Default::default()
    }
}

/// The outline: one symbol per table, without children; a product's detail
/// is its verdict in one word. Editors ask for it after every edit
/// (breadcrumbs, sticky scroll), so every byte counts: 10 000 products.
#[cfg(test)] // the typed reference `symbols::outline_json` is tested against (≤ 1 000 products)
#[allow(deprecated)] // DocumentSymbol::deprecated is a required field
pub fn document_symbols(st: &State, uri: &Url) -> Vec<DocumentSymbol> {
    let Some(f) = st.file(uri) else { return vec![] };
    let res = st.analyses.get(uri);
    let mut out = Vec::with_capacity(f.catalogue.tables.len());
    for t in &f.catalogue.tables {
        let (name, detail, kind) = match t.kind {
            TableKind::Product => {
                let Some(p) = f.catalogue.products.get(t.index) else {
                    continue;
                };
                let verdict = res.and_then(|r| r.product(t.index)).map(|r| r.verdict());
                (
                    p.sku_str().unwrap_or("(no sku)").to_string(),
                    verdict.map(|v| v.as_str().to_string()),
                    SymbolKind::OBJECT,
                )
            }
            TableKind::Licence => {
                let Some(l) = f.catalogue.licences.get(t.index) else {
                    continue;
                };
                (
                    l.id_str().unwrap_or("(no id)").to_string(),
                    l.kind.as_ref().map(|k| k.value.as_str().to_string()),
                    SymbolKind::KEY,
                )
            }
            TableKind::Catalogue => ("catalogue".to_string(), None, SymbolKind::NAMESPACE),
            _ => continue,
        };
        out.push(DocumentSymbol {
            name,
            detail,
            kind,
            tags: None,
            deprecated: None,
            range: lsp_range(f.text, f.lines, t.span, st.encoding),
            selection_range: lsp_range(f.text, f.lines, t.header, st.encoding),
            children: None,
        });
    }
    out
}

#[allow(deprecated)]
pub fn workspace_symbols(st: &State, query: &str) -> Vec<SymbolInformation> {
    let q = query.to_lowercase();
    let mut out = Vec::new();
    for f in st.files() {
        let mut add = |name: &str, kind: SymbolKind, span: Span| {
            if name.to_lowercase().contains(&q) && out.len() < 1000 {
                out.push(SymbolInformation {
                    name: name.to_string(),
                    kind,
                    tags: None,
                    deprecated: None,
                    location: Location {
                        uri: f.uri.clone(),
                        range: lsp_range(f.text, f.lines, span, st.encoding),
                    },
                    container_name: None,
                });
            }
        };
        for p in &f.catalogue.products {
            if let Some(s) = p.sku_str() {
                add(s, SymbolKind::OBJECT, p.header);
            }
        }
        for l in &f.catalogue.licences {
            if let Some(s) = l.id_str() {
                add(s, SymbolKind::KEY, l.header);
            }
        }
    }
    out
}

/// A product's verdict in one line (contract §11): the verdict, its codes
/// or exclusion, and the licence it names.
pub fn verdict_text(r: &ProductResult) -> String {
    let c = &r.classification;
    let mut s = match c.verdict {
        Verdict::Controlled => format!("controlled {}", c.codes.join(", ")),
        Verdict::Excluded => format!("excluded: {}", c.exclusion.as_deref().unwrap_or("")),
        Verdict::NotControlled => "not-controlled".into(),
        Verdict::Indeterminate if c.missing.is_empty() => "indeterminate".into(),
        Verdict::Indeterminate => format!("indeterminate: missing {}", c.missing.join(", ")),
    };
    match (&r.licence, c.verdict) {
        (Some(l), _) => {
            let _ = write!(s, " · licence {l}");
        }
        (None, Verdict::Controlled) => s.push_str(" · no licence"),
        _ => {}
    }
    s
}

/// The product tables whose header lies in `range` (or touches it), found
/// by binary search: editors ask for the visible lines after every edit.
fn products_in<'a>(
    f: &'a FileView,
    range: Range,
    enc: crate::text::Encoding,
) -> impl Iterator<Item = &'a catalogue::TableRef> + 'a {
    let a = f
        .lines
        .offset(f.text, range.start.line, range.start.character, enc);
    let b = f
        .lines
        .offset(f.text, range.end.line, range.end.character, enc);
    let tables = &f.catalogue.tables;
    let first = tables.partition_point(|t| t.header.end() < a);
    tables[first..]
        .iter()
        .take_while(move |t| t.header.start() <= b)
        .filter(|t| t.kind == TableKind::Product)
}

/// Each product's verdict after its header, for the requested range only.
pub fn inlay_hints(st: &State, uri: &Url, range: Range) -> Vec<InlayHint> {
    let Some(f) = st.file(uri) else { return vec![] };
    let Some(res) = st.analyses.get(uri) else {
        return vec![];
    };
    products_in(&f, range, st.encoding)
        .filter_map(|t| {
            let r = res.product(t.index)?;
            let (l, c) = f.lines.position(f.text, t.header.end(), st.encoding);
            Some(InlayHint {
                position: Position::new(l, c),
                label: InlayHintLabel::String(verdict_text(r)),
                kind: None,
                text_edits: None,
                tooltip: None,
                padding_left: Some(true),
                padding_right: None,
                data: None,
            })
        })
        .collect()
}

/// The code lens of a table: a product's verdict and what is left of its
/// licence, a licence's use (v2 §4a); None for other tables.
pub(super) fn lens_title(
    st: &State,
    cat: &Catalogue,
    res: &super::state::FileAnalysis,
    t: &catalogue::TableRef,
) -> Option<String> {
    let ledger = st.ledger.as_deref();
    match t.kind {
        TableKind::Licence => {
            let l = cat.licences.get(t.index)?;
            let b = ledger.and_then(|x| x.balance(l.id_str()?));
            Some(crate::engine::exports::licence_line(l, b))
        }
        TableKind::Product => {
            let r = res.product(t.index)?;
            let left = r
                .licence
                .as_deref()
                .zip(ledger)
                .and_then(|(id, x)| crate::engine::exports::left_line(x, id))
                .map(|l| format!(" · {l}"))
                .unwrap_or_default();
            Some(format!("{}{left}", verdict_text(r)))
        }
        _ => None,
    }
}

/// Each product's verdict above its header (the request has no range).
/// The lens runs no command: it is a label.
pub fn code_lenses(st: &State, uri: &Url) -> Vec<CodeLens> {
    let Some(f) = st.file(uri) else { return vec![] };
    let Some(res) = st.analyses.get(uri) else {
        return vec![];
    };
    f.catalogue
        .tables
        .iter()
        .filter(|t| matches!(t.kind, TableKind::Product | TableKind::Licence))
        .filter_map(|t| {
            let title = lens_title(st, f.catalogue, res, t)?;
            Some(CodeLens {
                range: lsp_range(f.text, f.lines, t.header, st.encoding),
                command: Some(Command {
                    title,
                    command: String::new(),
                    arguments: None,
                }),
                data: None,
            })
        })
        .collect()
}
