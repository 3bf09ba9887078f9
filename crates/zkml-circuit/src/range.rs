//! Range checks without a lookup table, by bit decomposition in halo2-base's one gate.
//!
//! A lookup argument costs the prover little per check, but it adds three commitments (the permuted input
//! and table, and the grand product), a table column and a degree-4 constraint system (one more quotient
//! piece) to every proof. Those are what a verifier pays for: each commitment is an elliptic-curve
//! multiplication on chain and about a hundred thousand cells in an aggregation circuit, where the inner
//! proof's points are multiplied in-circuit. [`BitRangeChip`] checks ranges by bits instead (about seven
//! cells per bit), which leaves a degree-3 circuit with no lookup at all when the model needs no
//! function table: more rows to prove, fewer points to verify.

use halo2_base::{
    AssignedValue, Context,
    QuantumCell::{self, Constant, Witness},
    gates::{GateChip, GateInstructions, RangeInstructions},
    utils::ScalarField,
};

/// [`RangeInstructions`] by bit decomposition (see the module docs).
#[derive(Clone, Debug, Default)]
pub struct BitRangeChip<F: ScalarField> {
    gate: GateChip<F>,
}

impl<F: ScalarField> BitRangeChip<F> {
    /// A chip over halo2-base's gate.
    pub fn new() -> Self {
        Self { gate: GateChip::default() }
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

impl<F: ScalarField> RangeInstructions<F> for BitRangeChip<F> {
    type Gate = GateChip<F>;

    fn gate(&self) -> &Self::Gate {
        &self.gate
    }

    /// One: every range is checked to the exact bit, so the `*_safe` checks round nothing up.
    fn lookup_bits(&self) -> usize {
        1
    }

    fn range_check(&self, ctx: &mut Context<F>, a: AssignedValue<F>, range_bits: usize) {
        assert!(range_bits < F::CAPACITY as usize, "a {range_bits}-bit range check does not fit the field");
        if range_bits == 0 {
            self.gate.assert_is_const(ctx, &a, &F::ZERO);
        } else {
            // Booleans summing to `a` with weights 2^i: `a < 2^range_bits` or no witness satisfies it.
            self.gate.num_to_bits(ctx, a, range_bits);
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
        // For a, b < 2^n: a + 2^n - b lies in (0, 2^(n+1)), and its bit n is set exactly when a >= b.
        let shifted = self.shifted_difference(ctx, a.into(), b.into(), num_bits);
        let bits = self.gate.num_to_bits(ctx, shifted, num_bits + 1);
        self.gate.not(ctx, bits[num_bits])
    }
}

#[cfg(test)]
mod tests {
    use halo2_base::{
        gates::circuit::{BaseCircuitParams, CircuitBuilderStage, builder::BaseCircuitBuilder},
        halo2_proofs::{dev::MockProver, halo2curves::bn256::Fr, plonk::Assigned},
    };

    use super::*;

    const K: usize = 10;

    /// Lays out `f` without a range lookup, optionally overwriting the advice cell at `tamper`.
    fn mock(f: impl FnOnce(&mut Context<Fr>, &BitRangeChip<Fr>), tamper: Option<(usize, Fr)>) -> bool {
        let mut builder = BaseCircuitBuilder::<Fr>::from_stage(CircuitBuilderStage::Mock)
            .use_params(BaseCircuitParams { k: K, num_instance_columns: 1, ..Default::default() });
        let chip = BitRangeChip::new();
        f(builder.main(0), &chip);
        if let Some((offset, value)) = tamper {
            builder.main(0).advice[offset] = Assigned::Trivial(value);
        }
        builder.calculate_params(Some(9));
        MockProver::run(K as u32, &builder, vec![vec![]]).map(|p| p.verify().is_ok()).unwrap_or(false)
    }

    #[test]
    fn range_check_accepts_exactly_the_range() {
        for (value, bits, ok) in [(0u64, 0, true), (1, 0, false), (255, 8, true), (256, 8, false), (5, 3, true)] {
            let accepted = mock(
                |ctx, chip| {
                    let a = ctx.load_witness(Fr::from(value));
                    chip.range_check(ctx, a, bits);
                },
                None,
            );
            assert_eq!(accepted, ok, "{value} in {bits} bits");
        }
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
                None,
            );
            assert!(accepted, "{a} < {b}");
        }
        // check_less_than on a >= b has no satisfying witness.
        let rejected = !mock(
            |ctx, chip| {
                let [x, y] = [9u64, 4].map(|v| ctx.load_witness(Fr::from(v)));
                chip.check_less_than(ctx, x, y, 8);
            },
            None,
        );
        assert!(rejected);
    }

    #[test]
    fn tampered_difference_bit_or_comparison_is_rejected() {
        // 3 < 7 in 8 bits: cells 0, 1 are the inputs, 2 the shifted difference, 9.. its bits.
        let mut result = 0;
        let layout = |ctx: &mut Context<Fr>, chip: &BitRangeChip<Fr>| {
            let [x, y] = [3u64, 7].map(|v| ctx.load_witness(Fr::from(v)));
            chip.is_less_than(ctx, x, y, 8).cell.map_or(0, |c| c.offset)
        };
        assert!(mock(
            |ctx, chip| {
                result = layout(ctx, chip);
            },
            None
        ));
        let bit = 9;
        for (offset, value) in [(2, Fr::from(2)), (bit, Fr::from(2)), (result, Fr::zero())] {
            assert!(
                !mock(
                    |ctx, chip| {
                        layout(ctx, chip);
                    },
                    Some((offset, value))
                ),
                "tampered cell {offset} accepted"
            );
        }
    }
}
