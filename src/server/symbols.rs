//! The answers editors ask for again after every edit, written straight to
//! JSON and cached: the outline (`textDocument/documentSymbol`) and the code
//! lenses (`textDocument/codeLens`). (Pulled diagnostics are written from
//! the publication's bytes by `workspace_diag`.)
//!
//! tower-lsp turns a typed answer into a `serde_json::Value` tree (with
//! ordered maps) and then into bytes: for the 10 000 symbols of a
//! 10 000-product outline that took ~10 times as long as building the
//! symbols. These answers are written as bytes once per version of the
//! document and of its analysis, kept, and sent as a frame that shares them
//! (see `wire::Frame`): an editor asking twice for one version (VS Code's
//! outline, breadcrumbs and sticky scroll) gets the same bytes again.
//! The JSON is what `handlers::document_symbols` and `handlers::code_lenses`
//! would give (a unit test compares them).

use super::state::{FileAnalysis, State, lsp_range};
use super::wire::{Frame, string};
use crate::catalogue::{Catalogue, TableKind, TableRef};
use crate::diagnostic::{Diagnostic, Severity};
use crate::text::Span;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tower_lsp::lsp_types::{Range, Url};

/// Which answer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Kind {
    Symbols,
    Lenses,
}

impl Kind {
    pub fn of(method: &str) -> Option<Kind> {
        match method {
            "textDocument/documentSymbol" => Some(Kind::Symbols),
            "textDocument/codeLens" => Some(Kind::Lenses),
            _ => None,
        }
    }
}

/// The answers kept: per document and kind, the version of the document
/// and the serial of its analysis they were computed from.
#[derive(Default)]
pub struct Cache {
    kept: Mutex<HashMap<(Url, Kind), Kept>>,
}

/// An answer and what it was computed from.
type Kept = (Key, Arc<Vec<u8>>);

/// The document's version and its analysis's serial.
type Key = (Option<i32>, u64);

impl Cache {
    /// The JSON of the answer for `uri` (`null` for a file the server does
    /// not know), from the cache when nothing changed since.
    pub fn answer(&self, st: &State, uri: &Url, kind: Kind) -> Arc<Vec<u8>> {
        let key = (
            st.docs.get(uri).map(|d| d.version),
            st.analyses.get(uri).map_or(0, |a| a.serial),
        );
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((k, bytes)) = kept.get(&(uri.clone(), kind)) {
            if *k == key && st.file(uri).is_some() {
                return bytes.clone();
            }
        }
        let t = std::time::Instant::now();
        let bytes = Arc::new(match kind {
            Kind::Symbols => outline_json(st, uri),
            Kind::Lenses => lenses_json(st, uri),
        });
        tracing::debug!(
            ?kind,
            ms = t.elapsed().as_secs_f64() * 1e3,
            bytes = bytes.len(),
            "answer built"
        );
        // Only open documents change often enough to be worth keeping.
        kept.retain(|(u, _), _| st.docs.contains_key(u));
        if st.docs.contains_key(uri) {
            kept.insert((uri.clone(), kind), (key, bytes.clone()));
        }
        bytes
    }
}

/// A framed response to request `id` whose result is `result` (shared).
pub fn response(id: &tower_lsp::jsonrpc::Id, result: Arc<Vec<u8>>) -> Frame {
    let mut body = Vec::with_capacity(64);
    body.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
    let _ = serde_json::to_writer(&mut body, id);
    body.extend_from_slice(br#","result":"#);
    const TAIL: &[u8] = b"}";
    let len = body.len() + result.len() + TAIL.len();
    let mut head = Vec::with_capacity(body.len() + 32);
    head.extend_from_slice(b"Content-Length: ");
    head.extend_from_slice(itoa::Buffer::new().format(len).as_bytes());
    head.extend_from_slice(b"\r\n\r\n");
    head.extend_from_slice(&body);
    let n = result.len();
    Frame {
        head,
        shared: Some((result, 0..n)),
        tail: TAIL,
    }
}

fn position(out: &mut Vec<u8>, line: u32, character: u32) {
    let mut b = itoa::Buffer::new();
    out.extend_from_slice(br#"{"line":"#);
    out.extend_from_slice(b.format(line).as_bytes());
    out.extend_from_slice(br#","character":"#);
    out.extend_from_slice(b.format(character).as_bytes());
    out.push(b'}');
}

fn range(out: &mut Vec<u8>, r: Range) {
    out.extend_from_slice(br#"{"start":"#);
    position(out, r.start.line, r.start.character);
    out.extend_from_slice(br#","end":"#);
    position(out, r.end.line, r.end.character);
    out.push(b'}');
}

/// Up to this many products the outline lists every product, as
/// `handlers::document_symbols` does; above it products are grouped.
pub const GROUP_ABOVE: usize = 1_000;

/// Products per group of a large outline.
pub const GROUP_SIZE: usize = 100;

/// The outline as JSON: the `[catalogue]` table and each licence, and each
/// product (name: its SKU, detail: its verdict).
///
/// A catalogue of more than [`GROUP_ABOVE`] products lists them in groups
/// of up to [`GROUP_SIZE`] consecutive products instead (a licence or the
/// `[catalogue]` table between products starts a new group), each named by
/// its first and last SKU (`SKU-0001 … SKU-0100`), with the detail
/// `100 products · 3 need action`, a range covering its products, and as
/// children only the products that need action (an error or a warning is
/// shown for them). Every symbol carries two ranges (~190 bytes of JSON):
/// one per product made the outline of 10 000 products 2.3 MB, which every
/// client parses after every edit; grouped, it stays small while the outline,
/// breadcrumbs and sticky scroll still lead to each part of the file and each
/// problem is one click away. Every SKU stays findable through
/// `workspace/symbol`.
pub fn outline_json(st: &State, uri: &Url) -> Vec<u8> {
    let Some(f) = st.file(uri) else {
        return b"null".to_vec();
    };
    let res = st.analyses.get(uri);
    let cat = f.catalogue;
    let group = cat.products.len() > GROUP_ABOVE;
    let act = if group {
        needing_action(st, cat, res)
    } else {
        Vec::new()
    };
    let range_of = |span: Span| lsp_range(f.text, f.lines, span, st.encoding);
    let product = |out: &mut Vec<u8>, t: &TableRef| {
        let Some(p) = cat.products.get(t.index) else {
            return;
        };
        let verdict = res.and_then(|r| r.product(t.index)).map(|r| r.verdict());
        comma(out);
        open(
            out,
            p.sku_str().unwrap_or(NO_SKU),
            verdict.map(|v| v.as_str()),
            19, // OBJECT
            range_of(t.span),
            range_of(t.header),
        );
        out.push(b'}');
    };
    // The product tables of the group being gathered.
    let mut block: Vec<&TableRef> = Vec::with_capacity(if group { GROUP_SIZE } else { 0 });
    let flush = |out: &mut Vec<u8>, block: &mut Vec<&TableRef>| {
        let (Some(first), Some(last)) = (block.first(), block.last()) else {
            return;
        };
        let sku = |t: &TableRef| {
            cat.products
                .get(t.index)
                .and_then(|p| p.sku_str())
                .unwrap_or(NO_SKU)
        };
        let name = if block.len() == 1 {
            sku(first).to_string()
        } else {
            format!("{} \u{2026} {}", sku(first), sku(last))
        };
        let needing: Vec<&TableRef> = block
            .iter()
            .copied()
            .filter(|t| act.get(t.index).copied().unwrap_or(false))
            .collect();
        let detail = match (block.len(), needing.len()) {
            (1, 0) => "1 product".to_string(),
            (n, 0) => format!("{n} products"),
            (n, 1) => format!("{n} product{} \u{b7} 1 needs action", plural(n)),
            (n, k) => format!("{n} product{} \u{b7} {k} need action", plural(n)),
        };
        comma(out);
        open(
            out,
            &name,
            Some(&detail),
            18, // ARRAY
            range_of(Span::new(first.span.start(), last.span.end())),
            range_of(first.header),
        );
        if !needing.is_empty() {
            out.extend_from_slice(br#","children":["#);
            for t in needing {
                product(out, t);
            }
            out.push(b']');
        }
        out.push(b'}');
        block.clear();
    };
    let mut out = Vec::with_capacity(if group {
        (cat.products.len() / GROUP_SIZE + cat.licences.len()) * 250 + 2
    } else {
        cat.tables.len() * 200 + 2
    });
    out.push(b'[');
    for t in &cat.tables {
        let (name, detail, kind): (&str, Option<&str>, u8) = match t.kind {
            TableKind::Product if group => {
                if cat.products.get(t.index).is_some() {
                    block.push(t);
                    if block.len() == GROUP_SIZE {
                        flush(&mut out, &mut block);
                    }
                }
                continue;
            }
            TableKind::Product => {
                product(&mut out, t);
                continue;
            }
            TableKind::Licence => {
                let Some(l) = cat.licences.get(t.index) else {
                    continue;
                };
                (
                    l.id_str().unwrap_or("(no id)"),
                    l.kind.as_ref().map(|k| k.value.as_str()),
                    20, // KEY
                )
            }
            TableKind::Catalogue => ("catalogue", None, 3), // NAMESPACE
            _ => continue,
        };
        flush(&mut out, &mut block);
        comma(&mut out);
        open(
            &mut out,
            name,
            detail,
            kind,
            range_of(t.span),
            range_of(t.header),
        );
        out.push(b'}');
    }
    flush(&mut out, &mut block);
    out.push(b']');
    out
}

const NO_SKU: &str = "(no sku)";

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A comma unless `out` is the opening bracket of an array.
fn comma(out: &mut Vec<u8>) {
    if out.last().is_some_and(|&b| b != b'[') {
        out.push(b',');
    }
}

/// A symbol's fields, without its closing brace (children may follow).
fn open(out: &mut Vec<u8>, name: &str, detail: Option<&str>, kind: u8, range: Range, sel: Range) {
    out.extend_from_slice(br#"{"name":"#);
    string(out, name);
    if let Some(d) = detail {
        out.extend_from_slice(br#","detail":"#);
        string(out, d);
    }
    out.extend_from_slice(br#","kind":"#);
    out.extend_from_slice(itoa::Buffer::new().format(kind).as_bytes());
    out.extend_from_slice(br#","range":"#);
    self::range(out, range);
    out.extend_from_slice(br#","selectionRange":"#);
    self::range(out, sel);
}

/// Per product index: whether the product needs action, that is whether an
/// error or a warning is shown for it (its own diagnostics, or a file-level
/// one such as `duplicate-sku` inside its table), with the user's severity
/// settings applied as for the published diagnostics.
fn needing_action(st: &State, cat: &Catalogue, res: Option<&FileAnalysis>) -> Vec<bool> {
    let mut act = vec![false; cat.products.len()];
    let Some(a) = res else {
        return act;
    };
    for (i, o) in a.products.iter().enumerate() {
        if o.diagnostics.iter().any(|d| acts(st, d)) {
            if let Some(x) = act.get_mut(i) {
                *x = true;
            }
        }
    }
    // File-level diagnostics are placed in the product table holding them
    // (tables are in file order).
    let tables: Vec<&TableRef> = cat
        .tables
        .iter()
        .filter(|t| t.kind == TableKind::Product)
        .collect();
    for d in a.file.iter().filter(|d| acts(st, d)) {
        let at = d.span.start();
        let i = tables.partition_point(|t| t.span.start() <= at);
        if let Some(t) = i.checked_sub(1).and_then(|i| tables.get(i)) {
            if at < t.span.end() {
                if let Some(x) = act.get_mut(t.index) {
                    *x = true;
                }
            }
        }
    }
    act
}

/// Whether `d` is shown as an error or a warning (the severity settings
/// applied as the publication applies them).
fn acts(st: &State, d: &Diagnostic) -> bool {
    super::publication::shown_severity(st, d).is_some_and(|s| s <= Severity::Warning)
}

/// The code lenses as `handlers::code_lenses` builds them, as JSON.
fn lenses_json(st: &State, uri: &Url) -> Vec<u8> {
    let Some(f) = st.file(uri) else {
        return b"null".to_vec();
    };
    let Some(res) = st.analyses.get(uri) else {
        return b"[]".to_vec();
    };
    let mut out = Vec::with_capacity(f.catalogue.products.len() * 120 + 2);
    out.push(b'[');
    for t in f
        .catalogue
        .tables
        .iter()
        .filter(|t| matches!(t.kind, TableKind::Product | TableKind::Licence))
    {
        let Some(title) = super::handlers::lens_title(st, f.catalogue, res, t) else {
            continue;
        };
        if out.len() > 1 {
            out.push(b',');
        }
        out.extend_from_slice(br#"{"range":"#);
        range(&mut out, lsp_range(f.text, f.lines, t.header, st.encoding));
        out.extend_from_slice(br#","command":{"title":"#);
        string(&mut out, &title);
        out.extend_from_slice(br#","command":""}}"#);
    }
    out.push(b']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::document::Document;

    const TEXT: &str = "[catalogue]\nas_of = 2026-06-01\n\n[[licence]]\nid = \"GL-1\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2027-01-01\nitems = [\"1C905\"]\n\n[[product]]\nsku = \"A\\u00e9\"\nform = \"magnet\"\ncomposition = { Nd = 28, Dy = 3, Fe = 68, B = 1 }\nlicence = \"GL-1\"\n\n[[product]]\nform = \"oxide\"\ncomposition = { La2O3 = 99 }\n\n[[product]]\nsku = \"R\"\nform = \"rotor-assembly\"\ncomponents = [\"A\\u00e9\"]\nmounting = \"embedded\"\n";

    /// The bytes written here are the JSON of the typed answers.
    #[test]
    fn the_written_answers_equal_the_typed_ones() {
        let uri = Url::parse("file:///w/a.catalogue.toml").unwrap();
        let mut st = State::default();
        st.docs.insert(uri.clone(), Document::new(TEXT.into(), 1));
        st.analyse(std::slice::from_ref(&uri), None);
        let cache = Cache::default();
        let symbols: serde_json::Value =
            serde_json::from_slice(&cache.answer(&st, &uri, Kind::Symbols)).unwrap();
        let typed =
            serde_json::to_value(super::super::handlers::document_symbols(&st, &uri)).unwrap();
        assert_eq!(symbols, typed);
        assert_eq!(symbols.as_array().unwrap().len(), 5);
        let lenses: serde_json::Value =
            serde_json::from_slice(&cache.answer(&st, &uri, Kind::Lenses)).unwrap();
        let typed = serde_json::to_value(super::super::handlers::code_lenses(&st, &uri)).unwrap();
        assert_eq!(lenses, typed);
        // Two products with results and the licence.
        assert_eq!(lenses.as_array().unwrap().len(), 4);
        // The same version and analysis: the same bytes, not built again.
        let a = cache.answer(&st, &uri, Kind::Symbols);
        assert!(Arc::ptr_eq(&a, &cache.answer(&st, &uri, Kind::Symbols)));
        // A new analysis: built again.
        st.analyse(std::slice::from_ref(&uri), None);
        assert!(!Arc::ptr_eq(&a, &cache.answer(&st, &uri, Kind::Symbols)));
    }

    /// `n` magnets under one licence; those at the `missing` indexes carry
    /// none (a `missing-licence` error and a `missing-end-use-evidence`
    /// warning); a licence table follows the products at `splits`.
    fn magnets(n: usize, missing: &[usize], splits: &[usize]) -> String {
        let licence = |id: &str| {
            format!(
                "[[licence]]\nid = \"{id}\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2027-01-01\nitems = [\"1C905\"]\n\n"
            )
        };
        let mut s = format!("[catalogue]\nas_of = 2026-06-01\n\n{}", licence("GL-1"));
        for i in 0..n {
            let l = if missing.contains(&i) {
                ""
            } else {
                "licence = \"GL-1\"\n"
            };
            s.push_str(&format!(
                "[[product]]\nsku = \"M{i}\"\nform = \"magnet\"\ncomposition = {{ Nd = 27.5, Dy = 2.5, Fe = 69, B = 1 }}\ndestination = \"DE\"\n{l}\n"
            ));
            if splits.contains(&i) {
                s.push_str(&licence(&format!("GL-{i}")));
            }
        }
        s
    }

    fn outline(st: &State, uri: &Url) -> Vec<serde_json::Value> {
        let v: serde_json::Value = serde_json::from_slice(&outline_json(st, uri)).unwrap();
        v.as_array().unwrap().clone()
    }

    /// Up to `GROUP_ABOVE` products each product is a symbol; one more and
    /// they are grouped, a licence between products ending a group, with the
    /// products shown with an error or a warning (after the user's severity
    /// settings) as children.
    #[test]
    fn products_are_grouped_above_the_threshold_with_those_needing_action() {
        let uri = Url::parse("file:///w/m.catalogue.toml").unwrap();
        let open = |text: String, settings: Option<serde_json::Value>| {
            let mut st = State::default();
            if let Some(s) = settings {
                st.set_settings(crate::server::state::Settings::from_json(&s).unwrap());
            }
            st.docs.insert(uri.clone(), Document::new(text, 1));
            st.analyse(std::slice::from_ref(&uri), None);
            st
        };
        let st = open(magnets(GROUP_ABOVE, &[3], &[]), None);
        let syms = outline(&st, &uri);
        assert_eq!(syms.len(), GROUP_ABOVE + 2);
        let typed =
            serde_json::to_value(super::super::handlers::document_symbols(&st, &uri)).unwrap();
        assert_eq!(serde_json::Value::Array(syms), typed);

        let n = GROUP_ABOVE + 1;
        let st = open(magnets(n, &[3, 5, 150, 1000], &[140, 999]), None);
        let syms = outline(&st, &uri);
        let names: Vec<&str> = syms.iter().map(|s| s["name"].as_str().unwrap()).collect();
        assert_eq!(
            names[..5],
            [
                "catalogue",
                "GL-1",
                "M0 \u{2026} M99",
                "M100 \u{2026} M140",
                "GL-140"
            ]
        );
        assert_eq!(names[5], "M141 \u{2026} M240");
        assert_eq!(
            names[names.len() - 3..],
            ["M941 \u{2026} M999", "GL-999", "M1000"],
            "a group of one"
        );
        assert_eq!(syms[2]["detail"], "100 products \u{b7} 2 need action");
        assert_eq!(syms[3]["detail"], "41 products");
        assert!(syms[3].get("children").is_none());
        assert_eq!(syms[5]["detail"], "100 products \u{b7} 1 needs action");
        assert_eq!(
            syms.last().unwrap()["detail"],
            "1 product \u{b7} 1 needs action"
        );
        let children: Vec<&str> = syms[2]["children"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(children, ["M3", "M5"]);

        // Errors and warnings turned off: nothing needs action; the verdict
        // marks raised to warnings: every controlled magnet does.
        let off = serde_json::json!({"severity": {"missing-licence": "off", "missing-end-use-evidence": "hint"}});
        let st = open(magnets(n, &[3, 5, 150, 1000], &[140, 999]), Some(off));
        let syms = outline(&st, &uri);
        assert!(syms.iter().all(|s| s.get("children").is_none()));
        let on = serde_json::json!({"severity": {"controlled": "warning"}});
        let st = open(magnets(n, &[], &[140]), Some(on));
        assert_eq!(
            outline(&st, &uri)[2]["detail"],
            "100 products \u{b7} 100 need action"
        );
    }
}
