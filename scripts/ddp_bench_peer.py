#!/usr/bin/python3
"""PyTorch peer of `sketch2real bench distributed`: one paired training step (SRAGAN or pix2pix)
with torch.nn.parallel.DistributedDataParallel on Gloo, timed.

    torchrun --nproc_per_node 2 ... scripts/ddp_bench_peer.py --config RUN/config.json --batch 1 --threads 1
    python3 scripts/ddp_bench_peer.py --config RUN/config.json --batch 2 --threads 2   # one process

The networks are reference/*.py's, built from a Sketch2Real run's config.json (the run the Swift
side trained), on random batches of the configured size. The step is the one of
scripts/train_bench_peer.py (D, then G against the frozen D; GAN + L1 + perceptual + feature
matching as configured), written the way DDP needs it: D judges real and generated pairs in one
forward pass (instance norm makes that the same as two), and G's losses go through D's unwrapped
module, so that each DDP module runs one forward and one backward per step. Gradients are
averaged by DDP's reducer in 25 MB buckets during backward.

Prints one JSON line on rank 0: {"seconds": [time of each timed step], "world": W, "batch": B}.
"""

import argparse
import json
import os
import sys
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# safetensors, which scripts/bootstrap keeps inside the repository
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".cache", "python"))
from train_bench_peer import (ROOT, HEDVGG16Features, PerceptualLoss, d_loss, discriminator_features,  # noqa: E402
                              feature_matching, g_loss, set_requires_grad)
from pix2pix import Pix2PixGenerator  # noqa: E402  (train_bench_peer put reference/ on the path)
from sragan import MultiScaleDiscriminator, SRAGANGenerator  # noqa: E402


def split(outputs, n):
    """D's outputs on [real; fake] (a list per scale) → (real outputs, fake outputs)."""
    return [o[:n] for o in outputs], [o[n:] for o in outputs]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--batch", type=int, default=1, help="examples per process")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world > 1:
        dist.init_process_group("gloo")
    c = json.load(open(args.config))
    model = c["model"]
    torch.manual_seed(1)
    if model == "sragan":
        G = SRAGANGenerator(c["sragan"])
    elif model == "pix2pix":
        G = Pix2PixGenerator(c["pix2pix"])
    else:
        raise SystemExit(f"the distributed peer runs sragan and pix2pix, not {model}")
    D = MultiScaleDiscriminator(c["discriminator"])
    Gd = DDP(G) if world > 1 else G
    Dd = DDP(D) if world > 1 else D
    betas, lr = (c["beta1"], c["beta2"]), c["learningRate"]
    optG = torch.optim.Adam(G.parameters(), lr=lr, betas=betas)
    optD = torch.optim.Adam(D.parameters(), lr=lr, betas=betas)
    perceptual = None
    if c["lambdaPerceptual"] > 0:
        weights = c["perceptualWeights"]
        path = os.environ.get("SKETCH2REAL_HED_WEIGHTS") or os.path.join(ROOT, ".cache", "weights", "hed_bsds500.safetensors")
        perceptual = PerceptualLoss(HEDVGG16Features(path, 5 if len(weights) > 4 else 4), weights)
    size = c["data"]["preprocess"]["cropSize"]
    torch.manual_seed(100 + rank)
    x = torch.rand(args.batch, c["data"]["inputChannels"], size, size) * 2 - 1
    y = torch.rand(args.batch, c["data"]["outputChannels"], size, size) * 2 - 1
    gan = c["gan"]

    def step():
        G.train()
        D.train()
        fake = Gd(x)
        set_requires_grad([D], True)
        real_pair, fake_pair = torch.cat([x, y], 1), torch.cat([x, fake.detach()], 1)
        real_out, fake_out = split(Dd(torch.cat([real_pair, fake_pair], 0)), args.batch)
        loss_d = d_loss(gan, real_out, fake_out)
        optD.zero_grad(set_to_none=True)
        loss_d.backward()
        optD.step()

        set_requires_grad([D], False)
        need_features = c["lambdaFeatureMatching"] > 0
        fake_features = discriminator_features(D, torch.cat([x, fake], 1)) if need_features else []
        fake_outputs = [f[-1] for f in fake_features] if need_features else D(torch.cat([x, fake], 1))
        total = g_loss(gan, fake_outputs)
        if c["lambdaL1"] > 0:
            total = total + F.l1_loss(fake, y) * c["lambdaL1"]
        if perceptual is not None:
            total = total + perceptual(fake, y) * c["lambdaPerceptual"]
        if need_features:
            with torch.no_grad():
                real_features = discriminator_features(D, real_pair)
            total = total + feature_matching(fake_features, real_features) * c["lambdaFeatureMatching"]
        optG.zero_grad(set_to_none=True)
        total.backward()
        optG.step()
        set_requires_grad([D], True)

    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.steps):
        if world > 1:
            dist.barrier()
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    if rank == 0:
        print(json.dumps({"seconds": times, "world": world, "batch": args.batch}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
