//! `zkml-eth gen-verifier` on the digits MLP, with a private cache: a verifier built from the development
//! SRS says so in its source, its report and once on stderr, also with `--quiet`; the report gives the
//! proof length the on-chain adapter pins; an SRS other than the one of `setup` is refused. The circuit is
//! sized automatically (`k = 14`, one advice column, about a second to prove): at a `k` small enough for
//! lookups it needs so many columns that its verifier would not fit EIP-170.

use std::{
    path::{Path, PathBuf},
    process::Output,
};

use crate::common::{json, stderr};
use halo2_base::halo2_proofs::{halo2curves::bn256::Bn256, poly::kzg::commitment::ParamsKZG};
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};
use serde_json::Value;
use zkml_prover::srs::write_srs;

/// The warning every command prints when it loads the development SRS.
const WARNING: &str = "WARNING: UNSAFE development SRS";
/// What a verifier built from the development SRS carries in its source.
const MARKER: &str = "bool internal constant UNSAFE_DEV_SRS = true;";

fn path(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A compiled and set-up digits MLP with one keccak proof, in a temporary directory with its own cache.
struct Fixture {
    tmp: tempfile::TempDir,
    model: PathBuf,
    cache: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("a temporary directory");
        let model = tmp.path().join("mlp");
        let cache = tmp.path().join("cache");
        let f = Self { tmp, model, cache };
        let digits = repo().join("examples/digits");
        let (onnx, calibration) = (digits.join("mlp.onnx"), digits.join("calibration.json"));
        f.ok(&["-q", "compile", path(&onnx), "--calibration", path(&calibration), "--out", path(&f.model)]);
        f.ok(&["-q", "setup", path(&f.model), "--unsafe-dev-srs"]);
        let test = digits.join("test.json");
        let proof = f.file("proof.json");
        let prove = ["-q", "prove", path(&f.model), "--input", path(&test), "--sample", "0", "--out", path(&proof)];
        f.ok(&[&prove[..], &["--transcript", "keccak", "--unsafe-dev-srs"]].concat());
        f
    }

    /// `DIR/circuit.json`.
    fn circuit(&self) -> Value {
        let text = std::fs::read_to_string(self.model.join("circuit.json")).expect("setup wrote circuit.json");
        serde_json::from_str(&text).expect("circuit.json is JSON")
    }

    /// log2 of the circuit's rows, as setup sized it.
    fn k(&self) -> u32 {
        self.circuit()["k"].as_u64().expect("circuit.json records k") as u32
    }

    fn file(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    fn run(&self, args: &[&str]) -> Output {
        let solc = repo().join("tools/solc/solc");
        crate::common::zkml_eth(args, &[("ZKML_CACHE_DIR", path(&self.cache)), ("ZKML_SOLC", path(&solc))])
    }

    fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert!(out.status.success(), "zkml-eth {args:?} failed: {}", stderr(&out));
        out
    }

    /// `gen-verifier --model` into `name`, with the SRS arguments `srs` and any `extra` global flags.
    fn gen_verifier(&self, extra: &[&str], name: &str, srs: &[&str]) -> Output {
        let out = self.file(name);
        let args = [extra, &["gen-verifier", "--model", path(&self.model), "--out", path(&out)], srs].concat();
        self.run(&args)
    }
}

fn warnings(output: &Output) -> usize {
    stderr(output).matches(WARNING).count()
}

#[test]
fn a_verifier_from_the_development_srs_says_so_everywhere() {
    let f = Fixture::new();
    let proof: Value = serde_json::from_str(&std::fs::read_to_string(f.file("proof.json")).expect("read"))
        .expect("the proof artifact is JSON");
    let proof_hex = proof["proof"].as_str().expect("the artifact has a proof");
    let proof_bytes = (proof_hex.len() - 2) / 2;

    // The JSON report says it, and gives what the adapter needs.
    let reported = f.gen_verifier(&["--json"], "Reported.sol", &["--unsafe-dev-srs"]);
    let report = json(&reported);
    assert_eq!(report["unsafeSrs"], true, "{report}");
    assert_eq!(report["srs"], "unsafe-dev", "{report}");
    assert_eq!(report["instances"].as_u64(), Some(proof["instances"].as_array().expect("instances").len() as u64));
    assert_eq!(report["proofBytes"].as_u64(), Some(proof_bytes as u64), "the adapter would refuse real proofs");
    assert_eq!(warnings(&reported), 1, "{}", stderr(&reported));
    let source = std::fs::read_to_string(f.file("Reported.sol")).expect("the verifier was written");
    assert!(source.contains(MARKER), "no marker in the source");
    assert!(source.contains("// WARNING: UNSAFE development SRS"), "no warning comment in the source");

    // --quiet prints nothing else, but still the warning, once.
    let quiet = f.gen_verifier(&["-q"], "Quiet.sol", &["--unsafe-dev-srs"]);
    assert!(quiet.status.success(), "{}", stderr(&quiet));
    assert!(quiet.stdout.is_empty(), "{}", String::from_utf8_lossy(&quiet.stdout));
    assert_eq!(warnings(&quiet), 1, "{}", stderr(&quiet));
    assert!(std::fs::read_to_string(f.file("Quiet.sol")).expect("written").contains(MARKER));

    // People see it too, once.
    let human = f.gen_verifier(&[], "Human.sol", &["--unsafe-dev-srs"]);
    assert!(human.status.success(), "{}", stderr(&human));
    assert_eq!(warnings(&human), 1, "{}", stderr(&human));
    assert!(String::from_utf8_lossy(&human.stdout).contains("UNSAFE development SRS"));
    assert!(String::from_utf8_lossy(&human.stdout).contains(&format!("{proof_bytes}-byte proofs")));

    // The development SRS passed as a file is no safer: the parameters are recognised, not the flag.
    let dev_file = f.cache.join("srs").join(format!("kzg_bn254_{}.UNSAFE-DEV.srs", f.k()));
    assert!(dev_file.is_file(), "setup cached the development SRS at {}", dev_file.display());
    let as_file = f.gen_verifier(&["--json"], "AsFile.sol", &["--srs", path(&dev_file)]);
    assert_eq!(json(&as_file)["unsafeSrs"], true);
    assert_eq!(warnings(&as_file), 1, "{}", stderr(&as_file));
    assert!(std::fs::read_to_string(f.file("AsFile.sol")).expect("written").contains(MARKER));

    // `verify --evm` loads the SRS twice (natively, then to build the verifier) and still warns once.
    let verified = f.ok(&["-q", "verify", path(&f.file("proof.json")), "--evm", "--unsafe-dev-srs"]);
    assert_eq!(warnings(&verified), 1, "{}", stderr(&verified));
}

#[test]
fn gen_verifier_refuses_an_srs_other_than_the_setups() {
    let f = Fixture::new();
    // A real SRS in halo2's format, from a secret that is not the development one.
    let other = f.file("other.srs");
    let params = ParamsKZG::<Bn256>::setup(f.k(), ChaCha20Rng::seed_from_u64(0x5eed));
    write_srs(&params, &other).expect("the SRS file writes");

    let refused = f.gen_verifier(&["-q"], "Other.sol", &["--srs", path(&other)]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    let err = stderr(&refused);
    let circuit = f.circuit();
    let recorded = circuit["srs_fingerprint"].as_str().expect("circuit.json records the SRS fingerprint");
    for needle in [path(&f.model.join("circuit.json")), "unsafe-dev", recorded, path(&other), "fingerprint 0x"] {
        assert!(err.contains(needle), "expected '{needle}' in: {err}");
    }
    assert_eq!(err.matches("fingerprint 0x").count(), 2, "both fingerprints: {err}");
    assert!(!err.contains(WARNING), "a real SRS is not the development one: {err}");
    assert!(!f.file("Other.sol").exists(), "a verifier was written for the wrong SRS");
}
