//! The kiosk's sound through its port, as the camera is tested: a recording [`Sound`] stands
//! in for the device, and the real screens, core and driver run. What the sounds are is for
//! a person to judge; this checks that the right one is asked for, and the grown-ups' controls.

mod kiosk_support;

use std::sync::{Arc, Mutex};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use quickcard::Role;
use quickcard_kiosk::app::KioskApp;
use quickcard_kiosk::app::driver::Kiosk;
use quickcard_kiosk::app::i18n::Lang;
use quickcard_kiosk::app::ports::{Cue, PromptId, Sound};

use kiosk_support::*;

/// What the kiosk asked the sound device for.
#[derive(Debug, Clone, PartialEq)]
enum Heard {
    Cue(Cue),
    Volume(f32, bool),
}

#[derive(Clone, Default)]
struct RecordingSound(Arc<Mutex<Vec<Heard>>>);

impl Sound for RecordingSound {
    fn play(&self, cue: Cue) {
        self.0.lock().unwrap().push(Heard::Cue(cue));
    }
    fn set_volume(&self, volume: f32, muted: bool) {
        self.0.lock().unwrap().push(Heard::Volume(volume, muted));
    }
}

impl RecordingSound {
    fn take(&self) -> Vec<Heard> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

fn harness(rig: &Rig, sound: &RecordingSound) -> Harness<'static, KioskApp> {
    let mut kiosk = Kiosk::new(rig.settings(), rig.services());
    kiosk.set_sound(Box::new(sound.clone()));
    let app = KioskApp::new(kiosk, true);
    let mut h = Harness::builder()
        .with_size([1280.0, 800.0])
        .build_ui_state(|ui, app: &mut KioskApp| app.show(ui), app);
    h.run();
    h
}

fn step(h: &mut Harness<'static, KioskApp>) {
    h.step();
    h.step();
}

fn has(h: &Harness<'static, KioskApp>, label: &str) -> bool {
    h.query_all_by_label(label).next().is_some()
}

#[test]
fn a_read_card_and_a_refused_card_are_heard() {
    let rig = Rig::new();
    let sound = RecordingSound::default();
    let mut h = harness(&rig, &sound);
    // The kiosk's volume reaches the device first.
    assert_eq!(sound.take().first(), Some(&Heard::Volume(0.8, false)));

    rig.camera
        .card(&card("stu-maya", Role::Student, SCHOOL, false, true));
    step(&mut h);
    assert_eq!(
        sound.take(),
        [
            Heard::Cue(Cue::TryAgain),
            Heard::Cue(Cue::Prompt(PromptId::TooOld, Lang::En))
        ]
    );

    let rig = Rig::new();
    let sound = RecordingSound::default();
    let mut h = harness(&rig, &sound);
    sound.take();
    rig.camera
        .card(&card("stu-maya", Role::Student, SCHOOL, false, false));
    step(&mut h);
    assert_eq!(h.state().kiosk().screen().name(), "dashboard");
    assert_eq!(sound.take(), [Heard::Cue(Cue::GotIt)]);
}

#[test]
fn the_grown_ups_turn_the_sound_up_and_off() {
    let rig = Rig::new();
    let sound = RecordingSound::default();
    let mut h = harness(&rig, &sound);
    sound.take();
    h.get_by_label("Grown-ups").click();
    step(&mut h);
    assert!(has(&h, "Sound: 80%"));
    h.get_by_label("Louder").click();
    step(&mut h);
    assert!(has(&h, "Sound: 90%"));
    h.get_by_label("Sound off").click();
    step(&mut h);
    assert!(has(&h, "Sound: off") && has(&h, "Sound on"));
    assert_eq!(
        sound.take(),
        [Heard::Volume(0.9, false), Heard::Volume(0.9, true)]
    );
    h.get_by_label("Cancel").click();
    step(&mut h);
    // Muted: a refused card is seen, not heard.
    rig.camera
        .card(&card("stu-maya", Role::Student, SCHOOL, false, true));
    step(&mut h);
    assert_eq!(h.state().kiosk().screen().name(), "error");
    assert_eq!(sound.take(), []);
}
