//! A session under a hostile relay, checked against a model. The input is a
//! list of operations: seal a plaintext of any size up to the cap (multi-chunk
//! frames included), deliver the next sealed frame intact, damaged (one bit),
//! or not at all (dropped), replay the last delivered one, or inject raw
//! bytes. Model: a frame opens exactly when it is the next sealed frame,
//! intact, and nothing failed before; then it yields its plaintext. Any other
//! delivery fails and every later one fails too. Never a panic.
#![no_main]

use std::collections::VecDeque;

use libfuzzer_sys::fuzz_target;
use sentinel_session::{Initiator, Responder, SessionSecret, MAX_PLAINTEXT_LEN};

const HASH: [u8; 32] = [0xa7; 32];

struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }

    fn take_up_to(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.0.len());
        self.take(n).unwrap_or_default()
    }
}

fuzz_target!(|data: &[u8]| {
    let secret = SessionSecret::from_bytes([0x11; 32]);
    let (init, m1) = Initiator::new(&secret.public(), &HASH, [0x22; 32]).expect("initiator");
    let (mut hs, m2) = Responder::respond(&secret, &HASH, &m1, [0x33; 32]).expect("respond");
    let (mut client, auth) = init.finish(&m2).expect("finish").authenticate("p", &[1; 64]).expect("auth");
    hs.open_auth(&auth).expect("open_auth");
    let mut server = hs.establish("p", 0, u64::MAX).expect("establish");

    let mut queue: VecDeque<(Vec<u8>, Vec<u8>)> = VecDeque::new();
    let mut last: Option<Vec<u8>> = None;
    let mut dead = false;
    let mut out = Vec::new();
    let mut input = Input(data);
    while let Some(op) = input.take(1) {
        out.clear();
        match op[0] % 6 {
            0 => {
                let Some(spec) = input.take(4) else { break };
                let len = (usize::from(spec[0]) << 16 | usize::from(spec[1]) << 8 | usize::from(spec[2]))
                    % (MAX_PLAINTEXT_LEN + 1);
                let plaintext = vec![spec[3]; len];
                let mut frame = Vec::new();
                client.seal(&plaintext, &mut frame).expect("seal within the cap");
                queue.push_back((frame, plaintext));
            }
            1 => {
                let Some((frame, plaintext)) = queue.pop_front() else { continue };
                let result = server.open(&frame, &mut out, 1);
                if dead {
                    assert!(result.is_err());
                } else {
                    result.expect("the next intact frame opens");
                    assert_eq!(out, plaintext);
                }
                last = Some(frame);
            }
            2 => {
                let Some((mut frame, _)) = queue.pop_front() else { continue };
                let Some(at) = input.take(2) else { break };
                let bit = (usize::from(at[0]) << 8 | usize::from(at[1])) % (frame.len() * 8);
                frame[bit / 8] ^= 1 << (bit % 8);
                assert!(server.open(&frame, &mut out, 1).is_err());
                assert!(out.is_empty());
                dead = true;
            }
            3 => {
                // Dropped: the next delivery is out of sequence.
                if queue.pop_front().is_some() {
                    dead = true;
                }
            }
            4 => {
                let Some(frame) = last.clone() else { continue };
                assert!(server.open(&frame, &mut out, 1).is_err());
                dead = true;
            }
            _ => {
                let Some(len) = input.take(2) else { break };
                let len = usize::from(len[0]) << 8 | usize::from(len[1]);
                let raw = input.take_up_to(len);
                assert!(server.open(raw, &mut out, 1).is_err());
                dead = true;
            }
        }
    }
});
