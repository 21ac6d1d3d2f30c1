"""The ticket note of ``odfix diagnose --note`` and ``odfix fix --note``: at most 15 lines that
say the cause with its evidence, what was done and its result, what is left, and the KB link."""

import re
from pathlib import Path

import pytest

from odfix.cli import main
from odfix.guide.load import load_guide
from odfix.hosts import scenario_names
from odfix.publish import ticket

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SCENARIOS = scenario_names()
CAPTURES = [FIXTURES / "bundles" / "collected_pc0001.zip",
            *sorted((FIXTURES / "dsregcmd").glob("*.txt"))]


def _note(capsys, *args: str) -> tuple[int, list[str]]:
    code = main(list(args))
    out = capsys.readouterr().out
    assert out.endswith("\n") and "\x1b" not in out  # plain text, no terminal colours
    return code, out.splitlines()


def _labels(lines: list[str]) -> list[str]:
    return [line.split(":", 1)[0].removeprefix("- **").rstrip("*") for line in lines[1:]]


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_diagnose_note_fits_a_ticket_and_links_the_kb(capsys, tmp_path, capture):
    path = capture
    if capture.suffix == ".txt":  # one raw capture: a folder with dsregcmd_status.txt
        path = tmp_path / "pc"
        path.mkdir()
        (path / "dsregcmd_status.txt").write_bytes(capture.read_bytes())
    code, lines = _note(capsys, "diagnose", str(path), "--note")
    assert code in (0, 1, 4) and 4 <= len(lines) <= ticket.MAX_LINES
    assert lines[0].startswith("OneDrive sign-in (0x8004de40 family) — odfix ")
    labels = _labels(lines)
    assert labels[:1] == ["Cause"] and "Done" in labels and "Result" in labels
    if code == 1:
        assert "Next" in labels and labels[-1] == "KB"
        assert re.search(r"kb\.html#(m|case)-[\w-]+\)$", lines[-1])


def test_the_evidence_line_quotes_the_capture(capsys):
    _, lines = _note(capsys, "diagnose", str(CAPTURES[0]), "--note")
    evidence = next(line for line in lines if line.startswith("Evidence: "))
    assert re.match(r"Evidence: aad_operational\.xml line \d+: .*event 1098", evidence)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_fix_note_says_what_was_done_and_what_is_left(capsys, scenario):
    code, lines = _note(capsys, "fix", "--simulate", scenario, "--apply", "--yes", "--note")
    assert len(lines) <= ticket.MAX_LINES
    labels = _labels(lines)
    assert {"Cause", "Done", "Result"} <= set(labels)
    result = next(line for line in lines if line.startswith("Result: "))
    if code == 0:
        assert result.startswith("Result: healthy") and "Left" not in labels
    if code == 4:
        left = next(line for line in lines if line.startswith("Left: "))
        assert left.startswith("Left: the user: ")
    if code in (3, 4):
        assert "Journal" in labels or "Escalate" in labels


def test_a_resumed_run_counts_the_deleted_credentials(capsys):
    main(["fix", "--simulate", "password-reset", "--apply", "--yes", "--json"])
    capsys.readouterr()
    code, lines = _note(capsys, "fix", "--simulate", "password-reset", "--resume", "--note")
    done = next(line for line in lines if line.startswith("Done: "))
    assert code == 0 and "Method 1 (credential-cleanup): fixed it" in done
    assert re.search(r"\d+ cached credentials? deleted", done)
    assert lines[-1].endswith("(kb.html#case-after-password-reset)")


def test_a_run_resumed_twice_reports_the_whole_run(capsys):
    """Paused before the deletions, then after them: the last note still names the first
    method, counts the credentials deleted in the middle part and keeps the evidence line."""
    args = ["fix", "--simulate", "password-reset", "--apply", "--yes"]
    assert main([*args, "--json"]) == 4
    assert main([*args, "--resume", "--json"]) == 4
    capsys.readouterr()
    code, lines = _note(capsys, *args, "--resume", "--note")
    done = next(line for line in lines if line.startswith("Done: "))
    assert code == 0 and "new-password-sign-in: ran, still failing" in done
    assert "Method 1 (credential-cleanup): fixed it" in done
    assert "3 cached credentials deleted" in done
    assert any(line.startswith("Evidence: aad_operational.xml") for line in lines)


def test_markdown_escapes_what_would_format(capsys):
    _, lines = _note(capsys, "diagnose", str(CAPTURES[0]), "--note", "--format", "md")
    assert lines[0].startswith("**OneDrive sign-in") and all(x.startswith("- **")
                                                             for x in lines[1:])
    evidence = next(line for line in lines if line.startswith("- **Evidence:**"))
    assert "aad\\_operational.xml" in evidence and "<" not in evidence.replace("\\<", "")


def test_values_from_data_stay_on_one_line_with_controls_shown():
    items = [("Header", "x"), ("Evidence", "line one\nline two\x1b[31m \u202eevil")]
    text = ticket.render(items)
    assert text.count("\n") == 1 and "\x1b" not in text and "\u202e" not in text


def test_more_than_fifteen_items_keep_the_kb_link():
    items = [("Header", "x"), *[(f"L{i}", "y") for i in range(20)], ("KB", "link")]
    lines = ticket.render(items).splitlines()
    assert len(lines) == ticket.MAX_LINES and lines[-1] == "KB: link"


def test_kb_section_prefers_the_special_case_of_the_cause():
    guide = load_guide()
    case = guide.special_cases[0]
    assert ticket.kb_section(guide, case.cause, []) == f"{case.title} (kb.html#case-{case.id})"
    assert ticket.kb_section(guide, "healthy", []) is None
