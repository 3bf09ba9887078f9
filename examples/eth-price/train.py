"""Train the eth-price model and write everything the zkml-eth walkthrough and the vault consume.

The model reads the last 12 hourly returns of an ETH/USD feed and scores five buckets of the next hour's
return: 0 strong sell, 1 sell, 2 hold, 3 buy, 4 strong buy (docs/encodings.md, "Price feed -> model
inputs").

Outputs (next to this file):
  feed.json         the synthetic hourly feed (data.py), Chainlink-style answers with 8 decimals
  model.onnx        Gemm(12->32) -> Relu -> Gemm(32->5), input `input` [1, 12], output `logits` [1, 5]
  calibration.json  200 training windows (for quantization ranges)
  test.json         every held-out window with its label (for fidelity and the backtest)
  metrics.json      split, thresholds, class balance, accuracy under scikit-learn and onnxruntime, versions
                    (backtest.py adds its "backtest" block)

Deterministic (fixed seeds, one BLAS thread) and offline. The inputs are exactly features.py's integers
x_i divided by 2^12, the values the proof's input section holds.

Run:  python -m venv .venv && .venv/bin/pip install -r requirements.txt && .venv/bin/python train.py
"""

from __future__ import annotations

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
from onnx import TensorProto, helper, numpy_helper
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import data  # noqa: E402
import features  # noqa: E402

SEED = 0
OPSET = 13
CALIBRATION_SIZE = 200
CALIBRATION_EXTREMES = 10  # of which: the training windows holding the largest returns
# The test period starts at this answer (hour 6,570 of 8,760: the last quarter of the year). Training
# windows and their labels use answers before it only, test windows answers from it on: no sample on
# either side sees the other's prices.
SPLIT = 6570
# Bucket edges in basis points of the next hour's return r = (p_{t+1} - p_t) / p_t, chosen from the
# training returns' 20/40/60/80% quantiles (-36.4, -10.6, +10.3, +38.4 bp) and rounded to symmetric
# round numbers:  r <= -40 strong sell | -40 < r <= -10 sell | -10 < r < 10 hold | 10 <= r < 40 buy |
# r >= 40 strong buy.
HOLD_BP = 10
STRONG_BP = 40
CLASSES = ["strong sell", "sell", "hold", "buy", "strong buy"]
HIDDEN = 32
EPOCHS = 50


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------

def bucket(p0: int, p1: int) -> int:
    """The label of a move p0 -> p1, in exact integers: compares (p1 - p0) * 10^4 with k * p0."""
    d = (p1 - p0) * 10_000
    if d <= -STRONG_BP * p0:
        return 0
    if d <= -HOLD_BP * p0:
        return 1
    if d < HOLD_BP * p0:
        return 2
    if d < STRONG_BP * p0:
        return 3
    return 4


def dataset(answers: list[int]):
    """Every window with a next answer: (x [n, 12] float32, y [n], t [n]) where t is the index of the
    window's last answer (the price the prediction is made at); the label is the move t -> t + 1."""
    rows = features.feed_inputs(answers)  # row k: the window ending at answer k + 12
    t = np.arange(features.WINDOW, len(answers) - 1)
    x = np.array(rows[: len(t)], dtype=np.int64)
    y = np.array([bucket(answers[i], answers[i + 1]) for i in t], dtype=np.int64)
    xf = (x / float(1 << features.SCALE)).astype(np.float32)  # exact: |x| < 2^24
    assert (xf.astype(np.float64) * (1 << features.SCALE) == x).all()
    return xf, y, t


def split(t: np.ndarray):
    """Boolean masks (train, test): training windows end 2 answers before SPLIT (their label's answer is
    SPLIT - 1 at most), test windows start at SPLIT."""
    train = t + 1 <= SPLIT - 1
    test = t - features.WINDOW >= SPLIT
    return train, test


def load():
    answers = features.load_feed(features.DEFAULT_FEED)
    x, y, t = dataset(answers)
    train, test = split(t)
    return answers, x, y, t, train, test


# ---------------------------------------------------------------------------
# Model and ONNX
# ---------------------------------------------------------------------------

def train_mlp(x: np.ndarray, y: np.ndarray) -> MLPClassifier:
    model = MLPClassifier(
        hidden_layer_sizes=(HIDDEN,),
        activation="relu",
        solver="adam",
        alpha=1e-3,
        batch_size=64,
        learning_rate_init=1e-3,
        max_iter=EPOCHS,  # a fixed number of epochs, as in examples/digits
        shuffle=True,  # within the training period only
        random_state=SEED,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # stopping at EPOCHS is the plan
        model.fit(x, y)
    assert model.n_iter_ == EPOCHS and model.out_activation_ == "softmax"
    return model


def sklearn_logits(model: MLPClassifier, x: np.ndarray) -> np.ndarray:
    """The pre-softmax scores (what the ONNX graph outputs)."""
    h = np.maximum(x @ model.coefs_[0] + model.intercepts_[0], 0)
    return h @ model.coefs_[1] + model.intercepts_[1]


def export_onnx(model: MLPClassifier, path: Path) -> None:
    """Gemm -> Relu -> Gemm, weights stored as PyTorch's Linear stores them ([out, in], transB = 1)."""
    w1, w2 = (np.ascontiguousarray(w.T.astype(np.float32)) for w in model.coefs_)
    b1, b2 = (b.astype(np.float32) for b in model.intercepts_)
    inits = [numpy_helper.from_array(a, name) for a, name in
             [(w1, "fc1.weight"), (b1, "fc1.bias"), (w2, "fc2.weight"), (b2, "fc2.bias")]]
    nodes = [
        helper.make_node("Gemm", ["input", "fc1.weight", "fc1.bias"], ["hidden"], name="fc1", transB=1),
        helper.make_node("Relu", ["hidden"], ["hidden_relu"], name="relu"),
        helper.make_node("Gemm", ["hidden_relu", "fc2.weight", "fc2.bias"], ["logits"], name="fc2", transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "eth_price_mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, features.WINDOW])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, len(CLASSES)])],
        initializer=inits,
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                          producer_name="zkml-eth examples/eth-price/train.py")
    m.ir_version = 8  # what opset 13 needs; keeps the file readable by older runtimes
    onnx.checker.check_model(m, full_check=True)
    path.write_bytes(m.SerializeToString(deterministic=True))
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)


def ort_logits(path: Path, x: np.ndarray) -> np.ndarray:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
    return np.concatenate([sess.run(["logits"], {"input": x[i:i + 1]})[0] for i in range(len(x))])


# ---------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------

def write_data(path: Path, x: np.ndarray, y: np.ndarray | None, t: np.ndarray, note: str) -> None:
    # x_i / 2^12 written with repr: the shortest string that reads back as the same float, which is
    # the exact dyadic value, so the CLI quantizes it back to x_i.
    doc = {"note": note, "inputs": [[float(v) for v in row] for row in x]}
    if y is not None:
        doc["labels"] = [int(v) for v in y]
    doc["at"] = [int(v) for v in t]
    path.write_text(json.dumps(doc, separators=(",", ":")) + "\n")


def counts(y: np.ndarray) -> dict:
    c = np.bincount(y, minlength=len(CLASSES))
    return {name: int(c[k]) for k, name in enumerate(CLASSES)}


def fractions(y: np.ndarray) -> dict:
    c = np.bincount(y, minlength=len(CLASSES))
    return {name: round(float(c[k]) / len(y), 4) for k, name in enumerate(CLASSES)}


# ---------------------------------------------------------------------------

def main() -> int:
    t0 = time.time()
    os.environ.setdefault("PYTHONHASHSEED", str(SEED))
    random.seed(SEED)
    np.random.seed(SEED)

    data.write_feed()  # deterministic: rewrites the committed feed.json byte for byte
    answers, x, y, t, train, test = load()
    x_train, y_train, t_train = x[train], y[train], t[train]
    x_test, y_test, t_test = x[test], y[test], t[test]
    r_train_bp = np.array([(answers[i + 1] - answers[i]) * 10_000 / answers[i] for i in t_train])
    quantiles = [round(float(q), 2) for q in np.quantile(r_train_bp, [0.2, 0.4, 0.6, 0.8])]
    print(f"data: {len(answers)} answers, train {x_train.shape} (windows ending at answers "
          f"{t_train[0]}..{t_train[-1]}), test {x_test.shape} ({t_test[0]}..{t_test[-1]})")
    print(f"training next-hour return quantiles 20/40/60/80%: {quantiles} bp; buckets at +-{HOLD_BP}, "
          f"+-{STRONG_BP} bp")

    # One BLAS thread: every bit of the weights is independent of the machine's core count.
    with threadpool_limits(limits=1):
        model = train_mlp(x_train, y_train)
        lt_train = sklearn_logits(model, x_train)
        lt_test = sklearn_logits(model, x_test)
    assert (lt_test.argmax(1) == model.predict(x_test)).all()

    path = HERE / "model.onnx"
    export_onnx(model, path)
    lo_test = ort_logits(path, x_test)
    mismatches = int((lo_test.argmax(1) != lt_test.argmax(1)).sum())
    assert mismatches == 0, f"onnxruntime argmax differs from scikit-learn on {mismatches} test samples"
    max_diff = float(np.abs(lo_test - lt_test).max())

    acc_train = float((lt_train.argmax(1) == y_train).mean())
    acc_test = float((lt_test.argmax(1) == y_test).mean())
    acc_ort = float((lo_test.argmax(1) == y_test).mean())
    pred = lt_test.argmax(1)
    majority = int(np.bincount(y_train, minlength=len(CLASSES)).argmax())
    up, down = pred >= 3, pred <= 1
    moves_up = y_test >= 3
    moves_down = y_test <= 1
    r_test = np.array([answers[i + 1] - answers[i] for i in t_test])
    confusion = np.zeros((len(CLASSES), len(CLASSES)), dtype=int)
    for a, b in zip(y_test, pred):
        confusion[a, b] += 1
    params = sum(w.size for w in model.coefs_) + sum(b.size for b in model.intercepts_)
    print(f"model: 12 -> {HIDDEN} -> 5, {params} parameters; accuracy train {acc_train:.4f}, "
          f"test {acc_test:.4f} (onnxruntime {acc_ort:.4f}); always-'{CLASSES[majority]}' "
          f"{float((y_test == majority).mean()):.4f}")

    # --- data files --------------------------------------------------------
    rng = np.random.default_rng(SEED)
    extremes = np.argsort(-np.abs(x_train).max(axis=1), kind="stable")[:CALIBRATION_EXTREMES]
    rest = np.setdiff1d(np.arange(len(x_train)), extremes)
    cal = np.sort(np.concatenate([extremes, rng.choice(rest, CALIBRATION_SIZE - CALIBRATION_EXTREMES,
                                                       replace=False)]))
    write_data(HERE / "calibration.json", x_train[cal], None, t_train[cal],
               f"{CALIBRATION_SIZE} training windows: the {CALIBRATION_EXTREMES} holding the largest "
               f"returns and {CALIBRATION_SIZE - CALIBRATION_EXTREMES} drawn with seed {SEED}; inputs are "
               "features.py's x_i / 2^12, at = index of the window's last answer in feed.json")
    write_data(HERE / "test.json", x_test, y_test, t_test,
               "every held-out window; labels 0 strong sell .. 4 strong buy (the next hour's move); "
               "at = index of the window's last answer in feed.json")

    metrics = {
        "data": {
            "source": "SYNTHETIC hourly ETH/USD feed from data.py (regime-switching GBM, GARCH(1,1), "
                      "Student-t shocks, seed 0); no real series with a usable licence ships in a "
                      "PyPI or npm package (README.md)",
            "answers": len(answers),
            "first_price_usd": answers[0] / 1e8,
            "last_price_usd": answers[-1] / 1e8,
            "features": "x_i = rdiv((p_i - p_{i-1}) * 100 * 2^12, p_{i-1}), i = 1..12; model input "
                        "x_i / 2^12 (docs/encodings.md)",
            "label": "bucket of the next hour's return (p_{t+1} - p_t) / p_t",
            "split": f"chronological: train = windows and labels on answers 0..{SPLIT - 1}, test = "
                     f"windows on answers {SPLIT}..{len(answers) - 1}",
            "train_samples": int(len(x_train)),
            "test_samples": int(len(x_test)),
            "calibration_samples": CALIBRATION_SIZE,
        },
        "classes": CLASSES,
        "thresholds_bp": {
            "strong_sell": f"r <= -{STRONG_BP}",
            "sell": f"-{STRONG_BP} < r <= -{HOLD_BP}",
            "hold": f"-{HOLD_BP} < r < {HOLD_BP}",
            "buy": f"{HOLD_BP} <= r < {STRONG_BP}",
            "strong_buy": f"r >= {STRONG_BP}",
            "training_return_quantiles_20_40_60_80_bp": quantiles,
        },
        "class_counts": {"train": counts(y_train), "test": counts(y_test)},
        "class_balance": {"train": fractions(y_train), "test": fractions(y_test)},
        "model": {
            "file": "model.onnx",
            "layers": f"Gemm(12->{HIDDEN}) -> Relu -> Gemm({HIDDEN}->5)",
            "trainer": f"sklearn MLPClassifier(hidden_layer_sizes=({HIDDEN},), relu, adam, alpha=1e-3, "
                       f"batch_size=64, lr=1e-3, {EPOCHS} epochs, random_state={SEED}), float32",
            "parameters": int(params),
            "onnx_input": {"name": "input", "shape": [1, features.WINDOW]},
            "onnx_output": {"name": "logits", "shape": [1, len(CLASSES)]},
            "opset": OPSET,
            "train_accuracy": round(acc_train, 6),
            "test_accuracy_sklearn": round(acc_test, 6),
            "test_accuracy_onnxruntime": round(acc_ort, 6),
            "onnxruntime_argmax_matches_sklearn": f"{len(x_test) - mismatches}/{len(x_test)}",
            "max_abs_logit_diff_onnxruntime_vs_sklearn": float(f"{max_diff:.3g}"),
            "baselines_test_accuracy": {
                f"always {CLASSES[majority]} (training majority)": round(float((y_test == majority).mean()), 6),
                "uniform guess": 0.2,
            },
            "test_predictions": counts(pred),
            "test_direction_hit_rate": {
                "predicted buy/strong buy, next hour up": f"{int((up & (r_test > 0)).sum())}/{int(up.sum())}",
                "predicted sell/strong sell, next hour down": f"{int((down & (r_test < 0)).sum())}/{int(down.sum())}",
                "recall of up buckets (buy, strong buy)": round(float((up & moves_up).sum() / moves_up.sum()), 4),
                "recall of down buckets (sell, strong sell)": round(float((down & moves_down).sum() / moves_down.sum()), 4),
            },
            "test_confusion_rows_true_cols_predicted": confusion.tolist(),
        },
        "calibration": {
            "max_abs_input": float(np.abs(x_train[cal]).max()),
            "max_abs_input_train": float(np.abs(x_train).max()),
            "max_abs_input_test": float(np.abs(x_test).max()),
        },
        "versions": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "scikit-learn": sklearn.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": ort.__version__,
        },
    }
    (HERE / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")

    for f in ["feed.json", "model.onnx", "calibration.json", "test.json", "metrics.json"]:
        print(f"wrote {f} ({(HERE / f).stat().st_size} bytes)")
    print("run backtest.py next: it adds the \"backtest\" block to metrics.json")
    print(f"done in {time.time() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
