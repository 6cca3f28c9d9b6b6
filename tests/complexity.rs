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
