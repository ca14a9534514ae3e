//! The camera and classroom troubles each category of the photo set adds to a frame once the
//! printed thing is in view: blur, noise, dim or uneven light, glare, a finger over the quiet
//! zone, and a low JPEG quality.
//!
//! Why a module of its own: these are what the scanner is tuned against, one arm per
//! category with its severity ramp; reviewing or adding one should not mean reading the
//! whole generator.

use super::picture::{Img, Rng, gaussian_blur, motion_blur};
use super::{H, W};

/// How a frame is described in the manifest and how hard it is compressed.
#[derive(Debug)]
pub struct Label {
    /// What was done to the frame, for people reading the manifest.
    pub params: String,
    /// The JPEG quality it is written at.
    pub quality: u8,
}

/// Adds `category`'s trouble to `frame`, the `i`-th frame of its category at severity `t`
/// (0 to 1); `corners` are the code's corners in the frame, where there is a code. Draws from
/// `rng` in a fixed order, so the set stays the same from run to run.
pub fn distort(
    frame: &mut Img,
    category: &str,
    i: usize,
    t: f32,
    corners: Option<[[f32; 2]; 4]>,
    rng: &mut Rng,
    label: &mut Label,
) {
    match category {
        "motion-blur" => {
            let len = 3.0 + 15.0 * t;
            let ang = rng.range(0.0, 180.0);
            *frame = motion_blur(frame, len, ang);
            label.params = format!("motion {len:.1}px at {ang:.0}°");
        }
        "focus-blur" => {
            let sigma = 1.0 + 3.0 * t;
            *frame = gaussian_blur(frame, sigma);
            label.params = format!("gaussian sigma {sigma:.1}px");
        }
        "noise" => {
            let sd = 0.04 + 0.12 * t;
            for p in &mut frame.px {
                for c in p.iter_mut() {
                    *c += rng.gauss() * sd;
                }
            }
            label.params = format!("noise sd {:.0}/255", sd * 255.0);
        }
        "low-light" => {
            let gain = 0.35 - 0.27 * t;
            let sd = 0.015 + 0.02 * t;
            for p in &mut frame.px {
                for c in p.iter_mut() {
                    *c = *c * gain + rng.gauss() * sd + 0.02;
                }
            }
            label.params = format!("gain {gain:.2}, noise sd {:.0}/255", sd * 255.0);
        }
        "uneven-light" => {
            let strength = 0.4 + 0.5 * t;
            let (lx, ly) = (rng.range(0.0, W as f32), rng.range(0.0, H as f32));
            let ang = rng.range(0.0, std::f32::consts::TAU);
            for y in 0..H as usize {
                for x in 0..W as usize {
                    let d = ((x as f32 - lx) * ang.cos() + (y as f32 - ly) * ang.sin()) / W as f32;
                    let g = (1.0 - strength * (d + 0.5).clamp(0.0, 1.0)).max(0.08);
                    let p = &mut frame.px[y * W as usize + x];
                    for c in p.iter_mut() {
                        *c *= g;
                    }
                }
            }
            label.params = format!("light falls {:.0} %", strength * 100.0);
        }
        "glare" => {
            let c = corners.expect("card");
            let f = rng.range(0.2, 0.8);
            let gx = c[0][0] + (c[2][0] - c[0][0]) * f;
            let gy = c[0][1] + (c[2][1] - c[0][1]) * rng.range(0.2, 0.8);
            let side = ((c[1][0] - c[0][0]).powi(2) + (c[1][1] - c[0][1]).powi(2)).sqrt();
            let r = side * (0.08 + 0.2 * t);
            let peak = 0.9 + 0.6 * t;
            for y in 0..H as usize {
                for x in 0..W as usize {
                    let d2 = ((x as f32 - gx).powi(2) + (y as f32 - gy).powi(2)) / (r * r);
                    let g = peak * (-d2).exp();
                    if g > 0.002 {
                        for ch in frame.px[y * W as usize + x].iter_mut() {
                            *ch += g;
                        }
                    }
                }
            }
            label.params = format!(
                "glare radius {:.0} % of code, peak {peak:.1}",
                r / side * 100.0
            );
        }
        "jpeg" => {
            label.quality = (40.0 - 32.0 * t) as u8;
            label.params = format!("jpeg quality {}", label.quality);
        }
        "finger" => {
            // A finger from the frame's bottom edge over the code's quiet zone.
            let c = corners.expect("card");
            let side = ((c[1][0] - c[0][0]).powi(2) + (c[1][1] - c[0][1]).powi(2)).sqrt();
            let module = side / 41.0;
            let edge = i % 4; // which side of the code
            let (a, b) = (c[edge], c[(edge + 1) % 4]);
            let tpos = rng.range(0.2, 0.8);
            let px = a[0] + (b[0] - a[0]) * tpos;
            let py = a[1] + (b[1] - a[1]) * tpos;
            // Outward normal from the code centre.
            let mx = (c[0][0] + c[2][0]) / 2.0;
            let my = (c[0][1] + c[2][1]) / 2.0;
            let (nx, ny) = (px - mx, py - my);
            let nl = (nx * nx + ny * ny).sqrt().max(1.0);
            let (nx, ny) = (nx / nl, ny / nl);
            let depth = module * (1.0 + 2.5 * t); // how far into the quiet zone, from the code
            let tip = [
                px + nx * (4.0 * module - depth).max(0.5 * module),
                py + ny * (4.0 * module - depth).max(0.5 * module),
            ];
            let radius = module * 7.0;
            let skin = [0.85, 0.62, 0.5];
            // Capsule from the tip outwards 400 px.
            for y in 0..H as usize {
                for x in 0..W as usize {
                    let (vx, vy) = (x as f32 - tip[0], y as f32 - tip[1]);
                    let along = (vx * nx + vy * ny).clamp(0.0, 400.0);
                    let (qx, qy) = (tip[0] + nx * along, tip[1] + ny * along);
                    let d = ((x as f32 - qx).powi(2) + (y as f32 - qy).powi(2)).sqrt();
                    if d < radius {
                        let shade = 0.8 + 0.2 * (1.0 - d / radius);
                        frame.px[y * W as usize + x] = skin.map(|s| s * shade);
                    }
                }
            }
            label.params = format!(
                "finger {:.1} modules into the quiet zone",
                (4.0 * module - (4.0 * module - depth).max(0.5 * module)) / module + 0.0
            );
        }
        _ => {}
    }
}
