//! Crafted card texts against the real server: every place the portal reads card text or a
//! user id answers with an error JSON, never with a dropped connection (a panic in a handler
//! closes the connection without a reply), and whitespace around a card is refused as
//! FORMAT.md says rather than trimmed.

mod common;

use common::{T0, TestDb, World, reply};
use quickcard::{Claims, Flags, Role, SchoolTag, Subject};
use serde_json::json;

both_databases!(
    a_uuid_shaped_card_subject_with_an_extra_dash_gets_an_error_reply_not_a_dropped_connection,
    whitespace_around_a_card_is_malformed_not_trimmed,
    a_card_that_expires_when_it_is_issued_is_malformed_not_expired,
);

/// Shaped like a UUID (36 characters, dashes at 8, 13, 18 and 23) with one dash more.
const CRAFTED_ID: &str = "0f8e2a4c-1b3d-4e5f-8a9b-0c1d2e3f4a-b";

/// A card for `subject` signed by the trusted test issuer. Built from the claims' fields, not
/// `Claims::new`, so that it is made the same way whatever the parser thinks of the id.
fn card_for(subject: Subject, issued: u64, expires: u64) -> String {
    let claims = Claims {
        subject,
        role: Role::Student,
        school: SchoolTag::of("sch-lincoln"),
        issued_at: issued,
        expires_at: expires,
        flags: Flags::default(),
    };
    quickcard::sign(&claims, &common::issuer())
}

/// The same card with the last signature byte changed: what a sticker with a trusted key id
/// and a made-up signature looks like.
fn forged(card: &str) -> String {
    let mut bytes = quickcard::base45::decode(&card.as_bytes()[3..]).unwrap();
    *bytes.last_mut().unwrap() ^= 0x55;
    format!("QC:{}", quickcard::base45::encode(&bytes))
}

fn crafted_card() -> String {
    forged(&card_for(
        Subject::Text(CRAFTED_ID.into()),
        T0 - 86_400,
        T0 + 86_400,
    ))
}

impl World {
    async fn exchange_bearer(
        &self,
        bearer: Option<&str>,
        body: serde_json::Value,
    ) -> common::Reply {
        let mut req = self.http.post(self.url("/v1/exchange")).json(&body);
        if let Some(b) = bearer {
            req = req.header("Authorization", format!("Bearer {b}"));
        }
        let r = req.send().await;
        reply(r.expect("an HTTP reply, not a dropped connection")).await
    }
}

async fn a_uuid_shaped_card_subject_with_an_extra_dash_gets_an_error_reply_not_a_dropped_connection(
    db: TestDb,
) {
    let admin = quickcard_portal::domain::secrets::Secret::token("qca_");
    let hash = admin.hash();
    let keys = tempfile::tempdir().unwrap();
    let saml_dir = keys.path().to_path_buf();
    let w = World::with(db, move |c| {
        c.admin.token_sha256 = Some(hash);
        #[cfg(feature = "saml")]
        with_saml(c, &saml_dir);
        let _ = saml_dir;
    })
    .await;
    let card = crafted_card();

    // As the exchange body, with the kiosk's credential: the signature is checked and fails.
    let r = w.exchange(&card).await;
    assert_eq!(r.status, 403, "{r:?}");
    assert_eq!(r.code(), "bad_signature");
    assert!(r.body["error"]["message"].is_string(), "{r:?}");

    // The card is read before the kiosk is looked up, so any Bearer string reached the parser.
    for bearer in [Some("qck_not-a-kiosk"), Some(card.as_str()), None] {
        let r = w.exchange_bearer(bearer, json!({ "card": card })).await;
        assert_eq!(r.status, 401, "{bearer:?}: {r:?}");
        assert_eq!(r.code(), "kiosk_unauthorized");
    }
    // The crafted text as the kiosk credential, with a harmless body.
    let r = w
        .exchange_bearer(Some(&card), json!({ "card": "hello" }))
        .await;
    assert_eq!(r.code(), "kiosk_unauthorized", "{r:?}");

    // Well signed, the id is a text id that simply is not on the roster.
    let signed = card_for(Subject::Text(CRAFTED_ID.into()), T0 - 86_400, T0 + 86_400);
    let r = w.exchange(&signed).await;
    assert!(r.status.is_client_error(), "{r:?}");
    assert_eq!(r.code(), "unknown_user");

    // The admin API reads user ids with the same parser.
    let r = reply(
        w.http
            .post(w.url(&format!("/v1/admin/users/{CRAFTED_ID}/revoke")))
            .bearer_auth(admin.expose())
            .send()
            .await
            .expect("an HTTP reply"),
    )
    .await;
    assert_eq!(r.status, 404, "{r:?}");
    assert_eq!(r.code(), "unknown_user");
    let r = reply(
        w.http
            .get(w.url(&format!("/v1/admin/audit?user={CRAFTED_ID}")))
            .bearer_auth(admin.expose())
            .send()
            .await
            .expect("an HTTP reply"),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");

    // And the portal goes on serving.
    let ok = w.card("stu-maya", Role::Student, "sch-lincoln");
    assert_eq!(w.exchange(&ok).await.status, 200);
    #[cfg(feature = "saml")]
    signin_exchange_refuses_the_crafted_card(&w, &card).await;
    w.server.stop().await;
}

/// Chromebook sign-in for Lincoln, answering a made-up service provider.
#[cfg(feature = "saml")]
fn with_saml(c: &mut quickcard_portal::config::Config, dir: &std::path::Path) {
    use quickcard_portal::config::idp::{SamlConfig, ServiceProviderEntry};
    let (key_file, cert_file) = (dir.join("idp.key"), dir.join("idp.crt"));
    quickcard_saml::IdpKey::generate("QuickCard test IdP", T0 - 3600)
        .unwrap()
        .save(&key_file, &cert_file)
        .unwrap();
    c.saml = Some(SamlConfig {
        key_file: Some(key_file),
        // ChromeOS passwords are derived from this key (made in memory here).
        generated_password_key: Some(std::sync::Arc::new(
            quickcard_portal::domain::chromeos_password::PasswordKey::generate(),
        )),
        cert_file: Some(cert_file),
        service_providers: vec![ServiceProviderEntry {
            entity_id: SP.into(),
            acs_url: format!("{SP}/acs"),
        }],
        schools: vec!["sch-lincoln".into()],
        name_id_rule: Some("{sourced_id}@students.example.edu".into()),
        // These tests are about the cards and replies, not where they come from.
        accept_unbound_signin_risk: true,
        ..SamlConfig::default()
    });
}

#[cfg(feature = "saml")]
const SP: &str = "https://sp.example";

/// The Chromebook sign-in's exchange verifies cards through the same path: a pending sign-in
/// is stored directly (the SAML round trip itself is tested in `signin.rs`).
#[cfg(feature = "saml")]
async fn signin_exchange_refuses_the_crafted_card(w: &World, card: &str) {
    use quickcard_portal::db::store::{self, PendingSignIn};
    let id = "crafted-card-sign-in-request-0001";
    let pending = PendingSignIn {
        id_hash: quickcard_portal::domain::secrets::hash_token(id),
        issuer: SP.into(),
        request_id: "_crafted".into(),
        acs_url: format!("{SP}/acs"),
        relay_state: None,
        saml_request: String::new(),
        created_at: T0 as i64,
        expires_at: T0 as i64 + 600,
        answered_at: None,
        user_id: None,
        device_id: None,
    };
    assert!(
        store::insert_pending_sign_in(&w.server.state.db, &pending, T0 as i64)
            .await
            .unwrap()
    );
    for (text, code) in [
        (card.to_string(), "bad_signature"),
        (format!("{card}\n"), "malformed"),
    ] {
        let r = reply(
            w.http
                .post(w.url(&format!("/v1/signin/{id}/exchange")))
                .json(&json!({ "card": text }))
                .send()
                .await
                .expect("an HTTP reply, not a dropped connection"),
        )
        .await;
        assert!(r.status.is_client_error(), "{r:?}");
        assert_eq!(r.code(), code, "{r:?}");
    }
}

async fn whitespace_around_a_card_is_malformed_not_trimmed(db: TestDb) {
    let w = World::new(db).await;
    let card = w.card("stu-maya", Role::Student, "sch-lincoln");
    for text in [
        format!("{card} "),
        format!("{card}\t"),
        format!("{card}\n"),
        format!("{card}\r\n"),
        format!(" {card}"),
        format!("\n{card}"),
    ] {
        let r = w.exchange(&text).await;
        assert_eq!(r.status, 422, "{text:?}: {r:?}");
        assert_eq!(r.code(), "malformed", "{text:?}");
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("whitespace"),
            "{r:?}"
        );
    }
    // The text exactly as printed still signs in.
    assert_eq!(w.exchange(&card).await.status, 200);
    w.server.stop().await;
}

async fn a_card_that_expires_when_it_is_issued_is_malformed_not_expired(db: TestDb) {
    let w = World::new(db).await;
    let uuid = Subject::parse("0F8E2A4C-1B3D-4E5F-8A9B-0C1D2E3F4A5B").unwrap();
    for (issued, expires) in [(T0 - 86_400, T0 - 86_400), (T0 - 10, T0 - 20)] {
        let r = w.exchange(&card_for(uuid.clone(), issued, expires)).await;
        assert_eq!(r.status, 422, "{r:?}");
        assert_eq!(r.code(), "malformed");
    }
    w.server.stop().await;
}
