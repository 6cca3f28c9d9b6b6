//! Guarded file reading: every file the tool reads from disk goes through
//! here — catalogues (`check`, the server's index, files re-read on close or
//! on a watched change), rule packs (`--rules`, `[catalogue].rules`, the
//! server's `rules` setting), and any later file named by a catalogue or a
//! setting (party lists). Owns:
//!
//! - [`read`]: symlinks resolved first and the *canonical* path compared,
//!   component by component, with the allowed roots (never the path text);
//!   only regular files (no FIFO, device, socket or directory: checked on the
//!   resolved path before opening and again on the opened handle, which is
//!   opened with `O_NONBLOCK | O_NOFOLLOW | O_NOCTTY` on Linux so that a
//!   file swapped for a FIFO in between cannot block); a size limit checked
//!   before reading and enforced while reading (a file that grows is cut off
//!   and refused). Every error says what is wrong and what to do.
//! - [`find`]: the search of folders for catalogue files, with its skip rules
//!   (hidden entries, `target/`, `node_modules/`), loops cut, symlinks that
//!   lead outside the searched folders not followed, and every path it could
//!   not read or chose to skip reported with the reason.
//! - [`shown`]: paths and user-given values cut to a displayable length.

use crate::catalogue::is_catalogue_name;
use std::collections::HashSet;
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Rule packs above this size are refused (the default pack is ~100 KiB).
pub const MAX_PACK_BYTES: u64 = 16 * 1024 * 1024;

/// At most this many characters of a path or a user-given value are shown
/// in a message (a 5 MB setting must not be echoed on every publication).
pub const SHOWN_CHARS: usize = 200;

/// Where a file's resolved path must lie.
#[derive(Clone, Copy, Debug)]
pub struct Within<'a> {
    /// Canonical directories (see [`canonical_roots`]).
    pub roots: &'a [PathBuf],
    /// What they are, for messages: "the checked paths", "the workspace folders".
    pub scope: &'a str,
    /// What to do about a file outside them.
    pub advice: &'a str,
}

/// What may be read, for one kind of file.
#[derive(Clone, Copy, Debug)]
pub struct Guard<'a> {
    /// What the file is, for messages: "a catalogue", "a rule pack".
    pub what: &'a str,
    pub max_bytes: u64,
    /// None: anywhere (a path the user gave on the command line or in their settings).
    pub within: Option<Within<'a>>,
}

impl<'a> Guard<'a> {
    pub fn rule_pack(within: Option<Within<'a>>) -> Self {
        Guard {
            what: "a rule pack",
            max_bytes: MAX_PACK_BYTES,
            within,
        }
    }
    pub fn catalogue(max_bytes: u64, within: Option<Within<'a>>) -> Self {
        Guard {
            what: "a catalogue",
            max_bytes,
            within,
        }
    }
}

/// Why a file was not read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    /// Nothing at the path.
    Missing,
    /// A symbolic link whose target does not resolve to anything.
    Dangling,
    /// The resolved path lies outside the allowed roots.
    Outside,
    /// A FIFO, device, socket or directory.
    NotRegular,
    TooLarge,
    /// Any other I/O error (permissions, a name too long...).
    Io,
}

/// A file that was not read: which, why, and what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadError {
    /// The path as given, cut to [`SHOWN_CHARS`].
    pub path: String,
    pub problem: Problem,
    /// What is wrong and what to do (without the path).
    pub message: String,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for ReadError {}

/// `s` cut to [`SHOWN_CHARS`] characters, saying how much was left out.
pub fn shown_str(s: &str) -> String {
    match s.char_indices().nth(SHOWN_CHARS) {
        None => s.to_string(),
        Some((at, _)) => format!("{}… ({} bytes in all)", &s[..at], s.len()),
    }
}

/// A path for a message, cut to [`SHOWN_CHARS`] characters.
pub fn shown(p: &Path) -> String {
    shown_str(&p.to_string_lossy())
}

/// The canonical form of each path that resolves (symlinks followed); a
/// file stands for its folder.
pub fn canonical_roots<P: AsRef<Path>>(paths: &[P]) -> Vec<PathBuf> {
    paths
        .iter()
        .filter_map(|p| fs::canonicalize(p).ok())
        .map(|c| match fs::metadata(&c) {
            Ok(m) if !m.is_dir() => c.parent().map(Path::to_path_buf).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// Whether canonical `p` lies in one of the canonical `roots` (whole components).
pub fn inside(p: &Path, roots: &[PathBuf]) -> bool {
    roots.iter().any(|r| p.starts_with(r))
}

/// What kind of thing a non-regular file is, for messages.
fn kind_of(ft: &fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    if ft.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Opens a regular file for reading without ever blocking in `open` (a FIFO
/// swapped in after the type check would otherwise wait for a writer).
fn open(path: &Path) -> std::io::Result<File> {
    let mut o = fs::OpenOptions::new();
    o.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_NOCTTY);
    }
    o.open(path)
}

/// Reads a data file (a rule pack, a party list) as UTF-8 text through
/// [`read`]; the error is the message to show after the file's name.
pub fn read_text(path: &Path, guard: &Guard) -> Result<String, String> {
    let bytes = read(path, guard).map_err(|e| e.message)?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// Reads the file at `path` under `guard`: resolved, confined, a regular
/// file, within the size limit. Never blocks on a FIFO or device.
pub fn read(path: &Path, guard: &Guard) -> Result<Vec<u8>, ReadError> {
    let fail = |problem, message: String| ReadError {
        path: shown(path),
        problem,
        message,
    };
    let io = |what: &str, e: std::io::Error| {
        fail(
            Problem::Io,
            format!("cannot {what} it: {e}; check that it exists and that you may read it"),
        )
    };
    let canon = match fs::canonicalize(path) {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(match fs::read_link(path) {
                Ok(target) => fail(
                    Problem::Dangling,
                    format!(
                        "is a symbolic link to `{}`, which does not resolve to a file: fix or remove the link",
                        shown(&target)
                    ),
                ),
                Err(_) => fail(Problem::Missing, "does not exist: check the path".into()),
            });
        }
        Err(e) => return Err(io("resolve", e)),
    };
    if let Some(w) = guard.within {
        if !inside(&canon, w.roots) {
            return Err(fail(
                Problem::Outside,
                format!(
                    "resolves to `{}`, outside {}: {}",
                    shown(&canon),
                    w.scope,
                    w.advice
                ),
            ));
        }
    }
    let check = |m: &fs::Metadata| -> Result<(), ReadError> {
        if !m.is_file() {
            let kind = kind_of(&m.file_type());
            let what_to_do = if m.is_dir() {
                format!("give the path of {} file", guard.what)
            } else {
                format!(
                    "only regular files are read (reading it could block or never end); give {} file",
                    guard.what
                )
            };
            return Err(fail(
                Problem::NotRegular,
                format!("is {kind}, not a regular file: {what_to_do}"),
            ));
        }
        if m.len() > guard.max_bytes {
            return Err(fail(
                Problem::TooLarge,
                format!(
                    "{} bytes is larger than the {} MiB limit for {}: split it into several files",
                    m.len(),
                    guard.max_bytes >> 20,
                    guard.what
                ),
            ));
        }
        Ok(())
    };
    // The type is checked before opening: opening a device can have effects.
    check(&fs::metadata(&canon).map_err(|e| io("read", e))?)?;
    let file = open(&canon).map_err(|e| io("open", e))?;
    // ...and again on the handle: the path may have changed in between.
    let meta = file.metadata().map_err(|e| io("read", e))?;
    check(&meta)?;
    let mut bytes = Vec::with_capacity(meta.len().min(guard.max_bytes) as usize);
    file.take(guard.max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| io("read", e))?;
    if bytes.len() as u64 > guard.max_bytes {
        return Err(fail(
            Problem::TooLarge,
            format!(
                "grew beyond the {} MiB limit for {} while being read: split it into several files",
                guard.max_bytes >> 20,
                guard.what
            ),
        ));
    }
    Ok(bytes)
}

/// A path the search did not read, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skip {
    pub path: PathBuf,
    pub reason: Reason,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// A hidden entry, `target/` or `node_modules/` (the skip rules).
    Rule,
    /// A folder already searched, reached again through a symbolic link (a loop, or a second link).
    Loop,
    /// A symbolic link leading outside the searched folders (`to`: where it resolves).
    Outside { to: PathBuf, dir: bool },
    /// A folder or catalogue file whose name is not UTF-8.
    NonUtf8 { dir: bool },
    /// A folder that could not be listed.
    UnreadableDir(String),
    /// A catalogue file (by name) that could not be read: a dangling link, a
    /// FIFO or device, too large, no permission (the message).
    Unreadable(String),
    /// The same file as one already found, through another link.
    Same { as_: PathBuf },
}

impl Skip {
    /// Whether a catalogue may have gone unjudged because of this skip:
    /// `check` then fails (exit 2). Skip rules, loops, second links and
    /// folders leading outside are deliberate and only noted.
    pub fn lost(&self) -> bool {
        match &self.reason {
            Reason::Rule | Reason::Loop | Reason::Same { .. } => false,
            Reason::Outside { dir, .. } => !dir,
            Reason::NonUtf8 { .. } | Reason::UnreadableDir(_) | Reason::Unreadable(_) => true,
        }
    }

    /// Why, in words, with what to do.
    pub fn why(&self) -> String {
        match &self.reason {
            Reason::Rule => "hidden entries, target/ and node_modules/ are not searched; name the path to check it".into(),
            Reason::Loop => "a folder already searched, reached again through a symbolic link".into(),
            Reason::Outside { to, dir } => format!(
                "a symbolic link to `{}`, outside the searched folders: {}",
                shown(to),
                if *dir { "links leading outside are not followed; name that folder to check it" } else { "name the file to check it" }
            ),
            Reason::NonUtf8 { dir } => format!(
                "the {} name is not UTF-8: rename it",
                if *dir { "folder" } else { "file" }
            ),
            Reason::UnreadableDir(e) => format!("cannot read the folder: {e}; check its permissions"),
            Reason::Unreadable(m) => m.clone(),
            Reason::Same { as_ } => format!("the same file as `{}`", shown(as_)),
        }
    }
}

/// The catalogue files the search found, and what it skipped.
#[derive(Debug, Default)]
pub struct Found {
    /// In path order, each file once.
    pub files: Vec<PathBuf>,
    pub skipped: Vec<Skip>,
}

/// Finds catalogue files under `paths`: a file is taken as given (the
/// user's choice, whatever its name); a folder is searched recursively for
/// `*.catalogue.toml` and `catalogue.toml`. Skipped: hidden entries,
/// `target/`, `node_modules/`; symbolic links resolving outside the given
/// folders; folders reached twice (loops); names that are not UTF-8. A
/// catalogue-named entry that is not a regular file is reported, not read.
/// A path that does not exist is reported as unreadable.
pub fn find(paths: &[PathBuf]) -> Found {
    let mut found = Found::default();
    let roots: Vec<PathBuf> = paths
        .iter()
        .filter_map(|p| fs::canonicalize(p).ok())
        .filter(|c| c.is_dir())
        .collect();
    let mut seen_dirs: HashSet<PathBuf> = HashSet::new();
    // (display path, canonical path) of every file, deduplicated at the end.
    let mut files: Vec<(PathBuf, PathBuf)> = Vec::new();
    for p in paths {
        let canon = match fs::canonicalize(p) {
            Ok(c) => c,
            Err(e) => {
                let message = match read(p, &Guard::catalogue(u64::MAX, None)) {
                    Err(r) => r.message,
                    Ok(_) => format!("cannot read it: {e}"),
                };
                found.skipped.push(Skip {
                    path: p.clone(),
                    reason: Reason::Unreadable(message),
                });
                continue;
            }
        };
        if canon.is_dir() {
            walk(p, canon, &roots, &mut seen_dirs, &mut files, &mut found);
        } else {
            // A file named on purpose: read whatever its name (read() judges its type).
            files.push((p.clone(), canon));
        }
    }
    files.sort();
    let mut seen: HashSet<PathBuf> = HashSet::new();
    let mut first: std::collections::HashMap<PathBuf, PathBuf> = Default::default();
    for (shown_path, canon) in files {
        if seen.insert(canon.clone()) {
            first.insert(canon, shown_path.clone());
            found.files.push(shown_path);
        } else if first.get(&canon) != Some(&shown_path) {
            let as_ = first.get(&canon).cloned().unwrap_or_default();
            found.skipped.push(Skip {
                path: shown_path,
                reason: Reason::Same { as_ },
            });
        }
    }
    found
}

/// Searches `dir` (canonical `canon`) depth-first with an explicit stack (no
/// recursion: a deep tree cannot overflow the stack).
fn walk(
    dir: &Path,
    canon: PathBuf,
    roots: &[PathBuf],
    seen: &mut HashSet<PathBuf>,
    files: &mut Vec<(PathBuf, PathBuf)>,
    found: &mut Found,
) {
    if !seen.insert(canon) {
        return;
    }
    let mut stack: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let rd = match fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) => {
                found.skipped.push(Skip {
                    path: dir,
                    reason: Reason::UnreadableDir(e.to_string()),
                });
                continue;
            }
        };
        let mut entries = Vec::new();
        for e in rd {
            match e {
                Ok(e) => entries.push(e),
                Err(e) => {
                    found.skipped.push(Skip {
                        path: dir.clone(),
                        reason: Reason::UnreadableDir(e.to_string()),
                    });
                    break;
                }
            }
        }
        entries.sort_by_key(|e| e.file_name());
        let mut subdirs = Vec::new();
        for e in entries {
            let path = e.path();
            let raw = e.file_name();
            let lossy = raw.to_string_lossy();
            let Ok(ft) = e.file_type() else { continue };
            let named = is_catalogue_name(&lossy);
            // Follow a symbolic link to see what it is, and where.
            let (is_dir, target) = if ft.is_symlink() {
                match fs::canonicalize(&path) {
                    Ok(t) => (t.is_dir(), Some(t)),
                    Err(_) => {
                        if named && !lossy.starts_with('.') {
                            let m = read(&path, &Guard::catalogue(u64::MAX, None))
                                .err()
                                .map(|r| r.message)
                                .unwrap_or_else(|| "cannot be resolved".into());
                            found.skipped.push(Skip {
                                path,
                                reason: Reason::Unreadable(m),
                            });
                        }
                        continue;
                    }
                }
            } else {
                (ft.is_dir(), None)
            };
            if !is_dir && !named {
                continue;
            }
            if raw.to_str().is_none() {
                found.skipped.push(Skip {
                    path,
                    reason: Reason::NonUtf8 { dir: is_dir },
                });
                continue;
            }
            if lossy.starts_with('.') || (is_dir && (lossy == "target" || lossy == "node_modules"))
            {
                found.skipped.push(Skip {
                    path,
                    reason: Reason::Rule,
                });
                continue;
            }
            if let Some(t) = &target {
                if !inside(t, roots) {
                    found.skipped.push(Skip {
                        path,
                        reason: Reason::Outside {
                            to: t.clone(),
                            dir: is_dir,
                        },
                    });
                    continue;
                }
            }
            let canon = match target {
                Some(t) => t,
                None => match fs::canonicalize(&path) {
                    Ok(c) => c,
                    Err(e) => {
                        found.skipped.push(Skip {
                            path,
                            reason: if is_dir {
                                Reason::UnreadableDir(e.to_string())
                            } else {
                                Reason::Unreadable(format!("cannot resolve it: {e}"))
                            },
                        });
                        continue;
                    }
                },
            };
            if is_dir {
                if seen.insert(canon) {
                    subdirs.push(path);
                } else if ft.is_symlink() {
                    found.skipped.push(Skip {
                        path,
                        reason: Reason::Loop,
                    });
                }
            } else {
                match fs::metadata(&canon) {
                    Ok(m) if m.is_file() => files.push((path, canon)),
                    Ok(m) => found.skipped.push(Skip {
                        path,
                        reason: Reason::Unreadable(format!(
                            "is {}, not a regular file: only regular files are read (reading it could block or never end)",
                            kind_of(&m.file_type())
                        )),
                    }),
                    Err(e) => found.skipped.push(Skip {
                        path,
                        reason: Reason::Unreadable(format!("cannot read it: {e}")),
                    }),
                }
            }
        }
        // Depth-first in name order: the smallest name is popped first.
        stack.extend(subdirs.into_iter().rev());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pack_guard() -> Guard<'static> {
        Guard::rule_pack(None)
    }

    #[test]
    fn shown_cuts_long_values_and_says_how_long_they_were() {
        assert_eq!(shown_str("abc"), "abc");
        let long = "é".repeat(5_000_000);
        let s = shown_str(&long);
        assert!(s.chars().count() < SHOWN_CHARS + 40, "{}", s.len());
        assert!(s.ends_with("(10000000 bytes in all)"), "{s}");
    }

    #[test]
    fn a_regular_file_is_read_and_a_missing_one_is_reported() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.toml");
        fs::write(&p, "x = 1\n").unwrap();
        assert_eq!(read(&p, &pack_guard()).unwrap(), b"x = 1\n");
        let e = read(&d.path().join("none.toml"), &pack_guard()).unwrap_err();
        assert_eq!(e.problem, Problem::Missing);
    }

    #[test]
    fn a_file_above_the_limit_is_refused_before_reading() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("big.toml");
        fs::write(&p, vec![b'#'; 2048]).unwrap();
        let g = Guard {
            what: "a rule pack",
            max_bytes: 1024,
            within: None,
        };
        let e = read(&p, &g).unwrap_err();
        assert_eq!(e.problem, Problem::TooLarge);
        assert!(e.message.contains("2048 bytes"), "{e}");
    }

    #[test]
    fn a_directory_is_not_a_file() {
        let d = tempfile::tempdir().unwrap();
        let e = read(d.path(), &pack_guard()).unwrap_err();
        assert_eq!(e.problem, Problem::NotRegular);
        assert!(e.message.contains("a directory"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_stdin_are_refused_without_reading() {
        for dev in ["/dev/zero", "/dev/null", "/dev/stdin", "/dev/tty"] {
            if fs::symlink_metadata(dev).is_err() {
                continue;
            }
            let e = read(Path::new(dev), &pack_guard()).unwrap_err();
            assert!(
                matches!(
                    e.problem,
                    Problem::NotRegular | Problem::Dangling | Problem::Io
                ),
                "{dev}: {e}"
            );
        }
        // Through a symlink as well.
        let d = tempfile::tempdir().unwrap();
        let link = d.path().join("p.toml");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let e = read(&link, &pack_guard()).unwrap_err();
        assert_eq!(e.problem, Problem::NotRegular);
        assert!(e.message.contains("character device"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_and_never_blocks() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("p.toml");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success());
        assert!(made, "mkfifo is needed for this test");
        // No writer ever opens it: a blocking open or read would hang the test.
        let e = read(&fifo, &pack_guard()).unwrap_err();
        assert_eq!(e.problem, Problem::NotRegular);
        assert!(e.message.contains("FIFO"), "{e}");
        // The opened-handle check on its own (the race where the path changes
        // after the type check): opening does not block either.
        let f = open(&fifo).unwrap();
        assert!(!f.metadata().unwrap().is_file());
    }

    #[cfg(unix)]
    #[test]
    fn confinement_compares_canonical_paths_not_text() {
        let ws = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("p.toml"), "x = 1\n").unwrap();
        // A symlinked folder inside the workspace that points outside it.
        std::os::unix::fs::symlink(outside.path(), ws.path().join("packs")).unwrap();
        let roots = canonical_roots(&[ws.path()]);
        let within = Within {
            roots: &roots,
            scope: "the workspace folders",
            advice: "move it inside them",
        };
        let via_text = ws.path().join("packs/p.toml");
        assert!(via_text.starts_with(ws.path()), "the text looks inside");
        let e = read(&via_text, &Guard::rule_pack(Some(within))).unwrap_err();
        assert_eq!(e.problem, Problem::Outside);
        assert!(e.message.contains("move it inside them"), "{e}");
        // `..` out of the workspace too.
        let dotdot = ws
            .path()
            .join("..")
            .join(outside.path().file_name().unwrap())
            .join("p.toml");
        let e = read(&dotdot, &Guard::rule_pack(Some(within))).unwrap_err();
        assert_eq!(e.problem, Problem::Outside);
        // A prefix that is not a whole component is not inside.
        assert!(!inside(Path::new("/a/bc/p.toml"), &[PathBuf::from("/a/b")]));
        // Inside is fine.
        fs::write(ws.path().join("q.toml"), "y = 1\n").unwrap();
        assert!(read(&ws.path().join("q.toml"), &Guard::rule_pack(Some(within))).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn find_reports_what_it_skips() {
        let ws = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let w = ws.path();
        fs::write(w.join("a.catalogue.toml"), "").unwrap();
        fs::write(w.join("notes.toml"), "").unwrap();
        for d in [".git", "target", "node_modules"] {
            fs::create_dir(w.join(d)).unwrap();
            fs::write(w.join(d).join("x.catalogue.toml"), "").unwrap();
        }
        fs::create_dir(w.join("sub")).unwrap();
        fs::write(w.join("sub/catalogue.toml"), "").unwrap();
        std::os::unix::fs::symlink(w, w.join("sub/loop")).unwrap();
        std::os::unix::fs::symlink(outside.path(), w.join("out")).unwrap();
        std::os::unix::fs::symlink("/", w.join("root")).unwrap();
        std::os::unix::fs::symlink(w.join("gone"), w.join("dangling.catalogue.toml")).unwrap();
        std::os::unix::fs::symlink(w.join("a.catalogue.toml"), w.join("b.catalogue.toml")).unwrap();
        use std::os::unix::ffi::OsStrExt;
        let bad = std::ffi::OsStr::from_bytes(b"\xff.catalogue.toml");
        fs::write(w.join(bad), "").unwrap();
        let f = find(&[w.to_path_buf()]);
        assert_eq!(
            f.files,
            vec![w.join("a.catalogue.toml"), w.join("sub/catalogue.toml")]
        );
        let why = |name: &str| {
            f.skipped
                .iter()
                .find(|s| s.path == w.join(name))
                .map(|s| s.reason.clone())
                .unwrap_or_else(|| panic!("{name} not reported: {:#?}", f.skipped))
        };
        for d in [".git", "target", "node_modules"] {
            assert_eq!(why(d), Reason::Rule);
        }
        assert_eq!(why("sub/loop"), Reason::Loop);
        assert!(matches!(why("out"), Reason::Outside { dir: true, .. }));
        assert!(matches!(why("root"), Reason::Outside { dir: true, .. }));
        assert!(
            matches!(why("dangling.catalogue.toml"), Reason::Unreadable(m) if m.contains("does not resolve"))
        );
        assert!(matches!(why("b.catalogue.toml"), Reason::Same { .. }));
        let non_utf8 = f
            .skipped
            .iter()
            .find(|s| matches!(s.reason, Reason::NonUtf8 { dir: false }))
            .expect("non-UTF-8 name reported");
        assert!(non_utf8.lost());
        assert!(!f.skipped.iter().any(|s| s.path.ends_with("notes.toml")));
    }
}
