"""The report page in a real browser: headless Chromium (Debian's package, installed by
scripts/setup-chromium.sh) driven by Playwright. Click into a run, read an answer and
the assessor's analysis, and check that the page asked the network for nothing."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from personascope.evaluation.page import experiment_page, write_page
from personascope.records import RunRecord

from report_fakes import write_experiment

pytestmark = pytest.mark.integration


def _chromium() -> str:
    found = (
        os.environ.get("PERSONASCOPE_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )
    if not found:
        pytest.skip("no chromium: run scripts/setup-chromium.sh (scripts/test.sh does)")
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # --no-sandbox: the tests may run as root (CI), where Chromium's sandbox refuses to start.
        b = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[RunRecord]]:
    exp = tmp_path_factory.mktemp("exp")
    return exp, write_experiment(exp, n_characters=3, temperatures=(0.0,))


def _open(browser: Any, url: str) -> tuple[Any, list[str], list[str]]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    return page, requests, errors


def test_click_into_a_run_and_read_answer_and_analysis(
    browser: Any, experiment: tuple[Path, list[RunRecord]], tmp_path: Path
) -> None:
    exp, records = experiment
    html, _ = experiment_page(exp)
    path = write_page(html, tmp_path / "report.html")
    page, requests, errors = _open(browser, path.as_uri())

    page.click("#nav a[data-view='runs']")
    page.select_option("select[name='character']", "character-01")
    page.select_option("select[name='method']", "er_batch")
    rows = page.locator("tr.clickable")
    assert rows.count() == 2  # character-01, expert rating, T=0, trials 0 and 1
    rows.first.locator("td").first.click()
    page.wait_for_selector("article.item")
    title = page.locator("main h2").first.inner_text()
    trial = int(title.rsplit("trial ", 1)[1])
    rec = next(r for r in records if (r.character, r.method, r.trial) == ("character-01", "er_batch", trial))

    first = page.locator("article.item").first
    answer = first.locator(".answer")
    assert answer.is_visible() and answer.inner_text() == rec.transcript[0]["answer"]
    analysis = first.locator(".assess .analysis")
    assert analysis.is_visible() and analysis.inner_text() == rec.dimension_ratings[0]["analysis"]
    first.locator("details.mem summary").click()
    memories = first.locator("details.mem li")
    assert memories.first.is_visible()
    assert memories.all_inner_texts() == rec.transcript[0].get("memories")
    shot = tmp_path / "run.png"  # the run as a reader sees it: question, memories, answer, analysis
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 10_000

    # a score links to the items behind it: only that dimension's items remain
    page.click("main table a:text('Agreeableness')")
    page.wait_for_function("location.hash.includes('dim=agreeableness')")
    dims = page.locator("article.item header span:nth-of-type(1)").all_inner_texts()
    assert len(dims) == 20 and set(dims) == {"Agreeableness"}

    # the characters' profiles are drawn by the bundled Plotly
    page.click("#nav a[data-view='characters']")
    page.wait_for_selector(".chart .main-svg", timeout=30_000)

    page.screenshot(path=str(tmp_path / "profiles.png"), full_page=False)
    assert errors == []
    assert requests == [path.as_uri()]  # the file itself, and nothing from any network
    page.close()


def test_live_page_asks_only_its_own_server(browser: Any, experiment: tuple[Path, list[RunRecord]]) -> None:
    from personascope.cli.view import page_server

    exp, _ = experiment
    server = page_server(lambda: experiment_page(exp, live=True)[0])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        host, port = server.server_address[:2]
        url = f"http://{host!s}:{port}/"
        page, requests, errors = _open(browser, url)
        assert page.locator("#live").is_visible()
        page.click("#nav a[data-view='figures']")
        page.wait_for_selector(".chart .main-svg", timeout=30_000)
        assert errors == [] and requests == [url]
        page.close()
    finally:
        server.shutdown()
        server.server_close()
