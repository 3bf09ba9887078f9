//! zkml-evm: Solidity verifier generation for single and aggregated proofs, calldata encoding, and local
//! execution in revm (the version snark-verifier executes with) to measure gas and runtime size.

pub mod codegen;
pub mod error;
pub mod exec;
pub mod roll;
pub mod solc;

pub use error::{Error, Result};
