//! `zkml-eth aggregate`: verify N inference proofs inside one aggregation circuit and write one proof
//! for the EVM.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use zkml_prover::{
    aggregate::{
        ACCUMULATOR_LIMBS, AGGREGATED_FORMAT, AggregatedArtifact, AggregatedProof, AggregationKeys, FirstLayer,
        InnerEntry, InnerProof, LayerPlan, MAX_PROOFS, MemoryEstimate, OneLayerLimit, Protocol, aggregate_with,
        aggregated_protocol, aggregation_hash, auto_k_for, gigabytes, load_or_keygen, plan_layers, verify_with,
    },
    artifact::{ProofArtifact, fr_to_hex},
    keys::{CacheStatus, read_vk, to_hex},
    prove::{Transcript, verify},
};

use crate::opts::{LayerPolicyOpts, LoadedSrs, MemoryOpts, SrsOpts};
use crate::{
    cmd::{
        peak_rss_bytes, process_peak_rss_bytes, reset_peak_rss,
        setup::{CircuitFile, VK_FILE},
    },
    output::Output,
};

/// Aggregate inference proofs into one proof verified on the EVM.
///
/// Each PROOF.json must be made with `zkml-eth prove --transcript poseidon`; proofs of different models
/// may be mixed. Each is verified first, against the verifying key of the model directory it names. The
/// outer circuit is sized automatically (or --k), and its keys are cached by the inner verifying keys,
/// so a second aggregation of proofs of the same models skips keygen.
///
/// Examples:
///   zkml-eth aggregate proofs/proof-0.json proofs/proof-1.json --out agg.json --unsafe-dev-srs
///   zkml-eth aggregate proofs/*.json --out agg.json --k 22 --srs kzg_bn254_22.srs
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct AggregateArgs {
    /// Proof artifacts (Poseidon transcript), 1 to 16.
    #[arg(required = true, num_args = 1.., value_name = "PROOF.json")]
    proofs: Vec<PathBuf>,
    /// Where to write the aggregated proof.
    #[arg(long, value_name = "AGG.json")]
    out: PathBuf,
    /// log2 of the outer circuit's rows [default: the smallest that keeps the verifier small within
    /// --max-memory].
    #[arg(long)]
    k: Option<u32>,
    /// Aggregation layers [default: 1 if one layer fits --evm-max-advice-columns by --planned-one-layer-max-k
    /// with at most --one-layer-max-public-values public values: by default two columns by k = 21 with at most
    /// 52 values, a fast prover and a verifier under 400,000 gas (up to four digits proofs); else 2; with
    /// --k, 1; with --first-k, 2]. With 2, the proofs are first aggregated into one proof with a Poseidon
    /// transcript, which a second, much smaller aggregation verifies for the EVM: more proving time, but the
    /// on-chain verifier no longer grows with the first layer's columns.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=2))]
    layers: Option<u8>,
    /// log2 of the first layer's rows with two layers [default: sized like --k].
    #[arg(long)]
    first_k: Option<u32>,
    #[command(flatten)]
    memory: MemoryOpts,
    #[command(flatten)]
    policy: LayerPolicyOpts,
    /// Overwrite --out if it exists.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    srs: SrsOpts,
}

/// What `aggregate` reports.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AggregateReport {
    /// The aggregated proof file.
    pub out: PathBuf,
    /// Inner proofs.
    pub proofs: usize,
    /// Public instances (12 accumulator limbs, then the inner ones).
    pub instances: usize,
    /// True for the development SRS.
    pub unsafe_srs: bool,
    /// The circuit of the proof written, the one the EVM verifier checks.
    #[serde(flatten)]
    pub outer: LayerReport,
    /// With --layers 2: the first layer, whose proof the circuit above verifies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_layer: Option<LayerReport>,
    /// Estimated peak memory of the whole command, layers and phases together (what sizing checks against
    /// --max-memory), beside the measured peak.
    pub memory: MemoryReport,
}

/// Peak memory of the whole command: estimated and measured.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryReport {
    /// The estimate for every layer's keygen and proving (keygen as if the keys were generated).
    pub estimated: MemoryEstimate,
    /// The larger of the two estimated phases, bytes.
    pub estimated_peak_bytes: u64,
    /// This process's measured peak resident memory, bytes (Linux).
    pub measured_peak_bytes: Option<u64>,
    /// The budget sizing used (--max-memory), bytes.
    pub budget_bytes: u64,
}

/// One aggregation circuit and its proof.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerReport {
    /// log2 of its rows.
    pub k: u32,
    /// Its advice columns.
    pub advice_columns: usize,
    /// Its advice cells (0 for keys cached before they were counted).
    pub advice_cells: usize,
    /// Whether its keys came from the cache.
    pub keys: CacheStatus,
    /// Seconds to load or generate its keys.
    pub keys_seconds: f64,
    /// Its estimated peak memory of keygen and proving, bytes.
    pub estimated_memory: MemoryEstimate,
    /// The measured peak resident memory of this process while it loaded or generated the keys, bytes
    /// (Linux).
    pub measured_keys_peak_bytes: Option<u64>,
    /// The measured peak resident memory while it proved, bytes (Linux).
    pub measured_prove_peak_bytes: Option<u64>,
    /// Seconds to prove it.
    pub prove_seconds: f64,
    /// Its proof bytes.
    pub proof_bytes: usize,
    /// Its key cache entry.
    pub aggregation_hash: String,
}

/// One aggregation's keys, loaded or generated.
struct LayerKeys {
    k: u32,
    keys: AggregationKeys,
    status: CacheStatus,
    seconds: f64,
    peak_bytes: Option<u64>,
    /// Its key cache entry ([`aggregation_hash`]), hex.
    hash: String,
}

/// One aggregation proven: its keys, proof and timings.
struct Layer {
    keys: LayerKeys,
    prove_seconds: f64,
    prove_peak_bytes: Option<u64>,
    proof: AggregatedProof,
}

impl Layer {
    fn report(&self) -> LayerReport {
        LayerReport {
            k: self.keys.k,
            advice_columns: self.keys.keys.shape.config.num_advice,
            advice_cells: self.keys.keys.shape.advice_cells,
            keys: self.keys.status,
            keys_seconds: self.keys.seconds,
            estimated_memory: self.keys.keys.shape.memory_estimate(),
            measured_keys_peak_bytes: self.keys.peak_bytes,
            measured_prove_peak_bytes: self.prove_peak_bytes,
            prove_seconds: self.prove_seconds,
            proof_bytes: self.proof.proof.len(),
            aggregation_hash: self.keys.hash.clone(),
        }
    }
}

/// A spinner with a message on stderr for people (hidden for --json and --quiet).
pub fn spinner(out: &Output, message: String) -> ProgressBar {
    if out.json || out.quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("a valid progress template"));
    bar.set_message(message);
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// How many aggregation layers, and the sizes already chosen (`None`: sized when proving).
enum Layers {
    /// One layer, for the EVM, at this `k`.
    One { k: Option<u32> },
    /// A first layer with a Poseidon transcript at this `k`, then a second for the EVM at `--k`.
    Two { first_k: Option<u32> },
}

/// One checked inner proof and where it came from.
struct Loaded {
    entry: InnerEntry,
    proof: InnerProof,
}

impl AggregateArgs {
    /// Runs the command.
    pub fn run(self, out: Output) -> Result<()> {
        let label = self.srs.label()?;
        if self.proofs.len() > MAX_PROOFS {
            bail!("{} proofs given; one aggregation takes 1 to {MAX_PROOFS}", self.proofs.len());
        }
        if self.first_k.is_some() && self.layers == Some(1) {
            bail!("--first-k sizes the first of two layers: it does not go with --layers 1");
        }
        if self.out.exists() && !self.force {
            bail!("{} already exists: pass --force to overwrite it", self.out.display());
        }
        let mut srs_by_k: BTreeMap<u32, LoadedSrs> = BTreeMap::new();
        let mut loaded = Vec::with_capacity(self.proofs.len());
        let mut offset = ACCUMULATOR_LIMBS;
        for path in &self.proofs {
            let item = self.load_inner(path, offset, &mut srs_by_k, &out)?;
            offset += item.entry.layout.num_instances;
            loaded.push(item);
        }
        let inner: Vec<InnerProof> = loaded.iter().map(|l| l.proof.clone()).collect();
        let protocols: Vec<_> = inner.iter().map(|p| p.protocol().clone()).collect();
        let policy = self.policy.policy();
        let (first_layer, last) = match self.plan(&protocols, &srs_by_k, &out)? {
            Layers::Two { first_k } => {
                let first_max = |_| policy.first_layer_max_advice_columns;
                let first_keys =
                    self.layer_keys("first layer", &protocols, (first_k, first_max), &mut srs_by_k, &out)?;
                // Size the second layer before proving the first: a second layer over the memory budget is
                // refused now, not after minutes of proving.
                let first_params = &srs_by_k[&first_keys.k].params;
                let next_protocol =
                    aggregated_protocol(first_params, first_keys.keys.vk(), first_keys.keys.shape.num_instance);
                let second_k = match self.k {
                    Some(k) => k,
                    None => self.size_layer(
                        "second layer",
                        &[next_protocol],
                        |_| policy.second_layer_max_advice_columns,
                        &srs_by_k,
                        &out,
                    )?,
                };
                let first =
                    self.prove_with("first layer", first_keys, &inner, Transcript::Poseidon, &srs_by_k, &out)?;
                let first_params = &srs_by_k[&first.keys.k].params;
                let next = InnerProof::from_aggregated(first_params, first.keys.keys.vk(), &first.proof);
                let report = first.report();
                // Its proving key is gigabytes: free it before the second layer.
                drop(first);
                let second_protocols = [next.protocol().clone()];
                let size = (Some(second_k), |_| policy.second_layer_max_advice_columns);
                let keys = self.layer_keys("second layer", &second_protocols, size, &mut srs_by_k, &out)?;
                (Some(report), self.prove_with("second layer", keys, &[next], Transcript::Keccak, &srs_by_k, &out)?)
            }
            Layers::One { k } => {
                let max_columns = |k| policy.max_advice_columns(k);
                let keys = self.layer_keys("aggregation", &protocols, (k, max_columns), &mut srs_by_k, &out)?;
                (None, self.prove_with("aggregation", keys, &inner, Transcript::Keccak, &srs_by_k, &out)?)
            }
        };
        let outer = &srs_by_k[&last.keys.k];
        let (keys, proof) = (&last.keys.keys, &last.proof);

        let artifact = AggregatedArtifact {
            format: AGGREGATED_FORMAT.to_string(),
            aggregation_hash: last.keys.hash.clone(),
            config: keys.shape.config,
            first_layer: first_layer
                .as_ref()
                .map(|layer| FirstLayer { aggregation_hash: layer.aggregation_hash.clone(), k: layer.k }),
            srs: label,
            transcript: Transcript::Keccak,
            inner: loaded.into_iter().map(|l| l.entry).collect(),
            instances: proof.instances.iter().map(fr_to_hex).collect(),
            proof: to_hex(&proof.proof),
        };
        artifact.save(&self.out, self.force)?;
        let outer_report = last.report();
        let estimated = first_layer
            .as_ref()
            .map_or(outer_report.estimated_memory, |first| first.estimated_memory.then(outer_report.estimated_memory));
        let memory = MemoryReport {
            estimated,
            estimated_peak_bytes: estimated.peak(),
            measured_peak_bytes: process_peak_rss_bytes(),
            budget_bytes: self.memory.budget_bytes()?,
        };
        let report = AggregateReport {
            out: self.out.clone(),
            proofs: artifact.inner.len(),
            instances: proof.instances.len(),
            unsafe_srs: outer.unsafe_dev,
            outer: outer_report,
            first_layer,
            memory,
        };
        out.result(&report, || {
            let layers = match &report.first_layer {
                Some(first) => format!(
                    " in two layers ({:.1} s at k = {}, then {:.1} s)",
                    first.prove_seconds, first.k, report.outer.prove_seconds
                ),
                None => format!(" in {:.1} s", report.outer.prove_seconds),
            };
            format!(
                "aggregated {} proof(s) into {}{layers}: k = {}, {} public instances, {} proof bytes",
                report.proofs,
                report.out.display(),
                report.outer.k,
                report.instances,
                report.outer.proof_bytes
            )
        })
    }

    /// The layers to aggregate `inner` in: as --layers, --k and --first-k say, else as [`plan_layers`]
    /// decides (its sizes are kept, so the layer is not laid out again).
    fn plan(&self, protocols: &[Protocol], srs_by_k: &BTreeMap<u32, LoadedSrs>, out: &Output) -> Result<Layers> {
        match (self.layers, self.k, self.first_k) {
            (Some(1), k, _) | (None, k @ Some(_), None) => Ok(Layers::One { k }),
            (Some(_), _, first_k) | (None, _, first_k @ Some(_)) => Ok(Layers::Two { first_k }),
            (None, None, None) => {
                let params = &srs_by_k.values().next().expect("the inner proofs' SRS is loaded").params;
                let bar = spinner(out, format!("Sizing the aggregation ({} proof(s)) ...", protocols.len()));
                let policy = self.policy.policy();
                let plan = plan_layers(params, protocols, self.memory.budget_bytes()?, &policy)?;
                bar.finish_and_clear();
                match plan {
                    LayerPlan::One(size) => Ok(Layers::One { k: Some(size.k) }),
                    LayerPlan::Two { first, one, limit } => {
                        let why = match limit {
                            OneLayerLimit::AdviceColumns => format!(
                                "need {} advice columns at k = {} (at most {}, --evm-max-advice-columns), a costlier \
                                 verifier",
                                one.advice_columns, one.k, policy.evm_max_advice_columns
                            ),
                            OneLayerLimit::PublicValues(values) => format!(
                                "take {values} public values (at most {}, --one-layer-max-public-values), a costlier \
                                 verifier",
                                policy.one_layer_max_public_values
                            ),
                            OneLayerLimit::Rows => format!(
                                "need k = {} for {} advice columns (at most {}, --planned-one-layer-max-k), where two \
                                 layers prove about as fast for less gas and memory",
                                one.k, one.advice_columns, policy.planned_one_layer_max_k
                            ),
                        };
                        out.status(format!(
                            "One layer would {why}: aggregating in two layers, the first at k = {} in {} columns \
                             (--layers 1 keeps one)",
                            first.k, first.advice_columns
                        ));
                        Ok(Layers::Two { first_k: Some(first.k) })
                    }
                }
            }
        }
    }

    /// The `k` for the aggregation of `protocols` in at most `max_columns(k)` advice columns within the
    /// memory budget ([`auto_k_for`]: an error naming the memory needed where nothing fits).
    fn size_layer(
        &self,
        what: &str,
        protocols: &[Protocol],
        max_columns: impl Fn(u32) -> usize,
        srs_by_k: &BTreeMap<u32, LoadedSrs>,
        out: &Output,
    ) -> Result<u32> {
        let any_srs = srs_by_k.values().next().expect("the inner proofs' SRS is loaded");
        let bar = spinner(out, format!("Sizing the {what} ({} proof(s)) ...", protocols.len()));
        let size = auto_k_for(&any_srs.params, protocols, self.memory.budget_bytes()?, &max_columns)
            .with_context(|| format!("sizing the {what}"))?;
        bar.finish_and_clear();
        if size.advice_columns > max_columns(size.k) {
            out.status(format!(
                "The {what} is sized at k = {} with {} advice columns (about {:.1} GB): fewer columns would make a \
                 cheaper verifier but need more memory than --max-memory allows",
                size.k,
                size.advice_columns,
                gigabytes(size.estimated_peak_bytes)
            ));
        }
        Ok(size.k)
    }

    /// Loads or generates the keys of one aggregation of `protocols` at `k`, or sized for at most
    /// `max_columns(k)` advice columns within the memory budget, loading the SRS it needs into `srs_by_k`.
    fn layer_keys(
        &self,
        what: &str,
        protocols: &[Protocol],
        (k, max_columns): (Option<u32>, impl Fn(u32) -> usize),
        srs_by_k: &mut BTreeMap<u32, LoadedSrs>,
        out: &Output,
    ) -> Result<LayerKeys> {
        let fingerprint = srs_by_k.values().next().expect("the inner proofs' SRS is loaded").fingerprint;
        let k = match k {
            Some(k) => k,
            None => self.size_layer(what, protocols, max_columns, srs_by_k, out)?,
        };
        if let std::collections::btree_map::Entry::Vacant(slot) = srs_by_k.entry(k) {
            slot.insert(self.srs.load(k, out)?);
        }
        let outer = &srs_by_k[&k];
        if outer.fingerprint != fingerprint {
            bail!("the SRS at k = {k} does not share the secret of the inner proofs' SRS: use one SRS file for both");
        }

        let cache_dir = self.srs.cache_dir()?;
        let bar =
            spinner(out, format!("Keys of the {what} (k = {k}; generating them takes minutes the first time) ..."));
        let measured = reset_peak_rss();
        let started = Instant::now();
        let (keys, status) =
            load_or_keygen(&cache_dir, &outer.params, protocols).with_context(|| format!("keys of the {what}"))?;
        let seconds = started.elapsed().as_secs_f64();
        let peak_bytes = peak_rss_bytes().filter(|_| measured);
        bar.finish_and_clear();
        out.status(format!(
            "Keys of the {what} {} in {seconds:.1} s: k = {k}, {} advice columns",
            if status == CacheStatus::Hit { "read from the cache" } else { "generated" },
            keys.shape.config.num_advice
        ));
        let hash = to_hex(&aggregation_hash(protocols, k, &fingerprint));
        Ok(LayerKeys { k, keys, status, seconds, peak_bytes, hash })
    }

    /// Proves the aggregation of `inner` with `keys` and `transcript`, and verifies the proof natively.
    fn prove_with(
        &self,
        what: &str,
        keys: LayerKeys,
        inner: &[InnerProof],
        transcript: Transcript,
        srs_by_k: &BTreeMap<u32, LoadedSrs>,
        out: &Output,
    ) -> Result<Layer> {
        let outer = &srs_by_k[&keys.k];
        let bar = spinner(out, format!("Proving the {what} of {} proof(s) ...", inner.len()));
        let measured = reset_peak_rss();
        let started = Instant::now();
        let proof = aggregate_with(&outer.params, &keys.keys, inner, transcript)
            .with_context(|| format!("proving the {what}"))?;
        let prove_seconds = started.elapsed().as_secs_f64();
        let prove_peak_bytes = peak_rss_bytes().filter(|_| measured);
        bar.finish_and_clear();
        if !verify_with(&outer.params, keys.keys.vk(), &proof, transcript) {
            bail!("the proof of the {what} does not verify natively: this is a bug in zkml-eth, please report it");
        }
        out.status(format!("Proved the {what} in {prove_seconds:.1} s"));
        Ok(Layer { keys, prove_seconds, prove_peak_bytes, proof })
    }

    /// Loads `path`, checks it against its model directory and verifies it natively.
    fn load_inner(
        &self,
        path: &Path,
        offset: usize,
        srs_by_k: &mut BTreeMap<u32, LoadedSrs>,
        out: &Output,
    ) -> Result<Loaded> {
        let artifact = ProofArtifact::load(path)?;
        if artifact.transcript != Transcript::Poseidon {
            bail!(
                "{}: a {:?} transcript proof cannot be aggregated: prove it with --transcript poseidon",
                path.display(),
                artifact.transcript
            );
        }
        let dir = &artifact.model_dir;
        let circuit = CircuitFile::load(dir).with_context(|| format!("{}: its model directory", path.display()))?;
        if circuit.circuit_hash != artifact.circuit_hash {
            bail!(
                "{}: made for the circuit {}, but {} is now set up as {}",
                path.display(),
                artifact.circuit_hash,
                dir.display(),
                circuit.circuit_hash
            );
        }
        let vk = read_vk(&dir.join(VK_FILE))?;
        if let std::collections::btree_map::Entry::Vacant(slot) = srs_by_k.entry(circuit.k) {
            slot.insert(self.srs.load(circuit.k, out)?);
        }
        let srs = &srs_by_k[&circuit.k];
        if to_hex(&srs.fingerprint) != circuit.srs_fingerprint {
            bail!("{}: {} was set up with the SRS {}, not {}", path.display(), dir.display(), circuit.srs, srs.label);
        }
        let proof = artifact.to_proof()?;
        if !verify(&srs.params, &vk.vk, &proof) {
            bail!("{}: the proof does not verify against {}", path.display(), dir.join(VK_FILE).display());
        }
        let entry = InnerEntry {
            proof_file: path.to_path_buf(),
            model_dir: dir.clone(),
            circuit_hash: artifact.circuit_hash.clone(),
            model_commitment: artifact.model_commitment.clone(),
            offset,
            layout: circuit.layout.clone(),
        };
        Ok(Loaded { entry, proof: InnerProof::new(&srs.params, &vk.vk, &proof)? })
    }
}
