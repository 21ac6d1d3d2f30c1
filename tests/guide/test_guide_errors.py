"""Broken copies of the guide fail with one line naming the file, the field path and the problem."""

import copy
from importlib.resources import files

import pytest
import yaml

from odfix.errors import BadInput
from odfix.exitcodes import ExitCode
from odfix.guide import GuideError, load_guide

PACKAGED = (files("odfix.guide") / "0x8004de40.yaml").read_text(encoding="utf-8")
PARSED = yaml.load(PACKAGED, Loader=yaml.CSafeLoader)


def broken_copy(tmp_path, change):
    data = copy.deepcopy(PARSED)
    change(data)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False), encoding="utf-8")
    return path


def error_for(path) -> str:
    with pytest.raises(GuideError) as caught:
        load_guide(path)
    message = caught.value.message
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    return message


def step(data, method, number):
    return data["methods"][method]["steps"][number]


def test_guide_error_is_bad_input():
    assert issubclass(GuideError, BadInput)
    assert GuideError("x").code == ExitCode.BAD_INPUT


@pytest.mark.parametrize(("change", "path", "problem"), [
    (lambda d: step(d, 1, 2)["action"].update(context="root"),
     "methods[1].steps[2].action.context", "'user', 'elevated', 'local-admin' or 'ui'"),
    (lambda d: step(d, 1, 4)["action"].update(args={"seconds": "soon"}),
     "methods[1].steps[4].action.args.seconds", "valid integer"),
    (lambda d: d["methods"][2].update(number="three"), "methods[2].number", "valid integer"),
    (lambda d: step(d, 1, 5)["action"].update(name="format_disk"),
     "methods[1].steps[5].action", "format_disk"),
    (lambda d: step(d, 1, 3)["action"].update(args={"timeout": 5}),
     "methods[1].steps[3].action.args.timeout_s", "Field required"),
    (lambda d: step(d, 1, 3).update(colour="red"), "methods[1].steps[3].colour", "not permitted"),
    (lambda d: d["causes"][0]["plan"].append("defragment"),
     "causes[0].plan[4]", "unknown method id 'defragment'"),
    (lambda d: d["special_cases"][1]["sequence"][2].update(method="nope"),
     "special_cases[1].sequence[2].method", "unknown method id 'nope'"),
    (lambda d: d["special_cases"][0].update(cause="gremlins"),
     "special_cases[0].cause", "unknown cause id 'gremlins'"),
    (lambda d: d["methods"][3]["sources"].append("hearsay"),
     "methods[3].sources[2]", "unknown source id 'hearsay'"),
    (lambda d: d["methods"][0].update(confidence="certain"),
     "methods[0].confidence", "'microsoft-doc', 'community' or 'inferred'"),
    (lambda d: d["causes"][1].update(plan_by_join_type={"laptop": []}),
     "causes[1].plan_by_join_type.laptop", "entra-joined"),
    (lambda d: d["methods"][2]["variants"][1].update(join_types=["hybrid-joined"]),
     "methods[2].variants[2].join_types", "hybrid-joined has two variants"),
    # An unjoin without its checklist, or outside a join-type variant, does not load.
    (lambda d: d["methods"][2]["variants"][0].pop("checklist"),
     "methods[2].variants[0].checklist", "needs a checklist"),
    # dsregcmd /forcerecovery re-registers an Entra joined device: the checklist first too.
    (lambda d: d["methods"][2]["variants"][1].pop("checklist"),
     "methods[2].variants[1].checklist", "needs a checklist"),
    (lambda d: d["methods"][2]["variants"][2].update(checklist="vibes"),
     "methods[2].variants[2].checklist[0]", "unknown checklist id 'vibes'"),
    (lambda d: d["methods"][2]["steps"].append(
        d["methods"][2]["variants"][2]["steps"][0]),
     "methods[2].steps[1]", "belongs in a join-type variant"),
    (lambda d: d["special_cases"][1]["sequence"].insert(1, {"step": {
        "title": "Leave", "text": "Leave.", "command": "dsregcmd /leave"}}),
     "special_cases[1].sequence[1].step", "belongs in a join-type variant"),
    (lambda d: d["methods"][4].update(id="credential-cleanup"),
     "methods[4].id", "duplicate id"),
])
def test_broken_copy_names_the_field(tmp_path, change, path, problem):
    message = error_for(broken_copy(tmp_path, change))
    assert f": {path}" in message
    assert problem in message


def test_error_names_the_line_of_the_field(tmp_path):
    text = PACKAGED.replace("args: {seconds: 10}\n          context: user",
                            "args: {seconds: 10}\n          context: root", 1)
    path = tmp_path / "bad-context.yaml"
    path.write_text(text, encoding="utf-8")
    expected_line = text.splitlines().index("          context: root") + 1
    message = error_for(path)
    assert f"methods[1].steps[4].action.context (line {expected_line})" in message


def test_yaml_syntax_error_gives_the_line(tmp_path):
    lines = PACKAGED.splitlines()
    number = lines.index("      - title: Open Credential Manager")
    lines[number] = "      - title: [Open Credential Manager"
    path = tmp_path / "syntax.yaml"
    path.write_text("\n".join(lines), encoding="utf-8")
    message = error_for(path)
    assert "YAML syntax error at line" in message


def test_missing_file_and_wrong_top_level(tmp_path):
    assert "cannot read" in error_for(tmp_path / "absent.yaml")
    listed = tmp_path / "list.yaml"
    listed.write_text("- just\n- a list\n", encoding="utf-8")
    assert "expected a mapping" in error_for(listed)


def test_several_problems_are_counted(tmp_path):
    def change(data):
        data["methods"][0].update(confidence="certain", number="one")

    assert "(and 1 more problem)" in error_for(broken_copy(tmp_path, change))
