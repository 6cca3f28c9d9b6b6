//! The server's `workspace/*/refresh` requests: asking the client to pull
//! again what it shows for documents it did not edit (diagnostics, code
//! lenses, inlay hints) when another file's change moved them — a licence
//! register edited, a referenced SKU renamed, the index built.
//!
//! Each kind goes only to a client that declared its `refreshSupport`. At
//! most one of each kind waits for the client's reply at a time: refreshes
//! asked for meanwhile are coalesced into one more, sent after the reply
//! (or after the outbox's timeout, so a client that never answers costs one
//! waiting request, never a queue and never a wedged publisher).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;

use super::transport::Outbox;

/// One kind of refresh.
#[derive(Default)]
pub struct Refresher {
    /// The client declared `refreshSupport` for this kind.
    supported: AtomicBool,
    /// Holds at most one permit: a refresh is due.
    due: Notify,
}

impl Refresher {
    pub fn set_supported(&self, yes: bool) {
        self.supported.store(yes, Ordering::SeqCst);
    }

    /// Marks a refresh as due (a no-op for a client without support).
    pub fn ask(&self) {
        if self.supported.load(Ordering::SeqCst) {
            self.due.notify_one();
        }
    }

    /// Sends `method` each time a refresh is due, one at a time.
    async fn run(self: Arc<Self>, outbox: Arc<Outbox>, method: &'static str) {
        loop {
            self.due.notified().await;
            let _ = outbox.request(method, None).await;
        }
    }
}

/// The refreshes the server can ask for.
#[derive(Default)]
pub struct Refreshes {
    pub diagnostics: Arc<Refresher>,
    pub code_lenses: Arc<Refresher>,
    pub inlay_hints: Arc<Refresher>,
}

impl Refreshes {
    /// Starts one sender task per kind (inside the server's runtime).
    pub fn start(&self, outbox: &Arc<Outbox>) {
        for (r, method) in [
            (&self.diagnostics, "workspace/diagnostic/refresh"),
            (&self.code_lenses, "workspace/codeLens/refresh"),
            (&self.inlay_hints, "workspace/inlayHint/refresh"),
        ] {
            tokio::spawn(r.clone().run(outbox.clone(), method));
        }
    }

    /// Records what the client declared in `initialize`.
    pub fn set_supported(&self, caps: &tower_lsp::lsp_types::ClientCapabilities) {
        let ws = caps.workspace.as_ref();
        let declared = |f: Option<bool>| f.unwrap_or(false);
        self.diagnostics.set_supported(declared(
            ws.and_then(|w| w.diagnostic.as_ref())
                .and_then(|d| d.refresh_support),
        ));
        self.code_lenses.set_supported(declared(
            ws.and_then(|w| w.code_lens.as_ref())
                .and_then(|d| d.refresh_support),
        ));
        self.inlay_hints.set_supported(declared(
            ws.and_then(|w| w.inlay_hint.as_ref())
                .and_then(|d| d.refresh_support),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::wire::Frame;
    use serde_json::Value;
    use std::time::Duration;
    use tokio::sync::mpsc::UnboundedReceiver;
    use tower_lsp::jsonrpc::Id;

    /// The next request the server sent: its method and id.
    async fn next(rx: &mut UnboundedReceiver<Frame>) -> (String, i64) {
        let f = rx.recv().await.expect("a request");
        let bytes = f.to_vec();
        let start = bytes
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a header")
            + 4;
        let v: Value = serde_json::from_slice(&bytes[start..]).expect("JSON");
        (
            v["method"].as_str().unwrap_or("").to_string(),
            v["id"].as_i64().unwrap_or(-1),
        )
    }

    async fn settle() {
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
    }

    /// Asks made while one refresh waits for its reply become one more
    /// refresh, not one each; a kind the client did not declare sends none.
    #[tokio::test]
    async fn refreshes_are_coalesced_while_one_waits_and_need_support() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Frame>();
        // Long enough never to expire here: replies are what move it on.
        let outbox = Arc::new(Outbox::new(tx, Duration::from_secs(600)));
        let r = Refreshes::default();
        r.code_lenses.set_supported(true);
        r.start(&outbox);
        r.code_lenses.ask();
        r.diagnostics.ask();
        let (method, first) = next(&mut rx).await;
        assert_eq!(method, "workspace/codeLens/refresh");
        // Four more changes while the client has not answered: nothing yet.
        for _ in 0..4 {
            r.code_lenses.ask();
            r.diagnostics.ask();
            settle().await;
        }
        assert!(rx.try_recv().is_err(), "a second refresh while one waits");
        // The reply lets exactly one more go, for the four changes.
        assert!(outbox.deliver(&Id::Number(first), Ok(Value::Null)));
        let (method, second) = next(&mut rx).await;
        assert_eq!(method, "workspace/codeLens/refresh");
        assert!(outbox.deliver(&Id::Number(second), Ok(Value::Null)));
        settle().await;
        assert!(rx.try_recv().is_err(), "more refreshes than changes");
    }
}
