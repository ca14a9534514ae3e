//! Generated 1280×720 frames that are hard on a QR detector although none holds a code: what a
//! lab camera sees in an empty, dim or busy room. Deterministic (fixed seeds), made in memory
//! so the repository carries no megabytes of noise; the scanner's work-count tests and the
//! scanner benchmark (which also hands them to zxing-cpp) share them.
//!
//! - `high-gain-noise`: a dim room at high sensor gain, strong per-pixel noise;
//! - `salt-and-pepper`: every pixel black or white at random;
//! - `checkerboards`: squares of 1, 2, 3, 4, 6, 8, 12 and 16 pixels side by side;
//! - `fabric`: a woven pattern with noise;
//! - `brick`: a brick wall with mortar lines, shaded;
//! - `finder-field`: hundreds of finder-like squares of many sizes, none making a code;
//! - `moire`: two line gratings at slightly different angles;
//! - `screen`: a monitor filmed up close: sub-pixel stripes, scan lines and a bright band;
//! - `blobs`: random dark blobs and rings on grey (what made rqrr panic in the past).

pub const W: usize = 1280;
pub const H: usize = 720;

/// xorshift64*: deterministic pixels on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// Roughly normal (sum of four uniforms), mean 0, standard deviation about `sd`.
    fn noise(&mut self, sd: f32) -> f32 {
        let s: f32 = (0..4)
            .map(|_| (self.next() >> 40) as f32 / (1u64 << 24) as f32)
            .sum();
        (s - 2.0) * sd * 1.73
    }
}

fn px(v: f32) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

fn frame(mut f: impl FnMut(usize, usize) -> f32) -> Vec<u8> {
    let mut out = Vec::with_capacity(W * H);
    for y in 0..H {
        for x in 0..W {
            out.push(px(f(x, y)));
        }
    }
    out
}

/// Every generated frame: name and 1280×720 luma.
pub fn frames() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("high-gain-noise", high_gain_noise()),
        ("salt-and-pepper", salt_and_pepper()),
        ("checkerboards", checkerboards()),
        ("fabric", fabric()),
        ("brick", brick()),
        ("finder-field", finder_field()),
        ("moire", moire()),
        ("screen", screen()),
        ("blobs", blobs()),
    ]
}

fn high_gain_noise() -> Vec<u8> {
    let mut r = Rng(0x5eed_0001);
    // A dim room: a window-lit gradient, darker furniture shapes, noise at high gain.
    frame(|x, y| {
        let base = 18.0 + 22.0 * (x as f32 / W as f32) + 8.0 * ((y / 90) % 2) as f32;
        base + r.noise(14.0)
    })
}

fn salt_and_pepper() -> Vec<u8> {
    let mut r = Rng(0x5eed_0002);
    frame(|_, _| if r.next() & 1 == 0 { 10.0 } else { 245.0 })
}

fn checkerboards() -> Vec<u8> {
    let sizes = [1usize, 2, 3, 4, 6, 8, 12, 16];
    let band = W / sizes.len();
    frame(|x, y| {
        let s = sizes[(x / band).min(sizes.len() - 1)];
        if (x / s + y / s).is_multiple_of(2) {
            20.0
        } else {
            230.0
        }
    })
}

fn fabric() -> Vec<u8> {
    let mut r = Rng(0x5eed_0004);
    frame(|x, y| {
        let (fx, fy) = (x as f32, y as f32);
        let warp = (fx * 0.9).sin() * (fy * 0.3).sin();
        let weft = (fy * 0.9).sin() * (fx * 0.3).cos();
        110.0 + 70.0 * warp.max(weft) + r.noise(10.0)
    })
}

fn brick() -> Vec<u8> {
    let mut r = Rng(0x5eed_0005);
    let (bw, bh, mortar) = (48usize, 20usize, 3usize);
    frame(|x, y| {
        let row = y / bh;
        let xo = x + if row % 2 == 1 { bw / 2 } else { 0 };
        let in_mortar = y % bh < mortar || xo % bw < mortar;
        let shade = 60.0 + 40.0 * ((x + 3 * y) as f32 / (W + 3 * H) as f32);
        let v = if in_mortar {
            190.0
        } else {
            shade + ((xo / bw * 37 + row * 11) % 30) as f32
        };
        v + r.noise(8.0)
    })
}

fn finder_field() -> Vec<u8> {
    let mut r = Rng(0x5eed_0006);
    let mut img = vec![200u8; W * H];
    for _ in 0..400 {
        let m = 1 + r.below(6);
        let (cx, cy) = (r.below(W - 7 * m), r.below(H - 7 * m));
        for y in 0..7 * m {
            for x in 0..7 * m {
                let (mx, my) = (x / m, y / m);
                let ring = mx.min(my).min(6 - mx).min(6 - my);
                img[(cy + y) * W + cx + x] = if ring == 1 { 200 } else { 15 };
            }
        }
    }
    img
}

fn moire() -> Vec<u8> {
    let (a, b) = (0.02f32, 0.05f32);
    frame(|x, y| {
        let (fx, fy) = (x as f32, y as f32);
        let g1 = ((fx * a.cos() + fy * a.sin()) * 1.1).sin();
        let g2 = ((fx * b.cos() + fy * b.sin()) * 1.1).sin();
        128.0 + 60.0 * g1 + 60.0 * g2
    })
}

fn screen() -> Vec<u8> {
    let mut r = Rng(0x5eed_0008);
    frame(|x, y| {
        let sub = [70.0, 160.0, 40.0][x % 3];
        let line = if y.is_multiple_of(4) { 0.5 } else { 1.0 };
        let band = if (300..340).contains(&y) { 1.6 } else { 1.0 };
        sub * line * band + r.noise(6.0)
    })
}

fn blobs() -> Vec<u8> {
    let mut r = Rng(0x5eed_0009);
    let mut img = vec![150u8; W * H];
    for _ in 0..900 {
        let rad = 2 + r.below(30);
        let ring = r.below(3) == 0;
        let (cx, cy) = (r.below(W) as i64, r.below(H) as i64);
        let v = r.below(60) as u8;
        let rad = rad as i64;
        for y in (cy - rad).max(0)..(cy + rad).min(H as i64) {
            for x in (cx - rad).max(0)..(cx + rad).min(W as i64) {
                let d2 = (x - cx).pow(2) + (y - cy).pow(2);
                let inside = d2 <= rad * rad && (!ring || d2 >= (rad * rad) / 3);
                if inside {
                    img[y as usize * W + x as usize] = v;
                }
            }
        }
    }
    img
}
