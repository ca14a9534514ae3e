//! Builds a card field by field from a small text form, signs it with the demo key and verifies
//! it. Random bytes almost never get past Base45 and the layout; here the fuzzer edits one
//! field of a real card at a time (a subject shaped like a UUID, a date, a flag, whitespace
//! around the text), and the signature is made afresh so the edit reaches every later check.
//!
//! The input is lines `name=value`; a field that is missing or unreadable keeps the value of a
//! real student card, so every seed in `seeds/card_fields/` (one per sample-card vector) is
//! a card the fuzzer can start from:
//!
//! ```text
//! v=1            version byte            role=0     role byte      flags=0   flags byte
//! key=5d1eaf88   key id (hex)            kind=1     subject kind   len=8     text length byte
//! sub=stu-0042   subject (32 hex digits for kind 0, text otherwise)
//! dashes=8,13,18,23  make the subject 36 characters: `-` at these places, `sub`'s
//!                characters (repeated) elsewhere: a UUID's shape with its dashes anywhere
//! tag=9f86d081   school tag (hex), or school=sch-lincoln-elementary
//! iat=1786492800 issued-at               exp=1814313600 expires-at
//! sig=valid      or hex bytes            tail=      hex bytes after the signature
//! cut=           keep only this many record bytes
//! pre= / post=   text before `QC:` / after the card (`\n`, `\r`, `\t` escapes)
//! case=lower     lower-case the Base45 text
//! ```
#![no_main]

use ed25519_dalek::{Signer, SigningKey};
use libfuzzer_sys::fuzz_target;
use quickcard::{IssuerKey, SchoolTag, Subject, TrustList, TrustedKey, VerifyOptions};
use sha2::{Digest, Sha256};

/// FORMAT.md section 6: the demo key's published seed text.
const DEMO_SEED_TEXT: &[u8] =
    b"QuickCard DEMO issuer key. Published; never trust it outside demos.";
const SCHOOL: &str = "sch-lincoln-elementary";

fn field<'a>(data: &'a [u8], name: &str) -> Option<&'a [u8]> {
    data.split(|&b| b == b'\n').find_map(|line| {
        let (n, v) = line.split_at(line.iter().position(|&b| b == b'=')?);
        (n == name.as_bytes()).then(|| &v[1..])
    })
}

fn number(data: &[u8], name: &str) -> Option<u64> {
    std::str::from_utf8(field(data, name)?).ok()?.parse().ok()
}

fn hex(v: &[u8]) -> Vec<u8> {
    let digits: Vec<u8> = v
        .iter()
        .filter_map(|&c| (c as char).to_digit(16).map(|d| d as u8))
        .collect();
    digits
        .chunks(2)
        .map(|p| p.iter().fold(0, |a, d| a << 4 | d))
        .collect()
}

fn fixed<const N: usize>(v: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    for (o, b) in out.iter_mut().zip(hex(v)) {
        *o = b;
    }
    out
}

fn unescape(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut it = v.iter().copied();
    while let Some(c) = it.next() {
        if c != b'\\' {
            out.push(c);
            continue;
        }
        out.push(match it.next() {
            Some(b'n') => b'\n',
            Some(b'r') => b'\r',
            Some(b't') => b'\t',
            Some(other) => other,
            None => b'\\',
        });
    }
    out
}

/// 36 characters with `-` at the listed places (comma-separated) and `chars` around them.
fn uuid_shaped(chars: &[u8], dashes: &[u8]) -> Vec<u8> {
    let at: Vec<usize> = dashes
        .split(|&b| b == b',')
        .filter_map(|n| std::str::from_utf8(n).ok()?.trim().parse().ok())
        .collect();
    let mut fill = chars.iter().copied().filter(|&c| c != b'-').cycle();
    (0..36)
        .map(|i| {
            if at.contains(&i) {
                b'-'
            } else {
                fill.next().unwrap_or(b'0')
            }
        })
        .collect()
}

/// FORMAT.md's "hyphenated UUID", written here again on its own so the fuzzer checks the
/// crate's reading against it.
fn is_hyphenated_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fuzz_target!(|data: &[u8]| {
    let seed: [u8; 32] = Sha256::digest(DEMO_SEED_TEXT).into();
    let demo = IssuerKey::from_seed(seed, "demo");
    assert!(demo.public().is_demo(), "the published demo seed");
    let trust = TrustList::new(vec![TrustedKey::new(demo.public(), "demo")], true).unwrap();

    let sub = field(data, "sub").unwrap_or(b"stu-0042");
    let shaped;
    let sub = match field(data, "dashes") {
        Some(d) => {
            shaped = uuid_shaped(sub, d);
            &shaped[..]
        }
        None => sub,
    };
    let kind = number(data, "kind").unwrap_or(1) as u8;
    let mut body = vec![number(data, "v").unwrap_or(1) as u8];
    body.extend_from_slice(&match field(data, "key") {
        Some(k) if k != b"demo" => fixed::<4>(k),
        _ => demo.public().key_id().0,
    });
    body.push(number(data, "role").unwrap_or(0) as u8);
    body.push(number(data, "flags").unwrap_or(0) as u8);
    body.push(kind);
    match kind {
        0 => body.extend_from_slice(&fixed::<16>(sub)),
        1 => {
            body.push(number(data, "len").unwrap_or(sub.len() as u64) as u8);
            body.extend_from_slice(sub);
        }
        _ => body.extend_from_slice(sub),
    }
    body.extend_from_slice(&match (field(data, "tag"), field(data, "school")) {
        (Some(t), _) => fixed::<4>(t),
        (None, Some(s)) => SchoolTag::of(&String::from_utf8_lossy(s)).0,
        (None, None) => SchoolTag::of(SCHOOL).0,
    });
    let issued = number(data, "iat").unwrap_or(1_786_492_800) as u32;
    let expires = number(data, "exp").unwrap_or(1_814_313_600) as u32;
    body.extend_from_slice(&issued.to_be_bytes());
    body.extend_from_slice(&expires.to_be_bytes());

    let mut record = body.clone();
    match field(data, "sig") {
        Some(s) if s != b"valid" => record.extend_from_slice(&hex(s)),
        _ => record.extend_from_slice(
            &SigningKey::from_bytes(&seed)
                .sign(&quickcard::card::signing_input(&body))
                .to_bytes(),
        ),
    }
    if let Some(cut) = number(data, "cut") {
        record.truncate(cut as usize);
    }
    record.extend_from_slice(&hex(field(data, "tail").unwrap_or_default()));

    let mut base45 = quickcard::base45::encode(&record).into_bytes();
    if field(data, "case") == Some(b"lower") {
        base45.make_ascii_lowercase();
    }
    let pre = unescape(field(data, "pre").unwrap_or_default());
    let post = unescape(field(data, "post").unwrap_or_default());
    let text = [&pre[..], b"QC:", &base45, &post].concat();

    let opts = VerifyOptions {
        now: number(data, "now").unwrap_or(1_800_000_000),
        skew_secs: 300,
        school: Some(SCHOOL.into()),
        ..VerifyOptions::default()
    };
    let verified = quickcard::verify(&text, &trust, &opts);
    if let Ok(card) = &verified {
        // What the format promises of every card it accepts.
        let c = &card.claims;
        assert!(c.expires_at > c.issued_at, "{c:?}");
        assert!(text.starts_with(b"QC:"), "text before the card: {pre:?}");
        assert!(
            !text.last().is_some_and(u8::is_ascii_whitespace),
            "whitespace after the card: {post:?}"
        );
        assert_eq!(
            Subject::parse(&c.subject.to_string()).as_ref(),
            Ok(&c.subject)
        );
    }
    // The kiosk, the portal and the roster all read ids with Subject::parse.
    if let Ok(id) = std::str::from_utf8(sub) {
        if let Ok(s) = Subject::parse(id) {
            assert_eq!(
                matches!(s, Subject::Uuid(_)),
                is_hyphenated_uuid(id),
                "{id:?}"
            );
            assert_eq!(Subject::parse(&s.to_string()).as_ref(), Ok(&s), "{id:?}");
        }
    }
});
