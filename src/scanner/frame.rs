//! Frames: what every frame source yields and the scanner reads.
//!
//! A frame carries 8-bit luma (what the scanner needs) and, when the source has it, packed RGB
//! (what the kiosk's preview shows). Both are plain row-major buffers so the native camera, the
//! file replay and the browser's `getImageData` can fill them without extra copies.

use serde::Serialize;

/// One camera or replay frame.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    /// `width * height` bytes, row-major, 0 = black.
    pub luma: Vec<u8>,
    /// `width * height * 3` bytes (R, G, B), row-major, when the source has colour.
    pub rgb: Option<Vec<u8>>,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("rgb", &self.rgb.is_some())
            .finish_non_exhaustive()
    }
}

impl Frame {
    /// A grey frame. `None` when the buffer does not match the size.
    pub fn from_luma(width: u32, height: u32, luma: Vec<u8>) -> Option<Frame> {
        (luma.len() == width as usize * height as usize && width > 0 && height > 0).then_some(
            Frame {
                width,
                height,
                luma,
                rgb: None,
            },
        )
    }

    /// A colour frame from packed RGB; luma is computed (BT.601). `None` on a size mismatch.
    pub fn from_rgb(width: u32, height: u32, rgb: Vec<u8>) -> Option<Frame> {
        if rgb.len() != width as usize * height as usize * 3 || width == 0 || height == 0 {
            return None;
        }
        let luma = rgb
            .chunks_exact(3)
            .map(|p| luma_of(p[0], p[1], p[2]))
            .collect();
        Some(Frame {
            width,
            height,
            luma,
            rgb: Some(rgb),
        })
    }

    /// A colour frame from packed RGBA (a browser canvas' `getImageData`); alpha is dropped.
    pub fn from_rgba(width: u32, height: u32, rgba: &[u8]) -> Option<Frame> {
        if rgba.len() != width as usize * height as usize * 4 {
            return None;
        }
        let rgb = rgba
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        Frame::from_rgb(width, height, rgb)
    }

    /// The luma value at (x, y); callers stay inside the frame.
    #[inline]
    pub fn at(&self, x: u32, y: u32) -> u8 {
        self.luma[y as usize * self.width as usize + x as usize]
    }
}

/// Integer BT.601 luma.
#[inline]
pub fn luma_of(r: u8, g: u8, b: u8) -> u8 {
    ((77 * r as u32 + 150 * g as u32 + 29 * b as u32 + 128) >> 8) as u8
}

/// A point in frame pixels (sub-pixel precision).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

impl Point {
    pub fn new(x: f32, y: f32) -> Point {
        Point { x, y }
    }
}

/// The four corners of a code in frame pixels: top-left, top-right, bottom-right, bottom-left
/// (as printed, so the order says how the card is rotated).
pub type Corners = [Point; 4];
