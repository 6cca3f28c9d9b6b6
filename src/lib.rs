//! catalogue-lsp: export-control classification of rare-earth product
//! catalogues. Data flows one way: text → [`catalogue`] (parsed tables) →
//! [`engine`] (verdicts, with the [`rules`] pack) → [`diagnostic`]s →
//! [`report`] (CLI) or the language server.

pub mod catalogue;
pub mod chem;
pub mod cli;
pub mod clock;
pub mod diagnostic;
pub mod engine;
pub mod fsread;
pub mod packs;
pub mod packtest;
pub mod parties;
pub mod report;
pub mod rules;
pub mod server;
pub mod source;
pub mod text;
pub mod vocab;
