//! The digits MLP laid out as a circuit: outputs equal the integer reference executor's, the public
//! instances bind inputs and outputs, and tampering is rejected (MockProver).

use std::path::PathBuf;

use halo2_base::{
    gates::circuit::builder::BaseCircuitBuilder,
    halo2_proofs::{dev::MockProver, halo2curves::bn256::Fr, plonk::Assigned},
};
use zkml_circuit::{assign_model, fe_from_i64, model::Error};
use zkml_model::{
    CalibrationOptions, CompiledModel,
    data::DataSet,
    exec::execute,
    quantize::{QOp, QuantizedModel, quantize_value},
};

const K: usize = 14;
const LOOKUP_BITS: usize = 13;
const CNN_K: usize = 16;
const CNN_LOOKUP_BITS: usize = 15;

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits")
}

fn compile(file: &str, shape: Option<Vec<Vec<usize>>>) -> CompiledModel {
    let dir = examples();
    CompiledModel::compile(
        &dir.join(file),
        shape.as_deref(),
        &dir.join("calibration.json"),
        CalibrationOptions::default(),
    )
    .expect("the digits model compiles")
}

/// Builds the circuit for one sample; returns the builder, the public instances and the output values.
fn build(model: &QuantizedModel, sample: &[f32]) -> (BaseCircuitBuilder<Fr>, Vec<Fr>, Vec<Fr>) {
    build_at(model, sample, K, LOOKUP_BITS)
}

fn build_at(
    model: &QuantizedModel,
    sample: &[f32],
    k: usize,
    lookup_bits: usize,
) -> (BaseCircuitBuilder<Fr>, Vec<Fr>, Vec<Fr>) {
    let input: Vec<i64> = sample.iter().map(|v| quantize_value(*v as f64, model.scales.activation)).collect();
    let mut builder =
        BaseCircuitBuilder::<Fr>::new(false).use_k(k).use_lookup_bits(lookup_bits).use_instance_columns(1);
    let range = builder.range_chip();
    let cells = assign_model(builder.main(0), &range, model, &input).expect("the model has a circuit");
    let public: Vec<_> = cells.inputs.iter().chain(&cells.outputs).copied().collect();
    let instances = public.iter().map(|c| *c.value()).collect();
    let outputs = cells.outputs.iter().map(|c| *c.value()).collect();
    builder.assigned_instances = vec![public];
    builder.calculate_params(Some(9));
    (builder, instances, outputs)
}

#[test]
fn digits_mlp_circuit_matches_the_executor_and_binds_its_outputs() {
    let compiled = compile("mlp.onnx", None);
    let q = &compiled.quantized;
    let data = DataSet::load(&examples().join("test.json"), 64).unwrap();
    for sample in data.inputs.iter().take(3) {
        let (builder, instances, outputs) = build(q, sample);
        let reference = execute(q, sample).unwrap();
        let expected: Vec<Fr> = reference[q.outputs[0]].data.iter().map(|v| fe_from_i64(*v)).collect();
        assert_eq!(outputs, expected, "the circuit computes the reference executor's outputs");

        MockProver::run(K as u32, &builder, vec![instances.clone()]).unwrap().assert_satisfied();

        let mut forged = instances.clone();
        *forged.last_mut().unwrap() += Fr::one();
        assert!(
            MockProver::run(K as u32, &builder, vec![forged]).unwrap().verify().is_err(),
            "a forged public output was accepted"
        );
        let mut other_input = instances;
        other_input[10] += Fr::one();
        assert!(
            MockProver::run(K as u32, &builder, vec![other_input]).unwrap().verify().is_err(),
            "the same outputs were accepted for another input"
        );
    }
}

#[test]
fn a_tampered_hidden_cell_is_rejected() {
    let compiled = compile("mlp.onnx", None);
    let data = DataSet::load(&examples().join("test.json"), 64).unwrap();
    let (mut builder, instances, _) = build(&compiled.quantized, &data.inputs[0]);
    let ctx = builder.main(0);
    let middle = ctx.advice.len() / 2;
    let value = ctx.advice[middle].evaluate();
    ctx.advice[middle] = Assigned::Trivial(value + Fr::one());
    assert!(
        MockProver::run(K as u32, &builder, vec![instances]).unwrap().verify().is_err(),
        "a tampered intermediate value was accepted"
    );
}

#[test]
fn digits_cnn_circuit_matches_the_executor() {
    let compiled = compile("cnn.onnx", Some(vec![vec![1, 1, 8, 8]]));
    let q = &compiled.quantized;
    let data = DataSet::load(&examples().join("test.json"), 64).unwrap();
    for sample in data.inputs.iter().take(2) {
        let (builder, instances, outputs) = build_at(q, sample, CNN_K, CNN_LOOKUP_BITS);
        let reference = execute(q, sample).unwrap();
        let expected: Vec<Fr> = reference[q.outputs[0]].data.iter().map(|v| fe_from_i64(*v)).collect();
        assert_eq!(outputs, expected, "conv, max pool and average pool compute the executor's values");
        MockProver::run(CNN_K as u32, &builder, vec![instances.clone()]).unwrap().assert_satisfied();
        let mut forged = instances;
        forged[70] += Fr::one();
        assert!(MockProver::run(CNN_K as u32, &builder, vec![forged]).unwrap().verify().is_err());
    }
}

#[test]
fn ops_without_a_circuit_yet_are_named() {
    let mut model = compile("mlp.onnx", None).quantized;
    model.nodes[2].op = QOp::Sigmoid;
    model.nodes[2].op_name = "Sigmoid".into();
    let mut builder = BaseCircuitBuilder::<Fr>::new(false).use_k(K).use_lookup_bits(LOOKUP_BITS);
    let range = builder.range_chip();
    let err = assign_model(builder.main(0), &range, &model, &[0; 64]).unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("'/relu/Relu.low' (Sigmoid)"), "{err}");
}
