//! The Chromebook sign-in end to end: a SAML service provider configured the way
//! Google is (pysaml2, `portal/tests/sp/google_sp.py`) sends a real headless Chromium to the
//! portal's `/saml/sso`; the portal sends it to the browser kiosk in sign-in mode; the fake
//! camera shows a sample card; the page exchanges it and posts the signed answer to the SP,
//! which accepts it for the child's Google account. A revoked card never gets that far.
//!
//! Needs the web bundle, `chromium-driver`, `xmlsec1` and `python3-pysaml2`: ignored by a
//! plain `cargo test`, run by `scripts/test.sh` with `--ignored`.

mod web_support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use quickcard_portal::config::idp::DemoSaml;
use quickcard_portal::demo::{DemoOptions, DemoPortal};
use serde_json::{Value, json};
use web_support::{Browser, Driver, free_port, photo_of, runtime, sample_photo, write_y4m};

const STUDENT: &str = "stu-1001";
const STUDENT_EMAIL: &str = "stu-1001@demo.quickcard.example";
const REVOKED_STUDENT: &str = "stu-2005";
const WAIT: Duration = Duration::from_secs(40);

/// The Google-like SP on a free loopback port; killed when dropped.
struct ServiceProvider {
    child: Child,
    url: String,
    entity_id: String,
    acs_url: String,
}

impl Drop for ServiceProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ServiceProvider {
    fn start(idp_metadata_url: &str) -> ServiceProvider {
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("portal/tests/sp/google_sp.py");
        let mut child = Command::new("/usr/bin/python3")
            .arg(script)
            .args(["--idp-metadata-url", idp_metadata_url, "--port", "0"])
            .args(["--entity-id", "google.com/a/demo.quickcard.example"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 with pysaml2 (Debian: python3-pysaml2 xmlsec1)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        // google_sp listening on http://127.0.0.1:PORT entity_id=ENTITY acs=URL
        let field = |name: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(name))
                .unwrap_or_else(|| panic!("no {name} in the SP's first line: {line:?}"))
                .to_string()
        };
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("the SP did not start: {line:?}"))
            .to_string();
        ServiceProvider {
            entity_id: field("entity_id="),
            acs_url: field("acs="),
            url,
            child,
        }
    }

    async fn results(&self) -> Vec<Value> {
        let v: Value = reqwest::get(format!("{}/results", self.url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v.as_array().cloned().unwrap_or_default()
    }
}

struct Setup {
    sp: ServiceProvider,
    portal: DemoPortal,
}

impl Setup {
    async fn new() -> Setup {
        let port = free_port();
        let sp = ServiceProvider::start(&format!("http://127.0.0.1:{port}/saml/metadata"));
        let saml = DemoSaml {
            sp_entity_id: sp.entity_id.clone(),
            acs_url: sp.acs_url.clone(),
        };
        let options = DemoOptions {
            port,
            saml: Some(saml),
            ..Default::default()
        };
        let portal = web_support::web_portal(web_support::bundle_dir(), options).await;
        Setup { sp, portal }
    }

    async fn audit(&self, user: &str, kind: &str) -> Vec<Value> {
        web_support::audit_rows(&self.portal, user, kind).await
    }
}

/// Polls until the page's text contains `want`; returns the titles seen on the way.
async fn wait_for_text(browser: &Browser, want: &str) -> Vec<String> {
    let start = Instant::now();
    let mut titles: Vec<String> = Vec::new();
    loop {
        let title = browser.title().await;
        if titles.last() != Some(&title) {
            titles.push(title);
        }
        let text = browser
            .run("return document.body ? document.body.innerText : ''")
            .await;
        if text.as_str().unwrap_or_default().contains(want) {
            return titles;
        }
        assert!(
            start.elapsed() < WAIT,
            "no {want:?} on the page; titles seen: {titles:?}, text now: {text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
#[ignore = "needs the web bundle, chromium-driver and python3-pysaml2: scripts/test.sh runs it"]
fn a_card_at_the_chromebook_sign_in_screen_signs_the_child_in_to_google() {
    runtime().block_on(async {
        let setup = Setup::new().await;
        let tmp = tempfile::tempdir().unwrap();
        let video = tmp.path().join("card.y4m");
        write_y4m(
            &video,
            &vec![sample_photo(&photo_of("baseline", STUDENT)); 8],
        );
        let driver = Driver::start().await;
        let browser = driver.browser(&video, &tmp.path().join("profile")).await;

        // What a Chromebook does: Google (here the SP) sends the browser to the IdP.
        browser.goto(&format!("{}/login", setup.sp.url)).await;
        let titles = wait_for_text(&browser, &format!("signed in as {STUDENT_EMAIL}")).await;
        // The page scanned: the scanner screen, or (when the worker reads the card before
        // the title is next polled) the check that follows a read.
        assert!(
            titles
                .iter()
                .any(|t| t.ends_with("scanning") || t.ends_with("checking")),
            "the sign-in page never scanned: {titles:?}"
        );

        // The SP (configured as Google) accepted exactly this sign-in.
        let results = setup.sp.results().await;
        assert_eq!(results.len(), 1, "{results:?}");
        assert_eq!(results[0]["ok"], json!(true), "{results:?}");
        assert_eq!(results[0]["name_id"], json!(STUDENT_EMAIL));
        // The portal audited it as a Chromebook sign-in.
        let rows = setup.audit(STUDENT, "chromebook_sign_in").await;
        assert!(
            rows.iter().any(|r| r["result"] == json!("ok")),
            "no chromebook sign-in row: {rows:?}"
        );
        // No kiosk session was made for it.
        assert!(setup.audit(STUDENT, "exchange").await.is_empty());
        browser.close().await;
    });
}

#[test]
#[ignore = "needs the web bundle, chromium-driver and python3-pysaml2: scripts/test.sh runs it"]
fn a_revoked_card_at_the_sign_in_screen_gets_its_screen_and_google_hears_nothing() {
    runtime().block_on(async {
        let setup = Setup::new().await;
        web_support::revoke(&setup.portal, REVOKED_STUDENT).await;

        let tmp = tempfile::tempdir().unwrap();
        let video = tmp.path().join("revoked.y4m");
        write_y4m(
            &video,
            &vec![sample_photo(&photo_of("baseline", REVOKED_STUDENT)); 8],
        );
        let driver = Driver::start().await;
        let browser = driver.browser(&video, &tmp.path().join("profile")).await;
        browser.goto(&format!("{}/login", setup.sp.url)).await;
        browser.wait_for_state("error:revoked", WAIT).await;
        let url = browser
            .run("return location.pathname + location.search")
            .await;
        assert!(
            url.as_str()
                .unwrap()
                .starts_with("/kiosk/?mode=signin&request="),
            "{url}"
        );
        // Refused offline from the revocation list the page got with its request: nothing
        // was posted to Google and no sign-in was exchanged.
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(setup.sp.results().await.is_empty());
        let rows = setup.audit(REVOKED_STUDENT, "chromebook_sign_in").await;
        assert!(!rows.iter().any(|r| r["result"] == json!("ok")), "{rows:?}");
        browser.close().await;
    });
}
