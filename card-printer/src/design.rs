//! What one card looks like, independent of PDF or PNG.
//!
//! [`draw_card`] turns a [`CardFace`] (the signed QR text and the words to print) into a
//! [`Drawing`]: QR module runs and shaped text lines placed in millimetres on a card of any
//! size. The PDF writer and the PNG rasteriser both just paint a `Drawing`, so a reprinted PNG
//! card looks like its sheet original, and tests know where every QR sits
//! ([`qr_box`]).
//!
//! Layout, left to right: the QR code with its 4-module quiet zone, filling the card's height
//! above the footer; beside it the given name (largest, bold), the full name, a role line for
//! adults, then class, teacher, school and expiry; across the bottom "If found, please return
//! to `<school>`".

use qrcode::EcLevel;
use quickcard::Role;

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

/// A run of dark modules in one QR row: `len` modules from column `col`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub row: u16,
    pub col: u16,
    pub len: u16,
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

/// Encodes card text as a QR matrix (error correction M, as the card format is sized for):
/// the width and the dark modules, row-major.
///
/// The qrcode crate builds the symbol; the mask is chosen here with the standard's four
/// penalty rules (ISO/IEC 18004 §7.8.3) evaluated on a plain byte grid, which is an order of
/// magnitude faster than the crate's own mask search and was the printer's largest cost.
pub fn qr_matrix(text: &str) -> Result<(usize, Vec<bool>), DesignError> {
    use qrcode::canvas::{Canvas, MaskPattern};
    let err = |e: qrcode::types::QrError| DesignError::Qr(e.to_string());
    let mut bits = qrcode::bits::encode_auto(text.as_bytes(), EcLevel::M).map_err(err)?;
    bits.push_terminator(EcLevel::M).map_err(err)?;
    let version = bits.version();
    let (data, ec) =
        qrcode::ec::construct_codewords(&bits.into_bytes(), version, EcLevel::M).map_err(err)?;
    let mut canvas = Canvas::new(version, EcLevel::M);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&data, &ec);
    let n = version.width() as usize;
    let masks = [
        MaskPattern::Checkerboard,
        MaskPattern::HorizontalLines,
        MaskPattern::VerticalLines,
        MaskPattern::DiagonalLines,
        MaskPattern::LargeCheckerboard,
        MaskPattern::Fields,
        MaskPattern::Diamonds,
        MaskPattern::Meadow,
    ];
    let mut best: Option<(u32, Vec<bool>)> = None;
    for m in masks {
        let mut c = canvas.clone();
        c.apply_mask(m);
        let dark: Vec<bool> = c
            .into_colors()
            .into_iter()
            .map(|c| c == qrcode::Color::Dark)
            .collect();
        let score = penalty(n, &dark);
        if best.as_ref().is_none_or(|(b, _)| score < *b) {
            best = Some((score, dark));
        }
    }
    Ok((n, best.map(|b| b.1).unwrap_or_default()))
}

/// The QR mask penalty (ISO/IEC 18004 §7.8.3): runs of 5+ same-colour modules (N1 = 3, +1
/// per extra module), 2×2 same-colour blocks (N2 = 3), finder-like 1:1:3:1:1 patterns with
/// 4 light modules on a side (N3 = 40), and dark/light imbalance (N4 = 10 per 5 %).
pub fn penalty(n: usize, dark: &[bool]) -> u32 {
    if n <= 100 {
        penalty_bits(n, dark)
    } else {
        penalty_plain(n, dark)
    }
}

/// [`penalty`] on rows packed into `u128` bit sets (bit `j` = column `j`), for widths up to
/// 100 modules (QR version 21; cards use version 6).
fn penalty_bits(n: usize, dark: &[bool]) -> u32 {
    let mut rows = vec![0u128; n];
    let mut cols = vec![0u128; n];
    for (k, _) in dark.iter().enumerate().filter(|(_, d)| **d) {
        let (i, j) = (k / n, k % n);
        rows[i] |= 1 << j;
        cols[j] |= 1 << i;
    }
    let full = (1u128 << n) - 1;
    let mut score = 0u32;
    let inner = ((1u128 << n) - 1) << 4; // positions of real modules in a padded line
    for lines in [&rows, &cols] {
        for &line in lines.iter() {
            // N1: runs of 5 or more cost (3 + extra) = run - 2. Colour changes mark run ends.
            let mut changes = (line ^ (line >> 1)) & ((1u128 << (n - 1)) - 1);
            let mut start = 0u32;
            while changes != 0 {
                let end = changes.trailing_zeros() + 1;
                if end - start >= 5 {
                    score += end - start - 2;
                }
                start = end;
                changes &= changes - 1;
            }
            if n as u32 - start >= 5 {
                score += n as u32 - start - 2;
            }
            // N3: 1011101 with four light modules before or after; outside is light. All
            // positions at once: bit p of `core` is set when the pattern starts at p.
            let padded = line << 4;
            let light = !padded;
            let mut core = inner;
            for (k, dark) in [true, false, true, true, true, false, true]
                .into_iter()
                .enumerate()
            {
                core &= if dark { padded >> k } else { light >> k };
            }
            let light4 = light & (light >> 1) & (light >> 2) & (light >> 3);
            let before = light4 << 4;
            let after = light4 >> 7;
            score += 40 * (core & (before | after)).count_ones();
        }
    }
    // N2: 2x2 blocks of one colour.
    let pairs = (1u128 << (n - 1)) - 1;
    for w in rows.windows(2) {
        let (a, b) = (w[0], w[1]);
        let same = !(a ^ b) & full;
        let flat = !(a ^ (a >> 1)) & full;
        score += 3 * (same & (same >> 1) & flat & pairs).count_ones();
    }
    // N4: balance.
    let darks: u32 = rows.iter().map(|r| r.count_ones()).sum();
    let percent = darks as usize * 100 / (n * n);
    score + (percent.abs_diff(50) / 5) as u32 * 10
}

/// [`penalty`], module by module (any width).
fn penalty_plain(n: usize, dark: &[bool]) -> u32 {
    let at = |r: usize, c: usize| dark[r * n + c];
    let mut score = 0u32;
    for transpose in [false, true] {
        let get = |i: usize, j: usize| if transpose { at(j, i) } else { at(i, j) };
        for i in 0..n {
            // N1: runs.
            let mut run = 1;
            for j in 1..n {
                if get(i, j) == get(i, j - 1) {
                    run += 1;
                } else {
                    if run >= 5 {
                        score += 3 + (run - 5);
                    }
                    run = 1;
                }
            }
            if run >= 5 {
                score += 3 + (run - 5);
            }
            // N3: 1011101 with 0000 before or after (outside the symbol counts as light).
            let cell = |j: isize| j >= 0 && (j as usize) < n && get(i, j as usize);
            for j in 0..n as isize {
                const CORE: [bool; 7] = [true, false, true, true, true, false, true];
                if (0..7).all(|k| cell(j + k) == CORE[k as usize]) {
                    let before = (1..=4).all(|k| !cell(j - k));
                    let after = (7..11).all(|k| !cell(j + k));
                    if before || after {
                        score += 40;
                    }
                }
            }
        }
    }
    // N2: 2x2 blocks.
    for r in 0..n - 1 {
        for c in 0..n - 1 {
            let v = at(r, c);
            if at(r, c + 1) == v && at(r + 1, c) == v && at(r + 1, c + 1) == v {
                score += 3;
            }
        }
    }
    // N4: balance.
    let darks = dark.iter().filter(|d| **d).count();
    let percent = darks * 100 / dark.len();
    score += (percent.abs_diff(50) / 5) as u32 * 10;
    score
}

/// Encodes card text as QR module runs: the width and the dark runs of each row.
pub fn qr_runs(text: &str) -> Result<(usize, Vec<Run>), DesignError> {
    let (n, dark) = qr_matrix(text)?;
    let mut runs = Vec::new();
    for row in 0..n {
        let mut col = 0;
        while col < n {
            if dark[row * n + col] {
                let start = col;
                while col < n && dark[row * n + col] {
                    col += 1;
                }
                runs.push(Run {
                    row: row as u16,
                    col: start as u16,
                    len: (col - start) as u16,
                });
            } else {
                col += 1;
            }
        }
    }
    Ok((n, runs))
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
mod tests {
    use super::*;
    use qrcode::QrCode;

    fn face() -> CardFace {
        CardFace {
            qr_text: quickcard::sign(
                &quickcard::Claims::new(
                    "stu-1",
                    Role::Student,
                    "sch-1",
                    1_790_000_000,
                    1_800_000_000,
                    quickcard::Flags::default(),
                )
                .unwrap(),
                &quickcard::IssuerKey::demo(),
            ),
            given_name: "Zoë".into(),
            full_name: "Zoë O'Brien".into(),
            role: Role::Student,
            second_factor: false,
            class_name: Some("Grade 3 – Room 12".into()),
            teachers: vec!["María García".into()],
            school_name: "Lincoln Elementary".into(),
            expires: "2027-06-30".into(),
        }
    }

    fn texts(d: &Drawing) -> Vec<(String, f32, f32, f32)> {
        d.items
            .iter()
            .filter_map(|i| match i {
                Item::Text {
                    x,
                    baseline,
                    size_pt,
                    shaped,
                    ..
                } => Some((shaped.text.clone(), *x, *baseline, *size_pt)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn card_has_everything_inside_its_area() {
        let d = draw_card(&face(), 88.9, 50.8).unwrap();
        let t = texts(&d);
        let all: Vec<&str> = t.iter().map(|t| t.0.as_str()).collect();
        for want in [
            "Zoë",
            "Zoë O'Brien",
            "Grade 3 – Room 12",
            "Teacher: María García",
            "Lincoln Elementary",
            "Valid until 2027-06-30",
            "If found, please return to Lincoln Elementary",
        ] {
            assert!(all.contains(&want), "{want} missing from {all:?}");
        }
        // The given name is the biggest text, bigger than the full name.
        let size = |s: &str| t.iter().find(|x| x.0 == s).unwrap().3;
        assert!(size("Zoë") > size("Zoë O'Brien"));
        assert!(t.iter().all(|x| x.3 >= 4.5));
        // Every text line lies on the card and right of the QR's quiet zone (but the footer).
        let (qx, _, side) = qr_box(88.9, 50.8);
        for i in &d.items {
            if let Item::Text {
                x,
                baseline,
                size_pt,
                shaped,
                ..
            } = i
            {
                assert!(
                    *x >= 0.0 && x + shaped.width_mm(*size_pt) <= 88.9 - 2.9,
                    "{shaped:?}"
                );
                assert!(*baseline < 50.8 - 1.0);
                if !shaped.text.starts_with("If found") {
                    assert!(*x >= qx + side, "{} overlaps the QR", shaped.text);
                }
            }
        }
        // The QR symbol is at least 25 mm wide, with a 4-module quiet zone inside the box.
        let Item::Qr {
            module, modules, x, ..
        } = &d.items[0]
        else {
            panic!()
        };
        assert!(module * *modules as f32 >= 25.0);
        assert!((x - qx - 4.0 * module).abs() < 1e-4);
    }

    #[test]
    fn long_names_shrink_or_wrap_but_stay_inside() {
        let mut f = face();
        f.given_name = "Maximilian-Alexander".into();
        f.full_name = "Maximilian-Alexander von Hohenzollern-Sigmaringen".into();
        f.class_name = Some("Advanced Placement Environmental Science and Society".into());
        let d = draw_card(&f, 88.9, 50.8).unwrap();
        for i in &d.items {
            if let Item::Text {
                x, size_pt, shaped, ..
            } = i
            {
                let w = shaped.width_mm(*size_pt);
                assert!(
                    x + w <= 88.9 - 2.9,
                    "{} at {size_pt}pt is {w} mm wide",
                    shaped.text
                );
            }
        }
        let t = texts(&d);
        // The given name broke after its hyphen and the full name at its space: every part is
        // printed whole, nothing is cut with "…".
        let all: Vec<&str> = t.iter().map(|x| x.0.as_str()).collect();
        for part in [
            "Maximilian-",
            "Alexander",
            "Maximilian-Alexander von",
            "Hohenzollern-Sigmaringen",
        ] {
            assert!(all.contains(&part), "{part} not a line of {all:?}");
        }
        assert!(
            !all.iter().any(|l| l.contains('…') && l.starts_with("Max")),
            "{all:?}"
        );
    }

    #[test]
    fn qr_matrix_is_a_valid_code_that_decodes() {
        let text = face().qr_text;
        let (n, dark) = qr_matrix(&text).unwrap();
        assert_eq!(n, 41, "the card format fits version 6");
        // Render at 4 px per module with a generous margin and read it back.
        let (s, q) = (4usize, 8usize);
        let w = (n + 2 * q) * s;
        let img = image::GrayImage::from_fn(w as u32, w as u32, |x, y| {
            let (c, r) = (
                (x as usize / s).wrapping_sub(q),
                (y as usize / s).wrapping_sub(q),
            );
            image::Luma([if r < n && c < n && dark[r * n + c] {
                0
            } else {
                255
            }])
        });
        assert_eq!(
            crate::inspect::decode_qr_luma(&img).unwrap(),
            vec![text.clone()]
        );
        // The chosen mask scores no worse than the qrcode crate's own choice.
        let theirs: Vec<bool> = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
            .unwrap()
            .to_colors()
            .into_iter()
            .map(|c| c == qrcode::Color::Dark)
            .collect();
        assert!(penalty(n, &dark) <= penalty(n, &theirs));
    }

    #[test]
    fn penalty_counts_the_standard_rules() {
        // 5x5 all light: N1 5 rows + 5 cols of run 5 (3 each) = 30; N2 16 blocks = 48;
        // N4 0 % dark = 100.
        assert_eq!(penalty(5, &[false; 25]), 30 + 48 + 100);
        assert_eq!(penalty_plain(5, &[false; 25]), 30 + 48 + 100);
        // A finder-like row with light on both sides counts once.
        let row = [0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0];
        let n = row.len();
        let grid: Vec<bool> = (0..n * n).map(|i| i < n && row[i] == 1).collect();
        assert_eq!(penalty_bits(n, &grid), penalty_plain(n, &grid));
        // The fast and plain versions agree on pseudo-random grids of many widths.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for n in [2, 5, 21, 41, 57, 100] {
            for _ in 0..20 {
                let grid: Vec<bool> = (0..n * n)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        x.is_multiple_of(3)
                    })
                    .collect();
                assert_eq!(penalty_bits(n, &grid), penalty_plain(n, &grid), "n={n}");
            }
        }
    }

    #[test]
    fn crowded_adult_cards_keep_every_line_above_the_footer() {
        let mut f = face();
        f.role = Role::Teacher;
        f.second_factor = true;
        f.given_name = "Mary Kate".into();
        f.full_name = "Mary Kate Featherstonehaugh-Cholmondeley".into();
        f.teachers = vec!["A. Longname".into(), "B. Longername".into()];
        for (w, h) in [(88.9, 50.8), (92.0, 60.0)] {
            let d = draw_card(&f, w, h).unwrap();
            let mut last_bottom = 0.0f32;
            for i in &d.items {
                if let Item::Text {
                    baseline,
                    shaped,
                    size_pt,
                    ..
                } = i
                {
                    if shaped.text.starts_with("If found") {
                        // No other line reaches into the footer band.
                        assert!(last_bottom <= h - FOOTER + 0.3, "{w}x{h}: {last_bottom}");
                    } else {
                        last_bottom = last_bottom.max(baseline + 0.25 * size_pt * crate::MM_PER_PT);
                    }
                }
            }
            // Lines never overlap: baselines at least one line apart, in order.
            let mut bases: Vec<(f32, f32)> = d
                .items
                .iter()
                .filter_map(|i| match i {
                    Item::Text {
                        baseline,
                        size_pt,
                        shaped,
                        ..
                    } if !shaped.text.starts_with("If found") => Some((*baseline, *size_pt)),
                    _ => None,
                })
                .collect();
            bases.sort_by(|a, b| a.0.total_cmp(&b.0));
            for pair in bases.windows(2) {
                assert!(
                    pair[1].0 - pair[0].0 >= pair[1].1 * crate::MM_PER_PT * 0.9,
                    "{pair:?}"
                );
            }
        }
    }

    #[test]
    fn unprintable_names_are_refused() {
        let mut f = face();
        f.full_name = "李 小龙".into();
        f.given_name = "李".into();
        assert!(matches!(
            draw_card(&f, 88.9, 50.8).unwrap_err(),
            DesignError::UnprintableName { .. }
        ));
    }

    #[test]
    fn adults_and_pin_cards_say_so() {
        let mut f = face();
        f.role = Role::Teacher;
        f.second_factor = true;
        let t = texts(&draw_card(&f, 88.9, 50.8).unwrap());
        assert!(
            t.iter().any(|x| x.0 == "Teacher card · PIN required"),
            "{t:?}"
        );
    }
}
