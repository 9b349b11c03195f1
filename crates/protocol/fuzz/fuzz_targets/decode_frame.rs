//! Host bytes -> frames -> messages (and operation bodies, session plaintexts): must never panic,
//! never buffer past the cap.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sentinel_protocol::{
    decode_body, decode_request, decode_response, decode_session_answer, decode_session_request, FrameDecoder,
    FRAME_HEADER_BYTES, MAX_FRAME_BYTES,
};

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
    // Operation bodies and session plaintexts: what a stamp or a session carries.
    let _ = decode_body(stream);
    let _ = decode_session_request(stream);
    let _ = decode_session_answer(stream);
});
