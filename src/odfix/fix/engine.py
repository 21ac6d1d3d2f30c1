"""The fix engine: a fresh diagnosis, the guide's steps for its plan, consent, journal, verify.

Plan: the diagnosis names methods (``Diagnosis.plan``); the guide gives each method's steps for
the PC's join type; each step's action is carried out by ``odfix.fix.actions`` by name. Without
``apply`` nothing changes and the report lists what would. With it, every step is asked for
(unless ``yes``), journalled with the before-state of each change, and each method is followed by
its test and a verification with fresh evidence; the run stops as soon as the PC is healthy.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from odfix.diagnosis.models import Diagnosis
from odfix.errors import BadInput, WrongContext
from odfix.evidence import dsregcmd
from odfix.evidence.common import ParseError
from odfix.evidence.connectivity import Prober
from odfix.exitcodes import ExitCode
from odfix.fix import actions
from odfix.fix.journal import Entry, Journal, RunStart, new_run_id
from odfix.fix.person import Person
from odfix.fix.verify import (
    POLL_S,
    SETTLE_S,
    TIMEOUT_S,
    Timing,
    Verification,
    account_state,
    verify,
)
from odfix.guide.load import load_guide
from odfix.guide.model import Guide, Method, Step, StepContext
from odfix.hosts.base import Context, Host

StepStatus = Literal["planned", "done", "done-before", "skipped", "paused", "failed", "declined"]
ELEVATED_ACTIONS = ("dsregcmd_leave", "dsregcmd_join")
UNJOIN_REASON = (
    "Method 2 on an Entra joined PC unjoins the device; it needs --allow-unjoin and a confirmed "
    "local administrator account (sign-in with Entra credentials is impossible until it rejoins)")
RESTART_ACTION = "reboot_with_resume"
Narrator = Callable[[str, str], None]


class FixOptions(BaseModel):
    """What the command line asked for."""

    apply: bool = False
    yes: bool = False
    method: str | None = None
    resume: bool = False
    allow_unjoin: bool = False
    error_code: str | None = None
    settle_s: float = SETTLE_S
    verify_timeout_s: float = TIMEOUT_S
    poll_s: float = POLL_S
    resume_argv: list[str] = Field(default_factory=lambda: ["odfix", "fix", "--resume",
                                                            "--apply"])


class StepReport(BaseModel):
    """One step of the plan and what happened to it."""

    id: str
    method: str
    title: str
    action: str | None
    context: str
    status: StepStatus
    notes: list[str] = Field(default_factory=list)


class FixReport(BaseModel):
    """The outcome of ``odfix fix``."""

    run_id: str | None = None
    cause: str
    cause_summary: str = ""
    join_type: str
    plan: list[str]
    applied: bool
    steps: list[StepReport] = Field(default_factory=list)
    verifications: list[Verification] = Field(default_factory=list)
    healthy: bool = False
    exit_code: int = int(ExitCode.OK)
    reason: str = ""
    escalation: str | None = None
    host_name: str | None = None
    device_id: str | None = None
    user: str | None = None
    evidence: str | None = None
    """The diagnosis's key evidence line (``file:line: text``), for the ticket note."""
    started_at: datetime | None = None
    ended_at: datetime | None = None

    def compact(self, limit: int = 2048) -> dict[str, Any]:
        """One JSON object that fits in ``limit`` characters (Intune keeps only 2,048)."""
        import json

        from odfix import __version__

        doc: dict[str, Any] = {
            "run": self.run_id, "exit": self.exit_code, "healthy": self.healthy,
            "applied": self.applied, "cause": self.cause, "join": self.join_type,
            "plan": self.plan, "reason": self.reason,
            "steps": [f"{s.id}:{s.status}" for s in self.steps if s.status != "skipped"],
            "checks": [f"{v.method}:attempt={'ok' if v.attempt else 'fail'},"
                       + ",".join(f"{c.name}={'ok' if c.ok else 'fail'}" for c in v.checks)
                       for v in self.verifications],
            "device": self.device_id, "host": self.host_name, "user": self.user,
            "start": _iso(self.started_at), "end": _iso(self.ended_at), "odfix": __version__,
        }
        while len(json.dumps(doc, ensure_ascii=False)) > limit:
            if doc["steps"]:
                doc["steps"] = doc["steps"][:-1]
                doc["truncated"] = True
            elif doc["checks"]:
                doc["checks"] = doc["checks"][:-1]
                doc["truncated"] = True
            else:
                doc["reason"] = doc["reason"][: max(0, len(doc["reason"]) - 64)]
                doc["truncated"] = True
        return doc


def _iso(when: datetime | None) -> str | None:
    return when.isoformat().replace("+00:00", "Z") if when is not None else None


def diagnose_host(host: Host, error_code: str | None = None) -> Diagnosis:
    """Collect evidence from the host and diagnose it, as ``odfix diagnose`` would."""
    from odfix.diagnosis.engine import diagnose
    from odfix.evidence import bundle, collect

    files = collect.collect(host)
    return diagnose([bundle.from_files(files, host.hostname())], error_code=error_code)


def live_join_type(host: Host) -> str:
    """The join type ``dsregcmd /status`` shows right now (``unknown`` when it cannot tell)."""
    result = host.run(["dsregcmd", "/status"])
    if result.exit_code != 0:
        return "unknown"
    try:
        return str(dsregcmd.parse(result.stdout).join_type)
    except ParseError:
        return "unknown"


def destructive_steps(method: Method, steps: list[tuple[str, Step]]) -> set[str]:
    """The steps of a destructive method that unjoin, unregister or remove an account, or lead
    up to that: everything up to its first ``dsregcmd /leave`` (included) or its first restart
    (excluded). What follows rejoins or reconnects."""
    if not method.destructive:
        return set()
    found: set[str] = set()
    for step_id, step in steps:
        name = step.action.name if step.action else None
        if name == RESTART_ACTION:
            break
        found.add(step_id)
        if name == "dsregcmd_leave":
            break
    return found


def quiet(kind: str, text: str) -> None:
    """A narrator that says nothing."""


class Engine:
    """One ``odfix fix`` run on one host."""

    def __init__(self, host: Host, options: FixOptions, journal: Journal, *,
                 person: Person | None = None, guide: Guide | None = None,
                 narrate: Narrator = quiet, probe: Prober | None = None) -> None:
        """``probe`` opens real network connections for ``report_connectivity`` (None on a
        simulated PC: nothing leaves the process)."""
        self.host = host
        self.probe = probe
        self.owner = host.owner()
        self.options = options
        self.journal = journal
        self.person = person
        self.guide = guide or load_guide()
        self.narrate = narrate
        self.run_id: str | None = None
        self.step_id: str | None = None
        self.diagnosis: Diagnosis | None = None
        """This process's diagnosis of the live PC (never one read from the journal)."""
        self.admin: str | None = None
        self.checked: set[str] = set()
        """The checklists confirmed in this run (asked once, before the first risky step)."""
        self.timing = Timing(settle_s=options.settle_s, timeout_s=options.verify_timeout_s,
                             poll_s=options.poll_s)

    # -- planning -------------------------------------------------------------------------
    def _method(self, method_id: str) -> Method:
        try:
            return self.guide.method(method_id)
        except KeyError:
            known = ", ".join(m.id for m in self.guide.methods)
            raise BadInput(f"unknown method {method_id!r}; the guide has {known}") from None

    def _steps(self, method_id: str, join_type: str) -> list[tuple[str, Step]]:
        method = self._method(method_id)
        return [(f"{method_id}/{i}", step)
                for i, step in enumerate(method.steps_for(join_type), start=1)]

    def _check_context(self, steps: list[tuple[str, Step]]) -> None:
        """Refuse, before a method changes anything, a step this context cannot do (exit 5)."""
        context = self.host.context()
        for step_id, step in steps:
            if step.action is None:
                continue
            if context is Context.SYSTEM and step.context in (StepContext.USER, StepContext.UI):
                raise WrongContext(
                    f"step {step_id} ({step.title}) needs the user's own session, but odfix "
                    "runs as SYSTEM; run it as the signed-in user")
            if context is Context.USER and step.action.name in ELEVATED_ACTIONS:
                raise WrongContext(
                    f"step {step_id} ({step.title}) needs an elevated prompt; run odfix "
                    "fix from an administrator prompt")

    def _diagnose(self) -> Diagnosis:
        if self.diagnosis is None:
            self.diagnosis = diagnose_host(self.host, self.options.error_code)
        return self.diagnosis

    # -- the run --------------------------------------------------------------------------
    def run(self) -> FixReport:
        """Plan, then (with ``apply``) carry out, verify and journal; timed and named by PC."""
        started = self.host.now()
        report = self._run()
        report.started_at = started
        report.ended_at = self.host.now()
        report.host_name = report.host_name or self.host.hostname()
        return report

    def _run(self) -> FixReport:
        """One run per host at once; an unknown method is refused before anything."""
        if self.options.method:
            self._method(self.options.method)  # an unknown method never reaches the journal
        if not self.options.apply:
            return self._start()
        with self.journal.lock(self.owner):
            if self.options.resume and (open_run := self.journal.open_run(self.owner)):
                return self._resume(open_run)
            if not self.options.method and (done := self._still_fixed()):
                return done
            return self._start()

    def _start(self) -> FixReport:
        diagnosis = self._diagnose()
        top = diagnosis.causes[0]
        plan = [self.options.method] if self.options.method else list(
            dict.fromkeys(item.method for item in diagnosis.plan))
        pc = diagnosis.pcs[0] if diagnosis.pcs else None
        report = FixReport(cause=top.id, cause_summary=top.summary, plan=plan,
                           join_type=diagnosis.join_type, applied=self.options.apply,
                           escalation=diagnosis.escalation,
                           host_name=pc.host_name if pc else None,
                           device_id=pc.device_id if pc else None, user=pc.user if pc else None,
                           evidence=diagnosis.key_evidence())
        self.narrate("diagnosis", diagnosis.verdict)
        if diagnosis.healthy and not self.options.method:
            report.healthy = True
            report.reason = diagnosis.verdict
            return report
        if not self.options.apply:
            return self._dry_run(report)
        if not plan:
            report.exit_code = int(ExitCode.FIX_FAILED)
            report.reason = f"the guide has no method for {top.id}: {diagnosis.escalation or ''}"
            return report
        self.run_id = new_run_id(self.host.now())
        report.run_id = self.run_id
        self._log("run-start", owner=self.owner, cause=top.id, join_type=report.join_type,
                  plan=plan, unattended=self.options.yes, method=self.options.method,
                  verdict=diagnosis.verdict, escalation=diagnosis.escalation,
                  host=self.host.hostname(), device_id=report.device_id, user=report.user,
                  evidence=report.evidence,
                  justified_by={i.method: i.justified_by for i in diagnosis.plan if i.destructive})
        return self._apply(report, set())

    def _resume(self, run_id: str) -> FixReport:
        start: RunStart = self.journal.run_start(run_id)
        for method_id in start.plan:
            self._method(method_id)
        entries = self.journal.entries(run_id)
        last = entries[-1]
        instruction = last.data.get("instruction")
        if last.kind == "paused" and not isinstance(instruction, str):
            raise BadInput(f"run {run_id} in {self.journal.path}: its paused entry has no "
                           "instruction; it cannot be resumed — run odfix fix --apply to start "
                           "afresh")
        self.run_id = run_id
        report = FixReport(run_id=run_id, cause=start.cause, plan=list(start.plan),
                           join_type=start.join_type, applied=True,
                           escalation=start.escalation, device_id=start.device_id,
                           user=start.user, evidence=start.evidence)
        self.narrate("resume", f"resuming run {run_id} ({', '.join(report.plan)})")
        self.host.cancel_resume()
        if last.kind == "paused" and self.person is not None:
            self.person.perform(f"Before resuming ({last.step})", str(instruction))
        verified = frozenset(str(e.data.get("method")) for e in entries if e.kind == "verify")
        started = {str(e.step).split("/")[0]: e.time for e in reversed(entries)
                   if e.kind == "step-start" and e.step}
        finished = self.journal.finished_steps(run_id)
        if (last.kind == "step-done" and last.data.get("outcome") == "reboot" and last.step
                and self.host.boot_time() < last.time):
            self.narrate("resume", f"the restart of {last.step} never happened: doing it now")
            finished.discard(last.step)
        return self._apply(report, finished, verified, started, _Earlier(entries))

    def _still_fixed(self) -> FixReport | None:
        """Idempotence: a PC an earlier run of this host fixed, and that still verifies, is left
        alone (the AAD log keeps the failures from before that fix, so a new diagnosis would plan
        again). Only when OneDrive has run since then without a failure."""
        fixed = self.journal.last_fixed(self.owner)
        if fixed is None:
            return None
        check = verify(self.host, "recheck", fixed.time, timing=self.timing)
        if not check.healthy:
            return None
        start = next((e for e in self.journal.entries(fixed.run_id) if e.kind == "run-start"),
                     None)
        cause = start.data.get("cause", "healthy") if start else "healthy"
        return FixReport(cause=str(cause), join_type="unknown", plan=[], applied=False,
                         verifications=[check], healthy=True,
                         reason=f"still healthy since run {fixed.run_id}; nothing to do")

    def _dry_run(self, report: FixReport) -> FixReport:
        for method_id in report.plan:
            for step_id, step in self._steps(method_id, report.join_type):
                notes = (actions.preview(step.action, self.host, self.guide,
                                         self.options.resume_argv)
                         if step.action else ["(navigation: done by the steps that follow)"])
                report.steps.append(StepReport(
                    id=step_id, method=method_id, title=step.title,
                    action=step.action.name if step.action else None,
                    context=step.context.value, status="planned", notes=notes))
        report.exit_code = int(ExitCode.PROBLEM)
        report.reason = "dry run: nothing was changed; add --apply to run these steps"
        return report

    def _apply(self, report: FixReport, finished: set[str],
               verified: frozenset[str] = frozenset(),
               started: dict[str, datetime] | None = None,
               earlier: "_Earlier | None" = None) -> FixReport:
        earlier = earlier or _Earlier([])
        for method_id in report.plan:
            if method_id in verified:
                report.steps.extend(
                    self._step_report(method_id, step_id, step, "done-before",
                                      earlier.notes.get(step_id))
                    for step_id, step in self._steps(method_id, report.join_type))
                report.verifications.extend(earlier.verifications.get(method_id, []))
                continue
            method = self._method(method_id)
            steps = self._steps(method_id, report.join_type)
            remaining = [(step_id, step) for step_id, step in steps if step_id not in finished]
            try:
                self._check_context(remaining)
            except WrongContext as error:
                self._end(report, ExitCode.WRONG_CONTEXT, error.message)
                raise
            risky = destructive_steps(method, steps)
            if any(step_id in risky for step_id, _ in remaining) and (
                    why := self._unjustified(method)):
                return self._end(report, ExitCode.NEEDS_USER, why)
            self.narrate("method", f"{method.title} ({method_id})")
            since = (started or {}).get(method_id) or self.host.now()
            before = None if method_id in (started or {}) else account_state(self.host)
            for step_id, step in steps:
                if step_id in finished:
                    report.steps.append(self._step_report(method_id, step_id, step, "done-before",
                                                          earlier.notes.get(step_id)))
                    continue
                if step_id in risky and (blocked := self._gate(method, step_id, step,
                                                               report.join_type)):
                    report.steps.append(self._step_report(method_id, step_id, step, "skipped",
                                                          [blocked]))
                    return self._end(report, ExitCode.NEEDS_USER, blocked)
                outcome = self._do_step(report, method_id, step_id, step)
                if isinstance(outcome, FixReport):
                    return outcome
                if outcome == "failed":
                    self.narrate("method", f"{method_id} stops after the failed step {step_id}")
                    break
            self._test(method)
            verification = verify(self.host, method_id, self.host.now(), since, before,
                                  timing=self.timing)
            report.verifications.append(verification)
            self._log("verify", method=method_id, healthy=verification.healthy,
                      status=verification.status, attempt=verification.attempt,
                      checks=[c.model_dump() for c in verification.checks])
            self.narrate("check", f"{verification.status}: "
                                  f"{verification.attempt or 'no sign that OneDrive tried again'}")
            for check in verification.checks:
                self.narrate("check", f"{'ok' if check.ok else 'FAIL'} {check.name}: "
                                      f"{check.detail}")
            if verification.status == "fixed":
                report.healthy = True
                return self._end(report, ExitCode.OK, f"healthy after {method_id}")
            if verification.status == "not-confirmed":
                return self._end(report, ExitCode.NEEDS_USER, (
                    f"not confirmed after {method_id}: the checks pass, but OneDrive showed no "
                    f"sign of signing in again within {self.timing.timeout_s:g} s (no new AAD "
                    "event, no new account state, no fresh OneDrive process); start OneDrive, "
                    "check that it signs in, then run odfix fix --apply to verify"))
        reason = "still not healthy after " + ", ".join(report.plan)
        if report.escalation:
            reason += f". {report.escalation}"
        return self._end(report, ExitCode.FIX_FAILED, reason)

    def _unjustified(self, method: Method) -> str | None:
        """Why this process's diagnosis of the live PC does not justify a destructive method."""
        diagnosis = self._diagnose()
        item = next((i for i in diagnosis.plan if i.method == method.id), None)
        if item is None and self.options.method == method.id:
            item = next((i for i in diagnosis.plan if i.destructive and i.justified_by), None)
        present = {f.id for f in diagnosis.findings}
        if item is not None and item.justified_by and set(item.justified_by) <= present:
            self.narrate("gate", f"{method.id} is justified by " + ", ".join(item.justified_by))
            return None
        return (f"{method.id} unjoins, unregisters or removes a work account, and the evidence "
                "on this PC does not show that a registration exists and is what is broken; "
                "odfix does not run it. Collect dsregcmd /status and the AAD log (odfix collect) "
                "and escalate")

    def _gate(self, method: Method, step_id: str, step: Step, planned: str) -> str | None:
        """Why a step that could unjoin or unregister the PC may not run now (None: it may).

        Decided from the live PC (dsregcmd /status now) and this command line, never from the
        journal.
        """
        live = live_join_type(self.host)
        if live == "unknown":
            return (f"step {step_id} could unjoin or unregister this PC and its join type is "
                    "unknown right now (dsregcmd /status unreadable); odfix does not go on")
        if step.action is not None and step.action.name == "dsregcmd_leave" and (
                live not in actions.LEAVE_JOIN_TYPES):
            return None  # nothing left to leave; the action says so
        variant = method.variant_for(planned)
        written_for = [str(t) for t in variant.join_types] if variant else [planned]
        if live not in written_for:
            return (f"step {step_id} was planned for a {'/'.join(written_for)} PC, but this PC "
                    f"is {live} now; run odfix fix --apply to plan again")
        if blocked := self._checklist(variant.checklist if variant else None):
            return blocked
        if live != "entra-joined" and step.context is not StepContext.LOCAL_ADMIN:
            return None
        if not self.options.allow_unjoin:
            return UNJOIN_REASON
        if self.admin is None:
            self.admin = self.person.local_admin_account() if self.person else None
            if self.admin is None:
                return "no local administrator account was confirmed; " + UNJOIN_REASON
            self.narrate("gate", f"local administrator account confirmed: {self.admin}")
        return None

    def _checklist(self, checklist_id: str | None) -> str | None:
        """Why the checklist before a removal (the guide's ``before-unjoin``) is not done yet.

        The person at the PC confirms it, item by item in one question; an unattended run
        (``--yes``) goes on only with ``--allow-unjoin``, the technician's word that it is done.
        """
        checklist_id = checklist_id or next((c.id for c in self.guide.checklists), None)
        if checklist_id is None or checklist_id in self.checked:
            return None
        checklist = self.guide.checklist(checklist_id)
        if self.person is None and not self.options.allow_unjoin:
            return (f'this step removes a registration and the checklist "{checklist.title}" '
                    "is not confirmed: run odfix fix --apply with a person at the PC, or add "
                    "--allow-unjoin once every item is done")
        if self.person is not None and not self.person.confirm(
                f"{checklist.title}: " + " ".join(f"[ ] {i.text}" for i in checklist.items)
                + " Is every item done?"):
            return (f'the checklist "{checklist.title}" is not done; odfix removes no '
                    "registration before it is (escalate the item that fails)")
        self.checked.add(checklist_id)
        self.narrate("gate", f'checklist "{checklist.title}" confirmed')
        return None

    def _test(self, method: Method) -> None:
        """The guide's test after a method, done by the person when one is there."""
        if self.person is not None:
            self.narrate("test", method.test.text)
            self.person.perform(f"Test after {method.id}", method.test.text)

    def _do_step(self, report: FixReport, method_id: str, step_id: str,
                 step: Step) -> FixReport | StepStatus:
        """Ask, run, journal one step; a report when the run must stop, else the step status."""
        if step.action is None:
            report.steps.append(self._step_report(method_id, step_id, step, "skipped"))
            return "skipped"
        self.step_id = step_id
        preview = actions.preview(step.action, self.host, self.guide, self.options.resume_argv)
        if not self.options.yes and not (
                self.person and self.person.confirm(f"{step.title}: {'; '.join(preview)}")):
            report.steps.append(self._step_report(method_id, step_id, step, "declined"))
            return self._end(report, ExitCode.NEEDS_USER, f"step {step_id} was declined")
        self._log("step-start", method=method_id, action=step.action.name, title=step.title)
        runtime = actions.Runtime(host=self.host, guide=self.guide, record=self._change,
                                  resume_argv=self.options.resume_argv, perform=self._perform,
                                  allow_unjoin=self.options.allow_unjoin, probe=self.probe)
        result = actions.run(step.action, runtime, step.title)
        if result.problem is not None and result.outcome == "done":
            result = self._fix_by_person(step, result)
        status: StepStatus = {"done": "done", "failed": "failed", "reboot": "done",
                              "needs-person": "paused"}[result.outcome]  # type: ignore[assignment]
        report.steps.append(self._step_report(method_id, step_id, step, status, result.notes))
        for note in result.notes:
            self.narrate("step", f"{step_id} {step.title}: {note}")
        if result.outcome == "needs-person":
            self._log("paused", reason="needs the person", instruction=" ".join(result.notes))
            report.reason = (f"step {step_id} needs the person: {' '.join(result.notes)} "
                             "Then run: odfix fix --resume --apply")
            report.exit_code = int(ExitCode.NEEDS_USER)
            return report
        self._log("step-done", outcome=result.outcome, notes=result.notes)
        if result.outcome == "reboot":
            self.host.reboot()
            report.reason = "restarting; odfix fix --resume runs at the next logon"
            report.exit_code = int(ExitCode.NEEDS_USER)
            return report
        return status

    def _fix_by_person(self, step: Step, result: actions.Result) -> actions.Result:
        """A read-only check found a problem only a person may fix (odfix never changes TLS)."""
        instruction = f"{step.text} Found: {result.problem}."
        answer = self._perform(step.title, instruction)
        if answer is None:
            return actions.Result("needs-person", [instruction])
        return actions.Result("done" if answer else "failed", [
            *result.notes, "the person fixed it" if answer else "the person could not fix it"])

    def _perform(self, title: str, instruction: str) -> bool | None:
        if self.person is None:
            return None
        self.narrate("person", f"{title}: {instruction}")
        return self.person.perform(title, instruction)

    # -- journal --------------------------------------------------------------------------
    def _log(self, kind: str, **data: Any) -> None:
        assert self.run_id is not None
        step = self.step_id if kind in ("step-start", "step-done", "paused", "change") else None
        self.journal.append(Entry.model_validate({
            "run_id": self.run_id, "kind": kind, "time": self.host.now(), "step": step,
            "data": data}))

    def _change(self, change: dict[str, Any]) -> None:
        self._log("change", **change)

    def _end(self, report: FixReport, code: ExitCode, reason: str) -> FixReport:
        report.exit_code = int(code)
        report.reason = reason
        if self.run_id is not None:
            self._log("run-end", exit_code=int(code), reason=reason, healthy=report.healthy)
        return report

    @staticmethod
    def _step_report(method_id: str, step_id: str, step: Step, status: StepStatus,
                     notes: list[str] | None = None) -> StepReport:
        return StepReport(id=step_id, method=method_id, title=step.title,
                          action=step.action.name if step.action else None,
                          context=step.context.value, status=status, notes=notes or [])


class _Earlier:
    """What a resumed run's journal says its earlier part did: each finished step's notes and
    each verified method's checks, so the resumed report (and its ticket note) covers the whole
    run. A hand-edited entry that does not read as such is left out, never trusted."""

    def __init__(self, entries: list[Entry]) -> None:
        self.notes: dict[str, list[str]] = {}
        self.verifications: dict[str, list[Verification]] = {}
        for entry in entries:
            if entry.kind == "step-done" and entry.step:
                notes = entry.data.get("notes")
                if isinstance(notes, list):
                    self.notes[entry.step] = [n for n in notes if isinstance(n, str)]
            elif entry.kind == "verify":
                try:
                    check = Verification.model_validate(entry.data)
                except ValidationError:
                    continue
                self.verifications.setdefault(check.method, []).append(check)

