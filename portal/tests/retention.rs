//! Retention: the running portal deletes exactly the rows older than their period, in
//! batches, and keeps everything else (SQLite, and PostgreSQL when configured).

mod common;

use std::collections::BTreeSet;

use common::*;
use quickcard::Role;
use quickcard_portal::domain::retention::{self, RetentionConfig};
use quickcard_portal::{Db, domain::pin_attempts::LOCKED_UNTIL_UNLOCKED};
use sqlx::Row;

const DAY: i64 = 86_400;

both_databases!(old_rows_go_and_the_rest_stays);

async fn exec(db: &Db, sql: String) {
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&db.pool)
        .await
        .unwrap();
}

async fn keys(db: &Db, sql: &'static str) -> BTreeSet<String> {
    sqlx::query(sql)
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String, _>(0).unwrap())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Fills every table retention looks after with rows just past and just within their period
/// as of `now`, with the default periods (audit 425 days, the rest 30).
async fn fill(db: &Db, now: i64) {
    let old30 = now - 30 * DAY - 1;
    let young30 = now - 30 * DAY + 1;
    // Seven old audit rows: more than two batches of three.
    for i in 0..7 {
        exec(
            db,
            format!(
                "INSERT INTO audit (at, kind, result, user_id, detail) VALUES \
                 ({}, 'exchange', 'ok', 'stu-maya', 'old-{i}')",
                now - 425 * DAY - 1 - i
            ),
        )
        .await;
    }
    exec(
        db,
        format!(
            "INSERT INTO audit (at, kind, result, user_id, detail) VALUES \
             ({}, 'exchange', 'ok', 'stu-maya', 'young')",
            now - 425 * DAY + 1
        ),
    )
    .await;
    let session = |hash: &str, card: &str, expires: i64, ended: String| {
        format!(
            "INSERT INTO sessions (token_hash, user_id, kiosk_id, card_id, second_factor, \
             created_at, expires_at, ended_at) VALUES ('{hash}', 'stu-maya', 'k', '{card}', 0, \
             {}, {expires}, {ended})",
            expires - 3600
        )
    };
    exec(
        db,
        // Signed out just past the period, though it would have expired within it.
        session("s-ended-old", "c1", old30 + 3000, old30.to_string()),
    )
    .await;
    exec(
        db,
        session("s-ended-young", "c2", young30 + 3000, young30.to_string()),
    )
    .await;
    // Never ended: old once it expired long enough ago.
    exec(db, session("s-expired-old", "c3", old30, "NULL".into())).await;
    exec(db, session("s-expired-young", "c5", young30, "NULL".into())).await;
    exec(db, session("s-open", "c4", now + 3600, "NULL".into())).await;
    for (hash, expires) in [("l-old", old30), ("l-young", young30)] {
        exec(
            db,
            format!(
                "INSERT INTO launches (token_hash, session_hash, user_id, kiosk_id, app_id, \
                 created_at, expires_at) VALUES ('{hash}', 's', 'stu-maya', 'k', 'clever', \
                 {}, {expires})",
                expires - 60
            ),
        )
        .await;
    }
    for (bucket, start) in [("card:old", old30), ("card:young", young30)] {
        exec(
            db,
            format!(
                "INSERT INTO rate_buckets (bucket, window_start, hits) VALUES \
                 ('{bucket}', {start}, 3)"
            ),
        )
        .await;
    }
    for (source, start, until) in [
        ("old", old30, 0),
        ("young", young30, 0),
        // A lock that lasts until a person lifts it is not a counter to forget.
        ("forever", old30, LOCKED_UNTIL_UNLOCKED),
    ] {
        exec(
            db,
            format!(
                "INSERT INTO pin_attempts (user_id, source, attempts, window_start, \
                 locked_until, level) VALUES ('tch-ito', '{source}', 5, {start}, {until}, 1)"
            ),
        )
        .await;
    }
    for (id, expires) in [("p-old", old30), ("p-young", young30)] {
        exec(
            db,
            format!(
                "INSERT INTO saml_pending (id_hash, issuer, request_id, acs_url, saml_request, \
                 created_at, expires_at) VALUES ('{id}', 'sp', '{id}', 'https://sp/acs', 'x', \
                 {}, {expires})",
                expires - 300
            ),
        )
        .await;
    }
}

async fn old_rows_go_and_the_rest_stays(db: TestDb) {
    let w = World::with(db, |c| c.retention.batch_rows = 3).await;
    let state = &w.server.state;
    // Real activity at T0: an exchange writes a session and audit rows.
    let card = w.card("stu-maya", Role::Student, "sch-lincoln");
    assert_eq!(w.exchange(&card).await.status, 200);

    // A year and a half later (the real rows are then old for every period).
    let now = T0 as i64 + 550 * DAY;
    w.clock.set(now as u64);
    fill(&state.db, now).await;

    // A replica starting now sweeps at start-up, without being asked.
    let mut cfg = config(&w.db);
    cfg.retention.batch_rows = 3;
    let replica = Server::start(cfg, &w.clock).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let left = keys(
            &state.db,
            "SELECT detail FROM audit WHERE detail LIKE 'old-%'",
        )
        .await;
        if left.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the start-up sweep did not delete old audit rows: {left:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Let the sweep finish the other tables too (a second sweep then finds nothing).
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let again = retention::sweep(&state.db, &RetentionConfig::default(), 3600, now)
        .await
        .unwrap();
    assert_eq!(again.total(), 0, "{again:?}");

    assert_eq!(
        keys(&state.db, "SELECT detail FROM audit").await,
        set(&["young"]),
        "the exchange's audit rows from T0 are older than 425 days too"
    );
    assert_eq!(
        keys(&state.db, "SELECT token_hash FROM sessions").await,
        set(&["s-ended-young", "s-expired-young", "s-open"])
    );
    assert_eq!(
        keys(&state.db, "SELECT token_hash FROM launches").await,
        set(&["l-young"])
    );
    // Ended rate-limit windows also go within minutes (the running portal's own pruner), so
    // only the direct sweep below can see the young one kept.
    assert!(
        !keys(&state.db, "SELECT bucket FROM rate_buckets")
            .await
            .contains("card:old")
    );
    assert_eq!(
        keys(
            &state.db,
            "SELECT source FROM pin_attempts WHERE user_id = 'tch-ito'"
        )
        .await,
        set(&["forever", "young"])
    );
    assert_eq!(
        keys(&state.db, "SELECT id_hash FROM saml_pending").await,
        set(&["p-young"])
    );
    // What retention must never touch: the roster and what stops an old card.
    assert_eq!(
        keys(&state.db, "SELECT id FROM users WHERE id = 'stu-maya'").await,
        set(&["stu-maya"])
    );
    replica.stop().await;
}

/// Batches: a direct sweep reports every deleted row, however many batches it took.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_counts_rows_across_batches() {
    let db = sqlite_db();
    let state_db = Db::connect(&db.url, None).await.unwrap();
    state_db.migrate().await.unwrap();
    let now = T0 as i64;
    fill(&state_db, now).await;
    let cfg = RetentionConfig {
        batch_rows: 2,
        batch_pause_ms: 0,
        ..RetentionConfig::default()
    };
    let swept = retention::sweep(&state_db, &cfg, 3600, now).await.unwrap();
    assert_eq!(swept.get("audit"), 7);
    assert_eq!(swept.get("sessions"), 2);
    assert_eq!(swept.get("launches"), 1);
    assert_eq!(swept.get("rate_buckets"), 1);
    assert_eq!(swept.get("pin_attempts"), 1);
    assert_eq!(swept.get("saml_pending"), 1);
    assert_eq!(swept.total(), 13);
    // A longer audit period keeps them all.
    let db2 = sqlite_db();
    let other = Db::connect(&db2.url, None).await.unwrap();
    other.migrate().await.unwrap();
    fill(&other, now).await;
    let long = RetentionConfig {
        audit_days: 1000,
        ..cfg
    };
    assert_eq!(
        retention::sweep(&other, &long, 3600, now)
            .await
            .unwrap()
            .get("audit"),
        0
    );
}

#[test]
fn periods_are_configurable_and_zero_is_refused() {
    let c = quickcard_portal::Config::from_toml(
        "[retention]\naudit_days = 800\nsessions_days = 7\n",
        "t.toml",
        Vec::new(),
    )
    .unwrap();
    assert_eq!(c.retention.audit_days, 800);
    assert_eq!(c.retention.sessions_days, 7);
    assert_eq!(c.retention.launch_codes_days, 30);
    let e = quickcard_portal::Config::from_toml("[retention]\naudit_days = 0\n", "t.toml", [])
        .unwrap_err();
    assert!(e.to_string().contains("retention.audit_days"), "{e}");
}

#[test]
fn check_config_prints_the_periods_in_force() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("portal.toml");
    std::fs::write(&config, "[retention]\nsessions_days = 14\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_quickcard-portal"))
        .arg("--config")
        .arg(&config)
        .arg("--check-config")
        .env("QUICKCARD_PORTAL_RETENTION__AUDIT_DAYS", "800")
        .env_remove("CI")
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{s}");
    let line = |key: &str| {
        s.lines()
            .find(|l| l.split_whitespace().next() == Some(key))
            .map(|l| l.split_whitespace().nth(1).unwrap().to_string())
            .unwrap_or_else(|| panic!("{key} missing: {s}"))
    };
    assert_eq!(line("audit_days"), "800");
    assert_eq!(line("sessions_days"), "14");
    assert_eq!(line("launch_codes_days"), "30");
    assert_eq!(line("rate_limit_days"), "30");
    assert_eq!(line("pending_signins_days"), "30");
}
