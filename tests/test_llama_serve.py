"""The embedded server's lazy log-probabilities return exactly what llama-cpp-python did."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

llama_serve = pytest.importorskip(
    "personascope.agents.llama_serve", reason="the [local] extra is not installed"
)


def test_rows_on_demand_equal_the_librarys_rows() -> None:
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(9, 300)).astype(np.single) * 8
    scores[2, 5] = -np.inf  # a masked logit stays -inf
    lazy = llama_serve.logits_to_logprobs(scores)
    assert isinstance(lazy, llama_serve.RowsOnDemand) and len(lazy) == 9
    full = llama_serve._ORIGINAL(scores)
    for offset in (0, 2, 8):
        assert np.array_equal(np.asarray(lazy[offset:]), full[offset:])
    rows = list(lazy[6:])  # iterated as the server iterates it
    assert len(rows) == 3 and all(np.array_equal(r, f) for r, f in zip(rows, full[6:], strict=True))


def test_a_single_row_is_computed_at_once() -> None:
    row = np.array([1.0, 2.0, 3.0], dtype=np.single)
    out = llama_serve.logits_to_logprobs(row)
    assert isinstance(out, np.ndarray)
    assert np.allclose(np.exp(out).sum(), 1.0) and np.array_equal(out, llama_serve._ORIGINAL(row))


@pytest.mark.integration
@pytest.mark.parametrize("name", ["smollm2", "qwen2.5-1.5b"])
def test_a_real_completion_returns_the_same_tokens_and_logprobs(name: str) -> None:
    """Both changes together against the library as released: the same tokens and the same
    log-probabilities (to float rounding: llama.cpp's output layer runs on one row instead
    of all), and prompt log-probabilities refused."""
    from llama_cpp import Llama

    from personascope.agents.local_server import model_path

    llm = Llama(model_path=str(model_path(name)), n_ctx=512, n_threads=2, logits_all=True, verbose=False)
    prompt = "Question: how well does 'I am the life of the party' describe you, 1 to 5? Answer:"

    def complete() -> dict[str, Any]:
        llm.reset()
        out = llm.create_completion(prompt, max_tokens=4, temperature=0, logprobs=10)
        return out["choices"][0]["logprobs"]  # type: ignore[index,return-value]

    cls = llama_serve._llama.Llama
    saved = {k: cls.__dict__[k] for k in ("logits_to_logprobs", "eval", "create_completion")}
    before = complete()
    try:
        llama_serve.patch()
        after = complete()
        with pytest.raises(ValueError, match="prompt tokens"):
            llm.create_completion(prompt, max_tokens=1, logprobs=1, echo=True)
    finally:
        for k, v in saved.items():
            setattr(cls, k, v)
    assert after["tokens"] == before["tokens"] and before["top_logprobs"]
    assert after["token_logprobs"] == pytest.approx(before["token_logprobs"], abs=2e-3)
    for a, b in zip(after["top_logprobs"], before["top_logprobs"], strict=True):
        common = set(a) & set(b)
        assert len(common) >= 8 and all(a[t] == pytest.approx(b[t], abs=2e-3) for t in common)
