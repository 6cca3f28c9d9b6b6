//! What the server knows: open documents, catalogue files indexed from disk,
//! settings, the negotiated encoding, rule packs; and the analysis that turns
//! them into per-file results. Every method is synchronous: handlers mutate
//! state and compute under the lock, then publish after releasing it.

use super::document::Document;
use crate::catalogue::{self, Catalogue, Field};
use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::engine::{FileInput, FileResult, Options, Workspace};
use crate::rules::RulePack;
use crate::text::{Encoding, LineIndex, Span};
use jiff::civil::Date;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower_lsp::lsp_types::{self as lsp, Url};

/// Files above this size are not loaded from disk into the index.
pub const MAX_INDEX_BYTES: u64 = 64 * 1024 * 1024;

/// User settings (initializationOptions / workspace/didChangeConfiguration).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// Evaluation date (YYYY-MM-DD) for products without ship_date.
    pub as_of: Option<String>,
    /// Rule pack path, replacing the embedded pack.
    pub rules: Option<String>,
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

/// A catalogue file read from disk and not open in the editor.
pub struct DiskFile {
    pub text: String,
    pub lines: LineIndex,
    pub catalogue: Catalogue,
}

/// A file's text, lines and catalogue, open or from disk.
pub struct FileView<'a> {
    pub uri: &'a Url,
    pub text: &'a str,
    pub lines: &'a LineIndex,
    pub catalogue: &'a Catalogue,
}

pub struct State {
    pub docs: HashMap<Url, Document>,
    pub disk: HashMap<Url, DiskFile>,
    pub results: HashMap<Url, Arc<FileResult>>,
    pub settings: Settings,
    pub encoding: Encoding,
    pub roots: Vec<PathBuf>,
    /// The settings' pack (or the embedded one) and why a configured one failed.
    pub pack: Arc<RulePack>,
    pub pack_error: Option<String>,
    pub as_of: Option<Date>,
    pack_cache: HashMap<PathBuf, Result<Arc<RulePack>, String>>,
}

impl Default for State {
    fn default() -> Self {
        State {
            docs: HashMap::new(),
            disk: HashMap::new(),
            results: HashMap::new(),
            settings: Settings::default(),
            encoding: Encoding::Utf16,
            roots: Vec::new(),
            pack: RulePack::embedded(),
            pack_error: None,
            as_of: None,
            pack_cache: HashMap::new(),
        }
    }
}

pub fn today() -> Date {
    crate::cli::today()
}

impl State {
    /// Applies settings: loads the pack, parses the date. Errors are kept
    /// and shown as diagnostics; the embedded pack stays in use meanwhile.
    pub fn set_settings(&mut self, s: Settings) {
        self.pack_cache.clear();
        self.pack_error = None;
        self.as_of = None;
        if let Some(d) = s.as_of.as_deref().filter(|d| !d.is_empty()) {
            match d.parse::<Date>() {
                Ok(d) => self.as_of = Some(d),
                Err(_) => {
                    self.pack_error = Some(format!(
                        "setting asOf = \"{d}\" is not a date like 2026-06-01; using the catalogue's as_of or today"
                    ))
                }
            }
        }
        self.pack = RulePack::embedded();
        if let Some(r) = s.rules.as_deref().filter(|r| !r.is_empty()) {
            let path = self.resolve_setting_path(r);
            match RulePack::load(&path) {
                Ok(p) => self.pack = Arc::new(p),
                Err(e) => self.pack_error = Some(format!("{e}; using the embedded rule pack")),
            }
        }
        self.settings = s;
    }

    fn resolve_setting_path(&self, r: &str) -> PathBuf {
        let p = PathBuf::from(r);
        if p.is_absolute() {
            return p;
        }
        self.roots.first().map(|root| root.join(&p)).unwrap_or(p)
    }

    /// Every catalogue file: open documents first, then disk files not open.
    pub fn files(&self) -> Vec<FileView<'_>> {
        let mut v: Vec<FileView> = self
            .docs
            .iter()
            .map(|(u, d)| FileView {
                uri: u,
                text: &d.text,
                lines: &d.lines,
                catalogue: &d.catalogue,
            })
            .collect();
        v.extend(
            self.disk
                .iter()
                .filter(|(u, _)| !self.docs.contains_key(*u))
                .map(|(u, d)| FileView {
                    uri: u,
                    text: &d.text,
                    lines: &d.lines,
                    catalogue: &d.catalogue,
                }),
        );
        v
    }

    pub fn file(&self, uri: &Url) -> Option<FileView<'_>> {
        if let Some((uri, d)) = self.docs.get_key_value(uri) {
            return Some(FileView {
                uri,
                text: &d.text,
                lines: &d.lines,
                catalogue: &d.catalogue,
            });
        }
        self.disk.get_key_value(uri).map(|(uri, d)| FileView {
            uri,
            text: &d.text,
            lines: &d.lines,
            catalogue: &d.catalogue,
        })
    }

    pub fn options(&self) -> Options {
        Options {
            as_of: self.as_of,
            today: today(),
            explain: true,
        }
    }

    /// The pack for a file: its `[catalogue].rules` (inside a workspace root) or the settings' pack.
    fn pack_for(
        &mut self,
        uri: &Url,
        rules: Option<&Field<String>>,
    ) -> (Arc<RulePack>, Option<Diagnostic>) {
        let Some(r) = rules else {
            return (self.pack.clone(), None);
        };
        if r.value == self.pack.id || self.settings.rules.is_some() {
            return (self.pack.clone(), None);
        }
        let Some(dir) = uri
            .to_file_path()
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
        else {
            return (self.pack.clone(), None);
        };
        let path = normalize(&dir.join(&r.value));
        if !self
            .roots
            .iter()
            .any(|root| path.starts_with(normalize(root)))
            && !self.roots.is_empty()
        {
            let d = Diagnostic::new(
                Code::RulePackError,
                r.span,
                format!(
                    "rule pack `{}` is outside the workspace; packs named by a catalogue must live inside it (set `rules` in your editor settings to use another). Using {}",
                    r.value, self.pack.id
                ),
            );
            return (self.pack.clone(), Some(d));
        }
        let entry = self.pack_cache.entry(path.clone()).or_insert_with(|| {
            RulePack::load(&path)
                .map(Arc::new)
                .map_err(|e| e.to_string())
        });
        match entry {
            Ok(p) => (p.clone(), None),
            Err(e) => (
                self.pack.clone(),
                Some(Diagnostic::new(
                    Code::RulePackError,
                    r.span,
                    format!("{e}; using {} instead", self.pack.id),
                )),
            ),
        }
    }

    /// Analyses the given files against the whole workspace and stores the results.
    pub fn analyse(&mut self, targets: &[Url]) -> Vec<(Url, Arc<FileResult>)> {
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
        for (u, r) in &rules {
            let (p, d) = self.pack_for(u, r.as_ref());
            packs.push(p);
            if let Some(d) = d {
                extra.insert(u.clone(), d);
            }
        }
        let opts = self.options();
        let files = self.files();
        let ws = Workspace::new(
            files
                .iter()
                .zip(&packs)
                .map(|(f, p)| FileInput {
                    catalogue: f.catalogue,
                    pack: p.clone(),
                })
                .collect(),
        );
        let mut out = Vec::new();
        for t in targets {
            let Some(i) = files.iter().position(|f| f.uri == t) else {
                continue;
            };
            let mut r = contained(t, || ws.analyse_file(i, &opts));
            if let Some(d) = extra.get(t) {
                r.diagnostics.insert(0, d.clone());
            }
            out.push((t.clone(), Arc::new(r)));
        }
        drop(ws);
        drop(files);
        for (u, r) in &out {
            self.results.insert(u.clone(), r.clone());
        }
        out
    }

    /// URIs of all files, for mapping `Related.file` indexes (same order as `files()`).
    pub fn file_uris(&self) -> Vec<Url> {
        self.files().iter().map(|f| f.uri.clone()).collect()
    }

    /// What a file offers other files: each licence id and SKU with a hash of its table's text.
    pub fn exports(text: &str, cat: &Catalogue) -> HashMap<String, u64> {
        use std::hash::{Hash, Hasher};
        let digest = |span: Span| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            text.get(span.start..span.end).unwrap_or("").hash(&mut h);
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
        products.chain(licences).collect()
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
            }
        }
        keys
    }

    /// The open documents whose results depend on the changed keys: those that
    /// reference or define them, directly or through components in any file.
    pub fn affected(&self, origin: &Url, mut changed: Keys) -> Vec<Url> {
        let mut hit: HashSet<Url> = HashSet::from([origin.clone()]);
        if !changed.skus.is_empty() || !changed.licences.is_empty() {
            let files = self.files();
            loop {
                let before = hit.len();
                for f in &files {
                    if hit.contains(f.uri) {
                        continue;
                    }
                    let touches = f.catalogue.products.iter().any(|p| {
                        p.sku_str().is_some_and(|s| changed.skus.contains(s))
                            || p.licence
                                .as_ref()
                                .is_some_and(|l| changed.licences.contains(&l.value))
                            || p.components
                                .iter()
                                .flat_map(|c| c.value.iter())
                                .any(|c| changed.skus.contains(&c.value))
                    }) || f
                        .catalogue
                        .licences
                        .iter()
                        .any(|l| l.id_str().is_some_and(|i| changed.licences.contains(i)));
                    if touches {
                        hit.insert(f.uri.clone());
                        changed.skus.extend(
                            f.catalogue
                                .products
                                .iter()
                                .filter_map(|p| p.sku_str().map(str::to_owned)),
                        );
                    }
                }
                if hit.len() == before {
                    break;
                }
            }
        }
        hit.into_iter()
            .filter(|u| self.docs.contains_key(u))
            .collect()
    }

    /// Converts a file's diagnostics to LSP, applying severity overrides.
    pub fn lsp_diagnostics(&self, uri: &Url, r: &FileResult) -> Vec<lsp::Diagnostic> {
        let Some(f) = self.file(uri) else {
            return Vec::new();
        };
        let uris = self.file_uris();
        let mut out = Vec::with_capacity(r.diagnostics.len() + 1);
        if let Some(e) = &self.pack_error {
            out.push(lsp::Diagnostic {
                range: lsp::Range::default(),
                severity: Some(lsp::DiagnosticSeverity::ERROR),
                code: Some(lsp::NumberOrString::String(
                    Code::RulePackError.as_str().into(),
                )),
                source: Some("catalogue-lsp".into()),
                message: e.clone(),
                ..Default::default()
            });
        }
        out.extend(
            r.diagnostics
                .iter()
                .filter_map(|d| self.lsp_diagnostic(uri, &f, d, &uris)),
        );
        out
    }

    /// One diagnostic in LSP form, or None when the user turned its code off.
    pub fn lsp_diagnostic(
        &self,
        _uri: &Url,
        f: &FileView,
        d: &Diagnostic,
        uris: &[Url],
    ) -> Option<lsp::Diagnostic> {
        let sev = match self
            .settings
            .severity
            .get(d.code.as_str())
            .map(String::as_str)
        {
            Some("off") | Some("none") => return None,
            Some(s) => Severity::parse(s).unwrap_or(d.severity),
            None => d.severity,
        };
        Some(to_lsp(
            d,
            sev,
            f,
            self.encoding,
            |i| uris.get(i).cloned(),
            |u| self.file(u).map(|v| (v.text, v.lines)),
        ))
    }
}

/// Runs one file's analysis so that a bug in it cannot take the server down:
/// a panic becomes an `internal-error` diagnostic on that file, and is logged.
pub fn contained(uri: &Url, analyse: impl FnOnce() -> FileResult) -> FileResult {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(analyse)).unwrap_or_else(|e| {
        let what = e
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| e.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::error!(%uri, panic = %what, "analysis panicked");
        internal_error(&what)
    })
}

/// The result for a file whose analysis failed: one diagnostic that says so.
pub fn internal_error(what: &str) -> FileResult {
    FileResult {
        products: Vec::new(),
        diagnostics: vec![Diagnostic::new(
            Code::InternalError,
            Span::new(0, 0),
            format!(
                "catalogue-lsp failed while analysing this file ({what}); the other files are still checked. Please report it with the file attached; `catalogue-lsp check` on it shows whether the CLI fails too"
            ),
        )],
    }
}

fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

pub fn lsp_range(text: &str, lines: &LineIndex, span: Span, enc: Encoding) -> lsp::Range {
    let (l1, c1) = lines.position(text, span.start, enc);
    let (l2, c2) = lines.position(text, span.end, enc);
    lsp::Range {
        start: lsp::Position::new(l1, c1),
        end: lsp::Position::new(l2, c2),
    }
}

fn to_lsp<'a>(
    d: &Diagnostic,
    sev: Severity,
    f: &FileView,
    enc: Encoding,
    uri_of: impl Fn(usize) -> Option<Url>,
    file_of: impl Fn(&Url) -> Option<(&'a str, &'a LineIndex)>,
) -> lsp::Diagnostic {
    let href = d
        .source
        .as_ref()
        .and_then(|s| Url::parse(&s.url).ok())
        .or_else(|| {
            Url::parse(&format!(
                "{}#{}",
                crate::report::sarif::SPEC_URI,
                d.code.as_str()
            ))
            .ok()
        });
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .related
        .iter()
        .filter_map(|r| {
            let uri = uri_of(r.file)?;
            let (text, lines) = file_of(&uri)?;
            Some(lsp::DiagnosticRelatedInformation {
                location: lsp::Location {
                    uri,
                    range: lsp_range(text, lines, r.span, enc),
                },
                message: r.message.clone(),
            })
        })
        .collect();
    let message = match &d.source {
        Some(s) => format!("{}\nSource: {}", d.message, s.cite()),
        None => d.message.clone(),
    };
    lsp::Diagnostic {
        range: lsp_range(f.text, f.lines, d.span, enc),
        severity: Some(match sev {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
            Severity::Information => lsp::DiagnosticSeverity::INFORMATION,
            Severity::Hint => lsp::DiagnosticSeverity::HINT,
        }),
        code: Some(lsp::NumberOrString::String(d.code.as_str().into())),
        code_description: href.map(|href| lsp::CodeDescription { href }),
        source: Some("catalogue-lsp".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: (d.code == Code::UnnecessaryLicence).then(|| vec![lsp::DiagnosticTag::UNNECESSARY]),
        // Quick-fix data only where there is a fix: every byte is re-sent on each keystroke.
        data: (!d.fix.replacements.is_empty())
            .then(|| serde_json::json!({ "sku": d.sku, "replacements": d.fix.replacements, "quote": d.fix.quote })),
    }
}

/// Reads a catalogue file from disk for the index (size-limited; invalid UTF-8 replaced).
pub fn read_disk(path: &Path) -> Option<DiskFile> {
    let meta = std::fs::metadata(path).ok().filter(|m| m.is_file())?;
    if meta.len() > MAX_INDEX_BYTES {
        tracing::warn!(path = %path.display(), bytes = meta.len(), "catalogue too large to index");
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    let (text, bad) = crate::report::decode(bytes);
    let mut catalogue = catalogue::parse(&text);
    if let Some(d) = bad {
        catalogue.diagnostics.insert(0, d);
    }
    Some(DiskFile {
        lines: LineIndex::new(&text),
        text,
        catalogue,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_analysis_becomes_an_internal_error_diagnostic() {
        let uri = Url::parse("file:///x.catalogue.toml").unwrap();
        let r = contained(&uri, || panic!("boom"));
        assert_eq!(r.diagnostics.len(), 1);
        assert_eq!(r.diagnostics[0].code, Code::InternalError);
        assert!(r.diagnostics[0].message.contains("boom"));
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
