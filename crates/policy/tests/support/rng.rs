//! Deterministic xorshift64* for the randomized runs of the tests: the same run on every machine.
#![allow(dead_code)]

pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A gap between two requests, in microseconds: mostly bursts and sub-second gaps, sometimes past a
/// cooldown, a minute, an hour or a day (so every window rolls over).
pub fn random_gap(rng: &mut Rng) -> u64 {
    match rng.below(20) {
        0..=4 => 0,
        5..=7 => rng.below(1_000),
        8..=10 => rng.below(400_000),
        11..=13 => 1_000_000 + rng.below(2_000_000),
        14..=16 => rng.below(90_000_000),
        17 => 600_000_000 + rng.below(3_600_000_000),
        18 => 3_600_000_000 + rng.below(1_000_000),
        _ => 86_400_000_000 + rng.below(60_000_000),
    }
}
