"""Checks across several PCs: one Entra DeviceId on PCs with different names is a cloned image."""

from collections import defaultdict
from collections.abc import Sequence

from odfix.diagnosis.models import Finding
from odfix.evidence.common import Citation
from odfix.evidence.dsregcmd import DsregStatus

DEVICE_FINDINGS = ("dsreg.device-auth-failed", "dsreg.prt-missing", "dsreg.prt-acquire-failed",
                   "dsreg.prt-refresh-failed", "dsreg.prt-device-refused",
                   "dsreg.prt-device-disabled", "dsreg.registration-failed",
                   "dsreg.recovery-pending", "dsreg.key-sign-failed")
"""Registration trouble on a clone's copies is what the cloned registration leads to."""


def _name(pc: str, status: DsregStatus) -> str:
    return (status.device_name or pc).split(".", 1)[0].casefold()


def _to_clone(finding: Finding) -> Finding:
    """On a clone's copy, registration trouble is the clone's doing: it backs ``cloned-image``."""
    if finding.id not in DEVICE_FINDINGS:
        return finding
    weight = finding.weights.get("device-registration", 0.0)
    return finding.model_copy(update={"weights": {**finding.weights, "cloned-image": weight}})


def shared_device_ids(pcs: Sequence[tuple[str, DsregStatus]],
                      per_pc: dict[str, list[Finding]]) -> list[Finding]:
    """One finding per DeviceId reported by PCs with different names, citing each PC's lines.

    The registration findings of the sharing PCs in ``per_pc`` are updated to back the clone too.
    """
    by_id: dict[str, list[tuple[str, DsregStatus]]] = defaultdict(list)
    for pc, status in pcs:
        if status.device_id:
            by_id[status.device_id.casefold()].append((pc, status))
    groups = [sharing for sharing in by_id.values()
              if len({_name(pc, status) for pc, status in sharing}) > 1]
    found = []
    for sharing in groups:
        names = {_name(pc, status) for pc, status in sharing}
        device_id = sharing[0][1].device_id
        evidence = [
            Citation(file=f"{pc}/{field.citation.file}", line=field.citation.line,
                     text=field.citation.text)
            for pc, status in sharing
            for field in (status.get("Device Details", "DeviceId"),
                          status.get("Device State", "Device Name"))
            if field is not None
        ]
        troubled = [pc for pc, _ in sharing
                    if any(f.id in DEVICE_FINDINGS for f in per_pc.get(pc, []))]
        title = (f"DeviceId {device_id} is reported by {len(sharing)} PCs with "
                 f"different names ({', '.join(sorted(names))})")
        if troubled:
            title += f"; registration fails on {', '.join(troubled)}"
        for pc in troubled:
            per_pc[pc] = [_to_clone(f) for f in per_pc[pc]]
        found.append(Finding(
            id="fleet.shared-device-id" + (f"@{device_id}" if len(groups) > 1 else ""),
            severity="error", source="fleet", title=title,
            evidence=evidence, weights={"cloned-image": 0.99 if troubled else 0.95},
        ))
    return found
