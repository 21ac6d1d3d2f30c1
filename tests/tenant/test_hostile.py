"""Hostile sign-in logs and bad output paths: one clear line and a distinct exit code, data
printed as text, spreadsheets safe."""

import csv
import io
import json
import os
from pathlib import Path

import pytest

from odfix.cli import main
from odfix.exitcodes import ExitCode

HOSTILE_CSV = "InteractiveSignIns_2025-12-04_2025-12-05.csv"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["signins", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_markup_in_upns_prints_as_text(capsys, fixtures):
    code, out, err = cli(capsys, "analyze", str(fixtures / HOSTILE_CSV), "--user",
                         "a[/]b@contoso.com")
    assert code == 0, err
    assert "a[/]b@contoso.com" in out and "Timeline of a[/]b@contoso.com" in out


def recurring(fixtures: Path, path: Path, upns: list[str]) -> Path:
    """NDJSON where each UPN fails four times, hours apart (a recurring problem, so the user is
    in every table and in the CSV)."""
    record = json.loads((fixtures / "graph_beta_signins.json").read_text())["value"][0]
    lines = [json.dumps(dict(record, id=f"{n}-{i}", userPrincipalName=upn,
                             createdDateTime=f"2024-03-1{i}T0{i}:00:00Z",
                             status={"errorCode": 53003}))
             for n, upn in enumerate(upns) for i in range(4)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_rich_link_markup_is_not_a_hyperlink(capsys, fixtures, tmp_path):
    upn = "[link=https://evil.invalid]x[/link]@contoso.com"
    data = recurring(fixtures, tmp_path / "links.ndjson", [upn, "a[/]b@contoso.com"])
    code, out, err = cli(capsys, "analyze", str(data))
    assert code == 0, err
    assert upn in out and "a[/]b@contoso.com" in out


def test_csv_neutralises_formula_cells(capsys, fixtures, tmp_path):
    hostile = ['=HYPERLINK("https://example.invalid")@contoso.com', "+cmd|' /C calc'!A0",
               "@SUM(1+1)@contoso.com", "-2+3@contoso.com"]
    data = recurring(fixtures, tmp_path / "formulas.ndjson", hostile)
    code, out, _ = cli(capsys, "analyze", str(data), "--csv")
    assert code == 0
    upns = [row["upn"] for row in csv.DictReader(io.StringIO(out))]
    assert sorted(upns) == sorted("'" + u.lower() for u in hostile)


@pytest.mark.parametrize("where, code", [("missing", ExitCode.BAD_INPUT),
                                         ("folder", ExitCode.BAD_INPUT),
                                         ("full", ExitCode.IO_ERROR)])
def test_html_to_a_bad_place_is_one_line(capsys, fixtures, tmp_path, where, code):
    if where == "full" and not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    target = {"missing": tmp_path / "nope" / "r.html", "folder": tmp_path,
              "full": Path("/dev/full")}[where]
    got, out, err = cli(capsys, "analyze", str(fixtures / "graph_v1_signins.json"), "--html",
                        str(target), "--json")
    assert got == code
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert json.loads(out)["exit"] == code


def test_synth_into_a_missing_folder(capsys, tmp_path):
    code, _, err = cli(capsys, "synth", "--out", str(tmp_path / "nope" / "s.json"), "--users",
                       "10", "--days", "3")
    assert code == ExitCode.BAD_INPUT and "does not exist" in err
    assert not (tmp_path / "nope").exists()


def test_year_99999_is_one_skipped_row(capsys, fixtures, tmp_path):
    doc = json.loads((fixtures / "graph_beta_signins.json").read_text())
    bad = dict(doc["value"][0], id="far-future", createdDateTime="99999-01-01T00:00:00Z")
    doc["value"].append(bad)
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc))
    code, out, _ = cli(capsys, "analyze", str(path), "--json")
    result = json.loads(out)
    assert code == 0 and result["summary"]["signins"] == 1
    assert result["load"]["malformed"] == [{"file": str(path), "line": None, "record": 2,
                                            "reason": "no valid time"}]


def test_deeply_nested_json_is_one_line(capsys, tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    code, _, err = cli(capsys, "analyze", str(path))
    assert code == ExitCode.BAD_INPUT and len(err.strip().splitlines()) == 1


def test_csv_field_over_2_mb(capsys, fixtures, tmp_path):
    lines = (fixtures / "InteractiveSignIns_2024-03-13_2024-03-14.csv").read_text(
        encoding="utf-8-sig").splitlines()
    cells = lines[1].split(",")
    cells[2] = "x" * (3 << 20)  # the "User agent" cell
    path = tmp_path / "InteractiveSignIns_big.csv"
    path.write_text("\n".join([lines[0], ",".join(cells), lines[1]]) + "\n")
    code, out, err = cli(capsys, "analyze", str(path), "--json")
    assert code == 0, err[:300]
    assert json.loads(out)["summary"]["signins"] == 2


def test_file_named_with_a_star_is_not_a_wildcard(capsys, fixtures, tmp_path):
    record = json.loads((fixtures / "graph_beta_signins.json").read_text())["value"][0]
    (tmp_path / "a*.ndjson").write_text(json.dumps(record) + "\n")
    others = [json.dumps(dict(record, id=f"other-{n}")) for n in range(3)]
    (tmp_path / "ab.ndjson").write_text("\n".join(others) + "\n")
    (tmp_path / "c[1].csv").write_text((fixtures / HOSTILE_CSV).read_text(encoding="utf-8-sig"))
    (tmp_path / "c1.csv").write_text("nothing,here\n")
    code, out, _ = cli(capsys, "analyze", str(tmp_path / "a*.ndjson"), "--json")
    assert code == 0 and json.loads(out)["summary"]["signins"] == 1
    code, out, _ = cli(capsys, "analyze", str(tmp_path / "c[1].csv"), "--json")
    assert code == 0 and json.loads(out)["summary"]["signins"] == 4


def wrong_types(fixtures: Path) -> tuple[list[dict], list[dict]]:
    """Graph records as they are, and three with a field of a type no export has."""
    good = json.loads((fixtures / "graph_beta_signins.json").read_text())["value"]
    bad = [dict(good[0], id="bad-status", status="x"),
           dict(good[0], id="bad-device", deviceDetail=[1]),
           dict(good[0], id="bad-ca", appliedConditionalAccessPolicies=[1])]
    return good, bad


@pytest.mark.parametrize("shape", ["graph", "array", "ndjson"])
def test_a_record_with_a_field_of_the_wrong_type_is_one_skipped_row(capsys, fixtures, tmp_path,
                                                                      shape):
    good, bad = wrong_types(fixtures)
    records = [good[0], *bad, *good[1:]]
    path = tmp_path / f"s.{'ndjson' if shape == 'ndjson' else 'json'}"
    path.write_text({"graph": lambda: json.dumps({"value": records}),
                     "array": lambda: json.dumps(records),
                     "ndjson": lambda: "\n".join(map(json.dumps, records)) + "\n{broken\n",
                     }[shape]())
    code, out, err = cli(capsys, "analyze", str(path), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["summary"]["signins"] == len(good)
    refused = [m for m in result["load"]["malformed"] if "unexpected type" in m["reason"]]
    assert len(refused) == len(bad)
    if shape == "ndjson":
        assert [m["line"] for m in refused] == [2, 3, 4]
    else:
        assert [m["reason"].split(":")[0] for m in refused] == [
            "id 'bad-status'", "id 'bad-device'", "id 'bad-ca'"]
    assert all("/dev/shm" not in m["reason"] and "odfix-" not in m["reason"] for m in refused)


def test_a_file_of_wrong_typed_records_is_refused_in_one_line(capsys, fixtures, tmp_path):
    _, bad = wrong_types(fixtures)
    path = tmp_path / "s.ndjson"
    path.write_text("\n".join(json.dumps(dict(bad[0], id=str(n))) for n in range(500)) + "\n")
    code, out, err = cli(capsys, "analyze", str(path), "--json")
    assert code == ExitCode.BAD_INPUT and len(err.strip().splitlines()) == 1
    assert "records have fields of types no sign-in export has" in json.loads(out)["error"]


def test_a_damaged_parquet_file_is_one_line(capsys, tmp_path):
    path = tmp_path / "pull.parquet"
    path.write_bytes(b"PAR1 cut short PAR1")
    code, out, err = cli(capsys, "analyze", str(path), "--json")
    assert code == ExitCode.BAD_INPUT and len(err.strip().splitlines()) == 1
    assert "not a readable Parquet file" in json.loads(out)["error"]
