//! The pictures: one per state and hint, drawn with egui shapes (plus a few glyphs from
//! egui's built-in emoji font), so they scale to any screen, cost no image files and render
//! the same natively and in the browser. Each picture says the same thing as its sentence:
//! a red cross means "this did not work", green means "good", and the object shows what.

use std::f32::consts::TAU;

use eframe::egui::{Color32, CornerRadius, Painter, Pos2, Rect, Shape, Stroke, vec2};

use crate::app::widgets::{BLUE, GREEN, GREY, INK, RED, WHITE};

mod shapes;
use shapes::*;

const CARD: Color32 = Color32::from_rgb(0xFF, 0xFF, 0xFF);
const AMBER: Color32 = Color32::from_rgb(0xF5, 0x9E, 0x0B);
const SKY: Color32 = Color32::from_rgb(0xDB, 0xEA, 0xFE);
const ROSE: Color32 = Color32::from_rgb(0xFE, 0xE2, 0xE2);
const MINT: Color32 = Color32::from_rgb(0xDC, 0xFC, 0xE7);
const SAND: Color32 = Color32::from_rgb(0xFE, 0xF3, 0xC7);

/// Every picture the kiosk shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Picture {
    ShowCard,
    ComeCloser,
    TooDark,
    TooBright,
    HoldStill,
    ShowAll,
    GotIt,
    Checking,
    Pin,
    Expired,
    Revoked,
    OtherSchool,
    NotSchoolCard,
    NotAllowed,
    LockedOut,
    Unreachable,
    NoCamera,
    Waiting,
    NotEnrolled,
    NoTrust,
    Bye,
    StillThere,
}

/// Draws `pic` into `rect` (square is best). `time` (seconds) animates a few pictures.
pub fn draw(p: &Painter, rect: Rect, pic: Picture, time: f64) {
    let c = rect.center();
    let s = rect.width().min(rect.height());
    let r = s * 0.48;
    let t = time as f32;
    match pic {
        Picture::ShowCard => {
            disc(p, c, r, SKY);
            camera(p, c + vec2(0.0, -s * 0.2), s * 0.3);
            let bob = (t * 2.5).sin() * s * 0.02;
            card(p, c + vec2(0.0, s * 0.17 + bob), s * 0.42, BLUE);
        }
        Picture::ComeCloser => {
            disc(p, c, r, SKY);
            card(p, c, s * 0.3, BLUE);
            for (dx, dy) in [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)] {
                let d = vec2(dx, dy).normalized();
                arrow(p, c + d * s * 0.2, c + d * s * 0.38, s * 0.03, BLUE);
            }
        }
        Picture::TooDark => {
            disc(p, c, r, Color32::from_rgb(0x1E, 0x29, 0x3B));
            bulb(p, c + vec2(0.0, -s * 0.08), s * 0.42);
            card(p, c + vec2(s * 0.2, s * 0.22), s * 0.22, GREY);
        }
        Picture::TooBright => {
            disc(p, c, r, SAND);
            card(p, c + vec2(0.0, s * 0.08), s * 0.4, BLUE);
            let sun = c + vec2(-s * 0.22, -s * 0.22);
            p.circle_filled(sun, s * 0.09, AMBER);
            for i in 0..8 {
                let a = i as f32 / 8.0 * TAU;
                let d = vec2(a.cos(), a.sin());
                p.line_segment(
                    [sun + d * s * 0.12, sun + d * s * 0.18],
                    Stroke::new(s * 0.02, AMBER),
                );
            }
            p.line_segment(
                [c + vec2(-s * 0.05, -s * 0.02), c + vec2(s * 0.12, s * 0.12)],
                Stroke::new(s * 0.05, Color32::from_white_alpha(200)),
            );
        }
        Picture::HoldStill => {
            disc(p, c, r, SKY);
            card(p, c + vec2(-s * 0.08, 0.0), s * 0.36, BLUE);
            hand(p, c + vec2(s * 0.2, s * 0.1), s * 0.3, t, false);
        }
        Picture::ShowAll => {
            disc(p, c, r, SKY);
            card(p, c, s * 0.42, BLUE);
            p.rect_filled(
                Rect::from_min_size(c + vec2(s * 0.02, -s * 0.2), vec2(s * 0.22, s * 0.3)),
                CornerRadius::same(12),
                Color32::from_rgb(0xE0, 0xAC, 0x7C),
            );
            arrow(
                p,
                c + vec2(s * 0.16, 0.0),
                c + vec2(s * 0.38, 0.0),
                s * 0.03,
                INK,
            );
        }
        Picture::GotIt => {
            disc(p, c, r, GREEN);
            check(p, c, s * 0.28, WHITE);
        }
        Picture::Checking => {
            disc(p, c, r, MINT);
            card(p, c + vec2(0.0, -s * 0.05), s * 0.4, GREEN);
            for i in 0..3 {
                let phase = ((t * 3.0) - i as f32 * 0.5).sin() * 0.5 + 0.5;
                p.circle_filled(
                    c + vec2((i as f32 - 1.0) * s * 0.12, s * 0.3),
                    s * (0.03 + 0.02 * phase),
                    GREEN,
                );
            }
        }
        Picture::Pin => {
            disc(p, c, r, SKY);
            lock(p, c, s * 0.45, BLUE);
        }
        Picture::Expired => {
            disc(p, c, r, ROSE);
            card(p, c + vec2(-s * 0.08, -s * 0.05), s * 0.4, GREY);
            calendar(p, c + vec2(s * 0.2, s * 0.18), s * 0.26);
            cross(p, c + vec2(-s * 0.22, -s * 0.24), s * 0.12);
        }
        Picture::Revoked => {
            disc(p, c, r, ROSE);
            card(p, c + vec2(-s * 0.18, 0.0), s * 0.3, GREY);
            cross(p, c + vec2(-s * 0.18, 0.0), s * 0.1);
            arrow(
                p,
                c + vec2(-s * 0.02, 0.0),
                c + vec2(s * 0.06, 0.0),
                s * 0.025,
                INK,
            );
            card(p, c + vec2(s * 0.22, 0.0), s * 0.3, BLUE);
        }
        Picture::OtherSchool => {
            disc(p, c, r, ROSE);
            school(p, c + vec2(s * 0.1, -s * 0.08), s * 0.36, GREY);
            card(p, c + vec2(-s * 0.14, s * 0.16), s * 0.28, BLUE);
            cross(p, c + vec2(s * 0.24, s * 0.22), s * 0.1);
        }
        Picture::NotSchoolCard => {
            disc(p, c, r, ROSE);
            qr(p, c, s * 0.4);
            cross(p, c + vec2(s * 0.2, s * 0.2), s * 0.13);
        }
        Picture::NotAllowed => {
            disc(p, c, r, ROSE);
            card(p, c + vec2(-s * 0.06, -s * 0.04), s * 0.4, GREY);
            p.circle_stroke(
                c + vec2(s * 0.2, s * 0.2),
                s * 0.11,
                Stroke::new(s * 0.035, RED),
            );
            p.line_segment(
                [c + vec2(s * 0.12, s * 0.12), c + vec2(s * 0.28, s * 0.28)],
                Stroke::new(s * 0.035, RED),
            );
        }
        Picture::LockedOut => {
            disc(p, c, r, ROSE);
            lock(p, c + vec2(-s * 0.08, 0.0), s * 0.4, RED);
            clock(p, c + vec2(s * 0.22, s * 0.2), s * 0.13, t);
        }
        Picture::Unreachable => {
            disc(p, c, r, SAND);
            school(p, c + vec2(s * 0.18, -s * 0.05), s * 0.3, GREY);
            computer(p, c + vec2(-s * 0.2, s * 0.05), s * 0.26);
            p.line_segment(
                [c + vec2(-s * 0.05, 0.02 * s), c + vec2(s * 0.05, 0.02 * s)],
                Stroke::new(s * 0.02, GREY),
            );
            cross(p, c + vec2(0.0, s * 0.02), s * 0.08);
        }
        Picture::NoCamera => {
            disc(p, c, r, SAND);
            camera(p, c, s * 0.5);
            cross(p, c + vec2(s * 0.22, s * 0.2), s * 0.12);
        }
        Picture::Waiting => {
            disc(p, c, r, SKY);
            school(p, c + vec2(0.0, -s * 0.04), s * 0.42, BLUE);
            clock(p, c + vec2(s * 0.22, s * 0.22), s * 0.12, t);
        }
        Picture::NotEnrolled => {
            disc(p, c, r, SAND);
            computer(p, c + vec2(-s * 0.04, -s * 0.02), s * 0.46);
            key(p, c + vec2(s * 0.2, s * 0.24), s * 0.24, AMBER);
        }
        Picture::NoTrust => {
            disc(p, c, r, SAND);
            key(p, c, s * 0.5, AMBER);
            cross(p, c + vec2(s * 0.22, s * 0.22), s * 0.11);
        }
        Picture::Bye => {
            disc(p, c, r, MINT);
            hand(p, c + vec2(0.0, -s * 0.1), s * 0.4, t, true);
            card(p, c + vec2(0.0, s * 0.24), s * 0.26, BLUE);
        }
        Picture::StillThere => {
            disc(p, c, r, SAND);
            clock(p, c, s * 0.3, t);
        }
    }
}

/// A tile's icon by name, drawn in white.
/// Unknown names show the app's initial.
pub fn draw_app_icon(p: &Painter, rect: Rect, icon: &str, name: &str, _time: f64) {
    let c = rect.center();
    let s = rect.width().min(rect.height());
    p.circle_filled(c, s * 0.48, Color32::from_white_alpha(40));
    let w = Stroke::new(s * 0.06, WHITE);
    match icon {
        "book" | "reading" | "read" => {
            for dx in [-1.0f32, 1.0] {
                p.add(Shape::convex_polygon(
                    vec![
                        c + vec2(0.0, -s * 0.18),
                        c + vec2(dx * s * 0.3, -s * 0.24),
                        c + vec2(dx * s * 0.3, s * 0.2),
                        c + vec2(0.0, s * 0.26),
                    ],
                    WHITE,
                    Stroke::NONE,
                ));
            }
            p.line_segment(
                [c + vec2(0.0, -s * 0.18), c + vec2(0.0, s * 0.26)],
                Stroke::new(s * 0.02, GREY),
            );
        }
        "math" | "numbers" | "calculator" => glyph(p, c, s * 0.4, "1+2", WHITE),
        "abc" | "letters" | "spelling" | "write" | "docs" => glyph(p, c, s * 0.4, "Abc", WHITE),
        "code" | "coding" => glyph(p, c, s * 0.4, "</>", WHITE),
        "paint" | "art" | "draw" => {
            p.circle_filled(c, s * 0.3, WHITE);
            for (i, col) in [RED, BLUE, GREEN, AMBER].into_iter().enumerate() {
                let a = i as f32 / 4.0 * TAU * 0.75 + 0.9;
                p.circle_filled(c + vec2(a.cos(), a.sin()) * s * 0.17, s * 0.06, col);
            }
        }
        "music" => {
            p.circle_filled(c + vec2(-s * 0.1, s * 0.18), s * 0.1, WHITE);
            p.line_segment(
                [
                    c + vec2(-s * 0.01, s * 0.18),
                    c + vec2(-s * 0.01, -s * 0.25),
                ],
                w,
            );
            p.line_segment(
                [
                    c + vec2(-s * 0.01, -s * 0.25),
                    c + vec2(s * 0.18, -s * 0.15),
                ],
                w,
            );
        }
        "globe" | "world" | "geography" | "science" | "lab" => {
            p.circle_stroke(c, s * 0.28, w);
            p.line_segment([c + vec2(-s * 0.28, 0.0), c + vec2(s * 0.28, 0.0)], w);
            p.line_segment([c + vec2(0.0, -s * 0.28), c + vec2(0.0, s * 0.28)], w);
        }
        "game" | "games" | "puzzle" => {
            p.rect_filled(
                Rect::from_center_size(c, vec2(s * 0.6, s * 0.34)),
                CornerRadius::same(12),
                WHITE,
            );
            p.circle_filled(c + vec2(s * 0.15, 0.0), s * 0.05, INK);
            p.line_segment(
                [c + vec2(-s * 0.22, 0.0), c + vec2(-s * 0.08, 0.0)],
                Stroke::new(s * 0.04, INK),
            );
            p.line_segment(
                [
                    c + vec2(-s * 0.15, -s * 0.07),
                    c + vec2(-s * 0.15, s * 0.07),
                ],
                Stroke::new(s * 0.04, INK),
            );
        }
        "star" | "favorite" => {
            let pts: Vec<Pos2> = (0..10)
                .map(|i| {
                    let a = i as f32 / 10.0 * TAU - TAU / 4.0;
                    let rr = if i % 2 == 0 { s * 0.3 } else { s * 0.13 };
                    c + vec2(a.cos(), a.sin()) * rr
                })
                .collect();
            p.add(Shape::closed_line(pts, w));
        }
        _ => {
            let initial: String = name
                .chars()
                .next()
                .map(|c| c.to_uppercase().collect())
                .unwrap_or_default();
            glyph(p, c, s * 0.5, &initial, WHITE);
        }
    }
}
