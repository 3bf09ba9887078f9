//! A proof's public sections read back from its instances (hex words, as artifacts hold them) with its
//! layout: what `submit-proof` hands the contracts and what `inspect` shows.

use anyhow::{Context, Result};
use zkml_circuit::{PublicLayout, public::SectionKind};
use zkml_prover::artifact::fr_from_hex;

/// One public section, decoded.
pub enum Decoded {
    /// A public section's quantized values.
    Values(Vec<i64>),
    /// A one-element section (the model commitment or a hash), as its hex word.
    Element(String),
}

/// Every section of `layout`, in order, from its instances starting at `offset` (an aggregated proof's
/// slot starts after the accumulator and the slots before it).
pub fn decode_sections(
    layout: &PublicLayout,
    instances: &[String],
    offset: usize,
) -> Result<Vec<(SectionKind, Decoded)>> {
    let slice = instances.get(offset..offset + layout.num_instances).with_context(|| {
        format!("{} instances, the layout needs {} from {offset}", instances.len(), layout.num_instances)
    })?;
    let fields: Vec<_> = slice
        .iter()
        .map(|h| fr_from_hex(h).with_context(|| format!("instance {h} is not a field element")))
        .collect::<Result<_>>()?;
    layout
        .sections
        .iter()
        .map(|section| {
            let decoded = match section.kind {
                SectionKind::Inputs | SectionKind::Outputs => Decoded::Values(
                    layout
                        .decode(section.kind, &fields)
                        .with_context(|| format!("the {:?} section is not a valid packing", section.kind))?,
                ),
                _ => Decoded::Element(slice[section.offset].clone()),
            };
            Ok((section.kind, decoded))
        })
        .collect()
}
