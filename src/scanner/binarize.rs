//! Binarisation: which pixels are dark modules.
//!
//! rqrr's own preparation uses a running row average, which fails under uneven light, glare and
//! blur. These thresholds decide per neighbourhood instead:
//! - [`hybrid`]: zxing's "hybrid" binariser — 8×8 blocks, each compared to the mean of its 5×5
//!   block neighbourhood, flat blocks treated as background;
//! - [`local_mean`]: a box-mean threshold from an integral image with a chosen window and
//!   bias, used as a second opinion with a different window.

use super::gray::Gray;

const BLOCK: usize = 8;
const MIN_DYNAMIC_RANGE: u32 = 24;

/// Hybrid (block-local) threshold; returns one bool per pixel, `true` = dark.
pub fn hybrid(img: &Gray) -> Vec<bool> {
    let (w, h) = (img.w, img.h);
    if w < BLOCK * 5 || h < BLOCK * 5 {
        return local_mean(img, (w.min(h) / 4).max(3), 0);
    }
    let bw = w.div_ceil(BLOCK);
    let bh = h.div_ceil(BLOCK);
    let mut black = vec![0u32; bw * bh];
    for by in 0..bh {
        let y0 = (by * BLOCK).min(h - BLOCK);
        for bx in 0..bw {
            let x0 = (bx * BLOCK).min(w - BLOCK);
            let mut sum = 0u32;
            let mut mn = 255u32;
            let mut mx = 0u32;
            for y in y0..y0 + BLOCK {
                for &v in &img.px[y * w + x0..y * w + x0 + BLOCK] {
                    let v = v as u32;
                    sum += v;
                    mn = mn.min(v);
                    mx = mx.max(v);
                }
            }
            let mut avg = sum / (BLOCK * BLOCK) as u32;
            if mx - mn <= MIN_DYNAMIC_RANGE {
                // A flat block: assume background (light) unless its neighbours say otherwise.
                avg = mn / 2;
                if by > 0 && bx > 0 {
                    let nb = (black[(by - 1) * bw + bx]
                        + 2 * black[by * bw + bx - 1]
                        + black[(by - 1) * bw + bx - 1])
                        / 4;
                    if mn < nb {
                        avg = nb;
                    }
                }
            }
            black[by * bw + bx] = avg;
        }
    }
    let mut out = vec![false; w * h];
    for by in 0..bh {
        let y0 = (by * BLOCK).min(h - BLOCK);
        let cy = by.clamp(2, bh.saturating_sub(3).max(2));
        for bx in 0..bw {
            let x0 = (bx * BLOCK).min(w - BLOCK);
            let cx = bx.clamp(2, bw.saturating_sub(3).max(2));
            let mut s = 0u32;
            let mut n = 0u32;
            for yy in cy.saturating_sub(2)..(cy + 3).min(bh) {
                for xx in cx.saturating_sub(2)..(cx + 3).min(bw) {
                    s += black[yy * bw + xx];
                    n += 1;
                }
            }
            let t = s / n.max(1);
            for y in y0..y0 + BLOCK {
                let row = &img.px[y * w + x0..y * w + x0 + BLOCK];
                let o = &mut out[y * w + x0..y * w + x0 + BLOCK];
                for (d, &v) in o.iter_mut().zip(row) {
                    *d = (v as u32) <= t;
                }
            }
        }
    }
    out
}

/// Box-mean threshold over a `(2r+1)²` window: dark when `v < mean - bias`.
pub fn local_mean(img: &Gray, r: usize, bias: i32) -> Vec<bool> {
    let (w, h) = (img.w, img.h);
    let iw = w + 1;
    let mut integral = vec![0u32; iw * (h + 1)];
    for y in 0..h {
        let mut row = 0u32;
        for x in 0..w {
            row += img.px[y * w + x] as u32;
            integral[(y + 1) * iw + x + 1] = integral[y * iw + x + 1] + row;
        }
    }
    let mut out = vec![false; w * h];
    for y in 0..h {
        let y0 = y.saturating_sub(r);
        let y1 = (y + r + 1).min(h);
        for x in 0..w {
            let x0 = x.saturating_sub(r);
            let x1 = (x + r + 1).min(w);
            let s = integral[y1 * iw + x1] + integral[y0 * iw + x0]
                - integral[y0 * iw + x1]
                - integral[y1 * iw + x0];
            let n = ((y1 - y0) * (x1 - x0)) as i32;
            let v = img.px[y * w + x] as i32;
            out[y * w + x] = v * n < (s as i32) - bias * n;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dark squares on a background whose brightness falls from 250 to 20 across the image:
    /// no global threshold separates them, the local ones do.
    fn uneven() -> (Gray, Vec<bool>) {
        let (w, h) = (160, 80);
        let mut px = Vec::with_capacity(w * h);
        let mut truth = Vec::with_capacity(w * h);
        for y in 0..h {
            for x in 0..w {
                let light = 250.0 - 230.0 * x as f32 / w as f32;
                let dark = (x / 10 + y / 10) % 2 == 0;
                px.push(if dark {
                    (light * 0.3) as u8
                } else {
                    light as u8
                });
                truth.push(dark);
            }
        }
        (Gray::new(w, h, px), truth)
    }

    fn agreement(a: &[bool], b: &[bool]) -> f32 {
        a.iter().zip(b).filter(|(x, y)| x == y).count() as f32 / a.len() as f32
    }

    #[test]
    fn local_thresholds_follow_uneven_light() {
        let (img, truth) = uneven();
        let best_global = (0..=255u8)
            .step_by(5)
            .map(|t| {
                let g: Vec<bool> = img.px.iter().map(|&v| v < t).collect();
                agreement(&g, &truth)
            })
            .fold(0.0f32, f32::max);
        assert!(best_global < 0.9, "{best_global}");
        assert!(agreement(&hybrid(&img), &truth) > 0.97);
        assert!(agreement(&local_mean(&img, 12, 0), &truth) > 0.9);
    }

    #[test]
    fn tiny_and_flat_images_do_not_fail() {
        assert_eq!(hybrid(&Gray::new(3, 3, vec![9; 9])).len(), 9);
        assert!(
            hybrid(&Gray::new(64, 64, vec![200; 64 * 64]))
                .iter()
                .all(|d| !d)
        );
    }
}
