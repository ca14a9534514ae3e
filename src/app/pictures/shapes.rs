//! The shapes the pictures are drawn from: a card, a QR code, a hand, a camera, a lock and
//! the other small objects, each scaled from a centre and a width so every picture can place
//! them freely.

use std::f32::consts::TAU;

use eframe::egui::{
    Align2, Color32, CornerRadius, FontId, Painter, Pos2, Rect, Shape, Stroke, StrokeKind, Vec2,
    pos2, vec2,
};

use super::{AMBER, CARD, SKY};
use crate::app::widgets::{GREY, INK, RED, WHITE};

pub(super) fn bulb(p: &Painter, c: Pos2, w: f32) {
    for i in 0..8 {
        let a = i as f32 / 8.0 * TAU;
        let d = vec2(a.cos(), a.sin());
        p.line_segment(
            [c + d * w * 0.38, c + d * w * 0.5],
            Stroke::new(w * 0.05, AMBER),
        );
    }
    p.circle_filled(c, w * 0.3, AMBER);
    p.rect_filled(
        Rect::from_center_size(c + vec2(0.0, w * 0.36), vec2(w * 0.26, w * 0.2)),
        CornerRadius::same(3),
        Color32::from_rgb(0x94, 0xA3, 0xB8),
    );
}

/// An open hand; `waving` tilts it back and forth.
pub(super) fn hand(p: &Painter, c: Pos2, w: f32, t: f32, waving: bool) {
    let skin = Color32::from_rgb(0xE0, 0xAC, 0x7C);
    let tilt = if waving { (t * 4.0).sin() * 0.25 } else { 0.0 };
    let rot = |v: Vec2| {
        vec2(
            v.x * tilt.cos() - v.y * tilt.sin(),
            v.x * tilt.sin() + v.y * tilt.cos(),
        )
    };
    p.circle_filled(c + rot(vec2(0.0, w * 0.15)), w * 0.3, skin);
    for (i, dx) in [-0.24f32, -0.08, 0.08, 0.24].into_iter().enumerate() {
        let len = if i == 0 || i == 3 { 0.38 } else { 0.46 };
        p.line_segment(
            [c + rot(vec2(dx * w, 0.0)), c + rot(vec2(dx * w, -len * w))],
            Stroke::new(w * 0.13, skin),
        );
    }
    p.line_segment(
        [
            c + rot(vec2(-w * 0.2, w * 0.2)),
            c + rot(vec2(-w * 0.45, 0.0)),
        ],
        Stroke::new(w * 0.13, skin),
    );
}

pub(super) fn disc(p: &Painter, c: Pos2, r: f32, fill: Color32) {
    p.circle_filled(c, r, fill);
}

pub(super) fn glyph(p: &Painter, c: Pos2, size: f32, g: &str, color: Color32) {
    p.text(
        c,
        Align2::CENTER_CENTER,
        g,
        FontId::proportional(size),
        color,
    );
}

/// A QuickCard: a white card with a coloured band and a QR-like code.
pub(super) fn card(p: &Painter, c: Pos2, w: f32, band: Color32) {
    let rect = Rect::from_center_size(c, vec2(w, w * 0.63));
    p.rect_filled(
        rect.translate(vec2(w * 0.02, w * 0.03)),
        CornerRadius::same(8),
        Color32::from_black_alpha(40),
    );
    p.rect_filled(rect, CornerRadius::same(8), CARD);
    p.rect_stroke(
        rect,
        CornerRadius::same(8),
        Stroke::new((w * 0.015).max(1.5), INK),
        StrokeKind::Inside,
    );
    let bandr = Rect::from_min_max(rect.min, pos2(rect.max.x, rect.min.y + rect.height() * 0.2));
    p.rect_filled(
        bandr,
        CornerRadius {
            nw: 8,
            ne: 8,
            sw: 0,
            se: 0,
        },
        band,
    );
    let q = rect.height() * 0.55;
    qr(
        p,
        pos2(
            rect.min.x + rect.width() * 0.3,
            rect.center().y + rect.height() * 0.1,
        ),
        q,
    );
    // Name lines
    for i in 0..2 {
        let y = rect.center().y + rect.height() * (0.0 + i as f32 * 0.18);
        p.line_segment(
            [
                pos2(rect.center().x + w * 0.05, y),
                pos2(rect.max.x - w * 0.1 - i as f32 * w * 0.08, y),
            ],
            Stroke::new((w * 0.035).max(2.0), GREY),
        );
    }
}

/// A QR-code-like square with three finder patterns.
pub(super) fn qr(p: &Painter, c: Pos2, s: f32) {
    let rect = Rect::from_center_size(c, Vec2::splat(s));
    p.rect_filled(rect.expand(s * 0.06), CornerRadius::same(2), CARD);
    let m = s / 7.0;
    let finder = |o: Pos2| {
        let f = Rect::from_min_size(o, Vec2::splat(m * 2.4));
        p.rect_filled(f, CornerRadius::ZERO, INK);
        p.rect_filled(f.shrink(m * 0.45), CornerRadius::ZERO, CARD);
        p.rect_filled(f.shrink(m * 0.85), CornerRadius::ZERO, INK);
    };
    finder(rect.min);
    finder(pos2(rect.max.x - m * 2.4, rect.min.y));
    finder(pos2(rect.min.x, rect.max.y - m * 2.4));
    for (x, y) in [
        (3, 3),
        (4, 4),
        (5, 3),
        (3, 5),
        (5, 5),
        (4, 6),
        (6, 4),
        (3, 1),
        (1, 3),
    ] {
        let r = Rect::from_min_size(
            pos2(
                rect.min.x + x as f32 * m * 0.95,
                rect.min.y + y as f32 * m * 0.95,
            ),
            Vec2::splat(m * 0.8),
        );
        p.rect_filled(r, CornerRadius::ZERO, INK);
    }
}

pub(super) fn cross(p: &Painter, c: Pos2, r: f32) {
    p.circle_filled(c, r * 1.15, RED);
    let st = Stroke::new(r * 0.3, WHITE);
    let d = r * 0.5;
    p.line_segment([c + vec2(-d, -d), c + vec2(d, d)], st);
    p.line_segment([c + vec2(d, -d), c + vec2(-d, d)], st);
}

pub(super) fn check(p: &Painter, c: Pos2, r: f32, color: Color32) {
    let st = Stroke::new(r * 0.28, color);
    p.add(Shape::line(
        vec![
            c + vec2(-r * 0.7, 0.0),
            c + vec2(-r * 0.15, r * 0.55),
            c + vec2(r * 0.75, -r * 0.55),
        ],
        st,
    ));
}

pub(super) fn arrow(p: &Painter, from: Pos2, to: Pos2, w: f32, color: Color32) {
    let st = Stroke::new(w, color);
    p.line_segment([from, to], st);
    let d = (to - from).normalized();
    let n = vec2(-d.y, d.x);
    let head = w * 2.5;
    p.add(Shape::convex_polygon(
        vec![
            to + d * head * 0.6,
            to - d * head + n * head,
            to - d * head - n * head,
        ],
        color,
        Stroke::NONE,
    ));
}

pub(super) fn camera(p: &Painter, c: Pos2, w: f32) {
    let body = Rect::from_center_size(c, vec2(w, w * 0.65));
    p.rect_filled(
        Rect::from_center_size(c + vec2(-w * 0.2, -w * 0.36), vec2(w * 0.25, w * 0.12)),
        CornerRadius::same(4),
        INK,
    );
    p.rect_filled(body, CornerRadius::same(10), INK);
    p.circle_filled(c, w * 0.22, Color32::from_rgb(0x94, 0xA3, 0xB8));
    p.circle_filled(c, w * 0.14, Color32::from_rgb(0x0F, 0x17, 0x2A));
    p.circle_filled(c + vec2(-w * 0.05, -w * 0.05), w * 0.04, WHITE);
}

pub(super) fn lock(p: &Painter, c: Pos2, w: f32, color: Color32) {
    let body = Rect::from_center_size(c + vec2(0.0, w * 0.15), vec2(w * 0.8, w * 0.6));
    p.circle_stroke(
        c + vec2(0.0, -w * 0.15),
        w * 0.25,
        Stroke::new(w * 0.1, INK),
    );
    p.rect_filled(body, CornerRadius::same(10), color);
    p.circle_filled(body.center() - vec2(0.0, w * 0.05), w * 0.07, WHITE);
    p.rect_filled(
        Rect::from_center_size(
            body.center() + vec2(0.0, w * 0.07),
            vec2(w * 0.06, w * 0.18),
        ),
        CornerRadius::same(2),
        WHITE,
    );
}

pub(super) fn clock(p: &Painter, c: Pos2, r: f32, t: f32) {
    p.circle_filled(c, r, WHITE);
    p.circle_stroke(c, r, Stroke::new(r * 0.15, INK));
    let a = t * 0.8;
    p.line_segment(
        [c, c + vec2(a.sin(), -a.cos()) * r * 0.75],
        Stroke::new(r * 0.12, INK),
    );
    p.line_segment([c, c + vec2(0.0, -r * 0.5)], Stroke::new(r * 0.14, INK));
}

pub(super) fn calendar(p: &Painter, c: Pos2, w: f32) {
    let rect = Rect::from_center_size(c, vec2(w, w * 0.9));
    p.rect_filled(rect, CornerRadius::same(6), WHITE);
    p.rect_stroke(
        rect,
        CornerRadius::same(6),
        Stroke::new(w * 0.05, INK),
        StrokeKind::Inside,
    );
    p.rect_filled(
        Rect::from_min_max(rect.min, pos2(rect.max.x, rect.min.y + w * 0.25)),
        CornerRadius {
            nw: 6,
            ne: 6,
            sw: 0,
            se: 0,
        },
        RED,
    );
    for row in 0..2 {
        for col in 0..3 {
            p.rect_filled(
                Rect::from_min_size(
                    pos2(
                        rect.min.x + w * (0.14 + col as f32 * 0.26),
                        rect.min.y + w * (0.38 + row as f32 * 0.24),
                    ),
                    Vec2::splat(w * 0.16),
                ),
                CornerRadius::same(2),
                GREY,
            );
        }
    }
}

pub(super) fn school(p: &Painter, c: Pos2, w: f32, color: Color32) {
    let body = Rect::from_center_size(c + vec2(0.0, w * 0.15), vec2(w, w * 0.55));
    p.add(Shape::convex_polygon(
        vec![
            pos2(body.min.x - w * 0.08, body.min.y),
            pos2(c.x, c.y - w * 0.45),
            pos2(body.max.x + w * 0.08, body.min.y),
        ],
        RED,
        Stroke::NONE,
    ));
    p.rect_filled(body, CornerRadius::ZERO, color);
    p.rect_filled(
        Rect::from_center_size(pos2(c.x, body.max.y - w * 0.12), vec2(w * 0.2, w * 0.24)),
        CornerRadius::ZERO,
        WHITE,
    );
    for dx in [-0.3, 0.3] {
        p.rect_filled(
            Rect::from_center_size(
                pos2(c.x + dx * w, body.min.y + w * 0.18),
                Vec2::splat(w * 0.14),
            ),
            CornerRadius::ZERO,
            SKY,
        );
    }
    p.circle_filled(pos2(c.x, body.min.y - w * 0.12), w * 0.08, WHITE);
}

pub(super) fn computer(p: &Painter, c: Pos2, w: f32) {
    let screen = Rect::from_center_size(c - vec2(0.0, w * 0.1), vec2(w, w * 0.65));
    p.rect_filled(screen, CornerRadius::same(6), INK);
    p.rect_filled(screen.shrink(w * 0.06), CornerRadius::same(3), SKY);
    p.rect_filled(
        Rect::from_center_size(pos2(c.x, screen.max.y + w * 0.1), vec2(w * 0.12, w * 0.2)),
        CornerRadius::ZERO,
        INK,
    );
    p.rect_filled(
        Rect::from_center_size(pos2(c.x, screen.max.y + w * 0.2), vec2(w * 0.5, w * 0.06)),
        CornerRadius::same(3),
        INK,
    );
}

pub(super) fn key(p: &Painter, c: Pos2, w: f32, color: Color32) {
    let head = c - vec2(w * 0.25, 0.0);
    p.circle_filled(head, w * 0.22, color);
    p.circle_filled(head, w * 0.08, WHITE);
    let st = Stroke::new(w * 0.1, color);
    p.line_segment([head + vec2(w * 0.2, 0.0), c + vec2(w * 0.45, 0.0)], st);
    p.line_segment([c + vec2(w * 0.3, 0.0), c + vec2(w * 0.3, w * 0.15)], st);
    p.line_segment([c + vec2(w * 0.42, 0.0), c + vec2(w * 0.42, w * 0.12)], st);
}
