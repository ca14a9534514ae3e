//! The IdP signing key (RSA-2048) and its self-signed X.509 certificate (SHA-256 with RSA,
//! about ten years), which the district uploads to Google.
//!
//! Google accepts only RSA or DSA verification certificates on this leg, so the card's Ed25519
//! keys cannot be reused. Everything here is pure Rust (RustCrypto `rsa` + `x509-cert`), so no
//! OpenSSL is needed. The private key file is written once with mode 0600 and is never shown:
//! [`IdpKey`]'s `Debug` prints only the certificate fingerprint.

use std::fs;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::rand_core::{CryptoRngCore, OsRng};
use rsa::signature::RandomizedSigner;
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::der::DateTime;
use x509_cert::der::asn1::{GeneralizedTime, UtcTime};
use x509_cert::der::{Decode, DecodePem, Encode};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{EncodePublicKey, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};
use zeroize::Zeroizing;

/// RSA modulus size of generated keys.
pub const KEY_BITS: usize = 2048;
/// Validity of a generated certificate: ten years (3653 days).
pub const CERT_VALIDITY_SECS: u64 = 3653 * 86_400;
const SHA256_WITH_RSA: &str = "1.2.840.113549.1.1.11";

/// Key or certificate problem.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "the certificate common name must be 1–64 printable ASCII characters without , + \" \\ < > ; = #"
    )]
    BadCommonName,
    #[error("RSA key generation failed: {0}")]
    Generate(String),
    #[error("building the certificate failed: {0}")]
    Certificate(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0} already exists; refusing to overwrite a key or certificate")]
    Exists(String),
    #[error("{0}: the private key file is readable by group or others; run chmod 600")]
    Permissions(String),
    #[error("{0}: not a PKCS#8 PEM RSA private key")]
    BadKeyFile(String),
    #[error("{0}: not a PEM X.509 certificate")]
    BadCertFile(String),
    #[error("the RSA key has {0} bits; at least {KEY_BITS} are required")]
    WeakKey(usize),
    #[error("the certificate does not belong to the private key")]
    Mismatch,
    #[error("the certificate is not signed with SHA-256 with RSA")]
    BadCertAlgorithm,
    #[error("signing failed: {0}")]
    Sign(String),
}

/// The IdP certificate (public): what goes into metadata, `KeyInfo` and Google's admin console.
#[derive(Clone, PartialEq, Eq)]
pub struct IdpCertificate {
    der: Vec<u8>,
    not_after: u64,
}

impl std::fmt::Debug for IdpCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdpCertificate")
            .field("sha256", &self.sha256_fingerprint())
            .field("not_after", &self.not_after)
            .finish()
    }
}

impl IdpCertificate {
    /// Reads a PEM certificate (`-----BEGIN CERTIFICATE-----`).
    pub fn from_pem(pem: &str) -> Result<IdpCertificate, KeyError> {
        let cert = Certificate::from_pem(pem.trim().as_bytes())
            .map_err(|_| KeyError::BadCertFile("certificate".into()))?;
        IdpCertificate::from_cert(&cert)
    }

    fn from_cert(cert: &Certificate) -> Result<IdpCertificate, KeyError> {
        if cert.signature_algorithm.oid.to_string() != SHA256_WITH_RSA {
            return Err(KeyError::BadCertAlgorithm);
        }
        let der = cert
            .to_der()
            .map_err(|e| KeyError::Certificate(e.to_string()))?;
        let not_after = cert
            .tbs_certificate
            .validity
            .not_after
            .to_unix_duration()
            .as_secs();
        Ok(IdpCertificate { der, not_after })
    }

    /// DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Base64 of the DER, as in `ds:X509Certificate`.
    pub fn base64(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(&self.der)
    }

    /// PEM text (64-column lines), the file to upload to Google.
    pub fn to_pem(&self) -> String {
        let b64 = self.base64();
        let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(chunk).unwrap_or(""));
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
        out
    }

    /// SHA-256 fingerprint of the DER, upper-case hex with colons (as admin consoles show it).
    pub fn sha256_fingerprint(&self) -> String {
        Sha256::digest(&self.der)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    }

    /// End of validity, Unix seconds.
    pub fn not_after(&self) -> u64 {
        self.not_after
    }

    fn public_key(&self) -> Result<RsaPublicKey, KeyError> {
        let cert =
            Certificate::from_der(&self.der).map_err(|e| KeyError::Certificate(e.to_string()))?;
        let spki_der = cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| KeyError::Certificate(e.to_string()))?;
        use rsa::pkcs8::DecodePublicKey;
        RsaPublicKey::from_public_key_der(&spki_der).map_err(|_| KeyError::Mismatch)
    }
}

/// The IdP's private signing key and its certificate.
pub struct IdpKey {
    key: RsaPrivateKey,
    cert: IdpCertificate,
}

impl std::fmt::Debug for IdpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdpKey")
            .field("private_key", &format_args!("[redacted]"))
            .field("certificate", &self.cert)
            .finish()
    }
}

impl IdpKey {
    /// A new RSA-2048 key and a self-signed certificate `CN=<common_name>` valid from `now`
    /// (Unix seconds) for ten years, from the operating system's random source.
    pub fn generate(common_name: &str, now: u64) -> Result<IdpKey, KeyError> {
        IdpKey::generate_with_rng(&mut OsRng, common_name, now)
    }

    /// As [`IdpKey::generate`] with a caller's cryptographic RNG.
    pub fn generate_with_rng(
        rng: &mut impl CryptoRngCore,
        common_name: &str,
        now: u64,
    ) -> Result<IdpKey, KeyError> {
        let ok_cn = !common_name.is_empty()
            && common_name.len() <= 64
            && common_name
                .chars()
                .all(|c| (' '..='~').contains(&c) && !",+\"\\<>;=#".contains(c))
            && !common_name.starts_with(' ')
            && !common_name.ends_with(' ');
        if !ok_cn {
            return Err(KeyError::BadCommonName);
        }
        let key =
            RsaPrivateKey::new(rng, KEY_BITS).map_err(|e| KeyError::Generate(e.to_string()))?;
        let cert = self_signed(rng, &key, common_name, now)?;
        Ok(IdpKey { key, cert })
    }

    /// The certificate.
    pub fn certificate(&self) -> &IdpCertificate {
        &self.cert
    }

    /// PKCS#1 v1.5 RSA-SHA256 signature of `message` (blinded, with OS randomness).
    pub(crate) fn sign_rsa_sha256(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let signer = SigningKey::<Sha256>::new(self.key.clone());
        let sig = signer
            .try_sign_with_rng(&mut OsRng, message)
            .map_err(|e| KeyError::Sign(e.to_string()))?;
        Ok(rsa::signature::SignatureEncoding::to_vec(&sig))
    }

    /// Writes the private key (PKCS#8 PEM, mode 0600) and the certificate (PEM, mode 0644).
    /// Refuses if either file exists; on a failure nothing is left half-written.
    pub fn save(&self, key_path: &Path, cert_path: &Path) -> Result<(), KeyError> {
        for p in [key_path, cert_path] {
            if p.exists() {
                return Err(KeyError::Exists(p.display().to_string()));
            }
        }
        let pem = self
            .key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| KeyError::Generate(e.to_string()))?;
        write_new(key_path, pem.as_bytes(), 0o600)?;
        if let Err(e) = write_new(cert_path, self.cert.to_pem().as_bytes(), 0o644) {
            let _ = fs::remove_file(key_path);
            return Err(e);
        }
        Ok(())
    }

    /// Loads a key and its certificate, checking the key file's mode (no group/other access),
    /// the key size and that the certificate holds this key's public half.
    pub fn load(key_path: &Path, cert_path: &Path) -> Result<IdpKey, KeyError> {
        let io = |p: &Path| {
            let p = p.display().to_string();
            move |source| KeyError::Io { path: p, source }
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(key_path)
                .map_err(io(key_path))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(KeyError::Permissions(key_path.display().to_string()));
            }
        }
        let key_pem = Zeroizing::new(fs::read_to_string(key_path).map_err(io(key_path))?);
        let key = RsaPrivateKey::from_pkcs8_pem(key_pem.as_str())
            .map_err(|_| KeyError::BadKeyFile(key_path.display().to_string()))?;
        let cert_pem = fs::read_to_string(cert_path).map_err(io(cert_path))?;
        let cert = IdpCertificate::from_pem(&cert_pem)
            .map_err(|_| KeyError::BadCertFile(cert_path.display().to_string()))?;
        IdpKey::from_parts(key, cert)
    }

    fn from_parts(key: RsaPrivateKey, cert: IdpCertificate) -> Result<IdpKey, KeyError> {
        let bits = key.size() * 8;
        if bits < KEY_BITS {
            return Err(KeyError::WeakKey(bits));
        }
        if cert.public_key()? != key.to_public_key() {
            return Err(KeyError::Mismatch);
        }
        Ok(IdpKey { key, cert })
    }
}

fn self_signed(
    rng: &mut impl CryptoRngCore,
    key: &RsaPrivateKey,
    common_name: &str,
    now: u64,
) -> Result<IdpCertificate, KeyError> {
    let err = |e: &dyn std::fmt::Display| KeyError::Certificate(e.to_string());
    let signer = SigningKey::<Sha256>::new(key.clone());
    let subject = Name::from_str(&format!("CN={common_name}")).map_err(|e| err(&e))?;
    let spki_der = key
        .to_public_key()
        .to_public_key_der()
        .map_err(|e| err(&e))?;
    let spki = SubjectPublicKeyInfoOwned::from_der(spki_der.as_bytes()).map_err(|e| err(&e))?;
    let mut serial = [0u8; 16];
    rng.fill_bytes(&mut serial);
    serial[0] &= 0x7f;
    serial[0] |= 0x01;
    let serial = SerialNumber::new(&serial).map_err(|e| err(&e))?;
    let validity = Validity {
        not_before: x509_time(now)?,
        not_after: x509_time(now.saturating_add(CERT_VALIDITY_SECS))?,
    };
    let builder = CertificateBuilder::new(
        Profile::Leaf {
            issuer: subject.clone(),
            enable_key_agreement: false,
            enable_key_encipherment: false,
        },
        serial,
        validity,
        subject,
        spki,
        &signer,
    )
    .map_err(|e| err(&e))?;
    let cert = builder
        .build_with_rng::<rsa::pkcs1v15::Signature>(rng)
        .map_err(|e| err(&e))?;
    IdpCertificate::from_cert(&cert)
}

/// RFC 5280: UTCTime through 2049, GeneralizedTime from 2050.
fn x509_time(secs: u64) -> Result<Time, KeyError> {
    let dt = DateTime::from_unix_duration(Duration::from_secs(secs))
        .map_err(|e| KeyError::Certificate(e.to_string()))?;
    if dt.year() < 2050 {
        Ok(Time::UtcTime(
            UtcTime::from_date_time(dt).map_err(|e| KeyError::Certificate(e.to_string()))?,
        ))
    } else {
        Ok(Time::GeneralTime(GeneralizedTime::from_date_time(dt)))
    }
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), KeyError> {
    quickcard::util::write_new(path, bytes, mode).map_err(|source| {
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
pub(crate) mod tests {
    use super::*;
    use std::sync::OnceLock;

    /// One generated key shared by the unit tests (generation takes a moment).
    pub(crate) fn test_key() -> &'static IdpKey {
        static KEY: OnceLock<IdpKey> = OnceLock::new();
        KEY.get_or_init(|| IdpKey::generate("QuickCard test IdP", 1_795_000_000).unwrap())
    }

    #[test]
    fn generated_certificate() {
        let k = test_key();
        let cert = Certificate::from_der(k.certificate().der()).unwrap();
        assert_eq!(cert.signature_algorithm.oid.to_string(), SHA256_WITH_RSA);
        assert_eq!(
            cert.tbs_certificate.subject.to_string(),
            "CN=QuickCard test IdP"
        );
        assert_eq!(cert.tbs_certificate.issuer, cert.tbs_certificate.subject);
        assert_eq!(
            cert.tbs_certificate
                .validity
                .not_before
                .to_unix_duration()
                .as_secs(),
            1_795_000_000
        );
        assert_eq!(
            k.certificate().not_after(),
            1_795_000_000 + CERT_VALIDITY_SECS
        );
        assert_eq!(k.key.size() * 8, 2048);
        assert!(
            k.certificate()
                .to_pem()
                .starts_with("-----BEGIN CERTIFICATE-----\n")
        );
        let dbg = format!("{k:?}");
        assert!(dbg.contains("[redacted]") && !dbg.contains("PRIVATE"));
    }

    #[test]
    fn bad_common_names() {
        for cn in ["", "a,b", "CN=x", "tab\there", " lead", "ünï"] {
            assert!(matches!(
                IdpKey::generate_with_rng(&mut OsRng, cn, 0),
                Err(KeyError::BadCommonName)
            ));
        }
    }

    #[test]
    fn save_load_round_trip_and_refusals() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let kp = dir.path().join("idp.key");
        let cp = dir.path().join("idp.crt");
        let k = test_key();
        k.save(&kp, &cp).unwrap();
        assert_eq!(
            fs::metadata(&kp).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let loaded = IdpKey::load(&kp, &cp).unwrap();
        assert_eq!(loaded.certificate(), k.certificate());
        assert_eq!(loaded.key, k.key);
        // No overwrite, and the existing files are untouched.
        let before = fs::read(&kp).unwrap();
        assert!(matches!(
            k.save(&kp, &dir.path().join("other.crt")),
            Err(KeyError::Exists(_))
        ));
        assert!(matches!(
            k.save(&dir.path().join("other.key"), &cp),
            Err(KeyError::Exists(_))
        ));
        assert!(!dir.path().join("other.key").exists());
        assert_eq!(fs::read(&kp).unwrap(), before);
        // A world-readable key is refused.
        fs::set_permissions(&kp, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            IdpKey::load(&kp, &cp),
            Err(KeyError::Permissions(_))
        ));
        fs::set_permissions(&kp, fs::Permissions::from_mode(0o600)).unwrap();
        // A certificate of another key is refused.
        let other = IdpKey::generate("Other", 0).unwrap();
        let cp2 = dir.path().join("other-cert.crt");
        fs::write(&cp2, other.certificate().to_pem()).unwrap();
        assert!(matches!(IdpKey::load(&kp, &cp2), Err(KeyError::Mismatch)));
        // Garbage files.
        let junk = dir.path().join("junk");
        fs::write(&junk, "not a pem").unwrap();
        assert!(matches!(
            IdpKey::load(&kp, &junk),
            Err(KeyError::BadCertFile(_))
        ));
        fs::set_permissions(&junk, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(matches!(
            IdpKey::load(&junk, &cp),
            Err(KeyError::BadKeyFile(_))
        ));
    }

    #[test]
    fn weak_key_refused() {
        let small = RsaPrivateKey::new(&mut OsRng, 1024).unwrap();
        let cert = self_signed(&mut OsRng, &small, "weak", 0).unwrap();
        assert!(matches!(
            IdpKey::from_parts(small, cert),
            Err(KeyError::WeakKey(1024))
        ));
    }
}
