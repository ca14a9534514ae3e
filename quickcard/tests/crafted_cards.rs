//! Cards crafted to hit one rule of FORMAT.md each: what an attacker's sticker, a careless
//! tool or a QR reader that adds a line break would produce.

mod support;

use quickcard::{CardError, Subject, VerifyOptions};
use support::{RawCard, RawSignature, RawSubject, key, sign_raw, trust};

const UUID: &str = "0f8e2a4c-1b3d-4e5f-8a9b-0c1d2e3f4a5b";

fn opts(now: u64) -> VerifyOptions {
    VerifyOptions {
        now,
        skew_secs: 300,
        school: Some(support::SCHOOL.into()),
        ..VerifyOptions::default()
    }
}

fn verify(text: &[u8]) -> Result<quickcard::VerifiedCard, CardError> {
    quickcard::verify(text, &trust(), &opts(1_800_000_000))
}

fn with_text_subject(id: &str, signature: RawSignature) -> RawCard {
    RawCard {
        subject: RawSubject::Text(id.as_bytes().to_vec()),
        signature,
        ..RawCard::good()
    }
}

#[test]
fn a_card_whose_text_subject_is_uuid_shaped_with_an_extra_dash_is_refused_not_a_panic() {
    // The sticker: a UUID with one more dash, a trusted key id and a made-up signature. It used
    // to crash the decoder before the signature was looked at.
    let id = "0f8e2a4c-1b3d-4e5f-8a9b-0c1d2e3f4a-b";
    let forged = with_text_subject(id, RawSignature::Bytes([0x5a; 64])).text();
    let card = quickcard::decode(forged.as_bytes()).unwrap();
    assert_eq!(card.claims.subject, Subject::Text(id.into()));
    assert_eq!(
        verify(forged.as_bytes()).unwrap_err(),
        CardError::BadSignature
    );

    // Signed by a key nobody trusts: still just an unknown key.
    let unknown = RawCard {
        key_id: [1, 2, 3, 4],
        ..with_text_subject(id, RawSignature::Bytes([0; 64]))
    };
    assert!(matches!(
        verify(unknown.text().as_bytes()).unwrap_err(),
        CardError::UnknownKey(_)
    ));

    // Such an id is a text id (FORMAT.md: "any other id"), so an issuer may sign it.
    let signed = with_text_subject(id, RawSignature::Valid).text();
    let ok = verify(signed.as_bytes()).unwrap();
    assert_eq!(ok.claims.subject.to_string(), id);
}

#[test]
fn a_dash_anywhere_in_a_uuid_text_subject_never_panics() {
    for pos in 0..UUID.len() {
        for extra in ["-", "--", "g", "\u{e9}"] {
            let mut id = UUID.to_string();
            id.replace_range(pos..pos + 1, extra);
            for sig in [RawSignature::Valid, RawSignature::Bytes([7; 64])] {
                let text = with_text_subject(&id, sig).text();
                let got = verify(text.as_bytes());
                if id == UUID {
                    // Replacing a dash by a dash: the text form of a UUID, which is refused.
                    assert_eq!(
                        got.unwrap_err(),
                        CardError::Malformed("text subject is a UUID"),
                        "{id}"
                    );
                } else if let Ok(card) = got {
                    assert_eq!(card.claims.subject, Subject::Text(id.clone()));
                } else {
                    assert_eq!(got.unwrap_err(), CardError::BadSignature, "{id}");
                }
            }
        }
    }
}

#[test]
fn a_text_subject_that_is_a_hyphenated_uuid_is_malformed_in_any_case() {
    for id in [UUID.to_string(), UUID.to_ascii_uppercase()] {
        let text = with_text_subject(&id, RawSignature::Valid).text();
        assert_eq!(
            verify(text.as_bytes()).unwrap_err(),
            CardError::Malformed("text subject is a UUID")
        );
    }
    // The same id in the UUID kind is the card's one encoding.
    let compact = RawCard {
        subject: RawSubject::Uuid(match Subject::parse(UUID).unwrap() {
            Subject::Uuid(u) => u,
            Subject::Text(_) => unreachable!(),
        }),
        ..RawCard::good()
    };
    assert_eq!(
        verify(compact.text().as_bytes())
            .unwrap()
            .claims
            .subject
            .to_string(),
        UUID
    );
}

#[test]
fn whitespace_around_the_card_text_is_malformed() {
    let card = RawCard::good().text();
    assert!(verify(card.as_bytes()).is_ok());
    for ws in [" ", "\t", "\n", "\r\n", "\r", "\x0c", "  \n"] {
        let after = format!("{card}{ws}");
        assert_eq!(
            verify(after.as_bytes()).unwrap_err(),
            CardError::Malformed("whitespace after the card text"),
            "{after:?}"
        );
        let before = format!("{ws}{card}");
        assert_eq!(
            verify(before.as_bytes()).unwrap_err(),
            CardError::Malformed("whitespace before the card text"),
            "{before:?}"
        );
    }
}

#[test]
fn tabs_and_line_breaks_inside_the_card_text_are_malformed() {
    let card = RawCard::good().text();
    for ws in ["\t", "\n", "\r\n"] {
        for at in [3, 4, card.len() / 2, card.len() - 1] {
            let mut text = card.clone();
            text.insert_str(at, ws);
            assert_eq!(
                verify(text.as_bytes()).unwrap_err(),
                CardError::Malformed("text is not Base45"),
                "{text:?}"
            );
        }
    }
}

#[test]
fn other_codes_with_whitespace_are_still_not_quickcards() {
    for text in [
        "https://library.example.org/book/4711\n",
        "\n",
        " ",
        "",
        " qc:ABC",
    ] {
        assert_eq!(
            verify(text.as_bytes()).unwrap_err(),
            CardError::NotQuickCard,
            "{text:?}"
        );
    }
}

#[test]
fn a_card_that_expires_when_or_before_it_is_issued_is_malformed_not_expired() {
    let issued = RawCard::good().issued_at;
    for expires in [issued, issued - 1, 0] {
        let card = RawCard {
            expires_at: expires,
            ..RawCard::good()
        };
        // Well signed, and checked at a time long after it "expired": still malformed.
        assert_eq!(
            verify(card.text().as_bytes()).unwrap_err(),
            CardError::Malformed("expires-at is not after issued-at"),
        );
        // A layout rule, so it comes before the signature, like an unknown role.
        let forged = RawCard {
            signature: RawSignature::Bytes([1; 64]),
            ..card
        };
        assert_eq!(
            verify(forged.text().as_bytes()).unwrap_err(),
            CardError::Malformed("expires-at is not after issued-at"),
        );
    }
    // One second later than issued is a valid (very short) card, within the clock skew.
    let card = RawCard {
        issued_at: 1_799_999_900,
        expires_at: 1_799_999_901,
        ..RawCard::good()
    };
    assert!(verify(card.text().as_bytes()).is_ok());
}

#[test]
fn the_raw_builder_writes_what_the_crate_signs() {
    // Ties the test builder to the real format, so the tests above test real cards.
    let claims = quickcard::Claims::new(
        "stu-0042",
        quickcard::Role::Student,
        support::SCHOOL,
        1_790_000_000,
        1_810_000_000,
        quickcard::Flags::default(),
    )
    .unwrap();
    assert_eq!(quickcard::sign(&claims, &key()), RawCard::good().text());
    let body = RawCard::good().body();
    assert_eq!(RawCard::good().bytes()[body.len()..], sign_raw(&body));
}
