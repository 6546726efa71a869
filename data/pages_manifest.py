"""A text-free manifest of annotated real pages, and a rebuild of the annotated set from a re-collected copy.

Why: the real bulletin pages we annotate (dev and held-out sets) are third-party web text that must not be committed.
What the repository keeps instead is ``data/manifests/real_pages.jsonl``: per page its URL, title, date, role, the
SHA-256 of the page text and, per gold case unit, its character offsets, the SHA-256 of its text and its labels.
Anyone who re-collects the pages (as ``NAME.txt`` files with the same ``SOURCE:`` … ``---`` header) can rebuild the
annotated directory exactly, and a page whose text differs is reported rather than silently mis-annotated.

``python -m data.pages_manifest write DIR... --role dev -o data/manifests/real_pages.jsonl``
    reads every ``NAME.txt`` with its gold ``NAME.jsonl`` (an empty one: a page without a case) and replaces that
    role's lines in the manifest, keeping the other roles.
``python -m data.pages_manifest rebuild MANIFEST COPY_DIR -o OUT_DIR [--role R]``
    checks each ``COPY_DIR/NAME.txt`` against its hash and writes ``OUT_DIR/NAME.txt`` + ``NAME.jsonl`` for the
    pages that match; exit status 1 if any page was missing or differed.

Offsets are Python string indices into the decoded file text *including* its header (``data.reader.Bulletin.text``,
the convention of the whole project), and the hash is over that text encoded as UTF-8, so a copy saved as GBK or
with a BOM still matches, but one with other line endings or whitespace does not.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from data.annotated import locate_cases
from data.errors import AnnotationError, PenaltyError
from data.gold import read_gold_jsonl, write_gold_jsonl
from data.labels import LabelSet
from data.reader import read_bulletin
from data.types import GoldCase

logger = logging.getLogger(__name__)

# dev: read while choosing a configuration; heldout and fresh: scored once, after the models they score were frozen
# (fresh: collected later, for make demo's models of commit 3e31b3a).
ROLES = ("dev", "heldout", "fresh")
DEFAULT_MANIFEST = Path(__file__).with_name("manifests") / "real_pages.jsonl"
HEADER_FIELDS = ("SOURCE", "TITLE", "DATE")


def sha256_text(text: str) -> str:
    """Hex SHA-256 of ``text`` encoded as UTF-8 (the one hash used for pages and units alike)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PageEntry:
    """One manifest line: where the page came from, its hash and its gold units as offsets (no page text)."""

    name: str
    url: str
    title: str
    date: str
    role: str
    sha256: str
    chars: int
    units: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "url": self.url,
            "title": self.title,
            "date": self.date,
            "role": self.role,
            "sha256": self.sha256,
            "chars": self.chars,
            "units": self.units,
        }

    @classmethod
    def from_dict(cls, record: object, where: str) -> PageEntry:
        """Check the shape of one manifest line.

        Raises:
            AnnotationError: naming ``where`` (file:line) and the missing or mistyped key.
        """
        if not isinstance(record, dict):
            raise AnnotationError(f"expected a JSON object at {where}")
        for key in ("name", "role", "sha256"):
            if not isinstance(record.get(key), str) or not record[key]:
                raise AnnotationError(f"missing or empty '{key}' at {where}")
        units = record.get("units", [])
        if not isinstance(units, list) or not all(isinstance(u, dict) for u in units):
            raise AnnotationError(f"'units' must be a list of objects at {where}")
        for number, unit in enumerate(units, start=1):
            start, end = unit.get("start"), unit.get("end")
            if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end):
                raise AnnotationError(f"unit {number} at {where}: 'start'/'end' must be integers with start < end")
        return cls(
            name=record["name"],
            url=str(record.get("url", "")),
            title=str(record.get("title", "")),
            date=str(record.get("date", "unknown")),
            role=record["role"],
            sha256=record["sha256"],
            chars=int(record.get("chars", 0)),
            units=units,
        )


def parse_header(header: str) -> dict[str, str]:
    """The ``KEY: value`` lines of a page header (``SOURCE``, ``TITLE``, ``DATE``); other lines are ignored."""
    fields: dict[str, str] = {}
    for line in header.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in HEADER_FIELDS and key.strip() not in fields:
            fields[key.strip()] = value.strip()
    return fields


def page_entry(txt: Path, role: str, label_set: LabelSet) -> PageEntry:
    """Build the manifest line of one annotated page from ``txt`` and the gold ``.jsonl`` beside it.

    Why strict here (unlike evaluation, which skips bad gold lines): a unit silently dropped from the manifest would
    be missing from every rebuilt copy, so any gold problem stops the write.

    Raises:
        AnnotationError: no gold file, an invalid gold line, or a gold text that is not in the page body.
        InputError: the page cannot be read.
    """
    gold_path = txt.with_suffix(".jsonl")
    if not gold_path.exists():
        raise AnnotationError(f"{txt}: no gold file {gold_path.name} beside it (write an empty one for no case)")
    cases: list[GoldCase] = []
    # an empty gold file is this layout's way of saying "no case on this page" (statistics, tips), so it is read as
    # zero units here even where the general gold reader reports an empty export as a likely mistake
    if gold_path.read_bytes().strip():
        gold = read_gold_jsonl(gold_path, label_set)
        if gold.problems:
            raise AnnotationError(f"{gold_path}: " + "; ".join(gold.problems))
        cases = gold.cases
    bulletin = read_bulletin(txt)
    text, body_start = bulletin.text, bulletin.body_start
    # search the body only, so a short unit is never matched inside the header's TITLE line
    spans = locate_cases(text[body_start:], cases, str(gold_path))
    header = parse_header(text[:body_start])
    units = []
    for case, (start, end) in zip(cases, spans, strict=True):
        units.append(
            {
                "start": body_start + start,
                "end": body_start + end,
                "offset_sha256": sha256_text(case.text),
                "offense": case.offense,
                "penalties": list(case.penalties),
                "fine_amounts": list(case.fine_amounts),
                "party": case.party,
                "complete": case.complete,
            }
        )
    return PageEntry(
        name=txt.stem,
        url=header.get("SOURCE", ""),
        title=header.get("TITLE", ""),
        date=header.get("DATE", "unknown") or "unknown",
        role=role,
        sha256=sha256_text(text),
        chars=len(text),
        units=units,
    )


def read_manifest(path: Path) -> list[PageEntry]:
    """All lines of a manifest; a missing file is an empty manifest.

    Raises:
        AnnotationError: a line is not valid JSON or not a page entry (file:line).
    """
    if not path.exists():
        return []
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise AnnotationError(f"malformed JSON at {where}: {err.msg}") from err
        entries.append(PageEntry.from_dict(record, where))
    return entries


def merge_role(existing: Iterable[PageEntry], role: str, new: Sequence[PageEntry]) -> list[PageEntry]:
    """Replace ``role``'s entries with ``new`` and keep the others; sorted by role, then name, for stable diffs.

    Raises:
        AnnotationError: a page name occurs twice (rebuild writes every page to one ``NAME.txt``).
    """
    kept = [entry for entry in existing if entry.role != role]
    seen: dict[str, str] = {}
    for entry in [*kept, *new]:
        if entry.name in seen:
            raise AnnotationError(f"page name {entry.name!r} occurs twice (roles {seen[entry.name]} and {entry.role})")
        seen[entry.name] = entry.role
    return sorted([*kept, *new], key=lambda entry: (entry.role, entry.name))


def write_manifest(directories: Sequence[Path], role: str, output: Path, label_set: LabelSet) -> list[PageEntry]:
    """Read every annotated page of ``directories`` and write them as ``role`` into ``output``; returns the new lines.

    Raises:
        AnnotationError / InputError: a page or its gold is unusable; the manifest is then left unchanged.
    """
    new: list[PageEntry] = []
    for directory in directories:
        if not directory.is_dir():
            raise AnnotationError(f"{directory}: not a directory")
        new.extend(page_entry(txt, role, label_set) for txt in sorted(directory.glob("*.txt")))
    if not new:
        raise AnnotationError(f"no page (*.txt) in {', '.join(map(str, directories))}")
    merged = merge_role(read_manifest(output), role, new)
    output.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(json.dumps(entry.to_dict(), ensure_ascii=False) + "\n" for entry in merged)
    output.write_text(body, encoding="utf-8")
    return new


@dataclass
class RebuildReport:
    """What happened to each page: rebuilt, or why not (missing copy, hash mismatch, unusable manifest line)."""

    rebuilt: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.mismatched or self.problems)


def rebuild_page(entry: PageEntry, text: str, label_set: LabelSet) -> list[GoldCase]:
    """Gold cases of a page whose text matched its hash, cut from the text at the manifest's offsets.

    Raises:
        AnnotationError: an offset lies outside the text, a unit's hash differs, or a label is not in the label set.
    """
    cases = []
    for number, unit in enumerate(entry.units, start=1):
        where = f"{entry.name} unit {number}"
        if unit["end"] > len(text):
            raise AnnotationError(f"{where}: end {unit['end']} is past the page's {len(text)} characters")
        piece = text[unit["start"] : unit["end"]]
        if sha256_text(piece) != unit.get("offset_sha256"):
            raise AnnotationError(f"{where}: the text at {unit['start']}:{unit['end']} does not match its sha256")
        record = {
            key: unit[key] for key in ("offense", "penalties", "fine_amounts", "party", "complete") if key in unit
        }
        cases.append(GoldCase.from_dict({"doc": entry.name, "text": piece} | record, label_set, where))
    return cases


def rebuild(
    manifest: Path, copy_dir: Path, out_dir: Path, label_set: LabelSet, role: str | None = None
) -> RebuildReport:
    """Write ``out_dir/NAME.txt`` + ``NAME.jsonl`` for every manifest page whose copy in ``copy_dir`` matches.

    Why go on after a bad page: re-collecting web pages always loses a few; the others are still a usable set, and
    the report names each page left out and why.
    """
    report = RebuildReport()
    out_dir.mkdir(parents=True, exist_ok=True)
    for entry in read_manifest(manifest):
        if role and entry.role != role:
            continue
        copy = copy_dir / f"{entry.name}.txt"
        if not copy.exists():
            report.missing.append(entry.name)
            logger.error("%s: missing (no %s)", entry.name, copy)
            continue
        try:
            text = read_bulletin(copy).text
        except PenaltyError as err:
            report.problems.append(entry.name)
            logger.error("%s: unreadable copy: %s", entry.name, err)
            continue
        digest = sha256_text(text)
        if digest != entry.sha256:
            report.mismatched.append(entry.name)
            logger.error(
                "%s: mismatch: copy has %d characters, sha256 %s…; manifest expects %d, %s… (skipped)",
                entry.name,
                len(text),
                digest[:12],
                entry.chars,
                entry.sha256[:12],
            )
            continue
        try:
            cases = rebuild_page(entry, text, label_set)
        except AnnotationError as err:
            report.problems.append(entry.name)
            logger.error("%s: bad manifest entry: %s", entry.name, err)
            continue
        # newline="" writes the text byte for byte, so offsets and hash hold in the rebuilt file too
        with open(out_dir / f"{entry.name}.txt", "w", encoding="utf-8", newline="") as out:
            out.write(text)
        write_gold_jsonl(cases, out_dir / f"{entry.name}.jsonl")
        report.rebuilt.append(entry.name)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data.pages_manifest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels", type=Path, default=None, help="label-set YAML (default: data/labels.yaml)")
    commands = parser.add_subparsers(dest="command", required=True)
    write = commands.add_parser("write", help="write (replace) one role's pages in the manifest")
    write.add_argument("dirs", nargs="+", type=Path, help="directories of NAME.txt + NAME.jsonl")
    write.add_argument("--role", required=True, choices=ROLES)
    write.add_argument("-o", "--output", type=Path, default=DEFAULT_MANIFEST)
    build = commands.add_parser("rebuild", help="rebuild annotated pages from a re-collected copy")
    build.add_argument("manifest", type=Path)
    build.add_argument("copy_dir", type=Path, help="directory of re-collected NAME.txt pages")
    build.add_argument("-o", "--output", type=Path, required=True, help="directory to write NAME.txt + NAME.jsonl")
    build.add_argument("--role", choices=ROLES, default=None, help="only this role's pages")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        label_set = LabelSet.load(args.labels)
        if args.command == "write":
            entries = write_manifest(args.dirs, args.role, args.output, label_set)
            units = sum(len(entry.units) for entry in entries)
            empty = sum(not entry.units for entry in entries)
            logger.info(
                "%s: %d %s pages (%d without a case), %d units", args.output, len(entries), args.role, empty, units
            )
            return 0
        report = rebuild(args.manifest, args.copy_dir, args.output, label_set, args.role)
    except PenaltyError as err:
        logger.error("%s", err)
        return 1
    logger.info(
        "rebuilt %d pages into %s; %d missing, %d mismatched, %d unusable",
        len(report.rebuilt),
        args.output,
        len(report.missing),
        len(report.mismatched),
        len(report.problems),
    )
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
