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

A second change of the same kind: the server is built with ``logits_all`` (the library
refuses log-probabilities otherwise), which makes llama.cpp compute the output layer —
151,936 logits for Qwen — for every prompt token and copy them all into the score matrix,
although only the last token's are ever read when the prompt is not echoed: sampling and
the log-probabilities of generated tokens read the row of the last token of each
evaluation. Here every evaluation asks llama.cpp for that row only. Prompt-token
log-probabilities (``echo`` with ``logprobs``), which would read the other rows, are
refused in one line; personascope never asks for them.
"""

from __future__ import annotations

import inspect
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


def eval_last_logits(self: _llama.Llama, tokens: Any) -> None:
    """``Llama.eval`` with the logits of each batch's last token only (llama.cpp's own
    default), stored in that token's row of the score matrix."""
    self._ctx.kv_cache_seq_rm(-1, self.n_tokens, -1)
    for i in range(0, len(tokens), self.n_batch):
        batch = tokens[i : min(len(tokens), i + self.n_batch)]
        n_past, n_tokens = self.n_tokens, len(batch)
        self._batch.set_batch(batch=batch, n_past=n_past, logits_all=False)
        self._ctx.decode(self._batch)
        self.input_ids[n_past : n_past + n_tokens] = batch
        self.scores[n_past + n_tokens - 1, :] = np.ctypeslib.as_array(
            self._ctx.get_logits(),  # type: ignore[no-untyped-call]
            shape=(self._n_vocab,),
        )
        self.n_tokens += n_tokens
        self._requires_eval = False


_CREATE_COMPLETION = _llama.Llama.create_completion


def create_completion(self: _llama.Llama, *args: Any, **kwargs: Any) -> Any:
    """``Llama.create_completion``, refusing prompt-token log-probabilities (see above)."""
    bound = inspect.signature(_CREATE_COMPLETION).bind(self, *args, **kwargs)
    if bound.arguments.get("echo") and bound.arguments.get("logprobs") is not None:
        raise ValueError(
            "personascope's embedded server returns no log-probabilities of prompt tokens (echo)"
        )
    return _CREATE_COMPLETION(self, *args, **kwargs)


def patch() -> None:
    """Install both changes in llama-cpp-python (idempotent)."""
    _llama.Llama.logits_to_logprobs = staticmethod(logits_to_logprobs)  # type: ignore[method-assign]
    _llama.Llama.eval = eval_last_logits  # type: ignore[method-assign]
    _llama.Llama.create_completion = create_completion  # type: ignore[method-assign]


def main() -> None:
    patch()
    from llama_cpp.server.__main__ import main as serve

    serve()  # type: ignore[no-untyped-call]


if __name__ == "__main__":
    main()
