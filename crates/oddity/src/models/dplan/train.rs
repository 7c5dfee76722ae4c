//! The DQN training loop (DPLAN Algorithm 1) over the anomaly-biased environment.

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::config::{DplanConfig, RmsPropStyle};
use super::env::{ANOMALOUS, Env, NORMAL, extrinsic_reward};
use super::replay::{Replay, Transition};
use crate::checkpoint::{self, Checkpointer, StreamPosition};
use crate::data::{Dataset, Labels};
use crate::detector::{FitContext, Model};
use crate::error::{Error, Result};
use crate::metrics::min_max_scale;
use crate::models::iforest::{IForest, IForestConfig};
use crate::nn::{Activation, Mlp, Optimizer, OptimizerKind};
use crate::progress::Silent;

/// What happened in one episode (for training curves).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpisodeLog {
    /// The agent of an ensemble (0 for a single agent).
    #[serde(default)]
    pub agent: usize,
    pub episode: usize,
    /// `false` for warm-up episodes (no learning).
    pub training: bool,
    pub total_reward: f32,
    pub extrinsic_reward: f32,
    /// Mean minibatch loss over the episode's learning steps (0 in warm-up).
    pub mean_loss: f32,
    /// ε at the episode's last step.
    pub epsilon: f32,
    /// Fraction of a¹ actions taken.
    pub anomalous_actions: f32,
}

/// The Q-network `d → hidden (ReLU) → 2`.
pub fn q_network(d: usize, hidden: usize, rng: &mut ChaCha8Rng) -> Mlp {
    Mlp::new(&[d, hidden, 2], &[Activation::Relu, Activation::Linear], true, rng)
}

fn optimizer(cfg: &DplanConfig, net: &Mlp) -> Optimizer {
    let opt = style_optimizer(cfg, net);
    match cfg.clip_norm {
        Some(c) => opt.with_clip_norm(c, net.tensor_ranges()),
        None => opt,
    }
}

/// The optimiser of the `rmsprop` style, with that style's clipping.
fn style_optimizer(cfg: &DplanConfig, net: &Mlp) -> Optimizer {
    match cfg.rmsprop {
        RmsPropStyle::Dqn => Optimizer::new(
            OptimizerKind::RmsProp {
                lr: cfg.learning_rate,
                rho: 0.95,
                momentum: 0.0,
                eps: 0.01,
                centered: true,
            },
            net.params.len(),
        ),
        RmsPropStyle::Keras => Optimizer::new(
            OptimizerKind::RmsProp {
                lr: cfg.learning_rate,
                rho: 0.9,
                momentum: 0.95,
                eps: 1e-7,
                centered: false,
            },
            net.params.len(),
        )
        .with_clip_norm(1.0, net.tensor_ranges()),
    }
}

/// Intrinsic reward per training sample: Isolation-Forest anomaly score of the sample's hidden
/// representation, min-max scaled to [0, 1] (DPLAN §3.3; the forest is refitted each episode).
pub fn intrinsic_rewards(net: &Mlp, x: &[f32], n: usize, seed: u64) -> Result<Vec<f32>> {
    let h = net.forward_layers(x, n, 1);
    let k = h.len() / n;
    let latent = Dataset::tabular("dplan hidden representation", k, h, Labels::None)?;
    let forest = IForest::fit(&IForestConfig::default(), &latent, &FitContext::new(seed, &Silent))?;
    let scores = forest.score(&latent)?;
    Ok(min_max_scale(&scores))
}

/// One minibatch update of `net` towards r + γ·max Q_target(s′) — with `double`, towards
/// r + γ·Q_target(s′, argmax_a Q_net(s′, a)) (double DQN) — and returns the loss.
#[allow(clippy::too_many_arguments)]
pub fn learn(
    net: &mut Mlp,
    target: &Mlp,
    opt: &mut Optimizer,
    batch: &[Transition],
    x: &[f32],
    d: usize,
    gamma: f32,
    l2: f32,
    double: bool,
) -> f32 {
    let b = batch.len();
    let mut xs = Vec::with_capacity(b * d);
    let mut xn = Vec::with_capacity(b * d);
    for t in batch {
        xs.extend_from_slice(&x[t.state as usize * d..(t.state as usize + 1) * d]);
        xn.extend_from_slice(&x[t.next as usize * d..(t.next as usize + 1) * d]);
    }
    let q_next = target.forward(&xn, b);
    let pick_next = double.then(|| net.forward(&xn, b));
    let cache = net.forward_cache(&xs, b);
    let q = cache.output();
    let mut grad_out = vec![0.0; b * 2];
    let mut loss = 0.0;
    for (i, t) in batch.iter().enumerate() {
        let bootstrap = match &pick_next {
            _ if t.terminal => 0.0,
            Some(q_online) => q_next[2 * i + usize::from(q_online[2 * i + 1] > q_online[2 * i])],
            None => q_next[2 * i].max(q_next[2 * i + 1]),
        };
        let y = t.reward + gamma * bootstrap;
        let err = q[2 * i + t.action as usize] - y;
        loss += 0.5 * err * err;
        grad_out[2 * i + t.action as usize] = err / b as f32;
    }
    let mut grads = vec![0.0; net.params.len()];
    net.backward(&xs, &cache, &grad_out, &mut grads, false);
    net.add_l2_grad(0, l2, &mut grads);
    opt.step(&mut net.params, &mut grads);
    loss / b as f32 + l2 * net.weight_sq_sum(0)
}

/// The online Q-network, its target copy and the optimiser; the target is replaced by a copy of
/// the online network every `target_update` steps (a hard update, as in DQN and keras-rl).
pub struct Agent {
    pub net: Mlp,
    pub target: Mlp,
    opt: Optimizer,
    target_update: usize,
    double_dqn: bool,
    steps: usize,
}

impl Agent {
    pub fn new(cfg: &DplanConfig, d: usize, rng: &mut ChaCha8Rng) -> Self {
        let net = q_network(d, cfg.hidden, rng);
        Agent {
            target: net.clone(),
            opt: optimizer(cfg, &net),
            net,
            target_update: cfg.target_update,
            double_dqn: cfg.double_dqn,
            steps: 0,
        }
    }

    /// One minibatch update (see [`learn`]).
    pub fn learn(&mut self, batch: &[Transition], x: &[f32], d: usize, gamma: f32, l2: f32) -> f32 {
        learn(
            &mut self.net,
            &self.target,
            &mut self.opt,
            batch,
            x,
            d,
            gamma,
            l2,
            self.double_dqn,
        )
    }

    /// Writes the networks and the optimiser's moments to `path` (see [`checkpoint::write_f32s`]).
    fn save(&self, path: &Path) -> Result<()> {
        let (_, [m, v, mom]) = self.opt.state();
        checkpoint::write_f32s(path, &[&self.net.params, &self.target.params, m, v, mom])
    }

    /// Restores what [`Agent::save`] wrote, with the step counts kept in the state file.
    fn restore(&mut self, path: &Path, steps: usize, opt_t: u64) -> Result<()> {
        let bad = || Error::format(path, "checkpoint does not fit this Q-network");
        let [net, target, m, v, mom]: [Vec<f32>; 5] = checkpoint::read_f32s(path)?.try_into().map_err(|_| bad())?;
        if net.len() != self.net.params.len() || target.len() != net.len() || !self.opt.restore(opt_t, m, v, mom) {
            return Err(bad());
        }
        (self.net.params, self.target.params, self.steps) = (net, target, steps);
        Ok(())
    }

    /// Marks one environment step done; returns `true` when the target network was synced.
    pub fn step_done(&mut self) -> bool {
        self.steps += 1;
        if self.steps % self.target_update == 0 {
            self.target = self.net.clone();
            true
        } else {
            false
        }
    }
}

/// A non-finite Q-loss: the error names the step and episode, and the last good checkpoint.
fn diverged(loss: f32, step: usize, steps_ep: usize, ckpt: Option<&Checkpointer>) -> Error {
    let kept = checkpoint::kept_note(ckpt, "step", (step - 1) / steps_ep * steps_ep, "learning_rate");
    let at = format!("step {step} (episode {})", (step - 1) / steps_ep + 1);
    Error::diverged("dplan", at, "the Q-loss", Some(f64::from(loss)), kept)
}

/// What the loop carries across episodes besides the networks and the replay memory.
#[derive(Serialize, Deserialize)]
struct LoopState {
    rng: StreamPosition,
    agent_steps: usize,
    optimizer_steps: u64,
    log: Vec<EpisodeLog>,
}

const AGENT_FILE: &str = "agent.bin";
const REPLAY_FILE: &str = "replay.bin";

/// Trains the Q-network on standardised rows `x` `[n × d]` with the given labelled / unlabelled
/// index sets. Returns the network and the per-episode log. With a checkpointer, the state is
/// saved at the end of every episode (every `steps_per_episode` steps) and a resumed run
/// continues from the last one.
pub fn train(
    cfg: &DplanConfig,
    x: &[f32],
    d: usize,
    labeled: Vec<usize>,
    unlabeled: Vec<usize>,
    ctx: &FitContext,
    ckpt: Option<&Checkpointer>,
) -> Result<(Mlp, Vec<EpisodeLog>)> {
    let n = x.len() / d;
    let mut rng = ChaCha8Rng::seed_from_u64(ctx.seed);
    let mut agent = Agent::new(cfg, d, &mut rng);
    let mut replay = Replay::new(cfg.memory_size);
    let mut env = Env::new(x, d, labeled, unlabeled, cfg.p_labeled, cfg.sample_size);

    let total = cfg.total_steps();
    let steps_ep = cfg.steps_per_episode;
    let mut log = Vec::new();
    let mut intrinsic = vec![0.0; n];
    let mut state = 0usize;
    let (mut ep_reward, mut ep_ext, mut ep_loss, mut ep_learn, mut ep_anom) = (0f32, 0f32, 0f32, 0usize, 0usize);
    let mut first_step = 1;
    if let Some(ck) = ckpt
        && let Some(saved) = ck.resume::<LoopState>(total as u64, "episodes")?
    {
        let st = saved.state;
        let state_path = saved.dir.join(checkpoint::STATE_JSON);
        agent.restore(&saved.dir.join(AGENT_FILE), st.agent_steps, st.optimizer_steps)?;
        let replay_path = saved.dir.join(REPLAY_FILE);
        let bytes = std::fs::read(&replay_path).map_err(|e| Error::io(&replay_path, e))?;
        replay = Replay::from_bytes(&bytes)
            .filter(|r| r.capacity() == cfg.memory_size.max(1))
            .ok_or_else(|| Error::format(&replay_path, "damaged replay memory or another memory_size"))?;
        st.rng.restore(&mut rng, &state_path)?;
        log = st.log;
        first_step = saved.step as usize + 1;
        ctx.progress.start("dplan", Some(total as u64));
        ctx.progress.advance(saved.step);
    } else {
        ctx.progress.start("dplan", Some(total as u64));
    }
    for step in first_step..=total {
        if (step - 1) % steps_ep == 0 {
            state = env.reset(&mut rng);
            if cfg.intrinsic_reward {
                let episode_seed = rng.random::<u64>();
                intrinsic = intrinsic_rewards(&agent.net, x, n, episode_seed)?;
            }
        }
        let eps = cfg.epsilon(step - 1);
        let action = if rng.random::<f32>() < eps {
            if rng.random::<bool>() { ANOMALOUS } else { NORMAL }
        } else {
            let q = agent.net.forward(env.row(state), 1);
            if q[1] > q[0] { ANOMALOUS } else { NORMAL }
        };
        let next = env.next_state(state, action, &agent.net, &mut rng);
        let r_e = extrinsic_reward(env.is_labeled(state), action);
        let reward = r_e + intrinsic[state];
        let terminal = step % steps_ep == 0;
        replay.push(Transition {
            state: state as u32,
            action,
            reward,
            next: next as u32,
            terminal,
        });
        ep_reward += reward;
        ep_ext += r_e;
        ep_anom += action as usize;
        if step > cfg.warmup_steps {
            let batch = replay.sample(cfg.batch_size, &mut rng);
            let loss = agent.learn(&batch, x, d, cfg.gamma, cfg.l2);
            if !loss.is_finite() {
                return Err(diverged(loss, step, steps_ep, ckpt));
            }
            ep_loss += loss;
            ep_learn += 1;
        }
        agent.step_done();
        if terminal || step == total {
            let steps = ((step - 1) % steps_ep + 1) as f32;
            let episode = log.len() as u64 + 1;
            ctx.progress
                .record("total reward per episode", episode, ep_reward as f64);
            ctx.progress
                .record("extrinsic reward per episode", episode, ep_ext as f64);
            ctx.progress.record("epsilon at episode end", episode, eps as f64);
            if ep_learn > 0 {
                ctx.progress
                    .record("mean Q-loss per episode", episode, (ep_loss / ep_learn as f32) as f64);
            }
            log.push(EpisodeLog {
                agent: 0,
                episode: log.len(),
                training: step > cfg.warmup_steps,
                total_reward: ep_reward,
                extrinsic_reward: ep_ext,
                mean_loss: if ep_learn > 0 { ep_loss / ep_learn as f32 } else { 0.0 },
                epsilon: eps,
                anomalous_actions: ep_anom as f32 / steps,
            });
            (ep_reward, ep_ext, ep_loss, ep_learn, ep_anom) = (0.0, 0.0, 0.0, 0, 0);
            if let Some(ck) = ckpt {
                let (optimizer_steps, _) = agent.opt.state();
                let st = LoopState {
                    rng: StreamPosition::of(&rng),
                    agent_steps: agent.steps,
                    optimizer_steps,
                    log: log.clone(),
                };
                ck.save(step as u64, &st, |dir| {
                    agent.save(&dir.join(AGENT_FILE))?;
                    let path = dir.join(REPLAY_FILE);
                    std::fs::write(&path, replay.to_bytes()).map_err(|e| Error::io(&path, e))
                })?;
            }
        }
        state = next;
        if step % 200 == 0 {
            ctx.progress.advance(200);
        }
    }
    ctx.progress.finish();
    let net = agent.net;
    if net.params.iter().any(|p| !p.is_finite()) {
        return Err(Error::diverged(
            "dplan",
            format!("step {total} (the end of training)"),
            "non-finite Q-network weights",
            None,
            " (try a smaller learning_rate)",
        ));
    }
    Ok((net, log))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_network_is_synced_every_target_update_steps() {
        let cfg = DplanConfig {
            target_update: 5,
            learning_rate: 0.01,
            ..Default::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let d = 3;
        let x: Vec<f32> = (0..12).map(|i| (i as f32 * 0.7).sin()).collect();
        let batch: Vec<Transition> = (0..4)
            .map(|i| Transition {
                state: i,
                action: (i % 2) as u8,
                reward: 1.0,
                next: (i + 1) % 4,
                terminal: false,
            })
            .collect();
        let mut agent = Agent::new(&cfg, d, &mut rng);
        let initial = agent.net.clone();
        for step in 1..=12 {
            agent.learn(&batch, &x, d, cfg.gamma, cfg.l2);
            let synced = agent.step_done();
            assert_eq!(synced, step % 5 == 0, "step {step}");
            if synced {
                assert_eq!(agent.target, agent.net);
            } else {
                assert_ne!(agent.target, agent.net);
            }
            if step < 5 {
                assert_eq!(agent.target, initial, "target must not move before the first sync");
            }
        }
    }

    #[test]
    fn double_dqn_values_the_online_argmax_with_the_target_network() {
        let cfg = DplanConfig {
            l2: 0.0,
            ..Default::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let d = 4;
        let x: Vec<f32> = (0..8).map(|i| (i as f32 * 1.3).cos()).collect();
        let batch = [Transition {
            state: 0,
            action: 0,
            reward: 0.5,
            next: 1,
            terminal: false,
        }];
        // Online and target networks that disagree on the next state's best action.
        let (net, target) = loop {
            let (n, t) = (q_network(d, 8, &mut rng), q_network(d, 8, &mut rng));
            let (qn, qt) = (n.forward(&x[d..], 1), t.forward(&x[d..], 1));
            if (qn[1] > qn[0]) != (qt[1] > qt[0]) {
                break (n, t);
            }
        };
        let q_now = net.forward(&x[..d], 1)[0];
        let (qn, qt) = (net.forward(&x[d..], 1), target.forward(&x[d..], 1));
        let online_pick = usize::from(qn[1] > qn[0]);
        for (double, bootstrap) in [(false, qt[0].max(qt[1])), (true, qt[online_pick])] {
            let mut opt = optimizer(&cfg, &net);
            let loss = learn(
                &mut net.clone(),
                &target,
                &mut opt,
                &batch,
                &x,
                d,
                cfg.gamma,
                0.0,
                double,
            );
            let y = 0.5 + cfg.gamma * bootstrap;
            let want = 0.5 * (q_now - y) * (q_now - y);
            assert!(
                (loss - want).abs() <= 1e-5 * want.max(1.0),
                "double={double}: {loss} vs {want}"
            );
        }
    }

    #[test]
    fn learning_moves_q_towards_the_target() {
        let cfg = DplanConfig {
            learning_rate: 0.01,
            l2: 0.0,
            ..Default::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let x = vec![0.5, -0.2, 1.0];
        let batch = [Transition {
            state: 0,
            action: 1,
            reward: 3.0,
            next: 0,
            terminal: true,
        }];
        let mut agent = Agent::new(&cfg, 3, &mut rng);
        let before = (agent.net.forward(&x, 1)[1] - 3.0).abs();
        for _ in 0..200 {
            agent.learn(&batch, &x, 3, cfg.gamma, cfg.l2);
        }
        let after = (agent.net.forward(&x, 1)[1] - 3.0).abs();
        assert!(after < 0.1 * before, "|Q − y| {before} → {after}");
    }
}
