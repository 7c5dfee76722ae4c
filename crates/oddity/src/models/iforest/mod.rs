//! Placeholder: Isolation Forest is being written (replaced before merge).
#![allow(unused)]
use crate::data::Dataset;
use crate::detector::{FitContext, Model, ModelConfig};
use crate::error::{Error, Result};
use std::path::Path;
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IForestConfig {
    pub n_estimators: usize,
}
impl ModelConfig for IForestConfig {
    fn validate(&self) -> Result<()> {
        Ok(())
    }
}
pub struct IForest {
    mean: Vec<f32>,
}
impl Model for IForest {
    const KIND: &'static str = "iforest";
    type Config = IForestConfig;
    fn fit(_: &IForestConfig, train: &Dataset, _: &FitContext) -> Result<Self> {
        let d = train.dim();
        let mut mean = vec![0f32; d];
        for i in 0..train.n() {
            for (m, v) in mean.iter_mut().zip(train.row(i)) {
                *m += v / train.n() as f32;
            }
        }
        Ok(IForest { mean })
    }
    fn score(&self, data: &Dataset) -> Result<Vec<f32>> {
        Ok((0..data.n())
            .map(|i| data.row(i).iter().zip(&self.mean).map(|(a, b)| (a - b) * (a - b)).sum())
            .collect())
    }
    fn save_weights(&self, path: &Path) -> Result<()> {
        std::fs::write(path, serde_json::to_vec(&self.mean).unwrap()).map_err(|e| Error::io(path, e))
    }
    fn load_weights(_: &IForestConfig, path: &Path) -> Result<Self> {
        Ok(IForest {
            mean: serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap(),
        })
    }
}
