//! Keys and SHPLONK proofs of one model inference, with a Poseidon transcript (the one snark-verifier
//! aggregates). halo2's prover and verifier are called directly so that failures are errors, not panics.

use halo2_base::{
    gates::{
        circuit::{BaseCircuitParams, CircuitBuilderStage, builder::BaseCircuitBuilder},
        flex_gate::MultiPhaseThreadBreakPoints,
    },
    halo2_proofs::{
        halo2curves::bn256::{Bn256, Fr, G1Affine},
        plonk::{ProvingKey, VerifyingKey, create_proof, keygen_pk, keygen_vk, verify_proof},
        poly::{
            commitment::ParamsProver,
            kzg::{
                commitment::{KZGCommitmentScheme, ParamsKZG},
                multiopen::{ProverSHPLONK, VerifierSHPLONK},
                strategy::SingleStrategy,
            },
        },
    },
};
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};
use snark_verifier_sdk::{
    NativeLoader,
    halo2::{POSEIDON_SPEC, PoseidonTranscript},
};
use zkml_circuit::assign_model;
use zkml_model::quantize::QuantizedModel;

use crate::error::{Error, Result};

/// Rows kept free at the bottom of the circuit for halo2's blinding factors.
const MINIMUM_UNUSABLE_ROWS: usize = 9;

/// Circuit shape of a model: the size, columns and lookup bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CircuitShape {
    /// log2 of the number of rows.
    pub k: u32,
    /// Bits of the range-check lookup table (at most `k - 1`).
    pub lookup_bits: usize,
}

/// The proving key of a model's circuit with the layout it was made for.
#[derive(Debug)]
pub struct ModelKeys {
    /// The proving key (holds the verifying key).
    pub pk: ProvingKey<G1Affine>,
    /// Column configuration chosen at keygen.
    pub config: BaseCircuitParams,
    /// Where each thread's cells break across columns, fixed at keygen.
    pub break_points: MultiPhaseThreadBreakPoints,
}

impl ModelKeys {
    /// The verifying key.
    pub fn vk(&self) -> &VerifyingKey<G1Affine> {
        self.pk.get_vk()
    }
}

/// A proof with its public instances (quantized inputs, then outputs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InferenceProof {
    /// The proof bytes (Poseidon transcript).
    pub proof: Vec<u8>,
    /// Public instances, one column.
    pub instances: Vec<Fr>,
}

fn layout(
    mut builder: BaseCircuitBuilder<Fr>,
    model: &QuantizedModel,
    input: &[i64],
) -> Result<(BaseCircuitBuilder<Fr>, Vec<Fr>)> {
    let range = builder.range_chip();
    let cells = assign_model(builder.main(0), &range, model, input).map_err(|e| Error::Circuit(e.to_string()))?;
    let public: Vec<_> = cells.inputs.iter().chain(&cells.outputs).copied().collect();
    let instances = public.iter().map(|c| *c.value()).collect();
    builder.assigned_instances = vec![public];
    Ok((builder, instances))
}

/// Generates the proving key. The layout does not depend on the input, so it is laid out on zeros.
pub fn keygen(params: &ParamsKZG<Bn256>, model: &QuantizedModel, shape: CircuitShape) -> Result<ModelKeys> {
    let builder = BaseCircuitBuilder::<Fr>::from_stage(CircuitBuilderStage::Keygen)
        .use_k(shape.k as usize)
        .use_lookup_bits(shape.lookup_bits)
        .use_instance_columns(1);
    let (mut builder, _) = layout(builder, model, &vec![0; model.input_len()])?;
    let config = builder.calculate_params(Some(MINIMUM_UNUSABLE_ROWS));
    let vk = keygen_vk(params, &builder).map_err(|e| Error::Halo2(format!("verifying key: {e:?}")))?;
    let pk = keygen_pk(params, vk, &builder).map_err(|e| Error::Halo2(format!("proving key: {e:?}")))?;
    Ok(ModelKeys { pk, config, break_points: builder.break_points() })
}

/// Proves one inference on the quantized `input`.
pub fn prove(
    params: &ParamsKZG<Bn256>,
    keys: &ModelKeys,
    model: &QuantizedModel,
    input: &[i64],
) -> Result<InferenceProof> {
    let builder = BaseCircuitBuilder::prover(keys.config.clone(), keys.break_points.clone());
    let (builder, instances) = layout(builder, model, input)?;
    let mut transcript = PoseidonTranscript::<NativeLoader, Vec<u8>>::from_spec(vec![], POSEIDON_SPEC.clone());
    create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, _, _, _, _>(
        params,
        &keys.pk,
        &[builder],
        &[&[&instances]],
        ChaCha20Rng::from_entropy(),
        &mut transcript,
    )
    .map_err(|e| Error::Halo2(format!("proving: {e:?}")))?;
    Ok(InferenceProof { proof: transcript.finalize(), instances })
}

/// Verifies a proof natively; `Ok(false)` for a proof that does not verify.
pub fn verify(params: &ParamsKZG<Bn256>, vk: &VerifyingKey<G1Affine>, proof: &InferenceProof) -> bool {
    let mut transcript = PoseidonTranscript::<NativeLoader, &[u8]>::from_spec(&proof.proof, POSEIDON_SPEC.clone());
    verify_proof::<KZGCommitmentScheme<Bn256>, VerifierSHPLONK<'_, Bn256>, _, _, SingleStrategy<'_, Bn256>>(
        params.verifier_params(),
        vk,
        SingleStrategy::new(params),
        &[&[&proof.instances]],
        &mut transcript,
    )
    .is_ok()
}
