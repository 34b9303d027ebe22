#!/usr/bin/env python3
"""Reference Jacobians from an independent implementation (JAX), for tests/reference.rs.

Writes tests/fixtures/<name>.npz (the inputs, named like the expression's variables, plus
the Jacobian as `J`, laid out out.shape + in.shape as jax.jacrev returns it) and
tests/fixtures/manifest.json (name, expression, wrt, file).

Second-order cases have `wrt` "A,B": `J` is d/dB of dY/dA, laid out out.shape + A.shape +
B.shape, computed as jax.hessian(f) when A = B and as
jax.jacrev(jax.jacrev(f, argnums=0), argnums=1) otherwise. Their inputs come from a
separate random generator, so the first-order fixtures do not change when they do.

Run it in a virtual environment:
    python3 -m venv .venv && .venv/bin/pip install jax numpy
    .venv/bin/python scripts/make_fixtures.py
The expressions are evaluated by Python itself, with the names below bound to JAX
functions, so jacscope's parser, evaluator and calculus are not involved.
"""

import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

NAMESPACE = {
    "exp": jnp.exp,
    "log": jnp.log,
    "sqrt": jnp.sqrt,
    "abs": jnp.abs,
    "sin": jnp.sin,
    "cos": jnp.cos,
    "tanh": jnp.tanh,
    "sigmoid": jax.nn.sigmoid,
    "relu": jax.nn.relu,
    "softplus": jax.nn.softplus,
    "square": jnp.square,
    "sum": jnp.sum,
    "mean": jnp.mean,
    "var": jnp.var,
    "std": jnp.std,
    "softmax": lambda a, axis=-1: jax.nn.softmax(a, axis=axis),
    "logsumexp": jax.scipy.special.logsumexp,
    "trace": jnp.trace,
    "inv": jnp.linalg.inv,
    "det": jnp.linalg.det,
    "true": True,
    "false": False,
}

# name, expression, {variable: shape}, wrt
CASES = [
    ("linear_wrt_x", "X @ W.T", {"X": (3, 4), "W": (5, 4)}, "X"),
    ("linear_wrt_w", "X @ W.T", {"X": (3, 4), "W": (5, 4)}, "W"),
    ("relu_layer_wrt_x", "relu(X @ W.T + b)", {"X": (3, 4), "W": (5, 4), "b": (5,)}, "X"),
    ("relu_layer_wrt_w", "relu(X @ W.T + b)", {"X": (3, 4), "W": (5, 4), "b": (5,)}, "W"),
    ("relu_layer_wrt_b", "relu(X @ W.T + b)", {"X": (3, 4), "W": (5, 4), "b": (5,)}, "b"),
    ("sigmoid_layer", "sigmoid(X @ W.T + b)", {"X": (3, 4), "W": (5, 4), "b": (5,)}, "W"),
    ("softmax_rows", "softmax(X @ W.T, axis=1)", {"X": (3, 4), "W": (5, 4)}, "X"),
    ("softmax_cols", "softmax(X, axis=0)", {"X": (4, 3)}, "X"),
    ("attention_wrt_q", "softmax(Q @ K.T / 2, axis=-1) @ V", {"Q": (3, 4), "K": (5, 4), "V": (5, 2)}, "Q"),
    ("layer_norm", "(X - mean(X, axis=1, keepdims=true)) / sqrt(var(X, axis=1, keepdims=true) + 0.001)", {"X": (3, 5)}, "X"),
    ("gram", "X @ X.T", {"X": (3, 4)}, "X"),
    ("inverse", "inv(A)", {"A": (4, 4)}, "A"),
    ("determinant", "det(A)", {"A": (3, 3)}, "A"),
    ("trace_product", "trace(X @ W)", {"X": (3, 4), "W": (4, 3)}, "X"),
    ("hadamard", "X * W", {"X": (3, 4), "W": (3, 4)}, "X"),
    ("matrix_vector_wrt_v", "A @ v", {"A": (3, 4), "v": (4,)}, "v"),
    ("matrix_vector_wrt_a", "A @ v", {"A": (3, 4), "v": (4,)}, "A"),
    ("vector_matrix", "v @ A", {"A": (4, 3), "v": (4,)}, "A"),
    ("dot", "u @ v", {"u": (4,), "v": (4,)}, "u"),
    ("logsumexp_rows", "logsumexp(X, axis=1)", {"X": (3, 4)}, "X"),
    ("logsumexp_all", "logsumexp(X)", {"X": (3, 4)}, "X"),
    ("elementwise_mix", "tanh(X) ** 2 + exp(-X) / (1 + square(X))", {"X": (3, 4)}, "X"),
    ("sum_axis0", "sum(sin(X) * cos(X), axis=0)", {"X": (3, 4)}, "X"),
    ("std_axis0", "std(X, axis=0)", {"X": (4, 3)}, "X"),
    ("softplus_log_abs", "softplus(X) - log(abs(X) + 1)", {"X": (3, 4)}, "X"),
    ("mean_all", "mean(X * X)", {"X": (3, 4)}, "X"),
    ("division_wrt_denominator", "X / Y", {"X": (3, 4), "Y": (3, 4)}, "Y"),
    ("broadcast_column", "X * c", {"X": (3, 4), "c": (3, 1)}, "c"),
    ("scalar_scale", "s * X + sqrt(square(X) + 1)", {"X": (2, 3), "s": ()}, "s"),
    ("power_negative", "(square(X) + 1) ** -1.5", {"X": (3, 4)}, "X"),
    ("keepdims_sum", "X - sum(X, axis=0, keepdims=true) / 3", {"X": (3, 4)}, "X"),
    ("inverse_product", "inv(A) @ B", {"A": (3, 3), "B": (3, 2)}, "A"),
]

# name, expression, {variable: shape}, "A,B": d/dB of dY/dA
SECOND_ORDER_CASES = [
    ("hessian_quadratic_form", "x @ A @ x", {"x": (4,), "A": (4, 4)}, "x,x"),
    ("hessian_trace_form", "trace(X.T @ A @ X)", {"X": (4, 3), "A": (4, 4)}, "X,X"),
    ("hessian_log_det", "log(abs(det(X)))", {"X": (3, 3)}, "X,X"),
    ("hessian_least_squares", "0.5 * sum((A @ X - B) ** 2)", {"A": (5, 4), "X": (4, 3), "B": (5, 3)}, "X,X"),
    ("hessian_logistic_loss", "sum(softplus(X @ w)) - y @ (X @ w)", {"X": (6, 4), "w": (4,), "y": (6,)}, "w,w"),
    ("hessian_logsumexp_all", "logsumexp(x)", {"x": (5,)}, "x,x"),
    ("hessian_logsumexp_rows", "logsumexp(X, axis=1)", {"X": (3, 4)}, "X,X"),
    ("hessian_softmax_rows", "softmax(X @ W.T, axis=1)", {"X": (3, 4), "W": (5, 4)}, "X,X"),
    ("hessian_matrix_square", "X @ X", {"X": (3, 3)}, "X,X"),
    ("mixed_sigmoid_layer", "sigmoid(X @ W.T + b)", {"X": (2, 3), "W": (4, 3), "b": (4,)}, "X,W"),
    ("mixed_tanh_loss", "sum(tanh(X @ W.T))", {"X": (3, 4), "W": (5, 4)}, "X,W"),
    ("mixed_tanh_loss_reversed", "sum(tanh(X @ W.T))", {"X": (3, 4), "W": (5, 4)}, "W,X"),
    # Every other operation of the first-order set, at second order.
    ("mixed_linear", "X @ W.T", {"X": (2, 3), "W": (4, 3)}, "W,X"),
    ("mixed_relu_layer", "relu(X @ W.T + b)", {"X": (2, 3), "W": (4, 3), "b": (4,)}, "X,W"),
    ("hessian_sigmoid_bias", "sigmoid(X @ W.T + b)", {"X": (2, 3), "W": (4, 3), "b": (4,)}, "b,b"),
    ("mixed_attention", "softmax(Q @ K.T / 2, axis=-1) @ V", {"Q": (2, 3), "K": (3, 3), "V": (3, 2)}, "Q,K"),
    ("hessian_layer_norm", "(X - mean(X, axis=1, keepdims=true)) / sqrt(var(X, axis=1, keepdims=true) + 0.001)", {"X": (2, 4)}, "X,X"),
    ("hessian_gram", "X @ X.T", {"X": (2, 3)}, "X,X"),
    ("hessian_determinant", "det(A)", {"A": (3, 3)}, "A,A"),
    ("hessian_inverse_product", "inv(A) @ B", {"A": (3, 3), "B": (3, 2)}, "A,A"),
    ("hessian_elementwise_mix", "tanh(X) ** 2 + exp(-X) / (1 + square(X))", {"X": (2, 3)}, "X,X"),
    ("hessian_sin_cos", "sum(sin(X) * cos(X), axis=0)", {"X": (3, 4)}, "X,X"),
    ("hessian_std_axis0", "std(X, axis=0)", {"X": (4, 3)}, "X,X"),
    ("hessian_softplus_log_abs", "softplus(X) - log(abs(X) + 1)", {"X": (2, 3)}, "X,X"),
    ("hessian_mean_square", "mean(X * X)", {"X": (3, 4)}, "X,X"),
    ("mixed_division", "X / Y", {"X": (2, 3), "Y": (2, 3)}, "X,Y"),
    ("hessian_division_denominator", "X / Y", {"X": (2, 3), "Y": (2, 3)}, "Y,Y"),
    ("mixed_broadcast_column", "sum((X * c) ** 2)", {"X": (3, 4), "c": (3, 1)}, "c,X"),
    ("mixed_scalar_scale", "s * X + sqrt(square(X) + 1)", {"X": (2, 3), "s": ()}, "s,X"),
    ("hessian_power_negative", "(square(X) + 1) ** -1.5", {"X": (2, 3)}, "X,X"),
]

# The square input of these cases gets 3·I added, so that it is well conditioned.
SHIFTED = {
    "inverse": "A",
    "determinant": "A",
    "inverse_product": "A",
    "hessian_log_det": "X",
    "hessian_determinant": "A",
    "hessian_inverse_product": "A",
}


def function_of(expression, inputs, names):
    """The expression as a function of the variables `names`, the other inputs held fixed."""

    def f(*values):
        env = dict(NAMESPACE)
        env.update({k: jnp.asarray(v) for k, v in inputs.items()})
        env.update(zip(names, values))
        return eval(expression, {"__builtins__": {}}, env)

    return f


def draw_inputs(rng, name, shapes):
    """Standard normal inputs of these shapes (the SHIFTED one made well conditioned)."""
    inputs = {v: rng.standard_normal(s) for v, s in shapes.items()}
    if name in SHIFTED:
        square = SHIFTED[name]
        inputs[square] = inputs[square] + 3.0 * np.eye(inputs[square].shape[0])
    return inputs


def first_order(expression, inputs, wrt):
    """dY/dwrt by jax.jacrev, laid out out.shape + wrt.shape."""
    f = function_of(expression, inputs, [wrt])
    return jax.jacrev(f)(jnp.asarray(inputs[wrt]))


def second_order(expression, inputs, wrt):
    """d/dB of dY/dA for wrt = "A,B", laid out out.shape + A.shape + B.shape."""
    a, b = wrt.split(",")
    if a == b:
        return jax.hessian(function_of(expression, inputs, [a]))(jnp.asarray(inputs[a]))
    f = function_of(expression, inputs, [a, b])
    nested = jax.jacrev(jax.jacrev(f, argnums=0), argnums=1)
    return nested(jnp.asarray(inputs[a]), jnp.asarray(inputs[b]))


def main():
    out_dir = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures"
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = []
    for cases, derivative, seed in [
        (CASES, first_order, 20261126),
        (SECOND_ORDER_CASES, second_order, 20261213),
    ]:
        rng = np.random.default_rng(seed)
        for name, expression, shapes, wrt in cases:
            inputs = draw_inputs(rng, name, shapes)
            jac = np.asarray(derivative(expression, inputs, wrt), dtype=np.float64)
            np.savez(out_dir / f"{name}.npz", J=jac, **inputs)
            manifest.append({"name": name, "expression": expression, "wrt": wrt, "file": f"{name}.npz"})
            print(f"{name:28s} {expression:40s} d/d{wrt}: J{jac.shape}")
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main()
