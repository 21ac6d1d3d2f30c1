"""``diagnose``: bundles (one per PC) to findings, ranked causes and the guide's plan."""

from collections.abc import Iterable, Sequence
from datetime import datetime

from odfix.diagnosis import causes as ranking
from odfix.diagnosis import coverage, fleet, plan
from odfix.diagnosis.models import (
    NOT_ON_PC,
    Cause,
    CauseId,
    Diagnosis,
    Finding,
    JoinType,
    PcResult,
)
from odfix.diagnosis.rules import (
    aad_events,
    connectivity,
    credentials,
    dsregcmd,
    identities,
    network,
)
from odfix.diagnosis.rules import session as sessions
from odfix.diagnosis.rules.context import RuleContext
from odfix.errors import BadInput
from odfix.evidence.bundle import Bundle
from odfix.evidence.common import Citation
from odfix.evidence.dsregcmd import DsregStatus
from odfix.guide.codes import load_catalog
from odfix.guide.load import load_guide

SEVERITY_ORDER = ("error", "warning", "info")
VERDICTS = {"problem": "Problem found", "not-enough-evidence": "Not enough evidence"}


def diagnose(bundles: Sequence[Bundle], *, error_code: str | None = None,
             password_changed_at: datetime | None = None) -> Diagnosis:
    """Diagnose one PC per bundle; an unknown ``error_code`` raises ``UnknownCode`` (exit 2)."""
    catalog = load_catalog()
    entry = catalog.lookup(error_code) if error_code else None
    favoured = ranking.code_causes(entry.code, entry.category) if entry else ()
    per_pc: dict[str, list[Finding]] = {}
    statuses: list[tuple[str, DsregStatus]] = []
    pcs: list[PcResult] = []
    looked: list[coverage.Looked] = []
    bundles = _unique_names(bundles)
    for bundle in bundles:
        _require_evidence(bundle)
        context = RuleContext(catalog=catalog, now=captured_at(bundle),
                              password_changed_at=password_changed_at)
        found, sources = _pc_findings(bundle, context)
        per_pc[bundle.name] = found
        status = bundle.evidence.dsregcmd
        if status is not None:
            statuses.append((bundle.name, status))
        pc = _pc_result(bundle, context, sources)
        pcs.append(pc)
        looked.append(coverage.looked(pc.name, sources, status, pc.session, pc.join_type))
    shared = fleet.shared_device_ids(statuses, per_pc)
    findings = _label(per_pc) if len(bundles) > 1 else [f for fs in per_pc.values() for f in fs]
    findings = sorted(shared + findings, key=lambda f: SEVERITY_ORDER.index(f.severity))

    def discount(cause: CauseId, score: float) -> float:
        return coverage.discount(score, looked, cause)

    scores = {c.id: c.confidence for c in ranking.rank(findings, favoured)}
    ranked = ranking.rank(findings, favoured, discount)
    join_type = _join_type(pcs)
    items, withheld, escalation = plan.build(ranked, findings, join_type, load_guide(), scores)
    outcome = coverage.outcome(looked, ranked, items)
    if not ranked:
        ranked = [ranking.healthy(
            findings, coverage.score(looked, coverage.CAUSE_GROUPS["healthy"]),
            sorted({g for pc in looked for g in pc.groups}), entry.code if entry else None,
            enough=outcome == "healthy")]
    groups = coverage.relevant(ranked)
    return Diagnosis(
        join_type=join_type, causes=ranked, findings=findings, plan=items,
        healthy=outcome == "healthy",
        verdict=_verdict(outcome, ranked, len(bundles), plan.handover(ranked[0], findings)),
        error_code=entry.code if entry else None,
        error_code_meaning=entry.meaning if entry else None,
        escalation=escalation, pcs=pcs, outcome=outcome, withheld=withheld,
        ask_for=coverage.ask_for(looked, groups), coverage=coverage.summary(looked, groups),
    )


def _verdict(outcome: str, ranked: Sequence[Cause], count: int, handover: str | None) -> str:
    top = ranked[0]
    if top.id != "healthy":
        verdict = f"{VERDICTS[outcome]}: {top.id} (confidence {top.confidence:.2f})"
        return f"{verdict}{NOT_ON_PC}{handover[:1].lower()}{handover[1:]}" \
            if handover else verdict
    if outcome == "healthy":
        return (f"Healthy: no sign of the 0x8004de40 family on "
                f"{count} PC{'s' if count != 1 else ''}")
    return "Not enough evidence: nothing found, but the captures cannot show the PC is healthy"


def _unique_names(bundles: Sequence[Bundle]) -> list[Bundle]:
    """Two PATHs with the same name (``a/bundle.zip``, ``b/bundle.zip``) become ``bundle``,
    ``bundle-2``, so findings and citations stay distinct."""
    seen: dict[str, int] = {}
    unique = []
    for bundle in bundles:
        seen[bundle.name] = seen.get(bundle.name, 0) + 1
        count = seen[bundle.name]
        unique.append(bundle if count == 1 else
                      bundle.model_copy(update={"name": f"{bundle.name}-{count}"}))
    return unique


def _require_evidence(bundle: Bundle) -> None:
    """A PATH with nothing odfix can read is bad input, not a healthy PC."""
    if any(value is not None for value in bundle.evidence.model_dump(exclude_none=True).values()):
        return
    why = "; ".join(bundle.problems) or "expected captures such as dsregcmd_status.txt"
    raise BadInput(f"{bundle.name}: no evidence odfix can read ({why})")


def _pc_findings(bundle: Bundle, context: RuleContext) -> tuple[list[Finding], list[str]]:
    evidence = bundle.evidence
    found: list[Finding] = []
    sources: list[str] = []
    if evidence.dsregcmd is not None:
        sources.append("dsregcmd")
        found += dsregcmd.findings(evidence.dsregcmd, context)
    if evidence.aad_events is not None:
        sources.append("aad_events")
        found += aad_events.findings(evidence.aad_events, context)
    if evidence.credentials is not None:
        sources.append("credentials")
        found += credentials.findings(evidence.credentials, context)
    if evidence.office_identity is not None:
        sources.append("identities")
        found += identities.office(evidence.office_identity)
    if evidence.onedrive is not None:
        sources.append("identities")
        found += identities.onedrive(evidence.onedrive)
    if evidence.connectivity is not None:
        sources.append("network")
        found += connectivity.findings(evidence.connectivity,
                                       bundle.files.get(connectivity.FILE))
    if evidence.network is not None:
        sources.append("network")
        failing = any(f.id == "aad.network-errors" or
                      (f.source == connectivity.SOURCE and f.severity == "error") for f in found)
        found += network.findings(evidence.network, failing)
    return found, list(dict.fromkeys(sources))


def captured_at(bundle: Bundle) -> datetime | None:
    """When the evidence was captured: the manifest's time, else the newest time it shows."""
    manifest = bundle.manifest
    if manifest is not None and manifest.time is not None:
        return manifest.time
    return max(_evidence_times(bundle), default=None)


def _evidence_times(bundle: Bundle) -> Iterable[datetime]:
    evidence = bundle.evidence
    status = evidence.dsregcmd
    if status is not None:
        prt = status.prt
        yield from (t for t in (prt.update_time, prt.enterprise_update_time) if t)
        yield from (d.previous_attempt for d in prt.diagnostics if d.previous_attempt)
        if status.registration and status.registration.client_time:
            yield status.registration.client_time
    if evidence.aad_events is not None:
        yield from (e.time for e in evidence.aad_events.events if e.time)
    if evidence.credentials is not None:
        yield from (c.last_written for c in evidence.credentials.credentials if c.last_written)


def _user(bundle: Bundle) -> str | None:
    """The signed-in user's UPN: dsregcmd's executing account, else OneDrive's work account."""
    status = bundle.evidence.dsregcmd
    if status is not None and status.user_upn:
        return status.user_upn
    onedrive = bundle.evidence.onedrive
    for account in onedrive.business_accounts if onedrive is not None else []:
        if account.user_email is not None and account.user_email.value:
            return str(account.user_email.value)
    return None


def _pc_result(bundle: Bundle, context: RuleContext, sources: list[str]) -> PcResult:
    status = bundle.evidence.dsregcmd
    host = bundle.manifest.host_name if bundle.manifest is not None else None
    session = sessions.read(status) if status is not None else None
    return PcResult(
        name=bundle.name,
        host_name=host or (status.device_name if status else None),
        join_type=_pc_join_type(status, session),
        device_id=status.device_id if status else None,
        user=_user(bundle),
        captured_at=context.now.isoformat() if context.now else None,
        sources=sources,
        problems=list(bundle.problems),
        session=session.kind if session else "unknown",
    )


def _pc_join_type(status: DsregStatus | None, session: sessions.Session | None) -> JoinType:
    """The join type. Registered or not is the user's WorkplaceJoined: a capture taken as SYSTEM
    or cut before User State cannot tell an Entra registered PC from an unregistered one."""
    if status is None:
        return "unknown"
    if status.join_type in ("entra-registered", "none") and (
            status.section("User State") is None
            or (session is not None and session.kind == "system")):
        return "unknown"
    return status.join_type


def _join_type(pcs: Sequence[PcResult]) -> JoinType:
    kinds = {pc.join_type for pc in pcs}
    return kinds.pop() if len(kinds) == 1 else "unknown"


def _label(per_pc: dict[str, list[Finding]]) -> list[Finding]:
    """With several PCs: ``id@PC`` and ``PC/file`` so every id and citation stays unambiguous."""
    return [
        finding.model_copy(update={
            "id": f"{finding.id}@{pc}", "pc": pc,
            "evidence": [Citation(file=f"{pc}/{c.file}", line=c.line, text=c.text)
                         for c in finding.evidence],
        })
        for pc, found in per_pc.items() for finding in found
    ]
