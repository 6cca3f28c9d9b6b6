//! The judgements of a file's shipments, kept between analyses.
//!
//! A shipment's judgement (its classification on its date, the licence
//! checks, end-use evidence, an unknown SKU) depends on its own table, its
//! product (and that product's components at any depth) and the licence it
//! uses. An edit keeps the judgement of every shipment whose table the
//! parser kept (outside the bytes it read again, `Kept::start..from`; it
//! may have moved: its spans follow) and whose product and licence the edit
//! did not change; only the others are judged again. No table's text is
//! read to decide, and an edit that adds or removes no shipment looks only
//! at the shipments it may concern: those in the bytes read again (found by
//! a binary search of the parser's spans), those naming a changed SKU
//! (found by SKU), and those any edit may concern (an unknown SKU or
//! licence, a related location); the tables after the edit are moved with
//! one addition ([`Fenwick`]), not one by one. The balance findings come
//! from the ledger (kept in the server's state and brought up to date per
//! edit). What an update did to the slots ([`Moves`]) is handed to the
//! file's publication (`server::publication`), which keeps the wire form of
//! each slot and renders again only the judgements made again.

use crate::catalogue::{Catalogue, Shift};
use crate::diagnostic::{Code, Diagnostic, FileId, FileRef};
use crate::engine::{Options, Workspace};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};

thread_local! {
    /// Shipments judged (not taken from a cache) on this thread: the
    /// complexity test counts them.
    pub static JUDGED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// Slots looked at (checked, moved or kept) by updates on this thread:
    /// the complexity test counts them.
    pub static VISITED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn visited(n: usize) {
    VISITED.with(|c| c.set(c.get() + n));
}

/// The kept judgements of one file's shipments: each shipment's
/// diagnostics, in the order of the shipments.
#[derive(Default)]
pub struct ShipmentCache {
    /// Per shipment of the file, in order.
    slots: Vec<Entry>,
    /// How far each slot's table moved since the slots were built: slot
    /// `i` by `moved.prefix(i)` (an edit moves every slot after it with one
    /// addition).
    moved: Fenwick,
    /// The slots naming each SKU, by a hash of the SKU.
    by_sku: FxHashMap<u64, Vec<usize>>,
    /// The slots any edit may concern (see [`Entry::watched`]).
    watch: BTreeSet<usize>,
}

struct Entry {
    /// Where the shipment's table started when its diagnostics were
    /// computed, and `moved.prefix(i)` then: it starts at
    /// `at + moved.prefix(i) - shift` now (its diagnostics' own spans are
    /// off by `moved.prefix(i) - shift`).
    at: usize,
    shift: isize,
    /// The table's length.
    len: usize,
    diagnostics: Vec<Diagnostic>,
    /// Some diagnostic points at another place (the licence).
    related: bool,
    /// The product it names (by SKU).
    sku: Option<String>,
    /// The licence it uses: its own, else its product's.
    licence: Option<String>,
    /// Its SKU names no product ("did you mean" may change with any SKU).
    unknown_sku: bool,
    /// It names a licence that does not exist.
    unknown_licence: bool,
}

impl Entry {
    /// Any edit may concern it (not only one of its SKU or licence).
    fn watched(&self) -> bool {
        self.unknown_sku || self.related || self.unknown_licence
    }
}

/// Sums of a list of offsets by prefix, each added to in O(log n)
/// (a Fenwick tree): how far the tables moved.
#[derive(Default)]
struct Fenwick(Vec<isize>);

impl Fenwick {
    fn new(n: usize) -> Self {
        Fenwick(vec![0; n])
    }

    /// Adds `d` at `i` (so to the prefix of every index from `i` on).
    fn add(&mut self, i: usize, d: isize) {
        let mut j = i + 1;
        while j <= self.0.len() {
            self.0[j - 1] += d;
            j += j & j.wrapping_neg();
        }
    }

    /// The sum of the values at `0..=i`.
    fn prefix(&self, i: usize) -> isize {
        let mut j = (i + 1).min(self.0.len());
        let mut sum = 0;
        while j > 0 {
            sum += self.0[j - 1];
            j &= j - 1;
        }
        sum
    }
}

fn sku_key(sku: &str) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    sku.hash(&mut h);
    h.finish()
}

/// What an update did to the slots: the publication follows it.
#[derive(Debug)]
pub enum Moves {
    /// No slot was added or removed: each kept its index (those from
    /// `after` on moved with the text); `redone` (ascending) were judged
    /// again.
    InPlace { redone: Vec<usize>, after: usize },
    /// The slots were built again: slot `i` is old slot `kept[i]` (moved
    /// with the text), or judged again (None).
    Rebuilt { kept: Vec<Option<usize>> },
}

/// What an edit changed, for deciding which judgements still hold.
pub struct Reuse<'a> {
    /// The changed SKUs and every product that depends on one of them.
    pub dirty: FxHashSet<String>,
    pub licences: &'a [String],
    /// Any SKU changed.
    pub skus_changed: bool,
    /// The other file that was edited (judgements pointing into it may have moved).
    pub elsewhere: Option<FileId>,
    /// This file was edited: spans at or after byte `from` moved by
    /// `delta`, lines by `lines`.
    pub shift: Option<(usize, isize, i64)>,
    /// This file was edited and the tables ending at or before byte
    /// `start` were kept in place (`Kept::start`); None: unknown, every
    /// shipment of the file is judged again.
    pub start: Option<usize>,
    /// This file's stable id.
    pub own: FileId,
}

impl ShipmentCache {
    /// Forgets every judgement.
    pub fn clear(&mut self) {
        *self = ShipmentCache::default();
    }

    /// How many shipments (slots) there are.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Shipment `i`'s diagnostics (their spans where its table was when
    /// they were computed).
    pub fn slot(&self, i: usize) -> Option<&[Diagnostic]> {
        self.slots.get(i).map(|e| e.diagnostics.as_slice())
    }

    /// How far slot `i`'s table moved since its diagnostics were computed.
    fn moved_since(&self, i: usize) -> isize {
        self.slots
            .get(i)
            .map_or(0, |e| self.moved.prefix(i) - e.shift)
    }

    /// Where slot `i`'s table starts now.
    fn at(&self, i: usize) -> Option<usize> {
        self.slots
            .get(i)?
            .at
            .checked_add_signed(self.moved_since(i))
    }

    /// Every kept diagnostic, with how far its own span has moved since it
    /// was computed (see `state::placed`).
    pub fn diagnostics(&self) -> impl Iterator<Item = (isize, &Diagnostic)> {
        self.slots.iter().enumerate().flat_map(move |(i, e)| {
            let moved = self.moved_since(i);
            e.diagnostics.iter().map(move |d| (moved, d))
        })
    }

    /// The stable ids of the files the kept diagnostics point into.
    pub fn points_into(&self) -> impl Iterator<Item = FileId> + '_ {
        self.watch
            .iter()
            .filter_map(|&i| self.slots.get(i).filter(|e| e.related))
            .flat_map(|e| e.diagnostics.iter())
            .flat_map(|d| d.related.iter())
            .filter_map(|r| match r.file {
                FileRef::Id(id) => Some(id),
                _ => None,
            })
    }

    /// Puts `e` in slot `i` (judged now), keeping the lookups up to date.
    fn replace(&mut self, i: usize, mut e: Entry) {
        e.shift = self.moved.prefix(i);
        let Some(old) = self.slots.get_mut(i) else {
            return;
        };
        let old = std::mem::replace(old, e);
        if let Some(v) = old
            .sku
            .as_deref()
            .and_then(|s| self.by_sku.get_mut(&sku_key(s)))
        {
            v.retain(|&k| k != i);
        }
        self.watch.remove(&i);
        let e = &self.slots[i];
        if let Some(s) = e.sku.as_deref() {
            self.by_sku.entry(sku_key(s)).or_default().push(i);
        }
        if e.watched() {
            self.watch.insert(i);
        }
    }

    /// Builds the lookups of the slots afresh.
    fn index(&mut self) {
        self.by_sku.clear();
        self.watch.clear();
        for (i, e) in self.slots.iter().enumerate() {
            if let Some(s) = e.sku.as_deref() {
                self.by_sku.entry(sku_key(s)).or_default().push(i);
            }
            if e.watched() {
                self.watch.insert(i);
            }
        }
    }

    /// Brings the judgements of every shipment of file `f` up to date:
    /// kept where `reuse` allows, judged again otherwise (`ids` maps their
    /// related locations to stable ids). Says which slots were kept where,
    /// for the publication.
    pub fn update(
        &mut self,
        ws: &Workspace,
        f: usize,
        opts: &Options,
        reuse: Option<&Reuse>,
        ids: &dyn Fn(&mut Diagnostic),
    ) -> Moves {
        let cat = ws.files[f].catalogue;
        if let Some((todo, after)) = reuse.and_then(|r| self.in_place(ws, cat, r)) {
            for (i, e) in judge(ws, f, opts, &todo, ids) {
                self.replace(i, e);
            }
            return Moves::InPlace {
                redone: todo,
                after,
            };
        }
        let n_old = self.slots.len();
        visited(n_old);
        let old_at: Vec<Option<usize>> = (0..n_old).map(|j| self.at(j)).collect();
        let mut old: Vec<Option<Entry>> = std::mem::take(&mut self.slots)
            .into_iter()
            .map(Some)
            .collect();
        let n_new = cat.shipments.len();
        // Kept judgements are found by position: an edit of another file
        // left this one as it was; an edit of this one kept the tables
        // outside the bytes it read again (those before in place, those
        // after moved by its length, the last ones of the list).
        let found_at = |old: &[Option<Entry>], i: usize, s: &crate::catalogue::Shipment| {
            let r = reuse?;
            let end = |j: usize| Some(old_at.get(j).copied()?? + old.get(j)?.as_ref()?.len);
            let (j, moved) = match (r.shift, r.start) {
                (None, _) if n_old == n_new => (i, 0),
                (Some((from, delta, _)), Some(start)) => {
                    if end(i).is_some_and(|e| e <= start) {
                        (i, 0)
                    } else {
                        let j = (i + n_old).checked_sub(n_new)?;
                        if old_at.get(j).copied()?? < from {
                            return None;
                        }
                        (j, delta)
                    }
                }
                _ => return None,
            };
            // The kept table is where the parser says it is, as long as it was.
            let at = old_at.get(j).copied()??;
            let len = old.get(j)?.as_ref()?.len;
            (at.checked_add_signed(moved) == Some(s.span.start()) && len == s.span.len())
                .then_some(j)
        };
        let mut todo = Vec::new();
        let mut slots: Vec<Option<Entry>> = Vec::with_capacity(n_new);
        let mut kept_from = Vec::with_capacity(n_new);
        for (i, s) in cat.shipments.iter().enumerate() {
            let now = s.span.start();
            let found = found_at(&old, i, s)
                .and_then(|j| old[j].take().map(|o| (j, o)))
                .filter(|(_, e)| reuse.is_some_and(|r| r.holds(ws, e)));
            let (Some(r), Some((j, mut entry))) = (reuse, found) else {
                todo.push(i);
                slots.push(None);
                kept_from.push(None);
                continue;
            };
            kept_from.push(Some(j));
            if entry.related {
                if let Some((from, delta, _)) = r.shift {
                    // What it points at in this file may have moved.
                    shift_related(&mut entry, r.own, from, delta);
                }
            }
            // With no move recorded yet, it starts at `at - shift`.
            entry.shift = entry.at as isize - now as isize;
            slots.push(Some(entry));
        }
        self.moved = Fenwick::new(n_new);
        let judged = judge(ws, f, opts, &todo, ids);
        for (i, e) in judged {
            slots[i] = Some(e);
        }
        self.slots = slots.into_iter().flatten().collect();
        self.index();
        Moves::Rebuilt { kept: kept_from }
    }

    /// Keeps the judgements that still hold where they are, when the edit
    /// added or removed no shipment: those outside the bytes the parser read
    /// again are kept (those after them moved with the text by one
    /// addition), and only the slots in those bytes, naming a changed SKU or
    /// watched are looked at; returns the shipments to judge again and the
    /// first slot after the bytes read again. None when the slots cannot be
    /// kept in place.
    fn in_place(
        &mut self,
        ws: &Workspace,
        cat: &Catalogue,
        r: &Reuse,
    ) -> Option<(Vec<usize>, usize)> {
        let n = self.slots.len();
        if n != cat.shipments.len() {
            return None;
        }
        let (lo, hi, delta) = match (r.shift, r.start) {
            // Another file was edited: nothing of this one moved.
            (None, _) => (n, n, 0),
            (Some((from, delta, _)), Some(start)) => {
                // The bytes read again end at `end` in the new text.
                let end = from.checked_add_signed(delta)?;
                let lo = cat.shipments.partition_point(|s| s.span.end() <= start);
                let hi = cat.shipments.partition_point(|s| s.span.start() < end);
                (lo, hi.max(lo), delta)
            }
            _ => return None,
        };
        // The kept tables are where the parser says they are, as long as
        // they were (checked at the edges of the bytes read again and at the end).
        let edges = [lo.checked_sub(1), (hi < n).then_some(hi), n.checked_sub(1)];
        for i in edges.into_iter().flatten().filter(|&i| i < lo || i >= hi) {
            let moved = if i >= hi { delta } else { 0 };
            let (e, s) = (&self.slots[i], &cat.shipments[i]);
            let at = self.at(i).and_then(|a| a.checked_add_signed(moved));
            if at != Some(s.span.start()) || e.len != s.span.len() {
                return None;
            }
        }
        if delta != 0 && hi < n {
            self.moved.add(hi, delta);
        }
        let mut todo: Vec<usize> = (lo..hi).collect();
        visited(hi - lo);
        let outside = |i: usize| i < lo || i >= hi;
        let mut check = |i: usize, slots: &[Entry]| {
            visited(1);
            if outside(i) && !r.holds(ws, &slots[i]) {
                todo.push(i);
            }
        };
        if !r.licences.is_empty() {
            // A licence changed: any shipment may use it.
            (0..n).for_each(|i| check(i, &self.slots));
        } else {
            for sku in &r.dirty {
                for &i in self.by_sku.get(&sku_key(sku)).into_iter().flatten() {
                    check(i, &self.slots);
                }
            }
            for &i in &self.watch {
                check(i, &self.slots);
            }
        }
        if let Some((from, delta, _)) = r.shift {
            // What the kept ones point at in this file may have moved.
            for &i in self.watch.iter().filter(|&&i| outside(i)) {
                if let Some(e) = self.slots.get_mut(i).filter(|e| e.related) {
                    shift_related(e, r.own, from, delta);
                }
            }
        }
        todo.sort_unstable();
        todo.dedup();
        Some((todo, hi))
    }
}

/// Moves the related locations in file `own` at or after byte `from` of a
/// kept judgement by `delta` bytes.
fn shift_related(e: &mut Entry, own: FileId, from: usize, delta: isize) {
    for d in &mut e.diagnostics {
        for x in &mut d.related {
            if x.file == FileRef::Id(own) && x.span.start() >= from {
                x.span.shift(delta);
            }
        }
    }
}

/// Judges shipments `todo` of file `f` and gives their entries.
fn judge(
    ws: &Workspace,
    f: usize,
    opts: &Options,
    todo: &[usize],
    ids: &dyn Fn(&mut Diagnostic),
) -> Vec<(usize, Entry)> {
    let cat = ws.files[f].catalogue;
    JUDGED.with(|n| n.set(n.get() + todo.len()));
    let mut judged: FxHashMap<usize, Vec<Diagnostic>> =
        ws.judge_shipments(f, opts, todo).into_iter().collect();
    let mut out = Vec::with_capacity(todo.len());
    for &i in todo {
        let Some(s) = cat.shipments.get(i) else {
            continue;
        };
        let mut diagnostics = judged.remove(&i).unwrap_or_default();
        diagnostics.iter_mut().for_each(ids);
        crate::engine::exports::sort_exports(&mut diagnostics);
        let sku = s.sku_str();
        let product = sku.and_then(|k| ws.product_at(k));
        let licence = s
            .licence
            .as_ref()
            .or(product.and_then(|(_, p)| p.licence.as_ref()))
            .map(|l| l.value.clone());
        out.push((
            i,
            Entry {
                at: s.span.start(),
                shift: 0,
                len: s.span.len(),
                related: diagnostics.iter().any(|d| !d.related.is_empty()),
                unknown_licence: diagnostics.iter().any(|d| d.code == Code::UnknownLicence),
                diagnostics,
                sku: sku.map(str::to_owned),
                licence,
                unknown_sku: sku.is_some() && product.is_none(),
            },
        ));
    }
    out
}

impl Reuse<'_> {
    /// The kept judgement `e` still holds after the edit.
    fn holds(&self, ws: &Workspace, e: &Entry) -> bool {
        if e.unknown_sku && self.skus_changed {
            return false;
        }
        if e.sku.as_ref().is_some_and(|s| self.dirty.contains(s)) {
            return false;
        }
        if let Some(l) = &e.licence {
            if !self.licences.is_empty() && (self.licences.contains(l) || ws.licence(l).is_none()) {
                return false;
            }
        }
        if let Some(x) = self.elsewhere {
            let points = e
                .diagnostics
                .iter()
                .any(|d| d.related.iter().any(|r| r.file == FileRef::Id(x)));
            if points {
                return false;
            }
        }
        // An unknown licence's "did you mean" may change with any licence id.
        self.licences.is_empty() || !e.unknown_licence
    }
}
