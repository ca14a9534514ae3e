//! One frame's scan as a JSON-ready report (the `decode` command, benchmarks, logs).

use serde::Serialize;

use super::frame::{Corners, Frame};
use super::{ScanResult, Scanner};

/// The verification outcome of a read card.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Verification {
    Ok {
        ok: bool,
        subject: String,
        role: String,
        key_id: String,
        key_name: String,
        card_id: String,
        expires: String,
    },
    Refused {
        ok: bool,
        error: &'static str,
        message: String,
    },
}

/// What the `decode` command prints for one image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub file: String,
    /// A QR code (QuickCard or not) was read.
    pub found: bool,
    /// Its content (lossy UTF-8), if read.
    pub text: Option<String>,
    /// The content starts with `QC:`.
    pub quickcard: bool,
    /// Against the trusted keys; `null` when no keys were given.
    pub verification: Option<Verification>,
    /// Why no card was read (`null` when a QuickCard was read).
    pub hint: Option<&'static str>,
    pub hint_message: Option<&'static str>,
    /// Top-left, top-right, bottom-right, bottom-left in image pixels.
    pub corners: Option<Corners>,
    pub ms: f64,
    pub attempts: u32,
    /// rqrr panics contained while reading this image.
    pub panics: u32,
    /// rqrr's detection work over all attempts (deterministic units).
    pub work_units: u64,
    /// Attempts rqrr stopped early (work limit spent or the frame's time up).
    pub cut_short: u32,
}

/// Scans one frame and verifies what it reads (if a trust list is given).
pub fn scan_and_report(
    scanner: &mut Scanner,
    file: &str,
    frame: &Frame,
    trust: Option<(&quickcard::TrustList, &quickcard::VerifyOptions)>,
) -> Report {
    let result = scanner.scan(frame);
    let stats = scanner.last_stats();
    let (bytes, corners, hint) = match &result {
        ScanResult::Card(c) => (Some(c.bytes.clone()), Some(c.corners), None),
        ScanResult::Hint(h @ super::Hint::NotQuickCard { text, corners }) => (
            Some(text.clone().into_bytes()),
            Some(*corners),
            Some(h.clone()),
        ),
        ScanResult::Hint(h) => (None, None, Some(h.clone())),
    };
    let verification = match (&bytes, trust) {
        (Some(b), Some((list, opts))) => Some(match quickcard::verify(b, list, opts) {
            Ok(card) => Verification::Ok {
                ok: true,
                subject: card.claims.subject.to_string(),
                role: card.claims.role.as_str().to_string(),
                key_id: card.key_id.to_string(),
                key_name: card.key_name.clone(),
                card_id: card.card_id.clone(),
                expires: quickcard::time::format_utc(card.claims.expires_at),
            },
            Err(e) => Verification::Refused {
                ok: false,
                error: e.code(),
                message: e.to_string(),
            },
        }),
        _ => None,
    };
    Report {
        file: file.to_string(),
        found: bytes.is_some(),
        quickcard: matches!(result, ScanResult::Card(_)),
        text: bytes.map(|b| String::from_utf8_lossy(&b).into_owned()),
        verification,
        hint: hint.as_ref().map(|h| h.code()),
        hint_message: hint.as_ref().map(|h| h.message()),
        corners,
        ms: (stats.ms * 100.0).round() / 100.0,
        attempts: stats.attempts,
        panics: stats.panics,
        work_units: stats.work_units,
        cut_short: stats.cut_short,
    }
}
