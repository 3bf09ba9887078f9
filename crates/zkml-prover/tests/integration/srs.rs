//! KZG parameters: the development SRS, validation of parameter files, and downsizing.

use std::path::Path;

use crate::common::srs_bytes;
use halo2_base::halo2_proofs::{
    halo2curves::bn256::{Bn256, G2Affine},
    poly::{
        commitment::{Params, ParamsProver},
        kzg::commitment::ParamsKZG,
    },
};
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};
use zkml_prover::{
    Error,
    srs::{SrsSource, UNSAFE_DEV_MARK, downsize, generate_unsafe_dev_srs, read_srs, write_srs},
};

#[test]
fn dev_srs_is_deterministic() {
    assert_eq!(srs_bytes(&generate_unsafe_dev_srs(5)), srs_bytes(&generate_unsafe_dev_srs(5)));
}

#[test]
fn downsizing_keeps_the_secret() {
    // The k = 4 dev SRS and the k = 6 one shrunk to k = 4 are the same parameters, Lagrange basis
    // included: inner and aggregation circuits can share one setup.
    let small = generate_unsafe_dev_srs(4);
    let shrunk = downsize(generate_unsafe_dev_srs(6), 4, Path::new("dev")).unwrap();
    assert_eq!(shrunk.k(), 4);
    assert_eq!(srs_bytes(&shrunk), srs_bytes(&small));

    let err = downsize(small, 5, Path::new("/srs/kzg_bn254_4.srs")).unwrap_err().to_string();
    assert!(
        err.contains("/srs/kzg_bn254_4.srs") && err.contains("needs 2^5") && err.contains("kzg_bn254_5.srs"),
        "{err}"
    );
}

#[test]
fn parameter_files_round_trip_and_damage_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kzg_bn254_5.srs");
    let params = generate_unsafe_dev_srs(5);
    write_srs(&params, &path).unwrap();
    assert_eq!(srs_bytes(&read_srs(&path).unwrap()), srs_bytes(&params));

    let good = std::fs::read(&path).unwrap();
    let truncated = dir.path().join("truncated.srs");
    std::fs::write(&truncated, &good[..good.len() / 2]).unwrap();
    let err = read_srs(&truncated).unwrap_err();
    assert!(matches!(err, Error::Srs { .. }) && err.to_string().contains("truncated.srs"), "{err}");

    // Flip a byte inside a G1 power (header: 4 bytes of k, then 64 bytes a point): off the curve.
    let mut damaged = good.clone();
    damaged[4 + 3 * 64 + 4] ^= 0x5a;
    let damaged_path = dir.path().join("damaged.srs");
    std::fs::write(&damaged_path, &damaged).unwrap();
    let err = read_srs(&damaged_path).unwrap_err().to_string();
    assert!(err.contains("not on the curve") || err.contains("modulus"), "{err}");

    // A well-formed point in the wrong place (two powers swapped): on the curve, but not a power sequence.
    let mut swapped = good.clone();
    let (p3, p4) = (4 + 3 * 64, 4 + 4 * 64);
    let third = swapped[p3..p3 + 64].to_vec();
    swapped.copy_within(p4..p4 + 64, p3);
    swapped[p4..p4 + 64].copy_from_slice(&third);
    let swapped_path = dir.path().join("swapped.srs");
    std::fs::write(&swapped_path, &swapped).unwrap();
    let err = read_srs(&swapped_path).unwrap_err().to_string();
    assert!(err.contains("not successive powers"), "{err}");

    // A file whose powers are sound but whose Lagrange basis is damaged (a valid point in the wrong place)
    // is refused: the basis is checked against the powers.
    let mut bad_lagrange = good;
    let lagrange_start = 4 + 32 * 64;
    bad_lagrange.copy_within(4 + 64..4 + 128, lagrange_start);
    let bad_lagrange_path = dir.path().join("bad_lagrange.srs");
    std::fs::write(&bad_lagrange_path, &bad_lagrange).unwrap();
    let err = read_srs(&bad_lagrange_path).unwrap_err().to_string();
    assert!(err.contains("Lagrange basis does not match"), "{err}");

    let missing = read_srs(&dir.path().join("nope.srs")).unwrap_err();
    assert!(matches!(missing, Error::Io { .. }) && missing.to_string().contains("nope.srs"), "{missing}");
}

#[test]
fn g1_and_g2_powers_from_different_secrets_are_refused() {
    let params = generate_unsafe_dev_srs(4);
    let other = ParamsKZG::<Bn256>::setup(4, ChaCha20Rng::seed_from_u64(1));
    let mixed = params.from_parts(4, params.get_g().to_vec(), None, G2Affine::generator(), other.s_g2());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.srs");
    write_srs(&mixed, &path).unwrap();
    let err = read_srs(&path).unwrap_err().to_string();
    assert!(err.contains("G1 and G2 parts disagree"), "{err}");
}

#[test]
fn dev_source_generates_once_marks_the_file_and_serves_smaller_circuits() {
    let dir = tempfile::tempdir().unwrap();
    let source = SrsSource::UnsafeDev { cache_dir: dir.path().join("srs"), max_k: 6 };
    assert!(source.is_unsafe());
    let params = source.params(5).unwrap();
    assert_eq!(params.k(), 5);

    let cached = dir.path().join("srs").join(format!("kzg_bn254_6.{UNSAFE_DEV_MARK}.srs"));
    assert!(cached.is_file(), "the generated SRS is cached under a name that says it is unsafe");
    let modified = std::fs::metadata(&cached).unwrap().modified().unwrap();
    assert_eq!(srs_bytes(&source.params(5).unwrap()), srs_bytes(&params), "the cache serves the same parameters");
    assert_eq!(std::fs::metadata(&cached).unwrap().modified().unwrap(), modified, "not regenerated");

    let file_source = SrsSource::File(cached.clone());
    assert!(!file_source.is_unsafe());
    assert_eq!(srs_bytes(&file_source.params(4).unwrap()), srs_bytes(&generate_unsafe_dev_srs(4)));

    // The cached file is read back against its checksum: a changed byte is an error, never other parameters.
    let mut damaged = std::fs::read(&cached).unwrap();
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    std::fs::write(&cached, damaged).unwrap();
    let err = source.params(5).unwrap_err().to_string();
    assert!(err.contains("damaged") && err.contains("checksum"), "{err}");
}

#[test]
fn dev_srs_is_halo2_setup_with_the_seeded_secret() {
    let seeded = |seed| ParamsKZG::<Bn256>::setup(6, ChaCha20Rng::seed_from_u64(seed));
    let fast = srs_bytes(&generate_unsafe_dev_srs(6));
    assert_eq!(fast, srs_bytes(&seeded(zkml_prover::srs::DEV_SRS_SEED)), "same bytes as halo2's own setup");
    assert_ne!(fast, srs_bytes(&seeded(zkml_prover::srs::DEV_SRS_SEED + 1)), "and the comparison can fail");
}
