"""TF-IDF (character n-grams) + logistic regression baseline, saved with skops (no pickle).

Offense and party are multinomial logistic regressions; penalties are one-vs-rest logistic regressions.
"""

from __future__ import annotations

import json
import logging
import zipfile
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
SCHEMA_NAME = "schema.json"  # the skops file's table of contents: one node per stored object
# Exactly the nodes ``TfidfLabeler.save`` writes (tests/test_tfidf_security.py checks a freshly trained model has no
# others). Why not trust whole packages: ``builtins.eval`` and ``numpy``/``scipy`` functions are "types" to skops
# too, and a Pipeline step holding one runs it at predict time.
TRUSTED_LOADERS = frozenset({"DictNode", "ListNode", "TupleNode", "JsonNode", "NdArrayNode", "ObjectNode", "TypeNode"})
TRUSTED_TYPES = frozenset(
    {
        "builtins.dict",
        "builtins.list",
        "builtins.tuple",
        "builtins.str",
        "numpy.ndarray",
        "numpy.float64",
        "sklearn.feature_extraction.text.TfidfTransformer",
        "sklearn.feature_extraction.text.TfidfVectorizer",
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.multiclass.OneVsRestClassifier",
        "sklearn.multiclass._ConstantPredictor",
        "sklearn.pipeline.Pipeline",
        "sklearn.preprocessing._label.LabelBinarizer",
    }
)


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
        """Fit all three heads on gold cases (the penalty head on the complete ones)."""
        texts = [normalize(c.text).text for c in cases]

        def logreg() -> LogisticRegression:
            # A moderate C converges in a few hundred lbfgs iterations; C=10 with 200k features took minutes.
            return LogisticRegression(max_iter=300, C=4.0, class_weight=class_weight, random_state=seed)

        # spec 'complete': an incomplete unit (cut off before its disposal) does not show its penalties, so the
        # penalty classifiers learn from complete units only (all units if none is complete)
        complete = [i for i, c in enumerate(cases) if c.complete] or list(range(len(cases)))
        self.pipelines = {
            "offense": self._pipeline(logreg(), class_weight).fit(texts, [c.offense for c in cases]),
            "party": self._pipeline(logreg(), class_weight).fit(texts, [c.party for c in cases]),
            "penalties": self._pipeline(OneVsRestClassifier(logreg()), class_weight).fit(
                [texts[i] for i in complete],
                np.array([[int(p in cases[i].penalties) for p in self.label_set.penalties] for i in complete]),
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
        """Load with skops after checking that the file holds only what training writes.

        Raises:
            ModelError: the file is missing, corrupt, or contains any other type or a function.
        """
        path = model_dir / WEIGHTS_NAME
        refused = sorted(_foreign_nodes(path))
        if refused:
            raise ModelError(
                f"{path} contains objects a trained TF-IDF model never holds: {refused}; refusing to load it "
                "(a tampered or foreign file could run code); retrain with 'penalty train --model.model_type tfidf'"
            )
        try:
            pipelines = sio.load(path, trusted=sio.get_untrusted_types(file=path))
        except Exception as err:  # skops raises zipfile/key/type errors of many kinds on a damaged file
            raise ModelError(f"cannot load TF-IDF model {path}: {err}") from err
        return cls(label_set, pipelines)


def _foreign_nodes(path: Path) -> set[str]:
    """Every ``loader module.class`` in the file's skops schema outside ``TRUSTED_LOADERS``/``TRUSTED_TYPES``.

    Raises:
        ModelError: the file is missing or is not a skops archive.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            schema = json.loads(archive.read(SCHEMA_NAME))
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as err:
        raise ModelError(f"cannot load TF-IDF model {path}: {err}") from err
    foreign: set[str] = set()
    pending = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, dict):
            pending.extend(node.values())
            if "__loader__" in node:
                name = f"{node.get('__module__')}.{node.get('__class__')}"
                if node["__loader__"] not in TRUSTED_LOADERS or name not in TRUSTED_TYPES:
                    foreign.add(f"{node['__loader__']} {name}")
    return foreign
