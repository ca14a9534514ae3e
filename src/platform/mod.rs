//! The kiosk's edges: everything that differs between the native Linux kiosk and the browser
//! build sits behind one small trait here, chosen once at start-up.
//!
//! The core ([`crate::app`]: state machine, screens, strings, portal requests and replies)
//! only talks to these traits. It never blocks, never starts a thread and never reads the
//! system clock itself, so it compiles for `wasm32-unknown-unknown` unchanged and tests can
//! drive it with a manual clock, a recording launcher and replayed frames.
//!
//! - [`Runtime`]: runs the portal client's futures (native: a tokio runtime on its own thread;
//!   browser: `wasm_bindgen_futures::spawn_local`).
//! - [`Clock`]: wall-clock seconds (for card dates) and monotonic milliseconds (for timers).
//! - [`Camera`]: frames already scanned, polled without blocking (native: the scanner's
//!   `FrameSource` and `Scanner` in a worker thread; browser: `getUserMedia`).
//! - [`Launcher`]: opens an app's one-time launch URL (native: a configured command, or on a
//!   lab machine the apps user's session helper, `apps`), and ends the apps at sign-out.
//! - [`Storage`]: small named text blobs that survive restarts (the portal's trust list and
//!   revocations, so offline checks keep working when the portal is away).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

#[cfg(not(target_arch = "wasm32"))]
pub mod apps;
#[cfg(not(target_arch = "wasm32"))]
pub mod demo_frames;
#[cfg(not(target_arch = "wasm32"))]
pub mod native;
pub mod scan_bridge;
#[cfg(not(target_arch = "wasm32"))]
pub mod start;
// The browser build: sampled camera and page-address parsing on every target (tested
// natively), the getUserMedia/localStorage/WebRunner parts on wasm32 with feature `web`.
pub mod web;

/// A boxed future. `Send` on native targets (a tokio worker runs it); the browser's futures
/// (`fetch`) are not `Send`, and there is only one thread there anyway.
#[cfg(not(target_arch = "wasm32"))]
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
/// A boxed future (browser: not `Send`).
#[cfg(target_arch = "wasm32")]
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Runs background work for the UI, which never waits for it.
pub trait Runtime {
    /// Starts `fut`; it reports back through a channel the core polls.
    fn spawn(&self, fut: BoxFuture<'static, ()>);
    /// A future that completes after `d` (for retry back-off).
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()>;
}

/// Time, passed in so tests control it.
pub trait Clock {
    /// Wall-clock time, Unix seconds (card validity dates).
    fn unix_secs(&self) -> u64;
    /// Monotonic milliseconds since some fixed start (timers, idle sign-out).
    fn now_ms(&self) -> u64;
}

/// What the camera side reports, already scanned.
#[derive(Debug, Clone, PartialEq)]
pub enum ScanOutcome {
    /// A QuickCard's text was read (`QC:…`): the core verifies it offline next.
    Card(String),
    /// No card yet; a hint for the child.
    Hint(Hint),
}

/// Why no card was read, as something a child can do about it. The scanner's richer hint is
/// mapped onto these by the platform's camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hint {
    /// Nothing code-like in view: "Show your card to the camera".
    NoCode,
    ComeCloser,
    TooDark,
    TooBright,
    HoldStill,
    /// A code is seen but unreadable (bent, covered).
    ShowAllOfIt,
    /// A QR code that is not a QuickCard.
    NotQuickCard,
}

/// A small colour picture of the camera view for the preview.
#[derive(Clone, PartialEq, Eq)]
pub struct Preview {
    pub width: usize,
    pub height: usize,
    /// `width * height * 3` bytes, RGB.
    pub rgb: Vec<u8>,
}

impl std::fmt::Debug for Preview {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Preview({}x{})", self.width, self.height)
    }
}

/// One report from the camera side.
#[derive(Debug, Clone, PartialEq)]
pub enum CameraEvent {
    /// A frame was scanned. `preview` is a downscaled copy for the screen, when available.
    Scanned {
        outcome: ScanOutcome,
        preview: Option<Preview>,
    },
    /// The camera cannot deliver frames. `transient`: it keeps trying by itself.
    Failed {
        code: &'static str,
        message: String,
        transient: bool,
    },
}

/// Frames, scanned off the UI thread, polled without blocking.
pub trait Camera {
    /// The next report, if one is ready.
    fn poll(&mut self) -> Option<CameraEvent>;
    /// Scanning is only needed on the scanning screen; elsewhere the camera side may idle.
    fn set_active(&mut self, active: bool);
    /// For logs and the admin screen.
    fn describe(&self) -> String;
}

/// Opens a launch URL for the user.
pub trait Launcher {
    fn open(&self, url: &str) -> Result<(), String>;

    /// The child signed out (or was signed out): whatever `open` started for them ends and
    /// forgets them (the lab kiosk's apps launcher deletes the browser profile). Must not
    /// block the UI. Launchers that keep nothing do nothing.
    fn end_session(&self) {}

    /// The Chromebook sign-in page: passes the ChromeOS password to the Credentials
    /// Passing API and posts the signed SAML response to Google, leaving the page. Only the
    /// browser build can; elsewhere this refuses.
    fn sign_in(&self, handoff: &crate::portal_client::SignInHandoff) -> Result<(), String> {
        let _ = handoff;
        Err("only the browser kiosk can finish a Chromebook sign-in".into())
    }
}

impl<L: Launcher + ?Sized> Launcher for std::sync::Arc<L> {
    fn open(&self, url: &str) -> Result<(), String> {
        (**self).open(url)
    }
    fn end_session(&self) {
        (**self).end_session()
    }
    fn sign_in(&self, handoff: &crate::portal_client::SignInHandoff) -> Result<(), String> {
        (**self).sign_in(handoff)
    }
}

/// Small named text blobs that survive restarts. Never used for anything about a user.
pub trait Storage {
    fn load(&self, name: &str) -> Option<String>;
    fn save(&self, name: &str, text: &str) -> Result<(), String>;
}

/// Storage that forgets everything (tests, the demo).
#[derive(Debug, Default)]
pub struct MemoryStorage {
    items: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

impl Storage for MemoryStorage {
    fn load(&self, name: &str) -> Option<String> {
        self.items.lock().ok()?.get(name).cloned()
    }
    fn save(&self, name: &str, text: &str) -> Result<(), String> {
        self.items
            .lock()
            .map_err(|e| e.to_string())?
            .insert(name.to_string(), text.to_string());
        Ok(())
    }
}

/// Asks the UI to draw again (egui's `request_repaint`), from any thread.
pub type Repaint = std::sync::Arc<dyn Fn() + Send + Sync>;
