//! The stdin side of the protocol: reads Content-Length frames and hands
//! tower-lsp only well-formed JSON-RPC messages. tower-lsp 0.20 stops serving
//! at the first body it cannot decode; here a malformed header, body or
//! message is logged and skipped, and an oversized one is drained, so the
//! server keeps serving whatever the client sends. End of input ends the
//! stream (and so the server).

use super::wire::{Frame, frame};
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tower_lsp::jsonrpc::{Request, Response};

/// Messages above this size are drained and dropped.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

/// Whether a body is a JSON-RPC request, notification or response tower-lsp can take.
pub fn is_message(body: &[u8]) -> bool {
    serde_json::from_slice::<Request>(body).is_ok()
        || serde_json::from_slice::<Response>(body).is_ok()
}

/// What reading one frame gave.
enum Read {
    Body(Vec<u8>),
    /// A frame without a usable Content-Length header (skipped).
    NoLength,
    /// A frame above [`MAX_MESSAGE_BYTES`] (drained).
    TooLarge(usize),
    End,
}

/// Reads the next `Content-Length` frame.
async fn read_frame(input: &mut (impl AsyncBufRead + Unpin)) -> Read {
    let mut len: Option<usize> = None;
    let mut saw_header = false;
    loop {
        let mut line = Vec::new();
        match input.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return Read::End,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if saw_header {
                break;
            }
            continue;
        }
        saw_header = true;
        if let Some((name, value)) = text.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                len = value.trim().parse().ok();
            }
        }
    }
    let Some(len) = len else {
        return Read::NoLength;
    };
    if len > MAX_MESSAGE_BYTES {
        return match tokio::io::copy(&mut input.take(len as u64), &mut tokio::io::sink()).await {
            Ok(_) => Read::TooLarge(len),
            Err(_) => Read::End,
        };
    }
    let mut body = vec![0; len];
    match input.read_exact(&mut body).await {
        Ok(_) => Read::Body(body),
        Err(_) => Read::End,
    }
}

/// Copies well-formed frames from `input` to `output` until `input` ends.
pub async fn forward(input: impl AsyncRead + Unpin, mut output: impl AsyncWrite + Unpin) {
    let mut input = BufReader::with_capacity(1 << 16, input);
    loop {
        let body = match read_frame(&mut input).await {
            Read::End => return,
            Read::NoLength => {
                tracing::warn!("dropped a message without a valid Content-Length header");
                continue;
            }
            Read::TooLarge(len) => {
                tracing::warn!(
                    bytes = len,
                    "dropped a message larger than {} MiB",
                    MAX_MESSAGE_BYTES >> 20
                );
                continue;
            }
            Read::Body(body) => body,
        };
        if !is_message(&body) {
            tracing::warn!(bytes = body.len(), "dropped a malformed JSON-RPC message");
            continue;
        }
        if output.write_all(&frame(&body)).await.is_err() || output.flush().await.is_err() {
            return;
        }
    }
}

/// Sends each whole frame tower-lsp writes to `output`, so that they can be
/// interleaved with pre-serialised ones without splitting either.
pub async fn read_frames(input: impl AsyncRead + Unpin, output: UnboundedSender<Frame>) {
    let mut input = BufReader::with_capacity(1 << 16, input);
    loop {
        match read_frame(&mut input).await {
            Read::End => return,
            Read::Body(body) => {
                if output.send(Frame::whole(frame(&body))).is_err() {
                    return;
                }
            }
            Read::NoLength | Read::TooLarge(_) => {}
        }
    }
}

/// Writes frames to `output` (stdout) in the order they come, on a thread
/// of its own: a large frame goes straight from its buffer to the pipe,
/// without the copy and hand-off of tokio's stdout.
/// Asks for a 1 MiB pipe on stdout (Linux; the default is 64 KiB): a 3 MB
/// publication then crosses in a few writes instead of fifty hand-offs
/// between us and the editor. Anything else (a file, a socket, a refusal)
/// keeps what it has.
pub fn widen_stdout_pipe() {
    #[cfg(target_os = "linux")]
    // SAFETY: fcntl on fd 1 with F_SETPIPE_SZ only changes the pipe's
    // capacity; it fails harmlessly (EBADF, EINVAL, EPERM) on anything else.
    unsafe {
        libc::fcntl(1, libc::F_SETPIPE_SZ, 1 << 20);
    }
}

pub fn write_frames(
    mut frames: UnboundedReceiver<Frame>,
    mut output: impl std::io::Write + Send + 'static,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("stdout".into())
        .spawn(move || {
            while let Some(f) = frames.blocking_recv() {
                let written = f.parts().iter().try_for_each(|p| output.write_all(p));
                if written.and_then(|_| output.flush()).is_err() {
                    return;
                }
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn malformed_frames_are_skipped_and_good_ones_pass() {
        let good = br#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#;
        let mut input = Vec::new();
        input.extend_from_slice(b"Content-Length: 12\r\n\r\n{not json!!}");
        input.extend_from_slice(b"Content-Length: 2\r\n\r\n[]");
        input.extend_from_slice(b"X-Nothing: 1\r\n\r\n");
        input.extend_from_slice(b"garbage line\r\n\r\n");
        input.extend_from_slice(
            format!("content-length: {}\r\nContent-Type: x\r\n\r\n", good.len()).as_bytes(),
        );
        input.extend_from_slice(good);
        let mut out = Vec::new();
        forward(&input[..], &mut out).await;
        let expected = format!(
            "Content-Length: {}\r\n\r\n{}",
            good.len(),
            String::from_utf8_lossy(good)
        );
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn messages_are_recognised() {
        assert!(is_message(
            br#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#
        ));
        assert!(is_message(br#"{"jsonrpc":"2.0","id":1,"result":null}"#));
        assert!(!is_message(br#"{"jsonrpc":"2.0","id":true}"#));
        assert!(!is_message(b"[]"));
    }
}
