//! One frame's search: the attempts in order, cheapest and likeliest first, until a code is
//! read or the frame's budget is spent.
//!
//! Why a module of its own: [`Scanner`](super::Scanner) keeps what lasts between frames (its
//! settings, the clock, where the last code was); this is what lasts for one frame only, and
//! the order of its looks is the part tuned on the photo set, so it reads best on its own.

use super::ScanStats;
use super::binarize;
use super::clock::Clock;
use super::finder;
use super::frame::{Corners, Point};
use super::gray::{Gray, Rect, iou, rect_around};
use super::grids::{Limits, Pass, read_grids};

/// Evidence that a code is in view although it was not read.
#[derive(Debug, Clone, Copy)]
pub(super) struct Seen {
    pub(super) rect: Rect,
    pub(super) module: f32,
}

/// One frame's search: the attempts in order, cheapest and likeliest first, until a code is
/// read or the budget is spent.
pub(super) struct Run<'a> {
    pub(super) t0: f64,
    pub(super) budget: Option<f64>,
    pub(super) clock: &'a dyn Clock,
    pub(super) full: &'a Gray,
    pub(super) seen: Vec<Seen>,
    /// Regions already tried closely.
    pub(super) tried: Vec<Rect>,
    pub(super) found: Option<(Vec<u8>, Corners, &'static str)>,
    pub(super) stats: &'a mut ScanStats,
}

impl Run<'_> {
    /// Bounds for the next rqrr call. Every call has its work limit. On a real clock with a
    /// budget, the calls after the first two (which always run, as in [`Run::stop`]) also
    /// stop half a budget past the frame's budget. The first two are bounded by their work
    /// limit alone: on a slow machine, or in an unoptimised build, preprocessing alone can
    /// spend the budget, and a deadline there would cut short the very calls that read cards.
    fn limits(&self) -> Limits {
        let deadline = self
            .budget
            .filter(|_| self.stats.attempts >= 2)
            .and_then(|b| self.clock.deadline(self.t0 + b * 1.5));
        Limits { deadline }
    }

    /// True when no further attempt may start.
    fn stop(&self) -> bool {
        if self.found.is_some() {
            return true;
        }
        match self.budget {
            Some(b) => self.stats.attempts >= 2 && self.clock.precise_ms() - self.t0 > b,
            None => false,
        }
    }

    fn record(&mut self, name: &'static str, p: Pass, scale: f32, ox: f32, oy: f32) {
        self.stats.attempts += 1;
        self.clock.attempt();
        tracing::trace!(
            attempt = name,
            decoded = p.decoded.len(),
            unreadable_grids = p.grids_seen.len(),
            panicked = p.panicked,
            ms = self.clock.precise_ms() - self.t0,
            "scan attempt"
        );
        if p.panicked {
            self.stats.panics += 1;
        }
        self.stats.work_units += p.work.units;
        if p.work.exhausted {
            self.stats.cut_short += 1;
        }
        let (fw, fh) = (self.full.w, self.full.h);
        for (b, mut c) in p.grids_seen {
            for q in &mut c {
                *q = Point::new(ox + q.x * scale, oy + q.y * scale);
            }
            let rect = rect_around(&c, fw, fh, 0.15);
            let side = ((c[1].x - c[0].x).powi(2) + (c[1].y - c[0].y).powi(2)).sqrt();
            if rect.w() >= 16 && rect.h() >= 16 {
                self.seen.push(Seen {
                    rect,
                    module: side / b.max(21) as f32,
                });
            }
        }
        if self.found.is_none()
            && let Some((bytes, mut c)) = pick(p.decoded)
        {
            for q in &mut c {
                *q = Point::new(ox + q.x * scale, oy + q.y * scale);
            }
            self.found = Some((bytes, c, name));
        }
    }

    /// A whole image (the frame at `scale`), already binarised.
    fn whole(&mut self, name: &'static str, img: &Gray, bits: &[bool], scale: f32) {
        if self.stop() {
            return;
        }
        let p = read_grids(bits, img.w, img.h, &self.limits());
        self.record(name, p, scale, 0.0, 0.0);
    }

    /// Close looks at one region where a code seems to be: hybrid, box-mean and sharpened.
    fn region(&mut self, name: &'static str, s: Seen) {
        self.region_variants(name, s, 0..5);
    }

    /// Some of the close looks (`0`: hybrid; `1..5`: the slower second opinions). A region is
    /// only visited once with the hybrid (`0`); the rest may follow later.
    fn region_variants(&mut self, name: &'static str, s: Seen, which: std::ops::Range<u8>) {
        let r = s.rect.clip(self.full.w, self.full.h);
        if r.w() < 16 || r.h() < 16 || self.stop() {
            return;
        }
        if which.contains(&0) {
            if self.tried.iter().any(|t| iou(t, &r) > 0.75) {
                return;
            }
            self.tried.push(r);
        }
        let (mut img, scale) = if s.module < 2.8 {
            (self.full.crop(r, 1).upscale2(), 0.5)
        } else {
            let f = factor_for(s.module);
            (self.full.crop(r, f), f as f32)
        };
        let st = img.stats(img.full(), 2);
        if (st.hi as i32 - st.lo as i32) < 90 && s.module / scale >= 3.0 {
            // Dim: the stretch below multiplies the noise too.
            img = img.smooth3();
        }
        img.stretch(st.lo, st.hi);
        let m = s.module / scale; // module in crop pixels
        // Measured on the photo set: a box-mean threshold over one to two modules, on a
        // sharpened copy or not, reads most blurred, glared and dim codes the block-based
        // hybrid misses.
        let r1 = m.round().max(1.0) as usize + 1;
        let r2 = (m * 2.0).round() as usize + 1;
        let variants: [(&'static str, u8); 5] = [
            (name, 0),
            ("region-sharpened", 1),
            ("region-mean", 2),
            ("region-other-scale", 3),
            ("region-upscaled", 4),
        ];
        for (vname, v) in variants {
            if !which.contains(&v) {
                continue;
            }
            if self.stop() {
                return;
            }
            // The hybrid and box-mean bitmaps are kept for a redrawn-finder retry.
            let mut kept = None;
            let (p, sc) = match v {
                0 => {
                    let bits = binarize::hybrid(&img);
                    let p = read_grids(&bits, img.w, img.h, &self.limits());
                    kept = Some(bits);
                    (p, scale)
                }
                1 => {
                    let mut sh = img.clone();
                    sh.sharpen(r1, 2.0);
                    (
                        read_grids(
                            &binarize::local_mean(&sh, r2, 0),
                            sh.w,
                            sh.h,
                            &self.limits(),
                        ),
                        scale,
                    )
                }
                2 => {
                    let bits = binarize::local_mean(&img, r1, 0);
                    let p = read_grids(&bits, img.w, img.h, &self.limits());
                    kept = Some(bits);
                    (p, scale)
                }
                4 => {
                    // rqrr finds blurred finder patterns more easily with more pixels.
                    if scale < 1.0 || m > 10.0 || img.w * img.h > 450 * 450 {
                        continue;
                    }
                    let up = img.upscale2();
                    (
                        read_grids(&binarize::hybrid(&up), up.w, up.h, &self.limits()),
                        scale / 2.0,
                    )
                }
                _ => {
                    // Twice the pixels for small modules, half for big ones.
                    let (mut other, sc) = if m < 6.0 {
                        (img.upscale2(), scale / 2.0)
                    } else {
                        (img.downscale(2), scale * 2.0)
                    };
                    let mo = m * scale / sc;
                    other.sharpen(mo.round().max(1.0) as usize + 1, 2.0);
                    let b = binarize::local_mean(&other, mo.round().max(1.0) as usize + 1, 0);
                    (read_grids(&b, other.w, other.h, &self.limits()), sc)
                }
            };
            // rqrr saw no grid at all: if the spotter sees a code's three finders there, one of
            // them is probably broken (a finger, glare): redraw them and read again.
            let retry = p.decoded.is_empty() && p.grids_seen.is_empty();
            self.record(vname, p, sc, r.x0 as f32, r.y0 as f32);
            if let (true, Some(bits)) = (retry, kept) {
                self.redrawn(bits, img.w, img.h, sc, r.x0 as f32, r.y0 as f32);
            }
        }
    }

    /// The region's bitmap again with the finder patterns of its likeliest code redrawn (see
    /// [`finder::redraw`]). Only a read counts: grids rqrr finds in a redrawn bitmap are not
    /// evidence of a code.
    fn redrawn(&mut self, mut bits: Vec<bool>, w: usize, h: usize, scale: f32, ox: f32, oy: f32) {
        if self.stop() {
            return;
        }
        let fs = finder::find(&bits, w, h, 1);
        // Only well-confirmed finders: a finder's centre spans three modules of rows, so a
        // real one is confirmed by about three rows per module of its size; chance 1:1:3:1:1
        // runs in data by a few.
        let strong: Vec<finder::Finder> = fs
            .iter()
            .filter(|f| f.hits as f32 >= f.module.max(3.0))
            .take(4)
            .copied()
            .collect();
        // The best triple that fits a QR version (the spotter ranks them); else a pair and
        // the third finder where its remains are.
        let triple = finder::groups(&strong)
            .into_iter()
            .filter_map(|g| <[finder::Finder; 3]>::try_from(g).ok())
            .find(finder::fits)
            .or_else(|| finder::complete_pair(&bits, w, h, &strong));
        let Some(g) = triple else { return };
        if !finder::one_broken(&bits, w, h, &g) || finder::redraw(&mut bits, w, h, &g).is_none() {
            return;
        }
        let mut p = read_grids(&bits, w, h, &self.limits());
        p.grids_seen.clear();
        self.record("region-redrawn", p, scale, ox, oy);
    }

    /// Finder groups in a bitmap of the frame at `scale`, as regions to look at closely.
    fn spot(&mut self, bits: &[bool], w: usize, h: usize, scale: f32) -> Vec<Seen> {
        let found = self.spot_inner(bits, w, h, scale);
        tracing::trace!(scale, regions = ?found, "finder regions");
        found
    }

    fn spot_inner(&mut self, bits: &[bool], w: usize, h: usize, scale: f32) -> Vec<Seen> {
        let regions: Vec<Seen> = finder::regions(bits, w, h)
            .into_iter()
            .map(|(x0, y0, x1, y1, module)| Seen {
                rect: Rect {
                    x0: (x0 * scale).max(0.0) as usize,
                    y0: (y0 * scale).max(0.0) as usize,
                    x1: (x1 * scale).max(0.0) as usize,
                    y1: (y1 * scale).max(0.0) as usize,
                }
                .clip(self.full.w, self.full.h),
                module: module * scale,
            })
            .filter(|s| s.rect.w() >= 16 && s.rect.h() >= 16)
            .collect();
        self.seen.extend(regions.iter().copied());
        regions
    }

    /// Spots up to two regions in `img` (the frame at `scale`, binarised as `bits`), gives
    /// each its first (hybrid) look, then reads the whole of `img`. Returns the regions and
    /// how many regions had been tried before, for [`Run::second_looks`].
    fn first_looks(
        &mut self,
        region: &'static str,
        whole: &'static str,
        img: &Gray,
        bits: &[bool],
        scale: f32,
    ) -> (Vec<Seen>, usize) {
        let tried_before = self.tried.len();
        let regions: Vec<Seen> = self
            .spot(bits, img.w, img.h, scale)
            .into_iter()
            .take(2)
            .collect();
        for s in &regions {
            self.region_variants(region, *s, 0..1);
        }
        self.whole(whole, img, bits, scale);
        (regions, tried_before)
    }

    /// The slower second opinions on those of `regions` that got their first look after the
    /// first `tried_before` tried regions: a region already looked at closely (the memory's,
    /// say) is not looked at again.
    fn second_looks(&mut self, name: &'static str, regions: &[Seen], tried_before: usize) {
        let visited: Vec<Rect> = self.tried[tried_before..].to_vec();
        for s in regions {
            if visited.contains(&s.rect.clip(self.full.w, self.full.h)) {
                self.region_variants(name, *s, 1..5);
            }
        }
    }

    pub(super) fn search(&mut self, memory: Option<Seen>, half: &Gray) {
        if let Some(m) = memory {
            self.region("memory", m);
        }
        if self.stop() {
            return;
        }
        // Half size: enough for a card at arm's length.
        let mut h2 = half.clone();
        let st = h2.stats(h2.full(), 2);
        h2.stretch(st.lo, st.hi);
        let bits = binarize::hybrid(&h2);
        // Cheap and likely first: the hybrid look at each region, the whole half and quarter
        // frame; then the slower second opinions on the regions.
        let (regions, tried_before) =
            self.first_looks("half-region", "half-hybrid", &h2, &bits, 2.0);
        // Quarter size: a card filling the frame.
        if !self.stop() {
            let mut q = half.downscale(2);
            let st = q.stats(q.full(), 1);
            q.stretch(st.lo, st.hi);
            let bits = binarize::hybrid(&q);
            self.whole("quarter-hybrid", &q, &bits, 4.0);
        }
        // Only regions that got their first look above (not duplicates of the memory).
        self.second_looks("half-region", &regions, tried_before);
        // Full size: small codes far away.
        if !self.stop() {
            let mut f = self.full.clone();
            let st = f.stats(f.full(), 3);
            f.stretch(st.lo, st.hi);
            let bits = binarize::hybrid(&f);
            // As at half size: the hybrid looks and the whole frame before the second opinions.
            let (regions, tried_before) =
                self.first_looks("full-region", "full-hybrid", &f, &bits, 1.0);
            self.second_looks("full-region", &regions, tried_before);
        }
        // Regions rqrr saw as grids but could not read.
        let grids: Vec<Seen> = self.seen.clone();
        for s in grids.into_iter().take(3) {
            if self.stop() {
                return;
            }
            self.region("seen-region", s);
        }
        if !self.stop() {
            let bits = binarize::local_mean(&h2, 10, 4);
            self.whole("half-mean", &h2, &bits, 2.0);
        }
    }
}

/// Downscale factor that leaves about 4–8 pixels per module.
fn factor_for(module: f32) -> usize {
    ((module / 4.0).floor() as usize).clamp(1, 4)
}

/// Prefers a QuickCard when several codes were read.
fn pick(mut decoded: Vec<(Vec<u8>, Corners)>) -> Option<(Vec<u8>, Corners)> {
    if let Some(i) = decoded
        .iter()
        .position(|(b, _)| b.starts_with(quickcard::PREFIX.as_bytes()))
    {
        return Some(decoded.swap_remove(i));
    }
    decoded.into_iter().next()
}
