//! One size-budget check for every allocation whose size comes from a flag or a file header
//! (`--set n_estimators=1e12`, `--resize 100000x100000`, an IDX header claiming millions of
//! images): the bytes it needs are computed with checked arithmetic and compared with what this
//! process may use, so an impossible size is a typed error naming the key or file instead of an
//! abort (`memory allocation of … failed`) or an OOM kill.
//!
//! The limit is the smallest of: physical memory, the cgroup memory limit (containers), the
//! address-space limit (`ulimit -v`), and `ODDITY_MEMORY_LIMIT` (bytes) when set.

use std::sync::OnceLock;

use crate::error::{Error, Result};

/// Bytes this process may allocate (see the module docs); `u64::MAX` when nothing is known.
pub fn limit() -> u64 {
    static LIMIT: OnceLock<u64> = OnceLock::new();
    *LIMIT.get_or_init(|| {
        let env = std::env::var("ODDITY_MEMORY_LIMIT")
            .ok()
            .and_then(|v| v.trim().parse().ok());
        [env, mem_total(), cgroup_limit(), address_space_limit()]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(u64::MAX)
    })
}

fn mem_total() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kb.checked_mul(1024)
}

fn cgroup_limit() -> Option<u64> {
    std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The soft `RLIMIT_AS` (`ulimit -v`), from `/proc/self/limits`.
fn address_space_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max address space"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// `count` values of `bytes_each` bytes; `None` on overflow.
pub fn bytes(count: &[usize], bytes_each: usize) -> Option<u128> {
    count
        .iter()
        .try_fold(bytes_each as u128, |acc, &c| acc.checked_mul(c as u128))
}

/// Sums of sizes; `None` when any is `None` or the sum overflows.
pub fn sum(parts: &[Option<u128>]) -> Option<u128> {
    parts.iter().try_fold(0u128, |acc, p| acc.checked_add((*p)?))
}

/// Refuses `what` (a file and what its header claims, or a flag's value) when it needs more than
/// [`limit`]; `key` names the flag when one is to blame (a usage error).
pub fn check(key: Option<&str>, what: impl FnOnce() -> String, needed: Option<u128>) -> Result<()> {
    let limit = limit();
    match needed {
        Some(b) if b <= limit as u128 => Ok(()),
        _ => Err(Error::TooLarge {
            key: key.map(str::to_string),
            what: what(),
            needed,
            limit,
        }),
    }
}

/// Refuses a model config when one of its size keys needs more than [`limit`]: `needs` lists
/// each key with the bytes it implies for this data (the largest allocation it drives);
/// `config` is the config as JSON, for the value in the message.
pub fn check_config(kind: &str, config: &serde_json::Value, needs: &[(&'static str, Option<u128>)]) -> Result<()> {
    let limit = limit() as u128;
    // The worst offender: an overflow first, else the largest need.
    let worst = needs
        .iter()
        .filter(|(_, b)| b.is_none_or(|b| b > limit))
        .max_by_key(|(_, b)| b.map_or(u128::MAX, |b| b));
    match worst {
        None => Ok(()),
        Some(&(key, needed)) => Err(Error::TooLarge {
            key: Some(key.to_string()),
            what: format!("`{key}` = {} ({kind})", config.get(key).cloned().unwrap_or_default()),
            needed,
            limit: limit as u64,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_overflow_to_none_and_an_impossible_key_is_named() {
        assert_eq!(bytes(&[3, 5], 4), Some(60));
        assert_eq!(bytes(&[usize::MAX, usize::MAX, usize::MAX, 16], 4), None);
        assert_eq!(sum(&[Some(1), None]), None);
        let cfg = serde_json::json!({"n_estimators": 1_000_000_000_000u64});
        let e = check_config(
            "iforest",
            &cfg,
            &[("n_estimators", Some(u128::MAX / 2)), ("x", Some(1))],
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("`n_estimators` = 1000000000000") && msg.contains("needs"),
            "{msg}"
        );
        assert!(e.is_usage());
        assert!(check_config("iforest", &cfg, &[("n_estimators", Some(1000))]).is_ok());
        assert!(!check(None, || "f".into(), None).unwrap_err().is_usage());
    }
}
