//! The browser kiosk end to end: the wasm32 build of the kiosk app, served by a real
//! portal on loopback (axum + SQLite, the sample roster), in a real headless Chromium whose
//! fake camera plays videos made from the sample card photos.
//!
//! Needs the bundle (`scripts/build-web.sh`) and `chromium` + `chromium-driver`, so the tests
//! are ignored by a plain `cargo test`; `scripts/test.sh` builds the bundle and runs them with
//! `--ignored`. The screen state is read from the document title (mirrored by the page for
//! tests and screen readers), buttons are pressed through their HTML mirror, never by pixels.
//! Where frames were scanned (the scan worker or the page's own thread) the page publishes on
//! its live region.

mod web_support;

use std::path::Path;
use std::time::Duration;

use quickcard_portal::demo::{DemoOptions, DemoPortal};
use serde_json::{Value, json};
use web_support::{Driver, code_frame, photo_of, runtime, sample_photo, write_y4m};

const STUDENT: &str = "stu-1001";
const OTHER_STUDENT: &str = "stu-2005";
const WAIT: Duration = Duration::from_secs(40);

/// The demo portal serving the bundle, plus a kiosk enrolled for the browser.
struct Setup {
    portal: DemoPortal,
    kiosk_id: String,
    credential: String,
}

impl Setup {
    async fn new() -> Setup {
        let portal =
            web_support::web_portal(web_support::bundle_dir(), DemoOptions::default()).await;
        // A kiosk of its own for the browser, so the audit can tell its exchanges apart.
        let (kiosk_id, credential) = web_support::enrol_kiosk(&portal, "WEB-KIOSK").await;
        Setup {
            kiosk_id,
            credential,
            portal,
        }
    }

    /// The lab-kiosk page, with the kiosk credential handed over in the fragment.
    fn page(&self) -> String {
        format!(
            "{}/kiosk/?mode=lab&demo=1#credential={}",
            self.portal.url, self.credential
        )
    }

    async fn rows(&self, user: &str, kind: &str) -> Vec<Value> {
        web_support::audit_rows(&self.portal, user, kind).await
    }
}

fn out_dir() -> std::path::PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/web-test");
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
#[ignore = "needs the web bundle and chromium-driver: scripts/test.sh runs it"]
fn card_to_dashboard_to_sign_out_in_chromium() {
    runtime().block_on(async {
        let setup = Setup::new().await;
        let tmp = tempfile::tempdir().unwrap();
        let video = tmp.path().join("card.y4m");
        let photo = sample_photo(&photo_of("baseline", STUDENT));
        write_y4m(&video, &vec![photo; 8]);

        let driver = Driver::start().await;
        let browser = driver.browser(&video, &tmp.path().join("profile")).await;
        browser.goto(&setup.page()).await;
        let seen = browser.wait_for_state("dashboard", WAIT).await;
        assert!(
            seen.iter().any(|s| s == "scanning" || s == "checking"),
            "the page went to the dashboard without scanning: {seen:?}"
        );
        // The credential left the address bar and the dashboard is the student's.
        let href = browser.run("return location.href").await;
        assert!(
            !href.as_str().unwrap().contains("credential"),
            "credential still in the address: {href}"
        );
        let buttons = browser.buttons().await;
        assert!(buttons.iter().any(|b| b == "Sign out"), "{buttons:?}");
        assert!(
            buttons.len() >= 3,
            "the student's app tiles are mirrored as buttons: {buttons:?}"
        );
        std::fs::write(out_dir().join("dashboard.png"), browser.screenshot().await).unwrap();
        // Everything the page needed (boot script, style sheet, WebAssembly, scan worker,
        // camera, portal calls) ran under its Content-Security-Policy.
        let violations = browser.csp_violations().await;
        assert!(violations.is_empty(), "{violations:?}");

        // The card was read in the scan worker; the page's own thread scanned nothing.
        let counts = browser.scan_counts().await;
        assert!(
            counts.place == "worker" && counts.worker > 0 && counts.inline == 0,
            "the page did not scan in its worker: {counts:?}"
        );
        worker_script_is_served(&setup.portal.url).await;

        // The portal saw the exchange from this web kiosk.
        let exchanges = setup.rows(STUDENT, "exchange").await;
        assert!(
            exchanges
                .iter()
                .any(|r| r["result"] == json!("ok") && r["kiosk_id"] == json!(setup.kiosk_id)),
            "no exchange by the web kiosk {} in {exchanges:?}",
            setup.kiosk_id
        );
        assert!(setup.rows(STUDENT, "sign_out").await.is_empty());

        // Sign out, as a screen-reader user would (the HTML mirror of the red button).
        browser.press("Sign out").await;
        browser.wait_for_state("signed-out", WAIT).await;
        let mut signed_out = Vec::new();
        for _ in 0..50 {
            signed_out = setup.rows(STUDENT, "sign_out").await;
            if !signed_out.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            signed_out
                .iter()
                .any(|r| r["result"] == json!("ok") && r["kiosk_id"] == json!(setup.kiosk_id)),
            "the portal did not end the session: {signed_out:?}"
        );
        // Nothing of the student is left on the page.
        let text = browser
            .run("return document.body.innerText + ' ' + document.title")
            .await;
        assert!(
            !text.as_str().unwrap().contains("Zoë"),
            "the last user's name is still on the page: {text}"
        );
        browser.close().await;
    });
}

/// Each refused card reaches its own screen, and nothing reaches the portal's exchange.
#[test]
#[ignore = "needs the web bundle and chromium-driver: scripts/test.sh runs it"]
fn refused_cards_reach_their_own_screens_without_an_exchange() {
    runtime().block_on(async {
        let setup = Setup::new().await;
        let tmp = tempfile::tempdir().unwrap();
        let driver = Driver::start().await;

        // A revoked student: revoked before the page loads its config.
        web_support::revoke(&setup.portal, OTHER_STUDENT).await;

        // A forged card: the student's real card with one signature bit flipped.
        let manifest_card = card_text_of(&photo_of("baseline", STUDENT));
        let mut bytes =
            quickcard::base45::decode(manifest_card.strip_prefix("QC:").unwrap().as_bytes())
                .unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        let forged = format!("QC:{}", quickcard::base45::encode(&bytes));

        let no_code: Vec<image::RgbImage> = (0..8)
            .map(|i| sample_photo(&format!("no-code-0{i}.jpg")))
            .collect();
        let cases: Vec<(&str, Vec<image::RgbImage>, &str)> = vec![
            ("no-card", no_code, "scanning"),
            ("forged", vec![code_frame(&forged); 8], "error:forged"),
            (
                "foreign-qr",
                vec![code_frame("https://library.example.org/book/12345"); 8],
                "error:not-quickcard",
            ),
            (
                "revoked",
                vec![sample_photo(&photo_of("baseline", OTHER_STUDENT)); 8],
                "error:revoked",
            ),
        ];
        for (name, frames, want) in cases {
            let video = tmp.path().join(format!("{name}.y4m"));
            write_y4m(&video, &frames);
            let browser = driver
                .browser(&video, &tmp.path().join(format!("profile-{name}")))
                .await;
            browser.goto(&setup.page()).await;
            let seen = browser.wait_for_state(want, WAIT).await;
            if want == "scanning" {
                // Stay there while the scanner works through frames with no card (the
                // slowest frames: each runs into the scanner's budget), all in the worker.
                let before = frames_scanned(&browser).await;
                let start = std::time::Instant::now();
                loop {
                    let now = browser.state().await;
                    assert_eq!(now, "scanning", "{name}: left scanning ({seen:?} → {now})");
                    if start.elapsed() > Duration::from_secs(3)
                        && frames_scanned(&browser).await > before
                    {
                        break;
                    }
                    assert!(
                        start.elapsed() < WAIT,
                        "{name}: the scanner saw no new frames"
                    );
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                let counts = browser.scan_counts().await;
                assert!(
                    counts.place == "worker" && counts.worker > before && counts.inline == 0,
                    "{name}: frames were not scanned in the worker: {counts:?}"
                );
            } else {
                // The error screen offers "Back", mirrored for assistive technology.
                let buttons = browser.buttons().await;
                assert!(buttons.iter().any(|b| b == "Back"), "{name}: {buttons:?}");
            }
            std::fs::write(
                out_dir().join(format!("{name}.png")),
                browser.screenshot().await,
            )
            .unwrap();
            browser.close().await;
        }
        // No exchange was ever attempted for either student: the page refused offline.
        for user in [STUDENT, OTHER_STUDENT] {
            let exchanges = setup.rows(user, "exchange").await;
            assert!(exchanges.is_empty(), "{user}: {exchanges:?}");
        }
    });
}

/// A browser that cannot run the scan worker (here: its script is missing from the bundle, as
/// if it failed to load) still reads cards, on the page's own thread.
#[test]
#[ignore = "needs the web bundle and chromium-driver: scripts/test.sh runs it"]
fn without_its_scan_worker_the_page_scans_on_its_own_thread() {
    runtime().block_on(async {
        let bundle = tempfile::tempdir().unwrap();
        for e in std::fs::read_dir(web_support::bundle_dir()).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.starts_with("scan-worker") {
                std::fs::copy(e.path(), bundle.path().join(&name)).unwrap();
            }
        }
        let portal =
            web_support::web_portal(bundle.path().to_path_buf(), DemoOptions::default()).await;
        let (_, credential) = web_support::enrol_kiosk(&portal, "WEB-KIOSK-NO-WORKER").await;
        let tmp = tempfile::tempdir().unwrap();
        let video = tmp.path().join("card.y4m");
        write_y4m(
            &video,
            &vec![sample_photo(&photo_of("baseline", STUDENT)); 8],
        );
        let driver = Driver::start().await;
        let browser = driver.browser(&video, &tmp.path().join("profile")).await;
        browser
            .goto(&format!(
                "{}/kiosk/?mode=lab&demo=1#credential={credential}",
                portal.url
            ))
            .await;
        browser.wait_for_state("dashboard", WAIT).await;
        let counts = browser.scan_counts().await;
        assert!(
            counts.place == "inline" && counts.inline > 0 && counts.worker == 0,
            "the page did not fall back to scanning on its own thread: {counts:?}"
        );
        browser.close().await;
    });
}

/// A page address that names another portal is refused on the screen, and neither the page
/// nor a script in it sends anything there: the page talks only to its own origin, and its
/// Content-Security-Policy (`connect-src 'self'`) blocks the rest in the browser itself.
#[test]
#[ignore = "needs the web bundle and chromium-driver: scripts/test.sh runs it"]
fn a_page_address_naming_another_portal_sends_nothing_there() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    runtime().block_on(async {
        let setup = Setup::new().await;
        // The "other portal": counts every connection it gets.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let other = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        let accepting = tokio::spawn(async move {
            while listener.accept().await.is_ok() {
                counted.fetch_add(1, Ordering::SeqCst);
            }
        });
        let tmp = tempfile::tempdir().unwrap();
        let video = tmp.path().join("card.y4m");
        write_y4m(
            &video,
            &vec![sample_photo(&photo_of("baseline", STUDENT)); 8],
        );
        let driver = Driver::start().await;
        let browser = driver.browser(&video, &tmp.path().join("profile")).await;
        browser
            .goto(&format!(
                "{}/kiosk/?mode=lab&demo=1&portal={other}#credential={}",
                setup.portal.url, setup.credential
            ))
            .await;
        browser.wait_for_state("failed", WAIT).await;
        // Said on the screen, with what to do.
        let notice = browser
            .run(
                "const n = document.getElementById('quickcard-notice'); \
                 return [n.innerText, getComputedStyle(n).display]",
            )
            .await;
        assert!(
            notice[0].as_str().unwrap_or_default().contains("remove portal="),
            "{notice}"
        );
        assert_eq!(notice[1], json!("flex"), "the notice is not shown: {notice}");
        // Whatever runs in the page cannot reach the other address either.
        let sent = browser
            .run(&format!(
                "return fetch({}, {{method: 'POST', body: 'qck_x'}}).then(() => 'sent', e => 'blocked: ' + e)",
                json!(format!("{other}/v1/exchange"))
            ))
            .await;
        assert!(
            sent.as_str().unwrap_or_default().starts_with("blocked"),
            "{sent}"
        );
        // Blocked by the page's policy, before any request.
        let violations = browser.csp_violations().await;
        assert!(
            violations
                .iter()
                .any(|v| v.starts_with("connect-src") && v.contains(&other)),
            "{violations:?}"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(
            connections.load(Ordering::SeqCst),
            0,
            "the page connected to {other}"
        );
        // The credential handed over was never used: the kiosk made no call to its portal.
        assert!(setup.rows(STUDENT, "exchange").await.is_empty());
        accepting.abort();
        browser.close().await;
    });
}

/// The page names its scan worker's script; the portal serves it as JavaScript (module workers
/// refuse anything else), cached for good (its name is a content hash), gzip-compressed, and
/// the page's Content-Security-Policy lets it run.
async fn worker_script_is_served(portal: &str) {
    let http = reqwest::Client::new();
    let page = http.get(format!("{portal}/kiosk/")).send().await.unwrap();
    let csp = page
        .headers()
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    // Workers fall under worker-src, else script-src, else default-src.
    let governing = ["worker-src", "script-src", "default-src"]
        .iter()
        .find_map(|d| {
            csp.split(';')
                .map(str::trim)
                .find(|p| p.split_whitespace().next() == Some(d))
        });
    if let Some(directive) = governing {
        assert!(
            directive.contains("'self'"),
            "the page's CSP keeps its worker from running: {csp}"
        );
    }
    let html = page.text().await.unwrap();
    let name = html
        .split("name=\"quickcard-scan-worker\" content=\"./")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("the page names no scan worker: {html}"))
        .to_string();
    assert!(
        name.starts_with("scan-worker-") && name.ends_with(".js"),
        "{name}"
    );
    let script = http
        .get(format!("{portal}/kiosk/{name}"))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200, "{name}");
    let header = |k: &str| {
        script
            .headers()
            .get(k)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    assert!(
        header("content-type").starts_with("text/javascript"),
        "{name}: {}",
        header("content-type")
    );
    assert!(header("cache-control").contains("immutable"), "{name}");
    assert_eq!(header("content-encoding"), "gzip", "{name}");
}

async fn frames_scanned(browser: &web_support::Browser) -> u64 {
    browser
        .run("return Number(document.getElementById('quickcard-state').dataset.frames || 0)")
        .await
        .as_u64()
        .unwrap_or(0)
}

/// The card text printed in a sample photo (from the photo manifest).
fn card_text_of(photo: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-cards/photos/manifest.json");
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    manifest
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"] == json!(photo))
        .and_then(|f| f["text"].as_str())
        .unwrap()
        .to_string()
}
