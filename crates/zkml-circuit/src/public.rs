//! What a proof makes public, and how: the privacy modes and the one layout of public values.
//!
//! # Layout of the public instances (one column, in this order)
//!
//! 1. `model commitment` — one element, only when weights are committed: the Poseidon commitment of
//!    `zkml_model::commit`, equal to the registry's `commitment`.
//! 2. the input section: public → the quantized inputs packed (below); hashed → one element, the Poseidon
//!    hash of the packed inputs; private → nothing.
//! 3. the output section: public → the quantized outputs packed; hashed → the Poseidon hash of the packed
//!    outputs.
//!
//! **Packing.** A section of `n` signed values with slot width `W` (the fewest bits that hold the largest
//! bound in the section, sign included) fills `ceil(n / m)` elements with `m = floor(252 / W)` values
//! each: value `i` of element `e` is `v[e·m + i]`, stored as `v + 2^(W-1)` in bits `[W·i, W·(i+1))`. Values
//! are in model order, inputs and outputs flattened row-major. Every value is range-checked to its
//! node's bound in the circuit, so the packing is injective. Decoding a slot is
//! `((element >> (W·i)) & (2^W - 1)) - 2^(W-1)`; the real value is that over `2^scale`.
//!
//! [`PublicLayout`] records the offsets, counts and widths; it is written next to the keys and into every
//! proof artifact, and the EVM side decodes with it.

use halo2_base::{
    AssignedValue, Context,
    QuantumCell::Constant,
    gates::{GateChip, GateInstructions},
    halo2_proofs::halo2curves::bn256::Fr,
    utils::BigPrimeField,
};
use serde::{Deserialize, Serialize};
use zkml_model::{
    commit::{PACKED_BITS, pack_signed, poseidon, poseidon_hasher, slots_per_element, unpack_signed},
    quantize::{QuantizedModel, signed_bits},
};

/// Who sees the model inputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputVisibility {
    /// The quantized inputs are public (packed).
    #[default]
    Public,
    /// Only a Poseidon hash of the inputs is public.
    Hashed,
    /// Nothing about the inputs is public.
    Private,
}

/// How the model's weights enter the circuit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WeightVisibility {
    /// Constants baked into the verifying key: the verifier pins the model.
    #[default]
    Fixed,
    /// A private witness whose Poseidon commitment is public: a private model, checkable against the
    /// registry.
    Committed,
}

/// Who sees the model outputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputVisibility {
    /// The quantized outputs are public (packed).
    #[default]
    Public,
    /// Only a Poseidon hash of the outputs is public.
    Hashed,
}

/// The privacy mode of a circuit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Visibility {
    /// Inputs.
    pub input: InputVisibility,
    /// Weights.
    pub weights: WeightVisibility,
    /// Outputs.
    pub output: OutputVisibility,
}

/// What a run of public elements holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SectionKind {
    /// The model commitment (one element).
    ModelCommitment,
    /// Packed quantized inputs.
    Inputs,
    /// Poseidon hash of the packed inputs (one element).
    InputsHash,
    /// Packed quantized outputs.
    Outputs,
    /// Poseidon hash of the packed outputs (one element).
    OutputsHash,
}

/// A run of public elements.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    /// What it holds.
    pub kind: SectionKind,
    /// Index of its first element in the instance column.
    pub offset: usize,
    /// Number of field elements.
    pub elements: usize,
    /// Number of values packed (or hashed) into them.
    pub values: usize,
    /// Slot width in bits of the packed values (also used for the packing under a hash; 0 for the
    /// commitment).
    pub width: u32,
    /// Fixed-point exponent of each value (`real = value / 2^scale`; 0 for indices).
    pub scales: Vec<u8>,
}

/// The public instance layout of a model's circuit (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicLayout {
    /// The privacy mode.
    pub visibility: Visibility,
    /// Bits used per packed element.
    pub packed_bits: u32,
    /// The sections, in instance order.
    pub sections: Vec<Section>,
    /// Total number of public elements.
    pub num_instances: usize,
}

impl PublicLayout {
    /// The layout of `model` under `visibility`.
    pub fn new(model: &QuantizedModel, visibility: Visibility) -> Self {
        let mut sections = vec![];
        let mut offset = 0;
        let mut push = |kind, elements, values, width, scales| {
            sections.push(Section { kind, offset, elements, values, width, scales });
            offset += elements;
        };
        if visibility.weights == WeightVisibility::Committed {
            push(SectionKind::ModelCommitment, 1, 0, 0, vec![]);
        }
        let (in_width, in_scales) = section_shape(model, &model.inputs);
        let n_in = in_scales.len();
        match visibility.input {
            InputVisibility::Public => {
                push(SectionKind::Inputs, n_in.div_ceil(slots_per_element(in_width)), n_in, in_width, in_scales)
            }
            InputVisibility::Hashed => push(SectionKind::InputsHash, 1, n_in, in_width, in_scales),
            InputVisibility::Private => {}
        }
        let (out_width, out_scales) = section_shape(model, &model.outputs);
        let n_out = out_scales.len();
        match visibility.output {
            OutputVisibility::Public => {
                push(SectionKind::Outputs, n_out.div_ceil(slots_per_element(out_width)), n_out, out_width, out_scales)
            }
            OutputVisibility::Hashed => push(SectionKind::OutputsHash, 1, n_out, out_width, out_scales),
        }
        Self { visibility, packed_bits: PACKED_BITS, sections, num_instances: offset }
    }

    /// The section of a kind, if the layout has it.
    pub fn section(&self, kind: SectionKind) -> Option<&Section> {
        self.sections.iter().find(|s| s.kind == kind)
    }

    /// The public instances for a model commitment (when weights are committed) and the quantized
    /// inputs and outputs, computed natively.
    pub fn instances(&self, commitment: Fr, inputs: &[i64], outputs: &[i64]) -> Vec<Fr> {
        let mut out = Vec::with_capacity(self.num_instances);
        for section in &self.sections {
            match section.kind {
                SectionKind::ModelCommitment => out.push(commitment),
                SectionKind::Inputs => out.extend(pack_signed::<Fr>(inputs, section.width)),
                SectionKind::InputsHash => out.push(poseidon(&pack_signed::<Fr>(inputs, section.width))),
                SectionKind::Outputs => out.extend(pack_signed::<Fr>(outputs, section.width)),
                SectionKind::OutputsHash => out.push(poseidon(&pack_signed::<Fr>(outputs, section.width))),
            }
        }
        out
    }

    /// Unpacks a public section's quantized values from the instances; `None` if the section is absent or
    /// the elements are not a valid packing.
    pub fn decode(&self, kind: SectionKind, instances: &[Fr]) -> Option<Vec<i64>> {
        let section = self.section(kind)?;
        let elements = instances.get(section.offset..section.offset + section.elements)?;
        unpack_signed(elements, section.width, section.values)
    }
}

fn section_shape(model: &QuantizedModel, nodes: &[usize]) -> (u32, Vec<u8>) {
    let max_bound = nodes.iter().map(|&n| model.nodes[n].bound).max().unwrap_or(0);
    let scales = nodes
        .iter()
        .flat_map(|&n| std::iter::repeat_n(model.nodes[n].scale, model.nodes[n].shape.iter().product()))
        .collect();
    (signed_bits(max_bound), scales)
}

/// Packs bounded cells (each `|v| < 2^(width-1)`) as [`pack_signed`] does.
pub fn pack_cells<F: BigPrimeField>(
    ctx: &mut Context<F>,
    gate: &GateChip<F>,
    values: &[AssignedValue<F>],
    width: u32,
) -> Vec<AssignedValue<F>> {
    let step = F::from(2).pow_vartime([width as u64]);
    let half = F::from(2).pow_vartime([(width - 1) as u64]);
    values
        .chunks(slots_per_element(width))
        .map(|chunk| {
            let mut powers = Vec::with_capacity(chunk.len());
            let (mut power, mut offsets) = (F::ONE, F::ZERO);
            for _ in chunk {
                powers.push(Constant(power));
                offsets += half * power;
                power *= step;
            }
            let sum = gate.inner_product(ctx, chunk.iter().copied(), powers);
            gate.add(ctx, sum, Constant(offsets))
        })
        .collect()
}

/// Poseidon of cells, with the hasher `zkml_model::commit::poseidon` runs natively.
pub fn hash_cells<F: BigPrimeField>(
    ctx: &mut Context<F>,
    gate: &GateChip<F>,
    elements: &[AssignedValue<F>],
) -> AssignedValue<F> {
    let mut hasher = poseidon_hasher::<F>();
    hasher.initialize_consts(ctx, gate);
    hasher.hash_fix_len_array(ctx, gate, elements)
}
