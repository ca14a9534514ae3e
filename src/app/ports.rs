//! The ports: every trait the kiosk core needs from the outside world, in one place.
//!
//! The core (the state machine in [`crate::app`]) and its driver only name these traits;
//! [`crate::platform`] holds their implementations (native, browser) and the tests bring their
//! own doubles. Keeping the traits here, on the core's side, is what lets dependencies point
//! one way: `platform` and `portal_client` (the HTTP adapter) depend on `app::ports`, never the
//! other way round, and the core compiles for `wasm32-unknown-unknown` unchanged.
//!
//! - [`PortalApi`]: the portal calls (config, exchange, launch, sign-out);
//! - [`Runtime`] and [`Repaint`]: where the portal's futures run, and how they wake the UI;
//! - [`Clock`]: wall-clock seconds (card dates) and monotonic milliseconds (timers);
//! - [`Camera`]: frames already scanned, polled without blocking;
//! - [`Launcher`]: opens an app's launch URL and ends the apps at sign-out;
//! - [`Storage`]: small named text blobs that survive restarts;
//! - [`Sound`]: short cues and spoken prompts, for children who cannot read the screen.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::portal_client::{KioskConfig, LaunchReply, PortalError, SessionReply, SignInHandoff};

/// The one clock trait of the kiosk crate. It lives with the scanner, the lowest layer that
/// needs time (for its per-frame budget), so that the scanner does not depend on the app.
pub use crate::scanner::Clock;
/// The one hint enum: what the scanner says when it has no card, as the scanning screen
/// shows it.
pub use crate::scanner::Hint;

/// A boxed future. `Send` on native targets (a tokio worker runs it); the browser's futures
/// (`fetch`) are not `Send`, and there is only one thread there anyway.
#[cfg(not(target_arch = "wasm32"))]
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
/// A boxed future (browser: not `Send`).
#[cfg(target_arch = "wasm32")]
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// The portal calls the kiosk core makes. Futures are `'static`: they own what they need.
pub trait PortalApi {
    fn kiosk_config(&self) -> BoxFuture<'static, Result<KioskConfig, PortalError>>;
    fn exchange(
        &self,
        card: Zeroizing<String>,
        pin: Option<Zeroizing<String>>,
    ) -> BoxFuture<'static, Result<SessionReply, PortalError>>;
    fn end_session(&self, token: Zeroizing<String>) -> BoxFuture<'static, Result<(), PortalError>>;
    fn launch(
        &self,
        token: Zeroizing<String>,
        app_id: String,
    ) -> BoxFuture<'static, Result<LaunchReply, PortalError>>;
}

/// Runs background work for the UI, which never waits for it.
pub trait Runtime {
    /// Starts `fut`; it reports back through a channel the core polls.
    fn spawn(&self, fut: BoxFuture<'static, ()>);
    /// A future that completes after `d` (for retry back-off).
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()>;
}

/// Asks the UI to draw again (egui's `request_repaint`), from any thread.
pub type Repaint = std::sync::Arc<dyn Fn() + Send + Sync>;

/// What the camera side reports, already scanned.
#[derive(Debug, Clone, PartialEq)]
pub enum ScanOutcome {
    /// A QuickCard's text was read (`QC:…`): the core verifies it offline next.
    Card(String),
    /// No card yet: a hint for the child. A foreign QR code comes as
    /// [`Hint::NotQuickCard`], which the core refuses without decoding it again.
    Hint(Hint),
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
    fn sign_in(&self, handoff: &SignInHandoff) -> Result<(), String> {
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
    fn sign_in(&self, handoff: &SignInHandoff) -> Result<(), String> {
        (**self).sign_in(handoff)
    }
}

/// Small named text blobs that survive restarts. Never used for anything about a user.
pub trait Storage {
    fn load(&self, name: &str) -> Option<String>;
    fn save(&self, name: &str, text: &str) -> Result<(), String>;
}

/// A spoken prompt: one per hint and refusal the kiosk shows, said in the kiosk's language.
/// "No code in view" has none: the kiosk would otherwise talk to an empty room.
/// Each is a file `assets/sounds/{en,es}/<file_stem>.wav` (made by `scripts/make-sounds.sh`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PromptId {
    ComeCloser,
    TooDark,
    TooBright,
    HoldStill,
    ShowAll,
    NotYourCard,
    WrongPin,
    TooOld,
    Swapped,
    OtherSchool,
    NotSchoolCard,
    CardBroken,
    Erased,
    AskAdult,
    NotAllowed,
    Locked,
    Unreachable,
}

impl PromptId {
    /// Every prompt, so the tests can check that each has its files.
    pub const ALL: [PromptId; 17] = [
        PromptId::ComeCloser,
        PromptId::TooDark,
        PromptId::TooBright,
        PromptId::HoldStill,
        PromptId::ShowAll,
        PromptId::NotYourCard,
        PromptId::WrongPin,
        PromptId::TooOld,
        PromptId::Swapped,
        PromptId::OtherSchool,
        PromptId::NotSchoolCard,
        PromptId::CardBroken,
        PromptId::Erased,
        PromptId::AskAdult,
        PromptId::NotAllowed,
        PromptId::Locked,
        PromptId::Unreachable,
    ];

    /// The file name without `.wav`.
    pub fn file_stem(self) -> &'static str {
        match self {
            PromptId::ComeCloser => "come_closer",
            PromptId::TooDark => "too_dark",
            PromptId::TooBright => "too_bright",
            PromptId::HoldStill => "hold_still",
            PromptId::ShowAll => "show_all",
            PromptId::NotYourCard => "not_your_card",
            PromptId::WrongPin => "wrong_pin",
            PromptId::TooOld => "too_old",
            PromptId::Swapped => "swapped",
            PromptId::OtherSchool => "other_school",
            PromptId::NotSchoolCard => "not_school_card",
            PromptId::CardBroken => "card_broken",
            PromptId::Erased => "erased",
            PromptId::AskAdult => "ask_adult",
            PromptId::NotAllowed => "not_allowed",
            PromptId::Locked => "locked",
            PromptId::Unreachable => "unreachable",
        }
    }
}

/// Something to play.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cue {
    /// The kiosk is ready for a card.
    Chime,
    /// A card was read.
    GotIt,
    /// A card was refused (a gentle sound, never a buzzer).
    TryAgain,
    /// One second of the idle countdown passed.
    Tick,
    /// A spoken prompt, in `Lang`: the language is fixed when the cue is asked for, so a
    /// switch of language mid-sentence does not change what is being said.
    Prompt(PromptId, crate::app::i18n::Lang),
}

impl Cue {
    /// The four cues that are not speech, so the tests can check that each has its file.
    pub const SHORT: [Cue; 4] = [Cue::Chime, Cue::GotIt, Cue::TryAgain, Cue::Tick];

    /// The file under `assets/sounds/`, e.g. `cues/chime.wav` or `es/hold_still.wav`.
    pub fn path(self) -> String {
        match self {
            Cue::Chime => "cues/chime.wav".into(),
            Cue::GotIt => "cues/got_it.wav".into(),
            Cue::TryAgain => "cues/try_again.wav".into(),
            Cue::Tick => "cues/tick.wav".into(),
            Cue::Prompt(p, lang) => format!("{}/{}.wav", lang.code(), p.file_stem()),
        }
    }
}

/// Plays cues. Never blocks the UI, and never fails: a kiosk without a sound device (or
/// where the browser has not allowed sound yet) is silent, and that is all. Volume and mute
/// are applied by the implementation; the core only says what to play.
pub trait Sound {
    fn play(&self, cue: Cue);
    /// `volume` from 0 (silent) to 1 (full); `muted` silences without losing the volume.
    fn set_volume(&self, volume: f32, muted: bool) {
        let _ = (volume, muted);
    }
}

/// No sound: tests, and kiosks without a sound device or a native player.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Sound for Silent {
    fn play(&self, _cue: Cue) {}
}
