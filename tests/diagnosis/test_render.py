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
                    "Problem found: [x]", "(local-admin: a local administrator of this PC)",
                    "a.txt:3  Value : [/bold] [red]x[/red]"):
        assert literal in text, literal
    assert "y" * (QUOTE_CHARS - 29) + "…" in text


def test_a_hand_over_verdict_says_the_plan_is_only_meanwhile():
    """"not fixable on this PC" and a plan must not read as two answers: the plan is what the PC
    can do while the hand-over under Escalate is the fix."""
    def text(verdict: str) -> str:
        diagnosis = Diagnosis(
            join_type="unknown", causes=[Cause(id="connectivity-tls", confidence=0.5,
                                               summary="s", finding_ids=[])],
            findings=[], plan=[PlanItem(method="connectivity-checks", why="w", context="user",
                                        cause="connectivity-tls")],
            healthy=False, verdict=verdict, escalation="To the network team: x",
            pcs=[PcResult(name="pc", join_type="unknown")])
        console = Console(record=True, width=300)
        render(diagnosis, console)
        return console.export_text()

    handed = text("Not enough evidence: connectivity-tls (confidence 0.47); not fixable on this "
                  "PC: to the network team")
    assert "Plan on the PC meanwhile (the fix itself is the hand-over under Escalate" in handed
    assert "connectivity-checks (user: in the user's session)" in handed
    assert "meanwhile" not in text("Problem found: connectivity-tls (confidence 0.9)")
