//! What the native tests of the page's cameras share: a clock moved by hand, a frame holding
//! a real QR code, and a scanner without a time budget.
//!
//! Why a module of its own: the sampled camera and the off-thread camera are tested the same
//! way (scripted time, a synthetic card in front of the camera), and one copy of the rig keeps
//! their tests comparable.

use std::cell::Cell;
use std::rc::Rc;

use crate::app::ports::Clock;
use crate::scanner::{Frame, ScanConfig, Scanner};

/// A clock the test moves by hand.
#[derive(Debug, Clone, Default)]
pub(super) struct ManualClock(pub(super) Rc<Cell<u64>>);

impl Clock for ManualClock {
    fn unix_secs(&self) -> u64 {
        1_780_000_000
    }
    fn now_ms(&self) -> u64 {
        self.0.get()
    }
}

/// A real QR code with a QuickCard-like payload, rendered into a grey frame.
pub(super) fn card_frame(text: &str) -> Frame {
    let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
    let modules = code.width();
    let colors = code.to_colors();
    let (scale, quiet) = (8usize, 4usize);
    let side = (modules + 2 * quiet) * scale;
    let (w, h) = (640usize, 480usize);
    let mut luma = vec![255u8; w * h];
    let (ox, oy) = ((w - side) / 2, (h - side) / 2);
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (mx, my) = (i % modules + quiet, i / modules + quiet);
            for dy in 0..scale {
                for dx in 0..scale {
                    luma[(oy + my * scale + dy) * w + ox + mx * scale + dx] = 0;
                }
            }
        }
    }
    Frame::from_luma(w as u32, h as u32, luma).unwrap()
}

/// A scanner that runs every attempt: the default budget is wall-clock time, and this
/// crate's tests are unoptimised on busy machines.
pub(super) fn unbudgeted() -> Scanner {
    Scanner::new(ScanConfig {
        budget_ms: None,
        ..ScanConfig::default()
    })
}
