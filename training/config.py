"""Run configuration: one dataclass per concern, read from YAML, overridden by ``--section.key value`` arguments.

Precedence: dataclass defaults < ``--config FILE.yaml`` < dotted overrides. Unknown keys are errors, never ignored.
The resolved config is saved with every model as ``config.yaml``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from data.augment import AUGMENT_KINDS, DEFAULT_KINDS, NORMALIZED_KINDS, check_fraction, check_kinds
from data.errors import PenaltyError

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "default.yaml"
CONFIG_NAME = "config.yaml"


class ConfigError(PenaltyError):
    """A config file or override names an unknown key or a value of the wrong type."""


@dataclass
class DataConfig:
    train: list[str] = field(
        default_factory=lambda: ["corpus"],
        metadata={
            "help": "Gold JSONL files, annotated dirs, Label Studio/doccano exports; 'corpus': the authored one."
        },
    )
    validation: list[str] = field(
        default_factory=list, metadata={"help": "Validation data; empty = a split of train grouped by bulletin."}
    )
    validation_fraction: float = field(default=0.1, metadata={"help": "Share of bulletins held out for validation."})
    real: list[str] = field(
        default_factory=lambda: ["../shared/data/real-train"],
        metadata={
            "help": "Annotated real bulletins, added to train when present (a missing path is skipped with a "
            "warning); validation is then drawn from them, so early stopping, thresholds and fusion see real text."
        },
    )
    real_validation_fraction: float = field(
        default=0.25, metadata={"help": "Share of the real bulletins held out for validation (grouped by bulletin)."}
    )
    real_oversample: int = field(
        default=3,
        metadata={"help": "Repeat each real training unit this many times, so authored units do not drown them."},
    )
    augment: float = field(
        default=0.0,
        metadata={
            "help": "Share of training units (never validation) that get one perturbed extra copy (data/augment.py), "
            "seeded by training.seed; 0 = off, the default until it helps (README: Learning from real bulletins)."
        },
    )
    augment_kinds: list[str] = field(
        default_factory=lambda: list(DEFAULT_KINDS),
        metadata={
            "help": f"Perturbations drawn for the copies, from {list(AUGMENT_KINDS)}; the default leaves out "
            f"{list(NORMALIZED_KINDS)}, which normalisation undoes."
        },
    )
    label_set: str | None = field(default=None, metadata={"help": "Label-set YAML; default: the spec's label set."})
    max_length: int = field(
        default=256, metadata={"help": "Tokens per window; longer units become overlapping windows."}
    )
    stride: int = field(default=64, metadata={"help": "Tokens shared by consecutive windows of one unit."})

    def __post_init__(self) -> None:
        if not 0 <= self.validation_fraction < 1:
            raise ConfigError(f"data.validation_fraction must be in [0, 1), got {self.validation_fraction}")
        if not 0 < self.real_validation_fraction < 1:
            raise ConfigError(f"data.real_validation_fraction must be in (0, 1), got {self.real_validation_fraction}")
        if self.real_oversample < 1:
            raise ConfigError(f"data.real_oversample must be >= 1, got {self.real_oversample}")
        for key, check, value in (
            ("augment", check_fraction, self.augment),
            ("augment_kinds", check_kinds, self.augment_kinds),
        ):
            try:
                check(value)
            except ValueError as err:
                raise ConfigError(f"data.{key} is invalid: {err}") from err
        if self.stride >= self.max_length or self.max_length < 16:
            raise ConfigError(f"data.stride ({self.stride}) must be below data.max_length ({self.max_length}) >= 16")


@dataclass
class ModelConfig:
    model_type: str = field(default="bert", metadata={"help": "'bert' (fine-tuned encoder) or 'tfidf' (baseline)."})
    base_model: str = field(
        default="embedded",
        metadata={"help": "'embedded' (offline multilingual-e5-small), a hub id or a local directory."},
    )
    pooling: str = field(default="mean", metadata={"help": "'mean' over tokens or 'cls'."})
    attention_dropout: float | None = field(
        default=0.0,
        metadata={
            "help": "Dropout on the encoder's attention probabilities; null keeps the base model's (0.1 for BERT). "
            "At 0 CPU attention runs fused, without an n x n random mask: ~1.7x faster on 256-token windows."
        },
    )
    freeze_embeddings: bool = field(
        default=True,
        metadata={"help": "Keep the (large) embedding matrix fixed: faster on CPU, little accuracy lost."},
    )
    freeze_layers: int = field(
        default=4,
        metadata={"help": "Keep the lowest N encoder layers fixed (with the embeddings): ~1.4x faster on CPU."},
    )
    rule_fusion: bool = field(
        default=True,
        metadata={"help": "Blend with the rule baseline, weights tuned on validation (models/fusion.py)."},
    )
    class_weights: str = field(
        default="sqrt", metadata={"help": "'none', 'sqrt' or 'balanced' inverse-frequency weights."}
    )

    def __post_init__(self) -> None:
        if self.model_type not in ("bert", "tfidf"):
            raise ConfigError(f"model.model_type must be 'bert' or 'tfidf', got {self.model_type!r}")
        if self.pooling not in ("mean", "cls"):
            raise ConfigError(f"model.pooling must be 'mean' or 'cls', got {self.pooling!r}")
        if self.attention_dropout is not None and not 0.0 <= self.attention_dropout < 1.0:
            raise ConfigError(f"model.attention_dropout must be in [0, 1) or null, got {self.attention_dropout}")
        if self.class_weights not in ("none", "sqrt", "balanced"):
            raise ConfigError(f"model.class_weights must be 'none', 'sqrt' or 'balanced', got {self.class_weights!r}")


@dataclass
class TrainingConfig:
    output_dir: str = field(default="runs/default", metadata={"help": "Where checkpoints and the final model go."})
    seed: int = field(default=42, metadata={"help": "Seeds data order, splits and initialisation."})
    learning_rate: float = field(default=1.5e-4, metadata={"help": "Peak AdamW learning rate."})
    head_learning_rate: float = field(
        default=1e-3,
        metadata={"help": "Learning rate of the freshly initialised heads (the encoder uses learning_rate)."},
    )
    batch_size: int = field(default=16, metadata={"help": "Case units per training batch (per process)."})
    eval_batch_size: int = field(default=64, metadata={"help": "Case units per evaluation batch."})
    epochs: float = field(default=2.0, metadata={"help": "Passes over the training data."})
    max_steps: int = field(default=-1, metadata={"help": "Stop after this many steps (overrides epochs when > 0)."})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay."})
    warmup_ratio: float = field(default=0.1, metadata={"help": "Share of steps with linear warm-up."})
    early_stopping_patience: int = field(default=2, metadata={"help": "Evaluations without offense macro-F1 gain."})
    eval_steps: int = field(default=0, metadata={"help": "Evaluate and checkpoint every N steps; 0 = every epoch."})
    bf16: str = field(default="auto", metadata={"help": "'auto' (on GPUs that support it), 'true' or 'false'."})
    torch_compile: bool = field(default=False, metadata={"help": "torch.compile the model (helps on GPUs)."})
    num_threads: int = field(default=0, metadata={"help": "CPU threads for torch; 0 = torch's default."})
    review_accuracy: float = field(
        default=0.95,
        metadata={
            "help": "needs_review: the band flagging fewest validation units whose unflagged ones are right so often."
        },
    )
    review_max_share: float = field(
        default=0.25, metadata={"help": "needs_review: flag at most this share of the validation units."}
    )
    init_from: str | None = field(
        default=None,
        metadata={
            "help": "A model directory from 'penalty train' to start from (encoder and heads) instead of "
            "model.base_model, e.g. to learn from corrections; its labels must equal data.label_set. Train on the "
            "original data plus the corrections, or the model forgets what the corrections do not show."
        },
    )

    def __post_init__(self) -> None:
        if self.learning_rate <= 0:
            raise ConfigError(f"training.learning_rate must be > 0, got {self.learning_rate}")
        if self.batch_size < 1 or self.eval_batch_size < 1:
            raise ConfigError(f"training.batch_size and eval_batch_size must be >= 1, got {self.batch_size}")
        if self.bf16 not in ("auto", "true", "false"):
            raise ConfigError(f"training.bf16 must be 'auto', 'true' or 'false', got {self.bf16!r}")
        if not 0 < self.review_accuracy <= 1:
            raise ConfigError(f"training.review_accuracy must be in (0, 1], got {self.review_accuracy}")
        if not 0 <= self.review_max_share <= 1:
            raise ConfigError(f"training.review_max_share must be in [0, 1], got {self.review_max_share}")


@dataclass
class SegmenterConfig:
    """The learned segmenter (``penalty train --task segment``); data, base model, seed and output come from the
    other sections."""

    layout_pages: int = field(
        default=0,
        metadata={
            "help": "Synthetic pages rendered from authored units in real layouts (data.layouts); 0 by default: "
            "600 lowered F1 on real pages in grouped CV (README, Segmentation)."
        },
    )
    hidden_size: int = field(default=128, metadata={"help": "Width of the sentence vectors inside the tagger."})
    layers: int = field(
        default=4, metadata={"help": "Dilated convolutions over sentences (dilation 1, 2, 4, ...: context 2^N - 1)."}
    )
    dropout: float = field(default=0.2, metadata={"help": "Dropout on the sentence inputs and between layers."})
    epochs: int = field(default=20, metadata={"help": "Passes over the training bulletins."})
    batch_size: int = field(default=8, metadata={"help": "Bulletins per batch."})
    learning_rate: float = field(default=2e-3, metadata={"help": "AdamW learning rate."})
    patience: int = field(default=4, metadata={"help": "Epochs without validation F1 gain before stopping; 0 = off."})
    ensemble: int = field(
        default=3,
        metadata={
            "help": "Taggers trained from seeds training.seed, +1, …, whose scores are averaged (grouped CV on real "
            "bulletins: 3 segment better than 1; README 'Segmentation')."
        },
    )
    workers: int = field(
        default=0, metadata={"help": "Taggers trained at once, each in its own process; 0 = one per CPU core."}
    )

    def __post_init__(self) -> None:
        sizes = (self.hidden_size, self.layers, self.epochs, self.batch_size, self.ensemble)
        if self.layout_pages < 0 or self.workers < 0 or min(sizes) < 1:
            raise ConfigError("segmenter sizes must be positive (layout_pages may be 0)")
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"segmenter.dropout must be in [0, 1), got {self.dropout}")


@dataclass
class RunConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    segmenter: SegmenterConfig = field(default_factory=SegmenterConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False), encoding="utf-8")


Sections = typing.TypeVar("Sections")  # RunConfig, or another command's dataclass of sections


def load_config(
    path: str | Path | None = None, overrides: list[str] | None = None, schema: type[Sections] = RunConfig
) -> Sections:
    """Defaults, then the YAML file, then ``--section.key value`` overrides.

    Args:
        path: a YAML file of sections, or ``None`` for the defaults.
        overrides: ``--section.key value`` arguments.
        schema: the dataclass whose fields are the sections: ``RunConfig`` (``train``, ``cv``), or another command's
            own (``training.adapt.AdaptRunConfig``), which then gets the same parsing and the same errors.

    Returns:
        An instance of ``schema``.

    Raises:
        ConfigError: unknown section or key, or a value of the wrong type, naming it.
    """
    raw: dict = {}
    if path is not None:
        try:
            raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as err:
            raise ConfigError(f"cannot read config {path}: {err}") from err
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: a config file must be a mapping of sections")
    for dotted, value in _parse_overrides(overrides or []):
        section, _, key = dotted.partition(".")
        if not key:
            raise ConfigError(f"override --{dotted} must name a section and a key, e.g. --training.learning_rate 3e-5")
        raw.setdefault(section, {})[key] = value
    return _build(schema, raw, "config")


def _parse_overrides(args: list[str]) -> list[tuple[str, object]]:
    """``['--training.seed', '3', '--data.train=a.jsonl']`` → ``[('training.seed', 3), ('data.train', 'a.jsonl')]``."""
    pairs = []
    items = iter(args)
    for arg in items:
        if not arg.startswith("--"):
            raise ConfigError(f"unexpected argument {arg!r}; overrides look like --training.learning_rate 3e-5")
        name, eq, value = arg[2:].partition("=")
        if not eq:
            value = next(items, None)
            if value is None:
                raise ConfigError(f"override --{name} needs a value")
        pairs.append((name, yaml.safe_load(value)))  # YAML parsing: 3e-5 → float, [a, b] → list, true → bool
    return pairs


def _build(cls: type, raw: dict, where: str):
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a mapping, got {raw!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(raw) - set(fields)
    if unknown:
        raise ConfigError(f"unknown key(s) {sorted(unknown)} in {where}; known: {sorted(fields)}")
    hints = typing.get_type_hints(cls)
    values = {}
    for name, value in raw.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            values[name] = _build(hint, value or {}, f"{where}.{name}")
        else:
            values[name] = _coerce(value, hint, f"{where}.{name}")
    return cls(**values)


def _coerce(value: object, hint: object, where: str) -> object:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in typing.get_args(hint):
            return None
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
        origin = typing.get_origin(hint)
    if origin is list:
        value = value if isinstance(value, list) else [value]
        return [str(v) for v in value]
    if hint is float and isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            return float(value)  # YAML reads '3e-5' (no dot) as a string
        except ValueError as err:
            raise ConfigError(f"{where} must be a number, got {value!r}") from err
    if hint is str and isinstance(value, bool | int | float):
        return str(value).lower() if isinstance(value, bool) else str(value)
    if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise ConfigError(f"{where} must be {getattr(hint, '__name__', hint)}, got {value!r}")
    return value
