//! Scanning: the live camera picture with a card-shaped guide, and the scanner's hint as a big
//! picture and a short sentence.

use eframe::egui::{
    self, Color32, CornerRadius, Rect, Sense, Stroke, StrokeKind, Ui, Vec2, WidgetInfo,
};

use super::View;
use crate::app::i18n::Msg;
use crate::app::pictures::Picture;
use crate::app::ports::Hint;
use crate::app::widgets;

/// The picture and sentence for a hint.
pub fn hint_text(h: Option<&Hint>) -> (Picture, Msg<'static>) {
    match h {
        None => (Picture::ShowCard, Msg::ShowCard),
        Some(Hint::NoCode) => (Picture::ShowCard, Msg::HintNoCode),
        Some(Hint::ComeCloser) => (Picture::ComeCloser, Msg::HintComeCloser),
        Some(Hint::TooDark) => (Picture::TooDark, Msg::HintTooDark),
        Some(Hint::TooBright) => (Picture::TooBright, Msg::HintTooBright),
        Some(Hint::HoldStill) => (Picture::HoldStill, Msg::HintHoldStill),
        Some(Hint::SeenNotReadable) => (Picture::ShowAll, Msg::HintShowAll),
        Some(Hint::NotQuickCard { .. }) => (Picture::NotSchoolCard, Msg::HintNotQuickCard),
    }
}

pub fn show(ui: &mut Ui, v: &mut View<'_>, hint: Option<&Hint>) {
    let (pic, msg) = hint_text(hint);
    let sentence = v.t(msg);
    let avail = ui.available_size();
    let wide = avail.x > avail.y * 1.2;
    let preview_h = (avail.y * 0.78).min(avail.x * if wide { 0.5 } else { 0.9 } * 0.75);
    let layout = if wide {
        egui::Layout::left_to_right(egui::Align::Center)
    } else {
        egui::Layout::top_down(egui::Align::Center)
    };
    ui.with_layout(layout, |ui| {
        if wide {
            ui.add_space((avail.x - preview_h * 4.0 / 3.0 - preview_h * 0.9 - 40.0).max(0.0) / 2.0);
        }
        preview(ui, v, Vec2::new(preview_h * 4.0 / 3.0, preview_h));
        ui.add_space(24.0);
        ui.vertical_centered(|ui| {
            ui.set_max_width(preview_h * 0.9 + 200.0);
            ui.add_space(20.0);
            widgets::picture(
                ui,
                pic,
                (preview_h * 0.55).clamp(140.0, 320.0),
                &sentence,
                v.time,
            );
            ui.add_space(16.0);
            widgets::child_sentence(ui, &sentence);
        });
    });
}

/// The camera picture with a card-shaped guide on top.
fn preview(ui: &mut Ui, v: &View<'_>, size: Vec2) {
    let (rect, resp) = ui.allocate_exact_size(size, Sense::hover());
    let label = v.t(Msg::CameraPreview);
    resp.widget_info(|| WidgetInfo::labeled(egui::Role::Image, true, &label));
    let painter = ui.painter_at(rect);
    painter.rect_filled(
        rect,
        CornerRadius::same(24),
        Color32::from_rgb(0x1E, 0x29, 0x3B),
    );
    if let Some(tex) = v.preview {
        let ts = tex.size_vec2();
        // Cover the rect, keeping the aspect ratio; mirrored so it feels like a mirror.
        let scale = (rect.width() / ts.x).max(rect.height() / ts.y);
        let shown = ts * scale;
        let img = Rect::from_center_size(rect.center(), shown);
        let uv = Rect::from_min_max(egui::pos2(1.0, 0.0), egui::pos2(0.0, 1.0));
        painter.image(tex.id(), img, uv, Color32::WHITE);
    }
    // The guide: a card outline in the middle.
    let gw = rect.width() * 0.55;
    let guide = Rect::from_center_size(rect.center(), Vec2::new(gw, gw * 0.63));
    let pulse = ((v.time * 2.0).sin() * 0.5 + 0.5) as f32;
    let color = if v.kiosk.got_it() {
        widgets::GREEN
    } else {
        Color32::from_white_alpha((170.0 + 85.0 * pulse) as u8)
    };
    painter.rect_stroke(
        guide,
        CornerRadius::same(18),
        Stroke::new(6.0, color),
        StrokeKind::Middle,
    );
    painter.rect_stroke(
        rect,
        CornerRadius::same(24),
        Stroke::new(3.0, widgets::INK),
        StrokeKind::Inside,
    );
}
