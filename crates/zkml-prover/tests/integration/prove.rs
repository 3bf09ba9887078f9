//! Real SHPLONK proofs of digits model inferences with the development SRS: they verify natively, and a
//! tampered proof or instance does not.

use crate::common::setup;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use zkml_circuit::public::SectionKind;
use zkml_model::{
    exec::execute,
    quantize::{QuantizedModel, quantize_value},
};
use zkml_prover::prove::{InferenceProof, ModelKeys, Transcript, prove, verify};

fn quantize(model: &QuantizedModel, sample: &[f32]) -> Vec<i64> {
    sample.iter().map(|v| quantize_value(*v as f64, model.scales.activation)).collect()
}

/// The reference executor's quantized outputs.
fn reference_outputs(model: &QuantizedModel, sample: &[f32]) -> Vec<i64> {
    let values = execute(model, sample).expect("the sample is in range");
    values[model.outputs[0]].data.clone()
}

fn decoded_outputs(keys: &ModelKeys, proof: &InferenceProof) -> Vec<i64> {
    keys.layout.decode(SectionKind::Outputs, &proof.instances).expect("outputs are public")
}

#[test]
fn digits_mlp_proofs_verify_and_tampering_is_rejected() {
    let (compiled, params, keys, data) = setup("mlp.onnx", None);
    let model = &compiled.quantized;
    let first = prove(&params, &keys, model, &quantize(model, &data.inputs[0]), Transcript::Poseidon).unwrap();
    eprintln!("digits MLP: k = {}, proof = {} bytes", keys.params.base.k, first.proof.len());
    assert!(verify(&params, keys.vk(), &first), "an honest proof verifies");

    // The public outputs are the reference executor's outputs.
    assert_eq!(decoded_outputs(&keys, &first), reference_outputs(model, &data.inputs[0]));

    let mut flipped = first.clone();
    let middle = flipped.proof.len() / 2;
    flipped.proof[middle] ^= 1;
    assert!(!verify(&params, keys.vk(), &flipped), "a proof with a flipped byte verified");

    let mut forged = first.clone();
    *forged.instances.last_mut().unwrap() += Fr::one();
    assert!(!verify(&params, keys.vk(), &forged), "a forged output instance verified");

    // Another sample: its own proof verifies; its instances do not go with the first proof.
    let second = prove(&params, &keys, model, &quantize(model, &data.inputs[1]), Transcript::Poseidon).unwrap();
    assert!(verify(&params, keys.vk(), &second));
    assert_ne!(second.instances, first.instances);
    let swapped = InferenceProof { instances: second.instances, ..first.clone() };
    assert!(!verify(&params, keys.vk(), &swapped), "a proof verified for another inference's instances");

    // The keccak transcript (for the EVM): verifies under keccak only, and tampering is rejected the same.
    let evm = prove(&params, &keys, model, &quantize(model, &data.inputs[0]), Transcript::Keccak).unwrap();
    eprintln!("digits MLP, keccak transcript: proof = {} bytes", evm.proof.len());
    assert!(verify(&params, keys.vk(), &evm), "an honest keccak proof verifies");
    assert_eq!(evm.instances, first.instances);
    let as_poseidon = InferenceProof { transcript: Transcript::Poseidon, ..evm.clone() };
    assert!(!verify(&params, keys.vk(), &as_poseidon), "a keccak proof verified under the Poseidon transcript");
    let mut flipped = evm.clone();
    flipped.proof[10] ^= 1;
    assert!(!verify(&params, keys.vk(), &flipped));
    let mut forged = evm;
    forged.instances[0] += Fr::one();
    assert!(!verify(&params, keys.vk(), &forged));
}

#[test]
fn inputs_outside_the_calibrated_range_cannot_be_proved() {
    let (compiled, params, keys, _) = setup("mlp.onnx", None);
    let model = &compiled.quantized;
    // 40.0 is far outside the pixels' calibrated [0, 1] (bound 2^13 at scale 2^12): the bound check on the
    // input cell cannot be satisfied, so halo2 refuses to produce a proof.
    let mut input = vec![0i64; 64];
    input[5] = quantize_value(40.0, model.scales.activation);
    let proved = prove(&params, &keys, model, &input, Transcript::Poseidon);
    assert!(proved.is_err() || !verify(&params, keys.vk(), &proved.unwrap()), "an out-of-range input was proved");
}

#[test]
fn digits_cnn_proof_verifies_and_a_forged_output_does_not() {
    let (compiled, params, keys, data) = setup("cnn.onnx", Some(vec![vec![1, 1, 8, 8]]));
    let model = &compiled.quantized;
    let proof = prove(&params, &keys, model, &quantize(model, &data.inputs[0]), Transcript::Poseidon).unwrap();
    eprintln!("digits CNN: k = {}, proof = {} bytes", keys.params.base.k, proof.proof.len());
    assert!(verify(&params, keys.vk(), &proof));
    assert_eq!(decoded_outputs(&keys, &proof), reference_outputs(model, &data.inputs[0]));

    let mut forged = proof;
    *forged.instances.last_mut().unwrap() += Fr::one();
    assert!(!verify(&params, keys.vk(), &forged), "a forged CNN output verified");
}
