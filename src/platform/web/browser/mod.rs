//! The browser's platform parts and the page's entry point (wasm32, feature `web`).
//!
//! - [`services`]: [`WebRuntime`] (futures run with `wasm_bindgen_futures::spawn_local`; sleeps
//!   are `setTimeout` promises; nothing blocks: they all run on the page's one thread),
//!   [`WebLauncher`] (opens launch URLs in a new window; on the Chromebook sign-in page it
//!   passes the ChromeOS password to the Chrome Credentials Passing API and posts the signed
//!   SAML response to Google's ACS URL) and [`LocalStorage`] (the portal's trust list and
//!   revocations in `localStorage`: the kiosk's own data only, never anything about a user).
//! - The clock is the scanner's [`SystemClock`]: through `web-time` it reads `Date.now()` for
//!   card dates and `performance.now()` for timers on this target.
//! - [`video`]: [`VideoSource`], the camera as a scanner [`FrameSource`](crate::scanner::FrameSource):
//!   `getUserMedia` (1280×720 ideal, facing mode from the page address) → a muted, autoplaying,
//!   off-screen `<video>` → an off-screen canvas whose 2d context has `willReadFrequently:
//!   true` → `drawImage` + `getImageData`. Wrapped in an [`OffThreadCamera`] that transfers each
//!   picture's buffer to the scan worker ([`super::worker`]), so the page's thread only grabs
//!   and draws; where no worker can run, in a [`SampledCamera`] that scans a few frames a
//!   second on the page's thread ([`Frame::from_rgba`] + the scanner).
//! - [`mirror`]: the document title and the `#quickcard-state` live region mirror the screen
//!   state, and `#quickcard-actions` holds a real HTML `<button>` for every button on the
//!   screen (the canvas is opaque to screen readers and switch access; tests press buttons by
//!   label).
//! - [`start`] (here): `#[wasm_bindgen(start)]` (also runs in the scan worker, which loads
//!   this same module, and does nothing there), reads the page address ([`super::page`]) and
//!   runs the kiosk app in `<canvas id="quickcard">` with eframe's `WebRunner` (glow/WebGL2).
//!
//! Panics: on wasm32 a panic aborts the module (no unwinding), so the scanner's
//! `catch_unwind` around `rqrr` cannot contain one here. The page (`web/index.html`) reloads
//! itself after a crash, with a growing delay; see there.

mod mirror;
mod services;
mod video;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, OnceLock};

use eframe::egui;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{DomException, HtmlCanvasElement};
use zeroize::Zeroizing;

pub use self::mirror::state_text;
use self::mirror::{PageApp, listen_for_presses, set_state_text};
pub use self::services::{LocalStorage, WebLauncher, WebRuntime, sleep, sleeper};
use self::video::NoCamera;
pub use self::video::VideoSource;
use super::offthread::OffThreadCamera;
use super::page::{self, Mode, PageStart};
use super::sampled::{SampledCamera, ScanTimes};
use super::worker::WorkerChannel;
use crate::app::KioskApp;
use crate::app::driver::{Kiosk, Services};
use crate::app::ports::{Camera, Repaint, Storage};
use crate::app::state::Settings;
use crate::portal_client::{HttpPortal, RetryPolicy};
use crate::scanner::{Frame, SystemClock};

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
                let cam = OffThreadCamera::new(src, channel, Box::new(SystemClock::new()));
                times = Some(cam.times());
                Box::new(cam)
            }
            Err(why) => {
                web_sys::console::warn_1(
                    &format!("QuickCard: no scan worker ({why}); scanning on the page's thread")
                        .into(),
                );
                let cam = SampledCamera::new(src, Box::new(SystemClock::new()));
                times = Some(cam.times());
                Box::new(cam)
            }
        },
        Err(e) => Box::new(NoCamera(Some(e))),
    };
    let services = Services {
        portal: Box::new(portal),
        runtime: Box::new(WebRuntime),
        clock: Box::new(SystemClock::new()),
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
                Ok(Box::new(PageApp::new(
                    KioskApp::new(kiosk, false),
                    pressed,
                    times,
                )))
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
