//! Hostile input: every case gets a clear diagnostic or error within bounded
//! time, never a panic, stack overflow or hang.

mod common;
use catalogue_lsp::catalogue;
use catalogue_lsp::diagnostic::Code;
use catalogue_lsp::engine::Verdict;
use common::*;
use proptest::prelude::*;
use std::time::Instant;

const D: &str = "2026-06-01";

/// Runs `f` and prints how long it took. Not asserted: a test must not
/// depend on the machine's speed (a hang still never ends, and growth is
/// tested by counting, not timing).
fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let r = f();
    eprintln!("{what}: {:?}", t.elapsed());
    r
}

#[test]
fn a_five_megabyte_line() {
    let text = format!(
        "[[product]]\nsku = \"A\"\nname = \"{}\"\nform = \"motor\"\n",
        "n".repeat(5 << 20)
    );
    let c = timed("5 MB line", || check(&text, D));
    assert_eq!(c.verdict("A"), Verdict::Excluded);
}

#[test]
fn two_hundred_thousand_empty_table_headers() {
    let text = "[[product]]\n".repeat(200_000);
    let c = timed("200k headers", || check(&text, D));
    assert_eq!(c.results[0].products.len(), 200_000);
    assert!(c.has(Code::MissingField));
}

#[test]
fn twenty_thousand_composition_keys() {
    let keys: Vec<String> = (0..20_000)
        .map(|i| format!("\"Fe{}\" = 0.001", i + 1))
        .collect();
    let text = format!(
        "[[product]]\nsku = \"A\"\nform = \"alloy\"\ncomposition = {{ {} }}\n",
        keys.join(", ")
    );
    let c = timed("20k composition keys", || check(&text, D));
    assert_eq!(c.verdict("A"), Verdict::NotControlled);
}

#[test]
fn random_bytes_nul_bytes_and_odd_numbers() {
    for text in [
        "\0\0[[product]]\0sku = \"A\"\0",
        "[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = { Dy = 1e999999 }\n",
        "[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = { Dy = -inf, La = nan }\n",
        "[[product]]\nsku = \"A\"\nship_date = 9999-12-31\nform = \"motor\"\n",
        "[[product]]\nsku = \"A\"\nship_date = 2026-02-30\n",
        "[[licence]]\nid = \"L\"\ntype = \"individual\"\nissued = 0001-01-01\nexpires = 9999-12-31\nend_users = [\"x\"]\n",
        "\r\r\r[[product]]\rsku = \"A\"\rform = \"motor\"\r",
        "[[product]]\nsku.a.b.c = 1\nform.x = \"motor\"\n",
        "[[product]]\nsku = 1\nform = [\"motor\"]\ncomposition = [1, 2]\ncomponents = { a = 1 }\nmoulded = \"yes\"\n",
    ] {
        let _ = timed("odd text", || check(text, D));
    }
}

#[test]
fn deep_nesting_in_every_position() {
    for text in [
        format!("a = {}\n", "[".repeat(50_000)),
        format!(
            "[[product]]\nsku = \"A\"\ncomposition = {}\n",
            "{a=".repeat(50_000)
        ),
        format!(
            "[[product]]\nsku = \"A\"\nname = \"{}\"\n",
            "[".repeat(50_000)
        ),
        format!("[{}]\n", "a.".repeat(50_000)),
    ] {
        let _ = timed("deep nesting", || check(&text, D));
    }
}

#[test]
fn long_component_chains_and_cycles_are_bounded() {
    let mut text = String::new();
    for i in 0..5_000 {
        text.push_str(&format!(
            "[[product]]\nsku = \"P{i}\"\nform = \"component\"\ncomponents = [\"P{}\"]\n",
            (i + 1) % 5_000
        ));
    }
    let c = timed("5000-long cycle", || check(&text, D));
    assert!(c.has(Code::ComponentCycle));
    assert_eq!(c.verdict("P0"), Verdict::Indeterminate);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Arbitrary bytes (as text) never panic the parser or the engine.
    #[test]
    fn arbitrary_text_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let _ = check(&text, D);
    }

    /// TOML-shaped noise never panics either, and re-parsing after an edit equals a fresh parse.
    #[test]
    fn toml_noise_parses_and_reparses_consistently(
        parts in proptest::collection::vec(prop_oneof![
            Just("[[product]]\n"), Just("[[licence]]\n"), Just("[catalogue]\n"), Just("sku = \"A\"\n"),
            Just("form = \"magnet\"\n"), Just("composition = { Dy = 3, Nd = 30 }\n"), Just("components = [\"A\"]\n"),
            Just("\""), Just("["), Just("]"), Just("{"), Just("}"), Just("="), Just("\n"), Just("\r\n"),
            Just("\"\"\""), Just("'''"), Just("#"), Just("𝄞"), Just("licence = \"L\"\n"), Just("id = \"L\"\n"),
        ], 0..60),
        cut in 0usize..400,
        insert in prop_oneof![Just(""), Just("x"), Just("\n"), Just("[[product]]\n"), Just("\"")],
    ) {
        let text: String = parts.concat();
        let _ = check(&text, D);
        let at = catalogue_lsp::text::floor_char_boundary(&text, cut.min(text.len()));
        let mut edited = text.clone();
        edited.insert_str(at, insert);
        let (re, _) = catalogue::parse::reparse(catalogue::parse(&text), &text, &edited);
        prop_assert_eq!(re, catalogue::parse(&edited));
    }

    /// Formulas: any short string is parsed or refused, never a panic.
    #[test]
    fn formulas_never_panic(s in "[A-Za-z0-9()\\[\\]·*.]{0,40}") {
        let _ = catalogue_lsp::chem::parse_formula(&s);
    }
}
