"""Reads the files that `sketch2real export` writes (safetensors, the configuration in the
metadata) into the reference networks.

An exported file names its model kind, so reading one needs every family; this module sits
above sragan.py, pix2pix.py and multimodal.py so that none of them has to import another.
Needs the `safetensors` package.
"""

import json

if __package__:
    from .multimodal import LatentEncoder, LatentUNetGenerator
    from .pix2pix import Pix2PixGenerator
    from .sragan import SRAGANGenerator
else:
    from multimodal import LatentEncoder, LatentUNetGenerator
    from pix2pix import Pix2PixGenerator
    from sragan import SRAGANGenerator

MODEL_KEY = "sketch2real.model"
CONFIG_KEY = "sketch2real.config"
ENCODER_KEY = "sketch2real.encoder"
# Multimodal exports keep their encoder's tensors beside the generator's, under this prefix.
ENCODER_PREFIX = "E."


def build_generator(kind, config):
    """The PyTorch module for an exported model's kind ("sragan", "pix2pix", "lsragan",
    "bicyclegan" or "msgan") and configuration."""
    if kind in ("sragan", "lsragan"):
        return SRAGANGenerator(config)
    if kind == "pix2pix":
        return Pix2PixGenerator(config)
    if kind in ("bicyclegan", "msgan"):
        return LatentUNetGenerator(config)
    raise ValueError(f"unknown model kind {kind!r}")


def read_state(path, device, encoder):
    """The file's metadata and either the generator's tensors or, with `encoder`, the encoder's
    (prefix removed), in float32: exports may be float16 to halve the file, and the modules
    compute in float32."""
    from safetensors import safe_open

    with safe_open(path, framework="pt", device=str(device)) as f:
        metadata = f.metadata() or {}
        state = {name[len(ENCODER_PREFIX):] if encoder else name: f.get_tensor(name)
                 for name in f.keys() if name.startswith(ENCODER_PREFIX) == encoder}
    return metadata, {k: v.float() if v.is_floating_point() else v for k, v in state.items()}


def ready(model, state, device):
    model.load_state_dict(state, strict=True)
    return model.to(device).eval()


def load_generator(path, device="cpu"):
    """Reads a generator exported by Sketch2Real, in evaluation mode and float32. Returns
    (module, kind, config)."""
    metadata, state = read_state(path, device, encoder=False)
    if CONFIG_KEY not in metadata:
        raise ValueError(f"{path}: no {CONFIG_KEY!r} in the metadata; not a Sketch2Real export")
    kind = metadata.get(MODEL_KEY, "sragan")
    config = json.loads(metadata[CONFIG_KEY])
    return ready(build_generator(kind, config), state, device), kind, config


def load_encoder(path, device="cpu"):
    """Reads the encoder stored beside a multimodal generator (lsragan, bicyclegan), in
    evaluation mode and float32. Returns (module, config)."""
    metadata, state = read_state(path, device, encoder=True)
    if ENCODER_KEY not in metadata or not state:
        raise ValueError(f"{path}: holds no encoder (only lsragan and bicyclegan models have one)")
    config = json.loads(metadata[ENCODER_KEY])
    return ready(LatentEncoder(config), state, device), config
