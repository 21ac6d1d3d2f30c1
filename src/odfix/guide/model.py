"""The fix guide's data model: causes, methods, steps with machine actions, special cases, sources.

Everything the CLI runs and every line the KB article prints comes from one YAML file validated by
these models. Cross-references (method, cause, escalation and source ids) are checked on load.
"""

from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from odfix.hosts.base import CredType


class Confidence(StrEnum):
    """How well a statement is backed."""

    MICROSOFT_DOC = "microsoft-doc"
    COMMUNITY = "community"
    INFERRED = "inferred"


class StepContext(StrEnum):
    """Who or what a step needs: the user's session, elevation, a local admin, or a person."""

    USER = "user"
    ELEVATED = "elevated"
    LOCAL_ADMIN = "local-admin"
    UI = "ui"


class JoinType(StrEnum):
    """How the PC is joined, as the diagnosis reads it from ``dsregcmd /status``."""

    ENTRA_JOINED = "entra-joined"
    HYBRID_JOINED = "hybrid-joined"
    DOMAIN_JOINED = "domain-joined"
    ENTRA_REGISTERED = "entra-registered"
    NONE = "none"
    UNKNOWN = "unknown"


CredentialClass = Literal["office", "onedrive-business"]

# Most demanding first: a method's context is the most demanding one among its steps.
_CONTEXT_RANK = (StepContext.LOCAL_ADMIN, StepContext.ELEVATED, StepContext.USER, StepContext.UI)


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Sourced(_Data):
    confidence: Confidence
    sources: list[str] = Field(min_length=1)


# --- actions: the fixed list the fix engine implements (docs/interfaces.md) ---------------------


class NoArgs(_Data):
    """An action without arguments."""


class CloseOneDriveArgs(_Data):
    timeout_s: int = Field(gt=0)


class WaitArgs(_Data):
    seconds: int = Field(gt=0)


class DeleteCachedCredentialsArgs(_Data):
    classes: list[CredentialClass] = Field(min_length=1)


class OpenUriArgs(_Data):
    uri: str = Field(min_length=1)


class PersonArgs(_Data):
    instruction: str = Field(min_length=1)


class DsregcmdLeaveArgs(_Data):
    debug: bool


class _Action(_Data):
    context: StepContext


class CloseOneDrive(_Action):
    name: Literal["close_onedrive"]
    args: CloseOneDriveArgs


class Wait(_Action):
    name: Literal["wait"]
    args: WaitArgs


class StartOneDrive(_Action):
    name: Literal["start_onedrive"]
    args: NoArgs = NoArgs()


class DeleteCachedCredentials(_Action):
    name: Literal["delete_cached_credentials"]
    args: DeleteCachedCredentialsArgs


class OpenUri(_Action):
    name: Literal["open_uri"]
    args: OpenUriArgs


class Person(_Action):
    name: Literal["person"]
    args: PersonArgs


class RebootWithResume(_Action):
    name: Literal["reboot_with_resume"]
    args: NoArgs = NoArgs()


class DsregcmdLeave(_Action):
    name: Literal["dsregcmd_leave"]
    args: DsregcmdLeaveArgs


class DsregcmdJoin(_Action):
    name: Literal["dsregcmd_join"]
    args: NoArgs = NoArgs()


class ResetOneDrive(_Action):
    name: Literal["reset_onedrive"]
    args: NoArgs = NoArgs()


class ClearOfficeIdentity(_Action):
    name: Literal["clear_office_identity"]
    args: NoArgs = NoArgs()


class ReportConnectivity(_Action):
    name: Literal["report_connectivity"]
    args: NoArgs = NoArgs()


class VerifySignIn(_Action):
    name: Literal["verify_sign_in"]
    args: NoArgs = NoArgs()


Action = Annotated[
    CloseOneDrive | Wait | StartOneDrive | DeleteCachedCredentials | OpenUri | Person
    | RebootWithResume | DsregcmdLeave | DsregcmdJoin | ResetOneDrive | ClearOfficeIdentity
    | ReportConnectivity | VerifySignIn,
    Field(discriminator="name"),
]


# --- steps, methods, causes ----------------------------------------------------------------------


class Step(_Data):
    """One instruction: text for people; an action where a machine (or a prompt) can do it.

    A step without an action is UI navigation that the automated run skips, because a later
    step's action does its job (e.g. opening Credential Manager before the credentials are deleted).
    """

    title: str
    text: str
    ui_path: list[str] = []
    labels: list[str] = []
    command: str | None = None
    action: Action | None = None

    @property
    def context(self) -> StepContext:
        """The context the step needs; navigation-only steps are done by a person (``ui``)."""
        return self.action.context if self.action else StepContext.UI


class Check(_Data):
    """The test after a method, and what each outcome means."""

    text: str
    action: Action | None = None
    if_fixed: str
    if_not_fixed: str


class Variant(_Sourced):
    """A join-type-specific replacement for a method's steps.

    ``checklist`` names the checklist a person completes first; a variant whose steps unjoin,
    leave or Disconnect must name one (checked on load).
    """

    id: str
    join_types: list[JoinType] = Field(min_length=1)
    title: str
    why: str
    gate: str | None = None
    checklist: str | None = None
    steps: list[Step] = Field(min_length=1)


class Method(_Sourced):
    """A fix method: ordered steps, join-type variants, and the test that follows it."""

    id: str
    number: int | None = None
    title: str
    summary: str
    # Unjoins, unregisters or removes a work account: planned only when findings prove both that
    # the registration exists and that it is what is broken, and run only past the live gate.
    destructive: bool = False
    steps: list[Step] = Field(min_length=1)
    variants: list[Variant] = []
    test: Check
    notes: list[str] = []

    def variant_for(self, join_type: JoinType | str) -> Variant | None:
        """The variant that replaces the steps on this join type, if any."""
        wanted = JoinType(join_type)
        return next((v for v in self.variants if wanted in v.join_types), None)

    def steps_for(self, join_type: JoinType | str) -> list[Step]:
        """The steps to run on this join type."""
        variant = self.variant_for(join_type)
        return variant.steps if variant else self.steps

    def context_for(self, join_type: JoinType | str) -> StepContext:
        """The most demanding context among the steps run on this join type."""
        used = {step.context for step in self.steps_for(join_type)}
        return next(context for context in _CONTEXT_RANK if context in used)


class ChecklistItem(_Sourced):
    """One thing to confirm before a step that cannot simply be undone."""

    id: str
    text: str


class Checklist(_Sourced):
    """What a person confirms before an unjoin, leave or Disconnect (the KB prints it once)."""

    id: str
    title: str
    why: str
    items: list[ChecklistItem] = Field(min_length=1)


class JoinTypeInfo(_Data):
    """How a person recognises a join type in ``dsregcmd /status`` (Method 2's router)."""

    id: JoinType
    title: str
    dsregcmd: str


class Scenario(_Sourced):
    """A concrete way a cause comes about (the community guide's three causes are scenarios)."""

    id: str
    text: str


class Cause(_Sourced):
    """A cause of the error and the ordered methods that address it."""

    id: str
    title: str
    summary: str
    scenarios: list[Scenario] = []
    plan: list[str]
    plan_by_join_type: dict[JoinType, list[str]] = {}
    escalations: list[str] = []


class SequenceItem(_Data):
    """One item of a special case: either a step of its own or a reference to a method."""

    step: Step | None = None
    method: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> "SequenceItem":
        if (self.step is None) == (self.method is None):
            raise ValueError("give exactly one of 'step' or 'method'")
        return self


class SpecialCase(_Sourced):
    """A situation with its own path (password reset, cloned image, recurring error)."""

    id: str
    title: str
    when: str
    explanation: str
    cause: str
    sequence: list[SequenceItem] = Field(min_length=1)
    escalation: str | None = None
    notes: list[str] = []


class Escalation(_Sourced):
    """When the help desk hands over, to whom, and what to hand over."""

    id: str
    to: str
    when: str
    include: list[str] = []


class ComparisonRow(_Data):
    item: str
    token_refresh: str
    credential_reset: str


class Comparison(_Sourced):
    """Token refresh versus credential reset, and which to start with."""

    title: str
    rows: list[ComparisonRow] = Field(min_length=1)
    advice: str
    caveat: str


class Discrepancy(_Sourced):
    """Where Microsoft's documentation adds to or contradicts the community guide."""

    id: str
    topic: str
    community: str
    microsoft: str
    odfix: str
    methods: list[str] = []


class Source(_Data):
    """A document the guide cites."""

    title: str
    publisher: str
    url: str | None = None
    note: str | None = None


class CredentialAllowEntry(_Data):
    """A Credential Manager target prefix odfix may delete, and its class."""

    prefix: str = Field(min_length=1)
    credential_class: CredentialClass
    cred_type: Literal["generic"]


class Issue(_Data):
    """The problem as the requester sees it (KCS "Issue")."""

    user_words: list[str] = Field(min_length=1)
    error_texts: list[str] = Field(min_length=1)
    codes: list[str] = Field(min_length=1)
    effect: str


class PlannedMethod(_Data):
    """A method resolved for a join type: the steps to run and the context they need."""

    id: str
    number: int | None
    title: str
    context: StepContext
    variant: str | None
    gate: str | None
    checklist: list[str] = []
    confidence: Confidence
    steps: list[Step]
    test: Check


class Plan(_Data):
    """The ordered, join-type-resolved methods for one cause, plus its escalations."""

    cause: str
    join_type: JoinType
    methods: list[PlannedMethod]
    escalations: list[Escalation]


def _ref_error(path: str, problem: str) -> PydanticCustomError:
    return PydanticCustomError("guide_reference", "{path}: {problem}",
                               {"path": path, "problem": problem})


class Guide(_Data):
    """The whole fix guide for one error family."""

    id: str
    title: str
    summary: str
    retrieved: str
    issue: Issue
    environment: list[str] = Field(min_length=1)
    rules: list[str] = Field(min_length=1)
    order: list[str] = Field(min_length=1)
    join_types: list[JoinTypeInfo] = Field(min_length=1)
    checklists: list[Checklist] = []
    causes: list[Cause] = Field(min_length=1)
    methods: list[Method] = Field(min_length=1)
    special_cases: list[SpecialCase] = []
    escalations: list[Escalation] = []
    comparison: Comparison
    discrepancies: list[Discrepancy] = []
    credential_allowlist: list[CredentialAllowEntry] = Field(min_length=1)
    sources: dict[str, Source] = Field(min_length=1)

    @model_validator(mode="after")
    def _cross_references(self) -> "Guide":
        for path, problem in self._reference_problems():
            raise _ref_error(path, problem)
        return self

    def _reference_problems(self) -> Iterator[tuple[str, str]]:
        yield from _duplicates("methods", [m.id for m in self.methods])
        yield from _duplicates("causes", [c.id for c in self.causes])
        yield from _duplicates("escalations", [e.id for e in self.escalations])
        yield from _duplicates("checklists", [c.id for c in self.checklists])
        yield from _duplicates("join_types", [j.id for j in self.join_types])
        kinds = {
            "method": {m.id for m in self.methods},
            "cause": {c.id for c in self.causes},
            "escalation": {e.id for e in self.escalations},
            "checklist": {c.id for c in self.checklists},
            "source": set(self.sources),
        }

        def check(path: str, kind: str, ids: list[str]) -> Iterator[tuple[str, str]]:
            for i, ref in enumerate(ids):
                if ref not in kinds[kind]:
                    yield f"{path}[{i}]", f"unknown {kind} id {ref!r}"

        yield from check("order", "method", self.order)
        for i, cause in enumerate(self.causes):
            at = f"causes[{i}]"
            yield from check(f"{at}.sources", "source", cause.sources)
            yield from check(f"{at}.plan", "method", cause.plan)
            yield from check(f"{at}.escalations", "escalation", cause.escalations)
            for join_type, plan in cause.plan_by_join_type.items():
                yield from check(f"{at}.plan_by_join_type.{join_type}", "method", plan)
            for j, scenario in enumerate(cause.scenarios):
                yield from check(f"{at}.scenarios[{j}].sources", "source", scenario.sources)
        for i, checklist in enumerate(self.checklists):
            yield from check(f"checklists[{i}].sources", "source", checklist.sources)
            for j, point in enumerate(checklist.items):
                yield from check(f"checklists[{i}].items[{j}].sources", "source", point.sources)
        for i, method in enumerate(self.methods):
            at = f"methods[{i}]"
            yield from check(f"{at}.sources", "source", method.sources)
            # A method's own steps run when the join type is unknown: they never unjoin.
            for k, step in enumerate(method.steps):
                if _unjoins(step):
                    yield f"{at}.steps[{k}]", _UNJOIN_OUTSIDE_VARIANT
            seen: set[JoinType] = set()
            for j, variant in enumerate(method.variants):
                yield from check(f"{at}.variants[{j}].sources", "source", variant.sources)
                if variant.checklist is not None:
                    yield from check(f"{at}.variants[{j}].checklist", "checklist",
                                     [variant.checklist])
                elif any(_unjoins(step) for step in variant.steps):
                    yield (f"{at}.variants[{j}].checklist",
                           "a variant that unjoins, leaves or Disconnects needs a checklist")
                for join_type in seen.intersection(variant.join_types):
                    yield f"{at}.variants[{j}].join_types", f"{join_type} has two variants"
                seen.update(variant.join_types)
        for i, case in enumerate(self.special_cases):
            at = f"special_cases[{i}]"
            yield from check(f"{at}.sources", "source", case.sources)
            yield from check(f"{at}.cause", "cause", [case.cause])
            if case.escalation is not None:
                yield from check(f"{at}.escalation", "escalation", [case.escalation])
            for j, item in enumerate(case.sequence):
                if item.method is not None:
                    yield from check(f"{at}.sequence[{j}].method", "method", [item.method])
                if item.step is not None and _unjoins(item.step):
                    yield f"{at}.sequence[{j}].step", _UNJOIN_OUTSIDE_VARIANT
        for i, escalation in enumerate(self.escalations):
            yield from check(f"escalations[{i}].sources", "source", escalation.sources)
        for i, discrepancy in enumerate(self.discrepancies):
            yield from check(f"discrepancies[{i}].sources", "source", discrepancy.sources)
            yield from check(f"discrepancies[{i}].methods", "method", discrepancy.methods)
        yield from check("comparison.sources", "source", self.comparison.sources)

    def method(self, method_id: str) -> Method:
        """The method with this id (KeyError if absent)."""
        for method in self.methods:
            if method.id == method_id:
                return method
        raise KeyError(method_id)

    def cause(self, cause_id: str) -> Cause:
        """The cause with this id (KeyError if absent)."""
        for cause in self.causes:
            if cause.id == cause_id:
                return cause
        raise KeyError(cause_id)

    def escalation(self, escalation_id: str) -> Escalation:
        """The escalation with this id (KeyError if absent)."""
        for escalation in self.escalations:
            if escalation.id == escalation_id:
                return escalation
        raise KeyError(escalation_id)

    def checklist(self, checklist_id: str) -> Checklist:
        """The checklist with this id (KeyError if absent)."""
        for checklist in self.checklists:
            if checklist.id == checklist_id:
                return checklist
        raise KeyError(checklist_id)

    def plan_for(self, cause_id: str, join_type: JoinType | str) -> list[str]:
        """The ordered method ids for a cause on a join type."""
        cause = self.cause(cause_id)
        return list(cause.plan_by_join_type.get(JoinType(join_type), cause.plan))

    def resolve(self, cause_id: str, join_type: JoinType | str) -> Plan:
        """The plan for a cause with each method's steps resolved for the join type."""
        join = JoinType(join_type)
        planned = []
        for method_id in self.plan_for(cause_id, join):
            method = self.method(method_id)
            variant = method.variant_for(join)
            checklist = variant.checklist if variant else None
            planned.append(PlannedMethod(
                id=method.id, number=method.number, title=method.title,
                context=method.context_for(join), variant=variant.id if variant else None,
                gate=variant.gate if variant else None,
                checklist=[i.text for i in self.checklist(checklist).items] if checklist else [],
                confidence=variant.confidence if variant else method.confidence,
                steps=method.steps_for(join), test=method.test,
            ))
        escalations = [self.escalation(e) for e in self.cause(cause_id).escalations]
        return Plan(cause=cause_id, join_type=join, methods=planned, escalations=escalations)

    def credential_class_for(self, target: str, cred_type: int) -> CredentialClass | None:
        """The allow-listed class of a credential, or None when odfix must not touch it.

        Matching is case-insensitive on the target after a ``<namespace>:target=`` prefix
        (``LegacyGeneric:target=``) is stripped; only generic credentials can match.
        """
        if cred_type != CredType.GENERIC:
            return None
        name = target.split(":target=", 1)[1] if ":target=" in target else target
        folded = name.casefold()
        for entry in self.credential_allowlist:
            if folded.startswith(entry.prefix.casefold()):
                return entry.credential_class
        return None


_UNJOIN_OUTSIDE_VARIANT = "an unjoin, leave or Disconnect belongs in a join-type variant"


def _unjoins(step: Step) -> bool:
    """Whether a step removes or replaces a device join or a work account registration
    (``/forcerecovery`` re-registers the device with new keys)."""
    if step.action is not None and step.action.name == "dsregcmd_leave":
        return True
    command = step.command or ""
    return "Disconnect" in step.labels or "/leave" in command or "/forcerecovery" in command


def _duplicates(path: str, ids: list[str]) -> Iterator[tuple[str, str]]:
    seen: set[str] = set()
    for i, item in enumerate(ids):
        if item in seen:
            yield f"{path}[{i}].id", f"duplicate id {item!r}"
        seen.add(item)

