//! What the fuzz targets (`fuzz/fuzz_targets/`) found, kept as tests that run
//! in CI, and the seed corpora (`fuzz/seeds/`) put through each target's own
//! checks. The grown corpora live outside git (see docs/robustness.md,
//! "Fuzzing"); only the seeds and these tests are tracked.
//!
//! Every bug the fuzzers found, and where its test lives:
//!
//! - `document_edits`, session 3: a character typed between the quotes of a
//!   `"""` was taken as an edit inside one table though it ended a multi-line
//!   string and so moved the table bounds; the document then differed from a
//!   fresh parse. The re-parse step alone is tested in `src/catalogue/parse.rs`
//!   (`splitting_a_triple_quote_is_not_an_in_place_edit`); the fuzzer's own
//!   input, minimised, is replayed through `Document` here
//!   (`typing_between_the_quotes_of_a_triple_quote_equals_a_fresh_open`), and
//!   the input itself is the seed `document_edits/regression-triple-quote-split`.
//! - `rule_pack`, first run: the line number of an error whose span starts
//!   just before a multi-byte character sliced inside it (a panic). Tested in
//!   `src/rules.rs` (`errors_next_to_multibyte_text_never_panic`); the
//!   fuzzer's input was not kept. The seed `rule_pack/regression-error-before-cjk.toml`
//!   is that test's input, checked here with the target's assertion and the line.
//! - `framing`, when the target was written: a damaged header block took the
//!   next frame's `Content-Length` line for the tail of a header value and
//!   waited for a body that never came. Tested in `src/server/framing.rs`
//!   (`a_frame_after_a_header_cut_short_is_found`, the fuzzer's bytes); the
//!   same bytes are the seed `framing/regression-header-glued-to-next-header`,
//!   put here through the target's checks in every chunk size.
//!
//! `catalogue` and `formula` have found nothing so far.

use catalogue_lsp::catalogue::{self, parse::reparse};
use catalogue_lsp::engine::{Analysis, Options};
use catalogue_lsp::rules::RulePack;
use catalogue_lsp::server::document::Document;
use catalogue_lsp::server::framing::{Event, Framer};
use catalogue_lsp::server::transport::{answer_damaged, classify};
use catalogue_lsp::text::{Encoding, LineIndex, floor_char_boundary};
use std::path::{Path, PathBuf};
use tower_lsp::lsp_types::TextDocumentContentChangeEvent;

/// The most files a seed corpus may hold: seeds are for starting a run and
/// for reading, the grown corpus lives outside git.
const MAX_SEEDS: usize = 40;
/// The largest seed, in bytes.
const MAX_SEED_BYTES: usize = 16 * 1024;

/// The seed files of a target, sorted; at least one (a test over no seeds
/// would pass without checking anything).
fn seeds(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no seeds in {}", dir.display());
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, bytes)
        })
        .collect()
}

/// The text a `&str` target sees: its input's longest valid UTF-8 prefix
/// (libfuzzer-sys decodes `&str` with `arbitrary`, which stops there).
fn as_str(bytes: &[u8]) -> &str {
    match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
    }
}

#[test]
fn seed_corpora_are_small() {
    for target in [
        "catalogue",
        "document_edits",
        "formula",
        "framing",
        "rule_pack",
    ] {
        let s = seeds(target);
        assert!(s.len() <= MAX_SEEDS, "{target}: {} seeds", s.len());
        for (p, bytes) in &s {
            assert!(
                bytes.len() <= MAX_SEED_BYTES,
                "{}: {} bytes",
                p.display(),
                bytes.len()
            );
        }
    }
}

/// The `document_edits` target's input, minimised: seven whole texts sent
/// one after the other (`text` inserted at byte `7 * c1` of the current
/// text, as the target builds them). The first puts a `"""` in a table; the
/// sixth types a character between two of its quotes. Before the fix the
/// document after the sixth differed from a fresh parse of its text.
#[test]
fn typing_between_the_quotes_of_a_triple_quote_equals_a_fresh_open() {
    let edits: [(usize, &str); 7] = [
        (0, "i\0\0\0'!\n\u{1}\"\"\"\n[b]"),
        (0, "i\0\u{1}\n\n\n\n[b]\r"),
        (0, " \r\u{7}e=\0 \r\0 \r\u{7}e="),
        (1, "\u{1}!\0t\0\u{1}\n\n\n\n[b]\r"),
        (1, "!"),
        (0, "\n\n\n\n[\0\0'!\n\u{1}\"\"t\"\"\0\"\u{1}\n\n\n\n[b]\r"),
        (11, "\u{1}"),
    ];
    let mut doc = Document::new(String::new(), 1);
    for (i, (c1, inserted)) in edits.into_iter().enumerate() {
        let mut text = doc.text.clone();
        text.insert_str(floor_char_boundary(&text, c1 * 7), inserted);
        let change = TextDocumentContentChangeEvent {
            range: None,
            range_length: None,
            text: text.clone(),
        };
        let version = i32::try_from(i).expect("seven edits") + 2;
        assert!(doc.apply(vec![change], version, Encoding::Utf16).is_some());
        assert_eq!(doc.text, text, "edit {i}");
        assert_eq!(
            doc.catalogue,
            catalogue::parse(&doc.text),
            "edit {i}: {text:?}"
        );
        assert_eq!(doc.lines, LineIndex::new(&doc.text), "edit {i}");
    }
    // The input does what its name says: a triple quote split by the last edits.
    assert!(
        doc.text.contains("\"\"\u{1}\"") || doc.text.contains("\"\"!\""),
        "{:?}",
        doc.text
    );
}

/// The `rule_pack` target's check, and for the bug's own input the line.
#[test]
fn rule_pack_seeds_load_or_are_refused_with_file_and_line() {
    for (p, bytes) in seeds("rule_pack") {
        let s = as_str(&bytes);
        if let Err(e) = RulePack::parse(s, "fuzz.toml") {
            assert!(
                e.to_string().starts_with("fuzz.toml"),
                "{}: {e}",
                p.display()
            );
        }
    }
    let e = RulePack::parse("[pack]\nid = 铽\n", "fuzz.toml").expect_err("not TOML");
    assert_eq!(e.line, Some(2), "{e}");
}

/// The `formula` target's check: parsed or refused; parsed shares sum to 1.
#[test]
fn formula_seeds_parse_to_shares_that_sum_to_one_or_are_refused() {
    let mut parsed = 0;
    for (p, bytes) in seeds("formula") {
        let s = as_str(&bytes);
        if let Ok(shares) = catalogue_lsp::chem::parse_formula(s) {
            let sum: f64 = shares.iter().map(|(_, x)| x).sum();
            assert!(
                (sum - 1.0).abs() < 1e-6,
                "{}: {s:?} sums to {sum}",
                p.display()
            );
            parsed += 1;
        }
    }
    assert!(
        parsed > 0,
        "no formula seed parses: the check above checked nothing"
    );
}

/// The `catalogue` target's check: decode, parse and classify; deleting the
/// middle third and re-parsing equals a fresh parse.
#[test]
fn catalogue_seeds_classify_and_reparse_like_a_fresh_parse() {
    let today = jiff::civil::date(2026, 6, 1);
    let mut products = 0;
    for (p, bytes) in seeds("catalogue") {
        let (text, _) = catalogue_lsp::source::decode(bytes);
        let cat = catalogue::parse(&text);
        products += cat.products.len();
        let ws = Analysis::new().file(&cat, RulePack::embedded()).build();
        let _ = ws.analyse_all(&Options {
            as_of: None,
            today,
            explain: true,
            keep_judgements: false,
        });
        let (a, b) = (text.len() / 3, 2 * text.len() / 3);
        let (a, b) = (floor_char_boundary(&text, a), floor_char_boundary(&text, b));
        let mut edited = text.clone();
        edited.replace_range(a..b, "");
        let (re, _) = reparse(cat.clone(), &text, &edited);
        assert_eq!(re, catalogue::parse(&edited), "{}", p.display());
    }
    assert!(products > 0, "no catalogue seed has a product");
}

/// A well-formed frame sent after the bytes.
const GOOD: &[u8] =
    br#"{"jsonrpc":"2.0","id":1,"method":"workspace/symbol","params":{"query":"A"}}"#;

/// The `framing` target's checks for `bytes` arriving in pieces of `chunk`:
/// every event consumes input, every message is JSON, decoding never panics,
/// the good frame after the bytes comes out, and the reader then ends.
fn framing_checks(bytes: &[u8], chunk: usize, name: &str) {
    fn run(f: &mut Framer, at: &mut u64, events: &mut Vec<Event>, name: &str) {
        while let Some(e) = f.next_event() {
            assert!(f.position() > *at, "{name}: no progress at {at}: {e:?}");
            *at = f.position();
            match &e {
                Event::Message(body) => {
                    assert!(
                        serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok(),
                        "{name}: a message that is not JSON"
                    );
                    let _ = classify(body);
                }
                Event::Malformed {
                    body: Some(body), ..
                } => {
                    let _ = answer_damaged(body);
                }
                _ => {}
            }
            events.push(e);
        }
    }
    let mut input = bytes.to_vec();
    input.extend_from_slice(format!("Content-Length: {}\r\n\r\n", GOOD.len()).as_bytes());
    input.extend_from_slice(GOOD);
    let mut f = Framer::new();
    let mut at = 0;
    let mut events = Vec::new();
    for part in input.chunks(chunk) {
        f.push(part);
        run(&mut f, &mut at, &mut events, name);
    }
    let last = events.iter().rev().find_map(|e| match e {
        Event::Message(b) => Some(b.as_slice()),
        _ => None,
    });
    assert_eq!(last, Some(GOOD), "{name}, chunk {chunk}: {events:?}");
    f.finish();
    run(&mut f, &mut at, &mut events, name);
    assert!(f.is_done(), "{name}, chunk {chunk}");
}

/// The first byte of a `framing` seed picks the chunk size, as in the
/// target; here every other chunk size the target can pick is tried too.
#[test]
fn framing_seeds_recover_in_every_chunk_size() {
    for (p, bytes) in seeds("framing") {
        let Some((&c, rest)) = bytes.split_first() else {
            continue;
        };
        let name = p.display().to_string();
        framing_checks(rest, usize::from(c % 64) + 1, &name);
        for chunk in 1..=64 {
            framing_checks(rest, chunk, &name);
        }
    }
}
