"""PyTorch definitions of Sketch2Real's multimodal networks: the ResNet encoder E (BicycleGAN's
E_ResNet) and the U-Net generator with a latent code (BicycleGAN's G_Unet_add_all; with the
code at the input only, MSGAN's pix2pix + z). LSRAGAN's generator is `sragan.SRAGANGenerator`
with `latentChannels` (and optionally `latentAtEveryStage`).

State-dict names, shapes and order equal those of the Swift `LatentEncoder` and
`LatentUNetGenerator`. `load.load_encoder(path)` reads the encoder that `sketch2real export`
stores beside an lsragan or bicyclegan generator; `load.load_generator(path)` reads the generator.
"""

import torch
import torch.nn as nn

if __package__:
    from .layers import norm_layer, with_defaults, with_tiled_code
else:
    from layers import norm_layer, with_defaults, with_tiled_code

# The Swift LatentEncoderConfig's fields and defaults.
ENCODER_DEFAULTS = {
    "inputChannels": 3,
    "latentChannels": 8,
    "nef": 64,
    "blocks": 4,
    "norm": "instance",
}

# The Swift LatentUNetConfig's fields and defaults.
LATENT_UNET_DEFAULTS = {
    "inputChannels": 1,
    "outputChannels": 3,
    "ngf": 64,
    "levels": 8,
    "norm": "instance",
    "dropout": False,
    "latentChannels": 8,
    "latentAtEveryLevel": True,
}


class EncoderBasicBlock(nn.Module):
    """(norm,) LeakyReLU, 3×3 conv, (norm,) LeakyReLU, 3×3 conv to the new width, 2×2 average
    pool; plus a shortcut: 2×2 average pool, 1×1 conv. Halves the resolution."""

    def __init__(self, in_channels, out_channels, norm="instance"):
        super().__init__()
        layers = []
        if norm != "none":
            layers.append(norm_layer(norm, in_channels))
        layers += [nn.LeakyReLU(0.2), nn.Conv2d(in_channels, in_channels, 3, padding=1)]
        if norm != "none":
            layers.append(norm_layer(norm, in_channels))
        layers += [nn.LeakyReLU(0.2),
                   nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, padding=1), nn.AvgPool2d(2))]
        self.conv = nn.Sequential(*layers)
        self.shortcut = nn.Sequential(nn.AvgPool2d(2), nn.Conv2d(in_channels, out_channels, 1))

    def forward(self, x):
        return self.conv(x) + self.shortcut(x)


class LatentEncoder(nn.Module):
    """Stride-2 4×4 conv to nef, `blocks` EncoderBasicBlocks widening nef·min(4, n) →
    nef·min(4, n+1), LeakyReLU 0.2, global average pool, two linear heads: (μ, log σ²)."""

    def __init__(self, config=None):
        super().__init__()
        c = with_defaults(config or {}, ENCODER_DEFAULTS)
        self.config = c
        nef = c["nef"]

        def width(n):
            return nef * min(4, n)

        layers = [nn.Conv2d(c["inputChannels"], nef, 4, stride=2, padding=1)]
        for n in range(1, c["blocks"] + 1):
            layers.append(EncoderBasicBlock(width(n), width(n + 1), c["norm"]))
        layers.append(nn.LeakyReLU(0.2))
        self.conv = nn.Sequential(*layers)
        self.fc = nn.Sequential(nn.Linear(width(c["blocks"] + 1), c["latentChannels"]))
        self.fcVar = nn.Sequential(nn.Linear(width(c["blocks"] + 1), c["latentChannels"]))

    def forward(self, y):
        pooled = self.conv(y).mean(dim=(2, 3))
        return self.fc(pooled), self.fcVar(pooled)

    def sample(self, y):
        """z = μ + ε·exp(½ log σ²), with μ and log σ²."""
        mu, logvar = self(y)
        return mu + torch.randn_like(mu) * torch.exp(0.5 * logvar), mu, logvar


class LatentUNetBlock(nn.Module):
    """One U-Net level: the code tiled onto the input (when this level takes it), down
    (LeakyReLU, 4×4 s2 conv, norm), the inner levels, up (ReLU, 4×4 s2 transposed conv, norm,
    dropout), and the skip connection cat(up(...), x)."""

    def __init__(self, input_channels, outer, inner, latent, submodule=None, outermost=False, innermost=False,
                 norm="instance", dropout=False):
        super().__init__()
        self.outermost = outermost
        self.latent = latent
        downconv = nn.Conv2d(input_channels + latent, inner, 4, stride=2, padding=1)
        upconv = nn.ConvTranspose2d(inner if innermost else inner * 2, outer, 4, stride=2, padding=1)
        up = [nn.ReLU(), upconv]
        if outermost:
            down = [downconv]
            up.append(nn.Tanh())
        elif innermost:
            down = [nn.LeakyReLU(0.2), downconv]
            if norm != "none":
                up.append(norm_layer(norm, outer))
        else:
            down = [nn.LeakyReLU(0.2), downconv]
            if norm != "none":
                down.append(norm_layer(norm, inner))
                up.append(norm_layer(norm, outer))
            if dropout:
                up.append(nn.Dropout(0.5))
        self.down = nn.Sequential(*down)
        self.submodule = submodule
        self.up = nn.Sequential(*up)

    def forward(self, x, z):
        h = with_tiled_code(x, z) if self.latent > 0 else x
        h = self.down(h)
        if self.submodule is not None:
            h = self.submodule(h, z)
        h = self.up(h)
        return h if self.outermost else torch.cat([h, x], dim=1)


class LatentUNetGenerator(nn.Module):
    """G(x, z): widths ngf, 2·ngf, 4·ngf, then 8·ngf; `levels` stride-2 levels (input sides
    multiples of 2^levels); the code at every level or, without `latentAtEveryLevel`, at the
    input only."""

    def __init__(self, config=None):
        super().__init__()
        c = with_defaults(config or {}, LATENT_UNET_DEFAULTS)
        self.config = c
        ngf, norm, nz = c["ngf"], c["norm"], c["latentChannels"]
        inner_z = nz if c["latentAtEveryLevel"] else 0
        block = LatentUNetBlock(ngf * 8, ngf * 8, ngf * 8, inner_z, innermost=True, norm=norm)
        for _ in range(c["levels"] - 5):
            block = LatentUNetBlock(ngf * 8, ngf * 8, ngf * 8, inner_z, block, norm=norm, dropout=c["dropout"])
        block = LatentUNetBlock(ngf * 4, ngf * 4, ngf * 8, inner_z, block, norm=norm)
        block = LatentUNetBlock(ngf * 2, ngf * 2, ngf * 4, inner_z, block, norm=norm)
        block = LatentUNetBlock(ngf, ngf, ngf * 2, inner_z, block, norm=norm)
        self.model = LatentUNetBlock(c["inputChannels"], c["outputChannels"], ngf, nz, block, outermost=True, norm=norm)

    def forward(self, x, z):
        return self.model(x, z)
