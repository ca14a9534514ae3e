//! The kiosk beside a portal one version newer or older, through the accessibility tree like
//! `kiosk_ui.rs`: the portal's replies are given as the JSON a newer portal sends and read by
//! the kiosk's own reply parsing (`PortalError::from_reply`, serde for sessions).

mod kiosk_support;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use quickcard::Role;
use quickcard_kiosk::app::KioskApp;
use quickcard_kiosk::app::driver::Kiosk;
use quickcard_kiosk::app::i18n::Lang;
use quickcard_kiosk::app::state::Settings;

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

/// A portal one version newer: its replies carry fields this kiosk has never heard of, and it
/// may refuse a card with a code the kiosk does not know. The session still opens; the unknown
/// code gets a clear "ask a grown-up" screen that names the code, never "not a school card".
#[test]
fn a_newer_portals_replies_and_unknown_codes_are_understood() {
    let rig = Rig::new();
    let mut h = harness(&rig, rig.settings());
    rig.portal.reply_http(
        200,
        r##"{"token": "qcs_new", "expires_at": 1800003600, "session_kind": "kiosk",
            "user": {"id": "stu-maya", "display_name": "Maya Lopez", "given_name": "Maya",
                     "role": "student", "pronouns": "she/her",
                     "avatar": {"initial": "M", "color": "#7C3AED", "emoji": "🦊"}},
            "apps": [{"id": "reading", "name": "Reading", "icon": "book", "color": "#0E7490",
                      "badge": 3}],
            "second_factor_used": false, "policy": {"next_check": 60}}"##,
    );
    rig.camera
        .card(&card("stu-maya", Role::Student, SCHOOL, false, false));
    step(&mut h);
    assert_eq!(screen(&h), "dashboard");
    step(&mut h);
    assert!(has(&h, "Hi, Maya!"));
    h.get_by_label("Reading");

    let rig = Rig::new();
    let mut h = harness(&rig, rig.settings());
    rig.portal.reply_http(
        403,
        r#"{"error": {"code": "card_paused", "message": "The card is paused", "until": 1800009000}}"#,
    );
    rig.camera
        .card(&card("stu-maya", Role::Student, SCHOOL, false, false));
    step(&mut h);
    assert_eq!(screen(&h), "error");
    assert_eq!(
        h.get_all_by_label("Please ask a grown-up for help.")
            .count(),
        2,
        "sentence and picture"
    );
    h.get_by_label(
        "Grown-up: the portal refused this card for a reason this kiosk does not know \
         (card_paused). The portal may be newer than this kiosk: update the kiosk, or ask the \
         district's administrator.",
    );
    assert!(!has(&h, "This is not a school card."));
    h.get_by_label("Back").click();
    step(&mut h);
    assert_eq!(screen(&h), "scanning");
}

/// A person erased at the district's request: their card gets its own gentle screen, in
/// English and in Spanish.
#[test]
fn an_erased_persons_card_says_to_show_it_to_the_teacher() {
    for (lang, child, adult) in [
        (
            Lang::En,
            "This card can't be used any more. Show it to your teacher.",
            "Grown-up: this person's data was erased from QuickCard at the district's request, \
             so their cards never work again. Keep the card and give it to the school office.",
        ),
        (
            Lang::Es,
            "Esta tarjeta ya no se puede usar. Enséñasela a tu maestra.",
            "Adulto: los datos de esta persona se borraron de QuickCard a pedido del distrito, \
             así que sus tarjetas ya no funcionan. Guarde la tarjeta y entréguela a la oficina \
             de la escuela.",
        ),
    ] {
        let rig = Rig::new();
        let settings = Settings {
            lang,
            ..rig.settings()
        };
        let mut h = harness(&rig, settings);
        rig.portal.reply_http(
            403,
            r#"{"error": {"code": "user_erased", "message": "This person was erased", "erased_at": 1799990000}}"#,
        );
        rig.camera
            .card(&card("stu-gone", Role::Student, SCHOOL, false, false));
        step(&mut h);
        assert_eq!(screen(&h), "error", "{lang:?}");
        assert_eq!(
            h.get_all_by_label(child).count(),
            2,
            "{lang:?}: sentence and picture"
        );
        h.get_by_label(adult);
        assert!(!has(&h, "This is not a school card."), "{lang:?}");
    }
}
