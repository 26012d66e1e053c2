"""The embedded model server: llama-cpp-python's OpenAI-compatible server, run as
``python -m personascope.agents.llama_serve <its arguments>``, with one change.

llama-cpp-python (0.3.x) answers a request for log-probabilities by computing the
log-softmax of *every* row of its score matrix — each prompt token × the whole
vocabulary (250 tokens × 151,936 for Qwen: 38 M values) — and then keeps only the rows of
the generated tokens (``logits_to_logprobs(self._scores)[token_offset:]``). For the
one-digit item judgements of ``oc_item`` that was 0.65 s of a 1.4 s request, two thirds
of the assessor's time in the main job (measured with cProfile, README "Set-up"). Here
the two-dimensional call returns rows on demand: the slice the server takes is computed,
row by row with the library's own function, and nothing else; every value it returns is
the one it returned before (``tests/test_llama_serve.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from llama_cpp import llama as _llama

_ORIGINAL = _llama.Llama.logits_to_logprobs


class RowsOnDemand:
    """The log-probabilities of a score matrix, computed only for the rows indexed."""

    def __init__(self, logits: np.ndarray[Any, Any], axis: int) -> None:
        self._logits = logits
        self._axis = axis

    def __getitem__(self, key: Any) -> Any:
        return _ORIGINAL(self._logits[key], axis=self._axis)

    def __len__(self) -> int:
        return len(self._logits)


def logits_to_logprobs(logits: Any, axis: int = -1) -> Any:
    """``Llama.logits_to_logprobs``, lazy over the rows of a matrix (the softmax is over
    the last axis, so a row's values do not depend on the other rows)."""
    if isinstance(logits, np.ndarray) and logits.ndim == 2 and axis in (-1, 1):
        return RowsOnDemand(logits, axis)
    return _ORIGINAL(logits, axis=axis)


def patch() -> None:
    """Install :func:`logits_to_logprobs` in llama-cpp-python (idempotent)."""
    _llama.Llama.logits_to_logprobs = staticmethod(logits_to_logprobs)  # type: ignore[method-assign]


def main() -> None:
    patch()
    from llama_cpp.server.__main__ import main as serve

    serve()  # type: ignore[no-untyped-call]


if __name__ == "__main__":
    main()
