//! The background index of the workspace's catalogue files (read from disk
//! through the guarded reader, so that open documents can refer to them;
//! what it skipped or could not read is returned for the log), and its
//! hand-over to `didOpen`: a document opened while the indexer parses that very file
//! takes the indexer's parse instead of parsing the text a second time
//! beside it (twice the memory and half the cores at start-up).

use super::document::{DiskFile, read_disk};
use super::state::State;
use crate::fsread::{Reason, Skip, Within};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;
use tower_lsp::lsp_types::Url;

/// The file the indexer is parsing now, shared with `didOpen`.
#[derive(Default)]
pub struct Indexing {
    now: Mutex<Option<Parsing>>,
    done: Condvar,
}

struct Parsing {
    uri: Url,
    /// A `didOpen` of this file waits for the parse.
    waiting: bool,
    /// The parse, once done, for the waiting `didOpen`.
    parse: Option<Option<DiskFile>>,
}

/// How long `didOpen` waits for the indexer's parse before parsing itself.
const HAND_OVER_WAIT: Duration = Duration::from_secs(30);

impl Indexing {
    fn slot(&self) -> MutexGuard<'_, Option<Parsing>> {
        self.now.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Called by `didOpen` with the state locked: when the indexer is
    /// parsing `uri`, waits for that parse and takes it. The indexer needs
    /// no state lock until it has handed the parse over, so this cannot
    /// deadlock; a parse that never comes ends the wait after a while.
    pub fn take(&self, uri: &Url) -> Option<DiskFile> {
        let mut slot = self.slot();
        match slot.as_mut() {
            Some(p) if &p.uri == uri => p.waiting = true,
            _ => return None,
        }
        let (mut slot, _) = self
            .done
            .wait_timeout_while(slot, HAND_OVER_WAIT, |s| {
                s.as_ref().is_some_and(|p| p.parse.is_none())
            })
            .unwrap_or_else(|e| e.into_inner());
        match slot.as_mut() {
            Some(p) if p.parse.is_some() => slot.take().and_then(|p| p.parse).flatten(),
            Some(p) => {
                // Waited in vain: the indexer keeps its parse (and drops it, the file being open).
                p.waiting = false;
                None
            }
            None => None,
        }
    }

    /// Parses the file at `path` for the index, unless it is open; hands
    /// the parse to a `didOpen` that waits for it.
    fn parse(
        &self,
        state: &Mutex<State>,
        uri: &Url,
        path: &Path,
        within: Within,
        skipped: &mut Vec<Skip>,
    ) -> Option<DiskFile> {
        if !self.claim(state, uri) {
            return None;
        }
        let parsed = match std::panic::catch_unwind(|| read_disk(path, Some(within))) {
            Ok(Ok(f)) => Some(f),
            Ok(Err(e)) => {
                skipped.push(Skip {
                    path: path.to_path_buf(),
                    reason: Reason::Unreadable(e.message),
                });
                None
            }
            Err(_) => None,
        };
        self.finish(parsed)
    }

    /// Marks `uri` as being parsed, with the state locked so that a
    /// `didOpen` either ran before (the document is open: false) or will
    /// find the mark.
    fn claim(&self, state: &Mutex<State>, uri: &Url) -> bool {
        let st = lock(state);
        if st.docs.contains_key(uri) {
            return false;
        }
        *self.slot() = Some(Parsing {
            uri: uri.clone(),
            waiting: false,
            parse: None,
        });
        true
    }

    /// The parse of the claimed file: given to a waiting `didOpen` (None
    /// is returned), else returned for the index.
    fn finish(&self, parsed: Option<DiskFile>) -> Option<DiskFile> {
        let mut slot = self.slot();
        match slot.as_mut() {
            Some(p) if p.waiting => {
                p.parse = Some(parsed);
                self.done.notify_all();
                None
            }
            _ => {
                *slot = None;
                parsed
            }
        }
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// What indexing did: how many files the index gained, and what it
/// skipped or could not read, and why.
#[derive(Debug, Default)]
pub struct Indexed {
    pub loaded: usize,
    pub skipped: Vec<Skip>,
}

impl Indexed {
    /// Log lines for the client (`window/logMessage`) and stderr: one per
    /// path that may have hidden a catalogue, then the deliberate skips
    /// grouped; at most `max` lines, the rest counted.
    pub fn log_lines(&self, max: usize) -> Vec<(bool, String)> {
        let notes = crate::source::skip_notes(&self.skipped);
        let mut out: Vec<(bool, String)> = notes
            .iter()
            .take(max)
            .map(|n| {
                let warn = n.starts_with("error:");
                let text = n
                    .strip_prefix("error: ")
                    .or_else(|| n.strip_prefix("note: "))
                    .unwrap_or(n);
                (warn, format!("workspace index: {text}"))
            })
            .collect();
        if notes.len() > max {
            out.push((
                true,
                format!(
                    "workspace index: {} more lines not shown",
                    notes.len() - max
                ),
            ));
        }
        out
    }
}

/// Reads and parses every catalogue file under `roots` that is not open,
/// one at a time, each kept as soon as it is parsed. A folder or file that
/// cannot be read is skipped and reported; the others are still indexed.
/// Folders reached through symbolic links leading outside the workspace are
/// not walked, and every file read must resolve inside it.
pub fn index(state: &Mutex<State>, indexing: &Indexing, roots: &[PathBuf]) -> Indexed {
    let found = crate::fsread::find(roots);
    let canonical = crate::fsread::canonical_roots(roots);
    let within = Within {
        roots: &canonical,
        scope: "the workspace folders",
        advice: "links leading outside the workspace are not followed",
    };
    let mut out = Indexed {
        loaded: 0,
        skipped: found.skipped,
    };
    for p in found.files {
        let Ok(uri) = Url::from_file_path(&p) else {
            continue;
        };
        let Some(f) = indexing.parse(state, &uri, &p, within, &mut out.skipped) else {
            continue;
        };
        let mut st = lock(state);
        if !st.docs.contains_key(&uri) {
            st.disk.insert(uri, f);
            out.loaded += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue;
    use crate::text::LineIndex;
    use std::sync::Arc;

    fn disk(text: &str) -> DiskFile {
        DiskFile {
            names: crate::server::document::next_names(),
            text: text.to_string(),
            lines: LineIndex::new(text),
            catalogue: catalogue::parse(text),
            format: catalogue::Format::Toml,
        }
    }

    fn uri(name: &str) -> Url {
        Url::parse(&format!("file:///w/{name}")).unwrap()
    }

    #[test]
    fn an_open_waiting_for_the_file_being_parsed_gets_that_parse() {
        let state = Mutex::new(State::default());
        let indexing = Arc::new(Indexing::default());
        let a = uri("a.catalogue.toml");
        assert!(indexing.claim(&state, &a));
        let waiter = {
            let (indexing, a) = (indexing.clone(), a.clone());
            std::thread::spawn(move || indexing.take(&a))
        };
        // Hand over only once the open is waiting (otherwise the index keeps it).
        while !indexing.slot().as_ref().is_some_and(|p| p.waiting) {
            std::thread::yield_now();
        }
        assert!(indexing.finish(Some(disk("[catalogue]\n"))).is_none());
        let got = waiter.join().unwrap().expect("handed over");
        assert_eq!(got.text, "[catalogue]\n");
        assert!(indexing.slot().is_none());
    }

    #[test]
    fn without_a_waiting_open_the_index_keeps_its_parse() {
        let state = Mutex::new(State::default());
        let indexing = Indexing::default();
        let (a, b) = (uri("a.catalogue.toml"), uri("b.catalogue.toml"));
        assert!(indexing.claim(&state, &a));
        // Opening another file does not wait.
        assert!(indexing.take(&b).is_none());
        assert!(indexing.finish(Some(disk("x = 1\n"))).is_some());
        assert!(indexing.take(&a).is_none(), "nothing is being parsed now");
    }

    #[test]
    fn an_open_document_is_not_claimed() {
        let state = Mutex::new(State::default());
        let a = uri("a.catalogue.toml");
        lock(&state).docs.insert(
            a.clone(),
            crate::server::document::Document::new(String::new(), 1),
        );
        assert!(!Indexing::default().claim(&state, &a));
    }
}
