//! `zkml-eth setup`: size a compiled model's circuit, make (or reuse) its keys and write `circuit.json`
//! and `vk.bin` beside the model. Also the pieces `prove` and `verify` share: the SRS options and the
//! `circuit.json` file.

use std::{
    path::{Path, PathBuf},
    time::Instant,
};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};
use zkml_circuit::{
    InputVisibility, ModelCircuitParams, OutputVisibility, PublicLayout, Visibility, WeightVisibility,
    public::SectionKind,
    sizing::{CircuitSize, MAX_K, MIN_K, RangeChecks, auto_size, size_at},
};
use zkml_model::CompiledModel;
use zkml_prover::keys::{CacheStatus, Hash32, circuit_hash, key_dir, load_or_keygen, to_hex, write_vk};

use crate::opts::{LoadedSrs, SrsOpts};
use crate::output::Output;

pub use zkml_model::artifact::{CIRCUIT_FILE, VK_FILE};
/// `format` of [`CIRCUIT_FILE`].
pub const CIRCUIT_FORMAT: &str = "zkml-eth-circuit/1";

/// Input visibility on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputArg {
    /// The quantized inputs are public instances.
    Public,
    /// Only a Poseidon hash of the inputs is public.
    Hashed,
    /// Nothing about the inputs is public.
    Private,
}

/// Weight visibility on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WeightsArg {
    /// Weights are constants of the verifying key.
    Fixed,
    /// Weights are private; their Poseidon commitment is public.
    Committed,
}

/// Output visibility on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputArg {
    /// The quantized outputs are public instances.
    Public,
    /// Only a Poseidon hash of the outputs is public.
    Hashed,
}

/// Range checks on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RangeArg {
    /// A lookup table: fewest rows, fastest to prove.
    Lookup,
    /// Bit decomposition: no lookup argument, so a smaller proof, cheaper to verify and to aggregate.
    Bits,
}

impl From<RangeArg> for RangeChecks {
    fn from(v: RangeArg) -> Self {
        match v {
            RangeArg::Lookup => Self::Lookup,
            RangeArg::Bits => Self::Bits,
        }
    }
}

impl From<InputArg> for InputVisibility {
    fn from(v: InputArg) -> Self {
        match v {
            InputArg::Public => Self::Public,
            InputArg::Hashed => Self::Hashed,
            InputArg::Private => Self::Private,
        }
    }
}

impl From<WeightsArg> for WeightVisibility {
    fn from(v: WeightsArg) -> Self {
        match v {
            WeightsArg::Fixed => Self::Fixed,
            WeightsArg::Committed => Self::Committed,
        }
    }
}

impl From<OutputArg> for OutputVisibility {
    fn from(v: OutputArg) -> Self {
        match v {
            OutputArg::Public => Self::Public,
            OutputArg::Hashed => Self::Hashed,
        }
    }
}

/// `DIR/circuit.json`: the settings a user may edit (`visibility`, `range_checks`, `k`, `lookup_bits`;
/// delete `k` for automatic sizing) and what `setup` derived from them. `prove` and `verify` read it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CircuitFile {
    /// [`CIRCUIT_FORMAT`].
    pub format: String,
    /// How to change the circuit.
    pub note: String,
    /// Who sees inputs, weights and outputs.
    pub visibility: Visibility,
    /// How ranges are checked.
    pub range_checks: RangeChecks,
    /// log2 of the number of rows.
    pub k: u32,
    /// Bits of the range-check table (`null` with bit range checks).
    pub lookup_bits: Option<usize>,
    /// The chosen columns.
    pub params: ModelCircuitParams,
    /// Witness columns committed by the prover.
    pub witness_columns: usize,
    /// Advice cells laid out.
    pub advice_cells: usize,
    /// Rows of the nonlinear-function table.
    pub table_rows: usize,
    /// The public instance layout.
    pub layout: PublicLayout,
    /// Poseidon commitment of the quantized model, `bytes32` hex.
    pub model_commitment: String,
    /// `unsafe-dev` or the SRS file used at setup.
    pub srs: String,
    /// Fingerprint of that SRS.
    pub srs_fingerprint: String,
    /// Hash of the circuit (model, layout, size, SRS): names the keys and goes into every proof.
    pub circuit_hash: String,
}

/// The editable part of `circuit.json`.
#[derive(Debug, Deserialize)]
struct CircuitSettings {
    visibility: Visibility,
    #[serde(default)]
    range_checks: Option<RangeChecks>,
    #[serde(default)]
    k: Option<u32>,
    #[serde(default)]
    lookup_bits: Option<usize>,
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

impl CircuitFile {
    /// Reads `DIR/circuit.json`, or explains that `setup` must run first.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(CIRCUIT_FILE);
        if !path.is_file() {
            bail!("{} not found: run `zkml-eth setup {}` first", path.display(), dir.display());
        }
        let file: Self = serde_json::from_str(&read_text(&path)?).with_context(|| {
            format!(
                "{} is not a circuit file of this version: run `zkml-eth setup {}` again",
                path.display(),
                dir.display()
            )
        })?;
        if file.format != CIRCUIT_FORMAT {
            bail!("{}: format \"{}\", this zkml-eth reads \"{CIRCUIT_FORMAT}\"", path.display(), file.format);
        }
        Ok(file)
    }

    /// The circuit size it records.
    pub fn size(&self) -> CircuitSize {
        CircuitSize {
            k: self.k,
            lookup_bits: self.lookup_bits,
            params: self.params.clone(),
            advice_cells: self.advice_cells,
            table_rows: self.table_rows,
            cells_by_op: vec![],
        }
    }

    /// Checks that `srs` is the SRS of the setup and that the model and circuit are what setup saw
    /// (`hash`), with errors that say what to do.
    pub fn check(&self, dir: &Path, srs: &LoadedSrs, hash: &Hash32) -> Result<()> {
        if to_hex(&srs.fingerprint) != self.srs_fingerprint {
            bail!(
                "{} was set up with the SRS {} (fingerprint {}), not {} (fingerprint {}): pass that SRS, or run \
                 `zkml-eth setup {}` again with this one",
                dir.join(CIRCUIT_FILE).display(),
                self.srs,
                self.srs_fingerprint,
                srs.label,
                to_hex(&srs.fingerprint),
                dir.display()
            );
        }
        if to_hex(hash) != self.circuit_hash {
            bail!(
                "{} is out of date (the model or circuit.json changed since setup): run `zkml-eth setup {}` again",
                dir.join(CIRCUIT_FILE).display(),
                dir.display()
            );
        }
        Ok(())
    }
}

/// Size a compiled model's circuit and make its proving and verifying keys.
///
/// Writes DIR/circuit.json (visibility, k, columns, public layout, circuit hash) and DIR/vk.bin. Keys are
/// cached by circuit hash, so running setup again is instant. When DIR/circuit.json exists its
/// visibility, k and lookup_bits are used (edit them there, or delete the file to start over).
///
/// Examples:
///   zkml-eth setup target/digits-mlp --unsafe-dev-srs
///   zkml-eth setup target/digits-mlp --weights committed --input hashed --srs kzg_bn254_15.srs
///   zkml-eth setup target/digits-cnn --k 17 --lookup-bits 16 --unsafe-dev-srs
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SetupArgs {
    /// A directory written by `zkml-eth compile`.
    dir: PathBuf,
    /// Who sees the inputs [default: public].
    #[arg(long, value_enum)]
    input: Option<InputArg>,
    /// How weights enter the circuit [default: fixed].
    #[arg(long, value_enum)]
    weights: Option<WeightsArg>,
    /// Who sees the outputs [default: public].
    #[arg(long, value_enum)]
    output: Option<OutputArg>,
    /// How ranges are checked [default: bits when the model fits one column at most two k above the
    /// lookup layout for little more proving work, else lookup; lookup when --k is given].
    #[arg(long, value_enum, value_name = "HOW")]
    range_checks: Option<RangeArg>,
    /// log2 of the circuit's rows; chosen automatically (cheapest layout) when omitted.
    #[arg(long, value_name = "K")]
    k: Option<u32>,
    /// Bits of the range-check table with `--range-checks lookup`; needs --k (automatic sizing chooses both)
    /// [default: K - 1].
    #[arg(long, value_name = "BITS", requires = "k")]
    lookup_bits: Option<usize>,
    /// The most memory keygen and proving may need, in GB [default: 80% of this machine's memory]: a larger
    /// circuit (estimated as `aggregate` estimates its circuits) is refused with the figure it would need.
    #[arg(long, value_name = "GB")]
    max_memory: Option<f64>,
    #[command(flatten)]
    srs: SrsOpts,
}

/// What `setup` reports.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetupReport {
    /// The model directory.
    pub dir: PathBuf,
    /// The privacy mode.
    pub visibility: Visibility,
    /// log2 of the rows.
    pub k: u32,
    /// How ranges are checked.
    pub range_checks: RangeChecks,
    /// Range table bits (none with bit range checks).
    pub lookup_bits: Option<usize>,
    /// Gate advice columns.
    pub advice_columns: usize,
    /// Range-lookup advice columns.
    pub lookup_advice_columns: usize,
    /// Fixed columns (halo2-base's constants and the dot-product gate's).
    pub fixed_columns: usize,
    /// Inputs per row of the dot-product gate (its advice columns are these and an accumulator); 0
    /// without it.
    pub dot_columns: usize,
    /// Pairs of advice columns looking up the function table.
    pub table_columns: usize,
    /// Advice cells laid out.
    pub advice_cells: usize,
    /// Rows of the function table.
    pub table_rows: usize,
    /// Where the gate cells go, by kind of op, most first.
    pub cells_by_op: Vec<zkml_circuit::circuit::OpCells>,
    /// Public instances.
    pub public_elements: usize,
    /// The circuit hash.
    pub circuit_hash: String,
    /// The model commitment.
    pub model_commitment: String,
    /// `unsafe-dev` or the SRS file.
    pub srs: String,
    /// True for the development SRS.
    pub unsafe_srs: bool,
    /// `hit` (keys read from the cache) or `miss` (generated).
    pub keys: CacheStatus,
    /// Where the keys are cached.
    pub key_dir: PathBuf,
    /// Seconds spent on keygen or reading the cached keys.
    pub keys_seconds: f64,
    /// Seconds spent sizing the circuit.
    pub sizing_seconds: f64,
    /// The files written.
    pub circuit_file: PathBuf,
    /// The verifying key file.
    pub vk_file: PathBuf,
}

impl SetupArgs {
    /// Runs the command.
    pub fn run(self, out: Output) -> Result<()> {
        let dir = &self.dir;
        let label = self.srs.label()?;
        let model = load_model(dir)?;
        let Settings { visibility, range, k, lookup_bits } = self.settings()?;
        let layout = PublicLayout::new(&model.quantized, visibility);

        let started = Instant::now();
        let size = match k {
            Some(k) => {
                if !(MIN_K..=MAX_K).contains(&k) {
                    bail!("k = {k} is out of range: use {MIN_K}..={MAX_K}");
                }
                let range = range.unwrap_or(RangeChecks::Lookup);
                let lookup_bits = match range {
                    RangeChecks::Bits => None,
                    RangeChecks::Lookup => {
                        let bits = lookup_bits.unwrap_or(k as usize - 1);
                        if bits == 0 || bits >= k as usize {
                            bail!("lookup_bits = {bits} must be between 1 and k - 1 = {}", k - 1);
                        }
                        Some(bits)
                    }
                };
                out.status(format!("Laying out {} at k = {k} ...", dir.display()));
                size_at(&model.quantized, &layout, k, lookup_bits)
                    .with_context(|| format!("laying out the circuit at k = {k}, {}", range_text(range, lookup_bits)))?
            }
            None => {
                out.status(format!("Sizing the circuit of {} ...", dir.display()));
                auto_size(&model.quantized, &layout, range).context("sizing the circuit")?
            }
        };
        let sizing_seconds = started.elapsed().as_secs_f64();
        let budget = crate::opts::MemoryOpts { max_memory: self.max_memory }.budget_bytes()?;
        let estimate = zkml_prover::keys::model_memory_estimate(&size);
        if estimate.peak() > budget {
            bail!(
                "the circuit of {} (k = {}, {} witness columns, {} advice cells) needs about {:.1} GB to generate its \
                 keys and {:.1} GB to prove, over the {:.1} GB budget (--max-memory, default 80% of this machine's \
                 memory): run it on a larger machine, or shrink the model or its scale",
                dir.display(),
                size.k,
                size.witness_columns(),
                size.advice_cells,
                estimate.keygen_bytes as f64 / 1e9,
                estimate.prove_bytes as f64 / 1e9,
                budget as f64 / 1e9
            );
        }

        let srs = self.srs.load(size.k, &out)?;
        let hash = circuit_hash(&model.quantized, &layout, &size, &srs.fingerprint);
        let cache_dir = self.srs.cache_dir()?;
        let keys_dir = key_dir(&cache_dir, &hash);
        if !keys_dir.join(zkml_prover::keys::META_FILE).exists() {
            out.status(format!("Generating keys at k = {} ...", size.k));
        }
        let started = Instant::now();
        let (keys, status) =
            load_or_keygen(&cache_dir, &srs.params, &model.quantized, &layout, &size).context("the proving key")?;
        let keys_seconds = started.elapsed().as_secs_f64();

        let vk_file = dir.join(VK_FILE);
        write_vk(&vk_file, keys.vk(), &keys.params, &hash)?;
        let file = CircuitFile {
            format: CIRCUIT_FORMAT.to_string(),
            note: "edit visibility, range_checks (lookup or bits), k and lookup_bits (or delete k for automatic \
                   sizing), then run `zkml-eth setup` again; everything else is derived"
                .to_string(),
            visibility,
            range_checks: size.range_checks(),
            k: size.k,
            lookup_bits: size.lookup_bits,
            params: size.params.clone(),
            witness_columns: size.witness_columns(),
            advice_cells: size.advice_cells,
            table_rows: size.table_rows,
            layout: layout.clone(),
            model_commitment: model.settings.model_commitment,
            srs: label,
            srs_fingerprint: to_hex(&srs.fingerprint),
            circuit_hash: to_hex(&hash),
        };
        let circuit_file = dir.join(CIRCUIT_FILE);
        let mut json = serde_json::to_vec_pretty(&file)?;
        json.push(b'\n');
        std::fs::write(&circuit_file, json).with_context(|| format!("writing {}", circuit_file.display()))?;

        let base = &size.params.base;
        let report = SetupReport {
            dir: dir.clone(),
            visibility,
            k: size.k,
            range_checks: size.range_checks(),
            lookup_bits: size.lookup_bits,
            advice_columns: base.num_advice_per_phase.iter().sum(),
            lookup_advice_columns: base.num_lookup_advice_per_phase.iter().sum(),
            fixed_columns: size.fixed_columns(),
            dot_columns: size.params.dot_columns,
            table_columns: size.params.table_columns,
            advice_cells: size.advice_cells,
            table_rows: size.table_rows,
            cells_by_op: size.cells_by_op.clone(),
            public_elements: layout.num_instances,
            circuit_hash: file.circuit_hash.clone(),
            model_commitment: file.model_commitment.clone(),
            srs: file.srs,
            unsafe_srs: srs.unsafe_dev,
            keys: status,
            key_dir: keys_dir,
            keys_seconds,
            sizing_seconds,
            circuit_file,
            vk_file,
        };
        out.result(&report, || human(&report, &layout))
    }

    /// Visibility, range checks, k and lookup bits: from `DIR/circuit.json` when it exists (flags must agree
    /// with it), else from the flags.
    fn settings(&self) -> Result<Settings> {
        if self.lookup_bits.is_some() && self.range_checks == Some(RangeArg::Bits) {
            bail!("--lookup-bits sizes the lookup table of --range-checks lookup; bit range checks have none");
        }
        let flags = Visibility {
            input: self.input.map(Into::into).unwrap_or_default(),
            weights: self.weights.map(Into::into).unwrap_or_default(),
            output: self.output.map(Into::into).unwrap_or_default(),
        };
        let path = self.dir.join(CIRCUIT_FILE);
        if !path.exists() {
            // A lookup table size asks for lookups.
            let range = self.range_checks.map(Into::into).or(self.lookup_bits.map(|_| RangeChecks::Lookup));
            return Ok(Settings { visibility: flags, range, k: self.k, lookup_bits: self.lookup_bits });
        }
        let file: CircuitSettings = serde_json::from_str(&read_text(&path)?).with_context(|| {
            format!("{}: expected \"visibility\": {{\"input\", \"weights\", \"output\"}}, \"range_checks\", \"k\", \"lookup_bits\" (fix it or delete the file)", path.display())
        })?;
        let conflict = |what: &str, file_value: String, flag: String| {
            anyhow::anyhow!(
                "{} sets {what} = {file_value} but {flag} was given: edit {} (or delete it) to change the circuit",
                path.display(),
                path.display()
            )
        };
        let v = file.visibility;
        if let Some(flag) = self.input
            && InputVisibility::from(flag) != v.input
        {
            return Err(conflict("visibility.input", name(&v.input), format!("--input {}", arg_name(flag))));
        }
        if let Some(flag) = self.weights
            && WeightVisibility::from(flag) != v.weights
        {
            return Err(conflict("visibility.weights", name(&v.weights), format!("--weights {}", arg_name(flag))));
        }
        if let Some(flag) = self.output
            && OutputVisibility::from(flag) != v.output
        {
            return Err(conflict("visibility.output", name(&v.output), format!("--output {}", arg_name(flag))));
        }
        let range = file.range_checks;
        if let Some(flag) = self.range_checks
            && Some(RangeChecks::from(flag)) != range
        {
            let file_value = range.map_or("(automatic)".to_string(), |r| name(&r));
            return Err(conflict("range_checks", file_value, format!("--range-checks {}", arg_name(flag))));
        }
        if let Some(flag) = self.k
            && file.k != Some(flag)
        {
            return Err(conflict("k", display_opt(file.k), format!("--k {flag}")));
        }
        if let Some(flag) = self.lookup_bits
            && file.lookup_bits != Some(flag)
        {
            return Err(conflict("lookup_bits", display_opt(file.lookup_bits), format!("--lookup-bits {flag}")));
        }
        // Without k the file asks for automatic sizing, which picks its own lookup bits.
        let lookup_bits = file.k.and(file.lookup_bits);
        Ok(Settings { visibility: v, range, k: file.k, lookup_bits })
    }
}

/// What `setup` is asked for: `None` leaves a choice to automatic sizing.
struct Settings {
    visibility: Visibility,
    range: Option<RangeChecks>,
    k: Option<u32>,
    lookup_bits: Option<usize>,
}

/// `bit range checks` or `lookup range checks (N bits)`.
fn range_text(range: RangeChecks, lookup_bits: Option<usize>) -> String {
    match (range, lookup_bits) {
        (RangeChecks::Lookup, Some(bits)) => format!("lookup range checks ({bits}-bit table)"),
        (RangeChecks::Lookup, None) => "lookup range checks".to_string(),
        (RangeChecks::Bits, _) => "bit range checks".to_string(),
    }
}

fn display_opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or("(automatic)".to_string(), |v| v.to_string())
}

/// The name of a command-line value.
fn arg_name<T: ValueEnum>(v: T) -> String {
    v.to_possible_value().map(|p| p.get_name().to_string()).unwrap_or_default()
}

/// The name of a visibility value, as written in JSON and on the command line.
fn name<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// Loads a compiled model directory with an error that says what it should be.
pub fn load_model(dir: &Path) -> Result<CompiledModel> {
    CompiledModel::load(dir).with_context(|| {
        format!("loading the compiled model in {} (a directory written by `zkml-eth compile`)", dir.display())
    })
}

/// Visibility as `input public, weights fixed, output public`.
pub fn visibility_text(v: &Visibility) -> String {
    format!("input {}, weights {}, output {}", name(&v.input), name(&v.weights), name(&v.output))
}

fn human(r: &SetupReport, layout: &PublicLayout) -> String {
    let sections: Vec<String> = layout
        .sections
        .iter()
        .map(|s| {
            let what = match s.kind {
                SectionKind::ModelCommitment => "model commitment".to_string(),
                SectionKind::Inputs => format!("{} inputs", s.values),
                SectionKind::InputsHash => format!("hash of {} inputs", s.values),
                SectionKind::Outputs => format!("{} outputs", s.values),
                SectionKind::OutputsHash => format!("hash of {} outputs", s.values),
            };
            format!("{what} ({})", s.elements)
        })
        .collect();
    let keys = match r.keys {
        CacheStatus::Hit => format!("cached ({}), read in {:.2} s", r.key_dir.display(), r.keys_seconds),
        CacheStatus::Miss => format!("keygen {:.2} s (cached in {})", r.keys_seconds, r.key_dir.display()),
    };
    let srs = if r.unsafe_srs { "UNSAFE development SRS (proofs can be forged)".to_string() } else { r.srs.clone() };
    let rows = [
        ("visibility", visibility_text(&r.visibility)),
        ("k", format!("{} (2^{} rows), {}", r.k, r.k, range_text(r.range_checks, r.lookup_bits))),
        (
            "columns",
            format!(
                "{} advice, {} lookup advice, {} fixed, {} table pairs{}",
                r.advice_columns,
                r.lookup_advice_columns,
                r.fixed_columns,
                r.table_columns,
                match r.dot_columns {
                    0 => String::new(),
                    c => format!(", dot products {c} terms a row ({} advice)", c + 1),
                }
            ),
        ),
        ("advice cells", format!("{} (table rows {})", r.advice_cells, r.table_rows)),
        ("cells by op", cells_by_op_text(&r.cells_by_op)),
        ("public elements", format!("{}: {}", r.public_elements, sections.join(", "))),
        ("circuit hash", r.circuit_hash.clone()),
        ("model commitment", r.model_commitment.clone()),
        ("SRS", srs),
        ("keys", keys),
        ("wrote", format!("{}, {}", r.circuit_file.display(), r.vk_file.display())),
    ];
    rows.iter().map(|(k, v)| format!("{k:<17} {v}")).collect::<Vec<_>>().join("\n")
}

/// The ops that lay out most of the gate cells, with their shares: where the rows go.
pub(crate) fn cells_by_op_text(by_op: &[zkml_circuit::circuit::OpCells]) -> String {
    let total: usize = by_op.iter().map(|o| o.cells).sum::<usize>().max(1);
    let mut parts: Vec<String> = by_op
        .iter()
        .take(6)
        .map(|o| format!("{} {:.0}% ({} nodes)", o.op, 100.0 * o.cells as f64 / total as f64, o.nodes))
        .collect();
    if by_op.len() > 6 {
        let rest: usize = by_op[6..].iter().map(|o| o.cells).sum();
        parts.push(format!("other {:.0}%", 100.0 * rest as f64 / total as f64));
    }
    parts.join(", ")
}
