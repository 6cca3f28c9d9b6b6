//! The answers editors ask for again after every edit, written straight to
//! JSON and cached: the outline (`textDocument/documentSymbol`) and the code
//! lenses (`textDocument/codeLens`).
//!
//! tower-lsp turns a typed answer into a `serde_json::Value` tree (with
//! ordered maps) and then into bytes: for the 10 000 symbols of a
//! 10 000-product outline that took ~10 times as long as building the
//! symbols. These answers are written as bytes once per version of the
//! document and of its analysis, kept, and sent as a frame that shares them
//! (see `wire::Frame`): an editor asking twice for one version (VS Code's
//! outline, breadcrumbs and sticky scroll) gets the same bytes again.
//! The JSON is what `features::document_symbols` and `features::code_lenses`
//! would give (a unit test compares them).

use super::state::{State, lsp_range};
use super::wire::Frame;
use crate::catalogue::TableKind;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tower_lsp::lsp_types::{Range, Url};

/// Which answer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Kind {
    Symbols,
    Lenses,
}

impl Kind {
    pub fn of(method: &str) -> Option<Kind> {
        match method {
            "textDocument/documentSymbol" => Some(Kind::Symbols),
            "textDocument/codeLens" => Some(Kind::Lenses),
            _ => None,
        }
    }
}

/// The answers kept: per document and kind, the version of the document
/// and the serial of its analysis they were computed from.
#[derive(Default)]
pub struct Cache {
    kept: Mutex<HashMap<(Url, Kind), Kept>>,
}

/// An answer and what it was computed from.
type Kept = (Key, Arc<Vec<u8>>);

/// The document's version and its analysis's serial.
type Key = (Option<i32>, u64);

impl Cache {
    /// The JSON of the answer for `uri` (`null` for a file the server does
    /// not know), from the cache when nothing changed since.
    pub fn answer(&self, st: &State, uri: &Url, kind: Kind) -> Arc<Vec<u8>> {
        let key = (
            st.docs.get(uri).map(|d| d.version),
            st.analyses.get(uri).map_or(0, |a| a.serial),
        );
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((k, bytes)) = kept.get(&(uri.clone(), kind)) {
            if *k == key && st.file(uri).is_some() {
                return bytes.clone();
            }
        }
        let t = std::time::Instant::now();
        let bytes = Arc::new(match kind {
            Kind::Symbols => symbols_json(st, uri),
            Kind::Lenses => lenses_json(st, uri),
        });
        tracing::debug!(
            ?kind,
            ms = t.elapsed().as_secs_f64() * 1e3,
            bytes = bytes.len(),
            "answer built"
        );
        // Only open documents change often enough to be worth keeping.
        kept.retain(|(u, _), _| st.docs.contains_key(u));
        if st.docs.contains_key(uri) {
            kept.insert((uri.clone(), kind), (key, bytes.clone()));
        }
        bytes
    }
}

/// A framed response to request `id` whose result is `result` (shared).
pub fn response(id: &tower_lsp::jsonrpc::Id, result: Arc<Vec<u8>>) -> Frame {
    let mut body = Vec::with_capacity(64);
    body.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
    let _ = serde_json::to_writer(&mut body, id);
    body.extend_from_slice(br#","result":"#);
    const TAIL: &[u8] = b"}";
    let len = body.len() + result.len() + TAIL.len();
    let mut head = Vec::with_capacity(body.len() + 32);
    head.extend_from_slice(b"Content-Length: ");
    head.extend_from_slice(itoa::Buffer::new().format(len).as_bytes());
    head.extend_from_slice(b"\r\n\r\n");
    head.extend_from_slice(&body);
    let n = result.len();
    Frame {
        head,
        shared: Some((result, 0..n)),
        tail: TAIL,
    }
}

fn position(out: &mut Vec<u8>, line: u32, character: u32) {
    let mut b = itoa::Buffer::new();
    out.extend_from_slice(br#"{"line":"#);
    out.extend_from_slice(b.format(line).as_bytes());
    out.extend_from_slice(br#","character":"#);
    out.extend_from_slice(b.format(character).as_bytes());
    out.push(b'}');
}

fn range(out: &mut Vec<u8>, r: Range) {
    out.extend_from_slice(br#"{"start":"#);
    position(out, r.start.line, r.start.character);
    out.extend_from_slice(br#","end":"#);
    position(out, r.end.line, r.end.character);
    out.push(b'}');
}

fn string(out: &mut Vec<u8>, s: &str) {
    let _ = serde_json::to_writer(&mut *out, s);
}

/// The outline as `features::document_symbols` builds it, as JSON.
fn symbols_json(st: &State, uri: &Url) -> Vec<u8> {
    let Some(f) = st.file(uri) else {
        return b"null".to_vec();
    };
    let res = st.analyses.get(uri);
    let cat = f.catalogue;
    let mut out = Vec::with_capacity(cat.tables.len() * 200 + 2);
    out.push(b'[');
    for t in &cat.tables {
        let (name, detail, kind): (&str, Option<&str>, u8) = match t.kind {
            TableKind::Product => {
                let Some(p) = cat.products.get(t.index) else {
                    continue;
                };
                let verdict = res.and_then(|r| r.product(t.index)).map(|r| r.verdict());
                (
                    p.sku_str().unwrap_or("(no sku)"),
                    verdict.map(|v| v.as_str()),
                    19, // OBJECT
                )
            }
            TableKind::Licence => {
                let Some(l) = cat.licences.get(t.index) else {
                    continue;
                };
                (
                    l.id_str().unwrap_or("(no id)"),
                    l.kind.as_ref().map(|k| k.value.as_str()),
                    20, // KEY
                )
            }
            TableKind::Catalogue => ("catalogue", None, 3), // NAMESPACE
            _ => continue,
        };
        if out.len() > 1 {
            out.push(b',');
        }
        out.extend_from_slice(br#"{"name":"#);
        string(&mut out, name);
        if let Some(d) = detail {
            out.extend_from_slice(br#","detail":"#);
            string(&mut out, d);
        }
        out.extend_from_slice(br#","kind":"#);
        out.extend_from_slice(itoa::Buffer::new().format(kind).as_bytes());
        out.extend_from_slice(br#","range":"#);
        range(&mut out, lsp_range(f.text, f.lines, t.span, st.encoding));
        out.extend_from_slice(br#","selectionRange":"#);
        range(&mut out, lsp_range(f.text, f.lines, t.header, st.encoding));
        out.push(b'}');
    }
    out.push(b']');
    out
}

/// The code lenses as `features::code_lenses` builds them, as JSON.
fn lenses_json(st: &State, uri: &Url) -> Vec<u8> {
    let Some(f) = st.file(uri) else {
        return b"null".to_vec();
    };
    let Some(res) = st.analyses.get(uri) else {
        return b"[]".to_vec();
    };
    let mut out = Vec::with_capacity(f.catalogue.products.len() * 120 + 2);
    out.push(b'[');
    for t in f
        .catalogue
        .tables
        .iter()
        .filter(|t| matches!(t.kind, TableKind::Product | TableKind::Licence))
    {
        let Some(title) = super::features::lens_title(st, f.catalogue, res, t) else {
            continue;
        };
        if out.len() > 1 {
            out.push(b',');
        }
        out.extend_from_slice(br#"{"range":"#);
        range(&mut out, lsp_range(f.text, f.lines, t.header, st.encoding));
        out.extend_from_slice(br#","command":{"title":"#);
        string(&mut out, &title);
        out.extend_from_slice(br#","command":""}}"#);
    }
    out.push(b']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::document::Document;

    const TEXT: &str = "[catalogue]\nas_of = 2026-06-01\n\n[[licence]]\nid = \"GL-1\"\ntype = \"general\"\nissued = 2026-01-01\nexpires = 2027-01-01\nitems = [\"1C905\"]\n\n[[product]]\nsku = \"A\\u00e9\"\nform = \"magnet\"\ncomposition = { Nd = 28, Dy = 3, Fe = 68, B = 1 }\nlicence = \"GL-1\"\n\n[[product]]\nform = \"oxide\"\ncomposition = { La2O3 = 99 }\n\n[[product]]\nsku = \"R\"\nform = \"rotor-assembly\"\ncomponents = [\"A\\u00e9\"]\nmounting = \"embedded\"\n";

    /// The bytes written here are the JSON of the typed answers.
    #[test]
    fn the_written_answers_equal_the_typed_ones() {
        let uri = Url::parse("file:///w/a.catalogue.toml").unwrap();
        let mut st = State::default();
        st.docs.insert(uri.clone(), Document::new(TEXT.into(), 1));
        st.analyse(std::slice::from_ref(&uri), None);
        let cache = Cache::default();
        let symbols: serde_json::Value =
            serde_json::from_slice(&cache.answer(&st, &uri, Kind::Symbols)).unwrap();
        let typed =
            serde_json::to_value(super::super::features::document_symbols(&st, &uri)).unwrap();
        assert_eq!(symbols, typed);
        assert_eq!(symbols.as_array().unwrap().len(), 5);
        let lenses: serde_json::Value =
            serde_json::from_slice(&cache.answer(&st, &uri, Kind::Lenses)).unwrap();
        let typed = serde_json::to_value(super::super::features::code_lenses(&st, &uri)).unwrap();
        assert_eq!(lenses, typed);
        // Two products with results and the licence.
        assert_eq!(lenses.as_array().unwrap().len(), 4);
        // The same version and analysis: the same bytes, not built again.
        let a = cache.answer(&st, &uri, Kind::Symbols);
        assert!(Arc::ptr_eq(&a, &cache.answer(&st, &uri, Kind::Symbols)));
        // A new analysis: built again.
        st.analyse(std::slice::from_ref(&uri), None);
        assert!(!Arc::ptr_eq(&a, &cache.answer(&st, &uri, Kind::Symbols)));
    }
}
