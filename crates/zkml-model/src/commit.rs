//! The model commitment: a Poseidon hash of the quantized model in the field encoding the circuit uses.
//!
//! Encoding, in order, one BN254 scalar per integer (negative `v` as `p - |v|`):
//! `[FORMAT_VERSION, S, P]`, then for every node in evaluation order the integer constants of its op:
//! MatMul weights (row-major `[k, n]`) then biases; Conv kernel (OIHW) then biases; the constant operand of
//! a binary op; the bounds of Clamp that exist; the alpha of LeakyRelu. The hash is halo2-base's Poseidon
//! (T = 3, rate 2, 8 full and 57 partial rounds) over that fixed-length array, computed by the same
//! `PoseidonHasher` the circuit constrains, so the two agree by construction.

use halo2_base::{
    AssignedValue, Context,
    gates::GateChip,
    halo2_proofs::halo2curves::{bn256::Fr, ff::PrimeField},
    poseidon::hasher::{PoseidonHasher, spec::OptimizedPoseidonSpec},
    utils::BigPrimeField,
};

use crate::quantize::{QOp, QOperand, QuantizedModel};

/// Poseidon width.
pub const POSEIDON_T: usize = 3;
/// Poseidon rate.
pub const POSEIDON_RATE: usize = 2;
/// Full rounds.
pub const POSEIDON_R_F: usize = 8;
/// Partial rounds.
pub const POSEIDON_R_P: usize = 57;

/// A signed integer as a field element (`-v` is `p - v`): the encoding of every quantized value, in the
/// commitment and in the circuit alike.
pub fn fe_from_i64<F: BigPrimeField>(v: i64) -> F {
    let magnitude = F::from(v.unsigned_abs());
    if v < 0 { -magnitude } else { magnitude }
}

/// The committed field elements of a model (see the module docs for the order).
pub fn commitment_elements(model: &QuantizedModel) -> Vec<Fr> {
    let mut out = vec![
        Fr::from(model.format_version as u64),
        Fr::from(model.scales.activation as u64),
        Fr::from(model.scales.param as u64),
    ];
    let mut push = |vs: &[i64]| out.extend(vs.iter().map(|v| fe_from_i64::<Fr>(*v)));
    for node in &model.nodes {
        match &node.op {
            QOp::MatMul { weight, bias } => {
                push(&weight.data);
                push(bias.as_deref().unwrap_or(&[]));
            }
            QOp::Conv { kernel, bias, .. } => {
                push(&kernel.data);
                push(bias.as_deref().unwrap_or(&[]));
            }
            QOp::Binary { lhs, rhs, .. } => {
                for operand in [lhs, rhs] {
                    if let QOperand::Const(c) = operand {
                        push(&c.data);
                    }
                }
            }
            QOp::Clamp { min, max } => {
                push(&min.iter().chain(max.iter()).copied().collect::<Vec<_>>());
            }
            QOp::LeakyRelu { alpha } => push(&[*alpha]),
            _ => {}
        }
    }
    out
}

/// The model commitment as a field element.
pub fn model_commitment(model: &QuantizedModel) -> Fr {
    let elements = commitment_elements(model);
    // Witness generation only (no constraints are checked or proved): the in-circuit hasher run natively.
    let mut ctx = Context::<Fr>::new(false, 0, "zkml-model::commit", 0, Default::default());
    let gate = GateChip::<Fr>::default();
    let mut hasher =
        PoseidonHasher::<Fr, POSEIDON_T, POSEIDON_RATE>::new(
            OptimizedPoseidonSpec::new::<POSEIDON_R_F, POSEIDON_R_P, 0>(),
        );
    hasher.initialize_consts(&mut ctx, &gate);
    let assigned: Vec<AssignedValue<Fr>> = ctx.assign_witnesses(elements);
    *hasher.hash_fix_len_array(&mut ctx, &gate, &assigned).value()
}

/// The commitment as a 0x-prefixed 32-byte big-endian hex string (the `bytes32` the registry stores).
pub fn commitment_hex(c: &Fr) -> String {
    let mut bytes = c.to_repr();
    bytes.reverse();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("0x{hex}")
}
