"""Importers for the questionnaire formats of InCharacter and PsychoBench.

Both formats are read unchanged. Facts their own code relies on, honoured here:

* InCharacter: reverse keying comes from each item's ``category`` (``positive`` /
  ``negative``; for 16Personalities the pole letter, positive when it equals the
  first letter of the dimension name such as ``"E/I"``), not from the top-level
  ``reverse`` list; items whose ``dimension`` is null are unscored fillers;
  ``range`` is the option range. 16Personalities is scored as a percentage
  towards the first pole (InCharacter's ``(score - 1) / 6 * 100``), which is what
  its human labels use; other scales follow their ``compute_mode``.
* InCharacter's LOT-R file leaves item 9 ("I rarely count on good things happening
  to me.") without a dimension although its own ``categories`` and ``reverse`` list it;
  the LOT-R scores six items, 1, 3, 4, 7, 9 and 10 (3, 7 and 9 reversed; 2, 5, 6 and 8
  are fillers), summed to 0-24 on 0-4 options (Scheier, M. F., Carver, C. S. &
  Bridges, M. W. (1994). Distinguishing optimism from neuroticism (and trait anxiety,
  self-mastery, and self-esteem): A reevaluation of the Life Orientation Test. Journal
  of Personality and Social Psychology, 67(6), 1063-1078). The importer scores item 9
  (:data:`_INCHARACTER_CORRECTIONS`); with 5 items the file's norm (a 6-item sum) would
  be misapplied. InCharacter's own code drops item 9, so its LOT-R numbers are 5-item.
* PsychoBench: ``questions`` maps id to text, ``reverse`` lists reverse-keyed ids,
  ``scale`` equals ``min + max`` of the options, ``categories`` assign items to
  dimensions, and items in no category are unscored.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from personascope.errors import InputError, from_validation_error
from personascope.scales.schema import Scale, ScoringMode

_DENOTES = re.compile(r"(-?\d+)\s+denotes\s+['\"“]([^'\"”]+)['\"”]")
_RANGE_TEXT = re.compile(r"from\s+(-?\d+)\s+to\s+(-?\d+)")


#: Items an InCharacter file leaves without a dimension that the instrument scores:
#: questionnaire name -> {item id: dimension}. Applied only while the file's own
#: ``categories`` list the item under that dimension, so another version of the file is
#: never re-keyed by guesswork. Source: Scheier, Carver & Bridges (1994), JPSP 67(6),
#: 1063-1078 (LOT-R: items 1, 3, 4, 7, 9, 10 scored).
_INCHARACTER_CORRECTIONS: dict[str, dict[str, str]] = {"LOT-R": {"9": "Optimistic"}}


def _corrected_dimension(data: dict[str, Any], name: str, qid: str) -> str | None:
    dim = _INCHARACTER_CORRECTIONS.get(name, {}).get(qid)
    if dim is None:
        return None
    for cat in data.get("categories") or []:
        listed = isinstance(cat, dict) and qid in {str(q) for q in cat.get("cat_questions") or []}
        if listed and cat.get("cat_name") == dim:
            return dim
    return None


def is_incharacter(data: Any) -> bool:
    """True for an InCharacter questionnaire: ``questions`` of dicts with ``dimension``."""
    if not isinstance(data, dict) or not isinstance(data.get("questions"), dict):
        return False
    first = next(iter(data["questions"].values()), None)
    return isinstance(first, dict) and "dimension" in first


def is_psychobench(data: Any) -> bool:
    """True for one PsychoBench questionnaire: ``questions`` of plain strings."""
    if not isinstance(data, dict) or not isinstance(data.get("questions"), dict):
        return False
    first = next(iter(data["questions"].values()), None)
    return isinstance(first, str) and "categories" in data


def _require(
    data: dict[str, Any], key: str, kind: type | tuple[type, ...], source: str, prefix: str = ""
) -> Any:
    if key not in data:
        raise InputError(source, f"{prefix}{key}", "required field is missing")
    value = data[key]
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise InputError(source, f"{prefix}{key}", f"expected {names}, got {value!r}")
    return value


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]+", "-", name).strip("-") or "scale"


def _options(low: int, high: int, instruction: str | None) -> list[dict[str, Any]]:
    """Response options ``low..high``, labelled from an instruction such as
    "1 denotes 'strongly disagree', ..." when it labels every value."""
    labels = {int(v): lab.strip() for v, lab in _DENOTES.findall(instruction or "")}
    return [{"value": v, "label": labels.get(v, str(v))} for v in range(low, high + 1)]


def _poles(instruction: str | None, low: int, high: int) -> dict[str, str] | None:
    """Pole adjectives from a dimension-specific instruction ("1 denotes 'strongly
    introverted' ... 5 denotes 'strongly extroverted'")."""
    labels = {int(v): lab.strip() for v, lab in _DENOTES.findall(instruction or "")}
    if low not in labels or high not in labels:
        return None

    def bare(label: str) -> str:
        return re.sub(r"^(strongly|very|extremely)\s+", "", label)

    return {"low": bare(labels[low]), "high": bare(labels[high])}


def _validated(payload: dict[str, Any], source: str) -> Scale:
    try:
        return Scale.model_validate(payload)
    except ValidationError as exc:
        raise from_validation_error(source, exc) from None


def from_incharacter(data: dict[str, Any], source: str | Path) -> Scale:
    """Build a :class:`Scale` from an InCharacter questionnaire JSON (unchanged)."""
    src = str(source)
    name = _require(data, "name", str, src)
    questions = _require(data, "questions", dict, src)
    rng = _require(data, "range", list, src)
    if len(rng) != 2 or not all(isinstance(v, int) for v in rng):
        raise InputError(src, "range", f"expected [min, max] integers, got {rng!r}")
    low, high = int(rng[0]), int(rng[1])
    prompts = data.get("prompts") or {}
    dim_desc: dict[str, str] = prompts.get("dim_desc") or {}
    adjoption: dict[str, Any] = prompts.get("llm_choice_instruction_adjoption") or {}
    choice = (prompts.get("rpa_choice_instruction") or {}).get("en")

    items: list[dict[str, Any]] = []
    fillers: list[dict[str, Any]] = []
    dim_order: list[str] = []
    pole_letters = False
    for qid, q in questions.items():
        where = f"questions[{qid}]"
        if not isinstance(q, dict):
            raise InputError(src, where, f"expected an object, got {q!r}")
        text = q.get("origin_en") or q.get("origin_zh")
        if not text:
            raise InputError(src, f"{where}.origin_en", "required field is missing")
        rewrite = {lang: q[f"rewritten_{lang}"] for lang in ("en", "zh") if q.get(f"rewritten_{lang}")}
        dim = q.get("dimension")
        if dim is None:
            dim = _corrected_dimension(data, name, str(qid))
        if dim is None:
            fillers.append({"id": qid, "text": text, "dimension": "-", "key": "+", "rewrite": rewrite})
            continue
        if not isinstance(dim, str):
            raise InputError(src, f"{where}.dimension", f"expected a dimension name or null, got {dim!r}")
        category = q.get("category")
        if category in ("positive", "negative"):
            key = "+" if category == "positive" else "-"
        elif isinstance(category, str) and "/" in dim and category in dim.split("/"):
            pole_letters = True
            key = "+" if category == dim[0] else "-"
        else:
            raise InputError(
                src,
                f"{where}.category",
                f"expected 'positive', 'negative' or a pole letter of {dim!r}, got {category!r}",
            )
        if dim not in dim_order:
            dim_order.append(dim)
        items.append({"id": qid, "text": text, "dimension": dim, "key": key, "rewrite": rewrite})

    norms: list[dict[str, Any]] = []
    mode_name = str(data.get("compute_mode", "AVG")).upper()
    if mode_name not in ("AVG", "SUM"):
        raise InputError(src, "compute_mode", f"expected 'AVG' or 'SUM', got {mode_name!r}")
    scoring = ScoringMode.PERCENT if pole_letters else ScoringMode(mode_name)
    for i, cat in enumerate(data.get("categories") or []):
        for j, crowd in enumerate(cat.get("crowd") or []):
            try:
                norms.append(
                    {
                        "dimension": cat["cat_name"],
                        "population": crowd.get("crowd_name") or "Crowd",
                        "mean": crowd["mean"],
                        "sd": crowd["std"],
                        "n": crowd.get("n"),
                        "metric": mode_name,
                        "source": f"{name} questionnaire file ({Path(src).name})",
                    }
                )
            except KeyError as exc:
                raise InputError(
                    src, f"categories[{i}].crowd[{j}]", f"missing {exc.args[0]!r} (expected mean, std, n)"
                ) from None

    dimensions = []
    for dim in dim_order:
        instr = adjoption.get(dim)
        instr_en = instr.get("en") if isinstance(instr, dict) else instr
        dimensions.append(
            {
                "id": dim,
                "name": dim,
                "description": dim_desc.get(dim, ""),
                "poles": _poles(instr_en, low, high),
            }
        )
    payload = {
        "id": _slug(name),
        "name": data.get("full_name") or name,
        "citation": "Imported from an InCharacter questionnaire file (Wang et al., ACL 2024).",
        "license": "See the source questionnaire's license.",
        "scoring": scoring,
        "range": (low, high),
        "response_options": _options(low, high, choice),
        "dimensions": dimensions,
        "items": items,
        "fillers": fillers,
        "norms": norms,
    }
    return _validated(payload, src)


def from_psychobench(data: Any, source: str | Path, index: int = 0) -> Scale:
    """Build a :class:`Scale` from one entry of PsychoBench's ``questionnaires.json``."""
    src = str(source)
    pre = f"[{index}]."
    if not isinstance(data, dict):
        raise InputError(src, f"[{index}]", f"expected a questionnaire object, got {data!r}")
    name = _require(data, "name", str, src, pre)
    pre = f"[{name}]."
    questions = _require(data, "questions", dict, src, pre)
    scale_sum = _require(data, "scale", int, src, pre)
    reverse = {str(r) for r in _require(data, "reverse", list, src, pre)}
    categories = _require(data, "categories", list, src, pre)
    unknown_rev = sorted(reverse - set(questions), key=str)
    if unknown_rev:
        raise InputError(src, f"{pre}reverse", f"ids {unknown_rev} are not question ids")

    if "range" in data:
        low, high = (int(v) for v in data["range"])
    else:
        text = f"{data.get('inner_setting', '')} {data.get('prompt', '')}"
        found = _RANGE_TEXT.search(text)
        if not found:
            raise InputError(src, f"{pre}range", "cannot infer the option range: add 'range': [min, max]")
        low, high = int(found.group(1)), int(found.group(2))
    if low + high != scale_sum:
        raise InputError(
            src,
            f"{pre}scale",
            f"expected min + max = {low + high} for options {low}..{high}, got {scale_sum}",
        )

    dim_of: dict[str, str] = {}
    norms: list[dict[str, Any]] = []
    dims: list[dict[str, Any]] = []
    mode_name = str(data.get("compute_mode", "AVG")).upper()
    if mode_name not in ("AVG", "SUM"):
        raise InputError(src, f"{pre}compute_mode", f"expected 'AVG' or 'SUM', got {mode_name!r}")
    for i, cat in enumerate(categories):
        cname = _require(cat, "cat_name", str, src, f"{pre}categories[{i}].")
        for qid in (str(q) for q in _require(cat, "cat_questions", list, src, f"{pre}categories[{cname}].")):
            if qid not in questions:
                raise InputError(
                    src, f"{pre}categories[{cname}].cat_questions", f"{qid} is not a question id"
                )
            if qid in dim_of and dim_of[qid] != cname:
                raise InputError(
                    src,
                    f"{pre}questions[{qid}]",
                    f"item is in two dimensions ({dim_of[qid]!r} and {cname!r}); expected exactly one",
                )
            dim_of[qid] = cname
        dims.append({"id": cname, "name": cname})
        for j, crowd in enumerate(cat.get("crowd") or []):
            try:
                norms.append(
                    {
                        "dimension": cname,
                        "population": crowd.get("crowd_name") or "Crowd",
                        "mean": crowd["crowd_sample_mean"],
                        "sd": crowd["crowd_sample_sd"],
                        "n": crowd.get("crowd_sample_num"),
                        "metric": mode_name,
                        "source": f"PsychoBench questionnaires.json ({name})",
                    }
                )
            except KeyError as exc:
                raise InputError(
                    src, f"{pre}categories[{cname}].crowd[{j}]", f"missing {exc.args[0]!r}"
                ) from None

    items, fillers = [], []
    for qid, text in questions.items():
        entry = {"id": qid, "text": text, "key": "-" if qid in reverse else "+"}
        if qid in dim_of:
            items.append({**entry, "dimension": dim_of[qid]})
        else:
            fillers.append({**entry, "dimension": "-"})
    payload = {
        "id": _slug(name),
        "name": name,
        "citation": "Imported from PsychoBench questionnaires.json (Huang et al., ICLR 2024).",
        "license": "See the source questionnaire's license.",
        "scoring": ScoringMode(mode_name),
        "range": (low, high),
        "response_options": _options(low, high, data.get("prompt")),
        "dimensions": dims,
        "items": items,
        "fillers": fillers,
        "norms": norms,
    }
    return _validated(payload, src)
