//! Writing output files all at once or not at all.
//!
//! A PDF is written to a temporary file in the destination's folder and renamed over the
//! destination only when complete, so an error (or Ctrl-C) never leaves half a PDF that
//! might be printed.

use std::io::Write;
use std::path::Path;

/// Atomically writes `bytes` to `path` (mode 0644 on Unix), replacing any existing file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".card-printer-")
        .suffix(".part")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_files_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("cards.pdf");
        std::fs::write(&out, b"old").unwrap();
        write_atomic(&out, b"new content").unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"new content");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
        // A destination in a folder that does not exist fails without writing anything.
        assert!(write_atomic(&dir.path().join("missing/x.pdf"), b"x").is_err());
    }
}
