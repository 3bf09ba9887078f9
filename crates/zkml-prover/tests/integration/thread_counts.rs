//! The prover is right for any thread count, not only for the powers of two a CI box has: the FFT, SRS
//! loading and keygen + prove + verify, each run inside explicit rayon pools of 1, 3, 5, 6 and 8 threads.
//!
//! The patched FFT once split each late stage into `half / (2·threads)` butterflies a task; with 3 or 6
//! threads that is not a power of two, the last segment of every group was dropped, and every FFT of 2^12
//! points or more came out wrong (proofs that do not verify, SRS files whose Lagrange check fails).

use crate::common::{root_of_unity, srs_bytes};
use halo2_base::halo2_proofs::{
    SerdeFormat,
    arithmetic::{Field, best_fft},
    fft::baseline,
    halo2curves::{
        bn256::{Fr, G1},
        group::Group,
    },
    poly::EvaluationDomain,
};
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};
use zkml_circuit::{PublicLayout, Visibility, sizing::auto_size};
use zkml_model::quantize::quantize_value;
use zkml_prover::{
    prove::{Transcript, keygen, prove, verify},
    srs::{downsize, generate_unsafe_dev_srs, read_srs, write_srs},
};

/// Thread counts users have that a 2-core CI box does not: odd, even but not powers of two, and more
/// threads than cores.
const THREAD_COUNTS: [usize; 5] = [1, 3, 5, 6, 8];

fn in_pool<T: Send>(threads: usize, work: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a thread pool").install(|| {
        assert_eq!(rayon::current_num_threads(), threads, "the work runs in the chosen pool");
        work()
    })
}

#[test]
fn fft_matches_the_reference_for_every_thread_count() {
    let mut rng = ChaCha20Rng::seed_from_u64(19);
    let domain = EvaluationDomain::<Fr>::new(2, 4);
    let data = domain.get_fft_data(1 << 4);
    // Up to 2^15 on field elements: every late stage (from 2^12) splits into segments. Points at 2^12 reach
    // one late stage, which is where the SRS's Lagrange basis broke.
    let fields: Vec<(u32, Vec<Fr>)> =
        (0..=15).map(|log_n| (log_n, (0..1usize << log_n).map(|_| Fr::random(&mut rng)).collect())).collect();
    let points: Vec<G1> = (0..1 << 12).map(|_| G1::random(&mut rng)).collect();
    let reference = |log_n: u32, input: &[Fr]| {
        let mut out = input.to_vec();
        baseline::fft(&mut out, root_of_unity(log_n), log_n, data, false);
        out
    };
    let field_references: Vec<Vec<Fr>> = fields.iter().map(|(log_n, input)| reference(*log_n, input)).collect();
    let mut point_reference = points.clone();
    baseline::fft(&mut point_reference, root_of_unity(12), 12, data, false);

    for threads in THREAD_COUNTS {
        in_pool(threads, || {
            for ((log_n, input), expected) in fields.iter().zip(&field_references) {
                let mut out = input.clone();
                best_fft(&mut out, root_of_unity(*log_n), *log_n, data, false);
                assert!(out == *expected, "field elements, 2^{log_n}, {threads} threads");
            }
            let mut out = points.clone();
            best_fft(&mut out, root_of_unity(12), 12, data, false);
            assert!(out == point_reference, "points, 2^12, {threads} threads");
        });
    }
}

#[test]
fn srs_files_load_and_downsize_for_every_thread_count() {
    // Reading a file checks its Lagrange basis with an FFT of 2^13 values; downsizing recomputes the basis
    // with an FFT of 2^12 points. Both were wrong with 3 or 6 threads.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kzg_bn254_13.srs");
    write_srs(&generate_unsafe_dev_srs(13), &path).unwrap();
    let expected_small = srs_bytes(&generate_unsafe_dev_srs(12));
    for threads in THREAD_COUNTS {
        in_pool(threads, || {
            let params = read_srs(&path).unwrap_or_else(|e| panic!("{threads} threads: {e}"));
            let small = downsize(params, 12, &path).unwrap();
            assert!(srs_bytes(&small) == expected_small, "downsized basis, {threads} threads");
        });
    }
}

#[test]
fn keygen_prove_and_verify_for_every_thread_count() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits");
    let compiled = zkml_model::CompiledModel::compile(
        &dir.join("mlp.onnx"),
        None,
        &dir.join("calibration.json"),
        zkml_model::CalibrationOptions::default(),
    )
    .expect("the digits MLP compiles");
    let model = &compiled.quantized;
    let layout = PublicLayout::new(model, Visibility::default());
    let size = auto_size(model, &layout, None).expect("the model fits");
    assert!(size.k >= 12, "the circuit is large enough for the FFT's split stages (k = {})", size.k);
    let params = generate_unsafe_dev_srs(size.k);
    let data = zkml_model::data::DataSet::load(&dir.join("test.json"), model.input_len()).expect("the test data loads");
    let input: Vec<i64> = data.inputs[0].iter().map(|v| quantize_value(*v as f64, model.scales.activation)).collect();

    // The keys and proofs of the default pool are the reference every other pool is checked against.
    let reference_keys = keygen(&params, model, &layout, &size).unwrap();
    let vk_bytes = |keys: &zkml_prover::prove::ModelKeys| keys.vk().to_bytes(SerdeFormat::RawBytes);
    for threads in THREAD_COUNTS {
        let (keys, proof) = in_pool(threads, || {
            let keys = keygen(&params, model, &layout, &size).unwrap();
            let proof = prove(&params, &keys, model, &input, Transcript::Keccak).unwrap();
            assert!(verify(&params, keys.vk(), &proof), "{threads} threads: the pool's own proof verifies there");
            (keys, proof)
        });
        assert!(vk_bytes(&keys) == vk_bytes(&reference_keys), "{threads} threads: the same verifying key");
        assert!(verify(&params, reference_keys.vk(), &proof), "{threads} threads: the proof verifies elsewhere");
        let mut tampered = proof.clone();
        tampered.proof[proof.proof.len() / 3] ^= 1;
        assert!(!verify(&params, reference_keys.vk(), &tampered), "{threads} threads: a flipped byte verified");
    }
}
