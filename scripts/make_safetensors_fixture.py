#!/usr/bin/env python3
"""A small safetensors model and its values as f64, for tests/safetensors_cli.rs.

Writes tests/fixtures/safetensors/model.safetensors with the safetensors package (the
reference implementation of the format), holding weights of every dtype jacscope reads
and a few it must refuse, and tests/fixtures/safetensors/expected.npz with the readable
tensors converted to float64 by NumPy (float16) and ml_dtypes (bfloat16): an independent
witness of jacscope's own conversion. Member names in expected.npz are the tensor names
with dots replaced by underscores.

Run it in a virtual environment:
    python3 -m venv .venv && .venv/bin/pip install numpy safetensors ml_dtypes
    .venv/bin/python scripts/make_safetensors_fixture.py
"""

import pathlib

import ml_dtypes
import numpy as np
from safetensors import TensorSpec, serialize_file

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "safetensors"

rng = np.random.default_rng(14)


def normal(shape, scale=1.0):
    return rng.standard_normal(shape) * scale


# proj.weight (float16, 6x16) has exact zeros, so the numeric nonzero count of
# d(X @ W.T)/dX tells whether these weights were used; its entries are far from float16's
# range limits but not all exactly representable in float16 before rounding.
proj = normal((6, 16), 0.3)
proj[1, 3] = 0.0
proj[4, :5] = 0.0
readable = {
    "proj.weight": proj.astype(np.float16),
    "gate.weight": normal((6, 16), 0.3).astype(ml_dtypes.bfloat16),
    "proj.bias": normal((6,)).astype(np.float32),
    "head.weight": normal((3, 6)),
    "position.ids": np.arange(-3, 5, dtype=np.int64),
    "counts": np.array([0, 7, 200, 255], dtype=np.uint8),
    # Named like variables, for -l model.safetensors.
    "W": normal((6, 16)).astype(np.float32),
    "b": normal((6,)).astype(np.float16),
}
refused = {
    "mask": ("bool", [4], np.array([1, 0, 0, 1], dtype=np.uint8).tobytes()),
    # float8 e4m3 bytes (0x38 = 1.0): a dtype jacscope does not read.
    "scale.fp8": ("float8_e4m3fn", [2, 2], bytes([0x38, 0x38, 0x40, 0x30])),
    "conv.weight": ("float32", [2, 2, 2], np.ones(8, dtype="<f4").tobytes()),
    # float16 infinity at [1, 0].
    "overflow.weight": (
        "float16",
        [2, 2],
        np.array([[1.0, 2.0], [np.inf, 3.0]], dtype="<f2").tobytes(),
    ),
}

# Every tensor as (the safetensors dtype name, shape, little-endian bytes).
raw = {
    name: (value.dtype.name, list(value.shape), value.astype(value.dtype.newbyteorder("<")).tobytes())
    for name, value in readable.items()
}
raw.update(refused)
# The buffers TensorSpec points into, kept alive until the file is written.
buffers = {name: np.frombuffer(data, dtype=np.uint8).copy() for name, (_, _, data) in raw.items()}
tensors = {
    name: TensorSpec(
        dtype=dtype,
        shape=shape,
        data_ptr=buffers[name].ctypes.data,
        data_len=buffers[name].nbytes,
    )
    for name, (dtype, shape, _) in raw.items()
}
OUT.mkdir(parents=True, exist_ok=True)
serialize_file(tensors, str(OUT / "model.safetensors"))
np.savez(
    OUT / "expected.npz",
    **{name.replace(".", "_"): value.astype(np.float64) for name, value in readable.items()},
)
print(f"wrote {OUT / 'model.safetensors'} and {OUT / 'expected.npz'}")
