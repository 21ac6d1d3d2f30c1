"""Method 2 on a hybrid joined PC through a reboot: RunOnce written, ``shutdown /r`` asked for,
then at the "next logon" the RunOnce command line itself runs ``odfix fix --resume``.

Stand-ins: dsregcmd logs its arguments and prints a real hybrid joined capture (PRT failing before
the reboot, renewed after it, as the Automatic-Device-Join task would leave it); shutdown logs its
arguments; wevtutil prints an empty AAD log; OneDrive.exe is the stand-in program.
"""

import json
import subprocess
import sys
import winreg
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from odfix.exitcodes import ExitCode
from odfix.fix.engine import Engine, FixOptions
from odfix.fix.journal import Journal
from odfix.hosts.base import RegValue
from odfix.hosts.windows import RESUME_VALUE, RUNONCE_KEY, WindowsHost

from .conftest import REPO, delete_tree, make_cmd
from .standin import make_standin

CAPTURE = REPO / "tests" / "fixtures" / "dsregcmd" / "hybrid_prt_failure_learn.txt"
ACCOUNT_KEY = r"HKCU\Software\Microsoft\OneDrive\Accounts\Business1"


def renewed(capture: str) -> str:
    """The capture after a successful re-registration: a PRT issued just now."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.000 UTC")
    return capture.replace("AzureAdPrt : NO",
                           f"AzureAdPrt : YES\n      AzureAdPrtUpdateTime : {stamp}")


def broken(capture: str) -> str:
    """The capture with a device key that cannot sign: what justifies Method 2 on this PC."""
    return capture.replace("KeySignTest : PASSED", "KeySignTest : FAILED")


@pytest.fixture
def pc(tmp_path: Path) -> Iterator[dict[str, Path]]:
    bin_dir = tmp_path / "bin"
    files = {"capture": tmp_path / "dsregcmd_status.txt", "dsreg_log": tmp_path / "dsregcmd.log",
             "shutdown_log": tmp_path / "shutdown.log", "journal": tmp_path / "journal.jsonl",
             "config": tmp_path / "odfix resume" / "config.json"}
    files["capture"].write_text(broken(CAPTURE.read_text()))
    commands = {
        "dsregcmd": make_cmd(bin_dir / "dsregcmd.cmd", f'echo %*>> "{files["dsreg_log"]}"\n'
                             f'if /i "%1"=="/status" type "{files["capture"]}"'),
        "shutdown": make_cmd(bin_dir / "shutdown.cmd", f'echo %*> "{files["shutdown_log"]}"'),
        "wevtutil": make_cmd(bin_dir / "wevtutil.cmd", "exit /b 0"),
    }
    local = tmp_path / "local"
    files["onedrive"] = make_standin(local / "Microsoft" / "OneDrive", "OneDrive.exe")
    host_settings = {"commands": {k: str(v) for k, v in commands.items()},
                     "local_appdata": str(local), "program_files": [], "poll_interval": 0.1}
    driver = Path(__file__).with_name("resume_driver.py")
    resume_argv = [sys.executable, str(driver), str(files["config"])]
    files["config"].parent.mkdir()
    files["config"].write_text(json.dumps({"host": host_settings, "resume_argv": resume_argv,
                                           "journal": str(files["journal"])}))
    yield files
    host = WindowsHost(**host_settings)  # type: ignore[arg-type]
    host.stop("OneDrive.exe", 5)
    host.cancel_resume()
    delete_tree(winreg.HKEY_CURRENT_USER, ACCOUNT_KEY.removeprefix("HKCU\\"))


def logon() -> subprocess.CompletedProcess[str]:
    """What Windows does with RunOnce at the next logon: delete the value, run its command."""
    with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUNONCE_KEY.removeprefix("HKCU\\"), 0,
                        winreg.KEY_ALL_ACCESS) as key:
        command, _ = winreg.QueryValueEx(key, RESUME_VALUE)
        winreg.DeleteValue(key, RESUME_VALUE)
    return subprocess.run(f"cmd /c {command}", capture_output=True, text=True, check=False,
                          timeout=120)


def test_method_2_reboots_and_resumes_from_runonce(pc: dict[str, Path]) -> None:
    config = json.loads(pc["config"].read_text())
    host = WindowsHost(**config["host"])
    # unattended: --allow-unjoin vouches for the checklist before the leave
    options = FixOptions(apply=True, yes=True, allow_unjoin=True, method="reconnect-work-account",
                         settle_s=0, resume_argv=config["resume_argv"])
    journal = Journal(pc["journal"])
    before = Engine(host, options, journal).run()

    assert before.join_type == "hybrid-joined"
    assert before.exit_code == ExitCode.NEEDS_USER, before.reason
    assert [s.status for s in before.steps] == ["done", "done"]
    assert "/debug /leave" in pc["dsreg_log"].read_text()
    assert pc["shutdown_log"].read_text().startswith("/r /t 60 /c ")
    queued = host.read_registry(RUNONCE_KEY, RESUME_VALUE)
    assert queued is not None
    assert queued.data == subprocess.list2cmdline(config["resume_argv"])
    assert journal.open_run(WindowsHost().owner()) == before.run_id

    # The reboot: the device registers again and the person signs in to OneDrive.
    pc["capture"].write_text(renewed(CAPTURE.read_text()))
    host.write_registry(ACCOUNT_KEY, RegValue(name="UserEmail", kind="REG_SZ",
                                              data="user1@contoso.com"))
    resumed = logon()

    assert resumed.returncode == ExitCode.OK, resumed.stdout + resumed.stderr[-2000:]
    report = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert report["run"] == before.run_id and report["healthy"] is True
    assert host.is_running("OneDrive.exe")
    assert journal.open_run(WindowsHost().owner()) is None
    assert host.read_registry(RUNONCE_KEY, RESUME_VALUE) is None
