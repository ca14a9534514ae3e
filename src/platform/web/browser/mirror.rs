//! What the page mirrors of the app, around the canvas: the document title and the
//! `#quickcard-state` live region follow the screen state, and `#quickcard-actions` holds a
//! real HTML `<button>` for every button on the screen.
//!
//! Why a module of its own: the canvas is opaque to screen readers, switch access and the
//! browser tests, so everything they read or press goes through this mirror; it also
//! publishes the scan counts and times the web benchmark reads.

use std::cell::RefCell;
use std::rc::Rc;

use eframe::egui;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::super::sampled::{ScanPlace, ScanTimes};
use super::{ACTIONS_ID, LIVE_REGION_ID};
use crate::app::KioskApp;
use crate::app::ports::Repaint;
use crate::app::state::{ErrorKind, Screen};

/// The kiosk app plus what the page mirrors: the document title and the live region.
pub(super) struct PageApp {
    app: KioskApp,
    /// Labels of the mirrored buttons, and the labels pressed there since the last frame.
    mirrored: Vec<String>,
    pressed: Rc<RefCell<Vec<String>>>,
    state: &'static str,
    times: Option<Rc<RefCell<ScanTimes>>>,
    published_frames: u64,
    published_medians: u64,
    published_place: Option<ScanPlace>,
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
    /// `app` with nothing mirrored yet; `pressed` is filled by [`listen_for_presses`], and
    /// `times` (where there is a camera) are published for tests and the benchmark.
    pub(super) fn new(
        app: KioskApp,
        pressed: Rc<RefCell<Vec<String>>>,
        times: Option<Rc<RefCell<ScanTimes>>>,
    ) -> PageApp {
        PageApp {
            app,
            mirrored: Vec::new(),
            pressed,
            state: "",
            times,
            published_frames: 0,
            published_medians: 0,
            published_place: None,
            first_card_published: false,
        }
    }

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

pub(super) fn set_state_text(state: &str) {
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
pub(super) fn listen_for_presses(pressed: Rc<RefCell<Vec<String>>>, repaint: Repaint) {
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
