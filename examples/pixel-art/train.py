"""Train the pixel-art decoder and write everything the zkml-eth walkthrough consumes.

prompt (class 0..9, four signed latent bytes) -> 8x8 grayscale image, trained on scikit-learn's digits.

Outputs (next to this file unless said):
  model.onnx        decoder MLP 14 -> 48 -> 48 -> 64 (Gemm, Relu, Gemm, Relu, Gemm), input [1, 14]
  calibration.json  200 training prompts as model inputs (for quantization ranges)
  test.json         the 450 test images' prompts as model inputs, labelled with their classes (for fidelity)
  metrics.json      reconstruction error, recognisability, latent statistics, versions
  grid.png          classes x latent settings, drawn with the pixel rule of docs/encodings.md
  ../../test/fixtures/encodings/pixel-art.json   the encoding fixture (encoding.py writes it)

Deterministic (fixed seeds, one BLAS thread, L-BFGS) and offline: scikit-learn ships the digits data set
inside its package.

Run:  python -m venv .venv && .venv/bin/pip install -r requirements.txt && .venv/bin/python train.py
"""

from __future__ import annotations

import os

# One BLAS/OpenMP thread, set before numpy loads: the float reduction order (and so every bit of the
# weights) does not depend on how many cores the machine has.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import sklearn  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPRegressor  # noqa: E402
from sklearn.svm import SVC  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import encoding  # noqa: E402

SEED = 0
OPSET = 13
IR_VERSION = 7  # what the digits example's PyTorch export stores; every ONNX reader here takes it
TEST_SIZE = 450
CALIBRATION_SIZE = 200
HIDDEN = (48, 48)
ALPHA = 0.03  # L2 penalty
MAX_ITER = 5000
FIXTURE = HERE.parents[1] / "test" / "fixtures" / "encodings" / "pixel-art.json"
RANDOM_PROMPTS = 1000  # prompts with random latents for the recognisability check
MIN_RECOGNISED = 0.95
MAX_ORT_DIFF = 1e-5


# ---------------------------------------------------------------------------
# Data and latents
# ---------------------------------------------------------------------------

def load_data():
    digits = load_digits()
    x = digits.data / 16.0  # [1797, 64], values k/16 in [0, 1]
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=TEST_SIZE, random_state=0, stratify=y
    )
    assert x_test.shape == (TEST_SIZE, 64), x_test.shape
    return x_train, x_test, y_train, y_test


def round_half_away(v: np.ndarray) -> np.ndarray:
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


class Latents:
    """Four standardized principal components of an image minus its class mean, in 1/16 sigma steps."""

    def __init__(self, x_train: np.ndarray, y_train: np.ndarray) -> None:
        self.class_means = np.stack([x_train[y_train == c].mean(axis=0) for c in range(encoding.CLASSES)])
        self.pca = PCA(n_components=encoding.LATENTS, svd_solver="full").fit(x_train - self.class_means[y_train])
        self.std = self.pca.transform(x_train - self.class_means[y_train]).std(axis=0)  # population std

    def sigmas(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.pca.transform(x - self.class_means[y]) / self.std

    def bytes_of(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """z = clamp(round(16 * sigmas), -128, 127): what a prompt byte can hold."""
        return np.clip(round_half_away(16 * self.sigmas(x, y)), -128, 127).astype(np.int64)


def model_inputs(y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """One-hot class, then z / 16: the float inputs a prompt encodes (exact in binary)."""
    return np.hstack([np.eye(encoding.CLASSES)[y], z / 16.0])


def prompt_of(c: int, z) -> bytes:
    return encoding.encode_prompt(int(c), [int(v) for v in z])


# ---------------------------------------------------------------------------
# Model and ONNX
# ---------------------------------------------------------------------------

def train_decoder(x_in: np.ndarray, target: np.ndarray) -> MLPRegressor:
    model = MLPRegressor(
        hidden_layer_sizes=HIDDEN,
        activation="relu",
        solver="lbfgs",
        alpha=ALPHA,
        max_iter=MAX_ITER,
        random_state=SEED,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # stopping at max_iter is a failure here
        model.fit(x_in, target)
    assert model.out_activation_ == "identity", model.out_activation_
    return model


def export_onnx(model: MLPRegressor, path: Path) -> None:
    """Gemm (transB=1, as PyTorch writes Linear) and Relu nodes, weights as float32 initializers."""
    n_layers = len(model.coefs_)
    inits, nodes = [], []
    x = "input"
    for i, (w, b) in enumerate(zip(model.coefs_, model.intercepts_)):
        wn, bn = f"fc{i + 1}.weight", f"fc{i + 1}.bias"
        inits.append(numpy_helper.from_array(np.ascontiguousarray(w.T, dtype=np.float32), wn))  # [out, in]
        inits.append(numpy_helper.from_array(b.astype(np.float32), bn))
        last = i == n_layers - 1
        y = "image" if last else f"fc{i + 1}"
        nodes.append(helper.make_node("Gemm", [x, wn, bn], [y], name=f"/fc{i + 1}/Gemm",
                                      alpha=1.0, beta=1.0, transB=1))
        if not last:
            nodes.append(helper.make_node("Relu", [y], [f"relu{i + 1}"], name=f"/relu{i + 1}/Relu"))
            y = f"relu{i + 1}"
        x = y
    graph = helper.make_graph(
        nodes,
        "pixel_art_decoder",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, encoding.INPUTS])],
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, encoding.OUTPUTS])],
        initializer=inits,
    )
    m = helper.make_model(graph, producer_name="zkml-eth examples/pixel-art train.py",
                          opset_imports=[helper.make_opsetid("", OPSET)])
    m.ir_version = IR_VERSION
    onnx.checker.check_model(m, full_check=True)
    path.write_bytes(m.SerializeToString())


def ort_run(path: Path, x: np.ndarray) -> np.ndarray:
    """onnxruntime on the fixed [1, 14] input, one sample per run."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
    x = x.astype(np.float32)
    return np.concatenate([sess.run(["image"], {"input": x[i:i + 1]})[0] for i in range(len(x))])


# ---------------------------------------------------------------------------
# Pixels and pictures
# ---------------------------------------------------------------------------

def pixel_rule(out: np.ndarray) -> np.ndarray:
    """docs/encodings.md: q = float output at 2^12 rounded half away from zero, v = clamp(rdiv(q*255, 2^12))."""
    out = np.asarray(out)
    flat = [encoding.pixels([encoding.quantize(float(v)) for v in row]) for row in out.reshape(-1, encoding.OUTPUTS)]
    return np.array(flat, dtype=np.uint8).reshape(out.shape)


def draw_grid(path: Path, model_path: Path, columns: list[tuple[str, np.ndarray]]) -> None:
    classes = np.arange(encoding.CLASSES)
    n_rows, n_cols = len(classes), len(columns)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(0.82 * n_cols + 0.5, 0.82 * n_rows + 0.7), dpi=100)
    fig.patch.set_facecolor("white")
    for j, (title, z) in enumerate(columns):
        out = ort_run(model_path, model_inputs(classes, np.tile(z, (n_rows, 1))))
        px = pixel_rule(out)
        for c in classes:
            ax = axes[c, j]
            ax.imshow(px[c].reshape(8, 8), cmap="gray", vmin=0, vmax=255, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            for s in ax.spines.values():
                s.set_visible(False)
            if c == 0:
                ax.set_title(title, fontsize=7)
            if j == 0:
                ax.set_ylabel(str(c), rotation=0, fontsize=9, labelpad=8, va="center")
    fig.subplots_adjust(left=0.06, right=0.99, top=0.93, bottom=0.01, wspace=0.08, hspace=0.08)
    fig.savefig(path, format="png", metadata={"Software": None}, pil_kwargs={"optimize": True})
    plt.close(fig)


# ---------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------

def write_data(path: Path, x: np.ndarray, classes: np.ndarray) -> None:
    # The inputs are k/16 values, exact in binary, so repr writes them exactly. The labels are the classes
    # the prompts ask for (what `zkml-eth fidelity --judge` compares a classifier's verdict with).
    doc = {
        "inputs": [[float(v) for v in row] for row in x],
        "labels": [int(v) for v in classes],
    }
    path.write_text(json.dumps(doc, separators=(",", ":")) + "\n")


def r6(v: float) -> float:
    return float(f"{float(v):.6g}")


# ---------------------------------------------------------------------------

def main() -> int:
    t0 = time.time()
    x_train, x_test, y_train, y_test = load_data()
    print(f"data: train {x_train.shape}, test {x_test.shape}")

    lat = Latents(x_train, y_train)
    z_train, z_test = lat.bytes_of(x_train, y_train), lat.bytes_of(x_test, y_test)
    clipped = int((np.abs(16 * lat.sigmas(x_train, y_train)) > 127.5).sum())
    print(f"latents: std {lat.std.round(4).tolist()}, max |z| train {np.abs(z_train).max(0).tolist()}, "
          f"test {np.abs(z_test).max(0).tolist()}")
    in_train, in_test = model_inputs(y_train, z_train), model_inputs(y_test, z_test)

    # --- decoder -----------------------------------------------------------
    model = train_decoder(in_train, x_train)
    dims = [encoding.INPUTS, *HIDDEN, encoding.OUTPUTS]
    macs = sum(a * b for a, b in zip(dims, dims[1:]))
    params = macs + sum(dims[1:])
    sk_train, sk_test = model.predict(in_train), model.predict(in_test)
    mse = lambda a, b: float(((a - b) ** 2).mean())  # noqa: E731
    print(f"decoder {dims}: {params} params, {macs} MACs, {model.n_iter_} L-BFGS iterations, "
          f"MSE train {mse(sk_train, x_train):.5f} test {mse(sk_test, x_test):.5f}")

    model_path = HERE / "model.onnx"
    export_onnx(model, model_path)
    ort_test = ort_run(model_path, in_test)
    ort_diff = float(np.abs(ort_test - sk_test).max())
    assert ort_diff < MAX_ORT_DIFF, f"onnxruntime differs from scikit-learn by {ort_diff}"
    ops = [n.op_type for n in onnx.load(str(model_path)).graph.node]

    # Baselines, to read the reconstruction error against.
    base_mean = lat.class_means[y_test]
    base_pca = lat.pca.inverse_transform(z_test / 16.0 * lat.std) + lat.class_means[y_test]

    # --- recognisability --------------------------------------------------------
    # A classifier of real digits (RBF SVM, scikit-learn defaults) reads the generated images as drawn:
    # the pixel rule's brightness v / 255 on its [0, 1] input scale.
    clf = SVC().fit(x_train, y_train)
    real_acc = float(clf.score(x_test, y_test))
    gen_test = pixel_rule(ort_test) / 255.0
    rec_test = float((clf.predict(gen_test) == y_test).mean())
    classes = np.arange(encoding.CLASSES)
    zero_px = pixel_rule(ort_run(model_path, model_inputs(classes, np.zeros((10, 4))))) / 255.0
    rec_zero = int((clf.predict(zero_px) == classes).sum())
    rng = np.random.default_rng(SEED)
    rand_c = rng.integers(0, encoding.CLASSES, RANDOM_PROMPTS)
    rand_z = np.clip(round_half_away(16 * rng.standard_normal((RANDOM_PROMPTS, encoding.LATENTS))), -128, 127)
    rand_px = pixel_rule(ort_run(model_path, model_inputs(rand_c, rand_z))) / 255.0
    rec_rand = float((clf.predict(rand_px) == rand_c).mean())
    print(f"recognised: real test digits {real_acc:.4f}; generated from test prompts {rec_test:.4f}, "
          f"zero latents {rec_zero}/10, random latents {rec_rand:.4f}")
    assert rec_test >= MIN_RECOGNISED and rec_rand >= MIN_RECOGNISED, "generated digits are not recognisable"
    pix_err = np.abs(pixel_rule(ort_test).astype(int) - np.rint(x_test * 255).astype(int))

    # --- data files ---------------------------------------------------------------
    cal_idx = np.sort(np.random.default_rng(SEED).choice(len(x_train), size=CALIBRATION_SIZE, replace=False))
    write_data(HERE / "calibration.json", in_train[cal_idx], y_train[cal_idx])
    write_data(HERE / "test.json", in_test, y_test)

    # --- encoding fixture: real prompts through the float model (onnxruntime) ---------------
    first = {c: int(np.flatnonzero(y_test == c)[0]) for c in classes}
    real = [("class 0, zero latents", prompt_of(0, [0, 0, 0, 0]))]
    for c in (1, 4, 7):
        real.append((f"class {c}, latents of test image {first[c]}", prompt_of(c, z_test[first[c]])))
    real.append(("class 5, extreme latents (beyond the calibrated range)", prompt_of(5, [127, -128, 64, -65])))
    real_in = np.array([encoding.prompt_floats(p) for _, p in real])
    real_out = ort_run(model_path, real_in)
    real_cases = [(n, p, [encoding.quantize(float(v)) for v in o]) for (n, p), o in zip(real, real_out)]
    encoding.write_fixture(FIXTURE, real_cases)
    problems = encoding.check_fixture(json.loads(FIXTURE.read_text()))
    assert not problems, problems

    # --- picture -----------------------------------------------------------------
    sd2 = 32  # 2 sigma
    picks = [first[2], first[8]]
    columns = [
        ("z = 0", np.zeros(4)),
        ("PC1 +2σ", np.array([sd2, 0, 0, 0])),
        ("PC1 −2σ", np.array([-sd2, 0, 0, 0])),
        ("PC2 +2σ", np.array([0, sd2, 0, 0])),
        ("PC2 −2σ", np.array([0, -sd2, 0, 0])),
    ]
    columns += [(f"test #{i}", z_test[i]) for i in picks]
    columns += [(f"random {k + 1}", rand_z[k]) for k in range(2)]
    draw_grid(HERE / "grid.png", model_path, columns)

    metrics = {
        "data": {
            "source": "sklearn.datasets.load_digits (8x8 images, pixels 0..16, scaled by 1/16)",
            "split": f"train_test_split(test_size={TEST_SIZE}, random_state=0, stratify=labels)",
            "train_samples": int(len(x_train)),
            "test_samples": int(len(x_test)),
            "calibration_samples": CALIBRATION_SIZE,
        },
        "latents": {
            "method": "PCA(4, svd_solver='full') of training images minus their class mean; each component "
                      "divided by its training std; z = clamp(round_half_away(16 * sigmas), -128, 127)",
            "std": [r6(v) for v in lat.std],
            "explained_variance_ratio": [r6(v) for v in lat.pca.explained_variance_ratio_],
            "max_abs_z_train": np.abs(z_train).max(0).tolist(),
            "max_abs_z_test": np.abs(z_test).max(0).tolist(),
            "clamped_train_values": clipped,
            "calibration_max_abs_z": np.abs(z_train[cal_idx]).max(0).tolist(),
        },
        "model": {
            "file": "model.onnx",
            "layers": " -> ".join(str(d) for d in dims) + " (ReLU hidden, identity output)",
            "parameters": params,
            "multiply_accumulates": macs,
            "trainer": f"sklearn MLPRegressor(hidden_layer_sizes={HIDDEN}, solver='lbfgs', alpha={ALPHA}, "
                       f"max_iter={MAX_ITER}, random_state={SEED})",
            "iterations": int(model.n_iter_),
            "onnx_input": {"name": "input", "shape": [1, encoding.INPUTS]},
            "onnx_output": {"name": "image", "shape": [1, encoding.OUTPUTS]},
            "onnx_ops": ops,
            "max_abs_diff_onnxruntime_vs_sklearn": float(f"{ort_diff:.3g}"),
        },
        "reconstruction_mse": {
            "units": "pixel / 16 (0..1), mean over pixels and images",
            "train": r6(mse(sk_train, x_train)),
            "test": r6(mse(sk_test, x_test)),
            "baseline_class_mean_test": r6(mse(base_mean, x_test)),
            "baseline_class_mean_plus_4_components_test": r6(mse(base_pca, x_test)),
            "test_mean_abs_pixel_error_0_255": r6(pix_err.mean()),
        },
        "recognisability": {
            "classifier": "sklearn SVC() (RBF, defaults) trained on the real training digits",
            "classifier_real_test_accuracy": r6(real_acc),
            "generated_from_test_prompts": r6(rec_test),
            "generated_zero_latents": f"{rec_zero}/10",
            "generated_random_latents": r6(rec_rand),
            "random_latents": f"{RANDOM_PROMPTS} prompts, class uniform, z = round(16 * N(0, 1)) (seed {SEED})",
            "images_read_as": "the pixel rule of docs/encodings.md on the float model's outputs, v / 255",
        },
        "opset": OPSET,
        "ir_version": IR_VERSION,
        "exporter": "onnx.helper (hand-built graph)",
        "versions": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "scikit-learn": sklearn.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": ort.__version__,
            "matplotlib": matplotlib.__version__,
        },
    }
    (HERE / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n")

    for f in ["model.onnx", "calibration.json", "test.json", "metrics.json", "grid.png"]:
        print(f"wrote {f} ({(HERE / f).stat().st_size} bytes)")
    print(f"wrote {FIXTURE.relative_to(HERE.parents[1])} ({FIXTURE.stat().st_size} bytes)")
    print(f"done in {time.time() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
