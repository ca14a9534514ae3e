//! The Chromebook sign-in bound to the district's devices and networks, over real HTTP with a
//! real database.
//!
//! Google cannot be reached from here, so a stand-in for Google's side runs on loopback, built
//! from Google's documentation: the service-account token endpoint (it checks the RS256 JWT
//! with the account's public key, its audience and scope), and the Verified Access API v2
//! (`challenge:generate` hands out challenges; `challenge:verify` accepts only an answer to a
//! challenge it issued, once, with the expected identity, and names the device and its
//! customer). The Chromebook is played by the test: it answers the challenge header the way
//! ChromeOS does, in `X-Verified-Access-Challenge-Response`. What this cannot exercise: a real
//! TPM-signed answer and Google's own checks of it (see docs/chromebook-admin.md).

mod common;
mod google_standin;

use std::io::Write as _;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::*;
use quickcard::{Claims, Flags, Role};
use quickcard_portal::ManualClock;
use quickcard_portal::config::Config;
use quickcard_portal::config::idp::{SamlConfig, ServiceProviderEntry};
use quickcard_portal::db::store;
use serde_json::json;

const SP: &str = "https://sp.example.edu/saml";
const ACS: &str = "https://sp.example.edu/acs";
const ROSTER: &str = "\
sourced_id,given_name,family_name,role,school_id,school_name,class_id,class_name,grade,email
stu-maya,Maya,Lopez,student,sch-lincoln,Lincoln Elementary,cls-1,Room 1,01,
stu-wes,Wes,Tern,student,sch-west,West Primary,cls-w,West 1,02,
";

struct World {
    server: Server,
    google: google_standin::Google,
    http: reqwest::Client,
    clock: ManualClock,
    _dirs: (tempfile::TempDir, TestDb),
}

impl World {
    async fn new(tweak: impl FnOnce(&mut SamlConfig)) -> World {
        let db = sqlite_db();
        let dir = tempfile::tempdir().unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let (key_file, cert_file) = (dir.path().join("idp.key"), dir.path().join("idp.crt"));
        quickcard_saml::IdpKey::generate("test IdP", now - 3600)
            .unwrap()
            .save(&key_file, &cert_file)
            .unwrap();
        let (google, mut va) = google_standin::start(dir.path()).await;
        // The enrolled domain Google is asked about defaults to google_domain.
        va.expected_identity = None;

        let mut saml = SamlConfig {
            key_file: Some(key_file),
            cert_file: Some(cert_file),
            google_domain: Some("example.edu".into()),
            service_providers: vec![ServiceProviderEntry {
                entity_id: SP.into(),
                acs_url: ACS.into(),
            }],
            name_id_rule: Some("{sourced_id}@students.example.edu".into()),
            verified_access: Some(va),
            networks: [("sch-lincoln".to_string(), vec!["127.0.0.0/8".to_string()])].into(),
            generated_password_key: Some(Arc::new(
                quickcard_portal::domain::chromeos_password::PasswordKey::generate(),
            )),
            ..SamlConfig::default()
        };
        tweak(&mut saml);
        let mut cfg: Config = config(&db);
        cfg.saml = Some(saml);
        let clock = ManualClock::new(now);
        let server = Server::start(cfg, &clock).await;
        let roster = dir.path().join("roster.csv");
        std::fs::write(&roster, ROSTER).unwrap();
        quickcard_portal::domain::roster_import::import(&server.state.db, &roster, now as i64)
            .await
            .unwrap();
        World {
            server,
            google,
            http: client(),
            clock,
            _dirs: (dir, db),
        }
    }

    fn now(&self) -> u64 {
        use quickcard_portal::Clock;
        self.clock.now()
    }

    /// A fresh HTTP-Redirect AuthnRequest URL at the portal.
    fn sso_url(&self, n: u32) -> String {
        let xml = format!(
            "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
             ID=\"_req{n}\" Version=\"2.0\" IssueInstant=\"{}\" \
             ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" \
             AssertionConsumerServiceURL=\"{ACS}\">\
             <saml:Issuer xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">{SP}</saml:Issuer>\
             </samlp:AuthnRequest>",
            quickcard_saml::format_xs_datetime(self.now())
        );
        let mut enc =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(xml.as_bytes()).unwrap();
        let q: String = STANDARD
            .encode(enc.finish().unwrap())
            .bytes()
            .map(|b| match b {
                b'+' => "%2B".to_string(),
                b'/' => "%2F".to_string(),
                b'=' => "%3D".to_string(),
                b => (b as char).to_string(),
            })
            .collect();
        format!("{}/saml/sso?SAMLRequest={q}", self.server.url)
    }

    async fn get(&self, url: &str, answer: Option<&str>) -> reqwest::Response {
        let mut r = self.http.get(url);
        if let Some(a) = answer {
            r = r.header("X-Verified-Access-Challenge-Response", a);
        }
        r.send().await.unwrap()
    }

    /// Plays the Chromebook: starts a sign-in, takes the challenge redirect, answers it as
    /// `device` (None: a browser that does not answer). Returns the final response.
    async fn sign_in_start(&self, n: u32, device: Option<&str>) -> reqwest::Response {
        google_standin::attested_get(&self.http, &self.sso_url(n), device).await
    }

    async fn audited(&self, result: &str) -> Vec<store::AuditRow> {
        store::audit_rows(&self.server.state.db, None, 0, 100_000)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.kind == "chromebook_sign_in" && r.result == result)
            .collect()
    }

    async fn exchange(&self, id: &str, user: &str, school: &str) -> Reply {
        let issued = self.now() - 86_400;
        let claims = Claims::new(
            user,
            Role::Student,
            school,
            issued,
            issued + 300 * 86_400,
            Flags::default(),
        )
        .unwrap();
        let card = quickcard::sign(&claims, &issuer());
        reply(
            self.http
                .post(format!("{}/v1/signin/{id}/exchange", self.server.url))
                .json(&json!({ "card": card }))
                .send()
                .await
                .unwrap(),
        )
        .await
    }
}

fn pending_id(r: &reqwest::Response) -> String {
    let loc = r.headers()["location"].to_str().unwrap();
    loc.split("request=").nth(1).unwrap().to_string()
}

#[tokio::test]
async fn an_attested_district_chromebook_signs_in_and_the_audit_names_it() {
    let w = World::new(|_| {}).await;
    let r = w.sign_in_start(1, Some("5CD-LINCOLN-01")).await;
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    let id = pending_id(&r);
    // Google was asked with the enrolled domain.
    let calls = w.google.verify_calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["expectedIdentity"], "example.edu");

    let x = w.exchange(&id, "stu-maya", "sch-lincoln").await;
    assert_eq!(x.status, 200, "{x:?}");
    assert_eq!(x.body["sign_in"]["email"], "stu-maya@students.example.edu");
    // Attested: the ChromeOS password is handed over (the unattested case: `signin.rs`).
    assert_eq!(x.body["sign_in"]["password"].as_str().unwrap().len(), 43);
    let ok = w.audited("ok").await;
    assert_eq!(ok.len(), 1);
    assert!(
        ok[0].detail.contains("attested Chromebook 5CD-LINCOLN-01"),
        "{}",
        ok[0].detail
    );
}

#[tokio::test]
async fn a_device_that_does_not_answer_or_belongs_elsewhere_is_refused() {
    let w = World::new(|_| {}).await;
    // A browser at home (or an unmanaged device): no answer to the challenge.
    let r = w.sign_in_start(1, None).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("device_not_attested"));
    // A Chromebook of another Google customer.
    let r = w.sign_in_start(2, Some("5CD-ELSEWHERE")).await;
    assert_eq!(r.status(), 403);
    // A made-up answer, and a replayed one.
    let r = w.sign_in_start(3, Some("5CD-UNKNOWN")).await;
    assert_eq!(r.status(), 403);
    let replay = STANDARD.encode("5CD-LINCOLN-01|Y2hhbGxlbmdlLTE=");
    let r = w
        .get(&format!("{}&qc_attest=1", w.sso_url(4)), Some(&replay))
        .await;
    assert_eq!(r.status(), 403);
    let refused = w.audited("device_not_attested").await;
    assert_eq!(refused.len(), 4, "{refused:?}");
    assert!(refused.iter().all(|r| r.flagged));
    assert!(
        refused
            .iter()
            .any(|r| r.detail.contains("C0another") && r.detail.contains("C0district")),
        "{refused:?}"
    );
    assert!(w.audited("ok").await.is_empty());
}

#[tokio::test]
async fn outside_the_school_networks_nothing_starts_and_cards_sign_in_only_from_their_school() {
    // The portal sees the test's requests from 127.0.0.1.
    let w = World::new(|s| {
        s.networks = [(
            "sch-lincoln".to_string(),
            vec!["203.0.113.0/24".to_string()],
        )]
        .into();
    })
    .await;
    let r = w.get(&w.sso_url(1), None).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("network_not_allowed"));
    assert_eq!(w.audited("network_not_allowed").await.len(), 1);
    // Not even a challenge was asked for.
    assert!(w.google.issued.lock().unwrap().is_empty());

    // Loopback is Lincoln's network: a West card is refused there.
    let w = World::new(|_| {}).await;
    let r = w.sign_in_start(1, Some("5CD-LINCOLN-01")).await;
    assert_eq!(r.status(), 303);
    let x = w.exchange(&pending_id(&r), "stu-wes", "sch-west").await;
    assert_eq!(x.status, 403, "{x:?}");
    assert_eq!(x.body["error"]["code"], "network_not_allowed");
}

#[tokio::test]
async fn a_sign_in_bound_to_nothing_does_not_load_unless_the_risk_is_accepted() {
    let mut s = SamlConfig {
        google_domain: Some("example.edu".into()),
        ..SamlConfig::default()
    };
    let e = s.validate().unwrap_err();
    assert!(e.contains("bound to nothing"), "{e}");
    s.accept_unbound_signin_risk = true;
    assert!(s.validate().is_ok());
}

#[tokio::test]
async fn kiosks_can_be_held_to_their_schools_networks() {
    // The test's kiosk calls from 127.0.0.1.
    for (range, status) in [("127.0.0.0/8", 200), ("203.0.113.0/24", 403)] {
        let w = common::World::with(sqlite_db(), |c| {
            let mut s = quickcard_portal::config::idp::demo_section(SP, ACS, T0).unwrap();
            s.networks = [("sch-lincoln".to_string(), vec![range.to_string()])].into();
            s.networks_apply_to_kiosks = true;
            c.saml = Some(s);
        })
        .await;
        let r = w
            .exchange(&w.card("stu-maya", Role::Student, "sch-lincoln"))
            .await;
        assert_eq!(r.status, status, "{range}: {r:?}");
        if status == 403 {
            assert_eq!(r.body["error"]["code"], "network_not_allowed");
            let rows = w.audit().await;
            assert!(
                rows.iter()
                    .any(|r| r.result == "network_not_allowed" && r.flagged),
                "{rows:?}"
            );
        }
    }
}

#[tokio::test]
async fn garbage_from_a_schools_shared_address_does_not_block_real_cards() {
    // A school's Chromebooks share one address (here 127.0.0.1) and its small budget.
    let w = World::new(|s| s.ip_max = 4).await;
    let r = w.sign_in_start(1, Some("5CD-LINCOLN-01")).await; // 2 requests
    assert_eq!(r.status(), 303);
    let id = pending_id(&r);
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let x = reply(
            w.http
                .post(format!("{}/v1/signin/{id}/exchange", w.server.url))
                .json(&json!({ "card": "QC:garbage" }))
                .send()
                .await
                .unwrap(),
        )
        .await;
        statuses.push(x.status.as_u16());
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    // A real card still signs in: it counts against its own budget, not the address's.
    let x = w.exchange(&id, "stu-maya", "sch-lincoln").await;
    assert_eq!(x.status, 200, "{x:?}");
}
