#!/usr/bin/python3
"""PyTorch outputs of the bundled models (models/*.safetensors) for BundledModelTests.swift.

Run after the bundled models change, with Debian's PyTorch, PIL and the vendored safetensors:

    PYTHONPATH=.cache/python /usr/bin/python3 Tests/Fixtures/make_bundled_reference.py

The reference definitions in reference/ load the same files. Each case takes an example sketch
from examples/, reduces it from 256² to the models' 128² by 2×2 averaging (what area resizing
does for a factor of two) and maps it to [-1, 1]. Writes
Tests/Sketch2RealTests/Fixtures/bundled/reference.safetensors holding, per example NAME,
NAME.input (1×1×128×128), NAME.sragan (the SRAGAN's image) and NAME.lsragan (the LSRAGAN's images
for the codes in `codes`, 3×8; the grey input repeated in each of its sketch channels), and a PNG of each output beside it for the eye.
"""

import os
import sys

import numpy as np
import torch
from PIL import Image

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "reference"))

from safetensors.torch import save_file  # noqa: E402
from load import load_generator  # noqa: E402

EXAMPLES = ["mountain-lake", "sunset_010"]
OUT = os.path.join(ROOT, "Tests", "Sketch2RealTests", "Fixtures", "bundled")


def sketch_tensor(name):
    pixels = np.asarray(Image.open(os.path.join(ROOT, "examples", name + ".png")).convert("L"), dtype=np.float32) / 255.0
    h, w = pixels.shape
    small = pixels.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
    return torch.from_numpy(small)[None, None] * 2.0 - 1.0


def to_png(t, path):
    arr = ((t.clamp(-1, 1) + 1) / 2 * 255).round().byte().permute(1, 2, 0).numpy()
    Image.fromarray(arr).save(path)


def main():
    torch.set_grad_enabled(False)
    os.makedirs(OUT, exist_ok=True)
    sragan, _, _ = load_generator(os.path.join(ROOT, "models", "sragan-landscapes.safetensors"))
    lsragan, _, config = load_generator(os.path.join(ROOT, "models", "lsragan-landscapes.safetensors"))
    gen = torch.Generator().manual_seed(7)
    codes = torch.randn(3, config["latentChannels"], generator=gen)
    tensors = {"codes": codes}
    for name in EXAMPLES:
        x = sketch_tensor(name)
        tensors[name + ".input"] = x
        y = sragan(x)
        tensors[name + ".sragan"] = y
        to_png(y[0], os.path.join(OUT, name + "_sragan.png"))
        # A model trained on RGB sketches sees the grey sketch in every channel, as translate gives it.
        ys = lsragan(x.expand(codes.shape[0], config["inputChannels"], -1, -1), codes)
        tensors[name + ".lsragan"] = ys
        for k in range(ys.shape[0]):
            to_png(ys[k], os.path.join(OUT, f"{name}_lsragan_{k}.png"))
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(OUT, "reference.safetensors"),
              metadata={"examples": ",".join(EXAMPLES)})
    print("wrote", OUT)


if __name__ == "__main__":
    main()
