from pathlib import Path

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


def test_grouped_folds_keep_each_bulletin_in_one_fold(label_set):
    from data.formats import load_cases
    from training.splits import grouped_folds

    cases, _ = load_cases([UNITS], label_set)
    seen = {}
    for fold, (_, test) in enumerate(grouped_folds(cases, 2, seed=1)):
        for i in test:
            assert seen.setdefault(cases[i].doc, fold) == fold
    assert len(seen) == len({c.doc for c in cases})
