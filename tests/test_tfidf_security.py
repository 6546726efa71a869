"""A TF-IDF model directory is data, never code: skops files holding anything training does not write are refused."""

import builtins
import json
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from data.errors import ModelError
from data.formats import load_cases
from models.tfidf import WEIGHTS_NAME, TfidfLabeler

UNITS = str(Path(__file__).parent / "fixtures" / "units.jsonl")


@pytest.fixture(scope="module")
def trained(label_set, tmp_path_factory) -> tuple[TfidfLabeler, Path]:
    cases, _ = load_cases([UNITS], label_set)
    labeler = TfidfLabeler(label_set).fit(cases)
    model_dir = tmp_path_factory.mktemp("tfidf")
    labeler.save(model_dir)
    return labeler, model_dir


def test_tfidf_load_refuses_a_pipeline_step_that_calls_eval(tmp_path, label_set):
    # What an attacker ships: a default-trusted sklearn transformer whose function is builtins.eval, run at predict.
    crafted = Pipeline([("tfidf", FunctionTransformer(builtins.eval)), ("classifier", FunctionTransformer(len))])
    sio.dump({"offense": crafted, "party": crafted, "penalties": crafted}, tmp_path / WEIGHTS_NAME)
    with pytest.raises(ModelError, match=r"builtins\.eval.*refusing to load"):
        TfidfLabeler.load(tmp_path, label_set)


def test_tfidf_load_refuses_a_bare_function_under_a_trusted_package(tmp_path, label_set):
    sio.dump({"offense": np.load}, tmp_path / WEIGHTS_NAME)  # numpy.load: a function, though under numpy.
    with pytest.raises(ModelError, match=r"numpy\.load"):
        TfidfLabeler.load(tmp_path, label_set)


def test_tfidf_load_refuses_a_file_that_is_not_a_skops_archive(tmp_path, label_set):
    (tmp_path / WEIGHTS_NAME).write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ModelError, match="cannot load TF-IDF model"):
        TfidfLabeler.load(tmp_path, label_set)


def test_tfidf_trained_model_loads_and_scores_as_before_saving(trained, label_set):
    labeler, model_dir = trained
    texts = [json.loads(line)["text"] for line in Path(UNITS).read_text(encoding="utf-8").splitlines()]
    assert TfidfLabeler.load(model_dir, label_set).score_texts(texts) == labeler.score_texts(texts)
