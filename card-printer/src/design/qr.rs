//! The card's QR code: card text → QR modules (error correction M, the mask chosen by the
//! standard's penalty rules) → dark runs per row, which the PDF and PNG writers paint.
//!
//! Why a module of its own: choosing the mask was the printer's largest cost, so the penalty
//! is computed here on bit sets, with a plain module-by-module version beside it that the
//! tests hold it to; none of that concerns how the rest of the card is laid out.

use qrcode::EcLevel;

use super::DesignError;

/// A run of dark modules in one QR row: `len` modules from column `col`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub row: u16,
    pub col: u16,
    pub len: u16,
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
