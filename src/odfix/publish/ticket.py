"""The ticket note: what a technician pastes into the ticket, at most 15 lines.

``odfix diagnose … --note`` and ``odfix fix … --note`` print it (plain text, or Markdown with
``--format md``): the cause with its key evidence line, what was done and its result, what is
left and for whom, and the KB section to link. Every value from data passes through
``textsafe.visible`` (one line each, control and bidi characters shown), and Markdown escapes
its own special characters.
"""

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from odfix import __version__
from odfix.fleet.report import from_line
from odfix.textsafe import visible

if TYPE_CHECKING:
    from odfix.diagnosis.models import Diagnosis
    from odfix.fix.engine import FixReport
    from odfix.guide.model import Guide

MAX_LINES = 15
Format = Literal["text", "md"]
Item = tuple[str, str]
WHO = {"user": "the user", "ui": "the user (on screen)", "elevated": "a technician (admin prompt)",
       "local-admin": "a technician with a local administrator account"}
OUTCOME_WORDS = {"fixed": "fixed it", "not-fixed": "ran, still failing",
                 "needs-person": "waiting for the user", "declined": "declined",
                 "planned": "planned (dry run)", "not-run": "not run"}
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def _one_line(text: str, limit: int = 240) -> str:
    flat = " ".join(visible(text, keep_newlines=False).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _cause_title(guide: "Guide", cause: str) -> str:
    try:
        return guide.cause(cause).title
    except KeyError:
        return {"healthy": "No sign of the 0x8004de40 family"}.get(cause, cause)


def _method_name(guide: "Guide", method: str) -> str:
    try:
        found = guide.method(method)
    except KeyError:
        return method
    return f"Method {found.number} ({method})" if found.number else method


def kb_section(guide: "Guide", cause: str, methods: Sequence[str],
               kb: str = "kb.html") -> str | None:
    """The KB article section to link: the special case for the cause, else the first method
    (``kb``: the article's address, e.g. the console's ``https://…/kb``)."""
    case = next((c for c in guide.special_cases if c.cause == cause), None)
    if case is not None:
        return f"{case.title} ({kb}#case-{case.id})"
    for method in methods:
        try:
            found = guide.method(method)
        except KeyError:
            continue
        label = f"Method {found.number}: {found.title}" if found.number else found.title
        return f"{label} ({kb}#m-{found.id})"
    return None


def _header(host: str | None, join_type: str, when: datetime | None) -> Item:
    stamp = (when or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return ("OneDrive sign-in (0x8004de40 family)",
            f"odfix {__version__} on {host or 'this PC'} ({join_type}), {stamp}")


def for_diagnosis(diagnosis: "Diagnosis", guide: "Guide", kb: str = "kb.html") -> list[Item]:
    """The note after ``odfix diagnose``: nothing was changed; the plan is what is left
    (``kb``: where the KB article is)."""
    pc = diagnosis.pcs[0] if diagnosis.pcs else None
    items = [_header(pc.host_name if pc else None, diagnosis.join_type, None)]
    top = diagnosis.causes[0] if diagnosis.causes else None
    if top is not None:
        pcs = len(diagnosis.pcs)
        items.append(("Cause", f"{_cause_title(guide, top.id)} — {round(top.confidence * 100)}% "
                               f"({pcs} PC{'s' if pcs != 1 else ''})"))
        evidence = diagnosis.key_evidence()
        if evidence:
            items.append(("Evidence", evidence))
    items.append(("Done", "diagnosis only; nothing was changed on the PC"))
    items.append(("Result", diagnosis.verdict))
    methods = list(dict.fromkeys(item.method for item in diagnosis.plan))
    if methods:
        steps = [f"{_method_name(guide, item.method)} by {WHO.get(item.context, item.context)}"
                 for item in diagnosis.plan if item.method in methods][:3]
        items.append(("Next", "; then ".join(steps) + ("; …" if len(methods) > 3 else "")
                      + " (odfix fix --apply)"))
    for request in diagnosis.ask_for[:2]:
        items.append(("Ask the user", f"{request.file} ({request.command}): {request.why}"))
    if diagnosis.escalation:
        items.append(("Escalate", diagnosis.escalation))
    section = kb_section(guide, top.id if top else "healthy", methods, kb)
    if section:
        items.append(("KB", section))
    return items


def for_fix(report: "FixReport", guide: "Guide") -> list[Item]:
    """The note after ``odfix fix``: what each method did, the result, what is left."""
    items = [_header(report.host_name, report.join_type, report.ended_at)]
    items.append(("Cause", _cause_title(guide, report.cause)))
    if report.evidence:
        items.append(("Evidence", report.evidence))
    done = [f"{_method_name(guide, m.method)}: {OUTCOME_WORDS[m.outcome]}"
            for m in from_line(report.compact(limit=1 << 20)).methods if m.outcome != "not-run"]
    deleted = sum(note.startswith("deleted credential") for s in report.steps for note in s.notes)
    if deleted:
        done.append(f"{deleted} cached credential{'s' if deleted != 1 else ''} deleted")
    items.append(("Done", "; ".join(done) if done else "nothing was changed on the PC"))
    verdict = ("healthy" if report.healthy else
               {1: "problem found (dry run)", 3: "still failing", 4: "waiting for a person"}
               .get(report.exit_code, f"exit {report.exit_code}"))
    items.append(("Result", f"{verdict}: {report.reason}"))
    left = _left_after_fix(report, guide)
    if left:
        items.append(("Left", left))
    if report.escalation and not report.healthy:
        items.append(("Escalate", report.escalation))
    if report.run_id:
        items.append(("Journal", f"odfix journal --run {report.run_id}"))
    section = kb_section(guide, report.cause, report.plan)
    if section:
        items.append(("KB", section))
    return items


def _left_after_fix(report: "FixReport", guide: "Guide") -> str | None:
    if report.healthy:
        return None
    if report.exit_code == 4:
        return "the user: " + report.reason
    ran = {s.method for s in report.steps if s.status not in ("planned", "skipped")}
    remaining = [m for m in report.plan if m not in ran]
    if not report.applied:
        return "a technician: run odfix fix --apply"
    if remaining:
        return "a technician: " + ", ".join(_method_name(guide, m) for m in remaining)
    return None


def render(items: Sequence[Item], fmt: Format = "text") -> str:
    """The note as text (``Label: value``) or Markdown; at most ``MAX_LINES`` lines."""
    lines: list[str] = []
    for number, (label, value) in enumerate(items):
        text = _one_line(value)
        if fmt == "md":
            safe = _MD_SPECIAL.sub(r"\\\1", text)
            lines.append(f"**{label}** — {safe}" if number == 0 else f"- **{label}:** {safe}")
        else:
            lines.append(f"{label} — {text}" if number == 0 else f"{label}: {text}")
    if len(lines) > MAX_LINES:
        lines = [*lines[: MAX_LINES - 1], lines[-1]]  # the KB link stays
    return "\n".join(lines)
