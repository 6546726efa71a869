"""``penalty train``: fit a model on annotated case units and save a self-contained model directory.

The run: resolve config → load and validate cases (authored, plus real bulletins when present) → split grouped by
bulletin, validation drawn from the real units when there are any → fit (TF-IDF pipeline, or the multi-task encoder
with the transformers Trainer) → tune rule fusion, penalty thresholds, temperatures and the review band on validation
→ save weights, config, labels, versions, validation summary and a model card.
"""

from __future__ import annotations

import collections
import csv
import hashlib
import logging
import math
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from transformers import TrainerCallback

from data.augment import augment_cases
from data.formats import load_valid_cases
from data.labels import LabelSet
from data.types import GoldCase
from eval.metrics import unit_metrics
from models.calibration import Calibration
from models.fusion import FusedLabeler, blend, rate_rules
from models.predictor import Predictor
from models.rules import RuleLabeler
from models.store import write_meta
from training.calibration import fit_calibration, fit_rule_rates
from training.card import write_model_card
from training.config import CONFIG_NAME, RunConfig
from training.fusion import tune_fusion
from training.splits import grouped_split
from training.thresholds import tune_thresholds
from training.warm_start import check_init_from, load_init_model

logger = logging.getLogger(__name__)
CHECKPOINT_DIR = "checkpoints"
PENALTY_UNKNOWN = -1.0  # penalty label of an incomplete unit; models.multitask masks negative labels out of the loss
METRICS_LOG = "metrics.csv"


@dataclass(frozen=True)
class TrainResult:
    model_dir: Path
    summary: dict


def train(
    config: RunConfig,
    resume: bool = False,
    train_cases: list[GoldCase] | None = None,
    real_cases: list[GoldCase] | None = None,
) -> TrainResult:
    """Train and save a model as configured.

    Args:
        config: the resolved run configuration.
        resume: continue from the newest checkpoint in ``output_dir`` (a killed run ends as an uninterrupted one).
        train_cases: use these cases instead of ``config.data.train`` (cross-validation passes its folds).
        real_cases: use these instead of ``config.data.real``; with ``train_cases`` and without these, no real data
            is read (a cross-validation fold must never see its test bulletins through ``data.real``).

    Raises:
        AnnotationError: training data has invalid records (all are listed) or is empty.
        ModelError: the base model cannot be loaded.
    """
    from transformers import set_seed

    set_seed(config.training.seed)
    label_set = LabelSet.load(config.data.label_set)
    if config.training.init_from:
        check_init_from(config, label_set)  # before any data is read: a wrong model is refused at once
    cases = train_cases if train_cases is not None else load_valid_cases(config.data.train, label_set)
    if real_cases is None:
        real_cases = [] if train_cases is not None else _load_real(config.data.real, label_set)
    train_split, validation, real_train = _split(config, cases, real_cases, label_set)
    # Training units only, after the split: a copy never shares a bulletin with validation or a CV test fold.
    augmented = augment_cases(train_split, config.data.augment, config.training.seed, config.data.augment_kinds)
    train_split = train_split + augmented
    _log_summary(config, train_split, validation, real_train)
    out = Path(config.training.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if config.model.model_type == "tfidf":
        predictor = _fit_tfidf(config, label_set, train_split, out)
    else:
        predictor = _fit_bert(config, label_set, train_split, validation, out, resume)
    if not _is_main_process():
        return TrainResult(out, {})  # under torchrun only rank 0 tunes, scores and writes the model directory
    summary = {
        "train_cases": len(train_split),
        "train_bulletins": len({c.doc for c in train_split}),
        "real_train_cases": len(real_train),
        "real_oversample": config.data.real_oversample if real_train else 1,
        "augmented_cases": len(augmented),
        "validation_cases": len(validation),
        "validation_source": _validation_source(config, real_cases),
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    if config.training.init_from:
        summary["init_from"] = config.training.init_from
    thresholds: dict[str, float] = {}
    fusion: dict[str, float] = {}
    rule_rates: dict[str, list[float]] = {}
    calibration = Calibration()
    if validation:
        texts = [c.text for c in validation]
        scores = predictor.labeler.score_texts(texts)
        if config.model.rule_fusion:
            rule_labeler = RuleLabeler(label_set)
            if real_train:
                rule_rates = fit_rule_rates(real_train, rule_labeler.score_texts([c.text for c in real_train]))
                logger.info("rule penalty rates [no cue, cue] on the real training units: %s", rule_rates)
            rules = [rate_rules(r, rule_rates) for r in rule_labeler.score_texts(texts)]
            fusion = tune_fusion(validation, scores, rules, label_set, config.training.seed)
            predictor.labeler = FusedLabeler(predictor.labeler, fusion, rule_rates)
            scores = [blend(a, b, fusion) for a, b in zip(scores, rules, strict=True)]
            logger.info("rule fusion weights (share of the model, tuned on validation): %s", fusion)
        thresholds = tune_thresholds(validation, scores, label_set.penalties, config.training.seed)
        predictor.thresholds = thresholds
        calibration = fit_calibration(
            validation, scores, predictor, config.training.review_accuracy, config.training.review_max_share
        )
        predictor.calibration = calibration
        logger.info("calibration (tuned on validation): %s", calibration.to_dict())
        predictions = predictor.predict_units(texts)
        metrics = unit_metrics(validation, predictions, label_set)
        summary["validation"] = {k: round(v, 4) for k, v in metrics.items() if isinstance(v, float)}
        summary["validation"]["flagged_share"] = round(float(np.mean([p.needs_review for p in predictions])), 4)
    config.save(out / CONFIG_NAME)
    windows = {"max_length": config.data.max_length, "stride": config.data.stride}
    extra = {
        "windows": windows,
        "rule_fusion": fusion,
        "rule_rates": rule_rates,
        "calibration": calibration.to_dict(),
        "summary": summary,
    }
    write_meta(out, config.model.model_type, label_set, thresholds, extra)
    write_model_card(out, config, label_set, summary, fusion)
    logger.info("saved %s model to %s (%.0f s)", config.model.model_type, out, summary["train_seconds"])
    return TrainResult(out, summary)


def _is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def _load_real(specs: list[str], label_set: LabelSet) -> list[GoldCase]:
    """The real annotated bulletins of ``data.real`` that exist: a clone without ../shared trains on the rest."""
    present = [spec for spec in specs if Path(spec).exists()]
    for spec in sorted(set(specs) - set(present)):
        logger.warning("data.real: %s not found; training without it", spec)
    return load_valid_cases(present, label_set) if present else []


def _split(
    config: RunConfig, cases: list[GoldCase], real: list[GoldCase], label_set: LabelSet
) -> tuple[list[GoldCase], list[GoldCase], list[GoldCase]]:
    """Training units (real ones repeated ``real_oversample`` times), validation units and the real training units.

    Validation, in order of preference: ``data.validation``; a bulletin-grouped share of the real units (so early
    stopping, fusion, thresholds and calibration are chosen on the text the model is for); a share of ``cases``.
    """
    if config.data.validation:
        real_train, validation = real, load_valid_cases(config.data.validation, label_set)
    elif real:
        real_train, validation = grouped_split(real, config.data.real_validation_fraction, config.training.seed)
    else:
        cases, validation = grouped_split(cases, config.data.validation_fraction, config.training.seed)
        real_train = []
    return cases + real_train * config.data.real_oversample, validation, real_train


def _validation_source(config: RunConfig, real: list[GoldCase]) -> str:
    if config.data.validation:
        return "data.validation"
    return "real" if real else "train split"


def _log_summary(
    config: RunConfig, train_split: list[GoldCase], validation: list[GoldCase], real_train: list[GoldCase]
) -> None:
    offenses = collections.Counter(c.offense for c in train_split)
    penalties = collections.Counter(p for c in train_split for p in c.penalties)
    logger.info(
        "training %s on %d units (%d bulletins; %d real units x %d), validating on %d units (%d bulletins)\n"
        "  offense: %s\n  penalties: %s\n"
        "  batch %d, epochs %s, lr %g, seed %d",
        config.model.model_type,
        len(train_split),
        len({c.doc for c in train_split}),
        len(real_train),
        config.data.real_oversample if real_train else 1,
        len(validation),
        len({c.doc for c in validation}),
        dict(offenses.most_common()),
        dict(penalties.most_common()),
        config.training.batch_size,
        config.training.epochs,
        config.training.learning_rate,
        config.training.seed,
    )


def _fit_tfidf(config: RunConfig, label_set: LabelSet, cases: list[GoldCase], out: Path) -> Predictor:
    from models.tfidf import TfidfLabeler

    class_weight = None if config.model.class_weights == "none" else "balanced"
    labeler = TfidfLabeler(label_set).fit(cases, class_weight=class_weight, seed=config.training.seed)
    labeler.save(out)
    return Predictor(labeler, name=str(out))


def class_weights(
    cases: list[GoldCase], label_set: LabelSet, mode: str
) -> tuple[list[float] | None, list[float] | None]:
    """Offense cross-entropy weights and penalty positive weights from label frequencies.

    ``sqrt`` softens ``balanced`` inverse frequencies: rare labels count more without swamping the common ones.
    """
    if mode == "none":
        return None, None
    power = 0.5 if mode == "sqrt" else 1.0
    counts = collections.Counter(c.offense for c in cases)
    offense = [(len(cases) / (len(label_set.offenses) * max(counts[o], 1))) ** power for o in label_set.offenses]
    complete = [c for c in cases if c.complete]  # the penalty loss skips incomplete units, so do their weights
    positives = collections.Counter(p for c in complete for p in c.penalties)
    pos_weight = [
        min(((len(complete) - positives[p]) / max(positives[p], 1)) ** power, 10.0) for p in label_set.penalties
    ]
    return offense, pos_weight


def build_model(config: RunConfig, label_set: LabelSet, train_split: list[GoldCase]):
    """The multi-task model on the configured base encoder, or the trained model of ``training.init_from`` (class
    weights from ``train_split``, layers frozen)."""
    from models.base import load_base_model
    from models.multitask import MultiTaskModel

    offense_weights, pos_weights = class_weights(train_split, label_set, config.model.class_weights)
    if config.training.init_from:
        model, tokenizer = load_init_model(config)
        # Loss weights live in the config: those of the new training data, not of the data the model first saw.
        model.config.offense_weights, model.config.penalty_pos_weights = offense_weights, pos_weights
        _freeze(model, config.model.freeze_embeddings, config.model.freeze_layers)
        return model, tokenizer
    encoder, tokenizer = load_base_model(config.model.base_model, attention_dropout=config.model.attention_dropout)
    model = MultiTaskModel.from_encoder(
        encoder,
        offenses=list(label_set.offenses),
        penalties=list(label_set.penalties),
        parties=list(label_set.parties),
        offense_weights=offense_weights,
        penalty_pos_weights=pos_weights,
        pooling=config.model.pooling,
    )
    _freeze(model, config.model.freeze_embeddings, config.model.freeze_layers)
    return model, tokenizer


def build_trainer(
    config: RunConfig,
    label_set: LabelSet,
    model,
    tokenizer,
    train_split: list[GoldCase],
    validation: list[GoldCase],
    out: Path,
):
    """Our training path as a ``transformers.Trainer``: windowed units, length-grouped batches with dynamic padding,
    two learning rates, bf16 where the GPU supports it, early stopping on validation offense macro-F1."""
    import torch
    from transformers import EarlyStoppingCallback, Trainer, TrainingArguments

    from models.encoding import LABEL_NAMES, WindowCollator

    train_data = _tokenized(train_split, tokenizer, label_set, config)
    eval_data = _tokenized(validation, tokenizer, label_set, config) if validation else None
    steps_per_epoch = math.ceil(len(train_data) / config.training.batch_size)
    every = config.training.eval_steps or steps_per_epoch
    bf16 = config.training.bf16 == "true" or (
        config.training.bf16 == "auto" and torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    )
    args = TrainingArguments(
        output_dir=str(out / CHECKPOINT_DIR),
        learning_rate=config.training.learning_rate,
        per_device_train_batch_size=config.training.batch_size,
        per_device_eval_batch_size=config.training.eval_batch_size,
        num_train_epochs=config.training.epochs,
        max_steps=config.training.max_steps,
        weight_decay=config.training.weight_decay,
        warmup_steps=int(config.training.warmup_ratio * steps_per_epoch * config.training.epochs),
        eval_strategy="steps" if eval_data is not None else "no",
        save_strategy="steps",
        eval_steps=every,
        save_steps=every,
        logging_steps=max(1, min(20, every)),
        save_total_limit=2,
        load_best_model_at_end=eval_data is not None,
        metric_for_best_model="offense_macro_f1",
        greater_is_better=True,
        seed=config.training.seed,
        data_seed=config.training.seed,
        bf16=bf16,
        torch_compile=config.training.torch_compile,
        train_sampling_strategy="group_by_length",
        remove_unused_columns=False,
        label_names=LABEL_NAMES,
        report_to=[],
        dataloader_num_workers=0,
        use_cpu=not torch.cuda.is_available(),  # else accelerate runs torchrun's CPU processes unsynchronised
        disable_tqdm=not logger.isEnabledFor(logging.INFO),
    )
    callbacks = [CsvMetricsLogger(out / METRICS_LOG)]
    if eval_data is not None and config.training.early_stopping_patience > 0:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.training.early_stopping_patience))
    return Trainer(
        model=model,
        optimizers=(_optimizer(model, config), None),
        args=args,
        train_dataset=train_data,
        eval_dataset=eval_data,
        data_collator=WindowCollator(tokenizer.pad_token_id),
        processing_class=tokenizer,
        compute_metrics=_trainer_metrics(label_set) if eval_data is not None else None,
        callbacks=callbacks,
    )


def _fit_bert(
    config: RunConfig,
    label_set: LabelSet,
    train_split: list[GoldCase],
    validation: list[GoldCase],
    out: Path,
    resume: bool,
) -> Predictor:
    import torch

    from models.bert_labeler import BertLabeler

    if config.training.num_threads > 0:
        torch.set_num_threads(config.training.num_threads)
    model, tokenizer = build_model(config, label_set, train_split)
    trainer = build_trainer(config, label_set, model, tokenizer, train_split, validation, out)
    has_checkpoint = any((out / CHECKPOINT_DIR).glob("checkpoint-*"))
    trainer.train(resume_from_checkpoint=bool(resume and has_checkpoint))
    model = trainer.model
    if trainer.is_world_process_zero():
        model.save_pretrained(out)
        tokenizer.save_pretrained(out)
        shutil.rmtree(out / CHECKPOINT_DIR, ignore_errors=True)
    labeler = BertLabeler(
        model, tokenizer, label_set, config.data.max_length, config.data.stride, config.training.eval_batch_size
    )
    return Predictor(labeler, name=str(out))


def _optimizer(model, config: RunConfig):
    """AdamW with two groups: the pretrained encoder at ``learning_rate``, the new heads at ``head_learning_rate``
    (random heads need larger steps than pretrained weights); fused on CUDA."""
    import torch

    def group(params: list, lr: float) -> list[dict]:
        decay = [p for p in params if p.ndim > 1]
        no_decay = [p for p in params if p.ndim <= 1]  # biases and LayerNorm weights are not decayed
        return [
            {"params": decay, "lr": lr, "weight_decay": config.training.weight_decay},
            {"params": no_decay, "lr": lr, "weight_decay": 0.0},
        ]

    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    encoder = [p for n, p in trainable if n.startswith("encoder.")]
    heads = [p for n, p in trainable if not n.startswith("encoder.")]
    groups = group(encoder, config.training.learning_rate) + group(heads, config.training.head_learning_rate)
    return torch.optim.AdamW([g for g in groups if g["params"]], fused=torch.cuda.is_available())


def _freeze(model, embeddings: bool, layers: int) -> None:
    """Fix the embedding matrix and the lowest ``layers`` encoder layers: their gradients cost most and help least."""
    if embeddings or layers > 0:
        for parameter in model.encoder.get_input_embeddings().parameters():
            parameter.requires_grad_(False)
    stack = getattr(getattr(model.encoder, "encoder", None), "layer", None)
    if layers > 0 and stack is not None:
        for layer in list(stack)[:layers]:
            for parameter in layer.parameters():
                parameter.requires_grad_(False)


def _tokenized(cases: list[GoldCase], tokenizer, label_set: LabelSet, config: RunConfig):
    """A ``datasets.Dataset`` of windowed units with labels, cached on disk by content so re-runs skip tokenising."""
    from datasets import Dataset

    from models.encoding import encode_units
    from models.store import cache_dir

    records = {
        "text": [c.text for c in cases],
        "offense_labels": [label_set.offenses.index(c.offense) for c in cases],
        # spec 'complete': an incomplete unit (cut off before its disposal) does not show its penalties; -1 marks
        # them unknown, the model masks them out of the penalty loss and validation skips them (_trainer_metrics)
        "penalty_labels": [
            [float(p in c.penalties) if c.complete else PENALTY_UNKNOWN for p in label_set.penalties] for c in cases
        ],
        "party_labels": [label_set.parties.index(c.party) for c in cases],
    }
    key = hashlib.sha256(
        repr((records, tokenizer.name_or_path, len(tokenizer), config.data.max_length, config.data.stride)).encode()
    ).hexdigest()[:20]
    path = cache_dir() / "datasets"
    path.mkdir(parents=True, exist_ok=True)

    def tokenize(batch: dict) -> dict:
        windows = encode_units(tokenizer, batch["text"], config.data.max_length, config.data.stride)
        return {"input_ids": windows, "length": [sum(len(w) for w in unit) for unit in windows]}

    return Dataset.from_dict(records).map(
        tokenize,
        batched=True,
        remove_columns=["text"],
        cache_file_name=str(path / f"units-{key}.arrow"),
        desc="tokenising",
    )


def _trainer_metrics(label_set: LabelSet):
    """``compute_metrics`` for the Trainer: logits of whole units → the project's metrics (eval/metrics.py)."""
    from eval.metrics import CaseLabels, compute_metrics

    def compute(prediction) -> dict:
        offense_logits, penalty_logits, party_logits = prediction.predictions[:3]
        offense_ids, penalty_ids, party_ids = prediction.label_ids
        gold = [
            CaseLabels(
                label_set.offenses[o],
                frozenset(p for p, on in zip(label_set.penalties, row, strict=True) if on > 0),
                label_set.parties[a],
                complete=not (row < 0).any(),  # PENALTY_UNKNOWN: an incomplete unit, penalties not scored
            )
            for o, row, a in zip(offense_ids, penalty_ids, party_ids, strict=True)
        ]
        predicted = [
            CaseLabels(
                label_set.offenses[int(np.argmax(o))],
                frozenset(p for p, z in zip(label_set.penalties, row, strict=True) if z > 0),
                label_set.parties[int(np.argmax(a))],
            )
            for o, row, a in zip(offense_logits, penalty_logits, party_logits, strict=True)
        ]
        metrics = compute_metrics(gold, predicted, label_set)
        return {k: v for k, v in metrics.items() if isinstance(v, float)}

    return compute


class CsvMetricsLogger(TrainerCallback):
    """Appends every logged figure (loss, learning rate, validation metrics) to a CSV file, one row per figure."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_log(self, args, state, control, logs=None, **kwargs) -> None:
        if not state.is_world_process_zero or not logs:
            return
        new = not self.path.exists()
        with open(self.path, "a", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            if new:
                writer.writerow(["step", "epoch", "name", "value"])
            for name, value in logs.items():
                writer.writerow([state.global_step, round(state.epoch or 0, 3), name, value])
