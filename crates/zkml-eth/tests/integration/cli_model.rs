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
        assert!(report["layers"].as_array().unwrap().len() >= 4, "{report}");
        for file in ["model.onnx", "quantized.json", "settings.json"] {
            assert!(out.join(file).is_file(), "{model}: {file} written");
        }

        let test = ex.join("test.json");
        let fidelity = json(&zkml_eth(&["--json", "fidelity", path(&out), "--data", path(&test)]));
        assert_eq!(fidelity["samples"], 450);
        assert!(fidelity["argmaxAgree"].as_u64().unwrap() >= 448, "{model}: {fidelity}");

        let human = zkml_eth(&["fidelity", path(&out), "--data", path(&test)]);
        assert!(String::from_utf8_lossy(&human.stdout).contains("argmax agreement"));
    }
}

#[test]
fn compile_errors_name_the_problem() {
    let ex = examples();
    let calibration = ex.join("calibration.json");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");

    let dynamic =
        zkml_eth(&["compile", path(&ex.join("cnn.onnx")), "--calibration", path(&calibration), "--out", path(&out)]);
    assert_eq!(dynamic.status.code(), Some(1));
    assert!(stderr(&dynamic).contains("--input-shape 1,1,8,8"), "{}", stderr(&dynamic));
    assert!(!out.exists(), "nothing is written on error");

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
