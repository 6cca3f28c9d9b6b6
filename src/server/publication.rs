//! A file's publication: everything about its diagnostics on the wire.
//!
//! The analysis of a file (`state::FileAnalysis`) holds engine types only:
//! each product's outcome, each shipment's judgement (`shipcache`), the
//! file-level diagnostics. After every update the state hands this module
//! what changed (`state::Changes`): which products were analysed again,
//! which shipments judged again, which moved and how the edit moved the
//! text. A [`Publication`] follows it, and keeps
//!
//! - one [`Template`] list per product and per shipment (their JSON, lines
//!   left as holes, own lines relative to their table's line) and per
//!   file-level diagnostic (with what it was made from, so that an equal one
//!   keeps its wire form: [`FileWire`]);
//! - the items of the last publication (`body`) and where each product's
//!   and shipment's items are in it while they are still valid (the part
//!   kept its templates and line), so the next publication copies runs of
//!   valid parts from the last one and writes only the others;
//! - the buffer of the publication before (`spare`, reused), and the
//!   result id of the items (a hash, for pulled diagnostics).
//!
//! The conversion of one diagnostic (the user's severity overrides, the
//! anchors of its lines) is [`lsp_diagnostic`]; the LSP form itself is
//! `proto`'s. Order of the items: the settings error (if any), the
//! file-level diagnostics, the shipments' in shipment order, the products'.

use super::proto;
use super::shipcache::Moves;
use super::state::{Changes, FileAnalysis, FileView, OFF_BY_DEFAULT, State};
use super::wire::{Anchor, Template};
use crate::diagnostic::{Diagnostic, FileId, FileRef, Severity};
use rayon::prelude::*;
use std::hash::Hasher;
use std::ops::Range;
use std::sync::Arc;
use tower_lsp::lsp_types as lsp;

thread_local! {
    /// File-level diagnostics rendered to the wire (not kept from the
    /// analysis before) on this thread: the complexity test counts them.
    pub static RENDERED_FILE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The publication of one file (see the module's documentation).
#[derive(Default)]
pub struct Publication {
    file: Vec<FileWire>,
    shipments: Vec<Part>,
    products: Vec<Part>,
    /// The items of the last publication, comma-terminated.
    body: Arc<Vec<u8>>,
    /// The first item `body` was written with (the settings error).
    first: Vec<u8>,
    /// `body` is not what the parts say any more.
    stale: bool,
    /// The hash of `body`'s items, once asked for.
    id: Option<u64>,
    /// The buffer of the publication before (reused: no megabytes allocated per keystroke).
    spare: Vec<u8>,
    /// A body the writer was still sending when it would have become
    /// `spare`: taken back at the next publication if the writer is done.
    lent: Option<Arc<Vec<u8>>>,
}

/// A file-level diagnostic's wire form (None: its code is off), with what
/// it was made from besides the diagnostic: where its spans are in LSP terms
/// (the lines and columns of its own range and of each related location).
/// A diagnostic of the next analysis equal to it but for its byte spans,
/// with the same places, has the same wire form. (Its holes' byte anchors
/// are not brought up to date: file-level templates are never shifted.)
struct FileWire {
    key: u64,
    places: Vec<u32>,
    template: Option<Template>,
}

/// A product's or a shipment's diagnostics on the wire.
#[derive(Default)]
struct Part {
    templates: Vec<Template>,
    /// The line their own lines are counted from (their table's).
    line: u32,
    /// Some template has a related location in this file (it moves with edits above it).
    local: bool,
    /// Where its items are in `body`, while still valid.
    segment: Option<Range<usize>>,
}

/// How an edit moved the text: bytes at or after `.0` by `.1`, lines by `.2`.
type Shift = (usize, isize, i64);

impl Part {
    fn new(templates: Vec<Template>, line: u32) -> Part {
        Part {
            local: templates.iter().any(Template::has_local),
            templates,
            line,
            segment: None,
        }
    }

    /// A kept part follows its table to `line`, and what it points at in
    /// this file follows the edit.
    fn follow(&mut self, line: u32, shift: Option<Shift>) {
        if let (true, Some((from, delta, lines))) = (self.local, shift) {
            for t in &mut self.templates {
                t.shift(from, delta, lines);
            }
            if lines != 0 {
                self.segment = None;
            }
        }
        if self.line != line {
            self.line = line;
            self.segment = None;
        }
    }
}

impl Publication {
    /// Follows an update of `a`, the analysis of `uri` in `st`: renders
    /// again what `changes` says was computed again, moves what it says
    /// moved. (A file the state does not know publishes nothing.)
    pub fn follow(&mut self, st: &State, uri: &lsp::Url, a: &FileAnalysis, changes: Changes) {
        match Renderer::new(st, uri) {
            Some(r) => self.update(a, changes, &r),
            None => *self = Publication::default(),
        }
    }

    fn update(&mut self, a: &FileAnalysis, changes: Changes, r: &Renderer) {
        self.stale = true;
        let Changes {
            products,
            shipments,
            shift,
            file_before,
        } = changes;
        let before = std::mem::take(&mut self.file);
        self.file = r.file_wire(&a.file, &file_before, before);
        self.update_products(a, products, shift, r);
        self.update_shipments(a, shipments, shift, r);
    }

    fn update_products(
        &mut self,
        a: &FileAnalysis,
        spliced: Option<super::state::Spliced>,
        shift: Option<Shift>,
        r: &Renderer,
    ) {
        let render = |i: usize| {
            let (Some(o), Some(p)) = (a.products.get(i), a.places.get(i)) else {
                return Part::default();
            };
            Part::new(r.templates(&o.diagnostics, p.line), p.line)
        };
        let n = a.products.len();
        if let Some(s) = spliced {
            let len = self.products.len();
            if s.first <= s.old_end && s.old_end <= len && len - s.old_end + s.new_end == n {
                self.products.splice(
                    s.first..s.old_end,
                    (s.first..s.new_end).map(|_| Part::default()),
                );
                // Many products analysed again (a licence they use changed): on all cores.
                let fresh: Vec<Part> = if s.redone.len() > 1024 {
                    s.redone.par_iter().map(|&i| render(i)).collect()
                } else {
                    s.redone.iter().map(|&i| render(i)).collect()
                };
                let mut fresh = s.redone.iter().copied().zip(fresh).peekable();
                for (i, part) in self.products.iter_mut().enumerate() {
                    match fresh.next_if(|(k, _)| *k == i) {
                        Some((_, p)) => *part = p,
                        None => part.follow(a.places.get(i).map_or(0, |p| p.line), shift),
                    }
                }
                return;
            }
        }
        // Opening a large file renders every product: on all cores.
        self.products = if n > 1024 {
            (0..n).into_par_iter().map(render).collect()
        } else {
            (0..n).map(render).collect()
        };
    }

    fn update_shipments(
        &mut self,
        a: &FileAnalysis,
        moves: Moves,
        shift: Option<Shift>,
        r: &Renderer,
    ) {
        let cache = a.shipments();
        let n = cache.len();
        let render = |i: usize| match cache.slot(i) {
            Some(d) if !d.is_empty() => {
                let line = r.shipment_line(i);
                Part::new(r.templates(d, line), line)
            }
            _ => Part::default(),
        };
        match moves {
            Moves::InPlace { redone, after } if self.shipments.len() == n => {
                for &i in &redone {
                    if let Some(p) = self.shipments.get_mut(i) {
                        *p = render(i);
                    }
                }
                // The kept ones from `after` on moved with the text, and
                // those with a related location in this file follow the edit.
                let lines = shift.map_or(0, |(_, _, lines)| lines);
                let mut redone = redone.iter().copied().peekable();
                for (i, part) in self.shipments.iter_mut().enumerate() {
                    let moved = lines != 0 && i >= after && !part.templates.is_empty();
                    if redone.next_if_eq(&i).is_some() || !(part.local || moved) {
                        continue;
                    }
                    let line = match moved {
                        true => u32::try_from(i64::from(part.line) + lines).unwrap_or(0),
                        false => part.line,
                    };
                    part.follow(line, shift);
                }
            }
            Moves::Rebuilt { kept } if kept.len() == n => {
                let mut old: Vec<Option<Part>> = std::mem::take(&mut self.shipments)
                    .into_iter()
                    .map(Some)
                    .collect();
                self.shipments = kept
                    .iter()
                    .enumerate()
                    .map(|(i, j)| match j.and_then(|j| old.get_mut(j)?.take()) {
                        Some(mut p) => {
                            if !p.templates.is_empty() {
                                p.follow(r.shipment_line(i), shift);
                            }
                            p
                        }
                        None => render(i),
                    })
                    .collect();
            }
            _ => self.shipments = (0..n).map(render).collect(),
        }
    }

    /// The items of the `diagnostics` array of the publication (`first`,
    /// then the file's, the shipments', the products'), comma-separated:
    /// spliced from the last publication, or the last one itself when
    /// nothing changed since.
    pub fn items(&mut self, first: Option<&Template>) -> (Arc<Vec<u8>>, Range<usize>) {
        let mut head = Vec::new();
        if let Some(t) = first {
            t.write(&mut head, 0);
            head.push(b',');
        }
        if self.stale || head != self.first {
            self.splice(head);
        }
        let len = match self.body.last() {
            Some(b',') => self.body.len() - 1,
            _ => self.body.len(),
        };
        (self.body.clone(), 0..len)
    }

    /// The result id of the items [`Self::items`] gives: a hash of exactly
    /// what a full report carries.
    pub fn result_id(&mut self, first: Option<&Template>) -> String {
        let (items, range) = self.items(first);
        let id = *self.id.get_or_insert_with(|| {
            let mut h = rustc_hash::FxHasher::default();
            h.write(items.get(range).unwrap_or_default());
            h.finish()
        });
        format!("{id:016x}")
    }

    /// Writes the items again: `head`, the file-level templates, then each
    /// shipment's and product's, copying the runs of parts still valid in
    /// the last publication at once.
    fn splice(&mut self, head: Vec<u8>) {
        let old = std::mem::take(&mut self.body);
        let mut out = std::mem::take(&mut self.spare);
        if out.capacity() == 0 {
            if let Some(Ok(lent)) = self.lent.take().map(Arc::try_unwrap) {
                out = lent;
            }
        }
        out.clear();
        out.reserve(old.len() + 4096);
        out.extend_from_slice(&head);
        for t in self.file.iter().filter_map(|w| w.template.as_ref()) {
            t.write(&mut out, 0);
            out.push(b',');
        }
        splice_parts(&mut self.shipments, &old, &mut out);
        splice_parts(&mut self.products, &old, &mut out);
        self.body = Arc::new(out);
        self.first = head;
        self.stale = false;
        self.id = None;
        // The writer may still be sending the old one: then it is lent.
        match Arc::try_unwrap(old) {
            Ok(old) => self.spare = old,
            Err(old) => self.lent = Some(old),
        }
    }
}

/// Appends the items of `parts` to `out`: runs of parts whose items are
/// still valid in `old` (and follow each other there) are copied at once,
/// the others written from their templates; each part's segment is where
/// its items are in `out`.
fn splice_parts(parts: &mut [Part], old: &[u8], out: &mut Vec<u8>) {
    let n = parts.len();
    let mut i = 0;
    while i < n {
        match parts[i].segment.clone() {
            Some(r) if r.end <= old.len() => {
                let mut j = i + 1;
                let mut end = r.end;
                while let Some(Some(next)) = parts.get(j).map(|p| &p.segment) {
                    if next.start != end || next.end > old.len() {
                        break;
                    }
                    end = next.end;
                    j += 1;
                }
                let moved = out.len() as isize - r.start as isize;
                out.extend_from_slice(&old[r.start..end]);
                for s in parts[i..j].iter_mut().filter_map(|p| p.segment.as_mut()) {
                    *s = s.start.saturating_add_signed(moved)..s.end.saturating_add_signed(moved);
                }
                i = j;
            }
            _ => {
                let start = out.len();
                let p = &mut parts[i];
                for t in &p.templates {
                    t.write(out, p.line);
                    out.push(b',');
                }
                p.segment = Some(start..out.len());
                i += 1;
            }
        }
    }
}

/// What the wire form of one file's diagnostics is made with: the state's
/// settings and encoding, the file, its stable id.
struct Renderer<'a> {
    st: &'a State,
    f: FileView<'a>,
    own: Option<FileId>,
}

impl<'a> Renderer<'a> {
    /// The renderer for `uri` (None for a file the state does not know).
    fn new(st: &'a State, uri: &lsp::Url) -> Option<Renderer<'a>> {
        Some(Renderer {
            f: st.file(uri)?,
            own: st.stable_id(uri),
            st,
        })
    }

    /// The line shipment `i`'s table starts on.
    fn shipment_line(&self, i: usize) -> u32 {
        let at = self
            .f
            .catalogue
            .shipments
            .get(i)
            .map_or(0, |s| s.span.start());
        self.f.lines.line_of(at) as u32
    }

    /// The wire form of `diags`, their own lines kept relative to line `base`.
    fn templates(&self, diags: &[Diagnostic], base: u32) -> Vec<Template> {
        diags
            .iter()
            .filter_map(|d| {
                let (ld, anchors) = lsp_diagnostic(self.st, &self.f, self.own, d)?;
                Some(Template::new(ld, &anchors, base))
            })
            .collect()
    }

    /// The wire form of file-level diagnostics `diags` (lines absolute),
    /// taking the templates of `kept` (the wire form of `before`, the
    /// file-level diagnostics of the analysis before) for those equal to
    /// one of `before` but for their byte spans, at the same lines and
    /// columns: most file-level diagnostics (the licence balances) survive a
    /// keystroke, and rendering one (its LSP form, its JSON) costs more
    /// than finding it. Settings, the encoding and file ids do not change
    /// under a kept analysis (its `Basis`).
    fn file_wire(
        &self,
        diags: &[Diagnostic],
        before: &[Diagnostic],
        mut kept: Vec<FileWire>,
    ) -> Vec<FileWire> {
        let by_key: rustc_hash::FxHashMap<u64, usize> = kept
            .iter()
            .enumerate()
            .filter(|(j, w)| w.template.is_some() && *j < before.len())
            .map(|(j, w)| (w.key, j))
            .collect();
        diags
            .iter()
            .map(|d| {
                let places = self.places(d);
                let key = wire_key(d, &places);
                let reused = by_key.get(&key).and_then(|&j| {
                    let w = kept.get_mut(j)?;
                    (w.places == places && same_but_spans(before.get(j)?, d))
                        .then(|| w.template.take())?
                });
                let template = reused.or_else(|| {
                    RENDERED_FILE.with(|n| n.set(n.get() + 1));
                    let (ld, anchors) = lsp_diagnostic(self.st, &self.f, self.own, d)?;
                    Some(Template::new(ld, &anchors, 0))
                });
                FileWire {
                    key,
                    places,
                    template,
                }
            })
            .collect()
    }

    /// The lines and columns of `d`'s own range and related locations (as
    /// [`lsp_diagnostic`] gives them), `u32::MAX` for one it leaves out.
    fn places(&self, d: &Diagnostic) -> Vec<u32> {
        let (st, enc) = (self.st, self.st.encoding);
        let mut out = Vec::with_capacity(4 + 5 * d.related.len());
        let push = |out: &mut Vec<u32>, r: lsp::Range| {
            out.extend([r.start.line, r.start.character, r.end.line, r.end.character])
        };
        push(&mut out, proto::file_range(&self.f, d.span, enc));
        for r in &d.related {
            let id = match r.file {
                FileRef::Id(id) => Some(id),
                FileRef::Same => self.own,
                FileRef::Index(_) => None,
            };
            let view = id.and_then(|id| st.file(st.uri_of(id)?));
            match (id, view) {
                (Some(id), Some(v)) => {
                    out.push(u32::try_from(id.0).unwrap_or(u32::MAX - 1));
                    push(&mut out, proto::file_range(&v, r.span, enc));
                }
                _ => out.push(u32::MAX),
            }
        }
        out
    }
}

/// The severity the user's settings give `d` (None: its code is off, by
/// the settings or by default).
pub fn shown_severity(st: &State, d: &Diagnostic) -> Option<Severity> {
    match st
        .settings
        .severity
        .get(d.code.as_str())
        .map(String::as_str)
    {
        Some("off") | Some("none") => None,
        Some(s) => Some(Severity::parse(s).unwrap_or(d.severity)),
        // The verdict marks are off unless asked for: the verdict is an
        // inlay hint and a code lens (contract §11).
        None if OFF_BY_DEFAULT.contains(&d.code) => None,
        None => Some(d.severity),
    }
}

/// One diagnostic of file `f` in LSP form (severity overrides applied; None
/// when its code is off), with the anchors of its line numbers (see
/// [`Template::new`]); `own` is the file's stable id.
pub fn lsp_diagnostic(
    st: &State,
    f: &FileView,
    own: Option<FileId>,
    d: &Diagnostic,
) -> Option<(lsp::Diagnostic, Vec<Anchor>)> {
    let sev = shown_severity(st, d)?;
    let mut anchors = Vec::with_capacity(2 + 2 * d.related.len());
    let range = proto::file_range(f, d.span, st.encoding);
    anchors.push((range.start.line, Some(d.span.start())));
    anchors.push((range.end.line, Some(d.span.end())));
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .related
        .iter()
        .filter_map(|r| {
            let id = match r.file {
                FileRef::Id(id) => id,
                FileRef::Same => own?,
                FileRef::Index(_) => return None,
            };
            let uri = st.uri_of(id)?;
            let v = st.file(uri)?;
            let range = proto::file_range(&v, r.span, st.encoding);
            let local = Some(id) == own;
            anchors.push((range.start.line, local.then_some(r.span.start())));
            anchors.push((range.end.line, local.then_some(r.span.end())));
            Some(proto::related(uri, range, &r.message))
        })
        .collect();
    Some((proto::diagnostic(d, sev, range, related), anchors))
}

/// Whether two diagnostics are the same but for their byte spans (and
/// those of their related locations). Every field is named: a new one must
/// be decided on here.
fn same_but_spans(a: &Diagnostic, b: &Diagnostic) -> bool {
    let Diagnostic {
        code,
        severity,
        span: _,
        message,
        explanation,
        explanation_at,
        sku,
        source,
        related,
        fix,
    } = a;
    *code == b.code
        && *severity == b.severity
        && *message == b.message
        && *explanation == b.explanation
        && *explanation_at == b.explanation_at
        && *sku == b.sku
        && *source == b.source
        && *fix == b.fix
        && related.len() == b.related.len()
        && related.iter().zip(&b.related).all(|(x, y)| {
            let crate::diagnostic::Related {
                file,
                span: _,
                message,
            } = x;
            *file == y.file && *message == y.message
        })
}

/// A hash of what [`same_but_spans`] compares and of the places of a diagnostic.
fn wire_key(d: &Diagnostic, places: &[u32]) -> u64 {
    use std::hash::Hash;
    let mut h = rustc_hash::FxHasher::default();
    d.code.as_str().hash(&mut h);
    d.message.hash(&mut h);
    d.sku.hash(&mut h);
    for r in &d.related {
        r.message.hash(&mut h);
    }
    places.hash(&mut h);
    h.finish()
}
