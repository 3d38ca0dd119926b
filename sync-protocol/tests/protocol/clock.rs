//! The hybrid logical clock: monotonicity, the receive rule, drift refusal, overflow.

use sync_protocol::{Clock, Hlc, HlcError};

use crate::support::hlc;

#[test]
fn a_clock_takes_the_wall_clock_when_it_is_ahead_and_restarts_the_counter() {
    let mut clock = Clock::new("phone-7", 1_000).unwrap();
    assert_eq!(clock.tick(5_000).to_string(), "0000000005000-0000-phone-7");
    assert_eq!(clock.tick(5_000).to_string(), "0000000005000-0001-phone-7");
    assert_eq!(clock.tick(6_000).to_string(), "0000000006000-0000-phone-7");
}

#[test]
fn ticks_keep_increasing_when_the_wall_clock_stands_still_or_goes_backwards() {
    let mut clock = Clock::new("phone-7", 1_000).unwrap();
    let mut last = clock.tick(10_000);
    for now in [10_000, 9_000, 0, 10_000, 9_999] {
        let next = clock.tick(now);
        assert!(next > last, "{next} > {last}");
        assert_eq!(next.ms(), 10_000);
        last = next;
    }
}

#[test]
fn counter_overflow_moves_to_the_next_millisecond_with_counter_zero() {
    let mut clock = Clock::new("server", 1_000).unwrap();
    clock.witness(&hlc("0000000005000-fffe-phone"));
    assert_eq!(clock.tick(5_000).to_string(), "0000000005000-ffff-server");
    assert_eq!(clock.tick(5_000).to_string(), "0000000005001-0000-server");
    assert_eq!(clock.tick(5_000).to_string(), "0000000005001-0001-server");
}

#[test]
fn observing_a_remote_at_counter_ffff_carries_into_the_next_millisecond() {
    let mut clock = Clock::new("server", 1_000).unwrap();
    let remote = hlc("0000000005000-ffff-phone");
    clock.observe(&remote, 5_000).unwrap();
    let next = clock.tick(5_000);
    assert!(next > remote);
    assert_eq!(next.to_string(), "0000000005001-0001-server");
}

#[test]
fn sixty_five_thousand_ticks_in_one_millisecond_stay_strictly_increasing() {
    let mut clock = Clock::new("busy", 0).unwrap();
    let mut last = clock.tick(7);
    for _ in 0..70_000 {
        let next = clock.tick(7);
        assert!(next > last);
        last = next;
    }
    assert_eq!(last.ms(), 8);
}

#[test]
fn the_next_tick_after_observing_a_remote_is_above_it_even_with_a_smaller_node() {
    let mut clock = Clock::new("zzz", 10_000).unwrap();
    let remote = hlc("0000000012000-0007-aaa");
    clock.observe(&remote, 5_000).unwrap();
    let next = clock.tick(5_000);
    assert!(next > remote);
    assert_eq!((next.ms(), next.counter()), (12_000, 9));
}

#[test]
fn observe_uses_the_wall_clock_when_it_is_ahead_of_both() {
    let mut clock = Clock::new("server", 10_000).unwrap();
    clock
        .observe(&hlc("0000000001000-0005-phone"), 3_000)
        .unwrap();
    assert_eq!(clock.tick(2_000).to_string(), "0000000003000-0001-server");
}

#[test]
fn observe_refuses_a_remote_beyond_the_drift_and_leaves_the_clock_unchanged() {
    let mut clock = Clock::new("server", 300_000).unwrap();
    clock.tick(1_000_000);
    let before = clock.clone();
    let wild = hlc("0000001300001-0000-phone");
    let drift = clock.observe(&wild, 1_000_000).unwrap_err();
    assert_eq!(drift.remote, wild);
    assert_eq!((drift.now_ms, drift.max_drift_ms), (1_000_000, 300_000));
    assert_eq!(clock, before);
    assert!(drift.to_string().contains("300000 ms ahead"), "{drift}");
}

#[test]
fn observe_accepts_a_remote_exactly_at_the_drift_limit() {
    let mut clock = Clock::new("server", 300_000).unwrap();
    let remote = hlc("0000001300000-0003-phone");
    clock.observe(&remote, 1_000_000).unwrap();
    assert!(clock.tick(1_000_000) > remote);
}

#[test]
fn witness_raises_the_clock_above_a_stored_hlc_without_a_drift_check() {
    let mut clock = Clock::new("server", 0).unwrap();
    let stored = hlc("0000009000000-0002-phone");
    clock.witness(&stored);
    let next = clock.tick(1_000);
    assert!(next > stored);
    assert_eq!(next.to_string(), "0000009000000-0003-server");
}

#[test]
fn witnessing_an_older_hlc_changes_nothing() {
    let mut clock = Clock::new("server", 0).unwrap();
    clock.tick(5_000);
    let before = clock.clone();
    clock.witness(&hlc("0000000004000-0009-phone"));
    assert_eq!(clock, before);
}

#[test]
fn a_wall_clock_beyond_13_digits_counts_as_the_largest_ms() {
    let mut clock = Clock::new("n", 0).unwrap();
    let stamp = clock.tick(u64::MAX);
    assert_eq!(stamp.ms(), Hlc::MAX_MS);
    assert_eq!(stamp.to_string().parse::<Hlc>().unwrap(), stamp);
}

#[test]
fn a_clock_needs_a_valid_node() {
    assert_eq!(Clock::new("", 0).unwrap_err(), HlcError::BadNode);
    assert_eq!(Clock::new("phone 7", 0).unwrap_err(), HlcError::BadNode);
    assert_eq!(Clock::new("phone-7", 0).unwrap().node(), "phone-7");
}
