//! Helpers shared by the integration tests: a real anvil as a child process.

use std::path::PathBuf;

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
