//! The key cache of aggregation circuits: `CACHE/keys/agg-<hash>/{pk.bin, vk.bin, meta.json}`, keyed by
//! [`aggregation_hash`]. An entry is only ever read back for the exact inner protocols, `k`, SRS and
//! circuit revision it was generated for; a damaged or foreign entry is an error, never silently reused.

use std::{
    fs::File,
    io::BufReader,
    path::{Path, PathBuf},
};

use halo2_base::halo2_proofs::{
    SerdeFormat,
    halo2curves::bn256::{Bn256, G1Affine},
    plonk::VerifyingKey,
    poly::{commitment::Params, kzg::commitment::ParamsKZG},
};
use serde::{Deserialize, Serialize};
use snark_verifier_sdk::{halo2::aggregation::AggregationConfigParams, snark_verifier::verifier::plonk::PlonkProtocol};

use super::{AggregationCircuit, AggregationKeys, AggregationShape, keygen};
use crate::{
    error::{Error, Result},
    keys::{
        CacheStatus, Hash32, KEYS_FORMAT, META_FILE, blake2b_256, damaged, finish, hash_from_hex, io_error, read_pk,
        srs_fingerprint, to_hex, update_framed, write_atomic, write_pk,
    },
};

/// Revision of the aggregation circuit's layout code, part of [`aggregation_hash`]. Any change to what the
/// circuit lays out for the same inner protocols and `k` (cells, columns, constraints, break points) must
/// bump it, so cached keys of another layout are never reused.
const CIRCUIT_REVISION: u32 = 5;

/// Domain tag of [`aggregation_hash`].
const AGGREGATION_DOMAIN: &[u8] = b"zkml-eth/aggregation-hash";

/// The verifying key file of an aggregation cache entry, read by `verify` and `gen-verifier`.
pub const AGG_VK_FILE: &str = "vk.bin";

/// The hash of everything aggregation keygen depends on: the inner protocols in order, `k`, the SRS, the
/// key format and the circuit's revision.
pub fn aggregation_hash(protocols: &[PlonkProtocol<G1Affine>], k: u32, srs_fingerprint: &Hash32) -> Hash32 {
    let mut state = blake2b_256();
    update_framed(&mut state, AGGREGATION_DOMAIN);
    state.update(&KEYS_FORMAT.to_le_bytes());
    state.update(&CIRCUIT_REVISION.to_le_bytes());
    state.update(&k.to_le_bytes());
    update_framed(&mut state, srs_fingerprint);
    for protocol in protocols {
        update_framed(&mut state, &serde_json::to_vec(protocol).expect("protocols serialize"));
    }
    finish(&state)
}

/// The cache directory of the aggregation keys for `hash`.
pub fn aggregation_key_dir(cache_dir: &Path, hash: &Hash32) -> PathBuf {
    cache_dir.join("keys").join(format!("agg-{}", &to_hex(hash)[2..]))
}

/// `meta.json` of a cache entry: what the proving key file must hash to, and the shape it was made with.
#[derive(Serialize, Deserialize)]
struct AggregationMeta {
    format: u32,
    aggregation_hash: String,
    shape: AggregationShape,
    pk_bytes: u64,
    pk_blake2b: String,
}

/// The aggregation keys for `protocols` at the size of `params`: from `cache_dir` when there, else
/// generated and stored (the proving key, then the verifying key, then `meta.json` last, so an entry with
/// metadata is complete).
pub fn load_or_keygen(
    cache_dir: &Path,
    params: &ParamsKZG<Bn256>,
    protocols: &[PlonkProtocol<G1Affine>],
) -> Result<(AggregationKeys, CacheStatus)> {
    let hash = aggregation_hash(protocols, params.k(), &srs_fingerprint(params));
    let dir = aggregation_key_dir(cache_dir, &hash);
    let meta_path = dir.join(META_FILE);
    match std::fs::read_to_string(&meta_path) {
        Ok(text) => {
            let meta: AggregationMeta = serde_json::from_str(&text).map_err(|e| damaged(&meta_path, &dir, e))?;
            if meta.format != KEYS_FORMAT || hash_from_hex(&meta.aggregation_hash) != Some(hash) {
                return Err(damaged(&meta_path, &dir, "written for another aggregation or format"));
            }
            let pk = read_pk::<AggregationCircuit>(&dir, meta.pk_bytes, &meta.pk_blake2b, meta.shape.config)?;
            let keys = AggregationKeys { pk, shape: meta.shape };
            if !dir.join(AGG_VK_FILE).exists() {
                store_vk(cache_dir, &hash, &keys)?;
            }
            return Ok((keys, CacheStatus::Hit));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error(&meta_path)(e)),
    }
    let keys = keygen(params, protocols)?;
    let (pk_bytes, pk_blake2b) = write_pk(&dir, &keys.pk)?;
    store_vk(cache_dir, &hash, &keys)?;
    let meta = AggregationMeta {
        format: KEYS_FORMAT,
        aggregation_hash: to_hex(&hash),
        shape: keys.shape.clone(),
        pk_bytes,
        pk_blake2b,
    };
    let json = serde_json::to_vec_pretty(&meta).expect("aggregation metadata serializes");
    write_atomic(&meta_path, |w| w.write_all(&json))?;
    Ok((keys, CacheStatus::Miss))
}

/// Writes the outer verifying key beside the proving key of its cache entry.
pub fn store_vk(cache_dir: &Path, hash: &Hash32, keys: &AggregationKeys) -> Result<()> {
    let dir = aggregation_key_dir(cache_dir, hash);
    std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
    write_atomic(&dir.join(AGG_VK_FILE), |mut w| keys.vk().write(&mut w, SerdeFormat::RawBytes))
}

/// Reads the outer verifying key of the aggregation `hash` from the cache.
pub fn load_vk(cache_dir: &Path, hash: &Hash32, config: AggregationConfigParams) -> Result<VerifyingKey<G1Affine>> {
    let dir = aggregation_key_dir(cache_dir, hash);
    let path = dir.join(AGG_VK_FILE);
    let file = File::open(&path).map_err(|error| {
        if error.kind() == std::io::ErrorKind::NotFound {
            Error::File {
                path: path.clone(),
                reason: "no verifying key for this aggregation in the cache: run `zkml-eth aggregate` with the same \
                         cache directory (--cache-dir) first"
                    .into(),
            }
        } else {
            Error::Io { path: path.clone(), error }
        }
    })?;
    VerifyingKey::<G1Affine>::read::<_, AggregationCircuit>(&mut BufReader::new(file), SerdeFormat::RawBytes, config)
        .map_err(|e| damaged(&path, &dir, e))
}
