"""First-party app and resource ids that matter for OneDrive sign-in failures (reference §5.6)."""

ONEDRIVE_SYNC = "ab9b8c07-8f02-4f72-87fa-80105867a763"
ONEDRIVE_WEB = "b26aadf8-566f-4478-926f-589f601d9c74"
ONEDRIVE_WEB_ADMIN = "33be1cef-03fb-444b-8fd3-08ca1b4d803f"
ONEDRIVE_IOS = "af124e86-4e96-495a-b70a-90f90ab96707"
MICROSOFT_OFFICE = "d3590ed6-52b3-4102-aeff-aad2292ab01c"
TEAMS = "1fec8e78-bce4-4aaf-ab1b-5451cc387264"
SHAREPOINT_RESOURCE = "00000003-0000-0ff1-ce00-000000000000"
EXCHANGE_RESOURCE = "00000002-0000-0ff1-ce00-000000000000"
GRAPH_RESOURCE = "00000003-0000-0000-c000-000000000000"

#: Client apps whose failures come first when ranking users: the OneDrive clients and Office.
ONEDRIVE_CLIENT_APPS: frozenset[str] = frozenset(
    {ONEDRIVE_SYNC, ONEDRIVE_WEB, ONEDRIVE_WEB_ADMIN, ONEDRIVE_IOS, MICROSOFT_OFFICE}
)

#: Resources that hold OneDrive for Business data (it lives in SharePoint Online).
ONEDRIVE_RESOURCES: frozenset[str] = frozenset({SHAREPOINT_RESOURCE})

#: Apps and resources in Conditional Access's ``Office365`` app group (the ones odfix sees).
OFFICE365_GROUP: frozenset[str] = frozenset(
    {ONEDRIVE_SYNC, ONEDRIVE_WEB, ONEDRIVE_WEB_ADMIN, ONEDRIVE_IOS, MICROSOFT_OFFICE, TEAMS,
     SHAREPOINT_RESOURCE, EXCHANGE_RESOURCE}
)

#: The OneDrive sync client's sign-in: the client app and the resource it asks for.
ONEDRIVE_SIGN_IN: tuple[str, str] = (ONEDRIVE_SYNC, SHAREPOINT_RESOURCE)


def policy_covers(include: list[str], exclude: list[str], app_id: str | None,
                  resource_id: str | None) -> bool:
    """Whether a Conditional Access policy's ``includeApplications`` / ``excludeApplications``
    reach a sign-in of ``app_id`` to ``resource_id`` (a policy targets the resource or the
    client; ``All`` and ``Office365`` are groups). An excluded app or resource wins."""
    ids = {i for i in (app_id, resource_id) if i}

    def named(values: list[str]) -> bool:
        return bool(ids.intersection(values)) or (
            "Office365" in values and bool(ids & OFFICE365_GROUP))

    return ("All" in include or named(include)) and not named(exclude)
