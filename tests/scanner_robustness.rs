//! The scanner never takes the kiosk down and says something sensible about odd frames:
//! bitmaps that made rqrr 0.11.0 panic (found by `examples/fuzz_rqrr.rs`, kept in
//! `sample-cards/photos/rqrr-panics/`; our fork no longer panics on them, which matters in the
//! browser, where a panic aborts), random and adversarial frames of every size, and frames
//! that are black, white or empty.

use std::path::Path;

use quickcard_kiosk::scanner::{Frame, Hint, ScanConfig, ScanResult, Scanner, decode_bitmap};

fn scanner() -> Scanner {
    Scanner::new(ScanConfig {
        budget_ms: None,
        ..ScanConfig::default()
    })
}

fn panic_bitmaps() -> Vec<(String, usize, usize, Vec<bool>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-cards/photos/rqrr-panics");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).expect("rqrr-panics folder") {
        let p = e.expect("entry").path();
        let img = image::open(&p).expect("png").to_luma8();
        let (w, h) = (img.width() as usize, img.height() as usize);
        let bits = img.pixels().map(|p| p.0[0] < 128).collect();
        out.push((p.display().to_string(), w, h, bits));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn bitmaps_that_made_rqrr_0_11_panic_are_read_without_a_panic() {
    let bitmaps = panic_bitmaps();
    assert!(bitmaps.len() >= 3);
    for (name, w, h, bits) in bitmaps {
        // The fork itself no longer panics (not merely contained: in wasm nothing could
        // contain it) ...
        let bare = std::panic::catch_unwind(|| {
            let mut p = rqrr::PreparedImage::prepare_from_bitmap(w, h, |x, y| bits[y * w + x]);
            for g in p.detect_grids() {
                let _ = g.decode_to(Vec::new());
            }
        });
        assert!(bare.is_ok(), "{name}: rqrr panics here again");
        // ... and the scanner's one call site reads no code from them.
        let r = decode_bitmap(&bits, w, h);
        assert!(!r.panicked, "{name}");
        assert!(r.codes.is_empty());
        // As camera frames (scaled up 4×, so every attempt sees them) they are just "no card".
        let (fw, fh) = (w * 4, h * 4);
        let luma: Vec<u8> = (0..fw * fh)
            .map(|i| {
                if bits[(i / fw / 4) * w + (i % fw) / 4] {
                    20
                } else {
                    230
                }
            })
            .collect();
        let frame = Frame::from_luma(fw as u32, fh as u32, luma).expect("frame");
        let mut s = scanner();
        assert!(matches!(s.scan(&frame), ScanResult::Hint(_)), "{name}");
    }
}

/// xorshift64: deterministic random frames.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Random, striped, finder-littered and broken-QR frames of many sizes never panic the
/// scanner, and never produce a card.
#[test]
fn random_and_adversarial_frames_never_panic() {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    let mut s = scanner();
    let sizes = [
        (1, 1),
        (2, 3),
        (20, 20),
        (21, 21),
        (22, 300),
        (300, 22),
        (97, 61),
        (320, 240),
        (640, 360),
    ];
    let code = qrcode::QrCode::new(b"QC:NOT-A-REAL-CARD-BUT-LOOKS-LIKE-ONE").expect("qr");
    let n = code.width();
    let modules = code.to_colors();
    for round in 0..60 {
        let (w, h) = sizes[round % sizes.len()];
        let kind = round % 5;
        let mut luma = vec![0u8; w * h];
        match kind {
            0 => luma.iter_mut().for_each(|v| *v = rng.next() as u8),
            1 => {
                let period = 1 + rng.below(9);
                for (i, v) in luma.iter_mut().enumerate() {
                    *v = if (i % w / period).is_multiple_of(2) {
                        10
                    } else {
                        240
                    };
                }
            }
            2 | 3 => {
                luma.iter_mut().for_each(|v| *v = 200);
                // Finder-like squares (and, for kind 3, a QR code with rows torn out).
                for _ in 0..(3 + rng.below(8)) {
                    let m = 1 + rng.below(6);
                    let (cx, cy) = (rng.below(w), rng.below(h));
                    for y in 0..7 * m {
                        for x in 0..7 * m {
                            let (mx, my) = (x / m, y / m);
                            let ring = mx.min(my).min(6 - mx).min(6 - my);
                            if cx + x < w && cy + y < h {
                                luma[(cy + y) * w + cx + x] = if ring == 1 { 200 } else { 15 };
                            }
                        }
                    }
                }
                if kind == 3 {
                    let m = 1 + rng.below(5);
                    let (ox, oy) = (rng.below(w / 2 + 1), rng.below(h / 2 + 1));
                    for y in 0..n * m {
                        if rng.below(6) == 0 {
                            continue; // torn row
                        }
                        for x in 0..n * m {
                            if ox + x < w
                                && oy + y < h
                                && modules[(y / m) * n + x / m] == qrcode::Color::Dark
                            {
                                luma[(oy + y) * w + ox + x] = 15;
                            }
                        }
                    }
                }
            }
            _ => {
                // Flat or near-flat frames.
                let base = rng.below(256) as u8;
                luma.iter_mut()
                    .for_each(|v| *v = base.saturating_add((rng.next() % 3) as u8));
            }
        }
        let frame = Frame::from_luma(w as u32, h as u32, luma).expect("frame");
        match s.scan(&frame) {
            ScanResult::Card(c) => panic!("round {round}: a card from noise: {:?}", c.bytes),
            ScanResult::Hint(_) => {}
        }
    }
    assert!(
        Frame::from_luma(2, 2, vec![0; 3]).is_none(),
        "size mismatch is refused"
    );
}

#[test]
fn dark_bright_and_empty_frames_get_their_hints() {
    let mut s = scanner();
    let black = Frame::from_luma(1280, 720, vec![4; 1280 * 720]).expect("frame");
    assert_eq!(s.scan(&black), ScanResult::Hint(Hint::TooDark));
    let white = Frame::from_luma(1280, 720, vec![255; 1280 * 720]).expect("frame");
    assert_eq!(s.scan(&white), ScanResult::Hint(Hint::TooBright));
    let grey = Frame::from_luma(640, 480, vec![128; 640 * 480]).expect("frame");
    assert_eq!(s.scan(&grey), ScanResult::Hint(Hint::NoCode));
    assert_eq!(Hint::TooDark.code(), "too_dark");
    assert!(!Hint::HoldStill.message().is_empty());
}

#[test]
fn small_codes_are_read_down_to_a_pixel_per_module() {
    // A real card text rendered at 1 pixel per module into a 1280×720 frame: seen, too small.
    let claims = quickcard::Claims::new(
        "stu-0001",
        quickcard::Role::Student,
        "sch-x",
        1_790_000_000,
        1_900_000_000,
        quickcard::Flags::default(),
    )
    .expect("claims");
    let text = quickcard::sign(&claims, &quickcard::IssuerKey::demo());
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .expect("qr");
    let n = code.width();
    let colors = code.to_colors();
    // `m` pixels per module at 2× size, then averaged down 2×: m/2 pixels per module.
    let render = |m: usize| {
        let (w, h) = (2560usize, 1440usize);
        let mut big = vec![225u8; w * h];
        for y in 0..n * m {
            for x in 0..n * m {
                if colors[(y / m) * n + x / m] == qrcode::Color::Dark {
                    big[(600 + y) * w + 1200 + x] = 25;
                }
            }
        }
        let luma = (0..1280 * 720)
            .map(|i| {
                let (x, y) = (i % 1280 * 2, i / 1280 * 2);
                let s = big[y * w + x] as u32
                    + big[y * w + x + 1] as u32
                    + big[(y + 1) * w + x] as u32
                    + big[(y + 1) * w + x + 1] as u32;
                (s / 4) as u8
            })
            .collect();
        Frame::from_luma(1280, 720, luma).expect("frame")
    };
    let mut s = scanner();
    // 6 pixels per module: read, at the right place.
    match s.scan(&render(12)) {
        ScanResult::Card(c) => {
            assert_eq!(c.bytes, text.as_bytes());
            assert!(
                (c.corners[0].x - 600.0).abs() < 8.0 && (c.corners[0].y - 300.0).abs() < 8.0,
                "{:?}",
                c.corners
            );
        }
        other => panic!("6 px modules not read: {other:?}"),
    }
    // Even 1 pixel per module is read (the scanner upsamples small codes) ...
    s.forget();
    assert!(matches!(s.scan(&render(2)), ScanResult::Card(_)));
    // ... but half a pixel per module is not: the answer is a hint, never a card.
    s.forget();
    let small = s.scan(&render(1));
    assert!(
        matches!(small, ScanResult::Hint(Hint::ComeCloser | Hint::NoCode)),
        "{small:?}"
    );
}
