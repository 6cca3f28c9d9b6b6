//! Live heap bytes per stage (a counting allocator), to see where the
//! memory goes: `cargo run --release --example memcount -- FILE`.
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        LIVE.fetch_add(n as isize - l.size() as isize, Ordering::Relaxed);
        unsafe { System.realloc(p, l, n) }
    }
}
#[global_allocator]
static A: Counting = Counting;
fn mb() -> f64 {
    LIVE.load(Ordering::Relaxed) as f64 / 1e6
}
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let t = mb();
    let cat = catalogue_lsp::catalogue::parse(&text);
    println!(
        "catalogue {:.1} MB ({} products, {:.0} B each)",
        mb() - t,
        cat.products.len(),
        (mb() - t) * 1e6 / cat.products.len() as f64
    );
    let t = mb();
    let tables: Vec<_> = cat.tables.clone();
    println!("  tables alone {:.1} MB", mb() - t);
    drop(tables);
    let t = mb();
    let doc = catalogue_lsp::server::document::Document::new(text.clone(), 1);
    println!("document (text, rope, lines, catalogue) {:.1} MB", mb() - t);
    let t = mb();
    let ws = catalogue_lsp::engine::Workspace::new(vec![catalogue_lsp::engine::FileInput {
        catalogue: &cat,
        pack: catalogue_lsp::rules::RulePack::embedded(),
    }]);
    println!("workspace index {:.1} MB", mb() - t);
    let t = mb();
    let opts = catalogue_lsp::engine::Options {
        as_of: None,
        today: "2026-11-26".parse().unwrap(),
        explain: false,
    };
    let out = ws.analyse_products(0, &opts, Vec::new());
    let diags: usize = out.iter().map(|o| o.diagnostics.len()).sum();
    println!("outcomes {:.1} MB ({diags} diagnostics)", mb() - t);
    drop(doc);
}
