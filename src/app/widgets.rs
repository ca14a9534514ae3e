//! Shared look: colours that meet WCAG AA on the kiosk's background, text sizes for children,
//! and the big (≥ 64 px) buttons every screen uses.

use eframe::egui::{
    self, Color32, CornerRadius, FontId, Response, RichText, Sense, Stroke, StrokeKind, Ui, Vec2,
    WidgetInfo,
};

use crate::app::pictures::{self, Picture};

/// Warm off-white background.
pub const BG: Color32 = Color32::from_rgb(0xFF, 0xF8, 0xEC);
/// Body text: contrast 16:1 on [`BG`].
pub const INK: Color32 = Color32::from_rgb(0x1B, 0x1B, 0x2F);
/// Secondary text (grown-up lines): contrast ≥ 9:1 on [`BG`].
pub const INK_SOFT: Color32 = Color32::from_rgb(0x3A, 0x3A, 0x48);
/// Button fills, each with white text at ≥ 4.5:1.
pub const BLUE: Color32 = Color32::from_rgb(0x1D, 0x4E, 0xD8);
pub const GREEN: Color32 = Color32::from_rgb(0x15, 0x6B, 0x35);
pub const RED: Color32 = Color32::from_rgb(0xB4, 0x23, 0x18);
pub const GREY: Color32 = Color32::from_rgb(0x4B, 0x55, 0x63);
pub const WHITE: Color32 = Color32::WHITE;

/// Smallest touch target, in points.
pub const MIN_TOUCH: f32 = 64.0;
pub const CHILD_TEXT: f32 = 44.0;
pub const ADULT_TEXT: f32 = 20.0;
pub const BUTTON_TEXT: f32 = 28.0;

/// A big button with white text; at least 64 × 64 points.
pub fn big_button(ui: &mut Ui, label: &str, fill: Color32, min_width: f32) -> Response {
    let button = egui::Button::new(RichText::new(label).size(BUTTON_TEXT).color(WHITE))
        .fill(fill)
        .stroke(Stroke::NONE)
        .corner_radius(CornerRadius::same(18))
        .min_size(Vec2::new(min_width.max(MIN_TOUCH), 76.0));
    ui.add(button)
}

/// A picture with its meaning as the accessible label.
pub fn picture(ui: &mut Ui, pic: Picture, size: f32, label: &str, time: f64) -> Response {
    let (rect, resp) = ui.allocate_exact_size(Vec2::splat(size), Sense::hover());
    resp.widget_info(|| WidgetInfo::labeled(egui::Role::Image, true, label));
    pictures::draw(ui.painter(), rect, pic, time);
    resp
}

/// The child's sentence: big, centred.
pub fn child_sentence(ui: &mut Ui, text: &str) -> Response {
    ui.label(RichText::new(text).size(CHILD_TEXT).color(INK).strong())
}

/// The grown-up's line: smaller, centred, in a light box.
pub fn adult_line(ui: &mut Ui, text: &str) -> Response {
    let frame = egui::Frame::new()
        .fill(Color32::from_rgb(0xF1, 0xE9, 0xD8))
        .corner_radius(CornerRadius::same(12))
        .inner_margin(egui::Margin::symmetric(18, 12));
    frame
        .show(ui, |ui| {
            ui.set_max_width(900.0);
            ui.label(RichText::new(text).size(ADULT_TEXT).color(INK_SOFT))
        })
        .inner
}

/// An app tile: a big coloured square with the app's icon and name; a button to AccessKit.
pub fn tile(ui: &mut Ui, name: &str, icon: &str, color: Color32, size: f32, time: f64) -> Response {
    let (rect, resp) = ui.allocate_exact_size(Vec2::splat(size), Sense::click());
    resp.widget_info(|| WidgetInfo::labeled(egui::Role::Button, true, name));
    let painter = ui.painter();
    let fill = if resp.hovered() {
        color.gamma_multiply(0.9)
    } else {
        color
    };
    painter.rect_filled(rect, CornerRadius::same(24), fill);
    if resp.has_focus() {
        painter.rect_stroke(
            rect,
            CornerRadius::same(24),
            Stroke::new(4.0, INK),
            StrokeKind::Outside,
        );
    }
    let icon_rect = egui::Rect::from_center_size(
        rect.center() - Vec2::new(0.0, size * 0.12),
        Vec2::splat(size * 0.55),
    );
    pictures::draw_app_icon(painter, icon_rect, icon, name, time);
    painter.text(
        egui::pos2(rect.center().x, rect.bottom() - size * 0.14),
        egui::Align2::CENTER_CENTER,
        name,
        FontId::proportional((size * 0.13).clamp(18.0, 30.0)),
        WHITE,
    );
    resp
}

/// Parses `#RRGGBB`, falling back to `fallback`. Colours too light for white text are darkened
/// until they reach 4.5:1.
pub fn tile_color(hex: &str, fallback: Color32) -> Color32 {
    let c = parse_hex(hex).unwrap_or(fallback);
    let mut c = c;
    for _ in 0..10 {
        if contrast(WHITE, c) >= 4.5 {
            break;
        }
        c = Color32::from_rgb(
            (c.r() as f32 * 0.85) as u8,
            (c.g() as f32 * 0.85) as u8,
            (c.b() as f32 * 0.85) as u8,
        );
    }
    c
}

pub fn parse_hex(hex: &str) -> Option<Color32> {
    let h = hex.strip_prefix('#')?;
    if h.len() != 6 {
        return None;
    }
    let v = u32::from_str_radix(h, 16).ok()?;
    Some(Color32::from_rgb((v >> 16) as u8, (v >> 8) as u8, v as u8))
}

/// WCAG 2 relative luminance.
pub fn luminance(c: Color32) -> f32 {
    let ch = |v: u8| {
        let s = v as f32 / 255.0;
        if s <= 0.03928 {
            s / 12.92
        } else {
            ((s + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * ch(c.r()) + 0.7152 * ch(c.g()) + 0.0722 * ch(c.b())
}

/// WCAG 2 contrast ratio.
pub fn contrast(a: Color32, b: Color32) -> f32 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palette_meets_wcag_aa() {
        assert!(contrast(INK, BG) >= 7.0);
        assert!(contrast(INK_SOFT, BG) >= 7.0);
        assert!(contrast(INK_SOFT, Color32::from_rgb(0xF1, 0xE9, 0xD8)) >= 4.5);
        for fill in [BLUE, GREEN, RED, GREY] {
            assert!(contrast(WHITE, fill) >= 4.5, "{fill:?}");
        }
    }

    #[test]
    fn light_tile_colours_are_darkened_for_white_text() {
        let c = tile_color("#FFD54F", BLUE);
        assert!(contrast(WHITE, c) >= 4.5);
        assert_eq!(tile_color("nonsense", BLUE), BLUE);
    }
}
