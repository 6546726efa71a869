from pathlib import Path

from training.config import load_config
from training.cv import cross_validate

UNITS = str(Path(__file__).parent / "fixtures" / "units.jsonl")


def test_cv_scores_model_and_rules_on_the_same_folds(tmp_path):
    config = load_config(None, ["--model.model_type", "tfidf", "--data.validation_fraction", "0"])
    summary = cross_validate(config, [UNITS], folds=2, output_dir=str(tmp_path))
    assert len(summary["folds"]) == 2
    assert sum(f["test_cases"] for f in summary["folds"]) == 8
    assert set(summary["pooled"]) == {"tfidf", "rules"}
    assert "grouped by bulletin" in summary["note"]
    assert 0.0 <= summary["pooled"]["rules"]["offense_accuracy"] <= 1.0


def test_grouped_folds_keep_each_bulletin_in_one_fold(label_set):
    from data.formats import load_cases
    from training.splits import grouped_folds

    cases, _ = load_cases([UNITS], label_set)
    seen = {}
    for fold, (_, test) in enumerate(grouped_folds(cases, 2, seed=1)):
        for i in test:
            assert seen.setdefault(cases[i].doc, fold) == fold
    assert len(seen) == len({c.doc for c in cases})
