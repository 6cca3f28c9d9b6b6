//! The rule pack: controlled items, exclusions and licence rules as data,
//! each record with its instrument, article and source, and the instruments'
//! effective dates and suspension windows. Owns loading and validating packs
//! (the embedded default or a file) and answering "is this instrument in
//! force on date D". Format: docs/rule-pack.md.

use crate::catalogue::{Form, LicenceType, Purpose, TechnologyArea};
use crate::chem::Element;
use crate::diagnostic::{Explanation, SourceRef};
use crate::vocab::{Name, Term, Vocabulary};
use jiff::civil::Date;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::{Arc, OnceLock};
use toml::Spanned;

/// The default pack, compiled in.
pub const EMBEDDED: &str = include_str!("../rules/default.toml");

/// A rule pack that failed to load: which file, which line, what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct PackError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for PackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: bad rule pack: {}", self.file, l, self.message),
            None => write!(f, "{}: bad rule pack: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for PackError {}

/// How an item's elements are matched against a composition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchMode {
    /// The single element is the product's largest constituent (metals).
    Largest,
    /// All elements present; among matching systems, those with the most elements win.
    System,
    /// All elements present.
    Contains,
}

/// A suspension window, both ends inclusive.
#[derive(Clone, Debug, PartialEq)]
pub struct Suspension {
    pub by: usize,
    pub from: Date,
    pub until: Date,
    pub note: String,
    /// What the pack knows of the days after `until` (contract §6).
    pub after: After,
}

/// What happened when a suspension reached its scheduled end.
#[derive(Clone, Debug, PartialEq)]
pub enum After {
    /// A source confirms the instrument applies again after the window.
    Confirmed { source: String },
    /// No source confirms what happened: the status after the window is
    /// `unconfirmed`; the pack applies `assumption` (the careful reading) and
    /// names the other reading and what the sources say.
    Unconfirmed {
        assumption: String,
        other_reading: String,
        sources: String,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Instrument {
    pub id: String,
    pub title: Arc<str>,
    pub issued: Option<Date>,
    pub effective: Option<Date>,
    pub url: Arc<str>,
    pub confidence: String,
    pub note: String,
    pub suspensions: Vec<Suspension>,
}

/// An instrument's status on a date (contract §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    InForce,
    NotYetEffective {
        effective: Date,
    },
    Suspended {
        by: usize,
        until: Date,
    },
    /// After the scheduled end of suspension `suspension` of this instrument,
    /// with no source confirming what happened then. Applied as in force
    /// (the careful reading); every verdict resting on it says so.
    Unconfirmed {
        by: usize,
        ended: Date,
        suspension: usize,
    },
}

impl Status {
    /// Whether the instrument's items are applied on the date: in force, or
    /// unconfirmed and read as in force.
    pub fn applies(self) -> bool {
        matches!(self, Status::InForce | Status::Unconfirmed { .. })
    }
    /// The contract's name of the status.
    pub fn name(self) -> &'static str {
        match self {
            Status::InForce => "in-force",
            Status::NotYetEffective { .. } => "not-yet-in-force",
            Status::Suspended { .. } => "suspended",
            Status::Unconfirmed { .. } => "unconfirmed",
        }
    }
}

impl Instrument {
    pub fn status(&self, date: Date) -> Status {
        self.status_from(self.effective, date)
    }

    /// The status on `date` of a provision of this instrument that takes
    /// effect on `effective` (Ann. 61/2025: its limbs have their own dates).
    pub fn status_from(&self, effective: Option<Date>, date: Date) -> Status {
        if let Some(s) = self
            .suspensions
            .iter()
            .find(|s| s.from <= date && date <= s.until)
        {
            return Status::Suspended {
                by: s.by,
                until: s.until,
            };
        }
        if let Some(e) = effective.filter(|e| date < *e) {
            return Status::NotYetEffective { effective: e };
        }
        // The latest window that ended before the date decides what is known.
        let last = self
            .suspensions
            .iter()
            .enumerate()
            .filter(|(_, s)| s.until < date)
            .max_by_key(|(_, s)| s.until);
        match last {
            Some((i, s)) if matches!(s.after, After::Unconfirmed { .. }) => Status::Unconfirmed {
                by: s.by,
                ended: s.until,
                suspension: i,
            },
            _ => Status::InForce,
        }
    }
}

/// A controlled item of the list.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// Position in `RulePack::items` (coverage, `rules test`).
    pub index: usize,
    pub code: String,
    pub instrument: usize,
    pub article: Arc<str>,
    /// Shared: every classification that matches it names it.
    pub title: Arc<str>,
    pub title_zh: String,
    pub forms: Vec<Form>,
    pub possible_forms: Vec<Form>,
    /// `Vocabulary::bit` of each of `forms` and `possible_forms`: a form
    /// whose bit is not set is not among them (one test per item).
    pub form_mask: u128,
    pub possible_mask: u128,
    pub elements: Vec<Element>,
    /// Groups of alternatives: at least one element of each group present
    /// (`[["Nd", "Pr"]]`: neodymium or praseodymium).
    pub any_of: Vec<Vec<Element>>,
    pub mode: MatchMode,
    /// Fact tests: the item matches a product that states one of these
    /// CAS numbers, collector classes or technology areas (Ann. 56, 62).
    pub cas: Vec<String>,
    pub collectors: Vec<String>,
    pub technology_area: Vec<TechnologyArea>,
    pub hs_codes: Vec<String>,
    pub confidence: String,
    /// Fields whose confidence differs from the record's (`hs_codes` → `P`).
    pub field_confidence: Vec<(String, String)>,
    pub note: String,
}

impl Item {
    /// Whether the item is matched by stated facts rather than by elements.
    pub fn by_facts(&self) -> bool {
        !(self.cas.is_empty() && self.collectors.is_empty() && self.technology_area.is_empty())
    }
}

/// A part of Ann. 61/2025's Annex 1 (the items its extraterritorial rules
/// reach): the list items it consists of, by code, and entries with no list
/// code, by match.
#[derive(Clone, Debug, PartialEq)]
pub struct AnnexPart {
    pub id: String,
    pub instrument: usize,
    pub article: Arc<str>,
    pub title: String,
    /// Control codes (each covering its sub-items) of the list items that are
    /// entries of this part; a part or good containing one is one too.
    pub items: Vec<String>,
    /// Entries with no list code: (form, elements, any_of groups, title).
    pub matches: Vec<AnnexMatch>,
    /// Part and good forms that contain an entry but may or may not be a
    /// "part, component or assembly" of the annex: indeterminate.
    pub possible_forms: Vec<Form>,
    pub confidence: String,
    pub note: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AnnexMatch {
    pub title: Arc<str>,
    pub forms: Vec<Form>,
    pub elements: Vec<Element>,
    pub any_of: Vec<Vec<Element>>,
}

/// The fact an extraterritorial limb tests.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AbroadTest {
    /// Made abroad, with Chinese-origin Part I material at or above this
    /// percent of the value (Ann. 61 §1(1)).
    CnContentValue(f64),
    /// Made abroad using Chinese-origin rare-earth technology (§1(2)).
    CnTechnology,
    /// The item itself is of Chinese origin (§1(3)).
    CnOrigin,
}

/// A limb of Ann. 61/2025 §1: exports by operators abroad that need a
/// MOFCOM licence.
#[derive(Clone, Debug, PartialEq)]
pub struct Extraterritorial {
    pub id: String,
    pub instrument: usize,
    pub article: Arc<str>,
    pub title: String,
    pub title_zh: String,
    /// The limb's own effective date (else the instrument's).
    pub effective: Option<Date>,
    /// Indices into `RulePack::annex`.
    pub annex: Vec<usize>,
    pub test: AbroadTest,
    pub confidence: String,
    pub note: String,
}

/// A guard against false clearance: a product of one of `forms` that
/// contains one of `elements` but matches no item (in force or not) is
/// `indeterminate`, never `not-controlled` (contract §5: a magnet with a
/// listed element that matches no listed family).
#[derive(Clone, Debug, PartialEq)]
pub struct Unmatched {
    pub id: String,
    pub forms: Vec<Form>,
    pub elements: Vec<Element>,
    pub instrument: usize,
    pub article: Arc<str>,
    pub explanation: String,
}

/// A product field an exclusion condition tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CondField {
    Mounting,
    Integrates,
    Moulded,
    Calcined,
    Category,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Test {
    Equals(bool),
    In(Vec<String>),
    AnyOf(Vec<String>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    pub field: CondField,
    pub test: Test,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Applies {
    Always,
    Any(Vec<Condition>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Exclusion {
    pub id: String,
    pub title: String,
    pub scope: Vec<usize>,
    /// Control codes (each covering its sub-items) of the `scope` items it
    /// takes out; `None`: every item of its scope. Other items stay
    /// controlled (the downstream-product exclusion concerns magnets).
    pub items: Option<Vec<String>>,
    pub forms: Vec<Form>,
    pub applies: Applies,
    pub instrument: usize,
    pub article: Arc<str>,
    pub confidence: String,
    pub text_zh: String,
    pub explanation: String,
}

impl Exclusion {
    /// Whether it takes the item `code` of `instrument` out of control: an
    /// item of its scope, and one of its `items` when it names them.
    pub fn takes(&self, codes: &crate::vocab::CodeGrammar, instrument: usize, code: &str) -> bool {
        self.scope.contains(&instrument)
            && self
                .items
                .as_ref()
                .is_none_or(|v| v.iter().any(|c| codes.covers(c, code)))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndUserRule {
    ExactlyOne,
    OneOrMore,
    Any,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LicenceRule {
    pub kind: LicenceType,
    /// The noun messages use ("individual licence", "export certificate").
    pub name: String,
    /// Its indefinite article ("an"), from the pack or the first letter.
    pub indefinite_article: String,
    pub title: String,
    pub max_validity_years: Option<u32>,
    pub end_users: EndUserRule,
    /// The usual purposes, for a type that serves only some (`None`: any).
    pub purposes: Option<Vec<Purpose>>,
    pub instrument: usize,
    pub article: Arc<str>,
    pub confidence: String,
    pub explanation: String,
}

/// What a licence type allows, in the terms the checks compare (the pack
/// declares them; no check names a type).
impl LicenceRule {
    /// It covers exactly one end user (the individual licence).
    pub fn single_end_user(&self) -> bool {
        self.end_users == EndUserRule::ExactlyOne
    }
    /// It covers one or more named end users and several exports (the
    /// general licence).
    pub fn is_general(&self) -> bool {
        self.end_users == EndUserRule::OneOrMore
    }
    /// It serves only some purposes (the export certificate).
    pub fn restricts_purposes(&self) -> bool {
        self.purposes.is_some()
    }
    /// "an individual licence": the name with its article.
    pub fn a_name(&self) -> String {
        format!("{} {}", self.indefinite_article, self.name)
    }
}

/// A loaded, validated rule pack.
#[derive(Clone, Debug, PartialEq)]
pub struct RulePack {
    pub id: String,
    pub version: String,
    pub title: String,
    pub reviewed_through: Date,
    pub note: String,
    pub sha256: String,
    /// `embedded` or the file path it was loaded from.
    pub origin: String,
    pub instruments: Vec<Instrument>,
    pub items: Vec<Item>,
    pub unmatched: Vec<Unmatched>,
    pub annex: Vec<AnnexPart>,
    pub extraterritorial: Vec<Extraterritorial>,
    pub exclusions: Vec<Exclusion>,
    pub licence_rules: Vec<LicenceRule>,
    pub transfers: Vec<(String, String)>,
    pub transfer_source: (usize, Arc<str>, String),
    /// The jurisdiction's words: forms, purposes, transfers, the code
    /// grammar, the regulator.
    pub vocab: Vocabulary,
    /// The diagnostics' explanations under this pack, built on first use
    /// ([`RulePack::explanations`]).
    pub explained: Explained,
}

/// The texts explaining why diagnostics ask what they ask under one pack
/// (see [`crate::diagnostic::Explanation`]): built once per pack, then
/// every diagnostic of a code holds a pointer to the same copy. Read with no
/// lock: a million diagnostics made on several threads pay one atomic load
/// each.
#[derive(Debug)]
pub struct Explanations {
    /// `missing-licence`: ": every export of a controlled item, whether
    /// …, needs …".
    pub every_export_needs: Explanation,
    /// `missing-end-use-evidence`: ": a licence application to … needs …".
    pub application_needs: Explanation,
    /// Per licence rule (as `RulePack::licence_rules`): " " and the rule's
    /// explanation.
    licence_rules: Vec<Explanation>,
    /// Per instrument, per suspension window ending `unconfirmed`: " ", what
    /// the pack assumes after it, "." (`unconfirmed-status`).
    unconfirmed: Vec<Vec<Option<Explanation>>>,
}

impl Explanations {
    fn new(pack: &RulePack) -> Self {
        Explanations {
            every_export_needs: Arc::new(Self::every_export_text(pack)),
            application_needs: Arc::new(Self::application_text(pack)),
            licence_rules: pack
                .licence_rules
                .iter()
                .map(|r| Arc::new(format!(" {}", r.explanation)))
                .collect(),
            unconfirmed: pack
                .instruments
                .iter()
                .enumerate()
                .map(|(inst, i)| {
                    (0..i.suspensions.len())
                        .map(|w| {
                            Self::unconfirmed_text(pack, inst, Self::window_end(pack, inst, w)?)
                        })
                        .collect()
                })
                .collect(),
        }
    }

    /// `missing-licence`'s explanation: every kind of transfer needs one of
    /// the pack's licence types.
    fn every_export_text(pack: &RulePack) -> String {
        let transfers: Vec<String> = pack
            .vocab
            .transfers
            .iter()
            .filter(|t| t.id != "other")
            .map(|t| t.id.to_string())
            .collect();
        let types: Vec<_> = pack.licence_rules.iter().map(|r| r.a_name()).collect();
        format!(
            ": every export of a controlled item, whether {}, needs {}",
            crate::vocab::or_list(&transfers),
            crate::vocab::or_list(&types),
        )
    }

    /// `missing-end-use-evidence`'s explanation: what a licence application
    /// needs and how long the regulator takes, in the pack's words (a pack
    /// that says neither gets no invented list or period).
    fn application_text(pack: &RulePack) -> String {
        let v = &pack.vocab;
        let mut s = match &v.application_needs {
            Some(needs) => format!(": a licence application to {} needs {needs}", v.regulator),
            None => format!(": a licence application to {} needs them", v.regulator),
        };
        if let Some(d) = v.decision_period() {
            s.push_str("; ");
            s.push_str(&d);
        }
        s
    }

    /// The status right after suspension window `w` of instrument `inst`,
    /// when the pack does not know what came then.
    fn window_end(pack: &RulePack, inst: usize, w: usize) -> Option<Status> {
        let s = pack.instruments.get(inst)?.suspensions.get(w)?;
        matches!(s.after, After::Unconfirmed { .. }).then_some(Status::Unconfirmed {
            by: s.by,
            ended: s.until,
            suspension: w,
        })
    }

    fn unconfirmed_text(pack: &RulePack, inst: usize, status: Status) -> Option<Explanation> {
        pack.assumption_text(inst, status)
            .map(|t| Arc::new(format!(" {t}.")))
    }

    /// The explanation of the findings on a licence of type `rule` (one of
    /// the pack's rules; another gets its own copy).
    pub fn licence_rule(&self, pack: &RulePack, rule: &LicenceRule) -> Explanation {
        match pack
            .licence_rules
            .iter()
            .position(|r| std::ptr::eq(r, rule))
            .and_then(|i| self.licence_rules.get(i))
        {
            Some(t) => t.clone(),
            None => Arc::new(format!(" {}", rule.explanation)),
        }
    }

    /// `unconfirmed-status`'s explanation for a verdict resting on
    /// instrument `inst` in `status`: what the pack assumes and what the
    /// sources say. `None` when the status is not `unconfirmed`.
    pub fn unconfirmed(&self, pack: &RulePack, inst: usize, status: Status) -> Option<Explanation> {
        let Status::Unconfirmed { suspension, .. } = status else {
            return None;
        };
        match self.unconfirmed.get(inst).and_then(|ws| ws.get(suspension)) {
            // The status every date after the window has (`status_from`).
            Some(t) if Self::window_end(pack, inst, suspension) == Some(status) => t.clone(),
            _ => Self::unconfirmed_text(pack, inst, status),
        }
    }
}

/// [`Explanations`] made on first use. Derived from the rest of the pack,
/// so it takes no part in comparing packs; a clone shares them (a pack is
/// not changed after it is loaded).
#[derive(Clone, Debug, Default)]
pub struct Explained(OnceLock<Arc<Explanations>>);

impl PartialEq for Explained {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

static DEFAULT: OnceLock<Arc<RulePack>> = OnceLock::new();

impl RulePack {
    /// The embedded default pack (validated by the test suite, so loading cannot fail at run time).
    pub fn embedded() -> Arc<RulePack> {
        DEFAULT
            .get_or_init(|| match RulePack::parse(EMBEDDED, "embedded") {
                Ok(p) => Arc::new(p),
                Err(e) => panic!("the embedded rule pack is invalid: {e}"),
            })
            .clone()
    }

    /// Loads a pack file the user named (`--rules`, the `rules` setting):
    /// anywhere, but through the guarded reader (a regular file of bounded
    /// size; never a FIFO or device).
    pub fn load(path: &Path) -> Result<RulePack, PackError> {
        RulePack::load_within(path, None)
    }

    /// Loads a pack file through the guarded reader (`fsread`), its resolved
    /// path inside `within` when given (a pack named by a catalogue).
    pub fn load_within(
        path: &Path,
        within: Option<crate::fsread::Within>,
    ) -> Result<RulePack, PackError> {
        let file = crate::fsread::shown(path);
        let text = crate::fsread::read_text(path, &crate::fsread::Guard::rule_pack(within))
            .map_err(|message| PackError {
                file: file.clone(),
                line: None,
                message,
            })?;
        RulePack::parse(&text, &file)
    }

    /// Parses and validates pack text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<RulePack, PackError> {
        let line_of = |off: usize| {
            text[..crate::text::floor_char_boundary(text, off)]
                .lines()
                .count()
                .max(1)
        };
        let err = |span: Option<std::ops::Range<usize>>, m: String| PackError {
            file: origin.to_string(),
            line: span.map(|s| line_of(s.start + 1)),
            message: m,
        };
        let raw: RawPack =
            toml::from_str(text).map_err(|e| err(e.span(), e.message().trim().to_string()))?;
        let date = |d: &Spanned<toml::value::Datetime>, what: &str| -> Result<Date, PackError> {
            to_date(d.get_ref()).ok_or_else(|| {
                err(
                    Some(d.span()),
                    format!("{what} must be a date like 2026-07-31"),
                )
            })
        };
        let mut instruments: Vec<Instrument> = Vec::new();
        for ri in &raw.instrument {
            let i = ri.get_ref();
            if instruments.iter().any(|x| x.id == i.id) {
                return Err(err(
                    Some(ri.span()),
                    format!("instrument `{}` is defined twice", i.id),
                ));
            }
            instruments.push(Instrument {
                id: i.id.clone(),
                title: i.title.as_str().into(),
                issued: i.issued.as_ref().map(|d| date(d, "issued")).transpose()?,
                effective: i
                    .effective
                    .as_ref()
                    .map(|d| date(d, "effective"))
                    .transpose()?,
                url: i.url.as_str().into(),
                confidence: i.confidence.clone(),
                note: i.note.clone().unwrap_or_default(),
                suspensions: Vec::new(),
            });
        }
        let ids: Vec<String> = instruments.iter().map(|x| x.id.clone()).collect();
        let find_inst = |id: &str, span: std::ops::Range<usize>| -> Result<usize, PackError> {
            ids.iter().position(|x| x == id).ok_or_else(|| {
                err(
                    Some(span),
                    format!("unknown instrument `{id}`; defined: {}", ids.join(", ")),
                )
            })
        };
        let mut suspensions = Vec::new();
        for (idx, ri) in raw.instrument.iter().enumerate() {
            for s in &ri.get_ref().suspension {
                let by = find_inst(&s.by, ri.span())?;
                let (from, until) = (
                    date(&s.from, "suspension from")?,
                    date(&s.until, "suspension until")?,
                );
                if until < from {
                    return Err(err(
                        Some(s.until.span()),
                        "suspension ends before it starts".into(),
                    ));
                }
                suspensions.push((
                    idx,
                    Suspension {
                        by,
                        from,
                        until,
                        note: s.note.clone().unwrap_or_default(),
                        after: after(s.after.as_ref()).map_err(|m| err(Some(s.until.span()), m))?,
                    },
                ));
            }
        }
        for (idx, s) in suspensions {
            instruments[idx].suspensions.push(s);
        }
        let vocab = crate::vocab::build(
            &raw.vocabulary,
            &raw.form,
            &raw.purpose,
            raw.transfer
                .iter()
                .map(|t| Term {
                    id: Name::new(&t.id),
                    description: t.title.clone(),
                })
                .collect(),
            &|id| {
                ids.iter()
                    .position(|x| x == id)
                    .ok_or_else(|| format!("unknown instrument `{id}`"))
            },
        )
        .map_err(|(span, m)| err(span, m))?;
        let forms = |v: &[Spanned<String>]| -> Result<Vec<Form>, PackError> {
            v.iter()
                .map(|f| match vocab.form(f.get_ref()) {
                    Some(d) => Ok(d.id.clone()),
                    None => Err(err(
                        Some(f.span()),
                        format!(
                            "unknown form `{}`; forms: {}",
                            f.get_ref(),
                            vocab.form_names().join(", ")
                        ),
                    )),
                })
                .collect()
        };
        let elements_of = |v: &[Spanned<String>], what: &str| -> Result<Vec<Element>, PackError> {
            v.iter()
                .map(|e| {
                    Element::from_symbol(e.get_ref()).ok_or_else(|| {
                        err(
                            Some(e.span()),
                            format!("{what}: `{}` is not an element symbol", e.get_ref()),
                        )
                    })
                })
                .collect()
        };
        let mut items = Vec::new();
        for ri in &raw.item {
            let i = ri.get_ref();
            if !vocab.codes.is_code(&i.code) {
                return Err(err(
                    Some(ri.span()),
                    format!(
                        "`{}` is not a control code like {} (vocabulary.code_pattern)",
                        i.code, vocab.codes.example
                    ),
                ));
            }
            let what = format!("item {}", i.code);
            let elements = elements_of(&i.r#match.elements, &what)?;
            let any_of = i
                .r#match
                .any_of
                .iter()
                .map(|g| elements_of(g, &what))
                .collect::<Result<Vec<_>, _>>()?;
            if any_of.iter().any(|g| g.is_empty()) {
                return Err(err(
                    Some(ri.span()),
                    format!("item {}: an `any_of` group is empty", i.code),
                ));
            }
            let technology_area = i
                .r#match
                .technology_area
                .iter()
                .map(|a| {
                    TechnologyArea::parse(a).ok_or_else(|| {
                        err(
                            Some(ri.span()),
                            format!(
                                "item {}: unknown technology area `{a}`; areas: {}",
                                i.code,
                                TechnologyArea::names().join(", ")
                            ),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(bad) = i
                .r#match
                .cas
                .iter()
                .find(|c| !crate::catalogue::parse::is_cas_number(c))
            {
                return Err(err(
                    Some(ri.span()),
                    format!("item {}: `{bad}` is not a valid CAS number", i.code),
                ));
            }
            let facts = !(i.r#match.cas.is_empty()
                && i.r#match.collectors.is_empty()
                && technology_area.is_empty());
            if elements.is_empty() && any_of.is_empty() && !facts {
                return Err(err(
                    Some(ri.span()),
                    format!(
                        "item {} matches nothing: give match.elements, match.any_of, or a fact test (cas, collectors, technology_area)",
                        i.code
                    ),
                ));
            }
            let mode = match i.r#match.mode.as_str() {
                "largest" => MatchMode::Largest,
                "system" => MatchMode::System,
                "contains" => MatchMode::Contains,
                m => {
                    return Err(err(
                        Some(ri.span()),
                        format!(
                            "item {}: unknown match mode `{m}`; modes: largest, system, contains",
                            i.code
                        ),
                    ));
                }
            };
            if mode == MatchMode::Largest && elements.len() != 1 {
                return Err(err(
                    Some(ri.span()),
                    format!(
                        "item {}: mode \"largest\" takes exactly one element",
                        i.code
                    ),
                ));
            }
            items.push(Item {
                index: items.len(),
                code: i.code.clone(),
                instrument: find_inst(&i.instrument, ri.span())?,
                article: i.article.as_str().into(),
                title: i.title.as_str().into(),
                title_zh: i.title_zh.clone().unwrap_or_default(),
                form_mask: vocab.mask(&forms(&i.r#match.forms)?),
                possible_mask: vocab.mask(&forms(&i.r#match.possible_forms)?),
                forms: forms(&i.r#match.forms)?,
                possible_forms: forms(&i.r#match.possible_forms)?,
                elements,
                any_of,
                mode,
                cas: i.r#match.cas.clone(),
                collectors: i.r#match.collectors.clone(),
                technology_area,
                hs_codes: i.hs_codes.clone(),
                confidence: i.confidence.clone(),
                field_confidence: {
                    let mut v = Vec::new();
                    for (k, c) in &i.field_confidence {
                        if !["code", "title", "title_zh", "hs_codes", "match"].contains(&k.as_str())
                            || !["V", "S", "P", "?"].contains(&c.as_str())
                        {
                            return Err(err(
                                Some(ri.span()),
                                format!(
                                    "item {}: field_confidence takes code, title, title_zh, hs_codes or match = \"V\" | \"S\" | \"P\" | \"?\", not {k} = \"{c}\"",
                                    i.code
                                ),
                            ));
                        }
                        v.push((k.clone(), c.clone()));
                    }
                    v
                },
                note: i.note.clone().unwrap_or_default(),
            });
        }
        let mut unmatched = Vec::new();
        for ru in &raw.unmatched {
            let u = ru.get_ref();
            unmatched.push(Unmatched {
                id: u.id.clone(),
                forms: forms(&u.forms)?,
                elements: elements_of(&u.elements, &format!("unmatched {}", u.id))?,
                instrument: find_inst(&u.instrument, ru.span())?,
                article: u.article.as_str().into(),
                explanation: u.explanation.clone(),
            });
        }
        let mut annex: Vec<AnnexPart> = Vec::new();
        for ra in &raw.annex {
            let a = ra.get_ref();
            let what = format!("annex {}", a.id);
            if let Some(bad) = a.items.iter().find(|c| !vocab.codes.is_code(c)) {
                return Err(err(
                    Some(ra.span()),
                    format!("{what}: `{bad}` is not a control code"),
                ));
            }
            let mut matches = Vec::new();
            for m in &a.r#match {
                let elements = elements_of(&m.elements, &what)?;
                let any_of = m
                    .any_of
                    .iter()
                    .map(|g| elements_of(g, &what))
                    .collect::<Result<Vec<_>, _>>()?;
                if elements.is_empty() && (any_of.is_empty() || any_of.iter().any(|g| g.is_empty()))
                {
                    return Err(err(
                        Some(ra.span()),
                        format!("{what}: a match needs elements or non-empty any_of groups"),
                    ));
                }
                matches.push(AnnexMatch {
                    title: m.title.as_str().into(),
                    forms: forms(&m.forms)?,
                    elements,
                    any_of,
                });
            }
            annex.push(AnnexPart {
                id: a.id.clone(),
                instrument: find_inst(&a.instrument, ra.span())?,
                article: a.article.as_str().into(),
                title: a.title.clone(),
                items: a.items.clone(),
                matches,
                possible_forms: forms(&a.possible_forms)?,
                confidence: a.confidence.clone(),
                note: a.note.clone().unwrap_or_default(),
            });
        }
        let mut extraterritorial = Vec::new();
        for rx in &raw.extraterritorial {
            let x = rx.get_ref();
            let test = match (x.test.as_str(), x.threshold) {
                ("cn-content-value", Some(t)) if t.is_finite() && (0.0..=100.0).contains(&t) => {
                    AbroadTest::CnContentValue(t)
                }
                ("cn-technology", None) => AbroadTest::CnTechnology,
                ("cn-origin", None) => AbroadTest::CnOrigin,
                (t, _) => {
                    return Err(err(
                        Some(rx.span()),
                        format!(
                            "extraterritorial {}: test `{t}` must be \"cn-content-value\" (with a `threshold` percent), \"cn-technology\" or \"cn-origin\" (no threshold)",
                            x.id
                        ),
                    ));
                }
            };
            let parts = x
                .annex
                .iter()
                .map(|id| {
                    annex.iter().position(|a| &a.id == id).ok_or_else(|| {
                        err(
                            Some(rx.span()),
                            format!("extraterritorial {}: unknown annex part `{id}`", x.id),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            extraterritorial.push(Extraterritorial {
                id: x.id.clone(),
                instrument: find_inst(&x.instrument, rx.span())?,
                article: x.article.as_str().into(),
                title: x.title.clone(),
                title_zh: x.title_zh.clone().unwrap_or_default(),
                effective: x
                    .effective
                    .as_ref()
                    .map(|d| date(d, "effective"))
                    .transpose()?,
                annex: parts,
                test,
                confidence: x.confidence.clone(),
                note: x.note.clone().unwrap_or_default(),
            });
        }
        let mut exclusions = Vec::new();
        for re in &raw.exclusion {
            let e = re.get_ref();
            let applies = match &e.applies {
                RawApplies::Word(w) if w == "always" => Applies::Always,
                RawApplies::Word(w) => {
                    return Err(err(
                        Some(re.span()),
                        format!(
                            "exclusion {}: `applies` must be \"always\" or {{ any = [...] }}, not \"{w}\"",
                            e.id
                        ),
                    ));
                }
                RawApplies::Any { any } => Applies::Any(
                    any.iter()
                        .map(|c| {
                            condition(c).map_err(|m| {
                                err(Some(re.span()), format!("exclusion {}: {m}", e.id))
                            })
                        })
                        .collect::<Result<_, _>>()?,
                ),
            };
            let scope: Vec<usize> = e
                .scope
                .iter()
                .map(|s| find_inst(s, re.span()))
                .collect::<Result<_, _>>()?;
            if let Some(codes) = &e.items {
                if codes.is_empty() {
                    return Err(err(
                        Some(re.span()),
                        format!(
                            "exclusion {}: `items` is empty (leave it out to take out every item of the scope)",
                            e.id
                        ),
                    ));
                }
                for code in codes {
                    if !vocab.codes.is_code(code) {
                        return Err(err(
                            Some(re.span()),
                            format!("exclusion {}: `{code}` is not a control code", e.id),
                        ));
                    }
                    // A code that names no item of the scope would silently
                    // take out nothing: a typo must not drop the exclusion.
                    if !items.iter().any(|i: &Item| {
                        scope.contains(&i.instrument) && vocab.codes.covers(code, &i.code)
                    }) {
                        return Err(err(
                            Some(re.span()),
                            format!("exclusion {}: `{code}` covers no item of its scope", e.id),
                        ));
                    }
                }
            }
            exclusions.push(Exclusion {
                id: e.id.clone(),
                title: e.title.clone(),
                scope,
                items: e.items.clone(),
                forms: forms(&e.forms)?,
                applies,
                instrument: find_inst(&e.instrument, re.span())?,
                article: e.article.as_str().into(),
                confidence: e.confidence.clone(),
                text_zh: e.text_zh.clone().unwrap_or_default(),
                explanation: e.explanation.clone(),
            });
        }
        let mut licence_rules = Vec::new();
        for rl in &raw.licence_type {
            let l = rl.get_ref();
            if l.id.is_empty()
                || licence_rules
                    .iter()
                    .any(|r: &LicenceRule| r.kind == l.id.as_str())
            {
                return Err(err(
                    Some(rl.span()),
                    format!("licence type `{}` is empty or defined twice", l.id),
                ));
            }
            let kind = LicenceType::new(&l.id);
            let name = l
                .name
                .clone()
                .unwrap_or_else(|| format!("{} licence", l.id));
            let end_users = match l.end_users.as_str() {
                "exactly-one" => EndUserRule::ExactlyOne,
                "one-or-more" => EndUserRule::OneOrMore,
                "any" => EndUserRule::Any,
                o => {
                    return Err(err(
                        Some(rl.span()),
                        format!(
                            "licence type {}: end_users must be exactly-one, one-or-more or any, not `{o}`",
                            l.id
                        ),
                    ));
                }
            };
            let purposes = match &l.purposes {
                None => None,
                Some(ps) => Some(
                    ps.iter()
                        .map(|p| match vocab.purpose(p) {
                            Some(d) => Ok(d.id.clone()),
                            None => Err(err(
                                Some(rl.span()),
                                format!(
                                    "licence type {}: unknown purpose `{p}`; purposes: {}",
                                    l.id,
                                    vocab.purpose_names().join(", ")
                                ),
                            )),
                        })
                        .collect::<Result<_, _>>()?,
                ),
            };
            licence_rules.push(LicenceRule {
                name: name.clone(),
                indefinite_article: l
                    .indefinite_article
                    .clone()
                    .unwrap_or_else(|| crate::vocab::article(&name).to_string()),
                kind,
                title: l.title.clone(),
                max_validity_years: l.max_validity_years,
                end_users,
                purposes,
                instrument: find_inst(&l.instrument, rl.span())?,
                article: l.article.as_str().into(),
                confidence: l.confidence.clone(),
                explanation: l.explanation.clone(),
            });
        }
        if licence_rules.is_empty() {
            return Err(err(
                None,
                "no [[licence_type]]: a pack defines at least one licence type".into(),
            ));
        }
        let ts = &raw.transfers;
        let transfer_source = (
            find_inst(&ts.instrument, 0..0)?,
            ts.article.as_str().into(),
            ts.explanation.clone(),
        );
        let pack = raw.pack;
        Ok(RulePack {
            id: pack.id,
            version: pack.version,
            title: pack.title,
            reviewed_through: date(&pack.reviewed_through, "pack.reviewed_through")?,
            note: pack.note.unwrap_or_default(),
            sha256: hex(&Sha256::digest(text.as_bytes())),
            origin: origin.to_string(),
            instruments,
            items,
            unmatched,
            annex,
            extraterritorial,
            exclusions,
            licence_rules,
            transfers: raw.transfer.into_iter().map(|t| (t.id, t.title)).collect(),
            transfer_source,
            vocab,
            explained: Explained::default(),
        })
    }

    /// The diagnostics' explanations under this pack, built on the first
    /// call (see [`Explanations`]).
    pub fn explanations(&self) -> &Explanations {
        self.explained
            .0
            .get_or_init(|| Arc::new(Explanations::new(self)))
    }

    /// The source of a record: shared strings, so the thousands of
    /// diagnostics that cite the same article cost one pointer each.
    pub fn source(&self, instrument: usize, article: &Arc<str>) -> SourceRef {
        let i = &self.instruments[instrument];
        SourceRef {
            instrument: i.title.clone(),
            article: article.clone(),
            url: i.url.clone(),
        }
    }

    /// What the pack assumes for instrument `inst` in an `unconfirmed`
    /// status, in words: the assumption, since when, the other reading and
    /// what the sources say. `None` for any other status.
    pub fn assumption_text(&self, inst: usize, status: Status) -> Option<String> {
        let Status::Unconfirmed {
            by,
            ended,
            suspension,
        } = status
        else {
            return None;
        };
        let i = self.instruments.get(inst)?;
        let s = i.suspensions.get(suspension)?;
        let After::Unconfirmed {
            assumption,
            other_reading,
            sources,
        } = &s.after
        else {
            return None;
        };
        let by = self.instruments.get(by).map_or("", |b| &*b.title);
        let sources = if sources.is_empty() {
            String::new()
        } else {
            format!(" Sources: {sources}")
        };
        Some(format!(
            "{} was suspended by {by} until {ended}; no source confirms what happened after that. Assumed: {assumption}. Other reading: {other_reading}.{sources}",
            i.title
        ))
    }

    /// An instrument's status on a date, in words.
    pub fn status_text(&self, inst: usize, date: Date) -> String {
        let Some(i) = self.instruments.get(inst) else {
            return String::new();
        };
        let by = |b: usize| self.instruments.get(b).map_or("?", |x| x.id.as_str());
        match i.status(date) {
            Status::InForce => "in force".into(),
            Status::NotYetEffective { effective } => {
                format!("not yet in force (from {effective})")
            }
            Status::Suspended { by: b, until } => format!("suspended by {} until {until}", by(b)),
            Status::Unconfirmed { by: b, ended, .. } => format!(
                "unconfirmed: the suspension by {} ended {ended} and no source confirms what followed; applied as in force",
                by(b)
            ),
        }
    }

    pub fn item_source(&self, item: &Item) -> SourceRef {
        self.source(item.instrument, &item.article)
    }

    pub fn exclusion(&self, id: &str) -> Option<&Exclusion> {
        self.exclusions.iter().find(|e| e.id == id)
    }

    /// The rule of licence type `kind` (`None`: not a type of this pack).
    pub fn licence_rule(&self, kind: &str) -> Option<&LicenceRule> {
        self.licence_rules.iter().find(|r| r.kind == kind)
    }

    /// The pack's licence type names, in order.
    pub fn licence_type_names(&self) -> Vec<&str> {
        self.licence_rules.iter().map(|r| r.kind.as_str()).collect()
    }

    /// Whether control code `cover` covers `code` under the pack's grammar.
    pub fn covers(&self, cover: &str, code: &str) -> bool {
        self.vocab.codes.covers(cover, code)
    }

    /// Items whose code is `code` or under it.
    pub fn items_under<'a>(&'a self, code: &'a str) -> impl Iterator<Item = &'a Item> + 'a {
        self.items
            .iter()
            .filter(move |i| self.covers(code, &i.code))
    }

    /// The title of the first item with exactly this code.
    pub fn item_title(&self, code: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|i| i.code == code)
            .map(|i| &*i.title)
    }

    pub fn transfer_sourceref(&self) -> SourceRef {
        self.source(self.transfer_source.0, &self.transfer_source.1)
    }
}

/// Whether licence item `cover` covers control code `code`: itself or a
/// sub-item after a dot (the default pack's grammar; a pack's own separator:
/// [`RulePack::covers`]).
pub fn code_covers(cover: &str, code: &str) -> bool {
    code == cover || (code.starts_with(cover) && code.as_bytes().get(cover.len()) == Some(&b'.'))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A TOML local date (no time, no offset) as a civil date.
pub(crate) fn to_date(d: &toml::value::Datetime) -> Option<Date> {
    match (d.date, d.time, d.offset) {
        (Some(x), None, None) => Date::new(x.year as i16, x.month as i8, x.day as i8).ok(),
        _ => None,
    }
}

/// What a suspension record says of the days after its window; no record
/// means no source confirms anything (`unconfirmed`, contract §6).
fn after(a: Option<&RawAfter>) -> Result<After, String> {
    const ASSUMED: &str =
        "in force again after the suspension (the careful reading for an exporter)";
    let Some(a) = a else {
        return Ok(After::Unconfirmed {
            assumption: ASSUMED.into(),
            other_reading: "still suspended".into(),
            sources: "the pack records no source on what happened after the window".into(),
        });
    };
    match a.status.as_str() {
        "in-force" => Ok(After::Confirmed {
            source: a
                .source
                .clone()
                .ok_or("`after` with status \"in-force\" needs `source`: what confirms it")?,
        }),
        "unconfirmed" => Ok(After::Unconfirmed {
            assumption: a.assumption.clone().unwrap_or_else(|| ASSUMED.into()),
            other_reading: a
                .other_reading
                .clone()
                .unwrap_or_else(|| "still suspended".into()),
            sources: a.sources.clone().unwrap_or_default(),
        }),
        s => Err(format!(
            "suspension `after.status` must be \"in-force\" or \"unconfirmed\", not \"{s}\""
        )),
    }
}

fn condition(c: &RawCondition) -> Result<Condition, String> {
    let field = match c.field.as_str() {
        "mounting" => CondField::Mounting,
        "integrates" => CondField::Integrates,
        "moulded" => CondField::Moulded,
        "calcined" => CondField::Calcined,
        "category" => CondField::Category,
        f => {
            return Err(format!(
                "condition on unknown field `{f}`; fields: mounting, integrates, moulded, calcined, category"
            ));
        }
    };
    let test = match (&c.equals, &c.r#in, &c.any_of) {
        (Some(b), None, None) => Test::Equals(*b),
        (None, Some(v), None) => Test::In(v.clone()),
        (None, None, Some(v)) => Test::AnyOf(v.clone()),
        _ => {
            return Err(format!(
                "condition on `{}` needs exactly one of equals, in, any_of",
                c.field
            ));
        }
    };
    Ok(Condition { field, test })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPack {
    pack: RawMeta,
    vocabulary: crate::vocab::RawVocabulary,
    #[serde(default)]
    form: Vec<Spanned<crate::vocab::RawForm>>,
    #[serde(default)]
    purpose: Vec<crate::vocab::RawTerm>,
    #[serde(default)]
    instrument: Vec<Spanned<RawInstrument>>,
    #[serde(default)]
    exclusion: Vec<Spanned<RawExclusion>>,
    #[serde(default)]
    licence_type: Vec<Spanned<RawLicenceType>>,
    #[serde(default)]
    transfer: Vec<RawTransfer>,
    transfers: RawTransfers,
    #[serde(default)]
    item: Vec<Spanned<RawItem>>,
    #[serde(default)]
    unmatched: Vec<Spanned<RawUnmatched>>,
    #[serde(default)]
    annex: Vec<Spanned<RawAnnex>>,
    #[serde(default)]
    extraterritorial: Vec<Spanned<RawExtraterritorial>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnnex {
    id: String,
    instrument: String,
    article: String,
    title: String,
    #[serde(default)]
    items: Vec<String>,
    #[serde(default)]
    r#match: Vec<RawAnnexMatch>,
    #[serde(default)]
    possible_forms: Vec<Spanned<String>>,
    confidence: String,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnnexMatch {
    title: String,
    forms: Vec<Spanned<String>>,
    #[serde(default)]
    elements: Vec<Spanned<String>>,
    #[serde(default)]
    any_of: Vec<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExtraterritorial {
    id: String,
    instrument: String,
    article: String,
    title: String,
    title_zh: Option<String>,
    effective: Option<Spanned<toml::value::Datetime>>,
    annex: Vec<String>,
    test: String,
    threshold: Option<f64>,
    confidence: String,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUnmatched {
    id: String,
    forms: Vec<Spanned<String>>,
    elements: Vec<Spanned<String>>,
    instrument: String,
    article: String,
    explanation: String,
}

/// `after = { status = "unconfirmed", assumption, other_reading, sources }`
/// or `{ status = "in-force", source }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAfter {
    status: String,
    assumption: Option<String>,
    other_reading: Option<String>,
    sources: Option<String>,
    source: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeta {
    id: String,
    version: String,
    title: String,
    reviewed_through: Spanned<toml::value::Datetime>,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstrument {
    id: String,
    title: String,
    issued: Option<Spanned<toml::value::Datetime>>,
    effective: Option<Spanned<toml::value::Datetime>>,
    url: String,
    confidence: String,
    note: Option<String>,
    #[serde(default)]
    suspension: Vec<RawSuspension>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuspension {
    by: String,
    from: Spanned<toml::value::Datetime>,
    until: Spanned<toml::value::Datetime>,
    note: Option<String>,
    after: Option<RawAfter>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    code: String,
    instrument: String,
    article: String,
    title: String,
    title_zh: Option<String>,
    r#match: RawMatch,
    #[serde(default)]
    hs_codes: Vec<String>,
    confidence: String,
    #[serde(default)]
    field_confidence: std::collections::BTreeMap<String, String>,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatch {
    #[serde(default)]
    forms: Vec<Spanned<String>>,
    #[serde(default)]
    elements: Vec<Spanned<String>>,
    #[serde(default)]
    any_of: Vec<Vec<Spanned<String>>>,
    mode: String,
    #[serde(default)]
    possible_forms: Vec<Spanned<String>>,
    #[serde(default)]
    cas: Vec<String>,
    #[serde(default)]
    collectors: Vec<String>,
    #[serde(default)]
    technology_area: Vec<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawApplies {
    Word(String),
    Any { any: Vec<RawCondition> },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCondition {
    field: String,
    equals: Option<bool>,
    r#in: Option<Vec<String>>,
    any_of: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExclusion {
    id: String,
    title: String,
    scope: Vec<String>,
    items: Option<Vec<String>>,
    forms: Vec<Spanned<String>>,
    applies: RawApplies,
    instrument: String,
    article: String,
    confidence: String,
    text_zh: Option<String>,
    explanation: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLicenceType {
    id: String,
    name: Option<String>,
    indefinite_article: Option<String>,
    title: String,
    max_validity_years: Option<u32>,
    end_users: String,
    purposes: Option<Vec<String>>,
    instrument: String,
    article: String,
    confidence: String,
    explanation: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTransfer {
    id: String,
    title: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTransfers {
    instrument: String,
    article: String,
    #[allow(dead_code)] // documented in the pack; not used in verdicts
    confidence: String,
    explanation: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    /// The explanations are made once per pack: every call, and every
    /// diagnostic, gets the same copy; a status that is not `unconfirmed`
    /// has none.
    #[test]
    fn explanations_are_one_copy_per_pack() {
        let p = RulePack::embedded();
        let e = p.explanations();
        assert!(std::ptr::eq(e, p.explanations()));
        assert!(Arc::ptr_eq(
            &e.every_export_needs,
            &p.clone().explanations().every_export_needs
        ));
        for r in &p.licence_rules {
            let t = e.licence_rule(&p, r);
            assert!(Arc::ptr_eq(&t, &e.licence_rule(&p, r)), "{}", r.name);
            assert_eq!(*t, format!(" {}", r.explanation));
        }
        let mut unconfirmed = 0;
        for (i, inst) in p.instruments.iter().enumerate() {
            for s in &inst.suspensions {
                let Ok(after) = s.until.tomorrow() else {
                    continue;
                };
                let status = inst.status(after);
                let text = e.unconfirmed(&p, i, status);
                let made = p.assumption_text(i, status).map(|t| format!(" {t}."));
                assert_eq!(text.as_deref(), made.as_ref(), "{}", inst.id);
                if let (Some(a), Some(b)) = (text, e.unconfirmed(&p, i, status)) {
                    assert!(Arc::ptr_eq(&a, &b), "{}", inst.id);
                    unconfirmed += 1;
                }
            }
            assert_eq!(e.unconfirmed(&p, i, Status::InForce), None);
        }
        assert!(unconfirmed > 0, "the pack has a window ending unconfirmed");
    }

    #[test]
    fn embedded_pack_loads_with_every_announcement_18_and_57_code_family() {
        let p = RulePack::embedded();
        assert_eq!(p.id, "cn-rare-earth-dual-use");
        assert_eq!(p.reviewed_through, date(2026, 11, 29));
        for fam in [
            "1C902", "1C903", "1C904", "1C905", "1C906", "1C907", "1C908", "1C909", "1C910",
            "1C911", "1C912", "1C913",
        ] {
            assert!(p.items_under(fam).count() >= 3, "{fam}");
        }
        assert_eq!(p.sha256.len(), 64);
        assert_eq!(p.exclusions.len(), 6);
    }

    #[test]
    fn announcement_57_is_suspended_by_70_until_2026_11_10_inclusive() {
        let p = RulePack::embedded();
        let a57 = p
            .instruments
            .iter()
            .find(|i| i.id == "ann-57-2025")
            .unwrap();
        assert!(matches!(
            a57.status(date(2025, 11, 6)),
            Status::NotYetEffective { .. }
        ));
        assert!(matches!(
            a57.status(date(2025, 11, 7)),
            Status::Suspended { .. }
        ));
        assert!(matches!(
            a57.status(date(2026, 11, 10)),
            Status::Suspended { .. }
        ));
        // After the window no source confirms what happened (contract §6):
        // unconfirmed, applied as in force.
        let after = a57.status(date(2026, 11, 11));
        assert!(matches!(after, Status::Unconfirmed { ended, .. } if ended == date(2026, 11, 10)));
        assert!(after.applies());
        assert_eq!(after.name(), "unconfirmed");
        assert!(
            p.assumption_text(
                p.instruments
                    .iter()
                    .position(|i| i.id == "ann-57-2025")
                    .unwrap(),
                after
            )
            .unwrap()
            .contains("2027-01-10")
        );
        let a18 = p
            .instruments
            .iter()
            .find(|i| i.id == "ann-18-2025")
            .unwrap();
        assert!(matches!(
            a18.status(date(2025, 4, 3)),
            Status::NotYetEffective { .. }
        ));
        assert_eq!(a18.status(date(2025, 4, 4)), Status::InForce);
    }

    #[test]
    fn announcement_61_limbs_have_their_own_dates_under_the_same_suspension() {
        let p = RulePack::embedded();
        let limb = |id: &str| p.extraterritorial.iter().find(|x| x.id == id).unwrap();
        let (l1, l3) = (limb("ann-61-1-1"), limb("ann-61-1-3"));
        let inst = &p.instruments[l1.instrument];
        let st = |l: &Extraterritorial, d| inst.status_from(l.effective.or(inst.effective), d);
        assert_eq!(st(l3, date(2025, 10, 9)), Status::InForce);
        assert!(matches!(
            st(l1, date(2025, 10, 9)),
            Status::NotYetEffective { effective } if effective == date(2025, 12, 1)
        ));
        assert!(matches!(
            st(l1, date(2025, 12, 1)),
            Status::Suspended { .. }
        ));
        assert!(matches!(
            st(l1, date(2026, 11, 11)),
            Status::Unconfirmed { .. }
        ));
        assert!(matches!(l1.test, AbroadTest::CnContentValue(t) if t == 0.1));
        assert_eq!(l1.annex.len(), 1);
        assert_eq!(l3.annex.len(), 2);
        for id in ["ann-56-2025", "ann-62-2025"] {
            let i = p.instruments.iter().find(|i| i.id == id).unwrap();
            assert!(matches!(
                i.status(date(2026, 6, 1)),
                Status::Suspended { .. }
            ));
            assert!(matches!(
                i.status(date(2026, 12, 1)),
                Status::Unconfirmed { .. }
            ));
        }
        let bad = EMBEDDED.replacen(
            "annex = [\"ann-61-annex-1-part-ii\"]",
            "annex = [\"part-iii\"]",
            1,
        );
        assert!(
            RulePack::parse(&bad, "p")
                .unwrap_err()
                .message
                .contains("unknown annex part `part-iii`")
        );
        let bad = EMBEDDED.replacen("cas = [\"298-07-7\"]", "cas = [\"298-07-8\"]", 1);
        assert!(
            RulePack::parse(&bad, "p")
                .unwrap_err()
                .message
                .contains("not a valid CAS number")
        );
    }

    /// An exclusion's `items` name the items it takes out (docs/rule-pack.md,
    /// `[[exclusion]]`): a code that is not one, covers no item of the scope,
    /// or an empty list is refused (a typo must not drop or widen it).
    #[test]
    fn exclusion_items_are_checked_codes_of_the_scope() {
        let p = RulePack::embedded();
        let d = p
            .exclusion("downstream-product")
            .expect("in the default pack");
        let m = p.exclusion("motor").expect("in the default pack");
        for e in [d, m] {
            let codes = &p.vocab.codes;
            let ann18 = e.scope[0];
            assert!(e.takes(codes, ann18, "1C905.a.4"), "{}", e.id);
            assert!(e.takes(codes, ann18, "1C902.a.4"), "{}", e.id);
            assert!(e.takes(codes, ann18, "1C904.a.4"), "{}", e.id);
            assert!(!e.takes(codes, ann18, "1C907.a.2.a"), "{}", e.id);
            assert!(!e.takes(codes, ann18, "1C905.b"), "{}", e.id);
        }
        // Without `items`, every item of the scope.
        let r = p
            .exclusion("rotor-stator-assembly")
            .expect("in the default pack");
        assert!(r.items.is_none());
        assert!(r.takes(&p.vocab.codes, r.scope[0], "1C905.b"));
        let line = "items = [\"1C902.a.4\", \"1C904.a.4\", \"1C905.a.4\"]";
        assert!(EMBEDDED.contains(line));
        for (items, problem) in [
            ("items = [\"1C999.a.4\"]", "covers no item of its scope"),
            ("items = [\"magnets\"]", "is not a control code"),
            ("items = []", "`items` is empty"),
        ] {
            let bad = EMBEDDED.replacen(line, items, 1);
            let e = RulePack::parse(&bad, "p").unwrap_err();
            assert!(e.message.contains(problem), "{items}: {e}");
            assert!(e.line.is_some(), "{e}");
        }
    }

    #[test]
    fn code_cover_is_by_dotted_prefix() {
        assert!(code_covers("1C905", "1C905.a.4"));
        assert!(code_covers("1C905.a", "1C905.a.4"));
        assert!(code_covers("1C905.a.4", "1C905.a.4"));
        assert!(!code_covers("1C90", "1C905.a.4"));
        assert!(!code_covers("1C905.a.4", "1C905.a"));
    }

    #[test]
    fn errors_next_to_multibyte_text_never_panic() {
        // Found by the rule_pack fuzz target: a span starting just before a CJK character.
        let bad = EMBEDDED.replacen(
            "title_zh = \"金属铽\"",
            "title_zh = \"金属铽\"\nbogus = 1",
            1,
        );
        let e = RulePack::parse(&bad, "p.toml").unwrap_err();
        assert!(e.line.is_some(), "{e}");
        let e = RulePack::parse("[pack]\nid = 铽\n", "p.toml").unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
    }

    #[test]
    fn bad_packs_name_file_line_and_problem() {
        let bad = EMBEDDED.replacen("forms = [\"metal\"]", "forms = [\"metl\"]", 1);
        let e = RulePack::parse(&bad, "my.toml").unwrap_err();
        assert!(e.to_string().starts_with("my.toml:"), "{e}");
        assert!(e.message.contains("unknown form `metl`"), "{e}");
        assert!(e.line.is_some());
        let e = RulePack::parse("[pack\n", "x.toml").unwrap_err();
        assert_eq!(e.line, Some(1));
        let bad = EMBEDDED.replacen("instrument = \"ann-18-2025\"", "instrument = \"ann-99\"", 1);
        assert!(
            RulePack::parse(&bad, "p")
                .unwrap_err()
                .message
                .contains("unknown instrument `ann-99`")
        );
    }
}
