//! The ChromeOS password handed out with a Chromebook sign-in (Chrome Credentials Passing API).
//!
//! It is never stored. It is derived when it is handed out:
//! `base64url(HMAC-SHA256(key, "quickcard chromeos password v1" ‖ len(user id) ‖ user id ‖
//! generation))`, with the portal's ChromeOS password key (`[saml]
//! chromeos_password_key_file`, made by `quickcard-portal chromeos-password keygen`). The
//! database holds only a per-user generation counter, so a stolen database backup yields no
//! password, and a password can be changed (by bumping the generation) without storing one.
//!
//! The generation is bumped when a user's cards are revoked (whoever held the lost card must
//! not keep the password that opens the child's Chromebook profile) and by
//! `quickcard-portal chromeos-password reset --user ID`. A new generation is a new ChromeOS
//! password: ChromeOS encrypts the child's local profile with it, so at the next card sign-in
//! on a Chromebook that has the old profile ChromeOS asks for the old password or offers to
//! delete the profile and make a new one; the profile's local data is then lost (data synced
//! to the Google account comes back).

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};
use zeroize::Zeroizing;

use crate::db::Db;
use crate::db::store::{self, AuditEntry, AuditKind, AuditResult};
use crate::domain::secrets::Secret;

/// The key's length: 256 bits.
pub const KEY_LEN: usize = 32;
/// The key file holds this prefix and the key in base64url on one line, so that a file of
/// another kind (the SAML key, a certificate) is never taken for it.
const KEY_PREFIX: &str = "qcpwk1:";
/// Separates this use of HMAC from any other use of the same key.
const LABEL: &[u8] = b"quickcard chromeos password v1";

/// Why a ChromeOS password key could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{0} does not exist: make the ChromeOS password key with \
         `quickcard-portal chromeos-password keygen --key {0}`, or correct \
         saml.chromeos_password_key_file"
    )]
    Missing(String),
    #[error(
        "{0} already exists. A new ChromeOS password key changes every child's ChromeOS password \
         (and their Chromebooks' local profiles are then lost): keep the existing key, or move it \
         away first if that is really wanted"
    )]
    Exists(String),
    #[error(
        "{0} can be read or written by group or others: it must be private to the portal's user \
         (`chmod 600 {0}`)"
    )]
    Permissions(String),
    #[error(
        "{0} is not a ChromeOS password key (one line `qcpwk1:` and 43 base64url characters); \
         make one with `quickcard-portal chromeos-password keygen --key PATH`"
    )]
    Format(String),
}

/// The portal's secret key for ChromeOS passwords. `Debug` never shows it.
pub struct PasswordKey(Zeroizing<[u8; KEY_LEN]>);

impl fmt::Debug for PasswordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordKey([redacted])")
    }
}

impl PasswordKey {
    /// A new key from the operating system's random source (the demo keeps one in memory).
    pub fn generate() -> PasswordKey {
        let mut b = Zeroizing::new([0u8; KEY_LEN]);
        // The OS random source failing is not something the portal can recover from.
        getrandom::getrandom(b.as_mut()).expect("the operating system's random source failed");
        PasswordKey(b)
    }

    /// A key with these bytes (tests, and keys kept elsewhere).
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> PasswordKey {
        PasswordKey(Zeroizing::new(bytes))
    }

    /// Writes the key to a new file with mode 0600; refuses to overwrite an existing file
    /// (a replaced key would change every child's password).
    pub fn save(&self, path: &Path) -> Result<(), KeyError> {
        let text = Zeroizing::new(format!("{KEY_PREFIX}{}\n", b64(self.0.as_ref())));
        quickcard::util::write_new(path, text.as_bytes(), 0o600).map_err(|source| {
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

    /// Reads a key file, refusing one that group or others may read or write.
    pub fn load(path: &Path) -> Result<PasswordKey, KeyError> {
        let name = path.display().to_string();
        let io = |source: std::io::Error| {
            if source.kind() == std::io::ErrorKind::NotFound {
                KeyError::Missing(name.clone())
            } else {
                KeyError::Io {
                    path: name.clone(),
                    source,
                }
            }
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(path).map_err(io)?.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(KeyError::Permissions(name));
            }
        }
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(io)?);
        let encoded = text
            .trim()
            .strip_prefix(KEY_PREFIX)
            .ok_or_else(|| KeyError::Format(name.clone()))?;
        use base64::Engine as _;
        let bytes = Zeroizing::new(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(encoded)
                .map_err(|_| KeyError::Format(name.clone()))?,
        );
        let key: [u8; KEY_LEN] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::Format(name.clone()))?;
        Ok(PasswordKey::from_bytes(key))
    }
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The ChromeOS password of `user_id` at `generation` (43 base64url characters). The same
/// inputs always give the same password; any other user or generation gives an unrelated one.
pub fn chromeos_password(key: &PasswordKey, user_id: &str, generation: i64) -> Secret {
    // Lengths are fixed or prefixed, so no two (user, generation) pairs share a message.
    let mut msg = Zeroizing::new(Vec::with_capacity(LABEL.len() + 16 + user_id.len()));
    msg.extend_from_slice(LABEL);
    msg.extend_from_slice(&(user_id.len() as u64).to_be_bytes());
    msg.extend_from_slice(user_id.as_bytes());
    msg.extend_from_slice(&generation.to_be_bytes());
    Secret::from_stored(b64(&hmac_sha256(key.0.as_ref(), &msg)))
}

/// HMAC-SHA256 (RFC 2104). Written out over `sha2` because the `hmac` release in the lockfile
/// needs a newer `digest` than the workspace's `sha2`.
fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = Zeroizing::new([0u8; BLOCK]);
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| -> Zeroizing<[u8; BLOCK]> {
        let mut p = Zeroizing::new([0u8; BLOCK]);
        for (o, i) in p.iter_mut().zip(k.iter()) {
            *o = i ^ byte;
        }
        p
    };
    let inner = Sha256::new()
        .chain_update(pad(0x36).as_ref())
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c).as_ref())
        .chain_update(inner)
        .finalize()
        .into()
}

/// The user's current generation (0 until the first change).
pub async fn generation(conn: &mut AnyConnection, user_id: &str) -> Result<i64, sqlx::Error> {
    let row =
        sqlx::query("SELECT generation FROM chromeos_password_generations WHERE user_id = $1")
            .bind(user_id.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    Ok(match row {
        Some(r) => r.try_get("generation")?,
        None => 0,
    })
}

/// Moves the user to the next generation (a new ChromeOS password); returns it. Call it in the
/// transaction that makes the change (a revocation, a reset).
pub async fn bump(conn: &mut AnyConnection, user_id: &str, now: i64) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO chromeos_password_generations (user_id, generation, changed_at) \
         VALUES ($1, 1, $2) \
         ON CONFLICT (user_id) DO UPDATE SET \
           generation = chromeos_password_generations.generation + 1, changed_at = excluded.changed_at",
    )
    .bind(user_id.to_string())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    generation(conn, user_id).await
}

/// Gives a user a new ChromeOS password (the next generation), audited. `None` when the user
/// was never on the roster. A removed user may be reset too, like a revocation.
pub async fn reset(db: &Db, user_id: &str, now: i64, by: &str) -> Result<Option<i64>, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    if !crate::db::store::user_exists(&mut tx, user_id, false).await? {
        tx.rollback().await?;
        return Ok(None);
    }
    let g = bump(&mut tx, user_id, now).await?;
    store::audit(
        &mut tx,
        &AuditEntry::new(now, AuditKind::ChromeosPasswordReset, AuditResult::Ok)
            .user(user_id)
            .detail(format!(
                "ChromeOS password changed to generation {g} by {by}"
            )),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(g))
}

/// `quickcard-portal chromeos-password …`
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Make the portal's ChromeOS password key (mode 0600; refuses to overwrite). Set it as
    /// `[saml] chromeos_password_key_file`. Replacing it changes every child's password.
    Keygen {
        #[arg(long)]
        key: PathBuf,
    },
    /// Give a user a new ChromeOS password (e.g. after a Chromebook was taken over). Their
    /// Chromebook profiles made with the old password lose their local data at the next card
    /// sign-in; a revocation does the same on its own.
    Reset {
        #[arg(long)]
        user: String,
    },
}

/// `chromeos-password keygen`: writes the key, prints the config line (never the key).
pub fn keygen_command(path: &Path) -> anyhow::Result<()> {
    PasswordKey::generate().save(path)?;
    crate::cli::outln!(
        "wrote the ChromeOS password key {} (mode 0600; never share it, keep a backup: a lost or \
         replaced key changes every child's ChromeOS password)\nconfig:\n  [saml]\n  \
         chromeos_password_key_file = {:?}",
        path.display(),
        path.display().to_string()
    )?;
    Ok(())
}

/// `chromeos-password reset --user ID` (the user id already normalised).
pub async fn reset_command(db: &Db, user_id: &str, now: i64) -> anyhow::Result<()> {
    let g = reset(db, user_id, now, "command line")
        .await
        .context("changing the ChromeOS password")?
        .ok_or_else(|| crate::PortalError::UnknownUser(user_id.to_string()))?;
    crate::cli::outln!(
        "{user_id} has a new ChromeOS password (generation {g}). At the next card sign-in on a \
         Chromebook that has their profile, ChromeOS asks for the old password or makes the \
         profile anew: its local data is lost."
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2 of RFC 4231.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            crate::domain::secrets::hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block.
        let mac = hmac_sha256(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        assert_eq!(
            crate::domain::secrets::hex(&mac),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn same_user_and_generation_give_the_same_password() {
        let key = PasswordKey::from_bytes([7; KEY_LEN]);
        let a = chromeos_password(&key, "stu-1", 0);
        assert_eq!(a, chromeos_password(&key, "stu-1", 0));
        assert_eq!(a.expose().len(), 43);
        assert_ne!(a, chromeos_password(&key, "stu-1", 1));
        assert_ne!(a, chromeos_password(&key, "stu-2", 0));
        assert_ne!(
            a,
            chromeos_password(&PasswordKey::from_bytes([8; KEY_LEN]), "stu-1", 0)
        );
    }

    #[test]
    fn key_files_are_private_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("chromeos.key");
        let key = PasswordKey::generate();
        key.save(&p).unwrap();
        let loaded = PasswordKey::load(&p).unwrap();
        assert_eq!(
            chromeos_password(&key, "u", 3),
            chromeos_password(&loaded, "u", 3)
        );
        assert!(matches!(key.save(&p), Err(KeyError::Exists(_))));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
            let e = PasswordKey::load(&p).unwrap_err();
            assert!(e.to_string().contains("chmod 600"), "{e}");
        }
        let junk = dir.path().join("junk.key");
        std::fs::write(&junk, "-----BEGIN PRIVATE KEY-----\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&junk, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let e = PasswordKey::load(&junk).unwrap_err();
        assert!(e.to_string().contains("chromeos-password keygen"), "{e}");
        let e = PasswordKey::load(&dir.path().join("none.key")).unwrap_err();
        assert!(e.to_string().contains("chromeos-password keygen"), "{e}");
        assert!(!format!("{key:?}").contains(&b64(key.0.as_ref())));
    }
}
