"""``penalty annotate``: tasks pre-filled with the rules' units and labels, read back by the project's importer."""

import json
import logging

import pytest

from cli import main
from data.formats import read_annotations
from data.types import CaseUnit, GoldCase, LabelScores, Prediction
from models.selection import Doubt, measure_doubt, pick_bulletins

# Invented for this test (no real bulletin): two cases after a SOURCE header, so offsets must count the header.
BULLETIN = (
    "SOURCE: https://example.org/a\n---\n"
    "某区公安分局通报两起网络安全案例\n\n"
    "案例一：某科技公司未落实日志留存制度案\n"
    "民警检查发现该公司网站日志仅留存十天。公安机关依据《中华人民共和国网络安全法》第五十九条对该公司处以警告，"
    "并处罚款一万元。\n\n"
    "案例二：王某使用翻墙软件案\n"
    "王某通过翻墙软件访问境外网站，公安机关对其给予警告。\n"
)
UNIT_1 = (
    "案例一：某科技公司未落实日志留存制度案\n"
    "民警检查发现该公司网站日志仅留存十天。公安机关依据《中华人民共和国网络安全法》第五十九条对该公司处以警告，"
    "并处罚款一万元。"
)
UNIT_2 = "案例二：王某使用翻墙软件案\n王某通过翻墙软件访问境外网站，公安机关对其给予警告。"
OTHER = "SOURCE: https://example.org/b\n---\n案例一：某网吧未落实实名登记制度案\n公安机关对该网吧处以警告。\n"


@pytest.fixture
def bulletins(tmp_path):
    (tmp_path / "a.txt").write_text(BULLETIN, encoding="utf-8")
    (tmp_path / "b.txt").write_text(OTHER, encoding="utf-8")
    return tmp_path


def _annotate(bulletins, *extra):
    out = bulletins / "tasks.out"
    code = main(
        ["annotate", "--model", "rules", "--segmenter", "rules", str(bulletins / "a.txt"), "-o", str(out), *extra]
    )
    return code, out


def _approve(tasks, corrections):
    """An annotator's export: each task's predicted regions submitted as its annotation, with ``corrections``
    ({task index: {choice name: new choices}}) applied."""
    for index, task in enumerate(tasks):
        result = json.loads(json.dumps(task.pop("predictions")[0]["result"]))
        for region in result:
            if region["from_name"] in corrections.get(index, {}):
                region["value"]["choices"] = corrections[index][region["from_name"]]
        task["annotations"] = [{"result": result}]
    return tasks


def test_annotate_label_studio_predictions_point_into_the_bulletin(bulletins):
    code, out = _annotate(bulletins)
    tasks = json.loads(out.read_text(encoding="utf-8"))
    assert code == 0
    assert [t["data"]["text"] for t in tasks] == [UNIT_1, UNIT_2]
    for task in tasks:
        meta = task["meta"]
        assert BULLETIN[meta["start"] : meta["end"]] == task["data"]["text"]
        assert task["predictions"][0]["model_version"] == "rules" and 0 < task["predictions"][0]["score"] <= 1
        assert "annotations" not in task and meta["reason"]
    assert [task["meta"]["start"] for task in tasks] == [52, 135]


def test_annotate_corrected_label_studio_export_reads_back_as_gold(bulletins, label_set):
    _, out = _annotate(bulletins)
    export = bulletins / "export.json"
    tasks = _approve(json.loads(out.read_text(encoding="utf-8")), {1: {"party": ["individual"]}})
    export.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    loaded = read_annotations(export, label_set)
    doc = str(bulletins / "a.txt")
    assert loaded.problems == []
    assert loaded.cases == [
        GoldCase(doc, UNIT_1, "security_duty", ("fine", "warning"), (10000,), "organization"),
        GoldCase(doc, UNIT_2, "vpn_circumvention", ("warning",), (), "individual"),
    ]


def test_annotate_doccano_lines_read_back_as_gold(bulletins, label_set):
    _, out = _annotate(bulletins, "--format", "doccano")
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [BULLETIN[x["meta"]["start"] : x["meta"]["end"]] for x in lines] == [UNIT_1, UNIT_2]
    loaded = read_annotations(out, label_set)
    doc = str(bulletins / "a.txt")
    assert loaded.problems == []
    assert loaded.cases == [
        GoldCase(doc, UNIT_1, "security_duty", ("fine", "warning"), (10000,), "organization"),
        GoldCase(doc, UNIT_2, "vpn_circumvention", ("warning",), (), "organization"),
    ]


def test_annotate_labelling_config_lists_every_label_with_its_name(bulletins, label_set):
    config = bulletins / "labeling.xml"
    _annotate(bulletins, "--labelstudio-config", str(config))
    xml = config.read_text(encoding="utf-8")
    for kind, labels in (
        ("offense", label_set.offenses),
        ("penalty", label_set.penalties),
        ("party", label_set.parties),
    ):
        for label in labels:
            shown = label_set.display(kind, label, "zh")
            assert (f'value="{shown}" alias="{label}"' if shown != label else f'value="{label}"') in xml
    assert '<Choices name="penalties" toName="text" choice="multiple">' in xml
    assert 'alias="admin_detention"' in xml and "行政拘留" in xml


def test_annotate_random_selection_is_reproducible(bulletins):
    runs = []
    for name in ("one", "two"):
        out = bulletins / f"{name}.json"
        args = ["annotate", "--model", "rules", "--segmenter", "rules", str(bulletins), "-o", str(out)]
        assert main([*args, "--select", "1", "--strategy", "random", "--seed", "0"]) == 0
        runs.append(json.loads(out.read_text(encoding="utf-8")))
    assert runs[0] == runs[1]
    assert len({task["meta"]["source"] for task in runs[0]}) == 1
    assert "random, seed 0" in runs[0][0]["meta"]["reason"]


def test_annotate_uncertainty_selection_says_why(bulletins):
    out = bulletins / "picked.json"
    args = ["annotate", "--model", "rules", "--segmenter", "rules", str(bulletins), "-o", str(out), "--select", "1"]
    assert main(args) == 0
    reason = json.loads(out.read_text(encoding="utf-8"))[0]["meta"]["reason"]
    assert "offense margin" in reason and "picked by uncertainty" in reason


def test_annotate_reports_unreadable_input_and_writes_the_others(bulletins, caplog):
    caplog.set_level(logging.INFO, logger="penalty")
    (bulletins / "bad.txt").write_bytes(b"\xff\xfe\x00\xd8 not a bulletin")
    (bulletins / "empty.txt").write_text("某区公安分局网络安全宣传周活动通知\n", encoding="utf-8")
    out = bulletins / "tasks.json"
    missing = bulletins / "missing.txt"
    args = ["annotate", "--model", "rules", "--segmenter", "rules", str(bulletins), str(missing), "-o", str(out)]
    assert main(args) == 1
    sources = {task["meta"]["source"] for task in json.loads(out.read_text(encoding="utf-8"))}
    assert sources == {str(bulletins / "a.txt"), str(bulletins / "b.txt")}
    assert (
        "missing.txt: cannot read" in caplog.text and "bad.txt" in caplog.text and "empty.txt: no case" in caplog.text
    )
    assert "5 input(s): 3 read, 2 failed, 1 without case units; 3 task(s) from 2 bulletin(s)" in caplog.text


def test_measure_doubt_names_review_margin_threshold_and_rule_disagreement():
    unit = CaseUnit("a.txt", 1, 0, 4, "案例一。")
    scores = LabelScores({"hacking": 0.5, "filing": 0.42, "real_name": 0.08}, {"fine": 0.55, "warning": 0.1}, {})
    model = Prediction(unit, "hacking", 0.5, ("fine",), scores.penalties, "fine", "individual", 0.9, True)
    rules = Prediction(unit, "filing", 0.9, ("fine",), scores.penalties, "fine", "individual", 0.9)
    doubt = measure_doubt([(model, scores)], {"fine": 0.5}, 0.5, [rules])
    assert doubt.describe() == (
        "needs_review units: 1; offense margin 0.08; penalty score 0.05 from its threshold; "
        "model and rules disagree on offense"
    )


def test_pick_bulletins_puts_flagged_then_narrow_margins_first():
    sure = Doubt(0, (), 0.9, 0.4)
    narrow = Doubt(0, (), 0.1, 0.4)
    flagged = Doubt(2, (), 0.9, 0.4)
    doubts = [("a", sure), ("b", narrow), ("c", flagged)]
    assert [pick.position for pick in pick_bulletins(doubts, 2, "uncertainty", 0)] == [2, 1]
