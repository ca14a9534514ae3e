//! Grayscale working images: downscaling, cropping, contrast normalisation and statistics.
//!
//! The scanner never decodes more pixels than it needs: a half-size copy of a 720p frame is
//! enough for a card held at a normal distance, a crop around the last code is enough while the
//! card stays put, and only small codes need the full frame.

use super::frame::Corners;

/// An 8-bit grayscale image.
#[derive(Debug, Clone)]
pub struct Gray {
    pub w: usize,
    pub h: usize,
    pub px: Vec<u8>,
}

/// Rectangle in pixels of some image: x0..x1, y0..y1 (exclusive ends).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x0: usize,
    pub y0: usize,
    pub x1: usize,
    pub y1: usize,
}

impl Rect {
    pub fn w(&self) -> usize {
        self.x1 - self.x0
    }
    pub fn h(&self) -> usize {
        self.y1 - self.y0
    }
    /// The part inside a `w`×`h` image (possibly empty).
    pub fn clip(&self, w: usize, h: usize) -> Rect {
        let x0 = self.x0.min(w);
        let y0 = self.y0.min(h);
        Rect {
            x0,
            y0,
            x1: self.x1.clamp(x0, w),
            y1: self.y1.clamp(y0, h),
        }
    }
}

/// Luma statistics of an image or region.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    pub mean: f32,
    /// 2nd and 98th percentile.
    pub lo: u8,
    pub hi: u8,
    /// Fraction of pixels at 250 or more.
    pub saturated: f32,
}

impl Gray {
    pub fn new(w: usize, h: usize, px: Vec<u8>) -> Gray {
        debug_assert_eq!(px.len(), w * h);
        Gray { w, h, px }
    }

    /// Box-filter downscale by an integer factor (1 = copy).
    pub fn downscale(&self, f: usize) -> Gray {
        let f = f.max(1);
        if f == 1 {
            return self.clone();
        }
        let (w, h) = (self.w / f, self.h / f);
        let mut px = vec![0u8; w * h];
        let n = (f * f) as u32;
        if f == 2 {
            for y in 0..h {
                let r0 = &self.px[(2 * y) * self.w..];
                let r1 = &self.px[(2 * y + 1) * self.w..];
                let out = &mut px[y * w..(y + 1) * w];
                for (x, o) in out.iter_mut().enumerate() {
                    let s = r0[2 * x] as u32
                        + r0[2 * x + 1] as u32
                        + r1[2 * x] as u32
                        + r1[2 * x + 1] as u32;
                    *o = ((s + 2) >> 2) as u8;
                }
            }
            return Gray { w, h, px };
        }
        for y in 0..h {
            for x in 0..w {
                let mut s = 0u32;
                for dy in 0..f {
                    let row = &self.px[(y * f + dy) * self.w + x * f..][..f];
                    s += row.iter().map(|&v| v as u32).sum::<u32>();
                }
                px[y * w + x] = ((s + n / 2) / n) as u8;
            }
        }
        Gray { w, h, px }
    }

    /// A copy of a region (clipped to the image), downscaled by `f`.
    pub fn crop(&self, r: Rect, f: usize) -> Gray {
        let f = f.max(1);
        let r = r.clip(self.w, self.h);
        let (w, h) = (r.w() / f, r.h() / f);
        let mut px = Vec::with_capacity(w * h);
        if f == 1 {
            for y in r.y0..r.y0 + h {
                px.extend_from_slice(&self.px[y * self.w + r.x0..][..w]);
            }
            return Gray { w, h, px };
        }
        let n = (f * f) as u32;
        for y in 0..h {
            for x in 0..w {
                let mut s = 0u32;
                for dy in 0..f {
                    let row = &self.px[(r.y0 + y * f + dy) * self.w + r.x0 + x * f..][..f];
                    s += row.iter().map(|&v| v as u32).sum::<u32>();
                }
                px.push(((s + n / 2) / n) as u8);
            }
        }
        Gray { w, h, px }
    }

    /// 3×3 box smoothing: takes the edge off sensor noise that contrast stretching of a dim
    /// picture would otherwise turn into speckles (which also make rqrr slow).
    pub fn smooth3(&self) -> Gray {
        let (w, h) = (self.w, self.h);
        if w < 3 || h < 3 {
            return self.clone();
        }
        let mut px = self.px.clone();
        for y in 1..h - 1 {
            for x in 1..w - 1 {
                let mut s = 0u32;
                for yy in y - 1..=y + 1 {
                    let row = &self.px[yy * w + x - 1..yy * w + x + 2];
                    s += row[0] as u32 + row[1] as u32 + row[2] as u32;
                }
                px[y * w + x] = ((s + 4) / 9) as u8;
            }
        }
        Gray { w, h, px }
    }

    /// Bilinear upscale by 2 (for codes whose modules are under ~2.5 pixels).
    pub fn upscale2(&self) -> Gray {
        let (w, h) = (self.w * 2, self.h * 2);
        let mut px = vec![0u8; w * h];
        let at =
            |x: usize, y: usize| self.px[y.min(self.h - 1) * self.w + x.min(self.w - 1)] as u32;
        for y in 0..h {
            // Output pixel centre (y + 0.5) / 2 - 0.5 in source pixels.
            let sy = y.saturating_sub(1) / 2;
            let fy = if y == 0 {
                0
            } else if y % 2 == 1 {
                1
            } else {
                3
            };
            for x in 0..w {
                let sx = x.saturating_sub(1) / 2;
                let fx = if x == 0 {
                    0
                } else if x % 2 == 1 {
                    1
                } else {
                    3
                };
                let v = at(sx, sy) * (4 - fx) * (4 - fy)
                    + at(sx + 1, sy) * fx * (4 - fy)
                    + at(sx, sy + 1) * (4 - fx) * fy
                    + at(sx + 1, sy + 1) * fx * fy;
                px[y * w + x] = ((v + 8) / 16) as u8;
            }
        }
        Gray { w, h, px }
    }

    /// Unsharp masking with a box blur of radius `r`: `v + amount·(v − blur)`. Restores some
    /// edge contrast in slightly blurred codes.
    pub fn sharpen(&mut self, r: usize, amount: f32) {
        let (w, h) = (self.w, self.h);
        let iw = w + 1;
        let mut integral = vec![0u32; iw * (h + 1)];
        for y in 0..h {
            let mut row = 0u32;
            for x in 0..w {
                row += self.px[y * w + x] as u32;
                integral[(y + 1) * iw + x + 1] = integral[y * iw + x + 1] + row;
            }
        }
        let k = (amount * 256.0) as i32;
        for y in 0..h {
            let y0 = y.saturating_sub(r);
            let y1 = (y + r + 1).min(h);
            for x in 0..w {
                let x0 = x.saturating_sub(r);
                let x1 = (x + r + 1).min(w);
                let s = (integral[y1 * iw + x1] + integral[y0 * iw + x0]
                    - integral[y0 * iw + x1]
                    - integral[y1 * iw + x0]) as i32;
                let n = ((y1 - y0) * (x1 - x0)) as i32;
                let v = self.px[y * w + x] as i32;
                let blur = s / n;
                self.px[y * w + x] = (v + ((v - blur) * k) / 256).clamp(0, 255) as u8;
            }
        }
    }

    /// Statistics over a region, sampling every `step`th pixel.
    pub fn stats(&self, r: Rect, step: usize) -> Stats {
        let step = step.max(1);
        let r = r.clip(self.w, self.h);
        let mut hist = [0u32; 256];
        let mut n = 0u32;
        let mut sum = 0u64;
        for y in (r.y0..r.y1).step_by(step) {
            for x in (r.x0..r.x1).step_by(step) {
                let v = self.px[y * self.w + x];
                hist[v as usize] += 1;
                sum += v as u64;
                n += 1;
            }
        }
        if n == 0 {
            return Stats::default();
        }
        let pct = |p: f32| {
            let target = (n as f32 * p) as u32;
            let mut acc = 0;
            for (v, &c) in hist.iter().enumerate() {
                acc += c;
                if acc > target {
                    return v as u8;
                }
            }
            255
        };
        let sat: u32 = hist[250..].iter().sum();
        Stats {
            mean: sum as f32 / n as f32,
            lo: pct(0.02),
            hi: pct(0.98),
            saturated: sat as f32 / n as f32,
        }
    }

    pub fn full(&self) -> Rect {
        Rect {
            x0: 0,
            y0: 0,
            x1: self.w,
            y1: self.h,
        }
    }

    /// Stretches `lo..hi` to `0..255` in place (contrast normalisation for dim or flat frames).
    pub fn stretch(&mut self, lo: u8, hi: u8) {
        if hi <= lo.saturating_add(8) || (lo < 8 && hi > 247) {
            return;
        }
        let span = (hi - lo) as u32;
        let mut lut = [0u8; 256];
        for (v, o) in lut.iter_mut().enumerate() {
            let c = (v as i32 - lo as i32).clamp(0, span as i32) as u32;
            *o = ((c * 255 + span / 2) / span) as u8;
        }
        for p in &mut self.px {
            *p = lut[*p as usize];
        }
    }

    /// How sharp the strongest edges in a region are, relative to its contrast: about 0.5 for
    /// crisp black/white edges, small when blurred. Horizontal and vertical gradients are rated
    /// separately and the weaker wins, so motion blur in one direction counts. Used for the
    /// "hold still" hint.
    pub fn sharpness(&self, r: Rect) -> f32 {
        let r = r.clip(self.w, self.h);
        let st = self.stats(r, 2);
        let contrast = (st.hi as f32 - st.lo as f32).max(1.0);
        let mut gxs = Vec::new();
        let mut gys = Vec::new();
        for y in (r.y0 + 1..r.y1.saturating_sub(1)).step_by(2) {
            for x in (r.x0 + 1..r.x1.saturating_sub(1)).step_by(2) {
                let i = y * self.w + x;
                gxs.push((self.px[i + 1] as i32 - self.px[i - 1] as i32).unsigned_abs());
                gys.push((self.px[i + self.w] as i32 - self.px[i - self.w] as i32).unsigned_abs());
            }
        }
        if gxs.is_empty() {
            return 0.0;
        }
        // The strongest edges say how sharp the picture is: look at the top 2 %.
        let top = |v: &mut Vec<u32>| {
            let k = v.len() - 1 - v.len() / 50;
            *v.select_nth_unstable(k).1
        };
        let g = top(&mut gxs).min(top(&mut gys));
        g as f32 / 2.0 / contrast
    }
}

/// The share of `b` that `a` covers.
pub fn overlap(a: &Rect, b: &Rect) -> f32 {
    let x0 = a.x0.max(b.x0);
    let x1 = a.x1.min(b.x1);
    let y0 = a.y0.max(b.y0);
    let y1 = a.y1.min(b.y1);
    if x1 <= x0 || y1 <= y0 {
        return 0.0;
    }
    let i = ((x1 - x0) * (y1 - y0)) as f32;
    i / ((b.w() * b.h()) as f32).max(1.0)
}

/// Intersection over union of two rectangles.
pub fn iou(a: &Rect, b: &Rect) -> f32 {
    let i = overlap(a, b) * (b.w() * b.h()) as f32;
    let u = (a.w() * a.h() + b.w() * b.h()) as f32 - i;
    if u <= 0.0 { 0.0 } else { i / u }
}

/// The bounding box of some corners, grown by `grow` of its size on each side, inside the frame.
pub fn rect_around(c: &Corners, w: usize, h: usize, grow: f32) -> Rect {
    let xs = c.iter().map(|p| p.x);
    let ys = c.iter().map(|p| p.y);
    let (x0, x1) = xs.fold((f32::MAX, f32::MIN), |(a, b), v| (a.min(v), b.max(v)));
    let (y0, y1) = ys.fold((f32::MAX, f32::MIN), |(a, b), v| (a.min(v), b.max(v)));
    let g = (x1 - x0).max(y1 - y0) * grow;
    Rect {
        x0: (x0 - g).max(0.0) as usize,
        y0: (y0 - g).max(0.0) as usize,
        x1: (x1 + g).max(0.0) as usize,
        y1: (y1 + g).max(0.0) as usize,
    }
    .clip(w, h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downscale_crop_and_upscale_keep_values_and_sizes() {
        let g = Gray::new(4, 2, vec![0, 100, 200, 40, 0, 100, 200, 40]);
        let d = g.downscale(2);
        assert_eq!((d.w, d.h, d.px.clone()), (2, 1, vec![50, 120]));
        let c = g.crop(
            Rect {
                x0: 1,
                y0: 0,
                x1: 9,
                y1: 9,
            },
            1,
        );
        assert_eq!((c.w, c.h), (3, 2), "clipped to the image");
        let u = Gray::new(2, 1, vec![0, 200]).upscale2();
        assert_eq!((u.w, u.h), (4, 2));
        assert_eq!(&u.px[..4], &[0, 50, 150, 200]);
    }

    #[test]
    fn stretch_and_stats_normalise_a_dim_picture() {
        let mut g = Gray::new(100, 1, (0..100).map(|i| 20 + (i % 40) as u8).collect());
        let st = g.stats(g.full(), 1);
        assert!(st.lo <= 21 && st.hi >= 58, "{st:?}");
        g.stretch(st.lo, st.hi);
        let after = g.stats(g.full(), 1);
        assert!(after.lo < 10 && after.hi > 245, "{after:?}");
    }

    #[test]
    fn sharpness_tells_crisp_from_blurred_edges() {
        let both = Gray::new(
            64,
            64,
            (0..64 * 64)
                .map(|i| {
                    if ((i % 64) / 8 + (i / 64) / 8) % 2 == 0 {
                        20
                    } else {
                        230
                    }
                })
                .collect(),
        );
        let mut soft = both.clone();
        for _ in 0..4 {
            soft = soft.smooth3();
        }
        let r = both.full();
        assert!(both.sharpness(r) > 0.4, "{}", both.sharpness(r));
        assert!(soft.sharpness(r) < 0.25, "{}", soft.sharpness(r));
    }
}
