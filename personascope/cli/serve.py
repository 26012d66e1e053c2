"""``personascope serve-model``: the embedded llama.cpp server in the foreground."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from personascope.cli._common import Subparsers, arg, command
from personascope.errors import InputError
from personascope.safeio import redact


def _serve(args: argparse.Namespace) -> int:
    from personascope.agents.local_server import LlamaServer, LocalModelError, model_path
    from personascope.agents.models import parse_spec

    spec = parse_spec(args.model)
    if spec.provider != "local":
        raise InputError(args.model, "model", "serve-model serves local models only (local:...)")
    kwargs = {"n_threads": args.threads} if args.threads else {}
    server = LlamaServer(
        model=model_path(spec.model),
        alias=args.alias,
        host=args.host,
        port=args.port,
        n_ctx=args.ctx,
        **kwargs,
    )
    try:
        server.start()
    except LocalModelError as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return 1
    print(f"serving {server.model.name} at {server.base_url} (model name {args.alias!r})")
    print(f"use it with: --model 'openai-compatible:{args.alias}@{server.base_url}'", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while server.running and not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def register(sub: Subparsers) -> None:
    command(
        sub,
        "serve-model",
        "run the embedded llama.cpp server in the foreground",
        _serve,
        arg("--model", default="local", help="local, local:smollm2 or local:/path/model.gguf"),
        arg("--host", default="127.0.0.1", help="bind address (default: loopback only)"),
        arg("--port", type=int, default=None, help="port (default: a free one)"),
        arg("--alias", default="local", help="model name the server answers to"),
        arg("--threads", type=int, default=None, help="CPU threads (default: all cores)"),
        arg("--ctx", type=int, default=4096, help="context size in tokens"),
    )
