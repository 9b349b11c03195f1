//! One direction pair of Noise transport ciphers plus the framing above them.
//!
//! A Noise transport message holds at most 65535 bytes, but a session frame
//! carries a whole operation body (a 128 KiB transaction fits in
//! `MAX_BODY_BYTES`), so a frame is a run of Noise messages ("chunks") with
//! consecutive implicit nonces: as many full chunks (`CHUNK_PLAINTEXT` bytes
//! of plaintext, 65535 on the wire) as fit, then exactly one final chunk that
//! is strictly shorter than a full one (possibly just a tag). The receiver
//! splits a frame by its length alone, the same way. Why that is enough
//! against a relay that cuts or glues frames: every chunk it accepts is the
//! sender's chunk with the same nonce (AEAD), so its full chunks are the
//! sender's full chunks and its final chunk is a sender's final chunk, i.e. an
//! accepted frame is exactly one sender frame; a frame cut after a full chunk
//! ends in a full chunk and is refused, and glued frames misalign the split.
//! Frames of up to `CHUNK_PLAINTEXT - 1` bytes (every signing request) are
//! one Noise message with no extra byte.
//!
//! Any failure to open poisons the channel: nothing after a frame that did
//! not verify is trusted, and the counters no longer line up anyway.

use crate::crypto::TAG_LEN;
use crate::error::{err, Error, ErrorCode};

/// Largest Noise message (the Noise specification's limit).
pub(crate) const NOISE_MAX_MESSAGE: usize = 65_535;
/// Plaintext bytes of a full chunk.
pub(crate) const CHUNK_PLAINTEXT: usize = NOISE_MAX_MESSAGE - TAG_LEN;

/// Wire length of a frame sealing `plaintext_len` bytes.
pub const fn sealed_len(plaintext_len: usize) -> usize {
    let full = plaintext_len / CHUNK_PLAINTEXT;
    full * NOISE_MAX_MESSAGE + (plaintext_len - full * CHUNK_PLAINTEXT) + TAG_LEN
}

/// Plaintext length of a well-formed frame of `frame_len` bytes, if any.
const fn opened_len(frame_len: usize) -> Option<usize> {
    let full = frame_len / NOISE_MAX_MESSAGE;
    let last = frame_len - full * NOISE_MAX_MESSAGE;
    if last < TAG_LEN {
        return None;
    }
    Some(full * CHUNK_PLAINTEXT + last - TAG_LEN)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    Open,
    Broken,
    Expired,
    Closed,
}

impl State {
    /// The refusal for a channel that is not open.
    pub(crate) fn refusal<T>(self) -> Result<T, Error> {
        match self {
            State::Open => unreachable!("refusal of an open channel"),
            State::Broken => err(ErrorCode::Broken, "an earlier frame failed to open; the session is dead"),
            State::Expired => err(ErrorCode::Expired, "the session outlived its lifetime"),
            State::Closed => err(ErrorCode::Closed, "the session is closed"),
        }
    }
}

pub(crate) struct Channel {
    transport: snow::TransportState,
    pub(crate) state: State,
}

impl Channel {
    pub(crate) fn new(transport: snow::TransportState) -> Self {
        Self { transport, state: State::Open }
    }

    /// Appends the frame sealing `plaintext` to `out`. A too-large plaintext
    /// is the caller's mistake and leaves the channel usable.
    pub(crate) fn seal(&mut self, plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        if self.state != State::Open {
            return self.state.refusal();
        }
        if plaintext.len() > crate::MAX_PLAINTEXT_LEN {
            return err(
                ErrorCode::FrameTooLarge,
                format!("plaintext is {} bytes, at most {} allowed", plaintext.len(), crate::MAX_PLAINTEXT_LEN),
            );
        }
        let start = out.len();
        out.resize(start + sealed_len(plaintext.len()), 0);
        let mut rest = plaintext;
        let mut at = start;
        loop {
            // A full chunk when `take == CHUNK_PLAINTEXT`; the loop always
            // ends on a shorter one (an empty plaintext included).
            let take = rest.len().min(CHUNK_PLAINTEXT);
            if self.transport.write_message(&rest[..take], &mut out[at..at + take + TAG_LEN]).is_err() {
                // Only nonce exhaustion (2^64 messages) gets here.
                out.truncate(start);
                self.state = State::Broken;
                return err(ErrorCode::Broken, "the sending cipher is exhausted");
            }
            at += take + TAG_LEN;
            rest = &rest[take..];
            if take < CHUNK_PLAINTEXT {
                return Ok(());
            }
        }
    }

    /// Appends the plaintext of `frame` to `out`; on any failure `out` is
    /// left as it was and the channel is poisoned.
    pub(crate) fn open(&mut self, frame: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        if self.state != State::Open {
            return self.state.refusal();
        }
        match self.open_inner(frame, out) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.state = State::Broken;
                Err(e)
            }
        }
    }

    fn open_inner(&mut self, frame: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        if frame.len() > crate::MAX_FRAME_LEN {
            return err(
                ErrorCode::FrameTooLarge,
                format!("frame is {} bytes, at most {} allowed", frame.len(), crate::MAX_FRAME_LEN),
            );
        }
        let Some(len) = opened_len(frame.len()) else {
            return err(ErrorCode::Broken, format!("a frame of {} bytes is not a sealed frame", frame.len()));
        };
        let start = out.len();
        out.resize(start + len, 0);
        let mut at = start;
        for chunk in frame.chunks(NOISE_MAX_MESSAGE) {
            let plain = chunk.len() - TAG_LEN;
            if self.transport.read_message(chunk, &mut out[at..at + plain]).is_err() {
                out.truncate(start);
                return err(
                    ErrorCode::Broken,
                    "frame failed to decrypt (tampered, replayed, reordered, dropped, injected or from another session)",
                );
            }
            at += plain;
        }
        Ok(())
    }
}
