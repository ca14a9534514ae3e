//! Who needs a PIN, and how hard it is to guess one: the policy decides the second factor from
//! the roster (not the card's flag), a card whose role is not the roster's is refused, every PIN
//! attempt is counted before it is checked, and lockouts grow per kiosk without locking the
//! person out everywhere for good.

mod common;

use common::{T0, TestDb, World};
use quickcard::{Flags, Role};

both_databases!(
    a_staff_card_printed_without_the_flag_still_needs_a_pin,
    a_policy_can_ask_students_of_some_grades_for_a_pin,
    a_card_whose_role_is_not_the_rosters_is_refused_and_flagged,
    ten_parallel_wrong_pins_give_at_most_the_limit_and_then_locked_out,
    lockouts_grow_per_kiosk_and_a_person_unlocks_the_last,
    a_right_pin_clears_the_count,
);

async fn a_staff_card_printed_without_the_flag_still_needs_a_pin(db: TestDb) {
    let w = World::new(db).await;
    w.set_pin("tch-ito", "246810").await;
    // Printed without --second-factor: the policy (every role but students) asks anyway.
    let card = w.card("tch-ito", Role::Teacher, "sch-lincoln");
    let r = w.exchange(&card).await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (401, "pin_required"),
        "{r:?}"
    );
    let r = w.exchange_with(&w.kiosk, &card, Some("246810")).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["second_factor_used"], true);

    // Students do not need one by default.
    let student = w.card("stu-maya", Role::Student, "sch-lincoln");
    assert_eq!(w.exchange(&student).await.status, 200);
}

async fn a_policy_can_ask_students_of_some_grades_for_a_pin(db: TestDb) {
    let w = World::with(db, |c| c.policy.second_factor_grades = vec!["01".into()]).await;
    let r = w
        .exchange(&w.card("stu-maya", Role::Student, "sch-lincoln"))
        .await;
    assert_eq!(r.code(), "pin_required", "{r:?}");
}

async fn a_card_whose_role_is_not_the_rosters_is_refused_and_flagged(db: TestDb) {
    let w = World::new(db).await;
    // stu-maya is a student on the roster; a card that says teacher is refused, with or
    // without a PIN, and never counted as a PIN attempt.
    let card = w.card_issued(
        "stu-maya",
        Role::Teacher,
        "sch-lincoln",
        T0 - 86_400,
        Flags::default(),
    );
    let r = w.exchange_with(&w.kiosk, &card, Some("123456")).await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (403, "role_mismatch"),
        "{r:?}"
    );
    assert_eq!(r.body["error"]["role"], "student");
    let audit = w.audit().await;
    let row = audit
        .iter()
        .find(|a| a.result == "role_mismatch")
        .expect("audited");
    assert!(row.flagged);
    assert_eq!(row.user_id.as_deref(), Some("stu-maya"));
    assert!(
        row.detail.contains("card claims role teacher"),
        "{}",
        row.detail
    );
}

async fn ten_parallel_wrong_pins_give_at_most_the_limit_and_then_locked_out(db: TestDb) {
    let w = World::new(db).await;
    w.set_pin("tch-ito", "246810").await;
    let card = w.card("tch-ito", Role::Teacher, "sch-lincoln");
    let max = w.server.state.config.lockout.max_failures as usize;
    let mut pins: Vec<&str> = vec!["000000"; 10];
    // The right PIN, sent last in the burst: after the limit it must not open a session.
    pins.push("246810");
    let replies = futures_join(&w, &card, &pins).await;
    let wrong = replies.iter().filter(|r| r.code() == "wrong_pin").count();
    let locked = replies.iter().filter(|r| r.code() == "locked_out").count();
    let opened = replies.iter().filter(|r| r.status == 200).count();
    assert!(
        wrong <= max,
        "{wrong} wrong_pin replies for a limit of {max}"
    );
    assert_eq!(wrong + locked + opened, replies.len(), "{replies:?}");
    assert!(locked >= pins.len() - max, "{locked} locked_out");
    // All requests were in flight at once; whichever the portal counted after the limit was
    // refused unchecked, so the right PIN can only have opened a session if it was counted
    // within the limit.
    if opened == 1 {
        assert!(
            wrong < max,
            "a right PIN opened a session after {wrong} wrong ones"
        );
    } else {
        // The limit was reached: the card is locked, right PIN or not.
        let r = w.exchange_with(&w.kiosk, &card, Some("246810")).await;
        assert_eq!(r.code(), "locked_out", "{r:?}");
    }
}

async fn futures_join(w: &World, card: &str, pins: &[&str]) -> Vec<common::Reply> {
    let calls = pins
        .iter()
        .map(|p| w.exchange_with(&w.kiosk, card, Some(p)));
    futures_util::future::join_all(calls).await
}

async fn lockouts_grow_per_kiosk_and_a_person_unlocks_the_last(db: TestDb) {
    let w = World::new(db).await;
    w.set_pin("tch-ito", "246810").await;
    let card = w.card("tch-ito", Role::Teacher, "sch-lincoln");
    let (_, lab2) = w.enrol("LAB-2", "sch-lincoln").await;
    let guess5 = || async {
        let mut last = None;
        for _ in 0..5 {
            last = Some(w.exchange_with(&w.kiosk, &card, Some("000000")).await);
        }
        last.unwrap()
    };
    // First lockout: 15 minutes.
    let r = guess5().await;
    assert_eq!(r.code(), "locked_out");
    assert_eq!(r.body["error"]["retry_after_secs"], 900);
    w.clock.advance(901);
    // Second lockout from the same kiosk: an hour.
    let r = guess5().await;
    assert_eq!(r.code(), "locked_out");
    assert_eq!(r.body["error"]["retry_after_secs"], 3600, "{r:?}");
    // Meanwhile the person is locked everywhere for only the first 15 minutes ...
    w.clock.advance(901);
    let r = w.exchange_with(&lab2, &card, Some("246810")).await;
    assert_eq!(r.status, 200, "another kiosk after 15 minutes: {r:?}");
    // ... while the guessing kiosk stays locked for its hour.
    let r = w.exchange_with(&w.kiosk, &card, Some("246810")).await;
    assert_eq!(r.code(), "locked_out", "{r:?}");
    w.clock.advance(3600);
    // Third lockout from the same kiosk: until a person unlocks it.
    let r = guess5().await;
    assert_eq!(r.code(), "locked_out");
    assert_eq!(r.body["error"]["until_unlocked"], true, "{r:?}");
    w.clock.advance(30 * 86_400);
    let r = w.exchange_with(&w.kiosk, &card, Some("246810")).await;
    assert_eq!(r.code(), "locked_out", "a month later: {r:?}");
    let lifted = quickcard_portal::domain::pin_attempts::unlock(&w.server.state.db, "tch-ito")
        .await
        .unwrap();
    assert!(lifted >= 1, "{lifted}");
    let r = w.exchange_with(&w.kiosk, &card, Some("246810")).await;
    assert_eq!(r.status, 200, "after the unlock: {r:?}");
}

async fn a_right_pin_clears_the_count(db: TestDb) {
    let w = World::new(db).await;
    w.set_pin("tch-ito", "246810").await;
    let card = w.card("tch-ito", Role::Teacher, "sch-lincoln");
    for left in [4, 3, 2] {
        let r = w.exchange_with(&w.kiosk, &card, Some("000000")).await;
        assert_eq!(r.body["error"]["attempts_left"], left, "{r:?}");
    }
    assert_eq!(
        w.exchange_with(&w.kiosk, &card, Some("246810"))
            .await
            .status,
        200
    );
    let r = w.exchange_with(&w.kiosk, &card, Some("000000")).await;
    assert_eq!(r.body["error"]["attempts_left"], 4, "{r:?}");
}
