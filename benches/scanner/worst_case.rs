//! The worst case per frame: median, p99.9 and maximum milliseconds over every frame there is,
//! ours beside zxing-cpp on the same pixels. A kiosk in a dim room sees empty frames all day,
//! so the slowest frame matters as much as the typical one.

#[path = "../../tests/scanner_support/pathological.rs"]
mod pathological;

use std::path::{Path, PathBuf};
use std::process::Command;

use quickcard_kiosk::scanner::{Frame, ScanConfig, Scanner, replay::load_frame};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Zx {
    ms: f64,
}

/// One set of frames: its name, the folder zxing-cpp reads, and the frames (named by file) as
/// we load them.
struct Set {
    name: &'static str,
    folder: PathBuf,
    frames: Vec<(String, Frame)>,
}

fn load_named(paths: &[PathBuf]) -> Vec<(String, Frame)> {
    paths
        .iter()
        .filter_map(|p| {
            Some((
                p.file_name()?.to_string_lossy().into_owned(),
                load_frame(p).ok()?,
            ))
        })
        .collect()
}

fn images_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(images_below(&p));
        } else if p.extension().and_then(|x| x.to_str()).is_some_and(|x| {
            ["png", "jpg", "jpeg", "webp", "gif", "bmp"].contains(&x.to_ascii_lowercase().as_str())
        }) {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The pathological frames in one folder: the dim room as shipped, the generated ones written
/// as PNG (lossless, so zxing-cpp reads the very pixels we scan).
fn pathological_set(photos: &Path) -> Set {
    let folder = std::env::temp_dir().join(format!("quickcard-worst-{}", std::process::id()));
    std::fs::create_dir_all(&folder).expect("temp folder");
    let dim = photos.join("pathological/dim-empty-room.jpg");
    std::fs::copy(&dim, folder.join("dim-empty-room.jpg")).expect("dim room frame");
    let mut frames = vec![(
        "dim-empty-room.jpg".to_string(),
        load_frame(&dim).expect("dim room loads"),
    )];
    for (name, luma) in pathological::frames() {
        let (w, h) = (pathological::W as u32, pathological::H as u32);
        image::GrayImage::from_raw(w, h, luma.clone())
            .expect("size")
            .save(folder.join(format!("{name}.png")))
            .expect("write png");
        frames.push((
            format!("{name}.png"),
            Frame::from_luma(w, h, luma).expect("size"),
        ));
    }
    Set {
        name: "pathological (no code)",
        folder,
        frames,
    }
}

fn real_set() -> Option<Set> {
    let folder = std::env::var_os("QUICKCARD_REAL_PHOTOS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/real-qr-photos")
        });
    let frames = load_named(&images_below(&folder));
    (!frames.is_empty()).then_some(Set {
        name: "real photos of QR codes",
        folder,
        frames,
    })
}

fn ours(frames: &[(String, Frame)]) -> Vec<f64> {
    let mut scanner = Scanner::new(ScanConfig::default());
    frames
        .iter()
        .map(|(_, f)| {
            let mut t: Vec<f64> = (0..3)
                .map(|_| {
                    scanner.forget();
                    scanner.scan(f);
                    scanner.last_stats().ms
                })
                .collect();
            t.sort_by(f64::total_cmp);
            t[1]
        })
        .collect()
}

fn zxing(folder: &Path) -> Option<Vec<f64>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/zxing_photos.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(folder)
        .arg("3")
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Zx>(l).ok())
            .map(|z| z.ms)
            .collect(),
    )
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn cells(v: &mut [f64]) -> String {
    format!(
        "{:.1} | {:.1} | {:.1}",
        pct(v, 0.5),
        pct(v, 0.999),
        pct(v, 1.0)
    )
}

/// Prints the worst-case table for the card photos in `photos` and the other sets (a smoke
/// run: the pathological frames once each, without zxing-cpp).
pub fn report(photos: &Path, smoke: bool) {
    if smoke {
        let set = pathological_set(photos);
        let mut scanner = Scanner::new(ScanConfig::default());
        for (_, f) in &set.frames {
            scanner.scan(f);
        }
        println!(
            "worst case (smoke run): {} pathological frames scanned",
            set.frames.len()
        );
        let _ = std::fs::remove_dir_all(&set.folder);
        return;
    }
    let mut sets = vec![Set {
        name: "card photos (all categories)",
        folder: photos.to_path_buf(),
        frames: load_named(
            &images_below(photos)
                .into_iter()
                .filter(|p| p.parent() == Some(photos))
                .collect::<Vec<_>>(),
        ),
    }];
    sets.push(pathological_set(photos));
    sets.extend(real_set());
    println!(
        "\n| frames (25 ms budget) | n | ours median ms | ours p99.9 | ours max | zxing median ms | zxing p99.9 | zxing max |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let (mut all_ours, mut all_zx) = (Vec::new(), Vec::new());
    let mut slowest = Vec::new();
    for set in &sets {
        let mut o = ours(&set.frames);
        if let Some((i, ms)) = o
            .iter()
            .copied()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(&b.1))
        {
            slowest.push(format!("{} ({}, {ms:.1} ms)", set.frames[i].0, set.name));
        }
        let z = zxing(&set.folder);
        let zcells = match &z {
            Some(z) => cells(&mut z.clone()),
            None => "– | – | –".into(),
        };
        println!(
            "| {} | {} | {} | {zcells} |",
            set.name,
            o.len(),
            cells(&mut o)
        );
        all_ours.extend(o);
        all_zx.extend(z.unwrap_or_default());
    }
    let zcells = if all_zx.is_empty() {
        "– | – | –".into()
    } else {
        cells(&mut all_zx)
    };
    println!(
        "| **every frame** | {} | {} | {zcells} |",
        all_ours.len(),
        cells(&mut all_ours)
    );
    println!("\nslowest frame of each set: {}", slowest.join(", "));
    let _ = std::fs::remove_dir_all(&sets[1].folder);
}
