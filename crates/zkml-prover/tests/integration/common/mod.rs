//! Helpers shared by the prover's test files.

use std::path::PathBuf;

use halo2_base::halo2_proofs::{
    SerdeFormat,
    halo2curves::{
        bn256::{Bn256, Fr},
        ff::PrimeField,
    },
    poly::kzg::commitment::ParamsKZG,
};
use zkml_circuit::{PublicLayout, Visibility, sizing::auto_size};
use zkml_model::{CalibrationOptions, CompiledModel, data::DataSet};
use zkml_prover::{
    prove::{ModelKeys, keygen},
    srs::generate_unsafe_dev_srs,
};

/// A digits model compiled from `examples/digits`, the dev SRS, its keys and the test data.
pub(crate) fn setup(
    file: &str,
    input_shape: Option<Vec<Vec<usize>>>,
) -> (CompiledModel, ParamsKZG<Bn256>, ModelKeys, DataSet) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits");
    let compiled = CompiledModel::compile(
        &dir.join(file),
        input_shape.as_deref(),
        &dir.join("calibration.json"),
        CalibrationOptions::default(),
    )
    .expect("the digits model compiles");
    let layout = PublicLayout::new(&compiled.quantized, Visibility::default());
    let size = auto_size(&compiled.quantized, &layout, None).expect("the model fits");
    let params = generate_unsafe_dev_srs(size.k);
    let keys = keygen(&params, &compiled.quantized, &layout, &size).expect("keygen succeeds");
    let data = DataSet::load(&dir.join("test.json"), 64).expect("the test data loads");
    (compiled, params, keys, data)
}

/// The parameters' bytes as halo2 writes them, to compare parameters.
pub(crate) fn srs_bytes(params: &ParamsKZG<Bn256>) -> Vec<u8> {
    let mut out = vec![];
    params.write_custom(&mut out, SerdeFormat::RawBytes).expect("writing to memory");
    out
}

/// A primitive `2^log_n`-th root of unity.
pub(crate) fn root_of_unity(log_n: u32) -> Fr {
    (log_n..Fr::S).fold(Fr::ROOT_OF_UNITY, |root, _| root.square())
}
