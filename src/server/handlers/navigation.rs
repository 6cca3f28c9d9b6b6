//! Navigation by name: the licence id or SKU under the cursor, its
//! definition and references across the workspace, and renaming it
//! everywhere (written as each file's format writes a string).

use super::{inside, table_at};
use crate::catalogue::{Catalogue, TableKind};
use crate::server::proto;
use crate::server::state::State;
use crate::text::Span;
use std::collections::HashMap;
use tower_lsp::lsp_types::*;

/// A reference under the cursor: a licence id or a SKU, with the span of the string.
pub enum Target {
    Licence(String),
    Sku(String),
}

/// The licence id or SKU at an LSP position of a file.
pub fn target_at_position(st: &State, uri: &Url, pos: Position) -> Option<Target> {
    let f = st.file(uri)?;
    target_at(f.catalogue, proto::offset(&f, pos, st.encoding))
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
    Some(proto::location(&f, span, st.encoding))
}

/// Renames a licence id or SKU everywhere; the new name must be a plain string.
pub fn rename(st: &State, target: &Target, new_name: &str) -> Result<WorkspaceEdit, String> {
    let mut spans: HashMap<Url, Vec<Span>> = HashMap::new();
    for (uri, span, _) in occurrences(st, target) {
        spans.entry(uri).or_default().push(span);
    }
    let mut changes: HashMap<Url, Vec<TextEdit>> = HashMap::new();
    for (uri, spans) in spans {
        let Some(f) = st.file(&uri) else { continue };
        // Written as the file's format writes a string (quoted in TOML, a
        // whole cell in CSV, so a list cell stays one cell).
        let edits = f
            .format
            .replace_strings(f.text, f.catalogue, &spans, new_name)
            .map_err(|e| format!("cannot rename in {uri}: {e}"))?;
        changes.insert(uri.clone(), proto::text_edits(&f, edits, st.encoding));
    }
    Ok(proto::workspace_edit(changes))
}
