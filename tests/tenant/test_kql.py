"""``odfix signins kql``: snapshot tests of the generated KQL and the workspace path."""

import json
import os
import re
import sys
import types
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odfix.cli import main
from odfix.guide.codes import load_catalog
from odfix.tenant.kql import ANALYSES, categories_table, query

SNAPSHOTS = Path(__file__).parents[1] / "fixtures" / "graph" / "kql"
SAMPLE = {50173: "password-change", 70043: "sign-in-frequency", 53000: "device"}


@pytest.mark.parametrize("name", list(ANALYSES))
def test_generated_kql_matches_its_snapshot(name: str) -> None:
    text = query(name, SAMPLE, 14)
    path = SNAPSHOTS / f"{name}.kql"
    if os.environ.get("ODFIX_UPDATE_SNAPSHOTS"):
        path.write_text(text)
    assert text == path.read_text(), f"regenerate with ODFIX_UPDATE_SNAPSHOTS=1 if intended: {path}"


def _balanced(text: str) -> bool:
    text = re.sub(r'"[^"\n]*"', '""', re.sub(r"//[^\n]*", "", text))
    depth = {"(": 0, "[": 0}
    for char in text:
        if char in "([":
            depth[char] += 1
        elif char in ")]":
            opener = "(" if char == ")" else "["
            depth[opener] -= 1
            if depth[opener] < 0:
                return False
    return depth == {"(": 0, "[": 0} and text.count('"') % 2 == 0


codes = st.dictionaries(st.integers(1, 9_999_999),
                        st.sampled_from(["password-change", "device", "ca-block", "unknown"]),
                        min_size=1, max_size=30)


@given(codes, st.integers(1, 3650), st.sampled_from(list(ANALYSES)))
def test_every_query_is_well_formed(categories: dict[int, str], days: int, name: str) -> None:
    text = query(name, categories, days)
    assert _balanced(text)
    assert f"ago({days}d)" in text
    assert len(re.findall(r"^    \d+, \"[a-z-]+\",?$", text, re.M)) == len(categories)
    statements = [s for s in text.split(";") if s.strip()]
    assert statements[-1].lstrip().startswith(("Failures", "SignIns"))


def test_datatable_carries_the_whole_catalog() -> None:
    categories = load_catalog().aadsts_categories()
    table = categories_table(categories)
    rows = dict(re.findall(r"^    (\d+), \"([a-z-]+)\"", table, re.M))
    assert {int(k): v for k, v in rows.items()} == categories
    assert "70043" in rows and rows["70043"] == "sign-in-frequency"


def test_cli_prints_all_queries_as_one_json_document(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["signins", "kql", "--days", "7", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert list(document["queries"]) == list(ANALYSES)
    assert all("ago(7d)" in q for q in document["queries"].values())


def test_cli_rejects_an_unknown_analysis(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["signins", "kql", "--analysis", "nope"]) == 2
    captured = capsys.readouterr()
    assert "unknown nope" in captured.err and captured.out == ""


def test_workspace_without_the_extra_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "azure.identity", None)
    monkeypatch.setitem(sys.modules, "azure.monitor.query", None)
    assert main(["signins", "kql", "--workspace", "ws-1", "--device-code"]) == 5
    assert "pip install 'odfix[kql]'" in capsys.readouterr().err


class _Client:
    calls: ClassVar[list[tuple[str, str, Any]]] = []

    def __init__(self, credential: Any) -> None:
        self.credential = credential

    def query_workspace(self, workspace: str, text: str, timespan: Any) -> Any:
        self.calls.append((workspace, text, timespan))
        column = types.SimpleNamespace(name="UserPrincipalName")
        table = types.SimpleNamespace(columns=[column], rows=[["a@contoso.com"]])
        return types.SimpleNamespace(tables=[table])


def test_workspace_runs_each_query_through_azure_monitor_query(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    identity = types.ModuleType("azure.identity")
    identity.DeviceCodeCredential = lambda **kw: ("device-code", kw)  # type: ignore[attr-defined]
    monitor = types.ModuleType("azure.monitor.query")
    monitor.LogsQueryClient = _Client  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "azure.identity", identity)
    monkeypatch.setitem(sys.modules, "azure.monitor.query", monitor)
    _Client.calls = []
    code = main(["signins", "kql", "--workspace", "ws-1", "--analysis", "users",
                 "--analysis", "clones", "--device-code", "--tenant", "contoso", "--json"])
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert document["results"]["users"] == [{"columns": ["UserPrincipalName"],
                                             "rows": [["a@contoso.com"]]}]
    assert [c[0] for c in _Client.calls] == ["ws-1", "ws-1"]
    assert _Client.calls[1][1].startswith("// odfix clones")
