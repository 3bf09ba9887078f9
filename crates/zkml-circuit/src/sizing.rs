//! Automatic circuit sizing: how ranges are checked, and the `k`, lookup bits and columns that fit a model.
//!
//! Range checks by lookup ([`RangeChecks::Lookup`]) take the fewest rows, and lookup layouts put
//! constant-weight dot products in columns of their own ([`crate::dot`]), as many inputs a row as the rows
//! at that `k` need. Proving cost is then estimated as work over `2^k` rows: every witness column (advice,
//! range-lookup advice, table-lookup pairs, dot-product columns), three more for each lookup argument (its
//! permuted input and table and its running product), and [`FIXED_OVERHEAD_COLUMNS`] that come with any
//! layout (the permutation argument's products, the quotient's pieces, the fixed columns); plus
//! [`COLUMN_OVERHEAD_ROWS`] for each witness column, which also adds a commitment and its evaluations to the
//! proof and an elliptic-curve multiplication to every verifier. So one column at `2^21` (LeNet-5: 90 s)
//! loses to eleven at `2^17` (14 s). Every `k` from the smallest that holds the tables is laid out for
//! real (on zeros, as keygen does) with `lookup_bits = k - 1`, the widest range table that fits, which
//! makes range checks cheapest; the cheapest layout wins, ties to the smaller `k`, among those with at
//! most [`MAX_EVM_WITNESS_COLUMNS`] witness columns, whose single EVM verifier fits EIP-170 (a model too
//! large for that at [`MAX_K`] gets the cheapest layout of any width, to be aggregated).
//!
//! Range checks by bits ([`RangeChecks::Bits`]) take more cells (one per bit, against one per lookup limb)
//! but leave no lookup argument and no dot-product columns: a single advice column, so a smaller proof that
//! is cheaper to verify on chain and to aggregate (an aggregation circuit spends about 100k cells on each
//! inner commitment). They are laid out at the smallest `k` that holds them in one column, and chosen
//! automatically when the estimated proving work they add over the lookup layout is at most
//! [`BITS_MAX_EXTRA_COST`]: the digits MLP, the eth-price and pixel-art models, but not the digits CNN,
//! LeNet-5 or the transformer.

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
/// Proving work over `2^k` rows that comes with any layout, in columns: the permutation argument's running
/// products, the quotient's pieces, the fixed columns evaluated on the extended domain. Fitted to two
/// measured proofs on two cores: LeNet-5 in one column at `2^21` (90 s) against the transformer in seven
/// at `2^19` (42 s).
pub const FIXED_OVERHEAD_COLUMNS: u64 = 8;
/// What a lookup argument adds, in columns: its permuted input, permuted table and running product.
pub const LOOKUP_ARGUMENT_COLUMNS: u64 = 3;
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
        advice + lookup + 2 * self.params.table_columns + self.dot_witness_columns()
    }

    /// Advice columns of the dot-product gate: its inputs and accumulator (0 without it).
    pub fn dot_witness_columns(&self) -> usize {
        if self.params.dot_columns > 0 { self.params.dot_columns + 1 } else { 0 }
    }

    /// Fixed columns: halo2-base's constants, and the dot-product gate's weights, selector, chain flag and
    /// bias.
    pub fn fixed_columns(&self) -> usize {
        let dot = if self.params.dot_columns > 0 { self.params.dot_columns + 3 } else { 0 };
        self.params.base.num_fixed + dot
    }

    /// Lookup arguments: the range table's (one per range-lookup column, or one on the single advice
    /// column) and one per pair of function-table columns.
    pub fn lookup_arguments(&self) -> usize {
        let base = &self.params.base;
        let range = match base.lookup_bits {
            None => 0,
            Some(_) if base.num_advice_per_phase.iter().sum::<usize>() == 1 => 1,
            Some(_) => base.num_lookup_advice_per_phase.iter().sum(),
        };
        range + self.params.table_columns
    }

    /// The cost model (see the module docs).
    pub fn cost(&self) -> u64 {
        let columns = self.witness_columns() as u64;
        let per_row = columns + LOOKUP_ARGUMENT_COLUMNS * self.lookup_arguments() as u64 + FIXED_OVERHEAD_COLUMNS;
        // The dot-product gate's fixed columns, at half a column each.
        let dot_fixed = (self.fixed_columns() - self.params.base.num_fixed) as u64;
        (2 * per_row + dot_fixed) * (1u64 << (self.k - 1)) + columns * COLUMN_OVERHEAD_ROWS
    }
}

/// Checks that a function table of `rows` rows fits a circuit of `2^k` rows (laying out refuses one that
/// does not, naming the smallest `k` that holds it).
pub(crate) fn table_fits(rows: usize, k: u32) -> Result<(), Error> {
    let usable = |k: u32| (1usize << k) - MINIMUM_UNUSABLE_ROWS;
    if rows <= usable(k) {
        return Ok(());
    }
    let min_k = (k..=MAX_K).find(|&k| rows <= usable(k)).unwrap_or(MAX_K + 1);
    Err(Error::TableTooLarge { rows, k, usable: usable(k), min_k })
}

/// Lays out `model` at `k` with `lookup_bits` (`None`: range checks by bits), returning its size: the
/// cheaper of the layouts with and without the dot-product columns (lookup layouts only).
pub fn size_at(
    model: &QuantizedModel,
    layout: &PublicLayout,
    k: u32,
    lookup_bits: Option<usize>,
) -> Result<CircuitSize, Error> {
    let plain = size_with(model, layout, k, lookup_bits, false);
    if lookup_bits.is_none() {
        return plain;
    }
    match (plain, size_with(model, layout, k, lookup_bits, true)) {
        (Ok(plain), Ok(dots)) => Ok(if dots.cost() < plain.cost() { dots } else { plain }),
        (Ok(size), Err(_)) | (Err(_), Ok(size)) => Ok(size),
        (Err(e), Err(_)) => Err(e),
    }
}

/// [`size_at`], with the dot-product columns asked for or not (they are laid out only where there are
/// constant-weight dot products and range lookups).
pub fn size_with(
    model: &QuantizedModel,
    layout: &PublicLayout,
    k: u32,
    lookup_bits: Option<usize>,
    dots: bool,
) -> Result<CircuitSize, Error> {
    let params = ModelCircuitParams {
        base: BaseCircuitParams { k: k as usize, lookup_bits, num_instance_columns: 1, ..Default::default() },
        table_columns: 0,
        dot_columns: if dots { crate::dot::MAX_DOT_COLUMNS } else { 0 },
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

/// The most estimated proving work ([`CircuitSize::cost`]) bit range checks may add over the lookup layout
/// and still be chosen automatically: about two and a half seconds of proving on two cores (LeNet-5's
/// eleven columns at `2^17`, about 2.9M, prove in 14 s), for a proof with several commitments fewer that
/// costs less gas to verify. The pixel-art generator keeps its single column at `2^16` by this margin.
pub const BITS_MAX_EXTRA_COST: u64 = 1 << 19;

/// The size for `model`: with `range` checks when given, else bit range checks when their single column
/// costs at most [`BITS_MAX_EXTRA_COST`] of estimated proving work more than the lookup layout, else
/// lookups (see the module docs).
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
            match narrowest_bits(model, layout, MAX_K) {
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
    let probe = match size_at(model, layout, 16, range.lookup_bits(16)) {
        Err(Error::TooLarge { .. } | Error::TableTooLarge { .. }) => {
            size_at(model, layout, MAX_K, range.lookup_bits(MAX_K))?
        }
        other => other?,
    };
    let mut best: Option<CircuitSize> = None;
    for k in MIN_K..=MAX_K {
        let usable = (1usize << k) - MINIMUM_UNUSABLE_ROWS;
        if probe.table_rows > usable || probe.advice_cells > usable * MAX_COLUMNS {
            continue;
        }
        if let Some(b) = &best {
            // The least any layout at this k costs is already more than the best: larger k only cost more.
            if (1 + LOOKUP_ARGUMENT_COLUMNS + FIXED_OVERHEAD_COLUMNS) * (1u64 << k) > b.cost() {
                break;
            }
        }
        let size = match if k == probe.k { Ok(probe.clone()) } else { size_at(model, layout, k, range.lookup_bits(k)) }
        {
            // The dot products need more rows than this k has, even at their widest.
            Err(Error::TooLarge { .. }) => continue,
            other => other?,
        };
        if size.witness_columns() <= max_columns && best.as_ref().is_none_or(|b| size.cost() < b.cost()) {
            best = Some(size);
        }
    }
    best.ok_or(Error::TooLarge { max_k: MAX_K })
}

/// The smallest `k` up to `max_k` at which bit range checks fit one advice column: every further column
/// would add a commitment, and a permutation argument's, to every proof.
fn narrowest_bits(model: &QuantizedModel, layout: &PublicLayout, max_k: u32) -> Result<CircuitSize, Error> {
    let probe = match size_at(model, layout, 16, None) {
        Err(Error::TableTooLarge { .. }) => size_at(model, layout, max_k, None)?,
        other => other?,
    };
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
