//! The session flow: signed in, opening apps, signing out.
//!
//! A session lives from the portal's yes until sign-out, the idle timeout, the admin leaving
//! kiosk mode, or the portal saying it expired. At sign-out nothing of the user stays: the
//! session (token, name, tiles) is wiped, the portal is told, and the apps the launcher opened
//! for the child end too. On the Chromebook sign-in page the session is handed to Google
//! instead of showing the dashboard.

use quickcard_api::{ErrorCode, ReplyCode};

use crate::app::core::{Core, Effect};
use crate::app::state::{ErrorKind, SAME_CARD_PAUSE_MS, SIGNED_OUT_MS, Screen, Session};
use crate::portal_client::{LaunchReply, PortalError, SessionReply};

impl Core {
    /// The portal said yes to the card `card_id`.
    pub(crate) fn start_session(&mut self, mut reply: SessionReply, card_id: String) {
        let now = self.now.ms;
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
            self.emit(Effect::HandOver(handoff));
        }
        tracing::info!("signed in");
    }

    /// The Chromebook sign-in page's handover to Google is done (or could not be).
    pub(crate) fn on_handed_over(&mut self, result: Result<(), String>) {
        match result {
            Ok(()) => self.screen = Screen::SigningIn,
            Err(e) => {
                tracing::error!("cannot finish the Chromebook sign-in: {e}");
                self.session = None;
                self.fail(ErrorKind::NotSchoolCard);
            }
        }
    }

    /// A tile was pressed: ask the portal for the app's launch URL.
    pub(crate) fn launch(&mut self, app_id: String) {
        let Some(session) = &self.session else {
            return;
        };
        let Some(app) = session.apps.iter().find(|a| a.id == app_id) else {
            return;
        };
        let name = app.name.clone();
        let effect = Effect::Launch {
            generation: self.session_generation,
            token: session.token.clone(),
            app_id,
        };
        if let Screen::Dashboard {
            opening,
            launch_failed,
        } = &mut self.screen
        {
            *opening = Some(name);
            *launch_failed = false;
        }
        self.emit(effect);
    }

    /// The portal answered a launch of this session.
    pub(crate) fn on_launched(&mut self, result: Result<LaunchReply, PortalError>) {
        match result {
            Ok(reply) => self.emit(Effect::Open { url: reply.url }),
            Err(e)
                if matches!(
                    e.reply_code(),
                    Some(ReplyCode::Known(ErrorCode::SessionExpired))
                ) =>
            {
                self.sign_out()
            }
            Err(e) => {
                tracing::warn!("launch: {e}");
                self.launch_done(true);
            }
        }
    }

    /// The launcher opened the app (or could not): the tile stops spinning.
    pub(crate) fn on_opened(&mut self, result: Result<(), String>) {
        self.launch_done(result.is_err());
        if let Err(e) = result {
            tracing::warn!("launcher failed: {e}");
        }
    }

    fn launch_done(&mut self, failed: bool) {
        if let Screen::Dashboard {
            opening,
            launch_failed,
        } = &mut self.screen
        {
            *opening = None;
            *launch_failed = failed;
        }
    }

    /// Ends the session here and on the portal; nothing of the user stays.
    pub(crate) fn sign_out(&mut self) {
        let now = self.now.ms;
        self.pending = None;
        self.preview = None;
        // The apps the child opened go too (with their cookies and logins), also when the
        // portal session already ended by itself.
        self.emit(Effect::EndApps);
        if let Some(session) = self.session.take() {
            self.emit(Effect::EndSession {
                token: session.token.clone(),
            });
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

    pub(crate) fn on_session_ended(&mut self, result: Result<(), PortalError>) {
        if let Err(e) = result {
            tracing::warn!("ending the session on the portal failed: {e}");
        }
    }
}
