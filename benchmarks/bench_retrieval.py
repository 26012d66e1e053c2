"""Memory retrieval latency (p50/p95) at 1k and 10k memories per character, and embedding throughput.

Usage: python benchmarks/bench_retrieval.py [--sizes 1000 10000] [--queries 200]

Memories are synthetic but varied sentences; the store is a real Chroma
PersistentClient in a temporary folder with the shipped MiniLM embeddings.
Prints: embedding throughput (memories/s while indexing), and per size the p50/p95
of (a) Chroma's nearest-neighbour query alone (query vector precomputed) and
(b) the full ``MemoryStore.retrieve`` (embed the question + query + budget) with new
questions, (c) the same with the questions already embedded: every character after
the first and every trial is asked the same questions (embeddings are cached per
process), and ``plan_questions`` embeds a run's questions in one batch before any is
asked. Then a question's embedding alone and in a batch. Goal: ≤ 10 ms p50 at 10k.
The machine may be shared with other work: compare the ratios.
"""

from __future__ import annotations

import argparse
import functools
import random
import statistics
import tempfile
import time
from collections.abc import Callable

from personascope.memories.characters import Character
from personascope.memories.embeddings import MiniLMEmbeddingFunction, embed_questions
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


def timed(fn: Callable[[str], object], texts: list[str]) -> list[float]:
    """Milliseconds of ``fn(text)`` for each text."""
    out = []
    for text in texts:
        t = time.perf_counter()
        fn(text)
        out.append((time.perf_counter() - t) * 1000)
    return out


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
        f"{'retrieve p50 ms':>16} {'retrieve p95 ms':>16} {'warm p50 ms':>12} {'warm p95 ms':>12}"
    )
    results: dict[int, tuple[float, float, float]] = {}
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
            # Cold: each question embedded on its first use, one at a time (new texts).
            fresh = [f"{q} (size {n})" for q in questions]
            retrieve = functools.partial(store.retrieve, char, k=4, max_chars=1500)
            full = timed(retrieve, fresh)
            # Warm: the same questions again, as for every further character and trial
            # (embeddings cached per process), or after plan_questions embedded the run's
            # questions in one batch.
            warm = timed(retrieve, fresh)
            print(
                f"{n:>9} {rate:>8.0f} {pct(raw, 50):>13.2f} {pct(raw, 95):>13.2f} "
                f"{pct(full, 50):>16.2f} {pct(full, 95):>16.2f} {pct(warm, 50):>12.2f} {pct(warm, 95):>12.2f}"
            )
            results[n] = (pct(full, 50), pct(warm, 50), pct(warm, 95))
    # Batching: the run's questions embedded together (plan_questions) vs one by one.
    texts = [f"{q} (batch)" for q in questions]
    t = time.perf_counter()
    embed_questions(texts)
    batched = (time.perf_counter() - t) * 1000 / len(texts)
    single = statistics.median(timed(lambda q: embed_questions([q]), [f"{q} (single)" for q in questions]))
    print(f"embedding a question: {single:.2f} ms alone, {batched:.2f} ms in a batch of {len(texts)}")
    for n, (cold, hot, hot95) in results.items():
        print(
            f"{n} memories: retrieve p50 {cold:.2f} -> {hot:.2f} ms with the question embedded "
            f"(ratio {hot / cold:.2f}; p95 {hot95:.2f} ms; goal p50 <= 10 ms: "
            f"{'met' if hot <= 10 else 'not met'})"
        )


if __name__ == "__main__":
    main()
