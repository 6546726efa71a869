"""``penalty adapt``: MLM pre-training of the base encoder on unlabelled bulletins (training/adapt.py)."""

import json
import logging
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from cli import main
from data.errors import InputError
from training.adapt import ADAPT_NAME, AdaptRunConfig, adapt, read_bulletin_texts
from training.config import ConfigError, load_config

FIXTURES = Path(__file__).parent / "fixtures"
HEADER = "SOURCE: https://example.org/notice\n标题: 通报\n---\n"


def _bulletins(directory: Path) -> Path:
    """Two short bulletins, one GBK-encoded with a SOURCE header, as a crawl would hold them."""
    directory.mkdir(parents=True, exist_ok=True)
    sample = (FIXTURES / "sample_bulletin.txt").read_text(encoding="utf-8")
    (directory / "a.txt").write_text(HEADER + sample, encoding="utf-8")
    (directory / "b.txt").write_bytes(
        "某公司未落实网络日志留存制度，公安机关对其处以警告，并责令限期改正。\n".encode("gbk") * 3
    )
    return directory


def _config(base: Path, out: Path, *extra: str) -> AdaptRunConfig:
    overrides = [
        "--adapt.base_model", str(base), "--adapt.output_dir", str(out), "--adapt.max_length", "32",
        "--adapt.batch_size", "4", "--adapt.max_steps", "3", "--adapt.learning_rate", "1e-2", *extra,
    ]  # fmt: skip
    return load_config(None, overrides, AdaptRunConfig)


@pytest.fixture(scope="module")
def adapted_dir(tmp_path_factory: pytest.TempPathFactory, tiny_base_dir: Path) -> Path:
    root = tmp_path_factory.mktemp("adapt")
    return adapt(_config(tiny_base_dir, root / "adapted"), [str(_bulletins(root / "bulletins"))]).model_dir


def test_adapt_changes_encoder_layers_and_keeps_embeddings_fixed(adapted_dir, tiny_base_dir):
    before = load_file(tiny_base_dir / "model.safetensors")
    after = load_file(adapted_dir / "model.safetensors")
    assert set(after) == set(before)  # the encoder alone, same names: no MLM head saved
    layers = [name for name in before if name.startswith("encoder.layer.")]
    assert any(not torch.equal(before[name], after[name]) for name in layers)
    assert torch.equal(before["embeddings.word_embeddings.weight"], after["embeddings.word_embeddings.weight"])


def test_adapt_records_settings_inputs_and_versions(adapted_dir):
    record = json.loads((adapted_dir / ADAPT_NAME).read_text(encoding="utf-8"))
    assert record["settings"]["mlm_probability"] == 0.15 and record["seed"] == 42
    assert [Path(i["source"]).name for i in record["inputs"]] == ["a.txt", "b.txt"]
    assert len(record["inputs_sha256"]) == 64 and record["summary"]["steps"] == 3
    assert "transformers" in record["versions"] and (adapted_dir / "tokenizer.json").exists()


def test_adapted_encoder_is_what_train_builds_on(adapted_dir, tiny_overrides, tmp_path, label_set):
    from training.train import build_model

    config = load_config(None, tiny_overrides(tmp_path / "model", "--model.base_model", str(adapted_dir)))
    model, _ = build_model(config, label_set, [])
    saved = load_file(adapted_dir / "model.safetensors")
    state = model.encoder.state_dict()
    assert all(torch.equal(state[name], tensor) for name, tensor in saved.items())


def test_train_runs_on_adapted_base_model(adapted_dir, tiny_overrides, tmp_path):
    from training.train import train

    steps = ["--training.batch_size", "4", "--training.max_steps", "2", "--model.base_model", str(adapted_dir)]
    result = train(load_config(None, tiny_overrides(tmp_path / "model", *steps)))
    assert (result.model_dir / "model.safetensors").exists()


def test_read_bulletin_texts_strips_source_header_and_decodes_gbk(tmp_path):
    bulletins = read_bulletin_texts([str(_bulletins(tmp_path / "in"))])
    assert len(bulletins.texts) == 2 and not bulletins.skipped
    assert not bulletins.texts[0].startswith("SOURCE") and "某公司未落实网络日志留存制度" in bulletins.texts[1]


def test_read_bulletin_texts_reports_and_skips_undecodable_file(tmp_path, caplog):
    directory = _bulletins(tmp_path / "in")
    (directory / "broken.txt").write_bytes(bytes([0x81, 0xFF, 0xFE, 0x80]) * 50)
    with caplog.at_level(logging.WARNING):
        bulletins = read_bulletin_texts([str(directory)])
    assert len(bulletins.texts) == 2 and [Path(f.source).name for f in bulletins.skipped] == ["broken.txt"]
    assert "broken.txt" in caplog.text and "skipped 1 unreadable input" in caplog.text


def test_read_bulletin_texts_corpus_means_the_authored_bulletins():
    from data.corpus import BUILD_DIR

    assert len(read_bulletin_texts(["corpus"]).texts) == len(list(BUILD_DIR.glob("*.txt")))


def test_adapt_without_readable_bulletins_is_a_clear_error(tmp_path, tiny_base_dir):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no readable bulletin text"):
        adapt(_config(tiny_base_dir, tmp_path / "out"), [str(tmp_path / "empty")])


def test_cli_adapt_takes_repeated_data_output_dir_and_overrides(tmp_path, tiny_base_dir, capsys):
    directory = _bulletins(tmp_path / "in")
    args = [
        "adapt",
        "--data",
        str(directory / "a.txt"),
        "--data",
        str(directory / "b.txt"),
        "-o",
        str(tmp_path / "out"),
    ]
    overrides = ["--adapt.base_model", str(tiny_base_dir), "--adapt.max_steps", "1", "--adapt.max_length", "32"]
    assert main(args + overrides) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["model_dir"] == str(tmp_path / "out") and printed["files"] == 2 and printed["steps"] == 1


def test_cli_adapt_empty_input_exits_1_with_message(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["adapt", "--data", str(tmp_path / "empty"), "-o", str(tmp_path / "out")]) == 1
    assert "no readable bulletin text" in capsys.readouterr().err


def test_adapt_config_rejects_bad_mlm_probability_and_unknown_keys():
    with pytest.raises(ConfigError, match="mlm_probability"):
        load_config(None, ["--adapt.mlm_probability", "1.5"], AdaptRunConfig)
    with pytest.raises(ConfigError, match="unknown key"):
        load_config(None, ["--adapt.learning_rat", "1e-4"], AdaptRunConfig)
