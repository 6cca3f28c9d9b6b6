//! The language server (`catalogue-lsp serve`): tower-lsp over stdio.
//! Owns the protocol: capabilities and position-encoding negotiation,
//! document sync (edits applied synchronously, before any `.await`),
//! versioned push diagnostics through one ordered publisher task, pull
//! diagnostics, configuration, workspace indexing and file watching, and the
//! lifecycle (exit after shutdown even if stdin stays open; exit when the
//! parent dies). Request handlers live in `handlers` (one file each), LSP
//! conversion in `proto`, state in `state`.

pub mod document;
pub mod framing;
/// The request handlers, one file each.
mod handlers;
mod indexer;
mod proto;
mod publication;
mod refresh;
mod refs;
mod screening;
mod shipcache;
mod state;
mod symbols;
pub mod transport;
mod wire;
mod workspace_diag;

use document::read_disk;
use document::{Document, Edit};
use refresh::Refreshes;
use state::{Settings, State};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::mpsc;
use tower_lsp::jsonrpc::Result;
use tower_lsp::lsp_types::*;
use tower_lsp::{LanguageServer, LspService, Server};
use transport::Outbox;

use crate::text::Encoding;

pub struct Backend {
    /// The server's requests to the client (never tower-lsp's `Client`: see `transport`).
    outbox: Arc<Outbox>,
    state: Arc<Mutex<State>>,
    /// Pushed diagnostics, pre-serialised, in order, to stdout.
    publish: mpsc::UnboundedSender<wire::Frame>,
    /// The client pulls diagnostics: results are not pushed.
    pull: Arc<AtomicBool>,
    /// The client can register file watchers dynamically.
    watch: AtomicBool,
    /// The file the background index is parsing (handed to `didOpen`).
    indexing: Arc<indexer::Indexing>,
    /// `workspace/*/refresh` requests, each only if the client declared it.
    refreshes: Arc<Refreshes>,
    /// True once the background index of the workspace is built: a pulled
    /// diagnostic waits for it, so no answer comes from a half-built index
    /// (a licence in a file not yet indexed would read as unknown).
    indexed: Arc<tokio::sync::watch::Sender<bool>>,
    /// Set when the background index starts (`initialized`): from then
    /// until it is built, nothing is analysed or published (the index's end
    /// publishes every open document).
    index_started: AtomicBool,
}

impl Backend {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock must not wedge the server: take the data as it is.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Re-analyses `targets` and queues their diagnostics, under the lock so order is kept.
    /// `origin` is the document the client just edited, if any.
    fn recheck(&self, st: &mut State, targets: &[Url], origin: Option<&Url>) {
        if !self.ready() {
            return;
        }
        deliver(
            st,
            &self.publish,
            &self.refreshes,
            self.pull.load(Ordering::SeqCst),
            targets,
            origin.map(|o| (o, None)),
        );
    }

    /// False while the background index is being built: no answer, pushed
    /// or pulled, comes from half of it (a licence in a file not yet indexed
    /// would read as unknown).
    fn ready(&self) -> bool {
        !self.index_started.load(Ordering::SeqCst) || *self.indexed.borrow()
    }

    fn open_uris(st: &State) -> Vec<Url> {
        st.docs.keys().cloned().collect()
    }

    /// Tells the user something (see [`log`]).
    fn log(&self, typ: MessageType, message: String) {
        log(&self.outbox, typ, message);
    }
}

/// What the user should see goes to the client's log (`window/logMessage`,
/// at its level: editors show stderr as errors, whatever it says); stderr
/// carries it as debug tracing only. Errors go to both.
fn log(outbox: &Outbox, typ: MessageType, message: String) {
    if typ == MessageType::ERROR {
        tracing::error!("{message}");
    } else {
        tracing::debug!("{message}");
    }
    let params = LogMessageParams { typ, message };
    outbox.notify(
        "window/logMessage",
        serde_json::to_value(params).unwrap_or_default(),
    );
}

/// The format of a document by its name (`Format::of_file_name`).
fn format_of(uri: &Url) -> crate::catalogue::Format {
    uri.path_segments()
        .and_then(|mut s| s.next_back())
        .map(crate::catalogue::Format::of_file_name)
        .unwrap_or_default()
}

fn is_catalogue_uri(uri: &Url) -> bool {
    uri.path_segments()
        .and_then(|mut s| s.next_back())
        .is_some_and(crate::catalogue::is_catalogue_name)
}

#[tower_lsp::async_trait]
impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let offered = params
            .capabilities
            .general
            .as_ref()
            .and_then(|g| g.position_encodings.clone())
            .unwrap_or_default();
        let (enc, kind) = if offered.contains(&PositionEncodingKind::UTF8) {
            (Encoding::Utf8, PositionEncodingKind::UTF8)
        } else if offered.contains(&PositionEncodingKind::UTF32) {
            (Encoding::Utf32, PositionEncodingKind::UTF32)
        } else {
            (Encoding::Utf16, PositionEncodingKind::UTF16)
        };
        let pull = params
            .capabilities
            .text_document
            .as_ref()
            .and_then(|t| t.diagnostic.as_ref())
            .is_some();
        self.pull.store(pull, Ordering::SeqCst);
        self.refreshes.set_supported(&params.capabilities);
        let watch = params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false);
        self.watch.store(watch, Ordering::SeqCst);
        {
            let mut st = self.state();
            st.encoding = enc;
            let mut roots: Vec<PathBuf> = params
                .workspace_folders
                .unwrap_or_default()
                .iter()
                .filter_map(|f| f.uri.to_file_path().ok())
                .collect();
            #[allow(deprecated)]
            if roots.is_empty() {
                if let Some(p) = params.root_uri.as_ref().and_then(|u| u.to_file_path().ok()) {
                    roots.push(p);
                }
            }
            st.set_roots(roots);
            if let Some(opts) = &params.initialization_options {
                match Settings::from_json(opts) {
                    Ok(s) => st.set_settings(s),
                    Err(e) => st.pack_error = Some(e),
                }
            }
        }
        if let Some(pid) = params.process_id {
            watch_parent(pid);
        }
        let capabilities = ServerCapabilities {
            position_encoding: Some(kind),
            text_document_sync: Some(TextDocumentSyncCapability::Options(
                TextDocumentSyncOptions {
                    open_close: Some(true),
                    change: Some(TextDocumentSyncKind::INCREMENTAL),
                    save: None,
                    ..Default::default()
                },
            )),
            hover_provider: Some(HoverProviderCapability::Simple(true)),
            completion_provider: Some(CompletionOptions {
                trigger_characters: Some(vec!["\"".into(), "=".into(), "[".into(), " ".into()]),
                ..Default::default()
            }),
            code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
                code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                ..Default::default()
            })),
            definition_provider: Some(OneOf::Left(true)),
            references_provider: Some(OneOf::Left(true)),
            rename_provider: Some(OneOf::Right(RenameOptions {
                prepare_provider: Some(false),
                work_done_progress_options: Default::default(),
            })),
            document_symbol_provider: Some(OneOf::Left(true)),
            workspace_symbol_provider: Some(OneOf::Left(true)),
            inlay_hint_provider: Some(OneOf::Left(true)),
            code_lens_provider: Some(CodeLensOptions {
                resolve_provider: Some(false),
            }),
            // `catalogue/codeLens` (the lenses of a range) and, for a pull
            // client, `catalogue/diagnostic` (a pull answered as a delta) are there too.
            experimental: Some(serde_json::json!({ RANGED_LENSES: true, DELTA_PULL: pull })),
            diagnostic_provider: pull.then(|| {
                DiagnosticServerCapabilities::Options(DiagnosticOptions {
                    identifier: Some("catalogue-lsp".into()),
                    inter_file_dependencies: true,
                    workspace_diagnostics: true,
                    ..Default::default()
                })
            }),
            ..Default::default()
        };
        Ok(InitializeResult {
            capabilities,
            server_info: Some(ServerInfo {
                name: "catalogue-lsp".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        let (roots, pack) = {
            let st = self.state();
            (
                st.roots.clone(),
                format!(
                    "{} {}",
                    st.packs.default_pack().id,
                    st.packs.default_pack().version
                ),
            )
        };
        self.log(
            MessageType::INFO,
            format!(
                "catalogue-lsp {}: rule pack {pack}; workspace folders: {}",
                env!("CARGO_PKG_VERSION"),
                if roots.is_empty() {
                    "none".to_string()
                } else {
                    roots
                        .iter()
                        .map(|r| r.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
        );
        // Index the workspace off the protocol path; publish for open
        // documents when done; say what could not be read or was skipped.
        let state = self.state.clone();
        let publish = self.publish.clone();
        let refreshes = self.refreshes.clone();
        let pull = self.pull.load(Ordering::SeqCst);
        let indexing = self.indexing.clone();
        let log = self.outbox.clone();
        let indexed_flag = self.indexed.clone();
        let indexed_after = self.indexed.clone();
        self.index_started.store(true, Ordering::SeqCst);
        tokio::spawn(async move {
            let done = tokio::task::spawn_blocking(move || {
                // Tests slow the index down to see that nothing answers from it half-built.
                if let Some(ms) = std::env::var("CATALOGUE_LSP_INDEX_DELAY_MS")
                    .ok()
                    .and_then(|v| v.parse::<u64>().ok())
                {
                    std::thread::sleep(Duration::from_millis(ms.min(60_000)));
                }
                let indexed = indexer::index(&state, &indexing, &roots);
                let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
                // Open documents were not analysed while the index was
                // built: analyse and publish them now.
                let open: Vec<Url> = st.docs.keys().cloned().collect();
                if !open.is_empty() {
                    deliver(&mut st, &publish, &refreshes, pull, &open, None);
                }
                // Ready from here, under the same lock: an edit that comes
                // next is analysed as usual, none falls between.
                indexed_flag.send_replace(true);
                let summary = (
                    false,
                    format!(
                        "workspace indexed: {} catalogue file{}, {} path{} skipped",
                        indexed.loaded,
                        if indexed.loaded == 1 { "" } else { "s" },
                        indexed.skipped.len(),
                        if indexed.skipped.len() == 1 { "" } else { "s" },
                    ),
                );
                std::iter::once(summary)
                    .chain(indexed.log_lines(50))
                    .collect::<Vec<_>>()
            })
            .await;
            // Pulled diagnostics may be answered now (also after a failed index:
            // never wait for ever).
            indexed_after.send_replace(true);
            for (warn, line) in done.unwrap_or_default() {
                let typ = if warn {
                    MessageType::WARNING
                } else {
                    MessageType::INFO
                };
                self::log(&log, typ, line);
            }
        });
        // Watch catalogue files, if the client can register watchers. The
        // request is sent before this returns; its reply is awaited apart
        // (and a reply that comes after the outbox gave up is dropped).
        if self.watch.load(Ordering::SeqCst) {
            let opts = DidChangeWatchedFilesRegistrationOptions {
                watchers: vec![FileSystemWatcher {
                    glob_pattern: GlobPattern::String("**/*.toml".into()),
                    kind: None,
                }],
            };
            let params = RegistrationParams {
                registrations: vec![Registration {
                    id: "catalogue-watch".into(),
                    method: "workspace/didChangeWatchedFiles".into(),
                    register_options: serde_json::to_value(opts).ok(),
                }],
            };
            let waiting = self.outbox.send(
                "client/registerCapability",
                serde_json::to_value(params).ok(),
            );
            tokio::spawn(async move {
                if let Some(Err(e)) = waiting.reply().await {
                    tracing::debug!(%e, "the client refused to watch files");
                }
            });
        }
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let doc = params.text_document;
        let mut st = self.state();
        let before = st
            .file(&doc.uri)
            .map(|f| State::exports(f.text, f.catalogue))
            .unwrap_or_default();
        // The editor's text is the truth now; the disk copy is read again on
        // close. When the index holds this very text, its parse is adopted.
        let indexed = st
            .disk
            .remove(&doc.uri)
            .or_else(|| self.indexing.take(&doc.uri));
        let new = match indexed {
            Some(f) if f.text == doc.text && f.catalogue.diagnostics.is_empty() => {
                Document::adopt(f, doc.version)
            }
            _ => Document::with_format(doc.text, doc.version, format_of(&doc.uri)),
        };
        let after = State::exports(&new.text, &new.catalogue);
        st.docs.insert(doc.uri.clone(), new);
        let targets = st.affected(&doc.uri, State::changed_exports(&before, &after));
        self.recheck(&mut st, &targets, Some(&doc.uri));
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        let mut st = self.state();
        let enc = st.encoding;
        let Some(doc) = st.docs.get_mut(&uri) else {
            drop(st);
            self.log(
                MessageType::WARNING,
                format!("didChange for {uri}, which is not open: ignored"),
            );
            return;
        };
        let t = std::time::Instant::now();
        let Some(edit) = doc.apply(params.content_changes, params.text_document.version, enc)
        else {
            let version = params.text_document.version;
            drop(st);
            self.log(
                MessageType::WARNING,
                format!("didChange for {uri} with an old version ({version}): ignored"),
            );
            return;
        };
        tracing::debug!(
            apply_ms = t.elapsed().as_secs_f64() * 1e3,
            "edit applied and parsed"
        );
        let keys = state::Keys {
            skus: edit.changed.skus.iter().cloned().collect(),
            licences: edit.changed.licences.iter().cloned().collect(),
        };
        if !self.ready() {
            return;
        }
        let targets = st.affected(&uri, keys);
        deliver(
            &mut st,
            &self.publish,
            &self.refreshes,
            self.pull.load(Ordering::SeqCst),
            &targets,
            Some((&uri, Some(&edit))),
        );
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        let mut st = self.state();
        st.docs.remove(&uri);
        st.forget(&uri);
        let on_disk = uri
            .to_file_path()
            .ok()
            .filter(|p| p.is_file() && is_catalogue_uri(&uri));
        if let Some(p) = on_disk {
            // The user opened it: read it again wherever it is, guarded.
            match read_disk(&p, None) {
                Ok(f) => {
                    st.disk.insert(uri.clone(), f);
                }
                Err(e) => self.log(
                    MessageType::WARNING,
                    format!("not re-read after closing: {e}"),
                ),
            }
        } else {
            st.disk.remove(&uri);
        }
        if !self.pull.load(Ordering::SeqCst) {
            let _ = self.publish.send(wire::publish(&uri, None, []));
        }
        workspace_diag::forget_unopened(&mut st);
        let open = Self::open_uris(&st);
        self.recheck(&mut st, &open, None);
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        let mut st = self.state();
        match Settings::from_json(&params.settings) {
            Ok(s) => st.set_settings(s),
            Err(e) => st.pack_error = Some(e),
        }
        workspace_diag::forget_unopened(&mut st);
        let open = Self::open_uris(&st);
        self.recheck(&mut st, &open, None);
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let mut st = self.state();
        let mut packs_changed = false;
        let mut disk_changed = false;
        // Clients repeat entries (VS Code sends a save two or three times):
        // each file once, as its last entry says.
        let mut last: Vec<FileEvent> = Vec::with_capacity(params.changes.len());
        for ch in params.changes.into_iter().rev() {
            if !last.iter().any(|l| l.uri == ch.uri) {
                last.push(ch);
            }
        }
        for ch in last.into_iter().rev() {
            let Ok(path) = ch.uri.to_file_path() else {
                continue;
            };
            if !is_catalogue_uri(&ch.uri) {
                // Any other TOML file may be a rule pack: reload packs.
                packs_changed = true;
                continue;
            }
            if st.docs.contains_key(&ch.uri) {
                // An open document is judged by its buffer: what was saved
                // changes nothing now, and its disk copy is read on close.
                continue;
            }
            disk_changed = true;
            if ch.typ == FileChangeType::DELETED {
                st.disk.remove(&ch.uri);
            } else {
                match read_disk(&path, st.within()) {
                    Ok(f) => {
                        st.disk.insert(ch.uri.clone(), f);
                    }
                    Err(e) => {
                        self.log(
                            MessageType::WARNING,
                            format!("changed catalogue not read: {e}"),
                        );
                        st.disk.remove(&ch.uri);
                    }
                }
            }
        }
        if !packs_changed && !disk_changed {
            return;
        }
        if packs_changed {
            let s = st.settings.clone();
            st.set_settings(s);
        }
        workspace_diag::forget_unopened(&mut st);
        let open = Self::open_uris(&st);
        self.recheck(&mut st, &open, None);
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let p = params.text_document_position_params;
        Ok(guard(|| handlers::hover(&self.state(), &p.text_document.uri, p.position)).flatten())
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let p = params.text_document_position;
        let items = guard(|| handlers::completion(&self.state(), &p.text_document.uri, p.position))
            .unwrap_or_default();
        Ok(Some(CompletionResponse::Array(items)))
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        Ok(guard(|| {
            handlers::code_actions(&self.state(), &params.text_document.uri, params.range)
        }))
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let p = params.text_document_position_params;
        Ok(guard(|| {
            let st = self.state();
            let target = handlers::target_at_position(&st, &p.text_document.uri, p.position)?;
            let (uri, span, _) = handlers::occurrences(&st, &target)
                .into_iter()
                .find(|o| o.2)?;
            handlers::location(&st, &uri, span).map(GotoDefinitionResponse::Scalar)
        })
        .flatten())
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let p = params.text_document_position;
        let include_decl = params.context.include_declaration;
        Ok(guard(|| {
            let st = self.state();
            let target = handlers::target_at_position(&st, &p.text_document.uri, p.position)?;
            Some(
                handlers::occurrences(&st, &target)
                    .into_iter()
                    .filter(|o| include_decl || !o.2)
                    .filter_map(|(u, s, _)| handlers::location(&st, &u, s))
                    .collect(),
            )
        })
        .flatten())
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let p = params.text_document_position;
        if params.new_name.trim().is_empty() {
            return Err(tower_lsp::jsonrpc::Error::invalid_params(
                "the new name is empty",
            ));
        }
        let edit = guard(|| {
            let st = self.state();
            let target = handlers::target_at_position(&st, &p.text_document.uri, p.position)?;
            Some(handlers::rename(&st, &target, &params.new_name))
        })
        .flatten();
        match edit {
            Some(Err(e)) => Err(tower_lsp::jsonrpc::Error::invalid_params(e)),
            Some(Ok(edit)) => Ok(Some(edit)),
            None => Ok(None),
        }
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        let t = std::time::Instant::now();
        // As the raw path answers it (see `symbols`): grouped above 1 000 products.
        let json = guard(|| symbols::outline_json(&self.state(), &params.text_document.uri));
        let symbols = json.and_then(|b| serde_json::from_slice(&b).ok());
        tracing::debug!(ms = t.elapsed().as_secs_f64() * 1e3, "documentSymbol built");
        Ok(symbols)
    }

    async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<Vec<SymbolInformation>>> {
        Ok(guard(|| {
            handlers::workspace_symbols(&self.state(), &params.query)
        }))
    }

    async fn inlay_hint(&self, params: InlayHintParams) -> Result<Option<Vec<InlayHint>>> {
        Ok(guard(|| {
            handlers::inlay_hints(&self.state(), &params.text_document.uri, params.range)
        }))
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        let t = std::time::Instant::now();
        let lenses = guard(|| handlers::code_lenses(&self.state(), &params.text_document.uri));
        tracing::debug!(ms = t.elapsed().as_secs_f64() * 1e3, "codeLens built");
        Ok(lenses)
    }

    async fn diagnostic(
        &self,
        params: DocumentDiagnosticParams,
    ) -> Result<DocumentDiagnosticReportResult> {
        let uri = params.text_document.uri;
        self.wait_for_index().await;
        let previous = params.previous_result_id;
        let report =
            guard(|| workspace_diag::document_report(&mut self.state(), &uri, previous.as_deref()))
                .unwrap_or_else(|| {
                    DocumentDiagnosticReport::Full(RelatedFullDocumentDiagnosticReport::default())
                });
        Ok(DocumentDiagnosticReportResult::Report(report))
    }

    async fn workspace_diagnostic(
        &self,
        params: WorkspaceDiagnosticParams,
    ) -> Result<WorkspaceDiagnosticReportResult> {
        self.wait_for_index().await;
        let t = std::time::Instant::now();
        let report = guard(|| {
            workspace_diag::workspace_report(&mut self.state(), &params.previous_result_ids)
        })
        .unwrap_or_default();
        tracing::debug!(
            files = report.items.len(),
            ms = t.elapsed().as_secs_f64() * 1e3,
            "workspace diagnostics"
        );
        Ok(WorkspaceDiagnosticReportResult::Report(report))
    }
}

impl Backend {
    /// Not from a half-built index: waits until the background index is
    /// built (bounded: a client that never sends `initialized` still gets
    /// an answer).
    async fn wait_for_index(&self) {
        let mut ready = self.indexed.subscribe();
        let _ = tokio::time::timeout(INDEX_WAIT, ready.wait_for(|done| *done)).await;
    }
}

/// The experimental capability saying the server answers `catalogue/codeLens`.
const RANGED_LENSES: &str = "catalogueCodeLensRange";

/// The experimental capability saying the server answers `catalogue/diagnostic`.
const DELTA_PULL: &str = "catalogueDiagnosticDelta";
/// `catalogue/diagnostic`: `textDocument/diagnostic` whose answer may be a
/// delta from the last one (`workspace_diag::delta_report_json`). Answered
/// in `Raw` once the index is built; before, here, after waiting for it.
const DELTA_METHOD: &str = "catalogue/diagnostic";

/// `catalogue/codeLens`: `textDocument/codeLens` with a range. LSP's code
/// lens request has none, so a client gets a lens per product of the file
/// after every edit (10 000 lenses, 1.5 MB at 10 000 products) when it
/// shows the ~50 in view; the VS Code extension asks for the lines around
/// the view instead.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RangedCodeLensParams {
    pub text_document: TextDocumentIdentifier,
    pub range: Range,
}

impl Backend {
    async fn delta_diagnostic(
        &self,
        params: DocumentDiagnosticParams,
    ) -> Result<serde_json::Value> {
        self.wait_for_index().await;
        let uri = params.text_document.uri;
        let previous = params.previous_result_id;
        let bytes = guard(|| {
            workspace_diag::delta_report_json(&mut self.state(), &uri, previous.as_deref())
        });
        Ok(bytes
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_else(|| serde_json::json!({"kind": "full", "items": []})))
    }

    async fn ranged_code_lens(
        &self,
        params: RangedCodeLensParams,
    ) -> Result<Option<Vec<CodeLens>>> {
        Ok(guard(|| {
            handlers::code_lenses_in(&self.state(), &params.text_document.uri, Some(params.range))
        }))
    }
}

/// How long a pulled diagnostic waits for the background index at most.
const INDEX_WAIT: Duration = Duration::from_secs(120);

/// Analyses `targets` and sends the results: pushed with their versions, or,
/// for a pull client, a diagnostic refresh when documents other than
/// `origin` changed; code lenses and inlay hints are refreshed when open
/// documents other than `origin` changed (the client re-asks for `origin`'s
/// itself after its edit). `origin` is the document the client just
/// changed, with the edit if any.
fn deliver(
    st: &mut State,
    out: &mpsc::UnboundedSender<wire::Frame>,
    refreshes: &Refreshes,
    pull: bool,
    targets: &[Url],
    origin: Option<(&Url, Option<&Edit>)>,
) {
    let t = std::time::Instant::now();
    let edit = origin.and_then(|(u, e)| Some((u, e?)));
    st.analyse(targets, edit);
    let analysed = t.elapsed();
    let others = || targets.iter().filter(|u| Some(*u) != origin.map(|o| o.0));
    if others().any(|u| st.docs.contains_key(u)) {
        refreshes.code_lenses.ask();
        refreshes.inlay_hints.ask();
    }
    if pull {
        if others().next().is_some() {
            refreshes.diagnostics.ask();
        }
    } else {
        for uri in targets {
            // Files that are not open are analysed only for pull clients.
            let Some(version) = st.docs.get(uri).map(|d| d.version) else {
                continue;
            };
            let version = Some(version);
            let Some((items, range)) = st.publication(uri) else {
                continue;
            };
            let frame = wire::publish_items(uri, version, items, range);
            let _ = out.send(frame);
        }
    }
    tracing::debug!(
        files = targets.len(),
        analyse_ms = analysed.as_secs_f64() * 1e3,
        total_ms = t.elapsed().as_secs_f64() * 1e3,
        "rechecked"
    );
}

/// Runs a read-only request, turning a panic into "no result" instead of a dead server.
fn guard<T>(f: impl FnOnce() -> T) -> Option<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(v) => Some(v),
        Err(_) => {
            tracing::error!("a request handler panicked; the request gets no result");
            None
        }
    }
}

/// Exits when the editor process that started us is gone.
fn watch_parent(pid: u32) {
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    if !proc_dir.exists() {
        return;
    }
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(3)).await;
            if !proc_dir.exists() {
                tracing::debug!(pid, "parent process exited; exiting");
                std::process::exit(0);
            }
        }
    });
}

/// Set once `shutdown` was accepted: `exit` then ends with code 0, else 1 (LSP spec).
static SHUTDOWN: AtomicBool = AtomicBool::new(false);
/// Set once `initialize` was answered without error. tower-lsp takes no
/// other request until then, and accepts `shutdown` from then on (its params
/// are normalised by `transport`), so `shutdown` is known to be accepted as
/// soon as it is read: `exit` sent right behind it still ends with 0.
static INITIALIZED: AtomicBool = AtomicBool::new(false);

/// How long a request to the client waits for its reply (registration,
/// diagnostic refresh); `CATALOGUE_LSP_CLIENT_TIMEOUT_MS` changes it (tests).
fn client_timeout() -> Duration {
    std::env::var("CATALOGUE_LSP_CLIENT_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_secs(5), Duration::from_millis)
}

/// Wraps the LSP service to end the process on `exit`: tower-lsp 0.20 stops
/// serving but keeps reading stdin while the client holds it open (#399).
struct ExitOnExit<S>(S, Raw);

/// What answers the requests written straight to JSON (see `symbols`).
#[derive(Clone)]
struct Raw {
    state: Arc<Mutex<State>>,
    cache: Arc<symbols::Cache>,
    out: mpsc::UnboundedSender<wire::Frame>,
    /// `Backend::indexed`: pulled diagnostics are answered here once the index is built.
    indexed: Arc<tokio::sync::watch::Sender<bool>>,
}

impl Raw {
    /// Answers `req` if it is one of the requests written straight to
    /// JSON and its params can be read (else tower-lsp answers it).
    fn take(
        &self,
        req: &tower_lsp::jsonrpc::Request,
    ) -> Option<impl std::future::Future<Output = ()> + Send + 'static> {
        let kind = symbols::Kind::of(req.method());
        // A pull before the index is built waits for it in `Backend::diagnostic`,
        // where tower-lsp can cancel it; once built, it is answered here at once.
        let delta = req.method() == DELTA_METHOD;
        let pull = (req.method() == "textDocument/diagnostic" || delta) && *self.indexed.borrow();
        if (kind.is_none() && !pull)
            || !INITIALIZED.load(Ordering::SeqCst)
            || SHUTDOWN.load(Ordering::SeqCst)
        {
            return None;
        }
        let id = req.id()?.clone();
        let doc: TextDocumentIdentifier =
            serde_json::from_value(req.params()?.get("textDocument")?.clone()).ok()?;
        let previous = req
            .params()
            .and_then(|p| p.get("previousResultId")?.as_str().map(str::to_string));
        let raw = self.clone();
        // Computed when the request's turn comes (after the edits before it), like a handler.
        Some(async move {
            let t = std::time::Instant::now();
            let bytes = guard(|| {
                let mut st = raw.state.lock().unwrap_or_else(|e| e.into_inner());
                match kind {
                    Some(kind) => raw.cache.answer(&st, &doc.uri, kind),
                    None if delta => Arc::new(workspace_diag::delta_report_json(
                        &mut st,
                        &doc.uri,
                        previous.as_deref(),
                    )),
                    None => Arc::new(workspace_diag::document_report_json(
                        &mut st,
                        &doc.uri,
                        previous.as_deref(),
                    )),
                }
            })
            .unwrap_or_else(|| {
                Arc::new(if pull {
                    br#"{"kind":"full","items":[]}"#.to_vec()
                } else {
                    b"null".to_vec()
                })
            });
            tracing::debug!(?kind, ms = t.elapsed().as_secs_f64() * 1e3, "answered");
            let _ = raw.out.send(symbols::response(&id, bytes));
        })
    }
}

type Answer = Option<tower_lsp::jsonrpc::Response>;

impl<S> tower::Service<tower_lsp::jsonrpc::Request> for ExitOnExit<S>
where
    S: tower::Service<tower_lsp::jsonrpc::Request, Response = Answer>,
    S::Future: Send + 'static,
{
    type Response = Answer;
    type Error = S::Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = std::result::Result<Answer, S::Error>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::result::Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: tower_lsp::jsonrpc::Request) -> Self::Future {
        let initialize = req.method() == "initialize";
        if req.method() == "shutdown" && INITIALIZED.load(Ordering::SeqCst) {
            SHUTDOWN.store(true, Ordering::SeqCst);
        }
        if req.method() == "exit" {
            tokio::spawn(async {
                // Let the responses already queued reach stdout first.
                tokio::time::sleep(Duration::from_millis(50)).await;
                std::process::exit(if SHUTDOWN.load(Ordering::SeqCst) {
                    0
                } else {
                    1
                });
            });
        }
        if let Some(answer) = self.1.take(&req) {
            return Box::pin(async move {
                answer.await;
                Ok(None)
            });
        }
        let fut = self.0.call(req);
        Box::pin(async move {
            let answer = fut.await?;
            if initialize && answer.as_ref().is_some_and(|r| r.is_ok()) {
                INITIALIZED.store(true, Ordering::SeqCst);
            }
            Ok(answer)
        })
    }
}

/// Runs the server on stdin/stdout until `exit` (or stdin closes).
pub fn serve() -> i32 {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CATALOGUE_LSP_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        // stderr is for tracing: editors show every line of it as an error
        // (Neovim's LSP log), so only warnings by default; what the user
        // should read goes through `window/logMessage`.
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return 2;
        }
    };
    let served = rt.block_on(async {
        // stdout carries tower-lsp's frames and the pre-serialised ones, whole, in order.
        let (to_stdout, frames) = mpsc::unbounded_channel::<wire::Frame>();
        transport::widen_stdout_pipe();
        if let Err(e) = transport::write_frames(frames, std::io::stdout()) {
            tracing::error!("cannot start the stdout writer: {e}");
            return false;
        }
        let outbox = Arc::new(Outbox::new(to_stdout.clone(), client_timeout()));
        let refreshes = Arc::new(Refreshes::default());
        refreshes.start(&outbox);
        let state = Arc::new(Mutex::new(State::default()));
        let indexed = Arc::new(tokio::sync::watch::channel(false).0);
        let raw = Raw {
            state: state.clone(),
            cache: Arc::default(),
            out: to_stdout.clone(),
            indexed: indexed.clone(),
        };
        let (service, socket) = LspService::build(|_client| Backend {
            outbox: outbox.clone(),
            state,
            publish: to_stdout.clone(),
            pull: Arc::new(AtomicBool::new(false)),
            watch: AtomicBool::new(false),
            indexing: Arc::default(),
            refreshes: refreshes.clone(),
            indexed: indexed.clone(),
            index_started: AtomicBool::new(false),
        })
        .custom_method("catalogue/codeLens", Backend::ranged_code_lens)
        .custom_method(DELTA_METHOD, Backend::delta_diagnostic)
        .finish();
        // Frames pass through `transport`, which checks them before tower-lsp sees them.
        let (to_server, from_client) = tokio::io::duplex(1 << 16);
        let answers = to_stdout.clone();
        let replies = outbox.clone();
        tokio::spawn(async move {
            transport::forward(tokio::io::stdin(), to_server, answers, &replies).await;
        });
        let (from_server, server_out) = tokio::io::duplex(1 << 16);
        tokio::spawn(transport::read_frames(server_out, to_stdout));
        // A panic inside tower-lsp must end the process, not leave it deaf.
        let served = tokio::spawn(
            Server::new(from_client, from_server, socket).serve(ExitOnExit(service, raw)),
        );
        match served.await {
            Ok(()) => true,
            Err(e) => {
                tracing::error!("the protocol layer stopped: {e}");
                false
            }
        }
    });
    // Do not wait for the blocking stdin reader: it may never return while the client keeps stdin open.
    rt.shutdown_background();
    if served && SHUTDOWN.load(Ordering::SeqCst) {
        0
    } else {
        1
    }
}
