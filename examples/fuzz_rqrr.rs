// Searches for bitmaps that make bare rqrr panic: random blobs plus finder-pattern-like squares.
use std::panic::{AssertUnwindSafe, catch_unwind};
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}
fn main() {
    std::panic::set_hook(Box::new(|_| {}));
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let (w, h) = (160usize, 120usize);
    for iter in 0..2_000_000u64 {
        let seed = rng.0;
        let mut bits = vec![false; w * h];
        // finder-ish squares
        let n = 3 + rng.below(6);
        for _ in 0..n {
            let m = 1 + rng.below(4) as usize;
            let cx = rng.below(w as u64) as usize;
            let cy = rng.below(h as u64) as usize;
            for y in 0..7 * m {
                for x in 0..7 * m {
                    let (mx, my) = (x / m, y / m);
                    let ring = mx.min(my).min(6 - mx).min(6 - my);
                    let dark = ring != 1;
                    let (px, py) = (cx + x, cy + y);
                    if px < w && py < h {
                        bits[py * w + px] = dark;
                    }
                }
            }
        }
        // random noise modules
        let k = rng.below(400);
        for _ in 0..k {
            let x = rng.below(w as u64) as usize;
            let y = rng.below(h as u64) as usize;
            bits[y * w + x] = !bits[y * w + x];
        }
        let r = catch_unwind(AssertUnwindSafe(|| {
            let mut p = rqrr::PreparedImage::prepare_from_bitmap(w, h, |x, y| bits[y * w + x]);
            for g in p.detect_grids() {
                let mut v = Vec::new();
                let _ = g.decode_to(&mut v);
            }
        }));
        if r.is_err() {
            println!("PANIC at iter {iter} seed {seed:#x}");
            let img = image::GrayImage::from_fn(w as u32, h as u32, |x, y| {
                image::Luma([if bits[y as usize * w + x as usize] {
                    0
                } else {
                    255
                }])
            });
            img.save(format!("/tmp/rqrr-panic-{iter}.png")).unwrap();
            if std::fs::read_dir("/tmp")
                .unwrap()
                .filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .file_name()
                        .to_string_lossy()
                        .starts_with("rqrr-panic")
                })
                .count()
                > 5
            {
                return;
            }
        }
        if iter % 100000 == 0 {
            eprintln!("iter {iter}");
        }
    }
}
