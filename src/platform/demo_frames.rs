//! Frames for the camera-less demo and the end-to-end test.
//!
//! The demo replays the scanner's sample photo set (`sample-cards/photos/`, see its
//! `manifest.json`): a few classroom frames without a code (so the scanning screen and its
//! hints show first), then real photos of a sample card of a user on the sample roster, then
//! the classroom again. Those cards are signed with the demo key and valid until 2031.
//!
//! For roster users the photo set has no card of (or a card that asks for a second factor, or
//! when the photos are missing or their cards expired), a card is made at start-up instead and
//! drawn onto a classroom photo the way a child would hold it up.

use std::path::Path;

use quickcard::{Claims, Flags, IssuerKey, Role};

use crate::scanner::Frame;
use crate::scanner::replay::load_frame;

/// The demo student (on the sample roster).
pub const DEMO_STUDENT: &str = "stu-1001";
/// The sample roster's school.
pub const DEMO_SCHOOL: &str = "sch-lincoln-elementary";

const W: u32 = 1280;
const H: u32 = 720;

/// A demo card's text for `subject`, valid from yesterday for a year.
pub fn demo_card(subject: &str, role: Role, school: &str, now: u64, second_factor: bool) -> String {
    let claims = Claims::new(
        subject,
        role,
        school,
        now.saturating_sub(86_400),
        now + 365 * 86_400,
        Flags { second_factor },
    )
    .expect("demo claims are valid");
    quickcard::sign(&claims, &IssuerKey::demo())
}

/// Classroom photos without a code (`no-code-*.jpg`), or plain grey frames when the photos are
/// missing.
pub fn backgrounds(photos: &Path, n: usize) -> Vec<Frame> {
    let mut out: Vec<Frame> = (0..n)
        .filter_map(|i| load_frame(&photos.join(format!("no-code-{i:02}.jpg"))).ok())
        .filter(|f| f.rgb.is_some())
        .collect();
    while out.len() < n {
        let v = 90 + (out.len() as u8) * 10;
        out.push(Frame::from_rgb(W, H, vec![v; (W * H * 3) as usize]).expect("size"));
    }
    out
}

/// `background` with a printed card holding `text` as a QR code, centred (`offset_x` moves
/// it), `module` pixels per QR module.
pub fn with_card(background: &Frame, text: &str, module: u32, offset_x: i32) -> Frame {
    let (w, h) = (background.width, background.height);
    let mut rgb = background
        .rgb
        .clone()
        .unwrap_or_else(|| background.luma.iter().flat_map(|&l| [l, l, l]).collect());
    let Ok(code) = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
    else {
        return background.clone();
    };
    let n = code.width() as u32;
    let colors = code.to_colors();
    let qr_px = n * module;
    let card_w = qr_px * 2 + module * 10;
    let card_h = qr_px + module * 14;
    let x0 = (w as i32 / 2 - card_w as i32 / 2 + offset_x).max(0) as u32;
    let y0 = (h / 2).saturating_sub(card_h / 2);
    let mut put = |x: u32, y: u32, c: [u8; 3]| {
        if x < w && y < h {
            let i = ((y * w + x) * 3) as usize;
            rgb[i..i + 3].copy_from_slice(&c);
        }
    };
    for y in 0..card_h {
        for x in 0..card_w {
            let band = y < module * 5;
            put(
                x0 + x,
                y0 + y,
                if band {
                    [0x1D, 0x4E, 0xD8]
                } else {
                    [250, 250, 246]
                },
            );
        }
    }
    let qx = x0 + module * 4;
    let qy = y0 + module * 9;
    for my in 0..n {
        for mx in 0..n {
            if colors[(my * n + mx) as usize] == qrcode::Color::Dark {
                for dy in 0..module {
                    for dx in 0..module {
                        put(qx + mx * module + dx, qy + my * module + dy, [20, 20, 28]);
                    }
                }
            }
        }
    }
    // Two grey "name" lines beside the code.
    for line in 0..2u32 {
        let ly = qy + qr_px / 3 + line * module * 6;
        for y in ly..ly + module * 2 {
            for x in (qx + qr_px + module * 4)..(x0 + card_w - module * (4 + line * 6)) {
                put(x, y, [110, 110, 120]);
            }
        }
    }
    Frame::from_rgb(w, h, rgb).expect("size unchanged")
}

/// The demo sequence: `lead` classroom frames, `hold` frames with the demo student's card,
/// then `lead` classroom frames again.
pub fn demo_sequence(photos: &Path, card_text: &str, lead: usize, hold: usize) -> Vec<Frame> {
    let bg = backgrounds(photos, lead.max(1));
    let mut frames: Vec<Frame> = bg.clone();
    for i in 0..hold {
        frames.push(with_card(
            &bg[i % bg.len()],
            card_text,
            6,
            (i as i32 % 3 - 1) * 4,
        ));
    }
    frames.extend(bg);
    frames
}

/// A photo of the sample set with its manifest entry (only what the demo needs).
#[derive(Debug, serde::Deserialize)]
struct PhotoEntry {
    file: String,
    category: String,
    expect: String,
    text: Option<String>,
    subject: Option<String>,
}

/// Categories the demo shows a card in, easiest first: a newcomer should see a card read
/// at once, then the kiosk coping with a tilted and a rotated card.
const DEMO_CATEGORIES: [&str; 4] = ["baseline", "large", "perspective", "rotation"];

/// The sample photos of `subject`'s card (a roster id, normalised like the card does) from
/// `photos/manifest.json`, in `DEMO_CATEGORIES` order, with the card's text. `None` when
/// the manifest is missing or unreadable, or has no such card.
pub fn card_photos(photos: &Path, subject: &str) -> Option<(String, Vec<Frame>)> {
    let subject = quickcard::Subject::parse(subject).ok()?.to_string();
    let manifest = std::fs::read_to_string(photos.join("manifest.json")).ok()?;
    let entries: Vec<PhotoEntry> = serde_json::from_str(&manifest).ok()?;
    let mut text = None;
    let mut frames = Vec::new();
    for category in DEMO_CATEGORIES {
        for e in entries.iter().filter(|e| {
            e.category == category
                && e.expect == "card"
                && e.subject.as_deref() == Some(subject.as_str())
        }) {
            let (Some(t), Ok(frame)) = (&e.text, load_frame(&photos.join(&e.file))) else {
                continue;
            };
            text.get_or_insert_with(|| t.clone());
            frames.push(frame);
        }
    }
    Some((text?, frames))
}

/// The demo sequence from the sample photos alone: `lead` classroom frames, `hold` frames
/// cycling through the photos of `subject`'s card (see [`card_photos`]), then `lead`
/// classroom frames again. Returns the card's text too. `None` when the photo set has no
/// card of `subject`, or it does not verify with the demo key at `now` (unix seconds) for
/// [`DEMO_SCHOOL`], or asks for a second factor.
pub fn photo_sequence(
    photos: &Path,
    subject: &str,
    now: u64,
    lead: usize,
    hold: usize,
) -> Option<(String, Vec<Frame>)> {
    let (text, cards) = card_photos(photos, subject)?;
    let trust = quickcard::TrustList::new(
        vec![quickcard::TrustedKey::new(
            IssuerKey::demo().public(),
            "demo",
        )],
        true,
    )
    .ok()?;
    let opts = quickcard::VerifyOptions {
        now,
        skew_secs: 0,
        school: Some(DEMO_SCHOOL.into()),
        ..quickcard::VerifyOptions::default()
    };
    let card = quickcard::verify(text.as_bytes(), &trust, &opts).ok()?;
    if card.claims.flags.second_factor || cards.is_empty() {
        return None;
    }
    let bg = backgrounds(photos, lead.max(1));
    let mut frames: Vec<Frame> = bg.clone();
    frames.extend(cards.iter().cycle().take(hold.max(1)).cloned());
    frames.extend(bg);
    Some((text, frames))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scanner::{ScanConfig, ScanResult, Scanner};

    fn photos() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-cards/photos")
    }

    #[test]
    fn the_photo_sequence_shows_the_demo_students_sample_card() {
        // 2026-11-25: within the sample cards' validity (2026-08-01 → 2031-07-31).
        let now = 1_795_600_000;
        let (text, frames) = photo_sequence(&photos(), DEMO_STUDENT, now, 2, 3).expect("photos");
        assert_eq!(frames.len(), 2 + 3 + 2);
        let mut scanner = Scanner::new(ScanConfig {
            budget_ms: None,
            ..ScanConfig::default()
        });
        // Classroom first (no card), then the photographed card, read from the JPEG.
        assert!(!matches!(scanner.scan(&frames[0]), ScanResult::Card(_)));
        for frame in &frames[2..5] {
            match scanner.scan(frame) {
                ScanResult::Card(found) => assert_eq!(found.bytes, text.as_bytes()),
                other => panic!("not read: {other:?}"),
            }
        }
        let card = quickcard::decode(text.as_bytes()).expect("a QuickCard");
        assert_eq!(card.claims.subject.to_string(), DEMO_STUDENT);
        // After the cards expire, or for a user without a sample card, there is no sequence.
        assert!(photo_sequence(&photos(), DEMO_STUDENT, 2_000_000_000, 2, 3).is_none());
        assert!(photo_sequence(&photos(), "stu-3009", now, 2, 3).is_none());
    }

    #[test]
    fn the_drawn_card_is_read_by_the_scanner_and_verifies() {
        let now = 1_800_000_000;
        let text = demo_card(DEMO_STUDENT, Role::Student, DEMO_SCHOOL, now, false);
        let bg = &backgrounds(Path::new("/nonexistent"), 1)[0];
        let frame = with_card(bg, &text, 6, 0);
        let mut scanner = Scanner::new(ScanConfig {
            budget_ms: None,
            ..ScanConfig::default()
        });
        match scanner.scan(&frame) {
            ScanResult::Card(found) => assert_eq!(found.bytes, text.as_bytes()),
            other => panic!("not read: {other:?}"),
        }
        let trust = quickcard::TrustList::new(
            vec![quickcard::TrustedKey::new(
                IssuerKey::demo().public(),
                "demo",
            )],
            true,
        )
        .unwrap();
        let opts = quickcard::VerifyOptions {
            now,
            skew_secs: 0,
            school: Some(DEMO_SCHOOL.into()),
            ..quickcard::VerifyOptions::default()
        };
        let card = quickcard::verify(text.as_bytes(), &trust, &opts).unwrap();
        assert_eq!(card.claims.subject.to_string(), DEMO_STUDENT);
    }
}
