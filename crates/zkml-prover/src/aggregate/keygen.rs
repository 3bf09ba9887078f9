//! Keys of an aggregation circuit: its layout on placeholder proofs of the inner protocols' shape, and the
//! keys generated from it. Nothing here depends on the proofs themselves, only on the inner verifying keys,
//! instance counts and `k`.

use halo2_base::{
    gates::{circuit::CircuitBuilderStage, flex_gate::MultiPhaseThreadBreakPoints},
    halo2_proofs::{
        halo2curves::bn256::{Bn256, G1Affine},
        plonk::{ProvingKey, VerifyingKey, keygen_pk, keygen_vk},
        poly::{commitment::Params, kzg::commitment::ParamsKZG},
    },
};
use serde::{Deserialize, Serialize};
use snark_verifier_sdk::{
    CircuitExt, SHPLONK, Snark,
    halo2::{aggregation::AggregationConfigParams, gen_dummy_snark_from_protocol},
    snark_verifier::verifier::plonk::PlonkProtocol,
};

use super::{AggregationCircuit, MemoryEstimate, prove::check_count};
use crate::error::{Error, Result};

/// Rows halo2 keeps for blinding, as halo2-base's examples reserve.
const MINIMUM_UNUSABLE_ROWS: usize = 20;

/// The column configuration of an aggregation circuit and where its cells break, fixed at keygen.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AggregationShape {
    /// Rows, columns and lookup bits.
    pub config: AggregationConfigParams,
    /// Break points of the single phase.
    pub break_points: MultiPhaseThreadBreakPoints,
    /// Public instances: accumulator limbs then every inner instance.
    pub num_instance: usize,
    /// Advice cells laid out, for the memory estimate (0 in keys cached before it was recorded: the
    /// estimate then takes the columns as full).
    #[serde(default)]
    pub advice_cells: usize,
}

impl AggregationShape {
    /// The estimated peak memory of keygen and proving for this circuit.
    pub fn memory_estimate(&self) -> MemoryEstimate {
        MemoryEstimate::new(&self.config, (self.advice_cells > 0).then_some(self.advice_cells))
    }
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

/// Lays the aggregation of proofs of `protocols` out at `k` on placeholder proofs of their shape, with
/// `lookup_bits = k - 1`, and sizes its columns.
pub(super) fn lay_out(
    params: &ParamsKZG<Bn256>,
    protocols: &[PlonkProtocol<G1Affine>],
    k: u32,
) -> Result<(AggregationCircuit, AggregationConfigParams)> {
    check_count(protocols.len())?;
    let snarks: Vec<Snark> = protocols.iter().cloned().map(gen_dummy_snark_from_protocol::<SHPLONK>).collect();
    let config = AggregationConfigParams { degree: k, lookup_bits: k as usize - 1, ..Default::default() };
    let mut circuit = AggregationCircuit::new(CircuitBuilderStage::Keygen, config, params, &snarks)?;
    let config = circuit.calculate_params(MINIMUM_UNUSABLE_ROWS)?;
    Ok((circuit, config))
}

/// Lays the aggregation of proofs of `protocols` out at the `k` of `params` and generates its keys.
pub fn keygen(params: &ParamsKZG<Bn256>, protocols: &[PlonkProtocol<G1Affine>]) -> Result<AggregationKeys> {
    let (circuit, config) = lay_out(params, protocols, params.k())?;
    let num_instance = circuit.num_instance()[0];
    let advice_cells = circuit.advice_cells();
    let vk = keygen_vk(params, &circuit).map_err(|e| Error::Halo2(format!("aggregation verifying key: {e:?}")))?;
    let pk = keygen_pk(params, vk, &circuit).map_err(|e| Error::Halo2(format!("aggregation proving key: {e:?}")))?;
    let break_points = circuit.break_points();
    Ok(AggregationKeys { pk, shape: AggregationShape { config, break_points, num_instance, advice_cells } })
}
