//! The printed things held up to the camera: a QuickCard and a book page with a foreign QR
//! code, each as a texture pyramid with its code's corners.
//!
//! Why a module of its own: what is printed is independent of where and how it is seen; the
//! scene ([`super::scene`]) only needs the texture and the corners.

use super::picture::Img;

/// A printed thing with a QR code on it, as a texture pyramid, and where the code's corners are.
pub struct Printed {
    pub levels: Vec<Img>,
    /// QR code corners (outer edge of the modules) in level-0 texture pixels: TL, TR, BR, BL.
    pub qr: [[f32; 2]; 4],
}

fn qr_modules(text: &str) -> (usize, Vec<bool>) {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .expect("fits a QR code");
    let n = code.width();
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    (n, dark)
}

fn draw_qr(img: &mut Img, x0: f32, y0: f32, module: f32, n: usize, dark: &[bool]) {
    for y in 0..n {
        for x in 0..n {
            if dark[y * n + x] {
                let (px, py) = (x0 + x as f32 * module, y0 + y as f32 * module);
                img.rect(px, py, px + module, py + module, [0.08, 0.08, 0.1]);
            }
        }
    }
}

pub fn pyramid(img: Img) -> Vec<Img> {
    let mut levels = vec![img];
    while levels.last().is_some_and(|l| l.w > 64) {
        let next = levels.last().map(Img::half).expect("non-empty");
        levels.push(next);
    }
    levels
}

/// A QuickCard: white ID card with the QR code left, a coloured band, an avatar and name bars.
pub fn card(text: &str, hue: [f32; 3]) -> Printed {
    let (n, dark) = qr_modules(text);
    let m = 8.0;
    let (cw, ch) = (1000usize, 630usize);
    let mut img = Img::new(cw, ch, [0.96, 0.96, 0.93]);
    img.rect(0.0, 0.0, cw as f32, 90.0, hue);
    let qx = 48.0;
    let qy = 90.0 + (ch as f32 - 90.0 - n as f32 * m) / 2.0;
    draw_qr(&mut img, qx, qy, m, n, &dark);
    let side = n as f32 * m;
    img.circle(
        700.0,
        250.0,
        90.0,
        [hue[0] * 0.8, hue[1] * 0.8, hue[2] * 0.8],
    );
    img.rect(560.0, 380.0, 930.0, 420.0, [0.2, 0.2, 0.25]);
    img.rect(560.0, 450.0, 860.0, 475.0, [0.5, 0.5, 0.55]);
    img.rect(560.0, 500.0, 800.0, 525.0, [0.5, 0.5, 0.55]);
    let qr = [
        [qx, qy],
        [qx + side, qy],
        [qx + side, qy + side],
        [qx, qy + side],
    ];
    // Transparent-ish rounded corners are not needed: the card edge is a straight border.
    Printed {
        levels: pyramid(img),
        qr,
    }
}

/// A book page with a URL QR code and some text lines.
pub fn book(url: &str) -> Printed {
    let (n, dark) = qr_modules(url);
    let m = 10.0;
    let (cw, ch) = (800usize, 1000usize);
    let mut img = Img::new(cw, ch, [0.93, 0.91, 0.85]);
    for i in 0..12 {
        let y = 60.0 + i as f32 * 40.0;
        img.rect(
            60.0,
            y,
            740.0 - (i % 3) as f32 * 80.0,
            y + 14.0,
            [0.3, 0.3, 0.3],
        );
    }
    let side = n as f32 * m;
    let (qx, qy) = ((cw as f32 - side) / 2.0, 600.0);
    draw_qr(&mut img, qx, qy, m, n, &dark);
    let qr = [
        [qx, qy],
        [qx + side, qy],
        [qx + side, qy + side],
        [qx, qy + side],
    ];
    Printed {
        levels: pyramid(img),
        qr,
    }
}
