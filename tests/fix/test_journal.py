"""The journal: durable JSONL, runs per owner for --resume, damage refused clearly, one run per
host at a time."""

import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from odfix.errors import BadInput, Busy
from odfix.fix.journal import JOURNAL_FILE, Entry, Journal, data_dir, new_run_id

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
START = {"owner": "PC-1", "cause": "device-registration", "plan": ["credential-cleanup"],
         "join_type": "hybrid-joined"}


def _entry(run: str, kind: str, step: str | None = None, **data: object) -> Entry:
    if kind == "run-start" and not data:
        data = dict(START)
    return Entry.model_validate({"run_id": run, "kind": kind, "time": T0, "step": step,
                                 "data": data})


def test_data_dir_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ODFIX_DATA_DIR", str(tmp_path / "elsewhere"))
    assert data_dir() == tmp_path / "elsewhere"
    assert Journal().path == tmp_path / "elsewhere" / JOURNAL_FILE


def test_run_ids_sort_by_time_and_are_unique():
    first, second = new_run_id(T0), new_run_id(T0)
    assert first != second and first.startswith("20261120T090000Z-")


def test_open_run_and_finished_steps(tmp_path: Path):
    book = Journal(tmp_path / "j.jsonl")
    for entry in (_entry("a", "run-start"), _entry("a", "run-end"), _entry("b", "run-start"),
                  _entry("b", "step-start", "m/1"), _entry("b", "step-done", "m/1"),
                  _entry("b", "step-start", "m/2"), _entry("b", "paused", "m/2"),
                  _entry("b", "step-start", "m/3")):
        book.append(entry)
    assert book.run_ids() == ["a", "b"]
    assert book.open_run("PC-1") == "b"
    assert book.finished_steps("b") == {"m/1", "m/2"}
    assert [e.kind for e in book.entries("a")] == ["run-start", "run-end"]


def test_runs_belong_to_their_owner(tmp_path: Path):
    book = Journal(tmp_path / "j.jsonl")
    book.append(_entry("real", "run-start"))
    book.append(_entry("real", "run-end", healthy=True))
    book.append(_entry("sim", "run-start", **{**START, "owner": "sim:password-reset:x@PC-1"}))
    book.append(_entry("orphan", "run-start", cause="x", plan=["y"], join_type="none"))
    assert book.open_run("PC-1") is None
    assert book.open_run("sim:password-reset:x@PC-1") == "sim"
    assert book.open_run("sim:recurring-ca:x@PC-1") is None
    assert book.last_fixed("PC-1") is not None
    assert book.last_fixed("sim:password-reset:x@PC-1") is None
    assert book.run_ids("PC-1") == ["real"]


def test_a_torn_last_line_is_ignored_but_damage_inside_is_bad_input(tmp_path: Path):
    book = Journal(tmp_path / "j.jsonl")
    book.append(_entry("a", "run-start"))
    with book.path.open("a", encoding="utf-8") as handle:
        handle.write('{"run_id": "a", "ki')
    assert len(book.entries()) == 1
    with book.path.open("a", encoding="utf-8") as handle:
        handle.write("\n" + _entry("a", "run-end").model_dump_json() + "\n")
    with pytest.raises(BadInput, match="not a journal entry"):
        book.entries()


def test_a_torn_line_splitting_a_utf8_character_is_ignored_and_cut_before_appending(
        tmp_path: Path):
    book = Journal(tmp_path / "j.jsonl")
    book.append(_entry("a", "run-start"))
    whole = _entry("a", "step-done", "m/1", notes=["gelöscht"]).model_dump_json().encode()
    cut = whole.index("ö".encode()) + 1  # the first byte of the two-byte "ö"
    with book.path.open("ab") as handle:
        handle.write(whole[:cut])
    assert [e.kind for e in book.entries()] == ["run-start"]
    book.append(_entry("a", "run-end"))
    assert [e.kind for e in book.entries()] == ["run-start", "run-end"]
    assert book.path.read_bytes().count(b"\n") == 2


@pytest.mark.parametrize("line, why", [
    (b"\xff\xfe{}", "not UTF-8"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"run_id": "a"}', "kind"),
    (b"not json", "not JSON"),
])
def test_a_damaged_line_is_one_clear_bad_input(tmp_path: Path, line: bytes, why: str):
    book = Journal(tmp_path / "j.jsonl")
    book.path.write_bytes(line + b"\n" + _entry("a", "run-start").model_dump_json().encode()
                          + b"\n")
    with pytest.raises(BadInput, match=why) as caught:
        book.entries()
    assert ":1:" in caught.value.message and "\n" not in caught.value.message


@pytest.mark.parametrize("missing", ["cause", "plan", "join_type", "owner"])
def test_a_run_start_without_its_fields_cannot_be_resumed(tmp_path: Path, missing: str):
    book = Journal(tmp_path / "j.jsonl")
    book.append(_entry("a", "run-start", **{k: v for k, v in START.items() if k != missing}))
    with pytest.raises(BadInput, match=f"{missing}.*cannot be resumed"):
        book.run_start("a")


def test_allow_unjoin_in_the_journal_is_not_read(tmp_path: Path):
    book = Journal(tmp_path / "j.jsonl")
    book.append(_entry("a", "run-start", **START, allow_unjoin=True))
    assert not hasattr(book.run_start("a"), "allow_unjoin")


def test_empty_journal(tmp_path: Path):
    book = Journal(tmp_path / "none.jsonl")
    assert book.entries() == [] and book.open_run("PC-1") is None


HOLDER = """
import sys, time
from pathlib import Path
from odfix.fix.journal import Journal
with Journal(Path(sys.argv[1])).lock(sys.argv[2]):
    print("held", flush=True)
    time.sleep(60)
"""


def _holder(path: Path, owner: str) -> subprocess.Popen[str]:
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), owner],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "held"
    return child


def test_one_run_per_owner_at_a_time_and_a_crash_releases_the_lock(tmp_path: Path):
    path = tmp_path / "j.jsonl"
    child = _holder(path, "PC-1")
    try:
        with pytest.raises(Busy, match="another odfix fix is running on PC-1"), \
                Journal(path).lock("PC-1"):
            pass
        with Journal(path).lock("sim:healthy:1@PC-1"):  # another host: its own lock
            pass
    finally:
        child.kill()  # a crash: no clean release
        child.wait()
    deadline = time.monotonic() + 10
    while True:
        try:
            with Journal(path).lock("PC-1"):
                break
        except Busy:
            assert time.monotonic() < deadline
            time.sleep(0.1)
