//! The fast convolutions as nodes of burn's autodiff graph (`burn_autodiff::ops::Backward`, the
//! extension point burn's own operations use), so training gets the batched kernels in both passes.

use burn_autodiff::Autodiff;
use burn_autodiff::checkpoint::base::Checkpointer;
use burn_autodiff::checkpoint::strategy::NoCheckpointing;
use burn_autodiff::grads::Gradients;
use burn_autodiff::ops::{Backward, Ops, OpsKind};
use burn_backend::tensor::FloatTensor;
use burn_flex::{Flex, FlexTensor};

use super::Routed;
use super::flex::{self, Plan};

/// A `flex` tensor inside an autodiff graph.
pub type AdTensor = FloatTensor<Autodiff<Flex>>;

/// What the backward step keeps: the sizes and the layer's input and weight.
#[derive(Clone, Debug)]
pub struct State {
    plan: Plan,
    x: FlexTensor,
    w: FlexTensor,
}

/// Backward step of a convolution without bias (`N = 2`: x, w) or with one (`N = 3`: x, w, bias).
#[derive(Debug)]
struct ConvBackward<const N: usize>;

impl<const N: usize> Backward<Flex, N> for ConvBackward<N> {
    type State = State;

    fn backward(self, ops: Ops<State, N>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = grads.consume::<Flex>(&ops.node);
        let need = [0, 1, 2].map(|i| ops.parents.get(i).is_some_and(Option::is_some));
        let State { plan, x, w } = ops.state;
        let g = flex::backward(&plan, &x, &w, &dy, need);
        for (parent, grad) in ops.parents.iter().zip([g.x, g.w, g.bias]) {
            if let (Some(node), Some(grad)) = (parent, grad) {
                grads.register::<Flex>(node.id, grad);
            }
        }
    }
}

fn lift(r: Routed) -> AdTensor {
    match r {
        Routed::Plain(f) => AdTensor::new(f),
        Routed::Tracked(a) => a,
    }
}

/// The layer's output; tracked when any input is.
pub(super) fn apply(plan: Plan, x: Routed, w: Routed, b: Option<Routed>) -> Routed {
    let tracked = |r: &Routed| matches!(r, Routed::Tracked(_));
    if !tracked(&x) && !tracked(&w) && !b.as_ref().is_some_and(tracked) {
        return Routed::Plain(flex::forward(&plan, x.flex(), w.flex(), b.as_ref().map(Routed::flex)));
    }
    let (x, w, b) = (lift(x), lift(w), b.map(lift));
    let out = flex::forward(&plan, x.primitive(), w.primitive(), b.as_ref().map(|b| b.primitive()));
    let state = State {
        plan,
        x: x.primitive().clone(),
        w: w.primitive().clone(),
    };
    Routed::Tracked(match b {
        None => match ConvBackward::<2>
            .prepare::<NoCheckpointing>([x.node(), w.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish(state, out),
            OpsKind::UnTracked(prep) => prep.finish(out),
        },
        Some(b) => {
            match ConvBackward::<3>
                .prepare::<NoCheckpointing>([x.node(), w.node(), b.node()])
                .compute_bound()
                .stateful()
            {
                OpsKind::Tracked(prep) => prep.finish(state, out),
                OpsKind::UnTracked(prep) => prep.finish(out),
            }
        }
    })
}
