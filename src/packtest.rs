//! Rule-pack tests: the pack is tested like code. A test file holds cases
//! (a catalogue, an evaluation date, the expected verdict of each product,
//! the source the case encodes); `catalogue-lsp rules test` runs them with
//! the pack and reports coverage: every item, exclusion, licence rule and
//! guard of the pack exercised at least once. The default pack's tests are
//! `rules/tests/*.test.toml`, compiled in. Format: docs/rule-pack.md.

use crate::catalogue::{self, LicenceType};
use crate::diagnostic::Code;
use crate::engine::{Analysis, Options, Verdict};
use crate::rules::{RulePack, to_date};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::Arc;

/// The default pack's test files, compiled in: (name, text).
pub const EMBEDDED: &[(&str, &str)] = &[
    (
        "rules/tests/ann-18.test.toml",
        include_str!("../rules/tests/ann-18.test.toml"),
    ),
    (
        "rules/tests/ann-56-61-62.test.toml",
        include_str!("../rules/tests/ann-56-61-62.test.toml"),
    ),
    (
        "rules/tests/ann-57.test.toml",
        include_str!("../rules/tests/ann-57.test.toml"),
    ),
    (
        "rules/tests/exclusions.test.toml",
        include_str!("../rules/tests/exclusions.test.toml"),
    ),
    (
        "rules/tests/licences.test.toml",
        include_str!("../rules/tests/licences.test.toml"),
    ),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    case: Vec<RawCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: String,
    /// The instrument and article (or FAQ answer) the case encodes.
    source: String,
    as_of: toml::value::Datetime,
    catalogue: String,
    #[serde(default)]
    expect: Vec<RawExpect>,
    /// Diagnostic codes that must appear in the case (anywhere).
    #[serde(default)]
    diagnostics: Vec<String>,
    /// Diagnostic codes that must not appear.
    #[serde(default)]
    absent: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    sku: String,
    verdict: String,
    codes: Option<Vec<String>>,
    exclusion: Option<String>,
}

/// One failed expectation.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub file: String,
    pub case: String,
    pub source: String,
    pub message: String,
}

/// What the tests exercised, against what the pack holds.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Coverage {
    /// Items never matched: "code — title".
    pub items: Vec<String>,
    pub exclusions: Vec<String>,
    pub licence_types: Vec<String>,
    pub unmatched: Vec<String>,
    pub extraterritorial: Vec<String>,
    pub totals: (usize, usize),
}

impl Coverage {
    pub fn complete(&self) -> bool {
        self.items.is_empty()
            && self.exclusions.is_empty()
            && self.licence_types.is_empty()
            && self.unmatched.is_empty()
            && self.extraterritorial.is_empty()
    }
}

/// The result of a run.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Report {
    pub cases: usize,
    pub failures: Vec<Failure>,
    pub coverage: Coverage,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.failures.is_empty() && self.coverage.complete()
    }

    /// The human report.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for f in &self.failures {
            let _ = writeln!(
                s,
                "FAIL {}: {} [{}]\n  {}",
                f.file, f.case, f.source, f.message
            );
        }
        let c = &self.coverage;
        let _ = writeln!(
            s,
            "{} cases, {} failed; coverage: {} of {} rules exercised",
            self.cases,
            self.failures.len(),
            c.totals.0,
            c.totals.1
        );
        for (what, list) in [
            ("item", &c.items),
            ("exclusion", &c.exclusions),
            ("licence type", &c.licence_types),
            ("guard", &c.unmatched),
            ("extraterritorial rule", &c.extraterritorial),
        ] {
            for x in list {
                let _ = writeln!(s, "  not exercised: {what} {x}");
            }
        }
        if self.passed() {
            s.push_str("ok: every case passed and every rule of the pack is exercised\n");
        }
        s
    }
}

/// Runs test files (name, text) against `pack`. Errors: a file that is not
/// a valid test file (which file, what is wrong).
pub fn run(pack: &Arc<RulePack>, files: &[(String, String)]) -> Result<Report, String> {
    let mut report = Report::default();
    let mut items = vec![false; pack.items.len()];
    let mut exclusions = vec![false; pack.exclusions.len()];
    let mut guards = vec![false; pack.unmatched.len()];
    let mut limbs = vec![false; pack.extraterritorial.len()];
    let mut licence_types: BTreeSet<LicenceType> = BTreeSet::new();
    for (name, text) in files {
        let raw: RawFile =
            toml::from_str(text).map_err(|e| format!("{name}: not a rule-pack test file: {e}"))?;
        for case in raw.case {
            report.cases += 1;
            let as_of = to_date(&case.as_of)
                .ok_or_else(|| format!("{name}: case `{}`: as_of must be a date", case.name))?;
            let cat = catalogue::parse(&case.catalogue);
            let ws = Analysis::new().file(&cat, pack.clone()).build();
            let result = ws.analyse_file(0, &Options::on(as_of));
            let mut fail = |message: String| {
                report.failures.push(Failure {
                    file: name.clone(),
                    case: case.name.clone(),
                    source: case.source.clone(),
                    message,
                })
            };
            for l in &cat.licences {
                if let Some(k) = &l.kind {
                    licence_types.insert(k.value.clone());
                }
            }
            for p in &result.products {
                let c = &p.classification;
                for &i in &c.items {
                    if let Some(x) = items.get_mut(i) {
                        *x = true;
                    }
                }
                for d in &c.dormant {
                    for (n, it) in pack.items.iter().enumerate() {
                        if it.code == d.code && *it.title == *d.title {
                            items[n] = true;
                        }
                    }
                }
                if let Some(e) = &c.exclusion {
                    if let Some(n) = pack.exclusions.iter().position(|x| &x.id == e) {
                        exclusions[n] = true;
                    }
                }
                if let Some(g) = c.unmatched {
                    if let Some(x) = guards.get_mut(g) {
                        *x = true;
                    }
                }
                for &l in &c.limbs {
                    if let Some(x) = limbs.get_mut(l) {
                        *x = true;
                    }
                }
            }
            for e in &case.expect {
                let Some(p) = result
                    .products
                    .iter()
                    .find(|p| p.sku.as_deref() == Some(e.sku.as_str()))
                else {
                    fail(format!("no product with sku `{}` in the case", e.sku));
                    continue;
                };
                let c = &p.classification;
                let want = match e.verdict.as_str() {
                    "controlled" => Verdict::Controlled,
                    "excluded" => Verdict::Excluded,
                    "not-controlled" => Verdict::NotControlled,
                    "indeterminate" => Verdict::Indeterminate,
                    v => {
                        return Err(format!(
                            "{name}: case `{}`: unknown verdict `{v}`",
                            case.name
                        ));
                    }
                };
                if c.verdict != want {
                    fail(format!(
                        "{}: expected {}, got {} {}{}",
                        e.sku,
                        want.as_str(),
                        c.verdict.as_str(),
                        c.codes.join(", "),
                        if c.missing.is_empty() {
                            String::new()
                        } else {
                            format!(" (missing {})", c.missing.join(", "))
                        }
                    ));
                }
                if let Some(codes) = &e.codes {
                    if &c.codes != codes {
                        fail(format!(
                            "{}: expected codes [{}], got [{}]",
                            e.sku,
                            codes.join(", "),
                            c.codes.join(", ")
                        ));
                    }
                }
                if e.exclusion.is_some() && e.exclusion != c.exclusion {
                    fail(format!(
                        "{}: expected exclusion {:?}, got {:?}",
                        e.sku, e.exclusion, c.exclusion
                    ));
                }
            }
            let seen: BTreeSet<&str> = result.diagnostics.iter().map(|d| d.code.as_str()).collect();
            for code in &case.diagnostics {
                if Code::parse(code).is_none() {
                    return Err(format!(
                        "{name}: case `{}`: unknown diagnostic code `{code}`",
                        case.name
                    ));
                }
                if !seen.contains(code.as_str()) {
                    fail(format!("expected a `{code}` diagnostic; got {seen:?}"));
                }
            }
            for code in &case.absent {
                if seen.contains(code.as_str()) {
                    fail(format!("expected no `{code}` diagnostic"));
                }
            }
        }
    }
    let cov = &mut report.coverage;
    cov.items = pack
        .items
        .iter()
        .zip(&items)
        .filter(|(_, hit)| !**hit)
        .map(|(i, _)| format!("{} — {}", i.code, i.title))
        .collect();
    cov.exclusions = pack
        .exclusions
        .iter()
        .zip(&exclusions)
        .filter(|(_, hit)| !**hit)
        .map(|(e, _)| e.id.clone())
        .collect();
    cov.licence_types = pack
        .licence_rules
        .iter()
        .filter(|r| !licence_types.contains(&r.kind))
        .map(|r| r.kind.to_string())
        .collect();
    cov.unmatched = pack
        .unmatched
        .iter()
        .zip(&guards)
        .filter(|(_, hit)| !**hit)
        .map(|(u, _)| u.id.clone())
        .collect();
    cov.extraterritorial = pack
        .extraterritorial
        .iter()
        .zip(&limbs)
        .filter(|(_, hit)| !**hit)
        .map(|(l, _)| l.id.clone())
        .collect();
    let total = pack.items.len()
        + pack.exclusions.len()
        + pack.licence_rules.len()
        + pack.unmatched.len()
        + pack.extraterritorial.len();
    let missed = cov.items.len()
        + cov.exclusions.len()
        + cov.licence_types.len()
        + cov.unmatched.len()
        + cov.extraterritorial.len();
    cov.totals = (total - missed, total);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn embedded() -> Vec<(String, String)> {
        EMBEDDED
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect()
    }

    #[test]
    fn the_default_pack_passes_its_tests_with_full_coverage() {
        let r = run(&RulePack::embedded(), &embedded()).unwrap();
        assert!(r.passed(), "{}", r.render());
        assert!(r.cases > 20);
    }

    #[test]
    fn a_wrong_expectation_fails_and_names_the_case() {
        let files = vec![(
            "t.toml".to_string(),
            "[[case]]\nname = \"wrong\"\nsource = \"Ann. 18, 1C905.b\"\nas_of = 2026-06-01\ncatalogue = \"[[product]]\\nsku = 'P'\\nform = 'oxide'\\ncomposition = { Dy2O3 = 100 }\\n\"\nexpect = [{ sku = \"P\", verdict = \"not-controlled\" }]\n".to_string(),
        )];
        let r = run(&RulePack::embedded(), &files).unwrap();
        assert_eq!(r.failures.len(), 1);
        assert!(
            r.failures[0]
                .message
                .contains("expected not-controlled, got controlled")
        );
        // One case exercises one item: coverage is far from complete.
        assert!(!r.coverage.complete());
        assert!(r.coverage.items.iter().any(|i| i.starts_with("1C902.a.1")));
        assert!(!r.passed());
    }

    #[test]
    fn a_bad_test_file_is_an_error() {
        let files = vec![("t.toml".to_string(), "[[case]]\nname = 1\n".to_string())];
        assert!(
            run(&RulePack::embedded(), &files)
                .unwrap_err()
                .starts_with("t.toml:")
        );
    }
}
