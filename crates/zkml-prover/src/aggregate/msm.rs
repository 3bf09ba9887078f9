//! The aggregation circuit's long multi-scalar multiplication: every base of a fold, witness or constant,
//! in one multi-product MSM with a constant offset point.
//!
//! halo2-ecc's `pippenger::multi_exp_par` is the algorithm (clumps of four bases, a table of their
//! 16 subset sums, one table lookup per clump and scalar bit, the clumps' lookups summed per bit, then
//! double-and-add over the bits). Three things differ, each saving cells:
//!
//! - Constant bases (verifying-key points) join the same MSM as constant cells instead of a separate
//!   fixed-base MSM: about 90,000 cells each here against 116,000 there.
//! - The offset point that keeps every addition's operands apart is a constant, hashed to the curve,
//!   instead of a witness: its multiples, the offset's total at the end included, are computed outside the
//!   circuit instead of by about 260 in-circuit doublings (230,000 cells). Every addition still constrains
//!   its operands' x-coordinates to differ (`is_strict`), so a result is correct whatever the offset is;
//!   an offset nobody knows the discrete logarithm of only makes it negligible that honest inputs hit an
//!   unsatisfiable case, as a random one did.
//! - The bits are folded with `ec_double_and_add_unequal`, one step per bit instead of a doubling and an
//!   addition.

use std::sync::OnceLock;

use halo2_base::{
    AssignedValue,
    gates::{
        GateInstructions,
        flex_gate::threads::{SinglePhaseCoreManager, parallelize_core},
    },
    halo2_proofs::halo2curves::{
        CurveExt,
        bn256::{Fr, G1, G1Affine},
        ff::Field,
        group::{Curve, Group},
    },
};
use snark_verifier_sdk::snark_verifier::loader::halo2::halo2_ecc::{
    bigint::ProperCrtUint,
    bn254::FpChip,
    ecc::{
        BaseFieldEccChip, EcPoint, ec_add_unequal, ec_double_and_add_unequal, ec_select, ec_sub_strict,
        into_strict_point, strict_ec_select_from_bits,
    },
    fields::FieldChip,
};

type Point = EcPoint<Fr, ProperCrtUint<Fr>>;

/// Bases per clump: halo2-ecc's measured optimum (clumps of 3, 5 and 6 cost 12%, 3% and 20% more here).
const CLUMP: usize = 4;

/// Below this many bases halo2-ecc's own MSMs are kept: its windowed one (which `variable_base_msm` picks up
/// to 25 bases) has no per-bit sum over clumps, and at 8 bases cost 1.19M cells, about what this one does.
pub(super) const MIN_BASES: usize = 16;

/// Domain of the offset point's hash to the curve.
const OFFSET_DOMAIN: &str = "zkml-eth aggregation MSM offset";

/// The offset point: hashed to the curve, so that nobody knows its discrete logarithm.
fn offset() -> G1 {
    static OFFSET: OnceLock<G1> = OnceLock::new();
    *OFFSET.get_or_init(|| G1::hash_to_curve(OFFSET_DOMAIN)(b"offset"))
}

/// `Σ scalars[i]·bases[i]`. Every scalar has at most `scalar_bits` bits; a witness base may be the point at
/// infinity, (0, 0), as snark-verifier's points may be.
pub(super) fn msm(
    ecc: &BaseFieldEccChip<'_, G1Affine>,
    pool: &mut SinglePhaseCoreManager<Fr>,
    bases: &[Point],
    scalars: &[AssignedValue<Fr>],
    scalar_bits: usize,
) -> Point {
    assert_eq!(bases.len(), scalars.len(), "one scalar per base");
    assert!(!bases.is_empty(), "an MSM needs a base");
    let chip: &FpChip<'_, Fr> = ecc.field_chip();

    // bits[b][i]: bit b of scalar i.
    let mut bits = vec![Vec::with_capacity(bases.len()); scalar_bits];
    let ctx = pool.main();
    for scalar in scalars {
        for (b, bit) in chip.gate().num_to_bits(ctx, *scalar, scalar_bits).into_iter().enumerate() {
            bits[b].push(bit);
        }
    }

    // Clump r starts from 2^r·A, so that the clumps' lookups for one bit differ in their multiple of A and
    // can be added.
    let rounds = bases.len().div_ceil(CLUMP);
    let mut offsets = Vec::with_capacity(rounds);
    let mut multiple = offset();
    for _ in 0..rounds {
        offsets.push(multiple.to_affine());
        multiple = multiple.double();
    }
    let clumps: Vec<(usize, (&[Point], G1Affine))> =
        bases.chunks(CLUMP).zip(offsets.iter().copied()).enumerate().collect();

    // lookups[r][b] = 2^r·A + Σ_{i in clump r, bit b of scalar i set} bases[i]
    let lookups = parallelize_core(pool, clumps, |ctx, (round, (clump, start))| {
        let start = ecc.assign_constant_point(ctx, start);
        let mut table = vec![into_strict_point(chip, ctx, start)];
        for (i, base) in clump.iter().enumerate() {
            let is_infinity = chip.is_zero(ctx, &base.y);
            let base = into_strict_point(chip, ctx, base.clone());
            for j in 0..(1 << i) {
                let sum = ec_add_unequal(chip, ctx, &table[j], &base, true);
                let sum = ec_select(chip, ctx, table[j].clone().into(), sum, is_infinity);
                table.push(into_strict_point(chip, ctx, sum));
            }
        }
        bits.iter()
            .map(|bit| strict_ec_select_from_bits(chip, ctx, &table, &bit[round * CLUMP..round * CLUMP + clump.len()]))
            .collect::<Vec<_>>()
    });

    // per_bit[b] = (2^rounds - 1)·A + Σ_{i: bit b of scalar i set} bases[i]
    let mut per_bit = parallelize_core(pool, (0..scalar_bits).collect(), |ctx, b| {
        let mut sum = lookups[0][b].clone();
        for lookup in &lookups[1..] {
            let next = ec_add_unequal(chip, ctx, &sum, &lookup[b], true);
            sum = into_strict_point(chip, ctx, next);
        }
        sum
    });

    // Σ_b 2^b·per_bit[b], the highest bit first.
    let ctx = pool.main();
    let mut total: Point = per_bit.pop().expect("at least one bit").into();
    for next in per_bit.iter().rev() {
        total = ec_double_and_add_unequal(chip, ctx, &total, next, true);
    }

    // The offset added (2^scalar_bits - 1)·(2^rounds - 1)·A in all: a constant.
    let ones = |n: usize| Fr::from(2).pow_vartime([n as u64]) - Fr::ONE;
    let offset_total = (offset() * (ones(scalar_bits) * ones(rounds))).to_affine();
    let offset_total = ecc.assign_constant_point(ctx, offset_total);
    ec_sub_strict(chip, ctx, total, offset_total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use halo2_base::halo2_proofs::halo2curves::group::prime::PrimeCurveAffine;
    use halo2_base::{
        gates::circuit::{BaseCircuitParams, CircuitBuilderStage, builder::BaseCircuitBuilder},
        halo2_proofs::dev::MockProver,
    };
    use rand_chacha::{
        ChaCha20Rng,
        rand_core::{RngCore, SeedableRng},
    };

    const K: u32 = 17;

    /// Runs the mock prover on `msm` over `count` random bases (the second one infinity, every third a
    /// constant) with random scalars of `bits` bits, its result constrained to equal the native MSM, or
    /// that plus the generator if `tamper`.
    fn run(count: usize, bits: usize, tamper: bool) -> Result<(), Vec<String>> {
        let mut rng = ChaCha20Rng::seed_from_u64(count as u64);
        let mut builder =
            BaseCircuitBuilder::<Fr>::from_stage(CircuitBuilderStage::Mock).use_params(BaseCircuitParams {
                k: K as usize,
                num_advice_per_phase: vec![12],
                num_fixed: 1,
                num_lookup_advice_per_phase: vec![2],
                lookup_bits: Some(K as usize - 1),
                num_instance_columns: 1,
            });
        let range = builder.range_chip();
        let fp = FpChip::<Fr>::new(&range, snark_verifier_sdk::BITS, snark_verifier_sdk::LIMBS);
        let ecc = BaseFieldEccChip::<G1Affine>::new(&fp);
        let pool = builder.pool(0);
        let natives: Vec<G1Affine> =
            (0..count).map(|i| if i == 1 { G1Affine::identity() } else { G1::random(&mut rng).to_affine() }).collect();
        assert!(bits == 128 || bits == 254, "full or 128-bit scalars");
        let values: Vec<Fr> = (0..count)
            .map(|_| match bits {
                128 => Fr::from(rng.next_u64()) + Fr::from(rng.next_u64()) * Fr::from(2).pow_vartime([64]),
                _ => Fr::random(&mut rng),
            })
            .collect();
        let ctx = pool.main();
        let bases: Vec<Point> = natives
            .iter()
            .enumerate()
            .map(|(i, p)| {
                if i % 3 == 2 {
                    ecc.assign_constant_point(ctx, *p)
                } else {
                    ecc.load_private_unchecked(ctx, (p.x, p.y))
                }
            })
            .collect();
        let scalars: Vec<_> = values.iter().map(|v| ctx.load_witness(*v)).collect();
        let result = msm(&ecc, pool, &bases, &scalars, bits);
        let expected: G1 = natives.iter().zip(&values).map(|(p, v)| *p * v).fold(G1::identity(), |a, b| a + b);
        let mut expected = expected.to_affine();
        if tamper {
            expected = (expected + G1Affine::generator()).to_affine();
        }
        let ctx = pool.main();
        let expected = ecc.assign_constant_point(ctx, expected);
        ecc.assert_equal(ctx, result, expected);
        builder.calculate_params(Some(20));
        MockProver::run(K, &builder, vec![vec![]])
            .expect("mock prover runs")
            .verify()
            .map_err(|errors| errors.iter().take(3).map(|e| format!("{e}")).collect())
    }

    #[test]
    fn msm_equals_the_native_msm_and_nothing_else() {
        for count in [5, 9] {
            assert_eq!(run(count, 254, false), Ok(()), "{count} bases, full scalars");
            assert!(run(count, 254, true).is_err(), "{count} bases: a wrong result must not satisfy the circuit");
        }
        assert_eq!(run(6, 128, false), Ok(()), "128-bit scalars");
    }
}
