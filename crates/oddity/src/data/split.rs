//! The weakly supervised protocol of DevNet (Pang et al. KDD 2019) and DPLAN (Pang et al. KDD 2021):
//! a stratified train/test split; from the training anomalies a few are labelled (default 60); the
//! rest of the training data is unlabelled and contaminated with anomalies at a set rate (default 2%
//! of the unlabelled set; anomalies beyond that are dropped from training). The test split is
//! untouched.
//!
//! The training [`Dataset`] carries `Labels::Anomaly` flags meaning **labelled anomaly** (true) vs
//! **unlabelled** (false); weakly supervised models read them, unsupervised ones ignore them.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{Dataset, Labels};
use crate::error::{Error, Result};

/// Mixed into the seed so the split and a model fitted with the same seed draw different numbers.
const SPLIT_STREAM: u64 = 0x5EED_0F_5B117;

/// Parameters of the split.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WeakSplitConfig {
    /// Fraction of each class held out for testing. Default 0.2 (DevNet's and DPLAN's 80/20
    /// stratified split).
    pub test_fraction: f64,
    /// Number of labelled anomalies |D^a|. Default 60 (DPLAN, DevNet).
    pub labeled_anomalies: usize,
    /// Fraction of anomalies in the unlabelled training set D^u. Default 0.02 (DPLAN, DevNet).
    pub contamination: f64,
}

impl Default for WeakSplitConfig {
    fn default() -> Self {
        WeakSplitConfig {
            test_fraction: 0.2,
            labeled_anomalies: 60,
            contamination: 0.02,
        }
    }
}

impl WeakSplitConfig {
    pub fn validate(&self) -> Result<()> {
        if !(self.test_fraction > 0.0 && self.test_fraction < 1.0) {
            return Err(Error::config(
                "test-fraction",
                format!("must be in (0, 1), got {}", self.test_fraction),
            ));
        }
        if self.labeled_anomalies == 0 {
            return Err(Error::config("labeled-anomalies", "must be at least 1"));
        }
        if !(self.contamination >= 0.0 && self.contamination < 0.5) {
            return Err(Error::config(
                "contamination",
                format!("must be in [0, 0.5), got {}", self.contamination),
            ));
        }
        Ok(())
    }
}

/// The result of [`weakly_supervised_split`].
#[derive(Debug, Clone)]
pub struct WeakSplit {
    /// Training data; flags = labelled anomaly (true) or unlabelled (false).
    pub train: Dataset,
    /// True anomaly flags of the training samples (unlabelled anomalies included), for reports.
    pub train_truth: Vec<bool>,
    /// Test data with its true anomaly flags.
    pub test: Dataset,
    /// Number of anomalies in the unlabelled training set.
    pub unlabeled_anomalies: usize,
}

/// Splits `data` (anomaly labels required) for the weakly supervised protocol. The same `seed`
/// gives the same split, so every model sees the same data and labelled anomalies.
pub fn weakly_supervised_split(data: &Dataset, cfg: &WeakSplitConfig, seed: u64) -> Result<WeakSplit> {
    cfg.validate()?;
    let flags = data.require_anomaly_flags()?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ SPLIT_STREAM);
    let mut anomalies: Vec<usize> = (0..flags.len()).filter(|&i| flags[i]).collect();
    let mut normals: Vec<usize> = (0..flags.len()).filter(|&i| !flags[i]).collect();
    anomalies.shuffle(&mut rng);
    normals.shuffle(&mut rng);
    let n_test_anom = ((anomalies.len() as f64 * cfg.test_fraction).round() as usize).max(1);
    let n_test_norm = ((normals.len() as f64 * cfg.test_fraction).round() as usize).max(1);
    if anomalies.len() < n_test_anom + 1 || normals.len() < n_test_norm + 1 {
        return Err(Error::InvalidData(format!(
            "{}: too few samples for a stratified split ({} anomalies, {} normal)",
            data.name(),
            anomalies.len(),
            normals.len()
        )));
    }
    let (test_anom, train_anom) = anomalies.split_at(n_test_anom);
    let (test_norm, train_norm) = normals.split_at(n_test_norm);
    if train_anom.len() < cfg.labeled_anomalies {
        return Err(Error::config(
            "labeled-anomalies",
            format!(
                "is {} but the training split of {} has only {} anomalies ({} in all); use at most {}",
                cfg.labeled_anomalies,
                data.name(),
                train_anom.len(),
                anomalies.len(),
                train_anom.len()
            ),
        ));
    }
    let (labeled, rest) = train_anom.split_at(cfg.labeled_anomalies);
    // c = a / (a + normals) ⇒ a = c·normals / (1 − c)
    let want = (cfg.contamination * train_norm.len() as f64 / (1.0 - cfg.contamination)).round() as usize;
    let unlabeled_anom = &rest[..want.min(rest.len())];

    let mut train_idx: Vec<usize> = labeled
        .iter()
        .chain(unlabeled_anom)
        .chain(train_norm)
        .copied()
        .collect();
    train_idx.sort_unstable();
    let mut test_idx: Vec<usize> = test_anom.iter().chain(test_norm).copied().collect();
    test_idx.sort_unstable();
    let is_labeled = |i: &usize| labeled.contains(i);
    let train_flags: Vec<bool> = train_idx.iter().map(is_labeled).collect();
    let train_truth: Vec<bool> = train_idx.iter().map(|&i| flags[i]).collect();
    let train = data
        .select(&train_idx)?
        .with_labels(Labels::Anomaly(train_flags))?
        .with_name(format!("{} (train)", data.name()));
    let test = data.select(&test_idx)?.with_name(format!("{} (test)", data.name()));
    Ok(WeakSplit {
        train,
        train_truth,
        test,
        unlabeled_anomalies: unlabeled_anom.len(),
    })
}

/// Indices of the labelled anomalies and of the unlabelled samples of a weakly supervised
/// training set; an error naming `model` when there are no labels or no labelled anomaly.
pub fn labeled_and_unlabeled(train: &Dataset, model: &str) -> Result<(Vec<usize>, Vec<usize>)> {
    let flags = train.anomaly_flags().ok_or_else(|| {
        Error::InvalidData(format!(
            "{}: `{model}` is weakly supervised: it needs anomaly labels (1 = labelled anomaly, 0 = unlabelled)",
            train.name()
        ))
    })?;
    let a: Vec<usize> = (0..flags.len()).filter(|&i| flags[i]).collect();
    let u: Vec<usize> = (0..flags.len()).filter(|&i| !flags[i]).collect();
    if a.is_empty() {
        return Err(Error::InvalidData(format!(
            "{}: `{model}` needs at least one labelled anomaly (label 1) in the training data",
            train.name()
        )));
    }
    if u.is_empty() {
        return Err(Error::InvalidData(format!(
            "{}: `{model}` needs unlabelled samples (label 0) in the training data",
            train.name()
        )));
    }
    Ok((a, u))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n_norm: usize, n_anom: usize) -> Dataset {
        let n = n_norm + n_anom;
        let x: Vec<f32> = (0..n).map(|i| i as f32).collect();
        let flags: Vec<bool> = (0..n).map(|i| i >= n_norm).collect();
        Dataset::tabular("toy", 1, x, Labels::Anomaly(flags)).unwrap()
    }

    #[test]
    fn split_is_stratified_labelled_and_contaminated() {
        let d = data(1000, 200);
        let cfg = WeakSplitConfig::default();
        let s = weakly_supervised_split(&d, &cfg, 7).unwrap();
        let test_flags = s.test.anomaly_flags().unwrap();
        assert_eq!(test_flags.iter().filter(|&&f| f).count(), 40);
        assert_eq!(s.test.n(), 240);
        let labeled = s.train.anomaly_flags().unwrap().iter().filter(|&&f| f).count();
        assert_eq!(labeled, 60);
        // D^u: 800 normals + round(0.02·800/0.98) = 16 anomalies
        assert_eq!(s.unlabeled_anomalies, 16);
        assert_eq!(s.train.n(), 60 + 16 + 800);
        assert_eq!(s.train_truth.iter().filter(|&&f| f).count(), 76);
        // train and test are disjoint (x = original index)
        let tr: std::collections::HashSet<u32> = s.train.x().iter().map(|v| *v as u32).collect();
        assert!(s.test.x().iter().all(|v| !tr.contains(&(*v as u32))));
        // same seed, same split; another seed, another split
        let again = weakly_supervised_split(&d, &cfg, 7).unwrap();
        assert_eq!(again.train.x(), s.train.x());
        let other = weakly_supervised_split(&d, &cfg, 8).unwrap();
        assert_ne!(other.train.x(), s.train.x());
    }

    #[test]
    fn too_few_anomalies_is_an_error_naming_the_flag() {
        let d = data(1000, 20);
        let e = weakly_supervised_split(&d, &WeakSplitConfig::default(), 0).unwrap_err();
        assert!(e.to_string().contains("labeled-anomalies"), "{e}");
    }

    #[test]
    fn bad_parameters_are_typed_errors() {
        let d = data(100, 30);
        for cfg in [
            WeakSplitConfig {
                test_fraction: 1.0,
                ..Default::default()
            },
            WeakSplitConfig {
                labeled_anomalies: 0,
                ..Default::default()
            },
            WeakSplitConfig {
                contamination: 0.7,
                ..Default::default()
            },
        ] {
            assert!(matches!(
                weakly_supervised_split(&d, &cfg, 0),
                Err(Error::InvalidConfig { .. })
            ));
        }
    }

    #[test]
    fn labelled_indices_need_both_kinds() {
        let d = data(10, 2);
        let (a, u) = labeled_and_unlabeled(&d, "m").unwrap();
        assert_eq!((a.len(), u.len()), (2, 10));
        let none = d.clone().with_labels(Labels::Anomaly(vec![false; 12])).unwrap();
        assert!(labeled_and_unlabeled(&none, "m").is_err());
        let unl = d.with_labels(Labels::None).unwrap();
        assert!(labeled_and_unlabeled(&unl, "m").is_err());
    }
}
