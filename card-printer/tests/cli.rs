//! End-to-end tests of the `card-printer` commands on the real sample roster: real PDFs,
//! rendered by poppler's `pdftoppm`, every card's QR cropped from the page, decoded with rqrr
//! and verified against the demo public key. Needs `pdftoppm` (Debian: poppler-utils).

use std::path::{Path, PathBuf};
use std::process::Command;

use card_printer::cards::{self, Selection};
use card_printer::cli::{Cli, Context, run};
use card_printer::design::qr_box;
use card_printer::inspect::decode_qr_luma;
use card_printer::layout::LayoutKind;
use clap::Parser;
use quickcard::{IssuerKey, TrustList, TrustedKey, VerifyOptions};
use quickcard_roster::Roster;

/// 2026-09-01T08:00:00Z: a fixed "now" for issued cards.
const NOW: u64 = 1_788_249_600;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn sample(p: &str) -> String {
    repo().join("sample-cards").join(p).display().to_string()
}

fn cli(args: &[&str]) -> (i32, String, Option<anyhow::Error>) {
    let cli = Cli::try_parse_from(std::iter::once("card-printer").chain(args.iter().copied()))
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    let ctx = Context {
        now: NOW,
        progress: false,
    };
    let mut out = Vec::new();
    match run(cli, &ctx, &mut out) {
        Ok(code) => (code, String::from_utf8(out).unwrap(), None),
        Err(e) => (2, String::from_utf8(out).unwrap(), Some(e)),
    }
}

fn trust() -> TrustList {
    TrustList::new(
        vec![TrustedKey::new(IssuerKey::demo().public(), "demo")],
        true,
    )
    .unwrap()
}

fn verify(text: &str) -> quickcard::VerifiedCard {
    let opts = VerifyOptions {
        now: NOW + 3600,
        skew_secs: 0,
        school: Some("sch-lincoln-elementary".into()),
        ..VerifyOptions::default()
    };
    quickcard::verify(text.as_bytes(), &trust(), &opts).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// Renders every page of a PDF to greyscale images at `dpi`.
fn render_pages(pdf: &Path, dpi: u32) -> Vec<image::GrayImage> {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("page");
    let status = Command::new("pdftoppm")
        .args(["-png", "-gray", "-r", &dpi.to_string()])
        .arg(pdf)
        .arg(&prefix)
        .status()
        .expect("pdftoppm runs (install poppler-utils)");
    assert!(status.success(), "pdftoppm failed on {}", pdf.display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| image::open(f).unwrap().to_luma8())
        .collect()
}

/// Decodes the QR of the card in `slot` of a rendered page: the QR box (plus 1 mm) is cropped
/// and set on a white margin half its size on each side. rqrr's adaptive threshold wants more
/// white around a code than the 4-module quiet zone when the image is only the code; a camera
/// frame always has that, a tight crop does not.
fn decode_slot(
    page: &image::GrayImage,
    layout: &card_printer::layout::Layout,
    slot: usize,
    dpi: u32,
) -> Vec<String> {
    let px = dpi as f32 / 25.4;
    let (qx, qy, side) = qr_box(layout.card_w, layout.card_h);
    let (cx, cy) = layout.card_origin(slot);
    let x = ((cx + qx - 1.0) * px) as u32;
    let y = ((cy + qy - 1.0) * px) as u32;
    let s = ((side + 2.0) * px) as u32;
    let crop = image::imageops::crop_imm(page, x, y, s, s).to_image();
    let m = s / 2;
    let mut padded = image::GrayImage::from_pixel(s + 2 * m, s + 2 * m, image::Luma([255]));
    image::imageops::replace(&mut padded, &crop, m as i64, m as i64);
    decode_qr_luma(&padded).unwrap()
}

#[test]
fn every_card_of_every_layout_scans_and_verifies() {
    let roster_path = sample("roster.csv");
    let roster = Roster::load(&roster_path).unwrap();
    let groups = cards::plan(&roster, &Selection::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dpi = 200u32;
    for kind in LayoutKind::ALL {
        let out = dir.path().join(format!("{kind}.pdf"));
        let (code, stdout, err) = cli(&[
            "print",
            "--key",
            &sample("keys/demo-issuer.secret"),
            "--roster",
            &roster_path,
            "--layout",
            kind.name(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{kind}: {err:?}");
        assert!(stdout.contains("Wrote 33 cards"), "{stdout}");
        let pages = render_pages(&out, dpi);
        let layout = kind.layout();
        // Expected (page, slot, user) from the same plan the printer uses.
        let mut expected = Vec::new();
        let mut page = 0;
        for g in &groups {
            for (i, c) in g.cards.iter().enumerate() {
                expected.push((page + i / layout.per_page(), i % layout.per_page(), c.user));
            }
            page += g.cards.len().div_ceil(layout.per_page());
        }
        assert_eq!(pages.len(), page, "{kind}: page count");
        for (page, slot, user) in expected {
            let texts = decode_slot(&pages[page], &layout, slot, dpi);
            assert_eq!(
                texts.len(),
                1,
                "{kind}: page {page} slot {slot} ({})",
                user.id
            );
            let card = verify(&texts[0]);
            assert_eq!(
                card.claims.subject.to_string(),
                user.id,
                "{kind} page {page} slot {slot}"
            );
            assert_eq!(card.claims.role, user.role);
            assert!(!card.claims.flags.second_factor);
            // Default expiry: the end of the next June 30.
            assert_eq!(
                quickcard::time::format_utc(card.claims.expires_at),
                "2027-06-30T23:59:59Z"
            );
        }
        // Size: small enough for districts printing thousands (goal <= 6 KB per card).
        let size = std::fs::metadata(&out).unwrap().len();
        assert!(size < 33 * 6 * 1024, "{kind}: {size} bytes");
    }
}

#[test]
fn oneroster_folder_prints_the_same_people() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("k.pdf");
    let (code, stdout, err) = cli(&[
        "print",
        "--key",
        &sample("keys/demo-issuer.secret"),
        "--roster",
        &sample("roster-oneroster"),
        "--class",
        "cls-k-rivera",
        "--second-factor",
        "--expires",
        "2026-12-31",
        "--layout",
        "a4-8",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err:?}");
    assert!(
        stdout.contains("Wrote 10 cards for 1 class group on 2 pages"),
        "{stdout}"
    );
    let pages = render_pages(&out, 200);
    assert_eq!(pages.len(), 2);
    let layout = LayoutKind::A48.layout();
    for slot in 0..10 {
        let texts = decode_slot(&pages[slot / 8], &layout, slot % 8, 200);
        assert_eq!(texts.len(), 1, "slot {slot}");
        let c = verify(&texts[0]);
        assert!(c.claims.flags.second_factor);
        assert_eq!(
            quickcard::time::format_utc(c.claims.expires_at),
            "2026-12-31T23:59:59Z"
        );
    }
}

#[test]
fn png_card_scans_and_inspect_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dmitry.png");
    let (code, stdout, err) = cli(&[
        "png",
        "--key",
        &sample("keys/demo-issuer.secret"),
        "--roster",
        &sample("roster.csv"),
        // Upper-case UUID in the roster; any case finds the user.
        "--user",
        "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err:?}");
    assert!(stdout.contains("Дмитрий Соколов"), "{stdout}");
    let img = image::open(&out).unwrap();
    assert_eq!((img.width(), img.height()), (1050, 600));
    let texts = decode_qr_luma(&img.to_luma8()).unwrap();
    assert_eq!(texts.len(), 1);
    assert_eq!(
        verify(&texts[0]).claims.subject.to_string(),
        "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
    );

    let path = out.to_str().unwrap();
    let (code, report, _) = cli(&[
        "inspect",
        path,
        "--trust",
        &sample("keys/demo-issuer.pub"),
        "--demo",
    ]);
    assert_eq!(code, 0, "{report}");
    assert!(report.contains("VALID"), "{report}");
    assert!(
        report.contains("3f2504e0-4f89-41d3-9a0c-0305e82c3301"),
        "{report}"
    );
    // The demo key is refused without --demo.
    let (code, _, err) = cli(&["inspect", path, "--trust", &sample("keys/demo-issuer.pub")]);
    assert_eq!(code, 2);
    assert!(err.unwrap().to_string().contains("demo key"));
    // From text, with a key that did not sign it: refused, exit 1.
    let other = IssuerKey::from_seed([7; 32], "other").public().to_string();
    let (code, report, _) = cli(&["inspect", &texts[0], "--trust", &other]);
    assert_eq!(code, 1, "{report}");
    assert!(report.contains("[unknown_key]"), "{report}");
    // An image without a code.
    let blank = dir.path().join("blank.png");
    image::GrayImage::from_pixel(200, 200, image::Luma([255]))
        .save(&blank)
        .unwrap();
    let (code, report, _) = cli(&["inspect", blank.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(report.contains("no QR code"), "{report}");
}

#[test]
fn keygen_writes_0600_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let (code, out, err) = cli(&[
        "keygen",
        "--out",
        keys.to_str().unwrap(),
        "--name",
        "Test 2026",
    ]);
    assert_eq!(code, 0, "{err:?}");
    assert!(out.contains("fingerprint:"), "{out}");
    let secret = keys.join("issuer.secret");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The secret never appears in the output.
    let text = std::fs::read_to_string(&secret).unwrap();
    let hex = text
        .lines()
        .find_map(|l| l.strip_prefix("secret: "))
        .unwrap();
    assert!(!out.contains(hex));
    let key = IssuerKey::load(&secret).unwrap();
    assert!(out.contains(&key.public().key_id().to_string()));
    let before = std::fs::read(&secret).unwrap();
    let (code, _, err) = cli(&["keygen", "--out", keys.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.unwrap().to_string().contains("refusing to overwrite"));
    assert_eq!(std::fs::read(&secret).unwrap(), before);
}

/// Runs `print` expecting failure; returns the error text and checks nothing was written.
fn print_fails(roster: &Path, extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cards.pdf");
    let mut args = vec![
        "print",
        "--key",
        Box::leak(sample("keys/demo-issuer.secret").into_boxed_str()),
        "--roster",
        roster.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let (code, _, err) = cli(&args);
    assert_eq!(code, 2);
    assert!(!out.exists(), "a failed print must not write the PDF");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no temp files left"
    );
    format!("{:#}", err.unwrap())
}

#[test]
fn bad_rosters_name_file_and_line_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(sample("roster.csv")).unwrap();
    let cases = [
        (
            "s9,,Ann,B,student,sch-lincoln-elementary,,,,,",
            "line 35",
            "given_name is empty",
        ),
        (
            ",Ann,B,student,sch-lincoln-elementary,,,,,,",
            "line 35",
            "sourced_id is empty",
        ),
        (
            "s9,Ann,B,wizard,sch-lincoln-elementary,,,,,,",
            "line 35",
            "unknown role",
        ),
        (
            "stu-1001,Zed,Q,student,sch-lincoln-elementary,,,,,,",
            "line 35",
            "duplicate id",
        ),
        (
            "s9,Ann,B,student,sch-lincoln-elementary",
            "line 35",
            "torn row",
        ),
    ];
    for (row, line, what) in cases {
        let path = dir.path().join("roster.csv");
        std::fs::write(&path, format!("{good}{row}\n")).unwrap();
        let e = print_fails(&path, &[]);
        assert!(
            e.contains("roster.csv") && e.contains(line) && e.contains(what),
            "{row}: {e}"
        );
    }
    let path = dir.path().join("roster.csv");
    let mut bytes = good.into_bytes();
    bytes.extend_from_slice(b"s9,Ren\xe9e,B,student,sch-lincoln-elementary,,,,,,\n");
    std::fs::write(&path, bytes).unwrap();
    let e = print_fails(&path, &[]);
    assert!(
        e.contains("line 35") && e.contains("not valid UTF-8"),
        "{e}"
    );
}

#[test]
fn bad_oneroster_dates_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("export");
    std::fs::create_dir(&folder).unwrap();
    for f in ["orgs.csv", "users.csv", "classes.csv", "enrollments.csv"] {
        std::fs::copy(
            Path::new(&sample("roster-oneroster")).join(f),
            folder.join(f),
        )
        .unwrap();
    }
    let enr = folder.join("enrollments.csv");
    let mut text = std::fs::read_to_string(&enr).unwrap();
    text.push_str("enr-9999,active,2026-08-01T00:00:00.000Z,cls-k-rivera,sch-lincoln-elementary,stu-1001,student,false,2026-02-30,\n");
    std::fs::write(&enr, text).unwrap();
    let e = print_fails(&folder, &[]);
    assert!(
        e.contains("enrollments.csv line 31") && e.contains("beginDate"),
        "{e}"
    );
}

#[test]
fn bad_selections_and_dates_write_nothing() {
    let roster = PathBuf::from(sample("roster.csv"));
    let e = print_fails(&roster, &["--class", "cls-nope"]);
    assert!(e.contains("no class \"cls-nope\""), "{e}");
    let e = print_fails(
        &roster,
        &["--class", "cls-k-rivera", "--role", "administrator"],
    );
    assert!(e.contains("matches nobody"), "{e}");
    let e = print_fails(&roster, &["--expires", "2027-02-30"]);
    assert!(e.contains("is not a date"), "{e}");
    let e = print_fails(&roster, &["--expires", "2026-08-01"]);
    assert!(e.contains("not after today"), "{e}");
    // A name the font cannot print is refused, naming the user and roster line.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cjk.csv");
    std::fs::write(
        &path,
        "sourced_id,given_name,family_name,role,school_id\nstu-9,小龙,李,student,sch-lincoln-elementary\n",
    )
    .unwrap();
    let e = print_fails(&path, &[]);
    assert!(
        e.contains("stu-9") && e.contains("line 2") && e.contains("cannot print"),
        "{e}"
    );
}

#[test]
fn a_failed_print_keeps_the_previous_pdf() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cards.pdf");
    std::fs::write(&out, b"%PDF previous").unwrap();
    let (code, _, _) = cli(&[
        "print",
        "--key",
        &sample("keys/demo-issuer.secret"),
        "--roster",
        &sample("roster.csv"),
        "--user",
        "nobody",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert_eq!(std::fs::read(&out).unwrap(), b"%PDF previous");
}
