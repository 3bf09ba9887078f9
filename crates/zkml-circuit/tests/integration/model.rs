//! The digits models laid out as circuits (MockProver): outputs equal the integer reference executor's,
//! the public instances are the documented packing and bind inputs and outputs, every privacy mode works,
//! and tampering is rejected.

use std::path::PathBuf;

use halo2_base::{
    gates::circuit::{BaseCircuitParams, CircuitBuilderStage},
    halo2_proofs::{dev::MockProver, halo2curves::bn256::Fr},
};
use zkml_circuit::{
    InputVisibility, ModelCircuit, ModelCircuitParams, OutputVisibility, PublicLayout, Visibility, WeightVisibility,
    circuit::native_instances,
    public::SectionKind,
    sizing::{MAX_EVM_WITNESS_COLUMNS, MIN_K, RangeChecks, auto_size, size_with},
};
use zkml_model::{
    CalibrationOptions, CompiledModel,
    commit::model_commitment,
    data::DataSet,
    exec::execute,
    quantize::{QOp, QuantizedModel},
};

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

fn samples() -> Vec<Vec<f32>> {
    DataSet::load(&examples().join("test.json"), 64).expect("the test data loads").inputs
}

fn mock(model: &QuantizedModel, layout: &PublicLayout, input: &[i64], k: usize) -> ModelCircuit {
    let params = ModelCircuitParams {
        base: BaseCircuitParams { k, lookup_bits: Some(k - 1), num_instance_columns: 1, ..Default::default() },
        table_columns: 0,
        dot_columns: 0,
    };
    ModelCircuit::new(CircuitBuilderStage::Mock, model, layout, params, None, input).expect("the model has a circuit")
}

fn accepts(circuit: &ModelCircuit, instances: Vec<Fr>) -> bool {
    let k = circuit.circuit_params().base.k as u32;
    MockProver::run(k, circuit, vec![instances]).expect("the circuit synthesizes").verify().is_ok()
}

/// The executor's input and output values for a sample.
fn reference(model: &QuantizedModel, sample: &[f32]) -> (Vec<i64>, Vec<i64>) {
    let values = execute(model, sample).expect("the sample is in range");
    let inputs = model.inputs.iter().flat_map(|&i| values[i].data.clone()).collect();
    let outputs = model.outputs.iter().flat_map(|&o| values[o].data.clone()).collect();
    (inputs, outputs)
}

#[test]
fn digits_mlp_circuit_matches_the_executor_and_binds_its_outputs() {
    let model = compile("mlp.onnx", None).quantized;
    let layout = PublicLayout::new(&model, Visibility::default());
    // 64 inputs and 10 outputs pack into far fewer field elements than one per value.
    assert!(layout.num_instances <= 8, "{} public elements", layout.num_instances);
    for sample in samples().iter().take(3) {
        let (inputs, outputs) = reference(&model, sample);
        let circuit = mock(&model, &layout, &inputs, 14);
        let instances = circuit.instances().to_vec();
        assert_eq!(instances, native_instances(&model, &layout, &inputs, &outputs), "the documented packing");
        assert_eq!(layout.decode(SectionKind::Outputs, &instances), Some(outputs), "decoded outputs");
        assert_eq!(layout.decode(SectionKind::Inputs, &instances), Some(inputs), "decoded inputs");
        assert!(accepts(&circuit, instances.clone()));

        let mut forged = instances.clone();
        *forged.last_mut().expect("outputs are public") += Fr::one();
        assert!(!accepts(&circuit, forged), "a forged public output was accepted");
        let mut other_input = instances;
        other_input[0] += Fr::one();
        assert!(!accepts(&circuit, other_input), "the same outputs were accepted for another input");
    }
}

#[test]
fn tampered_hidden_cells_are_rejected() {
    let model = compile("mlp.onnx", None).quantized;
    let layout = PublicLayout::new(&model, Visibility::default());
    let sample = &samples()[0];
    let (inputs, _) = reference(&model, sample);
    let honest = mock(&model, &layout, &inputs, 14);
    let instances = honest.instances().to_vec();
    let total = { mock(&model, &layout, &inputs, 14).main_cells() };
    for node in 1..model.nodes.len() {
        let mut circuit = mock(&model, &layout, &inputs, 14);
        let cell = circuit.node_cells(node)[0];
        circuit.tamper(&cell, *cell.value() + Fr::one());
        assert!(!accepts(&circuit, instances.clone()), "node {} output tampered, accepted", model.nodes[node].name);
    }
    for offset in [1, total / 3, total / 2, total - 2] {
        let mut circuit = mock(&model, &layout, &inputs, 14);
        circuit.tamper_at(offset, Fr::from(12345));
        assert!(!accepts(&circuit, instances.clone()), "advice cell {offset} of {total} tampered, accepted");
    }
}

#[test]
fn digits_cnn_circuit_matches_the_executor() {
    let model = compile("cnn.onnx", Some(vec![vec![1, 1, 8, 8]])).quantized;
    let layout = PublicLayout::new(&model, Visibility::default());
    let sample = &samples()[1];
    let (inputs, outputs) = reference(&model, sample);
    let circuit = mock(&model, &layout, &inputs, 16);
    let instances = circuit.instances().to_vec();
    assert_eq!(layout.decode(SectionKind::Outputs, &instances), Some(outputs), "conv and pooling match");
    assert!(accepts(&circuit, instances.clone()));
    let mut forged = instances;
    *forged.last_mut().expect("outputs are public") += Fr::one();
    assert!(!accepts(&circuit, forged));
}

#[test]
fn every_privacy_mode_proves_and_binds_what_it_exposes() {
    let model = compile("mlp.onnx", None).quantized;
    let sample = &samples()[2];
    let (inputs, outputs) = reference(&model, sample);
    let commitment = model_commitment(&model);
    for input in [InputVisibility::Public, InputVisibility::Hashed, InputVisibility::Private] {
        for weights in [WeightVisibility::Fixed, WeightVisibility::Committed] {
            for output in [OutputVisibility::Public, OutputVisibility::Hashed] {
                let visibility = Visibility { input, weights, output };
                let layout = PublicLayout::new(&model, visibility);
                let k = if weights == WeightVisibility::Committed { 16 } else { 14 };
                let circuit = mock(&model, &layout, &inputs, k);
                let instances = circuit.instances().to_vec();
                assert_eq!(instances.len(), layout.num_instances, "{visibility:?}");
                assert_eq!(instances, native_instances(&model, &layout, &inputs, &outputs), "{visibility:?}");
                assert!(accepts(&circuit, instances.clone()), "{visibility:?}");
                if let Some(section) = layout.section(SectionKind::ModelCommitment) {
                    assert_eq!(instances[section.offset], commitment, "the registry's commitment is public");
                }
                for i in [0, instances.len() - 1] {
                    let mut forged = instances.clone();
                    forged[i] += Fr::one();
                    assert!(!accepts(&circuit, forged), "{visibility:?}: public element {i} forged, accepted");
                }
            }
        }
    }
}

#[test]
fn committed_weights_bind_the_model() {
    let model = compile("mlp.onnx", None).quantized;
    let visibility = Visibility { weights: WeightVisibility::Committed, ..Default::default() };
    let layout = PublicLayout::new(&model, visibility);
    let sample = &samples()[3];
    let (inputs, _) = reference(&model, sample);
    let honest = mock(&model, &layout, &inputs, 16).instances().to_vec();

    // Another model with one weight changed: the same circuit shape, but it cannot claim the original
    // commitment.
    let mut other = model.clone();
    if let QOp::MatMul { weight, .. } = &mut other.nodes[1].op {
        weight.data[0] += 1;
    }
    assert_ne!(model_commitment(&other), model_commitment(&model));
    let circuit = mock(&other, &layout, &inputs, 16);
    let mut claim = circuit.instances().to_vec();
    claim[0] = honest[0];
    assert!(!accepts(&circuit, claim), "another model's proof claimed the registered commitment");
}

#[test]
fn auto_sizing_picks_the_cheapest_layout_for_the_mlp() {
    let model = compile("mlp.onnx", None).quantized;
    let layout = PublicLayout::new(&model, Visibility::default());

    // Bit range checks: one column, no lookup argument.
    let bits = auto_size(&model, &layout, Some(RangeChecks::Bits)).expect("the MLP fits");
    assert_eq!(bits.witness_columns(), 1, "{bits:?}");
    assert_eq!(bits.params.dot_columns, 0, "{bits:?}");

    // Lookups: no layout at another k, with or without the dot-product columns, is cheaper.
    let lookup = auto_size(&model, &layout, Some(RangeChecks::Lookup)).expect("the MLP fits");
    eprintln!("digits MLP sized: {lookup:?}");
    assert_eq!(lookup.range_checks(), RangeChecks::Lookup);
    for k in lookup.k.saturating_sub(2).max(MIN_K)..=lookup.k + 3 {
        for dots in [false, true] {
            let other = size_with(&model, &layout, k, RangeChecks::Lookup.lookup_bits(k), dots);
            if let Ok(other) = other
                && other.witness_columns() <= MAX_EVM_WITNESS_COLUMNS
            {
                assert!(other.cost() >= lookup.cost(), "{other:?} is cheaper than {lookup:?}");
                assert_eq!(other.params.dot_columns > 0, dots, "{other:?}");
            }
        }
    }

    // Unasked, the MLP keeps bits: its single column costs little more than the lookup layout.
    let auto = auto_size(&model, &layout, None).expect("the MLP fits");
    assert_eq!(auto.range_checks(), RangeChecks::Bits, "{auto:?}");
    assert_eq!(auto.k, bits.k);
}
