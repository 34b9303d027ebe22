#!/usr/bin/env python3
"""SymPy's layout of ∂Y/∂X, for the in+out check in tests/layout.rs.

sympy.derive_by_array(Y, X) returns an array of shape X.shape + Y.shape ("in+out"), the
reverse of JAX's and jacscope's out.shape + in.shape. For a few small expressions this
script builds Y from symbolic matrices with SymPy's own matrix algebra (jacscope is not
involved), differentiates it with derive_by_array, substitutes numbers for the symbols and
writes tests/fixtures/sympy/derive_by_array.json:

    {"cases": [{"name", "expression" (jacscope syntax), "wrt",
                "inputs": {variable: {"shape", "data"}},
                "derivative": {"shape", "data"}}]}

with every array flattened row-major. Run it in the project's virtual environment:
    .venv/bin/python scripts/make_sympy_fixtures.py
"""

import json
import pathlib

import numpy as np
import sympy as sp


def symbols(name, shape):
    """An array of fresh symbols of the given shape (a scalar for shape ())."""
    if shape == ():
        return sp.Symbol(name)
    if len(shape) == 1:
        return sp.Matrix(shape[0], 1, lambda r, _: sp.Symbol(f"{name}_{r}"))
    return sp.Matrix(*shape, lambda r, c: sp.Symbol(f"{name}_{r}_{c}"))


def as_array(value, shape):
    """A SymPy N-dim array (or a scalar) of the given shape from a Matrix or scalar."""
    if shape == ():
        return value[0, 0] if isinstance(value, sp.MatrixBase) else value
    return sp.Array(list(value), shape) if len(shape) == 1 else sp.Array(value.tolist())


# name, jacscope expression, {variable: shape}, wrt, Y from the symbol matrices
# (vectors are columns here; Y's shape is what jacscope gives the expression)
CASES = [
    ("linear_wrt_x", "X @ W.T", {"X": (2, 3), "W": (4, 3)}, "X", (2, 4),
     lambda v: v["X"] * v["W"].T),
    ("linear_wrt_w", "X @ W.T", {"X": (2, 3), "W": (4, 3)}, "W", (2, 4),
     lambda v: v["X"] * v["W"].T),
    ("sandwich", "A @ X @ B", {"A": (2, 3), "X": (3, 4), "B": (4, 2)}, "X", (2, 2),
     lambda v: v["A"] * v["X"] * v["B"]),
    ("gram", "X.T @ X", {"X": (2, 3)}, "X", (3, 3),
     lambda v: v["X"].T * v["X"]),
    ("elementwise", "sin(X) * C", {"X": (2, 3), "C": (2, 3)}, "X", (2, 3),
     lambda v: v["X"].applyfunc(sp.sin).multiply_elementwise(v["C"])),
    ("matrix_vector_wrt_x", "W @ x", {"W": (3, 2), "x": (2,)}, "x", (3,),
     lambda v: v["W"] * v["x"]),
    ("matrix_vector_wrt_w", "W @ x", {"W": (3, 2), "x": (2,)}, "W", (3,),
     lambda v: v["W"] * v["x"]),
    ("sum_of_squares", "sum(X * X)", {"X": (2, 3)}, "X", (),
     lambda v: sum(e * e for e in v["X"])),
    ("scaled_by_scalar", "X * c", {"X": (2, 3), "c": ()}, "c", (2, 3),
     lambda v: v["X"] * v["c"]),
]


def main():
    rng = np.random.default_rng(0)
    cases = []
    for name, expression, shapes, wrt, out_shape, build in CASES:
        variables = {n: symbols(n, s) for n, s in shapes.items()}
        values = {n: rng.standard_normal(s).round(3) for n, s in shapes.items()}
        y = as_array(build(variables), out_shape)
        x = as_array(variables[wrt], shapes[wrt])
        derivative = sp.derive_by_array(y, x)
        substitution = {}
        for n, sym in variables.items():
            if shapes[n] == ():
                substitution[sym] = float(values[n])
            else:
                for s, value in zip(list(sym), values[n].reshape(-1)):
                    substitution[s] = float(value)
        if isinstance(derivative, sp.NDimArray):
            numbers = np.array(derivative.subs(substitution).tolist(), dtype=float)
            shape = [int(d) for d in derivative.shape]
        else:
            numbers = np.array(float(derivative.subs(substitution)))
            shape = []
        assert list(numbers.shape) == shape
        assert shape == list(shapes[wrt]) + list(out_shape), (name, shape)
        cases.append({
            "name": name,
            "expression": expression,
            "wrt": wrt,
            "inputs": {
                n: {"shape": list(shapes[n]), "data": values[n].reshape(-1).tolist()}
                for n in shapes
            },
            "derivative": {"shape": shape, "data": numbers.reshape(-1).tolist()},
        })
    target = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "sympy"
    target.mkdir(parents=True, exist_ok=True)
    path = target / "derive_by_array.json"
    path.write_text(json.dumps({"sympy": sp.__version__, "cases": cases}, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {path}")


if __name__ == "__main__":
    main()
