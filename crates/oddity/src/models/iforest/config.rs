//! Isolation Forest hyperparameters.
//!
//! Defaults follow Liu, Ting & Zhou, "Isolation Forest", ICDM 2008 (§4: t = 100 trees,
//! sub-sampling size ψ = 256) and scikit-learn's `IsolationForest` (`n_estimators=100`,
//! `max_samples="auto"`, `max_features=1.0`, `bootstrap=False`).

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::data::Layout;
use crate::detector::ModelConfig;
use crate::error::{Error, Result};

/// Sub-sample size ψ used to grow each tree.
///
/// Accepts the same three forms as scikit-learn's `max_samples`: `"auto"`, an integer count or a
/// fraction of the training samples. As in scikit-learn, an integer `1` means one sample and a
/// float `1.0` means all of them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum MaxSamples {
    /// `min(256, n)`: ψ = 256 is the paper's default (Liu et al. 2008, §4) and scikit-learn's "auto".
    #[default]
    Auto,
    /// A sample count; larger than `n` means all `n` samples (scikit-learn warns and does the same).
    Count(u64),
    /// A fraction in (0, 1] of the training samples, rounded down (`int(f * n)` as in scikit-learn).
    Fraction(f64),
}

impl MaxSamples {
    /// ψ for `n` training samples. Fails when a fraction leaves no sample at all.
    pub fn resolve(&self, n: usize) -> Result<usize> {
        let psi = match *self {
            MaxSamples::Auto => n.min(256),
            MaxSamples::Count(c) => usize::try_from(c).unwrap_or(usize::MAX).min(n),
            MaxSamples::Fraction(f) => (f * n as f64).floor() as usize,
        };
        if psi == 0 {
            return Err(Error::config(
                "max_samples",
                format!("{self} of {n} training samples is 0 samples; use a larger value"),
            ));
        }
        Ok(psi)
    }
}

impl fmt::Display for MaxSamples {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MaxSamples::Auto => f.write_str("auto"),
            MaxSamples::Count(c) => write!(f, "{c}"),
            MaxSamples::Fraction(x) => write!(f, "{x:?}"),
        }
    }
}

impl Serialize for MaxSamples {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match *self {
            MaxSamples::Auto => s.serialize_str("auto"),
            MaxSamples::Count(c) => s.serialize_u64(c),
            MaxSamples::Fraction(x) => s.serialize_f64(x),
        }
    }
}

impl<'de> Deserialize<'de> for MaxSamples {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(MaxSamplesVisitor)
    }
}

struct MaxSamplesVisitor;

impl Visitor<'_> for MaxSamplesVisitor {
    type Value = MaxSamples;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("\"auto\", a sample count (integer >= 1) or a fraction in (0, 1]")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<MaxSamples, E> {
        Ok(MaxSamples::Count(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<MaxSamples, E> {
        u64::try_from(v)
            .map(MaxSamples::Count)
            .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<MaxSamples, E> {
        Ok(MaxSamples::Fraction(v))
    }

    /// `"auto"`, or a number written as a string (`"128"`, `"0.5"`) for command lines.
    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<MaxSamples, E> {
        let t = v.trim();
        if t.eq_ignore_ascii_case("auto") {
            Ok(MaxSamples::Auto)
        } else if let Ok(c) = t.parse::<u64>() {
            Ok(MaxSamples::Count(c))
        } else if let Ok(x) = t.parse::<f64>() {
            Ok(MaxSamples::Fraction(x))
        } else {
            Err(E::invalid_value(de::Unexpected::Str(v), &self))
        }
    }
}

/// Isolation Forest hyperparameters (Liu, Ting & Zhou 2008; scikit-learn `IsolationForest`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IForestConfig {
    /// Number of isolation trees, t. Default 100: Liu et al. 2008 (§4, path lengths converge well
    /// before t = 100) and scikit-learn's `n_estimators=100`.
    pub n_estimators: usize,
    /// Sub-sample size ψ per tree. Default `"auto"` = min(256, n): Liu et al. 2008 (§4, ψ = 256)
    /// and scikit-learn's `max_samples="auto"`.
    pub max_samples: MaxSamples,
    /// Fraction in (0, 1] of the features each tree may split on; each tree draws
    /// `max(1, floor(max_features * d))` features without replacement. Default 1.0 (all features):
    /// the paper's trees see every attribute, and scikit-learn's `max_features=1.0`.
    /// (scikit-learn also takes an integer count here; oddity takes only the fraction.)
    pub max_features: f64,
    /// Draw each tree's ψ samples with replacement. Default `false`: the paper sub-samples without
    /// replacement (Liu et al. 2008, §3), as does scikit-learn's `bootstrap=False`.
    pub bootstrap: bool,
}

impl Default for IForestConfig {
    fn default() -> Self {
        IForestConfig {
            n_estimators: 100,
            max_samples: MaxSamples::Auto,
            max_features: 1.0,
            bootstrap: false,
        }
    }
}

impl IForestConfig {
    /// Number of features each tree sees when the data has `d` features.
    pub fn features_per_tree(&self, d: usize) -> usize {
        ((self.max_features * d as f64).floor() as usize).clamp(1, d.max(1))
    }
}

impl ModelConfig for IForestConfig {
    fn validate(&self) -> Result<()> {
        if self.n_estimators == 0 {
            return Err(Error::config("n_estimators", "must be at least 1, got 0"));
        }
        match self.max_samples {
            MaxSamples::Auto => {}
            MaxSamples::Count(0) => {
                return Err(Error::config(
                    "max_samples",
                    "must be \"auto\", a count >= 1 or a fraction in (0, 1]; got 0",
                ));
            }
            MaxSamples::Count(_) => {}
            MaxSamples::Fraction(f) => {
                if !(f > 0.0 && f <= 1.0) {
                    return Err(Error::config(
                        "max_samples",
                        format!("as a fraction must be in (0, 1], got {f:?} (write a count as an integer)"),
                    ));
                }
            }
        }
        if !(self.max_features > 0.0 && self.max_features <= 1.0) {
            return Err(Error::config(
                "max_features",
                format!("must be a fraction in (0, 1], got {:?}", self.max_features),
            ));
        }
        Ok(())
    }

    /// Each tree holds up to 2ψ − 1 nodes of 20 bytes (feature, threshold, children, leaf value).
    fn memory(&self, _layout: Layout, n: usize) -> Vec<(&'static str, Option<u128>)> {
        let psi = self.max_samples.resolve(n).unwrap_or(n).max(1);
        vec![("n_estimators", crate::budget::bytes(&[self.n_estimators, 2 * psi], 20))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(e: Error) -> String {
        match e {
            Error::InvalidConfig { field, .. } => field,
            other => panic!("expected InvalidConfig, got {other}"),
        }
    }

    #[test]
    fn defaults_match_paper_and_sklearn() {
        let c = IForestConfig::default();
        assert_eq!(c.n_estimators, 100);
        assert_eq!(c.max_samples, MaxSamples::Auto);
        assert_eq!(c.max_features, 1.0);
        assert!(!c.bootstrap);
        assert!(c.validate().is_ok());
        // Missing fields take their defaults.
        let c: IForestConfig = serde_json::from_value(json!({})).unwrap();
        assert_eq!(c, IForestConfig::default());
    }

    #[test]
    fn max_samples_accepts_auto_count_fraction_and_strings() {
        let parse = |v| {
            serde_json::from_value::<IForestConfig>(json!({ "max_samples": v }))
                .unwrap()
                .max_samples
        };
        assert_eq!(parse(json!("auto")), MaxSamples::Auto);
        assert_eq!(parse(json!(128)), MaxSamples::Count(128));
        assert_eq!(parse(json!(0.5)), MaxSamples::Fraction(0.5));
        assert_eq!(parse(json!(1.0)), MaxSamples::Fraction(1.0));
        assert_eq!(parse(json!("128")), MaxSamples::Count(128));
        assert_eq!(parse(json!("0.5")), MaxSamples::Fraction(0.5));
        for bad in [json!("many"), json!(-3), json!(true)] {
            assert!(serde_json::from_value::<IForestConfig>(json!({ "max_samples": bad })).is_err());
        }
    }

    #[test]
    fn serde_round_trip_and_unknown_fields() {
        for ms in [MaxSamples::Auto, MaxSamples::Count(64), MaxSamples::Fraction(0.25)] {
            let c = IForestConfig {
                n_estimators: 7,
                max_samples: ms,
                max_features: 0.5,
                bootstrap: true,
            };
            let back: IForestConfig = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
            assert_eq!(back, c);
        }
        assert!(serde_json::from_value::<IForestConfig>(json!({ "n_trees": 10 })).is_err());
    }

    #[test]
    fn rule_n_estimators_at_least_one() {
        let c = IForestConfig {
            n_estimators: 0,
            ..Default::default()
        };
        assert_eq!(field(c.validate().unwrap_err()), "n_estimators");
        assert!(
            IForestConfig {
                n_estimators: 1,
                ..Default::default()
            }
            .validate()
            .is_ok()
        );
    }

    #[test]
    fn rule_max_samples_count_at_least_one() {
        let c = IForestConfig {
            max_samples: MaxSamples::Count(0),
            ..Default::default()
        };
        assert_eq!(field(c.validate().unwrap_err()), "max_samples");
        assert!(
            IForestConfig {
                max_samples: MaxSamples::Count(1),
                ..Default::default()
            }
            .validate()
            .is_ok()
        );
    }

    #[test]
    fn rule_max_samples_fraction_in_unit_interval() {
        for bad in [0.0, -0.5, 1.5, f64::NAN, f64::INFINITY] {
            let c = IForestConfig {
                max_samples: MaxSamples::Fraction(bad),
                ..Default::default()
            };
            assert_eq!(field(c.validate().unwrap_err()), "max_samples", "{bad}");
        }
        assert!(
            IForestConfig {
                max_samples: MaxSamples::Fraction(1.0),
                ..Default::default()
            }
            .validate()
            .is_ok()
        );
    }

    #[test]
    fn rule_max_features_in_unit_interval() {
        for bad in [0.0, -1.0, 1.01, 2.0, f64::NAN] {
            let c = IForestConfig {
                max_features: bad,
                ..Default::default()
            };
            assert_eq!(field(c.validate().unwrap_err()), "max_features", "{bad}");
        }
        assert!(
            IForestConfig {
                max_features: 0.01,
                ..Default::default()
            }
            .validate()
            .is_ok()
        );
    }

    #[test]
    fn rule_max_samples_fraction_leaving_no_sample_fails_at_resolve() {
        let e = MaxSamples::Fraction(0.01).resolve(50).unwrap_err();
        assert_eq!(field(e), "max_samples");
    }

    #[test]
    fn resolve_matches_sklearn() {
        assert_eq!(MaxSamples::Auto.resolve(1000).unwrap(), 256);
        assert_eq!(MaxSamples::Auto.resolve(100).unwrap(), 100);
        assert_eq!(MaxSamples::Count(500).resolve(100).unwrap(), 100);
        assert_eq!(MaxSamples::Count(64).resolve(100).unwrap(), 64);
        // int(0.35 * 99) == 34
        assert_eq!(MaxSamples::Fraction(0.35).resolve(99).unwrap(), 34);
        assert_eq!(MaxSamples::Fraction(1.0).resolve(7).unwrap(), 7);
    }

    #[test]
    fn features_per_tree_matches_sklearn() {
        // max(1, int(max_features * d))
        let c = |f| IForestConfig {
            max_features: f,
            ..Default::default()
        };
        assert_eq!(c(1.0).features_per_tree(21), 21);
        assert_eq!(c(0.5).features_per_tree(21), 10);
        assert_eq!(c(0.01).features_per_tree(21), 1);
    }
}
