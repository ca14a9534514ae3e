//! A real headless Chromium with a fake camera, driven over WebDriver, for the browser kiosk's
//! tests (`tests/web_kiosk.rs`) and benchmark (`benches/web.rs`).
//!
//! Why a small client of our own rather than a WebDriver crate: the tests need six commands
//! (new session, navigate, title, run a script, screenshot, end), and the kiosk already has an
//! HTTP client (reqwest); a WebDriver crate would bring a second hyper/TLS stack.
//!
//! The camera is Chromium's own fake capture device playing a `.y4m` video
//! (`--use-file-for-fake-video-capture`), so frames take the browser's real path:
//! `getUserMedia` → `<video>` → canvas → the wasm scanner. [`write_y4m`] makes such videos from
//! the sample photos or from rendered codes.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The built browser kiosk (`scripts/build-web.sh`): `QUICKCARD_WEB_BUNDLE`, else `target/web`.
pub fn bundle_dir() -> PathBuf {
    let dir = std::env::var_os("QUICKCARD_WEB_BUNDLE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/web"));
    assert!(
        dir.join("index.html").exists(),
        "no browser kiosk bundle in {}: run scripts/build-web.sh first",
        dir.display()
    );
    dir
}

/// A demo portal (sample roster, demo key) that serves the browser kiosk from `web_dir`,
/// started off the async runtime because starting it blocks.
pub async fn web_portal(
    web_dir: PathBuf,
    mut options: quickcard_portal::demo::DemoOptions,
) -> quickcard_portal::demo::DemoPortal {
    options.config.web_dir = Some(web_dir);
    tokio::task::spawn_blocking(move || quickcard_portal::demo::spawn(options))
        .await
        .unwrap()
        .expect("demo portal serving the browser kiosk")
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `chromedriver` on a free port; killed when dropped.
#[derive(Debug)]
pub struct Driver {
    child: Child,
    pub url: String,
    http: reqwest::Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    pub async fn start() -> Driver {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian: apt-get install chromium-driver)");
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let start = Instant::now();
        loop {
            if let Ok(r) = http.get(format!("{url}/status")).send().await
                && let Ok(v) = r.json::<Value>().await
                && v["value"]["ready"] == json!(true)
            {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Driver { child, url, http }
    }

    /// A fresh headless Chromium whose camera plays `video` (a `.y4m` file), with an empty
    /// profile in `profile`.
    pub async fn browser(&self, video: &Path, profile: &Path) -> Browser {
        std::fs::create_dir_all(profile).unwrap();
        let args = [
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--window-size=1280,800".into(),
            format!("--user-data-dir={}", profile.display()),
            "--use-fake-ui-for-media-stream".into(),
            "--use-fake-device-for-media-stream".into(),
            format!("--use-file-for-fake-video-capture={}", video.display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium_binary(), "args": args},
        }}});
        let reply = self.call("POST", "/session", Some(caps)).await;
        let id = reply["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {reply}"))
            .to_string();
        Browser {
            base: format!("{}/session/{id}", self.url),
            http: self.http.clone(),
        }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        call(&self.http, method, &format!("{}{path}", self.url), body).await
    }
}

fn chromium_binary() -> String {
    for c in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(c).exists() {
            return c.into();
        }
    }
    "chromium".into()
}

async fn call(http: &reqwest::Client, method: &str, url: &str, body: Option<Value>) -> Value {
    let req = match method {
        "GET" => http.get(url),
        "DELETE" => http.delete(url),
        _ => http.post(url).json(&body.unwrap_or_else(|| json!({}))),
    };
    let reply: Value = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("WebDriver {method} {url}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("WebDriver {method} {url}: {e}"));
    let value = reply["value"].clone();
    if let Some(err) = value.get("error") {
        panic!("WebDriver {method} {url}: {err}: {}", value["message"]);
    }
    value
}

/// One browser session.
#[derive(Debug)]
pub struct Browser {
    base: String,
    http: reqwest::Client,
}

impl Browser {
    pub async fn goto(&self, url: &str) {
        call(
            &self.http,
            "POST",
            &format!("{}/url", self.base),
            Some(json!({"url": url})),
        )
        .await;
    }

    pub async fn title(&self) -> String {
        call(&self.http, "GET", &format!("{}/title", self.base), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Runs `script` (a function body) in the page and returns its value.
    pub async fn run(&self, script: &str) -> Value {
        call(
            &self.http,
            "POST",
            &format!("{}/execute/sync", self.base),
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// The kiosk's screen state as the page mirrors it (`scanning`, `dashboard`,
    /// `error:revoked`, …), from the document title.
    pub async fn state(&self) -> String {
        let t = self.title().await;
        t.strip_prefix("QuickCard kiosk — ")
            .unwrap_or(&t)
            .to_string()
    }

    /// Waits until the state is `want`; returns every state seen on the way. Panics with that
    /// list after `timeout`.
    pub async fn wait_for_state(&self, want: &str, timeout: Duration) -> Vec<String> {
        let start = Instant::now();
        let mut seen: Vec<String> = Vec::new();
        loop {
            let s = self.state().await;
            if seen.last() != Some(&s) {
                seen.push(s.clone());
            }
            if s == want {
                return seen;
            }
            assert!(
                start.elapsed() < timeout,
                "the page never reached {want:?}; states seen: {seen:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The labels of the buttons the page mirrors for assistive technology.
    pub async fn buttons(&self) -> Vec<String> {
        let v = self
            .run(
                "return [...document.querySelectorAll('#quickcard-actions button')]\
                 .map(b => b.dataset.label)",
            )
            .await;
        serde_json::from_value(v).unwrap_or_default()
    }

    /// Presses the screen's button labelled `label` through its HTML mirror, as a screen
    /// reader or switch access would.
    pub async fn press(&self, label: &str) {
        let script = format!(
            "const b = [...document.querySelectorAll('#quickcard-actions button')]\
             .find(b => b.dataset.label === {}); if (!b) return false; b.click(); return true",
            json!(label)
        );
        let pressed = self.run(&script).await;
        assert_eq!(
            pressed,
            json!(true),
            "no button {label:?} on the page; buttons: {:?}",
            self.buttons().await
        );
    }

    /// A PNG of the page.
    pub async fn screenshot(&self) -> Vec<u8> {
        use base64::Engine as _;
        let v = call(
            &self.http,
            "GET",
            &format!("{}/screenshot", self.base),
            None,
        )
        .await;
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or_default())
            .expect("base64 screenshot")
    }

    /// How long a script may run (`run` awaits promises), e.g. for a benchmark loop.
    pub async fn script_timeout(&self, t: Duration) {
        call(
            &self.http,
            "POST",
            &format!("{}/timeouts", self.base),
            Some(json!({"script": t.as_millis() as u64})),
        )
        .await;
    }

    pub async fn close(self) {
        let _ = self.http.delete(&self.base).send().await;
    }
}

impl Browser {
    /// The page's Content-Security-Policy violations since it loaded, as `directive blocked`
    /// (the browser keeps them for a `buffered` `ReportingObserver`).
    pub async fn csp_violations(&self) -> Vec<String> {
        let v = self
            .run(
                "return new Promise(done => { \
                   const seen = []; \
                   const take = rs => rs.forEach(r => seen.push( \
                     r.body.effectiveDirective + ' ' + (r.body.blockedURL || r.body.sample || ''))); \
                   const o = new ReportingObserver(take, {types: ['csp-violation'], buffered: true}); \
                   o.observe(); \
                   setTimeout(() => { take(o.takeRecords()); o.disconnect(); done(seen); }, 500); \
                 })",
            )
            .await;
        serde_json::from_value(v).unwrap_or_default()
    }
}

/// Where the page scans camera frames, as it publishes it on its live region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanCounts {
    /// `worker` (the scan worker) or `inline` (the page's own thread).
    pub place: String,
    /// Frames scanned in the scan worker.
    pub worker: u64,
    /// Frames scanned on the page's own thread.
    pub inline: u64,
}

impl Browser {
    pub async fn scan_counts(&self) -> ScanCounts {
        let v = self
            .run(
                "const d = document.getElementById('quickcard-state').dataset; \
                 return [d.scanner || '', Number(d.workerFrames || 0), Number(d.inlineFrames || 0)]",
            )
            .await;
        ScanCounts {
            place: v[0].as_str().unwrap_or_default().to_string(),
            worker: v[1].as_u64().unwrap_or(0),
            inline: v[2].as_u64().unwrap_or(0),
        }
    }
}

/// Writes `frames` (RGB images, all the same size with even sides) as a 15 fps `.y4m` video in
/// 4:2:0, the format Chromium's fake camera plays (in a loop).
pub fn write_y4m(path: &Path, frames: &[image::RgbImage]) {
    use std::io::Write;
    let (w, h) = frames[0].dimensions();
    assert!(w % 2 == 0 && h % 2 == 0, "y4m 4:2:0 needs even sides");
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(out, "YUV4MPEG2 W{w} H{h} F15:1 Ip A1:1 C420jpeg").unwrap();
    for f in frames {
        assert_eq!(f.dimensions(), (w, h));
        let mut y = Vec::with_capacity((w * h) as usize);
        let mut u = Vec::with_capacity((w * h / 4) as usize);
        let mut v = Vec::with_capacity((w * h / 4) as usize);
        for p in f.pixels() {
            let [r, g, b] = p.0.map(f32::from);
            y.push(
                (0.299 * r + 0.587 * g + 0.114 * b)
                    .round()
                    .clamp(0.0, 255.0) as u8,
            );
        }
        for cy in 0..h / 2 {
            for cx in 0..w / 2 {
                let (mut r, mut g, mut b) = (0.0f32, 0.0f32, 0.0f32);
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let p = f.get_pixel(cx * 2 + dx, cy * 2 + dy).0;
                    r += f32::from(p[0]) / 4.0;
                    g += f32::from(p[1]) / 4.0;
                    b += f32::from(p[2]) / 4.0;
                }
                u.push((128.0 - 0.168_736 * r - 0.331_264 * g + 0.5 * b).clamp(0.0, 255.0) as u8);
                v.push((128.0 + 0.5 * r - 0.418_688 * g - 0.081_312 * b).clamp(0.0, 255.0) as u8);
            }
        }
        out.write_all(b"FRAME\n").unwrap();
        out.write_all(&y).unwrap();
        out.write_all(&u).unwrap();
        out.write_all(&v).unwrap();
    }
    out.flush().unwrap();
}

/// Reads the luma planes of a `.y4m` written by [`write_y4m`] (for native timing on the same
/// frames): `(width, height, planes)`.
pub fn read_y4m_luma(path: &Path) -> (u32, u32, Vec<Vec<u8>>) {
    let data = std::fs::read(path).unwrap();
    let header_end = data.iter().position(|&b| b == b'\n').unwrap();
    let header = std::str::from_utf8(&data[..header_end]).unwrap();
    let field = |p: char| -> u32 {
        header
            .split(' ')
            .find_map(|f| f.strip_prefix(p))
            .unwrap()
            .parse()
            .unwrap()
    };
    let (w, h) = (field('W'), field('H'));
    let frame_len = (w * h + 2 * (w / 2) * (h / 2)) as usize;
    let mut planes = Vec::new();
    let mut at = header_end + 1;
    while at + 6 + frame_len <= data.len() {
        assert_eq!(&data[at..at + 6], b"FRAME\n");
        at += 6;
        planes.push(data[at..at + (w * h) as usize].to_vec());
        at += frame_len;
    }
    (w, h, planes)
}

/// A sample photo (`sample-cards/photos/NAME`) as an RGB frame.
pub fn sample_photo(name: &str) -> image::RgbImage {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-cards/photos")
        .join(name);
    image::open(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8()
}

/// The first sample photo of `category` showing `subject`'s card (from the photo manifest).
pub fn photo_of(category: &str, subject: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-cards/photos/manifest.json");
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let frames = manifest
        .as_array()
        .or_else(|| manifest["frames"].as_array())
        .expect("manifest is a list of frames");
    frames
        .iter()
        .find(|f| f["category"] == json!(category) && f["subject"] == json!(subject))
        .and_then(|f| f["file"].as_str())
        .unwrap_or_else(|| panic!("no {category} photo of {subject}'s card"))
        .to_string()
}

/// A QR code of `text` drawn large and centred on a white 1280×720 frame, like a card held up
/// close.
pub fn code_frame(text: &str) -> image::RgbImage {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M).unwrap();
    let modules = code.width() as u32;
    let scale = 440 / (modules + 8);
    let side = (modules + 8) * scale;
    let mut img = image::RgbImage::from_pixel(1280, 720, image::Rgb([255, 255, 255]));
    let (x0, y0) = ((1280 - side) / 2, (720 - side) / 2);
    for (i, c) in code.to_colors().iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (mx, my) = ((i as u32) % modules + 4, (i as u32) / modules + 4);
            for dy in 0..scale {
                for dx in 0..scale {
                    img.put_pixel(
                        x0 + mx * scale + dx,
                        y0 + my * scale + dy,
                        image::Rgb([20, 20, 20]),
                    );
                }
            }
        }
    }
    img
}

/// One JSON call to the demo portal (`admin`: with its admin token); the reply's JSON.
async fn portal_call(
    portal: &quickcard_portal::demo::DemoPortal,
    path: &str,
    body: Option<Value>,
    admin: bool,
) -> Value {
    let http = reqwest::Client::new();
    let url = format!("{}{path}", portal.url);
    let mut req = match body {
        Some(b) => http.post(url).json(&b),
        None => http.get(url),
    };
    if admin {
        req = req.bearer_auth(&portal.admin_token);
    }
    req.send()
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Enrols a kiosk named `name` at the demo portal through the admin API (as a lab technician
/// would), returning its id and credential.
pub async fn enrol_kiosk(
    portal: &quickcard_portal::demo::DemoPortal,
    name: &str,
) -> (String, String) {
    let body = json!({"name": name, "school_id": portal.school_id});
    let added = portal_call(portal, "/v1/admin/kiosks", Some(body), true).await;
    let body = json!({"code": added["enrolment_code"]});
    let enrolled = portal_call(portal, "/v1/kiosks/enroll", Some(body), false).await;
    (
        enrolled["kiosk_id"].as_str().expect("kiosk id").to_string(),
        enrolled["credential"]
            .as_str()
            .expect("credential")
            .to_string(),
    )
}

/// A runtime for the async WebDriver and HTTP calls of a test.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The portal's audit rows of `kind` for `user`, through the admin API.
pub async fn audit_rows(
    portal: &quickcard_portal::demo::DemoPortal,
    user: &str,
    kind: &str,
) -> Vec<Value> {
    let body = portal_call(portal, &format!("/v1/admin/audit?user={user}"), None, true).await;
    body["rows"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r["kind"] == json!(kind))
        .collect()
}

/// Revokes every card of `user` issued until now, through the admin API.
pub async fn revoke(portal: &quickcard_portal::demo::DemoPortal, user: &str) {
    let path = format!("/v1/admin/users/{user}/revoke");
    let revoked = portal_call(portal, &path, Some(json!({"reason": "lost"})), true).await;
    assert_eq!(revoked["user_id"], json!(user), "{revoked}");
}
