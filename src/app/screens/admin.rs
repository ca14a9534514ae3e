//! The admin PIN pad: the only way out of kiosk mode. It replaces the screen while open; a
//! child who opens it by accident can only cancel. Too many wrong PINs lock it for a while
//! (`app::admin_lock`). Above the pad, the sound controls (volume and mute), for the grown-up
//! who came to quiet the kiosk rather than to leave it; drawn first, so the pad sizes its keys
//! to the room left and everything fits a 1280×800 screen.

use eframe::egui::{RichText, Ui};

use super::View;
use super::pin_pad::{PadKind, pad};
use crate::app::admin_lock::Wait;
use crate::app::i18n::Msg;
use crate::app::pictures::Picture;
use crate::app::state::{Action, AdminPad};
use crate::app::widgets;

pub fn show(ui: &mut Ui, v: &mut View<'_>, admin: &AdminPad) {
    sound_controls(ui, v);
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

fn sound_controls(ui: &mut Ui, v: &mut View<'_>) {
    let (pct, muted) = v.kiosk.core().sound_level();
    let level = v.t(Msg::SoundLevel(pct, muted));
    let (quieter, louder) = (v.t(Msg::Quieter), v.t(Msg::Louder));
    let toggle = v.t(if muted { Msg::Unmute } else { Msg::Mute });
    ui.horizontal(|ui| {
        let w = widgets::MIN_TOUCH * 2.2;
        ui.add_space(((ui.available_width() - (4.0 * w + 48.0)) / 2.0).max(0.0));
        ui.spacing_mut().item_spacing.x = 12.0;
        ui.label(
            RichText::new(&level)
                .size(widgets::ADULT_TEXT)
                .color(widgets::INK),
        );
        for (label, action) in [
            (&quieter, Action::VolumeDown),
            (&louder, Action::VolumeUp),
            (&toggle, Action::ToggleMute),
        ] {
            let b = widgets::big_button(ui, label, widgets::GREY, w);
            v.press(&b, label, action);
        }
    });
    ui.add_space(8.0);
}
