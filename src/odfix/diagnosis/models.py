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
__all__ = ["CAUSE_IDS", "Cause", "CauseId", "Diagnosis", "Finding", "JoinType", "PcResult",
           "PlanItem", "Severity", "StepContext"]

CAUSE_IDS: tuple[CauseId, ...] = get_args(CauseId)


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
