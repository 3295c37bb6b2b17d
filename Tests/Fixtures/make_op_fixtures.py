#!/usr/bin/python3
"""Reference values for the Torch target's op-parity and safetensors tests.

Run with Debian's PyTorch and the vendored safetensors package:

    PYTHONPATH=.cache/python /usr/bin/python3 Tests/Fixtures/make_op_fixtures.py

Writes two files into Tests/TorchTests/Fixtures/:

ops.safetensors
    One entry per case. A case named NAME stores
      NAME.in.<input>      the op's inputs
      NAME.out[.<key>]     every output (".<key>" for ops with several)
      NAME.upstream[.<key>] a fixed random tensor G per differentiable output
      NAME.grad.<input>    d sum(out * G) / d input for each differentiable input
    and the metadata entry NAME -> JSON {"op", "args", "outputs", "grad_outputs", "diff"}.
    The Swift test has one closure per op name that mirrors OPS below. Inputs come from a
    fixed-seed generator, so regenerating gives a byte-identical file.

python_written.safetensors
    Tensors with exactly known values, written by Python's safetensors, for the
    test that reads a file produced by another implementation.
"""

import json
import os
import struct
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "..", "TorchTests", "Fixtures")

DTYPES = {
    "uint8": torch.uint8, "int8": torch.int8, "int16": torch.int16, "int32": torch.int32,
    "int64": torch.int64, "float16": torch.float16, "float32": torch.float32,
    "float64": torch.float64, "bool": torch.bool,
}

gen = torch.Generator().manual_seed(20240611)


def randn(*shape):
    return torch.randn(shape, generator=gen)


def rand(*shape):
    return torch.rand(shape, generator=gen)


def positive(*shape):
    """Values in [0.5, 2.5): away from the poles of log, sqrt, 1/x."""
    return rand(*shape) * 2 + 0.5


def ties(*shape):
    """Small integers as floats, so comparisons see equal elements."""
    return torch.round(randn(*shape) * 1.5)


def seeded(seed, draw):
    torch.manual_seed(seed)
    return draw()


def pair(v):
    return v if isinstance(v, list) else [v, v]


# op name -> (function(inputs, args), differentiable). Each mirrors one Swift closure.
OPS = {
    # creation
    "zeros": (lambda t, a: torch.zeros(a["shape"], dtype=DTYPES[a["dtype"]]), False),
    "ones": (lambda t, a: torch.ones(a["shape"], dtype=DTYPES[a["dtype"]]), False),
    "full": (lambda t, a: torch.full(a["shape"], a["value"], dtype=DTYPES[a["dtype"]]), False),
    "arange": (lambda t, a: torch.arange(a["start"], a["end"], a["step"], dtype=DTYPES[a["dtype"]]), False),
    "arange_end": (lambda t, a: torch.arange(a["end"]), False),
    "from_values": (lambda t, a: torch.tensor(a["values"], dtype=DTYPES[a["dtype"]]).reshape(a["shape"]), False),
    "scalar": (lambda t, a: torch.tensor(a["value"], dtype=DTYPES[a["dtype"]]), False),
    "rand": (lambda t, a: seeded(a["seed"], lambda: torch.rand(a["shape"], dtype=DTYPES[a["dtype"]])), False),
    "randn": (lambda t, a: seeded(a["seed"], lambda: torch.randn(a["shape"], dtype=DTYPES[a["dtype"]])), False),
    "randint": (lambda t, a: seeded(a["seed"], lambda: torch.randint(a["low"], a["high"], a["shape"])), False),
    "randperm": (lambda t, a: seeded(a["seed"], lambda: torch.randperm(a["n"])), False),
    "normal_": (lambda t, a: seeded(a["seed"], lambda: torch.empty(a["shape"]).normal_(a["mean"], a["std"])), False),
    "uniform_": (lambda t, a: seeded(a["seed"], lambda: torch.empty(a["shape"]).uniform_(a["low"], a["high"])), False),
    "rng_sequence": (lambda t, a: seeded(a["seed"], lambda: [torch.rand(a["shape"]), torch.randn(a["shape"]),
                                                             torch.rand(a["shape"])]), False),
    # conversion
    "to_dtype": (lambda t, a: t["x"].to(DTYPES[a["dtype"]]), False),
    "to_float64": (lambda t, a: t["x"].to(torch.float64), True),
    "clone": (lambda t, a: t["x"].clone(), True),
    "contiguous": (lambda t, a: t["x"].permute(a["dims"]).contiguous(), True),
    "detached": (lambda t, a: t["x"].detach() * t["y"], True),
    # shape
    "reshape": (lambda t, a: t["x"].reshape(a["shape"]), True),
    "flatten": (lambda t, a: t["x"].flatten(a["start"], a["end"]), True),
    "permute": (lambda t, a: t["x"].permute(a["dims"]), True),
    "transpose": (lambda t, a: t["x"].transpose(a["d0"], a["d1"]), True),
    "mT": (lambda t, a: t["x"].transpose(-2, -1), True),
    "expand": (lambda t, a: t["x"].expand(a["shape"]), True),
    "repeat": (lambda t, a: t["x"].repeat(a["repeats"]), True),
    "flip": (lambda t, a: t["x"].flip(a["dims"]), True),
    "squeeze": (lambda t, a: t["x"].squeeze(a["dim"]), True),
    "unsqueeze": (lambda t, a: t["x"].unsqueeze(a["dim"]), True),
    "slice": (lambda t, a: slice_op(t["x"], a), True),
    "narrow": (lambda t, a: t["x"].narrow(a["dim"], a["start"], a["length"]), True),
    "select": (lambda t, a: t["x"].select(a["dim"], a["index"]), True),
    "index_select": (lambda t, a: t["x"].index_select(a["dim"], t["index"]), True),
    "chunk": (lambda t, a: list(t["x"].chunk(a["chunks"], a["dim"])), True),
    "split": (lambda t, a: list(t["x"].split(a["sizes"], a["dim"])), True),
    "cat": (lambda t, a: torch.cat([t["a"], t["b"], t["c"]], a["dim"]), True),
    "stack": (lambda t, a: torch.stack([t["a"], t["b"], t["c"]], a["dim"]), True),
    "pad": (lambda t, a: F.pad(t["x"], a["pad"], mode=a["mode"], **({"value": a["value"]} if a["mode"] == "constant" else {})), True),
    # element-wise, tensor-tensor with broadcasting
    "add": (lambda t, a: t["a"] + t["b"], True),
    "sub": (lambda t, a: t["a"] - t["b"], True),
    "mul": (lambda t, a: t["a"] * t["b"], True),
    "div": (lambda t, a: t["a"] / t["b"], True),
    "add_alpha": (lambda t, a: torch.add(t["a"], t["b"], alpha=a["alpha"]), True),
    "pow_tensor": (lambda t, a: torch.pow(t["a"], t["b"]), True),
    "maximum": (lambda t, a: torch.maximum(t["a"], t["b"]), True),
    "minimum": (lambda t, a: torch.minimum(t["a"], t["b"]), True),
    "lerp": (lambda t, a: torch.lerp(t["a"], t["b"], a["weight"]), True),
    "where": (lambda t, a: torch.where(t["cond"], t["a"], t["b"]), True),
    "eq": (lambda t, a: t["a"] == t["b"], False),
    "ne": (lambda t, a: t["a"] != t["b"], False),
    "lt": (lambda t, a: t["a"] < t["b"], False),
    "le": (lambda t, a: t["a"] <= t["b"], False),
    "gt": (lambda t, a: t["a"] > t["b"], False),
    "ge": (lambda t, a: t["a"] >= t["b"], False),
    # element-wise with a scalar (both operand orders)
    "add_scalar": (lambda t, a: t["x"] + a["s"], True),
    "scalar_add": (lambda t, a: a["s"] + t["x"], True),
    "sub_scalar": (lambda t, a: t["x"] - a["s"], True),
    "scalar_sub": (lambda t, a: a["s"] - t["x"], True),
    "mul_scalar": (lambda t, a: t["x"] * a["s"], True),
    "scalar_mul": (lambda t, a: a["s"] * t["x"], True),
    "div_scalar": (lambda t, a: t["x"] / a["s"], True),
    "scalar_div": (lambda t, a: a["s"] / t["x"], True),
    "pow_scalar": (lambda t, a: t["x"] ** a["s"], True),
    "eq_scalar": (lambda t, a: t["x"] == a["s"], False),
    "lt_scalar": (lambda t, a: t["x"] < a["s"], False),
    "gt_scalar": (lambda t, a: t["x"] > a["s"], False),
    # element-wise unary
    "neg": (lambda t, a: -t["x"], True),
    "abs": (lambda t, a: t["x"].abs(), True),
    "exp": (lambda t, a: t["x"].exp(), True),
    "log": (lambda t, a: t["x"].log(), True),
    "log1p": (lambda t, a: t["x"].log1p(), True),
    "sqrt": (lambda t, a: t["x"].sqrt(), True),
    "rsqrt": (lambda t, a: t["x"].rsqrt(), True),
    "square": (lambda t, a: t["x"].square(), True),
    "sin": (lambda t, a: t["x"].sin(), True),
    "cos": (lambda t, a: t["x"].cos(), True),
    "sign": (lambda t, a: t["x"].sign(), True),
    "floor": (lambda t, a: t["x"].floor(), True),
    "ceil": (lambda t, a: t["x"].ceil(), True),
    "round": (lambda t, a: t["x"].round(), True),
    "clamp": (lambda t, a: t["x"].clamp(a["min"], a["max"]), True),
    "logical_not": (lambda t, a: t["x"].logical_not(), False),
    # activations
    "relu": (lambda t, a: F.relu(t["x"]), True),
    "leaky_relu": (lambda t, a: F.leaky_relu(t["x"], a["slope"]), True),
    "sigmoid": (lambda t, a: torch.sigmoid(t["x"]), True),
    "tanh": (lambda t, a: torch.tanh(t["x"]), True),
    "softplus": (lambda t, a: F.softplus(t["x"], a["beta"], a["threshold"]), True),
    "softmax": (lambda t, a: F.softmax(t["x"], a["dim"]), True),
    "log_softmax": (lambda t, a: F.log_softmax(t["x"], a["dim"]), True),
    # reductions; an empty dims list reduces everything
    "sum": (lambda t, a: t["x"].sum(a["dims"], keepdim=a["keepdim"]) if a["dims"] else t["x"].sum(), True),
    "mean": (lambda t, a: t["x"].mean(a["dims"], keepdim=a["keepdim"]) if a["dims"] else t["x"].mean(), True),
    "amax": (lambda t, a: t["x"].amax(a["dims"], keepdim=a["keepdim"]), True),
    "amin": (lambda t, a: t["x"].amin(a["dims"], keepdim=a["keepdim"]), True),
    "var": (lambda t, a: torch.var(t["x"], a["dims"] or None, correction=a["correction"], keepdim=a["keepdim"]), True),
    "std": (lambda t, a: torch.std(t["x"], a["dims"] or None, correction=a["correction"], keepdim=a["keepdim"]), True),
    "norm": (lambda t, a: torch.norm(t["x"], a["p"], a["dims"], keepdim=a["keepdim"]) if a["dims"]
             else torch.norm(t["x"], a["p"]), True),
    "logsumexp": (lambda t, a: torch.logsumexp(t["x"], a["dims"], keepdim=a["keepdim"]), True),
    "argmax": (lambda t, a: torch.argmax(t["x"], a["dim"], keepdim=a["keepdim"]), False),
    "argmin": (lambda t, a: torch.argmin(t["x"], a["dim"], keepdim=a["keepdim"]), False),
    # linear algebra
    "matmul": (lambda t, a: torch.matmul(t["a"], t["b"]), True),
    "mv": (lambda t, a: torch.mv(t["a"], t["b"]), True),
    "dot": (lambda t, a: torch.dot(t["a"], t["b"]), True),
    # in place, applied to a copy of x
    "add_": (lambda t, a: t["x"].clone().add_(t["y"], alpha=a["alpha"]), False),
    "add_scalar_": (lambda t, a: t["x"].clone().add_(a["s"]), False),
    "mul_": (lambda t, a: t["x"].clone().mul_(t["y"]), False),
    "mul_scalar_": (lambda t, a: t["x"].clone().mul_(a["s"]), False),
    "addcmul_": (lambda t, a: t["x"].clone().addcmul_(t["a"], t["b"], value=a["value"]), False),
    "addcdiv_": (lambda t, a: t["x"].clone().addcdiv_(t["a"], t["b"], value=a["value"]), False),
    "copy_": (lambda t, a: t["x"].clone().copy_(t["y"]), False),
    "zero_": (lambda t, a: t["x"].clone().zero_(), False),
    "fill_": (lambda t, a: t["x"].clone().fill_(a["value"]), False),
    "clamp_": (lambda t, a: t["x"].clone().clamp_(a["min"], a["max"]), False),
    # neural-network functions
    "conv2d": (lambda t, a: F.conv2d(t["x"], t["w"], t.get("b"), a["stride"], a["padding"], a["dilation"],
                                     a["groups"]), True),
    "conv_transpose2d": (lambda t, a: F.conv_transpose2d(t["x"], t["w"], t.get("b"), a["stride"], a["padding"],
                                                         a["output_padding"], a["groups"], a["dilation"]), True),
    "linear": (lambda t, a: F.linear(t["x"], t["w"], t.get("b")), True),
    "batch_norm": (lambda t, a: batch_norm_op(t, a), True),
    "instance_norm": (lambda t, a: instance_norm_op(t, a), True),
    "avg_pool2d": (lambda t, a: F.avg_pool2d(t["x"], a["kernel"], a["stride"], a["padding"], a["ceil_mode"],
                                             a["count_include_pad"]), True),
    "max_pool2d": (lambda t, a: F.max_pool2d(t["x"], a["kernel"], a["stride"], a["padding"], a["dilation"],
                                             a["ceil_mode"]), True),
    "adaptive_avg_pool2d": (lambda t, a: F.adaptive_avg_pool2d(t["x"], a["size"]), True),
    "adaptive_max_pool2d": (lambda t, a: F.adaptive_max_pool2d(t["x"], a["size"]), True),
    "upsample_nearest_size": (lambda t, a: F.interpolate(t["x"], size=a["size"], mode="nearest"), True),
    "upsample_nearest_scale": (lambda t, a: F.interpolate(t["x"], scale_factor=a["scale"], mode="nearest"), True),
    "upsample_bilinear_size": (lambda t, a: F.interpolate(t["x"], size=a["size"], mode="bilinear",
                                                          align_corners=a["align_corners"]), True),
    "upsample_bilinear_scale": (lambda t, a: F.interpolate(t["x"], scale_factor=a["scale"], mode="bilinear",
                                                           align_corners=a["align_corners"]), True),
    "dropout": (lambda t, a: F.dropout(t["x"], a["p"], a["training"]), True),
    "l1_loss": (lambda t, a: F.l1_loss(t["x"], t["y"], reduction=a["reduction"]), True),
    "mse_loss": (lambda t, a: F.mse_loss(t["x"], t["y"], reduction=a["reduction"]), True),
    "bce_with_logits": (lambda t, a: F.binary_cross_entropy_with_logits(
        t["x"], t["y"], weight=t.get("weight"), pos_weight=t.get("pos_weight"), reduction=a["reduction"]), True),
    "composite": (lambda t, a: composite_op(t, a), True),
}


def slice_op(x, a):
    index = [slice(None)] * x.dim()
    index[a["dim"]] = slice(a["start"], a["end"], a["step"])
    return x[tuple(index)]


def batch_norm_op(t, a):
    rm, rv = t.get("running_mean"), t.get("running_var")
    y = F.batch_norm(t["x"], rm, rv, t.get("w"), t.get("b"), a["training"], a["momentum"], a["eps"])
    if rm is None:
        return y
    return {"": y, "running_mean": rm, "running_var": rv}


def instance_norm_op(t, a):
    rm, rv = t.get("running_mean"), t.get("running_var")
    y = F.instance_norm(t["x"], rm, rv, t.get("w"), t.get("b"), a["use_input_stats"], a["momentum"], a["eps"])
    if rm is None:
        return y
    return {"": y, "running_mean": rm, "running_var": rv}


def composite_op(t, a):
    h = F.conv2d(t["x"], t["w1"], t["b1"], stride=2, padding=1)
    h = F.instance_norm(h, weight=t["g"], bias=t["beta"])
    h = F.leaky_relu(h, 0.2)
    h = F.conv_transpose2d(h, t["w2"], t["b2"], stride=2, padding=1, output_padding=1)
    return F.l1_loss(torch.tanh(h), t["target"])


# ---------------------------------------------------------------------------------------

tensors = {}
metadata = {}
# Statistics and indices are not trained; libtorch 1.13 defines no derivative for the loss
# weights of binary_cross_entropy_with_logits.
NON_DIFF_INPUTS = {"running_mean", "running_var", "index", "cond", "weight", "pos_weight"}


def flatten_outputs(result):
    if isinstance(result, torch.Tensor):
        return {"out": result}
    if isinstance(result, list):
        return {f"out.{i}": r for i, r in enumerate(result)}
    return {("out." + k if k else "out"): v for k, v in result.items()}


def case(name, op, inputs=None, **args):
    """Runs OPS[op] on copies of `inputs` and records inputs, outputs and gradients under `name`."""
    assert "." not in name and name not in metadata, name
    fn, differentiable = OPS[op]
    inputs = inputs or {}
    for k, v in inputs.items():
        tensors[f"{name}.in.{k}"] = v.clone()
    work = {k: v.clone() for k, v in inputs.items()}
    diff = [k for k, v in work.items() if differentiable and v.is_floating_point() and k not in NON_DIFF_INPUTS]
    for k in diff:
        work[k].requires_grad_(True)
    outputs = flatten_outputs(fn(work, args))
    grad_outputs = []
    loss = None
    for key, value in outputs.items():
        tensors[f"{name}.{key}"] = value.detach().clone()
        if diff and value.requires_grad:
            g = randn(*value.shape)
            tensors[f"{name}.{key.replace('out', 'upstream', 1)}"] = g
            term = (value * g).sum()
            loss = term if loss is None else loss + term
            grad_outputs.append(key)
    if diff:
        assert loss is not None, name
        grads = torch.autograd.grad(loss, [work[k] for k in diff], allow_unused=True)
        for k, g in zip(diff, grads):
            tensors[f"{name}.grad.{k}"] = torch.zeros_like(work[k]) if g is None else g
    metadata[name] = json.dumps({"op": op, "args": args, "outputs": list(outputs), "grad_outputs": grad_outputs,
                                 "diff": diff}, sort_keys=True)


# creation
case("zeros_f32", "zeros", shape=[2, 3], dtype="float32")
case("zeros_i64", "zeros", shape=[4], dtype="int64")
case("ones_f64", "ones", shape=[3, 2], dtype="float64")
case("ones_u8", "ones", shape=[2, 2], dtype="uint8")
case("ones_bool", "ones", shape=[3], dtype="bool")
case("full_f32", "full", shape=[2, 2], value=-1.5, dtype="float32")
case("full_0d", "full", shape=[], value=3.25, dtype="float64")
case("full_i32", "full", shape=[3], value=7, dtype="int32")
case("arange_fractional", "arange", start=0.5, end=3.0, step=0.25, dtype="float32")
case("arange_negative_step", "arange", start=5, end=-1, step=-1.5, dtype="float64")
case("arange_end", "arange_end", end=7)
case("from_values_f32", "from_values", values=[1.5, -2, 0.25, 1e-3, 4, -7], shape=[2, 3], dtype="float32")
case("from_values_f64", "from_values", values=[3.141592653589793, -1e-300, 2.5], shape=[3], dtype="float64")
case("from_values_i64", "from_values", values=[-(2 ** 62), -1, 0, 2 ** 53 + 1], shape=[2, 2], dtype="int64")
case("from_values_i32", "from_values", values=[-5, 0, 2147483647], shape=[3], dtype="int32")
case("from_values_u8", "from_values", values=[0, 1, 128, 255], shape=[2, 2], dtype="uint8")
case("from_values_bool", "from_values", values=[True, False, True], shape=[3, 1], dtype="bool")
case("scalar_f32", "scalar", value=-0.75, dtype="float32")
case("scalar_i64", "scalar", value=12, dtype="int64")
case("rand_seed42", "rand", seed=42, shape=[3, 4], dtype="float32")
case("rand_f64", "rand", seed=7, shape=[20], dtype="float64")
case("randn_small", "randn", seed=3, shape=[5], dtype="float32")
case("randn_vectorised", "randn", seed=3, shape=[4, 9], dtype="float32")
case("randn_f64", "randn", seed=11, shape=[2, 10], dtype="float64")
case("randint", "randint", seed=5, low=-3, high=9, shape=[4, 5])
case("randperm", "randperm", seed=9, n=12)
case("normal_inplace", "normal_", seed=13, shape=[3, 7], mean=2.0, std=0.5)
case("uniform_inplace", "uniform_", seed=17, shape=[3, 7], low=-2.0, high=3.0)
case("rng_sequence", "rng_sequence", seed=21, shape=[18])

# conversion
case("to_int64", "to_dtype", {"x": torch.tensor([-2.7, -0.5, 0.5, 1.5, 2.5, 300.7])}, dtype="int64")
case("to_float16", "to_dtype", {"x": randn(2, 5) * 100}, dtype="float16")
case("to_bool", "to_dtype", {"x": torch.tensor([0.0, -0.0, 1e-30, -2.0, 0.5])}, dtype="bool")
case("to_uint8", "to_dtype", {"x": torch.tensor([0.0, 1.9, 127.5, 255.0])}, dtype="uint8")
case("int_to_float32", "to_dtype", {"x": torch.tensor([-3, 0, 16777217])}, dtype="float32")
case("to_float64", "to_float64", {"x": randn(2, 3)})
case("clone", "clone", {"x": randn(2, 3)})
case("contiguous_permuted", "contiguous", {"x": randn(2, 3, 4)}, dims=[2, 0, 1])
case("detached", "detached", {"x": randn(3, 2), "y": randn(3, 2)})

# shape
case("reshape_infer", "reshape", {"x": randn(2, 3, 4)}, shape=[4, -1])
case("reshape_0d", "reshape", {"x": randn(1, 1)}, shape=[])
case("flatten_middle", "flatten", {"x": randn(2, 3, 4, 2)}, start=1, end=2)
case("flatten_all", "flatten", {"x": randn(2, 3, 2)}, start=0, end=-1)
case("permute", "permute", {"x": randn(2, 3, 4)}, dims=[2, 0, 1])
case("transpose", "transpose", {"x": randn(2, 3, 4)}, d0=0, d1=2)
case("matrix_transpose", "mT", {"x": randn(2, 3, 4)})
case("expand", "expand", {"x": randn(3, 1)}, shape=[2, 3, 4])
case("expand_infer", "expand", {"x": randn(1, 3, 1)}, shape=[2, -1, 5])
case("repeat", "repeat", {"x": randn(2, 3)}, repeats=[2, 1, 3])
case("flip", "flip", {"x": randn(2, 3, 4)}, dims=[0, 2])
case("squeeze", "squeeze", {"x": randn(3, 1, 2)}, dim=1)
case("unsqueeze_last", "unsqueeze", {"x": randn(3, 2)}, dim=-1)
case("slice_step2", "slice", {"x": randn(3, 8, 2)}, dim=1, start=1, end=7, step=2)
case("slice_negative_start", "slice", {"x": randn(4, 6)}, dim=-1, start=-3, end=None, step=1)
case("slice_end_past", "slice", {"x": randn(5, 3)}, dim=0, start=2, end=50, step=3)
case("narrow", "narrow", {"x": randn(3, 6)}, dim=1, start=2, length=3)
case("select_last", "select", {"x": randn(2, 4, 3)}, dim=1, index=-1)
case("index_select", "index_select", {"x": randn(4, 3), "index": torch.tensor([2, 0, 2, 3])}, dim=0)
case("chunk_uneven", "chunk", {"x": randn(2, 7)}, chunks=3, dim=1)
case("chunk_fewer", "chunk", {"x": randn(6, 2)}, chunks=4, dim=0)
case("split_sizes", "split", {"x": randn(6, 2)}, sizes=[1, 3, 2], dim=0)
case("cat_dim1", "cat", {"a": randn(2, 1, 3), "b": randn(2, 4, 3), "c": randn(2, 2, 3)}, dim=1)
case("cat_last", "cat", {"a": randn(3, 2), "b": randn(3, 1), "c": randn(3, 3)}, dim=-1)
case("stack_dim0", "stack", {"a": randn(2, 3), "b": randn(2, 3), "c": randn(2, 3)}, dim=0)
case("stack_dim2", "stack", {"a": randn(2, 3), "b": randn(2, 3), "c": randn(2, 3)}, dim=2)
case("pad_constant", "pad", {"x": randn(1, 2, 3, 4)}, pad=[1, 2, 0, 3], mode="constant", value=0.5)
case("pad_constant_crop", "pad", {"x": randn(2, 5)}, pad=[-1, 2], mode="constant", value=0.0)
case("pad_constant_3dims", "pad", {"x": randn(2, 2, 3)}, pad=[0, 1, 2, 0, 1, 1], mode="constant", value=-1.0)
case("pad_reflect_2d", "pad", {"x": randn(1, 2, 4, 5)}, pad=[2, 1, 1, 3], mode="reflect")
case("pad_reflect_1d", "pad", {"x": randn(2, 3, 6)}, pad=[2, 3], mode="reflect")
case("pad_replicate_2d", "pad", {"x": randn(2, 1, 3, 4)}, pad=[0, 2, 3, 1], mode="replicate")
case("pad_replicate_3d", "pad", {"x": randn(1, 1, 2, 3, 2)}, pad=[1, 0, 0, 2, 1, 1], mode="replicate")

# element-wise
case("add_broadcast", "add", {"a": randn(2, 3, 4), "b": randn(3, 1)})
case("sub_broadcast", "sub", {"a": randn(4), "b": randn(2, 1, 4)})
case("mul_broadcast", "mul", {"a": randn(2, 1, 3), "b": randn(1, 4, 1)})
case("div_broadcast", "div", {"a": randn(3, 4), "b": positive(4) * torch.tensor([1.0, -1.0, 1.0, -1.0])})
case("add_alpha", "add_alpha", {"a": randn(2, 3), "b": randn(3)}, alpha=-2.5)
case("pow_tensor", "pow_tensor", {"a": positive(3, 4), "b": randn(4)})
case("maximum", "maximum", {"a": randn(3, 4), "b": randn(1, 4)})
case("minimum", "minimum", {"a": randn(3, 1), "b": randn(3, 4)})
case("lerp", "lerp", {"a": randn(2, 5), "b": randn(2, 5)}, weight=0.3)
case("where", "where", {"cond": randn(3, 4) > 0, "a": randn(3, 4), "b": randn(4)})
case("eq", "eq", {"a": ties(3, 4), "b": ties(4)})
case("ne", "ne", {"a": ties(3, 4), "b": ties(3, 1)})
case("lt", "lt", {"a": ties(3, 4), "b": ties(3, 4)})
case("le", "le", {"a": ties(3, 4), "b": ties(3, 4)})
case("gt", "gt", {"a": ties(3, 4), "b": ties(4)})
case("ge", "ge", {"a": ties(3, 4), "b": ties(3, 4)})
case("eq_int64", "eq", {"a": torch.tensor([1, 5, -3, 7]), "b": torch.tensor([1, 4, -3, 8])})
case("add_scalar", "add_scalar", {"x": randn(2, 3)}, s=2.5)
case("scalar_add", "scalar_add", {"x": randn(2, 3)}, s=-1.25)
case("sub_scalar", "sub_scalar", {"x": randn(2, 3)}, s=0.75)
case("scalar_sub", "scalar_sub", {"x": randn(2, 3)}, s=3.0)
case("mul_scalar", "mul_scalar", {"x": randn(2, 3)}, s=-4.0)
case("scalar_mul", "scalar_mul", {"x": randn(2, 3)}, s=0.5)
case("div_scalar", "div_scalar", {"x": randn(2, 3)}, s=-3.0)
case("scalar_div", "scalar_div", {"x": positive(2, 3) * torch.tensor([1.0, -1.0, 1.0])}, s=2.0)
case("pow_scalar_cube", "pow_scalar", {"x": randn(2, 3)}, s=3.0)
case("pow_scalar_sqrt", "pow_scalar", {"x": positive(2, 3)}, s=0.5)
case("pow_scalar_negative", "pow_scalar", {"x": positive(5)}, s=-1.5)
case("eq_scalar", "eq_scalar", {"x": ties(3, 4)}, s=1.0)
case("lt_scalar", "lt_scalar", {"x": ties(3, 4)}, s=0.0)
case("gt_scalar", "gt_scalar", {"x": ties(3, 4)}, s=-1.0)
case("neg", "neg", {"x": randn(2, 3)})
case("abs", "abs", {"x": randn(2, 3)})
case("exp", "exp", {"x": randn(2, 3)})
case("log", "log", {"x": positive(2, 3)})
case("log1p", "log1p", {"x": rand(2, 3) * 3 - 0.9})
case("sqrt", "sqrt", {"x": positive(2, 3)})
case("rsqrt", "rsqrt", {"x": positive(2, 3)})
case("square", "square", {"x": randn(2, 3)})
case("sin", "sin", {"x": randn(2, 3) * 3})
case("cos", "cos", {"x": randn(2, 3) * 3})
case("sign", "sign", {"x": torch.cat([randn(5), torch.zeros(1)])})
case("floor", "floor", {"x": randn(2, 4) * 3})
case("ceil", "ceil", {"x": randn(2, 4) * 3})
case("round_half_even", "round", {"x": torch.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49, -3.7])})
case("clamp_both", "clamp", {"x": randn(3, 4)}, min=-0.5, max=0.7)
case("clamp_min", "clamp", {"x": randn(3, 4)}, min=0.1, max=None)
case("clamp_max", "clamp", {"x": randn(3, 4)}, min=None, max=-0.2)
case("logical_not", "logical_not", {"x": torch.tensor([True, False, False, True])})
case("logical_not_float", "logical_not", {"x": torch.tensor([0.0, 2.0, -0.0, 0.1])})

# activations
case("relu", "relu", {"x": randn(3, 5)})
case("leaky_relu", "leaky_relu", {"x": randn(3, 5)}, slope=0.2)
case("leaky_relu_default", "leaky_relu", {"x": randn(3, 5)}, slope=0.01)
case("sigmoid", "sigmoid", {"x": randn(3, 5) * 3})
case("tanh", "tanh", {"x": randn(3, 5) * 2})
case("softplus_default", "softplus", {"x": randn(3, 5) * 4}, beta=1.0, threshold=20.0)
case("softplus_beta_threshold", "softplus", {"x": randn(3, 5) * 2}, beta=2.0, threshold=1.0)
case("softmax_dim1", "softmax", {"x": randn(2, 4, 3)}, dim=1)
case("softmax_last", "softmax", {"x": randn(3, 5) * 3}, dim=-1)
case("log_softmax_dim0", "log_softmax", {"x": randn(4, 3)}, dim=0)
case("log_softmax_last", "log_softmax", {"x": randn(2, 3, 5)}, dim=-1)

# reductions
for op in ["sum", "mean", "amax", "amin"]:
    case(f"{op}_all", op, {"x": randn(3, 4, 5)}, dims=[], keepdim=False)
    case(f"{op}_dims02", op, {"x": randn(3, 4, 5)}, dims=[0, 2], keepdim=False)
    case(f"{op}_dim1_keepdim", op, {"x": randn(3, 4, 5)}, dims=[1], keepdim=True)
    case(f"{op}_last", op, {"x": randn(3, 4)}, dims=[-1], keepdim=False)
for op in ["var", "std"]:
    case(f"{op}_all", op, {"x": randn(3, 4, 5)}, dims=[], correction=1, keepdim=False)
    case(f"{op}_dim1_biased_keepdim", op, {"x": randn(3, 4, 5)}, dims=[1], correction=0, keepdim=True)
    case(f"{op}_dims02", op, {"x": randn(3, 4, 5)}, dims=[0, 2], correction=1, keepdim=False)
case("norm_l2_all", "norm", {"x": randn(3, 4)}, p=2.0, dims=[], keepdim=False)
case("norm_l1_dim1", "norm", {"x": randn(3, 4, 2)}, p=1.0, dims=[1], keepdim=False)
case("norm_p3_keepdim", "norm", {"x": randn(3, 4, 2)}, p=3.0, dims=[0, 2], keepdim=True)
case("logsumexp", "logsumexp", {"x": randn(3, 4) * 3}, dims=[1], keepdim=False)
case("logsumexp_keepdim", "logsumexp", {"x": randn(2, 3, 4)}, dims=[0, 2], keepdim=True)
case("argmax", "argmax", {"x": randn(3, 5)}, dim=1, keepdim=False)
case("argmin_keepdim", "argmin", {"x": randn(4, 3)}, dim=0, keepdim=True)

# linear algebra
case("matmul_2d", "matmul", {"a": randn(3, 4), "b": randn(4, 5)})
case("matmul_batched", "matmul", {"a": randn(2, 3, 4), "b": randn(2, 4, 2)})
case("matmul_broadcast_batch", "matmul", {"a": randn(2, 1, 3, 4), "b": randn(3, 4, 2)})
case("matmul_vector", "matmul", {"a": randn(4), "b": randn(4, 3)})
case("mv", "mv", {"a": randn(3, 4), "b": randn(4)})
case("dot", "dot", {"a": randn(6), "b": randn(6)})

# in place
case("add_inplace", "add_", {"x": randn(2, 3), "y": randn(3)}, alpha=0.5)
case("add_scalar_inplace", "add_scalar_", {"x": randn(2, 3)}, s=-1.5)
case("mul_inplace", "mul_", {"x": randn(2, 3), "y": randn(2, 1)})
case("mul_scalar_inplace", "mul_scalar_", {"x": randn(2, 3)}, s=3.0)
case("addcmul_inplace", "addcmul_", {"x": randn(2, 3), "a": randn(2, 3), "b": randn(3)}, value=0.25)
case("addcdiv_inplace", "addcdiv_", {"x": randn(2, 3), "a": randn(2, 3), "b": positive(2, 3)}, value=-2.0)
case("copy_broadcast_convert", "copy_", {"x": randn(2, 3), "y": randn(3).double()})
case("zero_inplace", "zero_", {"x": randn(2, 3)})
case("fill_inplace", "fill_", {"x": randn(2, 3)}, value=0.125)
case("clamp_inplace", "clamp_", {"x": randn(3, 4)}, min=-0.3, max=0.4)

# convolution
conv = dict(stride=[1, 1], padding=[0, 0], dilation=[1, 1], groups=1)
case("conv2d_basic", "conv2d", {"x": randn(2, 3, 6, 6), "w": randn(4, 3, 3, 3), "b": randn(4)}, **conv)
case("conv2d_stride2", "conv2d", {"x": randn(2, 3, 7, 7), "w": randn(4, 3, 3, 3), "b": randn(4)},
     **{**conv, "stride": [2, 2], "padding": [1, 1]})
case("conv2d_asymmetric", "conv2d", {"x": randn(1, 2, 7, 5), "w": randn(3, 2, 3, 2), "b": randn(3)},
     **{**conv, "stride": [2, 1], "padding": [0, 2]})
case("conv2d_dilation2", "conv2d", {"x": randn(2, 2, 9, 8), "w": randn(3, 2, 3, 3), "b": randn(3)},
     **{**conv, "padding": [2, 1], "dilation": [2, 2]})
case("conv2d_groups2", "conv2d", {"x": randn(2, 4, 5, 5), "w": randn(6, 2, 3, 3), "b": randn(6)},
     **{**conv, "padding": [1, 1], "groups": 2})
case("conv2d_depthwise", "conv2d", {"x": randn(1, 3, 6, 5), "w": randn(3, 1, 3, 3), "b": randn(3)},
     **{**conv, "stride": [2, 2], "padding": [1, 1], "groups": 3})
case("conv2d_no_bias", "conv2d", {"x": randn(2, 3, 5, 6), "w": randn(2, 3, 1, 3)}, **{**conv, "padding": [0, 1]})
convt = dict(stride=[1, 1], padding=[0, 0], output_padding=[0, 0], groups=1, dilation=[1, 1])
case("conv_transpose2d_basic", "conv_transpose2d", {"x": randn(2, 3, 4, 4), "w": randn(3, 2, 3, 3), "b": randn(2)},
     **convt)
case("conv_transpose2d_stride2_outpad1", "conv_transpose2d",
     {"x": randn(2, 3, 4, 5), "w": randn(3, 2, 3, 3), "b": randn(2)},
     **{**convt, "stride": [2, 2], "padding": [1, 1], "output_padding": [1, 1]})
case("conv_transpose2d_asymmetric", "conv_transpose2d",
     {"x": randn(1, 2, 3, 4), "w": randn(2, 3, 4, 3), "b": randn(3)},
     **{**convt, "stride": [2, 1], "padding": [1, 0], "output_padding": [1, 0]})
case("conv_transpose2d_groups2", "conv_transpose2d",
     {"x": randn(1, 4, 3, 3), "w": randn(4, 3, 3, 3), "b": randn(6)}, **{**convt, "padding": [1, 1], "groups": 2})
case("conv_transpose2d_dilation2", "conv_transpose2d", {"x": randn(2, 2, 4, 3), "w": randn(2, 3, 3, 3)},
     **{**convt, "padding": [1, 1], "dilation": [2, 2]})
case("linear", "linear", {"x": randn(3, 5), "w": randn(4, 5), "b": randn(4)})
case("linear_batched_no_bias", "linear", {"x": randn(2, 3, 5), "w": randn(4, 5)})

# normalisation
bn_stats = lambda c: {"running_mean": randn(c) * 0.5, "running_var": positive(c)}
case("batch_norm_train", "batch_norm",
     {"x": randn(4, 3, 5, 5) * 2 + 1, "w": randn(3), "b": randn(3), **bn_stats(3)},
     training=True, momentum=0.2, eps=1e-5)
case("batch_norm_train_no_stats", "batch_norm", {"x": randn(4, 3, 3, 3), "w": randn(3), "b": randn(3)},
     training=True, momentum=0.1, eps=1e-3)
case("batch_norm_train_2d_no_affine", "batch_norm", {"x": randn(8, 3), **bn_stats(3)},
     training=True, momentum=0.1, eps=1e-5)
case("batch_norm_eval", "batch_norm", {"x": randn(2, 3, 4, 4), "w": randn(3), "b": randn(3), **bn_stats(3)},
     training=False, momentum=0.1, eps=1e-5)
case("instance_norm_plain", "instance_norm", {"x": randn(2, 3, 5, 5) * 3 - 1},
     use_input_stats=True, momentum=0.1, eps=1e-5)
case("instance_norm_affine", "instance_norm", {"x": randn(2, 3, 4, 5), "w": randn(3), "b": randn(3)},
     use_input_stats=True, momentum=0.1, eps=1e-3)
case("instance_norm_tracking", "instance_norm", {"x": randn(2, 3, 4, 4), **bn_stats(3)},
     use_input_stats=True, momentum=0.3, eps=1e-5)
case("instance_norm_running_stats", "instance_norm",
     {"x": randn(2, 3, 4, 4), "w": randn(3), "b": randn(3), **bn_stats(3)},
     use_input_stats=False, momentum=0.1, eps=1e-5)

# pooling
pool = lambda **kw: {"stride": None, "padding": [0, 0], "ceil_mode": False, **kw}
case("avg_pool2d_k2", "avg_pool2d", {"x": randn(2, 2, 6, 6)}, **pool(kernel=[2, 2]), count_include_pad=True)
case("avg_pool2d_k3s2p1", "avg_pool2d", {"x": randn(1, 2, 7, 7)},
     **pool(kernel=[3, 3], stride=[2, 2], padding=[1, 1]), count_include_pad=True)
case("avg_pool2d_exclude_pad", "avg_pool2d", {"x": randn(1, 2, 7, 6)},
     **pool(kernel=[3, 3], stride=[2, 2], padding=[1, 1]), count_include_pad=False)
case("avg_pool2d_ceil", "avg_pool2d", {"x": randn(1, 2, 7, 8)},
     **pool(kernel=[3, 2], stride=[2, 3], ceil_mode=True), count_include_pad=True)
case("avg_pool2d_ceil_exclude_pad", "avg_pool2d", {"x": randn(1, 1, 6, 7)},
     **pool(kernel=[3, 3], stride=[2, 2], padding=[1, 1], ceil_mode=True), count_include_pad=False)
case("max_pool2d_k2", "max_pool2d", {"x": randn(2, 2, 6, 6)}, **pool(kernel=[2, 2]), dilation=[1, 1])
case("max_pool2d_k3s2p1", "max_pool2d", {"x": randn(1, 2, 7, 7)},
     **pool(kernel=[3, 3], stride=[2, 2], padding=[1, 1]), dilation=[1, 1])
case("max_pool2d_dilation", "max_pool2d", {"x": randn(1, 2, 8, 7)},
     **pool(kernel=[2, 2], stride=[1, 2]), dilation=[2, 2])
case("max_pool2d_ceil", "max_pool2d", {"x": randn(1, 2, 7, 6)},
     **pool(kernel=[2, 3], stride=[2, 2], ceil_mode=True), dilation=[1, 1])
case("adaptive_avg_pool2d", "adaptive_avg_pool2d", {"x": randn(2, 2, 7, 5)}, size=[3, 2])
case("adaptive_avg_pool2d_global", "adaptive_avg_pool2d", {"x": randn(2, 3, 4, 5)}, size=[1, 1])
case("adaptive_max_pool2d", "adaptive_max_pool2d", {"x": randn(2, 2, 7, 6)}, size=[3, 4])

# resampling
case("upsample_nearest_size", "upsample_nearest_size", {"x": randn(1, 2, 4, 5)}, size=[7, 9])
case("upsample_nearest_down", "upsample_nearest_size", {"x": randn(1, 2, 7, 6)}, size=[3, 4])
case("upsample_nearest_scale2", "upsample_nearest_scale", {"x": randn(2, 2, 3, 4)}, scale=2.0)
case("upsample_nearest_scale1_5", "upsample_nearest_scale", {"x": randn(1, 2, 5, 3)}, scale=1.5)
case("upsample_bilinear_size", "upsample_bilinear_size", {"x": randn(1, 2, 4, 5)}, size=[7, 9], align_corners=False)
case("upsample_bilinear_size_aligned", "upsample_bilinear_size", {"x": randn(1, 2, 4, 5)}, size=[7, 9],
     align_corners=True)
case("upsample_bilinear_down", "upsample_bilinear_size", {"x": randn(1, 1, 7, 6)}, size=[3, 4], align_corners=False)
case("upsample_bilinear_scale2", "upsample_bilinear_scale", {"x": randn(2, 2, 3, 4)}, scale=2.0, align_corners=False)
case("upsample_bilinear_scale1_5_aligned", "upsample_bilinear_scale", {"x": randn(1, 2, 5, 3)}, scale=1.5,
     align_corners=True)
case("upsample_bilinear_scale1_5", "upsample_bilinear_scale", {"x": randn(1, 2, 5, 3)}, scale=1.5,
     align_corners=False)

# dropout: only the deterministic settings; the training statistics are tested in Swift
case("dropout_p0_train", "dropout", {"x": randn(3, 4)}, p=0.0, training=True)
case("dropout_eval", "dropout", {"x": randn(3, 4)}, p=0.5, training=False)
case("dropout_p1_train", "dropout", {"x": randn(3, 4)}, p=1.0, training=True)

# losses
for reduction in ["none", "mean", "sum"]:
    case(f"l1_loss_{reduction}", "l1_loss", {"x": randn(2, 3, 4), "y": randn(2, 3, 4)}, reduction=reduction)
    case(f"mse_loss_{reduction}", "mse_loss", {"x": randn(2, 3, 4), "y": randn(2, 3, 4)}, reduction=reduction)
    case(f"bce_with_logits_{reduction}", "bce_with_logits", {"x": randn(4, 3) * 3, "y": rand(4, 3)},
         reduction=reduction)
    case(f"bce_with_logits_weighted_{reduction}", "bce_with_logits",
         {"x": randn(4, 3) * 3, "y": (rand(4, 3) > 0.5).float(), "weight": positive(3)}, reduction=reduction)
    case(f"bce_with_logits_pos_weight_{reduction}", "bce_with_logits",
         {"x": randn(4, 3) * 3, "y": rand(4, 3), "pos_weight": positive(3)}, reduction=reduction)
    case(f"bce_with_logits_both_{reduction}", "bce_with_logits",
         {"x": randn(2, 4, 3) * 3, "y": rand(2, 4, 3), "weight": positive(4, 1), "pos_weight": positive(3)},
         reduction=reduction)

case("composite", "composite",
     {"x": randn(2, 2, 6, 6), "w1": randn(3, 2, 3, 3) * 0.5, "b1": randn(3), "g": positive(3), "beta": randn(3),
      "w2": randn(3, 2, 3, 3) * 0.5, "b2": randn(2), "target": rand(2, 2, 6, 6) * 2 - 1})

unused = set(OPS) - {json.loads(v)["op"] for v in metadata.values()}
assert not unused, f"ops without a case: {sorted(unused)}"


def python_written():
    """Tensors whose exact values the Swift test spells out."""
    return {
        "f16": torch.tensor([1.0, -2.5, 0.1, 65504.0, -0.0, 2.0 ** -24, float("inf"), -float("inf")],
                            dtype=torch.float16).reshape(2, 4),
        "f32": torch.tensor([[0.0, 1.5, -3.25], [1e-45, 3.4028234663852886e38, 0.1]], dtype=torch.float32),
        "f64": torch.tensor([3.141592653589793, -1e300, 5e-324, 0.1], dtype=torch.float64),
        "i64": torch.tensor([-(2 ** 63), -1, 0, 1, 2 ** 63 - 1, 2 ** 53 + 1], dtype=torch.int64).reshape(3, 2),
        "scalar": torch.tensor(-7.5, dtype=torch.float32),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
        "u8": torch.tensor([0, 7, 255], dtype=torch.uint8),
        "flags": torch.tensor([True, False, True]),
    }


def canonicalise_header(path):
    """Rewrites the JSON header with sorted keys.

    safetensors emits `__metadata__` in hash order, which would make every regeneration
    a spurious change to the committed fixture; the data section is left untouched.
    """
    with open(path, "rb") as f:
        blob = f.read()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.dumps(json.loads(blob[8:8 + n]), sort_keys=True, separators=(",", ":")).encode()
    header += b" " * (-len(header) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header + blob[8 + n:])


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    ops_path = os.path.join(OUT_DIR, "ops.safetensors")
    save_file({k: v.contiguous() for k, v in tensors.items()}, ops_path, metadata=metadata)
    canonicalise_header(ops_path)
    py_path = os.path.join(OUT_DIR, "python_written.safetensors")
    save_file(python_written(), py_path, metadata={"format": "pt", "origin": "make_op_fixtures.py",
                                                   "note": "ünïcødé ✓"})
    for p in (ops_path, py_path):
        os.chmod(p, 0o644)
        print(f"{os.path.relpath(p)}: {os.path.getsize(p)} bytes")
    print(f"{len(metadata)} cases, {len(tensors)} tensors, {len(OPS)} ops")


if __name__ == "__main__":
    sys.exit(main())
