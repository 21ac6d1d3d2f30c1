"""``FleetReport``: one PC's odfix run, as the console ingests it and the Intune import makes it.

It is derived from the one JSON line that ``odfix fix --json`` (and ``odfix diagnose --live
--json --compact``) print, the line Intune keeps (2,048 characters at most), so a report read
back from Intune and one posted from the PC have the same shape. ``run_id`` is the idempotency
key: a receiver that sees the same ``run_id`` twice keeps one.

Keys of the line (``FixReport.compact()``): ``run exit healthy applied cause join plan reason
steps checks`` and ``device host user start end odfix``; steps are ``<method>/<n>:<status>``,
checks ``<method>:<check>=ok|fail,...``.
"""

import hashlib
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from odfix.errors import BadInput

SCHEMA: Literal["odfix.fleet-report/1"] = "odfix.fleet-report/1"
Source = Literal["cli", "intune"]
Kind = Literal["detect", "fix"]
Outcome = Literal["fixed", "not-fixed", "needs-person", "declined", "planned", "not-run"]
Verdict = Literal["healthy", "fixed", "problem", "still-failing", "needs-person", "error"]
OUTCOMES: tuple[Outcome, ...] = ("fixed", "not-fixed", "needs-person", "declined", "planned",
                                 "not-run")


class MethodResult(BaseModel):
    """What one guide method did on the PC.

    ``fixed``: verified healthy after it; ``not-fixed``: it ran (or a step failed) and the
    verification still failed; ``needs-person``: a step waits for the user (sign-in, MFA, a
    restart); ``declined``: the technician said no; ``planned``: a dry run or a detection listed
    it; ``not-run``: the run ended before it.
    """

    method: str
    outcome: Outcome


class FleetReport(BaseModel):
    """One run of odfix on one PC (a detection or a fix), from the CLI or read back from Intune."""

    schema_: Literal["odfix.fleet-report/1"] = Field(SCHEMA, alias="schema")
    run_id: str = Field(min_length=1, max_length=200)
    """Idempotency key: the fix run id (``20261120T090000Z-1a2b3c``); for a run without a
    journal entry a digest of device, host and start time; Intune: ``intune:<state id>:<time>``."""
    source: Source
    kind: Kind
    device_id: str | None = None
    """The Entra device id from ``dsregcmd /status`` (cloned images share one)."""
    device_name: str | None = None
    user: str | None = None
    """The signed-in user's UPN (a keyed token when the bundle was pseudonymised)."""
    join_type: str = "unknown"
    cause: str
    methods: list[MethodResult] = Field(default_factory=list)
    verdict: Verdict
    exit_code: int
    reason: str = ""
    started_at: datetime
    ended_at: datetime
    odfix_version: str

    model_config = {"populate_by_name": True}

    def dump(self) -> dict[str, Any]:
        """The JSON document (``schema`` key spelled as on the wire)."""
        return self.model_dump(mode="json", by_alias=True)


def verdict_for(exit_code: int, methods_ran: bool) -> Verdict:
    """The verdict an exit code means (``methods_ran``: a method ran and was verified)."""
    if exit_code == 0:
        return "fixed" if methods_ran else "healthy"
    verdicts: dict[int, Verdict] = {1: "problem", 3: "still-failing", 4: "needs-person"}
    return verdicts.get(exit_code, "error")


def _method_outcomes(plan: list[str], steps: list[str], checks: list[str],
                     applied: bool) -> list[MethodResult]:
    verified: dict[str, bool] = {}
    for check in checks:
        method, _, results = check.partition(":")
        verified[method] = all(part.endswith("=ok") for part in results.split(",") if part)
    statuses: dict[str, set[str]] = {}
    for step in steps:
        step_id, _, status = step.rpartition(":")
        statuses.setdefault(step_id.split("/", 1)[0], set()).add(status)
    out: list[MethodResult] = []
    for method in plan:
        seen = statuses.get(method, set())
        outcome: Outcome
        if method in verified:
            outcome = "fixed" if verified[method] else "not-fixed"
        elif "paused" in seen:
            outcome = "needs-person"
        elif "declined" in seen:
            outcome = "declined"
        elif "failed" in seen:
            outcome = "not-fixed"
        elif not applied:
            outcome = "planned"
        else:
            outcome = "not-run"
        out.append(MethodResult(method=method, outcome=outcome))
    return out


def _time(value: Any, fallback: datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return fallback
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return fallback


def _strings(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else []


def from_line(doc: dict[str, Any], *, source: Source = "cli", kind: Kind = "fix",
              run_id: str | None = None, now: datetime | None = None) -> FleetReport:
    """A ``FleetReport`` from the one JSON line of ``odfix fix --json`` (or a detection).

    ``run_id`` overrides the line's; without either, a digest of device, host and start time.
    Times missing from the line (older odfix) become ``now``. Raises ``BadInput`` when the
    document is not such a line (no ``exit``, or an ``{"error": …}`` document).
    """
    if not isinstance(doc, dict) or "exit" not in doc or "cause" not in doc:
        raise BadInput("not an odfix report line (it needs at least 'exit' and 'cause')")
    now = now or datetime.now(UTC)
    exit_code = doc.get("exit")
    if not isinstance(exit_code, int) or isinstance(exit_code, bool):
        raise BadInput(f"not an odfix report line: 'exit' is {exit_code!r}")
    applied = bool(doc.get("applied"))
    started = _time(doc.get("start"), now)
    ended = _time(doc.get("end"), started)
    key = run_id or doc.get("run") or _digest(doc.get("device"), doc.get("host"), started)
    methods = _method_outcomes(_strings(doc.get("plan")), _strings(doc.get("steps")),
                               _strings(doc.get("checks")), applied)
    ran = any(m.outcome == "fixed" for m in methods)
    try:
        return FleetReport(
            run_id=str(key), source=source, kind=kind,
            device_id=_opt(doc.get("device")), device_name=_opt(doc.get("host")),
            user=_opt(doc.get("user")), join_type=str(doc.get("join") or "unknown"),
            cause=str(doc.get("cause") or "unknown"),
            methods=methods, verdict=verdict_for(exit_code, ran), exit_code=exit_code,
            reason=str(doc.get("reason") or ""), started_at=started, ended_at=ended,
            odfix_version=str(doc.get("odfix") or "unknown"))
    except ValidationError as error:
        raise BadInput(f"not an odfix report line: {error.errors()[0]['msg']}") from None


def _opt(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _digest(device: Any, host: Any, started: datetime) -> str:
    text = f"{device}|{host}|{started.isoformat()}"
    return "d-" + hashlib.sha256(text.encode()).hexdigest()[:20]
