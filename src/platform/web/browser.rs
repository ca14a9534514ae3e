//! The browser's platform parts and the page's entry point (wasm32, feature `web`).
//!
//! - [`WebRuntime`]: futures run with `wasm_bindgen_futures::spawn_local`; sleeps are
//!   `setTimeout` promises. Nothing blocks: they all run on the page's one thread.
//! - [`WebClock`]: `Date.now()` for card dates, `performance.now()` (via `web-time`) for timers.
//! - [`VideoSource`]: the camera as a scanner [`FrameSource`]: `getUserMedia` (1280×720 ideal,
//!   facing mode from the page address) → a muted, autoplaying, off-screen `<video>` → an
//!   off-screen canvas whose 2d context has `willReadFrequently: true` → `drawImage` +
//!   `getImageData`. Wrapped in an [`OffThreadCamera`] that transfers each picture's buffer to
//!   the scan worker ([`super::worker`]), so the page's thread only grabs and draws; where no
//!   worker can run, in a [`SampledCamera`] that scans a few frames a second on the page's
//!   thread ([`Frame::from_rgba`] + the scanner).
//! - [`WebLauncher`]: opens launch URLs in a new window; on the Chromebook sign-in page it
//!   passes the ChromeOS password to the Chrome Credentials Passing API and posts the signed
//!   SAML response to Google's ACS URL.
//! - [`LocalStorage`]: the portal's trust list and revocations in `localStorage` (the kiosk's
//!   own data only, never anything about a user).
//! - [`start`]: `#[wasm_bindgen(start)]` (also runs in the scan worker, which loads this same
//!   module, and does nothing there), reads the page address ([`super::page`]) and runs the
//!   kiosk app in `<canvas id="quickcard">` with eframe's `WebRunner` (glow/WebGL2). The
//!   document title and the `#quickcard-state` live region mirror the screen state, and
//!   `#quickcard-actions` holds a real HTML `<button>` for every button on the screen (the
//!   canvas is opaque to screen readers and switch access; tests press buttons by label).
//!
//! Panics: on wasm32 a panic aborts the module (no unwinding), so the scanner's
//! `catch_unwind` around `rqrr` cannot contain one here. The page (`web/index.html`) reloads
//! itself after a crash, with a growing delay; see there.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use eframe::egui;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    CanvasRenderingContext2d, DomException, HtmlCanvasElement, HtmlVideoElement, ImageData,
    MediaStream, MediaStreamConstraints, MediaStreamTrack,
};
use zeroize::Zeroizing;

use super::offthread::{OffThreadCamera, Rgba, RgbaSource};
use super::page::{self, Facing, Mode, PageStart};
use super::sampled::{SampledCamera, ScanTimes};
use super::worker::{self, WorkerChannel};
use crate::app::KioskApp;
use crate::app::driver::{Kiosk, Services};
use crate::app::ports::{
    BoxFuture, Camera, CameraEvent, Clock, Launcher, Repaint, Runtime, Storage,
};
use crate::app::state::{ErrorKind, Screen, Settings};
use crate::portal_client::{HttpPortal, RetryPolicy, SignInHandoff, Sleeper};
use crate::scanner::{Frame, FrameSource, SourceError};

/// The id of the canvas the app draws into.
pub const CANVAS_ID: &str = "quickcard";
/// The id of the ARIA live region that mirrors the screen state.
pub const LIVE_REGION_ID: &str = "quickcard-state";
/// The page's full-screen notice (`index.html`), where a kiosk that cannot start says why.
const NOTICE_ID: &str = "quickcard-notice";
/// The id of the element holding the HTML mirror of the screen's buttons.
pub const ACTIONS_ID: &str = "quickcard-actions";
/// `localStorage` keys start with this.
pub const STORAGE_PREFIX: &str = "quickcard-kiosk:";
/// The kiosk credential's storage name (the kiosk's own secret, not a user's).
pub const CREDENTIAL_KEY: &str = "kiosk-credential";

/// Resolves after `d` (a `setTimeout` promise).
pub async fn sleep(d: Duration) {
    let ms = d.as_millis().min(i32::MAX as u128) as i32;
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// The portal client's back-off sleeper.
pub fn sleeper() -> Sleeper {
    Arc::new(|d| Box::pin(sleep(d)))
}

/// Runs futures on the page's event loop.
#[derive(Debug, Clone, Copy, Default)]
pub struct WebRuntime;

impl Runtime for WebRuntime {
    fn spawn(&self, fut: BoxFuture<'static, ()>) {
        wasm_bindgen_futures::spawn_local(fut);
    }
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        Box::pin(sleep(d))
    }
}

/// `Date.now()` and `performance.now()`.
#[derive(Debug, Clone, Copy)]
pub struct WebClock {
    start: web_time::Instant,
}

impl WebClock {
    pub fn new() -> WebClock {
        WebClock {
            start: web_time::Instant::now(),
        }
    }
}

impl Default for WebClock {
    fn default() -> Self {
        WebClock::new()
    }
}

impl Clock for WebClock {
    fn unix_secs(&self) -> u64 {
        (js_sys::Date::now() / 1000.0).max(0.0) as u64
    }
    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }
}

/// Opens launch URLs in a new window (a ChromeOS kiosk app may open windows).
#[derive(Debug, Clone, Copy, Default)]
pub struct WebLauncher;

impl Launcher for WebLauncher {
    fn open(&self, url: &str) -> Result<(), String> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!(
                "refusing to open a non-web URL ({} chars)",
                url.len()
            ));
        }
        let window = web_sys::window().ok_or("no browser window")?;
        match window.open_with_url_and_target(url, "_blank") {
            Ok(Some(_)) => Ok(()),
            Ok(None) => {
                Err("the browser blocked the new window; allow pop-ups for this site".into())
            }
            Err(e) => Err(format!("cannot open the app: {}", js_text(&e))),
        }
    }

    fn sign_in(&self, handoff: &SignInHandoff) -> Result<(), String> {
        if !(handoff.acs_url.starts_with("https://") || handoff.acs_url.starts_with("http://")) {
            return Err("the portal sent a sign-in target that is not a web address".into());
        }
        let window = web_sys::window().ok_or("no browser window")?;
        pass_credentials(&window, handoff);
        let document = window.document().ok_or("no document")?;
        let form: web_sys::HtmlFormElement = document
            .create_element("form")
            .and_then(|f| f.dyn_into().map_err(JsValue::from))
            .map_err(|e| format!("cannot make the sign-in form: {}", js_text(&e)))?;
        form.set_method("post");
        form.set_action(&handoff.acs_url);
        form.set_attribute("hidden", "").ok();
        let mut fields = vec![("SAMLResponse", handoff.saml_response.as_str())];
        if !handoff.relay_state.is_empty() {
            fields.push(("RelayState", handoff.relay_state.as_str()));
        }
        for (name, value) in fields {
            let input = document
                .create_element("input")
                .map_err(|e| format!("cannot make the sign-in form: {}", js_text(&e)))?;
            // Properties, not markup: nothing in the values is ever parsed as HTML.
            input.set_attribute("type", "hidden").ok();
            input.set_attribute("name", name).ok();
            input.set_attribute("value", value).ok();
            form.append_child(&input).ok();
        }
        document
            .body()
            .ok_or("no page body")?
            .append_child(&form)
            .map_err(|e| format!("cannot make the sign-in form: {}", js_text(&e)))?;
        // A moment for ChromeOS to take the credentials in (its listener forwards them to the
        // sign-in screen asynchronously) before the page leaves.
        let submit = Closure::once_into_js(move || {
            if let Err(e) = form.submit() {
                web_sys::console::error_1(&e);
            }
        });
        window
            .set_timeout_with_callback_and_timeout_and_arguments_0(
                submit.unchecked_ref(),
                CREDENTIALS_SETTLE_MS,
            )
            .map_err(|e| format!("cannot post the sign-in: {}", js_text(&e)))?;
        Ok(())
    }
}

/// How long the sign-in page waits between handing ChromeOS the password and leaving.
const CREDENTIALS_SETTLE_MS: i32 = 300;

/// The Chrome Credentials Passing API (`gaia_saml_api` messages to the page's own window, which
/// ChromeOS's sign-in screen listens to): `initialize`, `add` the user's ChromeOS password as a
/// plain password, then `confirm` that the sign-in succeeded. Outside the ChromeOS sign-in
/// screen nobody listens and the messages are dropped. The password is the per-user secret the
/// portal keeps (never typed, printed or in the QR), so the same child on the same Chromebook
/// gets the same encrypted home and lock screen every time.
fn pass_credentials(window: &web_sys::Window, handoff: &SignInHandoff) {
    let token = format!("quickcard-{}", js_sys::Date::now() as u64);
    let call = |fields: &[(&str, JsValue)]| {
        let call = js_sys::Object::new();
        for (k, v) in fields {
            let _ = js_sys::Reflect::set(&call, &(*k).into(), v);
        }
        let msg = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&msg, &"type".into(), &"gaia_saml_api".into());
        let _ = js_sys::Reflect::set(&msg, &"call".into(), &call);
        // Only this page's own origin receives it.
        if let Err(e) = window.post_message(&msg, "/") {
            web_sys::console::warn_1(&e);
        }
    };
    call(&[
        ("method", "initialize".into()),
        ("requestedVersion", 1.into()),
    ]);
    if !handoff.password.is_empty() {
        call(&[
            ("method", "add".into()),
            ("token", token.as_str().into()),
            ("user", handoff.email.as_str().into()),
            ("passwordBytes", handoff.password.as_str().into()),
            ("keyType", "KEY_TYPE_PASSWORD_PLAIN".into()),
        ]);
    }
    call(&[
        ("method", "confirm".into()),
        ("token", token.as_str().into()),
    ]);
}

/// `localStorage`, every key prefixed with [`STORAGE_PREFIX`].
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalStorage;

impl LocalStorage {
    fn store() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok()?
    }
}

impl Storage for LocalStorage {
    fn load(&self, name: &str) -> Option<String> {
        Self::store()?
            .get_item(&format!("{STORAGE_PREFIX}{name}"))
            .ok()?
    }
    fn save(&self, name: &str, text: &str) -> Result<(), String> {
        Self::store()
            .ok_or("this browser keeps no local storage for the page")?
            .set_item(&format!("{STORAGE_PREFIX}{name}"), text)
            .map_err(|e| format!("cannot store {name}: {}", js_text(&e)))
    }
}

enum VideoState {
    Starting,
    Playing {
        video: HtmlVideoElement,
        stream: MediaStream,
    },
    Failed(SourceError),
}

/// How long to wait before asking for a missing, busy or unplugged camera again.
const CAMERA_RETRY_MS: u64 = 2_000;

/// The camera through `getUserMedia`, read by drawing the `<video>` into a canvas.
pub struct VideoSource {
    state: Rc<RefCell<VideoState>>,
    label: Rc<RefCell<String>>,
    canvas: HtmlCanvasElement,
    ctx: CanvasRenderingContext2d,
    facing: Facing,
    clock: WebClock,
    retry_at_ms: u64,
}

impl std::fmt::Debug for VideoSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoSource")
            .field("facing", &self.facing)
            .finish_non_exhaustive()
    }
}

impl VideoSource {
    /// Creates the off-screen canvas and asks for the camera (the answer comes later: until
    /// then [`FrameSource::next_frame`] returns `Ok(None)`).
    pub fn start(facing: Facing) -> Result<VideoSource, SourceError> {
        let document = web_sys::window()
            .and_then(|w| w.document())
            .ok_or_else(|| SourceError::Camera("no document".into()))?;
        let canvas: HtmlCanvasElement = document
            .create_element("canvas")
            .map_err(|e| SourceError::Camera(js_text(&e)))?
            .dyn_into()
            .map_err(|_| SourceError::Camera("not a canvas".into()))?;
        let opts = js_sys::Object::new();
        js_sys::Reflect::set(&opts, &"willReadFrequently".into(), &JsValue::TRUE)
            .map_err(|e| SourceError::Camera(js_text(&e)))?;
        let ctx: CanvasRenderingContext2d = canvas
            .get_context_with_context_options("2d", &opts)
            .map_err(|e| SourceError::Camera(js_text(&e)))?
            .ok_or_else(|| SourceError::Camera("no 2d canvas".into()))?
            .dyn_into()
            .map_err(|_| SourceError::Camera("no 2d canvas".into()))?;
        let src = VideoSource {
            state: Rc::new(RefCell::new(VideoState::Starting)),
            label: Rc::new(RefCell::new(String::new())),
            canvas,
            ctx,
            facing,
            clock: WebClock::new(),
            retry_at_ms: 0,
        };
        src.open();
        Ok(src)
    }

    fn open(&self) {
        *self.state.borrow_mut() = VideoState::Starting;
        let (state, label, facing) = (self.state.clone(), self.label.clone(), self.facing);
        wasm_bindgen_futures::spawn_local(async move {
            let next = match open_camera(facing).await {
                Ok((video, stream, name)) => {
                    *label.borrow_mut() = name;
                    VideoState::Playing { video, stream }
                }
                Err(e) => VideoState::Failed(e),
            };
            *state.borrow_mut() = next;
        });
    }

    /// The current picture of `video`, as `getImageData` gives it (`None` before the first).
    fn grab(&self, video: &HtmlVideoElement) -> Result<Option<ImageData>, SourceError> {
        // HAVE_CURRENT_DATA: a picture is there to copy.
        if video.ready_state() < 2 {
            return Ok(None);
        }
        let (w, h) = (video.video_width(), video.video_height());
        if w == 0 || h == 0 {
            return Ok(None);
        }
        if self.canvas.width() != w {
            self.canvas.set_width(w);
        }
        if self.canvas.height() != h {
            self.canvas.set_height(h);
        }
        let err = |e: JsValue| SourceError::Camera(js_text(&e));
        self.ctx
            .draw_image_with_html_video_element(video, 0.0, 0.0)
            .map_err(err)?;
        self.ctx
            .get_image_data(0.0, 0.0, w as f64, h as f64)
            .map(Some)
            .map_err(err)
    }

    /// The next picture, or why there is none (asking for the camera again when it was
    /// missing, busy or unplugged).
    fn next_picture(&mut self) -> Result<Option<ImageData>, SourceError> {
        let now = self.clock.now_ms();
        let mut unplugged = false;
        let result = match &*self.state.borrow() {
            VideoState::Starting => Ok(None),
            VideoState::Failed(e) => {
                if e.is_transient() && now >= self.retry_at_ms {
                    // Asked again below, after the borrow ends.
                    unplugged = true;
                }
                Err(e.clone())
            }
            VideoState::Playing { video, stream } => {
                if stream.active() {
                    self.grab(video)
                } else {
                    video.remove();
                    unplugged = true;
                    Err(SourceError::Unplugged)
                }
            }
        };
        if unplugged {
            if matches!(&*self.state.borrow(), VideoState::Playing { .. }) {
                *self.state.borrow_mut() = VideoState::Failed(SourceError::Unplugged);
                self.retry_at_ms = now + CAMERA_RETRY_MS;
            } else {
                self.retry_at_ms = now + CAMERA_RETRY_MS;
                self.open();
            }
        }
        result
    }
}

impl FrameSource for VideoSource {
    /// For scanning on the page's thread: the pixels copied into wasm memory.
    fn next_frame(&mut self) -> Result<Option<Frame>, SourceError> {
        let Some(data) = self.next_picture()? else {
            return Ok(None);
        };
        let (w, h) = (data.width(), data.height());
        Frame::from_rgba(w, h, &data.data().0)
            .map(Some)
            .ok_or_else(|| SourceError::Camera(format!("the camera frame is not {w}x{h}")))
    }

    fn describe(&self) -> String {
        let label = self.label.borrow();
        if label.is_empty() {
            format!("browser camera ({})", self.facing.constraint())
        } else {
            format!("browser camera: {label}")
        }
    }
}

impl RgbaSource for VideoSource {
    type Data = js_sys::ArrayBuffer;

    /// For the scan worker: the `ImageData`'s own buffer, to be transferred, not copied.
    fn next_rgba(&mut self) -> Result<Option<Rgba<js_sys::ArrayBuffer>>, SourceError> {
        let Some(data) = self.next_picture()? else {
            return Ok(None);
        };
        worker::rgba_of(&data)
            .map(Some)
            .map_err(SourceError::Camera)
    }
}

async fn open_camera(
    facing: Facing,
) -> Result<(HtmlVideoElement, MediaStream, String), SourceError> {
    let window = web_sys::window().ok_or_else(|| SourceError::Camera("no window".into()))?;
    let devices = window.navigator().media_devices().map_err(|_| {
        SourceError::Camera("this page cannot use cameras (it must be served over https)".into())
    })?;
    let video_c = js_sys::Object::new();
    let ideal = |v: JsValue| {
        let o = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&o, &"ideal".into(), &v);
        o
    };
    let set = |k: &str, v: &JsValue| js_sys::Reflect::set(&video_c, &k.into(), v).map(|_| ());
    set("width", &ideal(1280.into()))
        .and_then(|_| set("height", &ideal(720.into())))
        .and_then(|_| set("facingMode", &ideal(facing.constraint().into())))
        .map_err(|e| SourceError::Camera(js_text(&e)))?;
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio(&JsValue::FALSE);
    constraints.set_video(&video_c);
    let promise = devices
        .get_user_media_with_constraints(&constraints)
        .map_err(camera_error)?;
    let stream: MediaStream = JsFuture::from(promise)
        .await
        .map_err(camera_error)?
        .dyn_into()
        .map_err(|_| SourceError::Camera("getUserMedia gave no stream".into()))?;
    let name = stream
        .get_video_tracks()
        .get(0)
        .dyn_into::<MediaStreamTrack>()
        .map(|t| t.label())
        .unwrap_or_default();
    let document = window
        .document()
        .ok_or_else(|| SourceError::Camera("no document".into()))?;
    let video: HtmlVideoElement = document
        .create_element("video")
        .map_err(camera_error)?
        .dyn_into()
        .map_err(|_| SourceError::Camera("not a video element".into()))?;
    video.set_muted(true);
    video.set_autoplay(true);
    for (k, v) in [("playsinline", ""), ("muted", ""), ("aria-hidden", "true")] {
        video.set_attribute(k, v).map_err(camera_error)?;
    }
    // Off-screen but in the document, so the browser keeps decoding it. Through the CSSOM: the
    // page's Content-Security-Policy refuses `style` attributes.
    video.style().set_css_text(
        "position:fixed;left:-10000px;top:0;width:2px;height:2px;opacity:0;pointer-events:none",
    );
    video.set_src_object(Some(&stream));
    if let Some(body) = document.body() {
        body.append_child(&video).map_err(camera_error)?;
    }
    if let Ok(p) = video.play() {
        JsFuture::from(p).await.map_err(camera_error)?;
    }
    Ok((video, stream, name))
}

/// `getUserMedia`'s `DOMException`s as the kiosk's camera errors.
fn camera_error(e: JsValue) -> SourceError {
    let name = e
        .dyn_ref::<DomException>()
        .map(|d| d.name())
        .unwrap_or_default();
    let text = js_text(&e);
    match name.as_str() {
        "NotAllowedError" | "SecurityError" => SourceError::PermissionDenied(text),
        "NotFoundError" | "OverconstrainedError" => SourceError::NoCamera,
        "NotReadableError" | "AbortError" => SourceError::Busy,
        _ => SourceError::Camera(text),
    }
}

/// A JS error as one line of text.
pub(super) fn js_text(e: &JsValue) -> String {
    if let Some(d) = e.dyn_ref::<DomException>() {
        return format!("{}: {}", d.name(), d.message());
    }
    if let Some(s) = e.as_string() {
        return s;
    }
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    format!("{e:?}")
}

/// A camera that only reports why there is none.
#[derive(Debug)]
struct NoCamera(Option<SourceError>);

impl Camera for NoCamera {
    fn poll(&mut self) -> Option<CameraEvent> {
        self.0.take().map(|e| CameraEvent::Failed {
            code: e.code(),
            message: e.to_string(),
            transient: false,
        })
    }
    fn set_active(&mut self, _active: bool) {}
    fn describe(&self) -> String {
        "no camera".into()
    }
}

/// The kiosk app plus what the page mirrors: the document title and the live region.
struct PageApp {
    app: KioskApp,
    /// Labels of the mirrored buttons, and the labels pressed there since the last frame.
    mirrored: Vec<String>,
    pressed: Rc<RefCell<Vec<String>>>,
    state: &'static str,
    times: Option<Rc<RefCell<ScanTimes>>>,
    published_frames: u64,
    published_medians: u64,
    published_place: Option<super::sampled::ScanPlace>,
    first_card_published: bool,
}

/// The screen state as the page shows it to tests and screen readers: the screen's name, and
/// for refusals which one (`error:revoked`), so each negative case is told apart without
/// reading pixels.
pub fn state_text(screen: &Screen) -> &'static str {
    match screen {
        Screen::Error { kind, .. } => match kind {
            ErrorKind::Expired => "error:expired",
            ErrorKind::Revoked => "error:revoked",
            ErrorKind::OtherSchool => "error:other-school",
            ErrorKind::NotQuickCard => "error:not-quickcard",
            ErrorKind::Forged => "error:forged",
            ErrorKind::Damaged => "error:damaged",
            ErrorKind::UnknownKey => "error:unknown-key",
            ErrorKind::FutureCard => "error:card-from-the-future",
            ErrorKind::PinNotSet => "error:pin-not-set",
            ErrorKind::NoGoogleAccount => "error:no-google-account",
            ErrorKind::NotSchoolCard => "error:not-school-card",
            ErrorKind::Erased => "error:user-erased",
            ErrorKind::AskAdult { .. } => "error:ask-adult",
            ErrorKind::NotAllowed => "error:not-allowed",
            ErrorKind::LockedOut { .. } => "error:locked-out",
            ErrorKind::Unreachable { .. } => "error:unreachable",
        },
        other => other.name(),
    }
}

impl PageApp {
    fn mirror_state(&mut self) {
        let state = state_text(self.app.kiosk().screen());
        if state == self.state {
            return;
        }
        self.state = state;
        set_state_text(state);
        if !self.first_card_published && !matches!(state, "not-ready" | "scanning") {
            // The first card read (whatever the verdict): milliseconds since the navigation
            // started, for the "page load to first decode" number.
            self.first_card_published = true;
            if let Some(w) = web_sys::window()
                && let Some(ms) = w.performance().map(|p| p.now())
                && let Some(live) = w
                    .document()
                    .and_then(|d| d.get_element_by_id(LIVE_REGION_ID))
            {
                let _ = live.set_attribute("data-first-card-ms", &format!("{ms:.0}"));
            }
        }
    }
}

fn set_state_text(state: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    document.set_title(&format!("QuickCard kiosk — {state}"));
    if let Some(live) = document.get_element_by_id(LIVE_REGION_ID) {
        live.set_text_content(Some(state));
    }
}

impl PageApp {
    /// Puts the scan counts and where frames are scanned on the live region whenever a frame
    /// was scanned (`data-frames`, `data-worker-frames`, `data-inline-frames`: scanned on the
    /// page's own thread, `data-scanner`: `worker` or `inline`), and the median times
    /// (`data-grab-ms`: the page's share per frame, `data-scan-ms`) every 16 frames; for tests
    /// and the benchmark, never announced.
    fn publish_times(&mut self) {
        let Some(times) = &self.times else { return };
        let t = times.borrow();
        if t.frames == self.published_frames && self.published_place == Some(t.place) {
            return;
        }
        let Some(live) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(LIVE_REGION_ID))
        else {
            return;
        };
        if t.frames >= self.published_medians + 16 {
            self.published_medians = t.frames;
            let fmt = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_default();
            let _ = live.set_attribute("data-grab-ms", &fmt(t.grab_median_ms()));
            let _ = live.set_attribute("data-scan-ms", &fmt(t.scan_median_ms()));
        }
        self.published_frames = t.frames;
        self.published_place = Some(t.place);
        let _ = live.set_attribute("data-frames", &t.frames.to_string());
        let _ = live.set_attribute("data-worker-frames", &t.worker_frames.to_string());
        let _ = live.set_attribute("data-inline-frames", &t.inline_frames.to_string());
        let _ = live.set_attribute("data-scanner", t.place.as_str());
    }
}

impl PageApp {
    /// Rebuilds `#quickcard-actions` when the screen's buttons change: one `<button>` per
    /// button, in drawing order, labelled as on the screen.
    fn mirror_actions(&mut self) {
        let labels: Vec<String> = self.app.offered().iter().map(|o| o.label.clone()).collect();
        if labels == self.mirrored {
            return;
        }
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let Some(holder) = document.get_element_by_id(ACTIONS_ID) else {
            return;
        };
        holder.set_text_content(None);
        for label in &labels {
            if let Ok(b) = document.create_element("button") {
                let _ = b.set_attribute("type", "button");
                let _ = b.set_attribute("data-label", label);
                b.set_text_content(Some(label));
                let _ = holder.append_child(&b);
            }
        }
        self.mirrored = labels;
    }
}

/// One click listener on `#quickcard-actions` for all its buttons (they are replaced as screens
/// change; a listener per button would leak a closure each time). A click queues the button's
/// label for the next frame and asks for that frame.
fn listen_for_presses(pressed: Rc<RefCell<Vec<String>>>, repaint: Repaint) {
    let Some(holder) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(ACTIONS_ID))
    else {
        return;
    };
    let on_click = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
        let label = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|e| e.closest("button").ok().flatten())
            .and_then(|b| b.get_attribute("data-label"));
        if let Some(label) = label {
            pressed.borrow_mut().push(label);
            repaint();
        }
    });
    let _ = holder.add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
    // Lives as long as the page.
    on_click.forget();
}

impl eframe::App for PageApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        let pressed: Vec<String> = std::mem::take(&mut *self.pressed.borrow_mut());
        for label in pressed {
            self.app.press(&label);
        }
        self.app.ui(ui, frame);
        self.mirror_state();
        self.mirror_actions();
        self.publish_times();
    }
}

/// Takes a kiosk credential handed over in the address' fragment (`#credential=…`, which
/// browsers never send to servers), keeps it in `localStorage` and removes it from the
/// address bar; otherwise the stored one.
fn credential(storage: &LocalStorage) -> Zeroizing<String> {
    let window = web_sys::window();
    let hash = window
        .as_ref()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    if let Some(c) = hash.strip_prefix("#credential=").filter(|c| !c.is_empty()) {
        let c = Zeroizing::new(c.to_string());
        if storage.save(CREDENTIAL_KEY, &c).is_ok()
            && let Some(w) = &window
            && let Ok(h) = w.history()
        {
            let l = w.location();
            let clean = format!(
                "{}{}",
                l.pathname().unwrap_or_default(),
                l.search().unwrap_or_default()
            );
            let _ = h.replace_state_with_url(&JsValue::NULL, "", Some(&clean));
        }
        return c;
    }
    Zeroizing::new(storage.load(CREDENTIAL_KEY).unwrap_or_default())
}

/// Builds the settings and services from the page address.
type Prepared = (Settings, Services, Option<Rc<RefCell<ScanTimes>>>);

fn prepare(page: &PageStart, repaint: Repaint) -> Result<Prepared, String> {
    let storage = LocalStorage;
    let (portal, enrolled) = match (&page.mode, &page.request) {
        // The Chromebook sign-in page: the portal's pending sign-in is the authorisation.
        (Mode::SignIn, Some(request)) => (
            HttpPortal::for_sign_in(&page.portal_url, request, sleeper(), RetryPolicy::default()),
            true,
        ),
        _ => {
            let credential = credential(&storage);
            let enrolled = !credential.is_empty();
            (
                HttpPortal::new(
                    &page.portal_url,
                    credential,
                    sleeper(),
                    RetryPolicy::default(),
                ),
                enrolled,
            )
        }
    };
    let portal = portal.map_err(|e| e.to_string())?;
    let settings = Settings {
        demo: page.demo,
        lang: page.lang.unwrap_or_default(),
        enrolled,
        portal_url: page.portal_url.clone(),
        ..Settings::default()
    };
    let mut times = None;
    let camera: Box<dyn Camera> = match VideoSource::start(page.facing) {
        Ok(src) => match WorkerChannel::start(repaint.clone()) {
            Ok(channel) => {
                let cam = OffThreadCamera::new(src, channel, Box::new(WebClock::new()));
                times = Some(cam.times());
                Box::new(cam)
            }
            Err(why) => {
                web_sys::console::warn_1(
                    &format!("QuickCard: no scan worker ({why}); scanning on the page's thread")
                        .into(),
                );
                let cam = SampledCamera::new(src, Box::new(WebClock::new()));
                times = Some(cam.times());
                Box::new(cam)
            }
        },
        Err(e) => Box::new(NoCamera(Some(e))),
    };
    let services = Services {
        portal: Box::new(portal),
        runtime: Box::new(WebRuntime),
        clock: Box::new(WebClock::new()),
        camera,
        launcher: Box::new(WebLauncher),
        storage: Box::new(storage),
        repaint,
    };
    Ok((settings, services, times))
}

async fn run() -> Result<(), String> {
    let window = web_sys::window().ok_or("no browser window")?;
    let location = window.location();
    let page = page::parse(
        &location.search().unwrap_or_default(),
        &location.origin().unwrap_or_default(),
    )
    .map_err(|e| e.to_string())?;
    let canvas: HtmlCanvasElement = window
        .document()
        .and_then(|d| d.get_element_by_id(CANVAS_ID))
        .ok_or_else(|| format!("the page has no <canvas id=\"{CANVAS_ID}\">"))?
        .dyn_into()
        .map_err(|_| format!("#{CANVAS_ID} is not a canvas"))?;
    let ctx_slot: Arc<OnceLock<egui::Context>> = Arc::default();
    let repaint: Repaint = {
        let slot = ctx_slot.clone();
        Arc::new(move || {
            if let Some(ctx) = slot.get() {
                ctx.request_repaint();
            }
        })
    };
    let pressed: Rc<RefCell<Vec<String>>> = Rc::default();
    listen_for_presses(pressed.clone(), repaint.clone());
    let (settings, services, times) = prepare(&page, repaint)?;
    set_state_text("starting");
    eframe::WebRunner::new()
        .start(
            canvas,
            eframe::WebOptions::default(),
            Box::new(move |cc| {
                let _ = ctx_slot.set(cc.egui_ctx.clone());
                let kiosk = Kiosk::new(settings, services);
                Ok(Box::new(PageApp {
                    app: KioskApp::new(kiosk, false),
                    mirrored: Vec::new(),
                    pressed,
                    state: "",
                    times,
                    published_frames: 0,
                    published_medians: 0,
                    published_place: None,
                    first_card_published: false,
                }))
            }),
        )
        .await
        .map_err(|e| format!("cannot start the kiosk: {}", js_text(&e)))
}

/// The page's entry point: runs when the module is instantiated.
#[wasm_bindgen(start)]
pub fn start() {
    // The scan worker instantiates this module too; it has no window and no kiosk to run.
    if web_sys::window().is_none() {
        return;
    }
    wasm_bindgen_futures::spawn_local(async {
        if let Err(e) = run().await {
            web_sys::console::error_1(&e.clone().into());
            set_state_text("failed");
            let document = web_sys::window().and_then(|w| w.document());
            if let Some(live) = document
                .as_ref()
                .and_then(|d| d.get_element_by_id(LIVE_REGION_ID))
            {
                live.set_text_content(Some(&format!("failed: {e}")));
            }
            // On the screen too: whoever set up the kiosk sees what to change (a blank canvas
            // would say nothing). An attribute the page's own style sheet shows, not a style
            // attribute, which the page's Content-Security-Policy refuses.
            if let Some(notice) = document
                .as_ref()
                .and_then(|d| d.get_element_by_id(NOTICE_ID))
            {
                notice.set_text_content(Some(&e));
                let _ = notice.set_attribute("data-failed", "");
            }
        }
    });
}

thread_local! {
    /// The scanner of [`quickcard_scan_timing`] (it remembers where the last code was, as the
    /// camera's scanner does).
    static TIMING_SCANNER: RefCell<crate::scanner::Scanner> =
        RefCell::new(crate::scanner::Scanner::new(crate::scanner::ScanConfig::default()));
}

/// Diagnostics for `benches/web.rs`: converts one RGBA frame (as `getImageData` gives it) and
/// scans it with the kiosk's scanner, exactly as the camera path does, and returns
/// `[milliseconds, 1 if a QuickCard was read else 0]`. The benchmark feeds the same frames to
/// the native scanner to compare the two builds.
#[wasm_bindgen]
pub fn quickcard_scan_timing(width: u32, height: u32, rgba: &[u8]) -> Vec<f64> {
    let start = web_time::Instant::now();
    let Some(frame) = Frame::from_rgba(width, height, rgba) else {
        return vec![-1.0, 0.0];
    };
    let read = TIMING_SCANNER.with(|s| s.borrow_mut().scan(&frame).card().is_some());
    vec![
        start.elapsed().as_secs_f64() * 1000.0,
        f64::from(u8::from(read)),
    ]
}
