//! Random edit sequences in UTF-8/16/32 positions on an open document: never
//! a panic, and the result equals opening the final text afresh.
#![no_main]
use arbitrary::Arbitrary;
use catalogue_lsp::catalogue;
use catalogue_lsp::server::document::Document;
use catalogue_lsp::text::Encoding;
use libfuzzer_sys::fuzz_target;
use tower_lsp::lsp_types::{Position, Range, TextDocumentContentChangeEvent};

#[derive(Arbitrary, Debug)]
struct Edit {
    /// Send the edited text whole (no range), as some clients do.
    whole: bool,
    l1: u8,
    c1: u8,
    l2: u8,
    c2: u8,
    text: String,
}

#[derive(Arbitrary, Debug)]
struct Input {
    start: String,
    encoding: u8,
    edits: Vec<Edit>,
}

fuzz_target!(|input: Input| {
    let enc = match input.encoding % 3 {
        0 => Encoding::Utf8,
        1 => Encoding::Utf16,
        _ => Encoding::Utf32,
    };
    let mut doc = Document::new(input.start, 1);
    for (i, e) in input.edits.into_iter().take(64).enumerate() {
        let range = Range { start: Position::new(e.l1.into(), e.c1.into()), end: Position::new(e.l2.into(), e.c2.into()) };
        let change = if e.whole {
            let mut text = doc.text.clone();
            let at = catalogue_lsp::text::floor_char_boundary(&text, usize::from(e.c1) * 7);
            text.insert_str(at, &e.text);
            TextDocumentContentChangeEvent { range: None, range_length: None, text }
        } else {
            TextDocumentContentChangeEvent { range: Some(range), range_length: None, text: e.text }
        };
        let _ = doc.apply(vec![change], i as i32 + 2, enc);
    }
    assert_eq!(doc.catalogue, catalogue::parse(&doc.text));
    assert_eq!(doc.lines, catalogue_lsp::text::LineIndex::new(&doc.text));
});
