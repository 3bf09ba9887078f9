//! A constant tensor of small values gets its own parameter scale: at one model-wide `2^-12`, weights
//! near 0.003 keep three or four significant bits and the outputs drift by percents. The digits models,
//! whose tensors all reach 1/2, keep the model's scale (and so their bytes and commitments).

use std::{path::Path, path::PathBuf};

use crate::support::{Dim::*, OnnxBuilder, attr_f, attr_ints, values};
use tract_onnx::pb::ModelProto;
use zkml_model::{
    CalibrationOptions, CompiledModel, ImportedModel,
    commit::model_commitment,
    data::DataSet,
    fidelity::{DEFAULT_MAX_REL_ERROR, fidelity_of},
    import_proto,
    quantize::{
        FORMAT_VERSION, FORMAT_VERSION_MODEL_PARAM_SCALE, QOp, QuantizedModel, calibrate_and_quantize, tensor_scale,
    },
};

/// Imports and calibrates on inputs within ±`magnitude`.
fn compile(name: &str, proto: &ModelProto, len: usize, magnitude: f32) -> (ImportedModel, QuantizedModel) {
    let imported = import_proto(proto, Path::new(name), None).unwrap_or_else(|e| panic!("{name}: {e}"));
    let calibration: Vec<Vec<f32>> = (0..32).map(|i| values(300 + i, len, magnitude)).collect();
    let q = calibrate_and_quantize(&imported, &calibration, CalibrationOptions::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    (imported, q)
}

/// The largest relative output error over fresh samples within ±`magnitude` (see `zkml_model::fidelity`).
fn max_rel_error(imported: &ImportedModel, q: &QuantizedModel, len: usize, magnitude: f32) -> f64 {
    let data = DataSet { inputs: (0..32).map(|i| values(900 + i, len, 0.95 * magnitude)).collect(), labels: None };
    let report = fidelity_of(imported, q, &data, DEFAULT_MAX_REL_ERROR).expect("both models run");
    report.max_rel_error.expect("value outputs")
}

fn own_scales(q: &QuantizedModel) -> Vec<(String, u8)> {
    let p = q.scales.param;
    q.nodes.iter().filter(|n| n.op.param_scale(p) != p).map(|n| (n.op_name.clone(), n.op.param_scale(p))).collect()
}

#[test]
fn the_scale_of_a_tensor_gives_its_largest_value_the_model_s_significant_bits() {
    assert_eq!(tensor_scale(1.0, 12, 12), 12);
    assert_eq!(tensor_scale(0.5, 12, 12), 12);
    assert_eq!(tensor_scale(0.3, 12, 12), 13);
    assert_eq!(tensor_scale(1.0 / 300.0, 12, 12), 20, "2^20 / 300 = 3495 >= 2^11");
    assert_eq!(tensor_scale(0.0, 12, 12), 12, "an all-zero tensor");
    assert_eq!(tensor_scale(1e-30, 12, 12), 24, "at most 12 bits more");
    assert_eq!(tensor_scale(1e-30, 30, 12), 18, "and the two scales at most 48 bits together");
    assert_eq!(tensor_scale(1e-30, 40, 10), 10, "never below the model's");
    for (v, s, p) in [(0.004f64, 12u8, 12u8), (0.0123, 10, 8), (0.2, 12, 12)] {
        let t = tensor_scale(v, s, p);
        assert!(v * (1u64 << t) as f64 >= (1u64 << (p - 1)) as f64, "{v} at 2^{t}");
        assert!(v * ((1u64 << (t - 1)) as f64) < (1u64 << (p - 1)) as f64, "{v}: 2^{t} is the least such scale");
    }
}

#[test]
fn small_weights_and_constants_keep_their_precision() {
    // Raw pixel values (up to 255) into weights within ±0.004: at 2^-12 the weights would be integers up to
    // 16, several percent off each.
    let m = OnnxBuilder::new(13)
        .input("x", &[Param("N"), Fixed(16)])
        .init("w", &[16, 8], values(11, 128, 0.004))
        .init("b", &[8], values(12, 8, 0.1))
        .node("MatMul", &["x", "w"], &["h"], vec![])
        .node("Add", &["h", "b"], &["y"], vec![])
        .output("y")
        .build();
    let (imported, q) = compile("small", &m, 16, 255.0);
    let err = max_rel_error(&imported, &q, 16, 255.0);
    eprintln!("small weights: max relative error {:.4}%", err * 100.0);
    assert!(err < 0.001, "max relative error {err}");
    let scales = own_scales(&q);
    assert_eq!(scales.iter().map(|(op, _)| op.as_str()).collect::<Vec<_>>(), ["MatMul"], "{scales:?}");
    assert!(scales.iter().all(|(_, t)| *t > 12 && *t <= 24), "{scales:?}");

    // Prices near 2,000 times 0.00123 (0.00122 at 2^-12, 0.8% off).
    let m = OnnxBuilder::new(13)
        .input("x", &[Fixed(1), Fixed(6)])
        .init("c", &[1], vec![0.00123])
        .node("Mul", &["x", "c"], &["y"], vec![])
        .output("y")
        .build();
    let (imported, q) = compile("small-constant", &m, 6, 2000.0);
    let err = max_rel_error(&imported, &q, 6, 2000.0);
    eprintln!("small constant: max relative error {:.4}%", err * 100.0);
    assert!(err < 0.001, "max relative error {err}");
    assert_eq!(own_scales(&q).len(), 1, "{:?}", own_scales(&q));

    // A convolution with a small kernel, and LeakyRelu's usual slope of 0.01.
    let m = OnnxBuilder::new(13)
        .input("x", &[Fixed(1), Fixed(2), Fixed(5), Fixed(5)])
        .init("k", &[3, 2, 3, 3], values(21, 54, 0.003))
        .node("Conv", &["x", "k"], &["c"], vec![attr_ints("kernel_shape", &[3, 3]), attr_ints("pads", &[1, 1, 1, 1])])
        .node("LeakyRelu", &["c"], &["y"], vec![attr_f("alpha", 0.01)])
        .output("y")
        .build();
    let (imported, q) = compile("small-conv", &m, 50, 255.0);
    let scales: Vec<String> = own_scales(&q).into_iter().map(|(op, _)| op).collect();
    assert_eq!(scales, ["Conv", "LeakyRelu"]);
    let QOp::LeakyRelu { alpha, param_scale: Some(t) } = q.nodes.last().expect("nodes").op else {
        panic!("the output is the LeakyRelu, with its own scale")
    };
    let slope = alpha as f64 / (1u64 << t) as f64;
    assert!((slope - 0.01).abs() / 0.01 < 1.0 / 2048.0, "alpha {alpha} / 2^{t} = {slope}");
    let err = max_rel_error(&imported, &q, 50, 255.0);
    eprintln!("small kernel: max relative error {:.4}%", err * 100.0);
    assert!(err < 0.002, "max relative error {err}");
}

#[test]
fn own_scales_are_committed_and_the_digits_models_keep_the_model_scale() {
    let m = OnnxBuilder::new(13)
        .input("x", &[Fixed(1), Fixed(4)])
        .init("w", &[4, 2], values(31, 8, 0.01))
        .node("MatMul", &["x", "w"], &["y"], vec![])
        .output("y")
        .build();
    let (_, q) = compile("committed", &m, 4, 1.0);
    let c = model_commitment(&q);
    let mut other = q.clone();
    let QOp::MatMul { param_scale, .. } = &mut other.nodes[1].op else { panic!("node 1 is the MatMul") };
    let own = param_scale.expect("weights within 0.01 have their own scale");
    *param_scale = Some(own + 1);
    assert_ne!(model_commitment(&other), c, "the same integers at another scale are another model");
    let text = serde_json::to_string(&q).expect("serializes");
    let back: QuantizedModel = serde_json::from_str(&text).expect("loads back");
    assert!(back == q && text.contains(&format!("\"param_scale\":{own}")), "{text}");

    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits");
    for file in ["mlp.onnx", "cnn.onnx"] {
        let compiled =
            CompiledModel::compile(&dir.join(file), None, &dir.join("calibration.json"), CalibrationOptions::default())
                .unwrap();
        assert!(own_scales(&compiled.quantized).is_empty(), "{file}: {:?}", own_scales(&compiled.quantized));
        let text = serde_json::to_string(&compiled.quantized).unwrap();
        assert!(!text.contains("param_scale"), "{file}: the file format is unchanged");
        assert_eq!(compiled.quantized.format_version, FORMAT_VERSION_MODEL_PARAM_SCALE, "{file}: still version 1");
    }
}

#[test]
fn own_scales_make_format_version_2_which_a_version_1_file_cannot_claim() {
    // A release that reads only version 1 refuses a version-2 file instead of ignoring `param_scale` (serde
    // skips unknown fields) and running the constants at the wrong scale.
    let m = OnnxBuilder::new(13)
        .input("x", &[Fixed(1), Fixed(4)])
        .init("w", &[4, 2], values(41, 8, 0.01))
        .node("MatMul", &["x", "w"], &["y"], vec![])
        .output("y")
        .build();
    let dir = tempfile::tempdir().unwrap();
    let onnx = dir.path().join("small.onnx");
    std::fs::write(&onnx, prost::Message::encode_to_vec(&m)).unwrap();
    let calibration = dir.path().join("calibration.json");
    let inputs: Vec<Vec<f32>> = (0..8).map(|i| values(50 + i, 4, 1.0)).collect();
    std::fs::write(&calibration, serde_json::json!({ "inputs": inputs }).to_string()).unwrap();
    let compiled = CompiledModel::compile(&onnx, None, &calibration, CalibrationOptions::default()).unwrap();
    assert_eq!(compiled.quantized.format_version, FORMAT_VERSION);
    assert_eq!(compiled.settings.format_version, FORMAT_VERSION);
    let out = dir.path().join("compiled");
    compiled.save(&out).unwrap();
    assert!(CompiledModel::load(&out).unwrap().quantized == compiled.quantized, "version 2 loads back");

    let path = out.join("quantized.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = text.replacen(&format!("\"format_version\": {FORMAT_VERSION}"), "\"format_version\": 1", 1);
    assert_ne!(edited, text);
    std::fs::write(&path, edited).unwrap();
    let err = CompiledModel::load(&out).unwrap_err().to_string();
    assert!(err.contains("quantized.json") && err.contains("format version 1") && err.contains("own"), "{err}");
}
