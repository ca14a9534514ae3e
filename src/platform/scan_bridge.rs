//! From the scanner's answer to what the kiosk core needs: one mapping shared by the native
//! camera worker and the browser's sampled camera, so both targets behave alike.

use crate::app::ports::{Preview, ScanOutcome};
use crate::scanner::{Frame, ScanResult};

/// Widest preview sent to the UI.
pub const PREVIEW_MAX_WIDTH: u32 = 640;

/// The scanner's result as the core sees it. A foreign QR code stays the scanner's
/// [`NotQuickCard`](crate::scanner::Hint::NotQuickCard) hint: the core shows "not a school
/// card" for it without decoding it again.
pub fn outcome_of(r: ScanResult) -> ScanOutcome {
    match r {
        ScanResult::Card(found) => {
            ScanOutcome::Card(String::from_utf8_lossy(&found.bytes).into_owned())
        }
        ScanResult::Hint(h) => ScanOutcome::Hint(h),
    }
}

/// A downscaled RGB copy of a frame for the preview.
pub fn preview_of(frame: &Frame) -> Preview {
    let step = frame.width.div_ceil(PREVIEW_MAX_WIDTH).max(1) as usize;
    let (w, h) = (frame.width as usize, frame.height as usize);
    let (pw, ph) = (w / step, h / step);
    let mut rgb = Vec::with_capacity(pw * ph * 3);
    for y in 0..ph {
        for x in 0..pw {
            let i = (y * step) * w + x * step;
            match &frame.rgb {
                Some(c) => rgb.extend_from_slice(&c[i * 3..i * 3 + 3]),
                None => {
                    let l = frame.luma[i];
                    rgb.extend_from_slice(&[l, l, l]);
                }
            }
        }
    }
    Preview {
        width: pw,
        height: ph,
        rgb,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_are_downscaled_copies() {
        let f = Frame::from_luma(1280, 720, vec![200; 1280 * 720]).unwrap();
        let p = preview_of(&f);
        assert_eq!((p.width, p.height), (640, 360));
        assert_eq!(p.rgb.len(), 640 * 360 * 3);
        assert!(p.rgb.iter().all(|&v| v == 200));
    }

    #[test]
    fn previews_keep_colour_and_shrink_wide_frames() {
        let rgba: Vec<u8> = (0..1280 * 720).flat_map(|_| [10u8, 20, 30, 255]).collect();
        let f = Frame::from_rgba(1280, 720, &rgba).unwrap();
        let p = preview_of(&f);
        assert_eq!((p.width, p.height), (640, 360));
        assert_eq!(&p.rgb[..6], &[10, 20, 30, 10, 20, 30]);
    }
}
