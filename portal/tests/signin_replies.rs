//! What the Chromebook sign-in routes send, without an outside service provider (hand-made
//! `AuthnRequest`s): the sign-in page's config lists revoked users only as salted hashes, and
//! no reply of the sign-in may be cached.
#![cfg(feature = "saml")]

mod common;
mod google_standin;

use std::io::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::*;
use quickcard::{Claims, Flags, Role};
use quickcard_portal::ManualClock;
use quickcard_portal::config::idp::{SamlConfig, ServiceProviderEntry};
use quickcard_portal::db::store;
use serde_json::json;
use sha2::Digest;

const SP: &str = "google.com/a/example.edu";
const ACS: &str = "https://www.google.com/a/example.edu/acs";

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

fn sha256_hex(s: &str) -> String {
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signin_config_hides_revoked_ids_and_nothing_is_cached() {
    let db = sqlite_db();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let dir = tempfile::tempdir().unwrap();
    let (key_file, cert_file) = (dir.path().join("idp.key"), dir.path().join("idp.crt"));
    quickcard_saml::IdpKey::generate("QuickCard test IdP", now - 3600)
        .unwrap()
        .save(&key_file, &cert_file)
        .unwrap();
    let mut cfg = config(&db);
    cfg.saml = Some(SamlConfig {
        key_file: Some(key_file),
        // ChromeOS passwords are derived from this key (made in memory here).
        generated_password_key: Some(std::sync::Arc::new(
            quickcard_portal::domain::chromeos_password::PasswordKey::generate(),
        )),
        cert_file: Some(cert_file),
        service_providers: vec![ServiceProviderEntry {
            entity_id: SP.into(),
            acs_url: ACS.into(),
        }],
        schools: vec!["sch-lincoln".into()],
        name_id_rules: [(
            "sch-lincoln".to_string(),
            "{sourced_id}@students.example.edu".to_string(),
        )]
        .into(),
        // From an attested Chromebook, so that the reply carries the ChromeOS password.
        verified_access: Some(google_standin::start(dir.path()).await.1),
        ..SamlConfig::default()
    });
    let clock = ManualClock::new(now);
    let server = Server::start(cfg, &clock).await;
    let roster = dir.path().join("roster.csv");
    std::fs::write(&roster, ROSTER).unwrap();
    quickcard_portal::domain::roster_import::import(&server.state.db, &roster, now as i64)
        .await
        .unwrap();
    store::revoke(&server.state.db, "stu-omar", now as i64, "lost", "test")
        .await
        .unwrap();
    let http = client();
    let url = |p: &str| format!("{}{p}", server.url);
    let no_store = |what: &str, h: &reqwest::header::HeaderMap| {
        let cache: Vec<_> = h.get_all("cache-control").iter().collect();
        assert_eq!(cache, ["no-store"], "{what}: {h:?}");
    };

    // A pending sign-in.
    let r = google_standin::attested_get(
        &http,
        &url(&sso_query("_r1", now)),
        Some(google_standin::DISTRICT_DEVICE),
    )
    .await;
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    no_store("/saml/sso 303", r.headers());
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let id = loc.rsplit_once("request=").unwrap().1.to_string();

    // The config: the revoked user only as a salted hash, salted afresh on every reply.
    let config = || async {
        reply(
            http.get(url(&format!("/v1/signin/{id}/config")))
                .send()
                .await
                .unwrap(),
        )
        .await
    };
    let c = config().await;
    assert_eq!(c.status, 200, "{c:?}");
    no_store("sign-in config", &c.headers);
    assert!(!c.body.to_string().contains("stu-omar"), "{c:?}");
    let revoked = c.body["revoked"].as_array().unwrap();
    assert_eq!(revoked.len(), 1, "{c:?}");
    let salt = revoked[0]["salt"].as_str().unwrap();
    assert!(salt.len() >= 32, "{salt}");
    assert_eq!(
        revoked[0]["user_hash"],
        sha256_hex(&format!("{salt}stu-omar"))
    );
    assert_eq!(revoked[0]["issued_before"], now);
    let again = config().await;
    assert_ne!(again.body["revoked"][0]["salt"], revoked[0]["salt"]);
    assert_ne!(
        again.body["revoked"][0]["user_hash"],
        revoked[0]["user_hash"]
    );

    // The exchange reply (SAML response, ChromeOS password) and the other sign-in replies.
    let issued = now - 86_400;
    let card = |user: &str| {
        let claims = Claims::new(
            user,
            Role::Student,
            "sch-lincoln",
            issued,
            issued + 365 * 86_400,
            Flags::default(),
        )
        .unwrap();
        quickcard::sign(&claims, &issuer())
    };
    let refused = reply(
        http.post(url(&format!("/v1/signin/{id}/exchange")))
            .json(&json!({"card": card("stu-omar")}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(refused.code(), "card_revoked", "{refused:?}");
    no_store("sign-in exchange refused", &refused.headers);
    let ok = reply(
        http.post(url(&format!("/v1/signin/{id}/exchange")))
            .json(&json!({"card": card("stu-maya")}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ok.status, 200, "{ok:?}");
    assert!(!ok.body["sign_in"]["password"].as_str().unwrap().is_empty());
    no_store("sign-in exchange (SAML response, password)", &ok.headers);
    for (what, path) in [
        ("used sign-in config", format!("/v1/signin/{id}/config")),
        (
            "refused request page",
            "/saml/sso?SAMLRequest=x".to_string(),
        ),
        ("metadata", "/saml/metadata".to_string()),
    ] {
        let r = http.get(url(&path)).send().await.unwrap();
        no_store(what, r.headers());
    }
    server.stop().await;
}
