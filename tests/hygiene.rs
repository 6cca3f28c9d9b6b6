//! Identifier hygiene and the workspace checks rewritten for linear cost
//! (issue 12, items 5 and 8): invisible and look-alike characters, names
//! that look the same (TR39 skeletons), a composition of zeros, duplicates
//! pointing at the first, and the cycle check against a brute-force one.

use catalogue_lsp::catalogue::parse;
use catalogue_lsp::diagnostic::{Code, Diagnostic, FileIndex, FileRef};
use catalogue_lsp::engine::{Analysis, Options};
use catalogue_lsp::rules::RulePack;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

fn diagnostics(texts: &[&str]) -> Vec<Vec<Diagnostic>> {
    let cats: Vec<_> = texts.iter().map(|t| parse(t)).collect();
    let pack = RulePack::embedded();
    let ws = Analysis::new().files(&cats, &pack).build();
    let opts = Options {
        as_of: None,
        today: jiff::civil::date(2026, 6, 1),
        explain: false,
        keep_judgements: false,
    };
    ws.analyse_all(&opts)
        .into_iter()
        .map(|r| r.diagnostics)
        .collect()
}

fn of(ds: &[Diagnostic], code: Code) -> Vec<&Diagnostic> {
    ds.iter().filter(|d| d.code == code).collect()
}

fn product(sku: &str, extra: &str) -> String {
    format!("[[product]]\nsku = \"{sku}\"\nform = \"motor\"\n{extra}\n")
}

#[test]
fn invisible_and_look_alike_characters_are_named() {
    for (sku, named) in [
        ("MAG\u{202E}-1", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("MAG\u{200B}-1", "U+200B ZERO WIDTH SPACE"),
        (
            "NDFEB-\u{0421}1",
            "Cyrillic \u{0421} U+0421 looks like Latin C",
        ),
    ] {
        let ds = &diagnostics(&[&product(sku, "")])[0];
        let w = of(ds, Code::ConfusableIdentifier);
        assert_eq!(w.len(), 1, "{sku}: {ds:#?}");
        assert!(w[0].message.contains(named), "{}", w[0].message);
        assert_eq!(w[0].severity, catalogue_lsp::diagnostic::Severity::Warning);
    }
    // In references too: components and licence.
    let t = product(
        "KIT",
        "components = [\"MAG\u{200B}\"]\nlicence = \"GL\u{00A0}1\"",
    );
    let ds = &diagnostics(&[&t])[0];
    let w = of(ds, Code::ConfusableIdentifier);
    assert_eq!(w.len(), 2, "{ds:#?}");
    assert!(
        w.iter()
            .any(|d| d.message.starts_with("component `MAG<U+200B>`"))
    );
    assert!(
        w.iter()
            .any(|d| d.message.contains("U+00A0 NO-BREAK SPACE"))
    );
    // And in licence ids.
    let t = "[[licence]]\nid = \"GL\u{2060}1\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2026-12-31\n";
    let ds = &diagnostics(&[t])[0];
    assert!(
        of(ds, Code::ConfusableIdentifier)[0]
            .message
            .contains("U+2060 WORD JOINER")
    );
    // Plain and wholly foreign names pass.
    for sku in ["NDFEB-DY-10", "МАГНИТ-1", "钕铁硼-01"] {
        let ds = &diagnostics(&[&product(sku, "")])[0];
        assert!(
            of(ds, Code::ConfusableIdentifier).is_empty(),
            "{sku}: {ds:#?}"
        );
    }
}

#[test]
fn names_that_look_the_same_are_flagged_across_files() {
    let latin = product("CAM-1", "");
    let cyrillic = product("\u{0421}AM-1", "");
    let hidden = product("CAM-1\u{200B}", "");
    let ds = diagnostics(&[&latin, &cyrillic, &hidden]);
    // The plain one is not flagged; each look-alike points at a name it looks like.
    assert!(
        of(&ds[0], Code::ConfusableIdentifier).is_empty(),
        "{:#?}",
        ds[0]
    );
    for d in [&ds[1], &ds[2]] {
        let same: Vec<_> = of(d, Code::ConfusableIdentifier)
            .into_iter()
            .filter(|d| d.message.contains("looks the same as"))
            .collect();
        assert_eq!(same.len(), 1, "{d:#?}");
        assert_eq!(same[0].related.len(), 1);
    }
    let same = of(&ds[1], Code::ConfusableIdentifier);
    assert!(
        same.iter()
            .any(|d| d.message.contains("looks the same as sku `CAM-1`")
                && d.related[0].file == FileRef::Index(FileIndex(0)))
    );
    // No duplicate-sku: the texts differ.
    assert!(ds.iter().all(|d| of(d, Code::DuplicateSku).is_empty()));
}

#[test]
fn a_composition_of_zeros_is_invalid() {
    for comp in ["{ Dy2O3 = 0 }", "{ Dy2O3 = 0.0, Fe = 0 }", "{}"] {
        let t = format!("[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = {comp}\n");
        let ds = &diagnostics(&[&t])[0];
        let bad = of(ds, Code::InvalidValue);
        assert_eq!(bad.len(), 1, "{comp}: {ds:#?}");
        assert!(bad[0].message.contains("sums to 0 %"));
    }
    let t = "[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = { Y2O3 = 0.1 }\n";
    assert!(of(&diagnostics(&[t])[0], Code::InvalidValue).is_empty());
}

#[test]
fn duplicates_point_at_the_first_and_cap_related_locations() {
    let text: String = (0..25)
        .map(|i| product("X", &format!("name = \"{i}\"")))
        .collect();
    let other = product("X", "");
    let ds = diagnostics(&[&text, &other]);
    let first = of(&ds[0], Code::DuplicateSku);
    assert_eq!(first.len(), 25);
    assert_eq!(first[0].related.len(), 10);
    assert!(
        first[0].message.contains("26 times") && first[0].message.contains("15 more not linked"),
        "{}",
        first[0].message
    );
    for d in &first[1..] {
        assert_eq!(d.related.len(), 1);
        assert_eq!(d.related[0].span, first[0].span);
    }
    let second = of(&ds[1], Code::DuplicateSku);
    assert_eq!(second.len(), 1);
    assert_eq!(
        (second[0].related[0].file, second[0].related[0].span),
        (FileRef::Index(FileIndex(0)), first[0].span)
    );
}

/// The component references a brute-force search finds in a cycle: a
/// reference from a product named `a` to `b` is in one when `b` names `a`
/// or leads back to it through the components of any product with the name.
fn brute_force_cycles(products: &[(String, Vec<String>)]) -> BTreeSet<(usize, usize)> {
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (sku, comps) in products {
        let e = edges.entry(sku).or_default();
        e.extend(comps.iter().map(String::as_str));
    }
    let reaches = |from: &str, to: &str| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from];
        while let Some(x) = todo.pop() {
            if x == to {
                return true;
            }
            if seen.insert(x) {
                todo.extend(edges.get(x).into_iter().flatten().copied());
            }
        }
        false
    };
    let mut out = BTreeSet::new();
    for (i, (sku, comps)) in products.iter().enumerate() {
        for (k, c) in comps.iter().enumerate() {
            if edges.contains_key(c.as_str()) && reaches(c, sku) {
                out.insert((i, k));
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// The lazily computed strongly connected components find exactly the
    /// references a search from every reference finds, whatever the order
    /// the products are analysed in (duplicates and unknown names included).
    #[test]
    fn cycle_check_equals_a_brute_force_search(
        graph in prop::collection::vec(
            (0..8u8, prop::collection::vec(0..10u8, 0..4)),
            1..12,
        )
    ) {
        let products: Vec<(String, Vec<String>)> = graph
            .iter()
            .map(|(s, cs)| (format!("N{s}"), cs.iter().map(|c| format!("N{c}")).collect()))
            .collect();
        let text: String = products
            .iter()
            .map(|(s, cs)| {
                let list: Vec<String> = cs.iter().map(|c| format!("\"{c}\"")).collect();
                format!("[[product]]\nsku = \"{s}\"\nform = \"component\"\ncomponents = [{}]\n\n", list.join(", "))
            })
            .collect();
        let ds = &diagnostics(&[&text])[0];
        let cat = parse(&text);
        let found: BTreeSet<(usize, usize)> = of(ds, Code::ComponentCycle)
            .iter()
            .filter_map(|d| {
                cat.products.iter().enumerate().find_map(|(i, p)| {
                    let k = p.components.as_ref()?.value.iter().position(|c| c.span == d.span)?;
                    Some((i, k))
                })
            })
            .collect();
        prop_assert_eq!(found.len(), of(ds, Code::ComponentCycle).len());
        prop_assert_eq!(found, brute_force_cycles(&products));
    }
}
