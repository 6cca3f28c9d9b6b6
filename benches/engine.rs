//! Criterion benchmarks of each stage on a generated 10 000-product
//! catalogue (the same generator as `examples/gen_catalogue.rs`):
//! parse, classify (all products), the whole `check` (read, parse,
//! analyse, JSON report) and an editor's incremental edit (one character
//! typed into a product: text, line index and one table re-parsed).
//!
//! cargo bench --bench engine

use catalogue_lsp::catalogue;
use catalogue_lsp::engine::{Analysis, Options};
use catalogue_lsp::rules::RulePack;
use catalogue_lsp::server::document::Document;
use catalogue_lsp::text::Encoding;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use tower_lsp::lsp_types::{Position, Range, TextDocumentContentChangeEvent};

const PRODUCTS: usize = 10_000;

fn catalogue_text() -> String {
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "run",
            "--quiet",
            "--release",
            "--example",
            "gen_catalogue",
            "--",
        ])
        .arg(PRODUCTS.to_string())
        .output()
        .expect("run the generator");
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn options() -> Options {
    Options {
        as_of: None,
        today: "2026-11-26".parse().expect("date"),
        explain: false,
        keep_judgements: false,
    }
}

fn benches(c: &mut Criterion) {
    let text = catalogue_text();
    let pack = RulePack::embedded();
    let mut g = c.benchmark_group("10k products");
    g.sample_size(20);

    g.bench_function("parse", |b| b.iter(|| catalogue::parse(black_box(&text))));

    let cat = catalogue::parse(&text);
    g.bench_function("classify and diagnose", |b| {
        b.iter(|| {
            let ws = Analysis::new().file(&cat, pack.clone()).build();
            ws.analyse_file(0, &options())
        })
    });

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("gen.catalogue.toml");
    std::fs::write(&path, &text).expect("write");
    g.bench_function("check --format json", |b| {
        b.iter(|| {
            let run = catalogue_lsp::report::run(std::slice::from_ref(&path), None, &options())
                .expect("check");
            catalogue_lsp::report::json::write(&run, &mut std::io::sink()).expect("write");
        })
    });

    // One character typed and deleted in a product in the middle of the file.
    let line = text
        .lines()
        .enumerate()
        .skip(text.lines().count() / 2)
        .find(|(_, l)| l.starts_with("name = \""))
        .map_or(0, |(i, _)| i as u32);
    let mut doc = Document::new(text.clone(), 1);
    let mut version = 1;
    g.bench_function("edit: one character re-parsed", |b| {
        b.iter(|| {
            version += 1;
            let (end, new) = if version % 2 == 0 { (8, "x") } else { (9, "") };
            let change = TextDocumentContentChangeEvent {
                range: Some(Range::new(Position::new(line, 8), Position::new(line, end))),
                range_length: None,
                text: new.into(),
            };
            doc.apply(vec![change], version, Encoding::Utf16)
        })
    });
    g.finish();
}

criterion_group!(engine, benches);
criterion_main!(engine);
