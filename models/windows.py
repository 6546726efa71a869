"""Scoring case units window by window: the batching and pooling that the PyTorch and ONNX labelers share.

Why windows, not units, are batched at prediction time: a long unit's windows differ in length, and batches of whole
units pad every window to the batch's longest one; on the real bulletins 27% of the tokens fed to the encoder were
padding. All windows of a call are sorted by length, batched, and pooled per unit afterwards, exactly as
``MultiTaskModel`` pools them in training: mean of offense and party logits (every window votes), max of penalty
logits (a penalty stated in any window was imposed).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from transformers import PreTrainedTokenizerBase

from data.labels import LabelSet
from data.types import LabelScores
from models.encoding import encode_units, flatten_windows, pad_windows


class WindowLabeler:
    """Base of the labelers that score token windows (PyTorch, ONNX): subclasses implement ``run_windows``."""

    def __init__(
        self,
        tokenizer: PreTrainedTokenizerBase,
        label_set: LabelSet,
        max_length: int = 256,
        stride: int = 64,
        batch_size: int = 32,
    ) -> None:
        self.tokenizer = tokenizer
        self.label_set = label_set
        self.max_length = max_length
        self.stride = stride
        self.batch_size = batch_size

    def run_windows(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> Sequence[np.ndarray]:
        """Offense, penalty and party logits per window of one padded batch."""
        raise NotImplementedError

    def score_texts(self, texts: list[str]) -> list[LabelScores]:
        """Label scores per text, in input order, from length-sorted batches of windows pooled per unit."""
        if not texts:
            return []
        windows, unit_index = flatten_windows(encode_units(self.tokenizer, texts, self.max_length, self.stride))
        order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
        logits: list[np.ndarray] = []
        for begin in range(0, len(order), self.batch_size):
            chunk = order[begin : begin + self.batch_size]
            outputs = self.run_windows(*pad_windows([windows[i] for i in chunk], self.tokenizer.pad_token_id))
            if not logits:
                logits = [np.zeros((len(windows), out.shape[-1]), dtype=np.float32) for out in outputs]
            for store, out in zip(logits, outputs, strict=True):
                store[chunk] = out
        index = np.array(unit_index)
        offense = _softmax(pool_windows(logits[0], index, len(texts), "mean"))
        penalty = _sigmoid(pool_windows(logits[1], index, len(texts), "max"))
        party = _softmax(pool_windows(logits[2], index, len(texts), "mean"))
        return [
            LabelScores.from_rows(self.label_set, offense[i].tolist(), penalty[i].tolist(), party[i].tolist())
            for i in range(len(texts))
        ]


def pool_windows(values: np.ndarray, unit_index: np.ndarray, n_units: int, how: str) -> np.ndarray:
    """Pool window rows per unit (``unit_index`` gives each row's unit): ``mean`` or ``max``."""
    values = values.astype(np.float32, copy=False)
    if how == "mean":
        sums = np.zeros((n_units, values.shape[1]), dtype=np.float32)
        np.add.at(sums, unit_index, values)
        counts = np.maximum(np.bincount(unit_index, minlength=n_units), 1).astype(np.float32)
        return sums / counts[:, None]
    if how == "max":
        out = np.full((n_units, values.shape[1]), np.finfo(np.float32).min, dtype=np.float32)
        np.maximum.at(out, unit_index, values)
        return out
    raise ValueError(f"how must be 'mean' or 'max', got {how!r}")


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    # 1 / (1 + exp(-x)) overflows (with a RuntimeWarning) for x < -88 in float32; this form does not
    return np.exp(-np.logaddexp(0.0, -logits))
