//! Turns one catalogue file's text into a [`Catalogue`]: splits it into
//! tables, parses each with the `toml` crate on its own, and reads every
//! known key into typed, spanned fields. Errors are diagnostics, never panics.

use super::countries;
use super::model::*;
use super::split::{Chunk, split};
use crate::chem::parse_formula;
use crate::diagnostic::{Code, Diagnostic, nearest};
use crate::text::Span;
use jiff::civil::Date;
use rayon::prelude::*;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

mod shipment;
pub use shipment::SHIPMENT_KEYS;

pub const PRODUCT_KEYS: &[&str] = &[
    "sku",
    "name",
    "form",
    "composition",
    "components",
    "mounting",
    "integrates",
    "moulded",
    "calcined",
    "category",
    "hs_code",
    "control_code",
    "destination",
    "end_user",
    "transfer",
    "purpose",
    "licence",
    "ship_date",
    "made_in",
    "exported_from",
    "cn_origin",
    "cn_content_value",
    "cn_technology",
    "cas",
    "collectors",
    "technology_area",
    "importer",
    "end_use",
    "contract",
    "euc",
    "quantity",
    "unit",
    "value",
    "currency",
];
pub const LICENCE_KEYS: &[&str] = &[
    "id",
    "type",
    "issued",
    "expires",
    "items",
    "end_users",
    "destinations",
    "purposes",
    "quantity",
    "unit",
    "value",
    "currency",
];
pub const CATALOGUE_KEYS: &[&str] = &["name", "exporter", "as_of", "rules"];
pub const SCREENING_KEYS: &[&str] = &["party", "entry", "reason", "by", "on"];
const TABLE_NAMES: &[&str] = &["product", "licence", "catalogue", "shipment", "screening"];

/// Nesting deeper than this is refused before TOML parsing (stack safety).
pub const MAX_NESTING: usize = 128;
/// Chunks per file above which parsing runs on all cores.
const PARALLEL_CHUNKS: usize = 512;

/// One parsed table.
#[derive(Clone, Debug, PartialEq)]
pub enum Parsed {
    Root,
    Catalogue(Box<CatalogueTable>),
    Licence(Box<Licence>),
    Product(Box<Product>),
    Shipment(Box<Shipment>),
    Screening(Box<Screening>),
    Other,
}

/// A parsed chunk: the table and the diagnostics found in it.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedChunk {
    pub chunk: Chunk,
    pub table: Parsed,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses a whole catalogue file.
pub fn parse(text: &str) -> Catalogue {
    if text.len() > crate::text::MAX_TEXT_BYTES {
        let mut c = Catalogue::default();
        c.diagnostics.push(Diagnostic::new(
            Code::FileTooLarge,
            Span::new(0, 0),
            "this text is over 4 GiB, more than a catalogue file can hold: split it",
        ));
        return c;
    }
    let chunks = split(text);
    let parsed: Vec<ParsedChunk> = if chunks.len() >= PARALLEL_CHUNKS {
        chunks
            .into_par_iter()
            .map(|c| parse_chunk(text, c))
            .collect()
    } else {
        chunks.into_iter().map(|c| parse_chunk(text, c)).collect()
    };
    assemble(parsed)
}

/// Builds the file's catalogue from its parsed chunks, in order. The lists
/// are allocated at their final size: a doubling `Vec` of 100 000 products
/// would hold up to 60 MB it never uses.
pub fn assemble(parsed: Vec<ParsedChunk>) -> Catalogue {
    let count = |f: fn(&Parsed) -> bool| parsed.iter().filter(|p| f(&p.table)).count();
    let mut cat = Catalogue {
        products: Vec::with_capacity(count(|t| matches!(t, Parsed::Product(_)))),
        licences: Vec::with_capacity(count(|t| matches!(t, Parsed::Licence(_)))),
        shipments: Vec::with_capacity(count(|t| matches!(t, Parsed::Shipment(_)))),
        tables: Vec::with_capacity(parsed.len()),
        ..Catalogue::default()
    };
    for p in parsed {
        let header = p
            .chunk
            .header
            .unwrap_or(Span::new(p.chunk.span.start(), p.chunk.span.start()));
        let (kind, index) = match p.table {
            Parsed::Root => (TableKind::Root, 0),
            Parsed::Other => (TableKind::Other, 0),
            Parsed::Catalogue(c) => {
                if let Some(first) = &cat.catalogue {
                    cat.diagnostics.push(
                        Diagnostic::new(Code::InvalidValue, header, "a second `[catalogue]` table: a file holds at most one; merge it into the first")
                            .with_related(crate::diagnostic::Related { file: crate::diagnostic::FileRef::Same, span: first.header, message: "first `[catalogue]` table".into() }),
                    );
                } else {
                    cat.catalogue = Some(*c);
                }
                (TableKind::Catalogue, 0)
            }
            Parsed::Licence(l) => {
                cat.licences.push(*l);
                (TableKind::Licence, cat.licences.len() - 1)
            }
            Parsed::Product(pr) => {
                cat.products.push(pr);
                (TableKind::Product, cat.products.len() - 1)
            }
            Parsed::Shipment(sh) => {
                cat.shipments.push(*sh);
                (TableKind::Shipment, cat.shipments.len() - 1)
            }
            Parsed::Screening(x) => {
                cat.screenings.push(*x);
                (TableKind::Screening, cat.screenings.len() - 1)
            }
        };
        cat.tables.push(TableRef {
            kind,
            span: p.chunk.span,
            header,
            index,
            diagnostics: p.diagnostics,
        });
    }
    cat
}

/// The licence ids and SKUs an edit may have changed: those defined by the
/// tables it replaced and by the tables that replace them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changed {
    pub skus: Vec<String>,
    pub licences: Vec<String>,
    /// The `[catalogue]` table (evaluation date, rule pack) was touched.
    pub catalogue: bool,
    /// Which products were kept, moved rather than re-parsed.
    pub kept: Kept,
    /// No table was added or removed, and every SKU, licence id and
    /// component list is what it was at the same place: an index of names
    /// by position still holds. False when in doubt.
    pub names_kept: bool,
}

/// The products an edit did not touch: the first `prefix` keep their index
/// and position; the last `suffix` keep their order at the end of the list,
/// and every span at or after byte `from` of the old text moved by `delta`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Kept {
    pub prefix: usize,
    pub suffix: usize,
    /// Products before the edit.
    pub old_len: usize,
    pub from: usize,
    pub delta: isize,
    /// Some(start): the tables that end at or before old byte `start` are
    /// unchanged and in place, and with those from `from` on (moved by
    /// `delta`) they are every table not read again; so the tables of
    /// any kind (shipments too) outside old bytes `start..from` were kept.
    /// None when unknown (the whole file was read again).
    pub start: Option<usize>,
}

impl Kept {
    /// The old index of new product `i`, if it was kept.
    pub fn old_index(&self, i: usize, new_len: usize) -> Option<usize> {
        if i < self.prefix {
            Some(i)
        } else if i + self.suffix >= new_len && i < new_len {
            Some(i + self.old_len - new_len)
        } else {
            None
        }
    }
}

impl Changed {
    /// An edit that changed nothing: every product kept where it is.
    pub fn unchanged(cat: &Catalogue, len: usize) -> Changed {
        Changed {
            kept: Kept {
                prefix: cat.products.len(),
                suffix: 0,
                old_len: cat.products.len(),
                from: len,
                delta: 0,
                start: Some(len),
            },
            names_kept: true,
            ..Changed::default()
        }
    }

    fn note(&mut self, p: &ParsedChunk) {
        match &p.table {
            Parsed::Product(x) => self.skus.extend(x.sku_str().map(str::to_owned)),
            Parsed::Licence(x) => self.licences.extend(x.id_str().map(str::to_owned)),
            // Screening records apply to the whole file: analyse it all again.
            Parsed::Catalogue(_) | Parsed::Screening(_) => self.catalogue = true,
            // A shipment defines no name, but it is an export of the product
            // it names: what depends on that product's exports (its
            // licence's balance) is judged again.
            Parsed::Shipment(x) => self.skus.extend(x.sku_str().map(str::to_owned)),
            Parsed::Root | Parsed::Other => {}
        }
    }
}

/// Re-parses after an edit, re-using the tables before and after the edited
/// region (moved, not copied or re-parsed): only the tables the edit touched
/// are parsed again. Gives the same catalogue as `parse(new_text)`.
pub fn reparse(mut old: Catalogue, old_text: &str, new_text: &str) -> (Catalogue, Changed) {
    if let Some(changed) = edit_in_place(&mut old, old_text, new_text) {
        return (old, changed);
    }
    let chunks = split(new_text);
    let same = |c: &Chunk, t: &TableRef, delta: isize| {
        c.span.len() == t.span.len()
            && c.span.start() as isize == t.span.start() as isize + delta
            && new_text.get(c.span.start()..c.span.end())
                == old_text.get(t.span.start()..t.span.end())
    };
    let (n_new, n_old) = (chunks.len(), old.tables.len());
    let second_catalogue = old
        .tables
        .iter()
        .filter(|t| t.kind == TableKind::Catalogue)
        .count()
        > 1;
    if second_catalogue || n_old == 0 {
        let parsed: Vec<ParsedChunk> = chunks
            .into_iter()
            .map(|c| parse_chunk(new_text, c))
            .collect();
        let mut changed = Changed {
            catalogue: true,
            ..Default::default()
        };
        parsed.iter().for_each(|p| changed.note(p));
        old.products
            .iter()
            .filter_map(|p| p.sku_str())
            .for_each(|s| changed.skus.push(s.to_owned()));
        old.licences
            .iter()
            .filter_map(|l| l.id_str())
            .for_each(|s| changed.licences.push(s.to_owned()));
        return (assemble(parsed), changed);
    }
    let mut prefix = 0;
    while prefix < n_new.min(n_old) && same(&chunks[prefix], &old.tables[prefix], 0) {
        prefix += 1;
    }
    let delta = new_text.len() as isize - old_text.len() as isize;
    let mut suffix = 0;
    while suffix < (n_new - prefix).min(n_old - prefix)
        && same(
            &chunks[n_new - 1 - suffix],
            &old.tables[n_old - 1 - suffix],
            delta,
        )
    {
        suffix += 1;
    }
    let is_product = |t: &TableRef| t.kind == TableKind::Product;
    let kept = Kept {
        prefix: old.tables[..prefix]
            .iter()
            .filter(|t| is_product(t))
            .count(),
        suffix: old.tables[n_old - suffix..]
            .iter()
            .filter(|t| is_product(t))
            .count(),
        old_len: old.products.len(),
        from: old
            .tables
            .get(n_old - suffix)
            .map_or(old_text.len(), |t| t.span.start()),
        delta,
        start: Some(
            old.tables
                .get(prefix)
                .map_or(old_text.len(), |t| t.span.start()),
        ),
    };
    let mut old_parts = into_parts(old);
    let mut changed = Changed {
        kept,
        ..Default::default()
    };
    for p in &old_parts[prefix..n_old - suffix] {
        changed.note(p);
    }
    let tail: Vec<ParsedChunk> = old_parts.drain(n_old - suffix..).collect();
    old_parts.truncate(prefix);
    let mut chunks = chunks;
    let tail_chunks: Vec<Chunk> = chunks.drain(n_new - suffix..).collect();
    let middle: Vec<Chunk> = chunks.drain(prefix..).collect();
    let mut out = Vec::with_capacity(n_new);
    for (mut p, c) in old_parts.into_iter().zip(chunks) {
        p.chunk = c;
        out.push(p);
    }
    for c in middle {
        let p = parse_chunk(new_text, c);
        changed.note(&p);
        out.push(p);
    }
    for (mut p, c) in tail.into_iter().zip(tail_chunks) {
        p.shift(delta);
        p.chunk = c;
        out.push(p);
    }
    (assemble(out), changed)
}

/// The fast path of [`reparse`], for typing inside one line of a table: when
/// the edit adds and removes no character that can start or end a table, a
/// string, a comment or a bracket, and is not on a header line, the tables
/// keep their bounds. Only the edited table is parsed again, in place; the
/// tables after it move. None (and `cat` untouched) when it does not apply.
fn edit_in_place(cat: &mut Catalogue, old_text: &str, new_text: &str) -> Option<Changed> {
    let (old_b, new_b) = (old_text.as_bytes(), new_text.as_bytes());
    let p = common_prefix(old_b, new_b);
    let room = old_b.len().min(new_b.len()) - p;
    let s = common_suffix(old_b, new_b).min(room);
    let removed = &old_text.get(p..old_b.len() - s)?;
    edit_at(cat, new_text, p, removed, new_b.len() - s - p)
}

/// Length of the common prefix of two byte strings (compared block-wise).
pub fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 4096;
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + BLOCK <= n && a[i..i + BLOCK] == b[i..i + BLOCK] {
        i += BLOCK;
    }
    i + a[i..n]
        .iter()
        .zip(&b[i..n])
        .take_while(|(x, y)| x == y)
        .count()
}

/// Length of the common suffix of two byte strings (compared block-wise).
pub fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 4096;
    let n = a.len().min(b.len());
    let (ea, eb) = (a.len(), b.len());
    let mut i = 0;
    while i + BLOCK <= n && a[ea - i - BLOCK..ea - i] == b[eb - i - BLOCK..eb - i] {
        i += BLOCK;
    }
    i + a[..ea - i]
        .iter()
        .rev()
        .zip(b[..eb - i].iter().rev())
        .take(n - i)
        .take_while(|(x, y)| x == y)
        .count()
}

/// [`reparse`] for one edit that replaced `removed` at byte `p` by the
/// `inserted` bytes now at `new_text[p..p + inserted]`: the fast path when
/// it applies (see [`edit_in_place`]), else None and `cat` untouched.
pub fn edit_at(
    cat: &mut Catalogue,
    new_text: &str,
    p: usize,
    removed: &str,
    inserted: usize,
) -> Option<Changed> {
    // File-level diagnostics (a second `[catalogue]`) point across tables.
    if !cat.diagnostics.is_empty() {
        return None;
    }
    let new_b = new_text.as_bytes();
    let inserted = new_b.get(p..p.checked_add(inserted)?)?;
    // Bytes the splitter looks at (0xEF starts a byte-order mark).
    let special = |b: &u8| b"\"'[]{}#\\\r\n\xEF".contains(b);
    if removed.as_bytes().iter().any(special) || inserted.iter().any(special) {
        return None;
    }
    if p > 0 && new_b[p - 1] == b'\\' {
        return None;
    }
    let line_start = new_b[..p]
        .iter()
        .rposition(|&b| b == b'\n' || b == b'\r')
        .map_or(0, |i| i + 1);
    let lead = new_text
        .get(line_start..p)?
        .trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if lead.is_empty() || lead.starts_with('[') {
        return None;
    }
    let delta = inserted.len() as isize - removed.len() as isize;
    let old_len = new_b.len().checked_add_signed(-delta)?;
    let k = cat
        .tables
        .partition_point(|t| t.span.start() < p)
        .checked_sub(1)?;
    let t = &cat.tables[k];
    let span = Span::new(t.span.start(), t.span.end().checked_add_signed(delta)?);
    let table = new_text.get(span.start()..span.end())?;
    // Multi-line strings make the splitter look across tables: none after
    // the edit, and none before it either. Away from the edit the old text
    // is the new one, so an old triple quote could only have been where the
    // edit split it: in the bytes around it (`removed` holds no quote).
    if t.kind == TableKind::Catalogue || table.contains("\"\"\"") || table.contains("'''") {
        return None;
    }
    let end = p + inserted.len();
    let around = [
        &new_b[p.saturating_sub(2)..p],
        removed.as_bytes(),
        &new_b[end..(end + 2).min(new_b.len())],
    ]
    .concat();
    if around.windows(3).any(|w| w == b"\"\"\"" || w == b"'''") {
        return None;
    }
    let mut chunks = split(table);
    let chunk = match chunks.as_mut_slice() {
        [c] if c.span.len() == span.len() => {
            let mut c = std::mem::replace(c, chunks_placeholder());
            c.span = span;
            c.header = c.header.map(|h| h.shifted(span.start()));
            c
        }
        _ => return None,
    };
    if chunk
        .header
        .unwrap_or(Span::new(span.start(), span.start()))
        != t.header
    {
        return None;
    }
    let parsed = parse_chunk(new_text, chunk);
    let mut changed = Changed::default();
    let products_before = cat.tables[..k]
        .iter()
        .filter(|t| t.kind == TableKind::Product)
        .count();
    let licences_before = cat.tables[..k]
        .iter()
        .filter(|t| t.kind == TableKind::Licence)
        .count();
    let shipments_before = cat.tables[..k]
        .iter()
        .filter(|t| t.kind == TableKind::Shipment)
        .count();
    let t = &mut cat.tables[k];
    match (t.kind, parsed.table) {
        (TableKind::Product, Parsed::Product(new)) => {
            let old = std::mem::replace(&mut cat.products[t.index], new);
            let new = &cat.products[t.index];
            fn components(p: &Product) -> Option<impl Iterator<Item = &str>> {
                Some(
                    p.components
                        .as_ref()?
                        .value
                        .iter()
                        .map(|c| c.value.as_str()),
                )
            }
            let same_components = match (components(&old), components(new)) {
                (Some(a), Some(b)) => a.eq(b),
                (a, b) => a.is_none() && b.is_none(),
            };
            changed.names_kept = old.sku_str() == new.sku_str() && same_components;
            changed.skus.extend(old.sku_str().map(str::to_owned));
            changed.skus.extend(new.sku_str().map(str::to_owned));
        }
        (TableKind::Licence, Parsed::Licence(new)) => {
            let old = std::mem::replace(&mut cat.licences[t.index], *new);
            let new = &cat.licences[t.index];
            changed.names_kept = old.id_str() == new.id_str();
            changed.licences.extend(old.id_str().map(str::to_owned));
            changed.licences.extend(new.id_str().map(str::to_owned));
        }
        (TableKind::Shipment, Parsed::Shipment(new)) => {
            let old = std::mem::replace(&mut cat.shipments[t.index], *new);
            let new = &cat.shipments[t.index];
            // The SKU a shipment names is part of the file's layout of names.
            changed.names_kept = old.sku_str() == new.sku_str();
            changed.skus.extend(old.sku_str().map(str::to_owned));
            changed.skus.extend(new.sku_str().map(str::to_owned));
        }
        (TableKind::Root, Parsed::Root) | (TableKind::Other, Parsed::Other) => {
            changed.names_kept = true;
        }
        // Cannot happen with an unchanged header; parse the whole file to be safe.
        _ => return None,
    }
    let from = cat.tables.get(k + 1).map_or(old_len, |n| n.span.start());
    let t = &mut cat.tables[k];
    t.span = span;
    t.diagnostics = parsed.diagnostics;
    let edited_product = usize::from(t.kind == TableKind::Product);
    let edited_licence = usize::from(t.kind == TableKind::Licence);
    let edited_shipment = usize::from(t.kind == TableKind::Shipment);
    for t in &mut cat.tables[k + 1..] {
        t.span.shift(delta);
        t.header.shift(delta);
        t.diagnostics.shift(delta);
    }
    let first_moved = products_before + edited_product;
    // Moving thousands of products is most of an edit's cost: on all cores.
    cat.products[first_moved..]
        .par_chunks_mut(512)
        .for_each(|c| c.shift(delta));
    cat.licences[licences_before + edited_licence..].shift(delta);
    cat.shipments[shipments_before + edited_shipment..]
        .par_chunks_mut(512)
        .for_each(|c| c.shift(delta));
    if let Some(c) = cat.catalogue.as_mut().filter(|c| c.span.start() >= from) {
        c.shift(delta);
    }
    changed.kept = Kept {
        prefix: products_before,
        suffix: cat.products.len() - first_moved,
        old_len: cat.products.len(),
        from,
        delta,
        start: Some(cat.tables[k].span.start()),
    };
    Some(changed)
}

fn chunks_placeholder() -> Chunk {
    Chunk {
        span: Span::new(0, 0),
        header: None,
        name: String::new(),
        array: false,
        max_depth: 0,
    }
}

/// Splits a catalogue back into its parsed tables (moving, not copying).
fn into_parts(cat: Catalogue) -> Vec<ParsedChunk> {
    let mut products: Vec<Option<Box<Product>>> = cat.products.into_iter().map(Some).collect();
    let mut licences: Vec<Option<Licence>> = cat.licences.into_iter().map(Some).collect();
    let mut shipments: Vec<Option<Shipment>> = cat.shipments.into_iter().map(Some).collect();
    let mut catalogue = cat.catalogue;
    let mut screenings: Vec<Option<Screening>> = cat.screenings.into_iter().map(Some).collect();
    cat.tables
        .into_iter()
        .map(|t| {
            let table = match t.kind {
                TableKind::Product => products
                    .get_mut(t.index)
                    .and_then(Option::take)
                    .map_or(Parsed::Other, Parsed::Product),
                TableKind::Licence => licences
                    .get_mut(t.index)
                    .and_then(Option::take)
                    .map_or(Parsed::Other, |l| Parsed::Licence(Box::new(l))),
                TableKind::Shipment => shipments
                    .get_mut(t.index)
                    .and_then(Option::take)
                    .map_or(Parsed::Other, |x| Parsed::Shipment(Box::new(x))),
                TableKind::Catalogue => catalogue
                    .take()
                    .map_or(Parsed::Other, |c| Parsed::Catalogue(Box::new(c))),
                TableKind::Screening => screenings
                    .get_mut(t.index)
                    .and_then(Option::take)
                    .map_or(Parsed::Other, |x| Parsed::Screening(Box::new(x))),
                TableKind::Root => Parsed::Root,
                TableKind::Other => Parsed::Other,
            };
            let header = (t.header.start() != t.span.start() || t.header.end() != t.span.start())
                .then_some(t.header);
            ParsedChunk {
                chunk: Chunk {
                    span: t.span,
                    header,
                    name: String::new(),
                    array: false,
                    max_depth: 0,
                },
                table,
                diagnostics: t.diagnostics,
            }
        })
        .collect()
}

impl Shift for ParsedChunk {
    fn shift(&mut self, d: isize) {
        self.chunk.span.shift(d);
        self.chunk.header.shift(d);
        match &mut self.table {
            Parsed::Catalogue(c) => c.shift(d),
            Parsed::Licence(l) => l.shift(d),
            Parsed::Product(p) => p.shift(d),
            Parsed::Shipment(x) => x.shift(d),
            Parsed::Screening(x) => x.shift(d),
            Parsed::Root | Parsed::Other => {}
        }
        self.diagnostics.shift(d);
    }
}

/// Parses one chunk of `text`.
pub fn parse_chunk(text: &str, chunk: Chunk) -> ParsedChunk {
    let mut diags = Vec::new();
    let base = chunk.span.start();
    let src = &text[chunk.span.start()..chunk.span.end()];
    // A byte-order mark is not TOML: blank it out, keeping every offset.
    let unbommed;
    let src = match src.strip_prefix('\u{feff}') {
        Some(rest) => {
            unbommed = format!("   {rest}");
            unbommed.as_str()
        }
        None => src,
    };
    let header = chunk.header.unwrap_or(Span::new(base, base));
    let kind = classify_header(&chunk, &mut diags);
    if chunk.max_depth > MAX_NESTING {
        diags.push(Diagnostic::new(
            Code::SyntaxError,
            header,
            format!("values nested deeper than {MAX_NESTING} levels; the catalogue format never needs more than 2: flatten them"),
        ));
        let table = match kind {
            TableKind::Product => Parsed::Product(Box::new(Product {
                header,
                span: chunk.span,
                broken: true,
                ..Default::default()
            })),
            TableKind::Licence => Parsed::Licence(Box::new(Licence {
                header,
                span: chunk.span,
                broken: true,
                ..Default::default()
            })),
            TableKind::Shipment => Parsed::Shipment(Box::new(Shipment {
                header,
                span: chunk.span,
                broken: true,
                ..Default::default()
            })),
            _ => Parsed::Other,
        };
        return ParsedChunk {
            chunk,
            table,
            diagnostics: diags,
        };
    }
    let (doc, errors) = DeTable::parse_recoverable(src);
    let broken = !errors.is_empty();
    for e in errors {
        let span = e
            .span()
            .map(|r| Span::new(r.start + base, r.end + base))
            .unwrap_or(header);
        diags.push(Diagnostic::new(
            Code::SyntaxError,
            span,
            syntax_message(e.message()),
        ));
    }
    let doc = doc.into_inner();
    let table = match kind {
        TableKind::Root => {
            let last_key = doc.iter().map(|(k, _)| k.span().start).max();
            for (k, v) in doc.iter() {
                let span = Span::from(k.span()).shifted(base);
                let name = k.get_ref();
                if let Some(d) = inline_tables(src, base, k, v, last_key == Some(k.span().start)) {
                    diags.push(d);
                    continue;
                }
                let hint = nearest(name, PRODUCT_KEYS.iter().chain(LICENCE_KEYS).copied())
                    .map(|n| {
                        format!(" `{n}` belongs inside a `[[product]]` or `[[licence]]` table.")
                    })
                    .unwrap_or_default();
                diags.push(Diagnostic::new(
                    Code::UnknownField,
                    span,
                    format!("key `{name}` outside any table: the format has no top-level keys.{hint} Put it under `[catalogue]`, `[[licence]]` or `[[product]]`"),
                ));
            }
            Parsed::Root
        }
        TableKind::Other => Parsed::Other,
        TableKind::Catalogue
        | TableKind::Licence
        | TableKind::Product
        | TableKind::Shipment
        | TableKind::Screening => {
            let inner = find_table(&doc, &chunk.name);
            let mut r = Reader {
                base,
                diags: &mut diags,
                sku: None,
                invalid: Vec::new(),
            };
            let empty = DeTable::default();
            let t = inner.unwrap_or(&empty);
            match kind {
                TableKind::Catalogue => {
                    Parsed::Catalogue(Box::new(read_catalogue(&mut r, t, header, chunk.span)))
                }
                TableKind::Screening => {
                    Parsed::Screening(Box::new(read_screening(&mut r, t, header, chunk.span)))
                }
                TableKind::Licence => {
                    let mut l = read_licence(&mut r, t, header, chunk.span);
                    l.broken = broken;
                    Parsed::Licence(Box::new(l))
                }
                TableKind::Shipment => {
                    let mut x = shipment::read_shipment(&mut r, t, header, chunk.span);
                    x.broken = broken;
                    Parsed::Shipment(Box::new(x))
                }
                _ => {
                    let mut p = read_product(&mut r, t, header, chunk.span);
                    p.broken = broken;
                    Parsed::Product(Box::new(p))
                }
            }
        }
    };
    ParsedChunk {
        chunk,
        table,
        diagnostics: diags,
    }
}

/// `product = [ { sku = ... } ]`, `licence = [...]` or `catalogue = { ... }`
/// at the top level: valid TOML for the same tables, but the catalogue is
/// read table by table from `[[product]]`, `[[licence]]` and `[catalogue]`
/// headers, so these would go unchecked. An error (never silence), with a
/// fix that rewrites them as tables when nothing follows them at the top
/// level (tables written there would capture the keys after them).
fn inline_tables(
    src: &str,
    base: usize,
    k: &Spanned<std::borrow::Cow<'_, str>>,
    v: &Spanned<DeValue<'_>>,
    last: bool,
) -> Option<Diagnostic> {
    let name = k.get_ref().as_ref();
    let tables: Vec<&DeTable> = match (name, v.get_ref()) {
        ("product" | "licence" | "shipment", DeValue::Array(a)) => a
            .iter()
            .map(|x| match x.get_ref() {
                DeValue::Table(t) => Some(t),
                _ => None,
            })
            .collect::<Option<_>>()?,
        ("catalogue", DeValue::Table(t)) => vec![t],
        _ => return None,
    };
    let header = if name == "catalogue" {
        "[catalogue]".to_string()
    } else {
        format!("[[{name}]]")
    };
    let text = |r: std::ops::Range<usize>| src.get(r).unwrap_or("");
    let mut fix = String::new();
    for (n, t) in tables.iter().enumerate() {
        if n > 0 {
            fix.push('\n');
        }
        fix.push_str(&header);
        fix.push('\n');
        let mut keys: Vec<_> = t.iter().collect();
        keys.sort_by_key(|(tk, _)| tk.span().start);
        for (tk, tv) in keys {
            fix.push_str(text(tk.span()));
            fix.push_str(" = ");
            fix.push_str(text(tv.span()));
            fix.push('\n');
        }
    }
    let span = Span::new(k.span().start + base, v.span().end + base);
    let what = match name {
        "catalogue" => "the `[catalogue]` table".to_string(),
        _ => format!("{} {name}s", tables.len()),
    };
    let msg = format!(
        "`{name} = ...` writes {what} as inline tables; catalogue-lsp reads them only from `{header}` tables, so they are NOT checked: rewrite them as `{header}` tables{}",
        if last {
            " (quick fix)"
        } else {
            " and put them after the other top-level keys"
        }
    );
    let d = Diagnostic::new(Code::InvalidValue, span, msg);
    Some(if last && !fix.is_empty() {
        d.with_replacements(vec![fix.trim_end().to_string()])
    } else {
        d
    })
}

fn syntax_message(m: &str) -> String {
    let m = m.trim();
    format!(
        "TOML syntax error: {m}. Fix it to classify this table; the other tables are still checked"
    )
}

/// The format's table `name` plainly means, when it is not that table's
/// exact name: another case (`Product`), a plural (`products`,
/// `licences`), the US spelling (`license`, `licenses`).
fn intended_table(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let singular = lower.strip_suffix('s').unwrap_or(&lower);
    let singular = if singular == "license" {
        "licence"
    } else {
        singular
    };
    let kind = TABLE_NAMES.iter().copied().find(|t| *t == singular)?;
    (kind != name).then_some(kind)
}

/// The kind of the format's table `name` (one of [`TABLE_NAMES`]).
fn table_kind(name: &str) -> TableKind {
    match name {
        "product" => TableKind::Product,
        "shipment" => TableKind::Shipment,
        "licence" => TableKind::Licence,
        "catalogue" => TableKind::Catalogue,
        _ => TableKind::Screening,
    }
}

/// How the format's table `name` is declared: `[catalogue]`, `[[product]]`.
fn table_header(name: &str) -> String {
    match name {
        "catalogue" => "[catalogue]".to_string(),
        _ => format!("[[{name}]]"),
    }
}

fn classify_header(chunk: &Chunk, diags: &mut Vec<Diagnostic>) -> TableKind {
    let Some(header) = chunk.header else {
        return TableKind::Root;
    };
    let name = chunk.name.as_str();
    match (name, chunk.array) {
        ("product", true) => TableKind::Product,
        ("licence", true) => TableKind::Licence,
        ("shipment", true) => TableKind::Shipment,
        ("catalogue", false) => TableKind::Catalogue,
        ("screening", true) => TableKind::Screening,
        ("product" | "licence" | "shipment" | "screening", false) => {
            diags.push(Diagnostic::new(
                Code::InvalidValue,
                header,
                format!("`[{name}]` declares one table, but {name}s are an array of tables: write `[[{name}]]`"),
            ).with_replacements(vec![format!("[[{name}]]")]));
            table_kind(name)
        }
        ("catalogue", true) => {
            diags.push(Diagnostic::new(Code::InvalidValue, header, "`[[catalogue]]` declares an array, but a file has one catalogue table: write `[catalogue]`")
                .with_replacements(vec!["[catalogue]".into()]));
            TableKind::Catalogue
        }
        _ => {
            if let Some(kind) = intended_table(name) {
                // `[[products]]`, `[[Product]]`, `[[license]]`: plainly meant
                // as one of the format's tables. Read as that table (an
                // unknown table's products would go unjudged: a clearance by
                // omission) and reported as an error, so `check` fails until
                // it is fixed.
                let h = table_header(kind);
                let written = if chunk.array {
                    format!("[[{name}]]")
                } else {
                    format!("[{name}]")
                };
                diags.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        header,
                        format!(
                            "`{written}` is not a table of the format: it is read as `{h}`; write `{h}`"
                        ),
                    )
                    .with_replacements(vec![h]),
                );
                return table_kind(kind);
            }
            let (msg, fix) = match nearest(name, TABLE_NAMES.iter().copied()) {
                Some(s) => {
                    let h = table_header(s);
                    (
                        format!(
                            "unknown table `{name}`: did you mean `{h}`? Its keys are not checked"
                        ),
                        vec![h],
                    )
                }
                None => (
                    format!(
                        "unknown table `{name}`: a catalogue has `[catalogue]`, `[[licence]]`, `[[product]]` and `[[shipment]]` tables only; its keys are not checked"
                    ),
                    vec![],
                ),
            };
            diags.push(Diagnostic::new(Code::UnknownField, header, msg).with_replacements(fix));
            TableKind::Other
        }
    }
}

/// The table a chunk declares: `doc[name]` or its last array element.
/// The keys written in the table of `chunk_span` (a `[name]` or `[[name]]`
/// table), in source order, read again from the text: what completion
/// needs to leave out, kept nowhere else (a large catalogue has millions).
/// A table with syntax errors yields the keys that could be read.
pub fn table_keys(text: &str, chunk_span: Span, name: &str) -> Vec<String> {
    let Some(src) = text.get(chunk_span.start()..chunk_span.end()) else {
        return Vec::new();
    };
    let (doc, _) = DeTable::parse_recoverable(src.trim_start_matches('\u{feff}'));
    let doc = doc.into_inner();
    let mut keys: Vec<(usize, String)> = find_table(&doc, name)
        .map(|t| {
            t.iter()
                .map(|(k, _)| (k.span().start, k.get_ref().to_string()))
                .collect()
        })
        .unwrap_or_default();
    keys.sort();
    keys.into_iter().map(|(_, k)| k).collect()
}

fn find_table<'a, 'i>(doc: &'a DeTable<'i>, name: &str) -> Option<&'a DeTable<'i>> {
    let (_, v) = doc.iter().find(|(k, _)| k.get_ref() == name)?;
    match v.get_ref() {
        DeValue::Table(t) => Some(t),
        DeValue::Array(a) => match a.last().map(|x| x.get_ref()) {
            Some(DeValue::Table(t)) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

/// Reads one table given as a `DeTable` whose spans are already offsets
/// into the file, with the same validators (and messages) as a TOML table:
/// the CSV reader (`catalogue::csv`) builds one per row.
pub(crate) fn read_table(
    kind: TableKind,
    t: &DeTable,
    header: Span,
    span: Span,
) -> (Parsed, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut r = Reader {
        base: 0,
        diags: &mut diags,
        sku: None,
        invalid: Vec::new(),
    };
    let table = match kind {
        TableKind::Licence => Parsed::Licence(Box::new(read_licence(&mut r, t, header, span))),
        TableKind::Product => Parsed::Product(Box::new(read_product(&mut r, t, header, span))),
        TableKind::Catalogue => {
            Parsed::Catalogue(Box::new(read_catalogue(&mut r, t, header, span)))
        }
        TableKind::Shipment => {
            Parsed::Shipment(Box::new(shipment::read_shipment(&mut r, t, header, span)))
        }
        TableKind::Screening => {
            Parsed::Screening(Box::new(read_screening(&mut r, t, header, span)))
        }
        TableKind::Root | TableKind::Other => Parsed::Other,
    };
    (table, diags)
}

struct Reader<'d> {
    base: usize,
    diags: &'d mut Vec<Diagnostic>,
    sku: Option<String>,
    invalid: Vec<&'static str>,
}

type Entry<'a, 'i> = (
    &'a Spanned<std::borrow::Cow<'i, str>>,
    &'a Spanned<DeValue<'i>>,
);

fn type_name(v: &DeValue) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

impl Reader<'_> {
    fn span(&self, r: std::ops::Range<usize>) -> Span {
        Span::from(r).shifted(self.base)
    }

    fn get<'a, 'i>(&self, t: &'a DeTable<'i>, key: &str) -> Option<Entry<'a, 'i>> {
        t.iter().find(|(k, _)| k.get_ref() == key)
    }

    fn report(&mut self, key: &'static str, code: Code, span: Span, msg: String) {
        self.invalid.push(key);
        let d = Diagnostic::new(code, span, msg).with_sku(self.sku.as_deref());
        self.diags.push(d);
    }

    /// Reports a problem with mechanical fixes (`quote`: the fixes are string values).
    fn report_fix(
        &mut self,
        key: &'static str,
        code: Code,
        span: Span,
        msg: String,
        fix: Vec<String>,
        quote: bool,
    ) {
        self.report(key, code, span, msg);
        if let Some(d) = self.diags.last_mut() {
            d.fix.replacements = fix;
            d.fix.quote = quote;
        }
    }

    fn wrong_type(&mut self, key: &'static str, span: Span, v: &DeValue, expected: &str) {
        self.report(
            key,
            Code::InvalidValue,
            span,
            format!("`{key}` must be {expected}, not {}", type_name(v)),
        );
    }

    fn string(&mut self, t: &DeTable, key: &'static str) -> Option<Field<String>> {
        let (k, v) = self.get(t, key)?;
        let (ks, vs) = (self.span(k.span()), self.span(v.span()));
        match v.get_ref() {
            DeValue::String(s) => Some(Field {
                value: s.to_string(),
                span: vs,
                key: ks,
            }),
            other => {
                self.wrong_type(key, vs, other, "a string");
                None
            }
        }
    }

    fn nonempty_string(&mut self, t: &DeTable, key: &'static str) -> Option<Field<String>> {
        let f = self.string(t, key)?;
        if f.value.trim().is_empty() {
            self.report(
                key,
                Code::InvalidValue,
                f.span,
                format!("`{key}` is empty: give a value or remove the field"),
            );
            return None;
        }
        Some(f)
    }

    fn boolean(&mut self, t: &DeTable, key: &'static str) -> Option<Field<bool>> {
        let (k, v) = self.get(t, key)?;
        let (ks, vs) = (self.span(k.span()), self.span(v.span()));
        match v.get_ref() {
            DeValue::Boolean(b) => Some(Field {
                value: *b,
                span: vs,
                key: ks,
            }),
            DeValue::String(s) if s == "true" || s == "false" => {
                self.report(
                    key,
                    Code::InvalidValue,
                    vs,
                    format!("`{key}` must be a boolean: write {s} without quotes"),
                );
                None
            }
            other => {
                self.wrong_type(key, vs, other, "a boolean (true or false)");
                None
            }
        }
    }

    fn date(&mut self, t: &DeTable, key: &'static str) -> Option<Field<Date>> {
        let (k, v) = self.get(t, key)?;
        let (ks, vs) = (self.span(k.span()), self.span(v.span()));
        let msg = match v.get_ref() {
            DeValue::Datetime(dt) => match (dt.date, dt.time, dt.offset) {
                (Some(d), None, None) => match Date::new(d.year as i16, d.month as i8, d.day as i8)
                {
                    Ok(date) => {
                        return Some(Field {
                            value: date,
                            span: vs,
                            key: ks,
                        });
                    }
                    Err(_) => format!("`{key}` is not a real calendar date"),
                },
                (Some(d), _, _) => format!(
                    "`{key}` must be a date without time: write {:04}-{:02}-{:02}",
                    d.year, d.month, d.day
                ),
                _ => format!("`{key}` must be a date like 2026-06-01, not a time"),
            },
            DeValue::String(s) => match s.parse::<Date>() {
                Ok(d) => {
                    format!("`{key}` must be a TOML date, not a string: write {d} without quotes")
                }
                Err(_) => format!("`{key}` must be a date like 2026-06-01, not the string \"{s}\""),
            },
            other => format!(
                "`{key}` must be a date like 2026-06-01, not {}",
                type_name(other)
            ),
        };
        let fix = match v.get_ref() {
            DeValue::String(s) => s
                .parse::<Date>()
                .map(|d| vec![d.to_string()])
                .unwrap_or_default(),
            _ => vec![],
        };
        self.report_fix(key, Code::InvalidValue, vs, msg, fix, false);
        None
    }

    /// `ship_date` (a product's or a shipment's evaluation date): read as
    /// [`Reader::date`], which reports a value that is not a TOML date;
    /// when its date can still be read unambiguously (the date of a TOML
    /// datetime, a string that is an ISO date) that date is kept, so the
    /// export is judged on the day written, not on a fallback date (docs/format.md §6).
    fn ship_date(&mut self, t: &DeTable) -> Option<Field<Date>> {
        let key = "ship_date";
        let part = self.get(t, key).and_then(|(k, v)| {
            let value = match v.get_ref() {
                DeValue::Datetime(dt) => dt
                    .date
                    .and_then(|d| Date::new(d.year as i16, d.month as i8, d.day as i8).ok())?,
                DeValue::String(s) => s.trim().parse::<Date>().ok()?,
                _ => return None,
            };
            Some(Field {
                value,
                span: self.span(v.span()),
                key: self.span(k.span()),
            })
        });
        self.date(t, key).or(part)
    }

    fn enum_value<E: Copy>(
        &mut self,
        t: &DeTable,
        key: &'static str,
        parse: fn(&str) -> Option<E>,
        names: &[&'static str],
    ) -> Option<Field<E>> {
        let f = self.string(t, key)?;
        match parse(&f.value) {
            Some(e) => Some(Field {
                value: e,
                span: f.span,
                key: f.key,
            }),
            None => {
                let msg = enum_message(key, &f.value, names);
                let fix = ordered_choices(&f.value, names);
                self.report_fix(key, Code::InvalidValue, f.span, msg, fix, true);
                None
            }
        }
    }

    /// A word of the pack's vocabulary (form, type, purpose, transfer): read
    /// as written; the engine checks it against the file's pack.
    fn name(&mut self, t: &DeTable, key: &'static str) -> Option<Field<Name>> {
        self.string(t, key).map(|f| Field {
            value: Name::new(&f.value),
            span: f.span,
            key: f.key,
        })
    }

    /// A list of vocabulary words, as written.
    fn names(&mut self, t: &DeTable, key: &'static str) -> Option<Field<Vec<Field<Name>>>> {
        self.strings(t, key).map(|f| Field {
            value: f
                .value
                .into_iter()
                .map(|s| Field {
                    value: Name::new(&s.value),
                    span: s.span,
                    key: s.key,
                })
                .collect(),
            span: f.span,
            key: f.key,
        })
    }

    fn strings(&mut self, t: &DeTable, key: &'static str) -> Option<Field<Vec<Field<String>>>> {
        let (k, v) = self.get(t, key)?;
        let (ks, vs) = (self.span(k.span()), self.span(v.span()));
        let DeValue::Array(a) = v.get_ref() else {
            if let DeValue::String(s) = v.get_ref() {
                self.report_fix(
                    key,
                    Code::InvalidValue,
                    vs,
                    format!("`{key}` must be an array: write [\"{s}\"]"),
                    vec![format!("[\"{s}\"]")],
                    false,
                );
            } else {
                self.wrong_type(key, vs, v.get_ref(), "an array of strings");
            }
            return None;
        };
        let mut out = Vec::with_capacity(a.len());
        for item in a.iter() {
            let is = self.span(item.span());
            match item.get_ref() {
                DeValue::String(s) => out.push(Field {
                    value: s.to_string(),
                    span: is,
                    key: ks,
                }),
                other => {
                    self.report(
                        key,
                        Code::InvalidValue,
                        is,
                        format!(
                            "every entry of `{key}` must be a string, not {}",
                            type_name(other)
                        ),
                    );
                }
            }
        }
        Some(Field {
            value: out,
            span: vs,
            key: ks,
        })
    }

    /// A number from 0 to 100 (a percent).
    fn percent(&mut self, t: &DeTable, key: &'static str) -> Option<Field<f64>> {
        let (k, v) = self.get(t, key)?;
        let (ks, vs) = (self.span(k.span()), self.span(v.span()));
        let n = match v.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                .ok()
                .map(|x| x as f64),
            DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().ok(),
            other => {
                self.wrong_type(key, vs, other, "a number from 0 to 100 (percent)");
                return None;
            }
        };
        match n {
            Some(x) if x.is_finite() && (0.0..=100.0).contains(&x) => Some(Field {
                value: x,
                span: vs,
                key: ks,
            }),
            _ => {
                self.report(
                    key,
                    Code::InvalidValue,
                    vs,
                    format!("`{key}` must be a percent from 0 to 100"),
                );
                None
            }
        }
    }

    /// A string or an array of strings.
    fn one_or_many(&mut self, t: &DeTable, key: &'static str) -> Option<Field<Vec<Field<String>>>> {
        let (k, v) = self.get(t, key)?;
        if let DeValue::String(s) = v.get_ref() {
            let (ks, vs) = (self.span(k.span()), self.span(v.span()));
            return Some(Field {
                value: vec![Field {
                    value: s.to_string(),
                    span: vs,
                    key: ks,
                }],
                span: vs,
                key: ks,
            });
        }
        self.strings(t, key)
    }

    /// `cas`: one CAS registry number or an array of them, each checked
    /// against its check digit.
    fn cas(&mut self, t: &DeTable) -> Option<Field<Vec<Field<String>>>> {
        let mut f = self.one_or_many(t, "cas")?;
        let mut ok = Vec::with_capacity(f.value.len());
        for s in std::mem::take(&mut f.value) {
            if is_cas_number(&s.value) {
                ok.push(s);
            } else {
                self.report(
                    "cas",
                    Code::InvalidValue,
                    s.span,
                    format!(
                        "`{}` is not a valid CAS registry number (digits-digits-check digit, e.g. \"14802-03-0\"; the check digit must match)",
                        s.value
                    ),
                );
            }
        }
        f.value = ok;
        Some(f)
    }

    /// `integrates`: any part name counts (the FAQ's list is open, "等零部件");
    /// a name that is not a known one gets an `unknown-part` hint with the
    /// nearest known name.
    fn parts(&mut self, t: &DeTable) -> Option<Field<Vec<Field<String>>>> {
        let f = self.strings(t, "integrates")?;
        let names = Integrate::names();
        for s in &f.value {
            if Integrate::parse(&s.value).is_some() {
                continue;
            }
            // "", "none", "-", "magnet": not a part name; counts as nothing.
            if let Some(not) = super::not_a_part(&s.value) {
                let msg = not.message(&s.value);
                self.report("integrates", Code::InvalidValue, s.span, msg);
                continue;
            }
            let near = nearest(&s.value, names.iter().copied());
            let msg = match near {
                Some(n) => format!(
                    "`{}` is not a known part name; it still counts as an integrated part (the FAQ's list is open). If you meant \"{n}\", use the known name so exclusions recognise it",
                    s.value
                ),
                None => format!(
                    "`{}` is not a known part name; it still counts as an integrated part (the FAQ's list is open). Known: {}",
                    s.value,
                    names.join(", ")
                ),
            };
            self.diags.push(
                Diagnostic::new(Code::UnknownPart, s.span, msg)
                    .with_sku(self.sku.as_deref())
                    .with_string_replacements(
                        near.map(|n| vec![n.to_string()]).unwrap_or_default(),
                    ),
            );
        }
        Some(f)
    }

    fn country(&mut self, key: &'static str, f: Field<String>) -> Option<Field<String>> {
        if countries::is_country(&f.value) {
            return Some(f);
        }
        let upper = f.value.to_ascii_uppercase();
        let (msg, fix) = if countries::is_country(&upper) {
            (
                format!(
                    "`{}` must be an upper-case ISO 3166-1 alpha-2 code: write \"{upper}\"",
                    f.value
                ),
                vec![upper],
            )
        } else {
            (
                format!(
                    "`{}` in `{key}` is not an ISO 3166-1 alpha-2 country code (e.g. \"DE\", \"US\", \"JP\")",
                    f.value
                ),
                vec![],
            )
        };
        self.report_fix(key, Code::InvalidValue, f.span, msg, fix, true);
        None
    }

    /// Keys not in `known` are unknown fields, with the nearest known key suggested.
    fn unknown_keys(&mut self, t: &DeTable, known: &'static [&'static str], what: &str) {
        for (k, _) in t.iter() {
            let name: &str = k.get_ref();
            if known.contains(&name) {
                continue;
            }
            let span = self.span(k.span());
            let near = nearest(name, known.iter().copied());
            let msg = match near {
                Some(n) => format!("unknown key `{name}` in {what}: did you mean `{n}`?"),
                None => format!(
                    "unknown key `{name}` in {what}; known keys: {}",
                    known.join(", ")
                ),
            };
            self.diags.push(
                Diagnostic::new(Code::UnknownField, span, msg)
                    .with_sku(self.sku.as_deref())
                    .with_replacements(near.map(|n| vec![n.to_string()]).unwrap_or_default()),
            );
        }
    }

    fn composition(&mut self, t: &DeTable) -> Option<Composition> {
        let (k, v) = self.get(t, "composition")?;
        let (ks, vs) = (self.span(k.span()), self.span(v.span()));
        let DeValue::Table(ct) = v.get_ref() else {
            self.wrong_type("composition", vs, v.get_ref(), "a table of element or formula = mass percent, e.g. { Nd = 29.5, Dy = 2.5, Fe = 67.0, B = 1.0 }");
            return None;
        };
        let mut comp = Composition {
            entries: Vec::with_capacity(ct.len()),
            span: vs,
            key: ks,
        };
        let mut bad = false;
        for (ek, ev) in ct.iter() {
            let (eks, evs) = (self.span(ek.span()), self.span(ev.span()));
            let name = ek.get_ref().to_string();
            if let DeValue::Table(_) = ev.get_ref() {
                bad = true;
                self.report("composition", Code::InvalidValue, eks, format!("`{name}.…` was read as a dotted key: quote formulas that contain a dot, e.g. \"Tb0.3Dy0.7Fe2\" = 100"));
                continue;
            }
            let shares = match parse_formula(&name) {
                Ok(s) => s,
                Err(e) => {
                    bad = true;
                    let fix = crate::chem::suggest_element(&name)
                        .map(|s| vec![s.to_string()])
                        .unwrap_or_default();
                    self.report_fix("composition", Code::InvalidValue, eks, format!("{}: composition keys are element symbols (Dy) or formulas (Dy2O3, Sm2Co17)", e.message), fix, false);
                    continue;
                }
            };
            let percent = match ev.get_ref() {
                DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                    .ok()
                    .map(|x| x as f64),
                DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().ok(),
                other => {
                    bad = true;
                    self.report(
                        "composition",
                        Code::InvalidValue,
                        evs,
                        format!(
                            "the mass percent of `{name}` must be a number from 0 to 100, not {}",
                            type_name(other)
                        ),
                    );
                    continue;
                }
            };
            match percent {
                Some(p) if p.is_finite() && (0.0..=100.0).contains(&p) => {
                    comp.entries.push(CompositionEntry {
                        key: name.into_boxed_str(),
                        key_span: eks,
                        percent: p,
                        value_span: evs,
                        shares: shares.into_boxed_slice(),
                    });
                }
                _ => {
                    bad = true;
                    self.report(
                        "composition",
                        Code::InvalidValue,
                        evs,
                        format!("the mass percent of `{name}` must be a number from 0 to 100"),
                    );
                }
            }
        }
        comp.entries.sort_by_key(|e| e.key_span.start());
        let total = comp.total();
        if total > 100.5 {
            self.diags.push(
                Diagnostic::new(
                    Code::CompositionOver100,
                    vs,
                    format!(
                        "composition sums to {total:.2} %, more than 100 %: check the mass percents"
                    ),
                )
                .with_sku(self.sku.as_deref()),
            );
        }
        if !bad && total == 0.0 {
            // Nothing in it: a composition of zeros would classify the
            // product as free of every controlled element. Invalid, so the
            // product is `indeterminate` (contract §5: absence of data is
            // never clearance).
            self.report(
                "composition",
                Code::InvalidValue,
                vs,
                "composition sums to 0 %: it says the product contains nothing, which no product does, and would read as free of every controlled element; give the mass percents, or remove the field if they are not known".to_string(),
            );
        }
        if bad && comp.entries.is_empty() {
            return None;
        }
        Some(comp)
    }
}

pub(crate) fn enum_message(key: &str, value: &str, names: &[&str]) -> String {
    match nearest(value, names.iter().copied()) {
        Some(n) => format!(
            "`{value}` is not a valid `{key}`: did you mean \"{n}\"? Valid values: {}",
            names.join(", ")
        ),
        None => format!(
            "`{value}` is not a valid `{key}`; valid values: {}",
            names.join(", ")
        ),
    }
}

/// Every valid value, the nearest to `value` first.
pub(crate) fn ordered_choices(value: &str, names: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    v.sort_by_key(|n| strsim::damerau_levenshtein(value, n));
    v
}

/// Whether `s` is a CAS registry number: 2–7 digits, 2 digits, a check
/// digit equal to the weighted digit sum mod 10.
pub fn is_cas_number(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let [a, b, c] = parts[..] else {
        return false;
    };
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|d| d.is_ascii_digit());
    let shaped = digits(a)
        && digits(b)
        && digits(c)
        && (2..=7).contains(&a.len())
        && b.len() == 2
        && c.len() == 1;
    if !shaped {
        return false;
    }
    let body: Vec<u32> = a
        .bytes()
        .chain(b.bytes())
        .map(|d| u32::from(d - b'0'))
        .collect();
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| (i as u32 + 1) * d)
        .sum();
    u32::from(c.as_bytes()[0] - b'0') == sum % 10
}

fn read_catalogue(r: &mut Reader, t: &DeTable, header: Span, span: Span) -> CatalogueTable {
    r.unknown_keys(t, CATALOGUE_KEYS, "[catalogue]");
    CatalogueTable {
        header,
        span,
        name: r.string(t, "name"),
        exporter: r.string(t, "exporter"),
        as_of: r.date(t, "as_of"),
        rules: r.nonempty_string(t, "rules"),
    }
}

/// A `[[screening]]` table (contract §4b). Every key is required before the
/// record counts; a missing one is said once, on the header.
fn read_screening(r: &mut Reader, t: &DeTable, header: Span, span: Span) -> Screening {
    r.unknown_keys(t, SCREENING_KEYS, "[[screening]]");
    let x = Screening {
        header,
        span,
        party: r.nonempty_string(t, "party"),
        entry: r.nonempty_string(t, "entry"),
        reason: r.nonempty_string(t, "reason"),
        by: r.nonempty_string(t, "by"),
        on: r.date(t, "on"),
    };
    let missing: Vec<String> = [
        ("party", x.party.is_some()),
        ("entry", x.entry.is_some()),
        ("reason", x.reason.is_some()),
        ("by", x.by.is_some()),
        ("on", x.on.is_some()),
    ]
    .into_iter()
    .filter(|(k, present)| !present && r.get(t, k).is_none())
    .map(|(k, _)| format!("`{k}`"))
    .collect();
    if !missing.is_empty() {
        r.diags.push(Diagnostic::new(
            Code::MissingField,
            header,
            format!("screening record is missing {}: a reviewed non-match needs party, entry (the list entry's id), reason, by and on (the review date); until they are filled it silences nothing", missing.join(", ")),
        ));
    }
    x
}

fn read_licence(r: &mut Reader, t: &DeTable, header: Span, span: Span) -> Licence {
    let invalid_before = r.invalid.len();
    r.unknown_keys(t, LICENCE_KEYS, "[[licence]]");
    let id = r.nonempty_string(t, "id");
    let kind = r.name(t, "type");
    let issued = r.date(t, "issued");
    let expires = r.date(t, "expires");
    // Control codes are checked by the engine against the pack's grammar.
    let items = r.strings(t, "items");
    let end_users = r.strings(t, "end_users");
    let mut destinations = r.strings(t, "destinations");
    if let Some(f) = destinations.as_mut() {
        let v = std::mem::take(&mut f.value);
        f.value = v
            .into_iter()
            .filter_map(|c| r.country("destinations", c))
            .collect();
    }
    let purposes = r.names(t, "purposes");
    let limits = r.amounts(t);
    let mut missing = Vec::new();
    for (name, present) in [
        ("id", id.is_some()),
        ("type", kind.is_some()),
        ("issued", issued.is_some()),
        ("expires", expires.is_some()),
    ] {
        if !present && r.get(t, name).is_none() {
            missing.push(name);
        }
    }
    if !missing.is_empty() {
        let list = missing
            .iter()
            .map(|m| format!("`{m}`"))
            .collect::<Vec<_>>()
            .join(", ");
        r.diags.push(Diagnostic::new(
            Code::MissingField,
            header,
            format!("licence is missing required {list}: every licence needs id, type (one of the rule pack's licence types), issued and expires"),
        ));
    }
    if let (Some(i), Some(e)) = (&issued, &expires) {
        if e.value < i.value {
            r.diags.push(Diagnostic::new(
                Code::InvalidValue,
                e.span,
                format!(
                    "licence expires ({}) before it is issued ({}): swap or correct the dates",
                    e.value, i.value
                ),
            ));
        }
    }
    Licence {
        header,
        span,
        id,
        kind,
        issued,
        expires,
        items,
        end_users,
        destinations,
        purposes,
        limits,
        broken: false,
        invalid: r.invalid.split_off(invalid_before.min(r.invalid.len())),
    }
}

fn read_product(r: &mut Reader, t: &DeTable, header: Span, span: Span) -> Product {
    let sku = r.nonempty_string(t, "sku");
    r.sku = sku.as_ref().map(|s| s.value.clone());
    r.unknown_keys(t, PRODUCT_KEYS, "[[product]]");
    if sku.is_none() && r.get(t, "sku").is_none() {
        r.diags.push(Diagnostic::new(Code::MissingField, header, "product has no `sku`: every product needs a unique `sku` so licences, components and reports can name it"));
    }
    let mut p = Product {
        header,
        span,
        sku,
        name: r.string(t, "name"),
        form: r.name(t, "form"),
        composition: r.composition(t),
        components: r.strings(t, "components"),
        mounting: r.enum_value(t, "mounting", Mounting::parse, &Mounting::names()),
        ..Product::default()
    };
    let mut more = ProductMore {
        integrates: r.parts(t),
        ..ProductMore::default()
    };
    p.moulded = r.boolean(t, "moulded");
    p.calcined = r.boolean(t, "calcined");
    more.category = r.string(t, "category");
    p.end_user = r.nonempty_string(t, "end_user");
    more.transfer = r.name(t, "transfer");
    more.purpose = r.name(t, "purpose");
    p.licence = r.nonempty_string(t, "licence");
    p.ship_date = r.ship_date(t);
    more.cn_origin = r.boolean(t, "cn_origin");
    more.cn_content_value = r.percent(t, "cn_content_value");
    more.cn_technology = r.boolean(t, "cn_technology");
    more.cas = r.cas(t);
    more.collectors = r.strings(t, "collectors");
    more.technology_area = r.one_or_many(t, "technology_area").map(|f| {
        let names = TechnologyArea::names();
        let mut out = Vec::with_capacity(f.value.len());
        for s in f.value {
            match TechnologyArea::parse(&s.value) {
                Some(a) => out.push(Field {
                    value: a,
                    span: s.span,
                    key: s.key,
                }),
                None => {
                    let msg = enum_message("technology_area", &s.value, &names);
                    let fix = ordered_choices(&s.value, &names);
                    r.report_fix(
                        "technology_area",
                        Code::InvalidValue,
                        s.span,
                        msg,
                        fix,
                        true,
                    );
                }
            }
        }
        Field {
            value: out,
            span: f.span,
            key: f.key,
        }
    });
    p.export = r.export_facts(t).map(Box::new);
    more.made_in = r.string(t, "made_in").and_then(|f| r.country("made_in", f));
    more.exported_from = r
        .string(t, "exported_from")
        .and_then(|f| r.country("exported_from", f));
    p.destination = r
        .string(t, "destination")
        .and_then(|f| r.country("destination", f));
    // Checked by the engine against the pack's code grammar.
    more.control_code = r.string(t, "control_code");
    more.hs_code = match r.get(t, "hs_code") {
        Some((_, v)) if matches!(v.get_ref(), DeValue::Integer(_)) => {
            let vs = r.span(v.span());
            r.report("hs_code", Code::InvalidValue, vs, "`hs_code` must be a string of digits: quote it (\"8505111000\") so leading zeros survive".into());
            None
        }
        _ => r.string(t, "hs_code").and_then(|f| {
            if !f.value.is_empty() && f.value.bytes().all(|b| b.is_ascii_digit()) {
                Some(f)
            } else {
                r.report(
                    "hs_code",
                    Code::InvalidValue,
                    f.span,
                    format!(
                        "`hs_code` must be digits only (e.g. \"8505111000\"), not \"{}\"",
                        f.value
                    ),
                );
                None
            }
        }),
    };
    p.set_more(more);
    p.invalid = std::mem::take(&mut r.invalid).into();
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[catalogue]\nas_of = 2026-06-01\n\n[[licence]]\nid = \"L\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2026-12-31\n\n[[product]]\nsku = \"A\"\nform = \"magnet\"\ncomposition = { Nd = 28, Dy = 3, Fe = 68, B = 1 }\n\n[[product]]\nsku = \"B\"\nform = \"motr\"\n\n[[product]]\nsku = \"C\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 100 }\n";

    /// Found by fuzzing (`document_edits`): a character typed between the
    /// quotes of a `"""` ends a multi-line string the splitter saw before
    /// the edit; the table bounds change, so the in-place path must not apply.
    #[test]
    fn cas_numbers_are_checked_by_their_check_digit() {
        // Ann. 56/2025 1C914.c: the five extractants' CAS numbers.
        for ok in [
            "14802-03-0",
            "298-07-7",
            "1338-24-5",
            "68814-95-9",
            "83411-71-6",
        ] {
            assert!(is_cas_number(ok), "{ok}");
        }
        for bad in [
            "14802-03-1",
            "298-7-7",
            "1-03-0",
            "abc",
            "",
            "14802-03-0-1",
            "12345678-03-0",
        ] {
            assert!(!is_cas_number(bad), "{bad}");
        }
    }

    #[test]
    fn splitting_a_triple_quote_is_not_an_in_place_edit() {
        let old = "\n\n\n\n[\0\0'!\n\u{1}\"\"t\"\"\0\"\u{1}\n\n\n\n[b]\r \r\u{7}e=\0 !\u{1}!\0t\0\u{1}\n\n\n\n[b]\r\r\0 \r\u{7}e=i\0\u{1}\n\n\n\n[b]\ri\0\0\0'!\n\u{1}\"\"\"\u{13}\u{11}\u{11}\u{11}\u{11}\r_\"\"t\0\u{1}\n\n\n\n[b]\r\n\n\n\n[b]\r=\0 \r\u{7}e=\u{1}!\0t\0\u{1}\n\n\n\n[b]\r\0 ''6\r\u{7}e==\0 \r\u{7}e=\0\u{1}\n\n\n\n[b]\r \r\u{7}e=\0 \0 \r\u{7}\u{1d}\0 \0 \r\u{7}\u{1d}\0 \0 \r\u{7}\n\n\n\n[b]";
        let new = old.replacen("\"\"\"\u{13}", "\"\"\u{1}\"\u{13}", 1);
        assert_ne!(new, old);
        let (cat, changed) = reparse(parse(old), old, &new);
        assert_eq!(cat, parse(&new));
        assert!(!changed.names_kept);
        let simple = "[[product]]\nsku = \"A\"\nname = \"\"\"x\"\"\"\n\n[[product]]\nsku = \"B\"\n";
        let typed = simple.replacen("\"\"\"x", "\"\"y\"x", 1);
        assert_eq!(reparse(parse(simple), simple, &typed).0, parse(&typed));
    }

    /// An index of names by position holds after an edit only if no SKU,
    /// licence id or component list changed and no table came or went.
    #[test]
    fn an_edit_says_whether_names_kept_their_places() {
        let text = TEXT.replace("sku = \"B\"\n", "sku = \"B\"\ncomponents = [\"A\"]\n");
        let kept = |from: &str, to: &str| {
            let new = text.replacen(from, to, 1);
            assert_ne!(new, text, "{from}");
            let (cat, changed) = reparse(parse(&text), &text, &new);
            assert_eq!(cat, parse(&new));
            changed.names_kept
        };
        assert!(kept("form = \"oxide\"", "form = \"oxidex\""));
        assert!(kept("Dy2O3 = 100", "Dy2O3 = 99"));
        assert!(kept("type = \"general\"", "type = \"generalx\""));
        assert!(!kept("sku = \"C\"", "sku = \"Cx\""), "SKU renamed");
        assert!(!kept("id = \"L\"", "id = \"Lx\""), "licence id renamed");
        assert!(
            !kept("components = [\"A\"]", "components = [\"Ax\"]"),
            "component renamed"
        );
        assert!(
            !kept(
                "\n[[product]]\nsku = \"C\"",
                "\n[[product]]\nsku = \"Z\"\n\n[[product]]\nsku = \"C\""
            ),
            "product added"
        );
        assert!(Changed::unchanged(&parse(&text), text.len()).names_kept);
    }

    #[test]
    fn table_keys_are_read_again_in_source_order_even_from_a_broken_table() {
        let cat = parse(TEXT);
        let p = &cat.products[0];
        assert_eq!(
            table_keys(TEXT, p.span, "product"),
            ["sku", "form", "composition"]
        );
        let broken = TEXT.replace("form = \"magnet\"", "form = \"magnet\"\nname = ");
        let cat = parse(&broken);
        let keys = table_keys(&broken, cat.products[0].span, "product");
        assert!(
            keys.starts_with(&["sku".to_string(), "form".to_string()]),
            "{keys:?}"
        );
        assert!(table_keys(TEXT, Span::new(5, 1 << 30), "product").is_empty());
    }

    fn edit(text: &str, at: usize, del: usize, ins: &str) -> String {
        let mut t = text.to_string();
        t.replace_range(at..(at + del).min(text.len()), ins);
        t
    }

    #[test]
    fn reparse_equals_a_fresh_parse_and_names_what_changed() {
        let old = parse(TEXT);
        let at = TEXT.find("motr").unwrap();
        let new_text = edit(TEXT, at, 4, "motor");
        let (cat, changed) = reparse(old, TEXT, &new_text);
        assert_eq!(cat, parse(&new_text));
        assert_eq!(changed.skus, ["B", "B"]);
        assert!(changed.licences.is_empty() && !changed.catalogue);
    }

    #[test]
    fn reparse_survives_random_edits() {
        let pieces = [
            "",
            "[[product]]\n",
            "sku = \"Z\"\n",
            "\"",
            "[",
            "]",
            "\n",
            "𝄞",
            "# c\n",
            "{",
            "= 1\n",
            "\r\n",
        ];
        let mut text = TEXT.to_string();
        let mut cat = parse(&text);
        let mut seed = 11u64;
        let mut rnd = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as usize) % n.max(1)
        };
        for _ in 0..400 {
            let at = crate::text::floor_char_boundary(&text, rnd(text.len() + 1));
            let end = crate::text::floor_char_boundary(&text, (at + rnd(6)).min(text.len()));
            let new_text = edit(&text, at, end - at, pieces[rnd(pieces.len())]);
            let (next, _) = reparse(cat, &text, &new_text);
            assert_eq!(next, parse(&new_text), "after editing to:\n{new_text}");
            cat = next;
            text = new_text;
        }
    }
}
