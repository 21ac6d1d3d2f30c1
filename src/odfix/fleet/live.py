"""``odfix diagnose --live``: this PC diagnosed now, and the one line Intune detection keeps.

The detection line has the keys of ``odfix fix --json`` (``FixReport.compact()``) with
``"kind": "detect"``, plus ``last``: the newest fix run the journal holds for this PC (``run``,
``exit``, ``end``, ``methods`` as ``<method>:<outcome>``). Intune keeps only the detection
script's output (before and after remediation) and the remediation's stderr, so ``last`` is
how the post-remediation line tells which methods the remediation ran and how they ended.
"""

from datetime import datetime
from typing import Any

from odfix import __version__
from odfix.diagnosis.models import Diagnosis
from odfix.fix.journal import Entry, Journal
from odfix.hosts.base import Host

LIMIT = 2048
EXIT_FOR_OUTCOME = {"healthy": 0, "problem": 1, "not-enough-evidence": 4}


def diagnose_live(host: Host, error_code: str | None = None,
                  password_changed_at: datetime | None = None) -> Diagnosis:
    """Collect this PC's evidence in memory (no bundle is written) and diagnose it."""
    from odfix.diagnosis import diagnose
    from odfix.evidence import bundle, collect

    files = collect.collect(host)
    return diagnose([bundle.from_files(files, host.hostname())], error_code=error_code,
                    password_changed_at=password_changed_at)


def _iso(when: datetime | None) -> str | None:
    return when.isoformat().replace("+00:00", "Z") if when is not None else None


def last_run(journal: Journal, owner: str) -> dict[str, Any] | None:
    """The owner's newest fix run: id, exit code (4 while it waits for the person or a restart,
    None when it stopped without an end), end time and each planned method's outcome
    (``fixed``, ``not-fixed``, ``needs-person``, ``not-run``)."""
    entries = journal.entries()
    starts = [e for e in entries if e.kind == "run-start" and e.data.get("owner") == owner]
    if not starts:
        return None
    run_id = starts[-1].run_id
    mine = [e for e in entries if e.run_id == run_id]
    plan = [str(m) for m in starts[-1].data.get("plan") or []]
    end = next((e for e in reversed(mine) if e.kind == "run-end"), None)
    waiting = mine[-1].kind == "paused" or (
        mine[-1].kind == "step-done" and mine[-1].data.get("outcome") == "reboot")
    exit_code = end.data.get("exit_code") if end is not None else 4 if waiting else None
    return {"run": run_id, "exit": exit_code,
            "end": _iso((end or mine[-1]).time),
            "methods": [f"{m}:{_outcome(m, mine, end)}" for m in plan]}


def _outcome(method: str, entries: list[Entry], end: Entry | None) -> str:
    verified = [e for e in entries if e.kind == "verify" and e.data.get("method") == method]
    if verified:
        return "fixed" if verified[-1].data.get("healthy") is True else "not-fixed"
    if any(e.kind == "paused" and (e.step or "").split("/")[0] == method for e in entries):
        return "needs-person" if end is None or end.data.get("exit_code") == 4 else "not-fixed"
    failed = any(e.kind == "step-done" and e.data.get("outcome") == "failed"
                 and (e.step or "").split("/")[0] == method for e in entries)
    return "not-fixed" if failed else "not-run"


def still_fixed(host: Host, journal: Journal, owner: str) -> str | None:
    """The run id of this PC's newest fix run that left it healthy, when it still verifies.

    The AAD log keeps the failures from before that fix, so the diagnosis alone would find the
    problem again; like ``odfix fix``, the detection then re-checks fresh evidence instead.
    """
    from odfix.fix.verify import verify

    fixed = journal.last_fixed(owner)
    if fixed is None:
        return None
    return fixed.run_id if verify(host, "recheck", fixed.time).healthy else None


def detection_line(diagnosis: Diagnosis, *, started: datetime, ended: datetime,
                   last: dict[str, Any] | None, healthy_since: str | None = None,
                   limit: int = LIMIT) -> dict[str, Any]:
    """The one JSON object a detection prints (at most ``limit`` characters as JSON).

    ``healthy_since``: the fix run after which the PC still verifies healthy (exit 0).
    """
    import json

    pc = diagnosis.pcs[0] if diagnosis.pcs else None
    doc: dict[str, Any] = {
        "kind": "detect", "run": None, "exit": EXIT_FOR_OUTCOME[diagnosis.outcome],
        "healthy": diagnosis.healthy, "applied": False,
        "cause": diagnosis.causes[0].id if diagnosis.causes else "unknown",
        "join": diagnosis.join_type,
        "plan": list(dict.fromkeys(item.method for item in diagnosis.plan)),
        "reason": diagnosis.verdict,
        "device": pc.device_id if pc else None, "host": pc.host_name if pc else None,
        "user": pc.user if pc else None, "start": _iso(started), "end": _iso(ended),
        "odfix": __version__, "last": last,
    }
    if healthy_since is not None and not diagnosis.healthy:
        doc.update(exit=0, healthy=True, plan=[],
                   reason=f"still healthy since fix run {healthy_since} (fresh checks pass; the "
                          f"log keeps the earlier failures: {diagnosis.verdict})")
    while len(json.dumps(doc, ensure_ascii=False)) > limit:
        doc["truncated"] = True
        if doc["last"] and doc["last"]["methods"]:
            doc["last"]["methods"] = doc["last"]["methods"][:-1]
        elif doc["plan"]:
            doc["plan"] = doc["plan"][:-1]
        elif doc["reason"]:
            doc["reason"] = doc["reason"][: max(0, len(doc["reason"]) - 64)]
        else:
            break
    return doc
