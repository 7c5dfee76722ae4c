//! What the small weakly supervised tabular networks (DevNet, Deep SAD, REPEN) share: row
//! gathering, standard-normal draws, and writing / reading a network, an input scaler and other
//! named tensors in the model's `.safetensors` file.

use std::collections::HashMap;
use std::path::Path;

use rand::Rng;

use crate::error::{Error, Result};
use crate::nn::{Activation, Mlp, Standardizer, TensorFile, read_tensors, write_tensors};

/// Copies rows `idx` of `x` (`d` wide) into `out` (cleared first).
pub(crate) fn gather(x: &[f32], d: usize, idx: &[usize], out: &mut Vec<f32>) {
    out.clear();
    for &i in idx {
        out.extend_from_slice(&x[i * d..(i + 1) * d]);
    }
}

/// One standard-normal draw (Box–Muller in f64).
pub(crate) fn standard_normal<R: Rng>(rng: &mut R) -> f64 {
    // 1 − u lies in (0, 1], so the logarithm is finite.
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Tensors to write: owned names, shapes and borrowed values.
#[derive(Default)]
pub(crate) struct TensorList<'a> {
    items: Vec<(String, Vec<usize>, &'a [f32])>,
}

impl<'a> TensorList<'a> {
    pub(crate) fn push(&mut self, name: impl Into<String>, shape: Vec<usize>, values: &'a [f32]) {
        self.items.push((name.into(), shape, values));
    }

    /// Every weight (`{prefix}.{l}.weight`, `[in, out]`) and bias (`{prefix}.{l}.bias`) of `mlp`.
    pub(crate) fn push_mlp(&mut self, prefix: &str, mlp: &'a Mlp) {
        for l in 0..mlp.n_layers() {
            let (i, o) = (mlp.dims()[l], mlp.dims()[l + 1]);
            self.push(
                format!("{prefix}.{l}.weight"),
                vec![i, o],
                &mlp.params[mlp.weight_range(l)],
            );
            if mlp.has_bias() {
                self.push(format!("{prefix}.{l}.bias"), vec![o], &mlp.params[mlp.bias_range(l)]);
            }
        }
    }

    /// The scaler as `scaler.mean` and `scaler.std`.
    pub(crate) fn push_scaler(&mut self, scaler: &'a Standardizer) {
        self.push("scaler.mean", vec![scaler.dim()], &scaler.mean);
        self.push("scaler.std", vec![scaler.dim()], &scaler.std);
    }

    /// Writes the tensors with metadata `format` = `kind`, `version` = 1, `n_features` = `d`.
    pub(crate) fn write(&self, path: &Path, kind: &str, d: usize) -> Result<()> {
        let views: Vec<(&str, Vec<usize>, &[f32])> =
            self.items.iter().map(|(n, s, v)| (n.as_str(), s.clone(), *v)).collect();
        let metadata = HashMap::from([
            ("format".to_string(), format!("oddity-{kind}")),
            ("version".to_string(), "1".to_string()),
            ("n_features".to_string(), d.to_string()),
        ]);
        write_tensors(path, &views, metadata)
    }
}

/// Opens a file written by [`TensorList::write`] for model `kind`; returns it and `n_features`.
pub(crate) fn open(path: &Path, kind: &str) -> Result<(TensorFile, usize)> {
    let file = read_tensors(path)?;
    let format = file.meta("format")?;
    if format != format!("oddity-{kind}") {
        return Err(Error::model_file(
            path,
            format!("weights are `{format}`, expected `oddity-{kind}`"),
        ));
    }
    if file.meta("version")? != "1" {
        return Err(Error::model_file(
            path,
            format!(
                "weights version {} is not supported (this oddity reads 1)",
                file.meta("version")?
            ),
        ));
    }
    let d: usize = file
        .meta("n_features")?
        .parse()
        .ok()
        .filter(|&d| d > 0)
        .ok_or_else(|| Error::model_file(path, "metadata `n_features` is not a positive integer"))?;
    Ok((file, d))
}

/// Reads the network written by [`TensorList::push_mlp`] with shape `dims`.
pub(crate) fn read_mlp(
    file: &mut TensorFile,
    path: &Path,
    prefix: &str,
    dims: &[usize],
    acts: &[Activation],
    bias: bool,
) -> Result<Mlp> {
    let mut params = Vec::new();
    for l in 0..dims.len() - 1 {
        params.extend(file.take(&format!("{prefix}.{l}.weight"), &[dims[l], dims[l + 1]])?);
        if bias {
            params.extend(file.take(&format!("{prefix}.{l}.bias"), &[dims[l + 1]])?);
        }
    }
    Mlp::from_params(dims, acts, bias, params)
        .ok_or_else(|| Error::model_file(path, format!("network `{prefix}` does not match its shape {dims:?}")))
}

/// Reads the scaler written by [`TensorList::push_scaler`] for `d` features.
pub(crate) fn read_scaler(file: &mut TensorFile, path: &Path, d: usize) -> Result<Standardizer> {
    let mean = file.take("scaler.mean", &[d])?;
    let std = file.take("scaler.std", &[d])?;
    if std.iter().any(|&s| s <= 0.0) {
        return Err(Error::model_file(
            path,
            "tensor `scaler.std` holds a non-positive value",
        ));
    }
    Ok(Standardizer { mean, std })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn normal_draws_have_unit_moments() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let v: Vec<f64> = (0..200_000).map(|_| standard_normal(&mut rng)).collect();
        let m = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64;
        assert!(m.abs() < 0.01 && (var - 1.0).abs() < 0.01, "{m} {var}");
    }
}
