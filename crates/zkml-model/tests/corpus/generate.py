"""ONNX test corpus of the zkml-model importer: transformer, modern-CNN,
elementwise-arithmetic and scikit-learn graphs.

Writes, next to this file:
  NAME.opset13.onnx, NAME.opset17.onnx   every torch model at both opsets
                                         (TorchScript exporter, dynamo=False)
  sklearn_*.opset13.onnx / .opset17.onnx scikit-learn models via skl2onnx
  NAME.json                              16 input samples, {"inputs": [[...], ...]}
  manifest.json                          what each file is, its ops, shapes and
                                         onnxruntime reference outputs

Deterministic: every model and data set has its own fixed seed, so a rerun with
the pinned requirements.txt rewrites identical bytes.

  python3 -m venv .venv && .venv/bin/pip install -r requirements.txt
  .venv/bin/python generate.py
"""

from __future__ import annotations

import json
import math
import warnings
import zlib
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

try:
    import onnxruntime as ort
except ImportError:  # the reference outputs are then left out
    ort = None

HERE = Path(__file__).resolve().parent
OPSETS = (13, 17)
SAMPLES = 16
REFERENCE_SAMPLES = 4
TORCH_VERSION = torch.__version__.split("+")[0]

torch.set_num_threads(1)


def seed_of(name: str) -> int:
    """A stable per-name seed (independent of model order)."""
    return zlib.crc32(name.encode())


# ---------------------------------------------------------------------------
# Transformer models
# ---------------------------------------------------------------------------

class Attention(nn.Module):
    """Single-head self-attention on x[1, 8, 16]."""

    def __init__(self, mask: str | None = None, d: int = 16, seq: int = 8):
        super().__init__()
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.out = nn.Linear(d, d)
        self.scale = math.sqrt(d)
        self.mask_kind = mask
        if mask == "fill":
            self.register_buffer("mask", torch.tril(torch.ones(seq, seq)))
        elif mask == "additive":
            m = torch.zeros(seq, seq).masked_fill(torch.triu(torch.ones(seq, seq), 1) == 1, float("-inf"))
            self.register_buffer("mask", m)

    def forward(self, x):
        q, k, v = self.q(x), self.k(x), self.v(x)
        scores = q @ k.transpose(-2, -1) / self.scale
        if self.mask_kind == "fill":
            scores = scores.masked_fill(self.mask == 0, float("-inf"))
        elif self.mask_kind == "additive":
            scores = scores + self.mask
        att = torch.softmax(scores, dim=-1)
        return self.out(att @ v)


class MultiHead(nn.Module):
    """2 heads by hand: [1,8,16] -> [1,8,2,8] -> [1,2,8,8], batched matmul over heads."""

    def __init__(self, d: int = 16, heads: int = 2, seq: int = 8, causal: bool = False):
        super().__init__()
        self.d, self.h, self.seq = d, heads, seq
        self.hd = d // heads
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.out = nn.Linear(d, d)
        self.causal = causal
        if causal:
            self.register_buffer("mask", torch.tril(torch.ones(seq, seq)))

    def split_heads(self, t):
        return t.view(1, self.seq, self.h, self.hd).transpose(1, 2)

    def forward(self, x):
        q = self.split_heads(self.q(x))
        k = self.split_heads(self.k(x))
        v = self.split_heads(self.v(x))
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.hd)
        if self.causal:
            scores = scores.masked_fill(self.mask == 0, float("-inf"))
        att = torch.softmax(scores, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(1, self.seq, self.d)
        return self.out(y)


class LayerNormModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln = nn.LayerNorm(16)
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        return self.fc(self.ln(x))


class LayerNormManual(nn.Module):
    def __init__(self):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(16))
        self.beta = nn.Parameter(torch.zeros(16))
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        mean = x.mean(-1, keepdim=True)
        var = ((x - mean) ** 2).mean(-1, keepdim=True)
        y = (x - mean) / torch.sqrt(var + 1e-5) * self.gamma + self.beta
        return self.fc(y)


class GeluMlp(nn.Module):
    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.fc1 = nn.Linear(16, 16)
        self.act = nn.GELU(approximate=approximate)
        self.fc2 = nn.Linear(16, 4)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class EmbeddingModel(nn.Module):
    def __init__(self, vocab: int = 16, d: int = 16, seq: int = 8):
        super().__init__()
        self.seq = seq
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.zeros(seq, d))
        self.fc = nn.Linear(d, 4)

    def forward(self, tokens):
        h = self.tok(tokens) + self.pos[: self.seq]
        return self.fc(h.mean(dim=1))


class GatherActivation(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 16)
        self.fc2 = nn.Linear(32, 4)

    def forward(self, x):
        h = self.fc1(x)
        first = h[:, 0, :]
        last = h[:, -1]
        return self.fc2(torch.cat([first, last], dim=-1))


class SplitSliceExpand(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(24, 4)

    def forward(self, x):
        a, b = torch.split(x, 8, dim=-1)
        c = x[:, 2:10]
        d = a * b + c
        e = d.unsqueeze(1).expand(1, 3, 8)
        return self.fc(e.reshape(1, 24))


class TinyTransformer(nn.Module):
    """One pre-LN block: embedding, LN, 2-head causal attention, residual,
    LN, MLP 16->32->16 with GELU, residual, final LN, mean pool, Linear(16, 4)."""

    def __init__(self, vocab: int = 16, d: int = 16, seq: int = 8):
        super().__init__()
        self.seq = seq
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.zeros(seq, d))
        self.ln1 = nn.LayerNorm(d)
        self.attn = MultiHead(d, 2, seq, causal=True)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))
        self.lnf = nn.LayerNorm(d)
        self.head = nn.Linear(d, 4)

    def forward(self, tokens):
        h = self.tok(tokens) + self.pos[: self.seq]
        h = h + self.attn(self.ln1(h))
        h = h + self.mlp(self.ln2(h))
        h = self.lnf(h)
        return self.head(h.mean(dim=1))


# ---------------------------------------------------------------------------
# CNN models
# ---------------------------------------------------------------------------

class ConvDepthwise(nn.Module):
    def __init__(self):
        super().__init__()
        self.dw = nn.Conv2d(4, 4, 3, padding=1, groups=4)
        self.pw = nn.Conv2d(4, 2, 1)

    def forward(self, x):
        return self.pw(F.relu(self.dw(x)))


class ResidualAdd(nn.Module):
    def __init__(self, c: int = 2):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)
        self.conv3 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        branch = self.conv2(F.relu(self.conv1(x)))
        y = F.relu(branch + x)             # plain skip connection
        return 0.5 * self.conv3(y) + y     # scaled branch


class GlobalMaxPool(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1)
        self.pool = nn.AdaptiveMaxPool2d(1)
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.conv(x)), 1))


class ResizeNearest(nn.Module):
    def __init__(self):
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.conv = nn.Conv2d(2, 3, 3, padding=1)

    def forward(self, x):
        return self.conv(self.up(x))


# ---------------------------------------------------------------------------
# Elementwise arithmetic, each after a Linear(16, 16) so the values are mixed
# ---------------------------------------------------------------------------

class Elementwise(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fc = nn.Linear(16, 16)
        self.fn = fn

    def forward(self, x):
        return self.fn(self.fc(x))


class MaxMin(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 16)
        self.fc2 = nn.Linear(16, 16)

    def forward(self, x):
        h = self.fc1(x)
        h2 = self.fc2(x)
        return torch.maximum(h, h2) - torch.minimum(h, h2) + torch.clamp(h, -0.5, 0.5)


def pow_square(h):
    return h ** 2 + h ** 3 * 0.5 + torch.square(h)


def div_tensor(h):
    return h / (h * h + 1.0)


def rsqrt(h):
    return h * torch.rsqrt(h * h + 1.0)


def reciprocal(h):
    return torch.reciprocal(h * h + 1.0)


def exp_log(h):
    return torch.exp(h) + torch.log(h * h + 1.0)


def sqrt(h):
    return torch.sqrt(h * h + 0.25)


# ---------------------------------------------------------------------------
# The torch corpus: name -> (constructor, inputs [(name, shape, dtype, vocab)], covers)
# ---------------------------------------------------------------------------

X_SEQ = [("input", [1, 8, 16], "float32", None)]
X_VEC = [("input", [1, 16], "float32", None)]
TOKENS = [("tokens", [1, 8], "int64", 16)]

TORCH_MODELS = {
    # transformer
    "attention": (lambda: Attention(), X_SEQ,
                  ["MatMul of two activations", "Transpose", "Softmax mid-graph", "Div by constant"]),
    "attention_causal": (lambda: Attention("fill"), X_SEQ,
                         ["Where with constant condition (masked_fill -inf)", "Softmax with -inf", "MatMul of two activations"]),
    "attention_causal_additive": (lambda: Attention("additive"), X_SEQ,
                                  ["Add of a constant 0/-inf mask", "Softmax with -inf", "MatMul of two activations"]),
    "multihead": (lambda: MultiHead(), X_SEQ,
                  ["Reshape", "Transpose", "batched MatMul over heads (rank 4)", "Softmax"]),
    "layernorm": (lambda: LayerNormModel(), X_SEQ,
                  ["LayerNormalization (opset 17) / decomposed LayerNorm (opset 13)"]),
    "layernorm_manual": (lambda: LayerNormManual(), X_SEQ,
                         ["ReduceMean", "Sub", "Pow", "Sqrt", "Div (hand-written LayerNorm)"]),
    "gelu_erf": (lambda: GeluMlp("none"), X_VEC, ["GELU exact (Erf)"]),
    "gelu_tanh": (lambda: GeluMlp("tanh"), X_VEC, ["GELU tanh approximation (Tanh; x**3 exports as Mul)"]),
    "embedding": (lambda: EmbeddingModel(), TOKENS,
                  ["Gather on a constant table (Embedding) with int64 ids", "learned position embedding Add", "ReduceMean"]),
    "gather_activation": (lambda: GatherActivation(), X_SEQ,
                          ["Gather of an activation (scalar index 0 and -1)", "Concat"]),
    "split_slice_expand": (lambda: SplitSliceExpand(), X_VEC,
                           ["Split", "Slice", "Unsqueeze", "Expand (shape from ConstantOfShape/Equal/Where on constants)", "Reshape", "Mul of two activations"]),
    "tiny_transformer": (lambda: TinyTransformer(), TOKENS,
                         ["whole pre-LN transformer block: Embedding, LayerNorm, causal 2-head attention, GELU MLP, residuals, mean pool"]),
    # CNN
    "conv_depthwise": (lambda: ConvDepthwise(), [("input", [1, 4, 8, 8], "float32", None)],
                       ["Conv depthwise (group = channels)", "Conv 1x1"]),
    "conv_grouped": (lambda: nn.Conv2d(4, 4, 3, groups=2), [("input", [1, 4, 8, 8], "float32", None)],
                     ["Conv grouped (group = 2)"]),
    "conv_dilated": (lambda: nn.Conv2d(2, 3, 3, dilation=2, padding=2), [("input", [1, 2, 8, 8], "float32", None)],
                     ["Conv dilated (dilations = 2)"]),
    "conv_transpose": (lambda: nn.ConvTranspose2d(2, 3, kernel_size=3, stride=2, padding=1, output_padding=1),
                       [("input", [1, 2, 4, 4], "float32", None)],
                       ["ConvTranspose (stride 2, pads 1, output_padding 1)"]),
    "residual_add": (lambda: ResidualAdd(), [("input", [1, 2, 8, 8], "float32", None)],
                     ["Add of two activations (skip connection)", "Mul by constant 0.5 (scaled branch)"]),
    "global_max_pool": (lambda: GlobalMaxPool(), [("input", [1, 2, 8, 8], "float32", None)],
                        ["global max pool: AdaptiveMaxPool2d(1) exports as MaxPool kernel 8x8 stride 8 (not GlobalMaxPool)", "Flatten"]),
    "resize_nearest": (lambda: ResizeNearest(), [("input", [1, 2, 4, 4], "float32", None)],
                       ["Resize nearest, scale 2"]),
    # arithmetic
    "pow_square": (lambda: Elementwise(pow_square), X_VEC, ["Pow (constant exponents 2 and 3)", "torch.square (exports as Mul x*x)"]),
    "div_tensor": (lambda: Elementwise(div_tensor), X_VEC, ["Div of two activations"]),
    "rsqrt": (lambda: Elementwise(rsqrt), X_VEC, ["torch.rsqrt (exports as Sqrt then Div 1/.)"]),
    "reciprocal": (lambda: Elementwise(reciprocal), X_VEC, ["Reciprocal"]),
    "exp_log": (lambda: Elementwise(exp_log), X_VEC, ["Exp", "Log"]),
    "max_min": (lambda: MaxMin(), X_VEC, ["Max", "Min", "Clip (torch.clamp)"]),
    "sqrt": (lambda: Elementwise(sqrt), X_VEC, ["Sqrt"]),
}


def init_weights(model: nn.Module, seed: int) -> None:
    """Small random weights: uniform in [-0.5, 0.5]; LayerNorm gains in [0.5, 1.5]."""
    gen = torch.Generator().manual_seed(seed)
    gains = set()
    for mod_name, mod in model.named_modules():
        if isinstance(mod, nn.LayerNorm):
            gains.add(f"{mod_name}.weight" if mod_name else "weight")
    gains.add("gamma")
    with torch.no_grad():
        for name, p in model.named_parameters():
            u = torch.rand(p.shape, generator=gen, dtype=torch.float32)
            p.copy_(u + 0.5 if name in gains else u - 0.5)


def make_data(name: str, inputs) -> list[list]:
    rng = np.random.default_rng(seed_of("data:" + name))
    rows = []
    for _ in range(SAMPLES):
        row = []
        for _, shape, dtype, vocab in inputs:
            n = int(np.prod(shape))
            if dtype == "int64":
                row += [int(v) for v in rng.integers(0, vocab, size=n)]
            else:
                row += [float(v) for v in np.round(rng.uniform(-1.0, 1.0, size=n), 4)]
        rows.append(row)
    return rows


def sample_feeds(row: list, inputs) -> dict:
    feeds, at = {}, 0
    for name, shape, dtype, _ in inputs:
        n = int(np.prod(shape))
        feeds[name] = np.asarray(row[at:at + n], dtype=dtype).reshape(shape)
        at += n
    assert at == len(row)
    return feeds


def export_torch(model: nn.Module, inputs, path: Path, opset: int) -> None:
    model.eval()
    example = tuple(torch.from_numpy(np.zeros(shape, dtype=dtype)) for _, shape, dtype, _ in inputs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, example, str(path),
            input_names=[n for n, *_ in inputs],
            output_names=["output"],
            opset_version=opset,
            do_constant_folding=True,
            export_params=True,
            dynamo=False,
        )


# ---------------------------------------------------------------------------
# scikit-learn models
# ---------------------------------------------------------------------------

def sklearn_models():
    """name -> (fitted estimator, n_features, data rows, is_classifier, covers)."""
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.neural_network import MLPClassifier

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float64)  # 8x8 pixels scaled to [0, 1]
    y = digits.target
    train_x, train_y = x[:200], y[:200]
    test_rows = [[float(v) for v in row] for row in x[200:200 + SAMPLES]]  # held-out digits

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp = MLPClassifier(hidden_layer_sizes=(8,), activation="relu", max_iter=1000, random_state=0)
        mlp.fit(train_x, train_y)
        logreg = LogisticRegression(max_iter=2000)
        logreg.fit(train_x, train_y)

    rng = np.random.default_rng(seed_of("train:sklearn_linreg"))
    lx = rng.uniform(-1.0, 1.0, size=(64, 4))
    ly = lx @ np.array([0.7, -0.3, 0.2, -0.5]) + 0.1 + 0.05 * rng.standard_normal(64)
    linreg = LinearRegression().fit(lx, ly)
    lin_rows = make_data("sklearn_linreg", [("input", [1, 4], "float32", None)])

    return {
        "sklearn_mlp": (mlp, 64, test_rows, True,
                        ["skl2onnx MLPClassifier: MatMul/Add/Relu/Softmax", "ArgMax + ArrayFeatureExtractor (ai.onnx.ml) + Cast label output", "two outputs"]),
        "sklearn_logreg": (logreg, 64, test_rows, True,
                           ["skl2onnx LogisticRegression: LinearClassifier + Normalizer (ai.onnx.ml)", "label + probabilities outputs"]),
        "sklearn_linreg": (linreg, 4, lin_rows, False,
                           ["skl2onnx LinearRegression: LinearRegressor (ai.onnx.ml)", "output [1, 1]"]),
    }


def export_sklearn(name: str, est, n_features: int, is_classifier: bool, path: Path, opset: int) -> None:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    options = {id(est): {"zipmap": False}} if is_classifier else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        onx = convert_sklearn(
            est,
            initial_types=[("input", FloatTensorType([1, n_features]))],
            target_opset=opset,
            options=options,
            name=name,  # else a random uuid: the bytes would change every run
        )
    path.write_bytes(onx.SerializeToString())


# ---------------------------------------------------------------------------
# Manifest helpers
# ---------------------------------------------------------------------------

DTYPES = {onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.INT64: "int64",
          onnx.TensorProto.DOUBLE: "float64", onnx.TensorProto.INT32: "int32",
          onnx.TensorProto.BOOL: "bool"}


def value_info(v) -> dict:
    t = v.type.tensor_type
    shape = [d.dim_param if d.dim_param else d.dim_value for d in t.shape.dim]
    return {"name": v.name, "shape": shape, "dtype": DTYPES.get(t.elem_type, str(t.elem_type))}


def graph_ops(graph) -> set:
    ops = set()
    for node in graph.node:
        ops.add(node.op_type)
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                ops |= graph_ops(attr.g)
            for g in attr.graphs:
                ops |= graph_ops(g)
    return ops


def check_and_describe(path: Path, rows: list, inputs) -> dict:
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    initializers = {i.name for i in model.graph.initializer}
    graph_inputs = [i for i in model.graph.input if i.name not in initializers]
    declared = [value_info(i) for i in graph_inputs]
    for d, (name, shape, dtype, _) in zip(declared, inputs, strict=True):
        assert d["name"] == name and d["shape"] == shape and d["dtype"] == dtype, (path.name, d)
    info = {
        "ops": sorted(graph_ops(model.graph)),
        "opset_import": {(o.domain or "ai.onnx"): o.version for o in model.opset_import},
        "inputs": [{k: d[k] for k in ("name", "shape", "dtype")} for d in declared],
        "outputs": [value_info(o) for o in model.graph.output],
    }
    if ort is not None:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        sess = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        reference = []
        for i, row in enumerate(rows):
            outs = sess.run(None, sample_feeds(row, inputs))
            flat = []
            for o in outs:
                o = np.asarray(o)
                assert np.all(np.isfinite(o)), (path.name, "non-finite output")
                if o.dtype.kind in "iub":
                    flat += [int(v) for v in o.reshape(-1)]
                else:
                    # shortest text that reads back to the same float32
                    flat += [float(str(np.float32(v))) for v in o.reshape(-1)]
            if i < REFERENCE_SAMPLES:
                reference.append(flat)
        info["reference"] = reference
    return info


def dump_json(obj, indent: int = 0) -> str:
    """JSON with one object key per line but lists of scalars kept on one line."""
    pad = "  " * indent
    if isinstance(obj, dict):
        if all(not isinstance(v, dict) and not (isinstance(v, list) and any(isinstance(x, (dict, list)) for x in v))
               for v in obj.values()):
            return json.dumps(obj, separators=(", ", ": "))  # flat: one line
        items = [f'{pad}  {json.dumps(k)}: {dump_json(v, indent + 1)}' for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list):
        if all(not isinstance(v, (dict, list)) for v in obj):
            return json.dumps(obj, separators=(", ", ": "))
        items = [f"{pad}  {dump_json(v, indent + 1)}" for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(obj)


def write_data(path: Path, rows: list) -> None:
    path.write_text(json.dumps({"inputs": rows}, separators=(",", ":")) + "\n")


# ---------------------------------------------------------------------------

def main() -> None:
    manifest_models = []
    failures = []

    for name, (ctor, inputs, covers) in TORCH_MODELS.items():
        torch.manual_seed(seed_of(name))
        np.random.seed(seed_of(name) % 2**32)
        model = ctor()
        init_weights(model, seed_of(name))
        model.eval()
        rows = make_data(name, inputs)
        write_data(HERE / f"{name}.json", rows)
        for opset in OPSETS:
            path = HERE / f"{name}.opset{opset}.onnx"
            try:
                export_torch(model, inputs, path, opset)
                info = check_and_describe(path, rows, inputs)
            except Exception as e:  # keep going: record it
                failures.append((path.name, f"{type(e).__name__}: {e}"))
                path.unlink(missing_ok=True)
                continue
            entry = {"file": path.name, "data": f"{name}.json",
                     "exporter": f"torch {TORCH_VERSION} opset {opset}", "covers": covers}
            entry.update(info)
            manifest_models.append(entry)
            print(f"{path.name:42s} {' '.join(info['ops'])}")

    import skl2onnx
    for name, (est, n_features, rows, is_clf, covers) in sklearn_models().items():
        inputs = [("input", [1, n_features], "float32", None)]
        write_data(HERE / f"{name}.json", rows)
        for opset in OPSETS:
            path = HERE / f"{name}.opset{opset}.onnx"
            try:
                export_sklearn(name, est, n_features, is_clf, path, opset)
                info = check_and_describe(path, rows, inputs)
            except Exception as e:
                failures.append((path.name, f"{type(e).__name__}: {e}"))
                path.unlink(missing_ok=True)
                continue
            entry = {"file": path.name, "data": f"{name}.json",
                     "exporter": f"skl2onnx {skl2onnx.__version__} opset {opset}", "covers": covers}
            entry.update(info)
            manifest_models.append(entry)
            print(f"{path.name:42s} {' '.join(info['ops'])}")

    manifest = {
        "generator": "generate.py",
        "torch": TORCH_VERSION,
        "skl2onnx": skl2onnx.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": ort.__version__ if ort is not None else None,
        "models": manifest_models,
    }
    (HERE / "manifest.json").write_text(dump_json(manifest) + "\n")

    for file, why in failures:
        print(f"FAILED {file}: {why}")
    print(f"{len(manifest_models)} model files, {len(failures)} failures")


if __name__ == "__main__":
    main()
