"""API keys come from the environment only and never land anywhere else."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from personascope import results
from personascope.cli import main
from personascope.graphs.runner import ExperimentSpec, run_experiment

from faulty_openai import FaultyOpenAI

CANARY = "sk-canary-7f3a9c1e5b2d"


def _files_contain(root: Path, needle: bytes) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_key_never_leaks(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PERSONASCOPE_API_KEY", CANARY)
    caplog.set_level(logging.DEBUG)
    exp = tmp_path / "exp"
    with FaultyOpenAI(fault_rate=0.2, seed=3, hang_seconds=1.5) as stub:
        spec = ExperimentSpec(
            characters=["alice"],
            scales=["ipip-bfm-50"],
            methods=["oc"],
            rpa_models=[f"openai-compatible:rpa@{stub.base_url}"],
            assessor_models=[f"openai-compatible:assessor@{stub.base_url}"],
            context={"k": 0, "request_timeout": 1.0, "max_retries": 1},
        )
        outcomes = asyncio.run(run_experiment(spec, exp))
    assert outcomes[0].status == "ran"
    assert stub.auth_headers == {f"Bearer {CANARY}"}, "the key from the environment is what was sent"
    # Failures happened (max_retries=1 against 20 % faults), and their messages are clean.
    rec = results.load_records(exp)[0]
    assert rec["failures"], "the test should exercise the error paths"
    for fmt in ("csv", "parquet", "jsonl"):
        results.export(exp, tmp_path / f"out.{fmt}", fmt)
    assert main(["report", str(exp), "--out", str(tmp_path / "report.html")]) == 0
    assert main(["evaluate", str(exp), "--out", str(tmp_path / "eval")]) == 0
    out = capsys.readouterr()
    assert _files_contain(tmp_path, CANARY.encode()) == []
    assert CANARY not in out.out + out.err
    assert CANARY not in caplog.text


def test_http_client_errors_do_not_carry_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from personascope.agents.local_server import free_port
    from personascope.agents.models import ModelParams, resolve_model

    monkeypatch.setenv("PERSONASCOPE_API_KEY", CANARY)
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    refused = resolve_model(
        f"openai-compatible:m@http://127.0.0.1:{free_port()}/v1", ModelParams(max_retries=0, timeout=2)
    )
    with pytest.raises(Exception) as info:
        refused.invoke("hi")
    assert CANARY not in str(info.value) and CANARY not in repr(info.value)
    with FaultyOpenAI(fault_rate=1.0, faults=("500",)) as stub:
        failing = resolve_model(f"openai-compatible:m@{stub.base_url}", ModelParams(max_retries=0))
        with pytest.raises(Exception) as info:
            failing.invoke("hi")
    assert CANARY not in str(info.value)
    model = resolve_model("openai:gpt-4o-mini")
    assert CANARY not in repr(model) and CANARY not in str(model.model_dump())


def test_servers_bind_loopback_by_default() -> None:
    from personascope.agents.local_server import LlamaServer
    from personascope.cli import build_parser

    assert LlamaServer.__dataclass_fields__["host"].default == "127.0.0.1"
    args = build_parser().parse_args(["serve-model"])
    assert args.host == "127.0.0.1"
    with FaultyOpenAI(fault_rate=0.0) as stub:
        assert stub.server.server_address[0] == "127.0.0.1"
