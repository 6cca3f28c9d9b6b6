//! `check`'s analysis in two passes, so that a file's diagnostics are never
//! all held at once (at a million products they were ~350 MB):
//! [`Workspace::classify_all`] classifies every product (the results the
//! reports list, kept), and [`Workspace::each_diagnostic`] then computes
//! the diagnostics chunk by chunk from those results and hands them to the
//! writer one at a time, in exactly the order [`Workspace::analyse_file`]
//! sorts them into.
//!
//! That order is a stable sort by (start, code) of the products'
//! diagnostics, with the file's other diagnostics (parse, licences,
//! duplicates, exports) ahead of them at a tie. A product's diagnostics lie
//! in its own table, which starts at its header (or its span, if earlier),
//! so once the chunks before `c` are in, nothing still to come starts
//! before the smallest header of the products from `c` on: every
//! diagnostic that starts before it can be written.

use super::classify::Classifier;
use super::share::Shared;
use super::workspace::{FileResult, Options, ProductResult, Workspace};
use crate::catalogue::Product;
use crate::diagnostic::{Code, Diagnostic};
use crate::parties::Screener;
use jiff::civil::Date;
use rayon::prelude::*;
use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, PoisonError};

/// Products per chunk, in both passes.
pub(super) const CHUNK: usize = 2048;

/// The sort key of a file's diagnostics (see the module doc).
fn key(d: &Diagnostic) -> (usize, Code) {
    (d.span.start(), d.code)
}

/// Where product `p`'s diagnostics can start at the earliest.
fn floor_of(p: &Product) -> usize {
    p.header.start().min(p.span.start())
}

impl Workspace<'_> {
    /// Every file's products classified (in parallel) and the ledger; the
    /// diagnostics are left empty, for [`Workspace::each_diagnostic`].
    pub fn classify_all(&self, opts: &Options) -> Vec<FileResult> {
        let products: Vec<Vec<ProductResult>> = (0..self.files.len())
            .into_par_iter()
            .map(|f| self.classify_file(f, opts))
            .collect();
        let ledger = (!products.is_empty()).then(|| self.ledger(opts));
        products
            .into_iter()
            .map(|products| FileResult {
                products,
                diagnostics: Vec::new(),
                ledger: ledger.clone(),
            })
            .collect()
    }

    /// Every product of file `file` classified, in order, without its
    /// diagnostics; equal classifications shared (per chunk of the
    /// parallel split, as [`Workspace::analyse_file`] does).
    pub fn classify_file(&self, file: usize, opts: &Options) -> Vec<ProductResult> {
        let n = self.files[file].catalogue.products.len();
        let pack = &*self.files[file].pack;
        (0..n)
            .into_par_iter()
            // A classifier (and its memo) per chunk of at most CHUNK
            // products: a memo of the whole split was ~60 MB at a million.
            .with_min_len(CHUNK)
            .with_max_len(CHUNK)
            .map_init(
                || (Classifier::new(pack, self, opts.explain), Shared::default()),
                |(classifier, shared), i| {
                    let mut r = self.product_classified(file, i, classifier, opts);
                    r.classification = shared.intern(r.classification);
                    r
                },
            )
            .collect()
    }

    /// The latest evaluation date of file `file`'s products (what
    /// [`Workspace::own_diagnostics`] needs), without classifying them.
    pub fn latest_date(&self, file: usize, opts: &Options) -> Option<Date> {
        let cat = self.files[file].catalogue;
        cat.products
            .iter()
            .map(|p| self.evaluation_date(file, p, opts))
            .max()
    }

    /// File `file`'s own diagnostics, those that are no product's (parse
    /// errors, licences, duplicates, a stale pack, its exports: the ledger
    /// is built if it is not), sorted for [`Workspace::each_diagnostic`];
    /// `latest` is the latest evaluation date of its products
    /// ([`Workspace::latest_date`]).
    pub fn own_diagnostics(
        &self,
        file: usize,
        opts: &Options,
        latest: Option<Date>,
    ) -> Vec<Diagnostic> {
        let mut own = self.file_diagnostics(file, latest);
        own.extend(self.export_diagnostics(file, opts));
        own.sort_by_key(key);
        own
    }

    /// File `file`'s diagnostics, one at a time to `sink`, in the order of
    /// [`Workspace::analyse_file`]: its `own` ones (from
    /// [`Workspace::own_diagnostics`]) and its products', computed from
    /// `products`, its results from [`Workspace::classify_file`] (the
    /// ledger is not needed). The products' diagnostics are computed by as
    /// many threads as the pool has, a chunk at a time, at most a few
    /// chunks ahead of the writer. Stops at the first error of `sink`.
    pub fn each_diagnostic<E>(
        &self,
        file: usize,
        products: &[ProductResult],
        own: Vec<Diagnostic>,
        sink: impl FnMut(&Diagnostic) -> Result<(), E>,
    ) -> Result<(), E> {
        let cat = self.files[file].catalogue;
        let make = |c: usize| {
            let mut screener = Screener::new(self.parties());
            let mut out = Vec::new();
            for r in &products[c * CHUNK..products.len().min((c + 1) * CHUNK)] {
                if let Some(p) = cat.products.get(r.index) {
                    self.product_diagnostics(file, p, r.as_of, &r.classification, &mut out);
                    self.screen_product(file, p, r.as_of, &mut screener, &mut out);
                }
            }
            ((), out)
        };
        self.stream_chunks(file, products.len(), own, make, |()| {}, sink)
    }

    /// [`Workspace::classify_file`] and [`Workspace::each_diagnostic`] in
    /// one pass, as [`Workspace::analyse_file`] computes them (each
    /// product's diagnostics right after its classification, while what it
    /// looked up is at hand): for a report that lists the products after
    /// their diagnostics, or not at all. Returns the products' results.
    pub fn classify_streaming<E>(
        &self,
        file: usize,
        opts: &Options,
        own: Vec<Diagnostic>,
        sink: impl FnMut(&Diagnostic) -> Result<(), E>,
    ) -> Result<Vec<ProductResult>, E> {
        let n = self.files[file].catalogue.products.len();
        let make = |c: usize| self.classify_chunk(file, c * CHUNK..n.min((c + 1) * CHUNK), opts);
        let mut products = Vec::with_capacity(n);
        self.stream_chunks(file, n, own, make, |mut p| products.append(&mut p), sink)?;
        Ok(products)
    }

    /// The products of file `file` (`n` of them) in chunks of [`CHUNK`]:
    /// `make(c)` computes chunk `c` (something for `take`, and its
    /// products' diagnostics), in parallel and handed over in order; the
    /// diagnostics are merged with `own` and written to `sink` as soon as
    /// nothing still to come can go before them.
    fn stream_chunks<T: Send, E>(
        &self,
        file: usize,
        n: usize,
        own: Vec<Diagnostic>,
        make: impl Fn(usize) -> (T, Vec<Diagnostic>) + Sync,
        mut take: impl FnMut(T),
        mut sink: impl FnMut(&Diagnostic) -> Result<(), E>,
    ) -> Result<(), E> {
        let cat = self.files[file].catalogue;
        let n = n.min(cat.products.len());
        let chunks = n.div_ceil(CHUNK);
        // floors[c]: the earliest start of any diagnostic of chunk c or later.
        let mut floors = vec![usize::MAX; chunks + 1];
        for c in (0..chunks).rev() {
            let here = cat.products[c * CHUNK..n.min((c + 1) * CHUNK)]
                .iter()
                .map(|p| floor_of(p))
                .min()
                .unwrap_or(usize::MAX);
            floors[c] = here.min(floors[c + 1]);
        }
        let bin: Mutex<Vec<Vec<Diagnostic>>> = Mutex::default();
        let make = |c: usize| {
            let spent = std::mem::take(&mut *bin.lock().unwrap_or_else(PoisonError::into_inner));
            drop(spent);
            let (t, mut out) = make(c);
            out.sort_by_key(key);
            (t, out)
        };
        let mut merge = Merge {
            own: own.into(),
            pending: VecDeque::new(),
            spent: Vec::new(),
        };
        let threads = rayon::current_num_threads();
        in_order(chunks, threads, 2 * threads + 2, make, |c, (t, part)| {
            take(t);
            merge.add(part);
            let r = merge.emit_below(floors[c + 1], &mut sink);
            let spent = std::mem::take(&mut merge.spent);
            bin.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(spent);
            r
        })?;
        merge.emit_all(&mut sink)
    }
}

/// The two sorted streams of a file's diagnostics: its own (all known
/// from the start) and the products' received so far.
struct Merge {
    own: VecDeque<Diagnostic>,
    pending: VecDeque<Diagnostic>,
    /// Those written, to be freed by the threads that make the chunks
    /// (most were allocated there: freed on the writer's thread they cost
    /// mimalloc's slower cross-thread frees, and the writer's time).
    spent: Vec<Diagnostic>,
}

impl Merge {
    /// A chunk's products' diagnostics, sorted: after those received before
    /// at a tie (a stable sort of all of them would put them there).
    fn add(&mut self, part: Vec<Diagnostic>) {
        let in_order = match (self.pending.back(), part.first()) {
            (Some(last), Some(first)) => key(last) <= key(first),
            _ => true,
        };
        if in_order {
            self.pending.extend(part);
            return;
        }
        let old = std::mem::take(&mut self.pending);
        let mut old = old.into_iter().peekable();
        let mut new = part.into_iter().peekable();
        let mut merged = VecDeque::with_capacity(old.len() + new.len());
        loop {
            let take_old = match (old.peek(), new.peek()) {
                (Some(a), Some(b)) => key(a) <= key(b),
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            merged.extend(if take_old { old.next() } else { new.next() });
        }
        self.pending = merged;
    }

    /// Writes, in order, every diagnostic that starts before `limit`: the
    /// file's own first at a tie.
    fn emit_below<E>(
        &mut self,
        limit: usize,
        sink: &mut impl FnMut(&Diagnostic) -> Result<(), E>,
    ) -> Result<(), E> {
        loop {
            let take_own = match (self.own.front(), self.pending.front()) {
                (Some(a), Some(b)) => key(a) <= key(b),
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => return Ok(()),
            };
            let from = if take_own {
                &mut self.own
            } else {
                &mut self.pending
            };
            if from.front().is_some_and(|d| d.span.start() >= limit) {
                return Ok(());
            }
            if let Some(d) = from.pop_front() {
                sink(&d)?;
                self.spent.push(d);
            }
        }
    }

    /// Writes everything left, in order.
    fn emit_all<E>(
        &mut self,
        sink: &mut impl FnMut(&Diagnostic) -> Result<(), E>,
    ) -> Result<(), E> {
        self.emit_below(usize::MAX, sink)?;
        // Only a start of usize::MAX is left (none: spans are 32-bit).
        for d in self.own.drain(..).chain(self.pending.drain(..)) {
            sink(&d)?;
        }
        Ok(())
    }
}

/// Runs `make(c)` for every chunk `c < chunks` on `threads` threads and
/// hands each result to `consume` on this thread, in chunk order. A thread
/// claims a chunk only while it is fewer than `window` chunks ahead of the
/// one `consume` waits for, so at most `window` results are held at once
/// however slow one chunk or the consumer is. Stops at the first error of
/// `consume`; a panic in `make` is raised here.
pub(super) fn in_order<T: Send, E>(
    chunks: usize,
    threads: usize,
    window: usize,
    make: impl Fn(usize) -> T + Sync,
    mut consume: impl FnMut(usize, T) -> Result<(), E>,
) -> Result<(), E> {
    let window = window.max(1);
    let threads = threads.clamp(1, chunks.max(1));
    if chunks <= 1 || threads == 1 && window == 1 {
        for c in 0..chunks {
            consume(c, make(c))?;
        }
        return Ok(());
    }
    struct State<T> {
        /// The next chunk to claim.
        claim: usize,
        /// The next chunk `consume` takes.
        taken: usize,
        /// Results not yet taken, by chunk - `taken`.
        ready: VecDeque<Option<T>>,
        /// The consumer stopped, or a thread panicked.
        stop: bool,
        panicked: bool,
    }
    let state = Mutex::new(State::<T> {
        claim: 0,
        taken: 0,
        ready: VecDeque::new(),
        stop: false,
        panicked: false,
    });
    let changed = Condvar::new();
    let lock = || state.lock().unwrap_or_else(PoisonError::into_inner);
    /// Tells the consumer when its thread unwinds, so it does not wait for
    /// a chunk that will never come.
    struct OnPanic<'a, T>(&'a Mutex<State<T>>, &'a Condvar);
    impl<T> Drop for OnPanic<'_, T> {
        fn drop(&mut self) {
            if std::thread::panicking() {
                let mut s = self.0.lock().unwrap_or_else(PoisonError::into_inner);
                s.stop = true;
                s.panicked = true;
                self.1.notify_all();
            }
        }
    }
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let _guard = OnPanic(&state, &changed);
                loop {
                    let c = {
                        let mut s = lock();
                        while !s.stop && s.claim < chunks && s.claim >= s.taken + window {
                            s = changed.wait(s).unwrap_or_else(PoisonError::into_inner);
                        }
                        if s.stop || s.claim >= chunks {
                            return;
                        }
                        s.claim += 1;
                        s.claim - 1
                    };
                    let part = make(c);
                    let mut s = lock();
                    let at = c - s.taken;
                    while s.ready.len() <= at {
                        s.ready.push_back(None);
                    }
                    s.ready[at] = Some(part);
                    changed.notify_all();
                }
            });
        }
        let stop = |s: &mut State<T>| {
            s.stop = true;
            changed.notify_all();
        };
        // A panic in `consume` stops the threads too: the scope waits for
        // them before it raises the panic, and one waiting for room in the
        // window would wait forever.
        let _consumer = OnPanic(&state, &changed);
        for c in 0..chunks {
            let part = {
                let mut s = lock();
                loop {
                    if s.panicked {
                        // The scope raises the thread's panic when it ends.
                        return Ok(());
                    }
                    if let Some(p) = s.ready.front_mut().and_then(Option::take) {
                        s.ready.pop_front();
                        s.taken += 1;
                        changed.notify_all();
                        break p;
                    }
                    s = changed.wait(s).unwrap_or_else(PoisonError::into_inner);
                }
            };
            if let Err(e) = consume(c, part) {
                stop(&mut lock());
                return Err(e);
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Chunks come out in order whatever order they are finished in, and
    /// no more than `window` are made ahead of the consumer even when the
    /// first chunk is the slowest.
    #[test]
    fn chunks_are_consumed_in_order_within_the_window() {
        for (threads, window) in [(1, 1), (2, 1), (2, 3), (4, 6), (3, 2)] {
            let made = AtomicUsize::new(0);
            let consumed = AtomicUsize::new(0);
            let most_ahead = AtomicUsize::new(0);
            let mut order = Vec::new();
            let r: Result<(), ()> = in_order(
                40,
                threads,
                window,
                |c| {
                    if c == 0 {
                        // The first chunk waits until the others could have
                        // run far ahead (bounded: the window stops them).
                        for _ in 0..200 {
                            std::thread::yield_now();
                        }
                    }
                    let m = made.fetch_add(1, Ordering::SeqCst) + 1;
                    let ahead = m - consumed.load(Ordering::SeqCst);
                    most_ahead.fetch_max(ahead, Ordering::SeqCst);
                    c * 10
                },
                |c, v| {
                    assert_eq!(v, c * 10);
                    order.push(c);
                    consumed.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                },
            );
            assert!(r.is_ok());
            assert_eq!(order, (0..40).collect::<Vec<_>>());
            let ahead = most_ahead.load(Ordering::SeqCst);
            // A thread may claim the next chunk as soon as one is taken,
            // before the consumer has counted it: one more.
            assert!(
                ahead <= window + 1,
                "{threads} threads, window {window}: {ahead} chunks made ahead"
            );
        }
    }

    /// The consumer's error stops the run: no chunk is taken after it.
    #[test]
    fn an_error_stops_the_chunks() {
        let mut seen = 0;
        let r = in_order(
            1000,
            2,
            4,
            |c| c,
            |c, _| {
                seen += 1;
                if c == 5 { Err(c) } else { Ok(()) }
            },
        );
        assert_eq!(r, Err(5));
        assert_eq!(seen, 6);
    }

    /// A panic while making a chunk is raised, not waited on forever.
    #[test]
    fn a_panic_in_a_chunk_is_raised() {
        let r = std::panic::catch_unwind(|| {
            let _ = in_order(
                50,
                2,
                4,
                |c| {
                    if c == 3 {
                        panic!("chunk 3");
                    }
                    c
                },
                |_, _| Ok::<(), ()>(()),
            );
        });
        assert!(r.is_err());
    }

    /// A panic in the consumer is raised too, and does not leave the
    /// threads waiting for room in the window (the scope would wait for
    /// them forever).
    #[test]
    fn a_panic_in_the_consumer_is_raised_not_waited_on() {
        for threads in [1, 2, 4] {
            let r = std::panic::catch_unwind(|| {
                let _ = in_order(
                    50,
                    threads,
                    1,
                    |c| c,
                    |c, _| {
                        if c == 1 {
                            panic!("consumer at chunk 1");
                        }
                        Ok::<(), ()>(())
                    },
                );
            });
            assert!(r.is_err(), "{threads} threads");
        }
    }
}
