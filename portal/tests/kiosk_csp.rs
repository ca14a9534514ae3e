//! The Content-Security-Policy the portal sends with the browser kiosk (`/kiosk/`): the page
//! may talk to its own portal only, and may post the signed SAML answer only to the ACS URLs
//! of the configured service providers.
#![cfg(feature = "saml")]

mod common;

use common::*;
use quickcard_portal::ManualClock;
use quickcard_portal::config::idp::{SamlConfig, ServiceProviderEntry};

/// A bundle's page as `build-web.sh` writes it: inline style and boot script, module import.
const PAGE: &str = "<!doctype html><html><head><style>body { margin: 0 }</style></head>\
    <body><canvas id=\"quickcard\"></canvas><script type=\"module\">\
    const { default: init } = await import(\"./quickcard_kiosk.js\"); init();</script>\
    </body></html>";

/// The policy's directives by name (`None` when the header is missing).
fn directives(headers: &reqwest::header::HeaderMap) -> Option<Vec<(String, Vec<String>)>> {
    let csp = headers.get("content-security-policy")?.to_str().ok()?;
    Some(
        csp.split(';')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(|d| {
                let mut words = d.split_whitespace().map(str::to_string);
                (words.next().unwrap_or_default(), words.collect())
            })
            .collect(),
    )
}

fn sources<'a>(policy: &'a [(String, Vec<String>)], name: &str) -> &'a [String] {
    policy
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, s)| s.as_slice())
        .unwrap_or_else(|| panic!("no {name} in {policy:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kiosk_page_may_talk_only_to_its_portal_and_post_only_to_the_acs_urls() {
    let db = sqlite_db();
    let now = T0;
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("web");
    std::fs::create_dir(&web).unwrap();
    std::fs::write(web.join("index.html"), PAGE).unwrap();
    std::fs::write(
        web.join("scan-worker-0123456789abcdef.js"),
        "self.onmessage = null;",
    )
    .unwrap();
    let (key_file, cert_file) = (dir.path().join("idp.key"), dir.path().join("idp.crt"));
    quickcard_saml::IdpKey::generate("QuickCard test IdP", now - 3600)
        .unwrap()
        .save(&key_file, &cert_file)
        .unwrap();
    let mut cfg = config(&db);
    cfg.web_dir = Some(web);
    cfg.saml = Some(SamlConfig {
        key_file: Some(key_file),
        // ChromeOS passwords are derived from this key (made in memory here).
        generated_password_key: Some(std::sync::Arc::new(
            quickcard_portal::domain::chromeos_password::PasswordKey::generate(),
        )),
        cert_file: Some(cert_file),
        google_domain: Some("example.edu".into()),
        sso_profile_rpids: vec!["abc123".into()],
        service_providers: vec![ServiceProviderEntry {
            entity_id: "other-sp".into(),
            acs_url: "https://sp.example.org/saml/acs".into(),
        }],
        name_id_rule: Some("{sourced_id}@students.example.edu".into()),
        // This test is about the page's policy, not where a sign-in comes from.
        accept_unbound_signin_risk: true,
        ..SamlConfig::default()
    });
    let clock = ManualClock::new(now);
    let server = Server::start(cfg, &clock).await;
    let http = client();

    let page = http
        .get(format!("{}/kiosk/", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let policy = directives(page.headers()).expect("the page has a Content-Security-Policy");
    let self_only = ["'self'".to_string()];
    assert_eq!(sources(&policy, "default-src"), self_only, "{policy:?}");
    assert_eq!(sources(&policy, "connect-src"), self_only, "{policy:?}");
    assert_eq!(sources(&policy, "worker-src"), self_only, "{policy:?}");
    assert_eq!(sources(&policy, "base-uri"), ["'none'"], "{policy:?}");
    assert_eq!(sources(&policy, "object-src"), ["'none'"], "{policy:?}");
    assert_eq!(
        sources(&policy, "frame-ancestors"),
        ["'none'"],
        "{policy:?}"
    );
    // Exactly Google's ACS URLs for the domain and the SSO profile, the other SP's, and
    // Google's sign-in hosts that its ACS redirects to (Chrome checks redirects after a post
    // against form-action too).
    let mut forms = sources(&policy, "form-action").to_vec();
    forms.sort();
    assert_eq!(
        forms,
        [
            "https://accounts.google.com/",
            "https://accounts.google.com/samlrp/acs",
            "https://sp.example.org/saml/acs",
            "https://www.google.com/",
            "https://www.google.com/a/example.edu/acs",
        ],
        "{policy:?}"
    );
    // Scripts: this origin, WebAssembly, and the page's own boot script by its hash; no
    // inline script or eval in general.
    let scripts = sources(&policy, "script-src");
    assert!(
        scripts.contains(&"'self'".to_string())
            && scripts.contains(&"'wasm-unsafe-eval'".to_string()),
        "{policy:?}"
    );
    assert!(
        scripts.iter().any(|s| s.starts_with("'sha256-")),
        "the boot script is not allowed by hash: {policy:?}"
    );
    for s in sources(&policy, "script-src")
        .iter()
        .chain(sources(&policy, "style-src"))
    {
        assert!(
            s != "'unsafe-inline'" && s != "'unsafe-eval'" && s != "*",
            "{policy:?}"
        );
    }
    // A revalidated page keeps its policy, and so does the worker's script (a worker runs
    // under the policy its script is served with).
    let etag = page.headers()["etag"].clone();
    let again = http
        .get(format!("{}/kiosk/", server.url))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(directives(again.headers()), Some(policy.clone()));
    let worker = http
        .get(format!(
            "{}/kiosk/scan-worker-0123456789abcdef.js",
            server.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(worker.status(), 200);
    assert_eq!(directives(worker.headers()), Some(policy));
    server.stop().await;
}
