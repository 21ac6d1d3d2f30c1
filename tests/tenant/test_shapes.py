"""Every real shape a technician is sent: portal CSV, Log Analytics CSV, Azure Monitor records,
a single signIn object; an unknown shape says what was tried (tests/fixtures/tenant/README.md)."""

import pytest

from odfix.errors import BadInput
from odfix.tenant.load import load_signins


def rows(con):
    cur = con.execute("SELECT * FROM signins ORDER BY created_at, id")
    return [dict(zip([d[0] for d in cur.description], r, strict=True)) for r in cur.fetchall()]


def test_portal_csv_with_trailing_spaces_and_a_repeated_header(con, fixtures):
    report = load_signins(con, [fixtures / "InteractiveSignIns_2025-12-04_2025-12-05.csv"])
    assert report.rows == 4 and report.malformed_count == 0
    first = rows(con)[0]
    assert first["app_id"] == "ab9b8c07-8f02-4f72-87fa-80105867a763"  # "Application ID "
    assert first["resource_id"] == "00000003-0000-0ff1-ce00-000000000000"  # "Resource ID "
    assert first["error_code"] == 70043 and first["interactive"] is True
    assert first["device_id"] == "11111111-2222-4333-8444-555555555555"
    assert report.files[0].kind == "portal-csv"


def test_log_analytics_export_to_csv_with_us_times(con, fixtures):
    report = load_signins(con, [fixtures / "la_signinlogs_export.csv"])
    assert report.rows == 2 and report.malformed_count == 0
    first, second = rows(con)
    # CreatedDateTime [UTC] (the sign-in) wins over TimeGenerated [UTC] (ingestion)
    assert second["created_at"].isoformat() == "2023-09-19T13:42:37.848000"
    assert first["created_at"].isoformat() == "2023-09-19T11:21:02.145000"
    assert first["error_code"] == 50140 and second["error_code"] == 0
    assert first["interactive"] is True  # "TRUE"
    assert second["device_name"] == "{PII Removed}" and second["trust_type"] == "Azure AD joined"
    assert second["resource_id"] == "797f4846-ba00-4fd7-ba43-dac1f8f63013"  # ResourceIdentity


@pytest.mark.parametrize("name, count", [("azure_monitor_signin_record.json", 1),
                                         ("azure_monitor_signins.ndjson", 2),
                                         ("azure_monitor_records.json", 2)])
def test_azure_monitor_diagnostic_records(con, fixtures, name, count):
    report = load_signins(con, [fixtures / name])
    assert report.rows == count and report.files[0].kind == "azure-monitor"
    by_code = {r["error_code"]: r for r in rows(con)}
    kmsi = by_code[50140]
    assert kmsi["upn"] == "<user principal name>" and kmsi["interactive"] is True
    assert kmsi["resource_id"] == "00000003-0000-0ff1-ce00-000000000000"
    if count == 2:
        device = by_code[50097]
        assert device["interactive"] is False and device["device_name"] == "WS3A7C1DBA"
        assert device["upn"] == "user_468aad99@domain_e9c4f53a.com"
        assert {p["id"] for p in device["ca"]} >= {"627ea70c-8186-40a5-aafb-d681edbc2d88"}


def test_microsofts_broken_records_sample_is_one_clear_error(con, fixtures):
    with pytest.raises(BadInput, match="not closed"):
        load_signins(con, [fixtures / "azure_monitor_records_2018.json"])


def test_single_signin_object_with_the_docs_trailing_comma(con, fixtures):
    report = load_signins(con, [fixtures / "signin_single_object.json"])
    (row,) = rows(con)
    assert report.rows == 1 and row["upn"] == "testaccount1@contoso.com"


def test_unknown_json_shape_names_the_shapes_and_why_rows_failed(con, tmp_path):
    path = tmp_path / "x.json"
    path.write_text('[{"foo": 1}, {"foo": 2}]')
    with pytest.raises(BadInput) as caught:
        load_signins(con, [path])
    message = caught.value.message
    assert "record 1: no id, no valid time, no user" in message
    assert "Azure Monitor" in message and "portal CSV" in message and "\n" not in message


def test_unknown_csv_shape_names_its_headers(con, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("alpha,beta\n1,2\n")
    with pytest.raises(BadInput, match="'alpha', 'beta'") as caught:
        load_signins(con, [path])
    assert "Log Analytics" in caught.value.message
