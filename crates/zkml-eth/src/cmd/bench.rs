//! `zkml-eth bench`: circuit size, keygen and proving time, peak memory and proof size for each example
//! model, beside EZKL's figures on the same ONNX file when EZKL is installed.
//!
//! Like the EZKL script (`tools/bench/ezkl_bench.py`), keygen and proving each run in a fresh child
//! process (this binary, `bench --phase ...`) that reports its own peak RSS (`VmHWM`), so the two
//! tools' memory figures are measured the same way. Proving uses the keccak transcript, the one an EVM
//! verifier replays (EZKL's default proofs are EVM proofs too).

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use halo2_base::halo2_proofs::{halo2curves::bn256::Bn256, poly::kzg::commitment::ParamsKZG};
use serde::{Deserialize, Serialize};
use zkml_circuit::{
    PublicLayout, Visibility,
    sizing::{CircuitSize, auto_size},
};
use zkml_evm::{
    codegen::{VerifierKind, build_verifier},
    exec::{DEFAULT_CALL_GAS, LocalVerifier},
    solc::find_solc,
};
use zkml_model::{CalibrationOptions, CompiledModel, data::DataSet, exec::execute};
use zkml_prover::{
    aggregate::{self, LayerPolicy, MemoryEstimate},
    keys::{CacheStatus, load_or_keygen},
    prove::{Transcript, prove, verify},
};

use crate::{
    cmd::peak_rss_bytes,
    opts::{LayerPolicyOpts, MemoryOpts, SrsOpts},
    output::Output,
};

/// Benchmark proving on the example models, beside EZKL when it is installed.
///
/// EZKL is looked for as `$ZKML_EZKL_PYTHON` or `.zkml-cache/ezkl-venv/bin/python` (`make bench`
/// installs it there with pip). The SRS is the unsafe development SRS, generated once and cached.
///
/// Examples:
///   zkml-eth bench
///   zkml-eth --json bench --model mlp --no-ezkl
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct BenchArgs {
    /// Models to benchmark (repeatable); all examples when omitted.
    #[arg(long = "model", value_enum)]
    models: Vec<Example>,
    /// Skip EZKL even when it is installed.
    #[arg(long)]
    no_ezkl: bool,
    /// Python interpreter with ezkl 23.0.5 installed.
    #[arg(long, env = "ZKML_EZKL_PYTHON", value_name = "PYTHON")]
    ezkl_python: Option<PathBuf>,
    /// Cache of the development SRS and scratch space of the runs [default: as `setup`'s].
    #[arg(long, env = "ZKML_CACHE_DIR", value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Also benchmark aggregating N digits-MLP proofs (repeatable: --aggregate 1 --aggregate 4), with the
    /// aggregated verifier's runtime size and gas in revm. Needs the development SRS at the outer k
    /// (generated once, seconds to a minute per k).
    #[arg(long = "aggregate", value_name = "N", value_parser = clap::value_parser!(u32).range(1..=16))]
    aggregate: Vec<u32>,
    /// The outer k of --aggregate [default: as `zkml-eth aggregate` chooses].
    #[arg(long, value_name = "K", requires = "aggregate")]
    aggregate_k: Option<u32>,
    /// Aggregation layers of --aggregate, as `zkml-eth aggregate --layers` [default: as it chooses] (with 2,
    /// --aggregate-k is the second layer's).
    #[arg(long, value_name = "LAYERS", value_parser = clap::value_parser!(u8).range(1..=2), requires = "aggregate")]
    aggregate_layers: Option<u8>,
    #[command(flatten)]
    memory: MemoryOpts,
    /// The sizing policy of --aggregate, as `zkml-eth aggregate`'s.
    #[command(flatten)]
    policy: LayerPolicyOpts,
    /// Internal: run one phase in this process and print its figures as JSON.
    #[arg(long, hide = true, requires = "work")]
    phase: Option<Phase>,
    /// Internal: the phase's work directory.
    #[arg(long, hide = true)]
    work: Option<PathBuf>,
}

/// An example model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Example {
    /// The digits MLP (64 → 32 → ReLU → 10).
    Mlp,
    /// The digits CNN (conv, BatchNorm, pooling).
    Cnn,
}

impl Example {
    fn file(self) -> &'static str {
        match self {
            Self::Mlp => "mlp.onnx",
            Self::Cnn => "cnn.onnx",
        }
    }

    fn input_shape(self) -> Option<Vec<Vec<usize>>> {
        match self {
            Self::Mlp => None,
            Self::Cnn => Some(vec![vec![1, 1, 8, 8]]),
        }
    }
}

/// A measured phase run in a child process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Phase {
    Keygen,
    Prove,
    AggregateKeygen,
    AggregateProve,
}

/// The figures of one phase.
#[derive(Debug, Default, Serialize, Deserialize)]
struct PhaseReport {
    seconds: f64,
    peak_rss_mb: f64,
    size: Option<CircuitSize>,
    proof_bytes: Option<usize>,
    verify_ms: Option<f64>,
    verified: Option<bool>,
    prove_poseidon_s: Option<f64>,
    proof_poseidon_bytes: Option<usize>,
    aggregation: Option<AggregationFigures>,
}

/// What an aggregation phase measures beyond time and memory.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct AggregationFigures {
    k: u32,
    advice_columns: usize,
    /// The estimate of every layer's phases together (`zkml_prover::aggregate::MemoryEstimate`).
    estimated: MemoryEstimate,
    proof_bytes: usize,
    verified: bool,
    runtime_bytes: usize,
    gas: u64,
    evm_valid: bool,
    /// With two layers: the first one.
    first_layer: Option<FirstLayerFigures>,
}

/// The first of two aggregation layers.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct FirstLayerFigures {
    k: u32,
    advice_columns: usize,
    estimated: MemoryEstimate,
    /// Keygen or proving seconds of this layer alone (the phase's total includes both layers).
    seconds: f64,
}

/// One aggregation row of the benchmark.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AggregationRow {
    proofs: u32,
    /// 1 or 2, as given or as `zkml-eth aggregate` chooses (with 2, `k` and `advice_columns` are the
    /// second layer's, the times and peaks are both layers').
    layers: u8,
    k: u32,
    advice_columns: usize,
    first_layer_k: Option<u32>,
    first_layer_advice_columns: Option<usize>,
    first_layer_keygen_s: Option<f64>,
    first_layer_prove_s: Option<f64>,
    keygen_s: f64,
    prove_s: f64,
    peak_rss_keygen_mb: f64,
    peak_rss_prove_mb: f64,
    /// The keygen peak sizing plans for (`zkml_prover::aggregate::MemoryEstimate`, every layer), to check
    /// `peak_rss_keygen_mb` against.
    estimated_keygen_mb: f64,
    /// The proving peak sizing plans for, to check `peak_rss_prove_mb` against.
    estimated_prove_mb: f64,
    proof_bytes: usize,
    runtime_bytes: usize,
    verify_gas: u64,
    gas_per_inference: u64,
    verified: bool,
}

/// One row of the benchmark.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BenchRow {
    tool: String,
    model: Example,
    k: u32,
    rows: usize,
    /// Advice columns committed by the prover (gate, range lookup, table lookup).
    witness_columns: Option<usize>,
    /// Fixed columns of the gates' constants.
    fixed_columns: Option<usize>,
    advice_cells: Option<usize>,
    keygen_s: f64,
    prove_s: f64,
    prove_poseidon_s: Option<f64>,
    /// Bytes of the Poseidon-transcript proof (compressed points), the one aggregation takes.
    proof_poseidon_bytes: Option<usize>,
    verify_ms: f64,
    proof_bytes: usize,
    peak_rss_keygen_mb: f64,
    peak_rss_prove_mb: f64,
    verified: bool,
}

/// The benchmark report.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BenchReport {
    machine: String,
    srs: &'static str,
    rows: Vec<BenchRow>,
    aggregation: Vec<AggregationRow>,
    ezkl: String,
}

fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits")
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The development SRS, with the cache every other command uses.
fn dev_srs(cache_dir: Option<PathBuf>) -> SrsOpts {
    SrsOpts { srs: None, unsafe_dev_srs: true, cache_dir }
}

impl BenchArgs {
    /// Runs the command.
    pub fn run(self, out: Output) -> Result<()> {
        let cache = dev_srs(self.cache_dir.clone()).cache_dir()?;
        if let (Some(phase), Some(work)) = (self.phase, &self.work) {
            let model = *self.models.first().context("a phase needs --model")?;
            let report = match phase {
                Phase::Keygen | Phase::Prove => run_phase(phase, model, work, &cache)?,
                Phase::AggregateKeygen | Phase::AggregateProve => {
                    let n = *self.aggregate.first().context("an aggregation phase needs --aggregate")?;
                    let layers = self.aggregate_layers;
                    let sizing = (self.memory.budget_bytes()?, self.policy.policy());
                    run_aggregation_phase(phase, n, (self.aggregate_k, layers), sizing, work, &cache)?
                }
            };
            println!("{}", serde_json::to_string(&report)?);
            return Ok(());
        }
        if !self.aggregate.is_empty() {
            // The aggregation rows end by compiling their verifier: find the compiler before minutes of work.
            zkml_evm::solc::check_solc(None).context("--aggregate compiles the aggregated verifier")?;
        }
        let models = if self.models.is_empty() { vec![Example::Mlp, Example::Cnn] } else { self.models.clone() };
        let python = self.ezkl_python.clone().unwrap_or_else(|| repo_root().join(".zkml-cache/ezkl-venv/bin/python"));
        let mut rows = vec![];
        let mut ezkl_status = if self.no_ezkl { "skipped (--no-ezkl)".to_string() } else { String::new() };
        for model in models {
            let work = cache.join("bench").join(format!("{model:?}").to_lowercase());
            fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
            out.status(format!("{model:?}: keygen ..."));
            let keygen = child_phase(Phase::Keygen, model, &work, &cache)?;
            out.status(format!("{model:?}: keygen {:.2} s; proving ...", keygen.seconds));
            let proved = child_phase(Phase::Prove, model, &work, &cache)?;
            out.status(format!("{model:?}: proved in {:.2} s", proved.seconds));
            let size = keygen.size.context("the keygen phase reports the circuit size")?;
            let base = &size.params.base;
            rows.push(BenchRow {
                tool: "zkml-eth".into(),
                model,
                k: size.k,
                rows: 1 << size.k,
                witness_columns: Some(size.witness_columns()),
                fixed_columns: Some(base.num_fixed),
                advice_cells: Some(size.advice_cells),
                keygen_s: keygen.seconds,
                prove_s: proved.seconds,
                prove_poseidon_s: proved.prove_poseidon_s,
                proof_poseidon_bytes: proved.proof_poseidon_bytes,
                verify_ms: proved.verify_ms.unwrap_or(f64::NAN),
                proof_bytes: proved.proof_bytes.unwrap_or(0),
                peak_rss_keygen_mb: keygen.peak_rss_mb,
                peak_rss_prove_mb: proved.peak_rss_mb,
                verified: proved.verified.unwrap_or(false),
            });
            if !self.no_ezkl {
                out.status(format!("{model:?}: EZKL ..."));
                match run_ezkl(&python, model, &cache.join("bench").join(format!("ezkl-{model:?}").to_lowercase())) {
                    Ok(row) => {
                        ezkl_status = "ezkl 23.0.5".into();
                        rows.push(row);
                    }
                    Err(e) => {
                        ezkl_status = format!("not run: {e:#}");
                        out.status(format!("EZKL: {ezkl_status}"));
                    }
                }
            }
        }
        let mut aggregation = vec![];
        for &n in &self.aggregate {
            let work = cache.join("bench").join("aggregate");
            fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
            out.status(format!("aggregate {n}: keygen ..."));
            let mut extra = aggregation_args(n, self.aggregate_k, self.aggregate_layers, self.memory.max_memory);
            extra.extend(self.policy.to_args());
            let keygen = child_phase_with(Phase::AggregateKeygen, Example::Mlp, &work, &cache, &extra)?;
            out.status(format!("aggregate {n}: keygen {:.1} s; proving ...", keygen.seconds));
            let proved = child_phase_with(Phase::AggregateProve, Example::Mlp, &work, &cache, &extra)?;
            let figures = proved.aggregation.context("the aggregation phase reports its figures")?;
            out.status(format!("aggregate {n}: proved in {:.1} s", proved.seconds));
            let first = (keygen.aggregation.and_then(|f| f.first_layer), figures.first_layer.clone());
            aggregation.push(AggregationRow {
                proofs: n,
                layers: if figures.first_layer.is_some() { 2 } else { 1 },
                k: figures.k,
                advice_columns: figures.advice_columns,
                first_layer_k: first.1.as_ref().map(|f| f.k),
                first_layer_advice_columns: first.1.as_ref().map(|f| f.advice_columns),
                first_layer_keygen_s: first.0.map(|f| f.seconds),
                first_layer_prove_s: first.1.map(|f| f.seconds),
                keygen_s: keygen.seconds,
                prove_s: proved.seconds,
                peak_rss_keygen_mb: keygen.peak_rss_mb,
                peak_rss_prove_mb: proved.peak_rss_mb,
                estimated_keygen_mb: figures.estimated.keygen_bytes as f64 / MIB,
                estimated_prove_mb: figures.estimated.prove_bytes as f64 / MIB,
                proof_bytes: figures.proof_bytes,
                runtime_bytes: figures.runtime_bytes,
                verify_gas: figures.gas,
                gas_per_inference: figures.gas / u64::from(n),
                verified: figures.verified && figures.evm_valid,
            });
        }
        let report = BenchReport {
            machine: format!("{} cores", std::thread::available_parallelism().map_or(0, |n| n.get())),
            srs: "unsafe development SRS (benchmarking only)",
            rows,
            aggregation,
            ezkl: ezkl_status,
        };
        out.result(&report, || render(&report))
    }
}

fn render(report: &BenchReport) -> String {
    let mut text = format!(
        "{:<9} {:<4} {:>3} {:>8} {:>7} {:>9} {:>9} {:>9} {:>9} {:>7} {:>9} {:>9}\n",
        "tool",
        "model",
        "k",
        "witness",
        "fixed",
        "cells",
        "keygen s",
        "prove s",
        "verify ms",
        "proof B",
        "RSS kg MB",
        "RSS pr MB"
    );
    let opt = |v: Option<usize>| v.map_or("-".to_string(), |v| v.to_string());
    for r in &report.rows {
        text += &format!(
            "{:<9} {:<4} {:>3} {:>8} {:>7} {:>9} {:>9.2} {:>9.2} {:>9.1} {:>7} {:>9.0} {:>9.0}{}\n",
            r.tool,
            format!("{:?}", r.model).to_lowercase(),
            r.k,
            opt(r.witness_columns),
            opt(r.fixed_columns),
            opt(r.advice_cells),
            r.keygen_s,
            r.prove_s,
            r.verify_ms,
            r.proof_bytes,
            r.peak_rss_keygen_mb,
            r.peak_rss_prove_mb,
            if r.verified { "" } else { "  NOT VERIFIED" },
        );
    }
    if !report.aggregation.is_empty() {
        text += &format!(
            "\n{:<6} {:>3} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7} {:>8} {:>9} {:>9}\n",
            "proofs",
            "k",
            "advice",
            "keygen s",
            "prove s",
            "RSS kg MB",
            "est. kg",
            "RSS pr MB",
            "est. pr",
            "proof B",
            "code B",
            "gas",
            "gas/inf"
        );
        for r in &report.aggregation {
            text += &format!(
                "{:<6} {:>3} {:>7} {:>9.1} {:>9.1} {:>9.0} {:>9.0} {:>9.0} {:>9.0} {:>7} {:>8} {:>9} {:>9}{}\n",
                r.proofs,
                r.k,
                r.advice_columns,
                r.keygen_s,
                r.prove_s,
                r.peak_rss_keygen_mb,
                r.estimated_keygen_mb,
                r.peak_rss_prove_mb,
                r.estimated_prove_mb,
                r.proof_bytes,
                r.runtime_bytes,
                r.verify_gas,
                r.gas_per_inference,
                if r.verified { "" } else { "  NOT VERIFIED" },
            );
        }
    }
    text += &format!("\nSRS: {}. EZKL: {}. Machine: {}.", report.srs, report.ezkl, report.machine);
    text += "\nzkml-eth proves with the keccak (EVM) transcript; `prove_poseidon_s` and `proof_poseidon_bytes` in --json are for the Poseidon transcript aggregation takes (points compressed).";
    text
}

fn child_phase(phase: Phase, model: Example, work: &Path, cache: &Path) -> Result<PhaseReport> {
    child_phase_with(phase, model, work, cache, &[])
}

fn aggregation_args(n: u32, k: Option<u32>, layers: Option<u8>, max_memory: Option<f64>) -> Vec<String> {
    let mut args = vec!["--aggregate".to_string(), n.to_string()];
    if let Some(layers) = layers {
        args.extend(["--aggregate-layers".to_string(), layers.to_string()]);
    }
    if let Some(k) = k {
        args.extend(["--aggregate-k".to_string(), k.to_string()]);
    }
    if let Some(gb) = max_memory {
        args.extend(["--max-memory".to_string(), gb.to_string()]);
    }
    args
}

fn child_phase_with(phase: Phase, model: Example, work: &Path, cache: &Path, extra: &[String]) -> Result<PhaseReport> {
    let exe = std::env::current_exe().context("locating the zkml-eth binary")?;
    let phase_name = phase.to_possible_value().map_or_else(String::new, |v| v.get_name().to_string());
    let output = Command::new(exe)
        .args(["bench", "--phase", &phase_name, "--model", &format!("{model:?}").to_lowercase(), "--work"])
        .arg(work)
        .arg("--cache-dir")
        .arg(cache)
        .args(extra)
        .output()
        .with_context(|| format!("running the {phase_name} phase"))?;
    if !output.status.success() {
        bail!("the {phase_name} phase of {model:?} failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    serde_json::from_slice(&output.stdout).with_context(|| {
        format!("reading the {phase_name} phase's report: {}", String::from_utf8_lossy(&output.stdout))
    })
}

/// Bytes in the MB (MiB) the benchmark reports.
const MIB: f64 = 1024.0 * 1024.0;

/// Peak resident memory of this process so far, in MiB.
fn peak_rss_mb() -> f64 {
    peak_rss_bytes().map_or(f64::NAN, |bytes| bytes as f64 / MIB)
}

/// An example compiled with its default public layout and circuit size.
fn example_circuit(model: Example) -> Result<(CompiledModel, PublicLayout, CircuitSize)> {
    let dir = examples_dir();
    let compiled = CompiledModel::compile(
        &dir.join(model.file()),
        model.input_shape().as_deref(),
        &dir.join("calibration.json"),
        CalibrationOptions::default(),
    )?;
    let layout = PublicLayout::new(&compiled.quantized, Visibility::default());
    let size = auto_size(&compiled.quantized, &layout, None)?;
    Ok((compiled, layout, size))
}

fn run_phase(phase: Phase, model: Example, work: &Path, cache: &Path) -> Result<PhaseReport> {
    let dir = examples_dir();
    let (compiled, layout, size) = example_circuit(model)?;
    let quantized = &compiled.quantized;
    let params = dev_srs(Some(cache.to_path_buf()))
        .load(size.k, &Output { json: true, quiet: true, ..Output::default() })?
        .params;
    let key_cache = work.join("keys");
    match phase {
        Phase::Keygen => {
            // Keygen from scratch, keys written to disk, as EZKL's `setup` does.
            if key_cache.exists() {
                fs::remove_dir_all(&key_cache).with_context(|| format!("clearing {}", key_cache.display()))?;
            }
            let start = Instant::now();
            let (_, status) = load_or_keygen(&key_cache, &params, quantized, &layout, &size)?;
            let seconds = start.elapsed().as_secs_f64();
            if status != CacheStatus::Miss {
                bail!("the bench key cache {} was not empty", key_cache.display());
            }
            Ok(PhaseReport { seconds, peak_rss_mb: peak_rss_mb(), size: Some(size), ..Default::default() })
        }
        Phase::Prove => {
            let (keys, _) = load_or_keygen(&key_cache, &params, quantized, &layout, &size)?;
            let data = DataSet::load(&dir.join("test.json"), quantized.input_len())?;
            let values = execute(quantized, &data.inputs[0])?;
            let input: Vec<i64> = quantized.inputs.iter().flat_map(|&i| values[i].data.clone()).collect();

            let start = Instant::now();
            let proof = prove(&params, &keys, quantized, &input, Transcript::Keccak)?;
            let seconds = start.elapsed().as_secs_f64();
            let peak_rss_mb = peak_rss_mb();
            let start = Instant::now();
            let verified = verify(&params, keys.vk(), &proof);
            let verify_ms = start.elapsed().as_secs_f64() * 1e3;
            let start = Instant::now();
            let poseidon = prove(&params, &keys, quantized, &input, Transcript::Poseidon)?;
            let prove_poseidon_s = start.elapsed().as_secs_f64();
            Ok(PhaseReport {
                seconds,
                peak_rss_mb,
                size: None,
                proof_bytes: Some(proof.proof.len()),
                verify_ms: Some(verify_ms),
                verified: Some(verified && verify(&params, keys.vk(), &poseidon)),
                prove_poseidon_s: Some(prove_poseidon_s),
                proof_poseidon_bytes: Some(poseidon.proof.len()),
                aggregation: None,
            })
        }
        Phase::AggregateKeygen | Phase::AggregateProve => bail!("not a single-model phase"),
    }
}

/// Aggregation of `n` digits-MLP proofs in `layers` (1, 2, or as `zkml-eth aggregate` chooses) at outer `k`
/// (the EVM layer's), sized within `memory_budget` by `policy` where not given: keygen from scratch, or
/// proving with cached keys plus native and revm verification of the result.
fn run_aggregation_phase(
    phase: Phase,
    n: u32,
    (k, layers): (Option<u32>, Option<u8>),
    (memory_budget, policy): (u64, LayerPolicy),
    work: &Path,
    cache: &Path,
) -> Result<PhaseReport> {
    let dir = examples_dir();
    let (compiled, layout, size) = example_circuit(Example::Mlp)?;
    let quantized = &compiled.quantized;
    let quiet = Output { json: true, quiet: true, ..Output::default() };
    let srs = dev_srs(Some(cache.to_path_buf()));
    let inner_params = srs.load(size.k, &quiet)?.params;
    let (inner_keys, _) = load_or_keygen(&work.join("keys"), &inner_params, quantized, &layout, &size)?;
    let data = DataSet::load(&dir.join("test.json"), quantized.input_len())?;
    let mut proofs = Vec::with_capacity(n as usize);
    for i in 0..n as usize {
        let values = execute(quantized, &data.inputs[i % data.inputs.len()])?;
        let input: Vec<i64> = quantized.inputs.iter().flat_map(|&index| values[index].data.clone()).collect();
        let proof = prove(&inner_params, &inner_keys, quantized, &input, Transcript::Poseidon)?;
        proofs.push(aggregate::InnerProof::new(&inner_params, inner_keys.vk(), &proof)?);
    }
    let protocols: Vec<_> = proofs.iter().map(|p| p.protocol().clone()).collect();
    // The layers as `zkml-eth aggregate` chooses them, with the sizes its plan already found.
    let (layers, planned_k, planned_first_k) = match (layers, k) {
        (Some(layers), _) => (layers, None, None),
        (None, Some(_)) => (1, None, None),
        (None, None) => match aggregate::plan_layers(&inner_params, &protocols, memory_budget, &policy)? {
            aggregate::LayerPlan::One(size) => (1, Some(size.k), None),
            aggregate::LayerPlan::Two { first, .. } => (2, None, Some(first.k)),
        },
    };
    let suffix = if layers == 2 { "-x2" } else { "" };
    let key_cache = work.join(format!("agg-{n}{suffix}"));
    if phase == Phase::AggregateKeygen && key_cache.exists() {
        fs::remove_dir_all(&key_cache).with_context(|| format!("clearing {}", key_cache.display()))?;
    }
    let fresh_keys = |params: &ParamsKZG<Bn256>, protocols: &[_]| -> Result<_> {
        let start = Instant::now();
        let (keys, status) = aggregate::load_or_keygen(&key_cache, params, protocols)?;
        if phase == Phase::AggregateKeygen && status != CacheStatus::Miss {
            bail!("the bench aggregation key cache {} was not empty", key_cache.display());
        }
        Ok((keys, start.elapsed().as_secs_f64()))
    };

    // The first of two layers: sized for speed, proven with a Poseidon transcript, aggregated again.
    let mut first_layer = None;
    let (protocols, proofs) = if layers == 2 {
        let max_columns = |_| policy.first_layer_max_advice_columns;
        let first_k = match planned_first_k {
            Some(k) => k,
            None => aggregate::auto_k_for(&inner_params, &protocols, memory_budget, max_columns)?.k,
        };
        let params = srs.load(first_k, &quiet)?.params;
        let (keys, keygen_s) = fresh_keys(&params, &protocols)?;
        let num_instance = keys.shape.num_instance;
        let mut figures = FirstLayerFigures {
            k: first_k,
            advice_columns: keys.shape.config.num_advice,
            estimated: keys.shape.memory_estimate(),
            seconds: keygen_s,
        };
        let next = if phase == Phase::AggregateProve {
            let start = Instant::now();
            let proof = aggregate::aggregate_with(&params, &keys, &proofs, Transcript::Poseidon)?;
            figures.seconds = start.elapsed().as_secs_f64();
            if !aggregate::verify_with(&params, keys.vk(), &proof, Transcript::Poseidon) {
                bail!("the first layer's proof does not verify");
            }
            vec![aggregate::InnerProof::from_aggregated(&params, keys.vk(), &proof)]
        } else {
            vec![]
        };
        let protocol = aggregate::aggregated_protocol(&params, keys.vk(), num_instance);
        first_layer = Some(figures);
        (vec![protocol], next)
    } else {
        (protocols, proofs)
    };
    let max_columns =
        |k| if layers == 2 { policy.second_layer_max_advice_columns } else { policy.max_advice_columns(k) };
    let k = match k.or(planned_k) {
        Some(k) => k,
        None => aggregate::auto_k_for(&inner_params, &protocols, memory_budget, max_columns)?.k,
    };
    let params = srs.load(k, &quiet)?.params;
    let (keys, keygen_s) = fresh_keys(&params, &protocols)?;
    let outer_estimate = keys.shape.memory_estimate();
    let mut figures = AggregationFigures {
        k,
        advice_columns: keys.shape.config.num_advice,
        estimated: first_layer.as_ref().map_or(outer_estimate, |first| first.estimated.then(outer_estimate)),
        first_layer: first_layer.clone(),
        ..Default::default()
    };
    match phase {
        Phase::AggregateKeygen => {
            let seconds = keygen_s + first_layer.map_or(0.0, |f| f.seconds);
            Ok(PhaseReport { seconds, peak_rss_mb: peak_rss_mb(), aggregation: Some(figures), ..Default::default() })
        }
        Phase::AggregateProve => {
            let start = Instant::now();
            let proof = aggregate::aggregate(&params, &keys, &proofs)?;
            let seconds = start.elapsed().as_secs_f64() + first_layer.map_or(0.0, |f| f.seconds);
            let peak_rss_mb = peak_rss_mb();
            let verified = aggregate::verify(&params, keys.vk(), &proof);
            let kind = VerifierKind::Aggregated;
            let compiled = build_verifier(&params, keys.vk(), proof.instances.len(), kind, &find_solc(None))?.compiled;
            let mut chain = LocalVerifier::deploy(&compiled.creation)?;
            let outcome = chain.verify(&proof.instances, &proof.proof, DEFAULT_CALL_GAS)?;
            figures.proof_bytes = proof.proof.len();
            figures.verified = verified;
            figures.runtime_bytes = chain.runtime_bytes;
            figures.gas = outcome.gas_used;
            figures.evm_valid = outcome.success;
            Ok(PhaseReport { seconds, peak_rss_mb, aggregation: Some(figures), ..Default::default() })
        }
        Phase::Keygen | Phase::Prove => bail!("not an aggregation phase"),
    }
}

/// EZKL's figures, from `tools/bench/ezkl_bench.py`.
#[derive(Debug, Deserialize)]
struct EzklReport {
    #[serde(default)]
    available: Option<bool>,
    #[serde(default)]
    reason: Option<String>,
    k: Option<u32>,
    rows: Option<usize>,
    keygen_s: Option<f64>,
    prove_s: Option<f64>,
    verify_s: Option<f64>,
    verify_ok: Option<bool>,
    proof_bytes: Option<usize>,
    peak_rss_keygen_mb: Option<f64>,
    peak_rss_prove_mb: Option<f64>,
}

fn run_ezkl(python: &Path, model: Example, work: &Path) -> Result<BenchRow> {
    if !python.exists() {
        bail!("{} not found (run `make bench`, or set ZKML_EZKL_PYTHON)", python.display());
    }
    let dir = examples_dir();
    let output = Command::new(python)
        .arg(repo_root().join("tools/bench/ezkl_bench.py"))
        .arg("--onnx")
        .arg(dir.join(model.file()))
        .arg("--data")
        .arg(dir.join("test.json"))
        .arg("--calibration")
        .arg(dir.join("calibration.json"))
        .arg("--workdir")
        .arg(work)
        .output()
        .with_context(|| format!("running {}", python.display()))?;
    let report: EzklReport = serde_json::from_slice(&output.stdout).with_context(|| {
        format!("EZKL printed no report (exit {}): {}", output.status, String::from_utf8_lossy(&output.stderr).trim())
    })?;
    if report.available == Some(false) {
        bail!("ezkl is not installed: {}", report.reason.unwrap_or_default());
    }
    let need = |v: Option<f64>, what: &str| v.with_context(|| format!("EZKL's report has no {what}"));
    Ok(BenchRow {
        tool: "ezkl".into(),
        model,
        k: report.k.context("EZKL's report has no k")?,
        rows: report.rows.unwrap_or(0),
        witness_columns: None,
        fixed_columns: None,
        advice_cells: None,
        keygen_s: need(report.keygen_s, "keygen time")?,
        prove_s: need(report.prove_s, "prove time")?,
        prove_poseidon_s: None,
        proof_poseidon_bytes: None,
        verify_ms: need(report.verify_s, "verify time")? * 1e3,
        proof_bytes: report.proof_bytes.unwrap_or(0),
        peak_rss_keygen_mb: need(report.peak_rss_keygen_mb, "keygen RSS")?,
        peak_rss_prove_mb: need(report.peak_rss_prove_mb, "prove RSS")?,
        verified: report.verify_ok.unwrap_or(false),
    })
}
