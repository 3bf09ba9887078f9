//! Real SHPLONK proofs of digits model inferences with the development SRS: they verify natively, and a
//! tampered proof or instance does not.

use std::path::PathBuf;

use halo2_base::halo2_proofs::{
    halo2curves::bn256::{Bn256, Fr},
    poly::kzg::commitment::ParamsKZG,
};
use zkml_circuit::fe_from_i64;
use zkml_model::{
    CalibrationOptions, CompiledModel,
    data::DataSet,
    exec::execute,
    quantize::{QuantizedModel, quantize_value},
};
use zkml_prover::{
    prove::{CircuitShape, InferenceProof, ModelKeys, keygen, prove, verify},
    srs::generate_unsafe_dev_srs,
};

const MLP_SHAPE: CircuitShape = CircuitShape { k: 14, lookup_bits: 13 };
const CNN_SHAPE: CircuitShape = CircuitShape { k: 16, lookup_bits: 15 };

/// A digits model compiled from `examples/digits`, the dev SRS, its keys and the test data.
fn setup(
    file: &str,
    input_shape: Option<Vec<Vec<usize>>>,
    shape: CircuitShape,
) -> (CompiledModel, ParamsKZG<Bn256>, ModelKeys, DataSet) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits");
    let compiled = CompiledModel::compile(
        &dir.join(file),
        input_shape.as_deref(),
        &dir.join("calibration.json"),
        CalibrationOptions::default(),
    )
    .expect("the digits model compiles");
    let params = generate_unsafe_dev_srs(shape.k);
    let keys = keygen(&params, &compiled.quantized, shape).expect("keygen succeeds");
    let data = DataSet::load(&dir.join("test.json"), 64).expect("the test data loads");
    (compiled, params, keys, data)
}

fn quantize(model: &QuantizedModel, sample: &[f32]) -> Vec<i64> {
    sample.iter().map(|v| quantize_value(*v as f64, model.scales.activation)).collect()
}

/// The reference executor's outputs as field elements.
fn reference_outputs(model: &QuantizedModel, sample: &[f32]) -> Vec<Fr> {
    let values = execute(model, sample).expect("the sample is in range");
    values[model.outputs[0]].data.iter().map(|v| fe_from_i64(*v)).collect()
}

#[test]
fn digits_mlp_proofs_verify_and_tampering_is_rejected() {
    let (compiled, params, keys, data) = setup("mlp.onnx", None, MLP_SHAPE);
    let model = &compiled.quantized;
    let first = prove(&params, &keys, model, &quantize(model, &data.inputs[0])).unwrap();
    eprintln!("digits MLP: k = {}, proof = {} bytes", MLP_SHAPE.k, first.proof.len());
    assert!(verify(&params, keys.vk(), &first), "an honest proof verifies");

    // The public outputs are the reference executor's outputs.
    assert_eq!(&first.instances[64..], reference_outputs(model, &data.inputs[0]).as_slice());

    let mut flipped = first.clone();
    let middle = flipped.proof.len() / 2;
    flipped.proof[middle] ^= 1;
    assert!(!verify(&params, keys.vk(), &flipped), "a proof with a flipped byte verified");

    let mut forged = first.clone();
    *forged.instances.last_mut().unwrap() += Fr::one();
    assert!(!verify(&params, keys.vk(), &forged), "a forged output instance verified");

    // Another sample: its own proof verifies; its instances do not go with the first proof.
    let second = prove(&params, &keys, model, &quantize(model, &data.inputs[1])).unwrap();
    assert!(verify(&params, keys.vk(), &second));
    assert_ne!(second.instances, first.instances);
    let swapped = InferenceProof { proof: first.proof, instances: second.instances };
    assert!(!verify(&params, keys.vk(), &swapped), "a proof verified for another inference's instances");
}

#[test]
fn inputs_outside_the_calibrated_range_cannot_be_proved() {
    let (compiled, params, keys, _) = setup("mlp.onnx", None, MLP_SHAPE);
    let model = &compiled.quantized;
    // 40.0 is far outside the pixels' calibrated [0, 1] (bound 2^13 at scale 2^12): the bound check on the
    // input cell cannot be satisfied, so halo2 refuses to produce a proof.
    let mut input = vec![0i64; 64];
    input[5] = quantize_value(40.0, model.scales.activation);
    let proved = prove(&params, &keys, model, &input);
    assert!(proved.is_err() || !verify(&params, keys.vk(), &proved.unwrap()), "an out-of-range input was proved");
}

#[test]
fn digits_cnn_proof_verifies_and_a_forged_output_does_not() {
    let (compiled, params, keys, data) = setup("cnn.onnx", Some(vec![vec![1, 1, 8, 8]]), CNN_SHAPE);
    let model = &compiled.quantized;
    let proof = prove(&params, &keys, model, &quantize(model, &data.inputs[0])).unwrap();
    eprintln!("digits CNN: k = {}, proof = {} bytes", CNN_SHAPE.k, proof.proof.len());
    assert!(verify(&params, keys.vk(), &proof));
    assert_eq!(&proof.instances[64..], reference_outputs(model, &data.inputs[0]).as_slice());

    let mut forged = proof;
    forged.instances[64] += Fr::one();
    assert!(!verify(&params, keys.vk(), &forged), "a forged CNN output verified");
}
