//! The repo's `solc` shim (tools/solc/solc) must satisfy snark-verifier's `compile_solidity`, which runs
//! `solc --bin -` from PATH and hex-decodes the last whitespace-separated token of stdout, and the
//! bytecode it returns must deploy and run in revm under mainnet limits.

use std::path::PathBuf;

use snark_verifier::loader::evm::{compile_solidity, deploy_and_call};

/// A fallback-only contract, shaped like snark-verifier's generated verifiers: raw calldata in, revert on
/// a failed check, empty success otherwise.
const CHECKER: &str = r#"// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;
contract ProductChecker {
    fallback(bytes calldata input) external returns (bytes memory) {
        (uint256 a, uint256 b) = abi.decode(input, (uint256, uint256));
        require(a * b == 42, "wrong product");
        return "";
    }
}
"#;

fn words(a: u64, b: u64) -> Vec<u8> {
    let mut calldata = vec![0u8; 64];
    calldata[24..32].copy_from_slice(&a.to_be_bytes());
    calldata[56..64].copy_from_slice(&b.to_be_bytes());
    calldata
}

#[test]
fn snark_verifier_compiles_through_the_shim_and_revm_runs_the_bytecode() {
    let shim_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tools/solc").canonicalize().unwrap();
    assert!(shim_dir.join("solc").exists(), "the shim lives at tools/solc/solc");
    let path = std::env::join_paths(
        std::iter::once(shim_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    // SAFETY: compile_solidity only finds `solc` through PATH. The other tests of this binary
    // (rolled_verifier) read the environment only through std (`env::var_os`, `Command`), which
    // synchronizes with `set_var`, and no foreign code reads it while they run; the shim put first on PATH
    // is the compiler they would find there anyway.
    unsafe { std::env::set_var("PATH", path) };

    let bytecode = compile_solidity(CHECKER);
    assert_eq!(&bytecode[..2], &[0x60, 0x80], "creation code, decoded from hex");

    let gas = deploy_and_call(bytecode.clone(), words(6, 7)).expect("6 * 7 passes the check");
    assert!(gas > 21_000, "a real call was executed ({gas} gas)");
    let err = deploy_and_call(bytecode, words(6, 8)).expect_err("6 * 8 fails the check");
    assert!(err.contains("reverts"), "{err}");
}
