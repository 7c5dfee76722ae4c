//! DPLAN: the reward table, the nearest/farthest search against brute force, a seeded run on the
//! shipped cardio set against Isolation Forest on the same split, the model file, bad inputs.

use oddity::Error;
use oddity::data::split::{WeakSplitConfig, weakly_supervised_split};
use oddity::data::{Dataset, Labels, LoadOptions, load};
use oddity::detector::{Common, Detector, FitContext, Model};
use oddity::metrics::average_precision;
use oddity::models::dplan::env::{ANOMALOUS, Env, NORMAL, extrinsic_reward, nearest_or_farthest};
use oddity::models::dplan::{Dplan, DplanConfig};
use oddity::models::iforest::{IForest, IForestConfig};
use oddity::nn::{Activation, Mlp};
use oddity::persist;
use oddity::progress::Silent;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn cardio() -> Dataset {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/adbench/6_cardio.npz");
    load(path, &LoadOptions::default()).unwrap().into_all().unwrap()
}

/// The paper's settings with 5,000 warm-up steps + 5 episodes: a third of its 30,000 steps, for
/// test time.
fn short() -> DplanConfig {
    DplanConfig {
        warmup_steps: 5000,
        episodes: 5,
        target_update: 5000,
        ..DplanConfig::paper()
    }
}

#[test]
fn extrinsic_reward_table() {
    // DPLAN Eq. 4: (labelled anomaly, a¹) → 1; (unlabelled, a⁰) → 0; otherwise −1.
    assert_eq!(extrinsic_reward(true, ANOMALOUS), 1.0);
    assert_eq!(extrinsic_reward(true, NORMAL), -1.0);
    assert_eq!(extrinsic_reward(false, NORMAL), 0.0);
    assert_eq!(extrinsic_reward(false, ANOMALOUS), -1.0);
}

#[test]
fn nearest_and_farthest_match_brute_force() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (n, d, h) = (300, 6, 20);
    let x: Vec<f32> = (0..n * d).map(|_| rng.random_range(-2.0..2.0)).collect();
    let net = Mlp::new(&[d, h, 2], &[Activation::Relu, Activation::Linear], true, &mut rng);
    let hidden = net.forward_layers(&x, n, 1);
    let dist = |a: usize, b: usize| -> f32 { (0..h).map(|k| (hidden[a * h + k] - hidden[b * h + k]).powi(2)).sum() };
    let mut env = Env::new(&x, d, vec![0, 1], (2..n).collect(), 0.5, 100);
    for trial in 0..20 {
        let s = rng.random_range(0..n);
        let cands: Vec<usize> = (0..100).map(|_| rng.random_range(2..n)).collect();
        for nearest in [true, false] {
            let got = nearest_or_farthest(&mut env, s, &cands, nearest, &net);
            let want = (0..cands.len())
                .min_by(|&a, &b| {
                    let (da, db) = (dist(s, cands[a]), dist(s, cands[b]));
                    let ord = da.partial_cmp(&db).unwrap();
                    if nearest { ord } else { ord.reverse() }
                })
                .unwrap();
            let (dg, dw) = (dist(s, cands[got]), dist(s, cands[want]));
            assert!(
                (dg - dw).abs() <= 1e-4 * dw.max(1.0),
                "trial {trial} nearest={nearest}: {dg} vs {dw}"
            );
        }
    }
    // With p = 1 the next state is always a labelled anomaly; with p = 0 never.
    let mut env = Env::new(&x, d, vec![0, 1], (2..n).collect(), 1.0, 50);
    assert!((0..50).all(|_| env.next_state(10, NORMAL, &net, &mut rng) < 2));
    let mut env = Env::new(&x, d, vec![0, 1], (2..n).collect(), 0.0, 50);
    assert!((0..50).all(|_| env.next_state(10, ANOMALOUS, &net, &mut rng) >= 2));
}

#[test]
fn beats_isolation_forest_on_cardio_and_round_trips() {
    let data = cardio();
    let split = weakly_supervised_split(
        &data,
        &WeakSplitConfig {
            labeled_anomalies: 30,
            ..Default::default()
        },
        1,
    )
    .unwrap();
    let truth = split.test.anomaly_flags().unwrap().to_vec();
    let ctx = FitContext::new(1, &Silent);
    let det = Detector::<Dplan>::fit(short(), Common::default(), &split.train, &ctx).unwrap();
    let scores = det.score(&split.test).unwrap();
    let ap = average_precision(&truth, &scores).unwrap();
    let forest = IForest::fit(&IForestConfig::default(), &split.train, &ctx).unwrap();
    let ap_forest = average_precision(&truth, &forest.score(&split.test).unwrap()).unwrap();
    // Measured: DPLAN 0.805, iForest 0.577 (positive rate 0.096).
    assert!(ap > 0.7, "DPLAN AUC-PR {ap:.3}");
    assert!(ap > ap_forest + 0.1, "DPLAN {ap:.3} vs iForest {ap_forest:.3}");
    // 15,000 steps in episodes of 2,000: 7 full episodes and a last half one.
    assert_eq!(det.model.history.len(), 8);
    assert_eq!(det.model.history.iter().filter(|e| !e.training).count(), 2);

    // Same seed, same scores.
    let again = Detector::<Dplan>::fit(short(), Common::default(), &split.train, &ctx).unwrap();
    assert_eq!(again.score(&split.test).unwrap(), scores);

    // Save → load → identical scores.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model");
    persist::save(&det, &path).unwrap();
    let back = oddity::registry::load(&path).unwrap();
    assert_eq!(back.kind(), "dplan");
    assert_eq!(back.score(&split.test).unwrap(), scores);
    let typed = persist::load::<Dplan>(&path, &oddity::backend::cpu()).unwrap();
    assert_eq!(typed.model.history, det.model.history);
}

#[test]
fn bad_inputs_are_typed_errors() {
    let data = cardio();
    let ctx = FitContext::new(0, &Silent);
    let tiny = DplanConfig {
        warmup_steps: 10,
        episodes: 1,
        steps_per_episode: 10,
        ..Default::default()
    };
    // No labelled anomaly.
    let none = data
        .clone()
        .with_labels(Labels::Anomaly(vec![false; data.n()]))
        .unwrap();
    let e = match Detector::<Dplan>::fit(tiny.clone(), Common::default(), &none, &ctx) {
        Err(e) => e,
        Ok(_) => panic!("fitted without labelled anomalies"),
    };
    assert!(e.to_string().contains("labelled anomaly"), "{e}");
    // No labels at all.
    let unl = data.clone().with_labels(Labels::None).unwrap();
    assert!(matches!(
        Detector::<Dplan>::fit(tiny.clone(), Common::default(), &unl, &ctx),
        Err(Error::InvalidData(_))
    ));
    // Labels that are classes, not 0/1.
    let classes = data
        .clone()
        .with_labels(Labels::Classes {
            ids: (0..data.n() as u32).map(|i| i % 3).collect(),
            names: vec!["a".into(), "b".into(), "c".into()],
        })
        .unwrap();
    assert!(Detector::<Dplan>::fit(tiny.clone(), Common::default(), &classes, &ctx).is_err());
    // p outside [0, 1].
    for p in [-0.1, 1.5] {
        let cfg = DplanConfig {
            p_labeled: p,
            ..tiny.clone()
        };
        assert!(matches!(
            Detector::<Dplan>::fit(cfg, Common::default(), &data, &ctx),
            Err(Error::InvalidConfig { .. })
        ));
    }
    // Scoring data with another feature count.
    let det = Detector::<Dplan>::fit(tiny, Common::default(), &data, &ctx).unwrap();
    let other = Dataset::tabular("x", 3, vec![0.0; 9], Labels::None).unwrap();
    assert!(det.score(&other).is_err());
}

#[test]
fn training_resumed_from_an_episode_checkpoint_equals_an_uninterrupted_run() {
    let data = cardio();
    let split = weakly_supervised_split(&data, &WeakSplitConfig::default(), 2).unwrap();
    let cfg = |episodes| DplanConfig {
        warmup_steps: 300,
        steps_per_episode: 300,
        episodes,
        target_update: 250,
        epsilon_steps: 900,
        // The default ensemble: each agent resumes from its own folder.
        ..Default::default()
    };
    let fit = |episodes, ckpt: Option<(&std::path::Path, bool)>| {
        let mut ctx = FitContext::new(4, &Silent);
        if let Some((dir, resume)) = ckpt {
            ctx = ctx.with_checkpoint(oddity::checkpoint::Checkpointing {
                dir: dir.to_path_buf(),
                resume,
            });
        }
        Detector::<Dplan>::fit(cfg(episodes), Common::default(), &split.train, &ctx).unwrap()
    };
    let straight = fit(3, None);
    let tmp = tempfile::tempdir().unwrap();
    let ck = tmp.path().join("ck");
    fit(1, Some((&ck, false)));
    let resumed = fit(3, Some((&ck, true)));
    assert_eq!(
        resumed.score(&split.test).unwrap(),
        straight.score(&split.test).unwrap()
    );
    assert_eq!(resumed.model.history, straight.model.history);
    // A checkpoint with another memory size (or any other setting) is refused.
    let ctx = FitContext::new(4, &Silent).with_checkpoint(oddity::checkpoint::Checkpointing { dir: ck, resume: true });
    let other = DplanConfig {
        memory_size: 500,
        ..cfg(3)
    };
    let e = Detector::<Dplan>::fit(other, Common::default(), &split.train, &ctx)
        .err()
        .unwrap();
    assert!(e.to_string().contains("different run"), "{e}");
}

#[test]
fn a_diverging_run_stops_naming_the_step_and_keeps_the_last_good_checkpoint() {
    let split = weakly_supervised_split(&cardio(), &WeakSplitConfig::default(), 3).unwrap();
    let cfg = |episodes, learning_rate| DplanConfig {
        warmup_steps: 200,
        steps_per_episode: 200,
        episodes,
        learning_rate,
        ..DplanConfig::paper()
    };
    let tmp = tempfile::tempdir().unwrap();
    let ckpt = oddity::checkpoint::Checkpointing {
        dir: tmp.path().join("ck"),
        resume: true,
    };
    let ctx = FitContext::new(1, &Silent).with_checkpoint(ckpt.clone());
    Detector::<Dplan>::fit(cfg(1, 2.5e-4), Common::default(), &split.train, &ctx).unwrap();
    let e = Detector::<Dplan>::fit(cfg(3, 1e30), Common::default(), &split.train, &ctx)
        .err()
        .unwrap();
    assert!(
        matches!(&e, oddity::Error::Diverged { model, at, loss: Some(_), .. }
            if model == "dplan" && at.starts_with("step 4") && at.contains("(episode ")),
        "{e:?}"
    );
    let e = e.to_string();
    assert!(e.contains("diverged") && e.contains("at step 4"), "{e}");
    assert!(
        e.contains("checkpoint of step 400") && e.contains(&ckpt.dir.display().to_string()),
        "{e}"
    );
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ckpt.dir.join("current/state.json")).unwrap()).unwrap();
    assert_eq!(state["step"], 400, "the good checkpoint is kept");
    Detector::<Dplan>::fit(cfg(2, 2.5e-4), Common::default(), &split.train, &ctx).unwrap();
}

/// 2,000 warm-up steps + 2 episodes of 1,000: enough to tell agents apart, fast in tests.
fn tiny() -> DplanConfig {
    DplanConfig {
        warmup_steps: 2000,
        episodes: 2,
        steps_per_episode: 1000,
        target_update: 1000,
        ..DplanConfig::paper()
    }
}

#[test]
fn an_ensemble_averages_agents_that_equal_single_fits_and_round_trips() {
    let data = cardio();
    let split = weakly_supervised_split(&data, &WeakSplitConfig::default(), 3).unwrap();
    let fit = |cfg: DplanConfig, seed: u64| {
        Detector::<Dplan>::fit(cfg, Common::default(), &split.train, &FitContext::new(seed, &Silent)).unwrap()
    };
    let pair = fit(DplanConfig { ensemble: 2, ..tiny() }, 7);
    assert_eq!(pair.model.nets.len(), 2);
    // Agent k is the agent a one-agent fit with seed + k trains.
    let (a, b) = (fit(tiny(), 7), fit(tiny(), 8));
    assert_eq!(pair.model.nets[0], a.model.nets[0]);
    assert_eq!(pair.model.nets[1], b.model.nets[0]);
    assert_ne!(pair.model.nets[0], pair.model.nets[1]);
    // Its score is their mean Q(x, a¹).
    let scores = pair.score(&split.test).unwrap();
    let (sa, sb) = (a.score(&split.test).unwrap(), b.score(&split.test).unwrap());
    for ((s, x), y) in scores.iter().zip(&sa).zip(&sb) {
        assert!((s - (x + y) / 2.0).abs() <= 1e-6 * (1.0 + s.abs()), "{s} vs {x}, {y}");
    }
    // Each agent's episode log is kept, named.
    assert_eq!(pair.model.history.len(), a.model.history.len() * 2);
    assert!(pair.model.history.iter().any(|e| e.agent == 1));
    // Save → load → identical scores; the file names each agent's tensors.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model");
    persist::save(&pair, &path).unwrap();
    let back = oddity::registry::load(&path).unwrap();
    assert_eq!(back.score(&split.test).unwrap(), scores);
    // A one-agent model file still loads as before (no prefix on agent 0's tensors).
    persist::save(&a, &dir.path().join("one")).unwrap();
    let one = oddity::registry::load(&dir.path().join("one")).unwrap();
    assert_eq!(one.score(&split.test).unwrap(), sa);
}

#[test]
fn double_dqn_changes_training_and_stays_deterministic() {
    let data = cardio();
    let split = weakly_supervised_split(&data, &WeakSplitConfig::default(), 4).unwrap();
    let fit = |cfg: DplanConfig| {
        Detector::<Dplan>::fit(cfg, Common::default(), &split.train, &FitContext::new(2, &Silent))
            .unwrap()
            .score(&split.test)
            .unwrap()
    };
    let double = fit(DplanConfig {
        double_dqn: true,
        ..tiny()
    });
    assert_eq!(
        fit(DplanConfig {
            double_dqn: true,
            ..tiny()
        }),
        double
    );
    assert_ne!(fit(tiny()), double);
}

#[test]
fn a_model_file_from_before_ensembles_loads_as_one_agent() {
    let split = weakly_supervised_split(&cardio(), &WeakSplitConfig::default(), 5).unwrap();
    let det = Detector::<Dplan>::fit(tiny(), Common::default(), &split.train, &FitContext::new(1, &Silent)).unwrap();
    let scores = det.score(&split.test).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model");
    persist::save(&det, &path).unwrap();
    // model.json as the earlier version wrote it: no `ensemble`, no `double_dqn`.
    let json_path = path.join("model.json");
    let mut doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let config = doc["config"].as_object_mut().expect("model.json has a config object");
    assert!(config.remove("ensemble").is_some() && config.remove("double_dqn").is_some());
    std::fs::write(&json_path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let back = oddity::registry::load(&path).unwrap();
    assert_eq!(back.score(&split.test).unwrap(), scores);
}
