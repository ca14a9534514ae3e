//! Page layouts: where the cards sit on a sheet of paper.
//!
//! Two plain-paper layouts (8 cards of 92 × 60 mm, cut marks at every cut line) and two Avery
//! business-card label sheets (10 cards of 3.5 × 2 in, pre-perforated, so no cut marks). Each
//! page also has a header line (class, teacher, count) above the cards so a teacher can hand
//! sheets out; on the Avery sheets it sits in the sheet's 0.5 in top margin.
//!
//! Avery numbers: Avery's published template for 5371 (Business Cards, US Letter) is 2 columns
//! × 5 rows of 3.5 in × 2 in cards, no gaps, left margin 0.75 in, top margin 0.5 in (the same
//! figures as gLabels' template database entry for Avery 5371: `Layout nx="2" ny="5"
//! x0="0.75in" y0="0.5in" dx="3.5in" dy="2in"`). Avery 8371 (the inkjet version) uses the same
//! template ("Avery 5371/8371" in Avery Design & Print). The constants below are those inches
//! converted exactly (1 in = 25.4 mm), so they match the template to far better than 0.5 mm.

use std::fmt;
use std::str::FromStr;

/// Millimetres per inch.
pub const MM_PER_IN: f32 = 25.4;

/// A named sheet layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LayoutKind {
    /// US Letter, 8 cards (2 × 4) of 92 × 60 mm, cut marks.
    Letter8,
    /// A4, 8 cards (2 × 4) of 92 × 60 mm, cut marks.
    A48,
    /// Avery 5371 laser business cards: US Letter, 10 cards (2 × 5) of 3.5 × 2 in.
    Avery5371,
    /// Avery 8371 inkjet business cards: the same template as 5371.
    Avery8371,
}

impl LayoutKind {
    pub const ALL: [LayoutKind; 4] = [
        LayoutKind::Letter8,
        LayoutKind::A48,
        LayoutKind::Avery5371,
        LayoutKind::Avery8371,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            LayoutKind::Letter8 => "letter-8",
            LayoutKind::A48 => "a4-8",
            LayoutKind::Avery5371 => "avery-5371",
            LayoutKind::Avery8371 => "avery-8371",
        }
    }

    /// The geometry.
    pub fn layout(self) -> Layout {
        const LETTER: (f32, f32) = (8.5 * MM_PER_IN, 11.0 * MM_PER_IN); // 215.9 × 279.4 mm
        const A4: (f32, f32) = (210.0, 297.0);
        match self {
            LayoutKind::Letter8 | LayoutKind::A48 => {
                let (pw, ph) = if self == LayoutKind::Letter8 {
                    LETTER
                } else {
                    A4
                };
                let (cw, ch, cols, rows) = (92.0, 60.0, 2, 4);
                let grid_w = cw * cols as f32;
                // Header line at the top, the grid below it; the rest is bottom margin.
                let origin_y = if self == LayoutKind::Letter8 {
                    22.0
                } else {
                    30.0
                };
                Layout {
                    kind: self,
                    page_w: pw,
                    page_h: ph,
                    cols,
                    rows,
                    card_w: cw,
                    card_h: ch,
                    origin_x: (pw - grid_w) / 2.0,
                    origin_y,
                    pitch_x: cw,
                    pitch_y: ch,
                    cut_marks: true,
                    header_baseline: origin_y - 10.0,
                }
            }
            LayoutKind::Avery5371 | LayoutKind::Avery8371 => Layout {
                kind: self,
                page_w: LETTER.0,
                page_h: LETTER.1,
                cols: 2,
                rows: 5,
                card_w: 3.5 * MM_PER_IN,    // 88.9 mm
                card_h: 2.0 * MM_PER_IN,    // 50.8 mm
                origin_x: 0.75 * MM_PER_IN, // 19.05 mm left margin
                origin_y: 0.5 * MM_PER_IN,  // 12.7 mm top margin
                pitch_x: 3.5 * MM_PER_IN,   // no gap between columns
                pitch_y: 2.0 * MM_PER_IN,   // no gap between rows
                cut_marks: false,
                header_baseline: 8.0, // inside the 12.7 mm top margin
            },
        }
    }
}

impl fmt::Display for LayoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for LayoutKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LayoutKind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!("unknown layout {s:?}: use letter-8, a4-8, avery-5371 or avery-8371")
            })
    }
}

/// Sheet geometry, in millimetres from the page's top-left corner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Layout {
    pub kind: LayoutKind,
    pub page_w: f32,
    pub page_h: f32,
    pub cols: usize,
    pub rows: usize,
    pub card_w: f32,
    pub card_h: f32,
    /// Top-left corner of the first card.
    pub origin_x: f32,
    pub origin_y: f32,
    /// Distance between the left (top) edges of neighbouring cards.
    pub pitch_x: f32,
    pub pitch_y: f32,
    /// Print cut marks (plain paper).
    pub cut_marks: bool,
    /// Baseline of the page header line.
    pub header_baseline: f32,
}

impl Layout {
    /// Cards per page.
    pub fn per_page(&self) -> usize {
        self.cols * self.rows
    }

    /// Top-left corner of the card at `slot` (row-major, 0-based) on its page.
    pub fn card_origin(&self, slot: usize) -> (f32, f32) {
        let (row, col) = (slot / self.cols, slot % self.cols);
        (
            self.origin_x + col as f32 * self.pitch_x,
            self.origin_y + row as f32 * self.pitch_y,
        )
    }

    /// Cut marks as line segments `(x1, y1, x2, y2)`: short marks in the margins, in line with
    /// every cut (card edge), never on a card.
    pub fn cut_marks(&self) -> Vec<(f32, f32, f32, f32)> {
        if !self.cut_marks {
            return Vec::new();
        }
        const GAP: f32 = 2.0;
        const LEN: f32 = 5.0;
        let (left, top) = (self.origin_x, self.origin_y);
        let right = left + self.pitch_x * (self.cols - 1) as f32 + self.card_w;
        let bottom = top + self.pitch_y * (self.rows - 1) as f32 + self.card_h;
        let mut xs = Vec::new();
        for c in 0..self.cols {
            let x = left + c as f32 * self.pitch_x;
            xs.push(x);
            xs.push(x + self.card_w);
        }
        let mut ys = Vec::new();
        for r in 0..self.rows {
            let y = top + r as f32 * self.pitch_y;
            ys.push(y);
            ys.push(y + self.card_h);
        }
        for v in [&mut xs, &mut ys] {
            v.sort_by(f32::total_cmp);
            v.dedup_by(|a, b| (*a - *b).abs() < 0.01);
        }
        let mut marks = Vec::new();
        for &x in &xs {
            marks.push((x, top - GAP - LEN, x, top - GAP));
            marks.push((x, bottom + GAP, x, bottom + GAP + LEN));
        }
        for &y in &ys {
            marks.push((left - GAP - LEN, y, left - GAP, y));
            marks.push((right + GAP, y, right + GAP + LEN, y));
        }
        marks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avery_matches_the_published_template() {
        for kind in [LayoutKind::Avery5371, LayoutKind::Avery8371] {
            let l = kind.layout();
            // Template figures in mm: margins 0.75 in / 0.5 in, 3.5 × 2 in cards, 2 × 5.
            let close = |a: f32, b: f32| (a - b).abs() < 0.5;
            assert!(close(l.origin_x, 19.05) && close(l.origin_y, 12.7));
            assert!(close(l.card_w, 88.9) && close(l.card_h, 50.8));
            assert_eq!((l.cols, l.rows), (2, 5));
            // Symmetric: right margin 0.75 in, bottom margin 0.5 in.
            let (x, y) = l.card_origin(9);
            assert!(close(l.page_w - (x + l.card_w), 19.05));
            assert!(close(l.page_h - (y + l.card_h), 12.7));
            assert!(l.cut_marks().is_empty());
        }
    }

    #[test]
    fn plain_layouts_fit_the_page_with_marks_in_the_margins() {
        for kind in [LayoutKind::Letter8, LayoutKind::A48] {
            let l = kind.layout();
            assert_eq!(l.per_page(), 8);
            let (x, y) = l.card_origin(7);
            // Everything printed stays 5 mm inside the paper (printers' unprintable edge).
            assert!(l.origin_x >= 12.0 && x + l.card_w <= l.page_w - 12.0);
            assert!(y + l.card_h <= l.page_h - 10.0, "{kind}");
            let marks = l.cut_marks();
            assert_eq!(marks.len(), 2 * 3 + 2 * 5);
            for (x1, y1, x2, y2) in marks {
                for (mx, my) in [(x1, y1), (x2, y2)] {
                    assert!(mx >= 5.0 && mx <= l.page_w - 5.0 && my >= 5.0 && my <= l.page_h - 5.0);
                    // Never on a card.
                    let inside = mx > l.origin_x + 0.1
                        && mx < l.origin_x + 2.0 * l.card_w - 0.1
                        && my > l.origin_y + 0.1
                        && my < l.origin_y + 4.0 * l.card_h - 0.1;
                    assert!(!inside);
                }
            }
            assert!(l.header_baseline > 8.0 && l.header_baseline < l.origin_y - 8.0);
        }
    }

    #[test]
    fn names_round_trip() {
        for k in LayoutKind::ALL {
            assert_eq!(k.name().parse::<LayoutKind>().unwrap(), k);
        }
        assert!("letter-10".parse::<LayoutKind>().is_err());
    }
}
