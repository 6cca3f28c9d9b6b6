//! Splits a catalogue's text into independent tables at their headers, so
//! each table is parsed on its own: a syntax error stays inside its table,
//! and after an edit only the tables it touched need parsing again.
//!
//! A line starting with `[` is a header when it is outside strings and
//! outside a multi-line array or inline table. Sub-table headers of the
//! current array table (`[product.composition]`) stay in the same chunk, so
//! TOML's own rules attach them. Recovery: the known headers (`[[product]]`,
//! `[[licence]]`, `[catalogue]`) always start a chunk outside strings, even
//! after an unclosed bracket; an unterminated multi-line string is re-scanned
//! as ordinary lines so one stray `"""` cannot swallow the rest of the file.

use crate::text::Span;

/// One table's slice of the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// The whole chunk, header line included, up to the next header.
    pub span: Span,
    /// The header's brackets and name, when the chunk has one.
    pub header: Option<Span>,
    /// The header name without brackets, quotes or spaces (`product`).
    pub name: String,
    /// `[[name]]` rather than `[name]`.
    pub array: bool,
    /// Deepest bracket nesting seen in values.
    pub max_depth: usize,
}

const MAX_RESTARTS: u32 = 8;

const KNOWN: [(&str, bool); 4] = [
    ("product", true),
    ("licence", true),
    ("shipment", true),
    ("catalogue", false),
];

/// Splits `text` into chunks; the chunks cover the text without gaps.
pub fn split(text: &str) -> Vec<Chunk> {
    let bytes = text.as_bytes();
    let mut chunks = vec![Chunk {
        span: Span::new(0, 0),
        header: None,
        name: String::new(),
        array: false,
        max_depth: 0,
    }];
    let mut depth = 0usize;
    let mut ml: Option<(u8, usize)> = None; // multi-line string: quote byte, line start where it opened
    let mut pos = 0usize;
    let mut restarts = 0u32;
    while pos < bytes.len() {
        let line_end = memchr_newline(bytes, pos);
        let next = if line_end < bytes.len() {
            line_end + 1
        } else {
            line_end
        };
        let line = &text[pos..line_end];
        let trimmed_off = line.len()
            - line
                .trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
                .len();
        if ml.is_none() && line[trimmed_off..].starts_with('[') {
            if let Some((hspan, name, array)) = header_at(text, pos + trimmed_off, line_end) {
                let known = KNOWN.iter().any(|(n, a)| *n == name && *a == array);
                let current = chunks
                    .last()
                    .map(|c| (c.name.clone(), c.array))
                    .unwrap_or_default();
                let is_subtable = current.1 && name.starts_with(&format!("{}.", current.0));
                if (depth == 0 || known) && !is_subtable {
                    depth = 0;
                    if let Some(last) = chunks.last_mut() {
                        last.span = Span::new(last.span.start(), pos);
                    }
                    chunks.push(Chunk {
                        span: Span::new(pos, pos),
                        header: Some(hspan),
                        name,
                        array,
                        max_depth: 0,
                    });
                    pos = next;
                    continue;
                }
            }
        }
        let (d, m) = scan_line(bytes, pos, line_end, depth, ml);
        depth = d;
        // After a few rescans, stop tracking multi-line strings: bounded time on hostile input.
        ml = m
            .filter(|_| restarts < MAX_RESTARTS)
            .map(|(q, opened)| (q, if opened == 0 { pos } else { opened }));
        if let Some(last) = chunks.last_mut() {
            last.max_depth = last.max_depth.max(depth);
        }
        pos = next;
        if pos >= bytes.len() {
            if let Some((_, opened)) = ml.take() {
                // Unterminated multi-line string: rescan after its opening line.
                let reopen = memchr_newline(bytes, opened);
                if reopen < bytes.len() {
                    restarts += 1;
                    pos = reopen + 1;
                    depth = 0;
                    // Drop chunks that started after the opening line: they are rescanned.
                    while chunks.len() > 1 && chunks.last().is_some_and(|c| c.span.start() > opened)
                    {
                        chunks.pop();
                    }
                }
            }
        }
    }
    if let Some(last) = chunks.last_mut() {
        last.span = Span::new(last.span.start(), bytes.len());
    }
    if chunks.len() > 1 && chunks[0].span.is_empty() {
        chunks.remove(0);
    }
    chunks
}

fn memchr_newline(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map_or(bytes.len(), |i| {
            let at = from + i;
            // Treat CRLF as one terminator: the line ends at CR, the next starts after LF.
            if bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n') {
                at + 1
            } else {
                at
            }
        })
}

/// Parses a header starting at `start` (a `[`); returns its span, name and kind.
fn header_at(text: &str, start: usize, line_end: usize) -> Option<(Span, String, bool)> {
    let line = &text[start..line_end];
    let array = line.starts_with("[[");
    let open = if array { 2 } else { 1 };
    let close_pat = if array { "]]" } else { "]" };
    let mut name = String::new();
    let mut i = open;
    let b = line.as_bytes();
    while i < b.len() {
        match b[i] {
            b'"' | b'\'' => {
                let q = b[i];
                let end = line[i + 1..].find(q as char)? + i + 1;
                name.push_str(&line[i + 1..end]);
                i = end + 1;
            }
            b']' => break,
            b' ' | b'\t' => i += 1,
            b'[' | b'=' | b'{' | b',' | b'#' => return None,
            c => {
                name.push(c as char);
                i += 1;
            }
        }
    }
    if !line[i..].starts_with(close_pat) || name.is_empty() {
        return None;
    }
    // Only a comment may follow the header.
    let rest = line[i + close_pat.len()..].trim_start();
    if !(rest.is_empty() || rest.starts_with('#')) {
        return None;
    }
    let name = String::from_utf8_lossy(name.as_bytes()).into_owned();
    Some((Span::new(start, start + i + close_pat.len()), name, array))
}

/// Scans one line of values, tracking bracket depth and multi-line strings.
fn scan_line(
    b: &[u8],
    mut i: usize,
    end: usize,
    mut depth: usize,
    mut ml: Option<(u8, usize)>,
) -> (usize, Option<(u8, usize)>) {
    while i < end {
        if let Some((q, opened)) = ml {
            // Look for the closing triple quote.
            while i < end {
                if q == b'"' && b[i] == b'\\' {
                    i += 2;
                    continue;
                }
                if b[i] == q && b.get(i + 1) == Some(&q) && b.get(i + 2) == Some(&q) {
                    i += 3;
                    while i < end && b[i] == q {
                        i += 1;
                    }
                    ml = None;
                    break;
                }
                i += 1;
            }
            if ml.is_some() {
                return (depth, Some((q, opened)));
            }
            continue;
        }
        match b[i] {
            b'#' => return (depth, None),
            q @ (b'"' | b'\'') => {
                if b.get(i + 1) == Some(&q) && b.get(i + 2) == Some(&q) {
                    ml = Some((q, 0));
                    i += 3;
                    continue;
                }
                i += 1;
                while i < end && b[i] != q {
                    if q == b'"' && b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'[' | b'{' => {
                depth += 1;
                i += 1;
            }
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            _ => i += 1,
        }
    }
    (depth, ml)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(t: &str) -> Vec<String> {
        split(t).into_iter().map(|c| c.name).collect()
    }

    #[test]
    fn splits_at_headers_and_covers_the_text() {
        let t = "# top\n[catalogue]\nname = \"x\"\n\n[[product]]\nsku = \"A\"\n[[licence]] # c\nid = \"L\"\n";
        let cs = split(t);
        assert_eq!(names(t), ["", "catalogue", "product", "licence"]);
        assert_eq!(cs[0].span.start(), 0);
        assert_eq!(cs.last().unwrap().span.end(), t.len());
        for w in cs.windows(2) {
            assert_eq!(w[0].span.end(), w[1].span.start());
        }
        assert_eq!(
            &t[cs[2].header.unwrap().start()..cs[2].header.unwrap().end()],
            "[[product]]"
        );
    }

    #[test]
    fn brackets_inside_values_and_strings_are_not_headers() {
        let t =
            "[[product]]\nitems = [\n[1, 2],\n]\ns = \"\"\"\n[[product]]\n\"\"\"\n[[product]]\n";
        assert_eq!(names(t), ["product", "product"]);
    }

    #[test]
    fn subtables_stay_with_their_product() {
        let t = "[[product]]\nsku = \"A\"\n[product.composition]\nDy = 1\n[[product]]\n";
        assert_eq!(names(t), ["product", "product"]);
    }

    #[test]
    fn known_headers_recover_from_an_unclosed_bracket() {
        let t = "[[product]]\nitems = [\"a\",\n[[product]]\nsku = \"B\"\n";
        assert_eq!(names(t), ["product", "product"]);
    }

    #[test]
    fn unterminated_multiline_string_does_not_swallow_the_file() {
        let t = "[[product]]\nname = \"\"\"oops\n[[product]]\nsku = \"B\"\n";
        assert_eq!(names(t), ["product", "product"]);
    }

    #[test]
    fn crlf_and_cr_lines() {
        let t = "[[product]]\r\nsku = \"A\"\r\n[[licence]]\rid = \"L\"\r";
        assert_eq!(names(t), ["product", "licence"]);
    }

    #[test]
    fn quoted_header_names() {
        assert_eq!(names("[[ \"product\" ]]\n"), ["product"]);
        assert_eq!(names("[x]\n[[product]]\n"), ["x", "product"]);
    }
}
