//! Where things land on a card, how long texts shrink or wrap, and which cards are refused.
//!
//! A file of its own so that `design.rs` reads as the layout alone; the QR code's own tests
//! (the mask penalty) sit beside it in `qr.rs`.

use qrcode::{EcLevel, QrCode};

use super::*;

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
