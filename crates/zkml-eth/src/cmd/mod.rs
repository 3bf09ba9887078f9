//! One module per command; each has an `Args` struct with `run(self, out)`.

pub mod registry;
