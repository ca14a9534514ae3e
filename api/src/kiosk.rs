//! A kiosk joins and keeps up to date: enrolment (`POST /v1/kiosks/enroll`), its config
//! (`GET /v1/kiosk/config`, and the Chromebook sign-in page's `GET /v1/signin/{request}/config`)
//! with the revoked cards it refuses offline.

use std::fmt;

use quickcard::TrustedKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::redact::Redacted;

/// `POST /v1/kiosks/enroll` body. `Debug` leaves out the enrolment code.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollRequest {
    /// From `quickcard-portal kiosk add`; case, spaces and dashes do not matter.
    pub code: String,
    /// What the kiosk calls itself (informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl fmt::Debug for EnrollRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnrollRequest")
            .field("code", &Redacted)
            .field("name", &self.name)
            .finish()
    }
}

/// `POST /v1/kiosks/enroll` reply. `Debug` leaves out the credential.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollReply {
    pub kiosk_id: String,
    /// The name given to `kiosk add` (authoritative, whatever the kiosk called itself).
    #[serde(default)]
    pub name: String,
    /// The kiosk's credential (`qck_…`) for `Authorization: Bearer`.
    pub credential: String,
    #[serde(default)]
    pub school_id: String,
    #[serde(default)]
    pub trust: Vec<TrustedKey>,
}

impl fmt::Debug for EnrollReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnrollReply")
            .field("kiosk_id", &self.kiosk_id)
            .field("name", &self.name)
            .field("credential", &Redacted)
            .field("school_id", &self.school_id)
            .field("trust", &self.trust)
            .finish()
    }
}

/// `GET /v1/kiosk/config`, and `GET /v1/signin/{request}/config` (which adds `schools`,
/// `expires_at` and `service_provider`, and leaves `kiosk_id` and `school_id` empty: any school
/// of the district).
///
/// Everything has a default: a kiosk caches this reply and must load a cache written by an
/// older version. The fields are in alphabetical order, the order the portal has always sent
/// them in (it built the reply as a JSON map).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct KioskConfig {
    /// The portal's tolerance for clock differences (seconds).
    #[serde(default)]
    pub clock_skew_secs: u64,
    /// The portal runs with `--demo` (the demo key is trusted).
    #[serde(default)]
    pub demo: bool,
    /// Sign-in page only: when the pending sign-in expires (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    #[serde(default)]
    pub idle_timeout_secs: Option<u64>,
    #[serde(default)]
    pub kiosk_id: String,
    #[serde(default)]
    pub name: String,
    /// Cards refused offline.
    #[serde(default)]
    pub revoked: Vec<Revocation>,
    /// The kiosk's school; empty on the sign-in page (any school of the district).
    #[serde(default)]
    pub school_id: String,
    /// Sign-in page only: the schools whose cards may sign in (empty: every school).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schools: Option<Vec<String>>,
    /// The portal's clock (Unix seconds).
    #[serde(default)]
    pub server_time: u64,
    /// Sign-in page only: the SAML service provider asking (e.g. Google).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_provider: Option<String>,
    #[serde(default)]
    pub trust: Vec<TrustedKey>,
}

/// A revoked card range, as the configs send it: cards of the user issued before
/// `issued_before` are refused. The user id is not sent (the sign-in page's config is open to
/// whoever starts a sign-in and must not list the district's revoked pupils): `user_hash` is
/// SHA-256 (lower-case hex) of `salt` followed by the id, so a kiosk that reads the id off a
/// card can still tell that the card is revoked. Each entry of each reply has a fresh salt,
/// so replies cannot be compared with each other or with precomputed hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// Defaults: a config cached from an older portal (plain `user_id`s) still loads its
    /// trust list; its revocations match nothing until the next refresh.
    #[serde(default)]
    pub salt: String,
    #[serde(default)]
    pub user_hash: String,
    pub issued_before: u64,
}

impl Revocation {
    /// The entry for `user_id` with this salt.
    pub fn new(salt: &str, user_id: &str, issued_before: u64) -> Revocation {
        Revocation {
            salt: salt.to_string(),
            user_hash: salted_hash(salt, user_id),
            issued_before,
        }
    }

    /// Whether this entry refuses a card of `user_id` issued at `issued_at`.
    pub fn refuses(&self, user_id: &str, issued_at: u64) -> bool {
        issued_at < self.issued_before
            && !self.user_hash.is_empty()
            && salted_hash(&self.salt, user_id) == self.user_hash.to_ascii_lowercase()
    }
}

/// Whether any of `revoked` refuses a card of `user_id` issued at `issued_at`: the offline
/// check of the kiosk and of the browser page.
pub fn is_revoked(revoked: &[Revocation], user_id: &str, issued_at: u64) -> bool {
    revoked.iter().any(|r| r.refuses(user_id, issued_at))
}

/// SHA-256 of `salt` then `user_id`, lower-case hex.
pub fn salted_hash(salt: &str, user_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(user_id.as_bytes());
    quickcard::util::hex(&h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salted_hash_is_sha256_of_salt_then_id() {
        // SHA-256("abc"), the FIPS 180-2 example: salt "a" followed by the id "bc".
        assert_eq!(
            salted_hash("a", "bc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let r = Revocation::new("a", "bc", 10);
        assert!(r.refuses("bc", 9) && !r.refuses("bc", 10) && !r.refuses("bd", 9));
    }

    #[test]
    fn the_kiosk_config_is_what_the_portal_always_sent() {
        let c = KioskConfig {
            clock_skew_secs: 300,
            idle_timeout_secs: Some(120),
            kiosk_id: "kio-1".into(),
            name: "LAB-1".into(),
            school_id: "sch".into(),
            server_time: 5,
            ..KioskConfig::default()
        };
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"clock_skew_secs":300,"demo":false,"idle_timeout_secs":120,"kiosk_id":"kio-1","name":"LAB-1","revoked":[],"school_id":"sch","server_time":5,"trust":[]}"#
        );
    }
}
