//! The admin flow: the PIN pad that leaves kiosk mode.
//!
//! It sits over any screen, so it takes the inputs while open. A right PIN signs out whoever
//! is signed in and asks the app to close; wrong PINs lock the pad for longer and longer
//! ([`AdminLock`](crate::app::admin_lock::AdminLock)), so a child cannot guess it.

use crate::app::core::{Core, Effect};
use crate::app::state::{Action, Digits, MAX_PIN, VOLUME_STEP_PCT};

impl Core {
    pub(crate) fn act_admin(&mut self, action: Action) {
        let now = self.now.ms;
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
            Action::VolumeDown | Action::VolumeUp | Action::ToggleMute => self.set_sound(action),
            _ => {}
        }
    }

    /// The grown-ups' sound controls. They sit on the admin pad without the PIN: a child who
    /// finds them can at worst change the volume until the next start, when the kiosk's
    /// config sets it again.
    fn set_sound(&mut self, action: Action) {
        match action {
            Action::VolumeDown => {
                self.volume_pct = self.volume_pct.saturating_sub(VOLUME_STEP_PCT);
            }
            Action::VolumeUp => self.volume_pct = (self.volume_pct + VOLUME_STEP_PCT).min(100),
            Action::ToggleMute => self.muted = !self.muted,
            _ => return,
        }
        self.emit(Effect::SetVolume {
            volume_pct: self.volume_pct,
            muted: self.muted,
        });
    }
}
