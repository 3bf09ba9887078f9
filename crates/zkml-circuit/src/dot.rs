//! Dot products with constant weights in columns of their own: `C` input columns, one accumulator column and
//! the weights in `C` fixed columns, so a row takes `C` multiply-accumulates for `C + 1` witness cells, where
//! halo2-base's `a + b·c = d` gate takes three cells for each (the weight, the input copy and the running
//! sum). The gate, on every row where `q = 1`:
//!
//! ```text
//! acc = chain · acc[prev] + Σ_j x_j · w_j + bias
//! ```
//!
//! `chain` is 0 on the first row of a dot product (whose `bias` is the constant term) and 1 on the rows that
//! continue it. The inputs are copies of the main region's cells and the last row's accumulator is a copy of
//! the result cell handed back to the caller, both by the permutation argument. Convolutions and dense
//! layers spend most of a CNN's rows on these products (LeNet-5: 70%), so this is where its rows go down.
//!
//! Only constant weights (fixed into the verifying key) fit fixed columns; a committed model's weights are
//! witnesses, and its dot products stay in halo2-base's gate.

use std::sync::{Arc, Mutex, MutexGuard};

use halo2_base::{
    AssignedValue, Context, QuantumCell,
    halo2_proofs::{
        circuit::{Region, Value},
        plonk::{Advice, Column, ConstraintSystem, Expression, Fixed},
        poly::Rotation,
    },
    utils::{
        BigPrimeField,
        halo2::{constrain_virtual_equals_external, raw_assign_advice, raw_assign_fixed},
    },
    virtual_region::copy_constraints::SharedCopyConstraintManager,
};

/// The most input columns a dot-product row takes.
pub const MAX_DOT_COLUMNS: usize = 16;

/// The first row of the dot products: the gate reads the row before, and the one before row 0 is a
/// blinding row at the bottom of the columns.
pub const FIRST_ROW: usize = 1;

/// One dot product laid out in the dot-product columns.
#[derive(Clone, Debug)]
struct DotProduct<F: BigPrimeField> {
    xs: Vec<AssignedValue<F>>,
    ws: Vec<F>,
    bias: F,
    /// The main-region cell holding the result, copy-constrained to the last accumulator.
    out: AssignedValue<F>,
}

/// Collects dot products while the model is laid out, and assigns them in [`DotConfig`]'s columns.
#[derive(Clone, Debug)]
pub struct DotChip<F: BigPrimeField> {
    products: Arc<Mutex<Vec<DotProduct<F>>>>,
    copy_manager: SharedCopyConstraintManager<F>,
    witness_gen_only: bool,
    enabled: bool,
    /// Witness tampering for soundness tests: `(product, delta)` added to an accumulator, `(product, term,
    /// value)` in place of an input copy.
    tampered_accumulator: Option<(usize, F)>,
    tampered_input: Option<(usize, usize, F)>,
}

impl<F: BigPrimeField> DotChip<F> {
    /// A chip that takes dot products when `enabled`; otherwise [`Self::dot`] declines them all.
    pub fn new(enabled: bool, witness_gen_only: bool, copy_manager: SharedCopyConstraintManager<F>) -> Self {
        Self {
            products: Default::default(),
            copy_manager,
            witness_gen_only,
            enabled,
            tampered_accumulator: None,
            tampered_input: None,
        }
    }

    fn products(&self) -> MutexGuard<'_, Vec<DotProduct<F>>> {
        // Only a panic while holding the lock poisons it, and that panic already ends the layout.
        self.products.lock().expect("the dot-product list is not poisoned")
    }

    /// Takes `Σ x_i · w_i + bias` when every weight and the bias are constants, returning its result as a
    /// new witness cell of `ctx` (tied to the dot-product columns at assignment); `None` when it cannot.
    pub fn dot(
        &self,
        ctx: &mut Context<F>,
        xs: &[AssignedValue<F>],
        ws: &[QuantumCell<F>],
        bias: Option<QuantumCell<F>>,
    ) -> Option<AssignedValue<F>> {
        if !self.enabled {
            return None;
        }
        let constant = |cell: &QuantumCell<F>| match cell {
            QuantumCell::Constant(c) => Some(*c),
            _ => None,
        };
        let ws = ws.iter().map(constant).collect::<Option<Vec<_>>>()?;
        let bias = match bias {
            Some(b) => constant(&b)?,
            None => F::ZERO,
        };
        let value = xs.iter().zip(&ws).fold(bias, |acc, (x, w)| acc + *x.value() * w);
        let out = ctx.load_witness(value);
        self.products().push(DotProduct { xs: xs.to_vec(), ws, bias, out });
        Some(out)
    }

    /// Rows the collected dot products take with `columns` inputs per row, the empty first row included.
    pub fn rows(&self, columns: usize) -> usize {
        FIRST_ROW + self.products().iter().map(|p| p.xs.len().div_ceil(columns).max(1)).sum::<usize>()
    }

    /// Terms of the collected dot products (an empty one counts one).
    pub fn terms(&self) -> usize {
        self.products().iter().map(|p| p.xs.len().max(1)).sum()
    }

    /// Number of dot products collected.
    pub fn len(&self) -> usize {
        self.products().len()
    }

    /// See [`crate::ModelCircuit::tamper_dot_accumulator`].
    pub fn tamper_accumulator(&mut self, product: usize, delta: F) {
        self.tampered_accumulator = Some((product, delta));
    }

    /// See [`crate::ModelCircuit::tamper_dot_input`].
    pub fn tamper_input(&mut self, product: usize, term: usize, value: F) {
        self.tampered_input = Some((product, term, value));
    }

    /// Whether any dot product was collected.
    pub fn is_empty(&self) -> bool {
        self.products().is_empty()
    }

    /// The fewest inputs per row ([`MAX_DOT_COLUMNS`] at most) that fit the dot products in `usable_rows`;
    /// 0 without dot products, `None` when none fits.
    pub fn columns_for(&self, usable_rows: usize) -> Option<usize> {
        if self.is_empty() {
            return Some(0);
        }
        (1..=MAX_DOT_COLUMNS).find(|&c| self.rows(c) <= usable_rows)
    }

    /// Witness cells the dot products take with `columns` inputs per row.
    pub fn cells(&self, columns: usize) -> usize {
        if columns == 0 { 0 } else { self.rows(columns) * (columns + 1) }
    }

    /// Assigns the dot products from row [`FIRST_ROW`] of `config`'s columns, tying inputs and results to the main
    /// region's cells (which must already be assigned).
    pub fn assign(&self, config: &DotConfig, region: &mut Region<'_, F>) {
        let products = self.products();
        let mut copy_manager =
            (!self.witness_gen_only).then(|| self.copy_manager.lock().expect("the copy manager is not poisoned"));
        let width = config.x.len();
        let mut row = FIRST_ROW;
        for (p, product) in products.iter().enumerate() {
            let mut acc = F::ZERO;
            let rows = product.xs.len().div_ceil(width).max(1);
            for r in 0..rows {
                if r == 0 {
                    acc = product.bias;
                    if let Some((_, delta)) = self.tampered_accumulator.filter(|t| t.0 == p) {
                        acc += delta;
                    }
                }
                for j in 0..width {
                    let i = r * width + j;
                    let (mut x, w) = match product.xs.get(i) {
                        Some(x) => (*x.value(), product.ws[i]),
                        None => (F::ZERO, F::ZERO),
                    };
                    if let Some((_, _, value)) = self.tampered_input.filter(|t| (t.0, t.1) == (p, i)) {
                        x = value;
                    }
                    acc += x * w;
                    let cell = raw_assign_advice(region, config.x[j], row, Value::known(x));
                    if let Some(manager) = copy_manager.as_mut() {
                        raw_assign_fixed(region, config.w[j], row, w);
                        if let Some(x) = product.xs.get(i) {
                            constrain_virtual_equals_external(region, *x, cell.cell(), manager);
                        }
                    }
                }
                let acc_cell = raw_assign_advice(region, config.acc, row, Value::known(acc));
                if let Some(manager) = copy_manager.as_mut() {
                    raw_assign_fixed(region, config.q, row, F::ONE);
                    raw_assign_fixed(region, config.chain, row, if r == 0 { F::ZERO } else { F::ONE });
                    raw_assign_fixed(region, config.bias, row, if r == 0 { product.bias } else { F::ZERO });
                    if r + 1 == rows {
                        constrain_virtual_equals_external(region, product.out, acc_cell.cell(), manager);
                    }
                }
                row += 1;
            }
        }
    }
}

/// The dot-product columns and their gate.
#[derive(Clone, Debug)]
pub struct DotConfig {
    x: Vec<Column<Advice>>,
    acc: Column<Advice>,
    w: Vec<Column<Fixed>>,
    q: Column<Fixed>,
    chain: Column<Fixed>,
    bias: Column<Fixed>,
}

impl DotConfig {
    /// `columns` input columns (and weight columns), an accumulator, and the gate.
    pub fn configure<F: BigPrimeField>(meta: &mut ConstraintSystem<F>, columns: usize) -> Self {
        let x: Vec<_> = (0..columns).map(|_| meta.advice_column()).collect();
        let acc = meta.advice_column();
        for &column in x.iter().chain([&acc]) {
            meta.enable_equality(column);
        }
        let w: Vec<_> = (0..columns).map(|_| meta.fixed_column()).collect();
        let (q, chain, bias) = (meta.fixed_column(), meta.fixed_column(), meta.fixed_column());
        meta.create_gate("zkml dot product", |meta| {
            let q = meta.query_fixed(q, Rotation::cur());
            let chain = meta.query_fixed(chain, Rotation::cur());
            let bias = meta.query_fixed(bias, Rotation::cur());
            let acc_cur = meta.query_advice(acc, Rotation::cur());
            let acc_prev = meta.query_advice(acc, Rotation::prev());
            let sum = x.iter().zip(&w).fold(Expression::Constant(F::ZERO), |sum, (&x, &w)| {
                sum + meta.query_advice(x, Rotation::cur()) * meta.query_fixed(w, Rotation::cur())
            });
            // `chain` is 1 only where `q` is: rows outside dot products (blinding rows included) are free.
            vec![q * (acc_cur - sum - bias) - chain * acc_prev]
        });
        Self { x, acc, w, q, chain, bias }
    }
}
