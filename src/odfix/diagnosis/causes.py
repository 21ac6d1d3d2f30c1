"""From findings to ranked causes: explicit, documented confidence arithmetic.

* Each finding carries a weight per cause (0..1). A cause's evidence score is the noisy-OR of its
  findings' weights: ``1 - prod(1 - w)``, so two independent 0.6 findings give 0.84.
* The OneDrive error code from the ticket adds ``CODE_PRIOR`` the same way to the causes it points
  at (``code_causes``), but only to causes that already have evidence: a code alone never names a
  cause.
* Causes scoring at least ``REPORT_THRESHOLD`` are reported with their confidence: the score
  discounted for the sources that were missing (``coverage.discount``), best first; ties go to
  the code's order, then to ``CAUSE_ORDER``. With none, the verdict is ``healthy`` (or, when the
  evidence cannot show that, not enough evidence).
"""

from collections.abc import Callable, Sequence

from odfix.diagnosis.models import Cause, CauseId, Finding

CODE_PRIOR = 0.2
REPORT_THRESHOLD = 0.3

CAUSE_ORDER: tuple[CauseId, ...] = (
    "cloned-image",
    "device-registration",
    "stale-token-password-change",
    "recurring-conditional-access",
    "connectivity-tls",
    "multiple-identities",
)

# Microsoft's article for 0x8004de40/de88 starts with connectivity and device trust; the community
# guide's stale-token path is kept behind them. 0x8004dec5 (and de80/de86/deef, which Microsoft
# fixes the same way) is the multiple-identities path.
CODE_CAUSES: dict[str, tuple[CauseId, ...]] = {
    "0x8004DE40": ("connectivity-tls", "device-registration", "stale-token-password-change"),
    "0x8004DE88": ("connectivity-tls", "device-registration", "stale-token-password-change"),
    "0x8004DEC5": ("multiple-identities",),
    "0x8004DE80": ("multiple-identities",),
    "0x8004DE86": ("multiple-identities",),
    "0x8004DEEF": ("multiple-identities",),
}

CATEGORY_CAUSES: dict[str, tuple[CauseId, ...]] = {
    "password-change": ("stale-token-password-change",),
    "sign-in-frequency": ("recurring-conditional-access",),
    "interaction-required": ("recurring-conditional-access",),
    "device": ("device-registration",),
    "network": ("connectivity-tls",),
    "identity-cache": ("multiple-identities",),
}

SUMMARIES: dict[CauseId, str] = {
    "stale-token-password-change": (
        "Tokens issued before the password change or reset are being refused; the cached Office "
        "and OneDrive credentials and the work account sign-in need refreshing."
    ),
    "device-registration": (
        "The device's registration with Entra ID is broken or its Primary Refresh Token is not "
        "renewing, so silent sign-in to OneDrive fails."
    ),
    "cloned-image": (
        "Several PCs carry the same Entra device ID: the registration was cloned with an image or "
        "snapshot and must be redone on each copy."
    ),
    "recurring-conditional-access": (
        "Sign-in keeps asking for interaction at a regular cadence: a Conditional Access sign-in "
        "frequency or MFA policy, to be reviewed on the tenant side rather than fixed on the PC."
    ),
    "connectivity-tls": (
        "OneDrive cannot reach the sign-in service (network, proxy or TLS 1.2): Microsoft's own "
        "path for 0x8004de40/0x8004de88."
    ),
    "multiple-identities": (
        "Several cached work identities compete for the sign-in (Microsoft's 0x8004dec5 path): "
        "clear the Office identity cache."
    ),
    "healthy": "",
}


def code_causes(code: str | None, category: str | None) -> tuple[CauseId, ...]:
    """The causes a ticket's error code points at, in the order to weigh them."""
    if code is None:
        return ()
    return CODE_CAUSES.get(code) or CATEGORY_CAUSES.get(category or "", ())


def evidence_score(weights: Sequence[float]) -> float:
    """Noisy-OR of independent weights in 0..1."""
    remaining = 1.0
    for weight in weights:
        remaining *= 1.0 - min(max(weight, 0.0), 1.0)
    return 1.0 - remaining


def rank(findings: Sequence[Finding], favoured: Sequence[CauseId] = (),
         discount: Callable[[CauseId, float], float] | None = None) -> list[Cause]:
    """Causes whose score reaches ``REPORT_THRESHOLD``, best first (never ``healthy``); the
    confidence is ``discount(cause, score)`` when given, else the score."""
    causes: list[Cause] = []
    for cause in CAUSE_ORDER:
        backing = [f for f in findings if f.weights.get(cause, 0.0) > 0.0]
        if not backing:
            continue
        score = evidence_score([f.weights[cause] for f in backing])
        if cause in favoured:
            score = evidence_score([score, CODE_PRIOR])
        if score >= REPORT_THRESHOLD:
            backing.sort(key=lambda f: -f.weights[cause])
            confidence = discount(cause, score) if discount else score
            causes.append(Cause(
                id=cause, confidence=round(confidence, 3), summary=SUMMARIES[cause],
                finding_ids=[f.id for f in backing],
            ))

    def order(c: Cause) -> tuple[float, int, int]:
        hint = favoured.index(c.id) if c.id in favoured else len(favoured)
        return (-c.confidence, hint, CAUSE_ORDER.index(c.id))

    return sorted(causes, key=order)


def healthy(findings: Sequence[Finding], coverage: float, sources: Sequence[str],
            code: str | None, enough: bool = True) -> Cause:
    """The ``healthy`` verdict: confidence grows with how many sources were there to look at.

    Not ``enough`` evidence (no user-scoped dsregcmd fields that describe the user) says so."""
    looked = ", ".join(sources) or "no recognised capture"
    summary = f"No sign of the 0x8004de40 family in what was captured ({looked})."
    if not enough:
        summary = (f"Nothing found in what was captured ({looked}), but that is not enough to "
                   "call the PC healthy: see the captures to ask for.")
    if code:
        summary += (f" The ticket's {code} is not explained by this evidence: capture again while "
                    "the error is showing.")
    return Cause(
        id="healthy", confidence=round(0.4 + 0.5 * coverage, 3), summary=summary,
        finding_ids=[f.id for f in findings],
    )
