//! Reading a card back: from its text, or from a photo or scan of it.
//!
//! Used by `card-printer inspect` to answer "is this card good?" at a help desk, and by the
//! tests to prove printed sheets scan. Images are decoded with `image` and searched for QR
//! codes with rqrr; rqrr can panic on unusual images, so every call into it runs under
//! `catch_unwind` and a panic becomes an ordinary error.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use quickcard::{CardError, TrustList, UnverifiedCard, VerifiedCard, VerifyOptions};

/// Why no card text could be read.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error("{path}: cannot read the image: {reason}")]
    Image { path: String, reason: String },
    #[error("{0}: no QR code found in the image")]
    NoQr(String),
    #[error("{0}: the QR reader failed on this image (it crashed; try a sharper photo)")]
    ReaderPanic(String),
}

/// rqrr panicked on an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the QR reader crashed on this image")]
pub struct ReaderPanicked;

/// The text of every QR code rqrr finds in a greyscale image, in the order found. Codes that
/// are detected but fail to decode are skipped; a panic inside rqrr is reported as `Err`.
pub fn decode_qr_luma(img: &image::GrayImage) -> Result<Vec<String>, ReaderPanicked> {
    catch_unwind(AssertUnwindSafe(|| {
        let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
            img.width() as usize,
            img.height() as usize,
            |x, y| img.get_pixel(x as u32, y as u32).0[0],
        );
        prepared
            .detect_grids()
            .into_iter()
            .filter_map(|g| {
                catch_unwind(AssertUnwindSafe(|| g.decode()))
                    .ok()
                    .and_then(Result::ok)
                    .map(|(_, text)| text)
            })
            .collect()
    }))
    .map_err(|_| ReaderPanicked)
}

/// The QR texts in an image file (PNG or JPEG).
pub fn decode_image_file(path: &Path) -> Result<Vec<String>, InspectError> {
    let shown = path.display().to_string();
    let img = image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| InspectError::Image {
            path: shown.clone(),
            reason: e.to_string(),
        })?
        .decode()
        .map_err(|e| InspectError::Image {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
    let texts =
        decode_qr_luma(&img.to_luma8()).map_err(|_| InspectError::ReaderPanic(shown.clone()))?;
    if texts.is_empty() {
        return Err(InspectError::NoQr(shown));
    }
    Ok(texts)
}

/// The outcome of inspecting one card text.
#[derive(Debug)]
pub struct Report {
    pub text: String,
    /// The parsed (unverified) card, or why it is not a card.
    pub decoded: Result<UnverifiedCard, CardError>,
    /// Verification against the trust list; `None` when no key was given.
    pub verified: Option<Result<VerifiedCard, CardError>>,
}

/// Decodes and (when `trust` has keys) verifies one card text.
pub fn inspect_text(text: &str, trust: &TrustList, opts: &VerifyOptions) -> Report {
    let text = text.trim().to_string();
    let decoded = quickcard::decode(text.as_bytes());
    let verified = (!trust.is_empty()).then(|| quickcard::verify(text.as_bytes(), trust, opts));
    Report {
        text,
        decoded,
        verified,
    }
}

impl Report {
    /// A readable multi-line description.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        match &self.decoded {
            Err(e) => {
                out.push_str(&format!("not a readable QuickCard: {e} [{}]\n", e.code()));
            }
            Ok(card) => {
                let c = &card.claims;
                out.push_str(&format!(
                    "QuickCard {}\n  user:        {}\n  role:        {}\n  school tag:  {}\n  issued:      {}\n  expires:     {}\n  PIN needed:  {}\n  signed by:   key {}\n",
                    card.card_id(),
                    c.subject,
                    c.role,
                    c.school,
                    quickcard::time::format_utc(c.issued_at),
                    quickcard::time::format_utc(c.expires_at),
                    if c.flags.second_factor { "yes" } else { "no" },
                    card.key_id,
                ));
            }
        }
        match &self.verified {
            None => {
                out.push_str("  result:      signature NOT checked (pass --trust KEY to verify)\n")
            }
            Some(Ok(v)) => out.push_str(&format!(
                "  result:      VALID (signed by trusted key {} \"{}\")\n",
                v.key_id, v.key_name
            )),
            Some(Err(e)) => {
                out.push_str(&format!("  result:      REFUSED: {e} [{}]\n", e.code()));
            }
        }
        out
    }

    /// Whether the card verified (false when not checked).
    pub fn is_valid(&self) -> bool {
        matches!(self.verified, Some(Ok(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rqrr_panics_and_garbage_become_errors_not_crashes() {
        // Blank, tiny, and noise images: no codes, no panic escapes.
        for (w, h) in [(1, 1), (3, 200), (64, 64)] {
            let img = image::GrayImage::from_fn(w, h, |x, y| {
                image::Luma([((x * 7 + y * 13) % 256) as u8])
            });
            assert!(decode_qr_luma(&img).unwrap().is_empty());
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("not-an-image.png");
        std::fs::write(&p, b"hello").unwrap();
        assert!(matches!(
            decode_image_file(&p),
            Err(InspectError::Image { .. })
        ));
    }

    #[test]
    fn reports_validity() {
        let key = quickcard::IssuerKey::demo();
        let claims = quickcard::Claims::new(
            "stu-1",
            quickcard::Role::Student,
            "sch-1",
            1_790_000_000,
            1_800_000_000,
            quickcard::Flags::default(),
        )
        .unwrap();
        let text = quickcard::sign(&claims, &key);
        let trust =
            TrustList::new(vec![quickcard::TrustedKey::new(key.public(), "demo")], true).unwrap();
        let opts = VerifyOptions {
            now: 1_795_000_000,
            ..Default::default()
        };
        let r = inspect_text(&text, &trust, &opts);
        assert!(r.is_valid(), "{}", r.describe());
        assert!(r.describe().contains("user:        stu-1"));
        let late = VerifyOptions {
            now: 1_900_000_000,
            ..Default::default()
        };
        let r = inspect_text(&text, &trust, &late);
        assert!(!r.is_valid());
        assert!(r.describe().contains("[expired]"), "{}", r.describe());
        let r = inspect_text(&text, &TrustList::default(), &opts);
        assert!(r.describe().contains("NOT checked"));
        let r = inspect_text("https://example.com", &trust, &opts);
        assert!(r.describe().contains("[not_quickcard]"));
    }
}
