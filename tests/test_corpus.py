"""The authored corpus: big enough, balanced enough, built from its sources, and never copied from real bulletins."""

import json
import re
from collections import Counter

import pytest

from data.corpus import BUILD_DIR, count_labels, load_sources
from data.formats import load_cases
from data.reader import read_bulletin
from training.splits import grouped_split

NGRAM = 20


@pytest.fixture(scope="module")
def bulletins(label_set):
    return load_sources(label_set=label_set)


def test_corpus_meets_size_and_label_minimums(bulletins):
    counts = count_labels(bulletins)
    assert len(bulletins) >= 200
    assert sum(len(b.cases) for b in bulletins) >= 2000
    assert min(counts["offense"].values()) >= 80 and len(counts["offense"]) == 16
    assert min(counts["penalty"].values()) >= 80 and len(counts["penalty"]) == 12


def test_corpus_build_is_up_to_date_with_sources(bulletins):
    built = sorted(p.stem for p in BUILD_DIR.glob("*.txt"))
    assert built == sorted(b.doc for b in bulletins), "run: python -m data.corpus build"
    for bulletin in bulletins:
        assert (BUILD_DIR / f"{bulletin.doc}.txt").read_text(encoding="utf-8") == bulletin.text
        lines = (BUILD_DIR / f"{bulletin.doc}.jsonl").read_text(encoding="utf-8").splitlines()
        assert [json.loads(line) for line in lines] == [c.to_dict() for c in bulletin.cases]


def test_corpus_case_texts_sit_at_their_spans(bulletins):
    for bulletin in bulletins:
        for case, (start, end) in zip(bulletin.cases, bulletin.spans, strict=True):
            assert bulletin.text[start:end] == case.text


# Facts may repeat: law titles, article citations and charge names are the same in every bulletin.
_CITATION = re.compile(
    r"《[^》]*》|(?:第[零〇一二两三四五六七八九十百千0-9]+条(?:之[一二三四五六七八九十])?[、，和及]?)+|[^，。；：、“”《》\s]{2,30}罪"
)


def _grams(text: str, n: int = NGRAM) -> set[str]:
    grams = set()
    for piece in _CITATION.split("".join(text.split())):
        grams |= {piece[i : i + n] for i in range(len(piece) - n + 1)}
    return grams


@pytest.mark.parametrize(
    ("pattern", "n"),
    [("real/*.txt", NGRAM), ("real*/*.txt", 30)],
    ids=["reference-set-20-chars", "every-real-set-30-chars"],
)
def test_corpus_copies_no_passage_of_a_real_bulletin(bulletins, real_dir, pattern, n):
    """The reference set at 20 characters; every real set (real-train too) at 30, so stock legal formulas such as a
    quoted penalty clause (about 20 characters) pass while a copied sentence does not."""
    real = set()
    for path in real_dir.parent.glob(pattern):
        bulletin = read_bulletin(path)
        real |= _grams(bulletin.text[bulletin.body_start :], n)
    copied = [(b.doc, g) for b in bulletins for g in _grams(b.text, n) if g in real]
    assert copied == [], f"authored text repeats real bulletins: {copied[:5]}"


def test_corpus_split_is_grouped_with_no_near_duplicates_across(label_set):
    cases, problems = load_cases(["corpus"], label_set)
    assert problems == []
    train, validation = grouped_split(cases, 0.1, seed=42)
    assert not {c.doc for c in train} & {c.doc for c in validation}
    train_grams = Counter(g for c in train for g in _grams(c.text))
    for case in validation:
        grams = _grams(case.text)
        shared = sum(1 for g in grams if g in train_grams)
        assert not grams or shared / len(grams) < 0.5, f"near-duplicate across splits: {case.text[:40]}"
