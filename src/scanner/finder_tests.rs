//! The finder spotter, its regions and the redraw of a broken finder on real codes.

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

/// A real version-6 code (like a QuickCard's) rendered at `m` px per module with a
/// 4-module quiet zone, with a light disc (centre x, y and radius in modules from the
/// code's top-left corner) painted over it, as a fingertip shows under the hybrid
/// threshold.
fn damaged_code(m: usize, tip: (f32, f32, f32)) -> (Vec<bool>, usize, String) {
    let text = format!("QC:{}", "0123456789ABCDEFGHIJKLMNOPQRSTUV".repeat(4));
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .expect("fits");
    let n = code.width();
    assert_eq!(n, 41, "version 6");
    let dark: Vec<bool> = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    let side = (n + 8) * m;
    let mut bits = vec![false; side * side];
    for y in 0..side {
        for x in 0..side {
            let (mx, my) = ((x / m) as isize - 4, (y / m) as isize - 4);
            let (px, py) = (
                (x as f32 + 0.5) / m as f32 - 4.0,
                (y as f32 + 0.5) / m as f32 - 4.0,
            );
            let covered = (px - tip.0).hypot(py - tip.1) < tip.2;
            let inside = (0..n as isize).contains(&mx) && (0..n as isize).contains(&my);
            bits[y * side + x] = !covered && inside && dark[my as usize * n + mx as usize];
        }
    }
    (bits, side, text)
}

/// A fingertip over the top-left finder's top-right corner: the ring is shaved there, so
/// rqrr places that finder's corners wrongly and finds no grid.
const TIP: (f32, f32, f32) = (7.5, -0.5, 3.5);

#[test]
fn redrawing_a_broken_finder_lets_rqrr_read_the_code() {
    let (mut bits, side, text) = damaged_code(6, TIP);
    let before = super::super::decode_bitmap(&bits, side, side);
    assert!(before.codes.is_empty(), "rqrr reads it anyway: {before:?}");
    let fs = find(&bits, side, side, 1);
    let g: [Finder; 3] = groups(&fs)
        .into_iter()
        .find_map(|g| g.try_into().ok())
        .expect("the spotter still sees three finders");
    assert!(one_broken(&bits, side, side, &g), "{g:?}");
    let changed = redraw(&mut bits, side, side, &g).expect("a code's corners");
    assert!(changed > 0);
    let after = super::super::decode_bitmap(&bits, side, side);
    assert_eq!(after.codes.len(), 1, "{after:?}");
    assert_eq!(after.codes[0].0, text.as_bytes());

    // An intact code is left as it is.
    let (mut clean, side, _) = damaged_code(6, (0.0, 0.0, 0.0));
    let fs = find(&clean, side, side, 1);
    let g: [Finder; 3] = groups(&fs)
        .into_iter()
        .find_map(|g| g.try_into().ok())
        .expect("three finders");
    assert!(!one_broken(&clean, side, side, &g));
    assert_eq!(redraw(&mut clean, side, side, &g), Some(0));
}

#[test]
fn redraw_refuses_finders_that_are_no_code_corners() {
    let f = |x: f32, y: f32| Finder {
        x,
        y,
        module: 5.0,
        hits: 15,
    };
    let mut bits = vec![false; 400 * 400];
    // In a line.
    assert_eq!(
        redraw(
            &mut bits,
            400,
            400,
            &[f(50.0, 50.0), f(200.0, 50.0), f(350.0, 50.0)]
        ),
        None
    );
    // Sides of 16 modules: no QR version has its finders 16 modules apart (14, 18, 22, …).
    assert_eq!(
        redraw(
            &mut bits,
            400,
            400,
            &[f(50.0, 50.0), f(130.0, 50.0), f(50.0, 130.0)]
        ),
        None
    );
    assert!(bits.iter().all(|b| !b), "nothing painted");
}

#[test]
fn a_finder_under_a_finger_is_completed_from_the_other_two() {
    // Half of the bottom-left finder is under the fingertip.
    let (mut bits, side, text) = damaged_code(6, (3.5, 39.0, 3.0));
    assert!(
        super::super::decode_bitmap(&bits, side, side)
            .codes
            .is_empty()
    );
    let strong: Vec<Finder> = find(&bits, side, side, 1)
        .into_iter()
        .filter(|f| f.hits as f32 >= f.module.max(3.0))
        .take(4)
        .collect();
    let g = complete_pair(&bits, side, side, &strong).expect("completed");
    // The bottom-left finder's centre: module (3.5, 37.5) behind the 4-module quiet zone.
    let (bx, by) = (7.5 * 6.0, 41.5 * 6.0);
    assert!(g.iter().any(|f| (f.x - bx).hypot(f.y - by) < 6.0), "{g:?}");
    redraw(&mut bits, side, side, &g).expect("drawn");
    let after = super::super::decode_bitmap(&bits, side, side);
    assert_eq!(after.codes.len(), 1, "{after:?}");
    assert_eq!(after.codes[0].0, text.as_bytes());

    // Two finders of a blank page get no third.
    let mut blank = vec![false; side * side];
    let (a, b) = (g[1], g[2]);
    for f in [a, b] {
        let (cx, cy) = (f.x as usize, f.y as usize);
        for y in cy - 10..cy + 11 {
            for x in cx - 10..cx + 11 {
                let r = (x as isize - cx as isize)
                    .abs()
                    .max((y as isize - cy as isize).abs());
                blank[y * side + x] = r <= 4 || (r > 7 && r <= 10);
            }
        }
    }
    assert_eq!(complete_pair(&blank, side, side, &[a, b]), None);
}

#[test]
fn two_finders_make_a_region_holding_the_code_on_either_side() {
    // The top two finders of a 25-module code at 4 px; the third is hidden.
    let (m, n) = (4, 25);
    let o = (60, 130);
    let bits = with_finders(300, 300, m, &[(o.0, o.1), (o.0 + (n - 7) * m, o.1)]);
    let r = regions(&bits, 300, 300);
    assert_eq!(r.len(), 1, "{r:?}");
    let (x0, y0, x1, y1, _) = r[0];
    let side = (n * m) as f32;
    let (left, top) = (o.0 as f32, o.1 as f32);
    // Below them (they are the top corners) or above them (the bottom ones).
    assert!(x0 <= left && x1 >= left + side, "{r:?}");
    assert!(
        y0 <= top + 7.0 * m as f32 - side && y1 >= top + side,
        "{r:?}"
    );
    // But not much more than that: a box three codes wide would cost three times the time.
    assert!(x1 - x0 < side * 1.8, "{r:?}");
}
