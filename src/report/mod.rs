//! The `check` run: finds catalogue files, reads them, picks each file's rule
//! pack, runs the engine, and renders the results as human text, the
//! contract's JSON (spec §8) or SARIF 2.1.0.

pub mod human;
pub mod json;
pub mod sarif;

use crate::catalogue::{self, Catalogue, is_catalogue_name};
use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::engine::{FileInput, FileResult, Options, Verdict, Workspace};
use crate::rules::{PackError, RulePack};
use crate::text::LineIndex;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Files above this size are reported, not loaded.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;
const _: () = assert!(MAX_FILE_BYTES as usize <= crate::text::MAX_TEXT_BYTES);

/// One loaded catalogue file.
pub struct LoadedFile {
    /// The path as given or found, for display.
    pub path: String,
    pub text: String,
    pub lines: LineIndex,
    pub catalogue: Catalogue,
    pub pack: Arc<RulePack>,
}

/// Why a run failed (exit code 2).
#[derive(Debug)]
pub enum RunError {
    Path { path: String, message: String },
    Pack(PackError),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Path { path, message } => write!(f, "{path}: {message}"),
            RunError::Pack(e) => e.fmt(f),
        }
    }
}

/// A finished run: the files, their results, the default pack.
pub struct Run {
    pub files: Vec<LoadedFile>,
    pub results: Vec<FileResult>,
    pub pack: Arc<RulePack>,
}

/// Finds catalogue files under the given paths: files as given, directories
/// searched recursively for `*.catalogue.toml` and `catalogue.toml`
/// (symlinked directories are followed once; loops are cut).
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, RunError> {
    let mut out = Vec::new();
    let mut seen_dirs = HashSet::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| RunError::Path {
            path: p.display().to_string(),
            message: format!("cannot read: {e}"),
        })?;
        if meta.is_dir() {
            walk(p, &mut seen_dirs, &mut out)?;
        } else {
            out.push(p.clone());
        }
    }
    let mut seen = HashSet::new();
    out.retain(|p| seen.insert(p.clone()));
    Ok(out)
}

fn walk(dir: &Path, seen: &mut HashSet<PathBuf>, out: &mut Vec<PathBuf>) -> Result<(), RunError> {
    let canon = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    if !seen.insert(canon) {
        return Ok(());
    }
    let rd = std::fs::read_dir(dir).map_err(|e| RunError::Path {
        path: dir.display().to_string(),
        message: format!("cannot read directory: {e}"),
    })?;
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for e in entries {
        let name = e.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') || name == "target" || name == "node_modules" {
            continue;
        }
        match std::fs::metadata(&e) {
            Ok(m) if m.is_dir() => walk(&e, seen, out)?,
            Ok(m) if m.is_file() && is_catalogue_name(name) => out.push(e),
            _ => {}
        }
    }
    Ok(())
}

/// Reads a file as text. Invalid UTF-8 is replaced and reported as a
/// syntax error at the first bad byte; a BOM is dropped.
pub fn read_text(path: &Path) -> Result<(String, Option<Diagnostic>), RunError> {
    let err = |m: String| RunError::Path {
        path: path.display().to_string(),
        message: m,
    };
    let meta = std::fs::metadata(path).map_err(|e| err(format!("cannot read: {e}")))?;
    if !meta.is_file() {
        // A FIFO or device would block or never end: only regular files are catalogues.
        return Err(err(
            "not a regular file: give a catalogue file or a directory".into(),
        ));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(err(format!(
            "{} bytes is larger than the {} MiB limit for a catalogue: split it into several files",
            meta.len(),
            MAX_FILE_BYTES >> 20
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| err(format!("cannot read: {e}")))?;
    Ok(decode(bytes))
}

/// Decodes file bytes: BOM dropped, invalid UTF-8 replaced and reported.
pub fn decode(bytes: Vec<u8>) -> (String, Option<Diagnostic>) {
    let bytes = if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes[3..].to_vec()
    } else {
        bytes
    };
    match String::from_utf8(bytes) {
        Ok(s) => (s, None),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let d = Diagnostic::new(
                Code::SyntaxError,
                crate::text::Span::new(at, (at + 1).min(text.len())),
                format!(
                    "the file is not valid UTF-8 (bad byte at offset {at}); TOML files are UTF-8: re-save it as UTF-8"
                ),
            );
            (text, Some(d))
        }
    }
}

/// Loads, parses and analyses the files. `rules` overrides every file's pack.
pub fn run(paths: &[PathBuf], rules: Option<&Path>, opts: &Options) -> Result<Run, RunError> {
    let default = match rules {
        Some(p) => Arc::new(RulePack::load(p).map_err(RunError::Pack)?),
        None => RulePack::embedded(),
    };
    let files = discover(paths)?;
    // The directories a catalogue's own `rules` pack must lie in.
    let roots: Vec<PathBuf> = paths
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .map(|p| {
            if p.is_dir() {
                p
            } else {
                p.parent().map(Path::to_path_buf).unwrap_or(p)
            }
        })
        .collect();
    let mut packs: HashMap<PathBuf, Arc<RulePack>> = HashMap::new();
    let mut loaded = Vec::with_capacity(files.len());
    for path in files {
        let (text, utf8) = read_text(&path)?;
        let mut catalogue = catalogue::parse(&text);
        if let Some(d) = utf8 {
            catalogue.diagnostics.insert(0, d);
        }
        let pack = match (
            rules,
            catalogue.catalogue.as_ref().and_then(|c| c.rules.as_ref()),
        ) {
            (None, Some(r)) if r.value != default.id => {
                let p = path.parent().unwrap_or(Path::new(".")).join(&r.value);
                // A catalogue may only name a pack inside the paths being checked.
                let inside = std::fs::canonicalize(&p)
                    .ok()
                    .is_some_and(|c| roots.iter().any(|root| c.starts_with(root)));
                if !inside {
                    return Err(RunError::Path {
                        path: path.display().to_string(),
                        message: format!(
                            "`[catalogue].rules = \"{}\"` names a rule pack that does not exist or lies outside the checked paths; move it inside them, or pass it with --rules",
                            r.value
                        ),
                    });
                }
                match packs.get(&p) {
                    Some(pk) => pk.clone(),
                    None => {
                        let pk = Arc::new(RulePack::load(&p).map_err(RunError::Pack)?);
                        packs.insert(p, pk.clone());
                        pk
                    }
                }
            }
            _ => default.clone(),
        };
        let lines = LineIndex::new(&text);
        loaded.push(LoadedFile {
            path: path.display().to_string(),
            text,
            lines,
            catalogue,
            pack,
        });
    }
    let results = {
        let ws = Workspace::new(
            loaded
                .iter()
                .map(|f| FileInput {
                    catalogue: &f.catalogue,
                    pack: f.pack.clone(),
                })
                .collect(),
        );
        ws.analyse_all(opts)
    };
    Ok(Run {
        files: loaded,
        results,
        pack: default,
    })
}

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

impl Run {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for r in &self.results {
            for p in &r.products {
                s.products += 1;
                match p.verdict() {
                    Verdict::Controlled => s.controlled += 1,
                    Verdict::Excluded => s.excluded += 1,
                    Verdict::NotControlled => s.not_controlled += 1,
                    Verdict::Indeterminate => s.indeterminate += 1,
                }
            }
            for d in &r.diagnostics {
                match d.severity {
                    Severity::Error => s.errors += 1,
                    Severity::Warning => s.warnings += 1,
                    _ => {}
                }
            }
        }
        s
    }

    /// Exit code of `check`: 1 when any error-severity diagnostic.
    pub fn exit_code(&self) -> i32 {
        if self.summary().errors > 0 { 1 } else { 0 }
    }
}
