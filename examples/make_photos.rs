//! Renders `sample-cards/photos/`: realistic 1280×720 camera frames of QuickCards (signed with
//! the demo key), foreign QR codes and empty scenes, through the distortions children and cheap
//! cameras produce, plus `manifest.json` with the expected result of every frame.
//!
//! Deterministic (a fixed-seed PRNG), so the set can be regenerated and reviewed:
//! `scripts/make-photos.sh` (= `cargo run --example make_photos -- sample-cards/photos`).

// Pixel and matrix arithmetic reads more clearly with explicit channel/row indices.
#![allow(clippy::needless_range_loop)]

use std::path::{Path, PathBuf};

use image::{Rgb, RgbImage};
use quickcard::{Claims, Flags, IssuerKey, Role};
use serde::Serialize;

const W: u32 = 1280;
const H: u32 = 720;
const PER_CATEGORY: usize = 8;

/// splitmix64: small, deterministic, good enough for test images.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn f(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
    fn range(&mut self, a: f32, b: f32) -> f32 {
        a + (b - a) * self.f()
    }
    fn gauss(&mut self) -> f32 {
        (0..4).map(|_| self.f()).sum::<f32>() - 2.0
    }
}

/// A float RGB image, 0..1.
#[derive(Clone)]
struct Img {
    w: usize,
    h: usize,
    px: Vec<[f32; 3]>,
}

impl Img {
    fn new(w: usize, h: usize, c: [f32; 3]) -> Img {
        Img {
            w,
            h,
            px: vec![c; w * h],
        }
    }
    fn rect(&mut self, x0: f32, y0: f32, x1: f32, y1: f32, c: [f32; 3]) {
        let (x0, y0) = (x0.max(0.0) as usize, y0.max(0.0) as usize);
        let (x1, y1) = (
            (x1.max(0.0) as usize).min(self.w),
            (y1.max(0.0) as usize).min(self.h),
        );
        for y in y0..y1 {
            for x in x0..x1 {
                self.px[y * self.w + x] = c;
            }
        }
    }
    fn circle(&mut self, cx: f32, cy: f32, r: f32, c: [f32; 3]) {
        for y in (cy - r).max(0.0) as usize..((cy + r) as usize).min(self.h) {
            for x in (cx - r).max(0.0) as usize..((cx + r) as usize).min(self.w) {
                if (x as f32 - cx).powi(2) + (y as f32 - cy).powi(2) <= r * r {
                    self.px[y * self.w + x] = c;
                }
            }
        }
    }
    fn half(&self) -> Img {
        let (w, h) = (self.w / 2, self.h / 2);
        let mut px = Vec::with_capacity(w * h);
        for y in 0..h {
            for x in 0..w {
                let mut s = [0.0; 3];
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let p = self.px[(2 * y + dy) * self.w + 2 * x + dx];
                    for c in 0..3 {
                        s[c] += p[c] / 4.0;
                    }
                }
                px.push(s);
            }
        }
        Img { w, h, px }
    }
    fn sample(&self, u: f32, v: f32) -> Option<[f32; 3]> {
        if u < 0.0 || v < 0.0 || u > self.w as f32 - 1.0 || v > self.h as f32 - 1.0 {
            return None;
        }
        let (x0, y0) = (u.floor() as usize, v.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.w - 1), (y0 + 1).min(self.h - 1));
        let (fx, fy) = (u - x0 as f32, v - y0 as f32);
        let p = |x: usize, y: usize| self.px[y * self.w + x];
        let mut out = [0.0; 3];
        for c in 0..3 {
            out[c] = p(x0, y0)[c] * (1.0 - fx) * (1.0 - fy)
                + p(x1, y0)[c] * fx * (1.0 - fy)
                + p(x0, y1)[c] * (1.0 - fx) * fy
                + p(x1, y1)[c] * fx * fy;
        }
        Some(out)
    }
}

/// A printed thing with a QR code on it, as a texture pyramid, and where the code's corners are.
struct Printed {
    levels: Vec<Img>,
    /// QR code corners (outer edge of the modules) in level-0 texture pixels: TL, TR, BR, BL.
    qr: [[f32; 2]; 4],
}

fn qr_modules(text: &str) -> (usize, Vec<bool>) {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .expect("fits a QR code");
    let n = code.width();
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    (n, dark)
}

fn draw_qr(img: &mut Img, x0: f32, y0: f32, module: f32, n: usize, dark: &[bool]) {
    for y in 0..n {
        for x in 0..n {
            if dark[y * n + x] {
                let (px, py) = (x0 + x as f32 * module, y0 + y as f32 * module);
                img.rect(px, py, px + module, py + module, [0.08, 0.08, 0.1]);
            }
        }
    }
}

fn pyramid(img: Img) -> Vec<Img> {
    let mut levels = vec![img];
    while levels.last().is_some_and(|l| l.w > 64) {
        let next = levels.last().map(Img::half).expect("non-empty");
        levels.push(next);
    }
    levels
}

/// A QuickCard: white ID card with the QR code left, a coloured band, an avatar and name bars.
fn card(text: &str, hue: [f32; 3]) -> Printed {
    let (n, dark) = qr_modules(text);
    let m = 8.0;
    let (cw, ch) = (1000usize, 630usize);
    let mut img = Img::new(cw, ch, [0.96, 0.96, 0.93]);
    img.rect(0.0, 0.0, cw as f32, 90.0, hue);
    let qx = 48.0;
    let qy = 90.0 + (ch as f32 - 90.0 - n as f32 * m) / 2.0;
    draw_qr(&mut img, qx, qy, m, n, &dark);
    let side = n as f32 * m;
    img.circle(
        700.0,
        250.0,
        90.0,
        [hue[0] * 0.8, hue[1] * 0.8, hue[2] * 0.8],
    );
    img.rect(560.0, 380.0, 930.0, 420.0, [0.2, 0.2, 0.25]);
    img.rect(560.0, 450.0, 860.0, 475.0, [0.5, 0.5, 0.55]);
    img.rect(560.0, 500.0, 800.0, 525.0, [0.5, 0.5, 0.55]);
    let qr = [
        [qx, qy],
        [qx + side, qy],
        [qx + side, qy + side],
        [qx, qy + side],
    ];
    // Transparent-ish rounded corners are not needed: the card edge is a straight border.
    Printed {
        levels: pyramid(img),
        qr,
    }
}

/// A book page with a URL QR code and some text lines.
fn book(url: &str) -> Printed {
    let (n, dark) = qr_modules(url);
    let m = 10.0;
    let (cw, ch) = (800usize, 1000usize);
    let mut img = Img::new(cw, ch, [0.93, 0.91, 0.85]);
    for i in 0..12 {
        let y = 60.0 + i as f32 * 40.0;
        img.rect(
            60.0,
            y,
            740.0 - (i % 3) as f32 * 80.0,
            y + 14.0,
            [0.3, 0.3, 0.3],
        );
    }
    let side = n as f32 * m;
    let (qx, qy) = ((cw as f32 - side) / 2.0, 600.0);
    draw_qr(&mut img, qx, qy, m, n, &dark);
    let qr = [
        [qx, qy],
        [qx + side, qy],
        [qx + side, qy + side],
        [qx, qy + side],
    ];
    Printed {
        levels: pyramid(img),
        qr,
    }
}

/// A classroom-ish background: a wall gradient, a window, posters, a desk edge.
fn background(rng: &mut Rng) -> Img {
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
struct Pose {
    cx: f32,
    cy: f32,
    qr_px: f32,
    yaw: f32,
    pitch: f32,
    roll: f32,
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
fn composite(frame: &mut Img, p: &Printed, pose: &Pose) -> [[f32; 2]; 4] {
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

fn motion_blur(img: &Img, len: f32, angle: f32) -> Img {
    let n = (len.ceil() as usize).max(2);
    let (dx, dy) = (angle.to_radians().cos(), angle.to_radians().sin());
    let mut out = img.clone();
    for y in 0..img.h {
        for x in 0..img.w {
            let mut acc = [0.0; 3];
            for i in 0..n {
                let t = (i as f32 / (n - 1) as f32 - 0.5) * len;
                let sx = (x as f32 + dx * t).round().clamp(0.0, img.w as f32 - 1.0) as usize;
                let sy = (y as f32 + dy * t).round().clamp(0.0, img.h as f32 - 1.0) as usize;
                let p = img.px[sy * img.w + sx];
                for k in 0..3 {
                    acc[k] += p[k];
                }
            }
            out.px[y * img.w + x] = acc.map(|v| v / n as f32);
        }
    }
    out
}

fn gaussian_blur(img: &Img, sigma: f32) -> Img {
    let r = (sigma * 2.5).ceil() as i32;
    let k: Vec<f32> = (-r..=r)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let ks: f32 = k.iter().sum();
    let pass = |src: &Img, horiz: bool| {
        let mut out = src.clone();
        for y in 0..src.h as i32 {
            for x in 0..src.w as i32 {
                let mut acc = [0.0; 3];
                for (i, kv) in k.iter().enumerate() {
                    let o = i as i32 - r;
                    let (sx, sy) = if horiz {
                        ((x + o).clamp(0, src.w as i32 - 1), y)
                    } else {
                        (x, (y + o).clamp(0, src.h as i32 - 1))
                    };
                    let p = src.px[sy as usize * src.w + sx as usize];
                    for c in 0..3 {
                        acc[c] += p[c] * kv;
                    }
                }
                out.px[y as usize * src.w + x as usize] = acc.map(|v| v / ks);
            }
        }
        out
    };
    pass(&pass(img, true), false)
}

fn to_rgb(img: &Img) -> RgbImage {
    RgbImage::from_fn(img.w as u32, img.h as u32, |x, y| {
        let p = img.px[y as usize * img.w + x as usize];
        Rgb(p.map(|v| (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8))
    })
}

#[derive(Serialize)]
struct Entry {
    file: String,
    category: &'static str,
    /// "card" (a QuickCard signed by the demo key), "foreign" (another QR code) or "none".
    expect: &'static str,
    /// The code's text when there is one.
    text: Option<String>,
    /// Expected roster id for cards.
    subject: Option<String>,
    /// QR code corners in the frame (TL, TR, BR, BL as printed), when there is one.
    corners: Option<[[f32; 2]; 4]>,
    /// QR code width in pixels if it faced the camera.
    qr_px: Option<f32>,
    params: String,
}

const CATEGORIES: [&str; 15] = [
    "baseline",
    "perspective",
    "rotation",
    "tiny",
    "large",
    "motion-blur",
    "focus-blur",
    "noise",
    "low-light",
    "uneven-light",
    "glare",
    "jpeg",
    "finger",
    "foreign",
    "no-code",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "sample-cards/photos".into()),
    );
    std::fs::create_dir_all(&out)?;
    let key = IssuerKey::demo();
    let issued = quickcard::time::parse("2026-08-01")?;
    let expires = quickcard::time::parse("2031-07-31")?;
    // Real people of the demo roster (`sample-cards/roster.csv`), so the kiosk demo can replay
    // these frames against the embedded portal: three students (one with an upper-case UUID
    // roster id, which the card normalises) and a teacher.
    let people: [(&str, Role, [f32; 3]); 4] = [
        ("stu-1001", Role::Student, [0.2, 0.5, 0.85]),
        (
            "3F2504E0-4F89-41D3-9A0C-0305E82C3301",
            Role::Student,
            [0.9, 0.55, 0.15],
        ),
        ("stu-2005", Role::Student, [0.3, 0.7, 0.35]),
        ("tea-rivera", Role::Teacher, [0.6, 0.3, 0.7]),
    ];
    let mut cards = Vec::new();
    for (id, role, hue) in people {
        let claims = Claims::new(
            id,
            role,
            "sch-lincoln-elementary",
            issued,
            expires,
            Flags::default(),
        )?;
        let text = quickcard::sign(&claims, &key);
        let subject = claims.subject.to_string();
        cards.push((subject, text.clone(), card(&text, hue)));
    }
    let urls = [
        "https://library.example.org/books/9780140328721",
        "https://www.example.com/science-fair?id=42",
    ];
    let books: Vec<(String, Printed)> = urls.iter().map(|u| (u.to_string(), book(u))).collect();

    let mut rng = Rng(0x5eed_c0de_2026);
    let mut manifest = Vec::new();
    for category in CATEGORIES {
        for i in 0..PER_CATEGORY {
            let mut frame = background(&mut rng);
            let t = i as f32 / (PER_CATEGORY - 1) as f32; // severity 0..1 within the category
            let mut pose = Pose {
                cx: rng.range(480.0, 800.0),
                cy: rng.range(300.0, 420.0),
                qr_px: rng.range(200.0, 300.0),
                yaw: rng.range(-12.0, 12.0),
                pitch: rng.range(-12.0, 12.0),
                roll: rng.range(-10.0, 10.0),
            };
            let mut params = String::new();
            match category {
                "perspective" => {
                    let tilt = 15.0 + 30.0 * t;
                    let a = rng.range(0.0, std::f32::consts::TAU);
                    pose.yaw = tilt * a.cos();
                    pose.pitch = tilt * a.sin();
                    params = format!("tilt {tilt:.0}°");
                }
                "rotation" => {
                    pose.roll = 20.0 + 320.0 * t + rng.range(-10.0, 10.0);
                    params = format!("roll {:.0}°", pose.roll);
                }
                "tiny" => {
                    pose.qr_px = 150.0 - 90.0 * t;
                    params = format!("qr {:.0}px", pose.qr_px);
                }
                "large" => {
                    pose.qr_px = 380.0 + 240.0 * t;
                    pose.cx = rng.range(600.0, 680.0) + pose.qr_px * 0.3;
                    pose.cy = 360.0;
                    params = format!("qr {:.0}px", pose.qr_px);
                }
                _ => {}
            }
            let (expect, text, subject, printed) = match category {
                "foreign" => {
                    let (u, b) = &books[i % books.len()];
                    pose.qr_px = rng.range(160.0, 280.0);
                    ("foreign", Some(u.clone()), None, Some(b))
                }
                "no-code" => ("none", None, None, None),
                _ => {
                    let (id, text, c) = &cards[i % cards.len()];
                    ("card", Some(text.clone()), Some(id.clone()), Some(c))
                }
            };
            let corners = printed.map(|p| composite(&mut frame, p, &pose));
            if category == "no-code" && i % 2 == 1 {
                // A blank card in view: card-shaped but no code.
                let mut blank = Img::new(1000, 630, [0.96, 0.96, 0.93]);
                blank.rect(0.0, 0.0, 1000.0, 90.0, [0.2, 0.5, 0.85]);
                let p = Printed {
                    levels: pyramid(blank),
                    qr: [[48.0, 150.0], [376.0, 150.0], [376.0, 478.0], [48.0, 478.0]],
                };
                composite(&mut frame, &p, &pose);
                params = "blank card".into();
            }
            let mut quality = quality_of(category);
            match category {
                "motion-blur" => {
                    let len = 3.0 + 15.0 * t;
                    let ang = rng.range(0.0, 180.0);
                    frame = motion_blur(&frame, len, ang);
                    params = format!("motion {len:.1}px at {ang:.0}°");
                }
                "focus-blur" => {
                    let sigma = 1.0 + 3.0 * t;
                    frame = gaussian_blur(&frame, sigma);
                    params = format!("gaussian sigma {sigma:.1}px");
                }
                "noise" => {
                    let sd = 0.04 + 0.12 * t;
                    for p in &mut frame.px {
                        for c in p.iter_mut() {
                            *c += rng.gauss() * sd;
                        }
                    }
                    params = format!("noise sd {:.0}/255", sd * 255.0);
                }
                "low-light" => {
                    let gain = 0.35 - 0.27 * t;
                    let sd = 0.015 + 0.02 * t;
                    for p in &mut frame.px {
                        for c in p.iter_mut() {
                            *c = *c * gain + rng.gauss() * sd + 0.02;
                        }
                    }
                    params = format!("gain {gain:.2}, noise sd {:.0}/255", sd * 255.0);
                }
                "uneven-light" => {
                    let strength = 0.4 + 0.5 * t;
                    let (lx, ly) = (rng.range(0.0, W as f32), rng.range(0.0, H as f32));
                    let ang = rng.range(0.0, std::f32::consts::TAU);
                    for y in 0..H as usize {
                        for x in 0..W as usize {
                            let d = ((x as f32 - lx) * ang.cos() + (y as f32 - ly) * ang.sin())
                                / W as f32;
                            let g = (1.0 - strength * (d + 0.5).clamp(0.0, 1.0)).max(0.08);
                            let p = &mut frame.px[y * W as usize + x];
                            for c in p.iter_mut() {
                                *c *= g;
                            }
                        }
                    }
                    params = format!("light falls {:.0} %", strength * 100.0);
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
                    params = format!(
                        "glare radius {:.0} % of code, peak {peak:.1}",
                        r / side * 100.0
                    );
                }
                "jpeg" => {
                    quality = (40.0 - 32.0 * t) as u8;
                    params = format!("jpeg quality {quality}");
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
                    params = format!(
                        "finger {:.1} modules into the quiet zone",
                        (4.0 * module - (4.0 * module - depth).max(0.5 * module)) / module + 0.0
                    );
                }
                _ => {}
            }
            // Every camera adds a little noise.
            for p in &mut frame.px {
                for c in p.iter_mut() {
                    *c += rng.gauss() * 0.004;
                }
            }
            let name = format!("{category}-{i:02}.jpg");
            let path = out.join(&name);
            if category == "jpeg" {
                // The `jpeg` category tests the codec's artefacts themselves: keep it on the
                // plain baseline encoder (4:4:4, standard tables) at quality 40 → 8.
                save_jpeg_plain(&to_rgb(&frame), &path, quality)?;
            } else {
                save_jpeg(&to_rgb(&frame), &path, quality)?;
            }
            manifest.push(Entry {
                file: name,
                category,
                expect,
                text,
                subject,
                corners,
                qr_px: printed.map(|_| pose.qr_px),
                params,
            });
        }
    }
    std::fs::write(
        out.join("manifest.json"),
        serde_json::to_string_pretty(&manifest)? + "\n",
    )?;
    println!("wrote {} frames to {}", manifest.len(), out.display());
    Ok(())
}

/// JPEG quality per category: 70 as a webcam's MJPEG stream, 40 for sensor noise (what JPEG
/// compresses worst); the `jpeg` category sets its own, 40 → 8.
fn quality_of(category: &str) -> u8 {
    match category {
        "noise" => 40,
        _ => 70,
    }
}

/// Writes a frame the way a webcam's MJPEG stream does (4:2:0 chroma) with mozjpeg's defaults
/// (progressive, optimised Huffman tables, trellis quantisation): a much smaller file than the
/// plain encoder's at the same quality.
fn save_jpeg(img: &RgbImage, path: &Path, quality: u8) -> Result<(), Box<dyn std::error::Error>> {
    let mut comp = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
    comp.set_size(img.width() as usize, img.height() as usize);
    comp.set_quality(f32::from(quality));
    comp.set_chroma_sampling_pixel_sizes((2, 2), (2, 2));
    let mut started = comp.start_compress(Vec::new())?;
    started.write_scanlines(img.as_raw())?;
    std::fs::write(path, started.finish()?)?;
    Ok(())
}

/// The plain baseline JPEG (4:4:4, standard Huffman tables) of the `image` crate.
fn save_jpeg_plain(
    img: &RgbImage,
    path: &Path,
    quality: u8,
) -> Result<(), Box<dyn std::error::Error>> {
    let f = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(f, quality);
    enc.encode_image(img)?;
    Ok(())
}
