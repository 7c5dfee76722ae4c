//! GANomaly's losses, as in the official `lib/model.py` and `lib/loss.py`: every norm is a mean
//! over all elements (PyTorch's default reduction).

use burn::tensor::Tensor;

/// Mean squared difference (the official `l2_loss`).
pub fn mse<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> Tensor<1> {
    (a - b).square().mean()
}

/// Adversarial loss L_adv: feature matching, mean (f(x) − f(G(x)))² over D's features.
pub fn adversarial(feat_real: Tensor<4>, feat_fake: Tensor<4>) -> Tensor<1> {
    mse(feat_real, feat_fake)
}

/// Contextual loss L_con: mean |x − G(x)| (`nn.L1Loss`).
pub fn contextual(x: Tensor<4>, fake: Tensor<4>) -> Tensor<1> {
    (x - fake).abs().mean()
}

/// Encoder loss L_enc: mean (G_E(x) − E(G(x)))².
pub fn encoder(latent_i: Tensor<4>, latent_o: Tensor<4>) -> Tensor<1> {
    mse(latent_i, latent_o)
}

/// Smallest probability the logarithms see: log(1e-30) ≈ −69.
pub const BCE_MIN_PROB: f32 = 1e-30;

/// Binary cross-entropy of probabilities `p` against the constant label `target` (0 or 1).
///
/// PyTorch's `nn.BCELoss` clamps each logarithm at −100 and its hand-written backward keeps the
/// gradient finite when p is exactly 0 or 1 (a saturated sigmoid). Clamping the log here would
/// not: the backward of log divides by p = 0 and gives NaN. So the probabilities are clamped at
/// [`BCE_MIN_PROB`] before the logarithm (e^−100 is below f32's normal range): identical values
/// for p ≥ 1e-30, at most 69 instead of 100 per saturated element, and a zero gradient there,
/// as in PyTorch (where the sigmoid's derivative is 0).
pub fn bce(p: Tensor<1>, target: f32) -> Tensor<1> {
    let log_p = p.clone().clamp_min(BCE_MIN_PROB).log();
    let log_1mp = p.neg().add_scalar(1.0).clamp_min(BCE_MIN_PROB).log();
    (log_p.mul_scalar(target) + log_1mp.mul_scalar(1.0 - target))
        .mean()
        .neg()
}

/// Discriminator loss: (BCE(D(x), 1) + BCE(D(G(x)), 0)) / 2, the fake detached by the caller.
pub fn discriminator(pred_real: Tensor<1>, pred_fake: Tensor<1>) -> Tensor<1> {
    (bce(pred_real, 1.0) + bce(pred_fake, 0.0)).mul_scalar(0.5)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    fn t4(v: [f32; 4], dev: &Device) -> Tensor<4> {
        Tensor::<1>::from_floats(v, dev).reshape([1, 1, 2, 2])
    }

    fn scalar(t: Tensor<1>) -> f32 {
        t.into_data().try_to_vec::<f32>().unwrap()[0]
    }

    #[test]
    fn losses_on_hand_checked_values() {
        let dev = Device::flex();
        let a = t4([1.0, 2.0, 3.0, 4.0], &dev);
        let b = t4([1.5, 2.0, 1.0, 5.0], &dev);
        // squared diffs 0.25, 0, 4, 1 -> mean 1.3125; abs diffs 0.5, 0, 2, 1 -> mean 0.875
        assert!((scalar(adversarial(a.clone(), b.clone())) - 1.3125).abs() < 1e-6);
        assert!((scalar(encoder(a.clone(), b.clone())) - 1.3125).abs() < 1e-6);
        assert!((scalar(contextual(a, b)) - 0.875).abs() < 1e-6);
    }

    #[test]
    fn bce_matches_pytorch() {
        let dev = Device::flex();
        let p = Tensor::<1>::from_floats([0.8, 0.3], &dev);
        // -(ln 0.8 + ln 0.3) / 2 = 0.7135581778
        assert!((scalar(bce(p.clone(), 1.0)) - 0.713_558_2).abs() < 1e-5);
        // -(ln 0.2 + ln 0.7) / 2 = 0.9830564281
        assert!((scalar(bce(p, 0.0)) - 0.983_056_4).abs() < 1e-5);
        // p = 0 is clamped at 1e-30: BCE(0, 1) = -ln 1e-30 = 69.08 (nn.BCELoss: 100, see bce's docs)
        let z = Tensor::<1>::from_floats([0.0], &dev);
        assert!((scalar(bce(z, 1.0)) - 69.077_55).abs() < 1e-3);
        let real = Tensor::<1>::from_floats([0.8, 0.3], &dev);
        let fake = Tensor::<1>::from_floats([0.2, 0.7], &dev);
        // (0.7135581778 + BCE([0.2,0.7],0) = -(ln .8 + ln .3)/2 = 0.7135581778) / 2
        assert!((scalar(discriminator(real, fake)) - 0.713_558_2).abs() < 1e-5);
    }

    #[test]
    fn bce_gradient_is_finite_for_saturated_probabilities() {
        // A saturated sigmoid gives exactly 0 or 1 in f32; the clamp on the log made this NaN.
        let dev = Device::flex().autodiff();
        let p = Tensor::<1>::from_floats([0.0, 1.0, 0.5], &dev).require_grad();
        for target in [0.0, 1.0] {
            let grads = bce(p.clone(), target).backward();
            let g = p.grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap();
            assert!(g.iter().all(|v| v.is_finite()), "target {target}: {g:?}");
            // d/dp of -mean(t ln p + (1-t) ln(1-p)) at p = 0.5 over 3 elements: ±2/3
            let expect = if target == 1.0 { -2.0 / 3.0 } else { 2.0 / 3.0 };
            assert!((g[2] - expect).abs() < 1e-5, "{g:?}");
        }
    }
}
