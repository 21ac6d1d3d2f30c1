"""``odfix signins pull`` when the network or DNS is down: one line and exit 6 within seconds, not
minutes of silent retries; progress (pages, rows, rate, position) on stderr."""

import importlib
import json
import socket
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from odfix.errors import NetworkUnavailable
from odfix.exitcodes import ExitCode
from odfix.tenant.graph import GraphClient, RetryPolicy
from odfix.tenant.pull import Puller, PullProgress
from odfix.tenant.pull_checkpoint import PullPlan

sys.path.insert(0, str(Path(__file__).parent))
gs = importlib.import_module("graph_server")

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 11, 3, tzinfo=UTC)


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def no_dns(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno -3] Temporary failure in name resolution", request=request)


def test_dns_down_fails_fast_with_exit_6() -> None:
    waits: list[float] = []
    client = GraphClient(lambda refresh: "t", transport=httpx.MockTransport(no_dns),
                         sleep=waits.append)
    with client, pytest.raises(NetworkUnavailable) as caught:
        client.get("/v1.0/auditLogs/signIns")
    assert caught.value.code == ExitCode.NETWORK == 6
    message = caught.value.message
    assert "name resolution" in message and "graph.microsoft.com" in message
    assert len(waits) == 1 and client.stats.requests == 2  # not eight attempts over ~2 minutes


def test_a_drop_after_the_network_worked_is_still_retried() -> None:
    calls = {"n": 0}

    def flaky(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] in (2, 3, 4):
            raise httpx.ConnectError("connection reset", request=request)
        return httpx.Response(200, json={"value": []})

    retry = RetryPolicy(attempts=6, base_s=0.01, cap_s=0.01)
    with GraphClient(lambda refresh: "t", transport=httpx.MockTransport(flaky), retry=retry,
                     sleep=lambda s: None) as client:
        client.get("/v1.0/a")
        assert client.get("/v1.0/b") == {"value": []}
    assert calls["n"] == 5


def test_cli_pull_with_the_network_down(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from odfix.cli import main

    monkeypatch.setenv("ODFIX_TEST_TOKEN", "token")
    began = time.monotonic()
    code = main(["signins", "pull", "--tenant", "t", "--token-env", "ODFIX_TEST_TOKEN",
                 "--graph-url", f"http://127.0.0.1:{closed_port()}", "--since", "2026-11-01",
                 "--until", "2026-11-02", "--out", str(tmp_path / "pull"), "--json"])
    captured = capsys.readouterr()
    assert code == ExitCode.NETWORK
    assert json.loads(captured.out)["exit"] == 6
    assert captured.err.count("odfix: error: cannot reach Microsoft Graph") == 1
    assert time.monotonic() - began < 20


def test_progress_reports_pages_rows_and_position(tmp_path: Path) -> None:
    signins = gs.seed_signins(300, START, END, seed=3, edges=4)
    seen: list[PullProgress] = []
    with gs.GraphServer(gs.GraphState(signins=signins, page_size=40)) as server, \
            GraphClient(lambda refresh: gs.TOKEN, base_url=server.url) as client:
        Puller(client, tmp_path, on_progress=seen.append).run(
            PullPlan(since=START, until=END, slice_hours=12, extras=()))
    pages = [p.pages for p in seen]
    assert pages == sorted(pages) and pages[-1] >= 300 // 40
    assert seen[-1].rows == 300 and seen[-1].slices_done == seen[-1].slices_total
    assert all(START <= p.at <= END for p in seen if p.at is not None)
    mid = [p for p in seen if 0 < p.rows < 300]
    assert mid, "progress is reported page by page, not only per slice"


def test_sign_in_service_out_of_reach_is_exit_6(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from odfix.cli import main

    monkeypatch.setenv("ODFIX_TEST_SECRET", "not-a-real-secret")
    code = main(["signins", "pull", "--tenant", "contoso.onmicrosoft.com", "--client-id", "app",
                 "--secret-env", "ODFIX_TEST_SECRET",
                 "--authority-host", f"https://127.0.0.1:{closed_port()}",
                 "--graph-url", f"http://127.0.0.1:{closed_port()}", "--since", "2026-11-01",
                 "--until", "2026-11-02", "--out", str(tmp_path / "pull")])
    err = capsys.readouterr().err
    assert code == ExitCode.NETWORK, err
    assert err.startswith("odfix: error: cannot reach") and err.count("\n") == 1
