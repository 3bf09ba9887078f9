//! Real SHPLONK proofs of a digits MLP inference with the development SRS: they verify natively, and a
//! tampered proof or instance does not.

use std::path::PathBuf;

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use zkml_model::{CalibrationOptions, CompiledModel, data::DataSet, exec::execute, quantize::quantize_value};
use zkml_prover::{
    prove::{CircuitShape, keygen, prove, verify},
    srs::generate_unsafe_dev_srs,
};

#[test]
fn digits_mlp_proofs_verify_and_tampering_is_rejected() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits");
    let compiled = CompiledModel::compile(
        &dir.join("mlp.onnx"),
        None,
        &dir.join("calibration.json"),
        CalibrationOptions::default(),
    )
    .unwrap();
    let model = &compiled.quantized;
    let data = DataSet::load(&dir.join("test.json"), 64).unwrap();

    let shape = CircuitShape { k: 14, lookup_bits: 13 };
    let params = generate_unsafe_dev_srs(shape.k);
    let keys = keygen(&params, model, shape).unwrap();

    let quantize = |sample: &[f32]| -> Vec<i64> {
        sample.iter().map(|v| quantize_value(*v as f64, model.scales.activation)).collect()
    };
    let first = prove(&params, &keys, model, &quantize(&data.inputs[0])).unwrap();
    eprintln!("digits MLP: k = {}, proof = {} bytes", shape.k, first.proof.len());
    assert!(verify(&params, keys.vk(), &first), "an honest proof verifies");

    // The public outputs are the reference executor's outputs.
    let reference = execute(model, &data.inputs[0]).unwrap();
    let outputs = &first.instances[64..];
    let expected: Vec<Fr> = reference[model.outputs[0]].data.iter().map(|v| zkml_circuit::fe_from_i64(*v)).collect();
    assert_eq!(outputs, expected.as_slice());

    let mut flipped = first.clone();
    let middle = flipped.proof.len() / 2;
    flipped.proof[middle] ^= 1;
    assert!(!verify(&params, keys.vk(), &flipped), "a proof with a flipped byte verified");

    let mut forged = first.clone();
    *forged.instances.last_mut().unwrap() += Fr::one();
    assert!(!verify(&params, keys.vk(), &forged), "a forged output instance verified");

    // Another sample: its own proof verifies; its instances do not go with the first proof.
    let second = prove(&params, &keys, model, &quantize(&data.inputs[1])).unwrap();
    assert!(verify(&params, keys.vk(), &second));
    assert_ne!(second.instances, first.instances);
    let swapped = zkml_prover::prove::InferenceProof { proof: first.proof.clone(), instances: second.instances };
    assert!(!verify(&params, keys.vk(), &swapped), "a proof verified for another inference's instances");
}

#[test]
fn inputs_outside_the_calibrated_range_cannot_be_proved() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits");
    let compiled = CompiledModel::compile(
        &dir.join("mlp.onnx"),
        None,
        &dir.join("calibration.json"),
        CalibrationOptions::default(),
    )
    .unwrap();
    let model = &compiled.quantized;
    let shape = CircuitShape { k: 14, lookup_bits: 13 };
    let params = generate_unsafe_dev_srs(shape.k);
    let keys = keygen(&params, model, shape).unwrap();
    // 40.0 is far outside the pixels' calibrated [0, 1] (bound 2^13 at scale 2^12): the bound check on the
    // input cell cannot be satisfied, so halo2 refuses to produce a proof.
    let mut input = vec![0i64; 64];
    input[5] = quantize_value(40.0, model.scales.activation);
    let proved = prove(&params, &keys, model, &input);
    assert!(proved.is_err() || !verify(&params, keys.vk(), &proved.unwrap()), "an out-of-range input was proved");
}

#[test]
fn digits_cnn_proof_verifies_and_a_forged_output_does_not() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits");
    let compiled = CompiledModel::compile(
        &dir.join("cnn.onnx"),
        Some(&[vec![1, 1, 8, 8]]),
        &dir.join("calibration.json"),
        CalibrationOptions::default(),
    )
    .unwrap();
    let model = &compiled.quantized;
    let data = DataSet::load(&dir.join("test.json"), 64).unwrap();
    let shape = CircuitShape { k: 16, lookup_bits: 15 };
    let params = generate_unsafe_dev_srs(shape.k);
    let keys = keygen(&params, model, shape).unwrap();
    let input: Vec<i64> = data.inputs[0].iter().map(|v| quantize_value(*v as f64, model.scales.activation)).collect();
    let proof = prove(&params, &keys, model, &input).unwrap();
    eprintln!("digits CNN: k = {}, proof = {} bytes", shape.k, proof.proof.len());
    assert!(verify(&params, keys.vk(), &proof));

    let reference = execute(model, &data.inputs[0]).unwrap();
    let expected: Vec<Fr> = reference[model.outputs[0]].data.iter().map(|v| zkml_circuit::fe_from_i64(*v)).collect();
    assert_eq!(&proof.instances[64..], expected.as_slice());

    let mut forged = proof;
    forged.instances[64] += Fr::one();
    assert!(!verify(&params, keys.vk(), &forged), "a forged CNN output verified");
}
