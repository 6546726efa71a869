"""The model card (``README.md`` in the model directory): what the model is, what it was trained on, how it scored."""

from __future__ import annotations

from pathlib import Path

from data.labels import LabelSet
from eval.metrics import HEADLINE_METRICS as _HEADLINE
from training.config import RunConfig


def write_model_card(
    model_dir: Path, config: RunConfig, label_set: LabelSet, summary: dict, fusion: dict[str, float]
) -> None:
    """Write ``README.md``; its figures are on the validation split, which is labelled as what it is: the data that
    chose the early-stopping checkpoint, thresholds and fusion weights, so the figures are optimistic. It says which
    source decides each task (``fusion``: the model's share per task, empty without rule fusion), because a user
    reading penalties from this model is often reading the rules' cue words."""
    validation = summary.get("validation", {})
    source = summary.get("validation_source") or (
        "a split of the authored corpus" if config.data.train == ["corpus"] else "a split of the training data"
    )
    chosen = [
        *(["the early-stopping checkpoint"] if config.model.model_type == "bert" else []),
        "the penalty thresholds",
        *(["the rule-fusion weights"] if config.model.rule_fusion else []),
        "the calibration",
    ]
    rows = "\n".join(f"| {k} | {validation[k]:.3f} |" for k in _HEADLINE if k in validation)
    init_from = config.training.init_from
    started = (
        f"; started from the trained model `{init_from}` (its weights, not the base model's)" if init_from else ""
    )
    real = (
        f"- Real annotated units among them: {summary['real_train_cases']} (each repeated "
        f"x{summary.get('real_oversample', 1)})\n"
        if summary.get("real_train_cases")
        else ""
    )
    text = f"""# penalty model: {config.model.model_type}

Labels case units of Chinese cyber-security enforcement bulletins with an offense ({len(label_set.offenses)} labels),
penalties ({len(label_set.penalties)} labels, multi-label) and the punished party.

- Model type: `{config.model.model_type}`; base model: `{config.model.base_model}`{started}
- Label set: `{label_set.name}` (`labels.yaml`, fingerprint `{label_set.fingerprint}`)
- Training data: {", ".join(config.data.train)} — {summary.get("train_cases", "?")} case units from
  {summary.get("train_bulletins", "?")} bulletins; validation: {summary.get("validation_cases", "?")} units
  (split grouped by bulletin, seed {config.training.seed})
{real}- Training time: {summary.get("train_seconds", 0):.0f} s

## How labels are decided

{_decided_by(fusion)}

## Validation figures (not held out)

These come from the validation split ({source}), the same units that chose {", ".join(chosen[:-1])} and
{chosen[-1]}: the model was tuned to score well on them, so they overstate how it does on new bulletins.
For held-out figures run `penalty evaluate` on bulletins it never saw, or `penalty cv`; the project README reports
figures on real bulletins.

| metric | value on the tuning split |
|---|---|
{rows}

## Use

```bash
penalty predict --model {model_dir} bulletin.txt
```

```python
from models.predictor import Predictor
predictor = Predictor.from_pretrained("{model_dir}")
cases = predictor.predict_bulletin(open("bulletin.txt", encoding="utf-8").read())
```

Files: `penalty.yaml` (type, thresholds, versions, summary), `config.yaml` (training configuration),
`labels.yaml` (label set), weights and tokenizer.
"""
    (model_dir / "README.md").write_text(text, encoding="utf-8")


def _decided_by(fusion: dict[str, float]) -> str:
    """One line per task: how much of the model's probability and of the rule baseline's it blends."""
    if not fusion:
        return "The model's probabilities alone decide every label (no rule fusion)."
    lines = [
        "Each task blends the model's probabilities with the rule baseline's (`rule_fusion` in `penalty.yaml`, the "
        "model's share chosen on validation; the penalty share stays 0 unless the blend clearly beats the rules "
        "there):",
        "",
    ]
    for task, weight in fusion.items():
        if weight == 0:
            source = "the rules alone"
        elif weight == 1:
            source = "the model alone"
        else:
            source = f"{weight:.0%} model, {1 - weight:.0%} rules"
        lines.append(f"- {task}: {source}")
    return "\n".join(lines)
