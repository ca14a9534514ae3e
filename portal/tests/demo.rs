//! The embedded demo portal the kiosk starts: sample roster, demo key, enrolled kiosk — called
//! from plain (non-async) code, as the kiosk does.

use quickcard::{Claims, Flags, IssuerKey, Role};
use quickcard_portal::demo::{DEMO_PIN, DemoOptions, spawn};
use serde_json::{Value, json};

fn demo_card(user: &str, role: Role, school: &str, flags: Flags) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let c = Claims::new(user, role, school, now - 86_400, now + 86_400 * 300, flags).unwrap();
    quickcard::sign(&c, &IssuerKey::demo())
}

#[test]
fn demo_portal_serves_the_sample_roster_with_the_demo_key() {
    let portal = spawn(DemoOptions::default()).unwrap();
    assert!(portal.url.starts_with("http://127.0.0.1:"));
    assert!(portal.import.users_added >= 10, "{:?}", portal.import);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let cfg: Value = http
            .get(format!("{}/v1/kiosk/config", portal.url))
            .bearer_auth(&portal.kiosk_credential)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(cfg["school_id"], portal.school_id.as_str());
        assert_eq!(cfg["demo"], true);
        assert_eq!(
            cfg["trust"][0]["public"],
            IssuerKey::demo().public().to_string()
        );

        // A sample student signs in with a demo-key card.
        let card = demo_card(
            "stu-1001",
            Role::Student,
            &portal.school_id,
            Flags::default(),
        );
        let r = http
            .post(format!("{}/v1/exchange", portal.url))
            .bearer_auth(&portal.kiosk_credential)
            .json(&json!({ "card": card }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let s: Value = r.json().await.unwrap();
        assert_eq!(s["user"]["given_name"], "Zoë");
        assert!(!s["apps"].as_array().unwrap().is_empty());

        // A sample teacher with a second-factor card and the demo PIN.
        let card = demo_card(
            "tea-rivera",
            Role::Teacher,
            &portal.school_id,
            Flags {
                second_factor: true,
            },
        );
        let r = http
            .post(format!("{}/v1/exchange", portal.url))
            .bearer_auth(&portal.kiosk_credential)
            .json(&json!({ "card": card, "pin": DEMO_PIN }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);

        let audit: Value = http
            .get(format!("{}/v1/admin/audit", portal.url))
            .bearer_auth(&portal.admin_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ok = audit["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["kind"] == "exchange" && r["result"] == "ok")
            .count();
        assert_eq!(ok, 2);
    });
    let url = portal.url.clone();
    portal.shutdown();
    rt.block_on(async {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        assert!(http.get(format!("{url}/healthz")).send().await.is_err());
    });
}

#[test]
fn two_demo_portals_are_independent() {
    let a = spawn(DemoOptions::default()).unwrap();
    let b = spawn(DemoOptions::default()).unwrap();
    assert_ne!(a.url, b.url);
    assert_ne!(a.kiosk_credential, b.kiosk_credential);
    let bad = spawn(DemoOptions {
        roster: Some("/nonexistent/roster.csv".into()),
        ..Default::default()
    });
    assert!(bad.is_err());
}
