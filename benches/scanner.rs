//! Scanner benchmark (a bench binary, not a test): decode rate and median / p95 milliseconds per
//! 1280×720 frame for every category of `sample-cards/photos`, beside zxing-cpp on the same
//! frames (through `scripts/zxing_photos.py`; needs `pip install zxing-cpp pillow`).
//!
//! Run: `cargo bench -p quickcard-kiosk --bench scanner` (optionally `taskset -c 1` in front to
//! pin it to one core). Prints a Markdown table for `docs/scanner.md`.
//!
//! The scanner runs as the kiosk runs it (`ScanConfig::default()`: 25 ms budget per frame),
//! with its memory cleared before every frame because each frame is a different scene. Times
//! are the median of 5 runs per frame (the first run's result counts for the rate).
//!
//! A second table is the **worst case**: median, 99.9th percentile and maximum time per frame
//! over every frame there is — the card photos, the pathological frames (the dim empty room and
//! the generated textures of `tests/scanner_support/pathological.rs`) and, when present, the
//! real photos of ordinary QR codes (`QUICKCARD_REAL_PHOTOS`, default
//! `../shared/data/real-qr-photos`) — each beside zxing-cpp on the same pixels.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use quickcard_kiosk::scanner::{Hint, ScanConfig, ScanResult, Scanner, replay::load_frame};
use serde::Deserialize;

#[path = "scanner/dev_set.rs"]
mod dev_set;
#[path = "harness/mod.rs"]
mod harness;
// The photo generator's own category list, in the order it writes the set.
#[path = "../examples/make_photos/categories.rs"]
mod photo_categories;
#[path = "scanner/worst_case.rs"]
mod worst_case;

#[derive(Debug, Deserialize)]
struct Entry {
    file: String,
    category: String,
    expect: String,
    text: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Zx {
    file: String,
    found: bool,
    text: Option<String>,
    ms: f64,
}

#[derive(Default)]
struct Cat {
    n: usize,
    ours_ok: usize,
    zx_ok: usize,
    ours_ms: Vec<f64>,
    zx_ms: Vec<f64>,
    wrong: usize,
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let i = ((v.len() - 1) as f64 * p).round() as usize;
    v[i]
}

fn correct(e: &Entry, found: Option<&str>) -> bool {
    match e.expect.as_str() {
        "none" => found.is_none(),
        _ => found.is_some() && found == e.text.as_deref(),
    }
}

fn main() {
    // The smoke run (benches/harness/mod.rs): every frame once, no zxing-cpp, the worst-case
    // table over the pathological frames only.
    let smoke = match harness::mode(false) {
        harness::Mode::Measure => false,
        harness::Mode::Smoke => true,
        harness::Mode::Done => return,
    };
    let repeats = if smoke { 1 } else { 5 };
    // A folder may be given instead of the default set.
    let dir = harness::args()
        .into_iter()
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-cards/photos"));
    let manifest: Vec<Entry> = serde_json::from_str(
        &std::fs::read_to_string(dir.join("manifest.json")).expect("manifest"),
    )
    .expect("manifest parses");

    let mut cats: BTreeMap<String, Cat> = BTreeMap::new();
    let mut scanner = Scanner::new(ScanConfig::default());
    let mut all_ms = Vec::new();
    let (mut ours_missed, mut zx_missed) = (Vec::new(), Vec::new());
    for e in &manifest {
        let frame = load_frame(&dir.join(&e.file)).expect("frame");
        let mut times = Vec::new();
        let mut first = None;
        for _ in 0..repeats {
            scanner.forget();
            let r = scanner.scan(&frame);
            times.push(scanner.last_stats().ms);
            first.get_or_insert(r);
        }
        let text = match first.expect("ran") {
            ScanResult::Card(c) => Some(String::from_utf8_lossy(&c.bytes).into_owned()),
            ScanResult::Hint(Hint::NotQuickCard { text, .. }) => Some(text),
            ScanResult::Hint(_) => None,
        };
        let c = cats.entry(e.category.clone()).or_default();
        c.n += 1;
        let ok = correct(e, text.as_deref());
        c.ours_ok += ok as usize;
        if !ok {
            ours_missed.push(e.file.clone());
        }
        c.wrong += (text.is_some() && text.as_deref() != e.text.as_deref()) as usize;
        let ms = pct(&mut times, 0.5);
        c.ours_ms.push(ms);
        all_ms.push(ms);
    }

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/zxing_photos.py");
    let zx = if smoke {
        Err(std::io::Error::other("smoke run"))
    } else {
        Command::new("python3")
            .arg(&script)
            .arg(&dir)
            .arg("5")
            .output()
    };
    let mut zx_all = Vec::new();
    let have_zx = match zx {
        Ok(out) if out.status.success() => {
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                let z: Zx = serde_json::from_str(line).expect("zxing line");
                let e = manifest
                    .iter()
                    .find(|e| e.file == z.file)
                    .expect("known file");
                let c = cats.get_mut(&e.category).expect("category");
                let ok = correct(e, z.text.as_deref().filter(|_| z.found));
                c.zx_ok += ok as usize;
                if !ok {
                    zx_missed.push(z.file.clone());
                }
                c.zx_ms.push(z.ms);
                zx_all.push(z.ms);
            }
            true
        }
        Ok(out) => {
            eprintln!(
                "zxing-cpp comparison skipped: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            false
        }
        Err(e) => {
            eprintln!("zxing-cpp comparison skipped: python3: {e}");
            false
        }
    };

    println!(
        "| category | frames | rqrr pipeline read | zxing-cpp read | read ratio | rqrr median ms | rqrr p95 ms | zxing median ms | zxing p95 ms | time ratio (median) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let order = photo_categories::CATEGORIES;
    let mut tot = Cat::default();
    for name in order.iter().map(|s| s.to_string()).chain(
        cats.keys()
            .filter(|k| !order.contains(&k.as_str()))
            .cloned()
            .collect::<Vec<_>>(),
    ) {
        let Some(c) = cats.get_mut(&name) else {
            continue;
        };
        tot.n += c.n;
        tot.ours_ok += c.ours_ok;
        tot.zx_ok += c.zx_ok;
        tot.wrong += c.wrong;
        let (om, o95) = (pct(&mut c.ours_ms, 0.5), pct(&mut c.ours_ms, 0.95));
        if have_zx {
            let (zm, z95) = (pct(&mut c.zx_ms, 0.5), pct(&mut c.zx_ms, 0.95));
            let ratio = if c.zx_ok == 0 {
                if c.ours_ok == 0 {
                    "1.00".into()
                } else {
                    "∞".into()
                }
            } else {
                format!("{:.2}", c.ours_ok as f64 / c.zx_ok as f64)
            };
            println!(
                "| {name} | {} | {}/{} | {}/{} | {ratio} | {om:.1} | {o95:.1} | {zm:.1} | {z95:.1} | {:.1}× |",
                c.n,
                c.ours_ok,
                c.n,
                c.zx_ok,
                c.n,
                om / zm
            );
        } else {
            println!(
                "| {name} | {} | {}/{} | – | – | {om:.1} | {o95:.1} | – | – | – |",
                c.n, c.ours_ok, c.n
            );
        }
    }
    let (om, o95) = (pct(&mut all_ms, 0.5), pct(&mut all_ms, 0.95));
    if have_zx {
        let (zm, z95) = (pct(&mut zx_all, 0.5), pct(&mut zx_all, 0.95));
        println!(
            "| **all** | {} | {}/{} | {}/{} | {:.2} | {om:.1} | {o95:.1} | {zm:.1} | {z95:.1} | {:.1}× |",
            tot.n,
            tot.ours_ok,
            tot.n,
            tot.zx_ok,
            tot.n,
            tot.ours_ok as f64 / tot.zx_ok.max(1) as f64,
            om / zm
        );
    } else {
        println!(
            "| **all** | {} | {}/{} | – | – | {om:.1} | {o95:.1} | – | – | – |",
            tot.n, tot.ours_ok, tot.n
        );
    }
    println!(
        "\nwrong reads (a code reported with other content than the frame holds): {}",
        tot.wrong
    );
    println!("not read by the pipeline: {}", ours_missed.join(", "));
    if have_zx {
        println!("not read by zxing-cpp: {}", zx_missed.join(", "));
    }
    worst_case::report(&dir, smoke);
    if !smoke {
        dev_set::report(
            &std::env::var_os("QUICKCARD_REAL_PHOTOS")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/real-qr-photos")
                }),
        );
    }
}
