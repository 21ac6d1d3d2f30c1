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


def test_process_exit_keeps_every_byte_of_a_large_document(tmp_path):
    """The entry point ends with ``os._exit``: stdout is flushed first, whole, with the code."""
    import json

    from odfix.tenant.synth import synthesize

    synth = synthesize(tmp_path / "s.json", users=300, days=10, seed=3)
    done = subprocess.run([sys.executable, "-m", "odfix", "signins", "analyze",
                           str(synth.signins), "--json"], capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout) > 100_000
    assert len(json.loads(done.stdout)["users"]) > 10
    bad = subprocess.run([sys.executable, "-m", "odfix", "signins", "analyze",
                          str(tmp_path / "missing.json")], capture_output=True, text=True,
                         check=False)
    assert bad.returncode == ExitCode.BAD_INPUT
    assert bad.stderr.strip().startswith("odfix: error:")
