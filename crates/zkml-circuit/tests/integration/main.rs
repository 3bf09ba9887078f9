//! zkml-circuit's integration tests, in one binary: each test binary links the whole halo2 stack (~70 MB),
//! so one per crate keeps `target/` and the link time small. Run one file with
//! `cargo test -p zkml-circuit --test integration ops::`.

mod corpus;
mod fixed_point;
mod model;
mod ops;
mod ops_cnn;
mod ops_transformer;
// The ONNX builder lives with zkml-model's tests; both crates build their graphs with it.
#[path = "../../../zkml-model/tests/integration/support/mod.rs"]
#[allow(missing_docs)]
mod support;
