//! # QuickCard: the card format
//!
//! A QuickCard is a printed QR code that lets a child sign in by holding it up to a camera. This
//! crate is the one definition of what such a card is, shared by the card printer that makes
//! them, the kiosk that reads them and the portal that turns them into sessions:
//!
//! - [`claims`]: what a card says (an opaque roster id, role, school tag, dates, flags), and
//!   nothing personal;
//! - [`card`]: the byte layout, the domain-separated Ed25519 signing input, and the `QC:` +
//!   Base45 text that fits a version-6 QR code at error-correction level M;
//! - [`keys`]: issuer key files (secret 0600, never printed) and public keys as text;
//! - [`verify`](mod@verify): fully offline checks against a trust list, with one precise error per
//!   failure;
//! - [`util`]: helpers every QuickCard program shares (hex, percent-decoding, owner-only files,
//!   PIN hashes with the `pin` feature), kept here once.
//!
//! It depends on no GUI, network or database crate, and compiles for `wasm32-unknown-unknown`
//! (without the default `keygen` feature) for the browser kiosk.
//!
//! ```
//! use quickcard::{Claims, Flags, IssuerKey, Role, TrustList, TrustedKey, VerifyOptions};
//! let key = IssuerKey::from_seed([42; 32], "Lincoln Elementary 2026");
//! let claims = Claims::new("stu-0042", Role::Student, "sch-lincoln", 1_790_000_000,
//!                          1_810_000_000, Flags::default()).unwrap();
//! let text = quickcard::sign(&claims, &key);
//! let trust = TrustList::new(vec![TrustedKey::new(key.public(), "Lincoln")], false).unwrap();
//! let opts = VerifyOptions {
//!     now: 1_800_000_000,
//!     skew_secs: 300,
//!     school: Some("sch-lincoln".into()),
//!     ..VerifyOptions::default()
//! };
//! let card = quickcard::verify(text.as_bytes(), &trust, &opts).unwrap();
//! assert_eq!(card.claims.subject.to_string(), "stu-0042");
//! ```

pub mod base45;
pub mod card;
pub mod claims;
pub mod keys;
pub mod time;
pub mod util;
pub mod verify;

pub use card::{PREFIX, UnverifiedCard, VERSION, decode, sign};
pub use claims::{ClaimError, Claims, Flags, Role, SchoolTag, Subject};
pub use keys::{IssuerKey, KeyError, KeyId, PublicKey};
pub use verify::{
    DEFAULT_MAX_CARD_LIFETIME_SECS, TrustError, TrustList, TrustedKey, VerifiedCard, VerifyOptions,
    verify, verify_card,
};

use thiserror::Error;

/// Why a card was refused. Each case has a stable machine-readable [`code`](CardError::code)
/// that the portal's API and the kiosk's screens use.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CardError {
    #[error("not a QuickCard (the code does not start with \"QC:\"); it may be another QR code")]
    NotQuickCard,
    #[error("card format version {0} is not supported by this software; update it")]
    UnsupportedVersion(u8),
    #[error("the card is damaged or truncated ({0}); print it again")]
    Malformed(&'static str),
    #[error(
        "the card was signed by key {0}, which is not trusted here; add that key to the trust list if it is your district's"
    )]
    UnknownKey(KeyId),
    #[error("the card's signature is not valid: it was altered or forged")]
    BadSignature,
    #[error("key {key} was not valid when the card was issued ({})", time::format_utc(*.issued_at))]
    KeyNotValidAtIssue { key: KeyId, issued_at: u64 },
    #[error(
        "key {key} was revoked on {} (it may have leaked), so none of its cards work any more; \
         reprint the cards with the district's new key",
        time::format_utc(*.revoked_at)
    )]
    KeyRevoked { key: KeyId, revoked_at: u64 },
    #[error("key {0} may not sign cards for this card's school")]
    KeyNotForSchool(KeyId),
    #[error(
        "the card is valid for {} days, longer than the {} days allowed here; \
         print it again with an earlier expiry date",
        .lifetime_secs.div_ceil(86_400),
        .max_secs / 86_400
    )]
    LifetimeTooLong { lifetime_secs: u64, max_secs: u64 },
    #[error("the card is not valid yet (issued {}); check this device's clock", time::format_utc(*.issued_at))]
    NotYetValid { issued_at: u64 },
    #[error("the card expired on {}; print a new one", time::format_utc(*.expires_at))]
    Expired { expires_at: u64 },
    #[error("the card belongs to another school")]
    WrongSchool,
}

impl CardError {
    /// A stable snake_case code for APIs, logs, test vectors and screen selection.
    pub fn code(&self) -> &'static str {
        match self {
            CardError::NotQuickCard => "not_quickcard",
            CardError::UnsupportedVersion(_) => "unsupported_version",
            CardError::Malformed(_) => "malformed",
            CardError::UnknownKey(_) => "unknown_key",
            CardError::BadSignature => "bad_signature",
            CardError::KeyNotValidAtIssue { .. } => "key_not_valid_at_issue",
            CardError::KeyRevoked { .. } => "key_revoked",
            CardError::KeyNotForSchool(_) => "key_not_for_school",
            CardError::LifetimeTooLong { .. } => "lifetime_too_long",
            CardError::NotYetValid { .. } => "not_yet_valid",
            CardError::Expired { .. } => "expired",
            CardError::WrongSchool => "wrong_school",
        }
    }
}
