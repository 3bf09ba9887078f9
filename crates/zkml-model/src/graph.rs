//! The op graph zkml-eth proves: what is left of an ONNX model after tract's simplification, mapped onto
//! a small set of ops with constant weights folded in. Float weights here; `quantize` makes them integers.

use serde::{Deserialize, Serialize};

use crate::tensor::Tensor;

/// Index of a node in [`Graph::nodes`].
pub type NodeId = usize;

/// One operand of an elementwise binary op: a computed node or a constant (broadcast to the other side).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Operand {
    /// The output of a node.
    Node(NodeId),
    /// A constant tensor, broadcastable to the node's shape.
    Const(Tensor<f32>),
}

/// Elementwise binary operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BinaryKind {
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b` rounded to nearest, for a computed `b > 0` (LayerNorm's division by the deviation, `1 / x`).
    Div,
    /// `max(a, b)` of two computed tensors.
    Max,
    /// `min(a, b)` of two computed tensors.
    Min,
}

/// An elementwise function proven by lookup into a table of its values (see `zkml_model::exec`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum LookupFn {
    /// The error function.
    Erf,
    /// `e^x` over the whole input range (Softmax's exponential is its own table).
    Exp,
    /// The natural logarithm, of positive inputs.
    Ln,
    /// GELU, exact: `x · Φ(x)`.
    Gelu,
    /// GELU, tanh form: `x/2 · (1 + tanh(√(2/π) · (x + 0.044715 x³)))`.
    GeluTanh,
    /// SiLU (swish): `x · sigmoid(x)`.
    Silu,
}

impl LookupFn {
    /// The function's name in tables and errors.
    pub fn name(self) -> &'static str {
        match self {
            Self::Erf => "Erf",
            Self::Exp => "Exp",
            Self::Ln => "Log",
            Self::Gelu => "Gelu",
            Self::GeluTanh => "GeluTanh",
            Self::Silu => "Silu",
        }
    }
}

/// Elementwise operations proven with arithmetic and range checks, rounding to nearest like the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnaryKind {
    /// `sqrt(x)` of `x >= 0`.
    Sqrt,
    /// `1 / sqrt(x)` of `x > 0` (LayerNorm's inverse deviation).
    Rsqrt,
    /// `|x|`.
    Abs,
    /// `-x`.
    Neg,
}

/// Parameters of a 2D sliding window (NCHW): kernel, strides, explicit padding and dilation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Vertical and horizontal stride.
    pub strides: [usize; 2],
    /// Padding: top, left, bottom, right.
    pub pads: [usize; 4],
    /// Distance between kernel taps, vertical and horizontal; absent from files (and 1) when undilated.
    #[serde(default = "undilated", skip_serializing_if = "is_undilated")]
    pub dilations: [usize; 2],
}

fn undilated() -> [usize; 2] {
    [1, 1]
}

fn is_undilated(d: &[usize; 2]) -> bool {
    *d == [1, 1]
}

impl Window {
    /// Output height and width over an `h × w` input.
    pub fn output_size(&self, h: usize, w: usize) -> (usize, usize) {
        let out = |len: usize, axis: usize| {
            let span = self.dilations[axis] * (self.kernel[axis] - 1) + 1;
            (len + self.pads[axis] + self.pads[axis + 2] - span) / self.strides[axis] + 1
        };
        (out(h, 0), out(w, 1))
    }

    /// The kernel taps `(y, x, di, dj)` of output position `(i, j)` that land inside an `h × w` input at
    /// `(y, x)`; taps on padding are skipped (they add zero to sums and never win a max). The executor and
    /// the circuit both walk windows with this, so they agree by construction.
    pub fn taps(
        &self,
        h: usize,
        w: usize,
        i: usize,
        j: usize,
    ) -> impl Iterator<Item = (usize, usize, usize, usize)> + '_ {
        (0..self.kernel[0]).flat_map(move |di| (0..self.kernel[1]).map(move |dj| (di, dj))).filter_map(
            move |(di, dj)| {
                let y = (i * self.strides[0] + di * self.dilations[0]).checked_sub(self.pads[0])?;
                let x = (j * self.strides[1] + dj * self.dilations[1]).checked_sub(self.pads[1])?;
                (y < h && x < w).then_some((y, x, di, dj))
            },
        )
    }
}

/// An operation of the graph. Shapes are those of [`Node::shape`] and of the input nodes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Op {
    /// Model input number `index`.
    Input {
        /// Position among the model inputs.
        index: usize,
        /// Integer ids (token indices for an [`Op::Embedding`]), taken as they are, not scaled.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        integer: bool,
    },
    /// `y[.., n] = Σ_k x[.., k] · weight[k, n] + bias[n]` (Gemm, MatMul, and a following bias Add).
    MatMul {
        /// `[k, n]` weights.
        weight: Tensor<f32>,
        /// `[n]` bias.
        bias: Option<Vec<f32>>,
    },
    /// 2D convolution, NCHW input, OIHW kernel (BatchNorm already folded in). With `groups = g`, output
    /// channel `o` reads input channels `[(o / (O/g))·C/g, ...+C/g)`: depthwise when `g` is the channel count.
    Conv {
        /// `[out_channels, in_channels / groups, kh, kw]` kernel.
        kernel: Tensor<f32>,
        /// `[out_channels]` bias.
        bias: Option<Vec<f32>>,
        /// Kernel size (equal to the kernel's spatial dims), strides, padding and dilation.
        window: Window,
        /// Channel groups; absent from files (and 1) for a dense convolution.
        #[serde(default = "one", skip_serializing_if = "is_one")]
        groups: usize,
    },
    /// Transposed 2D convolution (ConvTranspose), NCHW input, `[in_channels, out_channels, kh, kw]` kernel,
    /// one group: input position `(i, j)` adds `x · k` to output `(i·stride + di·dilation - pad_top, ...)`.
    /// Every output is a sum of the products that land on it, proven as one dot product.
    ConvTranspose {
        /// `[in_channels, out_channels, kh, kw]` kernel.
        kernel: Tensor<f32>,
        /// `[out_channels]` bias.
        bias: Option<Vec<f32>>,
        /// Kernel, strides, padding (top, left, bottom, right, removed from the full output) and dilation.
        window: Window,
    },
    /// A product of two computed tensors (attention scores, attention times values): `a` is `[B, M, K]`,
    /// `b` is `[B, K, N]`, the output `[B, M, N]` (the import transposes and reshapes around it).
    MatMulNodes,
    /// An elementwise function by lookup table.
    Lookup {
        /// The function.
        func: LookupFn,
    },
    /// An elementwise function by arithmetic.
    Unary {
        /// The function.
        kind: UnaryKind,
    },
    /// `x^exponent` for an integer exponent of at least 2, as repeated products.
    Pow {
        /// The exponent.
        exponent: u32,
    },
    /// `cond ? then : otherwise` elementwise for a constant condition (causal masks): only wiring. An
    /// infinite constant (the `-inf` of a mask) stands for a value below every other input of its Softmax.
    Where {
        /// The condition, broadcast to the output shape (1 = true).
        cond: Tensor<f32>,
        /// Taken where the condition holds.
        then: Operand,
        /// Taken elsewhere.
        otherwise: Operand,
    },
    /// Elements `start, start + step, ...` (before `end`) along `axis` (Slice, Split).
    Slice {
        /// The axis.
        axis: usize,
        /// First index.
        start: usize,
        /// One past the last index.
        end: usize,
        /// Stride.
        step: usize,
    },
    /// Elements at constant indices along `axis` (Gather on a computed tensor).
    Gather {
        /// The axis.
        axis: usize,
        /// Indices into the axis (negative ones already wrapped); the output replaces the axis with their shape.
        indices: Tensor<usize>,
    },
    /// Rows of a constant table at the indices a computed tensor holds (token and position embeddings): the
    /// output is the indices' shape followed by the table's row shape.
    Embedding {
        /// `[rows, ...]` table.
        table: Tensor<f32>,
    },
    /// The input broadcast to the node's shape (Expand).
    Broadcast,
    /// Nearest-neighbour upsampling by an integer factor per axis (Resize, Upsample): output index `i` of an
    /// axis takes input index `i / factor`.
    Upsample {
        /// One factor per axis.
        scales: Vec<usize>,
    },
    /// Largest value over axes, kept as size 1 (ReduceMax, GlobalMaxPool).
    ReduceMax {
        /// Axes reduced.
        axes: Vec<usize>,
    },
    /// Smallest value over axes, kept as size 1.
    ReduceMin {
        /// Axes reduced.
        axes: Vec<usize>,
    },

    /// Elementwise `lhs op rhs` with broadcasting; at least one side is a node.
    Binary {
        /// The operation.
        kind: BinaryKind,
        /// Left operand.
        lhs: Operand,
        /// Right operand.
        rhs: Operand,
    },
    /// `min(max(x, min), max)` with either bound optional: Relu is `Clamp { min: 0 }`.
    Clamp {
        /// Lower bound.
        min: Option<f32>,
        /// Upper bound.
        max: Option<f32>,
    },
    /// `x` if `x >= 0`, else `alpha · x`.
    LeakyRelu {
        /// Slope for negative inputs.
        alpha: f32,
    },
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// `tanh(x)`.
    Tanh,
    /// Max over each window (padding never wins).
    MaxPool {
        /// The window.
        window: Window,
    },
    /// Sum over each window, divided by the window size when `normalize`.
    AvgPool {
        /// The window.
        window: Window,
        /// Count padded positions in the divisor.
        count_include_pad: bool,
        /// Divide by the count (AveragePool) or not (a plain sum pool).
        normalize: bool,
    },
    /// `x / divisor`, rounded to nearest: the exact division of a mean (ReduceMean and GlobalAveragePool are
    /// a ReduceSum and this) or of any division by, or multiplication with the reciprocal of, an integer.
    Div {
        /// The integer divisor, at least 2.
        divisor: u64,
    },
    /// Sum over axes, kept as size 1 (ReduceMean and GlobalAveragePool are this and a [`Op::Div`]).
    ReduceSum {
        /// Axes summed over.
        axes: Vec<usize>,
    },
    /// Same elements, new shape (Reshape, Flatten, Squeeze, Unsqueeze).
    Reshape,
    /// Output axis `i` is input axis `perm[i]`.
    Transpose {
        /// The permutation.
        perm: Vec<usize>,
    },
    /// Inputs joined along `axis`.
    Concat {
        /// The axis.
        axis: usize,
    },
    /// Softmax along `axis`.
    Softmax {
        /// The axis.
        axis: usize,
    },
    /// Index of the first maximum along `axis`, which is kept with size 1.
    ArgMax {
        /// The axis.
        axis: usize,
    },
}

impl Op {
    /// A short name for tables and errors.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Input { .. } => "Input",
            Op::MatMul { .. } => "MatMul",
            Op::Conv { .. } => "Conv",
            Op::Binary { kind: BinaryKind::Add, .. } => "Add",
            Op::Binary { kind: BinaryKind::Sub, .. } => "Sub",
            Op::Binary { kind: BinaryKind::Mul, .. } => "Mul",
            Op::Binary { kind: BinaryKind::Div, .. } => "DivNodes",
            Op::Binary { kind: BinaryKind::Max, .. } => "Max",
            Op::Binary { kind: BinaryKind::Min, .. } => "Min",
            Op::Clamp { min: Some(m), max: None } if *m == 0.0 => "Relu",
            Op::Clamp { .. } => "Clip",
            Op::LeakyRelu { .. } => "LeakyRelu",
            Op::Sigmoid => "Sigmoid",
            Op::Tanh => "Tanh",
            Op::MaxPool { .. } => "MaxPool",
            Op::AvgPool { .. } => "AvgPool",
            Op::Div { .. } => "Div",
            Op::ReduceSum { .. } => "ReduceSum",
            Op::Reshape => "Reshape",
            Op::Transpose { .. } => "Transpose",
            Op::Concat { .. } => "Concat",
            Op::Softmax { .. } => "Softmax",
            Op::ArgMax { .. } => "ArgMax",
            Op::ConvTranspose { .. } => "ConvTranspose",
            Op::MatMulNodes => "MatMulNodes",
            Op::Lookup { func } => func.name(),
            Op::Unary { kind: UnaryKind::Sqrt } => "Sqrt",
            Op::Unary { kind: UnaryKind::Rsqrt } => "Rsqrt",
            Op::Unary { kind: UnaryKind::Abs } => "Abs",
            Op::Unary { kind: UnaryKind::Neg } => "Neg",
            Op::Pow { .. } => "Pow",
            Op::Where { .. } => "Where",
            Op::Slice { .. } => "Slice",
            Op::Gather { .. } => "Gather",
            Op::Embedding { .. } => "Embedding",
            Op::Broadcast => "Expand",
            Op::Upsample { .. } => "Upsample",
            Op::ReduceMax { .. } => "ReduceMax",
            Op::ReduceMin { .. } => "ReduceMin",
        }
    }
}

fn one() -> usize {
    1
}

fn is_one(v: &usize) -> bool {
    *v == 1
}

/// A node: an op applied to the outputs of earlier nodes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// Name from the model (tract's name, which starts with the ONNX node name).
    pub name: String,
    /// The operation.
    pub op: Op,
    /// Input nodes, in operand order (for `Binary`, the `Node` operands).
    pub inputs: Vec<NodeId>,
    /// Output shape.
    pub shape: Vec<usize>,
}

/// A model as a list of nodes in evaluation order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Graph {
    /// Nodes; every node's inputs come before it.
    pub nodes: Vec<Node>,
    /// The input nodes, in the model's input order.
    pub inputs: Vec<NodeId>,
    /// The output nodes, in the model's output order.
    pub outputs: Vec<NodeId>,
}

impl Graph {
    /// Shapes of the model inputs.
    pub fn input_shapes(&self) -> Vec<Vec<usize>> {
        self.inputs.iter().map(|&id| self.nodes[id].shape.clone()).collect()
    }

    /// Total number of input elements (the length of one flattened sample).
    pub fn input_len(&self) -> usize {
        self.input_shapes().iter().map(|s| s.iter().product::<usize>()).sum()
    }
}
