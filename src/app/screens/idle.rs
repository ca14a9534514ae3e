//! The idle warning: "Are you still there?" with a countdown and a big "I'm still here", over
//! the dashboard, before the automatic sign-out on a shared kiosk.

use eframe::egui::{self, Color32, CornerRadius, Id, Ui};

use super::View;
use crate::app::i18n::Msg;
use crate::app::pictures::Picture;
use crate::app::state::Action;
use crate::app::widgets;

pub fn show(ui: &mut Ui, v: &mut View<'_>, secs_left: u64) {
    let screen = ui.ctx().content_rect();
    // Dim what is behind.
    egui::Area::new(Id::unique("idle-dim"))
        .order(egui::Order::Foreground)
        .fixed_pos(screen.min)
        .show(ui.ctx(), |ui| {
            ui.painter()
                .rect_filled(screen, CornerRadius::ZERO, Color32::from_black_alpha(140));
        });
    egui::Area::new(Id::unique("idle-box"))
        .order(egui::Order::Tooltip)
        .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
        .show(ui.ctx(), |ui| {
            egui::Frame::new()
                .fill(widgets::BG)
                .corner_radius(CornerRadius::same(28))
                .inner_margin(egui::Margin::same(36))
                .show(ui, |ui| {
                    ui.vertical_centered(|ui| {
                        let q = v.t(Msg::IdleQuestion);
                        widgets::picture(ui, Picture::StillThere, 180.0, &q, v.time);
                        widgets::child_sentence(ui, &q);
                        ui.add_space(8.0);
                        let c = v.t(Msg::IdleCountdown(secs_left));
                        ui.label(
                            egui::RichText::new(c)
                                .size(widgets::BUTTON_TEXT)
                                .color(widgets::INK),
                        );
                        ui.add_space(20.0);
                        let here = v.t(Msg::StillHere);
                        let b = widgets::big_button(ui, &here, widgets::GREEN, 360.0);
                        v.press(&b, &here, Action::StillHere);
                    });
                });
        });
}
