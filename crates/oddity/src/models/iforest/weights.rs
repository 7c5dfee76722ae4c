//! The forest as a `.safetensors` file: flat node arrays, one entry per node of every tree.
//!
//! | tensor | dtype | shape | meaning |
//! |---|---|---|---|
//! | `feature` | I32 | `[nodes]` | split feature, −1 for a leaf |
//! | `threshold` | F32 | `[nodes]` | go left when `x[feature] <= threshold` (0 for leaves) |
//! | `left`, `right` | I32 | `[nodes]` | child index within the tree, −1 for a leaf |
//! | `leaf_value` | F32 | `[nodes]` | path length depth + c(n) of a leaf (0 for splits) |
//! | `tree_offsets` | I64 | `[trees + 1]` | tree `t` is nodes `tree_offsets[t]..tree_offsets[t+1]` |
//!
//! The header metadata holds `format`, `version`, `n_features` and `max_samples` (ψ).
//! Loading checks everything a corrupt file could break, so scoring cannot index out of bounds
//! or loop: children point forward inside their own tree, features are below `n_features`.

use std::collections::HashMap;
use std::path::Path;

use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use super::config::IForestConfig;
use super::forest::IForest;
use super::tree::Node;
use crate::error::{Error, Result};

const FORMAT: &str = "oddity-iforest";
const VERSION: &str = "1";

/// Writes `forest` to `path`.
pub(crate) fn save(forest: &IForest, path: &Path) -> Result<()> {
    let n = forest.nodes.len();
    let mut feature = Vec::with_capacity(n);
    let mut threshold = Vec::with_capacity(n);
    let mut left = Vec::with_capacity(n);
    let mut right = Vec::with_capacity(n);
    let mut leaf_value = Vec::with_capacity(n);
    for node in &forest.nodes {
        if node.is_leaf() {
            feature.push(-1i32);
            threshold.push(0f32);
            left.push(-1i32);
            right.push(-1i32);
            leaf_value.push(node.value);
        } else {
            feature.push(node.feature as i32);
            threshold.push(node.value);
            left.push(node.left as i32);
            right.push(node.right as i32);
            leaf_value.push(0f32);
        }
    }
    let offsets: Vec<i64> = forest.offsets.iter().map(|&o| o as i64).collect();
    let buffers: [(&str, Dtype, usize, Vec<u8>); 6] = [
        ("feature", Dtype::I32, n, le_bytes(&feature, |v| v.to_le_bytes())),
        ("threshold", Dtype::F32, n, le_bytes(&threshold, |v| v.to_le_bytes())),
        ("left", Dtype::I32, n, le_bytes(&left, |v| v.to_le_bytes())),
        ("right", Dtype::I32, n, le_bytes(&right, |v| v.to_le_bytes())),
        ("leaf_value", Dtype::F32, n, le_bytes(&leaf_value, |v| v.to_le_bytes())),
        (
            "tree_offsets",
            Dtype::I64,
            offsets.len(),
            le_bytes(&offsets, |v| v.to_le_bytes()),
        ),
    ];
    let mut views = Vec::with_capacity(buffers.len());
    for (name, dtype, len, bytes) in &buffers {
        let view = TensorView::new(*dtype, vec![*len], bytes)
            .map_err(|e| Error::model_file(path, format!("cannot build tensor `{name}`: {e}")))?;
        views.push((*name, view));
    }
    let metadata = HashMap::from([
        ("format".to_string(), FORMAT.to_string()),
        ("version".to_string(), VERSION.to_string()),
        ("n_features".to_string(), forest.n_features.to_string()),
        ("max_samples".to_string(), forest.max_samples.to_string()),
    ]);
    let bytes = safetensors::serialize(views, Some(metadata))
        .map_err(|e| Error::model_file(path, format!("cannot serialise the forest: {e}")))?;
    std::fs::write(path, bytes).map_err(|e| Error::io(path, e))
}

fn le_bytes<T: Copy, const N: usize>(values: &[T], f: impl Fn(T) -> [u8; N]) -> Vec<u8> {
    values.iter().flat_map(|&v| f(v)).collect()
}

/// Reads and validates a forest written by [`save`]; `config` must be the one it was fitted with.
pub(crate) fn load(config: &IForestConfig, path: &Path) -> Result<IForest> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let bad = |reason: String| Error::model_file(path, reason);
    let (_, meta) =
        SafeTensors::read_metadata(&bytes).map_err(|e| bad(format!("not a valid safetensors file: {e}")))?;
    let st = SafeTensors::deserialize(&bytes).map_err(|e| bad(format!("not a valid safetensors file: {e}")))?;

    let meta = meta.metadata().clone().unwrap_or_default();
    let get = |key: &str| meta.get(key).ok_or_else(|| bad(format!("metadata has no `{key}`")));
    if get("format")? != FORMAT {
        return Err(bad(format!("not an isolation forest (format `{}`)", get("format")?)));
    }
    if get("version")? != VERSION {
        return Err(bad(format!(
            "isolation forest format version `{}` is not supported (this oddity reads version {VERSION})",
            get("version")?
        )));
    }
    let positive = |key: &str| -> Result<usize> {
        let v = get(key)?;
        match v.parse::<usize>() {
            Ok(x) if x >= 1 => Ok(x),
            _ => Err(bad(format!("metadata `{key}` must be a positive integer, got `{v}`"))),
        }
    };
    let n_features = positive("n_features")?;
    let max_samples = positive("max_samples")?;
    if n_features > i32::MAX as usize {
        return Err(bad(format!("metadata `n_features` {n_features} is too large")));
    }

    let feature = read_i32(&st, "feature", &bad)?;
    let threshold = read_f32(&st, "threshold", &bad)?;
    let left = read_i32(&st, "left", &bad)?;
    let right = read_i32(&st, "right", &bad)?;
    let leaf_value = read_f32(&st, "leaf_value", &bad)?;
    let offsets = read_i64(&st, "tree_offsets", &bad)?;

    let n = feature.len();
    for (name, len) in [
        ("threshold", threshold.len()),
        ("left", left.len()),
        ("right", right.len()),
    ] {
        if len != n {
            return Err(bad(format!("tensor `{name}` has {len} entries but `feature` has {n}")));
        }
    }
    if leaf_value.len() != n {
        return Err(bad(format!(
            "tensor `leaf_value` has {} entries but `feature` has {n}",
            leaf_value.len()
        )));
    }
    let n_trees = offsets.len().saturating_sub(1);
    if n_trees != config.n_estimators {
        return Err(bad(format!(
            "holds {n_trees} trees but the config says n_estimators = {}",
            config.n_estimators
        )));
    }
    let mut offs = Vec::with_capacity(offsets.len());
    for (t, &o) in offsets.iter().enumerate() {
        let prev = offs.last().copied();
        let o = usize::try_from(o)
            .ok()
            .filter(|&o| o <= n && prev.is_none_or(|p| o > p));
        match o {
            Some(o) => offs.push(o),
            None => {
                return Err(bad(format!(
                    "tree_offsets[{t}] = {} is out of order (offsets must rise strictly from 0 to {n})",
                    offsets[t]
                )));
            }
        }
    }
    if offs.first() != Some(&0) || offs.last() != Some(&n) {
        return Err(bad(format!("tree_offsets must start at 0 and end at {n}")));
    }

    let mut nodes = Vec::with_capacity(n);
    for t in 0..n_trees {
        let (start, end) = (offs[t], offs[t + 1]);
        let len = end - start;
        if len > i32::MAX as usize {
            return Err(bad(format!(
                "tree {t} has {len} nodes, more than i32 child indices can address"
            )));
        }
        for i in 0..len {
            let g = start + i;
            let node_err = |what: &str| bad(format!("tree {t}, node {i}: {what}"));
            let node = if feature[g] == -1 {
                if left[g] != -1 || right[g] != -1 {
                    return Err(node_err("a leaf must have children -1"));
                }
                if !(leaf_value[g].is_finite() && leaf_value[g] >= 0.0) {
                    return Err(node_err(&format!(
                        "leaf value {} is not a finite path length",
                        leaf_value[g]
                    )));
                }
                Node::leaf(i as u32, leaf_value[g])
            } else {
                let f = usize::try_from(feature[g]).ok().filter(|&f| f < n_features);
                let Some(f) = f else {
                    return Err(node_err(&format!("feature {} is not in 0..{n_features}", feature[g])));
                };
                if !threshold[g].is_finite() {
                    return Err(node_err(&format!("threshold {} is not finite", threshold[g])));
                }
                let child = |c: i32, side: &str| {
                    usize::try_from(c).ok().filter(|&c| c > i && c < len).ok_or_else(|| {
                        node_err(&format!(
                            "{side} child {c} must point forward inside the tree (to {}..{len})",
                            i + 1
                        ))
                    })
                };
                let (l, r) = (child(left[g], "left")?, child(right[g], "right")?);
                if l == r {
                    return Err(node_err(&format!("both children are node {l}")));
                }
                Node {
                    feature: f as u32,
                    value: threshold[g],
                    left: l as u32,
                    right: r as u32,
                }
            };
            nodes.push(node);
        }
    }
    Ok(IForest::from_parts(n_features, max_samples, nodes, offs))
}

/// The 1-D tensor `name` with dtype `dtype`, as raw little-endian bytes.
fn tensor<'a>(st: &'a SafeTensors, name: &str, dtype: Dtype, bad: &impl Fn(String) -> Error) -> Result<&'a [u8]> {
    let t = st
        .tensor(name)
        .map_err(|_| bad(format!("tensor `{name}` is missing")))?;
    if t.dtype() != dtype {
        return Err(bad(format!(
            "tensor `{name}` has dtype {:?}, expected {dtype:?}",
            t.dtype()
        )));
    }
    if t.shape().len() != 1 {
        return Err(bad(format!(
            "tensor `{name}` has shape {:?}, expected one dimension",
            t.shape()
        )));
    }
    Ok(t.data())
}

fn read_i32(st: &SafeTensors, name: &str, bad: &impl Fn(String) -> Error) -> Result<Vec<i32>> {
    let b = tensor(st, name, Dtype::I32, bad)?;
    Ok(b.chunks_exact(4)
        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

fn read_f32(st: &SafeTensors, name: &str, bad: &impl Fn(String) -> Error) -> Result<Vec<f32>> {
    let b = tensor(st, name, Dtype::F32, bad)?;
    Ok(b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

fn read_i64(st: &SafeTensors, name: &str, bad: &impl Fn(String) -> Error) -> Result<Vec<i64>> {
    let b = tensor(st, name, Dtype::I64, bad)?;
    Ok(b.chunks_exact(8)
        .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect())
}
