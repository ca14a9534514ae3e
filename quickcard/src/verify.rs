//! Offline verification: is this card genuine, current, and for this place?
//!
//! The kiosk uses it for instant feedback and the portal again as the authority. Both hold a
//! [`TrustList`] of issuer public keys; several can be trusted at once so that keys can be
//! rotated while old cards keep working until they expire.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::CardError;
use crate::card::{UnverifiedCard, decode};
use crate::claims::{Claims, SchoolTag};
use crate::keys::{KeyId, PublicKey};

/// One issuer key the verifier trusts, with the window in which it may sign cards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedKey {
    /// The key (`qcpk1:…`).
    pub public: PublicKey,
    /// A name for people ("Lincoln 2026-27").
    #[serde(default)]
    pub name: String,
    /// Cards issued before this are refused (Unix seconds or a date).
    #[serde(
        default,
        with = "crate::time::opt_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub valid_from: Option<u64>,
    /// Cards issued after this are refused; cards issued before keep working until they expire.
    #[serde(
        default,
        with = "crate::time::opt_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub valid_until: Option<u64>,
    /// From this moment on every card of the key is refused, whatever its issued-at. This is
    /// how a leaked key is stopped: `valid_until` bounds the card's issued-at, which whoever
    /// holds the secret chooses freely, so it cannot stop a thief who backdates cards.
    #[serde(
        default,
        with = "crate::time::opt_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub revoked_at: Option<u64>,
    /// When set, the key may only sign cards for this school id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school: Option<String>,
}

impl TrustedKey {
    /// A key trusted at all times for every school.
    pub fn new(public: PublicKey, name: &str) -> TrustedKey {
        TrustedKey {
            public,
            name: name.to_string(),
            valid_from: None,
            valid_until: None,
            revoked_at: None,
            school: None,
        }
    }
}

/// Why a trust list could not be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TrustError {
    #[error(
        "key {0} is the published QuickCard demo key: anyone can print cards with it. \
         Remove it from the trust list, or start in demo mode (--demo) to try QuickCard out"
    )]
    DemoKey(KeyId),
    #[error("key {0} is listed twice")]
    Duplicate(KeyId),
    #[error("key {0}: valid_from is after valid_until")]
    EmptyWindow(KeyId),
}

/// The issuer keys a verifier accepts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustList {
    keys: Vec<TrustedKey>,
}

impl TrustList {
    /// Checks and builds a trust list. The demo key is refused unless `allow_demo`.
    pub fn new(keys: Vec<TrustedKey>, allow_demo: bool) -> Result<TrustList, TrustError> {
        for (i, k) in keys.iter().enumerate() {
            let id = k.public.key_id();
            if k.public.is_demo() && !allow_demo {
                return Err(TrustError::DemoKey(id));
            }
            if keys[..i].iter().any(|o| o.public.key_id() == id) {
                return Err(TrustError::Duplicate(id));
            }
            if let (Some(from), Some(until)) = (k.valid_from, k.valid_until)
                && from > until
            {
                return Err(TrustError::EmptyWindow(id));
            }
        }
        Ok(TrustList { keys })
    }

    pub fn keys(&self) -> &[TrustedKey] {
        &self.keys
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    fn find(&self, id: KeyId) -> Option<&TrustedKey> {
        self.keys.iter().find(|k| k.public.key_id() == id)
    }
}

/// The longest a card may be valid by default (`expires_at - issued_at`): 400 days, a school
/// year with room to spare.
pub const DEFAULT_MAX_CARD_LIFETIME_SECS: u64 = 400 * 86_400;

/// Where and when a card is being checked.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// The current time, Unix seconds (passed in, so tests control the clock).
    pub now: u64,
    /// How far the verifier's clock may be off, in seconds, in the card holder's favour.
    pub skew_secs: u64,
    /// The verifier's school id; cards for other schools are refused. `None` accepts any.
    pub school: Option<String>,
    /// The longest `expires_at - issued_at` accepted, in seconds. A leaked key could otherwise
    /// print cards that outlive any rotation; the kiosk and the portal share the default
    /// ([`DEFAULT_MAX_CARD_LIFETIME_SECS`]) so that they agree offline.
    pub max_lifetime_secs: u64,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            now: 0,
            skew_secs: 0,
            school: None,
            max_lifetime_secs: DEFAULT_MAX_CARD_LIFETIME_SECS,
        }
    }
}

/// A card whose signature, key, dates and school all checked out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifiedCard {
    pub claims: Claims,
    pub key_id: KeyId,
    /// The trusted key's name.
    pub key_name: String,
    /// See [`UnverifiedCard::card_id`].
    pub card_id: String,
}

/// Parses and verifies a card: the verified claims, or the one reason it was refused.
///
/// Checks run in this order, and the first failure is the answer: prefix (whitespace around
/// the text is malformed, never trimmed), encoding, version, layout (including expires-at after
/// issued-at), key id known, signature, key not revoked, key valid when the card was issued,
/// key allowed for the card's school, lifetime within the policy, not issued in the future, not
/// expired, card for this school. A forged card therefore always reports a bad signature, never
/// a date problem.
pub fn verify(
    raw: &[u8],
    trust: &TrustList,
    opts: &VerifyOptions,
) -> Result<VerifiedCard, CardError> {
    verify_card(&decode(raw)?, trust, opts)
}

/// [`verify`] for a card that is already parsed.
pub fn verify_card(
    card: &UnverifiedCard,
    trust: &TrustList,
    opts: &VerifyOptions,
) -> Result<VerifiedCard, CardError> {
    let key = trust
        .find(card.key_id)
        .ok_or(CardError::UnknownKey(card.key_id))?;
    if !card.signature_valid(&key.public) {
        return Err(CardError::BadSignature);
    }
    let c = &card.claims;
    // Checked on the verifier's clock, not the card's dates: a thief picks those.
    if let Some(revoked_at) = key.revoked_at
        && opts.now >= revoked_at
    {
        return Err(CardError::KeyRevoked {
            key: card.key_id,
            revoked_at,
        });
    }
    let before = key.valid_from.is_some_and(|f| c.issued_at < f);
    let after = key.valid_until.is_some_and(|u| c.issued_at > u);
    if before || after {
        return Err(CardError::KeyNotValidAtIssue {
            key: card.key_id,
            issued_at: c.issued_at,
        });
    }
    if let Some(school) = &key.school
        && c.school != SchoolTag::of(school)
    {
        return Err(CardError::KeyNotForSchool(card.key_id));
    }
    // The layout guarantees expires-at > issued-at. The published demo key is exempt: it is
    // only trusted in demo mode, where anyone can sign any card with it anyway, and the
    // photographed sample cards are valid for five years.
    let lifetime = c.expires_at - c.issued_at;
    if lifetime > opts.max_lifetime_secs && !key.public.is_demo() {
        return Err(CardError::LifetimeTooLong {
            lifetime_secs: lifetime,
            max_secs: opts.max_lifetime_secs,
        });
    }
    if c.issued_at > opts.now.saturating_add(opts.skew_secs) {
        return Err(CardError::NotYetValid {
            issued_at: c.issued_at,
        });
    }
    if opts.now > c.expires_at.saturating_add(opts.skew_secs) {
        return Err(CardError::Expired {
            expires_at: c.expires_at,
        });
    }
    if let Some(school) = &opts.school
        && !c.school.matches(school)
    {
        return Err(CardError::WrongSchool);
    }
    Ok(VerifiedCard {
        claims: c.clone(),
        key_id: card.key_id,
        key_name: key.name.clone(),
        card_id: card.card_id(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Claims, Flags, IssuerKey, Role, time};

    const SCHOOL: &str = "sch-lincoln";
    const DAY: u64 = 86_400;

    fn card(key: &IssuerKey, issued_at: u64, expires_at: u64) -> String {
        let c = Claims::new(
            "stu-1",
            Role::Student,
            SCHOOL,
            issued_at,
            expires_at,
            Flags::default(),
        )
        .unwrap();
        crate::sign(&c, key)
    }

    fn at(now: u64) -> VerifyOptions {
        VerifyOptions {
            now,
            skew_secs: 300,
            school: Some(SCHOOL.into()),
            ..VerifyOptions::default()
        }
    }

    fn code(text: &str, trust: &TrustList, now: u64) -> &'static str {
        match verify(text.as_bytes(), trust, &at(now)) {
            Ok(_) => "ok",
            Err(e) => e.code(),
        }
    }

    /// A thief holding the key backdates issued-at into the key's window and picks a far
    /// expiry; only `revoked_at`, on the verifier's clock, stops such cards.
    #[test]
    fn a_revoked_key_refuses_every_card_even_backdated_ones() {
        let leaked = IssuerKey::from_seed([1; 32], "leaked");
        let fresh = IssuerKey::from_seed([2; 32], "new");
        let t = |d: &str| time::parse(d).unwrap();
        let leak = t("2027-01-15");
        let backdated = card(&leaked, t("2026-09-01"), t("2036-09-01"));
        let honest = card(&leaked, t("2026-09-01"), t("2027-06-30"));
        let reprinted = card(&fresh, leak + DAY, t("2027-06-30"));

        let mut old = TrustedKey::new(leaked.public(), "leaked");
        old.valid_from = Some(t("2026-07-01"));
        old.valid_until = Some(t("2027-07-31"));
        // Without revocation the window cannot tell the backdated card apart; only the
        // lifetime policy would catch it, so lift it here to see the key rule alone.
        let lax = |now| VerifyOptions {
            max_lifetime_secs: u64::MAX,
            ..at(now)
        };
        let trust = TrustList::new(vec![old.clone()], false).unwrap();
        assert!(verify(backdated.as_bytes(), &trust, &lax(leak + DAY)).is_ok());

        old.revoked_at = Some(leak);
        let new = TrustedKey::new(fresh.public(), "new");
        let trust = TrustList::new(vec![old, new], false).unwrap();
        let e = verify(backdated.as_bytes(), &trust, &lax(leak + DAY)).unwrap_err();
        assert_eq!(e.code(), "key_revoked");
        assert!(e.to_string().contains("reprint the cards"), "{e}");
        assert!(matches!(e, CardError::KeyRevoked { revoked_at, .. } if revoked_at == leak));
        // Honest cards of the key go too, from the revocation instant on (not before).
        assert_eq!(code(&honest, &trust, leak - 1), "ok");
        assert_eq!(code(&honest, &trust, leak), "key_revoked");
        // The new key's cards work.
        assert_eq!(code(&reprinted, &trust, leak + 2 * DAY), "ok");
        // A forged card naming the revoked key is still a bad signature first.
        let forged = card(&fresh, t("2026-09-01"), t("2027-06-30"));
        let mut bytes = crate::decode(forged.as_bytes()).unwrap();
        bytes.key_id = leaked.public().key_id();
        assert_eq!(
            verify_card(&bytes, &trust, &at(leak + DAY)).unwrap_err(),
            CardError::BadSignature
        );
    }

    #[test]
    fn revoked_at_reads_as_a_date_and_is_written_back() {
        let key = IssuerKey::from_seed([1; 32], "k").public();
        let json = format!(r#"{{"public": "{key}", "revoked_at": "2027-01-15"}}"#);
        let k: TrustedKey = serde_json::from_str(&json).unwrap();
        assert_eq!(k.revoked_at, time::parse("2027-01-15").ok());
        let back = serde_json::to_string(&k).unwrap();
        assert!(
            back.contains("\"revoked_at\":\"2027-01-15T00:00:00Z\""),
            "{back}"
        );
        let plain = serde_json::to_string(&TrustedKey::new(key, "k")).unwrap();
        assert!(!plain.contains("revoked_at"), "{plain}");
    }

    #[test]
    fn a_card_valid_longer_than_the_policy_is_refused_even_from_a_good_key() {
        let key = IssuerKey::from_seed([3; 32], "good");
        let trust = TrustList::new(vec![TrustedKey::new(key.public(), "good")], false).unwrap();
        let issued = 1_800_000_000;
        let now = issued + DAY;
        assert_eq!(DEFAULT_MAX_CARD_LIFETIME_SECS, 400 * DAY);
        let limit = card(&key, issued, issued + 400 * DAY);
        assert_eq!(code(&limit, &trust, now), "ok");
        let long = card(&key, issued, issued + 400 * DAY + 1);
        let e = verify(long.as_bytes(), &trust, &at(now)).unwrap_err();
        assert_eq!(e.code(), "lifetime_too_long");
        assert_eq!(
            e.to_string(),
            "the card is valid for 401 days, longer than the 400 days allowed here; \
             print it again with an earlier expiry date"
        );
        let decade = card(&key, issued, issued + 3650 * DAY);
        assert_eq!(code(&decade, &trust, now), "lifetime_too_long");
        // The published demo key signs anything for anyone, so a limit means nothing for it
        // (the photographed sample cards last five years).
        let demo = IssuerKey::demo();
        let trust_demo =
            TrustList::new(vec![TrustedKey::new(demo.public(), "demo")], true).unwrap();
        assert_eq!(
            code(&card(&demo, issued, issued + 1826 * DAY), &trust_demo, now),
            "ok"
        );
        // The policy is the verifier's to set.
        let shorter = VerifyOptions {
            max_lifetime_secs: 30 * DAY,
            ..at(now)
        };
        assert_eq!(
            verify(limit.as_bytes(), &trust, &shorter)
                .unwrap_err()
                .code(),
            "lifetime_too_long"
        );
    }
}
