//! Test doubles at the kiosk's edges (the ports in `app::ports`): a manual clock, an inline
//! runtime, a scripted camera, a recording launcher and a scripted portal. The kiosk core,
//! screens and strings under test are the real ones.
#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Waker};
use std::time::Duration;

use quickcard::{Claims, Flags, IssuerKey, Role, TrustedKey};
use quickcard_kiosk::app::driver::Services;
use quickcard_kiosk::app::ports::{
    BoxFuture, Camera, CameraEvent, Clock, Hint, Launcher, PortalApi, Runtime, ScanOutcome,
};
use quickcard_kiosk::app::state::Settings;
use quickcard_kiosk::platform::MemoryStorage;
use quickcard_kiosk::portal_client::{
    AppTile, Avatar, KioskConfig, LaunchReply, PortalError, Revocation, SessionReply, User,
};
use zeroize::Zeroizing;

pub const NOW_UNIX: u64 = 1_800_000_000;
pub const SCHOOL: &str = "sch-test";

/// Milliseconds, advanced by the test.
#[derive(Clone, Default)]
pub struct ManualClock(pub Arc<AtomicU64>);

impl ManualClock {
    pub fn advance(&self, ms: u64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn unix_secs(&self) -> u64 {
        NOW_UNIX + self.0.load(Ordering::SeqCst) / 1000
    }
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Runs futures on the calling thread: polled once when spawned (the fakes are ready at
/// once), the rest again on every later spawn.
#[derive(Clone, Default)]
pub struct InlineRuntime {
    pending: Rc<RefCell<Vec<BoxFuture<'static, ()>>>>,
}

impl InlineRuntime {
    pub fn pump(&self) {
        let mut cx = Context::from_waker(Waker::noop());
        let mut list = std::mem::take(&mut *self.pending.borrow_mut());
        list.retain_mut(|f| f.as_mut().poll(&mut cx).is_pending());
        self.pending.borrow_mut().extend(list);
    }
}

impl Runtime for InlineRuntime {
    fn spawn(&self, fut: BoxFuture<'static, ()>) {
        self.pending.borrow_mut().push(fut);
        self.pump();
    }
    fn sleep(&self, _d: Duration) -> BoxFuture<'static, ()> {
        Box::pin(async {})
    }
}

/// A camera whose reports the test queues.
#[derive(Clone, Default)]
pub struct ScriptCamera {
    pub queue: Arc<Mutex<VecDeque<CameraEvent>>>,
    pub active: Arc<AtomicBool>,
}

impl ScriptCamera {
    pub fn card(&self, text: &str) {
        self.queue.lock().unwrap().push_back(CameraEvent::Scanned {
            outcome: ScanOutcome::Card(text.to_string()),
            preview: None,
        });
    }
    pub fn hint(&self, h: Hint) {
        self.queue.lock().unwrap().push_back(CameraEvent::Scanned {
            outcome: ScanOutcome::Hint(h),
            preview: None,
        });
    }
    pub fn fail(&self, message: &str) {
        self.queue.lock().unwrap().push_back(CameraEvent::Failed {
            code: "no_camera",
            message: message.into(),
            transient: true,
        });
    }
}

impl Camera for ScriptCamera {
    fn poll(&mut self) -> Option<CameraEvent> {
        self.queue.lock().unwrap().pop_front()
    }
    fn set_active(&mut self, active: bool) {
        self.active.store(active, Ordering::SeqCst);
    }
    fn describe(&self) -> String {
        "script".into()
    }
}

/// Remembers the URLs it was asked to open.
#[derive(Clone, Default)]
pub struct RecordingLauncher(pub Arc<Mutex<Vec<String>>>);

impl Launcher for RecordingLauncher {
    fn open(&self, url: &str) -> Result<(), String> {
        self.0.lock().unwrap().push(url.to_string());
        Ok(())
    }
    fn sign_in(&self, h: &quickcard_kiosk::portal_client::SignInHandoff) -> Result<(), String> {
        self.0
            .lock()
            .unwrap()
            .push(format!("sign-in {} at {}", h.email, h.acs_url));
        Ok(())
    }
}

/// A portal that answers from a script and records every call.
#[derive(Clone)]
pub struct ScriptPortal {
    pub calls: Arc<Mutex<Vec<String>>>,
    pub exchange: Arc<Mutex<VecDeque<Result<SessionReply, PortalError>>>>,
    pub config: Arc<Mutex<Result<KioskConfig, PortalError>>>,
    /// While set, exchanges do not answer (to see the checking screen).
    pub hold: Arc<AtomicBool>,
}

impl ScriptPortal {
    pub fn new(trust: Vec<TrustedKey>) -> ScriptPortal {
        ScriptPortal {
            calls: Arc::default(),
            exchange: Arc::default(),
            hold: Arc::default(),
            config: Arc::new(Mutex::new(Ok(KioskConfig {
                school_id: SCHOOL.into(),
                trust,
                revoked: vec![],
                idle_timeout_secs: None,
                ..Default::default()
            }))),
        }
    }
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
    pub fn reply(&self, r: Result<SessionReply, PortalError>) {
        self.exchange.lock().unwrap().push_back(r);
    }
    /// The next exchange answers with this HTTP reply, read as the kiosk's HTTP client reads
    /// it (a success body as a session, anything else as an error).
    pub fn reply_http(&self, status: u16, body: &str) {
        let r = if status == 200 {
            Ok(serde_json::from_str::<SessionReply>(body).expect("a session reply"))
        } else {
            Err(PortalError::from_reply(status, body.as_bytes()))
        };
        self.reply(r);
    }
    pub fn revoke(&self, user_id: &str, before: u64) {
        if let Ok(c) = &mut *self.config.lock().unwrap() {
            // As the portal sends it: a salted hash, not the id.
            c.revoked.push(Revocation::new(
                "5a17c0ffee5a17c0ffee5a17c0ffee00",
                user_id,
                before,
            ));
        }
    }
}

pub fn api_error(
    code: &str,
    attempts_left: Option<u32>,
    retry_after_secs: Option<u64>,
) -> PortalError {
    PortalError::Api {
        status: 403,
        code: code.into(),
        message: code.into(),
        attempts_left,
        retry_after_secs,
    }
}

impl PortalApi for ScriptPortal {
    fn kiosk_config(&self) -> BoxFuture<'static, Result<KioskConfig, PortalError>> {
        self.calls.lock().unwrap().push("config".into());
        let r = self.config.lock().unwrap().clone();
        Box::pin(async move { r })
    }
    fn exchange(
        &self,
        card: Zeroizing<String>,
        pin: Option<Zeroizing<String>>,
    ) -> BoxFuture<'static, Result<SessionReply, PortalError>> {
        let pin = pin
            .map(|p| format!(" pin={}", p.as_str()))
            .unwrap_or_default();
        self.calls
            .lock()
            .unwrap()
            .push(format!("exchange {}{pin}", &card[..12.min(card.len())]));
        let r = self
            .exchange
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| Ok(maya_session()));
        let hold = self.hold.clone();
        let mut r = Some(r);
        Box::pin(std::future::poll_fn(move |_| {
            if hold.load(Ordering::SeqCst) {
                std::task::Poll::Pending
            } else {
                std::task::Poll::Ready(r.take().unwrap())
            }
        }))
    }
    fn end_session(&self, token: Zeroizing<String>) -> BoxFuture<'static, Result<(), PortalError>> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("end {}", token.as_str()));
        Box::pin(async { Ok(()) })
    }
    fn launch(
        &self,
        token: Zeroizing<String>,
        app_id: String,
    ) -> BoxFuture<'static, Result<LaunchReply, PortalError>> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("launch {app_id} {}", token.as_str()));
        Box::pin(async move {
            Ok(LaunchReply {
                url: format!("https://apps.example/{app_id}?once=abc"),
                expires_at: 0,
            })
        })
    }
}

pub fn maya_session() -> SessionReply {
    SessionReply {
        token: "tok-maya".into(),
        expires_at: NOW_UNIX + 3600,
        user: User {
            id: "stu-maya".into(),
            display_name: "Maya Lopez".into(),
            given_name: "Maya".into(),
            role: Role::Student,
            avatar: Avatar {
                initial: "M".into(),
                color: "#7C3AED".into(),
            },
        },
        apps: vec![
            AppTile {
                id: "reading".into(),
                name: "Reading".into(),
                icon: "book".into(),
                color: "#0E7490".into(),
            },
            AppTile {
                id: "math".into(),
                name: "Math".into(),
                icon: "math".into(),
                color: "#B45309".into(),
            },
        ],
        second_factor_used: false,
        sign_in: None,
    }
}

/// The school's (non-demo) issuer key.
pub fn school_key() -> IssuerKey {
    IssuerKey::from_seed([9; 32], "Test school 2026")
}

pub fn trusted() -> Vec<TrustedKey> {
    vec![TrustedKey::new(school_key().public(), "Test school")]
}

/// A card for `subject`, valid around [`NOW_UNIX`] unless `expired`.
pub fn card(subject: &str, role: Role, school: &str, second_factor: bool, expired: bool) -> String {
    let (issued, expires) = if expired {
        (NOW_UNIX - 400 * 86_400, NOW_UNIX - 30 * 86_400)
    } else {
        (NOW_UNIX - 86_400, NOW_UNIX + 300 * 86_400)
    };
    let claims = Claims::new(
        subject,
        role,
        school,
        issued,
        expires,
        Flags { second_factor },
    )
    .unwrap();
    quickcard::sign(&claims, &school_key())
}

/// Everything a test needs to drive and observe a kiosk.
pub struct Rig {
    pub clock: ManualClock,
    pub runtime: InlineRuntime,
    pub camera: ScriptCamera,
    pub launcher: RecordingLauncher,
    pub portal: ScriptPortal,
}

impl Rig {
    pub fn new() -> Rig {
        Rig {
            clock: ManualClock::default(),
            runtime: InlineRuntime::default(),
            camera: ScriptCamera::default(),
            launcher: RecordingLauncher::default(),
            portal: ScriptPortal::new(trusted()),
        }
    }

    pub fn settings(&self) -> Settings {
        Settings {
            enrolled: true,
            portal_url: "http://portal.test".into(),
            idle_timeout_ms: 120_000,
            idle_warning_ms: 15_000,
            admin_pin_hash: Some(quickcard_kiosk::config::PinHash::new(
                quickcard_kiosk::config::hash_pin("2468", &[1; 16]).unwrap(),
            )),
            ..Settings::default()
        }
    }

    pub fn services(&self) -> Services {
        Services {
            portal: Box::new(self.portal.clone()),
            runtime: Box::new(self.runtime.clone()),
            clock: Box::new(self.clock.clone()),
            camera: Box::new(self.camera.clone()),
            launcher: Box::new(self.launcher.clone()),
            storage: Box::new(MemoryStorage::default()),
            repaint: Arc::new(|| {}),
        }
    }
}
