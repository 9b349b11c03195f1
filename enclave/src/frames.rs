//! Turning decoded bytes into answers: the part of connection handling that
//! the async server (`server.rs`) and the busy-poll server (`busy_poll.rs`)
//! share, so both treat bad input identically. They differ only in how they
//! wait for bytes and how they answer a well-formed request.
use std::time::{Duration, Instant};

use sentinel_protocol::{
    decode_request, encode_response, ErrorAnswer, FrameDecoder, ProtocolErrorCode, RequestFrame, Response,
    ResponseFrame,
};

pub(crate) fn error_frame(id: u64, code: &str, message: String) -> Vec<u8> {
    encode_response(&ResponseFrame { id, response: Response::Error(ErrorAnswer { code: code.to_string(), message }) })
}

/// How long answers may wait in the output buffer while later frames of the
/// same batch are answered. A batch of cheap requests still goes out in one
/// write, but a batch of signatures streams: the host can store the first
/// answer's audit record (and fdatasync it) while the enclave signs the rest,
/// instead of every client waiting for the whole batch and then for one
/// fdatasync together, with the enclave idle meanwhile (bench/audit.ts).
pub(crate) const WRITE_AFTER: Duration = Duration::from_micros(50);

/// What [`answer_frames`] leaves the caller to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Batch {
    /// Every complete frame is answered: write `out`, then read more.
    Drained,
    /// Answers have waited [`WRITE_AFTER`]: write `out`, then call again (frames remain).
    Yield,
    /// A length prefix over the cap: write `out` (it ends with the
    /// `FRAME_TOO_LARGE` error frame) and close, since the stream cannot be
    /// resynchronised after it.
    Close,
}

/// Answers complete frames in the decoder: well-formed requests through
/// `answer`, everything else with an error frame (carrying the request id when
/// one could be read) appended to `out`, until the decoder is drained or the
/// answers in `out` have waited [`WRITE_AFTER`].
pub(crate) fn answer_frames(
    decoder: &mut FrameDecoder,
    out: &mut Vec<u8>,
    mut answer: impl FnMut(RequestFrame, &mut Vec<u8>),
) -> Batch {
    let started = Instant::now();
    loop {
        match decoder.next_frame() {
            Ok(Some(body)) => {
                match decode_request(&body) {
                    Ok(frame) => answer(frame, out),
                    Err(e) => out.extend(error_frame(e.request_id.unwrap_or(0), e.code(), e.message)),
                }
                if !out.is_empty() && started.elapsed() >= WRITE_AFTER {
                    return Batch::Yield;
                }
            }
            Ok(None) => return Batch::Drained,
            Err(e) => {
                let fatal = e.code == ProtocolErrorCode::FrameTooLarge;
                if fatal {
                    tracing::warn!(error = %e, "closing connection");
                }
                out.extend(error_frame(0, e.code(), e.message));
                if fatal {
                    return Batch::Close;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentinel_protocol::{encode_request, PingArgs, Request};

    fn pings(n: u64) -> FrameDecoder {
        let mut decoder = FrameDecoder::new();
        for id in 1..=n {
            decoder
                .push(&encode_request(&RequestFrame { id, request: Request::Ping(PingArgs { payload: vec![7; 8] }) }));
        }
        decoder
    }

    #[test]
    fn answers_wait_for_write_after_before_going_out() {
        // Cheap answers are batched: a call yields only once WRITE_AFTER has passed, so a batch of
        // cheap requests goes out in one write unless answering it takes longer than that.
        let mut decoder = pings(1000);
        let mut out = Vec::new();
        let mut answered = 0;
        loop {
            let started = Instant::now();
            let batch = answer_frames(&mut decoder, &mut out, |_, out| {
                answered += 1;
                out.push(0);
            });
            if batch == Batch::Drained {
                break;
            }
            assert_eq!(batch, Batch::Yield);
            assert!(started.elapsed() >= WRITE_AFTER);
        }
        assert_eq!((answered, out.len()), (1000, 1000));
    }

    #[test]
    fn slow_requests_stream_their_answers() {
        // Each answer takes longer than WRITE_AFTER: every call answers one frame and yields,
        // so the host gets the first answer while the rest are still being computed.
        let mut decoder = pings(3);
        let mut out = Vec::new();
        let slow = |_: RequestFrame, out: &mut Vec<u8>| {
            std::thread::sleep(WRITE_AFTER + Duration::from_micros(10));
            out.push(0);
        };
        for expected in [Batch::Yield, Batch::Yield, Batch::Yield] {
            assert_eq!(answer_frames(&mut decoder, &mut out, slow), expected);
            assert_eq!(out.len(), 1);
            out.clear();
        }
        assert_eq!(answer_frames(&mut decoder, &mut out, slow), Batch::Drained);
        assert!(out.is_empty());
    }
}
