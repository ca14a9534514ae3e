//! A person's data on request: export covers every table that names a person (found from the
//! schema), erasure leaves nothing of them but their id, a revocation and the erasure time,
//! an erased person's card is refused as `user_erased`, and a roster import reports them
//! instead of restoring them — on SQLite, and PostgreSQL when configured.

mod common;

use std::collections::BTreeSet;

use common::*;
use quickcard::Role;
use quickcard_portal::Db;
use quickcard_portal::domain::secrets::Secret;
use serde_json::Value;
use sqlx::{Column, Row};

both_databases!(export_then_erase);

const NAME: [&str; 2] = ["Omar", "Haddad"];
const EMAIL: &str = "omar.haddad@lincoln.example";
/// The SIS login the OneRoster export gives (`username`).
const SIS_LOGIN: &str = "ohaddad-7731";

async fn exec(db: &Db, sql: &'static str) {
    sqlx::query(sql).execute(&db.pool).await.unwrap();
}

async fn tables(db: &Db, kind: &str) -> Vec<String> {
    let list = if kind == "sqlite" {
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    } else {
        "SELECT CAST(table_name AS TEXT) AS name FROM information_schema.tables \
         WHERE table_schema = current_schema()"
    };
    sqlx::query(list)
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String, _>("name").unwrap())
        .filter(|t| !t.starts_with("_sqlx"))
        .collect()
}

async fn columns(db: &Db, kind: &str, table: &str) -> Vec<String> {
    let sql = if kind == "sqlite" {
        format!("SELECT name FROM pragma_table_info('{table}')")
    } else {
        format!(
            "SELECT CAST(column_name AS TEXT) AS name FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = '{table}'"
        )
    };
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String, _>("name").unwrap())
        .collect()
}

/// Tables with a column that names a person: `users` itself, any `…user_id`, a parent or child
/// link, or (SQLite) a foreign key to `users`.
async fn person_tables(db: &Db, kind: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for t in tables(db, kind).await {
        let cols = columns(db, kind, &t).await;
        let mut names_person = t == "users"
            || cols
                .iter()
                .any(|c| c.ends_with("user_id") || c == "parent_id" || c == "child_id");
        if kind == "sqlite" {
            let fk = format!(
                "SELECT COUNT(*) FROM pragma_foreign_key_list('{t}') WHERE \"table\" = 'users'"
            );
            let n: i64 = sqlx::query(sqlx::AssertSqlSafe(fk))
                .fetch_one(&db.pool)
                .await
                .unwrap()
                .try_get(0)
                .unwrap();
            names_person |= n > 0;
        }
        if names_person {
            out.insert(t);
        }
    }
    out
}

/// Every value of every row of every table, as text.
async fn dump(db: &Db, kind: &str) -> String {
    let mut out = String::new();
    for t in tables(db, kind).await {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT * FROM {t}")))
            .fetch_all(&db.pool)
            .await
            .unwrap();
        for row in &rows {
            for (i, c) in row.columns().iter().enumerate() {
                let v = if let Ok(v) = row.try_get::<Option<String>, _>(i) {
                    format!("{v:?}")
                } else if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
                    format!("{v:?}")
                } else {
                    let v = row.try_get::<Option<Vec<u8>>, _>(i).unwrap_or_default();
                    String::from_utf8_lossy(&v.unwrap_or_default()).into_owned()
                };
                out.push_str(&format!("{t}.{}={v}\n", c.name()));
            }
        }
    }
    out
}

fn personal_data_in(dump: &str) -> Vec<&'static str> {
    NAME.iter()
        .copied()
        .chain([EMAIL, SIS_LOGIN])
        .filter(|s| dump.contains(s))
        .collect()
}

async fn export_then_erase(db: TestDb) {
    let token = Secret::token("qca_");
    let hash = token.hash();
    let w = World::with(db, move |c| c.admin.token_sha256 = Some(hash)).await;
    let db = &w.server.state.db;
    let kind = w.db.kind;
    // Omar's e-mail from the SIS, and his SIS login.
    let roster: String = ROSTER
        .lines()
        .map(|l| {
            if l.starts_with("sourced_id") {
                format!("{l},email\n")
            } else if l.starts_with("stu-omar,") {
                format!("{l},{EMAIL}\n")
            } else {
                format!("{l},\n")
            }
        })
        .collect();
    assert!(roster.contains(EMAIL), "{roster}");
    std::fs::write(w.roster_path(), &roster).unwrap();
    let r = quickcard_portal::domain::roster_import::import(db, &w.roster_path(), T0 as i64)
        .await
        .unwrap();
    assert_eq!(r.users_updated, 7, "{r:?}");
    exec(
        db,
        "UPDATE users SET username = 'ohaddad-7731' WHERE id = 'stu-omar'",
    )
    .await;

    // A row about Omar in every table that can name him.
    let card = w.card("stu-omar", Role::Student, "sch-lincoln");
    let ok = w.exchange(&card).await;
    assert_eq!(ok.status, 200, "{ok:?}");
    w.set_pin("stu-omar", "135790").await;
    exec(
        db,
        "INSERT INTO guardians (parent_id, child_id) VALUES ('par-lopez', 'stu-omar')",
    )
    .await;
    exec(
        db,
        "INSERT INTO launches (token_hash, session_hash, user_id, kiosk_id, app_id, created_at, \
         expires_at) VALUES ('l1', 's1', 'stu-omar', 'k', 'clever', 1, 2)",
    )
    .await;
    exec(
        db,
        "INSERT INTO lockouts (user_id, failures, first_failure_at, locked_until) \
         VALUES ('stu-omar', 2, 1, 0)",
    )
    .await;
    exec(
        db,
        "INSERT INTO pin_attempts (user_id, source, attempts, window_start, locked_until, level) \
         VALUES ('stu-omar', 'kiosk:k', 2, 1, 0, 0)",
    )
    .await;
    exec(
        db,
        "INSERT INTO saml_pending (id_hash, issuer, request_id, acs_url, saml_request, \
         created_at, expires_at, user_id) VALUES ('p1', 'sp', 'r1', 'https://sp/acs', 'x', 1, 2, \
         'stu-omar')",
    )
    .await;
    // A revocation whose reason an admin typed with his name in it (and it bumps the
    // ChromeOS password generation).
    quickcard_portal::db::store::revoke(db, "stu-omar", T0 as i64, "lost by Omar Haddad", "test")
        .await
        .unwrap()
        .unwrap();

    // Export, over the admin API: an entry for every table that names a person, filled.
    let r = reply(
        w.http
            .get(w.url("/v1/admin/users/stu-omar/export"))
            .bearer_auth(token.expose())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    let exported = r.body["tables"].as_object().unwrap().clone();
    let wanted = person_tables(db, kind).await;
    assert!(wanted.len() >= 13, "{wanted:?}");
    for t in &wanted {
        let rows = exported
            .get(t)
            .unwrap_or_else(|| panic!("the export forgets table {t} (it names a person)"));
        if t != "erasures" {
            assert!(
                !rows.as_array().unwrap().is_empty(),
                "export of {t} is empty though Omar has a row there"
            );
        }
    }
    let text = r.body.to_string();
    assert!(text.contains(EMAIL) && text.contains(SIS_LOGIN) && text.contains("Haddad"));
    assert_eq!(exported["pins"][0]["pin_set"], Value::Bool(true));
    assert!(!text.contains("argon2"), "never the PIN's hash: {text}");
    assert!(w.audit().await.iter().any(|a| a.kind == "person_export"
        && a.user_id.as_deref() == Some("stu-omar")
        && !a.detail.contains("Haddad")));

    // Not without the admin token.
    let r = reply(
        w.http
            .post(w.url("/v1/admin/users/stu-omar/erase"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 401, "{r:?}");
    assert!(!personal_data_in(&dump(db, kind).await).is_empty());

    // Erase.
    let r = reply(
        w.http
            .post(w.url("/v1/admin/users/stu-omar/erase"))
            .bearer_auth(token.expose())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["already"], false);
    let after = dump(db, kind).await;
    assert_eq!(
        personal_data_in(&after),
        Vec::<&str>::new(),
        "personal data left after erasure:\n{after}"
    );
    // What stays: the id, a revocation of every card before the erasure, the erasure time.
    let left = quickcard_portal::domain::person::export(db, "stu-omar")
        .await
        .unwrap()
        .unwrap();
    for (t, rows) in left["tables"].as_object().unwrap() {
        let n = rows.as_array().unwrap().len();
        match t.as_str() {
            "revocations" | "erasures" => assert_eq!(n, 1, "{t}: {rows}"),
            // The erasure's own audit row (the id and a count, nothing else).
            "audit" => {
                assert_eq!(n, 1, "{rows}");
                assert_eq!(rows[0]["kind"], "person_erase");
            }
            _ => assert_eq!(n, 0, "{t} still holds rows: {rows}"),
        }
    }
    assert_eq!(left["tables"]["revocations"][0]["reason"], "erased");
    // Other people are untouched.
    assert!(after.contains("Maya") && after.contains("Lopez"));

    // An old card (even one printed after the revocation) is refused with its own code.
    w.clock.advance(60);
    let newer = w.card_issued(
        "stu-omar",
        Role::Student,
        "sch-lincoln",
        T0 + 30,
        Default::default(),
    );
    let r = w.exchange(&newer).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "user_erased"), "{r:?}");

    // The next roster import still holds Omar: he is reported, not restored.
    let r =
        quickcard_portal::domain::roster_import::import(db, &w.roster_path(), w.clock.now_i64())
            .await
            .unwrap();
    assert_eq!(r.erased, vec!["stu-omar".to_string()], "{r:?}");
    assert_eq!(r.users_added + r.users_restored, 0, "{r:?}");
    assert_eq!(personal_data_in(&dump(db, kind).await), Vec::<&str>::new());
    let r = w.exchange(&newer).await;
    assert_eq!(r.code(), "user_erased", "{r:?}");

    // Erasing again changes nothing; an unknown id is a 404.
    let again = quickcard_portal::domain::person::erase(db, "stu-omar", w.clock.now_i64(), "test")
        .await
        .unwrap()
        .unwrap();
    assert!(again.already);
    let r = reply(
        w.http
            .post(w.url("/v1/admin/users/stu-nobody/erase"))
            .bearer_auth(token.expose())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (404, "unknown_user"),
        "{r:?}"
    );
}

/// The command line: `person export` prints JSON, `person erase` erases, and the log lines
/// it writes hold no personal data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_line_export_and_erase() {
    let db = sqlite_db();
    let w = World::new(db).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("portal.toml");
    std::fs::write(&config, "").unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_quickcard-portal"))
            .arg("--config")
            .arg(&config)
            .args(args)
            .env("QUICKCARD_PORTAL_DATABASE_URL", &w.db.url)
            .env("QUICKCARD_PORTAL_LOG", "debug")
            .env_remove("CI")
            .output()
            .unwrap()
    };
    let out = run(&["person", "export", "--user", "stu-omar"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["tables"]["users"][0]["given_name"], "Omar");
    assert_eq!(doc["tables"]["pins"], Value::Array(vec![]));
    let out = run(&["person", "erase", "--user", "stu-omar"]);
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{log}");
    assert!(log.contains("erased"), "{log}");
    assert!(!log.contains("Omar") && !log.contains("Haddad"), "{log}");
    let out = run(&["person", "export", "--user", "stu-omar"]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["tables"]["users"], Value::Array(vec![]));
    assert_eq!(doc["tables"]["erasures"].as_array().unwrap().len(), 1);
    // The roster still lists Omar: the import says so and leaves him erased.
    let roster = w.roster_path().display().to_string();
    let out = run(&["import", "--roster", &roster]);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{said}");
    assert!(said.contains("not imported: stu-omar was erased"), "{said}");
    let out = run(&["person", "export", "--user", "stu-omar"]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["tables"]["users"], Value::Array(vec![]));
    let out = run(&["person", "erase", "--user", "stu-nobody"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds nothing"));
}
