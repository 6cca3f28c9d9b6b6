//! Each product's verdict as an inlay hint after its header and as a code
//! lens above it (contract §11), with what is left of its licence; a
//! licence's lens says how much of it the exports use (v2 §4a).

use crate::catalogue::{self, Catalogue, TableKind};
use crate::engine::{ProductResult, Verdict};
use crate::server::proto;
use crate::server::state::{FileView, State};
use std::fmt::Write;
use tower_lsp::lsp_types::*;

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

/// The tables whose header lies in `range` (or touches it), found by
/// binary search: editors ask for the visible lines after every edit.
fn tables_in<'a>(
    f: &'a FileView,
    range: Range,
    enc: crate::text::Encoding,
) -> impl Iterator<Item = &'a catalogue::TableRef> + 'a {
    let a = proto::offset(f, range.start, enc);
    let b = proto::offset(f, range.end, enc);
    let tables = &f.catalogue.tables;
    let first = tables.partition_point(|t| t.header.end() < a);
    tables[first..]
        .iter()
        .take_while(move |t| t.header.start() <= b)
}

/// The product tables whose header lies in `range` (or touches it).
fn products_in<'a>(
    f: &'a FileView,
    range: Range,
    enc: crate::text::Encoding,
) -> impl Iterator<Item = &'a catalogue::TableRef> + 'a {
    tables_in(f, range, enc).filter(|t| t.kind == TableKind::Product)
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
            let at = proto::position(f.text, f.lines, t.header.end(), st.encoding);
            Some(proto::inlay_hint(at, verdict_text(r)))
        })
        .collect()
}

/// The code lens of a table: a product's verdict and what is left of its
/// licence, a licence's use (v2 §4a); None for other tables.
pub(in crate::server) fn lens_title(
    st: &State,
    cat: &Catalogue,
    res: &crate::server::state::FileAnalysis,
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

/// Each product's verdict above its header (`textDocument/codeLens` has no
/// range: the whole file). The lens runs no command: it is a label.
pub fn code_lenses(st: &State, uri: &Url) -> Vec<CodeLens> {
    code_lenses_in(st, uri, None)
}

/// The code lenses of the tables whose header lies in `range` (all with
/// None): `catalogue/codeLens`, which the VS Code extension asks for the
/// lines around the view, so that an edit in a 10 000-product file costs
/// the lenses in view instead of 10 000 (1.5 MB) on both sides.
pub fn code_lenses_in(st: &State, uri: &Url, range: Option<Range>) -> Vec<CodeLens> {
    let Some(f) = st.file(uri) else { return vec![] };
    let Some(res) = st.analyses.get(uri) else {
        return vec![];
    };
    let tables: Box<dyn Iterator<Item = &catalogue::TableRef>> = match range {
        Some(r) => Box::new(tables_in(&f, r, st.encoding)),
        None => Box::new(f.catalogue.tables.iter()),
    };
    tables
        .filter(|t| matches!(t.kind, TableKind::Product | TableKind::Licence))
        .filter_map(|t| {
            let title = lens_title(st, f.catalogue, res, t)?;
            Some(proto::label_lens(
                proto::file_range(&f, t.header, st.encoding),
                title,
            ))
        })
        .collect()
}
