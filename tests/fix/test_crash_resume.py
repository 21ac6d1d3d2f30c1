"""Crash injection: a run killed at any change, then ``--resume``d (again after each restart),
ends in the same state as an uninterrupted run."""

from typing import Any

import pytest

from odfix.fix.engine import Engine, FixOptions
from odfix.fix.journal import Journal
from odfix.hosts.sim.person import SimulatedPerson
from odfix.hosts.simulated import SimulatedHost

READS = (("dsregcmd", "/status"), ("wevtutil",), ("netsh",))
CHANGING = ("delete_credential", "write_registry", "delete_registry_value", "start", "stop",
            "open_uri", "schedule_resume", "cancel_resume", "reboot")


class Crash(Exception):
    """The process died."""


class CrashingHost:
    """Delegates to a simulated PC and dies before its ``crash_at``-th change (0: never)."""

    def __init__(self, inner: SimulatedHost, crash_at: int) -> None:
        self.inner = inner
        self.crash_at = crash_at
        self.changes = 0

    def _change(self) -> None:
        self.changes += 1
        if self.changes == self.crash_at:
            raise Crash(f"crash at change {self.changes}")

    def run(self, argv: Any, timeout: float = 120.0) -> Any:
        if not any(tuple(a.lower() for a in argv[:len(r)]) == r for r in READS):
            self._change()
        return self.inner.run(argv, timeout)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name in CHANGING:
            def changing(*args: Any, **kwargs: Any) -> Any:
                self._change()
                return attr(*args, **kwargs)
            return changing
        return attr


def fingerprint(host: SimulatedHost) -> dict[str, Any]:
    """What the fix is about, without clocks and logs (times differ between runs)."""
    state = host.state
    return {
        "credentials": sorted((c.target, c.type) for c in state.credentials),
        "registry": {k: sorted(v.name for v in vs) for k, vs in state.registry.items() if vs},
        "registration": state.registration.model_dump(exclude={"prt_issued_at",
                                                              "prt_updated_at"}),
        "prt": state.registration.prt_updated_at is not None,
        "onedrive": (state.onedrive_running, state.onedrive_status),
        "device_serial": state.device_serial,
        "known_devices": state.tenant.known_device_ids,
        "pending_resume": state.pending_resume,
    }


def finish(host: SimulatedHost, first: Any, journal: Journal) -> bool:
    """Run once on ``first`` (the crashing wrapper or the host), then resume until done."""
    person = SimulatedPerson(host.state)
    try:
        report = Engine(first, FixOptions(apply=True), journal, person=person).run()
    except Crash:
        report = None
    for _ in range(6):
        if report is not None and host.state.pending_resume is None:
            break
        report = Engine(host, FixOptions(apply=True, resume=True), journal,
                        person=person).run()
    assert report is not None
    return report.healthy


@pytest.mark.parametrize("name", ["password-reset", "cloned-image", "multiple-identities",
                                  "connectivity-tls", "device-registration-corrupt"])
def test_crash_at_every_change_then_resume_matches_an_uninterrupted_run(make_host, tmp_path,
                                                                       name):
    reference = make_host(name)
    counter = CrashingHost(reference, crash_at=0)
    assert finish(reference, counter, Journal(tmp_path / "reference.jsonl"))
    expected = fingerprint(reference)
    assert counter.changes >= 3, counter.changes
    for crash_at in range(1, counter.changes + 1):
        host = make_host(name)
        journal = Journal(tmp_path / f"crash{crash_at}.jsonl")
        assert finish(host, CrashingHost(host, crash_at), journal), f"crash at {crash_at}"
        assert fingerprint(host) == expected, f"crash at change {crash_at}"
