//! `docs/privacy.md` names every table of the portal's schema in its inventory, and only
//! tables that exist: a table added without saying what it holds about people fails here.

mod common;

use std::collections::BTreeSet;

use common::*;
use sqlx::Row;

fn doc() -> String {
    std::fs::read_to_string(format!("{}/../docs/privacy.md", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The first column's `table` names of the inventory table under "## Portal database tables".
fn inventory(doc: &str) -> BTreeSet<String> {
    let start = doc
        .find("## Portal database tables")
        .expect("privacy.md has a \"## Portal database tables\" section");
    let section = &doc[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`').map(|(name, _)| name.to_string()))
        .collect()
}

async fn schema_tables(db: &TestDb) -> BTreeSet<String> {
    let pool = quickcard_portal::Db::connect(&db.url, Some(1))
        .await
        .unwrap();
    pool.migrate().await.unwrap();
    let list = if db.kind == "sqlite" {
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    } else {
        "SELECT CAST(table_name AS TEXT) AS name FROM information_schema.tables \
         WHERE table_schema = current_schema()"
    };
    let names = sqlx::query(list)
        .fetch_all(&pool.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String, _>("name").unwrap())
        .filter(|t| !t.starts_with("_sqlx"))
        .collect();
    pool.pool.close().await;
    names
}

both_databases!(every_table_is_in_the_inventory);

async fn every_table_is_in_the_inventory(db: TestDb) {
    let listed = inventory(&doc());
    let schema = schema_tables(&db).await;
    let missing: Vec<_> = schema.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "docs/privacy.md does not say what these tables hold: {missing:?}"
    );
    let stale: Vec<_> = listed.difference(&schema).collect();
    assert!(
        stale.is_empty(),
        "docs/privacy.md lists tables the schema does not have: {stale:?}"
    );
    for t in quickcard_portal::domain::person::exported_tables() {
        assert!(listed.contains(t), "{t}");
    }
}

#[test]
fn the_readme_links_the_privacy_page() {
    let readme =
        std::fs::read_to_string(format!("{}/../README.md", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let security = &readme[readme.find("## Security in one paragraph").unwrap()..];
    let paragraph = &security[..security[3..]
        .find("\n## ")
        .map_or(security.len(), |e| e + 3)];
    assert!(paragraph.contains("(docs/privacy.md)"), "{paragraph}");
    assert!(paragraph.contains("#metrics"), "{paragraph}");
}
