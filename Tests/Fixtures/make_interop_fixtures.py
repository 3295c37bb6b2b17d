#!/usr/bin/python3
"""PyTorch checkpoints for ImportTests.swift: what users of pix2pix bring.

    PYTHONPATH=.cache/python /usr/bin/python3 Tests/Fixtures/make_interop_fixtures.py

Writes to Tests/Sketch2RealTests/Fixtures/interop/:
- unet128.pth: a pix2pix U-Net 128 (ngf 4, batch norm, 3 → 3 channels) saved with
  torch.save(net.state_dict()) in PyTorch's zip format, with running statistics set away from
  their initial values so that evaluation mode matters;
- unet128-dataparallel.pth: the same weights as nn.DataParallel saves them (`module.` keys);
- resnet6.pth: a ResNet-6 (ngf 4, instance norm, dropout, 1 → 3 channels);
- bicyclegan-G.pth, bicyclegan-E.pth: a BicycleGAN G_Unet_add_all (5 levels, ngf 4, nz 3,
  1 → 3 channels) and E_ResNet (nef 4, 2 blocks), named as BicycleGAN names them;
- lsragan-G.pth, lsragan-E.pth, lsragan.json: an LSRAGAN generator of reference/sragan.py with
  the configuration it was built with, and an encoder of reference/multimodal.py;
- malicious.pth: a zip checkpoint whose pickle calls os.system (must be refused unexecuted);
- outputs.safetensors: a fixed input for each network and its output in evaluation mode.

The networks are reference/pix2pix.py's, whose state-dict names are those of
pytorch-CycleGAN-and-pix2pix's UnetGenerator and ResnetGenerator.
"""

import json
import os
import sys

import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "reference"))

from multimodal import LatentEncoder, LatentUNetGenerator  # noqa: E402
from pix2pix import Pix2PixGenerator  # noqa: E402
from sragan import SRAGANGenerator  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

OUT = os.path.join(ROOT, "Tests", "Sketch2RealTests", "Fixtures", "interop")


class Payload:
    """An object whose unpickling would run a shell command."""

    def __reduce__(self):
        return (os.system, ("echo this must never run",))


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(3)
    tensors = {}

    unet = Pix2PixGenerator({"architecture": "unet128", "inputChannels": 3, "outputChannels": 3, "ngf": 4,
                             "norm": "batch", "dropout": True})
    with torch.no_grad():
        for m in unet.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.8, 1.2)
                m.bias.uniform_(-0.1, 0.1)
    unet.eval()
    torch.save(unet.state_dict(), os.path.join(OUT, "unet128.pth"))
    torch.save(torch.nn.DataParallel(unet).state_dict(), os.path.join(OUT, "unet128-dataparallel.pth"))
    x = torch.rand(1, 3, 128, 128) * 2 - 1
    with torch.no_grad():
        tensors["unet128.input"] = x
        tensors["unet128.output"] = unet(x)

    resnet = Pix2PixGenerator({"architecture": "resnet6", "inputChannels": 1, "outputChannels": 3, "ngf": 4,
                               "norm": "instance", "dropout": True})
    resnet.eval()
    torch.save(resnet.state_dict(), os.path.join(OUT, "resnet6.pth"))
    x = torch.rand(1, 1, 36, 44) * 2 - 1
    with torch.no_grad():
        tensors["resnet6.input"] = x
        tensors["resnet6.output"] = resnet(x)

    # BicycleGAN: reference/multimodal.py's networks carry BicycleGAN's state-dict names.
    g = LatentUNetGenerator({"inputChannels": 1, "outputChannels": 3, "ngf": 4, "levels": 5, "latentChannels": 3,
                             "latentAtEveryLevel": True})
    e = LatentEncoder({"inputChannels": 3, "latentChannels": 3, "nef": 4, "blocks": 2})
    g.eval()
    e.eval()
    torch.save(g.state_dict(), os.path.join(OUT, "bicyclegan-G.pth"))
    torch.save(e.state_dict(), os.path.join(OUT, "bicyclegan-E.pth"))
    x, z, y = torch.rand(2, 1, 32, 32) * 2 - 1, torch.randn(2, 3), torch.rand(1, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        tensors["bicyclegan.input"], tensors["bicyclegan.z"], tensors["bicyclegan.output"] = x, z, g(x, z)
        tensors["bicyclegan.photo"], tensors["bicyclegan.mu"] = y, e(y)[0]

    # LSRAGAN: the reference generator with its configuration, and an encoder.
    config = {"inputChannels": 1, "outputChannels": 3, "ngf": 4, "blocks": 2, "attentionEvery": 2, "attentionReduction": 4,
              "norm": "instance", "upsampling": "resizeConv", "latentChannels": 3, "latentModulation": True}
    lg = SRAGANGenerator(config)
    le = LatentEncoder({"inputChannels": 3, "latentChannels": 3, "nef": 4, "blocks": 3})
    lg.eval()
    torch.save(lg.state_dict(), os.path.join(OUT, "lsragan-G.pth"))
    torch.save(le.state_dict(), os.path.join(OUT, "lsragan-E.pth"))
    with open(os.path.join(OUT, "lsragan.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    x = torch.rand(2, 1, 24, 20) * 2 - 1
    with torch.no_grad():
        tensors["lsragan.input"], tensors["lsragan.z"], tensors["lsragan.output"] = x, z.clone(), lg(x, z)

    torch.save({"model.model.0.weight": torch.zeros(1), "payload": Payload()}, os.path.join(OUT, "malicious.pth"))
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(OUT, "outputs.safetensors"))
    for name in sorted(os.listdir(OUT)):
        print(name, os.path.getsize(os.path.join(OUT, name)))


if __name__ == "__main__":
    main()
