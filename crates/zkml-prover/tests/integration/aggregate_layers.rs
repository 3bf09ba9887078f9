//! Two aggregation layers: an aggregated proof with a Poseidon transcript verified inside a second
//! aggregation, whose accumulator then stands for the first layer's too. The second layer is only laid out
//! (witnesses included, at keygen), never proven: its accumulator and instances are what is checked here,
//! and the CLI test proves one end to end.

use halo2_base::{
    gates::circuit::CircuitBuilderStage,
    halo2_proofs::{
        halo2curves::{
            bn256::{Bn256, Fr},
            ff::Field,
        },
        poly::kzg::commitment::ParamsKZG,
    },
};
use snark_verifier_sdk::{CircuitExt, Snark, halo2::aggregation::AggregationConfigParams};
use zkml_model::quantize::quantize_value;
use zkml_prover::{
    aggregate::{
        ACCUMULATOR_LIMBS, AggregatedProof, AggregationCircuit, InnerProof, accumulator_holds, aggregate_with, keygen,
        verify_with,
    },
    prove::{Transcript, prove},
    srs::generate_unsafe_dev_srs,
};

/// The first layer: the smallest `k` one digits proof aggregates at.
const FIRST_K: u32 = 20;
/// Large enough for the second layer in a few columns; laying out does not need an SRS of this size.
const SECOND_K: u32 = 21;

/// The public instances the second layer computes for `snark`.
fn second_layer_instances(params: &ParamsKZG<Bn256>, snark: Snark) -> Vec<Fr> {
    second_layer(params, snark).expect("the second layer lays out").instances().remove(0)
}

/// The second layer over `snark`, laid out with witnesses.
fn second_layer(params: &ParamsKZG<Bn256>, snark: Snark) -> zkml_prover::Result<AggregationCircuit> {
    let config = AggregationConfigParams { degree: SECOND_K, lookup_bits: SECOND_K as usize - 1, ..Default::default() };
    AggregationCircuit::new(CircuitBuilderStage::Keygen, config, params, &[snark])
}

#[test]
fn an_aggregated_proof_aggregates_again_and_its_accumulator_is_folded_in() {
    let (compiled, params, keys, data) = crate::common::setup("mlp.onnx", None);
    let model = &compiled.quantized;
    let input: Vec<i64> = data.inputs[0].iter().map(|v| quantize_value(*v as f64, model.scales.activation)).collect();
    let inference = prove(&params, &keys, model, &input, Transcript::Poseidon).expect("the inference proves");
    let inner = InnerProof::new(&params, keys.vk(), &inference).expect("a Poseidon proof");

    let first_params = generate_unsafe_dev_srs(FIRST_K);
    let first_keys = keygen(&first_params, &[inner.protocol().clone()]).expect("first-layer keygen");
    let first = aggregate_with(&first_params, &first_keys, &[inner], Transcript::Poseidon).expect("first layer");
    assert!(verify_with(&first_params, first_keys.vk(), &first, Transcript::Poseidon));
    assert!(!verify_with(&first_params, first_keys.vk(), &first, Transcript::Keccak), "verified under keccak");

    let next =
        |proof: &AggregatedProof| InnerProof::from_aggregated(&first_params, first_keys.vk(), proof).snark().clone();
    let instances = second_layer_instances(&params, next(&first));
    assert!(accumulator_holds(&params, &instances), "the folded accumulator of an honest first layer fails");
    // The first layer's limbs are folded, not exposed again: the layout is that of one layer.
    assert_eq!(instances.len(), first.instances.len());
    assert_eq!(instances[ACCUMULATOR_LIMBS..], first.instances[ACCUMULATOR_LIMBS..]);
    assert_eq!(instances[ACCUMULATOR_LIMBS..], inference.instances[..]);
    assert_ne!(instances[..ACCUMULATOR_LIMBS], first.instances[..ACCUMULATOR_LIMBS]);

    // A first-layer accumulator that does not hold cannot be hidden in the second layer's: replace it with
    // a valid-looking one (the second layer's own, an on-curve pair) and the fold fails.
    let mut swapped = first.clone();
    swapped.instances[..ACCUMULATOR_LIMBS].copy_from_slice(&instances[..ACCUMULATOR_LIMBS]);
    assert!(accumulator_holds(&params, &swapped.instances), "the replacement is itself a valid accumulator");
    assert!(!accumulator_holds(&params, &second_layer_instances(&params, next(&swapped))));

    // A forged inner value: the first layer's proof no longer verifies in the circuit.
    let mut forged = first.clone();
    *forged.instances.last_mut().unwrap() += Fr::ONE;
    assert!(!accumulator_holds(&params, &second_layer_instances(&params, next(&forged))));

    // A flipped proof byte, likewise.
    let mut flipped = first;
    let middle = flipped.proof.len() / 2;
    flipped.proof[middle] ^= 1;
    match second_layer(&params, next(&flipped)) {
        Ok(circuit) => assert!(!accumulator_holds(&params, &circuit.instances()[0])),
        Err(error) => eprintln!("a flipped byte is refused while laying out: {error}"),
    }
}
