//! A plain row-major tensor that serializes to JSON, with conversion to ndarray for computation.

use serde::{Deserialize, Serialize};
use tract_onnx::prelude::tract_ndarray::{ArrayD, IxDyn};

/// A dense row-major tensor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tensor<T> {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Elements in row-major order; `data.len()` is the product of `shape`.
    pub data: Vec<T>,
}

impl<T: Clone> Tensor<T> {
    /// Builds a tensor; `data.len()` must match `shape`.
    pub fn new(shape: Vec<usize>, data: Vec<T>) -> Self {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        Self { shape, data }
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// As an ndarray.
    pub fn to_array(&self) -> ArrayD<T> {
        ArrayD::from_shape_vec(IxDyn(&self.shape), self.data.clone()).expect("shape matches data by construction")
    }

    /// From an ndarray (any memory layout).
    pub fn from_array(array: &ArrayD<T>) -> Self {
        Self { shape: array.shape().to_vec(), data: array.iter().cloned().collect() }
    }

    /// Applies `f` to every element.
    pub fn map<U: Clone>(&self, f: impl FnMut(&T) -> U) -> Tensor<U> {
        Tensor { shape: self.shape.clone(), data: self.data.iter().map(f).collect() }
    }
}
