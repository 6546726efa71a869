"""Label many bulletins or gold-format unit files with one Predictor, accounting for every input.

Output records: one per case unit; one ``{"source", "error"}`` per failed input; one ``{"source", "case": null}``
per bulletin in which no case unit was found.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from data.errors import InputError
from data.inputs import InputFailure, read_inputs
from data.labels import DEFAULT_LANG
from data.reader import Bulletin
from models.predictor import Predictor

logger = logging.getLogger(__name__)
BATCH_BULLETINS = 32  # bulletins labelled together: enough units for length-sorted batches, little memory


@dataclass
class BatchSummary:
    """What a batch run did, printed at its end."""

    read: int = 0
    failed: int = 0
    empty: int = 0
    cases: int = 0
    offenses: Counter = field(default_factory=Counter)

    def describe(self) -> str:
        labels = ", ".join(f"{k}={v}" for k, v in self.offenses.most_common())
        return (
            f"{self.read} bulletin(s) read, {self.failed} failed, {self.empty} without case units; "
            f"{self.cases} case unit(s){': ' + labels if labels else ''}"
        )


def predict_bulletin_files(
    predictor: Predictor,
    specs: Iterable[str],
    summary: BatchSummary,
    shard: tuple[int, int] | None = None,
    lang: str = DEFAULT_LANG,
) -> Iterator[dict]:
    """Output records for every input bulletin, labelled in groups of ``BATCH_BULLETINS``; label names in ``lang``."""
    progress = tqdm(desc="bulletins", unit=" file", disable=not logger.isEnabledFor(logging.INFO))
    for item in bulletin_batches(specs, shard):
        if isinstance(item, InputFailure):
            progress.update()
            summary.failed += 1
            yield item.to_dict()
            continue
        progress.update(len(item))
        yield from _flush(predictor, item, summary, lang)
    progress.close()


def bulletin_batches(
    specs: Iterable[str], shard: tuple[int, int] | None = None
) -> Iterator[InputFailure | list[Bulletin]]:
    """The inputs as they are read: each failure at once, readable bulletins in lists of up to ``BATCH_BULLETINS``
    (labelling a few dozen together is what makes length-sorted batches pay); an empty input set yields nothing."""
    pending: list[Bulletin] = []
    for item in read_inputs(specs, shard):
        if isinstance(item, InputFailure):
            yield item
            continue
        pending.append(item)
        if len(pending) >= BATCH_BULLETINS:
            yield pending
            pending = []
    if pending:
        yield pending


def _flush(predictor: Predictor, bulletins: list[Bulletin], summary: BatchSummary, lang: str) -> Iterator[dict]:
    for bulletin, predictions in zip(bulletins, predictor.predict_bulletins(bulletins), strict=True):
        summary.read += 1
        if not predictions:
            summary.empty += 1
            yield {"source": bulletin.source, "case": None, "note": "no case units found"}
        for prediction in predictions:
            summary.cases += 1
            summary.offenses[prediction.offense] += 1
            yield predictor.record(prediction, lang)


def predict_unit_file(
    predictor: Predictor, path: str | Path, summary: BatchSummary, lang: str = DEFAULT_LANG
) -> Iterator[dict]:
    """One output record per line of a gold-format file, in order; a line without ``text`` gets an error record."""
    path = Path(path)
    try:
        lines = _read_lines(path)
    except InputError as err:  # one unreadable file is one error record; the other files go on
        summary.failed += 1
        logger.error("%s", err)
        yield {"source": str(path), "error": str(err)}
        return
    texts: list[tuple[int, str | None, str]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            text = record.get("text") if isinstance(record, dict) else None
            error = "" if isinstance(text, str) and text.strip() else "no 'text' field"
        except json.JSONDecodeError as err:
            text, error = None, f"malformed JSON: {err.msg}"
        texts.append((number, text if not error else None, error))
    valid = [t for _, t, e in texts if not e]
    predictions = iter(predictor.predict_units(valid, source=str(path)))
    for number, _, error in texts:
        where = f"{path}:{number}"
        if error:
            summary.failed += 1
            logger.error("%s: %s", where, error)
            yield {"source": where, "error": error}
            continue
        prediction = next(predictions)
        summary.cases += 1
        summary.offenses[prediction.offense] += 1
        yield predictor.record(prediction, lang) | {"source": where, "case": number}
    summary.read += 1


def _read_lines(path: Path) -> list[str]:
    """The lines of a UTF-8 file (a BOM allowed).

    Raises:
        InputError: the file cannot be read or is not UTF-8.
    """
    try:
        return path.read_bytes().decode("utf-8-sig").splitlines()
    except OSError as err:
        raise InputError(f"{path}: cannot read ({err.strerror or err})") from err
    except UnicodeDecodeError as err:
        raise InputError(
            f"{path}: not UTF-8 (bad byte at offset {err.start}); --units reads gold-format JSONL"
        ) from err
