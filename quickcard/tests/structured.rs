//! Property tests over cards built field by field: every branch of the parser and of the
//! verifier is reached, and the result must be the one FORMAT.md's rules give, computed here
//! by a model written independently of the crate (section 4's order of checks).

mod support;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use quickcard::{CardError, Subject, TrustList, TrustedKey, VerifyOptions, base45};
use support::{RawCard, RawSignature, RawSubject, is_hyphenated_uuid, key};

const UUID: &str = "0f8e2a4c-1b3d-4e5f-8a9b-0c1d2e3f4a5b";

/// Ids close to a hyphenated UUID: a real one with characters replaced, inserted or removed,
/// or 36 characters drawn from hex digits, dashes and a few others.
fn uuid_like() -> impl Strategy<Value = String> {
    let edit = (
        0..40usize,
        prop::sample::select(vec!["-", "--", "", "g", "G", "é", "0"]),
    );
    prop_oneof![
        prop::collection::vec(edit, 1..4).prop_map(|edits| {
            let mut s = UUID.to_string();
            for (pos, with) in edits {
                let pos = pos.min(s.len());
                let end = if pos < s.len() && s.is_char_boundary(pos + 1) {
                    pos + 1
                } else {
                    pos
                };
                if s.is_char_boundary(pos) {
                    s.replace_range(pos..end, with);
                }
            }
            s
        }),
        "[0-9a-fA-F-]{36}",
        "[0-9a-fA-F-]{30,40}",
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        Just(UUID.to_ascii_uppercase()),
    ]
}

fn text_subject() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => uuid_like().prop_map(String::into_bytes),
        2 => "[a-z0-9._-]{1,64}".prop_map(String::into_bytes),
        1 => "\\PC{1,16}".prop_map(String::into_bytes),
        // Length 0, over 64, or not UTF-8.
        1 => prop::collection::vec(any::<u8>(), 0..80),
    ]
}

fn subject() -> impl Strategy<Value = RawSubject> {
    prop_oneof![
        3 => any::<[u8; 16]>().prop_map(RawSubject::Uuid),
        6 => text_subject().prop_map(RawSubject::Text),
        1 => (2..=u8::MAX, prop::collection::vec(any::<u8>(), 0..20))
            .prop_map(|(k, rest)| RawSubject::OtherKind(k, rest)),
    ]
}

fn signature() -> impl Strategy<Value = RawSignature> {
    prop_oneof![
        6 => Just(RawSignature::Valid),
        1 => any::<[u8; 64]>().prop_map(RawSignature::Bytes),
    ]
}

/// Times around the verifier's clock (`NOW`) and the key's window, and anywhere in u32.
fn time() -> impl Strategy<Value = u32> {
    prop_oneof![
        3 => NOW - 400 * DAY..NOW + 400 * DAY,
        1 => any::<u32>(),
        1 => prop::sample::select(vec![0, 1, NOW, NOW + SKEW, NOW - SKEW, u32::MAX]),
    ]
}

const NOW: u32 = 1_800_000_000;
const DAY: u32 = 86_400;
const SKEW: u32 = 300;

prop_compose! {
    fn raw_card()(
        version in prop_oneof![8 => Just(1u8), 1 => any::<u8>()],
        other_key in prop::option::weighted(0.1, any::<[u8; 4]>()),
        role in prop_oneof![8 => 0..5u8, 1 => any::<u8>()],
        flags in prop_oneof![8 => 0..2u8, 1 => any::<u8>()],
        subject in subject(),
        school in prop_oneof![
            4 => Just(support::SCHOOL),
            1 => Just("sch-west"),
        ],
        issued_at in time(),
        valid_for in prop::option::weighted(0.7, 1..400 * DAY),
        expires_at in time(),
        signature in signature(),
        trailing in prop_oneof![8 => Just(vec![]), 1 => prop::collection::vec(any::<u8>(), 1..4)],
        cut in prop::option::weighted(0.1, any::<prop::sample::Index>()),
        edit in prop::option::weighted(0.15, (0..6u8, any::<u32>())),
    ) -> RawCard {
        let mut card = RawCard {
            version,
            key_id: other_key.unwrap_or(key().public().key_id().0),
            role,
            flags,
            subject,
            school: quickcard::SchoolTag::of(school).0,
            issued_at,
            // Mostly after issued-at, as issuers write it; otherwise anything.
            expires_at: valid_for.map_or(expires_at, |d| issued_at.saturating_add(d)),
            signature,
            trailing,
            cut: None,
        };
        // Someone edits one field of a signed card and keeps its signature.
        if let Some((field, v)) = edit {
            let signed = card.body();
            let [a, b, c, d] = v.to_be_bytes();
            match field {
                0 => card.role = a % 5,
                1 => card.flags ^= 1,
                2 => card.school = [a, b, c, d],
                3 => card.issued_at = v,
                4 => card.expires_at = v,
                _ => card.key_id = [a, b, c, d],
            }
            card.signature = RawSignature::Over(signed);
        }
        let len = card.body().len() + 64;
        card.cut = cut.map(|c| c.index(len));
        // A cut record keeps no trailing bytes: they could fill it back up to full length,
        // and the model reads any cut as the record ending early.
        if card.cut.is_some() {
            card.trailing.clear();
        }
        card
    }
}

/// The key's window and school and the verifier's school, so that every check can fail.
#[derive(Debug, Clone)]
struct Verifier {
    valid_from: Option<u32>,
    valid_until: Option<u32>,
    revoked_at: Option<u32>,
    key_school: Option<&'static str>,
    school: Option<&'static str>,
    max_lifetime: u32,
}

fn verifier() -> impl Strategy<Value = Verifier> {
    let school = || prop::option::of(prop::sample::select(vec![support::SCHOOL, "sch-west"]));
    (
        prop::option::of(time()),
        prop::option::of(time()),
        prop::option::of(time()),
        school(),
        school(),
        prop::sample::select(vec![1, 86_400, 400 * 86_400, u32::MAX]),
    )
        .prop_map(
            |(from, until, revoked_at, key_school, school, max_lifetime)| Verifier {
                valid_from: from,
                valid_until: until.map(|u| u.max(from.unwrap_or(0))),
                revoked_at,
                key_school,
                school,
                max_lifetime,
            },
        )
}

impl Verifier {
    fn trust(&self) -> TrustList {
        let mut k = TrustedKey::new(key().public(), "t");
        k.valid_from = self.valid_from.map(u64::from);
        k.valid_until = self.valid_until.map(u64::from);
        k.revoked_at = self.revoked_at.map(u64::from);
        k.school = self.key_school.map(String::from);
        TrustList::new(vec![k], false).unwrap()
    }

    fn opts(&self) -> VerifyOptions {
        VerifyOptions {
            now: NOW.into(),
            skew_secs: SKEW.into(),
            school: self.school.map(String::from),
            max_lifetime_secs: self.max_lifetime.into(),
        }
    }
}

/// FORMAT.md sections 2 and 4, as the model reads them: the code a verifier must answer.
fn expected(c: &RawCard, v: &Verifier) -> &'static str {
    if let Some(cut) = c.cut {
        // The record ends early: only the version can be read first, if it is there.
        return if cut >= 1 && c.version != 1 {
            "unsupported_version"
        } else {
            "malformed"
        };
    }
    if c.version != 1 {
        return "unsupported_version";
    }
    let subject_ok = match &c.subject {
        RawSubject::Uuid(_) => true,
        RawSubject::Text(t) => {
            (1..=64).contains(&t.len())
                && std::str::from_utf8(t).is_ok_and(|s| !is_hyphenated_uuid(s))
        }
        RawSubject::OtherKind(..) => false,
    };
    if c.role > 4
        || c.flags > 1
        || !subject_ok
        || c.expires_at <= c.issued_at
        || !c.trailing.is_empty()
    {
        return "malformed";
    }
    if c.key_id != key().public().key_id().0 {
        return "unknown_key";
    }
    let signed_as_laid_out = match &c.signature {
        RawSignature::Valid => true,
        RawSignature::Over(body) => *body == c.body(),
        RawSignature::Bytes(_) => false,
    };
    if !signed_as_laid_out {
        return "bad_signature";
    }
    if v.revoked_at.is_some_and(|r| NOW >= r) {
        return "key_revoked";
    }
    if v.valid_from.is_some_and(|f| c.issued_at < f)
        || v.valid_until.is_some_and(|u| c.issued_at > u)
    {
        return "key_not_valid_at_issue";
    }
    let tag = |s: &str| quickcard::SchoolTag::of(s).0;
    if v.key_school.is_some_and(|s| tag(s) != c.school) {
        return "key_not_for_school";
    }
    if c.expires_at - c.issued_at > v.max_lifetime {
        return "lifetime_too_long";
    }
    if u64::from(c.issued_at) > u64::from(NOW + SKEW) {
        return "not_yet_valid";
    }
    if u64::from(NOW) > u64::from(c.expires_at) + u64::from(SKEW) {
        return "expired";
    }
    if v.school.is_some_and(|s| tag(s) != c.school) {
        return "wrong_school";
    }
    "ok"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn every_structured_card_gets_the_answer_the_format_gives(c in raw_card(), v in verifier()) {
        let text = c.text();
        let got = match quickcard::verify(text.as_bytes(), &v.trust(), &v.opts()) {
            Ok(card) => {
                // What was verified is what was laid out.
                prop_assert_eq!(card.claims.issued_at, u64::from(c.issued_at));
                prop_assert_eq!(card.claims.expires_at, u64::from(c.expires_at));
                prop_assert_eq!(card.claims.role.code(), c.role);
                match (&c.subject, &card.claims.subject) {
                    (RawSubject::Uuid(a), Subject::Uuid(b)) => prop_assert_eq!(a, b),
                    (RawSubject::Text(a), Subject::Text(b)) => prop_assert_eq!(a, b.as_bytes()),
                    (a, b) => prop_assert!(false, "{:?} read as {:?}", a, b),
                }
                "ok"
            }
            Err(e) => e.code(),
        };
        prop_assert_eq!(got, expected(&c, &v), "{:?}", c);
    }

    #[test]
    fn ids_are_uuids_exactly_when_hyphenated_and_round_trip(id in uuid_like()) {
        let s = Subject::parse(&id).unwrap();
        prop_assert_eq!(matches!(s, Subject::Uuid(_)), is_hyphenated_uuid(&id));
        // The normal form reads back as the same subject, and a UUID's is its lower case.
        prop_assert_eq!(Subject::parse(&s.to_string()).unwrap(), s.clone());
        if let Subject::Uuid(_) = s {
            prop_assert_eq!(s.to_string(), id.to_ascii_lowercase());
        }
    }

    #[test]
    fn any_id_parses_or_is_refused_without_panicking(id in "\\PC{0,80}|[0-9a-fA-F-]{0,40}") {
        match Subject::parse(&id) {
            Ok(Subject::Uuid(_)) => prop_assert!(is_hyphenated_uuid(&id)),
            Ok(Subject::Text(t)) => prop_assert!(t == id && !id.is_empty() && id.len() <= 64),
            Err(_) => prop_assert!(id.is_empty() || id.len() > 64),
        }
    }

    #[test]
    fn base45_text_has_at_most_one_decoding(text in "[0-9A-Z $%*+./:-]{0,12}|[0-9A-Za-z \\t\\n:]{0,6}") {
        // Whatever decodes is exactly what encoding its bytes gives back.
        if let Ok(bytes) = base45::decode(text.as_bytes()) {
            prop_assert_eq!(base45::encode(&bytes), text);
        }
    }

    #[test]
    fn whitespace_around_any_card_is_malformed(
        c in raw_card(),
        before in "[ \\t\\r\\n]{0,2}",
        after in "[ \\t\\r\\n]{0,2}",
    ) {
        prop_assume!(!before.is_empty() || !after.is_empty());
        let text = format!("{before}{}{after}", c.text());
        let got = quickcard::verify(text.as_bytes(), &support::trust(), &VerifyOptions::default());
        prop_assert_eq!(got.unwrap_err().code(), "malformed");
    }
}

#[test]
fn the_structured_cards_reach_every_outcome_and_every_layout_rule() {
    // The properties above only mean something if the generator reaches every branch: count
    // the answers over a fixed sample and require each one.
    let mut runner = TestRunner::deterministic();
    let strategy = (raw_card(), verifier());
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for _ in 0..4000 {
        let (c, v) = strategy.new_tree(&mut runner).unwrap().current();
        let answer = match quickcard::verify(c.text().as_bytes(), &v.trust(), &v.opts()) {
            Ok(_) => "ok".to_string(),
            Err(CardError::Malformed(why)) => format!("malformed: {why}"),
            Err(e) => e.code().to_string(),
        };
        *seen.entry(answer).or_default() += 1;
    }
    let every = [
        "ok",
        "unsupported_version",
        "unknown_key",
        "bad_signature",
        "key_revoked",
        "key_not_valid_at_issue",
        "key_not_for_school",
        "lifetime_too_long",
        "not_yet_valid",
        "expired",
        "wrong_school",
        "malformed: empty card",
        "malformed: key id",
        "malformed: role",
        "malformed: unknown role",
        "malformed: flags",
        "malformed: unknown flags",
        "malformed: subject kind",
        "malformed: subject length",
        "malformed: subject",
        "malformed: subject is not UTF-8",
        "malformed: text subject is a UUID",
        "malformed: school",
        "malformed: issued-at",
        "malformed: expires-at",
        "malformed: expires-at is not after issued-at",
        "malformed: signature",
        "malformed: trailing bytes after the signature",
    ];
    for answer in every {
        assert!(
            seen.contains_key(answer),
            "never reached {answer:?}: {seen:#?}"
        );
    }
}
