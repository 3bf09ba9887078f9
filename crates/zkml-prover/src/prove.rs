//! Keys and SHPLONK proofs of one model inference. A proof's transcript is Poseidon (the one
//! snark-verifier aggregates) or keccak (the one the EVM verifier replays). halo2's prover and verifier
//! are called directly so that failures are errors, not panics.

use halo2_base::{
    gates::{circuit::CircuitBuilderStage, flex_gate::MultiPhaseThreadBreakPoints},
    halo2_proofs::{
        halo2curves::bn256::{Bn256, Fr, G1Affine},
        plonk::{Circuit, ProvingKey, VerifyingKey, create_proof, keygen_pk, keygen_vk, verify_proof},
        poly::{
            commitment::{Params, ParamsProver},
            kzg::{
                commitment::{KZGCommitmentScheme, ParamsKZG},
                multiopen::{ProverSHPLONK, VerifierSHPLONK},
                strategy::SingleStrategy,
            },
        },
        transcript::{EncodedChallenge, TranscriptRead, TranscriptWrite},
    },
};
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};
use serde::{Deserialize, Serialize};
use snark_verifier_sdk::{
    NativeLoader,
    halo2::{POSEIDON_SPEC, PoseidonTranscript},
    snark_verifier::system::halo2::transcript::evm::EvmTranscript,
};
use zkml_circuit::{ModelCircuit, ModelCircuitParams, PublicLayout, sizing::CircuitSize};
use zkml_model::quantize::QuantizedModel;

use crate::error::{Error, Result};

/// The Fiat-Shamir transcript of a proof.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transcript {
    /// Poseidon: for proofs that will be aggregated.
    #[default]
    Poseidon,
    /// Keccak-256: for proofs verified directly on the EVM.
    Keccak,
}

/// The proving key of a model's circuit with the layout it was made for.
#[derive(Debug)]
pub struct ModelKeys {
    /// The proving key (holds the verifying key).
    pub pk: ProvingKey<G1Affine>,
    /// Column configuration chosen at keygen.
    pub params: ModelCircuitParams,
    /// Where each thread's cells break across columns, fixed at keygen.
    pub break_points: MultiPhaseThreadBreakPoints,
    /// The public instance layout.
    pub layout: PublicLayout,
}

impl ModelKeys {
    /// The verifying key.
    pub fn vk(&self) -> &VerifyingKey<G1Affine> {
        self.pk.get_vk()
    }
}

/// A proof with its public instances (see [`PublicLayout`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InferenceProof {
    /// The proof bytes.
    pub proof: Vec<u8>,
    /// Public instances, one column.
    pub instances: Vec<Fr>,
    /// The transcript the proof was made with.
    pub transcript: Transcript,
}

/// Generates the keys. The layout does not depend on the input, so it is laid out on zeros.
pub fn keygen(
    params: &ParamsKZG<Bn256>,
    model: &QuantizedModel,
    layout: &PublicLayout,
    size: &CircuitSize,
) -> Result<ModelKeys> {
    check_k(params, size.k)?;
    let zeros = vec![0; model.input_len()];
    let circuit = ModelCircuit::new(CircuitBuilderStage::Keygen, model, layout, size.params.clone(), None, &zeros)
        .map_err(|e| Error::Circuit(e.to_string()))?;
    // The circuit hash that names these keys is computed from `size`: the columns laid out must be those.
    let (laid_out, sized) = (circuit.circuit_params(), &size.params);
    if laid_out.dot_columns != sized.dot_columns || laid_out.table_columns != sized.table_columns {
        return Err(Error::Circuit(format!(
            "the circuit lays out {} dot-product and {} table-pair columns where its size (circuit.json) \
             records {} and {}: it was sized by another version of zkml-eth; delete circuit.json and run setup \
             again",
            laid_out.dot_columns, laid_out.table_columns, sized.dot_columns, sized.table_columns
        )));
    }
    let vk = keygen_vk(params, &circuit).map_err(|e| Error::Halo2(format!("verifying key: {e:?}")))?;
    let pk = keygen_pk(params, vk, &circuit).map_err(|e| Error::Halo2(format!("proving key: {e:?}")))?;
    Ok(ModelKeys {
        pk,
        params: circuit.circuit_params().clone(),
        break_points: circuit.break_points(),
        layout: layout.clone(),
    })
}

/// Proves one inference on the quantized `input`.
pub fn prove(
    params: &ParamsKZG<Bn256>,
    keys: &ModelKeys,
    model: &QuantizedModel,
    input: &[i64],
    transcript: Transcript,
) -> Result<InferenceProof> {
    check_k(params, keys.params.base.k as u32)?;
    let circuit = ModelCircuit::new(
        CircuitBuilderStage::Prover,
        model,
        &keys.layout,
        keys.params.clone(),
        Some(keys.break_points.clone()),
        input,
    )
    .map_err(|e| Error::Circuit(e.to_string()))?;
    let instances = circuit.instances().to_vec();
    let proof = create_shplonk_with(transcript, params, &keys.pk, circuit, &instances)?;
    Ok(InferenceProof { proof, instances, transcript })
}

/// Verifies a proof natively; `false` for a proof that does not verify.
pub fn verify(params: &ParamsKZG<Bn256>, vk: &VerifyingKey<G1Affine>, proof: &InferenceProof) -> bool {
    verify_shplonk_with(proof.transcript, params, vk, &proof.instances, &proof.proof)
}

/// A SHPLONK proof of `circuit` with `transcript`: Poseidon for the in-circuit verifier, keccak for the EVM.
pub(crate) fn create_shplonk_with<C: Circuit<Fr>>(
    transcript: Transcript,
    params: &ParamsKZG<Bn256>,
    pk: &ProvingKey<G1Affine>,
    circuit: C,
    instances: &[Fr],
) -> Result<Vec<u8>> {
    match transcript {
        Transcript::Poseidon => {
            let mut t = PoseidonTranscript::<NativeLoader, Vec<u8>>::from_spec(vec![], POSEIDON_SPEC.clone());
            create_shplonk(params, pk, circuit, instances, &mut t)?;
            Ok(t.finalize())
        }
        Transcript::Keccak => {
            let mut t = EvmTranscript::<G1Affine, NativeLoader, Vec<u8>, Vec<u8>>::new(vec![]);
            create_shplonk(params, pk, circuit, instances, &mut t)?;
            Ok(t.finalize())
        }
    }
}

/// True when `proof`, made with `transcript`, verifies for `instances`.
pub(crate) fn verify_shplonk_with(
    transcript: Transcript,
    params: &ParamsKZG<Bn256>,
    vk: &VerifyingKey<G1Affine>,
    instances: &[Fr],
    proof: &[u8],
) -> bool {
    match transcript {
        Transcript::Poseidon => {
            let mut t = PoseidonTranscript::<NativeLoader, &[u8]>::from_spec(proof, POSEIDON_SPEC.clone());
            verify_shplonk(params, vk, instances, &mut t)
        }
        Transcript::Keccak => {
            let mut t = EvmTranscript::<G1Affine, NativeLoader, &[u8], Vec<u8>>::new(proof);
            verify_shplonk(params, vk, instances, &mut t)
        }
    }
}

/// A SHPLONK proof of `circuit` written to `transcript`.
fn create_shplonk<C: Circuit<Fr>, E: EncodedChallenge<G1Affine>, T: TranscriptWrite<G1Affine, E>>(
    params: &ParamsKZG<Bn256>,
    pk: &ProvingKey<G1Affine>,
    circuit: C,
    instances: &[Fr],
    transcript: &mut T,
) -> Result<()> {
    create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, _, _, _, _>(
        params,
        pk,
        &[circuit],
        &[&[instances]],
        ChaCha20Rng::from_entropy(),
        transcript,
    )
    .map_err(|e| Error::Halo2(format!("proving: {e:?}")))
}

/// True when the SHPLONK proof in `transcript` verifies for `instances`.
fn verify_shplonk<E: EncodedChallenge<G1Affine>, T: TranscriptRead<G1Affine, E>>(
    params: &ParamsKZG<Bn256>,
    vk: &VerifyingKey<G1Affine>,
    instances: &[Fr],
    transcript: &mut T,
) -> bool {
    verify_proof::<KZGCommitmentScheme<Bn256>, VerifierSHPLONK<'_, Bn256>, _, _, SingleStrategy<'_, Bn256>>(
        params.verifier_params(),
        vk,
        SingleStrategy::new(params),
        &[&[instances]],
        transcript,
    )
    .is_ok()
}

fn check_k(params: &ParamsKZG<Bn256>, k: u32) -> Result<()> {
    if params.k() != k {
        return Err(Error::SrsSize { have: params.k(), need: k });
    }
    Ok(())
}
