"""``odfix signins pull``: sign-ins from Graph into Parquet, slice by slice, resumable.

Each event type's window is cut into time slices (oldest first). A slice is fetched with
``$filter=createdDateTime ge START and createdDateTime le END`` (the operators Graph documents),
written page by page to ``signins/<type>-<START>.parquet.part`` and renamed when complete; only then
does the checkpoint move on. Skiptokens cannot be resumed (Graph docs issue #5974), so an
interrupted pull redoes its unfinished slice from the start. Adjacent slices share their edge
instant; the ids on the edge are kept in the checkpoint so the next slice skips them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from odfix.errors import BadInput, WrongContext
from odfix.tenant.directory import parse_policy
from odfix.tenant.graph import GraphClient, GraphError, GraphStats, Record, dump
from odfix.tenant.pull_checkpoint import (
    CHECKPOINT_NAME,
    EVENT_TYPES,
    Checkpoint,
    PullPlan,
    write_atomic,
)

if TYPE_CHECKING:
    import pyarrow as pa

SIGNINS_DIR = "signins"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
USER_FIELDS = "id,userPrincipalName,accountEnabled,lastPasswordChangeDateTime," \
    "signInSessionsValidFromDateTime,onPremisesSyncEnabled"
DEVICE_FIELDS = "id,deviceId,displayName,accountEnabled,trustType,operatingSystem," \
    "operatingSystemVersion,approximateLastSignInDateTime,registrationDateTime,isCompliant," \
    "isManaged,onPremisesSyncEnabled"


@dataclass
class PullProgress:
    """Where a running pull is, for a progress display: slices, pages and rows so far, and how
    far back in its slice the last page reached (``at``; Graph answers newest first)."""

    slices_done: int
    slices_total: int
    rows: int
    pages: int = 0
    at: datetime | None = None


class PullResult(BaseModel):
    """What ``pull`` wrote (the ``--json`` document of ``odfix signins pull``)."""

    out: str
    complete: bool
    resumed: bool
    rows: dict[str, int]
    files: list[str]
    extras: dict[str, int]
    warnings: list[str]
    stats: GraphStats


def odata_time(moment: datetime) -> str:
    """An OData DateTimeOffset literal in UTC."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def signin_filter(plan: PullPlan, event_type: str, start: datetime, end: datetime) -> str:
    """The ``$filter`` for one slice of one event type."""
    parts = [f"createdDateTime ge {odata_time(start)}", f"createdDateTime le {odata_time(end)}"]
    if plan.user:
        parts.append(f"userPrincipalName eq {_literal(plan.user)}")
    if plan.app_id:
        parts.append(f"appId eq {_literal(plan.app_id)}")
    text = " and ".join(parts)
    if event_type != "interactiveUser":
        text = f"({text}) and signInEventTypes/any(t: t eq {_literal(event_type)})"
    return text


def created_at(record: Record) -> datetime:
    """A sign-in's ``createdDateTime``; a record without one is bad input."""
    try:
        return datetime.fromisoformat(str(record["createdDateTime"]))
    except (KeyError, ValueError) as error:
        raise BadInput(f"Graph returned a sign-in without a valid createdDateTime: "
                       f"{str(record.get('id'))[:40]}") from error


def parquet_schema() -> pa.Schema:
    """The columns ``odfix signins analyze`` reads (docs/interfaces.md, Tenant)."""
    import pyarrow as pa

    return pa.schema([
        ("id", pa.string()),
        ("created_date_time", pa.timestamp("us", tz="UTC")),
        ("event_type", pa.string()),
        ("raw", pa.string()),
    ])


class _SliceWriter:
    """Appends pages of one slice to a ``.part`` Parquet file, renamed on ``finish``."""

    def __init__(self, path: Path, event_type: str) -> None:
        import pyarrow.parquet as pq

        self.path = path
        self.part = path.with_name(path.name + ".part")
        self.event_type = event_type
        self.rows = 0
        self._writer = pq.ParquetWriter(self.part, parquet_schema(), compression="zstd")

    def write(self, records: list[tuple[str, datetime, Record]]) -> None:
        import pyarrow as pa

        if not records:
            return
        micros = [(r[1] - _EPOCH) // _MICROSECOND for r in records]  # no pandas import
        table = pa.table({
            "id": [r[0] for r in records],
            "created_date_time": pa.array(micros, pa.timestamp("us", tz="UTC")),
            "event_type": [self.event_type] * len(records),
            "raw": [dump(r[2]) for r in records],
        }, schema=parquet_schema())
        self._writer.write_table(table)
        self.rows += len(records)

    def abandon(self) -> None:
        """Close and delete the unfinished file (the slice is redone on resume)."""
        self._writer.close()
        self.part.unlink(missing_ok=True)

    def finish(self) -> bool:
        """Close; keep the file when it has rows (returns whether it was kept)."""
        self._writer.close()
        if self.rows:
            self.part.replace(self.path)
            return True
        self.part.unlink()
        return False


class Puller:
    """Runs a :class:`PullPlan` into an output folder through a :class:`GraphClient`."""

    def __init__(
        self,
        client: GraphClient,
        out: Path,
        *,
        on_progress: Callable[[PullProgress], None] | None = None,
    ) -> None:
        self.client = client
        self.out = out
        self.on_progress = on_progress
        self.warnings: list[str] = []
        self._progress = PullProgress(0, 0, 0)

    @property
    def checkpoint_path(self) -> Path:
        return self.out / CHECKPOINT_NAME

    def open(self, plan: PullPlan, *, resume: bool) -> tuple[Checkpoint, bool]:
        """The checkpoint to work from: a fresh one, or the saved one when resuming."""
        if self.checkpoint_path.exists():
            if not resume:
                raise BadInput(f"{self.out} already holds a pull; pass --resume to continue it "
                               "or choose another --out")
            saved = Checkpoint.load(self.checkpoint_path)
            if saved.plan != plan:
                raise BadInput(f"{self.out} holds a pull with different options "
                               f"({saved.plan.model_dump_json(exclude_defaults=True)}); "
                               "resume it with the same ones or choose another --out")
            return saved, True
        if self.out.exists() and not self.out.is_dir():
            raise BadInput(f"--out {self.out} is not a folder")
        (self.out / SIGNINS_DIR).mkdir(parents=True, exist_ok=True)
        return Checkpoint.start(plan), False

    def run(self, plan: PullPlan, *, resume: bool = False) -> PullResult:
        """Pull everything the plan asks for; safe to interrupt and run again with ``resume``."""
        state, resumed = self.open(plan, resume=resume)
        state.save(self.checkpoint_path)
        slices = plan.slices()
        total = len(slices) * len(plan.event_types)
        shown = self._progress
        shown.rows = sum(p.rows for p in state.signins.values())
        shown.slices_done = sum(p.next_slice for p in state.signins.values())
        shown.slices_total = total
        self._report()
        for index, (start, end) in enumerate(slices):
            for event_type in plan.event_types:
                progress = state.signins[event_type]
                if progress.next_slice > index:
                    continue
                shown.rows += self._pull_slice(plan, state, event_type, start, end)
                shown.slices_done += 1
                shown.at = start
                self._report()
        for extra in plan.extras:
            if extra not in state.extras_done:
                count = self._pull_extra(plan, extra)
                if count is not None:
                    state.extras_done[extra] = count
                    state.save(self.checkpoint_path)
        state.complete = True
        state.save(self.checkpoint_path)
        return PullResult(
            out=str(self.out),
            complete=True,
            resumed=resumed,
            rows={t: p.rows for t, p in state.signins.items()},
            files=sorted(f for p in state.signins.values() for f in p.files),
            extras=dict(state.extras_done),
            warnings=self.warnings,
            stats=self.client.stats,
        )

    def _report(self, pending_rows: int = 0) -> None:
        if self.on_progress is not None:
            shown = self._progress
            self.on_progress(PullProgress(shown.slices_done, shown.slices_total,
                                          shown.rows + pending_rows, shown.pages, shown.at))

    def _pull_slice(
        self, plan: PullPlan, state: Checkpoint, event_type: str, start: datetime, end: datetime
    ) -> int:
        progress = state.signins[event_type]
        skip = set(progress.edge_ids)
        seen: set[str] = set()
        edge: list[str] = []
        name = f"{event_type}-{start.strftime('%Y%m%dT%H%M%SZ')}.parquet"
        writer = _SliceWriter(self.out / SIGNINS_DIR / name, event_type)
        params = {"$filter": signin_filter(plan, event_type, start, end), "$top": "1000"}
        try:
            for page in self.client.pages(EVENT_TYPES[event_type], params):
                batch = []
                for record in page:
                    rid = str(record.get("id", ""))
                    when = created_at(record)
                    if not rid or rid in seen or rid in skip or not start <= when <= end:
                        continue
                    seen.add(rid)
                    if when == end:
                        edge.append(rid)
                    batch.append((rid, when, record))
                writer.write(batch)
                self._progress.pages += 1
                if batch:
                    self._progress.at = min(b[1] for b in batch)
                self._report(writer.rows)
        except BaseException:
            writer.abandon()
            raise
        if writer.finish():
            progress.files.append(f"{SIGNINS_DIR}/{name}")
        progress.rows += writer.rows
        progress.next_slice += 1
        progress.edge_ids = edge
        state.save(self.checkpoint_path)
        return writer.rows

    def _pull_extra(self, plan: PullPlan, extra: str) -> int | None:
        try:
            records = self._fetch_extra(plan, extra)
        except GraphError as error:
            if error.code != WrongContext.code:
                raise
            self.warnings.append(f"{extra}: {error.message}")
            return None
        document: dict[str, Any] = {"@odata.context": f"odfix pull {extra}", "value": records}
        write_atomic(self.out / f"{extra}.json", json.dumps(document, ensure_ascii=False).encode())
        return len(records)

    def _fetch_extra(self, plan: PullPlan, extra: str) -> list[Record]:
        client = self.client
        if extra == "users" and plan.user:
            path = f"/v1.0/users/{plan.user}"
            return [client.get(path, {"$select": USER_FIELDS}, paced=False)]
        if extra == "audits":
            window = (f"activityDateTime ge {odata_time(plan.since)} and "
                      f"activityDateTime le {odata_time(plan.until)}")
            pages = client.pages("/v1.0/auditLogs/directoryAudits",
                                 {"$filter": window, "$top": "1000"})
            return [a for page in pages for a in page if _is_password_event(a, plan.user)]
        if extra == "groups":
            return [self._group(gid) for gid in self._policy_groups()]
        return self._collection(extra)

    def _collection(self, extra: str) -> list[Record]:
        paths = {
            "users": ("/v1.0/users", {"$select": USER_FIELDS, "$top": "999"}),
            "devices": ("/v1.0/devices", {"$select": DEVICE_FIELDS, "$top": "999"}),
            "policies": ("/v1.0/identity/conditionalAccess/policies", {}),
        }
        path, params = paths[extra]
        return [r for page in self.client.pages(path, params or None, paced=False) for r in page]

    def _policy_groups(self) -> list[str]:
        """Ids of the groups CA policies include or exclude (from ``policies.json`` when this
        pull wrote it, else fetched)."""
        written = self.out / "policies.json"
        policies = (json.loads(written.read_text(encoding="utf-8"))["value"] if written.exists()
                    else self._collection("policies"))
        parsed = [parse_policy(p) for p in policies]
        return sorted({g for p in parsed for g in (*p.include_groups, *p.exclude_groups)})

    def _group(self, gid: str) -> Record:
        """A group with its whole transitive membership (ids) and their count, so that the
        analysis knows the list is complete even past Graph's 100-object ``$expand`` cap."""
        path = f"/v1.0/groups/{gid}/transitiveMembers"
        members = [{"@odata.type": m.get("@odata.type"), "id": m.get("id")}
                   for page in self.client.pages(path, {"$select": "id", "$top": "999"},
                                                 paced=False)
                   for m in page]
        return {"id": gid, "transitiveMembers": members,
                "transitiveMembers@odata.count": len(members)}


def _is_password_event(audit: Record, user: str | None) -> bool:
    if "password" not in str(audit.get("activityDisplayName", "")).lower():
        return False
    if user is None:
        return True
    targets = audit.get("targetResources") or []
    return any(str(t.get("userPrincipalName", "")).lower() == user.lower()
               for t in targets if isinstance(t, dict))
