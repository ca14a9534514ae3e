//! Writes the fuzzers' seed corpus (`quickcard/fuzz/seeds/`) from the sample-card test vectors
//! and the demo roster, so fuzzing starts from real cards: for `verify_card` each card's text
//! and its record bytes, for `card_fields` each card written field by field in that target's
//! text form, for `subject_id` the roster's ids and the cards' subjects.
//!
//! `cargo run -p quickcard --example make_fuzz_seeds -- sample-cards/vectors quickcard/fuzz/seeds`

use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;

use ed25519_dalek::{Signature, VerifyingKey};
use quickcard::util::hex;
use quickcard::{IssuerKey, base45};

fn escape(ws: &[u8]) -> String {
    ws.iter()
        .map(|&b| match b {
            b'\n' => "\\n".to_string(),
            b'\r' => "\\r".to_string(),
            b'\t' => "\\t".to_string(),
            b => (b as char).to_string(),
        })
        .collect()
}

fn take<'a>(rec: &'a [u8], at: &mut usize, n: usize) -> Option<&'a [u8]> {
    let part = rec.get(*at..*at + n);
    *at += n;
    part
}

/// Whether the demo key signed `body` (the target then signs its edits afresh: `sig=valid`).
fn demo_signed(body: &[u8], sig: &[u8]) -> bool {
    let key = IssuerKey::demo().public().to_bytes();
    let (Ok(key), Ok(sig)) = (VerifyingKey::from_bytes(&key), Signature::from_slice(sig)) else {
        return false;
    };
    key.verify_strict(&quickcard::card::signing_input(body), &sig)
        .is_ok()
}

/// The card in `card_fields`' form. Fields past the end of a short record are left out (the
/// target fills them in) and the record is cut where it ended.
fn fields(text: &[u8]) -> Option<String> {
    let start = text.iter().position(|b| !b.is_ascii_whitespace())?;
    let end = text.iter().rposition(|b| !b.is_ascii_whitespace())? + 1;
    let (pre, core, post) = (&text[..start], &text[start..end], &text[end..]);
    let core = core.strip_prefix(b"QC:")?;
    let lower = core.iter().any(u8::is_ascii_lowercase);
    let rec = base45::decode(&core.to_ascii_uppercase()).ok()?;

    let mut out = String::new();
    let at = &mut 0usize;
    'fields: {
        let Some(&[v]) = take(&rec, at, 1) else {
            break 'fields;
        };
        let Some(key) = take(&rec, at, 4) else {
            break 'fields;
        };
        writeln!(out, "v={v}\nkey={}", hex(key)).ok()?;
        let Some(&[role, flags, kind]) = take(&rec, at, 3) else {
            break 'fields;
        };
        writeln!(out, "role={role}\nflags={flags}\nkind={kind}").ok()?;
        let sub = match kind {
            0 => take(&rec, at, 16).map(hex),
            _ => take(&rec, at, 1)
                .and_then(|len| take(&rec, at, len[0] as usize))
                .and_then(|s| String::from_utf8(s.to_vec()).ok()),
        };
        let Some(sub) = sub else { break 'fields };
        if kind == 1 && sub.len() == 36 {
            // UUID-shaped: the dashes' places as numbers, for the fuzzer to move.
            let dashes: Vec<String> = (sub.bytes().enumerate())
                .filter(|&(_, c)| c == b'-')
                .map(|(i, _)| i.to_string())
                .collect();
            writeln!(out, "dashes={}", dashes.join(",")).ok()?;
            writeln!(out, "sub={}", sub.replace('-', "")).ok()?;
        } else {
            writeln!(out, "sub={sub}").ok()?;
        }
        let Some(tag) = take(&rec, at, 4) else {
            break 'fields;
        };
        writeln!(out, "tag={}", hex(tag)).ok()?;
        for name in ["iat", "exp"] {
            let Some(t) = take(&rec, at, 4) else {
                break 'fields;
            };
            let t = u32::from_be_bytes(t.try_into().ok()?);
            writeln!(out, "{name}={t}").ok()?;
        }
        let body = &rec[..*at];
        let Some(sig) = take(&rec, at, 64) else {
            break 'fields;
        };
        let sig = if demo_signed(body, sig) {
            "valid".to_string()
        } else {
            hex(sig)
        };
        writeln!(out, "sig={sig}\ntail={}", hex(&rec[*at..])).ok()?;
    }
    if *at > rec.len() {
        writeln!(out, "cut={}", rec.len()).ok()?;
    }
    for (name, ws) in [("pre", pre), ("post", post)] {
        if !ws.is_empty() {
            writeln!(out, "{name}={}", escape(ws)).ok()?;
        }
    }
    if lower {
        writeln!(out, "case=lower").ok()?;
    }
    Some(out)
}

fn main() {
    let mut args = std::env::args().skip(1).map(PathBuf::from);
    let vectors = args.next().unwrap_or("sample-cards/vectors".into());
    let seeds = args.next().unwrap_or("quickcard/fuzz/seeds".into());
    let (raw_dir, fields_dir) = (seeds.join("verify_card"), seeds.join("card_fields"));
    let ids_dir = seeds.join("subject_id");
    for d in [&raw_dir, &fields_dir, &ids_dir] {
        fs::create_dir_all(d).unwrap();
    }
    let roster = fs::read_to_string(vectors.join("../roster.csv")).unwrap();
    for (i, line) in roster.lines().skip(1).enumerate() {
        let id = line.split(',').next().unwrap();
        fs::write(ids_dir.join(format!("roster-{i:02}.txt")), id).unwrap();
    }
    let mut paths: Vec<_> = fs::read_dir(&vectors)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    for path in paths {
        let v: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        let text = v["card"].as_str().unwrap().as_bytes();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        fs::write(raw_dir.join(format!("{name}.txt")), text).unwrap();
        if let Some(rec) = text
            .strip_prefix(b"QC:")
            .and_then(|b| base45::decode(b).ok())
        {
            fs::write(raw_dir.join(format!("{name}.bin")), rec).unwrap();
        }
        if let Some(f) = fields(text) {
            fs::write(fields_dir.join(format!("{name}.txt")), f).unwrap();
        }
        if let Ok(card) = quickcard::decode(text) {
            let id = card.claims.subject.to_string();
            fs::write(ids_dir.join(format!("{name}.txt")), id).unwrap();
        }
    }
    println!("wrote the seeds in {}", seeds.display());
}
