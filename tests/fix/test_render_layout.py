"""The simulated PC's ``dsregcmd /status`` keeps the real layout of the published samples.

Compared with the Microsoft Learn-based hybrid sample and the 2026 Work Account sample in
tests/fixtures/dsregcmd (reference appendix F1, F3): the same section boxes, keys right-aligned
so the colon sits in the same column, and shared keys in the same order, section by section.
"""

import re
from pathlib import Path

import pytest

from odfix.evidence.common import lines

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "dsregcmd"
BOX = re.compile(r"^\+-{70}\+$")
TITLE = re.compile(r"^\| (.{68}) \|$")


def _sections(text_lines: list[str]) -> dict[str, list[tuple[str, int]]]:
    """Section title → [(key, colon column)], in order."""
    out: dict[str, list[tuple[str, int]]] = {}
    current = None
    for line in text_lines:
        if BOX.match(line):
            continue
        if match := TITLE.match(line):
            current = match.group(1).strip()
            out[current] = []
        elif current and ":" in line:
            column = line.index(":")
            out[current].append((line[:column].strip(), column))
    return out


@pytest.mark.parametrize(("scenario", "sample", "sections"), [
    ("cloned-image", "hybrid_prt_failure_learn.txt",
     {"Device State", "Device Details", "Tenant Details", "User State", "SSO State",
      "Diagnostic Data", "Ngc Prerequisite Check"}),
    ("password-reset", "registered_work_account_2026.txt", {"User State", "Work Account 1"}),
])
def test_rendered_status_has_the_sample_layout(make_host, scenario, sample, sections):
    rendered = make_host(scenario).run(["dsregcmd", "/status"]).stdout
    ours, theirs = _sections(lines(rendered)), _sections(lines((SAMPLES / sample).read_bytes()))
    assert sections <= set(ours) & set(theirs)
    shared_titles = [t for t in ours if t in theirs]
    assert shared_titles == [t for t in theirs if t in ours]
    for title in shared_titles:
        fields = ours[title]
        columns = dict(theirs[title])
        shared = [key for key, _ in fields if key in columns]
        assert shared == [key for key, _ in theirs[title] if key in dict(fields)], title
        for key, column in fields:
            if key in columns:
                assert column == columns[key], (title, key)
    assert all(len(line) == 72 for line in lines(rendered) if line.startswith(("+", "|")))
