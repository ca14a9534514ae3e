//! Properties over all claims and all single-bit or single-byte changes of a card's text.

use proptest::prelude::*;
use qrcode::{EcLevel, QrCode, Version};
use quickcard::{
    CardError, Claims, Flags, IssuerKey, Role, Subject, TrustList, TrustedKey, VerifyOptions,
};

fn key() -> IssuerKey {
    IssuerKey::from_seed([11; 32], "property tests")
}

fn trust() -> TrustList {
    TrustList::new(vec![TrustedKey::new(key().public(), "t")], false).unwrap()
}

fn subject() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<[u8; 16]>().prop_map(|b| Subject::Uuid(b).to_string()),
        "[a-zA-Z0-9._ -]{1,64}",
        "\\PC{1,16}",
    ]
    .prop_filter("fits 64 bytes", |s| !s.is_empty() && s.len() <= 64)
}

fn claims() -> impl Strategy<Value = Claims> {
    (
        subject(),
        0..5usize,
        "[a-z0-9-]{1,40}",
        0..u32::MAX as u64 - 1,
        any::<bool>(),
    )
        .prop_flat_map(|(s, r, school, iat, sf)| {
            (iat + 1..=u32::MAX as u64).prop_map(move |exp| {
                Claims::new(
                    &s,
                    Role::ALL[r],
                    &school,
                    iat,
                    exp,
                    Flags { second_factor: sf },
                )
                .unwrap()
            })
        })
}

fn opts_for(c: &Claims) -> VerifyOptions {
    VerifyOptions {
        now: c.issued_at,
        skew_secs: 0,
        school: None,
        // The strategy's cards last up to a century; the lifetime rule has its own tests.
        max_lifetime_secs: u64::MAX,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_claims_round_trip(c in claims()) {
        let text = quickcard::sign(&c, &key());
        prop_assert!(text.starts_with("QC:"));
        let card = quickcard::verify(text.as_bytes(), &trust(), &opts_for(&c)).unwrap();
        prop_assert_eq!(card.claims, c);
    }

    #[test]
    fn any_flipped_bit_is_rejected(c in claims(), pos in any::<prop::sample::Index>(), bit in 0..8u8) {
        let mut text = quickcard::sign(&c, &key()).into_bytes();
        let i = pos.index(text.len());
        text[i] ^= 1 << bit;
        prop_assert!(quickcard::verify(&text, &trust(), &opts_for(&c)).is_err());
    }

    #[test]
    fn any_replaced_byte_is_rejected(c in claims(), pos in any::<prop::sample::Index>(), b in any::<u8>()) {
        let mut text = quickcard::sign(&c, &key()).into_bytes();
        let i = pos.index(text.len());
        prop_assume!(text[i] != b);
        text[i] = b;
        prop_assert!(quickcard::verify(&text, &trust(), &opts_for(&c)).is_err());
    }

    #[test]
    fn any_truncation_or_extension_is_rejected(c in claims(), cut in any::<prop::sample::Index>(), extra in "[0-9A-Z]{1,3}") {
        let text = quickcard::sign(&c, &key());
        let short = &text.as_bytes()[..cut.index(text.len())];
        prop_assert!(quickcard::verify(short, &trust(), &opts_for(&c)).is_err());
        let long = format!("{text}{extra}");
        prop_assert!(quickcard::verify(long.as_bytes(), &trust(), &opts_for(&c)).is_err());
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(raw in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = quickcard::verify(&raw, &trust(), &VerifyOptions::default());
        let mut qc = b"QC:".to_vec();
        qc.extend(raw.iter().map(|b| b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"[*b as usize % 45]));
        let _ = quickcard::verify(&qc, &trust(), &VerifyOptions::default());
    }
}

#[test]
fn a_typical_card_fits_qr_version_6_at_level_m() {
    let c = Claims::new(
        "5f0c2a6e-8d4b-4c1e-9a7f-3b2d1e0f4a6c",
        Role::Student,
        "a-long-school-sourced-id-0000000000000001",
        1_790_000_000,
        1_810_000_000,
        Flags {
            second_factor: true,
        },
    )
    .unwrap();
    let text = quickcard::sign(&c, &key());
    assert_eq!(text.len(), 153, "QC: + 150 Base45 characters for 100 bytes");
    let qr = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).unwrap();
    assert_eq!(qr.version(), Version::Normal(6));
}

#[test]
fn forged_card_reports_bad_signature_even_when_expired() {
    let c = Claims::new("u", Role::Student, "s", 100, 200, Flags::default()).unwrap();
    let other = IssuerKey::from_seed([12; 32], "x");
    // Same key id cannot be forged easily; instead sign with the trusted key and tamper.
    let mut bytes =
        quickcard::base45::decode(&quickcard::sign(&c, &key()).as_bytes()[3..]).unwrap();
    bytes[6] ^= 0; // flags unchanged
    bytes[5] = Role::Administrator.code();
    let tampered = format!("QC:{}", quickcard::base45::encode(&bytes));
    let opts = VerifyOptions {
        now: 10_000,
        skew_secs: 0,
        school: None,
        ..VerifyOptions::default()
    };
    assert_eq!(
        quickcard::verify(tampered.as_bytes(), &trust(), &opts).unwrap_err(),
        CardError::BadSignature
    );
    let foreign = quickcard::sign(&c, &other);
    assert!(matches!(
        quickcard::verify(foreign.as_bytes(), &trust(), &opts).unwrap_err(),
        CardError::UnknownKey(_)
    ));
}

#[test]
fn signature_over_other_data_never_verifies_as_card() {
    // The signing input starts with a domain string, so the raw body signed without it fails.
    let c = Claims::new("u", Role::Student, "s", 100, 200, Flags::default()).unwrap();
    let text = quickcard::sign(&c, &key());
    let bytes = quickcard::base45::decode(&text.as_bytes()[3..]).unwrap();
    let body = &bytes[..bytes.len() - 64];
    assert!(quickcard::card::signing_input(body).starts_with(quickcard::card::SIGNING_DOMAIN));
    let opts = VerifyOptions {
        now: 150,
        skew_secs: 0,
        school: None,
        ..VerifyOptions::default()
    };
    assert!(quickcard::verify(text.as_bytes(), &trust(), &opts).is_ok());
}

#[test]
fn key_rotation_keeps_old_cards_until_expiry() {
    let old = IssuerKey::from_seed([1; 32], "2025");
    let new = IssuerKey::from_seed([2; 32], "2026");
    let mut old_t = TrustedKey::new(old.public(), "2025");
    old_t.valid_until = Some(1_000);
    let mut new_t = TrustedKey::new(new.public(), "2026");
    new_t.valid_from = Some(900);
    let trust = TrustList::new(vec![old_t, new_t], false).unwrap();
    let opts = VerifyOptions {
        now: 5_000,
        skew_secs: 0,
        school: None,
        ..VerifyOptions::default()
    };
    let old_card = quickcard::sign(
        &Claims::new("u", Role::Student, "s", 950, 10_000, Flags::default()).unwrap(),
        &old,
    );
    let new_card = quickcard::sign(
        &Claims::new("u", Role::Student, "s", 4_000, 10_000, Flags::default()).unwrap(),
        &new,
    );
    let late_old = quickcard::sign(
        &Claims::new("u", Role::Student, "s", 2_000, 10_000, Flags::default()).unwrap(),
        &old,
    );
    assert!(quickcard::verify(old_card.as_bytes(), &trust, &opts).is_ok());
    assert!(quickcard::verify(new_card.as_bytes(), &trust, &opts).is_ok());
    assert!(matches!(
        quickcard::verify(late_old.as_bytes(), &trust, &opts).unwrap_err(),
        CardError::KeyNotValidAtIssue { .. }
    ));
}
