//! Probe: aggregate N digits-MLP proofs at outer size k and report sizes and timings.
//! Usage: agg_probe N K OUT_DIR
#![allow(missing_docs)]
use std::{path::PathBuf, time::Instant};

use halo2_base::halo2_proofs::poly::commitment::Params;
use snark_verifier_sdk::{
    SHPLONK,
    evm::{encode_calldata, gen_evm_verifier_sol_code},
    halo2::aggregation::AggregationCircuit,
};
use zkml_circuit::{PublicLayout, Visibility, sizing::auto_size};
use zkml_model::{CalibrationOptions, CompiledModel, data::DataSet, quantize::quantize_value};
use zkml_prover::{
    aggregate::{InnerProof, aggregate, keygen, verify},
    prove::{Transcript, keygen as inner_keygen, prove},
    srs::SrsSource,
};

fn rss() -> String {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines().filter(|l| l.starts_with("VmHWM") || l.starts_with("VmRSS")).collect::<Vec<_>>().join(" ")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args[1].parse().expect("N");
    let k: u32 = args[2].parse().expect("K");
    let out = PathBuf::from(&args[3]);
    std::fs::create_dir_all(&out).expect("out dir");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = root.join("examples/digits");
    let compiled = CompiledModel::compile(
        &dir.join("mlp.onnx"),
        None,
        &dir.join("calibration.json"),
        CalibrationOptions::default(),
    )
    .expect("compile");
    let model = &compiled.quantized;
    let layout = PublicLayout::new(model, Visibility::default());
    let size = auto_size(model, &layout).expect("size");
    let t = Instant::now();
    let srs = SrsSource::UnsafeDev { cache_dir: root.join(".zkml-cache/srs"), max_k: k };
    let outer_params = srs.params(k).expect("outer srs");
    let inner_params = srs.params(size.k).expect("inner srs");
    eprintln!("srs {:.1}s {}", t.elapsed().as_secs_f64(), rss());
    let keys = inner_keygen(&inner_params, model, &layout, &size).expect("inner keygen");
    let data = DataSet::load(&dir.join("test.json"), 64).expect("data");
    let t = Instant::now();
    let proofs: Vec<InnerProof> = (0..n)
        .map(|i| {
            let input: Vec<i64> =
                data.inputs[i].iter().map(|v| quantize_value(*v as f64, model.scales.activation)).collect();
            let p = prove(&inner_params, &keys, model, &input, Transcript::Poseidon).expect("prove");
            InnerProof::new(&inner_params, keys.vk(), &p).expect("inner")
        })
        .collect();
    eprintln!("inner proofs {:.1}s", t.elapsed().as_secs_f64());
    let protocols: Vec<_> = proofs.iter().map(|p| p.protocol().clone()).collect();
    let t = Instant::now();
    let agg_keys = keygen(&outer_params, &protocols).expect("agg keygen");
    eprintln!(
        "agg keygen {:.1}s config {:?} instances {} {}",
        t.elapsed().as_secs_f64(),
        agg_keys.shape.config,
        agg_keys.shape.num_instance,
        rss()
    );
    {
        use halo2_base::gates::circuit::CircuitBuilderStage;
        use snark_verifier_sdk::halo2::aggregation::VerifierUniversality;
        let t = Instant::now();
        let mut c = AggregationCircuit::new::<SHPLONK>(
            CircuitBuilderStage::Prover,
            agg_keys.shape.config,
            &outer_params,
            proofs.iter().map(|p| p.snark().clone()),
            VerifierUniversality::None,
        );
        c.expose_previous_instances(false);
        let stats = c.builder.statistics();
        eprintln!(
            "witness gen {:.1}s advice cells {:?} lookup cells {:?} fixed {}",
            t.elapsed().as_secs_f64(),
            stats.gate.total_advice_per_phase,
            stats.total_lookup_advice_per_phase,
            stats.gate.total_fixed
        );
    }
    let t = Instant::now();
    let agg = aggregate(&outer_params, &agg_keys, &proofs).expect("aggregate");
    eprintln!("agg prove {:.1}s proof {} B {}", t.elapsed().as_secs_f64(), agg.proof.len(), rss());
    let t = Instant::now();
    assert!(verify(&outer_params, agg_keys.vk(), &agg));
    eprintln!("native verify {:.3}s", t.elapsed().as_secs_f64());
    let sol = gen_evm_verifier_sol_code::<AggregationCircuit, SHPLONK>(
        &outer_params,
        agg_keys.vk(),
        vec![agg_keys.shape.num_instance],
    );
    std::fs::write(out.join("Verifier.sol"), sol).expect("write");
    std::fs::write(out.join("calldata.hex"), hex(&encode_calldata(&[agg.instances.clone()], &agg.proof)))
        .expect("write");
    eprintln!("outer k {}", outer_params.k());
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
