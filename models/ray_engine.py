"""``penalty predict --engine ray``: the plain CLI's batch predictor, scaled out over a Ray cluster (or a local one).

The driver lists the inputs (``data.inputs.expand_inputs``, the plain CLI's directory walk), sorts them by file size
and cuts them into shards of up to ``BATCH_BULLETINS``, so each shard's units come in similar lengths. Ray Data hands
each shard to an actor that loaded its own ``Predictor`` once; the actor labels the shard with
``models.batch.predict_bulletin_files`` (the plain CLI's loop, so the records are the same: error records for
unreadable inputs, a note for a bulletin without case units) and writes it as ``part-NNNNN.jsonl`` or
``part-NNNNN.parquet`` in the output directory. Every input ends up in exactly one shard.

Ray is an optional extra (``pip install '.[ray]'``): nothing imports this module unless ``--engine ray`` is given,
and the module itself imports Ray only when a run starts.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from data.errors import InputError, PenaltyError
from data.inputs import STDIN, InputFailure, expand_inputs
from data.labels import DEFAULT_LANG
from data.output import RecordWriter
from models.batch import BATCH_BULLETINS, BatchSummary, predict_bulletin_files
from models.predictor import Predictor

if TYPE_CHECKING:
    import pyarrow as pa

logger = logging.getLogger(__name__)
SHARD_FORMATS = ("jsonl", "parquet")
SHARD_PREFIX = "part-"
SHARDS_PER_WORKER = 4


def predict_on_ray(
    load_predictor: Callable[[], Predictor],
    inputs: Sequence[str],
    output_dir: str | Path,
    *,
    shard_format: str = "jsonl",
    workers: int = 1,
    lang: str = DEFAULT_LANG,
    address: str | None = None,
) -> BatchSummary:
    """Label every input bulletin on Ray actors and write the records as shards into ``output_dir``.

    Args:
        load_predictor: builds the Predictor; each actor calls it once (it is pickled to the actors, so a model
            directory must be readable at the same path on every node).
        inputs: files and directories (recursive), as for ``penalty predict``; paths must be readable by the workers.
        output_dir: created if missing; must not already hold shards (a rerun would count inputs twice).
        shard_format: ``jsonl`` (the plain CLI's lines) or ``parquet`` (one column per record field).
        workers: actors, each with one CPU and one Predictor.
        lang: language of the label names in the records.
        address: the Ray cluster (``auto``, ``ray://host:10001``); ``None`` takes ``RAY_ADDRESS``, else starts a
            local Ray. An already initialised Ray (a notebook, a test) is used as it is and left running.

    Returns:
        What was read, failed and found, summed over the shards.

    Raises:
        PenaltyError: Ray is not installed, ``-`` (stdin) is an input, ``workers`` is below 1, an unknown
            ``shard_format``, ``output_dir`` cannot be used, or an actor could not load the model (its message).
    """
    if workers < 1:
        raise PenaltyError(f"--workers takes the number of Ray actors (1 or more), found {workers}")
    if shard_format not in SHARD_FORMATS:
        raise PenaltyError(f"unknown shard format {shard_format!r}; use one of {list(SHARD_FORMATS)}")
    if STDIN in inputs:
        raise InputError("--engine ray reads files, and its workers cannot see this stdin ('-'): save it to a file")
    output_dir = _prepare_output_dir(Path(output_dir))
    ray = _import_ray()
    shards, failures = _plan_shards(inputs, workers)
    summary = BatchSummary(failed=len(failures))
    if failures:  # what the directory walk could not follow never reaches an actor: the driver writes it
        _write_shard([failure.to_dict() for failure in failures], output_dir / _shard_name(len(shards), shard_format))
    started = bool(shards) and not ray.is_initialized()  # nothing to label: no Ray to start
    if started:
        ray.init(address=address, logging_level=logging.INFO if logger.isEnabledFor(logging.INFO) else logging.WARNING)
    try:
        # Ray Data's progress bars follow the log level, as tqdm does in the plain CLI (style guide, section 5)
        ray.data.DataContext.get_current().enable_progress_bars = logger.isEnabledFor(logging.INFO)
        if shards:
            items = [{"shard": index, "paths": paths} for index, paths in enumerate(shards)]
            labelled = ray.data.from_items(items, override_num_blocks=len(items)).map(
                _ShardLabeler,
                fn_constructor_kwargs={
                    "load_predictor": load_predictor,
                    "output_dir": str(output_dir),
                    "shard_format": shard_format,
                    "lang": lang,
                },
                # one shard in flight per actor: the largest shards go first and the rest to whichever actor is free
                compute=ray.data.ActorPoolStrategy(size=min(workers, len(shards)), max_tasks_in_flight_per_actor=1),
                num_cpus=1,
            )
            for row in labelled.iter_rows():
                _add_shard_summary(summary, row)
    finally:
        if started:
            ray.shutdown()
    logger.info("%d shard(s) written to %s", len(shards) + bool(failures), output_dir)
    return summary


class _ShardLabeler:
    """A Ray actor's work: load the Predictor once, then label and write one shard per call."""

    def __init__(self, load_predictor: Callable[[], Predictor], output_dir: str, shard_format: str, lang: str) -> None:
        try:
            self.predictor: Predictor | None = load_predictor()
            self.load_error = ""
        except PenaltyError as err:  # no such model, say: the driver reports it like the plain CLI, no Ray traceback
            self.predictor, self.load_error = None, str(err)
        self.output_dir = Path(output_dir)
        self.shard_format = shard_format
        self.lang = lang

    def __call__(self, row: dict) -> dict:
        summary = BatchSummary()
        if self.predictor is not None:
            records = list(predict_bulletin_files(self.predictor, list(row["paths"]), summary, lang=self.lang))
            _write_shard(records, self.output_dir / _shard_name(row["shard"], self.shard_format))
        # counts only: the records stay in the shard files, not in Ray's object store
        return {
            "shard": row["shard"],
            "load_error": self.load_error,
            "read": summary.read,
            "failed": summary.failed,
            "empty": summary.empty,
            "cases": summary.cases,
            "offenses": json.dumps(summary.offenses),
        }


def _import_ray() -> ModuleType:
    try:
        import ray
        import ray.data  # noqa: F401  (ray.data is a subpackage that ``import ray`` does not load)
    except ImportError as err:
        raise PenaltyError("--engine ray needs Ray: install the ray extra: pip install '.[ray]'") from err
    return ray


def _prepare_output_dir(output_dir: Path) -> Path:
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"output {output_dir}: cannot create the shard directory ({err.strerror or err})") from err
    if any(output_dir.glob(f"{SHARD_PREFIX}*")):
        raise InputError(
            f"output {output_dir} already holds shards ({SHARD_PREFIX}*); write into an empty directory or remove "
            "them, so that every input is counted once"
        )
    return output_dir


def _plan_shards(inputs: Sequence[str], workers: int) -> tuple[list[list[str]], list[InputFailure]]:
    """Files in shards, largest first; what the walk could not follow, as failures.

    File size stands in for text length (read without opening a file). Largest first: the longest shards start
    while every actor is free, and the short ones fill the gaps at the end. A shard holds ``BATCH_BULLETINS`` files
    (the plain CLI's batch), fewer when there are not ``SHARDS_PER_WORKER`` such shards per worker: with only one
    shard per worker, the one holding the largest files would keep the others waiting.
    """
    paths: list[str] = []
    failures: list[InputFailure] = []
    for item in expand_inputs(inputs):
        if isinstance(item, InputFailure):
            logger.error("%s: %s", item.source, item.error)
            failures.append(item)
        else:
            paths.append(item)
    paths.sort(key=_size, reverse=True)
    size = max(1, min(BATCH_BULLETINS, math.ceil(len(paths) / (SHARDS_PER_WORKER * workers))))
    return [paths[i : i + size] for i in range(0, len(paths), size)], failures


def _size(path: str) -> int:
    """A missing file sorts as empty; its worker reports it as an error record, worded as the plain CLI does."""
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _shard_name(index: int, shard_format: str) -> str:
    return f"{SHARD_PREFIX}{index:05d}.{shard_format}"


def _write_shard(records: list[dict], path: Path) -> None:
    if path.suffix == ".jsonl":
        with RecordWriter(path) as out:
            for record in records:
                out.write(record)
    else:
        import pyarrow.parquet as pq  # Ray Data depends on pyarrow

        pq.write_table(_arrow_table(records), path)


def _arrow_table(records: list[dict]) -> pa.Table:
    """The records as one typed table; a field a record lacks (``error`` on a case, ``offense`` on an error) is
    null. The schema is fixed, so that every shard can be read as one dataset."""
    import pyarrow as pa

    strings = pa.list_(pa.string())
    cue = pa.struct([("label", pa.string()), ("cue", pa.string()), ("start", pa.int64()), ("end", pa.int64())])
    schema = pa.schema(
        [
            ("source", pa.string()),
            ("case", pa.int64()),
            ("start", pa.int64()),
            ("end", pa.int64()),
            ("text", pa.string()),
            ("offense", pa.string()),
            ("offense_score", pa.float64()),
            ("penalties", strings),
            ("penalty_scores", pa.map_(pa.string(), pa.float64())),
            ("primary_penalty", pa.string()),
            ("fine_amounts", pa.list_(pa.int64())),
            ("party", pa.string()),
            ("party_score", pa.float64()),
            ("needs_review", pa.bool_()),
            ("statutes", strings),
            ("cues", pa.list_(cue)),
            ("offense_name", pa.string()),
            ("penalty_names", strings),
            ("primary_penalty_name", pa.string()),
            ("party_name", pa.string()),
            ("error", pa.string()),
            ("note", pa.string()),
        ]
    )
    unknown = {key for record in records for key in record} - set(schema.names)
    if unknown:  # a new record field must get a column here, not vanish from the Parquet shards
        raise ValueError(f"record fields without a Parquet column: {sorted(unknown)}; add them to the schema")
    return pa.Table.from_pylist(records, schema=schema)


def _add_shard_summary(summary: BatchSummary, row: dict) -> None:
    if row["load_error"]:
        raise PenaltyError(row["load_error"])
    for name in ("read", "failed", "empty", "cases"):
        setattr(summary, name, getattr(summary, name) + int(row[name]))
    summary.offenses.update(json.loads(row["offenses"]))
