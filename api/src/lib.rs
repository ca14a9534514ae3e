//! QuickCard's wire contract: every request and reply body between the kiosk (native and in
//! the browser) and the portal, and the one list of error codes. `portal/API.md` describes the
//! same contract for people; `tests/api_md.rs` checks that it lists exactly [`ErrorCode`]'s
//! codes.
//!
//! Both ends depend on this crate: the portal (`quickcard-portal`) serialises these types, the
//! kiosk (`quickcard-kiosk`, through `portal_client`) deserialises them. Before, each side
//! wrote its own copies and they drifted; now a change to the contract is one change, and a new
//! error code is a compile error in the kiosk until it has chosen a screen for it.
//!
//! Data flows portal → kiosk through the replies, kiosk → portal through the requests:
//!
//! - [`kiosk`]: enrolment ([`EnrollRequest`] → [`EnrollReply`]) and the kiosk's config
//!   ([`KioskConfig`], with the [`Revocation`]s a kiosk checks offline);
//! - [`session`]: a card becomes a session ([`ExchangeRequest`] → [`SessionReply`], with the
//!   [`User`], their [`AppTile`]s and, on the Chromebook sign-in page, a [`SignInHandoff`]),
//!   and an app is opened ([`LaunchReply`]);
//! - [`error`]: every refusal ([`ErrorBody`] with an [`ErrorCode`]; a client reads a
//!   [`ReplyCode`], which keeps a newer portal's unknown code), and the card format's refusals
//!   as codes (`From<&quickcard::CardError>`);
//! - [`admin`]: the admin API's bodies, the kinds of audit rows ([`AuditKind`]), and the
//!   health check.
//!
//! Dependencies, and why there is nothing else: `serde` for the wire; `quickcard` (without
//! default features) because the format's own types travel on the wire ([`quickcard::TrustedKey`],
//! [`quickcard::Role`]) and its refusals are API codes — copying them would bring back the
//! drift this crate ends, and both ends link it anyway; `zeroize`, so secrets in replies are
//! wiped wherever they are dropped; `sha2` for the revocation entry's salted hash, which is
//! part of the contract. No HTTP, database or runtime: the crate builds for
//! `wasm32-unknown-unknown` and each end brings its own transport.
//!
//! Secrets (session tokens, launch links, credentials, enrolment codes, PINs, SAML responses,
//! ChromeOS passwords) print as `[redacted]` in `Debug`.

pub mod admin;
pub mod error;
pub mod kiosk;
mod redact;
pub mod session;

pub use admin::{
    AddKioskReply, AddKioskRequest, AuditKind, DisableKioskReply, HealthReply, RevokeReply,
    RevokeRequest, UnlockReply,
};
pub use error::{ErrorBody, ErrorCode, ErrorDetail, ReplyCode};
pub use kiosk::{EnrollReply, EnrollRequest, KioskConfig, Revocation, is_revoked, salted_hash};
pub use session::{
    AppTile, Avatar, ExchangeRequest, LaunchReply, SessionReply, SignInHandoff, User,
};
