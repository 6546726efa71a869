from pathlib import Path

import pytest

from training.config import load_config
from training.cv import cross_validate

UNITS = str(Path(__file__).parent / "fixtures" / "units.jsonl")


def test_cv_scores_model_and_rules_on_the_same_folds(tmp_path, label_set):
    from data.formats import load_cases
    from models.predictor import Predictor

    config = load_config(None, ["--model.model_type", "tfidf", "--data.validation_fraction", "0"])
    summary = cross_validate(config, [UNITS], folds=2, output_dir=str(tmp_path))
    cases, _ = load_cases([UNITS], label_set)
    assert [f["test_cases"] for f in summary["folds"]] and sum(f["test_cases"] for f in summary["folds"]) == len(cases)
    assert sum(f["test_bulletins"] for f in summary["folds"]) == len({c.doc for c in cases})  # each in one fold
    # The rules do not train, so their pooled out-of-fold accuracy is their accuracy on all the data.
    predicted = Predictor.from_pretrained("rules", label_set).predict_units([c.text for c in cases])
    right = sum(p.offense == c.offense for p, c in zip(predicted, cases, strict=True))
    assert summary["pooled"]["rules"]["offense_accuracy"] == round(right / len(cases), 4)
    assert set(summary["pooled"]) == {"tfidf", "rules"}


def test_cv_writes_every_out_of_fold_prediction_and_pools_per_label_f1(tmp_path, label_set):
    import json

    from sklearn.metrics import f1_score

    from data.formats import load_cases
    from models.predictor import Predictor

    config = load_config(None, ["--model.model_type", "tfidf", "--data.validation_fraction", "0"])
    summary = cross_validate(config, [UNITS], folds=2, output_dir=str(tmp_path))
    cases, _ = load_cases([UNITS], label_set)
    records = [json.loads(line) for line in (tmp_path / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(r["gold"]["text"] for r in records) == sorted(c.text for c in cases)
    assert {r["fold"] for r in records} == {0, 1}
    assert all(set(r["predicted"]) == {"tfidf", "rules"} for r in records)
    # The rules do not train: their pooled per-label F1 is scikit-learn's on all the data.
    predicted = Predictor.from_pretrained("rules", label_set).predict_units([c.text for c in cases])
    gold = [c.offense for c in cases]
    f1 = f1_score(gold, [p.offense for p in predicted], labels=sorted(set(gold)), average=None, zero_division=0)
    assert summary["per_label_f1"]["rules"]["offense"] == pytest.approx(
        dict(zip(sorted(set(gold)), f1, strict=True)), abs=1e-4
    )
    rules = summary["pooled"]["rules"]
    assert rules["flagged_share"] == round(sum(p.needs_review for p in predicted) / len(predicted), 4)
    assert 0.0 <= rules["offense_ece"] <= 1.0


def test_grouped_folds_keep_each_bulletin_in_one_fold(label_set):
    from data.formats import load_cases
    from training.splits import grouped_folds

    cases, _ = load_cases([UNITS], label_set)
    seen = {}
    for fold, (_, test) in enumerate(grouped_folds(cases, 2, seed=1)):
        for i in test:
            assert seen.setdefault(cases[i].doc, fold) == fold
    assert len(seen) == len({c.doc for c in cases})
