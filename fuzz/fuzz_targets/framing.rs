//! Any bytes, cut into any chunks, through the frame reader: never a panic,
//! every event consumes input, every message is JSON, the transport's
//! decoding of each body (and of each damaged one) never panics, and a
//! well-formed frame sent after the bytes always comes out: the reader gets
//! back in step after anything.
#![no_main]
use catalogue_lsp::server::framing::{Event, Framer};
use catalogue_lsp::server::transport::{answer_damaged, classify};
use libfuzzer_sys::fuzz_target;

const GOOD: &[u8] = br#"{"jsonrpc":"2.0","id":1,"method":"workspace/symbol","params":{"query":"A"}}"#;

fn run(f: &mut Framer, at: &mut u64, events: &mut Vec<Event>) {
    while let Some(e) = f.next_event() {
        assert!(f.position() > *at, "no progress at {at}: {e:?}");
        *at = f.position();
        match &e {
            Event::Message(body) => {
                assert!(serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok());
                let _ = classify(body);
            }
            Event::Malformed {
                body: Some(body), ..
            } => {
                let _ = answer_damaged(body);
            }
            _ => {}
        }
        events.push(e);
    }
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the chunk size the bytes arrive in.
    let Some((&c, bytes)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(c % 64) + 1;
    let mut input = bytes.to_vec();
    input.extend_from_slice(format!("Content-Length: {}\r\n\r\n", GOOD.len()).as_bytes());
    input.extend_from_slice(GOOD);
    let mut f = Framer::new();
    let mut at = 0;
    let mut events = Vec::new();
    for part in input.chunks(chunk) {
        f.push(part);
        run(&mut f, &mut at, &mut events);
    }
    // The good frame is complete: it must be out before the input ends.
    assert_eq!(
        events.iter().rev().find_map(|e| match e {
            Event::Message(b) => Some(b.as_slice()),
            _ => None,
        }),
        Some(GOOD),
        "{events:?}"
    );
    f.finish();
    run(&mut f, &mut at, &mut events);
    assert!(f.is_done());
});
