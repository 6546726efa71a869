"""Shared fixtures. Nothing here downloads: the hub is switched off before transformers is imported."""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import shutil  # noqa: E402
import subprocess  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from data.labels import LabelSet  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
REAL_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "real"


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tokenised-dataset caches of tests go to a temporary directory, not the user's cache."""
    if "PENALTY_CACHE" not in os.environ:
        os.environ["PENALTY_CACHE"] = str(tmp_path_factory.mktemp("penalty-cache"))


@pytest.fixture
def chromium(tmp_path: Path) -> Callable[..., str]:
    """Runs headless Chromium (the Debian package; CI installs it) with a throwaway profile; returns its stdout.

    Skips the test where no browser is installed, so a developer without one still gets a green suite.
    """
    candidates = (os.environ.get("CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser"))
    browser = next((c for c in candidates if c and Path(c).exists()), None)
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium); CI installs it")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    flags += ["--disable-component-update", "--disable-sync", "--no-first-run"]

    def run(*args: str) -> str:
        command = [browser, *flags, f"--user-data-dir={tmp_path / 'chromium-profile'}", *args]
        return subprocess.run(command, capture_output=True, timeout=120, check=True, encoding="utf-8").stdout

    return run


@pytest.fixture(scope="session")
def label_set() -> LabelSet:
    return LabelSet.load()


@pytest.fixture(scope="session")
def real_dir() -> Path:
    """The real evaluation bulletins beside the checkout; tests that need them skip on a user's fresh clone."""
    if not REAL_DIR.is_dir():
        pytest.skip("../shared/data/real is absent (real bulletins are not shipped with the repository)")
    return REAL_DIR


@pytest.fixture(scope="session")
def tiny_base_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny randomly initialised BERT with a ~460-character vocabulary, saved as a local base model.

    The tokenizer must know the characters, or every test would train on ``[UNK]`` runs (and masked-LM tests would
    find nothing to mask).
    """
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    tokenizer = BertTokenizerFast(vocab=str(FIXTURES / "vocab.txt"))  # transformers 5: `vocab`, not `vocab_file`
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        max_position_embeddings=128,
    )
    out = tmp_path_factory.mktemp("tiny-bert")
    torch.manual_seed(0)  # the same weights whichever tests ran before and drew from the global generator
    BertModel(config, add_pooling_layer=False).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_overrides(tiny_base_dir: Path):
    """Config overrides that train the tiny BERT on the fixture units into ``out`` (extra overrides appended)."""
    units = str(FIXTURES / "units.jsonl")

    def overrides(out: Path, *extra: str) -> list[str]:
        return [
            "--data.train", f"[{units}]", "--data.validation", f"[{units}]", "--data.real", "[]",
            "--data.max_length", "32", "--data.stride", "8", "--model.base_model", str(tiny_base_dir),
            "--training.output_dir", str(out), *extra,
        ]  # fmt: skip

    return overrides
