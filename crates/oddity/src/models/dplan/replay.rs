//! Experience replay: a ring buffer of transitions, oldest overwritten first.

use rand::Rng;
use rand::seq::index;

/// One step of experience. States are row indices into the training data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transition {
    pub state: u32,
    /// 0 = "normal" (a⁰), 1 = "anomalous" (a¹).
    pub action: u8,
    pub reward: f32,
    pub next: u32,
    /// Last step of an episode: the target does not bootstrap from `next`.
    pub terminal: bool,
}

/// Fixed-capacity replay memory.
#[derive(Debug, Clone)]
pub struct Replay {
    buf: Vec<Transition>,
    capacity: usize,
    /// Where the next push goes once the buffer is full.
    head: usize,
}

impl Replay {
    pub fn new(capacity: usize) -> Self {
        Replay {
            buf: Vec::with_capacity(capacity.min(1 << 20)),
            capacity: capacity.max(1),
            head: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Adds `t`, evicting the oldest transition when full.
    pub fn push(&mut self, t: Transition) {
        if self.buf.len() < self.capacity {
            self.buf.push(t);
        } else {
            self.buf[self.head] = t;
            self.head = (self.head + 1) % self.capacity;
        }
    }

    /// `batch` distinct transitions drawn uniformly (all of them if fewer are stored).
    pub fn sample<R: Rng>(&self, batch: usize, rng: &mut R) -> Vec<Transition> {
        let k = batch.min(self.buf.len());
        index::sample(rng, self.buf.len(), k)
            .into_iter()
            .map(|i| self.buf[i])
            .collect()
    }

    /// The memory as bytes for a checkpoint: capacity, head, count (u64 each), then 14 bytes per
    /// transition in storage order.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(24 + 14 * self.buf.len());
        for v in [self.capacity, self.head, self.buf.len()] {
            out.extend_from_slice(&(v as u64).to_le_bytes());
        }
        for t in &self.buf {
            out.extend_from_slice(&t.state.to_le_bytes());
            out.push(t.action);
            out.extend_from_slice(&t.reward.to_le_bytes());
            out.extend_from_slice(&t.next.to_le_bytes());
            out.push(u8::from(t.terminal));
        }
        out
    }

    /// Reads what [`Replay::to_bytes`] wrote; `None` if the bytes are not such a memory.
    pub fn from_bytes(bytes: &[u8]) -> Option<Replay> {
        let word = |i: usize| -> Option<usize> {
            let b = bytes.get(8 * i..8 * i + 8)?;
            usize::try_from(u64::from_le_bytes(b.try_into().ok()?)).ok()
        };
        let (capacity, head, len) = (word(0)?, word(1)?, word(2)?);
        let body = bytes.get(24..)?;
        if capacity == 0 || len > capacity || head >= capacity.max(1) || body.len() != len.checked_mul(14)? {
            return None;
        }
        let u32_at = |c: &[u8], i: usize| u32::from_le_bytes([c[i], c[i + 1], c[i + 2], c[i + 3]]);
        let buf = body
            .chunks_exact(14)
            .map(|c| Transition {
                state: u32_at(c, 0),
                action: c[4],
                reward: f32::from_bits(u32_at(c, 5)),
                next: u32_at(c, 9),
                terminal: c[13] != 0,
            })
            .collect();
        Some(Replay { buf, capacity, head })
    }

    /// Every stored transition, oldest first.
    pub fn ordered(&self) -> Vec<Transition> {
        let mut v = self.buf[self.head..].to_vec();
        v.extend_from_slice(&self.buf[..self.head]);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn t(i: u32) -> Transition {
        Transition {
            state: i,
            action: 0,
            reward: i as f32,
            next: i + 1,
            terminal: false,
        }
    }

    #[test]
    fn evicts_the_oldest_first() {
        let mut r = Replay::new(3);
        for i in 0..5 {
            r.push(t(i));
        }
        assert_eq!(r.len(), 3);
        let states: Vec<u32> = r.ordered().iter().map(|t| t.state).collect();
        assert_eq!(states, vec![2, 3, 4]);
        r.push(t(5));
        let states: Vec<u32> = r.ordered().iter().map(|t| t.state).collect();
        assert_eq!(states, vec![3, 4, 5]);
    }

    #[test]
    fn samples_are_distinct_stored_transitions() {
        let mut r = Replay::new(100);
        for i in 0..50 {
            r.push(t(i));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let s = r.sample(32, &mut rng);
        assert_eq!(s.len(), 32);
        let mut seen: Vec<u32> = s.iter().map(|t| t.state).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 32);
        assert!(seen.iter().all(|&i| i < 50));
        assert_eq!(r.sample(80, &mut rng).len(), 50);
    }

    #[test]
    fn bytes_round_trip_and_damage_is_refused() {
        let mut r = Replay::new(3);
        for i in 0..5 {
            r.push(Transition {
                reward: i as f32 * 0.1,
                terminal: i == 2,
                ..t(i)
            });
        }
        let bytes = r.to_bytes();
        let back = Replay::from_bytes(&bytes).unwrap();
        assert_eq!(back.ordered(), r.ordered());
        assert_eq!((back.capacity(), back.len()), (3, 3));
        assert!(Replay::from_bytes(&bytes[..bytes.len() - 1]).is_none());
        assert!(Replay::from_bytes(&bytes[..10]).is_none());
        let mut bad = bytes.clone();
        bad[8] = 7; // head beyond capacity
        assert!(Replay::from_bytes(&bad).is_none());
    }
}
