# Strongroom: one command to run the demo, one to run the tests. Both set up .venv themselves.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run check test bench screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Strongroom needs Python 3.11 or newer.") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	bash tools/ensure-tesseract.sh
	$(VENV)/bin/strongroom demo

# Static checks: types (mypy --strict) and the layer rule (import-linter); both configured in pyproject.toml.
check: $(STAMP)
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: check
	bash tools/ensure-chromium.sh
	bash tools/ensure-sshd.sh
	bash tools/ensure-eark-validator.sh
	bash tools/ensure-tesseract.sh
	$(PY) -m pytest

screenshots: $(STAMP)
	bash tools/ensure-chromium.sh
	STRONGROOM_SCREENSHOTS=$(CURDIR)/docs/screenshots $(PY) -m pytest tests/e2e -q

# The quick benchmarks (about 5 minutes on an idle 2-core machine); bench/README.md lists them all.
bench: $(STAMP)
	$(PY) bench/kdf.py --runs 3
	$(PY) bench/seal.py --mb 64
	$(PY) bench/extract.py
	$(PY) bench/filing.py --n 10
	$(PY) bench/drop_latency.py --drops 10
	$(PY) bench/intake.py --n 200 --rounds 3
	$(PY) bench/web_search_scaling.py --records 1000 --seconds 5 --rounds 3 --saturate 20

clean:
	rm -rf $(VENV) demo-home
