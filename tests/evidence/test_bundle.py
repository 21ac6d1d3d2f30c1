"""Bundles: folders and zips of raw captures, safe reading, per-source problems."""

import base64
import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odfix.errors import BadInput
from odfix.evidence import bundle

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

CAPTURES = {
    "cmdkey_list.txt": "cmdkey/office_onedrive_mixed.txt",
    "onedrive.reg": "onedrive/two_business_one_personal.reg",
    "office_identity.reg": "office_identity/three_identities_wam_disabled.reg",
    "winhttp_proxy.txt": "network/winhttp_proxy_none.txt",
    "schannel.reg": "network/schannel_tls12_disabled.reg",
    "dsregcmd_status.txt": "dsregcmd/hybrid_prt_failure_learn.txt",
    "aad_operational.xml": "aad_events/wevtutil_recent.xml",
}


@pytest.fixture
def captures(fixture_bytes):
    return {name: fixture_bytes(path) for name, path in CAPTURES.items()}


def test_every_source_parsed_from_a_folder(tmp_path, captures):
    for name, data in captures.items():
        (tmp_path / name.upper()).write_bytes(data)
    (tmp_path / "notes from user.txt").write_text("OneDrive says 0x8004de40")
    loaded = bundle.load(tmp_path)
    evidence = loaded.evidence
    assert loaded.problems == []
    assert evidence.dsregcmd is not None and evidence.aad_events is not None
    assert [c.credential_class for c in evidence.credentials.of_class("office")] == \
        ["office", "office"]
    assert len(evidence.onedrive.business_accounts) == 2
    assert evidence.office_identity.wam_disabled
    assert evidence.network.tls12_enabled is False
    assert evidence.network.winhttp.proxy_server == "testProxy:8999"
    assert "notes from user.txt" in loaded.files
    assert loaded.name == tmp_path.name


def test_a_line_a_reg_export_cannot_read_is_a_problem_note_and_the_rest_is_read(captures):
    for name in ("onedrive.reg", "schannel.reg", "office_identity.reg"):
        lines = captures[name].decode("utf-16").splitlines()
        lines.insert(2, "... (cut by the author)")
        captures[name] = "\r\n".join(lines).encode("utf-16")
    loaded = bundle.from_files(captures, "pc")
    assert sorted(loaded.problems) == [
        f"{name}: line 3: not understood, skipped: '... (cut by the author)'"
        for name in ("office_identity.reg", "onedrive.reg", "schannel.reg")]
    assert len(loaded.evidence.onedrive.business_accounts) == 2
    assert loaded.evidence.office_identity.wam_disabled
    assert loaded.evidence.network.tls12_enabled is False


def test_one_broken_source_is_a_problem_not_a_failure(captures):
    captures["cmdkey_list.txt"] = "Aktualnie przechowywane poświadczenia:\n".encode()
    captures["onedrive.reg"] = b"garbage"
    loaded = bundle.from_files(captures, "pc")
    assert loaded.evidence.credentials is None and loaded.evidence.onedrive is None
    assert loaded.evidence.dsregcmd is not None
    assert len(loaded.problems) == 2
    assert any(p.startswith("cmdkey_list.txt: unsupported locale") for p in loaded.problems)
    assert any(p.startswith("onedrive.reg: not a registry export") for p in loaded.problems)


def test_credentials_json_is_preferred_over_cmdkey(captures):
    captures["credentials.json"] = json.dumps(
        {"credentials": [{"target": "OneDrive Cached Credential Business - Business1",
                          "type": 1}]}).encode()
    loaded = bundle.from_files(captures, "pc")
    assert loaded.evidence.credentials.source == "credentials.json"


def test_zip_with_a_top_folder_and_manifest(tmp_path, captures):
    archive = tmp_path / "from-user.zip"
    manifest = {"odfix_version": "0.1.0", "time": "2026-11-27T09:00:00Z", "host_name": "PC-0001",
                "context": "user", "collectors": [], "future_key": 1}
    with zipfile.ZipFile(archive, "w") as opened:
        for name, data in captures.items():
            opened.writestr(f"evidence/{name}", data)
        opened.writestr("evidence/manifest.json", json.dumps(manifest))
    loaded = bundle.load(archive)
    assert loaded.name == "from-user"
    assert loaded.manifest.host_name == "PC-0001"
    assert loaded.manifest.time.isoformat() == "2026-11-27T09:00:00+00:00"
    assert loaded.evidence.onedrive is not None


def test_unreadable_manifest_is_a_problem(captures):
    captures["manifest.json"] = b"{"
    loaded = bundle.from_files(captures, "pc")
    assert loaded.manifest is None
    assert loaded.problems[0].startswith("manifest.json: unreadable")


def test_write_zip_then_load_round_trips(tmp_path, captures):
    out = bundle.write_zip(captures, {"host_name": "PC-0001"}, {"evidence": {}},
                           tmp_path / "b.zip")
    loaded = bundle.load(out)
    assert loaded.files["onedrive.reg"] == captures["onedrive.reg"]
    assert json.loads(loaded.files["facts.json"]) == {"evidence": {}}
    assert loaded.manifest.host_name == "PC-0001"


@pytest.mark.parametrize("member", ["../evil.txt", "/etc/passwd", "a/../../evil.txt",
                                    "C:/evil.txt"])
def test_zip_slip_is_refused(tmp_path, member):
    archive = tmp_path / "slip.zip"
    with zipfile.ZipFile(archive, "w") as opened:
        opened.writestr(member, "x")
    with pytest.raises(BadInput, match="outside the bundle"):
        bundle.load(archive)


def test_oversize_member_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(bundle, "MAX_MEMBER_BYTES", 10)
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as opened:
        opened.writestr("dsregcmd_status.txt", "x" * 1000)
    with pytest.raises(BadInput, match="too large"):
        bundle.load(archive)


def test_oversize_folder_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(bundle, "MAX_MEMBER_BYTES", 10)
    (tmp_path / "dsregcmd_status.txt").write_text("x" * 100)
    with pytest.raises(BadInput, match="too large"):
        bundle.load(tmp_path)


def test_not_a_zip_and_missing_path(tmp_path):
    fake = tmp_path / "bundle.zip"
    fake.write_text("not a zip")
    with pytest.raises(BadInput, match="not a readable zip"):
        bundle.load(fake)
    with pytest.raises(BadInput, match="no such file or folder"):
        bundle.load(tmp_path / "missing")


def test_duplicate_names_in_zip_are_refused(tmp_path):
    archive = tmp_path / "dup.zip"
    with zipfile.ZipFile(archive, "w") as opened:
        opened.writestr("a/cmdkey_list.txt", "x")
        opened.writestr("b/cmdkey_list.txt", "y")
    with pytest.raises(BadInput, match="two members"):
        bundle.load(archive)


def test_a_bundle_written_by_collect_still_loads(fixture_bytes, tmp_path):
    archive = tmp_path / "collected_pc0001.zip"
    archive.write_bytes(fixture_bytes("bundles/collected_pc0001.zip"))
    loaded = bundle.load(archive)
    assert loaded.problems == []
    assert loaded.manifest.host_name == "PC-0001" and loaded.manifest.windows_build is None
    statuses = {run.name: run.status for run in loaded.manifest.collectors}
    assert statuses["cmdkey"] == "failed" and statuses["onedrive"] == "ok"
    assert loaded.evidence.network.tls12_enabled is False
    assert loaded.evidence.network.winhttp.bypass_list == ["<local>"]
    assert [c.credential_class for c in loaded.evidence.credentials.credentials] == ["office"]
    assert loaded.evidence.dsregcmd.join_type == "hybrid-joined"


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.sampled_from(bundle.CONVENTIONAL_NAMES), st.binary(max_size=300)))
def test_any_capture_content_is_parsed_or_a_problem(files):
    loaded = bundle.from_files(files, "pc")
    assert all(isinstance(problem, str) and problem for problem in loaded.problems)


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=2000))
def test_any_file_given_as_a_bundle_loads_or_is_bad_input(tmp_path_factory, data):
    archive = tmp_path_factory.mktemp("z") / "x.zip"
    archive.write_bytes(data)
    _loads_or_one_line_bad_input(archive)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_a_damaged_real_bundle_loads_or_is_bad_input(tmp_path_factory, data):
    original = bytearray((FIXTURES / "bundles" / "collected_pc0001.zip").read_bytes())
    where = data.draw(st.integers(0, len(original) - 1))
    if data.draw(st.booleans()):
        damaged = bytes(original[:where])
    else:
        original[where] ^= data.draw(st.integers(1, 255))
        damaged = bytes(original)
    archive = tmp_path_factory.mktemp("z") / "x.zip"
    archive.write_bytes(damaged)
    _loads_or_one_line_bad_input(archive)


def _loads_or_one_line_bad_input(archive):
    try:
        bundle.load(archive)
    except BadInput as error:
        assert "\n" not in error.message


def test_a_bundle_dumps_to_json_whatever_bytes_it_holds(fixture_bytes):
    files = {"onedrive.reg": b"REGEDIT4\n[HKEY_CURRENT_USER\\Software\\Microsoft\\OneDrive]\n"
                             b"\"Blob\"=hex:ff,fe,00,d8\n", "odd.bin": b"\xff\x00"}
    loaded = bundle.from_files(files, "pc")
    document = json.loads(loaded.model_dump_json())
    assert base64.urlsafe_b64decode(document["files"]["odd.bin"]) == b"\xff\x00"
    assert loaded.evidence.model_dump(mode="json")["onedrive"]["source"] == "onedrive.reg"
