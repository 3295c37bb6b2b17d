#!/usr/bin/python3
"""Reference values for the NN target's parity tests.

Run with Debian's PyTorch and the vendored safetensors package:

    PYTHONPATH=.cache/python /usr/bin/python3 Tests/Fixtures/make_nn_fixtures.py

Writes into Tests/NNTests/Fixtures/ (every file's metadata maps a case name to a JSON
description that the Swift tests read, so the layer configuration lives in one place):

layers.safetensors
    One torch.nn layer per case NAME, metadata NAME -> {"layer", "args", "mode", "state_names"}.
      NAME.state.<key>   the layer's state_dict before the forward pass
      NAME.input         the input x
      NAME.upstream      a fixed random G shaped like the output
      NAME.output        layer(x)
      NAME.grad.input    d sum(layer(x) * G) / dx
      NAME.grad.<param>  the same derivative for each parameter
      NAME.after.<key>   every buffer after the forward pass (running statistics)

spectral.safetensors
    torch.nn.utils.spectral_norm around a Conv2d and a Linear, metadata NAME ->
    {"layer", "args", "n_power_iterations", "state_names"}.
      NAME.state.<key>, NAME.input, NAME.upstream
      NAME.train.output, NAME.train.weight_u, NAME.train.weight_v  (one training forward)
      NAME.train.grad.input, NAME.train.grad.<param>
      NAME.eval.output   an evaluation forward after that one

composite.safetensors
    A small nested network (see Net below). Metadata "state_dict" -> [[name, shape, dtype]]
    in PyTorch's order, "parameters" -> named_parameters() names.
      state.<key>, input, upstream, train.output, train.grad.input, train.grad.<param>,
      train.after.<buffer>, eval.output

optim.safetensors
    Ten optimiser steps on loss = mse(x Wᵀ + b, y) from W0, b0, metadata NAME -> settings.
      W0, b0, x, y
      NAME.W [10, 3, 4], NAME.b [10, 3]  parameters after each step
      NAME.state.<i>.<field>             the optimiser state after the last step

schedulers.safetensors
    NAME.lr [2, 11] (float64): the learning rate of two parameter groups (base rates
    2e-4 and 1e-3) before the first scheduler.step() and after each of ten; metadata
    NAME -> the rule.

init.safetensors
    Metadata only: "fans" -> fan-in/fan-out of weight shapes by
    torch.nn.init._calculate_fan_in_and_fan_out; "stds" -> the standard deviations that
    xavier_normal_/kaiming_normal_ aim for; "default_bounds" -> the uniform bound of the
    layers' default initialisation.
"""

import json
import math
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "..", "NNTests", "Fixtures")

torch.set_default_dtype(torch.float32)
torch.manual_seed(20240612)  # default initialisers and spectral-norm vectors
gen = torch.Generator().manual_seed(20240612)


def randn(*shape):
    return torch.randn(shape, generator=gen)


def rand(*shape):
    return torch.rand(shape, generator=gen)


def save(name, tensors, metadata):
    path = os.path.join(OUT_DIR, name)
    tensors = {k: v.detach().contiguous().clone() for k, v in tensors.items()}
    save_file(tensors, path, metadata={k: json.dumps(v) for k, v in metadata.items()})
    sort_header(path)
    os.chmod(path, 0o644)
    print(f"{name}: {len(tensors)} tensors, {os.path.getsize(path)} bytes")


def sort_header(path):
    """safetensors writes its header from a hash map; sorted keys keep regenerated files byte-identical."""
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.dumps(json.loads(data[8:8 + n]), sort_keys=True, separators=(",", ":")).encode()
    assert len(header) <= n, path
    with open(path, "wb") as f:
        f.write(data[:8] + header + b" " * (n - len(header)) + data[8 + n:])


# MARK: Layers

def pair(v):
    return list(v) if isinstance(v, (list, tuple)) else [v, v]


def build(layer, a):
    """The torch.nn layer for a case; the Swift test builds its own from the same JSON."""
    if layer == "Conv2d":
        return nn.Conv2d(a["in"], a["out"], a["kernel"], stride=a["stride"], padding=a["padding"],
                         dilation=a["dilation"], groups=a["groups"], bias=a["bias"])
    if layer == "ConvTranspose2d":
        return nn.ConvTranspose2d(a["in"], a["out"], a["kernel"], stride=a["stride"], padding=a["padding"],
                                  output_padding=a["output_padding"], groups=a["groups"], bias=a["bias"],
                                  dilation=a["dilation"])
    if layer == "Linear":
        return nn.Linear(a["in"], a["out"], bias=a["bias"])
    if layer == "InstanceNorm2d":
        return nn.InstanceNorm2d(a["features"], eps=a["eps"], momentum=a["momentum"], affine=a["affine"],
                                 track_running_stats=a["track"])
    if layer == "BatchNorm2d":
        return nn.BatchNorm2d(a["features"], eps=a["eps"], momentum=a["momentum"], affine=a["affine"],
                              track_running_stats=a["track"])
    if layer == "Dropout":
        return nn.Dropout(a["p"])
    if layer == "ReflectionPad2d":
        return nn.ReflectionPad2d(tuple(a["padding"]))
    if layer == "Upsample":
        return nn.Upsample(scale_factor=a["scale"], mode=a["mode"],
                           align_corners=a["align_corners"] if a["mode"] == "bilinear" else None)
    if layer == "AvgPool2d":
        return nn.AvgPool2d(a["kernel"], stride=a["stride"], padding=a["padding"], ceil_mode=a["ceil_mode"],
                            count_include_pad=a["count_include_pad"])
    if layer == "LeakyReLU":
        return nn.LeakyReLU(a["slope"])
    return {"ReLU": nn.ReLU, "Tanh": nn.Tanh, "Sigmoid": nn.Sigmoid, "Identity": nn.Identity}[layer]()


def conv(i, o, k, stride=1, padding=0, dilation=1, groups=1, bias=True, output_padding=None):
    a = {"in": i, "out": o, "kernel": pair(k), "stride": pair(stride), "padding": pair(padding),
         "dilation": pair(dilation), "groups": groups, "bias": bias}
    if output_padding is not None:
        a["output_padding"] = pair(output_padding)
    return a


def norm(features, affine, track, eps=1e-5, momentum=0.1):
    return {"features": features, "affine": affine, "track": track, "eps": eps, "momentum": momentum}


# (name, layer, args, input shape, mode)
LAYER_CASES = [
    ("conv_basic", "Conv2d", conv(3, 4, 3, padding=1), [2, 3, 6, 6], "train"),
    ("conv_down", "Conv2d", conv(3, 5, 4, stride=2, padding=1), [2, 3, 8, 8], "train"),
    ("conv_rect_dilated_grouped_nobias", "Conv2d",
     conv(4, 6, (3, 5), stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=2, bias=False), [2, 4, 9, 7], "train"),
    ("conv_depthwise", "Conv2d", conv(4, 8, 3, padding=2, dilation=2, groups=4), [1, 4, 6, 5], "train"),
    ("convT_up", "ConvTranspose2d", conv(4, 3, 4, stride=2, padding=1, output_padding=0), [2, 4, 5, 5], "train"),
    ("convT_outpad_grouped_nobias", "ConvTranspose2d",
     conv(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, bias=False), [2, 4, 4, 5], "train"),
    ("convT_rect_dilated", "ConvTranspose2d",
     conv(3, 2, (2, 3), stride=(1, 2), padding=(0, 1), output_padding=(0, 1), dilation=(2, 1)), [1, 3, 4, 4], "train"),
    ("linear", "Linear", {"in": 5, "out": 3, "bias": True}, [4, 5], "train"),
    ("linear_nobias_3d", "Linear", {"in": 6, "out": 2, "bias": False}, [2, 3, 6], "train"),
    ("instancenorm", "InstanceNorm2d", norm(4, False, False), [2, 4, 5, 5], "train"),
    ("instancenorm_affine", "InstanceNorm2d", norm(4, True, False, eps=1e-3), [2, 4, 5, 5], "train"),
    ("instancenorm_track_train", "InstanceNorm2d", norm(3, True, True, momentum=0.2), [2, 3, 4, 6], "train"),
    ("instancenorm_track_eval", "InstanceNorm2d", norm(3, True, True), [2, 3, 4, 6], "eval"),
    ("batchnorm_train", "BatchNorm2d", norm(4, True, True), [3, 4, 5, 5], "train"),
    ("batchnorm_train_momentum", "BatchNorm2d", norm(3, True, True, eps=1e-3, momentum=0.3), [4, 3, 2, 3], "train"),
    ("batchnorm_train_plain", "BatchNorm2d", norm(3, False, False), [4, 3, 3, 3], "train"),
    ("batchnorm_eval", "BatchNorm2d", norm(4, True, True), [3, 4, 5, 5], "eval"),
    ("dropout_eval", "Dropout", {"p": 0.5}, [2, 3, 4, 4], "eval"),
    ("reflectionpad", "ReflectionPad2d", {"padding": [2, 2, 2, 2]}, [2, 3, 5, 5], "train"),
    ("reflectionpad_uneven", "ReflectionPad2d", {"padding": [1, 3, 0, 2]}, [1, 2, 4, 5], "train"),
    ("upsample_nearest", "Upsample", {"scale": 2.0, "mode": "nearest", "align_corners": False}, [2, 3, 4, 5], "train"),
    ("upsample_nearest_fractional", "Upsample", {"scale": 1.5, "mode": "nearest", "align_corners": False},
     [1, 2, 5, 3], "train"),
    ("upsample_bilinear", "Upsample", {"scale": 2.0, "mode": "bilinear", "align_corners": False}, [2, 3, 4, 5], "train"),
    ("upsample_bilinear_corners", "Upsample", {"scale": 2.0, "mode": "bilinear", "align_corners": True},
     [1, 2, 3, 4], "train"),
    ("upsample_bilinear_fractional", "Upsample", {"scale": 1.5, "mode": "bilinear", "align_corners": False},
     [1, 2, 5, 4], "train"),
    ("avgpool", "AvgPool2d", {"kernel": [2, 2], "stride": [2, 2], "padding": [0, 0], "ceil_mode": False,
                              "count_include_pad": True}, [2, 3, 6, 6], "train"),
    ("avgpool_padded_ceil", "AvgPool2d", {"kernel": [3, 3], "stride": [2, 2], "padding": [1, 1], "ceil_mode": True,
                                          "count_include_pad": False}, [1, 2, 6, 7], "train"),
    ("relu", "ReLU", {}, [2, 3, 4, 4], "train"),
    ("leakyrelu", "LeakyReLU", {"slope": 0.2}, [2, 3, 4, 4], "train"),
    ("tanh", "Tanh", {}, [2, 3, 4, 4], "train"),
    ("sigmoid", "Sigmoid", {}, [2, 3, 4, 4], "train"),
    ("identity", "Identity", {}, [2, 3, 4, 4], "train"),
]


def randomize_state(module):
    """Non-default values everywhere, so a state that failed to load cannot pass."""
    with torch.no_grad():
        for name, t in module.state_dict(keep_vars=True).items():
            if name.endswith("num_batches_tracked"):
                t.fill_(3)
            elif name.endswith("running_var"):
                t.copy_(rand(*t.shape) + 0.5)
            elif name.endswith("weight") and isinstance(module, (nn.BatchNorm2d, nn.InstanceNorm2d)):
                t.copy_(rand(*t.shape) + 0.5)
            else:
                t.copy_(randn(*t.shape) * 0.5)


def make_layers():
    tensors, meta = {}, {}
    for name, layer, args, shape, mode in LAYER_CASES:
        m = build(layer, args)
        randomize_state(m)
        m.train(mode == "train")
        for k, v in m.state_dict().items():
            tensors[f"{name}.state.{k}"] = v.clone()
        x = randn(*shape).requires_grad_(True)
        y = m(x)
        g = randn(*y.shape)
        (y * g).sum().backward()
        tensors[f"{name}.input"] = x
        tensors[f"{name}.upstream"] = g
        tensors[f"{name}.output"] = y
        tensors[f"{name}.grad.input"] = x.grad
        for k, p in m.named_parameters():
            tensors[f"{name}.grad.{k}"] = p.grad
        for k, b in m.named_buffers():
            tensors[f"{name}.after.{k}"] = b.clone()
        meta[name] = {"layer": layer, "args": args, "mode": mode, "state_names": list(m.state_dict().keys())}
    save("layers.safetensors", tensors, meta)


# MARK: Spectral norm

def make_spectral():
    tensors, meta = {}, {}
    cases = [
        ("sn_conv", "Conv2d", conv(3, 4, 3, stride=2, padding=1), 1, [2, 3, 7, 7]),
        ("sn_linear", "Linear", {"in": 6, "out": 4, "bias": True}, 2, [5, 6]),
    ]
    for name, layer, args, iterations, shape in cases:
        m = nn.utils.spectral_norm(build(layer, args), n_power_iterations=iterations)
        m.train()
        for k, v in m.state_dict().items():
            tensors[f"{name}.state.{k}"] = v.clone()
        x = randn(*shape).requires_grad_(True)
        y = m(x)
        g = randn(*y.shape)
        (y * g).sum().backward()
        tensors[f"{name}.input"] = x
        tensors[f"{name}.upstream"] = g
        tensors[f"{name}.train.output"] = y
        tensors[f"{name}.train.weight_u"] = m.weight_u.clone()
        tensors[f"{name}.train.weight_v"] = m.weight_v.clone()
        tensors[f"{name}.train.grad.input"] = x.grad
        for k, p in m.named_parameters():
            tensors[f"{name}.train.grad.{k}"] = p.grad
        m.eval()
        with torch.no_grad():
            tensors[f"{name}.eval.output"] = m(x)
        meta[name] = {"layer": layer, "args": args, "n_power_iterations": iterations,
                      "state_names": list(m.state_dict().keys())}
    save("spectral.safetensors", tensors, meta)


# MARK: Composite

class ResBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), nn.InstanceNorm2d(dim), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), nn.InstanceNorm2d(dim))

    def forward(self, x):
        return x + self.conv_block(x)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(3, 8, 7), nn.InstanceNorm2d(8, affine=True),
                                     nn.ReLU(True))
        self.blocks = nn.ModuleList([ResBlock(8) for _ in range(2)])
        self.norm = nn.BatchNorm2d(8)
        self.down = nn.utils.spectral_norm(nn.Conv2d(8, 4, 4, stride=2, padding=1))
        self.up = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(4, 2, 3, padding=1, bias=False),
                                nn.Tanh())
        self.head = nn.Linear(2 * 8 * 8, 5)

    def forward(self, x):
        x = self.encoder(x)
        for block in self.blocks:
            x = block(x)
        x = self.norm(x)
        x = F.leaky_relu(self.down(x), 0.2)
        x = self.up(x)
        return self.head(x.flatten(1))


def make_composite():
    net = Net()
    randomize_state(net)
    with torch.no_grad():
        # Keep the batch-norm scale and the spectral-norm vectors in their natural ranges.
        net.norm.weight.copy_(rand(8) + 0.5)
        net.norm.running_var.copy_(rand(8) + 0.5)
        net.encoder[2].weight.copy_(rand(8) + 0.5)
        net.down.weight_u.copy_(F.normalize(randn(4), dim=0))
        net.down.weight_v.copy_(F.normalize(randn(8 * 16), dim=0))
    tensors = {f"state.{k}": v.clone() for k, v in net.state_dict().items()}
    meta = {
        "state_dict": [[k, list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in net.state_dict().items()],
        "parameters": [k for k, _ in net.named_parameters()],
    }
    x = randn(3, 3, 8, 8).requires_grad_(True)
    net.train()
    y = net(x)
    g = randn(*y.shape)
    (y * g).sum().backward()
    tensors["input"] = x
    tensors["upstream"] = g
    tensors["train.output"] = y
    tensors["train.grad.input"] = x.grad
    for k, p in net.named_parameters():
        tensors[f"train.grad.{k}"] = p.grad
    for k, b in net.named_buffers():
        tensors[f"train.after.{k}"] = b.clone()
    net.eval()
    with torch.no_grad():
        tensors["eval.output"] = net(x)
    save("composite.safetensors", tensors, meta)


# MARK: Optimisers

OPTIM_CASES = {
    "adam_lr2e-4": {"optimizer": "Adam", "lr": 2e-4, "betas": [0.5, 0.999], "weight_decay": 0.0},
    "adam_lr2e-4_wd": {"optimizer": "Adam", "lr": 2e-4, "betas": [0.5, 0.999], "weight_decay": 0.01},
    "adam_lr1e-2": {"optimizer": "Adam", "lr": 1e-2, "betas": [0.5, 0.999], "weight_decay": 0.0},
    "adam_lr1e-2_wd": {"optimizer": "Adam", "lr": 1e-2, "betas": [0.5, 0.999], "weight_decay": 0.01},
    "adam_defaults": {"optimizer": "Adam", "lr": 1e-3, "betas": [0.9, 0.999], "weight_decay": 0.0},
    "sgd_plain": {"optimizer": "SGD", "lr": 0.1, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0,
                  "nesterov": False},
    "sgd_momentum": {"optimizer": "SGD", "lr": 0.05, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0,
                     "nesterov": False},
    "sgd_nesterov": {"optimizer": "SGD", "lr": 0.05, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0,
                     "nesterov": True},
    "sgd_dampening_wd": {"optimizer": "SGD", "lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01,
                         "nesterov": False},
}


def make_optim():
    w0, b0, x, y = randn(3, 4) * 0.5, randn(3) * 0.5, randn(8, 4), randn(8, 3)
    tensors = {"W0": w0, "b0": b0, "x": x, "y": y}
    for name, c in OPTIM_CASES.items():
        w = w0.clone().requires_grad_(True)
        b = b0.clone().requires_grad_(True)
        if c["optimizer"] == "Adam":
            # The single-tensor path is the one the Swift Adam reproduces operation for operation.
            opt = torch.optim.Adam([w, b], lr=c["lr"], betas=tuple(c["betas"]), weight_decay=c["weight_decay"],
                                   foreach=False)
        else:
            opt = torch.optim.SGD([w, b], lr=c["lr"], momentum=c["momentum"], dampening=c["dampening"],
                                  weight_decay=c["weight_decay"], nesterov=c["nesterov"], foreach=False)
        ws, bs = [], []
        for _ in range(10):
            opt.zero_grad(set_to_none=True)
            F.mse_loss(x @ w.T + b, y).backward()
            opt.step()
            ws.append(w.detach().clone())
            bs.append(b.detach().clone())
        tensors[f"{name}.W"] = torch.stack(ws)
        tensors[f"{name}.b"] = torch.stack(bs)
        for i, s in opt.state_dict()["state"].items():
            for field, v in s.items():
                if torch.is_tensor(v):
                    tensors[f"{name}.state.{i}.{field}"] = v.float() if field == "step" else v
    save("optim.safetensors", tensors, OPTIM_CASES)


# MARK: Schedulers

SCHEDULER_CASES = {
    "linear_decay": {"rule": "linearDecay", "n_epochs": 3, "n_epochs_decay": 4, "epoch_count": 1},
    "step": {"rule": "step", "step_size": 2, "gamma": 0.5},
    "cosine": {"rule": "cosine", "T_max": 5, "eta_min": 1e-5},
}


def make_schedulers():
    tensors = {}
    for name, c in SCHEDULER_CASES.items():
        p1, p2 = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
        opt = torch.optim.Adam([{"params": [p1], "lr": 2e-4}, {"params": [p2], "lr": 1e-3}])
        if c["rule"] == "linearDecay":
            def rule(epoch, c=c):  # pix2pix's networks.get_scheduler, lr_policy 'linear'
                return 1.0 - max(0, epoch + c["epoch_count"] - c["n_epochs"]) / float(c["n_epochs_decay"] + 1)
            sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda=rule)
        elif c["rule"] == "step":
            sched = torch.optim.lr_scheduler.StepLR(opt, step_size=c["step_size"], gamma=c["gamma"])
        else:
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=c["T_max"], eta_min=c["eta_min"])
        rates = [[g["lr"] for g in opt.param_groups]]
        for _ in range(10):
            opt.step()
            sched.step()
            rates.append([g["lr"] for g in opt.param_groups])
        tensors[f"{name}.lr"] = torch.tensor(rates, dtype=torch.float64).T.contiguous()
    save("schedulers.safetensors", tensors, SCHEDULER_CASES)


# MARK: Initialisers

def make_init():
    fan = nn.init._calculate_fan_in_and_fan_out
    shapes = {
        "conv": nn.Conv2d(3, 8, 4).weight.shape,
        "conv_grouped_rect": nn.Conv2d(6, 4, (3, 5), groups=2).weight.shape,
        "convtranspose": nn.ConvTranspose2d(8, 3, 4).weight.shape,
        "convtranspose_grouped": nn.ConvTranspose2d(6, 4, 3, groups=2).weight.shape,
        "linear": nn.Linear(64, 5).weight.shape,
    }
    fans = {k: {"shape": list(s), "fan_in": fan(torch.empty(s))[0], "fan_out": fan(torch.empty(s))[1]}
            for k, s in shapes.items()}

    big = [256, 128, 3, 3]
    fi, fo = fan(torch.empty(big))
    stds = {
        "shape": big,
        "xavier_gain1": 1.0 * math.sqrt(2.0 / (fi + fo)),
        "xavier_gain0.02": 0.02 * math.sqrt(2.0 / (fi + fo)),
        "kaiming_fan_in": nn.init.calculate_gain("leaky_relu", 0) / math.sqrt(fi),
        "kaiming_a0.2_fan_out": nn.init.calculate_gain("leaky_relu", 0.2) / math.sqrt(fo),
    }
    # Empirical check that the formulas above are what torch.nn.init draws from.
    t = torch.empty(big)
    for key, draw in [("xavier_gain1", lambda: nn.init.xavier_normal_(t)),
                      ("kaiming_fan_in", lambda: nn.init.kaiming_normal_(t)),
                      ("kaiming_a0.2_fan_out", lambda: nn.init.kaiming_normal_(t, a=0.2, mode="fan_out"))]:
        draw()
        assert abs(t.std().item() / stds[key] - 1) < 0.01, key

    def default_bound(m):
        # reset_parameters: kaiming_uniform_(a=√5) for the weight, U(±1/√fan_in) for the bias.
        fan_in = fan(m.weight)[0]
        gain = nn.init.calculate_gain("leaky_relu", math.sqrt(5))
        return {"weight": gain * math.sqrt(3.0 / fan_in), "bias": 1 / math.sqrt(fan_in),
                "observed_weight_max": m.weight.abs().max().item()}

    bounds = {
        "conv": dict(default_bound(nn.Conv2d(16, 32, 3)), args=conv(16, 32, 3)),
        "convtranspose": dict(default_bound(nn.ConvTranspose2d(32, 16, 4, groups=2)),
                              args=conv(32, 16, 4, groups=2, output_padding=0)),
        "linear": dict(default_bound(nn.Linear(300, 200)), args={"in": 300, "out": 200, "bias": True}),
    }
    save("init.safetensors", {}, {"fans": fans, "stds": stds, "default_bounds": bounds})


if __name__ == "__main__":
    os.makedirs(OUT_DIR, exist_ok=True)
    make_layers()
    make_spectral()
    make_composite()
    make_optim()
    make_schedulers()
    make_init()
