"""What a saved model directory holds besides weights, and the checks made when one is loaded.

Every model directory has ``penalty.yaml`` (model type, label-set fingerprint, penalty thresholds, library versions,
evaluation summary), ``labels.yaml`` (the label set) and ``config.yaml`` (the resolved training config).
"""

from __future__ import annotations

import datetime
from pathlib import Path

import yaml

from data.errors import ModelError
from data.labels import LabelSet
from data.versions import library_versions

META_NAME = "penalty.yaml"
LABELS_NAME = "labels.yaml"


def write_meta(
    model_dir: Path, model_type: str, label_set: LabelSet, thresholds: dict[str, float], extra: dict
) -> None:
    """Write ``penalty.yaml`` and ``labels.yaml`` into ``model_dir``."""
    label_set.save(model_dir / LABELS_NAME)
    meta = {
        "model_type": model_type,
        "label_set": label_set.name,
        "label_set_fingerprint": label_set.fingerprint,
        "penalty_thresholds": {k: round(float(v), 4) for k, v in thresholds.items()},
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "versions": library_versions(),
    } | extra
    (model_dir / META_NAME).write_text(yaml.safe_dump(meta, allow_unicode=True, sort_keys=False), encoding="utf-8")


def read_meta(model_dir: str | Path) -> tuple[dict, LabelSet]:
    """Read and check a model directory's metadata and label set.

    A label set saved before labels had Chinese names gets the default set's names when its labels are the same.

    Raises:
        ModelError: the directory is missing, is not a penalty model, or its metadata is corrupt.
    """
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise ModelError(f"model directory {model_dir} does not exist; train one with 'penalty train' or use 'rules'")
    meta_path = model_dir / META_NAME
    if not meta_path.exists():
        raise ModelError(f"{model_dir} is not a penalty model: {META_NAME} is missing (was training interrupted?)")
    try:
        meta = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
        label_set = LabelSet.load(model_dir / LABELS_NAME)
    except (yaml.YAMLError, OSError, UnicodeDecodeError) as err:
        raise ModelError(f"{meta_path} is corrupt: {err}") from err
    except Exception as err:  # a broken labels.yaml surfaces as PenaltyError from LabelSet.load
        raise ModelError(f"{model_dir / LABELS_NAME} is corrupt: {err}") from err
    if not isinstance(meta, dict) or "model_type" not in meta:
        raise ModelError(f"{meta_path} is corrupt: no model_type")
    if meta.get("label_set_fingerprint") != label_set.fingerprint:
        raise ModelError(f"{model_dir}: labels.yaml does not match the label set the model was trained on")
    return meta, label_set.with_names_of(LabelSet.load())


def update_meta(model_dir: Path, **fields: object) -> None:
    """Add or replace top-level fields of ``penalty.yaml`` (evaluation summary, tuned thresholds)."""
    meta_path = Path(model_dir) / META_NAME
    meta = yaml.safe_load(meta_path.read_text(encoding="utf-8")) | fields
    meta_path.write_text(yaml.safe_dump(meta, allow_unicode=True, sort_keys=False), encoding="utf-8")


def cache_dir() -> Path:
    """The user's cache for converted base models and tokenised datasets ($PENALTY_CACHE, else XDG, else ~/.cache)."""
    import os

    if os.environ.get("PENALTY_CACHE"):
        return Path(os.environ["PENALTY_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "penalty"
