//! Symbols: the outline of a file in typed form (the live request is
//! answered by `server::symbols`, which writes the same JSON directly and is
//! tested against this) and the workspace's SKUs and licence ids by name.

use crate::catalogue::TableKind;
use crate::server::proto;
use crate::server::state::State;
use crate::text::Span;
use tower_lsp::lsp_types::*;

/// The outline: one symbol per table, without children; a product's detail
/// is its verdict in one word. Editors ask for it after every edit
/// (breadcrumbs, sticky scroll), so every byte counts: 10 000 products.
#[cfg(test)] // the typed reference `symbols::outline_json` is tested against (≤ 1 000 products)
pub fn document_symbols(st: &State, uri: &Url) -> Vec<DocumentSymbol> {
    let Some(f) = st.file(uri) else { return vec![] };
    let res = st.analyses.get(uri);
    let mut out = Vec::with_capacity(f.catalogue.tables.len());
    for t in &f.catalogue.tables {
        let Some(kind) = proto::symbol_kind(t.kind) else {
            continue;
        };
        let (name, detail) = match t.kind {
            TableKind::Product => {
                let Some(p) = f.catalogue.products.get(t.index) else {
                    continue;
                };
                let verdict = res.and_then(|r| r.product(t.index)).map(|r| r.verdict());
                (
                    p.sku_str().unwrap_or("(no sku)").to_string(),
                    verdict.map(|v| v.as_str().to_string()),
                )
            }
            TableKind::Licence => {
                let Some(l) = f.catalogue.licences.get(t.index) else {
                    continue;
                };
                (
                    l.id_str().unwrap_or("(no id)").to_string(),
                    l.kind.as_ref().map(|k| k.value.as_str().to_string()),
                )
            }
            TableKind::Catalogue => ("catalogue".to_string(), None),
            _ => continue,
        };
        out.push(proto::document_symbol(
            name,
            detail,
            kind,
            proto::file_range(&f, t.span, st.encoding),
            proto::file_range(&f, t.header, st.encoding),
        ));
    }
    out
}

pub fn workspace_symbols(st: &State, query: &str) -> Vec<SymbolInformation> {
    let q = query.to_lowercase();
    let mut out = Vec::new();
    for f in st.files() {
        let mut add = |name: &str, kind: TableKind, span: Span| {
            if name.to_lowercase().contains(&q) && out.len() < 1000 {
                if let Some(kind) = proto::symbol_kind(kind) {
                    let location = proto::location(&f, span, st.encoding);
                    out.push(proto::symbol_information(name, kind, location));
                }
            }
        };
        for p in &f.catalogue.products {
            if let Some(s) = p.sku_str() {
                add(s, TableKind::Product, p.header);
            }
        }
        for l in &f.catalogue.licences {
            if let Some(s) = l.id_str() {
                add(s, TableKind::Licence, l.header);
            }
        }
    }
    out
}
