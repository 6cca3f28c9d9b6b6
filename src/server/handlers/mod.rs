//! The request handlers, one file per feature. Each is a pure function of
//! the state and the request; the wire form of what it answers comes from
//! `server::proto`. This module holds the small helpers they share (the
//! item under an offset, a product's result) and routes the public names
//! `server/mod.rs` calls.

mod code_action;
mod completion;
mod hints;
mod hover;
mod navigation;
mod symbols;

pub use code_action::code_actions;
pub use completion::completion;
pub(in crate::server) use hints::lens_title;
pub use hints::{code_lenses, code_lenses_in, inlay_hints};
pub use hover::hover;
pub use navigation::{location, occurrences, rename, target_at_position};
#[cfg(test)]
pub use symbols::document_symbols;
pub use symbols::workspace_symbols;

use crate::catalogue::{self, Catalogue, Product, TableKind};
use crate::engine::ProductResult;
use crate::server::state::State;
use crate::text::Span;
use tower_lsp::lsp_types::Url;

/// The table (item) containing a byte offset, whatever the format.
fn table_at(cat: &Catalogue, offset: usize) -> Option<&catalogue::TableRef> {
    catalogue::format::table_at(cat, offset)
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
