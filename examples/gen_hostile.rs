//! Small catalogues that used to take quadratic time or memory (issue 12,
//! item 5), for measuring `check` and the complexity tests:
//!
//! ```sh
//! cargo run --release --example gen_hostile -- KIND N > FILE.catalogue.toml
//! ```
//!
//! KIND is one of
//! - `shared-sku`: N products with the same SKU;
//! - `shared-licence`: N licences with the same id (and one product using it);
//! - `layered-bom`: N products in layers of 40, each product listing every
//!   product of the next layer (40 N component references);
//! - `unknown-components`: N products, each naming one component no product
//!   has (one typo away from a real SKU, so "did you mean" has work to do).

use hostile_gen::hostile;

fn main() {
    let mut args = std::env::args().skip(1);
    let kind = args.next().unwrap_or_default();
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    match hostile(&kind, n) {
        Some(text) => print!("{text}"),
        None => {
            eprintln!(
                "usage: gen_hostile shared-sku|shared-licence|layered-bom|unknown-components N"
            );
            std::process::exit(2);
        }
    }
}

#[path = "../tests/common/hostile_gen.rs"]
mod hostile_gen;
