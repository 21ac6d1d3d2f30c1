"""The simulated PC's ``dsregcmd /status`` keeps the real layout of the published sample.

Compared with the Microsoft Learn-based hybrid sample in tests/fixtures/dsregcmd (reference
appendix F1): the same section boxes, keys right-aligned so the colon sits in the same column,
and the keys both outputs share in the same order, section by section.
"""

import re
from pathlib import Path

from odfix.evidence.common import lines

SAMPLE = (Path(__file__).resolve().parent.parent / "fixtures" / "dsregcmd"
          / "hybrid_prt_failure_learn.txt")
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


def test_rendered_hybrid_status_has_the_sample_layout(make_host):
    rendered = make_host("cloned-image").run(["dsregcmd", "/status"]).stdout
    ours, theirs = _sections(lines(rendered)), _sections(lines(SAMPLE.read_bytes()))
    assert list(ours) == [t for t in theirs if t in ours]
    assert {"Device State", "Device Details", "Tenant Details", "User State", "SSO State",
            "Diagnostic Data"} <= set(ours)
    for title, fields in ours.items():
        sample = dict(theirs[title])
        shared = [key for key, _ in fields if key in sample]
        assert shared == [key for key, _ in theirs[title] if key in dict(fields)], title
        for key, column in fields:
            if key in sample:
                assert column == sample[key], (title, key)
    assert all(len(line) == 72 for line in lines(rendered) if line.startswith(("+", "|")))
