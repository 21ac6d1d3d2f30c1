"""``diagnose`` on every real capture of tests/fixtures/real, against its ``expected.json``."""

import json
from pathlib import Path

import pytest

from odfix.diagnosis import diagnose
from odfix.evidence.bundle import load

from .conftest import assert_cited
from .contract import check

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"
CASES = sorted(p.name for p in REAL.iterdir() if (p / "expected.json").is_file())
KEYS = {"join_type", "outcome", "cause", "findings", "absent", "unweighted", "never",
        "plan_within", "escalation", "ask_for", "session", "why"}


def test_there_are_enough_real_cases():
    assert len(CASES) >= 29


@pytest.mark.parametrize("case", CASES)
def test_real_case(case):
    folder = REAL / case
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    assert set(expected) <= KEYS, f"unknown keys in {case}/expected.json"
    assert expected["why"]
    result = diagnose([load(folder)])
    check(result.model_dump(mode="json"))
    assert_cited(folder, [c for f in result.findings for c in f.evidence])
    by_id = {f.id: f for f in result.findings}
    planned = [item.method for item in result.plan]

    assert result.join_type == expected["join_type"]
    assert result.outcome in expected["outcome"], result.verdict
    if "cause" in expected:
        assert result.causes[0].id == expected["cause"], result.verdict
    assert set(expected.get("findings", [])) <= set(by_id)
    assert not set(expected.get("absent", [])) & set(by_id)
    for finding_id in expected.get("unweighted", []):
        assert finding_id not in by_id or not by_id[finding_id].weights, finding_id
    assert not set(expected.get("never", [])) & set(planned), planned
    if "plan_within" in expected:
        assert set(planned) <= set(expected["plan_within"]), planned
    for text in expected.get("escalation", []):
        assert result.escalation and text in result.escalation
    assert set(expected.get("ask_for", [])) <= {a.file for a in result.ask_for}
    if "session" in expected:
        assert result.pcs[0].session == expected["session"]
