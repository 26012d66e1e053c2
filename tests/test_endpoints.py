"""Several OpenAI-compatible servers behind one model spec: round-robin, failover, probes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import SecretStr

from personascope import results
from personascope.agents.endpoints import EndpointPool, pool_clients, register_pools
from personascope.agents.models import ModelParams, PersonaChatOpenAI, parse_spec, resolve_model
from personascope.errors import InputError
from personascope.graphs.runner import ExperimentSpec, run_experiment

from faulty_openai import FaultyOpenAI
from stub_openai import StubOpenAI


def _ask(model: PersonaChatOpenAI, n: int) -> list[str]:
    async def go() -> list[str]:
        outs = await asyncio.gather(*(model.ainvoke(f"question {i}") for i in range(n)))
        return [str(o.content) for o in outs]

    return asyncio.run(go())


def _model(urls: list[str], pool: EndpointPool | None = None) -> PersonaChatOpenAI:
    pool = pool or EndpointPool(urls, cooldown=0.3)
    return PersonaChatOpenAI(
        model="m", api_key=SecretStr("x"), base_url=urls[0], max_retries=0, **pool_clients(pool, 5.0)
    )


def test_specs_name_a_fleet_inline_or_by_pool_name() -> None:
    spec = parse_spec("openai-compatible:m@http://127.0.0.1:1/v1,http://127.0.0.1:2/v1/")
    assert spec.base_url == "http://127.0.0.1:1/v1,http://127.0.0.1:2/v1"
    model = resolve_model(spec.text, ModelParams(max_concurrency=3))
    assert isinstance(model, PersonaChatOpenAI)
    assert model.openai_api_base == "http://127.0.0.1:1/v1" and model.max_concurrency == 6
    with pytest.raises(InputError) as info:
        parse_spec("openai-compatible:m@gpu-fleet")
    assert info.value.field == "base_url" and "pool name" in info.value.detail
    register_pools({"gpu-fleet": ["http://127.0.0.1:1/v1", "http://127.0.0.1:2/v1"]})
    assert parse_spec("openai-compatible:m@gpu-fleet").base_url == "gpu-fleet"
    with pytest.raises(InputError):
        parse_spec("openai-compatible:m@http://127.0.0.1:1/v1,ftp://x")


def test_round_robin_spreads_requests_evenly() -> None:
    with StubOpenAI() as a, StubOpenAI() as b, StubOpenAI() as c:
        outs = _ask(_model([a.base_url, b.base_url, c.base_url]), 30)
        assert outs == [f"echo: question {i}" for i in range(30)]
        assert [len(s.requests) for s in (a, b, c)] == [10, 10, 10]


def test_sync_calls_use_the_pool_too() -> None:
    with StubOpenAI() as dead:
        dead_url = dead.base_url
    with StubOpenAI() as a, StubOpenAI() as b:
        model = _model([dead_url, a.base_url, b.base_url])
        assert [model.invoke(f"q{i}").content for i in range(6)] == [f"echo: q{i}" for i in range(6)]
        assert (len(a.requests), len(b.requests)) == (3, 3)


def test_a_dead_server_is_skipped_and_requests_still_succeed() -> None:
    with StubOpenAI() as dead:
        dead_url = dead.base_url
    # `dead` is closed: connections to it are refused.
    with StubOpenAI() as a, StubOpenAI() as b:
        pool = EndpointPool([dead_url, a.base_url, b.base_url], cooldown=60)
        outs = _ask(_model(pool.urls, pool), 20)
        assert len(outs) == 20
        assert len(a.requests) + len(b.requests) == 20
        assert pool.failures[dead_url] >= 1 and dead_url not in pool.healthy()
        assert abs(len(a.requests) - len(b.requests)) <= 4


def test_an_unhealthy_server_sits_out_then_is_probed_back_in() -> None:
    with StubOpenAI(default=503) as sick, StubOpenAI() as ok:
        pool = EndpointPool([sick.base_url, ok.base_url], cooldown=0.3)
        model = _model(pool.urls, pool)

        async def scenario() -> None:
            for i in range(6):
                await model.ainvoke(f"question {i}")
            assert len(sick.requests) == 1, "after one 503 the server is out of the rotation"
            assert sick.base_url not in pool.healthy()
            sick.default = "ok"  # it recovers
            await asyncio.sleep(0.4)
            for i in range(6):
                await model.ainvoke(f"question {i}")

        asyncio.run(scenario())
        assert sick.probes >= 1 and len(sick.requests) >= 3, "probed, then back in the rotation"
        assert sick.base_url in pool.healthy()


def test_all_servers_down_is_an_error_not_a_hang() -> None:
    with StubOpenAI() as a:
        url = a.base_url
    with pytest.raises(Exception, match=r"Connection|connect"):
        _ask(_model([url, url.replace("/v1", "/v2")]), 1)


def test_experiment_on_a_named_fleet(tmp_path: Path) -> None:
    with FaultyOpenAI(fault_rate=0.0) as a, FaultyOpenAI(fault_rate=0.0) as b:
        spec = ExperimentSpec(
            characters=["alice"],
            scales=["ipip-bfm-50"],
            rpa_models=["openai-compatible:rpa@fleet"],
            assessor_models=["openai-compatible:assessor@fleet"],
            endpoints={"fleet": [a.base_url, b.base_url]},
            context={"k": 0},
        )
        outcomes = asyncio.run(run_experiment(spec, tmp_path))
        assert [o.status for o in outcomes] == ["ran"]
        n_a, n_b = len(a.requests), len(b.requests)
        assert n_a + n_b == 50 + 15 and abs(n_a - n_b) <= 2
    rec = results.load_records(tmp_path)[0]
    # The run is named by the pool, not its URLs: a new fleet resumes the same runs.
    assert rec["rpa_model"] == "openai-compatible:rpa@fleet"
    assert not rec["failures"]
    with pytest.raises(ValueError, match="http"):
        ExperimentSpec(characters=["alice"], scales=["ipip-bfm-50"], endpoints={"fleet": ["gpu1:8000"]})


def test_a_spec_may_only_use_the_pools_it_lists(tmp_path: Path) -> None:
    from personascope.graphs.runner import check_spec

    register_pools({"leftover": ["http://127.0.0.1:1/v1"]})  # from an earlier experiment
    spec = ExperimentSpec(
        characters=["alice"], scales=["ipip-bfm-50"], interviewer_model="openai-compatible:m@leftover"
    )
    with pytest.raises(InputError) as info:
        check_spec(spec, "spec.yaml")
    assert info.value.field == "interviewer_model" and "not a pool name listed" in info.value.detail
    check_spec(spec.model_copy(update={"endpoints": {"leftover": ["http://127.0.0.1:2/v1"]}}), "spec.yaml")
