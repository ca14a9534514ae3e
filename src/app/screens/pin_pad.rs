//! The PIN pad: a big on-screen number pad for cards that ask for a second factor (staff).
//! The same pad serves the admin PIN that leaves kiosk mode.

use eframe::egui::{self, Color32, CornerRadius, RichText, Sense, Ui, Vec2, WidgetInfo};

use super::View;
use crate::app::i18n::Msg;
use crate::app::pictures::Picture;
use crate::app::state::Action;
use crate::app::widgets;

/// Which pad: the card's second factor or the admin PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PadKind {
    Card,
    Admin,
}

pub fn show(ui: &mut Ui, v: &mut View<'_>, typed: usize, wrong: Option<Option<u32>>) {
    let title = v.t(Msg::PinTitle);
    let message = match wrong {
        Some(Some(n)) => Some(v.t(Msg::PinWrong(n))),
        Some(None) => Some(v.t(Msg::PinWrongNoCount)),
        None => None,
    };
    pad(
        ui,
        v,
        PadKind::Card,
        Picture::Pin,
        &title,
        message.as_deref(),
        typed,
    );
}

/// Title, dots for the digits typed, message, then 1–9, Delete, 0, OK and Cancel.
pub fn pad(
    ui: &mut Ui,
    v: &mut View<'_>,
    kind: PadKind,
    pic: Picture,
    title: &str,
    message: Option<&str>,
    typed: usize,
) {
    let key = (ui.available_height() / 8.5).clamp(widgets::MIN_TOUCH, 96.0);
    ui.vertical_centered(|ui| {
        ui.horizontal(|ui| {
            let w = key * 0.9 + 16.0 + title.len() as f32 * 22.0;
            ui.add_space(((ui.available_width() - w) / 2.0).max(0.0));
            widgets::picture(ui, pic, key * 0.9, title, v.time);
            ui.add_space(16.0);
            ui.label(
                RichText::new(title)
                    .size(widgets::CHILD_TEXT * 0.8)
                    .color(widgets::INK)
                    .strong(),
            );
        });
        ui.add_space(8.0);
        dots(ui, v, typed, key);
        if let Some(m) = message {
            ui.label(
                RichText::new(m)
                    .size(widgets::ADULT_TEXT + 6.0)
                    .color(widgets::RED)
                    .strong(),
            );
        } else {
            ui.add_space(widgets::ADULT_TEXT + 10.0);
        }
        ui.add_space(8.0);
        let grid_w = key * 3.0 + 2.0 * 14.0;
        let digit = |d: u8| match kind {
            PadKind::Card => Action::PinDigit(d),
            PadKind::Admin => Action::AdminDigit(d),
        };
        let rows: [[Option<u8>; 3]; 3] = [
            [Some(1), Some(2), Some(3)],
            [Some(4), Some(5), Some(6)],
            [Some(7), Some(8), Some(9)],
        ];
        for row in rows {
            ui.horizontal(|ui| {
                ui.add_space(((ui.available_width() - grid_w) / 2.0).max(0.0));
                ui.spacing_mut().item_spacing.x = 14.0;
                for d in row.into_iter().flatten() {
                    let label = d.to_string();
                    let b = key_button(ui, &label, widgets::BLUE, key);
                    v.press(&b, &label, digit(d));
                }
            });
            ui.add_space(10.0);
        }
        ui.horizontal(|ui| {
            ui.add_space(((ui.available_width() - grid_w) / 2.0).max(0.0));
            ui.spacing_mut().item_spacing.x = 14.0;
            let del = v.t(Msg::Delete);
            let b = key_button(ui, &del, widgets::GREY, key);
            let delete = match kind {
                PadKind::Card => Action::PinDelete,
                PadKind::Admin => Action::AdminDelete,
            };
            v.press(&b, &del, delete);
            let b = key_button(ui, "0", widgets::BLUE, key);
            v.press(&b, "0", digit(0));
            let ok = v.t(Msg::Ok);
            let b = key_button(ui, &ok, widgets::GREEN, key);
            let submit = match kind {
                PadKind::Card => Action::PinSubmit,
                PadKind::Admin => Action::AdminSubmit,
            };
            v.press(&b, &ok, submit);
        });
        ui.add_space(16.0);
        let cancel = v.t(Msg::Cancel);
        let b = widgets::big_button(ui, &cancel, widgets::GREY, grid_w);
        let cancel_action = match kind {
            PadKind::Card => Action::PinCancel,
            PadKind::Admin => Action::AdminCancel,
        };
        v.press(&b, &cancel, cancel_action);
    });
}

fn key_button(ui: &mut Ui, label: &str, fill: Color32, size: f32) -> egui::Response {
    let text = if label.len() <= 2 {
        size * 0.45
    } else {
        size * 0.24
    };
    // Every key exactly the same size, so the grid lines up whatever the label.
    ui.scope(|ui| {
        ui.spacing_mut().button_padding = Vec2::splat(4.0);
        ui.add_sized(
            Vec2::splat(size),
            egui::Button::new(
                RichText::new(label)
                    .size(text)
                    .color(widgets::WHITE)
                    .strong(),
            )
            .fill(fill)
            .corner_radius(CornerRadius::same(16)),
        )
    })
    .inner
}

/// One dot per digit typed (never the digits).
fn dots(ui: &mut Ui, v: &View<'_>, typed: usize, key: f32) {
    let slots = typed.max(4);
    let d = key * 0.32;
    let w = slots as f32 * (d + 14.0);
    let (rect, resp) = ui.allocate_exact_size(Vec2::new(w, d + 8.0), Sense::hover());
    let label = v.t(Msg::PinDigits(typed));
    resp.widget_info(|| WidgetInfo::labeled(egui::Role::Label, true, &label));
    for i in 0..slots {
        let c = egui::pos2(rect.min.x + (i as f32 + 0.5) * (d + 14.0), rect.center().y);
        if i < typed {
            ui.painter().circle_filled(c, d / 2.0, widgets::INK);
        } else {
            ui.painter()
                .circle_stroke(c, d / 2.0 - 2.0, egui::Stroke::new(3.0, widgets::INK_SOFT));
        }
    }
}
