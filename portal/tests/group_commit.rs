//! Concurrent exchanges are written in groups (`portal/src/db/group.rs`), and the outcome is the
//! same as if they had been written one by one: every session and audit row is there, a card
//! scanned on two kiosks at once ends up with one open session and both ends flagged, and the
//! shared rate-limit counters count every hit exactly once; and reads grouped the same way
//! (`portal/src/db/exchange_reads.rs`) give each exchange its own kiosk and card holder. Real
//! server, real database, the requests all in flight at once.

mod common;

use common::{ClockExt, ROSTER, TestDb, World};
use futures_util::future::join_all;
use quickcard::Role;
use quickcard_portal::db::store;

both_databases!(
    concurrent_exchanges_are_committed_in_groups_with_every_row,
    concurrent_scans_are_counted_exactly_by_the_shared_rate_limits,
    grouped_reads_answer_each_exchange_with_its_own_kiosk_and_holder
);

const USERS: usize = 40;

/// The test roster plus `USERS` more students at Lincoln.
async fn big_roster(w: &World) {
    let mut csv = ROSTER.to_string();
    for i in 0..USERS {
        csv.push_str(&format!(
            "stu-g{i:02},Kid{i},Group,student,sch-lincoln,Lincoln Elementary,cls-1,Room 1,01\n"
        ));
    }
    let path = w.roster_path();
    std::fs::write(&path, csv).unwrap();
    quickcard_portal::domain::roster_import::import(&w.server.state.db, &path, common::T0 as i64)
        .await
        .unwrap();
}

/// A world with the big roster, budgets that never run out, and a second Lincoln kiosk (its
/// credential returned).
async fn busy_world(db: TestDb) -> (World, String) {
    let w = World::with(db, |c| {
        c.rate_limit.kiosk_max = 10_000;
        c.rate_limit.card_max = 10_000;
    })
    .await;
    big_roster(&w).await;
    let (_, lab2) = w.enrol("LAB-2", "sch-lincoln").await;
    (w, lab2)
}

async fn concurrent_exchanges_are_committed_in_groups_with_every_row(db: TestDb) {
    let (w, lab2) = busy_world(db).await;
    let cards: Vec<String> = (0..USERS)
        .map(|i| w.card(&format!("stu-g{i:02}"), Role::Student, "sch-lincoln"))
        .collect();
    let before = w.server.state.sessions.stats();

    // Every card on both kiosks at once: 80 exchanges in flight.
    let replies = join_all(cards.iter().flat_map(|card| {
        [
            w.exchange_with(&w.kiosk, card, None),
            w.exchange_with(&lab2, card, None),
        ]
    }))
    .await;
    for r in &replies {
        assert_eq!(r.status, 200, "{r:?}");
    }

    let stats = w.server.state.sessions.stats();
    let (groups, jobs) = (stats.groups - before.groups, stats.jobs - before.jobs);
    assert_eq!(
        jobs,
        2 * USERS as u64,
        "every session start went through the writer"
    );
    assert!(
        groups < jobs,
        "concurrent session starts shared commits ({jobs} sessions in {groups} groups)"
    );

    // Per card exactly one of its two sessions is still open: the later start ended the other.
    for (i, pair) in replies.chunks(2).enumerate() {
        let mut open = 0;
        for (kiosk, r) in [&w.kiosk, &lab2].into_iter().zip(pair) {
            let token = r.body["token"].as_str().unwrap();
            if w.session(kiosk, token).await.status == 200 {
                open += 1;
            }
        }
        assert_eq!(open, 1, "card {i}: one open session");
    }

    // Every exchange is audited, and each card's copy on the other kiosk is flagged at both
    // ends.
    let audit = w.audit().await;
    let ok: Vec<_> = audit
        .iter()
        .filter(|a| a.kind == "exchange" && a.result == "ok")
        .collect();
    assert_eq!(ok.len(), 2 * USERS);
    assert_eq!(ok.iter().filter(|a| a.flagged).count(), USERS);
    let ended: Vec<_> = audit
        .iter()
        .filter(|a| a.kind == "session_end" && a.result == "copied_card")
        .collect();
    assert_eq!(ended.len(), USERS);
    assert!(ended.iter().all(|a| a.flagged));
    for i in 0..USERS {
        let user = format!("stu-g{i:02}");
        assert_eq!(
            ended
                .iter()
                .filter(|a| a.user_id.as_deref() == Some(user.as_str()))
                .count(),
            1,
            "{user}: one ended copy"
        );
    }
}

async fn concurrent_scans_are_counted_exactly_by_the_shared_rate_limits(db: TestDb) {
    let w = World::with(db, |c| {
        c.rate_limit.kiosk_max = 25;
        c.rate_limit.card_max = 3;
        c.rate_limit.window_secs = 3600;
    })
    .await;
    big_roster(&w).await;
    let cards: Vec<String> = (0..USERS)
        .map(|i| w.card(&format!("stu-g{i:02}"), Role::Student, "sch-lincoln"))
        .collect();

    // 40 different cards at once on one kiosk allowed 25 a window: exactly 25 pass.
    let replies = join_all(cards.iter().map(|c| w.exchange_with(&w.kiosk, c, None))).await;
    let passed = replies.iter().filter(|r| r.status == 200).count();
    let limited = replies
        .iter()
        .filter(|r| r.code() == "rate_limited")
        .count();
    assert_eq!((passed, limited), (25, 15), "{replies:?}");
    assert!(w.server.state.rate.stats().groups < w.server.state.rate.stats().jobs);

    // One card at once 6 times on a fresh kiosk, 3 allowed: exactly 3 pass.
    let (_, lab2) = w.enrol("LAB-2", "sch-lincoln").await;
    let card = w.card("stu-maya", Role::Student, "sch-lincoln");
    let replies = join_all((0..6).map(|_| w.exchange_with(&lab2, &card, None))).await;
    let codes: Vec<&str> = replies
        .iter()
        .map(|r| if r.status == 200 { "ok" } else { r.code() })
        .collect();
    assert_eq!(codes.iter().filter(|c| **c == "ok").count(), 3, "{codes:?}");
    assert_eq!(
        codes.iter().filter(|c| **c == "rate_limited").count(),
        3,
        "{codes:?}"
    );

    // The first refusal of each bucket in the window is audited, once.
    let audit = w.audit().await;
    let limited: Vec<_> = audit
        .iter()
        .filter(|a| a.result == "rate_limited")
        .collect();
    assert_eq!(limited.len(), 2, "{limited:?}");
    assert!(limited.iter().all(|a| a.flagged));
}

/// Exchanges whose reads differ in every way, in flight at once: each gets the answer its own
/// kiosk and card holder call for, although their reads share queries.
async fn grouped_reads_answer_each_exchange_with_its_own_kiosk_and_holder(db: TestDb) {
    let (w, lab2) = busy_world(db).await;
    let (_, west) = w.enrol("WEST-1", "sch-west").await;
    let (gone_id, gone) = w.enrol("LAB-GONE", "sch-lincoln").await;
    store::disable_kiosk(&w.server.state.db, &gone_id, w.clock.now_i64())
        .await
        .unwrap();
    w.clock.advance(60);
    store::revoke(
        &w.server.state.db,
        "stu-g07",
        w.clock.now_i64(),
        "lost",
        "test",
    )
    .await
    .unwrap();
    w.clock.advance(60);

    // (kiosk credential, card, expected status, expected code or user id)
    let mut cases: Vec<(String, String, u16, String)> = Vec::new();
    for i in 0..USERS {
        let user = format!("stu-g{i:02}");
        let card = w.card(&user, Role::Student, "sch-lincoln");
        let kiosk = if i % 2 == 0 { &w.kiosk } else { &lab2 };
        let expected = if i == 7 {
            (403, "card_revoked".to_string())
        } else {
            (200, user)
        };
        cases.push((kiosk.clone(), card, expected.0, expected.1));
    }
    let lincoln = w.card("stu-maya", Role::Student, "sch-lincoln");
    cases.push((west.clone(), lincoln.clone(), 403, "wrong_school".into()));
    cases.push((gone, lincoln.clone(), 403, "kiosk_disabled".into()));
    cases.push((
        "qck_not-a-kiosk".into(),
        lincoln,
        401,
        "kiosk_unauthorized".into(),
    ));
    cases.push((
        w.kiosk.clone(),
        w.card("stu-nobody", Role::Student, "sch-lincoln"),
        403,
        "unknown_user".into(),
    ));
    cases.push((
        west.clone(),
        w.card("stu-wes", Role::Student, "sch-west"),
        200,
        "stu-wes".into(),
    ));

    // Whether requests in flight together meet in one group depends on the scheduler: on a
    // busy test runner each read may finish before the next arrives. So the same burst is
    // sent up to five times; every reply must be right every time, and at least one burst
    // must have shared queries.
    let mut shared = Vec::new();
    for _ in 0..5 {
        let before = w.server.state.reads.stats();
        let replies = join_all(
            cases
                .iter()
                .map(|(kiosk, card, _, _)| w.exchange_with(kiosk, card, None)),
        )
        .await;
        for ((_, _, status, expected), r) in cases.iter().zip(&replies) {
            assert_eq!(r.status.as_u16(), *status, "{expected}: {r:?}");
            if *status == 200 {
                assert_eq!(r.body["user"]["id"], expected.as_str(), "{r:?}");
            } else {
                assert_eq!(r.code(), expected, "{r:?}");
            }
        }
        let stats = w.server.state.reads.stats();
        let (groups, jobs) = (stats.groups - before.groups, stats.jobs - before.jobs);
        assert_eq!(
            jobs,
            cases.len() as u64,
            "every exchange read through the group"
        );
        shared.push((jobs, groups));
        if groups < jobs {
            return;
        }
    }
    panic!("concurrent reads never shared queries (reads, groups per burst: {shared:?})");
}
