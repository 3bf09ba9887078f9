//! `zkml-eth prove`: prove inferences of a set-up model and write proof artifacts.

use std::{
    path::{Path, PathBuf},
    time::Instant,
};

use alloy::primitives::Address;
use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use zkml_model::{data::DataSet, encode::PriceFeatures, exec::execute};
use zkml_prover::{
    artifact::{ArtifactInfo, ProofArtifact},
    keys::{CacheStatus, META_FILE, circuit_hash, key_dir, load_or_keygen, to_hex},
    prove::{Transcript, prove},
};

use crate::opts::SrsOpts;
use crate::{
    chain::vault_window,
    cmd::{
        input::{input_scale, reals},
        setup::{CircuitFile, load_model},
    },
    opts::RpcOpts,
    output::Output,
};

/// The Fiat-Shamir transcript on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TranscriptArg {
    /// Poseidon: for proofs that will be aggregated.
    Poseidon,
    /// Keccak-256: for proofs verified directly by the Solidity verifier.
    Keccak,
}

impl From<TranscriptArg> for Transcript {
    fn from(t: TranscriptArg) -> Self {
        match t {
            TranscriptArg::Poseidon => Self::Poseidon,
            TranscriptArg::Keccak => Self::Keccak,
        }
    }
}

/// Prove inferences of a model set up with `zkml-eth setup`.
///
/// INPUT.json has the data-file form {"inputs": [[...], ...]}. One sample (or --sample I) writes one
/// proof to --out PROOF.json; several samples make --out a directory holding proof-0.json, proof-1.json,
/// ... (numbers zero-padded to the same width). Existing proofs are never overwritten without --force.
///
/// Examples:
///   zkml-eth prove target/digits-mlp --input input.json --out proof.json --unsafe-dev-srs
///   zkml-eth prove target/digits-mlp --input examples/digits/test.json --sample 7 --out proof.json --unsafe-dev-srs
///   zkml-eth prove target/digits-mlp --input batch.json --out proofs/ --transcript keccak --srs kzg_bn254_15.srs
///   zkml-eth prove target/eth-price --from-feed --vault 0x... --round 18446744073709551629 --out proof.json \
///       --transcript keccak --unsafe-dev-srs
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ProveArgs {
    /// A model directory set up with `zkml-eth setup`.
    dir: PathBuf,
    /// The samples: JSON {"inputs": [[...], ...]}, each flattened in input order.
    #[arg(long, value_name = "INPUT.json", required_unless_present = "from_feed")]
    input: Option<PathBuf>,
    /// Prove only this sample (0-based) of INPUT.json.
    #[arg(long, value_name = "I", requires = "input")]
    sample: Option<usize>,
    /// Build the eth-price model's input on chain instead: the 13 answers of the vault's own price feed
    /// that end at --round, through the features the vault recomputes, so the proof is for what `act`
    /// checks.
    #[arg(long, requires_all = ["vault", "round"], conflicts_with = "input")]
    from_feed: bool,
    /// With --from-feed: the VerifiedTradingVault whose feed is read.
    #[arg(long, value_name = "ADDRESS")]
    vault: Option<Address>,
    /// With --from-feed: the round the prediction is for (the window's last answer).
    #[arg(long, value_name = "ROUND")]
    round: Option<u128>,
    #[command(flatten, next_help_heading = "With --from-feed")]
    rpc: RpcOpts,
    /// The proof file (one sample), or a directory for several.
    #[arg(long, value_name = "PROOF.json|DIR")]
    out: PathBuf,
    /// Fiat-Shamir transcript: poseidon (for aggregation) or keccak (for the EVM verifier).
    #[arg(long, value_enum, default_value = "poseidon")]
    transcript: TranscriptArg,
    /// Overwrite existing proof files.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    srs: SrsOpts,
}

/// One proof written.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProofReport {
    /// The sample's index in INPUT.json.
    pub sample: usize,
    /// The artifact written.
    pub path: PathBuf,
    /// Seconds spent proving.
    pub seconds: f64,
    /// Proof size in bytes.
    pub proof_bytes: usize,
    /// Outputs in real units (`None` when hashed).
    pub outputs: Option<Vec<f64>>,
}

/// What `prove` reports.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProveReport {
    /// The model directory.
    pub dir: PathBuf,
    /// The circuit hash.
    pub circuit_hash: String,
    /// log2 of the rows.
    pub k: u32,
    /// The transcript.
    pub transcript: Transcript,
    /// `unsafe-dev` or the SRS file.
    pub srs: String,
    /// True for the development SRS.
    pub unsafe_srs: bool,
    /// `hit` or `miss` (keys generated because the cache had none).
    pub keys: CacheStatus,
    /// Seconds spent reading or generating the keys.
    pub keys_seconds: f64,
    /// The proofs, in sample order.
    pub proofs: Vec<ProofReport>,
    /// Seconds spent proving, in total.
    pub prove_seconds: f64,
}

impl ProveArgs {
    /// The eth-price model's input from the answers the vault's feed holds for the window ending at `--round`
    /// (the rounds `round - 12 ..= round` of its phase, as the vault reads them).
    fn feed_input(&self, dir: &Path) -> Result<DataSet> {
        let (vault, round) =
            (self.vault.context("--from-feed needs --vault")?, self.round.context("--from-feed needs --round")?);
        let scale = input_scale(dir, PriceFeatures::WINDOW, "a feed window")?;
        let runtime = tokio::runtime::Runtime::new().context("could not start the async runtime")?;
        let answers = runtime.block_on(vault_window(&self.rpc.provider(), vault, round)).with_context(|| {
            format!("reading the window of round {round} from vault {vault} at {}", self.rpc.rpc_url)
        })?;
        let quantized = PriceFeatures::eth_price(scale)
            .inputs(&answers)
            .with_context(|| format!("the feed's window ending at round {round}"))?;
        Ok(DataSet { inputs: vec![reals(&quantized, scale).into_iter().map(|v| v as f32).collect()], labels: None })
    }

    /// Runs the command.
    pub fn run(self, out: Output) -> Result<()> {
        let dir = &self.dir;
        let label = self.srs.label()?;
        let circuit = CircuitFile::load(dir)?;
        let model = load_model(dir)?;
        let q = &model.quantized;
        let (data, source) = match &self.input {
            Some(input) => (DataSet::load(input, q.input_len())?, input.display().to_string()),
            None => (self.feed_input(dir)?, "the vault's feed".to_string()),
        };
        let samples: Vec<usize> = match self.sample {
            Some(i) if i >= data.inputs.len() => {
                bail!("--sample {i}: {source} has {} sample(s) (0..{})", data.inputs.len(), data.inputs.len())
            }
            Some(i) => vec![i],
            None => (0..data.inputs.len()).collect(),
        };

        // The reference executor first: an input outside the calibrated range is an error naming the sample
        // and the node, never a failed proof.
        let mut inputs = Vec::with_capacity(samples.len());
        for &i in &samples {
            let values =
                execute(q, &data.inputs[i]).with_context(|| format!("sample {i} of {source} cannot be proved"))?;
            inputs.push(q.inputs.iter().flat_map(|&n| values[n].data.iter().copied()).collect::<Vec<i64>>());
        }

        let paths = self.output_paths(&samples)?;
        let size = circuit.size();
        let srs = self.srs.load(size.k, &out)?;
        let hash = circuit_hash(q, &circuit.layout, &size, &srs.fingerprint);
        circuit.check(dir, &srs, &hash)?;

        let cache_dir = self.srs.cache_dir()?;
        if !key_dir(&cache_dir, &hash).join(META_FILE).exists() {
            out.status(format!(
                "The keys are not in the cache ({}): generating them (`zkml-eth setup` caches them) ...",
                cache_dir.display()
            ));
        }
        let started = Instant::now();
        let (keys, status) =
            load_or_keygen(&cache_dir, &srs.params, q, &circuit.layout, &size).context("loading the proving key")?;
        let keys_seconds = started.elapsed().as_secs_f64();

        let transcript = Transcript::from(self.transcript);
        let info = ArtifactInfo {
            model_dir: dir.clone(),
            model_commitment: model.settings.model_commitment.clone(),
            circuit_hash: to_hex(&hash),
            k: size.k,
            srs: label.clone(),
        };
        let progress = if samples.len() > 1 && !out.json && !out.quiet {
            let bar = ProgressBar::new(samples.len() as u64);
            bar.set_style(
                ProgressStyle::with_template("proving {bar:30} {pos}/{len} [{elapsed_precise}, {eta} left] {msg}")
                    .expect("a valid progress template"),
            );
            bar
        } else {
            ProgressBar::hidden()
        };
        if samples.len() == 1 {
            out.status(format!("Proving sample {} (k = {}) ...", samples[0], size.k));
        }
        let mut proofs = Vec::with_capacity(samples.len());
        let all_started = Instant::now();
        for ((&sample, input), path) in samples.iter().zip(&inputs).zip(&paths) {
            let started = Instant::now();
            let proof = prove(&srs.params, &keys, q, input, transcript)
                .with_context(|| format!("proving sample {sample} of {source}"))?;
            let seconds = started.elapsed().as_secs_f64();
            let artifact = ProofArtifact::new(&proof, &keys.layout, info.clone());
            artifact.save(path, self.force)?;
            progress.inc(1);
            progress.set_message(format!("{seconds:.2} s/proof"));
            proofs.push(ProofReport {
                sample,
                path: path.clone(),
                seconds,
                proof_bytes: proof.proof.len(),
                outputs: artifact.outputs,
            });
        }
        progress.finish_and_clear();

        let report = ProveReport {
            dir: dir.clone(),
            circuit_hash: to_hex(&hash),
            k: size.k,
            transcript,
            srs: label,
            unsafe_srs: srs.unsafe_dev,
            keys: status,
            keys_seconds,
            proofs,
            prove_seconds: all_started.elapsed().as_secs_f64(),
        };
        out.result(&report, || human(&report))
    }

    /// Where each proof goes; refuses existing files unless `--force`, before anything is proved.
    fn output_paths(&self, samples: &[usize]) -> Result<Vec<PathBuf>> {
        let paths = if samples.len() == 1 {
            if self.out.is_dir() {
                bail!(
                    "--out {} is a directory: with one sample --out names the proof file (e.g. {})",
                    self.out.display(),
                    self.out.join("proof.json").display()
                );
            }
            vec![self.out.clone()]
        } else {
            if self.out.is_file() {
                bail!(
                    "--out {} is a file, but {} has {} samples: pass a directory for proof-0.json ... (or pick one \
                     with --sample I)",
                    self.out.display(),
                    self.input.as_deref().unwrap_or(Path::new("the input")).display(),
                    samples.len()
                );
            }
            std::fs::create_dir_all(&self.out).with_context(|| format!("creating {}", self.out.display()))?;
            let width = (samples.len() - 1).to_string().len();
            samples.iter().map(|i| self.out.join(format!("proof-{i:0width$}.json"))).collect()
        };
        if !self.force {
            let existing: Vec<&PathBuf> = paths.iter().filter(|p| p.exists()).collect();
            if let Some(first) = existing.first() {
                let more =
                    if existing.len() > 1 { format!(" (and {} more)", existing.len() - 1) } else { String::new() };
                bail!("{} already exists{more}: pass --force to overwrite", first.display());
            }
        }
        if let Some(parent) = paths[0].parent().filter(|p| !p.as_os_str().is_empty())
            && !parent.is_dir()
        {
            bail!("{}: no such directory for the proof", parent.display());
        }
        Ok(paths)
    }
}

/// Outputs as `[0.1250, -2.5000] (argmax 1)`.
pub fn outputs_text(outputs: &[f64]) -> String {
    let values: Vec<String> = outputs.iter().map(|v| format!("{v:.4}")).collect();
    let argmax = outputs
        .iter()
        .enumerate()
        .fold(None, |best: Option<(usize, f64)>, (i, &v)| match best {
            Some((_, b)) if b >= v => best,
            _ => Some((i, v)),
        })
        .map(|(i, _)| i);
    match argmax {
        Some(i) if outputs.len() > 1 => format!("[{}] (argmax {i})", values.join(", ")),
        _ => format!("[{}]", values.join(", ")),
    }
}

fn human(r: &ProveReport) -> String {
    let keys = match r.keys {
        CacheStatus::Hit => format!("cached, read in {:.2} s", r.keys_seconds),
        CacheStatus::Miss => format!("keygen {:.2} s", r.keys_seconds),
    };
    let transcript = match r.transcript {
        Transcript::Poseidon => "poseidon",
        Transcript::Keccak => "keccak",
    };
    let srs = if r.unsafe_srs { "UNSAFE development SRS".to_string() } else { r.srs.clone() };
    let mut text = format!("k = {}, {transcript} transcript, SRS {srs}, keys {keys}\n", r.k);
    let show = |p: &ProofReport| {
        let outputs = p.outputs.as_deref().map_or("outputs hashed".to_string(), outputs_text);
        format!(
            "sample {:<4} {:>6.2} s  {} bytes  {}  -> {}\n",
            p.sample,
            p.seconds,
            p.proof_bytes,
            outputs,
            display(&p.path)
        )
    };
    const LISTED: usize = 20;
    for p in r.proofs.iter().take(LISTED) {
        text += &show(p);
    }
    if r.proofs.len() > LISTED {
        text += &format!("... and {} more\n", r.proofs.len() - LISTED);
    }
    if r.proofs.len() > 1 {
        let times: Vec<f64> = r.proofs.iter().map(|p| p.seconds).collect();
        let min = times.iter().copied().fold(f64::INFINITY, f64::min);
        let max = times.iter().copied().fold(0.0, f64::max);
        text += &format!(
            "{} proofs in {:.1} s: {:.2} s mean, {min:.2} min, {max:.2} max\n",
            r.proofs.len(),
            r.prove_seconds,
            r.prove_seconds / r.proofs.len() as f64
        );
    }
    text.trim_end().to_string()
}

fn display(p: &Path) -> String {
    p.display().to_string()
}
