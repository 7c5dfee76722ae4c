//! `precision`: the arithmetic of the convolutions' products while training (issue 16, item 4).

use serde::{Deserialize, Serialize};
use std::cell::Cell;

/// How the convolutions multiply: `f32` (the default) or `bf16` — operands rounded to bf16, sums,
/// weights, optimiser state and everything outside the products in f32, as PyTorch's bf16 autocast
/// does on a CPU. bf16 products run on AMX tiles where the CPU has them ([`super::bf16`]); elsewhere
/// they give the same rounding through the f32 product, without the speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    #[default]
    F32,
    Bf16,
}

thread_local! {
    static BF16: Cell<bool> = const { Cell::new(false) };
}

impl Precision {
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::Bf16 => "bf16",
        }
    }

    /// Convolutions started on this thread while the guard lives multiply in this precision (their
    /// backward steps keep the precision of their forward).
    #[must_use = "the precision holds only while the guard lives"]
    pub fn scope(self) -> PrecisionScope {
        PrecisionScope {
            before: BF16.with(|b| b.replace(self == Precision::Bf16)),
        }
    }
}

/// Restores the thread's previous precision on drop.
pub struct PrecisionScope {
    before: bool,
}

impl Drop for PrecisionScope {
    fn drop(&mut self) {
        BF16.with(|b| b.set(self.before));
    }
}

/// True while a `bf16` scope is open on this thread.
pub(super) fn bf16_products() -> bool {
    BF16.with(Cell::get)
}
