//! A module's gradients for burn's optimisers, with a workaround for burn's fused GPU kernels.
//!
//! On the GPU backends (burn-cubecl with its default `fusion`, burn 0.22.1) the optimiser's fused
//! update reads the gradient of a parameter that has a dimension of size 1 in the wrong element
//! order. Measured on wgpu (lavapipe): GANomaly's discriminator, whose last convolution weight is
//! `[1, c, 4, 4]`, got Adam steps of the wrong sign on ~half of that tensor's elements in its
//! first step, while the gradient itself, read back to the host, equals the CPU's to 1e-7
//! (`models/ganomaly/gpu_step_tests.rs`); within four steps its weights were NaN. The same family
//! as burn's open issue #5122 (fusion and `[N, 1]` shapes). Such gradients are copied through host
//! memory, which hands the fused kernel a fresh contiguous tensor. They are small (a few thousand
//! values per step in oddity's models); on `flex` nothing is copied.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Gradients, Tensor};
use burn_dispatch::DispatchTensorKind;

/// [`GradientsParams::from_grads`], with the gradients of parameters that have a size-1
/// dimension re-laid out on GPU backends (see the module docs).
pub fn gradients<M: Module>(grads: Gradients, module: &M) -> GradientsParams {
    let mut params = GradientsParams::from_grads(grads, module);
    module.visit(&mut Relayout(&mut params));
    params
}

struct Relayout<'a>(&'a mut GradientsParams);

impl ModuleVisitor for Relayout<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if !param.val().dims().contains(&1) {
            return;
        }
        let Some(grad) = self.0.remove::<D>(param.id) else {
            return;
        };
        let grad = if on_flex(&grad) {
            grad
        } else {
            Tensor::from_data(grad.to_data(), &grad.device())
        };
        self.0.register(param.id, grad);
    }
}

fn on_flex<const D: usize>(t: &Tensor<D>) -> bool {
    matches!(t.clone().into_dispatch().kind, DispatchTensorKind::Flex(_))
}
