//! Turning decoded bytes into answers: the part of connection handling that
//! the async server (`server.rs`) and the busy-poll server (`busy_poll.rs`)
//! share, so both treat bad input identically. They differ only in how they
//! wait for bytes and how they answer a well-formed request.
use sentinel_protocol::{
    decode_request, encode_response, ErrorAnswer, FrameDecoder, ProtocolErrorCode, RequestFrame, Response,
    ResponseFrame,
};

pub(crate) fn error_frame(id: u64, code: &str, message: String) -> Vec<u8> {
    encode_response(&ResponseFrame { id, response: Response::Error(ErrorAnswer { code: code.to_string(), message }) })
}

/// Answers every complete frame in the decoder: well-formed requests through
/// `answer`, everything else with an error frame (carrying the request id when
/// one could be read) appended to `out`. Returns false when the connection
/// must close (a length prefix over the cap; `out` then ends with the
/// `FRAME_TOO_LARGE` error frame, since the stream cannot be resynchronised).
pub(crate) fn answer_frames(
    decoder: &mut FrameDecoder,
    out: &mut Vec<u8>,
    mut answer: impl FnMut(RequestFrame, &mut Vec<u8>),
) -> bool {
    loop {
        match decoder.next_frame() {
            Ok(Some(body)) => match decode_request(&body) {
                Ok(frame) => answer(frame, out),
                Err(e) => out.extend(error_frame(e.request_id.unwrap_or(0), e.code(), e.message)),
            },
            Ok(None) => return true,
            Err(e) => {
                let fatal = e.code == ProtocolErrorCode::FrameTooLarge;
                if fatal {
                    tracing::warn!(error = %e, "closing connection");
                }
                out.extend(error_frame(0, e.code(), e.message));
                if fatal {
                    return false;
                }
            }
        }
    }
}
