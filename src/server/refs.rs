//! Which names each file defines and which SKUs it names as components, kept
//! per file while its layout of names (`Document::names`) is the same: the
//! files an edit affects are then found by looking the changed names up in
//! each file's sets (work per file: the names that changed), and only the
//! files hit are scanned product by product; it was a scan of every product
//! of the workspace per edit.

use rustc_hash::FxHashSet;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tower_lsp::lsp_types::Url;

use crate::catalogue::Catalogue;

/// The SKUs a file defines, those it names as components and those its
/// shipments name.
#[derive(Default)]
pub struct Names {
    pub defines: FxHashSet<Box<str>>,
    pub components: FxHashSet<Box<str>>,
    pub shipped: FxHashSet<Box<str>>,
}

impl Names {
    fn of(cat: &Catalogue) -> Names {
        let mut n = Names::default();
        for p in &cat.products {
            if let Some(s) = p.sku_str() {
                n.defines.insert(s.into());
            }
            for c in p.components.iter().flat_map(|c| c.value.iter()) {
                n.components.insert(c.value.as_str().into());
            }
        }
        // A shipment names the product it exports (v2 §4a).
        for x in &cat.shipments {
            if let Some(s) = x.sku_str() {
                n.shipped.insert(s.into());
            }
        }
        n
    }

    /// Whether the file defines or names one of `skus`.
    pub fn touches(&self, skus: &FxHashSet<&str>) -> bool {
        skus.iter().any(|s| {
            self.defines.contains(*s) || self.components.contains(*s) || self.shipped.contains(*s)
        })
    }

    /// Whether a product of the file names one of `skus` as a component.
    pub fn uses(&self, skus: &FxHashSet<&str>) -> bool {
        skus.iter().any(|s| self.components.contains(*s))
    }
}

/// The sets of each file, under the layout of names they were read from.
#[derive(Default)]
pub struct Cache {
    kept: Mutex<HashMap<Url, (u64, Arc<Names>)>>,
}

impl Cache {
    /// The sets of file `uri` whose layout of names is `layout`.
    pub fn names(&self, uri: &Url, layout: u64, cat: &Catalogue) -> Arc<Names> {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((l, n)) = kept.get(uri) {
            if *l == layout {
                return n.clone();
            }
        }
        let n = Arc::new(Names::of(cat));
        kept.insert(uri.clone(), (layout, n.clone()));
        n
    }
}
