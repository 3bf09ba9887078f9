//! zkml-model's integration tests, in one binary: each test binary links tract, so one per crate keeps
//! `target/` and the link time small. Run one file with `cargo test -p zkml-model --test integration ops::`.

mod encodings;
mod errors_and_format;
mod means;
mod ops;
mod small_constants;
mod support;
mod symbolic_shapes;
