//! Who a Chromebook sign-in signs in as, and with which ChromeOS password:
//! - the password is derived, never stored: the same user and generation give the same
//!   password, a revocation and `chromeos-password reset` change it, and no table of the
//!   database holds it;
//! - a NameID is accepted only in the e-mail domains configured for its school and role.
//!
//! Hand-made `AuthnRequest`s, no outside SP.
#![cfg(feature = "saml")]

mod common;
mod google_standin;

use std::io::Write as _;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::*;
use quickcard::{Claims, Flags, Role};
use quickcard_portal::config::idp::{SamlConfig, ServiceProviderEntry};
use quickcard_portal::domain::chromeos_password::{PasswordKey, chromeos_password};
use quickcard_portal::{ManualClock, db::store};
use serde_json::json;
use sqlx::{Column as _, Row as _};

const SP: &str = "google.com/a/example.edu";
const ACS: &str = "https://www.google.com/a/example.edu/acs";
const BIN: &str = env!("CARGO_BIN_EXE_quickcard-portal");

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `/saml/sso?…` for a fresh hand-made request of [`SP`].
fn sso_query(id: &str, now: u64) -> String {
    let xml = format!(
        "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"{id}\" \
         Version=\"2.0\" IssueInstant=\"{}\" \
         ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" \
         AssertionConsumerServiceURL=\"{ACS}\">\
         <saml:Issuer xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">{SP}</saml:Issuer>\
         </samlp:AuthnRequest>",
        quickcard_saml::format_xs_datetime(now)
    );
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(xml.as_bytes()).unwrap();
    format!(
        "/saml/sso?SAMLRequest={}&RelayState=x",
        urlencode(&STANDARD.encode(enc.finish().unwrap()))
    )
}

fn card(user: &str, issued: u64) -> String {
    let claims = Claims::new(
        user,
        Role::Student,
        "sch-lincoln",
        issued,
        issued + 300 * 86_400,
        Flags::default(),
    )
    .unwrap();
    quickcard::sign(&claims, &issuer())
}

/// A whole sign-in with `card`: the reply of the exchange.
async fn sign_in(server: &Server, n: &mut u32, now: u64, card: &str) -> Reply {
    *n += 1;
    let http = client();
    // From an attested district Chromebook: only such a sign-in gets a ChromeOS password.
    let url = format!("{}{}", server.url, sso_query(&format!("_r{n}"), now));
    let r = google_standin::attested_get(&http, &url, Some(google_standin::DISTRICT_DEVICE)).await;
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let id = loc.rsplit_once("request=").unwrap().1.to_string();
    reply(
        http.post(format!("{}/v1/signin/{id}/exchange", server.url))
            .json(&json!({ "card": card }))
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn password(r: &Reply) -> String {
    assert_eq!(r.status, 200, "{r:?}");
    r.body["sign_in"]["password"].as_str().unwrap().to_string()
}

/// Every value of every table, as text.
async fn dump(db: &quickcard_portal::Db, kind: &str) -> String {
    let list = if kind == "sqlite" {
        "SELECT name FROM sqlite_master WHERE type = 'table'"
    } else {
        "SELECT CAST(table_name AS TEXT) AS name FROM information_schema.tables \
         WHERE table_schema = current_schema()"
    };
    let tables: Vec<String> = sqlx::query(list)
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get("name").unwrap())
        .collect();
    assert!(tables.iter().any(|t| t == "audit"), "{tables:?}");
    assert!(
        !tables.iter().any(|t| t == "chromeos_secrets"),
        "the plain-text table is gone: {tables:?}"
    );
    let mut out = String::new();
    // sqlx's own table holds the migrations' text and checksums, nothing the portal wrote.
    for t in tables.iter().filter(|t| !t.starts_with("_sqlx")) {
        // Table names come from the database itself, not from input.
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
                } else if let Ok(v) = row.try_get::<Option<bool>, _>(i) {
                    format!("{v:?}")
                } else if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
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

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A portal acting as IdP for [`SP`] with `tweak` applied to its `[saml]` section, with
/// `roster` imported; the ChromeOS password key is `dir/chromeos-password.key`.
async fn idp_server(
    db: &TestDb,
    dir: &std::path::Path,
    roster: &str,
    tweak: impl FnOnce(&mut SamlConfig),
) -> Server {
    let now = now();
    let (key_file, cert_file) = (dir.join("idp.key"), dir.join("idp.crt"));
    quickcard_saml::IdpKey::generate("QuickCard test IdP", now - 3600)
        .unwrap()
        .save(&key_file, &cert_file)
        .unwrap();
    let password_key_file = dir.join("chromeos-password.key");
    PasswordKey::generate().save(&password_key_file).unwrap();
    let mut cfg = config(db);
    let mut saml = SamlConfig {
        key_file: Some(key_file),
        cert_file: Some(cert_file),
        chromeos_password_key_file: Some(password_key_file),
        service_providers: vec![ServiceProviderEntry {
            entity_id: SP.into(),
            acs_url: ACS.into(),
        }],
        schools: vec!["sch-lincoln".into()],
        name_id_rule: Some("{sourced_id}@students.example.edu".into()),
        verified_access: Some(google_standin::start(dir).await.1),
        ..SamlConfig::default()
    };
    tweak(&mut saml);
    cfg.saml = Some(saml);
    let clock = ManualClock::new(now);
    let server = Server::start(cfg, &clock).await;
    let path = dir.join("roster.csv");
    std::fs::write(&path, roster).unwrap();
    quickcard_portal::domain::roster_import::import(&server.state.db, &path, now as i64)
        .await
        .unwrap();
    server
}

async fn passwords_change_with_revocation_and_reset(db: TestDb) {
    let now = now();
    let dir = tempfile::tempdir().unwrap();
    let server = idp_server(&db, dir.path(), ROSTER, |_| {}).await;
    let password_key_file = dir.path().join("chromeos-password.key");
    let key = Arc::new(PasswordKey::load(&password_key_file).unwrap());
    let mut n = 0;

    // Same user, same generation: the same password, the derived one; another user's differs.
    let old_card = card("stu-maya", now - 86_400);
    let p0 = password(&sign_in(&server, &mut n, now, &old_card).await);
    assert_eq!(p0.len(), 43, "{p0}");
    assert_eq!(p0, chromeos_password(&key, "stu-maya", 0).expose());
    assert_eq!(
        password(&sign_in(&server, &mut n, now, &old_card).await),
        p0
    );
    let omar = password(&sign_in(&server, &mut n, now, &card("stu-omar", now - 86_400)).await);
    assert_ne!(omar, p0);

    // A revocation (what `revoke` and the admin API do) changes it: the new card gets a new
    // password, and the lost card gets nothing.
    store::revoke(
        &server.state.db,
        "stu-maya",
        now as i64 - 60,
        "lost",
        "test",
    )
    .await
    .unwrap();
    let refused = sign_in(&server, &mut n, now, &old_card).await;
    assert_eq!(refused.code(), "card_revoked", "{refused:?}");
    let new_card = card("stu-maya", now - 30);
    let p1 = password(&sign_in(&server, &mut n, now, &new_card).await);
    assert_ne!(p1, p0);
    assert_eq!(p1, chromeos_password(&key, "stu-maya", 1).expose());

    // `chromeos-password reset` changes it again; other users keep theirs.
    let cli_config = dir.path().join("portal.toml");
    std::fs::write(&cli_config, "").unwrap();
    let out = std::process::Command::new(BIN)
        .args(["--config"])
        .arg(&cli_config)
        .args(["chromeos-password", "reset", "--user", "stu-maya"])
        .env("QUICKCARD_PORTAL_DATABASE_URL", &db.url)
        .env_remove("CI")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("generation 2") && stdout.contains("local data is lost"),
        "{stdout}"
    );
    assert!(!stdout.contains(&p1), "{stdout}");
    let p2 = password(&sign_in(&server, &mut n, now, &new_card).await);
    assert!(p2 != p1 && p2 != p0);
    assert_eq!(
        password(&sign_in(&server, &mut n, now, &card("stu-omar", now - 86_400)).await),
        omar
    );
    let out = std::process::Command::new(BIN)
        .args(["--config"])
        .arg(&cli_config)
        .args(["chromeos-password", "reset", "--user", "stu-nobody"])
        .env("QUICKCARD_PORTAL_DATABASE_URL", &db.url)
        .env_remove("CI")
        .output()
        .unwrap();
    assert!(!out.status.success());

    // No table holds any of the passwords; the generations and the audit of the reset are there.
    let dump = dump(&server.state.db, db.kind).await;
    for p in [&p0, &p1, &p2, &omar] {
        assert!(!dump.contains(p.as_str()), "a password is in the database");
    }
    assert!(
        dump.contains("chromeos_password_generations.generation=Some(2)"),
        "{dump}"
    );
    assert!(dump.contains("chromeos_password_reset"), "{dump}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_passwords_are_derived_and_change_with_revocation_and_reset() {
    passwords_change_with_revocation_and_reset(sqlite_db()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_passwords_are_derived_and_change_with_revocation_and_reset() {
    if let Some(db) = postgres_db().await {
        passwords_change_with_revocation_and_reset(db).await;
    }
}

/// A roster e-mail outside the domains configured for the user's school and role is refused
/// (`no_google_account`, audited); one inside them signs in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_id_outside_the_domains_of_its_school_and_role_is_refused() {
    let db = sqlite_db();
    let dir = tempfile::tempdir().unwrap();
    let roster = "\
sourced_id,given_name,family_name,role,school_id,school_name,class_id,class_name,grade,email
stu-maya,Maya,Lopez,student,sch-lincoln,Lincoln Elementary,cls-1,Room 1,01,principal@example.edu
stu-omar,Omar,Haddad,student,sch-lincoln,Lincoln Elementary,cls-1,Room 1,01,omar@students.example.edu
";
    let server = idp_server(&db, dir.path(), roster, |s| {
        s.name_id_domains.0.insert(
            "*".into(),
            [
                (
                    "student".to_string(),
                    vec!["students.example.edu".to_string()],
                ),
                ("*".to_string(), vec!["example.edu".to_string()]),
            ]
            .into(),
        );
    })
    .await;
    let now = now();
    let mut n = 0;
    let refused = sign_in(&server, &mut n, now, &card("stu-maya", now - 86_400)).await;
    assert_eq!(refused.code(), "no_google_account", "{refused:?}");
    assert!(refused.body["sign_in"].is_null(), "{refused:?}");
    let audit = store::audit_rows(&server.state.db, Some("stu-maya"), 0, 100)
        .await
        .unwrap();
    assert!(
        audit.iter().any(|r| r.result == "no_google_account"
            && r.detail.contains("principal@example.edu")
            && r.detail.contains("not in a domain allowed for a student")),
        "{audit:?}"
    );
    let ok = sign_in(&server, &mut n, now, &card("stu-omar", now - 86_400)).await;
    assert_eq!(ok.status, 200, "{ok:?}");
    assert_eq!(ok.body["sign_in"]["email"], "omar@students.example.edu");
    server.stop().await;
}
