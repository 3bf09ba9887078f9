//! Symbolic input dimensions: a leading batch is bound to 1 (as EZKL's default `batch_size = 1`), every
//! other symbolic dimension is an error naming the input and the dimension, with one suggested
//! `--input-shape` per model input.

use std::path::Path;

use crate::support::{Dim, Dim::*, OnnxBuilder, values};
use zkml_model::{
    CalibrationOptions, CompiledModel, Error, import::BatchBinding, import_onnx, import_proto,
    quantize::calibrate_and_quantize,
};

fn relu(dims: &[Dim]) -> tract_onnx::pb::ModelProto {
    OnnxBuilder::new(13).input("x", dims).node("Relu", &["x"], &["y"], vec![]).output("y").build()
}

#[test]
fn a_symbolic_batch_is_bound_to_one_and_reported() {
    for (dim, symbol) in
        [(Param("N"), "N"), (Param("batch_size"), "batch_size"), (Param("unk__0"), "unk__0"), (Unknown, "?")]
    {
        let m = relu(&[dim, Fixed(3), Fixed(4)]);
        let imported = import_proto(&m, Path::new("batch.onnx"), None).unwrap_or_else(|e| panic!("{symbol}: {e}"));
        assert_eq!(imported.graph.input_shapes(), vec![vec![1, 3, 4]], "{symbol}");
        assert_eq!(
            imported.batch_bound,
            vec![BatchBinding { input: 0, name: "x".into(), dim: symbol.into() }],
            "{symbol}: the binding is reported"
        );
        // It computes like the model with the batch fixed by hand.
        let calibration: Vec<Vec<f32>> = (0..8).map(|i| values(i, 12, 1.0)).collect();
        calibrate_and_quantize(&imported, &calibration, CalibrationOptions::default()).expect("quantizes");
    }

    // A shape given by the user binds nothing on its own.
    let given = import_proto(&relu(&[Param("N"), Fixed(3)]), Path::new("batch.onnx"), Some(&[vec![2, 3]])).unwrap();
    assert_eq!((given.graph.input_shapes(), given.batch_bound.len()), (vec![vec![2, 3]], 0));
    let fixed = import_proto(&relu(&[Fixed(1), Fixed(3)]), Path::new("fixed.onnx"), None).unwrap();
    assert!(fixed.batch_bound.is_empty(), "a fixed shape binds nothing");
}

#[test]
fn a_symbolic_non_batch_dimension_is_an_error_naming_the_input_and_the_dimension() {
    let m = relu(&[Param("N"), Param("seq"), Fixed(8)]);
    let err = import_proto(&m, Path::new("seq.onnx"), None).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::DynamicInputShape { .. }), "{err:?}");
    assert!(
        text.contains("input 0 ('x') has the dynamic shape [N,seq,8] (dimension 1 is 'seq')")
            && text.contains("e.g. --input-shape 1,1,8"),
        "{text}"
    );
    assert!(!text.contains("dimension 0"), "the batch is not the problem: {text}");

    // A rank-one input has no batch axis: its only dimension is the data.
    let err = import_proto(&relu(&[Param("N")]), Path::new("vec.onnx"), None).unwrap_err().to_string();
    assert!(err.contains("[N] (dimension 0 is 'N')") && err.contains("--input-shape 1"), "{err}");

    // An input that declares no shape at all.
    let mut shapeless = relu(&[Fixed(1)]);
    let input = &mut shapeless.graph.as_mut().expect("a graph").input[0];
    let Some(tract_onnx::pb::type_proto::Value::TensorType(t)) = input.r#type.as_mut().and_then(|t| t.value.as_mut())
    else {
        panic!("a tensor input")
    };
    t.shape = None;
    let err = import_proto(&shapeless, Path::new("shapeless.onnx"), None).unwrap_err().to_string();
    assert!(err.contains("input 0 ('x') declares no shape; only a leading batch dimension is bound to 1 by default: pass its concrete shape"), "{err}");
    assert!(err.contains("e.g. --input-shape D0,D1,..."), "{err}");

    let ok = import_proto(&m, Path::new("seq.onnx"), Some(&[vec![1, 5, 8]])).unwrap();
    assert_eq!(ok.graph.input_shapes(), vec![vec![1, 5, 8]]);
    let wrong_count = import_proto(&m, Path::new("seq.onnx"), Some(&[vec![1, 5, 8], vec![1]])).unwrap_err();
    assert!(matches!(wrong_count, Error::InputShapeCount { expected: 1, given: 2 }), "{wrong_count:?}");
}

#[test]
fn several_dynamic_inputs_are_named_in_one_message_with_a_shape_for_every_input() {
    let m = OnnxBuilder::new(13)
        .input("tokens", &[Param("N"), Param("seq")])
        .input("mask", &[Param("N"), Param("seq")])
        .input("bias", &[Fixed(1), Fixed(1)])
        .node("Add", &["tokens", "mask"], &["s"], vec![])
        .node("Add", &["s", "bias"], &["y"], vec![])
        .output("y")
        .build();
    let err = import_proto(&m, Path::new("two.onnx"), None).unwrap_err();
    let Error::DynamicInputShape { inputs, .. } = &err else { panic!("{err:?}") };
    assert_eq!(inputs.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(), ["tokens", "mask"]);
    let text = err.to_string();
    assert!(text.contains("input 0 ('tokens') has the dynamic shape [N,seq] (dimension 1 is 'seq')"), "{text}");
    assert!(text.contains("input 1 ('mask') has the dynamic shape [N,seq] (dimension 1 is 'seq')"), "{text}");
    assert!(
        text.contains(
            "every input's concrete shape, in input order, e.g. --input-shape 1,1 --input-shape 1,1 --input-shape 1,1"
        ),
        "{text}"
    );

    let shapes = [vec![1, 4], vec![1, 4], vec![1, 1]];
    let ok = import_proto(&m, Path::new("two.onnx"), Some(&shapes)).unwrap();
    assert_eq!(ok.graph.input_shapes(), shapes.to_vec());
}

#[test]
fn the_digits_cnn_compiles_with_its_dynamic_batch_bound_to_one() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits");
    let (onnx, calibration) = (dir.join("cnn.onnx"), dir.join("calibration.json"));
    let imported = import_onnx(&onnx, None).expect("the CNN's dynamic batch is bound");
    assert_eq!(imported.graph.input_shapes(), vec![vec![1, 1, 8, 8]]);
    assert_eq!(imported.batch_bound.len(), 1);

    let compiled = CompiledModel::compile(&onnx, None, &calibration, CalibrationOptions::default()).unwrap();
    assert_eq!(compiled.settings.batch_bound, imported.batch_bound, "settings.json records the binding");
    let by_hand =
        CompiledModel::compile(&onnx, Some(&[vec![1, 1, 8, 8]]), &calibration, CalibrationOptions::default()).unwrap();
    assert!(compiled.quantized == by_hand.quantized, "binding the batch is the same as --input-shape 1,1,8,8");
    assert!(by_hand.settings.batch_bound.is_empty());

    let tmp = tempfile::tempdir().unwrap();
    compiled.save(tmp.path()).unwrap();
    let settings = std::fs::read_to_string(tmp.path().join("settings.json")).unwrap();
    assert!(settings.contains("\"batch_bound\""), "{settings}");
    let loaded = CompiledModel::load(tmp.path()).unwrap();
    assert!(loaded.settings == compiled.settings && loaded.quantized == compiled.quantized);
}
