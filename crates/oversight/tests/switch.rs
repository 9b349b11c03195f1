//! The kill switch: boot state, effective level per scope, the heartbeat
//! deadline and the resume challenge.
mod common;

use common::NOW;
use sentinel_oversight::switch::{BOOT_REASON, ENCLAVE};
use sentinel_oversight::{Effective, KillSwitch, Level, OversightErrorCode as Code, Scope};

fn by(who: &str) -> Vec<String> {
    vec![who.to_string()]
}

fn green() -> KillSwitch {
    let mut switch = KillSwitch::boot(NOW, 0);
    switch.set(Scope::Global, Level::Green, "resumed".into(), by("overseer-1"), NOW);
    switch
}

fn key(id: &str) -> Scope {
    Scope::Key(id.into())
}

fn principal(id: &str) -> Scope {
    Scope::Principal(id.into())
}

fn eff(level: Level, scope: Scope) -> Effective {
    Effective { level, scope }
}

#[test]
fn boots_red_globally() {
    let switch = KillSwitch::boot(NOW, 100);
    assert_eq!(switch.effective(Some("k-1"), "alice", NOW), eff(Level::Red, Scope::Global));
    assert_eq!(switch.effective(None, "alice", NOW + 10_000_000), eff(Level::Red, Scope::Global));
    let status = switch.status();
    assert_eq!(status.global.level, Level::Red);
    assert_eq!(status.global.reason, BOOT_REASON);
    assert_eq!(status.global.by, by(ENCLAVE));
    assert_eq!(status.global.since_us, NOW);
    assert!(status.scopes.is_empty());
    assert_eq!(status.heartbeat_interval_ms, 100);
    // Not armed while Red: the heartbeat cannot trip what is already halted.
    assert_eq!(status.heartbeat_deadline_us, None);
}

#[test]
fn effective_is_the_strictest_scope_with_ties_global_key_principal() {
    let mut switch = green();
    assert_eq!(switch.effective(Some("k-1"), "alice", NOW), eff(Level::Green, Scope::Global));

    switch.set(key("k-1"), Level::Yellow, "check".into(), by("o"), NOW);
    assert_eq!(switch.effective(Some("k-1"), "alice", NOW), eff(Level::Yellow, key("k-1")));
    assert_eq!(switch.effective(Some("k-2"), "alice", NOW), eff(Level::Green, Scope::Global));
    assert_eq!(switch.effective(None, "alice", NOW), eff(Level::Green, Scope::Global));

    switch.set(principal("alice"), Level::Red, "rogue".into(), by("o"), NOW);
    assert_eq!(switch.effective(Some("k-1"), "alice", NOW), eff(Level::Red, principal("alice")));
    assert_eq!(switch.effective(Some("k-1"), "bob", NOW), eff(Level::Yellow, key("k-1")));
    assert_eq!(switch.effective(None, "alice", NOW), eff(Level::Red, principal("alice")));

    // Ties: key before principal, global before both.
    switch.set(principal("bob"), Level::Yellow, "tie".into(), by("o"), NOW);
    assert_eq!(switch.effective(Some("k-1"), "bob", NOW), eff(Level::Yellow, key("k-1")));
    switch.set(key("k-1"), Level::Red, "tie".into(), by("o"), NOW);
    assert_eq!(switch.effective(Some("k-1"), "alice", NOW), eff(Level::Red, key("k-1")));
    switch.set(Scope::Global, Level::Yellow, "degrade".into(), by("o"), NOW);
    assert_eq!(switch.effective(Some("k-2"), "bob", NOW), eff(Level::Yellow, Scope::Global));
    assert_eq!(switch.effective(Some("k-1"), "bob", NOW), eff(Level::Red, key("k-1")));
    switch.set(Scope::Global, Level::Red, "stop".into(), by("o"), NOW);
    assert_eq!(switch.effective(Some("k-1"), "alice", NOW), eff(Level::Red, Scope::Global));
}

#[test]
fn green_forgets_a_scope_and_status_lists_the_rest_sorted() {
    let mut switch = green();
    switch.set(principal("zed"), Level::Red, "r".into(), by("o"), NOW);
    switch.set(key("k-b"), Level::Yellow, "y".into(), by("o"), NOW + 1);
    switch.set(key("k-a"), Level::Red, "r".into(), by("o"), NOW + 2);
    switch.set(principal("amy"), Level::Yellow, "y".into(), by("o"), NOW + 3);
    let scopes: Vec<Scope> = switch.status().scopes.into_iter().map(|s| s.scope).collect();
    assert_eq!(scopes, vec![key("k-a"), key("k-b"), principal("amy"), principal("zed")]);
    assert_eq!(switch.level_of(&key("k-a")), Level::Red);
    assert_eq!(switch.level_of(&principal("amy")), Level::Yellow);
    assert_eq!(switch.level_of(&key("k-zzz")), Level::Green);
    assert_eq!(switch.level_of(&Scope::Global), Level::Green);

    switch.set(key("k-a"), Level::Green, "resumed".into(), by("o"), NOW + 4);
    switch.set(principal("zed"), Level::Green, "resumed".into(), by("o"), NOW + 4);
    let status = switch.status();
    let scopes: Vec<Scope> = status.scopes.iter().map(|s| s.scope.clone()).collect();
    assert_eq!(scopes, vec![key("k-b"), principal("amy")]);
    assert_eq!(status.scopes[0].since_us, NOW + 1);
    assert_eq!(status.scopes[0].by, by("o"));
    assert_eq!(switch.level_of(&key("k-a")), Level::Green);
    assert_eq!(switch.effective(Some("k-a"), "zed", NOW), eff(Level::Green, Scope::Global));
}

const INTERVAL_MS: u64 = 100;
const INTERVAL_US: u64 = 100_000;

#[test]
fn heartbeat_trips_after_a_short_interval() {
    let mut switch = KillSwitch::boot(NOW, INTERVAL_MS);
    switch.set(Scope::Global, Level::Green, "resumed".into(), by("o1"), NOW);
    assert_eq!(switch.status().heartbeat_deadline_us, Some(NOW + INTERVAL_US));
    assert_eq!(switch.effective(None, "a", NOW + INTERVAL_US), eff(Level::Green, Scope::Global));
    // Past the deadline every request is Red, before the trip is recorded.
    assert_eq!(switch.effective(Some("k"), "a", NOW + INTERVAL_US + 1), eff(Level::Red, Scope::Global));
    assert_eq!(switch.level_of(&Scope::Global), Level::Green);

    assert!(!switch.check_heartbeat(NOW + INTERVAL_US));
    assert!(switch.check_heartbeat(NOW + INTERVAL_US + 1));
    assert!(!switch.check_heartbeat(NOW + INTERVAL_US + 2), "trips once");
    let status = switch.status();
    assert_eq!(status.global.level, Level::Red);
    assert!(status.global.reason.starts_with("heartbeat missed: "), "{}", status.global.reason);
    assert_eq!(status.global.by, by(ENCLAVE));
    assert_eq!(status.global.since_us, NOW + INTERVAL_US + 1);
    assert_eq!(status.heartbeat_deadline_us, None);

    // A heartbeat does not resume a halted switch, nor arm it.
    switch.heartbeat(NOW + INTERVAL_US + 10);
    assert_eq!(switch.status().heartbeat_deadline_us, None);
    assert_eq!(switch.effective(None, "a", NOW + INTERVAL_US + 10).level, Level::Red);

    // A quorum resume re-arms from its own time.
    let t = NOW + 1_000_000;
    switch.set(Scope::Global, Level::Green, "resumed".into(), by("o1"), t);
    assert_eq!(switch.status().heartbeat_deadline_us, Some(t + INTERVAL_US));
    assert_eq!(switch.effective(None, "a", t + 50_000).level, Level::Green);
}

#[test]
fn heartbeats_postpone_the_deadline() {
    let mut switch = KillSwitch::boot(NOW, INTERVAL_MS);
    switch.set(Scope::Global, Level::Green, "resumed".into(), by("o1"), NOW);
    let mut t = NOW;
    for _ in 0..10 {
        t += 90_000;
        assert!(!switch.check_heartbeat(t));
        switch.heartbeat(t);
        assert_eq!(switch.heartbeat_deadline_us(), Some(t + INTERVAL_US));
        assert_eq!(switch.effective(None, "a", t + INTERVAL_US).level, Level::Green);
    }
    // A heartbeat after the deadline does not rescue the switch: it records the trip.
    switch.heartbeat(t + INTERVAL_US + 1);
    assert_eq!(switch.level_of(&Scope::Global), Level::Red);
    assert_eq!(switch.heartbeat_deadline_us(), None);
}

#[test]
fn heartbeat_arming_follows_the_global_level() {
    let mut switch = KillSwitch::boot(NOW, INTERVAL_MS);
    switch.set(Scope::Global, Level::Yellow, "degraded resume".into(), by("o1"), NOW);
    assert_eq!(switch.heartbeat_deadline_us(), Some(NOW + INTERVAL_US));
    // Red disarms.
    switch.set(Scope::Global, Level::Red, "halt".into(), by("o1"), NOW + 10);
    assert_eq!(switch.heartbeat_deadline_us(), None);
    // A key or principal halt does not touch it.
    switch.set(Scope::Global, Level::Green, "resumed".into(), by("o1"), NOW + 20);
    switch.set(key("k"), Level::Red, "halt".into(), by("o1"), NOW + 30);
    assert_eq!(switch.heartbeat_deadline_us(), Some(NOW + 20 + INTERVAL_US));
    // A set after the deadline records the trip first (then applies).
    switch.set(principal("p"), Level::Red, "halt".into(), by("o1"), NOW + 20 + INTERVAL_US + 1);
    assert_eq!(switch.level_of(&Scope::Global), Level::Red);
    assert!(switch.status().global.reason.starts_with("heartbeat missed"));
    assert_eq!(switch.level_of(&principal("p")), Level::Red);
}

#[test]
fn heartbeat_interval_changes() {
    let mut switch = green();
    assert_eq!(switch.heartbeat_deadline_us(), None);
    assert_eq!(switch.effective(None, "a", u64::MAX).level, Level::Green, "no heartbeat configured: never trips");
    switch.set_heartbeat_interval(INTERVAL_MS, NOW + 5);
    assert_eq!(switch.heartbeat_interval_ms(), INTERVAL_MS);
    assert_eq!(switch.heartbeat_deadline_us(), Some(NOW + 5 + INTERVAL_US));
    switch.set_heartbeat_interval(0, NOW + 6);
    assert_eq!(switch.heartbeat_deadline_us(), None);
    assert_eq!(switch.status().heartbeat_interval_ms, 0);
    assert_eq!(switch.effective(None, "a", NOW + 10 * INTERVAL_US).level, Level::Green);
    assert!(!switch.check_heartbeat(u64::MAX));
    // While Red a new interval is stored but not armed.
    let mut red = KillSwitch::boot(NOW, 0);
    red.set_heartbeat_interval(INTERVAL_MS, NOW);
    assert_eq!(red.heartbeat_deadline_us(), None);
    red.set(Scope::Global, Level::Green, "resumed".into(), by("o1"), NOW + 1);
    assert_eq!(red.heartbeat_deadline_us(), Some(NOW + 1 + INTERVAL_US));
    // A heartbeat long after the deadline trips instead of re-arming.
    red.heartbeat(u64::MAX - 1);
    assert_eq!(red.heartbeat_deadline_us(), None);
    assert_eq!(red.level_of(&Scope::Global), Level::Red);
    // Near the end of time the deadline saturates instead of wrapping.
    red.set(Scope::Global, Level::Green, "resumed".into(), by("o1"), u64::MAX - 10);
    assert_eq!(red.heartbeat_deadline_us(), Some(u64::MAX));
    assert_eq!(red.effective(None, "a", u64::MAX).level, Level::Green);
}

#[test]
fn challenge_is_one_use_and_expires() {
    let mut switch = KillSwitch::boot(NOW, 0);
    refused(switch.take_challenge(&[1; 32], NOW), Code::ChallengeInvalid, "no resume challenge is outstanding");
    switch.new_challenge([1; 32], NOW + 60_000_000);
    // A wrong guess does not consume it.
    refused(switch.take_challenge(&[2; 32], NOW), Code::ChallengeInvalid, "not the enclave's current resume challenge");
    assert_eq!(switch.take_challenge(&[1; 32], NOW + 60_000_000), Ok(()));
    // One challenge, one resume.
    refused(switch.take_challenge(&[1; 32], NOW + 1), Code::ChallengeInvalid, "command.challenge");

    switch.new_challenge([3; 32], NOW + 100);
    refused(switch.take_challenge(&[3; 32], NOW + 101), Code::ChallengeInvalid, "expired");
    // A new challenge replaces the previous one.
    switch.new_challenge([4; 32], NOW + 1000);
    switch.new_challenge([5; 32], NOW + 1000);
    refused(switch.take_challenge(&[4; 32], NOW), Code::ChallengeInvalid, "not the enclave's current");
    assert_eq!(switch.take_challenge(&[5; 32], NOW), Ok(()));
}

#[track_caller]
fn refused(result: Result<(), sentinel_oversight::OversightError>, code: Code, needle: &str) {
    common::refused(result, code, needle)
}
