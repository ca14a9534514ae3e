//! Small helpers every QuickCard program needs, kept here once because this is the one crate
//! they all depend on (the kiosk, the portal, the SAML crate, the printer):
//!
//! - [`hex`]: lowercase hex of bytes (key files, token and hash texts);
//! - [`percent_decode`]: one `application/x-www-form-urlencoded` component (query strings);
//! - [`write_new`] and [`replace_private`]: files only their owner may read (secret keys, the
//!   kiosk's config and credential), written whole or not at all;
//! - [`hash_pin`], [`check_pin`] and [`is_pin_hash`] (feature `pin`): the Argon2id hash of a
//!   short PIN.
//!
//! Nothing here is part of the card format itself; all of it builds for wasm32 (the file
//! helpers then fail at run time, as the browser has no files).

use std::fs;
use std::io::{self, Write as _};
use std::path::Path;

/// Lowercase hex, two digits per byte.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// What [`percent_decode`] does with a `%` that does not start two hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadEscape {
    /// Refuse the whole value (`None`).
    Refuse,
    /// Keep the `%` as written, as browsers do with a page's own address.
    Keep,
}

/// Decodes one percent-encoded form or query component: `+` is a space, `%XX` a byte. The
/// bytes are returned as they are (callers decide about UTF-8); `None` only for a bad escape
/// under [`BadEscape::Refuse`].
pub fn percent_decode(s: &str, bad: BadEscape) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let byte = b
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match (byte, bad) {
                    (Some(v), _) => {
                        out.push(v);
                        i += 2;
                    }
                    (None, BadEscape::Keep) => out.push(b'%'),
                    (None, BadEscape::Refuse) => return None,
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(out)
}

/// Writes a new file with `mode` (Unix permissions; 0o600 for secrets), refusing to replace an
/// existing one (`ErrorKind::AlreadyExists`): a replaced key would orphan everything made with
/// it. The data is synced before this returns; a file that could not be written whole is
/// removed again.
pub fn write_new(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    // The file is closed at the end of this block, before a failed one is removed.
    let written = {
        let mut f = opts.open(path)?;
        f.write_all(bytes).and_then(|()| f.sync_all())
    };
    if let Err(e) = written {
        let _ = fs::remove_file(path);
        return Err(e);
    }
    Ok(())
}

/// Writes `bytes` to `path` with mode 0600, replacing the file atomically (a temporary file
/// beside it, then a rename), so a crash never leaves half a file. Creates the folder.
pub fn replace_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp-write");
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    {
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    // A temporary file left by an earlier run keeps its old mode: set it again.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o600))?;
    }
    fs::rename(&tmp, path)
}

/// The Argon2id PHC string of `pin` with `salt` (16 random bytes from the caller, so this crate
/// needs no random source in the browser). Callers check the PIN's format first.
#[cfg(feature = "pin")]
pub fn hash_pin(pin: &str, salt: &[u8; 16]) -> Result<String, String> {
    use argon2::password_hash::{PasswordHasher as _, SaltString};
    let salt = SaltString::encode_b64(salt).map_err(|e| e.to_string())?;
    argon2::Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `pin` matches the PHC string `hash` (argon2's comparison is constant time); an
/// unreadable hash matches nothing.
#[cfg(feature = "pin")]
pub fn check_pin(pin: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier as _};
    PasswordHash::new(hash)
        .and_then(|h| argon2::Argon2::default().verify_password(pin.as_bytes(), &h))
        .is_ok()
}

/// Whether `hash` reads as a PHC hash string (a config's PIN hash, checked before it is used).
#[cfg(feature = "pin")]
pub fn is_pin_hash(hash: &str) -> bool {
    argon2::password_hash::PasswordHash::new(hash).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lowercase_two_digits_per_byte() {
        assert_eq!(hex(&[0, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(hex(&[]), "");
    }

    #[test]
    fn percent_decoding_refuses_or_keeps_bad_escapes() {
        let ok = percent_decode("a%2Bb+c%3d", BadEscape::Refuse).unwrap();
        assert_eq!(ok, b"a+b c=");
        for bad in ["%zz", "%4", "x%"] {
            assert_eq!(percent_decode(bad, BadEscape::Refuse), None, "{bad}");
        }
        let kept = percent_decode("a%20b+c%zz%4", BadEscape::Keep).unwrap();
        assert_eq!(kept, b"a b c%zz%4");
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_0600_and_new_files_are_never_replaced() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;

        let key = dir.path().join("key");
        write_new(&key, b"one", 0o600).unwrap();
        assert_eq!(mode(&key), 0o600);
        let e = write_new(&key, b"two", 0o600).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&key).unwrap(), b"one");

        let config = dir.path().join("sub/config.toml");
        replace_private(&config, b"a").unwrap();
        fs::set_permissions(&config, fs::Permissions::from_mode(0o644)).unwrap();
        replace_private(&config, b"b").unwrap();
        assert_eq!(fs::read(&config).unwrap(), b"b");
        assert_eq!(mode(&config), 0o600);
    }

    #[cfg(feature = "pin")]
    #[test]
    fn a_pin_hash_checks_that_pin_only() {
        let h = hash_pin("2468", &[7; 16]).unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(check_pin("2468", &h));
        assert!(!check_pin("2469", &h));
        assert!(!check_pin("2468", "not a hash"));
        assert!(is_pin_hash(&h) && !is_pin_hash("not a hash"));
    }
}
