#!/usr/bin/env python3
"""Lists or extracts the files inside a Qt binary resource archive (.rcc).

A setup tool for scripts/fetch-photos (gcompris-qt-data keeps its photos in .rcc archives);
the product never runs it.

    rcc_extract.py list ARCHIVE.rcc [GLOB]
    rcc_extract.py extract ARCHIVE.rcc OUTDIR [GLOB ...]
    rcc_extract.py selftest      (writes archives of format 1, 2 and 3 with raw, zlib and zstd
                                  entries in nested folders, and reads them back)

Layout of the format (Qt's rcc, format versions 1-3), all integers big-endian:
  header   "qres", u32 version, u32 tree offset, u32 data offset, u32 names offset,
           and from version 3 u32 overall flags;
  tree     one fixed-size record per node, the root first: u32 name offset, u16 flags,
           then for a directory u32 child count and u32 index of its first child,
           otherwise u16 territory, u16 language, u32 data offset; from version 2 a u64
           modification time follows (records are 14 or 22 bytes);
  names    u16 length in UTF-16 units, u32 hash, then the name in UTF-16BE;
  data     u32 length, then the payload. A payload flagged zlib (1) starts with a u32
           uncompressed size followed by a zlib stream; one flagged zstd (4) is a zstd frame.
"""
import fnmatch
import os
import struct
import subprocess
import sys
import zlib

COMPRESSED_ZLIB = 0x01
DIRECTORY = 0x02
COMPRESSED_ZSTD = 0x04


class RccError(Exception):
    pass


class Archive:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.raw = f.read()
        if len(self.raw) < 20 or self.raw[:4] != b"qres":
            raise RccError(f"{path}: not a Qt resource archive (no 'qres' header)")
        self.version, self.tree, self.data, self.names = struct.unpack(">IIII", self.raw[4:20])
        if self.version not in (1, 2, 3):
            raise RccError(f"{path}: unsupported rcc format version {self.version}")
        self.record = 14 if self.version == 1 else 22
        self.path = path

    def _u16(self, at):
        return struct.unpack(">H", self.raw[at:at + 2])[0]

    def _u32(self, at):
        return struct.unpack(">I", self.raw[at:at + 4])[0]

    def _name(self, offset):
        at = self.names + offset
        length = self._u16(at)
        return self.raw[at + 6:at + 6 + 2 * length].decode("utf-16-be")

    def _node(self, index):
        at = self.tree + index * self.record
        name_offset = self._u32(at)
        flags = self._u16(at + 4)
        if flags & DIRECTORY:
            return name_offset, flags, (self._u32(at + 6), self._u32(at + 10))
        return name_offset, flags, self._u32(at + 10)

    def files(self):
        """Yields (path, flags, data offset) for every file, depth first."""
        stack = [(0, "")]
        seen = 0
        while stack:
            index, prefix = stack.pop()
            seen += 1
            if seen > 1_000_000:
                raise RccError(f"{self.path}: resource tree does not end (a cycle?)")
            name_offset, flags, rest = self._node(index)
            name = "" if index == 0 else self._name(name_offset)
            path = f"{prefix}/{name}" if prefix else name
            if flags & DIRECTORY:
                count, first = rest
                for child in range(first + count - 1, first - 1, -1):
                    stack.append((child, path))
            else:
                yield path, flags, rest

    def read(self, flags, offset):
        at = self.data + offset
        length = self._u32(at)
        payload = self.raw[at + 4:at + 4 + length]
        if len(payload) != length:
            raise RccError(f"{self.path}: truncated entry at data offset {offset}")
        if flags & COMPRESSED_ZLIB:
            size = struct.unpack(">I", payload[:4])[0]
            out = zlib.decompress(payload[4:])
            if len(out) != size:
                raise RccError(f"{self.path}: zlib entry is {len(out)} bytes, header says {size}")
            return out
        if flags & COMPRESSED_ZSTD:
            run = subprocess.run(["zstd", "-d", "-c", "-q"], input=payload, capture_output=True)
            if run.returncode != 0:
                raise RccError(f"{self.path}: zstd could not decompress an entry: {run.stderr.decode().strip()}")
            return run.stdout
        return payload


def write_archive(path, files, version):
    """Writes `files` ({"dir/name": (payload bytes, "raw"|"zlib"|"zstd")}) as an rcc archive."""
    root = {}
    for p, entry in files.items():
        node = root
        parts = p.split("/")
        for d in parts[:-1]:
            node = node.setdefault(d, {})
        node[parts[-1]] = entry
    names, name_at = bytearray(), {}

    def name_offset(n):
        if n not in name_at:
            name_at[n] = len(names)
            encoded = n.encode("utf-16-be")
            names.extend(struct.pack(">HI", len(encoded) // 2, 0) + encoded)
        return name_at[n]

    data = bytearray()
    # Breadth-first numbering: a directory's children are consecutive records.
    records, queue = [None], [(root, 0, "")]
    while queue:
        node, index, name = queue.pop(0)
        first = len(records)
        children = sorted(node.items())
        records.extend([None] * len(children))
        records[index] = ("dir", name_offset(name) if index else 0, len(children), first)
        for k, (child_name, child) in enumerate(children):
            if isinstance(child, dict):
                queue.append((child, first + k, child_name))
            else:
                payload, kind = child
                if kind == "zlib":
                    stored, flags = struct.pack(">I", len(payload)) + zlib.compress(payload), COMPRESSED_ZLIB
                elif kind == "zstd":
                    stored = subprocess.run(["zstd", "-q", "-c"], input=payload, capture_output=True, check=True).stdout
                    flags = COMPRESSED_ZSTD
                else:
                    stored, flags = payload, 0
                records[first + k] = ("file", name_offset(child_name), flags, len(data))
                data.extend(struct.pack(">I", len(stored)) + stored)
    tree = bytearray()
    for r in records:
        if r[0] == "dir":
            tree.extend(struct.pack(">IHII", r[1], DIRECTORY, r[2], r[3]))
        else:
            tree.extend(struct.pack(">IHHHI", r[1], r[2], 0, 0, r[3]))
        if version >= 2:
            tree.extend(struct.pack(">Q", 0))
    header = 24 if version >= 3 else 20
    tree_at, data_at = header, header + len(tree)
    names_at = data_at + len(data)
    head = b"qres" + struct.pack(">IIII", version, tree_at, data_at, names_at) + (struct.pack(">I", 0) if version >= 3 else b"")
    with open(path, "wb") as f:
        f.write(head + tree + data + names)


def selftest():
    import tempfile
    files = {
        "a/photo.webp": (bytes(range(256)) * 40, "raw"),
        "a/b/README": ("Copyright: Ünïcode\nLicense: CC0-1.0\n".encode() * 20, "zlib"),
        "a/b/c/deep.jpg": (b"\xff\xd8" + b"zstd entry " * 500, "zstd"),
        "top.txt": (b"", "raw"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for version in (1, 2, 3):
            path = os.path.join(tmp, f"v{version}.rcc")
            write_archive(path, files, version)
            archive = Archive(path)
            got = {p.lstrip("/"): archive.read(flags, offset) for p, flags, offset in archive.files()}
            assert got == {p: payload for p, (payload, _) in files.items()}, f"format {version}: read back differs"
        bad = os.path.join(tmp, "bad.rcc")
        with open(bad, "wb") as f:
            f.write(b"PK\x03\x04 not an archive")
        try:
            Archive(bad)
            raise AssertionError("a file without the qres header was accepted")
        except RccError as error:
            assert "not a Qt resource archive" in str(error)
    print("rcc_extract selftest: formats 1-3, raw/zlib/zstd entries, nested folders: ok")
    return 0


def main(argv):
    if len(argv) == 2 and argv[1] == "selftest":
        return selftest()
    if len(argv) < 3 or argv[1] not in ("list", "extract"):
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    try:
        archive = Archive(argv[2])
        if argv[1] == "list":
            pattern = argv[3] if len(argv) > 3 else "*"
            for path, flags, _ in archive.files():
                if fnmatch.fnmatch(path, pattern):
                    kind = "zstd" if flags & COMPRESSED_ZSTD else "zlib" if flags & COMPRESSED_ZLIB else "raw"
                    print(f"{kind}\t{path}")
            return 0
        if len(argv) < 4:
            print("extract needs an output folder", file=sys.stderr)
            return 2
        out, patterns = argv[3], argv[4:] or ["*"]
        count = 0
        for path, flags, offset in archive.files():
            if not any(fnmatch.fnmatch(path, p) for p in patterns):
                continue
            target = os.path.join(out, path.lstrip("/"))
            if os.path.relpath(target, out).startswith(".."):
                raise RccError(f"{archive.path}: entry {path!r} escapes the output folder")
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target + ".part", "wb") as f:
                f.write(archive.read(flags, offset))
            os.replace(target + ".part", target)
            count += 1
        print(f"{count} files from {archive.path}")
        return 0
    except (RccError, OSError, zlib.error, struct.error) as error:
        print(f"rcc_extract: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
