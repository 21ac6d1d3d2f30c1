"""The fleet summary: per cause and per method, how many PCs were found, fixed, still failing
and needing a person; and device ids seen under more than one PC name (cloned images)."""

from collections import defaultdict
from collections.abc import Iterable

from pydantic import BaseModel

from odfix.fleet.report import FleetReport


class CauseRow(BaseModel):
    """PCs whose detection found this cause, and where they ended."""

    cause: str
    found: int = 0
    fixed: int = 0
    still_failing: int = 0
    needs_person: int = 0
    not_remediated: int = 0
    """Found, but no remediation result yet (the next Intune cycle runs it)."""


class MethodRow(BaseModel):
    """PCs on which this method ran, and how it ended."""

    method: str
    ran: int = 0
    fixed: int = 0
    not_fixed: int = 0
    needs_person: int = 0


class Clone(BaseModel):
    """One Entra device id reported by several PC names: a cloned image (not sysprepped)."""

    device_id: str
    names: list[str]


class FleetSummary(BaseModel):
    """What ``odfix fleet import`` reports."""

    reports: int
    pcs: int
    healthy: int
    errors: int
    causes: list[CauseRow]
    methods: list[MethodRow]
    clones: list[Clone]


def latest_per_pc(reports: Iterable[FleetReport]) -> list[FleetReport]:
    """One report per run id (the idempotency key), then the newest per PC name."""
    by_run = {r.run_id: r for r in reports}
    newest: dict[str, FleetReport] = {}
    for report in by_run.values():
        pc = (report.device_name or report.device_id or report.run_id).casefold()
        if pc not in newest or report.ended_at > newest[pc].ended_at:
            newest[pc] = report
    return list(newest.values())


def summarize(reports: Iterable[FleetReport]) -> FleetSummary:
    """Count the PCs by cause and method; find device ids shared by several PC names."""
    everything = list(reports)
    pcs = latest_per_pc(everything)
    causes: dict[str, CauseRow] = {}
    methods: dict[str, MethodRow] = {}
    for report in pcs:
        if report.verdict in ("healthy", "error"):
            continue
        row = causes.setdefault(report.cause, CauseRow(cause=report.cause))
        row.found += 1
        if report.verdict == "fixed":
            row.fixed += 1
        elif report.verdict == "still-failing":
            row.still_failing += 1
        elif report.verdict == "needs-person":
            row.needs_person += 1
        else:
            row.not_remediated += 1
        for result in report.methods:
            if result.outcome in ("planned", "not-run", "declined"):
                continue
            line = methods.setdefault(result.method, MethodRow(method=result.method))
            line.ran += 1
            if result.outcome == "fixed":
                line.fixed += 1
            elif result.outcome == "needs-person":
                line.needs_person += 1
            else:
                line.not_fixed += 1
    names: dict[str, dict[str, str]] = defaultdict(dict)
    for report in everything:
        if report.device_id and report.device_name:
            names[report.device_id.casefold()].setdefault(report.device_name.casefold(),
                                                         report.device_name)
    clones = [Clone(device_id=device, names=sorted(seen.values()))
              for device, seen in sorted(names.items()) if len(seen) > 1]
    return FleetSummary(
        reports=len(everything), pcs=len(pcs),
        healthy=sum(r.verdict == "healthy" for r in pcs),
        errors=sum(r.verdict == "error" for r in pcs),
        causes=sorted(causes.values(), key=lambda r: (-r.found, r.cause)),
        methods=sorted(methods.values(), key=lambda r: (-r.ran, r.method)),
        clones=clones)
