//! Live heap bytes per stage, and the peak of each stage (a counting
//! allocator), to see where the memory goes:
//! `cargo run --release --example memcount -- FILE`.
//! `memcount --check FILE [human|json|sarif]` follows `check` instead: the
//! stages of `report::check` (text, parse, line index, index, product
//! results, the diagnostics streamed), then the whole of it writing one
//! format to a sink, and what the run holds part by part.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn note(n: isize) {
    let live = LIVE.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        note(l.size() as isize);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        note(-(l.size() as isize));
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        note(n as isize - l.size() as isize);
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static A: Counting = Counting;

fn mb() -> f64 {
    LIVE.load(Ordering::Relaxed) as f64 / 1e6
}

/// Starts a stage: resets the peak, returns the live MB now.
fn start() -> f64 {
    PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
    mb()
}

/// Live MB added since `base`, and the stage's peak above `base`.
fn report(what: &str, base: f64) {
    let peak = PEAK.load(Ordering::Relaxed) as f64 / 1e6 - base;
    println!("{what}: {:.1} MB kept, peak {:.1} MB", mb() - base, peak);
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--check") {
        return check();
    }
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: memcount FILE");
        std::process::exit(2);
    };
    let text = std::fs::read_to_string(&path).expect("read the file");
    let t = start();
    let cat = catalogue_lsp::catalogue::parse(&text);
    report("parsed catalogue", t);
    println!("  {} products", cat.products.len());
    let t = start();
    let doc = catalogue_lsp::server::document::Document::new(text.clone(), 1);
    report("editor document (text, rope, line index, catalogue)", t);
    let t = start();
    let ws = catalogue_lsp::engine::Analysis::new()
        .file(&cat, catalogue_lsp::rules::RulePack::embedded())
        .build();
    report("workspace index", t);
    let t = start();
    let opts = catalogue_lsp::engine::Options {
        as_of: None,
        today: "2026-11-26".parse().expect("date"),
        explain: false,
        keep_judgements: false,
    };
    let out = ws.analyse_products(0, &opts);
    report("product outcomes", t);
    let diags: usize = out.iter().map(|o| o.diagnostics.len()).sum();
    println!("  {diags} diagnostics");
    drop(doc);
}

/// The `check` path, stage by stage.
fn check() {
    use catalogue_lsp::report;
    let Some(path) = std::env::args().nth(2) else {
        eprintln!("usage: memcount --check FILE [human|json|sarif]");
        std::process::exit(2);
    };
    let format = std::env::args().nth(3).unwrap_or_else(|| "json".into());
    let opts = catalogue_lsp::engine::Options::on("2026-06-01".parse().expect("date"));
    let t = start();
    let (text, _) = catalogue_lsp::source::read_text(std::path::Path::new(&path)).expect("read");
    report("text", t);
    let t = start();
    let lines = catalogue_lsp::text::LineIndex::new(&text);
    report("line index", t);
    let t = start();
    let cat = catalogue_lsp::catalogue::Format::of_path(std::path::Path::new(&path)).parse(&text);
    report("parsed catalogue", t);
    println!(
        "  {} products, {} shipments; {} bytes per product inline, {} per diagnostic",
        cat.products.len(),
        cat.shipments.len(),
        std::mem::size_of::<catalogue_lsp::catalogue::Product>(),
        std::mem::size_of::<catalogue_lsp::diagnostic::Diagnostic>(),
    );
    // The analysis of `report::check`, stage by stage, on this catalogue.
    let pack = catalogue_lsp::rules::RulePack::embedded();
    let t = start();
    let ws = catalogue_lsp::engine::Analysis::new()
        .file(&cat, pack)
        .build();
    report("  workspace index", t);
    let t = start();
    let products = ws.classify_file(0, &opts);
    report("  product results (classify_file)", t);
    let t = start();
    let own = ws.own_diagnostics(0, &opts, ws.latest_date(0, &opts));
    report("  the file's own diagnostics (and the ledger)", t);
    let t = start();
    ws.release_ledger();
    report("  ledger released", t);
    let t = start();
    let mut streamed = 0usize;
    let _ = ws.each_diagnostic(0, &products, own, |_| {
        streamed += 1;
        Ok::<(), ()>(())
    });
    report("  each_diagnostic", t);
    println!("  {streamed} diagnostics streamed");
    drop(products);
    drop(ws);
    drop((text, lines, cat));
    let t = start();
    let checked = report::check(
        &[std::path::PathBuf::from(&path)],
        None,
        None,
        &opts,
        format == "json",
        |run, diags| {
            report("check before writing (everything above, index, results)", t);
            let mut sink = std::io::sink();
            let w = start();
            let r = match format.as_str() {
                "human" => report::human::write_from(run, diags, false, &mut sink),
                "sarif" => report::sarif::write_from(run, diags, &mut sink),
                _ => report::json::write_from(run, diags, &mut sink),
            };
            report(&format!("  writing {format}"), w);
            r
        },
    )
    .expect("run");
    report("report::check (all of it)", t);
    let mut run = checked.run;
    println!(
        "  {} bytes per diagnostic inline, {} per product result, {} per classification",
        std::mem::size_of::<catalogue_lsp::diagnostic::Diagnostic>(),
        std::mem::size_of::<catalogue_lsp::engine::ProductResult>(),
        std::mem::size_of::<catalogue_lsp::engine::Classification>()
    );
    // What the run keeps, part by part: the bytes each drop frees.
    let classifications: std::collections::HashSet<*const catalogue_lsp::engine::Classification> =
        run.results
            .iter()
            .flat_map(|r| &r.products)
            .map(|p| std::sync::Arc::as_ptr(&p.classification))
            .collect();
    println!("  {} distinct classifications", classifications.len());
    drop(classifications);
    let freed = |what: &str, before: f64| println!("  {what}: {:.1} MB", before - mb());
    for r in &mut run.results {
        let b = mb();
        drop(std::mem::take(&mut r.products));
        freed("product results (with their classifications)", b);
        let b = mb();
        drop(r.ledger.take());
        freed("ledger", b);
    }
    for f in &mut run.files {
        let b = mb();
        drop(std::mem::take(&mut f.catalogue));
        freed("catalogue", b);
        let b = mb();
        drop(std::mem::take(&mut f.text));
        freed("text", b);
        let b = mb();
        drop(std::mem::replace(
            &mut f.lines,
            catalogue_lsp::text::LineIndex::new(""),
        ));
        freed("line index", b);
    }
    println!("  left: {:.1} MB", mb());
}
