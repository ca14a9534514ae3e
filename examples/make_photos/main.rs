//! Renders `sample-cards/photos/`: realistic 1280×720 camera frames of QuickCards (signed with
//! the demo key), foreign QR codes and empty scenes, through the distortions children and cheap
//! cameras produce, plus `manifest.json` with the expected result of every frame.
//!
//! Deterministic (a fixed-seed PRNG), so the set can be regenerated and reviewed:
//! `scripts/make-photos.sh` (= `cargo run --example make_photos -- sample-cards/photos`).
//!
//! The pieces: [`picture`] (pixels, blurs, the seeded random source), [`printed`] (the card
//! and the book page), [`scene`] (background, pose and projection), [`distort`] (each
//! category's trouble) and [`categories`] (the category list, shared with the scanner
//! benchmark).

// Pixel and matrix arithmetic reads more clearly with explicit channel/row indices.
#![allow(clippy::needless_range_loop)]

mod categories;
mod distort;
mod picture;
mod printed;
mod scene;

use std::path::{Path, PathBuf};

use image::RgbImage;
use quickcard::{Claims, Flags, IssuerKey, Role};
use serde::Serialize;

use categories::CATEGORIES;
use distort::{Label, distort};
use picture::{Img, Rng, to_rgb};
use printed::{Printed, book, card, pyramid};
use scene::{Pose, background, composite};

const W: u32 = 1280;
const H: u32 = 720;
const PER_CATEGORY: usize = 8;

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
            let mut label = Label {
                params,
                quality: quality_of(category),
            };
            distort(&mut frame, category, i, t, corners, &mut rng, &mut label);
            let Label { params, quality } = label;
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
