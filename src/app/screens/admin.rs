//! The admin PIN pad: the only way out of kiosk mode. It replaces the screen while open; a
//! child who opens it by accident can only cancel. Too many wrong PINs lock it for a while
//! (`app::admin_lock`). Beside the pad, on the left, the sound controls (volume and mute), for
//! the grown-up who came to quiet the kiosk rather than to leave it. They sit beside it, not
//! above it: above, they took the height the pad's Cancel button needs on a 1280×800 or
//! 1366×768 screen. The same width is kept free on the right, so the pad stays centred.

use eframe::egui::{Align, Layout, RichText, Ui, vec2};

use super::View;
use super::pin_pad::{PadKind, pad};
use crate::app::admin_lock::Wait;
use crate::app::i18n::Msg;
use crate::app::pictures::Picture;
use crate::app::state::{Action, AdminPad};
use crate::app::widgets;

pub fn show(ui: &mut Ui, v: &mut View<'_>, admin: &AdminPad) {
    let side = SIDE.min(ui.available_width() / 4.0);
    let height = ui.available_height();
    ui.horizontal_top(|ui| {
        ui.allocate_ui_with_layout(vec2(side, height), Layout::top_down(Align::Center), |ui| {
            sound_controls(ui, v, side)
        });
        let middle = (ui.available_width() - side).max(0.0);
        ui.allocate_ui_with_layout(
            vec2(middle, height),
            Layout::top_down(Align::Center),
            |ui| admin_pad(ui, v, admin),
        );
    });
}

/// The width of the sound controls' column (and of the empty one that balances it).
const SIDE: f32 = widgets::MIN_TOUCH * 3.4;

fn admin_pad(ui: &mut Ui, v: &mut View<'_>, admin: &AdminPad) {
    let title = v.t(Msg::AdminTitle);
    // Locked after too many wrong PINs: say for how long (the keys do nothing meanwhile).
    let wrong = match v.kiosk.admin_locked_ms() {
        Some(ms) => Some(v.t(Msg::AdminLocked(Wait::from_ms(ms)))),
        None => admin.wrong.then(|| v.t(Msg::AdminWrong)),
    };
    pad(
        ui,
        v,
        PadKind::Admin,
        Picture::Pin,
        &title,
        wrong.as_deref(),
        admin.pin.len(),
    );
}

fn sound_controls(ui: &mut Ui, v: &mut View<'_>, width: f32) {
    let (pct, muted) = v.kiosk.core().sound_level();
    let level = v.t(Msg::SoundLevel(pct, muted));
    let (quieter, louder) = (v.t(Msg::Quieter), v.t(Msg::Louder));
    let toggle = v.t(if muted { Msg::Unmute } else { Msg::Mute });
    ui.add_space(24.0);
    ui.label(
        RichText::new(&level)
            .size(widgets::ADULT_TEXT)
            .color(widgets::INK),
    );
    ui.add_space(8.0);
    for (label, action) in [
        (&quieter, Action::VolumeDown),
        (&louder, Action::VolumeUp),
        (&toggle, Action::ToggleMute),
    ] {
        let b = widgets::big_button(ui, label, widgets::GREY, (width - 24.0).max(0.0));
        v.press(&b, label, action);
        ui.add_space(8.0);
    }
}
