//! Length-prefixed framing: `u32` big-endian body length, then the body.
//!
//! The decoder is incremental (bytes arrive in arbitrary chunks on a stream
//! socket) and bounded: it never buffers more than one maximal frame plus its
//! header, and a length prefix over the cap is fatal for the connection,
//! because after it the stream cannot be resynchronised.
use crate::error::{ProtocolError, ProtocolErrorCode};

pub const FRAME_HEADER_BYTES: usize = 4;
pub use crate::limits::MAX_FRAME_BYTES;

/// Prefixes `body` with its length. Callers only pass bodies they encoded
/// themselves, which are far below the cap.
pub fn encode_frame(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(FRAME_HEADER_BYTES + body.len());
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// Splits a byte stream into frame bodies.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    start: usize,
}

impl FrameDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received but not yet returned as frames.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next complete frame body, `Ok(None)` if more bytes are needed.
    /// `FRAME_TOO_LARGE` is fatal: the caller must close the connection.
    /// `EMPTY_FRAME` is not: the stream stays in sync after it.
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, ProtocolError> {
        let pending = &self.buf[self.start..];
        let Some(header) = pending.get(..FRAME_HEADER_BYTES) else { return Ok(None) };
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        if len > MAX_FRAME_BYTES {
            return Err(ProtocolError::new(
                ProtocolErrorCode::FrameTooLarge,
                format!("frame: length {len} exceeds the limit of {MAX_FRAME_BYTES} bytes"),
            ));
        }
        if len == 0 {
            self.start += FRAME_HEADER_BYTES;
            return Err(ProtocolError::new(ProtocolErrorCode::EmptyFrame, "frame: zero-length body"));
        }
        let Some(body) = pending.get(FRAME_HEADER_BYTES..FRAME_HEADER_BYTES + len) else { return Ok(None) };
        let body = body.to_vec();
        self.start += FRAME_HEADER_BYTES + len;
        // Compact once the consumed prefix dominates, so a long-lived connection does not grow.
        if self.start > MAX_FRAME_BYTES / 2 && self.start * 2 > self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        Ok(Some(body))
    }
}
