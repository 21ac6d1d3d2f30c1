"""The normalised sign-in schema every loader writes into (DuckDB) and the Graph read schema."""

#: Columns of the ``signins`` table (documented in docs/tenant.md).
SIGNINS_DDL = """
CREATE TABLE IF NOT EXISTS signins (
    id VARCHAR,              -- Graph id / portal "Request ID" / Log Analytics Id
    created_at TIMESTAMP,    -- sign-in time, UTC
    upn VARCHAR,             -- userPrincipalName, lower case
    user_id VARCHAR,
    app_id VARCHAR,
    app_name VARCHAR,
    resource_id VARCHAR,
    error_code INTEGER,      -- 0 = success
    failure_reason VARCHAR,
    interactive BOOLEAN,     -- NULL when the source does not say
    device_id VARCHAR,       -- deviceDetail.deviceId, NULL when empty
    device_name VARCHAR,
    device_os VARCHAR,
    trust_type VARCHAR,
    ca STRUCT(id VARCHAR, name VARCHAR, result VARCHAR, sif BOOLEAN)[],  -- CA, failures only
    file_no UINTEGER,        -- input file, 1-based: the load report's files[file_no - 1]
    kind VARCHAR             -- graph | portal-csv | log-analytics | parquet
)
"""

#: The Graph signIn properties odfix reads (explicit, so DuckDB never infers or reads the rest).
GRAPH_COLUMNS: dict[str, str] = {
    "id": "VARCHAR",
    "createdDateTime": "VARCHAR",
    "userPrincipalName": "VARCHAR",
    "userId": "VARCHAR",
    "appId": "VARCHAR",
    "appDisplayName": "VARCHAR",
    "resourceId": "VARCHAR",
    "isInteractive": "VARCHAR",
    "signInEventTypes": "VARCHAR[]",
    "status": "STRUCT(errorCode VARCHAR, failureReason VARCHAR)",
    "deviceDetail": "STRUCT(deviceId VARCHAR, displayName VARCHAR, operatingSystem VARCHAR, "
                    "trustType VARCHAR)",
    "appliedConditionalAccessPolicies": "STRUCT(id VARCHAR, displayName VARCHAR, result VARCHAR, "
                                        "enforcedSessionControls VARCHAR[])[]",
}

GRAPH_STRUCT = "STRUCT(" + ", ".join(f'"{k}" {v}' for k, v in GRAPH_COLUMNS.items()) + ")"
CA_LIST = GRAPH_COLUMNS["appliedConditionalAccessPolicies"]

#: CA results that mean the policy was evaluated against the sign-in (the rest are noise).
_CA_KEEP = ("('success', 'failure', 'reportOnlySuccess', 'reportOnlyFailure', "
            "'reportOnlyInterrupted')")


#: Text timestamp shapes besides ISO 8601: the portal's and Log Analytics' US-style exports
#: (``9/19/2023, 1:45:17.287 PM`` in a Log Analytics "Export to CSV").
_US_FORMATS = ("['%m/%d/%Y, %I:%M:%S.%g %p', '%m/%d/%Y, %I:%M:%S %p', "
               "'%m/%d/%Y %I:%M:%S.%g %p', '%m/%d/%Y %I:%M:%S %p']")
#: Times outside these years are unreadable data (Python's datetime stops at 9999).
_YEARS = (1900, 9999)


def ts(expr: str) -> str:
    """SQL turning an ISO-8601 or portal-style text timestamp into a UTC ``TIMESTAMP``; NULL
    when unreadable or outside the years 1900-9999 (the row is then reported as malformed)."""
    parsed = (f"coalesce(try_cast({expr} AS TIMESTAMPTZ) AT TIME ZONE 'UTC', "
              f"try_strptime({expr}, {_US_FORMATS}))")
    return f"odfix_in_range({parsed})"


#: The macro ``ts`` uses, created on every connection (``load.connect``).
TS_MACRO = (f"CREATE OR REPLACE MACRO odfix_in_range(t) AS CASE WHEN year(t) BETWEEN "
            f"{_YEARS[0]} AND {_YEARS[1]} THEN t END")


def ca_expr(policies: str) -> str:
    """SQL keeping the evaluated CA policies of a Graph ``appliedConditionalAccessPolicy`` list."""
    return (f"list_transform(list_filter({policies}, lambda p: p.result IN {_CA_KEEP}), "
            "lambda p: {'id': p.id, 'name': p.displayName, 'result': p.result, "
            "'sif': coalesce(list_contains(p.enforcedSessionControls, 'SignInFrequency'), false)})")


def lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def graph_select(source: str, file_no: int, kind: str) -> str:
    """SELECT mapping Graph-shaped columns (``GRAPH_COLUMNS``) onto the ``signins`` columns."""
    return f"""
    SELECT id, {ts('"createdDateTime"')},
        lower(userPrincipalName), userId, appId, appDisplayName, resourceId,
        coalesce(try_cast(status.errorCode AS INTEGER), 0), status.failureReason,
        coalesce(try_cast(isInteractive AS BOOLEAN),
                 list_contains(signInEventTypes, 'interactiveUser')),
        nullif(deviceDetail.deviceId, ''), nullif(deviceDetail.displayName, ''),
        deviceDetail.operatingSystem, deviceDetail.trustType,
        CASE WHEN coalesce(try_cast(status.errorCode AS INTEGER), 0) <> 0
             THEN {ca_expr("appliedConditionalAccessPolicies")} END, {file_no:d}, '{kind}'
    FROM {source}"""
