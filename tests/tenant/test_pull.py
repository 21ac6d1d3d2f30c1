"""``odfix signins pull`` against the local Graph server: exact data, resume, throttling."""

import contextlib
import importlib
import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odfix.errors import BadInput
from odfix.tenant.graph import GraphClient, RetryPolicy
from odfix.tenant.graph_throttle import ThrottleLimit, TokenBucket
from odfix.tenant.pull import Puller, signin_filter
from odfix.tenant.pull_checkpoint import CHECKPOINT_NAME, PullPlan

sys.path.insert(0, str(Path(__file__).parent))
gs = importlib.import_module("graph_server")

FIXTURES = Path(__file__).parents[1] / "fixtures" / "graph"
FAST = RetryPolicy(attempts=4, base_s=0.01, cap_s=0.05, timeout_s=2.0)
START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 11, 3, tzinfo=UTC)
PLAN = PullPlan(since=START, until=END, slice_hours=6, extras=())


def _state(count: int = 600, page_size: int = 50) -> Any:
    signins = gs.seed_signins(count, START, END, seed=7, edges=12)
    users = gs.seed_users(signins)
    policies = json.loads((FIXTURES / "conditionalaccess-policies-list.json").read_text())["value"]
    return gs.GraphState(signins=signins, users=users, audits=gs.seed_audits(users),
                         policies=policies, devices=[{"id": "d1", "deviceId": "x",
                                                      "displayName": "PC-1"}],
                         page_size=page_size)


def _client(server: Any, **kw: Any) -> GraphClient:
    return GraphClient(lambda refresh: gs.TOKEN, base_url=server.url, retry=FAST, **kw)


def _read(out: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in sorted((out / "signins").glob("*.parquet")):
        rows.extend(pq.read_table(path).to_pylist())
    return rows


def _expected(state: Any, plan: PullPlan = PLAN) -> dict[str, tuple[str, str]]:
    wanted = {}
    for record in state.signins:
        when = gs.parse_time(record["createdDateTime"])
        if plan.since <= when <= plan.until:
            for event_type in gs.event_types(record):
                if event_type in plan.event_types:
                    wanted[record["id"]] = (event_type, json.dumps(record, sort_keys=True))
    return wanted


def _pulled(out: Path) -> dict[str, tuple[str, str]]:
    rows = _read(out)
    got = {r["id"]: (r["event_type"], json.dumps(json.loads(r["raw"]), sort_keys=True))
           for r in rows}
    assert len(got) == len(rows), "duplicated rows"
    return got


def test_full_pull_equals_the_seeded_data(tmp_path: Path) -> None:
    state = _state()
    edge_ids = {r["id"] for r in state.signins if r["createdDateTime"].endswith(":00:00Z")}
    assert edge_ids
    with gs.GraphServer(state) as server, _client(server) as client:
        result = Puller(client, tmp_path).run(PLAN)
    assert _pulled(tmp_path) == _expected(state)
    assert result.complete and sum(result.rows.values()) == len(_expected(state))
    rows = _read(tmp_path)
    for row in rows[:50]:
        raw = json.loads(row["raw"])
        assert row["created_date_time"] == datetime.fromisoformat(raw["createdDateTime"])
        assert row["created_date_time"].tzinfo is not None
    paths = {h.path for h in server.state.log}
    assert paths == {"/v1.0/auditLogs/signIns", "/beta/auditLogs/signIns"}


def test_the_published_beta_sample_round_trips(tmp_path: Path) -> None:
    document = json.loads((FIXTURES / "signin-list-beta-example2.json").read_text())
    state = gs.GraphState(signins=document["value"])
    plan = PullPlan(since=datetime(2018, 11, 6, tzinfo=UTC),
                    until=datetime(2018, 11, 7, tzinfo=UTC), extras=())
    with gs.GraphServer(state) as server, _client(server) as client:
        Puller(client, tmp_path).run(plan)
    (row,) = _read(tmp_path)
    assert json.loads(row["raw"]) == document["value"][0]
    assert row["event_type"] == "interactiveUser"
    assert row["id"] == "b01b1726-0147-425e-a7f7-21f252050400"


class Crash(Exception):
    """Stands for the process dying between two pages."""


class CrashingClient(GraphClient):
    def __init__(self, *args: Any, after: int, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.left = after

    def get(self, *args: Any, **kw: Any) -> dict[str, Any]:
        if self.left == 0:
            raise Crash
        self.left -= 1
        return super().get(*args, **kw)


@pytest.fixture(scope="module")
def shared_server() -> Any:
    with gs.GraphServer(_state(400, page_size=30)) as server:
        yield server


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(crashes=st.lists(st.integers(0, 25), min_size=1, max_size=3))
def test_resume_after_crashes_loses_and_duplicates_nothing(
    shared_server: Any, tmp_path_factory: pytest.TempPathFactory, crashes: list[int]
) -> None:
    out = tmp_path_factory.mktemp("pull")
    for n, after in enumerate(crashes):
        client = CrashingClient(lambda refresh: gs.TOKEN, base_url=shared_server.url,
                                retry=FAST, after=after)
        with client, contextlib.suppress(Crash):  # a late crash point may not be reached
            Puller(client, out).run(PLAN, resume=n > 0)
    with _client(shared_server) as client:
        result = Puller(client, out).run(PLAN, resume=True)
    assert result.resumed
    assert _pulled(out) == _expected(shared_server.state)
    assert not list(out.rglob("*.part"))


def test_killed_cli_resumes_without_loss(tmp_path: Path) -> None:
    state = _state(600, page_size=40)
    out = tmp_path / "pull"
    with gs.GraphServer(state) as server:
        args = [sys.executable, "-m", "odfix", "signins", "pull", "--tenant", "contoso",
                "--token-env", "ODFIX_TEST_TOKEN", "--graph-url", server.url,
                "--since", "2026-11-01", "--until", "2026-11-03", "--out", str(out),
                "--include", "none", "--rate-limit", "1000", "--json"]
        env = {**os.environ, "ODFIX_TEST_TOKEN": gs.TOKEN}
        state.pause_at = 9
        first = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert state.paused.wait(30)
        first.send_signal(signal.SIGKILL)
        first.wait()
        state.pause_at = None
        assert json.loads((out / CHECKPOINT_NAME).read_text())["complete"] is False
        again = subprocess.run([*args, "--resume"], env=env, capture_output=True, timeout=60)
    assert again.returncode == 0, again.stderr
    document = json.loads(again.stdout)
    assert document["resumed"] is True and document["complete"] is True
    assert _pulled(out) == _expected(state)
    refused = subprocess.run(args, env=env, capture_output=True, timeout=60)
    assert refused.returncode == 2
    assert b"--resume" in refused.stderr
    assert json.loads(refused.stdout) == {"error": json.loads(refused.stdout)["error"], "exit": 2}


def test_paced_pull_stays_under_the_server_limit(tmp_path: Path) -> None:
    state = _state(600, page_size=100)
    window = 0.25
    state.throttle = (5, window)
    limit = ThrottleLimit(requests=5, window_s=window, margin=0.1)
    with gs.GraphServer(state) as server, \
            _client(server, pacer=TokenBucket.for_limit(limit)) as client:
        Puller(client, tmp_path).run(PLAN)
    hits = server.reporting_hits()
    assert {h.status for h in hits} == {200}
    assert gs.max_in_window([h.at for h in hits], window) <= 5
    assert _pulled(tmp_path) == _expected(state)


def test_extras_are_written_and_refusals_become_warnings(tmp_path: Path) -> None:
    state = _state(100)
    state.forbidden = {"devices"}
    plan = PLAN.model_copy(update={"extras": ("users", "policies", "devices", "audits")})
    with gs.GraphServer(state) as server, _client(server) as client:
        result = Puller(client, tmp_path).run(plan)
    users = json.loads((tmp_path / "users.json").read_text())["value"]
    assert {u["userPrincipalName"] for u in users} == {u["userPrincipalName"] for u in state.users}
    assert all("lastPasswordChangeDateTime" in u for u in users)
    policies = json.loads((tmp_path / "policies.json").read_text())["value"]
    assert [p["displayName"] for p in policies] == ["SimplePolicy1", "SimplePolicy2"]
    audits = json.loads((tmp_path / "audits.json").read_text())["value"]
    assert audits and {a["activityDisplayName"] for a in audits} == {"Reset user password"}
    assert not (tmp_path / "devices.json").exists()
    assert result.extras.keys() == {"users", "policies", "audits"}
    assert len(result.warnings) == 1 and "devices" in result.warnings[0]
    assert "403" in result.warnings[0]


def test_groups_of_policies_are_pulled_whole_and_resolve_scope(tmp_path: Path) -> None:
    """The groups CA policies include or exclude are pulled with every transitive member, page
    by page past Graph's 100-object $expand cap, and marked complete with @odata.count."""
    from odfix.tenant.directory import load_groups, memberships
    from odfix.tenant.load import LoadReport, connect

    state = _state(100, page_size=40)
    state.policies[0]["conditions"]["users"]["includeGroups"] = ["g-big"]
    state.policies[1]["conditions"]["users"]["excludeGroups"] = ["g-small"]
    state.groups = {"g-big": [{"@odata.type": "#microsoft.graph.user", "id": f"u{i}"}
                              for i in range(150)],
                    "g-small": [{"@odata.type": "#microsoft.graph.device", "id": "d1"}],
                    "g-unused": [{"id": "u1"}]}
    plan = PLAN.model_copy(update={"extras": ("policies", "groups")})
    with gs.GraphServer(state) as server, _client(server) as client:
        result = Puller(client, tmp_path).run(plan)
        hits = [h.path for h in server.state.log if "/groups/" in h.path]
    assert result.extras == {"policies": 2, "groups": 2}
    assert hits.count("/v1.0/groups/g-big/transitiveMembers") == 4  # 150 ids, 40 a page
    groups = json.loads((tmp_path / "groups.json").read_text())["value"]
    assert [(g["id"], len(g["transitiveMembers"]), g["transitiveMembers@odata.count"])
            for g in groups] == [("g-big", 150, 150), ("g-small", 1, 1)]
    con = connect()
    load_groups(con, tmp_path / "groups.json", LoadReport())
    known = memberships(con, ["u7", "u999"])
    assert known.member("u7", "g-big") is True
    assert known.member("u999", "g-big") is False  # complete past 100: the count says so
    assert known.member("u999", "g-unused") is None


def test_one_user_pull_filters_server_side(tmp_path: Path) -> None:
    state = _state(300)
    upn = state.signins[0]["userPrincipalName"]
    plan = PLAN.model_copy(update={"user": upn, "extras": ("users",)})
    with gs.GraphServer(state) as server, _client(server) as client:
        Puller(client, tmp_path).run(plan)
    got = _pulled(tmp_path)
    want = {k: v for k, v in _expected(state).items() if upn in v[1]}
    assert got == want and got
    users = json.loads((tmp_path / "users.json").read_text())["value"]
    assert [u["userPrincipalName"] for u in users] == [upn]


def test_filter_text() -> None:
    plan = PLAN.model_copy(update={"user": "o'neil@contoso.com", "app_id": "ab9b"})
    text = signin_filter(plan, "nonInteractiveUser", START, END)
    assert text == ("(createdDateTime ge 2026-11-01T00:00:00Z and createdDateTime le "
                    "2026-11-03T00:00:00Z and userPrincipalName eq 'o''neil@contoso.com' and "
                    "appId eq 'ab9b') and signInEventTypes/any(t: t eq 'nonInteractiveUser')")


def test_existing_pull_needs_resume_and_the_same_plan(tmp_path: Path) -> None:
    state = _state(50)
    with gs.GraphServer(state) as server, _client(server) as client:
        Puller(client, tmp_path).run(PLAN)
        with pytest.raises(BadInput, match="--resume"):
            Puller(client, tmp_path).run(PLAN)
        with pytest.raises(BadInput, match="different options"):
            Puller(client, tmp_path).run(PLAN.model_copy(update={"slice_hours": 1}),
                                         resume=True)
        before = len(server.state.log)
        Puller(client, tmp_path).run(PLAN, resume=True)
        assert len(server.state.log) == before
    (tmp_path / CHECKPOINT_NAME).write_text("{broken")
    with pytest.raises(BadInput, match="not a readable pull checkpoint"):
        Puller(client, tmp_path).run(PLAN, resume=True)


def test_unwritable_out_is_one_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from odfix.cli import main

    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("ODFIX_TEST_TOKEN", gs.TOKEN)
    with gs.GraphServer(_state(10)) as server:
        code = main(["signins", "pull", "--tenant", "t", "--token-env", "ODFIX_TEST_TOKEN",
                     "--graph-url", server.url, "--since", "2026-11-01", "--until",
                     "2026-11-02", "--out", str(blocker / "sub"), "--json"])
    captured = capsys.readouterr()
    assert code == 2 and json.loads(captured.out)["exit"] == 2
    assert captured.err.startswith("odfix: error: cannot write the pull ")
    assert "Traceback" not in captured.err


@pytest.mark.parametrize(("args", "message"), [
    (["--since", "last tuesday"], "not a date/time: 'last tuesday'"),
    (["--since", "2026-11-02", "--until", "2026-11-01"], "--until must be later than --since"),
    (["--since", "1d", "--types", "guests"], "--types: unknown guests"),
    (["--since", "1d", "--secret-env", "X", "--certificate", "c.pem"], "not both"),
])
def test_bad_options_are_one_line(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from odfix.cli import main

    code = main(["signins", "pull", "--tenant", "t", "--out", str(tmp_path), *args])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert message in captured.err and captured.err.count("\n") == 1
