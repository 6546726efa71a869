"""Case-labelling metrics as an ``evaluate`` module (loaded by path, so nothing is fetched from a hub).

Config ``single``: one label id per case (offense, party). Config ``multilabel``: a 0/1 indicator vector per case
(penalties). All figures come from scikit-learn.
"""

import datasets
import evaluate
import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    hamming_loss,
    precision_recall_fscore_support,
)

_DESCRIPTION = (
    "Accuracy, micro/weighted F1, per-label P/R/F1/support, confusion matrix (single); "
    "micro/weighted F1, subset exact match, Hamming loss, per-label figures (multilabel)."
)
_KWARGS_DESCRIPTION = """
Args:
    predictions: label ids (single) or 0/1 indicator lists (multilabel).
    references: same shape as predictions.
    num_labels: size of the label set, so labels absent from this sample still get a row.
Returns:
    dict of floats, plus 'per_label' (lists indexed by label id) and, for single, 'confusion_matrix'.
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class CaseMetrics(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        if self.config_name == "multilabel":
            features = datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("int32")),
                    "references": datasets.Sequence(datasets.Value("int32")),
                }
            )
        else:
            features = datasets.Features(
                {"predictions": datasets.Value("int32"), "references": datasets.Value("int32")}
            )
        return evaluate.MetricInfo(
            description=_DESCRIPTION, citation="", inputs_description=_KWARGS_DESCRIPTION, features=features
        )

    def _compute(self, predictions, references, num_labels: int) -> dict:
        labels = list(range(num_labels))
        y_pred, y_true = np.asarray(predictions), np.asarray(references)
        # Single-label: name every label id so an id outside the set (a missed unit) counts wrong, not as a new class.
        label_ids = None if self.config_name == "multilabel" else labels
        precision, recall, f1, support = precision_recall_fscore_support(
            y_true, y_pred, labels=label_ids, zero_division=0
        )
        # Macro-F1 is not computed here: eval.metrics.present_macro_f1 is its one definition, applied to per_label.
        scores = {
            f"{average}_f1": float(f1_score(y_true, y_pred, average=average, labels=label_ids, zero_division=0))
            for average in ("micro", "weighted")
        }
        scores["per_label"] = {
            "precision": precision.tolist(),
            "recall": recall.tolist(),
            "f1": f1.tolist(),
            "support": support.tolist(),
        }
        if self.config_name == "multilabel":
            scores["exact_match"] = float(accuracy_score(y_true, y_pred))
            scores["hamming_loss"] = float(hamming_loss(y_true, y_pred))
        else:
            scores["accuracy"] = float(accuracy_score(y_true, y_pred))
            scores["confusion_matrix"] = confusion_matrix(y_true, y_pred, labels=labels).tolist()
        return scores
