//! What the kiosk shows and what it is told: the state the screens draw from, and the
//! buttons they hand back.
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
//! These types are apart from the state machine that moves between them
//! ([`crate::app::core`] and its flows) so that the screens depend on what they draw, not on
//! how the kiosk gets there.

use quickcard::TrustedKey;
use zeroize::{Zeroize, Zeroizing};

use crate::app::i18n::Lang;
use crate::app::ports::Hint;
use crate::portal_client::{AppTile, SessionReply, User};

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
/// How much one press of "quieter" or "louder" changes the volume, in percent.
pub const VOLUME_STEP_PCT: u8 = 10;
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
    /// Sound volume at start-up, 0–100 %; the grown-ups can change it until the next start.
    pub volume_pct: u8,
    /// No sound at all at start-up.
    pub muted: bool,
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
            volume_pct: 80,
            muted: false,
        }
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
    pub(crate) fn push(&mut self, c: char) {
        self.0.push(c);
    }
    pub(crate) fn pop(&mut self) {
        self.0.pop();
    }
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
    /// Hands the digits over (to the exchange), leaving the pad empty.
    pub(crate) fn take(&mut self) -> Zeroizing<String> {
        std::mem::take(&mut self.0)
    }
}

impl std::fmt::Debug for Digits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Digits({} typed)", self.0.len())
    }
}

/// What the screen shows.
#[derive(Debug, Clone, PartialEq)]
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
    pub(crate) token: Zeroizing<String>,
    pub user: User,
    pub apps: Vec<AppTile>,
}

impl Drop for Session {
    fn drop(&mut self) {
        let u = &mut self.user;
        for s in [
            &mut u.id,
            &mut u.display_name,
            &mut u.given_name,
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
    pub(crate) fn from_reply(mut r: SessionReply) -> Session {
        Session {
            token: Zeroizing::new(std::mem::take(&mut r.token)),
            user: std::mem::take(&mut r.user),
            apps: std::mem::take(&mut r.apps),
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
    /// The grown-ups' sound controls (on the admin pad).
    VolumeDown,
    VolumeUp,
    ToggleMute,
    /// Any touch, click or key: resets the idle timer.
    Activity,
}
