//! The portal's HTTP API end to end: a real server on loopback, a real database (SQLite, and
//! PostgreSQL when `QUICKCARD_TEST_POSTGRES_URL` is set), every success and failure path.

mod common;

use common::{ClockExt, T0, TestDb, World, reply};
use quickcard::{Flags, IssuerKey, Role, TrustedKey};
use quickcard_portal::db::store;
use serde_json::json;

fn hex_sha256(s: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

both_databases!(
    exchange_session_and_sign_out,
    card_refusals_have_their_own_codes,
    kiosk_authentication,
    session_expiry,
    revoked_and_reprinted_card,
    pin_lockout_and_its_expiry,
    rate_limits_per_kiosk_and_per_card,
    copied_card_ends_older_session,
    one_time_launch_urls,
    enrolment_is_one_time_and_kiosk_config,
    reimport_updates_and_removes_users,
    role_and_grade_policy,
    admin_api_needs_its_token,
    health_and_unknown_routes,
    replies_are_never_cached,
    made_up_launch_tokens_do_not_write,
);

async fn exchange_session_and_sign_out(db: TestDb) {
    let w = World::new(db).await;
    let card = w.card("stu-maya", Role::Student, "sch-lincoln");
    let r = w.exchange(&card).await;
    assert_eq!(r.status, 200, "{r:?}");
    let b = &r.body;
    let token = b["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("qcs_"));
    assert_eq!(b["expires_at"], T0 + 3600);
    assert_eq!(b["user"]["id"], "stu-maya");
    assert_eq!(b["user"]["given_name"], "Maya");
    assert_eq!(b["user"]["display_name"], "Maya Lopez");
    assert_eq!(b["user"]["role"], "student");
    assert_eq!(b["user"]["avatar"]["initial"], "M");
    assert!(
        b["user"]["avatar"]["color"]
            .as_str()
            .unwrap()
            .starts_with('#')
    );
    assert_eq!(b["second_factor_used"], false);
    let apps: Vec<&str> = b["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert!(
        apps.contains(&"clever") && apps.contains(&"istation"),
        "{apps:?}"
    );
    assert!(
        !apps.contains(&"skyward"),
        "students do not see Skyward: {apps:?}"
    );
    for a in b["apps"].as_array().unwrap() {
        assert!(a["name"].is_string() && a["icon"].is_string() && a["color"].is_string());
    }

    // UUID subjects are normalised to lower case.
    let zoe = w.card(
        "0F8E2A4C-1B3D-4E5F-8A9B-0C1D2E3F4A5B",
        Role::Student,
        "sch-lincoln",
    );
    let rz = w.exchange(&zoe).await;
    assert_eq!(rz.status, 200, "{rz:?}");
    assert_eq!(
        rz.body["user"]["id"],
        "0f8e2a4c-1b3d-4e5f-8a9b-0c1d2e3f4a5b"
    );

    let s = w.session(&w.kiosk, &token).await;
    assert_eq!(s.status, 200, "{s:?}");
    assert_eq!(s.body, r.body, "GET /v1/session has the exchange's shape");

    // The token is stored only as a hash.
    let stored: Vec<String> = {
        use sqlx::Row;
        sqlx::query("SELECT token_hash FROM sessions")
            .fetch_all(&w.server.state.db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>("token_hash"))
            .collect()
    };
    assert!(
        stored
            .iter()
            .all(|h| !h.contains(&token[4..]) && h.len() == 64)
    );

    let out = w.sign_out(&w.kiosk, &token).await;
    assert_eq!(out.status, 204, "{out:?}");
    let after = w.session(&w.kiosk, &token).await;
    assert_eq!(
        (after.status.as_u16(), after.code()),
        (401, "session_expired")
    );
    let again = w.sign_out(&w.kiosk, &token).await;
    assert_eq!(again.code(), "session_expired");

    let audit = w.audit().await;
    let kinds: Vec<(&str, &str)> = audit
        .iter()
        .map(|a| (a.kind.as_str(), a.result.as_str()))
        .collect();
    assert!(kinds.contains(&("exchange", "ok")));
    assert!(kinds.contains(&("sign_out", "ok")));
    let ex = audit.iter().find(|a| a.kind == "exchange").unwrap();
    assert_eq!(ex.user_id.as_deref(), Some("stu-maya"));
    assert_eq!(ex.kiosk_id.as_deref(), Some(w.kiosk_id.as_str()));
    assert_eq!(ex.at, T0 as i64);
    assert!(ex.card_id.is_some());
}

async fn card_refusals_have_their_own_codes(db: TestDb) {
    // A second trusted key restricted to another school, for key_not_for_school.
    let west_key = IssuerKey::from_seed([9; 32], "West only");
    let wk = west_key.public();
    let w = World::with(db, move |c| {
        let mut k = TrustedKey::new(wk, "West only");
        k.school = Some("sch-west".into());
        c.trust.push(k);
    })
    .await;
    let ok = w.card("stu-maya", Role::Student, "sch-lincoln");

    let cases: Vec<(String, u16, &str)> = vec![
        ("hello".into(), 422, "not_quickcard"),
        ("QC:".into(), 422, "malformed"),
        (
            {
                // Flip one Base45 character in the middle of the signature.
                let mut b = ok.clone().into_bytes();
                let i = b.len() - 10;
                b[i] = if b[i] == b'A' { b'B' } else { b'A' };
                String::from_utf8(b).unwrap()
            },
            403,
            "bad_signature",
        ),
        (
            {
                let other = IssuerKey::from_seed([8; 32], "Unknown");
                let c = quickcard::Claims::new(
                    "stu-maya",
                    Role::Student,
                    "sch-lincoln",
                    T0 - 10,
                    T0 + 1000,
                    Flags::default(),
                )
                .unwrap();
                quickcard::sign(&c, &other)
            },
            403,
            "unknown_key",
        ),
        (
            w.card_issued(
                "stu-maya",
                Role::Student,
                "sch-lincoln",
                T0 - 400 * 86_400,
                Flags::default(),
            ),
            403,
            "expired",
        ),
        (
            w.card_issued(
                "stu-maya",
                Role::Student,
                "sch-lincoln",
                T0 + 86_400,
                Flags::default(),
            ),
            403,
            "not_yet_valid",
        ),
        (
            w.card("stu-wes", Role::Student, "sch-west"),
            403,
            "wrong_school",
        ),
        (
            {
                let c = quickcard::Claims::new(
                    "stu-maya",
                    Role::Student,
                    "sch-lincoln",
                    T0 - 10,
                    T0 + 1000,
                    Flags::default(),
                )
                .unwrap();
                quickcard::sign(&c, &west_key)
            },
            403,
            "key_not_for_school",
        ),
        (
            w.card("stu-nobody", Role::Student, "sch-lincoln"),
            403,
            "unknown_user",
        ),
        (
            // On the roster, but not at Lincoln.
            w.card("stu-wes", Role::Student, "sch-lincoln"),
            403,
            "unknown_user",
        ),
        (
            w.card("par-lopez", Role::Parent, "sch-lincoln"),
            403,
            "role_not_allowed",
        ),
    ];
    for (card, status, code) in &cases {
        let r = w.exchange(card).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (*status, *code),
            "card {card:?}: {r:?}"
        );
        assert!(r.body["error"]["message"].as_str().unwrap().len() > 5);
    }

    // Malformed requests.
    let r = reply(
        w.http
            .post(w.url("/v1/exchange"))
            .bearer_auth(&w.kiosk)
            .body("{not json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "bad_request"));
    let r = reply(
        w.http
            .post(w.url("/v1/exchange"))
            .bearer_auth(&w.kiosk)
            .json(&json!({"pin": "1"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.code(), "bad_request");
    let r = reply(
        w.http
            .post(w.url("/v1/exchange"))
            .bearer_auth(&w.kiosk)
            .body(vec![b'x'; 100_000])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((r.status.as_u16(), r.code()), (413, "bad_request"), "{r:?}");

    // Every refusal is audited; the forged card is flagged.
    let audit = w.audit().await;
    let refused: Vec<&str> = audit
        .iter()
        .filter(|a| a.kind == "exchange")
        .map(|a| a.result.as_str())
        .collect();
    for (_, _, code) in &cases {
        assert!(refused.contains(code), "{code} not audited: {refused:?}");
    }
    assert!(
        audit
            .iter()
            .any(|a| a.result == "bad_signature" && a.flagged)
    );
    assert!(
        !audit
            .iter()
            .any(|a| a.kind == "exchange" && a.result == "ok")
    );
    // The demo key is not trusted outside demo mode.
    let demo_card = {
        let c = quickcard::Claims::new(
            "stu-maya",
            Role::Student,
            "sch-lincoln",
            T0 - 10,
            T0 + 1000,
            Flags::default(),
        )
        .unwrap();
        quickcard::sign(&c, &IssuerKey::demo())
    };
    assert_eq!(w.exchange(&demo_card).await.code(), "unknown_key");
}

async fn kiosk_authentication(db: TestDb) {
    let w = World::new(db).await;
    let card = w.card("stu-maya", Role::Student, "sch-lincoln");
    let r = reply(
        w.http
            .post(w.url("/v1/exchange"))
            .json(&json!({"card": card}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "kiosk_unauthorized"));
    let r = w.exchange_with("qck_wrong", &card, None).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "kiosk_unauthorized"));

    // A session is bound to its kiosk.
    let ok = w.exchange(&card).await;
    let token = ok.body["token"].as_str().unwrap();
    let (_, other) = w.enrol("LAB-2", "sch-lincoln").await;
    assert_eq!(w.session(&other, token).await.code(), "session_expired");
    assert_eq!(w.session(&w.kiosk, token).await.status, 200);

    // Disabling a kiosk ends its sessions and refuses it.
    let ended = store::disable_kiosk(&w.server.state.db, &w.kiosk_id, T0 as i64)
        .await
        .unwrap();
    assert_eq!(ended, 1);
    let r = w.exchange(&card).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "kiosk_disabled"));
    assert_eq!(w.session(&w.kiosk, token).await.code(), "kiosk_disabled");

    // Last-seen is recorded.
    let kiosks = store::list_kiosks(&w.server.state.db).await.unwrap();
    let k2 = kiosks.iter().find(|k| k.name == "LAB-2").unwrap();
    assert_eq!(k2.last_seen_at, Some(T0 as i64));
    assert!(k2.credential_hash.as_deref().is_some_and(|h| h.len() == 64));
}

async fn session_expiry(db: TestDb) {
    let w = World::with(db, |c| c.session.lifetime_secs = 600).await;
    let r = w
        .exchange(&w.card("stu-maya", Role::Student, "sch-lincoln"))
        .await;
    let token = r.body["token"].as_str().unwrap();
    assert_eq!(r.body["expires_at"], T0 + 600);
    w.clock.advance(599);
    assert_eq!(w.session(&w.kiosk, token).await.status, 200);
    w.clock.advance(1);
    let r = w.session(&w.kiosk, token).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "session_expired"));
    let r = w.sign_out(&w.kiosk, token).await;
    assert_eq!(r.code(), "session_expired");
}

async fn revoked_and_reprinted_card(db: TestDb) {
    let w = World::with(db, |c| c.rate_limit.card_max = 3).await;
    let old = w.card("stu-maya", Role::Student, "sch-lincoln");
    let live = w.exchange(&old).await;
    let live_token = live.body["token"].as_str().unwrap();

    w.clock.advance(60);
    let ended = store::revoke(
        &w.server.state.db,
        "stu-maya",
        w.clock.now_i64(),
        "lost",
        "test",
    )
    .await
    .unwrap();
    assert_eq!(ended, Some(1), "revocation ends the live session");
    assert_eq!(
        w.session(&w.kiosk, live_token).await.code(),
        "session_expired"
    );

    // The lost card is refused and flagged, as often as it is scanned, and never locks the
    // user out: it only spends its own rate limit.
    for _ in 0..3 {
        let r = w.exchange(&old).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (403, "card_revoked"),
            "{r:?}"
        );
    }
    assert_eq!(w.exchange(&old).await.code(), "rate_limited");

    w.clock.advance(1);
    let reprint = w.card_issued(
        "stu-maya",
        Role::Student,
        "sch-lincoln",
        w.clock.now_i64() as u64,
        Flags::default(),
    );
    let r = w.exchange(&reprint).await;
    assert_eq!(r.status, 200, "the reprinted card works: {r:?}");

    let audit = w.audit().await;
    let revoked: Vec<_> = audit
        .iter()
        .filter(|a| a.result == "card_revoked")
        .collect();
    assert_eq!(revoked.len(), 3);
    assert!(revoked.iter().all(|a| a.flagged));
    assert!(audit.iter().any(|a| a.kind == "revocation"));
    // Unknown users cannot be revoked.
    assert_eq!(
        store::revoke(&w.server.state.db, "nobody", T0 as i64, "x", "test")
            .await
            .unwrap(),
        None
    );
}

async fn pin_lockout_and_its_expiry(db: TestDb) {
    let w = World::new(db).await;
    let staff = w.card_issued(
        "tch-ito",
        Role::Teacher,
        "sch-lincoln",
        T0 - 86_400,
        Flags {
            second_factor: true,
        },
    );
    // No PIN set yet.
    assert_eq!(
        w.exchange_with(&w.kiosk, &staff, Some("1234")).await.code(),
        "pin_not_set"
    );
    w.set_pin("tch-ito", "2468").await;
    let r = w.exchange(&staff).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "pin_required"));

    for left in (1..=4).rev() {
        let r = w.exchange_with(&w.kiosk, &staff, Some("0000")).await;
        assert_eq!((r.status.as_u16(), r.code()), (401, "wrong_pin"), "{r:?}");
        assert_eq!(r.body["error"]["attempts_left"], left);
    }
    let r = w.exchange_with(&w.kiosk, &staff, Some("0000")).await;
    assert_eq!((r.status.as_u16(), r.code()), (423, "locked_out"), "{r:?}");
    assert_eq!(r.body["error"]["retry_after_secs"], 900);
    assert_eq!(r.headers["retry-after"], "900");

    // The right PIN does not help while locked, on any kiosk.
    let (_, lab2) = w.enrol("LAB-2", "sch-lincoln").await;
    w.clock.advance(600);
    let r = w.exchange_with(&lab2, &staff, Some("2468")).await;
    assert_eq!(r.code(), "locked_out");
    assert_eq!(r.body["error"]["retry_after_secs"], 300);

    // The lockout survives a restart of the portal.
    let cfg = w.server.state.config.clone();
    let restarted = common::Server::start(cfg, &w.clock).await;
    let r = reply(
        w.http
            .post(format!("{}/v1/exchange", restarted.url))
            .bearer_auth(&w.kiosk)
            .json(&json!({"card": staff, "pin": "2468"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.code(), "locked_out");

    // ...and ends after 15 minutes.
    w.clock.advance(300);
    let r = w.exchange_with(&w.kiosk, &staff, Some("2468")).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["second_factor_used"], true);
    assert_eq!(r.body["user"]["role"], "teacher");
    let apps: Vec<&str> = r.body["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert!(apps.contains(&"skyward"), "{apps:?}");

    // After the lockout, the count starts again.
    let r = w.exchange_with(&w.kiosk, &staff, Some("1111")).await;
    assert_eq!(r.body["error"]["attempts_left"], 4);

    let audit = w.audit().await;
    assert!(
        audit.iter().any(|a| a.result == "locked_out"
            && a.flagged
            && a.user_id.as_deref() == Some("tch-ito"))
    );
    restarted.stop().await;
}

async fn rate_limits_per_kiosk_and_per_card(db: TestDb) {
    let w = World::with(db, |c| {
        c.rate_limit.kiosk_max = 5;
        c.rate_limit.card_max = 2;
        c.rate_limit.window_secs = 60;
    })
    .await;
    let maya = w.card("stu-maya", Role::Student, "sch-lincoln");
    let omar = w.card("stu-omar", Role::Student, "sch-lincoln");
    assert_eq!(w.exchange(&maya).await.status, 200);
    assert_eq!(w.exchange(&maya).await.status, 200);
    let r = w.exchange(&maya).await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (429, "rate_limited"),
        "{r:?}"
    );
    assert!(r.body["error"]["retry_after_secs"].as_u64().unwrap() <= 60);
    assert!(r.headers.contains_key("retry-after"));
    // Another card still works on this kiosk until the kiosk's budget is spent.
    assert_eq!(w.exchange(&omar).await.status, 200);
    assert_eq!(w.exchange(&omar).await.status, 200);
    let r = w.exchange(&omar).await;
    assert_eq!(r.code(), "rate_limited");
    // A flood of garbage is limited too.
    assert_eq!(w.exchange("garbage").await.code(), "rate_limited");
    // Another kiosk is not affected by this kiosk's flood.
    let (_, lab2) = w.enrol("LAB-2", "sch-lincoln").await;
    let ben = w.card("stu-ben", Role::Student, "sch-lincoln");
    assert_eq!(w.exchange_with(&lab2, &ben, None).await.status, 200);
    // The next window starts afresh.
    w.clock.advance(60);
    assert_eq!(w.exchange(&maya).await.status, 200);
    // Floods are audited once per window, not once per scan.
    let flagged = w
        .audit()
        .await
        .into_iter()
        .filter(|a| a.result == "rate_limited")
        .count();
    assert_eq!(flagged, 2, "one row for the card, one for the kiosk");
}

async fn copied_card_ends_older_session(db: TestDb) {
    let w = World::new(db).await;
    let (lab2_id, lab2) = w.enrol("LAB-2", "sch-lincoln").await;
    let card = w.card("stu-omar", Role::Student, "sch-lincoln");
    let first = w.exchange(&card).await;
    let t1 = first.body["token"].as_str().unwrap();
    // A re-scan on the same kiosk replaces the session quietly.
    let again = w.exchange(&card).await;
    let t2 = again.body["token"].as_str().unwrap();
    assert_eq!(w.session(&w.kiosk, t1).await.code(), "session_expired");
    assert!(!w.audit().await.iter().any(|a| a.flagged));

    // The same card on another kiosk while the session is live: the older one ends, both are
    // flagged.
    let copy = w.exchange_with(&lab2, &card, None).await;
    assert_eq!(copy.status, 200);
    let t3 = copy.body["token"].as_str().unwrap();
    assert_eq!(w.session(&w.kiosk, t2).await.code(), "session_expired");
    assert_eq!(w.session(&lab2, t3).await.status, 200);
    let audit = w.audit().await;
    let flagged: Vec<_> = audit.iter().filter(|a| a.flagged).collect();
    assert_eq!(flagged.len(), 2, "{flagged:?}");
    assert!(flagged.iter().any(|a| a.kind == "session_end"
        && a.result == "copied_card"
        && a.kiosk_id.as_deref() == Some(w.kiosk_id.as_str())));
    assert!(flagged.iter().any(|a| a.kind == "exchange"
        && a.result == "ok"
        && a.kiosk_id.as_deref() == Some(lab2_id.as_str())));
    // A card whose earlier session was signed out is not a copy.
    assert_eq!(w.sign_out(&lab2, t3).await.status, 204);
    assert_eq!(w.exchange(&card).await.status, 200);
    assert_eq!(w.audit().await.iter().filter(|a| a.flagged).count(), 2);
}

async fn one_time_launch_urls(db: TestDb) {
    let w = World::new(db).await;
    let r = w
        .exchange(&w.card("stu-maya", Role::Student, "sch-lincoln"))
        .await;
    let token = r.body["token"].as_str().unwrap().to_string();
    let launch = |app: &'static str| {
        let w = &w;
        let token = token.clone();
        async move {
            reply(
                w.http
                    .post(w.url(&format!("/v1/session/apps/{app}/launch")))
                    .bearer_auth(&w.kiosk)
                    .header("QuickCard-Session", token)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let l = launch("clever").await;
    assert_eq!(l.status, 200, "{l:?}");
    assert_eq!(l.body["expires_at"], T0 + 60);
    let url = l.body["url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&w.server.url), "{url}");
    let open = w.http.get(&url).send().await.unwrap();
    assert_eq!(open.status(), 303);
    assert_eq!(open.headers()["location"], "https://clever.com/in/");
    let twice = reply(w.http.get(&url).send().await.unwrap()).await;
    assert_eq!(
        (twice.status.as_u16(), twice.code()),
        (410, "launch_invalid")
    );

    // Expired launch links and links of ended sessions do not open.
    let l2 = launch("nearpod").await;
    w.clock.advance(61);
    let late = reply(
        w.http
            .get(l2.body["url"].as_str().unwrap())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(late.code(), "launch_invalid");
    let l3 = launch("nearpod").await;
    assert_eq!(w.sign_out(&w.kiosk, &token).await.status, 204);
    let ended = reply(
        w.http
            .get(l3.body["url"].as_str().unwrap())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ended.code(), "launch_invalid");

    // Apps the user does not see, or that do not exist.
    let r = w
        .exchange(&w.card("stu-omar", Role::Student, "sch-lincoln"))
        .await;
    let t = r.body["token"].as_str().unwrap().to_string();
    for app in ["skyward", "nope"] {
        let l = reply(
            w.http
                .post(w.url(&format!("/v1/session/apps/{app}/launch")))
                .bearer_auth(&w.kiosk)
                .header("QuickCard-Session", &t)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!((l.status.as_u16(), l.code()), (404, "unknown_app"));
    }
    let audit = w.audit().await;
    assert_eq!(audit.iter().filter(|a| a.kind == "launch").count(), 3);
    assert!(
        audit
            .iter()
            .any(|a| a.kind == "launch_open" && a.result == "ok")
    );
}

async fn enrolment_is_one_time_and_kiosk_config(db: TestDb) {
    let w = World::new(db).await;
    let (_, code) = store::add_kiosk(&w.server.state.db, "LAB-9", "sch-lincoln", T0 as i64, 600)
        .await
        .unwrap();
    // Typed sloppily: lower case, spaces instead of dashes.
    let typed = code.expose().to_lowercase().replace('-', " ");
    let enrol = |c: String| {
        let w = &w;
        async move {
            reply(
                w.http
                    .post(w.url("/v1/kiosks/enroll"))
                    .json(&json!({"code": c, "name": "LAB-9"}))
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let r = enrol(typed.clone()).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["school_id"], "sch-lincoln");
    assert_eq!(r.body["name"], "LAB-9");
    assert_eq!(
        r.body["trust"][0]["public"],
        common::issuer().public().to_string()
    );
    let cred = r.body["credential"].as_str().unwrap().to_string();
    let again = enrol(typed).await;
    assert_eq!(
        (again.status.as_u16(), again.code()),
        (401, "enrolment_code_invalid")
    );
    // Expired codes do not work.
    let (_, code2) = store::add_kiosk(&w.server.state.db, "LAB-10", "sch-lincoln", T0 as i64, 600)
        .await
        .unwrap();
    w.clock.advance(601);
    assert_eq!(
        enrol(code2.expose().to_string()).await.code(),
        "enrolment_code_invalid"
    );

    store::revoke(&w.server.state.db, "stu-ben", T0 as i64, "lost", "test")
        .await
        .unwrap();
    let cfg = reply(
        w.http
            .get(w.url("/v1/kiosk/config"))
            .bearer_auth(&cred)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(cfg.status, 200, "{cfg:?}");
    assert_eq!(cfg.body["school_id"], "sch-lincoln");
    assert_eq!(cfg.body["idle_timeout_secs"], 120);
    assert_eq!(cfg.body["demo"], false);
    // Revoked users are sent as salted hashes, never as ids.
    let revoked = cfg.body["revoked"].as_array().unwrap();
    assert_eq!(revoked.len(), 1, "{cfg:?}");
    let salt = revoked[0]["salt"].as_str().unwrap();
    assert_eq!(revoked[0]["issued_before"], T0);
    assert_eq!(
        revoked[0]["user_hash"],
        hex_sha256(&format!("{salt}stu-ben"))
    );
    assert!(!cfg.body.to_string().contains("stu-ben"), "{cfg:?}");
    let audit = w.audit().await;
    assert!(
        audit
            .iter()
            .any(|a| a.kind == "kiosk_enrol" && a.result == "enrolment_code_invalid" && a.flagged)
    );
    assert!(audit.iter().any(|a| a.kind == "kiosk_add"));
}

async fn reimport_updates_and_removes_users(db: TestDb) {
    let w = World::new(db).await;
    let omar = w.card("stu-omar", Role::Student, "sch-lincoln");
    let r = w.exchange(&omar).await;
    let token = r.body["token"].as_str().unwrap().to_string();
    let roster = common::ROSTER
        .lines()
        .filter(|l| !l.starts_with("stu-omar"))
        .map(|l| l.replace("stu-maya,Maya,", "stu-maya,Mia,"))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(w.roster_path(), roster).unwrap();
    let report = quickcard_portal::domain::roster_import::import(
        &w.server.state.db,
        &w.roster_path(),
        T0 as i64,
    )
    .await
    .unwrap();
    assert_eq!(report.users_removed, 1);
    assert_eq!(report.sessions_ended, 1);
    assert_eq!(report.users_added, 0);
    assert_eq!(w.session(&w.kiosk, &token).await.code(), "session_expired");
    assert_eq!(w.exchange(&omar).await.code(), "unknown_user");
    let maya = w
        .exchange(&w.card("stu-maya", Role::Student, "sch-lincoln"))
        .await;
    assert_eq!(maya.body["user"]["given_name"], "Mia");

    // A broken roster changes nothing.
    std::fs::write(w.roster_path(), "sourced_id,given_name\nx,y\n").unwrap();
    assert!(
        quickcard_portal::domain::roster_import::import(
            &w.server.state.db,
            &w.roster_path(),
            T0 as i64
        )
        .await
        .is_err()
    );
    assert_eq!(
        w.exchange(&w.card("stu-ben", Role::Student, "sch-lincoln"))
            .await
            .status,
        200
    );
}

async fn role_and_grade_policy(db: TestDb) {
    let w = World::with(db, |c| {
        c.policy.grades = Some(vec!["KG".into(), "01".into(), "02".into()]);
        c.policy.schools.insert(
            "sch-lincoln".into(),
            quickcard_portal::config::SchoolPolicy {
                roles: Some(vec![Role::Student, Role::Parent]),
                ..Default::default()
            },
        );
    })
    .await;
    let r = w
        .exchange(&w.card("stu-maya", Role::Student, "sch-lincoln"))
        .await;
    assert_eq!(r.status, 200);
    let r = w
        .exchange(&w.card("stu-ben", Role::Student, "sch-lincoln"))
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "role_not_allowed"));
    assert_eq!(r.body["error"]["grade"], "05");
    let r = w
        .exchange(&w.card_issued(
            "tch-ito",
            Role::Teacher,
            "sch-lincoln",
            T0 - 10,
            Flags::default(),
        ))
        .await;
    assert_eq!(r.code(), "role_not_allowed");
    assert_eq!(r.body["error"]["role"], "teacher");
    // Parents are allowed at Lincoln, with the PIN every adult needs by default.
    w.set_pin("par-lopez", "135790").await;
    let card = w.card("par-lopez", Role::Parent, "sch-lincoln");
    let r = w.exchange_with(&w.kiosk, &card, Some("135790")).await;
    assert_eq!(r.status, 200, "parents allowed at Lincoln: {r:?}");
}

async fn admin_api_needs_its_token(db: TestDb) {
    let token = quickcard_portal::domain::secrets::Secret::token("qca_");
    let hash = token.hash();
    let w = World::with(db, move |c| c.admin.token_sha256 = Some(hash)).await;
    let card = w.card("stu-maya", Role::Student, "sch-lincoln");
    let live = w.exchange(&card).await;
    let revoke = |auth: Option<String>| {
        let w = &w;
        async move {
            let mut req = w
                .http
                .post(w.url("/v1/admin/users/stu-maya/revoke"))
                .json(&json!({"reason": "lost on the bus"}));
            if let Some(a) = auth {
                req = req.bearer_auth(a);
            }
            reply(req.send().await.unwrap()).await
        }
    };
    assert_eq!(revoke(None).await.code(), "admin_unauthorized");
    assert_eq!(
        revoke(Some("qca_wrong".into())).await.code(),
        "admin_unauthorized"
    );
    let r = revoke(Some(token.expose().to_string())).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["sessions_ended"], 1);
    assert_eq!(r.body["issued_before"], T0);
    assert_eq!(w.exchange(&card).await.code(), "card_revoked");
    assert_eq!(
        w.session(&w.kiosk, live.body["token"].as_str().unwrap())
            .await
            .code(),
        "session_expired"
    );
    let r = reply(
        w.http
            .post(w.url("/v1/admin/users/nobody/revoke"))
            .bearer_auth(token.expose())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((r.status.as_u16(), r.code()), (404, "unknown_user"));
    let a = reply(
        w.http
            .get(w.url("/v1/admin/audit?user=stu-maya"))
            .bearer_auth(token.expose())
            .send()
            .await
            .unwrap(),
    )
    .await;
    let kinds: Vec<&str> = a.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["exchange", "revocation", "exchange"]);
    let bad = reply(
        w.http
            .get(w.url("/v1/admin/audit?since=yesterday"))
            .bearer_auth(token.expose())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((bad.status.as_u16(), bad.code()), (400, "bad_request"));
    // Kiosks through the admin API.
    let k = reply(
        w.http
            .post(w.url("/v1/admin/kiosks"))
            .bearer_auth(token.expose())
            .json(&json!({"name": "LAB-7", "school_id": "sch-lincoln"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(k.status, 201, "{k:?}");
    assert!(k.body["enrolment_code"].as_str().unwrap().len() == 17);
    let d = reply(
        w.http
            .post(w.url(&format!("/v1/admin/kiosks/{}/disable", w.kiosk_id)))
            .bearer_auth(token.expose())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(d.status, 200, "{d:?}");
    assert_eq!(w.exchange(&card).await.code(), "kiosk_disabled");
}

async fn health_and_unknown_routes(db: TestDb) {
    let w = World::new(db).await;
    let h = reply(w.http.get(w.url("/healthz")).send().await.unwrap()).await;
    assert_eq!(h.status, 200);
    assert_eq!(h.body, json!({"status": "ok"}));
    let n = reply(w.http.get(w.url("/v2/nothing")).send().await.unwrap()).await;
    assert_eq!((n.status.as_u16(), n.code()), (404, "not_found"));
    // The admin API is off without a configured token.
    let a = reply(w.http.get(w.url("/v1/admin/audit")).send().await.unwrap()).await;
    assert_eq!((a.status.as_u16(), a.code()), (403, "admin_api_disabled"));
}

#[tokio::test]
async fn demo_key_is_refused_without_demo_mode() {
    let db = common::sqlite_db();
    let mut cfg = common::config(&db);
    cfg.trust
        .push(TrustedKey::new(IssuerKey::demo().public(), "demo"));
    let err = quickcard_portal::AppState::connect(
        cfg.clone(),
        std::sync::Arc::new(quickcard_portal::SystemClock),
        false,
    )
    .await
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("demo key") && msg.contains("--demo"), "{msg}");
    assert!(
        quickcard_portal::AppState::connect(
            cfg,
            std::sync::Arc::new(quickcard_portal::SystemClock),
            true
        )
        .await
        .is_ok()
    );
}

/// Every reply of the API carries `Cache-Control: no-store`: the ones with a credential, a
/// session token, a launch link or pupils' names, and the errors too.
async fn replies_are_never_cached(db: TestDb) {
    let admin = quickcard_portal::domain::secrets::Secret::token("qca_");
    let hash = admin.hash();
    let w = World::with(db, move |c| c.admin.token_sha256 = Some(hash)).await;
    let admin = admin.expose().to_string();
    let (_, code) = store::add_kiosk(&w.server.state.db, "LAB-7", "sch-lincoln", T0 as i64, 600)
        .await
        .unwrap();
    let maya = w.card("stu-maya", Role::Student, "sch-lincoln");
    // Another pupil's card for the exchange case (a second exchange of Maya's card would end
    // her session, which the session cases use).
    let omar = w.card("stu-omar", Role::Student, "sch-lincoln");
    let session = w.exchange(&maya).await.body["token"]
        .as_str()
        .unwrap()
        .to_string();
    let launch = reply(
        w.http
            .post(w.url("/v1/session/apps/clever/launch"))
            .bearer_auth(&w.kiosk)
            .header("QuickCard-Session", &session)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let launch_url = launch.body["url"].as_str().unwrap().to_string();
    assert!(launch.headers["cache-control"] == "no-store", "{launch:?}");

    let h = &w.http;
    let kiosk = w.kiosk.as_str();
    let cases: Vec<(&str, u16, reqwest::RequestBuilder)> = vec![
        (
            "enrolment (credential)",
            200,
            h.post(w.url("/v1/kiosks/enroll"))
                .json(&json!({"code": code.expose()})),
        ),
        (
            "enrolment refused",
            401,
            h.post(w.url("/v1/kiosks/enroll"))
                .json(&json!({"code": "NOPE"})),
        ),
        (
            "kiosk config",
            200,
            h.get(w.url("/v1/kiosk/config")).bearer_auth(kiosk),
        ),
        (
            "exchange (session token)",
            200,
            h.post(w.url("/v1/exchange"))
                .bearer_auth(kiosk)
                .json(&json!({"card": omar})),
        ),
        (
            "exchange refused",
            401,
            h.post(w.url("/v1/exchange"))
                .bearer_auth("qck_wrong")
                .json(&json!({"card": maya})),
        ),
        (
            "session",
            200,
            h.get(w.url("/v1/session"))
                .bearer_auth(kiosk)
                .header("QuickCard-Session", &session),
        ),
        (
            "launch link",
            200,
            h.post(w.url("/v1/session/apps/nearpod/launch"))
                .bearer_auth(kiosk)
                .header("QuickCard-Session", &session),
        ),
        ("launch redirect", 303, h.get(&launch_url)),
        ("launch used", 410, h.get(&launch_url)),
        (
            "admin audit",
            200,
            h.get(w.url("/v1/admin/audit")).bearer_auth(&admin),
        ),
        (
            "admin add kiosk (enrolment code)",
            201,
            h.post(w.url("/v1/admin/kiosks"))
                .bearer_auth(&admin)
                .json(&json!({"name": "LAB-8", "school_id": "sch-lincoln"})),
        ),
        (
            "admin unlock",
            200,
            h.post(w.url("/v1/admin/users/stu-omar/unlock"))
                .bearer_auth(&admin),
        ),
        (
            "admin revoke",
            200,
            h.post(w.url("/v1/admin/users/stu-omar/revoke"))
                .bearer_auth(&admin),
        ),
        ("admin refused", 401, h.get(w.url("/v1/admin/audit"))),
        (
            "sign-out",
            204,
            h.delete(w.url("/v1/session"))
                .bearer_auth(kiosk)
                .header("QuickCard-Session", &session),
        ),
        ("health", 200, h.get(w.url("/healthz"))),
        ("unknown route", 404, h.get(w.url("/v2/nothing"))),
    ];
    for (what, status, req) in cases {
        let r = reply(req.send().await.unwrap()).await;
        assert_eq!(r.status.as_u16(), status, "{what}: {r:?}");
        let cache: Vec<_> = r.headers.get_all("cache-control").iter().collect();
        assert_eq!(cache, ["no-store"], "{what}: {r:?}");
    }
}

/// `GET /v1/launch/{token}` is open to anyone: a made-up token costs no write transaction and
/// no audit row, and past `rate_limit.client_max` per window one address is refused outright;
/// a real launch link still opens.
async fn made_up_launch_tokens_do_not_write(db: TestDb) {
    let w = World::with(db, |c| c.rate_limit.client_max = 100).await;
    // T0 starts a rate-limit window; the world's enrolment was this address's first request.
    assert_eq!(T0 % 60, 0);
    let writes = w.server.state.db.write_transactions();
    let audit = w.audit().await.len();
    let mut seen = Vec::new();
    for _ in 0..200 {
        let token = quickcard_portal::domain::secrets::Secret::token("qcl_");
        let r = reply(
            w.http
                .get(w.url(&format!("/v1/launch/{}", token.expose())))
                .send()
                .await
                .unwrap(),
        )
        .await;
        seen.push((r.status.as_u16(), r.code().to_string()));
    }
    let gone = (410, "launch_invalid".to_string());
    let limited = (429, "rate_limited".to_string());
    assert!(seen[..99].iter().all(|s| *s == gone), "{seen:?}");
    assert!(seen[99..].iter().all(|s| *s == limited), "{seen:?}");
    assert_eq!(w.server.state.db.write_transactions(), writes);
    assert_eq!(w.audit().await.len(), audit);

    // The next window: a real link opens (and is used up) as before.
    w.clock.advance(60);
    let r = w
        .exchange(&w.card("stu-maya", Role::Student, "sch-lincoln"))
        .await;
    let l = reply(
        w.http
            .post(w.url("/v1/session/apps/clever/launch"))
            .bearer_auth(&w.kiosk)
            .header("QuickCard-Session", r.body["token"].as_str().unwrap())
            .send()
            .await
            .unwrap(),
    )
    .await;
    let url = l.body["url"].as_str().unwrap();
    let open = w.http.get(url).send().await.unwrap();
    assert_eq!(open.status(), 303);
    assert_eq!(open.headers()["location"], "https://clever.com/in/");
    let twice = reply(w.http.get(url).send().await.unwrap()).await;
    assert_eq!(twice.code(), "launch_invalid");
    assert!(
        w.audit()
            .await
            .iter()
            .any(|a| a.kind == "launch_open" && a.result == "ok")
    );
}
