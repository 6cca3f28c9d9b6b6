//! Complexity tests (issue 12, item 5): inputs that used to take quadratic
//! time or memory are grown (1 000, 2 000, 4 000 items) and what the engine
//! does is counted — related locations, report bytes, component references
//! followed, "did you mean" candidates compared — never timed. Each doubling
//! must grow the count by well under 4 (what a quadratic one does): the
//! bound used is 2.5 per doubling.

use catalogue_lsp::catalogue::parse;
use catalogue_lsp::engine::{Analysis, Options};
use catalogue_lsp::rules::RulePack;

#[path = "common/hostile_gen.rs"]
mod hostile_gen;

const SIZES: [usize; 3] = [1000, 2000, 4000];

/// What analysing one generated catalogue costs, by machine-independent counts.
#[derive(Debug, Clone, Copy)]
struct Cost {
    diagnostics: u64,
    related: u64,
    message_bytes: u64,
    graph_edges: u64,
    suggestions: u64,
}

fn cost(kind: &str, n: usize) -> Cost {
    let text = hostile_gen::hostile(kind, n).expect("known kind");
    let cat = parse(&text);
    let pack = RulePack::embedded();
    let ws = Analysis::new().file(&cat, pack).build();
    let today = jiff::civil::date(2026, 6, 1);
    let opts = Options {
        as_of: None,
        today,
        explain: false,
        keep_judgements: false,
    };
    let results = ws.analyse_all(&opts);
    let diags = results.iter().flat_map(|r| r.diagnostics.iter());
    let mut c = Cost {
        diagnostics: 0,
        related: 0,
        message_bytes: 0,
        graph_edges: 0,
        suggestions: 0,
    };
    for d in diags {
        c.diagnostics += 1;
        c.related += d.related.len() as u64;
        c.message_bytes +=
            (d.message.len() + d.related.iter().map(|r| r.message.len()).sum::<usize>()) as u64;
    }
    let w = ws.work();
    c.graph_edges = w.graph_edges;
    c.suggestions = w.suggestions;
    c
}

/// Asserts that `count` grows at most 2.5 times per doubling of n (a
/// quadratic count grows 4 times), and that it grows at all where `grows`.
fn assert_linear(kind: &str, what: &str, count: impl Fn(&Cost) -> u64, grows: bool) {
    let costs: Vec<Cost> = SIZES.iter().map(|&n| cost(kind, n)).collect();
    let counts: Vec<u64> = costs.iter().map(&count).collect();
    eprintln!("{kind}: {what} at {SIZES:?} = {counts:?}");
    for w in counts.windows(2) {
        assert!(
            w[1] as f64 <= 2.5 * (w[0].max(1)) as f64,
            "{kind}: {what} grows faster than linearly: {counts:?} at {SIZES:?}"
        );
        if grows {
            assert!(
                w[1] > w[0],
                "{kind}: {what} does not grow: {counts:?} — the test measures nothing"
            );
        }
    }
}

#[test]
fn shared_sku_grows_linearly() {
    assert_linear("shared-sku", "related locations", |c| c.related, true);
    assert_linear("shared-sku", "message bytes", |c| c.message_bytes, true);
    // One duplicate-sku per product, and the first relates to at most 10 others.
    let c = cost("shared-sku", 1000);
    assert_eq!(c.related, 999 + 10);
}

#[test]
fn shared_licence_id_grows_linearly() {
    assert_linear("shared-licence", "related locations", |c| c.related, true);
    assert_linear("shared-licence", "message bytes", |c| c.message_bytes, true);
    let c = cost("shared-licence", 1000);
    assert_eq!(c.related, 999 + 10);
}

#[test]
fn layered_bill_of_materials_grows_linearly() {
    // Each product lists the 40 of the next layer: 40 n references, each
    // followed once by the cycle check (it was once per reference and layer below).
    assert_linear(
        "layered-bom",
        "component references followed",
        |c| c.graph_edges,
        true,
    );
    let c = cost("layered-bom", 1000);
    assert!(c.graph_edges <= 40 * 1000, "{c:?}");
}

#[test]
fn unknown_components_grow_linearly() {
    assert_linear(
        "unknown-components",
        "did-you-mean work",
        |c| c.suggestions,
        true,
    );
    assert_linear("unknown-components", "diagnostics", |c| c.diagnostics, true);
    // Each unknown name costs a bounded amount, not a scan of every SKU.
    let c = cost("unknown-components", 4000);
    assert!(c.suggestions <= 4000 * 100, "{c:?}");
}

/// A workspace of `files` catalogues of `per` products: magnets, and rotors
/// built on the magnets of the next file; `copy` adds a copy of file 1
/// (every product of both a duplicate SKU). Returns the texts.
fn workspace(files: usize, per: usize, copy: bool) -> Vec<String> {
    let mut texts: Vec<String> = (0..files)
        .map(|f| {
            let mut s = String::new();
            for i in 0..per {
                if i % 2 == 0 {
                    s.push_str(&format!(
                        "[[product]]\nsku = \"F{f}-{i}\"\nform = \"magnet\"\n\n"
                    ));
                } else {
                    let other = (f + 1) % files;
                    s.push_str(&format!(
                        "[[product]]\nsku = \"F{f}-{i}\"\nform = \"rotor-assembly\"\ncomponents = [\"F{other}-{}\"]\n\n",
                        i - 1
                    ));
                }
            }
            s
        })
        .collect();
    if copy {
        texts.push(texts[1].clone());
    }
    texts
}

/// The names indexed (tables and "did you mean") when a SKU of file 1
/// that file 0 refers to is renamed, and the referring file's "did you
/// mean" is asked again, in a workspace whose index was built before.
fn rename_cost(files: usize, copy: bool) -> (u64, u64) {
    let mut texts = workspace(files, 200, copy);
    let cats: Vec<_> = texts.iter().map(|t| parse(t)).collect();
    let refs: Vec<_> = cats.iter().collect();
    let ix = catalogue_lsp::engine::index::Index::build(&refs);
    // The server asked for a suggestion before (an unknown name somewhere).
    let _ = ix.suggest_sku(&refs, "NOPE");
    let built = ix.work();
    texts[1] = texts[1].replacen("sku = \"F1-10\"", "sku = \"F1-10x\"", 1);
    let cats: Vec<_> = texts.iter().map(|t| parse(t)).collect();
    let refs: Vec<_> = cats.iter().collect();
    let ix = ix.updated(&refs, 1);
    let (suggested, _) = ix.suggest_sku(&refs, "F1-10xy");
    assert_eq!(suggested, Some("F1-10x"));
    (ix.work() - built, built)
}

/// Issue 16: renaming a SKU that other files refer to costs the renamed
/// file's names (and the places of the names it shares), not the
/// workspace's: grown 10 → 20 → 40 files of 200 products, the work of the
/// rename stays flat while a build grows with the workspace; the same with a
/// copied catalogue (every product a duplicate SKU).
#[test]
fn renaming_a_referenced_sku_costs_the_file_not_the_workspace() {
    for copy in [false, true] {
        let costs: Vec<(u64, u64)> = [10, 20, 40].iter().map(|&f| rename_cost(f, copy)).collect();
        eprintln!(
            "rename (copy: {copy}): (rename work, build work) at 10, 20, 40 files = {costs:?}"
        );
        for w in costs.windows(2) {
            assert!(
                w[1].0 as f64 <= 1.25 * w[0].0 as f64,
                "the rename's work grows with the workspace: {costs:?}"
            );
            assert!(
                w[1].1 as f64 >= 1.8 * w[0].1 as f64,
                "a build does not grow: the test measures nothing: {costs:?}"
            );
        }
    }
}
