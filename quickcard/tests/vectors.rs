//! Every file in `sample-cards/vectors/` verifies exactly as it says, and the files are what
//! the generator (`examples/make_vectors.rs`) writes, so the two cannot drift apart.

use std::fs;
use std::path::PathBuf;

use quickcard::{TrustList, TrustedKey, VerifyOptions, time};
use serde_json::Value;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sample-cards/vectors")
}

fn load(path: &std::path::Path) -> (String, TrustList, VerifyOptions, String) {
    let v: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    let ver = &v["verifier"];
    let keys: Vec<TrustedKey> = serde_json::from_value(ver["trust"].clone()).unwrap();
    let opts = VerifyOptions {
        now: time::parse(ver["now"].as_str().unwrap()).unwrap(),
        skew_secs: ver["skew_secs"].as_u64().unwrap(),
        school: ver["school"].as_str().map(String::from),
        max_lifetime_secs: ver["max_card_lifetime_days"].as_u64().unwrap() * 86_400,
    };
    (
        v["card"].as_str().unwrap().to_string(),
        TrustList::new(keys, true).unwrap(),
        opts,
        v["expected"].as_str().unwrap().to_string(),
    )
}

#[test]
fn every_vector_verifies_as_its_file_says() {
    let mut seen = Vec::new();
    for entry in fs::read_dir(vectors_dir()).unwrap() {
        let path = entry.unwrap().path();
        let (card, trust, opts, expected) = load(&path);
        let got = match quickcard::verify(card.as_bytes(), &trust, &opts) {
            Ok(_) => "ok".to_string(),
            Err(e) => e.code().to_string(),
        };
        assert_eq!(got, expected, "{}", path.display());
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(
            name.starts_with("valid-"),
            expected == "ok",
            "{name}: file names start with the outcome"
        );
        seen.push(expected);
    }
    // One vector for every way a card can be refused.
    for code in [
        "not_quickcard",
        "unsupported_version",
        "malformed",
        "unknown_key",
        "bad_signature",
        "key_not_valid_at_issue",
        "key_not_for_school",
        "not_yet_valid",
        "expired",
        "wrong_school",
    ] {
        assert!(seen.iter().any(|s| s == code), "no vector for {code}");
    }
}

#[test]
fn vectors_refuse_the_demo_key_outside_demo_mode() {
    let (_, trust, _, _) = load(&vectors_dir().join("valid-student-uuid.json"));
    let err = TrustList::new(trust.keys().to_vec(), false).unwrap_err();
    assert!(matches!(err, quickcard::TrustError::DemoKey(_)));
    assert!(err.to_string().contains("--demo"));
}

// The generator itself (its `main` only reads the folder argument).
#[path = "../examples/make_vectors.rs"]
#[allow(dead_code)]
mod make_vectors;

#[test]
fn committed_vectors_match_the_generator() {
    let out = tempfile::tempdir().unwrap();
    make_vectors::generate(out.path());
    for entry in fs::read_dir(vectors_dir()).unwrap() {
        let path = entry.unwrap().path();
        let fresh = out.path().join("vectors").join(path.file_name().unwrap());
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            fs::read_to_string(&fresh).unwrap(),
            "{} differs from what the generator writes; run `cargo run -p quickcard --example make_vectors -- sample-cards`",
            path.display()
        );
    }
    let demo_pub =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sample-cards/keys/demo-issuer.pub");
    assert_eq!(
        fs::read_to_string(demo_pub).unwrap(),
        fs::read_to_string(out.path().join("keys/demo-issuer.pub")).unwrap()
    );
}

#[test]
fn demo_secret_file_is_the_demo_key() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sample-cards/keys/demo-issuer.secret");
    let key = quickcard::IssuerKey::load(&path).unwrap();
    assert!(key.public().is_demo());
    assert!(fs::read_to_string(&path).unwrap().contains("DEMO KEY"));
}
