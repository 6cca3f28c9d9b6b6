//! The wire form of pushed diagnostics. A diagnostic is serialised once, when
//! it is computed, into a [`Template`]: its JSON with the line numbers left as
//! holes. The lines of its own range are kept relative to its product's
//! first line, so a product that moves keeps its templates untouched; only
//! related locations in the same file are moved, eagerly. A `publishDiagnostics` notification
//! is then written by copying templates, without re-rendering or going
//! through `serde_json::Value` (a 10 000-product catalogue carries ~12 000
//! diagnostics on every keystroke).

use std::ops::Range;
use std::sync::Arc;
use tower_lsp::lsp_types as lsp;

/// Line numbers at and above this mark holes while a template is built.
const SENTINEL: u32 = 4_000_000_000;

/// A line number in a template and where it goes.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Hole {
    pos: usize,
    line: Line,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Line {
    /// The diagnostic's own range: this many lines below the base line.
    Own(i64),
    /// A related location in the same file, with the byte offset it stands
    /// for, so that it can follow the text when an edit moves it.
    Local(u32, usize),
    /// A related location in another file.
    Foreign(u32),
}

/// One diagnostic serialised, its line numbers left as holes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    text: Box<str>,
    holes: Box<[Hole]>,
}

/// The line of a range end and the byte offset it came from (`None`: another file).
pub type Anchor = (u32, Option<usize>);

impl Template {
    /// Serialises `d`. `anchors` gives, for each line number in serialisation
    /// order (range start, range end, then each related location's start and
    /// end), its value and the byte offset it stands for (`None`: another
    /// file). The diagnostic's own lines are stored relative to `base`.
    pub fn new(mut d: lsp::Diagnostic, anchors: &[Anchor], base: u32) -> Template {
        let mut k = SENTINEL;
        let mut mark = |r: &mut lsp::Range| {
            r.start.line = k;
            r.end.line = k + 1;
            k += 2;
        };
        mark(&mut d.range);
        for r in d.related_information.iter_mut().flatten() {
            mark(&mut r.location.range);
        }
        let json = serde_json::to_string(&d).unwrap_or_else(|_| "{}".into());
        let mut text = String::with_capacity(json.len());
        let mut holes = Vec::new();
        let mut rest = json.as_str();
        // `"line":` cannot occur inside a JSON string (its quotes are escaped).
        while let Some(i) = rest.find("\"line\":") {
            let after = i + "\"line\":".len();
            let digits = rest[after..]
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len() - after);
            text.push_str(&rest[..after]);
            let value: u32 = rest[after..after + digits].parse().unwrap_or(0);
            let hole = value.checked_sub(SENTINEL).map(|n| n as usize);
            match hole.and_then(|n| Some((n, anchors.get(n)?))) {
                Some((n, &(line, at))) => holes.push(Hole {
                    pos: text.len(),
                    line: match at {
                        _ if n < 2 => Line::Own(i64::from(line) - i64::from(base)),
                        Some(at) => Line::Local(line, at),
                        None => Line::Foreign(line),
                    },
                }),
                None => text.push_str(&rest[after..after + digits]),
            }
            rest = &rest[after + digits..];
        }
        text.push_str(rest);
        Template {
            text: text.into(),
            holes: holes.into(),
        }
    }

    /// Some related location is in the same file (see [`Self::shift`]).
    pub fn has_local(&self) -> bool {
        self.holes.iter().any(|h| matches!(h.line, Line::Local(..)))
    }

    /// Moves the related locations in the same file at or after byte `from`
    /// by `lines` lines and `bytes` bytes (an edit above them).
    pub fn shift(&mut self, from: usize, bytes: isize, lines: i64) {
        for h in self.holes.iter_mut() {
            if let Line::Local(line, at) = &mut h.line {
                if *at >= from {
                    *at = at.saturating_add_signed(bytes);
                    *line = u32::try_from(i64::from(*line) + lines).unwrap_or(0);
                }
            }
        }
    }

    /// Appends the diagnostic's JSON, its own lines counted from `base`.
    pub fn write(&self, out: &mut Vec<u8>, base: u32) {
        let mut last = 0;
        let mut buf = itoa::Buffer::new();
        for h in self.holes.iter() {
            out.extend_from_slice(&self.text.as_bytes()[last..h.pos]);
            let line = match h.line {
                Line::Own(rel) => u32::try_from(i64::from(base) + rel).unwrap_or(0),
                Line::Local(line, _) | Line::Foreign(line) => line,
            };
            out.extend_from_slice(buf.format(line).as_bytes());
            last = h.pos;
        }
        out.extend_from_slice(&self.text.as_bytes()[last..]);
    }
}

/// A framed `textDocument/publishDiagnostics` notification.
/// `diagnostics` are templates with the base line of each.
pub fn publish<'a>(
    uri: &lsp::Url,
    version: Option<i32>,
    diagnostics: impl IntoIterator<Item = (&'a Template, u32)>,
) -> Frame {
    let mut items = Vec::with_capacity(1 << 12);
    for (i, (t, base)) in diagnostics.into_iter().enumerate() {
        if i > 0 {
            items.push(b',');
        }
        t.write(&mut items, base);
    }
    let range = 0..items.len();
    publish_items(uri, version, Arc::new(items), range)
}

/// A message for stdout: `head`, then a shared slice (a publication's
/// items, still owned by the file's `Publication`: not copied), then `tail`.
#[derive(Debug, Default)]
pub struct Frame {
    pub head: Vec<u8>,
    pub shared: Option<(Arc<Vec<u8>>, Range<usize>)>,
    pub tail: &'static [u8],
}

impl Frame {
    /// A frame already in one buffer (tower-lsp's).
    pub fn whole(bytes: Vec<u8>) -> Frame {
        Frame {
            head: bytes,
            ..Frame::default()
        }
    }

    /// The message's bytes in order.
    pub fn parts(&self) -> [&[u8]; 3] {
        let shared = self
            .shared
            .as_ref()
            .and_then(|(b, r)| b.get(r.clone()))
            .unwrap_or_default();
        [&self.head, shared, self.tail]
    }

    /// The whole message in one buffer.
    #[cfg(test)]
    pub fn to_vec(&self) -> Vec<u8> {
        self.parts().concat()
    }
}

/// A framed `textDocument/publishDiagnostics` notification whose
/// `diagnostics` array holds `items[range]` (JSON values separated by
/// commas); the items are shared, not copied.
pub fn publish_items(
    uri: &lsp::Url,
    version: Option<i32>,
    items: Arc<Vec<u8>>,
    range: Range<usize>,
) -> Frame {
    let mut head = Vec::with_capacity(256);
    head.extend_from_slice(
        br#"{"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":{"uri":"#,
    );
    let _ = serde_json::to_writer(&mut head, uri.as_str());
    if let Some(v) = version {
        head.extend_from_slice(br#","version":"#);
        head.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    }
    head.extend_from_slice(br#","diagnostics":["#);
    const TAIL: &[u8] = b"]}}";
    let len = head.len() + range.len() + TAIL.len();
    let mut framed = Vec::with_capacity(head.len() + 32);
    framed.extend_from_slice(b"Content-Length: ");
    framed.extend_from_slice(itoa::Buffer::new().format(len).as_bytes());
    framed.extend_from_slice(b"\r\n\r\n");
    framed.extend_from_slice(&head);
    Frame {
        head: framed,
        shared: Some((items, range)),
        tail: TAIL,
    }
}

/// `Content-Length` framing.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 32);
    out.extend_from_slice(b"Content-Length: ");
    out.extend_from_slice(itoa::Buffer::new().format(body.len()).as_bytes());
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(body);
    out
}

/// `s` as a JSON string (quoted and escaped), for answers written straight to JSON.
pub fn string(out: &mut Vec<u8>, s: &str) {
    let _ = serde_json::to_writer(&mut *out, s);
}

#[cfg(test)]
mod tests {
    use super::*;
    use lsp::{Diagnostic, DiagnosticRelatedInformation, Location, Position, Url};
    type Range = lsp::Range;

    fn range(l1: u32, c1: u32, l2: u32, c2: u32) -> Range {
        Range::new(Position::new(l1, c1), Position::new(l2, c2))
    }

    fn sample() -> Diagnostic {
        Diagnostic {
            range: range(3, 1, 4, 2),
            message: "a \"line\":4000000000 lookalike in a message".into(),
            related_information: Some(vec![DiagnosticRelatedInformation {
                location: Location {
                    uri: Url::parse("file:///a.catalogue.toml").unwrap(),
                    range: range(10, 0, 10, 5),
                },
                message: "there".into(),
            }]),
            ..Default::default()
        }
    }

    fn json(t: &Template, base: u32) -> serde_json::Value {
        let mut out = Vec::new();
        t.write(&mut out, base);
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn a_template_writes_the_diagnostic_it_was_made_from() {
        let d = sample();
        let anchors = [
            (3, Some(30)),
            (4, Some(40)),
            (10, Some(100)),
            (10, Some(105)),
        ];
        let t = Template::new(d.clone(), &anchors, 2);
        assert_eq!(json(&t, 2), serde_json::to_value(&d).unwrap());
    }

    #[test]
    fn own_lines_follow_the_base_and_local_related_lines_follow_shifts() {
        let anchors = [
            (3, Some(30)),
            (4, Some(40)),
            (10, Some(100)),
            (10, Some(105)),
        ];
        let mut t = Template::new(sample(), &anchors, 3);
        // An edit at byte 50 adds two lines: the related location moves.
        t.shift(50, 7, 2);
        // The product itself moved down five lines.
        let mut expected = sample();
        expected.range = range(8, 1, 9, 2);
        expected.related_information.as_mut().unwrap()[0]
            .location
            .range = range(12, 0, 12, 5);
        assert_eq!(json(&t, 8), serde_json::to_value(&expected).unwrap());
    }

    #[test]
    fn related_lines_in_other_files_never_move() {
        let anchors = [(3, None), (4, None), (10, None), (10, None)];
        let mut t = Template::new(sample(), &anchors, 0);
        t.shift(0, 100, 100);
        assert_eq!(json(&t, 0), serde_json::to_value(sample()).unwrap());
    }

    #[test]
    fn a_publication_is_a_framed_notification() {
        let t = Template::new(sample(), &[(3, None), (4, None), (10, None), (10, None)], 0);
        let uri = Url::parse("file:///x%20y.catalogue.toml").unwrap();
        let framed = publish(&uri, Some(7), [(&t, 0), (&t, 0)]).to_vec();
        let text = String::from_utf8(framed).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert_eq!(head, format!("Content-Length: {}", body.len()));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["method"], "textDocument/publishDiagnostics");
        assert_eq!(v["params"]["uri"], uri.as_str());
        assert_eq!(v["params"]["version"], 7);
        assert_eq!(v["params"]["diagnostics"].as_array().unwrap().len(), 2);
        assert_eq!(
            v["params"]["diagnostics"][0],
            serde_json::to_value(sample()).unwrap()
        );
    }
}
