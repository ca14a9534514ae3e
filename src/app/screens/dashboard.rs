//! The dashboard: "Hi, Maya!" with the avatar, the user's app tiles (icon + name; a tile opens
//! the app's one-time launch URL) and a big Sign-out button.

use eframe::egui::{self, Color32, RichText, Sense, Ui, Vec2, WidgetInfo};

use super::View;
use crate::app::i18n::Msg;
use crate::app::state::{Action, Session};
use crate::app::widgets;

pub fn show(ui: &mut Ui, v: &mut View<'_>, s: &Session, opening: Option<&str>, failed: bool) {
    let name = s.greeting_name().to_string();
    ui.horizontal(|ui| {
        avatar(ui, v, s, &name, 110.0);
        ui.add_space(20.0);
        ui.vertical(|ui| {
            ui.add_space(14.0);
            ui.label(
                RichText::new(v.t(Msg::Hello(&name)))
                    .size(56.0)
                    .color(widgets::INK)
                    .strong(),
            );
        });
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let label = v.t(Msg::SignOut);
            let b = widgets::big_button(ui, &label, widgets::RED, 240.0);
            v.press(&b, &label, Action::SignOut);
        });
    });
    ui.add_space(16.0);
    let status = match (opening, failed) {
        (Some(app), _) => Some((v.t(Msg::Opening(app)), widgets::INK)),
        (None, true) => Some((v.t(Msg::LaunchFailed), widgets::RED)),
        _ => None,
    };
    match status {
        Some((text, color)) => {
            ui.label(RichText::new(text).size(widgets::BUTTON_TEXT).color(color));
        }
        None => {
            ui.add_space(widgets::BUTTON_TEXT + 6.0);
        }
    }
    ui.add_space(12.0);
    if s.apps.is_empty() {
        ui.vertical_centered(|ui| widgets::child_sentence(ui, &v.t(Msg::NoApps)));
        return;
    }
    // Tiles: as big as fit, between 160 and 260 points.
    let avail = ui.available_size();
    let gap = 28.0;
    let n = s.apps.len() as f32;
    let mut size = 260.0f32;
    loop {
        let per_row = ((avail.x + gap) / (size + gap)).floor().max(1.0);
        let rows = (n / per_row).ceil();
        if rows * (size + gap) <= avail.y || size <= 160.0 {
            break;
        }
        size -= 10.0;
    }
    let per_row = (((avail.x + gap) / (size + gap)).floor().max(1.0)) as usize;
    egui::ScrollArea::vertical().show(ui, |ui| {
        for row in s.apps.chunks(per_row) {
            ui.horizontal(|ui| {
                let row_w = row.len() as f32 * (size + gap) - gap;
                ui.add_space(((ui.available_width() - row_w) / 2.0).max(0.0));
                ui.spacing_mut().item_spacing.x = gap;
                for app in row {
                    let color = widgets::tile_color(&app.color, widgets::BLUE);
                    let b = widgets::tile(ui, &app.name, &app.icon, color, size, v.time);
                    v.press(&b, &app.name, Action::Launch(app.id.clone()));
                }
            });
            ui.add_space(gap);
        }
    });
}

/// The user's avatar: their initial on their colour (also on the sign-in page's last screen).
pub(crate) fn avatar(ui: &mut Ui, v: &View<'_>, s: &Session, name: &str, size: f32) {
    let (rect, resp) = ui.allocate_exact_size(Vec2::splat(size), Sense::hover());
    let label = v.t(Msg::Avatar(name));
    resp.widget_info(|| WidgetInfo::labeled(egui::Role::Image, true, &label));
    let color = widgets::tile_color(&s.user.avatar.color, widgets::BLUE);
    ui.painter().circle_filled(rect.center(), size / 2.0, color);
    let initial = if s.user.avatar.initial.is_empty() {
        name.chars()
            .next()
            .map(|c| c.to_uppercase().to_string())
            .unwrap_or_default()
    } else {
        s.user.avatar.initial.clone()
    };
    ui.painter().text(
        rect.center(),
        egui::Align2::CENTER_CENTER,
        initial,
        egui::FontId::proportional(size * 0.55),
        Color32::WHITE,
    );
}
