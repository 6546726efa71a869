"""A learned case-unit segmenter: each sentence of a bulletin is tagged as beginning, inside or outside a unit.

Why sentences and not characters: labels.md splits units at sentence boundaries (``。``/``；``) and lines, so a
sentence tagger can express every gold unit, and a bulletin is a few dozen sentences, which keeps it fast on a CPU.
Each sentence is read as three things (``data.segment_features`` has the details):

* what it says: the mean of the base encoder's input token embeddings (frozen, no transformer layers run);
* how it sits on the page: line kind, heading style, paragraph position, cues, the rule segmenter's decision;
* its neighbours: dilated convolutions over the sentence sequence, and the mean of the whole bulletin.

Several taggers trained with different seeds vote by averaging their CRF scores (``TaggerEnsemble``).

A directory holds ``segmenter.safetensors`` (every member's convolutions and head) and ``segmenter.yaml`` (sizes,
feature names, the base model whose embeddings it reads, versions, training summary); the 250k x 384 embedding
matrix is not copied: it is read from the base model (``embedded`` by default, works offline).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import yaml
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import AutoTokenizer, PreTrainedTokenizerBase

from data.errors import ModelError
from data.segment import MIN_CASE_CHARS
from data.segment_features import FEATURE_NAMES, SentencedBulletin, decode_tags, sentence_bulletin
from data.types import CaseUnit
from data.versions import library_versions

logger = logging.getLogger(__name__)
WEIGHTS_NAME = "segmenter.safetensors"
META_NAME = "segmenter.yaml"
TAGS = ("outside", "begin", "inside")


@dataclass(frozen=True)
class TaggerShape:
    """Sizes of a tagger; saved with it so loading rebuilds the same network."""

    embedding_dim: int
    hidden_size: int = 128
    layers: int = 4
    dropout: float = 0.2
    feature_count: int = len(FEATURE_NAMES)


class SentenceTagger(nn.Module):
    """Per-sentence inputs → dilated convolutions over the bulletin, plus a bulletin summary → begin/inside/outside
    scores, read as a linear-chain CRF with learned tag-to-tag transition scores.

    Why convolutions rather than a recurrent layer: four dilated layers see 15 sentences either side, which covers a
    case and its neighbours, and they run in parallel (a GRU over sentences was 5x slower on two CPU cores for the
    same validation F1). The mean of the bulletin's sentences adds what only the whole page shows (is it a numbered
    list, a news story, a page without cases). Why a CRF: trained sentence by sentence, the tagger cut single-case
    stories at their sub-headings and photos; scoring whole tag sequences learns what a split costs (grouped CV on
    real bulletins: fewer spurious units at the same recall, README "Segmentation").
    """

    def __init__(self, shape: TaggerShape) -> None:
        super().__init__()
        self.shape = shape
        inputs = shape.embedding_dim + shape.feature_count
        width = shape.hidden_size
        self.project = nn.Sequential(nn.Linear(inputs, width), nn.GELU(), nn.Dropout(shape.dropout))
        self.convolutions = nn.ModuleList(
            nn.Conv1d(width, width, kernel_size=3, padding=2**i, dilation=2**i) for i in range(shape.layers)
        )
        self.norms = nn.ModuleList(nn.LayerNorm(width) for _ in range(shape.layers))
        self.dropout = nn.Dropout(shape.dropout)
        self.head = nn.Linear(2 * width, len(TAGS))
        self.transitions = nn.Parameter(torch.zeros(len(TAGS), len(TAGS)))  # [previous, next]
        self.start = nn.Parameter(torch.zeros(len(TAGS)))

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """``batch`` as ``collate`` builds it; returns logits ``[bulletins, sentences, 3]``."""
        keep = batch["mask"].unsqueeze(-1).float()
        hidden = self.project(torch.cat([batch["embeddings"], batch["features"]], dim=-1)) * keep
        for convolution, norm in zip(self.convolutions, self.norms, strict=True):
            update = convolution(hidden.transpose(1, 2)).transpose(1, 2)
            hidden = norm(hidden + self.dropout(nn.functional.gelu(update))) * keep
        summary = hidden.sum(dim=1, keepdim=True) / keep.sum(dim=1, keepdim=True).clamp(min=1)
        return self.head(torch.cat([hidden, summary.expand_as(hidden)], dim=-1))

    def sequence_nll(self, scores: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood of each bulletin's gold tag sequence under the CRF, ``[bulletins]``.

        ``scores`` are ``forward``'s outputs; padded positions (``mask`` false) neither score nor move the chain.
        """
        transitions = self.transitions + _BLOCKED_T
        start = self.start + _BLOCKED_START_T
        tags = tags.clamp(min=0)
        steps = mask.float()
        gold = start[tags[:, 0]] + scores[:, 0].gather(1, tags[:, :1]).squeeze(1)
        alpha = start + scores[:, 0]
        for index in range(1, scores.shape[1]):
            step = (
                transitions[tags[:, index - 1], tags[:, index]]
                + scores[:, index].gather(1, tags[:, index : index + 1])[:, 0]
            )
            gold = gold + steps[:, index] * step
            moved = torch.logsumexp(alpha.unsqueeze(2) + transitions, dim=1) + scores[:, index]
            alpha = torch.where(mask[:, index : index + 1], moved, alpha)
        return torch.logsumexp(alpha, dim=1) - gold

    def chain(self) -> tuple[np.ndarray, np.ndarray]:
        """The learned ``(transitions, start)`` scores as numpy, for ``best_tags``."""
        return self.transitions.detach().numpy(), self.start.detach().numpy()


class TaggerEnsemble(nn.Module):
    """Taggers trained alike from different seeds; their per-sentence and transition scores are averaged.

    Why: one tagger trained on a few hundred real bulletins depends on its seed (grouped CV on real-train: F1 0.85 to
    0.88 for the same folds); the average of three seeds' scores scores 0.89 to 0.92 there (README "Segmentation").
    The average of CRF scores is itself a CRF's scores, so training and decoding stay as they are for one tagger.
    """

    def __init__(self, members: Sequence[SentenceTagger]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    @property
    def shape(self) -> TaggerShape:
        return self.members[0].shape

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.stack([member(batch) for member in self.members]).mean(dim=0)

    def chain(self) -> tuple[np.ndarray, np.ndarray]:
        """The members' mean ``(transitions, start)`` scores, for ``best_tags``."""
        chains = [member.chain() for member in self.members]
        return np.mean([c[0] for c in chains], axis=0), np.mean([c[1] for c in chains], axis=0)

    @torch.inference_mode()
    def tag(self, bulletins: Sequence[EncodedBulletin]) -> list[list[int]]:
        """Most likely tag of every sentence; empty bulletins get no tags."""
        filled = [b for b in bulletins if b.sentenced.sentences]
        predicted = iter(self._best(filled) if filled else [])
        return [next(predicted) if b.sentenced.sentences else [] for b in bulletins]

    def _best(self, bulletins: Sequence[EncodedBulletin]) -> list[list[int]]:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # a bulletin is a few dozen sentences: more threads only wait on each other
        try:
            scores = self(collate(bulletins)).numpy()
        finally:
            torch.set_num_threads(threads)
        transitions, start = self.chain()
        return [
            best_tags(scores[row, : len(b.sentenced.sentences)], transitions, start) for row, b in enumerate(bulletins)
        ]


class TokenVectors:
    """Sentence vectors from a base model's input embeddings: the mean over the sentence's tokens.

    Why static embeddings: running the encoder's layers per sentence costs more than everything else the segmenter
    does (e5-small's first four layers: about 270 sentences/s on two CPU cores, some 7 bulletins/s, against the
    whole ensemble's 38–49); the token vectors already say what a sentence is about, and the convolutions supply
    the context.
    """

    def __init__(self, base_model: str) -> None:
        self.tokenizer, self.matrix = _input_embeddings(base_model)
        self.special = set(self.tokenizer.all_special_ids)

    @property
    def dim(self) -> int:
        return self.matrix.shape[1]

    def encode(self, texts: Sequence[str], max_tokens: int = 256) -> np.ndarray:
        """One vector per text: the mean of its first ``max_tokens`` token vectors (a sentence needs no more)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        ids = self.tokenizer(list(texts), add_special_tokens=False, truncation=True, max_length=max_tokens)[
            "input_ids"
        ]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, token_ids in enumerate(ids):
            kept = [t for t in token_ids if t not in self.special]
            if kept:
                out[row] = self.matrix[kept].mean(axis=0)
        return out


def _input_embeddings(base_model: str) -> tuple[PreTrainedTokenizerBase, np.ndarray]:
    """The tokenizer and input embedding matrix of a base model; from a local safetensors file when there is one
    (a tenth of the time of building the whole encoder), else through the encoder."""
    from models.base import EMBEDDED, load_base_model

    if base_model == EMBEDDED:
        from models.embedded import embedded_model_dir

        directory = embedded_model_dir()
    else:
        directory = Path(base_model)
    weights = directory / "model.safetensors"
    if weights.is_file():
        with safe_open(str(weights), framework="np") as tensors:
            names = [n for n in tensors.keys() if n.endswith("word_embeddings.weight")]
            if names:
                tokenizer = AutoTokenizer.from_pretrained(str(directory))
                return tokenizer, tensors.get_tensor(names[0]).astype(np.float32)
    encoder, tokenizer = load_base_model(base_model)
    return tokenizer, encoder.get_input_embeddings().weight.detach().float().numpy().copy()


@dataclass
class EncodedBulletin:
    """A bulletin's sentences as model inputs (and, for training, their gold tags)."""

    sentenced: SentencedBulletin
    embeddings: np.ndarray
    features: np.ndarray
    tags: list[int] | None = None


def encode_bulletin(sentenced: SentencedBulletin, vectors: TokenVectors) -> EncodedBulletin:
    features = np.array([s.features for s in sentenced.sentences], dtype=np.float32).reshape(-1, len(FEATURE_NAMES))
    return EncodedBulletin(sentenced, vectors.encode(sentenced.texts()), features)


def collate(bulletins: Sequence[EncodedBulletin], with_tags: bool = False) -> dict[str, torch.Tensor]:
    """Pad bulletins to the longest one; ``mask`` marks real sentences, ``tags`` -100 the padding."""
    longest = max(1, max(len(b.sentenced.sentences) for b in bulletins))
    dim, n_features = bulletins[0].embeddings.shape[1], len(FEATURE_NAMES)
    embeddings = torch.zeros(len(bulletins), longest, dim)
    features = torch.zeros(len(bulletins), longest, n_features)
    mask = torch.zeros(len(bulletins), longest, dtype=torch.bool)
    tags = torch.full((len(bulletins), longest), -100, dtype=torch.long)
    for row, bulletin in enumerate(bulletins):
        n = len(bulletin.sentenced.sentences)
        embeddings[row, :n] = torch.from_numpy(bulletin.embeddings)
        features[row, :n] = torch.from_numpy(bulletin.features)
        mask[row, :n] = True
        if with_tags and bulletin.tags is not None:
            tags[row, :n] = torch.tensor(bulletin.tags, dtype=torch.long)
    batch = {"embeddings": embeddings, "features": features, "mask": mask}
    if with_tags:
        batch["tags"] = tags
    return batch


# Valid transitions: "inside" only continues a unit that began (or continues) right before it.
_ALLOWED = np.array([[True, True, False], [True, True, True], [True, True, True]])  # [previous, next]
_BLOCKED = np.where(_ALLOWED, 0.0, -np.inf)
_BLOCKED_START = np.array([0.0, 0.0, -np.inf])
# The same constraints for training; a large finite penalty keeps the log-sum-exp free of NaN.
_BLOCKED_T = torch.tensor(np.where(_ALLOWED, 0.0, -1e4), dtype=torch.float32)
_BLOCKED_START_T = torch.tensor([0.0, 0.0, -1e4])


def best_tags(scores: np.ndarray, transitions: np.ndarray | None = None, start: np.ndarray | None = None) -> list[int]:
    """The highest-scoring tag sequence in which every unit starts with "begin" (Viterbi over per-sentence scores
    plus the CRF's transition and start scores, zero when not given).

    Why not the per-sentence argmax: a sentence scored "inside" after an "outside" one is a unit the tagger is
    unsure of; the sequence decision weighs opening a unit there against leaving the sentence out.
    """
    if len(scores) == 0:
        return []
    steps = _BLOCKED + (0.0 if transitions is None else transitions)
    score = scores[0] + _BLOCKED_START + (0.0 if start is None else start)
    back = np.zeros((len(scores), len(TAGS)), dtype=np.int64)
    for index in range(1, len(scores)):
        candidates = score[:, None] + steps  # [previous, next]
        back[index] = candidates.argmax(axis=0)
        score = candidates.max(axis=0) + scores[index]
    tags = [int(score.argmax())]
    for index in range(len(scores) - 1, 0, -1):
        tags.append(int(back[index, tags[-1]]))
    return tags[::-1]


def spans_from_tags(sentenced: SentencedBulletin, tags: Sequence[int]) -> list[tuple[int, int]]:
    """Tagged sentences → trimmed unit spans in the ORIGINAL text; fragments shorter than a case are dropped."""
    norm = sentenced.normalized.text
    spans = []
    for first, last in decode_tags(list(tags)):
        start, end = sentenced.sentences[first].start, sentenced.sentences[last].end
        segment = norm[start:end]
        start += len(segment) - len(segment.lstrip())
        end -= len(segment) - len(segment.rstrip())
        if end - start >= MIN_CASE_CHARS:
            spans.append(sentenced.normalized.to_original(start, end))
    return spans


class LearnedSegmenter:
    """Loads trained taggers and segments bulletins with them; the same call shape as ``segment_bulletin``."""

    def __init__(self, tagger: TaggerEnsemble, vectors: TokenVectors, meta: dict, path: str = "") -> None:
        self.tagger = tagger.eval()
        self.vectors = vectors
        self.meta = meta
        self.name = path or "learned"

    @classmethod
    def load(cls, directory: str | Path) -> LearnedSegmenter:
        """Raises ModelError for a missing, incomplete or corrupt segmenter directory, or other features."""
        directory = Path(directory)
        meta_path, weights_path = directory / META_NAME, directory / WEIGHTS_NAME
        if not meta_path.is_file() or not weights_path.is_file():
            raise ModelError(f"{directory} is not a segmenter: {META_NAME} and {WEIGHTS_NAME} are needed")
        try:
            meta = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
            shape = TaggerShape(**meta["shape"])
            state = load_file(str(weights_path))
        except (yaml.YAMLError, OSError, UnicodeDecodeError, KeyError, TypeError, SafetensorError) as err:
            raise ModelError(f"segmenter {directory} is corrupt: {err}") from err
        if tuple(meta.get("features", ())) != FEATURE_NAMES:
            raise ModelError(f"segmenter {directory} was trained on other sentence features; retrain it")
        tagger = TaggerEnsemble([SentenceTagger(shape) for _ in range(int(meta.get("members", 1)))])
        try:
            tagger.load_state_dict(state)
        except RuntimeError as err:
            raise ModelError(
                f"segmenter {directory} weights do not fit this version (retrain: penalty train --task segment): "
                + str(err).splitlines()[0]
            ) from err
        return cls(tagger, TokenVectors(meta["base_model"]), meta, str(directory))

    def save(self, directory: str | Path, summary: dict | None = None) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in self.tagger.state_dict().items()}, str(directory / WEIGHTS_NAME))
        meta = self.meta | {"shape": asdict(self.tagger.shape), "members": len(self.tagger.members)}
        meta |= {"features": list(FEATURE_NAMES)}
        meta |= {"versions": library_versions(), "summary": summary or self.meta.get("summary", {})}
        (directory / META_NAME).write_text(yaml.safe_dump(meta, allow_unicode=True, sort_keys=False), "utf-8")

    def encode(self, text: str, start: int = 0) -> EncodedBulletin:
        return encode_bulletin(sentence_bulletin(text, start), self.vectors)

    def segment(self, text: str, source: str = "", start: int = 0) -> list[CaseUnit]:
        """Case units of one bulletin, offsets into ``text`` (``unit.text == text[unit.start:unit.end]``)."""
        return self.segment_many([(text, source, start)])[0]

    def segment_many(self, bulletins: Sequence[tuple[str, str, int]], batch_size: int = 16) -> list[list[CaseUnit]]:
        """Several bulletins ``(text, source, body_start)`` tagged in batches (faster than one at a time)."""
        out: list[list[CaseUnit]] = []
        for begin in range(0, len(bulletins), batch_size):
            chunk = bulletins[begin : begin + batch_size]
            encoded = [self.encode(text, start) for text, _, start in chunk]
            for (text, source, _), bulletin, tags in zip(chunk, encoded, self.tagger.tag(encoded), strict=True):
                spans = spans_from_tags(bulletin.sentenced, tags)
                out.append([CaseUnit(source, i, s, e, text[s:e]) for i, (s, e) in enumerate(spans, start=1)])
        return out
