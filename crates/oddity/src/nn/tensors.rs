//! Named f32 tensors in a `.safetensors` file, with checks on the way back in.

use std::collections::HashMap;
use std::path::Path;

use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use crate::error::{Error, Result};

/// Writes `(name, shape, values)` tensors and string metadata to `path`.
pub fn write_tensors(
    path: &Path,
    tensors: &[(&str, Vec<usize>, &[f32])],
    metadata: HashMap<String, String>,
) -> Result<()> {
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, _, v)| v.iter().flat_map(|x| x.to_le_bytes()).collect())
        .collect();
    let mut views = Vec::with_capacity(tensors.len());
    for ((name, shape, values), b) in tensors.iter().zip(&bytes) {
        if shape.iter().product::<usize>() != values.len() {
            return Err(Error::model_file(
                path,
                format!(
                    "tensor `{name}`: shape {shape:?} does not match {} values",
                    values.len()
                ),
            ));
        }
        let view = TensorView::new(Dtype::F32, shape.clone(), b)
            .map_err(|e| Error::model_file(path, format!("cannot build tensor `{name}`: {e}")))?;
        views.push((*name, view));
    }
    let out = safetensors::serialize(views, Some(metadata))
        .map_err(|e| Error::model_file(path, format!("cannot serialise tensors: {e}")))?;
    std::fs::write(path, out).map_err(|e| Error::io(path, e))
}

/// The tensors of a file read by [`read_tensors`].
#[derive(Debug)]
pub struct TensorFile {
    path: std::path::PathBuf,
    tensors: HashMap<String, (Vec<usize>, Vec<f32>)>,
    pub metadata: HashMap<String, String>,
}

impl TensorFile {
    /// Tensor `name` with exactly `shape`; finite values only.
    pub fn take(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let (s, v) = self
            .tensors
            .remove(name)
            .ok_or_else(|| Error::model_file(&self.path, format!("tensor `{name}` is missing")))?;
        if s != shape {
            return Err(Error::model_file(
                &self.path,
                format!("tensor `{name}` has shape {s:?}, expected {shape:?}"),
            ));
        }
        if let Some(i) = v.iter().position(|x| !x.is_finite()) {
            return Err(Error::model_file(
                &self.path,
                format!("tensor `{name}` holds a non-finite value at {i}"),
            ));
        }
        Ok(v)
    }

    /// The shape of tensor `name`, if the file has it (for shapes only known from the file).
    pub fn shape(&self, name: &str) -> Option<Vec<usize>> {
        self.tensors.get(name).map(|(s, _)| s.clone())
    }

    /// Metadata entry `key`, required.
    pub fn meta(&self, key: &str) -> Result<&str> {
        self.metadata
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| Error::model_file(&self.path, format!("metadata `{key}` is missing")))
    }
}

/// Reads every F32 tensor of `path`; other dtypes are an error.
pub fn read_tensors(path: &Path) -> Result<TensorFile> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let (_, header) = SafeTensors::read_metadata(&bytes)
        .map_err(|e| Error::model_file(path, format!("not a safetensors file: {e}")))?;
    let metadata = header.metadata().clone().unwrap_or_default();
    let st = SafeTensors::deserialize(&bytes)
        .map_err(|e| Error::model_file(path, format!("not a safetensors file: {e}")))?;
    let mut tensors = HashMap::new();
    for (name, view) in st.tensors() {
        if view.dtype() != Dtype::F32 {
            return Err(Error::model_file(
                path,
                format!("tensor `{name}` is {:?}, expected F32", view.dtype()),
            ));
        }
        let v: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        tensors.insert(name, (view.shape().to_vec(), v));
    }
    Ok(TensorFile {
        path: path.to_path_buf(),
        tensors,
        metadata,
    })
}
