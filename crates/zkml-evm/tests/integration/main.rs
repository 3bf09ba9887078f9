//! zkml-evm's integration tests, in one binary: each test binary links the whole halo2 and revm stack, so
//! one per crate keeps `target/` and the link time small. Run one file with
//! `cargo test -p zkml-evm --test integration rolled_verifier::`.

mod rolled_verifier;
mod solc_shim;
