"""A synthetic fleet (labelled synthetic: no real PC produced these): PCs that fail with one of
the guide's causes, are detected, and are fixed by the guide's plan for that cause one method
at a time, some needing the user, some coming back days later. Deterministic per seed.

Used by the browser test (a dashboard worth a screenshot) and the console benchmarks.
"""

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

CAUSES = {  # cause: (weight, chance each planned method fixes it)
    "stale-token-password-change": (0.40, 0.55),
    "recurring-conditional-access": (0.20, 0.80),
    "multiple-identities": (0.12, 0.60),
    "device-registration": (0.12, 0.50),
    "connectivity-tls": (0.08, 0.35),
    "cloned-image": (0.08, 0.70),
}
JOIN_TYPES = ("hybrid-joined", "entra-joined", "entra-registered")


def _plans() -> dict[tuple[str, str], list[str]]:
    from odfix.guide import load_guide

    guide = load_guide()
    return {(c, j): guide.plan_for(c, j) for c in CAUSES for j in JOIN_TYPES}


def simulate(episodes: int, *, devices: int, seed: int, end: datetime,
             days: int = 84, prefix: str = "sim") -> Iterator[dict[str, Any]]:
    """Fleet report documents (``FleetReport.dump()`` shape) for ``episodes`` failures."""
    rng = random.Random(seed)
    plans = _plans()
    causes = list(CAUSES)
    weights = [CAUSES[c][0] for c in causes]
    start = end - timedelta(days=days)
    clones = {d: rng.randrange(devices) for d in rng.sample(range(devices), max(1, devices // 50))}
    for n in range(episodes):
        device = rng.randrange(devices)
        cause = rng.choices(causes, weights)[0]
        if cause == "cloned-image" and clones:
            device = rng.choice(list(clones))
        join = JOIN_TYPES[device % len(JOIN_TYPES)]
        name = f"PC-{device:05d}"
        device_id = f"{device:08x}-0000-4000-8000-{device:012x}"
        if cause == "cloned-image" and device in clones:  # the image's id on another PC's name
            name = f"PC-{clones[device]:05d}"
        user = f"user{device:05d}@contoso.example"
        at = start + timedelta(seconds=rng.uniform(0, days * 86400 - 7 * 86400))
        base = {"schema": "odfix.fleet-report/1", "source": rng.choice(("cli", "intune")),
                "device_id": device_id, "device_name": name, "user": user, "join_type": join,
                "cause": cause, "reason": "", "odfix_version": "0.sim"}
        yield {**base, "run_id": f"{prefix}-{seed}-{n}-d", "kind": "detect",
               "methods": [], "verdict": "problem", "exit_code": 1,
               "started_at": at.isoformat(), "ended_at": (at + timedelta(seconds=20)).isoformat()}
        plan = plans[(cause, join)]
        fix_chance = CAUSES[cause][1]
        results: list[dict[str, str]] = []
        t = at + timedelta(minutes=rng.uniform(10, 600))
        for i, method in enumerate(plan):
            if rng.random() < 0.18:  # the user must act: the run pauses, resumes later
                results.append({"method": method, "outcome": "needs-person"})
                yield {**base, "run_id": f"{prefix}-{seed}-{n}-{i}p", "kind": "fix",
                       "methods": list(results), "verdict": "needs-person", "exit_code": 4,
                       "started_at": t.isoformat(),
                       "ended_at": (t + timedelta(minutes=3)).isoformat()}
                t += timedelta(hours=rng.uniform(0.5, 20))
                results = []
            fixed = rng.random() < fix_chance or (i == len(plan) - 1 and rng.random() < 0.5)
            results.append({"method": method, "outcome": "fixed" if fixed else "not-fixed"})
            if fixed:
                break
        verdict = "fixed" if results[-1]["outcome"] == "fixed" else "still-failing"
        yield {**base, "run_id": f"{prefix}-{seed}-{n}-f", "kind": "fix", "methods": results,
               "verdict": verdict, "exit_code": 0 if verdict == "fixed" else 3,
               "started_at": t.isoformat(),
               "ended_at": (t + timedelta(minutes=rng.uniform(2, 25))).isoformat()}
