"""``run`` with stand-ins where dsregcmd would be: output, decoding, exit codes, timeouts."""

import sys
import time
from pathlib import Path

import pytest

from odfix.errors import FixFailed
from odfix.evidence import dsregcmd
from odfix.hosts.windows import NOT_FOUND_EXIT, WindowsHost

from .conftest import REPO, make_cmd
from .standin import make_standin

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


def test_timeout_also_ends_what_the_command_started(tmp_path: Path) -> None:
    sleeper = f'"{sys.executable}" -c "import time; time.sleep(30)"'
    wrapper = make_cmd(tmp_path / "wrapper.cmd", sleeper)
    host = WindowsHost(commands={"wrapper": str(wrapper)})
    began = time.monotonic()
    with pytest.raises(FixFailed, match="did not finish within 1 s"):
        host.run(["wrapper"], timeout=1)
    assert time.monotonic() - began < 10


def test_a_program_started_in_the_background_is_left_running(tmp_path: Path) -> None:
    background = make_standin(tmp_path / "bg", "Background.exe")
    starter = make_cmd(tmp_path / "starter.cmd", f'start "" /b "{background}"\necho started')
    host = WindowsHost(commands={"starter": str(starter)})
    began = time.monotonic()
    result = host.run(["starter"], timeout=20)
    try:
        assert (result.exit_code, result.stdout.strip()) == (0, "started")
        assert time.monotonic() - began < 10  # not held until the background program ends
        assert host.is_running("Background.exe")
    finally:
        host.stop("Background.exe", 1)


def test_a_file_that_is_no_program_is_a_fix_failure(tmp_path: Path) -> None:
    broken = tmp_path / "dsregcmd.exe"
    broken.write_bytes(b"not a program")
    with pytest.raises(FixFailed, match="cannot run dsregcmd"):
        WindowsHost(commands={"dsregcmd": str(broken)}).run(["dsregcmd", "/status"])
