"""Learning from real units, temperatures and the needs_review flag (issue 12)."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from data.output import RecordWriter
from data.types import GoldCase, LabelScores
from eval.harness import review_figures
from eval.metrics import encode_cases
from models.calibration import Calibration, offense_margin
from models.predictor import Predictor
from models.rules import RuleLabeler
from training.calibration import fit_calibration
from training.config import load_config
from training.train import train

UNITS = Path(__file__).parent / "fixtures" / "units.jsonl"


def _tfidf_config(tmp_path: Path, *overrides: str):
    return load_config(
        None, ["--model.model_type", "tfidf", "--training.output_dir", str(tmp_path / "model"), *overrides]
    )


def _authored_copy(tmp_path: Path) -> Path:
    """The fixture units under other bulletin names, standing in for the authored corpus."""
    path = tmp_path / "authored.jsonl"
    lines = [json.loads(line) for line in UNITS.read_text(encoding="utf-8").splitlines()]
    path.write_text("".join(json.dumps(r | {"doc": "a-" + r["doc"]}) + "\n" for r in lines), encoding="utf-8")
    return path


def test_train_validates_on_real_units_and_oversamples_the_rest(tmp_path):
    config = _tfidf_config(
        tmp_path,
        *("--data.train", f"[{_authored_copy(tmp_path)}]", "--data.real", f"[{UNITS}]"),
        *("--data.real_validation_fraction", "0.25", "--data.real_oversample", "3"),
    )
    summary = train(config).summary
    assert summary["validation_source"] == "real"
    assert summary["validation_cases"] == 2  # one of the four real bulletins, two units each
    assert summary["real_train_cases"] == 6
    assert summary["train_cases"] == 8 + 3 * 6


def test_train_without_the_real_data_trains_on_the_rest(tmp_path, caplog):
    config = _tfidf_config(tmp_path, "--data.train", f"[{UNITS}]", "--data.real", f"[{tmp_path / 'absent'}]")
    summary = train(config).summary
    assert summary["real_train_cases"] == 0 and summary["validation_source"] == "train split"
    assert "absent not found" in caplog.text


def test_train_saves_calibration_and_predictions_carry_needs_review(tmp_path):
    config = _tfidf_config(tmp_path, "--data.train", f"[{_authored_copy(tmp_path)}]", "--data.real", f"[{UNITS}]")
    predictor = Predictor.from_pretrained(train(config).model_dir)
    assert predictor.calibration.offense_temperature > 0
    prediction = predictor.predict_units(["某公司未落实网络日志留存制度，公安机关对其处以警告。"])[0]
    assert isinstance(prediction.to_dict()["needs_review"], bool)


def test_temperature_keeps_the_label_and_softens_the_score(label_set):
    scores = RuleLabeler(label_set).score_texts(["张某非法获取公民个人信息，被刑事拘留。"])[0]
    softened = Calibration(offense_temperature=3.0).apply(scores)
    top = max(scores.offense, key=scores.offense.get)
    assert max(softened.offense, key=softened.offense.get) == top
    assert softened.offense[top] < scores.offense[top]
    assert softened.penalties == scores.penalties


def test_calibration_flags_a_close_offense_call_and_a_penalty_near_its_threshold(label_set):
    offense = dict.fromkeys(label_set.offenses, 0.0) | {"hacking": 0.5, "filing": 0.4}
    penalties = dict.fromkeys(label_set.penalties, 0.05)
    party = dict.fromkeys(label_set.parties, 1 / len(label_set.parties))
    calibration = Calibration(offense_margin=0.2, penalty_band=0.1)
    assert calibration.needs_review(LabelScores(offense, penalties, party), {}, 0.5)
    clear = offense | {"hacking": 0.9, "filing": 0.1}
    assert not calibration.needs_review(LabelScores(clear, penalties, party), {}, 0.5)
    assert calibration.needs_review(LabelScores(clear, penalties | {"fine": 0.55}, party), {}, 0.5)
    assert offense_margin(clear) == pytest.approx(0.8)


def test_fit_calibration_flags_the_wrong_close_calls_within_the_share(label_set):
    def case(offense: str) -> GoldCase:
        return GoldCase(doc="d", text="t", offense=offense, penalties=())

    def scores(top: str, runner_up: str, margin: float) -> LabelScores:
        offense = dict.fromkeys(label_set.offenses, 0.0) | {top: 0.5 + margin / 2, runner_up: 0.5 - margin / 2}
        return LabelScores(
            offense, dict.fromkeys(label_set.penalties, 0.05), {p: float(p == "individual") for p in label_set.parties}
        )

    gold = [case("hacking")] * 8 + [case("filing")] * 2
    predicted = [scores("hacking", "filing", 0.8)] * 8 + [scores("hacking", "filing", 0.1)] * 2  # close calls wrong
    calibration = fit_calibration(gold, predicted, Predictor(RuleLabeler(label_set)), 0.95, 0.25)
    assert 0.1 < calibration.offense_margin <= 0.8


def test_needs_review_reaches_every_output_format(tmp_path, label_set):
    predictor = Predictor(RuleLabeler(label_set), calibration=Calibration(offense_margin=1.0))
    record = predictor.predict_units(["某公司未备案。对其处以警告。"])[0].to_dict()
    assert record["needs_review"] is True
    with RecordWriter(tmp_path / "cases.csv") as writer:
        writer.write(record)
    with open(tmp_path / "cases.csv", encoding="utf-8-sig") as handle:
        assert next(csv.DictReader(handle))["needs_review"] == "True"


def test_review_figures_score_only_the_unflagged_units(label_set):
    gold = [GoldCase(doc="d", text="t", offense="hacking", penalties=(), party="individual")] * 2
    predictor = Predictor(RuleLabeler(label_set))
    right, wrong = predictor.predict_units(["黑客张某非法侵入计算机信息系统。", "某公司未备案。"])
    arrays = encode_cases(gold, [right, wrong], label_set)
    figures = review_figures(np.array([False, True]), np.array([True, True]), arrays)
    assert figures["flagged_share"] == 0.5
    assert figures["unflagged_offense_accuracy"] == float(right.offense == "hacking")


def test_rule_rates_replace_the_constants_and_shrink_towards_them(label_set):
    from models.fusion import rate_rules
    from training.calibration import fit_rule_rates

    texts = ["某公司未备案。对其处以警告。"] * 6
    rules = RuleLabeler(label_set).score_texts(texts)
    assert rules[0].penalties["warning"] > 0.5  # the cue fires
    gold = [GoldCase(doc="d", text=t, offense="filing", penalties=("warning",) if i < 3 else ()) for i, t in
            enumerate(texts)]  # fmt: skip
    rates = fit_rule_rates(gold, rules)
    assert 0.5 < rates["warning"][1] < 0.95  # right half the time: lower, but shrunk towards 0.95
    assert rate_rules(rules[0], rates).penalties["warning"] == rates["warning"][1]
    assert rate_rules(rules[0], {}).penalties == rules[0].penalties
