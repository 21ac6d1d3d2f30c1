"""Loaders: Graph v1.0/beta documents, arrays, NDJSON, portal CSV, Log Analytics, Parquet."""

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odfix.errors import BadInput
from odfix.tenant.load import load_signins, spans


def rows(con, sql="SELECT * FROM signins ORDER BY created_at"):
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def test_graph_v1_sample_with_trailing_comma_is_repaired(con, fixtures):
    report = load_signins(con, [fixtures / "graph_v1_signins.json"])
    (row,) = rows(con)
    assert row["upn"] == "testaccount1@contoso.com"
    assert row["id"] == "66ea54eb-6301-4ee5-be62-ff5a759b0100"
    assert row["error_code"] == 0 and row["interactive"] is True
    assert row["device_id"] is None  # "" in the sample
    assert row["created_at"].isoformat() == "2020-03-13T19:15:41.619583"
    assert row["ca"] is None  # CA details are kept for failed sign-ins only
    assert report.malformed_count == 0


def test_trailing_comma_after_last_record_is_repaired(con, fixtures, tmp_path):
    text = (fixtures / "graph_v1_signins.json").read_text()
    head, _, _ = text.rpartition("}")
    path = tmp_path / "t.json"
    path.write_text(head.rstrip().removesuffix("]").rstrip().removesuffix("}") + "},]}")
    report = load_signins(con, [path])
    assert report.rows == 1
    assert any("trailing commas" in n for n in report.notes)


def test_graph_beta_sample_quirks(con, fixtures):
    load_signins(con, [fixtures / "graph_beta_signins.json"])
    (row,) = rows(con)
    assert row["error_code"] == 0  # "status": {}
    assert row["device_id"] is None  # "deviceId": null
    assert row["device_os"] == "Windows 7"
    assert row["app_name"] == "Azure Portal"


def test_array_and_ndjson_shapes_load_the_same_records(con, fixtures, tmp_path):
    doc = json.loads((fixtures / "graph_beta_signins.json").read_text())
    record = doc["value"][0]
    second = dict(record, id="second", createdDateTime="2018-11-07T10:00:00Z",
                  status={"errorCode": 50173, "failureReason": "revoked"})
    (tmp_path / "a.json").write_text(json.dumps([record, second], indent=2))
    (tmp_path / "b.ndjson").write_text(json.dumps(record) + "\n" + json.dumps(second) + "\n")
    report = load_signins(con, [tmp_path / "a.json", tmp_path / "b.ndjson"])
    assert [f.rows for f in report.files] == [2, 2]
    ordered = "SELECT error_code FROM signins ORDER BY file_no, id"
    codes = [r["error_code"] for r in rows(con, ordered)]
    assert codes == [0, 50173, 0, 50173]


def test_ndjson_malformed_lines_reported_with_line_numbers(con, fixtures, tmp_path):
    record = json.loads((fixtures / "graph_beta_signins.json").read_text())["value"][0]
    lines = [json.dumps(record), '{"id": "broken", ', json.dumps(dict(record, id="x2")), "[1, 2]"]
    path = tmp_path / "s.ndjson"
    path.write_text("\n".join(lines) + "\n")
    report = load_signins(con, [path])
    assert report.rows == 2
    assert [(m.line, m.file) for m in report.malformed] == [(2, str(path)), (4, str(path))]


def test_records_without_time_are_counted_not_loaded(con, fixtures, tmp_path):
    record = json.loads((fixtures / "graph_beta_signins.json").read_text())["value"][0]
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"value": [record, dict(record, id="x", createdDateTime="soon")]}))
    report = load_signins(con, [path])
    assert report.rows == 1 and report.malformed_count == 1
    assert report.malformed[0].record == 2 and report.malformed[0].reason == "no valid time"


def test_portal_csv_aliases_bom_and_bad_rows(con, fixtures):
    inter = fixtures / "InteractiveSignIns_2024-03-13_2024-03-14.csv"
    non = fixtures / "NonInteractiveSignIns_2024-03-13_2024-03-14.csv"
    report = load_signins(con, [inter, non])
    loaded = rows(con)
    assert [r["error_code"] for r in loaded] == [50173, 0, 50074, 70043]
    assert [r["interactive"] for r in loaded] == [True, True, True, False]
    assert loaded[0]["upn"] == "testaccount1@contoso.com"
    assert loaded[0]["device_id"] == "0b7e3c1a-1111-4222-8333-444455556666"
    assert loaded[0]["trust_type"] == "Azure AD joined"
    where = [(Path(m.file).name[:3], m.line) for m in report.malformed]
    assert where == [("Int", 4), ("Non", 3)]
    assert [f.kind for f in report.files] == ["portal-csv", "portal-csv"]


@pytest.mark.parametrize("name", ["la_signins.json", "la_signins.csv"])
def test_log_analytics_exports_with_string_columns(con, fixtures, name):
    load_signins(con, [fixtures / name])
    first, second = rows(con)
    assert (first["error_code"], second["error_code"]) == (70043, 0)
    assert first["interactive"] is False and second["interactive"] is True
    assert first["device_name"] == second["device_name"] == "DESKTOP-A1"
    assert first["ca"] == [{"id": "3f2c9a1e-5b7d-4c20-9e61-24a0f1d0b024",
                            "name": "Sign-in frequency 24 h", "result": "failure", "sif": True}]
    assert first["created_at"].isoformat() == "2024-03-14T07:01:00"


def test_parquet_written_by_pull(con, fixtures, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    record = json.loads((fixtures / "graph_beta_signins.json").read_text())["value"][0]
    raw = [json.dumps(record), json.dumps(dict(record, id="n2", isInteractive=None)), "{oops"]
    table = pa.table({"id": [record["id"], "n2", "bad"],
                      "created_date_time": pa.array([None, None, None], pa.timestamp("us", "UTC")),
                      "event_type": ["interactiveUser", "nonInteractiveUser", "interactiveUser"],
                      "raw": raw})
    pq.write_table(table, tmp_path / "part-0001.parquet")
    report = load_signins(con, [tmp_path])
    assert [r["interactive"] for r in rows(con, "SELECT interactive FROM signins ORDER BY id")] \
        == [True, False]
    assert report.malformed_count == 1 and report.files[0].kind == "parquet"


def test_empty_and_unknown_inputs_fail_clearly(con, tmp_path):
    (tmp_path / "e.json").write_text("")
    with pytest.raises(BadInput, match="empty"):
        load_signins(con, [tmp_path / "e.json"])
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(BadInput, match="not a sign-in export"):
        load_signins(con, [tmp_path / "x.csv"])
    (tmp_path / "v.json").write_text('{"value": []}')
    with pytest.raises(BadInput, match="no sign-ins"):
        load_signins(con, [tmp_path / "v.json"])
    with pytest.raises(BadInput, match="no such file"):
        load_signins(con, [tmp_path / "missing.json"])


_text = st.text(alphabet=st.sampled_from('ab{}[],:" \\\n\u00e9'), max_size=12)


@settings(max_examples=25, deadline=None)
@given(reasons=st.lists(_text, min_size=1, max_size=30), chunk=st.integers(200, 3000),
       pretty=st.booleans())
def test_chunked_documents_keep_every_record(tmp_path_factory, reasons, chunk, pretty):
    """Cutting the value array anywhere loses and duplicates nothing, whatever strings hold."""
    from odfix.tenant.load import connect

    folder = tmp_path_factory.mktemp("chunks")
    value = [{"id": f"r{i}", "createdDateTime": "2024-01-01T00:00:00Z", "userPrincipalName": "u",
              "status": {"errorCode": 1, "failureReason": reason},
              "appliedConditionalAccessPolicies": [{"id": "p", "result": "failure"}] * 2}
             for i, reason in enumerate(reasons)]
    path = folder / "doc.json"
    doc = {"@odata.context": "x", "value": value, "@odata.nextLink": "https://next?$top=1"}
    path.write_text(json.dumps(doc, indent=2 if pretty else None))
    cuts = list(spans(path, chunk))
    assert all(a <= b for a, b in cuts)
    con = connect()
    load_signins(con, [path], chunk_bytes=chunk)
    got = con.execute("SELECT id, failure_reason FROM signins ORDER BY id").fetchall()
    assert got == sorted((v["id"], v["status"]["failureReason"]) for v in value)


def test_records_larger_than_the_boundary_window(tmp_path):
    """A record bigger than the first search window (64 KB) grows the window, loses nothing."""
    from odfix.tenant.load import connect

    value = [{"id": f"r{i}", "createdDateTime": "2024-01-01T00:00:00Z", "userPrincipalName": "u",
              "status": {"errorCode": 1, "failureReason": "x" * (150_000 * (i % 3))}}
             for i in range(7)]
    path = tmp_path / "doc.json"
    path.write_text(json.dumps({"@odata.context": "x", "value": value}))
    cuts = list(spans(path, 1000))
    data = path.read_bytes()
    assert len(cuts) >= 3  # boundaries 150-300 KB away were found
    assert all(data[a:b].lstrip().startswith(b'{"id": "r') for a, b in cuts)
    assert all(data[b:b + 1] == b"," for _, b in cuts[:-1])
    con = connect()
    load_signins(con, [path], chunk_bytes=1000)
    got = con.execute("SELECT id, length(failure_reason) FROM signins ORDER BY id").fetchall()
    assert got == [(f"r{i}", 150_000 * (i % 3)) for i in range(7)]


def test_scratch_folders_of_killed_runs_are_swept(tmp_path):
    """A run killed mid-load leaves its RAM scratch folder; the next run removes it, and only
    it (a live run's folder and other folders stay)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from odfix.tenant.load import SCRATCH_STALE_SECONDS, _scratch_dir, sweep_scratch

    code = ("import sys, time; from odfix.tenant.load import _scratch_dir; "
            "print(_scratch_dir(), flush=True); time.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    orphan = Path(child.stdout.readline().strip())
    (orphan / "slot0.json").write_bytes(b"[]")
    os.kill(child.pid, signal.SIGKILL)
    child.wait()

    def age(folder: Path, seconds: float) -> None:
        when = time.time() - seconds
        for item in [*folder.iterdir(), folder]:
            os.utime(item, (when, when))

    next_run = ("import os; from odfix.tenant.load import _scratch_dir; "
                "os.rmdir(_scratch_dir())")
    subprocess.run([sys.executable, "-c", next_run], check=True)
    mine = Path(_scratch_dir())
    try:
        assert orphan.exists()  # dead, but touched moments ago: kept
        age(orphan, SCRATCH_STALE_SECONDS + 5)
        subprocess.run([sys.executable, "-c", next_run], check=True)
        assert not orphan.exists()  # the next run's load removed it
        assert mine.name.startswith(f"odfix-{os.getpid()}-")
        (tmp_path / "odfix-notes").mkdir()
        dead = tmp_path / f"odfix-{child.pid}-abc"
        dead.mkdir()
        live = tmp_path / f"odfix-{os.getpid()}-live"
        live.mkdir()
        for folder in (dead, live, tmp_path / "odfix-notes"):
            age(folder, SCRATCH_STALE_SECONDS + 5)
        assert sweep_scratch(str(tmp_path)) == [str(dead)]
        assert sorted(p.name for p in tmp_path.iterdir()) == [live.name, "odfix-notes"]
        assert mine.exists()
    finally:
        mine.rmdir()


def test_folder_skips_directory_json_and_dedupes_by_id(con, fixtures):
    from odfix.tenant.load import expand

    names = {p.name for p in expand([fixtures])}
    assert "ca_policies.json" not in names and "user_synthetic.json" not in names
    assert {"graph_v1_signins.json", "la_signins.json", "la_signins.csv"} <= names


def test_directory_files_stream_and_count_bad_records(con, tmp_path):
    from odfix.tenant.directory import load_audits, load_devices, load_users
    from odfix.tenant.load import LoadReport

    report = LoadReport()
    users = tmp_path / "users.json"
    users.write_text(json.dumps({"value": [
        {"id": "u1", "userPrincipalName": "A@contoso.com",
         "lastPasswordChangeDateTime": "2024-03-13T18:02:11Z"},
        {"accountEnabled": True}]}))
    load_users(con, users, report)
    assert con.execute("SELECT user_id, upn FROM users").fetchall() == [("u1", "a@contoso.com")]
    audits = tmp_path / "audits.ndjson"
    audits.write_text("\n".join(json.dumps(a) for a in [
        {"activityDateTime": "2024-03-13T18:00:00Z", "activityDisplayName": "Reset password "
         "(by admin)", "result": "success", "targetResources": [{"id": "u1", "type": "User"}]},
        {"activityDateTime": "2024-03-13T18:05:00Z", "activityDisplayName": "Update group",
         "result": "success", "targetResources": [{"id": "g1", "type": "Group"}]},
        {"activityDisplayName": "Change user password"}]))
    load_audits(con, audits, report)
    assert con.execute("SELECT user_id FROM audits").fetchall() == [("u1",)]
    devices = tmp_path / "devices.json"
    devices.write_text(json.dumps([{"deviceId": "d1", "displayName": "PC-1",
                                    "registrationDateTime": "2024-01-01T00:00:00Z"},
                                   {"deviceId": "d2"}]))
    load_devices(con, devices, report)
    assert con.execute("SELECT device_id, enabled FROM devices").fetchall() == [("d1", True)]
    assert [(Path(m.file).name, m.record) for m in report.malformed] == [
        ("users.json", 2), ("audits.ndjson", 3), ("devices.json", 2)]


def test_second_cursor_reads_times_in_utc(con, tmp_path):
    from datetime import datetime

    from odfix.tenant.directory import load_users
    from odfix.tenant.load import LoadReport, cursor

    con.execute("SET GLOBAL TimeZone = 'America/New_York'").fetchall()  # a machine not in UTC
    users = tmp_path / "users.json"
    users.write_text(json.dumps([{"id": "u1", "userPrincipalName": "a@contoso.com",
                                  "lastPasswordChangeDateTime": "2024-03-13T18:02:11"}]))
    load_users(cursor(con), users, LoadReport())
    assert con.execute("SELECT changed_at FROM users").fetchall() == [
        (datetime(2024, 3, 13, 18, 2, 11),)]
