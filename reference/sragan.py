"""PyTorch definitions of Sketch2Real's SRAGAN generator and PatchGAN discriminators.

The modules are built so that `state_dict()` names, shapes and order equal those of the Swift
modules (`SRAGANGenerator`, `PatchDiscriminator`, `MultiScaleDiscriminator`) for the same
configuration, and their forward passes compute the same functions. A generator exported by
`sketch2real export` loads with `load_generator(path)`.

Works with PyTorch 1.13 or later; reading exported files needs the `safetensors` package.
"""

import json

import torch
import torch.nn as nn
import torch.nn.functional as F

MODEL_KEY = "sketch2real.model"
CONFIG_KEY = "sketch2real.config"
ENCODER_KEY = "sketch2real.encoder"
ENCODER_PREFIX = "E."

# The Swift SRAGANConfig's fields and defaults, spelled as its Codable conformance writes them.
SRAGAN_DEFAULTS = {
    "inputChannels": 1,
    "outputChannels": 3,
    "ngf": 64,
    "blocks": 9,
    "attentionEvery": 2,
    "attentionReduction": 16,
    "norm": "instance",
    "upsampling": "transposed",
    "globalShortcut": True,
    "dropout": False,
    "latentChannels": 0,
    "latentAtEveryStage": False,
    "latentAtInput": True,
    "latentModulation": False,
}

# The Swift DiscriminatorConfig's fields and defaults.
DISCRIMINATOR_DEFAULTS = {
    "inputChannels": 4,
    "ndf": 64,
    "layers": 3,
    "norm": "instance",
    "scales": 1,
    "widthFactorPerScale": 0.5,
    "spectralNorm": False,
}


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


class AttentionResidualBlock(nn.Module):
    """x + attention(conv_block(x)); without attention, pix2pix's ResnetBlock. With
    `latent_channels` > 0, `modulation` maps a code z to a per-channel scale and shift for each
    of the two norms: norm(h) * (1 + gamma) + beta (adaptive instance norm)."""

    def __init__(self, channels, norm="instance", dropout=False, attention=False, reduction=16, latent_channels=0):
        super().__init__()
        bias = conv_bias(norm)
        layers = [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), norm_layer(norm, channels),
                  nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(0.5))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), norm_layer(norm, channels)]
        self.norm_positions = [2, len(layers) - 1]
        self.conv_block = nn.Sequential(*layers)
        self.attention = CBAM(channels, reduction) if attention else None
        self.modulation = nn.Linear(latent_channels, 4 * channels) if latent_channels > 0 else None

    def forward(self, x, z=None):
        if self.modulation is None or z is None:
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
        return x + residual


def with_tiled_code(h, z):
    """cat(h, z tiled over h's height and width) on the channel axis."""
    return torch.cat([h, z[:, :, None, None].expand(-1, -1, h.shape[2], h.shape[3])], dim=1)


def has_attention(config, block):
    every = config["attentionEvery"]
    return every > 0 and (block + 1) % every == 0


class SRAGANGenerator(nn.Module):
    """Encoder → residual blocks with sparse CBAM attention → decoder, plus
    `tanh(decoder(...) + shortcut(x))` with a 1×1 input projection when `globalShortcut` is on.
    With `latentChannels` > 0, `forward(x, z)` tiles z (N×latent) over the image and
    concatenates it to the sketch before the encoder (the shortcut sees the sketch only); with
    `latentAtEveryStage` also to the inputs of the second and third encoder convolutions."""

    def __init__(self, config=None):
        super().__init__()
        c = with_defaults(config or {}, SRAGAN_DEFAULTS)
        self.config = c
        ngf, norm = c["ngf"], c["norm"]
        bias = conv_bias(norm)
        tiled = c["latentAtInput"] or c["latentAtEveryStage"]
        in_c = c["inputChannels"] + (c["latentChannels"] if tiled else 0)
        stage_z = c["latentChannels"] if c["latentAtEveryStage"] else 0
        self.encoder = nn.Sequential(
            nn.ReflectionPad2d(3), nn.Conv2d(in_c, ngf, 7, bias=bias), norm_layer(norm, ngf), nn.ReLU(),
            nn.Conv2d(ngf + stage_z, ngf * 2, 3, stride=2, padding=1, bias=bias), norm_layer(norm, ngf * 2), nn.ReLU(),
            nn.Conv2d(ngf * 2 + stage_z, ngf * 4, 3, stride=2, padding=1, bias=bias), norm_layer(norm, ngf * 4),
            nn.ReLU())
        self.blocks = nn.ModuleList([
            AttentionResidualBlock(ngf * 4, norm, c["dropout"], has_attention(c, i), c["attentionReduction"],
                                   c["latentChannels"] if c["latentModulation"] else 0)
            for i in range(c["blocks"])])
        up = []
        self.decoder_norms = []
        for src, dst in [(ngf * 4, ngf * 2), (ngf * 2, ngf)]:
            if c["upsampling"] == "transposed":
                up.append(nn.ConvTranspose2d(src, dst, 3, stride=2, padding=1, output_padding=1, bias=bias))
            elif c["upsampling"] == "resizeConv":
                up += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(src, dst, 3, padding=1, bias=bias)]
            else:
                raise ValueError(f"unknown upsampling {c['upsampling']!r}")
            self.decoder_norms.append((len(up), dst))
            up += [norm_layer(norm, dst), nn.ReLU()]
        up += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, c["outputChannels"], 7)]
        self.decoder = nn.Sequential(*up)
        self.shortcut = nn.Conv2d(c["inputChannels"], c["outputChannels"], 1) if c["globalShortcut"] else None
        # z -> (gamma, beta) for each decoder norm, in order (latentModulation).
        modulated = c["latentModulation"] and c["latentChannels"] > 0
        self.modulation = nn.Linear(c["latentChannels"], 2 * (ngf * 2 + ngf)) if modulated else None

    def forward(self, x, z=None):
        latent = self.config["latentChannels"]
        if latent > 0 and z is None:
            raise ValueError("this generator takes a latent code z of shape (N, %d)" % latent)
        if latent > 0 and (self.config["latentAtInput"] or self.config["latentAtEveryStage"]):
            h = with_tiled_code(x, z)
            for i, layer in enumerate(self.encoder):
                # Index 1 is the first convolution, which sees the code through the input already.
                if self.config["latentAtEveryStage"] and i > 1 and isinstance(layer, nn.Conv2d):
                    h = with_tiled_code(h, z)
                h = layer(h)
        else:
            h = self.encoder(x)
        for block in self.blocks:
            h = block(h, z if latent > 0 else None)
        if self.modulation is not None:
            params = self.modulation(z)[:, :, None, None]
            modulations, offset = {}, 0
            for position, channels in self.decoder_norms:
                modulations[position] = (params[:, offset:offset + channels], params[:, offset + channels:offset + 2 * channels])
                offset += 2 * channels
            out = h
            for i, layer in enumerate(self.decoder):
                out = layer(out)
                if i in modulations:
                    gamma, beta = modulations[i]
                    out = out * (gamma + 1) + beta
        else:
            out = self.decoder(h)
        if self.shortcut is not None:
            out = out + self.shortcut(x)
        return torch.tanh(out)


class PatchDiscriminator(nn.Module):
    """pix2pix's N-layer PatchGAN (names `model.<i>.*`); every convolution spectrally
    normalised when `spectral_norm` is set (names `weight_orig`, `weight_u`, `weight_v`)."""

    def __init__(self, input_channels, ndf=64, layers=3, norm="instance", spectral_norm=False):
        super().__init__()
        bias = conv_bias(norm)

        def conv(i, o, stride, with_bias):
            c = nn.Conv2d(i, o, 4, stride=stride, padding=1, bias=with_bias)
            return nn.utils.spectral_norm(c) if spectral_norm else c

        seq = [conv(input_channels, ndf, 2, True), nn.LeakyReLU(0.2)]
        mult = 1
        for n in range(1, layers + 1):
            previous, mult = mult, min(2 ** n, 8)
            seq += [conv(ndf * previous, ndf * mult, 1 if n == layers else 2, bias), norm_layer(norm, ndf * mult),
                    nn.LeakyReLU(0.2)]
        seq.append(conv(ndf * mult, 1, 1, True))
        self.model = nn.Sequential(*seq)

    def forward(self, x):
        return self.model(x)


class MultiScaleDiscriminator(nn.Module):
    """PatchGANs on successively 2× average-pooled inputs, each narrower by
    `widthFactorPerScale`; returns the output maps, finest scale first."""

    def __init__(self, config=None):
        super().__init__()
        c = with_defaults(config or {}, DISCRIMINATOR_DEFAULTS)
        self.config = c
        width = float(c["ndf"])
        scales = []
        for _ in range(c["scales"]):
            # Swift rounds half away from zero; Python's round() would round half to even.
            ndf = max(1, int(width + 0.5))
            scales.append(PatchDiscriminator(c["inputChannels"], ndf, c["layers"], c["norm"], c["spectralNorm"]))
            width *= c["widthFactorPerScale"]
        self.scales = nn.ModuleList(scales)

    @staticmethod
    def downsample(x):
        return F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)

    def forward(self, x):
        out = []
        for k, d in enumerate(self.scales):
            if k > 0:
                x = self.downsample(x)
            out.append(d(x))
        return out


def build_generator(kind, config):
    """The PyTorch module for an exported model's kind ("sragan", "pix2pix", "lsragan",
    "bicyclegan" or "msgan") and configuration."""
    if kind in ("sragan", "lsragan"):
        return SRAGANGenerator(config)
    if kind == "pix2pix":
        if __package__:
            from .pix2pix import Pix2PixGenerator
        else:
            from pix2pix import Pix2PixGenerator
        return Pix2PixGenerator(config)
    if kind in ("bicyclegan", "msgan"):
        if __package__:
            from .multimodal import LatentUNetGenerator
        else:
            from multimodal import LatentUNetGenerator
        return LatentUNetGenerator(config)
    raise ValueError(f"unknown model kind {kind!r}")


def load_generator(path, device="cpu"):
    """Reads a generator exported by Sketch2Real (safetensors with the configuration in its
    metadata), in evaluation mode and float32. Returns (module, kind, config)."""
    from safetensors import safe_open

    with safe_open(path, framework="pt", device=str(device)) as f:
        metadata = f.metadata() or {}
        # Multimodal exports keep their encoder beside the generator, under "E." (see multimodal.py).
        state = {name: f.get_tensor(name) for name in f.keys() if not name.startswith(ENCODER_PREFIX)}
    if CONFIG_KEY not in metadata:
        raise ValueError(f"{path}: no {CONFIG_KEY!r} in the metadata; not a Sketch2Real export")
    kind = metadata.get(MODEL_KEY, "sragan")
    config = json.loads(metadata[CONFIG_KEY])
    model = build_generator(kind, config)
    # Exports may be float16 to halve the file; the modules compute in float32.
    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    model.load_state_dict(state, strict=True)
    model.to(device).eval()
    return model, kind, config
