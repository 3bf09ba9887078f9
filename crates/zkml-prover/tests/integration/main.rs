//! zkml-prover's integration tests, in one binary: each test binary links the whole halo2 stack (~70 MB), so
//! one per crate keeps `target/` and the link time small. Run one file with
//! `cargo test -p zkml-prover --test integration aggregate_layers::`.

mod aggregate_layers;
mod aggregate_sizing;
mod common;
mod fft;
mod prove;
mod srs;
mod thread_counts;
