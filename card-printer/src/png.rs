//! One card as a PNG image, for a lost card or to show on a screen.
//!
//! The same [`crate::design::Drawing`] as on the sheets, rasterised with tiny-skia:
//! QR modules without anti-aliasing (hard edges, which scanners like), text from the embedded
//! font's glyph outlines with anti-aliasing. The PNG records its resolution, so it prints at
//! business-card size (3.5 × 2 in).

use rustybuzz::ttf_parser;
use tiny_skia::{FillRule, Paint, PathBuilder, Pixmap, Rect, Transform};

use crate::design::{self, CardFace, DesignError, Drawing, Item};
use crate::fonts;
use crate::layout::MM_PER_IN;

/// Card size of a PNG card: a US business card, 3.5 × 2 in.
pub const CARD_MM: (f32, f32) = (3.5 * MM_PER_IN, 2.0 * MM_PER_IN);

/// Why a PNG card could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PngError {
    #[error(transparent)]
    Design(#[from] DesignError),
    #[error("--dpi {0} is out of range: use 72 to 1200")]
    Dpi(u32),
    #[error("PNG encoding failed: {0}")]
    Encode(String),
}

struct Outline(PathBuilder);

impl ttf_parser::OutlineBuilder for Outline {
    fn move_to(&mut self, x: f32, y: f32) {
        self.0.move_to(x, y);
    }
    fn line_to(&mut self, x: f32, y: f32) {
        self.0.line_to(x, y);
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        self.0.quad_to(x1, y1, x, y);
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        self.0.cubic_to(x1, y1, x2, y2, x, y);
    }
    fn close(&mut self) {
        self.0.close();
    }
}

/// Rasterises a drawing at `dpi` into a white RGBA pixmap.
pub fn rasterize(d: &Drawing, dpi: u32) -> Result<Pixmap, PngError> {
    if !(72..=1200).contains(&dpi) {
        return Err(PngError::Dpi(dpi));
    }
    let px = dpi as f32 / MM_PER_IN; // pixels per mm
    let w = (d.width * px).round() as u32;
    let h = (d.height * px).round() as u32;
    let mut pm = Pixmap::new(w, h).ok_or(PngError::Dpi(dpi))?;
    pm.fill(tiny_skia::Color::WHITE);
    for item in &d.items {
        match item {
            Item::Qr {
                x, y, module, runs, ..
            } => {
                let mut paint = Paint::default();
                paint.set_color_rgba8(0, 0, 0, 255);
                paint.anti_alias = false;
                // Snap module edges to whole pixels so every module is solid.
                let edge = |mm: f32| (mm * px).round();
                for r in runs {
                    let x0 = edge(x + r.col as f32 * module);
                    let x1 = edge(x + (r.col + r.len) as f32 * module);
                    let y0 = edge(y + r.row as f32 * module);
                    let y1 = edge(y + (r.row + 1) as f32 * module);
                    if let Some(rect) = Rect::from_ltrb(x0, y0, x1, y1) {
                        pm.fill_rect(rect, &paint, Transform::identity(), None);
                    }
                }
            }
            Item::Text {
                x,
                baseline,
                size_pt,
                shaped,
                grey,
            } => {
                let face = fonts::face(shaped.weight);
                let em_px = size_pt * crate::MM_PER_PT * px;
                let scale = em_px / face.units_per_em() as f32;
                let mut paint = Paint::default();
                let c = if *grey { 85 } else { 0 };
                paint.set_color_rgba8(c, c, c, 255);
                paint.anti_alias = true;
                let mut pen = x * px;
                for g in &shaped.glyphs {
                    let mut ob = Outline(PathBuilder::new());
                    if face
                        .outline_glyph(ttf_parser::GlyphId(g.id), &mut ob)
                        .is_some()
                        && let Some(path) = ob.0.finish()
                    {
                        let t = Transform::from_row(
                            scale,
                            0.0,
                            0.0,
                            -scale,
                            pen + g.x_offset * em_px,
                            baseline * px - g.y_offset * em_px,
                        );
                        pm.fill_path(&path, &paint, FillRule::Winding, t, None);
                    }
                    pen += g.x_advance * em_px;
                }
            }
        }
    }
    Ok(pm)
}

/// Encodes an opaque pixmap as an RGB PNG that records `dpi`.
pub fn encode_png(pm: &Pixmap, dpi: u32) -> Result<Vec<u8>, PngError> {
    let mut out = Vec::new();
    let enc_err = |e: png::EncodingError| PngError::Encode(e.to_string());
    {
        let mut enc = png::Encoder::new(&mut out, pm.width(), pm.height());
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let ppm = (dpi as f32 / 0.0254).round() as u32;
        enc.set_pixel_dims(Some(png::PixelDimensions {
            xppu: ppm,
            yppu: ppm,
            unit: png::Unit::Meter,
        }));
        let mut writer = enc.write_header().map_err(enc_err)?;
        // The pixmap is opaque (white background), so premultiplied RGBA is plain RGB.
        let rgb: Vec<u8> = pm
            .data()
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        writer.write_image_data(&rgb).map_err(enc_err)?;
        writer.finish().map_err(enc_err)?;
    }
    Ok(out)
}

/// One card as PNG bytes at `dpi` (3.5 × 2 in: 1050 × 600 pixels at 300 dpi).
pub fn render(face: &CardFace, dpi: u32) -> Result<Vec<u8>, PngError> {
    let d = design::draw_card(face, CARD_MM.0, CARD_MM.1)?;
    encode_png(&rasterize(&d, dpi)?, dpi)
}
