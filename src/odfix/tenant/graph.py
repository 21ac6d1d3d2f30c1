"""A thin Microsoft Graph client: bearer token, ``@odata.nextLink`` paging, pacing and retries.

Reporting endpoints (``/auditLogs``) go through a :class:`TokenBucket` under the documented limit.
``429`` and ``503``/``504`` answers are retried after their ``Retry-After``; other 5xx answers,
timeouts, dropped connections and pages that are not valid JSON are retried with capped
exponential backoff. ``nextLink`` URLs are followed verbatim, as Microsoft asks.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from odfix.errors import BadInput, NetworkUnavailable, OdfixError, WrongContext
from odfix.tenant.graph_throttle import Sleep, TokenBucket

if TYPE_CHECKING:
    import httpx

GRAPH_URL = "https://graph.microsoft.com"
TokenSource = Callable[[bool], str]
"""Returns a Graph access token; ``True`` asks for a fresh one (after a 401)."""

Record = dict[str, Any]


class GraphError(OdfixError):
    """Graph refused a request or stayed unreachable after every retry."""


class RetryPolicy(BaseModel):
    """How hard to retry: attempts per request and the backoff's base and cap (seconds)."""

    model_config = ConfigDict(frozen=True)

    attempts: int = Field(8, ge=1)
    base_s: float = Field(1.0, gt=0)
    cap_s: float = Field(60.0, gt=0)
    timeout_s: float = Field(60.0, gt=0)
    #: Attempts when the very first connection fails (DNS or network down): fail fast.
    first_contact_attempts: int = Field(2, ge=1)

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Seconds before retry ``attempt`` (0-based): jitter under a capped doubling."""
        return float(min(self.cap_s, self.base_s * 2**attempt) * rng.uniform(0.5, 1.0))


class GraphStats(BaseModel):
    """What a client did: requests sent, retries, throttled answers, seconds spent waiting."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    paced_wait_s: float = 0.0
    retry_wait_s: float = 0.0


def retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds; fractions accepted), or None."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(0.0, seconds)


def _graph_message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error", {})
    except (ValueError, AttributeError):
        return response.text[:200].strip() or response.reason_phrase
    if isinstance(error, dict):
        return f"{error.get('code', '')}: {error.get('message', '')}".strip(": ")
    return str(error)


class GraphClient:
    """Synchronous Graph GETs for odfix's few endpoints; one client per tenant."""

    def __init__(
        self,
        token: TokenSource,
        *,
        base_url: str = GRAPH_URL,
        pacer: TokenBucket | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Sleep = time.sleep,
        seed: int | None = None,
    ) -> None:
        import httpx

        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.pacer = pacer
        self.stats = GraphStats()
        self._token = token
        self._sleep = sleep
        self._rng = random.Random(seed)
        self._reached = False  # a request got an HTTP answer (the network works)
        self._http = httpx.Client(
            transport=transport,
            timeout=self.retry.timeout_s,
            headers={"Accept": "application/json"},
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` (``/v1.0/...``) under the client's Graph base."""
        return path if path.startswith("http") else f"{self.base_url}{path}"

    def _wait(self, seconds: float) -> None:
        self.stats.retries += 1
        self.stats.retry_wait_s += seconds
        self._sleep(seconds)

    def get(self, url: str, params: dict[str, str] | None = None, *, paced: bool = True) -> Record:
        """GET one JSON document, with pacing and retries; errors raise :class:`GraphError`."""
        import httpx

        refreshed = False
        last = "no attempt"
        offline = True  # every attempt so far failed to connect at all
        for attempt in range(self.retry.attempts):
            if paced and self.pacer is not None:
                self.stats.paced_wait_s += self.pacer.acquire()
            self.stats.requests += 1
            headers = {"Authorization": f"Bearer {self._token(False)}"}
            try:
                response = self._http.get(self.url(url), params=params, headers=headers)
            except httpx.TransportError as error:
                last = f"{type(error).__name__}: {error}"
                if (offline and not self._reached
                        and attempt + 1 >= self.retry.first_contact_attempts):
                    raise _unreachable(self.url(url), last) from None
                self._wait(self.retry.backoff(attempt, self._rng))
                continue
            offline = False
            self._reached = True
            status = response.status_code
            if status == 200:
                try:
                    document = response.json()
                except ValueError:
                    last = "a page that is not valid JSON"
                    self._wait(self.retry.backoff(attempt, self._rng))
                    continue
                if isinstance(document, dict):
                    return document
                last = "a page that is not a JSON object"
                self._wait(self.retry.backoff(attempt, self._rng))
                continue
            if status == 401 and not refreshed:
                refreshed = True
                self._token(True)
                continue
            delay = retry_after(response.headers.get("Retry-After"))
            if status == 429 or (status in (503, 504) and delay is not None):
                self.stats.throttled += status == 429
                delay = delay if delay is not None else self.retry.backoff(attempt, self._rng)
                if self.pacer is not None and paced:
                    self.pacer.hold_for(delay)
                    self.stats.retries += 1
                else:
                    self._wait(delay)
                last = f"HTTP {status}"
                continue
            if status >= 500:
                last = f"HTTP {status} {_graph_message(response)}"
                self._wait(self.retry.backoff(attempt, self._rng))
                continue
            raise _refusal(status, _graph_message(response), url)
        if offline:
            raise _unreachable(self.url(url), last)
        raise GraphError(
            f"Graph did not answer {url.split('?')[0]} after {self.retry.attempts} attempts "
            f"(last: {last})",
            WrongContext.code,
        )

    def pages(
        self, path: str, params: dict[str, str] | None = None, *, paced: bool = True
    ) -> Iterator[list[Record]]:
        """Each page's ``value`` list, following ``@odata.nextLink`` verbatim to the end."""
        url: str | None = path
        while url is not None:
            document = self.get(url, params, paced=paced)
            params = None
            value = document.get("value")
            if not isinstance(value, list):
                raise GraphError(f"Graph answer for {path} has no 'value' list", BadInput.code)
            yield value
            link = document.get("@odata.nextLink")
            url = link if isinstance(link, str) and link else None


def _unreachable(url: str, last: str) -> NetworkUnavailable:
    """The network or DNS is down: one line, exit 6 (not minutes of retries)."""
    host = url.split("/")[2] if "://" in url else url
    return NetworkUnavailable(f"cannot reach Microsoft Graph at {host} ({last}); check the "
                              "network, DNS and proxy, then run the pull again (--resume "
                              "continues it)")


def _refusal(status: int, message: str, url: str) -> GraphError:
    where = url.split("?")[0]
    if status in (401, 403):
        hint = (
            " — check the app's permissions (AuditLog.Read.All; Policy.Read.All for CA policies),"
            " the admin's directory role and the tenant's Entra ID P1/P2 licence"
        )
        return GraphError(f"Graph refused {where} (HTTP {status} {message}){hint}",
                          WrongContext.code)
    return GraphError(f"Graph rejected {where} (HTTP {status} {message})", BadInput.code)


def dump(document: Any) -> str:
    """Compact JSON, as stored in the ``raw`` column."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))
