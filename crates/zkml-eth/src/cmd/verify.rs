//! `zkml-eth verify`: check a proof artifact natively against a set-up model's verifying key.

use std::{
    path::{Path, PathBuf},
    time::Instant,
};

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use serde::Serialize;
use zkml_circuit::public::SectionKind;
use zkml_evm::exec::{DEFAULT_CALL_GAS, LocalVerifier};
use zkml_model::commit::commitment_hex;
use zkml_prover::{
    aggregate::{AggregatedArtifact, load_vk, verify as verify_aggregated},
    artifact::{ProofArtifact, decode_outputs},
    keys::{read_vk, to_hex},
    prove::{Transcript, verify},
};

use crate::opts::{SolcOpts, SrsOpts};
use crate::{
    cmd::{
        gen_verifier::VerifierTarget,
        prove::outputs_text,
        setup::{CircuitFile, VK_FILE},
    },
    output::Output,
};

/// Verify a proof written by `zkml-eth prove` or an aggregated proof written by `zkml-eth aggregate`.
///
/// The verifying key is DIR/vk.bin of the model directory (--model, else the one the artifact names);
/// the proof must be for the circuit DIR/circuit.json describes. Prints "valid" and the outputs decoded
/// from the public instances; an invalid proof is an error (exit status 1).
///
/// Examples:
///   zkml-eth verify proof.json --unsafe-dev-srs
///   zkml-eth verify proof.json --model target/digits-mlp --srs kzg_bn254_15.srs
///   zkml-eth --json verify proof.json --unsafe-dev-srs
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct VerifyArgs {
    /// A proof artifact written by `zkml-eth prove`.
    proof: PathBuf,
    /// The model directory set up with `zkml-eth setup` [default: the artifact's `model_dir`].
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
    /// Also verify on the EVM: generate and compile the Solidity verifier, deploy it in revm under mainnet
    /// limits (EIP-170), call it and print its runtime size and gas. Keccak-transcript and aggregated
    /// proofs only.
    #[arg(long)]
    evm: bool,
    /// Gas cap of the EVM verification call (with --evm).
    #[arg(long, default_value_t = DEFAULT_CALL_GAS, requires = "evm")]
    gas_limit: u64,
    /// With --evm: run this Solidity verifier (contract Halo2Verifier, e.g. from `zkml-eth gen-verifier`)
    /// instead of generating one.
    #[arg(long, value_name = "FILE.sol", requires = "evm")]
    verifier: Option<PathBuf>,
    #[command(flatten)]
    solc: SolcOpts,
    #[command(flatten)]
    srs: SrsOpts,
}

/// What `verify --evm` measured.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EvmReport {
    /// True when the call returned.
    pub valid: bool,
    /// Runtime code bytes of the deployed verifier.
    pub runtime_bytes: usize,
    /// Gas of the verification transaction (base, calldata and execution).
    pub gas: u64,
    /// Gas divided by the inferences the proof covers.
    pub gas_per_inference: u64,
}

/// Deploys `target`'s verifier (or the one in `verifier`) in revm and calls it with `instances` and
/// `proof`.
#[allow(clippy::too_many_arguments)]
fn run_evm(
    target: VerifierTarget,
    verifier: Option<&Path>,
    srs: &SrsOpts,
    solc: &SolcOpts,
    instances: &[Fr],
    proof: &[u8],
    inferences: usize,
    gas_limit: u64,
    out: &Output,
) -> Result<EvmReport> {
    let creation = match verifier {
        Some(path) => {
            let source = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            solc.compile(&source).with_context(|| format!("compiling {}", path.display()))?.creation
        }
        // The proof may be tampered: its verdicts are reported, not refused.
        None => target.build(srs, solc, out, false)?.verifier.compiled.creation,
    };
    let mut chain = LocalVerifier::deploy(&creation)?;
    let outcome = chain.verify(instances, proof, gas_limit)?;
    Ok(EvmReport {
        valid: outcome.success,
        runtime_bytes: chain.runtime_bytes,
        gas: outcome.gas_used,
        gas_per_inference: outcome.gas_used / inferences.max(1) as u64,
    })
}

fn evm_text(r: &EvmReport) -> String {
    format!(
        "EVM (revm, mainnet limits): {}, {} bytes runtime, {} gas ({} per inference)",
        if r.valid { "valid" } else { "REJECTED" },
        r.runtime_bytes,
        r.gas,
        r.gas_per_inference
    )
}

/// What `verify` reports for an aggregated proof.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AggregatedVerifyReport {
    /// True when the proof verifies natively (and on the EVM with --evm).
    pub valid: bool,
    /// The native verifier's answer.
    pub native: bool,
    /// The artifact.
    pub proof: PathBuf,
    /// Inner proofs it covers.
    pub proofs: usize,
    /// log2 of the outer circuit's rows.
    pub k: u32,
    /// True for the development SRS.
    pub unsafe_srs: bool,
    /// The EVM run, with --evm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evm: Option<EvmReport>,
}

/// What `verify` reports.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyReport {
    /// True when the proof verifies for DIR's circuit and the artifact agrees with its instances.
    pub valid: bool,
    /// Why not, when invalid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The artifact.
    pub proof: PathBuf,
    /// The model directory.
    pub model_dir: PathBuf,
    /// The circuit hash of the model directory.
    pub circuit_hash: String,
    /// The model commitment (from the public instances when weights are committed).
    pub model_commitment: String,
    /// The transcript.
    pub transcript: Transcript,
    /// `unsafe-dev` or the SRS file.
    pub srs: String,
    /// True for the development SRS.
    pub unsafe_srs: bool,
    /// Outputs in real units, decoded from the instances (`None` when hashed or invalid).
    pub outputs: Option<Vec<f64>>,
    /// Quantized outputs, decoded from the instances.
    pub outputs_quantized: Option<Vec<i64>>,
    /// Seconds spent verifying.
    pub seconds: f64,
}

impl VerifyArgs {
    /// Runs the command.
    pub fn run(self, out: Output) -> Result<()> {
        self.srs.label()?;
        if self.evm {
            // Before the SRS is loaded or generated (up to minutes): a missing compiler fails now.
            zkml_evm::solc::check_solc(self.solc.solc.as_deref()).context("--evm needs a Solidity compiler")?;
        }
        if let Some(aggregated) = AggregatedArtifact::load(&self.proof)? {
            return self.run_aggregated(aggregated, out);
        }
        let artifact = ProofArtifact::load(&self.proof)?;
        let dir = self.model.clone().unwrap_or_else(|| artifact.model_dir.clone());
        if !dir.is_dir() {
            return Err(anyhow!(
                "{}: the model directory {} (from the artifact) is not here: pass --model DIR",
                self.proof.display(),
                dir.display()
            ));
        }
        let circuit = CircuitFile::load(&dir)?;
        let vk_path = dir.join(VK_FILE);
        let vk = read_vk(&vk_path)?;
        if to_hex(&vk.circuit_hash) != circuit.circuit_hash {
            return Err(anyhow!(
                "{} is not the verifying key of {}: run `zkml-eth setup {}` again",
                vk_path.display(),
                dir.join(super::setup::CIRCUIT_FILE).display(),
                dir.display()
            ));
        }
        let srs = self.srs.load(circuit.k, &out)?;
        if to_hex(&srs.fingerprint) != circuit.srs_fingerprint {
            return Err(anyhow!(
                "{} was set up with the SRS {}, not {}: pass the same SRS",
                dir.display(),
                circuit.srs,
                srs.label
            ));
        }

        let started = Instant::now();
        let proof = artifact.to_proof()?;
        let layout = &circuit.layout;
        let decoded = decode_outputs(layout, &proof.instances);
        // With committed weights the model is a public instance, not part of the verifying key: it must be
        // this directory's model, or a proof for other weights of the same shape would pass.
        let public_commitment = layout
            .section(SectionKind::ModelCommitment)
            .and_then(|s| proof.instances.get(s.offset))
            .map(commitment_hex);
        let model_commitment = public_commitment.clone().unwrap_or_else(|| circuit.model_commitment.clone());
        let reason = if artifact.circuit_hash != circuit.circuit_hash {
            Some(format!(
                "the proof is for the circuit {}, but {} is set up as {} (other model, visibility, size or SRS)",
                artifact.circuit_hash,
                dir.display(),
                circuit.circuit_hash
            ))
        } else if proof.instances.len() != layout.num_instances {
            Some(format!("{} public instances, the circuit has {}", proof.instances.len(), layout.num_instances))
        } else if !verify(&srs.params, &vk.vk, &proof) {
            Some("the proof does not verify against the verifying key and the public instances".to_string())
        } else if public_commitment.as_ref().is_some_and(|c| *c != circuit.model_commitment) {
            Some(format!(
                "the proof is for the model commitment {model_commitment}, not {}'s {}",
                dir.display(),
                circuit.model_commitment
            ))
        } else if artifact.model_commitment != model_commitment {
            Some(format!(
                "the artifact's \"model_commitment\" {} is not the proved model's {model_commitment}",
                artifact.model_commitment
            ))
        } else if artifact.outputs_quantized != decoded.as_ref().map(|d| d.quantized.clone())
            || artifact.outputs != decoded.as_ref().map(|d| d.real.clone())
        {
            Some("the artifact's \"outputs\" differ from what its public instances prove".to_string())
        } else if &artifact.layout != layout {
            Some("the artifact's \"layout\" differs from the circuit's".to_string())
        } else {
            None
        };
        let seconds = started.elapsed().as_secs_f64();
        let valid = reason.is_none();
        let report = VerifyReport {
            valid,
            reason: reason.clone(),
            proof: self.proof.clone(),
            model_dir: dir,
            circuit_hash: circuit.circuit_hash.clone(),
            model_commitment,
            transcript: proof.transcript,
            srs: srs.label.clone(),
            unsafe_srs: srs.unsafe_dev,
            outputs: decoded.as_ref().filter(|_| valid).map(|d| d.real.clone()),
            outputs_quantized: decoded.filter(|_| valid).map(|d| d.quantized),
            seconds,
        };
        if !self.evm {
            if let Some(reason) = reason {
                if out.machine() {
                    out.result(&report, String::new)?;
                }
                return Err(anyhow!("{}: INVALID proof: {reason}", self.proof.display()));
            }
            return out.result(&report, || human(&report));
        }
        if proof.transcript != Transcript::Keccak {
            bail!(
                "{}: --evm needs a keccak-transcript proof (zkml-eth prove --transcript keccak), or aggregate Poseidon proofs",
                self.proof.display()
            );
        }
        // The EVM runs whatever the native verdict, so a rejected proof's gas is measured too.
        let target = VerifierTarget { model: Some(report.model_dir.clone()), aggregated: None };
        let evm = run_evm(
            target,
            self.verifier.as_deref(),
            &self.srs,
            &self.solc,
            &proof.instances,
            &proof.proof,
            1,
            self.gas_limit,
            &out,
        )?;
        #[derive(Serialize)]
        struct Both<'a> {
            #[serde(flatten)]
            native: &'a VerifyReport,
            evm: &'a EvmReport,
        }
        let both = Both { native: &report, evm: &evm };
        if let Some(reason) = reason {
            if out.machine() {
                out.result(&both, String::new)?;
            }
            let on_evm = if evm.valid { "accepted" } else { "rejected" };
            return Err(anyhow!(
                "{}: INVALID proof: {reason} (the EVM verifier {on_evm} it, {} gas)",
                self.proof.display(),
                evm.gas
            ));
        }
        out.result(&both, || format!("{}\n{}", human(&report), evm_text(&evm)))?;
        if !evm.valid {
            bail!("{}: the EVM verifier REJECTED the proof", self.proof.display());
        }
        Ok(())
    }

    fn run_aggregated(self, artifact: AggregatedArtifact, out: Output) -> Result<()> {
        let proof = artifact.to_proof()?;
        let hash = artifact.hash()?;
        let vk = load_vk(&self.srs.cache_dir()?, &hash, artifact.config)?;
        let srs = self.srs.load(artifact.config.degree, &out)?;
        let started = Instant::now();
        let native = verify_aggregated(&srs.params, &vk, &proof);
        let seconds = started.elapsed().as_secs_f64();
        // With --evm both checks run and are reported, so a rejected proof's gas is measured too.
        let evm = if self.evm {
            let target = VerifierTarget { model: None, aggregated: Some(self.proof.clone()) };
            Some(run_evm(
                target,
                self.verifier.as_deref(),
                &self.srs,
                &self.solc,
                &proof.instances,
                &proof.proof,
                artifact.inner.len(),
                self.gas_limit,
                &out,
            )?)
        } else {
            None
        };
        let valid = native && evm.as_ref().is_none_or(|e| e.valid);
        let report = AggregatedVerifyReport {
            valid,
            native,
            proof: self.proof.clone(),
            proofs: artifact.inner.len(),
            k: artifact.config.degree,
            unsafe_srs: srs.unsafe_dev,
            evm,
        };
        out.result(&report, || {
            let mut text = format!(
                "{}  {} (aggregated: {} proofs; natively {} in {seconds:.3} s)",
                if valid { "valid" } else { "INVALID" },
                report.proof.display(),
                report.proofs,
                if native { "valid" } else { "REJECTED" }
            );
            if let Some(evm) = &report.evm {
                text += &format!("\n{}", evm_text(evm));
            }
            text
        })?;
        if !valid {
            bail!("{}: INVALID aggregated proof", self.proof.display());
        }
        Ok(())
    }
}

fn human(r: &VerifyReport) -> String {
    let outputs = r.outputs.as_deref().map_or("hashed (not public)".to_string(), outputs_text);
    let srs = if r.unsafe_srs { "UNSAFE development SRS".to_string() } else { r.srs.clone() };
    let rows = [
        ("model", display(&r.model_dir)),
        ("model commitment", r.model_commitment.clone()),
        ("circuit hash", r.circuit_hash.clone()),
        ("SRS", srs),
        ("outputs", outputs),
    ];
    let mut text = format!("valid  {} (verified in {:.3} s)\n", display(&r.proof), r.seconds);
    for (k, v) in rows {
        text += &format!("{k:<17} {v}\n");
    }
    text.trim_end().to_string()
}

fn display(p: &Path) -> String {
    p.display().to_string()
}
