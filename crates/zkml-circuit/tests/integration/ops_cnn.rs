//! Modern-CNN operators as circuits (MockProver): grouped, depthwise and dilated convolutions, transposed
//! convolution, residual additions and global max pooling. Each proves three inferences equal to the integer
//! executor and rejects tampering.

use crate::{
    ops::{check, quantized},
    support::{Dim::Fixed, OnnxBuilder, attr_i, attr_ints, values},
};

fn image(c: i64, h: i64, w: i64) -> OnnxBuilder {
    OnnxBuilder::new(13).input("x", &[Fixed(1), Fixed(c), Fixed(h), Fixed(w)])
}

#[test]
fn grouped_depthwise_and_dilated_convolutions() {
    let m = image(4, 5, 5)
        .init("grouped", &[4, 2, 3, 3], values(301, 72, 0.5))
        .init("gb", &[4], values(302, 4, 0.2))
        .init("depthwise", &[4, 1, 3, 3], values(303, 36, 0.5))
        .node("Conv", &["x", "grouped", "gb"], &["a"], vec![attr_i("group", 2), attr_ints("pads", &[1, 1, 1, 1])])
        .node("Relu", &["a"], &["r"], vec![])
        .node(
            "Conv",
            &["r", "depthwise"],
            &["y"],
            vec![attr_i("group", 4), attr_ints("pads", &[2, 2, 2, 2]), attr_ints("dilations", &[2, 2])],
        )
        .output("y")
        .build();
    check("grouped/depthwise/dilated", &quantized("groups", m, &[1, 4, 5, 5], 1.0), &["Conv"], 1.0);
}

#[test]
fn transposed_convolution_with_stride_padding_and_output_padding() {
    let m = image(2, 3, 3)
        .init("k", &[2, 3, 3, 3], values(311, 54, 0.5))
        .init("b", &[3], values(312, 3, 0.2))
        .node(
            "ConvTranspose",
            &["x", "k", "b"],
            &["y"],
            vec![attr_ints("strides", &[2, 2]), attr_ints("pads", &[1, 1, 1, 1]), attr_ints("output_padding", &[1, 1])],
        )
        .output("y")
        .build();
    check("conv transpose", &quantized("deconv", m, &[1, 2, 3, 3], 1.0), &["ConvTranspose"], 1.0);
}

#[test]
fn residual_block_and_global_max_pool() {
    let m = image(2, 4, 4)
        .init("k1", &[2, 2, 3, 3], values(321, 36, 0.5))
        .init("k2", &[2, 2, 3, 3], values(322, 36, 0.5))
        .init("half", &[], vec![0.5])
        .node("Conv", &["x", "k1"], &["a"], vec![attr_ints("pads", &[1, 1, 1, 1])])
        .node("Relu", &["a"], &["r"], vec![])
        .node("Conv", &["r", "k2"], &["b"], vec![attr_ints("pads", &[1, 1, 1, 1])])
        .node("Mul", &["b", "half"], &["bh"], vec![])
        .node("Add", &["bh", "x"], &["res"], vec![])
        .node("GlobalMaxPool", &["res"], &["y"], vec![])
        .output("y")
        .build();
    check("residual + global max pool", &quantized("residual", m, &[1, 2, 4, 4], 1.0), &["Add", "ReduceMax"], 1.0);
}
