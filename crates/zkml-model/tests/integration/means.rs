//! Means and divisions by integers are exact divisions, not products with a quantized reciprocal: a
//! ReduceMean over 300 values once came out 2.5% off (1/300 at 2^-12 is 14/4096). And `fidelity` flags
//! a relative error above its threshold.

use std::path::Path;

use crate::support::{Dim::*, OnnxBuilder, attr_i, attr_ints, values};
use tract_onnx::pb::ModelProto;
use zkml_model::{
    CalibrationOptions, ImportedModel,
    data::DataSet,
    exec::{execute, outputs_real},
    fidelity::{DEFAULT_MAX_REL_ERROR, fidelity_of},
    float::FloatRunner,
    import_proto,
    quantize::{QuantizedModel, calibrate_and_quantize},
};

/// Samples of `n` values around `center` (within ±`spread`).
fn around(center: f32, spread: f32, n: usize, seeds: std::ops::Range<u64>) -> Vec<Vec<f32>> {
    seeds.map(|s| values(s, n, spread).into_iter().map(|v| v + center).collect()).collect()
}

fn compile(
    name: &str,
    proto: &ModelProto,
    calibration: &[Vec<f32>],
    options: CalibrationOptions,
) -> (ImportedModel, QuantizedModel) {
    let imported = import_proto(proto, Path::new(name), None).unwrap_or_else(|e| panic!("{name}: {e}"));
    let q = calibrate_and_quantize(&imported, calibration, options).unwrap_or_else(|e| panic!("{name}: {e}"));
    (imported, q)
}

fn ops(q: &QuantizedModel) -> Vec<&str> {
    q.nodes.iter().map(|n| n.op_name.as_str()).collect()
}

fn reduce_mean_300() -> ModelProto {
    OnnxBuilder::new(13)
        .input("x", &[Fixed(1), Fixed(300)])
        .node("ReduceMean", &["x"], &["y"], vec![attr_ints("axes", &[1]), attr_i("keepdims", 1)])
        .output("y")
        .build()
}

#[test]
fn reduce_mean_over_300_values_is_an_exact_division() {
    let calibration = around(50.0, 10.0, 300, 0..32);
    let (imported, q) = compile("mean300", &reduce_mean_300(), &calibration, CalibrationOptions::default());
    let runner = FloatRunner::outputs(&imported).unwrap();
    let step = 1.0 / (1u64 << q.scales.activation) as f64;
    for (i, x) in around(50.0, 10.0, 300, 100..116).iter().enumerate() {
        let float = runner.run(x).unwrap()[0][0] as f64;
        let quant = outputs_real(&q, &execute(&q, x).unwrap())[0][0];
        if i == 0 {
            eprintln!("mean of 300 values: float {float:.6}, quantized {quant:.6} at 2^-{}", q.scales.activation);
        }
        // Inputs round by half a step each, the division by half a step: the mean keeps that precision.
        assert!((float - quant).abs() <= step, "sample {i}: float mean {float}, quantized {quant}");
    }

    let data = DataSet { inputs: around(50.0, 10.0, 300, 200..232), labels: None };
    let report = fidelity_of(&imported, &q, &data, DEFAULT_MAX_REL_ERROR).unwrap();
    let max_rel = report.max_rel_error.expect("a value output has a relative error");
    eprintln!("fidelity of the mean over 300 values: max relative error {:.5}%", max_rel * 100.0);
    assert!(max_rel < 1e-4 && !report.rel_error_exceeded, "{report:?}");
    assert_eq!(ops(&q), ["Input", "ReduceSum", "Div"], "the mean is a sum and a division by 300");
}

#[test]
fn divisions_by_integers_and_global_average_pooling_divide_exactly() {
    // x / 255, as image models normalize pixels; x * (1/7) written as a product; a 5x5 global average.
    let div = OnnxBuilder::new(13)
        .input("x", &[Param("N"), Fixed(6)])
        .init("d", &[1], vec![255.0])
        .node("Div", &["x", "d"], &["y"], vec![])
        .output("y")
        .build();
    let (_, q) = compile("div255", &div, &around(100.0, 100.0, 6, 0..16), CalibrationOptions::default());
    assert_eq!(ops(&q), ["Input", "Div"]);

    let mul = OnnxBuilder::new(13)
        .input("x", &[Fixed(1), Fixed(6)])
        .init("r", &[1, 1], vec![1.0 / 7.0])
        .node("Mul", &["r", "x"], &["y"], vec![])
        .output("y")
        .build();
    let (_, q) = compile("mul_seventh", &mul, &around(0.0, 5.0, 6, 0..16), CalibrationOptions::default());
    assert_eq!(ops(&q), ["Input", "Div"]);
    let x = [3.5f32, -3.5, 0.0, 1.0, -1.0, 4.9];
    let got = outputs_real(&q, &execute(&q, &x).unwrap())[0].clone();
    let step = 1.0 / (1u64 << q.scales.activation) as f64;
    for (v, g) in x.iter().zip(got) {
        assert!((*v as f64 / 7.0 - g).abs() <= step, "{v} / 7 = {g}");
    }

    let gap = OnnxBuilder::new(13)
        .input("x", &[Fixed(1), Fixed(2), Fixed(5), Fixed(5)])
        .node("GlobalAveragePool", &["x"], &["y"], vec![])
        .output("y")
        .build();
    let (_, q) = compile("gap", &gap, &around(0.0, 1.0, 50, 0..16), CalibrationOptions::default());
    assert!(ops(&q).ends_with(&["ReduceSum", "Div"]), "{:?}", ops(&q));

    // A constant that is not the reciprocal of an integer stays a product, and so do negative ones.
    for c in [0.3f32, -1.0 / 3.0, 1.5] {
        let m = OnnxBuilder::new(13)
            .input("x", &[Fixed(1), Fixed(4)])
            .init("c", &[1], vec![c])
            .node("Mul", &["x", "c"], &["y"], vec![])
            .output("y")
            .build();
        let (_, q) = compile("mul", &m, &around(0.0, 1.0, 4, 0..8), CalibrationOptions::default());
        assert_eq!(ops(&q), ["Input", "Mul"], "x * {c}");
    }
}

#[test]
fn fidelity_flags_a_relative_error_above_the_threshold() {
    // 0.3 at a weight scale of 2^-2 is 1/4: every output is 17% low.
    let m = OnnxBuilder::new(13)
        .input("x", &[Fixed(1), Fixed(4)])
        .init("c", &[1], vec![0.3])
        .node("Mul", &["x", "c"], &["y"], vec![])
        .output("y")
        .build();
    let calibration = around(0.0, 4.0, 4, 0..16);
    let coarse = CalibrationOptions { param_scale: Some(2), ..Default::default() };
    let (imported, q) = compile("coarse", &m, &calibration, coarse);
    let data = DataSet { inputs: around(0.0, 4.0, 4, 50..60), labels: None };
    let report = fidelity_of(&imported, &q, &data, DEFAULT_MAX_REL_ERROR).unwrap();
    let max_rel = report.max_rel_error.unwrap();
    assert!((0.15..0.2).contains(&max_rel), "{report:?}");
    assert!(report.rel_error_exceeded && report.rel_error_threshold == 0.01, "{report:?}");
    assert!(report.max_rel_error_sample.is_some_and(|s| s < 10));

    // The threshold is the caller's: at 20% the same report passes.
    assert!(!fidelity_of(&imported, &q, &data, 0.2).unwrap().rel_error_exceeded);
    assert!(fidelity_of(&imported, &q, &data, f64::NAN).unwrap_err().to_string().contains("threshold"));

    // At the default scales it follows the float model.
    let (imported, q) = compile("fine", &m, &calibration, CalibrationOptions::default());
    let report = fidelity_of(&imported, &q, &data, DEFAULT_MAX_REL_ERROR).unwrap();
    assert!(!report.rel_error_exceeded && report.max_rel_error.unwrap() < 1e-3, "{report:?}");
}
