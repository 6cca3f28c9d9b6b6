//! An open document: its text in a rope, edited incrementally with LSP
//! positions in the negotiated encoding, and its parsed catalogue. Positions
//! out of range are clamped, never a panic; CR, LF and CRLF end lines.

use crate::catalogue::parse::{self, Changed};
use crate::catalogue::{Catalogue, Format};
use crate::diagnostic::{Code, Diagnostic};
use crate::text::Span;
use crate::text::{Encoding, LineIndex};
use ropey::Rope;
use std::path::Path;
use tower_lsp::lsp_types::{Position, TextDocumentContentChangeEvent};

/// Files above this size are not loaded from disk into the index.
pub const MAX_INDEX_BYTES: u64 = 64 * 1024 * 1024;

/// A catalogue file read from disk and not open in the editor.
pub struct DiskFile {
    /// Its layout of names (see `Document::names`): one value per file read.
    pub names: u64,
    pub text: String,
    pub lines: LineIndex,
    pub catalogue: Catalogue,
    /// How it is written (from its name).
    pub format: Format,
}

/// Documents larger than this are not analysed in the editor (`check` handles them).
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024 * 1024;

/// The parsed catalogue, or a single `file-too-large` diagnostic for huge texts.
fn parse_or_refuse(text: &str, format: Format) -> Catalogue {
    if text.len() <= MAX_DOCUMENT_BYTES {
        return format.parse(text);
    }
    let mut c = Catalogue::default();
    c.diagnostics.push(Diagnostic::new(
        Code::FileTooLarge,
        Span::new(0, 0),
        format!("this file has {} MiB, more than the {} MiB the editor analyses; split it, or run `catalogue-lsp check` on it", text.len() >> 20, MAX_DOCUMENT_BYTES >> 20),
    ));
    c
}

/// What an edit changed: the catalogue's [`Changed`], and by how many lines
/// the text after the edit moved.
#[derive(Clone, Debug, Default)]
pub struct Edit {
    pub changed: Changed,
    pub lines: i64,
}

/// A new value for [`Document::names`] and `DiskFile::names`.
pub fn next_names() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

pub struct Document {
    pub version: i32,
    /// Which layout of names (SKUs, licence ids, component lists by
    /// position) the catalogue has: a new value whenever an edit may have
    /// changed it, so an index of names stays valid while it is the same.
    pub names: u64,
    rope: Rope,
    pub text: String,
    pub lines: LineIndex,
    pub catalogue: Catalogue,
    /// How it is written: the format parses and re-parses it.
    pub format: Format,
}

impl Document {
    /// A TOML document.
    pub fn new(text: String, version: i32) -> Self {
        Document::with_format(text, version, Format::Toml)
    }

    /// A document in the given format (from its name, `Format::of_file_name`).
    pub fn with_format(text: String, version: i32, format: Format) -> Self {
        let catalogue = parse_or_refuse(&text, format);
        Document {
            format,
            version,
            names: next_names(),
            rope: Rope::from_str(&text),
            lines: LineIndex::new(&text),
            text,
            catalogue,
        }
    }

    /// A document whose text was already read and parsed from disk (the
    /// index): no second parse. The caller checks the text is the editor's
    /// and has no decoding diagnostic.
    pub fn adopt(f: DiskFile, version: i32) -> Self {
        if f.text.len() > MAX_DOCUMENT_BYTES {
            return Document::with_format(f.text, version, f.format);
        }
        Document {
            format: f.format,
            version,
            names: next_names(),
            rope: Rope::from_str(&f.text),
            lines: f.lines,
            text: f.text,
            catalogue: f.catalogue,
        }
    }

    /// Applies the changes in order, then re-parses the tables they touched.
    /// Returns what the edit may have changed, or None (and changes nothing)
    /// when `version` is not newer than the current one.
    pub fn apply(
        &mut self,
        changes: Vec<TextDocumentContentChangeEvent>,
        version: i32,
        enc: Encoding,
    ) -> Option<Edit> {
        if version <= self.version {
            return None;
        }
        self.version = version;
        let edit = self.apply_changes(changes, enc);
        if !edit.changed.names_kept {
            self.names = next_names();
        }
        Some(edit)
    }

    fn apply_changes(
        &mut self,
        mut changes: Vec<TextDocumentContentChangeEvent>,
        enc: Encoding,
    ) -> Edit {
        if let [change] = changes.as_mut_slice() {
            if self.text.len() <= MAX_DOCUMENT_BYTES {
                let text = std::mem::take(&mut change.text);
                return match change.range {
                    Some(range) => {
                        let start = self.char_at(range.start, enc);
                        let end = self.char_at(range.end, enc).max(start);
                        let (a, b) = (self.rope.char_to_byte(start), self.rope.char_to_byte(end));
                        self.apply_one(a, b, &text)
                    }
                    // A whole new text (formatters, some clients): edit only what differs.
                    None => {
                        let (old, new) = (self.text.as_bytes(), text.as_bytes());
                        let mut a = parse::common_prefix(old, new);
                        while !self.text.is_char_boundary(a) {
                            a -= 1;
                        }
                        let mut s =
                            parse::common_suffix(old, new).min(old.len().min(new.len()) - a);
                        while !self.text.is_char_boundary(old.len() - s) {
                            s -= 1;
                        }
                        self.apply_one(a, old.len() - s, &text[a..new.len() - s])
                    }
                };
            }
        }
        let old_text = self.text.clone();
        for ch in changes {
            match ch.range {
                None => self.rope = Rope::from_str(&ch.text),
                Some(r) => {
                    let start = self.char_at(r.start, enc);
                    let end = self.char_at(r.end, enc).max(start);
                    self.rope.remove(start..end);
                    self.rope.insert(start, &ch.text);
                }
            }
        }
        self.text = self.rope.to_string();
        let old_lines = std::mem::replace(&mut self.lines, LineIndex::new(&self.text));
        self.reparse_from(&old_text, &old_lines)
    }

    /// One change, bytes `a..b` replaced by `text` (what editors send while
    /// typing): the text and its line index are edited in place, and the
    /// catalogue re-parsed in place when the edit stays inside a line of one
    /// table.
    fn apply_one(&mut self, a: usize, b: usize, text: &str) -> Edit {
        if a == b && text.is_empty() {
            return Edit {
                changed: parse::Changed::unchanged(&self.catalogue, self.text.len()),
                lines: 0,
            };
        }
        let (start, end) = (self.rope.byte_to_char(a), self.rope.byte_to_char(b));
        self.rope.remove(start..end);
        self.rope.insert(start, text);
        let removed = self.text.get(a..b).unwrap_or_default().to_owned();
        self.text.replace_range(a..b, text);
        let old_count = self.lines.line_count();
        self.lines.update(&self.text, a, b - a, text.len());
        if self.text.len() <= MAX_DOCUMENT_BYTES {
            if let Some(changed) =
                self.format
                    .edit_at(&mut self.catalogue, &self.text, a, &removed, text.len())
            {
                return Edit {
                    changed,
                    lines: self.lines.line_count() as i64 - old_count as i64,
                };
            }
        }
        let mut old_text = self.text.clone();
        old_text.replace_range(a..a + text.len(), &removed);
        self.reparse_from(&old_text, &LineIndex::new(&old_text))
    }

    /// Re-parses after the text changed from `old_text` (whose lines were `old_lines`).
    fn reparse_from(&mut self, old_text: &str, old_lines: &LineIndex) -> Edit {
        let (catalogue, changed) = if self.text.len() > MAX_DOCUMENT_BYTES {
            (
                parse_or_refuse(&self.text, self.format),
                Changed {
                    catalogue: true,
                    ..Default::default()
                },
            )
        } else {
            self.format
                .reparse(std::mem::take(&mut self.catalogue), old_text, &self.text)
        };
        self.catalogue = catalogue;
        let from = changed.kept.from;
        let lines = self
            .lines
            .line_of(from.saturating_add_signed(changed.kept.delta)) as i64
            - old_lines.line_of(from) as i64;
        Edit { changed, lines }
    }

    /// The rope char index of an LSP position (clamped).
    fn char_at(&self, pos: Position, enc: Encoding) -> usize {
        let line = pos.line as usize;
        if line >= self.rope.len_lines() {
            return self.rope.len_chars();
        }
        let start = self.rope.line_to_char(line);
        let slice = self.rope.line(line);
        let mut units = 0usize;
        let col = pos.character as usize;
        for (i, ch) in slice.chars().enumerate() {
            if ch == '\n' || ch == '\r' {
                return start + i;
            }
            let w = match enc {
                Encoding::Utf8 => ch.len_utf8(),
                Encoding::Utf16 => ch.len_utf16(),
                Encoding::Utf32 => 1,
            };
            if units + w > col {
                return start + i;
            }
            units += w;
        }
        start + slice.len_chars()
    }
}

/// Reads a catalogue file from disk for the index through the guarded
/// reader (a regular file of at most 64 MiB, inside `within` when given;
/// invalid UTF-8 replaced).
pub fn read_disk(
    path: &Path,
    within: Option<crate::fsread::Within>,
) -> Result<DiskFile, crate::fsread::ReadError> {
    let bytes = crate::fsread::read(
        path,
        &crate::fsread::Guard::catalogue(MAX_INDEX_BYTES, within),
    )?;
    let (text, bad) = crate::source::decode(bytes);
    let format = Format::of_path(path);
    let mut catalogue = format.parse(&text);
    if let Some(d) = bad {
        catalogue.diagnostics.insert(0, d);
    }
    Ok(DiskFile {
        format,
        names: next_names(),
        lines: LineIndex::new(&text),
        text,
        catalogue,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_lsp::lsp_types::Range;

    fn change(l1: u32, c1: u32, l2: u32, c2: u32, text: &str) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: Some(Range {
                start: Position::new(l1, c1),
                end: Position::new(l2, c2),
            }),
            range_length: None,
            text: text.into(),
        }
    }

    #[test]
    fn utf16_edits_after_non_bmp_characters() {
        let mut d = Document::new("a = \"𝄞x\"\r\nb = 1\r\n".into(), 1);
        // Replace `x` (UTF-16 column 7: a, space, =, space, ", 𝄞 (2 units)).
        assert!(
            d.apply(vec![change(0, 7, 0, 8, "y")], 2, Encoding::Utf16)
                .is_some()
        );
        assert_eq!(d.text, "a = \"𝄞y\"\r\nb = 1\r\n");
        assert!(
            d.apply(vec![change(0, 9, 0, 10, "Z")], 3, Encoding::Utf8)
                .is_some()
        );
        assert_eq!(d.text, "a = \"𝄞Z\"\r\nb = 1\r\n");
        assert!(
            d.apply(vec![change(1, 4, 1, 5, "2")], 4, Encoding::Utf32)
                .is_some()
        );
        assert_eq!(d.text, "a = \"𝄞Z\"\r\nb = 2\r\n");
    }

    #[test]
    fn out_of_range_and_stale_edits_never_panic() {
        let mut d = Document::new("x\n".into(), 1);
        assert!(
            d.apply(vec![change(99, 99, 100, 0, "tail")], 2, Encoding::Utf16)
                .is_some()
        );
        assert_eq!(d.text, "x\ntail");
        assert!(
            d.apply(vec![change(0, 50, 0, 60, "!")], 3, Encoding::Utf16)
                .is_some()
        );
        assert_eq!(d.text, "x!\ntail");
        assert!(
            d.apply(vec![change(1, 3, 0, 0, "")], 4, Encoding::Utf16)
                .is_some(),
            "reversed range is empty"
        );
        assert!(
            d.apply(vec![change(0, 0, 0, 0, "old")], 3, Encoding::Utf16)
                .is_none(),
            "older version ignored"
        );
        assert_eq!(d.text, "x!\ntail");
    }
}
