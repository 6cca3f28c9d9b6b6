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
    SyntaxError = "syntax-error", Error, "The file is not valid in its format (TOML or CSV) here.";
    UnknownField = "unknown-field", Warning, "A field (key or column) or kind of item the catalogue format does not define.";
    InvalidValue = "invalid-value", Error, "A value of the wrong type, outside its enum or range, or an unknown element, formula or country.";
    MissingField = "missing-field", Error, "A required field is absent.";
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
    RulePackStale = "rule-pack-stale", Information, "An evaluation date of the file (a product's, or a shipment's `ship_date`) is later than the rule pack was reviewed through.";
    UnconfirmedStatus = "unconfirmed-status", Warning, "The verdict rests on a rule whose status on the date no source confirms (a suspension reached its scheduled end).";
    UnknownPart = "unknown-part", Hint, "An `integrates` entry that is not a known part name; it still counts as an integrated part.";
    CertificatePurposeUnusual = "certificate-purpose-unusual", Warning, "An export certificate is used for a purpose other than the usual ones (testing, inspection, spare parts, repair, exhibition).";
    RulePackError = "rule-pack-error", Error, "The rule pack a catalogue names (its `rules` field) or the settings name could not be loaded.";
    FileTooLarge = "file-too-large", Error, "The file is larger than the editor limit and is not analysed there; run `check` on it.";
    InternalError = "internal-error", Error, "The analysis of this file failed inside catalogue-lsp; the rest of the workspace is still checked.";
    ListedParty = "listed-party", Error, "An end user, importer or licence end user is, after normalising its name, a party on a MOFCOM list (control list, watch list, unreliable entity list) in force on the date.";
    PossibleListedParty = "possible-listed-party", Warning, "A party name is close to (not the same as) a MOFCOM-listed party: review it, and record a non-match in a screening record.";
    ConfusableIdentifier = "confusable-identifier", Warning, "A SKU, licence id or reference holds an invisible character or one that looks like another, or looks the same as a different name of the workspace.";
    UnknownSku = "unknown-sku", Error, "A shipment names a SKU no product has.";
    LicenceQuantityExceeded = "licence-quantity-exceeded", Error, "The exports under a licence, in date order, exceed its quantity limit from this export on.";
    LicenceValueExceeded = "licence-value-exceeded", Error, "The exports under a licence, in date order, exceed its value limit from this export on.";
    LicenceNearlyUsed = "licence-nearly-used", Warning, "This export takes a licence's use to 90 % of its limit or more.";
    LicenceUnitMismatch = "licence-unit-mismatch", Warning, "An export's amount cannot be counted against its licence's limit (pieces against mass, or another currency).";
    IndividualLicenceSplitShipment = "individual-licence-split-shipment", Warning, "One individual licence is used by exports on different dates (one batch, one licence).";
    MissingEndUseEvidence = "missing-end-use-evidence", Warning, "A controlled export without a general licence or certificate lacks facts a licence application needs (end user, end use, contract, end-user certificate).";
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
                | Code::ConfusableIdentifier
                | Code::UnknownSku
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

/// Where the diagnostic codes are documented: the link of a diagnostic
/// without a rule-specific source (`#<code>` appended), in SARIF and LSP alike.
pub const SPEC_URI: &str =
    "https://github.com/catalogue-lsp/catalogue-lsp/blob/main/docs/diagnostics.md";

/// At most this many related locations are attached to one diagnostic (a
/// name used 10 000 times would otherwise relate every use to every other);
/// the message says how many more there are.
pub const MAX_RELATED: usize = 10;

/// A file's stable id, given by a holder of results that outlives one
/// analysis (the language server numbers every file URI it sees, in order of
/// first sight; the numbers are never reused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub usize);

/// A file's index among the files analysed together (the engine's
/// `Workspace::files`; `check`'s files in order): valid for one analysis
/// only, unlike a [`FileId`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileIndex(pub usize);

/// Which file a related location is in. Each stage of the pipeline names
/// files its own way, and the variant says which way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileRef {
    /// The diagnostic's own file (the parser, which knows no other file).
    Same,
    /// A file of the run or workspace, by its index among the files analysed
    /// together (the engine; `check`'s files are in this order).
    Index(FileIndex),
    /// A file by its [`FileId`] (the language server, whose kept results
    /// outlive workspace indexes).
    Id(FileId),
}

/// A place in a file of the run or workspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    pub file: FileRef,
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

/// Why a rule asks what a diagnostic's message asks (what a licence
/// application needs, what a licence type covers): the same text for every
/// diagnostic of its code under one rule pack, so it is built once per pack
/// ([`crate::rules::Explanations`]) and shared, not copied into each
/// diagnostic. The language server sends the short message and shows this
/// in the hover on the diagnostic;
/// `check` prints the full text ([`Diagnostic::full_message`]): the message
/// with this inserted at [`Diagnostic::explanation_at`]. The text is as
/// inserted, with its joining punctuation (`": every export of a
/// controlled item … needs …"`). A thin pointer: 8 bytes in every
/// diagnostic, explained or not.
pub type Explanation = Arc<String>;

/// An explanation as a sentence of its own (the joining punctuation
/// removed), for a hover or `explain`.
pub fn sentence(text: &str) -> &str {
    text.trim_start_matches([':', ';', ',', '.', ' '])
}

/// A finding at a span of one file.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub span: Span,
    /// What is wrong and what to do: short, as the editor shows it.
    pub message: String,
    /// Why, shared by the diagnostics of its code (see [`Explanation`]).
    pub explanation: Option<Explanation>,
    /// Where the explanation goes in the full text: a byte offset into
    /// `message` (its end, or the character boundary before, when not one).
    pub explanation_at: u32,
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
            explanation: None,
            explanation_at: 0,
            sku: None,
            source: None,
            related: Vec::new(),
            fix: FixData::default(),
        }
    }
    /// The message with `text` inserted at byte `at` in its full form
    /// (`check`'s), the editor showing the message alone.
    pub fn with_explanation(mut self, at: usize, text: Explanation) -> Self {
        self.explanation = Some(text);
        self.explanation_at = u32::try_from(at).unwrap_or(u32::MAX);
        self
    }
    /// The explanation as a sentence of its own, for a hover.
    pub fn explanation_sentence(&self) -> Option<&str> {
        self.explanation.as_deref().map(|t| sentence(t))
    }
    /// The full text: the message with its explanation in place, as `check`
    /// prints it (borrowed when there is no explanation).
    pub fn full_message(&self) -> std::borrow::Cow<'_, str> {
        let Some(e) = &self.explanation else {
            return std::borrow::Cow::Borrowed(&self.message);
        };
        let mut at = (self.explanation_at as usize).min(self.message.len());
        while !self.message.is_char_boundary(at) {
            at -= 1;
        }
        let (head, tail) = self.message.split_at(at);
        let mut s = String::with_capacity(self.message.len() + e.len());
        s.push_str(head);
        s.push_str(e);
        s.push_str(tail);
        std::borrow::Cow::Owned(s)
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

/// Names longer than this (in characters) are only suggested for, or
/// suggested, on a case-insensitive exact match: the variants of a name
/// number its length, each as long as the name.
const SUGGEST_MAX_CHARS: usize = 64;

/// At most this many candidates are compared with one unknown name.
const SUGGEST_MAX_CANDIDATES: usize = 64;

/// "Did you mean" over a large set of names (the SKUs or licence ids of a
/// workspace) without comparing an unknown name with every one of them.
///
/// Candidates are the names that become equal to the unknown one,
/// ignoring case, after deleting at most one character from each
/// (symmetric deletion): a wrong, missing, extra or swapped character, or a
/// missing one and an extra one. Each name is indexed under the hashes of
/// itself and of its one-character deletions, so a lookup costs the length of
/// the unknown name, and at most [`SUGGEST_MAX_CANDIDATES`] candidates are
/// compared (the first by name order, so the answer depends only on the set
/// of names). Of the candidates, the nearest by edit distance wins, ties to
/// the smallest name, as with [`nearest`].
#[derive(Debug, Default)]
pub struct Suggestions {
    /// (hash of a variant, rank of the name in name order), sorted.
    keys: Vec<(u32, u32)>,
    /// Where the keys whose hash starts with each `bits`-bit prefix begin
    /// (one more entry at the end): a lookup is two reads, not a binary search.
    dir: Vec<u32>,
    bits: u32,
    /// The caller's id of the name of each rank.
    ids: Vec<u32>,
}

fn variant_hash(chars: &[char], skip: Option<usize>) -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = rustc_hash::FxBuildHasher.build_hasher();
    for (i, c) in chars.iter().enumerate() {
        if Some(i) != skip {
            h.write_u32(*c as u32);
        }
    }
    h.write_u8(0xff);
    let x = h.finish();
    (x ^ (x >> 32)) as u32
}

/// The lower-case characters of a name and the hashes of its variants (itself,
/// then each one-character deletion), without repeats.
fn variants(name: &str) -> (Vec<char>, Vec<u32>) {
    let chars: Vec<char> = name.to_lowercase().chars().collect();
    let mut hs = vec![variant_hash(&chars, None)];
    if chars.len() <= SUGGEST_MAX_CHARS {
        for i in 0..chars.len() {
            // Deleting either of two equal neighbours gives the same variant.
            if i > 0 && chars[i] == chars[i - 1] {
                continue;
            }
            hs.push(variant_hash(&chars, Some(i)));
        }
    }
    (chars, hs)
}

impl Suggestions {
    /// Indexes `names`; a name's id is its position in the list.
    pub fn new(names: &[&str]) -> Self {
        let mut order: Vec<u32> = (0..names.len() as u32).collect();
        order.sort_by(|&a, &b| names[a as usize].cmp(names[b as usize]));
        let mut keys = Vec::with_capacity(names.len() * 8);
        for (rank, &id) in order.iter().enumerate() {
            let (_, hs) = variants(names[id as usize]);
            keys.extend(hs.into_iter().map(|h| (h, rank as u32)));
        }
        keys.sort_unstable();
        keys.dedup();
        let bits = (usize::BITS - keys.len().leading_zeros())
            .saturating_sub(2)
            .clamp(1, 24);
        let mut dir = Vec::with_capacity((1 << bits) + 1);
        let mut k = 0;
        for prefix in 0..=(1u64 << bits) {
            while k < keys.len() && u64::from(keys[k].0 >> (32 - bits)) < prefix {
                k += 1;
            }
            dir.push(k as u32);
        }
        Suggestions {
            keys,
            dir,
            bits,
            ids: order,
        }
    }

    /// The keys of one variant hash.
    fn bucket(&self, h: u32) -> &[(u32, u32)] {
        let t = (h >> (32 - self.bits)) as usize;
        let (Some(&a), Some(&b)) = (self.dir.get(t), self.dir.get(t + 1)) else {
            return &[];
        };
        let keys = self.keys.get(a as usize..b as usize).unwrap_or_default();
        let from = keys.partition_point(|k| k.0 < h);
        let to = from + keys[from..].partition_point(|k| k.0 == h);
        &keys[from..to]
    }

    /// The id of the nearest name to `word` (see the type), with the work done
    /// (variants looked up plus candidates compared) for complexity tests.
    /// `name` gives the text of an id.
    pub fn nearest<'n>(
        &self,
        word: &str,
        name: impl Fn(u32) -> &'n str,
    ) -> (Option<&'n str>, usize) {
        let (lw, hs) = variants(word);
        let lw: String = lw.into_iter().collect();
        let mut work = hs.len();
        let mut seen: Vec<u32> = Vec::new();
        let mut best: Option<(usize, &str)> = None;
        'variants: for h in hs {
            for &(_, rank) in self.bucket(h) {
                if seen.contains(&rank) {
                    continue;
                }
                if seen.len() == SUGGEST_MAX_CANDIDATES {
                    break 'variants;
                }
                seen.push(rank);
                work += 1;
                let c = name(self.ids[rank as usize]);
                let d = strsim::damerau_levenshtein(&lw, &c.to_lowercase());
                if d <= (c.chars().count().max(3) / 3).max(2) && best.is_none_or(|b| (d, c) < b) {
                    best = Some((d, c));
                }
            }
        }
        (best.map(|(_, c)| c), work)
    }
}

impl Suggestions {
    /// What [`Suggestions::nearest`] would answer over one index of the
    /// names of `self` that `keep` keeps (by id) and all the names of
    /// `more`, the two sets disjoint: candidates are taken in the same
    /// order (variant by variant, each in name order), so a small index of
    /// the names an edit changed, laid over a large one, answers exactly as
    /// an index built afresh.
    pub fn nearest_merged<'n>(
        &self,
        keep: impl Fn(u32) -> bool,
        name: impl Fn(u32) -> &'n str,
        more: &Suggestions,
        more_name: impl Fn(u32) -> &'n str,
        word: &str,
    ) -> (Option<&'n str>, usize) {
        let (lw, hs) = variants(word);
        let lw: String = lw.into_iter().collect();
        let mut work = hs.len();
        let mut seen: Vec<&str> = Vec::new();
        let mut best: Option<(usize, &str)> = None;
        'variants: for h in hs {
            let mut a = self
                .bucket(h)
                .iter()
                .filter_map(|k| self.ids.get(k.1 as usize).copied())
                .filter(|&id| keep(id))
                .map(&name)
                .peekable();
            let mut b = more
                .bucket(h)
                .iter()
                .filter_map(|k| more.ids.get(k.1 as usize).copied())
                .map(&more_name)
                .peekable();
            loop {
                let c = match (a.peek(), b.peek()) {
                    (Some(x), Some(y)) if x <= y => a.next(),
                    (Some(_), Some(_)) => b.next(),
                    (Some(_), None) => a.next(),
                    (None, _) => b.next(),
                };
                let Some(c) = c else { break };
                if seen.contains(&c) {
                    continue;
                }
                if seen.len() == SUGGEST_MAX_CANDIDATES {
                    break 'variants;
                }
                seen.push(c);
                work += 1;
                let d = strsim::damerau_levenshtein(&lw, &c.to_lowercase());
                if d <= (c.chars().count().max(3) / 3).max(2) && best.is_none_or(|b| (d, c) < b) {
                    best = Some((d, c));
                }
            }
        }
        (best.map(|(_, c)| c), work)
    }
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

    fn suggest<'a>(word: &str, names: &[&'a str]) -> Option<&'a str> {
        Suggestions::new(names)
            .nearest(word, |i| names[i as usize])
            .0
    }

    #[test]
    fn suggestions_find_one_character_typos_like_nearest() {
        let names = [
            "GL-2026-0042",
            "IL-1",
            "PART-000123",
            "PART-000124",
            "licence",
        ];
        for (word, want) in [
            ("GL-2026-0O42", Some("GL-2026-0042")),  // wrong
            ("GL-2026-042", Some("GL-2026-0042")),   // missing
            ("GL-2026-00042", Some("GL-2026-0042")), // extra
            ("PRAT-000123", Some("PART-000123")),    // swapped
            ("part-000125", Some("PART-000123")),    // case, then ties to the smallest
            ("IL1-", Some("IL-1")),                  // missing and extra
            ("LICENCE", Some("licence")),
            ("zzzzzz", None),
            ("", None),
        ] {
            assert_eq!(suggest(word, &names), want, "{word}");
            if want.is_some() {
                assert_eq!(
                    nearest(word, names),
                    want,
                    "{word}: agrees with the full scan"
                );
            }
        }
        // The answer does not depend on the order of the names.
        let mut rev = names;
        rev.reverse();
        assert_eq!(suggest("part-000125", &rev), Some("PART-000123"));
    }

    #[test]
    fn suggestion_work_is_bounded_per_name() {
        // 5 000 names one character apart from the word: at most the cap is compared.
        let names: Vec<String> = (0..5000)
            .map(|i| format!("a{}", char::from_u32(0x4e00 + i).unwrap()))
            .collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let s = Suggestions::new(&refs);
        let (hit, work) = s.nearest("ab", |i| refs[i as usize]);
        assert!(hit.is_some());
        assert!(work <= 3 + SUGGEST_MAX_CANDIDATES, "{work}");
        // A very long word costs one lookup, not its length squared.
        let long = "x".repeat(100_000);
        let (hit, work) = s.nearest(&long, |i| refs[i as usize]);
        assert_eq!((hit, work), (None, 1));
    }

    /// `check`'s text is the message with the explanation in place; the
    /// message alone is what the editor gets.
    #[test]
    fn full_message_inserts_the_explanation() {
        let why: Explanation = Arc::new(": because the pack says so".into());
        let d = Diagnostic::new(Code::MissingLicence, Span::new(0, 1), "no licence. Set one")
            .with_explanation("no licence".len(), why.clone());
        assert_eq!(
            d.full_message(),
            "no licence: because the pack says so. Set one"
        );
        assert_eq!(d.message, "no licence. Set one");
        assert_eq!(d.explanation_sentence(), Some("because the pack says so"));
        // Past the end: appended; inside a character: before it (never a panic).
        let end = Diagnostic::new(Code::MissingLicence, Span::new(0, 1), "é")
            .with_explanation(usize::MAX, why.clone());
        assert_eq!(end.full_message(), "é: because the pack says so");
        let mid =
            Diagnostic::new(Code::MissingLicence, Span::new(0, 1), "é").with_explanation(1, why);
        assert_eq!(mid.full_message(), ": because the pack says soé");
        // No explanation: the message itself, borrowed.
        let plain = Diagnostic::new(Code::MissingLicence, Span::new(0, 1), "m");
        assert!(matches!(
            plain.full_message(),
            std::borrow::Cow::Borrowed("m")
        ));
    }

    /// Every diagnostic pays 8 bytes for its explanation, not 24.
    #[test]
    fn an_explanation_is_one_pointer() {
        assert_eq!(std::mem::size_of::<Option<Explanation>>(), 8);
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
