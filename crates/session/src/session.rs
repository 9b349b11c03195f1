//! Established sessions: seal and open frames, nothing else. Both append to
//! the caller's buffer so that a connection task can reuse one buffer per
//! direction (no allocation per frame once it has grown).

use core::fmt;

use crate::channel::{Channel, State};
use crate::error::Error;

/// The client's end of an authenticated session.
pub struct ClientSession {
    channel: Channel,
}

impl ClientSession {
    pub(crate) fn new(channel: Channel) -> Self {
        Self { channel }
    }

    /// Appends the frame sealing `plaintext` (at most `MAX_PLAINTEXT_LEN`
    /// bytes; `sealed_len(plaintext.len())` bytes) to `out`. Frames must
    /// reach the enclave in the order they were sealed.
    pub fn seal(&mut self, plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        self.channel.seal(plaintext, out)
    }

    /// Appends the plaintext of the enclave's next frame to `out`. Any
    /// failure (`SESSION_BROKEN`, `SESSION_FRAME_TOO_LARGE`) leaves `out` as
    /// it was and kills the session: every later call fails with
    /// `SESSION_BROKEN`.
    pub fn open(&mut self, frame: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        self.channel.open(frame, out)
    }

    /// Ends the session locally: later calls fail with `SESSION_CLOSED`.
    /// Dropping the session wipes its keys.
    pub fn close(&mut self) {
        if self.channel.state == State::Open {
            self.channel.state = State::Closed;
        }
    }
}

impl fmt::Debug for ClientSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSession").field("state", &self.channel.state).finish_non_exhaustive()
    }
}

/// The enclave's end of an authenticated session, bound to one principal.
pub struct ServerSession {
    channel: Channel,
    principal: String,
    expires_at_us: u64,
}

impl ServerSession {
    pub(crate) fn new(channel: Channel, principal: String, expires_at_us: u64) -> Self {
        Self { channel, principal, expires_at_us }
    }

    /// The principal the client authenticated as.
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// When the session stops accepting frames (microseconds since the Unix epoch).
    pub fn expires_at_us(&self) -> u64 {
        self.expires_at_us
    }

    /// Appends the frame sealing `plaintext` to `out`. Not checked against
    /// the expiry: the answer to a request accepted before it is still sealed.
    /// Frames must reach the client in the order they were sealed, so a
    /// server that answers pipelined requests concurrently seals and writes
    /// under one lock.
    pub fn seal(&mut self, plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        self.channel.seal(plaintext, out)
    }

    /// Appends the plaintext of the client's next frame to `out`. From
    /// `now_us >= expires_at_us()` on, fails with `SESSION_EXPIRED` (for
    /// good, even if the clock later reads earlier). Any failure to open
    /// leaves `out` as it was and kills the session (later calls:
    /// `SESSION_BROKEN`).
    pub fn open(&mut self, frame: &[u8], out: &mut Vec<u8>, now_us: u64) -> Result<(), Error> {
        if self.channel.state == State::Open && now_us >= self.expires_at_us {
            self.channel.state = State::Expired;
        }
        self.channel.open(frame, out)
    }

    /// Ends the session (`session_close`): later calls fail with
    /// `SESSION_CLOSED`. Dropping the session wipes its keys.
    pub fn close(&mut self) {
        if self.channel.state == State::Open {
            self.channel.state = State::Closed;
        }
    }
}

impl fmt::Debug for ServerSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerSession")
            .field("principal", &self.principal)
            .field("expires_at_us", &self.expires_at_us)
            .field("state", &self.channel.state)
            .finish_non_exhaustive()
    }
}
