"""The ``odfix diagnose --json`` contract: findings citing raw lines, ranked causes, a plan."""

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from odfix.evidence.common import Citation
from odfix.evidence.dsregcmd import JoinType

Severity = Literal["info", "warning", "error"]
CauseId = Literal[
    "stale-token-password-change",
    "device-registration",
    "cloned-image",
    "recurring-conditional-access",
    "connectivity-tls",
    "multiple-identities",
    "healthy",
]
StepContext = Literal["user", "elevated", "local-admin", "ui"]
Outcome = Literal["problem", "healthy", "not-enough-evidence"]
SessionKind = Literal["user", "system", "local-account", "unknown"]
"""Who ran ``dsregcmd /status``: the user-scoped sections describe that account."""
__all__ = [
    "CAUSE_IDS",
    "NOT_ON_PC",
    "CaptureRequest",
    "Cause",
    "CauseId",
    "Coverage",
    "Diagnosis",
    "Finding",
    "JoinType",
    "Outcome",
    "PcResult",
    "PlanItem",
    "SessionKind",
    "Severity",
    "StepContext",
    "Withheld",
    "a_pc",
]

CAUSE_IDS: tuple[CauseId, ...] = get_args(CauseId)


NOT_ON_PC = "; not fixable on this PC: "
"""Joins the verdict to whom the fix belongs when it is not on the PC (``Diagnosis.verdict``)."""


def a_pc(join_type: str) -> str:
    """``an entra-joined PC``, ``a hybrid-joined PC``; ``a PC with no join`` for ``none``."""
    if join_type == "none":
        return "a PC with no join"
    return f"{'an' if join_type[:1] in 'aeiou' else 'a'} {join_type} PC"


class Finding(BaseModel):
    """One fact a rule saw, with the raw lines it saw it in.

    ``weights`` says how strongly the finding points at each cause (0..1); causes.py combines them.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    severity: Severity
    title: str
    evidence: list[Citation] = Field(default_factory=list)
    source: str
    pc: str | None = None
    weights: dict[CauseId, float] = Field(default_factory=dict)
    details: list[str] = Field(default_factory=list)
    """Readable summaries of the cited records (one per cited event), for people."""


class Cause(BaseModel):
    """A ranked explanation of the error, backed by findings."""

    id: CauseId
    confidence: float = Field(ge=0.0, le=1.0)
    summary: str
    finding_ids: list[str]


class PlanItem(BaseModel):
    """One method of the guide to run, and the finding that led to it."""

    method: str
    why: str
    context: StepContext
    cause: CauseId
    variant: str | None = None
    note: str = ""
    steps: list[str] = Field(default_factory=list)
    destructive: bool = False
    """Unjoins, unregisters or removes a work account (``guide.Method.destructive``)."""
    justified_by: list[str] = Field(default_factory=list)
    """For a destructive method: the findings that show the registration exists and is broken."""


class Withheld(BaseModel):
    """A destructive method the guide's plan names but the evidence does not justify."""

    method: str
    cause: CauseId
    why: str
    needs: str
    """What evidence would justify it."""


class CaptureRequest(BaseModel):
    """A capture to ask the user for next: the file, the command that produces it, and why."""

    file: str
    command: str
    why: str
    pc: str | None = None


class Coverage(BaseModel):
    """How complete the evidence is: the source groups seen and missing, and whether the
    user-scoped dsregcmd fields (PRT, WamDefaultSet, work accounts) describe the user."""

    sources: list[str] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    user_scoped: Literal["trusted", "not-the-user", "not-captured"] = "not-captured"
    score: float = Field(ge=0.0, le=1.0, default=0.0)


class PcResult(BaseModel):
    """What one PATH (one PC) showed."""

    name: str
    host_name: str | None = None
    join_type: JoinType
    device_id: str | None = None
    user: str | None = None
    """The signed-in user: dsregcmd's executing account, else OneDrive's business account."""
    captured_at: str | None = None
    sources: list[str] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)
    session: SessionKind = "unknown"


class Diagnosis(BaseModel):
    """The verdict for one or more PCs; ``model_dump(mode="json")`` is the CLI's JSON."""

    join_type: JoinType
    causes: list[Cause]
    findings: list[Finding]
    plan: list[PlanItem]
    healthy: bool
    verdict: str
    error_code: str | None = None
    error_code_meaning: str | None = None
    escalation: str | None = None
    pcs: list[PcResult] = Field(default_factory=list)
    outcome: Outcome = "problem"
    ask_for: list[CaptureRequest] = Field(default_factory=list)
    withheld: list[Withheld] = Field(default_factory=list)
    coverage: Coverage = Field(default_factory=Coverage)

    def key_evidence(self) -> str | None:
        """The top cause's first cited line (``file:line: text``; an event's readable summary when
        the finding has one), else the first finding's title."""
        top = self.causes[0] if self.causes else None
        finding = next((f for f in self.findings
                        if top is not None and f.id in top.finding_ids and f.evidence), None)
        if finding is not None:
            cite = finding.evidence[0]
            if finding.details:  # "line 3: 2026-01-11 23:09:16 UTC event 1098 0xCAA7000A …"
                return f"{cite.file} {finding.details[0]}"
            return f"{cite.file}:{cite.line}: {cite.text.strip()}"
        return self.findings[0].title if self.findings else None
