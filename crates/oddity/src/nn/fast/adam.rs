//! Adam as one parallel pass per parameter on `flex` tensors.
//!
//! burn's Adam updates a parameter with ~12 tensor operations, each a full pass over it that allocates
//! its result, all on the calling thread while the other cores wait: ~6 % of a GANomaly training
//! step's wall time on 2 cores (perf, 2026-12-05). [`adam`] builds an optimiser with the same state
//! type and the same arithmetic, in the same order (so the same values, bit for bit), done in one pass
//! over the parameter, its gradient and both moments, in place and on all threads. Any other tensor (a
//! GPU backend, a non-contiguous parameter, the fast kernels switched off) goes through burn's Adam.

use burn::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamConfig, AdamState, AdaptiveMomentumState, LearningRate, ModuleOptimizer, Optimizer};
use burn::tensor::{DType, Device, Tensor};
use burn_flex::FlexTensor;
use rayon::prelude::*;

use super::autodiff::{tensor, values};
use super::{Routed, fast_kernels, restore, route, unroute};

/// Adam with moment decays `beta_1`, `beta_2` and `epsilon` (no weight decay, no AMSGrad), gradients
/// clipped by `clipping` first when given: burn's `AdamConfig` with these settings, run as one fused
/// pass per parameter on the CPU.
pub fn adam(beta_1: f32, beta_2: f32, epsilon: f32, clipping: Option<GradientClippingConfig>) -> ModuleOptimizer {
    let burn = AdamConfig::new()
        .with_beta_1(beta_1)
        .with_beta_2(beta_2)
        .with_epsilon(epsilon)
        .build();
    let optim = ModuleOptimizer::from(FusedAdam {
        beta_1,
        beta_2,
        epsilon,
        burn,
    });
    match clipping {
        Some(c) => optim.with_grad_clipping(c.init()),
        None => optim,
    }
}

#[derive(Clone)]
struct FusedAdam {
    beta_1: f32,
    beta_2: f32,
    epsilon: f32,
    /// The same optimiser in burn's operations, for tensors the fused pass does not take.
    burn: burn::optim::Adam,
}

/// Elements per parallel task (a GANomaly step updates parameters of up to ~2 M values).
const BLOCK: usize = 1 << 14;

impl Optimizer for FusedAdam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        if !fast_kernels() {
            return self.burn.step(lr, tensor, grad, state);
        }
        let param = match route(tensor) {
            Ok(Routed::Plain(p)) if in_place(&p) => p,
            other => return self.burn.step(lr, restore(other), grad, state),
        };
        let grad = match route(grad) {
            Ok(Routed::Plain(g)) if g.dtype() == DType::F32 && g.layout().shape() == param.layout().shape() => g,
            other => return self.burn.step(lr, unroute(Routed::Plain(param)), restore(other), state),
        };
        let moments = match state {
            None => None,
            Some(AdamState { momentum: s }) => match (route(s.moment_1), route(s.moment_2)) {
                (Ok(Routed::Plain(m)), Ok(Routed::Plain(v)))
                    if in_place(&m) && in_place(&v) && s.max_moment_2.is_none() =>
                {
                    Some((s.time, m, v))
                }
                (m, v) => {
                    let mut back = AdaptiveMomentumState::new(s.time, restore(m), restore(v));
                    back.max_moment_2 = s.max_moment_2;
                    let state = Some(AdamState::new(back));
                    let (p, g) = (unroute(Routed::Plain(param)), unroute(Routed::Plain(grad)));
                    return self.burn.step(lr, p, g, state);
                }
            },
        };
        super::count_fast_call();
        let (param, time, m, v) = self.fused(lr, param, &grad, moments);
        let momentum = AdaptiveMomentumState::new(time, unroute(Routed::Plain(m)), unroute(Routed::Plain(v)));
        (unroute(Routed::Plain(param)), Some(AdamState::new(momentum)))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        burn::optim::Adam::to_device(state, device)
    }
}

/// An f32 tensor whose storage is exactly its row-major values (updated in place).
fn in_place(t: &FlexTensor) -> bool {
    t.dtype() == DType::F32 && t.as_slice::<f32>().is_some_and(|s| s.len() == t.storage::<f32>().len())
}

impl FusedAdam {
    /// One Adam step on `param` (moments `(time, m, v)` from the previous steps, if any): burn's
    /// `AdaptiveMomentum::transform` and `Adam::step`, operation for operation.
    fn fused(
        &self,
        lr: LearningRate,
        mut param: FlexTensor,
        grad: &FlexTensor,
        moments: Option<(usize, FlexTensor, FlexTensor)>,
    ) -> (FlexTensor, usize, FlexTensor, FlexTensor) {
        let g = values(grad);
        let shape: Vec<usize> = param.layout().shape().to_vec();
        let (b1, b2) = (self.beta_1, self.beta_2);
        let (f1, f2) = (1.0 - b1, 1.0 - b2);
        let (time, mut m, mut v, first) = match moments {
            Some((t, m, v)) => (t + 1, m, v, false),
            None => {
                let n = g.len();
                (1, tensor(vec![0.0; n], &shape), tensor(vec![0.0; n], &shape), true)
            }
        };
        let t = time as i32;
        let bc2 = (1.0 - b2.powi(t)).sqrt();
        let combined = bc2 / (1.0 - b1.powi(t));
        let eps = self.epsilon * bc2;
        let lr = lr as f32;
        let update = |p: &mut f32, m: &mut f32, v: &mut f32, g: f32| {
            if first {
                *m = g * f1;
                *v = (g * g) * f2;
            } else {
                *m = *m * b1 + g * f1;
                *v = *v * b2 + (g * g) * f2;
            }
            *p -= ((*m * combined) / (v.sqrt() + eps)) * lr;
        };
        let (ps, ms, vs) = (
            param.storage_mut::<f32>(),
            m.storage_mut::<f32>(),
            v.storage_mut::<f32>(),
        );
        ps.par_chunks_mut(BLOCK)
            .zip(ms.par_chunks_mut(BLOCK))
            .zip(vs.par_chunks_mut(BLOCK))
            .zip(g.par_chunks(BLOCK))
            .for_each(|(((p, m), v), g)| {
                for (((p, m), v), g) in p.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(g) {
                    update(p, m, v, *g);
                }
            });
        (param, time, m, v)
    }
}

#[cfg(test)]
mod tests {
    use burn::nn::{Linear, LinearConfig};
    use burn::tensor::{Device, Tensor, TensorData};

    use super::*;
    use crate::nn::fast::{fast_calls, set_fast_kernels};

    fn seeded(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                ((s >> 33) as f32 / (1u64 << 31) as f32) - 0.5
            })
            .collect()
    }

    /// Weights of a 300→200 linear layer (60 k values: several parallel blocks) after `steps` Adam
    /// steps on a seeded regression, with `optim`; and how many parameter updates took the fused pass.
    fn train(mut optim: ModuleOptimizer, steps: usize) -> (Vec<f32>, usize) {
        let dev = Device::flex().autodiff();
        let mut layer: Linear = LinearConfig::new(300, 200).init(&dev);
        // Same starting weights for every run (burn's init draws from its own RNG).
        let w = Tensor::<2>::from_data(TensorData::new(seeded(300 * 200, 1), [300, 200]), &dev);
        let b = Tensor::<1>::from_data(TensorData::new(seeded(200, 2), [200]), &dev);
        layer.weight = layer.weight.map(|_| w.require_grad());
        layer.bias = layer.bias.map(|p| p.map(|_| b.require_grad()));
        let calls = fast_calls();
        for step in 0..steps {
            let x = Tensor::<2>::from_data(TensorData::new(seeded(16 * 300, 10 + step as u64), [16, 300]), &dev);
            let loss = layer.forward(x).square().mean();
            let grads = crate::nn::gradients(loss.backward(), &layer);
            layer = optim.step(1e-2, layer, grads);
        }
        let w = layer
            .weight
            .val()
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap_or_default();
        (w, fast_calls() - calls)
    }

    fn burns(clip: Option<GradientClippingConfig>) -> ModuleOptimizer {
        let mut c = AdamConfig::new().with_beta_1(0.5).with_beta_2(0.999).with_epsilon(1e-8);
        if let Some(clip) = clip {
            c = c.with_grad_clipping(Some(clip));
        }
        c.init()
    }

    #[test]
    fn the_fused_pass_gives_burns_adam_bit_for_bit() {
        for clip in [None, Some(GradientClippingConfig::Norm(0.05))] {
            let (fused, calls) = train(adam(0.5, 0.999, 1e-8, clip.clone()), 5);
            let (reference, _) = train(burns(clip.clone()), 5);
            // Two parameters (weight, bias) per step, each through the fused pass.
            assert_eq!(calls, 10, "fused updates ({clip:?})");
            assert_eq!(fused.len(), 300 * 200);
            let differ = fused
                .iter()
                .zip(&reference)
                .filter(|(a, b)| a.to_bits() != b.to_bits())
                .count();
            assert_eq!(differ, 0, "values differing from burn's Adam ({clip:?})");
            let start = seeded(300 * 200, 1);
            assert!(
                fused.iter().zip(&start).all(|(a, b)| a != b),
                "every weight moved ({clip:?})"
            );
        }
    }

    #[test]
    fn with_the_fast_kernels_off_burns_adam_runs() {
        set_fast_kernels(false);
        let (off, calls) = train(adam(0.5, 0.999, 1e-8, None), 3);
        set_fast_kernels(true);
        let (on, _) = train(adam(0.5, 0.999, 1e-8, None), 3);
        assert_eq!(calls, 0);
        assert!(off.iter().zip(&on).all(|(a, b)| a.to_bits() == b.to_bits()));
    }
}
