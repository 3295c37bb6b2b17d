#!/usr/bin/env python3
"""Writes seed files for the checkpoint reader's fuzzer (scripts/fuzz checkpoint): real torch.save
files as training scripts write them, small enough for the fuzzer's length limit.

    checkpoint_fuzz_seeds.py CORPUS_DIR

Each family's generator in miniature (convolutions, transposed convolutions, norms with running
statistics, linear heads), saved plain, wrapped in a training dict with floats and integers of
both signs, with DataParallel's `module.` prefix, and with non-contiguous and shared tensors.
Needs Debian's python3-torch; the product never runs it.
"""
import io
import os
import sys

import torch
import torch.nn as nn


def families():
    torch.manual_seed(0)
    unet = nn.Sequential(nn.Conv2d(3, 4, 4, 2, 1), nn.LeakyReLU(0.2), nn.ConvTranspose2d(4, 3, 4, 2, 1), nn.Tanh())
    resnet = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(1, 4, 7), nn.InstanceNorm2d(4), nn.ReLU(), nn.Conv2d(4, 3, 1))
    batchnorm = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
    encoder = nn.Sequential(nn.Conv2d(3, 4, 4, 2, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 8))
    attention = nn.Sequential(nn.Linear(4, 2, bias=False), nn.ReLU(), nn.Linear(2, 4, bias=False))
    return {"pix2pix-unet": unet, "pix2pix-resnet": resnet, "batchnorm": batchnorm, "encoder": encoder, "attention": attention}


def save(obj, path, **kwargs):
    buffer = io.BytesIO()
    torch.save(obj, buffer, **kwargs)
    with open(path, "wb") as f:
        f.write(buffer.getvalue())


def main(corpus):
    os.makedirs(corpus, exist_ok=True)
    for name, module in families().items():
        sd = module.state_dict()
        save(sd, os.path.join(corpus, f"seed-{name}.pth"))
        save({"state_dict": sd, "epoch": 7, "step": -3, "best_loss": -0.25, "lr": 2e-4, "big": -(1 << 40), "flag": True,
              "history": [1.5, -2.5], "name": name},
             os.path.join(corpus, f"seed-{name}-wrapped.pth"))
        save({"module." + k: v for k, v in sd.items()}, os.path.join(corpus, f"seed-{name}-dataparallel.pth"))
    # Non-contiguous, offset and shared tensors, and every storage type.
    base = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4)
    odd = {
        "transposed": base.transpose(0, 2),
        "sliced": base[:, 1:, ::2],
        "shared_a": base[0],
        "shared_b": base[1],
        "empty": torch.zeros(0, 3),
        "scalar": torch.tensor(-1.5),
    }
    for dtype in (torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool):
        odd[f"as_{dtype}".replace("torch.", "")] = torch.ones(2, 2, dtype=dtype)
    save(odd, os.path.join(corpus, "seed-odd-tensors.pth"))
    print(f"checkpoint_fuzz_seeds: wrote {len(os.listdir(corpus))} seeds to {corpus}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
