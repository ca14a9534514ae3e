//! Where the portal's secret keys may live: not in its writable state directory.
//!
//! The service may write its state directory (systemd's `StateDirectory=`, where the SQLite
//! database lives). A signing key there can be replaced by the portal process itself, or by
//! anything that gets to run as its user, and it goes wherever the database's backups go. So
//! the SAML signing key and the ChromeOS password key must come from elsewhere:
//! `/etc/quickcard/portal/`, handed to the service read-only with `LoadCredential=` (see
//! `deploy/portal/quickcard-portal.service`). Start-up and `--check-config` refuse a key inside
//! a state directory.

use std::path::{Path, PathBuf};

/// The directories the portal writes: each entry of `$STATE_DIRECTORY` (set by systemd's
/// `StateDirectory=`, colon-separated) and the directory of a SQLite database file.
pub fn writable_state_dirs(database_url: &str, state_directory: Option<&str>) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = state_directory
        .unwrap_or("")
        .split(':')
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .collect();
    if let Some(file) = sqlite_file(database_url) {
        let parent = file.parent().map(Path::to_path_buf).unwrap_or_default();
        dirs.push(if parent.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            parent
        });
    }
    dirs
}

/// The file of a `sqlite://FILE` or `sqlite:FILE` URL (none for in-memory databases).
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| PathBuf::from(path))
}

/// The path with symbolic links and `..` resolved when it exists, else with `.` and `..`
/// taken out by their names (so that `state/../state/key` is still seen inside `state`).
fn resolved(p: &Path) -> PathBuf {
    if let Ok(c) = std::fs::canonicalize(p) {
        return c;
    }
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// Refuses `key` (the setting `setting`) when it lies inside one of `dirs`.
pub fn check_outside(setting: &str, key: &Path, dirs: &[PathBuf]) -> Result<(), String> {
    let k = resolved(key);
    for d in dirs {
        if k.starts_with(resolved(d)) {
            return Err(format!(
                "{setting} {} is inside the portal's writable state directory {} (where its \
                 database lives): the portal itself, or anything running as its user, could \
                 replace it, and backups of the database would take it along. Move it to \
                 /etc/quickcard/portal/ (owned by root) and hand it to the service with systemd's \
                 LoadCredential= (deploy/portal/quickcard-portal.service shows how)",
                key.display(),
                d.display()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_dirs_come_from_systemd_and_the_sqlite_file() {
        assert_eq!(
            writable_state_dirs(
                "sqlite:///var/lib/quickcard-portal/portal.db?mode=rwc",
                Some("/var/lib/quickcard-portal:/var/lib/other")
            ),
            [
                PathBuf::from("/var/lib/quickcard-portal"),
                PathBuf::from("/var/lib/other"),
                PathBuf::from("/var/lib/quickcard-portal"),
            ]
        );
        assert_eq!(
            writable_state_dirs("sqlite://portal.db", None),
            [PathBuf::from(".")]
        );
        assert!(writable_state_dirs("sqlite::memory:", None).is_empty());
        assert!(writable_state_dirs("postgres://u@h/db", Some("")).is_empty());
    }

    #[test]
    fn a_key_in_the_state_directory_is_refused() {
        let state = [PathBuf::from("/var/lib/quickcard-portal")];
        let e = check_outside(
            "saml.key_file",
            Path::new("/var/lib/quickcard-portal/saml/idp.key"),
            &state,
        )
        .unwrap_err();
        assert!(
            e.contains("writable state directory") && e.contains("LoadCredential="),
            "{e}"
        );
        // `..` does not hide it.
        assert!(
            check_outside(
                "saml.key_file",
                Path::new("/var/lib/x/../quickcard-portal/./saml/idp.key"),
                &state
            )
            .is_err()
        );
        for ok in [
            "/etc/quickcard/portal/saml-idp.key",
            "/run/credentials/quickcard-portal.service/saml-idp.key",
            "/var/lib/quickcard-portal-keys/idp.key",
        ] {
            assert!(
                check_outside("saml.key_file", Path::new(ok), &state).is_ok(),
                "{ok}"
            );
        }
        // Real directories, through a symbolic link.
        let dir = tempfile::tempdir().unwrap();
        let state_dir = dir.path().join("state");
        std::fs::create_dir(&state_dir).unwrap();
        std::fs::write(state_dir.join("idp.key"), "x").unwrap();
        #[cfg(unix)]
        {
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(&state_dir, &link).unwrap();
            assert!(
                check_outside("k", &link.join("idp.key"), std::slice::from_ref(&state_dir))
                    .is_err()
            );
        }
        let db = format!("sqlite://{}", state_dir.join("portal.db").display());
        assert!(
            check_outside(
                "k",
                &state_dir.join("idp.key"),
                &writable_state_dirs(&db, None)
            )
            .is_err()
        );
    }
}
