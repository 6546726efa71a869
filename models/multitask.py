"""A multi-task head on any transformers encoder: softmax offense, independent sigmoid penalties, softmax party.

A case unit longer than the encoder's window arrives as several overlapping windows; ``unit_index`` says which unit
each window belongs to, and the heads pool per unit (mean for offense and party, max for penalties: a penalty stated
in any window was imposed), so training and prediction both see whole units, never a silently truncated one.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, PretrainedConfig, PreTrainedModel
from transformers.utils import ModelOutput


class MultiTaskConfig(PretrainedConfig):
    """The encoder's config nested in ``encoder``, plus label names and loss weights."""

    model_type = "penalty-multitask"

    def __init__(
        self,
        encoder: dict | None = None,
        offenses: list[str] | None = None,
        penalties: list[str] | None = None,
        parties: list[str] | None = None,
        offense_weights: list[float] | None = None,
        penalty_pos_weights: list[float] | None = None,
        pooling: str = "mean",
        classifier_dropout: float = 0.1,
        penalty_loss_weight: float = 3.0,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.encoder = encoder or {}
        self.offenses = list(offenses or [])
        self.penalties = list(penalties or [])
        self.parties = list(parties or [])
        self.offense_weights = offense_weights
        self.penalty_pos_weights = penalty_pos_weights
        self.pooling = pooling
        self.classifier_dropout = classifier_dropout
        self.penalty_loss_weight = penalty_loss_weight

    def encoder_config(self) -> PretrainedConfig:
        encoder = dict(self.encoder)
        return AutoConfig.for_model(encoder.pop("model_type"), **encoder)


@dataclass
class MultiTaskOutput(ModelOutput):
    """Per-unit logits (windows already pooled) and the summed loss when labels were given."""

    loss: torch.Tensor | None = None
    offense_logits: torch.Tensor | None = None
    penalty_logits: torch.Tensor | None = None
    party_logits: torch.Tensor | None = None


class MultiTaskModel(PreTrainedModel):
    """Encoder + three heads; saved and loaded with ``save_pretrained``/``from_pretrained`` (config + safetensors)."""

    config_class = MultiTaskConfig
    base_model_prefix = "encoder"
    supports_gradient_checkpointing = True

    def __init__(self, config: MultiTaskConfig, encoder: PreTrainedModel | None = None) -> None:
        super().__init__(config)
        self.encoder = encoder if encoder is not None else AutoModel.from_config(config.encoder_config())
        if getattr(self.encoder, "pooler", None) is not None:
            self.encoder.pooler = None  # the heads pool windows themselves; an unused pooler only costs memory
        hidden = self.encoder.config.hidden_size
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.offense_head = nn.Linear(hidden, len(config.offenses))
        self.penalty_head = nn.Linear(hidden, len(config.penalties))
        self.party_head = nn.Linear(hidden, len(config.parties))
        for head in (self.offense_head, self.penalty_head, self.party_head):
            nn.init.normal_(head.weight, std=0.02)
            nn.init.zeros_(head.bias)
        self.post_init()

    @classmethod
    def from_encoder(cls, encoder: PreTrainedModel, **labels_and_weights) -> MultiTaskModel:
        """Wrap a pretrained encoder (hub id or local directory, already loaded) with fresh heads."""
        encoder_dict = encoder.config.to_dict()
        encoder_dict = {k: v for k, v in encoder_dict.items() if k not in ("architectures", "transformers_version")}
        return cls(MultiTaskConfig(encoder=encoder_dict, **labels_and_weights), encoder=encoder)

    def _init_weights(self, module: nn.Module) -> None:
        """Heads are initialised in ``__init__``; the encoder keeps its pretrained weights."""

    def window_logits(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Offense, penalty and party logits of each window, before the windows of a unit are pooled.

        Prediction pools outside the model (``models.windows``) so it can batch windows of many units by length; the
        ONNX export traces this method.
        """
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        if self.config.pooling == "cls":
            window = hidden[:, 0]
        else:  # mean over real tokens: e5 was trained with mean pooling
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            window = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
        window = self.dropout(window)
        return self.offense_head(window), self.penalty_head(window), self.party_head(window)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        unit_index: torch.Tensor | None = None,
        offense_labels: torch.Tensor | None = None,
        penalty_labels: torch.Tensor | None = None,
        party_labels: torch.Tensor | None = None,
        **_: object,
    ) -> MultiTaskOutput:
        """Encode windows, pool them per unit, and score; ``unit_index`` defaults to one window per unit."""
        offense, penalty, party = self.window_logits(input_ids, attention_mask)
        if unit_index is None:
            unit_index = torch.arange(offense.size(0), device=offense.device)
        n_units = int(unit_index.max()) + 1
        offense = _pool_mean(offense, unit_index, n_units)
        penalty = _pool_max(penalty, unit_index, n_units)
        party = _pool_mean(party, unit_index, n_units)
        loss = None
        if offense_labels is not None:
            # Loss weights live in the config, not in buffers: from_pretrained leaves non-persistent buffers empty.
            weights = _tensor_or_none(self.config.offense_weights, offense.device)
            loss = nn.functional.cross_entropy(offense.float(), offense_labels, weight=weights)
            if penalty_labels is not None:
                pos_weight = _tensor_or_none(self.config.penalty_pos_weights, penalty.device)
                # A plain per-element mean gave each penalty logit a gradient 12x smaller than an offense logit's and
                # the penalty head barely trained; summing over all labels (x12) starved the offense task instead.
                # A negative label is unknown (spec 'complete': a unit cut off before its disposal): masked out; the
                # mean over the known labels equals the plain mean when every unit is complete.
                known = (penalty_labels >= 0).float()
                per_label = nn.functional.binary_cross_entropy_with_logits(
                    penalty.float(), penalty_labels.float().clamp(min=0), pos_weight=pos_weight, reduction="none"
                )
                penalty_loss = (per_label * known).sum() / known.sum().clamp(min=1)
                loss = loss + self.config.penalty_loss_weight * penalty_loss
            if party_labels is not None:
                loss = loss + 0.5 * nn.functional.cross_entropy(party.float(), party_labels)
        return MultiTaskOutput(loss=loss, offense_logits=offense, penalty_logits=penalty, party_logits=party)


def _tensor_or_none(values: list[float] | None, device: torch.device) -> torch.Tensor | None:
    return torch.tensor(values, dtype=torch.float, device=device) if values else None


def _pool_mean(values: torch.Tensor, index: torch.Tensor, n: int) -> torch.Tensor:
    sums = values.new_zeros(n, values.size(1)).index_add(0, index, values)
    counts = torch.bincount(index, minlength=n).clamp(min=1).unsqueeze(1).to(values.dtype)
    return sums / counts


def _pool_max(values: torch.Tensor, index: torch.Tensor, n: int) -> torch.Tensor:
    out = values.new_full((n, values.size(1)), torch.finfo(values.dtype).min)
    return out.scatter_reduce(0, index.unsqueeze(1).expand_as(values), values, reduce="amax", include_self=True)


# Registered so that Auto* loaders (e.g. AutoTokenizer reading config.json) know the type; no remote code involved.
AutoConfig.register(MultiTaskConfig.model_type, MultiTaskConfig)
AutoModel.register(MultiTaskConfig, MultiTaskModel)
