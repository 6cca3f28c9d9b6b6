//! A set of parsed catalogue files analysed together: the SKU and licence
//! indexes (hashed, so resolution is linear in the workspace), evaluation
//! dates, and the per-file results and diagnostics.

use super::classify::{
    Classification, Classifier, ProductLookup, TraceStep, Verdict, dormant_text,
};
use super::ident;
use super::index::{At, Index, Places};
use super::licence;
use crate::catalogue::{Catalogue, Licence, Product};
use crate::diagnostic::{Code, Diagnostic, FileIndex, FileRef, MAX_RELATED, Related};
use crate::parties::{PartyList, Screener};
use crate::rules::{RulePack, Status};
use crate::text::Span;
use jiff::civil::Date;
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// One file of the workspace.
#[derive(Clone)]
pub struct FileInput<'a> {
    pub catalogue: &'a Catalogue,
    /// The rule pack this file is judged by.
    pub pack: Arc<RulePack>,
}

/// Evaluation-date settings (docs/format.md §6).
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// `--as-of` or the editor setting: overrides `[catalogue].as_of`, not `ship_date`.
    pub as_of: Option<Date>,
    /// Today, the last fallback.
    pub today: Date,
    /// Build explanation traces (the language server's hovers); `check` does not print them.
    pub explain: bool,
    /// Keep each shipment's classification in the ledger when a whole
    /// file's shipments are judged (`Ledger::judgement`): set by the
    /// `dossier` command only, which reads them; `check` and the server pay
    /// nothing for it.
    pub keep_judgements: bool,
}

impl Options {
    /// Judged as of `date`, which is also today: no traces, nothing kept
    /// (what tests, benchmarks and the pack's own tests use).
    pub fn on(date: Date) -> Options {
        Options {
            as_of: Some(date),
            today: date,
            explain: false,
            keep_judgements: false,
        }
    }
}

/// The verdict and findings for one product.
#[derive(Clone, Debug)]
pub struct ProductResult {
    pub index: usize,
    pub sku: Option<String>,
    pub as_of: Date,
    pub classification: Arc<Classification>,
    pub licence: Option<String>,
}

impl ProductResult {
    pub fn verdict(&self) -> Verdict {
        self.classification.verdict
    }
    pub fn trace(&self) -> &[TraceStep] {
        &self.classification.trace
    }
}

/// A product's result and the diagnostics anchored in its own table.
#[derive(Clone, Debug)]
pub struct ProductOutcome {
    pub result: ProductResult,
    pub diagnostics: Vec<Diagnostic>,
}

impl ProductOutcome {
    /// The slot of product `index` while its analysis is on the way
    /// (indeterminate, no diagnostics): the language server fills it in the
    /// same step, before anything reads it.
    pub fn pending(index: usize, as_of: Date) -> Self {
        ProductOutcome {
            result: ProductResult {
                index,
                sku: None,
                as_of,
                classification: Arc::new(Classification::new(Verdict::Indeterminate)),
                licence: None,
            },
            diagnostics: Vec::new(),
        }
    }
}

/// Results for one file.
#[derive(Clone, Debug, Default)]
pub struct FileResult {
    pub products: Vec<ProductResult>,
    pub diagnostics: Vec<Diagnostic>,
    /// The exports and licence balances of the workspace (shared by its files).
    pub ledger: Option<Arc<super::exports::Ledger>>,
}

/// The engine's front door: the catalogues analysed together, each with the
/// rule pack that judges it (see `crate::packs` for which). [`Analysis::build`]
/// indexes them into a [`Workspace`], which answers per file or per product:
///
/// ```
/// # use catalogue_lsp::{catalogue, engine::{Analysis, Options}, rules::RulePack};
/// let cat = catalogue::parse("[[product]]\nsku = \"A\"\nform = \"oxide\"\n");
/// let ws = Analysis::new().file(&cat, RulePack::embedded()).build();
/// let today = jiff::civil::date(2026, 6, 1);
/// let results = ws.analyse_all(&Options { as_of: None, today, explain: false, keep_judgements: false });
/// assert_eq!(results[0].products.len(), 1);
/// ```
#[derive(Default)]
pub struct Analysis<'a> {
    files: Vec<FileInput<'a>>,
    index: Option<Arc<Index>>,
    parties: Option<Arc<PartyList>>,
}

impl<'a> Analysis<'a> {
    pub fn new() -> Self {
        Analysis::default()
    }

    /// Adds one file, judged by `pack`.
    pub fn file(mut self, catalogue: &'a Catalogue, pack: Arc<RulePack>) -> Self {
        self.files.push(FileInput { catalogue, pack });
        self
    }

    /// Adds files, all judged by `pack`.
    pub fn files(
        mut self,
        catalogues: impl IntoIterator<Item = &'a Catalogue>,
        pack: &Arc<RulePack>,
    ) -> Self {
        self.files
            .extend(catalogues.into_iter().map(|catalogue| FileInput {
                catalogue,
                pack: pack.clone(),
            }));
        self
    }

    /// Adds files, each with its own pack.
    pub fn judged(
        mut self,
        files: impl IntoIterator<Item = (&'a Catalogue, Arc<RulePack>)>,
    ) -> Self {
        self.files.extend(
            files
                .into_iter()
                .map(|(catalogue, pack)| FileInput { catalogue, pack }),
        );
        self
    }

    /// Reuses the index of names built before for exactly these catalogues,
    /// in this order (the language server keeps it while no edit moves a
    /// name); without it `build` indexes them.
    pub fn with_index(mut self, index: Arc<Index>) -> Self {
        self.index = Some(index);
        self
    }

    /// Screens the parties against this list (default: the embedded one).
    pub fn parties(mut self, list: Arc<PartyList>) -> Self {
        self.parties = Some(list);
        self
    }

    /// The indexed workspace.
    pub fn build(self) -> Workspace<'a> {
        let mut ws = match self.index {
            Some(index) => Workspace::with_index(self.files, index),
            None => Workspace::new(self.files),
        };
        if let Some(p) = self.parties {
            ws.parties = p;
        }
        ws
    }
}

/// The files of one run or editor workspace, indexed (built by [`Analysis`]).
pub struct Workspace<'a> {
    pub files: Vec<FileInput<'a>>,
    cats: Vec<&'a Catalogue>,
    index: Arc<Index>,
    /// The party list names are screened against.
    parties: Arc<PartyList>,
    /// The strongly connected components of the bill of materials, found
    /// once per workspace, as far as the products asked about reach.
    sccs: Mutex<Sccs>,
    work: Counters,
    /// The exports and licence balances, built when first asked for (keyed
    /// by the evaluation-date options they were built with).
    ledger: Mutex<Option<LedgerFor>>,
}

type LedgerFor = (Option<Date>, Date, Arc<super::exports::Ledger>);

/// Work done by the workspace checks, counted for complexity tests (machine
/// independent, unlike time).
#[derive(Default)]
struct Counters {
    suggest: AtomicU64,
    graph: AtomicU64,
}

/// Work done by one workspace so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Work {
    /// Variants looked up and candidates compared for "did you mean".
    pub suggestions: u64,
    /// Component references followed by the cycle check.
    pub graph_edges: u64,
}

/// Tarjan's strongly connected components over the SKUs (a node is a name,
/// by the first place it is defined at; its edges are the components of every
/// product with that name), computed lazily: a query runs the search from its
/// node if no earlier one reached it. A component reference is in a cycle
/// exactly when it and the product naming it are in one component.
#[derive(Default)]
struct Sccs {
    component: FxHashMap<At, u32>,
    next: u32,
}

impl ProductLookup for Workspace<'_> {
    fn product(&self, sku: &str) -> Option<(usize, usize)> {
        self.index.sku(&self.cats, sku).map(|p| p.first)
    }
    fn more(&self, sku: &str) -> &[(usize, usize)] {
        self.index.sku(&self.cats, sku).map_or(&[], |p| p.more())
    }
    fn get(&self, at: (usize, usize)) -> &Product {
        &self.files[at.0].catalogue.products[at.1]
    }
}

impl licence::LicenceLookup for Workspace<'_> {
    fn licence(&self, id: &str) -> Option<(usize, &Licence)> {
        Workspace::licence(self, id)
    }
    fn suggest_licence(&self, id: &str) -> Option<&str> {
        Workspace::suggest_licence(self, id)
    }
}

impl<'a> Workspace<'a> {
    /// Prefer [`Analysis`]; public only for `fuzz/` until its targets switch.
    #[doc(hidden)]
    pub fn new(files: Vec<FileInput<'a>>) -> Self {
        let cats: Vec<&Catalogue> = files.iter().map(|f| f.catalogue).collect();
        let index = Arc::new(Index::build(&cats));
        Workspace {
            files,
            cats,
            index,
            parties: PartyList::embedded(),
            sccs: Mutex::default(),
            work: Counters::default(),
            ledger: Mutex::default(),
        }
    }

    /// A workspace with the index of exactly these catalogues, built before
    /// (the language server keeps it while no edit moves a name).
    fn with_index(files: Vec<FileInput<'a>>, index: Arc<Index>) -> Self {
        let cats: Vec<&Catalogue> = files.iter().map(|f| f.catalogue).collect();
        Workspace {
            files,
            cats,
            index,
            parties: PartyList::embedded(),
            sccs: Mutex::default(),
            work: Counters::default(),
            ledger: Mutex::default(),
        }
    }

    /// The ledger built with these options, built by `build` when there is none.
    pub(super) fn ledger_cache(
        &self,
        opts: &Options,
        build: impl FnOnce() -> super::exports::Ledger,
    ) -> Arc<super::exports::Ledger> {
        let mut g = self.ledger.lock().unwrap_or_else(|e| {
            let mut g = e.into_inner();
            *g = None;
            g
        });
        match &*g {
            Some((a, t, l)) if *a == opts.as_of && *t == opts.today => l.clone(),
            _ => {
                let l = Arc::new(build());
                *g = Some((opts.as_of, opts.today, l.clone()));
                l
            }
        }
    }

    /// Forgets the ledger (built again when next asked for): `check`
    /// frees it once its reports have read it.
    pub fn release_ledger(&self) {
        *self.ledger.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// The party list names are screened against.
    pub fn parties(&self) -> &Arc<PartyList> {
        &self.parties
    }

    /// The work the workspace checks have done so far (for complexity tests).
    pub fn work(&self) -> Work {
        Work {
            suggestions: self.work.suggest.load(Ordering::Relaxed),
            graph_edges: self.work.graph.load(Ordering::Relaxed),
        }
    }

    /// The SKU nearest to an unknown one ("did you mean").
    pub fn suggest_sku(&self, word: &str) -> Option<&str> {
        let (near, work) = self.index.suggest_sku(&self.cats, word);
        self.work.suggest.fetch_add(work as u64, Ordering::Relaxed);
        near
    }

    /// The licence id nearest to an unknown one ("did you mean").
    pub fn suggest_licence(&self, word: &str) -> Option<&str> {
        let (near, work) = self.index.suggest_licence(&self.cats, word);
        self.work.suggest.fetch_add(work as u64, Ordering::Relaxed);
        near
    }

    /// The index, to keep for the next workspace of the same catalogues.
    pub fn index(&self) -> &Arc<Index> {
        &self.index
    }

    /// The given SKUs and every SKU whose product contains one of them, at any depth.
    pub fn dependents<'s>(&self, skus: impl IntoIterator<Item = &'s str>) -> FxHashSet<String> {
        let mut out: FxHashSet<String> = skus.into_iter().map(str::to_owned).collect();
        let mut todo: Vec<String> = out.iter().cloned().collect();
        while let Some(sku) = todo.pop() {
            for &(f, i) in self.index.parents(&self.cats, &sku) {
                let Some(parent) = self.get((f, i)).sku_str() else {
                    continue;
                };
                if out.insert(parent.to_owned()) {
                    todo.push(parent.to_owned());
                }
            }
        }
        out
    }

    /// The first licence with this id.
    pub fn licence(&self, id: &str) -> Option<(usize, &Licence)> {
        let (f, i) = self.index.licence(&self.cats, id)?.first;
        Some((f, &self.files[f].catalogue.licences[i]))
    }

    /// Where the first licence with this id is, as (file, index).
    pub fn licence_place(&self, id: &str) -> Option<(usize, usize)> {
        Some(self.index.licence(&self.cats, id)?.first)
    }

    pub fn licence_ids(&self) -> impl Iterator<Item = &str> {
        self.index
            .all_licences()
            .filter_map(|p| self.cats[p.first.0].licences[p.first.1].id_str())
    }

    pub fn product_at(&self, sku: &str) -> Option<(usize, &Product)> {
        let at = self.product(sku)?;
        Some((at.0, self.get(at)))
    }

    /// The evaluation date of a product (docs/format.md §6).
    pub fn evaluation_date(&self, file: usize, p: &Product, opts: &Options) -> Date {
        p.ship_date
            .as_ref()
            .map(|d| d.value)
            .or(opts.as_of)
            .or_else(|| {
                self.files[file]
                    .catalogue
                    .catalogue
                    .as_ref()
                    .and_then(|c| c.as_of.as_ref())
                    .map(|d| d.value)
            })
            .unwrap_or(opts.today)
    }

    /// The classification of one product with its explanation trace (for
    /// hovers; analyses may skip traces).
    pub fn explain(&self, file: usize, index: usize, date: Date) -> Arc<Classification> {
        Classifier::new(&self.files[file].pack, self, true).classify((file, index), date)
    }

    /// Analyses every file.
    ///
    /// Several files are analysed in parallel, each on one thread; a single
    /// file on all of them (a file's chunks are split over its own threads,
    /// which inside the pool's workers would oversubscribe the machine).
    pub fn analyse_all(&self, opts: &Options) -> Vec<FileResult> {
        if self.files.len() == 1 {
            return vec![self.analyse_file(0, opts)];
        }
        (0..self.files.len())
            .into_par_iter()
            .map(|i| self.analyse_file_on(i, opts, 1))
            .collect()
    }

    /// Analyses one file: parse diagnostics, classification, licences and workspace checks.
    ///
    /// Built for a million products without copies: the products are taken
    /// in chunks, claimed in order by as many threads as the pool has, and
    /// each chunk's results and diagnostics (one vector per chunk, none per
    /// product) are appended to the file's as soon as the chunks before it
    /// are (`stream::in_order`, at most a few chunks ahead): a chunk's
    /// memory is freed and used again for the next, rather than all of
    /// them held until a final copy. The diagnostics are
    /// then sorted through a permutation of positions rather than by a merge
    /// sort's buffer of half of them.
    pub fn analyse_file(&self, file: usize, opts: &Options) -> FileResult {
        self.analyse_file_on(file, opts, rayon::current_num_threads())
    }

    /// [`Workspace::analyse_file`] on `threads` threads.
    fn analyse_file_on(&self, file: usize, opts: &Options, threads: usize) -> FileResult {
        use super::stream::CHUNK;
        let n = self.files[file].catalogue.products.len();
        let chunk = |c: usize| self.classify_chunk(file, c * CHUNK..n.min((c + 1) * CHUNK), opts);
        // In chunk order, at most a few chunks ahead of the one appended
        // (`stream::in_order`): a slow chunk does not make the later ones
        // wait in memory.
        let mut products = Vec::with_capacity(n);
        let mut diags = Vec::new();
        let appended: Result<(), std::convert::Infallible> = super::stream::in_order(
            n.div_ceil(CHUNK),
            threads,
            // One thread: made and appended in turn, on this one.
            if threads == 1 { 1 } else { 2 * threads + 2 },
            chunk,
            |_, (mut p, mut d): (Vec<ProductResult>, Vec<Diagnostic>)| {
                products.append(&mut p);
                diags.append(&mut d);
                Ok(())
            },
        );
        let Ok(()) = appended;
        let from_products = diags.len();
        let latest = products.iter().map(|p| p.as_of).max();
        diags.extend(self.file_diagnostics(file, latest));
        diags.extend(self.export_diagnostics(file, opts));
        diags.shrink_to_fit();
        sort_diagnostics(&mut diags, from_products);
        FileResult {
            products,
            diagnostics: diags,
            ledger: Some(self.ledger(opts)),
        }
    }

    /// Classifies every product of a file and finds its own diagnostics, one
    /// outcome per product in order (in parallel when there are many).
    pub fn analyse_products(&self, file: usize, opts: &Options) -> Vec<ProductOutcome> {
        let n = self.files[file].catalogue.products.len();
        self.analyse_some(file, opts, &(0..n).collect::<Vec<_>>())
    }

    /// The outcomes of the products at `indices` of a file, in that order:
    /// the language server passes those an edit touched or may have changed.
    /// Indices out of range are skipped.
    pub fn analyse_some(
        &self,
        file: usize,
        opts: &Options,
        indices: &[usize],
    ) -> Vec<ProductOutcome> {
        const CHUNK: usize = 2048;
        let n = self.files[file].catalogue.products.len();
        let pack = &*self.files[file].pack;
        let compute = |chunk: &[usize]| {
            let mut classifier = Classifier::new(pack, self, opts.explain);
            let mut screener = Screener::new(&self.parties);
            let mut shared = super::share::Shared::default();
            chunk
                .iter()
                .filter(|&&i| i < n)
                .map(|&i| {
                    let mut o = self.product_outcome(file, i, &mut classifier, &mut screener, opts);
                    o.result.classification = shared.intern(o.result.classification);
                    o
                })
                .collect::<Vec<_>>()
        };
        if indices.len() > CHUNK {
            indices.par_chunks(CHUNK).flat_map_iter(compute).collect()
        } else {
            compute(indices)
        }
    }

    /// One product's classification and the diagnostics anchored in its table.
    fn product_outcome(
        &self,
        file: usize,
        index: usize,
        classifier: &mut Classifier<Self>,
        screener: &mut Screener,
        opts: &Options,
    ) -> ProductOutcome {
        let mut diagnostics = Vec::new();
        let result = self.product_result(file, index, classifier, screener, opts, &mut diagnostics);
        // A vector's first push reserves four (672 bytes): kept per product
        // that is most of a million products' diagnostics (README, Performance).
        diagnostics.shrink_to_fit();
        ProductOutcome {
            result,
            diagnostics,
        }
    }

    /// The products `range` of file `file` classified (one classifier and
    /// its memo for them all, equal classifications shared) with the
    /// diagnostics anchored in their tables, in product order.
    pub(super) fn classify_chunk(
        &self,
        file: usize,
        range: std::ops::Range<usize>,
        opts: &Options,
    ) -> (Vec<ProductResult>, Vec<Diagnostic>) {
        let mut classifier = Classifier::new(&self.files[file].pack, self, opts.explain);
        let mut screener = Screener::new(&self.parties);
        let mut shared = super::share::Shared::default();
        let mut products = Vec::with_capacity(range.len());
        let mut diags = Vec::new();
        for i in range {
            let mut r =
                self.product_result(file, i, &mut classifier, &mut screener, opts, &mut diags);
            r.classification = shared.intern(r.classification);
            products.push(r);
        }
        (products, diags)
    }

    /// One product's classification; the diagnostics anchored in its table
    /// are pushed onto `out`.
    fn product_result(
        &self,
        file: usize,
        index: usize,
        classifier: &mut Classifier<Self>,
        screener: &mut Screener,
        opts: &Options,
        out: &mut Vec<Diagnostic>,
    ) -> ProductResult {
        let r = self.product_classified(file, index, classifier, opts);
        let p = &self.files[file].catalogue.products[index];
        self.product_diagnostics(file, p, r.as_of, &r.classification, out);
        self.screen_product(file, p, r.as_of, screener, out);
        r
    }

    /// One product's classification on its evaluation date, without its diagnostics.
    pub(super) fn product_classified(
        &self,
        file: usize,
        index: usize,
        classifier: &mut Classifier<Self>,
        opts: &Options,
    ) -> ProductResult {
        let p = &self.files[file].catalogue.products[index];
        let date = self.evaluation_date(file, p, opts);
        let c = classifier.classify((file, index), date);
        ProductResult {
            index,
            sku: p.sku.as_ref().map(|s| s.value.clone()),
            as_of: date,
            classification: c,
            licence: p.licence.as_ref().map(|l| l.value.clone()),
        }
    }

    /// The diagnostics of a file that are not one product's own: parse errors,
    /// licence tables, duplicates across the workspace and a stale rule pack
    /// (`latest` is the latest evaluation date of its products; its
    /// shipments' dates count too, docs/format.md §6).
    pub fn file_diagnostics(&self, file: usize, latest: Option<Date>) -> Vec<Diagnostic> {
        let cat = self.files[file].catalogue;
        let pack = &*self.files[file].pack;
        let mut diags: Vec<Diagnostic> = cat
            .all_diagnostics()
            .cloned()
            .map(|mut d| {
                for r in &mut d.related {
                    if r.file == FileRef::Same {
                        r.file = FileRef::Index(FileIndex(file));
                    }
                }
                d
            })
            .collect();
        let screen_date = latest
            .or_else(|| {
                cat.catalogue
                    .as_ref()
                    .and_then(|c| c.as_of.as_ref())
                    .map(|d| d.value)
            })
            .unwrap_or_else(crate::clock::today);
        let mut screener = Screener::new(&self.parties);
        for l in &cat.licences {
            licence::licence_diagnostics(pack, l, &mut diags);
            super::screening::screen_licence(&mut screener, pack, cat, l, screen_date, &mut diags);
            if let Some(id) = &l.id {
                if let Some(m) = ident::message("licence id", &id.value) {
                    diags.push(Diagnostic::new(Code::ConfusableIdentifier, id.span, m));
                }
            }
        }
        self.duplicate_diagnostics(file, &mut diags);
        self.lookalike_diagnostics(file, &mut diags);
        if let Some(latest) = stale_date(latest, cat).filter(|l| *l > pack.reviewed_through) {
            let dated = |d: &Option<crate::catalogue::Field<Date>>| {
                d.as_ref().filter(|d| d.value == latest).map(|d| d.span)
            };
            let span = cat
                .products
                .iter()
                .find_map(|p| dated(&p.ship_date))
                .or_else(|| cat.shipments.iter().find_map(|s| dated(&s.ship_date)))
                .or_else(|| {
                    cat.catalogue
                        .as_ref()
                        .and_then(|c| c.as_of.as_ref().map(|a| a.span))
                })
                .or_else(|| cat.tables.first().map(|t| t.header))
                .unwrap_or_default();
            diags.push(Diagnostic::new(
                Code::RulePackStale,
                span,
                format!(
                    "evaluation date {latest} is later than rule pack {} {} was reviewed through ({}): controls may have changed since (e.g. suspensions ending). Check current {} announcements or update the rule pack",
                    pack.id, pack.version, pack.reviewed_through, pack.vocab.regulator
                ),
            ));
        }
        diags
    }

    /// The screening pass over a product's parties (contract §4b).
    pub(super) fn screen_product(
        &self,
        file: usize,
        p: &Product,
        date: Date,
        screener: &mut Screener,
        out: &mut Vec<Diagnostic>,
    ) {
        use super::screening::{LicenceUsed, Named, Role, screen_party};
        let importer = &p.export_facts().importer;
        if p.end_user.is_none() && importer.is_none() {
            return;
        }
        let cat = self.files[file].catalogue;
        let used = LicenceUsed {
            id: p.licence.as_ref().map(|l| l.value.as_str()),
            kind: p
                .licence
                .as_ref()
                .and_then(|l| self.licence(&l.value))
                .and_then(|(f, l)| {
                    let k = l.kind.as_ref()?;
                    self.files[f].pack.licence_rule(k.value.as_str())
                }),
        };
        let sku = p.sku_str();
        for (role, f) in [(Role::EndUser, &p.end_user), (Role::Importer, importer)] {
            if let Some(name) = f {
                let named = Named {
                    role,
                    name,
                    licence: used,
                    sku,
                };
                screen_party(screener, cat, named, date, out);
            }
        }
    }

    pub(super) fn product_diagnostics(
        &self,
        file: usize,
        p: &Product,
        date: Date,
        c: &Classification,
        out: &mut Vec<Diagnostic>,
    ) {
        let pack = &*self.files[file].pack;
        let sku = p.sku_str();
        let at = p.header;
        // Where the verdict's first code is listed (an Ann. 61 limb for an
        // export from abroad), else the first item with that code.
        let first_source = |codes: &[String]| {
            c.source
                .as_ref()
                .filter(|(inst, _)| *inst < pack.instruments.len())
                .map(|(inst, article)| pack.source(*inst, article))
                .or_else(|| {
                    codes
                        .first()
                        .and_then(|code| pack.items.iter().find(|i| &i.code == code))
                        .map(|i| pack.item_source(i))
                })
        };
        // Invisible and look-alike characters in the names it defines and uses.
        let names = p
            .sku
            .iter()
            .map(|f| ("sku", f))
            .chain(
                p.components
                    .iter()
                    .flat_map(|c| c.value.iter().map(|s| ("component", s))),
            )
            .chain(p.licence.iter().map(|f| ("licence", f)));
        for (what, f) in names {
            if let Some(m) = ident::message(what, &f.value) {
                out.push(Diagnostic::new(Code::ConfusableIdentifier, f.span, m).with_sku(sku));
            }
        }
        vocabulary_diagnostics(pack, p, out);
        // Components: unknown and cyclic references.
        if let Some(comps) = &p.components {
            for s in &comps.value {
                match self.product_at(&s.value) {
                    None => {
                        let near = self.suggest_sku(&s.value);
                        let msg = match near {
                            Some(n) => format!(
                                "component `{}` names no product in the workspace: did you mean `{n}`? Its contents count as unknown until it is defined",
                                s.value
                            ),
                            None => format!(
                                "component `{}` names no product in the workspace: add a product record with this `sku`, or fix the name; its contents count as unknown",
                                s.value
                            ),
                        };
                        out.push(
                            Diagnostic::new(Code::UnknownComponent, s.span, msg)
                                .with_sku(sku)
                                .with_string_replacements(
                                    near.map(|n| vec![n.to_string()]).unwrap_or_default(),
                                ),
                        );
                    }
                    Some((cf, cp)) => {
                        // A duplicate SKU makes the reference ambiguous: the
                        // classifier judges the product with each of them.
                        if let Some(all) = self
                            .index
                            .sku(&self.cats, &s.value)
                            .filter(|all| all.count() > 1)
                        {
                            let n = all.count();
                            let more = if n > MAX_RELATED {
                                format!(" ({} more not linked)", n - MAX_RELATED)
                            } else {
                                String::new()
                            };
                            let mut d = Diagnostic::new(
                                Code::DuplicateSku,
                                s.span,
                                format!(
                                    "component `{}` is ambiguous: {n} products have this sku (linked{more}); this product is judged with each and is indeterminate unless they are judged alike: give each product its own sku, and name the one meant",
                                    s.value
                                ),
                            )
                            .with_sku(sku);
                            for o in all.iter().take(MAX_RELATED) {
                                d = d.with_related(Related {
                                    file: FileRef::Index(FileIndex(o.0)),
                                    span: self.name_span(Kind::Sku, o),
                                    message: format!("`{}` is defined here", s.value),
                                });
                            }
                            out.push(d);
                        }
                        if self.in_cycle(sku, &s.value) {
                            out.push(
                                Diagnostic::new(Code::ComponentCycle, s.span, format!("component `{}` contains `{}` again: a product cannot contain itself; remove one of the references", s.value, sku.unwrap_or("this product")))
                                    .with_sku(sku)
                                    .with_related(Related { file: FileRef::Index(FileIndex(cf)), span: cp.header, message: format!("`{}` is defined here", s.value) }),
                            );
                        }
                    }
                }
            }
        }
        let licence_text = p
            .licence
            .as_ref()
            .map(|l| format!("; licence {}", l.value))
            .unwrap_or_default();
        match c.verdict {
            Verdict::Controlled => {
                let titled: Vec<String> = c
                    .codes
                    .iter()
                    .zip(c.titles.iter().map(|t| &**t).chain(std::iter::repeat("")))
                    .map(|(code, t)| {
                        if t.is_empty() {
                            code.clone()
                        } else {
                            format!("{code} ({t})")
                        }
                    })
                    .chain(c.uncoded.iter().map(|t| format!("{t}, no list code given")))
                    .collect();
                out.push(
                    Diagnostic::new(
                        Code::Controlled,
                        at,
                        format!(
                            "controlled dual-use item: {}{licence_text}",
                            titled.join(", ")
                        ),
                    )
                    .with_sku(sku)
                    .with_source(first_source(&c.codes)),
                );
            }
            Verdict::Excluded => {
                let ex = c.exclusion.clone().unwrap_or_default();
                let e = pack.exclusion(&ex);
                let codes = if c.codes.is_empty() {
                    String::new()
                } else {
                    format!(" takes {} out of control", c.codes.join(", "))
                };
                out.push(
                    Diagnostic::new(
                        Code::Excluded,
                        at,
                        format!(
                            "excluded: `{ex}`{codes} — {}",
                            e.map(|e| e.title.as_str()).unwrap_or("")
                        ),
                    )
                    .with_sku(sku)
                    .with_source(e.map(|e| pack.source(e.instrument, &e.article))),
                );
            }
            Verdict::Indeterminate => {
                out.push(
                    Diagnostic::new(
                        Code::IndeterminateClassification,
                        at,
                        format!("cannot classify: missing {}. Absence of data is never clearance: add the facts so the engine can decide", c.missing.join(", ")),
                    )
                    .with_sku(sku),
                );
            }
            Verdict::NotControlled => {}
        }
        out.extend(unconfirmed_status(pack, c, at, sku, date));
        for d in &c.dormant {
            let code = match d.status {
                Status::NotYetEffective { .. } => Code::UpcomingControl,
                _ => Code::SuspendedControl,
            };
            out.push(
                Diagnostic::new(code, at, dormant_text(pack, d, date))
                    .with_sku(sku)
                    .with_source(Some(d.source.clone())),
            );
        }
        if let Some(declared) = p
            .control_code
            .as_ref()
            .filter(|d| pack.vocab.codes.is_code(&d.value))
        {
            if c.verdict != Verdict::Indeterminate
                && !(c.verdict == Verdict::Controlled && c.codes.contains(&declared.value))
            {
                let (msg, fix) = match c.verdict {
                    Verdict::Controlled => (
                        format!(
                            "declared control code {} differs from the engine's {}: correct the declaration (customs remarks must carry the right code)",
                            declared.value,
                            c.codes.join(", ")
                        ),
                        c.codes.clone(),
                    ),
                    Verdict::Excluded => (
                        format!(
                            "declared control code {} but the product is excluded (`{}`): it is not a controlled item; remove the declaration or check the exclusion",
                            declared.value,
                            c.exclusion.clone().unwrap_or_default()
                        ),
                        vec![],
                    ),
                    _ => (
                        format!(
                            "declared control code {} but no listed item in force matches on {date}: check the composition and form, or remove the declaration",
                            declared.value
                        ),
                        vec![],
                    ),
                };
                out.push(
                    Diagnostic::new(Code::DeclaredCodeMismatch, declared.span, msg)
                        .with_sku(sku)
                        .with_source(first_source(&c.codes))
                        .with_string_replacements(fix),
                );
            }
        }
        licence::product_licence_diagnostics(self, pack, p, date, c, out);
        out.extend(super::exports::product_evidence(self, pack, p, c));
    }

    /// Whether the reference from a product named `from` to component `to`
    /// closes a cycle: `to` leads back to `from` (the same strongly
    /// connected component), or names it.
    fn in_cycle(&self, from: Option<&str>, to: &str) -> bool {
        let Some(from) = from else { return false };
        if from == to {
            return true;
        }
        let (Some(a), Some(b)) = (self.product(from), self.product(to)) else {
            return false;
        };
        // A poisoned lock only means another thread panicked mid-search;
        // its half-built state is dropped and the search starts again.
        let mut sccs = self.sccs.lock().unwrap_or_else(|e| {
            let mut g = e.into_inner();
            *g = Sccs::default();
            g
        });
        let ca = self.scc_of(&mut sccs, a);
        let cb = self.scc_of(&mut sccs, b);
        ca == cb
    }

    /// Every product with the name of `node`: its edges are their components.
    fn places_of(&self, node: At) -> Option<&Places> {
        self.index.sku(&self.cats, self.get(node).sku_str()?)
    }

    /// The next component reference of the products `places` after the
    /// cursor (place, position in its list), resolved to its first place
    /// (`None` if unknown); `None` when there are no more.
    fn next_edge(&self, places: Option<&Places>, cur: &mut (usize, usize)) -> Option<Option<At>> {
        let places = places?;
        loop {
            let at = match cur.0 {
                0 => places.first,
                p => *places.more().get(p - 1)?,
            };
            let comps = self
                .get(at)
                .components
                .as_ref()
                .map_or(&[][..], |c| &c.value[..]);
            if let Some(c) = comps.get(cur.1) {
                cur.1 += 1;
                return Some(self.product(&c.value));
            }
            *cur = (cur.0 + 1, 0);
        }
    }

    /// The strongly connected component of `root`, running Tarjan's search
    /// (iteratively: bills of materials may be deep) over what it reaches
    /// that no earlier search has.
    fn scc_of(&self, sccs: &mut Sccs, root: At) -> u32 {
        if let Some(&c) = sccs.component.get(&root) {
            return c;
        }
        // Per node of this search: its discovery number and lowest reachable one.
        let mut num: FxHashMap<At, (u32, u32)> = FxHashMap::default();
        let mut stack: Vec<At> = Vec::new();
        let mut on_stack: FxHashSet<At> = FxHashSet::default();
        // Frames: node, the products with its name and the cursor of the next edge.
        let mut frames: Vec<(At, Option<&Places>, (usize, usize))> =
            vec![(root, self.places_of(root), (0, 0))];
        num.insert(root, (0, 0));
        stack.push(root);
        on_stack.insert(root);
        let mut edges = 0u64;
        while let Some(&mut (node, places, ref mut cur)) = frames.last_mut() {
            match self.next_edge(places, cur) {
                Some(next) => {
                    edges += 1;
                    let Some(next) = next else { continue };
                    if sccs.component.contains_key(&next) {
                        continue; // finished by an earlier search: not on any cycle through here
                    }
                    match num.get(&next) {
                        None => {
                            let n = num.len() as u32;
                            num.insert(next, (n, n));
                            stack.push(next);
                            on_stack.insert(next);
                            frames.push((next, self.places_of(next), (0, 0)));
                        }
                        Some(&(n, _)) if on_stack.contains(&next) => {
                            if let Some(e) = num.get_mut(&node) {
                                e.1 = e.1.min(n);
                            }
                        }
                        Some(_) => {}
                    }
                }
                None => {
                    frames.pop();
                    let (n, low) = num.get(&node).copied().unwrap_or_default();
                    if let Some(&(parent, _, _)) = frames.last() {
                        if let Some(e) = num.get_mut(&parent) {
                            e.1 = e.1.min(low);
                        }
                    }
                    if n == low {
                        let id = sccs.next;
                        sccs.next += 1;
                        while let Some(x) = stack.pop() {
                            on_stack.remove(&x);
                            sccs.component.insert(x, id);
                            if x == node {
                                break;
                            }
                        }
                    }
                }
            }
        }
        self.work.graph.fetch_add(edges, Ordering::Relaxed);
        sccs.component.get(&root).copied().unwrap_or(u32::MAX)
    }

    /// The span of the name at a product's or licence's place.
    fn name_span(&self, kind: Kind, (f, i): At) -> Span {
        let cat = self.files[f].catalogue;
        match kind {
            Kind::Sku => {
                let p = &cat.products[i];
                p.sku.as_ref().map_or(p.header, |x| x.span)
            }
            Kind::Licence => {
                let l = &cat.licences[i];
                l.id.as_ref().map_or(l.header, |x| x.span)
            }
        }
    }

    fn name_at(&self, kind: Kind, (f, i): At) -> &str {
        let cat = self.files[f].catalogue;
        match kind {
            Kind::Sku => cat.products[i].sku_str(),
            Kind::Licence => cat.licences[i].id_str(),
        }
        .unwrap_or_default()
    }

    /// Names defined more than once: one diagnostic per place of this file.
    /// The first place relates to the others (at most [`MAX_RELATED`], the
    /// message says how many more); every other place relates to the first
    /// only, so the output grows with the number of places, not its square.
    fn duplicate_diagnostics(&self, file: usize, out: &mut Vec<Diagnostic>) {
        let mut found = Vec::new();
        for (kind, dups) in [
            (Kind::Sku, self.index.duplicate_skus()),
            (Kind::Licence, self.index.duplicate_licences()),
        ] {
            for all in dups.iter().filter(|all| all.iter().any(|(f, _)| f == file)) {
                let name = self.name_at(kind, all.first);
                let n = all.count();
                let (code, what, fix) = match kind {
                    Kind::Sku => (Code::DuplicateSku, "sku", "give each product its own sku"),
                    Kind::Licence => (
                        Code::DuplicateLicence,
                        "licence id",
                        "products cannot tell which one they use; rename or remove all but one",
                    ),
                };
                for at in all.iter().filter(|(f, _)| *f == file) {
                    let span = self.name_span(kind, at);
                    let mut d = if at == all.first {
                        let others = n - 1;
                        let more = if others > MAX_RELATED {
                            format!(" ({} more not linked)", others - MAX_RELATED)
                        } else {
                            String::new()
                        };
                        let mut d = Diagnostic::new(
                            code,
                            span,
                            format!(
                                "{what} `{name}` is defined {n} times in the workspace; this is the first, the others are linked{more}: {fix}"
                            ),
                        );
                        for o in all.more().iter().take(MAX_RELATED) {
                            d = d.with_related(Related {
                                file: FileRef::Index(FileIndex(o.0)),
                                span: self.name_span(kind, *o),
                                message: "also defined here".into(),
                            });
                        }
                        d
                    } else {
                        Diagnostic::new(code, span, format!("{what} `{name}` is defined {n} times in the workspace; the first is linked: {fix}"))
                            .with_related(Related {
                                file: FileRef::Index(FileIndex(all.first.0)),
                                span: self.name_span(kind, all.first),
                                message: "first defined here".into(),
                            })
                    };
                    if kind == Kind::Sku {
                        d = d.with_sku(Some(name));
                    }
                    found.push(d);
                }
            }
        }
        found.sort_by_key(|d| d.span.start());
        out.extend(found);
    }

    /// Names of this file that look the same as another name of the
    /// workspace (equal TR39 skeletons, different text): each place of a
    /// name that is not plain ASCII relates to the first other name.
    fn lookalike_diagnostics(&self, file: usize, out: &mut Vec<Diagnostic>) {
        for (kind, groups) in [
            (Kind::Sku, self.index.lookalike_skus()),
            (Kind::Licence, self.index.lookalike_licences()),
        ] {
            let what = match kind {
                Kind::Sku => "sku",
                Kind::Licence => "licence id",
            };
            for g in groups {
                for &first in g {
                    let name = self.name_at(kind, first);
                    let shown = ident::shown(name);
                    if !ident::needs_skeleton(name) {
                        continue;
                    }
                    let Some(&other) = g.iter().find(|&&o| o != first) else {
                        continue;
                    };
                    let other_name = ident::shown(self.name_at(kind, other));
                    let places = match kind {
                        Kind::Sku => self.index.sku(&self.cats, name),
                        Kind::Licence => self.index.licence(&self.cats, name),
                    };
                    for at in places
                        .into_iter()
                        .flat_map(|p| p.iter())
                        .filter(|a| a.0 == file)
                    {
                        let mut d = Diagnostic::new(
                            Code::ConfusableIdentifier,
                            self.name_span(kind, at),
                            format!("{what} `{shown}` looks the same as {what} `{other_name}` but is a different name (Unicode look-alike or invisible characters): a reader, or a search, cannot tell them apart; rename one"),
                        )
                        .with_related(Related {
                            file: FileRef::Index(FileIndex(other.0)),
                            span: self.name_span(kind, other),
                            message: format!("`{other_name}` is defined here"),
                        });
                        if kind == Kind::Sku {
                            d = d.with_sku(Some(name));
                        }
                        out.push(d);
                    }
                }
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sku,
    Licence,
}

/// A product's words checked against its pack: form, transfer, purpose and
/// the control code it declares (the parser reads them as written).
/// The date a file's rule pack must be reviewed through: the latest
/// evaluation date of its products (`products`) or `ship_date` of its
/// shipments, each judged on that date (docs/format.md §4a, §6).
/// Sorts a file's diagnostics by start, then code, in the order of a stable
/// sort of the workspace's own (parse, licence, duplicate..., export)
/// diagnostics followed by the products': those are the ones from
/// `from_products` on, and the products' the ones before it. A stable sort
/// of the diagnostics themselves would take a buffer of half of them (80 MB
/// for a million); this sorts their positions (8 bytes each) and moves
/// them along its cycles.
fn sort_diagnostics(diags: &mut [Diagnostic], from_products: usize) {
    let key = |i: usize| {
        let d = &diags[i];
        (d.span.start(), d.code, i < from_products)
    };
    let mut order: Vec<usize> = (0..diags.len()).collect();
    order.sort_by_key(|&i| key(i));
    apply_order(diags, &mut order);
}

/// Rearranges `items` so that `items[k]` is the old `items[order[k]]`
/// (`order` a permutation of the positions; left as the identity).
fn apply_order<T>(items: &mut [T], order: &mut [usize]) {
    for start in 0..items.len() {
        let mut k = start;
        loop {
            let from = order[k];
            order[k] = k;
            if from == start {
                break;
            }
            items.swap(k, from);
            k = from;
        }
    }
}

fn stale_date(products: Option<Date>, cat: &Catalogue) -> Option<Date> {
    let shipments = cat
        .shipments
        .iter()
        .filter_map(|s| s.ship_date.as_ref().map(|d| d.value))
        .max();
    products.max(shipments)
}

fn vocabulary_diagnostics(pack: &RulePack, p: &Product, out: &mut Vec<Diagnostic>) {
    let sku = p.sku_str();
    let v = &pack.vocab;
    if let Some(f) = p.form.as_ref().filter(|f| v.form_of(&f.value).is_none()) {
        out.push(licence::unknown_word("form", f, &v.form_names()).with_sku(sku));
    }
    if let Some(f) = p
        .transfer
        .as_ref()
        .filter(|f| v.transfer(&f.value).is_none())
    {
        out.push(licence::unknown_word("transfer", f, &v.transfer_names()).with_sku(sku));
    }
    if let Some(f) = p.purpose.as_ref().filter(|f| v.purpose(&f.value).is_none()) {
        out.push(licence::unknown_word("purpose", f, &v.purpose_names()).with_sku(sku));
    }
    if let Some(f) = p
        .control_code
        .as_ref()
        .filter(|f| !v.codes.is_code(&f.value))
    {
        out.push(
            Diagnostic::new(Code::InvalidValue, f.span, v.codes.not_a_code(&f.value)).with_sku(sku),
        );
    }
}

/// `unconfirmed-status` (contract §6) for a verdict `c` that rests on a
/// rule whose status on `date` no source confirms: what is assumed, and the
/// verdict under the other reading. For products and for shipments (a
/// shipment judged on its own date can rest on such a rule when its
/// product, on the catalogue's date, does not).
pub(crate) fn unconfirmed_status(
    pack: &RulePack,
    c: &Classification,
    at: Span,
    sku: Option<&str>,
    date: Date,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if let Some(other) = &c.other_reading {
        for a in &c.assumptions {
            // What the pack assumes and what the sources say: the same
            // for every product resting on the instrument, so shared.
            let Some(text) = pack
                .explanations()
                .unconfirmed(pack, a.instrument, a.status)
            else {
                continue;
            };
            let inst = &pack.instruments[a.instrument];
            let rests = if a.codes.is_empty() {
                String::new()
            } else {
                format!(" ({})", a.codes.join(", "))
            };
            let other_codes = if other.codes.is_empty() {
                String::new()
            } else {
                format!(" {}", other.codes.join(", "))
            };
            let head = format!(
                "verdict {}{} rests on {}{rests}, whose status on {date} no source confirms.",
                c.verdict.as_str(),
                if c.codes.is_empty() {
                    String::new()
                } else {
                    format!(" {}", c.codes.join(", "))
                },
                inst.title,
            );
            out.push(
                Diagnostic::new(
                    Code::UnconfirmedStatus,
                    at,
                    format!(
                        "{head} Under the other reading the verdict is {}{other_codes}. Check current {} announcements before relying on either",
                        other.verdict.as_str(),
                        pack.vocab.regulator,
                    ),
                )
                .with_explanation(head.len(), text)
                .with_sku(sku)
                .with_source(match a.status {
                    Status::Unconfirmed { by, .. } => {
                        Some(pack.source(by, &Arc::from("scheduled end of the suspension")))
                    }
                    _ => None,
                }),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Span;

    #[test]
    fn apply_order_moves_each_item_to_its_place() {
        let mut items = vec!['a', 'b', 'c', 'd', 'e', 'f'];
        // Two cycles (0 2 4) (1 5) and a fixed point (3).
        let mut order = vec![2, 5, 4, 3, 0, 1];
        apply_order(&mut items, &mut order);
        assert_eq!(items, vec!['c', 'f', 'e', 'd', 'a', 'b']);
        assert_eq!(order, vec![0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn diagnostics_sort_by_start_then_code_as_a_stable_sort_of_the_workspaces_then_the_products() {
        let d = |start, code, m: &str| Diagnostic::new(code, Span::new(start, start + 1), m);
        // The products' diagnostics first, then the workspace's own.
        let mut diags = vec![
            d(9, Code::ConfusableIdentifier, "late"),
            d(3, Code::RulePackStale, "product, first of equal"),
            d(3, Code::ConfusableIdentifier, "lower code"),
            d(1, Code::RulePackStale, "first"),
            d(3, Code::RulePackStale, "product, second of equal"),
            d(3, Code::RulePackStale, "workspace, first of equal"),
            d(3, Code::RulePackStale, "workspace, second of equal"),
        ];
        let mut expected: Vec<Diagnostic> = diags[5..].iter().chain(&diags[..5]).cloned().collect();
        expected.sort_by_key(|d| (d.span.start(), d.code));
        sort_diagnostics(&mut diags, 5);
        let messages = |v: &[Diagnostic]| v.iter().map(|d| d.message.clone()).collect::<Vec<_>>();
        assert_eq!(messages(&diags), messages(&expected));
        // RulePackStale is declared before ConfusableIdentifier.
        assert_eq!(
            messages(&diags),
            [
                "first",
                "workspace, first of equal",
                "workspace, second of equal",
                "product, first of equal",
                "product, second of equal",
                "lower code",
                "late"
            ]
        );
    }
}
