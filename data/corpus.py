"""The authored training corpus: YAML bulletin sources assembled into bulletin text plus gold case units.

Each source file ``data/corpus/src/<slice>/<doc>.yaml`` lists the parts of one bulletin in order (lead, cases,
statistics, captions, unrelated news, ...). Assembling them gives the bulletin text and, for free, exact gold spans:
authors never type offsets. ``python -m data.corpus build`` writes ``bulletins/<doc>.txt`` + ``<doc>.jsonl`` (the
same layout as any annotated directory) and prints label counts.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

from data.errors import AnnotationError
from data.labels import LabelSet
from data.types import GoldCase

logger = logging.getLogger(__name__)

CORPUS_DIR = Path(__file__).with_name("corpus")
SOURCE_DIR = CORPUS_DIR / "src"
BUILD_DIR = CORPUS_DIR / "bulletins"
CORPUS_SPEC = "corpus"  # in data lists (data.train, --data): the built corpus bulletins
PART_KINDS = ("lead", "case", "stats", "caption", "news", "closing", "heading", "commentary", "navigation", "fragment")
BULLETIN_KEYS = ("doc", "issuer", "region", "year", "style", "separator", "parts")
ISSUERS = (
    "county_police",
    "city_police",
    "province_police",
    "national_police",
    "cac",
    "court",
    "procuratorate",
    "media",
)


@dataclass(frozen=True)
class AuthoredBulletin:
    """An assembled bulletin: its text, its gold cases and their character spans in that text."""

    doc: str
    issuer: str
    year: int
    style: str
    text: str
    cases: list[GoldCase]
    spans: list[tuple[int, int]]


def data_path(spec: str) -> Path:
    """The path a data spec names: ``corpus`` is the built authored corpus (``BUILD_DIR``), anything else a path."""
    return BUILD_DIR if spec == CORPUS_SPEC else Path(spec)


def assemble_bulletin(raw: dict, label_set: LabelSet, where: str) -> AuthoredBulletin:
    """Join the parts of one YAML source into text and gold cases.

    Parts are joined with the bulletin's ``separator`` (default one newline); a part with ``join: ""`` (or any
    string) continues the previous part with that string instead, which is how several cases share a paragraph.

    Raises:
        AnnotationError: naming ``where`` and the part, for unknown keys, kinds or labels.
    """
    if not isinstance(raw, dict) or not isinstance(raw.get("parts"), list) or not raw["parts"]:
        raise AnnotationError(f"{where}: a bulletin source needs a non-empty 'parts' list")
    unknown = set(raw) - set(BULLETIN_KEYS)
    if unknown:
        raise AnnotationError(f"{where}: unknown keys {sorted(unknown)}; known: {list(BULLETIN_KEYS)}")
    if raw.get("issuer") not in ISSUERS:
        raise AnnotationError(f"{where}: issuer {raw.get('issuer')!r} is not one of {list(ISSUERS)}")
    doc = str(raw.get("doc") or Path(where).stem)
    separator = str(raw.get("separator", "\n"))
    text = ""
    cases: list[GoldCase] = []
    spans: list[tuple[int, int]] = []
    for number, part in enumerate(raw["parts"], start=1):
        part_where = f"{where} part {number}"
        if not isinstance(part, dict) or part.get("kind") not in PART_KINDS or not isinstance(part.get("text"), str):
            raise AnnotationError(f"{part_where}: needs 'kind' (one of {list(PART_KINDS)}) and 'text'")
        body = part["text"].strip("\n")
        if not body.strip():
            raise AnnotationError(f"{part_where}: empty text")
        if text:
            text += str(part["join"]) if "join" in part else separator
        start = len(text)
        text += body
        if part["kind"] == "case":
            labels = {k: v for k, v in part.items() if k not in ("kind", "text", "join")}
            case = GoldCase.from_dict({"doc": doc, "text": body} | labels, label_set, part_where)
            cases.append(case)
            spans.append((start, len(text)))
    return AuthoredBulletin(
        doc=doc,
        issuer=raw["issuer"],
        year=int(raw.get("year", 0)),
        style=str(raw.get("style", "formal")),
        text=text + "\n",
        cases=cases,
        spans=spans,
    )


def load_sources(source_dir: Path = SOURCE_DIR, label_set: LabelSet | None = None) -> list[AuthoredBulletin]:
    """Assemble every ``*.yaml`` under ``source_dir`` (sorted, so builds are reproducible)."""
    label_set = label_set or LabelSet.load()
    bulletins = []
    for path in sorted(source_dir.rglob("*.yaml")):
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as err:
            raise AnnotationError(f"{path}: not valid YAML: {err}") from err
        bulletins.append(assemble_bulletin(raw, label_set, str(path)))
    docs = Counter(b.doc for b in bulletins)
    duplicated = [d for d, n in docs.items() if n > 1]
    if duplicated:
        raise AnnotationError(f"duplicate bulletin ids in {source_dir}: {duplicated}")
    return bulletins


def write_bulletins(bulletins: list[AuthoredBulletin], out_dir: Path = BUILD_DIR) -> None:
    """Write ``<doc>.txt`` and ``<doc>.jsonl`` for each bulletin, replacing an older build."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in list(out_dir.glob("*.txt")) + list(out_dir.glob("*.jsonl")):
        old.unlink()
    for bulletin in bulletins:
        (out_dir / f"{bulletin.doc}.txt").write_text(bulletin.text, encoding="utf-8")
        lines = [json.dumps(c.to_dict(), ensure_ascii=False) for c in bulletin.cases]
        (out_dir / f"{bulletin.doc}.jsonl").write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")


def count_labels(bulletins: list[AuthoredBulletin]) -> dict[str, Counter]:
    """Counts per offense, penalty, party, issuer and style: the datasheet's table."""
    counts: dict[str, Counter] = {k: Counter() for k in ("offense", "penalty", "party", "issuer", "style")}
    for bulletin in bulletins:
        counts["issuer"][bulletin.issuer] += 1
        counts["style"][bulletin.style] += 1
        for case in bulletin.cases:
            counts["offense"][case.offense] += 1
            counts["party"][case.party] += 1
            counts["penalty"].update(case.penalties)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data.corpus", description=__doc__)
    parser.add_argument("command", choices=["check", "build"], help="check: assemble and count; build: also write")
    parser.add_argument("--src", type=Path, default=SOURCE_DIR)
    parser.add_argument("--out", type=Path, default=BUILD_DIR)
    args = parser.parse_args(argv)
    try:
        bulletins = load_sources(args.src)
    except AnnotationError as err:
        print(f"error: {err}", file=sys.stderr)  # noqa: T201
        return 1
    counts = count_labels(bulletins)
    units = sum(len(b.cases) for b in bulletins)
    print(f"{len(bulletins)} bulletins, {units} case units")  # noqa: T201
    for kind, counter in counts.items():
        print(f"{kind}: " + ", ".join(f"{k}={v}" for k, v in counter.most_common()))  # noqa: T201
    if args.command == "build":
        write_bulletins(bulletins, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
