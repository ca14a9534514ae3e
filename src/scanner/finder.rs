//! A cheap finder-pattern spotter (the three 1:1:3:1:1 squares in a QR code's corners).
//!
//! It does not decode anything. It tells the scanner whether a code is in view at all, how big
//! its modules are (to say "come closer") and where it is (to crop there), even when rqrr
//! cannot read the grid.

/// A finder pattern candidate in the coordinates of the bitmap it was found in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Finder {
    pub x: f32,
    pub y: f32,
    /// Estimated module size in pixels.
    pub module: f32,
    /// How many scan lines confirmed it.
    pub hits: u32,
}

fn ratio_ok(r: [usize; 5]) -> Option<f32> {
    let total: usize = r.iter().sum();
    if total < 7 {
        return None;
    }
    let m = total as f32 / 7.0;
    let tol = m * 0.7;
    let ok = (r[0] as f32 - m).abs() < tol
        && (r[1] as f32 - m).abs() < tol
        && (r[2] as f32 - 3.0 * m).abs() < 3.0 * tol
        && (r[3] as f32 - m).abs() < tol
        && (r[4] as f32 - m).abs() < tol;
    ok.then_some(m)
}

/// Counts 1:1:3:1:1 runs through `(x, y)` vertically; returns (centre y, module) if it holds.
fn vertical_check(
    bits: &[bool],
    w: usize,
    h: usize,
    x: usize,
    y: usize,
    m: f32,
) -> Option<(f32, f32)> {
    let at = |yy: usize| bits[yy * w + x];
    if !at(y) {
        return None;
    }
    let max = (m * 5.0) as usize + 2;
    let mut runs = [0usize; 5];
    // Up: centre (dark), light, dark.
    let mut yy = y as isize;
    for (i, want) in [(2, true), (1, false), (0, true)] {
        while yy >= 0 && at(yy as usize) == want && runs[i] <= max {
            runs[i] += 1;
            yy -= 1;
        }
        if runs[i] == 0 || runs[i] > max {
            return None;
        }
    }
    let top = yy + 1;
    let mut yy = y + 1;
    let mut extra = 0;
    while yy < h && at(yy) && extra <= max {
        extra += 1;
        yy += 1;
    }
    runs[2] += extra;
    for (i, want) in [(3, false), (4, true)] {
        while yy < h && at(yy) == want && runs[i] <= max {
            runs[i] += 1;
            yy += 1;
        }
        if runs[i] == 0 || runs[i] > max {
            return None;
        }
    }
    let mv = ratio_ok(runs)?;
    if (mv - m).abs() > m.max(mv) * 0.6 {
        return None;
    }
    let centre = top as f32 + runs[0] as f32 + runs[1] as f32 + runs[2] as f32 / 2.0;
    Some((centre, mv))
}

/// At most this many distinct candidates are kept per bitmap. Textures (brick, fabric,
/// checkerboards) pass the 1:1:3:1:1 test all over; a real finder is confirmed on many rows
/// early and keeps collecting hits, while later chance patterns are dropped. This bounds the
/// spotter's memory and the merge work below whatever the image.
pub const MAX_CANDIDATES: usize = 2048;

/// Side of the cells that index candidates by position for merging.
const CELL: usize = 32;

/// Finder candidates in a bitmap (`true` = dark), merged per pattern, strongest first.
pub fn find(bits: &[bool], w: usize, h: usize, row_step: usize) -> Vec<Finder> {
    let mut found: Vec<Finder> = Vec::new();
    // Candidates by cell, so a new hit is merged by looking at its neighbourhood only (a
    // linear search over all candidates made textured frames quadratic).
    let (cw, ch) = (w.div_ceil(CELL), h.div_ceil(CELL));
    let mut cells: Vec<Vec<u32>> = vec![Vec::new(); cw * ch];
    let mut runs: Vec<usize> = Vec::with_capacity(64);
    let mut starts: Vec<usize> = Vec::with_capacity(64);
    for y in (0..h).step_by(row_step.max(1)) {
        let row = &bits[y * w..(y + 1) * w];
        runs.clear();
        starts.clear();
        let mut cur = row[0];
        let mut len = 0;
        for (x, &b) in row.iter().enumerate() {
            if b == cur {
                len += 1;
            } else {
                starts.push(x - len);
                runs.push(len);
                cur = b;
                len = 1;
            }
        }
        starts.push(w - len);
        runs.push(len);
        // Runs alternate colour; the first run's colour is row[0].
        let first_is_dark = row[0];
        for i in 0..runs.len().saturating_sub(4) {
            let dark = (i % 2 == 0) == first_is_dark;
            if !dark {
                continue;
            }
            let r = [runs[i], runs[i + 1], runs[i + 2], runs[i + 3], runs[i + 4]];
            let Some(m) = ratio_ok(r) else { continue };
            let cx = starts[i + 2] as f32 + runs[i + 2] as f32 / 2.0;
            let Some((cy, mv)) = vertical_check(bits, w, h, cx as usize, y, m) else {
                continue;
            };
            let module = (m + mv) / 2.0;
            // Merged candidates lie within 3 modules (of the similar-sized candidate) of the
            // hit; 4.5 of the hit's own leaves room for the module estimates to differ.
            let reach = ((module * 4.5) as usize).div_ceil(CELL);
            let (gx, gy) = (
                (cx as usize / CELL).min(cw - 1),
                (cy as usize / CELL).min(ch - 1),
            );
            let near = (gy.saturating_sub(reach)..=(gy + reach).min(ch - 1)).flat_map(|yy| {
                (gx.saturating_sub(reach)..=(gx + reach).min(cw - 1)).map(move |xx| yy * cw + xx)
            });
            let hit = near.flat_map(|c| cells[c].iter().copied()).find(|&k| {
                let f = &found[k as usize];
                (f.x - cx).abs() < f.module * 3.0 && (f.y - cy).abs() < f.module * 3.0
            });
            if let Some(k) = hit {
                let f = &mut found[k as usize];
                let n = f.hits as f32;
                f.x = (f.x * n + cx) / (n + 1.0);
                f.y = (f.y * n + cy) / (n + 1.0);
                f.module = (f.module * n + module) / (n + 1.0);
                f.hits += 1;
            } else if found.len() < MAX_CANDIDATES {
                cells[gy * cw + gx].push(found.len() as u32);
                found.push(Finder {
                    x: cx,
                    y: cy,
                    module,
                    hits: 1,
                });
            }
        }
    }
    found.sort_by_key(|f| std::cmp::Reverse(f.hits));
    found
}

/// Groups of three finders (or two, when only two are visible) that could be one code's
/// corners, as boxes `(x0, y0, x1, y1, module)` around the whole code plus a margin, best
/// evidence first. At most four.
pub fn regions(bits: &[bool], w: usize, h: usize) -> Vec<(f32, f32, f32, f32, f32)> {
    let fs = find(bits, w, h, 1);
    boxes(&groups(&fs))
}

/// Groups of finders that could be one code's corners: triples first (the corner finder
/// first, the two on its sides after it), best first, then pairs of the finders left over.
///
/// Triples are ranked by how much they look like a QR code's finders: two sides of similar
/// length meeting at about a right angle, similar module sizes, a plausible distance in
/// modules. Pairs come after all triples.
pub fn groups(fs: &[Finder]) -> Vec<Vec<Finder>> {
    let good: Vec<&Finder> = fs.iter().filter(|f| f.hits >= 2).take(24).collect();
    let d = |a: &Finder, b: &Finder| ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt();
    let similar = |a: &Finder, b: &Finder| {
        let r = a.module / b.module;
        let dist = d(a, b);
        (0.5..2.0).contains(&r) && dist > a.module * 10.0 && dist < a.module * 80.0
    };
    // (score, corner, other, other)
    let mut triples: Vec<(f32, usize, usize, usize)> = Vec::new();
    let n = good.len();
    for c in 0..n {
        for i in 0..n {
            for j in i + 1..n {
                if i == c || j == c || !similar(good[c], good[i]) || !similar(good[c], good[j]) {
                    continue;
                }
                let (a, b) = (d(good[c], good[i]), d(good[c], good[j]));
                let hyp = d(good[i], good[j]);
                let ratio = a.max(b) / a.min(b);
                let right = hyp / (a * a + b * b).sqrt();
                if ratio > 2.5 || !(0.7..1.4).contains(&right) {
                    continue;
                }
                let score = (ratio - 1.0) + (right - 1.0).abs() * 3.0;
                triples.push((score, c, i, j));
            }
        }
    }
    triples.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut used = vec![false; n];
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (_, c, i, j) in triples {
        if used[c] || used[i] || used[j] {
            continue;
        }
        used[c] = true;
        used[i] = true;
        used[j] = true;
        groups.push(vec![c, i, j]);
    }
    for i in 0..n {
        for j in i + 1..n {
            if !used[i] && !used[j] && similar(good[i], good[j]) {
                used[i] = true;
                used[j] = true;
                groups.push(vec![i, j]);
            }
        }
    }
    groups
        .into_iter()
        .map(|g| g.into_iter().map(|k| *good[k]).collect())
        .collect()
}

/// The code's axes from a triple (corner finder first): the vectors from the corner finder to
/// the other two, with the inverse of their matrix (`None` when they are nearly parallel).
struct Axes {
    u: (f32, f32),
    v: (f32, f32),
    inv: [f32; 4],
}

impl Axes {
    fn of(g: &[Finder; 3]) -> Option<Axes> {
        let u = (g[1].x - g[0].x, g[1].y - g[0].y);
        let v = (g[2].x - g[0].x, g[2].y - g[0].y);
        let det = u.0 * v.1 - u.1 * v.0;
        let (lu, lv) = (u.0.hypot(u.1), v.0.hypot(v.1));
        if lu < 1.0 || lv < 1.0 || det.abs() < 0.5 * lu * lv {
            return None;
        }
        Some(Axes {
            u,
            v,
            inv: [v.1 / det, -v.0 / det, -u.1 / det, u.0 / det],
        })
    }

    /// `(a, b)` with `d = a·u + b·v`.
    fn coords(&self, d: (f32, f32)) -> (f32, f32) {
        (
            self.inv[0] * d.0 + self.inv[1] * d.1,
            self.inv[2] * d.0 + self.inv[3] * d.1,
        )
    }
}

/// Redraws the three finder patterns of a triple (corner finder first) as the QR standard
/// fixes them — dark centre, light ring, dark ring, light separator — and returns how many
/// pixels changed, or `None` when the triple does not look like a code's corners.
///
/// A finger, glare or a fold over a finder breaks its rings (a corner erased, the ring merged
/// with a dark edge in the quiet zone), and rqrr then drops the finder and the whole code,
/// although its data is still readable: Reed–Solomon copes with the modules under the finger.
/// The finders' content never varies, so drawing them where the other finders and the code's
/// geometry put them loses nothing (see `template` for the geometry).
pub fn redraw(bits: &mut [bool], w: usize, h: usize, g: &[Finder; 3]) -> Option<usize> {
    let mut changed = 0;
    template(g, w, h, None, |i, want| {
        if bits[i] != want {
            bits[i] = want;
            changed += 1;
        }
    })?;
    Some(changed)
}

/// Whether one finder of a triple (corner finder first) is broken while the others are whole:
/// more than 2.5 % of its pixels differ from the pattern [`redraw`] would draw, and at least
/// twice as many as in the next worst. That is what a finger, a fold or a spot of glare does;
/// blur, noise and dim light spoil all three alike, and redrawing does not help there.
///
/// Measured on the photo set: broken finders differ by 3–17 % next to whole ones at 0–1.4 %;
/// in blurred and noisy frames all three differ by 1–14 %, within a factor of two.
pub fn one_broken(bits: &[bool], w: usize, h: usize, g: &[Finder; 3]) -> bool {
    let mut d = [0.0f32; 3];
    for (k, o) in d.iter_mut().enumerate() {
        let (mut diff, mut all) = (0usize, 0usize);
        if template(g, w, h, Some(k), |i, want| {
            all += 1;
            diff += (bits[i] != want) as usize;
        })
        .is_none()
        {
            return false;
        }
        *o = diff as f32 / all.max(1) as f32;
    }
    d.sort_by(f32::total_cmp);
    d[2] > 0.025 && d[2] >= 2.0 * d[1]
}

/// Whether a triple (corner finder first) looks like a code's corners: two sides at an angle,
/// as many modules apart as some QR version's finders. [`redraw`] only draws such triples.
pub fn fits(g: &[Finder; 3]) -> bool {
    template(g, 0, 0, None, |_, _| ()).is_some()
}

/// How much of a finder pattern's pixels must match at a place for [`complete`] to put the
/// missing finder there. Measured on the photo set: intact finders match 0.68–0.83 of their
/// template (a finger over part of one still 0.80), data and background at most 0.63.
const MIN_MATCH: f32 = 0.7;

/// A code's three finders when the spotter saw only two of them: for the first pair of the
/// given finders (strongest first) that could be one code's, the third where `complete`
/// finds its remains. Corner finder first, for [`redraw`].
pub fn complete_pair(bits: &[bool], w: usize, h: usize, fs: &[Finder]) -> Option<[Finder; 3]> {
    for (i, a) in fs.iter().enumerate() {
        for b in &fs[i + 1..] {
            let r = a.module / b.module;
            let dist = (a.x - b.x).hypot(a.y - b.y);
            if !(0.5..2.0).contains(&r) || dist < a.module * 10.0 || dist > a.module * 80.0 {
                continue;
            }
            if let Some(g) = complete(bits, w, h, a, b, MIN_MATCH) {
                return Some(g);
            }
        }
    }
    None
}

/// The third finder of a code of which only two finders were spotted (the third is under a
/// finger, in glare, …): where the QR geometry allows it — the two are neighbours (the third
/// beside either, on either side) or opposite (the third on either side of their diagonal) —
/// the place that looks most like a finder's remains, as a triple for [`redraw`] (corner
/// first). `None` when no place matches at least `min_match` of a finder's pixels.
fn complete(
    bits: &[bool],
    w: usize,
    h: usize,
    a: &Finder,
    b: &Finder,
    min_match: f32,
) -> Option<[Finder; 3]> {
    let d = (b.x - a.x, b.y - a.y);
    let p = (-d.1, d.0);
    let mid = ((a.x + b.x) / 2.0, (a.y + b.y) / 2.0);
    let module = (a.module + b.module) / 2.0;
    let at = |x: f32, y: f32| Finder {
        x,
        y,
        module,
        hits: 0,
    };
    // (triple, index of the new finder in it)
    let candidates = [
        ([*a, *b, at(a.x + p.0, a.y + p.1)], 2),
        ([*a, *b, at(a.x - p.0, a.y - p.1)], 2),
        ([*b, *a, at(b.x + p.0, b.y + p.1)], 2),
        ([*b, *a, at(b.x - p.0, b.y - p.1)], 2),
        ([at(mid.0 + p.0 / 2.0, mid.1 + p.1 / 2.0), *a, *b], 0),
        ([at(mid.0 - p.0 / 2.0, mid.1 - p.1 / 2.0), *a, *b], 0),
    ];
    let reach = module * 6.5;
    let mut best: Option<(f32, [Finder; 3])> = None;
    for (g, k) in candidates {
        let c = g[k];
        if c.x < reach || c.y < reach || c.x + reach > w as f32 || c.y + reach > h as f32 {
            continue;
        }
        let (mut same, mut all) = (0usize, 0usize);
        if template(&g, w, h, Some(k), |i, want| {
            all += 1;
            same += (bits[i] == want) as usize;
        })
        .is_none()
            || all == 0
        {
            continue;
        }
        let score = same as f32 / all as f32;
        if score >= min_match && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, g));
        }
    }
    best.map(|(_, g)| g)
}

/// Visits the pixels of the finder patterns of a triple (corner finder first; `only`: just
/// that one) with the colour the QR standard gives them: the code's axes from the triple, the
/// module size from the spotter, the code's size snapped to a QR version (the side between
/// finders is `size − 7` modules). Each band stays 0.1 module clear of the next so that a
/// centre a little off does not paint over a neighbouring band. `None` when the triple does
/// not look like a code's corners.
fn template(
    g: &[Finder; 3],
    w: usize,
    h: usize,
    only: Option<usize>,
    mut visit: impl FnMut(usize, bool),
) -> Option<()> {
    let ax = Axes::of(g)?;
    let (lu, lv) = (ax.u.0.hypot(ax.u.1), ax.v.0.hypot(ax.v.1));
    // The spotter measures modules along rows and columns: a rotated finder's runs are longer
    // by 1 / cos of its angle (folded into ±45°).
    let ang = ax.u.1.atan2(ax.u.0).rem_euclid(std::f32::consts::FRAC_PI_2);
    let fold = ang.min(std::f32::consts::FRAC_PI_2 - ang).cos();
    let m = g.iter().map(|f| f.module).sum::<f32>() / 3.0 * fold;
    if m < 1.5 {
        return None;
    }
    // Modules between finder centres: size − 7 = 10 + 4·version, for versions 1 to 40.
    let span = (lu + lv) / 2.0 / m;
    let version = ((span - 10.0) / 4.0).round();
    if !(1.0..=40.0).contains(&version) || (span - (10.0 + 4.0 * version)).abs() > 1.5 {
        return None;
    }
    let n = 10.0 + 4.0 * version;
    for (k, f) in g.iter().enumerate() {
        if only.is_some_and(|o| o != k) {
            continue;
        }
        let reach = m * 4.4 * 1.5 + 2.0;
        let x0 = (f.x - reach).max(0.0) as usize;
        let x1 = ((f.x + reach).max(0.0) as usize).min(w);
        let y0 = (f.y - reach).max(0.0) as usize;
        let y1 = ((f.y + reach).max(0.0) as usize).min(h);
        for y in y0..y1 {
            for x in x0..x1 {
                let (a, b) = ax.coords((x as f32 + 0.5 - f.x, y as f32 + 0.5 - f.y));
                let r = (a * n).abs().max((b * n).abs());
                let want = match r {
                    r if r < 1.4 => true,
                    r if (1.6..2.4).contains(&r) => false,
                    r if (2.6..3.4).contains(&r) => true,
                    r if (3.6..4.4).contains(&r) => false,
                    _ => continue,
                };
                visit(y * w + x, want);
            }
        }
    }
    Some(())
}

/// Boxes `(x0, y0, x1, y1, module)` around the codes of [`groups`], at most four.
fn boxes(groups: &[Vec<Finder>]) -> Vec<(f32, f32, f32, f32, f32)> {
    let mut out = Vec::new();
    for g in groups.iter().take(4) {
        let mut pts: Vec<(f32, f32)> = g.iter().map(|f| (f.x, f.y)).collect();
        let module = g.iter().map(|f| f.module).fold(0.0f32, f32::max);
        if pts.len() == 3 {
            // The code's fourth corner completes the parallelogram on the corner finder
            // (it sticks out of the finders' box when the code is rotated).
            let (b, p1, p2) = (pts[0], pts[1], pts[2]);
            pts.push((p1.0 + p2.0 - b.0, p1.1 + p2.1 - b.1));
        } else if pts.len() == 2 {
            // With only two finders seen, the third is beside either of them, on either side
            // (or between them, when they are opposite corners): the box holds all of these.
            let (a, b) = (pts[0], pts[1]);
            let p = (a.1 - b.1, b.0 - a.0);
            for q in [a, b] {
                pts.push((q.0 + p.0, q.1 + p.1));
                pts.push((q.0 - p.0, q.1 - p.1));
            }
        }
        let margin = module * 8.0;
        let x0 = pts.iter().map(|p| p.0).fold(f32::MAX, f32::min) - margin;
        let x1 = pts.iter().map(|p| p.0).fold(f32::MIN, f32::max) + margin;
        let y0 = pts.iter().map(|p| p.1).fold(f32::MAX, f32::min) - margin;
        let y1 = pts.iter().map(|p| p.1).fold(f32::MIN, f32::max) + margin;
        out.push((x0, y0, x1, y1, module));
    }
    out
}

#[cfg(test)]
#[path = "finder_tests.rs"]
mod tests;
