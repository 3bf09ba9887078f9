//! The model commitment: a Poseidon hash of the quantized model in the field encoding the circuit uses.
//!
//! The constants, in order: for every node in evaluation order the integer constants of its op: MatMul
//! weights (row-major `[k, n]`) then biases; Conv kernel (OIHW) then biases; ConvTranspose kernel (IOHW)
//! then biases; the constant operand of a binary op; the bounds of Clamp that exist; the alpha of LeakyRelu;
//! the constant operands of Where; the table of an Embedding (row-major). They are packed ([`pack_signed`])
//! in slots of `W` bits, the fewest that hold the largest magnitude, and the hashed array is
//! `[FORMAT_VERSION, S, P, W + 2^16·n, n scale entries, packed constants...]` ([`commitment_header`]):
//! the `n` ops whose constants have their own parameter scale `P_t` each add `node · 2^8 + P_t`, so the
//! scales that give the integers their meaning are committed with them; a model without such ops hashes
//! `[FORMAT_VERSION, S, P, W, packed constants...]` (`W < 2^16` tells the two apart). The hash is halo2-base's Poseidon (T = 3, rate 2,
//! 8 full and 57 partial rounds) over that fixed-length array, computed by the same `PoseidonHasher` the
//! circuit constrains when weights are committed, so the two agree by construction.

use halo2_base::{
    AssignedValue, Context,
    gates::GateChip,
    halo2_proofs::halo2curves::{bn256::Fr, ff::PrimeField},
    poseidon::hasher::{PoseidonHasher, spec::OptimizedPoseidonSpec},
    utils::BigPrimeField,
};

use crate::quantize::{QOp, QOperand, QuantizedModel, signed_bits};

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

/// Usable bits of a packed field element: sums of slots stay below `2^PACKED_BITS < p`, so packing is
/// injective.
pub const PACKED_BITS: u32 = 252;

/// How many `width`-bit slots one field element holds.
pub fn slots_per_element(width: u32) -> usize {
    assert!((1..=64).contains(&width), "slot width {width}");
    (PACKED_BITS / width) as usize
}

/// Packs signed values into field elements: value `i` of a chunk occupies bits `[width·i, width·(i+1))`
/// as `v + 2^(width-1)`, so every value must satisfy `|v| < 2^(width-1)`. This is the one packing of
/// public values and committed data; `zkml-circuit` constrains the same sums.
pub fn pack_signed<F: BigPrimeField>(values: &[i64], width: u32) -> Vec<F> {
    let offset = 1i128 << (width - 1);
    values
        .chunks(slots_per_element(width))
        .map(|chunk| {
            let mut acc = F::ZERO;
            for v in chunk.iter().rev() {
                let slot = *v as i128 + offset;
                assert!(slot >= 0 && slot < 2 * offset, "value {v} does not fit a {width}-bit slot");
                acc = acc * F::from(2).pow_vartime([width as u64]) + F::from_u128(slot as u128);
            }
            acc
        })
        .collect()
}

/// Inverse of [`pack_signed`] for `count` values; `None` if the elements are not such a packing.
pub fn unpack_signed<F: BigPrimeField>(elements: &[F], width: u32, count: usize) -> Option<Vec<i64>> {
    let per = slots_per_element(width);
    if elements.len() != count.div_ceil(per) {
        return None;
    }
    let offset = 1i128 << (width - 1);
    let mut out = Vec::with_capacity(count);
    for (e, element) in elements.iter().enumerate() {
        let bytes = element.to_bytes_le();
        let bit = |i: u32| bytes.get((i / 8) as usize).map_or(0, |byte| (byte >> (i % 8)) & 1);
        let slots = per.min(count - e * per) as u32;
        for s in 0..slots {
            let slot = (0..width).fold(0i128, |acc, b| acc | ((bit(s * width + b) as i128) << b));
            out.push((slot - offset) as i64);
        }
        if (slots * width..256).any(|i| bit(i) != 0) {
            return None;
        }
    }
    Some(out)
}

/// Every integer constant of the model, in commitment order (see the module docs).
pub fn model_constants(model: &QuantizedModel) -> Vec<i64> {
    let mut out = vec![];
    for node in &model.nodes {
        out.extend(node_constants(&node.op));
    }
    out
}

/// The integer constants of one op, in commitment order.
pub fn node_constants(op: &QOp) -> Vec<i64> {
    let mut out = vec![];
    match op {
        QOp::MatMul { weight, bias, .. } => {
            out.extend(&weight.data);
            out.extend(bias.as_deref().unwrap_or(&[]));
        }
        QOp::Conv { kernel, bias, .. } | QOp::ConvTranspose { kernel, bias, .. } => {
            out.extend(&kernel.data);
            out.extend(bias.as_deref().unwrap_or(&[]));
        }
        QOp::Where { then, otherwise, .. } => {
            for operand in [then, otherwise] {
                if let QOperand::Const(c) = operand {
                    out.extend(&c.data);
                }
            }
        }
        QOp::Embedding { table } => out.extend(&table.data),
        QOp::Binary { lhs, rhs, .. } => {
            for operand in [lhs, rhs] {
                if let QOperand::Const(c) = operand {
                    out.extend(&c.data);
                }
            }
        }
        QOp::Clamp { min, max } => out.extend(min.iter().chain(max.iter())),
        QOp::LeakyRelu { alpha, .. } => out.push(*alpha),
        _ => {}
    }
    out
}

/// The slot width of the model's packed constants.
pub fn constants_width(constants: &[i64]) -> u32 {
    // A slot holds `v + 2^(W-1)` in `[0, 2^W)`: W is the signed width of the largest magnitude.
    signed_bits(constants.iter().map(|c| c.saturating_abs()).max().unwrap_or(0))
}

/// The committed values before the packed constants, for constants packed `width` bits a slot (see the
/// module docs); the circuit hashes the same values as constants.
pub fn commitment_header(model: &QuantizedModel, width: u32) -> Vec<u64> {
    let own_scales: Vec<u64> = model
        .nodes
        .iter()
        .enumerate()
        .filter_map(|(i, node)| {
            let own = node.op.param_scale(model.scales.param);
            (own != model.scales.param).then_some(((i as u64) << 8) | own as u64)
        })
        .collect();
    let mut header = vec![
        model.format_version as u64,
        model.scales.activation as u64,
        model.scales.param as u64,
        width as u64 + ((own_scales.len() as u64) << 16),
    ];
    header.extend(own_scales);
    header
}

/// The committed field elements of a model (see the module docs for the order).
pub fn commitment_elements(model: &QuantizedModel) -> Vec<Fr> {
    let constants = model_constants(model);
    let width = constants_width(&constants);
    let mut out: Vec<Fr> = commitment_header(model, width).into_iter().map(Fr::from).collect();
    out.extend(pack_signed::<Fr>(&constants, width));
    out
}

/// Poseidon of a fixed-length array, natively, with the hasher the circuit constrains.
pub fn poseidon(elements: &[Fr]) -> Fr {
    // Witness generation only (no constraints are checked or proved): the in-circuit hasher run natively.
    let mut ctx = Context::<Fr>::new(false, 0, "zkml-model::commit", 0, Default::default());
    let gate = GateChip::<Fr>::default();
    let mut hasher = poseidon_hasher();
    hasher.initialize_consts(&mut ctx, &gate);
    let assigned: Vec<AssignedValue<Fr>> = ctx.assign_witnesses(elements.iter().copied());
    *hasher.hash_fix_len_array(&mut ctx, &gate, &assigned).value()
}

/// The Poseidon hasher of commitments (constants not yet initialized).
pub fn poseidon_hasher<F: BigPrimeField>() -> PoseidonHasher<F, POSEIDON_T, POSEIDON_RATE> {
    PoseidonHasher::new(OptimizedPoseidonSpec::new::<POSEIDON_R_F, POSEIDON_R_P, 0>())
}

/// The model commitment as a field element.
pub fn model_commitment(model: &QuantizedModel) -> Fr {
    poseidon(&commitment_elements(model))
}

/// A field element as a 0x-prefixed 32-byte big-endian hex string: the `bytes32` commitment the registry
/// stores, and the `uint256` public instances the EVM verifier takes.
pub fn commitment_hex(c: &Fr) -> String {
    let mut bytes = c.to_repr();
    bytes.reverse();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("0x{hex}")
}

#[cfg(test)]
mod tests {
    use halo2_base::halo2_proofs::halo2curves::ff::Field;

    use super::*;

    #[test]
    fn packing_round_trips_and_rejects_stray_bits() {
        for width in [2u32, 9, 14, 40, 63] {
            let max = (1i64 << (width - 1)) - 1;
            let values: Vec<i64> = (0..100).map(|i| (i * 7919 % (2 * max + 1)) - max).collect();
            let packed = pack_signed::<Fr>(&values, width);
            assert_eq!(packed.len(), values.len().div_ceil(slots_per_element(width)));
            assert_eq!(unpack_signed(&packed, width, values.len()), Some(values.clone()), "width {width}");
            // A bit above the last used slot is not a packing.
            let used = (values.len() - (packed.len() - 1) * slots_per_element(width)) as u64 * width as u64;
            let mut stray = packed.clone();
            *stray.last_mut().expect("not empty") += Fr::from(2).pow_vartime([used]);
            assert_eq!(unpack_signed(&stray, width, values.len()), None, "width {width}");
        }
    }
}
