"""Bundle edges that once ended in a traceback: odd folder entries, deep JSON, literal names."""

import json
import os
import zipfile

import pytest

from odfix.cli import main
from odfix.errors import BadInput, IOFailure
from odfix.evidence import bundle, credentials
from odfix.evidence.common import MAX_JSON_DEPTH, ParseError
from odfix.exitcodes import ExitCode

from . import hostile

DSREGCMD = "dsregcmd/hybrid_prt_failure_learn.txt"


@pytest.fixture
def folder(tmp_path, fixture_bytes):
    where = tmp_path / "evidence"
    where.mkdir()
    (where / "dsregcmd_status.txt").write_bytes(fixture_bytes(DSREGCMD))
    return where


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_in_the_folder_is_skipped_with_a_note_and_never_opened(folder):
    os.mkfifo(folder / "winhttp_proxy.txt")
    loaded = bundle.load(folder)
    assert loaded.evidence.dsregcmd is not None
    assert loaded.problems == ["winhttp_proxy.txt: skipped: not a regular file (a device, pipe "
                               "or socket is never read)"]


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_link_to_a_device_is_skipped_with_a_note(folder):
    (folder / "cmdkey_list.txt").symlink_to("/dev/zero")
    loaded = bundle.load(folder)
    assert loaded.evidence.dsregcmd is not None
    assert loaded.problems == ["cmdkey_list.txt: skipped: a link to a place outside the "
                               "evidence folder"]


def test_a_link_inside_the_folder_is_read_and_outside_is_not(folder, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("Currently stored credentials:\n\n    Target: outside\n")
    (folder / "cmdkey_list.txt").symlink_to(secret)
    (folder / "copy.txt").symlink_to(folder / "dsregcmd_status.txt")
    loaded = bundle.load(folder)
    assert loaded.evidence.credentials is None
    assert "copy.txt" in loaded.files
    assert loaded.problems == ["cmdkey_list.txt: skipped: a link to a place outside the "
                               "evidence folder"]


def test_an_unreadable_file_is_a_note_not_a_traceback(folder, monkeypatch):
    (folder / "cmdkey_list.txt").write_text("Currently stored credentials:\n")
    real_open = os.open

    def refuse(path, flags, *args):
        if str(path).endswith("cmdkey_list.txt"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", refuse)
    loaded = bundle.load(folder)
    assert loaded.evidence.dsregcmd is not None
    assert loaded.problems == ["cmdkey_list.txt: skipped: cannot be read (Permission denied)"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_given_as_the_path_is_bad_input(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(BadInput, match="not a regular file"):
        bundle.load(tmp_path / "pipe")


def test_a_file_named_star_is_that_file(folder, fixture_bytes):
    (folder / "*").write_bytes(b"not a capture")
    loaded = bundle.load(folder)
    assert loaded.files["*"] == b"not a capture"
    assert loaded.evidence.dsregcmd is not None
    assert main(["diagnose", str(folder / "*"), "--json"]) == ExitCode.BAD_INPUT


@pytest.mark.parametrize("name", ["manifest.json", "facts.json"])
def test_deeply_nested_json_documents_are_a_note(folder, name, capsys):
    (folder / name).write_text(hostile.json_deep(200_000))
    loaded = bundle.load(folder)
    assert loaded.evidence.dsregcmd is not None
    if name == "manifest.json":
        assert loaded.problems == [f"manifest.json: unreadable (JSON nested deeper than "
                                   f"{MAX_JSON_DEPTH} levels)"]
    assert main(["diagnose", str(folder), "--json"]) == ExitCode.PROBLEM
    assert json.loads(capsys.readouterr().out)["join_type"] == "hybrid-joined"


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100_000])
def test_deeply_nested_credentials_json_is_refused_in_one_line(depth):
    text = '{"credentials": [' + "[" * depth + "]" * depth + "]}"
    with pytest.raises(ParseError, match="nested deeper than"):
        credentials.parse_json(text)


def test_a_nested_secret_field_is_refused_like_a_top_level_one():
    with pytest.raises(ParseError, match=r"secret-looking field 'credentials\[0\]\.Attributes\."
                                         r"CredentialBlob'"):
        credentials.parse_json(hostile.credentials_json_nested_secret())
    beside = json.dumps({"credentials": [], "cache": [{"refresh_token": "x"}]})
    with pytest.raises(ParseError, match="secret-looking"):
        credentials.parse_json(beside)


def test_a_bundle_with_a_nested_secret_keeps_the_other_sources(tmp_path, fixture_bytes):
    archive = tmp_path / "pc.zip"
    with zipfile.ZipFile(archive, "w") as opened:
        opened.writestr("credentials.json", hostile.credentials_json_nested_secret())
        opened.writestr("dsregcmd_status.txt", fixture_bytes(DSREGCMD))
    loaded = bundle.load(archive)
    assert loaded.evidence.credentials is None and loaded.evidence.dsregcmd is not None
    assert "secret-looking field" in loaded.problems[0]


@pytest.mark.parametrize("where", ["missing/pc.zip", "existing-folder", "read-only/pc.zip"])
def test_write_zip_to_a_bad_place_is_one_clear_error(tmp_path, where, monkeypatch):
    (tmp_path / "existing-folder").mkdir()
    (tmp_path / "read-only").mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: "read-only" not in str(path)
                        and real_access(path, mode))
    with pytest.raises(IOFailure) as raised:
        bundle.write_zip({}, {}, {}, tmp_path / where)
    assert str(tmp_path / where) in raised.value.message
    assert list((tmp_path / "read-only").iterdir()) == []


def test_a_full_disk_leaves_no_partial_bundle(tmp_path, monkeypatch):
    def full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", full)
    with pytest.raises(IOFailure, match="No space left on device"):
        bundle.write_zip({"a.txt": b"x"}, {}, {}, tmp_path / "pc.zip")
    assert list(tmp_path.iterdir()) == []
