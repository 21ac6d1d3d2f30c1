"""The tenant analyses as KQL for a Log Analytics workspace (``odfix signins kql``).

The same definitions as ``odfix signins analyze``, written for the tenant's own engine:
``SigninLogs`` and ``AADNonInteractiveUserSignInLogs`` (whose ``DeviceDetail`` is a JSON string,
so it is parsed before the union), failures classified by a ``datatable`` built from the error-code
catalog, per-user counts (OneDrive/Office clients first), per-user cadence (episodes an hour apart,
median gap, share of gaps on the period), password-change correlation with ``AuditLogs``, and
device ids seen under more than one device name.
"""

import importlib
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from odfix.errors import BadInput, WrongContext
from odfix.guide.codes import NOT_FAILURES
from odfix.tenant.apps import ONEDRIVE_CLIENT_APPS, ONEDRIVE_RESOURCES
from odfix.tenant.recurrence import EPISODE_HOURS, MIN_CONFIDENCE, MIN_GAPS, MIN_PERIOD_HOURS

ANALYSES: dict[str, str] = {
    "classify": "failures by guide category and AADSTS code",
    "users": "per-user failure counts by category, OneDrive/Office clients first",
    "cadence": "per-user failure cadence: period in hours and confidence",
    "password": "failures within the window after a password reset/change audit event",
    "clones": "device ids seen under more than one device name (cloned images)",
}
PASSWORD_WINDOW_HOURS = 72
_TABLES = {"SigninLogs": ("interactiveUser", "DeviceDetail"),
           "AADNonInteractiveUserSignInLogs": ("nonInteractiveUser", "parse_json(DeviceDetail)")}


def _string_list(values: frozenset[str]) -> str:
    return ", ".join(f'"{v}"' for v in sorted(values))


def categories_table(categories: dict[int, str]) -> str:
    """A KQL ``datatable`` of AADSTS code → category, one row per line, sorted by code."""
    rows = ",\n".join(f'    {code}, "{category}"' for code, category in sorted(categories.items()))
    return f"let Categories = datatable(Code:int, Category:string) [\n{rows}\n];"


def preamble(categories: dict[int, str], days: int) -> str:
    """The shared ``let`` statements: categories, normalised sign-ins, classified failures."""
    legs = []
    for table, (event_type, device) in _TABLES.items():
        legs.append(f"""    ({table}
    | where TimeGenerated > ago({days}d)
    | extend Device = {device}
    | project Id, CreatedDateTime, EventType = "{event_type}", UserPrincipalName, UserId,
              AppId, AppDisplayName, ResourceIdentity, Code = toint(ResultType),
              ResultDescription, DeviceId = tostring(Device.deviceId),
              DeviceName = tostring(Device.displayName), CorrelationId)""")
    union = ",\n".join(legs)
    return f"""{categories_table(categories)}
let SignIns = union
{union};
let Failures = SignIns
    | where Code != 0
    | lookup kind=leftouter Categories on Code
    | extend Category = coalesce(Category, "unknown")
    // expected prompts ("Stay signed in?", MFA) are not failures
    | where Category !in ({_string_list(NOT_FAILURES)});"""


_BODIES = {
    "classify": """Failures
| summarize Failures = count(), Users = dcount(UserPrincipalName) by Category, Code
| order by Failures desc, Code asc""",
    "users": f"""Failures
| extend OneDrive = AppId in ({_string_list(ONEDRIVE_CLIENT_APPS)})
    or ResourceIdentity in ({_string_list(ONEDRIVE_RESOURCES)})
| summarize Count = count(), OneDriveCount = countif(OneDrive)
    by UserPrincipalName, Category
| summarize Failures = sum(Count), OneDriveFailures = sum(OneDriveCount),
    Categories = make_bag(bag_pack(Category, Count)) by UserPrincipalName
| order by OneDriveFailures desc, Failures desc, UserPrincipalName asc""",
    "cadence": f"""Failures
| where Category != "password-change"
| sort by UserPrincipalName asc, Category asc, CreatedDateTime asc
| extend Start = prev(UserPrincipalName) != UserPrincipalName or prev(Category) != Category
    or CreatedDateTime - prev(CreatedDateTime) > {EPISODE_HOURS:g}h
| where Start
| sort by UserPrincipalName asc, Category asc, CreatedDateTime asc
| extend GapHours = iff(prev(UserPrincipalName) == UserPrincipalName
    and prev(Category) == Category, (CreatedDateTime - prev(CreatedDateTime)) / 1h, real(null))
| where isnotnull(GapHours)
| summarize Period = percentile(GapHours, 50), Gaps = make_list(GapHours), N = count()
    by UserPrincipalName, Category
| where N >= {MIN_GAPS} and Period >= {MIN_PERIOD_HOURS:g}
| mv-apply Gap = Gaps to typeof(real) on (
    summarize OnPeriod = countif(abs(Gap - Period * min_of(3.0, max_of(1.0, round(Gap / Period))))
        <= max_of(0.1 * Period, 0.25)))
| extend Confidence = todouble(OnPeriod) / N * min_of(1.0, N / 8.0)
| where Confidence >= {MIN_CONFIDENCE:g}
| summarize arg_max(Confidence, Category, Period, N) by UserPrincipalName
| project UserPrincipalName, Category, PeriodHours = round(Period, 2),
    Confidence = round(Confidence, 2), Episodes = N + 1
| order by Confidence desc, UserPrincipalName asc""",
    "clones": """SignIns
| where isnotempty(DeviceId) and DeviceId != "00000000-0000-0000-0000-000000000000"
    and isnotempty(DeviceName)
| summarize Names = dcount(DeviceName), DeviceNames = make_set(DeviceName),
    Users = make_set(UserPrincipalName) by DeviceId
| where Names > 1
| project DeviceId, DeviceNames, Users
| order by DeviceId asc""",
}


def _password_body(days: int) -> str:
    return f"""let Changes = AuditLogs
    | where TimeGenerated > ago({days}d + {PASSWORD_WINDOW_HOURS}h)
    | where OperationName has "password"
    | mv-expand Target = TargetResources
    | extend UserPrincipalName = tostring(Target.userPrincipalName)
    | where isnotempty(UserPrincipalName)
    | project UserPrincipalName, ChangedAt = TimeGenerated, OperationName;
Failures
| where Category == "password-change"
| join kind=inner Changes on UserPrincipalName
| where CreatedDateTime between (ChangedAt .. ChangedAt + {PASSWORD_WINDOW_HOURS}h)
| summarize Failures = dcount(Id), LastChange = max(ChangedAt),
    Operations = make_set(OperationName) by UserPrincipalName
| order by Failures desc, UserPrincipalName asc"""


def query(name: str, categories: dict[int, str], days: int) -> str:
    """One analysis as a complete KQL query (``name`` from :data:`ANALYSES`)."""
    if name not in ANALYSES:
        raise KeyError(name)
    body = _password_body(days) if name == "password" else _BODIES[name]
    return f"// odfix {name}: {ANALYSES[name]} (last {days} days)\n" \
        f"{preamble(categories, days)}\n{body}\n"


class KqlTable(BaseModel):
    """One result table from the workspace."""

    columns: list[str]
    rows: list[list[Any]]


def workspace_credential(tenant: str | None, client_id: str | None, secret_env: str | None,
                         certificate: Path | None, device_code: bool) -> Any:
    """An azure-identity credential chosen by the same flags as ``odfix signins pull``."""
    identity = _optional("azure.identity")
    if secret_env or certificate:
        if not (tenant and client_id):
            raise BadInput("--tenant and --client-id are needed with --secret-env/--certificate")
        if certificate:
            return identity.CertificateCredential(tenant, client_id, str(certificate))
        secret = os.environ.get(secret_env or "")
        if not secret:
            raise BadInput(f"environment variable {secret_env} (client secret) is not set")
        return identity.ClientSecretCredential(tenant, client_id, secret)
    kind = identity.DeviceCodeCredential if device_code else identity.InteractiveBrowserCredential
    options = {k: v for k, v in (("tenant_id", tenant), ("client_id", client_id)) if v}
    return kind(**options)


def run_in_workspace(workspace: str, queries: dict[str, str], days: int,
                     credential: Any) -> tuple[dict[str, list[KqlTable]], list[str]]:
    """Run each query with azure-monitor-query; returns tables per query and warnings."""
    monitor = _optional("azure.monitor.query")
    client = monitor.LogsQueryClient(credential)
    results: dict[str, list[KqlTable]] = {}
    warnings: list[str] = []
    for name, text in queries.items():
        try:
            response = client.query_workspace(workspace, text, timespan=timedelta(days=days + 3))
        except Exception as error:  # azure-core raises HttpResponseError and friends
            first = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise WrongContext(f"Log Analytics refused the {name} query: {first}") from error
        tables = getattr(response, "tables", None)
        if tables is None:
            tables = response.partial_data
            warnings.append(f"{name}: partial result ({response.partial_error})")
        results[name] = [KqlTable(columns=[str(getattr(c, "name", c)) for c in t.columns],
                                  rows=[list(row) for row in t.rows]) for t in tables]
    return results, warnings


def _optional(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise WrongContext(f"--workspace needs {module}, which is not installed: "
                           "pip install 'odfix[kql]' (azure-monitor-query, azure-identity)") \
            from error
