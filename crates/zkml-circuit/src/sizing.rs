//! Automatic circuit sizing: the `k`, lookup bits and columns that fit a model at the least proving cost.
//!
//! Proving cost is dominated by committing to and evaluating every witness column over `2^k` rows, and
//! every column also adds a commitment and its evaluations to the proof and an elliptic-curve
//! multiplication to every verifier, on chain included. A layout therefore costs
//! `(2^k + COLUMN_OVERHEAD_ROWS) · witness columns`, witness columns being advice, range-lookup advice
//! and the table-lookup pairs: a single column at `2^14` beats fourteen at `2^10`. Every `k` from the smallest that holds the tables is laid out for real (on zeros,
//! as keygen does) with `lookup_bits = k - 1`, the widest range table that fits, which makes range checks
//! cheapest; the cheapest layout wins, ties to the smaller `k`.

use halo2_base::gates::circuit::{BaseCircuitParams, CircuitBuilderStage};
use serde::{Deserialize, Serialize};
use zkml_model::quantize::QuantizedModel;

use crate::{
    circuit::{MINIMUM_UNUSABLE_ROWS, ModelCircuit, ModelCircuitParams},
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

/// A sized circuit: what keygen needs, and the figures behind the choice.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CircuitSize {
    /// log2 of the number of rows.
    pub k: u32,
    /// Bits of the range-check table.
    pub lookup_bits: usize,
    /// Columns.
    pub params: ModelCircuitParams,
    /// Advice cells laid out.
    pub advice_cells: usize,
    /// Rows of the nonlinear-function table (0 if none).
    pub table_rows: usize,
}

impl CircuitSize {
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

/// Lays out `model` at `k` with `lookup_bits`, returning its size.
pub fn size_at(
    model: &QuantizedModel,
    layout: &PublicLayout,
    k: u32,
    lookup_bits: usize,
) -> Result<CircuitSize, Error> {
    let params = ModelCircuitParams {
        base: BaseCircuitParams {
            k: k as usize,
            lookup_bits: Some(lookup_bits),
            num_instance_columns: 1,
            ..Default::default()
        },
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
    })
}

/// The cheapest size for `model` (see the module docs).
pub fn auto_size(model: &QuantizedModel, layout: &PublicLayout) -> Result<CircuitSize, Error> {
    // A first layout tells the cell count; layouts wider than MAX_COLUMNS are never the cheapest.
    let probe = size_at(model, layout, 16, 15)?;
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
        let size = if k == probe.k { probe.clone() } else { size_at(model, layout, k, k as usize - 1)? };
        if best.as_ref().is_none_or(|b| size.cost() < b.cost()) {
            best = Some(size);
        }
    }
    best.ok_or(Error::TooLarge { max_k: MAX_K })
}
