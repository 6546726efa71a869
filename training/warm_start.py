"""Starting a training run from a trained model (``training.init_from``) instead of the base encoder, so a model
learns from an annotator's corrections without starting over.

The whole multi-task model is loaded: the encoder and the three heads. The heads index labels by position, so the
model's label set must equal the run's, label for label and in the same order; anything else is refused with the
differing labels named, because a head silently re-read under other labels would predict nonsense.
"""

from __future__ import annotations

import logging
from pathlib import Path

from data.errors import ModelError
from data.labels import KINDS, LabelSet
from models.store import read_meta
from training.config import ConfigError, RunConfig

logger = logging.getLogger(__name__)
_FIELDS = dict(zip(KINDS, ("offenses", "penalties", "parties"), strict=True))


def check_init_from(config: RunConfig, label_set: LabelSet) -> None:
    """Refuse a ``training.init_from`` that cannot be continued: before any data is tokenised or trained on.

    Raises:
        ConfigError: TF-IDF was asked for, the directory is the output directory, the model is no fine-tuned
            encoder, or its labels differ from ``label_set`` (naming them).
        ModelError: the directory is no readable model (``models.store.read_meta``).
    """
    source = Path(config.training.init_from)
    if config.model.model_type != "bert":
        raise ConfigError(
            f"training.init_from needs model.model_type 'bert' (a TF-IDF model is refitted from scratch), "
            f"got {config.model.model_type!r}"
        )
    if source.resolve() == Path(config.training.output_dir).resolve():
        raise ConfigError(
            f"training.init_from and training.output_dir are the same directory ({source}); write the new model "
            "elsewhere, so the old one stays to compare against (penalty compare --model OLD --model NEW)"
        )
    meta, model_labels = read_meta(source)
    if meta.get("model_type") != "bert":
        raise ConfigError(
            f"training.init_from {source} is a {meta.get('model_type')!r} model; only a fine-tuned model "
            "(model_type bert) has weights to start from"
        )
    differences = label_differences(model_labels, label_set)
    if differences:
        raise ConfigError(
            f"training.init_from {source} was trained on other labels than data.label_set "
            f"({label_set.name}): {'; '.join(differences)}. Its heads score exactly its own labels: use its "
            f"labels.yaml as data.label_set, or train from the base model (leave training.init_from empty)"
        )


def label_differences(model_labels: LabelSet, label_set: LabelSet) -> list[str]:
    """What differs between two label sets, per kind: labels only in one of them, or the same labels reordered."""
    found = []
    for kind, attribute in _FIELDS.items():
        old, new = getattr(model_labels, attribute), getattr(label_set, attribute)
        only_old, only_new = [x for x in old if x not in new], [x for x in new if x not in old]
        if only_old:
            found.append(f"{kind} only in the model: {only_old}")
        if only_new:
            found.append(f"{kind} only in data.label_set: {only_new}")
        if not only_old and not only_new and list(old) != list(new):
            found.append(f"{kind} labels in another order (model: {list(old)})")
    return found


def load_init_model(config: RunConfig):
    """The trained multi-task model and its tokenizer from ``training.init_from`` (checked by ``check_init_from``).

    ``model.base_model`` and ``model.pooling`` are those the model was trained with; a different ``model.pooling``
    in the config is overruled, with a warning.

    Raises:
        ModelError: the weights or the tokenizer cannot be read.
    """
    from safetensors import SafetensorError
    from transformers import AutoTokenizer

    from models.multitask import MultiTaskModel

    source = Path(config.training.init_from)
    try:
        model = MultiTaskModel.from_pretrained(source)
        tokenizer = AutoTokenizer.from_pretrained(source)
    except (OSError, ValueError, RuntimeError, SafetensorError) as err:
        raise ModelError(f"cannot load the weights or tokenizer of training.init_from {source}: {err}") from err
    if model.config.pooling != config.model.pooling:
        logger.warning(
            "model.pooling %r ignored: training.init_from %s pools with %r",
            config.model.pooling,
            source,
            model.config.pooling,
        )
    logger.info("starting from the trained model %s (encoder and heads), not from model.base_model", source)
    return model, tokenizer
