//! Errors of the prover crate.

use std::path::PathBuf;

/// Everything that can go wrong in zkml-prover.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
    /// A KZG parameters file is malformed, too small or inconsistent.
    #[error("{}: {reason}", path.display())]
    Srs {
        /// The parameters file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The SRS was made for another circuit size.
    #[error("the SRS has k = {have}, but the circuit needs k = {need}")]
    SrsSize {
        /// k of the SRS.
        have: u32,
        /// k of the circuit.
        need: u32,
    },
    /// The model cannot be laid out as a circuit.
    #[error("circuit: {0}")]
    Circuit(String),
    /// halo2 failed while generating keys or a proof.
    #[error("halo2: {0}")]
    Halo2(String),
    /// A file zkml-eth wrote (key cache entry, verifying key, proof artifact) is damaged, of another
    /// version, or already there.
    #[error("{}: {reason}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong, and what to do about it.
        reason: String,
    },
    /// A proof artifact's proof or instances do not parse.
    #[error("proof artifact: {0}")]
    Artifact(String),
    /// Proofs that cannot be aggregated together, or keys made for other proofs.
    #[error("aggregation: {0}")]
    Aggregation(String),
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
