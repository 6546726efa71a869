"""The model card (``README.md`` in the model directory): what the model is, what it was trained on, how it scored."""

from __future__ import annotations

from pathlib import Path

from data.labels import LabelSet
from eval.metrics import HEADLINE_METRICS as _HEADLINE
from training.config import RunConfig


def write_model_card(model_dir: Path, config: RunConfig, label_set: LabelSet, summary: dict) -> None:
    """Write ``README.md``; its figures are on the validation split (the authored corpus unless configured)."""
    validation = summary.get("validation", {})
    authored = " (the authored corpus)" if config.data.train == ["corpus"] else ""
    rows = "\n".join(f"| {k} | {validation[k]:.3f} |" for k in _HEADLINE if k in validation)
    text = f"""# penalty model: {config.model.model_type}

Labels case units of Chinese cyber-security enforcement bulletins with an offense ({len(label_set.offenses)} labels),
penalties ({len(label_set.penalties)} labels, multi-label) and the punished party.

- Model type: `{config.model.model_type}`; base model: `{config.model.base_model}`
- Label set: `{label_set.name}` (`labels.yaml`, fingerprint `{label_set.fingerprint}`)
- Training data: {", ".join(config.data.train)} — {summary.get("train_cases", "?")} case units from
  {summary.get("train_bulletins", "?")} bulletins; validation: {summary.get("validation_cases", "?")} units
  (split grouped by bulletin, seed {config.training.seed})
- Training time: {summary.get("train_seconds", 0):.0f} s

## Validation figures

These come from the validation split of the training data{authored}.
Authored-corpus figures are not quality claims; see the project README for figures on real bulletins.

| metric | value |
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
