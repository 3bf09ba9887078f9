"""Train the two digits models and write everything the zkml-eth walkthrough consumes.

Outputs (next to this file):
  mlp.onnx          Linear(64,32) -> ReLU -> Linear(32,10), fixed input shape [1, 64]
  cnn.onnx          small CNN with BatchNorm, dynamic batch: input [batch, 1, 8, 8]
  calibration.json  200 training samples (for quantization ranges)
  test.json         all 450 test samples with labels (for fidelity)
  metrics.json      accuracies under torch and onnxruntime, parameter counts, versions

Deterministic (fixed seeds, deterministic torch kernels, one CPU thread) and offline:
scikit-learn ships the digits data set inside its package.

Run:  python -m venv .venv && .venv/bin/pip install -r requirements.txt && .venv/bin/python train.py
"""

from __future__ import annotations

import inspect
import json
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
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

HERE = Path(__file__).resolve().parent
SEED = 0
OPSET = 13
TEST_SIZE = 450
CALIBRATION_SIZE = 200
MIN_ACCURACY = 0.95


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

def load_data():
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)  # [1797, 64], values k/16 in [0, 1]
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=TEST_SIZE, random_state=0, stratify=y
    )
    assert x_test.shape == (TEST_SIZE, 64), x_test.shape
    return x_train, x_test, y_train, y_test


# ---------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------

class MLP(nn.Module):
    """Input [N, 64]."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(64, 32)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.relu(self.fc1(x)))


class CNN(nn.Module):
    """Input [N, 1, 8, 8]. The BatchNorm is kept on purpose: the downstream tool folds it."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)  # 8x8 -> 4x4
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.AvgPool2d(2)  # 4x4 -> 2x2
        self.fc = nn.Linear(16 * 2 * 2, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool1(self.relu1(self.bn1(self.conv1(x))))
        x = self.pool2(self.relu2(self.conv2(x)))
        # The common "flatten" idiom. With a dynamic batch the TorchScript exporter
        # turns it into Shape -> Gather -> Unsqueeze -> Concat -> Reshape, which the
        # downstream importer has to resolve once it is told the input shape.
        x = x.view(x.size(0), -1)
        return self.fc(x)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def train(model: nn.Module, x: np.ndarray, y: np.ndarray, *, epochs: int, lr: float,
          batch_size: int, seed: int) -> None:
    xt = torch.from_numpy(x)
    yt = torch.from_numpy(y)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), batch_size):
            idx = perm[i:i + batch_size]
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        sched.step()
    model.eval()


@torch.no_grad()
def torch_logits(model: nn.Module, x: np.ndarray) -> np.ndarray:
    model.eval()
    return model(torch.from_numpy(x)).numpy()


# ---------------------------------------------------------------------------
# ONNX export and check
# ---------------------------------------------------------------------------

def export_onnx(model: nn.Module, example: torch.Tensor, path: Path, *,
                dynamic_batch: bool, fold_constants: bool) -> None:
    model.eval()
    kwargs = dict(
        input_names=["input"],
        output_names=["logits"],
        opset_version=OPSET,
        export_params=True,
        do_constant_folding=fold_constants,
    )
    if dynamic_batch:
        kwargs["dynamic_axes"] = {"input": {0: "batch"}, "logits": {0: "batch"}}
    # The TorchScript exporter, explicitly (newer torch defaults to the dynamo one).
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(model, (example,), str(path), **kwargs)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)


def ort_session(path: Path) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def ort_logits(path: Path, x: np.ndarray, *, batch_one: bool) -> np.ndarray:
    sess = ort_session(path)
    if batch_one:  # fixed [1, ...] input: one sample per run
        return np.concatenate([sess.run(["logits"], {"input": x[i:i + 1]})[0] for i in range(len(x))])
    return sess.run(["logits"], {"input": x})[0]


def stored_shape(value_info) -> list:
    dims = value_info.type.tensor_type.shape.dim
    return [d.dim_param if d.dim_param else d.dim_value for d in dims]


# ---------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------

def short_float(v: float) -> float:
    """At most 6 significant digits (the inputs are k/16, so they stay exact)."""
    return float(f"{float(v):.6g}")


def write_data(path: Path, x: np.ndarray, y: np.ndarray) -> None:
    doc = {
        "inputs": [[short_float(v) for v in row.reshape(-1)] for row in x],
        "labels": [int(v) for v in y],
    }
    path.write_text(json.dumps(doc, separators=(",", ":")) + "\n")


def accuracy(logits: np.ndarray, y: np.ndarray) -> float:
    return float((logits.argmax(axis=1) == y).mean())


# ---------------------------------------------------------------------------

def main() -> int:
    t0 = time.time()
    make_deterministic(SEED)
    x_train, x_test, y_train, y_test = load_data()
    print(f"data: train {x_train.shape}, test {x_test.shape}")

    # --- MLP -------------------------------------------------------------
    torch.manual_seed(SEED)
    mlp = MLP()
    train(mlp, x_train, y_train, epochs=60, lr=3e-3, batch_size=32, seed=SEED)
    mlp_torch = torch_logits(mlp, x_test)

    # --- CNN -------------------------------------------------------------
    torch.manual_seed(SEED)
    cnn = CNN()
    x_train_img = x_train.reshape(-1, 1, 8, 8)
    x_test_img = x_test.reshape(-1, 1, 8, 8)
    train(cnn, x_train_img, y_train, epochs=60, lr=5e-3, batch_size=32, seed=SEED)
    cnn_torch = torch_logits(cnn, x_test_img)

    # --- export ----------------------------------------------------------
    mlp_path = HERE / "mlp.onnx"
    cnn_path = HERE / "cnn.onnx"
    export_onnx(mlp, torch.zeros(1, 64), mlp_path, dynamic_batch=False, fold_constants=True)
    # Constant folding off: in eval mode the exporter's folding pass would fuse the
    # BatchNorm into the first Conv, and the point of this model is a real
    # BatchNormalization node for the downstream tool to fold.
    export_onnx(cnn, torch.zeros(1, 1, 8, 8), cnn_path, dynamic_batch=True, fold_constants=False)

    cnn_ops = [n.op_type for n in onnx.load(str(cnn_path)).graph.node]
    assert "BatchNormalization" in cnn_ops, cnn_ops

    # --- onnxruntime vs torch on the whole test split -----------------------
    mlp_ort = ort_logits(mlp_path, x_test, batch_one=True)
    cnn_ort = ort_logits(cnn_path, x_test_img, batch_one=False)  # all 450 in one batch
    # ... and one sample at a time, the shape the downstream tool pins ([1, 1, 8, 8]).
    cnn_ort_one = ort_logits(cnn_path, x_test_img, batch_one=True)
    assert (cnn_ort_one.argmax(1) == cnn_ort.argmax(1)).all(), "cnn: batch-1 and batch-450 runs disagree"
    results = {}
    for name, model, path, lt, lo, shape in [
        ("mlp", mlp, mlp_path, mlp_torch, mlp_ort, [1, 64]),
        ("cnn", cnn, cnn_path, cnn_torch, cnn_ort, ["batch", 1, 8, 8]),
    ]:
        mismatches = int((lt.argmax(1) != lo.argmax(1)).sum())
        assert mismatches == 0, f"{name}: onnxruntime argmax differs from torch on {mismatches} samples"
        acc_t, acc_o = accuracy(lt, y_test), accuracy(lo, y_test)
        assert acc_t >= MIN_ACCURACY, f"{name}: torch test accuracy {acc_t:.4f} < {MIN_ACCURACY}"
        assert acc_o >= MIN_ACCURACY, f"{name}: onnxruntime test accuracy {acc_o:.4f} < {MIN_ACCURACY}"
        graph = onnx.load(str(path)).graph
        results[name] = {
            "file": path.name,
            "parameters": count_params(model),
            "onnx_input_shape": stored_shape(graph.input[0]),
            "onnx_output_shape": stored_shape(graph.output[0]),
            "test_accuracy_torch": round(acc_t, 6),
            "test_accuracy_onnxruntime": round(acc_o, 6),
            "onnxruntime_argmax_matches_torch": f"{len(lt) - mismatches}/{len(lt)}",
            "max_abs_logit_diff_onnxruntime_vs_torch": float(f"{np.abs(lt - lo).max():.3g}"),
        }
        print(f"{name}: {count_params(model)} params, test accuracy torch {acc_t:.4f}, "
              f"onnxruntime {acc_o:.4f}, ops {[n.op_type for n in graph.node]}")
    assert results["cnn"]["parameters"] < 5000

    # --- data files --------------------------------------------------------
    rng = np.random.default_rng(SEED)
    cal_idx = np.sort(rng.choice(len(x_train), size=CALIBRATION_SIZE, replace=False))
    write_data(HERE / "calibration.json", x_train[cal_idx], y_train[cal_idx])
    write_data(HERE / "test.json", x_test, y_test)

    metrics = {
        "data": {
            "source": "sklearn.datasets.load_digits (8x8 images, pixels 0..16, scaled by 1/16)",
            "split": f"train_test_split(test_size={TEST_SIZE}, random_state=0, stratify=labels)",
            "train_samples": int(len(x_train)),
            "test_samples": int(len(x_test)),
            "calibration_samples": CALIBRATION_SIZE,
        },
        "opset": OPSET,
        "exporter": "torch.onnx.export, TorchScript-based (dynamo=False)",
        "versions": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "scikit-learn": sklearn.__version__,
            "torch": torch.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": ort.__version__,
        },
        "models": results,
    }
    (HERE / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")

    for f in ["mlp.onnx", "cnn.onnx", "calibration.json", "test.json", "metrics.json"]:
        print(f"wrote {f} ({(HERE / f).stat().st_size} bytes)")
    print(f"done in {time.time() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
