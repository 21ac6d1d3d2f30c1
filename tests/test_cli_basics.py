"""The CLI's frame: version, help, and errors as one line with a distinct exit code."""

import subprocess
import sys

from odfix import __version__
from odfix.cli import main
from odfix.exitcodes import ExitCode


def test_version(capsys):
    assert main(["--version"]) == ExitCode.OK
    assert capsys.readouterr().out.strip() == f"odfix {__version__}"


def test_unknown_command_is_usage_error(capsys):
    assert main(["no-such-command"]) == ExitCode.BAD_INPUT
    assert "no-such-command" in capsys.readouterr().err


def test_module_entry_point_runs_as_a_process():
    done = subprocess.run([sys.executable, "-m", "odfix", "--version"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0
    assert done.stdout.startswith("odfix ")
