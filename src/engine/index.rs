//! Where each SKU, licence id and component reference of a set of files is:
//! (file, index) positions hashed by the name they hold. It borrows nothing,
//! so the language server keeps it between edits that move no name, and it
//! is only ever used with the catalogues it was built from.

use crate::catalogue::Catalogue;
use hashbrown::HashTable;
use std::hash::BuildHasher;

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
            parents: HashTable::new(),
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
        ix
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
