#!/usr/bin/env python3
"""Turns stellarium-data's photographic horizon panoramas into landscape photos, with licences.

A setup tool for scripts/fetch-photos; the product never runs it. Needs Debian's python3-pil and
python3-numpy (run it with /usr/bin/python3).

    stellarium_landscapes.py LANDSCAPES_FOLDER OUT_FOLDER [--min-height 128]

Reads every `*/landscape.ini` under LANDSCAPES_FOLDER (the package's
/usr/share/stellarium/landscapes) and, for the panoramas listed in KEPT (each was looked at),
writes `stellarium-<name>.png` to OUT_FOLDER and adds `"stellarium-<name>.png": "<licence>,
<author> (stellarium-data)"` to OUT_FOLDER/licenses.json. Per type:
  old_style  the side textures are joined left to right in side order into one 360° strip
             (the separate ground texture, a view straight down, is not used);
  spherical  the equirectangular map (maptex, spanning maptex_top … maptex_bottom degrees), cut
             at 40° below the horizon, below which the projection stretches rows by over 30 %;
  fisheye    the circular image (texturefov degrees across) unrolled into a strip of altitude
             rows, so that its horizon is a straight line like the others';
  polygonal  a horizon line with no image: nothing to take.
The sky of every panorama is transparent: the strip keeps only the rows below the lowest point
of the horizon, where every pixel is opaque (ignoring pinholes of under 0.5 % of a row). A strip under --min-height rows is left out and
reported, as are the landscapes not in KEPT (with the reason from LEFT_OUT where known).
"""
import configparser
import json
import math
import os
import sys

import numpy as np
from PIL import Image

# Photographs of real places on Earth (every image of each looked at).
KEPT = {"garching", "grossmugl", "guereins", "hurricane", "trees"}
# The others, with the reason.
LEFT_OUT = {
    "jupiter": "a 256-px render of a planet",
    "neptune": "a 256-px render of a planet",
    "saturn": "a 256-px render of a planet",
    "uranus": "a 256-px render of a planet",
    "sun": "a 256-px render",
    "ocean": "a Terragen render, not a photograph",
    "moon": "black-and-white Apollo 17 photograph with the astronaut's shadow and a grey fill",
    "mars": "Spirit rover panorama of Mars: not an Earth landscape, and the rover's deck fills "
            "the lower half",
    "geneva": "a horizon line (polygonal), no image",
    "zero": "a horizon line (polygonal), no image",
}
OPAQUE = 128          # alpha at or above this counts as opaque
SPHERICAL_BOTTOM = -40.0


def rgba(path):
    return np.asarray(Image.open(path).convert("RGBA"))


def old_style(folder, ini):
    n = ini.getint("landscape", "nbside")
    tiles = []
    for i in range(n):
        # sideN = texK:x0:y0:x1:y1 (fractions of the texture)
        tex, x0, y0, x1, y1 = ini.get("landscape", f"side{i}").split(":")
        img = rgba(os.path.join(folder, ini.get("landscape", tex)))
        h, w = img.shape[:2]
        tiles.append(img[int(float(y0) * h):round(float(y1) * h), int(float(x0) * w):round(float(x1) * w)])
    height = min(t.shape[0] for t in tiles)
    return np.concatenate([t[:height] for t in tiles], axis=1)


def spherical(folder, ini):
    img = rgba(os.path.join(folder, ini.get("landscape", "maptex")))
    top = ini.getfloat("landscape", "maptex_top", fallback=90.0)
    bottom = ini.getfloat("landscape", "maptex_bottom", fallback=-90.0)
    rows_per_degree = img.shape[0] / (top - bottom)
    last = round((top - max(bottom, SPHERICAL_BOTTOM)) * rows_per_degree)
    return img[:last]


def fisheye(folder, ini):
    img = rgba(os.path.join(folder, ini.get("landscape", "maptex")))
    fov = ini.getfloat("landscape", "texturefov", fallback=180.0)
    h, w = img.shape[:2]
    cx, cy, radius = (w - 1) / 2, (h - 1) / 2, min(w, h) / 2
    per_degree = radius / (fov / 2)              # pixels per degree from the zenith
    lowest = 90.0 - fov / 2                      # altitude at the rim
    rows = int((90.0 - lowest) * per_degree)
    cols = int(2 * math.pi * radius * 90.0 / (fov / 2))  # the horizon circle at full resolution
    alt = 90.0 - (np.arange(rows) + 0.5) / per_degree
    az = 2 * math.pi * (np.arange(cols) + 0.5) / cols
    r = (90.0 - alt)[:, None] * per_degree
    x = np.clip(np.rint(cx + r * np.sin(az)[None, :]), 0, w - 1).astype(int)
    y = np.clip(np.rint(cy - r * np.cos(az)[None, :]), 0, h - 1).astype(int)
    return img[y, x]


def below_horizon(strip):
    """The longest run of opaque rows under the horizon's lowest point (a row counts as opaque
    when at most 0.5 % of its pixels are not: a few panoramas have pinholes in the ground)."""
    opaque = (strip[:, :, 3] >= OPAQUE).mean(axis=1) >= 0.995
    best, start = (0, 0), None
    for i, o in enumerate(list(opaque) + [False]):
        if o and start is None:
            start = i
        elif not o and start is not None:
            best = max(best, (i - start, start))
            start = None
    length, first = best
    return strip[first:first + length, :, :3]


def main(argv):
    if len(argv) not in (3, 5) or (len(argv) == 5 and argv[3] != "--min-height"):
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    src, out = argv[1], argv[2]
    min_height = int(argv[4]) if len(argv) == 5 else 128
    os.makedirs(out, exist_ok=True)
    licences_path = os.path.join(out, "licenses.json")
    licences = json.load(open(licences_path)) if os.path.exists(licences_path) else {}
    readers = {"old_style": old_style, "spherical": spherical, "fisheye": fisheye}
    kept = 0
    for name in sorted(os.listdir(src)):
        folder = os.path.join(src, name)
        ini_path = os.path.join(folder, "landscape.ini")
        if not os.path.isfile(ini_path):
            continue
        ini = configparser.ConfigParser(interpolation=None, strict=False)
        ini.read(ini_path, encoding="utf-8")
        kind = ini.get("landscape", "type", fallback="?")
        if name not in KEPT:
            print(f"left out stellarium {name} ({kind}): {LEFT_OUT.get(name, 'not looked at yet')}")
            continue
        if kind not in readers:
            print(f"left out stellarium {name}: type {kind} is not a photographic panorama")
            continue
        ground = below_horizon(readers[kind](folder, ini))
        if ground.shape[0] < min_height:
            print(f"left out stellarium {name} ({kind}): only {ground.shape[0]} opaque rows below the "
                  f"horizon (under {min_height})")
            continue
        file = f"stellarium-{name}.png"
        Image.fromarray(np.ascontiguousarray(ground)).save(os.path.join(out, file))
        author = ini.get("landscape", "author", fallback="unknown author").strip()
        licence = ini.get("landscape", "license", fallback="GPL-2+").strip()
        licences[file] = f"{licence}, {author} (stellarium-data)"
        print(f"stellarium {name} ({kind}) → {file}: {ground.shape[1]}×{ground.shape[0]}")
        kept += 1
    with open(licences_path + ".part", "w") as f:
        json.dump(licences, f, indent=2, ensure_ascii=False, sort_keys=True)
    os.replace(licences_path + ".part", licences_path)
    print(f"{kept} stellarium panoramas in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
