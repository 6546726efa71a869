"""``penalty adapt``: continue masked-language-model pre-training of the base encoder on unlabelled bulletins.

Why: the encoder was pre-trained on general multilingual text; bulletins have their own vocabulary (网安,
责令改正, 行政拘留) and layouts. Continuing the encoder's own objective on in-domain text before fine-tuning
("domain-adaptive pre-training") needs no labels, only bulletins, of which a crawl has many more than the annotated
ones.

The run: read bulletins through ``data.inputs`` (any encoding; the ``SOURCE:`` … ``---`` header skipped; a file that
cannot be read is reported and skipped) → normalise and window them exactly as fine-tuning does
(``models.encoding.encode_units``) → mask ``mlm_probability`` of the tokens (``DataCollatorForLanguageModeling``) →
the transformers ``Trainer`` (seeded, checkpoints, ``--resume``) → save the encoder without its MLM head, in the form
of the ``embedded`` directory, with ``adapt.json`` beside it. ``penalty train --model.base_model OUT`` then starts
from it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from data.corpus import data_path
from data.errors import InputError, ModelError
from data.inputs import InputFailure, read_inputs
from data.versions import library_versions
from training.config import ConfigError

logger = logging.getLogger(__name__)
ADAPT_NAME = "adapt.json"
CHECKPOINT_DIR = "checkpoints"


@dataclass
class AdaptConfig:
    base_model: str = field(
        default="embedded",
        metadata={
            "help": "Where to start: 'embedded' (offline multilingual-e5-small), a hub id or a local directory."
        },
    )
    output_dir: str = field(default="runs/adapted", metadata={"help": "Where checkpoints and the adapted encoder go."})
    max_length: int = field(
        default=128,
        metadata={
            "help": "Tokens per window. Short by default: the MLM head scores every position over the whole "
            "vocabulary (250k pieces for e5), so logits grow with batch_size x max_length."
        },
    )
    mlm_probability: float = field(default=0.15, metadata={"help": "Share of tokens masked for prediction."})
    freeze_embeddings: bool = field(
        default=True,
        metadata={
            "help": "Keep the input embedding matrix (tied to the MLM decoder) fixed: most of its 250k rows never "
            "occur in bulletins, and fine-tuning keeps it fixed too (model.freeze_embeddings)."
        },
    )
    epochs: float = field(default=1.0, metadata={"help": "Passes over the bulletin windows."})
    max_steps: int = field(default=-1, metadata={"help": "Stop after this many steps (overrides epochs when > 0)."})
    learning_rate: float = field(default=5e-5, metadata={"help": "Peak AdamW learning rate."})
    batch_size: int = field(default=8, metadata={"help": "Windows per batch."})
    save_steps: int = field(default=200, metadata={"help": "Checkpoint every N steps (for --resume)."})
    seed: int = field(default=42, metadata={"help": "Seeds the head's initialisation, window order and masks."})

    def __post_init__(self) -> None:
        if not 0 < self.mlm_probability < 1:
            raise ConfigError(f"adapt.mlm_probability must be in (0, 1), got {self.mlm_probability}")
        if self.max_length < 16:
            raise ConfigError(f"adapt.max_length must be >= 16, got {self.max_length}")
        if self.learning_rate <= 0:
            raise ConfigError(f"adapt.learning_rate must be > 0, got {self.learning_rate}")
        if self.batch_size < 1 or self.save_steps < 1:
            raise ConfigError(
                f"adapt.batch_size and save_steps must be >= 1, got {self.batch_size}, {self.save_steps}"
            )
        if self.epochs <= 0 and self.max_steps <= 0:
            raise ConfigError(f"adapt.epochs ({self.epochs}) or adapt.max_steps ({self.max_steps}) must be > 0")


@dataclass
class AdaptRunConfig:
    """The sections of an ``adapt`` config file (only ``adapt:``), parsed by ``training.config.load_config``, so
    overrides read ``--adapt.max_steps 200`` and unknown keys are errors as for ``train``."""

    adapt: AdaptConfig = field(default_factory=AdaptConfig)


@dataclass(frozen=True)
class BulletinTexts:
    """The bodies of the readable bulletins, their sources with the sha256 of each body, and what was skipped."""

    texts: list[str]
    sources: list[tuple[str, str]]
    skipped: list[InputFailure]

    @property
    def characters(self) -> int:
        return sum(len(text) for text in self.texts)


@dataclass(frozen=True)
class AdaptResult:
    model_dir: Path
    summary: dict


def read_bulletin_texts(specs: list[str]) -> BulletinTexts:
    """Bodies (after the ``SOURCE:`` header) of every bulletin in files and directories, ``corpus`` included.

    A file that cannot be read or decoded, or has no body, is logged and skipped: one bad page in a crawl must not
    cost the run.
    """
    texts: list[str] = []
    sources: list[tuple[str, str]] = []
    skipped: list[InputFailure] = []
    resolved = [str(data_path(spec)) for spec in specs]
    for item in read_inputs(resolved):  # logs each failure itself, naming the file
        if isinstance(item, InputFailure):
            skipped.append(item)
            continue
        body = item.text[item.body_start :]
        if not body.strip():
            logger.error("%s: no text after the SOURCE header; skipped", item.source)
            skipped.append(InputFailure(item.source, "no text after the SOURCE header"))
            continue
        texts.append(body)
        sources.append((item.source, hashlib.sha256(body.encode("utf-8")).hexdigest()))
    if skipped:
        logger.warning("skipped %d unreadable input(s) (listed above and in %s)", len(skipped), ADAPT_NAME)
    return BulletinTexts(texts, sources, skipped)


def adapt(config: AdaptRunConfig, data: list[str], resume: bool = False) -> AdaptResult:
    """Continue MLM pre-training of ``config.adapt.base_model`` on the bulletins of ``data`` and save the encoder.

    Args:
        config: the resolved configuration.
        data: bulletin files and directories (recursive), or ``corpus``.
        resume: continue from the newest checkpoint in ``output_dir``; the run ends as an uninterrupted one would.

    Returns:
        The output directory (a base model for ``--model.base_model``) and a summary of the run.

    Raises:
        InputError: no readable bulletin text in ``data``.
        ModelError: the base model cannot be loaded or its tokenizer has no mask token.
    """
    from transformers import set_seed

    settings = config.adapt
    set_seed(settings.seed)
    bulletins = read_bulletin_texts(data)
    if not bulletins.texts:
        raise InputError(
            f"no readable bulletin text in {data} ({len(bulletins.skipped)} input(s) skipped); give bulletin files "
            "(.txt .html .htm .docx .pdf), directories of them, or 'corpus'"
        )
    logger.info(
        "adapting %s on %d bulletin file(s), %d characters (%d skipped)",
        settings.base_model,
        len(bulletins.texts),
        bulletins.characters,
        len(bulletins.skipped),
    )
    model, tokenizer = _load_masked_lm(settings)
    windows = _windows(bulletins.texts, tokenizer, settings.max_length)
    out = Path(settings.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    trainer = _build_trainer(settings, model, tokenizer, windows, out)
    has_checkpoint = any((out / CHECKPOINT_DIR).glob("checkpoint-*"))
    result = trainer.train(resume_from_checkpoint=bool(resume and has_checkpoint))
    # The encoder alone (no MLM head): the same form as the embedded directory, so `penalty train` loads it with
    # no unused-weights report; the head is fresh at every adapt run anyway when the base model has none.
    trainer.model.base_model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    shutil.rmtree(out / CHECKPOINT_DIR, ignore_errors=True)
    summary = {
        "files": len(bulletins.texts),
        "characters": bulletins.characters,
        "skipped": len(bulletins.skipped),
        "windows": len(windows),
        "steps": result.global_step,
        "training_loss": round(result.training_loss, 4),
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    _write_record(out / ADAPT_NAME, settings, data, bulletins, summary)
    logger.info("saved the adapted encoder to %s (%d steps, loss %.4f)", out, result.global_step, result.training_loss)
    return AdaptResult(out, summary)


def _load_masked_lm(settings: AdaptConfig):
    """The base model with a masked-LM head, resolved as ``penalty train`` resolves ``model.base_model``."""
    from transformers import AutoModelForMaskedLM

    from models.base import load_base_model

    model, tokenizer = load_base_model(settings.base_model, AutoModelForMaskedLM)
    if tokenizer.mask_token_id is None:
        raise ModelError(f"base model {settings.base_model!r}: its tokenizer has no mask token; MLM needs one")
    prefix = f"{model.base_model_prefix}."
    head = [name for name, _ in model.named_parameters() if not name.startswith(prefix)]
    logger.info(
        "masked-LM head %s: a base model saved without one (the embedded e5 is a plain BertModel) gets it freshly "
        "initialised, which transformers reports as MISSING weights; expected: it is trained here and not saved",
        head,
    )
    if settings.freeze_embeddings:
        for parameter in model.get_input_embeddings().parameters():
            parameter.requires_grad_(False)
    return model, tokenizer


def _windows(texts: list[str], tokenizer, max_length: int):
    """A ``datasets.Dataset`` of token windows: bulletins normalised and cut as fine-tuning cuts case units, but
    without overlap, so no token is masked and predicted twice per epoch."""
    from datasets import Dataset

    from models.encoding import encode_units

    def tokenize(batch: dict) -> dict:
        per_text = encode_units(tokenizer, batch["text"], max_length, stride=0)
        return {"input_ids": [window for windows in per_text for window in windows]}

    return Dataset.from_dict({"text": texts}).map(
        tokenize, batched=True, remove_columns=["text"], desc="tokenising bulletins"
    )


def _build_trainer(settings: AdaptConfig, model, tokenizer, windows, out: Path):
    import torch
    from transformers import DataCollatorForLanguageModeling, Trainer, TrainingArguments

    args = TrainingArguments(
        output_dir=str(out / CHECKPOINT_DIR),
        learning_rate=settings.learning_rate,
        per_device_train_batch_size=settings.batch_size,
        num_train_epochs=settings.epochs,
        max_steps=settings.max_steps,
        save_strategy="steps",
        save_steps=settings.save_steps,
        save_total_limit=2,
        logging_steps=max(1, min(20, settings.save_steps)),
        seed=settings.seed,
        data_seed=settings.seed,
        report_to=[],
        dataloader_num_workers=0,
        use_cpu=not torch.cuda.is_available(),
        disable_tqdm=not logger.isEnabledFor(logging.INFO),
    )
    # No seed for the collator: its own generator is not in a checkpoint, while the global one the Trainer seeds
    # is restored on --resume, so a resumed run draws the masks an uninterrupted run would.
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=settings.mlm_probability)
    return Trainer(
        model=model,
        args=args,
        train_dataset=windows,
        data_collator=collator,
        processing_class=tokenizer,
    )


def _write_record(path: Path, settings: AdaptConfig, data: list[str], bulletins: BulletinTexts, summary: dict) -> None:
    """``adapt.json``: the settings, the inputs (each body's sha256, and one over the list), what was skipped,
    the outcome and library versions, so an adapted encoder can be traced back and reproduced."""
    inputs = [{"source": source, "sha256": digest} for source, digest in bulletins.sources]
    record = {
        "settings": dataclasses.asdict(settings),
        "seed": settings.seed,
        "data": data,
        "inputs_sha256": hashlib.sha256(json.dumps(inputs, ensure_ascii=False).encode("utf-8")).hexdigest(),
        "inputs": inputs,
        "skipped": [failure.to_dict() for failure in bulletins.skipped],
        "summary": summary,
        "versions": library_versions(),
    }
    path.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
