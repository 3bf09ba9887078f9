//! `zkml-eth setup`, `prove` and `verify`, run as the real binary on the digits MLP with the development
//! SRS and a private cache directory.

use std::{
    path::{Path, PathBuf},
    process::Output,
};

use crate::common::{json, stderr};
use serde_json::{Value, json};

/// A compiled digits MLP and a private cache, in one temporary directory.
struct Fixture {
    tmp: tempfile::TempDir,
    model: PathBuf,
    cache: PathBuf,
}

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

impl Fixture {
    /// Compiles `examples/digits/mlp.onnx` with `zkml-eth compile`.
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("a temporary directory");
        let model = tmp.path().join("mlp");
        let cache = tmp.path().join("cache");
        let ex = examples();
        let fixture = Self { tmp, model, cache };
        let (onnx, calibration) = (ex.join("mlp.onnx"), ex.join("calibration.json"));
        let compiled = fixture.run(&[
            "-q",
            "compile",
            path(&onnx),
            "--calibration",
            path(&calibration),
            "--out",
            path(&fixture.model),
        ]);
        assert!(compiled.status.success(), "compile failed: {}", stderr(&compiled));
        fixture
    }

    /// Runs the binary with this fixture's cache directory.
    fn run(&self, args: &[&str]) -> Output {
        crate::common::zkml_eth(args, &[("ZKML_CACHE_DIR", path(&self.cache))])
    }

    /// A path inside the temporary directory.
    fn file(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// Writes the first `n` samples of the digits test set, with `edit` applied, as an input file.
    fn input(&self, name: &str, n: usize, edit: impl FnOnce(&mut Vec<Vec<f64>>)) -> PathBuf {
        let text = std::fs::read_to_string(examples().join("test.json")).expect("the test set reads");
        let data: Value = serde_json::from_str(&text).expect("the test set is JSON");
        let mut inputs: Vec<Vec<f64>> =
            serde_json::from_value(data["inputs"].clone()).expect("inputs are arrays of numbers");
        inputs.truncate(n);
        edit(&mut inputs);
        let file = self.file(name);
        std::fs::write(&file, json!({ "inputs": inputs }).to_string()).expect("the input file writes");
        file
    }

    fn setup(&self, extra: &[&str]) -> Value {
        let mut args = vec!["--json", "setup", path(&self.model), "--unsafe-dev-srs"];
        args.extend(extra);
        json(&self.run(&args))
    }

    fn prove(&self, input: &Path, out: &Path, extra: &[&str]) -> Output {
        let mut args = vec!["--json", "prove", path(&self.model), "--input", path(input), "--out", path(out)];
        args.push("--unsafe-dev-srs");
        args.extend(extra);
        self.run(&args)
    }

    fn verify(&self, proof: &Path) -> Output {
        self.run(&["--json", "verify", path(proof), "--unsafe-dev-srs"])
    }
}

/// A small circuit for the fixed-weights tests: every command loads the SRS at `k`, and loading validates
/// it at a cost that grows with `2^k`. Automatic sizing is exercised by the committed-weights test.
const SMALL_K: &str = "10";

fn read_json(file: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(file).expect("the file reads")).expect("the file is JSON")
}

fn write_json(file: &Path, value: &Value) {
    std::fs::write(file, serde_json::to_string_pretty(value).expect("JSON serializes")).expect("the file writes");
}

/// Flips the lowest bit of the hex digit at `index` (after "0x") of a hex string.
fn flip_hex_digit(hex: &str, index: usize) -> String {
    let mut chars: Vec<char> = hex.chars().collect();
    let digit = chars[2 + index].to_digit(16).expect("a hex digit");
    chars[2 + index] = std::char::from_digit(digit ^ 1, 16).expect("a hex digit");
    chars.into_iter().collect()
}

fn assert_fails_with(output: &Output, needle: &str) {
    assert_eq!(output.status.code(), Some(1), "expected failure, stderr: {}", stderr(output));
    assert!(stderr(output).contains(needle), "expected '{needle}' in: {}", stderr(output));
}

#[test]
fn setup_prove_verify_and_tampered_proofs_fail() {
    let f = Fixture::new();
    let first = f.setup(&["--k", SMALL_K]);
    assert_eq!(first["k"], 10);
    assert_eq!(first["lookupBits"], 9, "lookup bits default to k - 1");
    assert_eq!(first["keys"], "miss", "{first}");
    assert_eq!(first["unsafeSrs"], true);
    assert_eq!(first["visibility"], json!({"input": "public", "weights": "fixed", "output": "public"}));
    let circuit = read_json(&f.model.join("circuit.json"));
    assert_eq!(circuit["circuit_hash"], first["circuitHash"]);
    assert!(f.model.join("vk.bin").is_file());

    // Again: the same circuit hash, keys from the cache; the human summary says so and warns loudly.
    let human = f.run(&["setup", path(&f.model), "--unsafe-dev-srs"]);
    assert!(human.status.success(), "{}", stderr(&human));
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("keys              cached ("), "{text}");
    assert!(stderr(&human).contains("WARNING: UNSAFE development SRS"), "{}", stderr(&human));
    let again = f.setup(&[]);
    assert_eq!(again["keys"], "hit");
    assert_eq!(again["circuitHash"], first["circuitHash"]);

    // One sample -> one artifact whose outputs are the model's.
    let input = f.input("one.json", 1, |_| {});
    let proof = f.file("proof.json");
    let report = json(&f.prove(&input, &proof, &[]));
    assert_eq!(report["keys"], "hit", "{report}");
    assert_eq!(report["proofs"].as_array().expect("proofs").len(), 1);
    let artifact = read_json(&proof);
    assert_eq!(artifact["format"], "zkml-eth-proof/1");
    assert_eq!(artifact["circuit_hash"], first["circuitHash"]);
    assert_eq!(artifact["model_commitment"], first["modelCommitment"]);
    assert_eq!(artifact["srs"], "unsafe-dev");
    for instance in artifact["instances"].as_array().expect("instances") {
        let s = instance.as_str().expect("hex");
        assert!(s.len() == 66 && s.starts_with("0x"), "{s}");
    }
    assert_eq!(artifact["outputs"].as_array().expect("outputs").len(), 10);

    let verified = json(&f.verify(&proof));
    assert_eq!(verified["valid"], true, "{verified}");
    assert_eq!(verified["outputs"], artifact["outputs"]);
    let human = f.run(&["verify", path(&proof), "--unsafe-dev-srs"]);
    assert!(String::from_utf8_lossy(&human.stdout).starts_with("valid"), "{}", stderr(&human));

    // A forged input instance, then one flipped proof byte: both rejected with a non-zero exit.
    let mut forged = artifact.clone();
    forged["instances"][0] = json!(flip_hex_digit(artifact["instances"][0].as_str().expect("hex"), 63));
    let forged_file = f.file("forged.json");
    write_json(&forged_file, &forged);
    let rejected = f.verify(&forged_file);
    assert_fails_with(&rejected, "INVALID proof");
    assert_eq!(serde_json::from_slice::<Value>(&rejected.stdout).expect("--json prints the report")["valid"], false);

    let mut flipped = artifact.clone();
    let middle = artifact["proof"].as_str().expect("hex").len() / 2;
    flipped["proof"] = json!(flip_hex_digit(artifact["proof"].as_str().expect("hex"), middle));
    let flipped_file = f.file("flipped.json");
    write_json(&flipped_file, &flipped);
    assert_fails_with(&f.verify(&flipped_file), "does not verify");

    // Outputs edited in the artifact without touching the instances: the proof verifies, the claim not.
    let mut lying = artifact.clone();
    lying["outputs"][0] = json!(99.0);
    let lying_file = f.file("lying.json");
    write_json(&lying_file, &lying);
    assert_fails_with(&f.verify(&lying_file), "\"outputs\" differ");

    // An existing proof is not overwritten without --force.
    let refused = f.prove(&input, &proof, &[]);
    assert_fails_with(&refused, "already exists: pass --force to overwrite");
    assert_eq!(read_json(&proof), artifact, "the refused run left the proof alone");
    let forced = json(&f.prove(&input, &proof, &["--force"]));
    assert_eq!(forced["proofs"][0]["sample"], 0);

    // Several samples: --out is a directory of numbered proofs; each verifies.
    let batch = f.input("batch.json", 2, |_| {});
    let dir = f.file("proofs");
    let report = json(&f.prove(&batch, &dir, &["--transcript", "keccak"]));
    assert_eq!(report["proofs"].as_array().expect("proofs").len(), 2);
    for name in ["proof-0.json", "proof-1.json"] {
        let file = dir.join(name);
        assert_eq!(read_json(&file)["transcript"], "keccak");
        assert_eq!(json(&f.verify(&file))["valid"], true, "{name}");
    }
}

#[test]
fn prove_errors_name_the_problem() {
    let f = Fixture::new();
    let input = f.input("one.json", 1, |_| {});
    let proof = f.file("proof.json");

    let not_set_up = f.prove(&input, &proof, &[]);
    assert_fails_with(&not_set_up, "circuit.json not found: run `zkml-eth setup");

    let no_srs = f.run(&["setup", path(&f.model)]);
    assert_fails_with(&no_srs, "--srs FILE");
    assert!(stderr(&no_srs).contains("--unsafe-dev-srs"), "{}", stderr(&no_srs));

    // A circuit over the memory budget is refused before keygen, with the figure it would need.
    let over = f.run(&["setup", path(&f.model), "--max-memory", "0.001", "--unsafe-dev-srs"]);
    assert_fails_with(&over, "GB to prove, over the 0.0 GB budget (--max-memory");
    assert!(!f.model.join("circuit.json").exists(), "nothing is written");

    f.setup(&["--k", SMALL_K]);
    // A pixel of 1000.0 is far outside the calibrated [0, 1]: the executor names the sample and the node.
    let outside = f.input("outside.json", 1, |inputs| inputs[0][5] = 1000.0);
    let refused = f.prove(&outside, &proof, &[]);
    assert_fails_with(&refused, "sample 0 of");
    assert!(stderr(&refused).contains("at node 'input'"), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("outside its calibrated range"), "{}", stderr(&refused));
    assert!(!proof.exists(), "no proof is written");

    // Flags that disagree with circuit.json are refused, not silently applied.
    let conflict = f.run(&["setup", path(&f.model), "--weights", "committed", "--unsafe-dev-srs"]);
    assert_fails_with(&conflict, "circuit.json sets visibility.weights = fixed but --weights committed was given");

    // A damaged cache entry is an error naming the file and what to delete.
    let key_dir = PathBuf::from(f.setup(&[])["keyDir"].as_str().expect("keyDir"));
    let pk = key_dir.join("pk.bin");
    let len = std::fs::metadata(&pk).expect("pk.bin exists").len();
    std::fs::OpenOptions::new().write(true).open(&pk).expect("pk.bin opens").set_len(len / 2).expect("truncates");
    let damaged = f.prove(&input, &proof, &[]);
    assert_fails_with(&damaged, "pk.bin: damaged key cache entry");
    assert!(stderr(&damaged).contains(&format!("delete {}", key_dir.display())), "{}", stderr(&damaged));
}

#[test]
fn committed_weights_and_hashed_inputs_round_trip() {
    let f = Fixture::new();
    let setup = f.setup(&["--weights", "committed", "--input", "hashed"]);
    assert_eq!(setup["visibility"], json!({"input": "hashed", "weights": "committed", "output": "public"}));
    assert_eq!(setup["publicElements"], 3, "commitment, input hash, packed outputs: {setup}");

    let input = f.input("one.json", 1, |_| {});
    let proof = f.file("proof.json");
    json(&f.prove(&input, &proof, &[]));
    let artifact = read_json(&proof);
    assert_eq!(artifact["instances"].as_array().expect("instances").len(), 3);
    // The first instance is the model commitment: the registry's bytes32.
    assert_eq!(artifact["instances"][0], setup["modelCommitment"]);

    let verified = json(&f.verify(&proof));
    assert_eq!(verified["valid"], true, "{verified}");
    assert_eq!(verified["modelCommitment"], setup["modelCommitment"]);
    assert_eq!(verified["outputs"].as_array().expect("outputs are public").len(), 10);

    // A forged commitment instance does not verify.
    let mut forged = artifact.clone();
    forged["instances"][0] = json!(flip_hex_digit(artifact["instances"][0].as_str().expect("hex"), 63));
    let forged_file = f.file("forged.json");
    write_json(&forged_file, &forged);
    assert_fails_with(&f.verify(&forged_file), "INVALID proof");
}
