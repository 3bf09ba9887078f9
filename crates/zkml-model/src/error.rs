//! Errors of model import, quantization and execution. Each names what it is about: the file, the node
//! and its op, the value.

use std::path::PathBuf;

use crate::import::DynamicInput;

/// Everything that can go wrong in zkml-model.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error (part of the message, not a separate cause, so it is printed once).
        error: std::io::Error,
    },
    /// tract could not parse or analyse the ONNX file.
    #[error("{}: not a model tract can load: {reason}", path.display())]
    Onnx {
        /// The ONNX file.
        path: PathBuf,
        /// tract's explanation, with its whole cause chain.
        reason: String,
    },
    /// Model inputs have symbolic dimensions other than a leading batch, and no shapes were given.
    #[error("{}", dynamic_message(inputs, example))]
    DynamicInputShape {
        /// Every such input.
        inputs: Vec<DynamicInput>,
        /// A suggested `--input-shape` for every input of the model, in input order.
        example: String,
    },
    /// The number of `--input-shape` values does not match the model's inputs.
    #[error("the model has {expected} input(s) but {given} input shape(s) were given")]
    InputShapeCount {
        /// Inputs of the model.
        expected: usize,
        /// Shapes given.
        given: usize,
    },
    /// A node whose operation zkml-eth cannot prove.
    #[error("node '{node}' ({op}) is not supported: {reason}. Supported ops: {SUPPORTED_OPS}")]
    UnsupportedOp {
        /// The node name (starts with the ONNX node name).
        node: String,
        /// The operation: tract's name after simplification, and the ONNX op it came from when known.
        op: String,
        /// Why this instance cannot be mapped.
        reason: String,
    },
    /// A data file does not have the expected form.
    #[error("{}: {reason}", path.display())]
    Data {
        /// The data file.
        path: PathBuf,
        /// What is wrong, with the sample index where there is one.
        reason: String,
    },
    /// An input value does not match the model.
    #[error("input: {0}")]
    Input(String),
    /// An integer value left the range calibrated for its node: proving it could overflow silently, so it
    /// is refused.
    #[error(
        "value {value} at node '{node}' ({op}) is outside its calibrated range ±{bound} (scale 2^{scale}: real {real:.4}, calibrated max |{calibrated:.4}|); the input is probably outside the calibration data: calibrate on data that covers it, or raise --margin"
    )]
    OutOfRange {
        /// The node.
        node: String,
        /// Its op.
        op: String,
        /// The offending integer value.
        value: i128,
        /// The calibrated bound.
        bound: i128,
        /// The fixed-point exponent of the value.
        scale: u8,
        /// The value in real units.
        real: f64,
        /// The largest magnitude seen during calibration.
        calibrated: f64,
    },
    /// An input of a node is outside the domain of its function (the square root of a negative value, the
    /// logarithm of zero, a division by a non-positive value).
    #[error(
        "value {value:.6} reaches node '{node}' ({op}), outside the domain of its function (Sqrt takes x >= 0, Rsqrt and Log x > 0 at the model's scale, a divisor must be positive)"
    )]
    OutOfDomain {
        /// The node.
        node: String,
        /// Its op.
        op: String,
        /// The offending input, in real units.
        value: f64,
    },
    /// Calibration could not find scales under which every value fits.
    #[error("calibration failed: {0}")]
    Calibration(String),
    /// A quantized model file is from an incompatible version of zkml-eth, or damaged.
    #[error("{}: {reason}", path.display())]
    Format {
        /// The model file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// tract failed while running the float model.
    #[error("float execution failed: {0}")]
    Float(String),
}

/// The ops zkml-eth maps and proves, as named in error messages.
pub const SUPPORTED_OPS: &str = "Gemm, MatMul (constant weights or two computed tensors, batched), Add, Sub, Mul, \
Div (by a constant or a positive tensor), Reciprocal, Max, Min, Abs, Neg, Relu, LeakyRelu, Clip, Sigmoid, Tanh, Erf, Gelu (exact \
and tanh), Exp, Log, Sqrt, Pow (integer exponents, 0.5, -0.5, -1), Softmax, LayerNormalization, Conv (2D, groups, dilation), \
ConvTranspose (2D, one group), AveragePool, MaxPool, GlobalAveragePool, GlobalMaxPool, ReduceSum, ReduceMean, ReduceMax, \
ReduceMin, BatchNormalization (folded), Flatten, Reshape, Transpose, Concat, Squeeze, Unsqueeze, Slice, Split, Gather \
(constant indices, or ids into a constant table), Expand, Where (constant condition), ArgMax";

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

fn dynamic_message(inputs: &[DynamicInput], example: &str) -> String {
    let described: Vec<String> = inputs
        .iter()
        .map(|i| {
            if i.dims.is_empty() {
                return format!("input {} ('{}') declares no shape", i.index, i.name);
            }
            let dims: Vec<String> = i.dims.iter().map(|(axis, d)| format!("dimension {axis} is '{d}'")).collect();
            format!("input {} ('{}') has the dynamic shape {} ({})", i.index, i.name, i.declared, dims.join(", "))
        })
        .collect();
    let every = if example.matches("--input-shape").count() > 1 {
        "every input's concrete shape, in input order"
    } else {
        "its concrete shape"
    };
    format!(
        "{}; only a leading batch dimension is bound to 1 by default: pass {every}, e.g. {example}",
        described.join("; ")
    )
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), error: source }
    }
}
