"""Shared helpers for the diagnosis tests: the scenario folders and their raw lines."""

from pathlib import Path

import pytest

from odfix.evidence.common import Citation, lines

SCENARIOS = Path(__file__).resolve().parents[1] / "fixtures" / "scenarios"


def raw_line(folder: Path, citation: Citation) -> str:
    """The cited line as the file really holds it (``file`` may be ``PC/name``)."""
    return lines(_path(folder, citation).read_bytes())[citation.line - 1]


def _path(folder: Path, citation: Citation) -> Path:
    name = citation.file.rsplit("/", 1)[-1]
    pc = citation.file.rsplit("/", 1)[0] if "/" in citation.file else ""
    return folder / pc / name


def evtx_record(path: Path, record_id: int) -> str:
    """The XML of record ``record_id`` of a saved ``.evtx`` log (an .evtx citation's ``line``)."""
    from evtx import PyEvtxParser

    return next(str(r["data"]) for r in PyEvtxParser(str(path)).records()
                if r["event_record_id"] == record_id)


def assert_cited(folder: Path, citations: list[Citation]) -> None:
    """Every citation names a real file and line; long lines are cited by their beginning. In a
    saved .evtx log the line is the event's record id and the text a line of its XML."""
    for citation in citations:
        assert citation.line >= 1 and citation.text.strip(), citation
        if citation.file.endswith(".evtx"):
            record = evtx_record(_path(folder, citation), citation.line)
            assert citation.text.strip() in {x.strip() for x in record.splitlines()}, citation
            continue
        assert raw_line(folder, citation).strip().startswith(citation.text.strip()), citation


@pytest.fixture
def scenarios() -> Path:
    return SCENARIOS
