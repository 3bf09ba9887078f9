//! The ONNX test corpus (`crates/zkml-model/tests/corpus`, written by its `generate.py` with PyTorch at
//! opsets 13 and 17 and with skl2onnx): every model imports, quantizes at the automatic scale within its
//! stated error of tract's float output on its data, and lays out as a circuit that MockProver accepts with
//! the executor's outputs; every model the importer cannot prove fails with an error naming the op.

use std::path::{Path, PathBuf};

use halo2_base::{
    gates::circuit::{BaseCircuitParams, CircuitBuilderStage},
    halo2_proofs::dev::MockProver,
};
use serde::Deserialize;
use zkml_circuit::{
    ModelCircuit, ModelCircuitParams, PublicLayout, Visibility, public::SectionKind, sizing::auto_size,
};
use zkml_model::{
    CalibrationOptions,
    data::DataSet,
    exec::{execute, outputs_real},
    float::FloatRunner,
    import_onnx,
    quantize::calibrate_and_quantize,
};

use crate::ops::circuit_input;

#[derive(Deserialize)]
struct Manifest {
    models: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    file: String,
    data: String,
}

/// Models the importer refuses, with the words its error must contain (the op it names).
const UNSUPPORTED: &[(&str, &str)] = &[
    // skl2onnx's LinearClassifier maps class indices to labels with an ONNX-ML lookup tract keeps opaque.
    ("sklearn_logreg", "(DirectLookup, from ONNX LinearClassifier)"),
];

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../zkml-model/tests/corpus")
}

/// Largest error against float, as a fraction of the largest float output (plus 4 units at the scale):
/// the corpus mixes saturating tables, divisions and products of rounded values.
const RELATIVE_TOLERANCE: f64 = 0.05;

#[test]
fn every_corpus_model_imports_agrees_with_float_and_proves() {
    let dir = corpus();
    let manifest: Manifest =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).expect("the manifest")).expect("json");
    let mut report = vec![];
    let mut failures = vec![];
    for entry in &manifest.models {
        let path = dir.join(&entry.file);
        let expected_error = UNSUPPORTED.iter().find(|(f, _)| entry.file.starts_with(f)).map(|(_, e)| *e);
        let imported = match import_onnx(&path, None) {
            Ok(m) => m,
            Err(e) => {
                match expected_error {
                    Some(words) if e.to_string().contains(words) => {
                        report.push(format!("{}: refused as expected", entry.file))
                    }
                    _ => failures.push(format!("{}: {e}", entry.file)),
                }
                continue;
            }
        };
        let data = DataSet::load(&dir.join(&entry.data), imported.graph.input_len()).expect("the data file");
        let q = match calibrate_and_quantize(&imported, &data.inputs, CalibrationOptions::default()) {
            Ok(q) => q,
            Err(e) => {
                failures.push(format!("{}: {e}", entry.file));
                continue;
            }
        };
        let runner = FloatRunner::outputs(&imported).expect("tract runs the float model");
        let (mut worst, mut largest) = (0f64, 0f64);
        for sample in &data.inputs {
            let float = runner.run(sample).expect("tract runs");
            let ints = match execute(&q, sample) {
                Ok(v) => v,
                Err(e) => {
                    failures.push(format!("{}: {e}", entry.file));
                    break;
                }
            };
            for (f, qv) in float.iter().flatten().zip(outputs_real(&q, &ints).iter().flatten()) {
                worst = worst.max((*f as f64 - qv).abs());
                largest = largest.max((*f as f64).abs());
            }
        }
        let tolerance = RELATIVE_TOLERANCE * largest + 4.0 / (1u64 << q.scales.activation) as f64;
        if worst > tolerance {
            failures
                .push(format!("{}: max error {worst:.5} above {tolerance:.5} (outputs to {largest:.3})", entry.file));
        }

        let layout = PublicLayout::new(&q, Visibility::default());
        let size = auto_size(&q, &layout, None).expect("the model fits");
        let params = ModelCircuitParams {
            base: BaseCircuitParams {
                k: size.k as usize,
                lookup_bits: size.lookup_bits,
                num_instance_columns: 1,
                ..Default::default()
            },
            table_columns: 0,
            dot_columns: size.params.dot_columns,
        };
        let input = circuit_input(&q, &data.inputs[0]);
        let circuit =
            ModelCircuit::new(CircuitBuilderStage::Mock, &q, &layout, params, None, &input).expect("lays out");
        let instances = circuit.instances().to_vec();
        let reference = execute(&q, &data.inputs[0]).expect("executes");
        let outputs: Vec<i64> = q.outputs.iter().flat_map(|&o| reference[o].data.clone()).collect();
        if layout.decode(SectionKind::Outputs, &instances) != Some(outputs) {
            failures.push(format!("{}: the circuit's outputs differ from the executor's", entry.file));
        }
        let verdict = MockProver::run(size.k, &circuit, vec![instances]).expect("synthesizes").verify();
        if verdict.is_err() {
            failures.push(format!("{}: MockProver rejects the honest witness", entry.file));
        }
        report.push(format!(
            "{}: scale 2^{}, max error {worst:.5} (outputs to {largest:.3}), k = {}",
            entry.file, q.scales.activation, size.k
        ));
    }
    eprintln!("{}", report.join("\n"));
    assert!(
        failures.is_empty(),
        "{} of {} corpus models fail:\n{}",
        failures.len(),
        manifest.models.len(),
        failures.join("\n")
    );
}
