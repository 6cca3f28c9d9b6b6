//! Live heap bytes per stage, and the peak of each stage (a counting
//! allocator), to see where the memory goes:
//! `cargo run --release --example memcount -- FILE`.

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
    };
    let out = ws.analyse_products(0, &opts);
    report("product outcomes", t);
    let diags: usize = out.iter().map(|o| o.diagnostics.len()).sum();
    println!("  {diags} diagnostics");
    drop(doc);
}
