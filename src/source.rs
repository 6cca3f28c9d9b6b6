//! The input side of a run: finding catalogue files (through [`fsread`],
//! which reports what it skipped), reading them through the guarded reader,
//! and decoding their bytes. Shared by `check` and the language server's
//! index; it knows nothing of how results are rendered.

use crate::diagnostic::{Code, Diagnostic};
use crate::fsread;
use std::path::{Path, PathBuf};

/// Files above this size are reported, not loaded.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;
const _: () = assert!(MAX_FILE_BYTES as usize <= crate::text::MAX_TEXT_BYTES);

/// Finds catalogue files under the given paths (see [`fsread::find`]):
/// files as given, directories searched recursively for `*.catalogue.toml`,
/// `catalogue.toml`, `*.catalogue.csv`, `*.licences.csv` and `*.shipments.csv`
/// (`catalogue::Format::of_name`), with what was skipped and why.
pub fn discover(paths: &[PathBuf]) -> fsread::Found {
    fsread::find(paths)
}

/// Reads a catalogue file as text through the guarded reader (a regular
/// file, at most [`MAX_FILE_BYTES`]). Invalid UTF-8 is replaced and reported
/// as a syntax error at the first bad byte; a BOM is dropped.
pub fn read_text(path: &Path) -> Result<(String, Option<Diagnostic>), fsread::ReadError> {
    let bytes = fsread::read(path, &fsread::Guard::catalogue(MAX_FILE_BYTES, None))?;
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
                    "the file is not valid UTF-8 (bad byte at offset {at}); catalogue files are UTF-8: re-save it as UTF-8"
                ),
            );
            (text, Some(d))
        }
    }
}

/// Lines that say what the search skipped and why: one per path that may
/// have hidden a catalogue (`error:`), one per other reason, naming a few
/// paths (`note:`). For the human report, or stderr beside JSON and SARIF.
pub fn skip_notes(skipped: &[fsread::Skip]) -> Vec<String> {
    let mut out = Vec::new();
    for s in skipped.iter().filter(|s| s.lost()) {
        out.push(format!(
            "error: {}: not judged: {}",
            fsread::shown(&s.path),
            s.why()
        ));
    }
    // Deliberate skips, grouped by reason.
    let mut groups: Vec<(String, Vec<&Path>)> = Vec::new();
    for s in skipped.iter().filter(|s| !s.lost()) {
        let key = match &s.reason {
            fsread::Reason::Rule => "hidden entries, target/, node_modules/: not searched; name a path to check it".to_string(),
            fsread::Reason::Outside { .. } => "symbolic links leading outside the checked paths: not followed; name the folder to check it".to_string(),
            _ => s.why(),
        };
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(&s.path),
            None => groups.push((key, vec![&s.path])),
        }
    }
    for (why, paths) in groups {
        const NAMED: usize = 3;
        let mut names: Vec<String> = paths.iter().take(NAMED).map(|p| fsread::shown(p)).collect();
        if paths.len() > NAMED {
            names.push(format!("and {} more", paths.len() - NAMED));
        }
        out.push(format!(
            "note: skipped {} path{} ({why}): {}",
            paths.len(),
            plural(paths.len()),
            names.join(", ")
        ));
    }
    out
}

pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
