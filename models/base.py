"""Resolve ``--base-model``: ``embedded`` (offline default), a local transformers directory, or a hub model id."""

from __future__ import annotations

import logging
from pathlib import Path

from transformers import AutoConfig, AutoModel, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from data.errors import ModelError

logger = logging.getLogger(__name__)
EMBEDDED = "embedded"
# Where the architectures transformers ships keep the dropout on attention probabilities (BERT/XLM-R/ELECTRA; others).
ATTENTION_DROPOUT_KEYS = ("attention_probs_dropout_prob", "attention_dropout")


def load_base_model(
    name: str, model_class: type = AutoModel, attention_dropout: float | None = None
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The pretrained encoder and its fast tokenizer.

    Args:
        name: ``embedded``, a local transformers directory or a hub id.
        model_class: the transformers auto class to build; ``penalty adapt`` asks for ``AutoModelForMaskedLM``, so
            domain adaptation starts from exactly the base model that ``penalty train`` would.
        attention_dropout: replaces the model's dropout on attention probabilities; ``None`` keeps it.

    Raises:
        ModelError: the directory is incomplete, or a hub id cannot be fetched (e.g. offline), with what to do instead.
    """
    if name == EMBEDDED:
        from models.embedded import embedded_model_dir

        path: str | Path = embedded_model_dir()
    else:
        path = name
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        config = AutoConfig.from_pretrained(path)
        if attention_dropout is not None:
            set_attention_dropout(config, attention_dropout)
        encoder = model_class.from_pretrained(path, config=config)
    except (OSError, ValueError) as err:
        hint = (
            ""
            if Path(str(path)).exists()
            else " (no model hub reachable? use --model.base_model embedded or a local directory)"
        )
        raise ModelError(f"cannot load base model {name!r}: {err}{hint}") from err
    if not tokenizer.is_fast:
        raise ModelError(f"base model {name!r} has no fast tokenizer; windowing long case units needs one")
    logger.info("base model %s: %s, %d parameters", name, type(encoder).__name__, encoder.num_parameters())
    return encoder, tokenizer


def set_attention_dropout(config, value: float) -> None:
    """Set on the config, before the model is built: the attention modules read it once, at construction."""
    keys = [key for key in ATTENTION_DROPOUT_KEYS if hasattr(config, key)]
    if not keys:
        raise ModelError(
            f"{config.model_type} names its attention dropout none of {', '.join(ATTENTION_DROPOUT_KEYS)}; "
            "use --model.attention_dropout null to keep the base model's"
        )
    for key in keys:
        setattr(config, key, value)
