//! The one place the scanner calls rqrr: a bitmap in, codes and unreadable grids out, with the
//! detection's work bounded and any panic contained.
//!
//! rqrr's detection can do far more work than the image is large: on a dim, noisy room it
//! finds thousands of capstone candidates whose flood fills, pairings and alignment searches
//! once took minutes for one frame. Our fork (`third_party/rqrr`) meters that work; here every
//! call gets a work limit proportional to the bitmap, and, when the scanner runs on real time,
//! the frame's deadline. The work counts are deterministic, so tests bound them exactly.

use std::panic::{AssertUnwindSafe, catch_unwind};

use super::frame::{Corners, Point};

/// Work units rqrr may spend in one call: this many per bitmap pixel ...
pub const WORK_PER_PIXEL: u64 = 8;
/// ... plus this many, for fitting the grids of the codes it finds (about a million units per
/// grid, whatever the bitmap's size).
///
/// Measured with no limit over every attempt on the 120 sample card photos and the 137 real
/// photos of ordinary codes: at most 3.2 million units in one call (a 1280×720 frame), so the
/// limit is at least twice what any of them needs. The dim empty room in
/// `sample-cards/photos/pathological/` took minutes before rqrr's loops were bounded.
pub const WORK_PER_CALL: u64 = 4_000_000;

/// The work limit of one rqrr call over a `w`×`h` bitmap.
pub fn work_limit(w: usize, h: usize) -> u64 {
    WORK_PER_PIXEL * (w * h) as u64 + WORK_PER_CALL
}

/// Bounds for one rqrr call.
#[derive(Clone, Default)]
pub struct Limits {
    /// Stop once the wall clock says so (`None`: only the work limit applies).
    pub deadline: Option<rqrr::Deadline>,
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limits")
            .field("deadline", &self.deadline.is_some())
            .finish()
    }
}

/// The outcome of one rqrr call over one bitmap (corners in bitmap pixels).
#[derive(Debug, Default)]
pub(super) struct Pass {
    pub decoded: Vec<(Vec<u8>, Corners)>,
    /// Grids found but not decodable: grid size in modules, corners.
    pub grids_seen: Vec<(usize, Corners)>,
    pub panicked: bool,
    /// What rqrr's detection did (zero when it panicked).
    pub work: rqrr::Work,
}

/// What rqrr made of one bitmap.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BitmapResult {
    /// Payloads read, with corners in bitmap pixels.
    pub codes: Vec<(Vec<u8>, Corners)>,
    /// Grids found but not readable.
    pub unreadable: usize,
    /// rqrr panicked (contained: the result is then empty).
    pub panicked: bool,
    /// Detection's work (deterministic; see [`work_limit`]).
    pub work: rqrr::Work,
}

/// Runs rqrr's grid detection and decoding over a bitmap (`true` = dark, row-major `w`×`h`)
/// with its work bounded and panics contained.
pub fn decode_bitmap(bits: &[bool], w: usize, h: usize) -> BitmapResult {
    let p = read_grids(bits, w, h, &Limits::default());
    BitmapResult {
        codes: p.decoded,
        unreadable: p.grids_seen.len(),
        panicked: p.panicked,
        work: p.work,
    }
}

/// Runs rqrr over a bitmap (`true` = dark). Corners are in bitmap pixels.
pub(super) fn read_grids(bits: &[bool], w: usize, h: usize, limits: &Limits) -> Pass {
    let mut pass = Pass::default();
    if w < 21 || h < 21 || bits.len() != w * h {
        return pass;
    }
    let res = catch_unwind(AssertUnwindSafe(|| {
        // The non-generic entry points: compiled optimised inside rqrr, so detection is as
        // fast in an unoptimised build of this crate (tests, `cargo run`) as in a release.
        let Some(mut prepared) = rqrr::PreparedImage::prepare_from_bits(w, h, bits) else {
            return (Vec::new(), rqrr::Work::default());
        };
        prepared.set_work_limit(work_limit(w, h));
        if let Some(d) = &limits.deadline {
            prepared.set_deadline(d.clone());
        }
        let grids = prepared.detect_grids_in_bits();
        let mut out = Vec::new();
        for g in grids {
            let bytes = g.decode_to_vec().ok();
            let size = rqrr::BitGrid::size(&g.grid);
            out.push((bytes, g.bounds, size));
        }
        (out, prepared.work())
    }));
    match res {
        Ok((grids, work)) => {
            pass.work = work;
            for (bytes, b, size) in grids {
                let corners: Corners =
                    [0, 1, 2, 3].map(|i| Point::new(b[i].x as f32, b[i].y as f32));
                match bytes {
                    Some(bytes) => pass.decoded.push((bytes, corners)),
                    None => pass.grids_seen.push((size, corners)),
                }
            }
        }
        Err(_) => pass.panicked = true,
    }
    pass
}
