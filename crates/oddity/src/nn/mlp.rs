//! A fully connected network with hand-written forward and backward passes.
//!
//! Parameters live in one flat `Vec<f32>` (layer by layer: weight `[in × out]` row-major — the
//! Keras kernel layout — then bias `[out]`), so an optimiser is a loop over one slice.

use std::ops::Range;

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::gemm::{matmul, matmul_a_bt, matmul_at_b};

/// Element-wise activation after a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Linear,
    Relu,
    /// Leaky ReLU with slope 0.01 (PyTorch's default), used by Deep SAD's official MLP.
    LeakyRelu,
    Tanh,
    /// Logistic sigmoid 1/(1 + e^(−x)), e.g. the output of Deep SAD's official MLP decoder.
    Sigmoid,
}

const LEAKY_SLOPE: f32 = 0.01;

impl Activation {
    fn apply(self, v: &mut [f32]) {
        match self {
            Activation::Linear => {}
            Activation::Relu => v.iter_mut().for_each(|x| *x = x.max(0.0)),
            Activation::LeakyRelu => v.iter_mut().for_each(|x| {
                if *x < 0.0 {
                    *x *= LEAKY_SLOPE
                }
            }),
            Activation::Tanh => v.iter_mut().for_each(|x| *x = x.tanh()),
            Activation::Sigmoid => v.iter_mut().for_each(|x| *x = 1.0 / (1.0 + (-*x).exp())),
        }
    }

    /// Multiplies `grad` by the derivative, given the activation's output `y`.
    fn backprop(self, y: &[f32], grad: &mut [f32]) {
        match self {
            Activation::Linear => {}
            Activation::Relu => grad.iter_mut().zip(y).for_each(|(g, &y)| {
                if y <= 0.0 {
                    *g = 0.0
                }
            }),
            Activation::LeakyRelu => grad.iter_mut().zip(y).for_each(|(g, &y)| {
                if y < 0.0 {
                    *g *= LEAKY_SLOPE
                }
            }),
            Activation::Tanh => grad.iter_mut().zip(y).for_each(|(g, &y)| *g *= 1.0 - y * y),
            Activation::Sigmoid => grad.iter_mut().zip(y).for_each(|(g, &y)| *g *= y * (1.0 - y)),
        }
    }
}

/// The network: `dims = [input, hidden…, output]`, one activation per layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    dims: Vec<usize>,
    acts: Vec<Activation>,
    bias: bool,
    /// All weights and biases, layer by layer.
    pub params: Vec<f32>,
}

/// Outputs of every layer from [`Mlp::forward_cache`], for the backward pass.
#[derive(Debug, Clone)]
pub struct Cache {
    n: usize,
    outs: Vec<Vec<f32>>,
}

impl Cache {
    /// The network output `[n × out]`.
    pub fn output(&self) -> &[f32] {
        self.outs.last().map(Vec::as_slice).unwrap_or(&[])
    }
    /// Output of layer `l` (0-based) `[n × dims[l+1]]`.
    pub fn layer(&self, l: usize) -> &[f32] {
        &self.outs[l]
    }
}

impl Mlp {
    /// Glorot-uniform weights (Keras' default initialiser), zero biases.
    /// `acts.len()` must be `dims.len() − 1`.
    pub fn new<R: Rng>(dims: &[usize], acts: &[Activation], bias: bool, rng: &mut R) -> Mlp {
        assert!(
            dims.len() >= 2 && acts.len() == dims.len() - 1,
            "Mlp::new: one activation per layer"
        );
        let mut mlp = Mlp {
            dims: dims.to_vec(),
            acts: acts.to_vec(),
            bias,
            params: Vec::new(),
        };
        mlp.params = vec![0.0; mlp.n_params()];
        for l in 0..mlp.n_layers() {
            let (i, o) = (dims[l], dims[l + 1]);
            let limit = (6.0 / (i + o) as f32).sqrt();
            let r = mlp.weight_range(l);
            for w in &mut mlp.params[r] {
                *w = rng.random_range(-limit..limit);
            }
        }
        mlp
    }

    /// Rebuilds a network from saved parameters; `None` if the count does not match the shape.
    pub fn from_params(dims: &[usize], acts: &[Activation], bias: bool, params: Vec<f32>) -> Option<Mlp> {
        if dims.len() < 2 || acts.len() != dims.len() - 1 {
            return None;
        }
        let mlp = Mlp {
            dims: dims.to_vec(),
            acts: acts.to_vec(),
            bias,
            params,
        };
        (mlp.params.len() == mlp.n_params()).then_some(mlp)
    }

    pub fn dims(&self) -> &[usize] {
        &self.dims
    }
    pub fn activations(&self) -> &[Activation] {
        &self.acts
    }
    pub fn has_bias(&self) -> bool {
        self.bias
    }
    pub fn n_layers(&self) -> usize {
        self.dims.len() - 1
    }
    pub fn input_dim(&self) -> usize {
        self.dims[0]
    }
    pub fn output_dim(&self) -> usize {
        self.dims[self.dims.len() - 1]
    }

    fn n_params(&self) -> usize {
        (0..self.n_layers())
            .map(|l| self.dims[l] * self.dims[l + 1] + if self.bias { self.dims[l + 1] } else { 0 })
            .sum()
    }

    fn layer_start(&self, l: usize) -> usize {
        (0..l)
            .map(|p| self.dims[p] * self.dims[p + 1] + if self.bias { self.dims[p + 1] } else { 0 })
            .sum()
    }

    /// Where layer `l`'s weight `[in × out]` lies in `params`.
    pub fn weight_range(&self, l: usize) -> Range<usize> {
        let s = self.layer_start(l);
        s..s + self.dims[l] * self.dims[l + 1]
    }

    /// Where layer `l`'s bias lies in `params` (empty without biases).
    pub fn bias_range(&self, l: usize) -> Range<usize> {
        let e = self.weight_range(l).end;
        if self.bias { e..e + self.dims[l + 1] } else { e..e }
    }

    /// Every parameter tensor's range (per-tensor gradient clipping, saving).
    pub fn tensor_ranges(&self) -> Vec<Range<usize>> {
        let mut v = Vec::new();
        for l in 0..self.n_layers() {
            v.push(self.weight_range(l));
            if self.bias {
                v.push(self.bias_range(l));
            }
        }
        v
    }

    fn layer_forward(&self, l: usize, input: &[f32], n: usize) -> Vec<f32> {
        let (i, o) = (self.dims[l], self.dims[l + 1]);
        let mut out = vec![0.0; n * o];
        if self.bias {
            let b = &self.params[self.bias_range(l)];
            for row in out.chunks_exact_mut(o) {
                row.copy_from_slice(b);
            }
        }
        matmul(input, &self.params[self.weight_range(l)], &mut out, n, i, o, self.bias);
        self.acts[l].apply(&mut out);
        out
    }

    /// Output `[n × out]` for input `x` `[n × in]`.
    pub fn forward(&self, x: &[f32], n: usize) -> Vec<f32> {
        self.forward_layers(x, n, self.n_layers())
    }

    /// Output of the first `layers` layers (e.g. `1` = the first hidden representation).
    pub fn forward_layers(&self, x: &[f32], n: usize, layers: usize) -> Vec<f32> {
        debug_assert_eq!(x.len(), n * self.input_dim());
        let mut h = self.layer_forward(0, x, n);
        for l in 1..layers.min(self.n_layers()) {
            h = self.layer_forward(l, &h, n);
        }
        h
    }

    /// Forward pass keeping every layer's output for [`Mlp::backward`].
    pub fn forward_cache(&self, x: &[f32], n: usize) -> Cache {
        debug_assert_eq!(x.len(), n * self.input_dim());
        let mut outs: Vec<Vec<f32>> = Vec::with_capacity(self.n_layers());
        for l in 0..self.n_layers() {
            let input = if l == 0 { x } else { &outs[l - 1] };
            let o = self.layer_forward(l, input, n);
            outs.push(o);
        }
        Cache { n, outs }
    }

    /// Back-propagates `grad_out` (∂loss/∂output, `[n × out]`) through the network whose forward
    /// pass on `x` produced `cache`. Writes ∂loss/∂params into `grads` (overwritten, same layout as
    /// `params`); returns ∂loss/∂x when `want_input_grad`.
    pub fn backward(
        &self,
        x: &[f32],
        cache: &Cache,
        grad_out: &[f32],
        grads: &mut [f32],
        want_input_grad: bool,
    ) -> Option<Vec<f32>> {
        let n = cache.n;
        assert_eq!(grads.len(), self.params.len(), "backward: gradient buffer size");
        let mut g = grad_out.to_vec();
        for l in (0..self.n_layers()).rev() {
            let (i, o) = (self.dims[l], self.dims[l + 1]);
            self.acts[l].backprop(&cache.outs[l], &mut g);
            let input = if l == 0 { x } else { &cache.outs[l - 1] };
            let wr = self.weight_range(l);
            matmul_at_b(input, &g, &mut grads[wr.clone()], n, i, o, false);
            if self.bias {
                let b = &mut grads[self.bias_range(l)];
                b.fill(0.0);
                for row in g.chunks_exact(o) {
                    b.iter_mut().zip(row).for_each(|(b, r)| *b += r);
                }
            }
            if l > 0 || want_input_grad {
                let mut gi = vec![0.0; n * i];
                matmul_a_bt(&g, &self.params[wr], &mut gi, n, o, i, false);
                g = gi;
            }
        }
        want_input_grad.then_some(g)
    }

    /// Σ w² over layer `l`'s weight (for an L2 penalty λ·Σw², Keras' `l2(λ)`).
    pub fn weight_sq_sum(&self, l: usize) -> f32 {
        self.params[self.weight_range(l)].iter().map(|w| w * w).sum()
    }

    /// Adds the gradient of λ·Σw² over layer `l`'s weight to `grads`.
    pub fn add_l2_grad(&self, l: usize, lambda: f32, grads: &mut [f32]) {
        let r = self.weight_range(l);
        for (g, w) in grads[r.clone()].iter_mut().zip(&self.params[r]) {
            *g += 2.0 * lambda * w;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn loss(mlp: &Mlp, x: &[f32], n: usize, target: &[f32]) -> f64 {
        let y = mlp.forward(x, n);
        y.iter().zip(target).map(|(a, b)| 0.5 * ((a - b) as f64).powi(2)).sum()
    }

    fn check_gradients(acts: &[Activation], bias: bool) {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let dims = [4, 6, 5, 2];
        let mut mlp = Mlp::new(&dims, acts, bias, &mut rng);
        let n = 7;
        let x: Vec<f32> = (0..n * 4).map(|_| rng.random_range(-1.0..1.0)).collect();
        let t: Vec<f32> = (0..n * 2).map(|_| rng.random_range(-1.0..1.0)).collect();
        let cache = mlp.forward_cache(&x, n);
        let grad_out: Vec<f32> = cache.output().iter().zip(&t).map(|(a, b)| a - b).collect();
        let mut grads = vec![0.0; mlp.params.len()];
        let gx = mlp.backward(&x, &cache, &grad_out, &mut grads, true).unwrap();
        let eps = 1e-3f32;
        for p in 0..mlp.params.len() {
            let orig = mlp.params[p];
            mlp.params[p] = orig + eps;
            let up = loss(&mlp, &x, n, &t);
            mlp.params[p] = orig - eps;
            let down = loss(&mlp, &x, n, &t);
            mlp.params[p] = orig;
            let fd = ((up - down) / (2.0 * eps as f64)) as f32;
            assert!((fd - grads[p]).abs() < 2e-3, "param {p}: fd {fd} vs {}", grads[p]);
        }
        let mut xp = x.clone();
        for k in 0..x.len() {
            xp[k] = x[k] + eps;
            let up = loss(&mlp, &xp, n, &t);
            xp[k] = x[k] - eps;
            let down = loss(&mlp, &xp, n, &t);
            xp[k] = x[k];
            let fd = ((up - down) / (2.0 * eps as f64)) as f32;
            assert!((fd - gx[k]).abs() < 2e-3, "input {k}: fd {fd} vs {}", gx[k]);
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        check_gradients(&[Activation::Tanh, Activation::Tanh, Activation::Linear], true);
        check_gradients(&[Activation::Relu, Activation::LeakyRelu, Activation::Linear], true);
        check_gradients(&[Activation::LeakyRelu, Activation::Tanh, Activation::Linear], false);
        check_gradients(
            &[Activation::LeakyRelu, Activation::LeakyRelu, Activation::Sigmoid],
            false,
        );
    }

    #[test]
    fn layout_and_partial_forward() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mlp = Mlp::new(&[3, 4, 2], &[Activation::Relu, Activation::Linear], true, &mut rng);
        assert_eq!(mlp.params.len(), 3 * 4 + 4 + 4 * 2 + 2);
        assert_eq!(mlp.weight_range(1), 16..24);
        assert_eq!(mlp.bias_range(1), 24..26);
        let x = [0.5, -1.0, 2.0];
        let h = mlp.forward_layers(&x, 1, 1);
        assert_eq!(h.len(), 4);
        assert!(h.iter().all(|&v| v >= 0.0));
        let rebuilt = Mlp::from_params(mlp.dims(), mlp.activations(), true, mlp.params.clone()).unwrap();
        assert_eq!(rebuilt.forward(&x, 1), mlp.forward(&x, 1));
        assert!(Mlp::from_params(&[3, 4, 2], mlp.activations(), true, vec![0.0; 5]).is_none());
    }
}
