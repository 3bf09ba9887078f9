//! KZG parameters on BN254 (the structured reference string).
//!
//! Two sources:
//! - a file in the halo2 `ParamsKZG` format, as published by the perpetual-powers-of-tau conversions
//!   (`kzg_bn254_{k}.srs`); it is validated (every point on the curve, G1 and G2 parts from one secret)
//!   and shrunk to the `k` a circuit needs;
//! - a deterministic development SRS whose secret everybody can recompute. It is for tests and the demo
//!   only: proofs made with it can be forged. Its file name carries [`UNSAFE_DEV_MARK`] and every command
//!   that uses it says so.
//!
//! Inner and aggregation circuits must share one secret, so a larger SRS is always downsized rather than a
//! smaller one generated separately.

use std::{
    fs::File,
    io::{BufReader, BufWriter},
    path::{Path, PathBuf},
};

use halo2_base::halo2_proofs::{
    SerdeFormat,
    arithmetic::{CurveAffine, best_multiexp, parallelize},
    halo2curves::{
        bn256::{Bn256, Fr, G1, G1Affine, G2Affine},
        ff::{BatchInvert, Field, PrimeField},
        group::{Curve, Group, prime::PrimeCurveAffine},
        pairing::Engine,
    },
    poly::{
        EvaluationDomain,
        commitment::{Blind, Params, ParamsProver},
        kzg::commitment::ParamsKZG,
    },
};
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};

use crate::error::{Error, Result};

/// The marker in the file names of development parameters.
pub const UNSAFE_DEV_MARK: &str = "UNSAFE-DEV";

/// Seed of the development SRS's secret (public by design).
pub const DEV_SRS_SEED: u64 = 0x7a6b_6d6c_2d64_6576;

/// File name of published parameters of size `2^k`.
pub fn srs_file_name(k: u32) -> String {
    format!("kzg_bn254_{k}.srs")
}

/// File name of the development parameters of size `2^k`.
pub fn dev_srs_file_name(k: u32) -> String {
    format!("kzg_bn254_{k}.{UNSAFE_DEV_MARK}.srs")
}

/// The development SRS of size `2^k`: deterministic, insecure, for tests and demos only.
///
/// The same parameters, byte for byte, as halo2's `ParamsKZG::setup` with the seeded secret, made about
/// ten times faster: `setup` spends two full scalar multiplications on every power (k = 21 took five
/// minutes on two cores), while the secret is known here, so every point is `G1` times a scalar computed
/// in the field (`s^i`, and `L_i(s)` with one batch inversion), which a fixed-base comb does with 32
/// additions.
pub fn generate_unsafe_dev_srs(k: u32) -> ParamsKZG<Bn256> {
    let s = dev_srs_secret();
    let n = 1usize << k;
    let comb = FixedBaseComb::new(G1Affine::generator());

    let mut powers = vec![Fr::ONE; n];
    parallelize(&mut powers, |chunk, start| {
        let mut power = s.pow_vartime([start as u64]);
        for value in chunk.iter_mut() {
            *value = power;
            power *= s;
        }
    });

    // L_i(s) = ω^i·(s^n - 1) / (n·(s - ω^i)), the Lagrange basis polynomials of the size-n domain at s.
    let omega = (k..Fr::S).fold(Fr::ROOT_OF_UNITY, |root, _| root.square());
    let multiplier = (s.pow_vartime([n as u64]) - Fr::ONE) * Fr::from(n as u64).invert().expect("n is not zero");
    let mut lagrange = vec![Fr::ZERO; n];
    parallelize(&mut lagrange, |chunk, start| {
        let mut root = omega.pow_vartime([start as u64]);
        let mut roots = Vec::with_capacity(chunk.len());
        for value in chunk.iter_mut() {
            roots.push(root);
            // s is random, so it is no root of unity and every denominator is invertible.
            *value = s - root;
            root *= omega;
        }
        chunk.batch_invert();
        for (value, root) in chunk.iter_mut().zip(roots) {
            *value *= multiplier * root;
        }
    });

    let g2 = G2Affine::generator();
    let s_g2 = (g2 * s).to_affine();
    // `from_parts` is a method; a size-1 setup is the cheapest instance to call it on.
    ParamsKZG::<Bn256>::setup(0, ChaCha20Rng::seed_from_u64(DEV_SRS_SEED)).from_parts(
        k,
        comb.mul_all(&powers),
        Some(comb.mul_all(&lagrange)),
        g2,
        s_g2,
    )
}

/// The development SRS's secret `s`, which anyone can recompute from [`DEV_SRS_SEED`].
fn dev_srs_secret() -> Fr {
    Fr::random(ChaCha20Rng::seed_from_u64(DEV_SRS_SEED))
}

/// True when `params` are the development SRS (at any size), whichever file or flag they came from: a
/// KZG verifier's trust rests on `s·G2`, and this one's `s` is public.
pub fn is_unsafe_dev_srs(params: &ParamsKZG<Bn256>) -> bool {
    params.s_g2() == (G2Affine::generator() * dev_srs_secret()).to_affine()
}

/// Multiples of one fixed point by many scalars. Tables of `d·2^(8j)·P` for every byte value `d` and byte
/// position `j` make a product the sum of one table point per scalar byte: 32 mixed additions, no
/// doublings. (group's `WnafBase` still doubles once per scalar bit.)
struct FixedBaseComb {
    /// `tables[j][d - 1] = d·2^(8j)·P`.
    tables: Vec<Vec<G1Affine>>,
}

impl FixedBaseComb {
    const WINDOW_BITS: usize = 8;
    const WINDOWS: usize = 256 / Self::WINDOW_BITS;

    fn new(base: G1Affine) -> Self {
        let mut window_base = G1::from(base);
        let tables = (0..Self::WINDOWS)
            .map(|_| {
                let mut multiples = Vec::with_capacity((1 << Self::WINDOW_BITS) - 1);
                let mut multiple = window_base;
                for _ in 1..1 << Self::WINDOW_BITS {
                    multiples.push(multiple);
                    multiple += window_base;
                }
                window_base = multiple;
                let mut affine = vec![G1Affine::identity(); multiples.len()];
                G1::batch_normalize(&multiples, &mut affine);
                affine
            })
            .collect();
        Self { tables }
    }

    fn mul(&self, scalar: &Fr) -> G1 {
        let bytes = scalar.to_repr();
        let mut product = G1::identity();
        for (table, &byte) in self.tables.iter().zip(bytes.as_ref()) {
            if byte != 0 {
                product += table[usize::from(byte) - 1];
            }
        }
        product
    }

    /// `scalar·P` for every scalar, in affine form.
    fn mul_all(&self, scalars: &[Fr]) -> Vec<G1Affine> {
        let mut affine = vec![G1Affine::identity(); scalars.len()];
        parallelize(&mut affine, |chunk, start| {
            let projective: Vec<G1> = scalars[start..start + chunk.len()].iter().map(|s| self.mul(s)).collect();
            G1::batch_normalize(&projective, chunk);
        });
        affine
    }
}

/// Reads and validates parameters from a halo2 `ParamsKZG` file.
///
/// halo2curves' "checked" raw format only range-checks coordinates (it does not check that points are on
/// the curve), so the file is validated here: every G1 point on the curve, the generators in place, all
/// G1 points successive powers of the secret behind `s·G2`, and the file's Lagrange basis checked against
/// them (a random combination of it must commit to the same polynomial as the monomial basis), which is
/// far cheaper than recomputing it with a group FFT.
pub fn read_srs(path: &Path) -> Result<ParamsKZG<Bn256>> {
    let file = File::open(path).map_err(|error| Error::Io { path: path.to_path_buf(), error })?;
    let params = ParamsKZG::<Bn256>::read_custom(&mut BufReader::new(file), SerdeFormat::RawBytes).map_err(|e| {
        Error::Srs { path: path.to_path_buf(), reason: format!("not halo2 KZG parameters on BN254: {e}") }
    })?;
    check_consistent(&params).map_err(|reason| Error::Srs { path: path.to_path_buf(), reason })?;
    check_lagrange(&params).map_err(|reason| Error::Srs { path: path.to_path_buf(), reason })?;
    Ok(params)
}

/// Checks the Lagrange basis against the monomial one: for random values `r` at the roots of unity and
/// the coefficients `c = IFFT(r)` of the polynomial through them, `Σ r_i·L_i(s)·G = Σ c_j·s^j·G`. A wrong
/// basis point passes only with negligible probability.
fn check_lagrange(params: &ParamsKZG<Bn256>) -> std::result::Result<(), String> {
    // halo2 exposes the basis only through `commit_lagrange`, which is exactly the MSM this check needs.
    // A point off the curve makes the sum land off the curve too, so it cannot match.
    let mut rng = ChaCha20Rng::from_entropy();
    let r: Vec<Fr> = (0..params.get_g().len()).map(|_| Fr::random(&mut rng)).collect();
    let domain = EvaluationDomain::<Fr>::new(1, params.k());
    let values = domain.lagrange_from_vec(r);
    let coefficients = domain.lagrange_to_coeff(values.clone());
    if params.commit_lagrange(&values, Blind::default()) != params.commit(&coefficients, Blind::default()) {
        return Err("the Lagrange basis does not match the powers of the secret".into());
    }
    Ok(())
}

/// Reads a cached development SRS. It was generated here, and its secret is public anyway, so instead of
/// the curve checks of [`read_srs`] (tens of seconds at k = 21) it is only checked to be the bytes that were
/// written: its blake2b-256 against the checksum file written beside it.
fn read_dev_srs(path: &Path, checksum_path: &Path) -> Result<ParamsKZG<Bn256>> {
    let expected = std::fs::read_to_string(checksum_path)
        .map_err(|error| Error::Io { path: checksum_path.to_path_buf(), error })?;
    if file_checksum(path)? != expected.trim() {
        return Err(Error::Srs {
            path: path.to_path_buf(),
            reason: format!(
                "damaged: its checksum differs from {}; delete both files to regenerate them",
                checksum_path.display()
            ),
        });
    }
    let file = File::open(path).map_err(|error| Error::Io { path: path.to_path_buf(), error })?;
    ParamsKZG::<Bn256>::read_custom(&mut BufReader::with_capacity(1 << 20, file), SerdeFormat::RawBytesUnchecked)
        .map_err(|e| Error::Srs { path: path.to_path_buf(), reason: format!("not halo2 KZG parameters: {e}") })
}

/// blake2b-256 of a file, hex.
fn file_checksum(path: &Path) -> Result<String> {
    let io = |error| Error::Io { path: path.to_path_buf(), error };
    let mut reader = BufReader::with_capacity(1 << 20, File::open(path).map_err(io)?);
    let mut state = blake2b_simd::Params::new().hash_length(32).to_state();
    std::io::copy(&mut reader, &mut state).map_err(io)?;
    Ok(state.finalize().to_hex().to_string())
}

/// Writes parameters in the halo2 `ParamsKZG` format.
pub fn write_srs(params: &ParamsKZG<Bn256>, path: &Path) -> Result<()> {
    let io_error = |error| Error::Io { path: path.to_path_buf(), error };
    let file = File::create(path).map_err(io_error)?;
    params.write_custom(&mut BufWriter::new(file), SerdeFormat::RawBytes).map_err(io_error)
}

/// Checks that the G1 points are `s^i·G1` for the `s` of `s_g2 = s·G2`. With random `r_i`,
/// `A = Σ r_i·g[i]` and `B = Σ r_i·g[i+1]` satisfy `e(B, G2) = e(A, s·G2)` exactly when every `g[i+1]` is
/// `s·g[i]` (up to a negligible chance): the standard powers-of-tau check, two MSMs and two pairings.
fn check_consistent(params: &ParamsKZG<Bn256>) -> std::result::Result<(), String> {
    let g = params.get_g();
    if g.len() < 2 || g.len() != 1 << params.k() {
        return Err(format!("{} G1 powers for k = {}", g.len(), params.k()));
    }
    if let Some(i) = g.iter().position(|p| !bool::from(p.is_on_curve())) {
        return Err(format!("G1 power {i} is not on the curve"));
    }
    if g[0] != G1Affine::generator() || params.g2() != G2Affine::generator() {
        return Err("the first powers are not the BN254 generators".into());
    }
    let mut rng = ChaCha20Rng::from_entropy();
    let r: Vec<Fr> = (0..g.len() - 1).map(|_| Fr::random(&mut rng)).collect();
    let a = best_multiexp(&r, &g[..g.len() - 1]).to_affine();
    let b = best_multiexp(&r, &g[1..]).to_affine();
    if Bn256::pairing(&b, &params.g2()) != Bn256::pairing(&a, &params.s_g2()) {
        return Err(
            "the G1 points are not successive powers of the secret behind s·G2 (G1 and G2 parts disagree)".into()
        );
    }
    Ok(())
}

/// Shrinks parameters to size `2^k` (same secret, fewer powers).
pub fn downsize(mut params: ParamsKZG<Bn256>, k: u32, source: &Path) -> Result<ParamsKZG<Bn256>> {
    if params.k() < k {
        return Err(Error::Srs {
            path: source.to_path_buf(),
            reason: format!("holds 2^{} powers but the circuit needs 2^{k}: use {}", params.k(), srs_file_name(k)),
        });
    }
    if params.k() > k {
        params.downsize(k);
    }
    Ok(params)
}

/// Where parameters come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SrsSource {
    /// A published parameters file (any size at least the circuit's).
    File(PathBuf),
    /// The insecure development SRS, generated once at `max_k` and cached in `cache_dir`.
    UnsafeDev {
        /// Directory holding the generated file.
        cache_dir: PathBuf,
        /// Size it is generated at (the largest circuit it will serve, aggregation included).
        max_k: u32,
    },
}

impl SrsSource {
    /// True for the development SRS, which every caller must announce as unsafe.
    pub fn is_unsafe(&self) -> bool {
        matches!(self, Self::UnsafeDev { .. })
    }

    /// Parameters of size `2^k` from this source. The development SRS is generated at `max_k` on first
    /// use and cached, so every circuit's parameters share one secret.
    pub fn params(&self, k: u32) -> Result<ParamsKZG<Bn256>> {
        match self {
            Self::File(path) => downsize(read_srs(path)?, k, path),
            Self::UnsafeDev { cache_dir, max_k } => {
                let path = cache_dir.join(dev_srs_file_name(*max_k));
                let checksum_path = path.with_extension("srs.blake2b");
                let params = if path.exists() && checksum_path.exists() {
                    read_dev_srs(&path, &checksum_path)?
                } else if path.exists() {
                    // Cached before checksums were written: validated in full once, then checksummed.
                    let params = read_srs(&path)?;
                    std::fs::write(&checksum_path, file_checksum(&path)?)
                        .map_err(|error| Error::Io { path: checksum_path.clone(), error })?;
                    params
                } else {
                    std::fs::create_dir_all(cache_dir).map_err(|error| Error::Io { path: cache_dir.clone(), error })?;
                    let params = generate_unsafe_dev_srs(*max_k);
                    // Write beside, then rename: an interrupted run never leaves a truncated cache file.
                    let partial = path.with_extension("partial");
                    write_srs(&params, &partial)?;
                    let checksum = file_checksum(&partial)?;
                    std::fs::rename(&partial, &path).map_err(|error| Error::Io { path: path.clone(), error })?;
                    std::fs::write(&checksum_path, checksum)
                        .map_err(|error| Error::Io { path: checksum_path.clone(), error })?;
                    params
                };
                downsize(params, k, &path)
            }
        }
    }
}
