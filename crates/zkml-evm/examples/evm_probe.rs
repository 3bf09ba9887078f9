//! Probe: compile a generated verifier, deploy it in revm, call it with calldata (hex file).
#![allow(missing_docs)]
use std::path::PathBuf;

use zkml_evm::{exec::LocalVerifier, solc};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let source = std::fs::read_to_string(&args[1]).expect("source");
    let hex = std::fs::read_to_string(&args[2]).expect("calldata");
    let calldata: Vec<u8> =
        (0..hex.trim().len()).step_by(2).map(|i| u8::from_str_radix(&hex.trim()[i..i + 2], 16).expect("hex")).collect();
    let t = std::time::Instant::now();
    let compiled = solc::compile(&solc::find_solc(None), "Verifier.sol", &source, "Halo2Verifier").expect("compile");
    eprintln!("compiled in {:.1}s: runtime {} B", t.elapsed().as_secs_f64(), compiled.runtime.len());
    let _ = PathBuf::new();
    match LocalVerifier::deploy(&compiled.creation) {
        Ok(mut v) => {
            eprintln!("deployed runtime {} B", v.runtime_bytes);
            eprintln!("valid: {:?}", v.call(calldata.clone(), 10_000_000));
            let mut bad = calldata.clone();
            let last = bad.len() - 40;
            bad[last] ^= 1;
            eprintln!("tampered proof: {:?}", v.call(bad, 1_000_000));
            let mut bad = calldata.clone();
            bad[12 * 32 + 31] ^= 1;
            eprintln!("tampered instance: {:?}", v.call(bad, 1_000_000));
        }
        Err(e) => eprintln!("deploy failed: {e}"),
    }
}
