"""Inference with a fine-tuned multi-task encoder: length-sorted batches of windowed units → label scores."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from safetensors import SafetensorError
from transformers import AutoTokenizer

from data.errors import ModelError
from data.labels import LabelSet
from data.types import LabelScores
from models.encoding import WindowCollator, encode_units
from models.multitask import MultiTaskModel

logger = logging.getLogger(__name__)
BERT = "bert"


class BertLabeler:
    """Scores case units with a ``MultiTaskModel``; windows of long units are pooled inside the model."""

    model_type = BERT

    def __init__(
        self,
        model: MultiTaskModel,
        tokenizer,
        label_set: LabelSet,
        max_length: int = 256,
        stride: int = 64,
        batch_size: int = 32,
    ) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.label_set = label_set
        self.max_length = max_length
        self.stride = stride
        self.batch_size = batch_size
        self.collate = WindowCollator(tokenizer.pad_token_id)
        if list(model.config.offenses) != list(label_set.offenses) or list(model.config.penalties) != list(
            label_set.penalties
        ):
            raise ModelError("the model's heads do not match its labels.yaml; the model directory is inconsistent")

    @classmethod
    def load(cls, model_dir: Path, label_set: LabelSet, max_length: int, stride: int) -> BertLabeler:
        """Load weights and tokenizer from a model directory.

        Raises:
            ModelError: weights or tokenizer missing or unreadable.
        """
        try:
            model = MultiTaskModel.from_pretrained(model_dir)
            tokenizer = AutoTokenizer.from_pretrained(model_dir)
        except (OSError, ValueError, RuntimeError, SafetensorError) as err:
            raise ModelError(f"cannot load model weights or tokenizer from {model_dir}: {err}") from err
        return cls(model, tokenizer, label_set, max_length, stride)

    @torch.inference_mode()
    def score_texts(self, texts: list[str]) -> list[LabelScores]:
        """Label scores per text, in input order; batches are sorted by length so padding stays small."""
        windows = encode_units(self.tokenizer, texts, self.max_length, self.stride)
        order = sorted(range(len(texts)), key=lambda i: sum(len(w) for w in windows[i]))
        scores: list[LabelScores | None] = [None] * len(texts)
        device = next(self.model.parameters()).device
        for begin in range(0, len(order), self.batch_size):
            chunk = order[begin : begin + self.batch_size]
            batch = {k: v.to(device) for k, v in self.collate([{"input_ids": windows[i]} for i in chunk]).items()}
            out = self.model(**batch)
            offense = out.offense_logits.float().softmax(-1).cpu()
            penalty = out.penalty_logits.float().sigmoid().cpu()
            party = out.party_logits.float().softmax(-1).cpu()
            for row, i in enumerate(chunk):
                scores[i] = LabelScores.from_rows(
                    self.label_set, offense[row].tolist(), penalty[row].tolist(), party[row].tolist()
                )
        return scores  # type: ignore[return-value]
