//! `zkml-eth compile` and `zkml-eth fidelity`, run as the real binary on the digits examples.

use std::path::{Path, PathBuf};

use crate::common::{json, stderr};

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits")
}

fn zkml_eth(args: &[&str]) -> std::process::Output {
    crate::common::zkml_eth(args, &[])
}

fn path(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

#[test]
fn compile_and_fidelity_of_both_digits_models() {
    let ex = examples();
    let tmp = tempfile::tempdir().unwrap();
    for (model, shape) in [("mlp.onnx", None), ("cnn.onnx", Some("1,1,8,8"))] {
        let out = tmp.path().join(model);
        let (onnx, calibration) = (ex.join(model), ex.join("calibration.json"));
        let mut args = vec!["--json", "compile", path(&onnx)];
        args.extend(["--calibration", path(&calibration), "--out", path(&out)]);
        if let Some(shape) = shape {
            args.extend(["--input-shape", shape]);
        }
        let report = json(&zkml_eth(&args));
        assert_eq!(report["modelCommitment"].as_str().unwrap().len(), 66, "{report}");
        // compile checks the quantized model against the float one on the calibration data.
        assert!(report["calibrationMaxRelError"].as_f64().unwrap() < 0.002, "{report}");
        assert_eq!(report["relErrorExceeded"], false, "{report}");
        assert!(report["layers"].as_array().unwrap().len() >= 4, "{report}");
        for file in ["model.onnx", "quantized.json", "settings.json"] {
            assert!(out.join(file).is_file(), "{model}: {file} written");
        }

        let test = ex.join("test.json");
        let fidelity = json(&zkml_eth(&["--json", "fidelity", path(&out), "--data", path(&test)]));
        assert_eq!(fidelity["samples"], 450);
        assert!(fidelity["argmaxAgree"].as_u64().unwrap() >= 448, "{model}: {fidelity}");
        // The digits models follow their float models to well under the 1% threshold (about 0.06%).
        assert!(fidelity["maxRelError"].as_f64().unwrap() < 0.002, "{model}: {fidelity}");
        assert_eq!(
            (fidelity["relErrorThreshold"].as_f64(), fidelity["relErrorExceeded"].as_bool()),
            (Some(0.01), Some(false))
        );

        let human = zkml_eth(&["fidelity", path(&out), "--data", path(&test)]);
        let text = String::from_utf8_lossy(&human.stdout);
        assert!(text.contains("argmax agreement") && text.contains("(threshold 1.00%)"), "{text}");
        assert!(!text.contains("EXCEEDS") && !text.contains("WARNING"), "{text}");
    }
}

#[test]
fn compile_binds_a_symbolic_batch_to_one_and_says_so() {
    // The CNN declares its input as [batch, 1, 8, 8], as PyTorch exports a dynamic batch.
    let ex = examples();
    let tmp = tempfile::tempdir().unwrap();
    let (onnx, calibration) = (ex.join("cnn.onnx"), ex.join("calibration.json"));
    let out = tmp.path().join("cnn");
    let report =
        json(&zkml_eth(&["--json", "compile", path(&onnx), "--calibration", path(&calibration), "--out", path(&out)]));
    assert_eq!(report["inputShapes"], serde_json::json!([[1, 1, 8, 8]]), "{report}");
    assert_eq!(report["batchBound"], serde_json::json!([{"input": 0, "name": "input", "dim": "batch"}]), "{report}");
    let settings: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("settings.json")).unwrap()).unwrap();
    assert_eq!(settings["batch_bound"], report["batchBound"], "settings.json records it");

    let human = zkml_eth(&["compile", path(&onnx), "--calibration", path(&calibration), "--out", path(&out)]);
    assert!(human.status.success(), "{}", stderr(&human));
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("input 0 ('input'): batch dimension 'batch' bound to 1, shape [1, 1, 8, 8]"), "{text}");

    // Given by hand, nothing is bound and the model is the same.
    let by_hand = tmp.path().join("by-hand");
    let given = json(&zkml_eth(&[
        "--json",
        "compile",
        path(&onnx),
        "--calibration",
        path(&calibration),
        "--input-shape",
        "1,1,8,8",
        "--out",
        path(&by_hand),
    ]));
    assert_eq!(given["batchBound"], serde_json::json!([]));
    assert_eq!(given["modelCommitment"], report["modelCommitment"]);
}

#[test]
fn fidelity_flags_a_relative_error_above_the_threshold() {
    // The MLP at 2^-4 activations and 2^-2 weights is about 30% off its float model on some samples.
    let ex = examples();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("coarse");
    let (onnx, calibration, test) = (ex.join("mlp.onnx"), ex.join("calibration.json"), ex.join("test.json"));
    let compiled = zkml_eth(&[
        "compile",
        path(&onnx),
        "--calibration",
        path(&calibration),
        "--scale",
        "4",
        "--param-scale",
        "2",
        "--out",
        path(&out),
    ]);
    assert!(compiled.status.success(), "{}", stderr(&compiled));
    // compile already warns, from the calibration data.
    let text = String::from_utf8_lossy(&compiled.stdout);
    assert!(
        text.contains("on the calibration data: outputs within") && text.contains("WARNING: that is above 1%"),
        "{text}"
    );

    let report = json(&zkml_eth(&["--json", "fidelity", path(&out), "--data", path(&test)]));
    assert!(report["maxRelError"].as_f64().unwrap() > 0.05, "{report}");
    assert_eq!(report["relErrorExceeded"], true, "{report}");
    assert!(report["maxRelErrorSample"].as_u64().is_some(), "{report}");

    let human = zkml_eth(&["fidelity", path(&out), "--data", path(&test)]);
    assert_eq!(human.status.code(), Some(0), "a flagged report is a finding, not a failure");
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("(threshold 1.00%)  EXCEEDS"), "{text}");
    assert!(
        text.contains("WARNING: the quantized outputs are up to") && text.contains("above the 1.00% threshold"),
        "{text}"
    );

    // The threshold is the user's.
    let lenient = json(&zkml_eth(&["--json", "fidelity", path(&out), "--data", path(&test), "--max-rel-error", "90"]));
    assert_eq!(
        (lenient["relErrorExceeded"].as_bool(), lenient["relErrorThreshold"].as_f64()),
        (Some(false), Some(0.9))
    );
    let bad = zkml_eth(&["fidelity", path(&out), "--data", path(&test), "--max-rel-error=-1"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("'-1' is not a percentage"), "{}", stderr(&bad));
}

#[test]
fn compile_errors_name_the_problem() {
    let ex = examples();
    let calibration = ex.join("calibration.json");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");

    let bad_shape = zkml_eth(&[
        "compile",
        path(&ex.join("cnn.onnx")),
        "--calibration",
        path(&calibration),
        "--input-shape",
        "1,x,8,8",
        "--out",
        path(&out),
    ]);
    assert_eq!(bad_shape.status.code(), Some(2), "a usage error");
    assert!(!out.exists(), "nothing is written on error");
    assert!(stderr(&bad_shape).contains("'x' in '1,x,8,8' is not a dimension"), "{}", stderr(&bad_shape));

    let missing =
        zkml_eth(&["compile", "no/such/model.onnx", "--calibration", path(&calibration), "--out", path(&out)]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("no/such/model.onnx: no such ONNX file"), "{}", stderr(&missing));

    let wrong_data = zkml_eth(&[
        "compile",
        path(&ex.join("mlp.onnx")),
        "--calibration",
        path(&ex.join("metrics.json")),
        "--out",
        path(&out),
    ]);
    assert_eq!(wrong_data.status.code(), Some(1));
    assert!(stderr(&wrong_data).contains("metrics.json"), "{}", stderr(&wrong_data));

    // A directory with the user's own files is never written into.
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "mine").unwrap();
    let occupied =
        zkml_eth(&["compile", path(&ex.join("mlp.onnx")), "--calibration", path(&calibration), "--out", path(&out)]);
    assert_eq!(occupied.status.code(), Some(1));
    assert!(stderr(&occupied).contains("'keep.txt'"), "{}", stderr(&occupied));
    assert_eq!(std::fs::read_to_string(out.join("keep.txt")).unwrap(), "mine");
    assert!(!stderr(&occupied).contains("panicked"));
}

#[test]
fn fidelity_of_a_directory_that_is_not_a_compile_output() {
    let tmp = tempfile::tempdir().unwrap();
    let out = zkml_eth(&["fidelity", path(tmp.path()), "--data", path(&examples().join("test.json"))]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("settings.json"), "{}", stderr(&out));
}
