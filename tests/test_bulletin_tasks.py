"""Bulletin-level annotation tasks (``penalty annotate --task-per bulletin``): a region per case unit over the whole
bulletin, and every annotator decision (deleted, added, re-bounded units; labels; who, when; relations) read back.

The Label Studio exports here are written by hand in the shapes Label Studio exports (``annotations[].result[]`` with
``id``/``from_name``/``to_name``/``type``/``value``, ``completed_by``, ``created_at``, ``lead_time``,
``predictions[]``), not produced by the code under test; expected offsets come from ``str.index`` on the text.
"""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from cli import main
from data.annotated import load_annotated_dir
from data.formats import read_annotations
from data.gold import read_gold_jsonl
from data.types import GoldCase

# Invented for these tests (no real bulletin).
UNIT_1 = (
    "案例一：某科技公司未落实日志留存制度案\n"
    "民警检查发现该公司网站日志仅留存十天。公安机关依据《中华人民共和国网络安全法》第五十九条对该公司处以警告，"
    "并处罚款一万元。"
)
UNIT_2 = "案例二：王某使用翻墙软件案\n王某通过翻墙软件访问境外网站，公安机关对其给予警告。"
BULLETIN = f"SOURCE: https://example.org/a\n---\n某区公安分局通报两起网络安全案例\n\n{UNIT_1}\n\n{UNIT_2}\n"

# A hand-made export: the model predicted three units; the annotator re-bounded the first, relabelled the second,
# deleted the third and drew its replacement (with a relation to it), added a fourth the model missed, and marked a
# title without choosing an offense.
TITLE = "某市网安支队通报三起案例"
BODY_1 = "民警检查发现该公司网站日志仅留存十天。公安机关对该公司处以警告，并处罚款一万元。"
CASE_1 = f"案例一：某科技公司未落实日志留存制度案\n{BODY_1}"
CASE_2 = "案例二：王某使用翻墙软件案\n王某通过翻墙软件访问境外网站，公安机关对其给予警告。"
CASE_3 = "案例三：某网吧未落实实名登记制度案\n民警检查发现该网吧未核验上网人员身份。公安机关对该网吧处以警告。"
BODY_3 = "民警检查发现该网吧未核验上网人员身份。公安机关对该网吧处以警告。"
CASE_4 = "案例四：李某非法侵入他人网站后台案\n李某利用漏洞侵入某公司网站后台，被公安机关处以行政拘留五日。"
TEXT = f"SOURCE: https://example.org/c\n---\n{TITLE}\n\n{CASE_1}\n\n{CASE_2}\n\n{CASE_3}\n\n{CASE_4}\n"
ANNOTATOR = {"id": 7, "email": "annotator@example.org", "first_name": "", "last_name": ""}


def _span(text: str, part: str) -> dict:
    start = text.index(part)
    return {"start": start, "end": start + len(part), "text": part}


def _region(region_id: str, text: str, part: str, choices: dict, fines: list[str] | None = None) -> list[dict]:
    """A unit region and its per-region results, as Label Studio exports them (each result carries the region id)."""
    span = _span(text, part)
    results = [
        {
            "id": region_id,
            "from_name": "unit",
            "to_name": "text",
            "type": "labels",
            "value": span | {"labels": ["case"]},
        }
    ]
    results += [
        {"id": region_id, "from_name": name, "to_name": "text", "type": "choices", "value": span | {"choices": values}}
        for name, values in choices.items()
    ]
    if fines is not None:
        value = {"start": span["start"], "end": span["end"], "text": fines}
        results.append(
            {"id": region_id, "from_name": "fine_amounts", "to_name": "text", "type": "textarea", "value": value}
        )
    return results


def _labels(offense: str, penalties: list[str], party: str) -> dict:
    return {"offense": [offense], "penalties": penalties, "party": [party]}


def _hand_export() -> list[dict]:
    predicted = (
        _region("case-1", TEXT, CASE_1, _labels("security_duty", ["warning"], "organization"))
        + _region("case-2", TEXT, CASE_2, _labels("vpn_circumvention", ["warning"], "organization"))
        + _region("case-3", TEXT, CASE_3, _labels("security_duty", ["warning"], "organization"))
    )
    first = _labels("security_duty", ["warning", "fine"], "organization") | {"complete": ["true"]}
    annotated = (
        _region("case-1", TEXT, BODY_1, first, fines=["10,000元"])
        + _region("case-2", TEXT, CASE_2, _labels("vpn_circumvention", ["warning"], "individual"))
        + _region("n3w", TEXT, BODY_3, _labels("real_name", ["warning"], "organization"))
        + _region("add2", TEXT, CASE_4, _labels("hacking", ["admin_detention"], "individual"))
        + _region("add1", TEXT, TITLE, {})
    )
    annotated[0]["origin"] = "prediction-changed"
    annotated.append({"from_id": "n3w", "to_id": "case-3", "type": "relation", "direction": "right", "labels": []})
    annotation = {
        "id": 301,
        "completed_by": ANNOTATOR,
        "result": annotated,
        "was_cancelled": False,
        "ground_truth": False,
        "created_at": "2026-03-02T09:14:05.112233Z",
        "updated_at": "2026-03-02T09:15:29.612233Z",
        "lead_time": 84.5,
        "task": 11,
    }
    skipped = {"id": 302, "completed_by": 7, "result": [], "was_cancelled": True, "lead_time": 3.0, "task": 12}
    return [
        {
            "id": 11,
            "data": {"text": TEXT, "doc": "c"},
            "annotations": [annotation],
            "predictions": [{"model_version": "runs/old", "score": 0.61, "result": predicted}],
        },
        {
            "id": 12,
            "data": {"text": TEXT, "doc": "c2"},
            "annotations": [skipped],
            "predictions": [{"model_version": "runs/old", "score": 0.61, "result": predicted}],
        },
    ]


@pytest.fixture
def hand_export(tmp_path):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(_hand_export(), ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def bulletin(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(BULLETIN, encoding="utf-8")
    return path


def _annotate_bulletins(bulletin, out, *extra) -> int:
    args = ["annotate", "--model", "rules", "--segmenter", "rules", str(bulletin), "-o", str(out)]
    return main([*args, "--task-per", "bulletin", *extra])


def _approved(tasks: list[dict]) -> list[dict]:
    """Each task's predictions submitted unchanged by annotator 1 (Label Studio keeps the pre-filled region ids)."""
    for task in tasks:
        result = json.loads(json.dumps(task["predictions"][0]["result"]))
        task["annotations"] = [
            {"id": 900 + task["id"], "completed_by": 1, "result": result, "lead_time": 12.25, "was_cancelled": False}
        ]
    return tasks


def test_annotate_bulletin_task_holds_the_text_and_a_region_per_unit(bulletin, tmp_path):
    out, config = tmp_path / "tasks.json", tmp_path / "labeling.xml"
    assert _annotate_bulletins(bulletin, out, "--labelstudio-config", str(config)) == 0
    [task] = json.loads(out.read_text(encoding="utf-8"))
    assert task["data"]["text"] == BULLETIN
    result = task["predictions"][0]["result"]
    regions = [r for r in result if r["type"] == "labels"]
    expected = [(BULLETIN.index(u), BULLETIN.index(u) + len(u)) for u in (UNIT_1, UNIT_2)]
    assert [(r["value"]["start"], r["value"]["end"]) for r in regions] == expected
    assert all(r["from_name"] == "unit" and r["value"]["labels"] == ["case"] and r["id"] for r in regions)
    by_id = {r["id"]: {x["from_name"]: x["value"] for x in result if x["id"] == r["id"]} for r in regions}
    first, second = (by_id[r["id"]] for r in regions)
    assert first["offense"]["choices"] == ["security_duty"] and first["penalties"]["choices"] == ["fine", "warning"]
    assert (
        first["fine_amounts"]["text"] == ["10000"] and (first["party"]["start"], first["party"]["end"]) == expected[0]
    )
    assert second["offense"]["choices"] == ["vpn_circumvention"] and "fine_amounts" not in second
    view = ET.fromstring(config.read_text(encoding="utf-8"))
    assert view.find("Labels").attrib == {"name": "unit", "toName": "text"}
    assert [label.get("value") for label in view.find("Labels")] == ["case"]
    assert view.find("Text").attrib == {"name": "text", "value": "$text"}
    controls = view.find("View[@visibleWhen='region-selected']")
    assert {c.get("name"): c.get("perRegion") for c in controls} == {
        "offense": "true",
        "penalties": "true",
        "party": "true",
        "fine_amounts": "true",
        "complete": "true",
    }


def test_annotate_bulletin_task_approved_unchanged_reads_back_as_the_predicted_units(bulletin, tmp_path, label_set):
    out = tmp_path / "tasks.json"
    _annotate_bulletins(bulletin, out)
    export = tmp_path / "export.json"
    export.write_text(json.dumps(_approved(json.loads(out.read_text(encoding="utf-8")))), encoding="utf-8")
    loaded = read_annotations(export, label_set)
    doc = str(bulletin)
    assert loaded.problems == []
    assert loaded.cases == [
        GoldCase(doc, UNIT_1, "security_duty", ("fine", "warning"), (10000,), "organization"),
        GoldCase(doc, UNIT_2, "vpn_circumvention", ("warning",), (), "organization"),
    ]
    provenance = [case.meta["provenance"] for case in loaded.cases]
    assert [(p["bounds"], p["labels_changed"], p["annotator"], p["lead_time"]) for p in provenance] == [
        ("kept", [], {"id": 1}, 12.25),
        ("kept", [], {"id": 1}, 12.25),
    ]


def test_bulletin_export_keeps_every_annotator_decision(hand_export, label_set):
    loaded = read_annotations(hand_export, label_set)
    assert [case.text for case in loaded.cases] == [BODY_1, CASE_2, BODY_3, CASE_4]
    for case in loaded.cases:
        meta = case.meta["provenance"]
        assert TEXT[meta["start"] : meta["end"]] == case.text
    assert [(c.offense, c.penalties, c.fine_amounts, c.party) for c in loaded.cases] == [
        ("security_duty", ("warning", "fine"), (10000,), "organization"),
        ("vpn_circumvention", ("warning",), (), "individual"),
        ("real_name", ("warning",), (), "organization"),
        ("hacking", ("admin_detention",), (), "individual"),
    ]
    provenance = [case.meta["provenance"] for case in loaded.cases]
    assert [p["bounds"] for p in provenance] == ["re-bounded", "kept", "re-bounded", "added"]
    assert [p.get("labels_changed") for p in provenance] == [
        ["penalties", "fine_amounts"],
        ["party"],
        ["offense"],
        None,
    ]
    assert provenance[2]["relations"] == [{"from_id": "n3w", "to_id": "case-3", "direction": "right", "labels": []}]
    assert provenance[2]["predicted"]["region"] == "case-3"
    start_2 = TEXT.index(CASE_2)
    assert provenance[1] == {
        "task": 11,
        "region": "case-2",
        "start": start_2,
        "end": start_2 + len(CASE_2),
        "created_at": "2026-03-02T09:14:05.112233Z",
        "updated_at": "2026-03-02T09:15:29.612233Z",
        "lead_time": 84.5,
        "annotation": 301,
        "annotator": {"id": 7, "email": "annotator@example.org"},
        "bounds": "kept",
        "labels_changed": ["party"],
        "predicted": {
            "region": "case-2",
            "model_version": "runs/old",
            "start": start_2,
            "end": start_2 + len(CASE_2),
            "offense": "vpn_circumvention",
            "penalties": ["warning"],
            "party": "organization",
        },
        "relations": [],
    }
    assert provenance[0]["origin"] == "prediction-changed"
    title = TEXT.index(TITLE)
    assert loaded.problems == [
        f"no offense chosen for the unit at {hand_export}:task 11, unit add1 [{title}:{title + len(TITLE)}] "
        f"({TITLE!r}); choose one in Label Studio, or delete the region if it is no case",
        f"task was skipped by the annotator at {hand_export}:task 12: no submitted annotation",
    ]


def test_bulletin_export_converts_to_gold_that_locates_in_the_bulletin(hand_export, tmp_path, label_set, capsys):
    annotated = tmp_path / "annotated"
    annotated.mkdir()
    (annotated / "c.txt").write_text(TEXT, encoding="utf-8")
    assert main(["data", "convert", str(hand_export), str(annotated / "c.jsonl"), "--to", "gold"]) == 1
    assert "unit add1" in capsys.readouterr().err  # reported, and the other units still written
    lines = [json.loads(line) for line in (annotated / "c.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [line["provenance"]["region"] for line in lines] == ["case-1", "case-2", "n3w", "add2"]
    assert read_gold_jsonl(annotated / "c.jsonl", label_set).cases[2].meta["provenance"]["relations"][0]["to_id"] == (
        "case-3"
    )
    [bulletin] = load_annotated_dir(annotated, label_set)
    assert bulletin.spans == [(line["provenance"]["start"], line["provenance"]["end"]) for line in lines]


def test_bulletin_export_reads_offsets_counted_in_utf16(tmp_path, label_set):
    text = f"SOURCE: https://example.org/d\n---\n网安通报𠮷\n\n{CASE_2}\n"  # 𠮷 (U+20BB7) is two UTF-16 code units
    start = text.index(CASE_2)
    region = _region("r1", text, CASE_2, {"offense": ["vpn_circumvention"], "party": ["individual"]})
    for result in region:  # an older Label Studio counted JavaScript string positions
        result["value"]["start"] += 1
        result["value"]["end"] += 1
    task = {"id": 1, "data": {"text": text, "doc": "d"}, "annotations": [{"completed_by": 1, "result": region}]}
    export = tmp_path / "export.json"
    export.write_text(json.dumps([task], ensure_ascii=False), encoding="utf-8")
    [case] = read_annotations(export, label_set).cases
    assert case.text == CASE_2 and case.meta["provenance"]["start"] == start


def test_bulletin_export_with_offsets_outside_the_text_is_reported(tmp_path, label_set):
    region = _region("r1", TEXT, CASE_2, {"offense": ["vpn_circumvention"]})
    for result in region:
        result["value"]["start"] += 3
        result["value"]["end"] += 3
    task = {"id": 5, "data": {"text": TEXT, "doc": "c"}, "annotations": [{"completed_by": 1, "result": region}]}
    export = tmp_path / "export.json"
    export.write_text(json.dumps([task], ensure_ascii=False), encoding="utf-8")
    loaded = read_annotations(export, label_set)
    assert loaded.cases == [] and len(loaded.problems) == 1
    assert f"{export}:task 5, unit r1" in loaded.problems[0] and "do not fit the bulletin text" in loaded.problems[0]


def test_doccano_bulletin_line_carries_spans_and_reads_back_the_annotators_bounds(bulletin, tmp_path, label_set):
    out = tmp_path / "doccano.jsonl"
    assert _annotate_bulletins(bulletin, out, "--format", "doccano") == 0
    [line] = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    start_1, start_2 = BULLETIN.index(UNIT_1), BULLETIN.index(UNIT_2)
    assert line["text"] == BULLETIN
    assert line["label"] == [[start_1, start_1 + len(UNIT_1), "case"], [start_2, start_2 + len(UNIT_2), "case"]]
    body = UNIT_1.split("\n", 1)[1]  # the annotator drops the first unit's heading, deletes the second, adds the title
    title = "某区公安分局通报两起网络安全案例"
    line["label"] = [[BULLETIN.index(body), BULLETIN.index(body) + len(body), "case"]]
    line["label"].append([BULLETIN.index(title), BULLETIN.index(title) + len(title), "case"])
    out.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    loaded = read_annotations(out, label_set)
    [case] = loaded.cases
    assert (case.text, case.offense, case.penalties, case.fine_amounts) == (
        body,
        "security_duty",
        ("fine", "warning"),
        (10000,),
    )
    assert case.meta["provenance"]["labels_from"] == "model" and case.meta["provenance"]["bounds"] == "re-bounded"
    [problem] = loaded.problems
    assert f"{out}:1, span" in problem and "carries the bounds of case units only" in problem


def test_train_accepts_a_bulletin_level_export(bulletin, tmp_path, capsys):
    tasks = tmp_path / "tasks.json"
    _annotate_bulletins(bulletin, tasks)
    export = tmp_path / "export.json"
    export.write_text(json.dumps(_approved(json.loads(tasks.read_text(encoding="utf-8")))), encoding="utf-8")
    units = str(Path(__file__).parent / "fixtures" / "units.jsonl")
    args = ["train", "--model.model_type", "tfidf", "--data.train", f"[{units}, {export}]", "--data.real", "[]"]
    assert main([*args, "--data.validation_fraction", "0", "--training.output_dir", str(tmp_path / "m")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["train_cases"] == 8 + 2
