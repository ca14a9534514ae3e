//! Importing the sample rosters in both formats through the shared parser.

mod common;

use common::{T0, TestDb};
use quickcard_portal::store::AuditRow;
use sqlx::Row;

both_databases!(sample_rosters_in_both_formats);

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
    let one = quickcard_portal::roster_import::import(pdb, &sample("roster-oneroster"), T0 as i64)
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
    let simple = quickcard_portal::roster_import::import(pdb, &sample("roster.csv"), T0 as i64)
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
    let audit: Vec<AuditRow> = quickcard_portal::store::audit_rows(pdb, None, 0, 100)
        .await
        .unwrap();
    assert_eq!(
        audit.iter().filter(|a| a.kind == "roster_import").count(),
        2
    );
    server.stop().await;
}
