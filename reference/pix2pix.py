"""PyTorch definitions of the pix2pix generators as Sketch2Real's `Pix2PixGenerator` builds them.

State-dict names are pix2pix's (`model.*`: `UnetGenerator` nests `model.model.<i>`,
`ResnetGenerator` is one `model` Sequential with `conv_block` residual blocks), so weights
trained by pix2pix (pytorch-CycleGAN-and-pix2pix) load here and in Sketch2Real unchanged.
"""

import torch
import torch.nn as nn

if __package__:
    from .layers import AttentionResidualBlock, conv_bias, norm_layer, with_defaults
else:
    from layers import AttentionResidualBlock, conv_bias, norm_layer, with_defaults

# The Swift Pix2PixConfig's fields and defaults.
PIX2PIX_DEFAULTS = {
    "architecture": "unet256",
    "inputChannels": 1,
    "outputChannels": 3,
    "ngf": 64,
    "norm": "batch",
    "dropout": True,
}

DOWNSAMPLINGS = {"unet256": 8, "unet128": 7, "resnet9": 2, "resnet6": 2}


class UNetBlock(nn.Module):
    """One U-Net level: down-convolution, the inner levels, up-convolution and a skip
    connection that concatenates onto the channel axis (except at the outermost level)."""

    def __init__(self, outer, inner, input_channels=None, submodule=None, outermost=False, innermost=False,
                 norm="batch", dropout=False):
        super().__init__()
        self.outermost = outermost
        bias = conv_bias(norm)
        input_channels = outer if input_channels is None else input_channels
        down = nn.Conv2d(input_channels, inner, 4, stride=2, padding=1, bias=bias)
        if outermost:
            up = nn.ConvTranspose2d(inner * 2, outer, 4, stride=2, padding=1)
            layers = [down, submodule, nn.ReLU(), up, nn.Tanh()]
        elif innermost:
            up = nn.ConvTranspose2d(inner, outer, 4, stride=2, padding=1, bias=bias)
            layers = [nn.LeakyReLU(0.2), down, nn.ReLU(), up, norm_layer(norm, outer)]
        else:
            up = nn.ConvTranspose2d(inner * 2, outer, 4, stride=2, padding=1, bias=bias)
            layers = [nn.LeakyReLU(0.2), down, norm_layer(norm, inner), submodule, nn.ReLU(), up,
                      norm_layer(norm, outer)]
            if dropout:
                layers.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        if self.outermost:
            return self.model(x)
        # pix2pix's LeakyReLU is in place, so there the concatenation reads leaky_relu(x), not x.
        # The concatenation always feeds the enclosing level's ReLU, and relu(leaky_relu(x)) equals
        # relu(x) in value and gradient, so the plain form computes the same function.
        return torch.cat([x, self.model(x)], dim=1)


class Pix2PixGenerator(nn.Module):
    def __init__(self, config=None):
        super().__init__()
        c = with_defaults(config or {}, PIX2PIX_DEFAULTS)
        self.config = c
        arch, ngf, norm = c["architecture"], c["ngf"], c["norm"]
        if arch in ("unet256", "unet128"):
            block = UNetBlock(ngf * 8, ngf * 8, innermost=True, norm=norm)
            for _ in range(DOWNSAMPLINGS[arch] - 5):
                block = UNetBlock(ngf * 8, ngf * 8, submodule=block, norm=norm, dropout=c["dropout"])
            block = UNetBlock(ngf * 4, ngf * 8, submodule=block, norm=norm)
            block = UNetBlock(ngf * 2, ngf * 4, submodule=block, norm=norm)
            block = UNetBlock(ngf, ngf * 2, submodule=block, norm=norm)
            self.model = UNetBlock(c["outputChannels"], ngf, input_channels=c["inputChannels"], submodule=block,
                                   outermost=True, norm=norm)
        elif arch in ("resnet9", "resnet6"):
            bias = conv_bias(norm)
            layers = [nn.ReflectionPad2d(3), nn.Conv2d(c["inputChannels"], ngf, 7, bias=bias), norm_layer(norm, ngf),
                      nn.ReLU()]
            for i, o in [(ngf, ngf * 2), (ngf * 2, ngf * 4)]:
                layers += [nn.Conv2d(i, o, 3, stride=2, padding=1, bias=bias), norm_layer(norm, o), nn.ReLU()]
            for _ in range(9 if arch == "resnet9" else 6):
                layers.append(AttentionResidualBlock(ngf * 4, norm, c["dropout"], attention=False))
            for i, o in [(ngf * 4, ngf * 2), (ngf * 2, ngf)]:
                layers += [nn.ConvTranspose2d(i, o, 3, stride=2, padding=1, output_padding=1, bias=bias),
                           norm_layer(norm, o), nn.ReLU()]
            layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, c["outputChannels"], 7), nn.Tanh()]
            self.model = nn.Sequential(*layers)
        else:
            raise ValueError(f"unknown pix2pix architecture {arch!r}")

    def forward(self, x):
        return self.model(x)
