//! What to tell the person when no card was read: one instruction from what the attempts saw
//! (a code-like thing too small, too dark, too bright, blurred) or from the whole frame.

use super::Seen;
use super::gray::{self, Gray, Rect};
use super::hint::Hint;

/// Turns what was seen into one instruction.
pub(super) fn diagnose(full: &Gray, global: &gray::Stats, seen: &[Seen]) -> Hint {
    if let Some(s) = seen.first() {
        let r = Rect {
            x0: s.rect.x0.min(full.w - 1),
            y0: s.rect.y0.min(full.h - 1),
            x1: s.rect.x1.min(full.w),
            y1: s.rect.y1.min(full.h),
        };
        if r.w() < 4 || r.h() < 4 {
            return Hint::SeenNotReadable;
        }
        let st = full.stats(r, 2);
        if s.module < 2.2 {
            return Hint::ComeCloser;
        }
        if st.hi < 70 || st.mean < 45.0 {
            return Hint::TooDark;
        }
        // Printed white is often clipped a little (5–13 % of a code's box here); glare
        // clips much more.
        if st.saturated > 0.2 {
            return Hint::TooBright;
        }
        // Crisp codes measure 0.35–0.48; blur that stops reading is under 0.2.
        if full.sharpness(r) < 0.25 {
            return Hint::HoldStill;
        }
        return Hint::SeenNotReadable;
    }
    if global.hi < 50 || global.mean < 30.0 {
        return Hint::TooDark;
    }
    if global.saturated > 0.35 {
        return Hint::TooBright;
    }
    Hint::NoCode
}
