#!/usr/bin/python3
"""Reference outputs of the models in reference/ for Sketch2Real's model parity tests.

Run with Debian's PyTorch and the vendored safetensors package:

    PYTHONPATH=.cache/python /usr/bin/python3 Tests/Fixtures/make_model_fixtures.py

Writes into Tests/Sketch2RealTests/Fixtures/models/. Each file's metadata maps a case name to
JSON: {"model", "config", "state_names", "buffer_names", ...}; "config" is spelled as the
Swift configuration structs encode themselves, so the Swift test decodes it with JSONDecoder.

Compact storage, so that the committed files stay small:
- Weights, buffers, inputs, latent codes and upstream gradients are drawn on an int8 grid
  (q · 2^k, |q| ≤ 127, one k per tensor), which float32 holds exactly, and stored as int8.
- Generator outputs (tanh, in [-1, 1]) are stored as int16 multiples of 2^-15, at most one
  step (3.1e-5) from the float32 value.
- Gradients, updated buffers and discriminator or block outputs are stored as they are.
The metadata key "encoding" maps the name of every integer-coded tensor to its step: the value
is the stored integer times the step. Every forward pass starts from NAME.state, so train-mode
buffer updates never accumulate.

generators.safetensors  (SRAGAN and pix2pix generators; one-channel sketches in, RGB out)
    input.128 [1,1,128,128], input.256 [1,1,256,256]   shared inputs
    NAME.state.<key>                 the state dict fed to both implementations
    NAME.z [1, latent]               the latent code, for configs with latentChannels > 0
    NAME.<mode>.128                  the full output at 128² (mode: eval or train)
    NAME.<mode>.256.lattice          output[:, :, 1::3, 2::3] at 256²: a lattice that meets
                                     every phase of the ×2/×4 upsamplings, at a ninth the size
    NAME.<mode>.256.stats [2] f64    mean and mean square of the whole 256² output
    NAME.train.<size>.after.<key>    buffers after the train-mode forward (running statistics)
    NAME.batch2.{input,z,<mode>}     a batch of two 32² sketches with different codes
    NAME.grad.{input,z,upstream}     a train-mode forward at 64², loss = sum(output * upstream):
    NAME.grad.output, NAME.grad.x, NAME.grad.dz, NAME.grad.param.<name>
    Metadata "stored_modes": networks without batch norm compute the same function in both
    modes, so only "eval" is stored and the train-mode forward is compared with it.

discriminators.safetensors
    input [2,4,64,48]; NAME.state.<key>; NAME.<mode>.<k> the output map of scale k;
    NAME.train.after.<key> (power-iteration vectors, running statistics);
    NAME.grad.upstream.<k>, NAME.grad.x, NAME.grad.param.<name> for the first input of the batch

blocks.safetensors  (CBAM alone, one attention residual block alone)
    input [2,16,10,8]; NAME.state.<key>; NAME.eval, NAME.train, NAME.train.after.<key>;
    NAME.grad.upstream, NAME.grad.x, NAME.grad.param.<name>
"""

import json
import math
import os
import struct
import sys
import tempfile

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "reference"))

import layers  # noqa: E402
import load  # noqa: E402
import pix2pix  # noqa: E402
import sragan  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

OUT_DIR = os.path.join(ROOT, "Tests", "Sketch2RealTests", "Fixtures", "models")

torch.set_default_dtype(torch.float32)
torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)
gen = torch.Generator().manual_seed(2025_0611)

INT16_STEP = 2.0 ** -15


def int8_grid(t):
    """Rounds to q · 2^k with |q| ≤ 127: eight significant bits that float32 holds exactly."""
    peak = t.abs().max().item()
    step = 2.0 ** math.ceil(math.log2(peak / 127)) if peak > 0 else 1.0
    return torch.round(t / step).clamp(-127, 127) * step, step


def randn(*shape, scale=1.0):
    return int8_grid(torch.randn(shape, generator=gen) * scale)[0]


def uniform(*shape, low=-1.0, high=1.0):
    return int8_grid(torch.rand(shape, generator=gen) * (high - low) + low)[0]


def randomise(module):
    """Moves every tensor away from its default (batch-norm scale 1, shift 0, running
    statistics 0/1) and puts all of them on the int8 grid."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(uniform(m.num_features, low=0.6, high=1.4))
                m.bias.copy_(randn(m.num_features, scale=0.2))
                m.running_mean.copy_(randn(m.num_features, scale=0.2))
                m.running_var.copy_(uniform(m.num_features, low=0.5, high=1.5))
                m.num_batches_tracked.fill_(3)
        for t in module.state_dict().values():
            if t.is_floating_point():
                t.copy_(int8_grid(t)[0])


def stored_state(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def fresh(module, state, train):
    module.load_state_dict(state)
    module.train(train)
    return module


def buffers_after(module):
    return {k: v.detach().clone() for k, v in module.named_buffers()}


def names(module):
    """State-dict names in order, and which of them are buffers; the parameters are the rest,
    in the same order (checked, so the Swift test can rely on it)."""
    state = list(module.state_dict().keys())
    buffers = [k for k, _ in module.named_buffers()]
    assert [k for k, _ in module.named_parameters()] == [k for k in state if k not in buffers]
    return {"state_names": state, "buffer_names": buffers}


def check_not_trivial(name, out):
    """Saturated tanh or all-zero outputs would let a wrong implementation pass."""
    saturated = (out.abs() > 0.999).float().mean().item()
    assert out.std().item() > 1e-3 and saturated < 0.2, f"{name}: degenerate output (saturated {saturated:.2f})"


tensors = {}
metadata = {}
encoding = {}


def put(key, t):
    """Stores t as it is (gradients, outputs that are not images, integer buffers)."""
    assert key not in tensors, key
    tensors[key] = t.detach().contiguous().clone()


def put_exact(key, t):
    """Stores a tensor that lies on the int8 grid as int8 with its step."""
    grid, step = int8_grid(t)
    assert torch.equal(grid, t), f"{key} is not on the int8 grid"
    put(key, torch.round(t / step).to(torch.int8))
    encoding[key] = step


def put_image(key, t):
    """Stores values in [-1, 1] as int16 multiples of 2^-15, off by at most one step."""
    q = torch.round(t / INT16_STEP).clamp(-32768, 32767)
    assert (q * INT16_STEP - t).abs().max().item() <= INT16_STEP
    put(key, q.to(torch.int16))
    encoding[key] = INT16_STEP


def put_state(prefix, state):
    for k, v in state.items():
        if v.is_floating_point():
            put_exact(f"{prefix}.state.{k}", v)
        else:
            put(f"{prefix}.state.{k}", v)


def save(filename):
    global tensors, metadata, encoding
    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, filename)
    text = {k: json.dumps(v, sort_keys=True) for k, v in metadata.items()}
    text["encoding"] = json.dumps(encoding, sort_keys=True)
    save_file(tensors, path, metadata=text)
    canonical_header(path)
    print(f"{filename}: {len(tensors)} tensors, {os.path.getsize(path)} bytes")
    tensors, metadata, encoding = {}, {}, {}


def canonical_header(path):
    """Rewrites the JSON header with sorted keys (same length, space-padded), so that
    regenerating the fixtures gives byte-identical files."""
    with open(path, "rb") as f:
        raw = f.read()
    length = struct.unpack("<Q", raw[:8])[0]
    header = json.dumps(json.loads(raw[8:8 + length]), sort_keys=True, separators=(",", ":")).encode()
    assert len(header) <= length
    with open(path, "wb") as f:
        f.write(raw[:8] + header.ljust(length, b" ") + raw[8 + length:])


# MARK: Generators

def sragan_config(**kw):
    return {**sragan.SRAGAN_DEFAULTS, **kw}


def pix2pix_config(**kw):
    return {**pix2pix.PIX2PIX_DEFAULTS, **kw}


GENERATORS = [
    # name, kind, config, sizes, modes, extras
    ("sragan_dense_transposed_instance", "sragan",
     sragan_config(ngf=8, blocks=3, attentionEvery=1, attentionReduction=4, norm="instance",
                   upsampling="transposed"),
     [128, 256], ["eval", "train"], {}),
    ("sragan_sparse_resize_batch_latent", "sragan",
     sragan_config(ngf=4, blocks=4, attentionEvery=2, attentionReduction=4, norm="batch",
                   upsampling="resizeConv", latentChannels=8),
     [128, 256], ["eval", "train"], {"batch2": True, "gradient": True}),
    ("sragan_dropout_noshortcut_batch", "sragan",
     sragan_config(ngf=8, blocks=3, attentionEvery=2, attentionReduction=8, norm="batch",
                   upsampling="transposed", globalShortcut=False, dropout=True),
     [128, 256], ["eval"], {}),
    ("sragan_noattention_resize_none_latent", "sragan",
     sragan_config(ngf=4, blocks=2, attentionEvery=0, norm="none", upsampling="resizeConv", latentChannels=8),
     [128, 256], ["eval", "train"], {}),
    ("pix2pix_unet128_batch", "pix2pix",
     pix2pix_config(architecture="unet128", ngf=4, norm="batch", dropout=False),
     [128, 256], ["eval", "train"], {}),
    ("pix2pix_unet256_batch_dropout", "pix2pix",
     pix2pix_config(architecture="unet256", ngf=4, norm="batch", dropout=True),
     [256], ["eval"], {}),
    ("pix2pix_resnet6_instance", "pix2pix",
     pix2pix_config(architecture="resnet6", ngf=8, norm="instance", dropout=False),
     [128, 256], ["eval", "train"], {}),
]


def run(g, x, z):
    return g(x, z) if z is not None else g(x)


def has_batch_norm(module):
    return any(isinstance(m, nn.BatchNorm2d) for m in module.modules())


def make_generators():
    inputs = {s: uniform(1, 1, s, s) for s in (128, 256)}
    for s, x in inputs.items():
        put_exact(f"input.{s}", x)
    worst_fp64 = 0.0
    for index, (name, kind, config, sizes, modes, extras) in enumerate(GENERATORS):
        torch.manual_seed(100 + index)
        g = load.build_generator(kind, config)
        randomise(g)
        state = stored_state(g)
        put_state(name, state)
        # Without batch norm or dropout both modes compute the same function: one reference serves both.
        stored_modes = modes if has_batch_norm(g) else ["eval"]
        latent = config.get("latentChannels", 0)
        z = uniform(1, latent) if latent else None
        if z is not None:
            put_exact(f"{name}.z", z)
        for size in sizes:
            x = inputs[size]
            outputs = {}
            for mode in modes:
                with torch.no_grad():
                    outputs[mode] = out = run(fresh(g, state, mode == "train"), x, z)
                check_not_trivial(f"{name} {mode} {size}", out)
                if mode == "train":
                    for k, v in buffers_after(g).items():
                        put(f"{name}.train.{size}.after.{k}", v)
            if "train" in modes and "train" not in stored_modes:
                assert torch.equal(outputs["train"], outputs["eval"]), name
            for mode in stored_modes:
                out = outputs[mode]
                if size == 128:
                    put_image(f"{name}.{mode}.128", out)
                else:
                    put_image(f"{name}.{mode}.{size}.lattice", out[:, :, 1::3, 2::3])
                    wide = out.double()
                    put(f"{name}.{mode}.{size}.stats", torch.stack([wide.mean(), wide.square().mean()]))
            # How far float32 rounding alone moves the output: the floor for the Swift tolerance.
            g64 = load.build_generator(kind, config).double()
            g64.load_state_dict(state)
            g64.eval()
            with torch.no_grad():
                out64 = run(g64, x.double(), z.double() if z is not None else None)
            worst_fp64 = max(worst_fp64, (out64 - outputs["eval"].double()).abs().max().item())
        if extras.get("batch2"):
            xb, zb = uniform(2, 1, 32, 32), uniform(2, latent)
            put_exact(f"{name}.batch2.input", xb)
            put_exact(f"{name}.batch2.z", zb)
            for mode in stored_modes:
                with torch.no_grad():
                    out = run(fresh(g, state, mode == "train"), xb, zb)
                assert (out[0] - out[1]).abs().max() > 1e-3
                put_image(f"{name}.batch2.{mode}", out)
        if extras.get("gradient"):
            xg = uniform(1, config["inputChannels"], 64, 64).requires_grad_()
            zg = uniform(1, latent).requires_grad_() if latent else None
            fresh(g, state, True)
            g.zero_grad(set_to_none=True)
            out = run(g, xg, zg)
            upstream = randn(*out.shape)
            (out * upstream).sum().backward()
            put_exact(f"{name}.grad.input", xg.detach())
            if zg is not None:
                put_exact(f"{name}.grad.z", zg.detach())
                put(f"{name}.grad.dz", zg.grad)
            put_exact(f"{name}.grad.upstream", upstream)
            put_image(f"{name}.grad.output", out)
            put(f"{name}.grad.x", xg.grad)
            for k, p in g.named_parameters():
                assert p.grad is not None and p.grad.abs().max() > 0, f"{name}: no gradient for {k}"
                put(f"{name}.grad.param.{k}", p.grad)
        metadata[name] = {
            "model": kind, "config": config, "sizes": sizes, "modes": modes, "stored_modes": stored_modes,
            **names(g),
            "batch2": bool(extras.get("batch2")), "gradient": bool(extras.get("gradient")),
        }
    print(f"generators: a float64 forward differs from the float32 reference by at most {worst_fp64:.2e}")
    save("generators.safetensors")


# MARK: Discriminators

def discriminator_config(**kw):
    return {**sragan.DISCRIMINATOR_DEFAULTS, **kw}


DISCRIMINATORS = [
    # name, config, whether to store gradients
    ("d_single_instance", discriminator_config(ndf=8, layers=3, norm="instance", scales=1), False),
    ("d_two_scales_batch_spectral", discriminator_config(ndf=4, layers=3, norm="batch", scales=2, spectralNorm=True),
     True),
    ("d_single_spectral_instance", discriminator_config(ndf=8, layers=2, norm="instance", scales=1,
                                                         spectralNorm=True), False),
    ("d_two_scales_instance", discriminator_config(ndf=6, layers=3, norm="instance", scales=2,
                                                    widthFactorPerScale=0.75), False),
]


def make_discriminators():
    x = uniform(2, 4, 64, 48)
    put_exact("input", x)
    for index, (name, config, gradient) in enumerate(DISCRIMINATORS):
        torch.manual_seed(200 + index)
        d = sragan.MultiScaleDiscriminator(config)
        randomise(d)
        state = stored_state(d)
        put_state(name, state)
        for mode in ("eval", "train"):
            with torch.no_grad():
                outs = fresh(d, state, mode == "train")(x)
            for k, o in enumerate(outs):
                assert o.std() > 1e-3
                put(f"{name}.{mode}.{k}", o)
            if mode == "train":
                after = buffers_after(d)
                for k, v in after.items():
                    put(f"{name}.train.after.{k}", v)
                if config["spectralNorm"]:
                    # A one-output layer's u is ±1 and stays so; every other u must have moved.
                    assert all((after[k] - state[k]).abs().max() > 1e-3 for k in after
                               if k.endswith("weight_u") and after[k].numel() > 1)
        if gradient:
            fresh(d, state, True)
            d.zero_grad(set_to_none=True)
            xg = x[:1].clone().requires_grad_()
            outs = d(xg)
            upstreams = [randn(*o.shape) for o in outs]
            sum((o * u).sum() for o, u in zip(outs, upstreams)).backward()
            for k, u in enumerate(upstreams):
                put_exact(f"{name}.grad.upstream.{k}", u)
            put(f"{name}.grad.x", xg.grad)
            for k, p in d.named_parameters():
                put(f"{name}.grad.param.{k}", p.grad)
        metadata[name] = {
            "model": "discriminator", "config": config, "gradient": gradient,
            **names(d),
        }
    save("discriminators.safetensors")


# MARK: Blocks

BLOCKS = [
    ("cbam", "cbam", {"channels": 16, "reduction": 4}),
    ("block_batch_attention", "block", {"channels": 16, "norm": "batch", "dropout": False, "attention": True,
                                        "reduction": 4}),
    ("block_instance_attention", "block", {"channels": 16, "norm": "instance", "dropout": False, "attention": True,
                                           "reduction": 8}),
]


def make_blocks():
    x = randn(2, 16, 10, 8)
    put_exact("input", x)
    for index, (name, kind, a) in enumerate(BLOCKS):
        torch.manual_seed(300 + index)
        if kind == "cbam":
            m = layers.CBAM(a["channels"], a["reduction"])
        else:
            m = layers.AttentionResidualBlock(a["channels"], a["norm"], a["dropout"], a["attention"], a["reduction"])
        randomise(m)
        state = stored_state(m)
        put_state(name, state)
        for mode in ("eval", "train"):
            with torch.no_grad():
                out = fresh(m, state, mode == "train")(x)
            put(f"{name}.{mode}", out)
            if mode == "train":
                for k, v in buffers_after(m).items():
                    put(f"{name}.train.after.{k}", v)
        fresh(m, state, True)
        m.zero_grad(set_to_none=True)
        xg = x.clone().requires_grad_()
        out = m(xg)
        upstream = randn(*out.shape)
        (out * upstream).sum().backward()
        put_exact(f"{name}.grad.upstream", upstream)
        put(f"{name}.grad.x", xg.grad)
        for k, p in m.named_parameters():
            put(f"{name}.grad.param.{k}", p.grad)
        metadata[name] = {
            "model": kind, "config": a,
            **names(m),
        }
    save("blocks.safetensors")


# MARK: Self-checks of the reference definitions

def check_unet_skip_matches_inplace_pix2pix():
    """pix2pix's U-Net uses nn.LeakyReLU(0.2, inplace=True), which overwrites a block's input
    before the skip concatenation reads it; the reference (like the Swift model) concatenates
    the untouched input. The enclosing ReLU makes both the same function: checked here for the
    output and for the gradients."""

    def forward_and_gradients(g, x, upstream):
        g.zero_grad(set_to_none=True)
        xg = x.clone().requires_grad_()
        out = g(xg)
        (out * upstream).sum().backward()
        return [out.detach(), xg.grad] + [p.grad.clone() for p in g.parameters()]

    torch.manual_seed(5)
    g = pix2pix.Pix2PixGenerator(pix2pix_config(architecture="unet128", ngf=4, dropout=False))
    randomise(g)
    g.eval()
    x, upstream = uniform(1, 1, 128, 128), randn(1, 3, 128, 128)
    plain = forward_and_gradients(g, x, upstream)
    for m in g.modules():
        if isinstance(m, nn.LeakyReLU):
            m.inplace = True
    inplace = forward_and_gradients(g, x, upstream)
    assert all(torch.equal(a, b) for a, b in zip(plain, inplace))


def check_load_generator():
    """Round trip through the export format that `sketch2real export` writes."""
    for kind, config in [("sragan", GENERATORS[1][2]), ("pix2pix", GENERATORS[4][2])]:
        torch.manual_seed(11)
        g = load.build_generator(kind, config)
        randomise(g)
        g.eval()
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "model.safetensors")
            save_file({k: v.half() if v.is_floating_point() else v for k, v in g.state_dict().items()}, path,
                      metadata={load.MODEL_KEY: kind, load.CONFIG_KEY: json.dumps(config)})
            loaded, loaded_kind, loaded_config = load.load_generator(path)
        assert loaded_kind == kind and loaded_config == config and not loaded.training
        x = uniform(2, 1, 128, 128)
        z = uniform(2, config.get("latentChannels", 0)) if config.get("latentChannels") else None
        with torch.no_grad():
            assert torch.equal(run(g, x, z), run(loaded, x, z))


if __name__ == "__main__":
    check_unet_skip_matches_inplace_pix2pix()
    check_load_generator()
    make_generators()
    make_discriminators()
    make_blocks()
    total = sum(os.path.getsize(os.path.join(OUT_DIR, f)) for f in os.listdir(OUT_DIR))
    print(f"total: {total} bytes")
