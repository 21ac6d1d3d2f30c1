"""Property test: any mix of real captures gives a diagnosis that follows the JSON contract."""

import json
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odfix.diagnosis import diagnose
from odfix.errors import BadInput
from odfix.evidence.bundle import from_files

from .conftest import SCENARIOS
from .contract import check

CAPTURES = sorted(p for p in SCENARIOS.rglob("*") if p.is_file() and p.name != "README.md")
BY_NAME: dict[str, list[bytes]] = {}
for _path in CAPTURES:
    BY_NAME.setdefault(_path.name, []).append(_path.read_bytes())


@st.composite
def bundles(draw):
    """A PC's folder assembled from real captures of any scenario (at least dsregcmd)."""
    names = draw(st.sets(st.sampled_from(sorted(BY_NAME)), max_size=len(BY_NAME)))
    names.add("dsregcmd_status.txt")
    files = {name: draw(st.sampled_from(BY_NAME[name])) for name in sorted(names)}
    return files


codes = st.sampled_from([None, "0x8004de40", "0x8004DE88", "0x8004dec5", "AADSTS50173",
                         "0xCAA2000C", "-2147164608"])
times = st.one_of(st.none(), st.datetimes(min_value=datetime(2024, 1, 1),
                                          max_value=datetime(2027, 1, 1), timezones=st.just(UTC)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(bundles(), min_size=1, max_size=3), codes, times)
def test_any_mix_of_captures_follows_the_contract(pcs, code, changed):
    loaded = [from_files(files, f"pc{i}") for i, files in enumerate(pcs)]
    result = diagnose(loaded, error_code=code, password_changed_at=changed)
    document = json.loads(json.dumps(result.model_dump(mode="json")))
    check(document)
    assert result.healthy == (document["causes"][0]["id"] == "healthy")


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(BY_NAME)), st.binary(max_size=2000) | st.text(max_size=2000),
       st.booleans())
def test_garbage_captures_end_in_a_diagnosis_or_bad_input(name, garbage, with_real):
    files = {"dsregcmd_status.txt": BY_NAME["dsregcmd_status.txt"][0]} if with_real else {}
    files[name] = garbage.encode() if isinstance(garbage, str) else garbage
    bundle = from_files(files, "pc")
    try:
        result = diagnose([bundle])
    except BadInput as error:
        assert "\n" not in error.message
        return
    check(json.loads(json.dumps(result.model_dump(mode="json"))))
