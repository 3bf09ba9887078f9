//! zkml-prover: KZG parameters (real powers-of-tau files and a clearly unsafe dev SRS), cached proving and
//! verifying keys, SHPLONK proofs of inference, aggregation with snark-verifier-sdk, and proof artifacts.

pub mod aggregate;
pub mod artifact;
pub mod error;
pub mod keys;
pub mod prove;
pub mod srs;

pub use error::{Error, Result};
