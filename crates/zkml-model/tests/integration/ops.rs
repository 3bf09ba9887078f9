//! Every supported op, imported from a real ONNX graph, mapped onto our op set, quantized and executed in
//! integers, against tract's float output.
//!
//! Stated quantization error: with activation and weight scales 2^-S (S = 10 here) and inputs and weights
//! in [-1, 1], an op whose outputs are sums of `k` products is within `(k + 2) · 2^-S` of the float result
//! (each product carries at most one rounding of the input and one of the weight, plus one rescale);
//! elementwise ops and lookups are within `2 · 2^-S`.

use std::path::Path;

use crate::support::{Dim::*, OnnxBuilder, attr_f, attr_i, attr_ints, values};
use tract_onnx::pb::ModelProto;
use zkml_model::{
    CalibrationOptions, ImportedModel,
    exec::{execute, outputs_real},
    float::FloatRunner,
    import_proto,
    quantize::calibrate_and_quantize,
};

const S: u8 = 10;

fn ulp() -> f64 {
    1.0 / (1u64 << S) as f64
}

/// Imports, checks the mapped ops, quantizes at 2^-S and compares with tract on fresh inputs.
fn check(name: &str, proto: ModelProto, shape: &[usize], expected_ops: &[&str], terms: usize) {
    let imported =
        import_proto(&proto, Path::new(name), Some(&[shape.to_vec()])).unwrap_or_else(|e| panic!("{name}: {e}"));
    let ops: Vec<&str> = imported.graph.nodes.iter().map(|n| n.op.name()).collect();
    assert_eq!(ops, expected_ops, "{name}: mapped ops");
    check_values(name, &imported, shape, terms);
}

fn check_values(name: &str, imported: &ImportedModel, shape: &[usize], terms: usize) {
    let len: usize = shape.iter().product();
    let calibration: Vec<Vec<f32>> = (0..64).map(|i| values(1_000 + i, len, 1.0)).collect();
    let options = CalibrationOptions { scale: Some(S), param_scale: Some(S), margin: None };
    let q = calibrate_and_quantize(imported, &calibration, options).unwrap_or_else(|e| panic!("{name}: {e}"));
    let runner = FloatRunner::outputs(imported).expect("tract runs the float model");

    let tolerance = (terms + 2) as f64 * ulp();
    let mut worst = 0f64;
    for i in 0..32 {
        let x = values(5_000 + i, len, 0.95);
        let float = &runner.run(&x).expect("tract runs the sample")[0];
        let ints = execute(&q, &x).unwrap_or_else(|e| panic!("{name}, sample {i}: {e}"));
        let quant = &outputs_real(&q, &ints)[0];
        assert_eq!(float.len(), quant.len(), "{name}: output length");
        for (f, qv) in float.iter().zip(quant) {
            worst = worst.max((*f as f64 - qv).abs());
        }
    }
    assert!(worst <= tolerance, "{name}: max error {worst} exceeds {tolerance} ({terms} terms at 2^-{S})");
}

fn x2(n: i64) -> OnnxBuilder {
    OnnxBuilder::new(13).input("x", &[Fixed(1), Fixed(n)])
}

fn x4(c: i64, h: i64, w: i64) -> OnnxBuilder {
    OnnxBuilder::new(13).input("x", &[Fixed(1), Fixed(c), Fixed(h), Fixed(w)])
}

#[test]
fn gemm_with_bias_and_transposed_weights() {
    let m = x2(6)
        .init("w", &[4, 6], values(1, 24, 1.0))
        .init("b", &[4], values(2, 4, 1.0))
        .node("Gemm", &["x", "w", "b"], &["y"], vec![attr_i("transB", 1)])
        .output("y")
        .build();
    check("gemm", m, &[1, 6], &["Input", "MatMul"], 6);
}

#[test]
fn matmul_then_bias_add_fuses() {
    let m = x2(5)
        .init("w", &[5, 3], values(3, 15, 1.0))
        .init("b", &[3], values(4, 3, 1.0))
        .node("MatMul", &["x", "w"], &["m"], vec![])
        .node("Add", &["m", "b"], &["y"], vec![])
        .output("y")
        .build();
    check("matmul+add", m, &[1, 5], &["Input", "MatMul"], 5);
}

#[test]
fn elementwise_binary_ops_with_constants_and_nodes() {
    let m = x2(8)
        .init("c", &[8], values(5, 8, 1.0))
        .init("two", &[1], vec![2.0])
        .node("Sub", &["x", "c"], &["a"], vec![])
        .node("Mul", &["a", "c"], &["b"], vec![])
        .node("Div", &["b", "two"], &["d"], vec![])
        .node("Add", &["d", "x"], &["e"], vec![])
        .node("Mul", &["e", "x"], &["y"], vec![])
        .output("y")
        .build();
    // tract folds the two constant multiplications into one.
    check("sub/mul/div/add", m, &[1, 8], &["Input", "Sub", "Mul", "Add", "Mul"], 4);
}

#[test]
fn relu_leaky_relu_and_clip() {
    let m = x2(16)
        .init("lo", &[], vec![-0.5])
        .init("hi", &[], vec![0.6])
        .node("LeakyRelu", &["x"], &["a"], vec![attr_f("alpha", 0.1)])
        .node("Clip", &["a", "lo", "hi"], &["b"], vec![])
        .node("Relu", &["b"], &["y"], vec![])
        .output("y")
        .build();
    check("leakyrelu/clip/relu", m, &[1, 16], &["Input", "LeakyRelu", "Clip", "Clip", "Relu"], 1);
}

#[test]
fn sigmoid_and_tanh_lookups() {
    let m = x2(16)
        .init("three", &[1], vec![3.0])
        .node("Mul", &["x", "three"], &["a"], vec![])
        .node("Sigmoid", &["a"], &["b"], vec![])
        .node("Tanh", &["a"], &["c"], vec![])
        .node("Add", &["b", "c"], &["y"], vec![])
        .output("y")
        .build();
    // Sigmoid and tanh have slope at most 1, and their inputs carry up to 3 units of error (x3).
    check("sigmoid/tanh", m, &[1, 16], &["Input", "Mul", "Sigmoid", "Tanh", "Add"], 6);
}

#[test]
fn conv_with_stride_padding_and_bias() {
    let m = x4(2, 7, 7)
        .init("w", &[3, 2, 3, 3], values(6, 54, 0.5))
        .init("b", &[3], values(7, 3, 0.5))
        .node(
            "Conv",
            &["x", "w", "b"],
            &["y"],
            vec![attr_ints("kernel_shape", &[3, 3]), attr_ints("strides", &[2, 2]), attr_ints("pads", &[1, 1, 1, 1])],
        )
        .output("y")
        .build();
    check("conv", m, &[1, 2, 7, 7], &["Input", "Conv"], 18);
}

#[test]
fn batchnorm_folds_into_the_conv_before_it() {
    let m = x4(1, 6, 6)
        .init("w", &[2, 1, 3, 3], values(8, 18, 1.0))
        .init("s", &[2], vec![1.5, 0.5])
        .init("bb", &[2], vec![0.1, -0.2])
        .init("mean", &[2], vec![0.3, 0.1])
        .init("var", &[2], vec![2.0, 0.5])
        .node("Conv", &["x", "w"], &["c"], vec![attr_ints("kernel_shape", &[3, 3]), attr_ints("pads", &[1, 1, 1, 1])])
        .node("BatchNormalization", &["c", "s", "bb", "mean", "var"], &["y"], vec![attr_f("epsilon", 1e-5)])
        .output("y")
        .build();
    check("conv+batchnorm", m, &[1, 1, 6, 6], &["Input", "Conv"], 9);
}

#[test]
fn pooling_ops() {
    let m = x4(2, 6, 6)
        .node("MaxPool", &["x"], &["a"], vec![attr_ints("kernel_shape", &[2, 2]), attr_ints("strides", &[2, 2])])
        .node(
            "AveragePool",
            &["a"],
            &["b"],
            vec![attr_ints("kernel_shape", &[3, 3]), attr_ints("strides", &[1, 1]), attr_ints("pads", &[1, 1, 1, 1])],
        )
        .node("GlobalAveragePool", &["b"], &["y"], vec![])
        .output("y")
        .build();
    // GlobalAveragePool is a sum and an exact division by 9.
    check("pools", m, &[1, 2, 6, 6], &["Input", "MaxPool", "AvgPool", "ReduceSum", "Div"], 9);
}

#[test]
fn shape_ops_flatten_reshape_transpose_concat_squeeze_unsqueeze() {
    let m = OnnxBuilder::new(13)
        .input("x", &[Fixed(1), Fixed(2), Fixed(3)])
        .init_i64("shape", &[2], vec![1, 6])
        .init_i64("ax", &[1], vec![0])
        .node("Transpose", &["x"], &["t"], vec![attr_ints("perm", &[0, 2, 1])])
        .node("Reshape", &["t", "shape"], &["r"], vec![])
        .node("Unsqueeze", &["r", "ax"], &["u"], vec![])
        .node("Squeeze", &["u", "ax"], &["s"], vec![])
        .node("Relu", &["s"], &["p"], vec![])
        .node("Concat", &["s", "p"], &["c"], vec![attr_i("axis", 1)])
        .node("Flatten", &["c"], &["y"], vec![])
        .output("y")
        .build();
    // Unsqueeze then Squeeze cancel out, and Flatten of a [1, 12] tensor is the identity.
    check("shape ops", m, &[1, 2, 3], &["Input", "Transpose", "Reshape", "Relu", "Concat"], 0);

    // Concat followed by a matrix product: tract splits the product per part and adds the results.
    let m = OnnxBuilder::new(13)
        .input("x", &[Fixed(1), Fixed(6)])
        .init("w", &[12, 2], values(9, 24, 1.0))
        .node("Relu", &["x"], &["p"], vec![])
        .node("Concat", &["x", "p"], &["c"], vec![attr_i("axis", 1)])
        .node("MatMul", &["c", "w"], &["y"], vec![])
        .output("y")
        .build();
    let imported = import_proto(&m, Path::new("concat+matmul"), None).unwrap();
    assert!(imported.graph.nodes.iter().all(|n| n.op.name() != "Concat"), "tract rewrote the concat away");
    check_values("concat+matmul", &imported, &[1, 6], 12);
}

#[test]
fn softmax_then_argmax_at_the_output() {
    let m = x2(10)
        .init("w", &[10, 10], values(10, 100, 1.0))
        .node("MatMul", &["x", "w"], &["l"], vec![])
        .node("Softmax", &["l"], &["y"], vec![attr_i("axis", 1)])
        .output("y")
        .build();
    check("softmax", m, &[1, 10], &["Input", "MatMul", "Softmax"], 10);

    let m = x2(10)
        .init("w", &[10, 10], values(10, 100, 1.0))
        .node("MatMul", &["x", "w"], &["l"], vec![])
        .node("ArgMax", &["l"], &["y"], vec![attr_i("axis", 1), attr_i("keepdims", 0)])
        .output("y")
        .build();
    // ArgMax is exact unless two logits are within the quantization error of each other.
    check("argmax", m, &[1, 10], &["Input", "MatMul", "ArgMax", "Reshape"], 0);
}

#[test]
fn exporter_noise_disappears() {
    // What PyTorch writes for `x.view(x.size(0), -1)` with a dynamic batch, plus Identity and Constant.
    let m = OnnxBuilder::new(13)
        .input("x", &[Param("batch"), Fixed(2), Fixed(2), Fixed(2)])
        .init("w", &[3, 8], values(11, 24, 1.0))
        .init("b", &[3], values(12, 3, 1.0))
        .init_i64("zero", &[], vec![0])
        .init_i64("minus_one", &[1], vec![-1])
        .init_i64("axes", &[1], vec![0])
        .node("Identity", &["x"], &["xi"], vec![])
        .node("Shape", &["xi"], &["shape"], vec![])
        .node("Gather", &["shape", "zero"], &["n"], vec![attr_i("axis", 0)])
        .node("Unsqueeze", &["n", "axes"], &["n1"], vec![])
        .node("Concat", &["n1", "minus_one"], &["target"], vec![attr_i("axis", 0)])
        .node("Reshape", &["xi", "target"], &["flat"], vec![])
        .node("Gemm", &["flat", "w", "b"], &["y"], vec![attr_i("transB", 1)])
        .output("y")
        .build();
    check("exporter noise", m, &[1, 2, 2, 2], &["Input", "MatMul"], 8);
}

/// Imports and checks values only: for graphs whose exact op list is tract's business (it merges
/// Flatten/Transpose into matrix products and rewrites 1x1 convolutions as einsums).
fn check_lowered(name: &str, proto: ModelProto, shape: &[usize], must_contain: &str, terms: usize) {
    let imported =
        import_proto(&proto, Path::new(name), Some(&[shape.to_vec()])).unwrap_or_else(|e| panic!("{name}: {e}"));
    let ops: Vec<&str> = imported.graph.nodes.iter().map(|n| n.op.name()).collect();
    assert!(ops.contains(&must_contain), "{name}: {ops:?} has no {must_contain}");
    check_values(name, &imported, shape, terms);
}

#[test]
fn single_output_linear_head() {
    // tract drops the size-1 output axis of the weights: `mk,k->mn`.
    let m = x2(4)
        .init("w", &[1, 4], values(20, 4, 1.0))
        .init("b", &[1], vec![0.25])
        .node("Gemm", &["x", "w", "b"], &["y"], vec![attr_i("transB", 1)])
        .output("y")
        .build();
    check_lowered("linear 4->1", m, &[1, 4], "MatMul", 4);
}

#[test]
fn global_average_pool_flatten_gemm_head() {
    // tract folds the flatten into the product: `mkba,nk->mn` with size-1 spatial axes.
    let m = x4(2, 4, 4)
        .init("w", &[3, 2, 1, 1], values(21, 6, 1.0))
        .init("fc", &[5, 3], values(22, 15, 1.0))
        .node("Conv", &["x", "w"], &["c"], vec![attr_ints("kernel_shape", &[1, 1])])
        .node("GlobalAveragePool", &["c"], &["g"], vec![])
        .node("Flatten", &["g"], &["f"], vec![])
        .node("Gemm", &["f", "fc"], &["y"], vec![attr_i("transB", 1)])
        .output("y")
        .build();
    check_lowered("gap/flatten/gemm", m, &[1, 2, 4, 4], "MatMul", 8);
}

#[test]
fn one_by_one_convolution_becomes_a_product_over_channels() {
    // tract rewrites it as `NIHW,OI->NOHW`: transposes around a matrix product.
    let m = x4(3, 3, 3)
        .init("w", &[4, 3, 1, 1], values(23, 12, 1.0))
        .node("Conv", &["x", "w"], &["y"], vec![attr_ints("kernel_shape", &[1, 1])])
        .output("y")
        .build();
    check_lowered("conv 1x1", m, &[1, 3, 3, 3], "Transpose", 3);
}

#[test]
fn transpose_then_linear() {
    let m = OnnxBuilder::new(13)
        .input("x", &[Fixed(1), Fixed(3), Fixed(4)])
        .init("w", &[3, 2], values(24, 6, 1.0))
        .node("Transpose", &["x"], &["t"], vec![attr_ints("perm", &[0, 2, 1])])
        .node("MatMul", &["t", "w"], &["y"], vec![])
        .output("y")
        .build();
    check_lowered("transpose/matmul", m, &[1, 3, 4], "MatMul", 3);
}

#[test]
fn argmax_without_keepdims_is_an_index_output() {
    let m = x2(6)
        .init("w", &[6, 4], values(25, 24, 1.0))
        .node("MatMul", &["x", "w"], &["l"], vec![])
        .node("ArgMax", &["l"], &["y"], vec![attr_i("axis", 1), attr_i("keepdims", 0)])
        .output("y")
        .build();
    let imported = import_proto(&m, Path::new("argmax"), None).unwrap();
    let calibration: Vec<Vec<f32>> = (0..32).map(|i| values(300 + i, 6, 1.0)).collect();
    let q = calibrate_and_quantize(&imported, &calibration, CalibrationOptions::default()).unwrap();
    let output = &q.nodes[q.outputs[0]];
    assert_eq!(output.op_name, "Reshape", "tract drops the kept axis after ArgMax");
    assert!(output.is_index(), "the reshaped indices are still indices, not fixed-point values");
}

#[test]
fn scale_zero_is_refused() {
    let m = x2(4).node("Relu", &["x"], &["y"], vec![]).output("y").build();
    let imported = import_proto(&m, Path::new("relu"), None).unwrap();
    let calibration = vec![values(1, 4, 1.0)];
    for options in [
        CalibrationOptions { scale: Some(0), ..Default::default() },
        CalibrationOptions { param_scale: Some(0), ..Default::default() },
    ] {
        let err = calibrate_and_quantize(&imported, &calibration, options).unwrap_err().to_string();
        assert!(err.contains("must be at least 1"), "{err}");
    }
}

#[test]
fn convolution_after_reshape_and_unsqueeze() {
    // tract squeezes the batch axis away here and hands the Conv a batch-less CHW tensor.
    let m = x2(64)
        .init_i64("shape", &[3], vec![-1, 8, 8])
        .init_i64("axes", &[1], vec![1])
        .init("w", &[2, 1, 3, 3], values(26, 18, 1.0))
        .node("Reshape", &["x", "shape"], &["r"], vec![])
        .node("Unsqueeze", &["r", "axes"], &["u"], vec![])
        .node("Conv", &["u", "w"], &["y"], vec![attr_ints("kernel_shape", &[3, 3]), attr_ints("pads", &[1, 1, 1, 1])])
        .output("y")
        .build();
    check_lowered("reshape/unsqueeze/conv", m, &[1, 64], "Conv", 9);
}
