//! `zkml-eth inspect`: any artifact the CLI writes, for people (or as JSON): a model directory, a proof, an
//! aggregated proof, or a deployment file, with the public values decoded from the instances.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;
use serde_json::{Value, json};
use zkml_circuit::{PublicLayout, public::SectionKind};
use zkml_prover::{aggregate::AggregatedArtifact, artifact::ProofArtifact};

use crate::{
    cmd::{deploy::Deployment, setup::CircuitFile},
    output::Output,
    public_values::{Decoded, decode_sections},
};

/// Arguments of `zkml-eth inspect`.
///
/// Examples:
///   zkml-eth inspect target/eth-price                 # a model directory
///   zkml-eth inspect proof.json                       # a proof, its outputs decoded
///   zkml-eth inspect aggregated.json                  # each slot of an aggregated proof
///   zkml-eth inspect deployments/local.json
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The artifact: a model directory, PROOF.json, AGG.json or a deployment file.
    path: PathBuf,
}

/// One public section, decoded.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SectionView {
    /// inputs, outputs, inputs_hash, outputs_hash or model_commitment.
    pub kind: String,
    /// The quantized values (a public section).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantized: Option<Vec<i64>>,
    /// The values in real units (`quantized / 2^scale`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub real: Option<Vec<f64>>,
    /// The hash or commitment (a one-element section).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element: Option<String>,
    /// Index of the largest value, for outputs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argmax: Option<usize>,
}

/// A section's instances decoded with the layout, `offset` being the layout's first instance.
fn sections(layout: &PublicLayout, instances: &[String], offset: usize) -> Result<Vec<SectionView>> {
    let decoded = decode_sections(layout, instances, offset)?;
    layout
        .sections
        .iter()
        .zip(decoded)
        .map(|(section, (_, decoded))| {
            let kind = serde_json::to_value(section.kind)?.as_str().unwrap_or_default().to_string();
            Ok(match decoded {
                Decoded::Values(quantized) => {
                    let real = quantized
                        .iter()
                        .zip(&section.scales)
                        .map(|(q, s)| *q as f64 / 2f64.powi(i32::from(*s)))
                        .collect();
                    let argmax = (section.kind == SectionKind::Outputs)
                        .then(|| {
                            quantized.iter().enumerate().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0))).map(|(i, _)| i)
                        })
                        .flatten();
                    SectionView { kind, quantized: Some(quantized), real: Some(real), element: None, argmax }
                }
                Decoded::Element(element) => {
                    SectionView { kind, quantized: None, real: None, element: Some(element), argmax: None }
                }
            })
        })
        .collect()
}

fn sections_text(views: &[SectionView]) -> String {
    views
        .iter()
        .map(|v| match (&v.real, &v.element) {
            (Some(real), _) => {
                let shown: Vec<String> = real.iter().take(16).map(|r| format!("{r:.4}")).collect();
                let more = if real.len() > 16 { format!(", ... ({} values)", real.len()) } else { String::new() };
                let argmax = v.argmax.map(|i| format!(" (argmax {i})")).unwrap_or_default();
                format!("  {:<17}[{}{more}]{argmax}", v.kind, shown.join(", "))
            }
            (_, Some(element)) => format!("  {:<17}{element}", v.kind),
            _ => String::new(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn layout_text(layout: &PublicLayout) -> String {
    let v = &layout.visibility;
    format!(
        "  visibility       weights {:?}, inputs {:?}, outputs {:?}; {} public instances",
        v.weights, v.input, v.output, layout.num_instances
    )
    .to_lowercase()
}

fn proof_bytes(hex: &str) -> usize {
    hex.len().saturating_sub(2) / 2
}

impl InspectArgs {
    /// Runs the command.
    pub fn run(self, out: Output) -> Result<()> {
        let path = &self.path;
        if path.is_dir() {
            return inspect_model(path, out);
        }
        let text = std::fs::read_to_string(path).with_context(|| format!("could not read {}", path.display()))?;
        let value: Value = serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
        match value.get("format").and_then(Value::as_str) {
            Some(f) if f.starts_with("zkml-eth-proof") => inspect_proof(path, out),
            Some(f) if f.starts_with("zkml-eth-aggregated-proof") => inspect_aggregated(path, out),
            _ if value.get("registry").is_some() && value.get("chainId").is_some() => {
                let d = Deployment::load(path)?;
                out.result(&d, || format!("deployment on chain {} ({})\n{}", d.chain_id, path.display(), d.text()))
            }
            _ if path.file_name().is_some_and(|n| n == "circuit.json") => {
                inspect_model(path.parent().unwrap_or(Path::new(".")), out)
            }
            other => bail!(
                "{}: not an artifact zkml-eth reads (format {other:?}): give a model directory, a proof, an aggregated \
                 proof or a deployment file",
                path.display()
            ),
        }
    }
}

fn inspect_model(dir: &Path, out: Output) -> Result<()> {
    let circuit = CircuitFile::load(dir)?;
    let view = json!({
        "kind": "model",
        "dir": dir,
        "modelCommitment": circuit.model_commitment,
        "circuitHash": circuit.circuit_hash,
        "k": circuit.k,
        "srs": circuit.srs,
        "witnessColumns": circuit.witness_columns,
        "adviceCells": circuit.advice_cells,
        "layout": circuit.layout,
    });
    out.result(&view, || {
        format!(
            "model {}\n  commitment       {}\n  circuit hash     {}\n  k                {} ({} witness columns, {} advice cells)\n  SRS              {}\n{}",
            dir.display(),
            circuit.model_commitment,
            circuit.circuit_hash,
            circuit.k,
            circuit.witness_columns,
            circuit.advice_cells,
            circuit.srs,
            layout_text(&circuit.layout)
        )
    })
}

fn inspect_proof(path: &Path, out: Output) -> Result<()> {
    let artifact = ProofArtifact::load(path)?;
    let decoded = sections(&artifact.layout, &artifact.instances, 0).with_context(|| format!("{}", path.display()))?;
    let view = json!({
        "kind": "proof",
        "modelDir": artifact.model_dir,
        "modelCommitment": artifact.model_commitment,
        "circuitHash": artifact.circuit_hash,
        "k": artifact.k,
        "srs": artifact.srs,
        "transcript": artifact.transcript,
        "proofBytes": proof_bytes(&artifact.proof),
        "instances": artifact.instances.len(),
        "sections": decoded,
    });
    out.result(&view, || {
        format!(
            "proof {} ({:?} transcript, {} bytes, {} instances)\n  model            {}\n  commitment       {}\n  k, SRS           {}, {}\n{}\n{}",
            path.display(),
            artifact.transcript,
            proof_bytes(&artifact.proof),
            artifact.instances.len(),
            artifact.model_dir.display(),
            artifact.model_commitment,
            artifact.k,
            artifact.srs,
            layout_text(&artifact.layout),
            sections_text(&decoded)
        )
    })
}

fn inspect_aggregated(path: &Path, out: Output) -> Result<()> {
    let artifact = AggregatedArtifact::load(path)?.context("not an aggregated proof")?;
    let mut slots = vec![];
    let mut text = format!(
        "aggregated proof {} ({} slots, k = {}, {} bytes, {} instances: 12 accumulator limbs, then each slot's)",
        path.display(),
        artifact.inner.len(),
        artifact.config.degree,
        proof_bytes(&artifact.proof),
        artifact.instances.len()
    );
    for (i, inner) in artifact.inner.iter().enumerate() {
        let decoded = sections(&inner.layout, &artifact.instances, inner.offset)
            .with_context(|| format!("{}: slot {i}", path.display()))?;
        text += &format!(
            "\n slot {i}: {} (commitment {})\n{}",
            inner.model_dir.display(),
            inner.model_commitment,
            sections_text(&decoded)
        );
        slots.push(json!({
            "modelDir": inner.model_dir,
            "modelCommitment": inner.model_commitment,
            "offset": inner.offset,
            "sections": decoded,
        }));
    }
    let view = json!({
        "kind": "aggregated",
        "aggregationHash": artifact.aggregation_hash,
        "degree": artifact.config.degree,
        "proofBytes": proof_bytes(&artifact.proof),
        "instances": artifact.instances.len(),
        "slots": slots,
    });
    out.result(&view, || text)
}
