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

/// Finder candidates in a bitmap (`true` = dark), merged per pattern, strongest first.
pub fn find(bits: &[bool], w: usize, h: usize, row_step: usize) -> Vec<Finder> {
    let mut found: Vec<Finder> = Vec::new();
    let mut runs: Vec<usize> = Vec::with_capacity(64);
    for y in (0..h).step_by(row_step.max(1)) {
        let row = &bits[y * w..(y + 1) * w];
        runs.clear();
        let mut starts: Vec<usize> = Vec::new();
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
            if let Some(f) = found
                .iter_mut()
                .find(|f| (f.x - cx).abs() < f.module * 3.0 && (f.y - cy).abs() < f.module * 3.0)
            {
                let n = f.hits as f32;
                f.x = (f.x * n + cx) / (n + 1.0);
                f.y = (f.y * n + cy) / (n + 1.0);
                f.module = (f.module * n + module) / (n + 1.0);
                f.hits += 1;
            } else {
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
///
/// Triples are ranked by how much they look like a QR code's finders: two sides of similar
/// length meeting at about a right angle, similar module sizes, a plausible distance in
/// modules. Pairs come after all triples.
pub fn regions(bits: &[bool], w: usize, h: usize) -> Vec<(f32, f32, f32, f32, f32)> {
    let fs = find(bits, w, h, 1);
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
    let mut out = Vec::new();
    for g in groups.into_iter().take(4) {
        let mut pts: Vec<(f32, f32)> = g.iter().map(|&k| (good[k].x, good[k].y)).collect();
        let module = g.iter().map(|&k| good[k].module).fold(0.0f32, f32::max);
        if pts.len() == 3 {
            // The code's fourth corner completes the parallelogram on the corner finder
            // (it sticks out of the finders' box when the code is rotated).
            let (b, p1, p2) = (pts[0], pts[1], pts[2]);
            pts.push((p1.0 + p2.0 - b.0, p1.1 + p2.1 - b.1));
        }
        // With only two finders seen, the third could be on either side: widen by the spread.
        let spread = pts
            .iter()
            .flat_map(|p| {
                pts.iter()
                    .map(move |q| ((p.0 - q.0).powi(2) + (p.1 - q.1).powi(2)).sqrt())
            })
            .fold(0.0f32, f32::max);
        let margin = module * 8.0 + if pts.len() < 3 { spread } else { 0.0 };
        let x0 = pts.iter().map(|p| p.0).fold(f32::MAX, f32::min) - margin;
        let x1 = pts.iter().map(|p| p.0).fold(f32::MIN, f32::max) + margin;
        let y0 = pts.iter().map(|p| p.1).fold(f32::MAX, f32::min) - margin;
        let y1 = pts.iter().map(|p| p.1).fold(f32::MIN, f32::max) + margin;
        out.push((x0, y0, x1, y1, module));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bitmap with finder patterns of `m`-pixel modules at the given top-left corners.
    fn with_finders(w: usize, h: usize, m: usize, at: &[(usize, usize)]) -> Vec<bool> {
        let mut bits = vec![false; w * h];
        for &(ox, oy) in at {
            for y in 0..7 * m {
                for x in 0..7 * m {
                    let (mx, my) = (x / m, y / m);
                    let ring = mx.min(my).min(6 - mx).min(6 - my);
                    bits[(oy + y) * w + ox + x] = ring != 1;
                }
            }
        }
        bits
    }

    #[test]
    fn finds_finder_patterns_with_their_module_size() {
        let bits = with_finders(200, 200, 4, &[(20, 30)]);
        let f = find(&bits, 200, 200, 1);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            (f[0].x - 34.0).abs() < 1.5 && (f[0].y - 44.0).abs() < 1.5,
            "{f:?}"
        );
        assert!((f[0].module - 4.0).abs() < 0.6, "{f:?}");
        assert!(f[0].hits > 5);
        // Plain stripes are not finders.
        let stripes: Vec<bool> = (0..200 * 200).map(|i| (i % 200 / 4) % 2 == 0).collect();
        assert!(find(&stripes, 200, 200, 1).is_empty());
    }

    #[test]
    fn three_finders_make_one_region_covering_the_whole_code() {
        // A 25-module code at 4 px: finders at its three corners.
        let (m, n) = (4, 25);
        let o = (40, 50);
        let bits = with_finders(
            300,
            300,
            m,
            &[
                (o.0, o.1),
                (o.0 + (n - 7) * m, o.1),
                (o.0, o.1 + (n - 7) * m),
            ],
        );
        let r = regions(&bits, 300, 300);
        assert_eq!(r.len(), 1, "{r:?}");
        let (x0, y0, x1, y1, module) = r[0];
        assert!((module - 4.0).abs() < 0.6);
        let end = (o.0 + n * m) as f32;
        assert!(x0 <= o.0 as f32 && y0 <= o.1 as f32 && x1 >= end && y1 >= (o.1 + n * m) as f32);
    }
}
