#!/usr/bin/python3
"""Reference outputs of the multimodal networks in reference/ for MultimodalParityTests.swift.

Run with Debian's PyTorch and the vendored safetensors package:

    PYTHONPATH=.cache/python /usr/bin/python3 Tests/Fixtures/make_multimodal_fixtures.py

Writes Tests/Sketch2RealTests/Fixtures/models/multimodal.safetensors with the storage scheme of
make_model_fixtures.py (int8-grid weights and inputs, int16 images, float32 gradients and
unbounded outputs; metadata "encoding" gives the steps). Cases, by metadata "model":

    lsragan  SRAGAN generator with a latent code (code at the input or every encoder stage, or
             modulating the norms or demodulated convolutions; with or without residual gains and
             noise inputs)
    encoder  the ResNet encoder E: NAME.<mode>.mu and NAME.<mode>.logvar
    unet     the U-Net with a latent code, at every level (BicycleGAN) or at the input (MSGAN)

    NAME.state.<key>; NAME.input, NAME.z (generators: a batch of two with different codes);
    NAME.noise.<k> (generators with noise inputs: the map of each, N×1×H×W at its layer's size);
    NAME.<mode> (generators) for each stored mode — for inputs of 128² and more only the lattice
    output[:, :, 1::3, 2::3], which meets every phase of the strided layers at a ninth the size; NAME.train.after.<key> (buffers after a
    train-mode forward); with "gradient": NAME.grad.{input,z,upstream,...}, NAME.grad.x,
    NAME.grad.dz, NAME.grad.param.<name> for loss = sum(output * upstream) in train mode.
"""

import os
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import make_model_fixtures as base  # noqa: E402  (also puts reference/ on the path)
import layers  # noqa: E402
import multimodal  # noqa: E402
import sragan  # noqa: E402


def randomise(module):
    """base.randomise, plus the group-norm scale and shift moved away from 1 and 0 and the
    residual gains and noise strengths (zero at initialisation) made non-zero."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.GroupNorm):
                m.weight.copy_(base.uniform(m.num_channels, low=0.6, high=1.4))
                m.bias.copy_(base.randn(m.num_channels, scale=0.2))
            if getattr(m, "residual_gain", None) is not None:
                m.residual_gain.copy_(base.uniform(m.residual_gain.numel(), low=0.3, high=1.2))
            if isinstance(m, layers.NoiseInjection):
                m.weight.copy_(base.uniform(m.weight.numel(), low=0.3, high=1.2))
    base.randomise(module)


CASES = [
    # name, model, config, input shape, modes, gradient
    ("lsragan_every_stage_layer", "lsragan",
     {**sragan.SRAGAN_DEFAULTS, "ngf": 4, "blocks": 2, "attentionEvery": 1, "attentionReduction": 4, "norm": "layer",
      "latentChannels": 8, "latentAtEveryStage": True},
     (2, 1, 48, 48), ["eval", "train"], True),
    ("lsragan_input_layer_resize", "lsragan",
     {**sragan.SRAGAN_DEFAULTS, "ngf": 4, "blocks": 2, "attentionEvery": 2, "attentionReduction": 4, "norm": "layer",
      "upsampling": "resizeConv", "latentChannels": 4},
     (2, 1, 32, 48), ["eval", "train"], False),
    ("encoder_instance", "encoder", {**multimodal.ENCODER_DEFAULTS, "nef": 4}, (2, 3, 32, 32), ["eval"], True),
    ("encoder_batch_three_blocks", "encoder",
     {**multimodal.ENCODER_DEFAULTS, "nef": 4, "blocks": 3, "norm": "batch", "latentChannels": 5},
     (2, 3, 48, 40), ["eval", "train"], False),
    ("unet_all_instance", "unet",
     {**multimodal.LATENT_UNET_DEFAULTS, "ngf": 2, "levels": 6, "norm": "instance"},
     (2, 1, 64, 64), ["eval"], True),
    ("unet_input_batch", "unet",
     {**multimodal.LATENT_UNET_DEFAULTS, "ngf": 2, "levels": 7, "norm": "batch", "latentAtEveryLevel": False},
     (2, 1, 128, 128), ["eval", "train"], False),
    ("lsragan_modulated_instance", "lsragan",
     {**sragan.SRAGAN_DEFAULTS, "ngf": 4, "blocks": 2, "attentionEvery": 2, "attentionReduction": 4, "norm": "instance",
      "upsampling": "resizeConv", "latentChannels": 6, "latentAtInput": False, "latentModulation": True},
     (2, 1, 32, 32), ["eval", "train"], True),
    ("lsragan_demodulated", "lsragan",
     {**sragan.SRAGAN_DEFAULTS, "ngf": 4, "blocks": 2, "attentionEvery": 2, "attentionReduction": 4, "norm": "layer",
      "upsampling": "resizeConv", "latentChannels": 6, "latentAtInput": False, "latentModulation": True, "demodulate": True},
     (2, 1, 32, 32), ["eval", "train"], True),
    ("lsragan_demodulated_code_at_input", "lsragan",
     {**sragan.SRAGAN_DEFAULTS, "ngf": 4, "blocks": 1, "attentionEvery": 1, "attentionReduction": 4, "norm": "instance",
      "upsampling": "resizeConv", "latentChannels": 3, "demodulate": True, "dropout": True},
     (3, 1, 24, 32), ["eval"], False),
    ("lsragan_demodulated_residual_gain", "lsragan",
     {**sragan.SRAGAN_DEFAULTS, "ngf": 4, "blocks": 2, "attentionEvery": 2, "attentionReduction": 4, "norm": "instance",
      "upsampling": "resizeConv", "latentChannels": 5, "latentModulation": True, "demodulate": True,
      "residualGain": True},
     (2, 1, 32, 32), ["eval", "train"], True),
    ("lsragan_layer_residual_gain", "lsragan",
     {**sragan.SRAGAN_DEFAULTS, "ngf": 4, "blocks": 2, "attentionEvery": 1, "attentionReduction": 4, "norm": "layer",
      "upsampling": "transposed", "latentChannels": 4, "latentAtInput": False, "latentModulation": True,
      "residualGain": True},
     (2, 1, 24, 24), ["eval"], False),
    ("lsragan_demodulated_noise", "lsragan",
     {**sragan.SRAGAN_DEFAULTS, "ngf": 4, "blocks": 2, "attentionEvery": 2, "attentionReduction": 4, "norm": "instance",
      "upsampling": "resizeConv", "latentChannels": 5, "latentModulation": True, "demodulate": True,
      "residualGain": True, "noiseInputs": True},
     (2, 1, 32, 32), ["eval", "train"], True),
    ("lsragan_layer_noise", "lsragan",
     {**sragan.SRAGAN_DEFAULTS, "ngf": 4, "blocks": 1, "attentionEvery": 1, "attentionReduction": 4, "norm": "layer",
      "upsampling": "transposed", "latentChannels": 4, "latentAtInput": False, "latentModulation": True,
      "noiseInputs": True},
     (2, 1, 24, 32), ["eval"], True),
]


def build(model, config):
    if model == "lsragan":
        return sragan.SRAGANGenerator(config)
    if model == "encoder":
        return multimodal.LatentEncoder(config)
    return multimodal.LatentUNetGenerator(config)


def forward(module, model, x, z, noise=None):
    if model == "encoder":
        return module(x)
    return module(x, z) if noise is None else module(x, z, noise)


def has_batch_norm(module):
    return any(isinstance(m, nn.BatchNorm2d) for m in module.modules())


def make():
    for index, (name, model, config, shape, modes, gradient) in enumerate(CASES):
        torch.manual_seed(400 + index)
        m = build(model, config)
        randomise(m)
        state = base.stored_state(m)
        base.put_state(name, state)
        x = base.uniform(*shape)
        base.put_exact(f"{name}.input", x)
        z = None
        if model != "encoder":
            z = base.uniform(shape[0], config["latentChannels"], low=-2, high=2)
            base.put_exact(f"{name}.z", z)
        noise = None
        if config.get("noiseInputs"):
            # One map per decoder convolution, at its output's size (a half, then the full size).
            noise = [base.randn(shape[0], 1, shape[2] * f // 2, shape[3] * f // 2) for f in (1, 2)]
            for k, n in enumerate(noise):
                base.put_exact(f"{name}.noise.{k}", n)
        stored_modes = modes if has_batch_norm(m) else ["eval"]
        lattice = shape[2] >= 128
        outputs = {}
        for mode in modes:
            with torch.no_grad():
                outputs[mode] = out = forward(base.fresh(m, state, mode == "train"), model, x, z, noise)
            if mode == "train":
                for k, v in base.buffers_after(m).items():
                    base.put(f"{name}.train.after.{k}", v)
        if "train" in modes and "train" not in stored_modes:
            assert all(torch.equal(a, b) for a, b in zip(outputs["train"], outputs["eval"])), name
        for mode in stored_modes:
            out = outputs[mode]
            if model == "encoder":
                mu, logvar = out
                assert mu.std() > 1e-3 and logvar.std() > 1e-3, name
                base.put(f"{name}.{mode}.mu", mu)
                base.put(f"{name}.{mode}.logvar", logvar)
            else:
                base.check_not_trivial(f"{name} {mode}", out)
                # Different codes must give different images, or the test could not see a lost code.
                assert (out[0] - out[1]).abs().max() > 1e-2, f"{name}: the code has no effect"
                base.put_image(f"{name}.{mode}", out[:, :, 1::3, 2::3] if lattice else out)
        if gradient:
            base.fresh(m, state, True)
            m.zero_grad(set_to_none=True)
            xg = x.clone().requires_grad_()
            zg = z.clone().requires_grad_() if z is not None else None
            out = forward(m, model, xg, zg, noise)
            if model == "encoder":
                mu, logvar = out
                up_mu, up_logvar = base.randn(*mu.shape), base.randn(*logvar.shape)
                ((mu * up_mu).sum() + (logvar * up_logvar).sum()).backward()
                base.put_exact(f"{name}.grad.upstream.mu", up_mu)
                base.put_exact(f"{name}.grad.upstream.logvar", up_logvar)
            else:
                upstream = base.randn(*out.shape)
                (out * upstream).sum().backward()
                base.put_exact(f"{name}.grad.upstream", upstream)
                base.put(f"{name}.grad.dz", zg.grad)
            base.put(f"{name}.grad.x", xg.grad)
            for k, p in m.named_parameters():
                assert p.grad is not None, f"{name}: no gradient for {k}"
                base.put(f"{name}.grad.param.{k}", p.grad)
        base.metadata[name] = {
            "model": model, "config": config, "modes": modes, "stored_modes": stored_modes, "gradient": gradient,
            "lattice": lattice,
            **base.names(m),
        }
    base.save("multimodal.safetensors")


def check_instance_norm_erases_a_tiled_code():
    """Why LSRAGAN defaults to layer norm: with instance norm after the first convolution, a
    code tiled over the image is a per-channel constant there and is removed exactly."""
    torch.manual_seed(7)
    config = {**sragan.SRAGAN_DEFAULTS, "ngf": 4, "blocks": 1, "attentionEvery": 0, "latentChannels": 8}
    g = sragan.SRAGANGenerator(config).eval()
    x = torch.rand(1, 1, 32, 32) * 2 - 1
    with torch.no_grad():
        a, b = g(x, torch.randn(1, 8)), g(x, torch.randn(1, 8))
    assert (a - b).abs().max() < 1e-5, (a - b).abs().max()


if __name__ == "__main__":
    check_instance_norm_erases_a_tiled_code()
    make()
