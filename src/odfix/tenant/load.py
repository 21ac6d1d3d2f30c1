"""Load sign-in logs from any supported export into the ``signins`` table (see ``schema``).

Graph documents (``{"@odata.context": ..., "value": [...]}``) and JSON arrays are never parsed
whole: the byte range of the array is cut at record boundaries into chunks of a few tens of MB,
each copied by the kernel into a temporary ``[...]`` file that DuckDB reads with an explicit column
list while the next chunk is being cut. NDJSON, CSV and Parquet are read by DuckDB directly.
"""

import contextlib
import csv
import functools
import io
import json
import os
import queue
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from pydantic import BaseModel

from odfix.errors import BadInput
from odfix.tenant.schema import (
    CA_LIST,
    GRAPH_COLUMNS,
    GRAPH_STRUCT,
    SIGNINS_DDL,
    TS_MACRO,
    ca_expr,
    graph_select,
    lit,
    ts,
)

if TYPE_CHECKING:
    import duckdb

CHUNK_BYTES = 16 << 20
BATCH_BYTES = 256 << 20
#: The longest CSV row read (DuckDB's default, 2 MB, is below what a portal cell can hold).
MAX_CSV_LINE = 64 << 20
MAX_LISTED = 50
#: The sign-in shapes odfix reads, for the error about a file that is none of them.
SHAPES = ("Graph signIns (a page {\"value\": [...]}, an array, NDJSON or one object), Azure "
          "Monitor diagnostic records ({\"records\": [...]} or one per line), Log Analytics "
          "JSON/CSV, the Entra portal CSV, Parquet from 'signins pull'")
SCRATCH_STALE_SECONDS = 600
_WINDOW = 64 << 10
_MAX_WINDOW = 16 << 20
_SCALAR = rb'(?:"(?:[^"\\]|\\.)*"|-?[0-9.eE+-]+|true|false|null)'
_KEY = rb'"(?:[^"\\]|\\.)*"\s*:\s*'
#: A Graph page (``"value"``) or an Azure Monitor export (``"records"``, storage or Event Hub).
_DOC_HEAD = re.compile(rb"\A\s*\{\s*(?:" + _KEY + _SCALAR
                       + rb"\s*,\s*)*\"(?:value|records)\"\s*:\s*\[")
_DOC_TAIL = re.compile(rb"\]\s*(?:,\s*" + _KEY + _SCALAR + rb"\s*)*\}\s*\Z")
_ARRAY_TAIL = re.compile(rb"\]\s*\Z")
_RECORD_KEYS = ("createdDateTime", "CreatedDateTime", "TimeGenerated")
#: Keys only the top level of an Azure Monitor diagnostic record has (``properties`` holds the
#: signIn).
_DIAG_KEYS = ("operationName", "resultType")
_TRAILING_COMMA = re.compile(r",(\s*[\]}])")
_SCRATCH_NAME = re.compile(r"odfix-(\d+)-[A-Za-z0-9_]+")
_SIGNIN_SUFFIXES = {".json", ".ndjson", ".jsonl", ".csv", ".parquet"}


class Malformed(BaseModel):
    """A row odfix could not use: ``line`` (1-based) when known, else ``record`` (1-based)."""

    file: str
    line: int | None = None
    record: int | None = None
    reason: str


class FileLoad(BaseModel):
    """What one input file contributed."""

    file: str
    kind: str
    rows: int
    malformed: int


class LoadReport(BaseModel):
    """Rows loaded per file and the malformed rows found (the first ``MAX_LISTED`` listed)."""

    files: list[FileLoad] = []
    malformed: list[Malformed] = []
    malformed_count: int = 0
    notes: list[str] = []

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    def add_malformed(self, items: Sequence[Malformed], count: int | None = None) -> None:
        room = MAX_LISTED - len(self.malformed)
        self.malformed.extend(items[:max(0, room)])
        self.malformed_count += len(items) if count is None else count

    def extend(self, other: "LoadReport") -> None:
        """Append what ``other`` (loaded beside this one) found."""
        self.files.extend(other.files)
        self.add_malformed(other.malformed, other.malformed_count)
        self.notes.extend(other.notes)


def path_lit(path: Path | str) -> str:
    """A file name as a SQL literal for DuckDB's readers, which expand ``*``, ``?`` and ``[``
    as wildcards: each is put in a one-character class, so a name is only ever itself."""
    return lit(re.sub(r"([*?\[])", r"[\1]", str(path)))


def _first_line(error: Exception) -> str:
    """The first line of a library's error, cut short (DuckDB quotes whole input lines)."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text if len(text) <= 200 else text[:200] + "..."


def connect() -> "duckdb.DuckDBPyConnection":
    """An in-memory DuckDB connection in UTC with an empty ``signins`` table."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'").fetchall()  # per session: see ``cursor``
    con.execute("SET enable_progress_bar = false").fetchall()  # it would write to stdout
    # An automatic checkpoint only compresses the in-memory tables: ~1.5 CPU-s on 1M sign-ins.
    con.execute("SET checkpoint_threshold = '1TB'").fetchall()
    con.execute(TS_MACRO).fetchall()
    con.execute(SIGNINS_DDL).fetchall()
    return con


def cursor(con: "duckdb.DuckDBPyConnection") -> "duckdb.DuckDBPyConnection":
    """A second session on ``con``'s database (for another thread), also in UTC."""
    cur = con.cursor()
    cur.execute("SET TimeZone = 'UTC'").fetchall()
    return cur


def expand(paths: Sequence[Path]) -> list[Path]:
    """Files named on the command line, folders expanded to their sign-in files (sorted).

    In a folder, JSON files that do not look like sign-ins (no time and user keys in their first
    64 KB: users, policies, ...) are left out.
    """
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(p for p in path.iterdir()
                              if p.is_file() and p.suffix.lower() in _SIGNIN_SUFFIXES
                              and (not p.suffix.lower().startswith((".json", ".ndjson"))
                                   or _looks_like_signins(_head(p)))))
        elif path.is_file():
            out.append(path)
        else:
            raise BadInput(f"{path}: no such file or folder")
    if not out:
        raise BadInput("no sign-in files given (folders hold no .json/.ndjson/.csv/.parquet)")
    return out


def load_signins(con: "duckdb.DuckDBPyConnection", paths: Sequence[Path],
                 chunk_bytes: int = CHUNK_BYTES) -> LoadReport:
    """Load every file into ``signins``; malformed rows are counted, listed and dropped."""
    report = LoadReport()
    for path in expand(paths):
        before = _count(con)
        file_no = len(report.files) + 1
        kind = _load_one(con, path, file_no, report, chunk_bytes)
        bad = _drop_incomplete(con, path, file_no, report)
        report.files.append(FileLoad(file=str(path), kind=kind, rows=_count(con) - before,
                                     malformed=bad))
    if report.rows == 0:
        raise BadInput(_nothing_loaded(report))
    return report


def _nothing_loaded(report: LoadReport) -> str:
    """Why no file gave a sign-in: the shape each was read as and how its first rows failed."""
    if not report.malformed_count:
        return "no sign-ins found in " + ", ".join(f.file for f in report.files) + \
            " (the files are empty)"
    tried = "; ".join(f"{f.file} read as {f.kind}" for f in report.files)
    first = "; ".join(f"{'line ' + str(m.line) if m.line else 'record ' + str(m.record)}: "
                      f"{m.reason}" for m in report.malformed[:3])
    return (f"no sign-ins found ({report.malformed_count} malformed rows): {tried}; first rows: "
            f"{first}. odfix reads {SHAPES}")


def _count(con: "duckdb.DuckDBPyConnection") -> int:
    return int(con.execute("SELECT count(*) FROM signins").fetchall()[0][0])


def _drop_incomplete(con: "duckdb.DuckDBPyConnection", path: Path, file_no: int,
                     report: LoadReport) -> int:
    """Drop rows of ``path`` without id, time or user; list them by record number."""
    where = f"file_no = {file_no:d} AND (id IS NULL OR created_at IS NULL OR upn IS NULL)"
    rows = con.execute(f"""
        WITH f AS (SELECT rowid AS r, * FROM signins WHERE file_no = {file_no:d}),
             base AS (SELECT min(r) AS b FROM f)
        SELECT r - b + 1, id IS NULL, created_at IS NULL, upn IS NULL, kind FROM f, base
        WHERE id IS NULL OR created_at IS NULL OR upn IS NULL ORDER BY r""").fetchall()
    if not rows:
        return 0
    items = []
    for rec, no_id, no_time, no_user, kind in rows[:MAX_LISTED]:
        reason = ", ".join(what for what, missing in (("no id", no_id), ("no valid time", no_time),
                                                      ("no user", no_user)) if missing)
        line = int(rec) + 1 if kind in ("portal-csv", "log-analytics-csv") else None
        items.append(Malformed(file=str(path), record=int(rec), line=line, reason=reason))
    report.add_malformed(items, len(rows))
    con.execute(f"DELETE FROM signins WHERE {where}").fetchall()
    return len(rows)


def _looks_like_signins(head: bytes) -> bool:
    return (any(k.encode() in head for k in _RECORD_KEYS)
            and (b'"userPrincipalName"' in head or b'"UserPrincipalName"' in head))


def _head(path: Path, size: int = 65536) -> bytes:
    with path.open("rb") as fh:
        return fh.read(size).removeprefix(b"\xef\xbb\xbf")


def _load_one(con: "duckdb.DuckDBPyConnection", path: Path, file_no: int, report: LoadReport,
              chunk_bytes: int) -> str:
    head = _head(path)
    if head.startswith(b"PAR1") or path.suffix.lower() == ".parquet":
        _load_parquet(con, path, file_no)
        return "parquet"
    first = head.lstrip()[:1]
    if not first:
        report.notes.append(f"{path}: empty file")
        return "empty"
    if first not in (b"{", b"["):
        return _load_csv(con, path, file_no, report)
    kind = json_kind(head)
    target = Target(columns=_COLUMNS[kind], keys=_DIAG_KEYS if kind == "azure-monitor"
                    else _RECORD_KEYS,
                    insert=lambda source: "INSERT INTO signins " + _select_for(kind, source, path,
                                                                             file_no))
    load_records(con, path, target, report, chunk_bytes)
    return kind


def json_kind(head: bytes) -> str:
    """The shape of a JSON sign-in export from its first bytes: ``azure-monitor`` (diagnostic
    records, ``properties`` holding the signIn), ``log-analytics`` or ``graph``."""
    if b'"properties"' in head and b'"operationName"' in head:
        return "azure-monitor"
    if b'"TimeGenerated"' in head or b'"ResultType"' in head:
        return "log-analytics"
    return "graph"


class Target(NamedTuple):
    """Where JSON records go: the columns DuckDB reads, keys only a top-level record has (to
    find record boundaries), and the INSERT statement for a ``read_json`` source."""

    columns: dict[str, str]
    keys: tuple[str, ...]
    insert: Callable[[str], str]


def load_records(con: "duckdb.DuckDBPyConnection", path: Path, target: Target,
                 report: LoadReport, chunk_bytes: int = CHUNK_BYTES) -> None:
    """Stream the JSON records of ``path`` (Graph page, array or NDJSON) into ``target``."""
    first = _head(path).lstrip()[:1]
    if first not in (b"{", b"["):
        raise BadInput(f"{path}: empty or not JSON")
    if first == b"[" or _DOC_HEAD.match(_head(path)):
        _load_array(con, path, report, target, chunk_bytes)
    else:
        _load_ndjson(con, path, report, target)


# --- Graph JSON -------------------------------------------------------------------------------

_LA_COLUMNS = {name: "VARCHAR" for name in (
    "Id", "CreatedDateTime", "TimeGenerated", "UserPrincipalName", "UserId", "AppId",
    "AppDisplayName", "ResourceIdentity", "ResourceId", "ResultType", "ResultDescription",
    "IsInteractive", "DeviceDetail", "ConditionalAccessPolicies", "Type")}


#: Azure Monitor diagnostic-settings records (storage account or Event Hub export).
_DIAG_COLUMNS = {"time": "VARCHAR", "category": "VARCHAR", "resultType": "VARCHAR",
                 "resultDescription": "VARCHAR", "properties": GRAPH_STRUCT}
_COLUMNS = {"graph": GRAPH_COLUMNS, "log-analytics": _LA_COLUMNS, "azure-monitor": _DIAG_COLUMNS}


def _diag_source(source: str) -> str:
    """The signIns inside diagnostic records as Graph columns: the record's ``time``,
    ``category`` and ``resultType`` stand in for what ``properties`` lacks."""
    return f"""(SELECT * REPLACE (
            coalesce(createdDateTime, odfix_time) AS createdDateTime,
            coalesce(signInEventTypes, CASE odfix_category
                WHEN 'SignInLogs' THEN ['interactiveUser']
                WHEN 'NonInteractiveUserSignInLogs' THEN ['nonInteractiveUser'] END)
                AS signInEventTypes,
            {{'errorCode': coalesce(status.errorCode, odfix_result),
              'failureReason': coalesce(status.failureReason, odfix_reason)}} AS status)
        FROM (SELECT unnest(properties), "time" AS odfix_time, category AS odfix_category,
                     resultType AS odfix_result, resultDescription AS odfix_reason
              FROM {source}))"""


def _select_for(kind: str, source: str, path: Path, file_no: int) -> str:
    if kind == "graph":
        return graph_select(source, file_no, kind)
    if kind == "azure-monitor":
        return graph_select(_diag_source(source), file_no, kind)
    return _la_select(source, path, file_no, "log-analytics")


def _read_json(files: Sequence[str], columns: dict[str, str], fmt: str) -> str:
    struct = "{" + ", ".join(f"{lit(k)}: {lit(v)}" for k, v in columns.items()) + "}"
    names = "[" + ", ".join(path_lit(f) for f in files) + "]"
    return f"read_json({names}, format='{fmt}', columns={struct})"


def _load_ndjson(con: "duckdb.DuckDBPyConnection", path: Path, report: LoadReport,
                 target: Target) -> None:
    import duckdb

    try:
        con.execute(target.insert(_read_json([str(path)], target.columns,
                                             "newline_delimited"))).fetchall()
        return
    except duckdb.Error:
        single = _single_object(path)
        bad = [] if single is not None else list(_bad_json_lines(path))
    report.add_malformed(bad)
    if single is not None:
        _insert_records(con, path, [(None, json.dumps(single).encode())], target, report)
        return
    skip = {m.line for m in bad}
    with path.open("rb") as src:
        _insert_records(con, path, ((number, raw) for number, raw in enumerate(src, 1)
                                    if number not in skip and raw.strip()), target, report)


MAX_REFUSED = MAX_LISTED
"""Records DuckDB may refuse (a field of the wrong type) in one chunk of a file before the file
is refused: a few such records are skipped and counted, a file of them is not a sign-in export
(and halving stays cheap: at most this many records are each inserted alone)."""


def _insert_records(con: "duckdb.DuckDBPyConnection", path: Path,
                    records: Iterable[tuple[int | None, bytes]], target: Target,
                    report: LoadReport) -> None:
    """Insert JSON records (each with its line number when the file has lines), a chunk at a
    time. A chunk DuckDB refuses is halved until each refused record is counted as malformed,
    so one record with a field of the wrong type (``"status": "x"``) never loses the file."""
    refused: list[Malformed] = []
    batch: list[tuple[int | None, bytes]] = []
    size = 0
    folder = _scratch_dir()
    try:
        for record in records:
            batch.append(record)
            size += len(record[1])
            if size >= CHUNK_BYTES:
                _insert_halving(con, path, batch, target, folder, refused)
                batch, size = [], 0
        if batch:
            _insert_halving(con, path, batch, target, folder, refused)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report.add_malformed(refused)


def _insert_halving(con: "duckdb.DuckDBPyConnection", path: Path,
                    batch: list[tuple[int | None, bytes]], target: Target, folder: str,
                    refused: list[Malformed]) -> None:
    import duckdb

    scratch = os.path.join(folder, "records.ndjson")
    pending = [batch]
    while pending:
        part = pending.pop()
        with open(scratch, "wb") as out:
            out.writelines(raw.strip().removeprefix(b"\xef\xbb\xbf") + b"\n"
                           for _, raw in part)
        try:
            con.execute(target.insert(_read_json([scratch], target.columns,
                                                 "newline_delimited"))).fetchall()
        except duckdb.Error as error:
            if len(part) > 1:
                pending += [part[len(part) // 2:], part[:len(part) // 2]]
                continue
            refused.append(_refused(path, part[0], error))
            if len(refused) > MAX_REFUSED:
                raise BadInput(f"{path}: more than {MAX_REFUSED} records have fields of "
                               f"types no sign-in export has (first: {refused[0].reason}); "
                               f"odfix reads {SHAPES}") from None


def _refused(path: Path, record: tuple[int | None, bytes], error: Exception) -> Malformed:
    """A record DuckDB refused, named by its line or its ``id``, with DuckDB's reason (less the
    scratch file's name)."""
    why = re.sub(r' in file "[^"]*"(?:, in line \d+)?', "", _first_line(error))
    name = ""
    if record[0] is None:
        with contextlib.suppress(ValueError, AttributeError):
            name = f"id {str(json.loads(record[1]).get('id'))[:60]!r}: "
    return Malformed(file=str(path), line=record[0],
                     reason=f"{name}a field of an unexpected type ({why})")


def _single_object(path: Path) -> dict[str, Any] | None:
    """The object of a small file holding one pretty-printed JSON object (a Graph ``$entity``)."""
    if path.stat().st_size > CHUNK_BYTES:
        return None
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    try:
        value = json.loads(text)
    except ValueError:
        try:  # Graph's documentation samples carry trailing commas
            value = json.loads(_TRAILING_COMMA.sub(r"\1", text))
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


def _bad_json_lines(path: Path) -> Iterator[Malformed]:
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, 1):
            text = raw.strip().removeprefix(b"\xef\xbb\xbf")
            if not text:
                continue
            try:
                value = json.loads(text)
            except ValueError as error:
                yield Malformed(file=str(path), line=number, reason=f"invalid JSON: {error}")
                continue
            if not isinstance(value, dict):
                yield Malformed(file=str(path), line=number, reason="not a JSON object")


def array_span(path: Path) -> tuple[int, int]:
    """Byte offsets just inside the record array of a Graph document or JSON array file."""
    size = path.stat().st_size
    head = path.open("rb").read(65536) if size else b""
    bom = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    body = head[bom:]
    match = _DOC_HEAD.match(body)
    tail_re = _DOC_TAIL
    if match is None:
        stripped = body.lstrip()
        if not stripped.startswith(b"["):
            raise BadInput(f"{path}: not a Graph document or JSON array")
        start = bom + len(body) - len(stripped) + 1
        tail_re = _ARRAY_TAIL
    else:
        start = bom + match.end()
    with path.open("rb") as fh:
        fh.seek(max(0, size - 65536))
        tail = fh.read()
    ends = [m.start() for m in re.finditer(rb"\]", tail) if tail_re.match(tail, m.start())]
    if not ends:
        raise BadInput(f"{path}: the record array is not closed (truncated file?)")
    end = size - len(tail) + ends[-1]
    return start, max(start, end)


def _boundary(fd: int, at: int, end: int, keys: tuple[str, ...]) -> int | None:
    """Offset of the comma between two records at or after ``at`` (None when there is none).

    Windows start small (a sign-in is ~1-2 KB) and grow while no boundary is found; each next
    window overlaps the previous one by half, so a record cut by a window's end is seen whole
    if it is under half a window (a longer one is passed over: the chunk just gets longer).
    """
    decoder = json.JSONDecoder()
    size = _WINDOW
    while at < end:
        window = os.pread(fd, min(size, end - at), at)
        i = 0
        while (i := window.find(b"{", i + 1)) > 0:
            j = i - 1
            while j > 0 and window[j] in b" \t\r\n":
                j -= 1
            if window[j] != ord(","):
                continue
            try:
                value, _ = decoder.raw_decode(window[i:].decode("utf-8", "replace"))
            except ValueError:
                continue
            if isinstance(value, dict) and any(k in value for k in keys):
                return at + j
        if len(window) < size:
            break
        at += len(window) // 2
        size = min(4 * size, _MAX_WINDOW)
    return None


def spans(path: Path, chunk_bytes: int,
          keys: tuple[str, ...] = _RECORD_KEYS) -> Iterator[tuple[int, int]]:
    """The record array of ``path`` cut at record boundaries into ranges of ~``chunk_bytes``
    (lazily: the first ranges are copied while the next boundaries are being found)."""
    start, end = array_span(path)
    fd = os.open(path, os.O_RDONLY)
    try:
        pos = start
        while end - pos > chunk_bytes:
            cut = _boundary(fd, pos + chunk_bytes, end, keys)
            if cut is None:
                break
            yield pos, cut
            pos = cut + 1
    finally:
        os.close(fd)
    yield pos, end


def _copy_range(src: int, dst: int, start: int, stop: int) -> None:
    offset = start
    while offset < stop:
        try:
            sent = os.sendfile(dst, src, offset, min(stop - offset, 1 << 26))
        except (AttributeError, OSError):
            sent = os.write(dst, os.pread(src, min(stop - offset, 1 << 24), offset))
        if sent <= 0:
            raise BadInput(f"read failed at byte {offset}")
        offset += sent


def _scratch_dir() -> str:
    """A private scratch folder, in RAM (``/dev/shm``) where there is one; its name carries our
    process id so that a later run can remove it if this process dies without cleaning up."""
    shm = "/dev/shm"
    root = shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else tempfile.gettempdir()
    _sweep_once(root)
    return tempfile.mkdtemp(prefix=f"odfix-{os.getpid()}-", dir=root)


def sweep_scratch(root: str) -> list[str]:
    """Remove scratch folders in ``root`` left by odfix processes that died mid-load (they can
    hold a few hundred MB of RAM in ``/dev/shm``); return their paths.

    A folder goes when it is ours (same user), its process id no longer runs and nothing in it
    changed for ``SCRATCH_STALE_SECONDS`` (a run in another PID namespace sharing ``/dev/shm``
    keeps its chunk files fresh). POSIX only: on Windows ``os.kill(pid, 0)`` would terminate the
    process, not probe it.
    """
    if os.name != "posix":
        return []
    removed = []
    with contextlib.suppress(OSError), os.scandir(root) as entries:
        for entry in entries:
            match = _SCRATCH_NAME.fullmatch(entry.name)
            if (match and entry.is_dir(follow_symlinks=False)
                    and entry.stat(follow_symlinks=False).st_uid == os.getuid()
                    and not _running(int(match[1])) and _stale(entry.path)):
                shutil.rmtree(entry.path, ignore_errors=True)
                removed.append(entry.path)
    return removed


def _stale(folder: str) -> bool:
    limit = time.time() - SCRATCH_STALE_SECONDS
    with os.scandir(folder) as entries:
        newest = max((e.stat(follow_symlinks=False).st_mtime for e in entries), default=0.0)
    return max(newest, os.stat(folder).st_mtime) < limit


_sweep_once = functools.cache(sweep_scratch)  # once per process and folder


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        pass
    return True


class _Chunks:
    """Cut ranges copied into a ring of reusable scratch files (reused pages cost no allocation)."""

    def __init__(self, path: Path, ranges: Iterator[tuple[int, int]], slots: int) -> None:
        self.path, self.cuts = path, ranges
        self.ranges: list[tuple[int, int]] = []  # filled by the producer, before ``ready``
        self.folder = _scratch_dir()
        self.free: queue.Queue[str] = queue.Queue()
        for n in range(slots):
            self.free.put(os.path.join(self.folder, f"slot{n}.json"))
        self.ready: queue.Queue[tuple[int, str] | BaseException | None] = queue.Queue()
        self.stop = threading.Event()
        self.worker = threading.Thread(target=self._produce, daemon=True)
        self.worker.start()

    def _slot(self) -> str | None:
        while not self.stop.is_set():
            with contextlib.suppress(queue.Empty):
                return self.free.get(timeout=0.1)
        return None

    def _produce(self) -> None:
        try:
            src = os.open(self.path, os.O_RDONLY)
            try:
                for n, (a, b) in enumerate(self.cuts):
                    self.ranges.append((a, b))
                    slot = self._slot()
                    if slot is None:
                        return
                    dst = os.open(slot, os.O_WRONLY | os.O_CREAT, 0o600)
                    try:
                        os.write(dst, b"[")
                        _copy_range(src, dst, a, b)
                        os.write(dst, b"]")
                        os.ftruncate(dst, b - a + 2)
                    finally:
                        os.close(dst)
                    self.ready.put((n, slot))
            finally:
                os.close(src)
            self.ready.put(None)
        except BaseException as error:  # handed to the consumer, which re-raises it
            self.ready.put(error)

    def batches(self, size: int) -> Iterator[list[tuple[int, str]]]:
        """Groups of chunks growing from ``size // 8`` to ``size`` (so DuckDB starts early);
        give slots back with ``release``.

        Few large groups matter: each group is one DuckDB statement, and a statement's start and
        tail leave cores idle (4 x 16 MB per statement took twice as long as 16 x 16 MB).
        """
        done, want = False, max(1, size // 8)
        while not done:
            batch: list[tuple[int, str]] = []
            item = self.ready.get()
            while True:
                if isinstance(item, BaseException):
                    raise item
                if item is None:
                    done = True
                    break
                batch.append(item)
                if len(batch) >= want:
                    break
                item = self.ready.get()
            want = min(size, 2 * want)
            if batch:
                yield batch

    def release(self, slot: str) -> None:
        self.free.put(slot)

    def close(self) -> None:
        self.stop.set()
        self.worker.join()
        shutil.rmtree(self.folder, ignore_errors=True)


def _load_array(con: "duckdb.DuckDBPyConnection", path: Path, report: LoadReport,
                target: Target, chunk_bytes: int) -> None:
    import duckdb

    expected = -(-path.stat().st_size // chunk_bytes)
    per_batch = max(1, min(expected, BATCH_BYTES // chunk_bytes))
    chunks = _Chunks(path, spans(path, chunk_bytes, target.keys), 2 * per_batch)
    try:
        for batch in chunks.batches(per_batch):
            try:
                source = _read_json([name for _, name in batch], target.columns, "array")
                con.execute(target.insert(source)).fetchall()
            except duckdb.Error:
                for n, name in batch:
                    _load_chunk_slowly(con, path, chunks.ranges[n], name, report, target)
            for _, name in batch:
                chunks.release(name)
    finally:
        chunks.close()


def _load_chunk_slowly(con: "duckdb.DuckDBPyConnection", path: Path, span: tuple[int, int],
                       chunk: str, report: LoadReport, target: Target) -> None:
    """A chunk DuckDB rejected: repair trailing commas, else report where the JSON breaks."""
    text = Path(chunk).read_text(encoding="utf-8", errors="replace")
    try:
        records = json.loads(text)
    except ValueError as error:
        try:
            records = json.loads(_TRAILING_COMMA.sub(r"\1", text))
        except ValueError:
            line = _line_at(path, span[0]) + text.count("\n", 0, getattr(error, "pos", 0))
            report.add_malformed([Malformed(file=str(path), line=line,
                                            reason=f"invalid JSON ({error}); rest of chunk "
                                                   "skipped")])
            return
        report.notes.append(f"{path}: repaired trailing commas (as in Microsoft's own samples)")
    good = [r for r in records if isinstance(r, dict)]
    if len(good) < len(records):
        report.add_malformed([Malformed(file=str(path), reason="array item is not an object")],
                             len(records) - len(good))
    _insert_records(con, path, [(None, json.dumps(r).encode()) for r in good], target, report)


def _line_at(path: Path, offset: int) -> int:
    """1-based line number of byte ``offset`` (only used on the error path)."""
    count, pos = 1, 0
    with path.open("rb") as fh:
        while pos < offset:
            block = fh.read(min(1 << 24, offset - pos))
            if not block:
                break
            count += block.count(b"\n")
            pos += len(block)
    return count


# --- Parquet from ``odfix signins pull`` ------------------------------------------------------

def _load_parquet(con: "duckdb.DuckDBPyConnection", path: Path, file_no: int) -> None:
    import duckdb

    source = f"""(SELECT * REPLACE (coalesce(signInEventTypes, [event_type]) AS signInEventTypes)
        FROM (SELECT unnest(CASE WHEN json_valid(raw)
                                 THEN try_cast(raw::JSON AS {GRAPH_STRUCT}) END),
                     event_type
              FROM read_parquet({path_lit(path)})))"""
    try:
        con.execute("INSERT INTO signins " + graph_select(source, file_no, "parquet")).fetchall()
    except duckdb.Error as error:  # damaged, cut short or not Parquet at all
        raise BadInput(f"{path}: not a readable Parquet file from 'signins pull' "
                       f"({_first_line(error)})") from None


# --- Log Analytics (JSON or CSV) and portal CSV -----------------------------------------------

def _la_select(source: str, path: Path, file_no: int, kind: str) -> str:
    return _mapped_select(source, path, file_no, kind, map_headers(list(_LA_COLUMNS)))


_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("requestid", "id"),
    "created": ("createddatetime", "dateutc", "createddateutc", "date", "timegenerated"),
    "upn": ("userprincipalname", "username", "upn"),
    "user_id": ("userid",),
    "app_id": ("applicationid", "appid"),
    "app_name": ("application", "appdisplayname", "applicationname"),
    "resource_id": ("resourceidentity", "resourceid"),  # Log Analytics' ResourceId is a path
    "error_code": ("signinerrorcode", "errorcode", "resulttype"),
    "failure_reason": ("failurereason", "resultdescription"),
    "status": ("status",),
    "interactive": ("isinteractive",),
    "device_id": ("deviceid",),
    "device_name": ("devicename", "device", "devicedisplayname"),
    "device_os": ("operatingsystem",),
    "trust_type": ("jointype", "trusttype"),
    "device_detail": ("devicedetail",),
    "ca_policies": ("conditionalaccesspolicies",),
    "table": ("type",),
}


def header_key(name: str) -> str:
    """A header reduced to lower-case letters and digits, without a ``[UTC]`` suffix."""
    return re.sub(r"[^a-z0-9]", "", name.lower().replace("[utc]", ""))


def map_headers(headers: Sequence[str], names: Sequence[str] | None = None) -> dict[str, str]:
    """Canonical field -> quoted source column, for the aliases found among ``headers`` (the
    first of equal headers wins); ``names`` are the columns' names in the query when they differ
    from the headers (a CSV read with positional names).

    The portal's CSV has headers with trailing spaces (``Application ID ``) and one header
    twice (``Incoming token type``): matching is on ``header_key`` and by position.
    """
    keys = {header_key(h): i for i, h in reversed(list(enumerate(headers)))}
    found: dict[str, str] = {}
    for field, aliases in _ALIASES.items():
        for alias in aliases:
            if alias in keys:
                name = (names or headers)[keys[alias]]
                found[field] = '"' + name.replace('"', '""') + '"'
                break
    return found


def _mapped_select(source: str, path: Path, file_no: int, kind: str,
                   cols: dict[str, str]) -> str:
    """SELECT mapping aliased export columns (``map_headers``) onto the ``signins`` columns."""

    def col(name: str) -> str:
        return cols.get(name, "NULL")

    detail = col("device_detail")

    def device(field: str, key: str) -> str:
        inner = f"json_extract_string(CASE WHEN json_valid({detail}) THEN {detail} END, '$.{key}')"
        return f"coalesce({col(field)}, {inner})" if detail != "NULL" else col(field)

    code = f"try_cast({col('error_code')} AS INTEGER)"
    status = f"lower({col('status')})"
    hint = header_key(path.name)
    interactive = ("false" if "noninteractive" in hint else "true" if "interactive" in hint
                   else f"{col('table')} = 'SigninLogs'")
    policies = col("ca_policies")
    ca = (ca_expr(f"CASE WHEN json_valid({policies}) "
                  f"THEN try_cast({policies}::JSON AS {CA_LIST}) END")
          if policies != "NULL" else "NULL")
    return f"""
    SELECT {col('id')}, {ts(col('created'))}, lower({col('upn')}), {col('user_id')},
        {col('app_id')}, {col('app_name')}, {col('resource_id')},
        coalesce({code}, CASE WHEN {status} IN ('success', 'succeeded') OR {status} IS NULL
                              THEN 0 ELSE -1 END),
        {col('failure_reason')},
        coalesce(try_cast({col('interactive')} AS BOOLEAN), {interactive}),
        nullif({device('device_id', 'deviceId')}, ''),
        nullif({device('device_name', 'displayName')}, ''),
        {device('device_os', 'operatingSystem')}, {device('trust_type', 'trustType')},
        {ca}, {file_no:d}, '{kind}'
    FROM {source}"""


def _load_csv(con: "duckdb.DuckDBPyConnection", path: Path, file_no: int,
              report: LoadReport) -> str:
    import duckdb

    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:
        headers = next(csv.reader(io.StringIO(fh.readline())), [])
    names = [f"c{i}" for i in range(len(headers))]
    fields = map_headers(headers, names)
    if "created" not in fields or "upn" not in fields:
        shown = ", ".join(repr(h) for h in headers[:8]) + (", ..." if len(headers) > 8 else "")
        raise BadInput(f"{path}: not a sign-in export: tried {SHAPES}; this CSV has no date or "
                       f"user column among its {len(headers)} headers ({shown})")
    la = "resulttype" in {header_key(h) for h in headers}
    kind = "log-analytics-csv" if la else "portal-csv"
    con.execute("DROP TABLE IF EXISTS odfix_rejects; "
                "DROP TABLE IF EXISTS odfix_reject_scans").fetchall()
    # positional names: DuckDB would trim "Application ID " and rename a repeated header
    source = (f"read_csv({path_lit(path)}, header=true, all_varchar=true, ignore_errors=true, "
              f"names=[{', '.join(lit(n) for n in names)}], max_line_size={MAX_CSV_LINE}, "
              "store_rejects=true, rejects_table='odfix_rejects', "
              "rejects_scan='odfix_reject_scans')")
    try:
        con.execute("INSERT INTO signins " + _mapped_select(source, path, file_no, kind, fields)
                    ).fetchall()
    except duckdb.Error as error:
        raise BadInput(f"{path}: {_first_line(error)}") from None
    rejects = con.execute("SELECT line, min_by(error_message, column_idx) FROM odfix_rejects "
                          "GROUP BY line ORDER BY line").fetchall()
    report.add_malformed([Malformed(file=str(path), line=int(line),
                                    reason=str(msg).splitlines()[0][:120])
                          for line, msg in rejects])
    return kind


# --- Companion Graph collections: users, directory audits, CA policies, devices ---------------

def graph_objects(path: Path) -> list[dict[str, Any]]:
    """The objects of a Graph collection file: ``{"value": [...]}``, a JSON array or NDJSON."""
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    if not text.strip():
        raise BadInput(f"{path}: empty file")
    try:
        doc: Any = json.loads(text)
    except ValueError:
        try:
            doc = json.loads(_TRAILING_COMMA.sub(r"\1", text))
        except ValueError:
            doc = [_ndjson_line(path, n, line) for n, line in enumerate(text.splitlines(), 1)
                   if line.strip()]
    if isinstance(doc, dict):
        doc = doc.get("value", [doc])
    if not isinstance(doc, list):
        raise BadInput(f"{path}: expected a Graph collection (an object with \"value\")")
    return [item for item in doc if isinstance(item, dict)]


def _ndjson_line(path: Path, number: int, line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError as error:
        raise BadInput(f"{path}:{number}: invalid JSON ({error})") from None


def insert_rows(con: "duckdb.DuckDBPyConnection", table: str, ddl: str,
                rows: Sequence[tuple[Any, ...]]) -> None:
    """Create ``table`` from ``ddl`` and bulk-insert ``rows`` (through a scratch NDJSON file)."""
    con.execute(f"CREATE OR REPLACE TABLE {table} ({ddl})").fetchall()
    if not rows:
        return
    pairs = [c.strip().split(None, 1) for c in ddl.split(",")]
    folder = _scratch_dir()
    try:
        scratch = os.path.join(folder, "rows.ndjson")
        with open(scratch, "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(dict(zip((p[0] for p in pairs), row, strict=True))) + "\n")
        columns = "{" + ", ".join(f"{lit(n)}: {lit(t)}" for n, t in pairs) + "}"
        con.execute(f"INSERT INTO {table} SELECT * FROM read_json({path_lit(scratch)}, "
                    f"format='newline_delimited', columns={columns})").fetchall()
    finally:
        shutil.rmtree(folder, ignore_errors=True)

