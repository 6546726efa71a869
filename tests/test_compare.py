"""``penalty compare --model OLD --model NEW``: the units whose labels changed, each a fix or a regression against
gold. Expected changes are worked out by hand (stub models) or from ``penalty predict`` run on each model alone."""

import contextlib
import csv
import io
import json
import re
from pathlib import Path

import pytest

from cli import main
from data.types import CaseUnit, GoldCase, Prediction
from eval.compare import ComparedUnit, compare_predictors, compare_units
from training.config import load_config
from training.train import train

UNITS = Path(__file__).parent / "fixtures" / "units.jsonl"
FIELDS = ("offense", "penalties", "party")
# Invented for this test (no real bulletin): two cases after a SOURCE header.
BULLETIN = (
    "SOURCE: https://example.org/a\n---\n某区公安分局通报两起网络安全案例\n\n"
    "案例一：某科技公司未落实日志留存制度案\n民警检查发现该公司网站日志仅留存十天。公安机关对该公司处以警告，并处罚款一万元。\n\n"
    "案例二：王某使用翻墙软件案\n王某通过翻墙软件访问境外网站，公安机关对其给予警告。\n"
)


class StubPredictor:
    """Labels each text as a table says: the stand-in for a model, so the expected changes are known exactly."""

    def __init__(self, name: str, table: dict[str, tuple[str, tuple[str, ...], str]], label_set) -> None:
        self.name, self.table, self.label_set = name, table, label_set

    def predict_units(self, texts: list[str]) -> list[Prediction]:
        return [self._label(CaseUnit("", i, 0, len(t), t)) for i, t in enumerate(texts, start=1)]

    def predict_bulletins(self, bulletins) -> list[list[Prediction]]:
        raise AssertionError("gold units are labelled directly, never segmented")

    def _label(self, unit: CaseUnit) -> Prediction:
        offense, penalties, party = self.table[unit.text]
        return Prediction(unit, offense, 0.9, penalties, {}, "", party, 0.9)


# text: (gold, OLD, NEW); the expected verdicts are in the test below.
CASES = {
    "甲单位未备案。": (("filing", ("warning",), "organization"),) * 3,
    "乙某翻墙。": (
        ("vpn_circumvention", ("warning",), "individual"),
        ("hacking", ("warning",), "individual"),
        ("vpn_circumvention", ("warning",), "individual"),
    ),
    "丙公司未实名。": (
        ("real_name", ("fine",), "organization"),
        ("real_name", ("fine",), "organization"),
        ("real_name", ("fine",), "individual"),
    ),
    "丁某入侵网站。": (
        ("hacking", ("admin_detention",), "individual"),
        ("other", ("admin_detention",), "individual"),
        ("hacking", ("warning",), "individual"),
    ),
    "戊单位未留存日志。": (
        ("security_duty", ("warning",), "organization"),
        ("security_duty", ("warning",), "organization"),
        ("security_duty", ("warning", "fine"), "organization"),
    ),
    "己某传播淫秽视频。": (
        ("pornography", ("admin_detention",), "individual"),
        ("other", ("admin_detention",), "individual"),
        ("illegal_content", ("admin_detention",), "individual"),
    ),
}


@pytest.fixture(scope="module")
def tfidf_models(tmp_path_factory) -> tuple[Path, Path]:
    """Two TF-IDF models on the fixture units (the second without class weights): OLD and NEW for the CLI."""
    out = tmp_path_factory.mktemp("models")
    base = ["--model.model_type", "tfidf", "--data.train", f"[{UNITS}]", "--data.real", "[]"]
    base += ["--data.validation_fraction", "0"]
    old = train(load_config(None, [*base, "--training.output_dir", str(out / "old")])).model_dir
    new = train(load_config(None, [*base, "--model.class_weights", "none", "--training.output_dir", str(out / "new")]))
    return old, new.model_dir


def test_compare_units_calls_each_change_a_fix_regression_mixed_still_wrong_or_unknown(tmp_path, label_set):
    gold_path = tmp_path / "gold.jsonl"
    lines = []
    for text, ((offense, penalties, party), _, _) in CASES.items():
        complete = text != "戊单位未留存日志。"  # its penalties were not all listed: they cannot be judged
        record = {"doc": "g", "text": text, "offense": offense, "penalties": list(penalties), "party": party}
        lines.append(json.dumps(record | {"complete": complete}, ensure_ascii=False))
    gold_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    old = StubPredictor("old", {t: v[1] for t, v in CASES.items()}, label_set)
    new = StubPredictor("new", {t: v[2] for t, v in CASES.items()}, label_set)
    comparison = compare_predictors(old, new, [str(gold_path)], label_set)
    assert [(c.unit.text, c.verdicts, c.verdict) for c in comparison.changes] == [
        ("乙某翻墙。", {"offense": "fix"}, "fix"),
        ("丙公司未实名。", {"party": "regression"}, "regression"),
        ("丁某入侵网站。", {"offense": "fix", "penalties": "regression"}, "mixed"),
        ("戊单位未留存日志。", {"penalties": "unknown"}, "unknown"),
        ("己某传播淫秽视频。", {"offense": "still wrong"}, "still wrong"),
    ]
    summary = comparison.summary()
    assert (summary["units"], summary["units_with_gold"], summary["changed"]) == (6, 6, 5)
    assert [summary[v] for v in ("fix", "regression", "mixed", "still wrong", "unknown", "no gold")] == [
        1,
        1,
        1,
        1,
        1,
        0,
    ]
    assert summary["by_field"] == {
        "offense": {"changed": 3, "fix": 2, "regression": 0},
        "penalties": {"changed": 2, "fix": 0, "regression": 1},
        "party": {"changed": 1, "fix": 0, "regression": 1},
    }
    assert comparison.describe().startswith(
        "old -> new: 6 unit(s) compared (6 with gold): 5 changed: 1 fix(es), 1 regression(s), 1 mixed"
    )


def test_compare_units_treats_penalties_as_a_set():
    unit = CaseUnit("", 1, 0, 2, "案例")
    before = Prediction(unit, "other", 0.9, ("fine", "warning"), {}, "", "individual", 0.9)
    after = Prediction(unit, "other", 0.9, ("warning", "fine"), {}, "", "individual", 0.9)
    gold = GoldCase("g", "案例", "other", ("warning",), party="individual")
    assert compare_units([ComparedUnit("g", "案例", gold=gold)], [before], [after]) == []


def _predict(model: Path | str, *args: str) -> list[dict]:
    """``penalty predict`` of one model alone: the independent record of what each model says."""
    return [json.loads(line) for line in _stdout(["predict", "--model", str(model), *args]).splitlines()]


def _stdout(argv: list[str]) -> str:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(argv) == 0
    return buffer.getvalue()


def _expected_changes(old: list[dict], new: list[dict], gold: list[dict | None]) -> list[tuple]:
    rows = []
    for before, after, right in zip(old, new, gold, strict=True):

        def same(a: dict, b: dict, name: str) -> bool:
            return set(a[name]) == set(b[name]) if name == "penalties" else a[name] == b[name]

        changed = [name for name in FIELDS if not same(before, after, name)]
        if not changed:
            continue
        verdicts = []
        for name in changed:
            if right is None:
                verdicts.append("no gold")
            else:
                was, now = same(before, right, name), same(after, right, name)
                verdicts.append("fix" if now and not was else "regression" if was and not now else "still wrong")
        rows.append((after["text"], changed, verdicts))
    return rows


def _csv_change(row: dict) -> tuple:
    changed = row["changed"].split(";")  # a CSV cell joins a list with ';'
    return row["text"], changed, [row[f"{name}_verdict"] for name in changed]


def test_compare_cli_on_gold_writes_the_changes_as_csv(tfidf_models, tmp_path, capsys):
    old, new = "rules", tfidf_models[1]
    gold = [json.loads(line) for line in UNITS.read_text(encoding="utf-8").splitlines()]
    expected = _expected_changes(_predict(old, "--units", str(UNITS)), _predict(new, "--units", str(UNITS)), gold)
    assert expected  # the two models disagree somewhere, or this test would check nothing
    out = tmp_path / "changes.csv"
    assert main(["compare", "--model", old, "--model", str(new), "--data", str(UNITS), "-o", str(out)]) == 0
    with open(out, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [_csv_change(row) for row in rows] == expected
    assert f"8 unit(s) compared (8 with gold): {len(expected)} changed: " in capsys.readouterr().err


def test_compare_cli_on_bulletins_compares_the_units_old_finds(tfidf_models, tmp_path, capsys):
    (tmp_path / "a.txt").write_text(BULLETIN, encoding="utf-8")
    old, new = "rules", tfidf_models[1]
    args = [str(tmp_path / "a.txt"), "--segmenter", "rules"]
    before, after = _predict(old, *args), _predict(new, *args)
    assert [(b["start"], b["end"]) for b in before] == [(a["start"], a["end"]) for a in after]
    expected = _expected_changes(before, after, [None] * len(before))
    argv = ["compare", "--model", old, "--model", str(new), "--data", str(tmp_path / "a.txt"), "--segmenter", "rules"]
    records = [json.loads(line) for line in _stdout(argv).splitlines()]
    assert [(r["text"], r["changed"], [r[f"{n}_verdict"] for n in r["changed"]]) for r in records] == expected
    assert all(BULLETIN[r["start"] : r["end"]] == r["text"] and r["verdict"] == "no gold" for r in records)
    assert f"{len(before)} unit(s) compared (0 with gold): {len(expected)} changed" in capsys.readouterr().err


def test_compare_cli_needs_exactly_two_models(capsys):
    assert main(["compare", "--model", "rules", "--data", str(UNITS)]) == 1
    assert "--model OLD --model NEW" in capsys.readouterr().err


def test_evaluate_two_models_shows_bootstrap_intervals_for_each(tfidf_models):
    old, new = tfidf_models
    argv = ["evaluate", "--model", str(old), "--model", str(new), "--data", str(UNITS), "--bootstrap", "50"]
    table = _stdout(argv)
    for model in (old, new):
        row = next(line for line in table.splitlines() if line.startswith(f"| {model} |"))
        assert len(re.findall(r"\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]", row)) >= 4  # offense, penalty, fully correct…
