#!/usr/bin/python3
"""PyTorch peer of `sketch2real bench models`: the same training step and inference, in PyTorch.

Started by the Swift benchmark with `--folder DIR`. Reads DIR/init.safetensors, written by the
Swift worker: the initial weights of every network (prefixes G., D., E., D2.), the training
batch x, y, the inference batch x_infer (and codes z_infer for models with a latent code), and
in the metadata the training configuration and the seed of the parity step. The networks are
reference/*.py's definitions; the step is written here the way the PyTorch reference code
(pytorch-CycleGAN-and-pix2pix, BicycleGAN) writes it, with the losses, weights, update order
and Adam settings of Sketch2Real's PairedTrainer and MultimodalTrainer:

- sragan, pix2pix: D update on (x, y) against (x, G(x).detach()), then G with D frozen
  (requires_grad False): GAN + λ_L1·L1 + λ_perc·VGG perceptual (+ λ_FM·feature matching).
- lsragan, bicyclegan, msgan: G (and E) first against frozen discriminators on the encoded
  and random latent paths (GAN, GAN2, L1, perceptual, feature matching, KL, latent
  regression with E frozen, mode seeking), then D and D2 on the same images, detached.

Gradients are dropped with zero_grad(set_to_none=True), as the Swift optimisers do, so that a
parameter without a gradient is skipped by Adam on both sides.

Speaks the line protocol of Sources/Sketch2Real/Benchmarks/BenchmarkWorkerProcess.swift on
stdin / stdout: parity, train N, infer N, rss, quit.
"""

import argparse
import copy
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "reference"))

from multimodal import LatentEncoder, LatentUNetGenerator  # noqa: E402
from pix2pix import Pix2PixGenerator  # noqa: E402
from sragan import MultiScaleDiscriminator, SRAGANGenerator  # noqa: E402

HED_MEAN_BGR = (104.00699, 116.66877, 122.67892)
HED_STAGES = [[3, 64, 64], [64, 128, 128], [128, 256, 256, 256], [256, 512, 512, 512], [512, 512, 512, 512]]


def set_requires_grad(nets, flag):
    for net in nets:
        if net is not None:
            for p in net.parameters():
                p.requires_grad = flag


# ---- losses -------------------------------------------------------------------------------

def d_loss_one(mode, real, fake):
    if mode == "vanilla":
        return (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
                + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))) * 0.5
    if mode == "lsgan":
        return (F.mse_loss(real, torch.ones_like(real)) + F.mse_loss(fake, torch.zeros_like(fake))) * 0.5
    return (F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()) * 0.5


def g_loss_one(mode, fake):
    if mode == "vanilla":
        return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))
    if mode == "lsgan":
        return F.mse_loss(fake, torch.ones_like(fake))
    return -fake.mean()


def d_loss(mode, real, fake):
    total = torch.zeros(())
    for r, f in zip(real, fake):
        total = total + d_loss_one(mode, r, f)
    return total / float(len(real))


def g_loss(mode, fake):
    total = torch.zeros(())
    for f in fake:
        total = total + g_loss_one(mode, f)
    return total / float(len(fake))


def discriminator_features(msd, x):
    """Per scale: the activations after each LeakyReLU, then the output map (last)."""
    out = []
    for k, d in enumerate(msd.scales):
        if k > 0:
            x = msd.downsample(x)
        h, feats = x, []
        layers = list(d.model)
        for i, layer in enumerate(layers):
            h = layer(h)
            if isinstance(layer, nn.LeakyReLU) or i == len(layers) - 1:
                feats.append(h)
        out.append(feats)
    return out


def feature_matching(fake, real):
    total = torch.zeros(())
    scales = float(len(fake))
    for f, r in zip(fake, real):
        layers = len(f) - 1
        for j in range(layers):
            total = total + F.l1_loss(f[j], r[j].detach()) * (1 / scales / layers)
    return total


class HEDVGG16Features(nn.Module):
    """The VGG16 inside HED (weights .cache/weights/hed_bsds500.safetensors), first `stages`
    stages; input images in [-1, 1] RGB → BGR 0–255 minus HED's mean."""

    def __init__(self, path, stages=4):
        super().__init__()
        self.stages = nn.ModuleList()
        for widths in HED_STAGES[:stages]:
            stage = nn.Module()
            for j, (i, o) in enumerate(zip(widths, widths[1:])):
                setattr(stage, f"conv{j + 1}", nn.Conv2d(i, o, 3, padding=1))
            self.stages.append(stage)
        weights = load_file(path)
        state = {}
        for s in range(stages):
            for name in self.stages[s].state_dict():
                state[f"{s}.{name}"] = weights[f"block{s + 1}.{name}"]
        self.stages.load_state_dict(state)
        self.eval()
        for p in self.parameters():
            p.requires_grad = False
        self.register_buffer("mean", torch.tensor(HED_MEAN_BGR, dtype=torch.float32).reshape(1, 3, 1, 1))

    def forward(self, images):
        rgb = images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images
        h = (rgb.flip([1]) + 1.0) * 127.5 - self.mean
        out = []
        for s, stage in enumerate(self.stages):
            if s > 0:
                h = F.max_pool2d(h, 2, 2, ceil_mode=True)
            for conv in stage.children():
                h = F.relu(conv(h))
            out.append(h)
        return out


class PerceptualLoss:
    def __init__(self, network, weights):
        self.network = network
        self.weights = weights

    def __call__(self, output, target):
        fo = self.network(output)
        with torch.no_grad():
            ft = self.network(target)
        total = torch.zeros(())
        for i, (a, b) in enumerate(zip(fo, ft)):
            if i < len(self.weights):
                total = total + F.l1_loss(a, b.detach()) * self.weights[i]
        return total


# ---- the trainers -------------------------------------------------------------------------

class Peer:
    def __init__(self, folder):
        self.folder = folder
        self.state = load_file(os.path.join(folder, "init.safetensors"))
        from safetensors import safe_open
        with safe_open(os.path.join(folder, "init.safetensors"), framework="pt") as f:
            metadata = f.metadata()
        c = json.loads(metadata["sketch2real.training"])
        self.seed = int(metadata["bench.seed"])
        self.c = c
        self.model = c["model"]
        self.mm = c["multimodal"]
        self.multimodal = self.model in ("lsragan", "bicyclegan", "msgan")
        if self.model in ("sragan", "lsragan"):
            self.G = SRAGANGenerator(c["sragan"])
        elif self.model == "pix2pix":
            self.G = Pix2PixGenerator(c["pix2pix"])
        else:
            self.G = LatentUNetGenerator(c["latentUNet"])
        self.D = MultiScaleDiscriminator(c["discriminator"])
        uses_encoder = self.model in ("lsragan", "bicyclegan")
        self.E = LatentEncoder(c["encoder"]) if uses_encoder else None
        self.D2 = MultiScaleDiscriminator(c["discriminator"]) if uses_encoder else None
        for prefix, net in [("G", self.G), ("D", self.D), ("E", self.E), ("D2", self.D2)]:
            if net is not None:
                net.load_state_dict({k[len(prefix) + 1:]: v for k, v in self.state.items() if k.startswith(prefix + ".")},
                                    strict=True)
        betas = (c["beta1"], c["beta2"])
        lr = c["learningRate"]

        def adam(net):
            return torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=lr, betas=betas)

        self.optG, self.optD = adam(self.G), adam(self.D)
        self.optE = adam(self.E) if self.E is not None else None
        self.optD2 = adam(self.D2) if self.D2 is not None else None
        self.perceptual = None
        if c["lambdaPerceptual"] > 0:
            if c.get("vgg19Weights"):
                raise SystemExit("the peer implements the HED VGG16 perceptual network only")
            weights = c["perceptualWeights"]
            path = os.environ.get("SKETCH2REAL_HED_WEIGHTS") or os.path.join(ROOT, ".cache", "weights", "hed_bsds500.safetensors")
            self.perceptual = PerceptualLoss(HEDVGG16Features(path, 5 if len(weights) > 4 else 4), weights)
        self.x, self.y = self.state["x"], self.state["y"]
        self.x_infer = self.state["x_infer"]
        self.z_infer = self.state.get("z_infer")
        self.gan = c["gan"]
        if DEVICE != "cpu":
            # Modules move in place, so the optimisers keep their parameters.
            for net in (self.G, self.D, self.E, self.D2):
                if net is not None:
                    net.to(DEVICE)
            if self.perceptual is not None:
                self.perceptual.network.to(DEVICE)
            self.x, self.y, self.x_infer = self.x.to(DEVICE), self.y.to(DEVICE), self.x_infer.to(DEVICE)
            self.z_infer = self.z_infer.to(DEVICE) if self.z_infer is not None else None

    # pix2pix's order: D, then G.
    def paired_step(self, x, y):
        c, G, D = self.c, self.G, self.D
        G.train()
        D.train()
        fake = G(x)
        set_requires_grad([D], True)
        real_pair = torch.cat([x, y], 1)
        fake_pair = torch.cat([x, fake.detach()], 1)
        loss_d = d_loss(self.gan, D(real_pair), D(fake_pair))
        self.optD.zero_grad(set_to_none=True)
        loss_d.backward()
        self.optD.step()

        set_requires_grad([D], False)
        losses = {"D": loss_d.item()}
        need_features = c["lambdaFeatureMatching"] > 0
        fake_features = discriminator_features(D, torch.cat([x, fake], 1)) if need_features else []
        fake_outputs = [f[-1] for f in fake_features] if need_features else D(torch.cat([x, fake], 1))
        gan_g = g_loss(self.gan, fake_outputs)
        total = gan_g
        losses["G_GAN"] = gan_g.item()
        if c["lambdaL1"] > 0:
            l1 = F.l1_loss(fake, y)
            total = total + l1 * c["lambdaL1"]
            losses["G_L1"] = l1.item()
        if self.perceptual is not None:
            p = self.perceptual(fake, y)
            total = total + p * c["lambdaPerceptual"]
            losses["G_perceptual"] = p.item()
        if need_features:
            with torch.no_grad():
                real_features = discriminator_features(D, real_pair)
            fm = feature_matching(fake_features, real_features)
            total = total + fm * c["lambdaFeatureMatching"]
            losses["G_FM"] = fm.item()
        self.optG.zero_grad(set_to_none=True)
        total.backward()
        self.optG.step()
        set_requires_grad([D], True)
        losses["G_total"] = total.item()
        return losses

    def pair(self, x, image):
        return torch.cat([x, image], 1) if self.mm["conditionalDiscriminator"] else image

    # BicycleGAN's order: G and E, then D and D2 on the same images.
    def multimodal_step(self, x, y):
        c, mm, G, E, D, D2 = self.c, self.mm, self.G, self.E, self.D, self.D2
        for net in (G, E, D, D2):
            if net is not None:
                net.train()
        batch = x.shape[0]
        two_codes = mm["lambdaMS"] > 0
        nz = mm["nz"]
        losses = {}
        total = torch.zeros(())
        half = batch if E is None else max(1, batch // 2)
        xE, yE = x[:half], y[:half]
        xR, yR = x[batch - half:], y[batch - half:]
        encoded = None
        if E is not None:
            mu, logvar = E(yE)
            z = mu + torch.randn(mu.shape) * torch.exp(logvar * 0.5)
            encoded = (G(xE, z), mu, logvar)
        z1 = torch.randn(half, nz)
        z2 = torch.randn(half, nz) if two_codes else None
        codes = torch.cat([z1, z2], 0) if z2 is not None else z1
        x_random = torch.cat([xE, xE], 0) if two_codes else xE
        y_random = torch.cat([yE, yE], 0) if two_codes else yE
        fake_random = G(x_random, codes)

        set_requires_grad([D, D2], False)
        need_features = c["lambdaFeatureMatching"] > 0
        if encoded is not None:
            judged, judged_sketch, judged_target = encoded[0], xE, yE
            rebuilt, rebuilt_target = encoded[0], yE
        else:
            judged, judged_sketch, judged_target = fake_random, x_random, y_random
            rebuilt, rebuilt_target = fake_random[:half], yE
        fake_features = discriminator_features(D, self.pair(judged_sketch, judged)) if need_features else []
        outputs = [f[-1] for f in fake_features] if need_features else D(self.pair(judged_sketch, judged))
        gan_g = g_loss(self.gan, outputs)
        total = total + gan_g * mm["lambdaGAN"]
        losses["G_GAN"] = gan_g.item()
        if D2 is not None and mm["lambdaGAN2"] > 0:
            gan2 = g_loss(self.gan, D2(self.pair(x_random, fake_random)))
            total = total + gan2 * mm["lambdaGAN2"]
            losses["G_GAN2"] = gan2.item()
        if c["lambdaL1"] > 0:
            l1 = F.l1_loss(rebuilt, rebuilt_target)
            total = total + l1 * c["lambdaL1"]
            losses["G_L1"] = l1.item()
        if self.perceptual is not None:
            p = self.perceptual(rebuilt, rebuilt_target)
            total = total + p * c["lambdaPerceptual"]
            losses["G_perceptual"] = p.item()
        if need_features:
            with torch.no_grad():
                real_features = discriminator_features(D, self.pair(judged_sketch, judged_target))
            fm = feature_matching(fake_features, real_features)
            total = total + fm * c["lambdaFeatureMatching"]
            losses["G_FM"] = fm.item()
        if encoded is not None:
            _, mu, logvar = encoded
            kl = ((1.0 + logvar - mu.square() - logvar.exp()).sum()) * -0.5
            if mm["lambdaKL"] > 0:
                total = total + kl * mm["lambdaKL"]
            losses["KL"] = kl.item()
        if E is not None and mm["lambdaZ"] > 0:
            # The latent regression trains G only: E's weights take no gradient from it.
            set_requires_grad([E], False)
            z_l1 = F.l1_loss(E(fake_random)[0], codes)
            set_requires_grad([E], True)
            total = total + z_l1 * mm["lambdaZ"]
            losses["z_L1"] = z_l1.item()
        if z2 is not None:
            images1, images2 = fake_random[:half], fake_random[half:]
            ratio = (images1 - images2).abs().mean() / (z1 - z2).abs().mean()
            ms = 1.0 / (ratio + 1e-5)
            total = total + ms * mm["lambdaMS"]
            losses["MS"] = ms.item()
            losses["MS_ratio"] = ratio.item()
        self.optG.zero_grad(set_to_none=True)
        if self.optE is not None:
            self.optE.zero_grad(set_to_none=True)
        total.backward()
        self.optG.step()
        if self.optE is not None:
            self.optE.step()
        losses["G_total"] = total.item()

        losses["D"] = self.update(D, self.optD, self.pair(judged_sketch, judged_target),
                                  self.pair(judged_sketch, judged.detach()))
        if D2 is not None:
            set_requires_grad([D2], True)
            if mm["lambdaGAN2"] > 0:
                losses["D2"] = self.update(D2, self.optD2, self.pair(xR, yR), self.pair(x_random, fake_random.detach()))
        return losses

    def update(self, d, optimizer, real, fake):
        set_requires_grad([d], True)
        loss = d_loss(self.gan, d(real), d(fake))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.item()

    def step(self):
        return (self.multimodal_step if self.multimodal else self.paired_step)(self.x, self.y)

    def generate(self):
        with torch.no_grad():
            return self.G(self.x_infer, self.z_infer) if self.z_infer is not None else self.G(self.x_infer)

    def infer(self):
        self.G.eval()
        out = self.generate()
        self.G.train()
        return out


def to_float(out):
    if isinstance(out, torch.Tensor):
        return out.float() if out.dtype in (torch.bfloat16, torch.float16) else out
    if isinstance(out, (list, tuple)):
        return type(out)(to_float(o) for o in out)
    return out


def autocast_forward(module):
    """Runs the module's forward under torch.autocast("cpu", bfloat16) with float32 outputs,
    so that losses and the backward pass stay outside autocast, as PyTorch's autocast
    documentation recommends."""
    inner = module.forward

    def forward(*args, **kwargs):
        with torch.autocast(DEVICE.split(":")[0], dtype=torch.bfloat16):
            out = inner(*args, **kwargs)
        return to_float(out)

    module.forward = forward


def use_autocast(peer):
    global discriminator_features
    for net in (peer.G, peer.D, peer.E, peer.D2):
        if net is not None:
            autocast_forward(net)
    if peer.perceptual is not None:
        autocast_forward(peer.perceptual.network)
    plain = discriminator_features

    def features(msd, x):
        with torch.autocast(DEVICE.split(":")[0], dtype=torch.bfloat16):
            out = plain(msd, x)
        return to_float(out)

    discriminator_features = features


def use_compile(peer):
    """Compiles every network's forward with torch.compile (inductor, on the CPU), the fastest
    thing a PyTorch user has there, then runs two training steps and an inference so that the
    timed ones find their kernels compiled; the weights and optimiser states are put back, so
    the parity check still starts from the shared initial state."""
    nets = [n for n in (peer.G, peer.D, peer.E, peer.D2) if n is not None]
    if peer.perceptual is not None:
        nets.append(peer.perceptual.network)
    for net in nets:
        net.forward = torch.compile(net.forward)
    optimisers = [o for o in (peer.optG, peer.optD, peer.optE, getattr(peer, "optD2", None)) if o is not None]
    saved = [copy.deepcopy(n.state_dict()) for n in nets], [copy.deepcopy(o.state_dict()) for o in optimisers]
    rng = torch.get_rng_state()
    for _ in range(2):
        peer.step()
    peer.infer()
    for n, state in zip(nets, saved[0]):
        n.load_state_dict(state)
    for o, state in zip(optimisers, saved[1]):
        o.load_state_dict(state)
    torch.set_rng_state(rng)


def peak_resident_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) * 1024
    return 0.0


# Where the networks run (--device); GPU timings wait for the device's queue to drain.
DEVICE = "cpu"


def synchronize():
    if DEVICE != "cpu":
        torch.cuda.synchronize()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", required=True)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--autocast", action="store_true",
                        help="every network's forward pass under torch.autocast('cpu', dtype=torch.bfloat16)")
    parser.add_argument("--compile", action="store_true",
                        help="every network's forward compiled with torch.compile (inductor; PyTorch 2)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (networks, batches and every new tensor)")
    parser.add_argument("--channels-last", action="store_true",
                        help="every network's weights in torch.channels_last (as sketch2real's --memory-format channels-last)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    global DEVICE
    DEVICE = args.device
    if DEVICE != "cpu":
        torch.set_default_device(DEVICE)
        torch.backends.cudnn.benchmark = True

    def reply(obj):
        sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
        sys.stdout.flush()

    try:
        peer = Peer(args.folder)
    except Exception as e:  # reported to the Swift side, which names the case
        reply({"error": f"{type(e).__name__}: {e}"})
        return 1
    if args.channels_last:
        for net in (peer.G, peer.D, peer.E, peer.D2, peer.perceptual.network if peer.perceptual is not None else None):
            if net is not None:
                net.to(memory_format=torch.channels_last)
    if args.autocast:
        use_autocast(peer)
    if args.compile:
        try:
            use_compile(peer)
        except Exception as e:
            reply({"error": f"torch.compile: {type(e).__name__}: {e}"})
            return 1
    reply({"ready": True})
    while True:
        line = sys.stdin.readline()
        if not line:
            break
        words = line.split()
        if not words:
            continue
        command, n = words[0], int(words[1]) if len(words) > 1 else 1
        try:
            if command == "parity":
                before = peer.infer().contiguous()
                torch.manual_seed(peer.seed)
                losses = peer.step()
                path = os.path.join(args.folder, "peer-output.safetensors")
                save_file({"before": before, "output": peer.infer().contiguous()}, path)
                reply({"losses": losses, "output": path})
            elif command == "profile":
                with torch.autograd.profiler.profile() as prof:
                    for _ in range(n):
                        peer.step()
                ops = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)[:15]
                reply({"operators": [{"name": e.key, "calls": e.count, "self_us": e.self_cpu_time_total,
                                      "total_us": e.cpu_time_total} for e in ops]})
            elif command == "train":
                times = []
                for _ in range(n):
                    synchronize()
                    start = time.perf_counter()
                    peer.step()
                    synchronize()
                    times.append(time.perf_counter() - start)
                reply({"seconds": times})
            elif command == "infer":
                times = []
                peer.G.eval()
                for _ in range(n):
                    synchronize()
                    start = time.perf_counter()
                    peer.generate()
                    synchronize()
                    times.append(time.perf_counter() - start)
                peer.G.train()
                reply({"seconds": times})
            elif command == "rss":
                reply({"peakBytes": peak_resident_bytes()})
            elif command == "quit":
                break
            else:
                reply({"error": f"unknown command {command}"})
        except Exception as e:
            reply({"error": f"{type(e).__name__}: {e}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
