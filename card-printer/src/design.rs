//! What one card looks like, independent of PDF or PNG.
//!
//! [`draw_card`] turns a [`CardFace`] (the signed QR text and the words to print) into a
//! [`Drawing`]: QR module runs and shaped text lines placed in millimetres on a card of any
//! size. The PDF writer and the PNG rasteriser both just paint a `Drawing`, so a reprinted PNG
//! card looks like its sheet original, and tests know where every QR sits
//! ([`qr_box`]).
//!
//! The QR code itself (the symbol, its mask, its dark runs) is made in `qr`.
//!
//! Layout, left to right: the QR code with its 4-module quiet zone, filling the card's height
//! above the footer; beside it the given name (largest, bold), the full name, a role line for
//! adults, then class, teacher, school and expiry; across the bottom "If found, please return
//! to `<school>`".

mod qr;

use quickcard::Role;

pub use self::qr::{Run, penalty, qr_matrix, qr_runs};
use crate::fonts::{self, Shaped, Weight};

/// Quiet zone around the QR symbol, in modules (the QR standard's minimum is 4).
pub const QUIET_ZONE: usize = 4;

/// Everything printed on one card.
#[derive(Debug, Clone, PartialEq)]
pub struct CardFace {
    /// The signed card text (`QC:` + Base45) that the QR code holds.
    pub qr_text: String,
    pub given_name: String,
    pub full_name: String,
    pub role: Role,
    /// The card also needs a PIN at sign-in.
    pub second_factor: bool,
    /// Class title, if the card is printed for a class.
    pub class_name: Option<String>,
    /// Teacher names for the class.
    pub teachers: Vec<String>,
    pub school_name: String,
    /// `YYYY-MM-DD`, the last day the card works.
    pub expires: String,
}

/// A thing to paint, in millimetres from the card's top-left corner.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A QR symbol: the top-left of module (0, 0), the module size, and the dark runs.
    Qr {
        x: f32,
        y: f32,
        module: f32,
        modules: usize,
        runs: Vec<Run>,
    },
    /// One line of shaped text; `(x, baseline)` is where its first glyph starts.
    Text {
        x: f32,
        baseline: f32,
        size_pt: f32,
        shaped: Shaped,
        grey: bool,
    },
}

/// A card's content placed on its area.
#[derive(Debug, Clone, PartialEq)]
pub struct Drawing {
    pub width: f32,
    pub height: f32,
    pub items: Vec<Item>,
}

/// Why a card could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum DesignError {
    #[error("the card text does not fit a QR code: {0}")]
    Qr(String),
    #[error(
        "the name {name:?} has characters the card font cannot print ({chars}); use a transliterated name in the roster"
    )]
    UnprintableName { name: String, chars: String },
}

const FOOTER: f32 = 5.5; // mm band at the bottom for the "If found" line
const EDGE: f32 = 2.0; // mm from the card edge to the QR quiet zone
const PAD: f32 = 3.0; // mm from the card's right edge to text

/// The square the QR code (including its quiet zone) occupies on a `w` × `h` mm card:
/// `(x, y, side)` in mm. Tests crop this region from rendered pages.
pub fn qr_box(w: f32, h: f32) -> (f32, f32, f32) {
    let side = (h - FOOTER - EDGE).min(w * 0.5);
    (EDGE, EDGE, side)
}

/// Shrinks text from `max_pt` towards `min_pt` until it fits `width` mm; if it still does not
/// fit, cuts it and ends it with "…".
fn fit(text: &str, weight: Weight, width: f32, max_pt: f32, min_pt: f32) -> (Shaped, f32) {
    let shaped = fonts::shape(text, weight);
    let w1 = shaped.width_mm(1.0);
    if w1 <= 0.0 || w1 * max_pt <= width {
        return (shaped, max_pt);
    }
    let size = width / w1;
    if size >= min_pt {
        return (shaped, (size * 20.0).floor() / 20.0);
    }
    let chars: Vec<char> = text.chars().collect();
    for keep in (1..chars.len()).rev() {
        let cut: String = chars[..keep]
            .iter()
            .collect::<String>()
            .trim_end()
            .to_string()
            + "…";
        let s = fonts::shape(&cut, weight);
        if s.width_mm(min_pt) <= width {
            return (s, min_pt);
        }
    }
    (fonts::shape("…", weight), min_pt)
}

/// Like [`fit`], but may break at a space or after a hyphen into two lines (for long names)
/// before shrinking below `wrap_below_pt`.
fn fit_two_lines(
    text: &str,
    weight: Weight,
    width: f32,
    max_pt: f32,
    wrap_below_pt: f32,
    min_pt: f32,
) -> (Vec<Shaped>, f32) {
    let (one, size) = fit(text, weight, width, max_pt, wrap_below_pt);
    if fonts::shape(text, weight).width_mm(size) <= width + 0.01 {
        return (vec![one], size);
    }
    // Try the break that makes the longer line shortest.
    // Break after a space (dropped) or after a hyphen (kept on the first line).
    let breaks: Vec<(String, String)> = text
        .char_indices()
        .filter_map(|(i, c)| match c {
            ' ' => Some((
                text[..i].trim_end().to_string(),
                text[i + 1..].trim_start().to_string(),
            )),
            '-' if i > 0 && i + 1 < text.len() => {
                Some((text[..=i].to_string(), text[i + 1..].to_string()))
            }
            _ => None,
        })
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
        .collect();
    let widest = |(a, b): &(String, String)| {
        fonts::shape(a, weight)
            .width_em
            .max(fonts::shape(b, weight).width_em)
    };
    let best = breaks
        .into_iter()
        .min_by(|a, b| widest(a).total_cmp(&widest(b)));
    match best {
        Some((l1, l2)) => {
            let (s1, z1) = fit(&l1, weight, width, max_pt, min_pt);
            let (s2, z2) = fit(&l2, weight, width, max_pt, min_pt);
            let size = z1.min(z2);
            let (s1, _) = fit(&s1.text, weight, width, size, size);
            let (s2, _) = fit(&s2.text, weight, width, size, size);
            (vec![s1, s2], size)
        }
        None => {
            let (s, z) = fit(text, weight, width, max_pt, min_pt);
            (vec![s], z)
        }
    }
}

fn role_label(role: Role) -> &'static str {
    match role {
        Role::Student => "Student",
        Role::Teacher => "Teacher",
        Role::Staff => "Staff",
        Role::Parent => "Parent",
        Role::Administrator => "Administrator",
    }
}

/// The teacher line: "Teacher: A" or "Teachers: A, B".
pub fn teacher_line(teachers: &[String]) -> Option<String> {
    match teachers {
        [] => None,
        [one] => Some(format!("Teacher: {one}")),
        many => Some(format!("Teachers: {}", many.join(", "))),
    }
}

/// Checks that the names print with real glyphs.
pub fn check_printable(face: &CardFace) -> Result<(), DesignError> {
    for name in [&face.full_name, &face.given_name] {
        let missing = fonts::unsupported_chars(name);
        if !missing.is_empty() {
            return Err(DesignError::UnprintableName {
                name: name.clone(),
                chars: missing.iter().collect(),
            });
        }
    }
    Ok(())
}

/// Lays out one card on a `w` × `h` mm area.
pub fn draw_card(face: &CardFace, w: f32, h: f32) -> Result<Drawing, DesignError> {
    check_printable(face)?;
    let mut items = Vec::new();
    let pt = |size: f32| size * crate::MM_PER_PT;

    // QR with quiet zone, at the left.
    let (n, runs) = qr_runs(&face.qr_text)?;
    let (qx, qy, side) = qr_box(w, h);
    let module = side / (n + 2 * QUIET_ZONE) as f32;
    items.push(Item::Qr {
        x: qx + QUIET_ZONE as f32 * module,
        y: qy + QUIET_ZONE as f32 * module,
        module,
        modules: n,
        runs,
    });

    // Text column to the right of the quiet zone.
    let x0 = qx + side + 0.5;
    let tw = w - x0 - PAD;
    let top = EDGE + 1.0;
    let bottom = h - FOOTER - 0.6;
    let scale = (h / 50.8).clamp(0.8, 1.4); // business-card height is the reference
    let mut y = top;
    let line = |items: &mut Vec<Item>, y: &mut f32, shaped: Shaped, size: f32, grey: bool| {
        let asc = fonts::ascender_em(shaped.weight) * pt(size);
        items.push(Item::Text {
            x: x0,
            baseline: *y + asc,
            size_pt: size,
            shaped,
            grey,
        });
        *y += pt(size) * 1.22;
    };

    // Bottom block (class, teacher, school, expiry), anchored to the bottom of the column.
    let mut block: Vec<(String, Weight, f32, bool)> = Vec::new();
    if let Some(class) = &face.class_name {
        block.push((class.clone(), Weight::Bold, 8.0, false));
    }
    if let Some(t) = teacher_line(&face.teachers) {
        block.push((t, Weight::Regular, 7.5, false));
    }
    block.push((face.school_name.clone(), Weight::Regular, 7.5, false));
    block.push((
        format!("Valid until {}", face.expires),
        Weight::Regular,
        7.0,
        true,
    ));
    let fitted: Vec<(Shaped, f32, bool)> = block
        .into_iter()
        .map(|(t, wgt, size, grey)| {
            let (s, z) = fit(&t, wgt, tw, size * scale.min(1.15), 5.0);
            (s, z, grey)
        })
        .collect();
    let block_h: f32 = fitted.iter().map(|(_, z, _)| pt(*z) * 1.22).sum();

    // Top block: the given name, the biggest thing on the card so a child finds their own
    // (two lines if it is long), the full name (up to two lines), and for adults a role line.
    // Sizes step down until the top block leaves room for the bottom block.
    let role_line = (face.role != Role::Student || face.second_factor).then(|| {
        let mut label = format!("{} card", role_label(face.role));
        if face.second_factor {
            label.push_str(" · PIN required");
        }
        fit(&label, Weight::Bold, tw, 7.0 * scale, 5.5)
    });
    let room = bottom - top - block_h - 0.5;
    let mut top_lines = Vec::new();
    for step in 0..8 {
        let shrink = 1.0 - 0.1 * step as f32;
        let (given, gsize) = fit_two_lines(
            &face.given_name,
            Weight::Bold,
            tw,
            24.0 * scale * shrink,
            15.0 * shrink,
            9.0,
        );
        let (full, fsize) = fit_two_lines(
            &face.full_name,
            Weight::Regular,
            tw,
            11.0 * scale * shrink.max(0.7),
            8.0,
            6.0,
        );
        top_lines.clear();
        top_lines.extend(given.into_iter().map(|g| (g, gsize, false, 0.0)));
        top_lines.extend(full.into_iter().map(|f| (f, fsize, false, 0.0)));
        if let Some((s, z)) = &role_line {
            top_lines.push((s.clone(), *z, true, 0.6));
        }
        let height: f32 = top_lines
            .iter()
            .map(|(_, z, _, gap)| pt(*z) * 1.22 + gap)
            .sum();
        if height <= room {
            break;
        }
    }
    for (shaped, size, grey, gap) in top_lines {
        y += gap;
        line(&mut items, &mut y, shaped, size, grey);
    }
    let mut by = (bottom - block_h).max(y + 0.5);
    for (s, z, grey) in fitted {
        line(&mut items, &mut by, s, z, grey);
    }

    // Footer across the card.
    let footer = format!("If found, please return to {}", face.school_name);
    let (s, z) = fit(&footer, Weight::Regular, w - 2.0 * PAD, 6.0, 4.5);
    let fx = (w - s.width_mm(z)) / 2.0;
    items.push(Item::Text {
        x: fx,
        baseline: h - FOOTER + 1.2 + fonts::ascender_em(Weight::Regular) * pt(z),
        size_pt: z,
        shaped: s,
        grey: true,
    });

    Ok(Drawing {
        width: w,
        height: h,
        items,
    })
}

#[cfg(test)]
mod tests;
