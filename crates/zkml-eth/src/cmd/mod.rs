//! One module per command; each has an `Args` struct with `run(self, out)`.

pub mod aggregate;
pub mod bench;
pub mod compile;
pub mod fidelity;
pub mod gen_verifier;
pub mod prove;
pub mod registry;
pub mod setup;
pub mod verify;
