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

/// Index maps of data movement: which flat source element each output element takes. The executor moves
/// values with ndarray; the circuit moves cells with these maps, built with the same ndarray calls, so the
/// two orders agree.
pub mod index {
    use tract_onnx::prelude::tract_ndarray::{ArrayD, Axis, IxDyn, concatenate};

    fn iota(shape: &[usize]) -> ArrayD<usize> {
        let n = shape.iter().product();
        ArrayD::from_shape_vec(IxDyn(shape), (0..n).collect()).expect("iota matches its shape")
    }

    /// Flat source index of every element of `to` when `from` is broadcast to it (numpy rules).
    pub fn broadcast(from: &[usize], to: &[usize]) -> Option<Vec<usize>> {
        Some(iota(from).broadcast(IxDyn(to))?.iter().copied().collect())
    }

    /// Flat source index of every element of the transpose of a `shape` tensor by `perm`.
    pub fn transpose(shape: &[usize], perm: &[usize]) -> Vec<usize> {
        iota(shape).permuted_axes(IxDyn(perm)).iter().copied().collect()
    }

    /// The flat indices of every lane along `axis`, lanes in row-major order of the other axes.
    pub fn lanes(shape: &[usize], axis: usize) -> Vec<Vec<usize>> {
        iota(shape).lanes(Axis(axis)).into_iter().map(|lane| lane.iter().copied().collect()).collect()
    }

    /// `(input, flat index)` of every element of the concatenation of tensors of `shapes` along `axis`.
    pub fn concat(shapes: &[Vec<usize>], axis: usize) -> Option<Vec<(usize, usize)>> {
        let mut base = 0;
        let mut parts = vec![];
        for shape in shapes {
            parts.push(iota(shape).mapv(|i| i + base));
            base += shape.iter().product::<usize>();
        }
        let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
        let joined = concatenate(Axis(axis), &views).ok()?;
        let mut starts = vec![0usize];
        for shape in shapes {
            starts.push(starts.last().copied().unwrap_or(0) + shape.iter().product::<usize>());
        }
        Some(
            joined
                .iter()
                .map(|&g| {
                    let t = starts.partition_point(|&s| s <= g) - 1;
                    (t, g - starts[t])
                })
                .collect(),
        )
    }

    /// Flat source index of every element of `shape[axis]` sliced to `start, start + step, ..` below `end`.
    pub fn slice(shape: &[usize], axis: usize, start: usize, end: usize, step: usize) -> Vec<usize> {
        let a = iota(shape);
        let end = end.min(shape[axis]);
        let picked: Vec<usize> = (start..end).step_by(step.max(1)).collect();
        a.select(Axis(axis), &picked).iter().copied().collect()
    }

    /// Flat source index of every element of a Gather along `axis` at `indices`: the output shape is
    /// `shape[..axis] ++ indices.shape ++ shape[axis + 1..]`.
    pub fn gather(shape: &[usize], axis: usize, indices: &crate::tensor::Tensor<usize>) -> Vec<usize> {
        let a = iota(shape);
        let picked = a.select(Axis(axis), &indices.data);
        // `select` keeps the axis flat; its elements are already in the order of the indices' shape.
        picked.iter().copied().collect()
    }

    /// Flat source index of every element of a nearest-neighbour upsampling of a `shape` tensor by `scales`
    /// (output index `i` of axis `a` reads input index `i / scales[a]`).
    pub fn upsample(shape: &[usize], scales: &[usize]) -> Vec<usize> {
        let out_shape: Vec<usize> = shape.iter().zip(scales).map(|(d, s)| d * s).collect();
        let source = iota(shape);
        iota(&out_shape)
            .indexed_iter()
            .map(|(multi, _)| {
                let at: Vec<usize> = (0..shape.len()).map(|a| multi[a] / scales[a]).collect();
                source[IxDyn(&at)]
            })
            .collect()
    }

    /// For a sum of a `shape` tensor over `axes` (kept as size 1): the flat output index of every input
    /// element, and the number of outputs.
    pub fn reduce(shape: &[usize], axes: &[usize]) -> (Vec<usize>, usize) {
        let mut out_shape = shape.to_vec();
        for &a in axes {
            out_shape[a] = 1;
        }
        let out_len = out_shape.iter().product();
        let mut map = Vec::with_capacity(shape.iter().product());
        for (multi, _) in iota(shape).indexed_iter() {
            let flat =
                (0..shape.len()).fold(0, |acc, d| acc * out_shape[d] + if axes.contains(&d) { 0 } else { multi[d] });
            map.push(flat);
        }
        (map, out_len)
    }
}
