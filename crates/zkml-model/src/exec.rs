//! The integer reference executor: exactly the arithmetic the circuit proves.
//!
//! - `rescale(v, k) = floor((v + 2^(k-1)) / 2^k)`: division by a power of two, rounding half up (the
//!   circuit proves it as a floor division with a range-checked remainder, after adding `2^(k-1)`);
//! - a matrix product or convolution accumulates `Σ x·w + bias` at scale `2^(S+P)` and rescales by `P`,
//!   where `P` is the op's own parameter scale ([`QOp::param_scale`]);
//! - `x · y` of two activations rescales by `S`, `x · c` of an activation and a constant by the
//!   constant's `P`, as does LeakyRelu's `alpha · x`;
//! - average pooling divides by the window count rounding half up: `floor((2·sum + n) / (2·n))`, and so
//!   does the exact division by an integer (`Div`, which ends a mean);
//! - Sigmoid, Tanh and the exponentials of Softmax are lookup tables `round(f(q / 2^S) · 2^S)` over the
//!   clamped domain `[-T, T]`, where `T` (see [`table_half_width`]) is past the point where `f` saturates at
//!   this scale, so clamping changes no result;
//! - Softmax is `e_i = exp_table(q_i - max)`, then `floor((2·e_i·2^S + Σe) / (2·Σe))`;
//! - ArgMax is the index of the first maximum;
//! - a product of two activations (`MatMulNodes`) accumulates at `2^(2S)` and rescales by `S`;
//! - `a / b` of activations is `floor((2·a·2^S + b) / (2·b))` for `b > 0`; `sqrt(x)` is `round(sqrt(x·2^S))`
//!   and `1/sqrt(x)` is `round(sqrt(2^(3S) / x))`, both as `floor((z + 1) / 2)` of the floor square root
//!   `z` of four times the radicand ([`round_sqrt`], [`round_rsqrt`]);
//! - `x^n` multiplies `n - 1` times, rescaling after each product;
//! - Erf, Exp, Log, GELU (both forms) and SiLU are lookup tables `round(f(q / 2^S) · 2^S)` ([`lookup_value`]):
//!   Erf saturates like tanh; the GELU forms and SiLU are `F(clamp(q, -W, W)) + max(q - W, 0)` with `W` past
//!   the point where `f(x)` rounds to `x` above and to 0 below; Exp clamps below at `-T`; Log takes `q >= 1`;
//! - Where, Slice, Gather, Expand and table rows (Embedding) move values without arithmetic.
//!
//! Every node's output is checked against its calibrated bound; a value outside is an error.

use tract_onnx::prelude::tract_ndarray::{ArrayD, Axis, IxDyn, concatenate};

use crate::{
    error::{Error, Result},
    graph::{BinaryKind, LookupFn, UnaryKind, Window},
    quantize::{QNode, QOp, QOperand, QuantizedModel, quantize_value},
    tensor::{Tensor, index},
};

/// Runs the quantized model on one flattened sample; returns every node's output.
pub fn execute(model: &QuantizedModel, sample: &[f32]) -> Result<Vec<Tensor<i64>>> {
    let expected = model.input_len();
    if sample.len() != expected {
        return Err(Error::Input(format!("expected {expected} values, got {}", sample.len())));
    }
    let s = model.scales.activation;
    let p = model.scales.param;
    let mut offsets = vec![0usize];
    for shape in model.input_shapes() {
        offsets.push(offsets.last().copied().unwrap_or(0) + shape.iter().product::<usize>());
    }

    let mut values: Vec<ArrayD<i64>> = Vec::with_capacity(model.nodes.len());
    for node in &model.nodes {
        let input = |i: usize| &values[node.inputs[i]];
        let p = node.op.param_scale(p);
        let out: ArrayD<i128> = match &node.op {
            QOp::Input { index, integer } => {
                let slice = &sample[offsets[*index]..offsets[*index + 1]];
                if let Some(bad) = slice.iter().position(|v| !v.is_finite()) {
                    return Err(Error::Input(format!("value {bad} of input {index} is not a finite number")));
                }
                if *integer && let Some(bad) = slice.iter().position(|v| v.fract() != 0.0) {
                    return Err(Error::Input(format!(
                        "value {bad} of input {index} is {}, but the input takes integer ids",
                        slice[bad]
                    )));
                }
                let scale = if *integer { 0 } else { s };
                array(&node.shape, slice.iter().map(|v| quantize_value(*v as f64, scale) as i128).collect())
            }
            QOp::MatMul { weight, bias, .. } => matmul(input(0), weight, bias.as_deref(), p, &node.shape),
            QOp::Conv { kernel, bias, window, groups, .. } => {
                conv(input(0), kernel, bias.as_deref(), window, *groups, p)
            }
            QOp::ConvTranspose { kernel, bias, window, .. } => {
                conv_transpose(input(0), kernel, bias.as_deref(), window, &node.shape, p)
            }
            QOp::MatMulNodes => matmul_nodes(input(0), input(1), s, &node.shape),
            QOp::Lookup { func } => {
                let mut out = Vec::with_capacity(input(0).len());
                for v in input(0).iter() {
                    out.push(lookup_value(*func, *v, s).ok_or_else(|| Error::OutOfDomain {
                        node: node.name.clone(),
                        op: node.op_name.clone(),
                        value: *v as f64 / (1u64 << s) as f64,
                    })? as i128);
                }
                array(&node.shape, out)
            }
            QOp::Unary { kind } => {
                let mut out = Vec::with_capacity(input(0).len());
                for v in input(0).iter() {
                    let y = match kind {
                        UnaryKind::Sqrt => round_sqrt(*v as i128, s),
                        UnaryKind::Rsqrt => round_rsqrt(*v as i128, s),
                        UnaryKind::Abs => Some((*v as i128).abs()),
                        UnaryKind::Neg => Some(-(*v as i128)),
                    };
                    out.push(y.ok_or_else(|| Error::OutOfDomain {
                        node: node.name.clone(),
                        op: node.op_name.clone(),
                        value: *v as f64 / (1u64 << s) as f64,
                    })?);
                }
                array(&node.shape, out)
            }
            QOp::Pow { exponent } => input(0).mapv(|v| {
                let mut y = v as i128;
                for _ in 1..*exponent {
                    y = rescale(y * v as i128, s);
                }
                y
            }),
            QOp::Where { cond, then, otherwise } => {
                let pick = |o: &QOperand| -> Vec<i128> {
                    let (shape, data): (&[usize], Vec<i128>) = match o {
                        QOperand::Node(n) => (&model.nodes[*n].shape, values[*n].iter().map(|v| *v as i128).collect()),
                        QOperand::Const(c) => (&c.shape, c.data.iter().map(|v| *v as i128).collect()),
                    };
                    let map = index::broadcast(shape, &node.shape).expect("shapes broadcast, as tract checked");
                    map.into_iter().map(|i| data[i]).collect()
                };
                let (t, f) = (pick(then), pick(otherwise));
                let c = index::broadcast(&cond.shape, &node.shape).expect("shapes broadcast, as tract checked");
                array(
                    &node.shape,
                    c.iter().enumerate().map(|(i, ci)| if cond.data[*ci] != 0 { t[i] } else { f[i] }).collect(),
                )
            }
            QOp::Slice { axis, start, end, step } => {
                let map = index::slice(&model.nodes[node.inputs[0]].shape, *axis, *start, *end, *step);
                moved(input(0), &map, &node.shape)
            }
            QOp::Gather { axis, indices } => {
                let map = index::gather(&model.nodes[node.inputs[0]].shape, *axis, indices);
                moved(input(0), &map, &node.shape)
            }
            QOp::Broadcast => {
                let map = index::broadcast(&model.nodes[node.inputs[0]].shape, &node.shape)
                    .expect("shapes broadcast, as tract checked");
                moved(input(0), &map, &node.shape)
            }
            QOp::Upsample { scales } => {
                let map = index::upsample(&model.nodes[node.inputs[0]].shape, scales);
                moved(input(0), &map, &node.shape)
            }
            QOp::Embedding { table } => {
                let rows = table.shape[0];
                let width = table.len() / rows.max(1);
                let mut out = Vec::with_capacity(node.shape.iter().product());
                for v in input(0).iter() {
                    if *v < 0 || *v as usize >= rows {
                        return Err(Error::Input(format!(
                            "node '{}' ({}): index {v} is outside the table's {rows} rows",
                            node.name, node.op_name
                        )));
                    }
                    let row = *v as usize * width;
                    out.extend(table.data[row..row + width].iter().map(|t| *t as i128));
                }
                array(&node.shape, out)
            }
            QOp::ReduceMax { axes } | QOp::ReduceMin { axes } => {
                let is_max = matches!(node.op, QOp::ReduceMax { .. });
                let (map, len) = index::reduce(&model.nodes[node.inputs[0]].shape, axes);
                let mut out: Vec<Option<i128>> = vec![None; len];
                for (v, o) in input(0).iter().zip(map) {
                    let v = *v as i128;
                    out[o] = Some(out[o].map_or(v, |m| if is_max { m.max(v) } else { m.min(v) }));
                }
                array(&node.shape, out.into_iter().map(|v| v.unwrap_or(0)).collect())
            }
            QOp::Binary { kind, lhs, rhs, .. } => {
                let operand = |o: &QOperand| -> ArrayD<i128> {
                    let a = match o {
                        QOperand::Node(n) => values[*n].mapv(|v| v as i128),
                        QOperand::Const(c) => c.to_array().mapv(|v| v as i128),
                    };
                    a.broadcast(IxDyn(&node.shape)).expect("shapes broadcast, as tract checked").to_owned()
                };
                let (a, b) = (operand(lhs), operand(rhs));
                let shift = match (lhs, rhs) {
                    (QOperand::Node(_), QOperand::Node(_)) => s,
                    _ => p,
                };
                match kind {
                    BinaryKind::Add => a + b,
                    BinaryKind::Sub => a - b,
                    BinaryKind::Mul => {
                        let mut prod = a * b;
                        prod.mapv_inplace(|v| rescale(v, shift));
                        prod
                    }
                    BinaryKind::Div => {
                        if let Some(d) = b.iter().find(|d| **d <= 0) {
                            return Err(Error::OutOfDomain {
                                node: node.name.clone(),
                                op: node.op_name.clone(),
                                value: *d as f64 / (1u64 << s) as f64,
                            });
                        }
                        let quotient: Vec<i128> = a.iter().zip(b.iter()).map(|(x, d)| round_div(x << s, *d)).collect();
                        array(&node.shape, quotient)
                    }
                    BinaryKind::Max => array(&node.shape, a.iter().zip(b.iter()).map(|(x, y)| *x.max(y)).collect()),
                    BinaryKind::Min => array(&node.shape, a.iter().zip(b.iter()).map(|(x, y)| *x.min(y)).collect()),
                }
            }
            QOp::Clamp { min, max } => input(0).mapv(|v| {
                let v = min.map_or(v, |m| v.max(m));
                max.map_or(v, |m| v.min(m)) as i128
            }),
            QOp::LeakyRelu { alpha, .. } => {
                input(0).mapv(|v| if v >= 0 { v as i128 } else { rescale(v as i128 * *alpha as i128, p) })
            }
            QOp::Sigmoid => input(0).mapv(|v| sigmoid_table(v, s) as i128),
            QOp::Tanh => input(0).mapv(|v| tanh_table(v, s) as i128),
            QOp::MaxPool { window } => pool(input(0), window, PoolKind::Max),
            QOp::AvgPool { window, count_include_pad, normalize } => {
                pool(input(0), window, PoolKind::Avg { count_include_pad: *count_include_pad, normalize: *normalize })
            }
            QOp::Div { divisor } => input(0).mapv(|v| round_div(v as i128, *divisor as i128)),
            QOp::ReduceSum { axes } => {
                let mut a = input(0).mapv(|v| v as i128);
                let mut sorted = axes.clone();
                sorted.sort_unstable_by(|x, y| y.cmp(x));
                for axis in sorted {
                    a = a.sum_axis(Axis(axis)).insert_axis(Axis(axis));
                }
                a
            }
            QOp::Reshape => {
                let data: Vec<i128> = input(0).iter().map(|v| *v as i128).collect();
                array(&node.shape, data)
            }
            QOp::Transpose { perm } => {
                let t = input(0).clone().permuted_axes(IxDyn(perm));
                array(&node.shape, t.iter().map(|v| *v as i128).collect())
            }
            QOp::Concat { axis } => {
                let views: Vec<_> = node.inputs.iter().map(|&i| values[i].view()).collect();
                concatenate(Axis(*axis), &views).expect("shapes agree, as tract checked").mapv(|v| v as i128)
            }
            QOp::Softmax { axis } => softmax(input(0), *axis, s),
            QOp::ArgMax { axis } => argmax(input(0), *axis),
        };
        values.push(check_bounds(node, out)?);
    }
    Ok(values.iter().map(Tensor::from_array).collect())
}

/// The model outputs of an execution, in real units.
pub fn outputs_real(model: &QuantizedModel, values: &[Tensor<i64>]) -> Vec<Vec<f64>> {
    model
        .outputs
        .iter()
        .map(|&o| {
            let scale = (1u64 << model.nodes[o].scale) as f64;
            values[o].data.iter().map(|v| *v as f64 / scale).collect()
        })
        .collect()
}

fn array(shape: &[usize], data: Vec<i128>) -> ArrayD<i128> {
    ArrayD::from_shape_vec(IxDyn(shape), data).expect("the node shape matches its element count")
}

fn check_bounds(node: &QNode, out: ArrayD<i128>) -> Result<ArrayD<i64>> {
    debug_assert_eq!(out.shape(), node.shape.as_slice(), "node '{}' shape", node.name);
    if let Some(&value) = out.iter().find(|v| v.unsigned_abs() > node.bound as u128) {
        return Err(Error::OutOfRange {
            node: node.name.clone(),
            op: node.op_name.clone(),
            value,
            bound: node.bound as i128,
            scale: node.scale,
            real: value as f64 / (1u64 << node.scale) as f64,
            calibrated: node.calibrated_max,
        });
    }
    // Within the bound (at most MAX_VALUE_BITS bits), so the narrowing is exact.
    Ok(out.mapv(|v| v as i64))
}

/// `floor((v + 2^(k-1)) / 2^k)`: divide by `2^k`, rounding half up.
pub fn rescale(v: i128, k: u8) -> i128 {
    if k == 0 {
        return v;
    }
    (v + (1i128 << (k - 1))).div_euclid(1i128 << k)
}

/// `floor((2·num + den) / (2·den))`: divide by a positive integer, rounding half up.
pub fn round_div(num: i128, den: i128) -> i128 {
    (2 * num + den).div_euclid(2 * den)
}

/// Half-width `T` of the lookup domain at scale `2^s`: beyond `|x| = T / 2^s = (s + 2)·ln 2`, sigmoid,
/// tanh and `exp(-x)` are within half a unit of their limit, so they round to it.
pub fn table_half_width(s: u8) -> i64 {
    ((s as f64 + 2.0) * std::f64::consts::LN_2 * (1u64 << s) as f64).ceil() as i64
}

fn lookup(q: i64, s: u8, f: impl Fn(f64) -> f64) -> i64 {
    let t = table_half_width(s);
    let one = (1u64 << s) as f64;
    (f(q.clamp(-t, t) as f64 / one) * one).round() as i64
}

/// The sigmoid table at scale `2^s`.
pub fn sigmoid_table(q: i64, s: u8) -> i64 {
    lookup(q, s, |x| 1.0 / (1.0 + (-x).exp()))
}

/// The tanh table at scale `2^s`.
pub fn tanh_table(q: i64, s: u8) -> i64 {
    lookup(q, s, f64::tanh)
}

/// The exp table of Softmax at scale `2^s`, for `q <= 0`.
pub fn exp_table(q: i64, s: u8) -> i64 {
    lookup(q.min(0), s, f64::exp)
}

/// Half-width of the Erf table at scale `2^s`: beyond `sqrt((s + 2)·ln 2)`, `1 - erf(x) < e^(-x²)` is
/// below half a unit.
pub fn erf_half_width(s: u8) -> i64 {
    (((s as f64 + 2.0) * std::f64::consts::LN_2).sqrt() * (1u64 << s) as f64).ceil() as i64
}

/// Half-width `W` of the GELU and SiLU tables at scale `2^s`: beyond it `f(x)` rounds to `x` (above) and to
/// 0 (below). For GELU `|x - gelu(x)| <= φ(x)`, below half a unit past `sqrt(2(s + 3)·ln 2)`; SiLU's tail
/// `x·e^(-x)` needs `x - ln x > (s + 1)·ln 2`.
pub fn relu_tail_half_width(func: LookupFn, s: u8) -> i64 {
    let one = (1u64 << s) as f64;
    let x = match func {
        LookupFn::Silu => {
            let a = (s as f64 + 2.0) * std::f64::consts::LN_2;
            a + 2.0 * a.ln().max(0.0) + 1.0
        }
        _ => (2.0 * (s as f64 + 3.0) * std::f64::consts::LN_2).sqrt(),
    };
    (x * one).ceil() as i64
}

/// The real function a lookup tabulates.
pub fn lookup_real(func: LookupFn, x: f64) -> f64 {
    match func {
        LookupFn::Erf => libm::erf(x),
        LookupFn::Exp => x.exp(),
        LookupFn::Ln => x.ln(),
        LookupFn::Gelu => 0.5 * x * (1.0 + libm::erf(x / std::f64::consts::SQRT_2)),
        LookupFn::GeluTanh => {
            let c = (2.0 / std::f64::consts::PI).sqrt();
            0.5 * x * (1.0 + (c * (x + 0.044715 * x * x * x)).tanh())
        }
        LookupFn::Silu => x / (1.0 + (-x).exp()),
    }
}

/// `round(f(q / 2^s) · 2^s)` as the table holds it, for `q` inside the table's domain.
pub fn lookup_entry(func: LookupFn, q: i64, s: u8) -> i64 {
    let one = (1u64 << s) as f64;
    (lookup_real(func, q as f64 / one) * one).round() as i64
}

/// The value a lookup op computes for `q` (see the module docs); `None` outside the function's domain
/// (the logarithm of a value below one unit).
pub fn lookup_value(func: LookupFn, q: i64, s: u8) -> Option<i64> {
    Some(match func {
        LookupFn::Erf => {
            let w = erf_half_width(s);
            lookup_entry(func, q.clamp(-w, w), s)
        }
        LookupFn::Exp => lookup_entry(func, q.max(-table_half_width(s)), s),
        LookupFn::Ln => {
            if q < 1 {
                return None;
            }
            lookup_entry(func, q, s)
        }
        LookupFn::Gelu | LookupFn::GeluTanh | LookupFn::Silu => {
            let w = relu_tail_half_width(func, s);
            lookup_entry(func, q.clamp(-w, w), s) + (q - w).max(0)
        }
    })
}

/// `floor(sqrt(n))` for `n >= 0`.
pub fn isqrt(n: i128) -> i128 {
    debug_assert!(n >= 0);
    let mut z = (n as f64).sqrt() as i128;
    while z * z > n {
        z -= 1;
    }
    while (z + 1) * (z + 1) <= n {
        z += 1;
    }
    z
}

/// `round(sqrt(q · 2^s))`: the square root at scale `2^s` of `q >= 0`, as `floor((z + 1) / 2)` for
/// `z = floor(sqrt(4·q·2^s))`; `None` for `q < 0`.
pub fn round_sqrt(q: i128, s: u8) -> Option<i128> {
    (q >= 0).then(|| (isqrt(4 * (q << s)) + 1) / 2)
}

/// `round(sqrt(2^(3s) / q))`: `1 / sqrt` at scale `2^s` of `q > 0`, as `floor((z + 1) / 2)` for the largest
/// `z` with `z²·q <= 4·2^(3s)`; `None` for `q <= 0`.
pub fn round_rsqrt(q: i128, s: u8) -> Option<i128> {
    if q <= 0 {
        return None;
    }
    let n = 4i128 << (3 * s as u32);
    let mut z = isqrt(n / q);
    while z * z * q > n {
        z -= 1;
    }
    while (z + 1) * (z + 1) * q <= n {
        z += 1;
    }
    Some((z + 1) / 2)
}

/// Copies of `x`'s elements: output element `i` is flat element `map[i]`.
fn moved(x: &ArrayD<i64>, map: &[usize], shape: &[usize]) -> ArrayD<i128> {
    let flat: Vec<i64> = x.iter().copied().collect();
    array(shape, map.iter().map(|&i| flat[i] as i128).collect())
}

/// `[B, M, K]` times `[B, K, N]`, each sum rescaled by `s`; the output takes the node's shape (`[B, M, N]`
/// possibly without size-1 axes).
fn matmul_nodes(a: &ArrayD<i64>, b: &ArrayD<i64>, s: u8, out_shape: &[usize]) -> ArrayD<i128> {
    let (bs, m, k, n) = (a.shape()[0], a.shape()[1], a.shape()[2], b.shape()[2]);
    let (av, bv): (Vec<i64>, Vec<i64>) = (a.iter().copied().collect(), b.iter().copied().collect());
    let mut out = Vec::with_capacity(bs * m * n);
    for batch in 0..bs {
        for i in 0..m {
            for j in 0..n {
                let acc: i128 =
                    (0..k).map(|t| av[(batch * m + i) * k + t] as i128 * bv[(batch * k + t) * n + j] as i128).sum();
                out.push(rescale(acc, s));
            }
        }
    }
    array(out_shape, out)
}

/// The input taps `(ic, y, x, kernel index)` of output `(oc, i, j)` of a transposed convolution over an
/// `h × w` input: input `(y, x)` reaches output `(y·stride + di·dilation - pad_top, ...)`. The executor and
/// the circuit both sum over these.
pub fn conv_transpose_taps(
    window: &Window,
    kernel_shape: &[usize],
    (h, w): (usize, usize),
    (oc, i, j): (usize, usize, usize),
) -> Vec<(usize, usize, usize, usize)> {
    let (cin, cout, kh, kw) = (kernel_shape[0], kernel_shape[1], kernel_shape[2], kernel_shape[3]);
    let mut taps = vec![];
    for ic in 0..cin {
        for di in 0..kh {
            for dj in 0..kw {
                let (ty, tx) = (i + window.pads[0], j + window.pads[1]);
                let (oy, ox) = (di * window.dilations[0], dj * window.dilations[1]);
                if ty < oy || tx < ox || (ty - oy) % window.strides[0] != 0 || (tx - ox) % window.strides[1] != 0 {
                    continue;
                }
                let (y, x) = ((ty - oy) / window.strides[0], (tx - ox) / window.strides[1]);
                if y < h && x < w {
                    taps.push((ic, y, x, ((ic * cout + oc) * kh + di) * kw + dj));
                }
            }
        }
    }
    taps
}

fn conv_transpose(
    x: &ArrayD<i64>,
    kernel: &Tensor<i64>,
    bias: Option<&[i64]>,
    window: &Window,
    out_shape: &[usize],
    p: u8,
) -> ArrayD<i128> {
    let (n, h, w) = (x.shape()[0], x.shape()[2], x.shape()[3]);
    let (o, oh, ow) = (out_shape[1], out_shape[2], out_shape[3]);
    let mut out = Vec::with_capacity(n * o * oh * ow);
    for b in 0..n {
        for oc in 0..o {
            for i in 0..oh {
                for j in 0..ow {
                    let mut acc: i128 = bias.map_or(0, |bv| bv[oc] as i128);
                    for (ic, y, xx, k) in conv_transpose_taps(window, &kernel.shape, (h, w), (oc, i, j)) {
                        acc += x[[b, ic, y, xx]] as i128 * kernel.data[k] as i128;
                    }
                    out.push(rescale(acc, p));
                }
            }
        }
    }
    array(out_shape, out)
}

/// `x` viewed as `[rows, k]` times `w`; the output takes the node's shape (`[.., n]`, possibly without
/// size-1 axes of `x`).
fn matmul(x: &ArrayD<i64>, w: &Tensor<i64>, bias: Option<&[i64]>, p: u8, out_shape: &[usize]) -> ArrayD<i128> {
    let (k, n) = (w.shape[0], w.shape[1]);
    let rows = x.len() / k;
    let xs: Vec<i64> = x.iter().copied().collect();
    let mut out = Vec::with_capacity(rows * n);
    for r in 0..rows {
        let row = &xs[r * k..(r + 1) * k];
        for j in 0..n {
            let mut acc: i128 = bias.map_or(0, |b| b[j] as i128);
            for (i, xv) in row.iter().enumerate() {
                acc += *xv as i128 * w.data[i * n + j] as i128;
            }
            out.push(rescale(acc, p));
        }
    }
    array(out_shape, out)
}

fn conv(x: &ArrayD<i64>, kernel: &Tensor<i64>, bias: Option<&[i64]>, w: &Window, groups: usize, p: u8) -> ArrayD<i128> {
    let (n, h, wd) = (x.shape()[0], x.shape()[2], x.shape()[3]);
    let (o, c, kh, kw) = (kernel.shape[0], kernel.shape[1], kernel.shape[2], kernel.shape[3]);
    // Output channel `oc` reads the `c` input channels of its group.
    let per_group = o / groups;
    let (oh, ow) = w.output_size(h, wd);
    let mut out = Vec::with_capacity(n * o * oh * ow);
    for b in 0..n {
        for oc in 0..o {
            for i in 0..oh {
                for j in 0..ow {
                    let mut acc: i128 = bias.map_or(0, |bv| bv[oc] as i128);
                    for ic in 0..c {
                        let channel = oc / per_group * c + ic;
                        for (y, xx, di, dj) in w.taps(h, wd, i, j) {
                            let kv = kernel.data[((oc * c + ic) * kh + di) * kw + dj];
                            acc += x[[b, channel, y, xx]] as i128 * kv as i128;
                        }
                    }
                    out.push(rescale(acc, p));
                }
            }
        }
    }
    array(&[n, o, oh, ow], out)
}

enum PoolKind {
    Max,
    Avg { count_include_pad: bool, normalize: bool },
}

fn pool(x: &ArrayD<i64>, w: &Window, kind: PoolKind) -> ArrayD<i128> {
    let (n, c, h, wd) = (x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]);
    let (oh, ow) = w.output_size(h, wd);
    let mut out = Vec::with_capacity(n * c * oh * ow);
    for b in 0..n {
        for ch in 0..c {
            for i in 0..oh {
                for j in 0..ow {
                    let (mut max, mut sum, mut count): (Option<i128>, i128, i128) = (None, 0, 0);
                    for (y, xx, _, _) in w.taps(h, wd, i, j) {
                        let v = x[[b, ch, y, xx]] as i128;
                        max = Some(max.map_or(v, |m| m.max(v)));
                        sum += v;
                        count += 1;
                    }
                    out.push(match kind {
                        PoolKind::Max => max.unwrap_or(0),
                        PoolKind::Avg { normalize: false, .. } => sum,
                        PoolKind::Avg { count_include_pad, normalize: true } => {
                            let divisor =
                                if count_include_pad { (w.kernel[0] * w.kernel[1]) as i128 } else { count.max(1) };
                            round_div(sum, divisor)
                        }
                    });
                }
            }
        }
    }
    array(&[n, c, oh, ow], out)
}

fn softmax(x: &ArrayD<i64>, axis: usize, s: u8) -> ArrayD<i128> {
    let one = 1i128 << s;
    let mut out = x.mapv(|v| v as i128);
    for mut lane in out.lanes_mut(Axis(axis)) {
        let max = lane.iter().copied().max().unwrap_or(0);
        let exps: Vec<i128> = lane.iter().map(|v| exp_table((*v - max) as i64, s) as i128).collect();
        let sum: i128 = exps.iter().sum();
        for (slot, e) in lane.iter_mut().zip(exps) {
            *slot = round_div(e * one, sum);
        }
    }
    out
}

fn argmax(x: &ArrayD<i64>, axis: usize) -> ArrayD<i128> {
    let mut shape = x.shape().to_vec();
    shape[axis] = 1;
    let data: Vec<i128> = x
        .lanes(Axis(axis))
        .into_iter()
        .map(|lane| {
            let mut best = 0usize;
            for (i, v) in lane.iter().enumerate() {
                if *v > lane[best] {
                    best = i;
                }
            }
            best as i128
        })
        .collect();
    array(&shape, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rescale_rounds_half_up_for_both_signs() {
        assert_eq!(rescale(5, 1), 3); // 2.5 -> 3
        assert_eq!(rescale(-5, 1), -2); // -2.5 -> -2
        assert_eq!(rescale(-6, 1), -3);
        assert_eq!(rescale(7, 2), 2); // 1.75 -> 2
        assert_eq!(rescale(-7, 2), -2);
        assert_eq!(rescale(123, 0), 123);
        for v in -1000i128..1000 {
            let exact = v as f64 / 8.0;
            assert_eq!(rescale(v, 3), (exact + 0.5).floor() as i128, "v = {v}");
        }
    }

    #[test]
    fn round_div_rounds_half_up() {
        assert_eq!(round_div(5, 2), 3);
        assert_eq!(round_div(-5, 2), -2);
        assert_eq!(round_div(10, 4), 3); // 2.5
        assert_eq!(round_div(9, 9), 1);
        for num in -200i128..200 {
            for den in 1i128..12 {
                assert_eq!(round_div(num, den), (num as f64 / den as f64 + 0.5).floor() as i128, "{num}/{den}");
            }
        }
    }

    #[test]
    fn lookup_tables_saturate_inside_their_domain() {
        for s in [4u8, 7, 10, 12] {
            let one = 1i64 << s;
            let t = table_half_width(s);
            assert_eq!(sigmoid_table(0, s), one / 2);
            assert_eq!(tanh_table(0, s), 0);
            assert_eq!(exp_table(0, s), one);
            // At the edge of the domain the exact functions already round to their limits, so clamping
            // the input there changes no output.
            let at = |f: fn(f64) -> f64, q: i64| (f(q as f64 / one as f64) * one as f64).round() as i64;
            assert_eq!(at(|x| 1.0 / (1.0 + (-x).exp()), t), one, "sigmoid at T, s = {s}");
            assert_eq!(at(|x| 1.0 / (1.0 + (-x).exp()), -t), 0, "sigmoid at -T, s = {s}");
            assert_eq!(at(f64::tanh, t), one, "tanh at T, s = {s}");
            assert_eq!(at(f64::exp, -t), 0, "exp at -T, s = {s}");
            assert_eq!(sigmoid_table(t * 10, s), one);
            assert_eq!(exp_table(-t * 10, s), 0);
        }
    }
}
