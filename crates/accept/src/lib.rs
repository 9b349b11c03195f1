//! Accept loops for the two programs that take connections: the enclave
//! (from the host) and `sentinel-proxy` (on the parent instance).
//!
//! A failed `accept` (typically `EMFILE`: out of file descriptors) must
//! neither end the server nor spin: [`accept_loop`] logs it and waits a
//! capped exponential [`Backoff`] before trying again. This is the one crate
//! in `crates/` that runs on tokio; it carries no trust and parses nothing,
//! so both sides of the trust boundary can use it without sharing any other
//! code.
#![forbid(unsafe_code)]

use std::future::Future;
use std::io;
use std::time::Duration;

/// Capped exponential backoff for failed accepts: 5 ms, 10 ms, 20 ms, ... up
/// to 1 s, back to 5 ms after the next successful accept. A persistent
/// failure (out of file descriptors) then costs one log line and one syscall
/// per second instead of a busy loop.
#[derive(Clone, Debug)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub const ACCEPT_MIN: Duration = Duration::from_millis(5);
    pub const ACCEPT_MAX: Duration = Duration::from_secs(1);

    pub fn new(min: Duration, max: Duration) -> Self {
        Backoff { min, max, next: min }
    }

    /// The backoff the accept loops use.
    pub fn for_accept() -> Self {
        Backoff::new(Self::ACCEPT_MIN, Self::ACCEPT_MAX)
    }

    /// The delay to wait now; the following one doubles, up to the cap.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        delay
    }

    /// Called after a success: the next failure waits the minimum again.
    pub fn reset(&mut self) {
        self.next = self.min;
    }
}

/// Calls `accept` until `shutdown` completes, handing each accepted value to
/// `on_accept`. A failed accept is logged and followed by a [`Backoff`] pause
/// (interrupted by `shutdown`); the loop never ends because of one.
pub async fn accept_loop<T, F, Fut>(mut accept: F, shutdown: impl Future<Output = ()>, mut on_accept: impl FnMut(T))
where
    F: FnMut() -> Fut,
    Fut: Future<Output = io::Result<T>>,
{
    tokio::pin!(shutdown);
    let mut backoff = Backoff::for_accept();
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            accepted = accept() => match accepted {
                Ok(conn) => {
                    backoff.reset();
                    on_accept(conn);
                }
                // Transient accept errors (e.g. EMFILE) must not take the server down.
                Err(e) => {
                    let delay = backoff.next_delay();
                    tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "accept failed");
                    tokio::select! {
                        _ = &mut shutdown => return,
                        _ = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tokio::time::Instant;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(5), Duration::from_millis(40));
        let seen: Vec<u64> = (0..6).map(|_| b.next_delay().as_millis() as u64).collect();
        assert_eq!(seen, [5, 10, 20, 40, 40, 40]);
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_millis(5));
    }

    /// A listener whose accept always fails is retried with growing pauses,
    /// not in a tight loop (virtual time: the test takes no real second).
    #[tokio::test(start_paused = true)]
    async fn failing_accepts_back_off_exponentially() {
        let attempts = Arc::new(Mutex::new(Vec::<Instant>::new()));
        let log = attempts.clone();
        let start = Instant::now();
        accept_loop(
            move || {
                log.lock().unwrap().push(Instant::now());
                async { Err::<(), _>(io::Error::from_raw_os_error(24)) } // EMFILE
            },
            tokio::time::sleep(Duration::from_secs(5)),
            |()| unreachable!("nothing is accepted"),
        )
        .await;
        let attempts = attempts.lock().unwrap();
        // Attempts at 0, 5, 15, 35, ..., 1275 ms (nine), then one per second: 12 in 5 s.
        // The old fixed 10 ms pause would have made 500.
        assert!((10..=14).contains(&attempts.len()), "{} attempts in 5 s", attempts.len());
        let gaps: Vec<Duration> = attempts.windows(2).map(|w| w[1] - w[0]).collect();
        assert_eq!(gaps[0], Duration::from_millis(5));
        assert!(gaps.windows(2).all(|g| g[1] >= g[0]), "gaps never shrink: {gaps:?}");
        assert_eq!(*gaps.last().unwrap(), Backoff::ACCEPT_MAX);
        assert!(start.elapsed() >= Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn a_successful_accept_resets_the_backoff() {
        let attempts = Arc::new(Mutex::new(Vec::<Instant>::new()));
        let log = attempts.clone();
        let mut n = 0u32;
        let accepted = Arc::new(Mutex::new(0u32));
        let counter = accepted.clone();
        accept_loop(
            move || {
                n += 1;
                log.lock().unwrap().push(Instant::now());
                // Four failures, one success, then failures again.
                let result = if n == 5 { Ok(()) } else { Err(io::Error::other("transient")) };
                async move { result }
            },
            tokio::time::sleep(Duration::from_millis(200)),
            move |()| *counter.lock().unwrap() += 1,
        )
        .await;
        assert_eq!(*accepted.lock().unwrap(), 1);
        let attempts = attempts.lock().unwrap();
        let gaps: Vec<u64> = attempts.windows(2).map(|w| (w[1] - w[0]).as_millis() as u64).collect();
        // 5, 10, 20, 40 (failures 1-4), 0 (the success is followed by an immediate accept), then 5, 10, ...
        assert_eq!(&gaps[..7], &[5, 10, 20, 40, 0, 5, 10]);
    }
}
