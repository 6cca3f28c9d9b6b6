//! What `check` keeps per product at scale (README, Performance: `check` on
//! a million products): counts of bytes and slots, not time.

use catalogue_lsp::engine::{Analysis, Options};
use catalogue_lsp::rules::RulePack;

/// Each product's diagnostics are kept without spare slots: a vector's first
/// push reserves four (672 bytes), which at a million products was ~600 MB
/// held until the file's diagnostics were gathered.
#[test]
fn product_diagnostics_keep_no_spare_slots() {
    let mut text = String::new();
    for i in 0..300 {
        // Unknown forms and missing licences: one or more diagnostics each.
        text.push_str(&format!(
            "[[product]]\nsku = \"P{i}\"\nform = \"{}\"\ncomposition = {{ Dy2O3 = 99.9 }}\ndestination = \"DE\"\nend_user = \"Someone\"\n\n",
            if i % 2 == 0 { "oxide" } else { "gizmo" }
        ));
    }
    let cat = catalogue_lsp::catalogue::parse(&text);
    let ws = Analysis::new().file(&cat, RulePack::embedded()).build();
    let d = jiff::civil::date(2026, 6, 1);
    let opts = Options::on(d);
    let outcomes = ws.analyse_products(0, &opts);
    let kept: usize = outcomes.iter().map(|o| o.diagnostics.len()).sum();
    let slots: usize = outcomes.iter().map(|o| o.diagnostics.capacity()).sum();
    assert!(kept >= 300, "every product has a diagnostic: {kept}");
    assert_eq!(slots, kept, "spare diagnostic slots");
    // The file's diagnostics are gathered into one vector reserved once.
    let file = ws.analyse_file(0, &opts);
    assert!(file.diagnostics.len() >= kept);
    assert!(
        file.diagnostics.capacity() <= file.diagnostics.len() + file.diagnostics.len() / 4,
        "{} slots for {} diagnostics",
        file.diagnostics.capacity(),
        file.diagnostics.len()
    );
}

/// Products with the same facts share one classification: a run holds as
/// many as there are distinct verdicts, not one per product.
#[test]
fn equal_classifications_are_held_once() {
    let kinds = [
        "form = \"oxide\"\ncomposition = { Dy2O3 = 99.9 }",
        "form = \"oxide\"\ncomposition = { La2O3 = 99.9 }",
        "form = \"magnet\"\ncomposition = { Sm2Co17 = 100 }",
    ];
    let mut text = String::new();
    for i in 0..3000 {
        text.push_str(&format!(
            "[[product]]\nsku = \"P{i}\"\n{}\n\n",
            kinds[i % kinds.len()]
        ));
    }
    let cat = catalogue_lsp::catalogue::parse(&text);
    let ws = Analysis::new().file(&cat, RulePack::embedded()).build();
    let d = jiff::civil::date(2026, 6, 1);
    let opts = Options::on(d);
    let file = ws.analyse_file(0, &opts);
    assert_eq!(file.products.len(), 3000);
    let distinct: std::collections::HashSet<_> = file
        .products
        .iter()
        .map(|p| std::sync::Arc::as_ptr(&p.classification))
        .collect();
    // Products are analysed in chunks of 2 048: each chunk keeps its own.
    assert!(
        distinct.len() <= 2 * kinds.len(),
        "{} classifications held for 3 000 products of {} kinds",
        distinct.len(),
        kinds.len()
    );
}

/// A file of several chunks (2 048 products each), analysed with its
/// diagnostics appended chunk by chunk and sorted through a permutation,
/// gives what a stable sort of all of them gives: the workspace's own
/// (duplicates here) before the products', by start then code.
#[test]
fn chunked_analysis_orders_diagnostics_as_one_stable_sort() {
    let mut text = String::new();
    for i in 0..5000 {
        // Every 7th SKU repeats an earlier one: workspace diagnostics among the products'.
        let sku = if i % 7 == 6 { i - 3 } else { i };
        text.push_str(&format!(
            "[[product]]\nsku = \"P{sku}\"\nform = \"{}\"\ncomposition = {{ Dy2O3 = 99.9 }}\ndestination = \"DE\"\n\n",
            if i % 3 == 0 { "oxide" } else { "gizmo" }
        ));
    }
    let cat = catalogue_lsp::catalogue::parse(&text);
    let ws = Analysis::new().file(&cat, RulePack::embedded()).build();
    let d = jiff::civil::date(2026, 6, 1);
    let opts = Options::on(d);
    let outcomes = ws.analyse_products(0, &opts);
    let latest = outcomes.iter().map(|o| o.result.as_of).max();
    let mut expected = ws.file_diagnostics(0, latest);
    let workspace_own = expected.len();
    expected.extend(ws.export_diagnostics(0, &opts));
    expected.extend(outcomes.iter().flat_map(|o| o.diagnostics.iter().cloned()));
    expected.sort_by_key(|d| (d.span.start(), d.code));
    let file = ws.analyse_file(0, &opts);
    assert!(workspace_own > 500, "duplicates: {workspace_own}");
    assert_eq!(file.products.len(), 5000);
    assert!(file.products.iter().enumerate().all(|(i, p)| p.index == i));
    let key = |d: &catalogue_lsp::diagnostic::Diagnostic| {
        (d.span, d.code, d.message.clone(), d.related.len())
    };
    assert_eq!(
        file.diagnostics.iter().map(key).collect::<Vec<_>>(),
        expected.iter().map(key).collect::<Vec<_>>()
    );
}
