"""``odfix guide`` and ``odfix kb`` through ``odfix.cli.main``: exit codes, JSON, files, errors."""

import json
from pathlib import Path

import pytest

from odfix.cli import main
from odfix.exitcodes import ExitCode
from odfix.guide import load_guide
from odfix.publish.kb import render_kb


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_guide_prints_the_checklist(capsys):
    code, out, err = run(capsys, "guide")
    assert code == ExitCode.OK and err == ""
    out = " ".join(out.split())  # Rich wraps long lines at the terminal width
    for text in ("Method 1: Remove stored credentials", "Method 2:", "Method 3:", "Test:",
                 "Special cases", "Sources", "☐ 1.", "(user · delete_cached_credentials)",
                 "local-admin", "dsregcmd /debug /leave"):
        assert text in out


def test_guide_join_type_resolves_method_2(capsys):
    code, out, _ = run(capsys, "guide", "--join-type", "hybrid-joined")
    assert code == ExitCode.OK
    method_2 = out[out.index("Method 2:"):out.index("Method 3:")]
    assert "dsregcmd /debug /leave" in method_2
    assert "Disconnect the account" not in method_2


def test_guide_json_is_the_whole_guide(capsys):
    code, out, err = run(capsys, "guide", "--json")
    assert code == ExitCode.OK and err == ""
    document = json.loads(out)
    assert document == load_guide().model_dump(mode="json")


def test_guide_json_plan_for_a_cause(capsys):
    code, out, _ = run(capsys, "guide", "--json", "--cause", "device-registration",
                       "--join-type", "entra-joined")
    assert code == ExitCode.OK
    plan = json.loads(out)
    assert plan["cause"] == "device-registration" and plan["join_type"] == "entra-joined"
    method_2 = plan["methods"][0]
    assert method_2["id"] == "reconnect-work-account"
    assert method_2["context"] == "local-admin" and method_2["variant"] == "joined-local-admin"


def test_guide_plan_checklist(capsys):
    code, out, _ = run(capsys, "guide", "--cause", "recurring-conditional-access")
    assert code == ExitCode.OK
    assert "Plan for" in out and "Escalate to" in out


@pytest.mark.parametrize(("argv", "needle"), [
    (["guide", "--cause", "gremlins"], "unknown cause 'gremlins'"),
    (["guide", "--join-type", "laptop"], "unknown join type 'laptop'"),
])
def test_guide_bad_input_is_one_line(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == ExitCode.BAD_INPUT and out == ""
    assert err.count("\n") == 1 and needle in err


def test_kb_prints_markdown(capsys):
    code, out, _ = run(capsys, "kb")
    assert code == ExitCode.OK
    assert out == render_kb(load_guide(), "md")


def test_kb_out_writes_html_with_options(capsys, tmp_path):
    target = tmp_path / "article.html"
    code, out, _ = run(capsys, "kb", "--format", "html", "--org", "Contoso IT",
                       "--contact", "Service desk ext. 4357", "--out", str(target))
    assert code == ExitCode.OK and "Wrote" in out
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "Contoso IT" in page and "Service desk ext. 4357" in page


def test_kb_config_file_and_option_override(capsys, tmp_path):
    config = tmp_path / "kb.yaml"
    config.write_text("org: Fabrikam\ncontact: x\nescalation_team: Tier 2 identity\n"
                      "state: Validated\n", encoding="utf-8")
    code, out, _ = run(capsys, "kb", "--config", str(config), "--org", "Contoso IT")
    assert code == ExitCode.OK
    assert "Contoso IT" in out and "Fabrikam" not in out
    assert "Tier 2 identity" in out and "Validated" in out


@pytest.mark.parametrize(("content", "needle"), [
    ("org: Contoso\ncolour: blue\n", "colour (line 2): Extra inputs are not permitted"),
    ("org: [Contoso\n", "YAML syntax error at line"),
    ("state: Approved\n", "state (line 1): Input should be"),
    ("- a list\n", "expected a mapping"),
])
def test_kb_bad_config_is_exit_2_one_line(capsys, tmp_path, content, needle):
    config = tmp_path / "kb.yaml"
    config.write_text(content, encoding="utf-8")
    code, out, err = run(capsys, "kb", "--config", str(config))
    assert code == ExitCode.BAD_INPUT and out == ""
    assert err.count("\n") == 1 and str(config) in err and needle in err


def test_kb_missing_config_and_unwritable_out(capsys, tmp_path):
    code, _, err = run(capsys, "kb", "--config", str(tmp_path / "absent.yaml"))
    assert code == ExitCode.BAD_INPUT and "cannot read" in err
    code, _, err = run(capsys, "kb", "--out", str(tmp_path / "no-such-dir" / "kb.md"))
    assert code == ExitCode.BAD_INPUT and "does not exist" in err
    code, _, err = run(capsys, "kb", "--org", "")
    assert code == ExitCode.BAD_INPUT and "--org" in err


@pytest.mark.parametrize(("target", "code", "needle"), [
    ("missing/kb.md", ExitCode.BAD_INPUT, "the folder"),
    (".", ExitCode.BAD_INPUT, "it is a folder"),
    ("/dev/full", ExitCode.IO_ERROR, "No space left"),
])
def test_kb_out_failures_are_one_line(capsys, tmp_path, target, code, needle):
    if target == "/dev/full" and not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    out_path = target if target.startswith("/") else str(tmp_path / target)
    exit_code, out, err = run(capsys, "kb", "--out", out_path)
    assert exit_code == code and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err and needle in err


@pytest.mark.parametrize("source", ["big", "endless", "nested", "binary", "folder"])
def test_kb_config_hostile_files_are_one_line(capsys, tmp_path, source):
    config = tmp_path / "kb.yaml"
    if source == "big":
        config.write_text("org: " + "x" * 70_000 + "\n", encoding="utf-8")
    elif source == "nested":
        config.write_text("org: " + "[" * 5000 + "\n", encoding="utf-8")
    elif source == "binary":
        config.write_bytes(b"org: \xff\xfe\x00")
    elif source == "folder":
        config.mkdir()
    else:
        if not Path("/dev/zero").exists():
            pytest.skip("no /dev/zero on this system")
        config = Path("/dev/zero")  # never ends: read only up to the limit
    code, out, err = run(capsys, "kb", "--config", str(config))
    assert code == ExitCode.BAD_INPUT and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err and str(config) in err


@pytest.mark.parametrize("option", ["--org", "--contact"])
def test_kb_free_text_is_bounded(capsys, option):
    code, out, err = run(capsys, "kb", option, "x" * 201)
    assert code == ExitCode.BAD_INPUT and out == "" and err.count("\n") == 1
    assert option in err and "200" in err


def test_kb_rejects_unknown_format(capsys):
    code, _, _ = run(capsys, "kb", "--format", "pdf")
    assert code == ExitCode.BAD_INPUT
