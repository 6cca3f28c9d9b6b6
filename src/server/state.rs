//! What the server knows: open documents, catalogue files indexed from disk,
//! settings, the negotiated encoding, rule packs; and the analysis that turns
//! them into per-file results. Every method is synchronous: handlers mutate
//! state and compute under the lock, then publish after releasing it.

use super::document::{DiskFile, Document, Edit};
use super::proto;
use super::publication::Publication;
use super::shipcache::{Moves, ShipmentCache};
use crate::catalogue::parse::Changed;
use crate::catalogue::{Catalogue, Field};
use crate::diagnostic::{Code, Diagnostic, FileId, FileRef};
use crate::engine::index::Index;
use crate::engine::{Analysis, Classification, Options, ProductOutcome, ProductResult, Workspace};
use crate::packs::{Confine, Resolver};
use crate::rules::RulePack;
use crate::text::{Encoding, LineIndex, Span};
use jiff::civil::Date;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use tower_lsp::lsp_types::{self as lsp, Url};

/// User settings (initializationOptions / workspace/didChangeConfiguration).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// Evaluation date (YYYY-MM-DD) for products without ship_date.
    pub as_of: Option<String>,
    /// Rule pack path, replacing the embedded pack.
    pub rules: Option<String>,
    /// Party list path, replacing the embedded list (contract §4b).
    pub parties: Option<String>,
    /// Severity per diagnostic code: error, warning, information, hint or off.
    pub severity: HashMap<String, String>,
}

impl Settings {
    /// Reads settings given directly or under a `catalogueLsp` section.
    pub fn from_json(v: &serde_json::Value) -> Result<Settings, String> {
        let v = v.get("catalogueLsp").unwrap_or(v);
        if v.is_null() {
            return Ok(Settings::default());
        }
        serde_json::from_value(v.clone())
            .map_err(|e| format!("invalid catalogue-lsp settings: {e}"))
    }
}

/// SKUs and licence ids an edit may have changed.
#[derive(Clone, Debug, Default)]
pub struct Keys {
    pub skus: HashSet<String>,
    pub licences: HashSet<String>,
}

/// A file's text, lines and catalogue, open or from disk.
pub struct FileView<'a> {
    pub uri: &'a Url,
    /// Its layout of names (see `Document::names`).
    pub names: u64,
    pub text: &'a str,
    pub lines: &'a LineIndex,
    pub catalogue: &'a Catalogue,
    /// How it is written: quick fixes render their edits through it.
    pub format: crate::catalogue::Format,
}

/// One file's analysis as the server keeps it: the engine's outcomes per
/// product and per shipment, and the file-level diagnostics, so that an
/// edit re-analyses only the products it touched (and those that depend on
/// them). Engine types only: the wire form of its diagnostics is the file's
/// [`Publication`], which follows each update ([`Changes`]).
pub struct FileAnalysis {
    pub products: Vec<ProductOutcome>,
    /// Diagnostics that are not one product's own (parse errors, licence
    /// tables, duplicates, rule pack): recomputed on every analysis.
    pub file: Vec<Diagnostic>,
    /// Per product, what deciding whether it can be kept asks of it.
    facts: Vec<Facts>,
    /// Where each product is now (products that move keep their outcomes).
    pub places: Vec<Place>,
    /// What the outcomes were computed with; they are reused only while it holds.
    basis: Basis,
    /// The stable ids of the files its diagnostics point into (a licence, a
    /// component defined elsewhere): an edit there may move what they show.
    points_into: Vec<FileId>,
    /// Some product names a component or licence that does not exist: its
    /// "did you mean" may change when SKUs or licence ids change anywhere.
    unknown_components: bool,
    unknown_licences: bool,
    /// A new value whenever the analysis is stored (answers computed from
    /// it, such as the outline, are cached under it).
    pub serial: u64,
    /// The judgements of the file's shipments, kept between edits.
    shipments: ShipmentCache,
}

/// What one update changed in a file's analysis, for its publication to follow.
pub struct Changes {
    /// The products kept (None: every product was analysed afresh).
    pub products: Option<Spliced>,
    /// What the shipments' update did to their slots.
    pub shipments: Moves,
    /// This file was edited: what was at or after byte `.0` moved by `.1`
    /// bytes and `.2` lines (the kept diagnostics' related locations in the
    /// file followed; their own spans follow their table).
    pub shift: Option<(usize, isize, i64)>,
    /// The file-level diagnostics before the update.
    pub file_before: Vec<Diagnostic>,
}

/// The products an edit kept: old products `first..old_end` were replaced by
/// new ones `first..new_end`; `redone` (ascending) were analysed again,
/// the others kept their outcomes (those from `new_end` on moved).
pub struct Spliced {
    pub first: usize,
    pub old_end: usize,
    pub new_end: usize,
    pub redone: Vec<usize>,
}

impl Changes {
    /// Everything is new.
    fn whole(file_before: Vec<Diagnostic>) -> Changes {
        Changes {
            products: None,
            shipments: Moves::Rebuilt { kept: Vec::new() },
            shift: None,
            file_before,
        }
    }
}

/// A new value for [`FileAnalysis::serial`].
fn next_serial() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// What [`carry`] asks of a product's diagnostics, kept inline (so deciding
/// costs no walk through every diagnostic).
pub struct Facts {
    /// Where the product's table started when its diagnostics were computed:
    /// their own spans are off by `Anchor::at - base` once the product moves.
    base: usize,
    /// Some diagnostic points at another place (a licence, a component).
    related: bool,
    unknown_component: bool,
    unknown_licence: bool,
    /// The product names components or a licence: only then can it depend
    /// on another table (checked without touching the product itself).
    refers: bool,
}

impl Facts {
    /// The facts of a product whose analysis is on the way (see [`carry`]).
    fn pending() -> Self {
        Facts {
            base: 0,
            related: false,
            unknown_component: false,
            unknown_licence: false,
            refers: true,
        }
    }

    fn new(diags: &[Diagnostic], base: usize, refers: bool) -> Self {
        let has = |code: Code| diags.iter().any(|d| d.code == code);
        Facts {
            base,
            refers,
            related: diags.iter().any(|d| !d.related.is_empty()),
            unknown_component: has(Code::UnknownComponent),
            unknown_licence: has(Code::UnknownLicence),
        }
    }
}

/// Where a product's table starts now: byte offset and line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    pub at: usize,
    pub line: u32,
}

#[derive(Clone)]
struct Basis {
    generation: u64,
    today: Date,
    pack: Arc<RulePack>,
}

impl Basis {
    fn holds(&self, other: &Basis) -> bool {
        self.generation == other.generation
            && self.today == other.today
            && Arc::ptr_eq(&self.pack, &other.pack)
    }
}

impl FileAnalysis {
    /// An analysis with nothing in it yet.
    fn new(basis: Basis) -> Self {
        FileAnalysis {
            products: Vec::new(),
            file: Vec::new(),
            facts: Vec::new(),
            places: Vec::new(),
            basis,
            points_into: Vec::new(),
            unknown_components: false,
            unknown_licences: false,
            serial: next_serial(),
            shipments: Default::default(),
        }
    }

    /// Notes what other files' edits can change here (see `points_into`,
    /// `unknown_components`); `own` is this file's stable id.
    fn note_references(&mut self, own: FileId) {
        let (mut into, mut components, mut licences) = (Vec::new(), false, false);
        for (w, o) in self.facts.iter().zip(&self.products) {
            components |= w.unknown_component;
            licences |= w.unknown_licence;
            if w.related {
                into.extend(
                    o.diagnostics
                        .iter()
                        .flat_map(|d| d.related.iter().filter_map(|r| stable(r.file))),
                );
            }
        }
        into.extend(
            self.file
                .iter()
                .flat_map(|d| d.related.iter().filter_map(|r| stable(r.file))),
        );
        into.extend(self.shipments.points_into());
        into.retain(|&f| f != own);
        into.sort_unstable();
        into.dedup();
        self.points_into = into;
        self.unknown_components = components;
        self.unknown_licences = licences;
    }

    /// Forgets every product and shipment.
    fn clear(&mut self) {
        self.products.clear();
        self.facts.clear();
        self.places.clear();
        self.shipments.clear();
    }

    /// The kept judgements of the file's shipments.
    pub fn shipments(&self) -> &ShipmentCache {
        &self.shipments
    }

    /// Every diagnostic of the file (file-level first, then per product),
    /// each with how far its own span has moved since it was computed (see
    /// [`placed`]).
    pub fn diagnostics(&self) -> impl Iterator<Item = (isize, &Diagnostic)> {
        let moved = |i: usize| {
            let (Some(p), Some(w)) = (self.places.get(i), self.facts.get(i)) else {
                return 0;
            };
            p.at as isize - w.base as isize
        };
        self.file
            .iter()
            .map(|d| (0, d))
            .chain(self.shipments.diagnostics())
            .chain(
                self.products
                    .iter()
                    .enumerate()
                    .flat_map(move |(i, p)| p.diagnostics.iter().map(move |d| (moved(i), d))),
            )
    }

    /// The result of product `index`.
    pub fn product(&self, index: usize) -> Option<&ProductResult> {
        self.products.get(index).map(|p| &p.result)
    }
}

/// A kept diagnostic with its own span where it is now (`moved` from [`FileAnalysis::diagnostics`]).
pub fn placed(moved: isize, d: &Diagnostic) -> std::borrow::Cow<'_, Diagnostic> {
    use crate::catalogue::Shift;
    if moved == 0 {
        return std::borrow::Cow::Borrowed(d);
    }
    let mut d = d.clone();
    d.span.shift(moved);
    std::borrow::Cow::Owned(d)
}

pub struct State {
    pub docs: HashMap<Url, Document>,
    pub disk: HashMap<Url, DiskFile>,
    pub analyses: HashMap<Url, FileAnalysis>,
    /// The wire form of each analysed file's diagnostics, following its
    /// analysis (a file has one exactly when it has an analysis).
    publications: HashMap<Url, Publication>,
    /// Every file URI seen, in order of first sight: `Related.file` in
    /// results the server keeps indexes this list, which only grows, so
    /// kept results stay valid when files are opened or closed.
    ids: Vec<Url>,
    id_of: HashMap<Url, FileId>,
    /// Bumped whenever settings or rule packs change: kept results are then stale.
    generation: u64,
    pub settings: Settings,
    pub encoding: Encoding,
    pub roots: Vec<PathBuf>,
    /// The workspace folders, canonical (symlinks resolved): where the
    /// files the server reads on its own (the index, packs named by a
    /// catalogue) must lie. Set with `set_roots`.
    canonical_roots: Vec<PathBuf>,
    /// Which pack judges which file (`crate::packs`), its default the
    /// settings' pack (or the embedded one); and why a configured one failed.
    pub packs: Resolver,
    pub pack_error: Option<String>,
    /// The party list names are screened against (the `parties` setting's, else the embedded one).
    pub parties: Arc<crate::parties::PartyList>,
    pub as_of: Option<Date>,
    /// The index of names of the last analysis, with the layout of names
    /// of each file it was built from (see `Document::names`).
    index: Option<(Vec<u64>, Arc<Index>)>,
    /// The SKUs each file defines and names (see `refs`).
    refs: super::refs::Cache,
    /// The exports and licence balances of the last analysis (hovers, lenses).
    pub ledger: Option<Arc<crate::engine::exports::Ledger>>,
    /// What that ledger was built from: an edit brings it up to date
    /// (`Ledger::update`) while the other files are as they were.
    ledger_basis: Option<LedgerBasis>,
    /// Per open document: the last reports answered with
    /// `catalogue/diagnostic`, the bases of the next one's delta
    /// (`workspace_diag::delta_report_json`).
    pub sent: HashMap<Url, Vec<super::workspace_diag::Sent>>,
}

/// The files (URI, length, layout of names), settings and options a kept
/// ledger was computed from.
#[derive(PartialEq)]
struct LedgerBasis {
    generation: u64,
    as_of: Option<Date>,
    today: Date,
    files: Vec<(Url, usize, u64)>,
}

impl Default for State {
    fn default() -> Self {
        State {
            docs: HashMap::new(),
            disk: HashMap::new(),
            analyses: HashMap::new(),
            publications: HashMap::new(),
            ids: Vec::new(),
            id_of: HashMap::new(),
            generation: 0,
            settings: Settings::default(),
            encoding: Encoding::Utf16,
            roots: Vec::new(),
            canonical_roots: Vec::new(),
            packs: Resolver::new(None),
            pack_error: None,
            parties: crate::parties::PartyList::embedded(),
            as_of: None,
            index: None,
            refs: Default::default(),
            ledger: None,
            ledger_basis: None,
            sent: HashMap::new(),
        }
    }
}

impl State {
    /// Sets the workspace folders (and their canonical forms).
    pub fn set_roots(&mut self, roots: Vec<PathBuf>) {
        self.canonical_roots = crate::fsread::canonical_roots(&roots);
        self.roots = roots;
    }

    /// Where files the server reads on its own must lie: the workspace
    /// folders (None without any: then only a catalogue's own pack is
    /// confined, to the catalogue's folder).
    pub fn within(&self) -> Option<crate::fsread::Within<'_>> {
        (!self.canonical_roots.is_empty()).then_some(crate::fsread::Within {
            roots: &self.canonical_roots,
            scope: "the workspace folders",
            advice: "files the server reads on its own must lie inside them",
        })
    }

    /// Applies settings: loads the pack, parses the date. Errors are kept
    /// and shown as diagnostics; the embedded pack stays in use meanwhile.
    pub fn set_settings(&mut self, s: Settings) {
        self.generation += 1;
        self.pack_error = None;
        self.as_of = None;
        if let Some(d) = s.as_of.as_deref().filter(|d| !d.is_empty()) {
            match d.parse::<Date>() {
                Ok(d) => self.as_of = Some(d),
                Err(_) => {
                    self.pack_error = Some(format!(
                        "setting asOf = \"{}\" is not a date like 2026-06-01; using the catalogue's as_of or today",
                        crate::fsread::shown_str(d)
                    ))
                }
            }
        }
        let mut user = None;
        if let Some(r) = s.rules.as_deref().filter(|r| !r.is_empty()) {
            let path = self.resolve_setting_path(r);
            match Resolver::load_user(&path) {
                Ok(p) => user = Some(p),
                Err(e) => self.pack_error = Some(format!("{e}; using the embedded rule pack")),
            }
        }
        self.parties = crate::parties::PartyList::embedded();
        if let Some(r) = s.parties.as_deref().filter(|r| !r.is_empty()) {
            let path = self.resolve_setting_path(r);
            match crate::parties::PartyList::load(&path) {
                Ok(l) => self.parties = Arc::new(l),
                Err(e) => {
                    let e = format!("{e}; using the embedded party list");
                    self.pack_error = Some(match self.pack_error.take() {
                        Some(p) => format!("{p}; {e}"),
                        None => e,
                    });
                }
            }
        }
        // A `rules` setting (even empty, or one that failed) overrides every catalogue's own pack.
        self.packs =
            Resolver::with_default(user.unwrap_or_else(RulePack::embedded), s.rules.is_some());
        self.settings = s;
    }

    fn resolve_setting_path(&self, r: &str) -> PathBuf {
        let p = PathBuf::from(r);
        if p.is_absolute() {
            return p;
        }
        self.roots.first().map(|root| root.join(&p)).unwrap_or(p)
    }

    /// Every catalogue file, in URI order (open documents, and disk files not
    /// open): the order decides which of two products with one SKU is "the"
    /// product, so it must not depend on hash order.
    pub fn files(&self) -> Vec<FileView<'_>> {
        let mut v: Vec<FileView> = self
            .docs
            .iter()
            .map(|(u, d)| FileView {
                uri: u,
                names: d.names,
                text: &d.text,
                lines: &d.lines,
                catalogue: &d.catalogue,
                format: d.format,
            })
            .collect();
        v.extend(
            self.disk
                .iter()
                .filter(|(u, _)| !self.docs.contains_key(*u))
                .map(|(u, d)| FileView {
                    uri: u,
                    names: d.names,
                    text: &d.text,
                    lines: &d.lines,
                    catalogue: &d.catalogue,
                    format: d.format,
                }),
        );
        v.sort_unstable_by(|a, b| a.uri.as_str().cmp(b.uri.as_str()));
        v
    }

    pub fn file(&self, uri: &Url) -> Option<FileView<'_>> {
        if let Some((uri, d)) = self.docs.get_key_value(uri) {
            return Some(FileView {
                uri,
                names: d.names,
                text: &d.text,
                lines: &d.lines,
                catalogue: &d.catalogue,
                format: d.format,
            });
        }
        self.disk.get_key_value(uri).map(|(uri, d)| FileView {
            uri,
            names: d.names,
            text: &d.text,
            lines: &d.lines,
            catalogue: &d.catalogue,
            format: d.format,
        })
    }

    pub fn options(&self) -> Options {
        Options {
            as_of: self.as_of,
            today: crate::clock::today(),
            // Traces are built on demand for a hover (`explained`): kept for
            // every product they would be most of the server's memory.
            explain: false,
            keep_judgements: false,
        }
    }

    /// The pack for a file (see `crate::packs`); a pack it names that
    /// cannot be used is a `rule-pack-error` on its `rules` value, and the
    /// settings' pack judges it meanwhile.
    fn pack_for(
        &mut self,
        uri: &Url,
        rules: Option<&Field<String>>,
    ) -> (Arc<RulePack>, Option<Diagnostic>) {
        let path = uri.to_file_path().ok();
        // Confined to the workspace folders, or without any to the
        // catalogue's own folder and below; canonical paths are compared,
        // so a symlinked folder leading outside is refused.
        let confine = match self.canonical_roots.is_empty() {
            false => Confine::Within(crate::fsread::Within {
                roots: &self.canonical_roots,
                scope: "the workspace folders",
                advice: "packs named by a catalogue must live inside the workspace (set `rules` in your editor settings to use another)",
            }),
            true => Confine::OwnFolder {
                scope: "this catalogue's folder (no workspace folder is open)",
                advice: "without a workspace folder, a pack named by a catalogue must live in the catalogue's folder or below (open the folder as a workspace, or set `rules` in your editor settings)",
            },
        };
        let default = self.packs.default_pack().clone();
        match self.packs.resolve(path.as_deref(), rules, confine) {
            Ok(p) => (p, None),
            Err(e) => (
                default.clone(),
                Some(Diagnostic::new(
                    Code::RulePackError,
                    e.span,
                    format!("{e}; using {} instead", default.id),
                )),
            ),
        }
    }

    /// The rule pack `uri` is judged by: its own `rules` pack if it names
    /// one, else the settings' pack. Every per-file feature (hover,
    /// completion, code actions) must take the file's pack from here.
    pub fn pack_of(&self, uri: &Url) -> Arc<RulePack> {
        if let Some(a) = self.analyses.get(uri) {
            return a.basis.pack.clone();
        }
        let rules = self
            .file(uri)
            .and_then(|f| f.catalogue.catalogue.as_ref().and_then(|c| c.rules.clone()));
        self.packs
            .resolved(uri.to_file_path().ok().as_deref(), rules.as_ref())
    }

    /// The classification of product `index` of `uri` with its explanation
    /// trace, computed again for a hover (analyses do not keep traces).
    pub fn explained(&self, uri: &Url, index: usize) -> Option<Arc<Classification>> {
        let a = self.analyses.get(uri)?;
        let date = a.product(index)?.as_of;
        let pack = a.basis.pack.clone();
        let files = self.files();
        let file = files.iter().position(|f| f.uri == uri)?;
        let ws = self.workspace(
            &files,
            files.iter().map(|_| pack.clone()).collect::<Vec<_>>(),
        );
        Some(ws.explain(file, index, date))
    }

    /// A workspace of `files` (each judged by its pack), with the index of
    /// names kept from the last analysis when their layout is the same.
    fn workspace<'f>(&self, files: &[FileView<'f>], packs: Vec<Arc<RulePack>>) -> Workspace<'f> {
        workspace_with(self.index.clone(), files, packs, self.parties.clone())
    }

    /// The stable id of a file URI (see `ids`).
    fn id(&mut self, uri: &Url) -> FileId {
        if let Some(&i) = self.id_of.get(uri) {
            return i;
        }
        let id = FileId(self.ids.len());
        self.ids.push(uri.clone());
        self.id_of.insert(uri.clone(), id);
        id
    }

    /// The URI of a stable file id.
    pub fn uri_of(&self, id: FileId) -> Option<&Url> {
        self.ids.get(id.0)
    }

    /// Analyses the given files against the whole workspace and stores the
    /// results. `edit` is the edit just applied to one of them: that file's
    /// products the edit did not touch, and that depend on nothing it
    /// changed, keep their outcomes (and its publication their wire form).
    pub fn analyse(&mut self, targets: &[Url], edit: Option<(&Url, &Edit)>) {
        let rules: Vec<(Url, Option<Field<String>>)> = self
            .files()
            .iter()
            .map(|f| {
                (
                    f.uri.clone(),
                    f.catalogue.catalogue.as_ref().and_then(|c| c.rules.clone()),
                )
            })
            .collect();
        let mut packs = Vec::with_capacity(rules.len());
        let mut extra: HashMap<Url, Diagnostic> = HashMap::new();
        let mut ids = Vec::with_capacity(rules.len());
        for (u, r) in &rules {
            let (p, d) = self.pack_for(u, r.as_ref());
            packs.push(p);
            ids.push(self.id(u));
            if let Some(d) = d {
                extra.insert(u.clone(), d);
            }
        }
        let opts = self.options();
        let mut kept: Vec<(usize, Basis, Option<FileAnalysis>)> = Vec::new();
        for t in targets {
            let Some(i) = rules.iter().position(|(u, _)| u == t) else {
                continue;
            };
            let basis = Basis {
                generation: self.generation,
                today: opts.today,
                pack: packs[i].clone(),
            };
            // Kept only to be brought up to date with an edit (of this file or another).
            let prev = self
                .analyses
                .remove(t)
                .filter(|a| a.basis.holds(&basis) && edit.is_some());
            kept.push((i, basis, prev));
        }
        // The stable id of the edited file, for the files that refer to it.
        let edited = edit.and_then(|(u, _)| Some(ids[rules.iter().position(|(r, _)| r == u)?]));
        // The targets' publications, taken out so that the state can be read
        // while they are updated. Only theirs: should a panic escape below,
        // the other files keep both their analysis and their publication,
        // and the targets lose both (the next pull analyses them again).
        let mut publications: HashMap<Url, Publication> = kept
            .iter()
            .filter_map(|(i, ..)| self.publications.remove_entry(&rules[*i].0))
            .collect();
        // Taken out so that, held nowhere else, it is updated in place.
        let kept_index = self.index.take();
        let prior = self.ledger.take().and_then(|l| Arc::try_unwrap(l).ok());
        let prior_basis = self.ledger_basis.take();
        let files = self.files();
        let names: Vec<u64> = files.iter().map(|f| f.names).collect();
        let ws = workspace_with(kept_index, &files, packs, self.parties.clone());
        // The ledger of the last analysis, brought up to date with the edit
        // (only the licences whose exports it touched are walked again);
        // else the workspace builds it when asked.
        let basis = LedgerBasis {
            generation: self.generation,
            as_of: opts.as_of,
            today: opts.today,
            files: files
                .iter()
                .map(|f| (f.uri.clone(), f.text.len(), f.names))
                .collect(),
        };
        if let (Some(mut ledger), Some((u, e)), Some(before)) = (prior, edit, prior_basis) {
            let same = before.generation == basis.generation
                && before.as_of == basis.as_of
                && before.today == basis.today
                && before.files.len() == basis.files.len()
                && before.files.iter().zip(&basis.files).all(|(b, a)| {
                    b.0 == a.0
                        && if &a.0 == u {
                            b.1.checked_add_signed(e.changed.kept.delta) == Some(a.1)
                        } else {
                            b.1 == a.1 && b.2 == a.2
                        }
                });
            let file = files.iter().position(|f| f.uri == u);
            let change = file
                .zip(e.changed.kept.start)
                .filter(|_| same && !e.changed.catalogue)
                .map(|(file, start)| crate::engine::exports::LedgerEdit {
                    file,
                    start,
                    from: e.changed.kept.from,
                    delta: e.changed.kept.delta,
                    skus: &e.changed.skus,
                    licences: &e.changed.licences,
                });
            if let Some(change) = change {
                let updated = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    ledger.update(&ws, &opts, &change).then_some(ledger)
                }));
                if let Ok(Some(l)) = updated {
                    ws.keep_ledger(&opts, l);
                }
            }
        }
        let mut out = Vec::with_capacity(kept.len());
        let this = &*self;
        for (i, basis, prev) in kept {
            let f = &files[i];
            let uri = f.uri;
            let (mut a, spliced) = match (prev, edit) {
                (Some(mut prev), Some((u, e))) if u == uri => {
                    let todo = carry(&mut prev, e, &ws, i, ids[i], None, opts.today);
                    (prev, todo)
                }
                (Some(mut prev), Some((_, e))) => {
                    // Another file was edited: this one did not move; what
                    // depends on the names the edit changed is analysed again.
                    let e = Edit {
                        changed: Changed {
                            skus: e.changed.skus.clone(),
                            licences: e.changed.licences.clone(),
                            ..Changed::unchanged(f.catalogue, f.text.len())
                        },
                        lines: 0,
                    };
                    let todo = carry(&mut prev, &e, &ws, i, ids[i], edited, opts.today);
                    (prev, todo)
                }
                _ => (FileAnalysis::new(basis.clone()), None),
            };
            // A publication follows only the analysis it was made from.
            let mut publication = publications.remove(uri).unwrap_or_default();
            a.basis = basis;
            let todo = spliced.as_ref().map(|s| &s.redone);
            let analysed = contained(uri, || {
                let mut fresh = match todo {
                    Some(t) => ws.analyse_some(i, &opts, t),
                    None => ws.analyse_products(i, &opts),
                };
                for o in &mut fresh {
                    o.diagnostics.iter_mut().for_each(|d| stable_ids(d, &ids));
                }
                fresh
            });
            let fresh = match analysed {
                Ok(fresh) => fresh,
                Err(e) => {
                    // Nothing of this file can be trusted: no products, the error.
                    a.clear();
                    a.file = vec![*e];
                    a.note_references(ids[i]);
                    a.serial = next_serial();
                    publication.follow(this, uri, &a, Changes::whole(Vec::new()));
                    out.push((uri.clone(), a, publication));
                    continue;
                }
            };
            let facts = |o: &ProductOutcome| {
                let (place, refers) = this.place(uri, o.result.index);
                (Facts::new(&o.diagnostics, place.at, refers), place)
            };
            if todo.is_some() {
                for o in fresh {
                    let k = o.result.index;
                    (a.facts[k], a.places[k]) = facts(&o);
                    a.products[k] = o;
                }
            } else {
                (a.facts, a.places) = fresh.iter().map(facts).unzip();
                a.products = fresh;
            }
            let latest = a.products.iter().map(|o| o.result.as_of).max();
            let shift = edit
                .filter(|(u, _)| *u == uri)
                .map(|(_, e)| (e.changed.kept.from, e.changed.kept.delta, e.lines));
            // Shipments keep their judgements while the edit changed
            // nothing they depend on (server::shipcache).
            let reuse = match (&todo, edit) {
                (Some(_), Some((u, e))) => Some(super::shipcache::Reuse {
                    dirty: ws.dependents(e.changed.skus.iter().map(String::as_str)),
                    licences: &e.changed.licences,
                    skus_changed: !e.changed.skus.is_empty(),
                    elsewhere: edited.filter(|_| u != uri),
                    shift,
                    start: e.changed.kept.start.filter(|_| u == uri),
                    own: ids[i],
                }),
                _ => None,
            };
            let shipments = &mut a.shipments;
            let mut moves = Moves::Rebuilt { kept: Vec::new() };
            let mut file = contained(uri, || {
                let mut d = ws.file_diagnostics(i, latest);
                moves = shipments.update(&ws, i, &opts, reuse.as_ref(), &|d| stable_ids(d, &ids));
                let mut x = ws.balance_diagnostics(i, &opts);
                crate::engine::exports::sort_exports(&mut x);
                d.extend(x);
                d
            })
            .unwrap_or_else(|e| {
                a.shipments.clear();
                vec![*e]
            });
            file.iter_mut().for_each(|d| stable_ids(d, &ids));
            if let Some(d) = extra.get(uri) {
                file.insert(0, d.clone());
            }
            let file_before = std::mem::replace(&mut a.file, file);
            a.note_references(ids[i]);
            a.serial = next_serial();
            let changes = Changes {
                products: spliced,
                shipments: moves,
                shift,
                file_before,
            };
            publication.follow(this, uri, &a, changes);
            out.push((uri.clone(), a, publication));
        }
        let index = ws.index().clone();
        // Built already when a file with exports was analysed; kept for hovers.
        let ledger =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| ws.ledger(&opts))).ok();
        drop(ws);
        drop(files);
        self.index = Some((names, index));
        self.ledger_basis = ledger.is_some().then_some(basis);
        self.ledger = ledger;
        for (uri, a, p) in out {
            self.publications.insert(uri.clone(), p);
            self.analyses.insert(uri, a);
        }
    }

    /// The stable id of a file the state has seen (see `ids`).
    pub fn stable_id(&self, uri: &Url) -> Option<FileId> {
        self.id_of.get(uri).copied()
    }

    /// The items of `uri`'s publication (the settings error first), spliced
    /// from the last one; None for a file without an analysis.
    pub fn publication(&mut self, uri: &Url) -> Option<(Arc<Vec<u8>>, std::ops::Range<usize>)> {
        let first = self.first_item();
        let p = self.publications.get_mut(uri)?;
        Some(p.items(first.as_ref()))
    }

    /// The result id of `uri`'s publication (a hash of its items), None for
    /// a file without an analysis.
    pub fn result_id(&mut self, uri: &Url) -> Option<String> {
        let first = self.first_item();
        let p = self.publications.get_mut(uri)?;
        Some(p.result_id(first.as_ref()))
    }

    /// The item every publication starts with: the settings error.
    fn first_item(&self) -> Option<super::wire::Template> {
        self.pack_error_diagnostic()
            .map(|d| super::wire::Template::new(d, &[(0, None), (0, None)], 0))
    }

    /// Forgets the analysis (and publication) of `uri`.
    pub fn forget(&mut self, uri: &Url) {
        self.analyses.remove(uri);
        self.publications.remove(uri);
        self.sent.remove(uri);
    }

    /// Forgets the analyses (and publications) of the files that are not open.
    pub fn forget_unopened(&mut self) {
        let State {
            analyses,
            publications,
            docs,
            ..
        } = self;
        analyses.retain(|u, _| docs.contains_key(u));
        publications.retain(|u, _| docs.contains_key(u));
        self.sent.retain(|u, _| self.docs.contains_key(u));
    }

    /// Where product `index` of `uri` starts, and whether it refers to other tables.
    fn place(&self, uri: &Url, index: usize) -> (Place, bool) {
        let Some(f) = self.file(uri) else {
            return (Place { at: 0, line: 0 }, true);
        };
        let Some(p) = f.catalogue.products.get(index) else {
            return (Place { at: 0, line: 0 }, true);
        };
        let at = p.header.start();
        let place = Place {
            at,
            line: f.lines.line_of(at) as u32,
        };
        (place, p.components.is_some() || p.licence.is_some())
    }

    /// What a file offers other files: each licence id and SKU with a hash of its table's text.
    pub fn exports(text: &str, cat: &Catalogue) -> HashMap<String, u64> {
        use std::hash::{Hash, Hasher};
        let digest = |span: Span| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            text.get(span.start()..span.end())
                .unwrap_or("")
                .hash(&mut h);
            h.finish()
        };
        let products = cat
            .products
            .iter()
            .filter_map(|p| Some((format!("p:{}", p.sku_str()?), digest(p.span))));
        let licences = cat
            .licences
            .iter()
            .filter_map(|l| Some((format!("l:{}", l.id_str()?), digest(l.span))));
        // Shipments are exports of the product they name (v2 §4a).
        let shipments = cat
            .shipments
            .iter()
            .enumerate()
            .filter_map(|(i, x)| Some((format!("s:{}#{i}", x.sku_str()?), digest(x.span))));
        products.chain(licences).chain(shipments).collect()
    }

    /// The SKUs and licence ids whose definition differs between two export maps.
    pub fn changed_exports(before: &HashMap<String, u64>, after: &HashMap<String, u64>) -> Keys {
        let mut keys = Keys::default();
        let differs = before
            .iter()
            .filter(|(k, v)| after.get(*k) != Some(*v))
            .map(|(k, _)| k);
        for k in differs.chain(after.keys().filter(|k| !before.contains_key(*k))) {
            if let Some(s) = k.strip_prefix("p:") {
                keys.skus.insert(s.to_owned());
            } else if let Some(l) = k.strip_prefix("l:") {
                keys.licences.insert(l.to_owned());
            } else if let Some((s, _)) = k.strip_prefix("s:").and_then(|x| x.rsplit_once('#')) {
                keys.skus.insert(s.to_owned());
            }
        }
        keys
    }

    /// The analysed files (open documents, and files a pull client asked
    /// about) whose results depend on the changed keys: those that
    /// reference or define them, directly or through components in any file.
    pub fn affected(&self, origin: &Url, changed: Keys) -> Vec<Url> {
        let mut hit: HashSet<Url> = HashSet::from([origin.clone()]);
        // Files whose diagnostics point into the origin (what they point at
        // may have moved), and files with unresolved names when names changed
        // (their "did you mean" may change).
        let id = self.id_of.get(origin);
        hit.extend(
            self.analyses
                .iter()
                .filter(|(_, a)| {
                    id.is_some_and(|id| a.points_into.binary_search(id).is_ok())
                        || a.unknown_components && !changed.skus.is_empty()
                        || a.unknown_licences && !changed.licences.is_empty()
                })
                .map(|(u, _)| u.clone()),
        );
        if !changed.skus.is_empty() || !changed.licences.is_empty() {
            // A file is hit when it defines or names a changed name; the
            // products in it that name one may change in turn, so their SKUs
            // count as changed for the files that name them (only those
            // products: a file's other SKUs did not change).
            let files = self.files();
            // Licence balances (v2 §4a) join the exports of every file that
            // uses a licence with limits, or an individual one: a changed
            // product, shipment or licence may move any of them.
            let balances = files.iter().any(|f| {
                let pack = self.pack_of(f.uri);
                f.catalogue.licences.iter().any(|l| {
                    !l.limits.is_empty()
                        || l.kind.as_ref().is_some_and(|k| {
                            pack.licence_rule(k.value.as_str())
                                .is_some_and(|r| r.single_end_user())
                        })
                })
            });
            if balances {
                hit.extend(
                    files
                        .iter()
                        .filter(|f| {
                            // Their exports, and the lenses of their licences.
                            !f.catalogue.shipments.is_empty()
                                || f.catalogue.licences.iter().any(|l| !l.limits.is_empty())
                                || f.catalogue
                                    .products
                                    .iter()
                                    .any(|p| p.destination.is_some() && p.licence.is_some())
                        })
                        .map(|f| f.uri.clone()),
                );
            }
            let mut skus: rustc_hash::FxHashSet<&str> =
                changed.skus.iter().map(String::as_str).collect();
            let licences: rustc_hash::FxHashSet<&str> =
                changed.licences.iter().map(String::as_str).collect();
            // While no name moved since the last analysis, its index finds the
            // products that name a changed SKU, at any depth (no product of
            // the files hit is scanned).
            let index = self
                .index
                .as_ref()
                .filter(|(names, _)| {
                    names.len() == files.len()
                        && names.iter().zip(&files).all(|(n, f)| *n == f.names)
                })
                .map(|(_, i)| i.clone());
            if let (Some(index), true) = (index, licences.is_empty()) {
                let cats: Vec<&Catalogue> = files.iter().map(|f| f.catalogue).collect();
                let mut todo: Vec<&str> = skus.iter().copied().collect();
                while let Some(s) = todo.pop() {
                    for &(pf, pi) in index.parents(&cats, s) {
                        let parent = cats
                            .get(pf)
                            .and_then(|c| c.products.get(pi))
                            .and_then(|p| p.sku_str());
                        if let Some(p) = parent.filter(|p| skus.insert(p)) {
                            todo.push(p);
                        }
                    }
                }
                for f in &files {
                    if self.refs.names(f.uri, f.names, f.catalogue).touches(&skus) {
                        hit.insert(f.uri.clone());
                    }
                }
            } else {
                loop {
                    let mut grew = Vec::new();
                    for f in &files {
                        // Files that neither define nor name a changed SKU are
                        // passed by a lookup of the changed names in their sets.
                        let names = self.refs.names(f.uri, f.names, f.catalogue);
                        let by_sku = !skus.is_empty() && names.touches(&skus);
                        if !by_sku && licences.is_empty() {
                            continue;
                        }
                        if licences.is_empty() && !names.uses(&skus) {
                            // It defines or ships a changed SKU, and no product
                            // of it names one: hit, without a scan of its tables.
                            hit.insert(f.uri.clone());
                            continue;
                        }
                        let mut touches = by_sku;
                        for p in &f.catalogue.products {
                            let names = p
                                .components
                                .iter()
                                .flat_map(|c| c.value.iter())
                                .any(|c| skus.contains(c.value.as_str()))
                                || p.licence
                                    .as_ref()
                                    .is_some_and(|l| licences.contains(l.value.as_str()));
                            if names {
                                if let Some(s) = p.sku_str().filter(|s| !skus.contains(s)) {
                                    grew.push(s);
                                }
                            }
                            touches |= names || p.sku_str().is_some_and(|s| skus.contains(s));
                        }
                        touches |= f
                            .catalogue
                            .licences
                            .iter()
                            .any(|l| l.id_str().is_some_and(|i| licences.contains(i)))
                            // Shipments are exports of the product they name (v2 §4a).
                            || f.catalogue.shipments.iter().any(|x| {
                                x.sku_str().is_some_and(|s| skus.contains(s))
                                    || x.licence
                                        .as_ref()
                                        .is_some_and(|l| licences.contains(l.value.as_str()))
                            });
                        if touches {
                            hit.insert(f.uri.clone());
                        }
                    }
                    if grew.is_empty() {
                        break;
                    }
                    skus.extend(grew);
                }
            }
        }
        // Open documents, and files a pull client asked about (kept up to date).
        hit.into_iter()
            .filter(|u| self.docs.contains_key(u) || self.analyses.contains_key(u))
            .collect()
    }

    /// The rule pack configuration error, shown on every file.
    pub fn pack_error_diagnostic(&self) -> Option<lsp::Diagnostic> {
        self.pack_error
            .as_ref()
            .map(|e| proto::config_error(Code::RulePackError, e))
    }

    /// A file's diagnostics in LSP form, applying severity overrides (the
    /// tests' oracle for the publication's bytes).
    #[cfg(test)]
    pub fn lsp_diagnostics(&self, uri: &Url) -> Vec<lsp::Diagnostic> {
        let (Some(f), Some(a)) = (self.file(uri), self.analyses.get(uri)) else {
            return Vec::new();
        };
        let mut out: Vec<lsp::Diagnostic> = self.pack_error_diagnostic().into_iter().collect();
        out.extend(
            a.diagnostics()
                .filter_map(|(moved, d)| self.lsp_diagnostic(&f, &placed(moved, d))),
        );
        out
    }

    /// One diagnostic in LSP form, or None when the user turned its code off.
    pub fn lsp_diagnostic(&self, f: &FileView, d: &Diagnostic) -> Option<lsp::Diagnostic> {
        super::publication::lsp_diagnostic(self, f, self.stable_id(f.uri), d).map(|(d, _)| d)
    }
}

/// A workspace of `files` (each judged by its pack), with the index of names
/// `kept` from the last analysis: as it is when the layout of names of every
/// file is the same, updated when one file's changed (a rename costs that
/// file, not the workspace), else built again.
fn workspace_with<'f>(
    kept: Option<(Vec<u64>, Arc<Index>)>,
    files: &[FileView<'f>],
    packs: Vec<Arc<RulePack>>,
    parties: Arc<crate::parties::PartyList>,
) -> Workspace<'f> {
    let analysis = Analysis::new()
        .judged(files.iter().map(|f| f.catalogue).zip(packs))
        .parties(parties);
    let Some((names, index)) = kept.filter(|(names, _)| names.len() == files.len()) else {
        return analysis.build();
    };
    let mut differ = names
        .iter()
        .zip(files)
        .enumerate()
        .filter(|(_, (n, f))| **n != f.names)
        .map(|(i, _)| i);
    match (differ.next(), differ.next()) {
        (None, _) => analysis.with_index(index).build(),
        (Some(f), None) => {
            let cats: Vec<&Catalogue> = files.iter().map(|f| f.catalogue).collect();
            let index = Arc::unwrap_or_clone(index).updated(&cats, f);
            analysis.with_index(Arc::new(index)).build()
        }
        _ => analysis.build(),
    }
}

/// Codes the server does not publish unless the `severity` setting names
/// them (`check` reports them): every product's verdict is shown as an
/// inlay hint and a code lens instead (contract §11). Thousands of
/// information and hint marks cost the editor more than the server.
pub const OFF_BY_DEFAULT: [Code; 2] = [Code::Controlled, Code::Excluded];

/// Maps `Related.file` from the workspace's file indexes to stable ids.
fn stable_ids(d: &mut Diagnostic, ids: &[FileId]) {
    for r in &mut d.related {
        if let FileRef::Index(i) = r.file {
            if let Some(&id) = ids.get(i.0) {
                r.file = FileRef::Id(id);
            }
        }
    }
}

/// The stable id a kept related location points into, if it has one.
fn stable(f: FileRef) -> Option<FileId> {
    match f {
        FileRef::Id(id) => Some(id),
        _ => None,
    }
}

/// Brings the previous analysis of a file up to date with `edit`, in place:
/// the products the edit did not re-parse, and that depend on nothing it
/// changed, keep their outcome and move to where they are now.
/// A product depends on its components at any depth and on its licence, and
/// an unresolved reference on every name ("did you mean" may change).
/// `elsewhere` is the stable id of the file edited when it is another one:
/// products whose diagnostics point into it are analysed again too.
/// Returns which products were kept, and the indices of those to analyse
/// again (their slots hold [`ProductOutcome::pending`] values until then),
/// or None when nothing can be kept.
fn carry(
    a: &mut FileAnalysis,
    edit: &Edit,
    ws: &Workspace,
    file: usize,
    own: FileId,
    elsewhere: Option<FileId>,
    today: Date,
) -> Option<Spliced> {
    let changed = &edit.changed;
    let kept = changed.kept;
    let products = &ws.files[file].catalogue.products;
    let (n_old, n_new) = (kept.old_len, products.len());
    if changed.catalogue
        || a.products.len() != n_old
        || a.facts.len() != n_old
        || a.places.len() != n_old
        || kept.prefix + kept.suffix > n_old.min(n_new)
    {
        return None;
    }
    // The re-parsed products, between the kept prefix and suffix, get new slots.
    let (first, old_end, new_end) = (kept.prefix, n_old - kept.suffix, n_new - kept.suffix);
    let middle = first..new_end;
    a.products.splice(
        first..old_end,
        middle.clone().map(|i| ProductOutcome::pending(i, today)),
    );
    a.facts
        .splice(first..old_end, middle.clone().map(|_| Facts::pending()));
    a.places.splice(
        first..old_end,
        middle.clone().map(|_| Place { at: 0, line: 0 }),
    );
    let dirty_skus = ws.dependents(changed.skus.iter().map(String::as_str));
    let licences: HashSet<&str> = changed.licences.iter().map(String::as_str).collect();
    let mut todo: Vec<usize> = Vec::new();
    for i in (0..first).chain(new_end..n_new) {
        let (p, o, w) = (&products[i], &mut a.products[i], &a.facts[i]);
        let depends = w.refers
            && p.components.as_ref().is_some_and(|c| {
                c.value
                    .iter()
                    .any(|c| dirty_skus.contains(c.value.as_str()))
                    || (w.unknown_component && !changed.skus.is_empty())
            })
            || (!licences.is_empty()
                && w.refers
                && p.licence
                    .as_ref()
                    .is_some_and(|l| licences.contains(l.value.as_str()) || w.unknown_licence));
        // When another file was edited, what points into it may have moved.
        let depends = depends
            || elsewhere.is_some_and(|e| {
                w.related
                    && o.diagnostics
                        .iter()
                        .any(|d| d.related.iter().any(|r| r.file == FileRef::Id(e)))
            });
        let place = &mut a.places[i];
        let before = *place;
        if i >= new_end {
            // Below the edit: the product moved; its own spans and lines follow `place`.
            place.at = place.at.saturating_add_signed(kept.delta);
            place.line = u32::try_from(i64::from(place.line) + edit.lines).unwrap_or(0);
        }
        if depends || (i >= new_end && before.line as i64 + edit.lines < 0) {
            todo.push(i);
            continue;
        }
        o.result.index = i;
        // What it points at elsewhere in the file may have moved.
        if w.related {
            for d in &mut o.diagnostics {
                shift_related(d, own, kept.from, kept.delta);
            }
        }
    }
    todo.extend(middle);
    todo.sort_unstable();
    Some(Spliced {
        first,
        old_end,
        new_end,
        redone: todo,
    })
}

/// Moves the related locations of a kept diagnostic that lie in its own file at or after `from`.
fn shift_related(d: &mut Diagnostic, own: FileId, from: usize, delta: isize) {
    use crate::catalogue::Shift;
    for r in &mut d.related {
        if r.file == FileRef::Id(own) && r.span.start() >= from {
            r.span.shift(delta);
        }
    }
}

/// Runs one file's analysis so that a bug in it cannot take the server down:
/// a panic becomes an `internal-error` diagnostic on that file, and is logged.
pub fn contained<T>(uri: &Url, analyse: impl FnOnce() -> T) -> Result<T, Box<Diagnostic>> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(analyse)).map_err(|e| {
        let what = e
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| e.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::error!(%uri, panic = %what, "analysis panicked");
        Box::new(internal_error(&what))
    })
}

/// The diagnostic for a file whose analysis failed.
pub fn internal_error(what: &str) -> Diagnostic {
    Diagnostic::new(
        Code::InternalError,
        Span::new(0, 0),
        format!(
            "catalogue-lsp failed while analysing this file ({what}); the other files are still checked. Please report it with the file attached; `catalogue-lsp check` on it shows whether the CLI fails too"
        ),
    )
}

/// The range of a span (kept under this name for the modules that import it from here).
pub use super::proto::range as lsp_range;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CATALOGUE: &str = "[catalogue]\nas_of = 2026-06-01\n\n[[licence]]\nid = \"GL-1\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2027-01-01\nitems = [\"1C902\"]\nend_users = [\"C\"]\ndestinations = [\"DE\"]\n\n[[product]]\nsku = \"A\"\nform = \"magnet\"\ncomposition = { Nd = 28, Dy = 3, Fe = 68, B = 1 }\ndestination = \"DE\"\nend_user = \"C\"\nlicence = \"GL-1\"\n\n[[product]]\nsku = \"B\"\nform = \"rotor-assembly\"\ncomponents = [\"A\"]\nmounting = \"loose\"\nlicence = \"GL-2\"\n\n[[product]]\nsku = \"C\"\nform = \"sensor\"\ncomponents = [\"B\", \"D\"]\nmoulded = false\n\n[[product]]\nsku = \"E\"\nform = \"oxide\"\ncomposition = { La2O3 = 99 }\nlicence = \"GL-1\"\n";

    /// What the server would publish for `uri`, and its diagnostics in LSP form.
    fn published(st: &mut State, uri: &Url) -> String {
        let f = st.file(uri).unwrap();
        let a = st.analyses.get(uri).expect("analysed");
        // Kept diagnostics, moved to where they are now, equal fresh ones too.
        let engine: Vec<String> = a
            .diagnostics()
            .map(|(m, d)| format!("{:?}", st.lsp_diagnostic(&f, &placed(m, d))))
            .collect();
        let (items, range) = st.publication(uri).expect("published");
        let wire = String::from_utf8(items[range].to_vec()).unwrap();
        format!("{wire}\n{}", engine.join("\n"))
    }

    /// Files open in a state (`file:///w/NAME`, the format of the name),
    /// edited one ranged change at a time as a client sends it; after each
    /// edit what every file publishes is compared with a fresh analysis of
    /// the same texts (incremental = fresh).
    struct Edited {
        st: State,
        files: Vec<(Url, String, crate::catalogue::Format)>,
    }

    impl Edited {
        fn open(files: &[(&str, &str)]) -> Edited {
            let files: Vec<_> = files
                .iter()
                .map(|(name, text)| {
                    let uri = Url::parse(&format!("file:///w/{name}")).unwrap();
                    (
                        uri,
                        text.to_string(),
                        crate::catalogue::Format::of_file_name(name),
                    )
                })
                .collect();
            let st = Self::fresh(&files);
            Edited { st, files }
        }

        fn fresh(files: &[(Url, String, crate::catalogue::Format)]) -> State {
            let mut st = State::default();
            for (u, text, format) in files {
                st.docs
                    .insert(u.clone(), Document::with_format(text.clone(), 1, *format));
            }
            let uris: Vec<Url> = files.iter().map(|f| f.0.clone()).collect();
            st.analyse(&uris, None);
            st
        }

        /// Replaces `len` bytes at `at` of file `i` by `ins` (clamped to
        /// characters, never between CR and LF), then compares.
        fn edit(&mut self, i: usize, at: usize, len: usize, ins: &str) -> Result<(), String> {
            let (uri, text, _) = &mut self.files[i];
            let from = crate::text::floor_char_boundary(text, at.min(text.len()));
            let to = crate::text::floor_char_boundary(text, (from + len).min(text.len()));
            // LSP cannot address the point between CR and LF.
            let step_back = |o: usize| {
                if o > 0
                    && text.as_bytes()[o - 1] == b'\r'
                    && text.as_bytes().get(o) == Some(&b'\n')
                {
                    o - 1
                } else {
                    o
                }
            };
            let (from, to) = (step_back(from), step_back(to));
            let change = ranged_change(text, from, to, ins, Encoding::Utf16);
            text.replace_range(from..to, ins);
            let doc = self.st.docs.get_mut(uri).unwrap();
            let version = doc.version + 1;
            let edit = doc.apply(vec![change], version, Encoding::Utf16).unwrap();
            if doc.text != *text {
                return Err(format!(
                    "the document is not the text edited:\n{}\n{text}",
                    doc.text
                ));
            }
            let keys = Keys {
                skus: edit.changed.skus.iter().cloned().collect(),
                licences: edit.changed.licences.iter().cloned().collect(),
            };
            let uri = uri.clone();
            let targets = self.st.affected(&uri, keys);
            self.st.analyse(&targets, Some((&uri, &edit)));
            let mut fresh = Self::fresh(&self.files);
            for (u, _, _) in &self.files {
                let (got, want) = (published(&mut self.st, u), published(&mut fresh, u));
                if got != want {
                    let texts: Vec<&str> = self.files.iter().map(|f| f.1.as_str()).collect();
                    return Err(format!(
                        "{u} after an edit of {texts:?}:\n{}",
                        differences(&got, &want)
                    ));
                }
            }
            Ok(())
        }
    }

    /// Edits that move no name keep the index of names; renaming a SKU or
    /// changing a component list builds a new one.
    #[test]
    fn the_index_of_names_is_kept_until_a_name_changes() {
        let uri = Url::parse("file:///w/a.catalogue.toml").unwrap();
        let mut st = State::default();
        st.docs
            .insert(uri.clone(), Document::new(CATALOGUE.into(), 1));
        st.analyse(std::slice::from_ref(&uri), None);
        let index = |st: &State| st.index.as_ref().map(|(_, i)| i.clone()).unwrap();
        let mut version = 1;
        let mut edit = |st: &mut State, from: &str, to: &str| {
            let text = st.docs[&uri].text.replacen(from, to, 1);
            version += 1;
            let change = tower_lsp::lsp_types::TextDocumentContentChangeEvent {
                range: None,
                range_length: None,
                text,
            };
            let doc = st.docs.get_mut(&uri).unwrap();
            let e = doc.apply(vec![change], version, Encoding::Utf16).unwrap();
            st.analyse(std::slice::from_ref(&uri), Some((&uri, &e)));
        };
        let first = index(&st);
        edit(&mut st, "form = \"sensor\"", "form = \"motor\"");
        assert!(
            Arc::ptr_eq(&first, &index(&st)),
            "a form changed: index kept"
        );
        edit(&mut st, "sku = \"E\"", "sku = \"F\"");
        let renamed = index(&st);
        assert!(!Arc::ptr_eq(&first, &renamed), "a SKU renamed: new index");
        edit(
            &mut st,
            "components = [\"B\", \"D\"]",
            "components = [\"B\"]",
        );
        assert!(
            !Arc::ptr_eq(&renamed, &index(&st)),
            "components changed: new index"
        );
    }

    /// The change that replaces bytes `from..to` of `text` by `ins`, as a
    /// client in encoding `enc` sends it.
    fn ranged_change(
        text: &str,
        from: usize,
        to: usize,
        ins: &str,
        enc: Encoding,
    ) -> tower_lsp::lsp_types::TextDocumentContentChangeEvent {
        let lines = LineIndex::new(text);
        let (l1, c1) = lines.position(text, from, enc);
        let (l2, c2) = lines.position(text, to, enc);
        tower_lsp::lsp_types::TextDocumentContentChangeEvent {
            range: Some(lsp::Range::new(
                lsp::Position::new(l1, c1),
                lsp::Position::new(l2, c2),
            )),
            range_length: None,
            text: ins.into(),
        }
    }

    /// The items of two publications that differ, one per line.
    fn differences(got: &str, want: &str) -> String {
        let items = |s: &str| -> Vec<String> {
            s.replace("},{\"range\"", "}\n{\"range\"")
                .lines()
                .map(str::to_owned)
                .collect()
        };
        let (g, w) = (items(got), items(want));
        let only = |a: &[String], b: &[String]| -> Vec<String> {
            a.iter().filter(|x| !b.contains(x)).cloned().collect()
        };
        format!(
            "only incremental: {:#?}\nonly fresh: {:#?}",
            only(&g, &w),
            only(&w, &g)
        )
    }

    /// A second file that names `CATALOGUE`'s products and licence.
    const USER: &str = "[catalogue]\nas_of = 2026-06-01\n\n[[product]]\nsku = \"U1\"\nform = \"rotor-assembly\"\ncomponents = [\"A\"]\nmounting = \"loose\"\nlicence = \"GL-1\"\ndestination = \"DE\"\nend_user = \"C\"\n\n[[product]]\nsku = \"U2\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 99 }\n\n[[product]]\nsku = \"U3\"\nform = \"sensor\"\ncomponents = [\"U1\", \"E\"]\nmoulded = false\nlicence = \"GL-1\"\n";

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// Edits in one file bring the files that refer to it up to date as
        /// a fresh analysis of both would.
        #[test]
        fn a_file_referring_to_an_edited_one_equals_a_fresh_analysis(
            edits in proptest::collection::vec((0usize..700, 0usize..8, prop_oneof![
                Just(""), Just("x"), Just("\n"), Just("A"), Just("GL-"), Just("1"),
                Just("[[product]]\nsku = \"U1\"\n"),
                Just("[[licence]]\nid = \"GL-1\"\ntype = \"general\"\n"),
            ]), 1..10),
        ) {
            let mut w = Edited::open(&[("a.catalogue.toml", CATALOGUE), ("b.catalogue.toml", USER)]);
            for (at, len, ins) in edits {
                w.edit(0, at, len, ins).map_err(TestCaseError::fail)?;
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// After every edit, what an incremental analysis publishes is exactly
        /// what a fresh analysis of the same text publishes.
        #[test]
        fn incremental_analysis_equals_a_fresh_one(
            edits in proptest::collection::vec((0usize..2000, 0usize..12, prop_oneof![
                Just(""), Just("x"), Just("\n"), Just("\r\n"), Just("\""), Just("𝄞"),
                Just("[[product]]\nsku = \"D\"\ncomponents = [\"C\"]\n"),
                Just("[[licence]]\nid = \"GL-2\"\ntype = \"individual\"\n"),
                Just("sku = \"A\"\n"), Just("Dy = 5, "), Just("GL-"), Just("licence = \"GL-1\"\n"),
            ], any::<bool>()), 1..12),
            encoding in prop_oneof![Just(Encoding::Utf8), Just(Encoding::Utf16), Just(Encoding::Utf32)],
        ) {
            let uri = Url::parse("file:///w/a.catalogue.toml").unwrap();
            let mut st = State { encoding, ..State::default() };
            st.docs.insert(uri.clone(), Document::new(CATALOGUE.into(), 1));
            st.analyse(std::slice::from_ref(&uri), None);
            let mut text = CATALOGUE.to_string();
            for (k, (at, len, ins, whole)) in edits.into_iter().enumerate() {
                let a = crate::text::floor_char_boundary(&text, at.min(text.len()));
                let b = crate::text::floor_char_boundary(&text, (a + len).min(text.len()));
                // LSP cannot address the point between CR and LF.
                let step_back = |o: usize| if o > 0 && text.as_bytes()[o - 1] == b'\r' && text.as_bytes().get(o) == Some(&b'\n') { o - 1 } else { o };
                let (a, b) = (step_back(a), step_back(b));
                let change = ranged_change(&text, a, b, ins, encoding);
                text.replace_range(a..b, ins);
                // Some clients send the whole text.
                let change = if whole {
                    tower_lsp::lsp_types::TextDocumentContentChangeEvent { range: None, range_length: None, text: text.clone() }
                } else {
                    change
                };
                let doc = st.docs.get_mut(&uri).unwrap();
                let edit = doc.apply(vec![change], k as i32 + 2, encoding).unwrap();
                prop_assert_eq!(&doc.text, &text);
                st.analyse(std::slice::from_ref(&uri), Some((&uri, &edit)));
                let mut fresh = State { encoding, ..State::default() };
                fresh.docs.insert(uri.clone(), Document::new(text.clone(), 1));
                fresh.analyse(std::slice::from_ref(&uri), None);
                prop_assert_eq!(published(&mut st, &uri), published(&mut fresh, &uri), "after edit {} of {:?}", k, text);
                // Hovers explain with the kept index of names: the same explanations.
                for i in 0..st.docs[&uri].catalogue.products.len() {
                    prop_assert_eq!(format!("{:?}", st.explained(&uri, i)), format!("{:?}", fresh.explained(&uri, i)));
                }
            }
        }
    }

    /// v2 §4a: a licence with limits used by exports in two files: shipments
    /// in one, the licence, a product and shipments of the other's product
    /// in the other.
    const SHIPPED_A: &str = "[catalogue]\nas_of = 2026-06-01\n\n[[licence]]\nid = \"GL-9\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2026-12-31\nquantity = 100\nunit = \"kg\"\nvalue = 1000\ncurrency = \"CNY\"\n\n[[licence]]\nid = \"IL-9\"\ntype = \"individual\"\nissued = 2026-01-01\nexpires = 2026-12-31\nend_users = [\"C\"]\n\n[[product]]\nsku = \"S\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 100 }\ndestination = \"DE\"\nend_user = \"C\"\nlicence = \"GL-9\"\nship_date = 2026-02-01\nquantity = 40\nunit = \"kg\"\n\n[[shipment]]\nsku = \"T\"\nship_date = 2026-03-01\nquantity = 30000\nunit = \"g\"\n\n[[shipment]]\nsku = \"S\"\nship_date = 2026-03-01\nlicence = \"IL-9\"\nvalue = 500\ncurrency = \"CNY\"\n";
    const SHIPPED_B: &str = "[catalogue]\nas_of = 2026-06-01\n\n[[product]]\nsku = \"T\"\nform = \"oxide\"\ncomposition = { Tb4O7 = 100 }\ndestination = \"DE\"\nlicence = \"GL-9\"\nquantity = 0.025\nunit = \"t\"\n\n[[shipment]]\nsku = \"S\"\nship_date = 2026-04-01\nquantity = 20\nunit = \"kg\"\nvalue = 600\ncurrency = \"CNY\"\n";
    /// A third file whose only link to the others is the licence it uses.
    const SHIPPED_C: &str = "[[product]]\nsku = \"U\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 100 }\ndestination = \"DE\"\nlicence = \"GL-9\"\nship_date = 2026-03-15\nquantity = 15\nunit = \"kg\"\n";
    /// A CSV product catalogue and a CSV licence register (docs/format.md §10).
    const CSV_PRODUCTS: &str = "sku,form,composition,components,mounting,destination,end_user,licence\r\nA,magnet,Nd=28; Dy=3; Fe=68; B=1,,,DE,C,GL-1\r\nB,\"rotor-assembly\",,A,loose,DE,C,\r\nC,oxide,\"Dy2O3=99\",,,US,,GL-9\r\n";
    const CSV_LICENCES: &str = "id,type,issued,expires,items,end_users,destinations\nGL-1,general,2026-01-01,2027-12-31,1C905,C,DE; US\n";
    /// A catalogue whose parties the embedded list screens: an exact match,
    /// close ones, a licence end user on the watch list, and a reviewed
    /// non-match (contract §4b).
    const SCREENED: &str = "[catalogue]\nas_of = 2026-06-01\n\n[[licence]]\nid = \"GL-1\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2027-01-01\nend_users = [\"SUBARU Corp\", \"C\"]\n\n[[product]]\nsku = \"A\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 99 }\nend_user = \"Huntington Ingals Industries\"\nimporter = \"Aerkomm Inc\"\nlicence = \"GL-1\"\n\n[[product]]\nsku = \"B\"\nform = \"oxide\"\ncomposition = { Dy2O3 = 99 }\nend_user = \"Aerkomm Europe\"\n\n[[screening]]\nparty = \"Aerkomm Europe\"\nentry = \"cn-uel-2025-09-25-aerkomm\"\nreason = \"another firm\"\nby = \"R\"\non = 2026-05-01\n";

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// Edits in either file keep the kept shipment judgements
        /// (server::shipcache) of both equal to fresh ones: a shipment of a
        /// product in the other file, one whose licence lies in the other.
        #[test]
        fn shipment_judgements_kept_across_edits_of_either_file_equal_fresh_ones(
            edits in proptest::collection::vec((any::<bool>(), 0usize..400, 0usize..8, prop_oneof![
                Just(""), Just("1"), Just("9"), Just("\n"), Just("g"), Just("S"), Just("T"),
                Just("[[shipment]]\nsku = \"T\"\nship_date = 2026-02-01\nquantity = 50\nunit = \"kg\"\n"),
                Just("[[shipment]]\nsku = \"S\"\nship_date = 2026-05-01\n"),
                Just("licence = \"IL-9\"\n"),
                Just("end_use = \"motors\"\n"),
            ]), 1..10),
        ) {
            let mut w = Edited::open(&[("a.catalogue.toml", SHIPPED_A), ("b.catalogue.toml", SHIPPED_B)]);
            for (in_b, at, len, ins) in edits {
                w.edit(usize::from(in_b), at, len, ins).map_err(TestCaseError::fail)?;
            }
        }

        /// Edits of shipments, amounts and limits bring the files (each
        /// holding exports of the other's licence or product) up to date as
        /// a fresh analysis of both would.
        #[test]
        fn balances_across_files_equal_a_fresh_analysis(
            edits in proptest::collection::vec((0usize..800, 0usize..8, prop_oneof![
                Just(""), Just("1"), Just("9"), Just("\n"), Just("g"), Just("S"), Just("T"),
                Just("[[shipment]]\nsku = \"T\"\nship_date = 2026-02-01\nquantity = 50\nunit = \"kg\"\n"),
                Just("[[shipment]]\nsku = \"S\"\nship_date = 2026-05-01\n"),
                Just("quantity = 7\nunit = \"pcs\"\n"),
                Just("licence = \"IL-9\"\n"),
            ]), 1..10),
        ) {
            let mut w = Edited::open(&[
                ("a.catalogue.toml", SHIPPED_A),
                ("b.catalogue.toml", SHIPPED_B),
                ("c.catalogue.toml", SHIPPED_C),
            ]);
            for (at, len, ins) in edits {
                w.edit(0, at, len, ins).map_err(TestCaseError::fail)?;
            }
        }

        /// Incremental = fresh for CSV documents: edits in a CSV catalogue
        /// or in the CSV licence register it names publish, in both files,
        /// what a fresh analysis publishes.
        #[test]
        fn csv_edits_equal_a_fresh_analysis(
            edits in proptest::collection::vec((any::<bool>(), 0usize..400, 0usize..8, prop_oneof![
                Just(""), Just(","), Just("\""), Just("\n"), Just("\r\n"), Just(";"), Just("x"),
                Just("Dy=5; "), Just("GL-"), Just("1"), Just("𝄞"),
                Just("\nD,magnet,Tb=1; Fe=99,,,DE,C,GL-1\n"),
                Just("\nGL-2,individual,2026-01-01,2026-06-30,,C,DE\n"),
            ]), 1..10),
        ) {
            let mut w = Edited::open(&[("a.catalogue.csv", CSV_PRODUCTS), ("r.licences.csv", CSV_LICENCES)]);
            for (in_register, at, len, ins) in edits {
                w.edit(usize::from(in_register), at, len, ins).map_err(TestCaseError::fail)?;
            }
        }

        /// Incremental = fresh for a `*.shipments.csv`: edits of its rows
        /// (quantities, dates, SKUs, added rows) publish, in it and in the
        /// product and licence files, what a fresh analysis publishes.
        #[test]
        fn csv_shipment_edits_equal_a_fresh_analysis(
            edits in proptest::collection::vec((0usize..200, 0usize..8, prop_oneof![
                Just(""), Just(","), Just("\""), Just("\n"), Just("0"), Just("9"), Just("B"),
                Just("2026-13"), Just("\nA,2026-05-01,60,kg,DE,C,GL-1\n"),
            ]), 1..8),
        ) {
            const LIMITED: &str = "id,type,issued,expires,items,end_users,destinations,quantity,unit\nGL-1,general,2026-01-01,2027-12-31,1C905,C,DE; US,100,kg\n";
            const SHIPPED: &str = "sku,ship_date,quantity,unit,destination,end_user,licence\nA,2026-02-01,50,kg,DE,C,GL-1\nA,2026-03-01,40000,g,DE,C,GL-1\n";
            let mut w = Edited::open(&[
                ("a.catalogue.csv", CSV_PRODUCTS),
                ("r.licences.csv", LIMITED),
                ("s.shipments.csv", SHIPPED),
            ]);
            let first = published(&mut w.st, &w.files[2].0);
            prop_assert!(first.contains("licence-nearly-used"), "{}", first);
            for (at, len, ins) in edits {
                w.edit(2, at, len, ins).map_err(TestCaseError::fail)?;
            }
        }

        /// Screening diagnostics after edits (of party names, licences and
        /// `[[screening]]` records) equal a fresh analysis's.
        #[test]
        fn screening_after_edits_equals_a_fresh_analysis(
            edits in proptest::collection::vec((0usize..700, 0usize..10, prop_oneof![
                Just(""), Just("x"), Just("\n"), Just("l"), Just("Ingalls"), Just(" Inc."),
                Just("Aerkomm "), Just("SUBARU "), Just("\"individual\""),
                Just("[[screening]]\nparty = \"Huntington Ingals Industries\"\nentry = \"cn-ecl-2025-51-huntington-ingalls\"\nreason = \"r\"\nby = \"b\"\non = 2026-05-01\n"),
                Just("end_user = \"Huntington Ingalls Industries, Inc.\"\n"),
                Just("on = 2026-05-01\n"),
            ]), 1..10),
        ) {
            let uri = Url::parse("file:///w/a.catalogue.toml").unwrap();
            let mut st = State::default();
            st.docs.insert(uri.clone(), Document::new(SCREENED.into(), 1));
            st.analyse(std::slice::from_ref(&uri), None);
            let first = published(&mut st, &uri);
            prop_assert!(first.contains("listed-party") && first.contains("possible-listed-party"), "{}", first);
            let mut text = SCREENED.to_string();
            for (k, (at, len, ins)) in edits.into_iter().enumerate() {
                let a = crate::text::floor_char_boundary(&text, at.min(text.len()));
                let b = crate::text::floor_char_boundary(&text, (a + len).min(text.len()));
                let change = ranged_change(&text, a, b, ins, Encoding::Utf16);
                text.replace_range(a..b, ins);
                let doc = st.docs.get_mut(&uri).unwrap();
                let edit = doc.apply(vec![change], k as i32 + 2, Encoding::Utf16).unwrap();
                st.analyse(std::slice::from_ref(&uri), Some((&uri, &edit)));
                let mut fresh = State::default();
                fresh.docs.insert(uri.clone(), Document::new(text.clone(), 1));
                fresh.analyse(std::slice::from_ref(&uri), None);
                let (got, want) = (published(&mut st, &uri), published(&mut fresh, &uri));
                prop_assert!(got == want, "after edit {} of {:?}:\n{}", k, text, differences(&got, &want));
            }
        }
    }

    /// The shipment fixture shows balance findings in both files, so the
    /// property above compares something.
    #[test]
    fn the_shipment_fixture_has_balance_findings_in_both_files() {
        let a = Url::parse("file:///w/a.catalogue.toml").unwrap();
        let b = Url::parse("file:///w/b.catalogue.toml").unwrap();
        let mut st = State::default();
        st.docs
            .insert(a.clone(), Document::new(SHIPPED_A.into(), 1));
        st.docs
            .insert(b.clone(), Document::new(SHIPPED_B.into(), 1));
        st.analyse(&[a.clone(), b.clone()], None);
        // 40 kg (S, 2026-02-01), 30 kg (shipment of T, 2026-03-01), 20 kg
        // (shipment of S in b, 2026-04-01: 90 %), 25 kg (T in b, dated by
        // as_of 2026-06-01: over).
        let (pa, pb) = (published(&mut st, &a), published(&mut st, &b));
        assert!(pb.contains("licence-quantity-exceeded"), "{pb}");
        assert!(pa.contains("licence-nearly-used") || pb.contains("licence-nearly-used"));
        assert!(pa.contains("missing-end-use-evidence"), "{pa}");
    }

    /// A catalogue of `n` products, the even ones with three shipments each, under one
    /// licence with limits; the text of product `k`'s table starts at the
    /// returned offsets (product, its first shipment).
    fn shipped(n: usize, k: usize) -> (String, usize, usize) {
        let mut s = String::from(
            "[catalogue]\nas_of = 2026-06-01\n\n[[licence]]\nid = \"GL-9\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2026-12-31\nquantity = 100\nunit = \"kg\"\n\n",
        );
        let (mut product, mut shipment) = (0, 0);
        for i in 0..n {
            if i == k {
                product = s.len();
            }
            s.push_str(&format!(
                "[[product]]\nsku = \"P{i}\"\nname = \"x\"\nform = \"oxide\"\ncomposition = {{ Dy2O3 = 100 }}\ndestination = \"DE\"\nlicence = \"GL-9\"\n\n"
            ));
            // Odd products have no shipments.
            for d in (1..=3).filter(|_| i % 2 == 0) {
                if i == k && d == 1 {
                    shipment = s.len();
                }
                s.push_str(&format!(
                    "[[shipment]]\nsku = \"P{i}\"\nship_date = 2026-0{d}-01\nquantity = 1\nunit = \"kg\"\n\n"
                ));
            }
        }
        (s, product, shipment)
    }

    /// Shipments judged again by one edit in product `k` of `shipped(n, k)`
    /// (or in its first shipment).
    fn judged_by_edit(n: usize, k: usize, in_shipment: bool) -> usize {
        by_shipment_edit(n, k, in_shipment, "7").0
    }

    /// Shipments judged again, and shipment-cache slots looked at, by one
    /// edit inserting `ins` in product `k` of `shipped(n, k)` (or in its
    /// first shipment).
    fn by_shipment_edit(n: usize, k: usize, in_shipment: bool, ins: &str) -> (usize, usize) {
        let uri = Url::parse("file:///w/s.catalogue.toml").unwrap();
        let (text, product, shipment) = shipped(n, k);
        let mut st = State::default();
        st.docs.insert(uri.clone(), Document::new(text.clone(), 1));
        st.analyse(std::slice::from_ref(&uri), None);
        // Inside `name = "x"` of the product, or in the first shipment's quantity.
        let at = if in_shipment {
            shipment + text[shipment..].find("quantity = 1").unwrap() + "quantity = 1".len()
        } else {
            product + text[product..].find("name = \"").unwrap() + "name = \"".len()
        };
        let change = ranged_change(&text, at, at, ins, Encoding::Utf16);
        let doc = st.docs.get_mut(&uri).unwrap();
        let edit = doc.apply(vec![change], 2, Encoding::Utf16).unwrap();
        let keys = Keys {
            skus: edit.changed.skus.iter().cloned().collect(),
            licences: edit.changed.licences.iter().cloned().collect(),
        };
        let targets = st.affected(&uri, keys);
        use super::super::shipcache::{JUDGED, VISITED};
        let (judged, visited) = (JUDGED.with(|n| n.get()), VISITED.with(|n| n.get()));
        st.analyse(&targets, Some((&uri, &edit)));
        (
            JUDGED.with(|n| n.get()) - judged,
            VISITED.with(|n| n.get()) - visited,
        )
    }

    /// A keystroke in a product or a shipment looks at the shipment-cache
    /// slots it may concern (those in the bytes read again, those naming a
    /// changed SKU, those with an unknown name or a related location), not
    /// at every slot: the tables after it move with one addition. The count
    /// does not grow with the file; an Enter (a line added) neither.
    #[test]
    fn an_edit_looks_only_at_the_shipment_slots_it_may_concern() {
        let mut counts = Vec::new();
        for n in [20, 400] {
            let k = n / 2;
            let got: Vec<usize> = [(false, "7"), (true, "7"), (true, "\n"), (false, "\n")]
                .into_iter()
                .map(|(in_shipment, ins)| by_shipment_edit(n, k, in_shipment, ins).1)
                .collect();
            counts.push(got);
        }
        assert_eq!(counts[0], counts[1], "{counts:?}");
        assert!(counts[0].iter().all(|&c| c >= 3), "{counts:?}");
    }

    /// A keystroke re-judges the shipments of the product it touches (the
    /// edited shipment's product's three), not every shipment of the file:
    /// the count does not grow with the file.
    #[test]
    fn an_edit_re_judges_only_the_shipments_it_touches() {
        for n in [20, 200] {
            let k = n / 2;
            // An edit in a product's name: its own shipments only.
            let got = judged_by_edit(n, k, false);
            assert_eq!(got, 3, "{n} products, edit in a product");
            // An edit in a product without shipments: none.
            let got = judged_by_edit(n, k + 1, false);
            assert_eq!(got, 0, "{n} products, edit in a product without shipments");
            // An edit in one shipment: the shipments of its product.
            let got = judged_by_edit(n, k, true);
            assert_eq!(got, 3, "{n} products, edit in a shipment");
        }
    }

    /// Exports walked by licence balances for one keystroke in a file with
    /// licence `GL-A` (a product and its 3 shipments) and `GL-B` (`n`
    /// products, each with 3 shipments): in the first shipment of `A`'s
    /// quantity, or in the name of a `GL-B` product.
    fn walked_by_edit(n: usize, in_shipment: bool) -> usize {
        by_edit(n, in_shipment, 100000).0
    }

    /// Exports walked and file-level diagnostics rendered by the keystroke
    /// of [`walked_by_edit`], `GL-B` allowing `b_kg` kg; and the number of
    /// file-level diagnostics after it.
    fn by_edit(n: usize, in_shipment: bool, b_kg: usize) -> (usize, usize, usize) {
        let uri = Url::parse("file:///w/l.catalogue.toml").unwrap();
        let mut text = format!(
            "[catalogue]\nas_of = 2026-06-01\n\n[[licence]]\nid = \"GL-A\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2026-12-31\nquantity = 10\nunit = \"kg\"\n\n[[licence]]\nid = \"GL-B\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2026-12-31\nquantity = {b_kg}\nunit = \"kg\"\n\n",
        );
        let product = |s: &mut String, sku: &str, licence: &str| {
            s.push_str(&format!(
                "[[product]]\nsku = \"{sku}\"\nname = \"x\"\nform = \"oxide\"\ncomposition = {{ Dy2O3 = 100 }}\ndestination = \"DE\"\nlicence = \"{licence}\"\nquantity = 1\nunit = \"kg\"\n\n"
            ));
            for d in 1..=3 {
                s.push_str(&format!(
                    "[[shipment]]\nsku = \"{sku}\"\nship_date = 2026-0{d}-01\nquantity = 3\nunit = \"kg\"\n\n"
                ));
            }
        };
        for i in 0..n / 2 {
            product(&mut text, &format!("B{i}"), "GL-B");
        }
        product(&mut text, "A", "GL-A");
        for i in n / 2..n {
            product(&mut text, &format!("B{i}"), "GL-B");
        }
        let mut st = State::default();
        st.docs.insert(uri.clone(), Document::new(text.clone(), 1));
        st.analyse(std::slice::from_ref(&uri), None);
        let at = if in_shipment {
            let a = text.find("[[shipment]]\nsku = \"A\"").unwrap();
            a + text[a..].find("quantity = 3").unwrap() + "quantity = ".len()
        } else {
            let b = text.find(&format!("sku = \"B{}\"", n - 1)).unwrap();
            b + text[b..].find("name = \"").unwrap() + "name = \"".len()
        };
        let change = ranged_change(&text, at, at, "1", Encoding::Utf16);
        let doc = st.docs.get_mut(&uri).unwrap();
        let edit = doc.apply(vec![change], 2, Encoding::Utf16).unwrap();
        let keys = Keys {
            skus: edit.changed.skus.iter().cloned().collect(),
            licences: edit.changed.licences.iter().cloned().collect(),
        };
        let targets = st.affected(&uri, keys);
        let before = crate::engine::exports::WALKED.with(|n| n.get());
        use crate::server::publication::RENDERED_FILE;
        let rendered = RENDERED_FILE.with(|n| n.get());
        st.analyse(&targets, Some((&uri, &edit)));
        let walked = crate::engine::exports::WALKED.with(|n| n.get()) - before;
        let rendered = RENDERED_FILE.with(|n| n.get()) - rendered;
        // The kept ledger is what a fresh one is: `A`'s use, 1 + 13 + 3 + 3 kg.
        let lens = crate::engine::exports::licence_line(
            &st.file(&uri).unwrap().catalogue.licences[0],
            st.ledger.as_deref().and_then(|l| l.balance("GL-A")),
        );
        let want = if in_shipment {
            "20 of 10 kg"
        } else {
            "10 of 10 kg"
        };
        assert!(lens.starts_with(want), "{lens}");
        (walked, rendered, st.analyses[&uri].file.len())
    }

    /// A keystroke walks again only the licence whose export it changed
    /// (`GL-A`'s 4 exports), never the other licence's exports, however
    /// many: the ledger is kept between edits, not rebuilt.
    #[test]
    fn an_edit_re_walks_only_the_licences_whose_exports_it_changed() {
        for n in [20, 400] {
            assert_eq!(
                walked_by_edit(n, true),
                4,
                "{n} products, edit in a shipment"
            );
            assert_eq!(walked_by_edit(n, false), 0, "{n} products, edit in a name");
        }
    }

    /// A keystroke renders to the wire again only the file-level
    /// diagnostics it changed (`GL-A`'s balance), not the balance findings
    /// of the other licence (`GL-B`, over its limit: one per shipment past
    /// it, however many): the others keep their wire form.
    #[test]
    fn an_edit_re_renders_only_the_file_level_diagnostics_it_changed() {
        let mut counts = Vec::new();
        for n in [20, 400] {
            let (_, in_shipment, total) = by_edit(n, true, 1);
            // GL-B's findings grow with its shipments.
            assert!(total > n, "{n} products: {total} file-level diagnostics");
            counts.push((in_shipment, by_edit(n, false, 1).1));
        }
        assert_eq!(counts[0], counts[1], "{counts:?}");
        assert!(
            counts[0].0 >= 1,
            "the edited balance is rendered again: {counts:?}"
        );
    }

    #[test]
    fn a_panicking_analysis_becomes_an_internal_error_diagnostic() {
        let uri = Url::parse("file:///x.catalogue.toml").unwrap();
        let d = contained(&uri, || -> () { panic!("boom") }).unwrap_err();
        assert_eq!(d.code, Code::InternalError);
        assert!(d.message.contains("boom"));
    }

    #[test]
    fn settings_are_read_directly_or_under_their_section() {
        let a = Settings::from_json(&serde_json::json!({"asOf": "2026-01-01"})).unwrap();
        let b = Settings::from_json(&serde_json::json!({"catalogueLsp": {"asOf": "2026-01-01"}}))
            .unwrap();
        assert_eq!(a, b);
        assert!(Settings::from_json(&serde_json::json!({"severity": 3})).is_err());
        assert_eq!(
            Settings::from_json(&serde_json::Value::Null).unwrap(),
            Settings::default()
        );
    }
}
