#!/usr/bin/python3
"""Cross-check every nngraph op against PyTorch (Debian's python3-torch).

For each op of the table below, on random shapes (1, 3, 17, 33, 65, a batch
of 1, broadcasting, the open batch dimension), extreme values, fan-out and
deep chains, it runs the forward value and the gradients of sum(out * R)
(R random) through nngraph (tools/crosscheck/crosscheck_run.c: the graph
file loader and nn_grad, no per-op code) and through PyTorch in float32,
and measures both against PyTorch in float64 on the same float32 inputs.
It prints, per op, the worst relative error of each side by side and their
ratio; docs/correctness.md states the figures. Never run by the test suite.

    python3 tools/crosscheck/crosscheck.py [--build build] [--op NAME] [--seed N]

Adding an op is one line in OPS: its name, its graph-file line(s) with the
result named "out", the PyTorch function of the inputs, the case generator
(the input shapes and values), and the inputs that take no gradient by
nngraph's convention. Exit status 1 if any op is over --limit (10) times
PyTorch float32's own error.
"""
import argparse
import collections
import os
import struct
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as e:
    sys.exit(f"crosscheck: {e}: it needs Debian's python3-torch and python3-numpy "
             "(apt-get install python3-torch), run by /usr/bin/python3")

U = 2.0 ** -24  # float32's unit roundoff: the floor of "PyTorch's own error"
TINY = 2.0 ** -126 / U  # below this, a float32 result's relative error is not its own (underflow)
SIZES = (1, 3, 17, 33, 65)


# ---- case generators: lists of (label, [(name, array, batched)]) ----------

def _normal(rng, shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def unary(lo=-3.0, hi=3.0, extreme=()):
    """x in [lo, hi) on shapes of every size, batched and not; then each
    extreme value set (a list of floats) as a row of its own."""
    def gen(rng):
        cases = []
        for n in SIZES:
            for shape, batched in (((n,), False), ((1, n), True), ((3, n), True), ((n, 17), False)):
                x = rng.uniform(lo, hi, shape).astype(np.float32)
                cases.append((f"{shape}", [("x", x, batched)]))
        for values in extreme:
            cases.append((f"extreme {values[:3]}", [("x", np.array([values], dtype=np.float32), True)]))
        return cases
    return gen


def rowwise(extreme=()):
    """Rows of every size for the softmax family, logits at scales 1 to
    1e4, plus extreme rows."""
    def gen(rng):
        cases = []
        for n in SIZES:
            for rows in (1, 3, 33):
                for scale in (1.0, 30.0, 1e4):
                    x = _normal(rng, (rows, n), scale)
                    cases.append((f"[{rows},{n}] scale {scale:g}", [("x", x, True)]))
        for values in extreme:
            cases.append((f"extreme {values[:3]}", [("x", np.array([values], dtype=np.float32), True)]))
        return cases
    return gen


def binary():
    """Equal shapes, a bias row over a batch, a scalar, outer broadcasting,
    a rank-3 by rank-2 broadcast, and a bias over many rows."""
    def gen(rng):
        pairs = []
        for n in SIZES:
            pairs += [((n,), (n,), False), ((3, n), (n,), True), ((n, 17), (17,), False), ((1, n), (1,), True),
                      ((n, 1), (1, 17), False), ((33, n), (33, n), True)]
        pairs += [((2, 3, 5), (3, 1), False), ((4, 1, 5), (3, 5), False), ((20000, 3), (3,), True),
                  ((300, 300), (1,), False)]
        cases = []
        for sa, sb, batched in pairs:
            a, b = _normal(rng, sa), _normal(rng, sb)
            both = batched and len(sb) == len(sa) and sb[0] == sa[0]  # the batch meets a batch, never a size
            cases.append((f"{sa} {sb}", [("a", a, batched), ("b", b, both)]))
            cases.append((f"{sb} {sa}", [("a", b, both), ("b", a, batched)]))
        return cases
    return gen


def matmul_cases(rng):
    cases = []
    for m in SIZES:
        for k in (1, 17, 65):
            for n in (1, 3, 33):
                a, b = _normal(rng, (m, k)), _normal(rng, (k, n))
                cases.append((f"[{m},{k}]@[{k},{n}]", [("a", a, True), ("b", b, False)]))
    a, b = _normal(rng, (128, 400)), _normal(rng, (400, 64))  # through the BLAS, split across threads
    cases.append(("[128,400]@[400,64]", [("a", a, True), ("b", b, False)]))
    return cases


def matmul_t_cases(rng):
    """Every transpose combination; the flags travel in the label."""
    cases = []
    for ta in (0, 1):
        for tb in (0, 1):
            for m, k, n in ((3, 17, 5), (33, 65, 17), (1, 3, 1), (64, 300, 40)):
                a = _normal(rng, (k, m) if ta else (m, k))
                b = _normal(rng, (n, k) if tb else (k, n))
                cases.append((f"ta={ta} tb={tb} m{m} k{k} n{n}", [("a", a, False), ("b", b, False)]))
    return cases


def reduce_cases(rng):
    cases = []
    for shape in ((1,), (65,), (3, 17), (33, 65), (2, 3, 5), (1000, 1000)):
        x = _normal(rng, shape)
        for axis in ["all"] + list(range(len(shape))):
            cases.append((f"{shape} axis={axis}", [("x", x, False)], {"axis": axis}))
    return cases


def labels_cases(rng):
    cases = []
    for c in (1, 3, 17, 65):
        for rows in (1, 3, 33):
            for scale in (1.0, 30.0, 1e4):
                z = _normal(rng, (rows, c), scale)
                y = rng.integers(0, c, rows).astype(np.int32)
                cases.append((f"[{rows},{c}] scale {scale:g}", [("z", z, True), ("y", y, True)]))
    return cases


def pair_cases(targets="normal"):
    def gen(rng):
        cases = []
        for shape in ((1,), (3,), (17, 33), (1, 65), (65, 3)):
            for scale in (1.0, 10.0, 1e3):
                z = _normal(rng, shape, scale)
                t = rng.uniform(0, 1, shape).astype(np.float32) if targets == "prob" else _normal(rng, shape, scale)
                cases.append((f"{shape} scale {scale:g}", [("z", z, True), ("t", t, True)]))
        return cases
    return gen


def mlp_cases(rng):
    """A small network: two dense layers (each weight used by a whole
    batch: fan-out), relu, softmax cross-entropy."""
    cases = []
    for rows in (1, 17, 64):
        x = rng.uniform(0, 1, (rows, 17)).astype(np.float32)
        w1, b1 = _normal(rng, (17, 33), 0.3), _normal(rng, (33,), 0.1)
        w2, b2 = _normal(rng, (33, 5), 0.3), _normal(rng, (5,), 0.1)
        y = rng.integers(0, 5, rows).astype(np.int32)
        cases.append((f"batch {rows}", [("x", x, True), ("w1", w1, False), ("b1", b1, False), ("w2", w2, False),
                                        ("b2", b2, False), ("y", y, True)]))
    return cases


def conv_cases(rng):
    """Strides, explicit padding, dilation, groups (depthwise too), 1x1
    and 5x5 kernels, and the Fashion CNN's first layer."""
    cases = []
    for n, c, h, w, cout, k, st, pad, dil, groups in (
            (2, 3, 8, 7, 4, 3, 1, 0, 1, 1), (3, 4, 9, 9, 6, 3, 2, 1, 1, 2), (1, 2, 10, 10, 3, 3, 1, 2, 2, 1),
            (4, 1, 28, 28, 8, 3, 1, 0, 1, 1), (2, 8, 6, 6, 8, 1, 1, 0, 1, 8), (2, 3, 7, 7, 5, 5, 2, 2, 1, 1),
            (2, 4, 6, 5, 4, 3, 1, 1, 1, 4)):
        x = _normal(rng, (n, c, h, w))
        wt = _normal(rng, (cout, c // groups, k, k), 0.5)
        b = _normal(rng, (cout,), 0.1)
        attrs = {"stride_h": st, "stride_w": st, "pad_h": pad, "pad_w": pad, "dilation_h": dil, "dilation_w": dil,
                 "groups": groups, "padding": "explicit"}
        cases.append((f"[{n},{c},{h},{w}] k{k} s{st} p{pad} d{dil} g{groups}",
                      [("x", x, True), ("w", wt, False), ("b", b, False)], attrs))
    return cases


def pool_cases(rng):
    cases = []
    for shape, k, st, pad in (((2, 3, 8, 8), 2, 2, 0), ((1, 2, 7, 9), 3, 1, 1), ((3, 4, 9, 9), 3, 2, 1),
                              ((2, 1, 5, 6), 2, 1, 0), ((2, 2, 28, 28), 2, 2, 0)):
        x = _normal(rng, shape)
        attrs = {"pool_h": k, "pool_w": k, "stride_h": st, "stride_w": st, "pad_h": pad, "pad_w": pad,
                 "padding": "explicit"}
        cases.append((f"{shape} k{k} s{st} p{pad}", [("x", x, True)], attrs))
    return cases


def image_cases(rng):
    return [(f"{shape}", [("x", _normal(rng, shape), True)]) for shape in ((2, 3, 4, 5), (1, 1, 1, 1), (3, 8, 7, 7))]


def permute_cases(rng):
    cases = []
    for shape, perm in (((2, 3, 4, 5), (0, 2, 3, 1)), ((3, 4, 5), (0, 2, 1)), ((17, 33), (1, 0)),
                        ((2, 3, 4, 5), (0, 3, 1, 2))):
        attrs = {f"perm{i}": (perm[i] if i < len(perm) else 0) for i in range(4)}
        cases.append((f"{shape} perm {perm}", [("x", _normal(rng, shape), False)], attrs))
    return cases


def concat_cases(rng):
    cases = []
    for sa, sb, axis in (((3, 4), (3, 5), 1), ((2, 3), (4, 3), 0), ((2, 3, 4, 5), (2, 1, 4, 5), 1),
                         ((33, 65), (33, 1), -1)):
        cases.append((f"{sa} {sb} axis {axis}", [("a", _normal(rng, sa), False), ("b", _normal(rng, sb), False)],
                      {"axis": axis}))
    return cases


def norm_cases(channels_axis):
    """x with per-feature gamma and beta (and, for batch norm, positive
    running statistics): [N, C] and [N, C, H, W]."""
    def gen(rng):
        cases = []
        for shape in ((5, 3), (2, 4, 3, 5), (17, 33), (1, 65)):
            d = shape[channels_axis]
            arrays = [("x", _normal(rng, shape, 3.0), True), ("g", rng.uniform(0.5, 2, d).astype(np.float32), False),
                      ("bt", _normal(rng, (d,)), False)]
            if channels_axis == 1:
                arrays += [("rm", _normal(rng, (d,)), False), ("rv", rng.uniform(0.5, 2, d).astype(np.float32), False)]
            cases.append((f"{shape}", arrays))
        return cases
    return gen


def _per_channel(v, x):
    return v.reshape((1, -1) + (1,) * (x.dim() - 2))


def batch_norm_eval(x, g, b, rm, rv):
    """Evaluation mode, written out so that PyTorch differentiates the
    running statistics too (nngraph gives them gradients there)."""
    return (x - _per_channel(rm, x)) / torch.sqrt(_per_channel(rv, x) + 1e-3) * _per_channel(g, x) + _per_channel(b, x)


DEPTH = 40


def deep_chain_body():
    lines, h = [], "x"
    for i in range(DEPTH):
        lines += [f"s{i} scale f32 {{0}} {h} alpha=1.25", f"t{i} tanh f32 {{0}} s{i}",
                  f"h{i} add f32 {{0}} t{i} {h}"]
        h = f"h{i}"
    lines.append(f"out scale f32 {{0}} {h} alpha=0.1")
    return "; ".join(lines)


def deep_chain_torch(x):
    h = x
    for _ in range(DEPTH):
        h = torch.tanh(h * 1.25) + h
    return h * 0.1


def _step(x):
    return (x >= 0).to(x.dtype)  # no gradient, as nngraph's step


Op = collections.namedtuple("Op", "name body fn cases")

# name | graph line(s), result "out" ({out}: its shape, {0}, {1}: the inputs') | PyTorch | cases
OPS = [
    Op("matmul", "out matmul f32 {out} a b", lambda a, b: a @ b, matmul_cases),
    Op("matmul_t", "out matmul f32 {out} a b {attrs}", None, matmul_t_cases),
    Op("add", "out add f32 {out} a b", lambda a, b: a + b, binary()),
    Op("sub", "out sub f32 {out} a b", lambda a, b: a - b, binary()),
    Op("mul", "out mul f32 {out} a b", lambda a, b: a * b, binary()),
    Op("scale", "out scale f32 {out} x alpha=-0.3", lambda x: x * np.float32(-0.3), unary()),
    Op("relu", "out relu f32 {out} x", torch.relu, unary(extreme=([0.0, -0.0, 1e-38, -1e30, 3e38],))),
    Op("sigmoid", "out sigmoid f32 {out} x", torch.sigmoid,
       unary(-8, 8, extreme=([-88.0, -30.0, 30.0, 88.0, 1e4, -1e4],))),
    Op("tanh", "out tanh f32 {out} x", torch.tanh, unary(-4, 4, extreme=([-20.0, -9.0, 1e-6, 9.0, 20.0],))),
    Op("identity", "out identity f32 {out} x", lambda x: x * 1, unary()),
    Op("step", "out step f32 {out} x", _step, unary(extreme=([0.0, -0.0, -1e-38],))),
    Op("softmax", "out softmax f32 {out} x", lambda x: torch.softmax(x, -1),
       rowwise(extreme=([1e4, 1e4], [-87.0, -88.0], [3e4, -3e4], [1e30, 1e30]))),
    Op("log_softmax", "out log_softmax f32 {out} x", lambda x: torch.log_softmax(x, -1),
       rowwise(extreme=([1e4, 1e4], [1e4, 9999.0], [-87.0, -88.0], [3e4, -3e4], [1e30, 1e30]))),
    Op("sum", "out sum f32 {out} x {attrs}", None, reduce_cases),
    Op("mean", "out mean f32 {out} x {attrs}", None, reduce_cases),
    Op("softmax_cross_entropy", "out softmax_cross_entropy f32 [] z y", lambda z, y: F.cross_entropy(z, y.long()),
       labels_cases),
    Op("bce_with_logits", "out bce_with_logits f32 [] z t",
       lambda z, t: F.binary_cross_entropy_with_logits(z, t.detach()), pair_cases("prob")),
    Op("mse", "out mse f32 [] z t", F.mse_loss, pair_cases()),
    Op("fan-out", "t tanh f32 {0} x; m mul f32 {0} t x; s sigmoid f32 {0} x; out add f32 {0} m s",
       lambda x: torch.tanh(x) * x + torch.sigmoid(x), unary(-3, 3)),
    Op(f"deep chain ({DEPTH} x tanh)", deep_chain_body(), deep_chain_torch, unary(-1, 1)),
    Op("network (dense, relu, CE)",
       "m1 matmul f32 [B,33] x w1; a1 add f32 [B,33] m1 b1; r1 relu f32 [B,33] a1; "
       "m2 matmul f32 [B,5] r1 w2; a2 add f32 [B,5] m2 b2; out softmax_cross_entropy f32 [] a2 y",
       lambda x, w1, b1, w2, b2, y: F.cross_entropy(torch.relu(x @ w1 + b1) @ w2 + b2, y.long()), mlp_cases),
    Op("leaky_relu", "out leaky_relu f32 {out} x alpha=0.01", lambda x: F.leaky_relu(x, 0.01), unary()),
    Op("elu", "out elu f32 {out} x alpha=1", F.elu, unary(-6, 3, extreme=([-30.0, -1e-6, 1e-6, 80.0],))),
    Op("gelu", "out gelu f32 {out} x", F.gelu, unary(-6, 6, extreme=([-12.0, -5.5, 1e-7, 12.0],))),
    Op("softplus", "out softplus f32 {out} x", F.softplus, unary(-20, 20, extreme=([-100.0, -30.0, 30.0, 100.0],))),
    Op("huber", "out huber f32 [] z t delta=1", lambda z, t: F.huber_loss(z, t, delta=1.0), pair_cases()),
    Op("conv2d", "out conv2d f32 {out} x w b {attrs}", None, conv_cases),
    Op("max_pool2d", "out max_pool2d f32 {out} x {attrs}", None, pool_cases),
    Op("avg_pool2d", "out avg_pool2d f32 {out} x {attrs}", None, pool_cases),
    Op("global_avg_pool", "out global_avg_pool f32 {out} x", lambda x: x.mean((2, 3)), image_cases),
    Op("flatten", "out flatten f32 {out} x", lambda x: x.flatten(1), image_cases),
    Op("reshape", "out reshape f32 {out} x rank=3 d0=0 d1=-1 d2=1 d3=0", lambda x: x.reshape(x.shape[0], -1, 1),
       image_cases),
    Op("transpose", "out transpose f32 {out} x {attrs}", None, permute_cases),
    Op("concat", "out concat f32 {out} a b {attrs}", None, concat_cases),
    Op("dropout (evaluation)", "out dropout f32 {out} x rate=0.5 stream=0", lambda x: x * 1, unary()),
    Op("batch_norm (evaluation)", "out batch_norm f32 {out} x g bt rm rv momentum=0.99 epsilon=0.001",
       batch_norm_eval, norm_cases(1)),
    Op("layer_norm", "out layer_norm f32 {out} x g bt epsilon=0.001",
       lambda x, g, b: F.layer_norm(x, (x.shape[-1],), g, b, eps=1e-3), norm_cases(-1)),
]

# ops whose PyTorch function depends on the case's attributes
ATTR_FNS = {
    "conv2d": lambda a: (lambda x, w, b: F.conv2d(x, w, b, a["stride_h"], a["pad_h"], a["dilation_h"], a["groups"])),
    "max_pool2d": lambda a: (lambda x: F.max_pool2d(x, a["pool_h"], a["stride_h"], a["pad_h"])),
    "avg_pool2d": lambda a: (lambda x: F.avg_pool2d(x, a["pool_h"], a["stride_h"], a["pad_h"], count_include_pad=False)),
    "transpose": lambda a: (lambda x: x.permute(*[a[f"perm{i}"] for i in range(x.dim())])),
    "concat": lambda a: (lambda p, q: torch.cat([p, q], a["axis"])),
    "matmul_t": lambda attrs: (lambda a, b: (a.T if attrs["trans_a"] else a) @ (b.T if attrs["trans_b"] else b)),
    "sum": lambda attrs: (lambda x: x.sum() if attrs["axis"] == "all" else x.sum(attrs["axis"])),
    "mean": lambda attrs: (lambda x: x.mean() if attrs["axis"] == "all" else x.mean(attrs["axis"])),
}


def shape_str(shape, batched):
    dims = [str(d) for d in shape]
    if batched and dims:
        dims[0] = "B"
    return "[" + ",".join(dims) + "]"


def rel_err(got, ref):
    """The worst elementwise relative error, each element measured against
    its own magnitude or, below that, 2^-10 of the largest (values much
    smaller than the largest are set by cancellation, for any float32
    computation alike) and at least TINY (values float32 can only hold as
    subnormals or 0 are compared absolutely, at the scale of float32's
    underflow); an all-zero reference gives the absolute error."""
    got, ref = np.asarray(got, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    if got.shape != ref.shape:
        return float("inf")
    if not np.all(np.isfinite(got) == np.isfinite(ref)):
        return float("inf")
    fin = np.isfinite(ref)
    got, ref = got[fin], ref[fin]
    if ref.size == 0:
        return 0.0
    top = np.max(np.abs(ref))
    if top == 0:
        return float(np.max(np.abs(got)))
    den = np.maximum(np.maximum(np.abs(ref), top * 2.0 ** -10), TINY)
    return float(np.max(np.abs(got - ref) / den))


def torch_run(fn, arrays, R, dtype):
    ts = []
    for a in arrays:
        if a.dtype == np.int32:
            ts.append(torch.from_numpy(a.astype(np.int64)))
        else:
            ts.append(torch.from_numpy(a).to(dtype).requires_grad_(True))
    out = fn(*ts)
    grads = []
    if out.requires_grad:
        (out * torch.from_numpy(R).to(dtype)).sum().backward()
    for t, a in zip(ts, arrays):
        if a.dtype != np.int32:
            grads.append(t.grad.numpy() if t.grad is not None else np.zeros(a.shape))
    return out.detach().numpy(), grads


def write_tensor(f, a):
    f.write(struct.pack("<I", a.ndim))
    for d in a.shape:
        f.write(struct.pack("<q", d))
    f.write(np.ascontiguousarray(a).astype("<i4" if a.dtype == np.int32 else "<f4").tobytes())


def nngraph_run(exe, tmp, body, inputs, out_shape, out_batched, R):
    lines = ["nngraph-graph 1"]
    fmt = {"out": shape_str(out_shape, out_batched)}
    for i, (name, a, batched) in enumerate(inputs):
        dt = "i32" if a.dtype == np.int32 else "f32"
        lines.append(f"{name} input {dt} {shape_str(a.shape, batched)}")
        fmt[str(i)] = shape_str(a.shape, batched)
    body_lines = [s.strip() for s in body.split(";")]
    for line in body_lines:
        for key, shape in fmt.items():
            line = line.replace("{" + key + "}", shape)
        lines.append(line)
    lines.append(f"end {len(inputs) + len(body_lines)}")
    graph, data, result = (os.path.join(tmp, n) for n in ("case.nng", "case.in", "case.out"))
    with open(graph, "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(data, "wb") as f:
        for _, a, _ in inputs:
            write_tensor(f, a)
        write_tensor(f, R)
    p = subprocess.run([exe, graph, data, result], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(p.stderr.strip() + "\n" + "\n".join(lines))
    raw = np.fromfile(result, dtype="<f4")
    out = raw[:R.size].reshape(R.shape)
    grads, at = [], R.size
    for _, a, _ in inputs:
        if a.dtype != np.int32:
            grads.append(raw[at:at + a.size].reshape(a.shape))
            at += a.size
    return out, grads


def check_op(op, exe, tmp, rng):
    """The worst forward and gradient errors of nngraph and of PyTorch
    float32 against float64 over the op's cases, and where nngraph's were."""
    worst = {"fwd": [0.0, 0.0, ""], "grad": [0.0, 0.0, ""]}
    for case in op.cases(rng):
        label, inputs = case[0], case[1]
        attrs = case[2] if len(case) > 2 else {}
        body, fn = op.body, op.fn
        if "{attrs}" in body:
            if op.name == "matmul_t":
                ta, tb = int(label[3]), int(label[8])
                attrs = {"trans_a": ta, "trans_b": tb}
                text = " ".join(f"{k}={v}" for k, v in attrs.items() if v)
            else:
                text = " ".join(f"{k}={v}" for k, v in attrs.items())
            body = body.replace("{attrs}", text)
            fn = ATTR_FNS[op.name](attrs)
        arrays = [a for _, a, _ in inputs]
        with torch.no_grad():
            out_shape = tuple(fn(*[torch.from_numpy(a.astype(np.int64) if a.dtype == np.int32 else a.astype(np.float64))
                                   for a in arrays]).shape)
        R = rng.uniform(-1, 1, out_shape).astype(np.float32)
        out64, grads64 = torch_run(fn, arrays, R, torch.float64)
        out32, grads32 = torch_run(fn, arrays, R, torch.float32)
        batch = next((a.shape[0] for _, a, b in inputs if b), None)
        out_batched = batch is not None and len(out_shape) >= 1 and out_shape[0] == batch
        got, ggot = nngraph_run(exe, tmp, body, inputs, out_shape, out_batched, R)
        for kind, mine, theirs, ref in (("fwd", [got], [out32], [out64]), ("grad", ggot, grads32, grads64)):
            for m, t, r in zip(mine, theirs, ref):
                em, et = rel_err(m, r), rel_err(t, r)
                w = worst[kind]
                if em > w[0]:
                    w[0], w[2] = em, label
                w[1] = max(w[1], et)
    return worst


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build", help="meson build directory (default: build)")
    ap.add_argument("--op", action="append", help="only this op (repeatable)")
    ap.add_argument("--seed", type=int, default=11, help="random seed (default: 11)")
    ap.add_argument("--limit", type=float, default=10.0, help="allowed ratio to PyTorch float32's error (10)")
    ap.add_argument("-v", "--verbose", action="store_true", help="name the case of each op's worst error")
    args = ap.parse_args()
    exe = os.path.join(args.build, "tools", "crosscheck", "nngraph-crosscheck-run")
    if not os.access(exe, os.X_OK):
        sys.exit(f"crosscheck: {exe} not found: build first (meson setup {args.build} && ninja -C {args.build})")
    torch.set_num_threads(1)
    rng = np.random.default_rng(args.seed)
    ops = [op for op in OPS if not args.op or op.name in args.op]
    if not ops:
        sys.exit(f"crosscheck: no op named {args.op}; known: {', '.join(op.name for op in OPS)}")
    print(f"worst relative error against PyTorch float64 (floor for the ratio: u = 2^-24 = {U:.2g})")
    print(f"{'op':<28} {'fwd nngraph':>12} {'fwd torch32':>12} {'ratio':>6}   "
          f"{'grad nngraph':>12} {'grad torch32':>12} {'ratio':>6}")
    bad = []
    with tempfile.TemporaryDirectory(prefix="crosscheck-") as tmp:
        for op in ops:
            try:
                w = check_op(op, exe, tmp, rng)
            except RuntimeError as e:
                print(f"{op.name:<28} failed: {str(e).splitlines()[0]}", flush=True)
                if args.verbose:
                    print(str(e))
                bad.append(f"{op.name} (failed)")
                continue
            rf = w["fwd"][0] / max(w["fwd"][1], U)
            rg = w["grad"][0] / max(w["grad"][1], U)
            flag = "  OVER" if max(rf, rg) > args.limit else ""
            print(f"{op.name:<28} {w['fwd'][0]:12.2e} {w['fwd'][1]:12.2e} {rf:6.2f}   "
                  f"{w['grad'][0]:12.2e} {w['grad'][1]:12.2e} {rg:6.2f}{flag}", flush=True)
            if args.verbose:
                print(f"{'':<28} worst forward: {w['fwd'][2]}; worst gradient: {w['grad'][2]}")
            if flag:
                bad.append(f"{op.name} (forward worst at {w['fwd'][2]}, gradient worst at {w['grad'][2]})")
    if bad:
        print(f"over {args.limit:g}x PyTorch float32's error: " + "; ".join(bad))
        return 1
    print(f"every op within {args.limit:g}x PyTorch float32's own error")
    return 0


if __name__ == "__main__":
    sys.exit(main())
