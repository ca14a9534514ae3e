//! Cards built field by field, including fields `Claims::new` would never allow, and signed
//! with raw Ed25519 so that a card can be well signed and still break a layout rule.
#![allow(dead_code)]

use ed25519_dalek::{Signer, SigningKey};
use quickcard::card::signing_input;
use quickcard::{IssuerKey, TrustList, TrustedKey, base45};

/// The trusted test key's seed.
pub const SEED: [u8; 32] = [11; 32];
/// The school the trusted key's cards are for.
pub const SCHOOL: &str = "sch-lincoln";

pub fn key() -> IssuerKey {
    IssuerKey::from_seed(SEED, "structured tests")
}

pub fn trust() -> TrustList {
    TrustList::new(vec![TrustedKey::new(key().public(), "t")], false).unwrap()
}

/// The subject field as it is laid out: kind byte, then what that kind says follows.
#[derive(Debug, Clone)]
pub enum RawSubject {
    Uuid([u8; 16]),
    /// Kind 1, with its length byte set to the length of the bytes.
    Text(Vec<u8>),
    /// Any other kind byte, followed by some bytes.
    OtherKind(u8, Vec<u8>),
}

/// What goes after the body.
#[derive(Debug, Clone)]
pub enum RawSignature {
    /// Made with [`SEED`] over the body as it is laid out.
    Valid,
    /// Made with [`SEED`] over other body bytes: the card as it was before someone edited it.
    Over(Vec<u8>),
    Bytes([u8; 64]),
}

#[derive(Debug, Clone)]
pub struct RawCard {
    pub version: u8,
    pub key_id: [u8; 4],
    pub role: u8,
    pub flags: u8,
    pub subject: RawSubject,
    pub school: [u8; 4],
    pub issued_at: u32,
    pub expires_at: u32,
    pub signature: RawSignature,
    pub trailing: Vec<u8>,
    /// Keep only this many bytes of the record (before the trailing bytes), if set.
    pub cut: Option<usize>,
}

impl RawCard {
    /// A well-formed student card for [`SCHOOL`] signed with [`SEED`].
    pub fn good() -> RawCard {
        RawCard {
            version: 1,
            key_id: key().public().key_id().0,
            role: 0,
            flags: 0,
            subject: RawSubject::Text(b"stu-0042".to_vec()),
            school: quickcard::SchoolTag::of(SCHOOL).0,
            issued_at: 1_790_000_000,
            expires_at: 1_810_000_000,
            signature: RawSignature::Valid,
            trailing: Vec::new(),
            cut: None,
        }
    }

    pub fn body(&self) -> Vec<u8> {
        let mut b = vec![self.version];
        b.extend_from_slice(&self.key_id);
        b.extend_from_slice(&[self.role, self.flags]);
        match &self.subject {
            RawSubject::Uuid(u) => {
                b.push(0);
                b.extend_from_slice(u);
            }
            RawSubject::Text(t) => {
                b.push(1);
                b.push(t.len() as u8);
                b.extend_from_slice(t);
            }
            RawSubject::OtherKind(kind, rest) => {
                b.push(*kind);
                b.extend_from_slice(rest);
            }
        }
        b.extend_from_slice(&self.school);
        b.extend_from_slice(&self.issued_at.to_be_bytes());
        b.extend_from_slice(&self.expires_at.to_be_bytes());
        b
    }

    /// The record: body, signature, trailing bytes, cut as asked.
    pub fn bytes(&self) -> Vec<u8> {
        let body = self.body();
        let sig: [u8; 64] = match &self.signature {
            RawSignature::Valid => sign_raw(&body),
            RawSignature::Over(other) => sign_raw(other),
            RawSignature::Bytes(b) => *b,
        };
        let mut out = body;
        out.extend_from_slice(&sig);
        if let Some(cut) = self.cut {
            out.truncate(cut);
        }
        out.extend_from_slice(&self.trailing);
        out
    }

    /// The card's text: `QC:` and the Base45 of [`RawCard::bytes`].
    pub fn text(&self) -> String {
        format!("QC:{}", base45::encode(&self.bytes()))
    }
}

/// An Ed25519 signature by [`SEED`] over `body` with the card domain string.
pub fn sign_raw(body: &[u8]) -> [u8; 64] {
    SigningKey::from_bytes(&SEED)
        .sign(&signing_input(body))
        .to_bytes()
}

/// The reference reading of FORMAT.md's "hyphenated UUID", written independently of the
/// crate: 36 characters, `-` at 8, 13, 18 and 23, hex digits everywhere else.
pub fn is_hyphenated_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}
