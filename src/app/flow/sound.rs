//! What the kiosk says and plays, decided from what the screen just became.
//!
//! Sounds follow the screen, not the flows: after each input the core compares the screen
//! before and after (a small `Shown` summary) and asks for the cue that goes with the change.
//! So a flow that learns a new way to reach a screen gets its sound for free, and the flows
//! stay about cards and sessions. The rules:
//!
//! - ready to scan (from "not ready" or "bye"): the chime;
//! - a card was read (to the checking screen or the PIN pad): "got it";
//! - a refusal (an error screen, a wrong PIN): "try again", then its spoken prompt;
//! - a new scanning hint: its prompt, but not more often than [`HINT_GAP_MS`], and the same
//!   one not again within [`HINT_REPEAT_MS`], since hints can flicker from frame to frame;
//! - each second of the idle countdown: a tick.
//!
//! Muted (or at zero volume), nothing is asked for.

use std::mem::Discriminant;

use crate::app::core::{Core, Effect};
use crate::app::ports::{Cue, Hint, PromptId};
use crate::app::state::{ErrorKind, Screen};

/// Least time between two spoken hints: a child needs the time to act on the first.
pub const HINT_GAP_MS: u64 = 4_000;
/// Least time before the same hint is said again.
pub const HINT_REPEAT_MS: u64 = 10_000;

/// The part of the screen that decides the sound, small and `Copy` so that it can be taken
/// before every input (it holds no PIN digits and no foreign code's text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shown {
    NotReady,
    Scanning(Option<Option<PromptId>>),
    Checking,
    PinPad(Option<Option<u32>>),
    Dashboard,
    SignedOut,
    SigningIn,
    Error(Discriminant<ErrorKind>),
}

impl Shown {
    pub(crate) fn of(screen: &Screen) -> Shown {
        match screen {
            Screen::NotReady(_) => Shown::NotReady,
            Screen::Scanning { hint } => Shown::Scanning(hint.as_ref().map(hint_prompt)),
            Screen::Checking { .. } => Shown::Checking,
            Screen::PinPad { wrong, .. } => Shown::PinPad(*wrong),
            Screen::Dashboard { .. } => Shown::Dashboard,
            Screen::SignedOut { .. } => Shown::SignedOut,
            Screen::SigningIn => Shown::SigningIn,
            Screen::Error { kind, .. } => Shown::Error(std::mem::discriminant(kind)),
        }
    }
}

/// The prompt for a scanning hint; `None` for "no code in view" (nothing to say).
pub fn hint_prompt(hint: &Hint) -> Option<PromptId> {
    match hint {
        Hint::NoCode => None,
        Hint::ComeCloser => Some(PromptId::ComeCloser),
        Hint::TooDark => Some(PromptId::TooDark),
        Hint::TooBright => Some(PromptId::TooBright),
        Hint::HoldStill => Some(PromptId::HoldStill),
        Hint::SeenNotReadable => Some(PromptId::ShowAll),
        Hint::NotQuickCard { .. } => Some(PromptId::NotYourCard),
    }
}

/// The prompt for a refusal: the spoken form of the child's sentence on the error screen.
pub fn error_prompt(kind: &ErrorKind) -> PromptId {
    match kind {
        ErrorKind::Expired => PromptId::TooOld,
        ErrorKind::Revoked => PromptId::Swapped,
        ErrorKind::OtherSchool => PromptId::OtherSchool,
        ErrorKind::NotQuickCard => PromptId::NotYourCard,
        ErrorKind::Forged
        | ErrorKind::Damaged
        | ErrorKind::FutureCard
        | ErrorKind::PinNotSet
        | ErrorKind::NoGoogleAccount => PromptId::CardBroken,
        ErrorKind::UnknownKey | ErrorKind::NotSchoolCard => PromptId::NotSchoolCard,
        ErrorKind::Erased => PromptId::Erased,
        ErrorKind::AskAdult { .. } => PromptId::AskAdult,
        ErrorKind::NotAllowed => PromptId::NotAllowed,
        ErrorKind::LockedOut { .. } => PromptId::Locked,
        ErrorKind::Unreachable { .. } => PromptId::Unreachable,
    }
}

impl Core {
    /// Asks for the sounds that go with the screen having gone from `before` to now.
    pub(crate) fn sound_after(&mut self, before: Shown) {
        let now = self.now.ms;
        let after = Shown::of(&self.screen);
        if after != before {
            match after {
                Shown::Scanning(None) if matches!(before, Shown::NotReady | Shown::SignedOut) => {
                    self.play(Cue::Chime)
                }
                Shown::Scanning(Some(Some(p))) => self.say_hint(p),
                Shown::Checking | Shown::PinPad(None) if matches!(before, Shown::Scanning(_)) => {
                    self.play(Cue::GotIt)
                }
                Shown::PinPad(Some(_)) => self.refuse(PromptId::WrongPin),
                Shown::Error(_) => {
                    if let Screen::Error { kind, .. } = &self.screen {
                        let p = error_prompt(kind);
                        self.refuse(p);
                    }
                }
                _ => {}
            }
        }
        let countdown = self.idle_countdown_secs(now);
        if countdown.is_some() && countdown != self.countdown_heard {
            self.play(Cue::Tick);
        }
        self.countdown_heard = countdown;
    }

    fn play(&mut self, cue: Cue) {
        // Muted or at zero: nothing is asked for, so a muted kiosk is silent whatever the
        // device does with its volume.
        if self.muted || self.volume_pct == 0 {
            return;
        }
        self.emit(Effect::Play(cue));
    }

    fn refuse(&mut self, p: PromptId) {
        self.play(Cue::TryAgain);
        self.play(Cue::Prompt(p, self.lang));
    }

    fn say_hint(&mut self, p: PromptId) {
        let now = self.now.ms;
        if let Some((last, at)) = self.hint_heard {
            let since = now.saturating_sub(at);
            if since < HINT_GAP_MS || (last == p && since < HINT_REPEAT_MS) {
                return;
            }
        }
        self.hint_heard = Some((p, now));
        self.play(Cue::Prompt(p, self.lang));
    }
}
