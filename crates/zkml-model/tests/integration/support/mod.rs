//! Builds small ONNX models in memory (tract's own protobuf types), so op tests need no Python and no
//! committed fixtures.
#![allow(dead_code, unreachable_pub)]

use tract_onnx::pb::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, TensorShapeProto, TypeProto,
    ValueInfoProto, attribute_proto::AttributeType, tensor_proto::DataType, tensor_shape_proto, type_proto,
};

/// One dimension of a graph input: fixed, symbolic as exporters write a dynamic batch, or unknown (no
/// value and no name, as some exporters leave it).
#[derive(Clone, Debug)]
pub enum Dim {
    Fixed(i64),
    Param(&'static str),
    Unknown,
}

/// An ONNX graph under construction.
pub struct OnnxBuilder {
    graph: GraphProto,
    opset: i64,
}

impl OnnxBuilder {
    pub fn new(opset: i64) -> Self {
        Self { graph: GraphProto { name: "test".into(), ..Default::default() }, opset }
    }

    pub fn input(mut self, name: &str, dims: &[Dim]) -> Self {
        self.graph.input.push(value_info(name, Some(dims)));
        self
    }

    /// An input of integer ids (int64), as token inputs are.
    pub fn input_i64(mut self, name: &str, dims: &[Dim]) -> Self {
        let mut info = value_info(name, Some(dims));
        if let Some(type_proto::Value::TensorType(t)) = info.r#type.as_mut().and_then(|t| t.value.as_mut()) {
            t.elem_type = DataType::Int64 as i32;
        }
        self.graph.input.push(info);
        self
    }

    pub fn output(mut self, name: &str) -> Self {
        self.graph.output.push(value_info(name, None));
        self
    }

    pub fn init(mut self, name: &str, dims: &[i64], data: Vec<f32>) -> Self {
        assert_eq!(dims.iter().product::<i64>() as usize, data.len(), "initializer {name}");
        self.graph.initializer.push(TensorProto {
            name: name.into(),
            dims: dims.to_vec(),
            data_type: DataType::Float as i32,
            float_data: data,
            ..Default::default()
        });
        self
    }

    pub fn init_bool(mut self, name: &str, dims: &[i64], data: Vec<bool>) -> Self {
        self.graph.initializer.push(TensorProto {
            name: name.into(),
            dims: dims.to_vec(),
            data_type: DataType::Bool as i32,
            int32_data: data.into_iter().map(i32::from).collect(),
            ..Default::default()
        });
        self
    }

    pub fn init_i64(mut self, name: &str, dims: &[i64], data: Vec<i64>) -> Self {
        self.graph.initializer.push(TensorProto {
            name: name.into(),
            dims: dims.to_vec(),
            data_type: DataType::Int64 as i32,
            int64_data: data,
            ..Default::default()
        });
        self
    }

    pub fn node(mut self, op_type: &str, inputs: &[&str], outputs: &[&str], attrs: Vec<AttributeProto>) -> Self {
        let name = format!("{op_type}_{}", self.graph.node.len());
        self.graph.node.push(NodeProto {
            name,
            op_type: op_type.into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outputs.iter().map(|s| s.to_string()).collect(),
            attribute: attrs,
            ..Default::default()
        });
        self
    }

    pub fn build(self) -> ModelProto {
        ModelProto {
            ir_version: 8,
            producer_name: "zkml-model tests".into(),
            opset_import: vec![OperatorSetIdProto { domain: String::new(), version: self.opset }],
            graph: Some(self.graph),
            ..Default::default()
        }
    }
}

fn value_info(name: &str, dims: Option<&[Dim]>) -> ValueInfoProto {
    let shape = dims.map(|dims| TensorShapeProto {
        dim: dims
            .iter()
            .map(|d| tensor_shape_proto::Dimension {
                value: match d {
                    Dim::Fixed(v) => Some(tensor_shape_proto::dimension::Value::DimValue(*v)),
                    Dim::Param(p) => Some(tensor_shape_proto::dimension::Value::DimParam(p.to_string())),
                    Dim::Unknown => None,
                },
                ..Default::default()
            })
            .collect(),
    });
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor { elem_type: DataType::Float as i32, shape })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub fn attr_i(name: &str, i: i64) -> AttributeProto {
    AttributeProto { name: name.into(), r#type: AttributeType::Int as i32, i, ..Default::default() }
}

pub fn attr_f(name: &str, f: f32) -> AttributeProto {
    AttributeProto { name: name.into(), r#type: AttributeType::Float as i32, f, ..Default::default() }
}

pub fn attr_ints(name: &str, ints: &[i64]) -> AttributeProto {
    AttributeProto { name: name.into(), r#type: AttributeType::Ints as i32, ints: ints.to_vec(), ..Default::default() }
}

pub fn attr_s(name: &str, s: &str) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::String as i32,
        s: s.as_bytes().to_vec(),
        ..Default::default()
    }
}

/// Deterministic pseudo-random floats in [-scale, scale] (no rand dependency needed for fixtures).
pub fn values(seed: u64, n: usize, scale: f32) -> Vec<f32> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let unit = ((state >> 33) as f64) / ((1u64 << 31) as f64); // [0, 1)
            ((unit * 2.0 - 1.0) as f32) * scale
        })
        .collect()
}
