//! `zkml-eth bench`: circuit size, keygen and proving time, peak memory, proof size, verifier gas and
//! fidelity for each example model or any ONNX file with its data, beside EZKL's figures on the same file
//! when EZKL is installed (and its error where it cannot prove it).
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
    keys::{CacheStatus, from_hex, load_or_keygen},
    prove::{Transcript, prove, verify},
};

use crate::{
    cmd::peak_rss_bytes,
    opts::{LayerPolicyOpts, MemoryOpts, SrsOpts},
    output::Output,
};

/// Benchmark proving on the example models or on any ONNX file, beside EZKL when it is installed.
///
/// EZKL is looked for as `$ZKML_EZKL_PYTHON` or `.zkml-cache/ezkl-venv/bin/python` (`make bench`
/// installs it there with pip). The SRS is the unsafe development SRS, generated once and cached.
///
/// Examples:
///   zkml-eth bench
///   zkml-eth --json bench --model mlp --no-ezkl
///   zkml-eth bench --model lenet5 --model transformer
///   zkml-eth bench model.onnx --data data.json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct BenchArgs {
    /// An ONNX file to benchmark instead of the examples; its first --data sample is proved.
    #[arg(value_name = "MODEL.onnx", conflicts_with = "models", requires = "data")]
    onnx: Option<PathBuf>,
    /// The data of MODEL.onnx ({"inputs": [[...], ...], "labels": [...]}): the first sample is proved, every
    /// sample measures fidelity, and they calibrate unless --calibration is given.
    #[arg(long, value_name = "DATA.json", requires = "onnx")]
    data: Option<PathBuf>,
    /// Calibration data of MODEL.onnx [default: --data].
    #[arg(long, value_name = "CAL.json", requires = "onnx")]
    calibration: Option<PathBuf>,
    /// Concrete shape of each input of MODEL.onnx, as `compile --input-shape`.
    #[arg(long, value_name = "D0,D1,...", value_parser = crate::cmd::compile::parse_shape, requires = "onnx")]
    input_shape: Vec<Vec<usize>>,
    /// Example models to benchmark (repeatable); mlp and cnn when neither this nor MODEL.onnx is given.
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
    /// Internal: the name MODEL.onnx is reported under.
    #[arg(long, hide = true)]
    name: Option<String>,
}

/// An example model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Example {
    /// The digits MLP (64 → 32 → ReLU → 10).
    Mlp,
    /// The digits CNN (conv, BatchNorm, pooling).
    Cnn,
    /// LeNet-5 on 28x28 digits (examples/lenet5).
    Lenet5,
    /// The LeNet of EZKL's mnist_classifier notebook (sigmoid, no padding), on the same 28x28 digits
    /// (examples/lenet5/ezkl-lenet.onnx).
    #[value(name = "ezkl-lenet")]
    #[serde(rename = "ezkl-lenet")]
    EzklLenet,
    /// A two-block transformer on digit sequences (examples/transformer).
    Transformer,
}

impl Example {
    /// The model, its data and its name in the report.
    fn target(self) -> Target {
        let examples = repo_root().join("examples");
        let (name, dir, file, input_shapes) = match self {
            Self::Mlp => ("mlp", examples.join("digits"), "mlp.onnx", None),
            Self::Cnn => ("cnn", examples.join("digits"), "cnn.onnx", Some(vec![vec![1, 1, 8, 8]])),
            Self::Lenet5 => ("lenet5", examples.join("lenet5"), "model.onnx", None),
            Self::EzklLenet => ("ezkl-lenet", examples.join("lenet5"), "ezkl-lenet.onnx", None),
            Self::Transformer => ("transformer", examples.join("transformer"), "model.onnx", None),
        };
        Target {
            name: name.to_owned(),
            onnx: dir.join(file),
            input_shapes,
            calibration: dir.join("calibration.json"),
            data: dir.join("test.json"),
        }
    }
}

/// What one benchmark row proves: an ONNX file, its calibration data and the data it proves and measures
/// fidelity on (the first sample is proved).
#[derive(Clone, Debug)]
struct Target {
    name: String,
    onnx: PathBuf,
    input_shapes: Option<Vec<Vec<usize>>>,
    calibration: PathBuf,
    data: PathBuf,
}

impl Target {
    /// The arguments that make a child phase benchmark this target.
    fn args(&self) -> Vec<std::ffi::OsString> {
        let mut args: Vec<std::ffi::OsString> =
            vec![self.onnx.clone().into(), "--data".into(), self.data.clone().into()];
        args.extend([
            "--calibration".into(),
            self.calibration.clone().into(),
            "--name".into(),
            self.name.clone().into(),
        ]);
        for shape in self.input_shapes.iter().flatten() {
            let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
            args.extend(["--input-shape".into(), dims.join(",").into()]);
        }
        args
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
    /// Gas of the verifier contract on the proof, in revm.
    verify_gas: Option<u64>,
    /// The verifier contract's runtime bytes.
    verifier_bytes: Option<usize>,
    /// Why there is no single EVM verifier (too many columns for EIP-170).
    verifier_error: Option<String>,
    fidelity: Option<FidelityFigures>,
}

/// How closely the quantized model follows the float model on the data.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FidelityFigures {
    samples: usize,
    /// Fraction of samples whose quantized output has the float output's argmax (classifiers).
    argmax_agreement: Option<f64>,
    /// Accuracy against the data's labels, in float and quantized.
    float_accuracy: Option<f64>,
    quantized_accuracy: Option<f64>,
    max_abs_error: f64,
    mean_abs_error: f64,
    scale: u8,
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
    model: String,
    k: u32,
    rows: usize,
    /// Advice columns committed by the prover (gate, range lookup, table lookup).
    witness_columns: Option<usize>,
    /// Fixed columns of the gates' constants.
    fixed_columns: Option<usize>,
    advice_cells: Option<usize>,
    /// Where the gate cells go, by kind of op, most first.
    cells_by_op: Vec<zkml_circuit::circuit::OpCells>,
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
    /// Gas of the EVM verifier on the proof (revm).
    verify_gas: Option<u64>,
    verifier_bytes: Option<usize>,
    /// Why there is no single EVM verifier (too many columns for EIP-170: aggregate instead).
    verifier_error: Option<String>,
    fidelity: Option<FidelityFigures>,
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
    /// Why EZKL could not prove a model, per model.
    ezkl_errors: Vec<EzklError>,
}

/// A model EZKL did not prove, and what it said.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EzklError {
    model: String,
    error: String,
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
            let report = match phase {
                Phase::Keygen | Phase::Prove => {
                    let target = self.targets()?.into_iter().next().context("a phase needs a model")?;
                    run_phase(phase, &target, work, &cache)?
                }
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
        let targets = self.targets()?;
        let python = self.ezkl_python.clone().unwrap_or_else(|| repo_root().join(".zkml-cache/ezkl-venv/bin/python"));
        let mut rows = vec![];
        let mut ezkl_status = if self.no_ezkl { "skipped (--no-ezkl)".to_string() } else { String::new() };
        let mut ezkl_errors = vec![];
        for target in &targets {
            let model = &target.name;
            let work = cache.join("bench").join(model);
            fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
            out.status(format!("{model}: keygen ..."));
            let keygen = child_phase(Phase::Keygen, target, &work, &cache)?;
            out.status(format!("{model}: keygen {:.2} s; proving ...", keygen.seconds));
            let proved = child_phase(Phase::Prove, target, &work, &cache)?;
            out.status(format!("{model}: proved in {:.2} s", proved.seconds));
            let size = keygen.size.context("the keygen phase reports the circuit size")?;
            rows.push(BenchRow {
                tool: "zkml-eth".into(),
                model: model.clone(),
                k: size.k,
                rows: 1 << size.k,
                witness_columns: Some(size.witness_columns()),
                fixed_columns: Some(size.fixed_columns()),
                advice_cells: Some(size.advice_cells),
                cells_by_op: size.cells_by_op.clone(),
                keygen_s: keygen.seconds,
                prove_s: proved.seconds,
                prove_poseidon_s: proved.prove_poseidon_s,
                proof_poseidon_bytes: proved.proof_poseidon_bytes,
                verify_ms: proved.verify_ms.unwrap_or(f64::NAN),
                proof_bytes: proved.proof_bytes.unwrap_or(0),
                peak_rss_keygen_mb: keygen.peak_rss_mb,
                peak_rss_prove_mb: proved.peak_rss_mb,
                verified: proved.verified.unwrap_or(false),
                verify_gas: proved.verify_gas,
                verifier_bytes: proved.verifier_bytes,
                verifier_error: proved.verifier_error,
                fidelity: proved.fidelity,
            });
            if !self.no_ezkl {
                out.status(format!("{model}: EZKL ..."));
                match run_ezkl(&python, target, &cache.join("bench").join(format!("ezkl-{model}"))) {
                    Ok(row) => {
                        ezkl_status = "ezkl 23.0.5".into();
                        rows.push(row);
                    }
                    Err(EzklFailure::Unavailable(e)) => {
                        ezkl_status = format!("not run: {e:#}");
                        out.status(format!("EZKL: {ezkl_status}"));
                    }
                    Err(EzklFailure::Failed(e)) => {
                        ezkl_status = "ezkl 23.0.5".into();
                        out.status(format!("EZKL cannot prove {model}: {e:#}"));
                        ezkl_errors.push(EzklError { model: model.clone(), error: format!("{e:#}") });
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
            let mlp = Example::Mlp.target();
            let keygen = child_phase_with(Phase::AggregateKeygen, &mlp, &work, &cache, &extra)?;
            out.status(format!("aggregate {n}: keygen {:.1} s; proving ...", keygen.seconds));
            let proved = child_phase_with(Phase::AggregateProve, &mlp, &work, &cache, &extra)?;
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
            ezkl_errors,
        };
        out.result(&report, || render(&report))
    }

    /// The models to benchmark: MODEL.onnx with its data, the --model examples, or mlp and cnn.
    fn targets(&self) -> Result<Vec<Target>> {
        if let Some(onnx) = &self.onnx {
            let data = self.data.clone().context("MODEL.onnx needs --data")?;
            let name = match &self.name {
                Some(name) => name.clone(),
                None => onnx.file_stem().map_or("model".into(), |s| s.to_string_lossy().into_owned()),
            };
            return Ok(vec![Target {
                name,
                onnx: onnx.clone(),
                input_shapes: (!self.input_shape.is_empty()).then(|| self.input_shape.clone()),
                calibration: self.calibration.clone().unwrap_or_else(|| data.clone()),
                data,
            }]);
        }
        let models = if self.models.is_empty() { vec![Example::Mlp, Example::Cnn] } else { self.models.clone() };
        Ok(models.into_iter().map(Example::target).collect())
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
            r.model,
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
    let fidelity: Vec<String> = report
        .rows
        .iter()
        .filter_map(|r| r.fidelity.as_ref().map(|f| (r, f)))
        .map(|(r, f)| {
            let agreement =
                f.argmax_agreement.map_or(String::new(), |a| format!(", argmax agrees on {:.1}%", a * 100.0));
            let accuracy = match (f.float_accuracy, f.quantized_accuracy) {
                (Some(float), Some(q)) => format!(", accuracy {:.1}% (float {:.1}%)", q * 100.0, float * 100.0),
                _ => String::new(),
            };
            let gas = match (r.verify_gas, &r.verifier_error) {
                (Some(g), _) => format!("verifier gas {g}, "),
                (None, Some(e)) => format!("no single verifier ({e}), "),
                (None, None) => String::new(),
            };
            let cells = crate::cmd::setup::cells_by_op_text(&r.cells_by_op);
            format!(
                "{}: {gas}scale 2^{}, max |error| {:.4}, mean {:.5} over {} samples{agreement}{accuracy}\n  cells: {cells}",
                r.model, f.scale, f.max_abs_error, f.mean_abs_error, f.samples
            )
        })
        .collect();
    if !fidelity.is_empty() {
        text += &format!("\n{}\n", fidelity.join("\n"));
    }
    for e in &report.ezkl_errors {
        text += &format!("\nEZKL cannot prove {}: {}", e.model, e.error);
    }
    text += &format!("\nSRS: {}. EZKL: {}. Machine: {}.", report.srs, report.ezkl, report.machine);
    text += "\nzkml-eth proves with the keccak (EVM) transcript; `prove_poseidon_s` and `proof_poseidon_bytes` in --json are for the Poseidon transcript aggregation takes (points compressed).";
    text
}

fn child_phase(phase: Phase, target: &Target, work: &Path, cache: &Path) -> Result<PhaseReport> {
    child_phase_with(phase, target, work, cache, &[])
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

fn child_phase_with(phase: Phase, target: &Target, work: &Path, cache: &Path, extra: &[String]) -> Result<PhaseReport> {
    let exe = std::env::current_exe().context("locating the zkml-eth binary")?;
    let phase_name = phase.to_possible_value().map_or_else(String::new, |v| v.get_name().to_string());
    let model = &target.name;
    let output = Command::new(exe)
        .args(["bench", "--phase", &phase_name])
        .args(target.args())
        .arg("--work")
        .arg(work)
        .arg("--cache-dir")
        .arg(cache)
        .args(extra)
        .output()
        .with_context(|| format!("running the {phase_name} phase"))?;
    if !output.status.success() {
        bail!("the {phase_name} phase of {model} failed: {}", String::from_utf8_lossy(&output.stderr).trim());
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

/// A target compiled with its default public layout and circuit size.
fn target_circuit(target: &Target) -> Result<(CompiledModel, PublicLayout, CircuitSize)> {
    let compiled = CompiledModel::compile(
        &target.onnx,
        target.input_shapes.as_deref(),
        &target.calibration,
        CalibrationOptions::default(),
    )?;
    let layout = PublicLayout::new(&compiled.quantized, Visibility::default());
    let size = auto_size(&compiled.quantized, &layout, None)?;
    Ok((compiled, layout, size))
}

fn run_phase(phase: Phase, target: &Target, work: &Path, cache: &Path) -> Result<PhaseReport> {
    let (compiled, layout, size) = target_circuit(target)?;
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
            let data = DataSet::load(&target.data, quantized.input_len())?;
            let values = execute(quantized, &data.inputs[0]).context("the first data sample")?;
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
            // The EVM verifier a user deploys, run on the proof in revm; a circuit too wide for one (EIP-170)
            // is reported, not fatal: it is verified on chain through aggregation.
            let kind = VerifierKind::Single;
            let (evm, verifier_error) =
                match build_verifier(&params, keys.vk(), proof.instances.len(), kind, &find_solc(None)) {
                    Ok(verifier) => {
                        let mut chain = LocalVerifier::deploy(&verifier.compiled.creation)?;
                        let outcome = chain.verify(&proof.instances, &proof.proof, DEFAULT_CALL_GAS)?;
                        (Some((outcome, chain.runtime_bytes)), None)
                    }
                    Err(e) => (None, Some(format!("{e:#}"))),
                };
            let report = zkml_model::fidelity::fidelity(&compiled, &data)?;
            let fidelity = FidelityFigures {
                samples: report.samples,
                argmax_agreement: report.classification.then_some(report.argmax_agreement),
                float_accuracy: report.float_accuracy,
                quantized_accuracy: report.quantized_accuracy,
                max_abs_error: report.max_abs_error,
                mean_abs_error: report.mean_abs_error,
                scale: report.scale,
            };
            Ok(PhaseReport {
                seconds,
                peak_rss_mb,
                size: None,
                proof_bytes: Some(proof.proof.len()),
                verify_ms: Some(verify_ms),
                verified: Some(
                    verified && verify(&params, keys.vk(), &poseidon) && evm.as_ref().is_none_or(|(o, _)| o.success),
                ),
                prove_poseidon_s: Some(prove_poseidon_s),
                proof_poseidon_bytes: Some(poseidon.proof.len()),
                aggregation: None,
                verify_gas: evm.as_ref().map(|(o, _)| o.gas_used),
                verifier_bytes: evm.as_ref().map(|(_, bytes)| *bytes),
                verifier_error,
                fidelity: Some(fidelity),
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
    let mlp = Example::Mlp.target();
    let (compiled, layout, size) = target_circuit(&mlp)?;
    let quantized = &compiled.quantized;
    let quiet = Output { json: true, quiet: true, ..Output::default() };
    let srs = dev_srs(Some(cache.to_path_buf()));
    let inner_params = srs.load(size.k, &quiet)?.params;
    let (inner_keys, _) = load_or_keygen(&work.join("keys"), &inner_params, quantized, &layout, &size)?;
    let data = DataSet::load(&mlp.data, quantized.input_len())?;
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
    /// EZKL's Solidity verifier (create_evm_verifier) and its proof's calldata (encode_evm_calldata).
    #[serde(default)]
    evm_verifier_sol: Option<PathBuf>,
    #[serde(default)]
    evm_calldata_hex: Option<PathBuf>,
    /// Why EZKL made no EVM verifier.
    #[serde(default)]
    evm_error: Option<String>,
}

/// EZKL's Solidity verifier, compiled by the solc zkml-eth uses and run in revm on the calldata EZKL encodes
/// for its proof: its gas and runtime size, or why there are none.
fn ezkl_verifier_gas(report: &EzklReport) -> Result<(u64, usize)> {
    let (Some(sol), Some(calldata)) = (&report.evm_verifier_sol, &report.evm_calldata_hex) else {
        bail!("{}", report.evm_error.as_deref().unwrap_or("EZKL wrote no EVM verifier"));
    };
    let source = std::fs::read_to_string(sol).with_context(|| format!("reading EZKL's verifier {}", sol.display()))?;
    let compiled = zkml_evm::solc::compile_optimized(&find_solc(None), "Verifier.sol", &source, "Halo2Verifier")
        .context("compiling EZKL's verifier")?;
    let hex = std::fs::read_to_string(calldata).with_context(|| format!("reading {}", calldata.display()))?;
    let calldata = from_hex(hex.trim()).with_context(|| format!("{} is not hex", calldata.display()))?;
    let mut chain = LocalVerifier::deploy(&compiled.creation).context("deploying EZKL's verifier in revm")?;
    let outcome = chain.call(calldata, DEFAULT_CALL_GAS)?;
    anyhow::ensure!(outcome.success, "EZKL's verifier rejected EZKL's proof in revm");
    Ok((outcome.gas_used, chain.runtime_bytes))
}

/// Why there is no EZKL row.
enum EzklFailure {
    /// EZKL is not installed (or not runnable): no EZKL row for any model.
    Unavailable(anyhow::Error),
    /// EZKL ran on this model and failed: its error is the model's row.
    Failed(anyhow::Error),
}

fn run_ezkl(python: &Path, target: &Target, work: &Path) -> std::result::Result<BenchRow, EzklFailure> {
    if !python.exists() {
        return Err(EzklFailure::Unavailable(anyhow::anyhow!(
            "{} not found (run `make bench`, or set ZKML_EZKL_PYTHON)",
            python.display()
        )));
    }
    let output = Command::new(python)
        .arg(repo_root().join("tools/bench/ezkl_bench.py"))
        .arg("--onnx")
        .arg(&target.onnx)
        .arg("--data")
        .arg(&target.data)
        .arg("--calibration")
        .arg(&target.calibration)
        .arg("--workdir")
        .arg(work)
        .output()
        .with_context(|| format!("running {}", python.display()))
        .map_err(EzklFailure::Unavailable)?;
    let report: EzklReport = serde_json::from_slice(&output.stdout)
        .with_context(|| {
            let stderr = String::from_utf8_lossy(&output.stderr);
            // The phase that failed and EZKL's own last words, not its whole log.
            let tail: Vec<&str> = stderr.trim().lines().rev().take(6).collect();
            format!("EZKL failed (exit {}): {}", output.status, tail.into_iter().rev().collect::<Vec<_>>().join(" | "))
        })
        .map_err(EzklFailure::Failed)?;
    if report.available == Some(false) {
        return Err(EzklFailure::Unavailable(anyhow::anyhow!(
            "ezkl is not installed: {}",
            report.reason.unwrap_or_default()
        )));
    }
    ezkl_row(report, &target.name).map_err(EzklFailure::Failed)
}

fn ezkl_row(report: EzklReport, model: &str) -> Result<BenchRow> {
    let need = |v: Option<f64>, what: &str| v.with_context(|| format!("EZKL's report has no {what}"));
    let (verify_gas, verifier_bytes, verifier_error) = match ezkl_verifier_gas(&report) {
        Ok((gas, bytes)) => (Some(gas), Some(bytes), None),
        Err(e) => (None, None, Some(format!("{e:#}"))),
    };
    Ok(BenchRow {
        tool: "ezkl".into(),
        model: model.to_string(),
        k: report.k.context("EZKL's report has no k")?,
        rows: report.rows.unwrap_or(0),
        witness_columns: None,
        fixed_columns: None,
        advice_cells: None,
        cells_by_op: vec![],
        keygen_s: need(report.keygen_s, "keygen time")?,
        prove_s: need(report.prove_s, "prove time")?,
        prove_poseidon_s: None,
        proof_poseidon_bytes: None,
        verify_ms: need(report.verify_s, "verify time")? * 1e3,
        proof_bytes: report.proof_bytes.unwrap_or(0),
        peak_rss_keygen_mb: need(report.peak_rss_keygen_mb, "keygen RSS")?,
        peak_rss_prove_mb: need(report.peak_rss_prove_mb, "prove RSS")?,
        verified: report.verify_ok.unwrap_or(false),
        verify_gas,
        verifier_bytes,
        verifier_error,
        fidelity: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--model NAME` reaches a committed ONNX file and its data, under the name the report gives it.
    #[test]
    fn every_example_names_committed_files() {
        for example in Example::value_variants() {
            let target = example.target();
            let flag = example.to_possible_value().expect("every example is a --model value");
            assert_eq!(target.name, flag.get_name(), "{example:?} is reported under its --model name");
            for file in [&target.onnx, &target.calibration, &target.data] {
                assert!(file.is_file(), "{example:?}: {} is not committed", file.display());
            }
        }
    }
}
