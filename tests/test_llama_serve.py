"""The embedded server's lazy log-probabilities return exactly what llama-cpp-python did."""

from __future__ import annotations

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
def test_a_real_completion_returns_the_same_logprobs() -> None:
    from llama_cpp import Llama

    from personascope.agents.local_server import model_path

    llm = Llama(model_path=str(model_path("smollm2")), n_ctx=256, n_threads=2, logits_all=True, verbose=False)
    prompt = "Question: how well does 'I am the life of the party' describe you, 1 to 5? Answer:"

    def complete() -> dict[str, object]:
        llm.reset()
        out = llm.create_completion(prompt, max_tokens=3, temperature=0, logprobs=10)
        return out["choices"][0]["logprobs"]  # type: ignore[index]

    before = complete()
    original = llama_serve._llama.Llama.logits_to_logprobs
    try:
        llama_serve.patch()
        after = complete()
    finally:
        llama_serve._llama.Llama.logits_to_logprobs = staticmethod(original)  # type: ignore[method-assign]
    assert after == before and before["top_logprobs"]
