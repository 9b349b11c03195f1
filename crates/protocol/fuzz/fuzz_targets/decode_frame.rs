//! Host bytes -> frames -> messages: must never panic, never buffer past the cap.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sentinel_protocol::{decode_request, decode_response, FrameDecoder, FRAME_HEADER_BYTES, MAX_FRAME_BYTES};

fuzz_target!(|data: &[u8]| {
    // The first byte picks a chunk size, so split frames are exercised too.
    let Some((&chunk, stream)) = data.split_first() else { return };
    let chunk = usize::from(chunk).max(1);
    let mut decoder = FrameDecoder::new();
    for piece in stream.chunks(chunk) {
        decoder.push(piece);
        loop {
            match decoder.next_frame() {
                Ok(Some(body)) => {
                    let _ = decode_request(&body);
                    let _ = decode_response(&body);
                }
                Ok(None) => break,
                Err(e) if e.code() == "FRAME_TOO_LARGE" => return,
                Err(_) => {}
            }
        }
        assert!(decoder.buffered() <= MAX_FRAME_BYTES + FRAME_HEADER_BYTES + chunk);
    }
    let _ = decode_request(stream);
});
