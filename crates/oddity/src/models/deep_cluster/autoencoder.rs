//! The two autoencoders: DCEC's convolutional one and DEC/IDEC's fully connected one. Both take
//! and return flat rows `[b, dim]`, so batching, losses and scoring do not depend on the arch.
//!
//! Conv (XifengGuo/DCEC `ConvAE.py`): Conv k×k/2 + ReLU per filter, 'same' padding except the last
//! layer, which is 'valid' unless the side is divisible by 2^layers (DCEC: `pad3 = 'same' if
//! input_shape[0] % 8 == 0 else 'valid'`); flatten; Dense → embedding (linear). Decoder: Dense +
//! ReLU back to the last feature map; transposed convs mirroring the encoder (ReLU, the last one
//! linear to the input channels), each with the output padding that restores the encoder's input
//! size exactly (28 → 14 → 7 → 3 → 7 → 14 → 28 for MNIST).
//!
//! MLP (DEC §4.3, IDEC `autoencoder(dims)`): d → hidden… → embedding (linear) → reversed hidden… →
//! d (linear), ReLU on every hidden layer.
//!
//! Initialisation: Keras' defaults, which the official code uses: Glorot-uniform weights
//! (U(±√(6 / (fan_in + fan_out)))) and zero biases, drawn from the fit's seeded generator (burn's
//! own initialisers draw from a process-wide generator).

use burn::module::{Module, ModuleMapper, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::config::{Arch, DeepClusterConfig};
use crate::data::Layout;
use crate::error::{Error, Result};
use crate::nn::fast::{Activation, conv_transpose2d_act, conv2d_act};

/// The shape the network was built for (recorded in the weights file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputShape {
    pub c: usize,
    pub h: usize,
    pub w: usize,
}

impl InputShape {
    pub fn dim(&self) -> usize {
        self.c * self.h * self.w
    }

    /// `self` if every side is at least 1 and a sample has at most 2³¹ values (a sane shape to
    /// build a network for), else `None`.
    pub fn checked(self) -> Option<Self> {
        let dim = self.c.checked_mul(self.h)?.checked_mul(self.w)?;
        (self.c > 0 && self.h > 0 && self.w > 0 && dim <= 1 << 31).then_some(self)
    }

    /// Tabular data of `d` features is `1 × 1 × d`.
    pub fn of(layout: Layout) -> Self {
        match layout {
            Layout::Tabular { d } => InputShape { c: 1, h: 1, w: d },
            Layout::Images { c, h, w } => InputShape { c, h, w },
        }
    }
}

/// One encoder conv layer's geometry.
#[derive(Debug, Clone, Copy)]
struct Step {
    k: usize,
    pad: usize,
    cin: usize,
    cout: usize,
    /// Input and output sides (h, w).
    size_in: (usize, usize),
    size_out: (usize, usize),
}

fn conv_out(side: usize, k: usize, pad: usize) -> Option<usize> {
    (side + 2 * pad).checked_sub(k).map(|v| v / 2 + 1)
}

/// The encoder's layer geometry for `input`, or a shape error when the image is too small.
fn conv_steps(cfg: &DeepClusterConfig, input: InputShape) -> Result<Vec<Step>> {
    let layers = cfg.conv_filters.len();
    let div = 1usize << layers.min(20);
    let last_same = input.h.is_multiple_of(div) && input.w.is_multiple_of(div);
    let mut steps = Vec::with_capacity(layers);
    let (mut h, mut w, mut cin) = (input.h, input.w, input.c);
    for (l, (&cout, &k)) in cfg.conv_filters.iter().zip(&cfg.conv_kernels).enumerate() {
        let pad = if l + 1 < layers || last_same { (k - 1) / 2 } else { 0 };
        let (Some(ho), Some(wo)) = (conv_out(h, k, pad), conv_out(w, k, pad)) else {
            return Err(Error::shape(
                format!(
                    "deep-cluster: image size for {layers} stride-2 conv layers with kernels {:?}",
                    cfg.conv_kernels
                ),
                "larger images",
                format!(
                    "{}x{} (layer {} gets {h}x{w}); use arch=mlp or larger images",
                    input.h,
                    input.w,
                    l + 1
                ),
            ));
        };
        steps.push(Step {
            k,
            pad,
            cin,
            cout,
            size_in: (h, w),
            size_out: (ho, wo),
        });
        (h, w, cin) = (ho, wo, cout);
    }
    Ok(steps)
}

/// Multiply-add FLOPs of one image through the convolutional autoencoder (encoder convolutions,
/// the two dense layers, the mirrored transposed convolutions; activations not counted).
pub fn conv_ae_flops(cfg: &DeepClusterConfig, input: InputShape) -> Result<f64> {
    let steps = conv_steps(cfg, input)?;
    let conv: f64 = steps
        .iter()
        .map(|s| 2.0 * (s.cin * s.cout * s.k * s.k) as f64 * (s.size_out.0 * s.size_out.1) as f64)
        .sum();
    let last = steps[steps.len() - 1];
    let flat = (last.cout * last.size_out.0 * last.size_out.1) as f64;
    Ok(2.0 * conv + 2.0 * (2.0 * flat * cfg.embedding as f64))
}

/// DCEC's convolutional autoencoder.
#[derive(Module, Debug)]
pub struct ConvAe {
    pub encoder: Vec<Conv2d>,
    pub embed: Linear,
    pub unembed: Linear,
    pub decoder: Vec<ConvTranspose2d>,
    #[module(skip)]
    input: [usize; 3],
    #[module(skip)]
    top: [usize; 3],
}

impl ConvAe {
    fn new(cfg: &DeepClusterConfig, input: InputShape, device: &Device) -> Result<Self> {
        let steps = conv_steps(cfg, input)?;
        let encoder = steps
            .iter()
            .map(|s| {
                Conv2dConfig::new([s.cin, s.cout], [s.k, s.k])
                    .with_stride([2, 2])
                    .with_padding(PaddingConfig2d::Explicit(s.pad, s.pad, s.pad, s.pad))
                    .init(device)
            })
            .collect();
        let last = steps[steps.len() - 1];
        let top = [last.cout, last.size_out.0, last.size_out.1];
        let flat = top[0] * top[1] * top[2];
        let mut decoder = Vec::with_capacity(steps.len());
        for s in steps.iter().rev() {
            // (in − 1)·2 − 2·pad + k + out_pad = original side
            let out_pad = |small: usize, big: usize| -> Result<usize> {
                let base = (small - 1) * 2 + s.k;
                (big + 2 * s.pad).checked_sub(base).filter(|&p| p < 2).ok_or_else(|| {
                    Error::shape(
                        format!("deep-cluster: the decoder's mirror of a {}x{} conv layer", s.k, s.k),
                        format!("side {big}"),
                        format!("no output padding that gives it from side {small}"),
                    )
                })
            };
            let ph = out_pad(s.size_out.0, s.size_in.0)?;
            let pw = out_pad(s.size_out.1, s.size_in.1)?;
            decoder.push(
                ConvTranspose2dConfig::new([s.cout, s.cin], [s.k, s.k])
                    .with_stride([2, 2])
                    .with_padding([s.pad, s.pad])
                    .with_padding_out([ph, pw])
                    .init(device),
            );
        }
        Ok(ConvAe {
            encoder,
            embed: LinearConfig::new(flat, cfg.embedding).init(device),
            unembed: LinearConfig::new(cfg.embedding, flat).init(device),
            decoder,
            input: [input.c, input.h, input.w],
            top,
        })
    }

    fn encode(&self, x: Tensor<2>) -> Tensor<2> {
        let [b, _] = x.dims();
        let [c, h, w] = self.input;
        let mut x: Tensor<4> = x.reshape([b, c, h, w]);
        for conv in &self.encoder {
            x = conv2d_act(conv, x, Activation::Relu);
        }
        self.embed
            .forward(x.reshape([b, self.top[0] * self.top[1] * self.top[2]]))
    }

    fn decode(&self, z: Tensor<2>) -> Tensor<2> {
        let [b, _] = z.dims();
        let [tc, th, tw] = self.top;
        let mut x: Tensor<4> = relu(self.unembed.forward(z)).reshape([b, tc, th, tw]);
        let last = self.decoder.len() - 1;
        for (i, conv) in self.decoder.iter().enumerate() {
            let act = if i < last {
                Activation::Relu
            } else {
                Activation::Identity
            };
            x = conv_transpose2d_act(conv, x, act);
        }
        let [c, h, w] = self.input;
        x.reshape([b, c * h * w])
    }
}

/// DEC / IDEC's fully connected autoencoder.
#[derive(Module, Debug)]
pub struct MlpAe {
    pub encoder: Vec<Linear>,
    pub decoder: Vec<Linear>,
}

impl MlpAe {
    fn new(cfg: &DeepClusterConfig, input: InputShape, device: &Device) -> Self {
        let mut dims = vec![input.dim()];
        dims.extend(&cfg.mlp_hidden);
        dims.push(cfg.embedding);
        let encoder = dims
            .windows(2)
            .map(|p| LinearConfig::new(p[0], p[1]).init(device))
            .collect();
        let decoder = dims
            .windows(2)
            .rev()
            .map(|p| LinearConfig::new(p[1], p[0]).init(device))
            .collect();
        MlpAe { encoder, decoder }
    }

    fn run(layers: &[Linear], mut x: Tensor<2>) -> Tensor<2> {
        let last = layers.len() - 1;
        for (i, l) in layers.iter().enumerate() {
            x = l.forward(x);
            if i < last {
                x = relu(x);
            }
        }
        x
    }
}

/// Either autoencoder (exactly one field is `Some`).
#[derive(Module, Debug)]
pub struct Autoencoder {
    pub conv: Option<ConvAe>,
    pub mlp: Option<MlpAe>,
}

impl Autoencoder {
    /// Builds the autoencoder of `cfg.arch` for inputs of `input`'s shape, initialised from `rng`
    /// (see the module docs).
    pub fn init(cfg: &DeepClusterConfig, input: InputShape, device: &Device, rng: &mut impl Rng) -> Result<Self> {
        Ok(Self::new(cfg, input, device)?.map(&mut GlorotUniform { rng }))
    }

    /// Builds the autoencoder of `cfg.arch` for inputs of `input`'s shape (burn's initial weights:
    /// a skeleton to load weights into).
    pub fn new(cfg: &DeepClusterConfig, input: InputShape, device: &Device) -> Result<Self> {
        Ok(match cfg.arch {
            Arch::Conv => Autoencoder {
                conv: Some(ConvAe::new(cfg, input, device)?),
                mlp: None,
            },
            Arch::Mlp => Autoencoder {
                conv: None,
                mlp: Some(MlpAe::new(cfg, input, device)),
            },
        })
    }

    /// Values the autoencoder of `cfg.arch` for `input` stores (weights and biases), counted
    /// without building it; `Ok(None)` when the count overflows.
    pub fn value_count(cfg: &DeepClusterConfig, input: InputShape) -> Result<Option<u128>> {
        let dense = |a: usize, b: usize| (a as u128).checked_mul(b as u128)?.checked_add(b as u128);
        let mirrored = |a: usize, b: usize| dense(a, b)?.checked_add(dense(b, a)?);
        Ok(match cfg.arch {
            Arch::Mlp => {
                let mut dims = vec![input.dim()];
                dims.extend(&cfg.mlp_hidden);
                dims.push(cfg.embedding);
                dims.windows(2)
                    .try_fold(0u128, |acc, p| acc.checked_add(mirrored(p[0], p[1])?))
            }
            Arch::Conv => {
                let steps = conv_steps(cfg, input)?;
                let convs = steps.iter().try_fold(0u128, |acc, s| {
                    let kernel = (s.cin as u128)
                        .checked_mul(s.cout as u128)?
                        .checked_mul((s.k * s.k) as u128)?;
                    // encoder conv (bias cout) + mirrored transposed conv (bias cin)
                    acc.checked_add(kernel.checked_mul(2)?)?
                        .checked_add((s.cin + s.cout) as u128)
                });
                let last = steps[steps.len() - 1];
                let flat = (last.cout as u128)
                    .checked_mul(last.size_out.0 as u128)
                    .and_then(|v| v.checked_mul(last.size_out.1 as u128))
                    .and_then(|v| usize::try_from(v).ok());
                match (convs, flat) {
                    (Some(c), Some(flat)) => mirrored(flat, cfg.embedding).and_then(|d| d.checked_add(c)),
                    _ => None,
                }
            }
        })
    }

    /// Embeddings `[b, embedding]` of flat inputs `[b, dim]`.
    pub fn encode(&self, x: Tensor<2>) -> Tensor<2> {
        match (&self.conv, &self.mlp) {
            (Some(c), _) => c.encode(x),
            (None, Some(m)) => MlpAe::run(&m.encoder, x),
            (None, None) => x,
        }
    }

    /// Reconstructions `[b, dim]` of embeddings.
    pub fn decode(&self, z: Tensor<2>) -> Tensor<2> {
        match (&self.conv, &self.mlp) {
            (Some(c), _) => c.decode(z),
            (None, Some(m)) => MlpAe::run(&m.decoder, z),
            (None, None) => z,
        }
    }
}

/// Re-draws every float parameter: Glorot-uniform for weights (2-D: fan_in + fan_out = the two
/// dims; 4-D conv kernels: (dim0 + dim1) · kh · kw, which is the same sum for Conv2d and
/// ConvTranspose2d), zeros for biases (1-D).
struct GlorotUniform<'a, R: Rng> {
    rng: &'a mut R,
}

impl<R: Rng> ModuleMapper for GlorotUniform<'_, R> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let rng = &mut *self.rng;
        param.map(|old| {
            let shape = old.shape();
            let dims: [usize; D] = old.dims();
            let n = shape.num_elements();
            let fans = match D {
                2 => Some((dims[0] + dims[1]) as f64),
                4 => Some(((dims[0] + dims[1]) * dims[2] * dims[3]) as f64),
                _ => None,
            };
            let values: Vec<f32> = match fans {
                Some(f) => {
                    let limit = (6.0 / f).sqrt();
                    (0..n).map(|_| rng.random_range(-limit..limit) as f32).collect()
                }
                None => vec![0.0; n],
            };
            let device = old.device();
            let req = old.is_require_grad();
            Tensor::<D>::from_data(TensorData::new(values, shape), &device).set_require_grad(req)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dims<const D: usize>(t: &Tensor<D>) -> [usize; D] {
        t.dims()
    }

    #[test]
    fn conv_shapes_mirror_dcec() {
        let dev = Device::flex();
        let cfg = DeepClusterConfig::default();
        // MNIST: 28 -> 14 -> 7 -> 3 ('valid' last layer), back to 28.
        let steps = conv_steps(&cfg, InputShape { c: 1, h: 28, w: 28 }).unwrap();
        let sides: Vec<usize> = steps.iter().map(|s| s.size_out.0).collect();
        assert_eq!(sides, vec![14, 7, 3]);
        // 32x32 (divisible by 8): 'same' everywhere, 16 -> 8 -> 4.
        let steps = conv_steps(&cfg, InputShape { c: 1, h: 32, w: 32 }).unwrap();
        assert_eq!(steps.iter().map(|s| s.size_out.0).collect::<Vec<_>>(), vec![16, 8, 4]);
        for (c, h, w) in [(1, 28, 28), (1, 32, 32), (3, 20, 36)] {
            let ae = Autoencoder::new(&cfg, InputShape { c, h, w }, &dev).unwrap();
            let x = Tensor::<2>::zeros([2, c * h * w], &dev);
            let z = ae.encode(x);
            assert_eq!(dims(&z), [2, 10]);
            assert_eq!(dims(&ae.decode(z)), [2, c * h * w], "{c}x{h}x{w}");
        }
        assert!(matches!(
            Autoencoder::new(&cfg, InputShape { c: 1, h: 4, w: 4 }, &dev),
            Err(Error::Shape { .. })
        ));
    }

    #[test]
    fn mlp_shapes() {
        let dev = Device::flex();
        let cfg = DeepClusterConfig {
            arch: Arch::Mlp,
            mlp_hidden: vec![8, 6],
            embedding: 3,
            ..DeepClusterConfig::default()
        };
        let ae = Autoencoder::new(&cfg, InputShape { c: 1, h: 1, w: 5 }, &dev).unwrap();
        let z = ae.encode(Tensor::<2>::zeros([4, 5], &dev));
        assert_eq!(dims(&z), [4, 3]);
        assert_eq!(dims(&ae.decode(z)), [4, 5]);
        let m = ae.mlp.as_ref().unwrap();
        assert_eq!(m.encoder.len(), 3);
        assert_eq!(m.decoder.len(), 3);
    }
}
