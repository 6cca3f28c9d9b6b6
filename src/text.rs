//! Text positions: byte spans and the line index that turns them into
//! 1-based line/column pairs (CLI) or 0-based lines with UTF-8/16/32 columns
//! (language server). Owns nothing else; CR, LF and CRLF all end a line.

use serde::Serialize;

/// A half-open byte range `[start, end)` into one file's text. Offsets are
/// 32-bit (a catalogue holds millions of spans; files over 4 GiB are refused
/// before parsing); `start()` and `end()` give them as `usize`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    start: u32,
    end: u32,
}

/// The largest file a span can address.
pub const MAX_TEXT_BYTES: usize = u32::MAX as usize;

/// An offset as stored in a span (saturating: texts are at most [`MAX_TEXT_BYTES`]).
fn offset(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start: offset(start),
            end: offset(end.max(start)),
        }
    }

    pub fn start(self) -> usize {
        self.start as usize
    }

    pub fn end(self) -> usize {
        self.end as usize
    }

    pub fn shifted(self, by: usize) -> Self {
        Span::new(self.start() + by, self.end() + by)
    }

    /// The span moved by `delta` bytes (saturating at 0).
    pub fn moved(self, delta: isize) -> Self {
        Span::new(
            self.start().saturating_add_signed(delta),
            self.end().saturating_add_signed(delta),
        )
    }

    pub fn contains(self, offset: usize) -> bool {
        self.start() <= offset && offset < self.end()
    }

    pub fn len(self) -> usize {
        self.end() - self.start()
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

impl From<std::ops::Range<usize>> for Span {
    fn from(r: std::ops::Range<usize>) -> Self {
        Span::new(r.start, r.end)
    }
}

/// A 1-based line and column (column counted in Unicode scalar values), as
/// compilers print them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

/// How columns are counted: the LSP position encodings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
    Utf32,
}

/// Offsets of line starts in a text. Built in O(n), updated around an edit.
/// The starts are 32-bit, like [`Span`]'s offsets (a million products'
/// 9 million lines: 36 MB instead of 72): catalogue files and editor messages
/// are refused above 256 MiB, far below [`MAX_TEXT_BYTES`]; beyond it a start
/// saturates (positions there are clamped, never a panic).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineIndex {
    starts: Vec<u32>,
    len: usize,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        // Sized by a count of the line ends first: grown by doubling, a
        // million products' 9 million lines held 134 MB instead of 72.
        let ends = memchr::memchr2_iter(b'\n', b'\r', bytes).count();
        let mut starts = Vec::with_capacity(ends + 1);
        starts.push(0);
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => starts.push(offset(i + 1)),
                b'\r' => {
                    if bytes.get(i + 1) == Some(&b'\n') {
                        i += 1;
                    }
                    starts.push(offset(i + 1));
                }
                _ => {}
            }
            i += 1;
        }
        if starts.capacity() > starts.len() + starts.len() / 4 {
            // CR LF line ends were counted twice.
            starts.shrink_to_fit();
        }
        LineIndex {
            starts,
            len: text.len(),
        }
    }

    /// Updates the index after `removed` bytes at `at` were replaced by
    /// `inserted` bytes; `text` is the new text. Only the lines around the
    /// edit are scanned again; the starts after it move.
    pub fn update(&mut self, text: &str, at: usize, removed: usize, inserted: usize) {
        let bytes = text.as_bytes();
        // A start at p depends on bytes p - 1 and p (CR LF is one line end).
        let is_start = |p: usize| match bytes.get(p - 1) {
            Some(b'\n') => true,
            Some(b'\r') => bytes.get(p) != Some(&b'\n'),
            _ => false,
        };
        // Unchanged up to the line before the edit's (a CR there may pair with an LF)...
        let lo = self.line_of(at).saturating_sub(1);
        let from = self.starts[lo] as usize;
        // ...and, after the edit, starts decided by unchanged bytes only move.
        let hi = self
            .starts
            .partition_point(|&s| s as usize <= at + removed + 1);
        let new_end = (at + inserted + 1).min(bytes.len());
        let rescanned: Vec<u32> = (from + 1..=new_end)
            .filter(|&p| is_start(p))
            .map(offset)
            .collect();
        let moved_from = lo + 1 + rescanned.len();
        self.starts.splice(lo + 1..hi, rescanned);
        for s in &mut self.starts[moved_from..] {
            *s = offset((*s as usize + inserted).saturating_sub(removed));
        }
        self.len = bytes.len();
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// 0-based line containing `offset` (clamped to the text).
    pub fn line_of(&self, offset: usize) -> usize {
        let offset = self::offset(offset.min(self.len));
        match self.starts.binary_search(&offset) {
            Ok(l) => l,
            Err(l) => l - 1,
        }
    }

    pub fn line_start(&self, line: usize) -> usize {
        self.starts
            .get(line)
            .map_or(self.len, |&s| (s as usize).min(self.len))
    }

    /// End of a line's content, before its line terminator.
    pub fn line_end(&self, text: &str, line: usize) -> usize {
        let next = self.line_start(line + 1);
        let bytes = text.as_bytes();
        let mut end = next;
        while end > self.line_start(line) && matches!(bytes.get(end - 1), Some(b'\n' | b'\r')) {
            end -= 1;
        }
        end
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, text: &str, offset: usize) -> LineCol {
        let offset = floor_char_boundary(text, offset.min(self.len));
        let line = self.line_of(offset);
        let start = self.line_start(line);
        let column = text[start..offset].chars().count() + 1;
        LineCol {
            line: line + 1,
            column,
        }
    }

    /// 0-based line and column in the given encoding.
    pub fn position(&self, text: &str, offset: usize, enc: Encoding) -> (u32, u32) {
        let offset = floor_char_boundary(text, offset.min(self.len));
        let line = self.line_of(offset);
        let seg = &text[self.line_start(line)..offset];
        let col = match enc {
            Encoding::Utf8 => seg.len(),
            Encoding::Utf16 => seg.chars().map(char::len_utf16).sum(),
            Encoding::Utf32 => seg.chars().count(),
        };
        (line as u32, col as u32)
    }

    /// Byte offset of a 0-based line and column in the given encoding.
    /// Out-of-range lines and columns are clamped, never a panic; a column
    /// inside a character or past the line end lands on the nearest boundary
    /// before it.
    pub fn offset(&self, text: &str, line: u32, col: u32, enc: Encoding) -> usize {
        let line = line as usize;
        if line >= self.starts.len() {
            return self.len;
        }
        let start = self.line_start(line);
        let end = self.line_end(text, line);
        let seg = &text[start..end];
        let col = col as usize;
        match enc {
            Encoding::Utf8 => start + floor_char_boundary(seg, col.min(seg.len())),
            Encoding::Utf16 | Encoding::Utf32 => {
                let mut units = 0;
                for (i, ch) in seg.char_indices() {
                    let w = if enc == Encoding::Utf16 {
                        ch.len_utf16()
                    } else {
                        1
                    };
                    if units + w > col {
                        return start + i;
                    }
                    units += w;
                }
                end
            }
        }
    }
}

/// The largest char boundary at or before `i`.
pub fn floor_char_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The starts are allocated once, for the line ends counted: not the
    /// up to twice as many a doubling vector holds (LF, CR LF and CR files).
    #[test]
    fn line_starts_hold_no_doubling_slack() {
        for end in ["\n", "\r\n", "\r"] {
            let text = format!("key = \"value\"{end}").repeat(10_000);
            let ix = LineIndex::new(&text);
            assert_eq!(ix.starts.len(), 10_001);
            assert!(
                ix.starts.capacity() <= ix.starts.len() + ix.starts.len() / 4,
                "{end:?}: capacity {} for {} starts",
                ix.starts.capacity(),
                ix.starts.len()
            );
            // Four bytes a line start (usize held eight: 36 MB more for a
            // million products' 9 million lines).
            let bytes = ix.starts.capacity() * std::mem::size_of_val(&ix.starts[0]);
            assert!(bytes <= 5 * ix.starts.len(), "{end:?}: {bytes} bytes");
        }
    }

    /// Positions past the last line start clamp to the text, as before.
    #[test]
    fn positions_clamp_to_the_text() {
        let text = "ab\ncd";
        let ix = LineIndex::new(text);
        assert_eq!(ix.line_of(100), 1);
        assert_eq!(ix.line_start(5), text.len());
        assert_eq!(ix.line_end(text, 1), text.len());
        assert_eq!(ix.line_col(text, 100), LineCol { line: 2, column: 3 });
    }

    #[test]
    fn an_updated_index_equals_a_fresh_one() {
        let pieces = ["", "x", "\n", "\r", "\r\n", "ab\ncd", "𝄞", "\n\n\r"];
        let base = "a\r\nb\rc\n\nd𝄞e\r\n";
        for at in 0..=base.len() {
            for len in 0..4 {
                for ins in pieces {
                    let end = at + len;
                    if !base.is_char_boundary(at) || end > base.len() || !base.is_char_boundary(end)
                    {
                        continue;
                    }
                    let mut text = base.to_string();
                    let mut idx = LineIndex::new(&text);
                    text.replace_range(at..end, ins);
                    idx.update(&text, at, len, ins.len());
                    let fresh = LineIndex::new(&text);
                    assert_eq!(idx.starts, fresh.starts, "{at} {len} {ins:?}");
                    assert_eq!(idx.len, fresh.len);
                }
            }
        }
    }

    #[test]
    fn lines_end_at_lf_crlf_and_cr() {
        let t = "a\nb\r\nc\rd";
        let ix = LineIndex::new(t);
        assert_eq!(ix.line_count(), 4);
        assert_eq!(
            ix.line_col(t, t.find('d').unwrap()),
            LineCol { line: 4, column: 1 }
        );
        assert_eq!(ix.line_end(t, 1), 3);
    }

    #[test]
    fn columns_in_every_encoding_round_trip() {
        let t = "x = \"𝄞é\" # z\r\ny";
        let ix = LineIndex::new(t);
        let z = t.find('z').unwrap();
        assert_eq!(ix.position(t, z, Encoding::Utf8), (0, z as u32));
        assert_eq!(ix.position(t, z, Encoding::Utf16), (0, 12));
        assert_eq!(ix.position(t, z, Encoding::Utf32), (0, 11));
        for enc in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
            let (l, c) = ix.position(t, z, enc);
            assert_eq!(ix.offset(t, l, c, enc), z);
        }
    }

    #[test]
    fn out_of_range_positions_clamp() {
        let t = "ab\n𝄞";
        let ix = LineIndex::new(t);
        assert_eq!(ix.offset(t, 99, 0, Encoding::Utf16), t.len());
        assert_eq!(ix.offset(t, 0, 99, Encoding::Utf16), 2);
        // Inside the surrogate pair: lands before the character.
        assert_eq!(ix.offset(t, 1, 1, Encoding::Utf16), 3);
        assert_eq!(ix.offset(t, 1, 2, Encoding::Utf8), 3);
        assert_eq!(ix.line_col(t, 1000).line, 2);
    }
}
