# make test: create .venv if missing, install everything (and Chromium for the browser test), run the whole test suite.
# make demo: the main job on the built-in default (writes out/demo/).
# make bench: speed and memory benchmarks (JSON); REFERENCE_SRC=DIR (a stylegan2-ada-pytorch or stylegan3
#   work tree) adds the reference's rows to benchmarks/side_by_side.py.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The PyTorch build is an explicit choice: a plain `pip install torch` on Linux pulls gigabytes of
# CUDA packages. CPU by default; for CUDA e.g. `make test TORCH_INDEX=https://download.pytorch.org/whl/cu128`.
TORCH_VERSION ?= 2.13.0
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: test demo bench install browser clean wheel-check

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# PyTorch from TORCH_INDEX (the CPU build unless told otherwise), then its dependencies.
	$(PY) -m pip install --quiet --no-deps --retries 1 torch==$(TORCH_VERSION) --index-url $(TORCH_INDEX)
	$(PY) -m pip install --quiet torch==$(TORCH_VERSION)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The explorer's browser test drives Debian's Chromium (Playwright's own download does not work
# everywhere); installed here when apt can, otherwise that one test is skipped with the reason.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  (command -v apt-get >/dev/null 2>&1 && (apt-get install -y -qq chromium >/dev/null 2>&1 || \
	    (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1))) || \
	  echo "note: Chromium could not be installed (apt-get install -y chromium); the browser test will be skipped"

test: $(STAMP) browser
	$(PY) -m pytest -q

# The README's pip route: the wheel in a fresh virtualenv with the CPU torch first, then --help, one
# generate and the explorer answering on loopback.
wheel-check: $(STAMP)
	PYTHON=$(PYTHON) TORCH_VERSION=$(TORCH_VERSION) TORCH_INDEX=$(TORCH_INDEX) bash .ci/wheel-check.sh

demo: $(STAMP)
	$(VENV)/bin/styleforge demo --outdir out/demo

bench: $(STAMP)
	$(PY) benchmarks/generate_speed.py
	$(PY) benchmarks/train_speed.py
	$(PY) benchmarks/metrics_speed.py
	$(PY) benchmarks/projection_speed.py
	$(PY) benchmarks/serve_latency.py
	$(PY) benchmarks/data_pipeline.py
	$(PY) benchmarks/step_profile.py
	$(PY) benchmarks/load_speed.py $(if $(REFERENCE_SRC),--reference-src $(REFERENCE_SRC))
	$(PY) benchmarks/compile_speed.py
	$(PY) benchmarks/side_by_side.py $(if $(REFERENCE_SRC),--reference-src $(REFERENCE_SRC))

clean:
	rm -rf $(VENV) out build src/*.egg-info
