"""AAD Operational log: wevtutil XML in its layouts, codes in hex and decimal, safe parsing."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from odfix.evidence import aad_events
from odfix.evidence.common import ParseError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "aad_events"


def load(name: str) -> aad_events.AadEventLog:
    return aad_events.parse((FIXTURES / name).read_bytes(), source=name)


def test_concatenated_events_without_root():
    log = load("wevtutil_recent.xml")
    assert [e.id for e in log.events] == [1098, 1098, 1098, 1104, 1085, 1250]
    first = log.events[0]
    assert first.time == datetime(2026, 1, 12, 8, 0, 4, 123456, tzinfo=UTC)
    assert (first.level, first.codes, first.aadsts) == ("error", ["0xCAA2000C"], [50076])
    assert first.citation.line == 1


def test_doctype_is_refused():
    with pytest.raises(ParseError, match="DOCTYPE"):
        aad_events.parse('<!DOCTYPE x [<!ENTITY a "b">]><Event/>')
