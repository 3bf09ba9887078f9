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
}

/// Parameters of a 2D sliding window (NCHW): kernel, strides and explicit padding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Vertical and horizontal stride.
    pub strides: [usize; 2],
    /// Padding: top, left, bottom, right.
    pub pads: [usize; 4],
}

impl Window {
    /// Output height and width over an `h × w` input.
    pub fn output_size(&self, h: usize, w: usize) -> (usize, usize) {
        let out = |len: usize, axis: usize| {
            (len + self.pads[axis] + self.pads[axis + 2] - self.kernel[axis]) / self.strides[axis] + 1
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
                let y = (i * self.strides[0] + di).checked_sub(self.pads[0])?;
                let x = (j * self.strides[1] + dj).checked_sub(self.pads[1])?;
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
    },
    /// `y[.., n] = Σ_k x[.., k] · weight[k, n] + bias[n]` (Gemm, MatMul, and a following bias Add).
    MatMul {
        /// `[k, n]` weights.
        weight: Tensor<f32>,
        /// `[n]` bias.
        bias: Option<Vec<f32>>,
    },
    /// 2D convolution, NCHW input, OIHW kernel, dilation 1, one group (BatchNorm already folded in).
    Conv {
        /// `[out_channels, in_channels, kh, kw]` kernel.
        kernel: Tensor<f32>,
        /// `[out_channels]` bias.
        bias: Option<Vec<f32>>,
        /// Kernel size (equal to the kernel's spatial dims), strides and padding.
        window: Window,
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
        }
    }
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
