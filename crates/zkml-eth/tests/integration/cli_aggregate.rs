//! `zkml-eth aggregate`, `gen-verifier` and `verify --evm` on real proofs of two different models (the
//! digits MLP and CNN): the heavy end-to-end path, run once. The development SRS and the keys are cached in the repository's git-ignored
//! `.zkml-cache` (as `make demo` does), so only the first run pays for them.

use std::path::{Path, PathBuf};

use crate::common::{json, stderr};
use serde_json::Value;
use zkml_evm::{
    codegen::{VerifierKind, build_verifier},
    exec::{LocalVerifier, MAX_RUNTIME_BYTES},
};
use zkml_prover::{
    aggregate::{ACCUMULATOR_LIMBS, AggregatedArtifact, MAX_PROOFS, load_vk},
    srs::SrsSource,
};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

fn cache() -> String {
    path(&repo().join(".zkml-cache")).to_string()
}

fn run(args: &[&str]) -> std::process::Output {
    // The repository's solc (a solcjs shim), as `make test` gives forge.
    let solc = repo().join("tools/solc/solc");
    crate::common::zkml_eth(args, &[("ZKML_CACHE_DIR", &cache()), ("ZKML_SOLC", path(&solc))])
}

/// Runs `args`, expecting success.
fn ok(args: &[&str]) -> std::process::Output {
    let out = run(args);
    assert!(out.status.success(), "zkml-eth {args:?} failed: {}", stderr(&out));
    out
}

/// `verify --json --evm` of `file` with the gas capped at `gas`: the report, whatever the verdict.
fn verify_evm(file: &Path, gas: u64, extra: &[&str]) -> (bool, Value) {
    let gas = gas.to_string();
    let mut args = vec!["--json", "verify", path(file), "--evm", "--gas-limit", &gas, "--unsafe-dev-srs"];
    args.extend_from_slice(extra);
    let out = run(&args);
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("verify printed no JSON ({e}): {}", stderr(&out)));
    (out.status.success(), report)
}

/// Writes `artifact` with one field changed by `edit` and returns the new file.
fn tampered(dir: &Path, name: &str, artifact: &Value, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let mut copy = artifact.clone();
    edit(&mut copy);
    let file = dir.join(name);
    std::fs::write(&file, serde_json::to_vec_pretty(&copy).expect("JSON")).expect("write");
    file
}

/// Adds one to a `0x` + 64 hex digit field element (the values used here are far from the modulus).
fn bump(hex: &str) -> String {
    let digits = hex.trim_start_matches("0x");
    let last = u8::from_str_radix(&digits[62..], 16).expect("hex");
    format!("0x{}{:02x}", &digits[..62], last ^ 1)
}

/// A change to an aggregated artifact.
type Edit = Box<dyn FnOnce(&mut Value)>;

#[test]
fn mlp_and_cnn_proofs_aggregate_and_verify_natively_and_on_the_evm() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let dir = tmp.path();
    let ex = repo().join("examples/digits");
    let (calibration, data) = (ex.join("calibration.json"), ex.join("test.json"));
    let model = dir.join("mlp");
    let cnn = dir.join("cnn");
    ok(&["-q", "compile", path(&ex.join("mlp.onnx")), "--calibration", path(&calibration), "--out", path(&model)]);
    ok(&["-q", "setup", path(&model), "--unsafe-dev-srs"]);
    let cnn_onnx = ex.join("cnn.onnx");
    let cnn_args = ["--calibration", path(&calibration), "--input-shape", "1,1,8,8", "--out", path(&cnn)];
    ok(&[&["-q", "compile", path(&cnn_onnx)][..], &cnn_args].concat());
    // Bit range checks: one column and no lookup, the cheapest CNN proof to aggregate.
    ok(&["-q", "setup", path(&cnn), "--range-checks", "bits", "--unsafe-dev-srs"]);
    let prove = |model: &Path, sample: &str, transcript: &str, out: &Path| {
        ok(&[
            "-q",
            "prove",
            path(model),
            "--input",
            path(&data),
            "--sample",
            sample,
            "--transcript",
            transcript,
            "--out",
            path(out),
            "--unsafe-dev-srs",
        ]);
    };
    let (p0, p1, keccak) = (dir.join("p0.json"), dir.join("p1.json"), dir.join("k0.json"));
    prove(&model, "0", "poseidon", &p0);
    prove(&cnn, "1", "poseidon", &p1);
    prove(&model, "0", "keccak", &keccak);

    // A keccak proof verifies directly on the EVM through the model's generated verifier; flipped, it is
    // rejected there and natively, within the gas cap.
    let (valid, single) = verify_evm(&keccak, 10_000_000, &[]);
    eprintln!("single proof verify --evm: {single}");
    assert!(valid && single["valid"] == true && single["evm"]["valid"] == true, "{single}");
    let single_runtime = single["evm"]["runtimeBytes"].as_u64().expect("runtime bytes");
    assert!(single_runtime > 0 && single_runtime <= 24_576, "{single}");
    let proof: Value = serde_json::from_slice(&std::fs::read(&keccak).expect("read")).expect("JSON");
    let proof_hex = proof["proof"].as_str().expect("proof hex").trim_start_matches("0x");
    // Bit range checks keep the digits-MLP EVM proof within 1,200 bytes.
    assert!(proof_hex.len() / 2 <= 1_200, "{} proof bytes", proof_hex.len() / 2);
    let flipped = tampered(dir, "k0-flipped.json", &proof, |v| {
        let p = v["proof"].as_str().expect("proof").to_string();
        let i = p.len() / 2;
        let bit = if &p[i..i + 1] == "0" { "1" } else { "0" };
        v["proof"] = Value::from(format!("{}{bit}{}", &p[..i], &p[i + 1..]));
    });
    let (valid, report) = verify_evm(&flipped, 1_000_000, &[]);
    assert!(!valid && report["evm"]["valid"] == false, "a flipped single proof verified: {report}");
    assert!(report["evm"]["gas"].as_u64().expect("gas") <= 1_000_000, "{report}");

    // A keccak proof cannot be aggregated, and says how to fix it.
    let agg = dir.join("agg.json");
    let refused = run(&["aggregate", path(&keccak), "--out", path(&agg), "--unsafe-dev-srs"]);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("--transcript poseidon"), "{}", stderr(&refused));

    // The outer circuit is sized within a memory budget; one that no layout fits is refused up front,
    // naming what the smallest layout would need, before any key is made.
    let small = dir.join("small.json");
    let refused =
        run(&["aggregate", path(&p0), path(&p1), "--out", path(&small), "--max-memory", "0.5", "--unsafe-dev-srs"]);
    let message = stderr(&refused);
    assert!(!refused.status.success() && !small.exists(), "{message}");
    assert!(message.contains("over the memory budget of 0.5 GB") && message.contains("--max-memory"), "{message}");

    let report = json(&ok(&["--json", "aggregate", path(&p0), path(&p1), "--out", path(&agg), "--unsafe-dev-srs"]));
    eprintln!("aggregate: {report}");
    assert_eq!(report["proofs"], 2);
    let inner_instances = |p: &Path| -> Vec<Value> {
        let v: Value = serde_json::from_slice(&std::fs::read(p).expect("read")).expect("JSON");
        v["instances"].as_array().expect("instances").clone()
    };
    let artifact: Value = serde_json::from_slice(&std::fs::read(&agg).expect("read")).expect("JSON");
    let instances = artifact["instances"].as_array().expect("instances");
    // The layout: 12 accumulator limbs, then each inner proof's instances in order.
    let expected: Vec<Value> = [inner_instances(&p0), inner_instances(&p1)].concat();
    assert_eq!(&instances[12..], &expected[..]);
    assert_eq!(report["instances"], 12 + expected.len());

    // Valid natively and in revm under mainnet limits, with a deployable verifier.
    let (valid, evm) = verify_evm(&agg, 10_000_000, &[]);
    eprintln!("verify --evm: {evm}");
    assert!(valid && evm["native"] == true && evm["evm"]["valid"] == true, "{evm}");
    let runtime = evm["evm"]["runtimeBytes"].as_u64().expect("runtime bytes");
    assert!(runtime > 0 && runtime <= 24_576, "runtime {runtime} bytes");
    let gas = evm["evm"]["gas"].as_u64().expect("gas");

    // Tampered proof, an MLP and a CNN instance, and an accumulator limb: rejected natively and on the EVM, where the
    // capped call costs at most its cap.
    let cap = 1_000_000;
    let last = instances.len() - 1;
    let tampers: [(&str, Edit); 4] = [
        (
            "proof.json",
            Box::new(|v: &mut Value| {
                let p = v["proof"].as_str().expect("proof").to_string();
                let i = p.len() / 2;
                let flipped = if &p[i..i + 1] == "0" { "1" } else { "0" };
                v["proof"] = Value::from(format!("{}{flipped}{}", &p[..i], &p[i + 1..]));
            }),
        ),
        (
            "instance.json",
            Box::new(|v: &mut Value| v["instances"][13] = Value::from(bump(v["instances"][13].as_str().expect("hex")))),
        ),
        (
            "cnn-instance.json",
            Box::new(move |v: &mut Value| {
                v["instances"][last] = Value::from(bump(v["instances"][last].as_str().expect("hex")))
            }),
        ),
        (
            "accumulator.json",
            Box::new(|v: &mut Value| v["instances"][0] = Value::from(bump(v["instances"][0].as_str().expect("hex")))),
        ),
    ];
    for (name, edit) in tampers {
        let file = tampered(dir, name, &artifact, edit);
        let (valid, report) = verify_evm(&file, cap, &[]);
        assert!(!valid, "{name} verified: {report}");
        assert_eq!(report["native"], false, "{name}: {report}");
        assert_eq!(report["evm"]["valid"], false, "{name}: {report}");
        assert!(report["evm"]["gas"].as_u64().expect("gas") <= cap, "{name}: {report}");
    }

    // The wrong verifier (the single-proof verifier of the MLP) rejects the aggregated proof.
    let single = dir.join("Single.sol");
    ok(&["-q", "gen-verifier", "--model", path(&model), "--out", path(&single), "--unsafe-dev-srs"]);
    let (valid, report) = verify_evm(&agg, cap, &["--verifier", path(&single)]);
    assert!(!valid && report["native"] == true && report["evm"]["valid"] == false, "{report}");

    // gen-verifier writes the aggregated verifier with a relaxed pragma.
    let sol = dir.join("Agg.sol");
    let generated =
        json(&ok(&["--json", "gen-verifier", "--aggregated", path(&agg), "--out", path(&sol), "--unsafe-dev-srs"]));
    assert_eq!(generated["runtimeBytes"].as_u64(), Some(runtime));
    assert!(std::fs::read_to_string(&sol).expect("read").contains("pragma solidity ^0.8."));
    eprintln!("aggregated MLP + CNN: {runtime} bytes runtime, {gas} gas");

    // EIP-170 up to MAX_PROOFS: only the instance handling of the verifier depends on how many proofs it
    // covers, so this outer key with the public values of 16 proofs (the larger of the two models' counts
    // each) shows the size a 16-proof verifier of this shape has. Straight-line code would be about 30 KB;
    // the generated verifier rolls its repeated runs into loops and fits.
    let artifact = AggregatedArtifact::load(&agg).expect("read").expect("an aggregated proof");
    let k = artifact.config.degree;
    let params = SrsSource::UnsafeDev { cache_dir: repo().join(".zkml-cache/srs"), max_k: k }.params(k).expect("SRS");
    let vk = load_vk(&repo().join(".zkml-cache"), &artifact.hash().expect("hash"), artifact.config).expect("vk");
    let per_proof = artifact.inner.iter().map(|inner| inner.layout.num_instances).max().expect("inner proofs");
    let num_instance = ACCUMULATOR_LIMBS + MAX_PROOFS * per_proof;
    let solc = repo().join("tools/solc/solc");
    let verifier = build_verifier(&params, &vk, num_instance, VerifierKind::Aggregated, &solc).expect("builds");
    let size = verifier.compiled.runtime.len();
    assert!(size <= MAX_RUNTIME_BYTES && verifier.rolled_runs_from.is_some(), "{num_instance} instances: {size} B");
    LocalVerifier::deploy(&verifier.compiled.creation).expect("deploys under EIP-170");
    eprintln!("{MAX_PROOFS} proofs' worth of instances ({num_instance}): {size} bytes runtime with loops");
}

#[test]
fn two_layers_verify_on_the_evm_with_the_one_layer_instance_layout() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let dir = tmp.path();
    let ex = repo().join("examples/digits");
    let model = dir.join("mlp");
    let calibration = ex.join("calibration.json");
    ok(&["-q", "compile", path(&ex.join("mlp.onnx")), "--calibration", path(&calibration), "--out", path(&model)]);
    ok(&["-q", "setup", path(&model), "--unsafe-dev-srs"]);
    let p0 = dir.join("p0.json");
    let data = ex.join("test.json");
    let args = ["-q", "prove", path(&model), "--input", path(&data), "--sample", "3", "--out", path(&p0)];
    ok(&[&args[..], &["--transcript", "poseidon", "--unsafe-dev-srs"]].concat());

    let agg = dir.join("agg2.json");
    let args = ["aggregate", path(&p0), "--out", path(&agg), "--first-k", "20", "--layers", "1", "--unsafe-dev-srs"];
    let refused = run(&args);
    assert!(!refused.status.success() && stderr(&refused).contains("--layers 1"), "{}", stderr(&refused));

    // The second layer at k = 21 (two columns) rather than its default k = 22 (one): less proving time in CI,
    // and --k reaches the second layer.
    let args = ["--json", "aggregate", path(&p0), "--out", path(&agg), "--layers", "2", "--k", "21"];
    let report = json(&ok(&[&args[..], &["--unsafe-dev-srs"]].concat()));
    eprintln!("aggregate --layers 2: {report}");
    assert_eq!(report["k"], 21, "{report}");
    let first = &report["firstLayer"];
    assert!(first["k"].as_u64().is_some() && first["proofBytes"].as_u64().is_some(), "{report}");
    // The memory report covers both layers' keygen and proving, beside the measured peak.
    let bytes = |v: &Value| v.as_u64().unwrap_or_else(|| panic!("a byte count: {report}"));
    let memory = &report["memory"];
    let (first_estimate, second_estimate) = (&first["estimatedMemory"], &report["estimatedMemory"]);
    // The first layer's SRS (at another k) is still loaded while the second is proven.
    let held = bytes(&first_estimate["srsBytes"]);
    assert_ne!(held, bytes(&second_estimate["srsBytes"]), "{report}");
    assert_eq!(
        bytes(&memory["estimated"]["proveBytes"]),
        bytes(&first_estimate["proveBytes"]).max(bytes(&second_estimate["proveBytes"]) + held),
        "{report}"
    );
    assert!(bytes(&memory["estimatedPeakBytes"]) >= bytes(&memory["estimated"]["keygenBytes"]), "{report}");
    assert!(bytes(&memory["measuredPeakBytes"]) > 0 && bytes(&report["measuredProvePeakBytes"]) > 0, "{report}");

    // A second layer that no layout fits in the budget is refused before the first layer is proven: with a
    // budget just above the first layer's estimate (its keys cached above, its k given), the second layer's
    // sizing fails, naming what it would need.
    let budget = format!(
        "{:.3}",
        bytes(&first_estimate["keygenBytes"]).max(bytes(&first_estimate["proveBytes"])) as f64 * 1.05 / 1e9
    );
    let first_k = first["k"].to_string();
    let started = std::time::Instant::now();
    let agg3 = dir.join("agg3.json");
    let args = ["aggregate", path(&p0), "--out", path(&agg3), "--first-k", &first_k];
    let refused = run(&[&args[..], &["--max-memory", &budget, "--unsafe-dev-srs"]].concat());
    let message = stderr(&refused);
    assert!(!refused.status.success(), "{message}");
    assert!(message.contains("second layer") && message.contains("--max-memory"), "{message}");
    assert!(!message.contains("Proved the first layer"), "refused only after proving: {message}");
    eprintln!("second layer refused in {:.1} s", started.elapsed().as_secs_f64());
    let artifact: Value = serde_json::from_slice(&std::fs::read(&agg).expect("read")).expect("JSON");
    assert_eq!(artifact["first_layer"]["aggregation_hash"], first["aggregationHash"]);
    // The instances are laid out as with one layer: the limbs, then the inference's own instances.
    let inference: Value = serde_json::from_slice(&std::fs::read(&p0).expect("read")).expect("JSON");
    let instances = artifact["instances"].as_array().expect("instances");
    assert_eq!(instances[ACCUMULATOR_LIMBS..], inference["instances"].as_array().expect("instances")[..]);
    assert_eq!(artifact["inner"][0]["offset"], ACCUMULATOR_LIMBS);

    let (valid, evm) = verify_evm(&agg, 10_000_000, &[]);
    eprintln!("two layers, verify --evm: {evm}");
    assert!(valid && evm["native"] == true && evm["evm"]["valid"] == true, "{evm}");
    assert!(evm["evm"]["runtimeBytes"].as_u64().expect("runtime bytes") <= 24_576, "{evm}");

    let cap = 1_000_000;
    let last = instances.len() - 1;
    let tampers: [(&str, Edit); 2] = [
        (
            "instance.json",
            Box::new(move |v: &mut Value| {
                v["instances"][last] = Value::from(bump(v["instances"][last].as_str().expect("hex")))
            }),
        ),
        (
            "accumulator.json",
            Box::new(|v: &mut Value| v["instances"][5] = Value::from(bump(v["instances"][5].as_str().expect("hex")))),
        ),
    ];
    for (name, edit) in tampers {
        let file = tampered(dir, name, &artifact, edit);
        let (valid, report) = verify_evm(&file, cap, &[]);
        assert!(!valid && report["native"] == false && report["evm"]["valid"] == false, "{name}: {report}");
        assert!(report["evm"]["gas"].as_u64().expect("gas") <= cap, "{name}: {report}");
    }
}
