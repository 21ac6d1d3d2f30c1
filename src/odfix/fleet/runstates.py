"""Intune Remediations run states → ``FleetReport``: from a file, or pulled from Graph.

Graph keeps one ``deviceHealthScriptDeviceState`` per device and script
(``GET /beta/deviceManagement/deviceHealthScripts/{id}/deviceRunStates``, permission
DeviceManagementConfiguration.Read.All): ``detectionState`` (unknown, success, fail, scriptError,
pending, notApplicable), ``remediationState`` (unknown, skipped, success, remediationFailed,
scriptError), ``lastStateUpdateDateTime``, the detection script's output before and after
remediation (``preRemediationDetectionScriptOutput``, ``postRemediationDetectionScriptOutput``),
the stderr of each script (``…Error``, ``remediationScriptError``) and, with
``$expand=managedDevice``, the device. The remediation script's stdout is not kept, which is why
the post-remediation detection line carries the fix run in ``last`` (``odfix.fleet.live``).
"""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, ValidationError

from odfix.errors import BadInput
from odfix.fleet.report import OUTCOMES, FleetReport, MethodResult, Outcome, Verdict, from_line

if TYPE_CHECKING:
    from odfix.tenant.graph import GraphClient

RUN_STATES = "/beta/deviceManagement/deviceHealthScripts/{id}/deviceRunStates"
EXPAND = "managedDevice($select=id,deviceName,azureADDeviceId,userPrincipalName)"
NOT_RUN = ("pending", "notApplicable", "unknown")


class ManagedDevice(BaseModel):
    """The expanded ``managedDevice`` (only the fields odfix reads)."""

    model_config = ConfigDict(extra="ignore")

    id: str | None = None
    deviceName: str | None = None
    azureADDeviceId: str | None = None
    userPrincipalName: str | None = None


class RunState(BaseModel):
    """One ``deviceHealthScriptDeviceState`` (Graph's property names)."""

    model_config = ConfigDict(extra="ignore")

    id: str
    detectionState: str | None = None
    remediationState: str | None = None
    lastStateUpdateDateTime: str | None = None
    preRemediationDetectionScriptOutput: str | None = None
    preRemediationDetectionScriptError: str | None = None
    remediationScriptError: str | None = None
    postRemediationDetectionScriptOutput: str | None = None
    postRemediationDetectionScriptError: str | None = None
    managedDevice: ManagedDevice | None = None


def read_file(path: Path) -> list[RunState]:
    """Run states from a saved Graph answer: one page (``{"value": [...]}``), a list of
    states, or JSON Lines of either (pages appended one per line)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not UTF-8 text (save the Graph answer as JSON)") from None
    try:
        documents = [json.loads(text)]
    except json.JSONDecodeError:
        try:
            documents = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as error:
            raise BadInput(f"{path}: not JSON or JSON Lines ({error.msg} at line "
                           f"{error.lineno})") from None
    records: list[Any] = []
    for document in documents:
        if isinstance(document, dict) and isinstance(document.get("value"), list):
            records.extend(document["value"])
        elif isinstance(document, list):
            records.extend(document)
        elif isinstance(document, dict) and "id" in document:
            records.append(document)
        else:
            raise BadInput(f"{path}: not a deviceRunStates answer (no 'value' list)")
    return parse_states(records, str(path))


def parse_states(records: list[Any], source: str) -> list[RunState]:
    """Validate Graph records; the first bad one is ``BadInput`` naming its position."""
    states = []
    for number, record in enumerate(records, start=1):
        try:
            states.append(RunState.model_validate(record))
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "record"
            raise BadInput(f"{source}: run state {number}: {where}: {first['msg']}") from None
    return states


def pull(client: "GraphClient", script_id: str) -> list[RunState]:
    """Every run state of one remediation script, the device expanded, all pages."""
    if not script_id.strip() or "/" in script_id or "?" in script_id:
        raise BadInput(f"--script-id: {script_id!r} is not a remediation script id")
    records: list[Any] = []
    for page in client.pages(RUN_STATES.format(id=script_id), {"$expand": EXPAND},
                             paced=False):
        records.extend(page)
    return parse_states(records, f"Graph deviceRunStates of {script_id}")


def _line(output: str | None) -> dict[str, Any] | None:
    """The last line of a script's output that is an odfix JSON object, if any."""
    for line in reversed((output or "").splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                doc = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(doc, dict) and "exit" in doc and "cause" in doc:
                return doc
    return None


def _time(text: str | None) -> datetime:
    if text:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.now(UTC)


def _methods(last: dict[str, Any]) -> list[MethodResult]:
    out = []
    for item in last.get("methods") or []:
        method, _, outcome = str(item).rpartition(":")
        if method and outcome in OUTCOMES:
            result: Outcome = outcome  # type: ignore[assignment]
            out.append(MethodResult(method=method, outcome=result))
    return out


def _first_line(text: str | None) -> str:
    return next((line.strip() for line in (text or "").splitlines() if line.strip()), "")


def to_report(state: RunState) -> FleetReport | None:
    """The ``FleetReport`` of one run state; None when the script has not run on the device."""
    key = f"intune:{state.id}:{state.lastStateUpdateDateTime or ''}"
    when = _time(state.lastStateUpdateDateTime)
    device = state.managedDevice or ManagedDevice()
    pre = _line(state.preRemediationDetectionScriptOutput)
    post = _line(state.postRemediationDetectionScriptOutput)
    if pre is None and post is None:
        if state.detectionState in NOT_RUN or state.detectionState is None:
            return None
        reason = (_first_line(state.preRemediationDetectionScriptError)
                  or f"the detection script gave no odfix line ({state.detectionState})")
        return FleetReport(run_id=key, source="intune", kind="detect",
                           device_id=device.azureADDeviceId, device_name=device.deviceName,
                           user=device.userPrincipalName, cause="unknown", verdict="error",
                           exit_code=70, reason=reason, started_at=when, ended_at=when,
                           odfix_version="unknown")
    found = from_line(pre or post or {}, source="intune", kind="detect", run_id=key, now=when)
    found = found.model_copy(update={  # Intune names the PC; dsregcmd's device id wins
        "device_id": found.device_id or device.azureADDeviceId,
        "device_name": device.deviceName or found.device_name,
        "user": found.user or device.userPrincipalName})
    if post is None:
        return found
    return _after_remediation(found, post, state)


def _after_remediation(found: FleetReport, post: dict[str, Any],
                       state: RunState) -> FleetReport:
    """The detection's report, updated with what the remediation's fix run did."""
    last = post.get("last") if isinstance(post.get("last"), dict) else None
    fixed_now = post.get("exit") == 0
    if last is not None and _time(last.get("end")) < found.started_at:
        last = None  # a fix run from before this detection: the remediation never journaled
    fix_exit = last.get("exit") if last is not None else None
    verdict: Verdict
    if fixed_now:
        verdict, code = "fixed", 0
    elif fix_exit == 4:
        verdict, code = "needs-person", 4
    elif fix_exit is None and state.remediationState == "scriptError":
        verdict, code = "error", 70
    else:
        verdict, code = "still-failing", fix_exit if isinstance(fix_exit, int) else 3
    reason = str(post.get("reason") or "")
    if state.remediationScriptError and not fixed_now:
        reason = f"{reason} (remediation: {_first_line(state.remediationScriptError)})".strip()
    after = from_line(post, source="intune", kind="detect", run_id=found.run_id,
                      now=found.ended_at)
    return found.model_copy(update={
        "kind": "fix", "run_id": str(last["run"]) if last and last.get("run") else found.run_id,
        "methods": _methods(last) if last else [], "verdict": verdict, "exit_code": code,
        "reason": reason, "ended_at": max(after.ended_at, found.ended_at)})
