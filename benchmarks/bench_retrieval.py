"""Memory retrieval latency (p50/p95) at 1k and 10k memories per character, and embedding throughput.

Usage: python benchmarks/bench_retrieval.py [--sizes 1000 10000] [--queries 200]

Memories are synthetic but varied sentences; the store is a real Chroma
PersistentClient in a temporary folder with the shipped MiniLM embeddings.
Prints: embedding throughput (memories/s while indexing), and per size the p50/p95
of (a) Chroma's nearest-neighbour query alone (query vector precomputed) and
(b) the full ``MemoryStore.retrieve`` (embed the question + query + budget).
Goal: (a) ≤ 10 ms p50 at 10k.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time

from personascope.memories.characters import Character
from personascope.memories.embeddings import MiniLMEmbeddingFunction
from personascope.memories.store import MemoryStore

SUBJECTS = ["I", "My brother", "The captain", "Our old cook", "A stranger", "My friend", "The doctor"]
VERBS = [
    "remember",
    "once saw",
    "argued about",
    "wrote a letter about",
    "dreamed of",
    "laughed at",
    "worried about",
    "walked past",
]
OBJECTS = [
    "the violin by the window",
    "a storm over the harbour",
    "a ball in the assembly rooms",
    "the ledger of debts",
    "a white whale",
    "the green light across the bay",
    "a rabbit with a watch",
    "a game of croquet",
    "the moor in the fog",
    "an unpaid bill",
    "a letter from Bath",
    "a duel at dawn",
]
PLACES = ["in London", "at sea", "in the country", "at the club", "in winter", "at midnight", "after dinner"]


def memories(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    seen: set[str] = set()
    while len(seen) < n:
        seen.add(
            f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} "
            f"{rng.choice(PLACES)}, #{len(seen)}."
        )
    return sorted(seen)


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()
    ef = MiniLMEmbeddingFunction()
    ef(["warm-up"])
    questions = [f"Do you {v.split()[-1]} {o}?" for v in VERBS for o in OBJECTS][: args.queries]
    print(
        f"{'memories':>9} {'embed/s':>8} {'query p50 ms':>13} {'query p95 ms':>13} "
        f"{'retrieve p50 ms':>16} {'retrieve p95 ms':>16}"
    )
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            store = MemoryStore(path=tmp)
            char = Character(
                id=f"bench-{n}", name="Bench", experimenter="X", description="Bench.", memories=memories(n)
            )
            t = time.perf_counter()
            col = store.index(char)
            rate = n / (time.perf_counter() - t)
            vectors = ef(questions)
            raw: list[float] = []
            for v in vectors:
                t = time.perf_counter()
                col.query(query_embeddings=[v], n_results=4)
                raw.append((time.perf_counter() - t) * 1000)
            full: list[float] = []
            for q in questions:
                t = time.perf_counter()
                store.retrieve(char, q, k=4, max_chars=1500)
                full.append((time.perf_counter() - t) * 1000)
            print(
                f"{n:>9} {rate:>8.0f} {pct(raw, 50):>13.2f} {pct(raw, 95):>13.2f} "
                f"{pct(full, 50):>16.2f} {pct(full, 95):>16.2f}"
            )


if __name__ == "__main__":
    main()
