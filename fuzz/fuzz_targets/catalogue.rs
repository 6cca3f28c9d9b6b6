//! Any bytes as a catalogue: parse and classify, never panic; re-parsing
//! after an edit equals a fresh parse.
#![no_main]
use catalogue_lsp::catalogue::{self, parse::reparse};
use catalogue_lsp::engine::{Analysis, Options};
use catalogue_lsp::rules::RulePack;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (text, _) = catalogue_lsp::source::decode(data.to_vec());
    let cat = catalogue::parse(&text);
    let ws = Analysis::new().file(&cat, RulePack::embedded()).build();
    let today = jiff::civil::date(2026, 6, 1);
    let _ = ws.analyse_all(&Options { as_of: None, today, explain: true });
    // Delete the middle third and check the incremental re-parse.
    let (a, b) = (text.len() / 3, 2 * text.len() / 3);
    let (a, b) = (catalogue_lsp::text::floor_char_boundary(&text, a), catalogue_lsp::text::floor_char_boundary(&text, b));
    let mut edited = text.clone();
    edited.replace_range(a..b, "");
    let (re, _) = reparse(cat.clone(), &text, &edited);
    assert_eq!(re, catalogue::parse(&edited));
});
