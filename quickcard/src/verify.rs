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

/// Where and when a card is being checked.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// The current time, Unix seconds (passed in, so tests control the clock).
    pub now: u64,
    /// How far the verifier's clock may be off, in seconds, in the card holder's favour.
    pub skew_secs: u64,
    /// The verifier's school id; cards for other schools are refused. `None` accepts any.
    pub school: Option<String>,
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
/// issued-at), key id known, signature, key valid when the card was issued, key allowed for the
/// card's school, not issued in the future, not expired, card for this school. A forged card
/// therefore always reports a bad signature, never a date problem.
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
