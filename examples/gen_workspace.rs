//! Deterministic multi-file workspace for benchmarks:
//! `cargo run --release --example gen_workspace -- DIR [FILES] [PRODUCTS] [--copy]`
//! (defaults 40 files of 2 500 products). The licences live in a register
//! of their own (`licences.catalogue.toml`); each `partNN.catalogue.toml`
//! mixes magnets, oxides, alloys, sensors and rotor assemblies whose magnets
//! are products of other files (so typing in a magnet's SKU touches files
//! that refer to it). `--copy` adds `copy.catalogue.toml`, a copy of
//! `part01` (every product of both a `duplicate-sku`).

use std::fmt::Write;

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: gen_workspace DIR [FILES] [PRODUCTS] [--copy]");
        std::process::exit(2);
    };
    let files: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(40);
    let per: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2500);
    let copy = args.iter().any(|a| a == "--copy");
    let dir = std::path::Path::new(dir);
    if let Err(e) = std::fs::create_dir_all(dir) {
        eprintln!("cannot create {}: {e}", dir.display());
        std::process::exit(2);
    }
    let write = |name: &str, text: &str| {
        if let Err(e) = std::fs::write(dir.join(name), text) {
            eprintln!("cannot write {name}: {e}");
            std::process::exit(2);
        }
    };
    let mut r = Lcg(7);
    let licences = (files * per / 100).max(1);
    let customers: Vec<String> = (0..50).map(|c| format!("\"Customer {c}\"")).collect();
    let customers = customers.join(", ");
    let mut s = String::from("[catalogue]\nname = \"Licence register\"\nas_of = 2026-06-01\n\n");
    for i in 0..licences {
        let _ = write!(
            s,
            "[[licence]]\nid = \"GL-{i:06}\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2028-12-31\nitems = [\"1C902\", \"1C904\", \"1C905\", \"1C908\"]\nend_users = [{customers}]\ndestinations = [\"DE\", \"US\", \"JP\"]\n\n"
        );
    }
    write("licences.catalogue.toml", &s);
    let dests = ["DE", "US", "JP"];
    let mut part01 = String::new();
    for f in 0..files {
        let mut s = format!("[catalogue]\nname = \"Part {f}\"\nas_of = 2026-06-01\n\n");
        for i in 0..per {
            let _ = writeln!(
                s,
                "[[product]]\nsku = \"P{f:02}-{i:05}\"\nname = \"Product {i} of part {f}\""
            );
            let mut usual = true;
            match i % 10 {
                // Magnets at every even index below 10: the rotors of other files use them.
                0 | 2 | 4 => {
                    let dy = (r.next() % 40) as f64 / 10.0 + 0.5;
                    let _ = writeln!(
                        s,
                        "form = \"magnet\"\ncomposition = {{ Nd = 28.0, Dy = {dy:.1}, Fe = {:.1}, B = 1.0 }}",
                        71.0 - dy
                    );
                }
                1 => s.push_str("form = \"oxide\"\ncomposition = { Dy2O3 = 99.9 }\n"),
                3 => {
                    usual = false;
                    s.push_str("form = \"alloy\"\ncomposition = { Cu = 60, Zn = 40 }\n")
                }
                5 | 7 if files > 1 => {
                    // A rotor built on a magnet of another file.
                    let other = (f + 1 + r.next() as usize % (files - 1)) % files;
                    let m = (r.next() as usize % per.div_ceil(10)) * 10;
                    let mounting = if i % 20 == 5 { "loose" } else { "embedded" };
                    usual = mounting == "loose";
                    let _ = writeln!(
                        s,
                        "form = \"rotor-assembly\"\ncomponents = [\"P{other:02}-{m:05}\"]\nmounting = \"{mounting}\""
                    );
                }
                6 if i > 0 => {
                    usual = false;
                    let _ = writeln!(
                        s,
                        "form = \"sensor\"\ncomponents = [\"P{f:02}-{:05}\"]\nmoulded = true",
                        i - 6
                    );
                }
                _ => s.push_str("form = \"target\"\ncomposition = { Sm = 99.95 }\n"),
            }
            let _ = writeln!(
                s,
                "destination = \"{}\"\nend_user = \"Customer {}\"",
                dests[r.next() as usize % dests.len()],
                r.next() % 50
            );
            if r.next() % 100 < if usual { 95 } else { 3 } {
                let _ = writeln!(s, "licence = \"GL-{:06}\"", r.next() as usize % licences);
            }
            s.push('\n');
        }
        if f == 1 {
            part01 = s.clone();
        }
        write(&format!("part{f:02}.catalogue.toml"), &s);
    }
    if copy && !part01.is_empty() {
        write("copy.catalogue.toml", &part01);
    }
}
