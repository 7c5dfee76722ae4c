//! The fast path against burn's own convolutions: outputs and every gradient, on the geometries the
//! image models use (and asymmetric / dilated / output-padded ones), with and without bias.

use burn::module::Param;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::tensor::{Device, Tensor, TensorData};

use super::{Activation, conv_transpose2d, conv_transpose2d_act, conv2d, conv2d_act, fast_calls, set_fast_kernels};

fn values(t: Tensor<4>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap_or_default()
}

fn seeded(shape: [usize; 4], seed: u64, dev: &Device) -> Tensor<4> {
    let n: usize = shape.iter().product();
    let mut s = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    let v: Vec<f32> = (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((s >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        })
        .collect();
    Tensor::from_data(TensorData::new(v, shape), dev)
}

fn close(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let scale = b.iter().fold(1e-3f32, |m, v| m.max(v.abs()));
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= 2e-5 * scale.max(1.0) * 4.0,
            "{what}[{i}]: fast {x} vs burn {y}"
        );
    }
}

/// Runs `f` with the fast kernels on and off; returns (output, dx, dw, db) for each.
fn both<M: Clone>(
    layer: &M,
    x: &Tensor<4>,
    forward: impl Fn(&M, Tensor<4>) -> Tensor<4>,
    weight: impl Fn(&M) -> Tensor<4>,
    bias: impl Fn(&M) -> Option<Tensor<1>>,
) -> [[Vec<f32>; 4]; 2] {
    [true, false].map(|fast| {
        set_fast_kernels(fast);
        let x = x.clone().require_grad();
        let calls = fast_calls();
        let y = forward(layer, x.clone());
        assert_eq!(fast_calls() - calls, usize::from(fast), "fast path taken: {fast}");
        // A loss that weights every output differently, so each gradient entry is checked.
        let weights = seeded(y.dims(), 99, &y.device());
        let loss = (y.clone() * weights).sum();
        let grads = loss.backward();
        let g = |t: Option<Tensor<4>>| t.map(values).unwrap_or_default();
        let dx = g(x.grad(&grads));
        let dw = g(weight(layer).grad(&grads));
        let db = bias(layer)
            .and_then(|b| b.grad(&grads))
            .map(|b| b.into_data().try_to_vec::<f32>().unwrap_or_default());
        set_fast_kernels(true);
        [values(y), dx, dw, db.unwrap_or_default()]
    })
}

fn check(name: &str, r: [[Vec<f32>; 4]; 2]) {
    let [fast, burn] = r;
    for (i, what) in ["output", "dx", "dw", "db"].iter().enumerate() {
        close(&fast[i], &burn[i], &format!("{name} {what}"));
    }
    assert!(!fast[1].is_empty() && !fast[2].is_empty(), "{name}: gradients missing");
}

/// A layer's weight and bias, for [`compare`].
trait Weights {
    fn w(&self) -> Tensor<4>;
    fn b(&self) -> Option<Tensor<1>>;
}

impl Weights for Conv2d {
    fn w(&self) -> Tensor<4> {
        self.weight.val()
    }
    fn b(&self) -> Option<Tensor<1>> {
        self.bias.as_ref().map(Param::val)
    }
}

impl Weights for ConvTranspose2d {
    fn w(&self) -> Tensor<4> {
        self.weight.val()
    }
    fn b(&self) -> Option<Tensor<1>> {
        self.bias.as_ref().map(Param::val)
    }
}

/// A convolution `[cin, cout, k, stride, pad]` (square, the same padding on every side).
fn conv_layer([cin, cout, k, s, p]: [usize; 5], bias: bool, dev: &Device) -> Conv2d {
    Conv2dConfig::new([cin, cout], [k, k])
        .with_stride([s, s])
        .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
        .with_bias(bias)
        .init(dev)
}

/// A transposed convolution `[cin, cout, k, stride, pad, pad_out]` (square).
fn transposed_layer([cin, cout, k, s, p, po]: [usize; 6], bias: bool, dev: &Device) -> ConvTranspose2d {
    ConvTranspose2dConfig::new([cin, cout], [k, k])
        .with_stride([s, s])
        .with_padding([p, p])
        .with_padding_out([po, po])
        .with_bias(bias)
        .init(dev)
}

/// [`both`] on `layer`, then [`check`]; the fast path's output.
fn compare<M: Weights + Clone>(
    name: &str,
    layer: &M,
    x: &Tensor<4>,
    f: impl Fn(&M, Tensor<4>) -> Tensor<4>,
) -> Vec<f32> {
    let [fast, burn] = both(layer, x, f, M::w, M::b);
    let out = fast[0].clone();
    check(name, [fast, burn]);
    out
}

#[test]
fn conv2d_matches_burn_forward_and_backward() {
    let dev = Device::flex().autodiff();
    // (cin, cout, k, stride, padding, dilation, h, bias)
    let cases = [
        (3, 8, 4, 2, PaddingConfig2d::Explicit(1, 1, 1, 1), 1, 16, false), // GANomaly first layer
        (8, 16, 4, 2, PaddingConfig2d::Explicit(1, 1, 1, 1), 1, 8, false),
        (16, 5, 4, 1, PaddingConfig2d::Explicit(0, 0, 0, 0), 1, 4, false), // to nz, 1×1
        (4, 4, 3, 1, PaddingConfig2d::Explicit(1, 1, 1, 1), 1, 7, true),
        (1, 6, 5, 2, PaddingConfig2d::Explicit(2, 2, 2, 2), 1, 28, true), // DCEC
        (3, 4, 3, 2, PaddingConfig2d::Explicit(0, 1, 2, 0), 2, 9, true),  // asymmetric, dilated
    ];
    for (i, (cin, cout, k, s, pad, d, h, bias)) in cases.into_iter().enumerate() {
        let layer: Conv2d = Conv2dConfig::new([cin, cout], [k, k])
            .with_stride([s, s])
            .with_padding(pad)
            .with_dilation([d, d])
            .with_bias(bias)
            .init(&dev);
        let x = seeded([3, cin, h, h], i as u64, &dev);
        compare(&format!("conv case {i}"), &layer, &x, conv2d);
    }
}

#[test]
fn conv_transpose2d_matches_burn_forward_and_backward() {
    let dev = Device::flex().autodiff();
    // (cin, cout, k, stride, padding, padding_out, h, bias)
    let cases = [
        (5, 16, 4, 1, 0, 0, 1, false), // GANomaly decoder's first layer: nz×1×1 → 4×4
        (16, 8, 4, 2, 1, 0, 4, false),
        (8, 3, 4, 2, 1, 0, 8, false),
        (6, 1, 5, 2, 2, 1, 7, true), // DCEC with output padding
        (4, 4, 3, 1, 1, 0, 5, true),
    ];
    for (i, (cin, cout, k, s, p, po, h, bias)) in cases.into_iter().enumerate() {
        let layer = transposed_layer([cin, cout, k, s, p, po], bias, &dev);
        let x = seeded([3, cin, h, h], 10 + i as u64, &dev);
        compare(&format!("transposed case {i}"), &layer, &x, conv_transpose2d);
    }
}

#[test]
fn fused_bias_and_activation_match_burn_forward_and_backward() {
    let dev = Device::flex().autodiff();
    let acts = [Activation::Relu, Activation::LeakyRelu(0.2)];
    // (cin, cout, k, stride, pad, h, bias): DCEC's and GANomaly's first layers, a layer whose output
    // is large enough for the parallel epilogue (3·64·32·32 values), and one split into chunks of one
    // image each (im2col of 64·64·256 values per image).
    let cases = [
        (1, 6, 5, 2, 2, 28, true),
        (3, 8, 4, 2, 1, 16, false),
        (1, 64, 4, 2, 1, 64, true),
        (16, 4, 4, 2, 1, 128, true),
    ];
    for (i, (cin, cout, k, s, p, h, bias)) in cases.into_iter().enumerate() {
        let layer = conv_layer([cin, cout, k, s, p], bias, &dev);
        let x = seeded([3, cin, h, h], 20 + i as u64, &dev);
        for act in acts {
            let out = compare(&format!("conv+{act:?} case {i}"), &layer, &x, |l, x| {
                conv2d_act(l, x, act)
            });
            // The activation cuts: some outputs are zero (ReLU) or scaled, not all.
            assert!(out.iter().any(|v| *v < 0.0) != (act == Activation::Relu), "{act:?}");
        }
    }
    // (cin, cout, k, stride, pad, pad_out, h, bias): DCEC's decoder layers.
    for (i, (cin, cout, k, s, p, po, h, bias)) in [(8, 6, 3, 2, 0, 0, 3, true), (6, 4, 5, 2, 2, 1, 7, true)]
        .into_iter()
        .enumerate()
    {
        let layer = transposed_layer([cin, cout, k, s, p, po], bias, &dev);
        let x = seeded([3, cin, h, h], 30 + i as u64, &dev);
        for act in acts {
            compare(&format!("transposed+{act:?} case {i}"), &layer, &x, |l, x| {
                conv_transpose2d_act(l, x, act)
            });
        }
    }
}

#[test]
fn weight_gradient_alone_matches_burn() {
    // A first layer: the input needs no gradient, so the two halves of the batch run side by side.
    let dev = Device::flex().autodiff();
    // (batch, cin, cout, k, stride, pad, h, bias): odd and even batches, one chunk per half and
    // several (im2col of 64·64·256 values per image: one image per chunk).
    for (i, (b, cin, cout, k, s, p, h, bias)) in [
        (3, 1, 6, 5, 2, 2, 28, true),
        (4, 3, 8, 4, 2, 1, 16, false),
        (5, 16, 4, 4, 2, 1, 128, true),
    ]
    .into_iter()
    .enumerate()
    {
        let layer = conv_layer([cin, cout, k, s, p], bias, &dev);
        let x = seeded([b, cin, h, h], 40 + i as u64, &dev);
        let [fast, burn] = [true, false].map(|fast| {
            set_fast_kernels(fast);
            let y = conv2d_act(&layer, x.clone(), Activation::Relu);
            let weights = seeded(y.dims(), 98, &y.device());
            let grads = (y * weights).sum().backward();
            set_fast_kernels(true);
            let dw = layer.weight.val().grad(&grads).map(values).unwrap_or_default();
            let db = layer.bias.as_ref().and_then(|b| b.val().grad(&grads));
            (dw, db.map(|d| d.into_data().try_to_vec::<f32>().unwrap_or_default()))
        });
        assert!(
            !fast.0.is_empty() && fast.0.iter().any(|v| *v != 0.0),
            "case {i}: dw computed"
        );
        close(&fast.0, &burn.0, &format!("weight alone case {i} dw"));
        close(
            &fast.1.unwrap_or_default(),
            &burn.1.unwrap_or_default(),
            &format!("weight alone case {i} db"),
        );
    }
}

#[test]
fn inference_outside_autodiff_matches_burn() {
    let dev = Device::flex();
    let layer: Conv2d = Conv2dConfig::new([3, 7], [4, 4])
        .with_stride([2, 2])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init(&dev);
    let x = seeded([2, 3, 10, 10], 7, &dev);
    let calls = fast_calls();
    let fast = values(conv2d(&layer, x.clone()));
    assert_eq!(fast_calls(), calls + 1, "fast path not taken");
    let burn = values(layer.forward(x));
    close(&fast, &burn, "inference");
}

fn vec1(t: Tensor<1>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap_or_default()
}

#[test]
fn batch_norm_act_matches_burn_forward_and_backward() {
    use super::batch_norm_act;
    let dev = Device::flex().autodiff();
    for (i, act) in [Activation::Identity, Activation::Relu, Activation::LeakyRelu(0.2)]
        .into_iter()
        .enumerate()
    {
        let x0 = seeded([4, 5, 3, 3], 40 + i as u64, &dev)
            .mul_scalar(3.0)
            .add_scalar(0.7);
        let g0: Tensor<1> = seeded([1, 1, 1, 5], 50, &dev).reshape([5]).add_scalar(1.0);
        let b0: Tensor<1> = seeded([1, 1, 1, 5], 51, &dev).reshape([5]);
        let [fast, burn] = [true, false].map(|on| {
            set_fast_kernels(on);
            let (x, g, b) = (
                x0.clone().require_grad(),
                g0.clone().require_grad(),
                b0.clone().require_grad(),
            );
            let calls = fast_calls();
            let out = batch_norm_act(x.clone(), g.clone(), b.clone(), 1e-5, act);
            assert_eq!(fast_calls() - calls, usize::from(on));
            let weights = seeded(out.output.dims(), 98, &dev);
            let grads = (out.output.clone() * weights).sum().backward();
            set_fast_kernels(true);
            let g1 = |t: Option<Tensor<1>>| t.map(vec1).unwrap_or_default();
            [
                values(out.output),
                vec1(out.mean),
                vec1(out.variance),
                x.grad(&grads).map(values).unwrap_or_default(),
                g1(g.grad(&grads)),
                g1(b.grad(&grads)),
            ]
        });
        for (k, what) in ["output", "mean", "variance", "dx", "dgamma", "dbeta"]
            .iter()
            .enumerate()
        {
            assert!(!fast[k].is_empty(), "{act:?} {what} missing");
            close(&fast[k], &burn[k], &format!("{act:?} {what}"));
        }
    }
}

#[test]
fn batch_norm_eval_and_activation_match_burn() {
    use super::{activation, batch_norm_eval_act};
    let dev = Device::flex();
    let x = seeded([3, 4, 5, 5], 60, &dev);
    let p = |s| -> Tensor<1> { seeded([1, 1, 1, 4], s, &dev).reshape([4]) };
    let var = p(64).abs().add_scalar(0.5);
    for act in [Activation::Relu, Activation::LeakyRelu(0.2)] {
        let [fast, burn] = [true, false].map(|on| {
            set_fast_kernels(on);
            let calls = fast_calls();
            let y = batch_norm_eval_act(x.clone(), p(61), p(62), p(63), var.clone(), 1e-5, act);
            let a = activation(x.clone(), act);
            assert_eq!(fast_calls() - calls, 2 * usize::from(on));
            set_fast_kernels(true);
            [values(y), values(a)]
        });
        close(&fast[0], &burn[0], &format!("{act:?} eval"));
        close(&fast[1], &burn[1], &format!("{act:?} activation"));
    }
    // The activation's gradient under autodiff.
    let dev = Device::flex().autodiff();
    let x0 = seeded([2, 3, 4, 4], 70, &dev);
    let [fast, burn] = [true, false].map(|on| {
        set_fast_kernels(on);
        let x = x0.clone().require_grad();
        let y = activation(x.clone(), Activation::LeakyRelu(0.2));
        let grads = (y * seeded([2, 3, 4, 4], 71, &dev)).sum().backward();
        set_fast_kernels(true);
        x.grad(&grads).map(values).unwrap_or_default()
    });
    assert!(!fast.is_empty());
    close(&fast, &burn, "activation dx");
}

#[test]
fn conv_layers_over_several_batch_chunks_match_burn() {
    // Large enough that the batch is cut into chunks of images (16 + 1 and 32 + 1): the weight
    // gradient is summed over chunks, the outputs and input gradients are written chunk by chunk.
    let dev = Device::flex().autodiff();
    let layer: Conv2d = Conv2dConfig::new([16, 4], [4, 4])
        .with_stride([2, 2])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_bias(true)
        .init(&dev);
    let x = seeded([17, 16, 32, 32], 80, &dev);
    compare("chunked conv", &layer, &x, conv2d);
    let layer: ConvTranspose2d = ConvTranspose2dConfig::new([16, 8], [4, 4])
        .with_stride([2, 2])
        .with_padding([1, 1])
        .with_bias(true)
        .init(&dev);
    let x = seeded([33, 16, 16, 16], 81, &dev);
    compare("chunked transposed conv", &layer, &x, conv_transpose2d);
}

#[test]
fn a_stack_of_fast_layers_matches_burn_end_to_end() {
    // conv → BN+LeakyReLU → conv → BN+ReLU → transposed conv → ReLU → transposed conv → tanh: the
    // fast layers hand NHWC views to each other and to burn's own operations (tanh, the loss); the
    // output and the gradient of the input and of every weight must match burn's composition.
    use super::{activation, batch_norm_act};
    let dev = Device::flex().autodiff();
    let conv = |cin, cout| -> Conv2d {
        Conv2dConfig::new([cin, cout], [4, 4])
            .with_stride([2, 2])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .with_bias(false)
            .init(&dev)
    };
    let up = |cin, cout| -> ConvTranspose2d {
        ConvTranspose2dConfig::new([cin, cout], [4, 4])
            .with_stride([2, 2])
            .with_padding([1, 1])
            .with_bias(true)
            .init(&dev)
    };
    let (c1, c2, u1, u2) = (conv(3, 8), conv(8, 16), up(16, 8), up(8, 3));
    let gamma = |n, s| -> Tensor<1> { seeded([1, 1, 1, n], s, &dev).reshape([n]).add_scalar(1.0) };
    let (g1, b1, g2, b2) = (gamma(8, 90), gamma(8, 91), gamma(16, 92), gamma(16, 93));
    let x0 = seeded([4, 3, 16, 16], 94, &dev);
    let [fast, burn] = [true, false].map(|on| {
        set_fast_kernels(on);
        let x = x0.clone().require_grad();
        let (g1, b1, g2, b2) = (
            g1.clone().require_grad(),
            b1.clone(),
            g2.clone(),
            b2.clone().require_grad(),
        );
        let calls = fast_calls();
        let h = batch_norm_act(conv2d(&c1, x.clone()), g1.clone(), b1, 1e-5, Activation::LeakyRelu(0.2)).output;
        let h = batch_norm_act(conv2d(&c2, h), g2, b2.clone(), 1e-5, Activation::Relu).output;
        let h = activation(conv_transpose2d(&u1, h), Activation::Relu);
        let y = conv_transpose2d(&u2, h).tanh();
        assert_eq!(fast_calls() - calls, 7 * usize::from(on), "fast layers taken: {on}");
        let grads = (y.clone() * seeded([4, 3, 16, 16], 95, &dev)).sum().backward();
        set_fast_kernels(true);
        let w = |t: Tensor<4>| t.grad(&grads).map(values).unwrap_or_default();
        let v1 = |t: Tensor<1>| t.grad(&grads).map(vec1).unwrap_or_default();
        [
            values(y),
            w(x),
            w(c1.weight.val()),
            w(c2.weight.val()),
            w(u1.weight.val()),
            w(u2.weight.val()),
            v1(g1),
            v1(b2),
        ]
    });
    for (k, what) in [
        "output", "dx", "dw conv1", "dw conv2", "dw up1", "dw up2", "dgamma1", "dbeta2",
    ]
    .iter()
    .enumerate()
    {
        assert!(!fast[k].is_empty(), "{what} missing");
        close(&fast[k], &burn[k], &format!("stack {what}"));
    }
}

/// `precision = bf16`: outputs and gradients within bf16 rounding of burn's f32 ones (operands carry
/// 8 significant bits), and not equal to them (the products did round).
#[test]
fn bf16_products_stay_within_bf16_rounding_of_f32() {
    let dev = Device::flex().autodiff();
    let _bf16 = super::Precision::Bf16.scope();
    let mut differs = false;
    let mut compare = |name: &str, r: [[Vec<f32>; 4]; 2]| {
        let [fast, burn] = r;
        for (i, what) in ["output", "dx", "dw", "db"].iter().enumerate() {
            let scale = burn[i].iter().fold(1e-3f32, |m, v| m.max(v.abs()));
            for (j, (x, y)) in fast[i].iter().zip(&burn[i]).enumerate() {
                assert!((x - y).abs() <= 2e-2 * scale, "{name} {what}[{j}]: bf16 {x} vs f32 {y}");
                differs |= x != y;
            }
        }
    };
    let conv: Conv2d = Conv2dConfig::new([8, 16], [4, 4])
        .with_stride([2, 2])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_bias(true)
        .init(&dev);
    let x = seeded([3, 8, 16, 16], 7, &dev);
    compare("conv", both(&conv, &x, conv2d, Weights::w, Weights::b));
    let up: ConvTranspose2d = ConvTranspose2dConfig::new([16, 8], [4, 4])
        .with_stride([2, 2])
        .with_padding([1, 1])
        .init(&dev);
    let x = seeded([3, 16, 8, 8], 8, &dev);
    compare("transposed", both(&up, &x, conv_transpose2d, Weights::w, Weights::b));
    assert!(
        differs,
        "bf16 products gave f32's values exactly: the precision was not applied"
    );
}
