//! `catalogue-lsp dossier`: licence-application dossiers for the controlled
//! exports that have no usable licence, grouped the way MOFCOM licences are
//! issued (an individual licence: one end user), with the items and their
//! official titles, the parties, what is missing, the documents to attach and
//! the latest day to file. It reads the engine's verdicts and licence
//! diagnostics; it classifies nothing itself.
//!
//! The input is a list of [`Export`]s built in [`exports`] from the engine's
//! ledger of exports (contract §4a): each product with a `destination` and
//! each `[[shipment]]` (its own facts over its product's), with the
//! engine's findings in its table. A shipment's verdict is the engine's
//! classification of its product on the shipment's date (when that date is
//! not the product's: the one the run judged the shipment with, kept in the
//! ledger because the command asks for it, `Options::keep_judgements` and
//! `Ledger::judgement`; else asked of the engine's `Workspace::explain`).

pub mod calendar;
pub mod markdown;

use super::{LoadedFile, Run};
use crate::catalogue::{Amounts, ExportFacts, Field, Product, TableKind};
use crate::diagnostic::Code;
use crate::engine::exports::{Ledger, Source as ExportSource};
use crate::engine::{Analysis, Classification, FileResult, ProductResult, Verdict};
use crate::rules::RulePack;
use crate::text::Span;
use jiff::civil::Date;
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;

/// Working days MOFCOM has to decide on an application (Regulations Art. 17(1)).
pub const DECISION_WORKING_DAYS: u32 = 45;

/// The engine's findings that leave a controlled export without a usable
/// licence: none named, an unknown one, or one that does not cover it.
pub const UNUSABLE: &[Code] = &[
    Code::MissingLicence,
    Code::UnknownLicence,
    Code::LicenceExpired,
    Code::LicenceNotYetValid,
    Code::LicenceItemNotCovered,
    Code::LicenceEndUserNotCovered,
    Code::LicenceDestinationNotCovered,
    Code::CertificatePurposeNotAllowed,
];

/// Which exports the dossier covers.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Only this end user (compared without case and surrounding spaces).
    pub end_user: Option<String>,
    /// Only this destination (ISO alpha-2, any case).
    pub destination: Option<String>,
    /// The applicant of exports whose file names no `[catalogue].exporter`
    /// (`dossier --exporter`; a CSV catalogue has no `[catalogue]` table).
    pub exporter: Option<String>,
}

/// Where a fact comes from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Source {
    /// The instrument, notice or catalogue file.
    pub instrument: String,
    /// Article, answer or line.
    pub article: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub url: String,
    /// V verified, S secondary, ... (as the rule pack tags its records);
    /// empty for the catalogue's own facts.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub confidence: String,
}

impl Source {
    pub fn cite(&self) -> String {
        let mut s = self.instrument.clone();
        if !self.article.is_empty() {
            s.push_str(", ");
            s.push_str(&self.article);
        }
        if !self.confidence.is_empty() {
            s.push_str(&format!(" [{}]", self.confidence));
        }
        s
    }
}

/// The facts of contract v2 §4 an application needs (`end_use`, `contract`,
/// `euc`, the amounts), as the parser read them ([`Product::export_facts`]);
/// for a shipment, its own over its product's.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stated {
    pub end_use: Option<String>,
    pub contract: Option<String>,
    pub euc: Option<String>,
    pub quantity: Option<f64>,
    pub unit: Option<String>,
    pub value: Option<f64>,
    pub currency: Option<String>,
    /// A `quantity` was written without its `unit` (the parser reports it
    /// and keeps neither): the unit is what is missing.
    pub quantity_without_unit: bool,
}

impl Stated {
    /// The facts of a product's own export; `invalid`: the keys the parser
    /// found unusable in its table ([`Product::invalid`]).
    pub fn of_product(p: &ExportFacts, invalid: &[&str]) -> Stated {
        Stated::of_shipment(&ExportFacts::default(), &[], p, invalid)
    }

    /// The facts of a shipment: each of its own, else its product's. The
    /// amounts go in pairs: a shipment writing `quantity` or `unit` (even
    /// an unusable one) gives both (a missing half is missing), and
    /// likewise `value` and `currency`.
    pub fn of_shipment(
        own: &ExportFacts,
        own_invalid: &[&str],
        product: &ExportFacts,
        product_invalid: &[&str],
    ) -> Stated {
        let text = |a: &Option<Field<String>>, b: &Option<Field<String>>| {
            a.as_ref()
                .or(b.as_ref())
                .map(|f| f.value.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let (o, p) = (&own.amounts, &product.amounts);
        let writes = |a: &Amounts, invalid: &[&str], keys: [&str; 2]| {
            let given = if keys[0] == "quantity" {
                a.quantity.is_some() || a.unit.is_some()
            } else {
                a.value.is_some() || a.currency.is_some()
            };
            given || keys.iter().any(|k| invalid.contains(k))
        };
        let (q, q_invalid) = if writes(o, own_invalid, ["quantity", "unit"]) {
            (o, own_invalid)
        } else {
            (p, product_invalid)
        };
        let v = if writes(o, own_invalid, ["value", "currency"]) {
            o
        } else {
            p
        };
        Stated {
            end_use: text(&own.end_use, &product.end_use),
            contract: text(&own.contract, &product.contract),
            euc: text(&own.euc, &product.euc),
            quantity: q.quantity.as_ref().map(|f| f.value),
            unit: q.unit.as_ref().map(|f| f.value.to_string()),
            value: v.value.as_ref().map(|f| f.value),
            currency: v.currency.as_ref().map(|f| f.value.clone()),
            quantity_without_unit: q.quantity.is_none()
                && q.unit.is_none()
                && q_invalid.contains(&"quantity")
                && !q_invalid.contains(&"unit"),
        }
    }
}

/// A party or fact with where it is written (`file:line`).
#[derive(Clone, Debug, PartialEq)]
pub struct Cited {
    pub value: String,
    pub at: String,
}

/// What an export is written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A `[[product]]` with a `destination`.
    Product,
    /// A `[[shipment]]` of a product.
    Shipment,
}

/// One export to put in an application: one of the engine's exports
/// ([`crate::engine::exports::Ledger`]): a product with a `destination`, or
/// a `[[shipment]]` with its own date and overrides over its product's
/// facts. Everything the dossier says of an export comes from here.
#[derive(Clone, Debug)]
pub struct Export<'a> {
    /// Index of the file in the run where the export is written.
    pub file: usize,
    pub kind: Kind,
    /// The product exported (possibly in another file).
    pub product: &'a Product,
    pub sku: String,
    /// The engine's classification of the product on the export's date.
    pub classification: Arc<Classification>,
    /// The date the verdict and the findings were made for.
    pub as_of: Date,
    /// Where the export is written (its table header in `file`), for citing.
    pub at: Span,
    pub ship_date: Option<Date>,
    pub destination: Cited,
    pub end_user: Option<Cited>,
    /// The consignee, when given.
    pub importer: Option<Cited>,
    pub transfer: &'a str,
    pub purpose: Option<&'a str>,
    pub stated: Stated,
    pub licence: Option<String>,
    /// The engine's findings that leave it without a usable licence, those
    /// of a licence it exceeds, and an individual licence used on an
    /// earlier date.
    pub findings: Vec<(Code, String)>,
    /// The engine's `missing-end-use-evidence` findings on it.
    pub evidence: Vec<String>,
}

impl Export<'_> {
    /// The SKU, and for a shipment its date: "A (shipment on 2026-06-01)".
    pub fn label(&self) -> String {
        match (self.kind, self.ship_date) {
            (Kind::Shipment, Some(d)) => format!("{} (shipment on {d})", self.sku),
            _ => self.sku.clone(),
        }
    }

    /// The licences it exceeds (`licence-quantity-exceeded`,
    /// `licence-value-exceeded`): it needs a new licence for the excess.
    pub fn exceeds(&self) -> bool {
        self.findings.iter().any(|(c, _)| EXCEEDED.contains(c))
    }
}

/// The engine's findings of an export beyond its licence's limits.
pub const EXCEEDED: &[Code] = &[Code::LicenceQuantityExceeded, Code::LicenceValueExceeded];

impl Export<'_> {
    /// It uses an individual licence already used on an earlier date
    /// (`individual-licence-split-shipment`): "one batch, one licence", so
    /// it needs a licence of its own.
    pub fn splits(&self) -> bool {
        self.findings
            .iter()
            .any(|(c, _)| *c == Code::IndividualLicenceSplitShipment)
    }
}

/// A controlled product or export the dossier leaves out, and why.
#[derive(Clone, Debug, Serialize)]
pub struct Left {
    pub sku: String,
    pub file: String,
    pub line: usize,
    pub reason: String,
}

/// Which table of a file a diagnostic is in.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Table {
    Product(usize),
    Shipment(usize),
}

/// The engine's findings the dossier reads, by the table they are in.
type Found = FxHashMap<Table, Vec<(Code, String)>>;

fn findings_of(f: &LoadedFile, r: &FileResult) -> Found {
    // Product and shipment tables in source order, to find the table a
    // diagnostic is in.
    let tables: Vec<(Span, Table)> = f
        .catalogue
        .tables
        .iter()
        .filter_map(|t| match t.kind {
            TableKind::Product => Some((t.span, Table::Product(t.index))),
            TableKind::Shipment => Some((t.span, Table::Shipment(t.index))),
            _ => None,
        })
        .collect();
    let mut out = Found::default();
    for d in r.diagnostics.iter().filter(|d| {
        UNUSABLE.contains(&d.code)
            || EXCEEDED.contains(&d.code)
            || d.code == Code::IndividualLicenceSplitShipment
            || d.code == Code::MissingEndUseEvidence
    }) {
        let k = tables.partition_point(|(s, _)| s.start() <= d.span.start());
        if let Some(&(s, t)) = k.checked_sub(1).and_then(|k| tables.get(k)) {
            if s.end() >= d.span.end() {
                out.entry(t)
                    .or_default()
                    .push((d.code, d.full_message().into_owned()));
            }
        }
    }
    out
}

fn cite_in(f: &LoadedFile, key: &str, span: Span) -> String {
    format!("{key}, {}", catalogue_ref(f, span))
}

/// The exports of a run that need a licence application, and the products
/// and shipments left out with the reason (an indeterminate verdict, no
/// destination). The exports are the engine's ([`Ledger`]); a shipment's
/// verdict is the engine's classification of its product on its date.
pub fn exports(run: &Run) -> (Vec<Export<'_>>, Vec<Left>) {
    let mut out = Vec::new();
    let mut left = Vec::new();
    let ledger: Arc<Ledger> = run
        .results
        .iter()
        .find_map(|r| r.ledger.clone())
        .unwrap_or_default();
    let found: Vec<Found> = run
        .files
        .iter()
        .zip(&run.results)
        .map(|(f, r)| findings_of(f, r))
        .collect();
    let result_of = |(pf, pi): (usize, usize)| -> Option<&ProductResult> {
        let ps = &run.results.get(pf)?.products;
        ps.get(pi)
            .filter(|r| r.index == pi)
            .or_else(|| ps.iter().find(|r| r.index == pi))
    };
    // A shipment on another date than its product's evaluation date has
    // the engine's classification on its own date, the one the run judged
    // it with (kept in the ledger); asked of the engine when not kept.
    let ws = ledger
        .exports
        .iter()
        .enumerate()
        .any(|(i, e)| {
            matches!(e.source, ExportSource::Shipment(_)) && ledger.judgement(i).is_none()
        })
        .then(|| {
            Analysis::new()
                .judged(run.files.iter().map(|f| (&f.catalogue, f.pack.clone())))
                .build()
        });
    let mut memo: FxHashMap<((usize, usize), Date), Arc<Classification>> = FxHashMap::default();
    for (i, e) in ledger.exports.iter().enumerate() {
        let (Some(f), Some(pfile)) = (run.files.get(e.file), run.files.get(e.product.0)) else {
            continue;
        };
        let Some(p) = pfile.catalogue.products.get(e.product.1) else {
            continue;
        };
        let Some(res) = result_of(e.product) else {
            continue;
        };
        let sku = p.sku_str().unwrap_or("(no sku)").to_string();
        let mut mine = match e.source {
            ExportSource::Product(i) => found[e.file].get(&Table::Product(i)),
            ExportSource::Shipment(i) => found[e.file].get(&Table::Shipment(i)),
        }
        .cloned()
        .unwrap_or_default();
        let product_facts = p.export_facts();
        let cite_p = |key: &str, span: Span| cite_in(pfile, key, span);
        let x = match e.source {
            ExportSource::Product(_) => {
                let Some(d) = &p.destination else { continue };
                Export {
                    file: e.file,
                    kind: Kind::Product,
                    product: p,
                    sku,
                    classification: res.classification.clone(),
                    as_of: res.as_of,
                    at: p.header,
                    ship_date: p.ship_date.as_ref().map(|d| d.value),
                    destination: Cited {
                        value: d.value.clone(),
                        at: cite_p("destination", d.span),
                    },
                    end_user: p.end_user.as_ref().map(|u| Cited {
                        value: u.value.clone(),
                        at: cite_p("end_user", u.span),
                    }),
                    importer: product_facts.importer.as_ref().map(|i| Cited {
                        value: i.value.clone(),
                        at: cite_p("importer", i.span),
                    }),
                    transfer: p.transfer.as_ref().map_or("trade", |t| t.value.as_str()),
                    purpose: p.purpose.as_ref().map(|x| x.value.as_str()),
                    stated: Stated::of_product(product_facts, &p.invalid),
                    licence: e.licence.clone(),
                    findings: Vec::new(),
                    evidence: Vec::new(),
                }
            }
            ExportSource::Shipment(si) => {
                let Some(s) = f.catalogue.shipments.get(si) else {
                    continue;
                };
                let classification = if res.as_of == e.date {
                    res.classification.clone()
                } else if let Some(c) = ledger.judgement(i) {
                    c
                } else {
                    match &ws {
                        Some(ws) => memo
                            .entry((e.product, e.date))
                            .or_insert_with(|| {
                                #[cfg(test)]
                                EXPLAINED.with(|n| n.set(n.get() + 1));
                                ws.explain(e.product.0, e.product.1, e.date)
                            })
                            .clone(),
                        None => continue,
                    }
                };
                // Its own facts, else the product's, each cited where written.
                let pick =
                    |own: Option<&Field<String>>, of_p: Option<&Field<String>>, key: &str| {
                        own.map(|x| Cited {
                            value: x.value.clone(),
                            at: cite_in(f, key, x.span),
                        })
                        .or_else(|| {
                            of_p.map(|x| Cited {
                                value: x.value.clone(),
                                at: format!("{} (the product's)", cite_p(key, x.span)),
                            })
                        })
                    };
                if s.licence.is_none() && p.licence.is_some() {
                    // The product's licence, unknown: reported on the product.
                    if let Some(v) = found[e.product.0].get(&Table::Product(e.product.1)) {
                        mine.extend(v.iter().filter(|(c, _)| *c == Code::UnknownLicence).map(
                            |(c, m)| {
                                (
                                    *c,
                                    format!("{m} (the licence is the product's: the shipment names none)"),
                                )
                            },
                        ));
                    }
                }
                let label = format!("{sku} (shipment on {})", e.date);
                let Some(destination) = pick(
                    s.destination.as_ref(),
                    p.destination.as_ref(),
                    "destination",
                ) else {
                    if classification.verdict == Verdict::Controlled
                        && mine
                            .iter()
                            .any(|(c, _)| UNUSABLE.contains(c) || EXCEEDED.contains(c))
                    {
                        left.push(Left {
                            sku: label,
                            file: f.path.clone(),
                            line: f.lines.line_of(s.header.start()) + 1,
                            reason: "controlled and without a usable licence, but neither the shipment nor its product names a `destination`, so it is not an export (contract §4a): add the destination to include it".into(),
                        });
                    }
                    continue;
                };
                Export {
                    file: e.file,
                    kind: Kind::Shipment,
                    product: p,
                    sku,
                    classification,
                    as_of: e.date,
                    at: s.header,
                    ship_date: Some(e.date),
                    destination,
                    end_user: pick(s.end_user.as_ref(), p.end_user.as_ref(), "end_user"),
                    importer: pick(
                        s.facts.importer.as_ref(),
                        product_facts.importer.as_ref(),
                        "importer",
                    ),
                    transfer: s
                        .transfer
                        .as_ref()
                        .or(p.transfer.as_ref())
                        .map_or("trade", |t| t.value.as_str()),
                    purpose: s
                        .purpose
                        .as_ref()
                        .or(p.purpose.as_ref())
                        .map(|x| x.value.as_str()),
                    stated: Stated::of_shipment(&s.facts, &s.invalid, product_facts, &p.invalid),
                    licence: e.licence.clone(),
                    findings: Vec::new(),
                    evidence: Vec::new(),
                }
            }
        };
        let mut x = x;
        for (c, m) in mine {
            if c == Code::MissingEndUseEvidence {
                x.evidence.push(m);
            } else {
                x.findings.push((c, m));
            }
        }
        let line = f.lines.line_of(x.at.start()) + 1;
        match x.classification.verdict {
            Verdict::Controlled => {}
            Verdict::Indeterminate => {
                left.push(Left {
                    sku: x.label(),
                    file: f.path.clone(),
                    line,
                    reason: format!(
                        "indeterminate on {}: the facts given do not decide whether it is controlled{}; complete them and run the dossier again",
                        x.as_of,
                        missing_facts(&x.classification)
                    ),
                });
                continue;
            }
            _ => continue,
        }
        if x.findings.is_empty() {
            continue; // a licence that covers it
        }
        out.push(x);
    }
    // Controlled products without a usable licence that are not exports:
    // no destination, and no shipment either.
    for (fi, (f, r)) in run.files.iter().zip(&run.results).enumerate() {
        for res in &r.products {
            let Some(p) = f.catalogue.products.get(res.index) else {
                continue;
            };
            if p.destination.is_some()
                || res.verdict() != Verdict::Controlled
                || ledger.has_exports((fi, res.index))
            {
                continue;
            }
            let unusable = found[fi]
                .get(&Table::Product(res.index))
                .is_some_and(|v| v.iter().any(|(c, _)| UNUSABLE.contains(c)));
            if !unusable {
                continue;
            }
            left.push(Left {
                sku: res.sku.clone().unwrap_or_else(|| "(no sku)".into()),
                file: f.path.clone(),
                line: f.lines.line_of(p.header.start()) + 1,
                reason: if p.was_invalid("destination") {
                    "controlled and without a usable licence, but its `destination` is not a valid upper-case ISO 3166-1 alpha-2 code (`check` reports the invalid-value): fix it to include the export".into()
                } else {
                    "controlled and without a usable licence, but it names no `destination` and has no `[[shipment]]`, so it is not an export (contract §4a): add the destination (or a shipment) to include it".into()
                },
            });
        }
    }
    (out, left)
}

/// The shipments the engine's ledger does not count (contract §4a): one
/// without a `sku`, naming a SKU no product has (`unknown-sku`), or without
/// a valid `ship_date` is not judged and uses no licence, so no application,
/// balance or date count holds it. Each is listed with its place and what
/// to fix.
pub fn uncounted_shipments(run: &Run) -> Vec<Left> {
    let ledger: Arc<Ledger> = run
        .results
        .iter()
        .find_map(|r| r.ledger.clone())
        .unwrap_or_default();
    let counted: rustc_hash::FxHashSet<(usize, usize)> = ledger
        .exports
        .iter()
        .filter_map(|e| match e.source {
            ExportSource::Shipment(i) => Some((e.file, i)),
            ExportSource::Product(_) => None,
        })
        .collect();
    let skus: rustc_hash::FxHashSet<&str> = run
        .files
        .iter()
        .flat_map(|f| f.catalogue.products.iter().filter_map(|p| p.sku_str()))
        .collect();
    let mut out = Vec::new();
    for (fi, f) in run.files.iter().enumerate() {
        for (si, s) in f.catalogue.shipments.iter().enumerate() {
            if counted.contains(&(fi, si)) {
                continue;
            }
            let sku = s.sku_str();
            let mut why = Vec::new();
            match sku {
                None if s.invalid.contains(&"sku") => {
                    why.push("its `sku` is not valid (`check` reports the invalid-value)".to_string())
                }
                None => why.push("it names no `sku` (`check` reports the missing-field)".into()),
                Some(k) if !skus.contains(k) => why.push(format!(
                    "its `sku` `{k}` names no product of the catalogues (`check` reports the unknown-sku)"
                )),
                Some(_) => {}
            }
            match &s.ship_date {
                None if s.invalid.contains(&"ship_date") => why.push(
                    "its `ship_date` is not a valid date (`check` reports the invalid-value)"
                        .into(),
                ),
                None => {
                    why.push("it names no `ship_date` (`check` reports the missing-field)".into())
                }
                Some(_) => {}
            }
            if why.is_empty() {
                why.push("the engine's ledger does not count it".into());
            }
            let name = sku.unwrap_or("(no sku)");
            out.push(Left {
                sku: match &s.ship_date {
                    Some(d) => format!("{name} (shipment on {})", d.value),
                    None => format!("{name} (shipment without a date)"),
                },
                file: f.path.clone(),
                line: f.lines.line_of(s.header.start()) + 1,
                reason: format!(
                    "a shipment not counted: {}. It is not judged and uses no licence (contract §4a), so no application, licence balance or latest day to file includes it: fix it and run the dossier again",
                    why.join(", and ")
                ),
            });
        }
    }
    out
}

fn missing_facts(c: &Classification) -> String {
    let m = &c.missing;
    if m.is_empty() {
        String::new()
    } else {
        format!(" (missing: {})", m.join(", "))
    }
}

fn same_name(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

impl Selection {
    fn admits(&self, e: &Export<'_>) -> bool {
        self.end_user
            .as_deref()
            .is_none_or(|u| e.end_user.as_ref().is_some_and(|x| same_name(&x.value, u)))
            && self
                .destination
                .as_deref()
                .is_none_or(|d| e.destination.value.eq_ignore_ascii_case(d.trim()))
    }

    /// The selection in words.
    pub fn describe(&self) -> String {
        let mut s = "every controlled export without a usable licence (none named, unknown, expired, not yet valid, not covering it, over its limits, or an individual licence already used on another date)".to_string();
        if let Some(u) = &self.end_user {
            s.push_str(&format!(", end user \"{u}\""));
        }
        if let Some(d) = &self.destination {
            s.push_str(&format!(", destination {}", d.trim().to_uppercase()));
        }
        s
    }
}

// ---------------------------------------------------------------------------
// The dossier: one model, rendered as Markdown or serialised as JSON.

#[derive(Serialize)]
pub struct Dossier {
    pub tool: Tool,
    pub rule_pack: PackInfo,
    /// The day the dossier is prepared for (`--as-of`, else today).
    pub date: String,
    pub selection: String,
    pub applications: Vec<Application>,
    /// Controlled or possibly controlled products not included, and why.
    pub not_included: Vec<Left>,
    pub decision_period: DecisionPeriod,
    pub disclaimer: &'static str,
}

#[derive(Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Serialize)]
pub struct PackInfo {
    pub id: String,
    pub version: String,
    pub reviewed_through: String,
}

/// What the dates rest on: the period, its source, how it is counted, the
/// holiday notices used.
#[derive(Serialize)]
pub struct DecisionPeriod {
    pub working_days: u32,
    pub source: Source,
    pub counting: String,
    pub calendars: Vec<CalendarInfo>,
    pub margin_working_days: u32,
}

#[derive(Serialize)]
pub struct CalendarInfo {
    pub year: i16,
    pub notice: &'static str,
    pub url: &'static str,
}

/// The parties' facts with where they were read.
#[derive(Clone, Debug, Serialize)]
pub struct Party {
    pub name: Option<String>,
    pub source: String,
}

#[derive(Serialize)]
pub struct Application {
    pub number: usize,
    /// The licence to apply for, with its rule.
    pub licence: LicenceAdvice,
    pub exporter: Party,
    pub end_user: Party,
    /// The consignee; `None`: not given (the end user, unless stated otherwise).
    pub importer: Party,
    pub destination: Party,
    pub items: Vec<Item>,
    pub missing: Vec<Missing>,
    pub documents: Vec<Document>,
    pub dates: Dates,
    pub warnings: Vec<String>,
}

#[derive(Serialize)]
pub struct LicenceAdvice {
    pub kind: String,
    pub title: String,
    pub rule: String,
    pub source: Source,
}

#[derive(Serialize)]
pub struct Item {
    pub sku: String,
    /// What the export is written as: `product` (a product with a
    /// `destination`) or `shipment` (a `[[shipment]]` of it).
    pub export: &'static str,
    pub name: Option<String>,
    pub file: String,
    pub line: usize,
    pub control_codes: Vec<ControlCode>,
    /// Rules that control it without a list code (Ann. 61 annex entries).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub uncoded: Vec<String>,
    pub hs_code: Option<String>,
    pub quantity: Option<f64>,
    pub unit: Option<String>,
    pub value: Option<f64>,
    pub currency: Option<String>,
    pub contract: Option<String>,
    pub euc: Option<String>,
    pub end_use: Option<String>,
    pub transfer: String,
    pub purpose: Option<String>,
    pub ship_date: Option<String>,
    /// The date the verdict and the licence findings were made for.
    pub evaluated_on: String,
    /// The licence the catalogue names, if any, and why it cannot be used.
    pub licence: Option<String>,
    /// The licence whose limits it exceeds (`licence-quantity-exceeded`,
    /// `licence-value-exceeded`): a new licence is needed for the excess.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exceeds_licence: Option<String>,
    pub licence_findings: Vec<Finding>,
    /// Unconfirmed statuses the verdict rests on (contract §6).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub assumptions: Vec<String>,
    pub missing: Vec<&'static str>,
}

#[derive(Serialize)]
pub struct ControlCode {
    pub code: String,
    pub title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title_zh: String,
    pub source: Source,
}

#[derive(Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub message: String,
}

#[derive(Serialize)]
pub struct Missing {
    pub field: &'static str,
    /// The items that lack it (empty: the application as a whole).
    pub skus: Vec<String>,
    pub needed_for: &'static str,
    /// The engine's findings behind it (`missing-end-use-evidence`), by item.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<String>,
}

impl Item {
    /// The SKU, and for a shipment its date: "A (shipment on 2026-06-01)".
    pub fn label(&self) -> String {
        match (self.export, &self.ship_date) {
            ("shipment", Some(d)) => format!("{} (shipment on {d})", self.sku),
            _ => self.sku.clone(),
        }
    }
}

#[derive(Serialize)]
pub struct Document {
    pub title: &'static str,
    /// What it must contain or show, filled in from the catalogue where it can.
    pub contents: Vec<String>,
    pub source: Source,
}

#[derive(Serialize)]
pub struct Dates {
    pub first_ship_date: Option<String>,
    /// Items with no `ship_date` (not in the count).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub undated: Vec<String>,
    pub latest_filing_day: Option<String>,
    /// The latest day to file is before the dossier's date.
    pub filing_day_passed: bool,
    /// Filed on the dossier's date, the decision period's last day.
    pub decision_due_if_filed_on_date: Option<String>,
    /// Years counted without a verified holiday schedule, and the margin added for them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unverified_years: Vec<i16>,
    pub margin_working_days: u32,
    pub explanation: String,
}

pub const DISCLAIMER: &str = "An aid to a compliance officer, not legal advice. The facts come from the catalogue files (file:line) and the rule pack (instrument, article, confidence); parties were not screened against the control list or watch list. Check current MOFCOM announcements and the licensing system's own requirements before filing.";

// Facts of the domain brief (§0 update, §4), with their sources.

fn reg(pack: &RulePack, article: &str, confidence: &str) -> Source {
    match pack.instruments.iter().find(|i| i.id == "reg-792") {
        Some(i) => Source {
            instrument: i.title.to_string(),
            article: article.into(),
            url: i.url.to_string(),
            confidence: confidence.into(),
        },
        None => Source {
            instrument:
                "Regulations on Export Control of Dual-Use Items (State Council Decree 792)".into(),
            article: article.into(),
            url: String::new(),
            confidence: confidence.into(),
        },
    }
}

fn practice(what: &str) -> Source {
    Source {
        instrument: "Licensing practice reported in 2025-2026 by suppliers and trade press (xhmag.com, goudsmit.co.uk, adamasintel.com)".into(),
        article: what.into(),
        url: String::new(),
        confidence: "S".into(),
    }
}

/// The decision period's source (the figure is from summaries and practice;
/// the article is confirmed as the time-limit article).
fn decision_source(pack: &RulePack) -> Source {
    reg(
        pack,
        "Art. 17(1): decision within 45 working days of accepting the application; State Council referral or expert consultation can extend it; watch-list parties are not bound by the limit",
        "S",
    )
}

fn catalogue_ref(f: &LoadedFile, span: Span) -> String {
    format!("{}:{}", f.path, f.lines.line_of(span.start()) + 1)
}

fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// The amount of an item in words: `120 kg`, `CNY 50000`.
pub fn amount(q: Option<f64>, unit: Option<&str>) -> Option<String> {
    q.map(|q| match unit {
        Some(u) => format!("{} {u}", number(q)),
        None => number(q),
    })
}

/// Builds the dossier. `None` when nothing matched the selection.
pub fn build(run: &Run, sel: &Selection, date: Date) -> Result<Dossier, NothingMatched> {
    let (all, mut left) = exports(run);
    left.extend(uncounted_shipments(run));
    let total = all.len();
    let chosen: Vec<Export<'_>> = all.into_iter().filter(|e| sel.admits(e)).collect();
    if chosen.is_empty() {
        return Err(NothingMatched {
            selection: sel.describe(),
            without_licence: total,
            left: left.len(),
        });
    }
    let pack = &run.pack;
    // Group by exporter, end user, destination and importer (file order).
    type Key = (Option<String>, Option<String>, String, Option<String>);
    let mut groups: Vec<(Key, Vec<Export<'_>>)> = Vec::new();
    let mut slot: rustc_hash::FxHashMap<Key, usize> = Default::default();
    for e in chosen {
        let exporter = exporter_of(&run.files[e.file]).or(sel.exporter.as_deref());
        let key: Key = (
            exporter.map(|x| x.to_lowercase()),
            e.end_user.as_ref().map(|x| x.value.trim().to_lowercase()),
            e.destination.value.clone(),
            e.importer.as_ref().map(|x| x.value.trim().to_lowercase()),
        );
        match slot.get(&key) {
            Some(&i) => groups[i].1.push(e),
            None => {
                slot.insert(key.clone(), groups.len());
                groups.push((key, vec![e]));
            }
        }
    }
    let mut applications: Vec<Application> = groups
        .into_iter()
        .map(|(_, mut exports)| {
            exports.sort_by_key(|e| (e.ship_date.is_none(), e.ship_date));
            application(run, pack, sel, exports, date)
        })
        .collect();
    // The most urgent first: by latest day to file, undated last.
    applications.sort_by(|a, b| {
        (
            a.dates.latest_filing_day.is_none(),
            &a.dates.latest_filing_day,
        )
            .cmp(&(
                b.dates.latest_filing_day.is_none(),
                &b.dates.latest_filing_day,
            ))
    });
    for (i, a) in applications.iter_mut().enumerate() {
        a.number = i + 1;
    }
    let (years, margin) = (
        calendar::SCHEDULES
            .iter()
            .map(|s| CalendarInfo {
                year: s.year,
                notice: s.notice,
                url: s.url,
            })
            .collect(),
        calendar::MARGIN,
    );
    Ok(Dossier {
        tool: Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        },
        rule_pack: PackInfo {
            id: pack.id.clone(),
            version: pack.version.clone(),
            reviewed_through: pack.reviewed_through.to_string(),
        },
        date: date.to_string(),
        selection: sel.describe(),
        applications,
        not_included: left,
        decision_period: DecisionPeriod {
            working_days: DECISION_WORKING_DAYS,
            source: decision_source(pack),
            counting: format!(
                "Working days are Monday to Friday except PRC public holidays, plus the weekend days worked in exchange, as the State Council General Office's yearly notice sets them (embedded for {}). The period is counted from the first working day after filing, as if the application were accepted the day it is filed: acceptance can come later (incomplete materials), so file earlier. The latest day to file is the working day after which {DECISION_WORKING_DAYS} working days end before the first ship date. For a year without a verified notice weekdays are counted as working days and {margin} working days are added, so the date given is never later than the true one.",
                calendar::SCHEDULES
                    .iter()
                    .map(|s| s.year.to_string())
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
            calendars: years,
            margin_working_days: margin,
        },
        disclaimer: DISCLAIMER,
    })
}

/// Nothing matched the selection (exit 2).
#[derive(Debug)]
pub struct NothingMatched {
    pub selection: String,
    /// Controlled exports without a usable licence in the run, any party.
    pub without_licence: usize,
    /// Products and shipments left out (indeterminate, no destination,
    /// not counted).
    pub left: usize,
}

impl std::fmt::Display for NothingMatched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "nothing matched the selection ({}): no dossier written. The catalogues hold {} controlled export{} without a usable licence in all",
            self.selection,
            self.without_licence,
            if self.without_licence == 1 { "" } else { "s" }
        )?;
        if self.left > 0 {
            write!(
                f,
                ", and {} left out that may need one (products that are not exports or are indeterminate, shipments not counted; run without filters to see them)",
                self.left
            )?;
        }
        Ok(())
    }
}

fn exporter_of(f: &LoadedFile) -> Option<&str> {
    f.catalogue
        .catalogue
        .as_ref()
        .and_then(|c| c.exporter.as_ref())
        .map(|e| e.value.as_str())
        .filter(|s| !s.trim().is_empty())
}

fn application(
    run: &Run,
    pack: &RulePack,
    sel: &Selection,
    exports: Vec<Export<'_>>,
    date: Date,
) -> Application {
    let first = &exports[0];
    let ff = &run.files[first.file];
    let exporter = match ff
        .catalogue
        .catalogue
        .as_ref()
        .and_then(|c| c.exporter.as_ref())
    {
        Some(e) if !e.value.trim().is_empty() => Party {
            name: Some(e.value.clone()),
            source: format!("[catalogue].exporter, {}", catalogue_ref(ff, e.span)),
        },
        _ => match &sel.exporter {
            Some(name) => Party {
                name: Some(name.clone()),
                source: format!(
                    "--exporter on the command line (no [catalogue].exporter in {})",
                    ff.path
                ),
            },
            None => Party {
                name: None,
                source: format!("no [catalogue].exporter in {}", ff.path),
            },
        },
    };
    let end_user = match &first.end_user {
        Some(u) => Party {
            name: Some(u.value.clone()),
            source: u.at.clone(),
        },
        None => Party {
            name: None,
            source: format!("no end_user on {}", first.label()),
        },
    };
    let importer = match &first.importer {
        Some(i) => Party {
            name: Some(i.value.clone()),
            source: i.at.clone(),
        },
        None => Party {
            name: None,
            source: "not given: the end user is taken as the consignee".into(),
        },
    };
    let destination = Party {
        name: Some(first.destination.value.clone()),
        source: first.destination.at.clone(),
    };
    // The licence to apply for: the pack's type for one end user (the
    // default pack's individual licence); a pack always declares a type.
    let licence = match pack
        .licence_rules
        .iter()
        .find(|r| r.single_end_user())
        .or_else(|| pack.licence_rules.first())
    {
        Some(rule) => LicenceAdvice {
            kind: rule.kind.as_str().to_owned(),
            title: rule.title.clone(),
            rule: format!(
                "{} One application per end user; an individual licence is used as \"one batch, one licence\" (practice [S]). A general licence needs an internal compliance system and a track record.",
                rule.explanation
            ),
            source: Source {
                instrument: pack
                    .instruments
                    .get(rule.instrument)
                    .map_or(String::new(), |i| i.title.to_string()),
                article: rule.article.to_string(),
                url: pack
                    .instruments
                    .get(rule.instrument)
                    .map_or(String::new(), |i| i.url.to_string()),
                confidence: rule.confidence.clone(),
            },
        },
        None => LicenceAdvice {
            kind: String::new(),
            title: "the rule pack declares no licence type".into(),
            rule: String::new(),
            source: Source {
                instrument: String::new(),
                article: String::new(),
                url: String::new(),
                confidence: String::new(),
            },
        },
    };
    let items: Vec<Item> = exports.iter().map(|e| item(run, e)).collect();
    let mut warnings = Vec::new();
    // What is missing, field by field.
    let mut missing = Vec::new();
    if exporter.name.is_none() {
        missing.push(Missing {
            field: "exporter",
            skus: Vec::new(),
            needed_for: "the applicant: set [catalogue].exporter (or pass --exporter)",
            findings: Vec::new(),
        });
    }
    for (field, needed_for) in MISSING_FIELDS {
        let skus: Vec<String> = items
            .iter()
            .filter(|i| i.missing.contains(field))
            .map(Item::label)
            .collect();
        if !skus.is_empty() {
            missing.push(Missing {
                field,
                skus,
                needed_for,
                findings: Vec::new(),
            });
        }
    }
    // The engine's own finding on the evidence an application needs.
    let evidence: Vec<&Export<'_>> = exports.iter().filter(|e| !e.evidence.is_empty()).collect();
    if !evidence.is_empty() {
        missing.push(Missing {
            field: "missing-end-use-evidence",
            skus: evidence.iter().map(|e| e.label()).collect(),
            needed_for: "the engine finds the export lacks facts an individual licence application needs (end user, end use, contract, end-user certificate)",
            findings: evidence
                .iter()
                .flat_map(|e| e.evidence.iter().map(move |m| format!("{}: {m}", e.label())))
                .collect(),
        });
    }
    // An individual licence already used on an earlier date: these
    // exports need one of their own (the engine's finding, by item).
    let split: Vec<&Export<'_>> = exports.iter().filter(|e| e.splits()).collect();
    if !split.is_empty() {
        missing.push(Missing {
            field: "one licence per shipment",
            skus: split.iter().map(|e| e.label()).collect(),
            needed_for: "an individual licence is used as \"one batch, one licence\" (practice [S]) and the one these exports name is already used on an earlier date (the engine's individual-licence-split-shipment, listed with the item): each needs a licence of its own (this application), or ship it with the first batch",
            findings: Vec::new(),
        });
    }
    // Dates.
    let dates = dates(&exports, &items, date, &mut warnings);
    let ship_dates: Vec<&Date> = {
        let mut v: Vec<&Date> = exports
            .iter()
            .filter_map(|e| e.ship_date.as_ref())
            .collect();
        v.dedup();
        v
    };
    if ship_dates.len() > 1 {
        warnings.push(format!(
            "The items ship on {} different dates ({}): an individual licence is used as \"one batch, one licence\" (practice [S]), so each date needs its own licence, or apply for a general licence.",
            ship_dates.len(),
            ship_dates
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    // Licences compare names character for character: one spelling per party.
    for (what, name, of) in [
        (
            "end user",
            end_user.name.as_deref(),
            exports
                .iter()
                .map(|e| (sku_of(e), e.end_user.as_ref().map(|x| x.value.as_str())))
                .collect::<Vec<_>>(),
        ),
        (
            "importer",
            importer.name.as_deref(),
            exports
                .iter()
                .map(|e| (sku_of(e), e.importer.as_ref().map(|x| x.value.as_str())))
                .collect(),
        ),
    ] {
        let Some(name) = name else { continue };
        let other: Vec<String> = of
            .iter()
            .filter_map(|(sku, n)| n.filter(|n| *n != name).map(|n| format!("{sku} \"{n}\"")))
            .collect();
        if !other.is_empty() {
            warnings.push(format!(
                "The {what} is written differently on {}: grouped with \"{name}\" (case and spaces aside), but a licence compares names character for character; use one spelling, the one on the contract.",
                other.join(", ")
            ));
        }
    }
    for e in exports.iter().filter(|e| e.exceeds()) {
        warnings.push(format!(
            "{} exceeds the limits of licence `{}` (the engine's finding is listed with the item): what the licence does not cover needs a new licence, or the licence amended, before it ships; this application is for that excess.",
            e.label(),
            e.licence.as_deref().unwrap_or("?")
        ));
    }
    for i in &items {
        for a in &i.assumptions {
            warnings.push(format!("{}: {a}", i.label()));
        }
    }
    let documents = documents(pack, &items, &end_user);
    Application {
        number: 0,
        licence,
        exporter,
        end_user,
        importer,
        destination,
        items,
        missing,
        documents,
        dates,
        warnings,
    }
}

/// Fields an application needs of each export, with what for.
const MISSING_FIELDS: &[(&str, &str)] = &[
    (
        "end_user",
        "an individual licence names one end user, who signs the end-user and end-use certificate",
    ),
    (
        "end_use",
        "the end-user and end-use certificate states the specific civil end use",
    ),
    (
        "contract",
        "the contract is attached to the application and its number is stated in the certificate",
    ),
    (
        "euc",
        "the end-user and end-use certificate is part of the application (Regulations Art. 16)",
    ),
    (
        "quantity",
        "the certificate states a quantity matching the contract, and the licence is issued for it",
    ),
    (
        "unit",
        "a quantity without its unit (kg, g, t, pcs) cannot be compared with the contract",
    ),
    (
        "ship_date",
        "the latest day to file is counted back from the first ship date",
    ),
];

fn sku_of(e: &Export<'_>) -> String {
    e.label()
}

fn item(run: &Run, e: &Export<'_>) -> Item {
    let f = &run.files[e.file];
    let pack = &f.pack;
    let c = &e.classification;
    let control_codes = c
        .codes
        .iter()
        .map(|code| {
            let it = c
                .items
                .iter()
                .filter_map(|&i| pack.items.get(i))
                .find(|i| &i.code == code)
                .or_else(|| pack.items.iter().find(|i| &i.code == code));
            match it {
                Some(i) => {
                    let inst = pack.instruments.get(i.instrument);
                    ControlCode {
                        code: code.clone(),
                        title: i.title.to_string(),
                        title_zh: i.title_zh.clone(),
                        source: Source {
                            instrument: inst.map_or(String::new(), |x| x.title.to_string()),
                            article: i.article.to_string(),
                            url: inst.map_or(String::new(), |x| x.url.to_string()),
                            confidence: i.confidence.clone(),
                        },
                    }
                }
                None => ControlCode {
                    code: code.clone(),
                    title: "(no item of the rule pack has this code)".into(),
                    title_zh: String::new(),
                    source: Source {
                        instrument: format!("rule pack {} {}", pack.id, pack.version),
                        article: String::new(),
                        url: String::new(),
                        confidence: String::new(),
                    },
                },
            }
        })
        .collect();
    let s = &e.stated;
    let mut missing: Vec<&'static str> = Vec::new();
    if e.end_user.is_none() {
        missing.push("end_user");
    }
    if s.end_use.is_none() {
        missing.push("end_use");
    }
    if s.contract.is_none() {
        missing.push("contract");
    }
    if s.euc.is_none() {
        missing.push("euc");
    }
    if s.quantity_without_unit {
        missing.push("unit");
    } else if s.quantity.is_none() {
        missing.push("quantity");
    } else if s.unit.is_none() {
        missing.push("unit");
    }
    if e.ship_date.is_none() {
        missing.push("ship_date");
    }
    let assumptions = c
        .assumptions
        .iter()
        .filter_map(|a| pack.assumption_text(a.instrument, a.status))
        .map(|t| match &c.other_reading {
            Some(o) => format!(
                "{}. Under the other reading the verdict would be {}.",
                t.trim_end().trim_end_matches('.'),
                o.verdict.as_str()
            ),
            None => t,
        })
        .collect();
    Item {
        sku: e.sku.clone(),
        export: match e.kind {
            Kind::Product => "product",
            Kind::Shipment => "shipment",
        },
        name: e.product.name.as_ref().map(|n| n.value.clone()),
        file: f.path.clone(),
        line: f.lines.line_of(e.at.start()) + 1,
        control_codes,
        uncoded: c.uncoded.clone(),
        hs_code: e.product.hs_code.as_ref().map(|h| h.value.clone()),
        quantity: s.quantity,
        unit: s.unit.clone(),
        value: s.value,
        currency: s.currency.clone(),
        contract: s.contract.clone(),
        euc: s.euc.clone(),
        end_use: s.end_use.clone(),
        transfer: e.transfer.to_owned(),
        purpose: e.purpose.map(str::to_owned),
        ship_date: e.ship_date.map(|d| d.to_string()),
        evaluated_on: e.as_of.to_string(),
        licence: e.licence.clone(),
        exceeds_licence: e.exceeds().then(|| e.licence.clone()).flatten(),
        licence_findings: e
            .findings
            .iter()
            .map(|(code, message)| Finding {
                code: code.as_str(),
                message: message.clone(),
            })
            .collect(),
        assumptions,
        missing,
    }
}

fn dates(exports: &[Export<'_>], items: &[Item], date: Date, warnings: &mut Vec<String>) -> Dates {
    let undated: Vec<String> = items
        .iter()
        .filter(|i| i.ship_date.is_none())
        .map(Item::label)
        .collect();
    let first = exports.iter().filter_map(|e| e.ship_date).min();
    let n = DECISION_WORKING_DAYS;
    let due_today = calendar::decision_due(date, n);
    let Some(first) = first else {
        return Dates {
            first_ship_date: None,
            undated,
            latest_filing_day: None,
            filing_day_passed: false,
            decision_due_if_filed_on_date: due_today.as_ref().map(|c| c.date.to_string()),
            unverified_years: due_today
                .as_ref()
                .map_or(Vec::new(), |c| c.unverified_years.clone()),
            margin_working_days: due_today.as_ref().map_or(0, |c| c.margin),
            explanation: format!(
                "No item states a ship_date, so the latest day to file cannot be counted. Filed on {date}, the {n}-working-day decision period would end on {}.",
                due_today
                    .as_ref()
                    .map_or("(beyond the calendar)".into(), |c| c.date.to_string())
            ),
        };
    };
    let latest = calendar::latest_filing_day(first, n);
    let mut years: Vec<i16> = Vec::new();
    let mut margin = 0;
    for c in latest.iter().chain(due_today.iter()) {
        for y in &c.unverified_years {
            if !years.contains(y) {
                years.push(*y);
            }
        }
        margin = margin.max(c.margin);
    }
    years.sort_unstable();
    let passed = latest.as_ref().is_some_and(|l| l.date < date);
    let mut explanation = match &latest {
        Some(l) => format!(
            "First ship date {first}: file on or before {} so that the {n}-working-day decision period (counted from the first working day after filing) ends before it.",
            l.date
        ),
        None => format!("First ship date {first}: too close to the ends of the calendar to count."),
    };
    if let Some(l) = latest.as_ref().filter(|l| l.margin > 0) {
        explanation.push_str(&format!(
            " No verified holiday schedule for {}: weekdays were counted as working days and {} working days added, so this date is earlier than or equal to the true one; check the year's State Council holiday notice.",
            join_years(&l.unverified_years),
            l.margin
        ));
    }
    if first < date {
        warnings.push(format!(
            "The first ship date {first} is before the dossier's date {date}: if the export has left, it left without a usable licence; check the ship date."
        ));
    } else if passed {
        let due = due_today
            .as_ref()
            .map_or("(beyond the calendar)".into(), |c| c.date.to_string());
        warnings.push(format!(
            "TOO LATE TO FILE IN TIME: the latest day to file was {}, before the dossier's date {date}. Filed on {date}, MOFCOM's {n}-working-day period may run until {due}, after the first ship date {first}: move the ship date or expect the export to wait for the decision.",
            latest.as_ref().map_or(String::new(), |l| l.date.to_string())
        ));
    }
    if !undated.is_empty() {
        explanation.push_str(&format!(
            " Items without a ship_date are not in this count: {}.",
            undated.join(", ")
        ));
    }
    Dates {
        first_ship_date: Some(first.to_string()),
        undated,
        latest_filing_day: latest.as_ref().map(|l| l.date.to_string()),
        filing_day_passed: passed,
        decision_due_if_filed_on_date: due_today.as_ref().map(|c| c.date.to_string()),
        unverified_years: years,
        margin_working_days: margin,
        explanation,
    }
}

fn join_years(y: &[i16]) -> String {
    y.iter()
        .map(|y| y.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn or_missing(v: Option<&str>, field: &str) -> String {
    match v {
        Some(v) => v.to_string(),
        None => format!("MISSING (`{field}`)"),
    }
}

fn documents(pack: &RulePack, items: &[Item], end_user: &Party) -> Vec<Document> {
    let contracts: Vec<String> = items
        .iter()
        .map(|i| {
            format!(
                "{}: contract {}",
                i.label(),
                or_missing(i.contract.as_deref(), "contract")
            )
        })
        .collect();
    let tech: Vec<String> = items
        .iter()
        .map(|i| {
            format!(
                "{}{}: {}",
                i.label(),
                i.name
                    .as_deref()
                    .map_or(String::new(), |n| format!(" ({n})")),
                i.control_codes
                    .iter()
                    .map(|c| format!("{} {}", c.code, c.title))
                    .chain(i.uncoded.iter().cloned())
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        })
        .collect();
    let mut euc = vec![
        format!(
            "end user: {}",
            or_missing(end_user.name.as_deref(), "end_user")
        ),
        format!(
            "item and model: {}",
            items
                .iter()
                .map(|i| match &i.name {
                    Some(n) => format!("{} ({n})", i.label()),
                    None => i.label(),
                })
                .collect::<Vec<_>>()
                .join("; ")
        ),
        format!(
            "quantity, matching the contract: {}",
            items
                .iter()
                .map(|i| format!(
                    "{} {}",
                    i.label(),
                    amount(i.quantity, i.unit.as_deref())
                        .unwrap_or_else(|| "MISSING (`quantity`)".into())
                ))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        format!(
            "contract number: {}",
            items
                .iter()
                .map(|i| or_missing(i.contract.as_deref(), "contract"))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        format!(
            "specific civil end use: {}",
            items
                .iter()
                .map(|i| format!(
                    "{} {}",
                    i.label(),
                    or_missing(i.end_use.as_deref(), "end_use")
                ))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        "an undertaking not to transfer the items to a third party, or change the end use, without approval".into(),
    ];
    let refs: Vec<String> = items
        .iter()
        .filter_map(|i| i.euc.as_ref().map(|r| format!("{}: {r}", i.label())))
        .collect();
    euc.push(if refs.is_empty() {
        "certificate reference: MISSING (`euc`)".into()
    } else {
        format!("certificate reference: {}", refs.join("; "))
    });
    let art16 = reg(
        pack,
        "Art. 16: the application includes the end-user and end-use certificates; the contents listed are as reported in practice",
        "V for Art. 16, S for the contents",
    );
    vec![
        Document {
            title: "Copy of the export contract",
            contents: contracts,
            source: practice("the application is filed with the contract"),
        },
        Document {
            title: "Technical description or test report (composition by XRF or ICP) of each item",
            contents: tech,
            source: practice("a technical description or test report of the item"),
        },
        Document {
            title: "End-user and end-use certificate, signed by the end user",
            contents: euc,
            source: art16,
        },
        Document {
            title: "The application itself, through MOFCOM's online licensing system via the provincial commerce department",
            contents: vec![
                "applicant (exporter), end user, consignee, destination, items with codes, quantities and values, as above".into(),
            ],
            source: practice("filing route"),
        },
    ]
}

/// What went wrong writing a dossier.
#[derive(Debug)]
pub enum WriteError {
    /// `--output` names a path that exists.
    Exists(String),
    Io(String, std::io::Error),
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Exists(p) => write!(
                f,
                "{p}: already exists; the dossier is never written over a file: choose a new name or remove it"
            ),
            WriteError::Io(p, e) => write!(f, "{p}: cannot write the dossier: {e}"),
        }
    }
}

/// Writes `text` to a new file at `path`: fails if anything (a file, a
/// link, even a dangling one) is already there.
pub fn write_new(path: &std::path::Path, text: &str) -> Result<(), WriteError> {
    use std::io::Write;
    let shown = path.display().to_string();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                WriteError::Exists(shown.clone())
            } else {
                WriteError::Io(shown.clone(), e)
            }
        })?;
    f.write_all(text.as_bytes())
        .and_then(|_| f.flush())
        .map_err(|e| WriteError::Io(shown, e))
}

/// The dossier as pretty JSON.
pub fn to_json(d: &Dossier) -> String {
    let mut s = serde_json::to_string_pretty(d).unwrap_or_default();
    s.push('\n');
    s
}

/// The `dossier` command: runs the engine as `check` does, builds the
/// dossier and writes it (JSON when `json`, else Markdown) to `output` (a
/// new file) or `out`; returns the exit code: 0 written, 2 when nothing
/// matched or the run failed.
pub fn command(
    paths: Vec<PathBuf>,
    sel: Selection,
    as_of: Option<Date>,
    rules: Option<PathBuf>,
    json: bool,
    output: Option<PathBuf>,
    out: &mut impl std::io::Write,
) -> i32 {
    use crate::clock::today;
    use crate::engine::Options;
    use crate::report;
    let paths = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths
    };
    let date = as_of.unwrap_or_else(today);
    let opts = Options {
        as_of,
        today: today(),
        explain: false,
        // The dossier reads each shipment's classification: kept, not made again.
        keep_judgements: true,
    };
    let run = match report::run(&paths, rules.as_deref(), &opts) {
        Ok(run) => run,
        Err(e) => {
            if let report::RunError::NothingJudged { skipped, .. } = &e {
                for n in crate::source::skip_notes(skipped) {
                    eprintln!("{n}");
                }
            }
            eprintln!("error: {e}");
            return 2;
        }
    };
    for n in crate::source::skip_notes(&run.skipped) {
        eprintln!("{n}");
    }
    let unread = run.unread();
    if unread > 0 {
        eprintln!(
            "error: {unread} catalogue path{} could not be read (listed above): a dossier from part of the catalogues could leave items out, so none is written; fix or remove them, or name the other paths",
            if unread == 1 { "" } else { "s" }
        );
        return 2;
    }
    let d = match build(&run, &sel, date) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let text = if json {
        to_json(&d)
    } else {
        markdown::render(&d)
    };
    match output {
        Some(p) => match write_new(&p, &text) {
            Ok(()) => {
                let items: usize = d.applications.iter().map(|a| a.items.len()).sum();
                eprintln!(
                    "wrote {}: {} application{}, {items} export{}",
                    p.display(),
                    d.applications.len(),
                    if d.applications.len() == 1 { "" } else { "s" },
                    if items == 1 { "" } else { "s" }
                );
                0
            }
            Err(e) => {
                eprintln!("error: {e}");
                2
            }
        },
        None => match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
            Ok(()) => 0,
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
            Err(e) => {
                eprintln!("error: cannot write the dossier: {e}");
                2
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(text: &str) -> ExportFacts {
        let cat = crate::catalogue::parse(text);
        cat.products
            .first()
            .map(|p| p.export_facts().clone())
            .or_else(|| cat.shipments.first().map(|s| s.facts.clone()))
            .unwrap_or_default()
    }

    /// A product's facts as the parser read them; a shipment's own over
    /// them, the amounts in pairs (a shipment's `quantity` without `unit`
    /// leaves the unit missing, not the product's).
    #[test]
    fn stated_facts_come_from_the_model_with_shipment_overrides() {
        let p = facts(
            "[[product]]\nsku = \"A\"\nend_use = \" motors \"\ncontract = \"C-1\"\nquantity = 120\nunit = \"kg\"\nvalue = 5.5\ncurrency = \"EUR\"\n",
        );
        let s = Stated::of_product(&p, &[]);
        assert_eq!(s.end_use.as_deref(), Some("motors"));
        assert_eq!(s.contract.as_deref(), Some("C-1"));
        assert_eq!((s.quantity, s.unit.as_deref()), (Some(120.0), Some("kg")));
        assert_eq!((s.value, s.currency.as_deref()), (Some(5.5), Some("EUR")));
        assert_eq!(s.euc, None);
        let own = facts(
            "[[shipment]]\nsku = \"A\"\nship_date = 2026-06-01\ncontract = \"C-2\"\nquantity = 3\nunit = \"t\"\n",
        );
        let s = Stated::of_shipment(&own, &[], &p, &[]);
        assert_eq!(s.contract.as_deref(), Some("C-2"));
        assert_eq!(s.end_use.as_deref(), Some("motors"));
        assert_eq!((s.quantity, s.unit.as_deref()), (Some(3.0), Some("t")));
        assert_eq!((s.value, s.currency.as_deref()), (Some(5.5), Some("EUR")));
        assert!(!s.quantity_without_unit);
        // A shipment's quantity without a unit: the parser keeps neither and
        // says so; the unit is missing, the product's amount is not used.
        let text = "[[shipment]]\nsku = \"A\"\nship_date = 2026-06-01\nquantity = 3\n";
        let cat = crate::catalogue::parse(text);
        let sh = &cat.shipments[0];
        let s = Stated::of_shipment(&sh.facts, &sh.invalid, &p, &[]);
        assert_eq!((s.quantity, s.unit.as_deref()), (None, None));
        assert!(s.quantity_without_unit);
        assert_eq!((s.value, s.currency.as_deref()), (Some(5.5), Some("EUR")));
    }

    #[test]
    fn amounts_print_whole_numbers_without_a_fraction() {
        assert_eq!(amount(Some(120.0), Some("kg")).as_deref(), Some("120 kg"));
        assert_eq!(amount(Some(0.5), None).as_deref(), Some("0.5"));
        assert_eq!(amount(None, Some("kg")), None);
    }
}

#[cfg(test)]
thread_local! {
    /// Classifications the dossier asked of the engine (not kept in the
    /// ledger) on this thread: `kept_judgements` counts them.
    static EXPLAINED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

#[cfg(test)]
mod kept_judgements {
    use super::*;
    use crate::engine::Options;

    fn run_of(keep: bool) -> Run {
        let d = Date::constant(2026, 6, 1);
        let opts = Options {
            as_of: Some(d),
            today: d,
            explain: false,
            keep_judgements: keep,
        };
        let paths = [PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/shipments.catalogue.toml"
        ))];
        match crate::report::run(&paths, None, &opts) {
            Ok(run) => run,
            Err(e) => panic!("the example runs: {e}"),
        }
    }

    fn kept(run: &Run) -> usize {
        let ledger = run.results.iter().find_map(|r| r.ledger.clone());
        ledger.map_or(0, |l| {
            (0..l.exports.len())
                .filter(|&i| l.judgement(i).is_some())
                .count()
        })
    }

    /// `keep_judgements` (the `dossier` command) keeps each shipment's
    /// classification in the ledger, so the dossier asks the engine for
    /// none again (`EXPLAINED` stays 0); without it (`check`, the server)
    /// nothing is kept and the dossier asks. The dossier is the same either
    /// way.
    #[test]
    fn the_dossier_reuses_the_runs_classifications() {
        let (with, without) = (run_of(true), run_of(false));
        let shipments = with
            .results
            .iter()
            .find_map(|r| r.ledger.clone())
            .map_or(0, |l| {
                l.exports
                    .iter()
                    .filter(|e| matches!(e.source, ExportSource::Shipment(_)))
                    .count()
            });
        assert!(shipments > 0, "the example has shipments");
        assert_eq!(kept(&with), shipments);
        assert_eq!(kept(&without), 0);
        let sel = Selection::default();
        let d = Date::constant(2026, 6, 1);
        // The classifications the dossier asks of the engine (the build
        // runs on this thread): none when the run kept them.
        let asked = |run: &Run| {
            let before = super::EXPLAINED.with(|n| n.get());
            let doc = build(run, &sel, d).map(|d| to_json(&d));
            (doc, super::EXPLAINED.with(|n| n.get()) - before)
        };
        let (a, asked_with) = asked(&with);
        let (b, asked_without) = asked(&without);
        assert_eq!(asked_with, 0, "the kept judgements are used");
        assert!(
            asked_without > 0,
            "the example has shipments on other dates than their products'"
        );
        assert!(a.is_ok());
        assert_eq!(a.ok(), b.ok());
    }
}
