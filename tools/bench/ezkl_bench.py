#!/usr/bin/env python3
"""Benchmark EZKL on an ONNX model, for `zkml-eth bench` to print beside its own figures.

Usage:
    python ezkl_bench.py --onnx MODEL.onnx --data DATA.json [--calibration CAL.json] \
        --workdir DIR [--sample 0] [--variable NAME=VALUE ...]

DATA.json and CAL.json are zkml-eth's data files: {"inputs": [[floats...], ...], "labels": [...]},
each input flattened row-major. The script writes EZKL's {"input_data": [[...]]} files itself.

Pipeline, with EZKL's defaults everywhere ("EZKL with its default calibration"):
gen_settings (default run args) -> calibrate_settings (default target, "resources", on CAL.json,
or on DATA.json without --calibration) -> compile_circuit -> gen_srs (an UNSAFE local SRS: no
network here for get_srs) -> setup (keygen) -> gen_witness (on sample --sample of DATA.json)
-> prove -> verify.

The one departure from the defaults: EZKL's default run args bind only the symbolic dimension
"batch_size" (variables=[("batch_size", 1)]). Any other symbolic input dimension of the ONNX
graph (e.g. "batch") is bound to 1 as well, since a circuit needs fixed shapes. --variable
overrides that. The output says which variables were used.

Every phase runs in a fresh child process (this script with --phase NAME), so that the peak RSS
of keygen and of proving are measured separately: the parent reaps each child with os.wait4 and
reads that child's own ru_maxrss. Each child times only the EZKL call with time.perf_counter.

After the proof verifies, an untimed "evm" phase renders EZKL's Solidity verifier
(create_evm_verifier, not reusable) and the proof's calldata (encode_evm_calldata), for the caller
to compile and run in an EVM; the report names both files, or says why they could not be made.

Output: one JSON object on stdout; progress and EZKL's own printing go to stderr.
Exit codes: 0 ok; 1 a phase failed (stderr names it) or the proof did not verify; 2 bad
arguments or data; 3 ezkl cannot be imported (stdout then has {"tool": "ezkl", "available": false}).
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

EXPECTED_VERSION = "23.0.5"
SRS_NOTE = "unsafe local gen_srs (random toxic waste known to this machine; benchmarking only)"

# Phases in pipeline order. Each runs in its own child process.
PHASES = ("settings", "calibrate", "compile", "srs", "setup", "witness", "prove", "verify")

# File names inside --workdir.
FILES = {
    "run_args": "run_args.json",
    "input": "input.json",
    "calibration": "calibration.json",
    "settings": "settings.json",
    "compiled": "network.ezkl",
    "vk": "vk.key",
    "pk": "pk.key",
    "witness": "witness.json",
    "proof": "proof.json",
    "verifier_sol": "Verifier.sol",
    "verifier_abi": "Verifier.abi",
    "calldata": "calldata.bytes",
    "calldata_hex": "calldata.hex",
}

# BN254 base field modulus; the VK stores points as raw Montgomery-form coordinates.
BN254_P = 21888242871839275222246405745257275088696311157297823662689037894645226208583


class PhaseError(Exception):
    """A pipeline phase failed; the message names the phase."""


def log(msg: str) -> None:
    """Print a progress line to stderr."""
    print(f"[ezkl_bench] {msg}", file=sys.stderr, flush=True)


def wpath(workdir: Path, key: str) -> Path:
    """Path of one of the pipeline's files inside the work directory."""
    return workdir / FILES[key]


def srs_path(workdir: Path, logrows: int) -> Path:
    """Path of the local SRS for `logrows`; kept in the work directory and reused across runs."""
    return workdir / f"kzg-k{logrows}.srs"


def read_json(path: Path):
    with open(path) as f:
        return json.load(f)


def write_json(path: Path, obj) -> None:
    with open(path, "w") as f:
        json.dump(obj, f)


# --------------------------------------------------------------------------------------------
# Child side: one phase, one EZKL call.
# --------------------------------------------------------------------------------------------


def call_ezkl(fn, *args, **kwargs):
    """Call an EZKL function and return its result, awaiting it if it is awaitable.

    Some EZKL releases return asyncio futures from calibrate_settings, get_srs, gen_witness or
    prove (pyo3-asyncio futures need a running event loop at call time), others are plain
    synchronous functions (23.0.5: all the ones used here are). Calling inside a coroutine run
    by asyncio.run handles both.
    """

    async def run():
        result = fn(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    return asyncio.run(run())


def vm_hwm_kb() -> int | None:
    """Peak resident set size of this process so far (VmHWM, kB), or None without /proc."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def run_phase(phase: str, workdir: Path, onnx_path: Path) -> None:
    """Run one phase in this (child) process and write workdir/phase-<phase>.json.

    Raises on any EZKL error or on a False result from a call that must succeed.
    """
    import ezkl  # the parent already checked that it imports

    settings = wpath(workdir, "settings")
    compiled = wpath(workdir, "compiled")
    vk, pk = wpath(workdir, "vk"), wpath(workdir, "pk")
    srs = None
    if phase not in ("settings", "calibrate", "compile"):
        srs = srs_path(workdir, read_json(settings)["run_args"]["logrows"])

    if phase == "settings":
        run_args = ezkl.PyRunArgs()
        variables = read_json(wpath(workdir, "run_args"))["variables"]
        run_args.variables = [(name, int(value)) for name, value in variables]
        call = (ezkl.gen_settings, (str(onnx_path), str(settings)), {"py_run_args": run_args})
    elif phase == "calibrate":
        # Default target ("resources"), default lookup safety margin, scales and rebase multipliers.
        call = (ezkl.calibrate_settings,
                (str(wpath(workdir, "calibration")), str(onnx_path), str(settings)), {})
    elif phase == "compile":
        call = (ezkl.compile_circuit, (str(onnx_path), str(compiled), str(settings)), {})
    elif phase == "srs":
        logrows = read_json(settings)["run_args"]["logrows"]
        call = (ezkl.gen_srs, (str(srs), logrows), {})
    elif phase == "setup":
        call = (ezkl.setup, (str(compiled), str(vk), str(pk)), {"srs_path": str(srs)})
    elif phase == "witness":
        call = (ezkl.gen_witness,
                (str(wpath(workdir, "input")), str(compiled), str(wpath(workdir, "witness"))),
                {"vk_path": str(vk), "srs_path": str(srs)})
    elif phase == "prove":
        call = (ezkl.prove, (str(wpath(workdir, "witness")), str(compiled), str(pk)),
                {"proof_path": str(wpath(workdir, "proof")), "srs_path": str(srs)})
    elif phase == "verify":
        call = (ezkl.verify, (str(wpath(workdir, "proof")), str(settings), str(vk)),
                {"srs_path": str(srs)})
    elif phase == "evm":
        async def render_evm():
            async def settle(result):
                return await result if inspect.isawaitable(result) else result

            sol = wpath(workdir, "verifier_sol")
            sol.unlink(missing_ok=True)
            try:
                ok = await settle(ezkl.create_evm_verifier(
                    str(vk), str(settings), str(sol), str(wpath(workdir, "verifier_abi")),
                    srs_path=str(srs), reusable=False))
            except RuntimeError as e:
                # EZKL renders the Solidity, then fetches solc over the network to write the ABI; offline
                # that second step fails, and the caller compiles the Solidity with its own solc.
                if not sol.exists():
                    raise
                log(f"phase evm: {sol.name} written; EZKL's own compile step failed ({e})")
                ok = True
            if ok is False:
                raise RuntimeError("ezkl.create_evm_verifier returned False")
            calldata = await settle(ezkl.encode_evm_calldata(
                str(wpath(workdir, "proof")), str(wpath(workdir, "calldata")), None))
            wpath(workdir, "calldata_hex").write_text("0x" + bytes(calldata).hex() + "\n")
            return True

        call = (render_evm, (), {})
    else:
        raise ValueError(f"unknown phase {phase!r}")

    fn, args, kwargs = call
    hwm_before = vm_hwm_kb()
    start = time.perf_counter()
    result = call_ezkl(fn, *args, **kwargs)
    seconds = time.perf_counter() - start
    hwm_after = vm_hwm_kb()

    # gen_srs returns None; gen_witness and prove return dicts; the rest return bools.
    if phase != "verify" and result is False:
        raise RuntimeError(f"ezkl.{fn.__name__} returned False")
    record = {
        "phase": phase,
        "seconds": seconds,
        "ok": bool(result) if isinstance(result, bool) else True,
        "vm_hwm_before_call_kb": hwm_before,
        "vm_hwm_kb": hwm_after,
        "ru_maxrss_self_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    write_json(workdir / f"phase-{phase}.json", record)


# --------------------------------------------------------------------------------------------
# Parent side: data conversion, child processes, report.
# --------------------------------------------------------------------------------------------


def spawn_phase(phase: str, args: argparse.Namespace) -> dict:
    """Run `phase` in a fresh child process; return its record plus the child's peak RSS.

    The child's stdout goes to our stderr (EZKL prints tables to stdout).

    Peak RSS: the child's own VmHWM, read from /proc at the end of the phase. The rusage of
    os.wait4 (that child's alone, unlike RUSAGE_CHILDREN, which is the maximum over all children
    reaped so far) is kept as a fallback: on Linux its ru_maxrss has a floor of this parent's
    RSS, which the child carried until its exec, so it overstates small phases.
    """
    record_path = args.workdir / f"phase-{phase}.json"
    record_path.unlink(missing_ok=True)
    cmd = [sys.executable, os.path.abspath(__file__), "--phase", phase,
           "--onnx", str(args.onnx), "--workdir", str(args.workdir)]
    log(f"phase {phase} ...")
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=sys.stderr.fileno())
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0 or not record_path.exists():
        how = (f"killed by signal {-proc.returncode}" if proc.returncode < 0
               else f"exit code {proc.returncode}")
        raise PhaseError(f"phase {phase} failed ({how}); see the messages above")
    record = read_json(record_path)
    record["child_ru_maxrss_kb"] = usage.ru_maxrss  # kB on Linux
    record["peak_rss_kb"] = record.get("vm_hwm_kb") or usage.ru_maxrss
    log(f"phase {phase}: {record['seconds']:.3f} s, peak RSS {record['peak_rss_kb'] / 1024:.1f} MB")
    return record


def load_samples(path: Path) -> tuple[list[list[float]], list]:
    """Read a zkml-eth data file; return (inputs, labels). Raises ValueError if malformed."""
    data = read_json(path)
    inputs = data.get("inputs") if isinstance(data, dict) else None
    if not isinstance(inputs, list) or not inputs or not all(isinstance(r, list) for r in inputs):
        raise ValueError(f"{path}: expected {{\"inputs\": [[floats...], ...]}} with at least one row")
    width = len(inputs[0])
    if any(len(r) != width for r in inputs):
        raise ValueError(f"{path}: rows of different lengths")
    labels = data.get("labels") or []
    return inputs, labels


def onnx_input_dims(onnx_path: Path) -> list[list[int | str]] | None:
    """Dimensions of the graph's real inputs (ints, or the names of symbolic dimensions).

    Returns None if the onnx package is missing or cannot read the file (EZKL then reports it).
    """
    try:
        import onnx
    except ImportError:
        log("onnx is not installed: symbolic input dimensions cannot be bound automatically")
        return None
    try:
        model = onnx.load(str(onnx_path), load_external_data=False)
    except Exception as e:  # noqa: BLE001 - leave the diagnosis to EZKL's gen_settings
        log(f"warning: onnx cannot read {onnx_path}: {type(e).__name__}: {e}")
        return None
    initializers = {init.name for init in model.graph.initializer}
    dims = []
    for value in model.graph.input:
        if value.name in initializers:
            continue
        shape = []
        for d in value.type.tensor_type.shape.dim:
            if d.HasField("dim_value"):
                shape.append(d.dim_value)
            elif d.HasField("dim_param"):
                shape.append(d.dim_param)
            else:
                shape.append("?")
        dims.append(shape)
    return dims


def parse_variables(specs: list[str]) -> list[tuple[str, int]]:
    """Parse --variable NAME=VALUE arguments."""
    out = []
    for spec in specs:
        name, sep, value = spec.partition("=")
        if not sep or not name or not value.isdigit():
            raise ValueError(f"--variable {spec!r}: expected NAME=VALUE with an integer VALUE")
        out.append((name, int(value)))
    return out


def choose_variables(default: list[tuple[str, int]], explicit: list[tuple[str, int]],
                     input_dims: list | None) -> list[tuple[str, int]]:
    """EZKL's default variables, plus every other symbolic input dimension bound to 1.

    Explicit --variable values replace or extend the result.
    """
    variables = dict(default)
    for dims in input_dims or []:
        for d in dims:
            if isinstance(d, str) and d != "?" and d not in variables:
                variables[d] = 1
    variables.update(dict(explicit))
    return list(variables.items())


def prepare_inputs(args: argparse.Namespace, variables: list[tuple[str, int]],
                   input_dims: list | None) -> dict:
    """Write EZKL's input and calibration files; return facts about the data for the report."""
    inputs, labels = load_samples(args.data)
    if not 0 <= args.sample < len(inputs):
        raise ValueError(f"--sample {args.sample}: {args.data} has {len(inputs)} inputs")
    cal_path = args.calibration or args.data
    cal_inputs, _ = load_samples(cal_path)

    if input_dims is not None:
        if len(input_dims) != 1:
            raise ValueError(f"{args.onnx}: {len(input_dims)} graph inputs; only one is supported")
        bound = dict(variables)
        expected = math.prod(d if isinstance(d, int) else bound.get(d, 0) for d in input_dims[0])
        for path, rows in ((args.data, inputs), (cal_path, cal_inputs)):
            if len(rows[0]) != expected:
                raise ValueError(f"{path}: inputs have {len(rows[0])} values, the model input "
                                 f"{input_dims[0]} (with {bound}) has {expected}")

    # One graph input: input_data holds one flat list. For calibration, the samples are
    # concatenated into one list; EZKL splits it into batches of the model's input size.
    write_json(wpath(args.workdir, "input"), {"input_data": [inputs[args.sample]]})
    write_json(wpath(args.workdir, "calibration"),
               {"input_data": [[x for row in cal_inputs for x in row]]})
    label = labels[args.sample] if args.sample < len(labels) else None
    return {"calibration_file": str(cal_path), "calibration_samples": len(cal_inputs),
            "label": label}


def vk_layout(vk_file: Path) -> dict | None:
    """Column counts recorded in an EZKL (halo2, RawBytes) verifying key, or None if unparsable.

    Layout: version byte, k byte, compress_selectors byte, u32 LE number of fixed commitments,
    the fixed commitments (64 bytes each: x, y in Montgomery form), the permutation commitments
    (one per equality-enabled column: advice, instance and fixed; their number is not stored,
    so points are read while they lie on BN254), then one bit vector of 2^k bits per selector.
    """
    data = vk_file.read_bytes()
    if len(data) < 7:
        return None
    k = data[1]
    n_fixed = int.from_bytes(data[3:7], "little")
    r_inv = pow(2 ** 256 % BN254_P, -1, BN254_P)

    def is_point(off: int) -> bool:
        x = int.from_bytes(data[off:off + 32], "little") * r_inv % BN254_P
        y = int.from_bytes(data[off + 32:off + 64], "little") * r_inv % BN254_P
        return (y * y - x * x * x - 3) % BN254_P == 0

    off = 7 + 64 * n_fixed
    if off > len(data):
        return None
    n_perm = 0
    while off + 64 <= len(data) and is_point(off):
        n_perm += 1
        off += 64
    selector_bytes = (1 << k) // 8
    rest = len(data) - off
    if selector_bytes == 0 or rest % selector_bytes != 0:
        return None
    return {"k": k, "compress_selectors": bool(data[2]), "fixed_columns": n_fixed,
            "permutation_columns": n_perm, "selectors": rest // selector_bytes}


def proof_size(proof: dict) -> tuple[int, str]:
    """Length in bytes of the raw proof, and which field of proof.json it was read from.

    EZKL 23.x writes "proof" as a list of byte values and "hex_proof" as "0x"-prefixed hex of the
    same bytes; older releases wrote "proof" as a hex string. When both are there they must agree.
    """
    raw = proof.get("proof")
    hex_proof = proof.get("hex_proof")
    hex_len = None
    if isinstance(hex_proof, str):
        digits = hex_proof[2:] if hex_proof.startswith("0x") else hex_proof
        hex_len = len(bytes.fromhex(digits))
    if isinstance(raw, list):
        if hex_len is not None and hex_len != len(raw):
            raise PhaseError(f"proof.json: \"proof\" has {len(raw)} bytes, \"hex_proof\" {hex_len}")
        return len(raw), "proof"
    if isinstance(raw, str):
        digits = raw[2:] if raw.startswith("0x") else raw
        return len(bytes.fromhex(digits)), "proof"
    if hex_len is not None:
        return hex_len, "hex_proof"
    raise PhaseError("proof.json has neither \"proof\" nor \"hex_proof\"")


def argmax_output(proof: dict) -> int | None:
    """Argmax of the first model output as EZKL's proof reports it (rescaled to floats)."""
    try:
        outputs = proof["pretty_public_inputs"]["rescaled_outputs"][0]
        values = [float(v) for v in outputs]
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return max(range(len(values)), key=values.__getitem__) if values else None


def mb(kb: int | None) -> float | None:
    return None if kb is None else round(kb / 1024, 1)


def build_report(args, ezkl_version, variables, data_facts, records) -> dict:
    """Assemble the JSON report from the settings, keys, proof and the phase records."""
    settings = read_json(wpath(args.workdir, "settings"))
    run_args = settings["run_args"]
    proof = read_json(wpath(args.workdir, "proof"))
    nbytes, field = proof_size(proof)
    vk = vk_layout(wpath(args.workdir, "vk"))
    verify_ok = bool(records["verify"]["ok"])

    def secs(phase):
        return round(records[phase]["seconds"], 4)

    return {
        "tool": "ezkl",
        "available": True,
        "version": ezkl_version,
        "model": str(args.onnx),
        "sample": args.sample,
        "label": data_facts["label"],
        "output_argmax": argmax_output(proof),
        "k": run_args["logrows"],
        "rows": settings.get("num_rows"),
        "columns": {
            # From settings.json: EZKL does not record its advice column count there.
            "num_inner_cols": run_args.get("num_inner_cols"),
            "total_assignments": settings.get("total_assignments"),
            "total_const_size": settings.get("total_const_size"),
            "total_dynamic_col_size": settings.get("total_dynamic_col_size"),
            "total_shuffle_col_size": settings.get("total_shuffle_col_size"),
            "required_lookups": settings.get("required_lookups"),
            "required_range_checks": settings.get("required_range_checks"),
            # From the verifying key (null if its layout was not recognised).
            "vk_fixed_columns": vk and vk["fixed_columns"],
            "vk_permutation_columns": vk and vk["permutation_columns"],
            "vk_selectors": vk and vk["selectors"],
        },
        "settings": {
            "logrows": run_args["logrows"],
            "num_rows": settings.get("num_rows"),
            "lookup_range": run_args.get("lookup_range"),
            "input_scale": run_args.get("input_scale"),
            "param_scale": run_args.get("param_scale"),
            "scale_rebase_multiplier": run_args.get("scale_rebase_multiplier"),
            "model_input_scales": settings.get("model_input_scales"),
            "model_output_scales": settings.get("model_output_scales"),
            "input_visibility": run_args.get("input_visibility"),
            "param_visibility": run_args.get("param_visibility"),
            "output_visibility": run_args.get("output_visibility"),
            "check_mode": run_args.get("check_mode"),
            "decomp_base": run_args.get("decomp_base"),
            "decomp_legs": run_args.get("decomp_legs"),
            "variables": run_args.get("variables"),
            "model_instance_shapes": settings.get("model_instance_shapes"),
        },
        "calibration": {
            "target": "resources (EZKL default)",
            "file": data_facts["calibration_file"],
            "samples": data_facts["calibration_samples"],
        },
        "variables": [list(v) for v in variables],
        "gen_settings_s": secs("settings"),
        "calibrate_s": secs("calibrate"),
        "compile_s": secs("compile"),
        "srs_s": secs("srs") if "srs" in records else None,
        "keygen_s": secs("setup"),
        "witness_s": secs("witness"),
        "prove_s": secs("prove"),
        "verify_s": secs("verify"),
        "verify_ok": verify_ok,
        "proof_bytes": nbytes,
        "proof_bytes_field": field,
        "instances": sum(len(i) for i in proof.get("instances") or []),
        "pk_bytes": wpath(args.workdir, "pk").stat().st_size,
        "vk_bytes": wpath(args.workdir, "vk").stat().st_size,
        "peak_rss_keygen_mb": mb(records["setup"]["peak_rss_kb"]),
        "peak_rss_prove_mb": mb(records["prove"]["peak_rss_kb"]),
        "peak_rss_verify_mb": mb(records["verify"]["peak_rss_kb"]),
        # Peak RSS = VmHWM of the phase's own process, in MiB; it includes the interpreter and
        # the loaded ezkl module, whose size before the EZKL call is rss_baseline_mb.
        "peak_rss_source": "VmHWM" if records["prove"].get("vm_hwm_kb") else "wait4 ru_maxrss",
        "rss_baseline_mb": mb(records["prove"].get("vm_hwm_before_call_kb")),
        "cpus": os.cpu_count(),
        "srs": SRS_NOTE,
    }


def run_pipeline(args: argparse.Namespace, ezkl) -> tuple[dict, int]:
    """Run all phases, each in a child process; return (report, exit code)."""
    args.workdir.mkdir(parents=True, exist_ok=True)
    input_dims = onnx_input_dims(args.onnx)
    default_vars = [(n, int(v)) for n, v in ezkl.PyRunArgs().variables]
    variables = choose_variables(default_vars, parse_variables(args.variable), input_dims)
    if variables != default_vars:
        log(f"binding symbolic dimensions: variables={variables} (EZKL default {default_vars})")
    write_json(wpath(args.workdir, "run_args"), {"variables": variables})
    data_facts = prepare_inputs(args, variables, input_dims)

    records = {}
    for phase in PHASES:
        if phase == "srs":
            logrows = read_json(wpath(args.workdir, "settings"))["run_args"]["logrows"]
            srs = srs_path(args.workdir, logrows)
            if srs.exists() and not args.fresh_srs:
                log(f"phase srs: reusing {srs} (an unsafe local SRS made by gen_srs)")
                continue
            log(f"phase srs: no public SRS without a network: gen_srs k={logrows} (UNSAFE, local)")
        records[phase] = spawn_phase(phase, args)

    report = build_report(args, ezkl.__version__, variables, data_facts, records)
    if report["verify_ok"]:
        try:
            spawn_phase("evm", args)
            report["evm_verifier_sol"] = str(wpath(args.workdir, "verifier_sol"))
            report["evm_calldata_hex"] = str(wpath(args.workdir, "calldata_hex"))
        except PhaseError as e:
            report["evm_error"] = str(e)
    if not report["verify_ok"]:
        log("phase verify: ezkl.verify returned False: the proof did not verify")
        return report, 1
    return report, 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--onnx", type=Path, required=True, help="ONNX model")
    p.add_argument("--workdir", type=Path, required=True,
                   help="directory for EZKL's files (settings, keys, SRS, proof)")
    p.add_argument("--data", type=Path, help="zkml-eth data file; --sample picks the proved input")
    p.add_argument("--calibration", type=Path,
                   help="zkml-eth data file for calibrate_settings (default: --data)")
    p.add_argument("--sample", type=int, default=0, help="index of the proved input (default 0)")
    p.add_argument("--variable", action="append", default=[], metavar="NAME=VALUE",
                   help="bind a symbolic input dimension (default: every one to 1)")
    p.add_argument("--fresh-srs", action="store_true",
                   help="regenerate the local SRS even if the work directory has one for this k")
    p.add_argument("--phase", choices=PHASES + ("evm",), help=argparse.SUPPRESS)  # internal: child mode
    args = p.parse_args(argv)
    if args.phase is None and args.data is None:
        p.error("--data is required")
    args.onnx = args.onnx.resolve()
    args.workdir = args.workdir.resolve()
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)

    if args.phase is not None:  # child process: one phase
        try:
            run_phase(args.phase, args.workdir, args.onnx)
        except Exception as e:  # noqa: BLE001 - report any EZKL error with its phase
            print(f"[ezkl_bench] phase {args.phase} failed: {type(e).__name__}: {e}",
                  file=sys.stderr, flush=True)
            return 1
        except BaseException as e:  # pyo3's PanicException derives from BaseException
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
            print(f"[ezkl_bench] phase {args.phase} failed: EZKL panicked: {e}",
                  file=sys.stderr, flush=True)
            return 1
        return 0

    # Parent: keep the real stdout for the one JSON object; anything else printed goes to stderr.
    sys.stdout.flush()
    json_out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)

    def emit(obj) -> None:
        json_out.write(json.dumps(obj) + "\n")
        json_out.flush()

    try:
        import ezkl
    except Exception as e:  # noqa: BLE001 - ImportError, or a broken native module
        emit({"tool": "ezkl", "available": False, "reason": f"{type(e).__name__}: {e}"})
        return 3
    version = getattr(ezkl, "__version__", "unknown")
    if version != EXPECTED_VERSION:
        log(f"warning: ezkl {version} is installed; this script was written for {EXPECTED_VERSION}")
    if not args.onnx.is_file():
        log(f"error: {args.onnx}: no such file")
        return 2

    try:
        report, code = run_pipeline(args, ezkl)
    except (ValueError, OSError) as e:
        log(f"error: {e}")
        return 2
    except PhaseError as e:
        log(f"error: {e}")
        return 1
    emit(report)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
