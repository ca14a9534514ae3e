//! The state machine alone: each test hands [`Core::handle`] inputs at given times and looks at
//! the screen and the effects it returns. No runtime, camera or portal is involved.

use quickcard::{Claims, Flags, IssuerKey, Role, TrustedKey};

use crate::app::core::{Core, Effect, Input, Now};
use crate::app::ports::{CameraEvent, Hint, ScanOutcome};
use crate::app::state::{
    Action, CONFIG_REFRESH_MS, ERROR_SCREEN_MS, ErrorKind, NotReady, SAME_CARD_PAUSE_MS,
    SIGNED_OUT_MS, Screen, Settings,
};
use crate::portal_client::{KioskConfig, LaunchReply, PortalError, SessionReply};

const NOW_UNIX: u64 = 1_800_000_000;
pub(super) const SCHOOL: &str = "sch-test";

/// [`Core::handle`] without the sounds: these tests are about the flows, and the sounds
/// that follow the screen have their own tests (`sound_tests.rs`).
pub(super) trait Quiet {
    fn quiet(&mut self, now: Now, input: Input) -> Vec<Effect>;
}

impl Quiet for Core {
    fn quiet(&mut self, now: Now, input: Input) -> Vec<Effect> {
        let mut fx = self.handle(now, input);
        fx.retain(|e| !matches!(e, Effect::Play(_)));
        fx
    }
}

pub(super) fn at(ms: u64) -> Now {
    Now {
        ms,
        unix_secs: NOW_UNIX + ms / 1000,
    }
}

fn school_key() -> IssuerKey {
    IssuerKey::from_seed([9; 32], "Test school 2026")
}

pub(super) fn trusted() -> Vec<TrustedKey> {
    vec![TrustedKey::new(school_key().public(), "Test school")]
}

pub(super) fn card(subject: &str, second_factor: bool, expired: bool) -> String {
    let (issued, expires) = if expired {
        (NOW_UNIX - 400 * 86_400, NOW_UNIX - 30 * 86_400)
    } else {
        (NOW_UNIX - 86_400, NOW_UNIX + 300 * 86_400)
    };
    let flags = Flags { second_factor };
    let claims = Claims::new(subject, Role::Student, SCHOOL, issued, expires, flags).unwrap();
    quickcard::sign(&claims, &school_key())
}

pub(super) fn settings() -> Settings {
    Settings {
        enrolled: true,
        school_id: Some(SCHOOL.into()),
        trust: trusted(),
        ..Settings::default()
    }
}

/// A kiosk that can scan at time 0 (local trust, so no config is needed first), which got
/// its first config (revocations) from the portal, so no timer fires for a while.
pub(super) fn scanning() -> Core {
    let mut k = Core::new(settings(), 0, None);
    assert_eq!(k.screen(), &Screen::Scanning { hint: None });
    assert!(matches!(
        k.quiet(at(0), Input::Tick)[..],
        [Effect::FetchConfig]
    ));
    let fx = k.quiet(at(0), Input::Config(Ok(KioskConfig::default())));
    assert!(matches!(fx[..], [Effect::SaveConfig(_)]));
    k
}

pub(super) fn scanned(outcome: ScanOutcome) -> Input {
    Input::Camera(CameraEvent::Scanned {
        outcome,
        preview: None,
    })
}

pub(super) fn show(text: &str) -> Input {
    scanned(ScanOutcome::Card(text.into()))
}

pub(super) fn api_error(code: &str) -> PortalError {
    PortalError::Api {
        status: 403,
        code: code.into(),
        message: code.into(),
        attempts_left: None,
        retry_after_secs: None,
    }
}

pub(super) fn session_reply() -> SessionReply {
    serde_json::from_str(
        r##"{"token": "tok-maya", "expires_at": 1800003600,
            "user": {"id": "stu-maya", "display_name": "Maya Lopez", "given_name": "Maya",
                     "role": "student"},
            "apps": [{"id": "reading", "name": "Reading"}]}"##,
    )
    .expect("a session reply")
}

fn launch_reply(url: &str) -> LaunchReply {
    serde_json::from_str(&format!(r#"{{"url": "{url}"}}"#)).expect("a launch reply")
}

/// A kiosk with Maya signed in at time 1000; her card is `card`.
pub(super) fn signed_in() -> Core {
    let mut k = scanning();
    let fx = k.quiet(at(1000), show(&card("stu-maya", false, false)));
    assert!(matches!(fx[..], [Effect::Exchange { generation: 1, .. }]));
    let fx = k.quiet(
        at(1000),
        Input::Exchanged {
            generation: 1,
            result: Ok(session_reply()),
        },
    );
    assert!(fx.is_empty(), "{fx:?}");
    k
}

// ----- config sync ---------------------------------------------------------------------------

#[test]
fn config_is_fetched_once_then_cached_and_refreshed() {
    let mut k = Core::new(
        Settings {
            trust: vec![],
            ..settings()
        },
        0,
        None,
    );
    assert_eq!(k.screen(), &Screen::NotReady(NotReady::PortalUnreachable));
    assert!(matches!(
        k.quiet(at(0), Input::Tick)[..],
        [Effect::FetchConfig]
    ));
    // In flight: no second request.
    assert!(k.quiet(at(500), Input::Tick).is_empty());
    let cfg = KioskConfig {
        school_id: SCHOOL.into(),
        trust: trusted(),
        ..KioskConfig::default()
    };
    let fx = k.quiet(at(600), Input::Config(Ok(cfg.clone())));
    match &fx[..] {
        [Effect::SaveConfig(text)] => {
            assert_eq!(serde_json::from_str::<KioskConfig>(text).unwrap(), cfg)
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(k.screen(), &Screen::Scanning { hint: None });
    assert!(
        k.quiet(at(600 + CONFIG_REFRESH_MS - 1), Input::Tick)
            .is_empty()
    );
    let fx = k.quiet(at(600 + CONFIG_REFRESH_MS), Input::Tick);
    assert!(matches!(fx[..], [Effect::FetchConfig]));
}

#[test]
fn a_cached_config_makes_the_kiosk_ready_without_the_portal() {
    let cfg = KioskConfig {
        school_id: SCHOOL.into(),
        trust: trusted(),
        ..KioskConfig::default()
    };
    let k = Core::new(
        Settings {
            trust: vec![],
            ..settings()
        },
        0,
        Some(cfg),
    );
    assert_eq!(k.screen(), &Screen::Scanning { hint: None });
}

#[test]
fn config_failures_back_off_and_a_refused_kiosk_stops_asking() {
    let mut k = Core::new(
        Settings {
            trust: vec![],
            ..settings()
        },
        0,
        None,
    );
    k.quiet(at(0), Input::Tick);
    let fx = k.quiet(
        at(10),
        Input::Config(Err(PortalError::Unreachable("down".into()))),
    );
    assert!(fx.is_empty());
    assert!(k.quiet(at(1009), Input::Tick).is_empty());
    assert!(matches!(
        k.quiet(at(1010), Input::Tick)[..],
        [Effect::FetchConfig]
    ));
    k.quiet(
        at(1020),
        Input::Config(Err(api_error("kiosk_unauthorized"))),
    );
    assert_eq!(k.screen(), &Screen::NotReady(NotReady::KioskRefused));
    assert!(k.quiet(at(10_000_000), Input::Tick).is_empty());
}

// ----- card ----------------------------------------------------------------------------------

#[test]
fn a_good_card_goes_to_the_portal_and_hints_only_change_the_screen() {
    let mut k = scanning();
    let fx = k.quiet(at(5), scanned(ScanOutcome::Hint(Hint::TooDark)));
    assert!(fx.is_empty());
    assert_eq!(
        k.screen(),
        &Screen::Scanning {
            hint: Some(Hint::TooDark)
        }
    );
    let text = card("stu-maya", false, false);
    let fx = k.quiet(at(10), show(&text));
    match &fx[..] {
        [
            Effect::Exchange {
                generation: 1,
                card,
                pin: None,
            },
        ] => assert_eq!(card.as_str(), text),
        other => panic!("{other:?}"),
    }
    assert_eq!(k.screen(), &Screen::Checking { since_ms: 10 });
    assert!(k.got_it(10));
}

#[test]
fn a_second_factor_card_asks_for_the_pin_first() {
    let mut k = scanning();
    assert!(
        k.quiet(at(10), show(&card("stu-maya", true, false)))
            .is_empty()
    );
    assert!(matches!(k.screen(), Screen::PinPad { wrong: None, .. }));
    for d in [1, 2, 3, 4] {
        assert!(
            k.quiet(at(20), Input::Action(Action::PinDigit(d)))
                .is_empty()
        );
    }
    let fx = k.quiet(at(30), Input::Action(Action::PinSubmit));
    match &fx[..] {
        [Effect::Exchange { pin: Some(pin), .. }] => assert_eq!(pin.as_str(), "1234"),
        other => panic!("{other:?}"),
    }
    // A wrong PIN comes back to the pad.
    let fx = k.quiet(
        at(40),
        Input::Exchanged {
            generation: 1,
            result: Err(PortalError::Api {
                status: 403,
                code: "wrong_pin".into(),
                message: "wrong PIN".into(),
                attempts_left: Some(2),
                retry_after_secs: None,
            }),
        },
    );
    assert!(fx.is_empty());
    assert!(matches!(
        k.screen(),
        Screen::PinPad {
            wrong: Some(Some(2)),
            ..
        }
    ));
}

#[test]
fn a_foreign_code_shows_not_a_school_card_once() {
    let mut k = scanning();
    let foreign = || {
        scanned(ScanOutcome::Hint(Hint::NotQuickCard {
            text: "https://library.example/book/12".into(),
            corners: [crate::scanner::Point { x: 0.0, y: 0.0 }; 4],
        }))
    };
    assert!(k.quiet(at(10), foreign()).is_empty());
    assert_eq!(
        k.screen(),
        &Screen::Error {
            kind: ErrorKind::NotQuickCard,
            until_ms: 10 + ERROR_SCREEN_MS
        }
    );
    // Back to scanning; the same code, still held up, is ignored a while.
    k.quiet(at(10 + ERROR_SCREEN_MS), Input::Tick);
    assert_eq!(k.screen(), &Screen::Scanning { hint: None });
    assert!(k.quiet(at(11 + ERROR_SCREEN_MS), foreign()).is_empty());
    assert_eq!(k.screen(), &Screen::Scanning { hint: None });
    let later = 10 + ERROR_SCREEN_MS + SAME_CARD_PAUSE_MS;
    k.quiet(at(later), Input::Tick);
    k.quiet(at(later), foreign());
    assert!(matches!(
        k.screen(),
        Screen::Error {
            kind: ErrorKind::NotQuickCard,
            ..
        }
    ));
}

#[test]
fn a_refused_card_never_reaches_the_portal() {
    let mut k = scanning();
    assert!(
        k.quiet(at(10), show(&card("stu-maya", false, true)))
            .is_empty()
    );
    assert!(matches!(
        k.screen(),
        Screen::Error {
            kind: ErrorKind::Expired,
            ..
        }
    ));
    assert!(k.quiet(at(20), Input::Action(Action::Back)).is_empty());
    assert_eq!(k.screen(), &Screen::Scanning { hint: None });
}

#[test]
fn an_unreachable_portal_is_retried_and_old_replies_are_dropped() {
    let mut k = scanning();
    k.quiet(at(10), show(&card("stu-maya", false, false)));
    let fx = k.quiet(
        at(20),
        Input::Exchanged {
            generation: 1,
            result: Err(PortalError::Unreachable("down".into())),
        },
    );
    assert!(fx.is_empty());
    assert!(matches!(
        k.screen(),
        Screen::Error {
            kind: ErrorKind::Unreachable {
                retry_at_ms: 2020,
                attempt: 1
            },
            ..
        }
    ));
    let fx = k.quiet(at(2020), Input::Tick);
    assert!(matches!(fx[..], [Effect::Exchange { generation: 2, .. }]));
    // The first exchange's late answer changes nothing.
    let fx = k.quiet(
        at(2030),
        Input::Exchanged {
            generation: 1,
            result: Ok(session_reply()),
        },
    );
    assert!(fx.is_empty());
    assert_eq!(k.screen(), &Screen::Checking { since_ms: 2020 });
}

// ----- session -------------------------------------------------------------------------------

#[test]
fn an_app_opens_through_the_launcher() {
    let mut k = signed_in();
    assert_eq!(k.session().unwrap().greeting_name(), "Maya");
    let fx = k.quiet(at(2000), Input::Action(Action::Launch("reading".into())));
    match &fx[..] {
        [
            Effect::Launch {
                generation: 1,
                token,
                app_id,
            },
        ] => assert_eq!((token.as_str(), app_id.as_str()), ("tok-maya", "reading")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(k.screen(), Screen::Dashboard { opening: Some(n), .. } if n == "Reading"));
    let fx = k.quiet(
        at(2100),
        Input::Launched {
            generation: 1,
            result: Ok(launch_reply("https://apps.example/reading")),
        },
    );
    assert!(matches!(&fx[..], [Effect::Open { url }] if url == "https://apps.example/reading"));
    assert!(
        k.quiet(at(2100), Input::Opened(Err("no browser".into())))
            .is_empty()
    );
    assert_eq!(
        k.screen(),
        &Screen::Dashboard {
            opening: None,
            launch_failed: true
        }
    );
    // An unknown tile asks nothing.
    assert!(
        k.quiet(at(2200), Input::Action(Action::Launch("nope".into())))
            .is_empty()
    );
}

#[test]
fn signing_out_ends_the_apps_and_the_portal_session() {
    let mut k = signed_in();
    let fx = k.quiet(at(3000), Input::Action(Action::SignOut));
    match &fx[..] {
        [Effect::EndApps, Effect::EndSession { token }] => assert_eq!(token.as_str(), "tok-maya"),
        other => panic!("{other:?}"),
    }
    assert!(k.session().is_none());
    assert_eq!(
        k.screen(),
        &Screen::SignedOut {
            until_ms: 3000 + SIGNED_OUT_MS
        }
    );
    assert!(k.quiet(at(3010), Input::SessionEnded(Ok(()))).is_empty());
    k.quiet(at(3000 + SIGNED_OUT_MS), Input::Tick);
    assert_eq!(k.screen(), &Screen::Scanning { hint: None });
    // A launch reply for the ended session is dropped.
    let fx = k.quiet(
        at(6000),
        Input::Launched {
            generation: 1,
            result: Ok(launch_reply("https://x")),
        },
    );
    assert!(fx.is_empty());
}

#[test]
fn idle_and_an_expired_portal_session_sign_out() {
    let mut k = signed_in();
    let idle = settings().idle_timeout_ms;
    assert_eq!(k.idle_countdown_secs(1000), None);
    assert_eq!(k.idle_countdown_secs(1000 + idle - 1000), Some(1));
    assert!(k.quiet(at(1000 + idle - 1), Input::Tick).is_empty());
    let fx = k.quiet(at(1000 + idle), Input::Tick);
    assert!(matches!(
        fx[..],
        [Effect::EndApps, Effect::EndSession { .. }]
    ));

    let mut k = signed_in();
    k.quiet(at(2000), Input::Action(Action::Launch("reading".into())));
    let fx = k.quiet(
        at(2100),
        Input::Launched {
            generation: 1,
            result: Err(api_error("session_expired")),
        },
    );
    assert!(matches!(
        fx[..],
        [Effect::EndApps, Effect::EndSession { .. }]
    ));
}

#[test]
fn the_chromebook_sign_in_hands_over_or_fails_cleanly() {
    let handoff = r#""sign_in": {"acs_url": "https://google/acs", "saml_response": "x",
                                 "email": "maya@school.example"}"#;
    let reply = || -> SessionReply {
        serde_json::from_str(&format!(
            r#"{{"token": "t", "expires_at": 1, "user": {{"id": "stu-maya", "role": "student"}}, {handoff}}}"#
        ))
        .unwrap()
    };
    for (answer, screen) in [
        (Ok(()), Screen::SigningIn),
        (
            Err("no".to_string()),
            Screen::Error {
                kind: ErrorKind::NotSchoolCard,
                until_ms: 20 + ERROR_SCREEN_MS,
            },
        ),
    ] {
        let mut k = scanning();
        k.quiet(at(10), show(&card("stu-maya", false, false)));
        let fx = k.quiet(
            at(20),
            Input::Exchanged {
                generation: 1,
                result: Ok(reply()),
            },
        );
        assert!(matches!(&fx[..], [Effect::HandOver(h)] if h.email == "maya@school.example"));
        let ok = answer.is_ok();
        assert!(k.quiet(at(20), Input::HandedOver(answer)).is_empty());
        assert_eq!(k.screen(), &screen);
        assert_eq!(k.session().is_some(), ok);
    }
}

// ----- admin ---------------------------------------------------------------------------------

#[test]
fn the_admin_pad_quits_only_with_the_right_pin() {
    let hash = crate::config::hash_pin("2468", &[1; 16]).unwrap();
    let mut k = signed_in();
    k.settings.admin_pin_hash = Some(crate::config::PinHash::new(hash));
    let press = |k: &mut Core, a: Action| k.quiet(at(1500), Input::Action(a));
    assert!(press(&mut k, Action::AdminOpen).is_empty());
    for d in [1, 1, 1, 1] {
        press(&mut k, Action::AdminDigit(d));
    }
    assert!(press(&mut k, Action::AdminSubmit).is_empty());
    assert!(k.admin().unwrap().wrong);
    assert!(!k.quit_requested());
    // While the pad is open, the screen's buttons do nothing.
    assert!(press(&mut k, Action::SignOut).is_empty());
    for d in [2, 4, 6, 8] {
        press(&mut k, Action::AdminDigit(d));
    }
    let fx = press(&mut k, Action::AdminSubmit);
    assert!(matches!(
        fx[..],
        [Effect::EndApps, Effect::EndSession { .. }]
    ));
    assert!(k.quit_requested());
    assert!(k.admin().is_none());
}
