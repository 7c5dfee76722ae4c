//! Leave-one-class-out (the GANomaly protocol): class K is the anomaly; the model is fitted on the
//! other classes and scores a test set. The split and its options.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::data::{Dataset, Labels, Loaded};
use crate::error::{Error, Result};

/// Class ids of `data`, or an error naming the dataset.
fn class_ids<'a>(data: &'a Dataset, what: &str) -> Result<(&'a [u32], usize)> {
    match data.labels() {
        Labels::Classes { ids, names } => Ok((ids, names.len())),
        _ => Err(Error::InvalidData(format!(
            "{}: leave-one-class-out needs class labels in the {what} split",
            data.name()
        ))),
    }
}

/// How leave-one-class-out divides the data and where a model that trains for several epochs
/// chooses the one it keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LocoProtocol {
    /// Train on the training split's samples of the other classes less a validation part (a
    /// seeded [`LocoOptions::val_fraction`] of them, plus [`LocoOptions::val_anomalies`] samples of
    /// class K when the user allows labelled anomalies); test on the whole test split. The test
    /// set is never used for choosing.
    #[default]
    Honest,
    /// The official GANomaly code's (`lib/data.py` `get_loaders`, `lib/model.py` `train`): the
    /// other classes' samples of both splits pooled and split 80 / 20 (seeded), the test set =
    /// those 20% + every sample of class K; the epoch with the best ROC-AUC **on that test set**
    /// is kept. Test-set selection, optimistic: only for comparing with the paper's numbers.
    Official,
}

/// Options of leave-one-class-out ([`super::Plan::LeaveOneClassOut`]).
#[derive(Debug, Clone, PartialEq)]
pub struct LocoOptions {
    pub protocol: LocoProtocol,
    /// Honest protocol: fraction of the training normals held out for choosing the epoch, for
    /// models that choose one (GANomaly). Default 0.1 (issue 3; the official code has no
    /// validation split). 0 = train on all of them and keep the last epoch.
    pub val_fraction: f64,
    /// Honest protocol: samples of class K from the training split added to the validation part
    /// (labelled anomalies the user allows the model to see); the epoch is then chosen by
    /// validation ROC-AUC instead of validation loss. Default 0.
    pub val_anomalies: usize,
    /// Train on at most this many samples (a seeded subsample), for quick runs.
    pub max_train: Option<usize>,
}

impl Default for LocoOptions {
    fn default() -> Self {
        LocoOptions {
            protocol: LocoProtocol::Honest,
            val_fraction: 0.1,
            val_anomalies: 0,
            max_train: None,
        }
    }
}

impl LocoOptions {
    /// One typed error per rule.
    pub fn validate(&self) -> Result<()> {
        if !(0.0..=0.5).contains(&self.val_fraction) {
            return Err(Error::config(
                "val-fraction",
                format!("must be in [0, 0.5], got {}", self.val_fraction),
            ));
        }
        if self.max_train.is_some_and(|m| m < 2) {
            return Err(Error::config("max-train", "must be at least 2"));
        }
        if self.protocol == LocoProtocol::Official && self.val_anomalies > 0 {
            return Err(Error::config(
                "val-anomalies",
                "applies to the honest protocol (the official one chooses on its test set)",
            ));
        }
        Ok(())
    }
}

/// The data of one leave-one-class-out run (see [`leave_one_class_out_split`]).
#[derive(Debug, Clone)]
pub struct LocoSplit {
    /// Training samples, labels removed.
    pub train: Dataset,
    /// Samples for choosing the epoch, with anomaly flags (`None` when the model does not
    /// choose one, or `val_fraction` is 0).
    pub validation: Option<Dataset>,
    pub test: Dataset,
    /// `true` = the test sample is of the anomaly class.
    pub test_flags: Vec<bool>,
}

/// Divides `data` for anomaly class `anomaly_class` under `opts` (see [`LocoProtocol`]);
/// `selects_epoch` says whether the model chooses an epoch on validation data. Seeded by `seed`
/// (a stream of its own: the model's draws do not move).
pub fn leave_one_class_out_split(
    data: &Loaded,
    anomaly_class: u32,
    opts: &LocoOptions,
    selects_epoch: bool,
    seed: u64,
) -> Result<LocoSplit> {
    opts.validate()?;
    let test = data.test.as_ref().ok_or_else(|| {
        Error::InvalidData(format!(
            "{}: leave-one-class-out needs a train/test split (e.g. an IDX directory)",
            data.train.name()
        ))
    })?;
    let (train_ids, n_classes) = class_ids(&data.train, "training")?;
    let (test_ids, _) = class_ids(test, "test")?;
    if anomaly_class as usize >= n_classes {
        return Err(Error::config(
            "anomaly-class",
            format!(
                "is {anomaly_class} but the data has {n_classes} classes (0..{})",
                n_classes.saturating_sub(1)
            ),
        ));
    }
    if opts.val_anomalies > 0 && !selects_epoch {
        return Err(Error::config(
            "val-anomalies",
            "this model does not choose an epoch on validation data",
        ));
    }
    let of = |ids: &[u32], anomalous: bool| -> Vec<usize> {
        (0..ids.len())
            .filter(|&i| (ids[i] == anomaly_class) == anomalous)
            .collect()
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x10c0_5e1e_c7ed);
    let cap = |mut idx: Vec<usize>, rng: &mut ChaCha8Rng| {
        if let Some(m) = opts.max_train.filter(|&m| m < idx.len()) {
            idx.shuffle(rng);
            idx.truncate(m);
        }
        idx.sort_unstable();
        idx
    };
    let flagged = |d: Dataset, flags: Vec<bool>| d.with_labels(Labels::Anomaly(flags));
    let (train, validation, test, test_flags) = match opts.protocol {
        LocoProtocol::Honest => {
            let mut normals = of(train_ids, false);
            let mut anomalies = of(train_ids, true);
            let n_val = if selects_epoch && opts.val_fraction > 0.0 && normals.len() >= 3 {
                ((normals.len() as f64 * opts.val_fraction).round() as usize).clamp(1, normals.len() - 2)
            } else {
                0
            };
            if opts.val_anomalies > anomalies.len() {
                return Err(Error::config(
                    "val-anomalies",
                    format!(
                        "is {} but the training split has {} samples of class {anomaly_class}",
                        opts.val_anomalies,
                        anomalies.len()
                    ),
                ));
            }
            normals.shuffle(&mut rng);
            anomalies.shuffle(&mut rng);
            let mut val: Vec<usize> = normals[..n_val].to_vec();
            val.sort_unstable();
            let mut val_anom = anomalies[..opts.val_anomalies].to_vec();
            val_anom.sort_unstable();
            let mut flags = vec![false; val.len()];
            flags.extend(std::iter::repeat_n(true, val_anom.len()));
            val.extend(val_anom);
            let train_idx = cap(normals[n_val..].to_vec(), &mut rng);
            // Anomalies alone cannot choose an epoch: no normals held out (tiny data), no validation.
            let validation = (n_val > 0)
                .then(|| flagged(data.train.select(&val)?, flags))
                .transpose()?;
            let flags: Vec<bool> = test_ids.iter().map(|&c| c == anomaly_class).collect();
            (data.train.select(&train_idx)?, validation, test.clone(), flags)
        }
        LocoProtocol::Official => {
            // Pooled normals: the training split's first, then the test split's.
            let (tr_n, te_n) = (of(train_ids, false), of(test_ids, false));
            let mut pooled: Vec<(bool, usize)> = tr_n.iter().map(|&i| (false, i)).collect();
            pooled.extend(te_n.iter().map(|&i| (true, i)));
            pooled.shuffle(&mut rng);
            let n_train = (pooled.len() as f64 * 0.8).round() as usize;
            let pick = |part: &[(bool, usize)], from_test: bool| -> Vec<usize> {
                let mut v: Vec<usize> = part.iter().filter(|p| p.0 == from_test).map(|p| p.1).collect();
                v.sort_unstable();
                v
            };
            let (head, tail) = pooled.split_at(n_train);
            // `pooled` is shuffled: its first `max_train` are a random subsample.
            let head = &head[..opts.max_train.map_or(head.len(), |m| m.min(head.len()))];
            let train = gather(&[(&data.train, pick(head, false)), (test, pick(head, true))])?;
            let (normals_tr, normals_te) = (pick(tail, false), pick(tail, true));
            let (anom_tr, anom_te) = (of(train_ids, true), of(test_ids, true));
            let mut flags = vec![false; normals_tr.len() + normals_te.len()];
            flags.extend(std::iter::repeat_n(true, anom_tr.len() + anom_te.len()));
            let test = gather(&[
                (&data.train, normals_tr),
                (test, normals_te),
                (&data.train, anom_tr),
                (test, anom_te),
            ])?
            .with_name(test.name());
            let validation = selects_epoch
                .then(|| flagged(test.clone(), flags.clone()))
                .transpose()?;
            (train, validation, test, flags)
        }
    };
    if train.n() == 0 {
        return Err(Error::InvalidData(format!(
            "{}: no training samples outside class {anomaly_class}",
            data.train.name()
        )));
    }
    let n_anom = test_flags.iter().filter(|&&f| f).count();
    if n_anom == 0 || n_anom == test_flags.len() {
        return Err(Error::InvalidData(format!(
            "{}: the test set needs samples of class {anomaly_class} and of other classes ({n_anom} of {})",
            test.name(),
            test_flags.len()
        )));
    }
    Ok(LocoSplit {
        train: train.with_labels(Labels::None)?,
        validation,
        test,
        test_flags,
    })
}

/// The samples `idx` of each part, joined in order (empty parts skipped).
fn gather(parts: &[(&Dataset, Vec<usize>)]) -> Result<Dataset> {
    let mut out: Option<Dataset> = None;
    for (data, idx) in parts.iter().filter(|p| !p.1.is_empty()) {
        let part = data.select(idx)?;
        out = Some(match out {
            Some(o) => o.concat(&part)?,
            None => part,
        });
    }
    out.ok_or_else(|| Error::InvalidData("leave-one-class-out: an empty part".into()))
}
