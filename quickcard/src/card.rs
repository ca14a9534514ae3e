//! The card's bytes and text: how claims are laid out, signed and written for a QR code.
//!
//! See `FORMAT.md` for the layout. Decoding here only parses; it trusts nothing. Use
//! [`crate::verify()`] to learn whether a card is genuine.

use ed25519_dalek::Signature;
use sha2::{Digest, Sha256};

use crate::CardError;
use crate::base45;
use crate::claims::{Claims, Flags, MAX_TEXT_SUBJECT, Role, SchoolTag, Subject};
use crate::keys::{IssuerKey, KeyId};

/// Every card's text starts with this.
pub const PREFIX: &str = "QC:";
/// The format version this crate writes and reads.
pub const VERSION: u8 = 1;
/// Prepended to the card body to form the signing input, so that a signature made for any
/// other purpose, even with the same key, can never verify as a card.
pub const SIGNING_DOMAIN: &[u8] = b"QuickCard card signature v1\0";

const SUBJECT_UUID: u8 = 0;
const SUBJECT_TEXT: u8 = 1;
const SIGNATURE_LEN: usize = 64;

/// A card read from its text but not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnverifiedCard {
    /// Claims as the card states them: not to be trusted before verification.
    pub claims: Claims,
    pub key_id: KeyId,
    body: Vec<u8>,
    signature: [u8; SIGNATURE_LEN],
}

fn body(key_id: KeyId, c: &Claims) -> Vec<u8> {
    let mut b = Vec::with_capacity(40 + MAX_TEXT_SUBJECT);
    b.push(VERSION);
    b.extend_from_slice(&key_id.0);
    b.push(c.role.code());
    b.push(c.flags.bits());
    match &c.subject {
        Subject::Uuid(u) => {
            b.push(SUBJECT_UUID);
            b.extend_from_slice(u);
        }
        Subject::Text(t) => {
            b.push(SUBJECT_TEXT);
            b.push(t.len() as u8);
            b.extend_from_slice(t.as_bytes());
        }
    }
    b.extend_from_slice(&c.school.0);
    // Claims::new keeps both times within u32.
    b.extend_from_slice(&(c.issued_at as u32).to_be_bytes());
    b.extend_from_slice(&(c.expires_at as u32).to_be_bytes());
    b
}

/// The exact bytes the issuer signs: [`SIGNING_DOMAIN`] followed by the card body.
pub fn signing_input(body: &[u8]) -> Vec<u8> {
    [SIGNING_DOMAIN, body].concat()
}

/// Signs claims and returns the card's text form (`QC:` + Base45), ready for a QR code.
pub fn sign(claims: &Claims, key: &IssuerKey) -> String {
    let mut bytes = body(key.public().key_id(), claims);
    let sig = key.sign(&signing_input(&bytes));
    bytes.extend_from_slice(&sig.to_bytes());
    format!("{PREFIX}{}", base45::encode(&bytes))
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], CardError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or(CardError::Malformed(what))?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }
    fn byte(&mut self, what: &'static str) -> Result<u8, CardError> {
        Ok(self.take(1, what)?[0])
    }
    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], CardError> {
        Ok(self
            .take(N, what)?
            .try_into()
            .expect("take returned N bytes"))
    }
    fn u32(&mut self, what: &'static str) -> Result<u64, CardError> {
        Ok(u32::from_be_bytes(self.array(what)?) as u64)
    }
}

/// Parses a card from the bytes a QR code holds (or the text someone pasted).
///
/// Fails with [`CardError::NotQuickCard`] for anything without the prefix (a URL, a Wi-Fi
/// code), [`CardError::UnsupportedVersion`] for a later format, and
/// [`CardError::Malformed`] for a damaged or truncated card, for whitespace around the text
/// (which is used exactly as given) and for a card that expires before it is issued.
pub fn decode(raw: &[u8]) -> Result<UnverifiedCard, CardError> {
    // The text is used exactly as the QR code holds it (FORMAT.md section 1): trimming here
    // would let one verifier accept what another refuses. Whitespace around a card is named
    // as such, so a client that adds a line break learns why its card is refused.
    let text = match raw.strip_prefix(PREFIX.as_bytes()) {
        Some(text) => text,
        None if raw.trim_ascii_start().starts_with(PREFIX.as_bytes()) => {
            return Err(CardError::Malformed("whitespace before the card text"));
        }
        None => return Err(CardError::NotQuickCard),
    };
    // Base45 never ends with its space (a last group's final digit is at most 32), so any
    // trailing whitespace is added, never part of a card.
    if text.last().is_some_and(u8::is_ascii_whitespace) {
        return Err(CardError::Malformed("whitespace after the card text"));
    }
    let bytes = base45::decode(text).map_err(|_| CardError::Malformed("text is not Base45"))?;
    let mut r = Reader {
        bytes: &bytes,
        pos: 0,
    };
    let version = r.byte("empty card")?;
    if version != VERSION {
        return Err(CardError::UnsupportedVersion(version));
    }
    let key_id = KeyId(r.array("key id")?);
    let role = Role::from_code(r.byte("role")?).ok_or(CardError::Malformed("unknown role"))?;
    let flags = Flags::from_bits(r.byte("flags")?).ok_or(CardError::Malformed("unknown flags"))?;
    let subject = match r.byte("subject kind")? {
        SUBJECT_UUID => Subject::Uuid(r.array("subject")?),
        SUBJECT_TEXT => {
            let len = r.byte("subject length")? as usize;
            if len == 0 || len > MAX_TEXT_SUBJECT {
                return Err(CardError::Malformed("subject length"));
            }
            let text = std::str::from_utf8(r.take(len, "subject")?)
                .map_err(|_| CardError::Malformed("subject is not UTF-8"))?;
            // One subject, one encoding: UUID-shaped ids must use the compact form.
            match Subject::parse(text) {
                Ok(s @ Subject::Text(_)) => s,
                Ok(Subject::Uuid(_)) => {
                    return Err(CardError::Malformed("text subject is a UUID"));
                }
                Err(_) => return Err(CardError::Malformed("subject")),
            }
        }
        _ => return Err(CardError::Malformed("subject kind")),
    };
    let school = SchoolTag(r.array("school")?);
    let issued_at = r.u32("issued-at")?;
    let expires_at = r.u32("expires-at")?;
    // A layout rule like the role or flags (Claims::new never signs such a card), so it is
    // reported as malformed before the signature, not later as an expired card.
    if expires_at <= issued_at {
        return Err(CardError::Malformed("expires-at is not after issued-at"));
    }
    let body_len = r.pos;
    let signature = r.array::<SIGNATURE_LEN>("signature")?;
    if r.pos != bytes.len() {
        return Err(CardError::Malformed("trailing bytes after the signature"));
    }
    Ok(UnverifiedCard {
        claims: Claims {
            subject,
            role,
            school,
            issued_at,
            expires_at,
            flags,
        },
        key_id,
        body: bytes[..body_len].to_vec(),
        signature,
    })
}

impl UnverifiedCard {
    /// The body and signature, checked against `key`'s public half with strict Ed25519 rules.
    pub(crate) fn signature_valid(&self, key: &crate::keys::PublicKey) -> bool {
        let sig = Signature::from_bytes(&self.signature);
        key.verify_strict(&signing_input(&self.body), &sig)
    }

    /// A stable id for this exact card (16 hex digits), for audit logs and copied-card checks.
    /// Two printings of the same claims at different times have different ids.
    pub fn card_id(&self) -> String {
        let d = Sha256::new()
            .chain_update(&self.body)
            .chain_update(self.signature)
            .finalize();
        crate::util::hex(&d[..8])
    }
}
