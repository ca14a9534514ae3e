//! Where the printed thing is and how the camera sees it: a classroom-like background, the
//! pose of the printed thing, a pinhole projection and the compositing of the texture into
//! the frame.
//!
//! Why a module of its own: the projective geometry (homographies, pyramid level choice,
//! supersampling) is the generator's one piece of real maths, and reads best on its own.

use super::picture::{Img, Rng};
use super::printed::Printed;
use super::{H, W};

/// A classroom-ish background: a wall gradient, a window, posters, a desk edge.
pub fn background(rng: &mut Rng) -> Img {
    let base = [
        rng.range(0.5, 0.8),
        rng.range(0.5, 0.75),
        rng.range(0.45, 0.7),
    ];
    let mut img = Img::new(W as usize, H as usize, base);
    for y in 0..H as usize {
        let t = y as f32 / H as f32;
        for x in 0..W as usize {
            let p = &mut img.px[y * W as usize + x];
            for c in p.iter_mut() {
                *c *= 0.85 + 0.25 * (1.0 - t);
            }
        }
    }
    for _ in 0..4 {
        let (x, y) = (rng.range(0.0, W as f32), rng.range(0.0, H as f32 * 0.7));
        let (w, h) = (rng.range(60.0, 260.0), rng.range(60.0, 200.0));
        let c = [
            rng.range(0.1, 0.9),
            rng.range(0.1, 0.9),
            rng.range(0.1, 0.9),
        ];
        img.rect(x, y, x + w, y + h, c);
        // Poster text lines.
        for i in 0..3 {
            let yy = y + 15.0 + i as f32 * 18.0;
            img.rect(
                x + 10.0,
                yy,
                x + w * 0.7,
                yy + 6.0,
                [c[0] * 0.4, c[1] * 0.4, c[2] * 0.4],
            );
        }
    }
    let desk = rng.range(0.75, 0.9) * H as f32;
    img.rect(0.0, desk, W as f32, H as f32, [0.45, 0.32, 0.2]);
    // A person's shoulders (a big dark blob) behind the card.
    img.circle(
        rng.range(400.0, 880.0),
        H as f32 + 150.0,
        420.0,
        [0.2, 0.22, 0.3],
    );
    img
}

/// Solves the homography mapping `from[i]` to `to[i]` (8 unknowns, h33 = 1).
fn homography(from: &[[f32; 2]; 4], to: &[[f32; 2]; 4]) -> [f64; 9] {
    let mut a = [[0f64; 9]; 8];
    for i in 0..4 {
        let (x, y) = (from[i][0] as f64, from[i][1] as f64);
        let (u, v) = (to[i][0] as f64, to[i][1] as f64);
        a[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
        a[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
    }
    for c in 0..8 {
        let p = (c..8)
            .max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))
            .expect("rows");
        a.swap(c, p);
        for r in 0..8 {
            if r != c {
                let f = a[r][c] / a[c][c];
                for k in c..9 {
                    a[r][k] -= f * a[c][k];
                }
            }
        }
    }
    let mut h = [0f64; 9];
    for i in 0..8 {
        h[i] = a[i][8] / a[i][i];
    }
    h[8] = 1.0;
    h
}

fn apply(h: &[f64; 9], x: f32, y: f32) -> [f32; 2] {
    let (x, y) = (x as f64, y as f64);
    let d = h[6] * x + h[7] * y + h[8];
    [
        ((h[0] * x + h[1] * y + h[2]) / d) as f32,
        ((h[3] * x + h[4] * y + h[5]) / d) as f32,
    ]
}

/// Pose of the printed thing: where its QR code's centre lands, how wide the code is (pixels,
/// facing the camera), and yaw/pitch tilt and roll in degrees.
pub struct Pose {
    pub cx: f32,
    pub cy: f32,
    pub qr_px: f32,
    pub yaw: f32,
    pub pitch: f32,
    pub roll: f32,
}

/// Projects the texture rectangle through a pinhole camera; returns the frame quad of the
/// texture corners.
fn project(p: &Printed, pose: &Pose) -> [[f32; 2]; 4] {
    let tex = &p.levels[0];
    let qr_w = p.qr[1][0] - p.qr[0][0];
    let qc = [
        (p.qr[0][0] + p.qr[2][0]) / 2.0,
        (p.qr[0][1] + p.qr[2][1]) / 2.0,
    ];
    let f = 1000.0f32;
    let z0 = f * qr_w / pose.qr_px; // distance giving qr_px when facing the camera
    let (yaw, pitch, roll) = (
        pose.yaw.to_radians(),
        pose.pitch.to_radians(),
        pose.roll.to_radians(),
    );
    let corners = [
        [0.0, 0.0],
        [tex.w as f32, 0.0],
        [tex.w as f32, tex.h as f32],
        [0.0, tex.h as f32],
    ];
    corners.map(|[u, v]| {
        let (x, y) = (u - qc[0], v - qc[1]);
        // roll (in plane), then pitch (around x), then yaw (around y)
        let (x, y) = (
            x * roll.cos() - y * roll.sin(),
            x * roll.sin() + y * roll.cos(),
        );
        let (y, z) = (y * pitch.cos(), y * pitch.sin());
        let (x, z) = (
            x * yaw.cos() + z * yaw.sin(),
            -x * yaw.sin() + z * yaw.cos(),
        );
        let zz = z0 + z;
        [pose.cx + f * x / zz, pose.cy + f * y / zz]
    })
}

/// Draws the printed thing into the frame; returns the QR code's frame corners.
pub fn composite(frame: &mut Img, p: &Printed, pose: &Pose) -> [[f32; 2]; 4] {
    let quad = project(p, pose);
    let tex0 = &p.levels[0];
    let corners0 = [
        [0.0, 0.0],
        [tex0.w as f32, 0.0],
        [tex0.w as f32, tex0.h as f32],
        [0.0, tex0.h as f32],
    ];
    let to_frame = homography(&corners0, &quad);
    let to_tex = homography(&quad, &corners0);
    // Texture pixels per frame pixel → pyramid level.
    let qr_frame = p.qr.map(|[x, y]| apply(&to_frame, x, y));
    let span = ((qr_frame[1][0] - qr_frame[0][0]).powi(2)
        + (qr_frame[1][1] - qr_frame[0][1]).powi(2))
    .sqrt()
    .max(1.0);
    let ratio = (p.qr[1][0] - p.qr[0][0]) / span;
    let level = (ratio.max(1.0).log2().floor() as usize).min(p.levels.len() - 1);
    let tex = &p.levels[level];
    let s = (1u32 << level) as f32;
    let xs = quad.iter().map(|q| q[0]);
    let ys = quad.iter().map(|q| q[1]);
    let x0 = xs.clone().fold(f32::MAX, f32::min).max(0.0) as usize;
    let x1 = (xs.fold(f32::MIN, f32::max).max(0.0) as usize + 1).min(frame.w);
    let y0 = ys.clone().fold(f32::MAX, f32::min).max(0.0) as usize;
    let y1 = (ys.fold(f32::MIN, f32::max).max(0.0) as usize + 1).min(frame.h);
    for y in y0..y1 {
        for x in x0..x1 {
            // 2×2 supersampling for clean edges.
            let mut acc = [0.0f32; 3];
            let mut hits = 0;
            for (dx, dy) in [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)] {
                let [u, v] = apply(&to_tex, x as f32 + dx, y as f32 + dy);
                if let Some(c) = tex.sample(u / s - 0.5, v / s - 0.5) {
                    for k in 0..3 {
                        acc[k] += c[k];
                    }
                    hits += 1;
                }
            }
            if hits > 0 {
                let bg = frame.px[y * frame.w + x];
                let a = hits as f32 / 4.0;
                for k in 0..3 {
                    frame.px[y * frame.w + x][k] = acc[k] / hits as f32 * a + bg[k] * (1.0 - a);
                }
            }
        }
    }
    qr_frame
}
