"""Renders the three line drawings in this folder (mountain-lake, hills-trees, sea-sunset).

Each drawing is a list of strokes placed by hand on a 512×512 canvas; every stroke is resampled
with a little seeded jitter so the lines wobble like a pen's, drawn 3 px wide in black on white,
and reduced to 256×256 with area averaging (thin grey-edged lines, like the HED sketches the
models learned from). Needs Debian's python3-pil. Run from the repository root:

    /usr/bin/python3 examples/draw_line_drawings.py
"""
import math
import random

from PIL import Image, ImageDraw


def wobble(points, rng, step=6.0, amount=1.2):
    out = []
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        n = max(1, int(math.hypot(x1 - x0, y1 - y0) / step))
        for k in range(n):
            t = k / n
            out.append((x0 + (x1 - x0) * t + rng.uniform(-amount, amount), y0 + (y1 - y0) * t + rng.uniform(-amount, amount)))
    out.append(points[-1])
    return out


def circle(cx, cy, r, start=0.0, end=360.0, n=40):
    return [(cx + r * math.cos(math.radians(a)), cy - r * math.sin(math.radians(a)))
            for a in [start + (end - start) * k / n for k in range(n + 1)]]


def pine(x, base, h, w):
    return [[(x - w / 2, base), (x, base - h), (x + w / 2, base), (x - w / 2, base)], [(x, base), (x, base + h * 0.15)]]


def round_tree(x, base, r):
    return [circle(x, base - r * 1.6, r), [(x, base - r * 0.65), (x, base)]]


DRAWINGS = {
    "mountain-lake": [
        [(0, 232), (40, 205), (75, 170), (110, 118), (138, 150), (160, 138), (200, 86), (238, 140), (262, 170),
         (300, 136), (336, 178), (372, 196), (420, 150), (468, 182), (512, 205)],
        [(150, 160), (170, 200), (160, 240)], [(220, 120), (235, 175), (250, 215)],
        [(0, 262), (90, 258), (180, 266), (260, 260), (360, 266), (512, 262)],
        [(0, 296), (512, 296)],
        [(60, 330), (170, 330)], [(250, 352), (390, 352)], [(120, 386), (230, 386)],
        [(0, 440), (120, 424), (250, 438), (380, 420), (512, 432)],
    ] + pine(420, 420, 120, 46) + pine(465, 425, 150, 54) + pine(30, 440, 90, 36),
    "hills-trees": [
        circle(400, 110, 34),
        [(0, 240), (80, 210), (170, 200), (260, 222), (330, 208), (420, 190), (512, 214)],
        [(0, 310), (110, 280), (230, 292), (330, 318), (430, 296), (512, 300)],
        [(210, 512), (250, 420), (262, 350), (268, 305)], [(330, 512), (300, 420), (284, 350), (274, 305)],
        [(40, 120), (90, 108), (140, 120)], [(150, 80), (205, 70), (250, 84)],
    ] + round_tree(90, 330, 26) + round_tree(150, 380, 34) + round_tree(420, 360, 30) + round_tree(470, 420, 40) + round_tree(60, 450, 38),
    "sea-sunset": [
        [(0, 282), (512, 282)],
        circle(256, 282, 56, 0, 180),
        [(60, 140), (140, 128), (210, 140), (260, 132)], [(300, 90), (380, 80), (470, 94)], [(30, 200), (110, 194), (170, 204)],
        [(380, 282), (400, 262), (430, 250), (460, 262), (480, 282)],
        [(200, 312), (312, 312)], [(150, 340), (360, 340)], [(90, 380), (220, 378)], [(290, 384), (440, 380)],
        [(40, 430), (180, 426)], [(260, 440), (470, 436)],
        [(0, 480), (90, 468), (200, 476), (330, 462), (512, 474)],
    ],
}


def main():
    for index, (name, strokes) in enumerate(DRAWINGS.items()):
        rng = random.Random(index)
        canvas = Image.new("L", (512, 512), 255)
        draw = ImageDraw.Draw(canvas)
        for stroke in strokes:
            draw.line(wobble(stroke, rng), fill=0, width=3, joint="curve")
        canvas.resize((256, 256), Image.BOX).save(f"examples/{name}.png")


if __name__ == "__main__":
    main()
