//! Properties: the effective level is never looser than any scope involved,
//! whatever sequence of state changes led there; the command decoder never
//! panics and accepts only what it would encode itself.
use proptest::prelude::*;
use sentinel_oversight::{Action, Command, Effective, KillSwitch, Level, Scope};

const NOW: u64 = 1_700_000_000_000_000;

fn level() -> impl Strategy<Value = Level> {
    prop_oneof![Just(Level::Green), Just(Level::Yellow), Just(Level::Red)]
}

fn scope() -> impl Strategy<Value = Scope> {
    prop_oneof![
        Just(Scope::Global),
        prop_oneof![Just("k1"), Just("k2")].prop_map(|k| Scope::Key(k.into())),
        prop_oneof![Just("p1"), Just("p2")].prop_map(|p| Scope::Principal(p.into())),
    ]
}

#[derive(Clone, Debug)]
enum Op {
    Set(Scope, Level),
    Heartbeat,
    Check,
    Interval(u64),
    Wait(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (scope(), level()).prop_map(|(s, l)| Op::Set(s, l)),
        1 => Just(Op::Heartbeat),
        1 => Just(Op::Check),
        1 => prop_oneof![Just(0u64), Just(10), Just(100)].prop_map(Op::Interval),
        2 => (0u64..250_000).prop_map(Op::Wait),
    ]
}

/// Checks every (key, principal) combination against the scopes' own levels.
fn check_effective(switch: &KillSwitch, now: u64) -> Result<(), TestCaseError> {
    for key in [None, Some("k1"), Some("k2"), Some("k3")] {
        for principal in ["p1", "p2", "p3"] {
            let effective = switch.effective(key, principal, now);
            let global = switch.level_of(&Scope::Global);
            let key_level = key.map_or(Level::Green, |k| switch.level_of(&Scope::Key(k.into())));
            let principal_level = switch.level_of(&Scope::Principal(principal.into()));
            let strictest = global.max(key_level).max(principal_level);
            prop_assert!(effective.level >= strictest, "{effective:?} looser than {strictest:?}");
            // The naming scope is one of the request's own.
            match &effective.scope {
                Scope::Global => {}
                Scope::Key(k) => prop_assert_eq!(Some(k.as_str()), key),
                Scope::Principal(p) => prop_assert_eq!(p.as_str(), principal),
            }
            if switch.heartbeat_deadline_us().is_none_or(|deadline| now <= deadline) {
                // No overdue heartbeat: exactly the strictest, named by the first scope in tie order.
                prop_assert_eq!(effective.level, strictest);
                let expected = if global == strictest {
                    Scope::Global
                } else if key_level == strictest {
                    Scope::Key(key.unwrap_or_default().into())
                } else {
                    Scope::Principal(principal.into())
                };
                prop_assert_eq!(&effective.scope, &expected);
            } else {
                prop_assert_eq!(effective.level, Level::Red);
                prop_assert_eq!(&effective.scope, &Scope::Global);
            }
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn effective_is_never_looser_than_its_scopes(sets in prop::collection::vec((scope(), level()), 0..40)) {
        let mut switch = KillSwitch::boot(NOW, 0);
        check_effective(&switch, NOW)?;
        for (scope, level) in sets {
            switch.set(scope, level, "test".into(), vec!["o".into()], NOW);
            check_effective(&switch, NOW)?;
        }
        // The maps hold only scopes that are not Green.
        prop_assert!(switch.status().scopes.iter().all(|s| s.level != Level::Green));
    }

    #[test]
    fn heartbeat_never_loosens_anything(ops in prop::collection::vec(op(), 0..60)) {
        let mut switch = KillSwitch::boot(NOW, 100);
        let mut now = NOW;
        for op in ops {
            // Whether the global scope is in effect Red (recorded, or its heartbeat is overdue).
            let globally_red = switch.effective(None, "p3", now) == Effective { level: Level::Red, scope: Scope::Global };
            let resumes_global = matches!(op, Op::Set(Scope::Global, _));
            let waits = matches!(op, Op::Wait(_));
            match op {
                Op::Set(scope, level) => switch.set(scope, level, "test".into(), vec!["o".into()], now),
                Op::Heartbeat => switch.heartbeat(now),
                Op::Check => {
                    switch.check_heartbeat(now);
                }
                Op::Interval(ms) => switch.set_heartbeat_interval(ms, now),
                Op::Wait(us) => now += us,
            }
            check_effective(&switch, now)?;
            // Only a set of the global scope (a resume) brings a globally Red switch back.
            if globally_red && !resumes_global {
                prop_assert_eq!(switch.effective(None, "p3", now).level, Level::Red);
                if !waits {
                    prop_assert_eq!(switch.level_of(&Scope::Global), Level::Red, "the trip is recorded");
                }
            }
        }
    }

    #[test]
    fn decoder_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(command) = Command::from_cbor(&bytes) {
            prop_assert_eq!(command.to_cbor(), bytes);
        }
    }

    #[test]
    fn mutated_commands_decode_only_canonically(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        action in 0usize..7,
    ) {
        let mut command = Command::new(Action::ALL[action], NOW, vec![1; 16]);
        match command.action {
            Action::Halt => { command.scope = Some(Scope::Global); command.level = Some(Level::Red); }
            Action::Resume => { command.scope = Some(Scope::Global); command.level = Some(Level::Green); command.challenge = Some([2; 32]); }
            Action::Approve | Action::Reject => { command.request_id = Some([3; 16]); command.request_digest = Some([4; 32]); }
            _ => {}
        }
        let mut bytes = command.to_cbor();
        prop_assert_eq!(Command::from_cbor(&bytes), Ok(command));
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if let Ok(decoded) = Command::from_cbor(&bytes) {
            prop_assert_eq!(decoded.to_cbor(), bytes);
            prop_assert!(decoded.validate().is_ok());
        }
    }

    #[test]
    fn json_never_panics(text in "\\PC{0,200}") {
        let _ = Command::from_json(&text);
    }
}
