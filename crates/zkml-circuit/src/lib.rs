//! zkml-circuit: halo2-base chips (dot products, rescaling, activations by lookup, pooling, Poseidon
//! commitments) and the circuit that lays out a quantized model from `zkml-model`.

pub mod circuit;
pub mod dot;
pub mod fixed_point;
pub mod model;
pub mod public;
pub mod range;
pub mod sizing;
pub mod tables;

/// Revision of the constraints this crate lays out for a given model, layout and size. It goes into the
/// circuit hash that names cached keys, so keys made by an earlier revision are never reused. Revision 3:
/// rescaling checks quotient and remainder ranges directly; bit range checks by a running-sum gate.
pub const CIRCUIT_REVISION: u32 = 3;

pub use circuit::{ModelCircuit, ModelCircuitParams};
pub use fixed_point::{FixedPointInstructions, fe_from_i64, fe_to_i64};
pub use model::{ModelCells, assign_model};
pub use public::{InputVisibility, OutputVisibility, PublicLayout, Visibility, WeightVisibility};
