"""Post run reports to the odfix console (``odfix fix --report-to URL``; ``odfix fleet import
--report-to URL`` posts its Intune reports in batches).

The report goes to ``<URL>/api/v1/reports`` with the site's enrolment token from
``ODFIX_REPORT_TOKEN``. A report the console has not acknowledged (offline, 5xx) waits in the
outbox under the data directory and is sent first by the next ``--report-to`` run; the console
keeps one copy per run id, so sending twice is harmless.
"""

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from odfix.errors import BadInput, NetworkUnavailable
from odfix.fleet.report import FleetReport, from_line

TOKEN_ENV = "ODFIX_REPORT_TOKEN"
ENDPOINT = "/api/v1/reports"
BATCH = 1000
"""Reports per request when posting many (the console takes up to 1,000)."""


def token() -> str:
    """The enrolment token; ``BadInput`` before any work when it is missing."""
    value = os.environ.get(TOKEN_ENV, "").strip()
    if not value:
        raise BadInput(f"--report-to needs the site's enrolment token in {TOKEN_ENV} (the "
                       "console's Fleet page makes one)")
    return value


def endpoint(url: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise BadInput(f"--report-to wants the console's http(s) URL, not {url!r}")
    base = url.rstrip("/")
    return base if base.endswith(ENDPOINT) else base + ENDPOINT


def outbox() -> Path:
    from odfix.fix.journal import data_dir

    return data_dir() / "outbox"


class _Unreachable(Exception):
    """The console did not acknowledge (offline, 5xx) after every attempt; the last reason."""


def _post(url: str, secret: str, document: Any, attempts: int, pause: float) -> dict[str, Any]:
    """POST one report (or a batch) with retries; the console's JSON answer.

    urllib, not httpx: this runs on the PC, where only the endpoint dependencies are installed
    (the Windows build has no httpx).
    """
    import urllib.error
    import urllib.request

    body = json.dumps(document).encode("utf-8")
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json",
               "Accept": "application/json"}
    last = ""
    for attempt in range(attempts):
        if attempt:
            time.sleep(pause * 2 ** (attempt - 1))
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=15.0) as response:
                return _json(response.read())
        except urllib.error.HTTPError as refused:
            status, message = refused.code, _error(refused.read())
        except (urllib.error.URLError, OSError) as error:
            last = f"{type(error).__name__}: {getattr(error, 'reason', error)}"
            continue
        if status in (401, 403, 413, 422):
            raise BadInput(f"the console refused the report ({status}: {message})")
        last = f"{status}: {message}"
    raise _Unreachable(last)


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _error(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    return str(_json(raw).get("error", text))[:200]


def send(url: str, line: dict[str, Any], *, attempts: int = 4, pause: float = 1.0) -> str:
    """Post the run's ``--json`` line as a fleet report, then any reports still waiting.

    The report is put in the outbox first and removed once the console acknowledged it.
    Returns the console's status for this run's report.
    """
    target, secret = endpoint(url), token()
    report: FleetReport = from_line(line, source="cli", kind="fix")
    box = outbox()
    box.mkdir(parents=True, exist_ok=True)
    mine = box / f"{_safe(report.run_id)}.json"
    mine.write_text(json.dumps(report.dump()), encoding="utf-8")
    try:
        status = str(_post(target, secret, report.dump(), attempts, pause).get("status",
                                                                                "created"))
    except BadInput:
        mine.unlink(missing_ok=True)  # refused: sending it again cannot help
        raise
    except _Unreachable as error:
        raise NetworkUnavailable(f"could not post the report to {target} ({error}); it waits "
                                 f"in {box} for the next --report-to run") from None
    mine.unlink(missing_ok=True)
    for waiting in sorted(box.glob("*.json"), key=lambda p: p.stat().st_mtime):
        try:
            _post(target, secret, json.loads(waiting.read_text(encoding="utf-8")), 1, pause)
        except _Unreachable:
            break  # still unreachable: they wait for the next run
        except (BadInput, OSError, ValueError):
            pass  # refused or torn: sending it again cannot help
        waiting.unlink(missing_ok=True)
    return status


def send_batch(url: str, reports: Sequence[FleetReport], *, attempts: int = 4,
               pause: float = 1.0) -> dict[str, int]:
    """Post reports as JSON arrays of up to ``BATCH`` (``odfix fleet import --report-to``);
    how many the console stored (``created``) and already had (``duplicate``).

    Nothing waits in the outbox: the import can simply run again (one copy per run id).
    """
    target, secret = endpoint(url), token()
    counts = {"created": 0, "duplicate": 0}
    for start in range(0, len(reports), BATCH):
        chunk = [report.dump() for report in reports[start:start + BATCH]]
        try:
            answer = _post(target, secret, chunk, attempts, pause)
        except _Unreachable as error:
            raise NetworkUnavailable(
                f"could not post to {target} ({error}) after {start} of {len(reports)} "
                "reports; run the import again (the console keeps one copy per run id)"
            ) from None
        for result in answer.get("results") or []:
            status = str(result.get("status")) if isinstance(result, dict) else ""
            counts[status] = counts.get(status, 0) + 1
    return counts


def _safe(run_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in run_id)[:150]


def report_run(url: str, line: dict[str, Any]) -> None:
    """``send``, saying on stderr what happened; the fix's own exit code and output stand."""
    from odfix import output
    from odfix.errors import OdfixError

    try:
        status = send(url, line)
    except OdfixError as error:
        output.err_console.print(f"[yellow]report not posted[/]: {output.escape(error.message)}",
                                 soft_wrap=True)
        return
    output.err_console.print(f"report posted to the console ({status})", soft_wrap=True)
