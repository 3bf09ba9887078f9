//! Sizing an aggregation before anything is generated or proven: the circuit is laid out at each `k` on
//! placeholder proofs and its columns and memory estimated, to choose its `k` ([`auto_k`]) and between one
//! and two layers ([`plan_layers`]).
//!
//! What a size must respect is fixed here: `k` within [`MIN_K`]..=[`MAX_K`], the memory budget given. What
//! it aims for (how many advice columns, how many public values one layer may take) is a tuning choice
//! between verifier gas and proving time and memory, measured on particular models: it is the caller's
//! [`LayerPolicy`], which has no default here.

use halo2_base::halo2_proofs::{
    halo2curves::bn256::{Bn256, G1Affine},
    poly::kzg::commitment::ParamsKZG,
};
use snark_verifier_sdk::snark_verifier::verifier::plonk::PlonkProtocol;

use super::{ACCUMULATOR_LIMBS, MemoryEstimate, gigabytes, keygen::lay_out};
use crate::error::{Error, Result};

/// Smallest outer `k` tried: verifying even one small proof in-circuit takes over a million cells, more
/// advice columns than a verifier can afford below it.
pub const MIN_K: u32 = 18;
/// Largest outer `k` tried: the SRS alone is then 1 GB and proving needs tens of GB.
pub const MAX_K: u32 = 23;

/// The sizing choices that trade the on-chain verifier's gas against proving time and memory. None of them
/// affects soundness: every size they lead to aggregates and verifies the same proofs. They were measured on
/// particular models, so the library holds no defaults; `zkml-eth aggregate` holds the ones tuned on the
/// digits examples (docs/aggregation.md, "Sizing policy").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerPolicy {
    /// Advice columns a layer verified on the EVM aims for below [`one_layer_max_k`](Self::one_layer_max_k).
    /// Every column adds a commitment, a selector, a permutation column and evaluations to the verifier.
    pub evm_max_advice_columns: usize,
    /// The largest `k` [`auto_k`] raises one layer to for
    /// [`evm_max_advice_columns`](Self::evm_max_advice_columns); at it, one layer takes the columns it needs.
    pub one_layer_max_k: u32,
    /// The most public values (accumulator limbs included, [`public_values`]) [`plan_layers`] lets one layer
    /// take: its verifier reads each from calldata, hashes it into the transcript and weighs it by a
    /// Lagrange basis value.
    pub one_layer_max_public_values: usize,
    /// The largest `k` at which [`plan_layers`] keeps one layer; beyond it two layers are planned.
    pub planned_one_layer_max_k: u32,
    /// Advice columns the first of two layers aims for. Its verifier is the second layer's circuit, so fewer
    /// columns only buy the second layer a few in-circuit points, for more rows of proving.
    pub first_layer_max_advice_columns: usize,
    /// Advice columns the second of two layers, the one verified on the EVM, aims for.
    pub second_layer_max_advice_columns: usize,
}

impl LayerPolicy {
    /// The advice columns one aggregation layer for the EVM aims for at `k`:
    /// [`evm_max_advice_columns`](Self::evm_max_advice_columns) below
    /// [`one_layer_max_k`](Self::one_layer_max_k), any number from it on.
    pub fn max_advice_columns(&self, k: u32) -> usize {
        if k < self.one_layer_max_k { self.evm_max_advice_columns } else { usize::MAX }
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
/// which it needs at most [`LayerPolicy::max_advice_columns`] advice columns (a cheap verifier, as every
/// column costs gas) if that fits, else the fitting `k` with the fewest columns (more gas, but it runs).
pub fn auto_k(
    params: &ParamsKZG<Bn256>,
    protocols: &[PlonkProtocol<G1Affine>],
    memory_budget: u64,
    policy: &LayerPolicy,
) -> Result<AutoSize> {
    auto_k_for(params, protocols, memory_budget, |k| policy.max_advice_columns(k))
}

/// [`auto_k`] aiming for at most `max_columns(k)` advice columns at `k`: fewer for a cheaper verifier, more
/// for a faster prover (a first layer, whose verifier runs in a circuit).
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
    /// One layer of this size: its verifier has at most [`LayerPolicy::evm_max_advice_columns`] advice
    /// columns.
    One(AutoSize),
    /// Two layers, the first of this size (at most [`LayerPolicy::first_layer_max_advice_columns`] columns
    /// where it fits); `one` is what a single layer would have needed.
    Two {
        /// The first layer, verified by a second one of [`LayerPolicy::second_layer_max_advice_columns`].
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
    /// One layer would need more than [`LayerPolicy::evm_max_advice_columns`] advice columns.
    AdviceColumns,
    /// One layer would take this many public values ([`public_values`]), over
    /// [`LayerPolicy::one_layer_max_public_values`].
    PublicValues(usize),
    /// One layer would need more rows than [`LayerPolicy::planned_one_layer_max_k`] for its columns.
    Rows,
}

/// The public values of an aggregation of proofs of `protocols`: the accumulator limbs, then every inner
/// proof's instances.
pub fn public_values(protocols: &[PlonkProtocol<G1Affine>]) -> usize {
    ACCUMULATOR_LIMBS + protocols.iter().flat_map(|protocol| &protocol.num_instance).sum::<usize>()
}

/// Decides between one and two aggregation layers for `protocols` within `memory_budget`: one if
/// [`auto_k`] fits it in [`LayerPolicy::evm_max_advice_columns`] advice columns by
/// [`LayerPolicy::planned_one_layer_max_k`] with at most [`LayerPolicy::one_layer_max_public_values`] public
/// values, else two, the first sized for at most [`LayerPolicy::first_layer_max_advice_columns`]. Both
/// choices come from one series of layouts.
pub fn plan_layers(
    params: &ParamsKZG<Bn256>,
    protocols: &[PlonkProtocol<G1Affine>],
    memory_budget: u64,
    policy: &LayerPolicy,
) -> Result<LayerPlan> {
    let one_max = |k| policy.max_advice_columns(k);
    let sizes = lay_out_each_k(params, protocols, memory_budget, one_max)?;
    let one = sizes.choose(one_max)?;
    let public_values = public_values(protocols);
    let limit = if one.advice_columns > policy.evm_max_advice_columns {
        OneLayerLimit::AdviceColumns
    } else if public_values > policy.one_layer_max_public_values {
        OneLayerLimit::PublicValues(public_values)
    } else if one.k > policy.planned_one_layer_max_k {
        OneLayerLimit::Rows
    } else {
        return Ok(LayerPlan::One(one));
    };
    let first_max_columns = policy.first_layer_max_advice_columns;
    // The series stops at the one-layer choice; a first layer needing more rows than that is laid out anew.
    let first = match sizes.fitting.iter().find(|size| size.advice_columns <= first_max_columns) {
        Some(&size) => size,
        None => auto_k_for(params, protocols, memory_budget, |_| first_max_columns)?,
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
