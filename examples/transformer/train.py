"""Train a small causal transformer on a digit-sequence task and write what the zkml-eth walkthrough consumes.

The task ("read the digit after the marker"): a sequence of 16 tokens, each a random digit 0..9, except
one position p, drawn uniformly from 0..14, which holds the MARKER token (10). The label is the digit at
position p + 1 (10 classes). The vocabulary also has a FILLER token (11), reserved and never generated.
The answer sits at a position that changes from sequence to sequence and is only identifiable by its
neighbour, so the model has to route information between positions: that is what attention is for. With
the attention blocks cut off (each position sees only itself) the same model stays near chance
(see `no_attention_baseline` in metrics.json).

Outputs (next to this file):
  model.onnx        2 pre-LN blocks, 2 heads, width 32; input token ids int64 [1, 16]; opset 17
  calibration.json  100 training sequences (token ids as JSON integers)
  test.json         the first 200 test sequences with labels
  metrics.json      accuracies under torch and onnxruntime, parameter count, versions

Deterministic (fixed seeds, deterministic torch kernels, one CPU thread) and offline: the data is
generated with numpy.

Run:  python -m venv .venv && .venv/bin/pip install -r requirements.txt && .venv/bin/python train.py
"""

from __future__ import annotations

import inspect
import json
import math
import os
import random
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import sklearn
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
SEED = 0
OPSET = 17  # LayerNormalization is an ONNX op from opset 17 on
SEQ_LEN = 16
VOCAB = 12
MARKER = 10
FILLER = 11  # in the vocabulary, never generated
N_CLASSES = 10
WIDTH = 32
HEADS = 2
MLP_WIDTH = 64
LAYERS = 2
TRAIN_SIZE = 20000
TEST_SIZE = 1000
CALIBRATION_SIZE = 100
TEST_FILE_SIZE = 200
MIN_ACCURACY = 0.95

EPOCHS = 10
BATCH_SIZE = 128
LR = 3e-3
WEIGHT_DECAY = 0.01


# ---------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------

def make_deterministic(seed: int) -> None:
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    # One thread: the float reduction order (and so every bit of the weights) does
    # not depend on how many cores the machine has.
    torch.set_num_threads(1)


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------

def make_split(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    x = rng.integers(0, 10, size=(n, SEQ_LEN), dtype=np.int64)
    pos = rng.integers(0, SEQ_LEN - 1, size=n)  # 0..14: there is always a digit after the marker
    rows = np.arange(n)
    x[rows, pos] = MARKER
    y = x[rows, pos + 1].copy()
    assert (y < 10).all() and ((x == MARKER).sum(axis=1) == 1).all()
    return x, y


def load_data():
    # Two independent streams from one seed: the test set does not depend on the train size.
    train_rng, test_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(SEED).spawn(2))
    x_train, y_train = make_split(train_rng, TRAIN_SIZE)
    x_test, y_test = make_split(test_rng, TEST_SIZE)
    overlap = {r.tobytes() for r in x_train} & {r.tobytes() for r in x_test}
    assert not overlap, f"{len(overlap)} test sequences also appear in the training set"
    return x_train, x_test, y_train, y_test


# ---------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------

class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention, written by hand (nanoGPT style)."""

    def __init__(self, attend: bool = True) -> None:
        super().__init__()
        self.c_attn = nn.Linear(WIDTH, 3 * WIDTH)
        self.c_proj = nn.Linear(WIDTH, WIDTH)
        mask = torch.tril(torch.ones(SEQ_LEN, SEQ_LEN))
        if not attend:  # ablation only: each position attends to itself alone
            mask = torch.eye(SEQ_LEN)
        self.register_buffer("bias", mask.view(1, 1, SEQ_LEN, SEQ_LEN))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        q = q.view(B, T, HEADS, C // HEADS).transpose(1, 2)  # [B, heads, T, head_dim]
        k = k.view(B, T, HEADS, C // HEADS).transpose(1, 2)
        v = v.view(B, T, HEADS, C // HEADS).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = att @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(WIDTH, MLP_WIDTH)
        self.gelu = nn.GELU()
        self.proj = nn.Linear(MLP_WIDTH, WIDTH)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(self.gelu(self.fc(x)))


class Block(nn.Module):
    """Pre-LN: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, attend: bool = True) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(WIDTH)
        self.attn = CausalSelfAttention(attend)
        self.ln_2 = nn.LayerNorm(WIDTH)
        self.mlp = MLP()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class TinyTransformer(nn.Module):
    """Input token ids [N, 16] (int64) -> logits [N, 10], read from the last position."""

    def __init__(self, attend: bool = True) -> None:
        super().__init__()
        self.tok_emb = nn.Embedding(VOCAB, WIDTH)
        self.pos_emb = nn.Parameter(torch.zeros(SEQ_LEN, WIDTH))
        nn.init.normal_(self.pos_emb, std=0.02)
        self.blocks = nn.ModuleList([Block(attend) for _ in range(LAYERS)])
        self.ln_f = nn.LayerNorm(WIDTH)
        self.head = nn.Linear(WIDTH, N_CLASSES)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.tok_emb(idx) + self.pos_emb  # [N, 16, 32]
        for block in self.blocks:
            x = block(x)
        x = self.ln_f(x)
        # Last position: under the causal mask it is the only one that sees the whole sequence.
        return self.head(x[:, -1, :])


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def torch_logits(model: nn.Module, x: np.ndarray) -> np.ndarray:
    model.eval()
    return model(torch.from_numpy(x)).numpy()


def train(model: nn.Module, x: np.ndarray, y: np.ndarray, x_val: np.ndarray, y_val: np.ndarray, *,
          epochs: int, seed: int, tag: str) -> list:
    xt = torch.from_numpy(x)
    yt = torch.from_numpy(y)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    steps = epochs * math.ceil(len(xt) / BATCH_SIZE)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=steps, pct_start=0.1)
    loss_fn = nn.CrossEntropyLoss()
    history = []
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(xt), generator=gen)
        total = 0.0
        for i in range(0, len(xt), BATCH_SIZE):
            idx = perm[i:i + BATCH_SIZE]
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        acc = float((torch_logits(model, x_val).argmax(1) == y_val).mean())
        history.append({"epoch": epoch + 1, "train_loss": round(total / len(xt), 4), "test_accuracy": acc})
        print(f"  {tag} epoch {epoch + 1:2d}: train loss {total / len(xt):.4f}, test accuracy {acc:.4f}", flush=True)
    model.eval()
    return history


# ---------------------------------------------------------------------------
# ONNX export and check
# ---------------------------------------------------------------------------

def export_onnx(model: nn.Module, example: torch.Tensor, path: Path) -> None:
    model.eval()
    kwargs = dict(
        input_names=["input"],
        output_names=["logits"],
        opset_version=OPSET,
        export_params=True,
        do_constant_folding=True,
    )
    # The TorchScript exporter, explicitly (newer torch defaults to the dynamo one).
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        # The tracer warns that 1 / sqrt(head_dim) becomes a constant: with fixed shapes it is one (0.25).
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(model, (example,), str(path), **kwargs)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)


def ort_session(path: Path) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def ort_logits(path: Path, x: np.ndarray) -> np.ndarray:
    """Fixed [1, 16] input: one sequence per run."""
    sess = ort_session(path)
    return np.concatenate([sess.run(["logits"], {"input": x[i:i + 1]})[0] for i in range(len(x))])


def stored_shape(value_info) -> list:
    dims = value_info.type.tensor_type.shape.dim
    return [d.dim_param if d.dim_param else d.dim_value for d in dims]


# ---------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------

def write_data(path: Path, x: np.ndarray, y: np.ndarray) -> None:
    doc = {
        "inputs": [[int(v) for v in row.reshape(-1)] for row in x],
        "labels": [int(v) for v in y],
    }
    path.write_text(json.dumps(doc, separators=(",", ":")) + "\n")


def read_data(path: Path) -> tuple[np.ndarray, np.ndarray]:
    doc = json.loads(path.read_text())
    x = np.asarray(doc["inputs"], dtype=np.int64).reshape(-1, SEQ_LEN)
    y = np.asarray(doc["labels"], dtype=np.int64)
    return x, y


def accuracy(logits: np.ndarray, y: np.ndarray) -> float:
    return float((logits.argmax(axis=1) == y).mean())


# ---------------------------------------------------------------------------

def main() -> int:
    t0 = time.time()
    make_deterministic(SEED)
    x_train, x_test, y_train, y_test = load_data()
    print(f"data: train {x_train.shape}, test {x_test.shape}")

    torch.manual_seed(SEED)
    model = TinyTransformer()
    t_train = time.time()
    history = train(model, x_train, y_train, x_test, y_test, epochs=EPOCHS, seed=SEED, tag="model")
    train_seconds = time.time() - t_train
    lt = torch_logits(model, x_test)

    path = HERE / "model.onnx"
    export_onnx(model, torch.zeros(1, SEQ_LEN, dtype=torch.int64), path)

    # --- onnxruntime vs torch on the whole test split ------------------------
    lo = ort_logits(path, x_test)
    mismatches = int((lt.argmax(1) != lo.argmax(1)).sum())
    assert mismatches == 0, f"onnxruntime argmax differs from torch on {mismatches} samples"
    acc_t, acc_o = accuracy(lt, y_test), accuracy(lo, y_test)
    assert acc_t >= MIN_ACCURACY, f"torch test accuracy {acc_t:.4f} < {MIN_ACCURACY}"
    assert acc_o >= MIN_ACCURACY, f"onnxruntime test accuracy {acc_o:.4f} < {MIN_ACCURACY}"

    # --- the same model with attention cut off, same budget -------------------
    torch.manual_seed(SEED)
    ablation = TinyTransformer(attend=False)
    train(ablation, x_train, y_train, x_test, y_test, epochs=EPOCHS, seed=SEED, tag="no-attention")
    acc_ablation = accuracy(torch_logits(ablation, x_test), y_test)

    # --- data files ----------------------------------------------------------
    rng = np.random.default_rng(SEED)
    cal_idx = np.sort(rng.choice(len(x_train), size=CALIBRATION_SIZE, replace=False))
    write_data(HERE / "calibration.json", x_train[cal_idx], y_train[cal_idx])
    write_data(HERE / "test.json", x_test[:TEST_FILE_SIZE], y_test[:TEST_FILE_SIZE])

    # test.json read back, as a downstream tool reads it, through onnxruntime.
    xf, yf = read_data(HERE / "test.json")
    assert np.array_equal(xf, x_test[:TEST_FILE_SIZE]), "test.json does not round-trip exactly"
    acc_file = accuracy(ort_logits(path, xf), yf)
    acc_file_t = accuracy(lt[:TEST_FILE_SIZE], y_test[:TEST_FILE_SIZE])

    graph = onnx.load(str(path)).graph
    ops = [n.op_type for n in graph.node]
    metrics = {
        "data": {
            "source": "synthetic, generated with numpy (np.random.SeedSequence(0).spawn(2): train stream, test stream)",
            "task": ("16 tokens, each a uniform digit 0..9, except one position p uniform in 0..14 holding "
                     "the MARKER token; label = the digit at position p + 1"),
            "vocabulary": {"0-9": "digits", str(MARKER): "MARKER", str(FILLER): "FILLER (reserved, never generated)"},
            "train_samples": TRAIN_SIZE,
            "test_samples": TEST_SIZE,
            "calibration_samples": CALIBRATION_SIZE,
            "calibration_file": "calibration.json: 100 sequences drawn with numpy default_rng(0) from the training set",
            "test_file": f"test.json: the first {TEST_FILE_SIZE} of the {TEST_SIZE} test sequences",
            "chance_accuracy": 0.1,
        },
        "opset": OPSET,
        "exporter": "torch.onnx.export, TorchScript-based (dynamo=False)",
        "training": {
            "optimizer": f"AdamW(lr={LR}, weight_decay={WEIGHT_DECAY}), OneCycleLR(pct_start=0.1)",
            "epochs": EPOCHS,
            "batch_size": BATCH_SIZE,
            "history": history,
        },
        "versions": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "scikit-learn": sklearn.__version__,
            "torch": torch.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": ort.__version__,
        },
        "models": {
            "transformer": {
                "file": path.name,
                "architecture": (f"token embedding({VOCAB},{WIDTH}) + learned positions [{SEQ_LEN},{WIDTH}]; "
                                 f"{LAYERS} pre-LN blocks (causal self-attention, {HEADS} heads, tril mask buffer, "
                                 f"masked_fill(-inf); MLP {WIDTH}->{MLP_WIDTH}->{WIDTH} with exact GELU); "
                                 f"final LayerNorm; last position; Linear({WIDTH},{N_CLASSES})"),
                "parameters": count_params(model),
                "onnx_input_shape": stored_shape(graph.input[0]),
                "onnx_input_type": onnx.TensorProto.DataType.Name(graph.input[0].type.tensor_type.elem_type),
                "onnx_output_shape": stored_shape(graph.output[0]),
                "onnx_ops": ops,
                "test_accuracy_torch": round(acc_t, 6),
                "test_accuracy_onnxruntime": round(acc_o, 6),
                "test_json_accuracy_torch": round(acc_file_t, 6),
                "test_json_accuracy_onnxruntime": round(acc_file, 6),
                "onnxruntime_argmax_matches_torch": f"{len(lt) - mismatches}/{len(lt)}",
                "max_abs_logit_diff_onnxruntime_vs_torch": float(f"{np.abs(lt - lo).max():.3g}"),
                "max_abs_logit_test": float(f"{np.abs(lt).max():.4g}"),
            },
            "no_attention_baseline": {
                "what": ("the same model and training with the attention mask set to the identity "
                         "(each position attends only to itself), not exported"),
                "test_accuracy_torch": round(acc_ablation, 6),
            },
        },
    }
    (HERE / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")

    print(f"transformer: {count_params(model)} params, trained in {train_seconds:.1f} s, test accuracy "
          f"torch {acc_t:.4f}, onnxruntime {acc_o:.4f} (test.json: {acc_file:.4f}); "
          f"without attention {acc_ablation:.4f}")
    print(f"ops {ops}")
    for f in ["model.onnx", "calibration.json", "test.json", "metrics.json"]:
        print(f"wrote {f} ({(HERE / f).stat().st_size} bytes)")
    print(f"done in {time.time() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
