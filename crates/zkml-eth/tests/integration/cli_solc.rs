//! Finding the Solidity compiler: run from outside the repository with no `solc` on PATH, `verify --evm`
//! uses the shim of the checkout the binary lives in; a compiler given but missing is an error naming the
//! flag or variable; and commands that compile late check for the compiler before their long work.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::common::stderr;

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

/// PATH without any directory holding a `solc` (node stays reachable for the shim).
fn path_without_solc() -> String {
    let dirs = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .filter(|dir| !dir.join("solc").exists())
        .collect::<Vec<_>>();
    std::env::join_paths(dirs).expect("PATH entries join").into_string().expect("UTF-8 PATH")
}

/// Runs the binary from `cwd` (outside the repository) with no compiler configured or on PATH, and the
/// user's chain settings cleared.
fn run_outside(cwd: &Path, cache: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zkml-eth"));
    cmd.args(args).current_dir(cwd).env("PATH", path_without_solc()).env("ZKML_CACHE_DIR", cache);
    for var in ["ZKML_SOLC", "FOUNDRY_SOLC", "ETH_RPC_URL", "ETH_PRIVATE_KEY", "ZKML_REGISTRY"] {
        cmd.env_remove(var);
    }
    cmd.envs(envs.iter().copied());
    cmd.output().expect("the zkml-eth binary runs")
}

fn ok(output: &Output) -> Value {
    assert!(output.status.success(), "command failed: {}", stderr(output));
    serde_json::from_slice(&output.stdout).expect("--json prints one JSON document")
}

#[test]
fn verify_evm_outside_the_repository_finds_the_checkout_s_compiler() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    assert!(!tmp.path().starts_with(env!("CARGO_MANIFEST_DIR")), "the test runs outside the repository");
    let (cwd, cache, model) = (tmp.path(), tmp.path().join("cache"), tmp.path().join("mlp"));
    let ex = examples();
    let run = |args: &[&str], envs: &[(&str, &str)]| run_outside(cwd, &cache, args, envs);

    let (onnx, calibration) = (ex.join("mlp.onnx"), ex.join("calibration.json"));
    ok(&run(&["--json", "compile", path(&onnx), "--calibration", path(&calibration), "--out", path(&model)], &[]));
    ok(&run(&["--json", "setup", path(&model), "--unsafe-dev-srs"], &[]));
    let test: Value = serde_json::from_str(&std::fs::read_to_string(ex.join("test.json")).unwrap()).unwrap();
    let input = tmp.path().join("input.json");
    std::fs::write(&input, serde_json::json!({ "inputs": [test["inputs"][0]] }).to_string()).unwrap();
    let proof = tmp.path().join("proof.json");
    let args = ["--json", "prove", path(&model), "--input", path(&input), "--out", path(&proof)];
    ok(&run(&[&args[..], &["--transcript", "keccak", "--unsafe-dev-srs"]].concat(), &[]));

    // No --solc, no ZKML_SOLC, no solc on PATH, another working directory: the repository's shim is found.
    let verified = ok(&run(&["--json", "verify", path(&proof), "--evm", "--unsafe-dev-srs"], &[]));
    assert_eq!((verified["valid"].as_bool(), verified["evm"]["valid"].as_bool()), (Some(true), Some(true)));

    // A compiler given but missing is named, whichever way it was given, and fails before any SRS work.
    let missing = tmp.path().join("no-such/solc");
    for (how, args, envs) in
        [("ZKML_SOLC", vec![], vec![("ZKML_SOLC", path(&missing))]), ("--solc", vec!["--solc", path(&missing)], vec![])]
    {
        let started = Instant::now();
        let out = run(&[&["verify", path(&proof), "--evm", "--unsafe-dev-srs"][..], &args].concat(), &envs);
        let text = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{how}: {text}");
        assert!(text.contains(&format!("{how} is {}, which does not exist", missing.display())), "{how}: {text}");
        assert!(text.contains("pass --solc PATH or set ZKML_SOLC=PATH"), "{how}: {text}");
        assert!(!text.contains("No such file or directory") && !text.contains("panicked"), "{how}: {text}");
        assert!(started.elapsed() < Duration::from_secs(5), "{how}: took {:?}", started.elapsed());
    }
}

#[test]
fn bench_checks_for_the_compiler_before_keygen() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let missing = tmp.path().join("no-such/solc");
    let started = Instant::now();
    let out = run_outside(
        tmp.path(),
        &tmp.path().join("cache"),
        &["bench", "--aggregate", "1", "--model", "mlp", "--no-ezkl"],
        &[("ZKML_SOLC", path(&missing))],
    );
    let elapsed = started.elapsed();
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("--aggregate compiles the aggregated verifier") && text.contains("ZKML_SOLC is"), "{text}");
    assert!(!text.contains("keygen"), "nothing ran before the check: {text}");
    // It fails at once (well within a second here; the bound leaves room for a loaded machine).
    assert!(elapsed < Duration::from_secs(3), "the check took {elapsed:?}");
}
