# Sketch2Real — the two commands are `make demo` and `make test`.
SHELL := /bin/bash
SWIFT ?= swift
PYTHON ?= /usr/bin/python3
BIN_RELEASE = .build/release/sketch2real

.PHONY: bench-distributed bootstrap build docs release test test-matrix learning-margins fuzz demo bench info fixtures fetch-photos clean

bootstrap:
	@scripts/bootstrap

build: bootstrap
	$(SWIFT) build

release: bootstrap
	@echo "building sketch2real (release)"
	$(SWIFT) build -c release --product sketch2real

# Builds everything (the library example Examples/TranslateSketch too, which runs once on the
# first sketch in examples/) and runs every test; the last line is the runner's summary.
test: bootstrap
	@echo "building and running the tests"
	python3 scripts/rcc_extract.py selftest
	$(SWIFT) build --build-tests
	@sketch=$$(ls examples/*.png | head -n 1); name=$$(basename "$$sketch" .png); out=.build/translate-sketch; \
	  echo "running the library example (Examples/TranslateSketch) on $$sketch"; \
	  rm -rf "$$out" && "$$($(SWIFT) build --show-bin-path)/TranslateSketch" "$$sketch" "$$out" && \
	  for f in "$$out/$$name.png" "$$out/$$name-5.png"; do \
	    [ -s "$$f" ] || { echo "TranslateSketch wrote no $$f"; exit 1; }; done
	set -o pipefail; $(SWIFT) test --skip-build --disable-swift-testing 2>&1 | tee .build/test.log

# The numerically sensitive suites again under libtorch threads 1 and 2 × every kernel path this
# CPU can take (scripts/lib/kernel-paths.sh: ATen capped at AVX2 and AVX-512, and oneDNN capped as
# on CPUs without bfloat16 instructions or without AVX-512), on the build `make test` made; ends
# with "test-matrix: N passed, M failed".
test-matrix: bootstrap
	@test -d .build/debug || $(SWIFT) build --build-tests
	@scripts/test-matrix

# The learning tests under 5 seeds × threads 1, 2 × every kernel path: the margin table of
# docs/TESTING.md (about 25 minutes on 2 cores).
learning-margins: bootstrap
	@test -d .build/debug || $(SWIFT) build --build-tests
	@scripts/learning-margins

# libFuzzer (with AddressSanitizer) on the safetensors header parser, the studio's multipart
# parser, the image header reader and the PyTorch checkpoint reader, and atheris on the Qt
# resource archive reader, FUZZ_SECONDS each (default 60); see scripts/fuzz.
fuzz: bootstrap
	@scripts/fuzz

# The bundled SRAGAN translates every sketch in examples/ and the bundled LSRAGAN draws six
# variations of each; demo-output/index.html shows sketch → result → variations.
demo: release
	@echo "running the demo: bundled models on the sketches in examples/"
	@$(BIN_RELEASE) demo --examples examples --out demo-output --variations 6

# DocC documentation of the Sketch2Real library: the catalog in Sources/Sketch2Real/Sketch2Real.docc
# (articles on each model family and workflow) with the API's doc comments; the archive lands in
# .build/plugins/Swift-DocC/outputs/Sketch2Real.doccarchive (`swift package --disable-sandbox
# preview-documentation --target Sketch2Real` serves it).
docs: bootstrap
	$(SWIFT) package --disable-sandbox generate-documentation --target Sketch2Real

info: release
	@$(BIN_RELEASE) info

# Swift beside the PyTorch reference (same weights, parity checked first) on sragan, pix2pix,
# lsragan and bicyclegan at 128² and 256², batch 1 (the lighter half of the full table).
# BENCH_ARGS replaces the case selection, e.g. BENCH_ARGS="--batches 1,4" for the full table of
# docs/PERFORMANCE.md, which took 22 minutes with --steps 1 --rounds 3 on the shared machine.
BENCH_ARGS ?= --batches 1
BENCH_DATA ?= .cache/datasets/landscapes-256
bench: release
	@if [ ! -d "$(BENCH_DATA)" ] && [ "$(BENCH_DATA)" = .cache/datasets/landscapes-256 ]; then \
	  echo "bench: no photo data set ($(BENCH_DATA), made by make fetch-photos); timing on synthetic 256² scenes instead (.cache/datasets/synth-256-bench)"; \
	  [ -d .cache/datasets/synth-256-bench ] || $(BIN_RELEASE) dataset synth --count 64 --size 256 --out .cache/datasets/synth-256-bench > /dev/null; \
	  PYTHONPATH=.cache/python $(BIN_RELEASE) bench models --python $(PYTHON) --data .cache/datasets/synth-256-bench --json .build/bench.json --markdown .build/bench.md $(BENCH_ARGS); \
	else \
	  PYTHONPATH=.cache/python $(BIN_RELEASE) bench models --python $(PYTHON) --data "$(BENCH_DATA)" --json .build/bench.json --markdown .build/bench.md $(BENCH_ARGS); \
	fi

# Data-parallel training: 1 process × 2 threads against 2 torchrun ranks × 1 thread, beside
# PyTorch DDP (docs/DISTRIBUTED.md; about 7 minutes on 2 cores).
bench-distributed: release
	@data="$(BENCH_DATA)"; if [ ! -d "$$data" ]; then \
	  echo "bench-distributed: no photo data set ($$data); training on synthetic 256² scenes (.cache/datasets/synth-256-bench)"; \
	  [ -d .cache/datasets/synth-256-bench ] || $(BIN_RELEASE) dataset synth --count 64 --size 256 --out .cache/datasets/synth-256-bench > /dev/null; \
	  data=.cache/datasets/synth-256-bench; fi; \
	PYTHONPATH=.cache/python $(BIN_RELEASE) bench distributed --python $(PYTHON) --data "$$data" --markdown .build/bench-distributed.md

# Real landscape photos from Debian packages → an aligned HED-sketch dataset in .cache/datasets.
fetch-photos: release
	@scripts/fetch-photos

# Regenerates the committed PyTorch reference fixtures.
fixtures: bootstrap
	PYTHONPATH=.cache/python $(PYTHON) Tests/Fixtures/make_op_fixtures.py
	PYTHONPATH=.cache/python $(PYTHON) Tests/Fixtures/make_nn_fixtures.py
	PYTHONPATH=.cache/python $(PYTHON) Tests/Fixtures/make_hed_fixture.py
	PYTHONPATH=.cache/python $(PYTHON) Tests/Fixtures/make_model_fixtures.py
	PYTHONPATH=.cache/python $(PYTHON) Tests/Fixtures/make_multimodal_fixtures.py
	PYTHONPATH=.cache/python $(PYTHON) Tests/Fixtures/make_bundled_reference.py

clean:
	rm -rf .build
