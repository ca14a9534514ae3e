//! The card flow: from a code in front of the camera to the portal's answer.
//!
//! A card is checked offline first (signature, dates, school, revocations), so a forged,
//! expired or foreign card is refused at once and without the network. A good card goes to the
//! portal, with a PIN first when the card asks for a second factor. While the portal is away
//! the exchange is retried with back-off. After a refusal the same card is ignored a while,
//! because the child is still holding it up.

use quickcard::VerifyOptions;
use quickcard_api::{ErrorCode, ReplyCode};
use zeroize::Zeroizing;

use crate::app::core::{Core, Effect, Pending, card_key};
use crate::app::error_codes::{error_for, error_for_card};
use crate::app::ports::{CameraEvent, Hint, ScanOutcome};
use crate::app::state::{
    Action, Digits, ERROR_SCREEN_MS, ErrorKind, GOT_IT_MS, MAX_PIN, SAME_CARD_PAUSE_MS, Screen,
    UNREACHABLE_RETRIES,
};
use crate::portal_client::{PortalError, SessionReply};

impl Core {
    pub(crate) fn on_camera(&mut self, ev: CameraEvent) {
        match ev {
            CameraEvent::Failed { message, .. } => {
                if self.camera_problem.is_none() {
                    tracing::warn!("camera: {message}");
                }
                self.camera_problem = Some(message);
                self.refresh_idle_screen();
            }
            CameraEvent::Scanned { outcome, preview } => {
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
                    ScanOutcome::Hint(Hint::NotQuickCard { text, .. }) => {
                        self.on_foreign_code(Zeroizing::new(text))
                    }
                    ScanOutcome::Hint(h) => self.screen = Screen::Scanning { hint: Some(h) },
                    ScanOutcome::Card(text) => self.on_card(Zeroizing::new(text)),
                }
            }
        }
    }

    /// Whether the card is the one just refused or signed out with, still held up.
    fn ignored(&self, key: &str) -> bool {
        self.ignore
            .as_ref()
            .is_some_and(|(ignored, until)| ignored == key && self.now.ms < *until)
    }

    /// A QR code that is not a QuickCard (the scanner already looked at its prefix): the
    /// "not a school card" screen, once, without decoding it again.
    fn on_foreign_code(&mut self, text: Zeroizing<String>) {
        let Some(Ok(_)) = &self.trust else {
            return;
        };
        let key = card_key(&text);
        if self.ignored(&key) {
            return;
        }
        tracing::info!(code = "not_quickcard", "card refused offline");
        self.refuse_offline(key, ErrorKind::NotQuickCard);
    }

    /// Refuses a card without asking the portal.
    fn refuse_offline(&mut self, key: String, kind: ErrorKind) {
        self.pending = Some(Pending {
            text: Zeroizing::default(),
            card_id: key,
            pin: None,
            attempt: 0,
        });
        self.fail(kind);
    }

    /// A code was read: check it offline, then ask the portal (or the PIN first).
    fn on_card(&mut self, text: Zeroizing<String>) {
        let Some(Ok(trust)) = &self.trust else {
            return;
        };
        let now = self.now.ms;
        let key = card_key(&text);
        if self.ignored(&key) {
            return;
        }
        let opts = VerifyOptions {
            now: self.now.unix_secs,
            skew_secs: self.settings.skew_secs,
            school: self.school_id.clone(),
            ..VerifyOptions::default()
        };
        match quickcard::verify(text.as_bytes(), trust, &opts) {
            Err(e) => {
                tracing::info!(code = e.code(), "card refused offline");
                self.refuse_offline(key, error_for_card(&e));
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
                    card_id: key,
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
        let effect = Effect::Exchange {
            generation: self.generation,
            card: p.text.clone(),
            pin: p.pin.clone(),
        };
        self.emit(effect);
    }

    /// The PIN pad's buttons.
    pub(crate) fn act_pin(&mut self, action: Action) {
        let now = self.now.ms;
        match action {
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
                    p.pin = Some(pin.take());
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
            _ => {}
        }
    }

    /// The portal answered the exchange of the pending card.
    pub(crate) fn on_exchanged(&mut self, result: Result<SessionReply, PortalError>) {
        let now = self.now.ms;
        let e = match result {
            Ok(reply) => {
                let card_id = self.pending.take().map(|p| p.card_id).unwrap_or_default();
                self.start_session(reply, card_id);
                return;
            }
            Err(e) => e,
        };
        tracing::info!("exchange refused: {e}");
        match &e {
            PortalError::Api {
                code,
                attempts_left,
                retry_after_secs,
                ..
            } => match code {
                ReplyCode::Known(ErrorCode::PinRequired) => {
                    self.screen = Screen::PinPad {
                        pin: Digits::default(),
                        wrong: None,
                    };
                    self.last_activity_ms = now;
                }
                ReplyCode::Known(ErrorCode::WrongPin) => {
                    self.screen = Screen::PinPad {
                        pin: Digits::default(),
                        wrong: Some(*attempts_left),
                    };
                    self.last_activity_ms = now;
                }
                ReplyCode::Known(ErrorCode::LockedOut | ErrorCode::RateLimited) => {
                    let secs = retry_after_secs.unwrap_or(60);
                    self.fail(ErrorKind::LockedOut {
                        until_ms: now + secs * 1000,
                    });
                }
                ReplyCode::Known(ErrorCode::KioskUnauthorized | ErrorCode::KioskDisabled) => {
                    self.pending = None;
                    self.kiosk_refused = true;
                    self.screen = self.ready_screen();
                }
                ReplyCode::Known(
                    ErrorCode::SigninUnknown | ErrorCode::SigninExpired | ErrorCode::SigninUsed,
                ) => self.sign_in_gone(),
                ReplyCode::Known(ErrorCode::Internal) => self.unreachable(),
                // Every other known code gets its screen; named one by one, so that a code
                // added to the contract is a compile error here until someone has decided
                // whether the exchange handles it itself (like the PIN pad) or shows it.
                ReplyCode::Known(
                    ErrorCode::NotQuickCard
                    | ErrorCode::Malformed
                    | ErrorCode::UnsupportedVersion
                    | ErrorCode::UnknownKey
                    | ErrorCode::BadSignature
                    | ErrorCode::KeyRevoked
                    | ErrorCode::KeyNotValidAtIssue
                    | ErrorCode::KeyNotForSchool
                    | ErrorCode::LifetimeTooLong
                    | ErrorCode::NotYetValid
                    | ErrorCode::Expired
                    | ErrorCode::WrongSchool
                    | ErrorCode::UnknownUser
                    | ErrorCode::UserErased
                    | ErrorCode::CardRevoked
                    | ErrorCode::RoleNotAllowed
                    | ErrorCode::RoleMismatch
                    | ErrorCode::PinNotSet
                    | ErrorCode::SessionExpired
                    | ErrorCode::UnknownApp
                    | ErrorCode::LaunchInvalid
                    | ErrorCode::EnrolmentCodeInvalid
                    | ErrorCode::AdminApiDisabled
                    | ErrorCode::AdminUnauthorized
                    | ErrorCode::UnknownKiosk
                    | ErrorCode::SamlNotConfigured
                    | ErrorCode::NetworkNotAllowed
                    | ErrorCode::NoGoogleAccount
                    | ErrorCode::NoWebKiosk
                    | ErrorCode::BadPolicy
                    | ErrorCode::NotFound
                    | ErrorCode::BadRequest,
                ) => self.fail(error_for(code)),
                // A newer portal's codes: its sign-in codes still end the sign-in, its
                // internal failures still count as the portal failing, and the rest get the
                // grown-up screen that names the code.
                ReplyCode::Unknown(c) if c.starts_with("signin_") => self.sign_in_gone(),
                ReplyCode::Unknown(c) if c.starts_with("internal") => self.unreachable(),
                ReplyCode::Unknown(_) => self.fail(error_for(code)),
            },
            PortalError::Unreachable(_) | PortalError::Protocol(_) => self.unreachable(),
        }
    }

    /// The pending Chromebook sign-in is gone (expired, used or unknown): the page asks for a
    /// new one from the Chromebook.
    fn sign_in_gone(&mut self) {
        self.pending = None;
        self.sign_in_expired = true;
        self.screen = self.ready_screen();
    }

    /// The portal did not answer: retry the pending card with back-off, then give up.
    fn unreachable(&mut self) {
        let now = self.now.ms;
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

    pub(crate) fn retry_exchange(&mut self) {
        if self.pending.is_some() {
            self.screen = Screen::Checking {
                since_ms: self.now.ms,
            };
            self.send_exchange();
        } else {
            self.leave_error();
        }
    }
}
