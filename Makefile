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
	bash tools/ensure-tesseract.sh
	$(PY) -m pytest

screenshots: $(STAMP)
	bash tools/ensure-chromium.sh
	STRONGROOM_SCREENSHOTS=$(CURDIR)/docs/screenshots $(PY) -m pytest tests/e2e -q

bench: $(STAMP)
	@echo "Benchmarks live in bench/; run them one by one, e.g. $(PY) bench/seal.py"

clean:
	rm -rf $(VENV) demo-home
