//! Fixed-point quantization with power-of-two scales, and calibration.
//!
//! Every activation is an integer `q` standing for the real `q / 2^S` (the activation scale); weights and
//! multiplicative constants use `2^P` (the parameter scale), biases `2^(S+P)` so they add straight into a
//! matrix product's accumulator. A constant tensor whose largest magnitude is below 1/2 gets its own
//! larger exponent `P_t` ([`tensor_scale`]), so that its largest weight keeps the `P` significant bits a
//! weight near 1 has at `2^P` (at one model-wide `2^-12`, a tensor of weights near 0.003 would keep 3 or 4
//! bits); its product is rescaled by `P_t` instead of `P`, and its bias is at `2^(S+P_t)`. Calibration runs tract's float model over sample inputs, records the
//! largest magnitude of every node's output, and fixes a bound per node (with a safety margin) that the
//! circuit range-checks: a value outside its bound is an error, never a silently wrapped proof.

use serde::{Deserialize, Serialize};

use crate::{
    error::{Error, Result},
    exec::table_half_width,
    float::FloatRunner,
    graph::{BinaryKind, Graph, LookupFn, NodeId, Op, Operand, UnaryKind, Window},
    import::ImportedModel,
    tensor::Tensor,
};

/// Version of the on-disk quantized model format; bumped on any change to its meaning. The newest this
/// build writes and reads: 2 adds constants with their own parameter scale (`param_scale`).
pub const FORMAT_VERSION: u32 = 2;
/// The version of a model whose constants all use the model's parameter scale: such models are written as
/// version 1, exactly as before version 2 existed (same files, same commitments). A model with any constant
/// at its own scale is version 2, which a reader of version 1 refuses instead of ignoring the scales.
pub const FORMAT_VERSION_MODEL_PARAM_SCALE: u32 = 1;

/// Headroom over the calibrated maximum: bounds are this many times the largest magnitude seen.
pub const DEFAULT_MARGIN: f64 = 2.0;

/// Largest activation scale calibration tries on its own.
pub const MAX_AUTO_SCALE: u8 = 12;

/// Largest bit width (sign included) a value may need. Values are range-checked in the circuit in lookup-
/// sized chunks; this keeps every check to a few lookups and every product far below the 254-bit field.
pub const MAX_VALUE_BITS: u32 = 40;

/// The most bits [`tensor_scale`] adds to the parameter scale for a tensor of small weights.
pub const MAX_EXTRA_PARAM_BITS: u8 = 12;

/// Largest sum of the activation scale and a parameter scale: products stay far inside 128 bits.
pub const MAX_SCALE_SUM: u8 = 48;

/// The exponent of a constant tensor whose largest magnitude is `max_abs`, at model scales `2^s` and `2^p`:
/// `p`, raised (by at most [`MAX_EXTRA_PARAM_BITS`], and to at most `MAX_SCALE_SUM - s`) until
/// `max_abs · 2^P_t >= 2^(p-1)`, the magnitude a weight of 1/2 has at `2^p`. A tensor reaching 1/2 keeps `p`.
pub fn tensor_scale(max_abs: f64, s: u8, p: u8) -> u8 {
    if !(max_abs.is_finite() && max_abs > 0.0) || max_abs >= 0.5 {
        return p;
    }
    let wanted = (p as f64 - 1.0 - max_abs.log2()).ceil();
    let cap = (p + MAX_EXTRA_PARAM_BITS).min(MAX_SCALE_SUM.saturating_sub(s)).max(p);
    (wanted.max(p as f64) as u8).min(cap)
}

/// The fixed-point exponents of a quantized model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scales {
    /// Activations (inputs, every intermediate value, outputs): real = q / 2^activation.
    pub activation: u8,
    /// Weights and multiplicative constants: real = q / 2^param.
    pub param: u8,
}

/// An operand of an integer binary op.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum QOperand {
    /// A node's output (activation scale).
    Node(NodeId),
    /// A constant: activation scale for Add/Sub, parameter scale for Mul.
    Const(Tensor<i64>),
}

/// An integer op; see the module docs for scales and [`crate::exec`] for the exact arithmetic.
///
/// `param_scale` is the exponent of the op's multiplicative constants when it is not the model's `P`
/// (see [`tensor_scale`]); absent from the file when it is, so models without small tensors keep their
/// bytes and commitments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum QOp {
    Input {
        index: usize,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        integer: bool,
    },
    MatMul {
        weight: Tensor<i64>,
        bias: Option<Vec<i64>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        param_scale: Option<u8>,
    },
    Conv {
        kernel: Tensor<i64>,
        bias: Option<Vec<i64>>,
        window: Window,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        param_scale: Option<u8>,
        #[serde(default = "one", skip_serializing_if = "is_one")]
        groups: usize,
    },
    ConvTranspose {
        kernel: Tensor<i64>,
        bias: Option<Vec<i64>>,
        window: Window,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        param_scale: Option<u8>,
    },
    MatMulNodes,
    Lookup {
        func: LookupFn,
    },
    Unary {
        kind: UnaryKind,
    },
    Pow {
        exponent: u32,
    },
    /// `cond` holds 1 where `then` is taken; constants are at the activation scale.
    Where {
        cond: Tensor<u8>,
        then: QOperand,
        otherwise: QOperand,
    },
    Slice {
        axis: usize,
        start: usize,
        end: usize,
        step: usize,
    },
    Gather {
        axis: usize,
        indices: Tensor<usize>,
    },
    /// The table at the activation scale.
    Embedding {
        table: Tensor<i64>,
    },
    Broadcast,
    Upsample {
        scales: Vec<usize>,
    },
    ReduceMax {
        axes: Vec<usize>,
    },
    ReduceMin {
        axes: Vec<usize>,
    },
    Binary {
        kind: BinaryKind,
        lhs: QOperand,
        rhs: QOperand,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        param_scale: Option<u8>,
    },
    Clamp {
        min: Option<i64>,
        max: Option<i64>,
    },
    LeakyRelu {
        alpha: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        param_scale: Option<u8>,
    },
    Sigmoid,
    Tanh,
    MaxPool {
        window: Window,
    },
    AvgPool {
        window: Window,
        count_include_pad: bool,
        normalize: bool,
    },
    Div {
        divisor: u64,
    },
    ReduceSum {
        axes: Vec<usize>,
    },
    Reshape,
    Transpose {
        perm: Vec<usize>,
    },
    Concat {
        axis: usize,
    },
    Softmax {
        axis: usize,
    },
    ArgMax {
        axis: usize,
    },
}

impl QOp {
    /// The exponent of the op's multiplicative constants (weights, a Mul's constant, LeakyRelu's alpha):
    /// its own, or the model's `model_param`.
    pub fn param_scale(&self, model_param: u8) -> u8 {
        match self {
            QOp::MatMul { param_scale, .. }
            | QOp::Conv { param_scale, .. }
            | QOp::ConvTranspose { param_scale, .. }
            | QOp::Binary { param_scale, .. }
            | QOp::LeakyRelu { param_scale, .. } => param_scale.unwrap_or(model_param),
            _ => model_param,
        }
    }

    /// True when the op's constants have a scale of their own (format version 2).
    pub fn has_own_param_scale(&self) -> bool {
        matches!(
            self,
            QOp::MatMul { param_scale: Some(_), .. }
                | QOp::Conv { param_scale: Some(_), .. }
                | QOp::ConvTranspose { param_scale: Some(_), .. }
                | QOp::Binary { param_scale: Some(_), .. }
                | QOp::LeakyRelu { param_scale: Some(_), .. }
        )
    }
}

fn one() -> usize {
    1
}

fn is_one(v: &usize) -> bool {
    *v == 1
}

/// A node of the quantized graph with the range its output must stay in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QNode {
    /// Name from the model.
    pub name: String,
    /// Op name (as in [`Op::name`]).
    pub op_name: String,
    /// The integer op.
    pub op: QOp,
    /// Input nodes.
    pub inputs: Vec<NodeId>,
    /// Output shape.
    pub shape: Vec<usize>,
    /// Fixed-point exponent of the output: the activation scale (at least 1), or 0 for ArgMax indices
    /// and the data movement after them.
    pub scale: u8,
    /// Every output value must satisfy `|q| <= bound`.
    pub bound: i64,
    /// Largest |real value| seen during calibration.
    pub calibrated_max: f64,
}

impl QNode {
    /// True when the output holds class indices (from ArgMax), not fixed-point values.
    pub fn is_index(&self) -> bool {
        self.scale == 0
    }

    /// Bits needed for a signed value within the bound.
    pub fn bits(&self) -> u32 {
        signed_bits(self.bound)
    }
}

/// A quantized model: the integer graph the circuit proves, bit for bit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuantizedModel {
    /// [`FORMAT_VERSION`] when written.
    pub format_version: u32,
    /// The scales.
    pub scales: Scales,
    /// Margin used for the bounds.
    pub margin: f64,
    /// Nodes in evaluation order.
    pub nodes: Vec<QNode>,
    /// Input nodes in model order.
    pub inputs: Vec<NodeId>,
    /// Output nodes in model order.
    pub outputs: Vec<NodeId>,
}

impl QuantizedModel {
    /// Shapes of the inputs.
    pub fn input_shapes(&self) -> Vec<Vec<usize>> {
        self.inputs.iter().map(|&i| self.nodes[i].shape.clone()).collect()
    }

    /// Length of one flattened sample.
    pub fn input_len(&self) -> usize {
        self.input_shapes().iter().map(|s| s.iter().product::<usize>()).sum()
    }
}

/// Options of calibration.
#[derive(Clone, Copy, Debug, Default)]
pub struct CalibrationOptions {
    /// Activation scale; chosen automatically when `None`.
    pub scale: Option<u8>,
    /// Parameter scale; the activation scale when `None`.
    pub param_scale: Option<u8>,
    /// Margin; [`DEFAULT_MARGIN`] when `None`.
    pub margin: Option<f64>,
}

/// Calibrates on `samples` (each one flattened model input) and quantizes.
pub fn calibrate_and_quantize(
    model: &ImportedModel,
    samples: &[Vec<f32>],
    options: CalibrationOptions,
) -> Result<QuantizedModel> {
    if samples.is_empty() {
        return Err(Error::Calibration("the calibration data has no samples".into()));
    }
    let margin = options.margin.unwrap_or(DEFAULT_MARGIN);
    if !(margin >= 1.0 && margin.is_finite()) {
        return Err(Error::Calibration(format!("the margin must be at least 1, got {margin}")));
    }
    for (name, value) in [("scale", options.scale), ("param scale", options.param_scale)] {
        if value == Some(0) {
            return Err(Error::Calibration(format!(
                "the {name} must be at least 1 (values are integers / 2^scale; 0 would round every weight and activation to an integer)"
            )));
        }
    }
    let max_abs = observe_ranges(model, samples)?;

    let fits = |s: u8, p: u8| -> std::result::Result<(), String> {
        for (node, m) in model.graph.nodes.iter().zip(&max_abs) {
            let bound = node_bound(&node.op, *m, s, margin);
            let bits = signed_bits(bound);
            if bits > MAX_VALUE_BITS {
                return Err(format!(
                    "node '{}' ({}) reaches |{m:.4}| and needs {bits} bits at scale 2^{s} (limit {MAX_VALUE_BITS})",
                    node.name,
                    node.op.name()
                ));
            }
        }
        if s as u32 + p as u32 > MAX_SCALE_SUM as u32 {
            return Err(format!("scales 2^{s} and 2^{p} together exceed {MAX_SCALE_SUM} bits"));
        }
        Ok(())
    };
    let scale = match options.scale {
        Some(s) => {
            fits(s, options.param_scale.unwrap_or(s)).map_err(Error::Calibration)?;
            s
        }
        None => {
            let mut last_err = String::new();
            let mut chosen = None;
            for s in (1..=MAX_AUTO_SCALE).rev() {
                match fits(s, options.param_scale.unwrap_or(s)) {
                    Ok(()) => {
                        chosen = Some(s);
                        break;
                    }
                    Err(e) => last_err = e,
                }
            }
            chosen.ok_or_else(|| Error::Calibration(format!("no scale fits: {last_err}")))?
        }
    };
    let scales = Scales { activation: scale, param: options.param_scale.unwrap_or(scale) };
    let quantized = quantize_graph(&model.graph, &max_abs, scales, margin);
    // Indices have no fixed-point meaning: only data movement may follow ArgMax, up to the output.
    for node in &quantized.nodes {
        let movement = matches!(
            node.op,
            QOp::Reshape
                | QOp::Transpose { .. }
                | QOp::Concat { .. }
                | QOp::Slice { .. }
                | QOp::Gather { .. }
                | QOp::Broadcast
                | QOp::Upsample { .. }
                | QOp::Embedding { .. }
        );
        if !movement && node.inputs.iter().any(|&i| quantized.nodes[i].is_index()) {
            return Err(Error::UnsupportedOp {
                node: node.name.clone(),
                op: node.op_name.clone(),
                reason: "it computes with integer indices (of an ArgMax, or an integer input); only data movement and \
                         table lookups (Gather from a constant table) may use them"
                    .into(),
            });
        }
    }
    Ok(quantized)
}

/// The largest |value| of every node over the samples, from tract's float execution.
fn observe_ranges(model: &ImportedModel, samples: &[Vec<f32>]) -> Result<Vec<f64>> {
    // Several nodes can observe one outlet (a relayout has its source's magnitudes): run each once.
    let mut unique = model.outlets.clone();
    unique.sort();
    unique.dedup();
    let runner = FloatRunner::with_outlets(model, &unique)?;
    // A mask's infinities are expected where an infinite constant enters; they are not magnitudes.
    let masked: Vec<bool> = unique
        .iter()
        .map(|o| {
            model.graph.nodes.iter().zip(&model.outlets).any(|(node, outlet)| {
                outlet == o
                    && matches!(&node.op, Op::Where { then, otherwise, .. }
                        if [then, otherwise].iter().any(|x| matches!(x, Operand::Const(c) if c.data.iter().any(|v| v.is_infinite()))))
            })
        })
        .collect();
    let mut outlet_max = vec![0f64; unique.len()];
    for (i, sample) in samples.iter().enumerate() {
        let values = runner.run(sample).map_err(|e| Error::Calibration(format!("sample {i}: {e}")))?;
        for ((slot, value), masked) in outlet_max.iter_mut().zip(&values).zip(&masked) {
            for v in value {
                if v.is_infinite() && *masked {
                    continue;
                }
                if !v.is_finite() {
                    return Err(Error::Calibration(format!("sample {i} produces a non-finite value")));
                }
                *slot = slot.max(v.abs() as f64);
            }
        }
    }
    Ok(model
        .outlets
        .iter()
        .enumerate()
        .map(|(node, o)| {
            let m = outlet_max[unique.binary_search(o).expect("deduplicated from these")];
            match model.derived.get(&node) {
                Some(&(power, factor)) => factor * m.powi(power),
                None => m,
            }
        })
        .collect())
}

fn node_bound(op: &Op, max_abs: f64, scale: u8, margin: f64) -> i64 {
    let one = 1i64 << scale;
    match op {
        // Outputs with a known range need no calibration headroom.
        Op::Sigmoid | Op::Tanh | Op::Softmax { .. } | Op::Lookup { func: LookupFn::Erf } => one,
        // Indices: bounded by the reduced axis length, set in `quantize_graph`.
        Op::ArgMax { .. } => 1,
        _ => {
            let scaled = (max_abs * (one as f64) * margin).ceil();
            (scaled as i64).max(1)
        }
    }
}

/// Number of bits of a signed value in `[-bound, bound]`.
pub fn signed_bits(bound: i64) -> u32 {
    64 - (bound.max(0) as u64).leading_zeros() + 1
}

fn quantize_graph(graph: &Graph, max_abs: &[f64], scales: Scales, margin: f64) -> QuantizedModel {
    let s = scales.activation;
    let p = scales.param;
    let q_act = |v: f32| quantize_value(v as f64, s);
    // A constant tensor's own exponent; `None` in the file when it is the model's.
    let own_scale = |values: &[f32]| {
        let largest = values.iter().fold(0f64, |m, v| m.max((*v as f64).abs()));
        let t = tensor_scale(largest, s, p);
        (t, (t != p).then_some(t))
    };

    let mut nodes: Vec<QNode> = Vec::with_capacity(graph.nodes.len());
    for (node, &m) in graph.nodes.iter().zip(max_abs) {
        {
            let op = match &node.op {
                Op::Input { index, integer } => QOp::Input { index: *index, integer: *integer },
                Op::MatMul { weight, bias } => {
                    let (t, param_scale) = own_scale(&weight.data);
                    QOp::MatMul {
                        weight: weight.map(|w| quantize_value(*w as f64, t)),
                        bias: bias.as_ref().map(|b| b.iter().map(|v| quantize_value(*v as f64, s + t)).collect()),
                        param_scale,
                    }
                }
                Op::Conv { kernel, bias, window, groups } => {
                    let (t, param_scale) = own_scale(&kernel.data);
                    QOp::Conv {
                        kernel: kernel.map(|w| quantize_value(*w as f64, t)),
                        bias: bias.as_ref().map(|b| b.iter().map(|v| quantize_value(*v as f64, s + t)).collect()),
                        window: window.clone(),
                        param_scale,
                        groups: *groups,
                    }
                }
                Op::ConvTranspose { kernel, bias, window } => {
                    let (t, param_scale) = own_scale(&kernel.data);
                    QOp::ConvTranspose {
                        kernel: kernel.map(|w| quantize_value(*w as f64, t)),
                        bias: bias.as_ref().map(|b| b.iter().map(|v| quantize_value(*v as f64, s + t)).collect()),
                        window: window.clone(),
                        param_scale,
                    }
                }
                Op::MatMulNodes => QOp::MatMulNodes,
                Op::Lookup { func } => QOp::Lookup { func: *func },
                Op::Unary { kind } => QOp::Unary { kind: *kind },
                Op::Pow { exponent } => QOp::Pow { exponent: *exponent },
                Op::Where { cond, then, otherwise } => {
                    // An infinite constant becomes a value below (or above) every other input of the
                    // Softmax it masks by more than the exp table's width, so its exponential is exactly 0.
                    let reach = node.inputs.iter().map(|&i| nodes[i].bound).max().unwrap_or(0);
                    let sentinel = table_half_width(s) + reach;
                    let operand = |o: &Operand| match o {
                        Operand::Node(n) => QOperand::Node(*n),
                        Operand::Const(c) => QOperand::Const(
                            c.map(|v| if v.is_infinite() { sentinel * v.signum() as i64 } else { q_act(*v) }),
                        ),
                    };
                    QOp::Where {
                        cond: cond.map(|v| u8::from(*v != 0.0)),
                        then: operand(then),
                        otherwise: operand(otherwise),
                    }
                }
                Op::Slice { axis, start, end, step } => {
                    QOp::Slice { axis: *axis, start: *start, end: *end, step: *step }
                }
                Op::Gather { axis, indices } => QOp::Gather { axis: *axis, indices: indices.clone() },
                Op::Embedding { table } => QOp::Embedding { table: table.map(|v| q_act(*v)) },
                Op::Broadcast => QOp::Broadcast,
                Op::Upsample { scales } => QOp::Upsample { scales: scales.clone() },
                Op::ReduceMax { axes } => QOp::ReduceMax { axes: axes.clone() },
                Op::ReduceMin { axes } => QOp::ReduceMin { axes: axes.clone() },
                Op::Binary { kind, lhs, rhs } => {
                    // Only a product's constant is a multiplier; added constants are activations.
                    let (t, param_scale) = match (kind, lhs, rhs) {
                        (BinaryKind::Mul, Operand::Const(c), _) | (BinaryKind::Mul, _, Operand::Const(c)) => {
                            own_scale(&c.data)
                        }
                        _ => (p, None),
                    };
                    let operand = |o: &Operand| match o {
                        Operand::Node(n) => QOperand::Node(*n),
                        Operand::Const(c) => QOperand::Const(match kind {
                            BinaryKind::Mul => c.map(|v| quantize_value(*v as f64, t)),
                            // Sums, quotients and comparisons take constants as activations.
                            BinaryKind::Add | BinaryKind::Sub | BinaryKind::Div | BinaryKind::Max | BinaryKind::Min => {
                                c.map(|v| q_act(*v))
                            }
                        }),
                    };
                    QOp::Binary { kind: *kind, lhs: operand(lhs), rhs: operand(rhs), param_scale }
                }
                Op::Clamp { min, max } => QOp::Clamp { min: min.map(q_act), max: max.map(q_act) },
                Op::LeakyRelu { alpha } => {
                    let (t, param_scale) = own_scale(&[*alpha]);
                    QOp::LeakyRelu { alpha: quantize_value(*alpha as f64, t), param_scale }
                }
                Op::Sigmoid => QOp::Sigmoid,
                Op::Tanh => QOp::Tanh,
                Op::MaxPool { window } => QOp::MaxPool { window: window.clone() },
                Op::AvgPool { window, count_include_pad, normalize } => QOp::AvgPool {
                    window: window.clone(),
                    count_include_pad: *count_include_pad,
                    normalize: *normalize,
                },
                Op::Div { divisor } => QOp::Div { divisor: *divisor },
                Op::ReduceSum { axes } => QOp::ReduceSum { axes: axes.clone() },
                Op::Reshape => QOp::Reshape,
                Op::Transpose { perm } => QOp::Transpose { perm: perm.clone() },
                Op::Concat { axis } => QOp::Concat { axis: *axis },
                Op::Softmax { axis } => QOp::Softmax { axis: *axis },
                Op::ArgMax { axis } => QOp::ArgMax { axis: *axis },
            };
            let (scale, bound) = match &node.op {
                Op::ArgMax { axis } => {
                    let axis_len = graph.nodes[node.inputs[0]].shape[*axis] as i64;
                    (0, (axis_len - 1).max(1))
                }
                // Data movement keeps its input's values, so their scale and bound.
                Op::Reshape
                | Op::Transpose { .. }
                | Op::Slice { .. }
                | Op::Gather { .. }
                | Op::Broadcast
                | Op::Upsample { .. }
                | Op::ReduceMax { .. }
                | Op::ReduceMin { .. } => (nodes[node.inputs[0]].scale, nodes[node.inputs[0]].bound),
                Op::Input { integer: true, .. } => (0, node_bound(&node.op, m, 0, margin)),
                // A choice between operands: the larger of their bounds, constants included.
                Op::Where { .. } => {
                    let QOp::Where { then, otherwise, .. } = &op else { unreachable!("mapped above") };
                    let bound = [then, otherwise]
                        .iter()
                        .map(|o| match o {
                            QOperand::Node(n) => nodes[*n].bound,
                            QOperand::Const(c) => c.data.iter().map(|v| v.abs()).max().unwrap_or(0),
                        })
                        .max()
                        .unwrap_or(1);
                    (s, bound.max(1))
                }
                Op::Embedding { .. } => {
                    let QOp::Embedding { table } = &op else { unreachable!("mapped above") };
                    (s, table.data.iter().map(|v| v.abs()).max().unwrap_or(0).max(1))
                }
                Op::Concat { .. } => {
                    (nodes[node.inputs[0]].scale, node.inputs.iter().map(|&i| nodes[i].bound).max().unwrap_or(1))
                }
                _ => (s, node_bound(&node.op, m, s, margin)),
            };
            nodes.push(QNode {
                name: node.name.clone(),
                op_name: node.op.name().to_string(),
                op,
                inputs: node.inputs.clone(),
                shape: node.shape.clone(),
                scale,
                bound,
                calibrated_max: m,
            });
        }
    }
    let format_version = if nodes.iter().any(|node: &QNode| node.op.has_own_param_scale()) {
        FORMAT_VERSION
    } else {
        FORMAT_VERSION_MODEL_PARAM_SCALE
    };
    QuantizedModel {
        format_version,
        scales,
        margin,
        nodes,
        inputs: graph.inputs.clone(),
        outputs: graph.outputs.clone(),
    }
}

/// `round(v · 2^scale)`, halves away from zero.
pub fn quantize_value(v: f64, scale: u8) -> i64 {
    (v * (1u64 << scale) as f64).round() as i64
}
