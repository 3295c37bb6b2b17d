#!/usr/bin/env python3
"""PyTorch peer of `sketch2real bench ops`: the same convolution cases, timed the same way.

Reads the cases as JSON on stdin, prints one JSON object per case on stdout.
"""
import json
import sys
import time

import torch


def run(c, rounds, iterations):
    torch.manual_seed(0)
    x = torch.randn(c["batch"], c["inChannels"], c["size"], c["size"], requires_grad=True)
    w = (torch.randn(c["outChannels"], c["inChannels"], c["kernel"], c["kernel"]) * 0.05).requires_grad_()
    b = torch.zeros(c["outChannels"], requires_grad=True)
    out = (c["size"] + 2 * c["padding"] - c["kernel"]) // c["stride"] + 1
    upstream = torch.randn(c["batch"], c["outChannels"], out, out)

    def once():
        y = torch.nn.functional.conv2d(x, w, b, stride=c["stride"], padding=c["padding"])
        y.backward(upstream)
        x.grad = None
        w.grad = None
        b.grad = None

    once()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(iterations):
            once()
        times.append((time.perf_counter() - start) / iterations)
    times.sort()
    median = times[len(times) // 2]
    flops = 3 * 2 * c["batch"] * c["outChannels"] * out * out * c["inChannels"] * c["kernel"] ** 2
    return {"name": c["name"], "secondsPerIteration": median, "gflops": flops / median / 1e9}


def main():
    request = json.load(sys.stdin)
    if request.get("threads"):
        torch.set_num_threads(request["threads"])
    for c in request["cases"]:
        print(json.dumps(run(c, request["rounds"], request["iterations"])), flush=True)


if __name__ == "__main__":
    main()
