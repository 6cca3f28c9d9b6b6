//! CSV catalogues (docs/format.md §10): RFC 4180 text, UTF-8 (a BOM is
//! skipped), a header row naming the columns, one product (or licence, or
//! shipment) a row. Fields are tokenized with `csv-core`, keeping the byte span of every
//! cell; each row becomes a TOML-shaped table (`DeTable`) whose values point
//! at their cells, and is read by the very reader the TOML format uses, so
//! values are validated with the same rules and messages. Errors are local:
//! a bad row never stops the others.

use super::model::*;
use super::parse::{self, Changed, Kept, LICENCE_KEYS, PRODUCT_KEYS, Parsed, SHIPMENT_KEYS};
use crate::diagnostic::{Code, Diagnostic, nearest};
use crate::text::Span;
use csv_core::{ReadFieldResult, Reader};
use rayon::prelude::*;
use std::borrow::Cow;
use toml::Spanned;
use toml::de::{DeArray, DeTable, DeValue};

/// What the rows of a CSV file are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CsvKind {
    /// `*.catalogue.csv`: one `[[product]]` a row.
    Products,
    /// `*.licences.csv`: one `[[licence]]` a row.
    Licences,
    /// `*.shipments.csv`: one `[[shipment]]` a row.
    Shipments,
}

impl CsvKind {
    /// The columns this kind of file may have: the table's keys.
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            CsvKind::Products => PRODUCT_KEYS,
            CsvKind::Licences => LICENCE_KEYS,
            CsvKind::Shipments => SHIPMENT_KEYS,
        }
    }

    /// The table a row of this kind is.
    pub fn table(self) -> TableKind {
        match self {
            CsvKind::Products => TableKind::Product,
            CsvKind::Licences => TableKind::Licence,
            CsvKind::Shipments => TableKind::Shipment,
        }
    }

    /// The TOML table header of a row, for `import`.
    pub fn toml_header(self) -> &'static str {
        match self {
            CsvKind::Products => "[[product]]",
            CsvKind::Licences => "[[licence]]",
            CsvKind::Shipments => "[[shipment]]",
        }
    }
}

/// How a column's cells are read. A new table kind (shipments) adds its
/// keys to these lists; every other key is text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A string, as written.
    Text,
    /// `;`-separated strings (an array in TOML).
    List,
    /// `Nd=29.5; Dy=2.5`: element or formula = mass percent.
    Composition,
    /// A date, boolean or number: read as a TOML literal, else as text (and
    /// then reported by the validator as the wrong type).
    Literal,
}

const LIST_KEYS: &[&str] = &[
    "components",
    "integrates",
    "cas",
    "collectors",
    "technology_area",
    "items",
    "end_users",
    "destinations",
    "purposes",
];
const LITERAL_KEYS: &[&str] = &[
    "ship_date",
    "issued",
    "expires",
    "as_of",
    "moulded",
    "calcined",
    "cn_origin",
    "cn_technology",
    "cn_content_value",
    "quantity",
    "value",
];

/// The shape of a column's cells.
pub fn shape(key: &str) -> Shape {
    if key == "composition" {
        Shape::Composition
    } else if LIST_KEYS.contains(&key) {
        Shape::List
    } else if LITERAL_KEYS.contains(&key) {
        Shape::Literal
    } else {
        Shape::Text
    }
}

/// One cell: where it is in the file (quotes included) and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub raw: Span,
    pub content: String,
    /// For a quoted cell: the file offset of each byte of `content` (None
    /// when the cell is not quoted, its content then being its raw text).
    map: Option<Vec<u32>>,
    /// A quoted cell whose closing quote is missing.
    pub unclosed: bool,
}

impl Cell {
    /// The file span of content bytes `a..b`.
    pub fn span_of(&self, a: usize, b: usize) -> Span {
        match &self.map {
            None if self.content.len() == self.raw.len() => {
                Span::new(self.raw.start() + a, self.raw.start() + b)
            }
            None => self.raw,
            Some(m) => {
                let at = |i: usize| m.get(i).map(|&x| x as usize);
                match (at(a), b.checked_sub(1).and_then(at)) {
                    (Some(s), Some(e)) if a < b => Span::new(s, e + 1),
                    (Some(s), _) => Span::new(s, s),
                    _ => self.raw,
                }
            }
        }
    }

    /// The content without surrounding white space, and its file span.
    pub fn trimmed(&self) -> (&str, Span) {
        let c = &self.content;
        let a = c.len() - c.trim_start().len();
        let b = c.trim_end().len().max(a);
        (&c[a..b], self.span_of(a, b))
    }

    /// The `;`-separated pieces of the content, trimmed, empty ones left out.
    pub fn pieces(&self) -> Vec<(&str, Span)> {
        let mut out = Vec::new();
        let mut from = 0;
        for piece in self.content.split(';') {
            let a = from + (piece.len() - piece.trim_start().len());
            let b = from + piece.trim_end().len().max(a - from);
            if a < b {
                out.push((&self.content[a..b], self.span_of(a, b)));
            }
            from += piece.len() + 1;
        }
        out
    }
}

/// One record: its cells, and its span from the first cell to the last.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub span: Span,
    pub cells: Vec<Cell>,
}

impl Row {
    fn blank(&self) -> bool {
        self.cells.iter().all(|c| c.content.trim().is_empty())
    }
}

/// The records of `text[from..to]` (offsets are the file's). Empty lines are
/// skipped; CR, LF and CRLF end a record; a BOM at the very start is skipped.
pub fn rows(text: &str, from: usize, to: usize) -> Vec<Row> {
    let mut t = Tokenizer::new(text, to);
    let mut pos = from;
    if pos == 0 && text.starts_with('\u{feff}') {
        pos = 3;
    }
    let mut out = Vec::new();
    while let Some((row, next)) = t.row(pos) {
        out.push(row);
        pos = next;
    }
    out
}

/// Reads records one at a time.
struct Tokenizer<'t> {
    bytes: &'t [u8],
    rdr: Reader,
    buf: Vec<u8>,
}

impl<'t> Tokenizer<'t> {
    fn new(text: &'t str, to: usize) -> Self {
        Tokenizer {
            bytes: &text.as_bytes()[..to.min(text.len())],
            rdr: Reader::new(),
            buf: vec![0u8; 256],
        }
    }

    /// Where the next record starts at or after `pos` (line breaks skipped).
    fn record_start(&self, mut pos: usize) -> usize {
        while pos < self.bytes.len() && matches!(self.bytes[pos], b'\r' | b'\n') {
            pos += 1;
        }
        pos
    }

    /// The record starting at or after `pos`, and where reading goes on.
    fn row(&mut self, pos: usize) -> Option<(Row, usize)> {
        let bytes = self.bytes;
        let mut pos = self.record_start(pos);
        if pos >= bytes.len() {
            return None;
        }
        self.rdr.reset();
        let mut cells: Vec<Cell> = Vec::new();
        loop {
            let start = pos;
            let mut len = 0;
            let record_end = loop {
                let (res, nin, nout) = self.rdr.read_field(&bytes[pos..], &mut self.buf[len..]);
                pos += nin;
                len += nout;
                match res {
                    ReadFieldResult::InputEmpty if pos < bytes.len() || nin > 0 || nout > 0 => {}
                    ReadFieldResult::InputEmpty => {
                        // Input already empty: the next call ends the field.
                        let (res, _, nout) = self.rdr.read_field(&[], &mut self.buf[len..]);
                        len += nout;
                        break !matches!(res, ReadFieldResult::Field { record_end: false });
                    }
                    ReadFieldResult::OutputFull => {
                        let n = self.buf.len() * 2;
                        self.buf.resize(n, 0);
                    }
                    ReadFieldResult::Field { record_end } => break record_end,
                    ReadFieldResult::End => break true,
                }
            };
            let mut end = pos;
            if !record_end {
                end = end.saturating_sub(1).max(start);
            } else {
                if end > start && bytes[end - 1] == b'\n' {
                    end -= 1;
                }
                if end > start && bytes[end - 1] == b'\r' {
                    end -= 1;
                }
            }
            let content = String::from_utf8_lossy(&self.buf[..len]).into_owned();
            cells.push(cell(bytes, start, end, content));
            if record_end {
                let first = cells.first().map_or(start, |c| c.raw.start());
                return Some((
                    Row {
                        span: Span::new(first, end),
                        cells,
                    },
                    pos,
                ));
            }
        }
    }
}

fn cell(bytes: &[u8], start: usize, end: usize, content: String) -> Cell {
    let raw = &bytes[start..end];
    if raw.first() != Some(&b'"') {
        return Cell {
            raw: Span::new(start, end),
            content,
            map: None,
            unclosed: false,
        };
    }
    let mut mine = Vec::with_capacity(raw.len());
    let mut map = Vec::with_capacity(raw.len());
    let mut closed = false;
    let mut i = 1;
    while i < raw.len() {
        if raw[i] == b'"' && !closed {
            if raw.get(i + 1) == Some(&b'"') {
                mine.push(b'"');
                map.push((start + i) as u32);
                i += 2;
                continue;
            }
            closed = true;
            i += 1;
            continue;
        }
        mine.push(raw[i]);
        map.push((start + i) as u32);
        i += 1;
    }
    let map = (mine == content.as_bytes()).then_some(map);
    Cell {
        raw: Span::new(start, end),
        content,
        map,
        unclosed: !closed,
    }
}

/// The first line of a row (where its verdict is shown and whole-row
/// diagnostics point).
fn first_line(text: &str, span: Span) -> Span {
    let body = text.get(span.start()..span.end()).unwrap_or_default();
    let n = body.find(['\n', '\r']).unwrap_or(body.len());
    Span::new(span.start(), span.start() + n)
}

/// The columns of a file: each header cell's key, or None for a column
/// that is not read (unknown, unnamed or repeated).
pub struct Columns {
    pub keys: Vec<Option<&'static str>>,
    pub diagnostics: Vec<Diagnostic>,
    /// A column is named twice: which of its cells counts is unclear, so
    /// every row is read as broken (as a repeated TOML key is a syntax error).
    pub repeated: bool,
}

/// Reads the header row.
pub fn columns(head: &Row, kind: CsvKind) -> Columns {
    let known = kind.keys();
    let mut keys: Vec<Option<&'static str>> = Vec::with_capacity(head.cells.len());
    let mut diagnostics = Vec::new();
    let mut repeated = false;
    for (n, c) in head.cells.iter().enumerate() {
        let (name, span) = c.trimmed();
        let span = if span.is_empty() { c.raw } else { span };
        match known.iter().find(|k| **k == name) {
            Some(k) if keys.contains(&Some(*k)) => {
                repeated = true;
                diagnostics.push(Diagnostic::new(
                    Code::SyntaxError,
                    span,
                    format!("column `{k}` appears twice: keep one (every row is indeterminate until then)"),
                ));
                keys.push(None);
            }
            Some(k) => keys.push(Some(*k)),
            None if name.is_empty() => {
                diagnostics.push(Diagnostic::new(
                    Code::UnknownField,
                    span,
                    format!(
                        "column {} has no name: its cells are not read; name it with one of: {}",
                        n + 1,
                        known.join(", ")
                    ),
                ));
                keys.push(None);
            }
            None => {
                let near = nearest(name, known.iter().copied());
                let msg = match near {
                    Some(k) => format!(
                        "unknown column `{name}`: did you mean `{k}`? Its cells are not read"
                    ),
                    None => format!(
                        "unknown column `{name}`: its cells are not read; known columns: {}",
                        known.join(", ")
                    ),
                };
                diagnostics.push(
                    Diagnostic::new(Code::UnknownField, span, msg)
                        .with_replacements(near.map(|k| vec![k.to_string()]).unwrap_or_default()),
                );
                keys.push(None);
            }
        }
    }
    Columns {
        keys,
        diagnostics,
        repeated,
    }
}

/// Parses a CSV catalogue file.
pub fn parse(text: &str, kind: CsvKind) -> Catalogue {
    let mut cat = Catalogue::default();
    if text.len() > crate::text::MAX_TEXT_BYTES {
        cat.diagnostics.push(Diagnostic::new(
            Code::FileTooLarge,
            Span::new(0, 0),
            "this text is over 4 GiB, more than a catalogue file can hold: split it",
        ));
        return cat;
    }
    let rows = rows(text, 0, text.len());
    let Some((head, body)) = rows.split_first() else {
        return cat;
    };
    let cols = columns(head, kind);
    let mut head_diags = cols.diagnostics;
    if let Some(c) = head.cells.iter().find(|c| c.unclosed) {
        head_diags.push(unclosed(c));
    }
    cat.tables.push(TableRef {
        kind: TableKind::Root,
        span: head.span,
        header: first_line(text, head.span),
        index: 0,
        diagnostics: head_diags,
    });
    let body: Vec<&Row> = body.iter().filter(|r| !r.blank()).collect();
    let read = |row: &&Row| {
        (
            row.span,
            read_row(text, row, &cols.keys, cols.repeated, kind),
        )
    };
    let parsed: Vec<_> = if body.len() >= PARALLEL_ROWS {
        body.par_iter().map(read).collect()
    } else {
        body.iter().map(read).collect()
    };
    cat.products.reserve(parsed.len());
    for (span, p) in parsed {
        push_row(&mut cat, text, span, p);
    }
    cat
}

/// A whole new parse, every name of the old and new file changed.
fn whole(old: Catalogue, new_text: &str, kind: CsvKind) -> (Catalogue, Changed) {
    let new = parse(new_text, kind);
    let mut changed = Changed {
        catalogue: true,
        ..Default::default()
    };
    for c in [&old, &new] {
        changed.skus.extend(
            c.products
                .iter()
                .filter_map(|p| p.sku_str())
                .map(str::to_owned),
        );
        changed.licences.extend(
            c.licences
                .iter()
                .filter_map(|l| l.id_str())
                .map(str::to_owned),
        );
        changed.skus.extend(
            c.shipments
                .iter()
                .filter_map(|s| s.sku_str())
                .map(str::to_owned),
        );
    }
    (new, changed)
}

/// A product's component list, as names.
fn components(p: &Product) -> impl Iterator<Item = &str> {
    p.components
        .iter()
        .flat_map(|f| f.value.iter().map(|c| c.value.as_str()))
        .chain(std::iter::once(if p.components.is_some() {
            ""
        } else {
            "\0"
        }))
}

/// Rows per file above which they are read on all cores.
const PARALLEL_ROWS: usize = 512;

/// Appends a read row to the catalogue.
fn push_row(
    cat: &mut Catalogue,
    text: &str,
    span: Span,
    (parsed, diagnostics): (Parsed, Vec<Diagnostic>),
) {
    let (kind, index) = match parsed {
        Parsed::Product(p) => {
            cat.products.push(p);
            (TableKind::Product, cat.products.len() - 1)
        }
        Parsed::Licence(l) => {
            cat.licences.push(*l);
            (TableKind::Licence, cat.licences.len() - 1)
        }
        Parsed::Shipment(s) => {
            cat.shipments.push(*s);
            (TableKind::Shipment, cat.shipments.len() - 1)
        }
        _ => (TableKind::Other, 0),
    };
    cat.tables.push(TableRef {
        kind,
        span,
        header: first_line(text, span),
        index,
        diagnostics,
    });
}

/// Re-parses after an edit, reading again only the rows the edit touched:
/// the rows before it are kept, the text from the first touched row is
/// tokenized again until a record starts where one started before the edit
/// (past the edited bytes: from there the old rows are what a fresh read
/// gives, moved by the edit's length), and those rows are moved, not read.
/// Gives the same catalogue as `parse(new_text)`; an edit of the header row
/// parses the whole file.
pub fn reparse(
    old: Catalogue,
    old_text: &str,
    new_text: &str,
    kind: CsvKind,
) -> (Catalogue, Changed) {
    let (ob, nb) = (old_text.as_bytes(), new_text.as_bytes());
    let p = parse::common_prefix(ob, nb);
    let s = parse::common_suffix(ob, nb).min(ob.len().min(nb.len()) - p);
    reparse_edit(
        old,
        new_text,
        p,
        nb.len() - s,
        nb.len() as isize - ob.len() as isize,
        kind,
    )
}

/// [`reparse`] for an edit known to lie in new bytes `p..edit_end`, the
/// text's length having changed by `delta` (no need for the old text).
pub fn reparse_edit(
    old: Catalogue,
    new_text: &str,
    p: usize,
    edit_end: usize,
    delta: isize,
    kind: CsvKind,
) -> (Catalogue, Changed) {
    let nb = new_text.as_bytes();
    let old_len_bytes = nb.len().saturating_add_signed(-delta);
    // Tables wholly before the edit, their terminator too, are kept; never
    // the last one, which may end at the end of the file (an unclosed quote
    // runs there, and text added after it may continue it).
    let n = old.tables.len();
    let k = old
        .tables
        .partition_point(|t| t.span.end() < p)
        .min(n.saturating_sub(1));
    let header_kept = old.diagnostics.is_empty()
        && new_text.len() <= crate::text::MAX_TEXT_BYTES
        && k >= 1
        && old.tables[0].kind == TableKind::Root;
    if !header_kept {
        return whole(old, new_text, kind);
    }
    let h = old.tables[0].span;
    let Some(head) = rows(new_text, h.start(), h.end()).into_iter().next() else {
        return whole(old, new_text, kind);
    };
    let cols = columns(&head, kind);
    let from = old.tables[k - 1].span.end();
    let mut t = Tokenizer::new(new_text, new_text.len());
    let mut middle = Vec::new();
    let mut pos = from;
    let j = loop {
        let q = t.record_start(pos);
        if q >= edit_end {
            // Past the edit: the old text here, moved. A record starting
            // where an old row started reads as that row did.
            let old_q = q as isize - delta;
            let j = old
                .tables
                .partition_point(|x| (x.span.start() as isize) < old_q);
            if j >= k
                && old
                    .tables
                    .get(j)
                    .is_some_and(|x| x.span.start() as isize == old_q)
            {
                break j;
            }
        }
        match t.row(q) {
            Some((row, next)) => {
                middle.push(row);
                pos = next;
            }
            None => break old.tables.len(),
        }
    };
    let Catalogue {
        mut products,
        mut licences,
        mut shipments,
        tables,
        ..
    } = old;
    let count = |ts: &[TableRef], kind: TableKind| ts.iter().filter(|t| t.kind == kind).count();
    let (pp, pl) = (
        count(&tables[..k], TableKind::Product),
        count(&tables[..k], TableKind::Licence),
    );
    let (sp, sl) = (
        count(&tables[j..], TableKind::Product),
        count(&tables[j..], TableKind::Licence),
    );
    let (ps, ss) = (
        count(&tables[..k], TableKind::Shipment),
        count(&tables[j..], TableKind::Shipment),
    );
    let old_len = products.len();
    let mut suffix_products = products.split_off(old_len - sp);
    let gone_products = products.split_off(pp);
    let mut suffix_licences = licences.split_off(licences.len() - sl);
    let gone_licences = licences.split_off(pl);
    let mut suffix_shipments = shipments.split_off(shipments.len() - ss);
    let gone_shipments = shipments.split_off(ps);
    let kept_from = tables.get(j).map_or(old_len_bytes, |t| t.span.start());
    let mut cat = Catalogue {
        products,
        licences,
        shipments,
        tables: Vec::with_capacity(tables.len()),
        ..Catalogue::default()
    };
    let mut tables = tables;
    let suffix_tables = tables.split_off(j);
    tables.truncate(k);
    cat.tables = tables;
    for row in middle.iter().filter(|r| !r.blank()) {
        let read = read_row(new_text, row, &cols.keys, cols.repeated, kind);
        push_row(&mut cat, new_text, row.span, read);
    }
    let mut changed = Changed::default();
    let new_products = &cat.products[pp..];
    let new_licences = &cat.licences[pl..];
    let new_shipments = &cat.shipments[ps..];
    changed.names_kept = gone_products.len() == new_products.len()
        && gone_licences.len() == new_licences.len()
        && gone_shipments.len() == new_shipments.len()
        && gone_shipments
            .iter()
            .zip(new_shipments)
            .all(|(a, b)| a.sku_str() == b.sku_str())
        && gone_products
            .iter()
            .zip(new_products)
            .all(|(a, b)| a.sku_str() == b.sku_str() && components(a).eq(components(b)))
        && gone_licences
            .iter()
            .zip(new_licences)
            .all(|(a, b)| a.id_str() == b.id_str());
    for p in gone_products.iter().chain(new_products) {
        changed.skus.extend(p.sku_str().map(str::to_owned));
    }
    for l in gone_licences.iter().chain(new_licences) {
        changed.licences.extend(l.id_str().map(str::to_owned));
    }
    // A shipment names no item, but it is an export of its product: what
    // depends on that product's exports is judged again (as in TOML).
    for s in gone_shipments.iter().chain(new_shipments) {
        changed.skus.extend(s.sku_str().map(str::to_owned));
    }
    suffix_products
        .par_chunks_mut(512)
        .for_each(|c| c.shift(delta));
    suffix_licences.shift(delta);
    suffix_shipments.shift(delta);
    let (mut np, mut nl, mut ns) = (cat.products.len(), cat.licences.len(), cat.shipments.len());
    for mut t in suffix_tables {
        t.span.shift(delta);
        t.header.shift(delta);
        t.diagnostics.shift(delta);
        match t.kind {
            TableKind::Product => {
                t.index = np;
                np += 1;
            }
            TableKind::Licence => {
                t.index = nl;
                nl += 1;
            }
            TableKind::Shipment => {
                t.index = ns;
                ns += 1;
            }
            _ => {}
        }
        cat.tables.push(t);
    }
    cat.products.extend(suffix_products);
    cat.licences.extend(suffix_licences);
    cat.shipments.extend(suffix_shipments);
    changed.kept = Kept {
        prefix: pp,
        suffix: sp,
        old_len,
        from: kept_from,
        delta,
        start: Some(from),
    };
    (cat, changed)
}

fn unclosed(c: &Cell) -> Diagnostic {
    Diagnostic::new(
        Code::SyntaxError,
        Span::new(c.raw.start(), c.raw.start() + 1),
        "this quote is never closed: the rest of the file was read as one cell; close it with `\"` (a quote inside a quoted cell is written twice: `\"\"`)",
    )
}

/// Reads one row into a product, licence or shipment, with its diagnostics.
fn read_row(
    text: &str,
    row: &Row,
    keys: &[Option<&'static str>],
    repeated: bool,
    kind: CsvKind,
) -> (Parsed, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut broken = repeated;
    let mut table = DeTable::new();
    let mut bad_composition = false;
    for (cell, key) in row.cells.iter().zip(keys) {
        let Some(key) = *key else { continue };
        let (value, span) = cell.trimmed();
        if value.is_empty() {
            continue;
        }
        let range = span.start()..span.end();
        let v = match shape(key) {
            Shape::Text => DeValue::String(Cow::Borrowed(value)),
            Shape::Literal => literal(value),
            Shape::List => {
                let mut a = DeArray::new();
                for (piece, s) in cell.pieces() {
                    a.push(Spanned::new(
                        s.start()..s.end(),
                        DeValue::String(Cow::Borrowed(piece)),
                    ));
                }
                DeValue::Array(a)
            }
            Shape::Composition => {
                let (t, bad) = composition(cell, &mut diags);
                bad_composition |= bad;
                if t.is_empty() {
                    continue;
                }
                DeValue::Table(t)
            }
        };
        table.insert(
            Spanned::new(range.clone(), Cow::Borrowed(key)),
            Spanned::new(range, v),
        );
    }
    let header = first_line(text, row.span);
    if let Some(c) = row.cells.iter().find(|c| c.unclosed) {
        diags.push(unclosed(c));
        broken = true;
    }
    let (n, m) = (row.cells.len(), keys.len());
    if n > m && row.cells[m..].iter().any(|c| !c.content.trim().is_empty()) {
        broken = true;
        let span = Span::new(row.cells[m].raw.start(), row.span.end());
        diags.push(Diagnostic::new(
            Code::SyntaxError,
            span,
            format!("this row has {n} cells and the header {m}: the extra cells are not read, and the row is indeterminate (a comma inside a value? quote the cell: \"a, b\")"),
        ));
    } else if n < m {
        broken = true;
        let at = row.span.end();
        diags.push(Diagnostic::new(
            Code::SyntaxError,
            Span::new(at, at),
            format!("this row has {n} cells and the header {m}: every row needs a cell for each column (empty cells are fine), and the row is indeterminate until then"),
        ));
    }
    let (mut parsed, more) = parse::read_table(kind.table(), &table, header, row.span);
    diags.extend(more);
    let sku = match &parsed {
        Parsed::Product(p) => p.sku_str().map(str::to_owned),
        Parsed::Shipment(s) => s.sku_str().map(str::to_owned),
        _ => None,
    };
    match &mut parsed {
        Parsed::Product(p) => {
            p.broken |= broken;
            if bad_composition && !p.invalid.contains(&"composition") {
                let mut keys = std::mem::take(&mut p.invalid).into_vec();
                keys.push("composition");
                p.invalid = keys.into();
            }
        }
        Parsed::Licence(l) => l.broken |= broken,
        Parsed::Shipment(s) => s.broken |= broken,
        _ => {}
    }
    if sku.is_some() {
        for d in diags.iter_mut().filter(|d| d.sku.is_none()) {
            d.sku = sku.clone();
        }
    }
    diags.sort_by_key(|d| d.span.start());
    (parsed, diags)
}

/// A date, boolean or number as a TOML literal spanning the cell; anything
/// else is text (which the validator then reports as the wrong type).
fn literal(value: &str) -> DeValue<'_> {
    match DeValue::parse(value).map(Spanned::into_inner) {
        Ok(
            v @ (DeValue::Integer(_)
            | DeValue::Float(_)
            | DeValue::Boolean(_)
            | DeValue::Datetime(_)),
        ) => v,
        _ => DeValue::String(Cow::Borrowed(value)),
    }
}

/// `Nd=29.5; Dy=2.5; Fe=67; B=1` as a table of element or formula = percent.
fn composition<'a>(cell: &'a Cell, diags: &mut Vec<Diagnostic>) -> (DeTable<'a>, bool) {
    let mut t = DeTable::new();
    let mut bad = false;
    for (piece, span) in cell.pieces() {
        let Some(eq) = piece.find('=') else {
            bad = true;
            diags.push(Diagnostic::new(
                Code::InvalidValue,
                span,
                format!("composition entry `{piece}` must be element or formula = mass percent, e.g. `Nd=29.5; Fe=70.5`"),
            ));
            continue;
        };
        // Offsets of the key and value inside the cell's content.
        let off = span_offset(cell, piece);
        let (k, v) = (&piece[..eq], &piece[eq + 1..]);
        let ka = off + (k.len() - k.trim_start().len());
        let kb = off + k.trim_end().len().max(ka - off);
        let va = off + eq + 1 + (v.len() - v.trim_start().len());
        let vb = off + eq + 1 + v.trim_end().len().max(va - off - eq - 1);
        let (key, value) = (&cell.content[ka..kb], &cell.content[va..vb]);
        let (ks, vs) = (cell.span_of(ka, kb), cell.span_of(va, vb));
        if key.is_empty() {
            bad = true;
            diags.push(Diagnostic::new(
                Code::InvalidValue,
                span,
                format!("composition entry `{piece}` names no element or formula, e.g. `Nd=29.5`"),
            ));
            continue;
        }
        if t.iter().any(|(x, _)| x.get_ref() == key) {
            bad = true;
            diags.push(Diagnostic::new(
                Code::InvalidValue,
                ks,
                format!(
                    "`{key}` appears twice in the composition: give each element or formula once"
                ),
            ));
            continue;
        }
        let v = match DeValue::parse(value).map(Spanned::into_inner) {
            Ok(x @ (DeValue::Integer(_) | DeValue::Float(_))) => x,
            _ => DeValue::String(Cow::Borrowed(value)),
        };
        t.insert(
            Spanned::new(ks.start()..ks.end(), Cow::Borrowed(key)),
            Spanned::new(vs.start()..vs.end(), v),
        );
    }
    (t, bad)
}

/// Where `piece` (a slice of `cell.content`) starts in the content.
fn span_offset(cell: &Cell, piece: &str) -> usize {
    (piece.as_ptr() as usize).saturating_sub(cell.content.as_ptr() as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn products(text: &str) -> Catalogue {
        parse(text, CsvKind::Products)
    }

    fn codes(c: &Catalogue) -> Vec<(&'static str, &str)> {
        c.all_diagnostics()
            .map(|d| (d.code.as_str(), &d.message[..]))
            .collect()
    }

    /// The text a diagnostic's span covers.
    fn at<'t>(text: &'t str, c: &Catalogue, code: Code) -> Vec<&'t str> {
        c.all_diagnostics()
            .filter(|d| d.code == code)
            .map(|d| &text[d.span.start()..d.span.end()])
            .collect()
    }

    #[test]
    fn quoted_cells_with_commas_quotes_and_newlines() {
        let text = "sku,name,form\nA,\"Block, \"\"N42\"\"\nsecond line\",magnet\nB,plain,oxide\n";
        let c = products(text);
        assert_eq!(codes(&c), vec![]);
        assert_eq!(c.products.len(), 2);
        let name = c.products[0].name.as_ref().unwrap();
        assert_eq!(name.value, "Block, \"N42\"\nsecond line");
        // The span covers the content (the quotes' insides), through the line break.
        assert_eq!(
            &text[name.span.start()..name.span.end()],
            "Block, \"\"N42\"\"\nsecond line"
        );
        assert_eq!(c.products[1].sku_str(), Some("B"));
        assert_eq!(c.tables.len(), 3, "header row and two rows");
    }

    #[test]
    fn crlf_bom_and_empty_cells() {
        let text = "\u{feff}sku,form,composition,destination\r\nA,magnet,Nd=29; Dy=2; Fe=68; B=1,\r\n\r\nB,,,DE\r\n";
        let c = products(text);
        assert_eq!(codes(&c), vec![]);
        assert_eq!(c.products.len(), 2);
        let a = &c.products[0];
        assert!(a.destination.is_none(), "an empty cell is an absent field");
        let comp = a.composition.as_ref().unwrap();
        assert_eq!(comp.entries.len(), 4);
        let dy = &comp.entries[1];
        assert_eq!(&text[dy.key_span.start()..dy.key_span.end()], "Dy");
        assert_eq!(&text[dy.value_span.start()..dy.value_span.end()], "2");
        let b = &c.products[1];
        assert!(b.form.is_none() && b.composition.is_none());
        assert_eq!(b.destination.as_ref().unwrap().value, "DE");
        // The row's header is its first line, without the CR.
        assert_eq!(&text[b.header.start()..b.header.end()], "B,,,DE");
    }

    #[test]
    fn unknown_columns_get_unknown_field_on_the_header_cell() {
        let text = "sku,from,incoterm\nA,magnet,FCA\n";
        let c = products(text);
        assert_eq!(at(text, &c, Code::UnknownField), vec!["from", "incoterm"]);
        let d = c
            .all_diagnostics()
            .find(|d| d.code == Code::UnknownField)
            .unwrap();
        assert!(d.message.contains("did you mean `form`"), "{}", d.message);
        assert_eq!(d.fix.replacements, vec!["form".to_string()]);
        assert!(
            c.products[0].form.is_none(),
            "an unknown column is not read"
        );
    }

    #[test]
    fn bad_values_point_at_their_cells() {
        let text = "sku,form,ship_date,moulded,destination,composition,components\n\
                    A,magnt,2026-13-01,yes,de,Nd=29; Xx=3; Fe=68,M1; ; M2\n";
        let c = products(text);
        let bad = at(text, &c, Code::InvalidValue);
        assert_eq!(
            bad,
            // `magnt` is a pack's word: the engine checks it (as for TOML).
            vec!["2026-13-01", "yes", "de", "Xx"],
            "{:?}",
            codes(&c)
        );
        let p = &c.products[0];
        // The form is kept as written (the engine judges it against the pack).
        assert_eq!(p.form.as_ref().map(|f| f.value.as_str()), Some("magnt"));
        assert!(p.was_invalid("composition"));
        // The list's pieces keep their own spans; the empty piece is left out.
        let comps = p.components.as_ref().unwrap();
        let names: Vec<&str> = comps
            .value
            .iter()
            .map(|f| &text[f.span.start()..f.span.end()])
            .collect();
        assert_eq!(names, vec!["M1", "M2"]);
    }

    #[test]
    fn a_malformed_composition_entry_is_never_dropped_silently() {
        let text = "sku,form,composition\nA,magnet,Nd 29.5; Fe=70.5\nB,magnet,Nd=1; Nd=2\n";
        let c = products(text);
        assert_eq!(at(text, &c, Code::InvalidValue), vec!["Nd 29.5", "Nd"]);
        assert!(c.products[0].was_invalid("composition"));
        assert!(c.products[1].was_invalid("composition"));
    }

    #[test]
    fn non_bmp_text_keeps_byte_spans() {
        let text = "sku,name,destination\n𝄞-1,磁铁 𝄞,XX\n";
        let c = products(text);
        assert_eq!(c.products[0].sku_str(), Some("𝄞-1"));
        assert_eq!(at(text, &c, Code::InvalidValue), vec!["XX"]);
    }

    #[test]
    fn ragged_rows_are_reported_and_indeterminate_and_do_not_stop_the_others() {
        let text = "sku,name,form\nA,Block, N42,magnet\nB,short\nC,ok,oxide\nD,trailing,oxide,,\n";
        let c = products(text);
        let syn = at(text, &c, Code::SyntaxError);
        assert_eq!(syn, vec!["magnet", ""], "{:?}", codes(&c));
        let msgs: Vec<&str> = c
            .all_diagnostics()
            .filter(|d| d.code == Code::SyntaxError)
            .map(|d| &d.message[..])
            .collect();
        assert!(msgs[0].contains("4 cells and the header 3"), "{}", msgs[0]);
        assert!(msgs[1].contains("2 cells and the header 3"), "{}", msgs[1]);
        assert_eq!(c.products.len(), 4);
        assert!(c.products[0].broken && c.products[1].broken);
        assert!(!c.products[2].broken, "a bad row never stops the others");
        assert!(!c.products[3].broken, "empty trailing cells are fine");
    }

    #[test]
    fn an_unclosed_quote_is_a_syntax_error() {
        let text = "sku,name\nA,\"never closed\nB,x\n";
        let c = products(text);
        assert_eq!(at(text, &c, Code::SyntaxError), vec!["\""]);
        assert!(c.products[0].broken);
    }

    #[test]
    fn a_repeated_column_makes_every_row_indeterminate() {
        let text = "sku,form,form\nA,magnet,oxide\n";
        let c = products(text);
        assert_eq!(at(text, &c, Code::SyntaxError), vec!["form"]);
        assert!(c.products[0].broken);
    }

    #[test]
    fn licences_and_their_validation() {
        let text = "id,type,issued,expires,items,destinations\nL1,general,2026-01-01,2026-12-31,1C905; 1C904.a.4,DE; SE\nL2,individul,2026-01-01,2025-01-01,1X,XX\n";
        let c = parse(text, CsvKind::Licences);
        assert_eq!(c.licences.len(), 2);
        let l = &c.licences[0];
        assert_eq!(l.items.as_ref().unwrap().value.len(), 2);
        assert_eq!(l.destinations.as_ref().unwrap().value.len(), 2);
        let bad = at(text, &c, Code::InvalidValue);
        assert_eq!(
            bad,
            // The type and the code are the pack's words: the engine checks them.
            vec!["2025-01-01", "XX"],
            "{:?}",
            codes(&c)
        );
    }

    const SHIPMENTS: &str = "sku,ship_date,quantity,unit,value,currency,destination,end_user,licence\nNDFEB-1,2026-03-01,120,kg,\"25000.5\",EUR,DE,\"Motors, GmbH\",IL-1\nNDFEB-1,2026-13-01,80,kg,,,DE,,IL-1\n";

    #[test]
    fn shipments_are_read_with_their_cells_spans() {
        let text = SHIPMENTS;
        let c = parse(text, CsvKind::Shipments);
        assert_eq!(c.shipments.len(), 2, "{:?}", codes(&c));
        assert!(c.products.is_empty() && c.licences.is_empty());
        let s = &c.shipments[0];
        let cell = |f: Span| &text[f.start()..f.end()];
        assert_eq!(s.sku_str(), Some("NDFEB-1"));
        let d = s.ship_date.as_ref().unwrap();
        assert_eq!(
            (d.value.to_string(), cell(d.span)),
            ("2026-03-01".into(), "2026-03-01")
        );
        let q = s.facts.amounts.quantity.as_ref().unwrap();
        assert_eq!((q.value, cell(q.span)), (120.0, "120"));
        // A quoted number is still a number; its span is inside the quotes.
        let v = s.facts.amounts.value.as_ref().unwrap();
        assert_eq!((v.value, cell(v.span)), (25000.5, "25000.5"));
        let e = s.end_user.as_ref().unwrap();
        assert_eq!(
            (e.value.as_str(), cell(e.span)),
            ("Motors, GmbH", "Motors, GmbH")
        );
        assert_eq!(cell(s.licence.as_ref().unwrap().span), "IL-1");
        // Each row is a shipment table, pointing at its row.
        let t: Vec<_> = c
            .tables
            .iter()
            .filter(|t| t.kind == TableKind::Shipment)
            .collect();
        assert_eq!(t.len(), 2);
        assert_eq!((t[0].index, t[1].index), (0, 1));
        assert!(cell(t[1].span).starts_with("NDFEB-1,2026-13-01"));
    }

    #[test]
    fn a_bad_ship_date_points_at_its_cell() {
        let text = SHIPMENTS;
        let c = parse(text, CsvKind::Shipments);
        let bad: Vec<_> = c
            .all_diagnostics()
            .filter(|d| text[d.span.start()..d.span.end()].contains("2026-13"))
            .collect();
        assert_eq!(bad.len(), 1, "{:?}", codes(&c));
        assert_eq!(&text[bad[0].span.start()..bad[0].span.end()], "2026-13-01");
        assert_eq!(bad[0].sku.as_deref(), Some("NDFEB-1"));
        assert!(c.shipments[1].ship_date.is_none());
        assert!(c.shipments[0].ship_date.is_some());
        // An unknown column is named, with the nearest shipment key.
        let c = parse("sku,ship_dat\nA,2026-01-01\n", CsvKind::Shipments);
        let unknown: Vec<_> = c
            .all_diagnostics()
            .filter(|d| d.code == Code::UnknownField)
            .collect();
        assert!(
            unknown[0].message.contains("`ship_date`"),
            "{:?}",
            codes(&c)
        );
    }

    #[test]
    fn shipment_rows_reparse_as_a_fresh_parse() {
        let mut text = SHIPMENTS.to_string();
        let mut cat = parse(&text, CsvKind::Shipments);
        // Edit a cell, add a row before the last, remove the first row.
        let edits: [(&str, &str); 3] = [
            ("2026-13-01", "2026-12-01"),
            (
                "NDFEB-1,2026-12",
                "X,2026-01-01,1,kg,,,SE,,\nNDFEB-1,2026-12",
            ),
            (
                "NDFEB-1,2026-03-01,120,kg,\"25000.5\",EUR,DE,\"Motors, GmbH\",IL-1\n",
                "",
            ),
        ];
        for (from, to) in edits {
            let new = text.replacen(from, to, 1);
            assert_ne!(new, text);
            let (re, changed) = reparse(cat, &text, &new, CsvKind::Shipments);
            assert_eq!(re, parse(&new, CsvKind::Shipments), "{new:?}");
            assert!(
                !changed.skus.is_empty(),
                "a shipment's product is judged again"
            );
            text = new;
            cat = re;
        }
        assert_eq!(cat.shipments.len(), 2);
        assert_eq!(cat.shipments[0].sku_str(), Some("X"));
    }

    #[test]
    fn empty_and_blank_files() {
        assert_eq!(products(""), Catalogue::default());
        let c = products("sku,form\n,,\n\n");
        assert!(c.products.is_empty(), "blank rows are not products");
    }

    const SAMPLE: &str = "sku,form,composition,components,destination,licence\r\nA,magnet,Nd=28; Dy=3; Fe=68; B=1,,DE,GL-1\r\n\r\nB,\"rotor-assembly\",,A,DE,\r\nC,oxide,\"Dy2O3=99\",,US,GL-9\r\nD,metal,Fe=100,,,\r\n";

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, ..Default::default() })]

        /// Re-reading only the touched rows gives what a fresh parse gives.
        #[test]
        fn reparse_equals_a_fresh_parse(
            edits in proptest::collection::vec((0usize..200, 0usize..10, proptest::prop_oneof![
                proptest::strategy::Just(""), proptest::strategy::Just(","), proptest::strategy::Just("\""),
                proptest::strategy::Just("\n"), proptest::strategy::Just("\r"), proptest::strategy::Just("\r\n"),
                proptest::strategy::Just(";"), proptest::strategy::Just("x"), proptest::strategy::Just("A"),
                proptest::strategy::Just("𝄞"), proptest::strategy::Just("\u{feff}"),
                proptest::strategy::Just("\nE,magnet,Tb=1; Fe=99,,DE,GL-1\n"), proptest::strategy::Just("\"\""),
            ]), 1..8),
        ) {
            let mut text = SAMPLE.to_string();
            let mut cat = parse(&text, CsvKind::Products);
            for (at, len, ins) in edits {
                let a = crate::text::floor_char_boundary(&text, at.min(text.len()));
                let b = crate::text::floor_char_boundary(&text, (a + len).min(text.len()));
                let mut new = text.clone();
                new.replace_range(a..b, ins);
                let delta = new.len() as isize - text.len() as isize;
                let (known, _) = reparse_edit(cat.clone(), &new, a, a + ins.len(), delta, CsvKind::Products);
                let (re, changed) = reparse(cat, &text, &new, CsvKind::Products);
                let fresh = parse(&new, CsvKind::Products);
                proptest::prop_assert_eq!(&re, &fresh, "{:?} -> {:?}", text, new);
                proptest::prop_assert_eq!(&known, &fresh, "at {}: {:?} -> {:?}", a, text, new);
                // Every product not reported as kept is named as changed.
                for (i, p) in re.products.iter().enumerate() {
                    if changed.kept.old_index(i, re.products.len()).is_none() {
                        if let Some(sku) = p.sku_str() {
                            proptest::prop_assert!(changed.catalogue || changed.skus.iter().any(|s| s == sku));
                        }
                    }
                }
                text = new;
                cat = re;
            }
        }
    }

    #[test]
    fn reparse_reads_only_the_touched_row() {
        let text = SAMPLE;
        let cat = parse(text, CsvKind::Products);
        let at = text.find("US").unwrap();
        let new = format!("{}DE{}", &text[..at], &text[at + 2..]);
        let (re, changed) = reparse(cat, text, &new, CsvKind::Products);
        assert_eq!(re, parse(&new, CsvKind::Products));
        assert_eq!(changed.skus, vec!["C".to_string(), "C".to_string()]);
        assert_eq!(
            (changed.kept.prefix, changed.kept.suffix, changed.catalogue),
            (2, 1, false)
        );
        assert!(changed.names_kept);
    }
}
