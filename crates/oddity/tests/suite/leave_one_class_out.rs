//! The leave-one-class-out splits: honest (validation carved from the training normals, the test
//! split untouched) and official (normals of both splits pooled 80/20, test-set selection).

use oddity::Error;
use oddity::data::{Dataset, Labels, Layout, Loaded};
use oddity::eval::{LocoOptions, LocoProtocol, leave_one_class_out_split};

/// 50 training and 20 test images of 5 classes (class = i % 5); each image's first value is a
/// unique id (training i, test 1000 + i) so samples can be traced through a split.
fn data() -> Loaded {
    let split = |n: usize, base: usize, name: &str| {
        let x: Vec<f32> = (0..n).flat_map(|i| [(base + i) as f32, 0.0, 0.0, 0.0]).collect();
        let labels = Labels::Classes {
            ids: (0..n as u32).map(|i| i % 5).collect(),
            names: (0..5).map(|c| c.to_string()).collect(),
        };
        Dataset::new(name, Layout::Images { c: 1, h: 2, w: 2 }, x, labels).unwrap()
    };
    Loaded {
        train: split(50, 0, "train"),
        test: Some(split(20, 1000, "test")),
    }
}

fn ids(d: &Dataset) -> Vec<usize> {
    (0..d.n()).map(|i| d.row(i)[0] as usize).collect()
}

fn class_of(id: usize) -> usize {
    (id % 1000) % 5
}

#[test]
fn honest_split_holds_out_a_tenth_of_the_training_normals_and_tests_on_the_test_split() {
    let opts = LocoOptions::default();
    let s = leave_one_class_out_split(&data(), 0, &opts, true, 7).unwrap();
    let (train, val) = (ids(&s.train), ids(s.validation.as_ref().unwrap()));
    assert_eq!(
        (train.len(), val.len()),
        (36, 4),
        "40 training normals, round(0.1 * 40) = 4 held out"
    );
    assert!(train.iter().chain(&val).all(|&i| i < 1000 && class_of(i) != 0));
    assert!(val.iter().all(|i| !train.contains(i)));
    assert!(matches!(s.train.labels(), Labels::None));
    assert_eq!(s.validation.as_ref().unwrap().anomaly_flags().unwrap(), &[false; 4]);
    assert_eq!(ids(&s.test), (1000..1020).collect::<Vec<_>>(), "the whole test split");
    assert_eq!(s.test_flags, (0..20).map(|i| i % 5 == 0).collect::<Vec<_>>());
    // Seeded: the same seed gives the same parts, another seed other ones.
    let again = leave_one_class_out_split(&data(), 0, &opts, true, 7).unwrap();
    assert_eq!(ids(&again.train), train);
    let other = leave_one_class_out_split(&data(), 0, &opts, true, 8).unwrap();
    assert_ne!(ids(other.validation.as_ref().unwrap()), val);
    // A model that does not choose an epoch trains on every normal.
    let s = leave_one_class_out_split(&data(), 0, &opts, false, 7).unwrap();
    assert_eq!((s.train.n(), s.validation.is_none()), (40, true));
    // val_fraction 0: no validation part.
    let none = LocoOptions {
        val_fraction: 0.0,
        ..LocoOptions::default()
    };
    let s = leave_one_class_out_split(&data(), 0, &none, true, 7).unwrap();
    assert_eq!((s.train.n(), s.validation.is_none()), (40, true));
}

#[test]
fn labelled_validation_anomalies_come_from_the_training_split_of_class_k() {
    let opts = LocoOptions {
        val_anomalies: 3,
        ..LocoOptions::default()
    };
    let s = leave_one_class_out_split(&data(), 2, &opts, true, 1).unwrap();
    let val = s.validation.as_ref().unwrap();
    let flags = val.anomaly_flags().unwrap();
    assert_eq!((val.n(), flags.iter().filter(|&&f| f).count()), (7, 3));
    for (id, &f) in ids(val).iter().zip(flags) {
        assert!(*id < 1000 && (class_of(*id) == 2) == f);
    }
    assert!(ids(&s.train).iter().all(|&i| class_of(i) != 2));
}

#[test]
fn max_train_subsamples_the_training_normals() {
    let opts = LocoOptions {
        max_train: Some(10),
        ..LocoOptions::default()
    };
    let s = leave_one_class_out_split(&data(), 0, &opts, true, 3).unwrap();
    let (train, val) = (ids(&s.train), ids(s.validation.as_ref().unwrap()));
    assert_eq!(train.len(), 10);
    assert!(train.iter().all(|&i| class_of(i) != 0 && !val.contains(&i)));
    assert!(train.windows(2).all(|w| w[0] < w[1]), "kept in data order");
}

#[test]
fn official_split_pools_the_normals_of_both_splits_and_chooses_on_the_test_set() {
    let opts = LocoOptions {
        protocol: LocoProtocol::Official,
        ..LocoOptions::default()
    };
    let s = leave_one_class_out_split(&data(), 0, &opts, true, 5).unwrap();
    let (train, test) = (ids(&s.train), ids(&s.test));
    // 40 + 16 normals pooled: round(0.8 * 56) = 45 train, 11 test; anomalies 10 + 4, all tested.
    assert_eq!((train.len(), test.len()), (45, 11 + 14));
    let mut normals: Vec<usize> = train
        .iter()
        .chain(&test)
        .copied()
        .filter(|&i| class_of(i) != 0)
        .collect();
    normals.sort_unstable();
    let mut expected: Vec<usize> = (0..50).chain(1000..1020).filter(|&i| class_of(i) != 0).collect();
    expected.sort_unstable();
    assert_eq!(normals, expected, "every normal exactly once");
    assert!(
        train.iter().any(|&i| i >= 1000),
        "test-split normals are pooled into training"
    );
    for (id, &f) in test.iter().zip(&s.test_flags) {
        assert_eq!(class_of(*id) == 0, f);
    }
    assert_eq!(s.test_flags.iter().filter(|&&f| f).count(), 14);
    let val = s.validation.as_ref().unwrap();
    assert_eq!(ids(val), test, "the epoch is chosen on the test set");
    assert_eq!(val.anomaly_flags().unwrap(), s.test_flags.as_slice());
}

#[test]
fn bad_options_are_typed_errors_naming_the_flag() {
    let check = |opts: LocoOptions, selects: bool, field: &str| {
        let err = leave_one_class_out_split(&data(), 0, &opts, selects, 0).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidConfig { field: f, .. } if f == field),
            "{err}"
        );
    };
    let d = LocoOptions::default;
    check(
        LocoOptions {
            val_fraction: 0.6,
            ..d()
        },
        true,
        "val-fraction",
    );
    check(
        LocoOptions {
            val_fraction: f64::NAN,
            ..d()
        },
        true,
        "val-fraction",
    );
    check(
        LocoOptions {
            max_train: Some(1),
            ..d()
        },
        true,
        "max-train",
    );
    check(
        LocoOptions {
            val_anomalies: 11,
            ..d()
        },
        true,
        "val-anomalies",
    );
    check(
        LocoOptions {
            val_anomalies: 1,
            ..d()
        },
        false,
        "val-anomalies",
    );
    let official = LocoOptions {
        protocol: LocoProtocol::Official,
        val_anomalies: 1,
        ..d()
    };
    check(official, true, "val-anomalies");
}
