//! The `check` run: finds and reads catalogue files (through `source`,
//! which reports what it skipped), picks each
//! file's rule pack (a catalogue's own pack confined to the checked paths),
//! runs the engine, and renders the results as human text, the contract's
//! JSON (docs/format.md §8) or SARIF 2.1.0. A run that judged nothing, or could not
//! read a catalogue path, fails (exit 2).

pub mod dossier;
mod exports;
pub mod human;
pub mod json;
pub mod sarif;

/// Kept for `fuzz/` until its targets call [`crate::source::decode`].
pub use crate::source::decode;

use crate::catalogue::{self, Catalogue};
use crate::diagnostic::{Diagnostic, Severity};
use crate::engine::exports::Ledger;
use crate::engine::{Analysis, FileResult, Options, ProductResult, Verdict, Workspace};
use crate::fsread;
use crate::packs::{Confine, Resolver};
use crate::parties::{ListError, PartyList};
use crate::rules::{PackError, RulePack};
use crate::source;
use crate::text::LineIndex;
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One loaded catalogue file.
pub struct LoadedFile {
    /// The path as given or found, for display.
    pub path: String,
    /// Its text; empty in [`check`]'s run, which reads it again when the
    /// reports need it ([`Diagnostics::text`]).
    pub text: String,
    pub lines: LineIndex,
    pub catalogue: Catalogue,
    pub pack: Arc<RulePack>,
    /// Where the text was read and what it was, to read it again.
    origin: Origin,
}

/// A file's path and what its text was (its length and hash): read again,
/// it must be the same text.
struct Origin {
    path: PathBuf,
    len: usize,
    hash: u64,
}

impl Origin {
    fn of(path: PathBuf, text: &str) -> Self {
        Origin {
            path,
            len: text.len(),
            hash: text_hash(text),
        }
    }

    /// The text again, if it is what it was.
    fn read(&self, shown: &str) -> std::io::Result<String> {
        let changed = || {
            std::io::Error::other(format!(
                "{shown} changed while it was checked: check it again"
            ))
        };
        let (text, _) = source::read_text(&self.path)
            .map_err(|e| std::io::Error::other(format!("{shown}: {}", e.message)))?;
        if text.len() != self.len || text_hash(&text) != self.hash {
            return Err(changed());
        }
        Ok(text)
    }
}

fn text_hash(text: &str) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(text.as_bytes());
    h.finish()
}

/// Why a run failed (exit code 2).
#[derive(Debug)]
pub enum RunError {
    Path {
        path: String,
        message: String,
    },
    Pack(PackError),
    Parties(ListError),
    /// No catalogue file was found or could be read: nothing was judged.
    NothingJudged {
        paths: Vec<String>,
        skipped: Vec<fsread::Skip>,
    },
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Path { path, message } => write!(f, "{path}: {message}"),
            RunError::Pack(e) => e.fmt(f),
            RunError::Parties(e) => e.fmt(f),
            RunError::NothingJudged { paths, skipped } => {
                let unread = skipped.iter().filter(|s| s.lost()).count();
                write!(
                    f,
                    "nothing judged: {} under {}; a run that judged nothing is not a pass. Give catalogue files (*.catalogue.toml, catalogue.toml, *.catalogue.csv, *.licences.csv, *.shipments.csv) or folders that hold them",
                    if unread > 0 {
                        format!(
                            "{unread} catalogue path{} could not be read and no other catalogue file was found",
                            plural(unread)
                        )
                    } else {
                        "no catalogue file was found".to_string()
                    },
                    paths.join(", ")
                )
            }
        }
    }
}

/// A finished run: the files, their results, the default pack, and what
/// the search skipped or could not read.
pub struct Run {
    pub files: Vec<LoadedFile>,
    pub results: Vec<FileResult>,
    pub pack: Arc<RulePack>,
    /// The party list the run screened against.
    pub parties: Arc<PartyList>,
    pub skipped: Vec<fsread::Skip>,
}

/// Loads, parses and analyses the files. `rules` overrides every file's pack.
/// Fails only for a bad pack or when no catalogue could be judged; files
/// that could not be read are in [`Run::skipped`] (and fail the run).
pub fn run(paths: &[PathBuf], rules: Option<&Path>, opts: &Options) -> Result<Run, RunError> {
    run_with(paths, rules, None, opts)
}

/// [`run`] screening parties against the list at `parties` (default: the embedded list).
pub fn run_with(
    paths: &[PathBuf],
    rules: Option<&Path>,
    parties: Option<&Path>,
    opts: &Options,
) -> Result<Run, RunError> {
    load_with(paths, rules, parties, true, |mut run| {
        run.results = workspace(&run.files, &run.parties).analyse_all(opts);
        run
    })
}

/// What [`check`] did: the run (its results without diagnostics: those
/// were computed as they were written), what writing returned, and how
/// many errors were written.
pub struct Checked {
    pub run: Run,
    pub written: std::io::Result<()>,
    pub errors: usize,
}

impl Checked {
    /// Exit code of `check`, as [`Run::exit_code`].
    pub fn exit_code(&self) -> i32 {
        self.run.exit_code_with(self.errors)
    }
}

/// The `check` command's run: [`run_with`], but each file's diagnostics
/// are computed chunk by chunk while `write` writes them
/// ([`engine::Workspace::each_diagnostic`](crate::engine::Workspace::each_diagnostic)),
/// never all held at once; `write` gets them from the [`Diagnostics`] it
/// is handed, in the order of a finished run's. `products_first`: the
/// report lists each file's products before its diagnostics (JSON), so
/// they are all classified first; otherwise each product is classified
/// when its diagnostics are computed, in one pass, and the report gets the
/// results after the diagnostics ([`Diagnostics::with_products`]).
pub fn check(
    paths: &[PathBuf],
    rules: Option<&Path>,
    parties: Option<&Path>,
    opts: &Options,
    products_first: bool,
    write: impl FnOnce(&Run, &dyn Diagnostics) -> std::io::Result<()>,
) -> Result<Checked, RunError> {
    load_with(paths, rules, parties, false, |mut run| {
        let ws = workspace(&run.files, &run.parties);
        run.results = if products_first {
            ws.classify_all(opts)
        } else {
            run.files.iter().map(|_| FileResult::default()).collect()
        };
        // The file's own diagnostics now, while the ledger is there: the
        // reports then free it as soon as they have read it (JSON after
        // the last file's licences, the others before they start).
        let own = (0..run.files.len())
            .map(|i| Some(ws.own_diagnostics(i, opts, ws.latest_date(i, opts))))
            .collect();
        let ledger = if products_first {
            run.results
                .iter_mut()
                .fold(None, |l, r| r.ledger.take().or(l))
        } else {
            None
        };
        ws.release_ledger();
        let stream = Stream {
            ws: &ws,
            opts,
            results: &run.results,
            products: RefCell::new(
                (0..run.files.len())
                    .map(|_| (!products_first).then(Vec::new))
                    .collect(),
            ),
            own: RefCell::new(own),
            ledger: RefCell::new(ledger),
            errors: Cell::new(0),
        };
        let written = write(&run, &stream);
        let errors = stream.errors.get();
        let classified = stream.products.into_inner();
        drop(ws);
        for (r, p) in run.results.iter_mut().zip(classified) {
            if let Some(p) = p.filter(|p| !p.is_empty()) {
                r.products = p;
            }
        }
        Checked {
            run,
            written,
            errors,
        }
    })
}

/// The analysis of the loaded files.
fn workspace<'a>(files: &'a [LoadedFile], parties: &Arc<PartyList>) -> Workspace<'a> {
    Analysis::new()
        .judged(files.iter().map(|f| (&f.catalogue, f.pack.clone())))
        .parties(parties.clone())
        .build()
}

/// Where a report's writer gets each file's diagnostics, in order, and the
/// ledger of exports: a finished [`Run`]'s, or `check`'s stream.
pub trait Diagnostics {
    /// Calls `f` with each diagnostic of file `file` in order; stops at its first error.
    fn each(
        &self,
        file: usize,
        f: &mut dyn FnMut(&Diagnostic) -> std::io::Result<()>,
    ) -> std::io::Result<()>;

    /// The exports and licence balances of the run (one for all its files).
    fn ledger(&self) -> Option<Arc<Ledger>>;

    /// The writer will not ask for the ledger again: `check` frees it.
    fn release_ledger(&self) {}

    /// Calls `f` with file `file`'s product results; `check` has them
    /// once the file's diagnostics were handed out (unless it classified
    /// them first), so a report lists them after [`Diagnostics::each`].
    fn with_products(
        &self,
        run: &Run,
        file: usize,
        f: &mut dyn FnMut(&[ProductResult]) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        f(finished_products(run, file))
    }

    /// The text of file `file` of `run`: `check` reads it again (it fails
    /// if the file changed since it was checked).
    fn text<'r>(&self, run: &'r Run, file: usize) -> std::io::Result<Cow<'r, str>> {
        Ok(Cow::Borrowed(
            run.files.get(file).map_or("", |f| f.text.as_str()),
        ))
    }
}

/// File `file`'s product results as the run holds them.
fn finished_products(run: &Run, file: usize) -> &[ProductResult] {
    run.results.get(file).map_or(&[], |r| &r.products[..])
}

impl Diagnostics for Run {
    fn each(
        &self,
        file: usize,
        f: &mut dyn FnMut(&Diagnostic) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        self.results
            .get(file)
            .map_or(&[][..], |r| &r.diagnostics[..])
            .iter()
            .try_for_each(f)
    }

    fn ledger(&self) -> Option<Arc<Ledger>> {
        self.results.iter().find_map(|r| r.ledger.clone())
    }
}

/// `check`'s diagnostics, computed as they are asked for; counts the errors.
struct Stream<'w, 'a> {
    ws: &'w Workspace<'a>,
    opts: &'w Options,
    results: &'w [FileResult],
    /// Each file's product results when they are classified as its
    /// diagnostics are written (`Some` for each file then): filled by
    /// [`Diagnostics::each`].
    products: RefCell<Vec<Option<Vec<ProductResult>>>>,
    /// Each file's own diagnostics, computed before the ledger is freed;
    /// taken when its diagnostics are written.
    own: RefCell<Vec<Option<Vec<Diagnostic>>>>,
    /// The ledger until the writer releases it.
    ledger: RefCell<Option<Arc<Ledger>>>,
    errors: Cell<usize>,
}

impl Stream<'_, '_> {
    /// File `file`'s products are classified as its diagnostics are written.
    fn classifies(&self, file: usize) -> bool {
        self.products
            .borrow()
            .get(file)
            .is_some_and(Option::is_some)
    }
}

impl Diagnostics for Stream<'_, '_> {
    fn each(
        &self,
        file: usize,
        f: &mut dyn FnMut(&Diagnostic) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let Some(r) = self.results.get(file) else {
            return Ok(());
        };
        // Asked twice for a file: its own diagnostics again (the ledger
        // built again if it was freed).
        let own = self
            .own
            .borrow_mut()
            .get_mut(file)
            .and_then(Option::take)
            .unwrap_or_else(|| {
                self.ws
                    .own_diagnostics(file, self.opts, self.ws.latest_date(file, self.opts))
            });
        let mut counted = |d: &Diagnostic| {
            if d.severity == Severity::Error {
                self.errors.set(self.errors.get() + 1);
            }
            f(d)
        };
        if !self.classifies(file) {
            return self.ws.each_diagnostic(file, &r.products, own, counted);
        }
        let products = self
            .ws
            .classify_streaming(file, self.opts, own, &mut counted)?;
        if let Some(slot) = self.products.borrow_mut().get_mut(file) {
            *slot = Some(products);
        }
        Ok(())
    }

    fn with_products(
        &self,
        run: &Run,
        file: usize,
        f: &mut dyn FnMut(&[ProductResult]) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        if !self.classifies(file) {
            return f(finished_products(run, file));
        }
        let missing = self
            .products
            .borrow()
            .get(file)
            .is_some_and(|p| p.as_ref().is_some_and(Vec::is_empty))
            && !self.ws.files[file].catalogue.products.is_empty();
        if missing {
            // Asked before its diagnostics: classified now.
            let products = self.ws.classify_file(file, self.opts);
            if let Some(slot) = self.products.borrow_mut().get_mut(file) {
                *slot = Some(products);
            }
        }
        let products = self.products.borrow();
        f(products.get(file).and_then(Option::as_deref).unwrap_or(&[]))
    }

    fn ledger(&self) -> Option<Arc<Ledger>> {
        let kept = self.ledger.borrow().clone();
        kept.or_else(|| {
            // Asked again after it was freed: built again.
            self.results.first().map(|_| self.ws.ledger(self.opts))
        })
    }

    fn release_ledger(&self) {
        self.ledger.borrow_mut().take();
        self.ws.release_ledger();
    }

    fn text<'r>(&self, run: &'r Run, file: usize) -> std::io::Result<Cow<'r, str>> {
        match run.files.get(file) {
            Some(f) if f.text.is_empty() && f.origin.len > 0 => {
                f.origin.read(&f.path).map(Cow::Owned)
            }
            Some(f) => Ok(Cow::Borrowed(&f.text)),
            None => Ok(Cow::Borrowed("")),
        }
    }
}

/// Loads the files (the party list loads on a thread of its own meanwhile)
/// and hands `finish` the run, its results still empty.
fn load_with<R>(
    paths: &[PathBuf],
    rules: Option<&Path>,
    parties: Option<&Path>,
    keep_text: bool,
    finish: impl FnOnce(Run) -> R,
) -> Result<R, RunError> {
    // The list loads (parse, index) on a thread of its own while the
    // catalogues are read and parsed: its fixed cost is not added to the run.
    std::thread::scope(|scope| {
        let list = scope.spawn(move || match parties {
            Some(p) => PartyList::load(p).map(Arc::new).map_err(RunError::Parties),
            None => Ok(PartyList::embedded()),
        });
        let joined = || -> Result<Arc<PartyList>, RunError> {
            list.join().unwrap_or_else(|_| {
                Err(RunError::Parties(ListError {
                    file: parties
                        .map(fsread::shown)
                        .unwrap_or_else(|| "embedded".into()),
                    line: None,
                    message: "loading the party list failed inside catalogue-lsp".into(),
                }))
            })
        };
        load(paths, rules, joined, keep_text).map(finish)
    })
}

/// Reads and parses the files, resolves their packs, waits for the party list.
fn load(
    paths: &[PathBuf],
    rules: Option<&Path>,
    parties: impl FnOnce() -> Result<Arc<PartyList>, RunError>,
    keep_text: bool,
) -> Result<Run, RunError> {
    // Which pack judges which file: see `packs` (the policy shared with the server).
    let user = match rules {
        Some(p) => Some(Resolver::load_user(p).map_err(RunError::Pack)?),
        None => None,
    };
    let mut packs = Resolver::new(user);
    let found = source::discover(paths);
    let mut skipped = found.skipped;
    // The directories a catalogue's own `rules` pack must lie in (canonical).
    let roots = fsread::canonical_roots(paths);
    let within = fsread::Within {
        roots: &roots,
        scope: "the checked paths",
        advice: "move the pack inside them, or pass it with --rules",
    };
    let mut loaded = Vec::with_capacity(found.files.len());
    for path in found.files {
        let (text, utf8) = match source::read_text(&path) {
            Ok(t) => t,
            Err(e) => {
                skipped.push(fsread::Skip {
                    path,
                    reason: fsread::Reason::Unreadable(e.message),
                });
                continue;
            }
        };
        let mut catalogue = catalogue::Format::of_path(&path).parse(&text);
        if let Some(d) = utf8 {
            catalogue.diagnostics.insert(0, d);
        }
        // A catalogue may only name a pack inside the paths being checked;
        // one that cannot be used stops the run (exit 2).
        let rules = catalogue.catalogue.as_ref().and_then(|c| c.rules.as_ref());
        let pack = packs
            .resolve(Some(&path), rules, Confine::Within(within))
            .map_err(|e| RunError::Path {
                path: path.display().to_string(),
                message: e.message,
            })?;
        let lines = LineIndex::new(&text);
        let origin = Origin::of(path.clone(), &text);
        loaded.push(LoadedFile {
            path: path.display().to_string(),
            // `check` reads it again for its reports: the analysis does
            // not need it (197 MB of a million products).
            text: if keep_text { text } else { String::new() },
            lines,
            catalogue,
            pack,
            origin,
        });
    }
    if !keep_text {
        // The texts just freed go back to the system now: read again for
        // the report, they would otherwise be resident twice until mimalloc
        // purges them (seconds later, unless reused meanwhile).
        // SAFETY: mimalloc only returns memory it holds and no longer uses.
        unsafe { libmimalloc_sys::mi_collect(true) }
    }
    if loaded.is_empty() {
        return Err(RunError::NothingJudged {
            paths: paths.iter().map(|p| fsread::shown(p)).collect(),
            skipped,
        });
    }
    let parties = parties()?;
    Ok(Run {
        files: loaded,
        results: Vec::new(),
        pack: packs.default_pack().clone(),
        parties,
        skipped,
    })
}

use crate::source::plural;

/// Counts for the summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub products: usize,
    pub controlled: usize,
    pub excluded: usize,
    pub not_controlled: usize,
    pub indeterminate: usize,
    pub errors: usize,
    pub warnings: usize,
}

impl Summary {
    /// Counts `products` by verdict.
    pub fn count_products(&mut self, products: &[ProductResult]) {
        for p in products {
            self.products += 1;
            match p.verdict() {
                Verdict::Controlled => self.controlled += 1,
                Verdict::Excluded => self.excluded += 1,
                Verdict::NotControlled => self.not_controlled += 1,
                Verdict::Indeterminate => self.indeterminate += 1,
            }
        }
    }

    /// Counts `d` if it is an error or a warning.
    pub fn count(&mut self, d: &Diagnostic) {
        match d.severity {
            Severity::Error => self.errors += 1,
            Severity::Warning => self.warnings += 1,
            _ => {}
        }
    }
}

impl Run {
    pub fn summary(&self) -> Summary {
        let mut s = self.product_summary();
        for r in &self.results {
            for d in &r.diagnostics {
                s.count(d);
            }
        }
        s
    }

    /// The summary's product counts (its diagnostic counts zero: a writer
    /// adds each diagnostic it writes with [`Summary::count`]).
    pub fn product_summary(&self) -> Summary {
        let mut s = Summary::default();
        for r in &self.results {
            s.count_products(&r.products);
        }
        s
    }

    /// Catalogue paths that could not be read (a folder that could not be
    /// listed, a file that is not a readable regular file...).
    pub fn unread(&self) -> usize {
        self.skipped.iter().filter(|s| s.lost()).count()
    }

    /// Exit code of `check`: 2 when a catalogue path could not be read (the
    /// run is incomplete), else 1 when any error-severity diagnostic, else 0.
    pub fn exit_code(&self) -> i32 {
        self.exit_code_with(self.summary().errors)
    }

    /// [`Run::exit_code`] with `errors` error-severity diagnostics.
    pub fn exit_code_with(&self, errors: usize) -> i32 {
        if self.unread() > 0 {
            2
        } else if errors > 0 {
            1
        } else {
            0
        }
    }
}
