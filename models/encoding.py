"""Case-unit texts → overlapping token windows, and the collator that batches them with dynamic padding.

Training and prediction share this, so a unit is windowed the same way in both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from data.normalize import normalize

LABEL_NAMES = ["offense_labels", "penalty_labels", "party_labels"]


def encode_units(
    tokenizer: PreTrainedTokenizerBase, texts: list[str], max_length: int, stride: int
) -> list[list[list[int]]]:
    """Token-id windows per text (normalised first: simplified script, half-width digits, no pinyin artefacts).

    Windows overlap by ``stride`` tokens so a sentence cut at a window edge is whole in the next one.
    """
    encoded = tokenizer(
        [normalize(t).text for t in texts],
        truncation=True,
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_attention_mask=False,
    )
    windows: list[list[list[int]]] = [[] for _ in texts]
    for ids, unit in zip(encoded["input_ids"], encoded["overflow_to_sample_mapping"], strict=True):
        windows[unit].append(ids)
    return windows


def flatten_windows(per_unit: Sequence[Sequence[list[int]]]) -> tuple[list[list[int]], list[int]]:
    """All windows in unit order, and the unit each one belongs to."""
    windows = [window for unit_windows in per_unit for window in unit_windows]
    unit_index = [unit for unit, unit_windows in enumerate(per_unit) for _ in unit_windows]
    return windows, unit_index


def pad_windows(windows: Sequence[Sequence[int]], pad_token_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Token ids padded to the longest window, and the attention mask (int64, what both runtimes take)."""
    width = max(len(window) for window in windows)
    input_ids = np.full((len(windows), width), pad_token_id, dtype=np.int64)
    attention_mask = np.zeros((len(windows), width), dtype=np.int64)
    for row, window in enumerate(windows):
        input_ids[row, : len(window)] = window
        attention_mask[row, : len(window)] = 1
    return input_ids, attention_mask


@dataclass
class WindowCollator:
    """Flattens the windows of a batch of units, pads them to the longest window, and records ``unit_index``."""

    pad_token_id: int

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        windows, unit_index = flatten_windows([f["input_ids"] for f in features])
        input_ids, attention_mask = pad_windows(windows, self.pad_token_id)
        batch = {
            "input_ids": torch.from_numpy(input_ids),
            "attention_mask": torch.from_numpy(attention_mask),
            "unit_index": torch.tensor(unit_index),
        }
        if "offense_labels" in features[0]:
            batch["offense_labels"] = torch.tensor([f["offense_labels"] for f in features], dtype=torch.long)
            batch["penalty_labels"] = torch.tensor([f["penalty_labels"] for f in features], dtype=torch.float)
            batch["party_labels"] = torch.tensor([f["party_labels"] for f in features], dtype=torch.long)
        return batch
