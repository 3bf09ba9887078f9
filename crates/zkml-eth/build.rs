//! Compiles the Solidity package with the repo's forge and solc shim so that `alloy::sol!` can bind the
//! contracts from their real artifacts (ABI and bytecode), never from a hand-copied ABI.

use std::{
    env,
    path::{Path, PathBuf},
    process::Command,
};

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest_dir.join("../..").canonicalize().expect("the crate lives at crates/zkml-eth in the repo");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));

    for watched in ["contracts", "foundry.toml", "tools/solc/solc", "package-lock.json"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=ZKML_FORGE");

    let forge = env::var_os("ZKML_FORGE").map(PathBuf::from).unwrap_or_else(|| root.join("node_modules/.bin/forge"));
    require(&forge, "forge");
    let solc = root.join("tools/solc/solc");
    require(&solc, "the solc shim");

    // A private out/cache directory: a concurrent `forge build` in the repo never races with this one.
    let output = Command::new(&forge)
        .current_dir(&root)
        .env("FOUNDRY_SOLC", &solc)
        .args(["build", "--skip", "test", "--skip", "script", "--out"])
        .arg(out_dir.join("forge-out"))
        .arg("--cache-path")
        .arg(out_dir.join("forge-cache"))
        .output()
        .unwrap_or_else(|e| panic!("could not run {}: {e}", forge.display()));
    if !output.status.success() {
        panic!(
            "`forge build` of contracts/ failed ({}):\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

fn require(path: &Path, what: &str) {
    if !path.exists() {
        panic!(
            "{what} not found at {}: install the EVM toolchain first with `npm ci` (or `make deps`) in the repo root",
            path.display()
        );
    }
}
