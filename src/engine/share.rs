//! Equal classifications shared: products with the same facts on the same
//! date get equal [`Classification`]s, and a run keeps one per product; at a
//! million products that was ~350 MB of copies (README, Performance). The
//! classifier builds each product's own (its memo is keyed by product);
//! [`Shared::intern`] then hands back the first equal one seen.

use super::classify::Classification;
use rustc_hash::FxHashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// The classifications seen so far, bucketed by a hash of their main facts.
#[derive(Default)]
pub(super) struct Shared {
    seen: FxHashMap<u64, Vec<Arc<Classification>>>,
    /// How many were replaced by an equal one (for tests).
    pub(super) shared: usize,
}

impl Shared {
    /// `c`, or an equal classification seen before.
    pub(super) fn intern(&mut self, c: Arc<Classification>) -> Arc<Classification> {
        let mut h = rustc_hash::FxHasher::default();
        c.verdict.hash(&mut h);
        c.codes.hash(&mut h);
        c.exclusion.hash(&mut h);
        c.missing.hash(&mut h);
        c.uncoded.hash(&mut h);
        c.items.hash(&mut h);
        let bucket = self.seen.entry(h.finish()).or_default();
        if let Some(same) = bucket.iter().find(|s| ***s == *c) {
            self.shared += 1;
            return same.clone();
        }
        bucket.push(c.clone());
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Verdict;

    #[test]
    fn equal_classifications_are_shared_and_others_kept() {
        let mut s = Shared::default();
        let controlled = |code: &str| {
            let mut c = Classification::new(Verdict::Controlled);
            c.codes.push(code.into());
            Arc::new(c)
        };
        let a = s.intern(controlled("1C905.b"));
        let b = s.intern(controlled("1C905.b"));
        assert!(Arc::ptr_eq(&a, &b));
        let c = s.intern(controlled("1C904.b"));
        assert!(!Arc::ptr_eq(&a, &c));
        // Equal in the hashed facts, different elsewhere: not shared.
        let mut d = Classification::new(Verdict::Controlled);
        d.codes.push("1C905.b".into());
        d.limbs.push(1);
        let d = s.intern(Arc::new(d));
        assert!(!Arc::ptr_eq(&a, &d));
        assert_eq!(d.limbs, [1]);
        assert_eq!(s.shared, 1);
    }
}
