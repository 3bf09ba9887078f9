//! Errors of the EVM crate.

use std::path::PathBuf;

/// Everything that can go wrong in zkml-evm.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No Solidity compiler was found, or it could not be run.
    #[error("solc {}: {reason}", path.display())]
    Solc {
        /// The compiler that was tried.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// No Solidity compiler was found; the message says where it was looked for and what to set.
    #[error("{0}")]
    SolcNotFound(String),
    /// The compiler rejected the source.
    #[error("compiling {contract}: {reason}")]
    Compile {
        /// The contract being compiled.
        contract: String,
        /// The compiler's errors.
        reason: String,
    },
    /// Even with its repeated code rolled into loops, the verifier's runtime code is over EIP-170's limit.
    #[error(
        "the verifier for {num_instance} public instances needs {runtime_bytes} bytes of runtime code even with \
         loops, over EIP-170's 24,576: the outer circuit has too many columns (aggregate at a larger k)"
    )]
    TooLarge {
        /// The smallest runtime reached.
        runtime_bytes: usize,
        /// Public instances of the verifier.
        num_instance: usize,
    },
    /// Deploying the verifier failed in revm (for example, runtime code over the EIP-170 limit).
    #[error("deploying the verifier: {0}")]
    Deploy(String),
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
