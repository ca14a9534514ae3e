//! Chromebook sign-in end to end over real HTTP: an independent SAML service provider
//! (pysaml2, configured like Google: `tests/sp/google_sp.py`) on loopback, the real portal on a
//! real database (SQLite; PostgreSQL too when `QUICKCARD_TEST_POSTGRES_URL` is set), and
//! `xmlsec1` checking the signatures. Flow: SP `/login` → portal `/saml/sso` (303 to the sign-in
//! page) → `/v1/signin/{id}/config` → `/v1/signin/{id}/exchange` with a card → the form posted
//! to the SP's `/acs` → the SP accepts it for the right e-mail — and every negative is refused
//! by the SP or the portal with its own reason, and audited.

mod common;
mod signin_support;
#[path = "../saml/tests/common/xmlsec_check.rs"]
mod xmlsec_check;

use std::io::Write as _;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::*;
use quickcard::{Claims, Flags, IssuerKey, Role};
use quickcard_portal::ManualClock;
use quickcard_portal::config::Config;
use quickcard_portal::config::idp::{SamlConfig, ServiceProviderEntry};
use quickcard_portal::db::store::{self, AuditRow};
use reqwest::StatusCode;
use serde_json::{Value, json};
use signin_support::{Sp, urlencode};
use xmlsec_check::xmlsec_verify;

const ROSTER_WITH_EMAIL: &str = "\
sourced_id,given_name,family_name,role,school_id,school_name,class_id,class_name,grade,email
stu-maya,Maya,Lopez,student,sch-lincoln,Lincoln Elementary,cls-1,Room 1,01,
stu-omar,Omar,Haddad,student,sch-lincoln,Lincoln Elementary,cls-1,Room 1,01,
stu-zed,Zed,Locked,student,sch-lincoln,Lincoln Elementary,cls-1,Room 1,01,
tch-ito,Kenji,Ito,teacher,sch-lincoln,Lincoln Elementary,cls-1,Room 1,,Kenji.Ito@example.edu
stu-wes,Wes,Tern,student,sch-west,West Primary,cls-w,West 1,02,
stu-eve,Eve,East,student,sch-east,East Primary,cls-e,East 1,02,
";

const OTHER_SP: &str = "https://other.example/sp";
use signin_support::OTHER_ACS;

fn real_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A portal acting as the IdP of `sp` (and of [`OTHER_SP`]), with its key and certificate
/// made by the library and loaded from files, on a clock at the real time (the SP uses it).
struct World {
    server: Server,
    clock: ManualClock,
    http: reqwest::Client,
    sp: Sp,
    cert_pem: PathBuf,
    _dirs: (tempfile::TempDir, TestDb),
}

impl World {
    async fn new(db: TestDb, tweak: impl FnOnce(&mut Config)) -> World {
        let sp = Sp::start("google.com/a/example.edu");
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("idp.key");
        let cert_file = dir.path().join("idp.crt");
        let now = real_now();
        quickcard_saml::IdpKey::generate("QuickCard test IdP", now - 3600)
            .unwrap()
            .save(&key_file, &cert_file)
            .unwrap();
        let mut rules = std::collections::BTreeMap::new();
        rules.insert(
            "sch-lincoln".to_string(),
            "{sourced_id}@students.example.edu".to_string(),
        );
        let mut cfg = config(&db);
        cfg.saml = Some(SamlConfig {
            key_file: Some(key_file),
            // ChromeOS passwords are derived from this key (made in memory here).
            generated_password_key: Some(std::sync::Arc::new(
                quickcard_portal::domain::chromeos_password::PasswordKey::generate(),
            )),
            cert_file: Some(cert_file.clone()),
            service_providers: vec![
                ServiceProviderEntry {
                    entity_id: sp.entity_id.clone(),
                    acs_url: sp.acs.clone(),
                },
                ServiceProviderEntry {
                    entity_id: OTHER_SP.into(),
                    acs_url: OTHER_ACS.into(),
                },
            ],
            schools: vec!["sch-lincoln".into(), "sch-west".into()],
            name_id_rules: rules,
            // Both schools' Chromebooks reach the portal from loopback here.
            networks: [
                (
                    "sch-lincoln".to_string(),
                    vec!["127.0.0.0/8".to_string(), "::1".to_string()],
                ),
                (
                    "sch-west".to_string(),
                    vec!["127.0.0.0/8".to_string(), "::1".to_string()],
                ),
            ]
            .into(),
            ..SamlConfig::default()
        });
        cfg.lockout.max_failures = 3;
        tweak(&mut cfg);
        let clock = ManualClock::new(now);
        let server = Server::start(cfg, &clock).await;
        let roster = dir.path().join("roster.csv");
        std::fs::write(&roster, ROSTER_WITH_EMAIL).unwrap();
        quickcard_portal::domain::roster_import::import(&server.state.db, &roster, now as i64)
            .await
            .unwrap();
        let pin = quickcard_portal::domain::secrets::hash_pin("1234").unwrap();
        assert!(
            store::set_pin(&server.state.db, "tch-ito", &pin, now as i64)
                .await
                .unwrap()
        );
        let http = client();
        // The admin downloads the metadata from the portal and gives it to the SP (as to Google).
        let r = http
            .get(format!("{}/saml/metadata", server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.headers()["content-type"].to_str().unwrap(),
            "application/samlmetadata+xml"
        );
        std::fs::write(&sp.metadata, r.text().await.unwrap()).unwrap();
        World {
            server,
            clock,
            http,
            sp,
            cert_pem: cert_file,
            _dirs: (dir, db),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url)
    }

    fn now(&self) -> u64 {
        use quickcard_portal::Clock;
        self.clock.now()
    }

    fn card(&self, user: &str, role: Role, school: &str) -> String {
        self.card_with(user, role, school, Flags::default(), &issuer())
    }

    fn card_with(
        &self,
        user: &str,
        role: Role,
        school: &str,
        flags: Flags,
        key: &IssuerKey,
    ) -> String {
        let issued = self.now() - 86_400;
        let claims = Claims::new(user, role, school, issued, issued + 365 * 86_400, flags).unwrap();
        quickcard::sign(&claims, key)
    }

    /// Follows an `/saml/sso` URL: the pending sign-in id from the 303.
    async fn sso(&self, sso_url: &str) -> String {
        let r = self.http.get(sso_url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
        let loc = r.headers()["location"].to_str().unwrap().to_string();
        let prefix = format!("{}/kiosk/?mode=signin&request=", self.server.url);
        let id = loc
            .strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("{loc}"))
            .to_string();
        assert!(id.len() >= 22, "{id}");
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{id}"
        );
        id
    }

    /// SP `/login` → portal `/saml/sso` → the pending sign-in id.
    async fn start(&self) -> String {
        let sso = self.sp.login(&self.http).await;
        assert!(
            sso.starts_with(&self.url("/saml/sso?SAMLRequest=")),
            "{sso}"
        );
        self.sso(&sso).await
    }

    async fn config(&self, id: &str) -> Reply {
        reply(
            self.http
                .get(self.url(&format!("/v1/signin/{id}/config")))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    async fn exchange(&self, id: &str, card: &str, pin: Option<&str>) -> Reply {
        let mut body = json!({ "card": card });
        if let Some(p) = pin {
            body["pin"] = json!(p);
        }
        reply(
            self.http
                .post(self.url(&format!("/v1/signin/{id}/exchange")))
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    async fn audit(&self) -> Vec<AuditRow> {
        store::audit_rows(&self.server.state.db, None, 0, 100_000)
            .await
            .unwrap()
    }

    /// The sign-in audit rows with this result.
    async fn audited(&self, result: &str) -> Vec<AuditRow> {
        self.audit()
            .await
            .into_iter()
            .filter(|r| r.kind == "chromebook_sign_in" && r.result == result)
            .collect()
    }
}

fn xml_of(form: &Value) -> String {
    String::from_utf8(
        STANDARD
            .decode(form["saml_response"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap()
}

fn attr_of(xml: &str, tag_start: &str, name: &str) -> String {
    let tag = &xml[xml.find(tag_start).unwrap()..];
    let tag = &tag[..tag.find('>').unwrap()];
    let key = format!(" {name}=\"");
    let v = &tag[tag.find(&key).unwrap() + key.len()..];
    v[..v.find('"').unwrap()].to_string()
}

/// Raw DEFLATE + base64 + percent-encoding of a hand-made AuthnRequest.
fn redirect_query(xml: &str) -> String {
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(xml.as_bytes()).unwrap();
    format!(
        "SAMLRequest={}&RelayState={}",
        urlencode(&STANDARD.encode(enc.finish().unwrap())),
        urlencode("https://www.google.com/a/example.edu/ServiceLogin")
    )
}

fn request_xml(id: &str, now: u64, issuer: &str, acs: &str) -> String {
    format!(
        "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"{id}\" \
         Version=\"2.0\" IssueInstant=\"{}\" \
         ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" \
         AssertionConsumerServiceURL=\"{acs}\">\
         <saml:Issuer xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">{issuer}</saml:Issuer>\
         </samlp:AuthnRequest>",
        quickcard_saml::format_xs_datetime(now)
    )
}

/// The main flow, and the negatives on it (both databases).
async fn whole_flow(db: TestDb) {
    let w = World::new(db, |_| {}).await;

    // --- a student: SP /login → /saml/sso → config → exchange → SP /acs ---
    let id = w.start().await;
    let c = w.config(&id).await;
    assert_eq!(c.status, 200, "{c:?}");
    assert_eq!(c.body["school_id"], "");
    assert_eq!(c.body["trust"][0]["public"], issuer().public().to_string());
    assert!(c.body["revoked"].as_array().unwrap().is_empty());
    assert_eq!(c.body["idle_timeout_secs"], 120);
    let expires_at = c.body["expires_at"].as_i64().unwrap();
    assert!(expires_at > w.now() as i64 && expires_at <= w.now() as i64 + 660);

    let maya = w.card("stu-maya", Role::Student, "sch-lincoln");
    let r = w.exchange(&id, &maya, None).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["token"], "");
    assert_eq!(r.body["apps"], json!([]));
    assert_eq!(r.body["user"]["id"], "stu-maya");
    assert_eq!(r.body["user"]["role"], "student");
    assert_eq!(r.body["second_factor_used"], false);
    let form = r.body["sign_in"].clone();
    assert_eq!(form["acs_url"], w.sp.acs.as_str());
    assert_eq!(form["email"], "stu-maya@students.example.edu");
    assert!(
        form["relay_state"]
            .as_str()
            .unwrap()
            .starts_with("https://www.google.com/a/example.edu/ServiceLogin")
    );
    // These Chromebooks are on the school's network but not attested by Verified Access: the
    // sign-in works, the ChromeOS password is withheld (`signin_identity.rs` has the attested
    // sign-ins that get it).
    assert_eq!(
        form["password"], "",
        "no ChromeOS password without attestation"
    );
    let xml = xml_of(&form);
    let not_on_or_after = attr_of(&xml, "<saml:Conditions", "NotOnOrAfter");
    assert_eq!(
        quickcard_saml::parse_xs_datetime(&not_on_or_after).unwrap() as i64,
        r.body["expires_at"].as_i64().unwrap()
    );
    // xmlsec1 verifies both signatures with the certificate the admin downloads.
    let pem = w
        .http
        .get(w.url("/saml/certificate.pem"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(pem, std::fs::read_to_string(&w.cert_pem).unwrap());
    let downloaded = w._dirs.0.path().join("downloaded.pem");
    std::fs::write(&downloaded, &pem).unwrap();
    let rid = attr_of(&xml, "<samlp:Response", "ID");
    let aid = attr_of(&xml, "<saml:Assertion", "ID");
    assert!(xmlsec_verify(&xml, &downloaded, &rid), "Response signature");
    assert!(
        xmlsec_verify(&xml, &downloaded, &aid),
        "Assertion signature"
    );
    // The certificate in the signature is the downloaded one.
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(xml.contains(&format!("<ds:X509Certificate>{b64}</ds:X509Certificate>")));

    // Tampered and wrapped versions are refused by the SP before the real one is posted.
    let evil_email = "principal@example.edu";
    let tampered_name = xml.replace(
        ">stu-maya@students.example.edu<",
        &format!(">{evil_email}<"),
    );
    assert_ne!(tampered_name, xml);
    let later = quickcard_saml::format_xs_datetime(w.now() + 86_400);
    let tampered_attr = xml.replacen(
        &format!("NotOnOrAfter=\"{not_on_or_after}\""),
        &format!("NotOnOrAfter=\"{later}\""),
        1,
    );
    assert_ne!(tampered_attr, xml);
    let signed = {
        let s = xml.find("<saml:Assertion ").unwrap();
        let e = xml.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
        xml[s..e].to_string()
    };
    let evil = {
        let s = signed.find("<ds:Signature ").unwrap();
        let e = signed.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
        format!("{}{}", &signed[..s], &signed[e..])
            .replace(
                ">stu-maya@students.example.edu<",
                &format!(">{evil_email}<"),
            )
            .replacen(&format!("ID=\"{aid}\""), "ID=\"_evil\"", 1)
    };
    // XSW1: an unsigned evil assertion before the signed one.
    let xsw1 = xml.replacen(&signed, &format!("{evil}{signed}"), 1);
    // XSW5: the signed assertion wrapped inside the evil one.
    let xsw5 = xml.replacen(
        &signed,
        &evil.replacen(
            "</saml:Assertion>",
            &format!("{signed}</saml:Assertion>"),
            1,
        ),
        1,
    );
    let relay = form["relay_state"].as_str().unwrap();
    for (name, bad) in [
        ("tampered NameID", tampered_name),
        ("tampered NotOnOrAfter attribute", tampered_attr),
        ("XSW1", xsw1),
        ("XSW5", xsw5),
    ] {
        let (status, text) =
            w.sp.post_raw(&w.http, &w.sp.acs, &STANDARD.encode(bad), relay)
                .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}: {text}");
        assert!(text.starts_with("refused: "), "{name}: {text}");
    }
    // A changed RelayState is refused too.
    let (status, _) =
        w.sp.post_raw(
            &w.http,
            &w.sp.acs,
            form["saml_response"].as_str().unwrap(),
            "https://evil.example/",
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The real one: accepted, for the right e-mail.
    let (status, text) = w.sp.post(&w.http, &form).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(
        text.contains("signed in as stu-maya@students.example.edu"),
        "{text}"
    );
    // Replayed: refused by the SP.
    let (status, text) = w.sp.post(&w.http, &form).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{text}");
    let results = w.sp.results(&w.http).await;
    assert_eq!(results.iter().filter(|r| r["ok"] == true).count(), 1);
    assert_eq!(results.last().unwrap()["ok"], false);

    // The same pending sign-in cannot be answered twice.
    let again = w.exchange(&id, &maya, None).await;
    assert_eq!(again.status, StatusCode::GONE);
    assert_eq!(again.code(), "signin_used");
    let c = w.config(&id).await;
    assert_eq!(c.code(), "signin_used");
    assert_eq!(w.audited("signin_used").await.len(), 1);

    // A second sign-in of the same child works the same way.
    let id2 = w.start().await;
    let r2 = w.exchange(&id2, &maya, None).await;
    assert_eq!(r2.status, 200, "{r2:?}");
    assert_eq!(r2.body["sign_in"]["password"], "");
    let (status, _) = w.sp.post(&w.http, &r2.body["sign_in"]).await;
    assert_eq!(status, StatusCode::OK);

    // --- a teacher's PIN card: the roster e-mail, verbatim ---
    let ito = w.card_with(
        "tch-ito",
        Role::Teacher,
        "sch-lincoln",
        Flags {
            second_factor: true,
        },
        &issuer(),
    );
    let id3 = w.start().await;
    let r = w.exchange(&id3, &ito, None).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "pin_required")
    );
    let r = w.exchange(&id3, &ito, Some("9999")).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "wrong_pin")
    );
    assert_eq!(r.body["error"]["attempts_left"], 2);
    let r = w.exchange(&id3, &ito, Some("1234")).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["second_factor_used"], true);
    assert_eq!(r.body["sign_in"]["email"], "Kenji.Ito@example.edu");
    assert_eq!(r.body["sign_in"]["password"], "");
    let (status, text) = w.sp.post(&w.http, &r.body["sign_in"]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        text.contains("signed in as Kenji.Ito@example.edu"),
        "{text}"
    );

    let ok_rows = w.audited("ok").await;
    assert_eq!(ok_rows.len(), 3);
    assert!(ok_rows[0].detail.contains("stu-maya@students.example.edu"));
    assert!(ok_rows[0].card_id.is_some());
    assert!(ok_rows[0].detail.contains("a device that was not attested"));
    // No portal session is made for a Chromebook sign-in.
    assert_eq!(
        store::live_sessions_of(&w.server.state.db, "stu-maya", w.now() as i64)
            .await
            .unwrap(),
        0
    );
    w.server.stop().await;
}

/// Portal-side refusals: replayed AuthnRequest, unknown SP, foreign ACS, expired sign-in,
/// revoked card, other school, unknown key, lockout, no Google account; the SP refuses an
/// assertion for another audience.
async fn refusals(db: TestDb) {
    let w = World::new(db, |_| {}).await;

    // The same AuthnRequest twice: refused the second time, with an HTML page.
    let sso = w.sp.login(&w.http).await;
    w.sso(&sso).await;
    let r = w.http.get(&sso).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = r.text().await.unwrap();
    assert!(page.contains("already used"), "{page}");
    assert!(page.contains("signin_replayed"));
    assert!(!page.contains("<samlp:"));
    assert_eq!(w.audited("signin_replayed").await.len(), 1);

    // Unknown SP, and a known SP with a foreign ACS URL.
    let now = w.now();
    for (issuer, acs, code, says) in [
        (
            "google.com/a/evil.example",
            OTHER_ACS,
            "saml_unknown_issuer",
            "not set up for card sign-in",
        ),
        (
            w.sp.entity_id.as_str(),
            "https://evil.example/acs",
            "saml_acs_not_allowed",
            "not allowed",
        ),
    ] {
        let q = redirect_query(&request_xml("id-evil-1", now, issuer, acs));
        let r = w
            .http
            .get(w.url(&format!("/saml/sso?{q}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let page = r.text().await.unwrap();
        assert!(page.contains(code) && page.contains(says), "{page}");
        let rows = w.audited(code).await;
        assert_eq!(rows.len(), 1, "{code}");
        assert!(rows[0].flagged);
    }
    // Garbage and a missing request: a page, not a crash.
    for q in ["", "SAMLRequest=%%%", "SAMLRequest=bm90IGRlZmxhdGVk"] {
        let r = w
            .http
            .get(w.url(&format!("/saml/sso?{q}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{q}");
    }

    // Wrong audience: a response the portal made for another SP is refused by ours.
    let q = redirect_query(&request_xml("id-other-1", now, OTHER_SP, OTHER_ACS));
    let other = w.sso(&w.url(&format!("/saml/sso?{q}"))).await;
    let maya = w.card("stu-maya", Role::Student, "sch-lincoln");
    let r = w.exchange(&other, &maya, None).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["sign_in"]["acs_url"], OTHER_ACS);
    let xml = xml_of(&r.body["sign_in"]);
    assert!(xml.contains(&format!("<saml:Audience>{OTHER_SP}</saml:Audience>")));
    let (status, text) = w.sp.post(&w.http, &r.body["sign_in"]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{text}");

    // Revoked card.
    let omar = w.card("stu-omar", Role::Student, "sch-lincoln");
    store::revoke(
        &w.server.state.db,
        "stu-omar",
        w.now() as i64,
        "lost",
        "test",
    )
    .await
    .unwrap();
    let id = w.start().await;
    let c = w.config(&id).await;
    // Listed as a salted hash only (see tests/signin_replies.rs).
    assert!(!c.body.to_string().contains("stu-omar"), "{c:?}");
    assert_eq!(c.body["revoked"].as_array().unwrap().len(), 1, "{c:?}");
    let r = w.exchange(&id, &omar, None).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "card_revoked")
    );
    // A card of a school this sign-in does not serve, and one of an unknown key.
    let eve = w.card("stu-eve", Role::Student, "sch-east");
    let r = w.exchange(&id, &eve, None).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "wrong_school")
    );
    let stranger = w.card_with(
        "stu-maya",
        Role::Student,
        "sch-lincoln",
        Flags::default(),
        &IssuerKey::from_seed([9; 32], "Another district"),
    );
    let r = w.exchange(&id, &stranger, None).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "unknown_key"));
    // A forged card.
    let mut forged = maya.clone().into_bytes();
    let n = forged.len();
    forged[n - 3] = if forged[n - 3] == b'A' { b'B' } else { b'A' };
    let r = w
        .exchange(&id, std::str::from_utf8(&forged).unwrap(), None)
        .await;
    assert!(r.status.is_client_error(), "{r:?}");
    // A user with no Google e-mail (West has no rule and Wes no roster e-mail).
    let wes = w.card("stu-wes", Role::Student, "sch-west");
    let r = w.exchange(&id, &wes, None).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "no_google_account")
    );
    // None of these used up the pending sign-in.
    let c = w.config(&id).await;
    assert_eq!(c.status, 200);

    // Lockout after wrong PINs (max_failures = 3): then even the right PIN is refused.
    let ito = w.card_with(
        "tch-ito",
        Role::Teacher,
        "sch-lincoln",
        Flags {
            second_factor: true,
        },
        &issuer(),
    );
    for left in [2, 1] {
        let r = w.exchange(&id, &ito, Some("0000")).await;
        assert_eq!(r.code(), "wrong_pin", "{r:?}");
        assert_eq!(r.body["error"]["attempts_left"], left);
    }
    let r = w.exchange(&id, &ito, Some("0000")).await;
    assert_eq!((r.status, r.code()), (StatusCode::LOCKED, "locked_out"));
    let r = w.exchange(&id, &ito, Some("1234")).await;
    assert_eq!(r.code(), "locked_out");
    assert!(r.body["error"]["retry_after_secs"].as_u64().unwrap() > 0);

    // Expired pending sign-in (the portal's clock moves past the request's answer-by time).
    w.clock.advance(700);
    let c = w.config(&id).await;
    assert_eq!((c.status, c.code()), (StatusCode::GONE, "signin_expired"));
    let r = w.exchange(&id, &maya, None).await;
    assert_eq!((r.status, r.code()), (StatusCode::GONE, "signin_expired"));
    // Unknown id.
    let r = w.exchange("AAAAAAAAAAAAAAAAAAAAAA", &maya, None).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "signin_unknown")
    );

    // Every refusal is in the audit log under the sign-in kind.
    for result in [
        "card_revoked",
        "wrong_school",
        "unknown_key",
        "no_google_account",
        "wrong_pin",
        "locked_out",
        "signin_expired",
    ] {
        let rows = w.audited(result).await;
        assert!(!rows.is_empty(), "no audit row {result}");
        assert!(
            rows.iter().all(|r| r.kind == "chromebook_sign_in"),
            "{result}"
        );
    }
    let revoked = w.audited("card_revoked").await;
    assert_eq!(revoked[0].user_id.as_deref(), Some("stu-omar"));
    assert!(revoked[0].flagged);
    assert!(
        revoked[0]
            .detail
            .contains("sign-in for google.com/a/example.edu")
    );
    w.server.stop().await;
}

/// Several exchanges racing on one pending sign-in: exactly one gets a response.
async fn answered_once_under_concurrency(db: TestDb) {
    let w = World::new(db, |_| {}).await;
    let id = w.start().await;
    let cards = [
        w.card("stu-maya", Role::Student, "sch-lincoln"),
        w.card("stu-omar", Role::Student, "sch-lincoln"),
        w.card("stu-zed", Role::Student, "sch-lincoln"),
        w.card("stu-maya", Role::Student, "sch-lincoln"),
    ];
    let replies = futures_join(cards.iter().map(|c| w.exchange(&id, c, None)).collect()).await;
    let ok: Vec<&Reply> = replies.iter().filter(|r| r.status == 200).collect();
    assert_eq!(ok.len(), 1, "{replies:?}");
    for r in replies.iter().filter(|r| r.status != 200) {
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::GONE, "signin_used"),
            "{r:?}"
        );
    }
    let (status, text) = w.sp.post(&w.http, &ok[0].body["sign_in"]).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(w.audited("ok").await.len(), 1);
    w.server.stop().await;
}

/// Runs the futures concurrently (on the test's multi-threaded runtime).
async fn futures_join<F: std::future::Future<Output = Reply> + Send>(fs: Vec<F>) -> Vec<Reply> {
    let mut out = Vec::new();
    tokio::task::block_in_place(|| {
        let handle = tokio::runtime::Handle::current();
        std::thread::scope(|s| {
            let hs: Vec<_> = fs
                .into_iter()
                .map(|f| {
                    let handle = handle.clone();
                    s.spawn(move || handle.block_on(f))
                })
                .collect();
            for h in hs {
                out.push(h.join().unwrap());
            }
        });
    });
    out
}

both_databases!(whole_flow, refusals, answered_once_under_concurrency);

/// An expired response: the portal's clock runs 280 s behind the SP's, responses are valid
/// 30 s; the SP refuses it as too old.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_response_refused_by_sp() {
    let w = World::new(sqlite_db(), |c| {
        let s = c.saml.as_mut().unwrap();
        s.response_validity_secs = 30;
        s.clock_skew_secs = 300;
    })
    .await;
    w.clock.set(real_now() - 280);
    let id = w.start().await;
    let r = w
        .exchange(&id, &w.card("stu-maya", Role::Student, "sch-lincoln"), None)
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let (status, text) = w.sp.post(&w.http, &r.body["sign_in"]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(text.contains("too old"), "{text}");
    w.server.stop().await;
}

/// Without a `[saml]` section every sign-in route answers 404 with a clear message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_configured_is_404() {
    let db = sqlite_db();
    let clock = ManualClock::new(real_now());
    let server = Server::start(config(&db), &clock).await;
    let http = client();
    for path in [
        "/saml/sso?SAMLRequest=x",
        "/saml/metadata",
        "/saml/certificate.pem",
    ] {
        let r = http
            .get(format!("{}{path}", server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(r.text().await.unwrap().contains("[saml]"), "{path}");
    }
    let r = reply(
        http.get(format!("{}/v1/signin/abc/config", server.url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "saml_not_configured")
    );
    let r = reply(
        http.post(format!("{}/v1/signin/abc/exchange", server.url))
            .json(&json!({"card": "QC:x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.code(), "saml_not_configured");
    server.stop().await;
}

/// Sign-in routes are rate limited per client address (`saml.ip_max` per window).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_per_address() {
    let w = World::new(sqlite_db(), |c| {
        c.saml.as_mut().unwrap().ip_max = 3;
    })
    .await;
    // Stay inside one rate-limit window.
    let now = w.now();
    w.clock.set(now - now % 60 + 1);
    let id = w.start().await; // 1
    assert_eq!(w.config(&id).await.status, 200); // 2
    assert_eq!(w.config(&id).await.status, 200); // 3
    let r = w.config(&id).await; // 4
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    assert!(r.headers.contains_key("retry-after"));
    // A card that does not verify counts against the address: refused.
    let r = w.exchange(&id, "QC:not-a-card", None).await;
    assert_eq!(r.code(), "rate_limited");
    assert_eq!(w.audited("rate_limited").await.len(), 1);
    // A verified card counts against its own budget only: the school's shared address being
    // used up (by one pupil, say) does not stop the other children's cards.
    let r = w
        .exchange(&id, &w.card("stu-maya", Role::Student, "sch-lincoln"), None)
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    w.server.stop().await;
}
