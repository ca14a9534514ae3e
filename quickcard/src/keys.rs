//! Issuer keys: the secret that prints cards and the public half that checks them.
//!
//! A secret key file is written once, with mode 0600, and its bytes are never shown: [`IssuerKey`]
//! has no `Display` and its `Debug` prints only the key id. Public keys travel as one line of
//! text (`qcpk1:` + 64 hex digits) that fits in a TOML config or on a command line, and are
//! recognised by a short key id (on every card) and a longer fingerprint (for people).

use std::fmt;
use std::fs;
use std::path::Path;
use std::str::FromStr;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::util::hex;

/// Text prefix of a public key.
pub const PUBLIC_KEY_PREFIX: &str = "qcpk1:";

const SECRET_HEADER: &str =
    "# QuickCard issuer SECRET key. Anyone holding this file can print cards: keep it offline.";
const DEMO_WARNING: &str =
    "# DEMO KEY: published with QuickCard's source. Never trust it outside demos.";
const DEMO_SEED_TEXT: &[u8] =
    b"QuickCard DEMO issuer key. Published; never trust it outside demos.";

/// A key file or key text that could not be used.
#[derive(Debug, Error)]
pub enum KeyError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0} already exists; refusing to overwrite a key (move it away first)")]
    Exists(String),
    #[error("{path}: not a QuickCard secret key file (expected a 'secret:' line)")]
    NotSecretKey { path: String },
    #[error("{path}: key id {stated} does not match the key ({actual}); the file is damaged")]
    KeyIdMismatch {
        path: String,
        stated: String,
        actual: String,
    },
    #[error("not a QuickCard public key: expected 'qcpk1:' followed by 64 hex digits")]
    BadPublicKey,
    #[error("the secret key is not 64 hex digits")]
    BadSecretKey,
    #[error("{0} is not a valid Ed25519 public key")]
    InvalidPoint(String),
}

/// Exactly `2 * N` hex digits. Digit by digit rather than `u8::from_str_radix` on pairs, which
/// would also take a sign (`+f`) and so give one key more than one spelling.
fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let s = s.trim().as_bytes();
    if s.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        let [hi, lo] = [pair[0], pair[1]].map(|c| (c as char).to_digit(16));
        *o = (hi? << 4 | lo?) as u8;
    }
    Some(out)
}

/// The 4-byte id on every card that names the key that signed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 4]);

impl KeyId {
    fn of(public: &VerifyingKey) -> KeyId {
        let d = Sha256::new()
            .chain_update(b"QuickCard key id v1\0")
            .chain_update(public.as_bytes())
            .finalize();
        KeyId([d[0], d[1], d[2], d[3]])
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

impl FromStr for KeyId {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        unhex::<4>(s).map(KeyId).ok_or(KeyError::BadPublicKey)
    }
}

impl Serialize for KeyId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// An issuer's public key: checks cards, safe to show and share.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
    id: KeyId,
}

impl PublicKey {
    /// Wraps raw Ed25519 public key bytes, rejecting bytes that are not a curve point.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<PublicKey, KeyError> {
        let key =
            VerifyingKey::from_bytes(bytes).map_err(|_| KeyError::InvalidPoint(hex(bytes)))?;
        Ok(PublicKey::from_dalek(key))
    }

    fn from_dalek(key: VerifyingKey) -> PublicKey {
        PublicKey {
            id: KeyId::of(&key),
            key,
        }
    }

    /// The raw 32 bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    pub fn key_id(&self) -> KeyId {
        self.id
    }

    /// A fingerprint for people to compare: 80 bits as five groups of four hex digits.
    pub fn fingerprint(&self) -> String {
        let d = Sha256::new()
            .chain_update(b"QuickCard fingerprint v1\0")
            .chain_update(self.key.as_bytes())
            .finalize();
        d[..10].chunks(2).map(hex).collect::<Vec<_>>().join(" ")
    }

    /// Whether this is the published demo key, which real deployments must refuse.
    pub fn is_demo(&self) -> bool {
        *self == IssuerKey::demo().public()
    }

    pub(crate) fn verify_strict(&self, msg: &[u8], sig: &Signature) -> bool {
        self.key.verify_strict(msg, sig).is_ok()
    }

    /// Reads a public key from a file holding a `public:` line (as written by
    /// [`IssuerKey::save`]) or a bare `qcpk1:` line.
    pub fn load(path: &Path) -> Result<PublicKey, KeyError> {
        let text = fs::read_to_string(path).map_err(|source| KeyError::Io {
            path: path.display().to_string(),
            source,
        })?;
        text.lines()
            .map(|l| l.trim())
            .find_map(|l| {
                let l = l.strip_prefix("public:").map(str::trim).unwrap_or(l);
                l.starts_with(PUBLIC_KEY_PREFIX).then(|| l.parse())
            })
            .unwrap_or(Err(KeyError::BadPublicKey))
    }

    /// Reads a public key from its text, or from a file when the text is a path.
    pub fn from_text_or_file(arg: &str) -> Result<PublicKey, KeyError> {
        if arg.trim_start().starts_with(PUBLIC_KEY_PREFIX) {
            arg.parse()
        } else {
            PublicKey::load(Path::new(arg))
        }
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PUBLIC_KEY_PREFIX}{}", hex(self.key.as_bytes()))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({} {})", self.id, self)
    }
}

impl FromStr for PublicKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex_part = s
            .trim()
            .strip_prefix(PUBLIC_KEY_PREFIX)
            .ok_or(KeyError::BadPublicKey)?;
        let bytes = unhex::<32>(hex_part).ok_or(KeyError::BadPublicKey)?;
        PublicKey::from_bytes(&bytes)
    }
}

impl Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// An issuer's secret signing key, with a human name ("Lincoln Elementary 2026-27").
///
/// Its bytes are wiped from memory when dropped and never formatted.
pub struct IssuerKey {
    key: SigningKey,
    name: String,
}

impl fmt::Debug for IssuerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "IssuerKey {{ name: {:?}, key_id: {}, secret: <redacted> }}",
            self.name,
            self.public().key_id()
        )
    }
}

impl IssuerKey {
    /// A new random key from the operating system's random source.
    #[cfg(feature = "keygen")]
    pub fn generate(name: &str) -> Result<IssuerKey, getrandom::Error> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed)?;
        let key = IssuerKey::from_seed(seed, name);
        seed.fill(0);
        Ok(key)
    }

    /// A key from its 32 secret bytes.
    pub fn from_seed(seed: [u8; 32], name: &str) -> IssuerKey {
        IssuerKey {
            key: SigningKey::from_bytes(&seed),
            name: name.to_string(),
        }
    }

    /// The published demo key. Anyone can print cards with it: verifiers refuse it unless they
    /// were started in demo mode.
    pub fn demo() -> IssuerKey {
        let seed: [u8; 32] = Sha256::digest(DEMO_SEED_TEXT).into();
        IssuerKey::from_seed(seed, "QuickCard DEMO issuer (never trust outside demos)")
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn public(&self) -> PublicKey {
        PublicKey::from_dalek(self.key.verifying_key())
    }

    pub(crate) fn sign(&self, msg: &[u8]) -> Signature {
        self.key.sign(msg)
    }

    /// Writes the secret key file (mode 0600, refusing to overwrite) and the public key file
    /// beside it. Returns nothing secret.
    pub fn save(&self, secret_path: &Path, public_path: &Path) -> Result<(), KeyError> {
        for p in [secret_path, public_path] {
            if p.exists() {
                return Err(KeyError::Exists(p.display().to_string()));
            }
        }
        let public = self.public();
        let demo = if public.is_demo() {
            format!("{DEMO_WARNING}\n")
        } else {
            String::new()
        };
        let secret_text = format!(
            "{SECRET_HEADER}\n{demo}name: {}\nkey-id: {}\nsecret: {}\n",
            self.name,
            public.key_id(),
            hex(self.key.as_bytes())
        );
        write_new(secret_path, secret_text.as_bytes(), 0o600)?;
        write_new(public_path, self.public_file_text().as_bytes(), 0o644)
    }

    /// The text of the public key file: safe to publish.
    pub fn public_file_text(&self) -> String {
        let public = self.public();
        let demo = if public.is_demo() {
            format!("{DEMO_WARNING}\n")
        } else {
            String::new()
        };
        format!(
            "# QuickCard issuer public key: give this to kiosks and the portal.\n{demo}name: {}\nkey-id: {}\nfingerprint: {}\npublic: {public}\n",
            self.name,
            public.key_id(),
            public.fingerprint()
        )
    }

    /// Reads a secret key file written by [`IssuerKey::save`].
    pub fn load(path: &Path) -> Result<IssuerKey, KeyError> {
        let shown = path.display().to_string();
        let text = fs::read_to_string(path).map_err(|source| KeyError::Io {
            path: shown.clone(),
            source,
        })?;
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
        };
        let secret = field("secret:").ok_or_else(|| KeyError::NotSecretKey {
            path: shown.clone(),
        })?;
        let seed = unhex::<32>(&secret).ok_or(KeyError::BadSecretKey)?;
        let key = IssuerKey::from_seed(seed, &field("name:").unwrap_or_default());
        if let Some(stated) = field("key-id:") {
            let actual = key.public().key_id().to_string();
            if stated != actual {
                return Err(KeyError::KeyIdMismatch {
                    path: shown,
                    stated,
                    actual,
                });
            }
        }
        Ok(key)
    }
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), KeyError> {
    crate::util::write_new(path, bytes, mode).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            KeyError::Exists(path.display().to_string())
        } else {
            KeyError::Io {
                path: path.display().to_string(),
                source,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_key_text_round_trips() {
        let k = IssuerKey::from_seed([7; 32], "t");
        let text = k.public().to_string();
        assert!(text.starts_with("qcpk1:"));
        assert_eq!(text.parse::<PublicKey>().unwrap(), k.public());
        assert!(matches!(
            "qcpk1:zz".parse::<PublicKey>(),
            Err(KeyError::BadPublicKey)
        ));
        // A sign is not a hex digit ("+a" was read as 0x0a), and a multi-byte character is not
        // two of them.
        assert!(matches!(
            "+a0b0c0d".parse::<KeyId>(),
            Err(KeyError::BadPublicKey)
        ));
        assert!(matches!(
            format!("qcpk1:{}\u{e9}", "0".repeat(62)).parse::<PublicKey>(),
            Err(KeyError::BadPublicKey)
        ));
        assert_eq!(k.public().fingerprint().split(' ').count(), 5);
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let k = IssuerKey::from_seed([0xab; 32], "t");
        let dbg = format!("{k:?}");
        assert!(!dbg.contains("abab"), "{dbg}");
        assert!(dbg.contains("redacted"));
    }

    #[test]
    fn demo_key_is_recognised() {
        assert!(IssuerKey::demo().public().is_demo());
        assert!(!IssuerKey::from_seed([1; 32], "x").public().is_demo());
    }

    #[cfg(unix)]
    #[test]
    fn save_is_0600_refuses_overwrite_and_loads_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (s, p) = (dir.path().join("k.secret"), dir.path().join("k.pub"));
        let k = IssuerKey::from_seed([3; 32], "Lincoln 2026");
        k.save(&s, &p).unwrap();
        let mode = fs::metadata(&s).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(matches!(k.save(&s, &p), Err(KeyError::Exists(_))));
        let back = IssuerKey::load(&s).unwrap();
        assert_eq!(back.public(), k.public());
        assert_eq!(back.name(), "Lincoln 2026");
        assert_eq!(PublicKey::load(&p).unwrap(), k.public());
        assert!(matches!(
            IssuerKey::load(&p),
            Err(KeyError::NotSecretKey { .. })
        ));
        let public_text = fs::read_to_string(&p).unwrap();
        assert!(!public_text.contains(&hex(&[3; 32])));
    }

    #[test]
    fn damaged_key_id_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let s = dir.path().join("k.secret");
        fs::write(&s, format!("key-id: 00000000\nsecret: {}\n", hex(&[3; 32]))).unwrap();
        assert!(matches!(
            IssuerKey::load(&s),
            Err(KeyError::KeyIdMismatch { .. })
        ));
    }
}
