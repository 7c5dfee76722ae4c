//! A small synthetic dataset in the MVTec AD layout, written by the tests (shared by the library
//! suite and the CLI tests through `#[path]`).
//!
//! How it is made (seeded, ChaCha8): every image is 32×32; a normal image is a smooth periodic
//! texture, `0.5 + 0.2·sin(2π x/8 + φ₁)·sin(2π y/8 + φ₂)` with random phases per image plus
//! uniform noise of ±0.03 (in RGB categories each channel gets its own amplitude, 0.15-0.25, and
//! offset, 0.35-0.65, fixed per category). A defect image is a normal image with a patch pasted
//! at a random place: `spot` = a 6-8 pixel square of near-white (0.92-1.0), `hole` = a disk of
//! radius 3-4 of near-black (0.0-0.08). Its mask `ground_truth/<defect>/<name>_mask.png` is 255
//! exactly on the pasted pixels, 0 elsewhere.
#![allow(dead_code)]

use std::path::Path;

use image::{GrayImage, Luma, Rgb, RgbImage};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Image side.
pub const SIDE: u32 = 32;
/// Defect types, in the order their folders sort.
pub const DEFECTS: [&str; 2] = ["hole", "spot"];

/// Sizes of one category.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub rgb: bool,
    pub train: usize,
    pub good: usize,
    /// Test images per defect type.
    pub per_defect: usize,
}

/// Writes one category folder `root` (train/good, test/good, test/hole, test/spot,
/// ground_truth/{hole,spot}) from `seed`.
pub fn write_category(root: &Path, spec: Spec, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (amp, off): ([f32; 3], [f32; 3]) = if spec.rgb {
        (
            std::array::from_fn(|_| rng.random_range(0.15..0.25)),
            std::array::from_fn(|_| rng.random_range(0.35..0.65)),
        )
    } else {
        ([0.2; 3], [0.5; 3])
    };
    let write = |dir: &str, i: usize, defect: Option<&str>, rng: &mut ChaCha8Rng| {
        let (p1, p2): (f32, f32) = (rng.random_range(0.0..6.3), rng.random_range(0.0..6.3));
        let c = if spec.rgb { 3 } else { 1 };
        let n = (SIDE * SIDE) as usize;
        let mut px = vec![0.0f32; c * n];
        for ch in 0..c {
            for y in 0..SIDE {
                for x in 0..SIDE {
                    let t = std::f32::consts::TAU;
                    let v = off[ch]
                        + amp[ch] * (t * x as f32 / 8.0 + p1).sin() * (t * y as f32 / 8.0 + p2).sin()
                        + rng.random_range(-0.03..0.03);
                    px[ch * n + (y * SIDE + x) as usize] = v;
                }
            }
        }
        let mut mask = vec![0u8; n];
        match defect {
            Some("spot") => {
                let s = rng.random_range(6..=8u32);
                let (x0, y0) = (rng.random_range(2..SIDE - s - 2), rng.random_range(2..SIDE - s - 2));
                for y in y0..y0 + s {
                    for x in x0..x0 + s {
                        mask[(y * SIDE + x) as usize] = 255;
                    }
                }
            }
            Some("hole") => {
                let r = rng.random_range(3..=4i32);
                let (cx, cy) = (
                    rng.random_range(r + 2..SIDE as i32 - r - 2),
                    rng.random_range(r + 2..SIDE as i32 - r - 2),
                );
                for y in 0..SIDE as i32 {
                    for x in 0..SIDE as i32 {
                        if (x - cx).pow(2) + (y - cy).pow(2) <= r * r {
                            mask[(y * SIDE as i32 + x) as usize] = 255;
                        }
                    }
                }
            }
            _ => {}
        }
        for (p, &m) in mask.iter().enumerate() {
            if m > 0 {
                let v = if defect == Some("spot") {
                    rng.random_range(0.92..1.0)
                } else {
                    rng.random_range(0.0..0.08)
                };
                for ch in 0..c {
                    px[ch * n + p] = v;
                }
            }
        }
        let byte = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
        let name = format!("{i:03}");
        let folder = root.join(dir);
        std::fs::create_dir_all(&folder).unwrap();
        let path = folder.join(format!("{name}.png"));
        if spec.rgb {
            RgbImage::from_fn(SIDE, SIDE, |x, y| {
                let p = (y * SIDE + x) as usize;
                Rgb([byte(px[p]), byte(px[n + p]), byte(px[2 * n + p])])
            })
            .save(&path)
            .unwrap();
        } else {
            GrayImage::from_fn(SIDE, SIDE, |x, y| Luma([byte(px[(y * SIDE + x) as usize])]))
                .save(&path)
                .unwrap();
        }
        if let Some(d) = defect {
            let gt = root.join("ground_truth").join(d);
            std::fs::create_dir_all(&gt).unwrap();
            GrayImage::from_raw(SIDE, SIDE, mask)
                .unwrap()
                .save(gt.join(format!("{name}_mask.png")))
                .unwrap();
        }
    };
    for i in 0..spec.train {
        write("train/good", i, None, &mut rng);
    }
    for i in 0..spec.good {
        write("test/good", i, None, &mut rng);
    }
    for d in DEFECTS {
        for i in 0..spec.per_defect {
            write(&format!("test/{d}"), i, Some(d), &mut rng);
        }
    }
}
