#!/usr/bin/python3
"""Report of scripts/precision-quality: overlaid loss curves (PNG), held-out metrics side by
side and the fp32-vs-bf16 inference difference, as Markdown on stdout and in OUT/report.md.

    precision_quality_report.py OUT RUN...   (the first run is the one translated both ways)
"""
import glob
import json
import os
import sys

import numpy as np
from PIL import Image, ImageDraw

out, runs = sys.argv[1], sys.argv[2:]
COLOURS = [(31, 119, 180), (44, 160, 44), (214, 39, 40), (148, 103, 189)]
LOSSES = ["G_L1", "G_GAN", "D", "G_perceptual"]


def records(run):
    with open(os.path.join(run, "log.jsonl")) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [r for r in rows if "G_L1" in r]


def smooth(values, width=5):
    values = np.asarray(values, dtype=float)
    if len(values) < width:
        return values
    kernel = np.ones(width) / width
    padded = np.concatenate([np.full(width - 1, values[0]), values])
    return np.convolve(padded, kernel, mode="valid")


def plot(path):
    panel_w, panel_h, margin = 420, 260, 40
    image = Image.new("RGB", (2 * panel_w, 2 * panel_h + 30), "white")
    draw = ImageDraw.Draw(image)
    logs = {os.path.basename(r): records(r) for r in runs}
    for k, loss in enumerate(LOSSES):
        ox, oy = (k % 2) * panel_w, (k // 2) * panel_h
        series = {n: ([r["step"] for r in rs if loss in r], smooth([r[loss] for r in rs if loss in r])) for n, rs in logs.items()}
        series = {n: s for n, s in series.items() if len(s[0]) > 1}
        if not series:
            continue
        xs = np.concatenate([np.asarray(s[0], float) for s in series.values()])
        ys = np.concatenate([s[1] for s in series.values()])
        x0, x1 = xs.min(), xs.max()
        y0, y1 = np.percentile(ys, 1), np.percentile(ys, 99)
        if y1 <= y0:
            y1 = y0 + 1
        box = (ox + margin, oy + 20, ox + panel_w - 10, oy + panel_h - 25)
        draw.rectangle(box, outline=(160, 160, 160))
        draw.text((ox + margin, oy + 4), f"{loss} (moving mean of 5 log points)", fill="black")
        draw.text((ox + 2, box[1]), f"{y1:.3g}", fill="black")
        draw.text((ox + 2, box[3] - 10), f"{y0:.3g}", fill="black")
        draw.text((box[0], box[3] + 4), f"step {int(x0)}", fill="black")
        draw.text((box[2] - 60, box[3] + 4), f"{int(x1)}", fill="black")
        for i, (name, (sx, sy)) in enumerate(series.items()):
            pts = [(box[0] + (x - x0) / max(x1 - x0, 1) * (box[2] - box[0]),
                    box[3] - (min(max(y, y0), y1) - y0) / (y1 - y0) * (box[3] - box[1])) for x, y in zip(sx, sy)]
            draw.line(pts, fill=COLOURS[i % len(COLOURS)], width=2)
    for i, name in enumerate(logs):
        draw.text((10 + i * 260, 2 * panel_h + 10), "-- " + name, fill=COLOURS[i % len(COLOURS)])
    image.save(path)


def metrics(run):
    """The evaluation's metrics by label, as `eval` wrote them to metrics.json."""
    path = os.path.join(out, "eval-" + os.path.basename(run), "metrics.json")
    with open(path) as f:
        model = json.load(f)["models"][0]
    return {m["label"]: m["value"] for m in model["metrics"] if isinstance(m.get("value"), (int, float))}


lines = []
plot(os.path.join(out, "loss-curves.png"))
lines.append(f"Loss curves: {os.path.join(out, 'loss-curves.png')}")
lines.append("")
table = {os.path.basename(r): metrics(r) for r in runs}
names = list(table)
lines.append("| metric | " + " | ".join(names) + " | fp32 spread | bf16 within the fp32 range ± its spread |")
lines.append("|---|" + "---|" * (len(names) + 2))
for key in table[names[0]]:
    values = [table[n].get(key) for n in names]
    if any(v is None for v in values):
        continue
    fp = [v for n, v in zip(names, values) if "fp32" in n]
    bf = [v for n, v in zip(names, values) if "bf16" in n]
    spread = max(fp) - min(fp) if len(fp) > 1 else float("nan")
    within = all(min(fp) - spread <= b <= max(fp) + spread for b in bf) if fp and bf else False
    lines.append(f"| {key} | " + " | ".join(f"{v:.4g}" for v in values) + f" | {spread:.3g} | {'yes' if within else 'no'} |")
lines.append("")
a_files = sorted(glob.glob(os.path.join(out, "translate-fp32", "*.png")))
diffs = []
for a in a_files:
    b = os.path.join(out, "translate-bf16", os.path.basename(a))
    x = np.asarray(Image.open(a).convert("RGB"), dtype=float)
    y = np.asarray(Image.open(b).convert("RGB"), dtype=float)
    diffs.append(np.abs(x - y))
if diffs:
    d = np.stack(diffs)
    lines.append(f"Inference of {os.path.basename(runs[0])} on {len(diffs)} test sketches, bf16 against fp32 (8-bit images): "
                 f"mean |difference| {d.mean():.3f}/255, 99th percentile {np.percentile(d, 99):.0f}/255, "
                 f"largest {d.max():.0f}/255.")
text = "\n".join(lines)
print(text)
with open(os.path.join(out, "report.md"), "w") as f:
    f.write(text + "\n")
