"""Cause scoring: noisy-OR of finding weights, the ticket code as a tie-breaker, thresholds."""

from hypothesis import given
from hypothesis import strategies as st

from odfix.diagnosis.causes import (
    CODE_PRIOR,
    REPORT_THRESHOLD,
    code_causes,
    evidence_score,
    healthy,
    rank,
)
from odfix.diagnosis.models import CAUSE_IDS, Finding


def finding(fid, **weights):
    return Finding(id=fid, severity="warning", title=fid, source="test",
                   weights={k.replace("_", "-"): v for k, v in weights.items()})


def test_noisy_or_of_two_independent_findings():
    assert abs(evidence_score([0.6, 0.6]) - 0.84) < 1e-9
    assert evidence_score([]) == 0.0


def test_weak_evidence_alone_is_not_a_cause():
    assert rank([finding("a", connectivity_tls=REPORT_THRESHOLD - 0.01)]) == []


def test_code_adds_its_prior_only_to_causes_with_evidence():
    found = [finding("a", device_registration=0.5)]
    ranked = rank(found, code_causes("0x8004DE40", "network"))
    assert [c.id for c in ranked] == ["device-registration"]
    assert abs(ranked[0].confidence - evidence_score([0.5, CODE_PRIOR])) < 1e-3


def test_code_order_breaks_ties():
    found = [finding("a", stale_token_password_change=0.6),
             finding("b", connectivity_tls=0.6)]
    assert rank(found)[0].id == "stale-token-password-change"
    ranked = rank(found, code_causes("0x8004DE40", "network"))
    assert ranked[0].id == "connectivity-tls"


def test_dec5_points_at_multiple_identities_and_categories_fall_back():
    assert code_causes("0x8004DEC5", "identity-cache") == ("multiple-identities",)
    assert code_causes("0xCAA70004", "network") == ("connectivity-tls",)
    assert code_causes(None, None) == ()


def test_finding_ids_are_ordered_by_weight():
    found = [finding("weak", device_registration=0.4), finding("strong", device_registration=0.9)]
    assert rank(found)[0].finding_ids == ["strong", "weak"]


def test_healthy_confidence_grows_with_coverage_and_mentions_the_code():
    low = healthy([], 0.25, ["dsregcmd"], None)
    high = healthy([], 1.0, ["dsregcmd", "network"], "0x8004DE40")
    assert low.confidence < high.confidence <= 1.0
    assert "0x8004DE40" in high.summary


causes = st.sampled_from([c for c in CAUSE_IDS if c != "healthy"])
weights = st.dictionaries(causes, st.floats(min_value=0, max_value=1), max_size=3)


@given(st.lists(weights, max_size=12), st.lists(causes, unique=True, max_size=3))
def test_ranking_is_bounded_sorted_and_backed(all_weights, favoured):
    found = [Finding(id=f"f{i}", severity="info", title="t", source="s", weights=w)
             for i, w in enumerate(all_weights)]
    ranked = rank(found, favoured)
    confidences = [c.confidence for c in ranked]
    assert confidences == sorted(confidences, reverse=True)
    assert all(REPORT_THRESHOLD <= c <= 1 for c in confidences)
    ids = {f.id for f in found}
    assert all(c.finding_ids and set(c.finding_ids) <= ids for c in ranked)
