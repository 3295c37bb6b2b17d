#!/usr/bin/python3
"""Reference values for Sketch2Real's evaluation metrics (EvaluationTests).

Run once, with Debian's Python and these packages (for fixture generation only; nothing at run
time needs them): python3-torch, python3-torchvision, python3-scipy, python3-skimage, and the
vendored safetensors, after scripts/bootstrap has converted the HED weights and LPIPS heads:

    apt-get install -y python3-torchvision python3-scipy python3-skimage
    PYTHONPATH=.cache/python /usr/bin/python3 Tests/Fixtures/make_metric_fixtures.py

Writes Tests/Sketch2RealTests/Fixtures/metrics.safetensors:

    ssim.a.K, ssim.b.K        HWC float32 image pairs (K = 0, 1, 2; pair 1 is grey, 1 channel)
    ssim.expected [3] f64     skimage.metrics.structural_similarity(gaussian_weights=True,
                              sigma=1.5, use_sample_covariance=False, data_range=1, channel_axis=-1)
    psnr.expected [3] f64     skimage.metrics.peak_signal_noise_ratio(data_range=1)
    fd.a, fd.b, fd.expected   feature sets and pytorch-fid's Fréchet distance (scipy.linalg.sqrtm)
    fd.singular.{a,b,expected} fewer vectors than dimensions; expected from the eigenvalues of
                              Σ₁Σ₂ (numpy.linalg.eigvals), as sqrtm is unreliable there
    kid.x, kid.y, kid.expected  equal-sized sets: one subset of all rows, clean-fid's formula
    ndb.centroids, ndb.real, ndb.generated   bins and samples
    ndb.different, ndb.jsd, ndb.real_proportions, ndb.generated_proportions   the authors'
                              NDB formulas (two-proportion z-test with scipy.stats.norm, JSD in nats)
    lpips.a, lpips.b [2,3,34,42] pairs in [-1, 1] cut from bee.png; lpips.expected [2] f64: the
                              LPIPS v0.1 formula on HED's VGG16 (torch, float64)
    inception.torchvision, inception.fid [2,2048]  pool3 features of torchvision's inception_v3
                              and of pytorch-fid's FID variant for `deterministic_input()`
                              (2×3×96×96, not stored), weights from `deterministic_state`
Metadata "inception.names": JSON [[name, shape], …] of torchvision's state dict without fc.
"""

import json
import math
import os
import sys

import numpy as np
import scipy.linalg
import scipy.stats
import torch
import torch.nn.functional as F
import torchvision
from safetensors.numpy import save_file
from safetensors.torch import load_file
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from torchvision.models import inception as tv_inception

sys.path.insert(0, os.path.dirname(__file__))
from make_hed_fixture import MEAN_BGR, max_pool_same, read_png_rgb8  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(ROOT, "Tests", "Sketch2RealTests", "Fixtures")
OUTPUT = os.path.join(FIXTURES, "metrics.safetensors")
HED = os.path.join(ROOT, ".cache", "weights", "hed_bsds500.safetensors")
HEADS = os.path.join(ROOT, ".cache", "weights", "lpips_vgg_heads.safetensors")


def ssim_cases(rng, out):
    a0 = rng.random((24, 32, 3)).astype(np.float32)
    b0 = np.clip(a0 + rng.normal(0, 0.1, a0.shape), 0, 1).astype(np.float32)
    y, x = np.mgrid[0:20, 0:26]
    a1 = (0.5 + 0.4 * np.sin(x / 5.0) * np.cos(y / 7.0))[:, :, None].astype(np.float32)
    b1 = np.clip(a1 * 0.8 + 0.1 + rng.normal(0, 0.02, a1.shape), 0, 1).astype(np.float32)
    bee = read_png_rgb8(os.path.join(FIXTURES, "bee.png")).astype(np.float32) / 255
    a2, b2 = bee[10:58, 20:68], bee[11:59, 22:70]
    ssim, psnr = [], []
    for k, (a, b) in enumerate([(a0, b0), (a1, b1), (a2, b2)]):
        out[f"ssim.a.{k}"], out[f"ssim.b.{k}"] = np.ascontiguousarray(a), np.ascontiguousarray(b)
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        ssim.append(structural_similarity(a64, b64, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                          data_range=1.0, channel_axis=-1))
        psnr.append(peak_signal_noise_ratio(a64, b64, data_range=1.0))
    out["ssim.expected"], out["psnr.expected"] = np.array(ssim), np.array(psnr)
    print("SSIM", ssim, "PSNR", psnr)


def frechet_pytorch_fid(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """pytorch-fid's calculate_frechet_distance."""
    diff = mu1 - mu2
    covmean, _ = scipy.linalg.sqrtm(sigma1.dot(sigma2), disp=False)
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = scipy.linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean)


def fd_cases(rng, out):
    a = rng.normal(0, 1, (80, 6)) @ rng.normal(0, 1, (6, 6))
    b = rng.normal(0.3, 1, (70, 6)) @ rng.normal(0, 1, (6, 6)) + 0.5
    out["fd.a"], out["fd.b"] = a, b
    stats = lambda f: (f.mean(axis=0), np.cov(f, rowvar=False))
    out["fd.expected"] = np.array([frechet_pytorch_fid(*stats(a), *stats(b))])
    sa = rng.normal(0, 1, (5, 12))
    sb = rng.normal(0.2, 1.5, (7, 12))
    out["fd.singular.a"], out["fd.singular.b"] = sa, sb
    (m1, s1), (m2, s2) = stats(sa), stats(sb)
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvals(s1 @ s2).real, 0, None)).sum()
    out["fd.singular.expected"] = np.array([((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * trace_sqrt])
    print("FD", out["fd.expected"], "singular", out["fd.singular.expected"])


def kid_case(rng, out):
    x = rng.normal(0, 1, (25, 16))
    y = rng.normal(0.4, 1.2, (25, 16))
    out["kid.x"], out["kid.y"] = x, y
    # clean-fid's kernel_distance with one subset of all rows (any permutation gives the same value).
    n, m = x.shape[1], x.shape[0]
    a = (x @ x.T / n + 1) ** 3 + (y @ y.T / n + 1) ** 3
    b = (x @ y.T / n + 1) ** 3
    t = (a.sum() - np.diag(a).sum()) / (m - 1) - b.sum() * 2 / m
    out["kid.expected"] = np.array([t / m])
    print("KID", out["kid.expected"])


def ndb_case(rng, out):
    centroids = np.array([[0, 0], [4, 0], [0, 4], [4, 4], [8, 2], [2, 8]], dtype=np.float64)
    real = np.concatenate([c + rng.normal(0, 0.8, (50, 2)) for c in centroids])
    weights = np.array([0.4, 0.3, 0.1, 0.1, 0.1, 0.0])
    picks = rng.choice(len(centroids), size=120, p=weights)
    generated = centroids[picks] + rng.normal(0, 0.8, (120, 2))
    out["ndb.centroids"], out["ndb.real"], out["ndb.generated"] = centroids, real, generated

    def proportions(samples):
        labels = ((samples[:, None, :] - centroids[None]) ** 2).sum(-1).argmin(1)
        return np.bincount(labels, minlength=len(centroids)) / len(samples)

    p1, p2 = proportions(real), proportions(generated)
    n1, n2 = len(real), len(generated)
    p = (p1 * n1 + p2 * n2) / (n1 + n2)
    se = np.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (p1 - p2) / se
        different = 2.0 * scipy.stats.norm.cdf(-np.abs(z)) < 0.05
    m = (p1 + p2) / 2

    def kl(a, b):
        return np.sum(a[a > 0] * np.log(a[a > 0] / b[a > 0]))

    out["ndb.different"] = np.array([float(np.count_nonzero(different))])
    out["ndb.jsd"] = np.array([0.5 * kl(p1, m) + 0.5 * kl(p2, m)])
    out["ndb.real_proportions"], out["ndb.generated_proportions"] = p1, p2
    print("NDB", out["ndb.different"], "JSD", out["ndb.jsd"])


def hed_vgg_features(weights, images):
    """relu1_2 … relu5_3 of HED's VGG16 for N×3×H×W RGB in [-1, 1] (float64)."""
    mean = torch.tensor(MEAN_BGR, dtype=torch.float64).view(1, 3, 1, 1)
    x = (images.flip(1) + 1) * 127.5 - mean
    features = []
    for block, convs in {1: 2, 2: 2, 3: 3, 4: 3, 5: 3}.items():
        if block > 1:
            x = max_pool_same(x)
        for i in range(1, convs + 1):
            x = F.relu(F.conv2d(x, weights[f"block{block}.conv{i}.weight"], weights[f"block{block}.conv{i}.bias"], padding=1))
        features.append(x)
    return features


def lpips_case(rng, out):
    hed = {k: v.double() for k, v in load_file(HED).items()}
    heads = {k: v.double() for k, v in load_file(HEADS).items()}
    bee = read_png_rgb8(os.path.join(FIXTURES, "bee.png")).astype(np.float64) / 127.5 - 1
    a0 = bee[5:39, 10:52]
    b0 = np.clip(a0 + rng.normal(0, 0.2, a0.shape), -1, 1)
    a1 = bee[60:94, 100:142]
    b1 = bee[64:98, 103:145]
    a = np.stack([a0, a1]).transpose(0, 3, 1, 2).astype(np.float32)
    b = np.stack([b0, b1]).transpose(0, 3, 1, 2).astype(np.float32)
    out["lpips.a"], out["lpips.b"] = np.ascontiguousarray(a), np.ascontiguousarray(b)
    fa = hed_vgg_features(hed, torch.from_numpy(a).double())
    fb = hed_vgg_features(hed, torch.from_numpy(b).double())
    total = 0
    for k, (x, y) in enumerate(zip(fa, fb)):
        nx = x / (torch.sqrt((x ** 2).sum(dim=1, keepdim=True)) + 1e-10)
        ny = y / (torch.sqrt((y ** 2).sum(dim=1, keepdim=True)) + 1e-10)
        total = total + F.conv2d((nx - ny) ** 2, heads[f"lin{k}.model.1.weight"]).mean(dim=[1, 2, 3])
    out["lpips.expected"] = total.numpy()
    print("LPIPS-style", out["lpips.expected"])


# ---- Inception-v3 -----------------------------------------------------------------------

def deterministic_input():
    n = 2 * 3 * 96 * 96
    return (0.9 * torch.sin(0.013 * torch.arange(n, dtype=torch.float64))).view(2, 3, 96, 96).float()


def deterministic_state(model):
    """Every tensor from its sorted-name index p and flat index j: s = sin(0.7 j + 0.3 p + 0.1);
    convolution weights s·2/√fan_in, batch-norm weight 1 + 0.1 s, bias 0.1 s, running mean
    0.05 s, running variance 1.1 + 0.1 s, batch counters 0. EvaluationTests rebuilds the same."""
    state = model.state_dict()
    names = sorted(state)
    result = {}
    for p, name in enumerate(names):
        t = state[name]
        if name.endswith("num_batches_tracked"):
            result[name] = torch.zeros_like(t)
            continue
        j = torch.arange(t.numel(), dtype=torch.float64)
        s = torch.sin(0.7 * j + 0.3 * p + 0.1).view(t.shape)
        if name.endswith("conv.weight"):
            value = s * 2 / math.sqrt(t[0].numel())
        elif name.endswith("bn.weight"):
            value = 1 + 0.1 * s
        elif name.endswith("bn.bias"):
            value = 0.1 * s
        elif name.endswith("running_mean"):
            value = 0.05 * s
        elif name.endswith("running_var"):
            value = 1.1 + 0.1 * s
        else:
            raise ValueError(f"unexpected tensor {name}")
        result[name] = value.to(t.dtype)
    return result


class FIDInceptionA(tv_inception.InceptionA):
    def forward(self, x):
        branch1x1 = self.branch1x1(x)
        branch5x5 = self.branch5x5_2(self.branch5x5_1(x))
        branch3x3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        branch_pool = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False))
        return torch.cat([branch1x1, branch5x5, branch3x3dbl, branch_pool], 1)


class FIDInceptionC(tv_inception.InceptionC):
    def forward(self, x):
        branch1x1 = self.branch1x1(x)
        branch7x7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = x
        for layer in [self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5]:
            d = layer(d)
        branch_pool = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False))
        return torch.cat([branch1x1, branch7x7, d, branch_pool], 1)


class FIDInceptionE(tv_inception.InceptionE):
    def __init__(self, in_channels, pool):
        super().__init__(in_channels)
        self.pool = pool

    def forward(self, x):
        branch1x1 = self.branch1x1(x)
        s = self.branch3x3_1(x)
        branch3x3 = torch.cat([self.branch3x3_2a(s), self.branch3x3_2b(s)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        branch3x3dbl = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        if self.pool == "avg":
            pooled = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)
        else:
            pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
        return torch.cat([branch1x1, branch3x3, branch3x3dbl, self.branch_pool(pooled)], 1)


def fid_inception():
    """pytorch-fid's fid_inception_v3() architecture (without its weights)."""
    model = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False, num_classes=1008)
    model.Mixed_5b, model.Mixed_5c, model.Mixed_5d = FIDInceptionA(192, 32), FIDInceptionA(256, 64), FIDInceptionA(288, 64)
    model.Mixed_6b, model.Mixed_6c = FIDInceptionC(768, 128), FIDInceptionC(768, 160)
    model.Mixed_6d, model.Mixed_6e = FIDInceptionC(768, 160), FIDInceptionC(768, 192)
    model.Mixed_7b, model.Mixed_7c = FIDInceptionE(1280, "avg"), FIDInceptionE(2048, "max")
    return model


def pool_features(model, x):
    model.fc = torch.nn.Identity()
    model.dropout = torch.nn.Identity()
    return model(x)


def inception_case(out, metadata):
    x = deterministic_input()
    tv = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False, transform_input=False)
    names = [[k, list(v.shape)] for k, v in tv.state_dict().items() if not k.startswith("fc.")]
    metadata["inception.names"] = json.dumps(names)
    for key, model in [("torchvision", tv), ("fid", fid_inception())]:
        state = {k: v for k, v in model.state_dict().items() if not k.startswith("fc.")}
        model.load_state_dict({**model.state_dict(), **deterministic_state(_Named(state))})
        model.eval()
        out[f"inception.{key}"] = pool_features(model, x).numpy()
        print(f"Inception ({key})", out[f"inception.{key}"].shape, float(out[f"inception.{key}"].mean()))


class _Named:
    """A state dict as deterministic_state wants it (an object with state_dict())."""
    def __init__(self, state):
        self.state = state

    def state_dict(self):
        return self.state


def main():
    for path in (HED, HEADS):
        if not os.path.exists(path):
            sys.exit(f"{path} is missing; run scripts/bootstrap")
    torch.set_grad_enabled(False)
    rng = np.random.default_rng(20261126)
    out, metadata = {}, {"generator": "Tests/Fixtures/make_metric_fixtures.py",
                         "versions": f"numpy {np.__version__}, scipy {scipy.__version__}, torch {torch.__version__}, "
                                     f"torchvision {torchvision.__version__}, scikit-image "
                                     f"{__import__('skimage').__version__}"}
    ssim_cases(rng, out)
    fd_cases(rng, out)
    kid_case(rng, out)
    ndb_case(rng, out)
    lpips_case(rng, out)
    inception_case(out, metadata)
    save_file({k: np.ascontiguousarray(v) for k, v in out.items()}, OUTPUT, metadata=metadata)
    os.chmod(OUTPUT, 0o644)
    print(f"wrote {os.path.relpath(OUTPUT, ROOT)} ({os.path.getsize(OUTPUT) / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
