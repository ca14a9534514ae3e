//! The kiosk's state machine: [`Core::handle`] takes one [`Input`] and returns the
//! [`Effect`]s it wants run.
//!
//! `handle` is pure: it never spawns, never waits, never touches the camera, the portal, the
//! launcher or storage, and it reads the time only from the [`Now`] it is given. The driver
//! ([`crate::app::driver`]) runs the effects through the ports and feeds their results back as
//! inputs. So every transition can be tested by asserting on what `handle` returns, and the
//! one place that spawns portal calls is the driver.
//!
//! This file holds the state, the dispatch and what is shared by every flow (readiness,
//! timers, errors). The flows themselves live in [`crate::app::flow`]: config sync, card,
//! session, admin.

use quickcard::TrustList;
use zeroize::Zeroizing;

use crate::app::admin_lock::AdminLock;
use crate::app::flow::sound::Shown;
use crate::app::i18n::Lang;
use crate::app::ports::{CameraEvent, Cue, Preview, PromptId};
use crate::app::state::{
    Action, AdminPad, ERROR_SCREEN_MS, ErrorKind, NotReady, SAME_CARD_PAUSE_MS, Screen, Session,
    Settings,
};
use crate::portal_client::{
    KioskConfig, LaunchReply, PortalError, Revocation, SessionReply, SignInHandoff,
};

/// The time an input happens at, read once by the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Now {
    /// Monotonic milliseconds (timers).
    pub ms: u64,
    /// Wall-clock Unix seconds (card dates).
    pub unix_secs: u64,
}

/// Something that happened: a frame passed, the camera reported, a button was pressed, or an
/// effect finished.
pub enum Input {
    /// A frame passed: timers run.
    Tick,
    Camera(CameraEvent),
    Action(Action),
    /// Sign out now (from outside the screens: the window closing, a test).
    SignOut,
    /// [`Effect::FetchConfig`] finished.
    Config(Result<KioskConfig, PortalError>),
    /// [`Effect::Exchange`] finished.
    Exchanged {
        generation: u64,
        result: Result<SessionReply, PortalError>,
    },
    /// [`Effect::EndSession`] finished.
    SessionEnded(Result<(), PortalError>),
    /// [`Effect::Launch`] finished.
    Launched {
        generation: u64,
        result: Result<LaunchReply, PortalError>,
    },
    /// [`Effect::Open`] finished.
    Opened(Result<(), String>),
    /// [`Effect::HandOver`] finished.
    HandedOver(Result<(), String>),
}

impl std::fmt::Debug for Input {
    /// Names the input; replies are shown by outcome only, since they carry sessions and
    /// launch URLs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ok = |r: bool| if r { "ok" } else { "err" };
        match self {
            Input::Tick => f.write_str("Tick"),
            Input::Camera(ev) => f.debug_tuple("Camera").field(ev).finish(),
            Input::Action(a) => f.debug_tuple("Action").field(a).finish(),
            Input::SignOut => f.write_str("SignOut"),
            Input::Config(r) => write!(f, "Config({})", ok(r.is_ok())),
            Input::Exchanged { generation, result } => {
                write!(f, "Exchanged({generation}, {})", ok(result.is_ok()))
            }
            Input::SessionEnded(r) => write!(f, "SessionEnded({})", ok(r.is_ok())),
            Input::Launched { generation, result } => {
                write!(f, "Launched({generation}, {})", ok(result.is_ok()))
            }
            Input::Opened(r) => write!(f, "Opened({})", ok(r.is_ok())),
            Input::HandedOver(r) => write!(f, "HandedOver({})", ok(r.is_ok())),
        }
    }
}

/// Work for the driver. The ones that talk to the portal answer later, through the runtime;
/// the launcher's answer at once.
#[derive(Clone)]
pub enum Effect {
    /// Ask the portal for the kiosk config; answers [`Input::Config`].
    FetchConfig,
    /// Keep the portal's config for the next start (trust and revocations work offline).
    SaveConfig(String),
    /// Exchange a card (and PIN) for a session; answers [`Input::Exchanged`].
    Exchange {
        generation: u64,
        card: Zeroizing<String>,
        pin: Option<Zeroizing<String>>,
    },
    /// Ask for an app's launch URL; answers [`Input::Launched`].
    Launch {
        generation: u64,
        token: Zeroizing<String>,
        app_id: String,
    },
    /// End the session on the portal; answers [`Input::SessionEnded`].
    EndSession { token: Zeroizing<String> },
    /// End the apps the launcher opened for the child.
    EndApps,
    /// Open a launch URL; answers [`Input::Opened`].
    Open { url: String },
    /// The Chromebook sign-in page: hand the user to Google; answers [`Input::HandedOver`].
    HandOver(Box<SignInHandoff>),
    /// Play a cue or a spoken prompt (see [`crate::app::flow::sound`]); no answer.
    Play(Cue),
    /// The grown-ups changed the sound: volume 0–100 %, or muted.
    SetVolume { volume_pct: u8, muted: bool },
}

impl std::fmt::Debug for Effect {
    /// Names the effect and its plain fields; cards, PINs, tokens and launch URLs are secrets
    /// and never shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Effect::FetchConfig => f.write_str("FetchConfig"),
            Effect::SaveConfig(_) => f.write_str("SaveConfig"),
            Effect::Exchange {
                generation, pin, ..
            } => f
                .debug_struct("Exchange")
                .field("generation", generation)
                .field("pin", &pin.is_some())
                .finish_non_exhaustive(),
            Effect::Launch {
                generation, app_id, ..
            } => f
                .debug_struct("Launch")
                .field("generation", generation)
                .field("app_id", app_id)
                .finish_non_exhaustive(),
            Effect::EndSession { .. } => f.write_str("EndSession"),
            Effect::EndApps => f.write_str("EndApps"),
            Effect::Open { .. } => f.write_str("Open"),
            Effect::HandOver(h) => f.debug_tuple("HandOver").field(h).finish(),
            Effect::Play(cue) => f.debug_tuple("Play").field(cue).finish(),
            Effect::SetVolume { volume_pct, muted } => f
                .debug_struct("SetVolume")
                .field("volume_pct", volume_pct)
                .field("muted", muted)
                .finish(),
        }
    }
}

/// A card that passed the offline check and waits for the portal.
pub(crate) struct Pending {
    pub(crate) text: Zeroizing<String>,
    pub(crate) card_id: String,
    pub(crate) pin: Option<Zeroizing<String>>,
    pub(crate) attempt: u32,
}

/// The kiosk's state. Fields are shared with the flows in [`crate::app::flow`].
pub struct Core {
    pub(crate) settings: Settings,
    pub(crate) lang: Lang,
    pub(crate) screen: Screen,
    pub(crate) session: Option<Session>,
    /// Bumped at each sign-in and sign-out, so a launch reply for an old session is dropped.
    pub(crate) session_generation: u64,
    pub(crate) pending: Option<Pending>,
    /// Bumped at each exchange, so a reply for a card left behind is dropped.
    pub(crate) generation: u64,
    pub(crate) trust: Option<Result<TrustList, NotReady>>,
    pub(crate) revoked: Vec<Revocation>,
    pub(crate) school_id: Option<String>,
    pub(crate) kiosk_refused: bool,
    /// The sign-in page's pending request is gone (`signin_*` codes): nothing to retry.
    pub(crate) sign_in_expired: bool,
    pub(crate) config_in_flight: bool,
    pub(crate) config_retry_at: u64,
    pub(crate) config_backoff_ms: u64,
    pub(crate) camera_problem: Option<String>,
    /// A card (by [`card_key`]) to ignore until the time given: the child still holds it up.
    pub(crate) ignore: Option<(String, u64)>,
    pub(crate) got_it_until: u64,
    pub(crate) last_activity_ms: u64,
    pub(crate) preview: Option<Preview>,
    pub(crate) preview_seq: u64,
    pub(crate) admin: Option<AdminPad>,
    /// Wrong admin PINs and the pad's lock; kept when the pad is closed.
    pub(crate) admin_lock: AdminLock,
    pub(crate) quit: bool,
    /// The last spoken hint and when, so hints that flicker are not all said.
    pub(crate) hint_heard: Option<(PromptId, u64)>,
    /// The idle countdown's last second that ticked.
    pub(crate) countdown_heard: Option<u64>,
    /// The sound as the grown-ups set it (from the settings at start).
    pub(crate) volume_pct: u8,
    pub(crate) muted: bool,
    /// When the input being handled happens.
    pub(crate) now: Now,
    /// What the input being handled asks for, in order.
    effects: Vec<Effect>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("screen", &self.screen.name())
            .field("signed_in", &self.session.is_some())
            .finish_non_exhaustive()
    }
}

impl Core {
    /// The kiosk at start-up (`now_ms` on the monotonic clock), with the portal config cached
    /// by an earlier run, if any. It asks the portal for a fresh config at the first tick.
    pub fn new(settings: Settings, now_ms: u64, cached: Option<KioskConfig>) -> Core {
        let mut k = Core {
            lang: settings.lang,
            volume_pct: settings.volume_pct.min(100),
            muted: settings.muted,
            school_id: settings.school_id.clone(),
            settings,
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
            config_retry_at: now_ms,
            config_backoff_ms: 1_000,
            camera_problem: None,
            ignore: None,
            got_it_until: 0,
            last_activity_ms: now_ms,
            preview: None,
            preview_seq: 0,
            admin: None,
            admin_lock: AdminLock::default(),
            quit: false,
            hint_heard: None,
            countdown_heard: None,
            now: Now {
                ms: now_ms,
                unix_secs: 0,
            },
            effects: Vec::new(),
        };
        if !k.settings.trust.is_empty() {
            k.set_trust(k.settings.trust.clone());
        } else if let Some(cfg) = cached {
            k.apply_config(cfg, false);
        }
        k.screen = k.ready_screen();
        k
    }

    /// Takes one input at `now`; returns what to run, in order.
    pub fn handle(&mut self, now: Now, input: Input) -> Vec<Effect> {
        self.now = now;
        let shown = Shown::of(&self.screen);
        match input {
            Input::Tick => self.timers(),
            Input::Camera(ev) => self.on_camera(ev),
            Input::Action(a) => self.act(a),
            Input::SignOut => self.sign_out(),
            Input::Config(r) => self.on_config(r),
            Input::Exchanged { generation, result } => {
                // A reply for a card the child left behind is dropped.
                if generation == self.generation && self.pending.is_some() {
                    self.on_exchanged(result);
                }
            }
            Input::SessionEnded(r) => self.on_session_ended(r),
            Input::Launched { generation, result } => {
                if generation == self.session_generation && self.session.is_some() {
                    self.on_launched(result);
                }
            }
            Input::Opened(r) => self.on_opened(r),
            Input::HandedOver(r) => self.on_handed_over(r),
        }
        self.sound_after(shown);
        std::mem::take(&mut self.effects)
    }

    /// Queues work for the driver.
    pub(crate) fn emit(&mut self, effect: Effect) {
        self.effects.push(effect);
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
    /// How long the admin PIN pad stays locked after `now_ms` (`None`: open).
    pub fn admin_locked_ms(&self, now_ms: u64) -> Option<u64> {
        self.admin_lock.remaining_ms(now_ms)
    }
    /// True once the admin PIN was entered: the app should close.
    pub fn quit_requested(&self) -> bool {
        self.quit
    }
    /// The latest camera picture and a counter that changes when it does.
    pub fn preview(&self) -> (Option<&Preview>, u64) {
        (self.preview.as_ref(), self.preview_seq)
    }
    /// The sound: volume (0–100 %) and whether it is muted.
    pub fn sound_level(&self) -> (u8, bool) {
        (self.volume_pct, self.muted)
    }
    /// Whether the "Got it!" cue shows at `now_ms`.
    pub fn got_it(&self, now_ms: u64) -> bool {
        now_ms < self.got_it_until
    }
    /// Seconds until the idle sign-out at `now_ms`, when the countdown is showing.
    pub fn idle_countdown_secs(&self, now_ms: u64) -> Option<u64> {
        if !matches!(
            self.screen,
            Screen::Dashboard { .. } | Screen::PinPad { .. }
        ) {
            return None;
        }
        let idle = now_ms.saturating_sub(self.last_activity_ms);
        let left = self.settings.idle_timeout_ms.saturating_sub(idle);
        (left <= self.settings.idle_warning_ms).then(|| left.div_ceil(1000))
    }
    /// Whether the camera should scan: only where a card or a camera recovery can show.
    pub fn wants_camera(&self) -> bool {
        matches!(
            self.screen,
            Screen::Scanning { .. } | Screen::NotReady(NotReady::NoCamera { .. })
        )
    }

    // ----- shared by every flow ----------------------------------------------------------

    fn timers(&mut self) {
        let now = self.now.ms;
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

    /// Handles one input from the screens.
    fn act(&mut self, action: Action) {
        self.last_activity_ms = self.now.ms;
        if self.admin.is_some() {
            self.act_admin(action);
            return;
        }
        match action {
            Action::Activity | Action::StillHere => {}
            Action::SwitchLanguage => self.lang = self.lang.other(),
            Action::AdminOpen => self.admin = Some(AdminPad::default()),
            Action::PinDigit(_) | Action::PinDelete | Action::PinSubmit | Action::PinCancel => {
                self.act_pin(action)
            }
            Action::Launch(app_id) => self.launch(app_id),
            Action::SignOut => self.sign_out(),
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
            | Action::AdminCancel
            | Action::VolumeDown
            | Action::VolumeUp
            | Action::ToggleMute => {}
        }
    }

    /// What to show when nothing is going on: scanning, or why not.
    pub(crate) fn ready_screen(&self) -> Screen {
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
    pub(crate) fn refresh_idle_screen(&mut self) {
        if matches!(self.screen, Screen::NotReady(_) | Screen::Scanning { .. }) {
            let next = self.ready_screen();
            let same_kind = std::mem::discriminant(&next) == std::mem::discriminant(&self.screen)
                && !matches!(next, Screen::NotReady(_));
            if !same_kind {
                self.screen = next;
            }
        }
    }

    /// Shows an error for the pending card and forgets the card (ignoring it a while).
    pub(crate) fn fail(&mut self, kind: ErrorKind) {
        let now = self.now.ms;
        if let Some(p) = self.pending.take() {
            self.ignore = Some((p.card_id, now + ERROR_SCREEN_MS + SAME_CARD_PAUSE_MS));
        }
        let until_ms = match kind {
            ErrorKind::LockedOut { until_ms } => until_ms.max(now + ERROR_SCREEN_MS),
            _ => now + ERROR_SCREEN_MS,
        };
        self.screen = Screen::Error { kind, until_ms };
    }

    pub(crate) fn leave_error(&mut self) {
        self.pending = None;
        self.screen = self.ready_screen();
    }
}

/// A short key to recognise the same card again without keeping its text around.
pub(crate) fn card_key(text: &str) -> String {
    match quickcard::decode(text.as_bytes()) {
        Ok(card) => card.card_id(),
        Err(_) => {
            use sha2::{Digest, Sha256};
            let d = Sha256::digest(text.as_bytes());
            quickcard::util::hex(&d[..8])
        }
    }
}
