//! Deterministic catalogue generator for benchmarks:
//! `cargo run --release --example gen_catalogue -- 100000 > big.catalogue.toml`
//! `cargo run --release --example gen_catalogue -- 100000 3 > big.catalogue.toml`
//! adds 3 `[[shipment]]` tables per product (v2 §4a), amounts on products and
//! quantity and value limits on the licences; without it the output is what
//! it always was.
//! `--unlicensed PCT` (default 5) is the share of products of the usually
//! controlled kinds left without a licence, `--unneeded PCT` (default 3) the
//! share of the other kinds that carry one anyway: the mistakes left over
//! (`missing-licence` errors with their `missing-end-use-evidence` warnings,
//! `unnecessary-licence` hints). At the defaults 10 000 products give 649
//! products with an error or a warning (6.5 %); `--unlicensed 0` leaves
//! those the catalogue's kinds do not predict (rotor assemblies and sensors
//! whose magnets are controlled), ~3 % of the products, the condition of
//! issue 16's measurements.
//! A realistic mix of magnets, oxides, alloys, targets, assemblies, sensors
//! and licences, with component and licence references. As in a maintained
//! catalogue, products of the kinds that are usually controlled carry a
//! licence (95 %) and the others rarely do (3 %): the mistakes left over are
//! what the tool is for.

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
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() as usize) % xs.len()]
    }
}

fn main() {
    let mut positional = Vec::new();
    let (mut unlicensed, mut unneeded) = (5u64, 3u64);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let pct = |v: Option<String>| -> u64 {
            match v.and_then(|v| v.parse::<u64>().ok()) {
                Some(p) if p <= 100 => p,
                _ => {
                    eprintln!("{a} needs a percentage (0 to 100)");
                    std::process::exit(2)
                }
            }
        };
        match a.as_str() {
            "--unlicensed" => unlicensed = pct(args.next()),
            "--unneeded" => unneeded = pct(args.next()),
            _ => positional.push(a),
        }
    }
    let n: usize = positional
        .first()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let shipments: usize = positional.get(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut r = Lcg(42);
    let mut s = String::with_capacity(n * (200 + 90 * shipments));
    s.push_str("[catalogue]\nname = \"Generated catalogue\"\nas_of = 2026-06-01\n\n");
    let licences = (n / 100).max(1);
    for i in 0..licences {
        let customers: Vec<String> = (0..50).map(|c| format!("\"Customer {c}\"")).collect();
        let _ = write!(
            s,
            "[[licence]]\nid = \"GL-{i:06}\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2028-12-31\nitems = [\"1C902\", \"1C904\", \"1C905\", \"1C908\"]\nend_users = [{}]\ndestinations = [\"DE\", \"US\", \"JP\", \"SE\", \"KR\", \"FR\"]\n",
            customers.join(", ")
        );
        if shipments > 0 {
            // About 65 products (260 exports, some 14 t) use each licence:
            // most stay within their limits, some run out.
            let _ = write!(
                s,
                "quantity = {}\nunit = \"t\"\nvalue = 50000000\ncurrency = \"CNY\"\n",
                14 + i % 10
            );
        }
        s.push('\n');
    }
    let dests = ["DE", "US", "JP", "SE", "KR", "FR"];
    for i in 0..n {
        let _ = writeln!(
            s,
            "[[product]]\nsku = \"SKU-{i:07}\"\nname = \"Generated product {i}\""
        );
        // Whether the compliance team would expect this kind to need a licence.
        let mut usual = true;
        match r.next() % 10 {
            0..=2 => {
                let dy = (r.next() % 40) as f64 / 10.0;
                let _ = writeln!(
                    s,
                    "form = \"magnet\"\ncomposition = {{ Nd = 28.0, Pr = 1.5, Dy = {dy:.1}, Fe = {:.1}, B = 1.0 }}",
                    69.5 - dy
                );
            }
            3 => s.push_str("form = \"magnet\"\ncomposition = { Sm2Co17 = 100 }\n"),
            4 => {
                let oxide = r.pick(&["Dy2O3", "Tb4O7", "La2O3", "Y2O3", "CeO2"]);
                usual = matches!(oxide, "Dy2O3" | "Tb4O7" | "Y2O3");
                let _ = writeln!(s, "form = \"oxide\"\ncomposition = {{ {oxide} = 99.9 }}");
            }
            5 => {
                let alloy = r.pick(&[
                    "Sm = 35, Co = 65",
                    "Dy = 80, Fe = 20",
                    "\"Tb0.3Dy0.7Fe2\" = 100",
                    "Cu = 60, Zn = 40",
                ]);
                usual = !alloy.starts_with("Cu");
                let _ = writeln!(s, "form = \"alloy\"\ncomposition = {{ {alloy} }}");
            }
            6 if i > 0 => {
                let c = r.next() as usize % i;
                let mounting = r.pick(&["embedded", "loose", "surface-mounted"]);
                usual = mounting == "loose";
                let _ = writeln!(
                    s,
                    "form = \"rotor-assembly\"\ncomponents = [\"SKU-{c:07}\"]\nmounting = \"{mounting}\""
                );
            }
            7 if i > 0 => {
                usual = false;
                let c = r.next() as usize % i;
                let _ = writeln!(
                    s,
                    "form = \"sensor\"\ncomponents = [\"SKU-{c:07}\"]\nmoulded = {}",
                    r.next() % 2 == 0
                );
            }
            8 => s.push_str("form = \"target\"\ncomposition = { Sm = 99.95 }\n"),
            _ => {
                usual = false;
                s.push_str("form = \"magnet\"\ncomposition = { SrFe12O19 = 100 }\n");
            }
        }
        let _ = writeln!(
            s,
            "destination = \"{}\"\nend_user = \"Customer {}\"",
            r.pick(&dests),
            r.next() % 50
        );
        if r.next() % 100 < if usual { 100 - unlicensed } else { unneeded } {
            let _ = writeln!(s, "licence = \"GL-{:06}\"", r.next() as usize % licences);
        }
        if shipments > 0 {
            let _ = writeln!(
                s,
                "ship_date = 2026-02-{:02}\nquantity = {}\nunit = \"kg\"\nvalue = {}\ncurrency = \"CNY\"",
                1 + r.next() % 28,
                10 + r.next() % 90,
                10_000 + r.next() % 90_000
            );
        }
        s.push('\n');
        for k in 0..shipments {
            let unit = r.pick(&["kg", "kg", "g", "t"]);
            let q: f64 = match unit {
                "g" => (1000 * (10 + r.next() % 90)) as f64,
                "t" => (1 + r.next() % 9) as f64 / 100.0,
                _ => (10 + r.next() % 90) as f64,
            };
            let _ = writeln!(
                s,
                "[[shipment]]\nsku = \"SKU-{i:07}\"\nship_date = 2026-{:02}-{:02}\nquantity = {q}\nunit = \"{unit}\"\nvalue = {}\ncurrency = \"CNY\"",
                3 + k % 9,
                1 + r.next() % 28,
                10_000 + r.next() % 90_000
            );
            if r.next() % 10 == 0 {
                let _ = writeln!(s, "contract = \"C-{i:07}-{k}\"");
            }
            s.push('\n');
        }
    }
    print!("{s}");
}
