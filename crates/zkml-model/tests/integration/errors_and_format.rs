//! Error paths (each names what is wrong), the on-disk format, the commitment, and the digits examples.

use std::path::{Path, PathBuf};

use crate::support::{Dim::*, OnnxBuilder, values};
use zkml_model::{
    CalibrationOptions, CompiledModel, Error,
    commit::{fe_from_i64, model_commitment},
    data::DataSet,
    exec::execute,
    fidelity::fidelity,
    import_onnx, import_proto,
    quantize::{QOp, calibrate_and_quantize},
};

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits")
}

fn compile_mlp() -> CompiledModel {
    let dir = examples();
    CompiledModel::compile(&dir.join("mlp.onnx"), None, &dir.join("calibration.json"), CalibrationOptions::default())
        .expect("the digits MLP compiles")
}

#[test]
fn malformed_onnx_file_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.onnx");
    std::fs::write(&path, b"\x08\x07this is not a protobuf \xff\xff\xff").unwrap();
    let err = import_onnx(&path, None).unwrap_err();
    assert!(matches!(err, Error::Onnx { .. }), "{err:?}");
    assert!(err.to_string().contains("garbage.onnx"), "{err}");

    let missing = import_onnx(Path::new("/nonexistent/model.onnx"), None).unwrap_err();
    assert!(matches!(missing, Error::Io { .. }) && missing.to_string().contains("/nonexistent/model.onnx"));
}

#[test]
fn unsupported_op_names_the_node_its_op_and_the_supported_set() {
    let m =
        OnnxBuilder::new(13).input("x", &[Fixed(1), Fixed(4)]).node("Sin", &["x"], &["y"], vec![]).output("y").build();
    let err = import_proto(&m, Path::new("sin.onnx"), None).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::UnsupportedOp { .. }), "{err:?}");
    assert!(text.contains("Sin_0") && text.contains("(Sin)"), "{text}");
    assert!(text.contains("Supported ops: Gemm"), "{text}");

    // Unsupported patterns of supported ops say which pattern.
    let m = OnnxBuilder::new(13)
        .input("x", &[Fixed(1), Fixed(4)])
        .init("e", &[], vec![0.3])
        .node("Pow", &["x", "e"], &["y"], vec![])
        .output("y")
        .build();
    let err = import_proto(&m, Path::new("pow.onnx"), None).unwrap_err().to_string();
    assert!(err.contains("Pow_0") && err.contains("exponent 0.3"), "{err}");

    let m = OnnxBuilder::new(13)
        .input("x", &[Fixed(1), Fixed(4)])
        .init("zero", &[], vec![0.0])
        .node("Greater", &["x", "zero"], &["c"], vec![])
        .node("Where", &["c", "x", "zero"], &["y"], vec![])
        .output("y")
        .build();
    let err = import_proto(&m, Path::new("where.onnx"), None).unwrap_err().to_string();
    assert!(err.contains("Greater") || err.contains("computed from the input"), "{err}");
}

#[test]
fn input_outside_the_calibrated_range_is_refused_not_wrapped() {
    let m = OnnxBuilder::new(13)
        .input("x", &[Fixed(1), Fixed(4)])
        .init("w", &[4, 2], values(1, 8, 1.0))
        .node("MatMul", &["x", "w"], &["y"], vec![])
        .output("y")
        .build();
    let imported = import_proto(&m, Path::new("mm.onnx"), None).unwrap();
    let calibration: Vec<Vec<f32>> = (0..16).map(|i| values(i, 4, 1.0)).collect();
    let q = calibrate_and_quantize(&imported, &calibration, CalibrationOptions::default()).unwrap();

    execute(&q, &[0.5, -0.5, 0.25, 1.0]).expect("inside the calibrated range");
    let err = execute(&q, &[0.5, -0.5, 40.0, 1.0]).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::OutOfRange { .. }), "{err:?}");
    assert!(text.contains("node 'x' (Input)") && text.contains("outside its calibrated range"), "{text}");

    let wrong_len = execute(&q, &[0.5]).unwrap_err();
    assert!(wrong_len.to_string().contains("expected 4 values, got 1"), "{wrong_len}");
    let nan = execute(&q, &[0.5, f32::NAN, 0.0, 0.0]).unwrap_err();
    assert!(nan.to_string().contains("not a finite number"), "{nan}");
}

#[test]
fn data_file_errors_name_the_file_and_sample() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.json");
    std::fs::write(&path, r#"{"inputs": [[1, 2, 3], [1, 2]], "labels": [0, 1]}"#).unwrap();
    let err = DataSet::load(&path, 3).unwrap_err().to_string();
    assert!(err.contains("data.json") && err.contains("sample 1 has 2 values but the model takes 3"), "{err}");

    std::fs::write(&path, r#"{"inputs": [[1, 2, 3]], "labels": [0, 1], "note": "extra keys are fine"}"#).unwrap();
    let err = DataSet::load(&path, 3).unwrap_err().to_string();
    assert!(err.contains("2 labels for 1 inputs"), "{err}");

    std::fs::write(&path, r#"{"samples": []}"#).unwrap();
    assert!(DataSet::load(&path, 3).unwrap_err().to_string().contains("expected {\"inputs\""));

    std::fs::write(&path, r#"{"inputs": [[1, 2, 3]], "comment": "no labels"}"#).unwrap();
    let ok = DataSet::load(&path, 3).unwrap();
    assert_eq!((ok.inputs.len(), ok.labels), (1, None));
}

#[test]
fn labels_outside_the_model_classes_are_refused() {
    let model = compile_mlp();
    let data = DataSet { inputs: vec![vec![0.5; 64], vec![0.25; 64]], labels: Some(vec![3, 10]) };
    let err = fidelity(&model, &data).unwrap_err().to_string();
    assert!(err.contains("label 10 of sample 1 is not a class of this model (0..9)"), "{err}");
}

#[test]
fn compiled_model_round_trips_bit_identically() {
    let compiled = compile_mlp();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mlp");
    assert!(!compiled.save(&out).unwrap(), "a new directory replaces nothing");
    let loaded = CompiledModel::load(&out).unwrap();
    // Plain asserts: a failing assert_eq! would print every weight.
    assert!(loaded.quantized == compiled.quantized, "the quantized model changed in a save/load round trip");
    assert!(loaded.settings == compiled.settings, "the settings changed in a save/load round trip");

    let before = std::fs::read(out.join("quantized.json")).unwrap();
    assert!(loaded.save(&out).unwrap(), "a previous compile output is replaced");
    assert!(std::fs::read(out.join("quantized.json")).unwrap() == before, "re-serialized bytes differ");
    assert_eq!(model_commitment(&loaded.quantized), model_commitment(&compiled.quantized));
}

#[test]
fn output_directory_with_user_files_is_refused() {
    let compiled = compile_mlp();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let err = compiled.save(dir.path()).unwrap_err().to_string();
    assert!(err.contains("'notes.txt'"), "{err}");
    assert_eq!(std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(), "mine");
    assert!(!dir.path().join("quantized.json").exists());
}

#[test]
fn other_format_versions_are_refused() {
    let compiled = compile_mlp();
    let dir = tempfile::tempdir().unwrap();
    compiled.save(dir.path()).unwrap();
    let path = dir.path().join("quantized.json");
    let text = std::fs::read_to_string(&path).unwrap().replacen("\"format_version\": 1", "\"format_version\": 99", 1);
    std::fs::write(&path, text).unwrap();
    let err = CompiledModel::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("format version 99") && err.contains("quantized.json"), "{err}");
}

#[test]
fn commitment_is_deterministic_and_binds_every_weight() {
    let compiled = compile_mlp();
    let c = model_commitment(&compiled.quantized);
    assert_eq!(c, model_commitment(&compile_mlp().quantized), "same model, same commitment");

    let mut tampered = compiled.quantized.clone();
    let QOp::MatMul { weight, .. } = &mut tampered.nodes[3].op else { panic!("node 3 is the second Gemm") };
    *weight.data.last_mut().unwrap() += 1;
    assert_ne!(model_commitment(&tampered), c, "one weight off by one changes the commitment");

    let mut rescaled = compiled.quantized;
    rescaled.scales.param -= 1;
    assert_ne!(model_commitment(&rescaled), c, "the scales are committed too");

    let field = fe_from_i64::<halo2_base::halo2_proofs::halo2curves::bn256::Fr>;
    assert_eq!(field(-1) + field(1), field(0), "negative values are field negations");
}

#[test]
fn digits_models_agree_with_float_on_at_least_99_5_percent() {
    let dir = examples();
    let data = DataSet::load(&dir.join("test.json"), 64).unwrap();
    for (file, shape) in [("mlp.onnx", None), ("cnn.onnx", Some(vec![vec![1, 1, 8, 8]]))] {
        let model = CompiledModel::compile(
            &dir.join(file),
            shape.as_deref(),
            &dir.join("calibration.json"),
            CalibrationOptions::default(),
        )
        .unwrap();
        let report = fidelity(&model, &data).unwrap();
        assert_eq!(report.samples, 450);
        assert!(
            report.argmax_agreement >= 0.995,
            "{file}: quantized argmax agrees on {}/450 only",
            report.argmax_agree
        );
        assert!(report.quantized_accuracy.unwrap() >= 0.95, "{file}: {report:?}");
    }
}
