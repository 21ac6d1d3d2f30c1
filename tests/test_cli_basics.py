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


def test_json_error_is_one_document_on_stdout(capsys):
    import json

    assert main(["explain", "zz", "--json"]) == ExitCode.BAD_INPUT
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert document["exit"] == ExitCode.BAD_INPUT
    assert "zz" in document["error"]
    assert captured.err.count("\n") == 1


def test_json_usage_error_is_one_document_on_stdout(capsys):
    import json

    assert main(["explain", "--json"]) == ExitCode.BAD_INPUT
    document = json.loads(capsys.readouterr().out)
    assert document == {"error": document["error"], "exit": 2}
    assert "code" in document["error"]


def test_unexpected_exception_is_one_line_and_internal_code(monkeypatch, capsys):
    import odfix.guide.codes as codes

    def boom(*_args, **_kwargs):
        raise RuntimeError("planted")

    monkeypatch.delenv("ODFIX_DEBUG", raising=False)
    monkeypatch.setattr(codes, "load_catalog", boom)
    assert main(["explain", "0x8004de40"]) == ExitCode.INTERNAL
    err = capsys.readouterr().err
    assert err.startswith("odfix: internal error: RuntimeError: planted")
    assert "Traceback" not in err


def test_closed_pipe_is_not_an_error():
    """``odfix guide | head -1``: the reader goes away early; no traceback, exit 0."""
    command = f"{sys.executable} -m odfix guide | head -n 1"
    done = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0
    assert "Traceback" not in done.stderr
    assert "Error" not in done.stderr


def test_piped_output_is_not_hard_wrapped():
    done = subprocess.run([sys.executable, "-m", "odfix", "guide"], capture_output=True,
                          text=True, check=False, env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0
    assert max(len(line) for line in done.stdout.splitlines()) > 80
