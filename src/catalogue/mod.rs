//! Catalogue files: the TOML (docs/format.md §1–4) and CSV (§10) formats, behind
//! the [`Format`] seam, parsed into
//! typed products, licences and the `[catalogue]` table, each value with its
//! span, table by table so errors stay local.

pub mod countries;
pub mod csv;
pub mod format;
pub mod import;
pub mod model;
pub mod parse;
pub mod parts;
pub mod split;

pub use format::Format;
pub use model::*;
pub use parse::{CATALOGUE_KEYS, LICENCE_KEYS, PRODUCT_KEYS, SHIPMENT_KEYS, parse};
pub use parts::{NotAPart, not_a_part};

/// Whether a file name is a catalogue by the contract's naming rule.
/// (`*.catalogue.toml`, `catalogue.toml`, `*.catalogue.csv`, `*.licences.csv`, `*.shipments.csv`).
pub fn is_catalogue_name(name: &str) -> bool {
    Format::of_name(name).is_some()
}
