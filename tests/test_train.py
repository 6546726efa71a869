import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safetensors.torch import load_file

from data.errors import AnnotationError, ModelError
from models.base import load_base_model, set_attention_dropout
from models.predictor import Predictor
from training.config import load_config
from training.train import train

FIXTURES = Path(__file__).parent / "fixtures"
UNITS = str(FIXTURES / "units.jsonl")


def _config(tmp_path: Path, tiny_overrides, *overrides: str):
    steps = ["--training.batch_size", "4", "--training.max_steps", "4", "--training.eval_steps", "2"]
    return load_config(None, tiny_overrides(tmp_path / "model", *steps, *overrides))


@pytest.mark.slow
def test_train_bert_saves_a_self_contained_model_directory(tmp_path, tiny_overrides):
    result = train(_config(tmp_path, tiny_overrides))
    names = {p.name for p in result.model_dir.iterdir()}
    assert {"model.safetensors", "config.json", "penalty.yaml", "labels.yaml", "config.yaml", "README.md"} <= names
    assert "checkpoints" not in names and "validation" in result.summary
    predictor = Predictor.from_pretrained(result.model_dir)
    predictions = predictor.predict_units(
        ["某公司未备案案。对其处以警告。", "张某" * 100]
    )  # the second needs many windows
    assert len(predictions) == 2 and all(p.offense in predictor.label_set.offenses for p in predictions)


def test_train_tfidf_saves_without_pickle_and_predicts(tmp_path):
    config = load_config(
        None,
        [
            "--model.model_type",
            "tfidf",
            "--data.train",
            f"[{UNITS}]",
            "--data.validation_fraction",
            "0",
            "--data.real",
            "[]",
            "--training.output_dir",
            str(tmp_path / "tfidf"),
        ],
    )
    result = train(config)
    assert (result.model_dir / "tfidf.skops").exists() and not list(result.model_dir.glob("*.pkl"))
    training_texts = [json.loads(line)["text"] for line in Path(UNITS).read_text(encoding="utf-8").splitlines()]
    predictions = Predictor.from_pretrained(result.model_dir).predict_units(training_texts)
    assert [p.offense for p in predictions][:2] == ["security_duty", "vpn_circumvention"]  # fits its training data


def test_train_rejects_unknown_labels_listing_file_and_line(tmp_path, tiny_overrides):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(Path(UNITS).read_text(encoding="utf-8").replace('"filing"', '"filings"'), encoding="utf-8")
    config = _config(tmp_path, tiny_overrides, "--data.train", f"[{bad}]")
    with pytest.raises(AnnotationError, match=rf"filings.*{re.escape(str(bad))}:8"):
        train(config)


def test_predictor_refuses_missing_and_corrupt_model_directories(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        Predictor.from_pretrained(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="penalty.yaml is missing"):
        Predictor.from_pretrained(tmp_path / "empty")


@pytest.mark.slow
def test_predictor_refuses_model_with_truncated_weights(tmp_path, tiny_overrides):
    model_dir = train(_config(tmp_path, tiny_overrides, "--training.max_steps", "1")).model_dir
    weights = model_dir / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(ModelError, match="cannot load model weights"):
        Predictor.from_pretrained(model_dir)


def _train_command(out: Path, tiny_overrides, *extra: str) -> list[str]:
    steps = ["--training.batch_size", "2", "--training.max_steps", "12", "--training.eval_steps", "3"]
    return [
        sys.executable,
        "-m",
        "cli",
        "-q",
        "train",
        *tiny_overrides(out, *steps),
        "--training.early_stopping_patience",
        "0",
        *extra,
    ]


@pytest.mark.slow
def test_train_resume_after_kill_matches_uninterrupted_run(tmp_path, tiny_overrides):
    env = os.environ | {"PYTHONHASHSEED": "0"}
    root = Path(__file__).resolve().parent.parent
    subprocess.run(_train_command(tmp_path / "full", tiny_overrides), check=True, cwd=root, env=env)
    killed = subprocess.Popen(_train_command(tmp_path / "killed", tiny_overrides), cwd=root, env=env)
    checkpoint = tmp_path / "killed" / "checkpoints" / "checkpoint-3" / "trainer_state.json"
    deadline = time.time() + 120
    while not checkpoint.exists() and killed.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert not (tmp_path / "killed" / "penalty.yaml").exists(), "the run finished before it could be killed"
    subprocess.run(_train_command(tmp_path / "killed", tiny_overrides, "--resume"), check=True, cwd=root, env=env)
    full = load_file(tmp_path / "full" / "model.safetensors")
    resumed = load_file(tmp_path / "killed" / "model.safetensors")
    assert full.keys() == resumed.keys()
    for name in full:
        assert (full[name] - resumed[name]).abs().max() < 1e-5, name


def _attention_dropouts(model) -> list[float]:
    return [m.dropout.p for m in model.modules() if type(m).__name__ == "BertSelfAttention"]


def test_attention_dropout_replaces_the_base_models_and_null_keeps_it(tiny_base_dir):
    assert _attention_dropouts(load_base_model(str(tiny_base_dir))[0]) == [0.1, 0.1]  # BertConfig's default
    assert _attention_dropouts(load_base_model(str(tiny_base_dir), attention_dropout=0.0)[0]) == [0.0, 0.0]


def test_attention_dropout_on_an_architecture_without_one_is_an_error():
    from transformers import PretrainedConfig

    with pytest.raises(ModelError, match="attention_dropout null"):
        set_attention_dropout(PretrainedConfig(), 0.0)
