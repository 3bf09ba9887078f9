//! The peak memory of an aggregation estimated from its shape before anything is generated or proven: a
//! model of halo2's keygen and prover fitted to measured peaks (docs/memory.md has the measurements, the fit
//! and the command that reproduces them).

use serde::{Deserialize, Serialize};
use snark_verifier_sdk::halo2::aggregation::AggregationConfigParams;

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

/// Bytes in GB (10^9), for messages.
pub fn gigabytes(bytes: u64) -> f64 {
    bytes as f64 / 1e9
}
