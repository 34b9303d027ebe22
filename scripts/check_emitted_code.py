#!/usr/bin/env python3
"""Runs the code `jacscope explain --emit numpy|jax|torch` writes and compares it with jacscope.

For every case of tests/fixtures/emit_cases.json (the expressions whose emitted code is kept as
insta snapshots) and every framework that is installed, this script
  1. draws the inputs with NumPy (seed 0; `positive` and `shifted` variables as the case says)
     and saves them as .npy files,
  2. runs `jacscope dense EXPR -l NAME=FILE.npy ... -o J.npy` and `jacscope explain ... --emit F`,
  3. runs the snippet's `jacobian(**inputs)` and compares it with J.npy, entry by entry, to
     |a - b| <= 1e-12 * (1 + |b|),
  4. runs the snippet's `entry(index, **inputs)` at a few indices (the largest |J| entry, a
     structural zero if there is one, and random ones) and compares each with
     `jacscope at --index ... --json` to the same tolerance.

It creates a virtual environment (default target/emit-venv) with numpy, jax and the CPU build of
torch when it is missing, then runs itself inside it. A framework that fails to install is
reported as skipped, never as passed. Exit status 0 only if every check that ran passed.

Usage: scripts/check_emitted_code.py [--jacscope target/debug/jacscope] [--venv DIR]
                                     [--frameworks numpy,jax,torch] [--case NAME ...]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "fixtures" / "emit_cases.json"
TOLERANCE = 1e-12
FRAMEWORKS = ["numpy", "jax", "torch"]
INSTALL = {
    "numpy": [["numpy"]],
    "jax": [["jax"]],
    "torch": [["torch", "--index-url", "https://download.pytorch.org/whl/cpu"]],
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jacscope", default=str(ROOT / "target" / "debug" / "jacscope"))
    parser.add_argument("--venv", default=str(ROOT / "target" / "emit-venv"))
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    parser.add_argument("--case", action="append", help="run only these cases (by name)")
    return parser.parse_args()


def ensure_venv(args):
    """Creates the virtual environment if needed and re-runs this script inside it."""
    venv = Path(args.venv).resolve()
    python = venv / "bin" / "python"
    if Path(sys.prefix).resolve() == venv:
        return
    if not python.exists():
        print(f"creating {venv}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        for framework in args.frameworks.split(","):
            for packages in INSTALL[framework]:
                print(f"pip install {' '.join(packages)}", flush=True)
                done = subprocess.run([str(python), "-m", "pip", "install", "-q", *packages])
                if done.returncode != 0:
                    print(f"could not install {framework}; its checks will be skipped")
    os.execv(str(python), [str(python), __file__, *sys.argv[1:]])


def draw_inputs(case, directory):
    """The case's variables as float64 arrays, drawn with NumPy and saved as .npy files."""
    import numpy as np

    rng = np.random.default_rng(0)
    kinds = case.get("inputs", {})
    inputs, loads = {}, []
    for spec in case["shapes"]:
        name, shape = spec.split("=")
        dims = () if shape == "scalar" else tuple(int(d) for d in shape.split("x"))
        value = rng.standard_normal(dims)
        kind = kinds.get(name, "normal")
        if kind == "positive":
            value = np.abs(value) + 0.5
        elif kind == "shifted":
            value = value + 4.0 * np.eye(dims[0])
        path = Path(directory) / f"{name}.npy"
        np.save(path, value)
        inputs[name] = value
        loads += ["-l", f"{name}={path}"]
    return inputs, loads


def jacscope(binary, args):
    done = subprocess.run([binary, *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"jacscope {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def as_numpy(value):
    import numpy as np

    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def close(a, b):
    import numpy as np

    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= TOLERANCE * (1 + np.abs(b))))


def indices_to_check(dense):
    """The largest |J| entry, a zero entry if there is one, and three random entries."""
    import numpy as np

    rng = np.random.default_rng(1)
    picks = [np.unravel_index(np.argmax(np.abs(dense)), dense.shape)]
    zeros = np.argwhere(dense == 0)
    if len(zeros):
        picks.append(tuple(zeros[len(zeros) // 2]))
    for _ in range(3):
        picks.append(tuple(int(rng.integers(d)) for d in dense.shape))
    return [tuple(int(i) for i in p) for p in picks]


def check_case(binary, case, frameworks, available):
    """Runs one case in every framework; returns a list of (framework, verdict, detail)."""
    import numpy as np

    results = []
    with tempfile.TemporaryDirectory() as directory:
        inputs, loads = draw_inputs(case, directory)
        problem = [case["expr"], *loads]
        if "wrt" in case:
            problem += ["--wrt", case["wrt"]]
        path = Path(directory) / "J.npy"
        jacscope(binary, ["dense", *problem, "-o", str(path)])
        dense = np.load(path)
        picks = indices_to_check(dense)
        at = {}
        for index in picks:
            text = ",".join(map(str, index))
            at[index] = json.loads(jacscope(binary, ["at", *problem, "--index", text, "--json"]))["value"]
        for framework in frameworks:
            if framework not in available:
                results.append((framework, "skipped", "not installed"))
                continue
            code = jacscope(binary, ["explain", *problem, "--emit", framework])
            namespace = {}
            exec(compile(code, f"<{case['name']} {framework}>", "exec"), namespace)
            got = as_numpy(namespace["jacobian"](**inputs))
            if not close(got, dense):
                diff = np.max(np.abs(got - dense)) if got.shape == dense.shape else "shape"
                results.append((framework, "FAIL", f"jacobian differs from dense ({diff}; shapes {got.shape} {dense.shape})"))
                continue
            bad = []
            for index in picks:
                value = namespace["entry"](index, **inputs)
                if not isinstance(value, float) or not close(np.asarray(value), np.asarray(at[index])):
                    bad.append(f"entry{index} = {value!r}, jacscope at: {at[index]!r}")
            if bad:
                results.append((framework, "FAIL", "; ".join(bad)))
            else:
                results.append((framework, "ok", f"J {dense.shape} and {len(picks)} entries"))
    return results


def main():
    args = parse_args()
    ensure_venv(args)
    import importlib.util

    frameworks = args.frameworks.split(",")
    available = {f for f in frameworks if importlib.util.find_spec(f) is not None}
    cases = json.loads(CASES.read_text())["cases"]
    if args.case:
        cases = [c for c in cases if c["name"] in args.case]
    failures = skipped = passed = 0
    for case in cases:
        try:
            results = check_case(args.jacscope, case, frameworks, available)
        except Exception as error:  # a crash of one case is a failure, reported, not fatal
            results = [("all", "FAIL", f"{type(error).__name__}: {error}")]
        for framework, verdict, detail in results:
            print(f"{verdict:7} {case['name']:20} {framework:6} {case['expr']}: {detail}", flush=True)
            failures += verdict == "FAIL"
            skipped += verdict == "skipped"
            passed += verdict == "ok"
    print(f"{passed} passed, {failures} failed, {skipped} skipped "
          f"({len(cases)} expressions x {len(frameworks)} frameworks; tolerance {TOLERANCE})")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
