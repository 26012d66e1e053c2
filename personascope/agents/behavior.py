"""Behaviour classifiers for the occasion-based behaviour test (RealBehavior section 4.2).

RealBehavior fine-tunes RoBERTa-base per dimension; the default here is a logistic
regression on the shipped MiniLM sentence embeddings (fast on a CPU), trained on
the generated pseudo-behaviour dataset and validated on a random held-out split.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from personascope.memories.embeddings import MiniLMEmbeddingFunction


def parse_lines(text: str) -> list[str]:
    """Lines of a list answer, without numbering, bullets or quotes.

    A markdown heading such as "**At a party**: people who..." gives its heading.

    >>> parse_lines("1. At a party.\\n- On a train\\n\\n3) \\"At work\\"\\n**On a date**: some talk.")
    ['At a party.', 'On a train', 'At work', 'On a date']
    """
    out = []
    for line in text.splitlines():
        clean = re.sub(r"^\s*(?:[-*•]\s+|\d+[.)]\s*)", "", line).strip()
        heading = re.match(r"^\*\*(.+?)\*\*\s*[:：.-]", clean)
        clean = (heading.group(1) if heading else clean).replace("**", "").strip().strip('"').strip()
        if len(clean) > 3:
            out.append(clean)
    return out


def embed(texts: list[str]) -> np.ndarray:
    return np.asarray(MiniLMEmbeddingFunction()(texts), dtype=float)


def deduplicate(texts: list[str], threshold: float = 0.9, keep: int | None = None) -> list[str]:
    """Drop texts whose embedding has cosine similarity ≥ ``threshold`` with an earlier
    kept one (vectors are normalised, so cosine is the dot product); keep the first ``keep``."""
    if not texts:
        return []
    vectors = embed(texts)
    kept: list[int] = []
    for i in range(len(texts)):
        if all(float(vectors[i] @ vectors[j]) < threshold for j in kept):
            kept.append(i)
        if keep is not None and len(kept) >= keep:
            break
    return [texts[i] for i in kept]


@dataclass
class TrainedClassifier:
    dimension: str
    model: LogisticRegression
    accuracy: float
    n_train: int
    n_test: int

    def predict(self, texts: list[str]) -> list[int]:
        return [int(x) for x in self.model.predict(embed(texts))]


def train_classifier(
    dimension: str, texts: list[str], labels: list[int], *, seed: int = 0, test_size: float = 0.2
) -> TrainedClassifier:
    """Logistic regression on embeddings, validated on a stratified random split."""
    if len(set(labels)) < 2:
        raise ValueError(f"{dimension}: the behaviour dataset needs both polarities")
    x = embed(texts)
    y = np.asarray(labels)
    stratify = y if min(np.bincount(y)) >= 2 else None
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_size, random_state=seed, stratify=stratify)
    model = LogisticRegression(max_iter=2000, C=1.0)
    model.fit(x_tr, y_tr)
    accuracy = float((model.predict(x_te) == y_te).mean()) if len(y_te) else float("nan")
    # Refit on everything for use; the reported accuracy is the held-out one.
    model.fit(x, y)
    return TrainedClassifier(dimension, model, accuracy, len(y_tr), len(y_te))


def save_classifiers(folder: Path, classifiers: dict[str, TrainedClassifier]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    metrics: dict[str, Any] = {}
    for dim, clf in classifiers.items():
        joblib.dump(clf.model, folder / f"{dim}.joblib")
        metrics[dim] = {"accuracy": clf.accuracy, "n_train": clf.n_train, "n_test": clf.n_test}
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2))


def load_classifiers(folder: Path) -> dict[str, TrainedClassifier]:
    metrics = json.loads((folder / "metrics.json").read_text())
    return {
        dim: TrainedClassifier(
            dim, joblib.load(folder / f"{dim}.joblib"), m["accuracy"], m["n_train"], m["n_test"]
        )
        for dim, m in metrics.items()
    }
