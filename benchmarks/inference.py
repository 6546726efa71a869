"""Inference speed of one fine-tuned model on this machine: PyTorch fp32 vs ONNX fp32 vs ONNX int8, and agreement.

Usage::

    python benchmarks/inference.py --model runs/default [--threads 2] [--repeat 3] [--inputs DIR] [--gpu] [--stream N]

Prints, for the same case units (segmented from ``../shared/data/real`` when present, else the authored corpus in
``data/corpus/bulletins``): case units/s per runtime with the ratio to PyTorch; end-to-end bulletins/s including
reading and segmenting; how often ONNX agrees with PyTorch (offense labels identical, penalty micro-F1 with PyTorch
as the reference, and penalty micro-F1 against gold when the inputs are annotated). ``--gpu`` adds bf16 throughput
at a large batch when CUDA is available. ``--stream N`` labels N bulletins (the inputs, cycled) through the batch
pipeline and prints RSS at start, middle and end, to show memory stays flat. Bulletin text is never printed.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil  # noqa: E402
import torch  # noqa: E402

from data.annotated import load_annotated_dir  # noqa: E402
from data.errors import PenaltyError  # noqa: E402
from data.labels import LabelSet  # noqa: E402
from data.reader import BULLETIN_SUFFIXES, Bulletin, read_bulletin  # noqa: E402
from data.segment import segment_bulletin  # noqa: E402
from data.types import CaseUnit, GoldCase, Prediction  # noqa: E402
from eval.metrics import multilabel_scores, unit_metrics  # noqa: E402
from models.batch import BatchSummary, predict_bulletin_files  # noqa: E402
from models.export import export_onnx  # noqa: E402
from models.predictor import Predictor  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
REAL_DIR = ROOT.parent / "shared" / "data" / "real"
CORPUS_DIR = ROOT / "data" / "corpus" / "bulletins"
PYTORCH = "pytorch fp32"
WARMUP_UNITS = 8


def _input_files(directory: Path, limit: int | None) -> list[Path]:
    files = sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in BULLETIN_SUFFIXES)
    return files[:limit] if limit else files


def _read(files: list[Path]) -> list[Bulletin]:
    bulletins = []
    for path in files:
        try:
            bulletins.append(read_bulletin(path))
        except PenaltyError as err:
            print(f"  skipped unreadable input: {err}")
    return bulletins


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


T = TypeVar("T")


def _median_seconds(run: Callable[[], T], repeat: int) -> tuple[float, T]:
    """Median seconds of ``repeat`` calls, and the last call's result: one run on a shared 2-core machine varies by
    ±15%."""
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


def _time_units(predictor: Predictor, units: list[CaseUnit], repeat: int) -> tuple[float, list[Prediction]]:
    predictor.label_units(units[:WARMUP_UNITS])  # first call pays for lazy init (thread pools, kernel selection)
    return _median_seconds(lambda: predictor.label_units(units), repeat)


def _time_end_to_end(predictor: Predictor, files: list[Path], repeat: int) -> tuple[float, BatchSummary]:
    def run() -> BatchSummary:
        summary = BatchSummary()
        for _ in predict_bulletin_files(predictor, [str(f) for f in files], summary):
            pass
        return summary

    return _median_seconds(run, repeat)


def _load_gold(directory: Path, files: list[Path], label_set: LabelSet) -> list[GoldCase]:
    names = {f.name for f in files}
    try:
        annotated = [a for a in load_annotated_dir(directory, label_set) if Path(a.bulletin.source).name in names]
    except PenaltyError as err:
        print(f"  no gold comparison: {err}")
        return []
    return [case for bulletin in annotated for case in bulletin.cases]


def _export(model: Path, directory: Path, reuse: bool) -> dict[str, Path]:
    """ONNX fp32 and int8 exports of ``model``: fresh, or with ``reuse`` earlier ones (``directory``, ``MODEL/``)."""
    exports = {}
    for name, quantize in (("onnx fp32", None), ("onnx int8", "int8")):
        folder = "onnx-int8" if quantize else "onnx"
        earlier = [d for d in (directory / folder, model / folder) if (d / "model.onnx").is_file()]
        if reuse and earlier:
            exports[name] = earlier[0]
            print(f"  reusing {name} export in {earlier[0]}")
            continue
        started = time.perf_counter()
        exports[name] = export_onnx(model, directory / folder, quantize)
        size = (exports[name] / "model.onnx").stat().st_size / 2**20
        print(f"  exported {name}: {time.perf_counter() - started:.1f} s, model.onnx {size:.0f} MB")
    return exports


def benchmark_runtimes(args: argparse.Namespace, files: list[Path], units: list[CaseUnit], export_dir: Path) -> None:
    """Units/s, end-to-end bulletins/s and agreement for PyTorch fp32, ONNX fp32 and ONNX int8."""
    predictors = {PYTORCH: Predictor.from_pretrained(args.model)}
    if predictors[PYTORCH].labeler.model_type != "bert":
        print(f"{args.model} is not a fine-tuned transformer model; only --stream applies to it")
        return
    for name, path in _export(args.model, export_dir, args.reuse_export).items():
        predictors[name] = Predictor.from_pretrained(path, threads=args.threads)
    label_set = predictors[PYTORCH].label_set

    print(f"\n== case units/s ({len(units)} units, median of {args.repeat} runs, after {WARMUP_UNITS} warm-up units)")
    predictions, rates = {}, {}
    for name, predictor in predictors.items():
        seconds, predictions[name] = _time_units(predictor, units, args.repeat)
        rates[name] = len(units) / seconds
        ratio = rates[name] / rates[PYTORCH]
        print(f"  {name:13s} {rates[name]:8.1f} units/s  {seconds:7.2f} s  x{ratio:.2f} vs PyTorch")

    print(f"\n== end to end: read + segment + label ({len(files)} bulletins, median of {args.repeat} runs)")
    for name, predictor in predictors.items():
        seconds, summary = _time_end_to_end(predictor, files, args.repeat)
        print(f"  {name:13s} {len(files) / seconds:8.2f} bulletins/s  {seconds:7.2f} s  ({summary.describe()})")

    print("\n== agreement with PyTorch fp32 on the same units")
    reference = predictions[PYTORCH]
    gold = _load_gold(args.inputs, files, label_set) if args.gold else []
    gold_f1 = {}
    for name in predictors:
        if gold:
            found = predictors[name].predict_units([case.text for case in gold])
            gold_f1[name] = unit_metrics(gold, found, label_set)["penalty_micro_f1"]
        if name == PYTORCH:
            continue
        same_offense = sum(a.offense == b.offense for a, b in zip(reference, predictions[name], strict=True))
        same_penalties = sum(a.penalties == b.penalties for a, b in zip(reference, predictions[name], strict=True))
        f1 = multilabel_scores(
            [frozenset(p.penalties) for p in reference],
            [frozenset(p.penalties) for p in predictions[name]],
            label_set.penalties,
        )["micro_f1"]
        print(
            f"  {name:13s} offense identical {same_offense / len(units):6.1%}  "
            f"penalty sets identical {same_penalties / len(units):6.1%}  penalty micro-F1 vs PyTorch {f1:.4f}"
        )
    if gold_f1:
        print(f"  penalty micro-F1 against gold ({len(gold)} gold units):")
        for name, f1 in gold_f1.items():
            print(f"    {name:13s} {f1:.4f}  difference vs PyTorch {f1 - gold_f1[PYTORCH]:+.4f}")
    if args.gpu:
        benchmark_gpu(args, units, reference)


def benchmark_gpu(args: argparse.Namespace, units: list[CaseUnit], reference: list[Prediction]) -> None:
    """bf16 throughput of the PyTorch model at a large batch; skipped without CUDA."""
    print(f"\n== GPU bf16, batch {args.gpu_batch_size}")
    if not torch.cuda.is_available():
        print("  skipped: no CUDA device")
        return
    predictor = Predictor.from_pretrained(args.model)
    predictor.labeler.model.to("cuda", dtype=torch.bfloat16)
    predictor.labeler.batch_size = args.gpu_batch_size
    repeats = max(1, -(-4 * args.gpu_batch_size // len(units)))  # at least four full batches of work
    many = units * repeats
    predictor.label_units(many[: args.gpu_batch_size])
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    found = predictor.label_units(many)
    torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    same = sum(a.offense == b.offense for a, b in zip(reference, found[: len(units)], strict=True)) / len(units)
    print(
        f"  {torch.cuda.get_device_name()}: {len(many) / seconds:.1f} units/s over {len(many)} units, "
        f"peak {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB, offense identical to CPU fp32 {same:.1%}"
    )


def benchmark_stream(args: argparse.Namespace, files: list[Path]) -> None:
    """Label ``args.stream`` bulletins (the inputs, cycled) and print RSS at start, middle and end."""
    model = args.stream_model or args.model
    predictor = Predictor.from_pretrained(model, threads=args.threads)
    total = args.stream
    print(f"\n== streaming {total} bulletins through predict_bulletin_files with {model}")
    specs = (str(files[i % len(files)]) for i in range(total))
    summary = BatchSummary()
    print(f"  start  RSS {_rss_mb():7.1f} MB  peak {_peak_rss_mb():7.1f} MB")
    started = time.perf_counter()
    printed_middle = False
    records = 0
    for _ in predict_bulletin_files(predictor, specs, summary):
        records += 1
        if not printed_middle and summary.read + summary.failed >= total // 2:
            printed_middle = True
            print(f"  middle RSS {_rss_mb():7.1f} MB  peak {_peak_rss_mb():7.1f} MB  ({summary.read} bulletins)")
    seconds = time.perf_counter() - started
    print(f"  end    RSS {_rss_mb():7.1f} MB  peak {_peak_rss_mb():7.1f} MB  ({summary.read} bulletins)")
    print(f"  {total / seconds:.1f} bulletins/s, {records} output records; {summary.describe()}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="fine-tuned model directory (model_type bert)")
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads for PyTorch and ONNX (0: default)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per runtime; the median is printed")
    parser.add_argument("--inputs", type=Path, help="bulletin directory (default: ../shared/data/real, else corpus)")
    parser.add_argument("--max-bulletins", type=int, help="use only the first N input bulletins")
    parser.add_argument("--export-dir", type=Path, help="where to write the ONNX exports (default: a temp dir)")
    parser.add_argument("--reuse-export", action="store_true", help="reuse earlier exports (export dir or MODEL/)")
    parser.add_argument("--no-gold", dest="gold", action="store_false", help="skip the comparison against gold labels")
    parser.add_argument("--gpu", action="store_true", help="also measure bf16 throughput on CUDA (skipped without)")
    parser.add_argument("--gpu-batch-size", type=int, default=256)
    parser.add_argument("--stream", type=int, default=0, help="stream N bulletins and print RSS (0: skip)")
    parser.add_argument("--stream-model", help="model for --stream (default: rules without --model, else --model)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.model is None and not args.stream:
        build_parser().error("give --model DIR (and/or --stream N)")
    if args.model is None:
        args.stream_model = args.stream_model or "rules"
    if args.threads:
        torch.set_num_threads(args.threads)
    args.inputs = args.inputs or (REAL_DIR if REAL_DIR.is_dir() else CORPUS_DIR)
    files = _input_files(args.inputs, args.max_bulletins)
    if not files:
        print(f"no bulletin files in {args.inputs}")
        return 1
    bulletins = _read(files)
    units = [u for b in bulletins for u in segment_bulletin(b.text, b.source, b.body_start)]
    cpu = platform.processor() or platform.machine()
    print(
        f"machine: {cpu}, {os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f}), torch {torch.__version__} "
        f"with {torch.get_num_threads()} threads, onnx threads {args.threads or 'default'}"
    )
    mean_chars = sum(len(u.text) for u in units) / max(len(units), 1)
    print(f"inputs: {args.inputs} ({len(bulletins)} bulletins, {len(units)} case units, {mean_chars:.0f} chars/unit)")
    if args.stream:  # first, so the RSS figures are not inflated by the models the speed comparison loads
        benchmark_stream(args, files)
    if args.model is not None:
        with tempfile.TemporaryDirectory(prefix="penalty-bench-") as scratch:
            benchmark_runtimes(args, files, units, args.export_dir or Path(scratch))
    return 0


if __name__ == "__main__":
    sys.exit(main())
