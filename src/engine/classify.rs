//! Classification of one product on one date (docs/format.md §5, §6).

use crate::catalogue::{ExportFrom, Form, Product};
use crate::chem::Element;
use crate::diagnostic::SourceRef;
use crate::rules::{
    AbroadTest, AnnexPart, Applies, CondField, Exclusion, Extraterritorial, Item, MatchMode,
    RulePack, Status, Test,
};
use crate::vocab::{Category, Role};
use jiff::civil::Date;
use rustc_hash::FxHashMap;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Adds an explanation step; the text is only formatted when traces are wanted.
macro_rules! step {
    ($c:expr, $text:expr, $source:expr $(,)?) => {
        if $c.explain {
            $c.step($text, $source)
        }
    };
}

/// The contract's four verdicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    Controlled,
    Excluded,
    NotControlled,
    Indeterminate,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Controlled => "controlled",
            Verdict::Excluded => "excluded",
            Verdict::NotControlled => "not-controlled",
            Verdict::Indeterminate => "indeterminate",
        }
    }
}

/// One step of the explanation: what was decided and on which authority.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceStep {
    pub text: String,
    pub source: Option<SourceRef>,
}

/// A match with an instrument that is not in force on the date.
#[derive(Clone, Debug, PartialEq)]
pub struct Dormant {
    pub code: String,
    pub title: String,
    pub status: Status,
    pub source: SourceRef,
}

/// A verdict resting on an instrument whose status on the date no source
/// confirms (contract §6): which instrument, the suspension whose end is
/// unconfirmed, and the codes that rest on it.
#[derive(Clone, Debug, PartialEq)]
pub struct Assumption {
    pub instrument: usize,
    pub status: Status,
    pub codes: Vec<String>,
}

/// What the verdict would be if every unconfirmed instrument were still
/// suspended (the reading the pack does not apply).
#[derive(Clone, Debug, PartialEq)]
pub struct OtherReading {
    pub verdict: Verdict,
    pub codes: Vec<String>,
}

/// The classification of a product on a date.
#[derive(Clone, Debug, PartialEq)]
pub struct Classification {
    pub verdict: Verdict,
    /// Controlled: the codes. Excluded: the codes the exclusion took out.
    pub codes: Vec<String>,
    /// The title of the pack item behind each code of `codes` (same order;
    /// the item that matched, not the first record sharing its code).
    pub titles: Vec<Arc<str>>,
    /// Unconfirmed statuses the verdict rests on (applied as in force).
    pub assumptions: Vec<Assumption>,
    /// The verdict under the other reading, when `assumptions` is not empty.
    pub other_reading: Option<OtherReading>,
    /// Pack items behind `codes` (indices into `RulePack::items`): what a
    /// pack's tests exercised.
    pub items: Vec<usize>,
    /// The `[[unmatched]]` guard that made the verdict indeterminate.
    pub unmatched: Option<usize>,
    /// The `[[extraterritorial]]` limbs that reached the product (decided
    /// it, or would have on another date or with the missing facts).
    pub limbs: Vec<usize>,
    /// Where the first code is listed (instrument, article): the source of
    /// the verdict's diagnostics.
    pub source: Option<(usize, Arc<str>)>,
    /// Rules that control the product without a list code (Ann. 61 annex
    /// entries), by title.
    pub uncoded: Vec<String>,
    pub exclusion: Option<String>,
    /// Facts that would decide an indeterminate verdict.
    pub missing: Vec<String>,
    pub dormant: Vec<Dormant>,
    pub trace: Vec<TraceStep>,
    /// Whether `trace` is being built (the CLI does not print it).
    pub explain: bool,
}

impl Classification {
    /// An empty classification with `verdict` and no trace.
    pub fn new(verdict: Verdict) -> Self {
        Classification {
            verdict,
            codes: Vec::new(),
            titles: Vec::new(),
            assumptions: Vec::new(),
            other_reading: None,
            items: Vec::new(),
            unmatched: None,
            limbs: Vec::new(),
            source: None,
            uncoded: Vec::new(),
            exclusion: None,
            missing: Vec::new(),
            dormant: Vec::new(),
            trace: Vec::new(),
            explain: false,
        }
    }
    /// The codes in one line, or the rules that control it without a code.
    pub fn codes_text(&self) -> String {
        let mut v: Vec<&str> = self.codes.iter().map(String::as_str).collect();
        v.extend(self.uncoded.iter().map(String::as_str));
        v.join(", ")
    }

    /// Notes that `code` rests on an instrument with an unconfirmed status.
    fn assume(&mut self, instrument: usize, status: Status, code: Option<&str>) {
        let a = match self
            .assumptions
            .iter_mut()
            .find(|a| a.instrument == instrument)
        {
            Some(a) => a,
            None => {
                self.assumptions.push(Assumption {
                    instrument,
                    status,
                    codes: Vec::new(),
                });
                self.assumptions.last_mut().expect("just pushed")
            }
        };
        if let Some(code) = code {
            if !a.codes.iter().any(|c| c == code) {
                a.codes.push(code.to_string());
            }
        }
    }
    pub(crate) fn step(&mut self, text: impl Into<String>, source: Option<SourceRef>) {
        self.trace.push(TraceStep {
            text: text.into(),
            source,
        });
    }
}

/// Bills of materials deeper than this are not followed (bounded stack and time).
pub const MAX_COMPONENT_DEPTH: usize = 64;

/// Looks up products by SKU across the workspace.
pub trait ProductLookup {
    /// The first product with this SKU, as (file, index).
    fn product(&self, sku: &str) -> Option<(usize, usize)>;
    /// The other products with this SKU (a duplicate SKU), after the first.
    fn more(&self, _sku: &str) -> &[(usize, usize)] {
        &[]
    }
    fn get(&self, at: (usize, usize)) -> &Product;
}

/// A component reference whose SKU names more products than this is not
/// judged with each of them (the work would grow with the square of a
/// shared name): it is indeterminate.
pub const MAX_SHARED_SKU: usize = 64;

/// Classifies products, remembering results per (product, date) so shared
/// components are classified once, and detecting component cycles.
pub struct Classifier<'a, L: ProductLookup> {
    pack: &'a RulePack,
    lookup: &'a L,
    /// Keyed by product, date and whether it is classified as a component
    /// of another product (then where it is exported from does not matter).
    memo: FxHashMap<((usize, usize), Date, bool), Arc<Classification>>,
    stack: Vec<(usize, usize)>,
    /// Build explanation traces (hovers, `explain`); `check` skips them.
    explain: bool,
    /// Read unconfirmed instruments as still suspended (the other reading).
    other: bool,
    /// The classifier of the other reading, made when first needed.
    alternative: Option<Box<Classifier<'a, L>>>,
    /// Identify what list items a product is, whatever their status and
    /// with no exclusion (what Ann. 61/2025's annex refers to).
    identify: bool,
    /// The identifying classifier, made when first needed.
    identifier: Option<Box<Classifier<'a, L>>>,
}

/// How an item stands on a date in the reading being classified.
enum Standing {
    Applies,
    /// Applied although its status is unconfirmed (the careful reading).
    Assumed(Status),
    Dormant(Status),
}

/// A verdict and its codes in a sentence: `controlled (1C905.a.4)`.
fn verdict_with_codes(v: Verdict, codes: &[String]) -> String {
    if codes.is_empty() {
        v.as_str().to_string()
    } else {
        format!("{} ({})", v.as_str(), codes.join(", "))
    }
}

/// Makes `c` indeterminate: no codes, no exclusion, no rule that controls it.
fn undecide(c: &mut Classification) {
    c.verdict = Verdict::Indeterminate;
    c.exclusion = None;
    c.codes.clear();
    c.titles.clear();
    c.uncoded.clear();
    c.source = None;
}

/// One date in each span of time over which no instrument of the pack (nor
/// any extraterritorial limb) changes status: the day before the first
/// change, and each change (an effective date, a suspension's first day,
/// the day after its last).
fn pack_dates(pack: &RulePack) -> Vec<Date> {
    let mut v: Vec<Date> = Vec::new();
    for inst in &pack.instruments {
        v.extend(inst.effective);
        for s in &inst.suspensions {
            v.push(s.from);
            v.extend(s.until.tomorrow().ok());
        }
    }
    v.extend(pack.extraterritorial.iter().filter_map(|x| x.effective));
    v.sort_unstable();
    v.dedup();
    if let Some(before) = v.first().and_then(|d| d.yesterday().ok()) {
        v.insert(0, before);
    }
    v
}

/// Three-valued result of an exclusion test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tri {
    Yes,
    No,
    Unknown(&'static str),
}

impl<'a, L: ProductLookup> Classifier<'a, L> {
    pub fn new(pack: &'a RulePack, lookup: &'a L, explain: bool) -> Self {
        Classifier {
            pack,
            lookup,
            memo: FxHashMap::default(),
            stack: Vec::new(),
            explain,
            other: false,
            alternative: None,
            identify: false,
            identifier: None,
        }
    }

    /// A new classification that builds its trace only when wanted.
    fn fresh(&self, verdict: Verdict) -> Classification {
        let mut c = Classification::new(verdict);
        c.explain = self.explain;
        c
    }

    /// Classifies the product at `at` on `date`.
    pub fn classify(&mut self, at: (usize, usize), date: Date) -> Arc<Classification> {
        self.classify_in(at, date, false)
    }

    /// Classifies the product at `at` on `date`; `contained`: as a component
    /// of another product, exported with it (its own `exported_from` and
    /// `made_in` do not decide).
    fn classify_in(
        &mut self,
        at: (usize, usize),
        date: Date,
        contained: bool,
    ) -> Arc<Classification> {
        // Where it is exported from, and its own unreadable `ship_date`,
        // matter only for a product that says so: others share one memo
        // entry whether contained or not.
        let p = self.lookup.get(at);
        let contained = contained
            && (p.exported_from.is_some()
                || p.made_in.is_some()
                || p.was_invalid("made_in")
                || p.was_invalid("exported_from")
                || p.was_invalid("ship_date"));
        if let Some(c) = self.memo.get(&(at, date, contained)) {
            return c.clone();
        }
        self.stack.push(at);
        let mut c = self.classify_uncached(at, self.lookup.get(at), date, contained);
        self.stack.pop();
        if !c.assumptions.is_empty() && !self.other {
            let other = self.other_reading(at, date);
            if other.verdict == c.verdict && other.codes == c.codes {
                // The verdict does not depend on the unconfirmed status.
                c.assumptions.clear();
            } else {
                c.other_reading = Some(other);
            }
        }
        let c = Arc::new(c);
        self.memo.insert((at, date, contained), c.clone());
        c
    }

    /// The verdict if every unconfirmed instrument is read as still suspended.
    fn other_reading(&mut self, at: (usize, usize), date: Date) -> OtherReading {
        let (pack, lookup) = (self.pack, self.lookup);
        let alt = self.alternative.get_or_insert_with(|| {
            let mut a = Classifier::new(pack, lookup, false);
            a.other = true;
            Box::new(a)
        });
        let c = alt.classify(at, date);
        OtherReading {
            verdict: c.verdict,
            codes: c.codes.clone(),
        }
    }

    /// What list items the product at `at` is, whatever their status.
    fn identity(&mut self, at: (usize, usize), date: Date) -> Arc<Classification> {
        let (pack, lookup) = (self.pack, self.lookup);
        let id = self.identifier.get_or_insert_with(|| {
            let mut a = Classifier::new(pack, lookup, false);
            a.identify = true;
            Box::new(a)
        });
        id.classify(at, date)
    }

    /// How `item` stands on `date` in this classifier's reading.
    fn standing(&self, item: &Item, date: Date) -> Standing {
        self.standing_of(self.status_of(item, date))
    }

    fn standing_of(&self, status: Status) -> Standing {
        if self.identify {
            return Standing::Applies;
        }
        match status {
            Status::InForce => Standing::Applies,
            s @ Status::Unconfirmed { .. } if !self.other => Standing::Assumed(s),
            s => Standing::Dormant(s),
        }
    }

    /// Whether `item` applies on `date` in this reading; an unconfirmed
    /// status it rests on is noted in `c`.
    fn applies(&self, item: &Item, date: Date, c: &mut Classification) -> bool {
        match self.standing(item, date) {
            Standing::Applies => true,
            Standing::Assumed(s) => {
                c.assume(item.instrument, s, None);
                true
            }
            Standing::Dormant(_) => false,
        }
    }

    fn classify_uncached(
        &mut self,
        at: (usize, usize),
        p: &Product,
        date: Date,
        contained: bool,
    ) -> Classification {
        let c = self.classify_on(at, p, date, contained);
        // A component is judged on the date of the export it is part of;
        // a product's own unreadable `ship_date` leaves its date unknown.
        if !contained && !self.identify && p.ship_date.is_none() && p.was_invalid("ship_date") {
            return self.date_unknown(at, p, date, c);
        }
        c
    }

    /// The product's `ship_date` could not be read, so `date` is only the
    /// fallback (`--as-of`, `[catalogue].as_of`, today): the verdict `c` on
    /// it stands only if the product gets the same verdict on every date
    /// the pack tells apart (each instrument's and limb's effective date,
    /// each suspension's start and the day after its end); otherwise it is
    /// indeterminate (contract §5, §6: the evaluation date is `ship_date`;
    /// absence of data is never clearance).
    fn date_unknown(
        &mut self,
        at: (usize, usize),
        p: &Product,
        date: Date,
        mut c: Classification,
    ) -> Classification {
        let mut seen: Vec<(Verdict, Vec<String>, Date)> = vec![(c.verdict, c.codes.clone(), date)];
        for d in pack_dates(self.pack) {
            let other = self.classify_on(at, p, d, false);
            if !seen
                .iter()
                .any(|(v, codes, _)| *v == other.verdict && *codes == other.codes)
            {
                seen.push((other.verdict, other.codes, d));
            }
        }
        if seen.len() == 1 {
            step!(
                c,
                format!(
                    "`ship_date` could not be read, so it is judged on {date}; the verdict is the same on every date the rule pack tells apart."
                ),
                None
            );
            return c;
        }
        let on: Vec<String> = seen
            .iter()
            .skip(1)
            .map(|(v, codes, d)| format!("on {d} {}", verdict_with_codes(*v, codes)))
            .collect();
        let fallback = verdict_with_codes(c.verdict, &c.codes);
        undecide(&mut c);
        c.assumptions.clear();
        c.missing.push(format!(
            "a valid `ship_date` (the verdict depends on the date: on {date}, the fallback date, {fallback}; {})",
            on.join("; ")
        ));
        step!(
            c,
            format!(
                "`ship_date` could not be read, and the verdict depends on the date of export: on {date} (the fallback date) {fallback}; {}. Not decided until `ship_date` is a date such as 2026-06-01.",
                on.join("; ")
            ),
            None
        );
        c
    }

    /// The classification on `date`, the date being known.
    fn classify_on(
        &mut self,
        at: (usize, usize),
        p: &Product,
        date: Date,
        contained: bool,
    ) -> Classification {
        if p.broken {
            let mut c = self.fresh(Verdict::Indeterminate);
            c.missing.push("an item free of syntax errors".into());
            step!(
                c,
                "The item has a syntax error, so its facts may be incomplete; it is not classified until the error is fixed.",
                None
            );
            return c;
        }
        let vocab = &self.pack.vocab;
        let known = p
            .form
            .as_ref()
            .and_then(|f| Some((&f.value, vocab.form_of(&f.value)?)));
        let Some((form, def)) = known else {
            let mut c = self.fresh(Verdict::Indeterminate);
            let what = if p.was_invalid("form") || p.form.is_some() {
                "a valid `form`"
            } else {
                "`form`"
            };
            c.missing.push(what.into());
            step!(
                c,
                format!(
                    "No {what}: what the product physically is decides which items can match (docs/format.md §4). Absence of data is never clearance."
                ),
                None
            );
            return c;
        };
        // Technology stays under Ann. 62 wherever it is provided: its
        // "export" includes provision abroad by Chinese persons (§2).
        if !contained && !self.identify && !def.roles.contains(&Role::HomeRulesAnywhere) {
            if p.was_invalid("made_in") || p.was_invalid("exported_from") {
                return self.origin_unknown(at, p, form, date, None);
            }
            match p.export_from() {
                ExportFrom::Abroad(_) => return self.abroad(at, p, form, date),
                ExportFrom::Unstated { made_in } => {
                    return self.origin_unknown(at, p, form, date, Some(made_in));
                }
                ExportFrom::China => {}
            }
        }
        self.at_home(p, form, date)
    }

    /// Where the export leaves from is not known: `made_in` or
    /// `exported_from` could not be read, or (`made_in`: Some) the product
    /// is made abroad and `exported_from` does not say whether this export
    /// leaves from China (Ann. 18) or from there (Ann. 61/2025). The
    /// verdicts of both must agree, else the product is indeterminate (a
    /// wrong guess could clear it; contract §5: absence of data is never
    /// clearance).
    fn origin_unknown(
        &mut self,
        at: (usize, usize),
        p: &Product,
        form: &Form,
        date: Date,
        made_in: Option<&str>,
    ) -> Classification {
        let mut home = self.at_home(p, form, date);
        let away = self.abroad(at, p, form, date);
        if home.verdict != away.verdict || home.codes != away.codes {
            let at_home = verdict_with_codes(home.verdict, &home.codes);
            undecide(&mut home);
            // What the other reading would report on this date (a
            // suspended Ann. 61 limb) is still worth saying.
            for d in away.dormant {
                if !home
                    .dormant
                    .iter()
                    .any(|x| x.code == d.code && x.title == d.title)
                {
                    home.dormant.push(d);
                }
            }
            match made_in {
                None => {
                    home.missing
                        .push("a valid `made_in` / `exported_from` (where the export leaves from decides which rules apply)".into());
                    step!(
                        home,
                        format!(
                            "`made_in` or `exported_from` could not be read: exported from China the verdict is the one above, exported from abroad it would be {}; not decided until it is fixed.",
                            away.verdict.as_str()
                        ),
                        None
                    );
                }
                Some(country) => {
                    home.missing.push(format!(
                        "`exported_from` (made in {country}: exported from China it would be {}, exported from {country} {}; set `exported_from = \"CN\"` or `\"{country}\"`)",
                        at_home,
                        verdict_with_codes(away.verdict, &away.codes)
                    ));
                    step!(
                        home,
                        format!(
                            "Made in {country}, and `exported_from` does not say where this export leaves from: exported from China (Ann. 18 and the other announcements on exports from China) the verdict is the one above, exported from {country} (Ann. 61/2025) it would be {}; not decided until `exported_from` is set.",
                            away.verdict.as_str()
                        ),
                        None
                    );
                }
            }
        } else if let Some(country) = made_in {
            step!(
                home,
                format!(
                    "Made in {country}, `exported_from` not stated: exported from China or from {country} (Ann. 61/2025) the verdict is the same."
                ),
                None
            );
        }
        home
    }

    /// Component `sku`, whose first product is `at`, on `date`. When several
    /// products share the SKU (`duplicate-sku`) the reference is ambiguous:
    /// it is judged with each of them, and is indeterminate unless they all
    /// agree (a wrong pick could clear the product that contains it).
    fn component(&mut self, sku: &str, at: (usize, usize), date: Date) -> Arc<Classification> {
        let first = self.classify_in(at, date, true);
        let lookup: &'a L = self.lookup;
        let more = lookup.more(sku);
        if more.is_empty() {
            return first;
        }
        let n = more.len() + 1;
        let mut why = None;
        if n > MAX_SHARED_SKU {
            why = Some(format!(
                "component `{sku}` (the SKU of {n} products, too many to judge with each)"
            ));
        } else {
            for &o in more {
                if self.stack.contains(&o) {
                    why = Some(format!(
                        "component `{sku}` (one of the {n} products with this SKU contains this product: a cycle)"
                    ));
                    break;
                }
                let other = self.classify_in(o, date, true);
                if other.verdict != first.verdict
                    || other.codes != first.codes
                    || other.exclusion != first.exclusion
                {
                    why = Some(format!(
                        "component `{sku}` (the SKU of {n} products, judged differently: {} and {}; give each product its own sku)",
                        verdict_with_codes(first.verdict, &first.codes),
                        verdict_with_codes(other.verdict, &other.codes)
                    ));
                    break;
                }
            }
        }
        let Some(why) = why else {
            return first;
        };
        let mut c = self.fresh(Verdict::Indeterminate);
        c.dormant = first.dormant.clone();
        step!(
            c,
            format!(
                "{n} products have the SKU `{sku}`, and they are not judged alike: which one is meant decides."
            ),
            None
        );
        c.missing.push(why);
        Arc::new(c)
    }

    /// A product exported from China (or a component exported with one).
    fn at_home(&mut self, p: &Product, form: &Form, date: Date) -> Classification {
        let no_composition = p.composition.as_ref().is_none_or(|c| c.entries.is_empty());
        let def = self.pack.vocab.form_of(form);
        let category = def.map(|d| d.category);
        let mut c = if category == Some(Category::Technology)
            || (def.is_some_and(|d| d.roles.contains(&Role::ByFacts)) && no_composition)
        {
            let mut c = self.fresh(Verdict::NotControlled);
            step!(
                c,
                format!(
                    "A {form} is classified by the facts it states (`cas`, `collectors`, `technology_area`)."
                ),
                None
            );
            c
        } else if category == Some(Category::Material) {
            self.material(p, form, date)
        } else {
            self.part(p, form, date)
        };
        let (hits, unknown) = self.facts(p, form, date, &mut c);
        if !hits.is_empty() {
            let mut all = if c.verdict == Verdict::Controlled {
                Hit::of_classification(self.pack, &c)
            } else {
                Vec::new()
            };
            all.extend(hits);
            c.verdict = Verdict::Controlled;
            c.exclusion = None;
            c.missing.clear();
            set_codes(&mut c, all);
        } else if !unknown.is_empty() && c.verdict == Verdict::NotControlled {
            c.verdict = Verdict::Indeterminate;
            c.missing.extend(unknown);
        } else if c.verdict == Verdict::NotControlled
            && category == Some(Category::Technology)
            && c.dormant.is_empty()
        {
            step!(c, "No listed item in force matches.", None);
        }
        c
    }

    /// Items matched by stated facts (Ann. 56 CAS numbers and collectors,
    /// Ann. 62 technology areas): the codes that apply, and the facts whose
    /// absence leaves an applying item undecided.
    fn facts(
        &self,
        p: &Product,
        form: &Form,
        date: Date,
        c: &mut Classification,
    ) -> (Vec<Hit>, Vec<String>) {
        let pack = self.pack;
        let mut hits = Vec::new();
        let mut unknown: Vec<String> = Vec::new();
        for item in pack
            .items
            .iter()
            .filter(|i| i.by_facts() && i.forms.contains(form))
        {
            match fact_test(item, p, self.pack.vocab.has_role(form, Role::ByFacts)) {
                Tri::No => {}
                Tri::Yes => match self.standing(item, date) {
                    standing @ (Standing::Applies | Standing::Assumed(_)) => {
                        if let Standing::Assumed(s) = standing {
                            c.assume(item.instrument, s, Some(&item.code));
                        }
                        step!(
                            c,
                            format!(
                                "Matches {} — {} (by the stated `{}`).",
                                item.code,
                                item.title,
                                fact_field(item)
                            ),
                            Some(pack.item_source(item)),
                        );
                        hits.push(Hit::of(item));
                    }
                    Standing::Dormant(status) => {
                        let d = Dormant {
                            code: item.code.clone(),
                            title: item.title.to_string(),
                            status,
                            source: pack.item_source(item),
                        };
                        step!(c, dormant_text(pack, &d, date), Some(d.source.clone()));
                        c.dormant.push(d);
                    }
                },
                Tri::Unknown(field) => {
                    if self.applies(item, date, c) {
                        let f = format!("`{field}`");
                        if !unknown.contains(&f) {
                            unknown.push(f);
                        }
                        step!(
                            c,
                            format!(
                                "Without `{field}` it cannot be told whether this {form} is {} — {} (absence of data is never clearance).",
                                item.code, item.title
                            ),
                            Some(pack.item_source(item)),
                        );
                    }
                }
            }
        }
        (hits, unknown)
    }

    /// An export by an operator outside China (contract addition, Ann.
    /// 61/2025 §1): the PRC announcements on exports from China do not reach
    /// it; each limb of Ann. 61 tests what the product is (its annex) and one
    /// fact (value share, technology, origin). Missing facts never clear.
    fn abroad(
        &mut self,
        at: (usize, usize),
        p: &Product,
        form: &Form,
        date: Date,
    ) -> Classification {
        let pack = self.pack;
        let mut c = self.fresh(Verdict::NotControlled);
        let from = p.export_origin().to_string();
        let stated = if p.exported_from_abroad() {
            "Exported from"
        } else {
            "If exported from"
        };
        step!(
            c,
            format!(
                "{stated} {from}, not from China: announcements on exports from China do not reach it; the extraterritorial rules (Ann. 61/2025 §1) decide."
            ),
            pack.extraterritorial
                .first()
                .map(|x| pack.source(x.instrument, &x.article)),
        );
        if p.destination.as_ref().is_some_and(|d| d.value == "CN") {
            step!(
                c,
                "Its destination is China: Ann. 61 §1 concerns exports to countries and regions other than China.",
                None
            );
            return c;
        }
        let id = self.identity(at, date);
        if self.explain && id.verdict == Verdict::Controlled {
            c.step(
                format!(
                    "By description it is {} ({}), whatever the status of those items' announcements.",
                    id.codes.join(", "),
                    id.titles.join("; ")
                ),
                None,
            );
        }
        let present: Vec<Element> = p
            .composition
            .as_ref()
            .map(|comp| {
                comp.element_percents()
                    .into_iter()
                    .filter(|(_, x)| *x > 0.0)
                    .map(|(e, _)| e)
                    .collect()
            })
            .unwrap_or_default();
        let mut hits: Vec<Hit> = Vec::new();
        let mut unknown: Vec<String> = Vec::new();
        for (li, limb) in pack.extraterritorial.iter().enumerate() {
            let mut member = Member::No;
            for &a in &limb.annex {
                member = member.max(membership(
                    &pack.vocab.codes,
                    &pack.annex[a],
                    &id,
                    p,
                    form,
                    &present,
                ));
            }
            let test = abroad_test(limb, p);
            let inst = &pack.instruments[limb.instrument];
            let status = inst.status_from(limb.effective.or(inst.effective), date);
            let source = pack.source(limb.instrument, &limb.article);
            let (lh, missing): (Vec<Hit>, Vec<String>) = match (&member, test) {
                (Member::No, _) | (_, Tri::No) => continue,
                (Member::Yes(h), Tri::Yes) => (h.clone(), Vec::new()),
                (Member::Yes(_), Tri::Unknown(f)) => (Vec::new(), vec![format!("`{f}`")]),
                (Member::Maybe(m), Tri::Yes) => (Vec::new(), vec![m.clone()]),
                (Member::Maybe(m), Tri::Unknown(f)) => {
                    (Vec::new(), vec![m.clone(), format!("`{f}`")])
                }
            };
            c.limbs.push(li);
            match self.standing_of(status) {
                Standing::Dormant(status) => {
                    // A limb that may reach it once the missing facts are
                    // given is reported too (it would otherwise vanish
                    // because a fact is absent), saying what it needs.
                    let of = match (&member, lh.is_empty()) {
                        (_, false) => &lh,
                        (Member::Yes(h), true) => h,
                        _ => &Vec::new(),
                    };
                    let codes: Vec<&str> = of
                        .iter()
                        .map(|h| h.code.as_str())
                        .filter(|x| !x.is_empty())
                        .collect();
                    let title = if lh.is_empty() {
                        format!("{}, if {} says so", limb.title, missing.join(", "))
                    } else {
                        limb.title.clone()
                    };
                    let d = Dormant {
                        code: if codes.is_empty() {
                            limb.article.to_string()
                        } else {
                            codes.join(", ")
                        },
                        title,
                        status,
                        source,
                    };
                    step!(c, dormant_text(pack, &d, date), Some(d.source.clone()));
                    c.dormant.push(d);
                }
                standing => {
                    if let Standing::Assumed(s) = standing {
                        c.assume(limb.instrument, s, None);
                        for h in lh.iter().filter(|h| !h.code.is_empty()) {
                            c.assume(limb.instrument, s, Some(&h.code));
                        }
                    }
                    if lh.is_empty() {
                        step!(
                            c,
                            format!(
                                "{} ({}) may apply; it cannot be decided without {}.",
                                limb.title,
                                limb.article,
                                missing.join(", ")
                            ),
                            Some(source),
                        );
                        for m in missing {
                            if !unknown.contains(&m) {
                                unknown.push(m);
                            }
                        }
                    } else {
                        step!(
                            c,
                            format!("Controlled under {} ({}).", limb.title, limb.article),
                            Some(source),
                        );
                        hits.extend(lh.into_iter().map(|mut h| {
                            h.instrument = limb.instrument;
                            h.article = limb.article.clone();
                            h.title = format!(
                                "{}; exported from abroad: {} {}",
                                h.title, pack.instruments[limb.instrument].id, limb.article
                            )
                            .into();
                            h
                        }));
                    }
                }
            }
        }
        if !hits.is_empty() {
            c.verdict = Verdict::Controlled;
            set_codes(&mut c, hits);
        } else if !unknown.is_empty() {
            c.verdict = Verdict::Indeterminate;
            c.missing = unknown;
        } else if c.dormant.is_empty() {
            step!(c, "No extraterritorial rule in force reaches it.", None);
        }
        c
    }

    fn status_of(&self, item: &Item, date: Date) -> Status {
        self.pack.instruments[item.instrument].status(date)
    }

    /// The exclusion that concerns `form` (none when identifying).
    fn exclusion_for(&self, form: &Form) -> Option<&'a Exclusion> {
        let pack: &'a RulePack = self.pack;
        if self.identify {
            return None;
        }
        pack.exclusions.iter().find(|e| e.forms.contains(form))
    }

    fn material(&mut self, p: &Product, form: &Form, date: Date) -> Classification {
        let pack = self.pack;
        let exclusion = self.exclusion_for(form);
        let applies = exclusion.map(|e| exclusion_applies(e, p));
        let Some(comp) = p.composition.as_ref().filter(|c| !c.entries.is_empty()) else {
            // Contents unknown: a form-level exclusion decides only if no in-force item outside its scope could match.
            if let (Some(e), Some(Tri::Yes)) = (exclusion, applies) {
                let mut c = self.fresh(Verdict::Excluded);
                let outside: Vec<&Item> = pack
                    .items
                    .iter()
                    .filter(|i| {
                        i.forms.contains(form)
                            && !e.takes(&pack.vocab.codes, i.instrument, &i.code)
                            && self.applies(i, date, &mut c)
                    })
                    .collect();
                if outside.is_empty() {
                    c.exclusion = Some(e.id.clone());
                    step!(
                        c,
                        format!("Exclusion `{}`: {}", e.id, e.explanation),
                        Some(pack.source(e.instrument, &e.article)),
                    );
                    step!(
                        c,
                        "The composition is not given; the exclusion applies to the form itself.",
                        None,
                    );
                    return c;
                }
                c.verdict = Verdict::Indeterminate;
                c.missing.push("`composition`".into());
                let codes: BTreeSet<&str> = outside.iter().map(|i| i.code.as_str()).collect();
                step!(
                    c,
                    format!(
                        "Exclusion `{}` covers {} only; without a composition the {} may be {} ({}), which it does not reach.",
                        e.id,
                        scope_names(pack, e),
                        form,
                        codes.into_iter().collect::<Vec<_>>().join(", "),
                        outside[0].title
                    ),
                    Some(pack.item_source(outside[0])),
                );
                return c;
            }
            let mut c = self.fresh(Verdict::Indeterminate);
            let what = if p.was_invalid("composition") {
                "a valid `composition`"
            } else {
                "`composition`"
            };
            c.missing.push(what.into());
            step!(
                c,
                format!(
                    "A {form} is classified by the elements it contains; without {what} nothing can be ruled out (absence of data is never clearance)."
                ),
                None
            );
            return c;
        };
        let percents = comp.element_percents();
        let present: Vec<Element> = percents
            .iter()
            .filter(|(_, p)| *p > 0.0)
            .map(|(e, _)| *e)
            .collect();
        let largest = percents.first().map(|(e, _)| *e);
        let has = |els: &[Element]| els.iter().all(|e| present.contains(e));
        let fits = |item: &Item| {
            has(&item.elements)
                && item
                    .any_of
                    .iter()
                    .all(|g| g.iter().any(|e| present.contains(e)))
        };
        let mut matched: Vec<&Item> = Vec::new();
        let mut possible: Vec<&Item> = Vec::new();
        let bit = pack.vocab.bit(form);
        for item in &pack.items {
            if item.by_facts() {
                continue;
            }
            if item.form_mask & bit != 0 && item.forms.contains(form) {
                let ok = match item.mode {
                    MatchMode::Largest => largest == item.elements.first().copied(),
                    MatchMode::System | MatchMode::Contains => fits(item),
                };
                if ok {
                    matched.push(item);
                }
            } else if item.possible_mask & bit != 0
                && item.possible_forms.contains(form)
                && fits(item)
            {
                possible.push(item);
            }
        }
        let mut c = self.fresh(Verdict::NotControlled);
        let elements_text = present
            .iter()
            .map(|e| e.symbol())
            .collect::<Vec<_>>()
            .join(", ");
        step!(
            c,
            format!(
                "Form `{form}` with elements present: {}.",
                if elements_text.is_empty() {
                    "none above zero"
                } else {
                    &elements_text
                }
            ),
            None,
        );
        let any_match = !matched.is_empty();
        // In-force status first: an item that does not apply on the date
        // never hides one that does (contract §5: every listed item in
        // force that matches is a code).
        let mut applying: Vec<(&Item, Option<Status>)> = Vec::new();
        let mut dormant: Vec<(&Item, Status)> = Vec::new();
        for item in matched {
            match self.standing(item, date) {
                Standing::Applies => applying.push((item, None)),
                Standing::Assumed(s) => applying.push((item, Some(s))),
                Standing::Dormant(s) => dormant.push((item, s)),
            }
        }
        // Among the alloy systems and targets that apply, a wider system
        // hides only the systems it contains (Tb-Dy-Fe beats Dy-Fe); it
        // never hides another element's item (a Y target stays a Y target
        // when it also holds Ho and Cu), nor one that applies when it does
        // not.
        retain_widest(&mut applying, |x| x.0);
        retain_widest(&mut dormant, |x| x.0);
        let mut hits: Vec<Hit> = Vec::new();
        for (item, assumed) in applying {
            if let Some(s) = assumed {
                c.assume(item.instrument, s, Some(&item.code));
            }
            step!(
                c,
                format!(
                    "Matches {} — {} ({}).",
                    item.code,
                    item.title,
                    match_reason(item, form)
                ),
                Some(pack.item_source(item)),
            );
            hits.push(Hit::of(item));
        }
        for (item, status) in dormant {
            c.dormant.push(Dormant {
                code: item.code.clone(),
                title: item.title.to_string(),
                status,
                source: pack.item_source(item),
            });
        }
        for d in &c.dormant.clone() {
            step!(c, dormant_text(pack, d, date), Some(d.source.clone()));
        }
        let possible_in_force: Vec<&Item> = possible
            .into_iter()
            .filter(|i| self.applies(i, date, &mut c))
            .collect();
        self.decide(form, date, exclusion, applies, hits, Vec::new(), &mut c);
        if c.verdict == Verdict::NotControlled && !possible_in_force.is_empty() {
            let codes: BTreeSet<&str> = possible_in_force.iter().map(|i| i.code.as_str()).collect();
            c.verdict = Verdict::Indeterminate;
            c.items.extend(possible_in_force.iter().map(|i| i.index));
            c.missing.push("a more specific `form`".into());
            step!(
                c,
                format!(
                    "An {form} containing {} may be {} ({}); give a specific form (oxide, compound, crystal, alloy...) to decide.",
                    possible_in_force
                        .iter()
                        .flat_map(|i| i.elements.iter().map(|e| e.symbol()))
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .collect::<Vec<_>>()
                        .join(", "),
                    codes.into_iter().collect::<Vec<_>>().join(", "),
                    possible_in_force[0].title
                ),
                Some(pack.item_source(possible_in_force[0])),
            );
        }
        // A listed element in a form whose listed families it matches none of
        // (a Sm-Fe-N or Gd-NdFeB magnet): never cleared (contract §5).
        if c.verdict == Verdict::NotControlled && !any_match {
            let guard = pack.unmatched.iter().find(|u| {
                u.forms.contains(form)
                    && u.elements.iter().any(|e| present.contains(e))
                    && (self.identify || pack.instruments[u.instrument].status(date).applies())
            });
            if let Some(u) = guard {
                c.unmatched = pack.unmatched.iter().position(|x| std::ptr::eq(x, u));
                let listed: Vec<&str> = u
                    .elements
                    .iter()
                    .filter(|e| present.contains(e))
                    .map(|e| e.symbol())
                    .collect();
                c.verdict = Verdict::Indeterminate;
                c.missing.push(format!(
                    "the {form}'s family (it contains {} but matches no listed family: give its full composition)",
                    listed.join(", ")
                ));
                step!(
                    c,
                    format!(
                        "Contains {} but matches no listed {form} family: {}",
                        listed.join(", "),
                        u.explanation
                    ),
                    Some(pack.source(u.instrument, &u.article)),
                );
            }
        }
        // An entry that could not be read may be exactly the element that
        // controls the product: only the valid entries' own controlled
        // verdict stands (contract §5, v2).
        if p.was_invalid("composition") && c.verdict != Verdict::Controlled {
            c.verdict = Verdict::Indeterminate;
            c.exclusion = None;
            c.codes.clear();
            c.titles.clear();
            c.uncoded.clear();
            c.source = None;
            c.missing
                .push("valid `composition` entries (some could not be read)".into());
            step!(
                c,
                "Some composition entries are invalid; what they stand for may be a listed element, so the product is not cleared until they are fixed.",
                None,
            );
        } else if p.was_invalid("composition") {
            step!(
                c,
                "Some composition entries are invalid; the valid ones already make it controlled, but the codes may be incomplete until they are fixed.",
                None,
            );
        }
        c
    }

    fn part(&mut self, p: &Product, form: &Form, date: Date) -> Classification {
        let pack = self.pack;
        let exclusion = self.exclusion_for(form);
        let applies = exclusion.map(|e| exclusion_applies(e, p));
        let mut c = self.fresh(Verdict::NotControlled);
        let components: Vec<&str> = p
            .components
            .as_ref()
            .map(|f| f.value.iter().map(|s| s.value.as_str()).collect())
            .unwrap_or_default();
        if components.is_empty() {
            if let (Some(e), Some(Tri::Yes)) = (exclusion, applies) {
                // Unknown contents: the exclusion decides only while no item
                // it does not reach (Ann. 57's Ho magnets once it applies)
                // could be inside.
                if let Some(first) = self.unreached_magnet(e, date, &mut c) {
                    c.verdict = Verdict::Indeterminate;
                    c.missing
                        .push("`components` (the magnets it contains)".into());
                    step!(
                        c,
                        format!(
                            "Exclusion `{}` covers {} only; without `components` this {form} may hold {} ({}), which it does not reach.",
                            e.id,
                            scope_names(pack, e),
                            first.code,
                            first.title
                        ),
                        Some(pack.item_source(first)),
                    );
                    return c;
                }
                c.verdict = Verdict::Excluded;
                c.exclusion = Some(e.id.clone());
                step!(
                    c,
                    format!("Exclusion `{}`: {}", e.id, e.explanation),
                    Some(pack.source(e.instrument, &e.article)),
                );
                step!(
                    c,
                    "Its components are not listed; the exclusion applies to the product's own form and structure.",
                    None
                );
                return c;
            }
            c.verdict = Verdict::Indeterminate;
            c.missing
                .push("`components` (the magnets or materials it contains)".into());
            if let (Some(_), Some(Tri::Unknown(field))) = (exclusion, applies) {
                c.missing.push(format!("`{field}`"));
            }
            step!(
                c,
                format!(
                    "A {form} is classified by what it contains; list its magnets or materials in `components` (absence of data is never clearance)."
                ),
                None
            );
            return c;
        }
        let mut hits: Vec<Hit> = Vec::new();
        let mut inherited: Vec<(Hit, String)> = Vec::new(); // (code, exclusion) from excluded components
        for sku in components {
            let Some(at) = self.lookup.product(sku) else {
                c.missing
                    .push(format!("component `{sku}` (no product has this SKU)"));
                step!(
                    c,
                    format!(
                        "Component `{sku}` is not defined in the workspace: its contents are unknown."
                    ),
                    None
                );
                continue;
            };
            if self.stack.len() >= MAX_COMPONENT_DEPTH {
                c.missing.push(format!("component `{sku}` (components nested deeper than {MAX_COMPONENT_DEPTH} levels are not followed)"));
                step!(
                    c,
                    format!(
                        "Component `{sku}` is nested deeper than {MAX_COMPONENT_DEPTH} levels; its contents are not followed."
                    ),
                    None
                );
                continue;
            }
            if self.stack.contains(&at) {
                c.missing.push(format!(
                    "component `{sku}` (it contains this product: a cycle)"
                ));
                step!(
                    c,
                    format!(
                        "Component `{sku}` contains this product again (a cycle); it is not followed."
                    ),
                    None
                );
                continue;
            }
            let sub = self.component(sku, at, date);
            for d in &sub.dormant {
                if !c.dormant.iter().any(|x| x.code == d.code) {
                    c.dormant.push(d.clone());
                }
            }
            for a in &sub.assumptions {
                c.assume(a.instrument, a.status, None);
                for code in &a.codes {
                    c.assume(a.instrument, a.status, Some(code));
                }
            }
            match sub.verdict {
                Verdict::Controlled => {
                    step!(
                        c,
                        format!("Component `{sku}` is controlled: {}.", sub.codes.join(", ")),
                        None,
                    );
                    for h in Hit::of_classification(pack, &sub) {
                        if !hits.iter().any(|x| x.code == h.code) {
                            hits.push(h);
                        }
                    }
                }
                Verdict::Excluded => {
                    let ex = sub.exclusion.clone().unwrap_or_default();
                    step!(
                        c,
                        format!(
                            "Component `{sku}` is excluded (`{ex}`){}.",
                            if sub.codes.is_empty() {
                                String::new()
                            } else {
                                format!(": {}", sub.codes.join(", "))
                            }
                        ),
                        None,
                    );
                    for h in Hit::of_classification(pack, &sub) {
                        inherited.push((h, ex.clone()));
                    }
                    if sub.codes.is_empty() {
                        inherited.push((Hit::none(), ex));
                    }
                }
                Verdict::Indeterminate => {
                    c.missing
                        .push(format!("the classification of component `{sku}`"));
                    step!(
                        c,
                        format!(
                            "Component `{sku}` is indeterminate: {}.",
                            sub.missing.join(", ")
                        ),
                        None,
                    );
                }
                Verdict::NotControlled => {
                    step!(c, format!("Component `{sku}` is not controlled."), None)
                }
            }
        }
        self.decide(form, date, exclusion, applies, hits, inherited, &mut c);
        c
    }

    /// A magnet item that applies on `date` and that exclusion `e` does not
    /// reach (Ann. 57's Ho magnets for the FAQ V exclusions of Ann. 18): an
    /// assembly whose magnets are unknown may hold one.
    fn unreached_magnet(
        &self,
        e: &Exclusion,
        date: Date,
        c: &mut Classification,
    ) -> Option<&'a Item> {
        let pack = self.pack;
        pack.items.iter().find(|i| {
            !e.takes(&pack.vocab.codes, i.instrument, &i.code)
                && i.forms.iter().any(|f| pack.vocab.has_role(f, Role::Magnet))
                && self.applies(i, date, c)
        })
    }

    /// For an exclusion that names the items it takes out (`items`): a
    /// material item that applies on `date` and that it does not take out
    /// (a Sc-Al alloy part of a consumer product): an unknown component may
    /// be one.
    fn unreached_item(
        &self,
        e: &Exclusion,
        date: Date,
        c: &mut Classification,
    ) -> Option<&'a Item> {
        let pack = self.pack;
        e.items.as_ref()?;
        pack.items.iter().find(|i| {
            !i.by_facts()
                && !e.takes(&pack.vocab.codes, i.instrument, &i.code)
                && i.forms.iter().any(|f| {
                    pack.vocab
                        .form_of(f)
                        .is_some_and(|d| d.category == Category::Material)
                })
                && self.applies(i, date, c)
        })
    }

    /// Applies the form's exclusion to the in-force codes and sets the verdict.
    #[allow(clippy::too_many_arguments)]
    fn decide(
        &self,
        form: &Form,
        date: Date,
        exclusion: Option<&Exclusion>,
        applies: Option<Tri>,
        hits: Vec<Hit>,
        inherited: Vec<(Hit, String)>,
        c: &mut Classification,
    ) {
        let pack = self.pack;
        let in_scope = |e: &Exclusion, h: &Hit| e.takes(&pack.vocab.codes, h.instrument, &h.code);
        let unknown_parts = !c.missing.is_empty();
        match (exclusion, applies) {
            (Some(e), Some(Tri::Yes)) => {
                let (taken, kept): (Vec<_>, Vec<_>) =
                    hits.into_iter().partition(|h| in_scope(e, h));
                step!(
                    c,
                    format!("Exclusion `{}` applies: {}", e.id, e.explanation),
                    Some(pack.source(e.instrument, &e.article)),
                );
                if !kept.is_empty() {
                    c.verdict = Verdict::Controlled;
                    set_codes(c, kept);
                    step!(
                        c,
                        format!(
                            "The exclusion covers {} only; {} stay controlled.",
                            scope_names(pack, e),
                            c.codes.join(", ")
                        ),
                        None,
                    );
                } else if let Some((first, may, then)) = unknown_parts
                    .then(|| {
                        // Some components are unknown: they may be magnets
                        // the exclusion does not reach, or (an exclusion
                        // that takes out some items only) hold another
                        // listed item, which stays controlled. Not decided
                        // (absence of data is never clearance).
                        self.unreached_magnet(e, date, c)
                            .map(|i| (i, "be", "it does not reach"))
                            .or_else(|| {
                                self.unreached_item(e, date, c).map(|i| {
                                    (i, "hold another listed item, e.g.", "stays controlled")
                                })
                            })
                    })
                    .flatten()
                {
                    c.verdict = Verdict::Indeterminate;
                    step!(
                        c,
                        format!(
                            "Exclusion `{}` covers {} only; an unknown component may {may} {} ({}), which {then}.",
                            e.id,
                            scope_names(pack, e),
                            first.code,
                            first.title
                        ),
                        Some(pack.item_source(first)),
                    );
                } else if taken.is_empty() && inherited.is_empty() && !unknown_parts {
                    // Every component is known and none is listed: there is
                    // nothing to take out (contract §5: `excluded` is for a
                    // product that is, or contains, a listed item).
                    c.verdict = Verdict::NotControlled;
                    if c.dormant.is_empty() {
                        step!(
                            c,
                            "None of its components is a listed item in force: there is nothing for the exclusion to take out.",
                            None
                        );
                    }
                } else {
                    c.verdict = Verdict::Excluded;
                    c.exclusion = Some(e.id.clone());
                    set_codes(
                        c,
                        taken
                            .into_iter()
                            .chain(inherited.into_iter().map(|(h, _)| h)),
                    );
                    c.missing.clear();
                }
            }
            (Some(e), Some(Tri::Unknown(field))) if hits.iter().any(|h| in_scope(e, h)) => {
                c.verdict = Verdict::Indeterminate;
                c.missing.push(format!("`{field}`"));
                step!(
                    c,
                    format!(
                        "Whether exclusion `{}` applies depends on `{field}`, which is not given: {}",
                        e.id, e.explanation
                    ),
                    Some(pack.source(e.instrument, &e.article)),
                );
            }
            _ => {
                if let (Some(e), Some(Tri::No)) = (exclusion, applies) {
                    step!(
                        c,
                        format!(
                            "Exclusion `{}` does not apply to this {form}: its conditions are not met.",
                            e.id
                        ),
                        Some(pack.source(e.instrument, &e.article))
                    );
                }
                if !hits.is_empty() {
                    c.verdict = Verdict::Controlled;
                    set_codes(c, hits);
                } else if unknown_parts {
                    c.verdict = Verdict::Indeterminate;
                } else if let Some((_, ex)) = inherited.first() {
                    c.verdict = Verdict::Excluded;
                    c.exclusion = Some(ex.clone());
                    set_codes(c, inherited.into_iter().map(|(h, _)| h));
                } else {
                    c.verdict = Verdict::NotControlled;
                    if c.dormant.is_empty() {
                        step!(c, "No listed item in force matches.", None);
                    }
                }
            }
        }
    }
}

/// A matched code with the instrument and the title of the item behind it.
#[derive(Clone, Debug)]
struct Hit {
    code: String,
    instrument: usize,
    title: Arc<str>,
    /// The item's index in the pack (`usize::MAX`: from a component).
    item: usize,
    /// Where it is listed: the item's article, or the rule's (Ann. 61 limb).
    article: Arc<str>,
}

impl Hit {
    fn of(item: &Item) -> Hit {
        Hit {
            code: item.code.clone(),
            instrument: item.instrument,
            title: item.title.clone(),
            item: item.index,
            article: item.article.clone(),
        }
    }
    /// An excluded component whose contents are unknown: no code.
    fn none() -> Hit {
        Hit {
            code: String::new(),
            instrument: usize::MAX,
            title: Arc::from(""),
            item: usize::MAX,
            article: Arc::from(""),
        }
    }
    /// The codes of a component's classification, with their titles.
    fn of_classification(pack: &RulePack, c: &Classification) -> Vec<Hit> {
        c.codes
            .iter()
            .enumerate()
            .map(|(n, code)| {
                let listed = pack.items.iter().find(|i| &i.code == code);
                Hit {
                    code: code.clone(),
                    instrument: listed.map_or(usize::MAX, |i| i.instrument),
                    title: c.titles.get(n).cloned().unwrap_or_default(),
                    item: usize::MAX,
                    article: match (&c.source, listed) {
                        (Some((_, a)), _) if n == 0 => a.clone(),
                        (_, Some(i)) => i.article.clone(),
                        _ => Arc::from(""),
                    },
                }
            })
            .collect()
    }
}

/// Sets `codes` (sorted, distinct, no empty code) and their `titles`; when
/// several items share a code, their titles are joined.
fn set_codes(c: &mut Classification, hits: impl IntoIterator<Item = Hit>) {
    /// Per code: the titles of the items behind it, and where it is listed.
    type Listed = (Vec<Arc<str>>, usize, Arc<str>);
    let mut by_code: std::collections::BTreeMap<String, Listed> = Default::default();
    c.uncoded.clear();
    for h in hits {
        if h.code.is_empty() {
            // Controlled by a rule that gives no list code (an Ann. 61
            // annex entry): named by its title, never by an invented code.
            if !h.title.is_empty() && !c.uncoded.iter().any(|u| **u == *h.title) {
                c.uncoded.push(h.title.to_string());
                c.source = c.source.take().or(Some((h.instrument, h.article)));
            }
            continue;
        }
        if h.item != usize::MAX && !c.items.contains(&h.item) {
            c.items.push(h.item);
        }
        let (titles, _, _) = by_code
            .entry(h.code)
            .or_insert_with(|| (Vec::new(), h.instrument, h.article.clone()));
        if !h.title.is_empty() && !titles.contains(&h.title) {
            titles.push(h.title);
        }
    }
    if let Some((_, (_, inst, article))) = by_code.iter().next() {
        c.source = Some((*inst, article.clone()));
    }
    c.codes = by_code.keys().cloned().collect();
    // One title (the common case) is shared with the pack, not copied.
    c.titles = by_code
        .into_values()
        .map(|(t, _, _)| match t.as_slice() {
            [one] => one.clone(),
            many => many.join("; ").into(),
        })
        .collect();
}

/// Drops the `system` items that a wider matching `system` item of the same
/// instrument contains (Tb-Dy-Fe beats Dy-Fe, a Sm-Co target beats a Sm
/// target): the more specific listed system wins. An item whose elements
/// the wider one does not all have is another item and stays (a Y target
/// that also holds Ho and Cu is a Y target as well as a Ho-Cu target).
fn retain_widest<T>(v: &mut Vec<T>, item: impl Fn(&T) -> &Item) {
    let hidden: Vec<bool> = v
        .iter()
        .map(|x| {
            let i = item(x);
            i.mode == MatchMode::System
                && v.iter().any(|y| {
                    let w = item(y);
                    w.mode == MatchMode::System
                        && w.instrument == i.instrument
                        && w.elements.len() > i.elements.len()
                        && i.elements.iter().all(|e| w.elements.contains(e))
                })
        })
        .collect();
    let mut n = 0;
    v.retain(|_| {
        n += 1;
        !hidden[n - 1]
    });
}

/// What an exclusion reaches, in words: its scope's instruments, and the
/// items it names when it names them.
fn scope_names(pack: &RulePack, e: &Exclusion) -> String {
    let scope = e
        .scope
        .iter()
        .map(|i| pack.instruments[*i].title.clone())
        .collect::<Vec<_>>()
        .join(", ");
    match &e.items {
        Some(codes) => format!("{} items {}", scope, codes.join(", ")),
        None => scope,
    }
}

fn match_reason(item: &Item, form: &Form) -> String {
    let els = item
        .elements
        .iter()
        .map(|e| e.symbol())
        .collect::<Vec<_>>()
        .join("-");
    match item.mode {
        MatchMode::Largest => format!("a {form} whose largest constituent is {els}"),
        MatchMode::System => format!(
            "a {form} containing every element of the {els} system; no official minimum content"
        ),
        MatchMode::Contains => {
            format!("a {form} containing {els}; the official text sets no minimum content")
        }
    }
}

pub(crate) fn dormant_text(pack: &RulePack, d: &Dormant, date: Date) -> String {
    match d.status {
        Status::Suspended { by, until } => format!(
            "Would match {} — {}, but its announcement is suspended by {} until {until} (evaluation date {date}).",
            d.code, d.title, pack.instruments[by].title
        ),
        Status::NotYetEffective { effective } => {
            format!(
                "Would match {} — {}, but its announcement takes effect on {effective} (evaluation date {date}).",
                d.code, d.title
            )
        }
        Status::Unconfirmed { by, ended, .. } => format!(
            "Would match {} — {} if its announcement is still suspended by {} after the scheduled end {ended} (the reading the pack does not apply; evaluation date {date}).",
            d.code, d.title, pack.instruments[by].title
        ),
        Status::InForce => format!("Matches {}.", d.code),
    }
}

/// Whether a product is an entry of an annex part: by the list items it is
/// (or, for parts and goods, contains), or by an entry with no list code.
#[derive(Clone, Debug)]
enum Member {
    No,
    /// Undecided: the fact that would decide it.
    Maybe(String),
    Yes(Vec<Hit>),
}

impl Member {
    fn rank(&self) -> u8 {
        match self {
            Member::No => 0,
            Member::Maybe(_) => 1,
            Member::Yes(_) => 2,
        }
    }
    fn max(self, other: Member) -> Member {
        match (self, other) {
            (Member::Yes(mut a), Member::Yes(b)) => {
                a.extend(b);
                Member::Yes(a)
            }
            (a, b) => {
                if b.rank() > a.rank() {
                    b
                } else {
                    a
                }
            }
        }
    }
}

fn membership(
    codes: &crate::vocab::CodeGrammar,
    part: &AnnexPart,
    id: &Classification,
    p: &Product,
    form: &Form,
    present: &[Element],
) -> Member {
    let mut hits: Vec<Hit> = Vec::new();
    if id.verdict == Verdict::Controlled {
        for (n, code) in id.codes.iter().enumerate() {
            if part.items.iter().any(|i| codes.covers(i, code)) {
                hits.push(Hit {
                    code: code.clone(),
                    instrument: part.instrument,
                    title: id.titles.get(n).cloned().unwrap_or_default(),
                    item: usize::MAX,
                    article: part.article.clone(),
                });
            }
        }
    }
    let invalid = p.was_invalid("composition");
    for m in &part.matches {
        if m.forms.contains(form)
            && m.elements.iter().all(|e| present.contains(e))
            && m.any_of
                .iter()
                .all(|g| g.iter().any(|e| present.contains(e)))
        {
            hits.push(Hit {
                code: String::new(),
                instrument: part.instrument,
                title: m.title.clone(),
                item: usize::MAX,
                article: part.article.clone(),
            });
        }
    }
    if !hits.is_empty() {
        if part.possible_forms.contains(form) {
            return Member::Maybe(format!(
                "whether a {form} counts as a part, component or assembly under {} (the annex text was not read)",
                part.title
            ));
        }
        return Member::Yes(hits);
    }
    if id.verdict == Verdict::Indeterminate || invalid {
        let what = if id.missing.is_empty() {
            "valid `composition` entries".to_string()
        } else {
            id.missing.join(", ")
        };
        return Member::Maybe(format!("what it is under the list ({what})"));
    }
    Member::No
}

/// The fact an extraterritorial limb tests, on the product.
fn abroad_test(limb: &Extraterritorial, p: &Product) -> Tri {
    let made_abroad = match (&p.made_in, &p.cn_origin) {
        (Some(m), _) => Some(m.value != "CN"),
        (None, Some(o)) if !o.value => Some(true),
        _ => None,
    };
    let made = |then: Tri| match made_abroad {
        Some(true) => then,
        Some(false) => Tri::No,
        None => Tri::Unknown("made_in"),
    };
    match limb.test {
        AbroadTest::CnContentValue(t) => match &p.cn_content_value {
            Some(v) if v.value < t => Tri::No,
            Some(_) => made(Tri::Yes),
            None => made(Tri::Unknown("cn_content_value")),
        },
        AbroadTest::CnTechnology => match &p.cn_technology {
            Some(b) if !b.value => Tri::No,
            Some(_) => made(Tri::Yes),
            None => made(Tri::Unknown("cn_technology")),
        },
        AbroadTest::CnOrigin => match (&p.cn_origin, &p.made_in) {
            (Some(o), _) => {
                if o.value {
                    Tri::Yes
                } else {
                    Tri::No
                }
            }
            (None, Some(m)) if m.value == "CN" => Tri::Yes,
            _ => Tri::Unknown("cn_origin"),
        },
    }
}

/// The fact key an item is matched by.
fn fact_field(item: &Item) -> &'static str {
    if !item.cas.is_empty() {
        "cas"
    } else if !item.collectors.is_empty() {
        "collectors"
    } else {
        "technology_area"
    }
}

/// Whether the product states a fact the item is matched by; a form
/// classified by facts that does not state it (or states it invalidly) is
/// undecided, other forms simply do not match.
fn fact_test(item: &Item, p: &Product, by_facts: bool) -> Tri {
    let field = fact_field(item);
    let given: Option<Vec<&str>> = match field {
        "cas" => p
            .cas
            .as_ref()
            .map(|f| f.value.iter().map(|x| x.value.as_str()).collect()),
        "collectors" => p
            .collectors
            .as_ref()
            .map(|f| f.value.iter().map(|x| x.value.as_str()).collect()),
        _ => p
            .technology_area
            .as_ref()
            .map(|f| f.value.iter().map(|x| x.value.as_str()).collect()),
    };
    let wanted: Vec<&str> = match field {
        "cas" => item.cas.iter().map(String::as_str).collect(),
        "collectors" => item.collectors.iter().map(String::as_str).collect(),
        _ => item.technology_area.iter().map(|a| a.as_str()).collect(),
    };
    match given {
        Some(g) if g.iter().any(|x| wanted.contains(x)) => Tri::Yes,
        _ if p.was_invalid(field) => Tri::Unknown(field),
        Some(_) => Tri::No,
        None if by_facts => Tri::Unknown(field),
        None => Tri::No,
    }
}

fn exclusion_applies(e: &Exclusion, p: &Product) -> Tri {
    let conds = match &e.applies {
        Applies::Always => return Tri::Yes,
        Applies::Any(c) => c,
    };
    let mut unknown = None;
    for cond in conds {
        let r = match cond.field {
            CondField::Mounting => scalar(
                p.mounting.as_ref().map(|f| f.value.as_str()),
                &cond.test,
                "mounting",
            ),
            CondField::Category => scalar(
                p.category.as_ref().map(|f| f.value.as_str()),
                &cond.test,
                "category",
            ),
            CondField::Moulded => {
                boolean(p.moulded.as_ref().map(|f| f.value), &cond.test, "moulded")
            }
            CondField::Calcined => {
                boolean(p.calcined.as_ref().map(|f| f.value), &cond.test, "calcined")
            }
            CondField::Integrates => {
                let list: Vec<&str> = p
                    .integrates
                    .as_ref()
                    .map(|f| f.value.iter().map(|i| i.value.as_str()).collect())
                    .unwrap_or_default();
                // The FAQ's lists end in "等零部件" (and other parts): a part
                // name outside the known ones counts as one of them. A
                // placeholder ("", "none", "n/a", "-") names no part and the
                // magnets are the controlled item itself: neither counts
                // (contract §4, §5: a loose rotor integrating nothing stays
                // controlled).
                let counts = |x: &&str, v: &[String]| {
                    crate::catalogue::not_a_part(x).is_none()
                        && (v.iter().any(|y| y == x)
                            || crate::catalogue::Integrate::parse(x).is_none())
                };
                match &cond.test {
                    Test::AnyOf(v) | Test::In(v) => {
                        if list.iter().any(|x| counts(x, v)) {
                            Tri::Yes
                        } else {
                            Tri::No
                        }
                    }
                    Test::Equals(_) => Tri::No,
                }
            }
        };
        match r {
            Tri::Yes => return Tri::Yes,
            Tri::Unknown(f) => unknown = unknown.or(Some(f)),
            Tri::No => {}
        }
    }
    unknown.map_or(Tri::No, Tri::Unknown)
}

fn scalar(v: Option<&str>, t: &Test, field: &'static str) -> Tri {
    match (v, t) {
        (None, _) => Tri::Unknown(field),
        (Some(x), Test::In(vals) | Test::AnyOf(vals)) => {
            if vals.iter().any(|y| y == x) {
                Tri::Yes
            } else {
                Tri::No
            }
        }
        (Some(_), Test::Equals(_)) => Tri::No,
    }
}

fn boolean(v: Option<bool>, t: &Test, field: &'static str) -> Tri {
    match (v, t) {
        (None, _) => Tri::Unknown(field),
        (Some(x), Test::Equals(b)) => {
            if x == *b {
                Tri::Yes
            } else {
                Tri::No
            }
        }
        _ => Tri::No,
    }
}
