//! Small dense networks written by hand, for the tabular models (DPLAN, DevNet, Deep SAD, REPEN).
//!
//! Their networks are one or two layers of a few dozen units trained for tens of thousands of tiny
//! steps; a framework's per-op overhead dominates there (a DQN-sized step: ~97 µs in burn-flex,
//! ~465 µs in PyTorch; here a few µs — see `oddity bench` / the DPLAN benchmark). Matrix products go
//! through `matrixmultiply`'s sgemm; everything else is plain loops. Gradients are checked against
//! finite differences in the tests.
//!
//! [`fast`] holds the image models' layers on burn tensors (batched-GEMM convolutions, fused batch norm).

pub mod fast;
mod gemm;
mod grads;
mod mlp;
mod optim;
mod scaler;
mod tensors;

pub use gemm::{matmul, matmul_a_bt, matmul_at_b};
pub use grads::gradients;
pub use mlp::{Activation, Cache, Mlp};
pub use optim::{Optimizer, OptimizerKind};
pub use scaler::Standardizer;
pub use tensors::{TensorFile, read_tensors, write_tensors};

/// A NaN or infinite epoch loss stops training with an error naming the model and the epoch.
pub fn check_epoch_loss(model: &str, loss: f64, epoch: usize) -> crate::error::Result<()> {
    if loss.is_finite() {
        return Ok(());
    }
    Err(crate::error::Error::diverged(
        model,
        format!("epoch {epoch}"),
        "the loss",
        Some(loss),
        " (try a smaller lr or set clip_norm)",
    ))
}
