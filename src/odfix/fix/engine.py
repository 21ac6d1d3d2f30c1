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

from pydantic import BaseModel, Field

from odfix.diagnosis.models import Diagnosis
from odfix.errors import BadInput, WrongContext
from odfix.exitcodes import ExitCode
from odfix.fix import actions
from odfix.fix.journal import Entry, Journal, new_run_id
from odfix.fix.person import Person
from odfix.fix.verify import Verification, verify
from odfix.guide.load import load_guide
from odfix.guide.model import Guide, Method, Step, StepContext
from odfix.hosts.base import Context, Host

StepStatus = Literal["planned", "done", "done-before", "skipped", "paused", "failed", "declined"]
ELEVATED_ACTIONS = ("dsregcmd_leave", "dsregcmd_join")
UNJOIN_REASON = (
    "Method 2 on an Entra joined PC unjoins the device; it needs --allow-unjoin and a confirmed "
    "local administrator account (sign-in with Entra credentials is impossible until it rejoins)")
Narrator = Callable[[str, str], None]


class FixOptions(BaseModel):
    """What the command line asked for."""

    apply: bool = False
    yes: bool = False
    method: str | None = None
    resume: bool = False
    allow_unjoin: bool = False
    error_code: str | None = None
    settle_s: float = 3.0
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
            "checks": [f"{v.method}:" + ",".join(f"{c.name}={'ok' if c.ok else 'fail'}"
                                                   for c in v.checks)
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


def quiet(kind: str, text: str) -> None:
    """A narrator that says nothing."""


class Engine:
    """One ``odfix fix`` run on one host."""

    def __init__(self, host: Host, options: FixOptions, journal: Journal, *,
                 person: Person | None = None, guide: Guide | None = None,
                 narrate: Narrator = quiet) -> None:
        self.host = host
        self.options = options
        self.journal = journal
        self.person = person
        self.guide = guide or load_guide()
        self.narrate = narrate
        self.run_id: str | None = None
        self.step_id: str | None = None

    # -- planning -------------------------------------------------------------------------
    def _steps(self, method_id: str, join_type: str) -> list[tuple[str, Step]]:
        try:
            method = self.guide.method(method_id)
        except KeyError:
            known = ", ".join(m.id for m in self.guide.methods)
            raise BadInput(f"unknown method {method_id!r}; the guide has {known}") from None
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
        if self.options.resume and (open_run := self.journal.open_run()) is not None:
            return self._resume(open_run)
        if self.options.apply and not self.options.method and (done := self._still_fixed()):
            return done
        diagnosis = diagnose_host(self.host, self.options.error_code)
        top = diagnosis.causes[0]
        plan = [self.options.method] if self.options.method else list(
            dict.fromkeys(item.method for item in diagnosis.plan))
        pc = diagnosis.pcs[0] if diagnosis.pcs else None
        report = FixReport(cause=top.id, cause_summary=top.summary, plan=plan,
                           join_type=diagnosis.join_type, applied=self.options.apply,
                           escalation=diagnosis.escalation,
                           host_name=pc.host_name if pc else None,
                           device_id=pc.device_id if pc else None, user=pc.user if pc else None)
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
        self._log("run-start", cause=top.id, join_type=report.join_type, plan=plan,
                  allow_unjoin=self.options.allow_unjoin, unattended=self.options.yes,
                  method=self.options.method, verdict=diagnosis.verdict,
                  escalation=diagnosis.escalation, host=self.host.hostname(),
                  device_id=report.device_id, user=report.user)
        return self._apply(report, set())

    def _resume(self, run_id: str) -> FixReport:
        start = next((e for e in self.journal.entries(run_id) if e.kind == "run-start"), None)
        if start is None:
            raise BadInput(f"run {run_id} in {self.journal.path} has no run-start entry")
        data = start.data
        self.run_id = run_id
        report = FixReport(run_id=run_id, cause=data["cause"], plan=list(data["plan"]),
                           join_type=data["join_type"], applied=True,
                           escalation=data.get("escalation"), device_id=data.get("device_id"),
                           user=data.get("user"))
        self.options = self.options.model_copy(
            update={"allow_unjoin": self.options.allow_unjoin or data.get("allow_unjoin", False)})
        self.narrate("resume", f"resuming run {run_id} ({', '.join(report.plan)})")
        self.host.cancel_resume()
        entries = self.journal.entries(run_id)
        if entries[-1].kind == "paused" and self.person is not None:
            last = entries[-1]
            self.person.perform(f"Before resuming ({last.step})", str(last.data["instruction"]))
        verified = frozenset(str(e.data["method"]) for e in entries if e.kind == "verify")
        return self._apply(report, self.journal.finished_steps(run_id), verified)

    def _still_fixed(self) -> FixReport | None:
        """Idempotence: a PC an earlier run fixed, and that still verifies, is left alone.

        The AAD log keeps the failures from before that fix, so a new diagnosis would plan
        again; instead, when nothing failed since the earlier run ended, nothing is done.
        """
        fixed = self.journal.last_fixed()
        if fixed is None:
            return None
        check = verify(self.host, "recheck", self.options.settle_s, since=fixed.time)
        if not check.healthy:
            return None
        cause = next((e.data["cause"] for e in self.journal.entries(fixed.run_id)
                      if e.kind == "run-start"), "healthy")
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
               verified: frozenset[str] = frozenset()) -> FixReport:
        for method_id in report.plan:
            method = self.guide.method(method_id)
            steps = self._steps(method_id, report.join_type)
            if method_id in verified:
                continue
            remaining = [(step_id, step) for step_id, step in steps if step_id not in finished]
            try:
                self._check_context(remaining)
            except WrongContext as error:
                self._end(report, ExitCode.WRONG_CONTEXT, error.message)
                raise
            if blocked := self._gate(remaining):
                return self._end(report, ExitCode.NEEDS_USER, blocked)
            self.narrate("method", f"{method.title} ({method_id})")
            for step_id, step in steps:
                if step_id in finished:
                    report.steps.append(self._step_report(method_id, step_id, step, "done-before"))
                    continue
                outcome = self._do_step(report, method_id, step_id, step)
                if isinstance(outcome, FixReport):
                    return outcome
                if outcome == "failed":
                    self.narrate("method", f"{method_id} stops after the failed step {step_id}")
                    break
            self._test(method)
            verification = verify(self.host, method_id, self.options.settle_s)
            report.verifications.append(verification)
            self._log("verify", method=method_id, healthy=verification.healthy,
                      checks=[c.model_dump() for c in verification.checks])
            for check in verification.checks:
                self.narrate("check", f"{'ok' if check.ok else 'FAIL'} {check.name}: "
                                      f"{check.detail}")
            if verification.healthy:
                report.healthy = True
                return self._end(report, ExitCode.OK, f"healthy after {method_id}")
        reason = "still not healthy after " + ", ".join(report.plan)
        if report.escalation:
            reason += f". {report.escalation}"
        return self._end(report, ExitCode.FIX_FAILED, reason)

    def _gate(self, steps: list[tuple[str, Step]]) -> str | None:
        """Why a method that unjoins the PC may not run now (None when it may)."""
        if not any(step.context is StepContext.LOCAL_ADMIN for _, step in steps):
            return None
        if not self.options.allow_unjoin:
            return UNJOIN_REASON
        account = self.person.local_admin_account() if self.person else None
        if account is None:
            return "no local administrator account was confirmed; " + UNJOIN_REASON
        self.narrate("gate", f"local administrator account confirmed: {account}")
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
                                  resume_argv=self.options.resume_argv, perform=self._perform)
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
