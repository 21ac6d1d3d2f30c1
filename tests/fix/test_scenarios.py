"""Scenario matrix: each simulated PC ends healthy (or stops with exit 4 and the reason) after
the shortest prefix of the guide's plan, and the report names the cause the scenario models."""

import pytest

from odfix.errors import WrongContext
from odfix.exitcodes import ExitCode
from odfix.fix.engine import Engine, FixOptions
from odfix.fix.journal import Journal
from odfix.fix.rehearse import rehearse
from odfix.hosts.base import Context
from odfix.hosts.sim.person import SimulatedPerson
from odfix.hosts.simulated import load_scenario

from .conftest import folder_digest

# scenario → (cause the report names, methods run in order, exit code)
MATRIX = {
    "healthy": ("healthy", [], ExitCode.OK),
    "password-reset": ("stale-token-password-change",
                       ["new-password-sign-in", "credential-cleanup"], ExitCode.OK),
    "stale-credentials": ("stale-token-password-change",
                          ["new-password-sign-in", "credential-cleanup"], ExitCode.OK),
    "device-registration-corrupt": ("device-registration", ["reconnect-work-account"],
                                    ExitCode.OK),
    # One PC cannot tell its cloned registration from a broken one (the fleet check can).
    "cloned-image": ("device-registration", ["reconnect-work-account"], ExitCode.OK),
    "recurring-ca": ("recurring-conditional-access", ["sign-in-again"], ExitCode.OK),
    "connectivity-tls": ("connectivity-tls", ["connectivity-checks"], ExitCode.OK),
    "multiple-identities": ("multiple-identities", ["clear-office-identity"], ExitCode.OK),
    "entra-joined-needs-admin": ("device-registration", [], ExitCode.NEEDS_USER),
}


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_scenario_ends_as_expected_after_the_shortest_prefix(make_host, tmp_path, name):
    cause, methods, code = MATRIX[name]
    spec = load_scenario(name)
    host = make_host(name)
    files = folder_digest(host.onedrive_folder())
    journal = Journal(tmp_path / "journal.jsonl")
    reports = rehearse(host, FixOptions(apply=True, error_code=spec.error_code), journal)
    last = reports[-1]
    assert reports[0].cause == cause
    assert last.exit_code == code
    verified = [v for r in reports for v in r.verifications]
    assert [v.method for v in verified] == methods
    assert methods == reports[0].plan[:len(methods)]
    assert all(not v.healthy for v in verified[:-1])
    assert last.healthy == (code == ExitCode.OK)
    assert folder_digest(host.onedrive_folder()) == files
    if code == ExitCode.NEEDS_USER:
        assert "--allow-unjoin" in last.reason
    if methods:
        assert journal.entries()[-1].kind == "run-end"


def test_entra_joined_unjoin_runs_with_allow_unjoin_and_a_local_admin(make_host, tmp_path):
    host = make_host("entra-joined-needs-admin")
    old_id = host.state.registration.device_id
    reports = rehearse(host, FixOptions(apply=True, allow_unjoin=True),
                       Journal(tmp_path / "j.jsonl"))
    assert reports[-1].healthy and len(reports) == 2
    assert host.state.registration.device_id not in (None, old_id)


def test_unjoin_stops_without_a_confirmed_local_admin(make_host, tmp_path):
    host = make_host("entra-joined-needs-admin")
    host.state.person.local_admin_account = None
    reports = rehearse(host, FixOptions(apply=True, allow_unjoin=True),
                       Journal(tmp_path / "j.jsonl"))
    assert reports[-1].exit_code == ExitCode.NEEDS_USER
    assert "no local administrator account" in reports[-1].reason
    assert host.state.registration.device_id is not None


def test_hybrid_pc_takes_the_debug_leave_path(make_host, tmp_path):
    host = make_host("cloned-image")
    reports = rehearse(host, FixOptions(apply=True), Journal(tmp_path / "j.jsonl"))
    commands = [e.data["argv"] for e in Journal(tmp_path / "j.jsonl").entries()
                if e.kind == "change" and e.data.get("what") == "command"]
    assert ["dsregcmd", "/debug", "/leave"] in commands
    assert reports[-1].healthy


def test_unattended_run_pauses_at_the_person_with_exit_4_then_resumes(make_host, tmp_path):
    host = make_host("password-reset")
    journal = Journal(tmp_path / "j.jsonl")
    paused = Engine(host, FixOptions(apply=True, yes=True), journal).run()
    assert paused.exit_code == ExitCode.NEEDS_USER
    assert "--resume" in paused.reason
    assert journal.entries()[-1].kind == "paused"
    person = SimulatedPerson(host.state)
    done = Engine(host, FixOptions(apply=True, resume=True), journal, person=person).run()
    assert done.healthy and done.run_id == paused.run_id


def test_user_action_under_system_is_refused_with_exit_5(make_host, tmp_path):
    host = make_host("password-reset")
    host.state.context = Context.SYSTEM
    with pytest.raises(WrongContext, match="SYSTEM") as caught:
        Engine(host, FixOptions(apply=True, yes=True), Journal(tmp_path / "j.jsonl")).run()
    assert caught.value.code == ExitCode.WRONG_CONTEXT
    assert host.state.onedrive_running


def test_elevated_method_in_a_user_prompt_is_refused_before_any_change(make_host, tmp_path):
    host = make_host("stale-credentials")
    before = host.state.model_copy(deep=True)
    options = FixOptions(apply=True, yes=True, method="reconnect-work-account")
    with pytest.raises(WrongContext, match="elevated"):
        Engine(host, options, Journal(tmp_path / "j.jsonl")).run()
    assert host.state.credentials == before.credentials
    assert host.state.registration == before.registration


def test_dry_run_changes_nothing_and_lists_each_target(make_host, tmp_path):
    host = make_host("password-reset")
    before = host.state.model_dump()
    report = Engine(host, FixOptions(), Journal(tmp_path / "j.jsonl")).run()
    assert report.exit_code == ExitCode.PROBLEM and not report.run_id
    notes = [n for s in report.steps for n in s.notes]
    assert ("delete credential LegacyGeneric:target=OneDrive Cached Credential Business - "
            "Business1 (generic)") in notes
    assert not any("SSO_POP_Device" in n or "virtualapp" in n for n in notes)
    after = host.state.model_dump()
    assert {k: v for k, v in after.items() if k not in ("now", "events")} == {
        k: v for k, v in before.items() if k not in ("now", "events")}
    assert not (tmp_path / "j.jsonl").exists()


def test_rerunning_on_a_fixed_pc_changes_nothing(make_host, tmp_path):
    host = make_host("password-reset")
    journal = Journal(tmp_path / "j.jsonl")
    rehearse(host, FixOptions(apply=True), journal)
    creds = {(c.target, c.type) for c in host.state.credentials}
    logged = len(journal.entries())
    again = rehearse(host, FixOptions(apply=True), journal)[-1]
    assert again.healthy and again.run_id is None and "nothing to do" in again.reason
    assert {(c.target, c.type) for c in host.state.credentials} == creds
    assert len(journal.entries()) == logged


def test_unknown_method_is_bad_input(make_host, tmp_path):
    from odfix.errors import BadInput

    with pytest.raises(BadInput, match="unknown method"):
        Engine(make_host("password-reset"), FixOptions(method="nope"),
               Journal(tmp_path / "j.jsonl")).run()


def test_a_failed_command_ends_its_method_and_the_run_reports_exit_3(make_host, tmp_path):
    from odfix.hosts.sim import identity

    host = make_host("cloned-image")
    identity.set_tls12(host.state, False)
    options = FixOptions(apply=True, method="dsregcmd-leave-join")
    report = Engine(host, options, Journal(tmp_path / "j.jsonl"),
                    person=SimulatedPerson(host.state)).run()
    assert [(s.id, s.status) for s in report.steps] == [
        ("dsregcmd-leave-join/1", "done"), ("dsregcmd-leave-join/2", "failed")]
    assert report.exit_code == ExitCode.FIX_FAILED and "still not healthy" in report.reason
    assert host.state.pending_resume is None and host.state.boots == 0


class RecordingHost:
    """Delegates to a simulated PC and records every registry change odfix makes."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.registry_changes: list[str] = []

    def write_registry(self, key, value):
        self.registry_changes.append(f"{key}\\{value.name}")
        return self.inner.write_registry(key, value)

    def delete_registry_value(self, key, name):
        self.registry_changes.append(f"{key}\\{name}")
        return self.inner.delete_registry_value(key, name)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_odfix_never_changes_tls_or_cipher_settings(make_host, tmp_path, name):
    host = make_host(name)
    recorder = RecordingHost(host)
    person = SimulatedPerson(host.state)
    options = FixOptions(apply=True, allow_unjoin=True, error_code=load_scenario(name).error_code)
    report = Engine(recorder, options, Journal(tmp_path / "j.jsonl"), person=person).run()
    for _ in range(3):
        if host.state.pending_resume is None:
            break
        report = Engine(recorder, options.model_copy(update={"resume": True}),
                        Journal(tmp_path / "j.jsonl"), person=person).run()
    assert report.healthy
    touched = " ".join(recorder.registry_changes).lower()
    assert "internet settings" not in touched and "schannel" not in touched
    assert all("office\\16.0\\common\\identity" in c.lower() for c in recorder.registry_changes)


@pytest.mark.parametrize("method", ["unlink-relink-onedrive", "reset-onedrive"])
def test_method_3_and_reset_relink_the_account_and_keep_the_files(make_host, tmp_path, method):
    host = make_host("recurring-ca")
    files = folder_digest(host.onedrive_folder())
    journal = Journal(tmp_path / "j.jsonl")
    report = Engine(host, FixOptions(apply=True, method=method), journal,
                    person=SimulatedPerson(host.state)).run()
    assert report.healthy and [v.method for v in report.verifications] == [method]
    assert folder_digest(host.onedrive_folder()) == files
    if method == "reset-onedrive":
        before = next(e.data["before"] for e in journal.entries()
                      if e.kind == "change" and "registry" in e.data["before"])
        saved = before["registry"][r"HKCU\Software\Microsoft\OneDrive\Accounts\Business1"]
        assert {"name": "UserEmail", "kind": "REG_SZ", "data": "user1@contoso.com"} in saved


def test_unreadable_evidence_fails_a_check_instead_of_the_run(make_host):
    from odfix.fix.verify import Timing, verify
    from odfix.hosts.base import CommandResult

    host = make_host("healthy")
    garbled = RecordingHost(host)
    garbled.run = lambda argv, timeout=120.0: CommandResult(argv=list(argv), exit_code=0,
                                                            stdout="garbage\r\n")
    checks = {c.name: c for c in verify(garbled, "m", host.now(),
                                        timing=Timing(timeout_s=0)).checks}
    assert not checks["prt"].ok and not checks["no-new-1098"].ok
    assert checks["onedrive-account"].ok
