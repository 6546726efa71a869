"""TF-IDF (character n-grams) + logistic regression baseline, saved with skops (no pickle).

Offense and party are multinomial logistic regressions; penalties are one-vs-rest logistic regressions.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import skops.io as sio
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline

from data.errors import ModelError
from data.labels import LabelSet
from data.normalize import normalize
from data.types import GoldCase, LabelScores

logger = logging.getLogger(__name__)
TFIDF = "tfidf"
WEIGHTS_NAME = "tfidf.skops"
# skops refuses any type not listed here, so a tampered file cannot run code on load.
_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.")


class TfidfLabeler:
    """Three scikit-learn pipelines sharing one vectoriser configuration."""

    model_type = TFIDF

    def __init__(self, label_set: LabelSet, pipelines: dict[str, Pipeline] | None = None) -> None:
        self.label_set = label_set
        self.pipelines = pipelines or {}

    @staticmethod
    def _pipeline(classifier: object, class_weight: str | None) -> Pipeline:
        vectorizer = TfidfVectorizer(
            analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True, max_features=50_000
        )
        return Pipeline([("tfidf", vectorizer), ("classifier", classifier)])

    def fit(self, cases: list[GoldCase], class_weight: str | None = "balanced", seed: int = 42) -> TfidfLabeler:
        """Fit all three heads on gold cases."""
        texts = [normalize(c.text).text for c in cases]

        def logreg() -> LogisticRegression:
            # A moderate C converges in a few hundred lbfgs iterations; C=10 with 200k features took minutes.
            return LogisticRegression(max_iter=300, C=4.0, class_weight=class_weight, random_state=seed)

        self.pipelines = {
            "offense": self._pipeline(logreg(), class_weight).fit(texts, [c.offense for c in cases]),
            "party": self._pipeline(logreg(), class_weight).fit(texts, [c.party for c in cases]),
            "penalties": self._pipeline(OneVsRestClassifier(logreg()), class_weight).fit(
                texts, np.array([[int(p in c.penalties) for p in self.label_set.penalties] for c in cases])
            ),
        }
        return self

    def score_texts(self, texts: list[str]) -> list[LabelScores]:
        """Probabilities per text; labels the classifier never saw in training get probability 0."""
        if not texts:
            return []
        normalised = [normalize(t).text for t in texts]
        offense = self._class_probabilities("offense", normalised, self.label_set.offenses)
        party = self._class_probabilities("party", normalised, self.label_set.parties)
        penalties = self.pipelines["penalties"].predict_proba(normalised)
        return [
            LabelScores(
                offense=offense[i],
                penalties=dict(zip(self.label_set.penalties, map(float, penalties[i]), strict=True)),
                party=party[i],
            )
            for i in range(len(texts))
        ]

    def _class_probabilities(self, head: str, texts: list[str], labels: tuple[str, ...]) -> list[dict[str, float]]:
        pipeline = self.pipelines[head]
        probabilities = pipeline.predict_proba(texts)
        classes = list(pipeline.classes_)
        return [
            {label: float(row[classes.index(label)]) if label in classes else 0.0 for label in labels}
            for row in probabilities
        ]

    def save(self, model_dir: Path) -> None:
        for pipeline in self.pipelines.values():
            vectorizer = pipeline["tfidf"]
            # sklearn keeps every pruned n-gram in stop_words_ (millions): unused after fitting, slow to save
            if hasattr(vectorizer, "stop_words_"):
                del vectorizer.stop_words_
            # numpy-scalar vocabulary values become one zip entry each in skops (quadratic); plain ints are one JSON
            vectorizer.vocabulary_ = {term: int(index) for term, index in vectorizer.vocabulary_.items()}
        sio.dump(self.pipelines, model_dir / WEIGHTS_NAME)

    @classmethod
    def load(cls, model_dir: Path, label_set: LabelSet) -> TfidfLabeler:
        """Load with skops, trusting only scikit-learn/numpy/scipy types.

        Raises:
            ModelError: the file is missing, corrupt, or contains other types.
        """
        path = model_dir / WEIGHTS_NAME
        try:
            untrusted = sio.get_untrusted_types(file=path)
            refused = [t for t in untrusted if not t.startswith(_TRUSTED_PREFIXES)]
            if refused:
                raise ModelError(
                    f"{path} contains types outside scikit-learn/numpy/scipy: {refused}; refusing to load"
                )
            pipelines = sio.load(path, trusted=untrusted)
        except ModelError:
            raise
        except Exception as err:  # skops raises zipfile/key/type errors of many kinds on a damaged file
            raise ModelError(f"cannot load TF-IDF model {path}: {err}") from err
        return cls(label_set, pipelines)
