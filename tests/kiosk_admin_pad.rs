//! The admin PIN pad's attempt limit, through the real screens with `egui_kittest` (query by
//! label, click like a user) and a manual clock: five wrong PINs in a row lock the pad, longer
//! each time, and the screen says for how long in words.

mod kiosk_support;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use quickcard_kiosk::app::KioskApp;
use quickcard_kiosk::app::driver::Kiosk;
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

fn has(h: &Harness<'static, KioskApp>, label: &str) -> bool {
    h.query_all_by_label(label).next().is_some()
}

/// Types `pin` on the admin pad and presses OK.
fn admin_pin(h: &mut Harness<'static, KioskApp>, pin: &str) {
    for d in pin.chars() {
        h.get_by_label(&d.to_string()).click();
        h.step();
    }
    h.get_by_label("OK").click();
    step(h);
}

#[test]
fn five_wrong_admin_pins_lock_the_pad_for_longer_each_time() {
    let rig = Rig::new();
    let mut h = harness(&rig, rig.settings());
    h.get_by_label("Grown-ups").click();
    step(&mut h);
    for _ in 0..4 {
        admin_pin(&mut h, "1111");
        assert!(has(&h, "Wrong admin PIN."));
    }
    admin_pin(&mut h, "1111");
    assert!(has(&h, "Too many wrong PINs. Try again in 30 seconds."));
    // Locked: the keys do nothing, not even the right PIN.
    admin_pin(&mut h, "2468");
    assert!(!h.state().kiosk().quit_requested());
    assert!(has(&h, "0 digits typed"));
    // Closing and opening the pad again does not open the lock.
    h.get_by_label("Cancel").click();
    step(&mut h);
    h.get_by_label("Grown-ups").click();
    step(&mut h);
    rig.clock.advance(25_000);
    step(&mut h);
    assert!(has(&h, "Too many wrong PINs. Try again in 5 seconds."));
    rig.clock.advance(5_000);
    step(&mut h);
    assert!(!has(&h, "Too many wrong PINs. Try again in 5 seconds."));

    // Five more wrong PINs: a longer lock, said in minutes.
    for _ in 0..5 {
        admin_pin(&mut h, "1357");
    }
    assert!(has(&h, "Too many wrong PINs. Try again in 2 minutes."));
    rig.clock.advance(2 * 60_000);
    step(&mut h);
    // Open again: a wrong PIN is only wrong, and the right one leaves the kiosk.
    admin_pin(&mut h, "1111");
    assert!(has(&h, "Wrong admin PIN."));
    admin_pin(&mut h, "2468");
    assert!(h.state().kiosk().quit_requested());
    // The right PIN started the count again: five wrong PINs lock for 30 s, not 10 minutes.
    h.get_by_label("Grown-ups").click();
    step(&mut h);
    for _ in 0..5 {
        admin_pin(&mut h, "1111");
    }
    assert_eq!(h.state().kiosk().admin_locked_ms(), Some(30_000));
}
