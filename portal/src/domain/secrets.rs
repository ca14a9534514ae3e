//! Secrets: how tokens, kiosk credentials, enrolment codes and PINs are made, stored and checked.
//!
//! High-entropy secrets (session tokens, launch tokens, kiosk credentials, enrolment codes) are
//! stored only as their SHA-256 (a slow hash adds nothing when the secret has ≥ 60 random bits)
//! and compared in constant time. PINs are short, so they get a salted, slow argon2id hash.
//! None of these types print their value in `Debug`, and nothing here logs.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Letters for enrolment codes people type: no 0/O, 1/I/L, 2/Z, 5/S, 8/B.
const CODE_ALPHABET: &[u8] = b"ACDEFGHJKMNPQRTUVWXY34679";

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // The OS random source failing is not something the portal can recover from.
    getrandom::getrandom(&mut b).expect("the operating system's random source failed");
    b
}

/// 128 random bits in hex: a salt that makes every hash of a reply unlike any other.
pub fn salt() -> String {
    hex(&random_bytes::<16>())
}

pub use quickcard::util::hex;

fn base64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A secret handed to a client once. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// 256 random bits with a readable prefix (`qcs_` session, `qck_` kiosk, `qcl_` launch).
    pub fn token(prefix: &str) -> Secret {
        Secret(format!("{prefix}{}", hex(&random_bytes::<32>())))
    }

    /// A 15-letter enrolment code in groups of five (about 70 bits), e.g. `KQ7XM-…`.
    pub fn enrolment_code() -> Secret {
        let bytes = random_bytes::<15>();
        let mut s = String::with_capacity(17);
        for (i, b) in bytes.iter().enumerate() {
            if i > 0 && i % 5 == 0 {
                s.push('-');
            }
            s.push(CODE_ALPHABET[*b as usize % CODE_ALPHABET.len()] as char);
        }
        Secret(s)
    }

    /// A sign-in request id: 128 random bits, base64url without padding (22 characters).
    pub fn request_id() -> Secret {
        Secret(base64url(&random_bytes::<16>()))
    }

    /// A secret read back from the database, or derived (the ChromeOS password).
    pub(crate) fn from_stored(s: String) -> Secret {
        Secret(s)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> String {
        hash_token(&self.0)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// SHA-256 hex of a high-entropy token, as stored in the database.
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.trim().as_bytes()))
}

/// Enrolment codes are typed by people: ignore case, spaces and dashes before hashing.
pub fn normalise_code(code: &str) -> String {
    let mut s: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    // Re-insert the dashes so the hash matches the printed form.
    let mut out = String::with_capacity(s.len() + 2);
    for (i, c) in s.drain(..).enumerate() {
        if i > 0 && i % 5 == 0 {
            out.push('-');
        }
        out.push(c);
    }
    out
}

/// Constant-time equality of two stored hashes (or any two strings of public length).
pub fn ct_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Why a PIN could not be set.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PinError {
    #[error("a PIN is 4 to 12 digits")]
    Format,
    #[error("could not hash the PIN: {0}")]
    Hash(String),
}

/// An argon2id PHC string for a PIN (4–12 digits), with a fresh random salt.
pub fn hash_pin(pin: &str) -> Result<String, PinError> {
    if !(4..=12).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PinError::Format);
    }
    quickcard::util::hash_pin(pin, &random_bytes::<16>()).map_err(PinError::Hash)
}

/// Whether `pin` matches the stored argon2 hash (argon2's own comparison is constant time).
pub fn verify_pin(pin: &str, stored: &str) -> bool {
    quickcard::util::check_pin(pin, stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_prefixed_and_hidden_from_debug() {
        let a = Secret::token("qcs_");
        let b = Secret::token("qcs_");
        assert_ne!(a, b);
        assert!(a.expose().starts_with("qcs_"));
        assert_eq!(a.expose().len(), 4 + 64);
        assert!(!format!("{a:?}").contains(&a.expose()[4..]));
        assert_eq!(a.hash().len(), 64);
        assert_ne!(a.hash(), a.expose()[4..]);
    }

    #[test]
    fn enrolment_codes_normalise() {
        let c = Secret::enrolment_code();
        assert_eq!(c.expose().len(), 17);
        let typed = c.expose().to_lowercase().replace('-', " ");
        assert_eq!(normalise_code(&typed), c.expose());
    }

    #[test]
    fn pins_hash_with_salt_and_verify() {
        let h1 = hash_pin("1234").unwrap();
        let h2 = hash_pin("1234").unwrap();
        assert_ne!(h1, h2, "salted");
        assert!(h1.starts_with("$argon2id$"));
        assert!(verify_pin("1234", &h1));
        assert!(!verify_pin("1235", &h1));
        assert!(!verify_pin("1234", "garbage"));
        assert_eq!(hash_pin("12a4"), Err(PinError::Format));
        assert_eq!(hash_pin("123"), Err(PinError::Format));
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(ct_eq("abc", "abc"));
        assert!(!ct_eq("abc", "abd"));
        assert!(!ct_eq("abc", "abcd"));
    }
}
