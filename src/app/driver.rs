//! The driver: runs the core's [`Effect`]s through the ports and feeds the results back as
//! [`Input`]s.
//!
//! [`Kiosk`] is what the UI holds. It owns the pure [`Core`] and the [`Services`] (the ports'
//! implementations). The UI calls [`Kiosk::tick`] once per frame (it drains portal replies,
//! runs timers and polls the camera, never waiting) and [`Kiosk::act`] for each button press.
//! Portal calls run on the [`Runtime`] and report back through a channel; the launcher's calls
//! answer at once. This is the one place that spawns, so the core stays testable without
//! futures and the spawn-then-reply pattern is written once.

use std::collections::VecDeque;
use std::sync::mpsc;

use crate::app::core::{Core, Effect, Input, Now};
use crate::app::i18n::Lang;
use crate::app::ports::{
    BoxFuture, Camera, CameraEvent, Clock, Hint, Launcher, PortalApi, Preview, Repaint, Runtime,
    ScanOutcome, Silent, Sound, Storage,
};
use crate::app::state::{Action, AdminPad, CONFIG_CACHE, Screen, Session, Settings};
use crate::portal_client::KioskConfig;

/// The ports' implementations the kiosk runs on (see [`crate::app::ports`]).
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

/// The kiosk: the state machine and the services it runs on.
pub struct Kiosk {
    core: Core,
    services: Services,
    /// Apart from [`Services`] because a kiosk without it is complete: silent.
    sound: Box<dyn Sound>,
    tx: mpsc::Sender<Input>,
    rx: mpsc::Receiver<Input>,
}

impl std::fmt::Debug for Kiosk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kiosk")
            .field("screen", &self.core.screen().name())
            .field("signed_in", &self.core.session().is_some())
            .finish_non_exhaustive()
    }
}

impl Kiosk {
    /// Starts the kiosk: shows "not ready" until it can scan, from the config cached by an
    /// earlier run if there is one; the first tick asks the portal for a fresh one.
    pub fn new(settings: Settings, services: Services) -> Kiosk {
        let (tx, rx) = mpsc::channel();
        let cached = if settings.trust.is_empty() {
            services
                .storage
                .load(CONFIG_CACHE)
                .and_then(|text| serde_json::from_str::<KioskConfig>(&text).ok())
        } else {
            None
        };
        let core = Core::new(settings, services.clock.now_ms(), cached);
        Kiosk {
            core,
            services,
            sound: Box::new(Silent),
            tx,
            rx,
        }
    }

    /// Plays the kiosk's cues through `sound` (the kiosk starts silent).
    pub fn set_sound(&mut self, sound: Box<dyn Sound>) {
        let (volume_pct, muted) = self.core.sound_level();
        sound.set_volume(f32::from(volume_pct) / 100.0, muted);
        self.sound = sound;
    }

    // ----- read access for the screens ---------------------------------------------------

    /// The state machine, for reading.
    pub fn core(&self) -> &Core {
        &self.core
    }
    pub fn screen(&self) -> &Screen {
        self.core.screen()
    }
    pub fn lang(&self) -> Lang {
        self.core.lang()
    }
    pub fn session(&self) -> Option<&Session> {
        self.core.session()
    }
    pub fn settings(&self) -> &Settings {
        self.core.settings()
    }
    pub fn admin(&self) -> Option<&AdminPad> {
        self.core.admin()
    }
    /// How long the admin PIN pad stays locked after too many wrong PINs (`None`: open).
    pub fn admin_locked_ms(&self) -> Option<u64> {
        self.core.admin_locked_ms(self.now_ms())
    }
    /// True once the admin PIN was entered: the app should close.
    pub fn quit_requested(&self) -> bool {
        self.core.quit_requested()
    }
    /// The latest camera picture and a counter that changes when it does.
    pub fn preview(&self) -> (Option<&Preview>, u64) {
        self.core.preview()
    }
    /// Monotonic now.
    pub fn now_ms(&self) -> u64 {
        self.services.clock.now_ms()
    }
    /// Whether the "Got it!" cue should show.
    pub fn got_it(&self) -> bool {
        self.core.got_it(self.now_ms())
    }
    /// Seconds until the idle sign-out, when the countdown is showing.
    pub fn idle_countdown_secs(&self) -> Option<u64> {
        self.core.idle_countdown_secs(self.now_ms())
    }
    /// Camera description (admin view).
    pub fn camera_description(&self) -> String {
        self.services.camera.describe()
    }

    // ----- inputs ------------------------------------------------------------------------

    /// Drains replies, runs timers and polls the camera. Never blocks.
    pub fn tick(&mut self) {
        while let Ok(reply) = self.rx.try_recv() {
            self.feed(reply);
        }
        self.feed(Input::Tick);
        let active = self.core.wants_camera();
        self.services.camera.set_active(active);
        // Drain what the camera has; stop at a code so it is handled on the right screen.
        for _ in 0..8 {
            let Some(ev) = self.services.camera.poll() else {
                break;
            };
            let code = matches!(
                &ev,
                CameraEvent::Scanned {
                    outcome: ScanOutcome::Card(_) | ScanOutcome::Hint(Hint::NotQuickCard { .. }),
                    ..
                }
            );
            self.feed(Input::Camera(ev));
            if code {
                break;
            }
        }
    }

    /// Handles one input from the screens.
    pub fn act(&mut self, action: Action) {
        self.feed(Input::Action(action));
    }

    /// Ends the session here and on the portal; nothing of the user stays.
    pub fn sign_out(&mut self) {
        self.feed(Input::SignOut);
    }

    // ----- running effects ---------------------------------------------------------------

    fn now(&self) -> Now {
        Now {
            ms: self.services.clock.now_ms(),
            unix_secs: self.services.clock.unix_secs(),
        }
    }

    /// Hands `input` to the core and runs what it asks for, feeding back the answers that
    /// come at once until there are none.
    fn feed(&mut self, input: Input) {
        let mut queue = VecDeque::from([input]);
        while let Some(input) = queue.pop_front() {
            let effects = self.core.handle(self.now(), input);
            queue.extend(effects.into_iter().filter_map(|e| self.run(e)));
        }
    }

    /// Runs one effect; returns its answer when it has one at once.
    fn run(&self, effect: Effect) -> Option<Input> {
        let s = &self.services;
        match effect {
            Effect::FetchConfig => self.spawn(s.portal.kiosk_config(), Input::Config),
            Effect::SaveConfig(text) => {
                if let Err(e) = s.storage.save(CONFIG_CACHE, &text) {
                    tracing::warn!("cannot cache the kiosk config: {e}");
                }
            }
            Effect::Exchange {
                generation,
                card,
                pin,
            } => self.spawn(s.portal.exchange(card, pin), move |result| {
                Input::Exchanged { generation, result }
            }),
            Effect::Launch {
                generation,
                token,
                app_id,
            } => self.spawn(s.portal.launch(token, app_id), move |result| {
                Input::Launched { generation, result }
            }),
            Effect::EndSession { token } => {
                self.spawn(s.portal.end_session(token), Input::SessionEnded)
            }
            Effect::EndApps => s.launcher.end_session(),
            Effect::Open { url } => return Some(Input::Opened(s.launcher.open(&url))),
            Effect::HandOver(handoff) => {
                return Some(Input::HandedOver(s.launcher.sign_in(&handoff)));
            }
            Effect::Play(cue) => self.sound.play(cue),
            Effect::SetVolume { volume_pct, muted } => {
                self.sound.set_volume(f32::from(volume_pct) / 100.0, muted)
            }
        }
        None
    }

    /// Runs `fut` on the runtime; its output comes back through the channel as
    /// `reply(output)` at a later tick, and the UI is asked to draw again.
    fn spawn<T: 'static>(
        &self,
        fut: BoxFuture<'static, T>,
        reply: impl FnOnce(T) -> Input + Send + 'static,
    ) {
        let tx = self.tx.clone();
        let repaint = self.services.repaint.clone();
        self.services.runtime.spawn(Box::pin(async move {
            let _ = tx.send(reply(fut.await));
            repaint();
        }));
    }
}
