#!/usr/bin/env python3
"""Collects the real photographs inside gcompris-qt-data's resource archives, with their licences.

A setup tool for scripts/fetch-photos; the product never runs it.

    gcompris_photos.py RCC_FOLDER OUT_FOLDER

Takes the photographs of the activities listed in SOURCES (every one was looked at: photos of
animals, monuments and musicians at 1024-1920 px), drops the few listed in EXCLUDED, and writes
them to OUT_FOLDER as `gcompris-<activity>-<name>.webp` with `licenses.json` built from the
README files that sit beside them in the archives (Copyright / License / Source / Files blocks).
A photo whose README names no licence is left out and reported.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rcc_extract import Archive, RccError  # noqa: E402

# archive → folders inside it whose .webp files are photographs
SOURCES = {
    "erase.rcc": ["erase/resource"],
    "explore_monuments.rcc": ["explore_monuments/resource/" + c for c in
                              ("egypt", "france", "germany", "india", "usa", "wonders")],
    "explore_farm_animals.rcc": ["explore_farm_animals/resource/animals"],
    "explore_world_animals.rcc": ["explore_world_animals/resource/animals"],
    "explore_world_music.rcc": ["explore_world_music/resource/music"],
}
# photographs left out, with the reason
EXCLUDED = {
    "explore_monuments/resource/usa/castleClinton.webp": "black-and-white archive photo",
    "explore_world_music/resource/music/middleeast.webp": "museum object on a plain backdrop",
}
PREFIX = "gcompris/src/activities/"


def parse_readme(text, folder):
    """Maps each file path (relative to `folder`'s activity resource root) to 'licence, author'."""
    licences = {}
    for block in text.replace("\r", "").split("\n\n"):
        fields, files, in_files = {}, [], False
        for line in block.split("\n"):
            if in_files and line.strip() and ":" not in line:
                files.append(line.strip())
                continue
            key, _, value = line.partition(":")
            key = key.strip().lower()
            in_files = key == "files"
            if in_files and value.strip():
                files.extend(value.split())
            elif key in ("copyright", "license", "source"):
                fields[key] = value.strip()
        for f in files:
            if "license" in fields:
                note = f"{fields['license']}, {fields.get('copyright', 'unknown author')}"
                if "source" in fields:
                    note += f" ({fields['source']})"
                licences[os.path.normpath(os.path.join(folder, f))] = note
    return licences


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().split("\n\n")[2], file=sys.stderr)
        return 2
    rcc, out = argv[1], argv[2]
    os.makedirs(out, exist_ok=True)
    licences, missing, count = {}, [], 0
    try:
        for name, folders in SOURCES.items():
            archive = Archive(os.path.join(rcc, name))
            entries = {p.lstrip("/"): (flags, offset) for p, flags, offset in archive.files()}
            readme_notes = {}
            for p, (flags, offset) in entries.items():
                if p.endswith("/README") and p.startswith(PREFIX):
                    folder = os.path.dirname(p)[len(PREFIX):]
                    readme_notes.update(parse_readme(archive.read(flags, offset).decode("utf-8", "replace"), folder))
            for folder in folders:
                for p in sorted(entries):
                    rel = p[len(PREFIX):] if p.startswith(PREFIX) else None
                    if rel is None or os.path.dirname(rel) != folder or not rel.endswith(".webp"):
                        continue
                    if rel in EXCLUDED:
                        continue
                    note = readme_notes.get(os.path.normpath(rel))
                    if note is None:
                        missing.append(rel)
                        continue
                    activity = rel.split("/")[0]
                    target = f"gcompris-{activity}-{os.path.basename(rel)}"
                    flags, offset = entries[p]
                    with open(os.path.join(out, target + ".part"), "wb") as f:
                        f.write(archive.read(flags, offset))
                    os.replace(os.path.join(out, target + ".part"), os.path.join(out, target))
                    licences[target] = note + " (gcompris-qt-data)"
                    count += 1
    except (RccError, OSError) as error:
        print(f"gcompris_photos: {error}", file=sys.stderr)
        return 1
    path = os.path.join(out, "licenses.json")
    old = {}
    if os.path.exists(path):
        with open(path) as f:
            old = json.load(f)
    old.update(licences)
    with open(path + ".part", "w") as f:
        json.dump(old, f, indent=2, ensure_ascii=False, sort_keys=True)
        f.write("\n")
    os.replace(path + ".part", path)
    for rel in missing:
        print(f"gcompris_photos: left out {rel}: its README names no licence", file=sys.stderr)
    print(f"{count} photographs from gcompris-qt-data in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
