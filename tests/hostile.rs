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

/// Every diagnostic says something, at a range inside the text on
/// character boundaries; every product has a result.
fn well_formed(c: &Checked) {
    for (r, (text, cat)) in c.results.iter().zip(c.texts.iter().zip(&c.cats)) {
        assert_eq!(r.products.len(), cat.products.len());
        for d in &r.diagnostics {
            let (a, b) = (d.span.start(), d.span.end());
            assert!(
                a <= b && b <= text.len(),
                "{d:?} outside {} bytes",
                text.len()
            );
            assert!(
                text.is_char_boundary(a) && text.is_char_boundary(b),
                "{d:?} splits a character"
            );
            assert!(!d.message.trim().is_empty(), "{d:?} says nothing");
        }
    }
}

/// The diagnostics of one code.
fn all_of(c: &Checked, code: Code) -> Vec<&catalogue_lsp::diagnostic::Diagnostic> {
    c.diags().into_iter().filter(|d| d.code == code).collect()
}

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
    // Read whole, and nothing is wrong with it.
    let name = c.cats[0].products[0].name.as_ref().map(|n| n.value.len());
    assert_eq!(name, Some(5 << 20));
    assert!(
        c.diags()
            .iter()
            .all(|d| d.severity != catalogue_lsp::diagnostic::Severity::Error),
        "{:#?}",
        c.diags()
    );
}

#[test]
fn two_hundred_thousand_empty_table_headers() {
    let text = "[[product]]\n".repeat(200_000);
    let c = timed("200k headers", || check(&text, D));
    assert_eq!(c.results[0].products.len(), 200_000);
    // Each product: `missing-field` for its `sku` at its own header.
    let missing = all_of(&c, Code::MissingField);
    assert_eq!(missing.len(), 200_000);
    for (i, d) in missing.iter().enumerate() {
        assert_eq!(d.span.start(), i * "[[product]]\n".len(), "{d:?}");
        assert_eq!(c.text_of(d), "[[product]]");
        assert!(d.message.contains("`sku`"), "{}", d.message);
    }
    assert!(
        c.results[0]
            .products
            .iter()
            .all(|p| p.verdict() == Verdict::Indeterminate)
    );
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
    // Every key read (each a valid formula), none refused.
    let entries = c.cats[0].products[0]
        .composition
        .as_ref()
        .map(|k| k.entries.len());
    assert_eq!(entries, Some(20_000));
    assert!(
        all_of(&c, Code::InvalidValue).is_empty(),
        "{:#?}",
        c.diags()
    );
}

/// Each odd input gets the diagnostic that says what is wrong, at the text
/// that is wrong (code, then the text its span covers, or a part of it), and
/// the product is never cleared by it.
#[test]
fn random_bytes_nul_bytes_and_odd_numbers() {
    let cases: &[(&str, Code, &str)] = &[
        ("\0\0[[product]]\0sku = \"A\"\0", Code::SyntaxError, "\0"),
        (
            "[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = { Dy = 1e999999 }\n",
            Code::InvalidValue,
            "1e999999",
        ),
        (
            "[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = { Dy = -inf, La = nan }\n",
            Code::InvalidValue,
            "-inf",
        ),
        (
            "[[product]]\nsku = \"A\"\nship_date = 2026-02-30\n",
            Code::SyntaxError,
            "2026-02-30",
        ),
        (
            "[[licence]]\nid = \"L\"\ntype = \"individual\"\nissued = 0001-01-01\nexpires = 9999-12-31\nend_users = [\"x\"]\n",
            Code::LicenceValidityTooLong,
            "9999-12-31",
        ),
        (
            "[[product]]\nsku.a.b.c = 1\nform.x = \"motor\"\n",
            Code::InvalidValue,
            "sku",
        ),
        (
            "[[product]]\nsku = 1\nform = [\"motor\"]\ncomposition = [1, 2]\ncomponents = { a = 1 }\nmoulded = \"yes\"\n",
            Code::InvalidValue,
            "[\"motor\"]",
        ),
    ];
    for (text, code, at) in cases {
        let c = timed("odd text", || check(text, D));
        let ds: Vec<_> = c.diags().into_iter().filter(|d| d.code == *code).collect();
        assert!(!ds.is_empty(), "{text:?}: no {code:?} in {:#?}", c.diags());
        assert!(
            ds.iter().any(|d| c.text_of(d).contains(at)),
            "{text:?}: no {code:?} at {at:?}: {:?}",
            ds.iter().map(|d| c.text_of(d)).collect::<Vec<_>>()
        );
        for r in c.results.iter().flat_map(|r| &r.products) {
            assert_ne!(
                r.verdict(),
                Verdict::NotControlled,
                "{text:?} cleared a product"
            );
        }
    }
    // A far date is judged as usual.
    let c = check(
        "[[product]]\nsku = \"A\"\nship_date = 9999-12-31\nform = \"motor\"\n",
        D,
    );
    assert_eq!(c.product("A").as_of.to_string(), "9999-12-31");
    // CR alone ends lines for positions, but TOML newlines are LF or CRLF:
    // a syntax error, and the product is not cleared.
    let c = check("\r\r\r[[product]]\rsku = \"A\"\rform = \"motor\"\r", D);
    assert!(c.has(Code::SyntaxError));
    assert_eq!(c.results[0].products[0].verdict(), Verdict::Indeterminate);
}

/// Nesting deeper than the format ever needs is refused with a clear
/// syntax error on the table it is in, before the TOML parser sees it.
#[test]
fn deep_nesting_in_every_position() {
    const NESTED: &str = "values nested deeper than 128 levels";
    let header = format!("[{}]", "a.".repeat(50_000));
    for (text, product, at, says) in [
        // At the start of the root table (its span is empty: no header).
        (format!("a = {}\n", "[".repeat(50_000)), false, "", NESTED),
        // On the header of the product it is in.
        (
            format!(
                "[[product]]\nsku = \"A\"\ncomposition = {}\n",
                "{a=".repeat(50_000)
            ),
            true,
            "[[product]]",
            NESTED,
        ),
        // A 50 000-part table name: refused by the TOML reader, on its header.
        (
            format!("{header}\n"),
            false,
            header.as_str(),
            "TOML syntax error",
        ),
    ] {
        let c = timed("deep nesting", || check(&text, D));
        well_formed(&c);
        let errors = all_of(&c, Code::SyntaxError);
        assert!(
            errors
                .iter()
                .any(|d| d.span.start() == 0 && c.text_of(d) == at && d.message.contains(says)),
            "no syntax error at {:?} saying {says:?}: {:#?}",
            &at[..at.len().min(20)],
            errors
        );
        if product {
            // The product is still there (its table refused), and not cleared.
            assert_eq!(c.results[0].products.len(), 1);
            assert_eq!(c.results[0].products[0].verdict(), Verdict::Indeterminate);
        }
    }
    // Brackets inside a string are text, not nesting: read as it is.
    let name = "[".repeat(50_000);
    let c = check(
        &format!("[[product]]\nsku = \"A\"\nname = \"{name}\"\nform = \"motor\"\n"),
        D,
    );
    assert!(!c.has(Code::SyntaxError));
    assert_eq!(c.verdict("A"), Verdict::Excluded);
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
    well_formed(&c);
    // The cycle is reported at each reference that closes it, once per product.
    let cycles = all_of(&c, Code::ComponentCycle);
    assert_eq!(cycles.len(), 5_000);
    for d in &cycles {
        let at = c.text_of(d);
        assert!(at.starts_with("\"P") && at.ends_with('"'), "{at:?}");
        assert!(
            d.message.contains("a product cannot contain itself"),
            "{}",
            d.message
        );
    }
    assert!(
        c.results[0]
            .products
            .iter()
            .all(|p| p.verdict() == Verdict::Indeterminate)
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Arbitrary bytes (as text) never panic the parser or the engine.
    #[test]
    fn arbitrary_text_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        well_formed(&check(&text, D));
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
        let c = check(&text, D);
        well_formed(&c);
        // No product is cleared by noise without a form and a composition.
        for (p, r) in c.cats[0].products.iter().zip(&c.results[0].products) {
            if p.form.is_none() || p.broken {
                prop_assert_eq!(r.verdict(), Verdict::Indeterminate);
            }
        }
        let at = catalogue_lsp::text::floor_char_boundary(&text, cut.min(text.len()));
        let mut edited = text.clone();
        edited.insert_str(at, insert);
        let (re, _) = catalogue::parse::reparse(catalogue::parse(&text), &text, &edited);
        prop_assert_eq!(re, catalogue::parse(&edited));
    }

    /// Formulas: any short string is parsed or refused, never a panic.
    #[test]
    fn formulas_never_panic(s in "[A-Za-z0-9()\\[\\]·*.]{0,40}") {
        match catalogue_lsp::chem::parse_formula(&s) {
            // Mass shares of distinct elements, each positive, summing to one.
            Ok(shares) => {
                prop_assert!(!shares.is_empty());
                prop_assert!(shares.iter().all(|(_, x)| *x > 0.0 && *x <= 1.0), "{:?}", shares);
                let total: f64 = shares.iter().map(|(_, x)| x).sum();
                prop_assert!((total - 1.0).abs() < 1e-9, "{} sums to {}", s, total);
                let mut els: Vec<_> = shares.iter().map(|(e, _)| *e).collect();
                els.sort();
                els.dedup();
                prop_assert_eq!(els.len(), shares.len());
            }
            Err(e) => prop_assert!(!e.message.trim().is_empty()),
        }
    }
}
