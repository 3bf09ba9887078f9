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
//! sides test against. With two layers the instances are laid out the same way.
//!
//! # Keys
//!
//! The aggregation circuit depends only on the inner verifying keys and instance counts (never on the
//! proofs), so keys are made from placeholder proofs of the right shape ([`keygen()`]) and cached like the
//! inner ones: `CACHE/keys/agg-<hash>/{pk.bin, vk.bin, meta.json}`, where the hash ([`aggregation_hash`])
//! covers the inner protocols in order, the outer `k`, the SRS and the revision of the circuit's layout code.
//!
//! # Size
//!
//! The outer circuit's `k` trades proving time and memory against verifier cost. Every advice column adds a
//! commitment, a selector, a permutation column and evaluations to the verifier; but halo2's prover time
//! and peak memory both grow with the number of polynomials times the rows ([`polynomials`],
//! [`MemoryEstimate`]), so halving the columns by doubling the rows costs more, not less. [`auto_k`] lays
//! the circuit out at each `k` from [`MIN_K`] up and takes the first that fits the memory budget with at
//! most the advice columns a [`LayerPolicy`] aims for, else the fitting one with the fewest columns.
//! [`plan_layers`] aggregates in two layers where the policy rules one out. The policy is the caller's:
//! `zkml-eth aggregate` holds defaults tuned on the digits examples (docs/aggregation.md).
//!
//! # Modules
//!
//! - `circuit`, `msm`: the aggregation circuit and its batched MSM.
//! - `prove`: inner proofs in, an aggregated proof out, and its native check.
//! - `keygen`: the circuit laid out on placeholder proofs, and its keys.
//! - `cache`: the key cache.
//! - `sizing`, `memory`: choosing `k` and the layers, and the memory estimate that bounds them.
//!
//! The aggregated proof's JSON artifact lives beside the inference proof's, in [`crate::artifact`].

mod cache;
mod circuit;
mod keygen;
mod memory;
mod msm;
mod prove;
mod sizing;

pub use cache::{AGG_VK_FILE, aggregation_hash, aggregation_key_dir, load_or_keygen, load_vk, store_vk};
pub use circuit::AggregationCircuit;
pub use keygen::{AggregationKeys, AggregationShape, keygen};
pub use memory::{
    KEYGEN_PEAK_BYTES_PER_ADVICE_CELL, KEYGEN_PEAK_BYTES_PER_ROW_AND_KEY_COLUMN, MemoryEstimate,
    PROVE_PEAK_BYTES_PER_ROW_AND_POLYNOMIAL, gigabytes, key_columns, polynomials, srs_bytes,
};
pub use prove::{
    ACCUMULATOR_LIMBS, AggregatedProof, InnerProof, MAX_PROOFS, Protocol, accumulator_holds, aggregate, aggregate_with,
    aggregated_protocol, inner_protocol, verify, verify_with,
};
pub use sizing::{
    AutoSize, LayerPlan, LayerPolicy, MAX_K, MIN_K, OneLayerLimit, auto_k, auto_k_for, plan_layers, public_values,
};

/// The aggregated proof's artifact, re-exported from [`crate::artifact`] where it lives.
pub use crate::artifact::{AGGREGATED_FORMAT, AggregatedArtifact, FirstLayer, InnerEntry};
