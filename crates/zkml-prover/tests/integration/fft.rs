//! The patched halo2-axiom FFT (vendor/halo2-axiom/PATCHES.md) against halo2's own radix-2 FFT, on the
//! field and on curve points (the SRS's Lagrange basis is an FFT of points), for every size from 1 to 2^15,
//! and through the evaluation domain's conversions the prover uses.

use crate::common::root_of_unity;
use halo2_base::halo2_proofs::{
    arithmetic::{Field, best_fft},
    fft::baseline,
    halo2curves::{
        bn256::{Fr, G1},
        group::Group,
    },
    poly::EvaluationDomain,
};
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};

#[test]
fn patched_fft_matches_halo2s_radix_2_fft_on_field_elements_and_points() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let domain = EvaluationDomain::<Fr>::new(2, 16);
    for log_n in 0..=15 {
        let omega = root_of_unity(log_n);
        let data = domain.get_fft_data(1 << 16);
        let input: Vec<Fr> = (0..1usize << log_n).map(|_| Fr::random(&mut rng)).collect();
        let (mut patched, mut reference) = (input.clone(), input);
        best_fft(&mut patched, omega, log_n, data, false);
        baseline::fft(&mut reference, omega, log_n, data, false);
        assert!(patched == reference, "field elements, log_n = {log_n}");

        if log_n <= 10 {
            let points: Vec<G1> = (0..1usize << log_n).map(|_| G1::random(&mut rng)).collect();
            let (mut patched, mut reference) = (points.clone(), points);
            best_fft(&mut patched, omega, log_n, data, false);
            baseline::fft(&mut reference, omega, log_n, data, false);
            assert!(patched == reference, "points, log_n = {log_n}");
        }
    }
}

#[test]
fn patched_fft_is_not_the_identity_and_a_wrong_root_gives_another_transform() {
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let domain = EvaluationDomain::<Fr>::new(2, 12);
    let data = domain.get_fft_data(1 << 12);
    let input: Vec<Fr> = (0..1 << 12).map(|_| Fr::random(&mut rng)).collect();
    let (mut right, mut wrong) = (input.clone(), input.clone());
    best_fft(&mut right, root_of_unity(12), 12, data, false);
    best_fft(&mut wrong, root_of_unity(12).square(), 12, data, false);
    assert!(right != input);
    assert!(right != wrong);
}

#[test]
fn domain_round_trips_through_coefficients_and_the_extended_domain() {
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    // Degree 4, as the aggregation circuit: an extended domain four times the size, in four parts.
    let domain = EvaluationDomain::<Fr>::new(4, 13);
    let values: Vec<Fr> = (0..1 << 13).map(|_| Fr::random(&mut rng)).collect();
    let coefficients = domain.lagrange_to_coeff(domain.lagrange_from_vec(values.clone()));
    let evaluate = |coefficients: &[Fr], x: Fr| coefficients.iter().rev().fold(Fr::ZERO, |acc, c| acc * x + c);

    // The interpolated polynomial takes the given values on the domain.
    let omega = domain.get_omega();
    for i in [0, 5, (1 << 13) - 1] {
        assert_eq!(evaluate(&coefficients, omega.pow_vartime([i as u64])), values[i], "value {i}");
    }

    // The extended-domain detour (coset FFT, then its inverse) gives the same polynomial back.
    let extended = domain.coeff_to_extended(&coefficients);
    let back = domain.extended_to_coeff(extended);
    assert_eq!(&back[..1 << 13], &coefficients[..]);
    assert!(back[1 << 13..].iter().all(|c| *c == Fr::ZERO));
}
