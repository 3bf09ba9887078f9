//! The aggregation circuit's long multi-scalar multiplication: every base of a fold, witness or constant,
//! in one multi-product MSM whose additions are made safe by a point nobody can predict.
//!
//! halo2-ecc's `pippenger::multi_exp_par` is the algorithm: clumps of four bases, a table of each clump's
//! 16 subset sums, one table lookup per clump and scalar bit, the clumps' lookups summed per bit, then
//! double-and-add over the bits. It checks in every addition that the operands' x-coordinates differ
//! (`is_strict`), because the incomplete addition formula leaves the result free when both operands are
//! the same point; the check and the canonical form it needs cost a third of each addition. Here the
//! additions that dominate (table sums and per-bit sums: `254 · clumps` of them) skip it, and instead
//! every such addition has operands that differ by a non-zero multiple of an offset point `A` fixed only
//! after the inputs:
//!
//! - `A` is the first curve point with x-coordinate `seed + δ`, `δ < 256`, where `seed` is a challenge
//!   squeezed after every base and scalar of the MSM is bound ([`offset_point`]), and every scalar has one
//!   bit pattern ([`canonical_bits`]). A prover who wants two operands equal needs `A` to be one
//!   particular point fixed before the seed: probability about `2^10 / r` per addition over its choices of
//!   `δ`, the sign of y and the lift of x. Equal operands with opposite signs only make the circuit
//!   unsatisfiable, never wrong.
//! - Witness clump `r` (all but the last) starts its table at `2^r·A`; constant clumps at constants
//!   `C_j`; the last witness clump at `-(2^(R-1) - 1)·A + K`. Every partial per-bit sum then holds a non-zero
//!   multiple of `A` until the last clump, which cancels it: each per-bit sum is its subset sum plus the
//!   constant `O = K + Σ C_j`, and the offset's share of the total, `(2^bits - 1)·O`, is a constant
//!   subtracted at the end.
//! - The double-and-add over the bits, whose operands carry the same constant, stays strict.
//! - Along a per-bit sum and along the double-and-add, y-coordinates stay unreduced: y enters the next
//!   step only linearly and through a division, which halo2-ecc's CRT checks allow for values up to
//!   2^515, and reducing it was a quarter of each addition. It is reduced every few steps
//!   ([`REDUCE_EVERY`], [`REDUCE_TOTAL_EVERY`]) and at the end.
//!
//! Constant bases (verifying-key points) share this MSM as whole constant clumps: their tables are
//! computed outside the circuit.

use halo2_base::{
    AssignedValue, Context,
    QuantumCell::Constant,
    gates::{
        GateInstructions, RangeChip, RangeInstructions,
        flex_gate::threads::{SinglePhaseCoreManager, parallelize_core},
    },
    halo2_proofs::halo2curves::{
        CurveExt,
        bn256::{Fq, Fr, G1, G1Affine},
        ff::{Field, PrimeField},
        group::{Curve, Group},
    },
    utils::{biguint_to_fe, fe_to_biguint, modulus},
};
use snark_verifier_sdk::{
    BITS, LIMBS,
    snark_verifier::loader::halo2::halo2_ecc::{
        bigint::{CRTInteger, ProperCrtUint},
        bn254::FpChip,
        ecc::{
            BaseFieldEccChip, EcPoint, ec_add_unequal, ec_double, ec_select, ec_select_from_bits, ec_sub_strict,
            ec_sub_unequal,
        },
        fields::FieldChip,
    },
};

type Point = EcPoint<Fr, ProperCrtUint<Fr>>;
type Scalar = AssignedValue<Fr>;

/// Bases per clump: halo2-ecc's measured optimum (clumps of 3, 5 and 6 cost 12%, 3% and 20% more here).
const CLUMP: usize = 4;

/// Below this many bases halo2-ecc's own MSMs are kept: for the three 128-bit bases of four proofs' `W'`
/// fold its windowed MSM is 2,900 cells cheaper. From four on this one is (one digits proof's 15 bases:
/// 1.48M cells in all instead of 2.10M).
pub(super) const MIN_BASES: usize = 4;

/// Witness bases this MSM needs: the offset cancels across at least two witness clumps.
pub(super) const MIN_WITNESS_BASES: usize = 2;

/// Values of `δ` tried for the offset point's x-coordinate `seed + δ`: each is a curve point with
/// probability 1/2, so one of 256 fails to exist with probability 2^-256.
const OFFSET_TRIES_BITS: usize = 8;

/// Domain of the constants hashed to the curve.
const CONSTANT_DOMAIN: &str = "zkml-eth aggregation MSM constant";

/// The `index`-th constant start: hashed to the curve, so that no subset sum of real bases meets it.
fn constant_point(index: u64) -> G1 {
    G1::hash_to_curve(CONSTANT_DOMAIN)(&index.to_le_bytes())
}

/// Additions after which a per-bit sum's y-coordinate is reduced: it grows by one product of reduced values
/// per addition. [`lazy_y_bits`] bounds what it and the divisions it enters reach.
const REDUCE_EVERY: usize = 12;

/// A point whose y-coordinate is left unreduced: it only enters the next addition linearly.
struct LazyPoint {
    x: ProperCrtUint<Fr>,
    y: CRTInteger<Fr>,
}

/// `p + q` by the incomplete formula (no check that the x-coordinates differ: see the module docs), x
/// reduced and y not: `λ = (y_q - y_p) / (x_q - x_p)`, `x = λ² - x_p - x_q`, `y = λ·(x_p - x) - y_p`.
fn add_lazy(chip: &FpChip<'_, Fr>, ctx: &mut Context<Fr>, p: LazyPoint, q: &Point) -> LazyPoint {
    let dx = chip.sub_no_carry(ctx, &q.x, &p.x);
    let dy = chip.sub_no_carry(ctx, &q.y, p.y.clone());
    let lambda = chip.divide_unsafe(ctx, dy, dx);
    let lambda_sq = chip.mul_no_carry(ctx, &lambda, &lambda);
    let lambda_sq_minus_px = chip.sub_no_carry(ctx, lambda_sq, &p.x);
    let x_no_carry = chip.sub_no_carry(ctx, lambda_sq_minus_px, &q.x);
    let x = chip.carry_mod(ctx, x_no_carry);
    let dx_px = chip.sub_no_carry(ctx, &p.x, &x);
    let lambda_dx = chip.mul_no_carry(ctx, lambda, dx_px);
    let y = chip.sub_no_carry(ctx, lambda_dx, p.y);
    LazyPoint { x, y }
}

/// Double-and-add steps after which the running total's y-coordinate is reduced: each step adds a product
/// under 2^509 to it, and it enters a division doubled. [`lazy_y_bits`] bounds it.
const REDUCE_TOTAL_EVERY: usize = 4;

/// Bits of a reduced coordinate: halo2-ecc range-checks every `ProperCrtUint` (a `carry_mod` result, a loaded
/// point, a quotient of `divide_unsafe`) below 2^254, the bit length of p.
const REDUCED_BITS: usize = Fq::NUM_BITS as usize;

/// The largest integer, in bits, that halo2-ecc's CRT reduction is made for: `n·k - 1 + 254 - 2` with `k`
/// limbs of `n` bits, its documented assumption on the input of `carry_mod` and of the
/// `check_carry_mod_to_zero` inside every division (there only a `debug_assert!`, which release builds
/// skip). Below it the quotient it range-checks (262 bits here) exists for every honest input, and the
/// identity it checks modulo `2^(n·k)` and modulo r (about 2^517.6 together) holds over the integers.
const fn crt_input_bits(limb_bits: usize, num_limbs: usize) -> usize {
    limb_bits * num_limbs - 1 + Fr::NUM_BITS as usize - 2
}

/// `⌈log2 x⌉`, for `x ≥ 1`.
const fn ceil_log2(x: usize) -> usize {
    if x <= 1 { 0 } else { (usize::BITS - (x - 1).leading_zeros()) as usize }
}

/// The most bits an integer handed to halo2-ecc's CRT reduction takes along the lazy MSM, when per-bit sums
/// are reduced every `reduce_every` additions (R) and the double-and-add every `reduce_total_every` steps
/// (T). Counted in units `U = 2^(2·254)`, the bound of a product of two reduced values, which also stands
/// (generously) for a reduced value itself:
/// - [`add_lazy`]: `y' = λ·(x_p - x) - y`, so `|y'| < |y| + U`. A per-bit sum starts reduced (a table entry)
///   and is reduced after R additions, so it enters an addition with `|y| ≤ R·U`; the division there checks
///   `λ·dx - (y_q - y)`, under `(R + 2)·U`; the reduction takes `(R + 1)·U`; a per-bit sum reaches the
///   double-and-add with `|y| ≤ R·U`.
/// - [`double_and_add_lazy`] on the total `t` and a per-bit sum `q`: `λ_1 = λ_0 + λ_step < 2^255`, so
///   `|y'| < |t| + 2U`. The total starts as a per-bit sum and is reduced after T steps, so it enters a step
///   with `|t| ≤ (R + 2(T - 1))·U`. The first division checks `λ_0·dx - (q.y - t)`, under
///   `(1 + R + |t|)·U`; the second `λ_step·(x_2 - x_p) - 2t`, under `(1 + 2|t|)·U`: `(2R + 4T - 3)·U`, the
///   largest of all; the reduction takes `(R + 2T)·U`.
///
/// x-coordinates are reduced after every step; what they pass to `carry_mod` (`λ² - x_p - x_q`, under
/// `4U + 2^255`) stays far below these.
const fn lazy_y_bits(reduce_every: usize, reduce_total_every: usize) -> usize {
    let (r, t) = (reduce_every, reduce_total_every);
    assert!(r >= 1 && t >= 1, "a reduction interval is at least one step");
    let total = r + 2 * (t - 1);
    let candidates = [r + 2, r + 1, 1 + r + total, 1 + 2 * total, r + 2 * t];
    let mut worst = 0;
    let mut i = 0;
    while i < candidates.len() {
        if candidates[i] > worst {
            worst = candidates[i];
        }
        i += 1;
    }
    2 * REDUCED_BITS + ceil_log2(worst)
}

// With 88-bit limbs (three of them, snark-verifier's) the bound is 2^515 and the lazy MSM reaches
// 37·2^508 < 2^514: one bit to spare, checked when the crate compiles rather than by halo2-ecc's
// `debug_assert!`.
const _: () = assert!(
    lazy_y_bits(REDUCE_EVERY, REDUCE_TOTAL_EVERY) <= crt_input_bits(BITS, LIMBS),
    "the MSM's lazily reduced y-coordinates would exceed halo2-ecc's CRT bound"
);

/// `2p + q` as `(p + q) + p`, checking that `p` and `q`, then `p + q` and `p`, have different x-coordinates
/// (halo2-ecc's strict `ec_double_and_add_unequal`), both y-coordinates taken and the result's left unreduced.
fn double_and_add_lazy(chip: &FpChip<'_, Fr>, ctx: &mut Context<Fr>, p: LazyPoint, q: LazyPoint) -> LazyPoint {
    let x_p = chip.enforce_less_than(ctx, p.x.clone());
    let x_q = chip.enforce_less_than(ctx, q.x.clone());
    let x_equal = chip.is_equal_unenforced(ctx, x_p.clone(), x_q);
    chip.gate().assert_is_const(ctx, &x_equal, &Fr::ZERO);

    let dx = chip.sub_no_carry(ctx, &q.x, &p.x);
    let dy = chip.sub_no_carry(ctx, q.y, p.y.clone());
    let lambda_0 = chip.divide_unsafe(ctx, dy, dx);
    //  x_2 = λ_0² - x_p - x_q, the x-coordinate of p + q
    let lambda_0_sq = chip.mul_no_carry(ctx, &lambda_0, &lambda_0);
    let lambda_0_sq_minus_xp = chip.sub_no_carry(ctx, lambda_0_sq, &p.x);
    let x_2_no_carry = chip.sub_no_carry(ctx, lambda_0_sq_minus_xp, &q.x);
    let x_2 = chip.carry_mod(ctx, x_2_no_carry);
    let x_2_reduced = chip.enforce_less_than(ctx, x_2.clone());
    let x_equal = chip.is_equal_unenforced(ctx, x_p, x_2_reduced);
    chip.gate().assert_is_const(ctx, &x_equal, &Fr::ZERO);

    // λ_1 = λ_0 + 2·y_p / (x_2 - x_p): minus the slope of the line through p + q and p
    let two_y = chip.scalar_mul_no_carry(ctx, p.y.clone(), 2);
    let x_2_minus_xp = chip.sub_no_carry(ctx, &x_2, &p.x);
    let lambda_step = chip.divide_unsafe(ctx, two_y, x_2_minus_xp);
    let lambda_1 = chip.add_no_carry(ctx, lambda_0, lambda_step);
    //  x = λ_1² - x_p - x_2, y = λ_1·(x - x_p) - y_p (λ_1 is the negated slope)
    let lambda_1_sq = chip.mul_no_carry(ctx, &lambda_1, &lambda_1);
    let lambda_1_sq_minus_xp = chip.sub_no_carry(ctx, lambda_1_sq, &p.x);
    let x_no_carry = chip.sub_no_carry(ctx, lambda_1_sq_minus_xp, &x_2);
    let x = chip.carry_mod(ctx, x_no_carry);
    let x_minus_xp = chip.sub_no_carry(ctx, &x, &p.x);
    let lambda_dx = chip.mul_no_carry(ctx, lambda_1, x_minus_xp);
    let y = chip.sub_no_carry(ctx, lambda_dx, p.y);
    LazyPoint { x, y }
}

/// Half of a 254-bit decomposition: both halves of `r` fit in it.
const HALF_BITS: usize = 127;

/// The bits of `scalar`, `scalar_bits` of them, least significant first. A 254-bit decomposition is made
/// canonical (the integer it spells is below r), so that a scalar has one bit pattern and the prover
/// cannot pick the lookups after seeing the offset (nor, in the aggregation circuit, the fold coefficients
/// cut from a challenge's bits).
pub(super) fn canonical_bits(
    range: &RangeChip<Fr>,
    ctx: &mut Context<Fr>,
    scalar: Scalar,
    scalar_bits: usize,
) -> Vec<Scalar> {
    if scalar_bits < Fr::NUM_BITS as usize {
        // 2^scalar_bits <= r: one pattern already.
        return range.gate().num_to_bits(ctx, scalar, scalar_bits);
    }
    assert_eq!(scalar_bits, 2 * HALF_BITS, "scalars are at most 254 bits");
    let value = fe_to_biguint(scalar.value());
    let high = &value >> HALF_BITS;
    let low = &value - (&high << HALF_BITS);
    bits_of_halves(range, ctx, scalar, [high, low].map(|v| biguint_to_fe::<Fr>(&v)))
}

/// The 254 bits of `scalar` from its witnessed halves `[high, low]` (`scalar = high·2^127 + low`), constrained
/// to spell an integer below r.
fn bits_of_halves(range: &RangeChip<Fr>, ctx: &mut Context<Fr>, scalar: Scalar, halves: [Fr; 2]) -> Vec<Scalar> {
    let gate = range.gate();
    let r = modulus::<Fr>();
    let r_high = &r >> HALF_BITS;
    let r_low = &r - (&r_high << HALF_BITS);
    let [high, low] = halves.map(|v| ctx.load_witness(v));
    let shift = Constant(Fr::from(2).pow_vartime([HALF_BITS as u64]));
    let recomposed = gate.mul_add(ctx, high, shift, low);
    ctx.constrain_equal(&recomposed, &scalar);
    // Also the range checks: each half below 2^127.
    let mut bits = gate.num_to_bits(ctx, low, HALF_BITS);
    bits.extend(gate.num_to_bits(ctx, high, HALF_BITS));
    // (high, low) < (r_high, r_low) in lexicographic order.
    let [r_high, r_low] = [r_high, r_low].map(|v| Constant(biguint_to_fe::<Fr>(&v)));
    let high_less = range.is_less_than(ctx, high, r_high, HALF_BITS);
    let high_equal = gate.is_equal(ctx, high, r_high);
    let low_less = range.is_less_than(ctx, low, r_low, HALF_BITS);
    let below_r = gate.mul_add(ctx, high_equal, low_less, high_less);
    gate.assert_is_const(ctx, &below_r, &Fr::ONE);
    bits
}

/// The offset point `A`: the first point whose x-coordinate is `seed + δ` for `δ < 2^8`, `δ` range-checked
/// and the point checked to be on the curve, so that `A` is fixed by `seed` up to a few hundred choices.
pub(super) fn offset_point(
    ecc: &BaseFieldEccChip<'_, G1Affine>,
    pool: &mut SinglePhaseCoreManager<Fr>,
    seed: Scalar,
) -> Point {
    let chip: &FpChip<'_, Fr> = ecc.field_chip();
    // A seed is below r < p, so it is an x-coordinate as it stands.
    let base = Fq::from_repr(seed.value().to_repr()).unwrap_or(Fq::ZERO);
    let (delta, x, y) = (0..1u64 << OFFSET_TRIES_BITS)
        .find_map(|delta| {
            let x = base + Fq::from(delta);
            Option::<Fq>::from((x.square() * x + Fq::from(3)).sqrt()).map(|y| (delta, x, y))
        })
        // Only with probability 2^-256; the on-curve check below then fails, the circuit is unsatisfied.
        .unwrap_or((0, base, Fq::ZERO));
    let ctx = pool.main();
    let delta = ctx.load_witness(Fr::from(delta));
    chip.range().range_check(ctx, delta, OFFSET_TRIES_BITS);
    let point = ecc.load_private::<G1Affine>(ctx, (x, y));
    let x_native = chip.gate().add(ctx, seed, delta);
    ctx.constrain_equal(point.x().native(), &x_native);
    point
}

/// `Σ s·P` over `witness` and `constants`, with `A` = `offset` (from [`offset_point`]). Every scalar has at
/// most `scalar_bits` bits; a witness base may be the point at infinity, (0, 0), as snark-verifier's points
/// may be. Needs at least [`MIN_WITNESS_BASES`] witness bases.
pub(super) fn msm(
    ecc: &BaseFieldEccChip<'_, G1Affine>,
    pool: &mut SinglePhaseCoreManager<Fr>,
    offset: &Point,
    witness: &[(Scalar, Point)],
    constants: &[(Scalar, G1Affine)],
    scalar_bits: usize,
) -> Point {
    msm_reducing(ecc, pool, offset, witness, constants, scalar_bits, REDUCE_EVERY)
}

/// [`msm`], reducing per-bit sums every `reduce_every` additions.
fn msm_reducing(
    ecc: &BaseFieldEccChip<'_, G1Affine>,
    pool: &mut SinglePhaseCoreManager<Fr>,
    offset: &Point,
    witness: &[(Scalar, Point)],
    constants: &[(Scalar, G1Affine)],
    scalar_bits: usize,
    reduce_every: usize,
) -> Point {
    assert!(witness.len() >= MIN_WITNESS_BASES, "the offset cancels across two witness clumps");
    let chip: &FpChip<'_, Fr> = ecc.field_chip();
    // The compile-time bound is for these limbs and intervals; a chip or an interval of another shape needs
    // its own (a check while the circuit is built, not a constraint).
    assert!(
        lazy_y_bits(reduce_every, REDUCE_TOTAL_EVERY) <= crt_input_bits(chip.limb_bits, chip.num_limbs),
        "per-bit sums reduced every {reduce_every} additions exceed halo2-ecc's CRT bound"
    );

    // Witness clumps of at most CLUMP bases, at least two; constant clumps of CLUMP.
    let witness_clump = CLUMP.min(witness.len().div_ceil(2));
    let witness_clumps: Vec<&[(Scalar, Point)]> = witness.chunks(witness_clump).collect();
    let constant_clumps: Vec<&[(Scalar, G1Affine)]> = constants.chunks(CLUMP).collect();
    let last = witness_clumps.len() - 1;

    // bits[c][b]: bit b of the scalars of clump c, clumps in summation order (witness clumps but the last,
    // constant clumps, the last witness clump).
    let ctx = pool.main();
    let mut to_bits = |scalars: Vec<Scalar>| -> Vec<Vec<Scalar>> {
        let mut bits = vec![Vec::with_capacity(scalars.len()); scalar_bits];
        for scalar in scalars {
            for (b, bit) in canonical_bits(chip.range(), ctx, scalar, scalar_bits).into_iter().enumerate() {
                bits[b].push(bit);
            }
        }
        bits
    };
    let mut clump_bits = Vec::with_capacity(witness_clumps.len() + constant_clumps.len());
    for clump in &witness_clumps[..last] {
        clump_bits.push(to_bits(clump.iter().map(|(s, _)| *s).collect()));
    }
    for clump in &constant_clumps {
        clump_bits.push(to_bits(clump.iter().map(|(s, _)| *s).collect()));
    }
    clump_bits.push(to_bits(witness_clumps[last].iter().map(|(s, _)| *s).collect()));

    // Constant clumps: the whole table is a constant, C_j plus every subset sum.
    let mut constant_starts = G1::identity();
    let mut next_constant = 0u64;
    let mut constant_tables = Vec::with_capacity(constant_clumps.len());
    for clump in &constant_clumps {
        let table = loop {
            let start = constant_point(next_constant);
            next_constant += 1;
            let mut table = vec![start];
            for (_, base) in clump.iter() {
                let with_base: Vec<G1> = table.iter().map(|t| t + base).collect();
                table.extend(with_base);
            }
            // An entry at infinity has no affine form; another constant avoids it.
            if table.iter().all(|t| !bool::from(t.is_identity())) {
                constant_starts += start;
                break table;
            }
        };
        let table: Vec<G1Affine> = table.iter().map(|t| t.to_affine()).collect();
        constant_tables.push(table.into_iter().map(|t| ecc.assign_constant_point(ctx, t)).collect::<Vec<_>>());
    }
    let last_constant = loop {
        let k = constant_point(next_constant);
        next_constant += 1;
        if !bool::from((k + constant_starts).is_identity()) {
            break k;
        }
    };
    // O, the constant every per-bit sum carries.
    let per_bit_offset = constant_starts + last_constant;

    // Witness starts: 2^r·A for r < last, then -(2^last - 1)·A + K.
    let mut starts = Vec::with_capacity(witness_clumps.len());
    let mut multiple = offset.clone();
    for _ in 0..last {
        let doubled = ec_double(chip, ctx, &multiple);
        starts.push(std::mem::replace(&mut multiple, doubled));
    }
    // A - 2^last·A: the operands differ as 2^last ± 1 is not a multiple of r.
    let cancel = ec_sub_unequal(chip, ctx, offset, &multiple, false);
    let k = ecc.assign_constant_point(ctx, last_constant.to_affine());
    // Equal operands would need (1 - 2^last)·A = K: A is not known when K is chosen.
    starts.push(ec_add_unequal(chip, ctx, &cancel, &k, false));

    // Witness tables: start + every subset sum. Each addition adds a base to start + a subset sum, whose
    // multiple of A is not zero.
    let witness_jobs: Vec<(&[(Scalar, Point)], Point)> = witness_clumps.iter().copied().zip(starts).collect();
    let witness_tables = parallelize_core(pool, witness_jobs, |ctx, (clump, start)| {
        let mut table = vec![start];
        for (i, (_, base)) in clump.iter().enumerate() {
            let is_infinity = chip.is_zero(ctx, &base.y);
            for j in 0..(1 << i) {
                let sum = ec_add_unequal(chip, ctx, &table[j], base, false);
                table.push(ec_select(chip, ctx, table[j].clone(), sum, is_infinity));
            }
        }
        table
    });
    let mut tables: Vec<&Vec<Point>> = witness_tables[..last].iter().collect();
    tables.extend(constant_tables.iter());
    tables.push(&witness_tables[last]);

    // lookups[c][b] = the entry of clump c's table that bit b of its scalars selects.
    let jobs: Vec<(&Vec<Point>, &Vec<Vec<Scalar>>)> = tables.into_iter().zip(&clump_bits).collect();
    let lookups = parallelize_core(pool, jobs, |ctx, (table, bits)| {
        bits.iter().map(|bit| ec_select_from_bits(chip, ctx, table, bit)).collect::<Vec<_>>()
    });

    // per_bit[b] = O + Σ_{i: bit b of scalar i set} base_i. Before the last clump a partial sum holds
    // (2^(r+1) - 1)·A plus constants, the next lookup 2^(r+1)·A or none (a constant clump) or
    // -(2^last - 1)·A: never the same multiple, so equal operands would need A to be a point fixed before it.
    let mut per_bit = parallelize_core(pool, (0..scalar_bits).collect(), |ctx, b| {
        let first = &lookups[0][b];
        let mut sum = LazyPoint { x: first.x.clone(), y: first.y.clone().into() };
        for (added, lookup) in lookups[1..].iter().enumerate() {
            sum = add_lazy(chip, ctx, sum, &lookup[b]);
            if (added + 1) % reduce_every == 0 {
                sum = LazyPoint { x: sum.x, y: chip.carry_mod(ctx, sum.y).into() };
            }
        }
        sum
    });

    // Σ_b 2^b·per_bit[b], the highest bit first, every step strict.
    let ctx = pool.main();
    let mut total = per_bit.pop().expect("at least one bit");
    for (step, next) in per_bit.into_iter().rev().enumerate() {
        total = double_and_add_lazy(chip, ctx, total, next);
        if (step + 1) % REDUCE_TOTAL_EVERY == 0 {
            total = LazyPoint { x: total.x, y: chip.carry_mod(ctx, total.y).into() };
        }
    }
    let total = EcPoint::new(total.x, chip.carry_mod(ctx, total.y));

    // The per-bit offsets added (2^scalar_bits - 1)·O in all: a constant.
    let ones = Fr::from(2).pow_vartime([scalar_bits as u64]) - Fr::ONE;
    let offset_total = ecc.assign_constant_point(ctx, (per_bit_offset * ones).to_affine());
    ec_sub_strict(chip, ctx, total, offset_total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use halo2_base::halo2_proofs::halo2curves::group::prime::PrimeCurveAffine;
    use halo2_base::{
        gates::circuit::{BaseCircuitParams, CircuitBuilderStage, builder::BaseCircuitBuilder},
        halo2_proofs::{
            dev::{FailureLocation, MockProver, VerifyFailure},
            plonk::Assigned,
        },
    };
    use rand_chacha::{
        ChaCha20Rng,
        rand_core::{RngCore, SeedableRng},
    };

    const K: u32 = 17;

    /// A mock-proving halo2-lib builder of `2^k` rows with the given advice and lookup columns.
    fn mock_builder(k: u32, advice: usize, lookup_advice: usize) -> BaseCircuitBuilder<Fr> {
        BaseCircuitBuilder::<Fr>::from_stage(CircuitBuilderStage::Mock).use_params(BaseCircuitParams {
            k: k as usize,
            num_advice_per_phase: vec![advice],
            num_fixed: 1,
            num_lookup_advice_per_phase: vec![lookup_advice],
            lookup_bits: Some(k as usize - 1),
            num_instance_columns: 1,
        })
    }

    /// Runs the mock prover on `msm` over `count` random bases (the second one infinity, every third a
    /// constant) with random scalars of `bits` bits, its result constrained to equal the native MSM, or
    /// that plus the generator if `tamper`.
    fn run(count: usize, bits: usize, tamper: bool) -> Result<(), Vec<String>> {
        run_reducing(count, bits, tamper, REDUCE_EVERY)
    }

    /// [`run`], reducing per-bit sums every `reduce_every` additions.
    fn run_reducing(count: usize, bits: usize, tamper: bool, reduce_every: usize) -> Result<(), Vec<String>> {
        let mut rng = ChaCha20Rng::seed_from_u64(count as u64);
        let mut builder = mock_builder(K, 12, 2);
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
        let scalars: Vec<Scalar> = values.iter().map(|v| ctx.load_witness(*v)).collect();
        let (mut witness, mut constants) = (Vec::new(), Vec::new());
        for (i, (p, s)) in natives.iter().zip(&scalars).enumerate() {
            if i % 3 == 2 {
                constants.push((*s, *p));
            } else {
                witness.push((*s, ecc.load_private_unchecked(ctx, (p.x, p.y))));
            }
        }
        let seed = ctx.load_witness(Fr::random(&mut rng));
        let offset = offset_point(&ecc, pool, seed);
        let result = msm_reducing(&ecc, pool, &offset, &witness, &constants, bits, reduce_every);
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
        // 3: two witness clumps of one base (one at infinity); 5, 9: two witness clumps and a constant one.
        for count in [3, 5, 9] {
            assert_eq!(run(count, 254, false), Ok(()), "{count} bases, full scalars");
            assert!(run(count, 254, true).is_err(), "{count} bases: a wrong result must not satisfy the circuit");
        }
        // Three witness clumps around two constant ones; per-bit sums reduced after two of their four additions.
        assert_eq!(run_reducing(17, 128, false, 2), Ok(()), "17 bases, 128-bit scalars, reduced midway");
        assert!(run(17, 128, true).is_err(), "17 bases: a wrong result must not satisfy the circuit");
    }

    /// A 254-bit scalar has one bit pattern: the halves of `s + r`, which also spell `s` modulo r, are refused.
    #[test]
    fn a_scalar_has_one_bit_pattern() {
        let check = |scalar: Fr, lift: bool| {
            let mut builder = mock_builder(12, 2, 1);
            let range = builder.range_chip();
            let ctx = builder.main(0);
            let assigned = ctx.load_witness(scalar);
            let mut integer = fe_to_biguint(&scalar);
            if lift {
                integer += modulus::<Fr>();
            }
            let high = &integer >> HALF_BITS;
            let low = &integer - (&high << HALF_BITS);
            let bits = bits_of_halves(&range, ctx, assigned, [high, low].map(|v| biguint_to_fe::<Fr>(&v)));
            assert_eq!(bits.len(), 254);
            builder.calculate_params(Some(20));
            MockProver::run(12, &builder, vec![vec![]]).expect("runs").verify().is_ok()
        };
        for scalar in [Fr::from(5), Fr::ZERO, -Fr::ONE, Fr::from(2).pow_vartime([200])] {
            assert!(check(scalar, false), "the canonical halves of {scalar:?}");
        }
        // s + r < 2^254 for these: a second pattern the constraints alone would take.
        for scalar in [Fr::from(5), Fr::ZERO, Fr::from(2).pow_vartime([200])] {
            assert!(!check(scalar, true), "the halves of {scalar:?} + r must be refused");
        }
    }

    /// The offset point's x-coordinate is the seed plus a small δ, and nothing else satisfies it.
    #[test]
    fn the_offset_point_is_fixed_by_its_seed() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        for seed in [Fr::random(&mut rng), Fr::ZERO, -Fr::ONE] {
            let mut builder = mock_builder(12, 4, 1);
            let range = builder.range_chip();
            let fp = FpChip::<Fr>::new(&range, snark_verifier_sdk::BITS, snark_verifier_sdk::LIMBS);
            let ecc = BaseFieldEccChip::<G1Affine>::new(&fp);
            let pool = builder.pool(0);
            let assigned = pool.main().load_witness(seed);
            let point = offset_point(&ecc, pool, assigned);
            let x = point.x().value();
            let seed_int = halo2_base::utils::fe_to_biguint(&seed);
            assert!(x >= seed_int && (x - &seed_int).bits() <= 8, "x = seed + δ, δ < 256");
            builder.calculate_params(Some(20));
            assert_eq!(MockProver::run(12, &builder, vec![vec![]]).expect("runs").verify(), Ok(()));
        }
    }

    #[test]
    fn the_reduction_intervals_keep_the_lazy_msm_inside_halo2_eccs_crt_bound() {
        let bound = crt_input_bits(BITS, LIMBS);
        assert_eq!(bound, 515, "88-bit limbs, three of them: 264 - 1 + 254 - 2");
        // 37·2^508: 2R + 4T - 3 units at R = 12, T = 4.
        assert_eq!(lazy_y_bits(REDUCE_EVERY, REDUCE_TOTAL_EVERY), 514);
        // The bound is 2^7 units: 2R + 4T - 3 <= 128. The largest intervals it allows, and one more.
        assert!(lazy_y_bits(57, REDUCE_TOTAL_EVERY) <= bound && lazy_y_bits(58, REDUCE_TOTAL_EVERY) > bound);
        assert!(lazy_y_bits(REDUCE_EVERY, 26) <= bound && lazy_y_bits(REDUCE_EVERY, 27) > bound);
        // Without reductions along the per-bit sums (R = 254 clumps' worth) the bound is long gone.
        assert!(lazy_y_bits(254, 1) > bound);
        assert_eq!([ceil_log2(1), ceil_log2(2), ceil_log2(37), ceil_log2(64), ceil_log2(65)], [0, 1, 6, 6, 7]);
    }

    /// Rows of the circuit of [`decompositions`]: small enough that they run across a dozen columns.
    const SMALL_K: u32 = 9;

    /// Four scalars decomposed by [`canonical_bits`] in one context of a `2^SMALL_K`-row circuit (254, 128,
    /// 254 and 128 bits), and the bits of each running sum that decomposes them (a 254-bit scalar has two, one
    /// per half). The same every call.
    fn decompositions() -> (BaseCircuitBuilder<Fr>, Vec<Vec<Scalar>>) {
        let mut builder = mock_builder(SMALL_K, 1, 1);
        let range = builder.range_chip();
        let ctx = builder.main(0);
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let mut sums = Vec::new();
        for bits in [254, 128, 254, 128] {
            let value = match bits {
                128 => Fr::from(rng.next_u64()) + Fr::from(rng.next_u64()) * Fr::from(2).pow_vartime([64]),
                _ => Fr::random(&mut rng),
            };
            let scalar = ctx.load_witness(value);
            let decomposition = canonical_bits(&range, ctx, scalar, bits);
            // A running sum lays its bits out at o, o + 1, o + 4, o + 7, ...
            let mut sum = vec![decomposition[0]];
            for bit in decomposition.into_iter().skip(1) {
                let previous = offset(sum.last().expect("a bit"));
                let step = if sum.len() == 1 { 1 } else { 3 };
                if offset(&bit) != previous + step {
                    sums.push(std::mem::take(&mut sum));
                }
                sum.push(bit);
            }
            sums.push(sum);
        }
        let lengths: Vec<usize> = sums.iter().map(Vec::len).collect();
        assert_eq!(lengths, [127, 127, 128, 127, 127, 128], "halves of 127 bits for 254-bit scalars");
        builder.calculate_params(Some(20));
        (builder, sums)
    }

    fn offset(cell: &Scalar) -> usize {
        cell.cell.expect("a cell of a context").offset
    }

    /// The cells where the columns break, as offsets in the main context (the only one): each is the last
    /// cell of one column and, copied, the first of the next.
    fn break_cells(builder: &mut BaseCircuitBuilder<Fr>) -> Vec<usize> {
        assert_eq!(builder.pool(0).threads.len(), 1, "one context: its offsets are the cells' order in the columns");
        let mut cell = 0;
        builder.break_points()[0]
            .iter()
            .map(|rows| {
                cell += rows;
                cell
            })
            .collect()
    }

    /// Sets the cell at `offset` and every cell copy-constrained to it, as a prover who witnesses another value
    /// everywhere it is used would.
    /// Returns the cells set, `offset` first.
    fn set_everywhere(ctx: &mut Context<Fr>, offset: usize, value: Fr) -> Vec<usize> {
        let (type_id, id) = (ctx.type_id(), ctx.id());
        let links: Vec<(usize, usize)> = ctx
            .copy_manager
            .lock()
            .expect("the copy manager")
            .advice_equalities
            .iter()
            .filter(|(a, b)| [a, b].iter().all(|c| c.type_id == type_id && c.context_id == id))
            .map(|(a, b)| (a.offset, b.offset))
            .collect();
        let mut class = vec![offset];
        let mut next = 0;
        while next < class.len() {
            let cell = class[next];
            for &(a, b) in &links {
                let other = match (a == cell, b == cell) {
                    (true, _) => b,
                    (_, true) => a,
                    _ => continue,
                };
                if !class.contains(&other) {
                    class.push(other);
                }
            }
            next += 1;
        }
        for &cell in &class {
            ctx.advice[cell] = Assigned::Trivial(value);
        }
        class
    }

    /// The column and row of the gate that starts at cell `offset` (a gate starting at a break cell is
    /// in the new column).
    fn place(breaks: &[usize], offset: usize) -> (usize, usize) {
        let column = breaks.iter().filter(|&&cell| cell <= offset).count();
        (column, offset - column.checked_sub(1).map_or(0, |c| breaks[c]))
    }

    /// How a bit decomposition is tampered next to a column break (bit `j`'s gate starting at the break).
    #[derive(Clone, Copy, Debug)]
    enum Tamper {
        /// Bit `j`, the first after the break, flipped (still a bit).
        FlipAfterBreak,
        /// Bit `j - 1` moved by `2s` and bit `j` by `-s` (`s = ±1`, so that bit `j` stays a bit), the running sum at
        /// the break by `s·2^j`: every running sum and the recomposed value unchanged, bit `j - 1` not a bit.
        NonBitAcrossBreak,
    }

    /// MockProver's failures for running sum `d` of [`decompositions`] tampered at bit `j` as `how` says, and
    /// the cell where the one gate that should fail starts.
    fn tampered(d: usize, j: usize, how: Tamper) -> (Vec<VerifyFailure>, usize) {
        let (mut builder, decompositions) = decompositions();
        let bits = &decompositions[d];
        let ctx = builder.main(0);
        let (before, at_break, after) = (offset(&bits[j - 1]), offset(&bits[j]) - 1, offset(&bits[j]));
        let value = |ctx: &Context<Fr>, cell: usize| ctx.advice[cell].evaluate();
        let two_j = Fr::from(2).pow_vartime([j as u64]);
        // num_to_bits' layout, which the tampering follows: the sum through bit j - 1, bit j, 2^j, the sum through
        // bit j, one gate from the first cell (at the break).
        assert_eq!(value(ctx, after + 1), two_j);
        assert_eq!(value(ctx, at_break) + value(ctx, after) * two_j, value(ctx, after + 2));
        let (bit_before, bit_after) = (value(ctx, before), value(ctx, after));
        let failing_gate = match how {
            Tamper::FlipAfterBreak => {
                set_everywhere(ctx, after, Fr::ONE - bit_after);
                at_break
            }
            Tamper::NonBitAcrossBreak => {
                let s = if bit_after == Fr::ONE { Fr::ONE } else { -Fr::ONE };
                // Bit 0 is its own running sum: then `before == at_break` and 2s = s·2^1.
                if before != at_break {
                    let sum = value(ctx, at_break);
                    set_everywhere(ctx, at_break, sum + s * two_j);
                }
                let copies = set_everywhere(ctx, before, bit_before + s + s);
                set_everywhere(ctx, after, bit_after - s);
                // The booleanity check is `0 + b·b = b` on copies of the bit, after a constant zero.
                let check = copies[1..].iter().min().expect("the bit's booleanity check copies it") - 1;
                assert_eq!(value(ctx, check), Fr::ZERO);
                check
            }
        };
        let failures =
            MockProver::run(SMALL_K, &builder, vec![vec![]]).expect("runs").verify().err().unwrap_or_default();
        (failures, failing_gate)
    }

    /// A scalar decomposition that runs across a column break is bound on both sides of it. Where a gate of
    /// [`canonical_bits`]' running sum starts a column (its first cell, the sum so far, is also the last cell
    /// of the column before), a consistently tampered bit next to it is refused by exactly the constraint
    /// that should refuse it: the flipped bit after the break by that gate at the new column's first row, and
    /// a non-bit that keeps every running sum by its booleanity check.
    #[test]
    fn a_tampered_bit_next_to_a_column_break_is_refused() {
        let (mut builder, decompositions) = decompositions();
        assert_eq!(MockProver::run(SMALL_K, &builder, vec![vec![]]).expect("runs").verify(), Ok(()));
        let breaks = break_cells(&mut builder);
        // (running sum, bit j) for every break at the gate that adds bit j to a running sum.
        let straddling: Vec<(usize, usize)> = decompositions
            .iter()
            .enumerate()
            .flat_map(|(d, bits)| {
                let breaks = &breaks;
                (1..bits.len()).filter(move |&j| breaks.contains(&(offset(&bits[j]) - 1))).map(move |j| (d, j))
            })
            .collect();
        assert!(straddling.len() >= 2, "breaks inside decompositions: {straddling:?} (breaks at {breaks:?})");
        eprintln!("{} breaks, {} of them inside a running sum: {straddling:?}", breaks.len(), straddling.len());
        for &(d, j) in &straddling {
            for how in [Tamper::FlipAfterBreak, Tamper::NonBitAcrossBreak] {
                let (failures, gate) = tampered(d, j, how);
                let (column, row) = place(&breaks, gate);
                let [VerifyFailure::ConstraintNotSatisfied { constraint, location, .. }] = failures.as_slice() else {
                    panic!("running sum {d}, bit {j}, {how:?}: exactly one gate must fail, not {failures:?}");
                };
                assert!(
                    matches!(location, FailureLocation::InRegion { offset: at, .. } | FailureLocation::OutsideRegion { row: at } if *at == row)
                        && constraint.to_string().contains(&format!("in gate {column} ")),
                    "running sum {d}, bit {j}, {how:?}: the gate at row {row} of column {column} must fail, not \
                     {constraint} {location}"
                );
            }
        }
    }
}
