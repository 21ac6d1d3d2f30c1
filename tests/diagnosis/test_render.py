"""Human output: quoted lines appear literally (no Rich markup), long lines are cut."""

from rich.console import Console

from odfix.diagnosis.models import Cause, Diagnosis, Finding, PcResult, PlanItem
from odfix.diagnosis.render import QUOTE_CHARS, render
from odfix.evidence.common import Citation


def test_brackets_in_evidence_are_printed_as_they_are():
    quoted = "Value : [/bold] [red]x[/red] " + "y" * 200
    diagnosis = Diagnosis(
        join_type="entra-joined",
        causes=[Cause(id="device-registration", confidence=0.9, summary="[b]s[/b]",
                      finding_ids=["f"])],
        findings=[Finding(id="f", severity="error", title="[title]", source="s",
                          evidence=[Citation(file="a.txt", line=3, text=quoted)],
                          details=["[detail]"])],
        plan=[PlanItem(method="reconnect-work-account", why="[why]", context="local-admin",
                       cause="device-registration", note="[note]", steps=["[step]"])],
        healthy=False, verdict="Problem found: [x]", escalation="[esc]",
        pcs=[PcResult(name="pc", join_type="entra-joined", problems=["[problem]"])],
    )
    console = Console(record=True, width=300)
    render(diagnosis, console)
    text = console.export_text()
    for literal in ("[title]", "[detail]", "[why]", "[note]", "[step]", "[esc]", "[problem]",
                    "Problem found: [x]", "(local-admin)", "a.txt:3  Value : [/bold] [red]x[/red]"):
        assert literal in text, literal
    assert "y" * (QUOTE_CHARS - 29) + "…" in text
