//! Diagnostics: the stable codes of the contract (docs/format.md §7) with their
//! default severities and help, and the diagnostic value the parser and the
//! engine produce and every front end (CLI reports, language server) renders.

use crate::text::Span;
use serde::Serialize;
use std::sync::Arc;

/// Severity, in the spec's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Information,
    Hint,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "information",
            Severity::Hint => "hint",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            "information" | "info" => Some(Severity::Information),
            "hint" => Some(Severity::Hint),
            _ => None,
        }
    }
}

macro_rules! codes {
    ($($variant:ident = $s:literal, $sev:ident, $title:literal;)+) => {
        /// A stable diagnostic code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $($variant),+ }
        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant),+];
            pub fn as_str(self) -> &'static str { match self { $(Code::$variant => $s),+ } }
            pub fn default_severity(self) -> Severity { match self { $(Code::$variant => Severity::$sev),+ } }
            /// What the code means, in one sentence.
            pub fn title(self) -> &'static str { match self { $(Code::$variant => $title),+ } }
            pub fn parse(s: &str) -> Option<Code> { match s { $($s => Some(Code::$variant),)+ _ => None } }
        }
    };
}

codes! {
    SyntaxError = "syntax-error", Error, "The file is not valid TOML here.";
    UnknownField = "unknown-field", Warning, "A key or table the catalogue format does not define.";
    InvalidValue = "invalid-value", Error, "A value of the wrong type, outside its enum or range, or an unknown element, formula or country.";
    MissingField = "missing-field", Error, "A required key is absent.";
    DuplicateSku = "duplicate-sku", Error, "Two products of the workspace share a SKU.";
    DuplicateLicence = "duplicate-licence", Error, "Two licences of the workspace share an id.";
    UnknownComponent = "unknown-component", Error, "`components` names a SKU no product has.";
    ComponentCycle = "component-cycle", Error, "A product contains itself through its components.";
    CompositionOver100 = "composition-over-100", Warning, "The composition sums to more than 100.5 %.";
    Controlled = "controlled", Information, "The product is a controlled dual-use item, or contains one.";
    IndeterminateClassification = "indeterminate-classification", Warning, "The facts given are not enough to classify the product.";
    MissingLicence = "missing-licence", Error, "A controlled product names no licence.";
    UnknownLicence = "unknown-licence", Error, "`licence` names no licence of the workspace.";
    LicenceExpired = "licence-expired", Error, "The licence expired before the evaluation date.";
    LicenceNotYetValid = "licence-not-yet-valid", Error, "The licence is not yet valid on the evaluation date.";
    LicenceItemNotCovered = "licence-item-not-covered", Error, "The licence's items do not cover every control code of the product.";
    LicenceEndUserNotCovered = "licence-end-user-not-covered", Error, "The product's end user is not among the licence's end users.";
    LicenceDestinationNotCovered = "licence-destination-not-covered", Error, "The product's destination is not among the licence's destinations.";
    LicenceValidityTooLong = "licence-validity-too-long", Error, "The licence is valid for longer than its type allows.";
    IndividualLicenceMultipleEndUsers = "individual-licence-multiple-end-users", Error, "An individual licence names more than one end user.";
    CertificatePurposeNotAllowed = "certificate-purpose-not-allowed", Error, "An export certificate is used for a purpose it cannot serve.";
    DeclaredCodeMismatch = "declared-code-mismatch", Warning, "The declared `control_code` differs from the engine's result.";
    UnnecessaryLicence = "unnecessary-licence", Hint, "A product that is not controlled names a licence.";
    Excluded = "excluded", Hint, "An exclusion takes the product out of control.";
    SuspendedControl = "suspended-control", Information, "A suspended announcement would control the product.";
    UpcomingControl = "upcoming-control", Information, "An announcement not yet in effect will control the product.";
    RulePackStale = "rule-pack-stale", Information, "The evaluation date is later than the rule pack was reviewed through.";
    UnconfirmedStatus = "unconfirmed-status", Warning, "The verdict rests on a rule whose status on the date no source confirms (a suspension reached its scheduled end).";
    UnknownPart = "unknown-part", Hint, "An `integrates` entry that is not a known part name; it still counts as an integrated part.";
    CertificatePurposeUnusual = "certificate-purpose-unusual", Warning, "An export certificate is used for a purpose other than the usual ones (testing, inspection, spare parts, repair, exhibition).";
    RulePackError = "rule-pack-error", Error, "The rule pack named by `[catalogue].rules` or the settings could not be loaded.";
    FileTooLarge = "file-too-large", Error, "The file is larger than the editor limit and is not analysed there; run `check` on it.";
    InternalError = "internal-error", Error, "The analysis of this file failed inside catalogue-lsp; the rest of the workspace is still checked.";
}

impl Code {
    /// Whether the code is a classification or licence finding (carries a rule source).
    pub fn is_rule_finding(self) -> bool {
        !matches!(
            self,
            Code::SyntaxError
                | Code::UnknownField
                | Code::InvalidValue
                | Code::MissingField
                | Code::DuplicateSku
                | Code::DuplicateLicence
                | Code::UnknownComponent
                | Code::ComponentCycle
                | Code::CompositionOver100
                | Code::RulePackError
                | Code::FileTooLarge
                | Code::InternalError
        )
    }
}

/// Where a rule comes from: instrument, article or FAQ answer, link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceRef {
    pub instrument: Arc<str>,
    pub article: Arc<str>,
    pub url: Arc<str>,
}

impl SourceRef {
    pub fn cite(&self) -> String {
        if self.article.is_empty() {
            self.instrument.to_string()
        } else {
            format!("{}, {}", self.instrument, self.article)
        }
    }
}

/// A place in a file of the run or workspace, by file index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    pub file: usize,
    pub span: Span,
    pub message: String,
}

/// Machine-readable data a quick fix needs.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FixData {
    /// Replacement candidates for the diagnostic's range, best first.
    pub replacements: Vec<String>,
    /// The replacements are string values: write them quoted.
    pub quote: bool,
}

/// A finding at a span of one file.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub span: Span,
    pub message: String,
    pub sku: Option<String>,
    pub source: Option<SourceRef>,
    pub related: Vec<Related>,
    pub fix: FixData,
}

impl Diagnostic {
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: code.default_severity(),
            span,
            message: message.into(),
            sku: None,
            source: None,
            related: Vec::new(),
            fix: FixData::default(),
        }
    }
    pub fn with_sku(mut self, sku: Option<&str>) -> Self {
        self.sku = sku.map(str::to_owned);
        self
    }
    pub fn with_source(mut self, source: Option<SourceRef>) -> Self {
        self.source = source;
        self
    }
    pub fn with_related(mut self, related: Related) -> Self {
        self.related.push(related);
        self
    }
    pub fn with_replacements(mut self, r: Vec<String>) -> Self {
        self.fix.replacements = r;
        self
    }
    /// Replacements that are string values (written quoted).
    pub fn with_string_replacements(mut self, r: Vec<String>) -> Self {
        self.fix.replacements = r;
        self.fix.quote = true;
        self
    }
}

/// The nearest candidate to `word` by edit distance, if it is close enough to be a
/// plausible typo.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lw = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(&lw, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.chars().count().max(3) / 3).max(2))
        // Ties go to the smallest candidate, so the answer never depends on hash order.
        .min()
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_word_does_not_depend_on_candidate_order() {
        assert_eq!(nearest("D", ["E", "A"]), Some("A"));
        assert_eq!(nearest("D", ["A", "E"]), Some("A"));
        assert_eq!(nearest("GL-1", ["GL-2", "XX-9"]), Some("GL-2"));
        assert_eq!(nearest("GL-1", ["completely-different"]), None);
    }

    #[test]
    fn codes_round_trip_and_are_kebab_case() {
        for c in Code::ALL {
            assert_eq!(Code::parse(c.as_str()), Some(*c));
            assert!(
                c.as_str()
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
            );
        }
    }

    #[test]
    fn nearest_finds_typos_and_rejects_strangers() {
        assert_eq!(nearest("licnce", ["licence", "sku"]), Some("licence"));
        assert_eq!(
            nearest("GL-2026-0O42", ["GL-2026-0042", "IL-1"]),
            Some("GL-2026-0042")
        );
        assert_eq!(nearest("zzzzzz", ["licence", "sku"]), None);
    }
}
