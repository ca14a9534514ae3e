//! UI tests of the kiosk with `egui_kittest`: the real state machine, screens and strings,
//! driven through the accessibility tree (query by label, click like a user), with test
//! doubles only at the platform edges (camera, clock, portal, launcher).

mod kiosk_support;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use quickcard::Role;
use quickcard_kiosk::app::KioskApp;
use quickcard_kiosk::app::driver::Kiosk;
use quickcard_kiosk::app::i18n::Lang;
use quickcard_kiosk::app::ports::Hint;
use quickcard_kiosk::app::state::{Screen, Settings};

use kiosk_support::*;

fn harness(rig: &Rig, settings: Settings) -> Harness<'static, KioskApp> {
    let kiosk = Kiosk::new(settings, rig.services());
    let app = KioskApp::new(kiosk, true);
    let mut h = Harness::builder()
        .with_size([1280.0, 800.0])
        .build_ui_state(|ui, app: &mut KioskApp| app.show(ui), app);
    h.run();
    h
}

fn step(h: &mut Harness<'static, KioskApp>) {
    // Two frames: one to take the news in, one to draw the new screen.
    h.step();
    h.step();
}

fn screen(h: &Harness<'static, KioskApp>) -> &'static str {
    h.state().kiosk().screen().name()
}

fn has(h: &Harness<'static, KioskApp>, label: &str) -> bool {
    h.query_all_by_label(label).next().is_some()
}

fn signed_in(rig: &Rig) -> Harness<'static, KioskApp> {
    let mut h = harness(rig, rig.settings());
    rig.camera
        .card(&card("stu-maya", Role::Student, SCHOOL, false, false));
    step(&mut h);
    assert_eq!(screen(&h), "dashboard");
    step(&mut h);
    h
}

#[test]
fn scanning_shows_the_hint_picture_sentence_and_controls() {
    let rig = Rig::new();
    let mut h = harness(&rig, rig.settings());
    assert_eq!(screen(&h), "scanning");
    assert!(has(&h, "Show me your card!"));
    h.get_by_label("Camera picture");
    h.get_by_label("Español");
    h.get_by_label("Grown-ups");
    rig.camera.hint(Hint::ComeCloser);
    step(&mut h);
    // The sentence, and a picture labelled with the same sentence.
    assert_eq!(h.get_all_by_label("Come closer.").count(), 2);
    rig.camera.hint(Hint::TooDark);
    step(&mut h);
    assert!(has(&h, "Too dark. Turn on a light."));
    assert!(!has(&h, "Come closer."));
    // The camera only scans while the scanning screen is up.
    assert!(rig.camera.active.load(std::sync::atomic::Ordering::SeqCst));
}

#[test]
fn a_card_goes_through_got_it_to_the_dashboard_and_a_tile_calls_the_launcher() {
    let rig = Rig::new();
    let mut h = harness(&rig, rig.settings());
    // Hold the portal's answer back to see the success cue and the checking screen.
    rig.portal
        .hold
        .store(true, std::sync::atomic::Ordering::SeqCst);
    rig.camera
        .card(&card("stu-maya", Role::Student, SCHOOL, false, false));
    step(&mut h);
    assert_eq!(screen(&h), "checking");
    assert_eq!(
        h.get_all_by_label("Got it!").count(),
        2,
        "sentence and picture"
    );
    rig.clock.advance(700);
    step(&mut h);
    assert!(has(&h, "Checking your card…"));
    rig.portal
        .hold
        .store(false, std::sync::atomic::Ordering::SeqCst);
    rig.runtime.pump();
    step(&mut h);
    assert_eq!(screen(&h), "dashboard");
    assert!(has(&h, "Hi, Maya!"));
    h.get_by_label("Picture of Maya");
    h.get_by_label("Sign out");
    h.get_by_label("Reading").click();
    step(&mut h);
    assert_eq!(
        rig.launcher.0.lock().unwrap().as_slice(),
        ["https://apps.example/reading?once=abc"]
    );
    let calls = rig.portal.calls();
    assert!(
        calls.iter().any(|c| c.starts_with("exchange QC:")),
        "{calls:?}"
    );
    assert!(
        calls.contains(&"launch reading tok-maya".to_string()),
        "{calls:?}"
    );
}

#[test]
fn a_second_factor_card_asks_for_the_pin() {
    let rig = Rig::new();
    let mut h = harness(&rig, rig.settings());
    rig.camera
        .card(&card("tch-ann", Role::Teacher, SCHOOL, true, false));
    step(&mut h);
    assert_eq!(screen(&h), "pin-pad");
    assert!(has(&h, "Type your PIN."));
    for d in ["1", "2", "3", "4"] {
        h.get_by_label(d).click();
        h.step();
    }
    step(&mut h);
    assert!(has(&h, "4 digits typed"));
    rig.portal.reply(Err(api_error("wrong_pin", Some(2), None)));
    h.get_by_label("OK").click();
    step(&mut h);
    assert!(
        rig.portal.calls().iter().any(|c| c.ends_with("pin=1234")),
        "{:?}",
        rig.portal.calls()
    );
    assert_eq!(screen(&h), "pin-pad");
    assert!(has(&h, "Wrong PIN. 2 tries left."));
    assert!(has(&h, "0 digits typed"));
    h.get_by_label("Cancel").click();
    step(&mut h);
    assert_eq!(screen(&h), "scanning");
}

#[test]
fn sign_out_clears_the_user_and_ends_the_portal_session() {
    let rig = Rig::new();
    let mut h = signed_in(&rig);
    h.get_by_label("Sign out").click();
    step(&mut h);
    assert_eq!(screen(&h), "signed-out");
    assert!(has(&h, "Bye! Take your card with you."));
    assert!(!has(&h, "Hi, Maya!"));
    assert!(h.query_by_label("Reading").is_none());
    assert!(h.state().kiosk().session().is_none());
    assert!(rig.portal.calls().contains(&"end tok-maya".to_string()));
    // The same card, still held up, does not sign Maya in again right away.
    rig.camera
        .card(&card("stu-maya", Role::Student, SCHOOL, false, false));
    rig.clock.advance(3_500);
    step(&mut h);
    step(&mut h);
    assert_eq!(screen(&h), "scanning");
}

#[test]
fn idle_timeout_counts_down_and_signs_out() {
    let rig = Rig::new();
    let mut h = signed_in(&rig);
    rig.clock.advance(110_000);
    step(&mut h);
    assert!(has(&h, "Are you still there?"));
    assert!(has(&h, "Signing out in 10 seconds."));
    h.get_by_label("I'm still here").click();
    step(&mut h);
    assert!(!has(&h, "Are you still there?"));
    assert_eq!(screen(&h), "dashboard");
    rig.clock.advance(121_000);
    step(&mut h);
    assert_eq!(screen(&h), "signed-out");
    assert!(h.state().kiosk().session().is_none());
    assert!(!has(&h, "Hi, Maya!"));
    assert!(rig.portal.calls().contains(&"end tok-maya".to_string()));
}

#[test]
fn spanish_renders_and_the_flag_button_switches() {
    let rig = Rig::new();
    let mut h = harness(
        &rig,
        Settings {
            lang: Lang::Es,
            ..rig.settings()
        },
    );
    assert!(has(&h, "¡Muéstrame tu tarjeta!"));
    h.get_by_label("Adultos");
    h.get_by_label("English").click();
    step(&mut h);
    assert!(has(&h, "Show me your card!"));
    h.get_by_label("Español").click();
    step(&mut h);
    rig.camera
        .card(&card("stu-maya", Role::Student, SCHOOL, false, false));
    step(&mut h);
    step(&mut h);
    assert!(has(&h, "¡Hola, Maya!"));
    assert!(has(&h, "Salir"));
}

/// `text` with one bit of its signature flipped.
fn forged(text: &str) -> String {
    let mut bytes =
        quickcard::base45::decode(text.strip_prefix("QC:").unwrap().as_bytes()).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    format!("QC:{}", quickcard::base45::encode(&bytes))
}

#[test]
fn each_refused_card_gets_its_own_picture_sentence_and_grown_up_line() {
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "expired",
            card("stu-old", Role::Student, SCHOOL, false, true),
            "This card is too old.",
            "Grown-up: this card has expired. Print a new card from the portal.",
        ),
        (
            "other school",
            card("stu-x", Role::Student, "sch-elsewhere", false, false),
            "This card is from another school.",
            "Grown-up: this computer belongs to a different school. Use this school's card.",
        ),
        (
            "not a QuickCard",
            "https://example.com/library-book".to_string(),
            "That is not your login card.",
            "Grown-up: this QR code is not a QuickCard (a link or another code). Hold up the child's QuickCard.",
        ),
        (
            "forged",
            forged(&card("stu-maya", Role::Student, SCHOOL, false, false)),
            "This card does not work. Ask your teacher.",
            "Grown-up: this card was changed or copied wrongly: its signature is not valid. Print a new card from the roster.",
        ),
        (
            "signed with another district's key",
            quickcard::sign(
                &quickcard::Claims::new(
                    "stu-maya",
                    Role::Student,
                    SCHOOL,
                    NOW_UNIX - 86_400,
                    NOW_UNIX + 86_400,
                    quickcard::Flags::default(),
                )
                .unwrap(),
                &quickcard::IssuerKey::from_seed([7; 32], "another district"),
            ),
            "This is not a school card.",
            "Grown-up: this card was signed with a key this school does not trust (another district or a retired key). Print a new card.",
        ),
    ];
    for (what, text, child, adult) in cases {
        let rig = Rig::new();
        let mut h = harness(&rig, rig.settings());
        rig.camera.card(&text);
        step(&mut h);
        assert_eq!(screen(&h), "error", "{what}");
        assert_eq!(
            h.get_all_by_label(child).count(),
            2,
            "{what}: sentence and picture"
        );
        h.get_by_label(adult);
        // Refused offline: the portal was never asked.
        assert!(
            !rig.portal.calls().iter().any(|c| c.starts_with("exchange")),
            "{what}"
        );
        h.get_by_label("Back").click();
        step(&mut h);
        assert_eq!(screen(&h), "scanning", "{what}");
    }
}

#[test]
fn a_revoked_card_is_refused_offline_from_the_portals_list() {
    let rig = Rig::new();
    rig.portal.revoke("stu-maya", NOW_UNIX);
    let mut h = harness(&rig, rig.settings());
    rig.camera
        .card(&card("stu-maya", Role::Student, SCHOOL, false, false));
    step(&mut h);
    assert!(has(&h, "This card was swapped for a new one."));
    assert!(!rig.portal.calls().iter().any(|c| c.starts_with("exchange")));
}

#[test]
fn portal_refusals_show_locked_out_and_not_allowed() {
    let rig = Rig::new();
    let mut h = harness(&rig, rig.settings());
    rig.portal
        .reply(Err(api_error("locked_out", None, Some(300))));
    rig.camera
        .card(&card("stu-maya", Role::Student, SCHOOL, false, false));
    step(&mut h);
    assert!(has(&h, "Too many tries. Wait a little."));
    assert!(has(
        &h,
        "Grown-up: this card is locked for 5 more minutes after wrong PINs."
    ));

    let rig = Rig::new();
    let mut h = harness(&rig, rig.settings());
    rig.portal.reply(Err(api_error("unknown_user", None, None)));
    rig.camera
        .card(&card("stu-gone", Role::Student, SCHOOL, false, false));
    step(&mut h);
    assert!(has(&h, "This card cannot be used here."));
}

#[test]
fn an_unreachable_portal_retries_by_itself() {
    let rig = Rig::new();
    let mut h = harness(&rig, rig.settings());
    rig.portal.reply(Err(
        quickcard_kiosk::portal_client::PortalError::Unreachable("refused".into()),
    ));
    rig.camera
        .card(&card("stu-maya", Role::Student, SCHOOL, false, false));
    step(&mut h);
    assert!(has(&h, "The computer cannot reach the school."));
    assert!(has(
        &h,
        "Grown-up: the portal does not answer. Check the network. Trying again in 2 seconds."
    ));
    h.get_by_label("Try again");
    // The next answer is a session: the automatic retry signs Maya in.
    rig.clock.advance(2_100);
    step(&mut h);
    step(&mut h);
    assert_eq!(screen(&h), "dashboard");
    let exchanges = rig
        .portal
        .calls()
        .iter()
        .filter(|c| c.starts_with("exchange"))
        .count();
    assert_eq!(exchanges, 2);
}

#[test]
fn not_ready_states_say_what_a_grown_up_should_do() {
    // Not enrolled.
    let rig = Rig::new();
    let h = harness(
        &rig,
        Settings {
            enrolled: false,
            ..rig.settings()
        },
    );
    assert!(matches!(h.state().kiosk().screen(), Screen::NotReady(_)));
    assert!(has(&h, "This computer is not set up yet."));
    h.get_by_label("Grown-up: enrol this kiosk: quickcard-kiosk enroll --portal URL --code CODE");

    // Portal unreachable at start and nothing cached.
    let rig = Rig::new();
    *rig.portal.config.lock().unwrap() = Err(
        quickcard_kiosk::portal_client::PortalError::Unreachable("refused".into()),
    );
    let h = harness(&rig, rig.settings());
    assert!(has(&h, "Waiting for the school…"));

    // No trusted keys.
    let rig = Rig::new();
    *rig.portal.config.lock().unwrap() = Ok(Default::default());
    let h = harness(&rig, rig.settings());
    assert!(has(&h, "This computer cannot check cards yet."));
    h.get_by_label(
        "Grown-up: no trusted card keys. Add the school's issuer key to the portal or the config.",
    );

    // The demo key, outside the demo.
    let rig = Rig::new();
    let demo = vec![quickcard::TrustedKey::new(
        quickcard::IssuerKey::demo().public(),
        "demo",
    )];
    *rig.portal.config.lock().unwrap() = Ok(quickcard_kiosk::portal_client::KioskConfig {
        school_id: SCHOOL.into(),
        trust: demo,
        ..Default::default()
    });
    let h = harness(&rig, rig.settings());
    assert!(
        h.query_all_by_label_contains("public demo key")
            .next()
            .is_some()
    );

    // No camera; it comes back by itself.
    let rig = Rig::new();
    let mut h = harness(&rig, rig.settings());
    rig.camera.fail("no camera found; plug in a camera");
    step(&mut h);
    assert!(has(&h, "The camera is not working."));
    rig.camera.hint(Hint::NoCode);
    step(&mut h);
    assert_eq!(screen(&h), "scanning");
}

#[test]
fn leaving_the_kiosk_needs_the_admin_pin() {
    let rig = Rig::new();
    let mut h = harness(&rig, rig.settings());
    h.get_by_label("Grown-ups").click();
    step(&mut h);
    assert!(has(&h, "Admin PIN to leave the kiosk"));
    for d in ["1", "1", "1", "1"] {
        h.get_by_label(d).click();
        h.step();
    }
    h.get_by_label("OK").click();
    step(&mut h);
    assert!(has(&h, "Wrong admin PIN."));
    assert!(!h.state().kiosk().quit_requested());
    for d in ["2", "4", "6", "8"] {
        h.get_by_label(d).click();
        h.step();
    }
    h.get_by_label("OK").click();
    step(&mut h);
    assert!(h.state().kiosk().quit_requested());
}

#[test]
fn every_control_is_labelled_and_at_least_64_points() {
    let rig = Rig::new();
    let mut h = signed_in(&rig);
    let check = |h: &Harness<'static, KioskApp>, what: &str| {
        let buttons: Vec<_> = h
            .get_all_by_role(eframe::egui::accesskit::Role::Button)
            .collect();
        assert!(buttons.len() >= 2, "{what}");
        for b in buttons {
            let label = b.accesskit_node().label().unwrap_or_default();
            assert!(!label.is_empty(), "{what}: a button without a label");
            let r = b.rect();
            assert!(
                r.width() >= 64.0 && r.height() >= 64.0,
                "{what}: {label:?} is {r:?}"
            );
        }
    };
    check(&h, "dashboard");
    h.state_mut().kiosk_mut().sign_out();
    rig.clock.advance(4_000);
    step(&mut h);
    rig.camera
        .card(&card("tch-ann", Role::Teacher, SCHOOL, true, false));
    step(&mut h);
    assert_eq!(screen(&h), "pin-pad");
    check(&h, "pin pad");
}

/// What the browser page mirrors as HTML buttons: every drawn button with its label, in
/// drawing order, pressable by that label.
#[test]
fn every_drawn_button_is_offered_by_its_label_and_presses_like_a_click() {
    let rig = Rig::new();
    let mut h = signed_in(&rig);
    let labels: Vec<String> = h
        .state()
        .offered()
        .iter()
        .map(|o| o.label.clone())
        .collect();
    assert_eq!(
        labels,
        ["Español", "Grown-ups", "Sign out", "Reading", "Math"],
        "top bar, sign-out, then the tiles"
    );
    // Each offered label is a button egui drew (what the screen shows is what is offered).
    for l in &labels {
        h.get_by_label(l);
    }
    assert!(!h.state_mut().press("Delete everything"));
    assert_eq!(screen(&h), "dashboard");
    assert!(h.state_mut().press("Sign out"));
    step(&mut h);
    assert_eq!(screen(&h), "signed-out");
    assert!(h.state().kiosk().session().is_none());
    assert!(
        !h.state().offered().iter().any(|o| o.label == "Sign out"),
        "the sign-out button is gone with the dashboard"
    );
}

/// The Chromebook sign-in page's ending: the portal's answer carries the SAML hand-off, the
/// launcher posts it, and the child sees a greeting (no dashboard, no sign-out button).
#[test]
fn a_sign_in_answer_is_handed_to_google_with_a_greeting() {
    let rig = Rig::new();
    let mut reply = maya_session();
    reply.token = String::new();
    reply.apps.clear();
    reply.sign_in = Some(Box::new(quickcard_kiosk::portal_client::SignInHandoff {
        acs_url: "https://www.google.com/a/district.example/acs".into(),
        saml_response: "PHNhbWxwOlJlc3BvbnNl".into(),
        relay_state: "https://accounts.google.com/continue".into(),
        email: "maya@district.example".into(),
        password: "not-typed-by-anyone".into(),
    }));
    rig.portal.reply(Ok(reply));
    let mut h = harness(&rig, rig.settings());
    rig.camera
        .card(&card("stu-maya", Role::Student, SCHOOL, false, false));
    step(&mut h);
    step(&mut h);
    assert_eq!(screen(&h), "signing-in");
    assert_eq!(
        rig.launcher.0.lock().unwrap().as_slice(),
        ["sign-in maya@district.example at https://www.google.com/a/district.example/acs"]
    );
    assert!(has(&h, "Hi, Maya! Your Chromebook is opening…"));
    assert!(
        !h.state().offered().iter().any(|o| o.label == "Sign out"),
        "{:?}",
        h.state().offered()
    );
}

/// A sign-in page whose request expired says so and stops asking the portal.
#[test]
fn an_expired_sign_in_request_asks_to_start_again() {
    let rig = Rig::new();
    *rig.portal.config.lock().unwrap() = Err(api_error("signin_expired", None, None));
    let mut h = harness(&rig, rig.settings());
    step(&mut h);
    assert_eq!(screen(&h), "not-ready");
    assert!(has(&h, "Let's start again."));
    let asked = rig.portal.calls().len();
    rig.clock.advance(10 * 60_000);
    step(&mut h);
    assert_eq!(rig.portal.calls().len(), asked, "no more config requests");
}
