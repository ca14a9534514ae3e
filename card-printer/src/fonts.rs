//! The card font, compiled in, and text shaping.
//!
//! Cards must print every child's name correctly: accents, apostrophes, Greek, Cyrillic and
//! more. The printer ships DejaVu Sans (regular and bold, `assets/fonts/`, with its licence)
//! and shapes every string once with rustybuzz, so the PDF writer and the PNG rasteriser place
//! exactly the same glyphs and the layout code can measure text before drawing it.

use std::ops::Range;
use std::sync::LazyLock;

/// DejaVu Sans 2.37.
pub static REGULAR_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// DejaVu Sans Bold 2.37.
pub static BOLD_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// Which of the two faces a text uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Weight {
    Regular,
    Bold,
}

impl Weight {
    /// The font file's bytes.
    pub fn data(self) -> &'static [u8] {
        match self {
            Weight::Regular => REGULAR_TTF,
            Weight::Bold => BOLD_TTF,
        }
    }
}

struct Faces {
    regular: rustybuzz::Face<'static>,
    bold: rustybuzz::Face<'static>,
}

static FACES: LazyLock<Faces> = LazyLock::new(|| Faces {
    // The files are compiled in and known to parse; a failure here is a build defect.
    regular: rustybuzz::Face::from_slice(REGULAR_TTF, 0).expect("DejaVuSans.ttf parses"),
    bold: rustybuzz::Face::from_slice(BOLD_TTF, 0).expect("DejaVuSans-Bold.ttf parses"),
});

/// The rustybuzz face of a weight (for outlines and metrics).
pub fn face(weight: Weight) -> &'static rustybuzz::Face<'static> {
    match weight {
        Weight::Regular => &FACES.regular,
        Weight::Bold => &FACES.bold,
    }
}

/// One positioned glyph; advances and offsets are in em (divide font units by units-per-em),
/// as krilla expects.
#[derive(Debug, Clone, PartialEq)]
pub struct Glyph {
    pub id: u16,
    pub x_advance: f32,
    pub x_offset: f32,
    pub y_offset: f32,
    /// The bytes of the text this glyph's cluster covers.
    pub range: Range<usize>,
}

/// A shaped single line of text.
#[derive(Debug, Clone, PartialEq)]
pub struct Shaped {
    pub text: String,
    pub weight: Weight,
    pub glyphs: Vec<Glyph>,
    /// Total advance, in em.
    pub width_em: f32,
}

impl Shaped {
    /// Width in millimetres at `size_pt`.
    pub fn width_mm(&self, size_pt: f32) -> f32 {
        self.width_em * size_pt * crate::MM_PER_PT
    }
}

/// Shapes one line of text (no line breaking, one script direction).
pub fn shape(text: &str, weight: Weight) -> Shaped {
    let face = face(weight);
    let upem = face.units_per_em() as f32;
    let mut buffer = rustybuzz::UnicodeBuffer::new();
    buffer.push_str(text);
    buffer.guess_segment_properties();
    let out = rustybuzz::shape(face, &[], buffer);
    let infos = out.glyph_infos();
    let positions = out.glyph_positions();
    let mut starts: Vec<usize> = infos.iter().map(|i| i.cluster as usize).collect();
    starts.sort_unstable();
    starts.dedup();
    let mut glyphs = Vec::with_capacity(infos.len());
    let mut width = 0.0;
    for (info, pos) in infos.iter().zip(positions) {
        let start = info.cluster as usize;
        let end = starts
            .iter()
            .copied()
            .find(|&s| s > start)
            .unwrap_or(text.len());
        let g = Glyph {
            id: info.glyph_id as u16,
            x_advance: pos.x_advance as f32 / upem,
            x_offset: pos.x_offset as f32 / upem,
            y_offset: pos.y_offset as f32 / upem,
            range: start..end,
        };
        width += g.x_advance;
        glyphs.push(g);
    }
    Shaped {
        text: text.to_string(),
        weight,
        glyphs,
        width_em: width,
    }
}

/// The characters of `text` the card font has no glyph for (so they would print as boxes).
/// White space and invisible formatting characters are never reported.
pub fn unsupported_chars(text: &str) -> Vec<char> {
    let mut missing = Vec::new();
    for c in text.chars() {
        if c.is_whitespace() || c.is_control() || matches!(c, '\u{200B}'..='\u{200F}' | '\u{FEFF}')
        {
            continue;
        }
        let has = |w: Weight| face(w).glyph_index(c).is_some_and(|g| g.0 != 0);
        let printable = has(Weight::Regular) && has(Weight::Bold);
        if !printable && !missing.contains(&c) {
            missing.push(c);
        }
    }
    missing
}

/// Ascender height in em (for placing text by its top).
pub fn ascender_em(weight: Weight) -> f32 {
    let f = face(weight);
    f.ascender() as f32 / f.units_per_em() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_accents_and_cyrillic_with_real_glyphs() {
        for text in ["Zoë O'Brien", "Nguyễn Thị Ánh", "Дмитрий Соколов", "Νίκος"]
        {
            let s = shape(text, Weight::Bold);
            assert!(!s.glyphs.is_empty());
            assert!(s.glyphs.iter().all(|g| g.id != 0), "{text}: .notdef glyph");
            assert!(s.width_em > 1.0);
            assert!(unsupported_chars(text).is_empty(), "{text}");
        }
        // Cluster ranges cover the text.
        let s = shape("Zoë", Weight::Regular);
        assert_eq!(s.glyphs.last().unwrap().range.end, "Zoë".len());
    }

    #[test]
    fn reports_scripts_the_font_lacks() {
        assert_eq!(unsupported_chars("李 小龙"), vec!['李', '小', '龙']);
        assert!(unsupported_chars("Ann-Marie d'Arc\u{200D}").is_empty());
    }

    #[test]
    fn wider_text_measures_wider() {
        let a = shape("Ann", Weight::Regular);
        let b = shape("Annabelle", Weight::Regular);
        assert!(b.width_mm(10.0) > a.width_mm(10.0));
        assert!((a.width_mm(20.0) - 2.0 * a.width_mm(10.0)).abs() < 1e-3);
    }
}
