//! Where each SKU, licence id and component reference of a set of files is:
//! (file, index) positions hashed by the name they hold. It borrows nothing,
//! so the language server keeps it between edits that move no name, and it
//! is only ever used with the catalogues it was built from.

use super::ident;
use crate::catalogue::Catalogue;
use crate::diagnostic::Suggestions;
use hashbrown::HashTable;
use rustc_hash::FxHashMap;
use std::hash::BuildHasher;
use std::sync::OnceLock;

/// A product or licence: (file, index in that file's list).
pub type At = (usize, usize);

/// Where one name is defined, in (file, index) order. The first needs no
/// allocation (most names are defined once); the others are boxed, so an
/// entry of the SKU table is 24 bytes, not 40 (a million SKUs: a table of
/// 2 million slots, 52 MB instead of 86, held while `check` analyses).
#[derive(Clone, Debug)]
pub struct Places {
    pub first: At,
    #[expect(
        clippy::box_collection,
        reason = "one pointer in every entry; a Vec would be three"
    )]
    more: Option<Box<Vec<At>>>,
}

impl Places {
    fn new(at: At) -> Self {
        Places {
            first: at,
            more: None,
        }
    }

    /// Places from a list in (file, index) order (None when empty).
    fn sorted(mut v: Vec<At>) -> Option<Self> {
        if v.is_empty() {
            return None;
        }
        let first = v.remove(0);
        Some(Places {
            first,
            more: (!v.is_empty()).then(|| Box::new(v)),
        })
    }

    /// The places after the first.
    pub fn more(&self) -> &[At] {
        self.more.as_deref().map_or(&[], Vec::as_slice)
    }

    fn push(&mut self, at: At) {
        self.more.get_or_insert_with(Box::default).push(at);
    }

    /// How many places (never zero).
    pub fn count(&self) -> usize {
        1 + self.more().len()
    }

    pub fn iter(&self) -> impl Iterator<Item = At> + '_ {
        std::iter::once(self.first).chain(self.more().iter().copied())
    }
}

/// A component reference: the name written in `components` and the
/// products that write it.
#[derive(Clone, Debug)]
struct Parents {
    /// One product naming it and the position of the name in its list.
    named_at: (At, usize),
    products: Vec<At>,
}

/// The hashes of the names one file held when the index was built, so an
/// update can find its old entries after the file changed (its positions
/// then read new names).
#[derive(Clone, Default)]
struct FileNames {
    skus: Vec<Option<u64>>,
    licences: Vec<Option<u64>>,
    /// (product, hash of a component name), in product order.
    comps: Vec<(usize, u64)>,
}

impl FileNames {
    fn of(c: &Catalogue) -> Self {
        FileNames {
            skus: c.products.iter().map(|p| p.sku_str().map(hash)).collect(),
            licences: c.licences.iter().map(|l| l.id_str().map(hash)).collect(),
            comps: c
                .products
                .iter()
                .enumerate()
                .flat_map(|(i, p)| {
                    p.components
                        .iter()
                        .flat_map(|c| c.value.iter())
                        .map(move |c| (i, hash(&c.value)))
                })
                .collect(),
        }
    }

    /// The hash of the `k`th component name of product `i`.
    fn component(&self, i: usize, k: usize) -> Option<u64> {
        let from = self.comps.partition_point(|&(p, _)| p < i);
        self.comps[from..]
            .get(k)
            .filter(|&&(p, _)| p == i)
            .map(|&(_, h)| h)
    }
}

/// Names an edit changed, laid over a "did you mean" index built before it
/// (see [`Suggestions::nearest_merged`]): the base's places in `stale`
/// files are skipped, as are the names in `names`, which are indexed apart.
#[derive(Default)]
struct Overlay {
    stale: Vec<usize>,
    names: rustc_hash::FxHashSet<Box<str>>,
    /// The index of those of `names` that still exist, built when needed.
    delta: OnceLock<(Vec<Box<str>>, Suggestions)>,
}

impl Overlay {
    /// Notes an update of file `f` that touched `names`.
    fn add(&mut self, f: usize, names: impl IntoIterator<Item = Box<str>>) {
        if !self.stale.contains(&f) {
            self.stale.push(f);
        }
        self.names.extend(names);
        self.delta = OnceLock::new();
    }
}

#[derive(Default)]
pub struct Index {
    /// Names put in or taken out of the tables and "did you mean" indexes,
    /// for complexity tests (a count, not a time).
    work: std::sync::atomic::AtomicU64,
    over_skus: Option<Overlay>,
    over_licences: Option<Overlay>,
    /// The names of each file as indexed (see [`Index::updated`]).
    files: Vec<FileNames>,
    /// No SKU (licence id) needs a TR39 skeleton: no lookalikes to look for.
    plain_skus: bool,
    plain_licences: bool,
    skus: HashTable<Places>,
    licences: HashTable<Places>,
    parents: HashTable<Parents>,
    /// The names defined more than once, by their first place.
    dup_skus: Vec<Places>,
    dup_licences: Vec<Places>,
    /// Distinct names that look the same (equal TR39 skeletons, different
    /// text), each group by the first places of its names in (file, index)
    /// order; only groups with a name that is not plain ASCII.
    lookalike_skus: Vec<Vec<At>>,
    lookalike_licences: Vec<Vec<At>>,
    /// "Did you mean" indexes, built on the first unknown name.
    suggest_skus: OnceLock<(Vec<At>, Suggestions)>,
    suggest_licences: OnceLock<(Vec<At>, Suggestions)>,
}

impl Clone for Index {
    /// A copy without its "did you mean" indexes (built again when needed).
    fn clone(&self) -> Self {
        Index {
            files: self.files.clone(),
            plain_skus: self.plain_skus,
            plain_licences: self.plain_licences,
            skus: self.skus.clone(),
            licences: self.licences.clone(),
            parents: self.parents.clone(),
            dup_skus: self.dup_skus.clone(),
            dup_licences: self.dup_licences.clone(),
            lookalike_skus: self.lookalike_skus.clone(),
            lookalike_licences: self.lookalike_licences.clone(),
            suggest_skus: OnceLock::new(),
            suggest_licences: OnceLock::new(),
            work: std::sync::atomic::AtomicU64::new(self.work()),
            over_skus: None,
            over_licences: None,
        }
    }
}

/// The names defined more than once, in first-place order.
fn duplicates(table: &HashTable<Places>) -> Vec<Places> {
    let mut v: Vec<Places> = table.iter().filter(|p| p.count() > 1).cloned().collect();
    v.sort_unstable_by_key(|p| p.first);
    v
}

/// The groups of distinct names with one skeleton, when some name is not
/// plain ASCII (otherwise nothing is computed).
fn lookalikes<'n>(table: &HashTable<Places>, name_of: impl Fn(At) -> &'n str) -> Vec<Vec<At>> {
    if table
        .iter()
        .all(|p| !ident::needs_skeleton(name_of(p.first)))
    {
        return Vec::new();
    }
    let mut groups: FxHashMap<String, Vec<At>> = FxHashMap::default();
    for p in table.iter() {
        groups
            .entry(ident::skeleton(name_of(p.first)))
            .or_default()
            .push(p.first);
    }
    let mut out: Vec<Vec<At>> = groups
        .into_values()
        .filter(|g| g.len() > 1 && g.iter().any(|&a| ident::needs_skeleton(name_of(a))))
        .map(|mut g| {
            g.sort_unstable();
            g
        })
        .collect();
    out.sort_unstable();
    out
}

/// A "did you mean" index of the names of a table, by their first places.
fn suggestions<'n>(
    table: &HashTable<Places>,
    name_of: impl Fn(At) -> &'n str,
) -> (Vec<At>, Suggestions) {
    let at: Vec<At> = table.iter().map(|p| p.first).collect();
    let names: Vec<&str> = at.iter().map(|&a| name_of(a)).collect();
    let s = Suggestions::new(&names);
    (at, s)
}

/// Removes the places `ours` picks from the entries of hash `h` (an entry
/// left without places goes).
/// Returns the first places of the entries left, and the places visited.
fn drop_places(
    table: &mut HashTable<Places>,
    h: u64,
    ours: impl Fn(At) -> bool,
) -> (Vec<At>, usize) {
    let (mut left, mut visited) = (Vec::new(), 0);
    while let Ok(mut e) = table.find_entry(h, |p| p.iter().any(&ours)) {
        visited += e.get().count();
        let rest: Vec<At> = e.get().iter().filter(|&a| !ours(a)).collect();
        match Places::sorted(rest) {
            Some(p) => {
                left.push(p.first);
                *e.get_mut() = p;
            }
            None => {
                e.remove();
            }
        }
    }
    (left, visited)
}

/// Adds the places `at` (in order) to those of `name`.
fn merge_places<'n>(
    table: &mut HashTable<Places>,
    name: &str,
    at: Vec<At>,
    name_of: impl Fn(At) -> &'n str,
) {
    let h = hash(name);
    match table.entry(h, |p| name_of(p.first) == name, |p| hash(name_of(p.first))) {
        hashbrown::hash_table::Entry::Occupied(mut o) => {
            let mut all: Vec<At> = o.get().iter().chain(at).collect();
            all.sort_unstable();
            if let Some(p) = Places::sorted(all) {
                *o.get_mut() = p;
            }
        }
        hashbrown::hash_table::Entry::Vacant(v) => {
            if let Some(p) = Places::sorted(at) {
                v.insert(p);
            }
        }
    }
}

/// Lays the names an update of file `f` touched over a "did you mean"
/// index built before it, or drops both when they are no longer small.
fn overlay(
    base: &mut OnceLock<(Vec<At>, Suggestions)>,
    over: &mut Option<Overlay>,
    f: usize,
    touched: Vec<Box<str>>,
    names: usize,
) {
    if base.get().is_none() {
        *over = None;
        return;
    }
    let o = over.get_or_insert_with(Overlay::default);
    o.add(f, touched);
    if o.names.len() > names / 4 + 256 {
        *base = OnceLock::new();
        *over = None;
    }
}

fn hash(name: &str) -> u64 {
    rustc_hash::FxBuildHasher.hash_one(name)
}

/// The names an index is about, read from the catalogues it was built from.
struct Names<'c>(&'c [&'c Catalogue]);

impl<'c> Names<'c> {
    fn sku(&self, (f, i): At) -> &'c str {
        self.0[f].products[i].sku_str().unwrap_or_default()
    }
    fn licence(&self, (f, i): At) -> &'c str {
        self.0[f].licences[i].id_str().unwrap_or_default()
    }
    fn component(&self, ((f, i), k): (At, usize)) -> &'c str {
        self.0[f].products[i]
            .components
            .as_ref()
            .and_then(|c| c.value.get(k))
            .map_or("", |c| c.value.as_str())
    }
}

/// Adds `at` to the places of `name` (`name_of` reads a place's name).
fn add<'n>(table: &mut HashTable<Places>, name: &str, at: At, name_of: impl Fn(At) -> &'n str) {
    let h = hash(name);
    match table.entry(h, |p| name_of(p.first) == name, |p| hash(name_of(p.first))) {
        hashbrown::hash_table::Entry::Occupied(mut o) => o.get_mut().push(at),
        hashbrown::hash_table::Entry::Vacant(v) => {
            v.insert(Places::new(at));
        }
    }
}

impl Index {
    /// Indexes every product SKU, licence id and component reference.
    pub fn build(cats: &[&Catalogue]) -> Index {
        let names = Names(cats);
        let products: usize = cats.iter().map(|c| c.products.len()).sum();
        let licences: usize = cats.iter().map(|c| c.licences.len()).sum();
        let mut ix = Index {
            skus: HashTable::with_capacity(products),
            licences: HashTable::with_capacity(licences),
            ..Index::default()
        };
        for (f, c) in cats.iter().enumerate() {
            for (i, p) in c.products.iter().enumerate() {
                if let Some(s) = p.sku_str() {
                    add(&mut ix.skus, s, (f, i), |at| names.sku(at));
                }
                for (k, comp) in p.components.iter().flat_map(|c| c.value.iter()).enumerate() {
                    let name = comp.value.as_str();
                    let entry = ix.parents.entry(
                        hash(name),
                        |e| names.component(e.named_at) == name,
                        |e| hash(names.component(e.named_at)),
                    );
                    match entry {
                        hashbrown::hash_table::Entry::Occupied(mut o) => {
                            let v = &mut o.get_mut().products;
                            if v.last() != Some(&(f, i)) {
                                v.push((f, i));
                            }
                        }
                        hashbrown::hash_table::Entry::Vacant(v) => {
                            v.insert(Parents {
                                named_at: ((f, i), k),
                                products: vec![(f, i)],
                            });
                        }
                    }
                }
            }
            for (i, l) in c.licences.iter().enumerate() {
                if let Some(id) = l.id_str() {
                    add(&mut ix.licences, id, (f, i), |at| names.licence(at));
                }
            }
        }
        ix.dup_skus = duplicates(&ix.skus);
        ix.dup_licences = duplicates(&ix.licences);
        ix.lookalike_skus = lookalikes(&ix.skus, |at| names.sku(at));
        ix.lookalike_licences = lookalikes(&ix.licences, |at| names.licence(at));
        ix.files = cats.iter().map(|c| FileNames::of(c)).collect();
        ix.count(products + licences);
        ix.plain_skus = ix
            .skus
            .iter()
            .all(|p| !ident::needs_skeleton(names.sku(p.first)));
        ix.plain_licences = ix
            .licences
            .iter()
            .all(|p| !ident::needs_skeleton(names.licence(p.first)));
        ix
    }

    /// This index brought up to date with `cats`, which are the catalogues
    /// it was built from except file `f`, which changed: equal to
    /// `Index::build(cats)`, at the cost of file `f`'s names and the places
    /// of the names it shares (a rename in one file of a large workspace
    /// does not index the workspace again). The lists of duplicates are
    /// recollected from the tables (a pass without hashing); the "did you
    /// mean" indexes are built again when first needed.
    pub fn updated(mut self, cats: &[&Catalogue], f: usize) -> Index {
        let Some(old) = self.files.get(f).cloned() else {
            return Index::build(cats);
        };
        if self.files.len() != cats.len() {
            return Index::build(cats);
        }
        let names = Names(cats);
        let cat = cats[f];
        // Take file `f`'s old places out (their names are known by hash only).
        let mut old_skus: Vec<u64> = old.skus.iter().flatten().copied().collect();
        old_skus.sort_unstable();
        old_skus.dedup();
        let mut work = 0;
        let mut left_skus = Vec::new();
        for h in old_skus {
            let ours = |a: At| a.0 == f && old.skus.get(a.1).copied().flatten() == Some(h);
            let (left, visited) = drop_places(&mut self.skus, h, ours);
            left_skus.extend(left);
            work += visited;
        }
        let mut old_ids: Vec<u64> = old.licences.iter().flatten().copied().collect();
        old_ids.sort_unstable();
        old_ids.dedup();
        let mut left_ids = Vec::new();
        for h in old_ids {
            let ours = |a: At| a.0 == f && old.licences.get(a.1).copied().flatten() == Some(h);
            let (left, visited) = drop_places(&mut self.licences, h, ours);
            left_ids.extend(left);
            work += visited;
        }
        let mut old_comps: Vec<u64> = old.comps.iter().map(|c| c.1).collect();
        old_comps.sort_unstable();
        old_comps.dedup();
        for h in old_comps {
            loop {
                let found = self.parents.find_entry(h, |e| {
                    e.products.iter().any(|a| a.0 == f)
                        && if e.named_at.0.0 == f {
                            old.component(e.named_at.0.1, e.named_at.1) == Some(h)
                        } else {
                            hash(names.component(e.named_at)) == h
                        }
                });
                let Ok(mut e) = found else { break };
                let parents = e.get_mut();
                parents.products.retain(|a| a.0 != f);
                let Some(&first) = parents.products.first() else {
                    e.remove();
                    continue;
                };
                if parents.named_at.0.0 == f {
                    let k = cats[first.0].products[first.1]
                        .components
                        .iter()
                        .flat_map(|c| c.value.iter())
                        .position(|c| hash(&c.value) == h)
                        .unwrap_or(0);
                    parents.named_at = (first, k);
                }
            }
        }
        // Put its new names in, each name's places merged in (file, index) order.
        let mut skus: FxHashMap<&str, Vec<At>> = FxHashMap::default();
        let mut comps: FxHashMap<&str, Vec<(At, usize)>> = FxHashMap::default();
        for (i, p) in cat.products.iter().enumerate() {
            if let Some(s) = p.sku_str() {
                skus.entry(s).or_default().push((f, i));
            }
            for (k, c) in p.components.iter().flat_map(|c| c.value.iter()).enumerate() {
                let v = comps.entry(c.value.as_str()).or_default();
                if v.last().is_none_or(|l| l.0 != (f, i)) {
                    v.push(((f, i), k));
                }
            }
        }
        let mut ids: FxHashMap<&str, Vec<At>> = FxHashMap::default();
        for (i, l) in cat.licences.iter().enumerate() {
            if let Some(id) = l.id_str() {
                ids.entry(id).or_default().push((f, i));
            }
        }
        // The names whose places changed, for the "did you mean" overlays.
        let touched_skus: Vec<Box<str>> = left_skus
            .iter()
            .map(|&a| names.sku(a))
            .chain(skus.keys().copied())
            .map(Box::from)
            .collect();
        let touched_ids: Vec<Box<str>> = left_ids
            .iter()
            .map(|&a| names.licence(a))
            .chain(ids.keys().copied())
            .map(Box::from)
            .collect();
        for (name, at) in skus {
            work += at.len();
            merge_places(&mut self.skus, name, at, |a| names.sku(a));
        }
        for (name, at) in ids {
            work += at.len();
            merge_places(&mut self.licences, name, at, |a| names.licence(a));
        }
        for (name, at) in comps {
            let h = hash(name);
            match self.parents.entry(
                h,
                |e| names.component(e.named_at) == name,
                |e| hash(names.component(e.named_at)),
            ) {
                hashbrown::hash_table::Entry::Occupied(mut o) => {
                    let v = &mut o.get_mut().products;
                    v.extend(at.iter().map(|a| a.0));
                    v.sort_unstable();
                    v.dedup();
                }
                hashbrown::hash_table::Entry::Vacant(v) => {
                    v.insert(Parents {
                        named_at: at[0],
                        products: at.iter().map(|a| a.0).collect(),
                    });
                }
            }
        }
        self.dup_skus = duplicates(&self.skus);
        self.dup_licences = duplicates(&self.licences);
        let plain = |name: Option<&str>| !name.is_some_and(ident::needs_skeleton);
        self.plain_skus = self.plain_skus && cat.products.iter().all(|p| plain(p.sku_str()));
        self.plain_licences = self.plain_licences && cat.licences.iter().all(|l| plain(l.id_str()));
        self.lookalike_skus = if self.plain_skus {
            Vec::new()
        } else {
            lookalikes(&self.skus, |at| names.sku(at))
        };
        self.lookalike_licences = if self.plain_licences {
            Vec::new()
        } else {
            lookalikes(&self.licences, |at| names.licence(at))
        };
        self.files[f] = FileNames::of(cat);
        // "Did you mean": a base index built before is kept, with the names
        // this update touched laid over it, until they are a quarter of it.
        let sku_count = self.skus.len();
        overlay(
            &mut self.suggest_skus,
            &mut self.over_skus,
            f,
            touched_skus,
            sku_count,
        );
        let id_count = self.licences.len();
        overlay(
            &mut self.suggest_licences,
            &mut self.over_licences,
            f,
            touched_ids,
            id_count,
        );
        self.count(work + cat.products.len() + cat.licences.len());
        self
    }

    fn count(&self, n: usize) {
        self.work
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
    }

    /// Names indexed so far (tables and "did you mean" indexes), built and
    /// updated: complexity tests count it.
    pub fn work(&self) -> u64 {
        self.work.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The SKUs defined more than once, in order of their first place.
    pub fn duplicate_skus(&self) -> &[Places] {
        &self.dup_skus
    }

    /// The licence ids defined more than once, in order of their first place.
    pub fn duplicate_licences(&self) -> &[Places] {
        &self.dup_licences
    }

    /// Groups of distinct SKUs that look the same (see `Index`).
    pub fn lookalike_skus(&self) -> &[Vec<At>] {
        &self.lookalike_skus
    }

    /// Groups of distinct licence ids that look the same.
    pub fn lookalike_licences(&self) -> &[Vec<At>] {
        &self.lookalike_licences
    }

    /// The SKU nearest to an unknown one (see [`Suggestions`]), with the work done.
    pub fn suggest_sku<'c>(
        &self,
        cats: &'c [&'c Catalogue],
        word: &str,
    ) -> (Option<&'c str>, usize) {
        self.suggest(
            cats,
            word,
            (&self.skus, &self.suggest_skus, self.over_skus.as_ref()),
            Names::sku,
            Index::sku,
        )
    }

    /// The licence id nearest to an unknown one, with the work done.
    pub fn suggest_licence<'c>(
        &self,
        cats: &'c [&'c Catalogue],
        word: &str,
    ) -> (Option<&'c str>, usize) {
        self.suggest(
            cats,
            word,
            (
                &self.licences,
                &self.suggest_licences,
                self.over_licences.as_ref(),
            ),
            Names::licence,
            Index::licence,
        )
    }

    /// "Did you mean" over one kind of name: the index built once from
    /// `table`, with the names an edit changed laid over it (`over`).
    #[allow(clippy::type_complexity)]
    fn suggest<'s, 'c>(
        &'s self,
        cats: &'c [&'c Catalogue],
        word: &str,
        (table, built, over): (
            &'s HashTable<Places>,
            &'s OnceLock<(Vec<At>, Suggestions)>,
            Option<&'s Overlay>,
        ),
        name_of: fn(&Names<'c>, At) -> &'c str,
        lookup: for<'i> fn(&'i Index, &[&Catalogue], &str) -> Option<&'i Places>,
    ) -> (Option<&'c str>, usize) {
        let names = Names(cats);
        let (at, s) = built.get_or_init(|| {
            self.count(table.len());
            suggestions(table, |a| name_of(&names, a))
        });
        let name = |i: u32| at.get(i as usize).map_or("", |&a| name_of(&names, a));
        let Some(o) = over else {
            let name =
                |i: u32| -> &'c str { at.get(i as usize).map_or("", |&a| name_of(&names, a)) };
            return s.nearest(word, name);
        };
        let (dn, ds) = o.delta.get_or_init(|| {
            let live: Vec<Box<str>> = o
                .names
                .iter()
                .filter(|n| lookup(self, cats, n).is_some())
                .cloned()
                .collect();
            self.count(live.len());
            let refs: Vec<&str> = live.iter().map(|n| &**n).collect();
            let d = Suggestions::new(&refs);
            (live, d)
        });
        let keep = |i: u32| {
            at.get(i as usize)
                .is_some_and(|&a| !o.stale.contains(&a.0) && !o.names.contains(name_of(&names, a)))
        };
        let (best, work) = s.nearest_merged(
            keep,
            name,
            ds,
            |i| dn.get(i as usize).map_or("", |n| &**n),
            word,
        );
        // The winner as the catalogues spell it (borrowed from them, not from the overlay).
        let best = best
            .and_then(|b| lookup(self, cats, b))
            .map(|p| name_of(&names, p.first));
        (best, work)
    }

    /// Where products with this SKU are (`cats` as built from).
    pub fn sku<'s>(&'s self, cats: &[&Catalogue], sku: &str) -> Option<&'s Places> {
        let names = Names(cats);
        self.skus.find(hash(sku), |p| names.sku(p.first) == sku)
    }

    /// Where licences with this id are.
    pub fn licence<'s>(&'s self, cats: &[&Catalogue], id: &str) -> Option<&'s Places> {
        let names = Names(cats);
        self.licences
            .find(hash(id), |p| names.licence(p.first) == id)
    }

    /// The products whose `components` name this SKU.
    pub fn parents<'s>(&'s self, cats: &[&Catalogue], sku: &str) -> &'s [At] {
        let names = Names(cats);
        self.parents
            .find(hash(sku), |e| names.component(e.named_at) == sku)
            .map_or(&[], |e| e.products.as_slice())
    }

    /// Every SKU's places, in no particular order.
    pub fn all_skus(&self) -> impl Iterator<Item = &Places> {
        self.skus.iter()
    }

    /// Every licence id's places, in no particular order.
    pub fn all_licences(&self) -> impl Iterator<Item = &Places> {
        self.licences.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::parse;
    use proptest::prelude::*;

    /// A SKU table entry: the first place and one pointer (a million SKUs
    /// fill a table of 2 million slots while `check` runs).
    #[test]
    fn a_places_entry_is_24_bytes() {
        assert_eq!(std::mem::size_of::<Places>(), 24);
    }

    #[test]
    fn a_name_defined_once_allocates_no_list_and_more_keep_their_order() {
        let cat = parse(
            "[[product]]\nsku = \"A\"\n[[product]]\nsku = \"B\"\n[[product]]\nsku = \"A\"\n[[product]]\nsku = \"A\"\n",
        );
        let cats = [&cat];
        let ix = Index::build(&cats);
        let b = ix.sku(&cats, "B").unwrap();
        assert!(b.more.is_none());
        assert_eq!(b.count(), 1);
        let a = ix.sku(&cats, "A").unwrap();
        assert_eq!(a.first, (0, 0));
        assert_eq!(a.more(), &[(0, 2), (0, 3)]);
        assert_eq!(a.iter().collect::<Vec<_>>(), vec![(0, 0), (0, 2), (0, 3)]);
    }

    /// Everything an index answers, in a canonical order.
    fn dump(ix: &Index, cats: &[&Catalogue]) -> String {
        let names = Names(cats);
        let mut skus: Vec<(String, Vec<At>)> = ix
            .skus
            .iter()
            .map(|p| (names.sku(p.first).to_string(), p.iter().collect()))
            .collect();
        skus.sort();
        let mut ids: Vec<(String, Vec<At>)> = ix
            .licences
            .iter()
            .map(|p| (names.licence(p.first).to_string(), p.iter().collect()))
            .collect();
        ids.sort();
        let mut parents: Vec<(String, Vec<At>)> = ix
            .parents
            .iter()
            .map(|e| (names.component(e.named_at).to_string(), e.products.clone()))
            .collect();
        parents.sort();
        let dups = |d: &[Places]| {
            d.iter()
                .map(|p| p.iter().collect())
                .collect::<Vec<Vec<At>>>()
        };
        format!(
            "{skus:?}\n{ids:?}\n{parents:?}\n{:?} {:?}\n{:?} {:?}\n{:?}",
            dups(&ix.dup_skus),
            dups(&ix.dup_licences),
            ix.lookalike_skus,
            ix.lookalike_licences,
            ["B1", "D", "\u{0421}1", "L", "A1", "CC", "D12", "L3", "1"]
                .iter()
                .map(|w| (ix.suggest_sku(cats, w).0, ix.suggest_licence(cats, w).0))
                .collect::<Vec<_>>()
        )
    }

    /// A catalogue of products and licences named from a small alphabet
    /// (with a Cyrillic look-alike), so files share, repeat and miss names.
    fn catalogue_text() -> impl Strategy<Value = String> {
        let name = prop_oneof![
            Just("A"),
            Just("B"),
            Just("C"),
            Just("\u{0421}"),
            Just("D1")
        ];
        let product = (
            name.clone(),
            proptest::collection::vec(name.clone(), 0..3),
            any::<bool>(),
        );
        let licence = prop_oneof![Just("L1"), Just("L2"), Just("\u{0421}L")];
        (
            proptest::collection::vec(product, 0..6),
            proptest::collection::vec(licence, 0..3),
        )
            .prop_map(|(products, licences)| {
                let mut s = String::new();
                for (sku, comps, has_sku) in products {
                    s.push_str("[[product]]\n");
                    if has_sku {
                        s.push_str(&format!("sku = \"{sku}\"\n"));
                    }
                    let c: Vec<String> = comps.iter().map(|c| format!("\"{c}\"")).collect();
                    s.push_str(&format!("components = [{}]\n\n", c.join(", ")));
                }
                for id in licences {
                    s.push_str(&format!("[[licence]]\nid = \"{id}\"\n\n"));
                }
                s
            })
    }

    proptest! {
        /// An index updated for one changed file answers as one built afresh.
        #[test]
        fn an_updated_index_equals_a_fresh_one(
            files in proptest::collection::vec(catalogue_text(), 1..4),
            changes in proptest::collection::vec((0usize..4, catalogue_text()), 1..5),
        ) {
            let mut texts = files;
            let mut ix = Index::build(&texts.iter().map(|t| parse(t)).collect::<Vec<_>>().iter().collect::<Vec<_>>());
            for (f, text) in changes {
                let f = f % texts.len();
                texts[f] = text;
                let cats: Vec<Catalogue> = texts.iter().map(|t| parse(t)).collect();
                let refs: Vec<&Catalogue> = cats.iter().collect();
                ix = ix.updated(&refs, f);
                let fresh = Index::build(&refs);
                prop_assert_eq!(dump(&ix, &refs), dump(&fresh, &refs));
            }
        }
    }

    #[test]
    fn names_are_found_where_they_are_defined_and_named() {
        let a = parse(
            "[[licence]]\nid = \"L\"\n\n[[product]]\nsku = \"A\"\n\n[[product]]\nsku = \"B\"\ncomponents = [\"A\", \"A\", \"X\"]\n",
        );
        let b =
            parse("[[product]]\nsku = \"A\"\ncomponents = [\"B\"]\n\n[[licence]]\nid = \"L\"\n");
        let cats = [&a, &b];
        let ix = Index::build(&cats);
        let a_places: Vec<At> = ix.sku(&cats, "A").unwrap().iter().collect();
        assert_eq!(a_places, [(0, 0), (1, 0)]);
        assert_eq!(ix.sku(&cats, "B").unwrap().first, (0, 1));
        assert!(ix.sku(&cats, "C").is_none());
        assert_eq!(ix.licence(&cats, "L").unwrap().count(), 2);
        assert_eq!(ix.parents(&cats, "A"), [(0, 1)], "named twice, listed once");
        assert_eq!(ix.parents(&cats, "B"), [(1, 0)]);
        assert_eq!(ix.parents(&cats, "X"), [(0, 1)]);
        assert!(ix.parents(&cats, "L").is_empty());
        assert_eq!(ix.all_skus().count(), 2);
        assert_eq!(ix.all_licences().count(), 1);
    }
}
