"""Train LeNet-5 on scikit-learn's digits upscaled to 28x28 and write what the zkml-eth walkthrough consumes.

NOT MNIST: the images are scikit-learn's 8x8 digits (pixels 0..16) scaled to [0, 1], upscaled to 28x28
with bilinear interpolation and rounded to 3 decimals. They have MNIST's shape, not its content.

Outputs (next to this file):
  model.onnx        classic LeNet-5, fixed input shape [1, 1, 28, 28], opset 13
  ezkl-lenet.onnx   the LeNet of EZKL's mnist_classifier notebook (no padding, sigmoid, a 256-input dense
                    head), exported as that notebook exports it (opset 12, batch from x.size(0))
  calibration.json  100 training samples (for quantization ranges)
  test.json         the first 100 test samples with labels (for fidelity)
  metrics.json      accuracies under torch and onnxruntime, parameter count, versions

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
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

HERE = Path(__file__).resolve().parent
SEED = 0
OPSET = 13
SIZE = 28
TEST_SIZE = 450
CALIBRATION_SIZE = 100
TEST_FILE_SIZE = 100
DECIMALS = 3
MIN_ACCURACY = 0.95
# EZKL's notebook exports at opset 12. Sigmoid layers learn more slowly than ReLU ones on 1,347 images,
# hence more epochs than LeNet-5's 40.
EZKL_OPSET = 12
EZKL_EPOCHS = 80
EZKL_LR = 3e-3


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

def upscale(x64: np.ndarray) -> np.ndarray:
    """[N, 64] in [0, 1] -> [N, 1, 28, 28] in [0, 1], bilinear, rounded to DECIMALS decimals.

    Bilinear weights are a convex combination, so the values stay in [0, 1]; the clip only
    guards against float rounding. The rounding makes the JSON files exact: the model is
    trained and tested on precisely the numbers written to calibration.json and test.json.
    """
    img = torch.from_numpy(x64.reshape(-1, 1, 8, 8))
    up = F.interpolate(img, size=(SIZE, SIZE), mode="bilinear", align_corners=False)
    up = np.clip(np.round(up.numpy().astype(np.float64), DECIMALS), 0.0, 1.0)
    return up.astype(np.float32)


def load_data():
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)  # [1797, 64], values k/16 in [0, 1]
    y = digits.target.astype(np.int64)
    # The same split as examples/digits, so the test digits are the same 450.
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=TEST_SIZE, random_state=0, stratify=y
    )
    x_train, x_test = upscale(x_train), upscale(x_test)
    assert x_test.shape == (TEST_SIZE, 1, SIZE, SIZE), x_test.shape
    return x_train, x_test, y_train, y_test


# ---------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------

class LeNet5(nn.Module):
    """Classic LeNet-5 (ReLU and average pooling). Input [N, 1, 28, 28]."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)  # 28x28 -> 28x28
        self.relu1 = nn.ReLU()
        self.pool1 = nn.AvgPool2d(2)                 # -> 14x14
        self.conv2 = nn.Conv2d(6, 16, 5)             # -> 10x10
        self.relu2 = nn.ReLU()
        self.pool2 = nn.AvgPool2d(2)                 # -> 5x5
        self.flatten = nn.Flatten()                  # -> 400
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(120, 84)
        self.relu4 = nn.ReLU()
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        x = self.flatten(x)
        x = self.relu3(self.fc1(x))
        x = self.relu4(self.fc2(x))
        return self.fc3(x)


class EzklLeNet(nn.Module):
    """The LeNet of EZKL's examples/notebooks/mnist_classifier.ipynb: no padding, sigmoid after every
    layer but the last, average pooling, and a 256-input dense head. Input [N, 1, 28, 28].

    Kept as that notebook writes it (including the flatten through x.view(x.size(0), -1)) so that
    `zkml-eth bench` measures the file a user of EZKL's example would bring.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)   # 28x28 -> 24x24
        self.conv2 = nn.Conv2d(6, 16, 5)  # 12x12 -> 8x8
        self.fc1 = nn.Linear(16 * 4 * 4, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.avg_pool2d(torch.sigmoid(self.conv1(x)), (2, 2))
        x = F.avg_pool2d(torch.sigmoid(self.conv2(x)), (2, 2))
        x = x.view(x.size(0), -1)
        x = torch.sigmoid(self.fc1(x))
        x = torch.sigmoid(self.fc2(x))
        return self.fc3(x)


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

def export_onnx(model: nn.Module, example: torch.Tensor, path: Path, opset: int) -> None:
    model.eval()
    kwargs = dict(
        input_names=["input"],
        output_names=["logits"],
        opset_version=opset,
        export_params=True,
        do_constant_folding=True,
    )
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


def ort_logits(path: Path, x: np.ndarray) -> np.ndarray:
    """Fixed [1, ...] input: one sample per run."""
    sess = ort_session(path)
    return np.concatenate([sess.run(["logits"], {"input": x[i:i + 1]})[0] for i in range(len(x))])


def stored_shape(value_info) -> list:
    dims = value_info.type.tensor_type.shape.dim
    return [d.dim_param if d.dim_param else d.dim_value for d in dims]


# ---------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------

def short_float(v: float) -> float:
    """The inputs are rounded to 3 decimals; print them that way (float32 -> shortest decimal)."""
    return float(f"{float(v):.{DECIMALS}f}")


def write_data(path: Path, x: np.ndarray, y: np.ndarray) -> None:
    doc = {
        "inputs": [[short_float(v) for v in row.reshape(-1)] for row in x],
        "labels": [int(v) for v in y],
    }
    path.write_text(json.dumps(doc, separators=(",", ":")) + "\n")


def read_data(path: Path, shape: tuple) -> tuple[np.ndarray, np.ndarray]:
    doc = json.loads(path.read_text())
    x = np.asarray(doc["inputs"], dtype=np.float32).reshape((-1,) + shape)
    y = np.asarray(doc["labels"], dtype=np.int64)
    return x, y


def accuracy(logits: np.ndarray, y: np.ndarray) -> float:
    return float((logits.argmax(axis=1) == y).mean())


# ---------------------------------------------------------------------------

def export_and_check(model: nn.Module, path: Path, opset: int, x_test: np.ndarray, y_test: np.ndarray,
                     xf: np.ndarray, yf: np.ndarray) -> dict:
    """Exports `model` to `path`, checks onnxruntime against torch on the whole test split (the same argmax
    everywhere, both accuracies at least MIN_ACCURACY) and returns its entry of metrics.json (without "file")."""
    lt = torch_logits(model, x_test)
    export_onnx(model, torch.zeros(1, 1, SIZE, SIZE), path, opset=opset)
    lo = ort_logits(path, x_test)
    mismatches = int((lt.argmax(1) != lo.argmax(1)).sum())
    assert mismatches == 0, f"{path.name}: onnxruntime argmax differs from torch on {mismatches} samples"
    acc_t, acc_o = accuracy(lt, y_test), accuracy(lo, y_test)
    assert acc_t >= MIN_ACCURACY, f"{path.name}: torch test accuracy {acc_t:.4f} < {MIN_ACCURACY}"
    assert acc_o >= MIN_ACCURACY, f"{path.name}: onnxruntime test accuracy {acc_o:.4f} < {MIN_ACCURACY}"
    graph = onnx.load(str(path)).graph
    return {
        "parameters": count_params(model),
        "onnx_input_shape": stored_shape(graph.input[0]),
        "onnx_output_shape": stored_shape(graph.output[0]),
        "onnx_ops": [n.op_type for n in graph.node],
        "test_accuracy_torch": round(acc_t, 6),
        "test_accuracy_onnxruntime": round(acc_o, 6),
        "test_json_accuracy_torch": round(accuracy(lt[:TEST_FILE_SIZE], y_test[:TEST_FILE_SIZE]), 6),
        # test.json read back, as a downstream tool reads it, through onnxruntime.
        "test_json_accuracy_onnxruntime": round(accuracy(ort_logits(path, xf), yf), 6),
        "onnxruntime_argmax_matches_torch": f"{len(lt) - mismatches}/{len(lt)}",
        "max_abs_logit_diff_onnxruntime_vs_torch": float(f"{np.abs(lt - lo).max():.3g}"),
        "max_abs_logit_test": float(f"{np.abs(lt).max():.4g}"),
    }


def main() -> int:
    t0 = time.time()
    make_deterministic(SEED)
    x_train, x_test, y_train, y_test = load_data()
    print(f"data: train {x_train.shape}, test {x_test.shape}")

    # --- data files (they do not depend on the models) -------------------------
    rng = np.random.default_rng(SEED)
    cal_idx = np.sort(rng.choice(len(x_train), size=CALIBRATION_SIZE, replace=False))
    write_data(HERE / "calibration.json", x_train[cal_idx], y_train[cal_idx])
    write_data(HERE / "test.json", x_test[:TEST_FILE_SIZE], y_test[:TEST_FILE_SIZE])
    xf, yf = read_data(HERE / "test.json", (1, SIZE, SIZE))
    assert np.array_equal(xf, x_test[:TEST_FILE_SIZE]), "test.json does not round-trip exactly"

    # --- LeNet-5 -----------------------------------------------------------------
    torch.manual_seed(SEED)
    model = LeNet5()
    t_train = time.time()
    train(model, x_train, y_train, epochs=40, lr=2e-3, batch_size=32, seed=SEED)
    train_seconds = time.time() - t_train
    path = HERE / "model.onnx"
    lenet5 = {"file": path.name, **export_and_check(model, path, OPSET, x_test, y_test, xf, yf)}

    # --- EZKL's notebook LeNet, on the same data ------------------------------
    # Its own seed, after LeNet-5: model.onnx does not depend on it.
    torch.manual_seed(SEED)
    ezkl_model = EzklLeNet()
    t_ezkl = time.time()
    train(ezkl_model, x_train, y_train, epochs=EZKL_EPOCHS, lr=EZKL_LR, batch_size=32, seed=SEED)
    ezkl_seconds = time.time() - t_ezkl
    ezkl_path = HERE / "ezkl-lenet.onnx"
    ezkl_lenet = {
        "file": ezkl_path.name,
        "architecture": "EZKL examples/notebooks/mnist_classifier.ipynb (LeNet: no padding, sigmoid, avg pool, 256-input head)",
        "opset": EZKL_OPSET,
        **export_and_check(ezkl_model, ezkl_path, EZKL_OPSET, x_test, y_test, xf, yf),
    }

    metrics = {
        "data": {
            "source": ("sklearn.datasets.load_digits (8x8 images, pixels 0..16, scaled by 1/16), "
                       "upscaled to 28x28 with torch.nn.functional.interpolate(mode='bilinear', "
                       "align_corners=False) and rounded to 3 decimals"),
            "not_mnist": ("These are scikit-learn's 8x8 digits upscaled to MNIST's shape; "
                          "they are not MNIST and accuracies here are not MNIST accuracies."),
            "split": f"train_test_split(test_size={TEST_SIZE}, random_state=0, stratify=labels), as examples/digits",
            "train_samples": int(len(x_train)),
            "test_samples": int(len(x_test)),
            "calibration_samples": CALIBRATION_SIZE,
            "calibration_file": "calibration.json: 100 samples drawn with numpy default_rng(0) from the training split",
            "test_file": f"test.json: the first {TEST_FILE_SIZE} of the {TEST_SIZE} test samples",
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
        "models": {"lenet5": lenet5, "ezkl_lenet": ezkl_lenet},
    }
    (HERE / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")

    for name, entry, seconds in [("lenet5", lenet5, train_seconds), ("ezkl-lenet", ezkl_lenet, ezkl_seconds)]:
        print(f"{name}: {entry['parameters']} params, trained in {seconds:.1f} s, test accuracy torch "
              f"{entry['test_accuracy_torch']:.4f}, onnxruntime {entry['test_accuracy_onnxruntime']:.4f} "
              f"(test.json: {entry['test_json_accuracy_onnxruntime']:.4f}), ops {entry['onnx_ops']}")
    for f in ["model.onnx", "ezkl-lenet.onnx", "calibration.json", "test.json", "metrics.json"]:
        print(f"wrote {f} ({(HERE / f).stat().st_size} bytes)")
    print(f"done in {time.time() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
