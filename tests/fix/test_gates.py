"""Destructive methods need proof and a live gate; clear_office_identity moves, never deletes;
verification reports "not confirmed" when OneDrive never tried again."""

from typing import Any

from odfix.exitcodes import ExitCode
from odfix.fix import actions
from odfix.fix.engine import Engine, FixOptions, diagnose_host
from odfix.fix.journal import Journal
from odfix.guide.load import load_guide
from odfix.hosts.base import CommandResult, Context
from odfix.hosts.sim.person import SimulatedPerson
from odfix.hosts.simulated import SimulatedHost

from .conftest import folder_digest


class Wrapped:
    """Delegates to a simulated PC; ``dsregcmd_after`` garbles dsregcmd once set."""

    def __init__(self, inner: SimulatedHost) -> None:
        self.inner = inner
        self.garble_dsregcmd = False
        self.commands: list[list[str]] = []
        self.start_does_nothing = False

    def run(self, argv: Any, timeout: float = 120.0) -> CommandResult:
        self.commands.append(list(argv))
        if self.garble_dsregcmd and argv[0] == "dsregcmd":
            return CommandResult(argv=list(argv), exit_code=0, stdout="Access is denied.\r\n")
        return self.inner.run(argv, timeout)

    def start(self, path: str, args: Any = ()) -> None:
        if not self.start_does_nothing:
            self.inner.start(path, args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _engine(host: Any, tmp_path, **options: Any) -> Engine:
    person = SimulatedPerson(host.inner.state if isinstance(host, Wrapped) else host.state)
    return Engine(host, FixOptions(apply=True, **options), Journal(tmp_path / "j.jsonl"),
                  person=person)


def test_a_destructive_method_without_justifying_findings_does_not_run(make_host, tmp_path):
    host = make_host("device-registration-corrupt")
    device = host.state.registration.model_copy()
    engine = _engine(host, tmp_path)
    diagnosis = diagnose_host(host)
    assert "reconnect-work-account" in [i.method for i in diagnosis.plan]
    engine.diagnosis = diagnosis.model_copy(update={"plan": [
        i.model_copy(update={"justified_by": []}) for i in diagnosis.plan]})
    report = engine.run()
    assert report.exit_code == ExitCode.NEEDS_USER
    assert "does not show that a registration exists" in report.reason
    assert host.state.registration == device and host.state.opened_uris == []


def test_findings_named_but_absent_from_the_diagnosis_do_not_justify(make_host, tmp_path):
    host = make_host("device-registration-corrupt")
    engine = _engine(host, tmp_path)
    diagnosis = diagnose_host(host)
    engine.diagnosis = diagnosis.model_copy(update={"plan": [
        i.model_copy(update={"justified_by": ["made-up"]}) for i in diagnosis.plan]})
    assert engine.run().exit_code == ExitCode.NEEDS_USER
    assert host.state.opened_uris == []


def test_no_destructive_step_while_the_live_join_type_is_unknown(make_host, tmp_path):
    host = Wrapped(make_host("cloned-image"))
    engine = _engine(host, tmp_path)
    engine.diagnosis = diagnose_host(host)  # planned while dsregcmd still answered
    host.garble_dsregcmd = True
    report = engine.run()
    assert report.exit_code == ExitCode.NEEDS_USER and "join type is unknown" in report.reason
    assert not any("/leave" in argv for argv in host.commands)
    assert host.inner.state.registration.device_id is not None


class Declines(SimulatedPerson):
    """A person who answers no to the checklist before a removal, yes to everything else."""

    def confirm(self, question: str) -> bool:
        self.log.append(question)
        return "Is every item done?" not in question


def test_an_unattended_leave_needs_the_checklist_vouched_for(make_host, tmp_path):
    """--yes has no person to confirm "Before removing a device or account registration" (the
    BitLocker key, Intune/Autopilot, a local admin, the right to join, unsynced uploads)."""
    host = Wrapped(make_host("cloned-image"))
    report = Engine(host, FixOptions(apply=True, yes=True), Journal(tmp_path / "a.jsonl")).run()
    assert report.exit_code == ExitCode.NEEDS_USER
    assert "checklist" in report.reason and "--allow-unjoin" in report.reason
    assert not any("/leave" in argv for argv in host.commands)
    assert host.inner.state.registration.device_id is not None
    vouched = Engine(host, FixOptions(apply=True, yes=True, allow_unjoin=True),
                     Journal(tmp_path / "b.jsonl")).run()
    assert "checklist" not in vouched.reason
    assert ["dsregcmd", "/debug", "/leave"] in host.commands


def test_a_person_who_has_not_done_the_checklist_stops_the_removal(make_host, tmp_path):
    host = make_host("cloned-image")
    person = Declines(host.state)
    report = Engine(host, FixOptions(apply=True), Journal(tmp_path / "j.jsonl"),
                    person=person).run()
    assert report.exit_code == ExitCode.NEEDS_USER and "checklist" in report.reason
    asked = next(q for q in person.log if "Is every item done?" in q)
    assert "BitLocker" in asked and "local administrator" in asked and "upload" in asked
    assert host.state.registration.device_id is not None


def test_leave_refuses_when_dsregcmd_cannot_tell_the_join_type(make_host):
    host = Wrapped(make_host("cloned-image"))
    host.garble_dsregcmd = True
    guide = load_guide()
    leave = next(s.action for s in guide.method("dsregcmd-leave-join").steps_for("hybrid-joined")
                 if s.action and s.action.name == "dsregcmd_leave")
    runtime = actions.Runtime(host=host, guide=guide, record=lambda c: None, resume_argv=[],
                              perform=lambda t, i: None)
    result = actions.run(leave, runtime, "leave")
    assert result.outcome == "failed" and "join type" in result.notes[0]
    assert not any("/leave" in argv for argv in host.commands)


def test_leave_on_an_entra_joined_pc_needs_allow_unjoin_in_the_action_too(make_host):
    host = make_host("entra-joined-needs-admin")
    host.state.context = Context.ELEVATED
    guide = load_guide()
    # The guide never plans a leave on an Entra joined PC (it re-provisions instead); the action
    # must still refuse one there by itself, so take the hybrid path's leave.
    leave = next(s.action for s in guide.method("dsregcmd-leave-join").steps_for("hybrid-joined")
                 if s.action and s.action.name == "dsregcmd_leave")
    changes: list[dict[str, Any]] = []
    runtime = actions.Runtime(host=host, guide=guide, record=changes.append, resume_argv=[],
                              perform=lambda t, i: None)
    assert actions.run(leave, runtime, "leave").outcome == "failed"
    assert changes == [] and host.state.registration.device_id is not None
    runtime.allow_unjoin = True
    assert actions.run(leave, runtime, "leave").outcome == "done"
    assert host.state.registration.device_id is None


def test_clear_office_identity_moves_the_caches_aside_after_onedrive_quit(make_host, tmp_path):
    host = make_host("multiple-identities")
    files = folder_digest(host.onedrive_folder())
    journal = Journal(tmp_path / "j.jsonl")
    report = Engine(host, FixOptions(apply=True, error_code="0x8004DE86"), journal,
                    person=SimulatedPerson(host.state)).run()
    assert report.healthy
    base = host.state.local_appdata + r"\Microsoft"
    moves = [e.data for e in journal.entries() if e.kind == "change"
             and e.data.get("what") == "folder"]
    assert [m["path"] for m in moves] == [base + r"\OneAuth", base + r"\IdentityCache"]
    for move in moves:
        assert move["moved_to"].startswith(move["path"] + ".odfix-20261120T")
        assert move["moved_to"] in host.state.folders  # kept, so a rename restores it
    assert folder_digest(host.onedrive_folder()) == files


def test_clear_office_identity_refuses_while_onedrive_runs(make_host):
    host = make_host("multiple-identities")
    guide = load_guide()
    changes: list[dict[str, Any]] = []
    runtime = actions.Runtime(host=host, guide=guide, record=changes.append, resume_argv=[],
                              perform=lambda t, i: None)
    action = next(s.action for s in guide.method("clear-office-identity").steps
                  if s.action and s.action.name == "clear_office_identity")
    folders = list(host.state.folders)
    result = actions.run(action, runtime, "clear")
    assert result.outcome == "failed" and "still running" in result.notes[0]
    assert changes == [] and host.state.folders == folders


def test_nothing_happened_is_not_confirmed_rather_than_fixed(make_host, tmp_path):
    host = Wrapped(make_host("healthy"))
    host.start_does_nothing = True  # OneDrive never comes back: no attempt, no failure
    began = host.now()
    report = Engine(host, FixOptions(apply=True, yes=True, method="clear-office-identity",
                                     verify_timeout_s=60), Journal(tmp_path / "j.jsonl")).run()
    assert report.exit_code == ExitCode.NEEDS_USER and not report.healthy
    assert report.reason.startswith("not confirmed after clear-office-identity")
    (check,) = report.verifications
    assert check.status == "not-confirmed" and check.attempt is None
    assert all(c.ok for c in check.checks)
    assert (host.now() - began).total_seconds() < 60 + 30  # bounded wait


def test_a_restarted_onedrive_that_settles_confirms_the_fix(make_host, tmp_path):
    host = make_host("healthy")
    report = Engine(host, FixOptions(apply=True, yes=True, method="clear-office-identity"),
                    Journal(tmp_path / "j.jsonl")).run()
    assert report.healthy and report.verifications[0].attempt is not None
    assert "kept running" in report.verifications[0].attempt
