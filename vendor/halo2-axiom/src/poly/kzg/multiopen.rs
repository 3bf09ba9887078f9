mod gwc;
mod shplonk;

pub use gwc::*;
pub use shplonk::*;
