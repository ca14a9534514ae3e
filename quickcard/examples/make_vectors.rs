//! Writes the test vectors in `sample-cards/vectors/` and the demo key pair in
//! `sample-cards/keys/`. Deterministic: running it again gives the same files.
//!
//! `cargo run -p quickcard --example make_vectors -- sample-cards`

use std::fs;
use std::path::{Path, PathBuf};

use quickcard::{Claims, Flags, IssuerKey, Role, SchoolTag, Subject, TrustedKey, base45, time};
use serde_json::json;

const SCHOOL: &str = "sch-lincoln-elementary";
const OTHER_SCHOOL: &str = "sch-roosevelt-middle";
const STUDENT: &str = "5f0c2a6e-8d4b-4c1e-9a7f-3b2d1e0f4a6c";

fn t(s: &str) -> u64 {
    time::parse(s).unwrap()
}

/// Keys that are not the demo key, from fixed seeds: they exist only to make rejection cases.
fn test_key(n: u8, name: &str) -> IssuerKey {
    IssuerKey::from_seed([n; 32], name)
}

fn recode(text: &str, edit: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut bytes = base45::decode(&text.as_bytes()[3..]).unwrap();
    edit(&mut bytes);
    format!("QC:{}", base45::encode(&bytes))
}

fn main() {
    generate(&PathBuf::from(
        std::env::args().nth(1).unwrap_or("sample-cards".into()),
    ));
}

/// Writes `keys/` and `vectors/` under `root`. `tests/vectors.rs` includes this file and calls
/// this, so the committed files are checked against the generator without a `cargo run`.
pub fn generate(root: &Path) {
    let keys_dir = root.join("keys");
    fs::create_dir_all(&keys_dir).unwrap();
    let demo = IssuerKey::demo();
    let (secret, public) = (
        keys_dir.join("demo-issuer.secret"),
        keys_dir.join("demo-issuer.pub"),
    );
    if !secret.exists() {
        demo.save(&secret, &public).unwrap();
    }

    let retired = test_key(0x21, "TEST retired key (2025-26)");
    let unlisted = test_key(0x33, "TEST key nobody trusts");
    let restricted = test_key(0x44, "TEST key for Roosevelt only");
    let leaked = test_key(0x55, "TEST leaked key (revoked)");
    let mut old = TrustedKey::new(retired.public(), retired.name());
    old.valid_from = Some(t("2025-07-01"));
    old.valid_until = Some(t("2026-06-30"));
    let mut revoked = TrustedKey::new(leaked.public(), leaked.name());
    revoked.valid_from = Some(t("2026-07-01"));
    revoked.valid_until = Some(t("2027-07-31"));
    revoked.revoked_at = Some(t("2026-11-01"));
    let mut only_roosevelt = TrustedKey::new(restricted.public(), restricted.name());
    only_roosevelt.school = Some(OTHER_SCHOOL.into());
    let trust = vec![
        TrustedKey::new(demo.public(), demo.name()),
        old,
        only_roosevelt,
        revoked,
    ];

    let now = t("2026-11-25T08:00:00Z");
    let card = |subject: &str, role, school, iat, exp, flags, key: &IssuerKey| {
        quickcard::sign(
            &Claims::new(subject, role, school, iat, exp, flags).unwrap(),
            key,
        )
    };
    let (iat, exp) = (t("2026-08-15"), t("2027-06-30"));
    let student = card(
        STUDENT,
        Role::Student,
        SCHOOL,
        iat,
        exp,
        Flags::default(),
        &demo,
    );

    let mut vectors: Vec<(&str, &str, String, &str)> = vec![
        (
            "valid-student-uuid",
            "A student card with a UUID roster id.",
            student.clone(),
            "ok",
        ),
        (
            "valid-teacher-text-id-second-factor",
            "A teacher card with a non-UUID roster id that asks for a PIN.",
            card(
                "tch-0007",
                Role::Teacher,
                SCHOOL,
                iat,
                exp,
                Flags {
                    second_factor: true,
                },
                &demo,
            ),
            "ok",
        ),
        (
            "valid-old-key-after-rotation",
            "Issued by a retired key inside its window: still valid until the card expires.",
            card(
                STUDENT,
                Role::Student,
                SCHOOL,
                t("2026-03-01"),
                t("2027-01-31"),
                Flags::default(),
                &retired,
            ),
            "ok",
        ),
        (
            "valid-expired-within-skew",
            "Expired two minutes ago; the verifier allows five minutes of clock skew.",
            card(
                STUDENT,
                Role::Student,
                SCHOOL,
                iat,
                now - 120,
                Flags::default(),
                &demo,
            ),
            "ok",
        ),
        (
            "reject-not-quickcard",
            "A URL QR code from a library book.",
            "https://library.example.org/book/4711".into(),
            "not_quickcard",
        ),
        (
            "reject-unsupported-version",
            "A card from a later format version.",
            recode(&student, |b| b[0] = 2),
            "unsupported_version",
        ),
        (
            "reject-truncated",
            "The last characters are missing.",
            student[..student.len() - 6].to_string(),
            "malformed",
        ),
        (
            "reject-lowercase",
            "Text lower-cased by a careless tool.",
            format!("QC:{}", student[3..].to_ascii_lowercase()),
            "malformed",
        ),
        (
            "reject-unknown-key",
            "Signed by a key that is not on the trust list.",
            card(
                STUDENT,
                Role::Student,
                SCHOOL,
                iat,
                exp,
                Flags::default(),
                &unlisted,
            ),
            "unknown_key",
        ),
        (
            "reject-bad-signature-role-changed",
            "A student card edited to say teacher.",
            recode(&student, |b| b[5] = Role::Teacher.code()),
            "bad_signature",
        ),
        (
            "reject-bad-signature-bit-flipped",
            "One bit of the signature flipped.",
            recode(&student, |b| *b.last_mut().unwrap() ^= 1),
            "bad_signature",
        ),
        (
            "reject-key-not-valid-at-issue",
            "Issued by the retired key after it was retired.",
            card(
                STUDENT,
                Role::Student,
                SCHOOL,
                t("2026-09-01"),
                exp,
                Flags::default(),
                &retired,
            ),
            "key_not_valid_at_issue",
        ),
        (
            "reject-key-revoked",
            "Signed by a key revoked after it leaked: issued-at backdated into the key's window \
             and an expiry ten years out. Refused from the revocation on, whatever its dates.",
            card(
                STUDENT,
                Role::Student,
                SCHOOL,
                t("2026-09-01"),
                t("2036-09-01"),
                Flags::default(),
                &leaked,
            ),
            "key_revoked",
        ),
        (
            "reject-lifetime-too-long",
            "Signed by a trusted key inside its window but valid for 401 days, over the 400-day \
             maximum lifetime.",
            card(
                STUDENT,
                Role::Student,
                SCHOOL,
                t("2026-03-01"),
                t("2026-03-01") + 401 * 86_400,
                Flags::default(),
                &retired,
            ),
            "lifetime_too_long",
        ),
        (
            "reject-key-not-for-school",
            "Signed by Roosevelt's key for a Lincoln student.",
            card(
                STUDENT,
                Role::Student,
                SCHOOL,
                iat,
                exp,
                Flags::default(),
                &restricted,
            ),
            "key_not_for_school",
        ),
        (
            "reject-not-yet-valid",
            "Issued tomorrow (a printer with a wrong clock).",
            card(
                STUDENT,
                Role::Student,
                SCHOOL,
                now + 86_400,
                exp,
                Flags::default(),
                &demo,
            ),
            "not_yet_valid",
        ),
        (
            "reject-expired",
            "Expired at the end of last school year.",
            card(
                STUDENT,
                Role::Student,
                SCHOOL,
                t("2025-08-15"),
                t("2026-06-30"),
                Flags::default(),
                &demo,
            ),
            "expired",
        ),
        (
            "reject-wrong-school",
            "A valid Roosevelt card shown at a Lincoln kiosk.",
            card(
                STUDENT,
                Role::Student,
                OTHER_SCHOOL,
                iat,
                exp,
                Flags::default(),
                &demo,
            ),
            "wrong_school",
        ),
    ];
    // Claims that `Claims::new` refuses, signed all the same (the fields are public): what a
    // faulty issuer could print. Verifiers must call them malformed.
    let unchecked = |subject: Subject, iat, exp| {
        let claims = Claims {
            subject,
            role: Role::Student,
            school: SchoolTag::of(SCHOOL),
            issued_at: iat,
            expires_at: exp,
            flags: Flags::default(),
        };
        quickcard::sign(&claims, &demo)
    };
    vectors.extend([
        (
            "reject-trailing-newline",
            "A valid card followed by a line break (no whitespace is allowed around the text).",
            format!("{student}\n"),
            "malformed",
        ),
        (
            "reject-leading-space",
            "A valid card after a space (no whitespace is allowed around the text).",
            format!(" {student}"),
            "malformed",
        ),
        (
            "reject-expires-at-issue",
            "Expires the second it is issued: expires-at must be greater than issued-at.",
            unchecked(Subject::Uuid(uuid_bytes(STUDENT)), iat, iat),
            "malformed",
        ),
        (
            "reject-text-subject-is-uuid",
            "A UUID roster id written as text: it must use the 16-byte UUID kind.",
            unchecked(Subject::Text(STUDENT.into()), iat, exp),
            "malformed",
        ),
        (
            "valid-text-id-uuid-with-extra-dash",
            "A text roster id shaped like a UUID with one more dash: not a UUID, so kind 1.",
            card(
                "5f0c2a6e-8d4b-4c1e-9a7f-3b2d1e0f4a-c",
                Role::Student,
                SCHOOL,
                iat,
                exp,
                Flags::default(),
                &demo,
            ),
            "ok",
        ),
    ]);
    vectors.sort_by_key(|v| v.0);

    let dir = root.join("vectors");
    fs::create_dir_all(&dir).unwrap();
    for (name, description, text, expected) in vectors {
        let v = json!({
            "description": description,
            "note": "Test data. The demo key and the TEST keys here must never be trusted outside tests and demos.",
            "card": text,
            "verifier": {
                "now": time::format_utc(now),
                "skew_secs": 300,
                "max_card_lifetime_days": 400,
                "school": SCHOOL,
                "trust": trust,
            },
            "expected": expected,
        });
        write(
            &dir.join(format!("{name}.json")),
            &serde_json::to_string_pretty(&v).unwrap(),
        );
    }
}

fn uuid_bytes(id: &str) -> [u8; 16] {
    match Subject::parse(id).unwrap() {
        Subject::Uuid(u) => u,
        Subject::Text(_) => panic!("{id} is not a UUID"),
    }
}

fn write(path: &Path, text: &str) {
    fs::write(path, format!("{text}\n")).unwrap();
    println!("wrote {}", path.display());
}
