"""Built-in scales reproduce the public-domain IPIP sources item by item."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from personascope.scales import builtin_scale_ids, list_scales, load_scale
from personascope.scales.schema import ScoringMode

NEO_DOMAIN = {
    "N": "neuroticism",
    "E": "extraversion",
    "O": "openness",
    "A": "agreeableness",
    "C": "conscientiousness",
}
BFM_FACTOR = {
    "Extraversion": "extraversion",
    "Agreeableness": "agreeableness",
    "Conscientiousness": "conscientiousness",
    "Emotional Stability": "emotional_stability",
    "Intellect/Imagination": "intellect",
}


def test_builtin_ids() -> None:
    assert builtin_scale_ids() == ["ipip-bfm-100", "ipip-bfm-50", "ipip-neo-120"]
    assert [s.id for s in list_scales()] == builtin_scale_ids()


def test_neo_120_matches_reference(reference: Path) -> None:
    ref = json.loads((reference / "ipip/ipip_neo_120_bigfive_org.json").read_text())
    scale = load_scale("ipip-neo-120")
    assert len(scale.items) == len(ref) == 120
    for item, r in zip(scale.items, ref, strict=True):
        assert item.text == r["text"]
        assert item.dimension == NEO_DOMAIN[r["domain"]]
        assert item.key == ("+" if r["keyed"] == "plus" else "-")
        assert item.facet == f"{r['domain']}{r['facet']}"
        assert item.source_id == "/".join(r["ipipId"])
    assert Counter(i.dimension for i in scale.items) == {d: 24 for d in NEO_DOMAIN.values()}
    assert len(Counter(i.facet for i in scale.items)) == 30
    assert set(Counter(i.facet for i in scale.items).values()) == {4}


@pytest.mark.parametrize(
    ("scale_id", "file", "per"), [("ipip-bfm-100", "bfm100.json", 20), ("ipip-bfm-50", "bfm50.json", 10)]
)
def test_bfm_matches_reference(reference: Path, scale_id: str, file: str, per: int) -> None:
    ref = json.loads((reference / "ipip" / file).read_text())
    scale = load_scale(scale_id)
    assert len(scale.items) == len(ref) == 5 * per
    for item, r in zip(scale.items, ref, strict=True):
        assert (item.text, item.dimension, item.key) == (r["text"], BFM_FACTOR[r["factor"]], r["key"])
    assert Counter(i.dimension for i in scale.items) == {d: per for d in BFM_FACTOR.values()}


def test_norms_and_alphas_match_reference(reference: Path) -> None:
    ref = json.loads((reference / "ipip/norms.json").read_text())
    names = {
        **{v.title(): v for v in NEO_DOMAIN.values()},
        "Openness to Experience": "openness",
        **BFM_FACTOR,
    }
    bfm100 = load_scale("ipip-bfm-100")
    neo = load_scale("ipip-neo-120")
    bfm50 = load_scale("ipip-bfm-50")
    checked = 0
    for e in ref:
        dim = names[e["scale"]]
        inst = e["instrument"]
        scale = bfm100 if "100-item" in inst else bfm50 if "50-item" in inst else neo
        if e["statistic_type"] == "reliability":
            ra = scale.dimension_map[dim].reference_alpha
            assert ra is not None and ra.value == e["alpha"]
        else:
            matches = [n for n in scale.norms_of(dim) if n.mean == e["mean"] and n.sd == e["sd"]]
            assert len(matches) == 1, (inst, e["scale"], e["mean"])
            assert matches[0].metric is ScoringMode.SUM
        checked += 1
    assert checked == len(ref)


def test_every_item_has_an_english_interview_question() -> None:
    for scale in list_scales():
        for item in scale.items:
            q = item.question("en")
            assert q and q.endswith("?"), (scale.id, item.id)
            assert q != item.text


def test_builtin_bounds_and_poles() -> None:
    neo = load_scale("ipip-neo-120")
    assert neo.scoring is ScoringMode.SUM
    assert neo.score_bounds("extraversion") == (24.0, 120.0)
    for scale in list_scales():
        for d in scale.dimensions:
            assert d.poles is not None and d.description
