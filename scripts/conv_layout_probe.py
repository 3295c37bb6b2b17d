#!/usr/bin/python3
"""Probe for docs/PERFORMANCE.md: SRAGAN's output convolution (64 → 3, 7×7) forward+backward and
forward alone in PyTorch's default NCHW layout and in channels-last (NHWC, converting in and
out as a model whose other layers stay NCHW would), best of 12 interleaved runs.

    /usr/bin/python3 scripts/conv_layout_probe.py
"""
import torch, time
torch.manual_seed(0)
CL=torch.channels_last
def t(f,n=3):
    ts=[]
    for _ in range(n):
        s=time.perf_counter(); f(); ts.append(time.perf_counter()-s)
    return min(ts)*1000
for size in (128,256):
    x=torch.randn(1,64,size+6,size+6,requires_grad=True); w=(torch.randn(3,64,7,7)*0.05).requires_grad_()
    g=torch.randn(1,3,size,size)
    def nchw():
        y=torch.nn.functional.conv2d(x,w); y.backward(g); x.grad=None; w.grad=None
    def nhwc():
        y=torch.nn.functional.conv2d(x.contiguous(memory_format=CL),w.contiguous(memory_format=CL)).contiguous()
        y.backward(g); x.grad=None; w.grad=None
    def fnchw():
        with torch.no_grad(): torch.nn.functional.conv2d(x,w)
    def fnhwc():
        with torch.no_grad(): torch.nn.functional.conv2d(x.contiguous(memory_format=CL),w.contiguous(memory_format=CL)).contiguous()
    nchw(); nhwc()
    a=[];b=[];c=[];d=[]
    for r in range(4):
        a.append(t(nchw)); b.append(t(nhwc)); c.append(t(fnchw)); d.append(t(fnhwc))
    print(size, "fwd+bwd nchw %.1f nhwc %.1f | fwd nchw %.1f nhwc %.1f"%(min(a),min(b),min(c),min(d)))
