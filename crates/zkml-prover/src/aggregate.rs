//! Aggregation of inference proofs: N Poseidon-transcript SHPLONK proofs (of one model or several) verified
//! inside one snark-verifier-sdk aggregation circuit, which is itself proven with SHPLONK and a keccak
//! transcript for the EVM.
//!
//! # Public instances of an aggregated proof
//!
//! One instance column: the KZG accumulator as 12 limbs of 88 bits (`lhs.x`, `lhs.y`, `rhs.x`, `rhs.y`,
//! three limbs each, least significant first), then every inner proof's public instances in the order the
//! proofs were given, each in its own [`PublicLayout`](zkml_circuit::PublicLayout). The verifier accepts
//! the proof only if `e(lhs, s·G2) = e(rhs, G2)` also holds for the accumulator, which stands for all the
//! inner pairing checks.
//!
//! # Keys
//!
//! The aggregation circuit depends only on the inner verifying keys and instance counts (never on the
//! proofs), so keys are made from placeholder proofs of the right shape and cached like the inner ones.

use halo2_base::{
    gates::{circuit::CircuitBuilderStage, flex_gate::MultiPhaseThreadBreakPoints},
    halo2_proofs::{
        arithmetic::CurveAffine,
        halo2curves::bn256::{Bn256, Fq, Fr, G1Affine},
        plonk::{ProvingKey, VerifyingKey, keygen_pk, keygen_vk},
        poly::{
            commitment::{Params, ParamsProver},
            kzg::commitment::ParamsKZG,
        },
    },
};
use serde::{Deserialize, Serialize};
use snark_verifier_sdk::{
    BITS, CircuitExt, LIMBS, NativeLoader, SHPLONK, Snark,
    halo2::{
        aggregation::{AggregationCircuit, AggregationConfigParams, VerifierUniversality},
        gen_dummy_snark_from_protocol,
    },
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

use crate::{
    error::{Error, Result},
    prove::{InferenceProof, Transcript, create_shplonk_keccak, verify_shplonk_keccak},
};

/// Field elements of the KZG accumulator at the start of an aggregated proof's instances.
pub const ACCUMULATOR_LIMBS: usize = 4 * snark_verifier_sdk::LIMBS;

/// The most proofs one aggregation takes.
pub const MAX_PROOFS: usize = 16;

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
pub fn inner_protocol(params: &ParamsKZG<Bn256>, vk: &VerifyingKey<G1Affine>, num_instance: usize) -> PlonkProtocol<G1Affine> {
    compile(params, vk, Config::kzg().with_num_instance(vec![num_instance]))
}

/// The column configuration of an aggregation circuit and where its cells break, fixed at keygen.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AggregationShape {
    /// Rows, columns and lookup bits.
    pub config: AggregationConfigParams,
    /// Break points of the single phase.
    pub break_points: MultiPhaseThreadBreakPoints,
    /// Public instances: accumulator limbs then every inner instance.
    pub num_instance: usize,
}

/// Keys of an aggregation circuit.
#[derive(Debug)]
pub struct AggregationKeys {
    /// The proving key (holds the verifying key).
    pub pk: ProvingKey<G1Affine>,
    /// Configuration the keys were made for.
    pub shape: AggregationShape,
}

impl AggregationKeys {
    /// The verifying key.
    pub fn vk(&self) -> &VerifyingKey<G1Affine> {
        self.pk.get_vk()
    }
}

/// An aggregated proof (keccak transcript) with its public instances.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggregatedProof {
    /// The proof bytes.
    pub proof: Vec<u8>,
    /// Accumulator limbs, then each inner proof's instances.
    pub instances: Vec<Fr>,
}

fn check_count(n: usize) -> Result<()> {
    if n == 0 || n > MAX_PROOFS {
        return Err(Error::Aggregation(format!("{n} proofs given; one aggregation takes 1 to {MAX_PROOFS}")));
    }
    Ok(())
}

/// Builds the aggregation circuit over `snarks` at `stage` with `config` (when `None`, the circuit is
/// sized for `k` with `lookup_bits = k - 1`).
fn build(
    stage: CircuitBuilderStage,
    params: &ParamsKZG<Bn256>,
    config: AggregationConfigParams,
    snarks: Vec<Snark>,
) -> AggregationCircuit {
    let mut circuit = AggregationCircuit::new::<SHPLONK>(stage, config, params, snarks, VerifierUniversality::None);
    circuit.expose_previous_instances(false);
    circuit
}

/// Lays the aggregation of proofs of `protocols` out at `k` and generates its keys.
pub fn keygen(params: &ParamsKZG<Bn256>, protocols: &[PlonkProtocol<G1Affine>]) -> Result<AggregationKeys> {
    check_count(protocols.len())?;
    let k = params.k();
    let snarks: Vec<Snark> = protocols.iter().cloned().map(gen_dummy_snark_from_protocol::<SHPLONK>).collect();
    let config = AggregationConfigParams { degree: k, lookup_bits: k as usize - 1, ..Default::default() };
    let mut circuit = build(CircuitBuilderStage::Keygen, params, config, snarks);
    let config = circuit.calculate_params(Some(MINIMUM_UNUSABLE_ROWS));
    let num_instance = circuit.num_instance()[0];
    let vk = keygen_vk(params, &circuit).map_err(|e| Error::Halo2(format!("aggregation verifying key: {e:?}")))?;
    let pk = keygen_pk(params, vk, &circuit).map_err(|e| Error::Halo2(format!("aggregation proving key: {e:?}")))?;
    let break_points = circuit.break_points();
    Ok(AggregationKeys { pk, shape: AggregationShape { config, break_points, num_instance } })
}

/// Rows halo2 keeps for blinding, as halo2-base's examples reserve.
const MINIMUM_UNUSABLE_ROWS: usize = 20;

/// Aggregates `proofs` into one proof with a keccak transcript.
pub fn aggregate(params: &ParamsKZG<Bn256>, keys: &AggregationKeys, proofs: &[InnerProof]) -> Result<AggregatedProof> {
    check_count(proofs.len())?;
    let shape = &keys.shape;
    if params.k() != shape.config.degree {
        return Err(Error::SrsSize { have: params.k(), need: shape.config.degree });
    }
    let snarks: Vec<Snark> = proofs.iter().map(|p| p.snark.clone()).collect();
    let circuit = build(CircuitBuilderStage::Prover, params, shape.config, snarks)
        .use_break_points(shape.break_points.clone());
    let instances = circuit.instances().remove(0);
    if instances.len() != shape.num_instance {
        return Err(Error::Aggregation(format!(
            "the proofs carry {} public values but the keys were made for {}",
            instances.len() - ACCUMULATOR_LIMBS,
            shape.num_instance - ACCUMULATOR_LIMBS
        )));
    }
    let proof = create_shplonk_keccak(params, &keys.pk, circuit, &instances)?;
    Ok(AggregatedProof { proof, instances })
}

/// Verifies an aggregated proof natively: the outer proof and the accumulator's pairing check.
pub fn verify(params: &ParamsKZG<Bn256>, vk: &VerifyingKey<G1Affine>, proof: &AggregatedProof) -> bool {
    accumulator_holds(params, &proof.instances) && verify_shplonk_keccak(params, vk, &proof.instances, &proof.proof)
}

/// True when the accumulator in `instances` passes its pairing check (snark-verifier's KZG decider).
fn accumulator_holds(params: &ParamsKZG<Bn256>, instances: &[Fr]) -> bool {
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
