//! Sigmoid, tanh and the exponential of Softmax as lookups into one fixed table of `(key, f(x))` pairs,
//! with `key = tag · 2^KEY_SHIFT + x`. The table holds exactly the entries `zkml_model::exec` computes
//! (`sigmoid_table`, `tanh_table`, `exp_table`), over the part of the domain `[-T, T]` the model's bounds
//! can reach; inputs that can lie beyond `T` are clamped in-circuit first, as the executor does.
//!
//! Row 0 of the table is `(0, 0)`: unused rows of the lookup columns hold zeros and must be in the table.
//! No real lookup has key 0 because every tag is at least 1 and `|x| < 2^KEY_SHIFT`.

use std::collections::BTreeMap;

use halo2_base::{
    AssignedValue, Context,
    QuantumCell::Constant,
    gates::{GateInstructions, RangeInstructions},
    utils::BigPrimeField,
    virtual_region::lookups::LookupAnyManager,
};
use zkml_model::{
    exec::{exp_table, sigmoid_table, table_half_width, tanh_table},
    quantize::{QOp, QuantizedModel},
};

use crate::fixed_point::{FixedPointInstructions, fe_from_i64, fe_to_i64};

/// Keys are `tag · 2^KEY_SHIFT + x`; every table input satisfies `|x| < 2^KEY_SHIFT`.
pub const KEY_SHIFT: u32 = 40;

/// A tabulated function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TableFn {
    /// `round(sigmoid(x / 2^S) · 2^S)`.
    Sigmoid = 1,
    /// `round(tanh(x / 2^S) · 2^S)`.
    Tanh = 2,
    /// `round(exp(x / 2^S) · 2^S)` for `x <= 0` (Softmax).
    Exp = 3,
}

impl TableFn {
    fn eval(self, x: i64, s: u8) -> i64 {
        match self {
            Self::Sigmoid => sigmoid_table(x, s),
            Self::Tanh => tanh_table(x, s),
            Self::Exp => exp_table(x, s),
        }
    }
}

/// The lookups of a model's nonlinear functions.
#[derive(Clone, Debug)]
pub struct TableChip<F: BigPrimeField> {
    /// Cells to look up, `[key, value]`, copied into the lookup columns at synthesis.
    pub manager: LookupAnyManager<F, 2>,
    scale: u8,
    /// Half-width of the tabulated domain of each function used: `[-w, w]` (Exp: `[-w, 0]`).
    domains: BTreeMap<TableFn, i64>,
}

impl<F: BigPrimeField> TableChip<F> {
    /// The tables `model` needs, each over the smaller of `[-T, T]` and the range its inputs can reach.
    pub fn new(model: &QuantizedModel, manager: LookupAnyManager<F, 2>) -> Self {
        let s = model.scales.activation;
        let t = table_half_width(s);
        let mut domains = BTreeMap::new();
        for node in &model.nodes {
            let input_bound = node.inputs.first().map_or(0, |&i| model.nodes[i].bound);
            let (f, reach) = match node.op {
                QOp::Sigmoid => (TableFn::Sigmoid, input_bound),
                QOp::Tanh => (TableFn::Tanh, input_bound),
                // Softmax looks up x - max(x), which lies in [-2·bound, 0].
                QOp::Softmax { .. } => (TableFn::Exp, input_bound.saturating_mul(2)),
                _ => continue,
            };
            let w = domains.entry(f).or_insert(0);
            *w = (*w).max(reach.min(t));
        }
        Self { manager, scale: model.scales.activation, domains }
    }

    /// True when the model uses no table.
    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
    }

    /// The table rows: `(0, 0)` first, then every `(key, f(x))` of every function used.
    pub fn entries(&self) -> Vec<(F, F)> {
        let mut rows = vec![(F::ZERO, F::ZERO)];
        for (&f, &w) in &self.domains {
            let top = if f == TableFn::Exp { 0 } else { w };
            for x in -w..=top {
                rows.push((key(f, x), fe_from_i64(f.eval(x, self.scale))));
            }
        }
        rows
    }

    /// Returns `f(x)` as the executor computes it, for `|x| <= x_bound`.
    pub fn lookup(
        &self,
        ctx: &mut Context<F>,
        range: &impl RangeInstructions<F>,
        f: TableFn,
        x: AssignedValue<F>,
        x_bound: i64,
    ) -> AssignedValue<F> {
        let w = *self.domains.get(&f).expect("the table was sized for every function of the model");
        let bits = zkml_model::quantize::signed_bits(x_bound.max(w));
        // The executor clamps to [-T, T]; the domain is that or smaller only when inputs cannot leave it.
        let low = if x_bound > w { range.max_const(ctx, x, -w, bits) } else { x };
        // Exp inputs are x - max(x) <= 0 by construction: only the lower side can leave the domain.
        let clamped = if f != TableFn::Exp && x_bound > w { range.min_const(ctx, low, w, bits) } else { low };
        let value = f.eval(fe_to_i64(clamped.value()), self.scale);
        let key = range.gate().add(ctx, clamped, Constant(key(f, 0)));
        let y = ctx.load_witness(fe_from_i64(value));
        self.manager.add_lookup(ctx.tag(), [key, y]);
        y
    }
}

fn key<F: BigPrimeField>(f: TableFn, x: i64) -> F {
    F::from(f as u64) * F::from(2).pow_vartime([KEY_SHIFT as u64]) + fe_from_i64::<F>(x)
}
