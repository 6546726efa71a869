"""``penalty train --task segment``: fit the learned case-unit segmenter (``models.segmenter``).

Training bulletins come from three places: the authored corpus (exact spans for free), layout augmentation
(``data.layouts`` re-renders authored units into the layouts real pages use) and annotated real bulletins, whose
loss counts ``data.real_oversample`` times so a few hundred real pages are not drowned by synthetic ones.
Validation is grouped by bulletin and drawn from the real bulletins (``data.real``) when there are any, so the epoch
that is kept is the one that segments real text best. A checkpoint is written after every epoch; ``--resume`` continues
from it and ends where an uninterrupted run would.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import random
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn
from tqdm.auto import tqdm

from data.annotated import load_annotated_dir
from data.corpus import data_path
from data.errors import AnnotationError
from data.labels import LabelSet
from data.segment_features import sentence_bulletin, sentence_tags
from eval.segmentation import match_spans, segmentation_scores
from models.segmenter import (
    EncodedBulletin,
    LearnedSegmenter,
    SentenceTagger,
    TaggerEnsemble,
    TaggerShape,
    TokenVectors,
    collate,
    encode_bulletin,
    spans_from_tags,
)
from training.config import CONFIG_NAME, RunConfig
from training.splits import grouped_split

logger = logging.getLogger(__name__)
CHECKPOINT_DIR = "checkpoints"
MIN_IOU = 0.5


@dataclass
class Example:
    """One training or validation bulletin: model inputs, gold spans in the original text, loss weight."""

    name: str
    text: str
    body_start: int
    encoded: EncodedBulletin
    gold: list[tuple[int, int]]
    weight: float
    real: bool  # from ``data.real``: weighted ``data.real_oversample`` times, validation drawn from these

    @property
    def doc(self) -> str:
        """The grouping key of ``training.splits``: one bulletin never sits on both sides of a split."""
        return self.name


def annotated_sources(
    specs: Sequence[str], label_set: LabelSet, real: bool = False
) -> list[tuple[str, str, int, list, bool]]:
    """``(name, text, body_start, gold spans, real)`` of every bulletin in ``corpus`` or annotated directories.

    Raises:
        AnnotationError: a spec is not ``corpus`` or a directory of ``.txt`` + ``.jsonl`` pairs.
    """
    found = []
    for spec in specs:
        directory = data_path(spec)
        if not directory.is_dir():
            raise AnnotationError(
                f"{spec}: the segmenter trains on annotated directories (bulletin .txt + gold .jsonl)"
            )
        for item in load_annotated_dir(directory, label_set):
            bulletin = item.bulletin
            found.append((f"{spec}:{item.doc}", bulletin.text, bulletin.body_start, item.spans, real))
    return found


def encode_examples(
    sources: Sequence[tuple[str, str, int, list, bool]], vectors: TokenVectors, weight: float
) -> list[Example]:
    """Sentence, tag and encode bulletins (the slow step, done once per run or cross-validation)."""
    examples = []
    for name, text, body_start, spans, real in tqdm(
        sources, desc="encoding bulletins", disable=not logger.isEnabledFor(logging.INFO)
    ):
        sentenced = sentence_bulletin(text, body_start)
        encoded = encode_bulletin(sentenced, vectors)
        normalised = [(sentenced.normalized.to_normalized(s), sentenced.normalized.to_normalized(e)) for s, e in spans]
        encoded.tags = sentence_tags(sentenced.sentences, normalised)
        examples.append(Example(name, text, body_start, encoded, list(spans), weight if real else 1.0, real))
    return examples


def layout_sources(count: int, seed: int) -> list[tuple[str, str, int, list, bool]]:
    """Synthetic pages in real layouts, rendered from the authored corpus' units."""
    if count <= 0:
        return []
    from data.layouts import corpus_unit_texts, render_bulletins

    pages = render_bulletins(corpus_unit_texts(), count, seed)
    return [(f"layout:{p.name}", p.text, 0, list(p.spans), False) for p in pages]


def split_examples(examples: list[Example], fraction: float, seed: int) -> tuple[list[Example], list[Example]]:
    """Hold out ``fraction`` of the real bulletins (else of the annotated ones) for validation, whole bulletins."""
    pool = [e for e in examples if e.real] or [e for e in examples if not e.name.startswith("layout:")]
    _, held = grouped_split(pool, fraction, seed)
    names = {e.name for e in held}
    return [e for e in examples if e.name not in names], held


def predicted_spans(tagger: TaggerEnsemble, examples: Sequence[Example]) -> list[list[tuple[int, int]]]:
    """Per example, the units the tagger finds (original offsets)."""
    spans = []
    for batch in _batches(list(examples), 32):
        for example, tags in zip(batch, tagger.tag([e.encoded for e in batch]), strict=True):
            spans.append(spans_from_tags(example.encoded.sentenced, tags))
    return spans


def span_rows(predicted: list[list[tuple[int, int]]], examples: Sequence[Example]) -> list[tuple[int, int, list]]:
    """Per example: units found, gold units, and the matched pairs (IoU >= 0.5, original offsets)."""
    return [
        (len(spans), len(e.gold), match_spans(spans, e.gold, MIN_IOU))
        for spans, e in zip(predicted, examples, strict=True)
    ]


def score(tagger: TaggerEnsemble, examples: Sequence[Example]) -> dict:
    """Segmentation P/R/F1 of the tagger on examples."""
    return segmentation_scores(span_rows(predicted_spans(tagger, examples), examples))


def _batches(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def fit_tagger(
    config: RunConfig,
    embedding_dim: int,
    train: list[Example],
    validation: list[Example],
    checkpoints: Path,
    seed: int,
    resume: bool = False,
) -> tuple[SentenceTagger, dict]:
    """Train one tagger from ``seed``; keep the epoch with the best validation F1 (the last one without validation)."""
    options = config.segmenter
    # Batches of a few bulletins x a few dozen sentences: extra threads only wait on each other (and on whatever
    # else the machine runs), so the tagger trains on one unless training.num_threads says otherwise.
    torch.set_num_threads(config.training.num_threads or 1)
    torch.manual_seed(seed)
    shape = TaggerShape(
        embedding_dim=embedding_dim,
        hidden_size=options.hidden_size,
        layers=options.layers,
        dropout=options.dropout,
    )
    tagger = SentenceTagger(shape)
    optimizer = torch.optim.AdamW(tagger.parameters(), lr=options.learning_rate, weight_decay=0.01)
    scorer = TaggerEnsemble([tagger])
    state = {"epoch": 0, "best_f1": -1.0, "best_epoch": 0, "stale": 0, "history": []}
    if resume and (checkpoints / "state.json").exists():
        state = _load_checkpoint(checkpoints, tagger, optimizer)
        logger.info("resuming tagger %s after epoch %d", checkpoints.name, state["epoch"])
    best = {k: v.clone() for k, v in tagger.state_dict().items()}
    if (checkpoints / "best.safetensors").exists() and resume:
        best = load_file(str(checkpoints / "best.safetensors"))
    trainable = [e for e in train if e.encoded.sentenced.sentences]
    for epoch in range(state["epoch"] + 1, options.epochs + 1):
        if state["stale"] >= options.patience > 0:
            break
        tagger.train()
        order = list(range(len(trainable)))
        random.Random(seed * 1000 + epoch).shuffle(order)
        total, started = 0.0, time.perf_counter()
        for indices in _batches(order, options.batch_size):
            batch_examples = [trainable[i] for i in indices]
            batch = collate([e.encoded for e in batch_examples], with_tags=True)
            losses = tagger.sequence_nll(tagger(batch), batch["tags"], batch["mask"])
            weights = torch.tensor([e.weight for e in batch_examples])
            loss = (losses * weights).sum() / (batch["mask"].sum(dim=1) * weights).sum()  # per weighted sentence
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(tagger.parameters(), 1.0)
            optimizer.step()
            total += loss.item()
        tagger.eval()
        record = {"epoch": epoch, "loss": round(total / max(1, len(order) / options.batch_size), 4)}
        if validation:
            scores = score(scorer, validation)
            record |= {k: round(scores[k], 4) for k in ("precision", "recall", "f1")}
            if scores["f1"] > state["best_f1"]:
                state |= {"best_f1": scores["f1"], "best_epoch": epoch, "stale": 0}
                best = {k: v.clone() for k, v in tagger.state_dict().items()}
            else:
                state["stale"] += 1
        else:
            best = {k: v.clone() for k, v in tagger.state_dict().items()}
        record["seconds"] = round(time.perf_counter() - started, 1)
        state["history"].append(record)
        state["epoch"] = epoch
        logger.info("segmenter (seed %d) epoch %s", seed, record)
        _save_checkpoint(checkpoints, tagger, optimizer, state, best)
    tagger.load_state_dict(best)
    tagger.eval()
    return tagger, {"seed": seed, "best_epoch": state["best_epoch"], "history": state["history"]}


def fit_ensemble(
    config: RunConfig,
    vectors: TokenVectors,
    train: list[Example],
    validation: list[Example],
    out: Path,
    resume: bool = False,
) -> tuple[LearnedSegmenter, dict]:
    """Train ``segmenter.ensemble`` taggers from seeds ``training.seed``, +1, … and join them.

    Members are independent, so up to ``segmenter.workers`` train at once in spawned processes (each on one
    thread, as one tagger trains fastest). Each member checkpoints into its own directory, so ``--resume`` picks
    every member up where it stopped.
    """
    seeds = [config.training.seed + i for i in range(config.segmenter.ensemble)]
    jobs = [
        (config, vectors.dim, train, validation, out / CHECKPOINT_DIR / f"member-{i}", seed, resume)
        for i, seed in enumerate(seeds)
    ]
    workers = min(len(jobs), config.segmenter.workers or os.cpu_count() or 1)
    if workers > 1:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            fitted = list(pool.map(_fit_member, [logging.getLogger().getEffectiveLevel()] * len(jobs), jobs))
    else:
        fitted = [fit_tagger(*job) for job in jobs]
    segmenter = LearnedSegmenter(
        TaggerEnsemble([tagger for tagger, _ in fitted]), vectors, {"base_model": config.model.base_model}, str(out)
    )
    summary: dict = {"members": [member for _, member in fitted]}
    if validation:
        summary["validation"] = {k: round(v, 4) for k, v in score(segmenter.tagger, validation).items()}
    return segmenter, summary


def _fit_member(level: int, job: tuple) -> tuple[SentenceTagger, dict]:
    """``fit_tagger`` in a worker process, logging at the parent's level."""
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    return fit_tagger(*job)


def _save_checkpoint(directory: Path, tagger: nn.Module, optimizer: torch.optim.Optimizer, state: dict, best: dict):
    """Weights, optimizer moments and loop state, all as safetensors or JSON (nothing pickled)."""
    directory.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in tagger.state_dict().items()}, str(directory / "last.safetensors"))
    save_file({k: v.contiguous() for k, v in best.items()}, str(directory / "best.safetensors"))
    moments = optimizer.state_dict()
    tensors = {f"{p}.{k}": v for p, values in moments["state"].items() for k, v in values.items()}
    save_file(tensors | {"torch_rng": torch.get_rng_state()}, str(directory / "optimizer.safetensors"))
    (directory / "state.json").write_text(json.dumps(state | {"param_groups": moments["param_groups"]}))


def _load_checkpoint(directory: Path, tagger: nn.Module, optimizer: torch.optim.Optimizer) -> dict:
    state = json.loads((directory / "state.json").read_text())
    tagger.load_state_dict(load_file(str(directory / "last.safetensors")))
    tensors = load_file(str(directory / "optimizer.safetensors"))
    torch.set_rng_state(tensors.pop("torch_rng"))
    moments: dict[int, dict] = {}
    for key, value in tensors.items():
        param, name = key.split(".", 1)
        moments.setdefault(int(param), {})[name] = value
    optimizer.load_state_dict({"state": moments, "param_groups": state.pop("param_groups")})
    return state


def train_segmenter(config: RunConfig, resume: bool = False) -> tuple[Path, dict]:
    """Load data, train and save the segmenter into ``training.output_dir``; returns the directory and summary."""
    started = time.perf_counter()
    label_set = LabelSet.load(config.data.label_set)
    vectors = TokenVectors(config.model.base_model)
    real_specs = [spec for spec in config.data.real if Path(spec).is_dir()]
    for missing in sorted(set(config.data.real) - set(real_specs)):
        logger.warning("data.real: %s not found; training the segmenter without it", missing)
    sources = annotated_sources(config.data.train, label_set)
    sources += annotated_sources(real_specs, label_set, real=True)
    sources += layout_sources(config.segmenter.layout_pages, config.training.seed)
    weight = float(config.data.real_oversample)
    examples = encode_examples(sources, vectors, weight)
    if config.data.validation:
        train, validation = (
            examples,
            encode_examples(annotated_sources(config.data.validation, label_set), vectors, 1.0),
        )
    else:
        fraction = config.data.real_validation_fraction if real_specs else config.data.validation_fraction
        train, validation = split_examples(examples, fraction, config.training.seed)
    counts = {
        "train_bulletins": len(train),
        "train_real": sum(e.real for e in train),
        "train_layouts": sum(e.name.startswith("layout:") for e in train),
        "validation_bulletins": len(validation),
    }
    logger.info("segmenter data: %s", counts)
    out = Path(config.training.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    segmenter, summary = fit_ensemble(config, vectors, train, validation, out, resume)
    summary |= counts | {"train_seconds": round(time.perf_counter() - started, 1)}
    segmenter.save(out, summary)
    config.save(out / CONFIG_NAME)
    logger.info("saved the segmenter to %s (validation %s)", out, summary.get("validation"))
    return out, summary
