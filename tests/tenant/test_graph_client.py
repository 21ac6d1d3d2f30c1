"""The Graph client against the local stand-in: paging, retries, Retry-After, pacing."""

import importlib
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odfix.errors import BadInput, WrongContext
from odfix.tenant.graph import GraphClient, GraphError, RetryPolicy, retry_after
from odfix.tenant.graph_throttle import ThrottleLimit, TokenBucket

sys.path.insert(0, str(Path(__file__).parent))
gs = importlib.import_module("graph_server")

FAST = RetryPolicy(attempts=4, base_s=0.01, cap_s=0.05, timeout_s=0.5)


def _token(refresh: bool) -> str:
    return gs.TOKEN


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@given(st.lists(st.floats(0, 3), min_size=1, max_size=40))
def test_bucket_never_exceeds_the_limit_in_any_window(gaps: list[float]) -> None:
    clock = FakeClock()
    limit = ThrottleLimit()
    bucket = TokenBucket.for_limit(limit, clock=clock, sleep=clock.sleep)
    sent = []
    for gap in gaps:
        clock.sleep(gap)
        bucket.acquire()
        sent.append(clock.now)
    assert gs.max_in_window(sent, limit.window_s) <= limit.requests


def test_bucket_runs_at_the_paced_rate_when_saturated() -> None:
    clock = FakeClock()
    bucket = TokenBucket.for_limit(ThrottleLimit(), clock=clock, sleep=clock.sleep)
    for _ in range(101):
        bucket.acquire()
    assert clock.now == pytest.approx(100 / ThrottleLimit().rate)


def test_hold_honours_retry_after() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=100.0, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    bucket.hold_for(7.5)
    bucket.acquire()
    assert clock.now == pytest.approx(7.5)


@pytest.mark.parametrize(("header", "seconds"), [("5", 5.0), ("0.25", 0.25), ("x", None),
                                                 (None, None), ("-3", 0.0)])
def test_retry_after_header(header: str | None, seconds: float | None) -> None:
    assert retry_after(header) == seconds


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    start = gs.parse_time("2026-11-01T00:00:00Z")
    state = gs.GraphState(signins=gs.seed_signins(2500, start, start.replace(day=2),
                                                  interactive_share=1.0))
    with gs.GraphServer(state) as running:
        yield running


def _client(server, **kw) -> GraphClient:  # type: ignore[no-untyped-def]
    return GraphClient(_token, base_url=server.url, retry=kw.pop("retry", FAST), seed=1, **kw)


def test_pages_follow_next_link_to_the_end(server) -> None:  # type: ignore[no-untyped-def]
    with _client(server) as client:
        pages = list(client.pages("/beta/auditLogs/signIns", {"$top": "1000"}))
    assert [len(p) for p in pages] == [1000, 1000, 500]
    assert "$skiptoken=" in server.state.log[-1].query
    ids = [r["id"] for p in pages for r in p]
    assert sorted(ids) == sorted(r["id"] for r in server.state.signins)


@pytest.mark.parametrize("fault", ["503", "429", "slow", "hang", "truncated", "drop"])
def test_faults_are_retried(server, fault: str) -> None:  # type: ignore[no-untyped-def]
    server.state.faults = {2: fault}
    with _client(server) as client:
        ids = [r["id"] for p in client.pages("/beta/auditLogs/signIns") for r in p]
    assert len(ids) == len(set(ids)) == 2500
    retried = fault not in ("slow",)
    assert client.stats.retries == int(retried)
    assert len(server.state.log) == 3 + int(retried)


def test_retries_give_up_with_one_clear_error(server) -> None:  # type: ignore[no-untyped-def]
    server.state.faults = dict.fromkeys(range(1, 10), "503")
    with _client(server) as client, pytest.raises(GraphError) as caught:
        client.get("/v1.0/auditLogs/signIns")
    assert "after 4 attempts" in caught.value.message
    assert "HTTP 503" in caught.value.message
    assert caught.value.code == WrongContext.code


def test_refusals_are_not_retried(server) -> None:  # type: ignore[no-untyped-def]
    with _client(server) as client:
        with pytest.raises(GraphError) as caught:
            client.get("/v1.0/auditLogs/signIns", {"$filter": "riskState eq 'none'"})
        assert caught.value.code == BadInput.code
        assert "Unsupported filter" in caught.value.message
    bad = GraphClient(lambda refresh: "expired", base_url=server.url, retry=FAST)
    with bad, pytest.raises(GraphError) as denied:
        bad.get("/v1.0/auditLogs/signIns")
    assert denied.value.code == WrongContext.code
    assert "AuditLog.Read.All" in denied.value.message
    assert len(server.state.log) == 3  # one 400, then a 401, a token refresh, a second 401


def test_throttle_answer_waits_for_retry_after(server) -> None:  # type: ignore[no-untyped-def]
    server.state.throttle = (2, 0.5)
    pacer = TokenBucket(rate=1000.0)
    with _client(server, pacer=pacer) as client:
        ids = [r["id"] for p in client.pages("/beta/auditLogs/signIns", {"$top": "500"}) for r in p]
    assert len(set(ids)) == 2500
    log = server.state.log
    throttled = [i for i, hit in enumerate(log) if hit.status == 429]
    assert throttled and client.stats.throttled == len(throttled)
    for i in throttled:
        admitted = [h.at for h in log[:i] if h.status == 200][-2:]
        assert log[i + 1].at >= admitted[0] + 0.5 - 0.01


@pytest.mark.parametrize("requests", [1, 5])
def test_paced_client_is_never_throttled(server, requests: int) -> None:  # type: ignore[no-untyped-def]
    window = 0.3
    server.state.throttle = (requests, window)
    limit = ThrottleLimit(requests=requests, window_s=window, margin=0.1)
    with _client(server, pacer=TokenBucket.for_limit(limit)) as client:
        for _ in client.pages("/beta/auditLogs/signIns", {"$top": "500"}):
            pass
    statuses = {h.status for h in server.state.log}
    assert statuses == {200}
    assert gs.max_in_window([h.at for h in server.state.log], window) <= requests
