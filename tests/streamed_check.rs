//! `check` computes each file's diagnostics chunk by chunk while it writes
//! them (`report::check`, `Workspace::each_diagnostic`): its output is,
//! byte for byte, what the reports write from a finished run that holds
//! every diagnostic (`report::run`), in each format, on files of many
//! chunks with the file's own diagnostics (duplicates, licences,
//! shipments, a syntax error) among the products'.

use catalogue_lsp::engine::{Analysis, Options};
use catalogue_lsp::report;
use catalogue_lsp::rules::RulePack;
use std::path::{Path, PathBuf};
use std::process::Command;

const AS_OF: &str = "2026-06-01";

fn opts() -> Options {
    Options::on(AS_OF.parse().unwrap())
}

/// A catalogue of `n` products (2 048 to a chunk) with licences, shipments
/// and mistakes spread through it: diagnostics of the products and of the
/// file interleave all along.
fn catalogue(n: usize) -> String {
    let mut t = String::from("[catalogue]\nname = \"Streamed\"\nas_of = 2026-06-01\n\n");
    for i in 0..n {
        if i % 400 == 0 {
            // A licence every 400 products; every other one has a mistake.
            let k = i / 400;
            t.push_str(&format!(
                "[[licence]]\nid = \"GL-{k}\"\ntype = \"{}\"\nissued = 2026-01-01\nexpires = {}\nitems = [\"1C905.a.4\"]\nend_users = [\"Example Motors GmbH\"{}]\ndestinations = [\"DE\"]\nquantity = 1\nunit = \"t\"\n\n",
                if k % 2 == 0 { "general" } else { "individual" },
                if k % 3 == 0 { "2026-03-01" } else { "2027-12-31" },
                if k % 2 == 1 { ", \"Someone Else\"" } else { "" },
            ));
        }
        // Every 9th SKU repeats an earlier one (a duplicate: the file's own).
        let sku = if i % 9 == 8 { i - 5 } else { i };
        let kind = match i % 7 {
            0 => "form = \"magnet\"\ncomposition = { Nd = 27.5, Dy = 2.5, Fe = 69.0, B = 1.0 }"
                .to_string(),
            1 => "form = \"oxide\"\ncomposition = { Dy2O3 = 99.9 }".to_string(),
            2 => "form = \"gizmo\"\ncomposition = { La2O3 = 99.9 }".to_string(),
            3 => format!(
                "form = \"assembly\"\ncomponents = [\"P{}\", \"NOPE-{i}\"]",
                i.saturating_sub(3)
            ),
            4 => "form = \"oxide\"\ncomposition = { Dy2O3 = 99.9 }\ncontrol_code = \"1C904.b\""
                .to_string(),
            5 => "form = \"alloy\"".to_string(),
            _ => "form = \"oxide\"\ncomposition = { Y2O3 = 99.99 }".to_string(),
        };
        let export = match i % 5 {
            0 => format!(
                "destination = \"DE\"\nend_user = \"Example Motors GmbH\"\nlicence = \"GL-{}\"\nship_date = 2026-0{}-15\nquantity = 100\nunit = \"kg\"",
                i / 400,
                1 + i % 6
            ),
            1 => "destination = \"JP\"\nend_user = \"Mitsubishi Heavy Industries Aero Engines, Ltd.\""
                .to_string(),
            2 => format!("licence = \"NO-SUCH-{i}\""),
            _ => String::new(),
        };
        t.push_str(&format!(
            "[[product]]\nsku = \"P{sku}\"\n{kind}\n{export}\n\n"
        ));
        if i % 250 == 0 {
            t.push_str(&format!(
                "[[shipment]]\nsku = \"P{i}\"\nship_date = 2026-05-0{}\nquantity = 400\nunit = \"kg\"\ndestination = \"DE\"\n\n",
                1 + i % 9
            ));
        }
        if i == n / 2 {
            t.push_str("[[product]]\nsku = \"BROKEN\"\nform = \n\n");
        }
    }
    t
}

/// The materialised run's report in `format`, as the library writes it.
fn whole(paths: &[PathBuf], format: &str) -> Vec<u8> {
    let run = report::run(paths, None, &opts()).unwrap();
    let mut out = Vec::new();
    match format {
        "human" => report::human::write(&run, false, &mut out),
        "json" => report::json::write(&run, &mut out),
        _ => report::sarif::write(&run, &mut out),
    }
    .unwrap();
    out
}

/// What `check` prints, and its exit code.
fn checked(paths: &[PathBuf], format: &str) -> (Vec<u8>, i32) {
    let o = Command::new(env!("CARGO_BIN_EXE_catalogue-lsp"))
        .arg("check")
        .args(paths)
        .args(["--format", format, "--as-of", AS_OF])
        .output()
        .unwrap();
    (o.stdout, o.status.code().unwrap_or(-1))
}

fn same_in_every_format(paths: &[PathBuf]) -> usize {
    let mut lines = 0;
    for format in ["human", "json", "sarif"] {
        let expected = whole(paths, format);
        let (got, code) = checked(paths, format);
        assert!(code == 0 || code == 1, "{paths:?} {format}: exit {code}");
        if got != expected {
            let at = got
                .iter()
                .zip(&expected)
                .position(|(a, b)| a != b)
                .unwrap_or(got.len().min(expected.len()));
            let from = at.saturating_sub(300);
            panic!(
                "{paths:?} --format {format}: streamed and whole differ at byte {at}:\nstreamed: {}\nwhole:    {}",
                String::from_utf8_lossy(&got[from..(at + 300).min(got.len())]),
                String::from_utf8_lossy(&expected[from..(at + 300).min(expected.len())]),
            );
        }
        lines += got.iter().filter(|&&b| b == b'\n').count();
    }
    lines
}

/// A file of three chunks, then it and a second file together.
#[test]
fn streamed_check_is_the_whole_report_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.catalogue.toml");
    std::fs::write(&big, catalogue(5000)).unwrap();
    let small = dir.path().join("small.catalogue.toml");
    std::fs::write(&small, catalogue(300)).unwrap();
    let lines = same_in_every_format(std::slice::from_ref(&big));
    assert!(
        lines > 30_000,
        "a report of many diagnostics: {lines} lines"
    );
    same_in_every_format(&[big, small]);
}

/// The examples and the fixtures, each alone and all together (CSV, shipments, parties).
#[test]
fn streamed_check_of_the_examples_and_fixtures_is_the_whole_report() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cases = vec![
        vec![root.join("examples")],
        vec![root.join("tests/fixtures")],
    ];
    for dir in ["examples", "tests/fixtures"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".catalogue.toml") || name.ends_with(".catalogue.csv") {
                cases.push(vec![p]);
            }
        }
    }
    assert!(cases.len() > 6, "{cases:?}");
    for paths in cases {
        same_in_every_format(&paths);
    }
}

/// The engine's stream hands out exactly the diagnostics of
/// `analyse_file`, in its order, for one file of many chunks.
#[test]
fn each_diagnostic_is_analyse_file_in_order() {
    let text = catalogue(5000);
    let cat = catalogue_lsp::catalogue::parse(&text);
    let ws = Analysis::new().file(&cat, RulePack::embedded()).build();
    let whole = ws.analyse_file(0, &opts());
    let products = ws.classify_file(0, &opts());
    assert_eq!(products.len(), whole.products.len());
    for (a, b) in products.iter().zip(&whole.products) {
        assert_eq!((a.index, &a.sku, a.as_of), (b.index, &b.sku, b.as_of));
        assert_eq!(a.classification, b.classification);
    }
    let own = ws.own_diagnostics(0, &opts(), ws.latest_date(0, &opts()));
    assert!(!own.is_empty(), "duplicates, licences, shipments");
    let mut streamed = Vec::new();
    ws.each_diagnostic(0, &products, own.clone(), |d| {
        streamed.push(d.clone());
        Ok::<(), ()>(())
    })
    .unwrap();
    assert!(
        whole.diagnostics.len() > 5_000,
        "{}",
        whole.diagnostics.len()
    );
    assert_eq!(streamed.len(), whole.diagnostics.len());
    for (i, (a, b)) in streamed.iter().zip(&whole.diagnostics).enumerate() {
        assert_eq!(a, b, "diagnostic {i}");
    }
    // Classified as the diagnostics are computed, in one pass: the same
    // results and diagnostics.
    let mut one_pass = Vec::new();
    let classified = ws
        .classify_streaming(0, &opts(), own.clone(), |d| {
            one_pass.push(d.clone());
            Ok::<(), ()>(())
        })
        .unwrap();
    assert_eq!(one_pass, streamed);
    assert_eq!(classified.len(), whole.products.len());
    for (a, b) in classified.iter().zip(&whole.products) {
        assert_eq!((a.index, &a.sku, a.as_of), (b.index, &b.sku, b.as_of));
        assert_eq!(a.classification, b.classification);
    }
    // The sink's error stops the stream.
    let mut seen = 0;
    let r = ws.each_diagnostic(0, &products, own, |_| {
        seen += 1;
        if seen == 100 { Err(seen) } else { Ok(()) }
    });
    assert_eq!(r, Err(100));
}

/// `check` reads a file's text again for its report (the analysis does not
/// hold it): a file changed in between fails the run rather than report
/// places in a text that is not there.
#[test]
fn a_file_changed_while_checked_is_not_reported_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.catalogue.toml");
    std::fs::write(&path, catalogue(50)).unwrap();
    let paths = [path.clone()];
    let mut out = Vec::new();
    let checked = report::check(&paths, None, None, &opts(), false, |run, diags| {
        assert!(
            run.files[0].text.is_empty(),
            "the run does not hold the text"
        );
        std::fs::write(&path, catalogue(51)).unwrap();
        report::human::write_from(run, diags, false, &mut out)
    })
    .unwrap();
    let e = checked.written.unwrap_err();
    assert!(
        e.to_string().contains("changed while it was checked"),
        "{e}"
    );
    // Unchanged, the text read again is the one checked.
    std::fs::write(&path, catalogue(50)).unwrap();
    let mut out = Vec::new();
    let checked = report::check(&paths, None, None, &opts(), false, |run, diags| {
        report::human::write_from(run, diags, false, &mut out)
    })
    .unwrap();
    assert!(checked.written.is_ok());
    assert_eq!(out, whole(&paths, "human"));
}

/// The reports free the ledger of exports once they have read it: nothing
/// else holds it (JSON after the last file's licences, the others at once).
#[test]
fn the_ledger_is_freed_once_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.catalogue.toml");
    std::fs::write(&path, catalogue(500)).unwrap();
    // Products first (as for JSON): the ledger is kept until released.
    let checked = report::check(&[path], None, None, &opts(), true, |run, diags| {
        let ledger = diags.ledger().expect("a ledger");
        assert!(!ledger.exports.is_empty());
        assert!(run.results.iter().all(|r| r.ledger.is_none()));
        let weak = std::sync::Arc::downgrade(&ledger);
        drop(ledger);
        diags.release_ledger();
        assert!(weak.upgrade().is_none(), "the ledger is still held");
        Ok(())
    })
    .unwrap();
    assert!(checked.written.is_ok());
}

/// A reader that closes the pipe early (`check | head`) does not change
/// the exit code: the run goes on and counts every error.
#[test]
fn a_closed_pipe_keeps_the_exit_code() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.catalogue.toml");
    // Thousands of licensed products (an `information` each, far more than
    // a pipe holds), then the one error, written last.
    let mut text = String::from(
        "[[licence]]\nid = \"GL-1\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2027-12-31\nitems = [\"1C905.b\"]\nend_users = [\"Example Motors GmbH\"]\ndestinations = [\"DE\"]\n\n",
    );
    for i in 0..5000 {
        text.push_str(&format!("[[product]]\nsku = \"P{i}\"\nform = \"oxide\"\ncomposition = {{ Dy2O3 = 99.9 }}\nlicence = \"GL-1\"\ndestination = \"DE\"\nend_user = \"Example Motors GmbH\"\n\n"));
    }
    text.push_str("[[product]]\nsku = \"LAST\"\nform = \"oxide\"\ncomposition = { Y2O3 = 99.9 }\nlicence = \"NO-SUCH\"\n");
    std::fs::write(&path, text).unwrap();
    let (out, full) = checked(std::slice::from_ref(&path), "human");
    assert_eq!(full, 1, "the catalogue has an error");
    let out = String::from_utf8(out).unwrap();
    let errors: Vec<_> = out.lines().filter(|l| l.contains(": error[")).collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(out.len() > 1 << 20, "more than a pipe holds: {}", out.len());
    let mut child = Command::new(env!("CARGO_BIN_EXE_catalogue-lsp"))
        .arg("check")
        .arg(&path)
        .args(["--as-of", AS_OF])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The pipe's reading end is closed here, before the report is written.
    let o = child.wait_with_output().unwrap();
    assert!(!first.is_empty());
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
