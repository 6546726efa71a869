"""Simulated active learning: how fast each selection strategy of ``penalty annotate --select`` lifts the labeler.

Usage: ``python benchmarks/active_learning.py [--model-type tfidf|bert] [--round-size 10] [--rounds R] [--seeds 3]``
(``--help`` for the rest; any ``--section.key value`` is a training-config override, as in ``penalty train``).

The study: train on the base data alone (default the authored corpus), then add the pool's annotated bulletins
(default ``../shared/data/real-train``) ``--round-size`` at a time in the order a strategy picks them, retrain after
each round and score every round's model on the evaluation set (default ``../shared/data/real``). Nothing is tuned on
the evaluation set: it only scores.

* Training: ``training.train.train`` with the base cases as ``data.train`` and the picked bulletins as ``data.real``,
  exactly what ``penalty train --data.real '[picked/]'`` does: real units oversampled ``data.real_oversample`` times,
  validation (thresholds, calibration) drawn from the picked bulletins, grouped by bulletin; the base model of round 0
  validates on a share of the base data. ``training.seed`` is the curve's seed. ``--validation base`` instead holds
  out one share of the base bulletins per seed for every round and trains on every picked bulletin: the curves then
  show what the picked data changes, without a validation set re-drawn from a few bulletins each round.
* Scoring: unit level, as ``penalty evaluate`` scores annotation files (``Predictor.predict_units`` on the gold units'
  texts, then ``eval.metrics.unit_metrics``): offense macro-F1 and the fully-correct share.
* Selection, from the remaining pool: ``random`` draws a sample seeded by the seed; ``uncertainty`` and ``diverse``
  rank the bulletins with ``models.selection`` as ``penalty annotate`` does, by the current round's model reading the
  pool's **gold units** (annotation would give them; the segmenter's errors stay out of the comparison), with the
  rules as the second opinion; ``diverse`` clusters the remaining bulletins' gold-unit texts by their mean e5 token
  vectors (KMeans seeded by the seed).

A round whose picked set and seed were already trained (round 0 for every strategy, the whole pool at the end) is
reused rather than retrained. Writes ``OUTPUT/index.html`` (two learning-curve plots, mean and range over seeds; the
figures; time per round), ``OUTPUT/points.json`` (every point) and the PNGs; prints the table to stdout and progress to
stderr. Real text never enters the report: it names pool bulletins by file name only.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import html
import io
import json
import logging
import random
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from data.annotated import load_annotated_dir  # noqa: E402
from data.errors import PenaltyError  # noqa: E402
from data.formats import load_valid_cases  # noqa: E402
from data.gold import write_gold_jsonl  # noqa: E402
from data.labels import LabelSet  # noqa: E402
from data.types import CaseUnit, GoldCase  # noqa: E402
from eval.evalset import load_eval_set  # noqa: E402
from eval.metrics import unit_metrics  # noqa: E402
from models.annotate import bulletin_doubts  # noqa: E402
from models.predictor import Predictor  # noqa: E402
from models.selection import (
    DIVERSE,
    RANDOM,
    STRATEGIES,
    UNCERTAINTY,
    Doubt,
    bulletin_text,
    embed_bulletins,
    pick_bulletins,
)  # noqa: E402
from training.config import DEFAULT_CONFIG, RunConfig, load_config  # noqa: E402
from training.splits import grouped_split  # noqa: E402
from training.train import train  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
FIGURES = {"offense_macro_f1": "offense macro-F1", "fully_correct": "fully correct"}
KEPT = (*FIGURES, "offense_accuracy", "penalty_micro_f1")
DEFAULT_SEEDS = 3
ORDER = (RANDOM, UNCERTAINTY, DIVERSE)  # of curves in the report: the baseline first
PICKED, BASE = "picked", "base"
COLOURS = {"random": "#777777", "uncertainty": "#1f77b4", "diverse": "#d62728"}


@dataclass(frozen=True)
class PoolBulletin:
    """An annotated bulletin of the pool: its gold units as case units (what selection reads) and as gold cases."""

    doc: str
    units: list[CaseUnit]
    cases: list[GoldCase]


@dataclass
class Trained:
    """One trained round: its scores on the evaluation set and, when a strategy needs them, the doubts of the pool
    bulletins it was not trained on (``doc`` → doubt)."""

    metrics: dict[str, float]
    doubts: dict[str, Doubt]
    seconds: float


@dataclass
class Study:
    """What every curve shares: the data, the config and the models trained so far, keyed by (picked docs, seed)."""

    config: RunConfig
    label_set: LabelSet
    base: list[GoldCase]
    pool: list[PoolBulletin]
    evaluation: list[GoldCase]
    vectors: np.ndarray | None
    work_dir: Path
    needs_doubts: bool
    validation: str = PICKED
    trained: dict[tuple[frozenset[str], int], Trained] = field(default_factory=dict)

    def base_for(self, seed: int) -> tuple[list[GoldCase], list[str]]:
        """The base cases to train on and the ``data.validation`` files for ``seed``: with ``--validation base`` a
        share of the base bulletins (grouped split seeded by ``seed``) written to a gold file, else none (validation
        then comes from the picked bulletins, or from the base data in round 0, as ``penalty train`` draws it)."""
        if self.validation == PICKED:
            return self.base, []
        base, validation = grouped_split(self.base, self.config.data.validation_fraction, seed)
        path = self.work_dir / f"validation-seed{seed}.jsonl"
        self.work_dir.mkdir(parents=True, exist_ok=True)
        write_gold_jsonl(validation, path)
        return base, [str(path)]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=Path, default=SHARED / "real-train", help="annotated bulletins to pick from")
    parser.add_argument("--eval", type=Path, default=SHARED / "real", help="annotated bulletins that score each round")
    parser.add_argument("--train", action="append", help="base training data (repeatable; default: corpus)")
    parser.add_argument("--strategy", action="append", choices=STRATEGIES, help="repeatable; default: all three")
    parser.add_argument(
        "--seeds",
        type=parse_seeds,
        default={},
        help="seeds 0..N-1: N for every strategy (default 3), or per strategy, e.g. random=3,uncertainty=2,diverse=2",
    )
    parser.add_argument("--round-size", type=int, default=10, help="bulletins added per round (default 10)")
    parser.add_argument("--rounds", type=int, help="rounds after the base model (default: until the pool is used up)")
    parser.add_argument("--max-bulletins", type=int, help="stop once this many pool bulletins are annotated")
    parser.add_argument("--model-type", choices=["tfidf", "bert"], default="tfidf", help="the labeler retrained")
    parser.add_argument(
        "--validation",
        choices=[PICKED, BASE],
        default=PICKED,
        help="picked: as penalty train, a share of the picked bulletins (default); base: one fixed share of the base "
        "data per seed, every picked bulletin trained on (less noise from re-drawn validation sets)",
    )
    parser.add_argument("--epochs", type=float, help="training epochs of --model-type bert (default: the config's)")
    parser.add_argument("--vectors-from", default="embedded", help="base model whose token vectors diverse clusters")
    parser.add_argument("--output", type=Path, default=Path("reports/active_learning"), help="report directory")
    parser.add_argument("--work-dir", type=Path, default=Path("runs/active_learning"), help="each round's model")
    parser.add_argument("--replot", type=Path, help="re-render the report of a points.json (no training)")
    parser.add_argument("-v", "--verbose", action="store_true", help="the training log too (stderr)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args, overrides = build_parser().parse_known_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(name)s: %(message)s")
    if args.round_size < 1:
        print("active_learning: --round-size must be 1 or more", file=sys.stderr)
        return 2
    if args.replot:
        saved = json.loads(args.replot.read_text(encoding="utf-8"))
        result = summarise(saved["points"], list(saved["setup"]["seeds"]), saved["setup"])
        write_report(result, args.output)
        print(render_text(result))
        return 0
    strategies = sorted(dict.fromkeys(args.strategy or STRATEGIES), key=ORDER.index)
    seeds = {strategy: args.seeds.get(strategy, args.seeds.get("*", DEFAULT_SEEDS)) for strategy in strategies}
    try:
        study = prepare_study(args, overrides)
        sizes = round_sizes(len(study.pool), args.round_size, args.rounds, args.max_bulletins)
        # Seed by seed, so that the models every strategy shares (round 0, the whole pool) are trained once.
        points = [
            point
            for seed in range(max(seeds.values()))
            for strategy in strategies
            if seed < seeds[strategy]
            for point in run_curve(study, strategy, seed, sizes)
        ]
    except PenaltyError as err:
        print(f"active_learning: error: {err}", file=sys.stderr)
        return 1
    result = summarise(points, strategies, setup_of(args, study, sizes, overrides, seeds))
    write_report(result, args.output)
    print(render_text(result))
    return 0


def parse_seeds(value: str) -> dict[str, int]:
    """``3`` → ``{"*": 3}``; ``random=3,uncertainty=2`` → per strategy (the others get the default)."""
    try:
        if "=" not in value:
            seeds = {"*": int(value)}
        else:
            seeds = {name.strip(): int(count) for name, count in (part.split("=") for part in value.split(","))}
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or STRATEGY=N,..., found {value!r}") from None
    unknown = set(seeds) - {"*", *STRATEGIES}
    if unknown or min(seeds.values()) < 1:
        raise argparse.ArgumentTypeError(f"seed counts are 1 or more, strategies {STRATEGIES}; found {value!r}")
    return seeds


def prepare_study(args: argparse.Namespace, overrides: list[str]) -> Study:
    """Read the data and resolve the training config (``configs/default.yaml`` + the labeler choice + overrides)."""
    model = ["--model.model_type", args.model_type]
    if args.model_type == "tfidf":
        model += ["--model.rule_fusion", "false"]  # the TF-IDF recipe of README's tables
    if args.epochs is not None:
        model += ["--training.epochs", str(args.epochs)]
    config = load_config(DEFAULT_CONFIG, [*model, *overrides])
    label_set = LabelSet.load(config.data.label_set)
    base = load_valid_cases(args.train or ["corpus"], label_set)
    pool = [
        PoolBulletin(
            annotated.doc,
            [
                CaseUnit(annotated.bulletin.source, i, start, end, case.text)
                for i, (case, (start, end)) in enumerate(zip(annotated.cases, annotated.spans, strict=True), 1)
            ],
            annotated.cases,
        )
        for annotated in load_annotated_dir(args.pool, label_set)
        if annotated.cases
    ]
    evaluation = load_eval_set([str(args.eval)], label_set).cases
    strategies = args.strategy or list(STRATEGIES)
    vectors = None
    if DIVERSE in strategies:
        _progress(f"embedding {len(pool)} pool bulletins with {args.vectors_from} token vectors")
        vectors = embed_bulletins([bulletin_text(case.text for case in b.cases) for b in pool], args.vectors_from)
    _progress(
        f"base data: {len(base)} units; pool: {len(pool)} bulletins, {sum(len(b.cases) for b in pool)} units; "
        f"evaluation: {len(evaluation)} units; {args.model_type}"
    )
    needs_doubts = any(s != RANDOM for s in strategies)
    return Study(config, label_set, base, pool, evaluation, vectors, args.work_dir, needs_doubts, args.validation)


def round_sizes(pool: int, round_size: int, rounds: int | None, max_bulletins: int | None) -> list[int]:
    """Bulletins annotated after each round, the base model's 0 first: ``[0, 10, 20, …, pool]``."""
    limit = min(pool, max_bulletins if max_bulletins is not None else pool)
    sizes = [0]
    while sizes[-1] < limit and (rounds is None or len(sizes) <= rounds):
        sizes.append(min(sizes[-1] + round_size, limit))
    return sizes


def run_curve(study: Study, strategy: str, seed: int, sizes: list[int]) -> list[dict]:
    """One learning curve: the model of each round's picked bulletins, scored; the next round picked from the rest."""
    sampler = random.Random(seed)
    picked: list[str] = []
    points = []
    for round_index, size in enumerate(sizes):
        started = time.perf_counter()
        trained, cached = fit_round(study, picked, seed)
        chosen = set(picked)
        point = {
            "strategy": strategy,
            "seed": seed,
            "round": round_index,
            "bulletins": len(picked),
            "units": sum(len(b.cases) for b in study.pool if b.doc in chosen),
            **trained.metrics,
            "train_seconds": round(trained.seconds, 1),
            "cached": cached,
        }
        if round_index + 1 < len(sizes):
            remaining = [b for b in study.pool if b.doc not in chosen]
            new = pick_next(study, strategy, seed, sampler, trained, remaining, sizes[round_index + 1] - size)
            point["picked_next"] = new
            picked += new
        point["round_seconds"] = round(time.perf_counter() - started, 1)
        points.append(point)
        figures = ", ".join(f"{FIGURES[k]} {point[k]:.3f}" for k in FIGURES)
        took = "reused" if cached else f"{point['round_seconds']:.0f} s"
        _progress(f"[{strategy} seed {seed}] round {round_index}: {point['bulletins']} bulletins, {figures} ({took})")
    return points


def fit_round(study: Study, picked: list[str], seed: int) -> tuple[Trained, bool]:
    """The model of the base data plus the ``picked`` pool bulletins, trained with ``seed`` (or reused), scored."""
    key = (frozenset(picked), seed)
    if key in study.trained:
        return study.trained[key], True
    started = time.perf_counter()
    out = study.work_dir / "model"
    shutil.rmtree(out, ignore_errors=True)
    base, validation = study.base_for(seed)
    config = dataclasses.replace(
        study.config,
        data=dataclasses.replace(study.config.data, validation=validation),
        training=dataclasses.replace(study.config.training, seed=seed, output_dir=str(out)),
    )
    chosen = set(picked)
    real = [case for b in study.pool if b.doc in chosen for case in b.cases]  # pool order: the set decides the model
    train(config, train_cases=base, real_cases=real)
    seconds = time.perf_counter() - started
    predictor = Predictor.from_pretrained(out, segmenter="rules")
    predictions = predictor.predict_units([case.text for case in study.evaluation])
    metrics = unit_metrics(study.evaluation, predictions, study.label_set)
    doubts = pool_doubts(predictor, [b for b in study.pool if b.doc not in chosen]) if study.needs_doubts else {}
    trained = Trained({k: round(float(metrics[k]), 4) for k in KEPT}, doubts, seconds)
    study.trained[key] = trained
    return trained, False


def pool_doubts(predictor: Predictor, bulletins: list[PoolBulletin]) -> dict[str, Doubt]:
    """Each bulletin's doubt under ``predictor``, read from its gold units, as ``penalty annotate`` measures it."""
    scored = predictor.score_units([unit for b in bulletins for unit in b.units])
    labelled, cursor = [], 0
    for b in bulletins:
        labelled.append((b.doc, scored[cursor : cursor + len(b.units)]))
        cursor += len(b.units)
    return dict(bulletin_doubts(predictor, labelled))


def pick_next(
    study: Study,
    strategy: str,
    seed: int,
    sampler: random.Random,
    trained: Trained,
    remaining: list[PoolBulletin],
    count: int,
) -> list[str]:
    """The docs of the next ``count`` bulletins ``strategy`` picks from ``remaining``."""
    if strategy == RANDOM:
        return [b.doc for b in sampler.sample(remaining, min(count, len(remaining)))]
    doubts = [(b.doc, trained.doubts[b.doc]) for b in remaining]
    vectors = None
    if strategy == DIVERSE and study.vectors is not None:
        rows = {b.doc: i for i, b in enumerate(study.pool)}
        vectors = study.vectors[[rows[b.doc] for b in remaining]]
    return [remaining[pick.position].doc for pick in pick_bulletins(doubts, count, strategy, seed, vectors)]


def setup_of(
    args: argparse.Namespace, study: Study, sizes: list[int], overrides: list[str], seeds: dict[str, int]
) -> dict:
    """What the figures come from, for the report."""
    return {
        "model_type": args.model_type,
        "epochs": study.config.training.epochs if args.model_type == "bert" else None,
        "rule_fusion": study.config.model.rule_fusion,
        "config_overrides": overrides,
        "seeds": {strategy: list(range(n)) for strategy, n in seeds.items()},
        "round_size": args.round_size,
        "sizes": sizes,
        "base_data": args.train or ["corpus"],
        "base_units": len(study.base),
        "pool": str(args.pool),
        "pool_bulletins": len(study.pool),
        "pool_units": sum(len(b.cases) for b in study.pool),
        "evaluation": str(args.eval),
        "evaluation_units": len(study.evaluation),
        "vectors_from": args.vectors_from,
        "selection_reads": "the gold units of the remaining pool bulletins",
        "real_oversample": study.config.data.real_oversample,
        "real_validation_fraction": study.config.data.real_validation_fraction,
        "validation": args.validation,
        "validation_fraction": study.config.data.validation_fraction,
    }


def summarise(points: list[dict], strategies: list[str], setup: dict) -> dict:
    """Mean, min and max over seeds per strategy and bulletin count; the target check; seconds per trained round."""
    curves: dict[str, list[dict]] = {}
    for strategy in sorted(strategies, key=ORDER.index):
        mine = [p for p in points if p["strategy"] == strategy]
        rows = []
        for n in sorted({p["bulletins"] for p in mine}):
            at = [p for p in mine if p["bulletins"] == n]
            row = {"bulletins": n, "seeds": len(at)}
            for key in FIGURES:
                values = [p[key] for p in at]
                row[key] = {"mean": float(np.mean(values)), "min": min(values), "max": max(values)}
            rows.append(row)
        curves[strategy] = rows
    trained = [p for p in points if not p["cached"]]
    seconds = {  # None: every round of the strategy was reused from another
        strategy: _mean([p["round_seconds"] for p in trained if p["strategy"] == strategy]) for strategy in curves
    }
    return {
        "setup": setup,
        "curves": curves,
        "target": {key: target_check(curves, key) for key in FIGURES},
        "seconds_per_round": seconds,
        "train_seconds_per_round": _mean([p["train_seconds"] for p in trained]),
        "points": points,
    }


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def target_check(curves: dict[str, list[dict]], key: str) -> dict:
    """Whether a non-random strategy reaches random's final mean with at most half of random's bulletins, and keeps
    it: a curve that touches the goal once and falls back is noise, not a reached target.

    Returns:
        ``{"checked", "met", "goal", "base", "first_reached", "kept_from", "line"}``; ``first_reached`` and
        ``kept_from`` map each other strategy to a bulletin count or ``None``.
    """
    if RANDOM not in curves or len(curves) < 2:
        return {"checked": False, "line": f"{FIGURES[key]}: target not checked (needs random and another strategy)"}
    final = curves[RANDOM][-1]
    goal, half = final[key]["mean"], final["bulletins"] / 2
    others = {strategy: rows for strategy, rows in curves.items() if strategy != RANDOM}
    first_reached = {
        strategy: next((row["bulletins"] for row in rows if row[key]["mean"] >= goal), None)
        for strategy, rows in others.items()
    }
    kept_from = {
        strategy: next(
            (row["bulletins"] for i, row in enumerate(rows) if all(r[key]["mean"] >= goal for r in rows[i:])), None
        )
        for strategy, rows in others.items()
    }
    met = any(n is not None and n <= half for n in kept_from.values())
    base = curves[RANDOM][0][key]["mean"]
    already = " (the base model already reaches it: the pool adds nothing measurable)" if base >= goal else ""

    def counts(found: dict[str, int | None]) -> str:
        return ", ".join(f"{strategy} {'never' if n is None else n}" for strategy, n in found.items())

    line = (
        f"target ({FIGURES[key]}): random's final mean {goal:.3f} at {final['bulletins']} bulletins (the base model, "
        f"0 bulletins: {base:.3f}); first reached: {counts(first_reached)}; reached and kept from: "
        f"{counts(kept_from)}; with at most half the bulletins ({half:g}): {'yes' if met else 'no'}{already}"
    )
    return {
        "checked": True,
        "met": met,
        "goal": goal,
        "base": base,
        "first_reached": first_reached,
        "kept_from": kept_from,
        "line": line,
    }


def render_text(result: dict) -> str:
    """The figures as a plain table (stdout)."""
    strategies = list(result["curves"])
    lines = []
    for key, title in FIGURES.items():
        lines.append(f"{title} (mean [min, max] over seeds; seeds per strategy: {_describe_seeds(result['setup'])}):")
        lines.append("bulletins  " + "  ".join(f"{s:>22}" for s in strategies))
        for n in result["setup"]["sizes"]:
            cells = []
            for strategy in strategies:
                row = next((r for r in result["curves"][strategy] if r["bulletins"] == n), None)
                cells.append(f"{_cell(row[key]):>22}" if row else f"{'-':>22}")
            lines.append(f"{n:>9}  " + "  ".join(cells))
        lines.append("")
    lines += [t["line"] for t in result["target"].values()]
    lines.append(
        "seconds per trained round (train + score + pick; rounds reused from another strategy left out): "
        + ", ".join(f"{s} {_seconds(v)}" for s, v in result["seconds_per_round"].items())
        + f"; training alone {_seconds(result['train_seconds_per_round'])}"
    )
    return "\n".join(lines)


def _describe_validation(setup: dict) -> str:
    if setup.get("validation", PICKED) == BASE:
        return f"a fixed {setup['validation_fraction']} share of the base bulletins per seed, grouped"
    return (
        f"a {setup['real_validation_fraction']} share of the picked bulletins, grouped, as penalty train draws it; "
        f"round 0: a {setup['validation_fraction']} share of the base bulletins"
    )


def _describe_seeds(setup: dict) -> str:
    return ", ".join(f"{strategy} {len(seeds)}" for strategy, seeds in setup["seeds"].items())


def _cell(figure: dict) -> str:
    return f"{figure['mean']:.3f} [{figure['min']:.3f}, {figure['max']:.3f}]"


def curve_png(result: dict, key: str) -> bytes:
    """One learning curve per strategy: the mean over seeds, the band between min and max, random's final mean."""
    figure = Figure(figsize=(6.4, 4.0))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for strategy, rows in result["curves"].items():
        x = [row["bulletins"] for row in rows]
        colour = COLOURS.get(strategy)
        axes.plot(x, [row[key]["mean"] for row in rows], marker="o", markersize=3, color=colour, label=strategy)
        axes.fill_between(
            x, [row[key]["min"] for row in rows], [row[key]["max"] for row in rows], color=colour, alpha=0.15
        )
    target = result["target"][key]
    if target["checked"]:
        axes.axhline(target["goal"], color="#777777", linestyle=":", linewidth=1, label="random's final mean")
    axes.set_xlabel("pool bulletins annotated")
    axes.set_ylabel(FIGURES[key])
    setup = result["setup"]
    axes.set_title(
        f"{FIGURES[key]} ({setup['model_type']}; seeds: {_describe_seeds(setup)}; {setup['evaluation_units']} units)"
    )
    axes.grid(alpha=0.3)
    axes.legend(loc="best", fontsize="small")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def write_report(result: dict, out: Path) -> None:
    """``index.html`` (self-contained), ``points.json`` and one PNG per figure."""
    out.mkdir(parents=True, exist_ok=True)
    images = {}
    for key in FIGURES:
        png = curve_png(result, key)
        (out / f"{key}.png").write_bytes(png)
        images[key] = base64.b64encode(png).decode("ascii")
    (out / "points.json").write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    (out / "index.html").write_text(render_html(result, images), encoding="utf-8")
    _progress(f"report written to {out / 'index.html'}")


def render_html(result: dict, images: dict[str, str]) -> str:
    setup = result["setup"]
    e = html.escape
    strategies = list(result["curves"])
    header = "".join(f"<th>{e(s)}: {e(FIGURES[k])}</th>" for k in FIGURES for s in strategies)
    rows = []
    for n in setup["sizes"]:
        cells = []
        for key in FIGURES:
            for strategy in strategies:
                row = next((r for r in result["curves"][strategy] if r["bulletins"] == n), None)
                cells.append(f"<td>{_cell(row[key]) if row else '-'}</td>")
        rows.append(f"<tr><td>{n}</td>{''.join(cells)}</tr>")
    seconds = ", ".join(f"{e(s)} {_seconds(v)}" for s, v in result["seconds_per_round"].items())
    epochs = f", {setup['epochs']} epochs" if setup["epochs"] is not None else ""
    overrides = " ".join(setup["config_overrides"]) or "none"
    about = (
        f"Labeler: <b>{e(setup['model_type'])}</b>{e(epochs)} (rule fusion {setup['rule_fusion']}; config overrides "
        f"{e(overrides)}); seeds per strategy: {e(_describe_seeds(setup))}. Base data: {e(str(setup['base_data']))} "
        f"({setup['base_units']} units). Pool: {e(setup['pool'])} ({setup['pool_bulletins']} bulletins, "
        f"{setup['pool_units']} gold units), added {setup['round_size']} per round as data.real "
        f"(x{setup['real_oversample']}; validation: {e(_describe_validation(setup))}). "
        f"Scored at unit level on {e(setup['evaluation'])} ({setup['evaluation_units']} gold "
        f"units), never trained or tuned on. Selection reads {e(setup['selection_reads'])}; diverse clusters the mean "
        f"token vectors of {e(setup['vectors_from'])}. Curves: mean over seeds; band: min to max."
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Simulated active learning</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 6px;text-align:right;font-size:90%}}</style></head><body>
<h1>Simulated active learning: which bulletins to annotate first</h1>
<p>{about}</p>
<ul>{"".join(f"<li>{e(t['line'])}</li>" for t in result["target"].values())}</ul>
{"".join(f'<img alt="{e(FIGURES[k])} learning curve" src="data:image/png;base64,{images[k]}">' for k in FIGURES)}
<h2>Figures (mean [min, max] over seeds)</h2>
<table><tr><th>bulletins</th>{header}</tr>{"".join(rows)}</table>
<p>Seconds per trained round (train + score + pick; reused rounds left out): {seconds}; training alone
{_seconds(result["train_seconds_per_round"])}. Every point: <a href="points.json">points.json</a>.</p>
</body></html>
"""


def _progress(message: str) -> None:
    print(f"active_learning: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
