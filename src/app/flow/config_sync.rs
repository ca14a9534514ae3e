//! Config sync: the portal's trust list, revocations, school and idle time.
//!
//! The kiosk checks cards offline, so it needs the portal's config before it can scan, and a
//! fresh one now and then (new keys, new revocations). This flow fetches it at start and every
//! [`CONFIG_REFRESH_MS`], backs off while the portal is away, keeps the last good copy for the
//! next start, and stops asking when the portal refuses the kiosk itself.

use quickcard::{TrustList, TrustedKey};
use quickcard_api::{ErrorCode, ReplyCode};

use crate::app::core::{Core, Effect};
use crate::app::state::{CONFIG_REFRESH_MS, NotReady};
use crate::portal_client::{KioskConfig, PortalError};

impl Core {
    pub(crate) fn fetch_config(&mut self) {
        self.config_in_flight = true;
        self.emit(Effect::FetchConfig);
    }

    pub(crate) fn set_trust(&mut self, keys: Vec<TrustedKey>) {
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

    /// Takes the portal's config; `fresh`: just fetched (a cached copy does not change the
    /// idle time, which the local settings gave).
    pub(crate) fn apply_config(&mut self, cfg: KioskConfig, fresh: bool) {
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

    pub(crate) fn on_config(&mut self, result: Result<KioskConfig, PortalError>) {
        let now = self.now.ms;
        self.config_in_flight = false;
        match result {
            Ok(cfg) => {
                self.config_backoff_ms = 1_000;
                self.config_retry_at = now + CONFIG_REFRESH_MS;
                if let Ok(text) = serde_json::to_string(&cfg) {
                    self.emit(Effect::SaveConfig(text));
                }
                self.apply_config(cfg, true);
            }
            Err(e) => {
                tracing::warn!("kiosk config: {e}");
                match e.reply_code() {
                    Some(ReplyCode::Known(
                        ErrorCode::KioskUnauthorized | ErrorCode::KioskDisabled,
                    )) => {
                        self.kiosk_refused = true;
                    }
                    Some(ReplyCode::Known(
                        ErrorCode::SigninUnknown | ErrorCode::SigninExpired | ErrorCode::SigninUsed,
                    )) => self.sign_in_expired = true,
                    // A newer portal's sign-in codes end the sign-in too.
                    Some(ReplyCode::Unknown(c)) if c.starts_with("signin_") => {
                        self.sign_in_expired = true;
                    }
                    // Anything else (the portal away, busy or failing) is asked again later.
                    Some(ReplyCode::Known(_) | ReplyCode::Unknown(_)) | None => {
                        self.config_retry_at = now + self.config_backoff_ms;
                        self.config_backoff_ms = (self.config_backoff_ms * 2).min(60_000);
                    }
                }
            }
        }
        self.refresh_idle_screen();
    }
}
