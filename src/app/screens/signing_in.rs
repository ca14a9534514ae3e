//! The Chromebook sign-in page's last screen: the child's avatar and "Hi, Maya! Your Chromebook
//! is opening…" while the page hands the signed answer to Google and leaves.

use eframe::egui::{self, RichText, Ui};

use super::View;
use super::dashboard::avatar;
use crate::app::i18n::Msg;
use crate::app::state::Session;
use crate::app::widgets;

pub fn show(ui: &mut Ui, v: &mut View<'_>, s: &Session) {
    let name = s.greeting_name().to_string();
    ui.vertical_centered(|ui| {
        ui.add_space((ui.available_height() * 0.12).max(8.0));
        // Centre the avatar: vertical_centered centres widgets, and the avatar is one.
        ui.allocate_ui(egui::vec2(220.0, 220.0), |ui| {
            avatar(ui, v, s, &name, 220.0)
        });
        ui.add_space(28.0);
        ui.label(
            RichText::new(v.t(Msg::SigningIn(&name)))
                .size(48.0)
                .color(widgets::INK)
                .strong(),
        );
    });
}
