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
        array::TypedConcat,
        binary::TypedBinOp,
        change_axes::AxisOp,
        cnn::{Conv, KernelFormat, MaxPool, PoolSpec, SumPool},
        einsum::EinSum,
        element_wise::ElementWiseOp,
        konst::Const,
        nn::{DataFormat, LeakyRelu, Reduce, Reducer, Softmax, SoftmaxKind},
        source::TypedSource,
    },
};

use serde::{Deserialize, Serialize};

use crate::{
    error::{Error, Result},
    graph::{BinaryKind, Graph, Node, NodeId, Op, Operand, Window},
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
            model = model
                .with_input_fact(i, InferenceFact::dt_shape(f32::datum_type(), shape.as_slice()))
                .map_err(|e| onnx_error(source, "setting the input shape", e))?;
        }
    }

    let typed = model
        .into_typed()
        .and_then(|m| m.into_decluttered())
        .map_err(|e| onnx_error(source, "analysing the graph", e))?;
    let (graph, outlets) = map_graph(&typed, proto)?;
    Ok(ImportedModel { graph, batch_bound, outlets, typed })
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
    values: HashMap<OutletId, Value>,
}

fn map_graph(typed: &TypedModel, proto: &ModelProto) -> Result<(Graph, Vec<OutletId>)> {
    let onnx_ops = proto.graph.iter().flat_map(|g| &g.node).map(|n| (n.name.clone(), n.op_type.clone())).collect();
    let mut m = Mapper { typed, onnx_ops, nodes: vec![], outlets: vec![], values: HashMap::new() };
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
    Ok((Graph { nodes: m.nodes, inputs, outputs }, m.outlets))
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
            self.push(id, Op::Input { index }, vec![], shape);
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
            } else {
                match ew.0.name().as_str() {
                    "Sigmoid" => Op::Sigmoid,
                    "Tanh" => Op::Tanh,
                    other => return Err(self.unsupported(id, format!("elementwise {other} has no circuit"))),
                }
            };
            self.push(id, mapped, vec![x], shape);
            return Ok(());
        }
        if let Some(conv) = op.downcast_ref::<Conv>() {
            return self.map_conv(id, conv, &inputs, shape);
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
        let (x, w) = match inputs {
            [Value::Node(x), Value::Const(w)] => (*x, w.clone()),
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
        let (a, b, out): (Vec<char>, Vec<char>, Vec<char>) =
            (a.chars().collect(), b.chars().collect(), out.chars().collect());
        let w = to_f32(&w).map_err(|e| self.unsupported(id, e))?;
        let x_shape = self.nodes[x].shape.clone();
        if a.len() != x_shape.len() || b.len() != w.shape.len() || out.len() != shape.len() {
            return Err(self.unsupported(id, format!("einsum {expr}: ranks do not match the operands")));
        }
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
        let here = OutletId::new(id, 0);
        let mm_shape = if natural_shape.is_empty() { vec![1] } else { natural_shape.clone() };
        current = self.push_relayout(id, "matmul", matmul, current, mm_shape, here);
        let perm: Vec<usize> =
            wanted.iter().map(|l| natural.iter().position(|c| c == l).expect("from natural")).collect();
        let t_shape: Vec<usize> = perm.iter().map(|&i| natural_shape[i]).collect();
        if t_shape == shape {
            self.push(id, Op::Transpose { perm }, vec![current], shape);
        } else {
            current = self.push_relayout(id, "out_t", Op::Transpose { perm }, current, t_shape, here);
            self.push(id, Op::Reshape, vec![current], shape);
        }
        Ok(())
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
                _ => return Err(self.unsupported(id, "only division by a constant is supported")),
            },
            "Max" | "Min" => {
                let bound = match (&lhs, &rhs) {
                    (Operand::Node(_), Operand::Const(c)) | (Operand::Const(c), Operand::Node(_)) => uniform(c),
                    _ => None,
                }
                .ok_or_else(|| {
                    self.unsupported(id, format!("{name} is only supported against one constant (Relu, Clip)"))
                })?;
                if name == "Max" {
                    Op::Clamp { min: Some(bound), max: None }
                } else {
                    Op::Clamp { min: None, max: Some(bound) }
                }
            }
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

    fn map_conv(&mut self, id: usize, conv: &Conv, inputs: &[Value], shape: Vec<usize>) -> Result<()> {
        if conv.q_params.is_some() {
            return Err(self.unsupported(id, "quantized convolution"));
        }
        if conv.group != 1 {
            return Err(self.unsupported(id, format!("groups = {} (only 1 is supported)", conv.group)));
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
        self.push_windowed(id, &conv.pool_spec, x, kernel_hw, shape, |window| Op::Conv { kernel, bias, window })
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
        if spec.dilations().iter().any(|d| *d != 1) {
            return Err(self.unsupported(id, "dilation other than 1"));
        }
        let in_shape = &self.nodes[x].shape;
        if in_shape.len() != 4 {
            return Err(self.unsupported(id, format!("input of rank {} (NCHW needs 4)", in_shape.len())));
        }
        let padded = spec.computed_padding(&in_shape[2..]);
        let strides = spec.strides();
        let kernel = kernel_hw.unwrap_or([spec.kernel_shape[0], spec.kernel_shape[1]]);
        Ok(Window {
            kernel,
            strides: [strides[0], strides[1]],
            pads: [padded[0].pad_before, padded[1].pad_before, padded[0].pad_after, padded[1].pad_after],
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

/// The value of a constant whose elements are all equal.
fn uniform(t: &Tensor<f32>) -> Option<f32> {
    let first = *t.data.first()?;
    t.data.iter().all(|v| *v == first).then_some(first)
}
