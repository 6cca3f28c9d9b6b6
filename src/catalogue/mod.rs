//! Catalogue files: the TOML format of the contract (docs/format.md §1–4) parsed into
//! typed products, licences and the `[catalogue]` table, each value with its
//! span, table by table so errors stay local.

pub mod countries;
pub mod model;
pub mod parse;
pub mod split;

pub use model::*;
pub use parse::{CATALOGUE_KEYS, LICENCE_KEYS, PRODUCT_KEYS, SHIPMENT_KEYS, parse};

/// Whether a file name is a catalogue by the contract's naming rule.
pub fn is_catalogue_name(name: &str) -> bool {
    name == "catalogue.toml" || name.ends_with(".catalogue.toml")
}
