//! The `Content-Length` frame reader, as a push parser: bytes go in with
//! [`Framer::push`], frames come out of [`Framer::next_event`]. It never blocks,
//! never panics, and gets back in step after any malformed frame (fuzzed by
//! `fuzz/fuzz_targets/framing.rs`).
//!
//! # The resynchronisation rule
//!
//! A frame starts at the text `Content-Length:` (any case); whatever comes
//! before it is skipped. Its header block is `Name: value` lines ending with
//! an empty line (CRLF or LF); `Content-Length` must be a plain decimal
//! number and must be there. The body is that many bytes after the empty
//! line and must be one JSON text.
//!
//! - A bad header block (no number, a negative or non-numeric length, a line
//!   that is not a header or that ends in a `Content-Length` line glued to it,
//!   more than [`MAX_HEADER_BYTES`]) is dropped from its
//!   first byte only: the search for the next `Content-Length:` starts one
//!   byte further on, so the body that followed it is skipped as garbage.
//! - A body that is not JSON (the length was short, long or wrong) is
//!   dropped and the search starts again one byte after the start of its
//!   header, not after the body: a length a few bytes long has eaten the
//!   start of the next header, which is found again there (and so is one
//!   that a damaged header block took for one of its lines).
//! - A header line (`Content-Length:`, digits, end of line) inside a body
//!   ends that body at once as damaged, before its length is complete: such a
//!   line cannot occur in JSON (raw line breaks are not allowed in JSON
//!   strings, and letters are not allowed outside them), so it is the next
//!   frame, and a length that was too long does not make the reader wait for
//!   bytes that will never come, nor swallow the messages after it.
//!
//! So a damaged frame loses at most itself, and a well-formed frame is never
//! cut (its body is valid JSON and so contains no header line). Each call
//! to [`Framer::next_event`] that returns an event consumes at least one byte;
//! memory is bounded by the largest accepted body ([`MAX_MESSAGE_BYTES`]):
//! larger bodies are drained as they arrive.

/// Bodies above this size are drained as they come and dropped.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;
/// A header block longer than this is malformed.
pub const MAX_HEADER_BYTES: usize = 8 * 1024;

const NAME: &[u8] = b"content-length:";
/// How far back from a line end a header line may start in a body: the name,
/// up to 8 blanks on each side of up to 20 digits, a CR.
const LOOKBACK: usize = NAME.len() + 8 + 20 + 8 + 1;

/// What the reader found.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// A frame whose body is one JSON text.
    Message(Vec<u8>),
    /// A frame that was dropped; `body` holds what was read of its body, if
    /// anything (to read a request id from for an error reply).
    Malformed {
        reason: &'static str,
        body: Option<Vec<u8>>,
    },
    /// A frame above [`MAX_MESSAGE_BYTES`], drained and dropped.
    TooLarge(usize),
    /// Bytes between frames that were not blank, skipped.
    Skipped(usize),
}

#[derive(Debug, Clone, Copy)]
enum State {
    /// Looking for `Content-Length:` at `pos`.
    Seek,
    /// A header block of `header` bytes starts at `pos`; the body of `len`
    /// bytes follows it; bytes up to `pos + scanned` were searched for a header line.
    Body {
        header: usize,
        len: usize,
        scanned: usize,
    },
    /// Draining `left` more bytes of a body of `len` bytes; `drained` so far.
    Drain {
        len: usize,
        left: usize,
        drained: usize,
    },
}

#[derive(Debug)]
pub struct Framer {
    buf: Vec<u8>,
    /// Bytes before this are consumed.
    pos: usize,
    /// Bytes consumed and dropped from `buf`.
    base: u64,
    state: State,
    ended: bool,
}

impl Default for Framer {
    fn default() -> Self {
        Framer {
            buf: Vec::new(),
            pos: 0,
            base: 0,
            state: State::Seek,
            ended: false,
        }
    }
}

enum Header {
    /// The header block is `len` bytes and announces a body of `body` bytes.
    Complete {
        len: usize,
        body: usize,
    },
    Incomplete,
    Bad(&'static str),
}

impl Framer {
    pub fn new() -> Framer {
        Framer::default()
    }

    /// Adds bytes read from the input.
    pub fn push(&mut self, bytes: &[u8]) {
        if matches!(self.state, State::Seek) && self.pos == self.buf.len() {
            // All consumed: start afresh, and give back what a large message took.
            self.base += self.pos as u64;
            self.pos = 0;
            self.buf.clear();
            if self.buf.capacity() > 1 << 20 {
                self.buf = Vec::new();
            }
        }
        // Drop consumed bytes when they are most of the buffer (keeping a
        // little before `pos`, which a header line found by looking back
        // from a line end while draining may start in).
        let keep_from = self.pos.saturating_sub(LOOKBACK);
        if keep_from > 0 && keep_from >= self.buf.len() / 2 {
            self.buf.drain(..keep_from);
            self.pos -= keep_from;
            self.base += keep_from as u64;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The input ended: what is left is read, and a frame it cuts short is dropped.
    pub fn finish(&mut self) {
        self.ended = true;
    }

    /// Whether the input ended and every byte was consumed.
    pub fn is_done(&self) -> bool {
        self.ended && self.pos >= self.buf.len()
    }

    /// How many input bytes were consumed (every event moves it forward).
    pub fn position(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Bytes held in memory.
    pub fn held(&self) -> usize {
        self.buf.len()
    }

    /// The next event, or `None` when more input is needed (or, after
    /// [`finish`](Self::finish), when everything was read).
    pub fn next_event(&mut self) -> Option<Event> {
        loop {
            match self.state {
                State::Seek => {
                    let hay = &self.buf[self.pos..];
                    let Some(at) = find_name(hay) else {
                        // Keep a tail that may be the start of the name.
                        let keep = if self.ended {
                            0
                        } else {
                            hay.len().min(NAME.len() - 1)
                        };
                        let drop = hay.len() - keep;
                        let skipped = blank_or_count(&hay[..drop]);
                        self.pos += drop;
                        return skipped.map(Event::Skipped);
                    };
                    if at > 0 {
                        let quiet = leads_into_header(&hay[..at]);
                        self.pos += at;
                        if !quiet {
                            return Some(Event::Skipped(at));
                        }
                    }
                    match parse_header(&self.buf[self.pos..]) {
                        Header::Incomplete if self.ended => {
                            self.pos = self.buf.len();
                            return Some(Event::Malformed {
                                reason: "the input ended inside a header",
                                body: None,
                            });
                        }
                        Header::Incomplete => return None,
                        Header::Bad(reason) => {
                            self.pos += 1;
                            return Some(Event::Malformed { reason, body: None });
                        }
                        Header::Complete { len, body } if body > MAX_MESSAGE_BYTES => {
                            self.pos += len;
                            self.state = State::Drain {
                                len: body,
                                left: body,
                                drained: 0,
                            };
                        }
                        Header::Complete { len, body } => {
                            // Room for the whole body at once, not doubling
                            // on the way (pages not yet written cost no memory).
                            let end = self.pos + len + body;
                            self.buf.reserve_exact(end.saturating_sub(self.buf.len()));
                            self.state = State::Body {
                                header: len,
                                len: body,
                                scanned: 0,
                            };
                        }
                    }
                }
                State::Body {
                    header,
                    len,
                    scanned,
                } => {
                    let start = self.pos + header;
                    let end = start + len;
                    let have = self.buf.len().min(end);
                    if let Some(h) = find_header_line(&self.buf, start, start + scanned, have) {
                        let body = self.buf[start..h].to_vec();
                        self.pos = h;
                        self.state = State::Seek;
                        return Some(Event::Malformed {
                            reason: "a header inside the body (Content-Length too long?)",
                            body: Some(body),
                        });
                    }
                    if have < end {
                        if self.ended {
                            let body = self.buf[start..].to_vec();
                            self.pos = self.buf.len();
                            self.state = State::Seek;
                            return Some(Event::Malformed {
                                reason: "the input ended inside a body",
                                body: Some(body),
                            });
                        }
                        self.state = State::Body {
                            header,
                            len,
                            scanned: have - start,
                        };
                        return None;
                    }
                    self.state = State::Seek;
                    let body = &self.buf[start..end];
                    if is_json(body) {
                        let body = if end == self.buf.len() && start <= 1 << 16 {
                            // The usual case, the body last in the buffer:
                            // hand the buffer itself over, no copy kept.
                            let mut b = std::mem::take(&mut self.buf);
                            b.drain(..start);
                            self.base += end as u64;
                            self.pos = 0;
                            b
                        } else {
                            self.pos = end;
                            body.to_vec()
                        };
                        return Some(Event::Message(body));
                    }
                    // Search again from just after this header's start: the
                    // next header may lie inside what this frame took.
                    let body = body.to_vec();
                    self.pos += 1;
                    return Some(Event::Malformed {
                        reason: "the body is not JSON (Content-Length wrong?)",
                        body: Some(body),
                    });
                }
                State::Drain { len, left, drained } => {
                    let have = (self.buf.len() - self.pos).min(left);
                    let floor = self.pos - drained.min(LOOKBACK).min(self.pos);
                    if let Some(h) = find_header_line(&self.buf, floor, self.pos, self.pos + have) {
                        self.pos = h;
                        self.state = State::Seek;
                        return Some(Event::Malformed {
                            reason: "a header inside an oversized body",
                            body: None,
                        });
                    }
                    self.pos += have;
                    let left = left - have;
                    if left == 0 {
                        self.state = State::Seek;
                        return Some(Event::TooLarge(len));
                    }
                    self.state = State::Drain {
                        len,
                        left,
                        drained: drained + have,
                    };
                    if self.ended {
                        self.pos = self.buf.len();
                        self.state = State::Seek;
                        return Some(Event::TooLarge(len));
                    }
                    return None;
                }
            }
        }
    }
}

/// `None` when `bytes` are all blank, else their count.
fn blank_or_count(bytes: &[u8]) -> Option<usize> {
    (!bytes.iter().all(u8::is_ascii_whitespace)).then_some(bytes.len())
}

/// Whether `bytes` is one JSON text (any depth, trailing blanks allowed).
fn is_json(bytes: &[u8]) -> bool {
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok()
}

/// Where `content-length:` (any case) first starts in `hay`.
fn find_name(hay: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = memchr::memchr2(b'c', b'C', &hay[from..]) {
        let at = from + i;
        let rest = &hay[at..];
        if rest.len() >= NAME.len() && rest[..NAME.len()].eq_ignore_ascii_case(NAME) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Whether bytes skipped before `Content-Length:` are only blank lines and
/// other header lines of the same block (`Content-Type: ...` written first).
fn leads_into_header(bytes: &[u8]) -> bool {
    let text = match bytes.iter().position(|b| !b.is_ascii_whitespace()) {
        Some(i) => &bytes[i..],
        None => return true,
    };
    let Some(body) = text.strip_suffix(b"\n") else {
        return false;
    };
    body.split(|&b| b == b'\n').all(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        line.iter()
            .position(|&b| b == b':')
            .is_some_and(|c| c > 0 && line[..c].iter().all(|&b| is_token(b)))
    })
}

/// Parses the header block at the start of `bytes` (which starts with the name).
fn parse_header(bytes: &[u8]) -> Header {
    let mut len = None;
    let mut at = 0;
    loop {
        let Some(nl) = memchr::memchr(b'\n', &bytes[at..bytes.len().min(MAX_HEADER_BYTES)]) else {
            return if bytes.len() >= MAX_HEADER_BYTES {
                Header::Bad("a header block above 8 KiB")
            } else {
                Header::Incomplete
            };
        };
        let line = &bytes[at..at + nl];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        // A `Content-Length` line glued to the end of this one is the next
        // frame's header, not part of this block.
        if header_line_ending_at(bytes, at, at + nl).is_some_and(|s| s > at) {
            return Header::Bad("a header line that ends in another frame's header");
        }
        at += nl + 1;
        if line.is_empty() {
            return match len {
                Some(body) => Header::Complete { len: at, body },
                None => Header::Bad("no Content-Length"),
            };
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return Header::Bad("a header line without a colon");
        };
        let (name, value) = (&line[..colon], trim_blank(&line[colon + 1..]));
        if name.is_empty() || !name.iter().all(|&b| is_token(b)) {
            return Header::Bad("a header name that is not a token");
        }
        if name.eq_ignore_ascii_case(&NAME[..NAME.len() - 1]) {
            let Some(n) = parse_length(value) else {
                return Header::Bad("a Content-Length that is not a decimal number");
            };
            if len.is_some_and(|l| l != n) {
                return Header::Bad("two different Content-Length headers");
            }
            len = Some(n);
        }
    }
}

fn trim_blank(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

fn parse_length(value: &[u8]) -> Option<usize> {
    if value.is_empty() || value.len() > 20 || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// An HTTP header-name character (RFC 9110 `tchar`).
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The start of the first header line (`Content-Length:`, blanks, digits,
/// blanks, line end) whose line end lies in `from..to`, starting no earlier
/// than `floor`.
fn find_header_line(buf: &[u8], floor: usize, from: usize, to: usize) -> Option<usize> {
    let mut at = from;
    while at < to {
        let nl = at + memchr::memchr(b'\n', &buf[at..to])?;
        if let Some(start) = header_line_ending_at(buf, floor, nl) {
            return Some(start);
        }
        at = nl + 1;
    }
    None
}

/// Looks back from the line feed at `nl` for `Content-Length: <digits>`.
fn header_line_ending_at(buf: &[u8], floor: usize, nl: usize) -> Option<usize> {
    let blank = |b: u8| b == b' ' || b == b'\t';
    let mut k = nl;
    if k > floor && buf[k - 1] == b'\r' {
        k -= 1;
    }
    let k = skip_back(buf, floor, k, 8, blank);
    let d = skip_back(buf, floor, k, 20, |b| b.is_ascii_digit());
    if d == k || (d > floor && buf[d - 1].is_ascii_digit()) {
        return None;
    }
    let n = skip_back(buf, floor, d, 8, blank);
    let start = n.checked_sub(NAME.len())?;
    (start >= floor && buf[start..n].eq_ignore_ascii_case(NAME)).then_some(start)
}

/// Moves back from `k` over at most `max` bytes satisfying `pred`, not below `floor`.
fn skip_back(
    buf: &[u8],
    floor: usize,
    mut k: usize,
    max: usize,
    pred: impl Fn(u8) -> bool,
) -> usize {
    let stop = k.saturating_sub(max).max(floor);
    while k > stop && pred(buf[k - 1]) {
        k -= 1;
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &[u8] = br#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#;

    fn framed(body: &[u8]) -> Vec<u8> {
        let mut v = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        v.extend_from_slice(body);
        v
    }

    /// All events for `input` fed in chunks of `chunk` bytes.
    fn events(input: &[u8], chunk: usize) -> Vec<Event> {
        let mut f = Framer::new();
        let mut out = Vec::new();
        let mut at = 0;
        let mut take = |f: &mut Framer, out: &mut Vec<Event>| {
            while let Some(e) = f.next_event() {
                assert!(f.position() > at, "no progress at {at}: {e:?}");
                at = f.position();
                out.push(e);
            }
        };
        for c in input.chunks(chunk.max(1)) {
            f.push(c);
            take(&mut f, &mut out);
        }
        f.finish();
        take(&mut f, &mut out);
        assert!(f.is_done());
        out
    }

    fn messages(input: &[u8], chunk: usize) -> Vec<Vec<u8>> {
        events(input, chunk)
            .into_iter()
            .filter_map(|e| match e {
                Event::Message(b) => Some(b),
                _ => None,
            })
            .collect()
    }

    /// A damaged frame followed by a good one: the good one comes out, whatever the chunking.
    fn recovers(damaged: &[u8]) {
        let mut input = damaged.to_vec();
        input.extend(framed(GOOD));
        for chunk in [1, 2, 3, 7, 64, 1 << 20] {
            assert_eq!(
                messages(&input, chunk),
                vec![GOOD.to_vec()],
                "chunk {chunk}: {}",
                String::from_utf8_lossy(damaged)
            );
        }
    }

    #[test]
    fn well_formed_frames_pass_in_any_chunking() {
        let other = br#"{"a":"Content-Length: 5","b":[1,2,{"c":null}]}"#;
        let mut input = framed(GOOD);
        input.extend(b"content-length: 46\r\nContent-Type: application/json\r\n\r\n");
        input.extend_from_slice(other);
        input.extend(b"\r\n");
        input.extend(b"Content-Length:3\n\n[1]");
        for chunk in [1, 5, 1 << 20] {
            assert_eq!(
                messages(&input, chunk),
                vec![GOOD.to_vec(), other.to_vec(), b"[1]".to_vec()]
            );
        }
    }

    #[test]
    fn a_header_without_content_length_followed_by_a_body_loses_only_itself() {
        recovers(b"Content-Type: x\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"hover\"}");
        recovers(b"X-Nothing: 1\r\n\r\n");
    }

    #[test]
    fn non_numeric_and_negative_lengths_lose_only_their_frame() {
        for value in [
            "abc",
            "-5",
            "+5",
            "5x",
            "",
            "1e3",
            "99999999999999999999999",
        ] {
            let mut bad = format!("Content-Length: {value}\r\n\r\n").into_bytes();
            bad.extend_from_slice(br#"{"jsonrpc":"2.0","id":2,"method":"hover"}"#);
            recovers(&bad);
        }
    }

    #[test]
    fn lengths_a_few_bytes_short_or_long_lose_only_their_frame() {
        let body =
            br#"{"jsonrpc":"2.0","id":3,"method":"workspace/symbol","params":{"query":"A"}}"#;
        for delta in [-40i64, -5, -1, 1, 2, 5, 17, 40, 200] {
            let len = body.len() as i64 + delta;
            let mut bad = format!("Content-Length: {len}\r\n\r\n").into_bytes();
            bad.extend_from_slice(body);
            recovers(&bad);
        }
    }

    #[test]
    fn a_length_too_long_does_not_wait_for_bytes_that_never_come() {
        // The damaged frame claims 1 000 bytes; the good frame after it
        // comes at once, although the 1 000 bytes never do.
        let mut input = b"Content-Length: 1000\r\n\r\n{\"id\":1}".to_vec();
        input.extend(framed(GOOD));
        let mut f = Framer::new();
        f.push(&input);
        let mut got = Vec::new();
        while let Some(e) = f.next_event() {
            got.push(e);
        }
        assert!(matches!(got[0], Event::Malformed { .. }), "{got:?}");
        assert_eq!(got[1], Event::Message(GOOD.to_vec()));
    }

    #[test]
    fn a_bad_json_body_with_the_right_length_is_dropped() {
        let ev = events(&[framed(b"{not json!!}"), framed(GOOD)].concat(), 1 << 20);
        assert!(matches!(ev[0], Event::Malformed { body: Some(_), .. }));
        // The search starts again inside the bad frame, which is then skipped.
        assert!(matches!(ev[1], Event::Skipped(_)), "{ev:?}");
        assert_eq!(ev[2], Event::Message(GOOD.to_vec()));
        recovers(&framed(b""));
    }

    #[test]
    fn garbage_is_skipped_and_counted() {
        let ev = events(
            &[b"garbage line\r\n\r\n".to_vec(), framed(GOOD)].concat(),
            4,
        );
        let skipped: usize = ev
            .iter()
            .map(|e| match e {
                Event::Skipped(n) => *n,
                _ => 0,
            })
            .sum();
        // Counted as it is dropped (the blank end of it was not).
        assert!((12..=16).contains(&skipped), "{skipped}");
        assert_eq!(ev.last(), Some(&Event::Message(GOOD.to_vec())));
        recovers(b"\x00\xff\xfe Content-Lengt Content-Length");
        recovers(b"Content-Length: 5\r\nnot a header\r\n\r\n12345");
        recovers(
            &[
                b"Content-Length: 5\r\nX: ".as_slice(),
                &[b'y'; 9000],
                b"\r\n\r\n",
            ]
            .concat(),
        );
    }

    #[test]
    fn oversized_bodies_are_drained_without_being_held() {
        let len = MAX_MESSAGE_BYTES + 10;
        let mut f = Framer::new();
        f.push(format!("Content-Length: {len}\r\n\r\n").as_bytes());
        let chunk = vec![b'x'; 1 << 20];
        let mut sent = 0;
        while sent + chunk.len() <= len {
            f.push(&chunk);
            sent += chunk.len();
            assert_eq!(f.next_event(), None);
            assert!(f.buf.len() < 3 << 20, "held {} bytes", f.buf.len());
        }
        f.push(&vec![b'x'; len - sent]);
        assert_eq!(f.next_event(), Some(Event::TooLarge(len)));
        f.push(&framed(GOOD));
        assert_eq!(f.next_event(), Some(Event::Message(GOOD.to_vec())));
    }

    #[test]
    fn a_header_inside_an_oversized_body_ends_it() {
        let len = MAX_MESSAGE_BYTES + 10;
        let mut input = format!("Content-Length: {len}\r\n\r\n{{\"a\":1}}").into_bytes();
        input.extend(framed(GOOD));
        for chunk in [1, 3, 1 << 20] {
            let ev = events(&input, chunk);
            assert_eq!(ev.last(), Some(&Event::Message(GOOD.to_vec())), "{ev:?}");
        }
    }

    #[test]
    fn a_frame_after_a_header_cut_short_is_found() {
        for cut in [
            &b"Content-Length: 5\r\nX: "[..],
            b"Content-Length: 5\r\nX: 1\r",
            b"Content-Length: 5\r\n",
            b"Content-Length: 44\r\n",
            b"Content-Length: ",
            b"Content-Length: 1",
            b"Content-Length: 300\r\n\r\n\"",
            b"Content-Length: 3\r\n\r\n1 ",
            // Found by the fuzzer: the next header glued to a header value.
            b"ConTent-Length: 136\r\nength: 576\r\xf5\x06",
        ] {
            recovers(cut);
        }
    }

    #[test]
    fn a_truncated_stream_ends() {
        for input in [
            &b"Content-Length: 10\r\n\r\n{\"a\""[..],
            b"Content-Length: 10\r\n",
            b"Content-Len",
        ] {
            let ev = events(input, 1);
            assert!(ev.iter().all(|e| !matches!(e, Event::Message(_))), "{ev:?}");
        }
    }
}
