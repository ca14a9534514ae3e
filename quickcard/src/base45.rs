//! Base45 (RFC 9285): bytes as text made only of the QR code's alphanumeric characters.
//!
//! QR codes store the 45 characters `0-9 A-Z space $ % * + - . / :` at 5.5 bits each, so Base45
//! text costs 8.25 bits per byte in a QR code: nearly as dense as raw bytes, and still text that
//! can be copied, pasted and typed. Decoding is strict: every input has at most one decoding, so
//! the text form of a card cannot be altered without changing its bytes.

use thiserror::Error;

const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// Why a Base45 string could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Base45Error {
    /// A character outside the Base45 alphabet (lower-case letters are not in it).
    #[error("character {ch:?} at position {pos} is not Base45")]
    BadCharacter { pos: usize, ch: char },
    /// The length leaves one character on its own, which no encoding produces.
    #[error("Base45 text of length {0} is truncated")]
    BadLength(usize),
    /// A group encodes a value too large for its bytes (a non-canonical encoding).
    #[error("Base45 group at position {0} is out of range")]
    OutOfRange(usize),
}

/// Encodes bytes as Base45 text.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(2) * 3);
    for pair in bytes.chunks(2) {
        let (mut n, digits) = match *pair {
            [a, b] => ((a as u32) << 8 | b as u32, 3),
            [a] => (a as u32, 2),
            _ => unreachable!("chunks(2) yields one or two bytes"),
        };
        for _ in 0..digits {
            out.push(ALPHABET[(n % 45) as usize] as char);
            n /= 45;
        }
    }
    out
}

fn value(pos: usize, ch: u8) -> Result<u32, Base45Error> {
    ALPHABET
        .iter()
        .position(|&c| c == ch)
        .map(|v| v as u32)
        .ok_or(Base45Error::BadCharacter {
            pos,
            ch: ch as char,
        })
}

/// Decodes Base45 text, rejecting anything that [`encode`] would not have produced.
pub fn decode(text: &[u8]) -> Result<Vec<u8>, Base45Error> {
    if text.len() % 3 == 1 {
        return Err(Base45Error::BadLength(text.len()));
    }
    let mut out = Vec::with_capacity(text.len() / 3 * 2 + 1);
    for (i, group) in text.chunks(3).enumerate() {
        let pos = i * 3;
        let mut n = 0u32;
        let mut weight = 1u32;
        for (j, &ch) in group.iter().enumerate() {
            n += value(pos + j, ch)? * weight;
            weight *= 45;
        }
        if group.len() == 3 {
            if n > 0xFFFF {
                return Err(Base45Error::OutOfRange(pos));
            }
            out.extend_from_slice(&[(n >> 8) as u8, n as u8]);
        } else {
            if n > 0xFF {
                return Err(Base45Error::OutOfRange(pos));
            }
            out.push(n as u8);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9285_examples() {
        assert_eq!(encode(b"AB"), "BB8");
        assert_eq!(encode(b"Hello!!"), "%69 VD92EX0");
        assert_eq!(encode(b"base-45"), "UJCLQE7W581");
        assert_eq!(decode(b"QED8WEX0").unwrap(), b"ietf!");
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(
            decode(b"GGW").unwrap_err(),
            Base45Error::OutOfRange(0),
            "RFC 9285 section 6: GGW is 65535+ and must fail"
        );
        assert_eq!(decode(b"BB8A").unwrap_err(), Base45Error::BadLength(4));
        assert!(matches!(
            decode(b"bb8").unwrap_err(),
            Base45Error::BadCharacter { pos: 0, .. }
        ));
        assert_eq!(decode(b"::").unwrap_err(), Base45Error::OutOfRange(0));
    }
}
