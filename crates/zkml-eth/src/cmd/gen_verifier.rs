//! `zkml-eth gen-verifier`: the Solidity verifier of a model's single proofs or of an aggregation, compiled
//! with the repository's compiler to check it deploys under EIP-170.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use halo2_base::halo2_proofs::{halo2curves::bn256::G1Affine, plonk::VerifyingKey};
use serde::Serialize;
use zkml_evm::{
    codegen::{Verifier, VerifierKind, build_verifier, proof_len},
    exec::MAX_RUNTIME_BYTES,
    solc::find_solc,
};
use zkml_prover::{
    aggregate::{AggregatedArtifact, load_vk, verify as verify_aggregated},
    keys::{read_vk, to_hex},
};

use crate::opts::{LoadedSrs, SolcOpts, SrsOpts};
use crate::{
    cmd::setup::{CircuitFile, VK_FILE},
    output::Output,
};

/// What a verifier is generated for.
#[derive(Debug, Clone, Args)]
#[group(required = true, multiple = false)]
pub struct VerifierTarget {
    /// A model directory set up with `zkml-eth setup`: the verifier of its keccak-transcript proofs.
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// An aggregated proof written by `zkml-eth aggregate`: the verifier of its aggregation circuit.
    #[arg(long, value_name = "AGG.json")]
    pub aggregated: Option<PathBuf>,
}

/// A generated and compiled verifier with what it was made for.
pub struct BuiltVerifier {
    /// Source, compiled code, and whether loops were needed.
    pub verifier: Verifier,
    /// Public instances it takes.
    pub num_instance: usize,
    /// Bytes of every proof it verifies (what the on-chain adapter pins).
    pub proof_bytes: usize,
    /// Single or aggregated.
    pub kind: VerifierKind,
    /// `unsafe-dev` or the SRS file.
    pub srs: String,
    /// True when the SRS is the development one: anyone can forge proofs this verifier accepts.
    pub unsafe_srs: bool,
}

impl VerifierTarget {
    /// Generates the verifier's source and compiles it (with loops if straight-line code is too large).
    /// The SRS must be the one the keys were made with: a verifier embeds its `s·G2`, so with another SRS
    /// it would reject every real proof, and with the development SRS it would accept forged ones. An
    /// aggregated artifact records no SRS fingerprint, so with `check_srs_by_proof` its own proof must verify
    /// under the SRS (what `gen-verifier` wants); `verify --evm`, which reports a rejected proof's verdicts
    /// instead of refusing it, passes false.
    pub fn build(
        &self,
        srs: &SrsOpts,
        solc: &SolcOpts,
        out: &Output,
        check_srs_by_proof: bool,
    ) -> Result<BuiltVerifier> {
        let solc_path = find_solc(solc.solc.as_deref());
        let (verifier, num_instance, proof_bytes, kind, loaded) = if let Some(dir) = &self.model {
            let circuit = CircuitFile::load(dir)?;
            let vk = read_vk(&dir.join(VK_FILE))?;
            if to_hex(&vk.circuit_hash) != circuit.circuit_hash {
                bail!("{} is out of date: run `zkml-eth setup {}` again", dir.join(VK_FILE).display(), dir.display());
            }
            let loaded = srs.load(circuit.k, out)?;
            // As `prove` does: the SRS fingerprint recorded at setup, and the keys' circuit hash.
            circuit.check(dir, &loaded, &vk.circuit_hash)?;
            let n = circuit.layout.num_instances;
            let kind = VerifierKind::Single;
            let proof_bytes = proof_len(&loaded.params, &vk.vk, n);
            (build_verifier(&loaded.params, &vk.vk, n, kind, &solc_path), n, proof_bytes, kind, loaded)
        } else {
            let path = self.aggregated.as_ref().expect("clap requires one target");
            let artifact = load_aggregated(path)?;
            let vk = load_vk(&srs.cache_dir()?, &artifact.hash()?, artifact.config)?;
            let loaded = srs.load(artifact.config.degree, out)?;
            if check_srs_by_proof {
                check_aggregated_srs(path, &artifact, &loaded, &vk)?;
            }
            let n = artifact.instances.len();
            let kind = VerifierKind::Aggregated;
            let proof_bytes = proof_len(&loaded.params, &vk, n);
            let proved = artifact.to_proof()?.proof.len();
            if proof_bytes != proved {
                bail!(
                    "{}: its proof has {proved} bytes, but the aggregation's verifying key gives {proof_bytes}: the \
                     artifact does not match the cached keys",
                    path.display()
                );
            }
            (build_verifier(&loaded.params, &vk, n, kind, &solc_path), n, proof_bytes, kind, loaded)
        };
        let verifier =
            verifier.with_context(|| format!("building the generated verifier with {}", solc_path.display()))?;
        Ok(BuiltVerifier {
            verifier,
            num_instance,
            proof_bytes,
            kind,
            srs: loaded.label,
            unsafe_srs: loaded.unsafe_dev,
        })
    }
}

/// Checks that `loaded` is the SRS `artifact` was aggregated with. The artifact names its SRS but records
/// no fingerprint, so the proof itself is the check: it verifies only under the `s·G2` it was made for.
fn check_aggregated_srs(
    path: &Path,
    artifact: &AggregatedArtifact,
    loaded: &LoadedSrs,
    vk: &VerifyingKey<G1Affine>,
) -> Result<()> {
    if !verify_aggregated(&loaded.params, vk, &artifact.to_proof()?) {
        bail!(
            "{} does not verify under the SRS {} (fingerprint {}); it was aggregated with {}: pass that SRS (or the \
             artifact is damaged: `zkml-eth verify` it)",
            path.display(),
            loaded.label,
            to_hex(&loaded.fingerprint),
            artifact.srs
        );
    }
    Ok(())
}

/// Reads an aggregated proof artifact, or says what the file is not.
pub fn load_aggregated(path: &Path) -> Result<AggregatedArtifact> {
    AggregatedArtifact::load(path)?
        .with_context(|| format!("{}: not an aggregated proof (zkml-eth aggregate writes them)", path.display()))
}

/// Generate a Solidity verifier.
///
/// The contract takes raw calldata (the public instances as uint256 words, then the proof) and reverts
/// unless the proof verifies. It is compiled with the repository's Solidity compiler to report its runtime
/// size. snark-verifier's straight-line code grows with the number of public instances; when it would
/// exceed EIP-170's 24,576 bytes, its repeated runs are rolled into loops (same computation, a little more
/// gas) so that it deploys.
///
/// The report gives the instance count and the proof length to deploy
/// contracts/verifiers/Halo2VerifierAdapter.sol with: the generated code ignores calldata after the proof,
/// so the adapter pins the length. A verifier built from the development SRS says so in its source (the
/// constant UNSAFE_DEV_SRS), in the report (unsafeSrs) and on stderr.
///
/// Examples:
///   zkml-eth gen-verifier --model target/digits-mlp --out Verifier.sol --unsafe-dev-srs
///   zkml-eth gen-verifier --aggregated agg.json --out AggVerifier.sol --unsafe-dev-srs
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct GenVerifierArgs {
    #[command(flatten)]
    target: VerifierTarget,
    /// Where to write the Solidity source.
    #[arg(long, value_name = "FILE.sol")]
    out: PathBuf,
    /// Also write the compiled creation bytecode (0x-hex text) here, for deploying without recompiling
    /// (forge scripts and tests read it with `vm.readFile`).
    #[arg(long, value_name = "FILE.hex")]
    bytecode: Option<PathBuf>,
    /// Overwrite --out (and --bytecode) if they exist.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    solc: SolcOpts,
    #[command(flatten)]
    srs: SrsOpts,
}

/// What `gen-verifier` reports.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenVerifierReport {
    /// The Solidity file.
    pub out: PathBuf,
    /// The creation bytecode file, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytecode: Option<PathBuf>,
    /// `single` or `aggregated`.
    pub kind: String,
    /// Public instances the verifier takes (the adapter's `numInstances`).
    pub instances: usize,
    /// Bytes of every proof it verifies (the adapter's `proofLength`).
    pub proof_bytes: usize,
    /// `unsafe-dev` or the SRS file.
    pub srs: String,
    /// True when built from the development SRS: anyone can forge proofs it accepts. Never deploy it where
    /// value is at stake.
    pub unsafe_srs: bool,
    /// Runtime code bytes.
    pub runtime_bytes: usize,
    /// True when the runtime code fits EIP-170.
    pub deployable: bool,
    /// `null` for straight-line code; else the shortest repeated run rolled into a loop so that the
    /// verifier fits EIP-170 (loops cost a little gas, so they are used only when needed).
    pub rolled_runs_from: Option<usize>,
}

impl GenVerifierArgs {
    /// Runs the command.
    pub fn run(self, out: Output) -> Result<()> {
        self.srs.label()?;
        for file in std::iter::once(&self.out).chain(&self.bytecode) {
            if file.exists() && !self.force {
                bail!("{} already exists: pass --force to overwrite it", file.display());
            }
        }
        let built = self.target.build(&self.srs, &self.solc, &out, true)?;
        std::fs::write(&self.out, &built.verifier.source).with_context(|| format!("writing {}", self.out.display()))?;
        if let Some(file) = &self.bytecode {
            let hex: String = built.verifier.compiled.creation.iter().map(|byte| format!("{byte:02x}")).collect();
            std::fs::write(file, format!("0x{hex}\n")).with_context(|| format!("writing {}", file.display()))?;
        }
        let runtime_bytes = built.verifier.compiled.runtime.len();
        let report = GenVerifierReport {
            out: self.out,
            bytecode: self.bytecode,
            kind: format!("{:?}", built.kind).to_lowercase(),
            instances: built.num_instance,
            proof_bytes: built.proof_bytes,
            srs: built.srs,
            unsafe_srs: built.unsafe_srs,
            runtime_bytes,
            deployable: runtime_bytes <= MAX_RUNTIME_BYTES,
            rolled_runs_from: built.verifier.rolled_runs_from,
        };
        out.result(&report, || {
            format!(
                "wrote {} ({} verifier, {} public instances, {}-byte proofs): {} bytes of runtime code (EIP-170 \
                 limit {}){}{}",
                report.out.display(),
                report.kind,
                report.instances,
                report.proof_bytes,
                report.runtime_bytes,
                MAX_RUNTIME_BYTES,
                match report.rolled_runs_from {
                    Some(n) => format!("; runs of {n}+ repeated statements rolled into loops to fit"),
                    None => String::new(),
                },
                if report.unsafe_srs {
                    "\nbuilt from the UNSAFE development SRS: anyone can forge proofs it accepts (tests and demos only)"
                } else {
                    ""
                }
            )
        })?;
        if !report.deployable {
            bail!(
                "the verifier's runtime code is {runtime_bytes} bytes, over EIP-170's {MAX_RUNTIME_BYTES}: it cannot \
                 be deployed on Ethereum"
            );
        }
        Ok(())
    }
}
