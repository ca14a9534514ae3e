//! Feeds arbitrary bytes to the card decoder and verifier: they must never panic.
//!
//! `quickcard/fuzz/run.sh [SECONDS] verify_card` (stable Rust; the dictionary `quickcard.dict`
//! and the seeds in `seeds/verify_card/`, the sample-card vectors as text and as record bytes),
//! or `cargo fuzz run verify_card` (nightly). `card_fields` is the structured companion.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quickcard::{IssuerKey, TrustList, TrustedKey, VerifyOptions};

fuzz_target!(|data: &[u8]| {
    let trust = TrustList::new(
        vec![TrustedKey::new(IssuerKey::demo().public(), "demo")],
        true,
    )
    .expect("one key");
    let opts = VerifyOptions {
        now: 1_800_000_000,
        skew_secs: 300,
        school: Some("sch-lincoln-elementary".into()),
        ..VerifyOptions::default()
    };
    // As given, and as the Base45 body of a card, so the fuzzer reaches the layout parser.
    let _ = quickcard::verify(data, &trust, &opts);
    if let Ok(bytes) = quickcard::base45::decode(data) {
        let mut text = b"QC:".to_vec();
        text.extend_from_slice(quickcard::base45::encode(&bytes).as_bytes());
        let _ = quickcard::verify(&text, &trust, &opts);
    }
    let mut text = b"QC:".to_vec();
    text.extend_from_slice(quickcard::base45::encode(data).as_bytes());
    let _ = quickcard::verify(&text, &trust, &opts);
});
