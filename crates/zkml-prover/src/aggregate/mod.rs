//! Aggregation of inference proofs: N Poseidon-transcript SHPLONK proofs (of one model or several) verified
//! inside one aggregation circuit ([`AggregationCircuit`]: snark-verifier's in-circuit verifier, with the
//! elliptic-curve work of all proofs batched into one MSM), which is itself proven with SHPLONK and a keccak
//! transcript for the EVM.
//!
//! # Public instances of an aggregated proof
//!
//! One instance column: the KZG accumulator as 12 limbs of 88 bits (`lhs.x`, `lhs.y`, `rhs.x`, `rhs.y`,
//! three limbs each, least significant first), then every inner proof's public instances in the order the
//! proofs were given, each in its own [`PublicLayout`](zkml_circuit::PublicLayout). The verifier accepts
//! the proof only if the accumulator's pairing check also holds; it stands for all the inner pairing checks
//! (a random linear combination of them). The Solidity side reads this layout with
//! `contracts/libraries/ZkmlInstances.sol`; `test/fixtures/aggregated` holds a real aggregated proof both
//! sides test against.
//!
//! # Keys
//!
//! The aggregation circuit depends only on the inner verifying keys and instance counts (never on the
//! proofs), so keys are made from placeholder proofs of the right shape and cached like the inner ones:
//! `CACHE/keys/agg-<hash>/{pk.bin, meta.json}`, where the hash ([`aggregation_hash`]) covers the inner
//! protocols in order, the outer `k`, the SRS and the revision of the circuit's layout code.
//!
//! # Size
//!
//! The outer circuit's `k` trades proving time and memory against verifier cost. Every advice column adds a
//! commitment, a selector, a permutation column and evaluations, about 25,000 to 30,000 gas on chain; but
//! halo2's prover time and peak memory both grow with the number of polynomials times the rows
//! ([`polynomials`], [`MemoryEstimate`]), so halving the columns by doubling the rows costs more, not
//! less. [`auto_k`] lays the circuit out at each `k` from [`MIN_K`] up (a second or two for four proofs)
//! and takes the first with at most [`EVM_MAX_ADVICE_COLUMNS`] advice columns that fits the memory budget,
//! up to [`ONE_LAYER_MAX_K`], else the fitting one with the fewest columns. [`plan_layers`] aggregates in two
//! layers where one would need more columns than that.

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
    halo2::{aggregation::AggregationConfigParams, gen_dummy_snark_from_protocol},
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

use std::{
    fs::File,
    io::BufReader,
    path::{Path, PathBuf},
};

use halo2_base::halo2_proofs::SerdeFormat;

mod circuit;
mod msm;

pub use circuit::AggregationCircuit;

use crate::{
    artifact::{parse_instances, save_json},
    error::{Error, Result},
    keys::{
        CacheStatus, Hash32, KEYS_FORMAT, META_FILE, blake2b_256, damaged, finish, from_hex, hash_from_hex, io_error,
        read_pk, srs_fingerprint, to_hex, update_framed, write_atomic, write_pk,
    },
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

/// Lays the aggregation of proofs of `protocols` out at `k` on placeholder proofs of their shape, with
/// `lookup_bits = k - 1`, and sizes its columns.
fn lay_out(
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

/// Lays the aggregation of proofs of `protocols` out at `k` and generates its keys.
pub fn keygen(params: &ParamsKZG<Bn256>, protocols: &[PlonkProtocol<G1Affine>]) -> Result<AggregationKeys> {
    let (circuit, config) = lay_out(params, protocols, params.k())?;
    let num_instance = circuit.num_instance()[0];
    let advice_cells = circuit.advice_cells();
    let vk = keygen_vk(params, &circuit).map_err(|e| Error::Halo2(format!("aggregation verifying key: {e:?}")))?;
    let pk = keygen_pk(params, vk, &circuit).map_err(|e| Error::Halo2(format!("aggregation proving key: {e:?}")))?;
    let break_points = circuit.break_points();
    Ok(AggregationKeys { pk, shape: AggregationShape { config, break_points, num_instance, advice_cells } })
}

/// Rows halo2 keeps for blinding, as halo2-base's examples reserve.
const MINIMUM_UNUSABLE_ROWS: usize = 20;

/// Smallest outer `k` tried: one digits proof needs about 1.5 million cells.
pub const MIN_K: u32 = 18;
/// Largest outer `k`: the SRS alone is then 1 GB and proving needs tens of GB.
pub const MAX_K: u32 = 23;
/// Advice columns an aggregation verified on the EVM aims for. Every column adds a commitment, a selector,
/// a permutation column and evaluations to the verifier: the third cost 25,613 gas on four digits proofs
/// (409,744 against 384,131, revision 3 against 4), enough to take one layer past 400,000.
pub const EVM_MAX_ADVICE_COLUMNS: usize = 2;
/// The largest `k` [`auto_k`] raises one layer to for [`EVM_MAX_ADVICE_COLUMNS`]; at it, one layer takes the
/// columns it needs. One more doubling would double proving time and memory again (eight digits proofs at
/// `k = 22`: 316 s and 7.9 GB), where two layers ([`plan_layers`]) buy a cheaper verifier for less.
/// Measured shapes (revision 4): one digits proof `k = 20`, two to four `k = 21`, five to nine `k = 22`, all
/// with two columns; ten to sixteen need three or four at `k = 22`. (Nine proofs have too many public values
/// for one layer: [`ONE_LAYER_MAX_PUBLIC_VALUES`].)
pub const ONE_LAYER_MAX_K: u32 = 22;
/// Public values (accumulator limbs included) one layer's verifier takes while its gas stays under
/// 400,000 in [`EVM_MAX_ADVICE_COLUMNS`] columns: the verifier reads each from calldata, hashes it into the
/// transcript and weighs it by a Lagrange basis value, about 670 gas each (512 of them calldata, for a
/// packed value or a hash, whose 32 bytes are all nonzero). Measured with two columns
/// (revision 4, digits proofs of five values): 17 values 374,037 gas, 32 384,131, 42 391,004, 52 (eight
/// proofs) 397,636, 57 (nine) 401,040. 52 is the largest measured under the line.
pub const ONE_LAYER_MAX_PUBLIC_VALUES: usize = 52;
/// The largest `k` at which [`plan_layers`] keeps one layer. From `k = 22` two layers prove about as fast
/// for a cheaper verifier, a smaller proof and less memory: eight digits proofs took 160 s of keygen, 316 s
/// of proving, 7.9 GB, 1,984 proof bytes and 397,636 gas in one layer (`k = 22`, two columns), and 163 s,
/// 342 s, 6.1 GB, 1,376 bytes and 349,668 gas in two (`k = 21` in four columns, then `k = 22` in one).
/// Below it one layer is much faster: four proofs prove in about 145 s at `k = 21`, where a second layer
/// alone takes about 190 s.
pub const PLANNED_ONE_LAYER_MAX_K: u32 = 21;

/// The advice columns one aggregation layer for the EVM aims for at `k`: [`EVM_MAX_ADVICE_COLUMNS`] below
/// [`ONE_LAYER_MAX_K`], any number at it.
pub fn max_advice_columns(k: u32) -> usize {
    if k < ONE_LAYER_MAX_K { EVM_MAX_ADVICE_COLUMNS } else { usize::MAX }
}

/// Advice columns the first of two layers aims for. Its verifier is the second layer's circuit, where a
/// column costs about four in-circuit points (its commitment, its share of a grand product, its selector
/// and permutation column); fewer would double its rows, and proving time and memory follow polynomials
/// times rows ([`polynomials`]): for 16 digits proofs `k = 22` with five columns was 32 polynomials of 2^22
/// rows (revision 3; four now), `k = 23` with three 25 of 2^23, 1.6 times the work, to save the second
/// layer a few points. Five kept the second layer in one column at `k = 22` at revision 3 (about 4.0M of
/// its 4.19M cells; a sixth pushed it to two); its MSM is cheaper since, so a sixth may fit now.
pub const FIRST_LAYER_MAX_ADVICE_COLUMNS: usize = 5;
/// Advice columns the second of two layers aims for: it exists for a cheaper verifier, and one column is
/// the cheapest (the second column cost 48,000 gas: 374,119 against 326,314 for one digits proof).
pub const SECOND_LAYER_MAX_ADVICE_COLUMNS: usize = 1;

/// Keygen memory per advice cell laid out: halo2-base's builder keeps every cell with its copy constraints
/// while halo2 synthesizes the circuit twice (verifying key, then proving key). Fitted with
/// [`KEYGEN_PEAK_BYTES_PER_ROW_AND_KEY_COLUMN`] to the digits aggregations on two cores with the patched
/// halo2-axiom (vendor/halo2-axiom/PATCHES.md); docs/memory.md lists the measurements and the fit.
pub const KEYGEN_PEAK_BYTES_PER_ADVICE_CELL: u64 = 350;
/// Keygen memory per row and column the proving key holds polynomials of ([`key_columns`]): values and
/// coefficients of each, 64 bytes, and the permutation's cycle tables while they are built.
pub const KEYGEN_PEAK_BYTES_PER_ROW_AND_KEY_COLUMN: u64 = 100;
/// Proving memory per row for every polynomial halo2's prover carries (see [`polynomials`]), the SRS
/// aside; fitted as the keygen constants are, at the top of the measured 75 to 84 bytes so the estimate
/// errs high.
pub const PROVE_PEAK_BYTES_PER_ROW_AND_POLYNOMIAL: u64 = 85;

/// Bytes of an SRS of `2^k` points in memory: the powers of the secret and the Lagrange basis, 64 bytes a
/// point each.
pub fn srs_bytes(k: u32) -> u64 {
    128 << k
}

/// Columns the proving key of an outer circuit of `config` holds polynomials of: fixed (a selector per
/// advice column, the lookup table, the constants) and permutation (every column with copies: advice,
/// lookup advice, constants, instance).
pub fn key_columns(config: &AggregationConfigParams) -> usize {
    let (advice, lookup, constants) = (config.num_advice, config.num_lookup_advice, config.num_fixed);
    (advice + 1 + constants) + (advice + lookup + constants + 1)
}

/// The polynomials halo2's prover holds for an outer circuit of `config`, each evaluated on the whole
/// domain and transformed part by part to the extended one: advice (lookup advice included) and instance;
/// fixed (a selector per advice column, the constants, the lookup table); one permutation column and half
/// a grand product per column with copies (advice, constants, instance); three per lookup argument; the
/// three Lagrange polynomials. Both time and peak memory are proportional to this count times `2^k`.
pub fn polynomials(config: &AggregationConfigParams) -> usize {
    let (advice, lookup, constants) = (config.num_advice, config.num_lookup_advice, config.num_fixed);
    let with_copies = advice + lookup + constants + 1;
    // The gates have degree 4, so each grand product covers 4 - 2 = 2 columns.
    (advice + lookup + 1) + (advice + constants + 1) + with_copies + with_copies.div_ceil(2) + 3 * lookup + 3
}

/// Estimated peak memory of the phases of an aggregation, in bytes, the SRS included.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryEstimate {
    /// Generating the keys (reading them from the cache takes less).
    pub keygen_bytes: u64,
    /// Proving, keys loaded.
    pub prove_bytes: u64,
    /// The SRS the circuit is proven with, which stays loaded for a next layer.
    pub srs_bytes: u64,
}

impl MemoryEstimate {
    /// The estimate for one aggregation circuit of `config` with `advice_cells` laid out (`None`: its
    /// advice columns taken as full, which errs high).
    pub fn new(config: &AggregationConfigParams, advice_cells: Option<usize>) -> Self {
        let rows = 1u64 << config.degree;
        let cells = advice_cells.map_or(config.num_advice as u64 * rows, |cells| cells as u64);
        let srs = srs_bytes(config.degree);
        Self {
            keygen_bytes: srs
                + cells * KEYGEN_PEAK_BYTES_PER_ADVICE_CELL
                + key_columns(config) as u64 * rows * KEYGEN_PEAK_BYTES_PER_ROW_AND_KEY_COLUMN,
            prove_bytes: srs + polynomials(config) as u64 * rows * PROVE_PEAK_BYTES_PER_ROW_AND_POLYNOMIAL,
            srs_bytes: srs,
        }
    }

    /// The estimate for one process that runs `self`, frees its keys, then runs `next` (two layers): each
    /// phase peaks at the larger of the two layers' peaks, the first layer's SRS still loaded during the
    /// second when that is at another `k` (an SRS of the same size is loaded once).
    pub fn then(self, next: Self) -> Self {
        let held = if self.srs_bytes == next.srs_bytes { 0 } else { self.srs_bytes };
        Self {
            keygen_bytes: self.keygen_bytes.max(next.keygen_bytes + held),
            prove_bytes: self.prove_bytes.max(next.prove_bytes + held),
            srs_bytes: next.srs_bytes + held,
        }
    }

    /// The larger of the two phases: what a process that generates the keys and proves needs.
    pub fn peak(&self) -> u64 {
        self.keygen_bytes.max(self.prove_bytes)
    }
}

/// How [`auto_k`] sized an aggregation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AutoSize {
    /// log2 of the outer circuit's rows.
    pub k: u32,
    /// Its advice columns.
    pub advice_columns: usize,
    /// Its estimated peak memory, the larger phase of its [`MemoryEstimate`].
    pub estimated_peak_bytes: u64,
}

/// Sizes the aggregation of `protocols` within `memory_budget` bytes of peak memory, laying it out at each
/// `k` (not proving it; `params` only provides the SRS generator, so any size does): the smallest `k` at
/// which it needs at most [`max_advice_columns`] advice columns (a cheap verifier, as every column costs
/// gas) if that fits, else the fitting `k` with the fewest columns (more gas, but it runs).
pub fn auto_k(
    params: &ParamsKZG<Bn256>,
    protocols: &[PlonkProtocol<G1Affine>],
    memory_budget: u64,
) -> Result<AutoSize> {
    auto_k_for(params, protocols, memory_budget, max_advice_columns)
}

/// [`auto_k`] aiming for at most `max_columns(k)` advice columns at `k` instead of [`max_advice_columns`]:
/// fewer for a cheaper verifier, more for a faster prover (a first layer, whose verifier runs in a circuit).
pub fn auto_k_for(
    params: &ParamsKZG<Bn256>,
    protocols: &[PlonkProtocol<G1Affine>],
    memory_budget: u64,
    max_columns: impl Fn(u32) -> usize,
) -> Result<AutoSize> {
    let sizes = lay_out_each_k(params, protocols, memory_budget, &max_columns)?;
    sizes.choose(&max_columns)
}

/// How [`plan_layers`] would aggregate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerPlan {
    /// One layer of this size: its verifier has at most [`EVM_MAX_ADVICE_COLUMNS`] advice columns.
    One(AutoSize),
    /// Two layers, the first of this size (at most [`FIRST_LAYER_MAX_ADVICE_COLUMNS`] columns where it
    /// fits); `one` is what a single layer would have needed.
    Two {
        /// The first layer, verified by a second one of [`SECOND_LAYER_MAX_ADVICE_COLUMNS`] column.
        first: AutoSize,
        /// The single layer [`auto_k`] would have chosen instead.
        one: AutoSize,
        /// What ruled one layer out.
        limit: OneLayerLimit,
    },
}

/// What made [`plan_layers`] choose two layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OneLayerLimit {
    /// One layer would need more than [`EVM_MAX_ADVICE_COLUMNS`] advice columns.
    AdviceColumns,
    /// One layer would take this many public values ([`public_values`]), over
    /// [`ONE_LAYER_MAX_PUBLIC_VALUES`].
    PublicValues(usize),
    /// One layer would need more rows than [`PLANNED_ONE_LAYER_MAX_K`] for its two columns.
    Rows,
}

/// The public values of an aggregation of proofs of `protocols`: the accumulator limbs, then every inner
/// proof's instances.
pub fn public_values(protocols: &[PlonkProtocol<G1Affine>]) -> usize {
    ACCUMULATOR_LIMBS + protocols.iter().flat_map(|protocol| &protocol.num_instance).sum::<usize>()
}

/// Decides between one and two aggregation layers for `protocols` within `memory_budget`: one if
/// [`auto_k`] fits it in [`EVM_MAX_ADVICE_COLUMNS`] advice columns by [`PLANNED_ONE_LAYER_MAX_K`] with at
/// most [`ONE_LAYER_MAX_PUBLIC_VALUES`] public values (up to four digits proofs, under 400,000 gas), else
/// two, whose verifier stays near 326,000 to 396,000 gas for one to sixteen digits proofs whatever the
/// first layer's columns. Both choices come from one series of layouts.
pub fn plan_layers(
    params: &ParamsKZG<Bn256>,
    protocols: &[PlonkProtocol<G1Affine>],
    memory_budget: u64,
) -> Result<LayerPlan> {
    let sizes = lay_out_each_k(params, protocols, memory_budget, max_advice_columns)?;
    let one = sizes.choose(max_advice_columns)?;
    let public_values = public_values(protocols);
    let limit = if one.advice_columns > EVM_MAX_ADVICE_COLUMNS {
        OneLayerLimit::AdviceColumns
    } else if public_values > ONE_LAYER_MAX_PUBLIC_VALUES {
        OneLayerLimit::PublicValues(public_values)
    } else if one.k > PLANNED_ONE_LAYER_MAX_K {
        OneLayerLimit::Rows
    } else {
        return Ok(LayerPlan::One(one));
    };
    let first_max = |_| FIRST_LAYER_MAX_ADVICE_COLUMNS;
    // The series stops at the one-layer choice; a first layer needing more rows than that is laid out anew.
    let first = match sizes.fitting.iter().find(|size| size.advice_columns <= FIRST_LAYER_MAX_ADVICE_COLUMNS) {
        Some(&size) => size,
        None => auto_k_for(params, protocols, memory_budget, first_max)?,
    };
    Ok(LayerPlan::Two { first, one, limit })
}

/// The layouts of one aggregation from [`MIN_K`] up, as far as [`lay_out_each_k`] went.
struct Sizes {
    /// Those within the memory budget, by `k`.
    fitting: Vec<AutoSize>,
    /// The one needing the least memory, fitting or not.
    smallest: AutoSize,
    /// Proofs aggregated, for messages.
    proofs: usize,
    /// The memory budget, for messages.
    memory_budget: u64,
}

impl Sizes {
    /// The first fitting size within `max_columns(k)` columns, else the fitting one with the fewest columns
    /// (the smaller `k` among equals), else an error naming what the smallest layout would need.
    fn choose(&self, max_columns: impl Fn(u32) -> usize) -> Result<AutoSize> {
        if let Some(&size) = self.fitting.iter().find(|size| size.advice_columns <= max_columns(size.k)) {
            return Ok(size);
        }
        // min_by_key keeps the first of equal minima, so the smaller k.
        self.fitting.iter().copied().min_by_key(|size| size.advice_columns).ok_or_else(|| {
            Error::Aggregation(format!(
                "aggregating {} proofs needs about {:.1} GB at best (k = {}, {} advice columns), over the memory \
                 budget of {:.1} GB: aggregate fewer proofs at once, or raise the budget (--max-memory)",
                self.proofs,
                gigabytes(self.smallest.estimated_peak_bytes),
                self.smallest.k,
                self.smallest.advice_columns,
                gigabytes(self.memory_budget)
            ))
        })
    }
}

/// Lays the aggregation out at each `k` from [`MIN_K`] up to [`MAX_K`], until a layout needs at most
/// `max_columns(k)` advice columns or one exceeds `memory_budget` (memory only grows with `k` from there:
/// each step doubles the rows and saves at most half the columns).
fn lay_out_each_k(
    params: &ParamsKZG<Bn256>,
    protocols: &[PlonkProtocol<G1Affine>],
    memory_budget: u64,
    max_columns: impl Fn(u32) -> usize,
) -> Result<Sizes> {
    let mut fitting = Vec::new();
    let mut smallest: Option<AutoSize> = None;
    for k in MIN_K..=MAX_K {
        let (circuit, config) = lay_out(params, protocols, k)?;
        let estimate = MemoryEstimate::new(&config, Some(circuit.advice_cells()));
        drop(circuit);
        let size = AutoSize { k, advice_columns: config.num_advice, estimated_peak_bytes: estimate.peak() };
        if smallest.is_none_or(|s| size.estimated_peak_bytes < s.estimated_peak_bytes) {
            smallest = Some(size);
        }
        if size.estimated_peak_bytes > memory_budget {
            break;
        }
        fitting.push(size);
        if size.advice_columns <= max_columns(k) {
            break;
        }
    }
    let smallest = smallest.expect("MIN_K..=MAX_K is not empty");
    Ok(Sizes { fitting, smallest, proofs: protocols.len(), memory_budget })
}

/// Bytes in GB (10^9), for messages.
pub fn gigabytes(bytes: u64) -> f64 {
    bytes as f64 / 1e9
}

/// Revision of the aggregation circuit's layout code, part of [`aggregation_hash`]: cached keys of
/// another revision are never reused. 2: one batched MSM for all inner accumulators. 3: constant bases in
/// that MSM, with a constant offset point. 4: additions without operand checks against an offset fixed by a
/// challenge, y-coordinates reduced lazily, canonical scalar bits; the MSM from four bases on. 5: fold
/// coefficients cut from canonical decompositions of their challenges.
const CIRCUIT_REVISION: u32 = 5;

/// Domain tag of [`aggregation_hash`].
const AGGREGATION_DOMAIN: &[u8] = b"zkml-eth/aggregation-hash";

/// The hash of everything aggregation keygen depends on: the inner protocols in order, `k` and the SRS.
pub fn aggregation_hash(protocols: &[PlonkProtocol<G1Affine>], k: u32, srs_fingerprint: &Hash32) -> Hash32 {
    let mut state = blake2b_256();
    update_framed(&mut state, AGGREGATION_DOMAIN);
    state.update(&KEYS_FORMAT.to_le_bytes());
    state.update(&CIRCUIT_REVISION.to_le_bytes());
    state.update(&k.to_le_bytes());
    update_framed(&mut state, srs_fingerprint);
    for protocol in protocols {
        update_framed(&mut state, &serde_json::to_vec(protocol).expect("protocols serialize"));
    }
    finish(&state)
}

/// The cache directory of the aggregation keys for `hash`.
pub fn aggregation_key_dir(cache_dir: &Path, hash: &Hash32) -> PathBuf {
    cache_dir.join("keys").join(format!("agg-{}", &to_hex(hash)[2..]))
}

#[derive(Serialize, Deserialize)]
struct AggregationMeta {
    format: u32,
    aggregation_hash: String,
    shape: AggregationShape,
    pk_bytes: u64,
    pk_blake2b: String,
}

/// The aggregation keys for `protocols` at the size of `params`: from `cache_dir` when there, else
/// generated and stored.
pub fn load_or_keygen(
    cache_dir: &Path,
    params: &ParamsKZG<Bn256>,
    protocols: &[PlonkProtocol<G1Affine>],
) -> Result<(AggregationKeys, CacheStatus)> {
    let hash = aggregation_hash(protocols, params.k(), &srs_fingerprint(params));
    let dir = aggregation_key_dir(cache_dir, &hash);
    let meta_path = dir.join(META_FILE);
    match std::fs::read_to_string(&meta_path) {
        Ok(text) => {
            let meta: AggregationMeta = serde_json::from_str(&text).map_err(|e| damaged(&meta_path, &dir, e))?;
            if meta.format != KEYS_FORMAT || hash_from_hex(&meta.aggregation_hash) != Some(hash) {
                return Err(damaged(&meta_path, &dir, "written for another aggregation or format"));
            }
            let pk = read_pk::<AggregationCircuit>(&dir, meta.pk_bytes, &meta.pk_blake2b, meta.shape.config)?;
            let keys = AggregationKeys { pk, shape: meta.shape };
            if !dir.join(AGG_VK_FILE).exists() {
                store_vk(cache_dir, &hash, &keys)?;
            }
            return Ok((keys, CacheStatus::Hit));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error(&meta_path)(e)),
    }
    let keys = keygen(params, protocols)?;
    let (pk_bytes, pk_blake2b) = write_pk(&dir, &keys.pk)?;
    store_vk(cache_dir, &hash, &keys)?;
    let meta = AggregationMeta {
        format: KEYS_FORMAT,
        aggregation_hash: to_hex(&hash),
        shape: keys.shape.clone(),
        pk_bytes,
        pk_blake2b,
    };
    let json = serde_json::to_vec_pretty(&meta).expect("aggregation metadata serializes");
    write_atomic(&meta_path, |w| w.write_all(&json))?;
    Ok((keys, CacheStatus::Miss))
}

/// Aggregates `proofs` into one proof with a keccak transcript, for the EVM.
pub fn aggregate(params: &ParamsKZG<Bn256>, keys: &AggregationKeys, proofs: &[InnerProof]) -> Result<AggregatedProof> {
    aggregate_with(params, keys, proofs, Transcript::Keccak)
}

/// Aggregates `proofs` into one proof with `transcript`: keccak for the EVM, Poseidon for a proof that is
/// aggregated again ([`InnerProof::from_aggregated`]).
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

/// The verifying key file of an aggregation cache entry, read by `verify` and `gen-verifier`.
pub const AGG_VK_FILE: &str = "vk.bin";

/// Writes the outer verifying key beside the proving key of its cache entry.
pub fn store_vk(cache_dir: &Path, hash: &Hash32, keys: &AggregationKeys) -> Result<()> {
    let dir = aggregation_key_dir(cache_dir, hash);
    std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
    write_atomic(&dir.join(AGG_VK_FILE), |mut w| keys.vk().write(&mut w, SerdeFormat::RawBytes))
}

/// Reads the outer verifying key of the aggregation `hash` from the cache.
pub fn load_vk(cache_dir: &Path, hash: &Hash32, config: AggregationConfigParams) -> Result<VerifyingKey<G1Affine>> {
    let dir = aggregation_key_dir(cache_dir, hash);
    let path = dir.join(AGG_VK_FILE);
    let file = File::open(&path).map_err(|error| {
        if error.kind() == std::io::ErrorKind::NotFound {
            Error::File {
                path: path.clone(),
                reason: "no verifying key for this aggregation in the cache: run `zkml-eth aggregate` with the same \
                         cache directory (--cache-dir) first"
                    .into(),
            }
        } else {
            Error::Io { path: path.clone(), error }
        }
    })?;
    VerifyingKey::<G1Affine>::read::<_, AggregationCircuit>(&mut BufReader::new(file), SerdeFormat::RawBytes, config)
        .map_err(|e| damaged(&path, &dir, e))
}

/// `format` of aggregated proof artifacts.
pub const AGGREGATED_FORMAT: &str = "zkml-eth-aggregated-proof/1";

/// One inner proof inside an aggregated artifact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InnerEntry {
    /// The proof artifact it came from.
    pub proof_file: PathBuf,
    /// Its model directory.
    pub model_dir: PathBuf,
    /// Its circuit hash, hex.
    pub circuit_hash: String,
    /// Its model commitment, `bytes32` hex.
    pub model_commitment: String,
    /// Index of its first instance among the aggregated proof's instances.
    pub offset: usize,
    /// Its public layout (how to read its instances).
    pub layout: zkml_circuit::PublicLayout,
}

/// An aggregated proof as a JSON file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AggregatedArtifact {
    /// [`AGGREGATED_FORMAT`].
    pub format: String,
    /// The key cache entry (see [`aggregation_hash`]), hex.
    pub aggregation_hash: String,
    /// The outer circuit's configuration.
    pub config: AggregationConfigParams,
    /// Set when the inner proofs were aggregated in two layers: the first layer, which the outer circuit
    /// verifies. The instances are laid out as with one layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_layer: Option<FirstLayer>,
    /// `unsafe-dev` or the parameters file.
    pub srs: String,
    /// Always keccak: aggregated proofs are for the EVM.
    pub transcript: Transcript,
    /// The inner proofs in order.
    pub inner: Vec<InnerEntry>,
    /// Accumulator limbs then the inner instances, `0x` + 32 bytes big-endian each.
    pub instances: Vec<String>,
    /// The proof, `0x` hex.
    pub proof: String,
}

/// The first layer of a two-layer aggregation: every inner proof aggregated with a Poseidon transcript.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstLayer {
    /// Its key cache entry, hex.
    pub aggregation_hash: String,
    /// log2 of its rows.
    pub k: u32,
}

impl AggregatedArtifact {
    /// The proof and instances, parsed.
    pub fn to_proof(&self) -> Result<AggregatedProof> {
        let proof = from_hex(&self.proof).ok_or_else(|| Error::Artifact("\"proof\" is not 0x-prefixed hex".into()))?;
        let instances = parse_instances(&self.instances).map_err(Error::Artifact)?;
        Ok(AggregatedProof { proof, instances })
    }

    /// The aggregation hash, parsed.
    pub fn hash(&self) -> Result<Hash32> {
        hash_from_hex(&self.aggregation_hash).ok_or_else(|| {
            Error::Artifact(format!("\"aggregation_hash\" {} is not 32 bytes of hex", self.aggregation_hash))
        })
    }

    /// Writes the artifact as pretty JSON; an existing file is an error unless `overwrite`.
    pub fn save(&self, path: &Path, overwrite: bool) -> Result<()> {
        save_json(path, &serde_json::to_vec_pretty(self).expect("aggregated artifacts serialize"), overwrite)
    }

    /// Reads an aggregated artifact; `None` when the file is JSON of another format.
    pub fn load(path: &Path) -> Result<Option<Self>> {
        let text = std::fs::read_to_string(path).map_err(|error| Error::Io { path: path.to_path_buf(), error })?;
        let bad = |reason: String| Error::File { path: path.to_path_buf(), reason };
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
        if value.get("format").and_then(|f| f.as_str()) != Some(AGGREGATED_FORMAT) {
            return Ok(None);
        }
        let artifact: Self =
            serde_json::from_value(value).map_err(|e| bad(format!("malformed aggregated proof artifact: {e}")))?;
        artifact.to_proof().map_err(|e| bad(e.to_string()))?;
        Ok(Some(artifact))
    }
}
