"""The model card reports the validation figures as what they are: the split that tuned the model."""

from data.labels import LabelSet
from training.card import write_model_card
from training.config import load_config


def test_card_labels_validation_figures_as_the_tuning_split(tmp_path):
    config = load_config(None, ["--model.model_type", "tfidf", "--model.rule_fusion", "true"])
    summary = {"validation": {"offense_accuracy": 0.8125, "penalty_micro_f1": 0.5}, "validation_source": "data.real"}
    write_model_card(tmp_path, config, LabelSet.load(), summary, {"offense": 0.6, "penalties": 0.0, "party": 1.0})
    card = (tmp_path / "README.md").read_text(encoding="utf-8")
    figures = card[card.index("## Validation figures") : card.index("## Use")]
    assert "(not held out)" in figures.splitlines()[0]
    assert "| offense_accuracy | 0.812 |" in figures and "| penalty_micro_f1 | 0.500 |" in figures
    # what the split chose, for this configuration: no early stopping for TF-IDF, fusion because it is on
    assert "data.real), the same units that chose the penalty thresholds, the rule-fusion weights and" in " ".join(
        figures.split()
    )
    decided = card[card.index("## How labels are decided") : card.index("## Validation figures")]
    assert "- offense: 60% model, 40% rules" in decided
    assert "- penalties: the rules alone" in decided and "- party: the model alone" in decided


def test_card_without_fusion_says_the_model_decides(tmp_path):
    config = load_config(None, ["--model.model_type", "tfidf", "--model.rule_fusion", "false"])
    write_model_card(tmp_path, config, LabelSet.load(), {"real_train_cases": 155, "real_oversample": 3}, {})
    card = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "The model's probabilities alone decide every label (no rule fusion)." in card
    assert "Real annotated units among them: 155 (each repeated x3)" in card
