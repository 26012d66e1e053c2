"""Exit 0 when the installed llama-cpp-python evaluates a multi-token prompt (in a child
process, so a crash of the native library is a non-zero exit, not a crash of the caller)."""

import subprocess
import sys

CODE = """
from llama_cpp import Llama
from personascope.agents.local_server import model_path
llm = Llama(model_path=str(model_path("smollm2")), n_ctx=256, n_threads=2, verbose=False)
llm.create_completion("one two three four five six", max_tokens=1)
"""

proc = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=300)
if proc.returncode != 0:
    tail = proc.stderr.strip()[-300:]
    print(f"llama-cpp-python check failed (exit {proc.returncode}): {tail}", file=sys.stderr)
sys.exit(proc.returncode != 0)
