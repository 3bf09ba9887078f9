//! Proof artifacts: proofs as JSON files that can be checked and decoded without the model.
//!
//! One inference proof ([`ProofArtifact`]):
//!
//! ```json
//! {
//!   "format": "zkml-eth-proof/1",
//!   "model_dir": "target/digits-mlp",
//!   "model_commitment": "0x…",            // bytes32, as the registry stores it
//!   "circuit_hash": "0x…",                // blake2b-256 of model, layout, size and SRS (zkml_prover::keys)
//!   "k": 14,
//!   "srs": "unsafe-dev",                  // or the parameters file used
//!   "transcript": "poseidon",             // or "keccak"
//!   "layout": { … },                      // zkml_circuit::PublicLayout
//!   "outputs": [0.25, …],                 // real units (value / 2^scale); null when outputs are hashed
//!   "outputs_quantized": [1024, …],       // the integers the circuit proved; null when hashed
//!   "instances": ["0x…", …],              // public instances, 32-byte big-endian (uint256 for the EVM)
//!   "proof": "0x…"
//! }
//! ```
//!
//! `outputs` and `outputs_quantized` are a convenience copy of what the instances say; a verifier decodes
//! the instances itself ([`decode_outputs`]) and must not trust them.
//!
//! An aggregated proof of several ([`AggregatedArtifact`]; its instances as [`crate::aggregate`] describes):
//!
//! ```json
//! {
//!   "format": "zkml-eth-aggregated-proof/1",
//!   "aggregation_hash": "0x…",            // the key cache entry (zkml_prover::aggregate::aggregation_hash)
//!   "config": { "degree": 21, … },        // the outer circuit's configuration
//!   "first_layer": { "aggregation_hash": "0x…", "k": 21 },  // only with two layers
//!   "srs": "unsafe-dev",
//!   "transcript": "keccak",               // always: aggregated proofs are for the EVM
//!   "inner": [ { "proof_file": …, "model_dir": …, "circuit_hash": …, "model_commitment": …,
//!                "offset": 12, "layout": { … } }, … ],
//!   "instances": ["0x…", …],              // the 12 accumulator limbs, then every inner proof's instances
//!   "proof": "0x…"
//! }
//! ```

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use halo2_base::halo2_proofs::halo2curves::{bn256::Fr, ff::PrimeField};
use serde::{Deserialize, Serialize};
use zkml_circuit::{PublicLayout, public::SectionKind};

use snark_verifier_sdk::halo2::aggregation::AggregationConfigParams;

use crate::{
    aggregate::AggregatedProof,
    error::{Error, Result},
    keys::{Hash32, from_hex, hash_from_hex, to_hex},
    prove::{InferenceProof, Transcript},
};

/// The `format` of the inference proof artifacts this version writes and reads.
pub const PROOF_FORMAT: &str = "zkml-eth-proof/1";

/// The `format` of the aggregated proof artifacts this version writes and reads.
pub const AGGREGATED_FORMAT: &str = "zkml-eth-aggregated-proof/1";

/// The `srs` of an artifact made with the development SRS.
pub const UNSAFE_DEV_SRS: &str = "unsafe-dev";

/// A proof of one inference with everything needed to check and read it (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProofArtifact {
    /// [`PROOF_FORMAT`].
    pub format: String,
    /// The compiled model directory the proof was made from (as given to the prover).
    pub model_dir: PathBuf,
    /// Poseidon commitment of the quantized model, `bytes32` hex.
    pub model_commitment: String,
    /// Hash of the circuit (model, layout, size, SRS), hex.
    pub circuit_hash: String,
    /// log2 of the circuit's rows.
    pub k: u32,
    /// `unsafe-dev`, or the parameters file.
    pub srs: String,
    /// The Fiat-Shamir transcript.
    pub transcript: Transcript,
    /// The public instance layout.
    pub layout: PublicLayout,
    /// Outputs in real units; `None` when they are hashed.
    pub outputs: Option<Vec<f64>>,
    /// Quantized outputs; `None` when they are hashed.
    pub outputs_quantized: Option<Vec<i64>>,
    /// Public instances, `0x` + 32 bytes big-endian each.
    pub instances: Vec<String>,
    /// The proof, `0x` hex.
    pub proof: String,
}

/// What an artifact records besides the proof itself.
#[derive(Clone, Debug)]
pub struct ArtifactInfo {
    /// The compiled model directory.
    pub model_dir: PathBuf,
    /// The model commitment, `bytes32` hex.
    pub model_commitment: String,
    /// The circuit hash, hex.
    pub circuit_hash: String,
    /// log2 of the circuit's rows.
    pub k: u32,
    /// `unsafe-dev` ([`UNSAFE_DEV_SRS`]) or the parameters file.
    pub srs: String,
}

/// Outputs read from public instances.
#[derive(Clone, Debug, PartialEq)]
pub struct DecodedOutputs {
    /// The integers the circuit proved.
    pub quantized: Vec<i64>,
    /// The same in real units (`value / 2^scale`).
    pub real: Vec<f64>,
}

/// Decodes the public outputs of `instances` under `layout`; `None` when outputs are hashed or the
/// instances are not a valid packing.
pub fn decode_outputs(layout: &PublicLayout, instances: &[Fr]) -> Option<DecodedOutputs> {
    let section = layout.section(SectionKind::Outputs)?;
    let quantized = layout.decode(SectionKind::Outputs, instances)?;
    let real = quantized.iter().zip(&section.scales).map(|(&q, &s)| q as f64 / (1u64 << s) as f64).collect();
    Some(DecodedOutputs { quantized, real })
}

/// A field element as `0x` + 32 bytes big-endian (a `uint256`): the encoding of the commitment.
pub use zkml_model::commit::commitment_hex as fr_to_hex;

/// Parses instances written by [`fr_to_hex`], naming the first that is not a field element.
pub(crate) fn parse_instances(instances: &[String]) -> std::result::Result<Vec<Fr>, String> {
    instances
        .iter()
        .enumerate()
        .map(|(i, s)| {
            fr_from_hex(s).ok_or_else(|| {
                format!("instance {i} ({s}) is not a 0x-prefixed 32-byte big-endian BN254 scalar field element")
            })
        })
        .collect()
}

/// Writes `json` and a newline to `path`. An existing file is an error unless `overwrite` (checked by the
/// create itself, so a file appearing meanwhile is not clobbered).
pub(crate) fn save_json(path: &Path, json: &[u8], overwrite: bool) -> Result<()> {
    let io = |error| Error::Io { path: path.to_path_buf(), error };
    let mut file = if overwrite {
        std::fs::File::create(path).map_err(io)?
    } else {
        std::fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Error::File { path: path.to_path_buf(), reason: "already exists; refusing to overwrite it".into() }
            } else {
                io(e)
            }
        })?
    };
    file.write_all(json).and_then(|()| file.write_all(b"\n")).map_err(io)
}

/// Parses [`fr_to_hex`]; `None` unless it is 32 bytes holding a canonical field element.
pub fn fr_from_hex(s: &str) -> Option<Fr> {
    let mut bytes: [u8; 32] = from_hex(s)?.try_into().ok()?;
    bytes.reverse();
    Option::from(Fr::from_repr(bytes))
}

impl ProofArtifact {
    /// The artifact of `proof` under `layout`.
    pub fn new(proof: &InferenceProof, layout: &PublicLayout, info: ArtifactInfo) -> Self {
        let outputs = decode_outputs(layout, &proof.instances);
        Self {
            format: PROOF_FORMAT.to_string(),
            model_dir: info.model_dir,
            model_commitment: info.model_commitment,
            circuit_hash: info.circuit_hash,
            k: info.k,
            srs: info.srs,
            transcript: proof.transcript,
            layout: layout.clone(),
            outputs: outputs.as_ref().map(|o| o.real.clone()),
            outputs_quantized: outputs.map(|o| o.quantized),
            instances: proof.instances.iter().map(fr_to_hex).collect(),
            proof: to_hex(&proof.proof),
        }
    }

    /// True when made with the development SRS.
    pub fn is_unsafe_dev(&self) -> bool {
        self.srs == UNSAFE_DEV_SRS
    }

    /// The proof and instances, parsed.
    pub fn to_proof(&self) -> Result<InferenceProof> {
        self.parse().map_err(Error::Artifact)
    }

    fn parse(&self) -> std::result::Result<InferenceProof, String> {
        let proof = from_hex(&self.proof).ok_or("\"proof\" is not 0x-prefixed hex")?;
        let instances = parse_instances(&self.instances)?;
        Ok(InferenceProof { proof, instances, transcript: self.transcript })
    }

    /// Writes the artifact as pretty JSON. An existing file is an error unless `overwrite`.
    pub fn save(&self, path: &Path, overwrite: bool) -> Result<()> {
        save_json(path, &serde_json::to_vec_pretty(self).expect("proof artifacts serialize"), overwrite)
    }

    /// Reads and checks an artifact: the format, and that the proof and instances parse.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|error| Error::Io { path: path.to_path_buf(), error })?;
        let bad = |reason: String| Error::File { path: path.to_path_buf(), reason };
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| bad(format!("not a JSON proof artifact: {e}")))?;
        match value.get("format").and_then(|f| f.as_str()) {
            Some(PROOF_FORMAT) => {}
            Some(other) => return Err(bad(format!("format \"{other}\", this zkml-eth reads \"{PROOF_FORMAT}\""))),
            None => return Err(bad(format!("not a zkml-eth proof artifact (no \"format\": \"{PROOF_FORMAT}\")"))),
        }
        let artifact: Self =
            serde_json::from_value(value).map_err(|e| bad(format!("malformed proof artifact: {e}")))?;
        artifact.parse().map_err(bad)?;
        Ok(artifact)
    }
}

/// One inner proof inside an aggregated artifact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InnerEntry {
    /// The proof artifact it came from.
    pub proof_file: PathBuf,
    /// Its model directory.
    pub model_dir: PathBuf,
    /// Its circuit hash, hex.
    pub circuit_hash: String,
    /// Its model commitment, `bytes32` hex.
    pub model_commitment: String,
    /// Index of its first instance among the aggregated proof's instances.
    pub offset: usize,
    /// Its public layout (how to read its instances).
    pub layout: PublicLayout,
}

/// An aggregated proof as a JSON file (see the module docs).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AggregatedArtifact {
    /// [`AGGREGATED_FORMAT`].
    pub format: String,
    /// The key cache entry (see [`aggregation_hash`](crate::aggregate::aggregation_hash)), hex.
    pub aggregation_hash: String,
    /// The outer circuit's configuration.
    pub config: AggregationConfigParams,
    /// Set when the inner proofs were aggregated in two layers: the first layer, which the outer circuit
    /// verifies. The instances are laid out as with one layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_layer: Option<FirstLayer>,
    /// `unsafe-dev` or the parameters file.
    pub srs: String,
    /// Always keccak: aggregated proofs are for the EVM.
    pub transcript: Transcript,
    /// The inner proofs in order.
    pub inner: Vec<InnerEntry>,
    /// Accumulator limbs then the inner instances, `0x` + 32 bytes big-endian each.
    pub instances: Vec<String>,
    /// The proof, `0x` hex.
    pub proof: String,
}

/// The first layer of a two-layer aggregation: every inner proof aggregated with a Poseidon transcript.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstLayer {
    /// Its key cache entry, hex.
    pub aggregation_hash: String,
    /// log2 of its rows.
    pub k: u32,
}

impl AggregatedArtifact {
    /// The proof and instances, parsed.
    pub fn to_proof(&self) -> Result<AggregatedProof> {
        let proof = from_hex(&self.proof).ok_or_else(|| Error::Artifact("\"proof\" is not 0x-prefixed hex".into()))?;
        let instances = parse_instances(&self.instances).map_err(Error::Artifact)?;
        Ok(AggregatedProof { proof, instances })
    }

    /// The aggregation hash, parsed.
    pub fn hash(&self) -> Result<Hash32> {
        hash_from_hex(&self.aggregation_hash).ok_or_else(|| {
            Error::Artifact(format!("\"aggregation_hash\" {} is not 32 bytes of hex", self.aggregation_hash))
        })
    }

    /// Writes the artifact as pretty JSON; an existing file is an error unless `overwrite`.
    pub fn save(&self, path: &Path, overwrite: bool) -> Result<()> {
        save_json(path, &serde_json::to_vec_pretty(self).expect("aggregated artifacts serialize"), overwrite)
    }

    /// Reads an aggregated artifact; `None` when the file is JSON of another format. A file of this format
    /// whose proof or instances do not parse is an error.
    pub fn load(path: &Path) -> Result<Option<Self>> {
        let text = std::fs::read_to_string(path).map_err(|error| Error::Io { path: path.to_path_buf(), error })?;
        let bad = |reason: String| Error::File { path: path.to_path_buf(), reason };
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
        if value.get("format").and_then(|f| f.as_str()) != Some(AGGREGATED_FORMAT) {
            return Ok(None);
        }
        let artifact: Self =
            serde_json::from_value(value).map_err(|e| bad(format!("malformed aggregated proof artifact: {e}")))?;
        artifact.to_proof().map_err(|e| bad(e.to_string()))?;
        Ok(Some(artifact))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_elements_are_big_endian_uint256() {
        assert_eq!(fr_to_hex(&Fr::from(0x1234)), format!("0x{}1234", "0".repeat(60)));
        for v in [Fr::zero(), Fr::one(), -Fr::one(), Fr::from(u64::MAX)] {
            assert_eq!(fr_from_hex(&fr_to_hex(&v)), Some(v));
        }
        // The modulus itself is not canonical; short and non-hex strings are refused.
        let modulus = "0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001";
        assert_eq!(fr_from_hex(modulus), None);
        assert_eq!(fr_from_hex("0x01"), None);
        assert_eq!(fr_from_hex(&format!("0x{}", "g".repeat(64))), None);
    }
}
