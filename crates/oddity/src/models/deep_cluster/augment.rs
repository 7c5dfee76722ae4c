//! DEC-DA's data augmentation (Guo et al., "Deep Embedded Clustering with Data Augmentation",
//! ACML 2018): every training batch is a random rotation and shift of its images. The official code
//! (XifengGuo/DEC-DA, `FcDEC.py`) uses Keras' `ImageDataGenerator(width_shift_range=0.1,
//! height_shift_range=0.1, rotation_range=10)`: an angle uniform in ±10°, shifts uniform in ±10 % of
//! the height and width, bilinear interpolation, points outside filled with the nearest edge pixel
//! (`fill_mode='nearest'`, Keras' default). The same transform is applied to every channel.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::autoencoder::InputShape;
use super::config::DeepClusterConfig;

/// The random transform's ranges.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Augment {
    /// Largest shift, as a fraction of the image height (rows) and width (columns).
    pub shift: f32,
    /// Largest rotation, in degrees either way.
    pub degrees: f32,
}

impl Augment {
    /// Transforms each image of `batch` (`shape` per sample, channel planes one after another) in
    /// place, each with its own draw from `rng`.
    pub(crate) fn apply(&self, batch: &mut [f32], shape: InputShape, rng: &mut impl Rng) {
        let (h, w) = (shape.h, shape.w);
        let plane = h * w;
        if plane == 0 {
            return;
        }
        let mut src = vec![0f32; plane];
        for image in batch.chunks_mut(shape.dim()) {
            let theta = draw(rng, self.degrees).to_radians();
            let dy = draw(rng, self.shift) * h as f32;
            let dx = draw(rng, self.shift) * w as f32;
            let map = Map::new(theta, dy, dx, h, w);
            for channel in image.chunks_mut(plane) {
                src.copy_from_slice(channel);
                for r in 0..h {
                    for c in 0..w {
                        let (y, x) = map.source(r, c);
                        channel[r * w + c] = bilinear(&src, h, w, y, x);
                    }
                }
            }
        }
    }
}

/// `cfg`'s augmentation with its own random stream, or `None` when `cfg.augment` is off. Each
/// stage (`stream`: a pretraining epoch, or fine-tuning) draws from its own stream of `seed`, so a
/// run resumed at an epoch boundary augments as the uninterrupted run did.
pub(crate) struct Augmenter {
    augment: Augment,
    shape: InputShape,
    rng: ChaCha8Rng,
}

impl Augmenter {
    pub(crate) fn new(cfg: &DeepClusterConfig, shape: InputShape, seed: u64, stream: u64) -> Option<Self> {
        cfg.augment.then(|| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xdec_da);
            rng.set_stream(stream);
            Augmenter {
                augment: Augment {
                    shift: cfg.augment_shift as f32,
                    degrees: cfg.augment_degrees as f32,
                },
                shape,
                rng,
            }
        })
    }

    /// Transforms the images of `batch` in place.
    pub(crate) fn apply(&mut self, batch: &mut [f32]) {
        self.augment.apply(batch, self.shape, &mut self.rng);
    }
}

/// Uniform in [−range, range] (0 when the range is 0, without drawing).
fn draw(rng: &mut impl Rng, range: f32) -> f32 {
    if range > 0.0 {
        rng.random_range(-range..=range)
    } else {
        0.0
    }
}

/// Where an output pixel reads from: rotation by θ about the image centre, then the shift.
struct Map {
    cos: f32,
    sin: f32,
    cy: f32,
    cx: f32,
    dy: f32,
    dx: f32,
}

impl Map {
    fn new(theta: f32, dy: f32, dx: f32, h: usize, w: usize) -> Self {
        Map {
            cos: theta.cos(),
            sin: theta.sin(),
            cy: (h as f32 - 1.0) / 2.0,
            cx: (w as f32 - 1.0) / 2.0,
            dy,
            dx,
        }
    }

    fn source(&self, r: usize, c: usize) -> (f32, f32) {
        let (y, x) = (r as f32 - self.cy, c as f32 - self.cx);
        (
            self.cos * y - self.sin * x + self.cy + self.dy,
            self.sin * y + self.cos * x + self.cx + self.dx,
        )
    }
}

/// `img` at the real position (y, x), bilinear, coordinates clamped to the image (nearest fill).
fn bilinear(img: &[f32], h: usize, w: usize, y: f32, x: f32) -> f32 {
    let y = y.clamp(0.0, (h - 1) as f32);
    let x = x.clamp(0.0, (w - 1) as f32);
    let (y0, x0) = (y.floor() as usize, x.floor() as usize);
    let (y1, x1) = ((y0 + 1).min(h - 1), (x0 + 1).min(w - 1));
    let (fy, fx) = (y - y0 as f32, x - x0 as f32);
    let at = |r: usize, c: usize| img[r * w + c];
    let top = at(y0, x0) * (1.0 - fx) + at(y0, x1) * fx;
    let bottom = at(y1, x0) * (1.0 - fx) + at(y1, x1) * fx;
    top * (1.0 - fy) + bottom * fy
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn shape(c: usize, h: usize, w: usize) -> InputShape {
        InputShape { c, h, w }
    }

    #[test]
    fn zero_ranges_leave_images_unchanged() {
        let mut x: Vec<f32> = (0..2 * 3 * 5 * 4).map(|i| i as f32 * 0.37).collect();
        let before = x.clone();
        let none = Augment {
            shift: 0.0,
            degrees: 0.0,
        };
        none.apply(&mut x, shape(3, 5, 4), &mut ChaCha8Rng::seed_from_u64(0));
        for (a, b) in x.iter().zip(&before) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
    }

    #[test]
    fn a_whole_pixel_shift_moves_the_image_and_repeats_the_edge() {
        // θ = 0, dy = 0, dx = 1: output column c reads input column c + 1; the last column repeats.
        let img: Vec<f32> = (0..12).map(|i| i as f32).collect();
        let map = Map::new(0.0, 0.0, 1.0, 3, 4);
        let out: Vec<f32> = (0..3)
            .flat_map(|r| (0..4).map(move |c| (r, c)))
            .map(|(r, c)| {
                let (y, x) = map.source(r, c);
                bilinear(&img, 3, 4, y, x)
            })
            .collect();
        assert_eq!(out, vec![1., 2., 3., 3., 5., 6., 7., 7., 9., 10., 11., 11.]);
    }

    #[test]
    fn a_quarter_turn_about_the_centre_rotates_a_square_image() {
        let img: Vec<f32> = (0..9).map(|i| i as f32).collect();
        let map = Map::new(std::f32::consts::FRAC_PI_2, 0.0, 0.0, 3, 3);
        let out: Vec<f32> = (0..9)
            .map(|i| {
                let (y, x) = map.source(i / 3, i % 3);
                bilinear(&img, 3, 3, y, x).round()
            })
            .collect();
        // Output (r, c) reads input (2 − c, r): the centre stays, the corners cycle.
        assert_eq!(out, vec![6., 3., 0., 7., 4., 1., 8., 5., 2.]);
    }

    #[test]
    fn draws_stay_in_range_change_images_and_follow_the_seed() {
        let aug = Augment {
            shift: 0.1,
            degrees: 10.0,
        };
        let base: Vec<f32> = (0..4 * 28 * 28).map(|i| ((i * 7919) % 255) as f32 / 255.0).collect();
        let run = |seed| {
            let mut x = base.clone();
            aug.apply(&mut x, shape(1, 28, 28), &mut ChaCha8Rng::seed_from_u64(seed));
            x
        };
        let (a, b, c) = (run(1), run(1), run(2));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, base);
        // Bilinear interpolation with edge fill never leaves the input's value range.
        assert!(a.iter().all(|v| (0.0..=1.0).contains(v)));
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..1000 {
            let d = draw(&mut rng, 10.0);
            assert!((-10.0..=10.0).contains(&d));
        }
    }
}
