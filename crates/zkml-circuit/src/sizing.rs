//! Automatic circuit sizing: how ranges are checked, and the `k`, lookup bits and columns that fit a model.
//!
//! Range checks by lookup ([`RangeChecks::Lookup`]) take the fewest rows. Proving cost is then dominated by
//! committing to and evaluating every witness column over `2^k` rows, and every column also adds a
//! commitment and its evaluations to the proof and an elliptic-curve multiplication to every verifier, on
//! chain included. A lookup layout therefore costs `(2^k + COLUMN_OVERHEAD_ROWS) · witness columns`,
//! witness columns being advice, range-lookup advice and the table-lookup pairs: a single column at `2^14`
//! beats fourteen at `2^10`. Every `k` from the smallest that holds the tables is laid out for real (on
//! zeros, as keygen does) with `lookup_bits = k - 1`, the widest range table that fits, which makes range
//! checks cheapest; the cheapest layout wins, ties to the smaller `k`, among those with at most
//! [`MAX_EVM_WITNESS_COLUMNS`] witness columns, whose single EVM verifier fits EIP-170 (a model too large
//! for that at [`MAX_K`] gets the cheapest layout of any width, to be aggregated).
//!
//! Range checks by bits ([`RangeChecks::Bits`]) take more cells (one per bit, against one per lookup limb)
//! but leave no lookup argument: three commitments and their evaluations fewer, so a smaller proof that is
//! cheaper to verify on chain and to aggregate (an aggregation circuit spends about 100k cells on each inner
//! commitment). They are laid out in a single advice column at the smallest `k` that holds it, and chosen
//! automatically when that `k` is at most [`BITS_EXTRA_K`] above the lookup layout's and the estimated
//! proving work they add is at most [`BITS_MAX_EXTRA_COST`]: the digits MLP (one column at `2^14` either
//! way), the eth-price and pixel-art models (one `k` more, well under a second), but not the digits CNN
//! (`2^18` instead of ten columns at `2^14`) nor LeNet-5 (`2^22` instead of `2^21`: 119 s of proving against
//! about 75 s).

use halo2_base::gates::circuit::{BaseCircuitParams, CircuitBuilderStage};
use serde::{Deserialize, Serialize};
use zkml_model::quantize::QuantizedModel;

use crate::{
    circuit::{MINIMUM_UNUSABLE_ROWS, ModelCircuit, ModelCircuitParams, OpCells},
    model::Error,
    public::PublicLayout,
};

/// Smallest `k` tried.
pub const MIN_K: u32 = 8;
/// What one more witness column costs beyond its rows, in rows of proving work (see the module docs).
pub const COLUMN_OVERHEAD_ROWS: u64 = 1 << 13;
/// Layouts with more witness columns than this are not tried.
pub const MAX_COLUMNS: usize = 64;
/// Largest `k` tried (the largest perpetual-powers-of-tau conversion commonly used is 2^26).
pub const MAX_K: u32 = 26;
/// The most witness columns a lookup layout gets while a wider `k` can hold the model: the single EVM
/// verifier grows with every column (a commitment, its evaluations and its share of the permutation
/// argument), and at twelve (the transformer example at `2^18`) it already fills EIP-170's 24,576 bytes, loops
/// rolled. Models too large for this at [`MAX_K`] get the cheapest wider layout, for aggregation.
pub const MAX_EVM_WITNESS_COLUMNS: usize = 11;

/// How a circuit checks that values lie in a range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RangeChecks {
    /// A lookup into a table of `2^lookup_bits` rows: fewest rows, fastest to prove.
    Lookup,
    /// Bit decomposition ([`crate::range::BitRangeChip`]): more rows, but no lookup argument, so a smaller
    /// proof that costs less to verify on chain and to aggregate.
    Bits,
}

impl RangeChecks {
    /// The lookup bits this mode uses at `k`: the widest table that fits, or none.
    pub fn lookup_bits(self, k: u32) -> Option<usize> {
        match self {
            Self::Lookup => Some(k as usize - 1),
            Self::Bits => None,
        }
    }
}

/// A sized circuit: what keygen needs, and the figures behind the choice.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CircuitSize {
    /// log2 of the number of rows.
    pub k: u32,
    /// Bits of the range-check table; `None` checks ranges by bits, without a lookup
    /// ([`crate::range::BitRangeChip`]).
    pub lookup_bits: Option<usize>,
    /// Columns.
    pub params: ModelCircuitParams,
    /// Advice cells laid out.
    pub advice_cells: usize,
    /// Rows of the nonlinear-function table (0 if none).
    pub table_rows: usize,
    /// Where the gate cells go, by kind of op, most first (not part of the circuit's identity).
    #[serde(default)]
    pub cells_by_op: Vec<OpCells>,
}

impl CircuitSize {
    /// How ranges are checked.
    pub fn range_checks(&self) -> RangeChecks {
        if self.lookup_bits.is_some() { RangeChecks::Lookup } else { RangeChecks::Bits }
    }

    /// Witness columns committed by the prover.
    pub fn witness_columns(&self) -> usize {
        let base = &self.params.base;
        let advice: usize = base.num_advice_per_phase.iter().sum();
        // With a single advice column halo2-base enables the range lookup on that column itself.
        let lookup: usize = if advice == 1 { 0 } else { base.num_lookup_advice_per_phase.iter().sum() };
        advice + lookup + 2 * self.params.table_columns
    }

    /// The cost model (see the module docs).
    pub fn cost(&self) -> u64 {
        self.witness_columns() as u64 * ((1u64 << self.k) + COLUMN_OVERHEAD_ROWS)
    }
}

/// Lays out `model` at `k` with `lookup_bits` (`None`: range checks by bits), returning its size.
pub fn size_at(
    model: &QuantizedModel,
    layout: &PublicLayout,
    k: u32,
    lookup_bits: Option<usize>,
) -> Result<CircuitSize, Error> {
    let params = ModelCircuitParams {
        base: BaseCircuitParams { k: k as usize, lookup_bits, num_instance_columns: 1, ..Default::default() },
        table_columns: 0,
    };
    let zeros = vec![0; model.input_len()];
    let circuit = ModelCircuit::new(CircuitBuilderStage::Keygen, model, layout, params, None, &zeros)?;
    Ok(CircuitSize {
        k,
        lookup_bits,
        params: circuit.circuit_params().clone(),
        advice_cells: circuit.advice_cells(),
        table_rows: circuit.table_rows(),
        cells_by_op: circuit.cells_by_op(model),
    })
}

/// How many more `k` (each doubling the rows) bit range checks may take over lookups and still be chosen
/// automatically: up to four times the rows for a proof without a lookup argument.
pub const BITS_EXTRA_K: u32 = 2;
/// The most estimated proving work ([`CircuitSize::cost`]) bit range checks may add over the lookup layout
/// and still be chosen automatically: about four seconds of proving on two cores, against a proof three
/// commitments smaller.
pub const BITS_MAX_EXTRA_COST: u64 = 1 << 17;

/// The size for `model`: with `range` checks when given, else bit range checks when they fit one column
/// within [`BITS_EXTRA_K`] of the lookup layout's `k` and [`BITS_MAX_EXTRA_COST`] of its estimated proving
/// work, else lookups (see the module docs).
pub fn auto_size(
    model: &QuantizedModel,
    layout: &PublicLayout,
    range: Option<RangeChecks>,
) -> Result<CircuitSize, Error> {
    match range {
        Some(RangeChecks::Lookup) => cheapest_lookup(model, layout),
        Some(RangeChecks::Bits) => narrowest_bits(model, layout, MAX_K),
        None => {
            let lookup = cheapest_lookup(model, layout)?;
            match narrowest_bits(model, layout, (lookup.k + BITS_EXTRA_K).min(MAX_K)) {
                Ok(bits) if bits.cost() <= lookup.cost() + BITS_MAX_EXTRA_COST => Ok(bits),
                Ok(_) => Ok(lookup),
                Err(Error::TooLarge { .. }) => Ok(lookup),
                Err(e) => Err(e),
            }
        }
    }
}

/// The cheapest lookup layout by the cost model among those whose EVM verifier fits
/// ([`MAX_EVM_WITNESS_COLUMNS`]); the cheapest of all when none does.
fn cheapest_lookup(model: &QuantizedModel, layout: &PublicLayout) -> Result<CircuitSize, Error> {
    match cheapest_lookup_within(model, layout, MAX_EVM_WITNESS_COLUMNS) {
        Err(Error::TooLarge { .. }) => cheapest_lookup_within(model, layout, MAX_COLUMNS),
        other => other,
    }
}

fn cheapest_lookup_within(
    model: &QuantizedModel,
    layout: &PublicLayout,
    max_columns: usize,
) -> Result<CircuitSize, Error> {
    let range = RangeChecks::Lookup;
    // A first layout tells the cell count; layouts wider than MAX_COLUMNS are never the cheapest.
    let probe = size_at(model, layout, 16, range.lookup_bits(16))?;
    let mut best: Option<CircuitSize> = None;
    for k in MIN_K..=MAX_K {
        let usable = (1usize << k) - MINIMUM_UNUSABLE_ROWS;
        if probe.table_rows > usable || probe.advice_cells > usable * MAX_COLUMNS {
            continue;
        }
        if let Some(b) = &best {
            // One column at this k already costs more than the best layout: larger k only cost more.
            if (1u64 << k) + COLUMN_OVERHEAD_ROWS > b.cost() {
                break;
            }
        }
        let size = if k == probe.k { probe.clone() } else { size_at(model, layout, k, range.lookup_bits(k))? };
        if size.witness_columns() <= max_columns && best.as_ref().is_none_or(|b| size.cost() < b.cost()) {
            best = Some(size);
        }
    }
    best.ok_or(Error::TooLarge { max_k: MAX_K })
}

/// The smallest `k` up to `max_k` at which bit range checks fit one advice column: every further column
/// would add a commitment, and a permutation argument's, to every proof.
fn narrowest_bits(model: &QuantizedModel, layout: &PublicLayout, max_k: u32) -> Result<CircuitSize, Error> {
    let probe = size_at(model, layout, 16, None)?;
    for k in MIN_K..=max_k {
        let usable = (1usize << k) - MINIMUM_UNUSABLE_ROWS;
        if probe.advice_cells > usable || probe.table_rows > usable {
            continue;
        }
        let size = if k == probe.k { probe.clone() } else { size_at(model, layout, k, None)? };
        if size.params.base.num_advice_per_phase.iter().sum::<usize>() == 1 {
            return Ok(size);
        }
    }
    Err(Error::TooLarge { max_k })
}
