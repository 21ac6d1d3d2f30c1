"""Shared helpers for the diagnosis tests: the scenario folders and their raw lines."""

from pathlib import Path

import pytest

from odfix.evidence.common import Citation, lines

SCENARIOS = Path(__file__).resolve().parents[1] / "fixtures" / "scenarios"


def raw_line(folder: Path, citation: Citation) -> str:
    """The cited line as the file really holds it (``file`` may be ``PC/name``)."""
    name = citation.file.rsplit("/", 1)[-1]
    pc = citation.file.rsplit("/", 1)[0] if "/" in citation.file else ""
    return lines((folder / pc / name).read_bytes())[citation.line - 1]


def assert_cited(folder: Path, citations: list[Citation]) -> None:
    """Every citation names a real file and line; long lines are cited by their beginning."""
    for citation in citations:
        assert citation.line >= 1 and citation.text.strip(), citation
        assert raw_line(folder, citation).strip().startswith(citation.text.strip()), citation


@pytest.fixture
def scenarios() -> Path:
    return SCENARIOS
