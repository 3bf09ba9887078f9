//! One module per command; each has an `Args` struct with `run(self, out)`.

pub mod compile;
pub mod fidelity;
pub mod registry;
