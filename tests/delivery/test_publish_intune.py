"""``odfix publish intune``: the scripts' text (paths, quoting, exit codes) and the odfix
contract they rely on. No PowerShell runs here; the .cmd pair also runs under Wine's cmd.exe
against the Windows build (tests/windows/test_windows_build.py)."""

import json
import re
from pathlib import Path

import pytest

from odfix.cli import main
from odfix.exitcodes import ExitCode
from odfix.guide.load import load_guide
from odfix.publish.intune import DETECT_ARGS, REMEDIATE_ARGS, scripts

FILES = ["detect.ps1", "remediate.ps1", "detect.cmd", "remediate.cmd", "install.cmd",
         "uninstall.cmd", "README.md"]


def _publish(tmp_path: Path, capsys, *args: str) -> dict[str, str]:
    out = tmp_path / "intune"
    assert main(["publish", "intune", "--out", str(out), "--json", *args]) == 0
    assert json.loads(capsys.readouterr().out)["files"] == FILES
    return {name: (out / name).read_bytes().decode("utf-8") for name in FILES}


def test_every_file_is_written_with_crlf_and_the_default_folder(tmp_path, capsys):
    files = _publish(tmp_path, capsys)
    for name, text in files.items():
        if name != "README.md":
            assert "\r\n" in text and "\n" not in text.replace("\r\n", ""), name
    assert r"'%ProgramW6432%\odfix\odfix.exe'" in files["detect.ps1"]
    assert r'set "ODFIX=%ProgramW6432%\odfix\odfix.exe"' in files["detect.cmd"]
    assert r'set "TARGET=%ProgramW6432%\odfix"' in files["install.cmd"]


@pytest.mark.parametrize("role", ["detect", "remediate"])
def test_powershell_runs_odfix_prints_its_line_and_passes_its_exit_code(tmp_path, capsys, role):
    text = _publish(tmp_path, capsys)[f"{role}.ps1"]
    args = " ".join(DETECT_ARGS if role == "detect" else REMEDIATE_ARGS)
    lines = [line.strip() for line in text.splitlines()]
    run = lines.index(f"$out = & $odfix {args}")
    assert lines[run + 1] == "$code = $LASTEXITCODE"
    assert lines[run + 2] == "if ($null -eq $code) { $code = 70 }"
    assert lines[run + 3] == "Write-Output ($out | Select-Object -Last 1)"
    assert lines[run + 4] == "exit $code"
    assert "[Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false" in lines
    assert "2>" not in text  # odfix's stderr line reaches Intune's "error output" column
    assert "ErrorActionPreference" not in text  # 'Stop' would turn native stderr into a throw
    assert text.count("{") == text.count("}") and text.count("(") == text.count(")")
    missing = lines.index("if (-not (Test-Path -LiteralPath $odfix -PathType Leaf)) {")
    assert lines[missing + 3] == "exit 8"


@pytest.mark.parametrize("role", ["detect", "remediate"])
def test_cmd_runs_odfix_and_passes_its_exit_code(tmp_path, capsys, role):
    text = _publish(tmp_path, capsys)[f"{role}.cmd"]
    args = " ".join(DETECT_ARGS if role == "detect" else REMEDIATE_ARGS)
    lines = text.split("\r\n")
    assert lines[0] == "@echo off"
    run = lines.index(f'"%ODFIX%" {args}')
    assert lines[run + 1] == "exit /b %ERRORLEVEL%"
    assert lines[run - 1] == ":run"
    assert 'if exist "%ODFIX%" goto run' in lines
    code = [line for line in lines if not line.startswith("rem")]
    assert "(" not in "\n".join(code)  # no blocks: a ")" in a path cannot end one
    assert not re.search(r"[<>|&]", "\n".join(x for x in lines if x.startswith("rem")))


def test_an_apostrophe_and_a_space_in_the_folder_are_quoted_for_each_shell(tmp_path, capsys):
    files = _publish(tmp_path, capsys, "--install-dir", r"D:\IT's tools (x86)\odfix")
    assert r"'D:\IT''s tools (x86)\odfix\odfix.exe'" in files["remediate.ps1"]
    assert 'set "ODFIX=D:\\IT\'s tools (x86)\\odfix\\odfix.exe"' in files["remediate.cmd"]
    assert '"%ODFIX%" fix --apply --yes --json' in files["remediate.cmd"]


def test_a_share_is_a_valid_folder(tmp_path, capsys):
    files = _publish(tmp_path, capsys, "--install-dir", r"\\fs01\it$\odfix")
    assert r"'\\fs01\it$\odfix\odfix.exe'" in files["detect.ps1"]  # $ is literal in '…'


@pytest.mark.parametrize("folder", ['C:\\a"b', r"C:\a&b", r"C:\a|b", r"C:\a%b", "odfix",
                                    r"C:\a^b", r"C:\a!b", "", "C:\\a\nb"])
def test_folders_the_shells_would_misread_are_refused(tmp_path, capsys, folder):
    code = main(["publish", "intune", "--out", str(tmp_path / "o"), "--install-dir", folder])
    assert code == ExitCode.BAD_INPUT
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_readme_names_every_setting_every_exit_code_and_every_method(tmp_path, capsys):
    readme = _publish(tmp_path, capsys)["README.md"]
    for setting in ("Run this script using the logged-on credentials", "**Yes**",
                    "Run script in 64-bit PowerShell", "Enforce script signature check",
                    "Detection script file", "Remediation script file", "Install command",
                    "Uninstall command", "Install behavior", "Detection rule",
                    "IntuneWinAppUtil.exe", "DeviceManagementConfiguration.Read.All",
                    "What was not executed"):
        assert setting in readme, setting
    for code in ExitCode:
        if code not in (ExitCode.NETWORK, ExitCode.INTERRUPTED):
            assert re.search(rf"^\| {int(code)} \|", readme, re.M), code
    for method in load_guide().methods:
        assert f"| {method.id} |" in readme
    destructive = [m.id for m in load_guide().methods if m.destructive]
    assert destructive and all(re.search(rf"\| {m} \|.*never unattended", readme)
                               for m in destructive)


def test_the_detection_line_is_the_contract_the_scripts_print(capsys):
    """What detect.* runs (diagnose --live --json --compact) on a PC: one line, <= 2,048."""
    code = main([*DETECT_ARGS, "--simulate", "password-reset"])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and len(lines[0]) <= 2048
    line = json.loads(lines[0])
    assert line["exit"] == code == 1 and line["kind"] == "detect"
    assert line["plan"] and line["last"] is None


def test_the_remediation_line_passes_the_same_exit_code(capsys):
    code = main([*REMEDIATE_ARGS, "--simulate", "multiple-identities"])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["exit"] == code == 0


def test_compact_needs_live_and_json(capsys):
    assert main(["diagnose", "--live", "--compact", "--simulate", "healthy"]) == 2
    assert main(["diagnose", "--simulate", "healthy", "--json"]) == 2


def test_scripts_fit_the_guide_they_were_made_from():
    names = [s.name for s in scripts(load_guide())]
    assert names == FILES
