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

/// Binary cross-entropy of probabilities `p` against the constant label `target` (0 or 1), with
/// the logarithms clamped at −100 as PyTorch's `nn.BCELoss` does.
pub fn bce(p: Tensor<1>, target: f32) -> Tensor<1> {
    let log_p = p.clone().log().clamp_min(-100.0);
    let log_1mp = p.neg().add_scalar(1.0).log().clamp_min(-100.0);
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
        // log(0) is clamped at -100, as nn.BCELoss: BCE(0, 1) = 100
        let z = Tensor::<1>::from_floats([0.0], &dev);
        assert!((scalar(bce(z, 1.0)) - 100.0).abs() < 1e-3);
        let real = Tensor::<1>::from_floats([0.8, 0.3], &dev);
        let fake = Tensor::<1>::from_floats([0.2, 0.7], &dev);
        // (0.7135581778 + BCE([0.2,0.7],0) = -(ln .8 + ln .3)/2 = 0.7135581778) / 2
        assert!((scalar(discriminator(real, fake)) - 0.713_558_2).abs() < 1e-5);
    }
}
