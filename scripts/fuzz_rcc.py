#!/usr/bin/env python3
"""Fuzzes the Qt resource archive (.rcc) reader in rcc_extract.py; scripts/fuzz runs it as target rcc.

    fuzz_rcc.py seed DIR                          writes seed archives into DIR
    fuzz_rcc.py [LIBFUZZER OPTIONS] CORPUS...     coverage-guided, with atheris (libFuzzer)
    fuzz_rcc.py plain SECONDS CORPUS CRASH_PREFIX the same checks and mutations without atheris

Each input is read as an archive: the whole tree, the first entries decompressed, every path
mapped under an output folder. RccError is the expected answer to a malformed input. Any other
exception is a crash, and so is a broken invariant: a path with an empty, '.' or '..' part or a
NUL, a target outside the output folder, an entry larger than the reader's cap, more files than
the archive has records, an error message that is not one line naming the input.

Half of the mutations are libFuzzer's own; the other half know the format, because a random
byte rarely turns into a child count of 2^32-1 or a child index that points back at an
ancestor: they overwrite counts, child indices, offsets, flags, name lengths, name characters
and declared sizes with boundary values (0, 1, 2^16-1, 2^31-1, 2^32-1, the record's own index,
an earlier index, the number of records), truncate, and flip bytes.
"""
import os
import random
import signal
import struct
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

MAX_LEN = 65536
# Lower than the reader's default so that an input at the cap costs milliseconds, not seconds;
# the capping code is the same.
FUZZ_MAX_ENTRY = 16 << 20
READS = 16
ZSTD_READS = 2  # each zstd entry starts a process
OUT = "/fuzz-out"
BOUNDARY = (0, 1, 2, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF)
FLAGS = (0, 1, 2, 3, 4, 5, 6, 7, 0xFFFF)
UNITS = (0x0000, 0x000A, 0x002E, 0x002F, 0x005C, 0xD800, 0xDBFF, 0xDC00, 0xFFFF)


def seed_archives():
    import rcc_extract
    seeds = {}
    for v in (1, 2, 3):
        seeds[f"v{v}-small.rcc"] = rcc_extract.archive_bytes(rcc_extract.sample_files(small=True), v)
        seeds[f"v{v}-sample.rcc"] = rcc_extract.archive_bytes(rcc_extract.sample_files(), v)
    seeds["v2-deep.rcc"] = rcc_extract.archive_bytes({"d/" * 20 + "f": (b"x", "zlib"), "e": (b"", "zstd")}, 2)
    # just past the reader's limits, which mutation alone seldom reaches
    seeds["v2-too-deep.rcc"] = rcc_extract.archive_bytes({"d/" * (rcc_extract.MAX_DEPTH + 1) + "f": (b"x", "raw")}, 2)
    seeds["v3-zstd-bomb.rcc"] = rcc_extract.archive_bytes({"bomb": (bytes(FUZZ_MAX_ENTRY + 1), "zstd-nosize")}, 3)
    # small real archives, from FUZZ_RCC_DIR or where the system or scripts/fetch-photos has
    # unpacked gcompris-qt-data
    folders = (os.environ.get("FUZZ_RCC_DIR", ""), "/usr/share/gcompris-qt/rcc",
               os.path.join(HERE, "..", ".cache/photos/root/usr/share/gcompris-qt/rcc"))
    for folder in filter(None, folders):
        if not os.path.isdir(folder):
            continue
        sizes = sorted((os.path.getsize(os.path.join(folder, n)), n) for n in os.listdir(folder) if n.endswith(".rcc"))
        for size, name in [s for s in sizes if s[0] <= MAX_LEN][:12]:
            with open(os.path.join(folder, name), "rb") as f:
                seeds[f"gcompris-{name}"] = f.read()
        break
    return seeds


_seeds = []


def _put(buf, at, fmt, value):
    if 0 <= at and at + struct.calcsize(fmt) <= len(buf):
        struct.pack_into(fmt, buf, at, value & ((1 << 8 * struct.calcsize(fmt)) - 1))


def _get(buf, at, fmt):
    if 0 <= at and at + struct.calcsize(fmt) <= len(buf):
        return struct.unpack_from(fmt, buf, at)[0]
    return None


def mutate_structure(data, rng, max_size):
    """One format-aware change to `data`."""
    buf = bytearray(data)
    if len(buf) < 20 or buf[:4] != b"qres":
        if not _seeds:
            _seeds.extend(seed_archives().values())
        return rng.choice(_seeds)[:max_size]
    version, tree, data_at, names = struct.unpack_from(">IIII", buf, 4)
    record = 14 if version == 1 else 22
    records = max((len(buf) - tree) // record, 1) if tree < len(buf) else 1
    # real trees sit at the front of the record range; the rest is data seen as records
    index = rng.randrange(records) if rng.random() < 0.3 else rng.randrange(min(records, 24))
    at = tree + index * record
    kind = rng.randrange(9)
    if kind == 0:  # a record's count, first child, name offset or data offset
        field = rng.choice((0, 6, 10))
        values = BOUNDARY + (index, rng.randrange(index + 1), max(index - 1, 0), records, records - 1, records + 1,
                             rng.randrange(records), rng.randrange(1 << 32))
        _put(buf, at + field, ">I", rng.choice(values))
    elif kind == 1:  # a record's flags
        _put(buf, at + 4, ">H", rng.choice(FLAGS))
    elif kind == 2:  # a header field
        _put(buf, rng.choice((4, 8, 12, 16, 20)), ">I",
             rng.choice(BOUNDARY + (1, 2, 3, 4, len(buf), len(buf) - 1, rng.randrange(len(buf) + 1))))
    elif kind == 3:  # a name's length or one of its characters
        offset = _get(buf, at, ">I")
        if offset is not None:
            name = names + offset
            if rng.random() < 0.5:
                _put(buf, name, ">H", rng.choice((0, 1, 2, 255, 256, 0xFFFF, rng.randrange(1 << 16))))
            else:
                length = _get(buf, name, ">H") or 1
                _put(buf, name + 6 + 2 * rng.randrange(min(length, 64)), ">H", rng.choice(UNITS))
    elif kind == 4:  # an entry's stored length, declared size or zstd frame header
        offset = _get(buf, at + 10, ">I")
        if offset is not None:
            entry = data_at + offset
            length = _get(buf, entry, ">I")
            size = _get(buf, entry + 4, ">I")
            choice = rng.randrange(3)
            if choice == 0 and length is not None:
                _put(buf, entry, ">I", rng.choice(BOUNDARY + (length - 1, length + 1, 0)))
            elif choice == 1 and size is not None:
                _put(buf, entry + 4, ">I", rng.choice(BOUNDARY + (size - 1, size + 1, 16 << 20, (16 << 20) + 1)))
            elif entry + 9 <= len(buf):
                at = entry + 4 + rng.randrange(4, 14)
                _put(buf, at, ">B", rng.choice((0, 0x20, 0x40, 0x80, 0xC0, 0xE0, 0xFF, rng.randrange(256))))
    elif kind == 5:  # a cycle: a folder's children start at itself, an ancestor or the root
        _put(buf, at + 4, ">H", 2)
        _put(buf, at + 6, ">I", rng.choice((1, 2, records - index)))
        _put(buf, at + 10, ">I", rng.choice((0, index, rng.randrange(index + 1))))
    elif kind == 6:  # one record copied over another
        other = tree + rng.randrange(min(records, 24)) * record
        if other + record <= len(buf) and at + record <= len(buf):
            buf[at:at + record] = buf[other:other + record]
    elif kind == 7:
        del buf[rng.randrange(len(buf) + 1):]
    else:
        for _ in range(rng.randint(1, 8)):
            if buf:
                buf[rng.randrange(len(buf))] = rng.randrange(256)
    return bytes(buf[:max_size])


def check(data):
    """Reads `data` as an archive; raises on anything but a clean read or an RccError."""
    import rcc_extract
    try:
        archive = rcc_extract.Archive("fuzz-input", raw=data, max_entry=FUZZ_MAX_ENTRY)
        files = reads = zstd_reads = 0
        for path, flags, offset in archive.files():
            files += 1
            if files >= archive.records:
                raise AssertionError(f"{files} files from {archive.records} records, one of them the root")
            parts = path.split("/")
            if len(path) > rcc_extract.MAX_PATH or any(p in ("", ".", "..") or "\0" in p for p in parts):
                raise AssertionError(f"files() yielded the path {path!r}")
            target = archive.target(OUT, path)
            if not target.startswith(OUT + "/"):
                raise AssertionError(f"{path!r} maps to {target!r}, outside {OUT}")
            zstd = bool(flags & rcc_extract.COMPRESSED_ZSTD) and not flags & rcc_extract.COMPRESSED_ZLIB
            if reads >= READS or (zstd and zstd_reads >= ZSTD_READS):
                continue
            reads += 1
            zstd_reads += zstd
            payload = archive.read(flags, offset)
            if len(payload) > FUZZ_MAX_ENTRY:
                raise AssertionError(f"{path!r} read back {len(payload)} bytes, over the cap")
    except rcc_extract.RccError as error:
        message = str(error)
        if not message.startswith("fuzz-input: ") or "\n" in message:
            raise AssertionError(f"malformed error message {message!r}")


def write_seeds(folder):
    os.makedirs(folder, exist_ok=True)
    for name, data in seed_archives().items():
        with open(os.path.join(folder, f"seed-{name}"), "wb") as f:
            f.write(data)


def peak_rss_mb():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10


def plain(seconds, corpus, crash_prefix):
    """Random structure-aware fuzzing for `seconds`, for where atheris is not installed."""
    pool = []
    for name in sorted(os.listdir(corpus)):
        with open(os.path.join(corpus, name), "rb") as f:
            pool.append(f.read(MAX_LEN))
    pool = pool or list(seed_archives().values())
    rng = random.Random(int(os.environ.get("FUZZ_SEED", "1")))

    def hang(signum, frame):
        raise TimeoutError("one input took more than 10 s")
    signal.signal(signal.SIGALRM, hang)
    start = time.monotonic()
    runs = 0
    while time.monotonic() - start < seconds:
        data = rng.choice(pool)
        for _ in range(rng.randint(1, 4)):
            data = mutate_structure(data, rng, MAX_LEN)
        signal.alarm(10)
        try:
            check(data)
        except Exception:
            import hashlib
            path = f"{crash_prefix}{hashlib.sha1(data).hexdigest()}"
            with open(path, "wb") as f:
                f.write(data)
            traceback.print_exc()
            print(f"crash: the input is in {path}")
            print(f"stat::number_of_executed_units: {runs}\nstat::peak_rss_mb: {peak_rss_mb()}")
            return 1
        finally:
            signal.alarm(0)
        runs += 1
        # drift: mutants of mutants reach states no single step from a seed reaches
        if rng.random() < 0.02:
            pool.append(data) if len(pool) < 2000 else pool.__setitem__(rng.randrange(len(pool)), data)
    print(f"plain: {runs} inputs in {time.monotonic() - start:.0f} s, no crash")
    print(f"stat::number_of_executed_units: {runs}\nstat::peak_rss_mb: {peak_rss_mb()}")
    return 0


def main(argv):
    if len(argv) == 3 and argv[1] == "seed":
        write_seeds(argv[2])
        return 0
    if len(argv) == 5 and argv[1] == "plain":
        return plain(float(argv[2]), argv[3], argv[4])
    import atheris
    with atheris.instrument_imports(include=["rcc_extract"]):
        import rcc_extract  # noqa: F401

    def mutator(data, max_size, seed):
        rng = random.Random(seed)
        if rng.random() < 0.5:
            return atheris.Mutate(data, max_size)
        for _ in range(rng.randint(1, 3)):
            data = mutate_structure(data, rng, max_size)
        return data

    atheris.Setup(argv, check, custom_mutator=mutator)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
