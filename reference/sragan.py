"""PyTorch definitions of Sketch2Real's SRAGAN generator and PatchGAN discriminators.

The modules are built so that `state_dict()` names, shapes and order equal those of the Swift
modules (`SRAGANGenerator`, `PatchDiscriminator`, `MultiScaleDiscriminator`) for the same
configuration, and their forward passes compute the same functions. A generator exported by
`sketch2real export` loads with `load.load_generator(path)`.

Works with PyTorch 1.13 or later.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

if __package__:
    from .layers import AttentionResidualBlock, NoiseInjection, conv_bias, demodulated_conv, norm_layer, with_defaults, with_tiled_code
else:
    from layers import AttentionResidualBlock, NoiseInjection, conv_bias, demodulated_conv, norm_layer, with_defaults, with_tiled_code

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
    "demodulate": False,
    "residualGain": False,
    "noiseInputs": False,
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
                                   c["latentChannels"] if c["latentModulation"] else 0, c["demodulate"],
                                   c["residualGain"])
            for i in range(c["blocks"])])
        up = []
        self.decoder_norms, self.decoder_convs = [], []
        decoder_norm = "none" if c["demodulate"] else norm
        decoder_bias = conv_bias(decoder_norm)
        for src, dst in [(ngf * 4, ngf * 2), (ngf * 2, ngf)]:
            if c["upsampling"] == "transposed":
                up.append(nn.ConvTranspose2d(src, dst, 3, stride=2, padding=1, output_padding=1, bias=decoder_bias))
            elif c["upsampling"] == "resizeConv":
                up += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(src, dst, 3, padding=1, bias=decoder_bias)]
            else:
                raise ValueError(f"unknown upsampling {c['upsampling']!r}")
            self.decoder_convs.append((len(up) - 1, src))
            self.decoder_norms.append((len(up), dst))
            up += [norm_layer(decoder_norm, dst), nn.ReLU()]
        up += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, c["outputChannels"], 7)]
        self.decoder = nn.Sequential(*up)
        self.shortcut = nn.Conv2d(c["inputChannels"], c["outputChannels"], 1) if c["globalShortcut"] else None
        # z -> (gamma, beta) for each decoder norm, in order (latentModulation).
        modulated = c["latentModulation"] and c["latentChannels"] > 0
        width = ngf * 4 + ngf * 2 if c["demodulate"] else 2 * (ngf * 2 + ngf)
        self.modulation = nn.Linear(c["latentChannels"], width) if modulated else None
        # One noise input after each decoder convolution (noiseInputs).
        self.noise = nn.ModuleList([NoiseInjection(ngf * 2), NoiseInjection(ngf)]) if c["noiseInputs"] else None

    def forward(self, x, z=None, noise=None):
        """`noise`: one map per noise input (N×1×H×W at its convolution's output size); None
        draws standard normal maps."""
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
        scales = None
        if self.config["demodulate"] and self.modulation is not None:
            scales = self.modulation(z) + 1
        modulations = {}
        if not self.config["demodulate"] and self.modulation is not None:
            params = self.modulation(z)[:, :, None, None]
            offset = 0
            for position, channels in self.decoder_norms:
                modulations[position] = (params[:, offset:offset + channels], params[:, offset + channels:offset + 2 * channels])
                offset += 2 * channels
        convs = [position for position, _ in self.decoder_convs]
        out, offset = h, 0
        for i, layer in enumerate(self.decoder):
            if i in convs and self.config["demodulate"]:
                channels = self.decoder_convs[convs.index(i)][1]
                out = demodulated_conv(layer, out, scales[:, offset:offset + channels] if scales is not None else None)
                offset += channels
            else:
                out = layer(out)
            if i in convs and self.noise is not None:
                k = convs.index(i)
                n = noise[k] if noise is not None else torch.randn(out.shape[0], 1, out.shape[2], out.shape[3])
                out = self.noise[k](out, n)
            if i in modulations:
                gamma, beta = modulations[i]
                out = out * (gamma + 1) + beta
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
