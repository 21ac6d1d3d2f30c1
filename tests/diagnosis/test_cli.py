"""``odfix diagnose`` through ``odfix.cli.main``: exit codes, one JSON document, one-line errors."""

import json
import shutil
import zipfile

import pytest

from odfix.cli import main
from odfix.exitcodes import ExitCode

from .contract import check


def run(capsys, *argv):
    code = main(["diagnose", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_healthy_folder_exits_0(capsys, scenarios):
    code, out, _ = run(capsys, scenarios / "healthy")
    assert code == ExitCode.OK
    assert "Healthy" in out


def test_problem_exits_1_and_quotes_the_lines(capsys, scenarios):
    code, out, _ = run(capsys, scenarios / "entra-joined")
    assert code == ExitCode.PROBLEM
    assert "device-registration" in out
    assert "dsregcmd_status.txt:22" in out and "DeviceAuthStatus : FAILED" in out
    assert "Withheld" in out and "reconnect-work-account" in out and "re-enable" in out


def test_json_is_exactly_one_document(capsys, scenarios):
    code, out, err = run(capsys, scenarios / "cloned-image" / "pc-a",
                         scenarios / "cloned-image" / "pc-b", "--json")
    assert code == ExitCode.PROBLEM and err == ""
    assert out.count("\n") == 1
    document = json.loads(out)
    check(document)
    assert document["causes"][0]["id"] == "cloned-image"
    assert [pc["name"] for pc in document["pcs"]] == ["pc-a", "pc-b"]


def test_zip_bundle_gives_the_same_result_as_its_folder(capsys, scenarios, tmp_path):
    folder = scenarios / "connectivity-tls"
    archive = tmp_path / "connectivity-tls.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for item in folder.iterdir():
            out.write(item, item.name)
    _, from_folder, _ = run(capsys, folder, "--json", "--error-code", "0x8004de40")
    code, from_zip, _ = run(capsys, archive, "--json", "--error-code", "0x8004de40")
    assert code == ExitCode.PROBLEM
    assert json.loads(from_zip) == json.loads(from_folder)


def test_password_change_time_is_used(capsys, scenarios):
    code, out, _ = run(capsys, scenarios / "password-change", "--json",
                       "--password-changed-at", "2025-07-15 11:00+02:00")
    assert code == ExitCode.PROBLEM
    ids = {f["id"] for f in json.loads(out)["findings"]}
    assert "cred.written-before-password-change" in ids


@pytest.mark.parametrize(("argv", "message"), [
    (["{missing}"], "no such file or folder"),
    (["{bad_zip}"], "not a readable zip file"),
    (["{empty}"], "no evidence odfix can read"),
    (["{healthy}", "--password-changed-at", "yesterday"], "is not a time"),
    (["{healthy}", "--error-code", "0x12345"], "not an error code odfix understands"),
    (["{healthy}", "--error-code", "0x8004FFFF"], "not in odfix's error-code catalog"),
])
def test_bad_input_exits_2_with_one_line(capsys, scenarios, tmp_path, argv, message):
    bad_zip = tmp_path / "bundle.zip"
    bad_zip.write_bytes(b"this is not a zip")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("nothing odfix reads")
    places = {"missing": tmp_path / "nope", "bad_zip": bad_zip, "empty": empty,
              "healthy": scenarios / "healthy"}
    code, out, err = run(capsys, *(a.format(**places) for a in argv))
    assert code == ExitCode.BAD_INPUT
    assert out == ""
    assert err.count("\n") == 1 and message in err, err


def test_an_unparseable_capture_is_noted_and_the_rest_still_counts(capsys, scenarios, tmp_path):
    folder = tmp_path / "pc"
    shutil.copytree(scenarios / "recurring-ca", folder)
    (folder / "winhttp_proxy.txt").write_text("garbage\n")
    code, out, _ = run(capsys, folder, "--json")
    document = json.loads(out)
    assert code == ExitCode.PROBLEM
    assert document["causes"][0]["id"] == "recurring-conditional-access"
    assert document["pcs"][0]["problems"]


HOSTILE = "\x1b]0;pwned\x07\x1b[2J[link=http://evil.example]x[/link]\x9b31m"
"""A window title, a screen clear, a Rich hyperlink and an 8-bit CSI, as a value could carry."""


@pytest.mark.parametrize("mode", [[], ["--note"], ["--note", "--format", "md"]])
def test_control_characters_and_markup_in_evidence_never_reach_the_terminal(
        capsys, tmp_path, mode):
    from pathlib import Path

    learn = Path(__file__).parents[1] / "fixtures/dsregcmd/hybrid_prt_failure_learn.txt"
    in_name = HOSTILE.replace("/", "_")  # a file name holds no slash
    folder = tmp_path / f"pc{in_name}"
    folder.mkdir()
    lines = learn.read_text().splitlines()
    lines = [line + HOSTILE if "Server Error Description" in line else line for line in lines]
    (folder / "dsregcmd_status.txt").write_text("\n".join(lines) + "\n")
    (folder / f"notes{in_name}.txt").write_text(f"from the user {HOSTILE}\n")
    code, out, err = run(capsys, folder, *mode)
    assert code == ExitCode.PROBLEM, err
    for raw in ("\x1b", "\x07", "\x9b", "]8;"):
        assert raw not in out and raw not in err
    if not mode:
        assert "Server Error Description" in out and "\\x1b]0;" in out
