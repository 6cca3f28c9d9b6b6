//! Test helpers: analyse in-memory catalogue files with the embedded pack.
#![allow(dead_code)]

pub mod lsp;

use catalogue_lsp::catalogue::{self, Catalogue};
use catalogue_lsp::diagnostic::{Code, Diagnostic};
use catalogue_lsp::engine::{Analysis, FileResult, Options, ProductResult, Verdict};
use catalogue_lsp::rules::RulePack;
use jiff::civil::Date;

pub struct Checked {
    pub texts: Vec<String>,
    pub cats: Vec<Catalogue>,
    pub results: Vec<FileResult>,
}

pub fn date(s: &str) -> Date {
    s.parse().unwrap()
}

/// Checks several files together on `as_of` (as the `--as-of` flag).
pub fn check_files(files: &[&str], as_of: &str) -> Checked {
    let texts: Vec<String> = files.iter().map(|s| s.to_string()).collect();
    let cats: Vec<Catalogue> = texts.iter().map(|t| catalogue::parse(t)).collect();
    let pack = RulePack::embedded();
    let results = {
        let ws = Analysis::new().files(&cats, &pack).build();
        ws.analyse_all(&Options {
            as_of: Some(date(as_of)),
            today: date("2026-06-01"),
            explain: true,
            keep_judgements: false,
        })
    };
    Checked {
        texts,
        cats,
        results,
    }
}

pub fn check(text: &str, as_of: &str) -> Checked {
    check_files(&[text], as_of)
}

impl Checked {
    pub fn product(&self, sku: &str) -> &ProductResult {
        self.results
            .iter()
            .flat_map(|r| r.products.iter())
            .find(|p| p.sku.as_deref() == Some(sku))
            .unwrap_or_else(|| panic!("no product {sku}"))
    }
    pub fn verdict(&self, sku: &str) -> Verdict {
        self.product(sku).verdict()
    }
    pub fn codes(&self, sku: &str) -> Vec<String> {
        self.product(sku).classification.codes.clone()
    }
    pub fn exclusion(&self, sku: &str) -> Option<String> {
        self.product(sku).classification.exclusion.clone()
    }
    pub fn diags(&self) -> Vec<&Diagnostic> {
        self.results
            .iter()
            .flat_map(|r| r.diagnostics.iter())
            .collect()
    }
    pub fn codes_for(&self, sku: &str) -> Vec<Code> {
        self.diags()
            .into_iter()
            .filter(|d| d.sku.as_deref() == Some(sku))
            .map(|d| d.code)
            .collect()
    }
    pub fn has(&self, code: Code) -> bool {
        self.diags().iter().any(|d| d.code == code)
    }
    pub fn find(&self, code: Code) -> &Diagnostic {
        self.diags()
            .into_iter()
            .find(|d| d.code == code)
            .unwrap_or_else(|| panic!("no {code:?} in {:#?}", self.diags()))
    }
    /// The text a diagnostic's span covers (file 0).
    pub fn text_of(&self, d: &Diagnostic) -> &str {
        &self.texts[0][d.span.start()..d.span.end()]
    }
}

/// A one-product catalogue.
pub fn product(body: &str) -> String {
    format!("[[product]]\nsku = \"P\"\n{body}\n")
}
