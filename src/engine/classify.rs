//! Classification of one product on one date (spec §5, §6).

use crate::catalogue::{Form, Product};
use crate::chem::Element;
use crate::diagnostic::SourceRef;
use crate::rules::{Applies, CondField, Exclusion, Item, MatchMode, RulePack, Status, Test};
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

/// The classification of a product on a date.
#[derive(Clone, Debug, PartialEq)]
pub struct Classification {
    pub verdict: Verdict,
    /// Controlled: the codes. Excluded: the codes the exclusion took out.
    pub codes: Vec<String>,
    pub exclusion: Option<String>,
    /// Facts that would decide an indeterminate verdict.
    pub missing: Vec<String>,
    pub dormant: Vec<Dormant>,
    pub trace: Vec<TraceStep>,
    /// Whether `trace` is being built (the CLI does not print it).
    pub explain: bool,
}

impl Classification {
    fn new(verdict: Verdict) -> Self {
        Classification {
            verdict,
            codes: Vec::new(),
            exclusion: None,
            missing: Vec::new(),
            dormant: Vec::new(),
            trace: Vec::new(),
            explain: true,
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
    fn get(&self, at: (usize, usize)) -> &Product;
}

/// Classifies products, remembering results per (product, date) so shared
/// components are classified once, and detecting component cycles.
pub struct Classifier<'a, L: ProductLookup> {
    pack: &'a RulePack,
    lookup: &'a L,
    memo: FxHashMap<((usize, usize), Date), Arc<Classification>>,
    stack: Vec<(usize, usize)>,
    /// Build explanation traces (hovers, `explain`); `check` skips them.
    explain: bool,
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
        if let Some(c) = self.memo.get(&(at, date)) {
            return c.clone();
        }
        self.stack.push(at);
        let c = Arc::new(self.classify_uncached(self.lookup.get(at), date));
        self.stack.pop();
        self.memo.insert((at, date), c.clone());
        c
    }

    fn classify_uncached(&mut self, p: &Product, date: Date) -> Classification {
        if p.broken {
            let mut c = self.fresh(Verdict::Indeterminate);
            c.missing.push("a table free of syntax errors".into());
            step!(
                c,
                "The table has a TOML syntax error, so its facts may be incomplete; it is not classified until the error is fixed.",
                None
            );
            return c;
        }
        let Some(form) = p.form.as_ref().map(|f| f.value) else {
            let mut c = self.fresh(Verdict::Indeterminate);
            let what = if p.was_invalid("form") {
                "a valid `form`"
            } else {
                "`form`"
            };
            c.missing.push(what.into());
            step!(
                c,
                format!(
                    "No {what}: what the product physically is decides which items can match (spec §4). Absence of data is never clearance."
                ),
                None
            );
            return c;
        };
        if form.is_material() {
            self.material(p, form, date)
        } else {
            self.part(p, form, date)
        }
    }

    fn status_of(&self, item: &Item, date: Date) -> Status {
        self.pack.instruments[item.instrument].status(date)
    }

    fn material(&mut self, p: &Product, form: Form, date: Date) -> Classification {
        let pack = self.pack;
        let exclusion = pack.exclusions.iter().find(|e| e.forms.contains(&form));
        let applies = exclusion.map(|e| exclusion_applies(e, p));
        let Some(comp) = p.composition.as_ref().filter(|c| !c.entries.is_empty()) else {
            // Contents unknown: a form-level exclusion decides only if no in-force item outside its scope could match.
            if let (Some(e), Some(Tri::Yes)) = (exclusion, applies) {
                let outside: Vec<&Item> = pack
                    .items
                    .iter()
                    .filter(|i| {
                        i.forms.contains(&form)
                            && !e.scope.contains(&i.instrument)
                            && self.status_of(i, date) == Status::InForce
                    })
                    .collect();
                if outside.is_empty() {
                    let mut c = self.fresh(Verdict::Excluded);
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
                let mut c = self.fresh(Verdict::Indeterminate);
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
        let all_present = |els: &[Element]| els.iter().all(|e| present.contains(e));
        let mut matched: Vec<&Item> = Vec::new();
        let mut possible: Vec<&Item> = Vec::new();
        for item in &pack.items {
            if item.forms.contains(&form) {
                let ok = match item.mode {
                    MatchMode::Largest => largest == item.elements.first().copied(),
                    MatchMode::System | MatchMode::Contains => all_present(&item.elements),
                };
                if ok {
                    matched.push(item);
                }
            } else if item.possible_forms.contains(&form) && all_present(&item.elements) {
                possible.push(item);
            }
        }
        // Among alloy systems and targets, the systems with the most elements win.
        let widest = matched
            .iter()
            .filter(|i| i.mode == MatchMode::System)
            .map(|i| i.elements.len())
            .max()
            .unwrap_or(0);
        matched.retain(|i| i.mode != MatchMode::System || i.elements.len() == widest);

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
        let mut in_force: Vec<&Item> = Vec::new();
        for item in matched {
            match self.status_of(item, date) {
                Status::InForce => {
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
                    in_force.push(item);
                }
                status => c.dormant.push(Dormant {
                    code: item.code.clone(),
                    title: item.title.clone(),
                    status,
                    source: pack.item_source(item),
                }),
            }
        }
        for d in &c.dormant.clone() {
            step!(c, dormant_text(pack, d, date), Some(d.source.clone()));
        }
        let possible_in_force: Vec<&Item> = possible
            .into_iter()
            .filter(|i| self.status_of(i, date) == Status::InForce)
            .collect();
        let codes: Vec<(String, usize)> = in_force
            .iter()
            .map(|i| (i.code.clone(), i.instrument))
            .collect();
        self.decide(p, form, exclusion, applies, codes, Vec::new(), &mut c);
        if c.verdict == Verdict::NotControlled && !possible_in_force.is_empty() {
            let codes: BTreeSet<&str> = possible_in_force.iter().map(|i| i.code.as_str()).collect();
            c.verdict = Verdict::Indeterminate;
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
        c
    }

    fn part(&mut self, p: &Product, form: Form, date: Date) -> Classification {
        let pack = self.pack;
        let exclusion = pack.exclusions.iter().find(|e| e.forms.contains(&form));
        let applies = exclusion.map(|e| exclusion_applies(e, p));
        let mut c = self.fresh(Verdict::NotControlled);
        let components: Vec<&str> = p
            .components
            .as_ref()
            .map(|f| f.value.iter().map(|s| s.value.as_str()).collect())
            .unwrap_or_default();
        if components.is_empty() {
            if let (Some(e), Some(Tri::Yes)) = (exclusion, applies) {
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
        let mut codes: Vec<(String, usize)> = Vec::new();
        let mut inherited: Vec<(String, String)> = Vec::new(); // (code, exclusion) from excluded components
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
            let sub = self.classify(at, date);
            for d in &sub.dormant {
                if !c.dormant.iter().any(|x| x.code == d.code) {
                    c.dormant.push(d.clone());
                }
            }
            match sub.verdict {
                Verdict::Controlled => {
                    step!(
                        c,
                        format!("Component `{sku}` is controlled: {}.", sub.codes.join(", ")),
                        None,
                    );
                    for code in &sub.codes {
                        let inst = pack
                            .items
                            .iter()
                            .find(|i| &i.code == code)
                            .map_or(usize::MAX, |i| i.instrument);
                        if !codes.iter().any(|(x, _)| x == code) {
                            codes.push((code.clone(), inst));
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
                    for code in &sub.codes {
                        inherited.push((code.clone(), ex.clone()));
                    }
                    if sub.codes.is_empty() {
                        inherited.push((String::new(), ex));
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
        self.decide(p, form, exclusion, applies, codes, inherited, &mut c);
        c
    }

    /// Applies the form's exclusion to the in-force codes and sets the verdict.
    #[allow(clippy::too_many_arguments)]
    fn decide(
        &self,
        _p: &Product,
        form: Form,
        exclusion: Option<&Exclusion>,
        applies: Option<Tri>,
        codes: Vec<(String, usize)>,
        inherited: Vec<(String, String)>,
        c: &mut Classification,
    ) {
        let pack = self.pack;
        let in_scope = |e: &Exclusion, inst: usize| e.scope.contains(&inst);
        let unknown_parts = !c.missing.is_empty();
        match (exclusion, applies) {
            (Some(e), Some(Tri::Yes)) => {
                let (taken, kept): (Vec<_>, Vec<_>) =
                    codes.into_iter().partition(|(_, inst)| in_scope(e, *inst));
                step!(
                    c,
                    format!("Exclusion `{}` applies: {}", e.id, e.explanation),
                    Some(pack.source(e.instrument, &e.article)),
                );
                if !kept.is_empty() {
                    c.verdict = Verdict::Controlled;
                    c.codes = sorted(kept.into_iter().map(|(k, _)| k));
                    step!(
                        c,
                        format!(
                            "The exclusion covers {} only; {} stay controlled.",
                            scope_names(pack, e),
                            c.codes.join(", ")
                        ),
                        None,
                    );
                } else {
                    c.verdict = Verdict::Excluded;
                    c.exclusion = Some(e.id.clone());
                    c.codes = sorted(
                        taken
                            .into_iter()
                            .map(|(k, _)| k)
                            .chain(inherited.into_iter().map(|(k, _)| k))
                            .filter(|k| !k.is_empty()),
                    );
                    c.missing.clear();
                }
            }
            (Some(e), Some(Tri::Unknown(field)))
                if codes.iter().any(|(_, inst)| in_scope(e, *inst)) =>
            {
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
                if !codes.is_empty() {
                    c.verdict = Verdict::Controlled;
                    c.codes = sorted(codes.into_iter().map(|(k, _)| k));
                } else if unknown_parts {
                    c.verdict = Verdict::Indeterminate;
                } else if let Some((_, ex)) = inherited.first() {
                    c.verdict = Verdict::Excluded;
                    c.exclusion = Some(ex.clone());
                    c.codes = sorted(
                        inherited
                            .iter()
                            .map(|(k, _)| k.clone())
                            .filter(|k| !k.is_empty()),
                    );
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

fn sorted(it: impl Iterator<Item = String>) -> Vec<String> {
    let set: BTreeSet<String> = it.collect();
    set.into_iter().collect()
}

fn scope_names(pack: &RulePack, e: &Exclusion) -> String {
    e.scope
        .iter()
        .map(|i| pack.instruments[*i].title.clone())
        .collect::<Vec<_>>()
        .join(", ")
}

fn match_reason(item: &Item, form: Form) -> String {
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
        Status::InForce => format!("Matches {}.", d.code),
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
                match &cond.test {
                    Test::AnyOf(v) | Test::In(v) => {
                        if list.iter().any(|x| v.iter().any(|y| y == x)) {
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
