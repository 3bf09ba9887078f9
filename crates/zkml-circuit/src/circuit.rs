//! The halo2 circuit of a model: halo2-base's gate and range columns, plus lookup columns into the fixed
//! table of nonlinear functions when the model has any, and one instance column laid out by
//! [`PublicLayout`].

use halo2_base::{
    AssignedValue,
    gates::{
        RangeInstructions,
        circuit::{BaseCircuitParams, BaseConfig, CircuitBuilderStage, MaybeRangeConfig, builder::BaseCircuitBuilder},
        flex_gate::MultiPhaseThreadBreakPoints,
    },
    halo2_proofs::{
        circuit::{Layouter, SimpleFloorPlanner, Value},
        halo2curves::bn256::Fr,
        plonk::{Advice, Assigned, Circuit, Column, ConstraintSystem, Error as PlonkError, TableColumn},
        poly::Rotation,
    },
    virtual_region::{lookups::LookupAnyManager, manager::VirtualRegionManager},
};
use serde::{Deserialize, Serialize};
use zkml_model::{commit::model_commitment, quantize::QuantizedModel};

use crate::{
    dot::{DotChip, DotConfig},
    model::{Error, assign_model},
    public::{PublicLayout, SectionKind, WeightVisibility, hash_cells, pack_cells},
    range::{BitGateConfig, BitRangeChip, BitRun},
    tables::TableChip,
};

/// Rows kept free at the bottom of the circuit for halo2's blinding factors.
pub const MINIMUM_UNUSABLE_ROWS: usize = 9;

/// The column configuration of a model's circuit, fixed at keygen.
#[derive(Clone, Debug, Default, Hash, Serialize, Deserialize)]
pub struct ModelCircuitParams {
    /// halo2-base's gate and range columns.
    pub base: BaseCircuitParams,
    /// Pairs of advice columns looking up the nonlinear-function table.
    pub table_columns: usize,
    /// Input columns of the dot-product gate ([`crate::dot`]); 0 without it. Laying out for keygen, any
    /// non-zero count asks for the gate, and the fewest columns that fit the rows are taken. Left out of
    /// the serialized form when 0, so circuits without it keep the circuit hash (and the keys) they had
    /// before it existed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dot_columns: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Columns of the function table and of the cells looked up in it.
#[derive(Clone, Debug)]
pub struct TableConfig {
    advice: Vec<[Column<Advice>; 2]>,
    key: TableColumn,
    value: TableColumn,
}

/// The circuit's columns.
#[derive(Clone, Debug)]
pub struct ModelConfig {
    base: BaseConfig<Fr>,
    table: Option<TableConfig>,
    bits: Option<BitGateConfig>,
    dot: Option<DotConfig>,
}

/// A model's circuit with its witness (or a layout on zeros, for keygen).
#[derive(Debug)]
pub struct ModelCircuit {
    builder: BaseCircuitBuilder<Fr>,
    tables: TableChip<Fr>,
    dots: DotChip<Fr>,
    params: ModelCircuitParams,
    instances: Vec<Fr>,
    nodes: Vec<Vec<AssignedValue<Fr>>>,
    node_advice: Vec<usize>,
    bit_runs: Vec<BitRun>,
}

/// The gate cells of one kind of op, summed over its nodes: where a model's rows go.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpCells {
    /// The op (as `zkml-eth compile` names it).
    pub op: String,
    /// Nodes of that op.
    pub nodes: usize,
    /// Gate advice cells they lay out (range-check lookups and tables not included).
    pub cells: usize,
}

impl ModelCircuit {
    /// Lays out `model` on the quantized `input` at `stage`. For keygen and mock proving the column
    /// counts are computed here (from `k` and `lookup_bits` in `params.base`); the prover takes them,
    /// and the `break_points`, from keygen.
    pub fn new(
        stage: CircuitBuilderStage,
        model: &QuantizedModel,
        layout: &PublicLayout,
        params: ModelCircuitParams,
        break_points: Option<MultiPhaseThreadBreakPoints>,
        input: &[i64],
    ) -> Result<Self, Error> {
        let mut builder = BaseCircuitBuilder::<Fr>::from_stage(stage).use_params(params.base.clone());
        if let Some(break_points) = break_points {
            builder.set_break_points(break_points);
        }
        let witness_gen_only = builder.witness_gen_only();
        let copy_manager = builder.core().copy_manager.clone();
        let tables = TableChip::new(model, LookupAnyManager::new(witness_gen_only, copy_manager.clone()));
        // Dot products get their own columns when asked for, in lookup layouts (already several columns
        // wide) and with constant weights.
        let weights = layout.visibility.weights;
        let dots_enabled =
            params.dot_columns > 0 && params.base.lookup_bits.is_some() && weights == WeightVisibility::Fixed;
        let dots = DotChip::new(dots_enabled, witness_gen_only, copy_manager);
        // No lookup bits: range checks by bits, and no range lookup in the constraint system.
        let range = params.base.lookup_bits.map(|_| builder.range_chip());
        let bits = BitRangeChip::new();
        let ctx = builder.main(0);
        let cells = match &range {
            Some(range) => assign_model(ctx, range, &tables, &dots, model, weights, input)?,
            None => assign_model(ctx, &bits, &tables, &dots, model, weights, input)?,
        };
        let gate = bits.gate();
        let mut public = vec![];
        for section in &layout.sections {
            match section.kind {
                SectionKind::ModelCommitment => public.extend(cells.commitment),
                SectionKind::Inputs => public.extend(pack_cells(ctx, gate, &cells.inputs, section.width)),
                SectionKind::InputsHash => {
                    let packed = pack_cells(ctx, gate, &cells.inputs, section.width);
                    public.push(hash_cells(ctx, gate, &packed));
                }
                SectionKind::Outputs => public.extend(pack_cells(ctx, gate, &cells.outputs, section.width)),
                SectionKind::OutputsHash => {
                    let packed = pack_cells(ctx, gate, &cells.outputs, section.width);
                    public.push(hash_cells(ctx, gate, &packed));
                }
            }
        }
        debug_assert_eq!(public.len(), layout.num_instances, "the layout counts what the circuit exposes");
        let instances = public.iter().map(|c| *c.value()).collect();
        builder.assigned_instances = vec![public];
        let bit_runs = bits.take_runs();
        let node_advice = cells.node_advice;
        let mut circuit = Self { builder, tables, dots, params, instances, nodes: cells.nodes, node_advice, bit_runs };
        if stage != CircuitBuilderStage::Prover {
            circuit.calculate_params()?;
        }
        Ok(circuit)
    }

    /// Sizes the columns for the laid-out cells at the configured `k`.
    fn calculate_params(&mut self) -> Result<(), Error> {
        let k = self.params.base.k as u32;
        self.params.base = fitted_params(&mut self.builder, MINIMUM_UNUSABLE_ROWS);
        let usable_rows = (1usize << k) - MINIMUM_UNUSABLE_ROWS;
        // The table itself is one fixed column pair: halo2 would panic at keygen on one longer than the column.
        crate::sizing::table_fits(self.table_rows(), k)?;
        self.params.table_columns = self.tables.manager.total_rows().div_ceil(usable_rows);
        // Asked for (any non-zero count), they get the fewest input columns that fit.
        self.params.dot_columns = self.dots.columns_for(usable_rows).ok_or(Error::TooLarge { max_k: k })?;
        Ok(())
    }

    /// The column configuration.
    pub fn circuit_params(&self) -> &ModelCircuitParams {
        &self.params
    }

    /// Where each thread's cells break across columns (fixed at keygen, reused by the prover).
    pub fn break_points(&self) -> MultiPhaseThreadBreakPoints {
        self.builder.break_points()
    }

    /// The public instances (one column).
    pub fn instances(&self) -> &[Fr] {
        &self.instances
    }

    /// The output cells of node `node` (for inspection and for tests that tamper with the witness).
    pub fn node_cells(&self, node: usize) -> &[AssignedValue<Fr>] {
        &self.nodes[node]
    }

    /// Overwrites the witness of a laid-out cell, leaving every constraint as it is: a test of soundness
    /// must then see the circuit rejected.
    pub fn tamper(&mut self, cell: &AssignedValue<Fr>, value: Fr) {
        let offset = cell.cell.expect("a cell laid out in a context").offset;
        self.builder.main(0).advice[offset] = Assigned::Trivial(value);
    }

    /// Overwrites the witness of the `offset`-th advice cell of the layout (see [`Self::tamper`]).
    pub fn tamper_at(&mut self, offset: usize, value: Fr) {
        self.builder.main(0).advice[offset] = Assigned::Trivial(value);
    }

    /// Makes the dot-product columns' witness add `delta` to the accumulator of dot product `product` from
    /// its first row on, leaving every constraint as it is (see [`Self::tamper`]).
    pub fn tamper_dot_accumulator(&mut self, product: usize, delta: Fr) {
        self.dots.tamper_accumulator(product, delta);
    }

    /// Makes the dot-product columns hold `value` in place of the copy of input `term` of dot product
    /// `product` (see [`Self::tamper`]).
    pub fn tamper_dot_input(&mut self, product: usize, term: usize, value: Fr) {
        self.dots.tamper_input(product, term, value);
    }

    /// Dot products laid out in the dot-product columns.
    pub fn dot_products(&self) -> usize {
        self.dots.len()
    }

    /// Number of advice cells in the main context.
    pub fn main_cells(&mut self) -> usize {
        self.builder.main(0).advice.len()
    }

    /// The gate cells of each kind of op of `model` (the model this circuit lays out), most first.
    pub fn cells_by_op(&self, model: &QuantizedModel) -> Vec<OpCells> {
        let mut by_op: Vec<OpCells> = vec![];
        for (node, cells) in model.nodes.iter().zip(&self.node_advice) {
            match by_op.iter_mut().find(|o| o.op == node.op_name) {
                Some(entry) => {
                    entry.nodes += 1;
                    entry.cells += cells;
                }
                None => by_op.push(OpCells { op: node.op_name.clone(), nodes: 1, cells: *cells }),
            }
        }
        by_op.sort_by(|a, b| b.cells.cmp(&a.cells).then(a.op.cmp(&b.op)));
        by_op
    }

    /// Rows the function table occupies (0 without nonlinear functions).
    pub fn table_rows(&self) -> usize {
        if self.tables.is_empty() { 0 } else { self.tables.entries().len() }
    }

    /// Total advice cells laid out (gate and lookup columns).
    pub fn advice_cells(&self) -> usize {
        let stats = self.builder.statistics();
        stats.gate.total_advice_per_phase.iter().sum::<usize>()
            + stats.total_lookup_advice_per_phase.iter().sum::<usize>()
            + 2 * self.tables.manager.total_rows()
            + self.dots.cells(self.params.dot_columns)
    }
}

/// Rows a halo2-base gate spans (`a + b·c = d` over four consecutive cells).
const GATE_ROWS: usize = 4;

/// halo2-base's `calculate_params` for `builder`'s laid-out cells, with as many advice columns as its
/// assignment actually fills. Its own estimate (cells / rows, rounded up) misses that a column break copies
/// the cell it breaks at into the next column and never splits a gate, so a layout with many columns can
/// need one more than estimated, and keygen would then panic.
pub fn fitted_params(builder: &mut BaseCircuitBuilder<Fr>, minimum_unusable_rows: usize) -> BaseCircuitParams {
    let mut params = builder.calculate_params(Some(minimum_unusable_rows));
    let usable_rows = (1usize << params.k) - minimum_unusable_rows;
    let needed = advice_columns_filled(&builder.core().phase_manager[0].threads, usable_rows);
    if let Some(estimate) = params.num_advice_per_phase.first_mut()
        && *estimate < needed
    {
        *estimate = needed;
        builder.set_params(params.clone());
    }
    params
}

/// The advice columns halo2-base's assignment fills with `threads` at `usable_rows` per column: its break
/// rule, replayed.
fn advice_columns_filled(threads: &[halo2_base::Context<Fr>], usable_rows: usize) -> usize {
    let mut full_columns = 0;
    let mut row = 0;
    let mut any = false;
    for ctx in threads.iter().filter(|ctx| !ctx.advice.is_empty()) {
        any = true;
        for &gate in &ctx.selector {
            if (gate && row + GATE_ROWS > usable_rows) || row + 1 >= usable_rows {
                full_columns += 1;
                row = 0;
            }
            row += 1;
        }
    }
    if any { full_columns + 1 } else { 0 }
}

impl Circuit<Fr> for ModelCircuit {
    type Config = ModelConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = ModelCircuitParams;

    fn params(&self) -> Self::Params {
        self.params.clone()
    }

    fn without_witnesses(&self) -> Self {
        unimplemented!("keys are made from a layout on zeros, not from an empty circuit")
    }

    fn configure_with_params(meta: &mut ConstraintSystem<Fr>, params: Self::Params) -> Self::Config {
        let mut base = BaseConfig::configure(meta, params.base.clone());
        let table = (params.table_columns > 0).then(|| {
            let key = meta.lookup_table_column();
            let value = meta.lookup_table_column();
            let advice = (0..params.table_columns)
                .map(|_| {
                    let pair = [meta.advice_column(), meta.advice_column()];
                    for column in pair {
                        meta.enable_equality(column);
                    }
                    meta.lookup("zkml function table", |meta| {
                        let k = meta.query_advice(pair[0], Rotation::cur());
                        let v = meta.query_advice(pair[1], Rotation::cur());
                        vec![(k, key), (v, value)]
                    });
                    pair
                })
                .collect();
            TableConfig { advice, key, value }
        });
        // Without a range lookup, ranges are checked by bits.
        let bits = params.base.lookup_bits.is_none().then(|| BitGateConfig::configure(meta, &base));
        let dot = (params.dot_columns > 0).then(|| DotConfig::configure(meta, params.dot_columns));
        assert!(meta.minimum_rows() <= MINIMUM_UNUSABLE_ROWS, "blinding rows exceed the reserved rows");
        base.set_usable_rows((1usize << params.base.k) - MINIMUM_UNUSABLE_ROWS);
        ModelConfig { base, table, bits, dot }
    }

    fn configure(_: &mut ConstraintSystem<Fr>) -> Self::Config {
        unreachable!("the circuit is configured with its params")
    }

    fn synthesize(&self, config: Self::Config, mut layouter: impl Layouter<Fr>) -> Result<(), PlonkError> {
        config.base.initialize(&mut layouter);
        if let Some(table) = &config.table {
            let entries = self.tables.entries();
            layouter.assign_table(
                || "zkml function table",
                |mut t| {
                    for (row, (k, v)) in entries.iter().enumerate() {
                        t.assign_cell(|| "key", table.key, row, || Value::known(*k))?;
                        t.assign_cell(|| "value", table.value, row, || Value::known(*v))?;
                    }
                    Ok(())
                },
            )?;
        }
        let builder = &self.builder;
        layouter.assign_region(
            || "zkml model",
            |mut region| {
                let usable_rows = config.base.gate().max_rows;
                builder.core().phase_manager[0]
                    .assign_raw(&(config.base.gate().basic_gates[0].clone(), usable_rows), &mut region);
                if let Some(bits) = &config.bits {
                    bits.assign(&mut region, &builder.core().phase_manager[0], &self.bit_runs)?;
                }
                if let MaybeRangeConfig::WithRange(range) = &config.base.base {
                    builder.assign_lookups_in_phase(range, &mut region, 0);
                }
                if let Some(table) = &config.table {
                    self.tables.manager.assign_raw(&table.advice, &mut region);
                }
                if let Some(dot) = &config.dot {
                    self.dots.assign(dot, &mut region);
                }
                if !builder.core().witness_gen_only() {
                    builder.core().copy_manager.assign_raw(config.base.constants(), &mut region);
                }
                Ok(())
            },
        )?;
        builder.assign_instances(&config.base.instance, layouter.namespace(|| "expose"));
        Ok(())
    }
}

/// The public instances of one inference, computed natively from the executor's input and output values.
pub fn native_instances(model: &QuantizedModel, layout: &PublicLayout, inputs: &[i64], outputs: &[i64]) -> Vec<Fr> {
    layout.instances(model_commitment(model), inputs, outputs)
}
