//! What the scanner says when it has no card yet: one short instruction a child can follow.

use serde::Serialize;

use super::frame::Corners;

/// Why no card was read from a frame, phrased as what to do about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "hint", rename_all = "snake_case")]
pub enum Hint {
    /// Nothing that looks like a QR code in the frame.
    NoCode,
    /// A code is there but too small to read: come closer.
    ComeCloser,
    /// The picture (or the code) is too dark.
    TooDark,
    /// Glare or overexposure hides the code: tilt the card.
    TooBright,
    /// The code is blurred (moving or out of focus): hold still.
    HoldStill,
    /// A code is there but could not be read (damaged, covered, bent).
    SeenNotReadable,
    /// A QR code was read but it is not a QuickCard (a URL on a book, …). `text` is its
    /// content (lossy UTF-8), `corners` where it is.
    NotQuickCard { text: String, corners: Corners },
}

impl Hint {
    /// A stable snake_case code for screens, sounds and JSON.
    pub fn code(&self) -> &'static str {
        match self {
            Hint::NoCode => "no_code",
            Hint::ComeCloser => "come_closer",
            Hint::TooDark => "too_dark",
            Hint::TooBright => "too_bright",
            Hint::HoldStill => "hold_still",
            Hint::SeenNotReadable => "seen_not_readable",
            Hint::NotQuickCard { .. } => "not_quickcard",
        }
    }

    /// A short English sentence (the kiosk has its own translated strings keyed by
    /// [`code`](Hint::code)).
    pub fn message(&self) -> &'static str {
        match self {
            Hint::NoCode => "Hold your card up to the camera.",
            Hint::ComeCloser => "Come closer.",
            Hint::TooDark => "It is too dark. Turn on a light.",
            Hint::TooBright => "Too shiny. Tilt your card a little.",
            Hint::HoldStill => "Hold still.",
            Hint::SeenNotReadable => "Hold your card flat and show all of it.",
            Hint::NotQuickCard { .. } => "That is not a login card.",
        }
    }
}
