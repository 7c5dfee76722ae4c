//! The clustering layer and the clustering losses (DEC §3.1).
//!
//! Soft assignment by Student's t with α degrees of freedom:
//! q_ij = (1 + ‖z_i − μ_j‖² / α)^(−(α+1)/2) / Σ_j' (1 + ‖z_i − μ_j'‖² / α)^(−(α+1)/2).
//! Target distribution: p_ij = (q_ij² / f_j) / Σ_j' (q_ij'² / f_j'), f_j = Σ_i q_ij.

use burn::tensor::{Int, Tensor};

/// Squared distances `[b, k]` between embeddings `z` `[b, d]` and centroids `mu` `[k, d]`.
pub fn sq_distances(z: Tensor<2>, mu: Tensor<2>) -> Tensor<2> {
    let [b, _] = z.dims();
    let [k, _] = mu.dims();
    let diff = z.unsqueeze_dim::<3>(1) - mu.unsqueeze_dim::<3>(0); // [b, k, d]
    diff.square().sum_dim(2).reshape([b, k])
}

/// Student's t soft assignment q `[b, k]` (rows sum to 1).
pub fn soft_assign(z: Tensor<2>, mu: Tensor<2>, alpha: f64) -> Tensor<2> {
    let kernel = sq_distances(z, mu)
        .div_scalar(alpha)
        .add_scalar(1.0)
        .powf_scalar(-(alpha + 1.0) / 2.0);
    let norm = kernel.clone().sum_dim(1);
    kernel / norm
}

/// Target distribution P from soft assignments `q` (`n × k`, row-major), computed in f64 over
/// the whole data set, as the official code's `target_distribution`.
pub fn target_distribution(q: &[f32], k: usize) -> Vec<f32> {
    let mut f = vec![0f64; k];
    for row in q.chunks_exact(k) {
        for (fj, &v) in f.iter_mut().zip(row) {
            *fj += v as f64;
        }
    }
    let mut p = Vec::with_capacity(q.len());
    for row in q.chunks_exact(k) {
        let w: Vec<f64> = row.iter().zip(&f).map(|(&v, &fj)| (v as f64).powi(2) / fj).collect();
        let s: f64 = w.iter().sum();
        p.extend(w.iter().map(|&v| (v / s) as f32));
    }
    p
}

/// Keras' `kld` clips both distributions to [ε, 1] with ε = 1e-7 (`K.epsilon()`).
const KLD_EPS: f64 = 1e-7;

/// KL(P‖Q) as Keras' `kld` loss: mean over the batch of Σ_j p_ij log(p_ij / q_ij), both clipped
/// to [1e-7, 1]. `p` is a constant (no gradient).
pub fn kl_loss(p: Tensor<2>, q: Tensor<2>) -> Tensor<1> {
    let [b, _] = q.dims();
    let p = p.clamp(KLD_EPS, 1.0);
    let q = q.clamp(KLD_EPS, 1.0);
    (p.clone() * (p.log() - q.log())).sum().div_scalar(b as f64)
}

/// The k-means loss: mean over the batch of Σ_j r_ij ‖z_i − μ_j‖², r_ij = 1 for the nearest
/// centroid (chosen without gradient), else 0.
pub fn kmeans_loss(z: Tensor<2>, mu: Tensor<2>) -> Tensor<1> {
    let [b, _] = z.dims();
    let [k, _] = mu.dims();
    let d2 = sq_distances(z, mu);
    let nearest: Tensor<1, Int> = d2.clone().detach().argmin(1).reshape([b]);
    let r: Tensor<2> = nearest.one_hot::<2>(k).float();
    (d2 * r).sum().div_scalar(b as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    fn v<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn kmeans_loss_uses_the_nearest_centroid() {
        let dev = Device::flex();
        let z = Tensor::<2>::from_floats([[0.0, 0.0], [3.0, 0.0]], &dev);
        let mu = Tensor::<2>::from_floats([[1.0, 0.0], [4.0, 0.0]], &dev);
        // nearest: 1 (d²=1) and 4 (d²=1) -> mean 1
        assert!((v(kmeans_loss(z, mu))[0] - 1.0).abs() < 1e-6);
    }
}
