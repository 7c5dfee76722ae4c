//! The DCGAN encoder, decoder, generator and discriminator of GANomaly, layer for layer as in the
//! official code (samet-akcay/ganomaly, `lib/networks.py`): 4×4 convolutions without bias, batch
//! norm after every convolution but the first and the last, LeakyReLU(0.2) in encoders, ReLU in
//! the decoder, tanh on the generated image, sigmoid on the discriminator's output.

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor, TensorData};

use crate::nn::fast::{Activation, batch_norm_act, batch_norm_eval_act, conv_transpose2d, conv2d, conv2d_act};
use rand::Rng;

/// How batch-norm layers normalise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BnMode {
    /// Batch statistics, and the running statistics are updated (PyTorch `train()`): fitting.
    Train,
    /// Running statistics (PyTorch `eval()`).
    Running,
    /// Batch statistics of the batch at hand, running statistics untouched: the official code's
    /// scoring (it never calls `eval()`), minus the side effect on the running statistics.
    Batch,
}

/// Batch norm as PyTorch's `BatchNorm2d` (momentum 0.1, ε 1e-5), then `act` (fused on `flex`,
/// nn/fast). In [`BnMode::Train`] the running variance is updated with the unbiased batch variance,
/// as PyTorch does.
fn bn(layer: &BatchNorm, x: Tensor<4>, mode: BnMode, act: Activation) -> Tensor<4> {
    match mode {
        BnMode::Running => batch_norm_eval_act(
            x,
            layer.gamma.val(),
            layer.beta.val(),
            layer.running_mean.value_sync(),
            layer.running_var.value_sync(),
            layer.epsilon,
            act,
        ),
        BnMode::Batch => batch_norm_act(x, layer.gamma.val(), layer.beta.val(), layer.epsilon, act).output,
        BnMode::Train => {
            let [b, _, h, w] = x.dims();
            let n = (b * h * w) as f64;
            let out = batch_norm_act(x, layer.gamma.val(), layer.beta.val(), layer.epsilon, act);
            let m = layer.momentum;
            let unbiased = if n > 1.0 { n / (n - 1.0) } else { 1.0 };
            let mean = layer
                .running_mean
                .value_sync()
                .mul_scalar(1.0 - m)
                .add(out.mean.detach().mul_scalar(m));
            let var = layer
                .running_var
                .value_sync()
                .mul_scalar(1.0 - m)
                .add(out.variance.detach().mul_scalar(m * unbiased));
            layer.running_mean.update(mean.detach());
            layer.running_var.update(var.detach());
            out.output
        }
    }
}

const LEAKY: Activation = Activation::LeakyRelu(0.2);

fn conv(cin: usize, cout: usize, kernel: usize, stride: usize, pad: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([cin, cout], [kernel, kernel])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
        .with_bias(false)
        .init(device)
}

fn convt(cin: usize, cout: usize, stride: usize, pad: usize, device: &Device) -> ConvTranspose2d {
    ConvTranspose2dConfig::new([cin, cout], [4, 4])
        .with_stride([stride, stride])
        .with_padding([pad, pad])
        .with_bias(false)
        .init(device)
}

fn batchnorm(c: usize, device: &Device) -> BatchNorm {
    BatchNormConfig::new(c).init(device)
}

/// Folds the pending running-statistics update into the stored value. burn's `RunningState`
/// keeps the latest update per thread until the next read with `value_sync`; copying or saving a
/// module (`valid()`, records) reads the stored value, which would lag one batch behind.
fn sync_bn(bn: &BatchNorm) {
    bn.running_mean.value_sync();
    bn.running_var.value_sync();
}

/// A convolution followed by batch norm (the activation is applied by the owner).
#[derive(Module, Debug)]
pub struct ConvBn {
    pub conv: Conv2d,
    pub bn: BatchNorm,
}

/// A transposed convolution followed by batch norm.
#[derive(Module, Debug)]
pub struct ConvTBn {
    pub conv: ConvTranspose2d,
    pub bn: BatchNorm,
}

/// DCGAN encoder (`Encoder` in the official `networks.py`): `[b, nc, isize, isize]` → `[b, nz, 1, 1]`.
///
/// Conv 4×4/2 (nc → ndf) + LeakyReLU(0.2); `extra` × (Conv 3×3/1 + BN + LeakyReLU); then, while the
/// feature map is larger than 4×4, Conv 4×4/2 + BN + LeakyReLU doubling the channels; finally
/// Conv 4×4/1 without padding to `nz` channels of 1×1.
#[derive(Module, Debug)]
pub struct Encoder {
    pub initial: Conv2d,
    pub extra: Vec<ConvBn>,
    pub pyramid: Vec<ConvBn>,
    pub last: Conv2d,
}

impl Encoder {
    pub fn sync_running_stats(&self) {
        self.extra.iter().chain(&self.pyramid).for_each(|l| sync_bn(&l.bn));
    }

    pub fn new(isize: usize, nz: usize, nc: usize, ndf: usize, extralayers: usize, device: &Device) -> Self {
        let initial = conv(nc, ndf, 4, 2, 1, device);
        let extra = (0..extralayers)
            .map(|_| ConvBn {
                conv: conv(ndf, ndf, 3, 1, 1, device),
                bn: batchnorm(ndf, device),
            })
            .collect();
        let (mut csize, mut cndf) = (isize / 2, ndf);
        let mut pyramid = Vec::new();
        while csize > 4 {
            pyramid.push(ConvBn {
                conv: conv(cndf, cndf * 2, 4, 2, 1, device),
                bn: batchnorm(cndf * 2, device),
            });
            cndf *= 2;
            csize /= 2;
        }
        let last = conv(cndf, nz, 4, 1, 0, device);
        Encoder {
            initial,
            extra,
            pyramid,
            last,
        }
    }

    /// Activations before the last convolution: `[b, ndf · 2^k, 4, 4]`.
    pub fn features(&self, x: Tensor<4>, mode: BnMode) -> Tensor<4> {
        let mut x = conv2d_act(&self.initial, x, LEAKY);
        for l in self.extra.iter().chain(&self.pyramid) {
            x = bn(&l.bn, conv2d(&l.conv, x), mode, LEAKY);
        }
        x
    }

    /// Features followed by the last convolution.
    pub fn forward(&self, x: Tensor<4>, mode: BnMode) -> Tensor<4> {
        conv2d(&self.last, self.features(x, mode))
    }
}

/// DCGAN decoder (`Decoder` in the official `networks.py`): `[b, nz, 1, 1]` → `[b, nc, isize, isize]` in (−1, 1).
///
/// ConvT 4×4/1 (nz → ngf · isize/8) + BN + ReLU to 4×4; while the map is smaller than isize/2,
/// ConvT 4×4/2 + BN + ReLU halving the channels; `extra` × (Conv 3×3/1 + BN + ReLU); final
/// ConvT 4×4/2 to `nc` channels + tanh.
#[derive(Module, Debug)]
pub struct Decoder {
    pub initial: ConvTBn,
    pub pyramid: Vec<ConvTBn>,
    pub extra: Vec<ConvBn>,
    pub last: ConvTranspose2d,
}

impl Decoder {
    pub fn sync_running_stats(&self) {
        sync_bn(&self.initial.bn);
        self.pyramid.iter().for_each(|l| sync_bn(&l.bn));
        self.extra.iter().for_each(|l| sync_bn(&l.bn));
    }

    pub fn new(isize: usize, nz: usize, nc: usize, ngf: usize, extralayers: usize, device: &Device) -> Self {
        let (mut cngf, mut tisize) = (ngf / 2, 4);
        while tisize < isize {
            cngf *= 2;
            tisize *= 2;
        }
        let initial = ConvTBn {
            conv: convt(nz, cngf, 1, 0, device),
            bn: batchnorm(cngf, device),
        };
        let mut csize = 4;
        let mut pyramid = Vec::new();
        while csize < isize / 2 {
            pyramid.push(ConvTBn {
                conv: convt(cngf, cngf / 2, 2, 1, device),
                bn: batchnorm(cngf / 2, device),
            });
            cngf /= 2;
            csize *= 2;
        }
        let extra = (0..extralayers)
            .map(|_| ConvBn {
                conv: conv(cngf, cngf, 3, 1, 1, device),
                bn: batchnorm(cngf, device),
            })
            .collect();
        let last = convt(cngf, nc, 2, 1, device);
        Decoder {
            initial,
            pyramid,
            extra,
            last,
        }
    }

    pub fn forward(&self, z: Tensor<4>, mode: BnMode) -> Tensor<4> {
        let mut x = bn(
            &self.initial.bn,
            conv_transpose2d(&self.initial.conv, z),
            mode,
            Activation::Relu,
        );
        for l in &self.pyramid {
            x = bn(&l.bn, conv_transpose2d(&l.conv, x), mode, Activation::Relu);
        }
        for l in &self.extra {
            x = bn(&l.bn, conv2d(&l.conv, x), mode, Activation::Relu);
        }
        conv_transpose2d(&self.last, x).tanh()
    }
}

/// What the generator returns for a batch.
pub struct GenOutput {
    /// Reconstruction x̂ = G_D(G_E(x)), `[b, nc, isize, isize]`.
    pub fake: Tensor<4>,
    /// z = G_E(x), `[b, nz, 1, 1]`.
    pub latent_i: Tensor<4>,
    /// ẑ = E(x̂), `[b, nz, 1, 1]`.
    pub latent_o: Tensor<4>,
}

/// Values an encoder of this geometry stores (conv kernels, batch norm γ, β, running mean and
/// variance), counted without building it; `None` on overflow.
fn encoder_values(isize: usize, nz: usize, nc: usize, ndf: usize, extralayers: usize) -> Option<u128> {
    let (isize, nz, nc, ndf, extra) = (isize as u128, nz as u128, nc as u128, ndf as u128, extralayers as u128);
    let conv = |cin: u128, cout: u128, k: u128| cin.checked_mul(cout)?.checked_mul(k * k);
    let conv_bn = |cin: u128, cout: u128, k: u128| conv(cin, cout, k)?.checked_add(cout.checked_mul(4)?);
    let mut total = conv(nc, ndf, 4)?.checked_add(extra.checked_mul(conv_bn(ndf, ndf, 3)?)?)?;
    let (mut csize, mut cndf) = (isize / 2, ndf);
    while csize > 4 {
        total = total.checked_add(conv_bn(cndf, cndf.checked_mul(2)?, 4)?)?;
        cndf = cndf.checked_mul(2)?;
        csize /= 2;
    }
    total.checked_add(conv(cndf, nz, 4)?)
}

/// Values a decoder of this geometry stores, counted without building it; `None` on overflow.
fn decoder_values(isize: usize, nz: usize, nc: usize, ngf: usize, extralayers: usize) -> Option<u128> {
    let (isize, nz, nc, ngf, extra) = (isize as u128, nz as u128, nc as u128, ngf as u128, extralayers as u128);
    let conv = |cin: u128, cout: u128, k: u128| cin.checked_mul(cout)?.checked_mul(k * k);
    let conv_bn = |cin: u128, cout: u128, k: u128| conv(cin, cout, k)?.checked_add(cout.checked_mul(4)?);
    let (mut cngf, mut tisize) = (ngf / 2, 4u128);
    while tisize < isize {
        cngf = cngf.checked_mul(2)?;
        tisize *= 2;
    }
    let mut total = conv_bn(nz, cngf, 4)?;
    let mut csize = 4;
    while csize < isize / 2 {
        total = total.checked_add(conv_bn(cngf, cngf / 2, 4)?)?;
        cngf /= 2;
        csize *= 2;
    }
    total = total.checked_add(extra.checked_mul(conv_bn(cngf, cngf, 3)?)?)?;
    total.checked_add(conv(cngf, nc, 4)?)
}

/// Multiply-add FLOPs (2 per multiply-accumulate) of one image through an encoder of this
/// geometry ending in `nout` channels (`nz` for G's encoders, 1 for D); convolutions only.
pub(crate) fn encoder_flops(isize: usize, nc: usize, ndf: usize, extralayers: usize, nout: usize) -> f64 {
    let conv = |cin: usize, cout: usize, k: usize, out: usize| 2.0 * (cin * cout * k * k) as f64 * (out * out) as f64;
    let half = isize / 2;
    let mut flops = conv(nc, ndf, 4, half) + extralayers as f64 * conv(ndf, ndf, 3, half);
    let (mut csize, mut cndf) = (half, ndf);
    while csize > 4 {
        flops += conv(cndf, cndf * 2, 4, csize / 2);
        cndf *= 2;
        csize /= 2;
    }
    flops + conv(cndf, nout, 4, 1)
}

/// Multiply-add FLOPs of one latent vector through a decoder of this geometry (a transposed
/// convolution costs 2·cin·cout·k² per input pixel).
pub(crate) fn decoder_flops(isize: usize, nz: usize, nc: usize, ngf: usize, extralayers: usize) -> f64 {
    let convt = |cin: usize, cout: usize, input: usize| 2.0 * (cin * cout * 16) as f64 * (input * input) as f64;
    let (mut cngf, mut tisize) = (ngf / 2, 4);
    while tisize < isize {
        cngf *= 2;
        tisize *= 2;
    }
    let mut flops = convt(nz, cngf, 1);
    let mut csize = 4;
    while csize < isize / 2 {
        flops += convt(cngf, cngf / 2, csize);
        cngf /= 2;
        csize *= 2;
    }
    let half = (isize / 2) as f64;
    flops += extralayers as f64 * 2.0 * (cngf * cngf * 9) as f64 * half * half;
    flops + convt(cngf, nc, isize / 2)
}

/// The generator (`NetG`): encoder G_E → decoder G_D → encoder E.
#[derive(Module, Debug)]
pub struct NetG {
    pub encoder1: Encoder,
    pub decoder: Decoder,
    pub encoder2: Encoder,
}

impl NetG {
    /// Values a generator of this geometry stores (what its weights file holds), counted without
    /// building it; `None` when the count overflows.
    pub fn value_count(isize: usize, nz: usize, nc: usize, ngf: usize, extralayers: usize) -> Option<u128> {
        let enc = encoder_values(isize, nz, nc, ngf, extralayers)?;
        enc.checked_mul(2)?
            .checked_add(decoder_values(isize, nz, nc, ngf, extralayers)?)
    }

    /// See [`sync_bn`]: call before copying (`valid()`) or saving the module.
    pub fn sync_running_stats(&self) {
        self.encoder1.sync_running_stats();
        self.decoder.sync_running_stats();
        self.encoder2.sync_running_stats();
    }

    pub fn new(isize: usize, nz: usize, nc: usize, ngf: usize, extralayers: usize, device: &Device) -> Self {
        NetG {
            encoder1: Encoder::new(isize, nz, nc, ngf, extralayers, device),
            decoder: Decoder::new(isize, nz, nc, ngf, extralayers, device),
            encoder2: Encoder::new(isize, nz, nc, ngf, extralayers, device),
        }
    }

    pub fn forward(&self, x: Tensor<4>, mode: BnMode) -> GenOutput {
        let latent_i = self.encoder1.forward(x, mode);
        let fake = self.decoder.forward(latent_i.clone(), mode);
        let latent_o = self.encoder2.forward(fake.clone(), mode);
        GenOutput {
            fake,
            latent_i,
            latent_o,
        }
    }
}

/// The discriminator (`NetD`): an encoder whose last convolution has one output channel,
/// followed by a sigmoid. (The official code builds it with `ngf`; here it uses `ndf`, which is
/// the same number with the defaults.)
#[derive(Module, Debug)]
pub struct NetD {
    pub encoder: Encoder,
}

impl NetD {
    /// See [`sync_bn`].
    pub fn sync_running_stats(&self) {
        self.encoder.sync_running_stats();
    }

    pub fn new(isize: usize, nc: usize, ndf: usize, extralayers: usize, device: &Device) -> Self {
        NetD {
            encoder: Encoder::new(isize, 1, nc, ndf, extralayers, device),
        }
    }

    /// `(probability real [b], features [b, C, 4, 4])`.
    pub fn forward(&self, x: Tensor<4>, mode: BnMode) -> (Tensor<1>, Tensor<4>) {
        let features = self.encoder.features(x, mode);
        let logits = conv2d(&self.encoder.last, features.clone());
        let [b, _, _, _] = logits.dims();
        (sigmoid(logits).reshape([b]), features)
    }
}

/// Standard normal draw (Box–Muller) from a seeded generator.
fn normal(rng: &mut impl Rng, mean: f64, std: f64) -> f32 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    let u2: f64 = rng.random();
    (mean + std * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
}

fn fill<const D: usize>(p: Param<Tensor<D>>, rng: &mut impl Rng, mean: f64, std: f64) -> Param<Tensor<D>> {
    p.map(|old| {
        let shape = old.shape();
        let n = shape.num_elements();
        let values: Vec<f32> = (0..n).map(|_| normal(rng, mean, std)).collect();
        let device = old.device();
        let fresh = Tensor::<D>::from_data(TensorData::new(values, shape), &device);
        fresh.set_require_grad(old.is_require_grad())
    })
}

fn zero<const D: usize>(p: Param<Tensor<D>>) -> Param<Tensor<D>> {
    p.map(|old| {
        let req = old.is_require_grad();
        old.detach().zeros_like().set_require_grad(req)
    })
}

/// DCGAN initialisation (`weights_init` in the official `networks.py`), in place of burn's:
/// conv weights N(0, 0.02), batch-norm weights N(1, 0.02) and biases 0, drawn from `rng` in layer
/// order. Parameter ids are kept, so an optimiser's state stays attached (as in PyTorch, where
/// `netd.apply(weights_init)` rewrites the tensors the optimiser holds).
pub trait DcganInit: Sized {
    fn dcgan_init(self, rng: &mut impl Rng) -> Self;
}

impl DcganInit for Conv2d {
    fn dcgan_init(mut self, rng: &mut impl Rng) -> Self {
        self.weight = fill(self.weight, rng, 0.0, 0.02);
        self
    }
}

impl DcganInit for ConvTranspose2d {
    fn dcgan_init(mut self, rng: &mut impl Rng) -> Self {
        self.weight = fill(self.weight, rng, 0.0, 0.02);
        self
    }
}

impl DcganInit for BatchNorm {
    fn dcgan_init(mut self, rng: &mut impl Rng) -> Self {
        self.gamma = fill(self.gamma, rng, 1.0, 0.02);
        self.beta = zero(self.beta);
        self
    }
}

impl DcganInit for ConvBn {
    fn dcgan_init(self, rng: &mut impl Rng) -> Self {
        ConvBn {
            conv: self.conv.dcgan_init(rng),
            bn: self.bn.dcgan_init(rng),
        }
    }
}

impl DcganInit for ConvTBn {
    fn dcgan_init(self, rng: &mut impl Rng) -> Self {
        ConvTBn {
            conv: self.conv.dcgan_init(rng),
            bn: self.bn.dcgan_init(rng),
        }
    }
}

impl<T: DcganInit> DcganInit for Vec<T> {
    fn dcgan_init(self, rng: &mut impl Rng) -> Self {
        self.into_iter().map(|l| l.dcgan_init(rng)).collect()
    }
}

impl DcganInit for Encoder {
    fn dcgan_init(self, rng: &mut impl Rng) -> Self {
        Encoder {
            initial: self.initial.dcgan_init(rng),
            extra: self.extra.dcgan_init(rng),
            pyramid: self.pyramid.dcgan_init(rng),
            last: self.last.dcgan_init(rng),
        }
    }
}

impl DcganInit for Decoder {
    fn dcgan_init(self, rng: &mut impl Rng) -> Self {
        Decoder {
            initial: self.initial.dcgan_init(rng),
            pyramid: self.pyramid.dcgan_init(rng),
            extra: self.extra.dcgan_init(rng),
            last: self.last.dcgan_init(rng),
        }
    }
}

impl DcganInit for NetG {
    fn dcgan_init(self, rng: &mut impl Rng) -> Self {
        NetG {
            encoder1: self.encoder1.dcgan_init(rng),
            decoder: self.decoder.dcgan_init(rng),
            encoder2: self.encoder2.dcgan_init(rng),
        }
    }
}

impl DcganInit for NetD {
    fn dcgan_init(self, rng: &mut impl Rng) -> Self {
        NetD {
            encoder: self.encoder.dcgan_init(rng),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn dims<const D: usize>(t: &Tensor<D>) -> [usize; D] {
        t.dims()
    }

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    /// Every block's output shape, as the official networks give for isize 32 and 64
    /// (ngf = ndf = 64, nz = 100, nc = 1).
    #[test]
    fn block_shapes_for_isize_32_and_64() {
        let dev = Device::flex();
        for (isize, pyramid, top) in [(32usize, 2usize, 256usize), (64, 3, 512)] {
            let x = Tensor::<4>::zeros([2, 1, isize, isize], &dev);
            let enc = Encoder::new(isize, 100, 1, 64, 0, &dev);
            assert_eq!(enc.pyramid.len(), pyramid);
            assert_eq!(dims(&enc.initial.weight.val()), [64, 1, 4, 4]);
            assert_eq!(dims(&enc.last.weight.val()), [100, top, 4, 4]);
            assert_eq!(dims(&enc.features(x.clone(), BnMode::Batch)), [2, top, 4, 4]);
            assert_eq!(dims(&enc.forward(x.clone(), BnMode::Running)), [2, 100, 1, 1]);

            let dec = Decoder::new(isize, 100, 1, 64, 0, &dev);
            assert_eq!(dec.pyramid.len(), pyramid);
            assert_eq!(dims(&dec.initial.conv.weight.val()), [100, top, 4, 4]);
            assert_eq!(dims(&dec.last.weight.val()), [64, 1, 4, 4]);
            let z = Tensor::<4>::zeros([2, 100, 1, 1], &dev);
            let img = dec.forward(z, BnMode::Batch);
            assert_eq!(dims(&img), [2, 1, isize, isize]);
            assert!(values(img).iter().all(|v| v.abs() <= 1.0), "tanh output");

            let g = NetG::new(isize, 100, 1, 64, 0, &dev);
            let out = g.forward(x.clone(), BnMode::Running);
            assert_eq!(dims(&out.fake), [2, 1, isize, isize]);
            assert_eq!(dims(&out.latent_i), [2, 100, 1, 1]);
            assert_eq!(dims(&out.latent_o), [2, 100, 1, 1]);

            let d = NetD::new(isize, 1, 64, 0, &dev);
            assert_eq!(dims(&d.encoder.last.weight.val()), [1, top, 4, 4]);
            let (p, f) = d.forward(x, BnMode::Running);
            assert_eq!(dims(&p), [2]);
            assert_eq!(dims(&f), [2, top, 4, 4]);
            assert!(values(p).iter().all(|v| (0.0..=1.0).contains(v)), "sigmoid output");
        }
        // Extra layers keep the width and the map size; three channels pass through.
        let enc = Encoder::new(32, 10, 3, 8, 2, &dev);
        assert_eq!(enc.extra.len(), 2);
        let x = Tensor::<4>::zeros([2, 3, 32, 32], &dev);
        assert_eq!(dims(&enc.features(x, BnMode::Batch)), [2, 32, 4, 4]);
        let dec = Decoder::new(32, 10, 3, 8, 2, &dev);
        let z = Tensor::<4>::zeros([2, 10, 1, 1], &dev);
        assert_eq!(dims(&dec.forward(z, BnMode::Batch)), [2, 3, 32, 32]);
    }

    #[test]
    fn dcgan_init_statistics_and_seed() {
        let dev = Device::flex();
        let make = |seed| NetD::new(32, 1, 64, 0, &dev).dcgan_init(&mut ChaCha8Rng::seed_from_u64(seed));
        let d = make(3);
        let w = values(d.encoder.pyramid[1].conv.weight.val()); // 256 x 128 x 4 x 4
        let mean = w.iter().map(|&v| v as f64).sum::<f64>() / w.len() as f64;
        let sd = (w.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / w.len() as f64).sqrt();
        assert!(
            mean.abs() < 1e-3 && (sd - 0.02).abs() < 1e-3,
            "conv N(0, 0.02): {mean} {sd}"
        );
        let g = values(d.encoder.pyramid[1].bn.gamma.val());
        let gm = g.iter().map(|&v| v as f64).sum::<f64>() / g.len() as f64;
        assert!(
            (gm - 1.0).abs() < 0.01 && g.iter().any(|&v| v != 1.0),
            "BN weight N(1, 0.02): {gm}"
        );
        assert!(values(d.encoder.pyramid[1].bn.beta.val()).iter().all(|&v| v == 0.0));
        assert_eq!(w, values(make(3).encoder.pyramid[1].conv.weight.val()));
        assert_ne!(w, values(make(4).encoder.pyramid[1].conv.weight.val()));
        // Re-initialising keeps the parameter ids (the optimiser state stays attached).
        let id = d.encoder.last.weight.id;
        let d2 = d.dcgan_init(&mut ChaCha8Rng::seed_from_u64(5));
        assert_eq!(d2.encoder.last.weight.id, id);
    }

    #[test]
    fn batch_norm_modes() {
        let dev = Device::flex();
        let layer = batchnorm(1, &dev);
        let x = Tensor::<1>::from_floats([1.0, 3.0, 5.0, 7.0], &dev).reshape([4, 1, 1, 1]);
        // Running stats start at mean 0, var 1: the input passes through (up to ε).
        let r = values(bn(&layer, x.clone(), BnMode::Running, Activation::Identity));
        assert!((r[3] - 7.0 / (1.0f32 + 1e-5).sqrt()).abs() < 1e-4);
        // Batch stats: mean 4, biased var 5.
        let b = values(bn(&layer, x.clone(), BnMode::Batch, Activation::Identity));
        assert!((b[0] - (-3.0 / (5.0f32 + 1e-5).sqrt())).abs() < 1e-4);
        assert_eq!(
            values(layer.running_mean.value_sync()),
            vec![0.0],
            "Batch leaves running stats alone"
        );
        // Train: running mean 0.9·0 + 0.1·4, running var 0.9·1 + 0.1·(unbiased 20/3), as PyTorch.
        let _ = bn(&layer, x, BnMode::Train, Activation::Identity);
        assert!((values(layer.running_mean.value_sync())[0] - 0.4).abs() < 1e-6);
        assert!((values(layer.running_var.value_sync())[0] - (0.9 + 0.1 * 20.0 / 3.0)).abs() < 1e-5);
    }
}
