"""Write output records as JSON Lines (default), CSV or XLSX, chosen by the output file's extension.

Records stream to JSONL and CSV as they come; XLSX is written on close (a workbook is one zip file).
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import IO

from data.errors import InputError

FORMATS = {".jsonl": "jsonl", ".json": "jsonl", ".csv": "csv", ".xlsx": "xlsx", ".txt": "text"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Each label column is followed by its name column (models.predictor.Predictor.record): identifiers for programs and
# filters, names (Chinese by default, ``--lang``) for people reading the sheet.
COLUMNS = [
    "source",
    "case",
    "start",
    "end",
    "offense",
    "offense_name",
    "offense_score",
    "penalties",
    "penalty_names",
    "primary_penalty",
    "primary_penalty_name",
    "fine_amounts",
    "party",
    "party_name",
    "party_score",
    "needs_review",
    "statutes",
    "penalty_scores",
    "error",
    "note",
    "text",
]


class RecordWriter:
    """Context manager writing dict records to ``path`` (``None`` or ``-``: JSONL on stdout)."""

    def __init__(
        self,
        path: str | Path | None,
        readable: bool = False,
        probabilities: bool = True,
        columns: list[str] | None = None,
    ) -> None:
        """Choose the format; nothing is opened before ``__enter__``.

        Args:
            path: the output file; its extension picks the format. ``None`` or ``-``: stdout.
            readable: the human-readable blocks instead of JSONL on stdout.
            probabilities: whether the scores are probabilities (``Predictor.probabilities``); the readable blocks
                show a score only then (the rule labeler's scores are no confidence). Other formats keep every field.
            columns: the CSV/XLSX columns, for records other than predictions (default ``COLUMNS``).

        Raises:
            InputError: the extension names no known format.
        """
        self.path = None if path in (None, "-") else Path(path)
        self.probabilities = probabilities
        self.columns = columns or COLUMNS  # the CSV/XLSX columns; others for records other than predictions
        suffix = self.path.suffix.lower() if self.path else ".txt" if readable else ".jsonl"
        if suffix not in FORMATS:
            raise InputError(f"output {path}: unknown extension {suffix!r}; use one of {sorted(FORMATS)}")
        self.format = FORMATS[suffix]
        self._rows: list[list[object]] = []
        self._handle: IO[str] | None = None
        self._csv: csv.writer | None = None

    def __enter__(self) -> RecordWriter:
        """Open the output; an unwritable path fails here, before any bulletin is read (XLSX is saved only at the end).

        Raises:
            InputError: the output's directory does not exist or the file cannot be written.
        """
        if self.path is not None and not self.path.parent.is_dir():
            raise InputError(f"output {self.path}: directory {self.path.parent} does not exist; create it first")
        try:
            if self.format in ("jsonl", "text"):
                self._handle = open(self.path, "w", encoding="utf-8") if self.path else sys.stdout
            elif self.format == "csv":
                # utf-8-sig: Excel opens a CSV with Chinese text correctly only with a BOM
                self._handle = open(self.path, "w", encoding="utf-8-sig", newline="")
                self._csv = csv.writer(self._handle)
                self._csv.writerow(self.columns)
        except OSError as err:
            raise InputError(f"output {self.path}: cannot write ({err.strerror or err})") from err
        return self

    def write(self, record: dict) -> None:
        if self.format == "jsonl":
            self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        elif self.format == "text":
            self._handle.write(_readable(record, self.probabilities))
        else:
            row = [_cell(record.get(column)) for column in self.columns]
            if self._csv is not None:
                self._csv.writerow(row)
            else:
                self._rows.append(row)

    def __exit__(self, *exc: object) -> None:
        if self.format == "xlsx":
            from openpyxl import Workbook

            book = Workbook()
            sheet = book.active
            sheet.title = "cases"
            sheet.append(self.columns)
            for row in self._rows:
                sheet.append([_xlsx_cell(value) for value in row])
            book.save(self.path)
        elif self._handle is not None and self._handle is not sys.stdout:
            self._handle.close()
        elif self._handle is sys.stdout:
            sys.stdout.flush()


def _readable(record: dict, probabilities: bool = True) -> str:
    """A short human-readable block per record (``--readable`` / ``.txt``) for people reading a terminal: labels by
    their names (``Predictor.record``), not their identifiers; the offense score only where it is a probability."""
    if "error" in record:
        return f"{record['source']}: ERROR {record['error']}\n"
    if record.get("case") is None:
        return f"{record['source']}: {record.get('note', 'no case units')}\n"
    excerpt = " ".join(record["text"].split())[:70]
    penalties = ", ".join(record["penalty_names"]) or "-"
    statutes = ", ".join(record["statutes"]) or "-"
    review = " REVIEW" if record.get("needs_review") else ""
    score = f" ({record['offense_score']:.2f})" if probabilities else ""
    return (
        f"{record['source']} case {record['case']} [{record['start']}:{record['end']}]{review} {excerpt}\n"
        f"  offense {record['offense_name']}{score}; penalties {penalties}; "
        f"fines {record['fine_amounts'] or '-'}; party {record['party_name']}; statutes {statutes}\n"
    )


def _cell(value: object) -> object:
    """A spreadsheet cell: lists joined by ``;``, dicts as JSON, and text that a spreadsheet would run as a formula
    (OWASP "CSV injection": a cell starting with ``= + - @``, tab or CR) shown as text behind a leading ``'``.

    The page's CSV download (web/static/index.html, ``csvCell``) follows the same rule.
    """
    if isinstance(value, list):
        value = ";".join(str(v) for v in value)
    elif isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _xlsx_cell(value: object) -> object:
    """A cell openpyxl can store: control characters other than tab, newline and CR (a PDF's form feed ``\\x0c``,
    say) are not allowed in an XLSX file, and openpyxl refuses the whole workbook for one; they become spaces."""
    if isinstance(value, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        return ILLEGAL_CHARACTERS_RE.sub(" ", value)
    return value
