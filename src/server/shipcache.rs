//! The judgements of a file's shipments, kept between analyses.
//!
//! A shipment's judgement (its classification on its date, the licence
//! checks, end-use evidence, an unknown SKU) depends on its own table, its
//! product (and that product's components at any depth) and the licence it
//! uses. An edit keeps the judgement of every shipment whose table the
//! parser kept (outside the bytes it read again, `Kept::start..from`; it
//! may have moved: its spans follow) and whose product and licence the edit
//! did not change; only the others are judged again. No table's text is
//! read to decide. The balance findings come from the ledger (kept in the
//! server's state and brought up to date per edit). What an update did to
//! the slots ([`Moves`]) is handed to the file's publication
//! (`server::publication`), which keeps the wire form of each slot and
//! renders again only the judgements made again.

use crate::catalogue::Shift;
use crate::diagnostic::{Code, Diagnostic, FileId, FileRef};
use crate::engine::{Options, Workspace};
use crate::text::LineIndex;
use rustc_hash::{FxHashMap, FxHashSet};

thread_local! {
    /// Shipments judged (not taken from a cache) on this thread: the
    /// complexity test counts them.
    pub static JUDGED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The kept judgements of one file's shipments: each shipment's
/// diagnostics, in the order of the shipments.
#[derive(Default)]
pub struct ShipmentCache {
    /// Per shipment of the file, in order.
    slots: Vec<Slot>,
}

struct Slot {
    /// Where the table starts and ends now, and its line.
    at: usize,
    end: usize,
    line: u32,
    entry: Box<Entry>,
}

struct Entry {
    /// Where the shipment's table started when its diagnostics were computed
    /// (their own spans are off by `Slot::at - Entry::at` once it moves).
    at: usize,
    diagnostics: Vec<Diagnostic>,
    /// Some diagnostic points at another place (the licence).
    related: bool,
    /// The product it names (by SKU).
    sku: Option<String>,
    /// The licence it uses: its own, else its product's.
    licence: Option<String>,
    /// Its SKU names no product ("did you mean" may change with any SKU).
    unknown_sku: bool,
}

/// What an update did to the slots: the publication follows it.
#[derive(Debug)]
pub enum Moves {
    /// No slot was added or removed: each kept its index (those after the
    /// bytes read again moved with the text); `redone` (ascending) were
    /// judged again.
    InPlace { redone: Vec<usize> },
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
        self.slots.clear();
    }

    /// Every kept diagnostic, with how far its own span has moved since it
    /// was computed (see `state::placed`).
    pub fn diagnostics(&self) -> impl Iterator<Item = (isize, &Diagnostic)> {
        self.slots.iter().flat_map(|s| {
            let moved = s.at as isize - s.entry.at as isize;
            s.entry.diagnostics.iter().map(move |d| (moved, d))
        })
    }

    /// How many shipments (slots) there are.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Shipment `i`'s diagnostics (their spans where its table was when they
    /// were computed) and the line its table starts on now (0 without diagnostics).
    pub fn slot(&self, i: usize) -> Option<(&[Diagnostic], u32)> {
        self.slots
            .get(i)
            .map(|s| (s.entry.diagnostics.as_slice(), s.line))
    }

    /// The stable ids of the files the kept diagnostics point into.
    pub fn points_into(&self) -> impl Iterator<Item = FileId> + '_ {
        self.slots
            .iter()
            .filter(|s| s.entry.related)
            .flat_map(|s| s.entry.diagnostics.iter())
            .flat_map(|d| d.related.iter())
            .filter_map(|r| match r.file {
                FileRef::Id(id) => Some(id),
                _ => None,
            })
    }

    /// Brings the judgements of every shipment of file `f` (whose lines
    /// are `lines`) up to date: kept where `reuse` allows, judged
    /// again otherwise (`ids` maps their related locations to stable ids).
    /// Says which slots were kept where, for the publication.
    pub fn update(
        &mut self,
        ws: &Workspace,
        f: usize,
        opts: &Options,
        lines: &LineIndex,
        reuse: Option<&Reuse>,
        ids: &dyn Fn(&mut Diagnostic),
    ) -> Moves {
        let cat = ws.files[f].catalogue;
        if let Some(todo) = reuse.and_then(|r| self.in_place(ws, cat, r)) {
            for (i, slot) in judge(ws, f, opts, lines, &todo, ids) {
                if let Some(x) = self.slots.get_mut(i) {
                    *x = slot;
                }
            }
            return Moves::InPlace { redone: todo };
        }
        let mut old: Vec<Option<Slot>> = std::mem::take(&mut self.slots)
            .into_iter()
            .map(Some)
            .collect();
        let (n_old, n_new) = (old.len(), cat.shipments.len());
        // Kept judgements are found by position: an edit of another file
        // left this one as it was; an edit of this one kept the tables
        // outside the bytes it read again (those before in place, those
        // after moved by its length, the last ones of the list).
        let found_at =
            |old: &[Option<Slot>], i: usize, s: &crate::catalogue::Shipment| -> Option<usize> {
                let r = reuse?;
                let (j, moved) = match (r.shift, r.start) {
                    (None, _) if n_old == n_new => (i, 0),
                    (Some((from, delta, _)), Some(start)) => {
                        let o = old.get(i).and_then(Option::as_ref);
                        if o.is_some_and(|o| o.end <= start) {
                            (i, 0)
                        } else {
                            let j = (i + n_old).checked_sub(n_new)?;
                            let o = old.get(j).and_then(Option::as_ref)?;
                            if o.at < from {
                                return None;
                            }
                            (j, delta)
                        }
                    }
                    _ => return None,
                };
                // The kept table is where the parser says it is, as long as it was.
                let o = old.get(j).and_then(Option::as_ref)?;
                (o.at.checked_add_signed(moved) == Some(s.span.start())
                    && o.end - o.at == s.span.len())
                .then_some(j)
            };
        let mut todo = Vec::new();
        let mut slots: Vec<Option<Slot>> = Vec::with_capacity(n_new);
        let mut kept_from = Vec::with_capacity(n_new);
        for (i, s) in cat.shipments.iter().enumerate() {
            let at = s.span.start();
            let found = found_at(&old, i, s)
                .and_then(|j| old[j].take().map(|o| (j, o.entry)))
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
                    for d in &mut entry.diagnostics {
                        for x in &mut d.related {
                            if x.file == FileRef::Id(r.own) && x.span.start() >= from {
                                x.span.shift(delta);
                            }
                        }
                    }
                }
            }
            let line = if entry.diagnostics.is_empty() {
                0
            } else {
                lines.line_of(at) as u32
            };
            slots.push(Some(Slot {
                at,
                end: s.span.end(),
                line,
                entry,
            }));
        }
        for (i, slot) in judge(ws, f, opts, lines, &todo, ids) {
            slots[i] = Some(slot);
        }
        self.slots = slots.into_iter().flatten().collect();
        Moves::Rebuilt { kept: kept_from }
    }

    /// Keeps the judgements that still hold where they are, when the edit
    /// added or removed no shipment: those outside the bytes the parser read
    /// again are moved with the text (no slot is rebuilt); returns the
    /// shipments to judge again. None when the slots cannot be kept in place.
    fn in_place(
        &mut self,
        ws: &Workspace,
        cat: &crate::catalogue::Catalogue,
        r: &Reuse,
    ) -> Option<Vec<usize>> {
        if self.slots.len() != cat.shipments.len() {
            return None;
        }
        let (from, delta, n, start) = match (r.shift, r.start) {
            // Another file was edited: nothing of this one moved.
            (None, _) => (usize::MAX, 0, 0, usize::MAX),
            (Some((from, delta, n)), Some(start)) => (from, delta, n, start),
            _ => return None,
        };
        let mut todo = Vec::new();
        for (i, (slot, s)) in self.slots.iter_mut().zip(&cat.shipments).enumerate() {
            // After the bytes read again: moved by `delta` bytes and `n` lines.
            let after = slot.end > start && slot.at >= from;
            if slot.end > start && !after {
                todo.push(i);
                continue;
            }
            let moved = if after { delta } else { 0 };
            // The kept table is where the parser says it is, as long as it was.
            let kept = slot.at.checked_add_signed(moved) == Some(s.span.start())
                && slot.end - slot.at == s.span.len()
                && r.holds(ws, &slot.entry);
            if !kept {
                todo.push(i);
                continue;
            }
            if after {
                slot.at = s.span.start();
                slot.end = s.span.end();
                if !slot.entry.diagnostics.is_empty() {
                    slot.line = u32::try_from(i64::from(slot.line) + n).unwrap_or(0);
                }
            }
            if slot.entry.related && r.shift.is_some() {
                // What it points at in this file may have moved.
                for d in &mut slot.entry.diagnostics {
                    for x in &mut d.related {
                        if x.file == FileRef::Id(r.own) && x.span.start() >= from {
                            x.span.shift(delta);
                        }
                    }
                }
            }
        }
        Some(todo)
    }
}

/// Judges shipments `todo` of file `f` and gives their slots.
fn judge(
    ws: &Workspace,
    f: usize,
    opts: &Options,
    lines: &LineIndex,
    todo: &[usize],
    ids: &dyn Fn(&mut Diagnostic),
) -> Vec<(usize, Slot)> {
    let cat = ws.files[f].catalogue;
    JUDGED.with(|n| n.set(n.get() + todo.len()));
    let mut judged: FxHashMap<usize, Vec<Diagnostic>> =
        ws.judge_shipments(f, opts, todo).into_iter().collect();
    let mut out = Vec::with_capacity(todo.len());
    for &i in todo {
        let s = &cat.shipments[i];
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
        let at = s.span.start();
        let line = if diagnostics.is_empty() {
            0
        } else {
            lines.line_of(at) as u32
        };
        out.push((
            i,
            Slot {
                at,
                end: s.span.end(),
                line,
                entry: Box::new(Entry {
                    at,
                    related: diagnostics.iter().any(|d| !d.related.is_empty()),
                    diagnostics,
                    sku: sku.map(str::to_owned),
                    licence,
                    unknown_sku: sku.is_some() && product.is_none(),
                }),
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
        self.licences.is_empty() || !e.diagnostics.iter().any(|d| d.code == Code::UnknownLicence)
    }
}
