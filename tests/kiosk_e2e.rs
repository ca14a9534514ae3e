//! End to end: the real kiosk app (state machine, screens, portal client, camera worker,
//! scanner) against a real portal on loopback (the embedded demo portal: axum + in-memory
//! SQLite, sample roster), fed replayed sample photos of a sample card. From the first frame to
//! the dashboard, a tile launch and sign-out, then the portal's audit rows are checked.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use quickcard_kiosk::app::KioskApp;
use quickcard_kiosk::app::driver::{Kiosk, Services};
use quickcard_kiosk::app::ports::{Clock, Launcher};
use quickcard_kiosk::app::state::Settings;
use quickcard_kiosk::platform::MemoryStorage;
use quickcard_kiosk::platform::demo_frames::{
    DEMO_SCHOOL, DEMO_STUDENT, demo_card, demo_sequence, photo_sequence,
};
use quickcard_kiosk::platform::native::{SystemClock, ThreadCamera, TokioRuntime};
use quickcard_kiosk::platform::start::sample_photos;
use quickcard_kiosk::portal_client::{HttpPortal, RetryPolicy};
use quickcard_kiosk::scanner::ReplaySource;
use zeroize::Zeroizing;

#[derive(Clone, Default)]
struct RecordingLauncher(Arc<Mutex<Vec<String>>>);

impl Launcher for RecordingLauncher {
    fn open(&self, url: &str) -> Result<(), String> {
        self.0.lock().unwrap().push(url.to_string());
        Ok(())
    }
}

fn wait_for(
    h: &mut Harness<'static, KioskApp>,
    what: &str,
    mut done: impl FnMut(&Harness<'static, KioskApp>) -> bool,
) {
    let start = Instant::now();
    while !done(h) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what} (screen {})",
            h.state().kiosk().screen().name()
        );
        std::thread::sleep(Duration::from_millis(15));
        h.step();
    }
}

#[test]
fn replayed_card_to_dashboard_to_sign_out_against_a_real_portal() {
    let portal = quickcard_portal::demo::spawn(Default::default()).expect("demo portal");
    let runtime = Arc::new(TokioRuntime::new().unwrap());
    let clock = SystemClock::new();
    // The demo's own frames: classroom photos, then the sample photos of the demo student's
    // card (the scanner reads them from the JPEGs; nothing is drawn).
    assert_eq!(portal.school_id, DEMO_SCHOOL);
    let (_, frames) = photo_sequence(&sample_photos(), DEMO_STUDENT, clock.unix_secs(), 3, 6)
        .expect("the sample photos hold a valid card of the demo student");
    let source = ReplaySource::from_frames(frames, "e2e")
        .unwrap()
        .looping(true)
        .rate(Some(20.0));
    let launcher = RecordingLauncher::default();
    let services = Services {
        portal: Box::new(
            HttpPortal::new(
                &portal.url,
                Zeroizing::new(portal.kiosk_credential.clone()),
                TokioRuntime::sleeper(),
                RetryPolicy::default(),
            )
            .unwrap(),
        ),
        runtime: Box::new(runtime.clone()),
        clock: Box::new(clock),
        camera: Box::new(ThreadCamera::start(Box::new(source), Arc::new(|| {}))),
        launcher: Box::new(launcher.clone()),
        storage: Box::new(MemoryStorage::default()),
        repaint: Arc::new(|| {}),
    };
    let settings = Settings {
        demo: true,
        enrolled: true,
        school_id: Some(portal.school_id.clone()),
        portal_url: portal.url.clone(),
        ..Settings::default()
    };
    let app = KioskApp::new(Kiosk::new(settings, services), false);
    let mut h = Harness::builder()
        .with_size([1280.0, 800.0])
        .build_ui_state(|ui, app: &mut KioskApp| app.show(ui), app);
    h.step();

    wait_for(&mut h, "the scanning screen", |h| {
        h.state().kiosk().screen().name() == "scanning"
    });
    wait_for(&mut h, "the dashboard", |h| {
        h.state().kiosk().screen().name() == "dashboard"
    });
    h.step();
    let session = h.state().kiosk().session().expect("signed in");
    assert_eq!(session.user.id, DEMO_STUDENT);
    let greeting = format!("Hi, {}!", session.greeting_name());
    let first_app = session
        .apps
        .first()
        .expect("the demo student has apps")
        .name
        .clone();
    h.get_by_label(&greeting);

    h.get_by_label(&first_app).click();
    wait_for(&mut h, "the launcher", |_| {
        !launcher.0.lock().unwrap().is_empty()
    });
    let url = launcher.0.lock().unwrap()[0].clone();
    assert!(
        url.starts_with(&portal.url) && url.contains("/v1/launch/"),
        "{url}"
    );

    h.get_by_label("Sign out").click();
    h.step();
    h.step();
    assert_eq!(h.state().kiosk().screen().name(), "signed-out");
    assert!(h.state().kiosk().session().is_none());
    assert!(h.query_all_by_label(&greeting).next().is_none());

    // The portal's audit: exchange, launch and sign-out by this kiosk for this user.
    let http = reqwest::Client::new();
    let audit_url = format!("{}/v1/admin/audit?user={DEMO_STUDENT}", portal.url);
    let mut kinds: Vec<(String, String, Option<String>)> = Vec::new();
    for _ in 0..100 {
        let body: serde_json::Value = runtime
            .handle()
            .block_on(async {
                http.get(&audit_url)
                    .bearer_auth(&portal.admin_token)
                    .send()
                    .await?
                    .error_for_status()?
                    .json()
                    .await
            })
            .expect("audit");
        kinds = body["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["kind"].as_str().unwrap_or_default().to_string(),
                    r["result"].as_str().unwrap_or_default().to_string(),
                    r["kiosk_id"].as_str().map(str::to_string),
                )
            })
            .collect();
        if kinds.iter().any(|(k, _, _)| k == "sign_out") {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        h.step();
    }
    for kind in ["exchange", "launch", "sign_out"] {
        assert!(
            kinds.iter().any(|(k, r, kiosk)| k == kind
                && r == "ok"
                && kiosk.as_deref() == Some(portal.kiosk_id.as_str())),
            "no ok {kind} row from kiosk {}: {kinds:?}",
            portal.kiosk_id
        );
    }
    drop(h);
    portal.shutdown();
}

#[test]
fn enroll_trades_a_code_for_a_credential_stored_0600_that_the_portal_accepts() {
    let portal = quickcard_portal::demo::spawn(Default::default()).expect("demo portal");
    let rt = TokioRuntime::new().unwrap();
    let http = reqwest::Client::new();
    let reply: serde_json::Value = rt
        .handle()
        .block_on(async {
            http.post(format!("{}/v1/admin/kiosks", portal.url))
                .bearer_auth(&portal.admin_token)
                .json(&serde_json::json!({"name": "LAB-7", "school_id": portal.school_id}))
                .send()
                .await?
                .error_for_status()?
                .json()
                .await
        })
        .expect("new kiosk");
    let code = reply["enrolment_code"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kiosk.toml");
    let cfg = quickcard_kiosk::platform::start::enroll_command(&portal.url, &code, "LAB-7", &path)
        .unwrap();
    assert_eq!(cfg.school_id.as_deref(), Some(portal.school_id.as_str()));
    let cred_path = cfg.credential_path(&path).unwrap();
    use std::os::unix::fs::PermissionsExt;
    for f in [&path, &cred_path] {
        assert_eq!(
            std::fs::metadata(f).unwrap().permissions().mode() & 0o777,
            0o600,
            "{}",
            f.display()
        );
    }
    // The stored credential works; the code cannot be used twice.
    let cred = quickcard_kiosk::config::Config::load(&path)
        .unwrap()
        .load_credential(&path)
        .unwrap();
    let client = HttpPortal::new(
        &portal.url,
        cred,
        TokioRuntime::sleeper(),
        RetryPolicy::default(),
    )
    .unwrap();
    use quickcard_kiosk::app::ports::PortalApi;
    let kc = rt
        .handle()
        .block_on(client.kiosk_config())
        .expect("config with the new credential");
    assert_eq!(kc.school_id, portal.school_id);
    assert!(kc.trust.iter().any(|k| k.public.is_demo()));
    let again = quickcard_kiosk::platform::start::enroll_command(
        &portal.url,
        &code,
        "LAB-7",
        &dir.path().join("b.toml"),
    );
    assert!(again.is_err());
    portal.shutdown();
}

fn kiosk_for(
    portal: &quickcard_portal::demo::DemoPortal,
    runtime: &Arc<TokioRuntime>,
    frames: Vec<quickcard_kiosk::scanner::Frame>,
) -> Harness<'static, KioskApp> {
    let source = ReplaySource::from_frames(frames, "e2e")
        .unwrap()
        .looping(true)
        .rate(Some(20.0));
    let services = Services {
        portal: Box::new(
            HttpPortal::new(
                &portal.url,
                Zeroizing::new(portal.kiosk_credential.clone()),
                TokioRuntime::sleeper(),
                RetryPolicy::default(),
            )
            .unwrap(),
        ),
        runtime: Box::new(runtime.clone()),
        clock: Box::new(SystemClock::new()),
        camera: Box::new(ThreadCamera::start(Box::new(source), Arc::new(|| {}))),
        launcher: Box::new(RecordingLauncher::default()),
        storage: Box::new(MemoryStorage::default()),
        repaint: Arc::new(|| {}),
    };
    let settings = Settings {
        demo: true,
        enrolled: true,
        school_id: Some(portal.school_id.clone()),
        portal_url: portal.url.clone(),
        ..Settings::default()
    };
    let mut h = Harness::builder()
        .with_size([1280.0, 800.0])
        .build_ui_state(
            |ui, app: &mut KioskApp| app.show(ui),
            KioskApp::new(Kiosk::new(settings, services), false),
        );
    h.step();
    h
}

#[test]
fn a_teacher_card_needs_the_pin_and_the_portal_checks_it() {
    let portal = quickcard_portal::demo::spawn(Default::default()).expect("demo portal");
    let runtime = Arc::new(TokioRuntime::new().unwrap());
    let now = SystemClock::new().unix_secs();
    let card = demo_card(
        "tea-rivera",
        quickcard::Role::Teacher,
        &portal.school_id,
        now,
        true,
    );
    let frames = demo_sequence(&sample_photos(), &card, 2, 6);
    let mut h = kiosk_for(&portal, &runtime, frames);
    wait_for(&mut h, "the PIN pad", |h| {
        h.state().kiosk().screen().name() == "pin-pad"
    });
    h.step();
    let type_pin = |h: &mut Harness<'static, KioskApp>, pin: &str| {
        for d in pin.chars() {
            h.get_by_label(&d.to_string()).click();
            h.step();
        }
        h.get_by_label("OK").click();
        h.step();
    };
    type_pin(&mut h, "9999");
    wait_for(&mut h, "the wrong-PIN message", |h| {
        h.query_all_by_label_contains("Wrong PIN").next().is_some()
    });
    type_pin(&mut h, quickcard_portal::demo::DEMO_PIN);
    wait_for(&mut h, "the dashboard", |h| {
        h.state().kiosk().screen().name() == "dashboard"
    });
    assert_eq!(h.state().kiosk().session().unwrap().user.id, "tea-rivera");
    drop(h);
    portal.shutdown();
}

#[test]
fn a_portal_that_is_down_is_reported_unreachable_after_retries() {
    use quickcard_kiosk::app::ports::PortalApi;
    use quickcard_kiosk::portal_client::PortalError;
    let rt = TokioRuntime::new().unwrap();
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let retry = RetryPolicy {
        attempts: 3,
        first_backoff: Duration::from_millis(10),
        timeout: Duration::from_secs(2),
    };
    let client = HttpPortal::new(
        &format!("http://127.0.0.1:{port}"),
        Zeroizing::new("x".into()),
        TokioRuntime::sleeper(),
        retry,
    )
    .unwrap();
    let t0 = Instant::now();
    let e = rt.handle().block_on(client.kiosk_config()).unwrap_err();
    assert!(matches!(e, PortalError::Unreachable(_)), "{e:?}");
    // Two back-offs happened (10 ms + 20 ms).
    assert!(t0.elapsed() >= Duration::from_millis(30));
}

#[test]
fn every_card_in_the_sample_photos_belongs_to_a_roster_user_the_demo_portal_signs_in() {
    let portal = quickcard_portal::demo::spawn(Default::default()).expect("demo portal");
    let runtime = Arc::new(TokioRuntime::new().unwrap());
    let now = SystemClock::new().unix_secs();
    let manifest: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(sample_photos().join("manifest.json")).unwrap(),
    )
    .unwrap();
    let mut subjects: Vec<String> = manifest
        .iter()
        .filter_map(|e| e["subject"].as_str().map(String::from))
        .collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), 4, "{subjects:?}");
    for subject in subjects {
        let (_, frames) = photo_sequence(&sample_photos(), &subject, now, 1, 4)
            .unwrap_or_else(|| panic!("photos of {subject}'s card"));
        let mut h = kiosk_for(&portal, &runtime, frames);
        wait_for(&mut h, "the dashboard or the PIN pad", |h| {
            matches!(h.state().kiosk().screen().name(), "dashboard" | "pin-pad")
        });
        // The teacher's card was printed without a second factor; the portal's policy asks
        // every adult for the PIN anyway.
        if h.state().kiosk().screen().name() == "pin-pad" {
            assert!(subject.starts_with("tea-"), "{subject} was asked for a PIN");
            h.step();
            for d in quickcard_portal::demo::DEMO_PIN.chars() {
                h.get_by_label(&d.to_string()).click();
                h.step();
            }
            h.get_by_label("OK").click();
            h.step();
            wait_for(&mut h, "the dashboard", |h| {
                h.state().kiosk().screen().name() == "dashboard"
            });
        }
        let session = h.state().kiosk().session().expect("signed in");
        assert_eq!(session.user.id, subject);
    }
}
