//! One small ONNX graph per chip, laid out as a circuit (MockProver): the circuit's outputs equal the
//! integer reference executor's, and tampering with the chip's output cell, or with the witness cell laid
//! out just before it, is rejected.

use std::path::Path;

use crate::support::{Dim::Fixed, OnnxBuilder, attr_f, attr_i, attr_ints, values};
use halo2_base::{
    gates::circuit::{BaseCircuitParams, CircuitBuilderStage},
    halo2_proofs::{dev::MockProver, halo2curves::bn256::Fr},
};
use tract_onnx::pb::ModelProto;
use zkml_circuit::{
    ModelCircuit, ModelCircuitParams, PublicLayout, Visibility, WeightVisibility,
    model::Error,
    public::SectionKind,
    sizing::{MIN_K, RangeChecks, auto_size, size_at},
};
use zkml_model::{
    CalibrationOptions, commit::model_commitment, exec::execute, import_proto, quantize::QuantizedModel,
    quantize::calibrate_and_quantize, quantize::quantize_value,
};

/// A small scale keeps the lookup tables small: T = ceil(10 · ln 2 · 2^8) = 1775 entries a side.
const S: u8 = 8;

pub(crate) fn quantized(name: &str, proto: ModelProto, shape: &[usize], input_scale: f32) -> QuantizedModel {
    let len: usize = shape.iter().product();
    let calibration: Vec<Vec<f32>> = (0..32).map(|i| values(100 + i, len, input_scale)).collect();
    quantized_on(name, proto, shape, &calibration)
}

/// Quantizes on the given calibration samples.
pub(crate) fn quantized_on(name: &str, proto: ModelProto, shape: &[usize], calibration: &[Vec<f32>]) -> QuantizedModel {
    let imported = import_proto(&proto, Path::new(name), Some(&[shape.to_vec()])).expect("the graph imports");
    let options = CalibrationOptions { scale: Some(S), param_scale: Some(S), margin: None };
    calibrate_and_quantize(&imported, calibration, options).expect("the graph quantizes")
}

fn mock(model: &QuantizedModel, layout: &PublicLayout, input: &[i64], k: u32, range: RangeChecks) -> ModelCircuit {
    let params = ModelCircuitParams {
        base: BaseCircuitParams {
            k: k as usize,
            lookup_bits: range.lookup_bits(k),
            num_instance_columns: 1,
            ..Default::default()
        },
        table_columns: 0,
        // Asked for wherever they can be laid out, so that the dot-product gate is tested.
        dot_columns: zkml_circuit::dot::MAX_DOT_COLUMNS,
    };
    ModelCircuit::new(CircuitBuilderStage::Mock, model, layout, params, None, input).expect("the model has a circuit")
}

fn accepts(circuit: &ModelCircuit, instances: &[Fr]) -> bool {
    let k = circuit.circuit_params().base.k as u32;
    MockProver::run(k, circuit, vec![instances.to_vec()]).expect("the circuit synthesizes").verify().is_ok()
}

/// Checks every chip of `model` with both kinds of range checks.
pub(crate) fn check(name: &str, model: &QuantizedModel, chips: &[&str], input_scale: f32) {
    let ops: Vec<&str> = model.nodes.iter().map(|n| n.op_name.as_str()).collect();
    for chip in chips {
        assert!(ops.contains(chip), "{name}: no {chip} in {ops:?}");
    }
    for range in [RangeChecks::Lookup, RangeChecks::Bits] {
        check_with(&format!("{name} ({range:?} range checks)"), model, chips, input_scale, range);
    }
}

/// Proves three inferences; tampers with the output of every node whose op is in `chips`, and with the
/// witness cell before it.
pub(crate) fn check_with(name: &str, model: &QuantizedModel, chips: &[&str], input_scale: f32, range: RangeChecks) {
    let len = model.input_len();
    check_samples(name, model, chips, range, &|seed| values(seed, len, input_scale * 0.95));
}

/// The quantized circuit input of a sample: ids as they are, other values at the activation scale.
pub(crate) fn circuit_input(model: &QuantizedModel, sample: &[f32]) -> Vec<i64> {
    let mut scales = vec![];
    for &i in &model.inputs {
        let len: usize = model.nodes[i].shape.iter().product();
        scales.extend(std::iter::repeat_n(model.nodes[i].scale, len));
    }
    sample.iter().zip(scales).map(|(v, s)| quantize_value(*v as f64, s)).collect()
}

/// [`check_with`] on samples `sample(seed)`.
pub(crate) fn check_samples(
    name: &str,
    model: &QuantizedModel,
    chips: &[&str],
    range: RangeChecks,
    sample: &dyn Fn(u64) -> Vec<f32>,
) {
    let layout = PublicLayout::new(model, Visibility::default());
    let k = auto_size(model, &layout, Some(range)).expect("the model fits").k;
    for i in 0..3 {
        let sample = sample(7_000 + i);
        let reference = execute(model, &sample).unwrap_or_else(|e| panic!("{name}: {e}"));
        let outputs: Vec<i64> = model.outputs.iter().flat_map(|&o| reference[o].data.clone()).collect();
        let input = circuit_input(model, &sample);
        let circuit = mock(model, &layout, &input, k, range);
        let instances = circuit.instances().to_vec();
        for (n, node) in model.nodes.iter().enumerate() {
            let cells: Vec<i64> = circuit.node_cells(n).iter().map(|c| zkml_circuit::fe_to_i64(c.value())).collect();
            assert_eq!(cells, reference[n].data, "{name}: node {} ({})", node.name, node.op_name);
        }
        assert_eq!(layout.decode(SectionKind::Outputs, &instances), Some(outputs), "{name}: outputs");
        assert!(accepts(&circuit, &instances), "{name}: the honest witness is rejected");
    }

    let input = circuit_input(model, &sample(7_100));
    let instances = mock(model, &layout, &input, k, range).instances().to_vec();
    for (n, node) in model.nodes.iter().enumerate().filter(|(_, n)| chips.contains(&n.op_name.as_str())) {
        let mut circuit = mock(model, &layout, &input, k, range);
        let cell = circuit.node_cells(n)[0];
        circuit.tamper(&cell, *cell.value() + Fr::one());
        assert!(!accepts(&circuit, &instances), "{name}: tampered output of {} accepted", node.op_name);

        let mut circuit = mock(model, &layout, &input, k, range);
        let offset = cell.cell.expect("laid out").offset - 1;
        circuit.tamper_at(offset, Fr::from(7));
        assert!(!accepts(&circuit, &instances), "{name}: tampered witness inside {} accepted", node.op_name);
    }
    check_dot_products(name, model, &layout, &input, &instances, k, range);
}

/// Constant-weight dot products have their own columns in lookup layouts: a wrong running sum, and an
/// input that is not the copy of its cell, are rejected (the first, middle and last products).
fn check_dot_products(
    name: &str,
    model: &QuantizedModel,
    layout: &PublicLayout,
    input: &[i64],
    instances: &[Fr],
    k: u32,
    range: RangeChecks,
) {
    let products = mock(model, layout, input, k, range).dot_products();
    let dense = model.nodes.iter().any(|n| ["Conv", "MatMul", "ConvTranspose"].contains(&n.op_name.as_str()));
    if range == RangeChecks::Bits || !dense {
        assert_eq!(products, 0, "{name}: dot-product columns only in lookup layouts with constant weights");
        return;
    }
    assert!(products > 0, "{name}: constant-weight dot products laid out in the main gate");
    for product in [0, products / 2, products - 1] {
        let mut circuit = mock(model, layout, input, k, range);
        circuit.tamper_dot_accumulator(product, Fr::one());
        assert!(!accepts(&circuit, instances), "{name}: wrong running sum of dot product {product} accepted");

        let mut circuit = mock(model, layout, input, k, range);
        circuit.tamper_dot_input(product, 0, Fr::from(3));
        assert!(!accepts(&circuit, instances), "{name}: dot product {product} on a wrong input copy accepted");
    }
}

fn x2(n: i64) -> OnnxBuilder {
    OnnxBuilder::new(13).input("x", &[Fixed(1), Fixed(n)])
}

#[test]
fn sigmoid_and_tanh_by_lookup_inside_the_table_domain() {
    let m = x2(12)
        .init("three", &[1], vec![3.0])
        .node("Mul", &["x", "three"], &["a"], vec![])
        .node("Sigmoid", &["a"], &["b"], vec![])
        .node("Tanh", &["a"], &["c"], vec![])
        .node("Add", &["b", "c"], &["y"], vec![])
        .output("y")
        .build();
    check("sigmoid/tanh", &quantized("sigmoid", m, &[1, 12], 1.0), &["Mul", "Sigmoid", "Tanh", "Add"], 1.0);
}

#[test]
fn a_k_too_small_for_the_function_table_is_refused_by_name() {
    let m = x2(12).node("Sigmoid", &["x"], &["y"], vec![]).output("y").build();
    let model = quantized("sigmoid table", m, &[1, 12], 1.0);
    let layout = PublicLayout::new(&model, Visibility::default());
    let fits = auto_size(&model, &layout, Some(RangeChecks::Lookup)).expect("the model fits");
    let at = |k: u32| size_at(&model, &layout, k, RangeChecks::Lookup.lookup_bits(k));
    at(fits.k).expect("automatic sizing picks a k that holds the table");
    // The smallest k that holds the table, found by laying the model out at each k below the automatic one.
    let min_k = (MIN_K..=fits.k).find(|&k| at(k).is_ok()).expect("the automatic k holds it");
    assert!(min_k > MIN_K, "the table is longer than 2^{MIN_K} rows");
    let refused = at(min_k - 1).expect_err("a table longer than the column is refused");
    let Error::TableTooLarge { rows, k, min_k: needed, .. } = refused else { panic!("{refused:?}") };
    assert_eq!((rows, k, needed), (fits.table_rows, min_k - 1, min_k));
    assert!(refused.to_string().contains(&format!("use k = {min_k} or more")), "{refused}");
}

#[test]
fn sigmoid_and_tanh_clamp_inputs_beyond_the_table() {
    // Inputs reach ±8 with bounds of ±16, past T = 6.9 at this scale: the circuit clamps like the executor.
    let m = x2(12)
        .node("Sigmoid", &["x"], &["b"], vec![])
        .node("Tanh", &["x"], &["c"], vec![])
        .node("Sub", &["b", "c"], &["y"], vec![])
        .output("y")
        .build();
    check("sigmoid/tanh clamped", &quantized("clamped", m, &[1, 12], 8.0), &["Sigmoid", "Tanh", "Sub"], 8.0);
}

#[test]
fn leaky_relu_clip_and_constant_offsets() {
    let m = x2(12)
        .init("shift", &[12], values(3, 12, 0.5))
        .node("Sub", &["x", "shift"], &["a"], vec![])
        .node("LeakyRelu", &["a"], &["b"], vec![attr_f("alpha", 0.1)])
        .node("Clip", &["b"], &["y"], vec![])
        .output("y")
        .build();
    let mut m = m;
    // Clip with min and max inputs (opset 13 takes them as inputs).
    let graph = m.graph.as_mut().expect("a graph");
    graph.node.last_mut().expect("clip").input.extend(["lo".to_string(), "hi".to_string()]);
    let m = ModelProto { graph: Some(graph.clone()), ..m };
    let m = add_scalar_init(add_scalar_init(m, "lo", -0.5), "hi", 0.4);
    check("leakyrelu/clip", &quantized("leaky", m, &[1, 12], 1.0), &["Sub", "LeakyRelu", "Clip"], 1.0);
}

fn add_scalar_init(mut m: ModelProto, name: &str, v: f32) -> ModelProto {
    let b = OnnxBuilder::new(13).init(name, &[], vec![v]).build();
    let t = b.graph.expect("a graph").initializer.remove(0);
    m.graph.as_mut().expect("a graph").initializer.push(t);
    m
}

#[test]
fn products_of_two_activations_and_broadcast_constants() {
    let m = x2(8)
        .init("scale", &[1, 8], values(4, 8, 1.0))
        .init("bias", &[1], vec![0.25])
        .node("Relu", &["x"], &["r"], vec![])
        .node("Mul", &["x", "scale"], &["a"], vec![])
        .node("Mul", &["r", "a"], &["p"], vec![])
        .node("Add", &["p", "bias"], &["y"], vec![])
        .output("y")
        .build();
    check("mul/add", &quantized("mul", m, &[1, 8], 1.0), &["Relu", "Mul", "Add"], 1.0);
}

#[test]
fn global_average_pool_sums_then_divides() {
    let m = OnnxBuilder::new(13)
        .input("x", &[Fixed(1), Fixed(2), Fixed(3), Fixed(3)])
        .node("GlobalAveragePool", &["x"], &["y"], vec![])
        .output("y")
        .build();
    check("gap", &quantized("gap", m, &[1, 2, 3, 3], 1.0), &["ReduceSum", "Div"], 1.0);
}

#[test]
fn reduce_mean_over_300_values_divides_exactly() {
    // Values up to ±60: the sum needs 24 bits at this scale, the rounding division's remainder 10.
    let m = x2(300)
        .node("ReduceMean", &["x"], &["y"], vec![attr_ints("axes", &[1]), attr_i("keepdims", 1)])
        .output("y")
        .build();
    check("mean", &quantized("mean", m, &[1, 300], 60.0), &["ReduceSum", "Div"], 60.0);

    // And a division by a constant on its own, with negative values (rounding half up on both sides).
    let m = x2(8).init("d", &[1], vec![3.0]).node("Div", &["x", "d"], &["y"], vec![]).output("y").build();
    check("div", &quantized("div", m, &[1, 8], 2.0), &["Div"], 2.0);
}

#[test]
fn concat_of_two_activations() {
    let m = x2(6)
        .node("Relu", &["x"], &["p"], vec![])
        .node("Sigmoid", &["x"], &["s"], vec![])
        .node("Concat", &["s", "p"], &["y"], vec![attr_i("axis", 1)])
        .output("y")
        .build();
    check("concat", &quantized("concat", m, &[1, 6], 1.0), &["Concat"], 1.0);
}

#[test]
fn softmax_and_argmax_heads() {
    let m = x2(10)
        .init("w", &[10, 10], values(10, 100, 1.0))
        .node("MatMul", &["x", "w"], &["l"], vec![])
        .node("Softmax", &["l"], &["y"], vec![attr_i("axis", 1)])
        .output("y")
        .build();
    check("softmax", &quantized("softmax", m, &[1, 10], 1.0), &["Softmax"], 1.0);

    let m = x2(10)
        .init("w", &[10, 10], values(10, 100, 1.0))
        .node("MatMul", &["x", "w"], &["l"], vec![])
        .node("ArgMax", &["l"], &["y"], vec![attr_i("axis", 1), attr_i("keepdims", 0)])
        .output("y")
        .build();
    check("argmax", &quantized("argmax", m, &[1, 10], 1.0), &["ArgMax"], 1.0);
}

#[test]
fn max_and_average_pooling_windows() {
    let m = OnnxBuilder::new(13)
        .input("x", &[Fixed(1), Fixed(1), Fixed(5), Fixed(5)])
        .node("MaxPool", &["x"], &["m"], vec![attr_ints("kernel_shape", &[2, 2]), attr_ints("strides", &[1, 1])])
        .node(
            "AveragePool",
            &["m"],
            &["y"],
            vec![attr_ints("kernel_shape", &[3, 3]), attr_ints("pads", &[1, 1, 1, 1]), attr_i("count_include_pad", 0)],
        )
        .output("y")
        .build();
    check("pools", &quantized("pools", m, &[1, 1, 5, 5], 1.0), &["MaxPool", "AvgPool"], 1.0);
}

#[test]
fn small_weights_with_their_own_scales() {
    // Weights within ±0.004, a kernel within ±0.003, a product with 0.0123 and LeakyRelu's 0.01: each gets
    // its own parameter scale (above 2^8 here), and the circuit rescales by it exactly as the executor.
    let m = OnnxBuilder::new(13)
        .input("x", &[Fixed(1), Fixed(2), Fixed(4), Fixed(4)])
        .init("k", &[2, 2, 3, 3], values(41, 36, 0.003))
        .init("kb", &[2], values(42, 2, 0.5))
        .node(
            "Conv",
            &["x", "k", "kb"],
            &["c"],
            vec![attr_ints("kernel_shape", &[3, 3]), attr_ints("pads", &[1, 1, 1, 1])],
        )
        .node("LeakyRelu", &["c"], &["l"], vec![attr_f("alpha", 0.01)])
        .node("Flatten", &["l"], &["f"], vec![])
        .init("w", &[32, 4], values(43, 128, 0.004))
        .init("wb", &[4], values(44, 4, 0.5))
        .node("Gemm", &["f", "w", "wb"], &["g"], vec![])
        .init("c2", &[1], vec![0.0123])
        .node("Mul", &["g", "c2"], &["y"], vec![])
        .output("y")
        .build();
    let model = quantized("small", m, &[1, 2, 4, 4], 60.0);
    let p = model.scales.param;
    let own: Vec<&str> = model.nodes.iter().filter(|n| n.op.param_scale(p) > p).map(|n| n.op_name.as_str()).collect();
    assert_eq!(own, ["Conv", "LeakyRelu", "MatMul", "Mul"], "every small tensor has its own scale");
    check("small weights", &model, &["Conv", "LeakyRelu", "MatMul", "Mul"], 60.0);

    // With committed weights the in-circuit commitment, which hashes the own scales, is the executor's.
    let layout = PublicLayout::new(&model, Visibility { weights: WeightVisibility::Committed, ..Default::default() });
    let k = auto_size(&model, &layout, Some(RangeChecks::Lookup)).expect("the model fits").k;
    let sample = values(7_200, model.input_len(), 60.0 * 0.95);
    let input: Vec<i64> = sample.iter().map(|v| quantize_value(*v as f64, model.scales.activation)).collect();
    let circuit = mock(&model, &layout, &input, k, RangeChecks::Lookup);
    let instances = circuit.instances().to_vec();
    let offset = layout.section(SectionKind::ModelCommitment).expect("committed weights are public").offset;
    assert_eq!(instances[offset], model_commitment(&model));
    assert!(accepts(&circuit, &instances), "the committed model is rejected");
}
