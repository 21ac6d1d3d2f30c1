"""The fix engine and evidence collection on WindowsHost: a journaled Method 1 and a crash resume.

Stand-ins: dsregcmd prints a real Entra joined capture with its PRT time set to now, wevtutil
prints an empty AAD log, OneDrive.exe is the stand-in program. The guide's 10 s wait is cut to
1 s so the suite stays fast; everything else is the packaged guide.
"""

import winreg
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import win32cred

from odfix.evidence import bundle, collect
from odfix.exitcodes import ExitCode
from odfix.fix.engine import Engine, FixOptions
from odfix.fix.journal import Journal
from odfix.guide.load import load_guide
from odfix.guide.model import Guide
from odfix.hosts.base import CredType, Persist, RegValue
from odfix.hosts.windows import WindowsHost

from .conftest import REPO, delete_tree, make_cmd, wait_until
from .standin import make_standin

CAPTURE = REPO / "tests" / "fixtures" / "dsregcmd" / "entra_joined_irregular_2025.txt"
ALLOWED = ("MicrosoftOffice16_Data:SSPI:user1@contoso.com",
           "MicrosoftOffice16_Data:orgid:user1@contoso.com",
           "OneDrive Cached Credential Business - Business1")
KEPT = ("virtualapp/didlogical", "MicrosoftAccount:target=SSO_POP_Device")
ACCOUNT_KEY = r"HKCU\Software\Microsoft\OneDrive\Accounts\Business1"


class Crash(Exception):
    """The power went out."""


class CrashingHost(WindowsHost):
    """WindowsHost that dies when asked to stop OneDrive, as a crash mid-step would."""

    def stop(self, image: str, timeout: float) -> bool:
        raise Crash(f"injected crash while stopping {image}")


@pytest.fixture
def guide(tmp_path: Path) -> Guide:
    """The packaged guide with its 10 s waits cut to 1 s."""
    packaged = REPO / "src" / "odfix" / "guide" / "0x8004de40.yaml"
    text = packaged.read_text(encoding="utf-8")
    assert "args: {seconds: 10}" in text
    quick = tmp_path / "guide.yaml"
    quick.write_text(text.replace("args: {seconds: 10}", "args: {seconds: 1}"), encoding="utf-8")
    return load_guide(quick)


@pytest.fixture
def pc(tmp_path: Path) -> Iterator[dict[str, object]]:
    """Credentials, a running stand-in OneDrive, stand-in dsregcmd and wevtutil."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.000 UTC")
    capture = tmp_path / "dsregcmd_status.txt"
    capture.write_text("\n".join(
        f"AzureAdPrtUpdateTime : {stamp}" if line.startswith("AzureAdPrtUpdateTime") else line
        for line in CAPTURE.read_text().splitlines()) + "\n")
    commands = {
        "dsregcmd": str(make_cmd(tmp_path / "bin" / "dsregcmd.cmd", f'type "{capture}"')),
        "wevtutil": str(make_cmd(tmp_path / "bin" / "wevtutil.cmd", "exit /b 0")),
    }
    local = tmp_path / "local"
    exe = make_standin(local / "Microsoft" / "OneDrive", "OneDrive.exe")
    for target in (*ALLOWED, *KEPT):
        win32cred.CredWrite({"Type": CredType.GENERIC, "TargetName": target,
                             "UserName": "user1@contoso.com", "CredentialBlob": "secret",
                             "Persist": Persist.LOCAL_MACHINE}, 0)
    settings = {"commands": commands, "local_appdata": str(local), "program_files": [],
                "poll_interval": 0.1}
    host = WindowsHost(**settings)  # type: ignore[arg-type]
    host.start(str(exe), ["/background"])
    log = exe.with_name("calls.log")
    assert wait_until(lambda: log.exists() and "/background" in log.read_text())
    yield {"settings": settings, "journal": Journal(tmp_path / "journal.jsonl"), "exe": exe}
    host.stop("OneDrive.exe", 5)
    delete_tree(winreg.HKEY_CURRENT_USER, ACCOUNT_KEY.removeprefix("HKCU\\"))
    for target in (*ALLOWED, *KEPT):
        host.delete_credential(target, CredType.GENERIC)


def _engine(pc: dict[str, object], guide: Guide, host_type: type[WindowsHost] = WindowsHost,
            resume: bool = False) -> Engine:
    host = host_type(**pc["settings"])  # type: ignore[arg-type]
    options = FixOptions(apply=True, yes=True, method="credential-cleanup", resume=resume,
                         settle_s=0)
    journal = pc["journal"]
    assert isinstance(journal, Journal)
    return Engine(host, options, journal, guide=guide)


def _sign_in(pc: dict[str, object]) -> None:
    """What the person's sign-in leaves behind: OneDrive has the business account again."""
    WindowsHost(**pc["settings"]).write_registry(  # type: ignore[arg-type]
        ACCOUNT_KEY, RegValue(name="UserEmail", kind="REG_SZ", data="user1@contoso.com"))


def _end_state(pc: dict[str, object]) -> tuple[set[str], bool]:
    host = WindowsHost(**pc["settings"])  # type: ignore[arg-type]
    targets = {c.target for c in host.list_credentials()}
    return targets & {*ALLOWED, *KEPT}, host.is_running("OneDrive.exe")


def test_collect_reads_the_real_host(pc: dict[str, object]) -> None:
    files = collect.collect(WindowsHost(**pc["settings"]))  # type: ignore[arg-type]
    parsed = bundle.from_files(files, "wine")
    assert parsed.evidence.dsregcmd is not None
    assert parsed.evidence.dsregcmd.join_type == "entra-joined"
    assert parsed.evidence.credentials is not None
    assert b"secret" not in files["credentials.json"]
    for target in ALLOWED:
        assert target.encode() in files["credentials.json"]


def test_journaled_method_1_then_resume_after_sign_in(pc: dict[str, object],
                                                      guide: Guide) -> None:
    first = _engine(pc, guide).run()
    assert first.exit_code == ExitCode.NEEDS_USER, first.reason
    assert [s.status for s in first.steps if s.action] == ["done"] * 4 + ["paused"]
    assert _end_state(pc) == (set(KEPT), True)
    journal = pc["journal"]
    assert isinstance(journal, Journal)
    changes = [e.data for e in journal.entries() if e.kind == "change"]
    deleted = {c["before"]["target"] for c in changes if c.get("what") == "credential"}
    assert deleted == set(ALLOWED)
    assert all("secret" not in line for line in journal.path.read_text().splitlines())

    _sign_in(pc)
    resumed = _engine(pc, guide, resume=True).run()
    assert resumed.exit_code == ExitCode.OK, resumed.reason
    assert resumed.healthy
    assert _end_state(pc) == (set(KEPT), True)


def test_resume_after_an_injected_crash(pc: dict[str, object], guide: Guide) -> None:
    with pytest.raises(Crash):
        _engine(pc, guide, CrashingHost).run()
    assert _end_state(pc) == (set(KEPT), True)  # credentials went first; OneDrive still up
    journal = pc["journal"]
    assert isinstance(journal, Journal)
    run_id = journal.open_run(WindowsHost().owner())
    assert run_id is not None
    assert journal.finished_steps(run_id) == {"credential-cleanup/3"}

    paused = _engine(pc, guide, resume=True).run()
    assert paused.exit_code == ExitCode.NEEDS_USER, paused.reason
    assert "/shutdown" in Path(str(pc["exe"])).with_name("calls.log").read_text()
    _sign_in(pc)
    done = _engine(pc, guide, resume=True).run()
    assert done.exit_code == ExitCode.OK, done.reason
    assert _end_state(pc) == (set(KEPT), True)
    assert journal.open_run(WindowsHost().owner()) is None
