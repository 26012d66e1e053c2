"""Table-driven bad inputs through the CLI: one clear line, exit 2, nothing partial written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from personascope.cli import main

GOOD_SCALE = """id: mini
name: Mini
scoring: AVG
range: [1, 5]
response_options: [{value: 1, label: never}, {value: 5, label: always}]
dimensions: [{id: E, name: Extraversion}]
items: [{id: '1', text: Talkative., dimension: E, key: '+'}]
"""
GOOD_CHAR = """id: tim
name: Tiny Tim
experimenter: Bob
description: You are Tiny Tim.
memories: [God bless us, every one!]
"""

# (name, files to write {name: content}, argv with {tmp} placeholders, expected fragments)
CASES: list[tuple[str, dict[str, str], list[str], list[str]]] = [
    # scale files
    (
        "scale: invalid yaml",
        {"s.yaml": "id: [x"},
        ["scales", "validate", "{tmp}/s.yaml"],
        ["s.yaml", "invalid YAML"],
    ),
    (
        "scale: missing items",
        {"s.yaml": GOOD_SCALE.replace("items:", "itemz:")},
        ["scales", "validate", "{tmp}/s.yaml"],
        ["s.yaml", "items", "required"],
    ),
    (
        "scale: bad key",
        {"s.yaml": GOOD_SCALE.replace("key: '+'", "key: up")},
        ["scales", "validate", "{tmp}/s.yaml"],
        ["items[1].key"],
    ),
    (
        "scale: value outside range",
        {"s.yaml": GOOD_SCALE.replace("value: 5", "value: 9")},
        ["scales", "validate", "{tmp}/s.yaml"],
        ["response_options", "outside range"],
    ),
    (
        "scale: unknown dimension",
        {"s.yaml": GOOD_SCALE.replace("dimension: E", "dimension: Q")},
        ["scales", "validate", "{tmp}/s.yaml"],
        ["items[1].dimension", "not a dimension"],
    ),
    ("scale: missing file", {}, ["scales", "validate", "{tmp}/nope.yaml"], ["nope.yaml", "does not exist"]),
    ("scale: not utf-8", {"s.yaml": "\udcff"}, ["scales", "validate", "{tmp}/s.yaml"], ["s.yaml"]),
    ("scale show: unknown id", {}, ["scales", "show", "mmpi-2"], ["mmpi-2", "not a built-in scale"]),
    # character files
    (
        "character: missing description",
        {"c.yaml": GOOD_CHAR.replace("description: You are Tiny Tim.\n", "")},
        ["characters", "validate", "{tmp}/c.yaml"],
        ["c.yaml", "description", "required"],
    ),
    (
        "character: bad label type",
        {"c.yaml": GOOD_CHAR + "labels: {ipip-bfm-50: {extraversion: {type: M}}}\n"},
        ["characters", "validate", "{tmp}/c.yaml"],
        ["labels.ipip-bfm-50.extraversion.type"],
    ),
    (
        "character: unknown label dimension",
        {"c.yaml": GOOD_CHAR + "labels: {ipip-bfm-50: {charm: {type: H}}}\n"},
        ["characters", "validate", "{tmp}/c.yaml"],
        ["labels.ipip-bfm-50.charm", "not a dimension"],
    ),
    (
        "character: missing memory file",
        {"c.yaml": GOOD_CHAR + "memories_file: gone.txt\n"},
        ["characters", "validate", "{tmp}/c.yaml"],
        ["memories_file", "does not exist"],
    ),
    (
        "character: empty memory",
        {"c.yaml": GOOD_CHAR.replace("[God bless us, every one!]", "['  ']")},
        ["characters", "validate", "{tmp}/c.yaml"],
        ["memories[0]", "empty memory"],
    ),
    (
        "character: not a mapping",
        {"c.yaml": "- a\n- b\n"},
        ["characters", "validate", "{tmp}/c.yaml"],
        ["(top level)", "mapping"],
    ),
    (
        "character show: unknown id",
        {},
        ["characters", "show", "moriarty"],
        ["moriarty", "not a shipped character"],
    ),
    # experiment specs
    (
        "spec: Ray without a shared database",
        {"x.yaml": "characters: [alice]\nscales: [ipip-bfm-50]\n"},
        ["experiment", "{tmp}/x.yaml", "--dir", "{tmp}/exp", "--executor", "ray"],
        ["x.yaml", "database", "postgresql://"],
    ),
    (
        "cli: --address without Ray",
        {"x.yaml": "characters: [alice]\nscales: [ipip-bfm-50]\n"},
        ["experiment", "{tmp}/x.yaml", "--dir", "{tmp}/exp", "--address", "auto"],
        ["--address", "--executor ray"],
    ),
    (
        "spec: unknown endpoint pool",
        {"x.yaml": "characters: [alice]\nscales: [ipip-bfm-50]\nrpa_models: ['openai-compatible:m@fleet']\n"},
        ["experiment", "{tmp}/x.yaml", "--dir", "{tmp}/exp"],
        ["rpa_models[0]", "pool name"],
    ),
    (
        "spec: endpoint pool without URLs",
        {"x.yaml": "characters: [alice]\nscales: [ipip-bfm-50]\nendpoints: {fleet: ['gpu1:8000']}\n"},
        ["experiment", "{tmp}/x.yaml", "--dir", "{tmp}/exp"],
        ["x.yaml", "endpoints", "http"],
    ),
    (
        "spec: database that is not PostgreSQL",
        {"x.yaml": "characters: [alice]\nscales: [ipip-bfm-50]\ndatabase: mysql://db/x\n"},
        ["experiment", "{tmp}/x.yaml", "--dir", "{tmp}/exp"],
        ["x.yaml", "database", "postgresql://"],
    ),
    (
        "spec: database variable not set",
        {"x.yaml": "characters: [alice]\nscales: [ipip-bfm-50]\ndatabase: env:NO_SUCH_PS_DB\n"},
        ["experiment", "{tmp}/x.yaml", "--dir", "{tmp}/exp"],
        ["x.yaml", "database", "NO_SUCH_PS_DB"],
    ),
    (
        "spec: unknown character",
        {"x.yaml": "characters: [moriarty]\nscales: [ipip-bfm-50]\n"},
        ["experiment", "{tmp}/x.yaml", "--dir", "{tmp}/exp"],
        ["x.yaml", "characters[0]"],
    ),
    (
        "spec: unknown scale",
        {"x.yaml": "characters: [alice]\nscales: [mmpi]\n"},
        ["experiment", "{tmp}/x.yaml", "--dir", "{tmp}/exp"],
        ["scales[0]", "not a built-in scale"],
    ),
    (
        "spec: unknown method",
        {"x.yaml": "characters: [alice]\nscales: [ipip-bfm-50]\nmethods: [vibes]\n"},
        ["experiment", "{tmp}/x.yaml", "--dir", "{tmp}/exp"],
        ["methods.0"],
    ),
    (
        "spec: bad model spec",
        {"x.yaml": "characters: [alice]\nscales: [ipip-bfm-50]\nrpa_models: [gpt4]\n"},
        ["experiment", "{tmp}/x.yaml", "--dir", "{tmp}/exp"],
        ["rpa_models[0]", "unknown provider"],
    ),
    (
        "spec: temperature out of range",
        {"x.yaml": "characters: [alice]\nscales: [ipip-bfm-50]\ntemperatures: [5]\n"},
        ["experiment", "{tmp}/x.yaml", "--dir", "{tmp}/exp"],
        ["temperatures", "[0, 2]"],
    ),
    (
        "spec: zero trials",
        {"x.yaml": "characters: [alice]\nscales: [ipip-bfm-50]\ntrials: 0\n"},
        ["experiment", "{tmp}/x.yaml", "--dir", "{tmp}/exp"],
        ["trials"],
    ),
    (
        "spec: unknown field",
        {"x.yaml": "characters: [alice]\nscales: [ipip-bfm-50]\nrepeats: 3\n"},
        ["experiment", "{tmp}/x.yaml", "--dir", "{tmp}/exp"],
        ["repeats", "unknown field"],
    ),
    (
        "spec: unknown context field",
        {"x.yaml": "characters: [alice]\nscales: [ipip-bfm-50]\ncontext: {temprature: 1}\n"},
        ["experiment", "{tmp}/x.yaml", "--dir", "{tmp}/exp"],
        ["context", "temprature"],
    ),
    (
        "spec: invalid json",
        {"x.json": '{"characters": ["alice"],}'},
        ["experiment", "{tmp}/x.json", "--dir", "{tmp}/exp"],
        ["x.json", "invalid JSON"],
    ),
    (
        "spec: missing file",
        {},
        ["experiment", "{tmp}/none.yaml", "--dir", "{tmp}/exp"],
        ["none.yaml", "does not exist"],
    ),
    # answers and labels files
    (
        "answers: out of range",
        {"a.yaml": "answers: {E1: 7}\n"},
        ["score", "--scale", "ipip-bfm-50", "--answers", "{tmp}/a.yaml"],
        ["a.yaml", "answers[E1]", "outside"],
    ),
    (
        "answers: unknown item",
        {"a.yaml": "answers: {Z9: 3}\n"},
        ["score", "--scale", "ipip-bfm-50", "--answers", "{tmp}/a.yaml"],
        ["answers[Z9]", "not an item"],
    ),
    (
        "answers: text value",
        {"a.yaml": "answers: {E1: often}\n"},
        ["score", "--scale", "ipip-bfm-50", "--answers", "{tmp}/a.yaml"],
        ["answers[E1]", "number or null"],
    ),
    (
        "answers: empty",
        {"a.yaml": "{}\n"},
        ["score", "--scale", "ipip-bfm-50", "--answers", "{tmp}/a.yaml"],
        ["a.yaml", "non-empty mapping"],
    ),
    (
        "labels: bad type",
        {"l.yaml": "alice: {ipip-bfm-50: {extraversion: {type: Q}}}\n"},
        ["evaluate", "{exp}", "--labels", "{tmp}/l.yaml", "--out", "{tmp}/ev"],
        ["l.yaml", "alice.ipip-bfm-50.extraversion.type"],
    ),
    (
        "labels: not a mapping",
        {"l.yaml": "- alice\n"},
        ["evaluate", "{exp}", "--labels", "{tmp}/l.yaml", "--out", "{tmp}/ev"],
        ["l.yaml", "(top level)"],
    ),
    # CLI arguments
    (
        "cli: run unknown character",
        {},
        ["run", "--character", "moriarty", "--scale", "ipip-bfm-50", "--dir", "{tmp}/exp"],
        ["characters[0]", "moriarty"],
    ),
    (
        "cli: run bad model spec",
        {},
        [
            "run",
            "--character",
            "alice",
            "--scale",
            "ipip-bfm-50",
            "--model",
            "claude:opus",
            "--dir",
            "{tmp}/exp",
        ],
        ["rpa_models[0]", "unknown provider"],
    ),
    (
        "cli: report without results",
        {},
        ["report", "{tmp}", "--out", "{tmp}/r.html"],
        ["results.sqlite", "no results"],
    ),
    (
        "cli: export without results",
        {},
        ["results", "export", "{tmp}", "--out", "{tmp}/x.csv"],
        ["results.sqlite", "no results"],
    ),
    # experiment directories (issue 15 items 8, 9)
    (
        "cli: --dir in /proc",
        {},
        [
            "run",
            "--character",
            "alice",
            "--scale",
            "ipip-bfm-50",
            "--model",
            "fake:echo",
            "--dir",
            "/proc/ps",
        ],
        ["/proc/ps", "--dir", "cannot write"],
    ),
    (
        "cli: --dir is /proc",
        {},
        ["run", "--character", "alice", "--scale", "ipip-bfm-50", "--model", "fake:echo", "--dir", "/proc"],
        ["/proc", "--dir", "cannot write"],
    ),
    (
        "cli: --dir under a file",
        {"f.txt": "x"},
        [
            "run",
            "--character",
            "alice",
            "--scale",
            "ipip-bfm-50",
            "--model",
            "fake:echo",
            "--dir",
            "{tmp}/f.txt/e",
        ],
        ["f.txt/e", "--dir", "cannot write"],
    ),
    (
        "cli: run into a directory holding another run",
        {"exp/spec.yaml": "name: other\ncharacters: [bob]\nscales: [ipip-bfm-50]\n"},
        ["run", "--character", "alice", "--scale", "ipip-bfm-50", "--dir", "{tmp}/exp"],
        ["exp", "--resume", "already has runs"],
    ),
    (
        "cli: resume with a changed spec",
        {
            "exp/spec.yaml": "characters: [alice]\nscales: [ipip-bfm-50]\ntrials: 1\n",
            "x.yaml": "characters: [alice]\nscales: [ipip-bfm-50]\ntrials: 2\n",
        },
        ["experiment", "{tmp}/x.yaml", "--dir", "{tmp}/exp", "--resume"],
        ["spec.yaml", "trials: 1 → 2", "--force"],
    ),
    (
        "cli: export to .xlsx",
        {},
        ["results", "export", "{exp}", "--out", "{tmp}/x.xlsx"],
        ["x.xlsx", "--out", ".csv, .parquet or .jsonl"],
    ),
    (
        "cli: export format and suffix disagree",
        {},
        ["results", "export", "{exp}", "--out", "{tmp}/x.csv", "--format", "parquet"],
        ["x.csv", "--format parquet writes a .parquet file"],
    ),
    (
        "cli: report to .pdf",
        {},
        ["report", "{exp}", "--out", "{tmp}/r.pdf"],
        ["r.pdf", "--out", ".html"],
    ),
    (
        "cli: serve-model non-local",
        {},
        ["serve-model", "--model", "openai:gpt-4o"],
        ["serve-model serves local"],
    ),
    (
        "cli: serve-model bad gguf",
        {"m.gguf": "not a model"},
        ["serve-model", "--model", "local:{tmp}/m.gguf"],
        ["not a GGUF file"],
    ),
]


@pytest.fixture(scope="module")
def finished_experiment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An experiment with results, for the label-file cases."""
    import asyncio

    from personascope.graphs.runner import ExperimentSpec, run_experiment

    from graph_fakes import RecordingRPA, er_assessor

    exp = tmp_path_factory.mktemp("done")
    asyncio.run(
        run_experiment(
            ExperimentSpec(characters=["alice"], scales=["ipip-bfm-50"]),
            exp,
            rpa=RecordingRPA(),
            assessor=er_assessor(),
        )
    )
    return exp


def _snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize(("name", "files", "argv", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_input(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    finished_experiment: Path,
    name: str,
    files: dict[str, str],
    argv: list[str],
    expected: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    for fname, content in files.items():
        path = tmp_path / fname
        path.parent.mkdir(parents=True, exist_ok=True)
        if "\udcff" in content:
            path.write_bytes(b"id: \xff\xfe\n")
        else:
            path.write_text(content)
    before = _snapshot(tmp_path)
    exp_before = _snapshot(finished_experiment)
    args = [a.replace("{tmp}", str(tmp_path)).replace("{exp}", str(finished_experiment)) for a in argv]
    code = main(args)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for fragment in expected:
        assert fragment in lines[0], (fragment, lines[0])
    assert _snapshot(tmp_path) == before, "nothing may be written on bad input"
    assert _snapshot(finished_experiment) == exp_before


def test_there_are_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30


def test_argparse_errors_exit_nonzero(capsys: pytest.CaptureFixture[str]) -> None:
    bad: list[Callable[[], object]] = [
        lambda: main(["run", "--scale", "ipip-bfm-50"]),  # missing --character
        lambda: main(["run", "--character", "alice", "--scale", "ipip-bfm-50", "--method", "vibes"]),
        lambda: main(["results", "export", "x", "--out", "y", "--format", "xlsx"]),
    ]
    for call in bad:
        with pytest.raises(SystemExit) as info:
            call()
        assert info.value.code == 2
    assert "error:" in capsys.readouterr().err
