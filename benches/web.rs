//! Browser kiosk benchmark (a bench binary, not a test):
//! `scripts/build-web.sh && cargo bench -p quickcard-kiosk --bench web`.
//!
//! Needs the bundle and `chromium` + `chromium-driver`, so its smoke run (one load, every 8th
//! photo, one pass; `benches/harness/mod.rs`) is ignored like the browser tests and runs with
//! them (`scripts/test.sh`). It reports, for the README:
//!
//! 1. what the page downloads, gzip, as the portal serves it (`Accept-Encoding: gzip`);
//! 2. page load → first card read, real time, in headless Chromium on loopback with the fake
//!    camera showing a sample card: cold (fresh profile, empty cache) and warm (the same
//!    browser loading the page again: the hashed JavaScript and wasm come from its cache);
//! 3. scan time per 1280×720 frame in the browser (the wasm build, through the page's
//!    `quickcard_scan_timing` export: RGBA → luma → scanner, as the camera path does) and
//!    natively (the same steps, same scanner settings), on the same sample photos in the same
//!    order, and the ratio.

#[path = "harness/mod.rs"]
mod harness;
#[path = "../tests/web_support/mod.rs"]
mod web_support;

use std::path::Path;
use std::time::Duration;

use quickcard_kiosk::scanner::{Frame, ScanConfig, Scanner};
use quickcard_portal::demo::DemoOptions;
use serde_json::Value;
use web_support::{Driver, photo_of, sample_photo, write_y4m};

/// How much to measure: page loads per cache state, scan passes over the photos, and which
/// photos (every `photo_step`th of the manifest).
#[derive(Debug, Clone, Copy)]
struct Size {
    loads: usize,
    passes: usize,
    photo_step: usize,
}

fn main() {
    let size = match harness::mode(true) {
        harness::Mode::Measure => Size {
            loads: 5,
            passes: 3,
            photo_step: 1,
        },
        // Every 8th photo still has frames without a card (eight `no-code` photos in a row).
        harness::Mode::Smoke => Size {
            loads: 1,
            passes: 1,
            photo_step: 8,
        },
        harness::Mode::Done => return,
    };
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(run(size));
}

fn photos_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-cards/photos")
}

/// The sample photos, in manifest order, with whether each shows a card.
fn photos() -> Vec<(String, bool)> {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(photos_dir().join("manifest.json")).unwrap())
            .unwrap();
    manifest
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_string(),
                f["expect"] == "card",
            )
        })
        .collect()
}

async fn run(size: Size) {
    let Size { loads, passes, .. } = size;
    // The bundle plus the sample photos, served together by the portal, so the page can load
    // the photos from its own origin.
    let bundle = web_support::bundle_dir();
    let served = tempfile::tempdir().unwrap();
    let (mut js_name, mut wasm_name, mut worker_name) =
        (String::new(), String::new(), String::new());
    for e in std::fs::read_dir(&bundle).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("scan-worker") && name.ends_with(".js") {
            worker_name = name.clone();
        } else if name.ends_with(".js") {
            js_name = name.clone();
        } else if name.ends_with(".wasm") {
            wasm_name = name.clone();
        }
        std::fs::copy(e.path(), served.path().join(&name)).unwrap();
    }
    let photos: Vec<(String, bool)> = photos().into_iter().step_by(size.photo_step).collect();
    for (p, _) in &photos {
        std::fs::copy(photos_dir().join(p), served.path().join(p)).unwrap();
    }
    let portal = web_support::web_portal(served.path().to_path_buf(), DemoOptions::default()).await;
    let (_, credential) = web_support::enrol_kiosk(&portal, "WEB-BENCH").await;
    let page = format!(
        "{}/kiosk/?mode=lab&demo=1#credential={credential}",
        portal.url
    );

    // 1. Download size, as served.
    let http = reqwest::Client::new();
    let mut total = 0usize;
    let mut rows = Vec::new();
    for name in [
        "",
        "manifest.webmanifest",
        &js_name,
        &wasm_name,
        &worker_name,
    ] {
        let r = http
            .get(format!("{}/kiosk/{name}", portal.url))
            .header("Accept-Encoding", "gzip")
            .send()
            .await
            .unwrap();
        let enc = r
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let n = r.bytes().await.unwrap().len();
        total += n;
        rows.push(format!(
            "  {:<44} {n:>9} bytes {enc}",
            if name.is_empty() { "index.html" } else { name }
        ));
    }
    println!("download (as served, Accept-Encoding: gzip):");
    for r in rows {
        println!("{r}");
    }
    println!("  total {:.2} MB", total as f64 / 1e6);

    // 2. Page load → first card, cold and warm.
    let tmp = tempfile::tempdir().unwrap();
    let driver = Driver::start().await;
    let card_video = tmp.path().join("card.y4m");
    write_y4m(
        &card_video,
        &vec![sample_photo(&photo_of("baseline", "stu-1001")); 8],
    );
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    for i in 0..loads {
        let browser = driver
            .browser(&card_video, &tmp.path().join(format!("profile-{i}")))
            .await;
        for (pass, out) in [(0, &mut cold), (1, &mut warm)] {
            if pass == 1 {
                // Leave the page so the next load starts from scratch (but with a cache).
                browser.goto("about:blank").await;
            }
            browser.goto(&page).await;
            browser
                .wait_for_state("dashboard", Duration::from_secs(60))
                .await;
            let ms = browser
                .run(
                    "return Number(document.getElementById('quickcard-state').dataset.firstCardMs)",
                )
                .await
                .as_f64()
                .unwrap();
            out.push(ms);
        }
        browser.close().await;
    }
    println!(
        "page load → first card read (ms, {loads} loads each): cold median {:.0} (min {:.0}, max {:.0}); warm median {:.0} (min {:.0}, max {:.0})",
        median(&mut cold.clone()),
        min(&cold),
        max(&cold),
        median(&mut warm.clone()),
        min(&warm),
        max(&warm)
    );

    // 3. Scan time per frame, browser vs native, same photos, same order.
    let blank = tmp.path().join("blank.y4m");
    write_y4m(
        &blank,
        &[image::RgbImage::from_pixel(
            1280,
            720,
            image::Rgb([250, 250, 250]),
        )],
    );
    let browser = driver
        .browser(&blank, &tmp.path().join("profile-scan"))
        .await;
    browser.goto(&page).await;
    browser
        .wait_for_state("scanning", Duration::from_secs(60))
        .await;
    browser.script_timeout(Duration::from_secs(600)).await;
    let names: Vec<&str> = photos.iter().map(|(p, _)| p.as_str()).collect();
    let script = format!(
        "const m = await import('./{js_name}');
         const names = {names};
         const canvas = document.createElement('canvas');
         const ctx = canvas.getContext('2d', {{ willReadFrequently: true }});
         const frames = [];
         for (const n of names) {{
           const img = new Image();
           img.src = './' + n;
           await img.decode();
           canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
           ctx.drawImage(img, 0, 0);
           frames.push(ctx.getImageData(0, 0, canvas.width, canvas.height));
         }}
         const out = [];
         for (let pass = 0; pass < {passes}; pass++) {{
           for (const f of frames) {{
             const r = m.quickcard_scan_timing(f.width, f.height, f.data);
             out.push([r[0], r[1]]);
           }}
         }}
         return out;",
        names = serde_json::to_string(&names).unwrap()
    );
    let web: Vec<(f64, bool)> = browser
        .run(&script)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r[0].as_f64().unwrap(), r[1].as_f64().unwrap() > 0.5))
        .collect();
    browser.close().await;

    let mut scanner = Scanner::new(ScanConfig::default());
    let frames: Vec<(u32, u32, Vec<u8>)> = photos
        .iter()
        .map(|(p, _)| {
            let img = image::open(photos_dir().join(p)).unwrap().to_rgba8();
            (img.width(), img.height(), img.into_raw())
        })
        .collect();
    let mut native: Vec<(f64, bool)> = Vec::new();
    for _ in 0..passes {
        for (w, h, rgba) in &frames {
            let t = std::time::Instant::now();
            let frame = Frame::from_rgba(*w, *h, rgba).unwrap();
            let read = scanner.scan(&frame).card().is_some();
            native.push((t.elapsed().as_secs_f64() * 1000.0, read));
        }
    }
    assert_eq!(web.len(), native.len());
    println!(
        "scan per 1280×720 frame (RGBA → luma → scanner), {} photos × {passes} passes:",
        photos.len()
    );
    println!(
        "| frames | browser (wasm) median / p95 ms | native median / p95 ms | ratio of medians | cards read browser / native |"
    );
    println!("|---|---:|---:|---:|---:|");
    for (label, want) in [
        ("all", None),
        ("with a card", Some(true)),
        ("without a card", Some(false)),
    ] {
        let pick = |v: &[(f64, bool)]| -> (Vec<f64>, usize) {
            let mut ms = Vec::new();
            let mut reads = 0;
            for (i, (t, r)) in v.iter().enumerate() {
                let card = photos[i % photos.len()].1;
                if want.is_none_or(|w| w == card) {
                    ms.push(*t);
                    reads += usize::from(*r);
                }
            }
            (ms, reads)
        };
        let (mut w, wr) = pick(&web);
        let (mut n, nr) = pick(&native);
        let (wm, nm) = (median(&mut w), median(&mut n));
        println!(
            "| {label} | {wm:.1} / {:.1} | {nm:.1} / {:.1} | {:.2}× | {wr} / {nr} |",
            p95(&mut w),
            p95(&mut n),
            wm / nm
        );
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn p95(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 * 0.95) as usize).min(v.len() - 1)]
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(0.0, f64::max)
}
