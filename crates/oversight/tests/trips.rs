//! Automatic trips: consecutive policy denials per principal, risk spikes.
use sentinel_oversight::{Scope, Trip, Trips};

fn trip(principal: &str, reason: &str) -> Option<Trip> {
    Some(Trip { scope: Scope::Principal(principal.into()), reason: reason.into() })
}

#[test]
fn off_when_zero() {
    let mut trips = Trips::new(0, 0);
    assert!(!trips.enabled());
    for _ in 0..1000 {
        assert_eq!(trips.record("p", true, Some(10_000)), None);
    }
    assert_eq!(trips.denials("p"), 0);
    assert!(Trips::new(1, 0).enabled());
    assert!(Trips::new(0, 1).enabled());
    assert!(!Trips::default().enabled());
}

#[test]
fn consecutive_denials_trip_and_an_allow_resets() {
    let mut trips = Trips::new(3, 0);
    assert_eq!(trips.record("p", true, None), None);
    assert_eq!(trips.record("p", true, None), None);
    assert_eq!(trips.denials("p"), 2);
    assert_eq!(trips.record("p", false, None), None, "an allowed request resets the count");
    assert_eq!(trips.denials("p"), 0);
    assert_eq!(trips.record("p", true, None), None);
    assert_eq!(trips.record("p", true, None), None);
    assert_eq!(trips.record("p", true, None), trip("p", "trip: 3 consecutive policy denials"));
    // The count starts over after a trip.
    assert_eq!(trips.denials("p"), 0);
    assert_eq!(trips.record("p", true, None), None);
    trips.reset("p");
    assert_eq!(trips.denials("p"), 0);
}

#[test]
fn denials_count_per_principal() {
    let mut trips = Trips::new(2, 0);
    assert_eq!(trips.record("alice", true, None), None);
    assert_eq!(trips.record("bob", true, None), None);
    assert_eq!(trips.record("bob", false, None), None);
    assert_eq!(trips.record("alice", true, None), trip("alice", "trip: 2 consecutive policy denials"));
    assert_eq!(trips.record("bob", true, None), None);
    assert_eq!(trips.record("bob", true, None), trip("bob", "trip: 2 consecutive policy denials"));
    let mut one = Trips::new(1, 0);
    assert_eq!(one.record("carol", true, None), trip("carol", "trip: 1 consecutive policy denials"));
}

#[test]
fn risk_spike_trips_at_the_threshold() {
    let mut trips = Trips::new(0, 9000);
    assert_eq!(trips.record("p", false, Some(8999)), None);
    assert_eq!(trips.record("p", false, None), None);
    assert_eq!(trips.record("p", false, Some(9000)), trip("p", "trip: risk score 9000 bps >= 9000"));
    assert_eq!(trips.record("p", true, Some(9400)), trip("p", "trip: risk score 9400 bps >= 9000"));
    assert_eq!(
        trips.record("q", false, Some(u32::MAX)),
        trip("q", &format!("trip: risk score {} bps >= 9000", u32::MAX))
    );
}

#[test]
fn both_trips_at_once_report_the_risk_spike_and_reset_the_count() {
    let mut trips = Trips::new(2, 5000);
    assert_eq!(trips.record("p", true, Some(10)), None);
    assert_eq!(trips.record("p", true, Some(6000)), trip("p", "trip: risk score 6000 bps >= 5000"));
    assert_eq!(trips.denials("p"), 0);
}

#[test]
fn reconfiguring_keeps_or_clears_counts() {
    let mut trips = Trips::new(5, 0);
    trips.record("p", true, None);
    trips.configure(2, 0);
    assert_eq!(trips.record("p", true, None), trip("p", "trip: 2 consecutive policy denials"));
    trips.record("p", true, None);
    trips.configure(0, 100);
    assert_eq!(trips.denials("p"), 0);
    assert_eq!(trips.record("p", true, Some(100)), trip("p", "trip: risk score 100 bps >= 100"));
}
