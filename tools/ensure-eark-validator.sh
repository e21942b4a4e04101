#!/usr/bin/env bash
# eark-validator pins lxml 5.1.0 while pyHanko needs a newer lxml, so the two cannot share .venv: the
# transfer test runs the validator from its own small environment, made here once.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv-eark/bin/python ] || ! .venv-eark/bin/python -c 'import eark_validator' 2>/dev/null; then
    echo "Setting up .venv-eark (eark-validator for the E-ARK transfer test)..."
    "$PYTHON" -m venv .venv-eark
    .venv-eark/bin/python -m pip install --quiet eark-validator==1.1.3
fi
