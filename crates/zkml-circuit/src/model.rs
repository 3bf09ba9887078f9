//! Lays out a quantized model in a halo2-base context: every node's output is computed by the chips from
//! its inputs' cells and range-checked to the node's calibrated bound, so the circuit's outputs are the
//! integer reference executor's outputs (`zkml_model::exec`) or the constraints fail.
//!
//! Covered so far: Input, MatMul (with bias), Conv, MaxPool, AvgPool, Relu, Reshape, Transpose. Other ops
//! are refused with an error naming the node until their chips land.

use halo2_base::{
    AssignedValue, Context,
    gates::{GateInstructions, RangeChip, RangeInstructions},
    utils::BigPrimeField,
};
use zkml_model::{
    quantize::{QOp, QuantizedModel, signed_bits},
    tensor::Tensor,
};

use crate::fixed_point::{FixedPointInstructions, fe_from_i64};

/// Errors of circuit layout.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The node's op has no circuit yet.
    #[error("node '{node}' ({op}) cannot be proved yet: its circuit is not implemented")]
    Unsupported {
        /// The node.
        node: String,
        /// Its op.
        op: String,
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
}

/// Lays out `model` on the quantized `input` (integers at the activation scale, flattened in input order).
pub fn assign_model<F: BigPrimeField>(
    ctx: &mut Context<F>,
    range: &RangeChip<F>,
    model: &QuantizedModel,
    input: &[i64],
) -> Result<ModelCells<F>, Error> {
    let expected = model.input_len();
    if input.len() != expected {
        return Err(Error::InputLength { expected, got: input.len() });
    }
    let p = model.scales.param as u32;
    let mut offsets = vec![0usize];
    for shape in model.input_shapes() {
        offsets.push(offsets.last().copied().unwrap_or(0) + shape.iter().product::<usize>());
    }

    let mut cells: Vec<Vec<AssignedValue<F>>> = Vec::with_capacity(model.nodes.len());
    for node in &model.nodes {
        let unsupported = || Error::Unsupported { node: node.name.clone(), op: node.op_name.clone() };
        let out: Vec<AssignedValue<F>> = match &node.op {
            QOp::Input { index } => input[offsets[*index]..offsets[*index + 1]]
                .iter()
                .map(|v| {
                    let cell = ctx.load_witness(fe_from_i64(*v));
                    range.check_bound(ctx, cell, node.bound as u64);
                    cell
                })
                .collect(),
            QOp::MatMul { weight, bias } => {
                let x = &cells[node.inputs[0]];
                let (k, n) = (weight.shape[0], weight.shape[1]);
                // |acc| <= (bound + 1/2) · 2^P for every output within its bound; larger fails div_mod.
                let acc_bits = signed_bits(node.bound) + p;
                let mut out = Vec::with_capacity(x.len() / k * n);
                for row in x.chunks(k) {
                    for j in 0..n {
                        let column: Vec<i64> = (0..k).map(|i| weight.data[i * n + j]).collect();
                        let b = bias.as_ref().map_or(0, |b| b[j]);
                        let acc = range.dot_const(ctx, row, &column, b);
                        let q = range.rescale(ctx, acc, p, acc_bits);
                        range.check_bound(ctx, q, node.bound as u64);
                        out.push(q);
                    }
                }
                out
            }
            QOp::Conv { kernel, bias, window } => {
                let (x, x_shape) = (&cells[node.inputs[0]], &model.nodes[node.inputs[0]].shape);
                let (c, h, w) = (x_shape[1], x_shape[2], x_shape[3]);
                let (o, kh, kw) = (kernel.shape[0], kernel.shape[2], kernel.shape[3]);
                let (oh, ow) = window.output_size(h, w);
                let acc_bits = signed_bits(node.bound) + p;
                let mut out = Vec::with_capacity(x_shape[0] * o * oh * ow);
                for b in 0..x_shape[0] {
                    for oc in 0..o {
                        for i in 0..oh {
                            for j in 0..ow {
                                let (mut xs, mut ws) = (vec![], vec![]);
                                for ic in 0..c {
                                    for (y, xx, di, dj) in window.taps(h, w, i, j) {
                                        xs.push(x[((b * c + ic) * h + y) * w + xx]);
                                        ws.push(kernel.data[((oc * c + ic) * kh + di) * kw + dj]);
                                    }
                                }
                                let acc = range.dot_const(ctx, &xs, &ws, bias.as_ref().map_or(0, |bv| bv[oc]));
                                let q = range.rescale(ctx, acc, p, acc_bits);
                                range.check_bound(ctx, q, node.bound as u64);
                                out.push(q);
                            }
                        }
                    }
                }
                out
            }
            QOp::MaxPool { window } | QOp::AvgPool { window, .. } => {
                let input = &model.nodes[node.inputs[0]];
                let (x, x_shape) = (&cells[node.inputs[0]], &input.shape);
                let (n, c, h, w) = (x_shape[0], x_shape[1], x_shape[2], x_shape[3]);
                let (oh, ow) = window.output_size(h, w);
                let bits = signed_bits(input.bound);
                let mut out = Vec::with_capacity(n * c * oh * ow);
                for b in 0..n {
                    for ch in 0..c {
                        for i in 0..oh {
                            for j in 0..ow {
                                let inside: Vec<_> = window
                                    .taps(h, w, i, j)
                                    .map(|(y, xx, _, _)| x[((b * c + ch) * h + y) * w + xx])
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
            QOp::Clamp { min: Some(0), max: None } => {
                let input = &model.nodes[node.inputs[0]];
                let bits = signed_bits(input.bound);
                cells[node.inputs[0]].iter().map(|a| range.relu(ctx, *a, bits)).collect()
            }
            QOp::Reshape => cells[node.inputs[0]].clone(),
            QOp::Transpose { perm } => {
                let source = &model.nodes[node.inputs[0]];
                let indices = Tensor::new(source.shape.clone(), (0..cells[node.inputs[0]].len()).collect());
                let moved = indices.to_array().permuted_axes(perm.clone());
                moved.iter().map(|&i| cells[node.inputs[0]][i]).collect()
            }
            _ => return Err(unsupported()),
        };
        cells.push(out);
    }
    let inputs = model.inputs.iter().flat_map(|&i| cells[i].iter().copied()).collect();
    let outputs = model.outputs.iter().flat_map(|&o| cells[o].iter().copied()).collect();
    Ok(ModelCells { inputs, outputs })
}
