//! Transformer operators as circuits (MockProver): products of two activations, Softmax inside the graph,
//! causal masks (Where and additive -inf), multi-head layouts, LayerNormalization, GELU in both forms, the
//! tabulated Exp and Log, square roots and divisions of tensors, powers, Max/Min, embeddings and the data
//! movement around them. Each proves three inferences equal to the integer executor and rejects tampering.

use crate::{
    ops::{check, check_samples, quantized, quantized_on},
    support::{Dim::Fixed, OnnxBuilder, attr_i, attr_ints, attr_s, values},
};
use zkml_circuit::sizing::RangeChecks;

fn x3(opset: i64, t: i64, d: i64) -> OnnxBuilder {
    OnnxBuilder::new(opset).input("x", &[Fixed(1), Fixed(t), Fixed(d)])
}

/// Q·Kᵀ scaled, masked, Softmax'd and multiplied with V, on a `[1, 4, 6]` input; `mask` wires the mask.
fn attention(mask: impl FnOnce(OnnxBuilder) -> OnnxBuilder) -> tract_onnx::pb::ModelProto {
    let m = x3(13, 4, 6)
        .init("wq", &[6, 6], values(201, 36, 0.6))
        .init("wk", &[6, 6], values(202, 36, 0.6))
        .init("wv", &[6, 6], values(203, 36, 0.6))
        .init("scale", &[], vec![0.4])
        .node("MatMul", &["x", "wq"], &["q"], vec![])
        .node("MatMul", &["x", "wk"], &["k"], vec![])
        .node("MatMul", &["x", "wv"], &["v"], vec![])
        .node("Transpose", &["k"], &["kt"], vec![attr_ints("perm", &[0, 2, 1])])
        .node("MatMul", &["q", "kt"], &["s"], vec![])
        .node("Mul", &["s", "scale"], &["scaled"], vec![]);
    mask(m)
        .node("Softmax", &["masked"], &["p"], vec![attr_i("axis", -1)])
        .node("MatMul", &["p", "v"], &["y"], vec![])
        .output("y")
        .build()
}

fn causal(t: usize) -> Vec<bool> {
    (0..t * t).map(|i| i % t <= i / t).collect()
}

#[test]
fn attention_with_a_causal_where_mask() {
    let m = attention(|b| {
        b.init_bool("mask", &[4, 4], causal(4)).init("ninf", &[], vec![f32::NEG_INFINITY]).node(
            "Where",
            &["mask", "scaled", "ninf"],
            &["masked"],
            vec![],
        )
    });
    let q = quantized("attention", m, &[1, 4, 6], 1.0);
    check("causal attention", &q, &["MatMulNodes", "Where", "Softmax"], 1.0);
}

#[test]
fn attention_with_an_additive_mask() {
    let mask: Vec<f32> = causal(4).into_iter().map(|keep| if keep { 0.0 } else { f32::NEG_INFINITY }).collect();
    let m = attention(|b| b.init("mask", &[4, 4], mask).node("Add", &["scaled", "mask"], &["masked"], vec![]));
    let q = quantized("additive", m, &[1, 4, 6], 1.0);
    check("additive mask", &q, &["MatMulNodes", "Where", "Softmax"], 1.0);
}

#[test]
fn two_heads_split_and_merged_by_reshape_and_transpose() {
    let m = x3(13, 4, 8)
        .init("wq", &[8, 8], values(211, 64, 0.5))
        .init("wk", &[8, 8], values(212, 64, 0.5))
        .init("wv", &[8, 8], values(213, 64, 0.5))
        .init_i64("heads", &[4], vec![1, 4, 2, 4])
        .init_i64("merged", &[3], vec![1, 4, 8])
        .node("MatMul", &["x", "wq"], &["q"], vec![])
        .node("MatMul", &["x", "wk"], &["k"], vec![])
        .node("MatMul", &["x", "wv"], &["v"], vec![])
        .node("Reshape", &["q", "heads"], &["q4"], vec![])
        .node("Reshape", &["k", "heads"], &["k4"], vec![])
        .node("Reshape", &["v", "heads"], &["v4"], vec![])
        .node("Transpose", &["q4"], &["qh"], vec![attr_ints("perm", &[0, 2, 1, 3])])
        .node("Transpose", &["k4"], &["kh"], vec![attr_ints("perm", &[0, 2, 3, 1])])
        .node("Transpose", &["v4"], &["vh"], vec![attr_ints("perm", &[0, 2, 1, 3])])
        .node("MatMul", &["qh", "kh"], &["s"], vec![])
        .node("Softmax", &["s"], &["p"], vec![attr_i("axis", 3)])
        .node("MatMul", &["p", "vh"], &["o"], vec![])
        .node("Transpose", &["o"], &["ot"], vec![attr_ints("perm", &[0, 2, 1, 3])])
        .node("Reshape", &["ot", "merged"], &["y"], vec![])
        .output("y")
        .build();
    let q = quantized("heads", m, &[1, 4, 8], 1.0);
    check("two heads", &q, &["MatMulNodes", "Softmax"], 1.0);
}

#[test]
fn layer_normalization_and_its_exported_pattern() {
    let m = x3(17, 4, 6)
        .init("gamma", &[6], values(221, 6, 1.0))
        .init("beta", &[6], values(222, 6, 0.5))
        .node("LayerNormalization", &["x", "gamma", "beta"], &["y"], vec![attr_i("axis", -1)])
        .output("y")
        .build();
    let q = quantized("layernorm", m, &[1, 4, 6], 2.0);
    check("LayerNormalization", &q, &["Rsqrt", "Mul", "Sub"], 2.0);

    // What exporters emit below opset 17: ReduceMean, Sub, Pow 2, ReduceMean, Add eps, Sqrt, Div.
    let m = x3(13, 4, 6)
        .init("two", &[], vec![2.0])
        .init("eps", &[], vec![1e-5])
        .node("ReduceMean", &["x"], &["mean"], vec![attr_ints("axes", &[-1]), attr_i("keepdims", 1)])
        .node("Sub", &["x", "mean"], &["d"], vec![])
        .node("Pow", &["d", "two"], &["dd"], vec![])
        .node("ReduceMean", &["dd"], &["var"], vec![attr_ints("axes", &[-1]), attr_i("keepdims", 1)])
        .node("Add", &["var", "eps"], &["ve"], vec![])
        .node("Sqrt", &["ve"], &["sd"], vec![])
        .node("Div", &["d", "sd"], &["y"], vec![])
        .output("y")
        .build();
    let q = quantized("layernorm pattern", m, &[1, 4, 6], 2.0);
    let ops: Vec<&str> = q.nodes.iter().map(|n| n.op_name.as_str()).collect();
    assert!(ops.contains(&"Rsqrt") || ops.contains(&"DivNodes"), "{ops:?}");
    check("LayerNorm pattern", &q, &["Sub"], 2.0);
}

#[test]
fn gelu_exact_and_tanh_forms() {
    // x · 0.5 · (1 + erf(x / √2)), as PyTorch exports nn.GELU(); tract recognises it.
    let m = OnnxBuilder::new(13)
        .input("x", &[Fixed(1), Fixed(10)])
        .init("sqrt2", &[], vec![std::f32::consts::SQRT_2])
        .init("one", &[], vec![1.0])
        .init("half", &[], vec![0.5])
        .node("Div", &["x", "sqrt2"], &["a"], vec![])
        .node("Erf", &["a"], &["e"], vec![])
        .node("Add", &["e", "one"], &["b"], vec![])
        .node("Mul", &["x", "b"], &["c"], vec![])
        .node("Mul", &["c", "half"], &["y"], vec![])
        .output("y")
        .build();
    let q = quantized("gelu", m, &[1, 10], 4.0);
    check("gelu exact", &q, &["Gelu"], 4.0);

    // Inputs to ±8 pass the table's half-width (≈1.9 at 2^-8): the identity above it, zero below.
    let m = OnnxBuilder::new(20)
        .input("x", &[Fixed(1), Fixed(10)])
        .node("Gelu", &["x"], &["y"], vec![attr_s("approximate", "tanh")])
        .output("y")
        .build();
    let q = quantized("gelu tanh", m, &[1, 10], 8.0);
    check("gelu tanh", &q, &["GeluTanh"], 8.0);

    let m =
        OnnxBuilder::new(13).input("x", &[Fixed(1), Fixed(10)]).node("Erf", &["x"], &["y"], vec![]).output("y").build();
    check("erf", &quantized("erf", m, &[1, 10], 3.0), &["Erf"], 3.0);
}

#[test]
fn exp_log_roots_divisions_powers_and_comparisons() {
    let m = OnnxBuilder::new(13)
        .input("x", &[Fixed(1), Fixed(6)])
        .init("half", &[], vec![0.5])
        .init("three", &[], vec![3.0])
        .node("Mul", &["x", "x"], &["sq"], vec![])
        .node("Add", &["sq", "half"], &["pos"], vec![])
        .node("Exp", &["x"], &["e"], vec![])
        .node("Log", &["pos"], &["l"], vec![])
        .node("Sqrt", &["pos"], &["r"], vec![])
        .node("Reciprocal", &["pos"], &["rc"], vec![])
        .node("Div", &["x", "pos"], &["d"], vec![])
        .node("Pow", &["x", "three"], &["c"], vec![])
        .node("Max", &["x", "l"], &["mx"], vec![])
        .node("Min", &["x", "r"], &["mn"], vec![])
        .node("Abs", &["x"], &["ab"], vec![])
        .node("Neg", &["x"], &["ng"], vec![])
        .node("Concat", &["e", "l", "r", "rc", "d", "c", "mx", "mn", "ab", "ng"], &["y"], vec![attr_i("axis", 1)])
        .output("y")
        .build();
    let q = quantized("arithmetic", m, &[1, 6], 1.5);
    check("arithmetic", &q, &["Exp", "Log", "Sqrt", "DivNodes", "Pow", "Max", "Min", "Abs", "Neg"], 1.5);
}

#[test]
fn token_embeddings_slices_gathers_and_expand() {
    let (vocab, t, d) = (5usize, 4usize, 6usize);
    let m = OnnxBuilder::new(13)
        .input_i64("ids", &[Fixed(1), Fixed(t as i64)])
        .init("table", &[vocab as i64, d as i64], values(231, vocab * d, 1.0))
        .init("pos", &[t as i64, d as i64], values(232, t * d, 0.5))
        .init_i64("first_last", &[2], vec![0, -1])
        .init_i64("starts", &[1], vec![1])
        .init_i64("ends", &[1], vec![5])
        .init_i64("axes", &[1], vec![2])
        .init_i64("split", &[2], vec![3, 3])
        .init_i64("wide", &[3], vec![1, 4, 4])
        .node("Gather", &["table", "ids"], &["emb"], vec![attr_i("axis", 0)])
        .node("Add", &["emb", "pos"], &["h"], vec![])
        .node("Gather", &["h", "first_last"], &["ends_rows"], vec![attr_i("axis", 1)])
        .node("Slice", &["h", "starts", "ends", "axes"], &["mid"], vec![])
        .node("Split", &["h", "split"], &["left", "right"], vec![attr_i("axis", 2)])
        .node("Mul", &["left", "right"], &["lr"], vec![])
        .node("ReduceMax", &["lr"], &["top"], vec![attr_ints("axes", &[2]), attr_i("keepdims", 1)])
        .node("Expand", &["top", "wide"], &["topw"], vec![])
        .node("Concat", &["mid", "topw"], &["z"], vec![attr_i("axis", 2)])
        .node("Flatten", &["z"], &["zf"], vec![])
        .node("Flatten", &["ends_rows"], &["ef"], vec![])
        .node("Concat", &["zf", "ef"], &["y"], vec![attr_i("axis", 1)])
        .output("y")
        .build();
    let ids = |seed: u64| -> Vec<f32> {
        values(seed, t, 1.0).iter().map(|v| ((v + 1.0) * vocab as f32 / 2.0).floor().min(vocab as f32 - 1.0)).collect()
    };
    let calibration: Vec<Vec<f32>> = (0..32).map(|i| ids(300 + i)).collect();
    let q = quantized_on("embedding", m, &[1, t], &calibration);
    let ops: Vec<&str> = q.nodes.iter().map(|n| n.op_name.as_str()).collect();
    for op in ["Embedding", "Gather", "Slice", "ReduceMax", "Expand"] {
        assert!(ops.contains(&op), "no {op} in {ops:?}");
    }
    for range in [RangeChecks::Lookup, RangeChecks::Bits] {
        check_samples(&format!("embedding ({range:?})"), &q, &["Embedding", "Mul", "ReduceMax"], range, &ids);
    }
}
