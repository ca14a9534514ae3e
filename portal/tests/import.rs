//! Importing the sample rosters in both formats through the shared parser; users who leave
//! the roster and come back keep their revocation, lockout and PIN.

mod common;

use common::{ClockExt, T0, TestDb, World};
use quickcard::{Flags, Role};
use quickcard_portal::db::store::{self, AuditRow};
use sqlx::Row;

both_databases!(
    sample_rosters_in_both_formats,
    removed_users_keep_revocation_lockout_and_pin,
    disabled_oneroster_user_is_removed_and_restored,
);

fn sample(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../sample-cards")
        .join(rel)
}

async fn count(db: &quickcard_portal::Db, sql: &'static str) -> i64 {
    sqlx::query(sql)
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .get::<i64, _>("n")
}

async fn sample_rosters_in_both_formats(db: TestDb) {
    let clock = quickcard_portal::ManualClock::new(T0);
    let server = common::Server::start(common::config(&db), &clock).await;
    let pdb = &server.state.db;
    let one = quickcard_portal::domain::roster_import::import(
        pdb,
        &sample("roster-oneroster"),
        T0 as i64,
    )
    .await
    .unwrap();
    assert_eq!(one.users_added, 33, "{one:?}");
    assert_eq!(one.schools, 1);
    assert_eq!(one.classes, 3);
    assert_eq!(one.enrollments, 29);
    assert_eq!(one.guardian_links, 1, "par-obrien is stu-1001's guardian");
    assert!(one.skipped.is_empty(), "{:?}", one.skipped);
    assert_eq!(count(pdb, "SELECT COUNT(*) AS n FROM guardians").await, 1);
    let role: String = sqlx::query("SELECT role FROM users WHERE id = 'par-obrien'")
        .fetch_one(&pdb.pool)
        .await
        .unwrap()
        .get("role");
    assert_eq!(role, "parent", "OneRoster guardian is a parent");

    // The simple CSV of the same people updates everyone in place and removes nobody.
    let simple =
        quickcard_portal::domain::roster_import::import(pdb, &sample("roster.csv"), T0 as i64)
            .await
            .unwrap();
    assert_eq!(simple.users_added, 0, "{simple:?}");
    assert_eq!(simple.users_updated, 33);
    assert_eq!(simple.users_removed, 0);
    assert_eq!(count(pdb, "SELECT COUNT(*) AS n FROM users").await, 33);
    assert_eq!(
        count(
            pdb,
            "SELECT COUNT(*) AS n FROM user_schools WHERE school_id = 'sch-lincoln-elementary'"
        )
        .await,
        33
    );
    let audit: Vec<AuditRow> = quickcard_portal::db::store::audit_rows(pdb, None, 0, 100)
        .await
        .unwrap();
    assert_eq!(
        audit.iter().filter(|a| a.kind == "roster_import").count(),
        2
    );
    server.stop().await;
}

async fn removed_at(db: &quickcard_portal::Db, user: &str) -> Option<i64> {
    sqlx::query("SELECT removed_at FROM users WHERE id = $1")
        .bind(user.to_string())
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .get("removed_at")
}

async fn rows_of(db: &quickcard_portal::Db, table: &str, user: &str) -> i64 {
    let sql: &'static str = match table {
        "revocations" => "SELECT COUNT(*) AS n FROM revocations WHERE user_id = $1",
        "pins" => "SELECT COUNT(*) AS n FROM pins WHERE user_id = $1",
        "lockouts" => "SELECT COUNT(*) AS n FROM lockouts WHERE user_id = $1",
        "user_schools" => "SELECT COUNT(*) AS n FROM user_schools WHERE user_id = $1",
        _ => unreachable!("{table}"),
    };
    sqlx::query(sql)
        .bind(user.to_string())
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .get("n")
}

/// A teacher whose card was lost and who is locked out after wrong PINs drops out of one
/// export and is back in the next: the lost card stays refused, the lockout holds, the PIN
/// works. A student's card lost while they were off the roster can be revoked too.
async fn removed_users_keep_revocation_lockout_and_pin(db: TestDb) {
    let w = World::new(db).await;
    let pdb = &w.server.state.db;
    let pin = Flags {
        second_factor: true,
    };
    let old = w.card_issued("tch-ito", Role::Teacher, "sch-lincoln", T0 - 86_400, pin);
    w.set_pin("tch-ito", "2468").await;
    assert_eq!(
        w.exchange_with(&w.kiosk, &old, Some("2468")).await.status,
        200
    );

    // The card is lost: revoked, and a new one printed.
    w.clock.advance(60);
    let revoked_at = w.clock.now_i64();
    store::revoke(pdb, "tch-ito", revoked_at, "lost", "test")
        .await
        .unwrap()
        .expect("on the roster");
    w.clock.advance(60);
    let new = w.card_issued(
        "tch-ito",
        Role::Teacher,
        "sch-lincoln",
        revoked_at as u64,
        pin,
    );
    assert_eq!(w.exchange(&old).await.code(), "card_revoked");
    // Wrong PINs on the new card until the user is locked out.
    let mut locked = false;
    for _ in 0..10 {
        let r = w.exchange_with(&w.kiosk, &new, Some("0000")).await;
        if r.code() == "locked_out" {
            locked = true;
            break;
        }
        assert_eq!(r.code(), "wrong_pin", "{r:?}");
    }
    assert!(locked, "wrong PINs lock the user out");
    let omar = w.card("stu-omar", Role::Student, "sch-lincoln");
    let r = w.exchange(&omar).await;
    assert_eq!(r.status, 200, "{r:?}");
    let omar_session = r.body["token"].as_str().unwrap().to_string();

    // An export without them: refused, marked removed, their rows kept.
    let without = common::ROSTER
        .lines()
        .filter(|l| !l.starts_with("tch-ito,") && !l.starts_with("stu-omar,"))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(w.roster_path(), &without).unwrap();
    w.clock.advance(60);
    let removal = w.clock.now_i64();
    let r = quickcard_portal::domain::roster_import::import(pdb, &w.roster_path(), removal)
        .await
        .unwrap();
    assert_eq!(
        (
            r.users_added,
            r.users_restored,
            r.users_updated,
            r.users_removed
        ),
        (0, 0, 5, 2),
        "{r:?}"
    );
    assert_eq!(rows_of(pdb, "revocations", "tch-ito").await, 1);
    assert_eq!(rows_of(pdb, "pins", "tch-ito").await, 1);
    assert_eq!(rows_of(pdb, "user_schools", "tch-ito").await, 0);
    assert_eq!(removed_at(pdb, "tch-ito").await, Some(removal));
    assert_eq!(removed_at(pdb, "stu-omar").await, Some(removal));
    assert_eq!(removed_at(pdb, "stu-maya").await, None);
    assert_eq!(r.sessions_ended, 1, "omar's session");
    assert_eq!(
        w.session(&w.kiosk, &omar_session).await.code(),
        "session_expired"
    );
    for card in [&old, &new] {
        let r = w.exchange_with(&w.kiosk, card, Some("2468")).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (403, "unknown_user"),
            "{r:?}"
        );
        assert_eq!(
            r.body["error"]["message"],
            "the user is no longer on this school's roster"
        );
    }
    assert_eq!(w.exchange(&omar).await.code(), "unknown_user");
    // Nobody can give a removed user a PIN; their card can still be revoked.
    let hash = quickcard_portal::domain::secrets::hash_pin("1357").unwrap();
    assert!(
        !store::set_pin(pdb, "tch-ito", &hash, removal)
            .await
            .unwrap()
    );
    assert_eq!(
        store::revoke(pdb, "stu-omar", removal, "lost", "test")
            .await
            .unwrap(),
        Some(0)
    );
    // The same export again removes nobody new.
    let again = quickcard_portal::domain::roster_import::import(pdb, &w.roster_path(), removal)
        .await
        .unwrap();
    assert_eq!(
        (again.users_removed, again.users_updated),
        (0, 5),
        "{again:?}"
    );

    // Back in the next export: everything they had holds again.
    std::fs::write(w.roster_path(), common::ROSTER).unwrap();
    w.clock.advance(60);
    let back =
        quickcard_portal::domain::roster_import::import(pdb, &w.roster_path(), w.clock.now_i64())
            .await
            .unwrap();
    assert_eq!(
        (
            back.users_added,
            back.users_restored,
            back.users_updated,
            back.users_removed
        ),
        (0, 2, 5, 0),
        "{back:?}"
    );
    assert_eq!(removed_at(pdb, "tch-ito").await, None);
    assert_eq!(rows_of(pdb, "user_schools", "tch-ito").await, 1);
    let holder = store::holder(pdb, "tch-ito", "sch-lincoln")
        .await
        .unwrap()
        .unwrap();
    assert!(holder.in_school);
    assert_eq!(holder.revoked_before, Some(revoked_at));
    assert!(holder.pin_hash.is_some());
    let r = w.exchange_with(&w.kiosk, &old, Some("2468")).await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (403, "card_revoked"),
        "{r:?}"
    );
    let r = w.exchange_with(&w.kiosk, &new, Some("2468")).await;
    assert_eq!((r.status.as_u16(), r.code()), (423, "locked_out"), "{r:?}");
    assert_eq!(w.exchange(&omar).await.code(), "card_revoked");
    // Once the lockout is over, the PIN set before the removal opens a session.
    w.clock.advance(3_600);
    let r = w.exchange_with(&w.kiosk, &new, Some("2468")).await;
    assert_eq!(r.status, 200, "{r:?}");
    let imports: Vec<String> = w
        .audit()
        .await
        .into_iter()
        .filter(|a| a.kind == "roster_import")
        .map(|a| a.detail)
        .collect();
    assert!(
        imports
            .last()
            .unwrap()
            .contains("0 added, 2 restored, 5 updated, 0 removed"),
        "{imports:?}"
    );
}

/// `enabledUser=false` in a OneRoster export removes the user as if they were missing; enabled
/// again, they are restored with their revocation, lockout and PIN.
async fn disabled_oneroster_user_is_removed_and_restored(db: TestDb) {
    let clock = quickcard_portal::ManualClock::new(T0);
    let server = common::Server::start(common::config(&db), &clock).await;
    let pdb = &server.state.db;
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(sample("roster-oneroster")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    let users_csv = dir.path().join("users.csv");
    let users = std::fs::read_to_string(&users_csv).unwrap();
    let now = T0 as i64;
    let first = quickcard_portal::domain::roster_import::import(pdb, dir.path(), now)
        .await
        .unwrap();
    assert_eq!(first.users_added, 33, "{first:?}");

    let school = "sch-lincoln-elementary";
    store::revoke(pdb, "tea-rivera", now, "lost", "test")
        .await
        .unwrap()
        .unwrap();
    let hash = quickcard_portal::domain::secrets::hash_pin("2468").unwrap();
    assert!(store::set_pin(pdb, "tea-rivera", &hash, now).await.unwrap());
    let locked_until = now + 900;
    sqlx::query(
        "INSERT INTO lockouts (user_id, failures, first_failure_at, locked_until) \
         VALUES ($1, 0, 0, $2)",
    )
    .bind("tea-rivera")
    .bind(locked_until)
    .execute(&pdb.pool)
    .await
    .unwrap();

    let rivera = "tea-rivera,active,2026-08-01T00:00:00.000Z,";
    assert!(users.contains(&format!("{rivera}true,")));
    let disabled = users.replace(&format!("{rivera}true,"), &format!("{rivera}false,"));
    std::fs::write(&users_csv, disabled).unwrap();
    let off = quickcard_portal::domain::roster_import::import(pdb, dir.path(), now + 10)
        .await
        .unwrap();
    assert_eq!(
        (
            off.users_added,
            off.users_restored,
            off.users_updated,
            off.users_removed
        ),
        (0, 0, 32, 1),
        "{off:?}"
    );
    assert_eq!(removed_at(pdb, "tea-rivera").await, Some(now + 10));
    let h = store::holder(pdb, "tea-rivera", school)
        .await
        .unwrap()
        .expect("kept, marked removed");
    assert!(!h.in_school);
    assert_eq!(h.revoked_before, Some(now));
    assert_eq!(h.locked_until, Some(locked_until));
    assert!(h.pin_hash.is_some());
    assert_eq!(rows_of(pdb, "lockouts", "tea-rivera").await, 1);

    std::fs::write(&users_csv, &users).unwrap();
    let on = quickcard_portal::domain::roster_import::import(pdb, dir.path(), now + 20)
        .await
        .unwrap();
    assert_eq!(
        (
            on.users_added,
            on.users_restored,
            on.users_updated,
            on.users_removed
        ),
        (0, 1, 32, 0),
        "{on:?}"
    );
    assert_eq!(removed_at(pdb, "tea-rivera").await, None);
    let h = store::holder(pdb, "tea-rivera", school)
        .await
        .unwrap()
        .unwrap();
    assert!(h.in_school);
    assert_eq!(h.revoked_before, Some(now));
    assert_eq!(h.locked_until, Some(locked_until));
    assert!(h.pin_hash.is_some());
    server.stop().await;
}
