//! Proving and verifying an aggregation: inner proofs prepared for the in-circuit verifier, the aggregated
//! proof made with the keys of [`keygen()`](super::keygen()), and its native check (outer proof and
//! accumulator).

use halo2_base::{
    gates::circuit::CircuitBuilderStage,
    halo2_proofs::{
        arithmetic::CurveAffine,
        halo2curves::bn256::{Bn256, Fq, Fr, G1Affine},
        plonk::VerifyingKey,
        poly::{
            commitment::{Params, ParamsProver},
            kzg::commitment::ParamsKZG,
        },
    },
};
use snark_verifier_sdk::{
    BITS, CircuitExt, LIMBS, NativeLoader, SHPLONK, Snark,
    snark_verifier::{
        pcs::{
            AccumulationDecider,
            kzg::{KzgAccumulator, KzgDecidingKey},
        },
        system::halo2::{Config, compile},
        util::arithmetic::fe_from_limbs,
        verifier::plonk::PlonkProtocol,
    },
};

use super::{AggregationCircuit, AggregationKeys};
use crate::{
    error::{Error, Result},
    prove::{InferenceProof, Transcript, create_shplonk_with, verify_shplonk_with},
};

/// Field elements of the KZG accumulator at the start of an aggregated proof's instances.
pub const ACCUMULATOR_LIMBS: usize = 4 * snark_verifier_sdk::LIMBS;

/// The most proofs one aggregation takes.
pub const MAX_PROOFS: usize = 16;

/// A circuit as an aggregation circuit verifies it: its verifying key compiled with its domain and queries.
pub type Protocol = PlonkProtocol<G1Affine>;

/// One inner proof with what its in-circuit verifier needs: the verifying key compiled to a protocol.
#[derive(Clone, Debug)]
pub struct InnerProof {
    snark: Snark,
}

impl InnerProof {
    /// Prepares a Poseidon-transcript inference proof made with `params` (the inner circuit's SRS) and
    /// verifying key `vk` for aggregation.
    pub fn new(params: &ParamsKZG<Bn256>, vk: &VerifyingKey<G1Affine>, proof: &InferenceProof) -> Result<Self> {
        if proof.transcript != Transcript::Poseidon {
            return Err(Error::Aggregation(
                "only proofs with the Poseidon transcript can be aggregated (prove with --transcript poseidon)".into(),
            ));
        }
        let protocol = inner_protocol(params, vk, proof.instances.len());
        Ok(Self { snark: Snark::new(protocol, vec![proof.instances.clone()], proof.proof.clone()) })
    }

    /// Prepares an aggregated proof made with the Poseidon transcript ([`aggregate_with`]) and the outer
    /// verifying key `vk` for a second aggregation, which folds its accumulator into its own.
    pub fn from_aggregated(params: &ParamsKZG<Bn256>, vk: &VerifyingKey<G1Affine>, proof: &AggregatedProof) -> Self {
        let protocol = aggregated_protocol(params, vk, proof.instances.len());
        Self { snark: Snark::new(protocol, vec![proof.instances.clone()], proof.proof.clone()) }
    }

    /// The inner circuit as the aggregation circuit sees it.
    pub fn protocol(&self) -> &PlonkProtocol<G1Affine> {
        &self.snark.protocol
    }

    /// The proof as snark-verifier takes it.
    pub fn snark(&self) -> &Snark {
        &self.snark
    }
}

/// The protocol (verifying key, domain, queries) snark-verifier checks an inner proof against.
pub fn inner_protocol(
    params: &ParamsKZG<Bn256>,
    vk: &VerifyingKey<G1Affine>,
    num_instance: usize,
) -> PlonkProtocol<G1Affine> {
    compile(params, vk, Config::kzg().with_num_instance(vec![num_instance]))
}

/// The protocol a second aggregation checks an aggregated proof of outer verifying key `vk` against: its
/// first [`ACCUMULATOR_LIMBS`] instances are an accumulator.
pub fn aggregated_protocol(
    params: &ParamsKZG<Bn256>,
    vk: &VerifyingKey<G1Affine>,
    num_instance: usize,
) -> PlonkProtocol<G1Affine> {
    let config = Config::kzg()
        .with_num_instance(vec![num_instance])
        .with_accumulator_indices(AggregationCircuit::accumulator_indices());
    compile(params, vk, config)
}

/// An aggregated proof with its public instances: keccak transcript for the EVM, Poseidon for a first layer
/// that is aggregated again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggregatedProof {
    /// The proof bytes.
    pub proof: Vec<u8>,
    /// Accumulator limbs, then each inner proof's instances.
    pub instances: Vec<Fr>,
}

/// Refuses an aggregation of `n` proofs unless `1 <= n <= MAX_PROOFS`.
pub(super) fn check_count(n: usize) -> Result<()> {
    if n == 0 || n > MAX_PROOFS {
        return Err(Error::Aggregation(format!("{n} proofs given; one aggregation takes 1 to {MAX_PROOFS}")));
    }
    Ok(())
}

/// Aggregates `proofs` into one proof with a keccak transcript, for the EVM.
pub fn aggregate(params: &ParamsKZG<Bn256>, keys: &AggregationKeys, proofs: &[InnerProof]) -> Result<AggregatedProof> {
    aggregate_with(params, keys, proofs, Transcript::Keccak)
}

/// Aggregates `proofs` into one proof with `transcript`: keccak for the EVM, Poseidon for a proof that is
/// aggregated again ([`InnerProof::from_aggregated`]). `params` must be of the keys' `k`, and the proofs of
/// the protocols the keys were made for (their instance count is checked).
pub fn aggregate_with(
    params: &ParamsKZG<Bn256>,
    keys: &AggregationKeys,
    proofs: &[InnerProof],
    transcript: Transcript,
) -> Result<AggregatedProof> {
    check_count(proofs.len())?;
    let shape = &keys.shape;
    if params.k() != shape.config.degree {
        return Err(Error::SrsSize { have: params.k(), need: shape.config.degree });
    }
    let snarks: Vec<Snark> = proofs.iter().map(|p| p.snark.clone()).collect();
    let circuit = AggregationCircuit::new(CircuitBuilderStage::Prover, shape.config, params, &snarks)?
        .use_break_points(shape.break_points.clone());
    let instances = circuit.instances().remove(0);
    if instances.len() != shape.num_instance {
        return Err(Error::Aggregation(format!(
            "the proofs carry {} public values but the keys were made for {}",
            instances.len() - ACCUMULATOR_LIMBS,
            shape.num_instance - ACCUMULATOR_LIMBS
        )));
    }
    let proof = create_shplonk_with(transcript, params, &keys.pk, circuit, &instances)?;
    Ok(AggregatedProof { proof, instances })
}

/// Verifies an aggregated proof (keccak transcript) natively: the outer proof and the accumulator's pairing
/// check.
pub fn verify(params: &ParamsKZG<Bn256>, vk: &VerifyingKey<G1Affine>, proof: &AggregatedProof) -> bool {
    verify_with(params, vk, proof, Transcript::Keccak)
}

/// Verifies an aggregated proof made with `transcript` natively.
pub fn verify_with(
    params: &ParamsKZG<Bn256>,
    vk: &VerifyingKey<G1Affine>,
    proof: &AggregatedProof,
    transcript: Transcript,
) -> bool {
    accumulator_holds(params, &proof.instances)
        && verify_shplonk_with(transcript, params, vk, &proof.instances, &proof.proof)
}

/// True when the accumulator at the start of an aggregated proof's `instances` passes its pairing check
/// (snark-verifier's KZG decider); `params` only provides `G1`, `G2` and `s·G2`, so any size does.
pub fn accumulator_holds(params: &ParamsKZG<Bn256>, instances: &[Fr]) -> bool {
    let Some(limbs) = instances.get(..ACCUMULATOR_LIMBS) else { return false };
    let coordinates: Vec<Fq> =
        limbs.chunks(LIMBS).map(|chunk| fe_from_limbs::<Fr, Fq, LIMBS, BITS>([chunk[0], chunk[1], chunk[2]])).collect();
    let point = |x: Fq, y: Fq| Option::<G1Affine>::from(G1Affine::from_xy(x, y));
    let (Some(lhs), Some(rhs)) = (point(coordinates[0], coordinates[1]), point(coordinates[2], coordinates[3])) else {
        return false;
    };
    let dk: KzgDecidingKey<Bn256> = (params.get_g()[0], params.g2(), params.s_g2()).into();
    <SHPLONK as AccumulationDecider<G1Affine, NativeLoader>>::decide(&dk, KzgAccumulator::new(lhs, rhs)).is_ok()
}
