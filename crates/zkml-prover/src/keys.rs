//! Proving keys cached on disk by the hash of the circuit they are for, and standalone verifying key
//! files.
//!
//! # The circuit hash
//!
//! [`circuit_hash`] is blake2b-256 over a domain tag, [`KEYS_FORMAT`] and `zkml_circuit::CIRCUIT_REVISION`
//! (the constraints laid out), then (each length-prefixed) the
//! serde JSON of the quantized model, of the public layout (which holds the visibility), of the circuit
//! size (`k`, lookup bits, columns) and the SRS fingerprint ([`srs_fingerprint`]: the generators and
//! `s·G2`, so keys made with the development SRS are never reused with a real one). Everything keygen
//! depends on is in it, so equal hashes mean interchangeable keys. It is the "settings hash" a proof
//! artifact carries.
//!
//! # The cache
//!
//! `CACHE/keys/<hash hex>/` holds `pk.bin` (halo2's proving key, raw bytes) and `meta.json` (what reading
//! the key back needs: the column configuration, the break points and the layout, with the key file's
//! length and blake2b checksum). Both are written beside and renamed into place, `meta.json` last: an
//! entry without `meta.json` is a miss and is regenerated. An entry whose files are damaged is an error
//! naming the file and the directory to delete; it is never silently replaced, since a key file that
//! changed under the cache is worth a look.
//!
//! # Verifying key files
//!
//! [`write_vk`] writes a self-contained file: a magic line, a JSON header (circuit hash and column
//! configuration, which halo2 needs to read the key), the key in halo2's checked raw format, and a
//! blake2b-256 checksum of all that.

use std::{
    fs::File,
    io::{BufReader, BufWriter, Read, Write},
    path::{Path, PathBuf},
};

use halo2_base::{
    gates::flex_gate::MultiPhaseThreadBreakPoints,
    halo2_proofs::{
        SerdeFormat,
        halo2curves::{
            bn256::{Bn256, Fr, G1Affine},
            group::GroupEncoding,
        },
        plonk::{Circuit, ProvingKey, VerifyingKey},
        poly::{commitment::ParamsProver, kzg::commitment::ParamsKZG},
    },
};
use serde::{Deserialize, Serialize};
use zkml_circuit::{ModelCircuit, ModelCircuitParams, PublicLayout, sizing::CircuitSize};
use zkml_model::quantize::QuantizedModel;

use crate::{
    error::{Error, Result},
    prove::{ModelKeys, keygen},
};

/// Version of the circuit hash and of the files in this module; bumping it invalidates every cache entry.
pub const KEYS_FORMAT: u32 = 1;

/// Domain tag of [`circuit_hash`].
const CIRCUIT_DOMAIN: &[u8] = b"zkml-eth/circuit-hash";
/// Domain tag of [`srs_fingerprint`].
const SRS_DOMAIN: &[u8] = b"zkml-eth/srs-fingerprint";
/// First line of a verifying key file.
const VK_MAGIC: &[u8] = b"zkml-eth-vk/1\n";

/// The proving key file of a cache entry.
pub const PK_FILE: &str = "pk.bin";
/// The metadata file of a cache entry.
pub const META_FILE: &str = "meta.json";

/// A blake2b-256 digest.
pub type Hash32 = [u8; 32];

/// Whether [`load_or_keygen`] found the keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheStatus {
    /// Read from the cache.
    Hit,
    /// Generated (and stored).
    Miss,
}

pub(crate) fn blake2b_256() -> blake2b_simd::State {
    blake2b_simd::Params::new().hash_length(32).to_state()
}

pub(crate) fn finish(state: &blake2b_simd::State) -> Hash32 {
    let mut out = [0u8; 32];
    out.copy_from_slice(state.finalize().as_bytes());
    out
}

pub(crate) fn update_framed(state: &mut blake2b_simd::State, bytes: &[u8]) {
    state.update(&(bytes.len() as u64).to_le_bytes());
    state.update(bytes);
}

fn json_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("model and circuit types serialize")
}

/// A fingerprint of an SRS: blake2b-256 of its G1 generator, G2 generator and `s·G2`. It identifies the
/// secret, not the size: every size cut from one SRS has the same fingerprint.
pub fn srs_fingerprint(params: &ParamsKZG<Bn256>) -> Hash32 {
    let mut state = blake2b_256();
    update_framed(&mut state, SRS_DOMAIN);
    update_framed(&mut state, params.get_g()[0].to_bytes().as_ref());
    update_framed(&mut state, params.g2().to_bytes().as_ref());
    update_framed(&mut state, params.s_g2().to_bytes().as_ref());
    finish(&state)
}

/// The hash of everything keygen depends on (see the module docs).
pub fn circuit_hash(
    model: &QuantizedModel,
    layout: &PublicLayout,
    size: &CircuitSize,
    srs_fingerprint: &Hash32,
) -> Hash32 {
    let mut state = blake2b_256();
    update_framed(&mut state, CIRCUIT_DOMAIN);
    state.update(&KEYS_FORMAT.to_le_bytes());
    state.update(&zkml_circuit::CIRCUIT_REVISION.to_le_bytes());
    update_framed(&mut state, &json_bytes(model));
    update_framed(&mut state, &json_bytes(layout));
    update_framed(&mut state, &json_bytes(&(size.k, size.lookup_bits, &size.params)));
    update_framed(&mut state, srs_fingerprint);
    finish(&state)
}

/// The peak memory of a model circuit's keygen and proving, before either runs: the model aggregation sizes
/// by (`crate::aggregate::MemoryEstimate`, fitted to halo2's keygen and prover), applied to the model's
/// columns, each pair of function-table columns counted as two advice columns and one more lookup argument.
/// The dot-product gate's columns count as advice and fixed columns. LeNet-5 (eleven witness columns at
/// `k = 17`, dot products included) is estimated at 1.0 GB for keygen and 0.8 GB for proving against 0.84 and
/// 0.84 GB measured (`zkml-eth bench --model lenet5`), the transformer example at `k = 19` at 1.8 and 1.9 GB
/// against 1.5 and 1.8 GB.
pub fn model_memory_estimate(size: &CircuitSize) -> crate::aggregate::MemoryEstimate {
    let base = &size.params.base;
    let table_pairs = size.params.table_columns;
    let config = snark_verifier_sdk::halo2::aggregation::AggregationConfigParams {
        degree: size.k,
        num_advice: base.num_advice_per_phase.iter().sum::<usize>() + 2 * table_pairs + size.dot_witness_columns(),
        num_lookup_advice: base.num_lookup_advice_per_phase.iter().sum::<usize>() + table_pairs,
        num_fixed: size.fixed_columns(),
        lookup_bits: base.lookup_bits.unwrap_or(0),
    };
    crate::aggregate::MemoryEstimate::new(&config, Some(size.advice_cells))
}

/// `0x`-prefixed lowercase hex.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 + 2 * bytes.len());
    s.push_str("0x");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Parses hex with or without `0x` (either case); `None` if it is not an even number of hex digits.
pub fn from_hex(s: &str) -> Option<Vec<u8>> {
    let digits = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).unwrap_or(s);
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| digits.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
        .collect()
}

/// Parses a 32-byte hash written by [`to_hex`].
pub fn hash_from_hex(s: &str) -> Option<Hash32> {
    from_hex(s)?.try_into().ok()
}

/// The cache directory of the keys for `hash`.
pub fn key_dir(cache_dir: &Path, hash: &Hash32) -> PathBuf {
    cache_dir.join("keys").join(&to_hex(hash)[2..])
}

/// What a cache entry stores beside the proving key.
#[derive(Debug, Serialize, Deserialize)]
struct KeyMeta {
    format: u32,
    circuit_hash: String,
    params: ModelCircuitParams,
    break_points: MultiPhaseThreadBreakPoints,
    layout: PublicLayout,
    pk_bytes: u64,
    pk_blake2b: String,
}

/// The keys for `model` under `layout` at `size` and the SRS `srs`: read from `cache_dir` when an entry
/// for their [`circuit_hash`] exists, else generated and stored there.
pub fn load_or_keygen(
    cache_dir: &Path,
    srs: &ParamsKZG<Bn256>,
    model: &QuantizedModel,
    layout: &PublicLayout,
    size: &CircuitSize,
) -> Result<(ModelKeys, CacheStatus)> {
    let hash = circuit_hash(model, layout, size, &srs_fingerprint(srs));
    let dir = key_dir(cache_dir, &hash);
    if let Some(keys) = load_cached(&dir, &hash, layout)? {
        return Ok((keys, CacheStatus::Hit));
    }
    let keys = keygen(srs, model, layout, size)?;
    store(&dir, &hash, &keys)?;
    Ok((keys, CacheStatus::Miss))
}

pub(crate) fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |error| Error::Io { path: path.to_path_buf(), error }
}

pub(crate) fn damaged(path: &Path, dir: &Path, what: impl std::fmt::Display) -> Error {
    Error::File {
        path: path.to_path_buf(),
        reason: format!(
            "damaged key cache entry ({what}): delete {} and run again to regenerate the keys",
            dir.display()
        ),
    }
}

/// Reads a cache entry; `None` when there is none (no `meta.json`).
fn load_cached(dir: &Path, hash: &Hash32, layout: &PublicLayout) -> Result<Option<ModelKeys>> {
    let meta_path = dir.join(META_FILE);
    let text = match std::fs::read_to_string(&meta_path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(&meta_path)(e)),
    };
    let meta: KeyMeta = serde_json::from_str(&text).map_err(|e| damaged(&meta_path, dir, e))?;
    if meta.format != KEYS_FORMAT || hash_from_hex(&meta.circuit_hash) != Some(*hash) {
        return Err(damaged(&meta_path, dir, "written for another circuit or format"));
    }
    if &meta.layout != layout {
        return Err(damaged(&meta_path, dir, "its public layout differs from the circuit's"));
    }

    let pk = read_pk::<ModelCircuit>(dir, meta.pk_bytes, &meta.pk_blake2b, meta.params.clone())?;
    Ok(Some(ModelKeys { pk, params: meta.params, break_points: meta.break_points, layout: meta.layout }))
}

/// Reads `DIR/pk.bin` once its length and blake2b-256 are the ones meta.json recorded: halo2 panics on a
/// truncated or garbled key, so the checksum is verified before it parses anything.
pub(crate) fn read_pk<C: Circuit<Fr>>(
    dir: &Path,
    expected_len: u64,
    expected_blake2b: &str,
    params: C::Params,
) -> Result<ProvingKey<G1Affine>> {
    let pk_path = dir.join(PK_FILE);
    let (len, digest) = file_digest(&pk_path).map_err(|e| damaged(&pk_path, dir, e))?;
    if len != expected_len || to_hex(&digest) != expected_blake2b {
        return Err(damaged(&pk_path, dir, "its length or checksum differs from meta.json"));
    }
    let file = File::open(&pk_path).map_err(io_error(&pk_path))?;
    ProvingKey::<G1Affine>::read::<_, C>(
        &mut BufReader::with_capacity(1 << 20, file),
        SerdeFormat::RawBytesUnchecked,
        params,
    )
    .map_err(|e| damaged(&pk_path, dir, e))
}

/// Writes `DIR/pk.bin` (creating DIR) beside and renamed into place; returns its length and blake2b-256
/// hex for meta.json.
pub(crate) fn write_pk(dir: &Path, pk: &ProvingKey<G1Affine>) -> Result<(u64, String)> {
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    let mut digest = None;
    write_atomic(&dir.join(PK_FILE), |w| {
        let mut hashing = HashingWriter { inner: w, state: blake2b_256(), len: 0 };
        pk.write(&mut hashing, SerdeFormat::RawBytesUnchecked)?;
        digest = Some((hashing.len, to_hex(&finish(&hashing.state))));
        Ok(())
    })?;
    Ok(digest.expect("the key was written"))
}

/// Length and blake2b-256 of a file, streamed.
fn file_digest(path: &Path) -> std::io::Result<(u64, Hash32)> {
    let mut reader = BufReader::with_capacity(1 << 20, File::open(path)?);
    let mut state = blake2b_256();
    let mut buf = vec![0u8; 1 << 20];
    let mut len = 0u64;
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        state.update(&buf[..n]);
        len += n as u64;
    }
    Ok((len, finish(&state)))
}

/// A writer that hashes and counts what passes through it.
struct HashingWriter<W> {
    inner: W,
    state: blake2b_simd::State,
    len: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.state.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A unique name beside `path` for writing before the rename.
fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".{}.partial", std::process::id()));
    path.with_file_name(name)
}

/// Writes `path` through `write` into a file beside it, then renames it into place.
pub(crate) fn write_atomic(path: &Path, write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let partial = partial_path(path);
    let result = (|| {
        let mut writer = BufWriter::new(File::create(&partial)?);
        write(&mut writer)?;
        writer.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&partial, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result.map_err(io_error(path))
}

fn store(dir: &Path, hash: &Hash32, keys: &ModelKeys) -> Result<()> {
    let (pk_bytes, pk_blake2b) = write_pk(dir, &keys.pk)?;
    let meta = KeyMeta {
        format: KEYS_FORMAT,
        circuit_hash: to_hex(hash),
        params: keys.params.clone(),
        break_points: keys.break_points.clone(),
        layout: keys.layout.clone(),
        pk_bytes,
        pk_blake2b,
    };
    let json = serde_json::to_vec_pretty(&meta).expect("key metadata serializes");
    write_atomic(&dir.join(META_FILE), |w| w.write_all(&json))
}

/// A verifying key with what it was made for.
#[derive(Debug)]
pub struct VkFile {
    /// The verifying key.
    pub vk: VerifyingKey<G1Affine>,
    /// The column configuration (halo2 needs it to read the key).
    pub params: ModelCircuitParams,
    /// The [`circuit_hash`] of the circuit.
    pub circuit_hash: Hash32,
}

#[derive(Serialize, Deserialize)]
struct VkHeader {
    format: u32,
    circuit_hash: String,
    params: ModelCircuitParams,
}

/// Writes a standalone verifying key file (see the module docs), replacing `path` atomically.
pub fn write_vk(
    path: &Path,
    vk: &VerifyingKey<G1Affine>,
    params: &ModelCircuitParams,
    circuit_hash: &Hash32,
) -> Result<()> {
    let header = VkHeader { format: KEYS_FORMAT, circuit_hash: to_hex(circuit_hash), params: params.clone() };
    let header = json_bytes(&header);
    let mut body = VK_MAGIC.to_vec();
    body.extend((header.len() as u32).to_le_bytes());
    body.extend(&header);
    vk.write(&mut body, SerdeFormat::RawBytes).map_err(io_error(path))?;
    let mut state = blake2b_256();
    state.update(&body);
    body.extend(finish(&state));
    write_atomic(path, |w| w.write_all(&body))
}

/// Reads a file written by [`write_vk`]; a damaged or foreign file is an error naming it.
pub fn read_vk(path: &Path) -> Result<VkFile> {
    let bytes = std::fs::read(path).map_err(io_error(path))?;
    let bad = |reason: &str| Error::File { path: path.to_path_buf(), reason: reason.to_string() };
    if !bytes.starts_with(VK_MAGIC) {
        return Err(bad("not a zkml-eth verifying key file"));
    }
    let Some(body_len) = bytes.len().checked_sub(32) else {
        return Err(bad("truncated verifying key file"));
    };
    let (body, checksum) = bytes.split_at(body_len);
    let mut state = blake2b_256();
    state.update(body);
    if body_len < VK_MAGIC.len() + 4 || finish(&state).as_slice() != checksum {
        return Err(bad("damaged verifying key file (checksum mismatch): run `zkml-eth setup` again"));
    }
    let rest = &body[VK_MAGIC.len()..];
    let header_len = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
    let Some(header) = rest.get(4..4 + header_len) else {
        return Err(bad("damaged verifying key file (header)"));
    };
    let header: VkHeader = serde_json::from_slice(header)
        .map_err(|e| Error::File { path: path.to_path_buf(), reason: format!("verifying key header: {e}") })?;
    let Some(circuit_hash) = hash_from_hex(&header.circuit_hash).filter(|_| header.format == KEYS_FORMAT) else {
        return Err(bad("verifying key of another format version: run `zkml-eth setup` again"));
    };
    let mut key = &rest[4 + header_len..];
    // The key's own k must be the header's before halo2 sizes anything from it.
    if key.get(1..5).map(|k| u32::from_le_bytes(k.try_into().expect("4 bytes")) as usize) != Some(header.params.base.k)
    {
        return Err(bad("the verifying key's k differs from its header"));
    }
    let vk = VerifyingKey::<G1Affine>::read::<_, ModelCircuit>(&mut key, SerdeFormat::RawBytes, header.params.clone())
        .map_err(|e| Error::File { path: path.to_path_buf(), reason: format!("not a valid verifying key: {e}") })?;
    if !key.is_empty() {
        return Err(bad("trailing bytes after the verifying key"));
    }
    Ok(VkFile { vk, params: header.params, circuit_hash })
}

#[cfg(test)]
mod tests {
    use halo2_base::halo2_proofs::poly::commitment::Params;
    use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};

    use super::*;
    use crate::srs::generate_unsafe_dev_srs;

    #[test]
    fn hex_round_trips() {
        let bytes = [0u8, 1, 0xab, 0xff];
        assert_eq!(to_hex(&bytes), "0x0001abff");
        assert_eq!(from_hex("0x0001ABff").as_deref(), Some(&bytes[..]));
        assert_eq!(from_hex("0001abff").as_deref(), Some(&bytes[..]));
        assert_eq!(from_hex("0x1"), None);
        assert_eq!(from_hex("0xzz"), None);
        assert_eq!(hash_from_hex("0x00"), None);
    }

    /// The dev SRS's secret is the first draw of its seeded RNG, so every size shares one secret (and
    /// one fingerprint): generating the size a circuit needs is as good as downsizing a larger one.
    #[test]
    fn dev_srs_sizes_share_the_secret() {
        let (small, large) = (generate_unsafe_dev_srs(4), generate_unsafe_dev_srs(6));
        assert_eq!(srs_fingerprint(&small), srs_fingerprint(&large));
        let mut downsized = large;
        downsized.downsize(4);
        assert_eq!(small.get_g(), downsized.get_g());
        let other = ParamsKZG::<Bn256>::setup(4, ChaCha20Rng::seed_from_u64(1));
        assert_ne!(srs_fingerprint(&small), srs_fingerprint(&other));
    }
}
