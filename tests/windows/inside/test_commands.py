"""``run`` with stand-ins where dsregcmd would be: output, decoding, exit codes, timeouts."""

import sys
from pathlib import Path

import pytest

from odfix.errors import FixFailed
from odfix.evidence import dsregcmd
from odfix.hosts.windows import NOT_FOUND_EXIT, WindowsHost

from .conftest import REPO, make_cmd

FIXTURE = REPO / "tests" / "fixtures" / "dsregcmd" / "hybrid_prt_failure_learn.txt"


def dsregcmd_standin(folder: Path, exit_code: int) -> WindowsHost:
    script = make_cmd(folder / "dsregcmd.cmd", f'type "{FIXTURE}"\nexit /b {exit_code}')
    return WindowsHost(commands={"dsregcmd": str(script)})


def test_standin_dsregcmd_output_parses(tmp_path: Path) -> None:
    result = dsregcmd_standin(tmp_path, 0).run(["dsregcmd", "/status"])
    assert result.exit_code == 0
    assert result.argv == ["dsregcmd", "/status"]
    assert result.stdout.splitlines() == FIXTURE.read_text().splitlines()
    assert dsregcmd.parse(result.stdout).join_type == "hybrid-joined"


def test_exit_code_is_kept(tmp_path: Path) -> None:
    assert dsregcmd_standin(tmp_path, 7).run(["dsregcmd.exe", "/status"]).exit_code == 7


def test_utf16_output_is_decoded(host: WindowsHost) -> None:
    code = ("import sys; sys.stdout.buffer.write('\\ufeffAzureAdJoined : YES\\r\\n'"
            ".encode('utf-16-le')); sys.stderr.write('warn'); sys.exit(3)")
    result = host.run([sys.executable, "-c", code])
    assert (result.exit_code, result.stdout, result.stderr) == (3, "AzureAdJoined : YES\r\n",
                                                                "warn")


def test_missing_program_is_exit_9009(host: WindowsHost) -> None:
    result = host.run(["dsregcmd", "/status"])
    assert result.exit_code == NOT_FOUND_EXIT
    assert "dsregcmd" in result.stderr


def test_timeout_is_a_fix_failure(host: WindowsHost) -> None:
    with pytest.raises(FixFailed, match="did not finish within 1 s"):
        host.run([sys.executable, "-c", "import time; time.sleep(20)"], timeout=1)
