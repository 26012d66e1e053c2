"""Check the installed llama-cpp-python build (in a child process, so a crash of the native
library is a non-zero exit, not a crash of the caller).

Exit 0: it evaluates a multi-token prompt and has the vector kernels this CPU offers.
Exit 1: it crashes or fails (e.g. a native AMX build in a VM that does not grant AMX, or
an AVX-512 build on a CPU without AVX-512). Exit 3: it works but lacks AVX-512 kernels on
a CPU that has them (a wheel from pip's cache built elsewhere): a rebuild makes prompt
evaluation about 1.6 times faster here (README, "Set-up").
"""

import subprocess
import sys
from pathlib import Path

CODE = """
import llama_cpp
from llama_cpp import Llama
from personascope.agents.local_server import model_path
llm = Llama(model_path=str(model_path("smollm2")), n_ctx=256, n_threads=2, verbose=False)
llm.create_completion("one two three four five six", max_tokens=1)
print(llama_cpp.llama_print_system_info().decode())
"""

#: CPU flags (/proc/cpuinfo) that the AVX-512 build of scripts/setup.sh compiles for.
AVX512_FLAGS = ("avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512vbmi", "avx512_bf16")


def cpu_has_avx512() -> bool:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return all(f in flags for f in AVX512_FLAGS)


def main() -> int:
    if sys.argv[1:] == ["--cpu-avx512"]:
        return 0 if cpu_has_avx512() else 1
    proc = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        tail = proc.stderr.strip()[-300:]
        print(f"llama-cpp-python check failed (exit {proc.returncode}): {tail}", file=sys.stderr)
        return 1
    if cpu_has_avx512() and "AVX512 = 1" not in proc.stdout:
        print("llama-cpp-python: the installed build has no AVX-512 kernels; this CPU has them", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
