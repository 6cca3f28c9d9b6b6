//! Exports and licence balances (docs/format.md §4a).
//!
//! The exports of a workspace are each product with a `destination` (on its
//! evaluation date) and each `[[shipment]]` (on its `ship_date`, with the
//! product's facts and its own overrides). The [`Ledger`] lists them and
//! uses up each licence's limits in date order; it reads no classification,
//! so it is cheap to build again after an edit. A shipment's own judgement
//! (its classification on its date, the licence checks, end-use evidence)
//! is [`Workspace::export_diagnostics`].
//!
//! Order of use: `ship_date` (a product without one: its evaluation date),
//! then the order of the files in the workspace (the order `check` lists
//! them, the order the editor indexed them), then the order of the tables in
//! the file. Every export that names a licence counts against it, whatever
//! its verdict: it is what the catalogue says ships under that licence.

use super::classify::{Classification, Classifier, ProductLookup, Verdict};
use super::licence;
use super::workspace::{Options, Workspace};
use crate::catalogue::{
    Amounts, ExportFacts, Field, Licence, LicenceType, Product, Shift, Shipment, TableKind, Unit,
};
use crate::diagnostic::{Code, Diagnostic, FileIndex, FileRef, Related};
use crate::rules::RulePack;
use crate::text::Span;
use jiff::civil::Date;
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::Arc;

/// Where an export is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// A product with a `destination`: product index in its file.
    Product(usize),
    /// A `[[shipment]]`: shipment index in its file.
    Shipment(usize),
}

/// One export of the workspace.
#[derive(Clone, Debug)]
pub struct Export {
    /// The file it is written in.
    pub file: usize,
    pub source: Source,
    /// The product exported, as (file, index).
    pub product: (usize, usize),
    pub date: Date,
    /// The licence it names (its own or, for a shipment, the product's).
    pub licence: Option<String>,
    pub quantity: Option<(f64, Unit)>,
    /// Value and currency (boxed: few exports state one).
    pub value: Option<Box<(f64, String)>>,
    /// Where findings on its amount are shown: the amount, else the licence
    /// reference in its own table, else its header.
    pub anchor: Span,
    /// Byte offset of its table, for the order within a file.
    at: usize,
}

/// A licence's use after one export, in the licence's units.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Use {
    /// Quantity used so far, when the licence limits quantity.
    pub quantity: Option<f64>,
    /// Value used so far, when the licence limits value.
    pub value: Option<f64>,
}

/// A licence's limits and their use by its exports.
#[derive(Clone, Debug)]
pub struct Balance {
    pub id: String,
    /// The licence table, as (file, index).
    pub at: (usize, usize),
    pub kind: Option<LicenceType>,
    /// Its type covers one end user and one batch (the individual licence).
    pub single_end_user: bool,
    /// "MOFCOM decides within 45 working days" (its pack's vocabulary), if the pack says.
    pub decision: Option<String>,
    pub quantity_limit: Option<(f64, Unit)>,
    pub value_limit: Option<(f64, String)>,
    pub expires: Option<Date>,
    /// Indices into [`Ledger::exports`], in order of use.
    pub exports: Vec<usize>,
    /// Use after all of them.
    pub used: Use,
}

impl Balance {
    /// The larger of the used shares of the limits, in percent.
    pub fn share(&self, used: &Use) -> Option<f64> {
        let q = self
            .quantity_limit
            .as_ref()
            .zip(used.quantity)
            .map(|(l, u)| 100.0 * u / l.0);
        let v = self
            .value_limit
            .as_ref()
            .zip(used.value)
            .map(|(l, u)| 100.0 * u / l.0);
        match (q, v) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// What is left of each limit (never below zero), as text: "120 kg, 3000 CNY".
    pub fn remaining_text(&self) -> String {
        let mut parts = Vec::new();
        if let (Some((l, u)), Some(used)) = (&self.quantity_limit, self.used.quantity) {
            parts.push(format!("{} {u}", num((l - used).max(0.0))));
        }
        if let (Some((l, c)), Some(used)) = (&self.value_limit, self.used.value) {
            parts.push(format!("{} {c}", num((l - used).max(0.0))));
        }
        parts.join(", ")
    }

    /// Used of limit, as text: "900 of 1000 kg (90 %)".
    pub fn used_text(&self) -> String {
        format!("{}{}", self.used_amounts(), self.share_text())
    }

    /// The used share in brackets: " (90 %)", or nothing.
    fn share_text(&self) -> String {
        self.share(&self.used)
            .map(|s| format!(" ({} %)", num(s)))
            .unwrap_or_default()
    }

    /// Used of each limit: "900 of 1000 kg, 10 of 50 CNY".
    fn used_amounts(&self) -> String {
        let mut parts = Vec::new();
        if let (Some((l, u)), Some(used)) = (&self.quantity_limit, self.used.quantity) {
            parts.push(format!("{} of {} {u}", num(used), num(*l)));
        }
        if let (Some((l, c)), Some(used)) = (&self.value_limit, self.used.value) {
            parts.push(format!("{} of {} {c}", num(used), num(*l)));
        }
        parts.join(", ")
    }
}

/// A finding on one export from its licence's balance.
#[derive(Clone, Debug)]
struct Finding {
    code: Code,
    message: String,
}

/// The exports of a workspace and the balances of the licences they use.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Every export, by file, then in file order.
    pub exports: Vec<Export>,
    /// The exports of each file: `exports[first[f]..first[f + 1]]`.
    first: Vec<usize>,
    /// Per export: the licence's use after it, for the exports whose
    /// licence has limits (read it with [`Ledger::after`]).
    after: FxHashMap<usize, Use>,
    /// Per export with any: its balance findings.
    findings: FxHashMap<usize, Vec<Finding>>,
    /// Balances of the licences used by exports, by licence id.
    pub balances: FxHashMap<String, Balance>,
    /// Per product (file, then index): its first export in order of use,
    /// or [`END`]; the rest follow through `next` (read them with
    /// [`Ledger::exports_of`]). Four bytes a product and an export: a
    /// map of vectors was over a hundred bytes a product.
    heads: Vec<Vec<u32>>,
    /// Per export: the next export of its product in order of use, or [`END`].
    next: Vec<u32>,
    /// Per licence id named by an export (found or not): its exports in
    /// order of use.
    groups: FxHashMap<String, Vec<usize>>,
    /// Per SKU: the shipments (file, index) that name it, exports or not
    /// (entries whose shipment names another SKU since are passed over);
    /// made by the first update (`check` never needs it).
    named: Option<FxHashMap<String, Vec<(usize, usize)>>>,
    /// Per file: its numbers of products, licences and shipments.
    counts: Vec<[usize; 3]>,
    /// Per export of a shipment: the classification of its product on its
    /// date that judged it, kept when a whole file's shipments are judged
    /// with `Options::keep_judgements` (the `dossier` command; forgotten by
    /// an update).
    judged: std::sync::Mutex<FxHashMap<usize, Arc<Classification>>>,
}

/// The end of a product's list of exports.
const END: u32 = u32::MAX;

thread_local! {
    /// Exports walked by licence balances on this thread (the complexity
    /// test counts them).
    pub static WALKED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// What an edit of one file changed, for [`Ledger::update`] (the parser's
/// `Changed`): old bytes `start..from` of file `file` were read again, the
/// tables from `from` on moved by `delta`, and these SKUs and licence ids
/// changed.
pub struct LedgerEdit<'a> {
    pub file: usize,
    pub start: usize,
    pub from: usize,
    pub delta: isize,
    pub skus: &'a [String],
    pub licences: &'a [String],
}

/// The order of use of an export: date, file, place in the file.
fn order(e: &Export) -> (Date, usize, usize) {
    (e.date, e.file, e.at)
}

fn counts(ws: &Workspace) -> Vec<[usize; 3]> {
    ws.files
        .iter()
        .map(|x| {
            let c = x.catalogue;
            [c.products.len(), c.licences.len(), c.shipments.len()]
        })
        .collect()
}

/// The export a table of file `f` writes, if any.
fn export_of(
    ws: &Workspace,
    opts: &Options,
    f: usize,
    t: &crate::catalogue::TableRef,
) -> Option<Export> {
    let cat = ws.files[f].catalogue;
    match t.kind {
        TableKind::Product => {
            let p = cat.products.get(t.index)?;
            p.destination.as_ref()?;
            let a = &p.export_facts().amounts;
            Some(Export {
                file: f,
                source: Source::Product(t.index),
                product: (f, t.index),
                date: ws.evaluation_date(f, p, opts),
                licence: p.licence.as_ref().map(|x| x.value.clone()),
                quantity: a.quantity(),
                value: a.value().map(|(v, c)| Box::new((v, c.to_owned()))),
                anchor: amount_span(a)
                    .or(p.licence.as_ref().map(|x| x.span))
                    .unwrap_or(p.header),
                at: p.span.start(),
            })
        }
        TableKind::Shipment => shipment_export(ws, f, t.index),
        _ => None,
    }
}

/// The export shipment `i` of file `f` writes (None without a date or a product).
fn shipment_export(ws: &Workspace, f: usize, i: usize) -> Option<Export> {
    let s = ws.files[f].catalogue.shipments.get(i)?;
    let (Some(sku), Some(date)) = (s.sku_str(), &s.ship_date) else {
        return None;
    };
    let at = ws.product(sku)?;
    let p = ws.get(at);
    let own = &s.facts.amounts;
    let pa = &p.export_facts().amounts;
    let quantity = if own.quantity.is_some() || own.unit.is_some() {
        own.quantity()
    } else {
        pa.quantity()
    };
    let value = if own.value.is_some() || own.currency.is_some() {
        own.value()
    } else {
        pa.value()
    };
    Some(Export {
        file: f,
        source: Source::Shipment(i),
        product: at,
        date: date.value,
        licence: s
            .licence
            .as_ref()
            .or(p.licence.as_ref())
            .map(|x| x.value.clone()),
        quantity,
        value: value.map(|(v, c)| Box::new((v, c.to_owned()))),
        anchor: amount_span(own)
            .or(s.licence.as_ref().map(|x| x.span))
            .unwrap_or(s.header),
        at: s.span.start(),
    })
}

impl Ledger {
    /// The exports written in file `f`, with their indices.
    pub fn of_file(&self, f: usize) -> impl Iterator<Item = (usize, &Export)> {
        let range = match (self.first.get(f), self.first.get(f + 1)) {
            (Some(&a), Some(&b)) => a..b,
            _ => 0..0,
        };
        range.map(move |i| (i, &self.exports[i]))
    }

    /// The exports of product `p` (file, index), in order of use.
    pub fn exports_of(&self, p: (usize, usize)) -> impl Iterator<Item = usize> + '_ {
        let mut at = self.head(p);
        std::iter::from_fn(move || {
            let i = usize::try_from(at).ok().filter(|_| at != END)?;
            at = self.next.get(i).copied().unwrap_or(END);
            Some(i)
        })
    }

    /// Whether product `p` (file, index) is exported at all.
    pub fn has_exports(&self, p: (usize, usize)) -> bool {
        self.head(p) != END
    }

    /// The use of its licence after export `i`, when the licence has limits.
    pub fn after(&self, i: usize) -> Option<&Use> {
        self.after.get(&i)
    }

    fn head(&self, p: (usize, usize)) -> u32 {
        self.heads
            .get(p.0)
            .and_then(|h| h.get(p.1))
            .copied()
            .unwrap_or(END)
    }

    /// Takes export `i` out of its product `p`'s list.
    fn unlink(&mut self, p: (usize, usize), i: usize) {
        let mut prev: Option<usize> = None;
        let mut at = self.head(p);
        while at != END && at as usize != i {
            prev = Some(at as usize);
            at = self.next[at as usize];
        }
        if at == END {
            return;
        }
        let after = std::mem::replace(&mut self.next[i], END);
        self.set_link(p, prev, after);
    }

    /// Puts export `i` into its product `p`'s list, in order of use.
    fn link(&mut self, p: (usize, usize), i: usize) {
        let key = order(&self.exports[i]);
        let mut prev: Option<usize> = None;
        let mut at = self.head(p);
        while at != END && order(&self.exports[at as usize]) < key {
            prev = Some(at as usize);
            at = self.next[at as usize];
        }
        self.next[i] = at;
        self.set_link(p, prev, i as u32);
    }

    /// Points product `p`'s list after `prev` (or its head) at `to`.
    fn set_link(&mut self, p: (usize, usize), prev: Option<usize>, to: u32) {
        match prev {
            Some(j) => self.next[j] = to,
            None => {
                if let Some(h) = self.heads.get_mut(p.0).and_then(|h| h.get_mut(p.1)) {
                    *h = to;
                }
            }
        }
    }

    /// The classification export `i` (a shipment) was judged with, when
    /// kept (`Options::keep_judgements`).
    pub fn judgement(&self, i: usize) -> Option<Arc<Classification>> {
        let kept = self.judged.lock().unwrap_or_else(|e| e.into_inner());
        kept.get(&i).cloned()
    }

    /// The balance of the licence `id` (when some export uses it).
    pub fn balance(&self, id: &str) -> Option<&Balance> {
        self.balances.get(id)
    }

    /// The ledger of a workspace (no classification involved).
    pub fn build(ws: &Workspace, opts: &Options) -> Ledger {
        let mut l = Ledger::default();
        // At most one a product with a destination and one a shipment.
        l.exports.reserve_exact(
            ws.files
                .iter()
                .map(|x| {
                    let c = x.catalogue;
                    c.shipments.len()
                        + c.products
                            .iter()
                            .filter(|p| p.destination.is_some())
                            .count()
                })
                .sum(),
        );
        for (f, input) in ws.files.iter().enumerate() {
            l.first.push(l.exports.len());
            let cat = input.catalogue;
            for t in &cat.tables {
                l.exports.extend(export_of(ws, opts, f, t));
            }
        }
        l.first.push(l.exports.len());
        l.counts = counts(ws);
        l.heads = l.counts.iter().map(|c| vec![END; c[0]]).collect();
        l.next = vec![END; l.exports.len()];
        // Each product's list in file order (built from the back), then in
        // order of use where its exports are not already.
        for i in (0..l.exports.len()).rev() {
            let p = l.exports[i].product;
            if let Some(head) = l.heads.get_mut(p.0).and_then(|h| h.get_mut(p.1)) {
                l.next[i] = *head;
                *head = i as u32;
            }
        }
        for f in 0..l.heads.len() {
            for pi in 0..l.heads[f].len() {
                let first = l.heads[f][pi];
                if first == END || l.next[first as usize] == END {
                    continue;
                }
                let mut list: Vec<usize> = l.exports_of((f, pi)).collect();
                if list.is_sorted_by_key(|&i| order(&l.exports[i])) {
                    continue;
                }
                list.sort_by_key(|&i| order(&l.exports[i]));
                let mut slot = END;
                for &i in list.iter().rev() {
                    l.next[i] = slot;
                    slot = i as u32;
                }
                l.heads[f][pi] = slot;
            }
        }
        let mut groups: FxHashMap<String, Vec<usize>> = FxHashMap::default();
        for (i, e) in l.exports.iter().enumerate() {
            if let Some(id) = &e.licence {
                groups.entry(id.clone()).or_default().push(i);
            }
        }
        for members in groups.values_mut() {
            members.sort_by_key(|&i| order(&l.exports[i]));
        }
        let ids: Vec<String> = groups.keys().cloned().collect();
        l.groups = groups;
        for id in ids {
            l.rebalance(ws, &id);
        }
        l
    }

    /// Walks licence `id`'s exports again (its group), with its licence
    /// table as it is now; its exports' use and findings are replaced.
    fn rebalance(&mut self, ws: &Workspace, id: &str) {
        self.balances.remove(id);
        let Some(members) = self.groups.get(id).filter(|m| !m.is_empty()) else {
            self.groups.remove(id);
            return;
        };
        for &i in members {
            self.after.remove(&i);
            self.findings.remove(&i);
        }
        let Some((lf, lat)) = ws.licence_place(id) else {
            return;
        };
        let Some(lic) = ws.files[lf].catalogue.licences.get(lat) else {
            return;
        };
        let mut b = Balance {
            id: id.to_owned(),
            at: (lf, lat),
            kind: lic.kind.as_ref().map(|k| k.value.clone()),
            single_end_user: lic.kind.as_ref().is_some_and(|k| {
                ws.files[lf]
                    .pack
                    .licence_rule(k.value.as_str())
                    .is_some_and(|r| r.single_end_user())
            }),
            decision: ws.files[lf].pack.vocab.decision_period(),
            quantity_limit: lic.limits.quantity(),
            value_limit: lic.limits.value().map(|(v, c)| (v, c.to_owned())),
            expires: lic.expires.as_ref().map(|e| e.value),
            exports: members.clone(),
            used: Use::default(),
        };
        self.walk(&mut b);
        self.balances.insert(id.to_owned(), b);
    }

    /// Brings the ledger up to date with an edit of one file (the
    /// workspace `ws` is the one after it; the ledger was that of the
    /// workspace before it, with the same options): the exports the edit
    /// touched are read again (those of the tables it re-read, and the
    /// shipments anywhere naming a changed SKU), and only the licences
    /// they use, before or after, and the changed licences are walked
    /// again. False when the edit added or removed a table or an export:
    /// then build it again.
    pub fn update(&mut self, ws: &Workspace, opts: &Options, e: &LedgerEdit) -> bool {
        if self.counts != counts(ws) || e.start > e.from {
            return false;
        }
        // Judgements may depend on anything the edit changed.
        let judged = self.judged.get_mut().unwrap_or_else(|e| e.into_inner());
        if !judged.is_empty() {
            judged.clear();
        }
        let f = e.file;
        let (Some(&a), Some(&z)) = (self.first.get(f), self.first.get(f + 1)) else {
            return false;
        };
        let cat = ws.files[f].catalogue;
        // The exports of the tables the edit read again, old and new.
        let lo = a + self.exports[a..z].partition_point(|x| x.at < e.start);
        let hi = a + self.exports[a..z].partition_point(|x| x.at < e.from);
        let end = e.from.checked_add_signed(e.delta).unwrap_or(0);
        let tlo = cat.tables.partition_point(|t| t.span.start() < e.start);
        let thi = cat.tables.partition_point(|t| t.span.start() < end);
        let fresh: Vec<Export> = cat.tables[tlo..thi.max(tlo)]
            .iter()
            .filter_map(|t| export_of(ws, opts, f, t))
            .collect();
        if fresh.len() != hi - lo {
            return false;
        }
        for x in &mut self.exports[hi..z] {
            x.at = x.at.wrapping_add_signed(e.delta);
            x.anchor.shift(e.delta);
        }
        let mut changed: Vec<(usize, Export)> = (lo..hi).zip(fresh).collect();
        let named = self.named.get_or_insert_with(|| {
            let mut named: FxHashMap<String, Vec<(usize, usize)>> = FxHashMap::default();
            for (f, x) in ws.files.iter().enumerate() {
                for (i, s) in x.catalogue.shipments.iter().enumerate() {
                    if let Some(sku) = s.sku_str() {
                        named.entry(sku.to_owned()).or_default().push((f, i));
                    }
                }
            }
            named
        });
        // The shipments it read again name their SKUs from now on.
        for t in &cat.tables[tlo..thi.max(tlo)] {
            if t.kind != TableKind::Shipment {
                continue;
            }
            if let Some(sku) = cat.shipments.get(t.index).and_then(|s| s.sku_str()) {
                let v = named.entry(sku.to_owned()).or_default();
                if !v.contains(&(f, t.index)) {
                    v.push((f, t.index));
                }
            }
        }
        // Shipments elsewhere that name a changed SKU: its product's facts,
        // or which product it is, may have changed.
        let skus: FxHashSet<&String> = e.skus.iter().collect();
        for sku in skus {
            let Some(list) = named.get(sku) else {
                continue;
            };
            for &(sf, si) in list {
                let Some(s) = ws.files.get(sf).and_then(|x| x.catalogue.shipments.get(si)) else {
                    continue;
                };
                let at = s.span.start();
                if s.sku_str() != Some(sku.as_str()) || sf == f && (e.start..end).contains(&at) {
                    continue;
                }
                let (Some(&sa), Some(&sz)) = (self.first.get(sf), self.first.get(sf + 1)) else {
                    return false;
                };
                let k = sa + self.exports[sa..sz].partition_point(|x| x.at < at);
                let old = self
                    .exports
                    .get(k)
                    .filter(|x| k < sz && x.at == at && x.source == Source::Shipment(si));
                match (old, shipment_export(ws, sf, si)) {
                    (Some(_), Some(x)) => changed.push((k, x)),
                    (None, None) => {}
                    // An export appeared or disappeared.
                    _ => return false,
                }
            }
        }
        let mut ids: FxHashSet<String> = e.licences.iter().cloned().collect();
        for (i, x) in changed {
            let old = std::mem::replace(&mut self.exports[i], x);
            let new = &self.exports[i];
            // What its licence's walk reads of it is what it was: the
            // balance, its use and findings stand.
            let same = old.date == new.date
                && old.licence == new.licence
                && old.quantity == new.quantity
                && old.value == new.value;
            if old.product != new.product || old.date != new.date {
                let new_product = new.product;
                self.unlink(old.product, i);
                self.link(new_product, i);
            }
            let new = &self.exports[i];
            if old.licence != new.licence || old.date != new.date {
                if let Some(id) = &old.licence {
                    if let Some(v) = self.groups.get_mut(id) {
                        v.retain(|&j| j != i);
                    }
                }
                if let Some(id) = self.exports[i].licence.clone() {
                    let exports = &self.exports;
                    let v = self.groups.entry(id).or_default();
                    v.retain(|&j| j != i);
                    let k = v.partition_point(|&j| order(&exports[j]) < order(&exports[i]));
                    v.insert(k, i);
                }
            }
            if !same {
                self.after.remove(&i);
                self.findings.remove(&i);
                ids.extend(old.licence);
                ids.extend(self.exports[i].licence.clone());
            }
        }
        for id in ids {
            self.rebalance(ws, &id);
        }
        true
    }

    /// Uses up one licence's limits by its exports in order, noting the use
    /// after each and the findings.
    fn walk(&mut self, b: &mut Balance) {
        let id = b.id.clone();
        let mut used = Use {
            quantity: b.quantity_limit.as_ref().map(|_| 0.0),
            value: b.value_limit.as_ref().map(|_| 0.0),
        };
        let first_date = b.exports.first().map(|&i| self.exports[i].date);
        let mut exceeded_q: Option<Date> = None;
        let mut exceeded_v: Option<Date> = None;
        WALKED.with(|n| n.set(n.get() + b.exports.len()));
        for &i in &b.exports {
            let e = &self.exports[i];
            let mut found = Vec::new();
            if b.single_end_user {
                if let Some(first) = first_date.filter(|d| *d != e.date) {
                    found.push(Finding {
                        code: Code::IndividualLicenceSplitShipment,
                        message: format!(
                            "individual licence `{id}` is already used by an export on {first}, and this export ships on {}: an individual licence covers one batch (\"one batch, one licence\"), so exports on different dates need one licence each. Ship the batch together on one date, or apply for another individual licence (or a general licence) for this export",
                            e.date
                        ),
                    });
                }
            }
            if let (Some((limit, lunit)), Some(u)) = (b.quantity_limit, used.quantity.as_mut()) {
                let before = *u;
                match e.quantity {
                    Some((q, unit)) => match convert(q, unit, lunit) {
                        Some(q) => {
                            *u += q;
                            found.extend(limit_finding(
                                &id,
                                "quantity",
                                Code::LicenceQuantityExceeded,
                                before,
                                *u,
                                limit,
                                lunit.as_str(),
                                || format!("{} {unit}", num(q_in(q, lunit, unit))),
                                e.date,
                                &mut exceeded_q,
                                b.decision.as_deref(),
                            ));
                        }
                        None => found.extend(
                            exceeded_q
                                .map(|first| already(&id, "quantity", Code::LicenceQuantityExceeded, first))
                                .into_iter()
                                .chain([Finding {
                            code: Code::LicenceUnitMismatch,
                            message: format!(
                                "this export's quantity is in {unit} but licence `{id}` limits {} in {lunit}: {} cannot be counted against the other, so it is NOT counted and the licence's balance may be understated. State the export's quantity in the licence's kind of unit ({}) or check the licence's terms",
                                if lunit == Unit::Pcs { "pieces" } else { "mass" },
                                if lunit == Unit::Pcs { "a mass" } else { "pieces" },
                                if lunit == Unit::Pcs { "pcs" } else { "kg, g or t" },
                            ),
                        }]),
                        ),
                    },
                    None => {
                        if let Some(first) = exceeded_q {
                            found.push(already(&id, "quantity", Code::LicenceQuantityExceeded, first));
                        }
                    }
                }
            }
            if let (Some((limit, currency)), Some(u)) = (&b.value_limit, used.value.as_mut()) {
                let before = *u;
                match e.value.as_deref() {
                    Some((v, c)) if c == currency => {
                        *u += v;
                        found.extend(limit_finding(
                            &id,
                            "value",
                            Code::LicenceValueExceeded,
                            before,
                            *u,
                            *limit,
                            currency,
                            || format!("{} {c}", num(*v)),
                            e.date,
                            &mut exceeded_v,
                            b.decision.as_deref(),
                        ));
                    }
                    Some((_, c)) => {
                        if let Some(first) = exceeded_v {
                            found.push(already(&id, "value", Code::LicenceValueExceeded, first));
                        }
                        found.push(Finding {
                            code: Code::LicenceUnitMismatch,
                            message: format!(
                                "this export's value is in {c} but licence `{id}` limits value in {currency}: catalogue-lsp does not convert currencies (no exchange rate is part of the catalogue), so this value is NOT counted and the licence's balance may be understated. State the value in {currency}, at the rate your licence application used"
                            ),
                        });
                    }
                    None => {
                        if let Some(first) = exceeded_v {
                            found.push(already(&id, "value", Code::LicenceValueExceeded, first));
                        }
                    }
                }
            }
            if b.quantity_limit.is_some() || b.value_limit.is_some() {
                self.after.insert(i, used.clone());
            }
            if !found.is_empty() {
                self.findings.insert(i, found);
            }
        }
        b.used = used;
    }

    /// The diagnostics of the balance findings on the exports of file `f`.
    fn balance_diagnostics(&self, ws: &Workspace, f: usize, out: &mut Vec<Diagnostic>) {
        // What each licence's findings share (its use in words, its source),
        // worked out once per licence.
        type Shared = (Option<crate::diagnostic::SourceRef>, Related);
        let mut shared: FxHashMap<&str, Shared> = FxHashMap::default();
        for (i, e) in self.of_file(f) {
            let Some(findings) = self.findings.get(&i) else {
                continue;
            };
            let sku = ws.get(e.product).sku_str();
            let b = e.licence.as_deref().and_then(|id| {
                if !shared.contains_key(id) {
                    let b = self.balances.get(id)?;
                    let source = b.kind.as_ref().and_then(|k| {
                        let pack = &ws.files[b.at.0].pack;
                        let rule = pack.licence_rule(k.as_str())?;
                        Some(pack.source(rule.instrument, &rule.article))
                    });
                    let l = &ws.files[b.at.0].catalogue.licences[b.at.1];
                    let related = Related {
                        file: FileRef::Index(FileIndex(b.at.0)),
                        span: l.id.as_ref().map_or(l.header, |x| x.span),
                        message: format!("licence `{}`: {}", b.id, b.used_text()),
                    };
                    shared.insert(id, (source, related));
                }
                shared.get(id)
            });
            for x in findings {
                let mut d = Diagnostic::new(x.code, e.anchor, x.message.clone())
                    .with_sku(sku)
                    .with_source(b.and_then(|b| b.0.clone()));
                if let Some((_, related)) = b {
                    d = d.with_related(related.clone());
                }
                out.push(d);
            }
        }
    }
}

/// The finding when an export's amount takes the use from `before` to
/// `after` against `limit` (exactly the limit is not over it; exactly 90 %
/// is nearly used).
#[allow(clippy::too_many_arguments)]
fn limit_finding(
    id: &str,
    what: &str,
    code: Code,
    before: f64,
    after: f64,
    limit: f64,
    unit: &str,
    amount: impl Fn() -> String,
    date: Date,
    exceeded: &mut Option<Date>,
    decision: Option<&str>,
) -> Option<Finding> {
    let share = 100.0 * after / limit;
    if let Some(first) = *exceeded {
        return Some(already(id, what, code, first));
    }
    if over(after, limit) {
        *exceeded = Some(date);
        return Some(Finding {
            code,
            message: format!(
                "this export ({}) takes licence `{id}` to {} of its {} {unit} {what} limit ({} %), {} {unit} over: the part beyond the limit is not licensed. Reduce or split this export, or have the licence amended (or apply for a new one) before it ships; later exports under this licence are over the limit too",
                amount(),
                num(after),
                num(limit),
                num(share),
                num(after - limit),
            ),
        });
    }
    if !nearly(before, limit) && nearly(after, limit) {
        return Some(Finding {
            code: Code::LicenceNearlyUsed,
            message: format!(
                "this export ({}) takes licence `{id}` to {} of its {} {unit} {what} limit ({} %): {} {unit} are left. If more exports are planned, apply for a new licence now{}",
                amount(),
                num(after),
                num(limit),
                num(share),
                num((limit - after).max(0.0)),
                decision.map(|d| format!(": {d}")).unwrap_or_default(),
            ),
        });
    }
    None
}

fn already(id: &str, what: &str, code: Code, first: Date) -> Finding {
    Finding {
        code,
        message: format!(
            "licence `{id}`'s {what} limit was already exceeded by an export on {first}: this export is not covered by it. Ship it under another licence, or have this one amended first"
        ),
    }
}

/// Tolerance for sums of decimal amounts (0.1 + 0.2 is not 0.3 in floats).
const EPS: f64 = 1e-9;

fn over(used: f64, limit: f64) -> bool {
    used > limit * (1.0 + EPS)
}

fn nearly(used: f64, limit: f64) -> bool {
    used * 10.0 >= limit * 9.0 * (1.0 - EPS)
}

/// `q` of `from` in units of `to`; None between pieces and mass.
pub fn convert(q: f64, from: Unit, to: Unit) -> Option<f64> {
    match (from.grams(), to.grams()) {
        (Some(a), Some(b)) => Some(q * a / b),
        (None, None) => Some(q),
        _ => None,
    }
}

/// Back from the licence's unit to the export's own (for messages).
fn q_in(q: f64, lunit: Unit, unit: Unit) -> f64 {
    convert(q, lunit, unit).unwrap_or(q)
}

/// A number as people write it: at most 3 decimals, no trailing zeros.
pub fn num(x: f64) -> String {
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

fn amount_span(a: &Amounts) -> Option<Span> {
    a.quantity
        .as_ref()
        .map(|q| q.span)
        .or(a.value.as_ref().map(|v| v.span))
}

/// `missing-end-use-evidence`: a controlled export naming no licence or an
/// individual one that lacks any of the facts a licence application needs.
#[allow(clippy::too_many_arguments)]
pub fn end_use_evidence(
    pack: &RulePack,
    at_span: Span,
    sku: Option<&str>,
    what: &str,
    kind: Option<LicenceType>,
    licence: Option<&str>,
    c: &Classification,
    have: [bool; 4],
) -> Option<Diagnostic> {
    if c.verdict != Verdict::Controlled {
        return None;
    }
    let rule = kind.as_ref().and_then(|k| pack.licence_rule(k.as_str()));
    let under = match (rule, licence) {
        // A general licence or a certificate: the application is behind it.
        (Some(r), Some(_)) if !r.single_end_user() => return None,
        (Some(r), Some(id)) => format!("under {} `{id}`", r.name),
        _ => "without a licence yet".to_string(),
    };
    let lacking: Vec<&str> = ["end_user", "end_use", "contract", "euc"]
        .into_iter()
        .zip(have)
        .filter(|(_, h)| !h)
        .map(|(k, _)| k)
        .collect();
    if lacking.is_empty() {
        return None;
    }
    let list = lacking
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    // What is missing and what to do; why (what an application needs, as
    // the pack says it) is shared and goes after the list in the full text.
    let head = format!(
        "{what} of a controlled item ({}) {under} lacks {list}",
        c.codes_text()
    );
    let at = head.len();
    Some(
        Diagnostic::new(
            Code::MissingEndUseEvidence,
            at_span,
            format!("{head}. Set {list} (`euc`: the certificate's reference) before applying"),
        )
        .with_explanation(at, application_needs(pack))
        .with_sku(sku)
        .with_source(Some(pack.transfer_sourceref())),
    )
}

/// What a licence application needs, as the pack says it (`": a licence
/// application to MOFCOM needs …; MOFCOM decides within 45 working days"`):
/// `missing-end-use-evidence`'s explanation, one copy per pack.
pub fn application_needs(pack: &RulePack) -> crate::diagnostic::Explanation {
    pack.explanations().application_needs.clone()
}

/// Which of end_user, end_use, contract, euc are given.
fn evidence(end_user: bool, f: &ExportFacts) -> [bool; 4] {
    [
        end_user,
        f.end_use.is_some(),
        f.contract.is_some(),
        f.euc.is_some(),
    ]
}

/// `missing-end-use-evidence` for a product's own export (one with a destination).
pub fn product_evidence(
    ws: &Workspace,
    pack: &RulePack,
    p: &Product,
    c: &Classification,
) -> Option<Diagnostic> {
    p.destination.as_ref()?;
    let licence = p.licence.as_ref().map(|l| l.value.as_str());
    let kind = licence
        .and_then(|id| ws.licence(id))
        .and_then(|(_, l)| l.kind.as_ref().map(|k| k.value.clone()));
    end_use_evidence(
        pack,
        p.header,
        p.sku_str(),
        "export",
        kind,
        licence,
        c,
        evidence(p.end_user.is_some(), p.export_facts()),
    )
}

/// A shipment seen as the product it exports, for the licence checks: the
/// product's facts with the shipment's own overrides, anchored on the
/// shipment (an inherited licence reference points at its header).
fn as_product(s: &Shipment, p: &Product) -> (Product, bool) {
    let inherited = s.licence.is_none() && p.licence.is_some();
    let licence = s.licence.clone().or_else(|| {
        p.licence.as_ref().map(|l| Field {
            value: l.value.clone(),
            span: s.header,
            key: s.header,
        })
    });
    let mut view = Product {
        header: s.header,
        span: s.span,
        sku: s.sku.clone(),
        destination: s.destination.clone().or_else(|| p.destination.clone()),
        end_user: s.end_user.clone().or_else(|| p.end_user.clone()),
        licence,
        ..Product::default()
    };
    view.set_more(crate::catalogue::ProductMore {
        transfer: s.transfer.clone().or_else(|| p.transfer.clone()),
        purpose: s.purpose.clone().or_else(|| p.purpose.clone()),
        ..Default::default()
    });
    (view, inherited)
}

impl Workspace<'_> {
    /// The ledger of this workspace for these options (built once).
    pub fn ledger(&self, opts: &Options) -> Arc<Ledger> {
        self.ledger_cache(opts, || Ledger::build(self, opts))
    }

    /// Takes `ledger` (one brought up to date with [`Ledger::update`]) as
    /// this workspace's ledger for these options, unless one is built.
    pub fn keep_ledger(&self, opts: &Options, ledger: Ledger) -> Arc<Ledger> {
        self.ledger_cache(opts, || ledger)
    }

    /// The diagnostics of the exports written in file `f`: each shipment
    /// judged on its date (unknown SKU, the licence checks, end-use
    /// evidence) and the balance findings of every export of the file.
    pub fn export_diagnostics(&self, f: usize, opts: &Options) -> Vec<Diagnostic> {
        let cat = self.files[f].catalogue;
        if cat.shipments.is_empty() && !cat.products.iter().any(|p| p.destination.is_some()) {
            return Vec::new();
        }
        let all: Vec<usize> = (0..cat.shipments.len()).collect();
        let mut out: Vec<Diagnostic> = self
            .judge_shipments(f, opts, &all)
            .into_iter()
            .flat_map(|(_, d)| d)
            .collect();
        out.extend(self.balance_diagnostics(f, opts));
        sort_exports(&mut out);
        out
    }

    /// The balance findings of the exports written in file `f` (from the
    /// ledger; no classification).
    pub fn balance_diagnostics(&self, f: usize, opts: &Options) -> Vec<Diagnostic> {
        let cat = self.files[f].catalogue;
        let mut out = Vec::new();
        if cat.shipments.is_empty() && !cat.products.iter().any(|p| p.destination.is_some()) {
            return out;
        }
        self.ledger(opts).balance_diagnostics(self, f, &mut out);
        out
    }

    /// The judgement of shipments `which` (indices into file `f`'s
    /// shipments), each on its own date: unknown SKU, the licence checks,
    /// end-use evidence. Returns each shipment's diagnostics (shipments
    /// without any are left out), in no particular order of shipments.
    pub fn judge_shipments(
        &self,
        f: usize,
        opts: &Options,
        which: &[usize],
    ) -> Vec<(usize, Vec<Diagnostic>)> {
        let cat = self.files[f].catalogue;
        let mut out = Vec::new();
        if which.is_empty() {
            return out;
        }
        let ledger = self.ledger(opts);
        // The ledger resolved the shipments it holds: only the others
        // (no date, or an unknown SKU) are looked up again.
        let mut resolved: FxHashMap<usize, ((usize, usize), Date, usize)> = FxHashMap::default();
        if which.len() * 4 >= cat.shipments.len() {
            for (x, e) in ledger.of_file(f) {
                if let Source::Shipment(i) = e.source {
                    resolved.insert(i, (e.product, e.date, x));
                }
            }
        }
        // The whole file is judged for the dossier: the ledger keeps each
        // shipment's classification (`Options::keep_judgements`).
        let keep = opts.keep_judgements && which.len() == cat.shipments.len();
        // Shipments to judge, grouped by product so a classifier's memo of
        // (product, date) serves a product's shipments.
        // (shipment, product, date, its export when its classification is kept)
        type Todo = (usize, (usize, usize), Date, Option<usize>);
        let mut todo: Vec<Todo> = Vec::new();
        for &i in which {
            let Some(s) = cat.shipments.get(i) else {
                continue;
            };
            if let Some(&(at, date, x)) = resolved.get(&i) {
                todo.push((i, at, date, Some(x).filter(|_| keep)));
                continue;
            }
            let Some(sku) = s.sku.as_ref() else { continue };
            match self.product(&sku.value) {
                None => {
                    let near = self.suggest_sku(&sku.value);
                    let msg = match near {
                        Some(n) => format!(
                            "shipment of `{}`, which names no product in the workspace: did you mean `{n}`? A shipment is judged with its product's facts, so it is not judged until the sku names one",
                            sku.value
                        ),
                        None => format!(
                            "shipment of `{}`, which names no product in the workspace: add a product record with this `sku` or fix the shipment's `sku`; a shipment is judged with its product's facts, so it is not judged until then",
                            sku.value
                        ),
                    };
                    out.push((
                        i,
                        vec![
                            Diagnostic::new(Code::UnknownSku, sku.span, msg)
                                .with_sku(Some(&sku.value))
                                .with_string_replacements(
                                    near.map(|n| vec![n.to_string()]).unwrap_or_default(),
                                ),
                        ],
                    ));
                }
                Some(at) => {
                    if let Some(d) = &s.ship_date {
                        todo.push((i, at, d.value, None));
                    }
                }
            }
        }
        todo.sort_by_key(|&(i, at, d, _)| (at, d, i));
        type Judged = Vec<(usize, Vec<Diagnostic>)>;
        type Kept = Vec<(usize, Arc<Classification>)>;
        let judge = |chunk: &[Todo]| -> (Judged, Kept) {
            let mut out = Vec::new();
            let mut kept = Vec::new();
            let mut classifiers: FxHashMap<usize, Classifier<Self>> = FxHashMap::default();
            for &(i, at, date, x) in chunk {
                let pack = &self.files[at.0].pack;
                let classifier = classifiers
                    .entry(at.0)
                    .or_insert_with(|| Classifier::new(pack, self, false));
                let c = classifier.classify(at, date);
                let mut d = Vec::new();
                self.shipment_diagnostics(&cat.shipments[i], at, date, &c, &mut d);
                if !d.is_empty() {
                    out.push((i, d));
                }
                if let Some(x) = x {
                    kept.push((x, c));
                }
            }
            (out, kept)
        };
        const CHUNK: usize = 2048;
        let done: Vec<(Judged, Kept)> = if todo.len() > CHUNK {
            todo.par_chunks(CHUNK).map(judge).collect()
        } else {
            vec![judge(&todo)]
        };
        if keep {
            let mut judged = ledger.judged.lock().unwrap_or_else(|e| e.into_inner());
            for (_, k) in &done {
                judged.extend(k.iter().cloned());
            }
        }
        out.extend(done.into_iter().flat_map(|(d, _)| d));
        // A shipment's own words (transfer, purpose) are checked against
        // its file's pack, as a product's are (the parser keeps them as
        // written).
        let v = &self.files[f].pack.vocab;
        for &i in which {
            let Some(s) = cat.shipments.get(i) else {
                continue;
            };
            let sku = s.sku.as_ref().map(|k| k.value.as_str());
            let mut words = Vec::new();
            if let Some(w) = s
                .transfer
                .as_ref()
                .filter(|w| v.transfer(&w.value).is_none())
            {
                words.push(
                    super::licence::unknown_word("transfer", w, &v.transfer_names()).with_sku(sku),
                );
            }
            if let Some(w) = s.purpose.as_ref().filter(|w| v.purpose(&w.value).is_none()) {
                words.push(
                    super::licence::unknown_word("purpose", w, &v.purpose_names()).with_sku(sku),
                );
            }
            if words.is_empty() {
                continue;
            }
            match out.iter_mut().find(|(j, _)| *j == i) {
                Some((_, d)) => d.extend(words),
                None => out.push((i, words)),
            }
        }
        out
    }

    fn shipment_diagnostics(
        &self,
        s: &Shipment,
        at: (usize, usize),
        date: Date,
        c: &Classification,
        out: &mut Vec<Diagnostic>,
    ) {
        let p = self.get(at);
        let pack = &*self.files[at.0].pack;
        let (view, inherited) = as_product(s, p);
        let mut found = Vec::new();
        licence::product_licence_diagnostics(self, pack, &view, date, c, &mut found);
        if inherited {
            // Reported on the product's own reference already.
            found.retain(|d| d.code != Code::UnknownLicence);
            for d in &mut found {
                d.fix = Default::default();
                d.message = format!(
                    "{} (the licence is the product's: the shipment names none)",
                    d.message
                );
            }
        }
        out.extend(found);
        // A shipment judged on its own date may rest on a rule whose status
        // then no source confirms (contract §6), where its product does not.
        out.extend(super::workspace::unconfirmed_status(
            pack,
            c,
            s.header,
            s.sku_str(),
            date,
        ));
        let licence = view.licence.as_ref().map(|l| l.value.as_str());
        let kind = licence
            .and_then(|id| self.licence(id))
            .and_then(|(_, l)| l.kind.as_ref().map(|k| k.value.clone()));
        let facts = ExportFacts {
            end_use: s
                .facts
                .end_use
                .clone()
                .or_else(|| p.export_facts().end_use.clone()),
            contract: s
                .facts
                .contract
                .clone()
                .or_else(|| p.export_facts().contract.clone()),
            euc: s.facts.euc.clone().or_else(|| p.export_facts().euc.clone()),
            ..ExportFacts::default()
        };
        out.extend(end_use_evidence(
            pack,
            s.header,
            s.sku_str(),
            &format!("shipment on {date}"),
            kind,
            licence,
            c,
            evidence(view.end_user.is_some(), &facts),
        ));
    }
}

/// The order of a file's export diagnostics: by position, then code (stable).
pub fn sort_exports(out: &mut [Diagnostic]) {
    out.sort_by(|a, b| {
        a.span
            .start()
            .cmp(&b.span.start())
            .then(a.code.cmp(&b.code))
    });
}

/// What a licence's limits are, as text: "1000 kg, 50000 CNY".
fn limits_text(l: &Licence) -> Option<String> {
    let mut parts = Vec::new();
    if let Some((q, u)) = l.limits.quantity() {
        parts.push(format!("{} {u}", num(q)));
    }
    if let Some((v, c)) = l.limits.value() {
        parts.push(format!("{} {c}", num(v)));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// A licence's use in one line (its code lens): "900 of 1000 kg used
/// (90 %), 100 kg left · 3 exports · expires 2026-12-31".
pub fn licence_line(l: &Licence, b: Option<&Balance>) -> String {
    let n = b.map_or(0, |b| b.exports.len());
    let exports = match n {
        0 => "no exports".to_string(),
        1 => "1 export".to_string(),
        n => format!("{n} exports"),
    };
    let usage = match (b, limits_text(l)) {
        (Some(b), Some(_)) if b.quantity_limit.is_some() || b.value_limit.is_some() => {
            format!(
                "{} used{}, {} left",
                b.used_amounts(),
                b.share_text(),
                b.remaining_text()
            )
        }
        (_, Some(limits)) => format!("0 of {limits} used"),
        (_, None) => "no limits".to_string(),
    };
    let expires = l
        .expires
        .as_ref()
        .map(|e| format!(" · expires {}", e.value))
        .unwrap_or_default();
    format!("{usage} · {exports}{expires}")
}

/// A licence's use for its hover (Markdown): used / limit, share, the
/// exports in order with their dates and the use after each, what is left,
/// when it expires. `label` names an export (its SKU and where it is).
pub fn licence_markdown(l: &Licence, ledger: &Ledger, label: impl Fn(&Export) -> String) -> String {
    let id = l.id_str().unwrap_or("?");
    let b = ledger.balance(id);
    let mut md = String::from("\n#### Use\n");
    md.push_str(&licence_line(l, b));
    md.push('\n');
    let Some(b) = b else {
        md.push_str("\nNo export names this licence.\n");
        return md;
    };
    md.push('\n');
    for &i in &b.exports {
        let e = &ledger.exports[i];
        let amount = [
            e.quantity.map(|(q, u)| format!("{} {u}", num(q))),
            e.value.as_deref().map(|(v, c)| format!("{} {c}", num(*v))),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
        let after = ledger
            .after(i)
            .and_then(|u| b.share(u))
            .map(|s| format!(" → {} %", num(s)))
            .unwrap_or_default();
        let amount = if amount.is_empty() {
            "no amount".to_string()
        } else {
            amount
        };
        md.push_str(&format!("- {} {}: {amount}{after}\n", e.date, label(e)));
    }
    if let Some(x) = b.expires {
        md.push_str(&format!("\nValid through {x}.\n"));
    }
    md
}

/// What is left of a product's licence, for its lens: "GL-1: 100 kg left".
pub fn left_line(ledger: &Ledger, id: &str) -> Option<String> {
    let b = ledger.balance(id)?;
    if b.quantity_limit.is_none() && b.value_limit.is_none() {
        return None;
    }
    Some(format!("{id}: {} left", b.remaining_text()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each product's exports are listed in order of use (date, then
    /// place), whatever order the file writes them in; moving one to
    /// another date or product keeps every list in that order.
    #[test]
    fn a_products_exports_are_listed_in_order_of_use() {
        let text = "[[product]]\nsku = \"A\"\nform = \"oxide\"\ndestination = \"DE\"\nship_date = 2026-03-01\n\n\
            [[product]]\nsku = \"B\"\nform = \"oxide\"\n\n\
            [[shipment]]\nsku = \"A\"\nship_date = 2026-05-01\n\n\
            [[shipment]]\nsku = \"B\"\nship_date = 2026-04-01\n\n\
            [[shipment]]\nsku = \"A\"\nship_date = 2026-01-01\n\n\
            [[shipment]]\nsku = \"A\"\nship_date = 2026-03-01\n";
        let cat = crate::catalogue::parse(text);
        let ws = super::super::Analysis::new()
            .file(&cat, RulePack::embedded())
            .build();
        let d = jiff::civil::date(2026, 6, 1);
        let opts = Options::on(d);
        let mut l = Ledger::build(&ws, &opts);
        let dates = |l: &Ledger, p| -> Vec<String> {
            l.exports_of((0, p))
                .map(|i| format!("{}", l.exports[i].date))
                .collect()
        };
        assert_eq!(
            dates(&l, 0),
            ["2026-01-01", "2026-03-01", "2026-03-01", "2026-05-01"]
        );
        // Equal dates: the product's own export (first in the file) first.
        let first_march = l.exports_of((0, 0)).nth(1).map(|i| l.exports[i].source);
        assert_eq!(first_march, Some(Source::Product(0)));
        assert_eq!(dates(&l, 1), ["2026-04-01"]);
        // No licence with limits, no findings: nothing kept per export.
        assert!(l.after.is_empty() && l.findings.is_empty());
        assert!(l.has_exports((0, 1)) && !l.has_exports((0, 2)) && !l.has_exports((1, 0)));
        // The January shipment of A moves to B in July, as an update does.
        let i = l
            .exports
            .iter()
            .position(|e| e.date == jiff::civil::date(2026, 1, 1))
            .unwrap();
        l.unlink((0, 0), i);
        l.exports[i].product = (0, 1);
        l.exports[i].date = jiff::civil::date(2026, 7, 1);
        l.link((0, 1), i);
        assert_eq!(dates(&l, 0), ["2026-03-01", "2026-03-01", "2026-05-01"]);
        assert_eq!(dates(&l, 1), ["2026-04-01", "2026-07-01"]);
        // Unlinking what a list does not hold changes nothing.
        l.unlink((0, 0), i);
        assert_eq!(dates(&l, 0), ["2026-03-01", "2026-03-01", "2026-05-01"]);
        // What an export costs inline, pinned (a million at `check` scale).
        assert_eq!(std::mem::size_of::<Export>(), 112);
    }

    #[test]
    fn mass_units_convert_and_pieces_do_not() {
        assert_eq!(convert(1500.0, Unit::G, Unit::Kg), Some(1.5));
        assert_eq!(convert(2.0, Unit::T, Unit::Kg), Some(2000.0));
        assert_eq!(convert(3.0, Unit::Pcs, Unit::Pcs), Some(3.0));
        assert_eq!(convert(3.0, Unit::Pcs, Unit::Kg), None);
        assert_eq!(convert(3.0, Unit::Kg, Unit::Pcs), None);
    }

    #[test]
    fn limits_are_inclusive_and_ninety_percent_counts() {
        assert!(!over(100.0, 100.0));
        assert!(over(100.001, 100.0));
        assert!(nearly(90.0, 100.0));
        assert!(!nearly(89.99, 100.0));
        // Decimal sums that floats get slightly wrong still count as exact.
        assert!(!over(0.1 + 0.2, 0.3));
        assert!(nearly(0.3 + 0.6, 1.0));
        assert_eq!(num(0.1 + 0.2), "0.3");
        assert_eq!(num(1000.0), "1000");
    }
}
