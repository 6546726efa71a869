"""Chinese label names: the `zh:` names of a label set, `LabelSet.display`, `--lang`, and the outputs showing them."""

import csv
import json

import pytest
import yaml

from cli import main
from data.errors import PenaltyError
from data.labels import DEFAULT_LABEL_SET, LabelSet
from models.predictor import Predictor
from models.store import read_meta, write_meta

# Written for these tests, not taken from a real bulletin: one unit, punished with administrative detention.
BULLETIN = (
    "某县公安局通报网络谣言案例\n\n"
    "案例一：李某编造传播网络谣言案\n"
    "2024年3月，李某在微信群中编造虚假疫情信息，造成不良社会影响，公安机关依法对其处以行政拘留五日。\n"
)
# The default label set's fingerprint before it had names: models trained then must keep loading.
FINGERPRINT_BEFORE_NAMES = "796bc595c7cf2d46"


def _without_names(raw: dict) -> dict:
    """The same label set as written before names existed (party a plain list)."""
    stripped = dict(raw)
    for key in ("offense", "penalties"):
        stripped[key] = [{k: v for k, v in entry.items() if k != "zh"} for entry in raw[key]]
    stripped["party"] = [entry["name"] for entry in raw["party"]]
    return stripped


@pytest.fixture
def bulletin(tmp_path):
    path = tmp_path / "rumour.txt"
    path.write_text(BULLETIN, encoding="utf-8")
    return path


@pytest.fixture
def unnamed_label_set_file(tmp_path):
    raw = yaml.safe_load(DEFAULT_LABEL_SET.read_text(encoding="utf-8"))
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(_without_names(raw), allow_unicode=True), encoding="utf-8")
    return path


def test_label_set_default_names_every_label_in_chinese(label_set):
    assert label_set.display("offense", "security_duty", "zh") == "未履行网络安全保护义务"
    assert label_set.display("penalty", "admin_detention", "zh") == "行政拘留"
    assert label_set.display("penalty", "confiscation", "zh") == "没收违法所得"
    assert label_set.display("party", "organization", "zh") == "单位"
    kinds = {"offense": label_set.offenses, "penalty": label_set.penalties, "party": label_set.parties}
    unnamed = [(k, x) for k, labels in kinds.items() for x in labels if label_set.display(k, x, "zh") == x]
    assert unnamed == []


def test_label_set_display_en_gives_identifiers(label_set):
    assert label_set.display("penalty", "admin_detention", "en") == "admin_detention"
    assert label_set.display("party", "both", "en") == "both"


def test_label_set_display_rejects_unknown_language(label_set):
    with pytest.raises(ValueError, match="lang"):
        label_set.display("offense", "other", "fr")


def test_label_set_without_names_falls_back_to_identifiers(unnamed_label_set_file):
    mine = LabelSet.load(unnamed_label_set_file)
    assert not mine.has_names
    assert mine.display("penalty", "admin_detention", "zh") == "admin_detention"


def test_label_set_names_do_not_change_fingerprint(label_set, unnamed_label_set_file):
    assert label_set.fingerprint == LabelSet.load(unnamed_label_set_file).fingerprint == FINGERPRINT_BEFORE_NAMES


def test_label_set_names_survive_round_trip(label_set):
    again = LabelSet.from_dict(label_set.to_dict())
    assert again.display("penalty", "admin_detention", "zh") == "行政拘留"
    assert again.display("party", "both", "zh") == "单位和个人"


def test_label_set_rejects_empty_name():
    raw = {"offense": [{"name": "a", "zh": ""}], "penalties": ["p"], "party": ["x"]}
    with pytest.raises(PenaltyError, match="zh names must be non-empty strings"):
        LabelSet.from_dict(raw)


def test_read_meta_gives_unnamed_model_labels_the_default_names(tmp_path, unnamed_label_set_file):
    write_meta(tmp_path, "tfidf", LabelSet.load(unnamed_label_set_file), {}, {})
    assert "zh" not in (tmp_path / "labels.yaml").read_text(encoding="utf-8")
    _, labels = read_meta(tmp_path)
    assert labels.display("penalty", "admin_detention", "zh") == "行政拘留"


def test_label_set_keeps_no_names_when_labels_differ(label_set):
    other = LabelSet.from_dict({"offense": ["a"], "penalties": ["p"], "party": ["x"]})
    assert not other.with_names_of(label_set).has_names


def test_predict_csv_has_identifier_and_name_columns(bulletin, tmp_path):
    output = tmp_path / "cases.csv"
    assert main(["-q", "predict", "--model", "rules", str(bulletin), "-o", str(output)]) == 0
    header, row = list(csv.reader(output.open(encoding="utf-8-sig")))
    assert header[4:9] == ["offense", "offense_name", "offense_score", "penalties", "penalty_names"]
    assert header[12:14] == ["party", "party_name"]
    assert row[4:6] == ["rumor_and_cyberbullying", "网络谣言与网络暴力"]
    assert row[7:9] == ["admin_detention", "行政拘留"]
    assert row[12:14] == ["individual", "个人"]


def test_predict_xlsx_has_name_columns(bulletin, tmp_path):
    from openpyxl import load_workbook

    output = tmp_path / "cases.xlsx"
    assert main(["-q", "predict", "--model", "rules", str(bulletin), "-o", str(output)]) == 0
    header, row = load_workbook(output).active.iter_rows(values_only=True)
    assert dict(zip(header, row, strict=True))["penalty_names"] == "行政拘留"


def test_predict_jsonl_keeps_identifiers_and_adds_names(bulletin, capsys):
    assert main(["-q", "predict", "--model", "rules", str(bulletin)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["penalties"] == ["admin_detention"] and record["penalty_names"] == ["行政拘留"]
    assert record["offense_name"] == "网络谣言与网络暴力" and record["party_name"] == "个人"


def test_predict_lang_en_gives_identifiers_as_names(bulletin, capsys):
    assert main(["-q", "predict", "--model", "rules", "--lang", "en", str(bulletin)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["penalty_names"] == ["admin_detention"] and record["party_name"] == "individual"


def test_predict_readable_shows_names(bulletin, capsys):
    assert main(["-q", "predict", "--model", "rules", "--readable", str(bulletin)]) == 0
    out = capsys.readouterr().out
    assert "offense 网络谣言与网络暴力" in out and "penalties 行政拘留" in out and "party 个人" in out


def test_predict_readable_shows_no_score_for_the_rules(bulletin, capsys):
    """The rules' scores are cue weights, not probabilities (``Predictor.probabilities``): no "(0.93)" after a name."""
    assert main(["-q", "predict", "--model", "rules", "--readable", str(bulletin)]) == 0
    assert "offense 网络谣言与网络暴力; penalties" in capsys.readouterr().out


def test_readable_shows_the_offense_score_of_a_model_with_probabilities(bulletin, label_set, capsys):
    from data.output import RecordWriter

    predictor = Predictor.from_pretrained("rules", label_set)
    record = predictor.record(predictor.predict_bulletin(BULLETIN)[0], "zh")
    with RecordWriter(None, readable=True, probabilities=True) as out:
        out.write(record)
    assert f"offense 网络谣言与网络暴力 ({record['offense_score']:.2f}); penalties" in capsys.readouterr().out


def test_predict_writes_the_primary_penalty_name_beside_its_identifier(bulletin, tmp_path, capsys):
    assert main(["-q", "predict", "--model", "rules", str(bulletin)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["primary_penalty"] == "admin_detention" and record["primary_penalty_name"] == "行政拘留"
    output = tmp_path / "cases.csv"
    assert main(["-q", "predict", "--model", "rules", "--lang", "en", str(bulletin), "-o", str(output)]) == 0
    header, row = list(csv.reader(output.open(encoding="utf-8-sig")))
    assert header[9:11] == ["primary_penalty", "primary_penalty_name"] and row[9:11] == ["admin_detention"] * 2


def test_label_set_names_no_penalty_in_chinese(label_set):
    assert label_set.display("penalty", "none", "zh") == "无" and label_set.display("penalty", "none", "en") == "none"


def test_predict_own_label_set_without_names_shows_identifiers(bulletin, unnamed_label_set_file, capsys):
    argv = ["-q", "predict", "--model", "rules", "--label-set", str(unnamed_label_set_file), str(bulletin)]
    assert main(argv) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["penalty_names"] == ["admin_detention"] and record["offense_name"] == "rumor_and_cyberbullying"


def test_web_predict_returns_names(label_set):
    from fastapi.testclient import TestClient

    from web.app import create_app

    client = TestClient(create_app(Predictor.from_pretrained("rules", label_set)))
    case = client.post("/predict", json={"text": BULLETIN, "source": "demo"}).json()["cases"][0]
    assert case["penalties"] == ["admin_detention"] and case["penalty_names"] == ["行政拘留"]
    assert case["party_name"] == "个人"


@pytest.fixture
def gold_dir(tmp_path):
    """An annotated bulletin (text + gold JSONL) whose one unit is punished with administrative detention."""
    data = tmp_path / "gold"
    data.mkdir()
    (data / "rumour.txt").write_text(BULLETIN, encoding="utf-8")
    unit = BULLETIN[BULLETIN.index("案例一") :].rstrip("\n")
    gold = {
        "doc": "rumour",
        "text": unit,
        "offense": "rumor_and_cyberbullying",
        "penalties": ["admin_detention"],
        "fine_amounts": [],
        "party": "individual",
    }
    (data / "rumour.jsonl").write_text(json.dumps(gold, ensure_ascii=False) + "\n", encoding="utf-8")
    return data


def test_evaluate_report_shows_names_and_metrics_keep_identifiers(gold_dir, tmp_path, monkeypatch):
    import eval.figures

    monkeypatch.setattr(eval.figures, "cjk_font", lambda: None)  # as on a machine without a CJK font
    report = tmp_path / "report"
    argv = ["-q", "evaluate", "--model", "rules", "--data", str(gold_dir), "--bootstrap", "0", "--report", str(report)]
    assert main(argv) == 0
    page = (report / "report.html").read_text(encoding="utf-8")
    assert "<tr><td>行政拘留</td>" in page and "<tr><td>网络谣言与网络暴力</td>" in page
    assert "No font with Chinese glyphs" in page
    metrics = json.loads((report / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["label_set"]["penalties"][4] == "admin_detention"
    assert metrics["label_set"]["names"]["penalty"]["admin_detention"] == "行政拘留"


def test_evaluate_lang_en_report_shows_identifiers(gold_dir, tmp_path):
    report = tmp_path / "report"
    argv = ["-q", "evaluate", "--model", "rules", "--data", str(gold_dir), "--bootstrap", "0", "--lang", "en"]
    assert main([*argv, "--report", str(report)]) == 0
    page = (report / "report.html").read_text(encoding="utf-8")
    assert "<tr><td>admin_detention</td>" in page and "行政拘留" not in page
    assert "No font with Chinese glyphs" not in page


def test_figures_draw_names_only_with_a_cjk_font(monkeypatch):
    import eval.figures

    monkeypatch.setattr(eval.figures, "cjk_font", lambda: None)
    assert eval.figures.can_draw(["admin_detention"]) and not eval.figures.can_draw(["行政拘留"])
    monkeypatch.setattr(eval.figures, "cjk_font", lambda: "Noto Sans CJK SC")
    assert eval.figures.can_draw(["行政拘留"])
