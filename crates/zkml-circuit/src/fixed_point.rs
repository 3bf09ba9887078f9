//! Fixed-point arithmetic in halo2-base, constraining exactly the integer semantics of
//! `zkml_model::exec` (signed values as field elements, `-v` stored as `p - v`).

use halo2_base::{
    AssignedValue, Context, QuantumCell,
    QuantumCell::Constant,
    gates::{GateInstructions, RangeInstructions},
    utils::{BigPrimeField, biguint_to_fe, fe_to_biguint},
};

pub use zkml_model::commit::fe_from_i64;

/// The signed integer a field element encodes (`p - v` is `-v`), for values of at most 63 bits.
pub fn fe_to_i64<F: BigPrimeField>(f: &F) -> i64 {
    let small = |v: &F| {
        let n = fe_to_biguint(v);
        (n.bits() <= 63).then(|| n.iter_u64_digits().next().unwrap_or(0) as i64)
    };
    small(f).or_else(|| small(&-*f).map(|v| -v)).expect("a quantized value, well inside 63 bits")
}

/// The fixed-point operations a quantized model needs, over a range chip.
pub trait FixedPointInstructions<F: BigPrimeField> {
    /// Constrains `|a| <= bound`.
    ///
    /// Assumes `2 · bound + 1 < 2^64`.
    fn check_bound(&self, ctx: &mut Context<F>, a: AssignedValue<F>, bound: u64);

    /// Returns `floor((a + 2^(k-1)) / 2^k)`: division by `2^k` rounding half up, proven as a floor division
    /// with the remainder range-checked to `[0, 2^k)`.
    ///
    /// Assumes `|a| < 2^a_bits` with `k <= a_bits` and `a_bits + 2` below the field's capacity; a value
    /// outside that range makes the constraints unsatisfiable rather than wrapping.
    fn rescale(&self, ctx: &mut Context<F>, a: AssignedValue<F>, k: u32, a_bits: u32) -> AssignedValue<F>;

    /// Returns `max(a, 0)`. Assumes `|a| < 2^bits`.
    fn relu(&self, ctx: &mut Context<F>, a: AssignedValue<F>, bits: u32) -> AssignedValue<F>;

    /// Returns `max(a, b)`. Assumes `|a|, |b| < 2^bits`.
    fn max(&self, ctx: &mut Context<F>, a: AssignedValue<F>, b: AssignedValue<F>, bits: u32) -> AssignedValue<F>;

    /// Returns `floor((2·a + d) / (2·d))`: division by a positive constant, rounding half up, proven as a
    /// floor division with a range-checked remainder. Assumes `|a| < 2^a_bits`.
    fn round_div_const(&self, ctx: &mut Context<F>, a: AssignedValue<F>, d: u64, a_bits: u32) -> AssignedValue<F>;

    /// Returns `max(a, c)` for a constant `c`. Assumes `|a|, |c| < 2^bits`.
    fn max_const(&self, ctx: &mut Context<F>, a: AssignedValue<F>, c: i64, bits: u32) -> AssignedValue<F>;

    /// Returns `min(a, c)` for a constant `c`. Assumes `|a|, |c| < 2^bits`.
    fn min_const(&self, ctx: &mut Context<F>, a: AssignedValue<F>, c: i64, bits: u32) -> AssignedValue<F>;

    /// Returns `min(a, b)`. Assumes `|a|, |b| < 2^bits`.
    fn min(&self, ctx: &mut Context<F>, a: AssignedValue<F>, b: AssignedValue<F>, bits: u32) -> AssignedValue<F>;

    /// Returns `Σ x_i · w_i + bias`; weights and bias are constants (baked into the circuit) or cells (a
    /// committed model).
    fn dot(
        &self,
        ctx: &mut Context<F>,
        xs: &[AssignedValue<F>],
        ws: &[QuantumCell<F>],
        bias: Option<QuantumCell<F>>,
    ) -> AssignedValue<F>;

    /// Returns `floor((2·a + d) / (2·d))` for a cell `d > 0`: division rounding half up, proven as a floor
    /// division with `0 <= r < 2·d`. Assumes `0 <= a < 2^a_bits` and `0 < d < 2^d_bits`.
    fn round_div_var(
        &self,
        ctx: &mut Context<F>,
        a: AssignedValue<F>,
        d: AssignedValue<F>,
        a_bits: u32,
        d_bits: u32,
    ) -> AssignedValue<F>;

    /// Returns `floor((2·a + d) / (2·d))` for a signed `a` with `|a| < 2^a_bits` and a cell `0 < d < 2^d_bits`
    /// (a `d <= 0` makes the constraints unsatisfiable).
    fn round_div_signed(
        &self,
        ctx: &mut Context<F>,
        a: AssignedValue<F>,
        d: AssignedValue<F>,
        a_bits: u32,
        d_bits: u32,
    ) -> AssignedValue<F>;

    /// Returns `round(sqrt(x · 2^s))` (`zkml_model::exec::round_sqrt`) for `0 <= x < 2^x_bits`; a negative
    /// `x` makes the constraints unsatisfiable.
    fn round_sqrt(&self, ctx: &mut Context<F>, x: AssignedValue<F>, s: u32, x_bits: u32) -> AssignedValue<F>;

    /// Returns `round(sqrt(2^(3s) / x))` (`zkml_model::exec::round_rsqrt`) for `0 < x < 2^x_bits`; `x <= 0`
    /// makes the constraints unsatisfiable.
    fn round_rsqrt(&self, ctx: &mut Context<F>, x: AssignedValue<F>, s: u32, x_bits: u32) -> AssignedValue<F>;

    /// Returns `(index, value)` of the first maximum of `xs` (as `zkml_model::exec` ArgMax picks it).
    /// Assumes every `|x| < 2^bits`.
    fn argmax(&self, ctx: &mut Context<F>, xs: &[AssignedValue<F>], bits: u32) -> (AssignedValue<F>, AssignedValue<F>);
}

impl<F: BigPrimeField, R: RangeInstructions<F>> FixedPointInstructions<F> for R {
    fn check_bound(&self, ctx: &mut Context<F>, a: AssignedValue<F>, bound: u64) {
        // a + bound lies in [0, 2·bound] exactly when -bound <= a <= bound.
        let shifted = self.gate().add(ctx, a, Constant(F::from(bound)));
        self.check_less_than_safe(ctx, shifted, 2 * bound + 1);
    }

    fn rescale(&self, ctx: &mut Context<F>, a: AssignedValue<F>, k: u32, a_bits: u32) -> AssignedValue<F> {
        assert!(k >= 1 && k <= a_bits, "rescale by 2^{k} of a {a_bits}-bit value");
        // Shift into [0, 2^(a_bits+1) + 2^(k-1)) by a multiple of 2^k, so the quotient shifts by a constant.
        let offset = 1u128 << a_bits;
        let shifted = self.gate().add(ctx, a, Constant(F::from_u128(offset + (1u128 << (k - 1)))));
        // shifted = q·2^k + r with r < 2^k and q < 2^(a_bits+2-k): below 2^(a_bits+2), so no wrap.
        let value = fe_to_biguint(shifted.value());
        let q = &value >> k;
        let r = &value - (&q << k);
        let [quotient, remainder] = [q, r].map(|v| ctx.load_witness(biguint_to_fe(&v)));
        let recomposed = self.gate().mul_add(ctx, quotient, Constant(F::from_u128(1u128 << k)), remainder);
        ctx.constrain_equal(&recomposed, &shifted);
        self.range_check(ctx, remainder, k as usize);
        self.range_check(ctx, quotient, (a_bits + 2 - k) as usize);
        self.gate().sub(ctx, quotient, Constant(F::from_u128(offset >> k)))
    }

    fn relu(&self, ctx: &mut Context<F>, a: AssignedValue<F>, bits: u32) -> AssignedValue<F> {
        let offset = F::from_u128(1u128 << bits);
        let shifted = self.gate().add(ctx, a, Constant(offset));
        let negative = self.is_less_than(ctx, shifted, Constant(offset), bits as usize + 1);
        let zero = ctx.load_zero();
        self.gate().select(ctx, zero, a, negative)
    }

    fn max(&self, ctx: &mut Context<F>, a: AssignedValue<F>, b: AssignedValue<F>, bits: u32) -> AssignedValue<F> {
        // Compare a + 2^bits < b + 2^bits: both shifted values are non-negative and below 2^(bits+1).
        let offset = Constant(F::from_u128(1u128 << bits));
        let a_shifted = self.gate().add(ctx, a, offset);
        let b_shifted = self.gate().add(ctx, b, offset);
        let a_smaller = self.is_less_than(ctx, a_shifted, b_shifted, bits as usize + 1);
        self.gate().select(ctx, b, a, a_smaller)
    }

    fn round_div_const(&self, ctx: &mut Context<F>, a: AssignedValue<F>, d: u64, a_bits: u32) -> AssignedValue<F> {
        assert!(d > 0, "division by zero");
        let two_d = 2 * d as u128;
        // 2·a + d shifted by a multiple of 2·d into [0, 2^(a_bits+2) + 2·d): the quotient shifts by a constant.
        let steps = ((1u128 << (a_bits + 1)) / two_d) + 1;
        let offset = steps * two_d;
        let doubled = self.gate().mul(ctx, a, Constant(F::from(2)));
        let shifted = self.gate().add(ctx, doubled, Constant(F::from_u128(offset + d as u128)));
        let bits = (128 - (offset + (1u128 << (a_bits + 1)) + two_d).leading_zeros()) as usize;
        let (quotient, _remainder) = self.div_mod(ctx, shifted, two_d, bits);
        self.gate().sub(ctx, quotient, Constant(F::from_u128(steps)))
    }

    fn max_const(&self, ctx: &mut Context<F>, a: AssignedValue<F>, c: i64, bits: u32) -> AssignedValue<F> {
        let offset = 1i64 << bits;
        let a_shifted = self.gate().add(ctx, a, Constant(F::from(offset as u64)));
        let below = self.is_less_than(ctx, a_shifted, Constant(F::from((c + offset) as u64)), bits as usize + 1);
        self.gate().select(ctx, Constant(fe_from_i64(c)), a, below)
    }

    fn min_const(&self, ctx: &mut Context<F>, a: AssignedValue<F>, c: i64, bits: u32) -> AssignedValue<F> {
        let offset = 1i64 << bits;
        let a_shifted = self.gate().add(ctx, a, Constant(F::from(offset as u64)));
        let above = self.is_less_than(ctx, Constant(F::from((c + offset) as u64)), a_shifted, bits as usize + 1);
        self.gate().select(ctx, Constant(fe_from_i64(c)), a, above)
    }

    fn min(&self, ctx: &mut Context<F>, a: AssignedValue<F>, b: AssignedValue<F>, bits: u32) -> AssignedValue<F> {
        let offset = Constant(F::from_u128(1u128 << bits));
        let a_shifted = self.gate().add(ctx, a, offset);
        let b_shifted = self.gate().add(ctx, b, offset);
        let b_smaller = self.is_less_than(ctx, b_shifted, a_shifted, bits as usize + 1);
        self.gate().select(ctx, b, a, b_smaller)
    }

    fn dot(
        &self,
        ctx: &mut Context<F>,
        xs: &[AssignedValue<F>],
        ws: &[QuantumCell<F>],
        bias: Option<QuantumCell<F>>,
    ) -> AssignedValue<F> {
        assert_eq!(xs.len(), ws.len(), "one weight per input");
        let product = self.gate().inner_product(ctx, xs.iter().copied(), ws.iter().copied());
        match bias {
            Some(b) => self.gate().add(ctx, product, b),
            None => product,
        }
    }

    fn round_div_var(
        &self,
        ctx: &mut Context<F>,
        a: AssignedValue<F>,
        d: AssignedValue<F>,
        a_bits: u32,
        d_bits: u32,
    ) -> AssignedValue<F> {
        let two_a_plus_d = self.gate().mul_add(ctx, a, Constant(F::from(2)), d);
        let two_d = self.gate().mul(ctx, d, Constant(F::from(2)));
        // div_mod_var range-checks 2·d to d_bits + 1 bits and proves 0 <= r < 2·d.
        let (quotient, _remainder) =
            self.div_mod_var(ctx, two_a_plus_d, two_d, a_bits.max(d_bits) as usize + 2, d_bits as usize + 1);
        quotient
    }

    fn round_div_signed(
        &self,
        ctx: &mut Context<F>,
        a: AssignedValue<F>,
        d: AssignedValue<F>,
        a_bits: u32,
        d_bits: u32,
    ) -> AssignedValue<F> {
        // a + M·d with M = 2^a_bits is non-negative for d >= 1, and shifts the quotient by exactly M.
        let m = F::from_u128(1u128 << a_bits);
        let shifted = self.gate().mul_add(ctx, d, Constant(m), a);
        let quotient = self.round_div_var(ctx, shifted, d, a_bits + d_bits + 1, d_bits);
        self.gate().sub(ctx, quotient, Constant(m))
    }

    fn round_sqrt(&self, ctx: &mut Context<F>, x: AssignedValue<F>, s: u32, x_bits: u32) -> AssignedValue<F> {
        // z = 2y + b - 1 is floor(sqrt(4·x·2^s)): 0 <= 4·x·2^s - z² <= 2z. Then y = floor((z + 1) / 2).
        let radicand_bits = x_bits + s + 2;
        let radicand = self.gate().mul(ctx, x, Constant(F::from_u128(4u128 << s)));
        let value = fe_to_i64(x.value()) as i128;
        let z_value = zkml_model::exec::isqrt(4 * (value.max(0) << s));
        let (y, z) = rounded_half(self, ctx, z_value);
        // y is at most sqrt(2^radicand_bits) + 1: with z small, z² and the remainders are integers.
        self.range_check(ctx, y, (radicand_bits / 2 + 2) as usize);
        let z_squared = self.gate().mul(ctx, z, z);
        let r1 = self.gate().sub(ctx, radicand, z_squared);
        self.range_check(ctx, r1, radicand_bits as usize + 1);
        let two_z = self.gate().mul(ctx, z, Constant(F::from(2)));
        let r2 = self.gate().sub(ctx, two_z, r1);
        self.range_check(ctx, r2, radicand_bits as usize + 1);
        y
    }

    fn round_rsqrt(&self, ctx: &mut Context<F>, x: AssignedValue<F>, s: u32, x_bits: u32) -> AssignedValue<F> {
        // z = 2y + b - 1 is the largest with z²·x <= N = 4·2^(3s): N - z²·x >= 0 and (z+1)²·x - N - 1 >= 0.
        let n = F::from_u128(4u128 << (3 * s));
        let value = fe_to_i64(x.value()) as i128;
        let z_value = if value > 0 {
            let n = 4i128 << (3 * s);
            let mut z = zkml_model::exec::isqrt(n / value);
            while (z + 1) * (z + 1) * value <= n {
                z += 1;
            }
            z
        } else {
            0
        };
        let (y, z) = rounded_half(self, ctx, z_value);
        // z <= 2·sqrt(N) + 1 keeps every product far below the field; see exec::round_rsqrt.
        self.range_check(ctx, y, (3 * s / 2 + 3) as usize);
        let remainder_bits = (3 * s + 3).max(x_bits) as usize + 3;
        let z_squared = self.gate().mul(ctx, z, z);
        let z_squared_x = self.gate().mul(ctx, z_squared, x);
        let r1 = self.gate().sub(ctx, Constant(n), z_squared_x);
        self.range_check(ctx, r1, remainder_bits);
        let z_plus_one = self.gate().add(ctx, z, Constant(F::ONE));
        let next = self.gate().mul(ctx, z_plus_one, z_plus_one);
        let next_x = self.gate().mul(ctx, next, x);
        let above = self.gate().sub(ctx, next_x, Constant(n + F::ONE));
        self.range_check(ctx, above, remainder_bits);
        y
    }

    fn argmax(&self, ctx: &mut Context<F>, xs: &[AssignedValue<F>], bits: u32) -> (AssignedValue<F>, AssignedValue<F>) {
        assert!(!xs.is_empty(), "argmax of nothing");
        let offset = Constant(F::from_u128(1u128 << bits));
        let mut best = xs[0];
        let mut index = ctx.load_zero();
        for (i, x) in xs.iter().enumerate().skip(1) {
            // Strictly greater replaces the best, so ties keep the first maximum.
            let best_shifted = self.gate().add(ctx, best, offset);
            let x_shifted = self.gate().add(ctx, *x, offset);
            let greater = self.is_less_than(ctx, best_shifted, x_shifted, bits as usize + 1);
            best = self.gate().select(ctx, *x, best, greater);
            index = self.gate().select(ctx, Constant(F::from(i as u64)), index, greater);
        }
        (index, best)
    }
}

/// Witnesses `y = floor((z + 1) / 2)` and a bit `b` for an integer root `z >= 0`, and returns `y` with the cell
/// `z = 2y + b - 1` (the form both rounded roots constrain; see `zkml_model::exec::round_sqrt`).
fn rounded_half<F: BigPrimeField>(
    range: &impl RangeInstructions<F>,
    ctx: &mut Context<F>,
    z_value: i128,
) -> (AssignedValue<F>, AssignedValue<F>) {
    let y = ctx.load_witness(F::from_u128(((z_value + 1) / 2) as u128));
    let b = ctx.load_witness(F::from_u128(((z_value + 1) % 2) as u128));
    range.gate().assert_bit(ctx, b);
    let two_y_plus_b = range.gate().mul_add(ctx, y, Constant(F::from(2)), b);
    let z = range.gate().sub(ctx, two_y_plus_b, Constant(F::ONE));
    (y, z)
}
