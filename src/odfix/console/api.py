"""``POST /api/v1/reports``: report ingest as a plain ASGI handler in front of the pages.

It is the one hot path (every PC posts here), so it skips the page stack (sessions, CSRF,
templates, dependency injection): it reads the bearer token and the body, validates the reports
and waits for the writer's commit (``odfix.console.ingest``). Errors are JSON with the status
that fits: 401 token, 405 method, 413 size, 422 not a report, 503 busy (retry).
"""

import json
from typing import Any

from pydantic import ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from odfix.console.config import ConsoleConfig
from odfix.console.ingest import QueueFull
from odfix.fleet.report import FleetReport

PATH = "/api/v1/reports"


class NotAReport(ValueError):
    """The body is not JSON or not a fleet report (422)."""


def parse(body: bytes, limit: int) -> list[tuple[FleetReport, str]]:
    """One report (an object) or a batch (an array): each with the JSON text to keep."""
    try:
        if body.lstrip()[:1] == b"[":
            items = json.loads(body)
            if not items:
                raise NotAReport("an empty batch")
            if len(items) > limit:
                raise NotAReport(f"at most {limit} reports per request")
            return [(FleetReport.model_validate(item),
                     json.dumps(item, ensure_ascii=False, separators=(",", ":")))
                    for item in items]
        return [(FleetReport.model_validate_json(body), body.decode("utf-8"))]
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "report"
        raise NotAReport(f"not an odfix fleet report: {where}: {first['msg']}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise NotAReport(f"not JSON: {error}") from None


async def _answer(send: Send, status: int, document: dict[str, Any],
                  headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    body = json.dumps(document).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        *headers]})
    await send({"type": "http.response.body", "body": body})


class Front:
    """Routes ``POST /api/v1/reports`` here and everything else to the pages app."""

    def __init__(self, pages: Any, config: ConsoleConfig) -> None:
        self.pages: ASGIApp = pages
        self.state = pages.state
        self.limit = config.max_report_bytes
        self.batch_limit = config.batch_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH:
            await self.pages(scope, receive, send)
            return
        if scope["method"] != "POST":
            await _answer(send, 405, {"error": "POST fleet reports here"},
                          ((b"allow", b"POST"),))
            return
        token = ""
        for key, value in scope["headers"]:
            if key == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                token = token.strip() if scheme.lower() == "bearer" else ""
        if not token:
            await _answer(send, 401, {"error": "send the site's enrolment token as "
                                               "'Authorization: Bearer <token>'"})
            return
        body = await self._body(receive)
        if body is None:
            await _answer(send, 413, {"error": "report too large"})
            return
        try:
            reports = parse(body, self.batch_limit)
        except NotAReport as error:
            await _answer(send, 422, {"error": str(error)})
            return
        try:
            statuses = await self.state.writer.submit(token, reports)
        except QueueFull:
            await _answer(send, 503, {"error": "busy: retry later"}, ((b"retry-after", b"1"),))
            return
        if "unauthorized" in statuses:
            await _answer(send, 401, {"error": "unknown or revoked enrolment token"})
        elif "error" in statuses:
            await _answer(send, 503, {"error": "the report could not be stored; retry"},
                          ((b"retry-after", b"1"),))
        elif body.lstrip()[:1] == b"[":
            await _answer(send, 200, {"results": [
                {"run_id": r.run_id, "status": s}
                for (r, _), s in zip(reports, statuses, strict=True)]})
        else:
            await _answer(send, 201 if statuses[0] == "created" else 200,
                          {"run_id": reports[0][0].run_id, "status": statuses[0]})

    async def _body(self, receive: Receive) -> bytes | None:
        """The request body, or None past the limit (a batch may hold ``batch_limit``)."""
        limit = self.limit
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b""
            chunk = message.get("body", b"")
            if not chunks and chunk.lstrip()[:1] == b"[":
                limit = self.limit * self.batch_limit
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
