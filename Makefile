# make test: create .venv if missing, install everything, run the whole test suite.
# make demo: the main job on the built-in default (writes out/demo/).
# make bench: speed and memory benchmarks (JSON).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test demo bench install clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# The CPU build of PyTorch; any other spelling may pull gigabytes of CUDA packages.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

demo: $(STAMP)
	$(VENV)/bin/styleforge demo --outdir out/demo --minutes 12

bench: $(STAMP)
	$(PY) benchmarks/generate_speed.py
	$(PY) benchmarks/train_speed.py
	$(PY) benchmarks/metrics_speed.py

clean:
	rm -rf $(VENV) out build src/*.egg-info
