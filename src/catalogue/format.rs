//! The format seam: everything that depends on how a catalogue file is
//! written. Which format a path is, text → [`Catalogue`] with spans, the
//! re-parse after an edit (always equal to a fresh parse), the item and the
//! field at a byte offset, and the text of a format-neutral edit (set a
//! field of an item, add a value to an array field, insert a new item).
//! `check`, the index and the server call these, never a format's parser
//! directly. TOML lives in `parse`/`split`, CSV in `csv`; a new format is a
//! new variant here (see ARCHITECTURE.md, "Where to add").

use super::csv::{self, CsvKind, Shape};
use super::model::*;
use super::parse::{self, Changed};
use crate::text::Span;
use jiff::civil::Date;
use std::path::Path;

/// How a catalogue file is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Format {
    /// `*.catalogue.toml`, `catalogue.toml` (docs/format.md §1–4).
    #[default]
    Toml,
    /// `*.catalogue.csv` (products), `*.licences.csv` or `*.shipments.csv` (§10).
    Csv(CsvKind),
}

impl Format {
    /// The format of a file name by the naming rule; None for a name that
    /// is not a catalogue's (a directory search skips it).
    pub fn of_name(name: &str) -> Option<Format> {
        if name == "catalogue.toml" || name.ends_with(".catalogue.toml") {
            Some(Format::Toml)
        } else if name.ends_with(".catalogue.csv") {
            Some(Format::Csv(CsvKind::Products))
        } else if name.ends_with(".licences.csv") {
            Some(Format::Csv(CsvKind::Licences))
        } else if name.ends_with(".shipments.csv") {
            Some(Format::Csv(CsvKind::Shipments))
        } else {
            None
        }
    }

    /// The format of a file named explicitly (on the command line, or opened
    /// in an editor): by the naming rule, else `*.csv` is a CSV product
    /// catalogue and anything else TOML.
    pub fn of_file_name(name: &str) -> Format {
        Format::of_name(name).unwrap_or(if name.to_ascii_lowercase().ends_with(".csv") {
            Format::Csv(CsvKind::Products)
        } else {
            Format::Toml
        })
    }

    /// [`Format::of_file_name`] of a path's last component.
    pub fn of_path(path: &Path) -> Format {
        path.file_name()
            .map(|n| Format::of_file_name(&n.to_string_lossy()))
            .unwrap_or_default()
    }

    /// Parses a whole file.
    pub fn parse(self, text: &str) -> Catalogue {
        match self {
            Format::Toml => parse::parse(text),
            Format::Csv(kind) => csv::parse(text, kind),
        }
    }

    /// Re-parses after the text changed from `old_text` to `new_text`. The
    /// result equals `self.parse(new_text)`; `Changed` says what may differ.
    /// Each format reads again only what the edit touched: TOML the tables,
    /// CSV the rows (until the records line up again after the edit).
    pub fn reparse(self, old: Catalogue, old_text: &str, new_text: &str) -> (Catalogue, Changed) {
        match self {
            Format::Toml => parse::reparse(old, old_text, new_text),
            Format::Csv(kind) => csv::reparse(old, old_text, new_text, kind),
        }
    }

    /// The in-place fast path for one edit (`removed` replaced by
    /// `inserted` bytes at `at`; `text` is the new text): None when it does
    /// not apply, and `cat` is then untouched. CSV always applies (the rows
    /// the edit touched are read again, without the old text).
    pub fn edit_at(
        self,
        cat: &mut Catalogue,
        text: &str,
        at: usize,
        removed: &str,
        inserted: usize,
    ) -> Option<Changed> {
        match self {
            Format::Toml => parse::edit_at(cat, text, at, removed, inserted),
            Format::Csv(kind) => {
                let delta = inserted as isize - removed.len() as isize;
                let end = at.checked_add(inserted).filter(|&e| e <= text.len())?;
                let (new, changed) =
                    csv::reparse_edit(std::mem::take(cat), text, at, end, delta, kind);
                *cat = new;
                Some(changed)
            }
        }
    }

    /// Whether a file of this format can hold items of this kind.
    pub fn holds(self, kind: TableKind) -> bool {
        match self {
            Format::Toml => true,
            Format::Csv(k) => k.table() == kind,
        }
    }

    /// The text that replaces a value's span with `value` (a diagnostic's
    /// mechanical fix; `quote`: the value is a string).
    pub fn replacement(self, value: &str, quote: bool) -> String {
        match self {
            Format::Toml if quote => toml_string(value),
            Format::Toml => value.to_string(),
            Format::Csv(_) => csv_cell(value),
        }
    }

    /// The edit that writes string `value` in place of the value at `span`
    /// (a "did you mean" fix). See [`Format::replace_strings`].
    pub fn replace_string(
        self,
        text: &str,
        cat: &Catalogue,
        span: Span,
        value: &str,
    ) -> Result<TextEdit, String> {
        let mut edits = self.replace_strings(text, cat, &[span], value)?;
        edits.pop().ok_or_else(|| "nothing to replace".to_string())
    }

    /// The edits that write string `value` in place of the values at
    /// `spans` (a rename). TOML writes a quoted string at each; CSV rewrites
    /// each cell a span is in once, with all of its spans replaced, so a
    /// value that needs quotes inside a quoted cell or a `;`-separated list
    /// stays one well-formed cell. An error says why the value cannot be
    /// written (a `;` in one name of a list cell would make it two names).
    pub fn replace_strings(
        self,
        text: &str,
        cat: &Catalogue,
        spans: &[Span],
        value: &str,
    ) -> Result<Vec<TextEdit>, String> {
        if self == Format::Toml {
            return Ok(spans
                .iter()
                .map(|&span| TextEdit {
                    span,
                    text: toml_string(value),
                })
                .collect());
        }
        let outside = || "the value is outside every cell".to_string();
        let head = header(text, cat);
        // Each cell touched, with the content ranges to replace in it.
        let mut cells: Vec<(csv::Cell, Vec<(usize, usize)>)> = Vec::new();
        for &span in spans {
            let t = table_at(cat, span.start()).ok_or_else(outside)?;
            let row = csv::rows(text, t.span.start(), t.span.end())
                .into_iter()
                .next()
                .ok_or_else(outside)?;
            let (n, cell) = row
                .cells
                .into_iter()
                .enumerate()
                .find(|(_, c)| c.raw.start() <= span.start() && span.end() <= c.raw.end())
                .ok_or_else(outside)?;
            let list = head
                .as_ref()
                .and_then(|h| h.cells.get(n).map(|c| csv::shape(c.trimmed().0)))
                .is_some_and(|s| s == Shape::List);
            let base = cell.content.as_ptr() as usize;
            let at = |s: &str| s.as_ptr() as usize - base;
            let (whole, whole_span) = cell.trimmed();
            let range = if whole_span == span && !list {
                (at(whole), at(whole) + whole.len())
            } else {
                let (piece, _) = cell
                    .pieces()
                    .into_iter()
                    .find(|(_, s)| *s == span)
                    .ok_or("the value is not one value of its cell")?;
                if value.contains(';') {
                    return Err(format!(
                        "`{value}` holds a `;`, which separates the names of a list cell: choose a name without `;`"
                    ));
                }
                (at(piece), at(piece) + piece.len())
            };
            match cells.iter_mut().find(|(c, _)| c.raw == cell.raw) {
                Some((_, ranges)) => ranges.push(range),
                None => cells.push((cell, vec![range])),
            }
        }
        Ok(cells
            .into_iter()
            .map(|(cell, mut ranges)| {
                ranges.sort_unstable();
                ranges.dedup();
                let mut content = String::with_capacity(cell.content.len() + value.len());
                let mut from = 0;
                for (a, b) in ranges {
                    content.push_str(&cell.content[from..a]);
                    content.push_str(value);
                    from = b;
                }
                content.push_str(&cell.content[from..]);
                TextEdit {
                    span: cell.raw,
                    text: csv_cell(&content),
                }
            })
            .collect())
    }

    /// The key of the field at `offset` of an item (the column in CSV, the
    /// key of the line in TOML), and whether the offset is in its value.
    /// For CSV's header row, the key being named (`in_value` false).
    pub fn key_at(self, text: &str, cat: &Catalogue, offset: usize) -> Option<(String, bool)> {
        match self {
            Format::Toml => {
                let start = text[..offset.min(text.len())]
                    .rfind(['\n', '\r'])
                    .map_or(0, |i| i + 1);
                let before = &text[start..offset.min(text.len())];
                match before.find('=') {
                    Some(eq) => Some((before[..eq].trim().to_string(), true)),
                    None => Some((before.trim().to_string(), false)),
                }
            }
            Format::Csv(_) => {
                let head = cat.tables.first().filter(|t| t.kind == TableKind::Root);
                let t = table_at(cat, offset)?;
                let row = csv::rows(text, t.span.start(), t.span.end())
                    .into_iter()
                    .next()?;
                let n = row
                    .cells
                    .iter()
                    .position(|c| c.raw.start() <= offset && offset <= c.raw.end())?;
                if t.kind == TableKind::Root {
                    return Some((row.cells[n].trimmed().0.to_string(), false));
                }
                let head = head?;
                let header = csv::rows(text, head.span.start(), head.span.end())
                    .into_iter()
                    .next()?;
                Some((header.cells.get(n)?.trimmed().0.to_string(), true))
            }
        }
    }

    /// The keys an item already has (completion leaves them out).
    pub fn present_keys(self, text: &str, cat: &Catalogue, item: &TableRef) -> Vec<String> {
        match self {
            Format::Toml => parse::table_keys(text, item.span, "product"),
            Format::Csv(_) => header(text, cat)
                .map(|h| h.cells.iter().map(|c| c.trimmed().0.to_string()).collect())
                .unwrap_or_default(),
        }
    }

    /// The text edits that make `edit` (never overlapping; empty when this
    /// format cannot make it, e.g. a licence in a product CSV).
    pub fn render(self, text: &str, cat: &Catalogue, edit: &Edit) -> Vec<TextEdit> {
        match self {
            Format::Toml => toml_render(text, edit),
            Format::Csv(kind) => csv_render(text, cat, kind, edit).unwrap_or_default(),
        }
    }
}

/// The table (item, or CSV header row) containing a byte offset.
pub fn table_at(cat: &Catalogue, offset: usize) -> Option<&TableRef> {
    let i = cat.tables.partition_point(|t| t.span.start() <= offset);
    cat.tables.get(i.checked_sub(1)?)
}

/// A value to write, whatever the format.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(String),
    Strs(Vec<String>),
    Date(Date),
}

/// A format-neutral edit of a catalogue file.
#[derive(Clone, Debug, PartialEq)]
pub enum Edit {
    /// Set `key` of the item whose table spans `item` to `value`.
    Set {
        item: Span,
        key: String,
        value: Value,
    },
    /// Add a value to the array field `key` of the item (created if absent).
    Add {
        item: Span,
        key: String,
        value: String,
    },
    /// A new item of `kind` with these fields, at the end of the file.
    Insert {
        kind: TableKind,
        fields: Vec<(String, Value)>,
    },
    /// A new item of `kind` with these fields next to the item whose table
    /// spans `item` (just after it where the order of a file's tables is
    /// the author's, TOML; a CSV file appends a row, as `Insert`), or at the
    /// end of the file (`None`), with lines saying what is left `to_fill`
    /// where the format has comments (TOML; CSV has none: the empty cells
    /// and the diagnostics say it). Nothing where the file cannot hold an
    /// item of `kind`.
    InsertAfter {
        item: Option<Span>,
        kind: TableKind,
        fields: Vec<(String, Value)>,
        to_fill: Vec<String>,
    },
}

/// Bytes `span` of the file replaced by `text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextEdit {
    pub span: Span,
    pub text: String,
}

fn eol(text: &str) -> &'static str {
    if text.contains("\r\n") { "\r\n" } else { "\n" }
}

/// A TOML basic string.
pub fn toml_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

fn toml_value(v: &Value) -> String {
    match v {
        Value::Str(s) => toml_string(s),
        Value::Strs(v) => format!(
            "[{}]",
            v.iter()
                .map(|s| toml_string(s))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Date(d) => d.to_string(),
    }
}

/// The line of a TOML table where `key = ...` is, as the span of its value
/// (to the end of the line).
fn toml_key_line(text: &str, table: Span, key: &str) -> Option<Span> {
    let mut pos = table.start();
    let body = text.get(table.start()..table.end())?;
    for line in body.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        if let Some(rest) = content.trim_start().strip_prefix(key) {
            if let Some(v) = rest.trim_start().strip_prefix('=') {
                let end = pos + content.len();
                return Some(Span::new(end - v.trim_start().len(), end));
            }
        }
        pos += line.len();
    }
    None
}

/// Where a new `key = value` line of a table goes (after its last line
/// holding something other than blanks or comments), and its indentation.
fn toml_insertion_point(text: &str, table: Span) -> (usize, String) {
    let body = text.get(table.start()..table.end()).unwrap_or_default();
    let mut end = table.start();
    let mut pos = table.start();
    let mut indent = None;
    for (n, line) in body.split_inclusive('\n').enumerate() {
        let t = line.trim();
        if !t.is_empty() && !t.starts_with('#') {
            end = pos + line.trim_end_matches(['\n', '\r']).len();
            if n > 0 && indent.is_none() {
                indent = Some(line[..line.len() - line.trim_start().len()].to_string());
            }
        }
        pos += line.len();
    }
    (end, indent.unwrap_or_default())
}

fn toml_render(text: &str, edit: &Edit) -> Vec<TextEdit> {
    let eol = eol(text);
    match edit {
        Edit::Set { item, key, value } => match toml_key_line(text, *item, key) {
            Some(span) => vec![TextEdit {
                span,
                text: toml_value(value),
            }],
            None => {
                let (at, indent) = toml_insertion_point(text, *item);
                vec![TextEdit {
                    span: Span::new(at, at),
                    text: format!("{eol}{indent}{key} = {}", toml_value(value)),
                }]
            }
        },
        Edit::Add { item, key, value } => {
            let line = toml_key_line(text, *item, key);
            let close = line.and_then(|s| {
                let v = &text[s.start()..s.end()];
                (v.starts_with('[') && v.trim_end().ends_with(']'))
                    .then(|| (s.start(), s.start() + v.trim_end().len() - 1))
            });
            match close {
                Some((open, at)) => {
                    let empty = text[open + 1..at].trim().is_empty();
                    vec![TextEdit {
                        span: Span::new(at, at),
                        text: format!("{}{}", if empty { "" } else { ", " }, toml_string(value)),
                    }]
                }
                None => toml_render(
                    text,
                    &Edit::Set {
                        item: *item,
                        key: key.clone(),
                        value: Value::Strs(vec![value.clone()]),
                    },
                ),
            }
        }
        Edit::Insert { kind, fields } => {
            let Some(header) = toml_header(*kind) else {
                return vec![];
            };
            let prefix = if text.ends_with('\n') || text.is_empty() {
                ""
            } else {
                eol
            };
            let mut s = format!("{prefix}{eol}{header}{eol}");
            for (k, v) in fields {
                s.push_str(&format!("{k} = {}{eol}", toml_value(v)));
            }
            let end = text.len();
            vec![TextEdit {
                span: Span::new(end, end),
                text: s,
            }]
        }
        Edit::InsertAfter {
            item,
            kind,
            fields,
            to_fill,
        } => {
            let at = item.map_or(text.len(), |i| i.end());
            let (Some(header), Some(before)) = (toml_header(*kind), text.get(..at)) else {
                return vec![];
            };
            // One blank line between what is before and the new table, and
            // between it and what follows.
            let lead =
                if before.is_empty() || before.ends_with("\n\n") || before.ends_with("\r\n\r\n") {
                    String::new()
                } else if before.ends_with('\n') {
                    eol.to_string()
                } else {
                    format!("{eol}{eol}")
                };
            let mut s = format!("{lead}{header}{eol}");
            for (k, v) in fields {
                s.push_str(&format!("{k} = {}{eol}", toml_value(v)));
            }
            for line in to_fill {
                s.push_str(&format!("# {line}{eol}"));
            }
            if at < text.len() {
                s.push_str(eol);
            }
            vec![TextEdit {
                span: Span::new(at, at),
                text: s,
            }]
        }
    }
}

/// The header of a new TOML table of `kind`.
fn toml_header(kind: TableKind) -> Option<&'static str> {
    match kind {
        TableKind::Product => Some("[[product]]"),
        TableKind::Licence => Some("[[licence]]"),
        TableKind::Shipment => Some("[[shipment]]"),
        TableKind::Screening => Some("[[screening]]"),
        TableKind::Catalogue => Some("[catalogue]"),
        _ => None,
    }
}

/// A cell's text: quoted (quotes doubled) when it holds a comma, a quote,
/// a line break or surrounding spaces.
pub fn csv_cell(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) || value.trim() != value {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

fn csv_value(v: &Value) -> String {
    match v {
        Value::Str(s) => s.clone(),
        Value::Strs(v) => v.join("; "),
        Value::Date(d) => d.to_string(),
    }
}

fn header(text: &str, cat: &Catalogue) -> Option<csv::Row> {
    let head = cat.tables.first().filter(|t| t.kind == TableKind::Root)?;
    csv::rows(text, head.span.start(), head.span.end())
        .into_iter()
        .next()
}

/// Columns named by `keys` that the header lacks are added at its end: the
/// header gets their names and every row empty cells (padded to the header
/// first). Returns the edits, the new width and each key's column.
fn csv_columns(
    text: &str,
    cat: &Catalogue,
    head: &csv::Row,
    keys: &[&str],
    except: Option<Span>,
) -> (Vec<TextEdit>, Vec<usize>, usize) {
    let names: Vec<String> = head
        .cells
        .iter()
        .map(|c| c.trimmed().0.to_string())
        .collect();
    let mut added = Vec::new();
    let mut cols = Vec::new();
    for k in keys {
        match names.iter().position(|n| n == k) {
            Some(i) => cols.push(i),
            None => {
                cols.push(names.len() + added.len());
                added.push(csv_cell(k));
            }
        }
    }
    let width = names.len() + added.len();
    let mut edits = Vec::new();
    if !added.is_empty() {
        edits.push(TextEdit {
            span: Span::new(head.span.end(), head.span.end()),
            text: format!(",{}", added.join(",")),
        });
        for t in cat.tables.iter().skip(1) {
            if Some(t.span) == except {
                continue;
            }
            let n = csv::rows(text, t.span.start(), t.span.end())
                .first()
                .map_or(0, |r| r.cells.len());
            if n < width {
                edits.push(TextEdit {
                    span: Span::new(t.span.end(), t.span.end()),
                    text: ",".repeat(width - n),
                });
            }
        }
    }
    (edits, cols, width)
}

fn csv_render(text: &str, cat: &Catalogue, kind: CsvKind, edit: &Edit) -> Option<Vec<TextEdit>> {
    csv_edits(text, cat, kind, edit).map(merged)
}

/// Inserts at one position become one edit, their texts in order (a
/// client applies several inserts at one position in array order, but one
/// edit leaves nothing to interpret).
fn merged(edits: Vec<TextEdit>) -> Vec<TextEdit> {
    let mut out: Vec<TextEdit> = Vec::with_capacity(edits.len());
    for e in edits {
        match out
            .iter_mut()
            .find(|o| o.span == e.span && e.span.is_empty())
        {
            Some(o) => o.text.push_str(&e.text),
            None => out.push(e),
        }
    }
    out
}

fn csv_edits(text: &str, cat: &Catalogue, kind: CsvKind, edit: &Edit) -> Option<Vec<TextEdit>> {
    let eol = eol(text);
    match edit {
        Edit::Set { item, key, value } => {
            let head = header(text, cat)?;
            let row = csv::rows(text, item.start(), item.end())
                .into_iter()
                .next()?;
            let (mut edits, cols, width) = csv_columns(text, cat, &head, &[key], Some(*item));
            let col = *cols.first()?;
            let cell = csv_cell(&csv_value(value));
            match row.cells.get(col) {
                Some(c) => edits.push(TextEdit {
                    span: c.raw,
                    text: cell,
                }),
                None => {
                    let n = row.cells.len();
                    let mut s = ",".repeat(col + 1 - n);
                    s.push_str(&cell);
                    s.push_str(&",".repeat(width.saturating_sub(col + 1)));
                    edits.push(TextEdit {
                        span: Span::new(row.span.end(), row.span.end()),
                        text: s,
                    });
                }
            }
            Some(edits)
        }
        Edit::Add { item, key, value } => {
            let head = header(text, cat)?;
            let row = csv::rows(text, item.start(), item.end())
                .into_iter()
                .next()?;
            let col = head.cells.iter().position(|c| c.trimmed().0 == key);
            let current = col
                .and_then(|c| row.cells.get(c))
                .map(|c| c.content.trim().to_string())
                .filter(|c| !c.is_empty());
            let joined = match current {
                Some(c) if shape(key) == Shape::List => format!("{c}; {value}"),
                _ => value.clone(),
            };
            csv_edits(
                text,
                cat,
                kind,
                &Edit::Set {
                    item: *item,
                    key: key.clone(),
                    value: Value::Str(joined),
                },
            )
        }
        Edit::Insert {
            kind: table,
            fields,
        } => {
            if kind.table() != *table {
                return None;
            }
            let end = text.len();
            let prefix = if text.ends_with('\n') || text.is_empty() {
                ""
            } else {
                eol
            };
            let Some(head) = header(text, cat) else {
                // An empty file: a header, then the row.
                let names: Vec<String> = fields.iter().map(|(k, _)| csv_cell(k)).collect();
                let cells: Vec<String> = fields
                    .iter()
                    .map(|(_, v)| csv_cell(&csv_value(v)))
                    .collect();
                return Some(vec![TextEdit {
                    span: Span::new(end, end),
                    text: format!("{prefix}{}{eol}{}{eol}", names.join(","), cells.join(",")),
                }]);
            };
            let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
            let (mut edits, cols, width) = csv_columns(text, cat, &head, &keys, None);
            let mut cells = vec![String::new(); width];
            for ((_, v), c) in fields.iter().zip(cols) {
                cells[c] = csv_cell(&csv_value(v));
            }
            edits.push(TextEdit {
                span: Span::new(end, end),
                text: format!("{prefix}{}{eol}", cells.join(",")),
            });
            Some(edits)
        }
        // A row's place carries no meaning and CSV has no comments: a new row.
        Edit::InsertAfter {
            kind: table,
            fields,
            ..
        } => csv_edits(
            text,
            cat,
            kind,
            &Edit::Insert {
                kind: *table,
                fields: fields.clone(),
            },
        ),
    }
}

fn shape(key: &str) -> Shape {
    csv::shape(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(text: &str, mut edits: Vec<TextEdit>) -> String {
        edits.sort_by_key(|e| std::cmp::Reverse(e.span.start()));
        let mut t = text.to_string();
        for e in edits {
            t.replace_range(e.span.start()..e.span.end(), &e.text);
        }
        t
    }

    const PRODUCTS: Format = Format::Csv(CsvKind::Products);
    const LICENCES: Format = Format::Csv(CsvKind::Licences);

    #[test]
    fn file_names_decide_the_format() {
        assert_eq!(Format::of_name("a.catalogue.toml"), Some(Format::Toml));
        assert_eq!(Format::of_name("catalogue.toml"), Some(Format::Toml));
        assert_eq!(Format::of_name("a.catalogue.csv"), Some(PRODUCTS));
        assert_eq!(Format::of_name("a.licences.csv"), Some(LICENCES));
        assert_eq!(
            Format::of_name("a.shipments.csv"),
            Some(Format::Csv(CsvKind::Shipments))
        );
        assert_eq!(Format::of_name("a.csv"), None);
        assert_eq!(Format::of_file_name("export.CSV"), PRODUCTS);
        assert_eq!(Format::of_file_name("anything"), Format::Toml);
    }

    #[test]
    fn toml_set_add_and_insert() {
        let text = "[[product]]\n  sku = \"A\"\n  components = [\"X\"]\n# note\n\n[[product]]\nsku = \"B\"\n";
        let cat = Format::Toml.parse(text);
        let a = cat.products[0].span;
        let set = |key: &str, v: Value| Edit::Set {
            item: a,
            key: key.into(),
            value: v,
        };
        let t = apply(
            text,
            Format::Toml.render(text, &cat, &set("licence", Value::Str("L-1".into()))),
        );
        assert!(
            t.starts_with(
                "[[product]]\n  sku = \"A\"\n  components = [\"X\"]\n  licence = \"L-1\"\n# note"
            ),
            "{t}"
        );
        let t = apply(
            text,
            Format::Toml.render(text, &cat, &set("sku", Value::Str("Z".into()))),
        );
        assert!(t.contains("  sku = \"Z\"\n"), "{t}");
        let add = Edit::Add {
            item: a,
            key: "components".into(),
            value: "Y".into(),
        };
        let t = apply(text, Format::Toml.render(text, &cat, &add));
        assert!(t.contains("components = [\"X\", \"Y\"]"), "{t}");
        let ins = Edit::Insert {
            kind: TableKind::Licence,
            fields: vec![
                ("id".into(), Value::Str("L".into())),
                ("issued".into(), Value::Date(jiff::civil::date(2026, 1, 1))),
            ],
        };
        let t = apply("x = 1", Format::Toml.render("x = 1", &cat, &ins));
        assert_eq!(t, "x = 1\n\n[[licence]]\nid = \"L\"\nissued = 2026-01-01\n");
    }

    #[test]
    fn csv_set_replaces_a_cell_or_adds_a_column() {
        let text = "sku,form\r\nA,magnet\r\nB,oxide\r\n";
        let cat = PRODUCTS.parse(text);
        let b = cat.products[1].span;
        let set = |key: &str, v: &str| Edit::Set {
            item: b,
            key: key.into(),
            value: Value::Str(v.into()),
        };
        let t = apply(
            text,
            PRODUCTS.render(text, &cat, &set("form", "metal, alloy")),
        );
        assert_eq!(t, "sku,form\r\nA,magnet\r\nB,\"metal, alloy\"\r\n");
        // No `licence` column: the header gets it, the other rows an empty cell.
        let t = apply(text, PRODUCTS.render(text, &cat, &set("licence", "GL-1")));
        assert_eq!(t, "sku,form,licence\r\nA,magnet,\r\nB,oxide,GL-1\r\n");
        let again = PRODUCTS.parse(&t);
        assert_eq!(again.all_diagnostics().count(), 0);
        assert_eq!(
            again.products[1].licence.as_ref().map(|l| l.value.as_str()),
            Some("GL-1")
        );
        let add = Edit::Add {
            item: again.products[1].span,
            key: "components".into(),
            value: "A".into(),
        };
        let t = apply(&t, PRODUCTS.render(&t, &again, &add));
        assert_eq!(
            t,
            "sku,form,licence,components\r\nA,magnet,,\r\nB,oxide,GL-1,A\r\n"
        );
    }

    #[test]
    fn a_string_written_in_place_keeps_its_csv_cell_whole() {
        let text = "sku,form,components\nA,magnet,\n\"B,1\",rotor-assembly,\"A ; X\"\nC,motor,A; \"\"Q\"\"\n";
        let cat = PRODUCTS.parse(text);
        assert_eq!(cat.all_diagnostics().count(), 0);
        let rename = |span: Span, to: &str| {
            PRODUCTS
                .replace_string(text, &cat, span, to)
                .map(|e| apply(text, vec![e]))
        };
        // The SKU of a quoted cell: the whole cell is written again.
        let b = cat.products[1].sku.as_ref().map(|s| s.span);
        let t = rename(b.unwrap_or_default(), "B,2 \"new\"").unwrap_or_default();
        assert!(t.contains("\n\"B,2 \"\"new\"\"\",rotor-assembly,"), "{t}");
        assert_eq!(
            PRODUCTS.parse(&t).products[1].sku_str(),
            Some("B,2 \"new\"")
        );
        // One name of a quoted list cell: the other names are kept.
        let comps = |p: usize| -> Vec<Span> {
            cat.products[p]
                .components
                .iter()
                .flat_map(|c| c.value.iter().map(|v| v.span))
                .collect()
        };
        let t = rename(comps(1)[0], "A,1").unwrap_or_default();
        let again = PRODUCTS.parse(&t);
        let names: Vec<String> = again.products[1]
            .components
            .iter()
            .flat_map(|c| c.value.iter().map(|v| v.value.clone()))
            .collect();
        assert_eq!(names, ["A,1", "X"], "{t}");
        // Both names of one cell: one edit of the cell.
        let both = PRODUCTS
            .replace_strings(text, &cat, &comps(1), "Y")
            .unwrap_or_default();
        assert_eq!(both.len(), 1);
        assert_eq!(both[0].text, "Y ; Y");
        // A name with a `;` would become two names: refused, with the reason.
        let e = rename(comps(2)[0], "A;B").err().unwrap_or_default();
        assert!(e.contains("`;`"), "{e}");
        // The second name of an unquoted cell with quotes in the first.
        let t = rename(comps(2)[1], "R").unwrap_or_default();
        let again = PRODUCTS.parse(&t);
        let names: Vec<String> = again.products[2]
            .components
            .iter()
            .flat_map(|c| c.value.iter().map(|v| v.value.clone()))
            .collect();
        assert_eq!(names, ["A", "R"], "{t}");
        // TOML: a quoted string at the span.
        let toml = "[[product]]\nsku = \"A\"\n";
        let tc = Format::Toml.parse(toml);
        let s = tc.products[0]
            .sku
            .as_ref()
            .map(|s| s.span)
            .unwrap_or_default();
        let e = Format::Toml.replace_string(toml, &tc, s, "a\"b");
        assert_eq!(e.map(|e| e.text), Ok("\"a\\\"b\"".to_string()));
    }

    #[test]
    fn csv_insert_appends_a_row_in_header_order() {
        let text = "id,type,items\nL1,general,1C905";
        let cat = LICENCES.parse(text);
        let ins = Edit::Insert {
            kind: TableKind::Licence,
            fields: vec![
                ("id".into(), Value::Str("L2".into())),
                (
                    "items".into(),
                    Value::Strs(vec!["1C905".into(), "1C904".into()]),
                ),
                (
                    "expires".into(),
                    Value::Date(jiff::civil::date(2026, 12, 31)),
                ),
            ],
        };
        let t = apply(text, LICENCES.render(text, &cat, &ins));
        assert_eq!(
            t,
            "id,type,items,expires\nL1,general,1C905,\nL2,,1C905; 1C904,2026-12-31\n"
        );
        assert_eq!(LICENCES.parse(&t).licences.len(), 2);
        assert!(
            PRODUCTS.render(text, &cat, &ins).is_empty(),
            "a product file holds no licence"
        );
        assert_eq!(
            apply("", LICENCES.render("", &LICENCES.parse(""), &ins)),
            "id,items,expires\nL2,1C905; 1C904,2026-12-31\n"
        );
    }

    /// A new item next to another: after its table in TOML (one blank line
    /// either side, the file's line ends, what is left to fill as comments);
    /// a new row in CSV (no comments), and nothing where the file cannot hold it.
    #[test]
    fn insert_after_an_item() {
        let ship = |item: Span| Edit::InsertAfter {
            item: Some(item),
            kind: TableKind::Shipment,
            fields: vec![("sku".into(), Value::Str("A".into()))],
            to_fill: vec!["TO FILL IN: ship_date".into()],
        };
        let text = "[[product]]\nsku = \"A\"\n\n[[product]]\nsku = \"B\"";
        let cat = Format::Toml.parse(text);
        let (a, b) = (cat.products[0].span, cat.products[1].span);
        let t = apply(text, Format::Toml.render(text, &cat, &ship(a)));
        assert_eq!(
            t,
            "[[product]]\nsku = \"A\"\n\n[[shipment]]\nsku = \"A\"\n# TO FILL IN: ship_date\n\n[[product]]\nsku = \"B\""
        );
        assert_eq!(Format::Toml.parse(&t).shipments.len(), 1);
        let t = apply(text, Format::Toml.render(text, &cat, &ship(b)));
        assert!(
            t.ends_with("sku = \"B\"\n\n[[shipment]]\nsku = \"A\"\n# TO FILL IN: ship_date\n"),
            "at the end of the file, no blank line after it: {t:?}"
        );
        // At the end of the file (None), an empty one too.
        let end = Edit::InsertAfter {
            item: None,
            kind: TableKind::Screening,
            fields: vec![("party".into(), Value::Str("P".into()))],
            to_fill: vec!["reason".into()],
        };
        for (text, want) in [
            ("", "[[screening]]\nparty = \"P\"\n# reason\n"),
            ("x = 1", "x = 1\n\n[[screening]]\nparty = \"P\"\n# reason\n"),
            (
                "x = 1\n",
                "x = 1\n\n[[screening]]\nparty = \"P\"\n# reason\n",
            ),
            (
                "x = 1\n\n",
                "x = 1\n\n[[screening]]\nparty = \"P\"\n# reason\n",
            ),
        ] {
            let cat = Format::Toml.parse(text);
            assert_eq!(apply(text, Format::Toml.render(text, &cat, &end)), want);
        }
        let cat = PRODUCTS.parse("sku\nA\n");
        assert!(
            PRODUCTS.render("sku\nA\n", &cat, &end).is_empty(),
            "no screening record in a CSV file"
        );
        let crlf = text.replace('\n', "\r\n");
        let cat = Format::Toml.parse(&crlf);
        let t = apply(
            &crlf,
            Format::Toml.render(&crlf, &cat, &ship(cat.products[0].span)),
        );
        assert!(!t.replace("\r\n", "").contains('\n'), "CRLF kept: {t:?}");
        assert_eq!(Format::Toml.parse(&t).shipments.len(), 1);
        // CSV: a row at the end, in header order; no comment.
        const SHIPMENTS: Format = Format::Csv(CsvKind::Shipments);
        let text = "ship_date,sku,quantity\n2026-01-01,A,5\n";
        let cat = SHIPMENTS.parse(text);
        let t = apply(
            text,
            SHIPMENTS.render(text, &cat, &ship(cat.shipments[0].span)),
        );
        assert_eq!(t, "ship_date,sku,quantity\n2026-01-01,A,5\n,A,\n");
        assert_eq!(SHIPMENTS.parse(&t).shipments.len(), 2);
        let text = "sku,form\nA,magnet\n";
        let cat = PRODUCTS.parse(text);
        assert!(
            PRODUCTS
                .render(text, &cat, &ship(cat.products[0].span))
                .is_empty(),
            "a product CSV holds no shipment"
        );
    }

    #[test]
    fn the_key_at_an_offset() {
        let text = "sku,form\nA,magnet\n";
        let cat = PRODUCTS.parse(text);
        assert_eq!(PRODUCTS.key_at(text, &cat, 12), Some(("form".into(), true)));
        assert_eq!(PRODUCTS.key_at(text, &cat, 1), Some(("sku".into(), false)));
        let toml = "[[product]]\nform = \"ma";
        let cat = Format::Toml.parse(toml);
        assert_eq!(
            Format::Toml.key_at(toml, &cat, toml.len()),
            Some(("form".into(), true))
        );
    }
}
