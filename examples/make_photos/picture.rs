//! Float RGB pictures for the photo generator: a deterministic random source, the picture
//! type with the few drawing operations the scenes need, the camera blurs, and the conversion
//! to 8-bit RGB.
//!
//! Why a module of its own: these are the generator's pixel tools, shared by the printed
//! things, the scene and the distortions; keeping them apart leaves `main` with only what
//! each frame shows.

use image::{Rgb, RgbImage};

/// splitmix64: small, deterministic, good enough for test images.
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn f(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
    pub fn range(&mut self, a: f32, b: f32) -> f32 {
        a + (b - a) * self.f()
    }
    pub fn gauss(&mut self) -> f32 {
        (0..4).map(|_| self.f()).sum::<f32>() - 2.0
    }
}

/// A float RGB image, 0..1.
#[derive(Clone)]
pub struct Img {
    pub w: usize,
    pub h: usize,
    pub px: Vec<[f32; 3]>,
}

impl Img {
    pub fn new(w: usize, h: usize, c: [f32; 3]) -> Img {
        Img {
            w,
            h,
            px: vec![c; w * h],
        }
    }
    pub fn rect(&mut self, x0: f32, y0: f32, x1: f32, y1: f32, c: [f32; 3]) {
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
    pub fn circle(&mut self, cx: f32, cy: f32, r: f32, c: [f32; 3]) {
        for y in (cy - r).max(0.0) as usize..((cy + r) as usize).min(self.h) {
            for x in (cx - r).max(0.0) as usize..((cx + r) as usize).min(self.w) {
                if (x as f32 - cx).powi(2) + (y as f32 - cy).powi(2) <= r * r {
                    self.px[y * self.w + x] = c;
                }
            }
        }
    }
    pub fn half(&self) -> Img {
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
    pub fn sample(&self, u: f32, v: f32) -> Option<[f32; 3]> {
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

pub fn motion_blur(img: &Img, len: f32, angle: f32) -> Img {
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

pub fn gaussian_blur(img: &Img, sigma: f32) -> Img {
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

pub fn to_rgb(img: &Img) -> RgbImage {
    RgbImage::from_fn(img.w as u32, img.h as u32, |x, y| {
        let p = img.px[y as usize * img.w + x as usize];
        Rgb(p.map(|v| (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8))
    })
}
