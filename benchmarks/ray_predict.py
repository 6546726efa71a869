"""Bulletins/s of ``penalty predict`` on the plain engine and on ``--engine ray`` with 1 and 2 workers, same inputs.

Usage::

    python benchmarks/ray_predict.py [--model rules|DIR] [--inputs DIR...] [--copies K] [--workers 1 2] [--repeat R]

Runs the commands in this process (``cli.main``), each writing its records to a temporary directory, and prints
the median wall time of ``--repeat`` runs, bulletins/s and the ratio to the plain engine. Ray is started once, before
the Ray runs, and that start is printed apart (a cluster is started once, not per command); each Ray run still starts
its actors and loads one Predictor per actor, as every ``penalty predict --engine ray`` does. The inputs default to
the authored corpus (``python -m data.corpus build``); ``--copies K`` labels K copies of them, to show how the
per-run actor start amortises over more bulletins. Needs the ray extra (``pip install '.[ray]'``).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cli import main as penalty  # noqa: E402
from data.corpus import CORPUS_SPEC, data_path  # noqa: E402
from data.reader import BULLETIN_SUFFIXES  # noqa: E402


def _stage_inputs(sources: list[Path], copies: int, limit: int | None, into: Path) -> int:
    """Copies of the input bulletins in ``into/copy-K/``; returns how many files there are."""
    files = sorted(p for d in sources for p in d.rglob("*") if p.is_file() and p.suffix.lower() in BULLETIN_SUFFIXES)
    files = files[:limit] if limit else files
    if not files:
        raise SystemExit(
            f"no bulletin files in {[str(s) for s in sources]}; build the corpus: python -m data.corpus build"
        )
    for copy in range(copies):
        target = into / f"copy-{copy}"
        target.mkdir(parents=True)
        for number, path in enumerate(files):
            shutil.copyfile(path, target / f"{number:05d}{path.suffix}")
    return len(files) * copies


def _timed(argv: list[str], output: Path, repeat: int) -> tuple[float, int]:
    """Median seconds of ``repeat`` runs of the command writing to ``output``, and its records (lines in all files).

    The median, not the first run: the first Ray run also pays for cold worker processes and imports.
    """
    times = []
    for _ in range(repeat):
        shutil.rmtree(output, ignore_errors=True)
        output.unlink(missing_ok=True)
        started = time.perf_counter()
        status = penalty([*argv, "-o", str(output)])
        times.append(time.perf_counter() - started)
        if status not in (0, 1):  # 1: some input failed, which the records report
            raise SystemExit(f"penalty {' '.join(argv)} exited with {status}")
    files = sorted(output.iterdir()) if output.is_dir() else [output]
    return statistics.median(times), sum(len(f.read_text(encoding="utf-8").splitlines()) for f in files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="rules", help="'rules' (default) or a model directory")
    parser.add_argument("--segmenter", default="auto", help="as for penalty predict (default auto)")
    parser.add_argument("--inputs", nargs="+", type=Path, help="bulletin directories (default: the authored corpus)")
    parser.add_argument("--copies", type=int, default=1, help="label K copies of the inputs (default 1)")
    parser.add_argument("--limit", type=int, help="only the first N input files")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="Ray actor counts (default 1 2)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per engine; the median is printed (default 3)")
    args = parser.parse_args()

    import ray

    with tempfile.TemporaryDirectory() as tmp:
        inputs = Path(tmp) / "inputs"
        count = _stage_inputs(args.inputs or [data_path(CORPUS_SPEC)], args.copies, args.limit, inputs)
        common = ["-q", "predict", "--model", args.model, "--segmenter", args.segmenter, str(inputs)]
        print(
            f"{count} bulletins, model {args.model}; {platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} CPUs, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"
        )
        plain_s, plain_records = _timed(common, Path(tmp) / "plain.jsonl", args.repeat)
        print(
            f"plain CLI       {plain_s:7.1f} s  {count / plain_s:7.1f} bulletins/s  1.00x  ({plain_records} records)"
        )

        started = time.perf_counter()
        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, logging_level="WARNING")
        print(f"ray.init (once per cluster, not counted below) {time.perf_counter() - started:.1f} s")
        try:
            for workers in args.workers:
                seconds, records = _timed(
                    [*common, "--engine", "ray", "--workers", str(workers)], Path(tmp) / f"ray-{workers}", args.repeat
                )
                print(
                    f"ray, {workers} worker{'s' if workers > 1 else ' '}  {seconds:7.1f} s  {count / seconds:7.1f} "
                    f"bulletins/s  {plain_s / seconds:.2f}x  ({records} records)"
                )
        finally:
            ray.shutdown()


if __name__ == "__main__":
    main()
