"""The plan: the guide's methods for the top cause(s) on this join type, in the guide's order.

The top cause always gets its plan; another cause joins when its confidence reaches
``PLAN_THRESHOLD`` (its methods follow, without repeating a method already planned). Each item's
``why`` names the finding that led to the cause; ``note`` carries the guide's join-type variant
(e.g. ``dsregcmd /debug /leave`` instead of Disconnect on a hybrid joined PC) and its gate.
"""

from collections.abc import Sequence

from odfix.diagnosis.models import Cause, Finding, JoinType, PlanItem, StepContext
from odfix.guide.model import Guide

PLAN_THRESHOLD = 0.5


def build(causes: Sequence[Cause], findings: Sequence[Finding], join_type: JoinType,
          guide: Guide) -> tuple[list[PlanItem], str | None]:
    """Plan items and the escalation text of the top cause (None when it has none)."""
    by_id = {f.id: f for f in findings}
    chosen = [c for i, c in enumerate(causes)
              if c.id != "healthy" and (i == 0 or c.confidence >= PLAN_THRESHOLD)]
    items: list[PlanItem] = []
    escalation: str | None = None
    for cause in chosen:
        resolved = guide.resolve(cause.id, join_type)
        lead = by_id.get(cause.finding_ids[0]) if cause.finding_ids else None
        because = f"{lead.title} [{lead.id}]" if lead else cause.summary
        for method in resolved.methods:
            if any(item.method == method.id for item in items):
                continue
            variant = guide.method(method.id).variant_for(join_type)
            note = f"{variant.title}: {variant.why}" if variant else ""
            if method.gate:
                note += f" Gate: {method.gate}"
            context: StepContext = method.context.value  # type: ignore[assignment]
            items.append(PlanItem(method=method.id, why=f"{cause.id}: {because}",
                                  context=context, cause=cause.id, variant=method.variant,
                                  note=note.strip(), steps=[s.title for s in method.steps]))
        if escalation is None and resolved.escalations:
            escalation = " ".join(f"To {e.to}: {e.when}" for e in resolved.escalations)
    return items, escalation
