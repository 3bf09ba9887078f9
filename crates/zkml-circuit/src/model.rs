//! Lays out a quantized model in a halo2-base context: every node's output is computed by the chips from
//! its inputs' cells and range-checked to the node's calibrated bound wherever the op does not already
//! imply it, so the circuit's outputs are the integer reference executor's outputs (`zkml_model::exec`)
//! or the constraints fail.
//!
//! The model's integer constants are circuit constants (fixed weights: the verifying key pins them) or
//! private witnesses hashed in-circuit into the public model commitment (committed weights).

use halo2_base::{
    AssignedValue, Context, QuantumCell,
    QuantumCell::{Constant, Existing},
    gates::{GateChip, GateInstructions, RangeInstructions},
    utils::BigPrimeField,
};
use zkml_model::{
    commit::{commitment_header, constants_width, model_constants, node_constants},
    exec::conv_transpose_taps,
    graph::{BinaryKind, UnaryKind},
    quantize::{QOp, QOperand, QuantizedModel, signed_bits},
    tensor::index,
};

use crate::{
    dot::DotChip,
    fixed_point::{FixedPointInstructions, fe_from_i64},
    public::{WeightVisibility, hash_cells, pack_cells},
    tables::{TableChip, TableFn},
};

/// Errors of circuit layout.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The node's op has no circuit.
    #[error("node '{node}' ({op}) cannot be proved: {reason}")]
    Unsupported {
        /// The node.
        node: String,
        /// Its op.
        op: String,
        /// Why.
        reason: String,
    },
    /// No circuit size up to `2^max_k` rows holds the model.
    #[error("the model does not fit a circuit of 2^{max_k} rows")]
    TooLarge {
        /// The largest k tried.
        max_k: u32,
    },
    /// The nonlinear-function table has more rows than the circuit: a table column is a fixed column, which
    /// cannot continue in another.
    #[error(
        "the function table ({rows} rows, for the model's nonlinear ops) does not fit a circuit of 2^{k} rows \
         ({usable} usable): use k = {min_k} or more"
    )]
    TableTooLarge {
        /// Rows of the table.
        rows: usize,
        /// log2 of the circuit's rows.
        k: u32,
        /// Rows usable at `k`.
        usable: usize,
        /// The smallest k whose usable rows hold the table.
        min_k: u32,
    },
    /// The input does not fit the model.
    #[error("input: expected {expected} quantized values, got {got}")]
    InputLength {
        /// Values the model takes.
        expected: usize,
        /// Values given.
        got: usize,
    },
}

/// The cells a laid-out model exposes.
#[derive(Clone, Debug)]
pub struct ModelCells<F: BigPrimeField> {
    /// Quantized inputs, flattened in model input order.
    pub inputs: Vec<AssignedValue<F>>,
    /// Quantized outputs, flattened in model output order.
    pub outputs: Vec<AssignedValue<F>>,
    /// The model commitment, computed in-circuit from the witness weights (committed weights only).
    pub commitment: Option<AssignedValue<F>>,
    /// Every node's output cells, in node order.
    pub nodes: Vec<Vec<AssignedValue<F>>>,
    /// The gate cells each node laid out (its share of the rows; one per dot-product term), in node order.
    pub node_advice: Vec<usize>,
}

/// Lays out `model` on the quantized `input` (integers at the activation scale, flattened in input order).
pub fn assign_model<F: BigPrimeField>(
    ctx: &mut Context<F>,
    range: &impl RangeInstructions<F, Gate = GateChip<F>>,
    tables: &TableChip<F>,
    dots: &DotChip<F>,
    model: &QuantizedModel,
    weights: WeightVisibility,
    input: &[i64],
) -> Result<ModelCells<F>, Error> {
    let expected = model.input_len();
    if input.len() != expected {
        return Err(Error::InputLength { expected, got: input.len() });
    }
    let s = model.scales.activation as u32;
    let one = 1i64 << s;
    let mut offsets = vec![0usize];
    for shape in model.input_shapes() {
        offsets.push(offsets.last().copied().unwrap_or(0) + shape.iter().product::<usize>());
    }
    let (constants, commitment) = load_constants(ctx, range, model, weights);

    let mut cells: Vec<Vec<AssignedValue<F>>> = Vec::with_capacity(model.nodes.len());
    let mut node_advice = Vec::with_capacity(model.nodes.len());
    let mut cursor = 0;
    for node in &model.nodes {
        let advice_before = ctx.advice.len();
        let dot_terms_before = dots.terms();
        let consts = &constants[cursor..cursor + node_constants(&node.op).len()];
        cursor += consts.len();
        let unsupported = |reason: &str| Error::Unsupported {
            node: node.name.clone(),
            op: node.op_name.clone(),
            reason: reason.to_string(),
        };
        let source = |i: usize| &model.nodes[node.inputs[i]];
        // The exponent of this op's constants: the executor rescales its products by the same.
        let p = node.op.param_scale(model.scales.param) as u32;
        let x = |i: usize| &cells[node.inputs[i]];
        // The bound the op's result is known to satisfy without a check; None: always checked.
        let mut implied: Option<i64> = None;
        let out: Vec<AssignedValue<F>> = match &node.op {
            QOp::Input { index, .. } => {
                input[offsets[*index]..offsets[*index + 1]].iter().map(|v| ctx.load_witness(fe_from_i64(*v))).collect()
            }
            QOp::MatMul { weight, bias, .. } => {
                let (k, n) = (weight.shape[0], weight.shape[1]);
                // |acc| <= (bound + 1/2) · 2^P for every output within its bound; larger fails rescale.
                let acc_bits = signed_bits(node.bound) + p;
                let mut out = Vec::with_capacity(x(0).len() / k * n);
                for row in x(0).chunks(k) {
                    for j in 0..n {
                        let column: Vec<QuantumCell<F>> = (0..k).map(|i| consts[i * n + j]).collect();
                        let b = bias.as_ref().map(|_| consts[k * n + j]);
                        let acc = dot(ctx, range, dots, row, &column, b);
                        out.push(range.rescale(ctx, acc, p, acc_bits));
                    }
                }
                out
            }
            QOp::Conv { kernel, bias, window, groups, .. } => {
                let x_shape = &source(0).shape;
                let (channels, h, w) = (x_shape[1], x_shape[2], x_shape[3]);
                let (o, c, kh, kw) = (kernel.shape[0], kernel.shape[1], kernel.shape[2], kernel.shape[3]);
                let per_group = o / groups;
                let (oh, ow) = window.output_size(h, w);
                let acc_bits = signed_bits(node.bound) + p;
                let mut out = Vec::with_capacity(x_shape[0] * o * oh * ow);
                for b in 0..x_shape[0] {
                    for oc in 0..o {
                        for i in 0..oh {
                            for j in 0..ow {
                                let (mut xs, mut ws) = (vec![], vec![]);
                                for ic in 0..c {
                                    let channel = oc / per_group * c + ic;
                                    for (y, xx, di, dj) in window.taps(h, w, i, j) {
                                        xs.push(x(0)[((b * channels + channel) * h + y) * w + xx]);
                                        ws.push(consts[((oc * c + ic) * kh + di) * kw + dj]);
                                    }
                                }
                                let bias_cell = bias.as_ref().map(|_| consts[kernel.data.len() + oc]);
                                let acc = dot(ctx, range, dots, &xs, &ws, bias_cell);
                                out.push(range.rescale(ctx, acc, p, acc_bits));
                            }
                        }
                    }
                }
                out
            }
            QOp::Binary { kind, lhs, rhs, .. } => {
                let mut const_cursor = 0;
                let mut operand = |o: &QOperand| -> Result<Vec<QuantumCell<F>>, Error> {
                    let (shape, values): (Vec<usize>, Vec<QuantumCell<F>>) = match o {
                        QOperand::Node(n) => {
                            (model.nodes[*n].shape.clone(), cells[*n].iter().map(|c| Existing(*c)).collect())
                        }
                        QOperand::Const(t) => {
                            let v = consts[const_cursor..const_cursor + t.len()].to_vec();
                            const_cursor += t.len();
                            (t.shape.clone(), v)
                        }
                    };
                    let map = index::broadcast(&shape, &node.shape)
                        .ok_or_else(|| unsupported("operands do not broadcast"))?;
                    Ok(map.into_iter().map(|i| values[i]).collect())
                };
                let (a, b) = (operand(lhs)?, operand(rhs)?);
                let shift = if matches!((lhs, rhs), (QOperand::Node(_), QOperand::Node(_))) { s } else { p };
                let acc_bits = signed_bits(node.bound) + shift;
                let operand_bound = |o: &QOperand| match o {
                    QOperand::Node(n) => model.nodes[*n].bound,
                    QOperand::Const(c) => c.data.iter().map(|v| v.abs()).max().unwrap_or(0),
                };
                let (a_bound, b_bound) = (operand_bound(lhs), operand_bound(rhs));
                if matches!(kind, BinaryKind::Max | BinaryKind::Min) {
                    implied = Some(a_bound.max(b_bound));
                }
                a.into_iter()
                    .zip(b)
                    .map(|(a, b)| match kind {
                        BinaryKind::Add => range.gate().add(ctx, a, b),
                        BinaryKind::Sub => range.gate().sub(ctx, a, b),
                        BinaryKind::Mul => {
                            let product = range.gate().mul(ctx, a, b);
                            range.rescale(ctx, product, shift, acc_bits)
                        }
                        BinaryKind::Div => {
                            // round(a·2^S / b): the quotient's bound is checked below, so it cannot wrap.
                            let numerator = range.gate().mul(ctx, a, Constant(F::from(one as u64)));
                            let divisor = as_cell(ctx, b);
                            range.round_div_signed(
                                ctx,
                                numerator,
                                divisor,
                                signed_bits(a_bound) + s,
                                signed_bits(b_bound),
                            )
                        }
                        BinaryKind::Max | BinaryKind::Min => {
                            let bits = signed_bits(a_bound.max(b_bound));
                            let (a, b) = (as_cell(ctx, a), as_cell(ctx, b));
                            if *kind == BinaryKind::Max {
                                range.max(ctx, a, b, bits)
                            } else {
                                range.min(ctx, a, b, bits)
                            }
                        }
                    })
                    .collect()
            }
            QOp::Clamp { min: Some(0), max: None } => {
                implied = Some(source(0).bound);
                let bits = signed_bits(source(0).bound);
                x(0).iter().map(|a| range.relu(ctx, *a, bits)).collect()
            }
            QOp::Clamp { min, max } => {
                let bound = source(0).bound.max(min.unwrap_or(0).abs()).max(max.unwrap_or(0).abs());
                implied = Some(bound);
                let bits = signed_bits(bound);
                let mut k = 0;
                let mut limit = |v: Option<i64>| {
                    v.map(|_| {
                        k += 1;
                        consts[k - 1]
                    })
                };
                let (low, high) = (limit(*min), limit(*max));
                let (low, high) = (low.map(|c| as_cell(ctx, c)), high.map(|c| as_cell(ctx, c)));
                x(0).iter()
                    .map(|a| {
                        let a = low.map_or(*a, |l| range.max(ctx, *a, l, bits));
                        high.map_or(a, |h| range.min(ctx, a, h, bits))
                    })
                    .collect()
            }
            QOp::LeakyRelu { alpha, .. } => {
                let bits = signed_bits(source(0).bound);
                let product_bits = (bits + signed_bits(alpha.abs())).max(p);
                let offset = Constant(F::from_u128(1u128 << bits));
                x(0).iter()
                    .map(|a| {
                        let shifted = range.gate().add(ctx, *a, offset);
                        let negative = range.is_less_than(ctx, shifted, offset, bits as usize + 1);
                        let product = range.gate().mul(ctx, *a, consts[0]);
                        let scaled = range.rescale(ctx, product, p, product_bits);
                        range.gate().select(ctx, scaled, *a, negative)
                    })
                    .collect()
            }
            QOp::ConvTranspose { kernel, bias, window, .. } => {
                let x_shape = &source(0).shape;
                let (channels, h, w) = (x_shape[1], x_shape[2], x_shape[3]);
                let (o, oh, ow) = (node.shape[1], node.shape[2], node.shape[3]);
                let acc_bits = signed_bits(node.bound) + p;
                let mut out = Vec::with_capacity(node.shape.iter().product());
                for b in 0..x_shape[0] {
                    for oc in 0..o {
                        for i in 0..oh {
                            for j in 0..ow {
                                let (mut xs, mut ws) = (vec![], vec![]);
                                for (ic, y, xx, k) in conv_transpose_taps(window, &kernel.shape, (h, w), (oc, i, j)) {
                                    xs.push(x(0)[((b * channels + ic) * h + y) * w + xx]);
                                    ws.push(consts[k]);
                                }
                                let bias_cell = bias.as_ref().map(|_| consts[kernel.data.len() + oc]);
                                let acc = dot(ctx, range, dots, &xs, &ws, bias_cell);
                                out.push(range.rescale(ctx, acc, p, acc_bits));
                            }
                        }
                    }
                }
                out
            }
            QOp::MatMulNodes => {
                let (a_shape, b_shape) = (&source(0).shape, &source(1).shape);
                let (bs, m, k, n) = (a_shape[0], a_shape[1], a_shape[2], b_shape[2]);
                let acc_bits = signed_bits(node.bound) + s;
                let mut out = Vec::with_capacity(bs * m * n);
                for batch in 0..bs {
                    for i in 0..m {
                        let row = &x(0)[(batch * m + i) * k..(batch * m + i + 1) * k];
                        for j in 0..n {
                            let column: Vec<QuantumCell<F>> =
                                (0..k).map(|t| Existing(x(1)[(batch * k + t) * n + j])).collect();
                            let acc = dot(ctx, range, dots, row, &column, None);
                            out.push(range.rescale(ctx, acc, s, acc_bits));
                        }
                    }
                }
                out
            }
            QOp::Lookup { func } => {
                let bound = source(0).bound;
                let table = TableFn::of(*func);
                x(0).iter().map(|a| tables.lookup(ctx, range, table, *a, bound)).collect()
            }
            QOp::Unary { kind } => {
                let bound = source(0).bound;
                let bits = signed_bits(bound);
                match kind {
                    UnaryKind::Sqrt => x(0).iter().map(|a| range.round_sqrt(ctx, *a, s, bits)).collect(),
                    UnaryKind::Rsqrt => x(0).iter().map(|a| range.round_rsqrt(ctx, *a, s, bits)).collect(),
                    UnaryKind::Neg => {
                        implied = Some(bound);
                        x(0).iter().map(|a| range.gate().neg(ctx, *a)).collect()
                    }
                    UnaryKind::Abs => {
                        implied = Some(bound);
                        x(0).iter()
                            .map(|a| {
                                let negated = range.gate().neg(ctx, *a);
                                range.max(ctx, *a, negated, bits)
                            })
                            .collect()
                    }
                }
            }
            QOp::Pow { exponent } => {
                let bound = source(0).bound;
                x(0).iter()
                    .map(|a| {
                        let mut y = *a;
                        // After j factors |y| <= b^j / 2^(S(j-1)) (+1 for rounding): bits of each product.
                        let mut y_bound = bound as f64;
                        for _ in 1..*exponent {
                            let product_bits = (y_bound * bound as f64).log2().ceil() as u32 + 2;
                            let product = range.gate().mul(ctx, y, *a);
                            y = range.rescale(ctx, product, s, product_bits.max(s));
                            y_bound = y_bound * bound as f64 / one as f64 + 1.0;
                        }
                        y
                    })
                    .collect()
            }
            QOp::Where { cond, then, otherwise } => {
                let bound_of = |o: &QOperand| match o {
                    QOperand::Node(n) => model.nodes[*n].bound,
                    QOperand::Const(c) => c.data.iter().map(|v| v.abs()).max().unwrap_or(0),
                };
                implied = Some(bound_of(then).max(bound_of(otherwise)));
                let mut const_cursor = 0;
                let mut pick = |o: &QOperand| -> Result<Vec<AssignedValue<F>>, Error> {
                    let (shape, values): (Vec<usize>, Vec<AssignedValue<F>>) = match o {
                        QOperand::Node(n) => (model.nodes[*n].shape.clone(), cells[*n].clone()),
                        QOperand::Const(t) => {
                            let v = consts[const_cursor..const_cursor + t.len()].to_vec();
                            const_cursor += t.len();
                            (t.shape.clone(), v.into_iter().map(|c| as_cell(ctx, c)).collect())
                        }
                    };
                    let map = index::broadcast(&shape, &node.shape)
                        .ok_or_else(|| unsupported("operands do not broadcast"))?;
                    Ok(map.into_iter().map(|i| values[i]).collect())
                };
                let (t, f) = (pick(then)?, pick(otherwise)?);
                let c = index::broadcast(&cond.shape, &node.shape)
                    .ok_or_else(|| unsupported("the condition does not broadcast"))?;
                c.iter().enumerate().map(|(i, ci)| if cond.data[*ci] != 0 { t[i] } else { f[i] }).collect()
            }
            QOp::Slice { axis, start, end, step } => {
                implied = Some(source(0).bound);
                index::slice(&source(0).shape, *axis, *start, *end, *step).into_iter().map(|i| x(0)[i]).collect()
            }
            QOp::Gather { axis, indices } => {
                implied = Some(source(0).bound);
                index::gather(&source(0).shape, *axis, indices).into_iter().map(|i| x(0)[i]).collect()
            }
            QOp::Broadcast => {
                implied = Some(source(0).bound);
                index::broadcast(&source(0).shape, &node.shape)
                    .ok_or_else(|| unsupported("the input does not broadcast"))?
                    .into_iter()
                    .map(|i| x(0)[i])
                    .collect()
            }
            QOp::Upsample { scales } => {
                implied = Some(source(0).bound);
                index::upsample(&source(0).shape, scales).into_iter().map(|i| x(0)[i]).collect()
            }
            QOp::Embedding { table } => {
                implied = Some(node.bound);
                let rows = table.shape[0];
                let width = table.len() / rows.max(1);
                let mut out = Vec::with_capacity(node.shape.iter().product());
                for idx in x(0) {
                    // One-hot of the index; their sum is 1 exactly when the index is a row of the table.
                    let indicator = range.gate().idx_to_indicator(ctx, *idx, rows);
                    let hits = range.gate().sum(ctx, indicator.iter().copied());
                    range.gate().assert_is_const(ctx, &hits, &F::ONE);
                    for d in 0..width {
                        let column: Vec<QuantumCell<F>> = (0..rows).map(|r| consts[r * width + d]).collect();
                        out.push(range.gate().inner_product(ctx, indicator.iter().copied(), column));
                    }
                }
                out
            }
            QOp::ReduceMax { axes } | QOp::ReduceMin { axes } => {
                implied = Some(source(0).bound);
                let bits = signed_bits(source(0).bound);
                let (map, len) = index::reduce(&source(0).shape, axes);
                let mut best: Vec<Option<AssignedValue<F>>> = vec![None; len];
                for (cell, o) in x(0).iter().zip(map) {
                    best[o] = Some(match best[o] {
                        None => *cell,
                        Some(b) if matches!(node.op, QOp::ReduceMax { .. }) => range.max(ctx, b, *cell, bits),
                        Some(b) => range.min(ctx, b, *cell, bits),
                    });
                }
                best.into_iter().map(|c| c.expect("every output reduces at least one element")).collect()
            }
            QOp::Sigmoid | QOp::Tanh => {
                implied = Some(one);
                let f = if matches!(node.op, QOp::Sigmoid) { TableFn::Sigmoid } else { TableFn::Tanh };
                let bound = source(0).bound;
                x(0).iter().map(|a| tables.lookup(ctx, range, f, *a, bound)).collect()
            }
            QOp::MaxPool { window } | QOp::AvgPool { window, .. } => {
                implied = Some(source(0).bound);
                let x_shape = &source(0).shape;
                let (n, c, h, w) = (x_shape[0], x_shape[1], x_shape[2], x_shape[3]);
                let (oh, ow) = window.output_size(h, w);
                let bits = signed_bits(source(0).bound);
                let mut out = Vec::with_capacity(n * c * oh * ow);
                for b in 0..n {
                    for ch in 0..c {
                        for i in 0..oh {
                            for j in 0..ow {
                                let inside: Vec<_> = window
                                    .taps(h, w, i, j)
                                    .map(|(y, xx, _, _)| x(0)[((b * c + ch) * h + y) * w + xx])
                                    .collect();
                                let value = match &node.op {
                                    QOp::MaxPool { .. } => {
                                        let mut best = inside[0];
                                        for cell in &inside[1..] {
                                            best = range.max(ctx, best, *cell, bits);
                                        }
                                        best
                                    }
                                    QOp::AvgPool { count_include_pad, normalize, .. } => {
                                        let sum = range.gate().sum(ctx, inside.iter().copied());
                                        if *normalize {
                                            let count = if *count_include_pad {
                                                window.kernel[0] * window.kernel[1]
                                            } else {
                                                inside.len()
                                            };
                                            let sum_bits = bits + usize::BITS - count.leading_zeros();
                                            range.round_div_const(ctx, sum, count as u64, sum_bits)
                                        } else {
                                            implied = None;
                                            sum
                                        }
                                    }
                                    _ => unreachable!("matched above"),
                                };
                                out.push(value);
                            }
                        }
                    }
                }
                out
            }
            QOp::Div { divisor } => {
                // |round(v / d)| <= |v| for d >= 2: the input's bound holds, the node's is checked below.
                implied = Some(source(0).bound);
                let bits = signed_bits(source(0).bound);
                x(0).iter().map(|a| range.round_div_const(ctx, *a, *divisor, bits)).collect()
            }
            QOp::ReduceSum { axes } => {
                let (map, len) = index::reduce(&source(0).shape, axes);
                let mut groups: Vec<Vec<AssignedValue<F>>> = vec![vec![]; len];
                for (cell, o) in x(0).iter().zip(map) {
                    groups[o].push(*cell);
                }
                groups.into_iter().map(|g| range.gate().sum(ctx, g)).collect()
            }
            QOp::Reshape => {
                implied = Some(source(0).bound);
                x(0).clone()
            }
            QOp::Transpose { perm } => {
                implied = Some(source(0).bound);
                index::transpose(&source(0).shape, perm).into_iter().map(|i| x(0)[i]).collect()
            }
            QOp::Concat { axis } => {
                implied = node.inputs.iter().map(|&i| model.nodes[i].bound).max();
                let shapes: Vec<Vec<usize>> = node.inputs.iter().map(|&i| model.nodes[i].shape.clone()).collect();
                let map =
                    index::concat(&shapes, *axis).ok_or_else(|| unsupported("input shapes do not concatenate"))?;
                map.into_iter().map(|(t, i)| x(t)[i]).collect()
            }
            QOp::Softmax { axis } => {
                implied = Some(one);
                let bound = source(0).bound;
                let bits = signed_bits(bound);
                let shape = &source(0).shape;
                let lanes = index::lanes(shape, *axis);
                let lane_len = shape[*axis] as u64;
                let mut out: Vec<Option<AssignedValue<F>>> = vec![None; x(0).len()];
                for lane in lanes {
                    let values: Vec<_> = lane.iter().map(|&i| x(0)[i]).collect();
                    let mut max = values[0];
                    for v in &values[1..] {
                        max = range.max(ctx, max, *v, bits);
                    }
                    let exps: Vec<_> = values
                        .iter()
                        .map(|v| {
                            let d = range.gate().sub(ctx, *v, max);
                            tables.lookup(ctx, range, TableFn::Exp, d, bound.saturating_mul(2))
                        })
                        .collect();
                    let sum = range.gate().sum(ctx, exps.iter().copied());
                    // e <= 2^S, so e · 2^S < 2^(2S+1); the sum is at most lane_len · 2^S.
                    let sum_bits = s + 1 + (64 - lane_len.leading_zeros());
                    for (&i, e) in lane.iter().zip(exps) {
                        let scaled = range.gate().mul(ctx, e, Constant(F::from(one as u64)));
                        out[i] = Some(range.round_div_var(ctx, scaled, sum, 2 * s + 1, sum_bits));
                    }
                }
                out.into_iter().map(|c| c.expect("every element is in one lane")).collect()
            }
            QOp::ArgMax { axis } => {
                let shape = &source(0).shape;
                implied = Some(shape[*axis] as i64 - 1);
                let bits = signed_bits(source(0).bound);
                index::lanes(shape, *axis)
                    .into_iter()
                    .map(|lane| {
                        let values: Vec<_> = lane.iter().map(|&i| x(0)[i]).collect();
                        range.argmax(ctx, &values, bits).0
                    })
                    .collect()
            }
        };
        if implied.is_none_or(|b| b > node.bound) {
            for cell in &out {
                range.check_bound(ctx, *cell, node.bound as u64);
            }
        }
        cells.push(out);
        // A dot-product term takes a little over one cell in its own columns.
        node_advice.push(ctx.advice.len() - advice_before + dots.terms() - dot_terms_before);
    }
    let inputs = model.inputs.iter().flat_map(|&i| cells[i].iter().copied()).collect();
    let outputs = model.outputs.iter().flat_map(|&o| cells[o].iter().copied()).collect();
    Ok(ModelCells { inputs, outputs, commitment, nodes: cells, node_advice })
}

fn as_cell<F: BigPrimeField>(ctx: &mut Context<F>, c: QuantumCell<F>) -> AssignedValue<F> {
    match c {
        Existing(a) => a,
        other => ctx.load_constant(*other.value()),
    }
}

/// The model's constants as circuit constants (fixed weights) or as witnesses bound to the in-circuit
/// commitment (committed weights), in commitment order.
/// `Σ x_i · w_i + bias` in the dot-product columns when `dots` takes it (constant weights), else in
/// halo2-base's gate.
fn dot<F: BigPrimeField>(
    ctx: &mut Context<F>,
    range: &impl RangeInstructions<F, Gate = GateChip<F>>,
    dots: &DotChip<F>,
    xs: &[AssignedValue<F>],
    ws: &[QuantumCell<F>],
    bias: Option<QuantumCell<F>>,
) -> AssignedValue<F> {
    match dots.dot(ctx, xs, ws, bias) {
        Some(out) => out,
        None => range.dot(ctx, xs, ws, bias),
    }
}

fn load_constants<F: BigPrimeField>(
    ctx: &mut Context<F>,
    range: &impl RangeInstructions<F, Gate = GateChip<F>>,
    model: &QuantizedModel,
    weights: WeightVisibility,
) -> (Vec<QuantumCell<F>>, Option<AssignedValue<F>>) {
    let constants = model_constants(model);
    match weights {
        WeightVisibility::Fixed => (constants.iter().map(|c| Constant(fe_from_i64(*c))).collect(), None),
        WeightVisibility::Committed => {
            let width = constants_width(&constants);
            let cells = ctx.assign_witnesses(constants.iter().map(|c| fe_from_i64::<F>(*c)));
            // Each slot must hold its value exactly, or two weight vectors could pack alike.
            let half = Constant(F::from_u128(1u128 << (width - 1)));
            for cell in &cells {
                let slot = range.gate().add(ctx, *cell, half);
                range.range_check(ctx, slot, width as usize);
            }
            let header = commitment_header(model, width);
            let mut elements: Vec<_> = header.iter().map(|v| ctx.load_constant(F::from(*v))).collect();
            elements.extend(pack_cells(ctx, range.gate(), &cells, width));
            let commitment = hash_cells(ctx, range.gate(), &elements);
            (cells.into_iter().map(Existing).collect(), Some(commitment))
        }
    }
}
