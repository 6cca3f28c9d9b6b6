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
/// allocation (most names are defined once).
#[derive(Clone, Debug)]
pub struct Places {
    pub first: At,
    pub more: Vec<At>,
}

impl Places {
    fn new(at: At) -> Self {
        Places {
            first: at,
            more: Vec::new(),
        }
    }

    /// How many places (never zero).
    pub fn count(&self) -> usize {
        1 + self.more.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = At> + '_ {
        std::iter::once(self.first).chain(self.more.iter().copied())
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

#[derive(Default)]
pub struct Index {
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
        hashbrown::hash_table::Entry::Occupied(mut o) => o.get_mut().more.push(at),
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
        ix
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
        let names = Names(cats);
        let (at, s) = self
            .suggest_skus
            .get_or_init(|| suggestions(&self.skus, |a| names.sku(a)));
        s.nearest(word, |i| at.get(i as usize).map_or("", |&a| names.sku(a)))
    }

    /// The licence id nearest to an unknown one, with the work done.
    pub fn suggest_licence<'c>(
        &self,
        cats: &'c [&'c Catalogue],
        word: &str,
    ) -> (Option<&'c str>, usize) {
        let names = Names(cats);
        let (at, s) = self
            .suggest_licences
            .get_or_init(|| suggestions(&self.licences, |a| names.licence(a)));
        s.nearest(word, |i| {
            at.get(i as usize).map_or("", |&a| names.licence(a))
        })
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
