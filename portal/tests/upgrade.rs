//! Upgrades keep the data. `fixtures/v0.1.0-9a91db6.sqlite` (and `.sql`, its PostgreSQL twin)
//! was written by QuickCard 0.1.0 as it stood at commit 9a91db6, schema migrations 0001-0004,
//! through that version's own commands and HTTP API (`fixtures/make-v0.1.0-9a91db6.sh`): a
//! roster with a removed user, enrolled, pending and disabled kiosks, PINs, revocations made
//! over the API and the command line, a PIN lockout, live, signed-out and copied-card sessions,
//! launch links, rate-limit counters and the audit rows of all of it.
//!
//! This version opens a copy, runs its migrations forward, and then:
//! - every row of every table of the old schema is still there with the same values (the one
//!   exception, `chromeos_secrets`, is dropped on purpose by 0005 and is empty here);
//! - everything still means the same through the API: the kiosk credentials authenticate (and a
//!   disabled kiosk stays disabled), the pending enrolment code enrols, live sessions are live
//!   and ended ones ended, the revoked cards are refused `card_revoked` while a card printed
//!   after the revocation works, the lockout holds until it ends and the PINs then verify, the
//!   removed user stays out until a roster import restores them, and the audit rows read back.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{ClockExt, Reply, Server, client, reply};
use quickcard::{Claims, Flags, IssuerKey, Role};
use quickcard_portal::config::Config;
use quickcard_portal::db::DbKind;
use quickcard_portal::db::store;
use quickcard_portal::{Db, ManualClock};
use serde_json::{Value, json};
use sqlx::{Executor, Row};

const SCHOOL: &str = "sch-lincoln-elementary";
/// The sample cards' dates (`sample-cards/regenerate.sh`).
const ISSUED: &str = "2026-08-12T00:00:00Z";
const EXPIRES: &str = "2027-06-30T23:59:59Z";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn manifest(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(name)).unwrap()).unwrap()
}

/// Every table of the database with its columns, and its rows as text (sorted), whatever the
/// schema: the same query reads the old and the new one.
async fn dump(db: &Db) -> BTreeMap<String, (Vec<String>, Vec<String>)> {
    let list = match db.kind {
        DbKind::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        DbKind::Postgres => {
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'"
        }
    };
    let tables: Vec<String> = sqlx::query_scalar(list).fetch_all(&db.pool).await.unwrap();
    let mut out = BTreeMap::new();
    for t in tables {
        let cols: Vec<String> = match db.kind {
            DbKind::Sqlite => {
                sqlx::query_scalar("SELECT name FROM pragma_table_info($1) ORDER BY cid")
                    .bind(&t)
                    .fetch_all(&db.pool)
                    .await
            }
            DbKind::Postgres => {
                sqlx::query_scalar(
                    "SELECT column_name::text FROM information_schema.columns \
                 WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
                )
                .bind(&t)
                .fetch_all(&db.pool)
                .await
            }
        }
        .unwrap();
        let rows = rows(db, &t, &cols).await;
        out.insert(t, (cols, rows));
    }
    out
}

/// The rows of `table`, only the columns `cols`, each as one text, sorted.
async fn rows(db: &Db, table: &str, cols: &[String]) -> Vec<String> {
    let q = match db.kind {
        DbKind::Sqlite => format!(
            "SELECT {} FROM \"{table}\"",
            cols.iter()
                .map(|c| format!("quote(\"{c}\")"))
                .collect::<Vec<_>>()
                .join(" || '|' || ")
        ),
        DbKind::Postgres => format!(
            "SELECT to_jsonb(r)::text FROM (SELECT {} FROM \"{table}\") r",
            cols.iter()
                .map(|c| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut rows: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(q))
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
    rows.sort();
    rows
}

/// A sample card as 0.1.0's `card-printer` signed it with the demo key, or the same person's
/// card printed at `issued` (a reprint).
fn card(user: &str, role: Role, issued: Option<u64>, second_factor: bool) -> String {
    let issued = issued.unwrap_or_else(|| quickcard::time::parse(ISSUED).unwrap());
    let claims = Claims::new(
        user,
        role,
        SCHOOL,
        issued,
        quickcard::time::parse(EXPIRES).unwrap(),
        Flags { second_factor },
    )
    .unwrap();
    quickcard::sign(&claims, &IssuerKey::demo())
}

struct Portal {
    server: Server,
    clock: ManualClock,
    http: reqwest::Client,
}

impl Portal {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url)
    }
    async fn exchange(&self, kiosk: &str, card: &str, pin: Option<&str>) -> Reply {
        let mut body = json!({ "card": card });
        if let Some(p) = pin {
            body["pin"] = json!(p);
        }
        let r = self.http.post(self.url("/v1/exchange")).bearer_auth(kiosk);
        reply(r.json(&body).send().await.unwrap()).await
    }
    async fn session(&self, kiosk: &str, token: &str) -> Reply {
        let r = self.http.get(self.url("/v1/session")).bearer_auth(kiosk);
        reply(r.header("QuickCard-Session", token).send().await.unwrap()).await
    }
}

/// The whole check on a database holding the fixture as 0.1.0 left it.
async fn upgrade_keeps_the_data(url: &str, m: &Value) {
    let s = |k: &str| m[k].as_str().unwrap().to_string();
    let made_at = m["made_at"].as_u64().unwrap();

    // Before: the old schema, as 0.1.0 wrote it, with data of every kind.
    let db = Db::connect(url, None).await.unwrap();
    let before = dump(&db).await;
    let count = |t: &str| before.get(t).map_or(0, |(_, r)| r.len());
    let migrations = &before["_sqlx_migrations"].1;
    assert_eq!(migrations.len(), 4, "0.1.0 had migrations 0001-0004");
    for (table, at_least) in [
        ("users", 33),
        ("schools", 1),
        ("user_schools", 32),
        ("classes", 3),
        ("enrollments", 28),
        ("lockouts", 1),
        ("guardians", 1),
        ("pins", 2),
        ("kiosks", 3),
        ("sessions", 6),
        ("launches", 2),
        ("revocations", 2),
        ("pin_attempts", 1),
        ("rate_buckets", 1),
        ("audit", 40),
    ] {
        assert!(
            count(table) >= at_least,
            "the fixture's {table} has {} rows",
            count(table)
        );
    }
    // Dropped by 0005 on purpose (the ChromeOS passwords are derived now): nothing to lose.
    assert_eq!(count("chromeos_secrets"), 0);

    // Forward: this version's migrations.
    db.migrate().await.unwrap();
    for (table, (cols, old_rows)) in &before {
        if table == "chromeos_secrets" {
            continue;
        }
        let now = rows(&db, table, cols).await;
        if table == "_sqlx_migrations" {
            assert!(old_rows.iter().all(|r| now.contains(r)), "{table}");
            assert_eq!(now.len(), 7, "migrations 0005-0007 added");
            continue;
        }
        assert_eq!(
            &now, old_rows,
            "{table}: every row, every value, as 0.1.0 left it"
        );
    }
    let audit_before = store::audit_rows(&db, None, 0, 100_000).await.unwrap();
    db.pool.close().await;

    // Then the portal itself, on its clock just after the fixture was made.
    let clock = ManualClock::new(made_at + 30);
    let config = Config {
        database_url: url.to_string(),
        ..Config::default()
    };
    let p = Portal {
        server: Server::start_with(config, &clock, true).await,
        clock,
        http: client(),
    };
    let (lab1, hall3) = (s("kiosk_lab1_credential"), s("kiosk_hall3_credential"));

    // Kiosk credentials still authenticate; the disabled kiosk stays disabled.
    let r = reply(
        p.http
            .get(p.url("/v1/kiosk/config"))
            .bearer_auth(&lab1)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["name"], "LAB-1");
    assert_eq!(r.body["school_id"], SCHOOL);
    assert_eq!(r.body["revoked"].as_array().unwrap().len(), 2, "{r:?}");
    let zoe = card("stu-1001", Role::Student, None, false);
    let r = p.exchange(&hall3, &zoe, None).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "kiosk_disabled"));
    // The pending kiosk's enrolment code still enrols it.
    let r = reply(
        p.http
            .post(p.url("/v1/kiosks/enroll"))
            .json(&json!({"code": s("kiosk_lab2_enrolment_code")}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["name"], "LAB-2");

    // Live sessions are live; signed-out and copied-card sessions stay ended.
    let r = p.session(&lab1, &s("session_stu_1001")).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["user"]["id"], "stu-1001");
    assert_eq!(r.body["user"]["given_name"], "Zoë");
    let r = p.session(&lab1, &s("session_tea_okafor")).await;
    assert_eq!(r.body["user"]["id"], "tea-okafor", "{r:?}");
    for ended in ["session_stu_2002_signed_out", "session_stu_3007_lab1_ended"] {
        let r = p.session(&lab1, &s(ended)).await;
        assert_eq!(r.code(), "session_expired", "{ended}: {r:?}");
    }

    // Revocations: the old cards are refused, a card printed after the revocation works.
    for user in ["stu-1005", "3f2504e0-4f89-41d3-9a0c-0305e82c3301"] {
        let r = p
            .exchange(&lab1, &card(user, Role::Student, None, false), None)
            .await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (403, "card_revoked"),
            "{user}"
        );
    }
    let reprint = card("stu-1005", Role::Student, Some(made_at + 5), false);
    let r = p.exchange(&lab1, &reprint, None).await;
    assert_eq!(r.status, 200, "a card printed after the revocation: {r:?}");

    // The lockout holds until it ends; then the PIN set by 0.1.0 verifies, and a wrong one
    // is still wrong.
    let helene = card("tea-lefevre", Role::Teacher, None, true);
    let r = p
        .exchange(&lab1, &helene, Some(m["pin_tea_lefevre"].as_str().unwrap()))
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (423, "locked_out"), "{r:?}");
    p.clock.advance(1_000);
    let r = p.exchange(&lab1, &helene, Some("999999")).await;
    assert_eq!(r.code(), "wrong_pin", "{r:?}");
    let r = p
        .exchange(&lab1, &helene, Some(m["pin_tea_lefevre"].as_str().unwrap()))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["second_factor_used"], true);
    let chinedu = card("tea-okafor", Role::Teacher, None, false);
    let r = p
        .exchange(&lab1, &chinedu, Some(m["pin_tea_okafor"].as_str().unwrap()))
        .await;
    assert_eq!(r.status, 200, "{r:?}");

    // The user 0.1.0's last import removed is refused, and restored by the next import.
    let max = card("stu-3009", Role::Student, None, false);
    let r = p.exchange(&lab1, &max, None).await;
    assert_eq!(r.code(), "unknown_user", "{r:?}");
    let roster = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample-cards/roster-oneroster");
    let report = quickcard_portal::domain::roster_import::import(
        &p.server.state.db,
        &roster,
        p.clock.now_i64(),
    )
    .await
    .unwrap();
    assert_eq!(report.users_restored, 1, "{report:?}");
    let r = p.exchange(&lab1, &max, None).await;
    assert_eq!(r.status, 200, "{r:?}");

    // The audit rows read back as they were, and say what happened.
    let audit = store::audit_rows(&p.server.state.db, None, 0, 100_000)
        .await
        .unwrap();
    let old: Vec<_> = audit.iter().take(audit_before.len()).collect();
    assert_eq!(
        old.iter()
            .map(|r| (r.id, &r.kind, &r.result, r.flagged))
            .collect::<Vec<_>>(),
        audit_before
            .iter()
            .map(|r| (r.id, &r.kind, &r.result, r.flagged))
            .collect::<Vec<_>>()
    );
    let seen = |kind: &str, result: &str, flagged: Option<bool>| {
        audit_before
            .iter()
            .any(|r| r.kind == kind && r.result == result && flagged.is_none_or(|f| r.flagged == f))
    };
    for (kind, result, flagged) in [
        ("roster_import", "ok", Some(false)),
        ("kiosk_add", "ok", Some(false)),
        ("kiosk_enrol", "ok", Some(false)),
        ("kiosk_disable", "ok", Some(false)),
        ("pin_set", "ok", Some(false)),
        ("exchange", "ok", Some(false)),
        ("exchange", "card_revoked", Some(true)),
        ("exchange", "wrong_pin", Some(false)),
        ("exchange", "locked_out", Some(true)),
        ("exchange", "pin_not_set", Some(false)),
        ("exchange", "rate_limited", None),
        ("revocation", "ok", Some(false)),
        ("sign_out", "ok", Some(false)),
        ("launch", "ok", Some(false)),
        ("launch_open", "ok", Some(false)),
    ] {
        assert!(
            seen(kind, result, flagged),
            "no {kind} {result} (flagged {flagged:?}) row"
        );
    }
    assert!(
        audit_before
            .iter()
            .any(|r| r.kind == "session_end" && r.result == "copied_card" && r.flagged),
        "the copied card's flagged row"
    );
    p.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_0_1_0_sqlite_database_opens_with_every_row_and_meaning() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("portal.db");
    std::fs::copy(fixture("v0.1.0-9a91db6.sqlite"), &file).unwrap();
    let url = format!("sqlite://{}", file.display());
    upgrade_keeps_the_data(&url, &manifest("v0.1.0-9a91db6.sqlite.json")).await;
}

/// The same steps run by 0.1.0 on PostgreSQL, restored from its `pg_dump`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_0_1_0_postgres_database_opens_with_every_row_and_meaning() {
    let Some(db) = common::postgres_db().await else {
        return;
    };
    let sql = std::fs::read_to_string(fixture("v0.1.0-9a91db6.postgres.sql")).unwrap();
    {
        // pg_dump's preamble empties the search path for its session: its own connection.
        use sqlx::Connection;
        let mut conn = sqlx::AnyConnection::connect(&db.url).await.unwrap();
        conn.execute(sqlx::AssertSqlSafe(sql.as_str()))
            .await
            .unwrap();
        conn.close().await.unwrap();
    }
    upgrade_keeps_the_data(&db.url, &manifest("v0.1.0-9a91db6.postgres.json")).await;
}
