//! The scanner on the generated photo set (`sample-cards/photos`, see its manifest): frames are
//! replayed through the same `FrameSource` path the camera takes, every card read is verified
//! with `quickcard::verify`, each category must reach its stated decode rate, and no frame may
//! ever yield a wrong card (a wrong decode is worse than none).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use quickcard_kiosk::scanner::{
    AttemptClock, FrameSource, Hint, ReplaySource, ScanConfig, ScanResult, Scanner, SourceError,
};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Entry {
    file: String,
    category: String,
    expect: String,
    text: Option<String>,
    subject: Option<String>,
    corners: Option<[[f32; 2]; 4]>,
}

/// Minimum share of frames read correctly per category (8 frames each; severity rises with
/// the frame number, and the last frames of the blur and glare categories are beyond what
/// zxing-cpp reads too). The scan runs as the kiosk runs it, with its 25 ms budget per frame,
/// but on an [`AttemptClock`] that charges every decode attempt 1 ms, so the budget allows
/// the same 26 attempts per frame on any machine and a frame near the budget's end cannot
/// flip between runs (docs/scanner.md: how that compares with the real clock). Today the
/// pipeline reads 4/8 motion-blur, 6/8 focus-blur, 7/8 glare, 7/8 finger and all of every
/// other category; zxing-cpp reads 4/8 motion-blur, 4/8 focus-blur, 6/8 glare, 6/8 finger,
/// 7/8 tiny (see docs/scanner.md). For `foreign` "read" means reported as not-a-QuickCard with
/// the right text; for `no-code` it means no code reported.
const MIN_RATE: &[(&str, f64)] = &[
    ("baseline", 1.0),
    ("perspective", 1.0),
    ("rotation", 1.0),
    ("tiny", 1.0),
    ("large", 1.0),
    // 4/8 like zxing-cpp. It was 3/8 while this test could flip: `motion-blur-02` is read by
    // the 13th attempt, about 14 ms on an idle core, and missed the real 25 ms under load.
    ("motion-blur", 0.5),
    ("focus-blur", 0.75),
    ("noise", 1.0),
    ("low-light", 1.0),
    ("uneven-light", 1.0),
    ("glare", 0.875),
    ("jpeg", 1.0),
    // Every finger frame but finger-06 (a finger over the bottom-left finder itself); zxing-cpp
    // misses finger-03 and finger-06. Raised from 5/8 when finder patterns a finger breaks were
    // first redrawn from the other two and the code's geometry (docs/scanner.md).
    ("finger", 0.875),
    ("foreign", 1.0),
    ("no-code", 1.0),
];

/// Test time charged per decode attempt (see [`MIN_RATE`]).
const MS_PER_ATTEMPT: u32 = 1;

/// The kiosk's scanner (its per-frame budget included) on the attempt-counting clock.
fn kiosk_scanner() -> (Scanner, AttemptClock) {
    let clock = AttemptClock::new(MS_PER_ATTEMPT);
    let scanner = Scanner::with_clock(ScanConfig::default(), Box::new(clock.clone()));
    (scanner, clock)
}

fn photos() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-cards/photos")
}

fn manifest() -> Vec<Entry> {
    let text = std::fs::read_to_string(photos().join("manifest.json")).expect("manifest.json");
    serde_json::from_str(&text).expect("manifest parses")
}

fn demo_trust() -> (quickcard::TrustList, quickcard::VerifyOptions) {
    let key = quickcard::IssuerKey::demo().public();
    let list = quickcard::TrustList::new(vec![quickcard::TrustedKey::new(key, "demo")], true)
        .expect("demo trust list");
    let opts = quickcard::VerifyOptions {
        now: quickcard::time::parse("2026-11-25").expect("date"),
        skew_secs: 300,
        school: Some("sch-lincoln-elementary".into()),
        ..quickcard::VerifyOptions::default()
    };
    (list, opts)
}

fn dist(a: [f32; 2], x: f32, y: f32) -> f32 {
    ((a[0] - x).powi(2) + (a[1] - y).powi(2)).sqrt()
}

#[test]
fn photo_set_meets_the_rates_and_never_reads_a_wrong_card() {
    let entries = manifest();
    assert_eq!(entries.len(), 120, "8 frames in each of 15 categories");
    let paths: Vec<PathBuf> = entries.iter().map(|e| photos().join(&e.file)).collect();
    let mut source = ReplaySource::from_paths(&paths).expect("replay");
    let (mut scanner, clock) = kiosk_scanner();
    let budget = scanner
        .config()
        .budget_ms
        .expect("the kiosk scans with a budget");
    assert_eq!(budget, 25.0);
    let max_attempts = clock.attempts_within(budget);
    assert_eq!(max_attempts, 26);
    let (trust, opts) = demo_trust();
    let mut read: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut wrong = Vec::new();
    // Frames whose scan the budget ended (for the log).
    let mut cut = Vec::new();
    for e in &entries {
        let frame = source
            .next_frame()
            .expect("frame decodes")
            .expect("replay without a rate yields at once");
        assert_eq!((frame.width, frame.height), (1280, 720), "{}", e.file);
        // Every frame is its own scene here.
        scanner.forget();
        let result = scanner.scan(&frame);
        let attempts = scanner.last_stats().attempts;
        assert!(
            (1..=max_attempts).contains(&u64::from(attempts)),
            "{}: {attempts} attempts",
            e.file
        );
        let ok = match (e.expect.as_str(), &result) {
            ("card", ScanResult::Card(c)) => {
                let verified = quickcard::verify(&c.bytes, &trust, &opts);
                let good = Some(c.bytes.as_slice()) == e.text.as_deref().map(str::as_bytes)
                    && verified
                        .as_ref()
                        .is_ok_and(|v| Some(v.claims.subject.to_string()) == e.subject);
                if !good {
                    wrong.push(format!(
                        "{}: read a different card or it failed verification: {verified:?}",
                        e.file
                    ));
                }
                // Corners are where the code is (within 10 % of its side).
                if let Some(m) = e.corners {
                    let side = dist(m[0], m[1][0], m[1][1]);
                    for (i, p) in c.corners.iter().enumerate() {
                        assert!(
                            dist(m[i], p.x, p.y) < side * 0.1,
                            "{}: corner {i} at {p:?}, expected {:?}",
                            e.file,
                            m[i]
                        );
                    }
                }
                good
            }
            ("foreign", ScanResult::Hint(Hint::NotQuickCard { text, .. })) => {
                Some(text.as_str()) == e.text.as_deref()
            }
            ("none", ScanResult::Hint(Hint::NotQuickCard { text, .. })) => {
                wrong.push(format!(
                    "{}: read {text:?} from a frame without a code",
                    e.file
                ));
                false
            }
            (_, ScanResult::Card(c)) => {
                wrong.push(format!(
                    "{}: read a card {:?} where {} was expected",
                    e.file,
                    String::from_utf8_lossy(&c.bytes),
                    e.expect
                ));
                false
            }
            ("card", ScanResult::Hint(Hint::NotQuickCard { text, .. })) => {
                wrong.push(format!("{}: read {text:?} instead of the card", e.file));
                false
            }
            ("none", ScanResult::Hint(_)) => true,
            _ => false,
        };
        // Frames not read get the hint that fits their trouble.
        if let (false, ScanResult::Hint(h)) = (ok, &result) {
            let want = match e.category.as_str() {
                "motion-blur" | "focus-blur" => Some(Hint::HoldStill),
                "glare" => Some(Hint::TooBright),
                "finger" => Some(Hint::SeenNotReadable),
                _ => None,
            };
            if let Some(want) = want {
                assert_eq!(h, &want, "{}", e.file);
            }
        }
        if e.category == "no-code" {
            assert_eq!(result, ScanResult::Hint(Hint::NoCode), "{}", e.file);
        }
        if u64::from(attempts) == max_attempts && !ok {
            cut.push(e.file.as_str());
        }
        let c = read.entry(e.category.as_str()).or_default();
        c.0 += ok as usize;
        c.1 += 1;
    }
    assert_eq!(source.next_frame(), Err(SourceError::Finished));
    eprintln!("unread frames the {max_attempts}-attempt budget ended: {cut:?}");
    assert!(wrong.is_empty(), "wrong reads: {wrong:#?}");
    let mut failures = Vec::new();
    for (cat, min) in MIN_RATE {
        let (ok, n) = read.get(cat).copied().unwrap_or((0, 0));
        let rate = ok as f64 / n.max(1) as f64;
        eprintln!("{cat:14} {ok}/{n} (minimum {:.0} %)", min * 100.0);
        if n == 0 || rate < *min {
            failures.push(format!("{cat}: {ok}/{n} < {:.0} %", min * 100.0));
        }
    }
    assert_eq!(
        read.len(),
        MIN_RATE.len(),
        "every category has a stated minimum"
    );
    assert!(failures.is_empty(), "below the minimum: {failures:?}");
}

#[test]
fn a_looping_paced_replay_yields_verified_cards_over_and_over() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A clock the test moves by hand (milliseconds).
    #[derive(Debug, Clone)]
    struct Manual(Arc<AtomicU64>);
    impl quickcard_kiosk::scanner::Clock for Manual {
        fn now_ms(&self) -> u64 {
            self.0.load(Ordering::SeqCst)
        }
        fn unix_secs(&self) -> u64 {
            0
        }
    }
    let now = Arc::new(AtomicU64::new(0));
    let files = [
        photos().join("baseline-00.jpg"),
        photos().join("rotation-02.jpg"),
    ];
    let mut source: Box<dyn FrameSource> = Box::new(
        ReplaySource::from_paths(&files)
            .expect("replay")
            .looping(true)
            .rate(Some(10.0))
            .with_clock(Box::new(Manual(now.clone()))),
    );
    let (mut scanner, _) = kiosk_scanner();
    let (trust, opts) = demo_trust();
    let mut subjects = Vec::new();
    for step in 0..6 {
        let frame = source.next_frame().expect("frame").expect("due");
        // Not due again until 100 ms have passed.
        assert_eq!(source.next_frame(), Ok(None), "step {step}");
        now.fetch_add(100, Ordering::SeqCst);
        let ScanResult::Card(card) = scanner.scan(&frame) else {
            panic!("step {step}: no card read");
        };
        let v = quickcard::verify(&card.bytes, &trust, &opts).expect("verifies");
        subjects.push(v.claims.subject.to_string());
    }
    let m = manifest();
    let subj = |f: &str| {
        m.iter()
            .find(|e| e.file == f)
            .and_then(|e| e.subject.clone())
            .expect("card")
    };
    let (a, b) = (subj("baseline-00.jpg"), subj("rotation-02.jpg"));
    assert_eq!(
        subjects,
        vec![a.clone(), b.clone(), a.clone(), b.clone(), a, b]
    );
}

#[test]
fn replay_reports_missing_and_broken_files_clearly() {
    let missing = ReplaySource::from_paths(&[photos().join("no-such-frame.jpg")]);
    assert!(matches!(missing, Err(SourceError::Unreadable { .. })));
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(matches!(
        ReplaySource::from_paths(&[dir.path()]),
        Err(SourceError::Empty(_))
    ));
    let bad = dir.path().join("broken.jpg");
    std::fs::write(&bad, b"not a jpeg").expect("write");
    let mut s = ReplaySource::from_paths(&[&bad]).expect("listed");
    let err = s.next_frame().expect_err("undecodable");
    assert_eq!(err.code(), "unreadable_frame");
    assert!(err.to_string().contains("broken.jpg"), "{err}");
}
