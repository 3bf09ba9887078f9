//! One module per command; each has an `Args` struct with `run(self, out)`.

pub mod bench;
pub mod compile;
pub mod fidelity;
pub mod prove;
pub mod registry;
pub mod setup;
pub mod verify;
