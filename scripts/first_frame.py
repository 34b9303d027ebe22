#!/usr/bin/env python3
"""Time from starting the explorer to its first frame, and to the explorer being ready.

Runs the release binary in a pseudo-terminal (120x40), as a person would, and reports for
each expression: the first frame (any screen showing J's shape: the loading screen for a
large problem, else the explorer) and the explorer (the slice title "(pair 1/6)" drawn once
the values are ready), and the process's peak resident memory. Then it quits with q.
Standard library only.

    cargo build --release && python3 scripts/first_frame.py
"""

import os
import pty
import re
import select
import struct
import fcntl
import termios
import time

BINARY = os.path.join(os.path.dirname(__file__), "..", "target", "release", "jacscope")
TRANSFORMER = ["-s", "X=2048x4096", "-s", "W=4096x4096", "-s", "b=4096"]
CASES = [
    ("default example", []),
    ("transformer X @ W.T", ["X @ W.T"] + TRANSFORMER),
    ("transformer relu(X @ W.T + b)", ["relu(X @ W.T + b)"] + TRANSFORMER),
    ("transformer softmax(X @ W.T, axis=1)", ["softmax(X @ W.T, axis=1)"] + TRANSFORMER),
    ("Hessian sum(relu(X @ W.T + b)) by W,W", ["sum(relu(X @ W.T + b))"] + TRANSFORMER + ["--wrt", "W,W"]),
    ("Hessian sum(sigmoid(X @ W.T + b)) by W,W", ["sum(sigmoid(X @ W.T + b))"] + TRANSFORMER + ["--wrt", "W,W"]),
]


def measure(args, timeout=60.0):
    """Seconds to the first frame and to the explorer, and the peak resident memory in
    MiB, for `jacscope args`."""
    start = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.execv(BINARY, [BINARY] + args)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    seen = b""
    first = ready = None
    while time.monotonic() - start < timeout and ready is None:
        readable, _, _ = select.select([fd], [], [], 0.01)
        if not readable:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        seen += chunk
        now = time.monotonic() - start
        if first is None and re.search(rb"J\[[a-z,]+\]", seen):
            first = now
        if b"(pair " in seen:
            ready = now
    os.write(fd, b"q")
    _, _, usage = os.wait4(pid, 0)
    os.close(fd)
    return first, ready, usage.ru_maxrss / 1024


def main():
    print(f"{'problem':42} {'first frame':>12} {'explorer ready':>15} {'peak memory':>12}")
    for name, args in CASES:
        first, ready, peak = measure(args)
        fmt = lambda s: "timeout" if s is None else f"{s * 1000:.0f} ms"
        print(f"{name:42} {fmt(first):>12} {fmt(ready):>15} {peak:>8.0f} MiB")


if __name__ == "__main__":
    main()
