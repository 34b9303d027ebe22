#!/usr/bin/env python3
"""Whole-process timings of the performance targets of issue 15, in one run.

Runs the release binary as a user would (start, read or draw the inputs, build, answer) and
prints one Markdown table: median wall time over the repeats and the peak RSS of one run
(from GNU time). The in-process timings (slices, the pyramid, Hessian slices) come from
`cargo bench` and `examples/bench_timings.rs`; this script covers what only a whole process
shows.

    cargo build --release && python3 scripts/measure_targets.py [--repeat 21]

Needs only Python 3 and /usr/bin/time; the .npz of the seed's inputs is written by jacscope
itself (`jacscope eval` of each variable), so NumPy is not needed.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINARY = ROOT / "target" / "release" / "jacscope"

TRANSFORMER = ["-s", "X=2048x4096", "-s", "W=4096x4096", "-s", "b=4096"]


def run(args, repeat):
    """Median wall seconds of `repeat` runs and the peak RSS (MiB) of the last one."""
    walls = []
    rss = None
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%M", str(BINARY), *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        walls.append(time.perf_counter() - start)
        if done.returncode not in (0, 3):
            sys.exit(f"jacscope {' '.join(args)} failed:\n{done.stderr}")
        rss = int(done.stderr.strip().splitlines()[-1]) / 1024
    return statistics.median(walls), rss


def seed_npz(directory):
    """The seed's X and W written by `jacscope eval`, zipped into one .npz."""
    import zipfile

    npz = Path(directory) / "seed.npz"
    with zipfile.ZipFile(npz, "w") as archive:
        for name, shape in [("X", "64x1024"), ("W", "512x1024")]:
            npy = Path(directory) / f"{name}.npy"
            subprocess.run(
                [str(BINARY), "eval", name, "-s", f"{name}={shape}",
                 "-o", str(npy), "--force"],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            archive.write(npy, f"{name}.npy")
    return npz


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()
    if not BINARY.exists():
        sys.exit("build first: cargo build --release")
    with tempfile.TemporaryDirectory() as directory:
        npz = seed_npz(directory)
        size = npz.stat().st_size / 1e6
        rows = [
            ("`stats` relu at transformer size",
             ["stats", "relu(X @ W.T + b)", *TRANSFORMER], 3),
            ("`stats` at the seed's size, seeded inputs", ["stats"], args.repeat),
            (f"`stats` at the seed's size, loading a {size:.1f} MB .npz",
             ["stats", "-l", str(npz)], args.repeat),
            ("`check --claim` of the seed's formula at transformer size",
             ["check", "--claim", "delta(i,k)*W[j,l]", *TRANSFORMER[:4]], 3),
        ]
        print("| work (whole process) | median wall | peak RSS |")
        print("|---|---|---|")
        for label, command, repeat in rows:
            wall, rss = run(command, repeat)
            shown = f"{wall * 1e3:.0f} ms" if wall < 1 else f"{wall:.2f} s"
            print(f"| {label} | {shown} | {rss:.0f} MiB |", flush=True)


if __name__ == "__main__":
    main()
