//! The committed aggregated proof (`test/fixtures/aggregated`, two digits-MLP proofs) through its real
//! generated verifier with the repeated runs rolled into loops: same verdicts as the straight-line code,
//! valid accepted, every tampering rejected within a gas cap, and less runtime code.

use std::path::PathBuf;

use serde_json::Value;
use zkml_evm::{
    exec::LocalVerifier,
    roll::roll_loops,
    solc::{CompiledContract, compile, find_solc},
};

/// Gas a rejection may use: a tampered proof must not burn an unbounded amount.
const CAP: u64 = 1_000_000;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test/fixtures/aggregated")
}

fn hex_bytes(text: &str) -> Vec<u8> {
    let digits = text.trim().trim_start_matches("0x");
    (0..digits.len() / 2).map(|i| u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).expect("hex")).collect()
}

/// Raw calldata of the fixture (instances, then the proof) and the number of instances.
fn calldata() -> (Vec<u8>, usize) {
    let text = std::fs::read_to_string(fixture().join("aggregated.json")).expect("read the fixture");
    let artifact: Value = serde_json::from_str(&text).expect("fixture JSON");
    let instances = artifact["instances"].as_array().expect("instances");
    let mut data: Vec<u8> = instances.iter().flat_map(|v| hex_bytes(v.as_str().expect("hex string"))).collect();
    data.extend(hex_bytes(artifact["proof"].as_str().expect("proof")));
    (data, instances.len())
}

fn compiled(source: &str) -> CompiledContract {
    compile(&find_solc(None), "Halo2Verifier.sol", source, "Halo2Verifier").expect("compiles")
}

/// (accepted, gas) of one call.
fn call(code: &CompiledContract, data: Vec<u8>) -> (bool, u64) {
    let mut chain = LocalVerifier::deploy(&code.creation).expect("deploys");
    let outcome = chain.call(data, CAP).expect("runs");
    (outcome.success, outcome.gas_used)
}

#[test]
fn rolled_verifier_keeps_every_verdict_and_shrinks() {
    let straight_source = std::fs::read_to_string(fixture().join("Halo2Verifier.sol.txt")).expect("read source");
    let straight = compiled(&straight_source);
    let (data, num_instances) = calldata();
    let (accepted, straight_gas) = call(&straight, data.clone());
    assert!(accepted, "the fixture verifies with the straight-line verifier");

    let flip = |offset: usize| {
        let mut tampered = data.clone();
        tampered[offset] ^= 1;
        tampered
    };
    let tamperings = [
        ("accumulator limb", flip(31)),
        ("inner instance", flip(31 + 32 * (num_instances - 1))),
        ("proof", flip(data.len() - 100)),
    ];
    for min_repeats in [16, 8] {
        let source = roll_loops(&straight_source, min_repeats);
        assert!(source.contains("for {"), "runs of {min_repeats}+ were rolled");
        let rolled = compiled(&source);
        assert!(
            rolled.runtime.len() < straight.runtime.len(),
            "{} vs {}",
            rolled.runtime.len(),
            straight.runtime.len()
        );
        let (accepted, gas) = call(&rolled, data.clone());
        assert!(accepted, "runs of {min_repeats}+ rolled: the real proof verifies");
        for (what, tampered) in &tamperings {
            let (accepted, gas) = call(&rolled, tampered.clone());
            assert!(!accepted && gas <= CAP, "runs of {min_repeats}+ rolled: tampered {what} rejected ({gas} gas)");
        }
        eprintln!(
            "runs of {min_repeats}+ rolled: {} -> {} bytes, {straight_gas} -> {gas} gas",
            straight.runtime.len(),
            rolled.runtime.len()
        );
    }
}
