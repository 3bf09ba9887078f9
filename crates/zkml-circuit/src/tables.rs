//! Sigmoid, tanh, the exponential of Softmax and the other tabulated functions (Erf, Exp, Log, GELU, SiLU)
//! as lookups into one fixed table of `(key, f(x))` pairs, with `key = tag · 2^KEY_SHIFT + x`. The table
//! holds exactly the entries `zkml_model::exec` computes, over the part of each function's domain the
//! model's bounds can reach. Inputs beyond a saturating function's domain are clamped in-circuit first, as
//! the executor does; GELU and SiLU add back `max(x - W, 0)` above theirs; Exp and Log have no clamp above
//! (and Log none below): an input outside their table cannot be looked up, so it cannot be proved.
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
    exec::{
        erf_half_width, exp_table, lookup_entry, relu_tail_half_width, sigmoid_table, table_half_width, tanh_table,
    },
    graph::LookupFn,
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
    /// A [`LookupFn`] (tags from 4 up).
    Erf = 4,
    /// `e^x` over the input range.
    ExpFull = 5,
    /// The natural logarithm, `x >= 1`.
    Ln = 6,
    /// GELU, exact.
    Gelu = 7,
    /// GELU, tanh form.
    GeluTanh = 8,
    /// SiLU.
    Silu = 9,
}

impl TableFn {
    fn eval(self, x: i64, s: u8) -> i64 {
        match self {
            Self::Sigmoid => sigmoid_table(x, s),
            Self::Tanh => tanh_table(x, s),
            Self::Exp => exp_table(x, s),
            other => lookup_entry(other.lookup_fn().expect("a LookupFn"), x, s),
        }
    }

    /// The table of a lookup op.
    pub fn of(func: LookupFn) -> Self {
        match func {
            LookupFn::Erf => Self::Erf,
            LookupFn::Exp => Self::ExpFull,
            LookupFn::Ln => Self::Ln,
            LookupFn::Gelu => Self::Gelu,
            LookupFn::GeluTanh => Self::GeluTanh,
            LookupFn::Silu => Self::Silu,
        }
    }

    fn lookup_fn(self) -> Option<LookupFn> {
        Some(match self {
            Self::Erf => LookupFn::Erf,
            Self::ExpFull => LookupFn::Exp,
            Self::Ln => LookupFn::Ln,
            Self::Gelu => LookupFn::Gelu,
            Self::GeluTanh => LookupFn::GeluTanh,
            Self::Silu => LookupFn::Silu,
            Self::Sigmoid | Self::Tanh | Self::Exp => return None,
        })
    }

    /// `(low, high)` of the table for inputs `|x| <= x_bound` whose results must stay within `y_bound`,
    /// at scale `2^s`.
    fn domain(self, s: u8, x_bound: i64, y_bound: i64) -> (i64, i64) {
        let t = table_half_width(s);
        match self {
            Self::Sigmoid | Self::Tanh => (-x_bound.min(t), x_bound.min(t)),
            // Softmax looks up x - max(x), which lies in [-2·bound, 0] (the caller passes 2·bound).
            Self::Exp => (-x_bound.min(t), 0),
            Self::Erf => {
                let w = erf_half_width(s);
                (-x_bound.min(w), x_bound.min(w))
            }
            Self::Gelu | Self::GeluTanh | Self::Silu => {
                let w = relu_tail_half_width(self.lookup_fn().expect("a LookupFn"), s);
                (-x_bound.min(w), x_bound.min(w))
            }
            // Above the input whose exponential reaches the output's bound, no input can be proved anyway.
            Self::ExpFull => {
                let one = (1u64 << s) as f64;
                let top = ((y_bound.max(1) as f64 / one).ln() * one).ceil() as i64 + 1;
                (-x_bound.min(t), x_bound.min(top.max(0)))
            }
            Self::Ln => (1, x_bound.max(1)),
        }
    }

    /// True when inputs below the table take its lowest entry.
    fn clamps_below(self) -> bool {
        self != Self::Ln
    }

    /// True when inputs above the table take its highest entry (plus the excess, for GELU and SiLU).
    fn clamps_above(self) -> bool {
        !matches!(self, Self::Exp | Self::ExpFull | Self::Ln)
    }
}

/// The lookups of a model's nonlinear functions.
#[derive(Clone, Debug)]
pub struct TableChip<F: BigPrimeField> {
    /// Cells to look up, `[key, value]`, copied into the lookup columns at synthesis.
    pub manager: LookupAnyManager<F, 2>,
    scale: u8,
    /// The tabulated range of inputs of each function used.
    domains: BTreeMap<TableFn, (i64, i64)>,
}

impl<F: BigPrimeField> TableChip<F> {
    /// The tables `model` needs, each over the smaller of `[-T, T]` and the range its inputs can reach.
    pub fn new(model: &QuantizedModel, manager: LookupAnyManager<F, 2>) -> Self {
        let s = model.scales.activation;
        let mut domains: BTreeMap<TableFn, (i64, i64)> = BTreeMap::new();
        for node in &model.nodes {
            let input_bound = node.inputs.first().map_or(0, |&i| model.nodes[i].bound);
            let (f, reach) = match node.op {
                QOp::Sigmoid => (TableFn::Sigmoid, input_bound),
                QOp::Tanh => (TableFn::Tanh, input_bound),
                // Softmax looks up x - max(x), which lies in [-2·bound, 0].
                QOp::Softmax { .. } => (TableFn::Exp, input_bound.saturating_mul(2)),
                QOp::Lookup { func } => (TableFn::of(func), input_bound),
                _ => continue,
            };
            let (low, high) = f.domain(s, reach, node.bound);
            let entry = domains.entry(f).or_insert((low, high));
            *entry = (entry.0.min(low), entry.1.max(high));
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
        for (&f, &(low, high)) in &self.domains {
            for x in low..=high {
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
        let (low, high) = *self.domains.get(&f).expect("the table was sized for every function of the model");
        let bits = zkml_model::quantize::signed_bits(x_bound.max(low.abs()).max(high.abs()));
        // The executor clamps where the function is constant (or linear) beyond the table; the table is that
        // wide, or narrower only where inputs cannot leave it. Softmax's inputs are x - max(x) <= 0.
        let below = f.clamps_below() && x_bound > -low;
        let above = f.clamps_above() && x_bound > high;
        let raised = if below { range.max_const(ctx, x, low, bits) } else { x };
        let clamped = if above { range.min_const(ctx, raised, high, bits) } else { raised };
        let value = f.eval(fe_to_i64(clamped.value()), self.scale);
        let key = range.gate().add(ctx, clamped, Constant(key(f, 0)));
        let y = ctx.load_witness(fe_from_i64(value));
        self.manager.add_lookup(ctx.tag(), [key, y]);
        if above && matches!(f, TableFn::Gelu | TableFn::GeluTanh | TableFn::Silu) {
            // Above W these functions are the identity: add back what the clamp removed, max(x - W, 0).
            let excess = range.gate().sub(ctx, raised, clamped);
            return range.gate().add(ctx, y, excess);
        }
        y
    }
}

fn key<F: BigPrimeField>(f: TableFn, x: i64) -> F {
    F::from(f as u64) * F::from(2).pow_vartime([KEY_SHIFT as u64]) + fe_from_i64::<F>(x)
}
