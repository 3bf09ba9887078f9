//! Helpers shared by the integration tests: a real anvil as a child process, and the real `zkml-eth`
//! binary.

use std::{
    path::PathBuf,
    process::{Command, Output},
};

use serde_json::Value;

use alloy::node_bindings::{Anvil, AnvilInstance};

/// The hardfork pinned in foundry.toml, so anvil executes what forge compiled and tested.
pub(crate) const HARDFORK: &str = "prague";

/// The repo's anvil (npm `@foundry-rs/anvil-linux-amd64`), or `ZKML_ANVIL`.
pub(crate) fn anvil_bin() -> PathBuf {
    std::env::var_os("ZKML_ANVIL")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../node_modules/.bin/anvil"))
}

/// Starts anvil on 127.0.0.1 on a port it picks itself (`--port 0`; alloy reads the real port from its
/// "Listening on" line). Dropping the handle stops the process by PID, also while a test unwinds.
pub(crate) fn spawn_anvil() -> AnvilInstance {
    let bin = anvil_bin();
    assert!(bin.exists(), "anvil not found at {}: run `npm ci` in the repo root", bin.display());
    Anvil::at(bin)
        .arg("--host")
        .arg("127.0.0.1")
        .arg("--hardfork")
        .arg(HARDFORK)
        .try_spawn()
        .expect("anvil starts and reports its port")
}

/// Runs the `zkml-eth` binary with `args`, with the user's chain settings cleared and `envs` set.
pub(crate) fn zkml_eth(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zkml-eth"));
    for var in ["ETH_RPC_URL", "ETH_PRIVATE_KEY", "ETH_KEYSTORE", "ETH_PASSWORD", "ZKML_REGISTRY"] {
        cmd.env_remove(var);
    }
    cmd.args(args);
    for (key, value) in envs {
        cmd.env(key, value);
    }
    cmd.output().expect("the zkml-eth binary runs")
}

/// The JSON document a successful `--json` command printed.
pub(crate) fn json(output: &Output) -> Value {
    assert!(output.status.success(), "command failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("--json prints one JSON document")
}

/// What a command printed on stderr.
pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// True while process `pid` runs: a reaped process has no /proc entry, a zombie shows state Z.
pub(crate) fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.split_whitespace().nth(2) != Some("Z"),
        Err(_) => false,
    }
}
