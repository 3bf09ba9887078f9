//! zkml-eth's integration tests, in one binary: each test binary links the whole halo2 and alloy stack, so
//! one per crate keeps `target/` and the link time small. Run one file with
//! `cargo test -p zkml-eth --test integration cli_aggregate::`.

mod anvil_registry;
mod cli_aggregate;
mod cli_chain;
mod cli_demo;
mod cli_examples;
mod cli_gen_verifier;
mod cli_model;
mod cli_prove;
mod cli_registry;
mod cli_solc;
mod common;
