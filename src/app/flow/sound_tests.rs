//! Each screen asks for its sound: the effects [`Core::handle`] returns are checked for their
//! [`Effect::Play`] cues, in order, with no device involved.

use super::tests::{
    SCHOOL, api_error, at, card, scanned, scanning, session_reply, settings, show, signed_in,
    trusted,
};
use crate::app::core::{Core, Effect, Input};
use crate::app::flow::sound::{HINT_GAP_MS, HINT_REPEAT_MS};
use crate::app::i18n::Lang;
use crate::app::ports::{Cue, Hint, PromptId, ScanOutcome};
use crate::app::state::{Action, SIGNED_OUT_MS, Screen, Settings};
use crate::portal_client::{KioskConfig, PortalError};

/// The cues among `fx`, in order.
fn cues(fx: &[Effect]) -> Vec<Cue> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Play(c) => Some(*c),
            _ => None,
        })
        .collect()
}

fn heard(k: &mut Core, ms: u64, input: Input) -> Vec<Cue> {
    cues(&k.handle(at(ms), input))
}

fn hint(h: Hint) -> Input {
    scanned(ScanOutcome::Hint(h))
}

fn en(p: PromptId) -> Cue {
    Cue::Prompt(p, Lang::En)
}

#[test]
fn the_chime_sounds_when_the_kiosk_becomes_ready() {
    // No local trust: not ready until the portal's config arrives.
    let no_trust = || Settings {
        trust: Vec::new(),
        ..settings()
    };
    let mut k = Core::new(no_trust(), 0, None);
    assert!(matches!(k.screen(), Screen::NotReady(_)));
    assert_eq!(heard(&mut k, 0, Input::Tick), []);
    let cfg = KioskConfig {
        school_id: SCHOOL.into(),
        trust: trusted(),
        ..KioskConfig::default()
    };
    assert_eq!(heard(&mut k, 10, Input::Config(Ok(cfg))), [Cue::Chime]);
    assert_eq!(k.screen(), &Screen::Scanning { hint: None });

    // A portal that does not answer keeps the kiosk quiet.
    let mut k = Core::new(no_trust(), 0, None);
    heard(&mut k, 0, Input::Tick);
    let down = Err(PortalError::Unreachable("down".into()));
    assert_eq!(heard(&mut k, 10, Input::Config(down)), []);
}

#[test]
fn a_card_read_says_got_it_and_the_dashboard_is_quiet() {
    let mut k = scanning();
    assert_eq!(
        heard(&mut k, 1000, show(&card("stu-maya", false, false))),
        [Cue::GotIt]
    );
    let got = heard(
        &mut k,
        1100,
        Input::Exchanged {
            generation: 1,
            result: Ok(session_reply()),
        },
    );
    assert_eq!(got, []);
    assert!(matches!(k.screen(), Screen::Dashboard { .. }));
}

#[test]
fn a_card_that_needs_a_pin_says_got_it_and_a_wrong_pin_try_again() {
    let mut k = scanning();
    assert_eq!(
        heard(&mut k, 1000, show(&card("stu-maya", true, false))),
        [Cue::GotIt]
    );
    for d in [1, 2, 3, 4] {
        assert_eq!(heard(&mut k, 1100, Input::Action(Action::PinDigit(d))), []);
    }
    // Submitting goes to the checking screen: no second "got it".
    assert_eq!(heard(&mut k, 1200, Input::Action(Action::PinSubmit)), []);
    let mut err = api_error("wrong_pin");
    if let PortalError::Api { attempts_left, .. } = &mut err {
        *attempts_left = Some(2);
    }
    let got = heard(
        &mut k,
        1300,
        Input::Exchanged {
            generation: 1,
            result: Err(err),
        },
    );
    assert!(matches!(k.screen(), Screen::PinPad { wrong: Some(_), .. }));
    assert_eq!(got, [Cue::TryAgain, en(PromptId::WrongPin)]);
}

#[test]
fn each_refusal_says_try_again_then_its_prompt_in_the_kiosk_language() {
    let mut k = scanning();
    let got = heard(&mut k, 1000, show(&card("stu-maya", false, true)));
    assert_eq!(got, [Cue::TryAgain, en(PromptId::TooOld)]);

    let mut k = scanning();
    k.handle(at(500), Input::Action(Action::SwitchLanguage));
    let got = heard(&mut k, 1000, show(&card("stu-maya", false, true)));
    assert_eq!(
        got,
        [Cue::TryAgain, Cue::Prompt(PromptId::TooOld, Lang::Es)]
    );

    // Refused by the portal after "got it".
    let mut k = scanning();
    k.handle(at(1000), show(&card("stu-maya", false, false)));
    let got = heard(
        &mut k,
        1100,
        Input::Exchanged {
            generation: 1,
            result: Err(api_error("other_school")),
        },
    );
    if let Screen::Error { kind, .. } = k.screen() {
        let p = crate::app::flow::sound::error_prompt(kind);
        assert_eq!(got, [Cue::TryAgain, en(p)]);
    } else {
        panic!("not an error screen: {:?}", k.screen());
    }

    // A foreign code.
    let mut k = scanning();
    let text = "https://library.example/book/1".to_string();
    let got = heard(
        &mut k,
        1000,
        hint(Hint::NotQuickCard {
            text,
            corners: [crate::scanner::Point { x: 0.0, y: 0.0 }; 4],
        }),
    );
    assert_eq!(got, [Cue::TryAgain, en(PromptId::NotYourCard)]);
}

#[test]
fn every_refusal_has_its_own_prompt_mapping() {
    use crate::app::flow::sound::error_prompt;
    use crate::app::state::ErrorKind;
    assert_eq!(error_prompt(&ErrorKind::Expired), PromptId::TooOld);
    assert_eq!(error_prompt(&ErrorKind::Revoked), PromptId::Swapped);
    assert_eq!(error_prompt(&ErrorKind::OtherSchool), PromptId::OtherSchool);
    assert_eq!(error_prompt(&ErrorKind::Forged), PromptId::CardBroken);
    assert_eq!(
        error_prompt(&ErrorKind::UnknownKey),
        PromptId::NotSchoolCard
    );
    assert_eq!(error_prompt(&ErrorKind::Erased), PromptId::Erased);
    assert_eq!(
        error_prompt(&ErrorKind::LockedOut { until_ms: 0 }),
        PromptId::Locked
    );
    assert_eq!(
        error_prompt(&ErrorKind::Unreachable {
            retry_at_ms: 0,
            attempt: 0
        }),
        PromptId::Unreachable
    );
}

#[test]
fn hints_are_spoken_but_not_too_often() {
    let mut k = scanning();
    // Nothing in view: silence (the room may be empty).
    assert_eq!(heard(&mut k, 1000, hint(Hint::NoCode)), []);
    assert_eq!(
        heard(&mut k, 1100, hint(Hint::HoldStill)),
        [en(PromptId::HoldStill)]
    );
    // The same hint on the next frames: said once.
    assert_eq!(heard(&mut k, 1200, hint(Hint::HoldStill)), []);
    // A different hint too soon: shown, not said.
    assert_eq!(heard(&mut k, 1300, hint(Hint::ComeCloser)), []);
    assert_eq!(
        k.screen(),
        &Screen::Scanning {
            hint: Some(Hint::ComeCloser)
        }
    );
    // After the gap, a new hint is said.
    let t = 1100 + HINT_GAP_MS;
    assert_eq!(
        heard(&mut k, t, hint(Hint::TooDark)),
        [en(PromptId::TooDark)]
    );
    // The same hint again only after the longer pause.
    heard(&mut k, t + 100, hint(Hint::NoCode));
    assert_eq!(heard(&mut k, t + HINT_GAP_MS, hint(Hint::TooDark)), []);
    heard(&mut k, t + HINT_GAP_MS + 100, hint(Hint::NoCode));
    assert_eq!(
        heard(&mut k, t + HINT_REPEAT_MS, hint(Hint::TooDark)),
        [en(PromptId::TooDark)]
    );
}

#[test]
fn the_idle_countdown_ticks_each_second_and_bye_is_followed_by_the_chime() {
    let mut k = signed_in();
    let idle = settings().idle_timeout_ms;
    let warn = settings().idle_warning_ms;
    let start = 1000 + idle - warn;
    assert_eq!(heard(&mut k, start - 500, Input::Tick), []);
    // Frames come faster than seconds: one tick per second shown.
    let mut ticks = 0;
    let mut t = start;
    while t < 1000 + idle {
        ticks += heard(&mut k, t, Input::Tick)
            .iter()
            .filter(|c| **c == Cue::Tick)
            .count();
        t += 250;
    }
    assert_eq!(ticks as u64, warn / 1000);
    // Signed out at the end: no tick, and the chime once "bye" is over.
    assert_eq!(heard(&mut k, 1000 + idle, Input::Tick), []);
    assert!(matches!(k.screen(), Screen::SignedOut { .. }));
    let got = heard(&mut k, 1000 + idle + SIGNED_OUT_MS, Input::Tick);
    assert_eq!(got, [Cue::Chime]);

    // "I'm still here" stops the ticking.
    let mut k = signed_in();
    assert_eq!(heard(&mut k, start, Input::Tick), [Cue::Tick]);
    k.handle(at(start + 100), Input::Action(Action::StillHere));
    assert_eq!(heard(&mut k, start + 1100, Input::Tick), []);
}

#[test]
fn the_grown_ups_set_the_volume_and_muted_means_silent() {
    let mut k = scanning();
    assert_eq!(k.sound_level(), (80, false));
    // Without the admin pad open, the sound buttons do nothing.
    assert!(k.handle(at(10), Input::Action(Action::VolumeUp)).is_empty());
    k.handle(at(20), Input::Action(Action::AdminOpen));
    let fx = k.handle(at(30), Input::Action(Action::VolumeUp));
    assert!(matches!(
        fx[..],
        [Effect::SetVolume {
            volume_pct: 90,
            muted: false
        }]
    ));
    k.handle(at(40), Input::Action(Action::VolumeUp));
    k.handle(at(50), Input::Action(Action::VolumeUp));
    assert_eq!(k.sound_level(), (100, false));
    let fx = k.handle(at(60), Input::Action(Action::ToggleMute));
    assert!(matches!(
        fx[..],
        [Effect::SetVolume {
            volume_pct: 100,
            muted: true
        }]
    ));
    k.handle(at(70), Input::Action(Action::AdminCancel));
    // Muted: a refused card asks for no sound at all.
    assert_eq!(
        heard(&mut k, 1000, show(&card("stu-maya", false, true))),
        []
    );

    // The kiosk's config can start it muted, or at zero.
    for (volume_pct, muted) in [(80, true), (0, false)] {
        let s = Settings {
            volume_pct,
            muted,
            ..settings()
        };
        let mut k = Core::new(s, 0, None);
        k.handle(at(0), Input::Tick);
        k.handle(at(0), Input::Config(Ok(KioskConfig::default())));
        assert_eq!(
            heard(&mut k, 1000, show(&card("stu-maya", false, true))),
            []
        );
    }
    // Down to zero and not below.
    let mut k = scanning();
    k.handle(at(20), Input::Action(Action::AdminOpen));
    for i in 0..12 {
        k.handle(at(30 + i), Input::Action(Action::VolumeDown));
    }
    assert_eq!(k.sound_level(), (0, false));
}
