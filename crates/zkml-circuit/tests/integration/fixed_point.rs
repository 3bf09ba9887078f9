//! The fixed-point chip against the integer reference executor, under MockProver, with tampered
//! witnesses rejected.

use halo2_base::{
    AssignedValue, Context, QuantumCell,
    QuantumCell::Constant,
    gates::{RangeChip, circuit::builder::BaseCircuitBuilder},
    halo2_proofs::{dev::MockProver, halo2curves::bn256::Fr, plonk::Assigned},
};
use rand_chacha::{
    ChaCha20Rng,
    rand_core::{RngCore, SeedableRng},
};
use zkml_circuit::{FixedPointInstructions, fe_from_i64};
use zkml_model::exec::rescale;

const K: usize = 12;
const LOOKUP_BITS: usize = 10;

/// Lays out `build` in a fresh circuit, lets `tamper` edit the witness, and reports whether MockProver
/// accepts it, with the values of the returned cells.
fn run(
    build: impl FnOnce(&mut Context<Fr>, &RangeChip<Fr>) -> Vec<AssignedValue<Fr>>,
    tamper: impl FnOnce(&mut Context<Fr>, &[AssignedValue<Fr>]),
) -> (Vec<Fr>, bool) {
    let mut builder = BaseCircuitBuilder::<Fr>::new(false).use_k(K).use_lookup_bits(LOOKUP_BITS);
    let range = builder.range_chip();
    let outputs = build(builder.main(0), &range);
    tamper(builder.main(0), &outputs);
    builder.calculate_params(Some(9));
    let values = outputs.iter().map(|o| *o.value()).collect();
    let ok = MockProver::run(K as u32, &builder, vec![]).expect("the circuit fits").verify().is_ok();
    (values, ok)
}

fn no_tamper(_: &mut Context<Fr>, _: &[AssignedValue<Fr>]) {}

/// Loads each input as a witness and applies `op` to it, untampered.
fn each(
    inputs: &[i64],
    op: impl Fn(&mut Context<Fr>, &RangeChip<Fr>, AssignedValue<Fr>) -> AssignedValue<Fr>,
) -> (Vec<Fr>, bool) {
    run(
        |ctx, range| {
            inputs
                .iter()
                .map(|v| {
                    let a = ctx.load_witness(fe_from_i64(*v));
                    op(ctx, range, a)
                })
                .collect()
        },
        no_tamper,
    )
}

fn set(ctx: &mut Context<Fr>, offset: usize, value: Fr) {
    ctx.advice[offset] = Assigned::Trivial(value);
}

fn offset(cell: &AssignedValue<Fr>) -> usize {
    cell.cell.expect("a witness cell").offset
}

fn samples(bits: u32, n: usize) -> Vec<i64> {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let limit = (1i64 << bits) - 1;
    let mut values: Vec<i64> = vec![0, 1, -1, limit, -limit, 31, 32, 33, -31, -32, -33, 95, -96, -97];
    values.extend((0..n).map(|_| (rng.next_u64() % (2 * limit as u64 + 1)) as i64 - limit));
    values
}

#[test]
fn rescale_matches_the_reference_executor() {
    let (k, bits) = (6u32, 20u32);
    let inputs = samples(bits, 200);
    let (values, ok) = each(&inputs, |ctx, range, a| range.rescale(ctx, a, k, bits));
    assert!(ok, "an honest witness is accepted");
    for (v, got) in inputs.iter().zip(values) {
        assert_eq!(got, fe_from_i64(rescale(*v as i128, k as u8) as i64), "rescale({v}, {k})");
    }
}

#[test]
fn rescale_rejects_a_wrong_result() {
    let (_, ok) = run(
        |ctx, range| {
            let a = ctx.load_witness(fe_from_i64(-1000));
            vec![range.rescale(ctx, a, 6, 20)]
        },
        |ctx, outputs| {
            let o = offset(&outputs[0]);
            set(ctx, o, fe_from_i64(-15)); // the right answer is -16
        },
    );
    assert!(!ok, "a tampered quotient was accepted");
}

#[test]
fn rescale_rejects_a_remainder_outside_its_range() {
    // Keep a = b·q + r true with q + 1 and r - 2^k: only the remainder's range check can catch it.
    let (k, v) = (6u32, 1000i64);
    let (_, ok) = run(
        |ctx, range| {
            let a = ctx.load_witness(fe_from_i64(v));
            vec![range.rescale(ctx, a, k, 20)]
        },
        |ctx, _| {
            let b = Fr::from(1u64 << k);
            // The witnesses q, r, then the recomposition region [r, q, 2^k, q·2^k + r].
            let at = (2..ctx.advice.len() - 3)
                .find(|&i| {
                    let cell = |j: usize| ctx.advice[j].evaluate();
                    cell(i + 2) == b && cell(i + 3) == cell(i + 1) * b + cell(i) && cell(i + 3) != Fr::zero()
                })
                .expect("the recomposition region [r, q, 2^k, a]");
            let (rem, div) = (ctx.advice[at].evaluate(), ctx.advice[at + 1].evaluate());
            assert_eq!(
                (ctx.advice[at - 2].evaluate(), ctx.advice[at - 1].evaluate()),
                (div, rem),
                "the witnesses q, r"
            );
            assert_eq!(rem, Fr::from(((v + (1 << 20) + 32) % 64) as u64), "r = shifted a mod 2^k");
            for offset in [at - 1, at] {
                set(ctx, offset, rem - b);
            }
            for offset in [at - 2, at + 1] {
                set(ctx, offset, div + Fr::one());
            }
        },
    );
    assert!(!ok, "a remainder outside [0, 2^k) was accepted");
}

#[test]
fn bound_check_accepts_the_range_and_nothing_else() {
    let bound = 5000u64;
    for (v, expected) in [(0i64, true), (5000, true), (-5000, true), (5001, false), (-5001, false), (1 << 40, false)] {
        let (_, ok) = run(
            |ctx, range| {
                let a = ctx.load_witness(fe_from_i64(v));
                range.check_bound(ctx, a, bound);
                vec![]
            },
            no_tamper,
        );
        assert_eq!(ok, expected, "|{v}| <= {bound}");
    }
}

#[test]
fn relu_matches_and_rejects_a_negative_output() {
    let inputs = samples(18, 50);
    let (values, ok) = each(&inputs, |ctx, range, a| range.relu(ctx, a, 18));
    assert!(ok);
    for (v, got) in inputs.iter().zip(values) {
        assert_eq!(got, fe_from_i64((*v).max(0)), "relu({v})");
    }

    let (_, ok) = run(
        |ctx, range| {
            let a = ctx.load_witness(fe_from_i64(-77));
            vec![range.relu(ctx, a, 18)]
        },
        |ctx, outputs| set(ctx, offset(&outputs[0]), fe_from_i64(-77)),
    );
    assert!(!ok, "relu(-77) = -77 was accepted");
}

#[test]
fn dot_product_with_constant_weights() {
    let (xs, ws, bias) = (vec![3i64, -4, 5, 0, 7], vec![2i64, 1, -3, 9, -1], 100i64);
    let expected: i64 = xs.iter().zip(&ws).map(|(x, w)| x * w).sum::<i64>() + bias;
    let (values, ok) = run(
        |ctx, range| {
            let cells: Vec<_> = xs.iter().map(|x| ctx.load_witness(fe_from_i64(*x))).collect();
            vec![range.dot(ctx, &cells, &constants(&ws), Some(Constant(fe_from_i64(bias))))]
        },
        no_tamper,
    );
    assert!(ok);
    assert_eq!(values[0], fe_from_i64(expected));

    let (_, ok) = run(
        |ctx, range| {
            let cells: Vec<_> = xs.iter().map(|x| ctx.load_witness(fe_from_i64(*x))).collect();
            vec![range.dot(ctx, &cells, &constants(&ws), Some(Constant(fe_from_i64(bias))))]
        },
        |ctx, outputs| set(ctx, offset(&outputs[0]), fe_from_i64(expected + 1)),
    );
    assert!(!ok, "a wrong dot product was accepted");
}

#[test]
fn max_matches_and_rejects_the_smaller_value() {
    let pairs = [(3i64, 5i64), (-7, -2), (-9, 4), (6, 6), (-(1 << 17) + 1, (1 << 17) - 1), (100, -100)];
    let (values, ok) = run(
        |ctx, range| {
            pairs
                .iter()
                .map(|(a, b)| {
                    let (a, b) = (ctx.load_witness(fe_from_i64(*a)), ctx.load_witness(fe_from_i64(*b)));
                    range.max(ctx, a, b, 18)
                })
                .collect()
        },
        no_tamper,
    );
    assert!(ok);
    for ((a, b), got) in pairs.iter().zip(values) {
        assert_eq!(got, fe_from_i64(*a.max(b)), "max({a}, {b})");
    }
    let (_, ok) = run(
        |ctx, range| {
            let (a, b) = (ctx.load_witness(fe_from_i64(-9)), ctx.load_witness(fe_from_i64(4)));
            vec![range.max(ctx, a, b, 18)]
        },
        |ctx, outputs| set(ctx, offset(&outputs[0]), fe_from_i64(-9)),
    );
    assert!(!ok, "max(-9, 4) = -9 was accepted");
}

#[test]
fn round_div_matches_the_reference_executor() {
    let inputs = samples(20, 100);
    for d in [1u64, 3, 4, 9] {
        let (values, ok) = each(&inputs, |ctx, range, a| range.round_div_const(ctx, a, d, 20));
        assert!(ok, "d = {d}");
        for (v, got) in inputs.iter().zip(values) {
            let expected = zkml_model::exec::round_div(*v as i128, d as i128) as i64;
            assert_eq!(got, fe_from_i64(expected), "round_div({v}, {d})");
        }
    }
    let (_, ok) = run(
        |ctx, range| {
            let a = ctx.load_witness(fe_from_i64(-100));
            vec![range.round_div_const(ctx, a, 9, 20)]
        },
        |ctx, outputs| set(ctx, offset(&outputs[0]), fe_from_i64(-12)), // the right answer is -11
    );
    assert!(!ok, "a wrong quotient was accepted");
}

fn constants(ws: &[i64]) -> Vec<QuantumCell<Fr>> {
    ws.iter().map(|w| Constant(fe_from_i64(*w))).collect()
}

#[test]
fn argmax_picks_the_first_maximum_and_a_wrong_index_is_rejected() {
    for (xs, expected) in [(vec![3i64, -4, 9, 9, 1], 2u64), (vec![-5, -5, -5], 0), (vec![-1, 0, -2], 1)] {
        let (values, ok) = run(
            |ctx, range| {
                let cells: Vec<_> = xs.iter().map(|x| ctx.load_witness(fe_from_i64(*x))).collect();
                let (index, max) = range.argmax(ctx, &cells, 10);
                vec![index, max]
            },
            no_tamper,
        );
        assert!(ok);
        assert_eq!(values[0], Fr::from(expected), "{xs:?}");
        assert_eq!(values[1], fe_from_i64(*xs.iter().max().expect("not empty")));
        let (_, ok) = run(
            |ctx, range| {
                let cells: Vec<_> = xs.iter().map(|x| ctx.load_witness(fe_from_i64(*x))).collect();
                vec![range.argmax(ctx, &cells, 10).0]
            },
            |ctx, outputs| set(ctx, offset(&outputs[0]), Fr::from(expected + 1)),
        );
        assert!(!ok, "{xs:?}: a wrong index was accepted");
    }
}

#[test]
fn division_by_a_cell_rounds_half_up_and_a_wrong_quotient_is_rejected() {
    for (a, d) in [(10i64, 4i64), (9, 9), (0, 7), (4095 * 4096, 5000), (5, 2)] {
        let expected = zkml_model::exec::round_div(a as i128, d as i128) as i64;
        let (values, ok) = run(
            |ctx, range| {
                let (ac, dc) = (ctx.load_witness(fe_from_i64(a)), ctx.load_witness(fe_from_i64(d)));
                vec![range.round_div_var(ctx, ac, dc, 25, 14)]
            },
            no_tamper,
        );
        assert!(ok, "{a}/{d}");
        assert_eq!(values[0], fe_from_i64(expected), "{a}/{d}");
        let (_, ok) = run(
            |ctx, range| {
                let (ac, dc) = (ctx.load_witness(fe_from_i64(a)), ctx.load_witness(fe_from_i64(d)));
                vec![range.round_div_var(ctx, ac, dc, 25, 14)]
            },
            |ctx, outputs| set(ctx, offset(&outputs[0]), fe_from_i64(expected + 1)),
        );
        assert!(!ok, "{a}/{d}: a wrong quotient was accepted");
    }
}

#[test]
fn clamping_to_constants() {
    for x in [-300i64, -100, 0, 99, 100, 101, 300] {
        let (values, ok) = run(
            |ctx, range| {
                let a = ctx.load_witness(fe_from_i64(x));
                let low = range.max_const(ctx, a, -100, 12);
                vec![range.min_const(ctx, low, 100, 12)]
            },
            no_tamper,
        );
        assert!(ok);
        assert_eq!(values[0], fe_from_i64(x.clamp(-100, 100)), "clamp({x})");
        let (_, ok) = run(
            |ctx, range| {
                let a = ctx.load_witness(fe_from_i64(x));
                let low = range.max_const(ctx, a, -100, 12);
                vec![range.min_const(ctx, low, 100, 12)]
            },
            |ctx, outputs| set(ctx, offset(&outputs[0]), fe_from_i64(x)),
        );
        assert_eq!(ok, x.clamp(-100, 100) == x, "clamp({x}) replaced by x");
    }
}
