//! ONNX import with tract: fix the input shapes, let tract fold constants and declutter (exporter noise such
//! as Shape/Gather/Concat/Reshape chains, Identity and Constant nodes disappears, BatchNorm is folded into
//! the convolution or matmul before it), then map what is left onto [`Op`].

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Arc,
};

use tract_onnx::{
    pb::ModelProto,
    prelude::*,
    tract_core::ops::{
        Downsample,
        array::{Gather, MultiBroadcastTo, Slice, TypedConcat},
        binary::TypedBinOp,
        cast::Cast,
        change_axes::AxisOp,
        cnn::{Conv, Deconv, KernelFormat, MaxPool, PoolSpec, SumPool},
        einsum::EinSum,
        element_wise::ElementWiseOp,
        konst::Const,
        logic::Iff,
        math::PowConst,
        nn::{DataFormat, LeakyRelu, NearestUpsample, Reduce, Reducer, RmsNorm, Softmax, SoftmaxKind},
        source::TypedSource,
    },
};

use serde::{Deserialize, Serialize};

use crate::{
    error::{Error, Result},
    graph::{BinaryKind, Graph, LookupFn, Node, NodeId, Op, Operand, UnaryKind, Window},
    tensor::Tensor,
};

/// An imported model: our op graph, plus tract's simplified float model it was mapped from.
#[derive(Debug, Clone)]
pub struct ImportedModel {
    /// The op graph.
    pub graph: Graph,
    /// Symbolic batch dimensions that were bound to 1 because no shape was given.
    pub batch_bound: Vec<BatchBinding>,
    /// For each graph node, the tract outlet that holds the same value in float.
    pub(crate) outlets: Vec<OutletId>,
    /// Nodes inside a fused tract op, which has no outlet of their own: their magnitude is
    /// `factor · M^power` of their outlet's magnitude `M` (power 0: `factor` itself).
    pub(crate) derived: HashMap<NodeId, (i32, f64)>,
    /// tract's simplified model (the float reference).
    pub(crate) typed: TypedModel,
}

/// A symbolic batch dimension (the first of an input's two or more dimensions) bound to 1, as EZKL's
/// default `batch_size = 1` does: a proof is of one inference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchBinding {
    /// Input position.
    pub input: usize,
    /// Input name in the ONNX graph.
    pub name: String,
    /// The symbol the file declares (`N`, `batch_size`, `unk__0`, ...), `?` when unnamed.
    pub dim: String,
}

/// An input whose shape has symbolic dimensions that are not a leading batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DynamicInput {
    /// Input position.
    pub index: usize,
    /// Input name in the ONNX graph.
    pub name: String,
    /// The shape as the file declares it, e.g. `[N,seq,8]`.
    pub declared: String,
    /// The dynamic dimensions zkml-eth will not choose: axis and symbol.
    pub dims: Vec<(usize, String)>,
}

/// Loads an ONNX file. `input_shapes` fixes the shape of every input; without it a symbolic batch
/// dimension is bound to 1 and any other symbolic dimension is an error.
pub fn import_onnx(path: &Path, input_shapes: Option<&[Vec<usize>]>) -> Result<ImportedModel> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let proto = tract_onnx::onnx()
        .proto_model_for_read(&mut bytes.as_slice())
        .map_err(|e| onnx_error(path, "the file is not an ONNX protobuf", e))?;
    import_proto(&proto, path, input_shapes)
}

/// Imports an ONNX model already in memory; `source` names it in errors.
pub fn import_proto(proto: &ModelProto, source: &Path, input_shapes: Option<&[Vec<usize>]>) -> Result<ImportedModel> {
    let onnx = tract_onnx::onnx();
    let mut model = onnx.model_for_proto_model(proto).map_err(|e| onnx_error(source, "loading the graph", e))?;
    let input_count = model.input_outlets().map_err(|e| onnx_error(source, "reading inputs", e))?.len();

    let mut batch_bound = vec![];
    let shapes: Vec<Option<Vec<usize>>> = match input_shapes {
        Some(shapes) => {
            if shapes.len() != input_count {
                return Err(Error::InputShapeCount { expected: input_count, given: shapes.len() });
            }
            shapes.iter().cloned().map(Some).collect()
        }
        None => {
            let mut bound = vec![];
            let mut dynamic = vec![];
            let mut suggested = vec![];
            for i in 0..input_count {
                let fact = model.input_fact(i).map_err(|e| onnx_error(source, "reading inputs", e))?;
                if let Some(concrete) = fact.shape.as_concrete_finite().ok().flatten() {
                    suggested.push(join(&concrete));
                    bound.push(None);
                    continue;
                }
                let declared = proto_input_dims(proto, i);
                let name = proto_input_name(proto, i);
                let fixed = |d: &String| d.parse::<usize>().ok().filter(|v| *v > 0);
                // The leading dimension of a tensor of rank two or more is a batch; anything else symbolic
                // changes what the model computes, so only the user can choose it.
                let is_batch = |axis: usize| axis == 0 && declared.len() >= 2;
                let others: Vec<(usize, String)> = declared
                    .iter()
                    .enumerate()
                    .filter(|(axis, d)| fixed(d).is_none() && !is_batch(*axis))
                    .map(|(axis, d)| (axis, d.clone()))
                    .collect();
                let shape: Vec<usize> = declared.iter().map(|d| fixed(d).unwrap_or(1)).collect();
                // Without a declared rank there is nothing to suggest but the form.
                suggested.push(if declared.is_empty() { "D0,D1,...".to_string() } else { join(&shape) });
                if declared.is_empty() {
                    dynamic.push(DynamicInput { index: i, name, declared: "unknown".into(), dims: vec![] });
                    bound.push(None);
                } else if !others.is_empty() {
                    dynamic.push(DynamicInput {
                        index: i,
                        name,
                        declared: format!("[{}]", declared.join(",")),
                        dims: others,
                    });
                    bound.push(None);
                } else {
                    batch_bound.push(BatchBinding { input: i, name, dim: declared[0].clone() });
                    bound.push(Some(shape));
                }
            }
            if !dynamic.is_empty() {
                let example = suggested.iter().map(|s| format!("--input-shape {s}")).collect::<Vec<_>>().join(" ");
                return Err(Error::DynamicInputShape { inputs: dynamic, example });
            }
            bound
        }
    };
    for (i, shape) in shapes.iter().enumerate() {
        if let Some(shape) = shape {
            let dt = proto_input_type(proto, i);
            model = model
                .with_input_fact(i, InferenceFact::dt_shape(dt, shape.as_slice()))
                .map_err(|e| onnx_error(source, "setting the input shape", e))?;
        }
    }

    let typed = model
        .into_typed()
        .and_then(|m| m.into_decluttered())
        .map_err(|e| onnx_error(source, "analysing the graph", e))?;
    let (graph, outlets, derived) = map_graph(&typed, proto)?;
    Ok(ImportedModel { graph, batch_bound, outlets, derived, typed })
}

fn join(dims: &[usize]) -> String {
    dims.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(",")
}

fn onnx_error(path: &Path, what: &str, e: TractError) -> Error {
    Error::Onnx { path: PathBuf::from(path), reason: format!("{what}: {e:#}") }
}

fn proto_graph_inputs(proto: &ModelProto) -> Vec<&tract_onnx::pb::ValueInfoProto> {
    let Some(graph) = proto.graph.as_ref() else { return vec![] };
    let initializers: std::collections::HashSet<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    graph.input.iter().filter(|i| !initializers.contains(i.name.as_str())).collect()
}

fn proto_input_name(proto: &ModelProto, index: usize) -> String {
    proto_graph_inputs(proto).get(index).map(|i| i.name.clone()).unwrap_or_default()
}

/// The datum type an input declares: i64 for any integer type (token ids), f32 otherwise.
fn proto_input_type(proto: &ModelProto, index: usize) -> DatumType {
    use tract_onnx::pb::{tensor_proto::DataType, type_proto::Value as TypeValue};
    let declared = proto_graph_inputs(proto).get(index).and_then(|input| {
        let TypeValue::TensorType(t) = input.r#type.as_ref()?.value.as_ref()?;
        Some(t.elem_type)
    });
    let integer = [DataType::Int64, DataType::Int32, DataType::Int16, DataType::Int8, DataType::Uint8]
        .iter()
        .any(|dt| declared == Some(*dt as i32));
    if integer { i64::datum_type() } else { f32::datum_type() }
}

fn proto_input_dims(proto: &ModelProto, index: usize) -> Vec<String> {
    use tract_onnx::pb::{tensor_shape_proto::dimension::Value as DimValue, type_proto::Value as TypeValue};
    let Some(input) = proto_graph_inputs(proto).get(index).copied() else { return vec![] };
    let Some(TypeValue::TensorType(t)) = input.r#type.as_ref().and_then(|t| t.value.as_ref()) else { return vec![] };
    t.shape
        .as_ref()
        .map(|s| {
            s.dim
                .iter()
                .map(|d| match &d.value {
                    Some(DimValue::DimValue(v)) => v.to_string(),
                    Some(DimValue::DimParam(p)) => p.clone(),
                    None => "?".into(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A value flowing through the mapping: one of our nodes, or a constant tract folded.
#[derive(Clone)]
enum Value {
    Node(NodeId),
    Const(Arc<tract_onnx::prelude::Tensor>),
}

struct Mapper<'a> {
    typed: &'a TypedModel,
    /// ONNX node name -> op type, to say which ONNX op a rewritten tract node came from.
    onnx_ops: HashMap<String, String>,
    nodes: Vec<Node>,
    outlets: Vec<OutletId>,
    derived: HashMap<NodeId, (i32, f64)>,
    values: HashMap<OutletId, Value>,
}

type Mapped = (Graph, Vec<OutletId>, HashMap<NodeId, (i32, f64)>);

fn map_graph(typed: &TypedModel, proto: &ModelProto) -> Result<Mapped> {
    let onnx_ops = proto.graph.iter().flat_map(|g| &g.node).map(|n| (n.name.clone(), n.op_type.clone())).collect();
    let mut m =
        Mapper { typed, onnx_ops, nodes: vec![], outlets: vec![], derived: HashMap::new(), values: HashMap::new() };
    let order = typed.eval_order().map_err(|e| Error::Float(format!("{e:#}")))?;
    for id in order {
        m.map_node(id)?;
    }
    let input_outlets = typed.input_outlets().map_err(|e| Error::Float(format!("{e:#}")))?;
    let inputs = input_outlets
        .iter()
        .map(|o| match m.values.get(o) {
            Some(Value::Node(id)) => Ok(*id),
            _ => Err(Error::Float("a model input was not mapped".into())),
        })
        .collect::<Result<Vec<_>>>()?;
    let mut outputs = vec![];
    for o in typed.output_outlets().map_err(|e| Error::Float(format!("{e:#}")))? {
        match m.values.get(o) {
            Some(Value::Node(id)) => outputs.push(*id),
            _ => {
                return Err(Error::UnsupportedOp {
                    node: typed.node(o.node).name.clone(),
                    op: "Const".into(),
                    reason: "the model output does not depend on the input".into(),
                });
            }
        }
    }
    Ok((Graph { nodes: m.nodes, inputs, outputs }, m.outlets, m.derived))
}

impl Mapper<'_> {
    fn push(&mut self, tract_node: usize, op: Op, inputs: Vec<NodeId>, shape: Vec<usize>) -> NodeId {
        let id = self.nodes.len();
        self.nodes.push(Node { name: self.typed.node(tract_node).name.clone(), op, inputs, shape });
        self.outlets.push(OutletId::new(tract_node, 0));
        self.values.insert(OutletId::new(tract_node, 0), Value::Node(id));
        id
    }

    fn unsupported(&self, tract_node: usize, reason: impl Into<String>) -> Error {
        let node = self.typed.node(tract_node);
        let tract_op = node.op.name().to_string();
        // tract names a rewritten node after its ONNX node, plus a suffix: find the longest such prefix.
        let onnx_op = self
            .onnx_ops
            .iter()
            .filter(|(name, _)| !name.is_empty() && node.name.starts_with(name.as_str()))
            .max_by_key(|(name, _)| name.len())
            .map(|(_, op)| op.clone());
        let op = match onnx_op {
            Some(onnx) if onnx != tract_op => format!("{tract_op}, from ONNX {onnx}"),
            _ => tract_op,
        };
        Error::UnsupportedOp { node: node.name.clone(), op, reason: reason.into() }
    }

    fn map_node(&mut self, id: usize) -> Result<()> {
        let node = self.typed.node(id);
        let op: &dyn TypedOp = node.op.as_ref();
        let inputs: Vec<Value> = node.inputs.iter().map(|o| self.values[o].clone()).collect();

        if let Some(k) = op.downcast_ref::<Const>() {
            self.values.insert(OutletId::new(id, 0), Value::Const(k.val().clone()));
            return Ok(());
        }
        if node.outputs.len() != 1 {
            return Err(
                self.unsupported(id, format!("{} outputs; only single-output ops are supported", node.outputs.len()))
            );
        }
        let shape = node.outputs[0]
            .fact
            .shape
            .as_concrete()
            .map(|s| s.to_vec())
            .ok_or_else(|| self.unsupported(id, "its output shape is not concrete"))?;

        if op.downcast_ref::<TypedSource>().is_some() {
            let index = self
                .typed
                .input_outlets()
                .map_err(|e| Error::Float(format!("{e:#}")))?
                .iter()
                .position(|o| o.node == id)
                .expect("a source node is a model input");
            let dt = node.outputs[0].fact.datum_type;
            let integer = dt.is_integer();
            if !integer && dt != f32::datum_type() {
                return Err(self.unsupported(id, format!("an input of type {dt:?} (f32 values or integer ids)")));
            }
            self.push(id, Op::Input { index, integer }, vec![], shape);
            return Ok(());
        }
        // Everything below computes from at least one node; constants were folded by tract.
        if let Some(einsum) = op.downcast_ref::<EinSum>() {
            return self.map_einsum(id, einsum, &inputs, shape);
        }
        if let Some(bin) = op.downcast_ref::<TypedBinOp>() {
            return self.map_binary(id, bin, &inputs, shape);
        }
        if let Some(ew) = op.downcast_ref::<ElementWiseOp>() {
            let x = self.node_input(id, &inputs, 0)?;
            let mapped = if let Some(leaky) = ew.0.downcast_ref::<LeakyRelu>() {
                Op::LeakyRelu { alpha: leaky.alpha }
            } else if let Some(pow) = ew.0.downcast_ref::<PowConst>() {
                return self.map_pow(id, x, pow.exponent, shape);
            } else {
                match ew.0.name().as_str() {
                    "Sigmoid" => Op::Sigmoid,
                    "Tanh" => Op::Tanh,
                    "Erf" => Op::Lookup { func: LookupFn::Erf },
                    "Exp" => Op::Lookup { func: LookupFn::Exp },
                    "Ln" => Op::Lookup { func: LookupFn::Ln },
                    "GeluExact" => Op::Lookup { func: LookupFn::Gelu },
                    "GeluApproximate" => Op::Lookup { func: LookupFn::GeluTanh },
                    "Silu" => Op::Lookup { func: LookupFn::Silu },
                    "Sqrt" => Op::Unary { kind: UnaryKind::Sqrt },
                    "Rsqrt" => Op::Unary { kind: UnaryKind::Rsqrt },
                    "Abs" => Op::Unary { kind: UnaryKind::Abs },
                    "Neg" => Op::Unary { kind: UnaryKind::Neg },
                    "Square" => Op::Binary { kind: BinaryKind::Mul, lhs: Operand::Node(x), rhs: Operand::Node(x) },
                    "Recip" => {
                        Op::Binary { kind: BinaryKind::Div, lhs: Operand::Const(scalar(1.0)), rhs: Operand::Node(x) }
                    }
                    other => return Err(self.unsupported(id, format!("elementwise {other} has no circuit"))),
                }
            };
            let inputs = if let Op::Binary { kind: BinaryKind::Mul, .. } = mapped { vec![x, x] } else { vec![x] };
            self.push(id, mapped, inputs, shape);
            return Ok(());
        }
        if let Some(conv) = op.downcast_ref::<Conv>() {
            return self.map_conv(id, conv, &inputs, shape);
        }
        if let Some(up) = op.downcast_ref::<NearestUpsample>() {
            let x = self.node_input(id, &inputs, 0)?;
            self.push(id, Op::Upsample { scales: up.scales.to_vec() }, vec![x], shape);
            return Ok(());
        }
        if let Some(cast) = op.downcast_ref::<Cast>() {
            let x = self.node_input(id, &inputs, 0)?;
            let from = self.typed.outlet_fact(node.inputs[0]).map_err(|e| Error::Float(format!("{e:#}")))?.datum_type;
            // Between float types, or between integer types (class indices), a cast keeps every value.
            let kind = |dt: DatumType| {
                (dt.is_float(), dt.is_integer() || dt == bool::datum_type() || dt == TDim::datum_type())
            };
            if kind(from) != kind(cast.to) && !(from.is_integer() && cast.to.is_float()) {
                return Err(self.unsupported(
                    id,
                    format!("Cast from {from:?} to {:?} (fixed-point values cannot become integers)", cast.to),
                ));
            }
            self.push(id, Op::Reshape, vec![x], shape);
            return Ok(());
        }
        if let Some(rms) = op.downcast_ref::<RmsNorm>() {
            return self.map_rms_norm(id, rms, &inputs, shape);
        }
        if let Some(deconv) = op.downcast_ref::<Deconv>() {
            return self.map_deconv(id, deconv, &inputs, shape);
        }
        if op.downcast_ref::<Iff>().is_some() {
            return self.map_where(id, &inputs, shape);
        }
        if let Some(slice) = op.downcast_ref::<Slice>() {
            let x = self.node_input(id, &inputs, 0)?;
            let (start, end) = match (slice.start.to_i64(), slice.end.to_i64()) {
                (Ok(start), Ok(end)) if start >= 0 && end >= start => (start as usize, end as usize),
                _ => return Err(self.unsupported(id, "a slice with symbolic bounds")),
            };
            self.push(id, Op::Slice { axis: slice.axis, start, end, step: 1 }, vec![x], shape);
            return Ok(());
        }
        if let Some(down) = op.downcast_ref::<Downsample>() {
            let x = self.node_input(id, &inputs, 0)?;
            if down.stride <= 0 {
                return Err(self.unsupported(id, format!("a slice with step {}", down.stride)));
            }
            let end = self.nodes[x].shape[down.axis];
            let step = down.stride as usize;
            self.push(id, Op::Slice { axis: down.axis, start: down.modulo, end, step }, vec![x], shape);
            return Ok(());
        }
        if let Some(gather) = op.downcast_ref::<Gather>() {
            return self.map_gather(id, gather, &inputs, shape);
        }
        if op.downcast_ref::<MultiBroadcastTo>().is_some() {
            let x = self.node_input(id, &inputs, 0)?;
            if self.nodes[x].shape == shape {
                self.push(id, Op::Reshape, vec![x], shape);
            } else {
                self.push(id, Op::Broadcast, vec![x], shape);
            }
            return Ok(());
        }
        if let Some(pool) = op.downcast_ref::<MaxPool>() {
            if pool.with_index_outputs.is_some() {
                return Err(self.unsupported(id, "MaxPool with index outputs"));
            }
            let x = self.node_input(id, &inputs, 0)?;
            return self.push_windowed(id, &pool.pool_spec, x, None, shape, |window| Op::MaxPool { window });
        }
        if let Some(pool) = op.downcast_ref::<SumPool>() {
            let x = self.node_input(id, &inputs, 0)?;
            let (count_include_pad, normalize) = (pool.count_include_pad, pool.normalize);
            return self.push_windowed(id, &pool.pool_spec, x, None, shape, |window| Op::AvgPool {
                window,
                count_include_pad,
                normalize,
            });
        }
        if let Some(reduce) = op.downcast_ref::<Reduce>() {
            let x = self.node_input(id, &inputs, 0)?;
            let mapped = match reduce.reducer {
                Reducer::Sum => Op::ReduceSum { axes: reduce.axes.to_vec() },
                Reducer::Max => Op::ReduceMax { axes: reduce.axes.to_vec() },
                Reducer::Min => Op::ReduceMin { axes: reduce.axes.to_vec() },
                // tract keeps the reduced axis as size 1; a following RmAxis maps to a Reshape.
                Reducer::ArgMax(false) if reduce.axes.len() == 1 => Op::ArgMax { axis: reduce.axes[0] },
                ref other => return Err(self.unsupported(id, format!("reduction {other:?} has no circuit"))),
            };
            self.push(id, mapped, vec![x], shape);
            return Ok(());
        }
        if let Some(axis_op) = op.downcast_ref::<AxisOp>() {
            let x = self.node_input(id, &inputs, 0)?;
            let mapped = match axis_op {
                &AxisOp::Move(from, to) => {
                    let mut perm: Vec<usize> = (0..shape.len()).collect();
                    let axis = perm.remove(from);
                    perm.insert(to, axis);
                    Op::Transpose { perm }
                }
                _ => Op::Reshape,
            };
            self.push(id, mapped, vec![x], shape);
            return Ok(());
        }
        if let Some(concat) = op.downcast_ref::<TypedConcat>() {
            let ids = (0..inputs.len()).map(|i| self.node_input(id, &inputs, i)).collect::<Result<Vec<_>>>()?;
            self.push(id, Op::Concat { axis: concat.axis }, ids, shape);
            return Ok(());
        }
        if let Some(softmax) = op.downcast_ref::<Softmax>() {
            if softmax.axes.len() != 1 || softmax.kind != SoftmaxKind::Softmax {
                return Err(self.unsupported(id, "only Softmax over one axis is supported (not LogSoftmax)"));
            }
            let x = self.node_input(id, &inputs, 0)?;
            self.push(id, Op::Softmax { axis: softmax.axes[0] }, vec![x], shape);
            return Ok(());
        }
        Err(self.unsupported(id, "this operation has no circuit"))
    }

    /// The input at `pos` must be a computed node (constants are handled by the caller where allowed).
    fn node_input(&self, id: usize, inputs: &[Value], pos: usize) -> Result<NodeId> {
        match inputs.get(pos) {
            Some(Value::Node(n)) => Ok(*n),
            Some(Value::Const(_)) => Err(self.unsupported(id, format!("input {pos} is a constant"))),
            None => Err(self.unsupported(id, format!("missing input {pos}"))),
        }
    }

    /// A node that carries another node's values in a new layout (or a matrix product before its final
    /// layout): it has no tract outlet of its own, so calibration observes `observed` (same magnitudes).
    fn push_relayout(
        &mut self,
        tract_node: usize,
        suffix: &str,
        op: Op,
        input: NodeId,
        shape: Vec<usize>,
        observed: OutletId,
    ) -> NodeId {
        let id = self.nodes.len();
        self.nodes.push(Node {
            name: format!("{}.{suffix}", self.typed.node(tract_node).name),
            op,
            inputs: vec![input],
            shape,
        });
        self.outlets.push(observed);
        id
    }

    /// Any einsum of one computed tensor `x` and constant weights `w` without batch axes, lowered to
    /// `Transpose(x) -> MatMul -> Transpose -> Reshape` (each step only when needed). tract rewrites Gemm,
    /// MatMul, 1x1 convolutions and neighbouring Flatten/Transpose ops into such einsums.
    fn map_einsum(&mut self, id: usize, einsum: &EinSum, inputs: &[Value], shape: Vec<usize>) -> Result<()> {
        if einsum.q_params.is_some() || einsum.operating_dt != f32::datum_type() {
            return Err(self.unsupported(id, "only float matrix products are supported"));
        }
        let expr = format!("{}", einsum.axes);
        // Constant weights on the left (`W · x`) are the same product with the operands' labels swapped.
        let (x, w, swapped) = match inputs {
            [Value::Node(x), Value::Const(w)] => (*x, w.clone(), false),
            [Value::Const(w), Value::Node(x)] => (*x, w.clone(), true),
            [Value::Node(a), Value::Node(b)] => return self.map_einsum_nodes(id, &expr, *a, *b, shape),
            _ => {
                return Err(self.unsupported(
                    id,
                    format!("einsum {expr}: only a computed tensor times constant weights is supported"),
                ));
            }
        };
        let Some((lhs, out)) = expr.split_once("->") else {
            return Err(self.unsupported(id, format!("einsum {expr}")));
        };
        let Some((a, b)) = lhs.split_once(',') else {
            return Err(self.unsupported(id, format!("einsum {expr}: expected two operands")));
        };
        let (a, b) = if swapped { (b, a) } else { (a, b) };
        let (a, b, out): (Vec<char>, Vec<char>, Vec<char>) =
            (a.chars().collect(), b.chars().collect(), out.chars().collect());
        let w = to_f32(&w).map_err(|e| self.unsupported(id, e))?;
        let x_shape = self.nodes[x].shape.clone();
        if a.len() != x_shape.len() || b.len() != w.shape.len() || out.len() != shape.len() {
            return Err(self.unsupported(id, format!("einsum {expr}: ranks do not match the operands")));
        }
        // Axes of the weights alone that are summed: tract folds a broadcast of x (Expand before a Gemm) into
        // the weights this way. Summing the constant first leaves an ordinary product.
        let summed: Vec<usize> =
            (0..b.len()).filter(|&i| !a.contains(&b[i]) && !out.contains(&b[i]) && w.shape[i] != 1).collect();
        let (w, b) = if summed.is_empty() {
            (w, b)
        } else {
            let mut folded = w.to_array();
            for &axis in summed.iter().rev() {
                folded = folded.sum_axis(tract_onnx::prelude::tract_ndarray::Axis(axis));
            }
            let kept = b.iter().enumerate().filter(|(i, _)| !summed.contains(i)).map(|(_, l)| *l).collect();
            (Tensor::from_array(&folded), kept)
        };
        let dim = |labels: &[char], dims: &[usize], l: char| labels.iter().position(|c| *c == l).map(|i| dims[i]);

        // Classify every axis. Axes that exist on one side only must have size 1 (tract adds and drops them).
        let mut contracted = vec![]; // in x and w, summed (order of x)
        let mut x_free = vec![]; // in x and the output (order of x)
        let mut w_free = vec![]; // in w and the output (order of w)
        for &l in &a {
            match (b.contains(&l), out.contains(&l)) {
                (true, false) => contracted.push(l),
                (false, true) => x_free.push(l),
                (true, true) if dim(&b, &w.shape, l) == Some(1) => x_free.push(l),
                (true, true) => {
                    return Err(self.unsupported(id, format!("einsum {expr}: batched products are not supported")));
                }
                (false, false) if dim(&a, &x_shape, l) == Some(1) => {}
                (false, false) => return Err(self.unsupported(id, format!("einsum {expr}: sums over an axis of x"))),
            }
        }
        for &l in &b {
            match (a.contains(&l), out.contains(&l)) {
                (false, true) => w_free.push(l),
                (false, false) if dim(&b, &w.shape, l) == Some(1) => {}
                (false, false) => return Err(self.unsupported(id, format!("einsum {expr}: sums over an axis of w"))),
                _ => {}
            }
        }
        if out.iter().any(|l| !a.contains(l) && !b.contains(l) && dim(&out, &shape, *l) != Some(1)) {
            return Err(self.unsupported(id, format!("einsum {expr}: broadcasts to a new axis")));
        }

        // Weights as [K, N]: contracted axes (x's order) then w's free axes, flattened.
        let w_order: Vec<usize> = contracted
            .iter()
            .chain(&w_free)
            .map(|l| b.iter().position(|c| c == l).expect("classified from b"))
            .chain((0..b.len()).filter(|i| !contracted.contains(&b[*i]) && !w_free.contains(&b[*i])))
            .collect();
        let k: usize = contracted.iter().map(|l| dim(&b, &w.shape, *l).unwrap_or(1)).product();
        let n: usize = w_free.iter().map(|l| dim(&b, &w.shape, *l).unwrap_or(1)).product();
        let weight = Tensor::new(vec![k, n], permute(&w, &w_order));

        // x as [.., K]: its free axes (and dropped size-1 axes) first, contracted axes last in x's order.
        let x_order: Vec<usize> = (0..a.len())
            .filter(|i| !contracted.contains(&a[*i]))
            .chain(contracted.iter().map(|l| a.iter().position(|c| c == l).expect("classified from a")))
            .collect();
        let x_observed = self.outlets[x];
        let mut current = x;
        if x_order.iter().enumerate().any(|(i, p)| i != *p) {
            let t_shape: Vec<usize> = x_order.iter().map(|&i| x_shape[i]).collect();
            current = self.push_relayout(id, "x_t", Op::Transpose { perm: x_order }, current, t_shape, x_observed);
        }

        // The product's natural layout: x's free axes then w's free axes.
        let natural: Vec<char> = x_free.iter().chain(&w_free).copied().collect();
        let natural_shape: Vec<usize> =
            natural.iter().map(|l| dim(&a, &x_shape, *l).or_else(|| dim(&b, &w.shape, *l)).unwrap_or(1)).collect();
        let wanted: Vec<char> = out.iter().copied().filter(|l| natural.contains(l)).collect();
        let matmul = Op::MatMul { weight, bias: None };
        if wanted == natural {
            // Same row-major layout as the output (only size-1 axes differ): the product takes its shape.
            self.push(id, matmul, vec![current], shape);
            return Ok(());
        }
        let mm_shape = if natural_shape.is_empty() { vec![1] } else { natural_shape.clone() };
        current = self.push_relayout(id, "matmul", matmul, current, mm_shape, OutletId::new(id, 0));
        self.push_output_layout(id, current, (&natural, &natural_shape), &wanted, shape);
        Ok(())
    }

    /// Moves a product laid out in its natural axis order (`natural`, of `natural_shape`) to the output's
    /// order `wanted` and shape: a transpose, then a reshape when only size-1 axes differ. The last node
    /// stands for tract node `id`.
    fn push_output_layout(
        &mut self,
        id: usize,
        product: NodeId,
        (natural, natural_shape): (&[char], &[usize]),
        wanted: &[char],
        shape: Vec<usize>,
    ) {
        let perm: Vec<usize> =
            wanted.iter().map(|l| natural.iter().position(|c| c == l).expect("from natural")).collect();
        let t_shape: Vec<usize> = perm.iter().map(|&i| natural_shape[i]).collect();
        if t_shape == shape {
            self.push(id, Op::Transpose { perm }, vec![product], shape);
        } else {
            let here = OutletId::new(id, 0);
            let current = self.push_relayout(id, "out_t", Op::Transpose { perm }, product, t_shape, here);
            self.push(id, Op::Reshape, vec![current], shape);
        }
    }

    fn map_binary(&mut self, id: usize, bin: &TypedBinOp, inputs: &[Value], shape: Vec<usize>) -> Result<()> {
        let name = bin.0.name().to_string();
        let [a, b] = inputs else { return Err(self.unsupported(id, "a binary op needs two inputs")) };
        let as_operand = |v: &Value| -> Result<Operand> {
            Ok(match v {
                Value::Node(n) => Operand::Node(*n),
                Value::Const(t) => Operand::Const(to_f32(t).map_err(|e| self.unsupported(id, e))?),
            })
        };
        let (lhs, rhs) = (as_operand(a)?, as_operand(b)?);
        let node_inputs: Vec<NodeId> =
            [&lhs, &rhs].iter().filter_map(|o| if let Operand::Node(n) = o { Some(*n) } else { None }).collect();

        if [&lhs, &rhs].iter().any(|o| matches!(o, Operand::Const(c) if c.data.iter().any(|v| v.is_infinite()))) {
            return self.map_infinite_operand(id, &name, lhs, rhs, shape);
        }
        let op = match name.as_str() {
            "Add" | "Sub" | "Mul" => {
                let kind = match name.as_str() {
                    "Add" => BinaryKind::Add,
                    "Sub" => BinaryKind::Sub,
                    _ => BinaryKind::Mul,
                };
                // A product with the reciprocal of an integer is a division (tract turns `x / n` and the
                // means of ReduceMean and GlobalAveragePool into `x * (1/n)`): divide exactly, because 1/n
                // at the weight scale keeps few significant bits (1/300 at 2^-12 is 14/4096, 2.5% off).
                if kind == BinaryKind::Mul
                    && let Some((x, divisor)) = self.integer_divisor(&lhs, &rhs, &shape)
                {
                    self.push(id, Op::Div { divisor }, vec![x], shape);
                    return Ok(());
                }
                // tract turns `a / b` into `a * recip(b)`: divide once, exactly, instead of rounding twice.
                if kind == BinaryKind::Mul
                    && let Some(fused) = self.try_fuse_division(id, &lhs, &rhs, &shape)
                {
                    return fused;
                }
                // A bias added right after a matrix product becomes that product's bias.
                if kind == BinaryKind::Add
                    && let Some(fused) = self.try_fuse_bias(id, &lhs, &rhs, &shape)
                {
                    return fused;
                }
                Op::Binary { kind, lhs, rhs }
            }
            "Div" => match (&lhs, &rhs) {
                (Operand::Node(_), Operand::Const(c)) => {
                    if c.data.contains(&0.0) {
                        return Err(self.unsupported(id, "division by zero"));
                    }
                    Op::Binary { kind: BinaryKind::Mul, lhs, rhs: Operand::Const(c.map(|v| 1.0 / v)) }
                }
                (_, Operand::Node(_)) => Op::Binary { kind: BinaryKind::Div, lhs, rhs },
                _ => return Err(self.unsupported(id, "a division of two constants was not folded")),
            },
            "Max" | "Min" => match (&lhs, &rhs) {
                (Operand::Node(_), Operand::Node(_)) => {
                    let kind = if name == "Max" { BinaryKind::Max } else { BinaryKind::Min };
                    Op::Binary { kind, lhs, rhs }
                }
                (Operand::Node(_), Operand::Const(c)) | (Operand::Const(c), Operand::Node(_)) => {
                    let bound = uniform(c).ok_or_else(|| {
                        self.unsupported(id, format!("{name} against a constant that is not one value"))
                    })?;
                    if name == "Max" {
                        Op::Clamp { min: Some(bound), max: None }
                    } else {
                        Op::Clamp { min: None, max: Some(bound) }
                    }
                }
                _ => return Err(self.unsupported(id, format!("{name} of two constants was not folded"))),
            },
            other => return Err(self.unsupported(id, format!("binary {other} has no circuit"))),
        };
        self.push(id, op, node_inputs, shape);
        Ok(())
    }

    /// `(x, n)` when `lhs * rhs` is a node `x` times a constant whose elements all equal `1/n` for an integer
    /// `n >= 2` (to f32 precision) and the product keeps `x`'s shape.
    fn integer_divisor(&self, lhs: &Operand, rhs: &Operand, shape: &[usize]) -> Option<(NodeId, u64)> {
        let ((Operand::Node(x), Operand::Const(c)) | (Operand::Const(c), Operand::Node(x))) = (lhs, rhs) else {
            return None;
        };
        let c = uniform(c)? as f64;
        if self.nodes[*x].shape != shape || c.is_nan() || c <= 0.0 {
            return None;
        }
        let n = (1.0 / c).round();
        // f32 holds 1/n to a relative 2^-24; allow a little more for exporters that computed it in steps.
        let exact = ((1.0 / c) - n).abs() <= n * 1e-6;
        (exact && (2.0..=(u32::MAX as f64)).contains(&n)).then_some((*x, n as u64))
    }

    /// `MatMul(x) + c` where `c` is a constant row of length n (broadcast over the other axes) folds into the
    /// matmul's bias when nothing else reads the matmul.
    fn try_fuse_bias(&mut self, id: usize, lhs: &Operand, rhs: &Operand, shape: &[usize]) -> Option<Result<()>> {
        let ((Operand::Node(mm), Operand::Const(c)) | (Operand::Const(c), Operand::Node(mm))) = (lhs, rhs) else {
            return None;
        };
        let mm = *mm;
        let n = *shape.last()?;
        let Op::MatMul { bias: None, weight } = &self.nodes[mm].op else { return None };
        let is_row = weight.shape[1] == n && c.data.len() == n && c.shape.last() == Some(&n);
        let tract_mm = self.outlets[mm];
        let consumers = self.typed.outlet_successors(tract_mm).len();
        if !is_row || consumers != 1 || self.nodes[mm].shape != shape {
            return None;
        }
        if let Op::MatMul { bias, .. } = &mut self.nodes[mm].op {
            *bias = Some(c.data.clone());
        }
        // The fused node now stands for the Add's value.
        self.outlets[mm] = OutletId::new(id, 0);
        self.nodes[mm].name = self.typed.node(id).name.clone();
        self.values.insert(OutletId::new(id, 0), Value::Node(mm));
        Some(Ok(()))
    }

    /// `a * r` where `r = 1 / b` is a reciprocal node nothing else reads: the reciprocal node becomes the
    /// division `a / b` (one rounding instead of two).
    fn try_fuse_division(&mut self, id: usize, lhs: &Operand, rhs: &Operand, shape: &[usize]) -> Option<Result<()>> {
        let (Operand::Node(p), Operand::Node(q)) = (lhs, rhs) else { return None };
        let is_recip = |n: NodeId| {
            matches!(&self.nodes[n].op, Op::Binary { kind: BinaryKind::Div, lhs: Operand::Const(c), rhs: Operand::Node(_) }
                if uniform(c) == Some(1.0))
        };
        let (a, r) = if is_recip(*q) {
            (*p, *q)
        } else if is_recip(*p) {
            (*q, *p)
        } else {
            return None;
        };
        let Op::Binary { rhs: Operand::Node(b), .. } = self.nodes[r].op.clone() else { return None };
        let consumers = self.typed.outlet_successors(self.outlets[r]).len();
        // The reciprocal must come after `a` to be replaced in place, and keep the product's shape.
        if consumers != 1 || a >= r || self.nodes[a].shape != shape || self.nodes[b].shape != shape {
            return None;
        }
        self.nodes[r].op = Op::Binary { kind: BinaryKind::Div, lhs: Operand::Node(a), rhs: Operand::Node(b) };
        self.nodes[r].inputs = vec![a, b];
        self.nodes[r].name = self.typed.node(id).name.clone();
        self.outlets[r] = OutletId::new(id, 0);
        self.values.insert(OutletId::new(id, 0), Value::Node(r));
        Some(Ok(()))
    }

    /// An Add (or Sub) of a constant holding infinities: the additive mask of causal attention (0 where a
    /// position may attend, -inf where it may not). Finite entries add; infinite ones replace the value,
    /// as a [`Op::Where`] on a constant condition.
    fn map_infinite_operand(
        &mut self,
        id: usize,
        name: &str,
        lhs: Operand,
        rhs: Operand,
        shape: Vec<usize>,
    ) -> Result<()> {
        let (x, c, negate) = match (name, &lhs, &rhs) {
            ("Add", Operand::Node(x), Operand::Const(c)) | ("Add", Operand::Const(c), Operand::Node(x)) => {
                (*x, c.clone(), false)
            }
            ("Sub", Operand::Node(x), Operand::Const(c)) => (*x, c.clone(), true),
            _ => {
                return Err(self.unsupported(
                    id,
                    format!("{name} with an infinite constant (only an additive mask, x + c, is supported)"),
                ));
            }
        };
        if self.nodes[x].shape != shape {
            return Err(self.unsupported(id, "an additive mask that broadcasts the masked tensor"));
        }
        let c = if negate { c.map(|v| -v) } else { c };
        let finite = c.map(|v| if v.is_finite() { *v } else { 0.0 });
        let cond = c.map(|v| if v.is_finite() { 1.0 } else { 0.0 });
        let here = OutletId::new(id, 0);
        let mut then = x;
        if finite.data.iter().any(|v| *v != 0.0) {
            let add = Op::Binary { kind: BinaryKind::Add, lhs: Operand::Node(x), rhs: Operand::Const(finite) };
            then = self.push_relayout(id, "finite", add, x, shape.clone(), here);
        }
        self.push(id, Op::Where { cond, then: Operand::Node(then), otherwise: Operand::Const(c) }, vec![then], shape);
        Ok(())
    }

    /// tract's RmsNorm, `x / sqrt(mean(x²) + eps)` along one axis (what LayerNormalization becomes after the
    /// mean is subtracted): `x·x`, a sum, the exact division by the axis length, `+ eps`, Rsqrt and a product.
    /// The steps inside have no float value of their own in tract: their magnitudes follow from `x`'s.
    fn map_rms_norm(&mut self, id: usize, rms: &RmsNorm, inputs: &[Value], shape: Vec<usize>) -> Result<()> {
        let x = self.node_input(id, inputs, 0)?;
        let eps = to_f32(&rms.eps).map_err(|e| self.unsupported(id, e))?;
        let eps =
            uniform(&eps).filter(|e| *e > 0.0).ok_or_else(|| self.unsupported(id, "eps must be one positive value"))?;
        let x_shape = self.nodes[x].shape.clone();
        let n = x_shape[rms.axis];
        let mut reduced = x_shape.clone();
        reduced[rms.axis] = 1;
        let observed = self.outlets[x];
        let step =
            |this: &mut Self, suffix: &str, op: Op, inputs: Vec<NodeId>, shape: Vec<usize>, derived: (i32, f64)| {
                let node = this.push_relayout(id, suffix, op, inputs[0], shape, observed);
                this.nodes[node].inputs = inputs;
                this.derived.insert(node, derived);
                node
            };
        let square = Op::Binary { kind: BinaryKind::Mul, lhs: Operand::Node(x), rhs: Operand::Node(x) };
        let sq = step(self, "square", square, vec![x, x], x_shape, (2, 1.0));
        let sum = step(self, "sum", Op::ReduceSum { axes: vec![rms.axis] }, vec![sq], reduced.clone(), (2, n as f64));
        let mean = if n >= 2 {
            step(self, "mean", Op::Div { divisor: n as u64 }, vec![sum], reduced.clone(), (2, 1.0))
        } else {
            sum
        };
        let with_eps = Op::Binary { kind: BinaryKind::Add, lhs: Operand::Node(mean), rhs: Operand::Const(scalar(eps)) };
        let var = step(self, "var", with_eps, vec![mean], reduced.clone(), (2, 1.0));
        let inv = step(
            self,
            "rsqrt",
            Op::Unary { kind: UnaryKind::Rsqrt },
            vec![var],
            reduced,
            (0, 1.0 / (eps as f64).sqrt()),
        );
        let normalized = Op::Binary { kind: BinaryKind::Mul, lhs: Operand::Node(x), rhs: Operand::Node(inv) };
        self.push(id, normalized, vec![x, inv], shape);
        Ok(())
    }

    /// `x^e` for a constant `e`: integer powers as products, `1/2` and `-1/2` as (reciprocal) square roots,
    /// `-1` as a reciprocal.
    fn map_pow(&mut self, id: usize, x: NodeId, exponent: f32, shape: Vec<usize>) -> Result<()> {
        let op = if exponent == 1.0 {
            Op::Reshape
        } else if (2.0..=64.0).contains(&exponent) && exponent.fract() == 0.0 {
            Op::Pow { exponent: exponent as u32 }
        } else if exponent == 0.5 {
            Op::Unary { kind: UnaryKind::Sqrt }
        } else if exponent == -0.5 {
            Op::Unary { kind: UnaryKind::Rsqrt }
        } else if exponent == -1.0 {
            Op::Binary { kind: BinaryKind::Div, lhs: Operand::Const(scalar(1.0)), rhs: Operand::Node(x) }
        } else {
            return Err(self.unsupported(
                id,
                format!("Pow with exponent {exponent} (integer exponents 2..=64, 0.5, -0.5 and -1 are supported)"),
            ));
        };
        self.push(id, op, vec![x], shape);
        Ok(())
    }

    /// Where with a constant condition: a choice per element between two operands, fixed by the model.
    fn map_where(&mut self, id: usize, inputs: &[Value], shape: Vec<usize>) -> Result<()> {
        let [cond, then, otherwise] = inputs else { return Err(self.unsupported(id, "Where needs three inputs")) };
        let Value::Const(cond) = cond else {
            return Err(self.unsupported(id, "a condition computed from the input (only constant masks are supported)"));
        };
        let cond = to_f32(cond).map_err(|e| self.unsupported(id, e))?;
        let as_operand = |v: &Value| -> Result<Operand> {
            Ok(match v {
                Value::Node(n) => Operand::Node(*n),
                Value::Const(t) => Operand::Const(to_f32(t).map_err(|e| self.unsupported(id, e))?),
            })
        };
        let (then, otherwise) = (as_operand(then)?, as_operand(otherwise)?);
        let node_inputs: Vec<NodeId> =
            [&then, &otherwise].iter().filter_map(|o| if let Operand::Node(n) = o { Some(*n) } else { None }).collect();
        if node_inputs.is_empty() {
            return Err(self.unsupported(id, "both branches are constants"));
        }
        self.push(id, Op::Where { cond, then, otherwise }, node_inputs, shape);
        Ok(())
    }

    /// Gather: constant indices into a computed tensor (wiring), or computed indices into a constant table
    /// (an embedding).
    fn map_gather(&mut self, id: usize, gather: &Gather, inputs: &[Value], shape: Vec<usize>) -> Result<()> {
        match inputs {
            [Value::Node(x), Value::Const(indices)] => {
                let len = self.nodes[*x].shape[gather.axis] as i64;
                let raw = indices.cast_to::<i64>().map_err(|e| self.unsupported(id, format!("indices: {e}")))?;
                let raw = raw.to_plain_array_view::<i64>().map_err(|e| self.unsupported(id, format!("{e}")))?;
                let mut wrapped = Vec::with_capacity(raw.len());
                for &i in raw.iter() {
                    let j = if i < 0 { i + len } else { i };
                    if !(0..len).contains(&j) {
                        return Err(self.unsupported(id, format!("index {i} is outside an axis of {len}")));
                    }
                    wrapped.push(j as usize);
                }
                let indices = Tensor::new(indices.shape().to_vec(), wrapped);
                self.push(id, Op::Gather { axis: gather.axis, indices }, vec![*x], shape);
                Ok(())
            }
            [Value::Const(table), Value::Node(ix)] => {
                if gather.axis != 0 {
                    return Err(self.unsupported(id, format!("a table lookup along axis {} (only 0)", gather.axis)));
                }
                if table.datum_type().is_integer() {
                    // Class labels 0..n-1 looked up by class index (scikit-learn's ArrayFeatureExtractor): the
                    // index is the label.
                    let labels = table.cast_to::<i64>().map_err(|e| self.unsupported(id, format!("{e}")))?;
                    let labels =
                        labels.to_plain_array_view::<i64>().map_err(|e| self.unsupported(id, format!("{e}")))?;
                    if table.rank() == 1 && labels.iter().enumerate().all(|(i, l)| *l == i as i64) {
                        self.push(id, Op::Reshape, vec![*ix], shape);
                        return Ok(());
                    }
                    return Err(self.unsupported(id, "a table of integer labels other than 0, 1, 2, ..."));
                }
                let table = to_f32(table).map_err(|e| self.unsupported(id, e))?;
                self.push(id, Op::Embedding { table }, vec![*ix], shape);
                Ok(())
            }
            _ => Err(self.unsupported(id, "Gather of computed indices from a computed tensor")),
        }
    }

    /// ConvTranspose with one group and explicit (or no) padding.
    fn map_deconv(&mut self, id: usize, deconv: &Deconv, inputs: &[Value], shape: Vec<usize>) -> Result<()> {
        if deconv.group != 1 {
            return Err(self.unsupported(id, format!("groups = {} (only 1 is supported)", deconv.group)));
        }
        let spec = &deconv.pool_spec;
        if spec.data_format != DataFormat::NCHW || spec.kernel_shape.len() != 2 {
            return Err(self.unsupported(id, "only 2D NCHW transposed convolution is supported"));
        }
        let x = self.node_input(id, inputs, 0)?;
        let kernel = match inputs.get(1) {
            Some(Value::Const(k)) => to_f32(k).map_err(|e| self.unsupported(id, e))?,
            _ => return Err(self.unsupported(id, "the kernel must be a constant")),
        };
        let (cin, cout) = (self.nodes[x].shape[1], shape[1]);
        // tract holds the kernel as OIHW; the executor walks it as ONNX writes it, IOHW.
        let kernel = match deconv.kernel_format {
            KernelFormat::OIHW if kernel.shape.len() == 4 => {
                let shape = vec![kernel.shape[1], kernel.shape[0], kernel.shape[2], kernel.shape[3]];
                Tensor::new(shape, permute(&kernel, &[1, 0, 2, 3]))
            }
            other => return Err(self.unsupported(id, format!("kernel format {other:?} (only OIHW)"))),
        };
        if kernel.shape[0] != cin || kernel.shape[1] != cout {
            return Err(
                self.unsupported(id, format!("kernel of shape {:?} for {cin} -> {cout} channels", kernel.shape))
            );
        }
        let bias = match inputs.get(2) {
            None => None,
            Some(Value::Const(b)) => {
                let b = to_f32(b).map_err(|e| self.unsupported(id, e))?;
                match b.data.len() {
                    n if n == cout => Some(b.data),
                    1 if b.data[0] == 0.0 => None,
                    1 => Some(vec![b.data[0]; cout]),
                    n => return Err(self.unsupported(id, format!("bias of {n} values for {cout} channels"))),
                }
            }
            Some(Value::Node(_)) => return Err(self.unsupported(id, "the bias must be a constant")),
        };
        let pads = match &spec.padding {
            tract_onnx::tract_core::ops::cnn::PaddingSpec::Valid => [0; 4],
            tract_onnx::tract_core::ops::cnn::PaddingSpec::Explicit(before, after) if before.len() == 2 => {
                [before[0], before[1], after[0], after[1]]
            }
            other => return Err(self.unsupported(id, format!("padding {other:?}"))),
        };
        let strides = spec.strides();
        let dilations = spec.dilations();
        let window = Window {
            kernel: [kernel.shape[2], kernel.shape[3]],
            strides: [strides[0], strides[1]],
            pads,
            dilations: [dilations[0], dilations[1]],
        };
        self.push(id, Op::ConvTranspose { kernel, bias, window }, vec![x], shape);
        Ok(())
    }

    /// An einsum of two computed tensors: `a` laid out as `[B, M, K]` and `b` as `[B, K, N]` by transposes and
    /// reshapes, their product `[B, M, N]`, then the output's layout. Axes on both sides that are kept are
    /// batch axes (heads); they must have equal sizes on both sides.
    fn map_einsum_nodes(&mut self, id: usize, expr: &str, a: NodeId, b: NodeId, shape: Vec<usize>) -> Result<()> {
        let Some((lhs, out)) = expr.split_once("->") else {
            return Err(self.unsupported(id, format!("einsum {expr}")));
        };
        let Some((la, lb)) = lhs.split_once(',') else {
            return Err(self.unsupported(id, format!("einsum {expr}: expected two operands")));
        };
        let (la, lb, lo): (Vec<char>, Vec<char>, Vec<char>) =
            (la.chars().collect(), lb.chars().collect(), out.chars().collect());
        let (sa, sb) = (self.nodes[a].shape.clone(), self.nodes[b].shape.clone());
        if la.len() != sa.len() || lb.len() != sb.len() || lo.len() != shape.len() {
            return Err(self.unsupported(id, format!("einsum {expr}: ranks do not match the operands")));
        }
        let dim = |labels: &[char], dims: &[usize], l: char| labels.iter().position(|c| *c == l).map(|i| dims[i]);
        let (mut batch, mut m, mut k, mut n) = (vec![], vec![], vec![], vec![]);
        for &l in &la {
            match (lb.contains(&l), lo.contains(&l)) {
                (true, true) => {
                    if dim(&la, &sa, l) != dim(&lb, &sb, l) {
                        return Err(self.unsupported(id, format!("einsum {expr}: batch axis {l} broadcasts")));
                    }
                    batch.push(l)
                }
                (true, false) => k.push(l),
                (false, true) => m.push(l),
                (false, false) if dim(&la, &sa, l) == Some(1) => {}
                (false, false) => return Err(self.unsupported(id, format!("einsum {expr}: sums over an axis of a"))),
            }
        }
        for &l in &lb {
            match (la.contains(&l), lo.contains(&l)) {
                (false, true) => n.push(l),
                (false, false) if dim(&lb, &sb, l) == Some(1) => {}
                (false, false) => return Err(self.unsupported(id, format!("einsum {expr}: sums over an axis of b"))),
                _ => {}
            }
        }
        if lo.iter().any(|l| !la.contains(l) && !lb.contains(l) && dim(&lo, &shape, *l) != Some(1)) {
            return Err(self.unsupported(id, format!("einsum {expr}: broadcasts to a new axis")));
        }
        let size = |labels: &[char], dims: &[usize], group: &[char]| -> usize {
            group.iter().map(|l| dim(labels, dims, *l).unwrap_or(1)).product()
        };
        let (bs, ms, ks, ns) = (size(&la, &sa, &batch), size(&la, &sa, &m), size(&la, &sa, &k), size(&lb, &sb, &n));
        let here = OutletId::new(id, 0);
        // Lays an operand out as `order` (labels of that operand), then reshapes it to `dims`.
        let arrange = |this: &mut Self, x: NodeId, labels: &[char], order: Vec<char>, dims: Vec<usize>, tag: &str| {
            let x_shape = this.nodes[x].shape.clone();
            // Size-1 axes of the operand that the product drops go last; they do not move any value.
            let mut perm: Vec<usize> =
                order.iter().map(|l| labels.iter().position(|c| c == l).expect("classified from labels")).collect();
            let rest: Vec<usize> = (0..labels.len()).filter(|i| !perm.contains(i)).collect();
            perm.extend(rest);
            let observed = this.outlets[x];
            let mut current = x;
            if perm.iter().enumerate().any(|(i, p)| i != *p) {
                let t_shape: Vec<usize> = perm.iter().map(|&i| x_shape[i]).collect();
                current =
                    this.push_relayout(id, &format!("{tag}_t"), Op::Transpose { perm }, current, t_shape, observed);
            }
            if this.nodes[current].shape != dims {
                current = this.push_relayout(id, &format!("{tag}_r"), Op::Reshape, current, dims, observed);
            }
            current
        };
        let a_order: Vec<char> = batch.iter().chain(&m).chain(&k).copied().collect();
        let b_order: Vec<char> = batch.iter().chain(&k).chain(&n).copied().collect();
        let a3 = arrange(self, a, &la, a_order, vec![bs, ms, ks], "a");
        let b3 = arrange(self, b, &lb, b_order, vec![bs, ks, ns], "b");
        // The product's natural layout: batch, m, n axes in that order.
        let natural: Vec<char> = batch.iter().chain(&m).chain(&n).copied().collect();
        let natural_shape: Vec<usize> =
            natural.iter().map(|l| dim(&la, &sa, *l).or_else(|| dim(&lb, &sb, *l)).unwrap_or(1)).collect();
        let wanted: Vec<char> = lo.iter().copied().filter(|l| natural.contains(l)).collect();
        if wanted == natural {
            self.push(id, Op::MatMulNodes, vec![a3, b3], shape);
            return Ok(());
        }
        let product = self.nodes.len();
        self.nodes.push(Node {
            name: format!("{}.matmul", self.typed.node(id).name),
            op: Op::MatMulNodes,
            inputs: vec![a3, b3],
            shape: vec![bs, ms, ns],
        });
        self.outlets.push(here);
        let mut current = product;
        if natural_shape != vec![bs, ms, ns] {
            current = self.push_relayout(id, "natural", Op::Reshape, current, natural_shape.clone(), here);
        }
        self.push_output_layout(id, current, (&natural, &natural_shape), &wanted, shape);
        Ok(())
    }

    fn map_conv(&mut self, id: usize, conv: &Conv, inputs: &[Value], shape: Vec<usize>) -> Result<()> {
        if conv.q_params.is_some() {
            return Err(self.unsupported(id, "quantized convolution"));
        }
        if conv.kernel_fmt != KernelFormat::OIHW {
            return Err(self.unsupported(id, format!("kernel format {:?} (only OIHW)", conv.kernel_fmt)));
        }
        let x = self.node_input(id, inputs, 0)?;
        let kernel = match inputs.get(1) {
            Some(Value::Const(k)) => to_f32(k).map_err(|e| self.unsupported(id, e))?,
            _ => return Err(self.unsupported(id, "the kernel must be a constant")),
        };
        if kernel.shape.len() != 4 {
            return Err(self.unsupported(id, "only 2D convolution is supported"));
        }
        let bias = match inputs.get(2) {
            None => None,
            Some(Value::Const(b)) => {
                let b = to_f32(b).map_err(|e| self.unsupported(id, e))?;
                let out_channels = kernel.shape[0];
                if b.data.len() == out_channels {
                    Some(b.data)
                } else if b.data.len() == 1 {
                    Some(vec![b.data[0]; out_channels])
                } else {
                    return Err(
                        self.unsupported(id, format!("bias of {} values for {out_channels} channels", b.data.len()))
                    );
                }
            }
            Some(Value::Node(_)) => return Err(self.unsupported(id, "the bias must be a constant")),
        };
        let kernel_hw = Some([kernel.shape[2], kernel.shape[3]]);
        let groups = conv.group;
        self.push_windowed(id, &conv.pool_spec, x, kernel_hw, shape, |window| Op::Conv { kernel, bias, window, groups })
    }

    /// Pushes a sliding-window op (convolution or pooling). The executor works on NCHW; tract hands over a
    /// batch-less CHW tensor when the batch axis was squeezed away, which is viewed as `[1, C, H, W]`
    /// around the op.
    fn push_windowed(
        &mut self,
        id: usize,
        spec: &PoolSpec,
        x: NodeId,
        kernel_hw: Option<[usize; 2]>,
        shape: Vec<usize>,
        make: impl FnOnce(Window) -> Op,
    ) -> Result<()> {
        if spec.data_format != DataFormat::CHW {
            let window = self.window(id, spec, x, kernel_hw)?;
            self.push(id, make(window), vec![x], shape);
            return Ok(());
        }
        let with_batch = |s: &[usize]| std::iter::once(1).chain(s.iter().copied()).collect::<Vec<_>>();
        let x_shape = with_batch(&self.nodes[x].shape);
        let x4 = self.push_relayout(id, "nchw_in", Op::Reshape, x, x_shape, self.outlets[x]);
        let window = self.window(id, spec, x4, kernel_hw)?;
        let op_node = self.push_relayout(id, "nchw", make(window), x4, with_batch(&shape), OutletId::new(id, 0));
        self.push(id, Op::Reshape, vec![op_node], shape);
        Ok(())
    }

    fn window(&self, id: usize, spec: &PoolSpec, x: NodeId, kernel_hw: Option<[usize; 2]>) -> Result<Window> {
        if !matches!(spec.data_format, DataFormat::NCHW | DataFormat::CHW) {
            return Err(self.unsupported(id, format!("data format {:?} (NCHW or CHW only)", spec.data_format)));
        }
        if spec.kernel_shape.len() != 2 {
            return Err(self.unsupported(id, "only 2D windows are supported"));
        }
        let in_shape = &self.nodes[x].shape;
        if in_shape.len() != 4 {
            return Err(self.unsupported(id, format!("input of rank {} (NCHW needs 4)", in_shape.len())));
        }
        let padded = spec.computed_padding(&in_shape[2..]);
        let strides = spec.strides();
        let dilations = spec.dilations();
        let kernel = kernel_hw.unwrap_or([spec.kernel_shape[0], spec.kernel_shape[1]]);
        Ok(Window {
            kernel,
            strides: [strides[0], strides[1]],
            pads: [padded[0].pad_before, padded[1].pad_before, padded[0].pad_after, padded[1].pad_after],
            dilations: [dilations[0], dilations[1]],
        })
    }
}

fn to_f32(t: &tract_onnx::prelude::Tensor) -> std::result::Result<Tensor<f32>, String> {
    let cast = t.cast_to::<f32>().map_err(|e| format!("constant of type {:?}: {e}", t.datum_type()))?;
    let data = cast.to_plain_array_view::<f32>().map_err(|e| format!("{e}"))?.iter().copied().collect();
    Ok(Tensor::new(t.shape().to_vec(), data))
}

/// The elements of `t` with its axes reordered to `order` (output axis `i` is input axis `order[i]`).
fn permute(t: &Tensor<f32>, order: &[usize]) -> Vec<f32> {
    let array = t.to_array().permuted_axes(order.to_vec());
    array.iter().copied().collect()
}

/// A one-element constant.
fn scalar(v: f32) -> Tensor<f32> {
    Tensor::new(vec![], vec![v])
}

/// The value of a constant whose elements are all equal.
fn uniform(t: &Tensor<f32>) -> Option<f32> {
    let first = *t.data.first()?;
    t.data.iter().all(|v| *v == first).then_some(first)
}
