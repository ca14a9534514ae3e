//! The kiosk's state machine, all in one place.
//!
//! ```text
//!             ┌──────────── Not ready (no camera, portal unreachable, not enrolled, no trust) ◄─┐
//!             ▼                                                                                 │
//!   ┌──► Scanning ──card──► (offline check) ──fails──► Error (expired, replaced, other school, …)┤
//!   │         │                   │ second factor                                        timeout│
//!   │         │                   ▼                                                             │
//!   │         │               PIN pad ──► Checking ──portal says no──► Error ─────────────────────┘
//!   │         └──────────────────────────► Checking ──portal says yes──► Dashboard
//!   │                                                                      │ sign-out / idle
//!   └─────────────────────────────── Signed out ◄──────────────────────────┘
//! ```
//!
//! [`Kiosk`] owns the current [`Screen`], the signed-in [`Session`] (if any) and the platform
//! [`Services`]. The UI calls [`Kiosk::tick`] once per frame (it drains portal replies, polls
//! the camera and runs timers, never waiting) and [`Kiosk::act`] for each button press. Portal
//! calls run on the [`Runtime`](crate::platform::Runtime) and report back through a channel.
//! Nothing here blocks, starts a thread or reads the system clock, so the same code runs in the
//! browser and under test with a manual clock.

use std::sync::mpsc;
use std::time::Duration;

use quickcard::{TrustList, TrustedKey, VerifyOptions};
use zeroize::{Zeroize, Zeroizing};

use crate::app::admin_lock::AdminLock;
pub use crate::app::error_codes::{error_for_card, error_for_code};
use crate::app::i18n::Lang;
use crate::platform::{
    Camera, CameraEvent, Clock, Hint, Launcher, Preview, Repaint, Runtime, ScanOutcome, Storage,
};
use crate::portal_client::{
    AppTile, KioskConfig, LaunchReply, PortalApi, PortalError, Revocation, SessionReply, User,
};

/// How long an error screen stays before scanning resumes.
pub const ERROR_SCREEN_MS: u64 = 10_000;
/// How long "Bye!" stays after sign-out.
pub const SIGNED_OUT_MS: u64 = 3_000;
/// After sign-out or an error, the same card is ignored this long (the child is still
/// holding it up).
pub const SAME_CARD_PAUSE_MS: u64 = 8_000;
/// The "Got it!" cue stays at least this long on the checking screen.
pub const GOT_IT_MS: u64 = 600;
/// Automatic retries of an exchange while the portal is unreachable.
pub const UNREACHABLE_RETRIES: u32 = 5;
/// How often the trust list and revocations are refreshed from the portal.
pub const CONFIG_REFRESH_MS: u64 = 5 * 60_000;
/// Longest PIN the pads accept.
pub const MAX_PIN: usize = 8;
/// Where the portal's kiosk config is cached.
pub const CONFIG_CACHE: &str = "kiosk-config.json";

/// Everything the kiosk is told at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Demo mode: the demo key is trusted and the screen says so.
    pub demo: bool,
    pub lang: Lang,
    /// Idle time before an automatic sign-out.
    pub idle_timeout_ms: u64,
    /// How long before the idle sign-out the countdown shows.
    pub idle_warning_ms: u64,
    /// The kiosk's school (cards for others are refused); `None`: take the portal's.
    pub school_id: Option<String>,
    /// Trusted issuer keys from the local config; empty: take the portal's.
    pub trust: Vec<TrustedKey>,
    /// Whether the kiosk has a credential.
    pub enrolled: bool,
    /// Argon2 PHC hash of the admin PIN that leaves kiosk mode.
    pub admin_pin_hash: Option<crate::config::PinHash>,
    /// For messages only.
    pub portal_url: String,
    /// Clock skew allowed when checking card dates.
    pub skew_secs: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            demo: false,
            lang: Lang::En,
            idle_timeout_ms: 120_000,
            idle_warning_ms: 15_000,
            school_id: None,
            trust: Vec::new(),
            enrolled: false,
            admin_pin_hash: None,
            portal_url: String::new(),
            skew_secs: 300,
        }
    }
}

/// The platform parts the core uses (see [`crate::platform`]).
pub struct Services {
    pub portal: Box<dyn PortalApi>,
    pub runtime: Box<dyn Runtime>,
    pub clock: Box<dyn Clock>,
    pub camera: Box<dyn Camera>,
    pub launcher: Box<dyn Launcher>,
    pub storage: Box<dyn Storage>,
    pub repaint: Repaint,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("camera", &self.camera.describe())
            .finish_non_exhaustive()
    }
}

/// Why the kiosk cannot scan yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotReady {
    NoCamera {
        detail: String,
    },
    /// The portal has not answered yet (first config) and nothing is cached.
    PortalUnreachable,
    NotEnrolled,
    /// The portal refuses this kiosk's credential.
    KioskRefused,
    NoTrustKeys,
    /// Outside the demo the demo key is never trusted.
    DemoKeyRefused,
    /// The Chromebook sign-in page's request expired, was used, or is unknown: the sign-in
    /// has to start again from the Chromebook's screen.
    SignInExpired,
}

/// Why a card was refused, as the screen shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    Expired,
    Revoked,
    OtherSchool,
    /// A QR code that is not a QuickCard (a link, a library book's code).
    NotQuickCard,
    /// A QuickCard whose signature does not check out: altered or forged.
    Forged,
    /// A damaged or truncated card, or one from a newer card format.
    Damaged,
    /// Signed by a key this school does not trust (another district, a retired key).
    UnknownKey,
    /// Dated in the future: the kiosk's clock is probably wrong.
    FutureCard,
    /// The card needs a PIN, and the user has none yet.
    PinNotSet,
    /// The Chromebook sign-in page: the user has no Google account the portal can name.
    NoGoogleAccount,
    /// A card the kiosk cannot turn into a session for a reason of its own making (the
    /// Chromebook sign-in could not be handed over).
    NotSchoolCard,
    /// The person was erased at the district's request: their cards stay refused for good.
    Erased,
    /// A refusal code this kiosk does not know (a newer portal): a grown-up has to look.
    AskAdult {
        code: String,
    },
    /// Unknown user or a role that may not use this kiosk.
    NotAllowed,
    /// Too many wrong PINs or attempts; `until_ms` on the monotonic clock.
    LockedOut {
        until_ms: u64,
    },
    /// The portal did not answer; retrying automatically at `retry_at_ms`.
    Unreachable {
        retry_at_ms: u64,
        attempt: u32,
    },
}

/// PIN digits being typed: wiped when dropped, never shown by `Debug`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Digits(Zeroizing<String>);

impl Digits {
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn push(&mut self, c: char) {
        self.0.push(c);
    }
    fn pop(&mut self) {
        self.0.pop();
    }
    fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Digits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Digits({} typed)", self.0.len())
    }
}

/// What the screen shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    NotReady(NotReady),
    Scanning {
        hint: Option<Hint>,
    },
    /// A card was read and verified offline; the portal is being asked.
    Checking {
        since_ms: u64,
    },
    PinPad {
        pin: Digits,
        wrong: Option<Option<u32>>,
    },
    Dashboard {
        opening: Option<String>,
        launch_failed: bool,
    },
    SignedOut {
        until_ms: u64,
    },
    /// The Chromebook sign-in page handed the user to Google; the page is leaving.
    SigningIn,
    Error {
        kind: ErrorKind,
        until_ms: u64,
    },
}

impl Screen {
    /// A stable name for logs, tests and the window title.
    pub fn name(&self) -> &'static str {
        match self {
            Screen::NotReady(_) => "not-ready",
            Screen::Scanning { .. } => "scanning",
            Screen::Checking { .. } => "checking",
            Screen::PinPad { .. } => "pin-pad",
            Screen::Dashboard { .. } => "dashboard",
            Screen::SignedOut { .. } => "signed-out",
            Screen::SigningIn => "signing-in",
            Screen::Error { .. } => "error",
        }
    }
}

/// The signed-in user. Wiped (zeroized) when dropped.
#[derive(Debug)]
pub struct Session {
    token: Zeroizing<String>,
    pub user: User,
    pub apps: Vec<AppTile>,
    pub expires_at: u64,
}

impl Drop for Session {
    fn drop(&mut self) {
        let u = &mut self.user;
        for s in [
            &mut u.id,
            &mut u.display_name,
            &mut u.given_name,
            &mut u.role,
            &mut u.avatar.initial,
            &mut u.avatar.color,
        ] {
            s.zeroize();
        }
        for app in &mut self.apps {
            for s in [&mut app.id, &mut app.name, &mut app.icon, &mut app.color] {
                s.zeroize();
            }
        }
    }
}

impl Session {
    fn from_reply(mut r: SessionReply) -> Session {
        Session {
            token: Zeroizing::new(std::mem::take(&mut r.token)),
            user: std::mem::take(&mut r.user),
            apps: std::mem::take(&mut r.apps),
            expires_at: r.expires_at,
        }
    }

    /// The name to greet with.
    pub fn greeting_name(&self) -> &str {
        if self.user.given_name.is_empty() {
            &self.user.display_name
        } else {
            &self.user.given_name
        }
    }
}

/// The admin PIN pad (to leave kiosk mode), shown over any screen.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AdminPad {
    pub pin: Digits,
    pub wrong: bool,
}

/// A button press or other input from the screens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    PinDigit(u8),
    PinDelete,
    PinSubmit,
    PinCancel,
    Launch(String),
    SignOut,
    StillHere,
    SwitchLanguage,
    /// Leave an error screen now.
    Back,
    /// Retry now (unreachable portal).
    TryAgain,
    AdminOpen,
    AdminDigit(u8),
    AdminDelete,
    AdminSubmit,
    AdminCancel,
    /// Any touch, click or key: resets the idle timer.
    Activity,
}

/// Replies from background work.
enum Reply {
    Config(Result<KioskConfig, PortalError>),
    Exchanged {
        generation: u64,
        result: Result<SessionReply, PortalError>,
    },
    SignedOut(Result<(), PortalError>),
    Launched {
        generation: u64,
        result: Result<LaunchReply, PortalError>,
    },
}

/// A card that passed the offline check and waits for the portal.
struct Pending {
    text: Zeroizing<String>,
    card_id: String,
    pin: Option<Zeroizing<String>>,
    attempt: u32,
}

/// The kiosk: state machine plus services.
pub struct Kiosk {
    settings: Settings,
    services: Services,
    lang: Lang,
    screen: Screen,
    session: Option<Session>,
    session_generation: u64,
    pending: Option<Pending>,
    generation: u64,
    trust: Option<Result<TrustList, NotReady>>,
    revoked: Vec<Revocation>,
    school_id: Option<String>,
    kiosk_refused: bool,
    /// The sign-in page's pending request is gone (`signin_*` codes): nothing to retry.
    sign_in_expired: bool,
    config_in_flight: bool,
    config_retry_at: u64,
    config_backoff_ms: u64,
    camera_problem: Option<String>,
    camera_seen: bool,
    ignore: Option<(String, u64)>,
    got_it_until: u64,
    last_activity_ms: u64,
    preview: Option<Preview>,
    preview_seq: u64,
    admin: Option<AdminPad>,
    /// Wrong admin PINs and the pad's lock; kept when the pad is closed.
    admin_lock: AdminLock,
    quit: bool,
    tx: mpsc::Sender<Reply>,
    rx: mpsc::Receiver<Reply>,
    /// Portal replies with an error code, newest last (for the admin view and tests).
    log: Vec<String>,
}

impl std::fmt::Debug for Kiosk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kiosk")
            .field("screen", &self.screen.name())
            .field("signed_in", &self.session.is_some())
            .finish_non_exhaustive()
    }
}

impl Kiosk {
    /// Starts the kiosk: asks the portal for its config (trust list, revocations) and shows
    /// "not ready" until it can scan.
    pub fn new(settings: Settings, services: Services) -> Kiosk {
        let (tx, rx) = mpsc::channel();
        let now = services.clock.now_ms();
        let mut k = Kiosk {
            lang: settings.lang,
            school_id: settings.school_id.clone(),
            settings,
            services,
            screen: Screen::NotReady(NotReady::PortalUnreachable),
            session: None,
            session_generation: 0,
            pending: None,
            generation: 0,
            trust: None,
            revoked: Vec::new(),
            kiosk_refused: false,
            sign_in_expired: false,
            config_in_flight: false,
            config_retry_at: now,
            config_backoff_ms: 1_000,
            camera_problem: None,
            camera_seen: false,
            ignore: None,
            got_it_until: 0,
            last_activity_ms: now,
            preview: None,
            preview_seq: 0,
            admin: None,
            admin_lock: AdminLock::default(),
            quit: false,
            tx,
            rx,
            log: Vec::new(),
        };
        if !k.settings.trust.is_empty() {
            k.set_trust(k.settings.trust.clone());
        } else if let Some(cached) = k.services.storage.load(CONFIG_CACHE)
            && let Ok(cfg) = serde_json::from_str::<KioskConfig>(&cached)
        {
            k.apply_config(cfg, false);
        }
        k.screen = k.ready_screen();
        k
    }

    // ----- read access for the screens ---------------------------------------------------

    pub fn screen(&self) -> &Screen {
        &self.screen
    }
    pub fn lang(&self) -> Lang {
        self.lang
    }
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }
    pub fn settings(&self) -> &Settings {
        &self.settings
    }
    pub fn admin(&self) -> Option<&AdminPad> {
        self.admin.as_ref()
    }
    /// How long the admin PIN pad stays locked after too many wrong PINs (`None`: open).
    pub fn admin_locked_ms(&self) -> Option<u64> {
        self.admin_lock.remaining_ms(self.now_ms())
    }
    /// True once the admin PIN was entered: the app should close.
    pub fn quit_requested(&self) -> bool {
        self.quit
    }
    /// The latest camera picture and a counter that changes when it does.
    pub fn preview(&self) -> (Option<&Preview>, u64) {
        (self.preview.as_ref(), self.preview_seq)
    }
    /// Monotonic now.
    pub fn now_ms(&self) -> u64 {
        self.services.clock.now_ms()
    }
    /// Whether the "Got it!" cue should show.
    pub fn got_it(&self) -> bool {
        self.now_ms() < self.got_it_until
    }
    /// Seconds until the idle sign-out, when the countdown is showing.
    pub fn idle_countdown_secs(&self) -> Option<u64> {
        if !matches!(
            self.screen,
            Screen::Dashboard { .. } | Screen::PinPad { .. }
        ) {
            return None;
        }
        let idle = self.now_ms().saturating_sub(self.last_activity_ms);
        let left = self.settings.idle_timeout_ms.saturating_sub(idle);
        (left <= self.settings.idle_warning_ms).then(|| left.div_ceil(1000))
    }
    /// Recent portal error codes (newest last).
    pub fn portal_log(&self) -> &[String] {
        &self.log
    }
    /// Camera description (admin view).
    pub fn camera_description(&self) -> String {
        self.services.camera.describe()
    }

    // ----- the per-frame step ------------------------------------------------------------

    /// Drains replies, polls the camera and runs timers. Never blocks.
    pub fn tick(&mut self) {
        while let Ok(reply) = self.rx.try_recv() {
            self.on_reply(reply);
        }
        let now = self.now_ms();
        self.timers(now);
        let scanning = matches!(
            self.screen,
            Screen::Scanning { .. } | Screen::NotReady(NotReady::NoCamera { .. })
        );
        self.services.camera.set_active(scanning);
        // Drain what the camera has; stop at a card so it is handled on the right screen.
        for _ in 0..8 {
            let Some(ev) = self.services.camera.poll() else {
                break;
            };
            let card = matches!(
                &ev,
                CameraEvent::Scanned {
                    outcome: ScanOutcome::Card(_),
                    ..
                }
            );
            self.on_camera(ev);
            if card {
                break;
            }
        }
    }

    fn timers(&mut self, now: u64) {
        if self.settings.enrolled
            && !self.config_in_flight
            && !self.kiosk_refused
            && !self.sign_in_expired
            && now >= self.config_retry_at
        {
            self.fetch_config();
        }
        if let Some((_, until)) = &self.ignore
            && now >= *until
        {
            self.ignore = None;
        }
        match &self.screen {
            Screen::Dashboard { .. } | Screen::PinPad { .. }
                if now.saturating_sub(self.last_activity_ms) >= self.settings.idle_timeout_ms =>
            {
                tracing::info!("idle timeout: signing out");
                self.sign_out();
            }
            Screen::SignedOut { until_ms } if now >= *until_ms => self.screen = self.ready_screen(),
            Screen::Error {
                kind: ErrorKind::Unreachable { retry_at_ms, .. },
                ..
            } if now >= *retry_at_ms => {
                self.retry_exchange();
            }
            Screen::Error { until_ms, kind }
                if now >= *until_ms && !matches!(kind, ErrorKind::Unreachable { .. }) =>
            {
                self.leave_error();
            }
            Screen::Error {
                kind: ErrorKind::Unreachable { .. },
                until_ms,
            } if now >= *until_ms => {
                self.leave_error();
            }
            _ => {}
        }
    }

    /// What to show when nothing is going on: scanning, or why not.
    fn ready_screen(&self) -> Screen {
        let why = if !self.settings.enrolled {
            Some(NotReady::NotEnrolled)
        } else if self.kiosk_refused {
            Some(NotReady::KioskRefused)
        } else if self.sign_in_expired {
            Some(NotReady::SignInExpired)
        } else {
            match &self.trust {
                None => Some(NotReady::PortalUnreachable),
                Some(Err(why)) => Some(why.clone()),
                Some(Ok(_)) => self
                    .camera_problem
                    .as_ref()
                    .map(|d| NotReady::NoCamera { detail: d.clone() }),
            }
        };
        match why {
            Some(w) => Screen::NotReady(w),
            None => Screen::Scanning { hint: None },
        }
    }

    /// Re-evaluates readiness when nothing user-related is on screen.
    fn refresh_idle_screen(&mut self) {
        if matches!(self.screen, Screen::NotReady(_) | Screen::Scanning { .. }) {
            let next = self.ready_screen();
            let same_kind = std::mem::discriminant(&next) == std::mem::discriminant(&self.screen)
                && !matches!(next, Screen::NotReady(_));
            if !same_kind {
                self.screen = next;
            }
        }
    }

    // ----- portal config -----------------------------------------------------------------

    fn fetch_config(&mut self) {
        self.config_in_flight = true;
        let fut = self.services.portal.kiosk_config();
        let tx = self.tx.clone();
        let repaint = self.services.repaint.clone();
        self.services.runtime.spawn(Box::pin(async move {
            let r = fut.await;
            let _ = tx.send(Reply::Config(r));
            repaint();
        }));
    }

    fn set_trust(&mut self, keys: Vec<TrustedKey>) {
        self.trust = Some(if keys.is_empty() {
            Err(NotReady::NoTrustKeys)
        } else {
            TrustList::new(keys, self.settings.demo).map_err(|e| {
                tracing::error!("trust list refused: {e}");
                match e {
                    quickcard::TrustError::DemoKey(_) => NotReady::DemoKeyRefused,
                    _ => NotReady::NoTrustKeys,
                }
            })
        });
    }

    fn apply_config(&mut self, cfg: KioskConfig, fresh: bool) {
        if self.settings.school_id.is_none() && !cfg.school_id.is_empty() {
            self.school_id = Some(cfg.school_id.clone());
        }
        if self.settings.trust.is_empty() {
            self.set_trust(cfg.trust.clone());
        }
        if fresh
            && let Some(secs) = cfg.idle_timeout_secs
            && secs > 0
        {
            self.settings.idle_timeout_ms = secs * 1000;
            self.settings.idle_warning_ms = self.settings.idle_warning_ms.min(secs * 500);
        }
        self.revoked = cfg.revoked;
    }

    // ----- replies -----------------------------------------------------------------------

    fn on_reply(&mut self, reply: Reply) {
        let now = self.now_ms();
        match reply {
            Reply::Config(Ok(cfg)) => {
                self.config_in_flight = false;
                self.config_backoff_ms = 1_000;
                self.config_retry_at = now + CONFIG_REFRESH_MS;
                if let Ok(text) = serde_json::to_string(&cfg)
                    && let Err(e) = self.services.storage.save(CONFIG_CACHE, &text)
                {
                    tracing::warn!("cannot cache the kiosk config: {e}");
                }
                self.apply_config(cfg, true);
                self.refresh_idle_screen();
            }
            Reply::Config(Err(e)) => {
                self.config_in_flight = false;
                tracing::warn!("kiosk config: {e}");
                self.log.push(e.code().unwrap_or("unreachable").to_string());
                if matches!(e.code(), Some("kiosk_unauthorized" | "kiosk_disabled")) {
                    self.kiosk_refused = true;
                } else if e.code().is_some_and(|c| c.starts_with("signin_")) {
                    self.sign_in_expired = true;
                } else {
                    self.config_retry_at = now + self.config_backoff_ms;
                    self.config_backoff_ms = (self.config_backoff_ms * 2).min(60_000);
                }
                self.refresh_idle_screen();
            }
            Reply::Exchanged { generation, result } => {
                if generation != self.generation || self.pending.is_none() {
                    return; // the child left that card behind
                }
                self.on_exchanged(result);
            }
            Reply::SignedOut(r) => {
                if let Err(e) = r {
                    tracing::warn!("ending the session on the portal failed: {e}");
                    self.log.push(e.code().unwrap_or("unreachable").to_string());
                }
            }
            Reply::Launched { generation, result } => {
                if generation != self.session_generation || self.session.is_none() {
                    return;
                }
                match result {
                    Ok(reply) => {
                        let opened = self.services.launcher.open(&reply.url);
                        if let Screen::Dashboard {
                            opening,
                            launch_failed,
                        } = &mut self.screen
                        {
                            *opening = None;
                            *launch_failed = opened.is_err();
                        }
                        if let Err(e) = opened {
                            tracing::warn!("launcher failed: {e}");
                        }
                    }
                    Err(e) if e.code() == Some("session_expired") => self.sign_out(),
                    Err(e) => {
                        tracing::warn!("launch: {e}");
                        self.log.push(e.code().unwrap_or("unreachable").to_string());
                        if let Screen::Dashboard {
                            opening,
                            launch_failed,
                        } = &mut self.screen
                        {
                            *opening = None;
                            *launch_failed = true;
                        }
                    }
                }
            }
        }
    }

    fn on_exchanged(&mut self, result: Result<SessionReply, PortalError>) {
        let now = self.now_ms();
        match result {
            Ok(mut reply) => {
                let card_id = self.pending.take().map(|p| p.card_id).unwrap_or_default();
                let handoff = reply.sign_in.take();
                self.session = Some(Session::from_reply(reply));
                self.session_generation += 1;
                self.last_activity_ms = now;
                self.ignore = Some((card_id, u64::MAX));
                self.screen = Screen::Dashboard {
                    opening: None,
                    launch_failed: false,
                };
                if let Some(handoff) = handoff {
                    // The Chromebook sign-in page: hand over to Google; the page leaves.
                    match self.services.launcher.sign_in(&handoff) {
                        Ok(()) => self.screen = Screen::SigningIn,
                        Err(e) => {
                            tracing::error!("cannot finish the Chromebook sign-in: {e}");
                            self.session = None;
                            self.fail(ErrorKind::NotSchoolCard);
                        }
                    }
                }
                tracing::info!("signed in");
            }
            Err(e) => {
                tracing::info!("exchange refused: {e}");
                self.log.push(e.code().unwrap_or("unreachable").to_string());
                match &e {
                    PortalError::Api {
                        code,
                        attempts_left,
                        retry_after_secs,
                        ..
                    } => match code.as_str() {
                        "pin_required" => {
                            self.screen = Screen::PinPad {
                                pin: Digits::default(),
                                wrong: None,
                            };
                            self.last_activity_ms = now;
                        }
                        "wrong_pin" => {
                            self.screen = Screen::PinPad {
                                pin: Digits::default(),
                                wrong: Some(*attempts_left),
                            };
                            self.last_activity_ms = now;
                        }
                        "locked_out" | "rate_limited" => {
                            let secs = retry_after_secs.unwrap_or(60);
                            self.fail(ErrorKind::LockedOut {
                                until_ms: now + secs * 1000,
                            });
                        }
                        "kiosk_unauthorized" | "kiosk_disabled" => {
                            self.pending = None;
                            self.kiosk_refused = true;
                            self.screen = self.ready_screen();
                        }
                        c if c.starts_with("signin_") => {
                            self.pending = None;
                            self.sign_in_expired = true;
                            self.screen = self.ready_screen();
                        }
                        c if c.starts_with("internal") => self.unreachable(now),
                        c => self.fail(error_for_code(c)),
                    },
                    PortalError::Unreachable(_) => self.unreachable(now),
                    PortalError::Protocol(_) => self.unreachable(now),
                }
            }
        }
    }

    fn unreachable(&mut self, now: u64) {
        let Some(p) = &mut self.pending else {
            return;
        };
        p.attempt += 1;
        if p.attempt > UNREACHABLE_RETRIES {
            self.pending = None;
            self.screen = Screen::Error {
                kind: ErrorKind::Unreachable {
                    retry_at_ms: u64::MAX,
                    attempt: UNREACHABLE_RETRIES,
                },
                until_ms: now + ERROR_SCREEN_MS,
            };
            return;
        }
        let wait = (2_000u64 << (p.attempt - 1)).min(30_000);
        self.screen = Screen::Error {
            kind: ErrorKind::Unreachable {
                retry_at_ms: now + wait,
                attempt: p.attempt,
            },
            until_ms: u64::MAX,
        };
    }

    fn retry_exchange(&mut self) {
        if self.pending.is_some() {
            self.screen = Screen::Checking {
                since_ms: self.now_ms(),
            };
            self.send_exchange();
        } else {
            self.leave_error();
        }
    }

    /// Shows an error for the pending card and forgets the card.
    fn fail(&mut self, kind: ErrorKind) {
        let now = self.now_ms();
        if let Some(p) = self.pending.take() {
            self.ignore = Some((p.card_id, now + ERROR_SCREEN_MS + SAME_CARD_PAUSE_MS));
        }
        let until_ms = match kind {
            ErrorKind::LockedOut { until_ms } => until_ms.max(now + ERROR_SCREEN_MS),
            _ => now + ERROR_SCREEN_MS,
        };
        self.screen = Screen::Error { kind, until_ms };
    }

    fn leave_error(&mut self) {
        self.pending = None;
        self.screen = self.ready_screen();
    }

    // ----- camera ------------------------------------------------------------------------

    fn on_camera(&mut self, ev: CameraEvent) {
        match ev {
            CameraEvent::Failed { message, .. } => {
                if self.camera_problem.is_none() {
                    tracing::warn!("camera: {message}");
                }
                self.camera_problem = Some(message);
                self.refresh_idle_screen();
            }
            CameraEvent::Scanned { outcome, preview } => {
                self.camera_seen = true;
                if self.camera_problem.take().is_some() {
                    self.refresh_idle_screen();
                }
                if let Some(p) = preview {
                    self.preview = Some(p);
                    self.preview_seq += 1;
                }
                if !matches!(self.screen, Screen::Scanning { .. }) {
                    return;
                }
                match outcome {
                    ScanOutcome::Hint(h) => {
                        self.screen = Screen::Scanning { hint: Some(h) };
                    }
                    ScanOutcome::Card(text) => self.on_card(Zeroizing::new(text)),
                }
            }
        }
    }

    /// A code was read: check it offline, then ask the portal (or the PIN first).
    fn on_card(&mut self, text: Zeroizing<String>) {
        let Some(Ok(trust)) = &self.trust else {
            return;
        };
        let now = self.now_ms();
        let card_key = card_key(&text);
        if let Some((ignored, until)) = &self.ignore
            && *ignored == card_key
            && now < *until
        {
            return;
        }
        let opts = VerifyOptions {
            now: self.services.clock.unix_secs(),
            skew_secs: self.settings.skew_secs,
            school: self.school_id.clone(),
            ..VerifyOptions::default()
        };
        match quickcard::verify(text.as_bytes(), trust, &opts) {
            Err(e) => {
                tracing::info!(code = e.code(), "card refused offline");
                self.pending = Some(Pending {
                    text,
                    card_id: card_key,
                    pin: None,
                    attempt: 0,
                });
                self.fail(error_for_card(&e));
            }
            Ok(card) => {
                let subject = card.claims.subject.to_string();
                let revoked = crate::portal_client::is_revoked(
                    &self.revoked,
                    &subject,
                    card.claims.issued_at,
                );
                self.pending = Some(Pending {
                    text,
                    card_id: card_key,
                    pin: None,
                    attempt: 0,
                });
                self.got_it_until = now + GOT_IT_MS;
                self.last_activity_ms = now;
                if revoked {
                    tracing::info!("card refused offline: revoked");
                    self.fail(ErrorKind::Revoked);
                } else if card.claims.flags.second_factor {
                    self.screen = Screen::PinPad {
                        pin: Digits::default(),
                        wrong: None,
                    };
                } else {
                    self.screen = Screen::Checking { since_ms: now };
                    self.send_exchange();
                }
            }
        }
    }

    fn send_exchange(&mut self) {
        let Some(p) = &self.pending else {
            return;
        };
        self.generation += 1;
        let generation = self.generation;
        let fut = self.services.portal.exchange(p.text.clone(), p.pin.clone());
        let tx = self.tx.clone();
        let repaint = self.services.repaint.clone();
        self.services.runtime.spawn(Box::pin(async move {
            let result = fut.await;
            let _ = tx.send(Reply::Exchanged { generation, result });
            repaint();
        }));
    }

    // ----- actions -----------------------------------------------------------------------

    /// Handles one input from the screens.
    pub fn act(&mut self, action: Action) {
        let now = self.now_ms();
        self.last_activity_ms = now;
        if self.admin.is_some() {
            self.act_admin(action);
            return;
        }
        match action {
            Action::Activity => {}
            Action::SwitchLanguage => self.lang = self.lang.other(),
            Action::AdminOpen => self.admin = Some(AdminPad::default()),
            Action::PinDigit(d) => {
                if let Screen::PinPad { pin, wrong } = &mut self.screen
                    && pin.len() < MAX_PIN
                    && d < 10
                {
                    pin.push(char::from(b'0' + d));
                    *wrong = None;
                }
            }
            Action::PinDelete => {
                if let Screen::PinPad { pin, .. } = &mut self.screen {
                    pin.pop();
                }
            }
            Action::PinSubmit => {
                if let Screen::PinPad { pin, .. } = &mut self.screen
                    && !pin.is_empty()
                    && let Some(p) = &mut self.pending
                {
                    p.pin = Some(std::mem::take(&mut pin.0));
                    p.attempt = 0;
                    self.screen = Screen::Checking { since_ms: now };
                    self.send_exchange();
                }
            }
            Action::PinCancel => {
                if matches!(self.screen, Screen::PinPad { .. }) {
                    if let Some(p) = self.pending.take() {
                        self.ignore = Some((p.card_id, now + SAME_CARD_PAUSE_MS));
                    }
                    self.screen = self.ready_screen();
                }
            }
            Action::Launch(app_id) => {
                let Some(session) = &self.session else {
                    return;
                };
                let Some(app) = session.apps.iter().find(|a| a.id == app_id) else {
                    return;
                };
                let name = app.name.clone();
                let fut = self.services.portal.launch(session.token.clone(), app_id);
                if let Screen::Dashboard {
                    opening,
                    launch_failed,
                } = &mut self.screen
                {
                    *opening = Some(name);
                    *launch_failed = false;
                }
                let generation = self.session_generation;
                let tx = self.tx.clone();
                let repaint = self.services.repaint.clone();
                self.services.runtime.spawn(Box::pin(async move {
                    let result = fut.await;
                    let _ = tx.send(Reply::Launched { generation, result });
                    repaint();
                }));
            }
            Action::SignOut => self.sign_out(),
            Action::StillHere => {}
            Action::Back => {
                if matches!(self.screen, Screen::Error { .. }) {
                    self.leave_error();
                }
            }
            Action::TryAgain => {
                if let Screen::Error {
                    kind: ErrorKind::Unreachable { .. },
                    ..
                } = self.screen
                {
                    self.retry_exchange();
                }
            }
            Action::AdminDigit(_)
            | Action::AdminDelete
            | Action::AdminSubmit
            | Action::AdminCancel => {}
        }
    }

    fn act_admin(&mut self, action: Action) {
        let now = self.now_ms();
        let Some(pad) = &mut self.admin else {
            return;
        };
        // Locked: no digit is taken and no PIN is checked; closing the pad and switching the
        // language still work.
        if self.admin_lock.remaining_ms(now).is_some()
            && matches!(
                action,
                Action::AdminDigit(_) | Action::AdminDelete | Action::AdminSubmit
            )
        {
            return;
        }
        match action {
            Action::AdminDigit(d) if d < 10 && pad.pin.len() < MAX_PIN => {
                pad.pin.push(char::from(b'0' + d));
                pad.wrong = false;
            }
            Action::AdminDelete => {
                pad.pin.pop();
            }
            Action::AdminCancel => self.admin = None,
            Action::AdminSubmit => {
                let ok = self
                    .settings
                    .admin_pin_hash
                    .as_deref()
                    .is_some_and(|h| crate::config::check_pin(h, pad.pin.as_str()));
                if ok {
                    tracing::info!("admin PIN accepted: leaving kiosk mode");
                    self.admin_lock.right();
                    self.sign_out();
                    self.quit = true;
                    self.admin = None;
                } else {
                    tracing::warn!("wrong admin PIN");
                    pad.pin = Digits::default();
                    pad.wrong = true;
                    if let Some(ms) = self.admin_lock.wrong(now) {
                        tracing::warn!(lock_secs = ms / 1000, "admin PIN pad locked");
                    }
                }
            }
            Action::SwitchLanguage => self.lang = self.lang.other(),
            _ => {}
        }
    }

    /// Ends the session here and on the portal; nothing of the user stays.
    pub fn sign_out(&mut self) {
        let now = self.now_ms();
        self.pending = None;
        self.preview = None;
        // The apps the child opened go too (with their cookies and logins), also when the
        // portal session already ended by itself.
        self.services.launcher.end_session();
        if let Some(session) = self.session.take() {
            let fut = self.services.portal.end_session(session.token.clone());
            let tx = self.tx.clone();
            let repaint = self.services.repaint.clone();
            self.services.runtime.spawn(Box::pin(async move {
                let r = fut.await;
                let _ = tx.send(Reply::SignedOut(r));
                repaint();
            }));
            drop(session); // zeroizes name, tiles and token
            self.session_generation += 1;
            if let Some((_, until)) = &mut self.ignore {
                *until = now + SAME_CARD_PAUSE_MS;
            }
            self.lang = self.settings.lang;
            self.screen = Screen::SignedOut {
                until_ms: now + SIGNED_OUT_MS,
            };
        } else if matches!(self.screen, Screen::PinPad { .. } | Screen::Checking { .. }) {
            self.screen = self.ready_screen();
        }
    }
}

/// A short key to recognise the same card again without keeping its text around.
fn card_key(text: &str) -> String {
    match quickcard::decode(text.as_bytes()) {
        Ok(card) => card.card_id(),
        Err(_) => {
            use sha2::{Digest, Sha256};
            let d = Sha256::digest(text.as_bytes());
            d[..8].iter().map(|b| format!("{b:02x}")).collect()
        }
    }
}

/// Idle time for tests and the bench: a duration as milliseconds.
pub fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}
