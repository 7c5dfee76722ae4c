//! The anomaly-biased environment (DPLAN §3.2): states are training samples; the next state is a
//! labelled anomaly with probability p, otherwise the unlabelled sample nearest to (after action a¹)
//! or farthest from (after a⁰) the current one in the Q-network's hidden representation, searched
//! over a random subsample of the unlabelled data.

use rand::Rng;

use crate::nn::Mlp;

/// Action a⁰: "normal".
pub const NORMAL: u8 = 0;
/// Action a¹: "anomalous".
pub const ANOMALOUS: u8 = 1;

/// Extrinsic reward h(s, a) (DPLAN Eq. 4): 1 for a¹ on a labelled anomaly, 0 for a⁰ on an
/// unlabelled sample, −1 otherwise.
pub fn extrinsic_reward(labeled_anomaly: bool, action: u8) -> f32 {
    match (labeled_anomaly, action) {
        (true, ANOMALOUS) => 1.0,
        (false, NORMAL) => 0.0,
        _ => -1.0,
    }
}

/// The environment over standardised training rows `x` `[n × d]`.
pub struct Env<'a> {
    x: &'a [f32],
    d: usize,
    labeled: Vec<usize>,
    unlabeled: Vec<usize>,
    is_labeled: Vec<bool>,
    p_labeled: f32,
    sample_size: usize,
    // scratch buffers for the nearest/farthest search
    rows: Vec<f32>,
    picks: Vec<usize>,
}

impl<'a> Env<'a> {
    pub fn new(
        x: &'a [f32],
        d: usize,
        labeled: Vec<usize>,
        unlabeled: Vec<usize>,
        p_labeled: f32,
        sample_size: usize,
    ) -> Self {
        let n = x.len() / d;
        let mut is_labeled = vec![false; n];
        for &i in &labeled {
            is_labeled[i] = true;
        }
        Env {
            x,
            d,
            labeled,
            unlabeled,
            is_labeled,
            p_labeled,
            sample_size,
            rows: Vec::new(),
            picks: Vec::new(),
        }
    }

    pub fn is_labeled(&self, i: usize) -> bool {
        self.is_labeled[i]
    }

    pub fn row(&self, i: usize) -> &[f32] {
        &self.x[i * self.d..(i + 1) * self.d]
    }

    /// First state of an episode: uniform over the unlabelled data.
    pub fn reset<R: Rng>(&self, rng: &mut R) -> usize {
        self.unlabeled[rng.random_range(0..self.unlabeled.len())]
    }

    /// The next state after taking `action` in state `s`.
    pub fn next_state<R: Rng>(&mut self, s: usize, action: u8, net: &Mlp, rng: &mut R) -> usize {
        if rng.random::<f32>() < self.p_labeled {
            return self.labeled[rng.random_range(0..self.labeled.len())];
        }
        // S: `sample_size` draws from D^u with replacement (numpy's `choice` default, as in the code).
        self.picks.clear();
        for _ in 0..self.sample_size {
            self.picks
                .push(self.unlabeled[rng.random_range(0..self.unlabeled.len())]);
        }
        let picks = std::mem::take(&mut self.picks);
        let i = nearest_or_farthest(self, s, &picks, action == ANOMALOUS, net);
        let next = picks[i];
        self.picks = picks;
        next
    }
}

/// Position in `candidates` of the sample nearest to (`nearest`) or farthest from row `s`, by
/// Euclidean distance in `net`'s first hidden layer; ties go to the earliest candidate.
pub fn nearest_or_farthest(env: &mut Env, s: usize, candidates: &[usize], nearest: bool, net: &Mlp) -> usize {
    let d = env.d;
    let mut rows = std::mem::take(&mut env.rows);
    rows.clear();
    rows.extend_from_slice(env.row(s));
    for &c in candidates {
        rows.extend_from_slice(&env.x[c * d..(c + 1) * d]);
    }
    let h = net.forward_layers(&rows, candidates.len() + 1, 1);
    env.rows = rows;
    let k = h.len() / (candidates.len() + 1);
    let (hs, hc) = h.split_at(k);
    let mut best = 0;
    let mut best_d = if nearest { f32::INFINITY } else { f32::NEG_INFINITY };
    for (i, hr) in hc.chunks_exact(k).enumerate() {
        let dist: f32 = hr.iter().zip(hs).map(|(a, b)| (a - b) * (a - b)).sum();
        if (nearest && dist < best_d) || (!nearest && dist > best_d) {
            best = i;
            best_d = dist;
        }
    }
    best
}
