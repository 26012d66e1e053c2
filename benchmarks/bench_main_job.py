"""The main job's wall time against what the embedded models allow.

Usage: python benchmarks/bench_main_job.py [--method oc_item] [--model local:smollm2]
       [--assessor local] [--character sherlock-holmes] [--scale ipip-bfm-50] [--max-tokens N]

Runs ``personascope run`` (the README's main job by default) into a fresh folder and
prints its wall time, the tokens in and out per role (RPA, assessor) from the run
record, and a bound: every prompt token at the measured prompt-evaluation speed plus
every output token at the measured decode speed of each model (measured here, right
after the job, on a fresh prompt of about 500 tokens and a 64-token answer). The ratio
job / bound says how much the engine and its requests cost beyond the model's own work;
below 1 means prefix caching saved prompt evaluation the bound counts. Run it on an
otherwise idle machine: any other load shows up in the ratio.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from personascope import results
from personascope.agents.local_server import shared_server
from personascope.agents.models import parse_spec

FILLER = " ".join(f"The {i}th note says the weather was mild and the tea was hot." for i in range(40))


def speeds(model: str) -> tuple[float, float]:
    """(prompt tokens / s, output tokens / s) of ``local:<model>`` on fresh prompts."""
    server = shared_server(model)
    url = f"{server.base_url}/chat/completions"
    with httpx.Client(timeout=600) as client:

        def call(text: str, max_tokens: int) -> tuple[float, dict[str, int]]:
            t = time.perf_counter()
            body = {
                "model": server.alias,
                "messages": [{"role": "user", "content": text}],
                "max_tokens": max_tokens,
                "temperature": 0.0,
                "min_tokens": max_tokens,
            }
            r = client.post(url, json=body)
            r.raise_for_status()
            return time.perf_counter() - t, r.json()["usage"]

        call("warm up", 1)
        stamp = str(time.time_ns())  # a prompt the server has never seen: nothing cached
        t_prompt, usage = call(f"{stamp} {FILLER} Reply with one word.", 1)
        prompt_speed = usage["prompt_tokens"] / t_prompt
        t_decode, usage = call(f"{stamp} Count from one to one hundred in words.", 64)
        decode_time = max(1e-6, t_decode - usage["prompt_tokens"] / prompt_speed)
        return prompt_speed, usage["completion_tokens"] / decode_time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--character", default="sherlock-holmes")
    parser.add_argument("--scale", default="ipip-bfm-50")
    parser.add_argument("--method", default=None, help="default: the CLI's default method")
    parser.add_argument("--model", default="local:smollm2")
    parser.add_argument("--assessor", default="local")
    parser.add_argument("--max-tokens", type=int, default=None, help="longest RPA answer (default: run's)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-main-job-")) / "run"
    cmd = [
        sys.executable,
        "-m",
        "personascope.cli",
        "run",
        "--character",
        args.character,
        "--scale",
        args.scale,
        "--model",
        args.model,
        "--assessor",
        args.assessor,
        "--dir",
        str(folder),
    ]
    if args.method:
        cmd += ["--method", args.method]
    if args.max_tokens:
        cmd += ["--max-tokens", str(args.max_tokens)]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t
    print(proc.stdout[-4000:])
    if proc.returncode not in (0, 1):
        print(proc.stderr[-2000:], file=sys.stderr)
        return proc.returncode
    (record,) = results.run_records(folder)
    bound = 0.0
    print(
        f"{'role':10} {'model':28} {'tokens in':>10} {'tokens out':>10} {'prompt t/s':>10} {'decode t/s':>10}"
    )
    for role, spec in (("rpa", args.model), ("assessor", args.assessor)):
        usage = record.usage.get(role, {})
        tokens_in = sum(u.get("input_tokens", 0) for u in usage.values())
        tokens_out = sum(u.get("output_tokens", 0) for u in usage.values())
        parsed = parse_spec(spec)
        if parsed.provider != "local" or not (tokens_in or tokens_out):
            print(f"{role:10} {spec:28} {tokens_in:>10} {tokens_out:>10}  (not a local model: not bounded)")
            continue
        p_speed, d_speed = speeds(parsed.model)
        bound += tokens_in / p_speed + tokens_out / d_speed
        print(f"{role:10} {spec:28} {tokens_in:>10} {tokens_out:>10} {p_speed:>10.1f} {d_speed:>10.1f}")
    print(f"wall {wall:.1f} s (process start, model server start-up and memory indexing included)")
    if bound:
        print(
            f"bound {bound:.1f} s (every prompt token evaluated, no prefix cache); ratio {wall / bound:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
