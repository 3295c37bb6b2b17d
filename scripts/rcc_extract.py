#!/usr/bin/env python3
"""Lists or extracts the files inside a Qt binary resource archive (.rcc).

A setup tool for scripts/fetch-photos (gcompris-qt-data keeps its photos in .rcc archives);
the product never runs it.

    rcc_extract.py list ARCHIVE.rcc [GLOB]
    rcc_extract.py extract ARCHIVE.rcc OUTDIR [GLOB ...]
    rcc_extract.py selftest      (writes archives of format 1, 2 and 3 with raw, zlib and zstd
                                  entries in nested folders and reads them back, then feeds the
                                  reader hostile archives: huge child counts, cycles, zlib and
                                  zstd bombs, bad names, every truncation, random damage)

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

The archive is untrusted: every offset is checked against the file before it is read, each
record may sit in the tree once (so cycles and shared subtrees are refused), folders nest at
most MAX_DEPTH deep, names are plain file names, and no entry inflates past its declared size
or MAX_ENTRY. Anything malformed raises RccError, and the command prints it as one line.
"""
import fnmatch
import os
import struct
import subprocess
import sys
import tempfile
import zlib

COMPRESSED_ZLIB = 0x01
DIRECTORY = 0x02
COMPRESSED_ZSTD = 0x04

# gcompris-qt-data's largest archive is under 5 MB; these leave room for far larger honest ones
# while keeping a hostile file from costing more than a few times its own size in memory.
MAX_ARCHIVE = 1 << 30
MAX_ENTRY = 512 << 20
MAX_DEPTH = 64  # gcompris-qt-data nests 7 deep
MAX_NAME = 255  # NAME_MAX: a longer name could not be extracted anyway
MAX_PATH = 1024  # gcompris-qt-data's longest path is 97 characters
# Deflate spends at least 2 bits on a 258-byte match, so no zlib stream expands past 1032:1;
# a larger declared size is a lie that only serves to make the reader allocate.
ZLIB_MAX_RATIO = 1032
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class RccError(Exception):
    pass


def _size(n):
    return f"{n >> 20} MiB" if n >= 1 << 20 and n % (1 << 20) == 0 else f"{n} bytes"


def zstd_content_size(frame):
    """The content size a zstd frame header declares, or None where it declares none."""
    if len(frame) < 5 or frame[:4] != ZSTD_MAGIC:
        return None
    descriptor = frame[4]
    single_segment = descriptor >> 5 & 1
    field = (single_segment, 2, 4, 8)[descriptor >> 6]
    if field == 0:
        return None
    at = 5 + (1 - single_segment) + (0, 1, 2, 4)[descriptor & 3]
    if len(frame) < at + field:
        return None
    value = int.from_bytes(frame[at:at + field], "little")
    return value + 256 if field == 2 else value


class Archive:
    def __init__(self, path, raw=None, max_entry=MAX_ENTRY):
        """Reads the archive at `path`, or takes its bytes as `raw` (then `path` only names it)."""
        self.path = path
        self.max_entry = max_entry
        self.raw = self._load(path) if raw is None else bytes(raw)
        if len(self.raw) < 20 or self.raw[:4] != b"qres":
            self._fail("not a Qt resource archive (no 'qres' header)")
        self.version, self.tree, self.data, self.names = struct.unpack_from(">IIII", self.raw, 4)
        if self.version not in (1, 2, 3):
            self._fail(f"unsupported rcc format version {self.version}")
        if self.version >= 3 and len(self.raw) < 24:
            self._fail("the format 3 header is cut short")
        self.record = 14 if self.version == 1 else 22
        for what, at in (("tree", self.tree), ("data", self.data), ("names", self.names)):
            if at > len(self.raw):
                self._fail(f"{what} offset {at} lies past the end of the archive ({len(self.raw)} bytes)")
        # Bounds every child index and every count: no record can lie past the file's end.
        self.records = (len(self.raw) - self.tree) // self.record
        if self.records < 1:
            self._fail(f"tree offset {self.tree} leaves no room for the root record")

    def _load(self, path):
        try:
            with open(path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if size > MAX_ARCHIVE:
                    self._fail(f"is {size} bytes, more than the {_size(MAX_ARCHIVE)} this reader accepts")
                raw = f.read(MAX_ARCHIVE + 1)
        except OSError as error:
            self._fail(error.strerror or str(error))
        if len(raw) > MAX_ARCHIVE:
            self._fail(f"grew past {_size(MAX_ARCHIVE)} while being read")
        return raw

    def _fail(self, message):
        raise RccError(f"{self.path}: {message}")

    def _unpack(self, fmt, at, what):
        size = struct.calcsize(fmt)
        if at + size > len(self.raw):
            self._fail(f"{what} (byte {at}) lies past the end of the archive ({len(self.raw)} bytes)")
        return struct.unpack_from(fmt, self.raw, at)

    def _name(self, offset, index):
        at = self.names + offset
        (length,) = self._unpack(">H", at, f"the name of record {index}")
        if length == 0:
            self._fail(f"record {index} has an empty name")
        if length > MAX_NAME:
            self._fail(f"record {index} has a name of {length} characters, more than {MAX_NAME}")
        end = at + 6 + 2 * length
        if end > len(self.raw):
            self._fail(f"the name of record {index} runs past the end of the archive")
        try:
            name = self.raw[at + 6:end].decode("utf-16-be")
        except UnicodeDecodeError:
            self._fail(f"the name of record {index} is not valid UTF-16")
        if "\0" in name:
            self._fail(f"the name of record {index} contains a NUL character: {name!r}")
        if any(c < " " or c == "\x7f" for c in name):
            # a newline would forge extra lines in `list` output
            self._fail(f"the name of record {index} contains a control character: {name!r}")
        if "/" in name or name in (".", ".."):
            self._fail(f"record {index} is named {name!r}, which is not a plain file name")
        return name

    def _node(self, index):
        at = self.tree + index * self.record
        name_offset, flags = self._unpack(">IH", at, f"record {index}")
        if flags & DIRECTORY:
            return name_offset, flags, self._unpack(">II", at + 6, f"record {index}")
        return name_offset, flags, self._unpack(">I", at + 10, f"record {index}")[0]

    def files(self):
        """Yields (path, flags, data offset) for every file, depth first."""
        # A record belongs to one folder only. Marking children when their folder is read (not
        # when they are reached) refuses a cycle or overlap before its records are queued, so
        # the queue never holds more entries than the archive has records.
        claimed = bytearray(self.records)
        claimed[0] = 1
        stack = [(0, "", 0)]  # (record, its folder's path, how many folders deep it is)
        visited = 0
        while stack:
            index, prefix, depth = stack.pop()
            visited += 1
            if visited > self.records:
                self._fail(f"the resource tree visits more nodes than the {self.records} records the archive holds")
            name_offset, flags, rest = self._node(index)
            if index == 0:
                if not flags & DIRECTORY:
                    self._fail("the root record is not a folder")
                path = ""
            else:
                name = self._name(name_offset, index)
                path = f"{prefix}/{name}" if prefix else name
                if len(path) > MAX_PATH:
                    self._fail(f"record {index} has a path longer than {MAX_PATH} characters")
            if not flags & DIRECTORY:
                yield path, flags, rest
                continue
            count, first = rest
            if count == 0:
                continue
            if count > self.records - 1:
                self._fail(f"directory at record {index} claims {count} children, more than the archive holds")
            if first + count > self.records:
                self._fail(f"directory at record {index} puts its {count} children at records {first}-{first + count - 1}, "
                           f"past the archive's last record {self.records - 1}")
            if depth > MAX_DEPTH:
                self._fail(f"folder {path!r} is nested deeper than {MAX_DEPTH} levels")
            taken = claimed.find(1, first, first + count)
            if taken >= 0:
                self._fail(f"directory at record {index} claims record {taken}, which is already in the tree "
                           "(a cycle or a record shared by two folders)")
            claimed[first:first + count] = b"\1" * count
            stack.extend((child, path, depth + 1) for child in range(first + count - 1, first - 1, -1))

    def read(self, flags, offset):
        at = self.data + offset
        (length,) = self._unpack(">I", at, f"the entry at data offset {offset}")
        if at + 4 + length > len(self.raw):
            self._fail(f"the entry at data offset {offset} claims {length} bytes, past the end of the archive")
        payload = self.raw[at + 4:at + 4 + length]
        if flags & COMPRESSED_ZLIB:
            return self._inflate(payload, offset)
        if flags & COMPRESSED_ZSTD:
            return self._unzstd(payload, offset)
        return payload

    def _inflate(self, payload, offset):
        what = f"the zlib entry at data offset {offset}"
        if len(payload) < 4:
            self._fail(f"{what} is too short for its size field")
        (size,) = struct.unpack_from(">I", payload)
        stream = payload[4:]
        if size > self.max_entry:
            self._fail(f"{what} declares {size} bytes, more than the {_size(self.max_entry)} this reader accepts")
        if size > len(stream) * ZLIB_MAX_RATIO:
            self._fail(f"{what} declares {size} bytes from {len(stream)} compressed bytes, more than zlib can expand to")
        inflater = zlib.decompressobj()
        try:
            # One byte over the declared size is enough to prove the declaration false; a bomb
            # stops here instead of inflating in full.
            out = inflater.decompress(stream, size + 1)
        except zlib.error as error:
            self._fail(f"{what} is corrupt ({error})")
        if len(out) > size:
            self._fail(f"{what} inflates to more than the {size} bytes its header declares")
        if not inflater.eof:
            self._fail(f"{what} ends before its zlib stream does")
        if len(out) != size:
            self._fail(f"{what} is {len(out)} bytes, its header says {size}")
        return out

    def _unzstd(self, payload, offset):
        what = f"the zstd entry at data offset {offset}"
        # The zstd command also decompresses gzip, xz and lz4, which Qt would refuse.
        if payload[:4] != ZSTD_MAGIC:
            self._fail(f"{what} is not a zstd frame")
        declared = zstd_content_size(payload)
        if declared is not None and declared > self.max_entry:
            self._fail(f"{what} declares {declared} bytes, more than the {_size(self.max_entry)} this reader accepts")
        limit = self.max_entry if declared is None else declared
        chunks, total = [], 0
        with tempfile.TemporaryFile() as source, tempfile.TemporaryFile() as errors:
            # A file as stdin and stderr leaves only stdout as a pipe: nothing to deadlock on.
            source.write(payload)
            source.seek(0)
            try:
                zstd = subprocess.Popen(["zstd", "-d", "-c", "-q"], stdin=source, stdout=subprocess.PIPE, stderr=errors)
            except OSError as error:
                self._fail(f"cannot run zstd for {what}: {error.strerror or error}")
            with zstd:
                while total <= limit:
                    chunk = zstd.stdout.read(min(1 << 20, limit + 1 - total))
                    if not chunk:
                        break
                    chunks.append(chunk)
                    total += len(chunk)
                if total > limit:
                    zstd.kill()
                    zstd.wait()
                    if declared is None:
                        self._fail(f"{what} decompresses to more than the {_size(limit)} this reader accepts")
                    self._fail(f"{what} decompresses to more than the {declared} bytes its header declares")
                zstd.wait()
            if zstd.returncode != 0:
                errors.seek(0)
                message = " ".join(errors.read(400).decode("utf-8", "replace").split())
                self._fail(f"zstd could not decompress {what}: {message or f'exit status {zstd.returncode}'}")
        if declared is not None and total != declared:
            self._fail(f"{what} is {total} bytes, its header says {declared}")
        return b"".join(chunks)

    def target(self, out, path):
        """Where `path` from files() goes under folder `out`; refuses any path that leaves it."""
        parts = path.split("/")
        base = os.path.abspath(out)
        target = os.path.abspath(os.path.join(base, *parts))
        if any(p in ("", ".", "..") for p in parts) or os.path.commonpath([base, target]) != base or target == base:
            self._fail(f"entry {path!r} would be written outside {out}")
        return target


def write_archive(path, files, version):
    """Writes `files` as an rcc archive; see archive_bytes."""
    with open(path, "wb") as f:
        f.write(archive_bytes(files, version))


def archive_bytes(files, version):
    """An rcc archive of `files` ({"dir/name": (payload bytes, kind)}). A kind is "raw", "zlib",
    "zstd" (a frame that declares its size, as Qt's rcc writes it), "zstd-nosize" (one that does
    not, as the zstd command writes from a pipe), or an int: the payload is stored as given,
    with that int as the record's flags."""
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
                continue
            payload, kind = child
            if kind == "zlib":
                stored, flags = struct.pack(">I", len(payload)) + zlib.compress(payload), COMPRESSED_ZLIB
            elif kind in ("zstd", "zstd-nosize"):
                size = [f"--stream-size={len(payload)}"] if kind == "zstd" else []
                stored = subprocess.run(["zstd", "-q", "-c", *size], input=payload, capture_output=True, check=True).stdout
                flags = COMPRESSED_ZSTD
            elif kind == "raw":
                stored, flags = payload, 0
            else:
                stored, flags = payload, kind
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
    return bytes(head + tree + data + names)


def sample_files(small=False):
    """Nested folders with raw, zlib and zstd entries; `small` keeps every payload tiny."""
    n = 1 if small else 20
    return {
        "a/photo.webp": (bytes(range(64)) if small else bytes(range(256)) * 40, "raw"),
        "a/b/README": ("Copyright: Ünïcode\nLicense: CC0-1.0\n".encode() * n, "zlib"),
        "a/b/c/deep.jpg": (b"\xff\xd8" + b"zstd entry " * (25 * n), "zstd"),
        "a/b/c/plain.jpg": (b"\xff\xd8" + b"no size " * (25 * n), "zstd-nosize"),
        "top.txt": (b"", "raw"),
    }


def _read_all(archive, out="/rcc-out"):
    got = {}
    for path, flags, offset in archive.files():
        archive.target(out, path)
        got[path] = archive.read(flags, offset)
    return got


def _selftest_hostile(tmp):
    import contextlib
    import io
    import random
    import resource
    import time

    def rss():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss << 10

    baseline = rss()
    cases = 0

    def hostile(name, raw, expect=None, outcome="refused", max_entry=MAX_ENTRY):
        """Reads `raw` in full, in bounded time and memory. The outcome must be RccError (whose
        message contains `expect`), a clean read, or for "either" whichever happens."""
        nonlocal cases
        cases += 1
        start = time.monotonic()
        try:
            _read_all(Archive(f"<{name}>", raw=raw, max_entry=max_entry))
            if outcome == "refused":
                raise AssertionError(f"hostile case {name}: accepted")
        except RccError as error:
            message = str(error)
            assert outcome != "clean", f"hostile case {name}: {message}"
            assert message.startswith(f"<{name}>: ") and "\n" not in message, f"hostile case {name}: {message!r}"
            assert expect is None or expect in message, f"hostile case {name}: {message!r} lacks {expect!r}"
        elapsed = time.monotonic() - start
        assert elapsed < 2, f"hostile case {name} took {elapsed:.1f} s"
        growth = rss() - baseline
        assert growth < 200 << 20, f"hostile case {name}: memory grew by {growth >> 20} MiB"

    def put(raw, at, fmt, value):
        raw = bytearray(raw)
        struct.pack_into(fmt, raw, at, value)
        return bytes(raw)

    def layout(raw):
        version, tree, data, names = struct.unpack_from(">IIII", raw, 4)
        return tree, (14 if version == 1 else 22), data, names

    small = {v: archive_bytes(sample_files(small=True), v) for v in (1, 2, 3)}
    for v, raw in small.items():
        assert _read_all(Archive("small", raw=raw)) == {p: d for p, (d, _) in sample_files(small=True).items()}
    # records of the small archive, breadth first: 0 root, 1 a, 2 top.txt, 3 a/b, 4 a/photo.webp,
    # 5 a/b/README, 6 a/b/c, 7 a/b/c/deep.jpg, 8 a/b/c/plain.jpg
    raw = small[2]
    tree, record, data_at, names_at = layout(raw)

    # child counts past the file
    records = (len(raw) - tree) // record
    for index in (0, 3):
        for count in (0xFFFFFFFF, 0x7FFFFFFF, 0xFFFF, records):
            hostile(f"count-{index}-{count}", put(raw, tree + index * record + 6, ">I", count),
                    f"claims {count} children, more than the archive holds")
    hostile("first-past-end", put(raw, tree + 3 * record + 10, ">I", 0xFFFFFFFF), "past the archive's last record")
    hostile("tree-past-end", put(raw, 8, ">I", len(raw) + 1), "tree offset")
    hostile("tree-at-end", put(raw, 8, ">I", len(raw) - 3), "no room for the root record")
    grid = bytearray(raw[:tree])  # 70000 folders, each claiming every record after it
    count = 70000
    for k in range(count):
        grid += struct.pack(">IHII", 0, DIRECTORY, count - 1 - k, k + 1) + bytes(8)
    struct.pack_into(">I", grid, 16, len(grid))
    grid += struct.pack(">HI", 1, 0) + "g".encode("utf-16-be")
    hostile("overlapping-folders", bytes(grid), "already in the tree")

    # cycles, self-references and depth
    for back in (0, 1, 3, 6):
        hostile(f"cycle-to-{back}", put(raw, tree + 6 * record + 10, ">I", back), "already in the tree")
    hostile("shared-children", put(raw, tree + 3 * record + 10, ">I", 4), "already in the tree")
    hostile("too-deep", archive_bytes({"d/" * (MAX_DEPTH + 1) + "f": (b"x", "raw")}, 2), "nested deeper than")
    hostile("deepest", archive_bytes({"d/" * MAX_DEPTH + "f": (b"x", "raw")}, 2), outcome="clean")
    hostile("root-is-a-file", put(raw, tree + 4, ">H", 0), "root record is not a folder")

    # zlib and zstd bombs
    deflate = zlib.compressobj(9)
    zeros = bytes(1 << 20)
    head = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    block = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    stream = head + block * 4000  # 4 MB that inflate to 4 GB
    for declared, expect in ((4096, "inflates to more than the 4096 bytes"), (0xFFFFFFFF, "more than the 512 MiB"),
                             (400 << 20, "more than the 64 MiB")):
        bomb = archive_bytes({"bomb": (struct.pack(">I", declared) + stream, COMPRESSED_ZLIB)}, 3)
        hostile(f"zlib-bomb-{declared}", bomb, expect, max_entry=64 << 20 if declared == 400 << 20 else MAX_ENTRY)
    for declared, stored, expect in ((1 << 20, b"x" * 10, "more than zlib can expand to"),
                                     (5, zlib.compress(b"hello")[:-3], "ends before its zlib stream does"),
                                     (5, b"garbage!", "is corrupt"),
                                     (6, zlib.compress(b"hello"), "is 5 bytes, its header says 6"),
                                     (0, b"", "ends before")):
        hostile(f"zlib-{expect}", archive_bytes({"z": (struct.pack(">I", declared) + stored, COMPRESSED_ZLIB)}, 1), expect)
    hostile("zlib-no-size", archive_bytes({"z": (b"\0\0", COMPRESSED_ZLIB)}, 1), "too short for its size field")
    squeeze = subprocess.Popen(["zstd", "-q", "-c", f"--stream-size={100 << 20}"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    for _ in range(100):
        squeeze.stdin.write(zeros)
    squeeze.stdin.close()
    frame = squeeze.stdout.read()
    squeeze.wait()
    assert zstd_content_size(frame) == 100 << 20
    unsized = frame[:4] + bytes([frame[4] & 0x3F]) + frame[5:6] + frame[10:]  # FCS field dropped
    assert zstd_content_size(unsized) is None
    hostile("zstd-bomb-unsized", archive_bytes({"bomb": (unsized, COMPRESSED_ZSTD)}, 3), "more than the 16 MiB", max_entry=16 << 20)
    hostile("zstd-bomb-sized", archive_bytes({"bomb": (frame, COMPRESSED_ZSTD)}, 3), "more than the 16 MiB", max_entry=16 << 20)
    lying = frame[:6] + struct.pack("<I", 1000) + frame[10:]  # zstd itself stops at the declared size
    hostile("zstd-bomb-lying", archive_bytes({"bomb": (lying, COMPRESSED_ZSTD)}, 3), "the zstd entry at data offset 0")
    hostile("zstd-gzip", archive_bytes({"z": (b"\x1f\x8b\x08\x00" + bytes(20), COMPRESSED_ZSTD)}, 3), "not a zstd frame")
    hostile("zstd-corrupt", archive_bytes({"z": (ZSTD_MAGIC + b"\x04\x58garbage", COMPRESSED_ZSTD)}, 3), "zstd could not decompress")
    hostile("entry-past-end", put(raw, tree + 4 * record + 10, ">I", 0xFFFFFFF0), "past the end of the archive")
    hostile("entry-length", put(raw, data_at, ">I", 0xFFFFFFFF), "past the end of the archive")

    # names
    def named(units):
        """The small archive with top.txt's 7 UTF-16 units replaced by `units`."""
        assert len(units) == 14
        return raw.replace("top.txt".encode("utf-16-be"), units)
    name_at = raw.index("top.txt".encode("utf-16-be")) - 6
    for label, units, expect in (("nul", "top\0txt".encode("utf-16-be"), "NUL character"),
                                 ("slash", "top/txt".encode("utf-16-be"), "not a plain file name"),
                                 ("newline", "top\ntxt".encode("utf-16-be"), "control character"),
                                 ("surrogate", b"\xd8\x00" + "op.txt".encode("utf-16-be"), "not valid UTF-16"),
                                 ("low-surrogate", "top.tx".encode("utf-16-be") + b"\xdc\x00", "not valid UTF-16")):
        hostile(f"name-{label}", named(units), expect)
    for length, expect in ((1, "not a plain file name"), (2, "not a plain file name"), (0, "empty name"),
                           (MAX_NAME + 1, f"more than {MAX_NAME}"), (200, "runs past the end")):
        dots = named("..p.txt".encode("utf-16-be"))
        hostile(f"name-length-{length}", put(dots, name_at, ">H", length), expect)
    hostile("name-offset", put(raw, tree + 2 * record, ">I", 0xFFFFFFF0), "lies past the end")
    long_path = archive_bytes({"/".join(["n" * 200] * 6): (b"x", "raw")}, 1)
    hostile("path-too-long", long_path, f"longer than {MAX_PATH}")

    # a hostile archive on the command line: one line on stderr, status 1, nothing outside OUTDIR
    escape = os.path.join(tmp, "escape.rcc")
    with open(escape, "wb") as f:
        f.write(put(named("..p.txt".encode("utf-16-be")), name_at, ">H", 2))
    outdir = os.path.join(tmp, "out", "inner")
    os.makedirs(outdir)
    for argv in (["list", escape], ["extract", escape, outdir]):
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            status = main(["rcc_extract.py", *argv])
        lines = stderr.getvalue().splitlines()
        assert status == 1 and len(lines) == 1 and lines[0].startswith(f"rcc_extract: {escape}: "), (status, lines)
        assert "not a plain file name" in lines[0], lines
    assert os.listdir(os.path.join(tmp, "out")) == ["inner"] and os.listdir(outdir) == [], "extraction left files behind"
    elsewhere, linked = os.path.join(tmp, "elsewhere"), os.path.join(tmp, "linked")
    os.makedirs(elsewhere)
    os.makedirs(linked)
    os.symlink(elsewhere, os.path.join(linked, "a"))
    sample = os.path.join(tmp, "sample.rcc")
    write_archive(sample, sample_files(small=True), 1)
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        status = main(["rcc_extract.py", "extract", sample, linked])
    assert status == 1 and "through a symbolic link" in stderr.getvalue(), stderr.getvalue()
    assert os.listdir(elsewhere) == [], "extraction followed a symbolic link out of its folder"
    probe = Archive("probe", raw=raw)
    for bad in ("..", "a/../../x", "/etc/passwd", "a//b", "", "."):
        try:
            probe.target(outdir, bad)
            raise AssertionError(f"target accepted {bad!r}")
        except RccError:
            pass

    # every truncation of the small archives, then deterministic random damage
    for v, whole in small.items():
        for n in range(len(whole)):
            hostile(f"v{v}-truncated-{n}", whole[:n])
    rng = random.Random(20240611)
    boundary = (0, 1, 2, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF)
    for v, whole in small.items():
        tree, record, _, _ = layout(whole)
        for index in range(9):
            for field, fmt in ((0, ">I"), (4, ">H"), (6, ">I"), (10, ">I")):
                for value in boundary + (index, max(index - 1, 0)):
                    hostile(f"v{v}-record-{index}-{field}-{value}", put(whole, tree + index * record + field, fmt, value & 0xFFFF if fmt == ">H" else value), outcome="either")
        for k in range(300):
            damaged = bytearray(whole)
            for _ in range(rng.randint(1, 4)):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
            hostile(f"v{v}-flip-{k}", bytes(damaged), outcome="either")
    return cases, (rss() - baseline) >> 20


def selftest():
    import time
    start = time.monotonic()
    files = sample_files()
    with tempfile.TemporaryDirectory() as tmp:
        for version in (1, 2, 3):
            path = os.path.join(tmp, f"v{version}.rcc")
            write_archive(path, files, version)
            archive = Archive(path)
            got = {p.lstrip("/"): archive.read(flags, offset) for p, flags, offset in archive.files()}
            assert got == {p: payload for p, (payload, _) in files.items()}, f"format {version}: read back differs"
        out = os.path.join(tmp, "extracted")
        with open(os.devnull, "w") as devnull:
            stdout, sys.stdout = sys.stdout, devnull
            try:
                assert main(["rcc_extract.py", "extract", os.path.join(tmp, "v3.rcc"), out]) == 0
            finally:
                sys.stdout = stdout
        for p, (payload, _) in files.items():
            with open(os.path.join(out, p), "rb") as f:
                assert f.read() == payload, f"extracted {p} differs"
        bad = os.path.join(tmp, "bad.rcc")
        with open(bad, "wb") as f:
            f.write(b"PK\x03\x04 not an archive")
        try:
            Archive(bad)
            raise AssertionError("a file without the qres header was accepted")
        except RccError as error:
            assert "not a Qt resource archive" in str(error)
        cases, growth = _selftest_hostile(tmp)
    print("rcc_extract selftest: formats 1-3, raw/zlib/zstd entries, nested folders: ok")
    print(f"rcc_extract selftest: {cases} hostile archives refused or read cleanly, memory grew {growth} MiB, "
          f"{time.monotonic() - start:.1f} s: ok")
    return 0


def main(argv):
    if len(argv) == 2 and argv[1] == "selftest":
        return selftest()
    if len(argv) < 3 or argv[1] not in ("list", "extract"):
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    if argv[1] == "extract" and len(argv) < 4:
        print("extract needs an output folder", file=sys.stderr)
        return 2
    try:
        archive = Archive(argv[2])
        # The whole tree is checked before anything is printed or written, so a malformed
        # archive gives one error and no partial output.
        entries = list(archive.files())
        if argv[1] == "list":
            pattern = argv[3] if len(argv) > 3 else "*"
            if hasattr(sys.stdout, "reconfigure"):
                sys.stdout.reconfigure(errors="backslashreplace")
            for path, flags, _ in entries:
                if fnmatch.fnmatch(path, pattern):
                    kind = "zstd" if flags & COMPRESSED_ZSTD else "zlib" if flags & COMPRESSED_ZLIB else "raw"
                    print(f"{kind}\t{path}")
            return 0
        out, patterns = argv[3], argv[4:] or ["*"]
        real_out = None
        count = 0
        for path, flags, offset in entries:
            if not any(fnmatch.fnmatch(path, p) for p in patterns):
                continue
            target = archive.target(out, path)
            payload = archive.read(flags, offset)
            real_out = real_out or os.path.realpath(out)
            # A symbolic link already inside OUTDIR must not carry an entry, or the folders
            # made for it, out of it.
            if os.path.commonpath([real_out, os.path.realpath(os.path.dirname(target))]) != real_out:
                raise RccError(f"{archive.path}: entry {path!r} would be written outside {out} (through a symbolic link)")
            os.makedirs(os.path.dirname(target), exist_ok=True)
            part = os.open(target + ".part", os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
            with os.fdopen(part, "wb") as f:
                f.write(payload)
            os.replace(target + ".part", target)
            count += 1
        print(f"{count} files from {archive.path}")
        return 0
    except RccError as error:
        print(f"rcc_extract: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"rcc_extract: {argv[2]}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
