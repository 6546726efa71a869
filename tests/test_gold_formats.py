import json

import pytest

from data.formats import read_annotations, write_annotations
from data.gold import read_gold_jsonl
from data.types import GoldCase

CASE = {
    "doc": "t1",
    "text": "案例一：张某使用翻墙软件案。公安机关对其给予警告，并处罚款一千元。",
    "offense": "vpn_circumvention",
    "penalties": ["warning", "fine"],
    "fine_amounts": [1000],
    "party": "individual",
    "complete": True,
}


def _write_lines(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_gold_reader_reports_malformed_line_and_keeps_the_rest(tmp_path, label_set):
    other = CASE | {"text": "案例二：李某使用翻墙软件案。公安机关对其给予警告。"}
    path = _write_lines(tmp_path / "g.jsonl", [json.dumps(CASE, ensure_ascii=False), "{not json", json.dumps(other)])
    loaded = read_gold_jsonl(path, label_set)
    assert len(loaded.cases) == 2
    assert len(loaded.problems) == 1 and f"{path}:2" in loaded.problems[0]


def test_gold_reader_names_file_line_and_unknown_label(tmp_path, label_set):
    path = _write_lines(tmp_path / "g.jsonl", [json.dumps(CASE | {"penalties": ["fines"]})])
    loaded = read_gold_jsonl(path, label_set)
    assert loaded.cases == [] and "unknown penalty 'fines'" in loaded.problems[0] and f"{path}:1" in loaded.problems[0]


def test_gold_reader_rejects_non_integer_fines(tmp_path, label_set):
    path = _write_lines(tmp_path / "g.jsonl", [json.dumps(CASE | {"fine_amounts": ["1000"]})])
    assert "fine_amounts" in read_gold_jsonl(path, label_set).problems[0]


@pytest.mark.parametrize("fmt", ["labelstudio", "doccano", "gold"])
def test_formats_round_trip_every_field(tmp_path, label_set, fmt):
    cases = [
        GoldCase.from_dict(CASE, label_set, "x"),
        GoldCase.from_dict(
            CASE | {"text": "案例二：李某翻墙案。", "complete": False, "penalties": []}, label_set, "y"
        ),
    ]
    path = tmp_path / f"out.{fmt}"
    write_annotations(cases, path, fmt)
    loaded = read_annotations(path, label_set)
    assert loaded.problems == [] and loaded.cases == cases


def test_formats_label_studio_unknown_choice_is_reported(tmp_path, label_set):
    path = tmp_path / "ls.json"
    write_annotations([GoldCase.from_dict(CASE, label_set, "x")], path, "labelstudio")
    path.write_text(path.read_text(encoding="utf-8").replace("vpn_circumvention", "vpn"), encoding="utf-8")
    loaded = read_annotations(path, label_set)
    assert loaded.cases == [] and "unknown offense 'vpn'" in loaded.problems[0] and "task 1" in loaded.problems[0]


def test_cli_validate_prints_file_line_and_fails(tmp_path, capsys):
    from cli import main

    path = _write_lines(tmp_path / "g.jsonl", [json.dumps(CASE), json.dumps(CASE | {"offense": "hackers"})])
    assert main(["data", "validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:2" in err and "hackers" in err
