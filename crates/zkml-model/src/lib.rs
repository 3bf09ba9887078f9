//! zkml-model: ONNX import (tract-onnx), fixed-point quantization and calibration, the integer reference
//! executor that is bit-exact with the circuit, and the Poseidon commitment of the quantized weights.
//!
//! The first stage of the pipeline; every other crate depends on it and it depends on none of them.
