//! `quickcard-kiosk decode`: one JSON object per image, verification against the given keys,
//! exit 0 even when nothing is found, non-zero for unusable arguments or unreadable files.

use std::path::{Path, PathBuf};
use std::process::Command;

fn photo(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-cards/photos")
        .join(name)
}

fn decode(args: &[&str]) -> (i32, Vec<serde_json::Value>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_quickcard-kiosk"))
        .arg("decode")
        .args(args)
        .output()
        .expect("runs");
    let lines = String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON object"))
        .collect();
    (
        out.status.code().expect("exit code"),
        lines,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn decode_reports_cards_foreign_codes_and_empty_frames() {
    let card = photo("perspective-05.jpg");
    let foreign = photo("foreign-00.jpg");
    let empty = photo("no-code-00.jpg");
    let (code, lines, _) = decode(&[
        "--demo",
        "--now",
        "2026-11-25",
        card.to_str().expect("path"),
        foreign.to_str().expect("path"),
        empty.to_str().expect("path"),
    ]);
    assert_eq!(code, 0, "nothing unusable: exit 0 even for the empty frame");
    assert_eq!(lines.len(), 3);

    let c = &lines[0];
    assert_eq!(c["file"], card.display().to_string());
    assert_eq!(c["found"], true);
    assert_eq!(c["quickcard"], true);
    assert!(c["text"].as_str().expect("text").starts_with("QC:"));
    assert_eq!(c["verification"]["ok"], true);
    assert_eq!(c["verification"]["key_name"], "QuickCard demo key");
    assert!(c["hint"].is_null());
    assert_eq!(c["corners"].as_array().expect("corners").len(), 4);
    assert!(c["ms"].as_f64().expect("ms") > 0.0);

    let f = &lines[1];
    assert_eq!(f["found"], true);
    assert_eq!(f["quickcard"], false);
    assert!(f["text"].as_str().expect("text").starts_with("https://"));
    assert_eq!(f["hint"], "not_quickcard");
    assert_eq!(f["verification"]["ok"], false);
    assert_eq!(f["verification"]["error"], "not_quickcard");

    let e = &lines[2];
    assert_eq!(e["found"], false);
    assert!(e["text"].is_null() && e["corners"].is_null() && e["verification"].is_null());
    assert_eq!(e["hint"], "no_code");
}

#[test]
fn without_keys_nothing_is_verified_and_the_demo_key_needs_demo() {
    let card = photo("baseline-00.jpg");
    let (code, lines, _) = decode(&[card.to_str().expect("path")]);
    assert_eq!(code, 0);
    assert_eq!(lines[0]["quickcard"], true);
    assert!(
        lines[0]["verification"].is_null(),
        "no --trust: not verified"
    );

    // The demo key given as a trusted key without --demo is refused with a reason.
    let demo = quickcard::IssuerKey::demo().public().to_string();
    let (code, lines, err) = decode(&["--trust", &demo, card.to_str().expect("path")]);
    assert_ne!(code, 0);
    assert!(lines.is_empty());
    assert!(err.contains("demo"), "{err}");

    // Another key: the demo-signed card is from an unknown key.
    let other = quickcard::IssuerKey::from_seed([7; 32], "other")
        .public()
        .to_string();
    let (code, lines, _) = decode(&["--trust", &other, card.to_str().expect("path")]);
    assert_eq!(code, 0);
    assert_eq!(lines[0]["verification"]["error"], "unknown_key");
}

#[test]
fn unreadable_files_are_reported_and_make_the_exit_status_non_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = dir.path().join("broken.png");
    std::fs::write(&broken, b"\x89PNG nope").expect("write");
    let good = photo("baseline-01.jpg");
    let (code, lines, err) = decode(&[
        broken.to_str().expect("path"),
        good.to_str().expect("path"),
        "/no/such/file.jpg",
    ]);
    assert_eq!(code, 1);
    assert_eq!(lines.len(), 3, "every argument gets its line");
    assert!(
        lines[0]["error"]
            .as_str()
            .expect("error")
            .contains("broken.png")
    );
    assert_eq!(lines[1]["found"], true);
    assert!(lines[2]["error"].is_string());
    assert!(err.contains("/no/such/file.jpg"));
    // No images at all is an unusable command line.
    let (code, _, _) = decode(&[]);
    assert_eq!(code, 2);
}

#[test]
fn webp_gif_and_bmp_are_read_and_other_files_say_what_they_are_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    let img = image::open(photo("baseline-02.jpg")).expect("sample photo");
    let mut paths = Vec::new();
    for (ext, format) in [
        ("webp", image::ImageFormat::WebP),
        ("gif", image::ImageFormat::Gif),
        ("bmp", image::ImageFormat::Bmp),
    ] {
        let p = dir.path().join(format!("card.{ext}"));
        // WebP is written lossless, GIF as 8-bit RGBA: what the encoders take.
        img.to_rgba8().save_with_format(&p, format).expect("encode");
        paths.push(p);
    }
    let text = dir.path().join("notes.jpg");
    std::fs::write(&text, "a shopping list, not a photo").expect("write");
    let mut args: Vec<&str> = vec!["--demo", "--now", "2026-11-25"];
    args.extend(paths.iter().map(|p| p.to_str().expect("path")));
    args.push(text.to_str().expect("path"));
    let (code, lines, _) = decode(&args);
    assert_eq!(code, 1, "the text file is unreadable");
    for (i, ext) in ["webp", "gif", "bmp"].iter().enumerate() {
        assert_eq!(lines[i]["found"], true, "{ext}: {}", lines[i]);
        assert_eq!(lines[i]["verification"]["ok"], true, "{ext}");
    }
    let e = lines[3]["error"].as_str().expect("error");
    assert!(
        e.contains("not an image format") && e.contains("WebP"),
        "{e}"
    );
}

#[test]
fn a_budget_bounds_each_image_as_the_kiosk_does() {
    let dim = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-cards/photos/pathological/dim-empty-room.jpg");
    let card = photo("baseline-03.jpg");
    let (code, lines, _) = decode(&[
        "--budget",
        "25",
        dim.to_str().expect("path"),
        card.to_str().expect("path"),
    ]);
    assert_eq!(code, 0);
    assert_eq!(lines[0]["found"], false);
    assert_eq!(lines[1]["found"], true);
    // A budget stops further attempts: fewer than the same frame without one.
    let (_, unbounded, _) = decode(&[dim.to_str().expect("path")]);
    assert!(
        lines[0]["attempts"].as_u64() < unbounded[0]["attempts"].as_u64(),
        "{} vs {}",
        lines[0],
        unbounded[0]
    );
    for bad in ["0", "-5", "soon", "NaN"] {
        let flag = format!("--budget={bad}");
        let (code, _, err) = decode(&[&flag, card.to_str().expect("path")]);
        assert_eq!(code, 2, "{bad}");
        assert!(err.contains("milliseconds"), "{bad}: {err}");
    }
}
