//! zkml-model: ONNX import (tract-onnx), fixed-point quantization and calibration, the integer reference
//! executor that is bit-exact with the circuit, and the Poseidon commitment of the quantized weights.
//!
//! The first stage of the pipeline; every other crate depends on it and it depends on none of them.
//!
//! ```text
//! model.onnx --import--> Graph (float ops) --calibrate/quantize--> QuantizedModel --execute--> integers
//!                            \--- tract float model (FloatRunner) ---> floats (fidelity, calibration)
//! ```

pub mod artifact;
pub mod commit;
pub mod data;
pub mod encode;
pub mod error;
pub mod exec;
pub mod fidelity;
pub mod float;
pub mod graph;
pub mod import;
pub mod quantize;
pub mod tensor;

pub use artifact::{CompiledModel, Settings};
pub use error::{Error, Result};
pub use graph::{Graph, Op};
pub use import::{ImportedModel, import_onnx, import_proto};
pub use quantize::{CalibrationOptions, QuantizedModel, Scales};
