//! Card sheets as PDF, written with krilla.
//!
//! The QR codes are vector paths (each run of dark modules one stroked line, in module units so
//! the content stream stays small), so they print crisp at any resolution.
//! Text uses the embedded DejaVu Sans, which krilla subsets to the glyphs used. Each group
//! (class) starts on a new page that begins with a header line: class, teacher, card count,
//! school, and page x of y within the class.

use std::sync::LazyLock;

use krilla::Document;
use krilla::color::{luma, rgb};
use krilla::geom::{PathBuilder, Point, Transform};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, LineCap, Stroke};
use krilla::text::{Font, GlyphId, KrillaGlyph};
use rayon::prelude::*;

use crate::cards::IssuedGroup;
use crate::design::{self, DesignError, Drawing, Item};
use crate::fonts::{self, Shaped, Weight};
use crate::layout::Layout;
use crate::{MM_PER_PT, PT_PER_MM};

/// A sheet that could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("card for user {user:?}: {source}")]
    Card {
        user: String,
        #[source]
        source: DesignError,
    },
    #[error("the PDF writer failed: {0}")]
    Writer(String),
}

static KRILLA_FONTS: LazyLock<(Font, Font)> = LazyLock::new(|| {
    (
        // Compiled-in fonts that rustybuzz already parsed: cannot fail.
        Font::new(fonts::REGULAR_TTF.into(), 0).expect("regular font loads"),
        Font::new(fonts::BOLD_TTF.into(), 0).expect("bold font loads"),
    )
});

fn font(weight: Weight) -> Font {
    match weight {
        Weight::Regular => KRILLA_FONTS.0.clone(),
        Weight::Bold => KRILLA_FONTS.1.clone(),
    }
}

fn grey() -> Fill {
    Fill {
        paint: rgb::Color::new(85, 85, 85).into(),
        ..Fill::default()
    }
}

fn draw_text(
    surface: &mut krilla::surface::Surface<'_>,
    x_mm: f32,
    baseline_mm: f32,
    size_pt: f32,
    shaped: &Shaped,
    grey_text: bool,
) {
    let glyphs: Vec<KrillaGlyph> = shaped
        .glyphs
        .iter()
        .map(|g| {
            KrillaGlyph::new(
                GlyphId::new(g.id as u32),
                g.x_advance,
                g.x_offset,
                g.y_offset,
                0.0,
                g.range.clone(),
                None,
            )
        })
        .collect();
    surface.set_fill(Some(if grey_text { grey() } else { Fill::default() }));
    surface.draw_glyphs(
        Point::from_xy(x_mm * PT_PER_MM, baseline_mm * PT_PER_MM),
        &glyphs,
        font(shaped.weight),
        &shaped.text,
        size_pt,
        false,
    );
}

/// Paints a card drawing with its top-left corner at (`ox`, `oy`) mm.
fn draw_card(surface: &mut krilla::surface::Surface<'_>, d: &Drawing, ox: f32, oy: f32) {
    for item in &d.items {
        match item {
            Item::Qr {
                x, y, module, runs, ..
            } => {
                // Each run of dark modules is one stroked line, one module wide, through the
                // middle of its row ("c r m c+len r l"): half the bytes of a filled rectangle
                // path, so half the content to compress, and the same crisp square edges
                // (butt caps end the line exactly at the module edges).
                let mut pb = PathBuilder::new();
                for r in runs {
                    let (c, row) = (r.col as f32, r.row as f32);
                    pb.move_to(c, row);
                    pb.line_to(c + r.len as f32, row);
                }
                if let Some(path) = pb.finish() {
                    let m = module * PT_PER_MM;
                    surface.push_transform(&Transform::from_row(
                        m,
                        0.0,
                        0.0,
                        m,
                        (ox + x) * PT_PER_MM,
                        (oy + y) * PT_PER_MM + m / 2.0,
                    ));
                    surface.set_fill(None);
                    surface.set_stroke(Some(Stroke {
                        paint: luma::Color::black().into(),
                        width: 1.0,
                        line_cap: LineCap::Butt,
                        ..Stroke::default()
                    }));
                    surface.draw_path(&path);
                    surface.set_stroke(None);
                    surface.pop();
                }
            }
            Item::Text {
                x,
                baseline,
                size_pt,
                shaped,
                grey,
            } => draw_text(surface, ox + x, oy + baseline, *size_pt, shaped, *grey),
        }
    }
}

fn draw_cut_marks(surface: &mut krilla::surface::Surface<'_>, layout: &Layout) {
    let marks = layout.cut_marks();
    if marks.is_empty() {
        return;
    }
    let mut pb = PathBuilder::new();
    for (x1, y1, x2, y2) in marks {
        pb.move_to(x1 * PT_PER_MM, y1 * PT_PER_MM);
        pb.line_to(x2 * PT_PER_MM, y2 * PT_PER_MM);
    }
    if let Some(path) = pb.finish() {
        surface.set_fill(None);
        surface.set_stroke(Some(Stroke {
            paint: luma::Color::black().into(),
            width: 0.25 * PT_PER_MM,
            ..Stroke::default()
        }));
        surface.draw_path(&path);
        surface.set_stroke(None);
    }
}

/// The header line of a group's page.
pub fn header_text(g: &IssuedGroup, page: usize, pages: usize) -> String {
    let mut parts = Vec::new();
    parts.push(
        g.class_name
            .clone()
            .unwrap_or_else(|| "Staff and others without a class".to_string()),
    );
    if let Some(t) = design::teacher_line(&g.teachers) {
        parts.push(t);
    }
    let n = g.faces.len();
    parts.push(format!("{n} card{}", if n == 1 { "" } else { "s" }));
    parts.push(g.school_name.clone());
    if pages > 1 {
        parts.push(format!("page {page} of {pages}"));
    }
    parts.join("  ·  ")
}

/// Progress callback: called once per card drawn.
pub trait Progress {
    fn card_done(&self);
}

impl Progress for () {
    fn card_done(&self) {}
}

impl Progress for indicatif::ProgressBar {
    fn card_done(&self) {
        self.inc(1);
    }
}

/// Writes the groups as one PDF: each group starts on a new page with its header line.
pub fn render(
    groups: &[IssuedGroup],
    layout: &Layout,
    title: &str,
    progress: &dyn Progress,
) -> Result<Vec<u8>, PdfError> {
    let mut doc = Document::new();
    doc.set_metadata(
        Metadata::new()
            .title(title.to_string())
            .creator("QuickCard card-printer".to_string()),
    );
    let page_settings = PageSettings::from_wh(layout.page_w * PT_PER_MM, layout.page_h * PT_PER_MM)
        .ok_or_else(|| PdfError::Writer("bad page size".into()))?;
    let per = layout.per_page();
    for g in groups {
        // Lay the group's cards out on all cores (QR encoding is the costly part); then emit
        // them in order. krilla compresses finished pages on the same thread pool.
        let drawings: Vec<Drawing> = g
            .faces
            .par_iter()
            .enumerate()
            .map(|(i, face)| {
                design::draw_card(face, layout.card_w, layout.card_h).map_err(|source| {
                    PdfError::Card {
                        user: g.user_ids[i].clone(),
                        source,
                    }
                })
            })
            .collect::<Result<_, _>>()?;
        let pages = drawings.len().div_ceil(per);
        for (pi, chunk) in drawings.chunks(per).enumerate() {
            let mut page = doc.start_page_with(page_settings.clone());
            let mut surface = page.surface();
            let header = header_text(g, pi + 1, pages);
            let shaped = fonts::shape(&header, Weight::Bold);
            let width = layout.page_w - 2.0 * layout.origin_x.min(20.0);
            let size = 9.0f32.min(width / shaped.width_mm(1.0)).max(5.0);
            draw_text(
                &mut surface,
                layout.origin_x,
                layout.header_baseline,
                size,
                &shaped,
                false,
            );
            draw_cut_marks(&mut surface, layout);
            for (slot, d) in chunk.iter().enumerate() {
                let (ox, oy) = layout.card_origin(slot);
                draw_card(&mut surface, d, ox, oy);
                progress.card_done();
            }
            surface.finish();
            page.finish();
        }
    }
    doc.finish().map_err(|e| PdfError::Writer(format!("{e:?}")))
}

/// Millimetres to points, exported for tests that map card positions onto rendered pages.
pub fn mm_to_pt(mm: f32) -> f32 {
    mm / MM_PER_PT
}
