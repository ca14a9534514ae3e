//! Several portal replicas on one database behave as one portal: sessions, sign-outs,
//! revocations, lockouts, rate limits and copied-card detection are all shared. Runs on
//! PostgreSQL (the deployment this is for) and on one SQLite file shared by two servers.

mod common;

use common::{ClockExt, Server, TestDb, World, reply};
use quickcard::{Flags, Role};
use serde_json::json;

both_databases!(replicas_share_all_state, replicas_race_for_one_card);

async fn replicas_share_all_state(db: TestDb) {
    let w = World::with(db, |c| {
        c.rate_limit.card_max = 6;
        c.admin.token_sha256 = Some(quickcard_portal::domain::secrets::hash_token("qca_test"));
    })
    .await;
    // Replica B: same config, same database, its own process state.
    let b = Server::start(w.server.state.config.clone(), &w.clock).await;
    let on_b = |path: &str| format!("{}{path}", b.url);

    // A kiosk enrolled through A exchanges through B; the session is visible on A.
    let card = w.card("stu-maya", Role::Student, "sch-lincoln");
    let r = reply(
        w.http
            .post(on_b("/v1/exchange"))
            .bearer_auth(&w.kiosk)
            .json(&json!({"card": card}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    let token = r.body["token"].as_str().unwrap().to_string();
    assert_eq!(w.session(&w.kiosk, &token).await.status, 200);

    // Sign-out on A ends it on B at once.
    assert_eq!(w.sign_out(&w.kiosk, &token).await.status, 204);
    let gone = reply(
        w.http
            .get(on_b("/v1/session"))
            .bearer_auth(&w.kiosk)
            .header("QuickCard-Session", &token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(gone.code(), "session_expired");

    // A revocation through B's admin API is enforced by A.
    let rv = reply(
        w.http
            .post(on_b("/v1/admin/users/stu-maya/revoke"))
            .bearer_auth("qca_test")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(rv.status, 200, "{rv:?}");
    assert_eq!(w.exchange(&card).await.code(), "card_revoked");

    // Wrong PINs on both replicas add up to one lockout, seen by both.
    w.set_pin("tch-ito", "2468").await;
    let staff = w.card_issued(
        "tch-ito",
        Role::Teacher,
        "sch-lincoln",
        w.clock.now_i64() as u64 - 10,
        Flags {
            second_factor: true,
        },
    );
    let wrong_on_b = || async {
        reply(
            w.http
                .post(on_b("/v1/exchange"))
                .bearer_auth(&w.kiosk)
                .json(&json!({"card": staff, "pin": "0000"}))
                .send()
                .await
                .unwrap(),
        )
        .await
    };
    for _ in 0..2 {
        assert_eq!(
            w.exchange_with(&w.kiosk, &staff, Some("0000")).await.code(),
            "wrong_pin"
        );
        assert_eq!(wrong_on_b().await.code(), "wrong_pin");
    }
    assert_eq!(wrong_on_b().await.code(), "locked_out");
    assert_eq!(
        w.exchange_with(&w.kiosk, &staff, Some("2468")).await.code(),
        "locked_out"
    );

    // One card's rate limit is shared too (6 per window; 2 used above on the revoked card
    // count for that card only).
    let omar = w.card("stu-omar", Role::Student, "sch-lincoln");
    let mut codes = Vec::new();
    for i in 0..7 {
        let r = if i % 2 == 0 {
            w.exchange(&omar).await
        } else {
            reply(
                w.http
                    .post(on_b("/v1/exchange"))
                    .bearer_auth(&w.kiosk)
                    .json(&json!({"card": omar}))
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        };
        codes.push(if r.status == 200 {
            "ok".to_string()
        } else {
            r.code().to_string()
        });
    }
    assert_eq!(codes[..6], ["ok"; 6]);
    assert_eq!(codes[6], "rate_limited");
    b.stop().await;
}

async fn replicas_race_for_one_card(db: TestDb) {
    let w = World::new(db).await;
    let b = Server::start(w.server.state.config.clone(), &w.clock).await;
    let (_, lab2) = w.enrol("LAB-2", "sch-lincoln").await;
    let card = w.card("stu-ben", Role::Student, "sch-lincoln");
    // The same card on two kiosks through two replicas at the same moment, several times.
    for _ in 0..5 {
        let a = w.exchange_with(&w.kiosk, &card, None);
        let bb = async {
            reply(
                w.http
                    .post(format!("{}/v1/exchange", b.url))
                    .bearer_auth(&lab2)
                    .json(&json!({"card": card}))
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        };
        let (ra, rb) = tokio::join!(a, bb);
        assert_eq!(
            (ra.status.as_u16(), rb.status.as_u16()),
            (200, 200),
            "{ra:?} {rb:?}"
        );
        // Exactly one of the two sessions is still live.
        let la = w
            .session(&w.kiosk, ra.body["token"].as_str().unwrap())
            .await
            .status
            == 200;
        let lb = w
            .session(&lab2, rb.body["token"].as_str().unwrap())
            .await
            .status
            == 200;
        assert!(la ^ lb, "exactly one live session: {la} {lb}");
    }
    let flagged = w.audit().await.iter().filter(|a| a.flagged).count();
    assert!(flagged >= 10, "both sides of each copy flagged: {flagged}");
    b.stop().await;
}
