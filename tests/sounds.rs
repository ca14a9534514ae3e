//! The sound files the kiosk plays: every cue and every prompt in both languages exists,
//! decodes, has the one format the players expect, is short, and is neither silent nor clipped.
//! Whether a prompt sounds right is for a person to judge; this checks what a program can.

use std::path::{Path, PathBuf};

use quickcard_kiosk::app::i18n::Lang;
use quickcard_kiosk::app::ports::{Cue, PromptId};

const MAX_SECS: f64 = 2.0;
/// The files are peak-normalised to -3 dBFS (about 23 200); a much lower peak means a near
/// silent file, a peak at full scale means clipping.
const MIN_PEAK: i32 = 8_000;
const MAX_PEAK: i32 = 32_000;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/sounds")
}

fn every_cue() -> Vec<Cue> {
    let mut cues = Cue::SHORT.to_vec();
    for lang in [Lang::En, Lang::Es] {
        cues.extend(PromptId::ALL.iter().map(|&p| Cue::Prompt(p, lang)));
    }
    cues
}

fn check(path: &Path) -> Result<(), String> {
    let mut r = hound::WavReader::open(path).map_err(|e| format!("does not decode: {e}"))?;
    let spec = r.spec();
    if spec.channels != 1
        || spec.sample_rate != 22_050
        || spec.bits_per_sample != 16
        || spec.sample_format != hound::SampleFormat::Int
    {
        return Err(format!("format {spec:?}, want mono 22050 Hz 16-bit"));
    }
    let samples: Vec<i16> = r
        .samples::<i16>()
        .collect::<Result<_, _>>()
        .map_err(|e| format!("does not decode: {e}"))?;
    let secs = samples.len() as f64 / f64::from(spec.sample_rate);
    if samples.is_empty() || secs > MAX_SECS {
        return Err(format!("lasts {secs:.2} s, want (0, {MAX_SECS}] s"));
    }
    let peak = samples
        .iter()
        .map(|&s| i32::from(s).abs())
        .max()
        .unwrap_or(0);
    if !(MIN_PEAK..=MAX_PEAK).contains(&peak) {
        return Err(format!("peak {peak}, want {MIN_PEAK}..={MAX_PEAK}"));
    }
    Ok(())
}

#[test]
fn every_cue_and_prompt_exists_decodes_and_is_short() {
    let problems: Vec<String> = every_cue()
        .into_iter()
        .filter_map(|cue| {
            let path = dir().join(cue.path());
            check(&path)
                .err()
                .map(|e| format!("{}: {e}", path.display()))
        })
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn no_stray_files() {
    // A file no cue names is dead weight in the package (or a prompt whose id was renamed).
    let wanted: Vec<PathBuf> = every_cue().iter().map(|c| dir().join(c.path())).collect();
    for sub in ["cues", "en", "es"] {
        for entry in std::fs::read_dir(dir().join(sub)).unwrap() {
            let path = entry.unwrap().path();
            assert!(wanted.contains(&path), "{} is not a cue", path.display());
        }
    }
}

#[test]
fn small_enough_to_embed() {
    // The native kiosk embeds every file in its binary.
    let total: u64 = every_cue()
        .iter()
        .map(|c| std::fs::metadata(dir().join(c.path())).unwrap().len())
        .sum();
    assert!(total < 4_000_000, "{total} bytes of sound");
}
