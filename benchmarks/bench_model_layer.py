"""Tokens/s of the raw llama.cpp server vs the same requests through personascope.

Usage: python benchmarks/bench_model_layer.py [--model smollm2|qwen2.5-1.5b] [--requests 8]

Starts one embedded server, then for parallelism 1 and 4 sends the same chat
requests (a) straight to /v1/chat/completions with httpx and (b) through
personascope's model layer (resolve_model → LangChain ChatOpenAI, retries,
per-endpoint limit), and prints generated tokens per second and the ratio b/a
(target ≥ 0.90). Runs are interleaved so drift hits both sides alike.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx

from personascope.agents.local_server import LlamaServer, model_path
from personascope.agents.models import LocalChatOpenAI

QUESTIONS = [
    "Do you enjoy large parties?",
    "Do you worry about things?",
    "Are you always prepared?",
    "Do you trust others?",
    "Do you love to daydream?",
    "Do you take charge?",
    "Do you get angry easily?",
    "Do you love to help others?",
]
SYSTEM = "You are Sherlock Holmes. Answer in character in about three sentences."
MAX_TOKENS = 64


def _messages(i: int) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}]


async def raw(server: LlamaServer, n: int, par: int) -> tuple[int, float]:
    sem = asyncio.Semaphore(par)
    async with httpx.AsyncClient(timeout=300) as client:

        async def one(i: int) -> int:
            async with sem:
                r = await client.post(
                    f"{server.base_url}/chat/completions",
                    json={
                        "model": server.alias,
                        "messages": _messages(i),
                        "max_tokens": MAX_TOKENS,
                        "temperature": 0.0,
                        "seed": 0,
                        "repeat_penalty": 1.1,
                    },
                )
                r.raise_for_status()
                return int(r.json()["usage"]["completion_tokens"])

        t = time.perf_counter()
        tokens = sum(await asyncio.gather(*(one(i) for i in range(n))))
        return tokens, time.perf_counter() - t


async def layer(server: LlamaServer, n: int, par: int) -> tuple[int, float]:
    model = LocalChatOpenAI(
        model=server.alias,
        base_url=server.base_url,
        api_key="x",  # type: ignore[arg-type]
        max_tokens=MAX_TOKENS,
        temperature=0.0,
        seed=0,
        legacy_max_tokens=True,
        max_concurrency=par,
        extra_body={"repeat_penalty": 1.1},
    )
    t = time.perf_counter()
    outs = await asyncio.gather(*(model.ainvoke(_messages(i)) for i in range(n)))
    elapsed = time.perf_counter() - t
    tokens = sum(int((o.usage_metadata or {}).get("output_tokens", 0)) for o in outs)
    return tokens, elapsed


async def run(server: LlamaServer, args: argparse.Namespace) -> None:
    # One event loop for everything: the OpenAI client's connection pool is bound to it.
    await raw(server, 2, 1)  # warm-up
    print(f"model={args.model} requests={args.requests} max_tokens={MAX_TOKENS}")
    print(f"{'parallelism':>11} {'raw tok/s':>10} {'layer tok/s':>12} {'ratio':>6}")
    for par in (1, 4):
        rt = rs = lt = ls = 0.0
        for r in range(args.rounds):
            # Alternate which side goes first, so warm-up and drift favour neither.
            if r % 2 == 0:
                a, b = await raw(server, args.requests, par)
                c, d = await layer(server, args.requests, par)
            else:
                c, d = await layer(server, args.requests, par)
                a, b = await raw(server, args.requests, par)
            rt, rs, lt, ls = rt + a, rs + b, lt + c, ls + d
        print(f"{par:>11} {rt / rs:>10.1f} {lt / ls:>12.1f} {(lt / ls) / (rt / rs):>6.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--requests", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=4)
    args = ap.parse_args()
    with LlamaServer(model=model_path(args.model), alias="bench") as server:
        asyncio.run(run(server, args))


if __name__ == "__main__":
    main()
