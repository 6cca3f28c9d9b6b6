//! The classification engine: for each product and evaluation date, a
//! verdict (controlled, excluded, not-controlled, indeterminate) with its
//! control codes, exclusion and an explanation trace citing sources; then the
//! licence findings and workspace checks (duplicates, unknown references,
//! cycles). Input: parsed catalogues and a rule pack. Output: results and
//! diagnostics; the engine never reads files itself.

mod classify;
pub mod exports;
pub mod ident;
pub mod index;
pub mod licence;
pub mod screening;
mod share;
mod stream;
mod workspace;

pub use classify::{Classification, MAX_SHARED_SKU, TraceStep, Verdict};
pub use workspace::{
    Analysis, FileInput, FileResult, Options, ProductOutcome, ProductResult, Workspace,
};
