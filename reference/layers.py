"""Layers and helpers that more than one of Sketch2Real's reference networks builds on: the
norm settings, configuration defaults, code tiling, and the residual block with optional CBAM
attention (SRAGAN's blocks, and pix2pix's ResnetBlock when attention is off).

The network families (sragan.py, pix2pix.py, multimodal.py) take from reference/ only what is
here, so none of them depends on another; load.py, which needs every family to read an exported
file, sits above them.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


def norm_layer(kind, channels):
    """"instance": no affine parameters and no running statistics (pix2pix's setting);
    "layer": one group over channels and pixels with per-channel affine parameters."""
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r}")


def conv_bias(kind):
    # Batch norm's shift makes a bias redundant; the other settings keep it.
    return kind != "batch"


def with_defaults(config, defaults):
    unknown = set(config) - set(defaults)
    if unknown:
        raise ValueError(f"unknown configuration fields: {sorted(unknown)}")
    return {**defaults, **config}


def with_tiled_code(h, z):
    """cat(h, z tiled over h's height and width) on the channel axis."""
    return torch.cat([h, z[:, :, None, None].expand(-1, -1, h.shape[2], h.shape[3])], dim=1)


class ChannelGate(nn.Module):
    """Average- and max-pooled channel descriptors through one shared MLP, summed, sigmoid."""

    def __init__(self, channels, reduction=16):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.mlp = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(), nn.Linear(hidden, channels))

    def forward(self, x):
        avg = x.mean(dim=(2, 3))
        peak = x.amax(dim=(2, 3))
        scale = torch.sigmoid(self.mlp(avg) + self.mlp(peak))
        return x * scale[:, :, None, None]


class SpatialGate(nn.Module):
    """Channel-wise max and mean maps → 7×7 conv (no bias) → batch norm → sigmoid weight."""

    def __init__(self, kernel_size=7):
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)
        self.bn = nn.BatchNorm2d(1)

    def forward(self, x):
        pooled = torch.cat([x.amax(dim=1, keepdim=True), x.mean(dim=1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.bn(self.conv(pooled)))


class CBAM(nn.Module):
    def __init__(self, channels, reduction=16):
        super().__init__()
        self.channel_gate = ChannelGate(channels, reduction)
        self.spatial_gate = SpatialGate()

    def forward(self, x):
        return self.spatial_gate(self.channel_gate(x))


def demodulated_conv(conv, x, scale=None):
    """StyleGAN2's weight demodulation of `conv`: w'' = s*w / sqrt(sum((s*w)^2) + 1e-8) per
    example and output channel, with s (N x in) the input scale (None: 1); no normalisation of
    the feature maps follows."""
    w = conv.weight
    if scale is None:
        d = torch.rsqrt(w.pow(2).sum(dim=(1, 2, 3)) + 1e-8)
        return F.conv2d(x, w * d[:, None, None, None], conv.bias, conv.stride, conv.padding)
    # Per-example weights, written out: N x out x in x k x k, each example convolved with its own.
    modulated = w[None] * scale[:, None, :, None, None]
    demodulated = modulated * torch.rsqrt(modulated.pow(2).sum(dim=(2, 3, 4), keepdim=True) + 1e-8)
    return torch.cat([F.conv2d(x[n:n + 1], demodulated[n], conv.bias, conv.stride, conv.padding)
                      for n in range(x.shape[0])])


class NoiseInjection(nn.Module):
    """x + weight * noise: a per-pixel noise map (N×1×H×W, shared by the channels) scaled by a
    learned per-channel strength that starts at zero (StyleGAN's noise inputs). The caller
    passes the map; Swift's `NoiseInjection` draws it in training and uses a fixed map in
    evaluation."""

    def __init__(self, channels):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(channels))

    def forward(self, x, noise):
        return x + self.weight[None, :, None, None] * noise


class AttentionResidualBlock(nn.Module):
    """x + attention(conv_block(x)); without attention, pix2pix's ResnetBlock. With
    `latent_channels` > 0, `modulation` maps a code z to a per-channel scale and shift for each
    of the two norms: norm(h) * (1 + gamma) + beta (adaptive instance norm). With
    `residual_gain`, the branch is scaled by a learned per-channel gain that starts at zero
    (ReZero): x + g * attention(conv_block(x))."""

    def __init__(self, channels, norm="instance", dropout=False, attention=False, reduction=16, latent_channels=0,
                 demodulated=False, residual_gain=False):
        super().__init__()
        self.residual_gain = nn.Parameter(torch.zeros(channels)) if residual_gain else None
        if demodulated:
            norm = "none"
        self.demodulated = demodulated
        bias = conv_bias(norm)
        layers = [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), norm_layer(norm, channels),
                  nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(0.5))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), norm_layer(norm, channels)]
        self.norm_positions = [2, len(layers) - 1]
        self.conv_positions = [1, len(layers) - 2]
        self.conv_block = nn.Sequential(*layers)
        self.attention = CBAM(channels, reduction) if attention else None
        width = (2 if demodulated else 4) * channels
        self.modulation = nn.Linear(latent_channels, width) if latent_channels > 0 else None

    def forward(self, x, z=None):
        if self.demodulated:
            scales = None
            if self.modulation is not None and z is not None:
                scales = (self.modulation(z) + 1).chunk(2, dim=1)
            residual = x
            for i, layer in enumerate(self.conv_block):
                if i in self.conv_positions:
                    k = self.conv_positions.index(i)
                    residual = demodulated_conv(layer, residual, scales[k] if scales is not None else None)
                else:
                    residual = layer(residual)
        elif self.modulation is None or z is None:
            residual = self.conv_block(x)
        else:
            params = self.modulation(z)[:, :, None, None].chunk(4, dim=1)
            residual = x
            for i, layer in enumerate(self.conv_block):
                residual = layer(residual)
                if i in self.norm_positions:
                    k = self.norm_positions.index(i)
                    residual = residual * (params[2 * k] + 1) + params[2 * k + 1]
        if self.attention is not None:
            residual = self.attention(residual)
        if self.residual_gain is not None:
            residual = residual * self.residual_gain[None, :, None, None]
        return x + residual
