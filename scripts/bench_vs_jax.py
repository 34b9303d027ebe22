#!/usr/bin/env python3
"""jacscope vs JAX on the same machine, in one table.

For X @ W.T, relu(X @ W.T + b) and softmax(X @ W.T, axis=1), differentiated with respect
to X, and the Hessian of sum(sigmoid(X @ W.T + b)) with respect to W, this runs the same
questions both ways and prints one table with ratios:

  * the whole J: JAX builds the dense tensor with jax.jacrev (and counts its nonzeros with
    count_nonzero); jacscope answers `jacscope stats` (structural and numeric nonzero
    counts) without building it;
  * the Hessian: jax.hessian builds it densely (and counts its nonzeros); jacscope answers
    `jacscope stats --wrt W,W` without building it;
  * one 2-D slice per pair of J's axes: JAX's cheapest way (one vjp for (k,l), one jvp for
    (i,j), a vmapped batch of the smaller kind for mixed pairs, all jitted); jacscope
    computes the slice and summarises it for a 100x200-block heat map;
  * at transformer size (X 2048x4096, W 4096x4096, b 4096; --transformer), where the
    dense J would be 256 TiB, jacscope only.

Every measurement runs in its own process; peak memory is that process's maximum resident
set size (getrusage via os.wait4). Both read the same inputs (an .npz of float32 standard
normal arrays); JAX computes in float32 (its default), jacscope in float64. The slice
timings of jacscope come from examples/bench_timings.rs (seeded inputs of the same shapes).

Usage (from the repository root, with JAX in a virtual environment):
    python -m venv .venv && .venv/bin/pip install jax
    cargo build --release --bin jacscope --example bench_timings
    .venv/bin/python scripts/bench_vs_jax.py            # default size, ~3 minutes, 16 GiB
    .venv/bin/python scripts/bench_vs_jax.py --quick    # small sizes, seconds
    .venv/bin/python scripts/bench_vs_jax.py --transformer   # add jacscope at transformer size
Options: --skip-dense (no jacrev: it needs ~12-16 GiB at the default size), --repeat N.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JACSCOPE = os.path.join(ROOT, "target", "release", "jacscope")
TIMINGS = os.path.join(ROOT, "target", "release", "examples", "bench_timings")

EXPRESSIONS = {
    "linear": "X @ W.T",
    "relu": "relu(X @ W.T + b)",
    "softmax": "softmax(X @ W.T, axis=1)",
}
# (batch, features out, features in), as in benches/common/mod.rs
SIZES = {
    "quick": (16, 128, 256),
    "default": (64, 512, 1024),
    "transformer": (2048, 4096, 4096),
}
# A second derivative: the Hessian of a loss with respect to W (`--wrt W,W`; for JAX
# jax.hessian), at sizes where JAX can hold the dense (out*in)^2 Hessian in memory:
# (batch, features out, features in).
HESSIAN_LOSS = "sum(sigmoid(X @ W.T + b))"
HESSIAN_SIZES = {
    "quick": (16, 16, 32),
    "default": (64, 64, 256),
}
# The index slices pass through (i, j, k, l): on the diagonal i = k, as in the benches.
AT = (1, 3, 1, 7)
PAIRS = ["ij", "ik", "il", "jk", "jl", "kl"]


# ----------------------------------------------------------------------------- workers
# Each runs in a fresh process and prints one JSON object.


def inputs_file(size, sizes=SIZES):
    """X, W and b for `size` of `sizes`, standard normal float32 (numpy, seed 0), in an
    .npz that both JAX and jacscope (-l FILE.npz) read, so that they count the same
    nonzeros."""
    batch, out, inp = sizes[size]
    path = os.path.join(ROOT, "target", f"bench_vs_jax_inputs_{batch}x{out}x{inp}.npz")
    if not os.path.exists(path):
        import numpy as np

        rng = np.random.default_rng(0)
        arrays = {
            "X": rng.standard_normal((batch, inp), dtype=np.float32),
            "W": rng.standard_normal((out, inp), dtype=np.float32),
            "b": rng.standard_normal((out,), dtype=np.float32),
        }
        np.savez(path, **arrays)
    return path


def jax_setup(size):
    import jax
    import jax.numpy as jnp
    import numpy as np

    with np.load(inputs_file(size)) as arrays:
        X, W, b = (jnp.asarray(arrays[name]) for name in ("X", "W", "b"))
    fs = {
        "linear": lambda X: X @ W.T,
        "relu": lambda X: jax.nn.relu(X @ W.T + b),
        "softmax": lambda X: jax.nn.softmax(X @ W.T, axis=1),
    }
    return jax, jnp, X, fs


def worker_dense(expr, size, count):
    """jax.jacrev of the layer (jitted; the time includes compiling), and optionally
    count_nonzero of the result."""
    jax, jnp, X, fs = jax_setup(size)
    start = time.perf_counter()
    J = jax.jit(jax.jacrev(fs[expr]))(X)
    J.block_until_ready()
    result = {"seconds": time.perf_counter() - start, "shape": list(J.shape)}
    if count:
        nonzeros = int(jnp.count_nonzero(J))
        result["seconds"] = time.perf_counter() - start
        result["nonzeros"] = nonzeros
    return result


def worker_hessian(size):
    """jax.hessian of HESSIAN_LOSS with respect to W (jitted; the time includes compiling)
    and count_nonzero of the dense Hessian."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    with np.load(inputs_file(size, HESSIAN_SIZES)) as arrays:
        X, W, b = (jnp.asarray(arrays[name]) for name in ("X", "W", "b"))

    def loss(W):
        return jnp.sum(jax.nn.sigmoid(X @ W.T + b))

    start = time.perf_counter()
    H = jax.jit(jax.hessian(loss))(W)
    H.block_until_ready()
    nonzeros = int(jnp.count_nonzero(H))
    return {"seconds": time.perf_counter() - start, "shape": list(H.shape), "nonzeros": nonzeros}


def worker_slices(expr, size, repeat):
    """The cheapest JAX way to each 2-D slice of J through AT, jitted, median of `repeat`
    calls after a warm-up call."""
    jax, jnp, X, fs = jax_setup(size)
    f = fs[expr]
    i, j, k, l = AT
    Y, vjp = jax.vjp(f, X)
    n_out, n_in = Y.shape, X.shape

    def e(shape, *index):
        return jnp.zeros(shape, jnp.float32).at[index].set(1.0)

    def one_hots(shape, free_axis, fixed):
        """A batch of one-hot arrays of `shape`, entry m with a 1 at m on `free_axis` and at
        `fixed` on the other axis."""
        n = shape[free_axis]
        m = jnp.arange(n)
        index = (m, m, fixed) if free_axis == 0 else (m, fixed, m)
        return jnp.zeros((n, *shape), jnp.float32).at[index].set(1.0)

    def vjp_rows(free_axis, fixed):
        """J[m, j, :, :] (or J[i, m, :, :]) for every m: a vmapped batch of vjps."""
        return jax.vmap(lambda ct: vjp(ct)[0]), one_hots(n_out, free_axis, fixed)

    def jvp_cols(free_axis, fixed):
        """J[:, :, m, l] (or J[:, :, k, m]) for every m: a vmapped batch of jvps."""
        return jax.vmap(lambda t: jax.jvp(f, (X,), (t,))[1]), one_hots(n_in, free_axis, fixed)

    # For each pair, the cheaper of a vjp batch (over the free output axis) and a jvp
    # batch (over the free input axis), as (function, argument, selection).
    plans = {
        "kl": (lambda ct: vjp(ct)[0], e(n_out, i, j), lambda r: r),
        "ij": (lambda t: jax.jvp(f, (X,), (t,))[1], e(n_in, k, l), lambda r: r),
    }
    mixed = {
        # pair: (free output axis, free input axis)
        "ik": ("i", "k"),
        "il": ("i", "l"),
        "jk": ("j", "k"),
        "jl": ("j", "l"),
    }
    for pair, (out_axis, in_axis) in mixed.items():
        n_vjp = n_out[0] if out_axis == "i" else n_out[1]
        n_jvp = n_in[0] if in_axis == "k" else n_in[1]
        if n_vjp <= n_jvp:
            fn, arg = vjp_rows(0, j) if out_axis == "i" else vjp_rows(1, i)
            # r[m, k', l'] = J[m, j, k', l'] or J[i, m, k', l']
            sel = (lambda r: r[:, :, l]) if in_axis == "k" else (lambda r: r[:, k, :])
        else:
            fn, arg = jvp_cols(0, l) if in_axis == "k" else jvp_cols(1, k)
            # r[m, i', j'] = J[i', j', m, l] or J[i', j', k, m]; rows along the output axis
            sel = (lambda r: r[:, :, j].T) if out_axis == "i" else (lambda r: r[:, i, :].T)
        plans[pair] = (fn, arg, sel)
    dense = jax.jacrev(f)(X) if size == "quick" else None
    expected = {
        "ij": lambda J: J[:, :, k, l],
        "ik": lambda J: J[:, j, :, l],
        "il": lambda J: J[:, j, k, :],
        "jk": lambda J: J[i, :, :, l],
        "jl": lambda J: J[i, :, k, :],
        "kl": lambda J: J[i, j, :, :],
    }
    result = {}
    for pair in PAIRS:
        fn, arg, sel = plans[pair]
        run = jax.jit(lambda a, fn=fn, sel=sel: sel(fn(a)))
        slice_ = run(arg).block_until_ready()
        if dense is not None:
            # At the quick size, check each slice against the dense J.
            assert jnp.allclose(slice_, expected[pair](dense), atol=1e-5), pair
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            run(arg).block_until_ready()
            times.append(time.perf_counter() - start)
        times.sort()
        result[pair] = times[len(times) // 2] * 1e3
    return {"slice_ms": result}


# ----------------------------------------------------------------------------- parent


def measure(argv, env=None):
    """Runs argv, returns (its JSON output, wall seconds, peak RSS in bytes)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, env=env)
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        return None, seconds, usage.ru_maxrss * 1024
    text = output.decode().strip()
    try:
        result = json.loads(text)  # one (pretty-printed) document
    except json.JSONDecodeError:
        result = json.loads(text.splitlines()[-1])  # the last line of a worker's output
    return result, seconds, usage.ru_maxrss * 1024


def jax_worker(kind, expr, size, extra):
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    argv = [sys.executable, os.path.abspath(__file__), "--worker", kind, expr, size, str(extra)]
    return measure(argv, env)


def shape_args(size):
    batch, out, inp = SIZES[size]
    return ["-s", f"X={batch}x{inp}", "-s", f"W={out}x{inp}", "-s", f"b={out}", "--wrt", "X"]


def load_args(size):
    return ["-l", inputs_file(size), "--wrt", "X"]


def fmt_time(seconds):
    if seconds is None:
        return "-"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1e3:.3g} ms"


def fmt_bytes(count):
    if count is None:
        return "-"
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:,.0f}x" if a / b >= 10 else f"{a / b:.1f}x"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    parser.add_argument("--skip-dense", action="store_true", help="no dense jacrev")
    parser.add_argument("--transformer", action="store_true", help="jacscope at transformer size")
    parser.add_argument("--repeat", type=int, default=21, help="timings per slice (median)")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, expr, size, extra = args.worker
        if kind == "dense":
            print(json.dumps(worker_dense(expr, size, extra == "1")))
        elif kind == "hessian":
            print(json.dumps(worker_hessian(size)))
        else:
            print(json.dumps(worker_slices(expr, size, int(extra))))
        return

    for path in (JACSCOPE, TIMINGS):
        if not os.path.exists(path):
            sys.exit(f"{path} is missing: cargo build --release --bin jacscope --example bench_timings")
    size = "quick" if args.quick else "default"
    rows = []  # (task, jax time, jax rss, jacscope time, jacscope rss)
    for expr, text in EXPRESSIONS.items():
        print(f"measuring {expr} at {size} size ...", file=sys.stderr)
        # jacscope: stats (structural + numeric counts) and the timings example.
        stats, stats_s, stats_rss = measure([JACSCOPE, "stats", text, *load_args(size), "--json"])
        structural, structural_s, structural_rss = measure(
            [JACSCOPE, "stats", text, *load_args(size), "--json", "--structural-only"]
        )
        timings, _, timings_rss = measure(
            [TIMINGS, "--expr", expr, "--size", size, "--repeat", str(args.repeat)]
        )
        # JAX: dense jacrev (+ count_nonzero), and slices.
        dense = count = (None, None, None)
        if not args.skip_dense:
            dense = jax_worker("dense", expr, size, 0)
            count = jax_worker("dense", expr, size, 1)
        slices, _, slices_rss = jax_worker("slices", expr, size, args.repeat)
        if count[0] and stats:
            print(
                f"{expr}: nonzeros: JAX {count[0]['nonzeros']} (float32), "
                f"jacscope {stats['nonzeros']} (float64)",
                file=sys.stderr,
            )
        rows.append((f"{expr}: whole J: jacrev vs build + first map",
                     dense[0] and dense[0]["seconds"], dense[2],
                     timings and timings["build_s"] + timings["slice_ms"]["kl"] / 1e3, timings_rss))
        rows.append((f"{expr}: nonzeros: jacrev+count_nonzero vs stats*",
                     count[0] and count[0]["seconds"], count[2], stats_s, stats_rss))
        rows.append((f"{expr}: stats --structural-only*",
                     None, None, structural_s, structural_rss))
        for pair in PAIRS:
            rows.append((f"{expr}: slice ({pair[0]},{pair[1]}) -> 100x200 map",
                         slices and slices["slice_ms"][pair] / 1e3, slices_rss,
                         timings and timings["slice_ms"][pair] / 1e3, timings_rss))
    print(f"measuring the Hessian of {HESSIAN_LOSS} at {size} size ...", file=sys.stderr)
    hessian_load = ["-l", inputs_file(size, HESSIAN_SIZES), "--wrt", "W,W"]
    stats, stats_s, stats_rss = measure([JACSCOPE, "stats", HESSIAN_LOSS, *hessian_load, "--json"])
    hessian = jax_worker("hessian", "-", size, 0)
    if hessian[0] and stats:
        print(
            f"hessian: nonzeros: JAX {hessian[0]['nonzeros']} (float32), "
            f"jacscope {stats['nonzeros']} (float64)",
            file=sys.stderr,
        )
    batch, out, inp = HESSIAN_SIZES[size]
    rows.append((f"Hessian by W ({out}x{inp}): jax.hessian+count_nonzero vs stats*",
                 hessian[0] and hessian[0]["seconds"], hessian[2], stats_s, stats_rss))
    if args.transformer:
        for expr, text in EXPRESSIONS.items():
            print(f"measuring {expr} at transformer size (jacscope only) ...", file=sys.stderr)
            timings, _, rss = measure([TIMINGS, "--expr", expr, "--size", "transformer", "--repeat", "5"])
            stats, stats_s, stats_rss = measure(
                [JACSCOPE, "stats", text, *shape_args("transformer"), "--json", "--structural-only"]
            )
            rows.append((f"transformer {expr}: build (inputs, needed products)",
                         None, None, timings and timings["build_s"], rss))
            rows.append((f"transformer {expr}: stats --structural-only*",
                         None, None, stats_s, stats_rss))
            if timings:
                worst = max(timings["slice_ms"], key=timings["slice_ms"].get)
                rows.append((f"transformer {expr}: slowest slice ({worst[0]},{worst[1]}) -> 100x200",
                             None, None, timings["slice_ms"][worst] / 1e3, None))

    batch, out, inp = SIZES[size]
    print(f"\njacscope vs JAX {jax_version()}: X {batch}x{inp}, W {out}x{inp}, b {out}; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{mem_total()} RAM\n")
    header = ("task", "JAX time", "JAX peak RSS", "jacscope time", "jacscope peak RSS", "speed-up", "memory")
    table = [header] + [
        (task, fmt_time(jt), fmt_bytes(jr), fmt_time(st), fmt_bytes(sr), ratio(jt, st), ratio(jr, sr))
        for task, jt, jr, st, sr in rows
    ]
    widths = [max(len(row[c]) for row in table) for c in range(len(header))]
    for n, row in enumerate(table):
        print("| " + " | ".join(cell.ljust(widths[c]) for c, cell in enumerate(row)) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    print("\n* the whole jacscope process (start, read the inputs, build, count), against JAX's "
          "work inside an already started Python. Peak RSS is always the whole process's.")


def jax_version():
    try:
        out = subprocess.run([sys.executable, "-c", "import jax; print(jax.__version__)"],
                             capture_output=True, text=True, check=True)
        return out.stdout.strip()
    except (subprocess.CalledProcessError, OSError):
        return "(not installed)"


def mem_total():
    try:
        with open("/proc/meminfo") as meminfo:
            kib = int(meminfo.readline().split()[1])
        return f"{kib / (1 << 20):.0f} GiB"
    except (OSError, ValueError, IndexError):
        return "?"


if __name__ == "__main__":
    main()
