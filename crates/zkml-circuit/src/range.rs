//! Range checks without a lookup table: bit decomposition by a running-sum gate on halo2-base's advice
//! columns.
//!
//! A lookup argument costs the prover little per check, but it adds three commitments (the permuted input
//! and table, and the grand product), their evaluations and a table column to every proof. Those are what a
//! verifier pays for: each commitment is an elliptic-curve multiplication on chain and about a hundred
//! thousand cells in an aggregation circuit, where the inner proof's points are multiplied in-circuit.
//! [`BitRangeChip`] checks ranges by bits instead, which leaves no lookup at all when the model needs no
//! function table: more rows to prove, fewer points to verify.
//!
//! A value `a` of at most `n` bits is laid out as `n + 1` consecutive cells `acc_0 = a, acc_1, ...,
//! acc_n = 0` with `acc_j = a >> j`, and [`BitGateConfig`]'s gate `q · b · (1 - b)` with `b = acc_j - 2 ·
//! acc_{j+1}` holds on each consecutive pair: every `b` is a bit and `a = Σ 2^j · b_j < 2^n`. One cell per
//! bit, against about seven for halo2-base's `num_to_bits` in its general gate. The gate is degree 3, below
//! the degree the circuit already has, so it adds no quotient piece; its selector adds one fixed column
//! (one evaluation, 32 bytes of proof).

use std::{cell::RefCell, rc::Rc};

use halo2_base::{
    AssignedValue, Context, ContextCell, ContextTag,
    QuantumCell::{self, Constant, Existing, Witness},
    gates::{
        GateChip, GateInstructions, RangeInstructions, circuit::BaseConfig, flex_gate::threads::SinglePhaseCoreManager,
    },
    halo2_proofs::{
        circuit::Region,
        plonk::{Advice, Column, ConstraintSystem, Error as PlonkError, Expression, Selector},
        poly::Rotation,
    },
    utils::{BigPrimeField, ScalarField, biguint_to_fe, fe_to_biguint},
};

/// One decomposition: `cells` consecutive cells from `start` in the context `tag`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BitRun {
    /// The context the cells are in.
    pub tag: ContextTag,
    /// Offset of `acc_0` in it.
    pub start: usize,
    /// `n + 1` for an `n`-bit check.
    pub cells: usize,
}

/// [`RangeInstructions`] by bit decomposition (see the module docs). The decompositions it lays out must be
/// handed to [`BitGateConfig::assign`]: without the gate they constrain nothing.
#[derive(Clone, Debug, Default)]
pub struct BitRangeChip<F: ScalarField> {
    gate: GateChip<F>,
    runs: Rc<RefCell<Vec<BitRun>>>,
}

impl<F: BigPrimeField> BitRangeChip<F> {
    /// A chip over halo2-base's gate.
    pub fn new() -> Self {
        Self { gate: GateChip::default(), runs: Rc::default() }
    }

    /// The decompositions laid out so far, for [`BitGateConfig::assign`].
    pub fn take_runs(&self) -> Vec<BitRun> {
        self.runs.take()
    }

    /// Lays out `acc_0 = a, ..., acc_bits = 0` and returns the cells (see the module docs).
    fn decompose(&self, ctx: &mut Context<F>, a: AssignedValue<F>, bits: usize) -> Vec<AssignedValue<F>> {
        assert!(bits >= 1 && bits < F::CAPACITY as usize, "a {bits}-bit range check does not fit the field");
        let value = fe_to_biguint(a.value());
        let start = ctx.advice.len();
        // The last accumulator is the constant 0: a value of more bits leaves a pair that is not a bit.
        let cells = std::iter::once(Existing(a))
            .chain((1..bits).map(|j| Witness(biguint_to_fe(&(&value >> j)))))
            .chain(std::iter::once(Constant(F::ZERO)));
        ctx.assign_region(cells, std::iter::empty());
        self.runs.borrow_mut().push(BitRun { tag: ctx.tag(), start, cells: bits + 1 });
        (start..=start + bits).map(|offset| ctx.get(offset as isize)).collect()
    }

    /// Returns the cell `a + 2^bits - b`, laid out as halo2-base's `RangeChip` does.
    fn shifted_difference(
        &self,
        ctx: &mut Context<F>,
        a: QuantumCell<F>,
        b: QuantumCell<F>,
        bits: usize,
    ) -> AssignedValue<F> {
        let power = self.gate.pow_of_two()[bits];
        let shifted_a = power + a.value();
        // | a + 2^bits - b | b | 1 | a + 2^bits | -2^bits | 1 | a |
        let cells = [
            Witness(shifted_a - b.value()),
            b,
            Constant(F::ONE),
            Witness(shifted_a),
            Constant(-power),
            Constant(F::ONE),
            a,
        ];
        ctx.assign_region(cells, [0, 3]);
        ctx.get(-7)
    }
}

impl<F: BigPrimeField> RangeInstructions<F> for BitRangeChip<F> {
    type Gate = GateChip<F>;

    fn gate(&self) -> &Self::Gate {
        &self.gate
    }

    /// One: every range is checked to the exact bit, so the `*_safe` checks round nothing up.
    fn lookup_bits(&self) -> usize {
        1
    }

    fn range_check(&self, ctx: &mut Context<F>, a: AssignedValue<F>, range_bits: usize) {
        if range_bits == 0 {
            self.gate.assert_is_const(ctx, &a, &F::ZERO);
        } else {
            self.decompose(ctx, a, range_bits);
        }
    }

    fn check_less_than(
        &self,
        ctx: &mut Context<F>,
        a: impl Into<QuantumCell<F>>,
        b: impl Into<QuantumCell<F>>,
        num_bits: usize,
    ) {
        // For a, b < 2^n: a + 2^n - b < 2^n exactly when a < b.
        let shifted = self.shifted_difference(ctx, a.into(), b.into(), num_bits);
        self.range_check(ctx, shifted, num_bits);
    }

    fn is_less_than(
        &self,
        ctx: &mut Context<F>,
        a: impl Into<QuantumCell<F>>,
        b: impl Into<QuantumCell<F>>,
        num_bits: usize,
    ) -> AssignedValue<F> {
        // For a, b < 2^n: a + 2^n - b lies in (0, 2^(n+1)), and its bit n is set exactly when a >= b. With
        // acc_(n+1) = 0, that bit is acc_n itself.
        let shifted = self.shifted_difference(ctx, a.into(), b.into(), num_bits);
        let accumulators = self.decompose(ctx, shifted, num_bits + 1);
        self.gate.not(ctx, accumulators[num_bits])
    }
}

/// The running-sum gate on each of halo2-base's advice columns (see the module docs).
#[derive(Clone, Debug)]
pub struct BitGateConfig {
    columns: Vec<(Column<Advice>, Selector)>,
}

impl BitGateConfig {
    /// Adds the gate to every first-phase advice column of `base`.
    pub fn configure<F: BigPrimeField>(meta: &mut ConstraintSystem<F>, base: &BaseConfig<F>) -> Self {
        let columns = base.gate().basic_gates[0]
            .iter()
            .map(|basic| {
                let (column, selector) = (basic.value, meta.selector());
                meta.create_gate("bit decomposition", |meta| {
                    let q = meta.query_selector(selector);
                    let bit = meta.query_advice(column, Rotation::cur())
                        - meta.query_advice(column, Rotation::next()) * Expression::Constant(F::from(2));
                    vec![q * bit.clone() * (Expression::Constant(F::ONE) - bit)]
                });
                (column, selector)
            })
            .collect();
        Self { columns }
    }

    /// Turns the gate on for every pair of consecutive cells of `runs`, wherever halo2-base's assignment
    /// of `core` put them. Call it after that assignment; it does nothing when only generating a witness,
    /// since selectors are fixed at keygen.
    pub fn assign<F: BigPrimeField>(
        &self,
        region: &mut Region<'_, F>,
        core: &SinglePhaseCoreManager<F>,
        runs: &[BitRun],
    ) -> Result<(), PlonkError> {
        if core.witness_gen_only() {
            return Ok(());
        }
        let copies = core.copy_manager.lock().map_err(|_| PlonkError::Synthesis)?;
        for run in runs {
            for offset in run.start + 1..run.start + run.cells {
                let key = ContextCell { type_id: run.tag.0, context_id: run.tag.1, offset };
                // A column break copies the cell it breaks at to row 0 of the next column, so each cell
                // after the first has its predecessor (or that copy) on the row above it.
                let cell = copies.assigned_advices.get(&key).ok_or(PlonkError::Synthesis)?;
                let (_, selector) = self
                    .columns
                    .iter()
                    .find(|(column, _)| Column::<halo2_base::halo2_proofs::plonk::Any>::from(*column) == cell.column)
                    .ok_or(PlonkError::Synthesis)?;
                let row = cell.row_offset.checked_sub(1).ok_or(PlonkError::Synthesis)?;
                selector.enable(region, row)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use halo2_base::{
        gates::circuit::{BaseCircuitParams, CircuitBuilderStage, builder::BaseCircuitBuilder},
        halo2_proofs::{
            circuit::{Layouter, SimpleFloorPlanner},
            dev::MockProver,
            halo2curves::bn256::Fr,
            plonk::{Assigned, Circuit},
        },
        virtual_region::manager::VirtualRegionManager,
    };

    use super::*;

    const K: usize = 8;
    const UNUSABLE_ROWS: usize = 9;

    /// halo2-base's gate with the bit gate: the smallest circuit [`BitRangeChip`] is sound in.
    struct BitsCircuit {
        builder: BaseCircuitBuilder<Fr>,
        runs: Vec<BitRun>,
    }

    impl Circuit<Fr> for BitsCircuit {
        type Config = (BaseConfig<Fr>, BitGateConfig);
        type FloorPlanner = SimpleFloorPlanner;
        type Params = BaseCircuitParams;

        fn params(&self) -> Self::Params {
            self.builder.params()
        }

        fn without_witnesses(&self) -> Self {
            unimplemented!("MockProver only")
        }

        fn configure_with_params(meta: &mut ConstraintSystem<Fr>, params: Self::Params) -> Self::Config {
            let base = BaseConfig::configure(meta, params);
            let bits = BitGateConfig::configure(meta, &base);
            (base, bits)
        }

        fn configure(_: &mut ConstraintSystem<Fr>) -> Self::Config {
            unreachable!("configured with params")
        }

        fn synthesize(&self, (base, bits): Self::Config, mut layouter: impl Layouter<Fr>) -> Result<(), PlonkError> {
            base.initialize(&mut layouter);
            let core = &self.builder.core().phase_manager[0];
            layouter.assign_region(
                || "bits",
                |mut region| {
                    core.assign_raw(&(base.gate().basic_gates[0].clone(), base.gate().max_rows), &mut region);
                    bits.assign(&mut region, core, &self.runs)?;
                    self.builder.core().copy_manager.assign_raw(base.constants(), &mut region);
                    Ok(())
                },
            )
        }
    }

    /// Lays out `f`, overwrites the advice cells in `tamper`, and reports whether MockProver accepts.
    fn mock(f: impl FnOnce(&mut Context<Fr>, &BitRangeChip<Fr>), tamper: &[(usize, u64)]) -> bool {
        let mut builder = BaseCircuitBuilder::<Fr>::from_stage(CircuitBuilderStage::Mock)
            .use_params(BaseCircuitParams { k: K, num_instance_columns: 1, ..Default::default() });
        let chip = BitRangeChip::new();
        f(builder.main(0), &chip);
        for (offset, value) in tamper {
            builder.main(0).advice[*offset] = Assigned::Trivial(Fr::from(*value));
        }
        let params = builder.calculate_params(Some(UNUSABLE_ROWS));
        let circuit = BitsCircuit { builder: builder.use_params(params), runs: chip.take_runs() };
        MockProver::run(K as u32, &circuit, vec![vec![]]).map(|p| p.verify().is_ok()).unwrap_or(false)
    }

    #[test]
    fn range_check_accepts_exactly_the_range() {
        for (value, bits, ok) in [(0u64, 0, true), (1, 0, false), (255, 8, true), (256, 8, false), (5, 3, true)] {
            let accepted = mock(
                |ctx, chip| {
                    let a = ctx.load_witness(Fr::from(value));
                    chip.range_check(ctx, a, bits);
                },
                &[],
            );
            assert_eq!(accepted, ok, "{value} in {bits} bits");
        }
    }

    #[test]
    fn a_non_bit_step_is_rejected() {
        // 5 in 3 bits is [5, 2, 1, 0]. [5, 0, 0, 0] still sums to 5 but its first step is 5, not a bit:
        // only the bit gate can see that.
        let layout = |ctx: &mut Context<Fr>, chip: &BitRangeChip<Fr>| {
            let a = ctx.load_witness(Fr::from(5));
            chip.range_check(ctx, a, 3);
        };
        assert!(mock(layout, &[]));
        assert!(!mock(layout, &[(2, 0), (3, 0)]), "a decomposition with a step of 5 was accepted");
        assert!(!mock(layout, &[(2, 3)]), "a tampered accumulator was accepted");
    }

    #[test]
    fn comparisons_match_integers() {
        for (a, b) in [(3u64, 7u64), (7, 3), (5, 5), (0, 255), (255, 0)] {
            let accepted = mock(
                |ctx, chip| {
                    let [x, y] = [a, b].map(|v| ctx.load_witness(Fr::from(v)));
                    let lt = chip.is_less_than(ctx, x, y, 8);
                    assert_eq!(*lt.value(), Fr::from(u64::from(a < b)));
                    if a < b {
                        chip.check_less_than(ctx, x, y, 8);
                    }
                },
                &[],
            );
            assert!(accepted, "{a} < {b}");
        }
        let rejected = !mock(
            |ctx, chip| {
                let [x, y] = [9u64, 4].map(|v| ctx.load_witness(Fr::from(v)));
                chip.check_less_than(ctx, x, y, 8);
            },
            &[],
        );
        assert!(rejected, "9 < 4 was accepted");
    }
}
