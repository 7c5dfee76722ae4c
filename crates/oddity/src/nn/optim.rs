//! Optimisers over a flat parameter slice: Adam (PyTorch semantics), RMSprop in its two common
//! forms (Keras/TensorFlow, and the centred variant of DQN, Mnih et al. 2015) and Adadelta (Keras).

use std::ops::Range;

use serde::{Deserialize, Serialize};

/// Which update rule, with its hyperparameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OptimizerKind {
    /// `torch.optim.Adam`: L2 `weight_decay` added to the gradient; ε outside the square root.
    Adam {
        lr: f32,
        beta1: f32,
        beta2: f32,
        eps: f32,
        weight_decay: f32,
    },
    /// RMSprop: `ms ← ρ·ms + (1−ρ)·g²`; centred: `mg ← ρ·mg + (1−ρ)·g`, denominator
    /// `sqrt(ms − mg² + ε)`; else `sqrt(ms + ε)` (TensorFlow puts ε inside the root);
    /// with `momentum` > 0: `mom ← momentum·mom + lr·g/denominator`, `p ← p − mom`.
    RmsProp {
        lr: f32,
        rho: f32,
        momentum: f32,
        eps: f32,
        centered: bool,
    },
    /// Adadelta (Zeiler 2012) as in Keras: `acc ← ρ·acc + (1−ρ)·g²`,
    /// `u = g·sqrt(acc_u + ε)/sqrt(acc + ε)`, `p ← p − lr·u`, `acc_u ← ρ·acc_u + (1−ρ)·u²`.
    Adadelta { lr: f32, rho: f32, eps: f32 },
}

impl OptimizerKind {
    /// Adam with PyTorch's defaults except the learning rate.
    pub fn adam(lr: f32) -> Self {
        OptimizerKind::Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }

    /// Keras' RMSprop defaults (ρ 0.9, ε 1e-7, no momentum) with learning rate `lr`.
    pub fn keras_rmsprop(lr: f32) -> Self {
        OptimizerKind::RmsProp {
            lr,
            rho: 0.9,
            momentum: 0.0,
            eps: 1e-7,
            centered: false,
        }
    }
}

/// An optimiser with its state.
#[derive(Debug, Clone)]
pub struct Optimizer {
    kind: OptimizerKind,
    m: Vec<f32>,
    v: Vec<f32>,
    mom: Vec<f32>,
    t: u64,
    /// Keras' `clipnorm`: each tensor's gradient rescaled to at most this L2 norm.
    clip: Option<(f32, Vec<Range<usize>>)>,
}

impl Optimizer {
    pub fn new(kind: OptimizerKind, n_params: usize) -> Self {
        Optimizer {
            kind,
            m: vec![0.0; n_params],
            v: vec![0.0; n_params],
            mom: vec![0.0; n_params],
            t: 0,
            clip: None,
        }
    }

    /// Number of parameters this optimiser updates.
    pub fn n_params(&self) -> usize {
        self.m.len()
    }

    /// The current learning rate.
    pub fn lr(&self) -> f32 {
        match self.kind {
            OptimizerKind::Adam { lr, .. } | OptimizerKind::RmsProp { lr, .. } | OptimizerKind::Adadelta { lr, .. } => {
                lr
            }
        }
    }

    /// Changes the learning rate, keeping the optimiser's state (step-decay schedules such as
    /// PyTorch's `MultiStepLR`).
    pub fn set_lr(&mut self, new_lr: f32) {
        match &mut self.kind {
            OptimizerKind::Adam { lr, .. } | OptimizerKind::RmsProp { lr, .. } | OptimizerKind::Adadelta { lr, .. } => {
                *lr = new_lr
            }
        }
    }

    /// The moving state for checkpoints: step count and the three moment vectors.
    pub fn state(&self) -> (u64, [&[f32]; 3]) {
        (self.t, [&self.m, &self.v, &self.mom])
    }

    /// Restores what [`Optimizer::state`] returned; false (and nothing changed) if the vector
    /// lengths do not fit this optimiser.
    pub fn restore(&mut self, t: u64, m: Vec<f32>, v: Vec<f32>, mom: Vec<f32>) -> bool {
        let n = self.m.len();
        if m.len() != n || v.len() != n || mom.len() != n {
            return false;
        }
        (self.t, self.m, self.v, self.mom) = (t, m, v, mom);
        true
    }

    /// Clips each tensor's gradient (given by its range in the flat slice) to L2 norm `max_norm`.
    pub fn with_clip_norm(mut self, max_norm: f32, tensors: Vec<Range<usize>>) -> Self {
        self.clip = Some((max_norm, tensors));
        self
    }

    /// Clips the gradients of all parameters together to L2 norm `max_norm` (Keras 2.2's
    /// `clipnorm`, PyTorch's `clip_grad_norm_`); 0 leaves the optimiser unclipped.
    pub fn with_global_clip_norm(self, max_norm: f32) -> Self {
        if max_norm > 0.0 {
            let all = std::iter::once(0..self.m.len()).collect();
            self.with_clip_norm(max_norm, all)
        } else {
            self
        }
    }

    /// One update of `params` with `grads` (modified in place when clipping).
    pub fn step(&mut self, params: &mut [f32], grads: &mut [f32]) {
        assert_eq!(params.len(), self.m.len(), "optimizer: parameter count changed");
        assert_eq!(grads.len(), params.len(), "optimizer: gradient size");
        if let Some((max_norm, ranges)) = &self.clip {
            for r in ranges {
                let g = &mut grads[r.clone()];
                let norm = g.iter().map(|x| x * x).sum::<f32>().sqrt();
                if norm > *max_norm {
                    let s = max_norm / norm;
                    g.iter_mut().for_each(|x| *x *= s);
                }
            }
        }
        self.t += 1;
        match self.kind {
            OptimizerKind::Adam {
                lr,
                beta1,
                beta2,
                eps,
                weight_decay,
            } => {
                let bc1 = 1.0 - beta1.powi(self.t.min(i32::MAX as u64) as i32);
                let bc2 = 1.0 - beta2.powi(self.t.min(i32::MAX as u64) as i32);
                let step = lr / bc1;
                let bc2_sqrt = bc2.sqrt();
                for i in 0..params.len() {
                    let g = grads[i] + weight_decay * params[i];
                    self.m[i] = beta1 * self.m[i] + (1.0 - beta1) * g;
                    self.v[i] = beta2 * self.v[i] + (1.0 - beta2) * g * g;
                    params[i] -= step * self.m[i] / (self.v[i].sqrt() / bc2_sqrt + eps);
                }
            }
            OptimizerKind::RmsProp {
                lr,
                rho,
                momentum,
                eps,
                centered,
            } => {
                for i in 0..params.len() {
                    let g = grads[i];
                    self.v[i] = rho * self.v[i] + (1.0 - rho) * g * g;
                    let mut denom = self.v[i];
                    if centered {
                        self.m[i] = rho * self.m[i] + (1.0 - rho) * g;
                        denom -= self.m[i] * self.m[i];
                    }
                    let update = lr * g / (denom + eps).sqrt();
                    if momentum > 0.0 {
                        self.mom[i] = momentum * self.mom[i] + update;
                        params[i] -= self.mom[i];
                    } else {
                        params[i] -= update;
                    }
                }
            }
            OptimizerKind::Adadelta { lr, rho, eps } => {
                for i in 0..params.len() {
                    let g = grads[i];
                    self.v[i] = rho * self.v[i] + (1.0 - rho) * g * g;
                    let update = g * (self.m[i] + eps).sqrt() / (self.v[i] + eps).sqrt();
                    params[i] -= lr * update;
                    self.m[i] = rho * self.m[i] + (1.0 - rho) * update * update;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Minimises (p − 3)² and checks convergence for each rule.
    fn converges(kind: OptimizerKind, steps: usize) -> f32 {
        let mut p = vec![0.0f32];
        let mut opt = Optimizer::new(kind, 1);
        for _ in 0..steps {
            let mut g = vec![2.0 * (p[0] - 3.0)];
            opt.step(&mut p, &mut g);
        }
        p[0]
    }

    #[test]
    fn every_rule_minimises_a_quadratic() {
        assert!((converges(OptimizerKind::adam(0.1), 500) - 3.0).abs() < 0.05);
        assert!((converges(OptimizerKind::keras_rmsprop(0.01), 1000) - 3.0).abs() < 0.05);
        let centred = OptimizerKind::RmsProp {
            lr: 0.01,
            rho: 0.95,
            momentum: 0.0,
            eps: 0.01,
            centered: true,
        };
        assert!((converges(centred, 2000) - 3.0).abs() < 0.05);
    }

    #[test]
    fn adadelta_matches_keras_by_hand() {
        // Keras Adadelta(lr=1, rho=0.95, eps=1e-7), g = 2 then 1:
        // step 1: acc = 0.2, u = 2·sqrt(1e-7)/sqrt(0.2 + 1e-7), acc_u = 0.05·u².
        let mut p = vec![0.0f32];
        let mut opt = Optimizer::new(
            OptimizerKind::Adadelta {
                lr: 1.0,
                rho: 0.95,
                eps: 1e-7,
            },
            1,
        );
        opt.step(&mut p, &mut [2.0]);
        let u1 = 2.0 * 1e-7f64.sqrt() / (0.2f64 + 1e-7).sqrt();
        assert!((p[0] as f64 + u1).abs() < 1e-9, "{} vs {}", p[0], -u1);
        opt.step(&mut p, &mut [1.0]);
        let acc = 0.95 * 0.2 + 0.05;
        let u2 = 1.0 * (0.05 * u1 * u1 + 1e-7f64).sqrt() / (acc + 1e-7f64).sqrt();
        assert!((p[0] as f64 + u1 + u2).abs() < 1e-8);
        assert!(
            (converges(
                OptimizerKind::Adadelta {
                    lr: 1.0,
                    rho: 0.95,
                    eps: 1e-6
                },
                20000
            ) - 3.0)
                .abs()
                < 0.05
        );
    }

    #[test]
    fn set_lr_changes_the_step() {
        let mut opt = Optimizer::new(OptimizerKind::adam(0.1), 1);
        opt.set_lr(0.01);
        assert_eq!(opt.lr(), 0.01);
        let mut p = vec![1.0f32];
        opt.step(&mut p, &mut [3.0]);
        assert!((p[0] - 0.99).abs() < 1e-6);
    }

    #[test]
    fn adam_first_step_matches_pytorch() {
        // torch.optim.Adam(lr=0.1): the first step moves each parameter by lr·sign(g).
        let mut p = vec![1.0f32, -2.0];
        let mut opt = Optimizer::new(OptimizerKind::adam(0.1), 2);
        opt.step(&mut p, &mut [0.5, -4.0]);
        assert!((p[0] - 0.9).abs() < 1e-6 && (p[1] + 1.9).abs() < 1e-6);
    }

    #[test]
    fn clip_norm_is_per_tensor() {
        let mut opt = Optimizer::new(
            OptimizerKind::RmsProp {
                lr: 1.0,
                rho: 0.0,
                momentum: 0.0,
                eps: 0.0,
                centered: false,
            },
            3,
        )
        .with_clip_norm(1.0, vec![0..2, 2..3]);
        let mut p = vec![0.0; 3];
        let mut g = vec![3.0, 4.0, 0.5];
        opt.step(&mut p, &mut g);
        assert!((g[0] - 0.6).abs() < 1e-6 && (g[1] - 0.8).abs() < 1e-6 && g[2] == 0.5);
    }
}
